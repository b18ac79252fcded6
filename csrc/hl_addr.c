/* hl_addr.c: parsing and printing addresses; hotline.getaddrinfo.
 * SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "hl_addr.h"
#include "hl_error.h"

static const char *const socktype_names[] = {"stream", "dgram", NULL};
static const char *const family_names[] = {"inet", "inet6", "unix", NULL};
static const int family_codes[] = {AF_INET, AF_INET6, AF_UNIX};

int hl_addr_checkfamily(lua_State *L, int arg, const char *def) {
  return family_codes[hl_checkoption(L, arg, def, family_names)];
}

const char *hl_addr_familyname(int family) {
  switch (family) {
    case AF_INET: return "inet";
    case AF_INET6: return "inet6";
    case AF_UNIX: return "unix";
    default: return "unknown";
  }
}

/* A port is a whole number from 0 to 65535; anything else is misuse. */
static unsigned short check_port(lua_State *L, int arg) {
  lua_Number n = luaL_checknumber(L, arg);
  if (!(n >= 0 && n <= 65535) || n != floor(n))
    luaL_argerror(L, arg, "port must be a whole number from 0 to 65535");
  return (unsigned short)n;
}

static const char *check_host(lua_State *L, int arg) {
  size_t len;
  const char *host = luaL_checklstring(L, arg, &len);
  if (strlen(host) != len) luaL_argerror(L, arg, "host contains a NUL byte");
  return host;
}

static int check_path(lua_State *L, int arg, hl_sockaddr *addr) {
  struct sockaddr_un *sun = (struct sockaddr_un *)&addr->ss;
  size_t len;
  const char *path = luaL_checklstring(L, arg, &len);
  if (path[0] != '\0' && strlen(path) != len)
    luaL_argerror(L, arg, "path contains a NUL byte");
  /* a leading NUL names Linux's abstract namespace: no terminator needed */
  if (len == 0 || len >= sizeof sun->sun_path + (path[0] == '\0'))
    return len == 0 ? hl_error_push(L, ENOENT) : hl_error_push(L, ENAMETOOLONG);
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, path, len);
  addr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                          (path[0] != '\0'));
  return 0;
}

/* Numeric hosts (and "*") are parsed in place: no resolver, no blocking. */
static int parse_numeric(const char *host, int family, int passive,
                         unsigned short port, hl_sockaddr *addr) {
  struct sockaddr_in *sin = (struct sockaddr_in *)&addr->ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr->ss;
  int any = passive && strcmp(host, "*") == 0;
  memset(&addr->ss, 0, sizeof addr->ss);
  if (family == AF_INET) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    addr->len = sizeof *sin;
    if (any) sin->sin_addr.s_addr = htonl(INADDR_ANY);
    return any || inet_pton(AF_INET, host, &sin->sin_addr) == 1;
  }
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  addr->len = sizeof *sin6;
  if (any) sin6->sin6_addr = in6addr_any;
  return any || inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1;
}

int hl_addr_isinvalid(const char *host) {
  size_t len = strlen(host);
  if (len > 0 && host[len - 1] == '.') len--;          /* absolute */
  if (len < 7 || strncasecmp(host + len - 7, "invalid", 7) != 0) return 0;
  return len == 7 || host[len - 8] == '.';
}

static int resolve(lua_State *L, const hl_ctx *ctx, const char *host,
                   int family, int socktype, unsigned short port,
                   hl_sockaddr *addr) {
  struct addrinfo hints, *res = NULL;
  double t0;
  int rc, err;
  char service[8];
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = socktype;
#ifdef AI_V4MAPPED
  if (family == AF_INET6) hints.ai_flags |= AI_V4MAPPED;
#endif
  snprintf(service, sizeof service, "%u", (unsigned)port);
  if (hl_addr_isinvalid(host)) return hl_error_pushgai(L, EAI_NONAME, 0);
  t0 = hl_trace_start(ctx);
  rc = getaddrinfo(host, service, &hints, &res);
  err = errno;
  if (t0) hl_trace_end(t0, "getaddrinfo", -1, rc == 0 ? 1 : -1, "EAI", "%s",
                       host);
  if (rc != 0) return hl_error_pushgai(L, rc, err);
  memcpy(&addr->ss, res->ai_addr, res->ai_addrlen);
  addr->len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

int hl_addr_check(lua_State *L, const hl_ctx *ctx, int arg, int family,
                  int socktype, int passive, hl_sockaddr *addr) {
  const char *host;
  unsigned short port;
  if (family == AF_UNIX) return check_path(L, arg, addr);
  host = check_host(L, arg);
  port = check_port(L, arg + 1);
  if (parse_numeric(host, family, passive, port, addr)) return 0;
  return resolve(L, ctx, host, family, socktype, port, addr);
}

int hl_addr_push(lua_State *L, const struct sockaddr *sa, socklen_t len) {
  char host[INET6_ADDRSTRLEN];
  const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
  size_t pathlen;
  switch (sa->sa_family) {
    case AF_INET: {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
      lua_pushstring(L, host);
      lua_pushinteger(L, ntohs(sin->sin_port));
      return 2;
    }
    case AF_INET6: {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      lua_pushstring(L, host);
      lua_pushinteger(L, ntohs(sin6->sin6_port));
      return 2;
    }
    case AF_UNIX:
      pathlen = len > offsetof(struct sockaddr_un, sun_path)
                    ? len - offsetof(struct sockaddr_un, sun_path) : 0;
      /* a pathname address may count its terminating NUL; drop it */
      if (pathlen > 0 && sun->sun_path[0] != '\0')
        pathlen = strnlen(sun->sun_path, pathlen);
      lua_pushlstring(L, sun->sun_path, pathlen);
      return 1;
    default:
      lua_pushnil(L);
      return 1;
  }
}

void hl_addr_format(char *buf, size_t size, const struct sockaddr *sa,
                    socklen_t len) {
  char host[INET6_ADDRSTRLEN];
  const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
  size_t off = offsetof(struct sockaddr_un, sun_path);
  switch (sa->sa_family) {
    case AF_INET:
      inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host,
                sizeof host);
      snprintf(buf, size, "%s:%u", host,
               (unsigned)ntohs(((const struct sockaddr_in *)sa)->sin_port));
      break;
    case AF_INET6:
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
                sizeof host);
      snprintf(buf, size, "[%s]:%u", host,
               (unsigned)ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
      break;
    case AF_UNIX:
      if (len <= off)
        snprintf(buf, size, "(unnamed)");
      else if (sun->sun_path[0] == '\0')   /* abstract: shown as @name */
        snprintf(buf, size, "@%.*s", (int)(len - off - 1), sun->sun_path + 1);
      else
        snprintf(buf, size, "%.*s", (int)(len - off), sun->sun_path);
      break;
    default:
      snprintf(buf, size, "(unknown)");
  }
}

