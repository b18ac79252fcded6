/* hl_error.c: error tuples, errno names and checked numeric arguments.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <string.h>

#include "hl_error.h"

typedef struct hl_errname {
  const char *name;
  int number;
} hl_errname;

/* Written by hand, one #ifdef per name, so that each system contributes
 * exactly the names it has. Where two names share a number (EAGAIN and
 * EWOULDBLOCK on Linux) the first listed is the one reported. */
static const hl_errname errnames[] = {
#ifdef E2BIG
  {"E2BIG", E2BIG},
#endif
#ifdef EACCES
  {"EACCES", EACCES},
#endif
#ifdef EADDRINUSE
  {"EADDRINUSE", EADDRINUSE},
#endif
#ifdef EADDRNOTAVAIL
  {"EADDRNOTAVAIL", EADDRNOTAVAIL},
#endif
#ifdef EAFNOSUPPORT
  {"EAFNOSUPPORT", EAFNOSUPPORT},
#endif
#ifdef EAGAIN
  {"EAGAIN", EAGAIN},
#endif
#ifdef EWOULDBLOCK
  {"EWOULDBLOCK", EWOULDBLOCK},
#endif
#ifdef EALREADY
  {"EALREADY", EALREADY},
#endif
#ifdef EBADF
  {"EBADF", EBADF},
#endif
#ifdef EBUSY
  {"EBUSY", EBUSY},
#endif
#ifdef ECANCELED
  {"ECANCELED", ECANCELED},
#endif
#ifdef ECHILD
  {"ECHILD", ECHILD},
#endif
#ifdef ECONNABORTED
  {"ECONNABORTED", ECONNABORTED},
#endif
#ifdef ECONNREFUSED
  {"ECONNREFUSED", ECONNREFUSED},
#endif
#ifdef ECONNRESET
  {"ECONNRESET", ECONNRESET},
#endif
#ifdef EDESTADDRREQ
  {"EDESTADDRREQ", EDESTADDRREQ},
#endif
#ifdef EEXIST
  {"EEXIST", EEXIST},
#endif
#ifdef EFAULT
  {"EFAULT", EFAULT},
#endif
#ifdef EHOSTDOWN
  {"EHOSTDOWN", EHOSTDOWN},
#endif
#ifdef EHOSTUNREACH
  {"EHOSTUNREACH", EHOSTUNREACH},
#endif
#ifdef EINPROGRESS
  {"EINPROGRESS", EINPROGRESS},
#endif
#ifdef EINTR
  {"EINTR", EINTR},
#endif
#ifdef EINVAL
  {"EINVAL", EINVAL},
#endif
#ifdef EIO
  {"EIO", EIO},
#endif
#ifdef EISCONN
  {"EISCONN", EISCONN},
#endif
#ifdef EISDIR
  {"EISDIR", EISDIR},
#endif
#ifdef ELOOP
  {"ELOOP", ELOOP},
#endif
#ifdef EMFILE
  {"EMFILE", EMFILE},
#endif
#ifdef EMSGSIZE
  {"EMSGSIZE", EMSGSIZE},
#endif
#ifdef ENAMETOOLONG
  {"ENAMETOOLONG", ENAMETOOLONG},
#endif
#ifdef ENETDOWN
  {"ENETDOWN", ENETDOWN},
#endif
#ifdef ENETRESET
  {"ENETRESET", ENETRESET},
#endif
#ifdef ENETUNREACH
  {"ENETUNREACH", ENETUNREACH},
#endif
#ifdef ENFILE
  {"ENFILE", ENFILE},
#endif
#ifdef ENOBUFS
  {"ENOBUFS", ENOBUFS},
#endif
#ifdef ENODEV
  {"ENODEV", ENODEV},
#endif
#ifdef ENOENT
  {"ENOENT", ENOENT},
#endif
#ifdef ENOMEM
  {"ENOMEM", ENOMEM},
#endif
#ifdef ENOPROTOOPT
  {"ENOPROTOOPT", ENOPROTOOPT},
#endif
#ifdef ENOSPC
  {"ENOSPC", ENOSPC},
#endif
#ifdef ENOSYS
  {"ENOSYS", ENOSYS},
#endif
#ifdef ENOTCONN
  {"ENOTCONN", ENOTCONN},
#endif
#ifdef ENOTDIR
  {"ENOTDIR", ENOTDIR},
#endif
#ifdef ENOTEMPTY
  {"ENOTEMPTY", ENOTEMPTY},
#endif
#ifdef ENOTSOCK
  {"ENOTSOCK", ENOTSOCK},
#endif
#ifdef EOPNOTSUPP
  {"EOPNOTSUPP", EOPNOTSUPP},
#endif
#ifdef ENOTSUP
  {"ENOTSUP", ENOTSUP},
#endif
#ifdef EPERM
  {"EPERM", EPERM},
#endif
#ifdef EPFNOSUPPORT
  {"EPFNOSUPPORT", EPFNOSUPPORT},
#endif
#ifdef EPIPE
  {"EPIPE", EPIPE},
#endif
#ifdef EPROTO
  {"EPROTO", EPROTO},
#endif
#ifdef EPROTONOSUPPORT
  {"EPROTONOSUPPORT", EPROTONOSUPPORT},
#endif
#ifdef EPROTOTYPE
  {"EPROTOTYPE", EPROTOTYPE},
#endif
#ifdef ERANGE
  {"ERANGE", ERANGE},
#endif
#ifdef EROFS
  {"EROFS", EROFS},
#endif
#ifdef ESHUTDOWN
  {"ESHUTDOWN", ESHUTDOWN},
#endif
#ifdef ESOCKTNOSUPPORT
  {"ESOCKTNOSUPPORT", ESOCKTNOSUPPORT},
#endif
#ifdef ESPIPE
  {"ESPIPE", ESPIPE},
#endif
#ifdef ESRCH
  {"ESRCH", ESRCH},
#endif
#ifdef ETIMEDOUT
  {"ETIMEDOUT", ETIMEDOUT},
#endif
#ifdef ETOOMANYREFS
  {"ETOOMANYREFS", ETOOMANYREFS},
#endif
  {NULL, 0}
};

