/* hl_resolve.c: resolvers, and the start of lookups (see hl_resolve.h).
 * SPDX-License-Identifier: MIT */
#include <ares.h>
#include <arpa/inet.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "hl_addr.h"
#include "hl_error.h"
#include "hl_query.h"
#include "hl_resolve.h"
#include "hl_socket.h"

typedef struct hl_resolver {
  const char *tag;
  struct ares_options opts;  /* saved from a channel made the usual way,
                                with tries = 1 (see hl_resolve.h) */
  int optmask;               /* 0 until opts holds something to free */
  struct ares_addr_port_node *servers;   /* with their ports */
  int attempts;
} hl_resolver;

static const char hl_resolver_tag[] = HL_RESOLVER_MT;

static hl_resolver *check_resolver(lua_State *L, int idx) {
  hl_resolver *r = (hl_resolver *)hl_tagged(L, idx, hl_resolver_tag, sizeof *r);
  if (r == NULL) hl_typeerror(L, idx, HL_RESOLVER_MT);
  return r;
}

/* Resolvers ------------------------------------------------------------ */

/* r:__gc(): frees the saved options; queries made from them hold copies.
 * Returns nothing; safe to call twice. */
static int resolver__gc(lua_State *L) {
  hl_resolver *r = check_resolver(L, 1);
  if (r->optmask) ares_destroy_options(&r->opts);
  if (r->servers) ares_free_data(r->servers);
  r->optmask = 0;
  r->servers = NULL;
  return 0;
}

/* hotline.core.resolver([servers [, timeout [, attempts [, nofiles]]]])
 * -> resolver | nil, message, code. servers is c-ares' list,
 * "127.0.0.1:5353,[::1]:53" (nil: /etc/resolv.conf's), timeout the
 * seconds per try, attempts the tries per server; nofiles leaves
 * /etc/hosts out (the Lua layer reads a hosts file of its own). An
 * invalid server list raises. */
static int lib_resolver(lua_State *L) {
  const char *servers = luaL_optstring(L, 1, NULL);
  double timeout = luaL_optnumber(L, 2, -1);
  lua_Integer attempts = luaL_optinteger(L, 3, -1);
  int nofiles = lua_toboolean(L, 4), mask = 0, rc;
  struct ares_options o;
  ares_channel probe;
  hl_resolver *r = (hl_resolver *)hl_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r);
  r->tag = hl_resolver_tag;
  luaL_getmetatable(L, HL_RESOLVER_MT);
  lua_setmetatable(L, -2);
  memset(&o, 0, sizeof o);
  if (timeout > 0) {
    o.timeout = timeout * 1e3 >= INT_MAX / 2 ? INT_MAX / 2
                                              : (int)ceil(timeout * 1e3);
    mask |= ARES_OPT_TIMEOUTMS;
  }
  if (attempts > 0) {
    o.tries = attempts > 1000 ? 1000 : (int)attempts;
    mask |= ARES_OPT_TRIES;
  }
  if (nofiles) {
    o.lookups = (char *)"b";
    mask |= ARES_OPT_LOOKUPS;
  }
  rc = ares_init_options(&probe, &o, mask);
  if (rc != ARES_SUCCESS) return hl_query_pushstatus(L, rc);
  if (servers != NULL &&
      (rc = ares_set_servers_ports_csv(probe, servers)) != ARES_SUCCESS) {
    ares_destroy(probe);
    return luaL_error(L, "invalid nameserver list '%s'", servers);
  }
  rc = ares_save_options(probe, &r->opts, &r->optmask);
  if (rc == ARES_SUCCESS) rc = ares_get_servers_ports(probe, &r->servers);
  ares_destroy(probe);
  if (rc != ARES_SUCCESS) return hl_query_pushstatus(L, rc);
  r->attempts = r->opts.tries > 0 ? r->opts.tries : 1;
  r->opts.tries = 1;
  return 1;
}

/* Pushes a query for host with its own channel made from resolver r;
 * returns 1, or pushes nil, message, code and returns 3. */
static int push_query(lua_State *L, const hl_ctx *ctx, hl_resolver *r,
                      const char *host, int kind) {
  hl_query *q = hl_query_push(L, ctx, host, kind, r->attempts);
  int rc = hl_query_channel(q, &r->opts, r->optmask, r->servers);
  if (rc != ARES_SUCCESS) return hl_query_pushstatus(L, rc);
  return 1;
}

/* The port a service names: a number, or a name from /etc/services. */
static int service_port(const char *service, int socktype, int *port) {
  struct servent se, *sp = NULL;
  char buf[1024], *end;
  unsigned long n;
  if (service[0] >= '0' && service[0] <= '9') {
    n = strtoul(service, &end, 10);
    if (*end != '\0' || n > 65535) return EAI_SERVICE;
    *port = (int)n;
    return 0;
  }
#if defined(__GLIBC__)
  if (getservbyname_r(service, socktype == SOCK_DGRAM ? "udp" : "tcp", &se,
                      buf, sizeof buf, &sp) != 0 || sp == NULL)
    return EAI_SERVICE;
#else
  (void)se;
  (void)buf;
  sp = getservbyname(service, socktype == SOCK_DGRAM ? "udp" : "tcp");
  if (sp == NULL) return EAI_SERVICE;
#endif
  *port = ntohs((unsigned short)sp->s_port);
  return 0;
}