const char *hl_addr_checkquery(lua_State *L, int arg, struct addrinfo *hints,
                               char *service, size_t size) {
  const char *host = lua_isnoneornil(L, arg) ? "*" : check_host(L, arg);
  memset(hints, 0, sizeof *hints);
  hints->ai_family = AF_UNSPEC;
  hints->ai_socktype = SOCK_STREAM;
  if (lua_isnumber(L, arg + 1))
    snprintf(service, size, "%u", (unsigned)check_port(L, arg + 1));
  else
    snprintf(service, size, "%s", luaL_checkstring(L, arg + 1));
  if (!lua_isnoneornil(L, arg + 2)) {
    luaL_checktype(L, arg + 2, LUA_TTABLE);
    lua_getfield(L, arg + 2, "family");
    if (!lua_isnil(L, -1)) hints->ai_family = hl_addr_checkfamily(L, -1, NULL);
    lua_getfield(L, arg + 2, "socktype");
    if (!lua_isnil(L, -1))
      hints->ai_socktype = hl_checkoption(L, -1, NULL, socktype_names) == 0
                               ? SOCK_STREAM : SOCK_DGRAM;
    lua_pop(L, 2);
  }
  if (strcmp(host, "*") == 0) {
    hints->ai_flags |= AI_PASSIVE;
    return NULL;
  }
  return host;
}

void hl_addr_pushentry(lua_State *L, const struct sockaddr *sa, socklen_t len,
                       int socktype) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, hl_addr_familyname(sa->sa_family));
  lua_setfield(L, -2, "family");
  lua_pushstring(L, socktype == SOCK_DGRAM ? "dgram" : "stream");
  lua_setfield(L, -2, "socktype");
  hl_addr_push(L, sa, len);
  lua_setfield(L, -3, "port");
  lua_setfield(L, -2, "host");
}

int hl_addr_pushinfo(lua_State *L, const hl_ctx *ctx, const char *host,
                     const char *service, const struct addrinfo *hints) {
  struct addrinfo *res = NULL, *ai;
  double t0 = hl_trace_start(ctx);
  int rc = getaddrinfo(host, service, hints, &res), err = errno, i = 0;
  if (t0) hl_trace_end(t0, "getaddrinfo", -1, rc == 0 ? 1 : -1, "EAI",
                       "%s, %s", host ? host : "*", service);
  if (rc != 0) return hl_error_pushgai(L, rc, err);
  lua_newtable(L);
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    hl_addr_pushentry(L, ai->ai_addr, ai->ai_addrlen, ai->ai_socktype);
    lua_rawseti(L, -2, ++i);
  }
  freeaddrinfo(res);
  return 1;
}

/* hotline.core.getaddrinfo(host, port [, hints]) -> list of
 * {family=, host=, port=, socktype=}, or nil, message, "EAI_*".
 * host "*" (or nil) asks for the wildcard address, for bind. hints is a
 * table with family ("inet", "inet6"; both by default) and socktype
 * ("stream", the default, or "dgram"). This is the system's resolver,
 * which blocks: the Lua layer sends names to hl_resolve.c's instead and
 * keeps this one for numeric hosts. */
static int lib_getaddrinfo(lua_State *L) {
  struct addrinfo hints;
  char service[32];
  const char *host = hl_addr_checkquery(L, 1, &hints, service, sizeof service);
  return hl_addr_pushinfo(L, hl_ctx_get(L), host, service, &hints);
}

static const luaL_Reg addr_funcs[] = {
  {"getaddrinfo", lib_getaddrinfo},
  {NULL, NULL}
};

void hl_addr_open(lua_State *L) {
  hl_register(L, addr_funcs);
}