static const hl_errname gainames[] = {
#ifdef EAI_ADDRFAMILY
  {"EAI_ADDRFAMILY", EAI_ADDRFAMILY},
#endif
#ifdef EAI_AGAIN
  {"EAI_AGAIN", EAI_AGAIN},
#endif
#ifdef EAI_BADFLAGS
  {"EAI_BADFLAGS", EAI_BADFLAGS},
#endif
#ifdef EAI_FAIL
  {"EAI_FAIL", EAI_FAIL},
#endif
#ifdef EAI_FAMILY
  {"EAI_FAMILY", EAI_FAMILY},
#endif
#ifdef EAI_MEMORY
  {"EAI_MEMORY", EAI_MEMORY},
#endif
#ifdef EAI_NODATA
  {"EAI_NODATA", EAI_NODATA},
#endif
#ifdef EAI_NONAME
  {"EAI_NONAME", EAI_NONAME},
#endif
#ifdef EAI_OVERFLOW
  {"EAI_OVERFLOW", EAI_OVERFLOW},
#endif
#ifdef EAI_SERVICE
  {"EAI_SERVICE", EAI_SERVICE},
#endif
#ifdef EAI_SOCKTYPE
  {"EAI_SOCKTYPE", EAI_SOCKTYPE},
#endif
#ifdef EAI_SYSTEM
  {"EAI_SYSTEM", EAI_SYSTEM},
#endif
  {NULL, 0}
};

static const char *find_name(const hl_errname *list, int number) {
  for (; list->name != NULL; list++)
    if (list->number == number) return list->name;
  return "EUNKNOWN";
}

const char *hl_error_name(int err) {
  return find_name(errnames, err);
}

/* Pushes nil, msg in lower case, code; returns 3. System messages start
 * with a capital ("Connection refused"); Lua's own messages do not. */
static int push_lower(lua_State *L, const char *msg, const char *code) {
  char text[256];
  size_t i;
  for (i = 0; msg[i] != '\0' && i < sizeof text - 1; i++)
    text[i] = (char)tolower((unsigned char)msg[i]);
  text[i] = '\0';
  lua_pushnil(L);
  lua_pushstring(L, text);
  lua_pushstring(L, code);
  return 3;
}