/* Whether host is an address written out (with a scope, too). */
static int is_numeric(const char *host) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICHOST;
  if (getaddrinfo(host, NULL, &hints, &res) != 0) return 0;
  freeaddrinfo(res);
  return 1;
}

/* Whether every byte of host may appear in a host name (letters, digits,
 * '-', '_', '.', and '*' and '/' as newer c-ares allows them). c-ares 1.18
 * puts anything in a question: "[::1]" or "a b" would cost a round trip
 * to the nameservers (the machine's, by default) for a name that cannot
 * exist. */
static int is_hostname(const char *host) {
  const unsigned char *p;
  for (p = (const unsigned char *)host; *p != '\0'; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || strchr("-_.*/", *p) != NULL))
      return 0;
  }
  return 1;
}

/* hotline.core.lookup(host, port, hints [, resolver]) -> list | query |
 * false | nil, message, code. Arguments as hotline.getaddrinfo's. Numeric
 * hosts and "*" are answered at once, without the network; a name gives a
 * query, not yet started (q:start()), or false without a resolver. */
static int lib_lookup(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  struct addrinfo hints;
  char service[32];
  const char *host = hl_addr_checkquery(L, 1, &hints, service, sizeof service);
  hl_resolver *r = lua_isnoneornil(L, 4) ? NULL : check_resolver(L, 4);
  hl_query *q;
  int port = 0, rc;
  if (host == NULL || is_numeric(host))
    return hl_addr_pushinfo(L, ctx, host, service, &hints);
  if (r == NULL) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (hints.ai_family == AF_UNIX) return hl_error_pushgai(L, EAI_FAMILY, 0);
  if (host[0] == '\0' || hl_addr_isinvalid(host) || !is_hostname(host))
    return hl_error_pushgai(L, EAI_NONAME, 0);
  if ((rc = service_port(service, hints.ai_socktype, &port)) != 0)
    return hl_error_pushgai(L, rc, 0);
  if (push_query(L, ctx, r, host, HL_Q_ADDRINFO) != 1) return 3;
  q = (hl_query *)lua_touserdata(L, -1);
  q->port = port;
  q->hints.ai_family = hints.ai_family;
  q->hints.ai_socktype = hints.ai_socktype;
  return 1;
}

/* hotline.core.reverse(host, resolver) -> query | nil, message, code:
 * the name of a numeric address (not yet started: q:start()). */
static int lib_reverse(lua_State *L) {
  size_t len;
  const char *host = luaL_checklstring(L, 1, &len);
  hl_resolver *r = check_resolver(L, 2);
  struct addrinfo hints, *res = NULL;
  hl_query *q;
  if (strlen(host) != len) luaL_argerror(L, 1, "host contains a NUL byte");
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICHOST;
  if (getaddrinfo(host, NULL, &hints, &res) != 0)
    return hl_error_pushmsg(L, "not a numeric address", "EAI_NONAME");
  if (push_query(L, hl_ctx_get(L), r, host, HL_Q_NAMEINFO) != 1) {
    freeaddrinfo(res);
    return 3;
  }
  q = (hl_query *)lua_touserdata(L, -1);
  memcpy(&q->addr.ss, res->ai_addr, res->ai_addrlen);
  q->addr.len = res->ai_addrlen;
  freeaddrinfo(res);
  return 1;
}

/* hotline.core.isname(host) -> whether host (a string) is a name to look
 * up: not an address written out, not "*", no NUL byte (the socket
 * methods, which raise on those, keep them). Asks no resolver, traces
 * nothing. */
static int lib_isname(lua_State *L) {
  size_t len;
  const char *host = luaL_checklstring(L, 1, &len);
  lua_pushboolean(L, strlen(host) == len && strcmp(host, "*") != 0 &&
                         !is_numeric(host));
  return 1;
}

/* hotline.core.sockfamily(s) -> "inet", "inet6" or "unix": which
 * addresses s:connect(name, port) should look up. */
static int lib_sockfamily(lua_State *L) {
  lua_pushstring(L, hl_addr_familyname(hl_socket_checkopen(L, 1)->family));
  return 1;
}

static const luaL_Reg resolver_meta[] = {
  {"__gc", resolver__gc},
  {NULL, NULL}
};

static const luaL_Reg resolve_funcs[] = {
  {"resolver", lib_resolver},
  {"lookup", lib_lookup},
  {"reverse", lib_reverse},
  {"sockfamily", lib_sockfamily},
  {"isname", lib_isname},
  {NULL, NULL}
};

/* Expects the module table at -2 and the context at -1. */
void hl_resolve_open(lua_State *L) {
  ares_library_init(ARES_LIB_INIT_ALL);
  hl_register(L, resolve_funcs);
  luaL_newmetatable(L, HL_RESOLVER_MT);
  lua_pushvalue(L, -2);
  hl_register(L, resolver_meta);
  lua_pop(L, 2);
  hl_query_open(L);
}