/* What a peer's reset or hang-up gives, on every such connection: written
 * out, as strerror goes through gettext each time. (The same words on
 * glibc, the BSDs and macOS.) */
static const struct {
  int number;
  const char *text;
} peer_errors[] = {
  {ECONNRESET, "connection reset by peer"},
  {EPIPE, "broken pipe"},
  {ECONNREFUSED, "connection refused"},
};

int hl_error_push(lua_State *L, int err) {
  size_t i;
  for (i = 0; i < sizeof peer_errors / sizeof peer_errors[0]; i++) {
    if (peer_errors[i].number == err) {
      return hl_error_pushmsg(L, peer_errors[i].text, hl_error_name(err));
    }
  }
  return push_lower(L, strerror(err), hl_error_name(err));
}

int hl_error_pushgai(lua_State *L, int gaierr, int syserr) {
#ifdef EAI_SYSTEM
  if (gaierr == EAI_SYSTEM) return hl_error_push(L, syserr);
#else
  (void)syserr;
#endif
  return push_lower(L, gai_strerror(gaierr), find_name(gainames, gaierr));
}

int hl_error_pushmsg(lua_State *L, const char *msg, const char *code) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  if (code == NULL) return 2;
  lua_pushstring(L, code);
  return 3;
}

int hl_error_closed(lua_State *L) {
  return hl_error_pushmsg(L, "closed", NULL);
}

int hl_error_want(lua_State *L, const char *want, double timeout) {
  lua_pushnil(L);
  lua_pushstring(L, want);
  if (timeout < 0)
    lua_pushnil(L);
  else
    lua_pushnumber(L, timeout);
  return 3;
}

int hl_typeerror(lua_State *L, int arg, const char *tname) {
  const char *got = luaL_typename(L, arg);
  if (luaL_getmetafield(L, arg, "__name") && lua_type(L, -1) == LUA_TSTRING)
    got = lua_tostring(L, -1);
  return luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s", tname, got));
}

size_t hl_checksize(lua_State *L, int arg, size_t max) {
  lua_Number n = luaL_checknumber(L, arg);
  if (!(n >= 0 && n <= (lua_Number)max) || n != floor(n))
    luaL_argerror(L, arg, lua_pushfstring(L,
        "expected a whole number from 0 to %f", (lua_Number)max));
  return (size_t)n;
}

size_t hl_optsize(lua_State *L, int arg, size_t def, size_t max) {
  return lua_isnoneornil(L, arg) ? def : hl_checksize(L, arg, max);
}

double hl_checkseconds(lua_State *L, int arg) {
  lua_Number t;
  if (lua_isnoneornil(L, arg)) return -1;
  t = luaL_checknumber(L, arg);
  if (t != t) luaL_argerror(L, arg, "seconds expected, got nan");
  return (t < 0 || t == HUGE_VAL) ? -1 : (double)t;
}

/* hotline.strerror(n): the system's message for errno n, in lower case. */
static int lib_strerror(lua_State *L) {
  int err = (int)luaL_checkinteger(L, 1);
  push_lower(L, strerror(err), "");
  lua_pop(L, 1);
  return 1;
}

/* Adds hotline.errno (name -> number and number -> name) and
 * hotline.strerror to the table at index module. */
void hl_error_open(lua_State *L, int module) {
  const hl_errname *e;
  module = hl_absindex(L, module);
  lua_newtable(L);
  for (e = errnames; e->name != NULL; e++) {
    lua_pushinteger(L, e->number);
    lua_setfield(L, -2, e->name);
    lua_pushinteger(L, e->number);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {     /* first name listed wins */
      lua_pushinteger(L, e->number);
      lua_pushstring(L, e->name);
      lua_rawset(L, -4);
    }
    lua_pop(L, 1);
  }
  lua_setfield(L, module, "errno");
  lua_pushcfunction(L, lib_strerror);
  lua_setfield(L, module, "strerror");
}
