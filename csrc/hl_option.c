/* hl_option.c: socket options by name.
 * Booleans (reuseaddr, reuseport, nodelay, keepalive, ipv6only,
 * broadcast), sizes in bytes (rcvbuf, sndbuf), linger (seconds, or false
 * for off) and hotline's own maxline (the longest line read("l") will
 * buffer). An unknown name raises; an option the system refuses, or does
 * not have, fails with nil, msg, code.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "hl_error.h"
#include "hl_option.h"
#include "hl_socket.h"

enum { OPT_BOOL, OPT_INT, OPT_LINGER, OPT_MAXLINE };

typedef struct hl_option {
  const char *name;
  int level, optname, kind;  /* optname -1: this system lacks it */
} hl_option;

#ifndef SO_REUSEPORT
#define SO_REUSEPORT -1
#endif

static const hl_option options[] = {
  {"reuseaddr", SOL_SOCKET, SO_REUSEADDR, OPT_BOOL},
  {"reuseport", SOL_SOCKET, SO_REUSEPORT, OPT_BOOL},
  {"nodelay", IPPROTO_TCP, TCP_NODELAY, OPT_BOOL},
  {"keepalive", SOL_SOCKET, SO_KEEPALIVE, OPT_BOOL},
  {"linger", SOL_SOCKET, SO_LINGER, OPT_LINGER},
  {"rcvbuf", SOL_SOCKET, SO_RCVBUF, OPT_INT},
  {"sndbuf", SOL_SOCKET, SO_SNDBUF, OPT_INT},
  {"ipv6only", IPPROTO_IPV6, IPV6_V6ONLY, OPT_BOOL},
  {"broadcast", SOL_SOCKET, SO_BROADCAST, OPT_BOOL},
  {"maxline", 0, 0, OPT_MAXLINE},
  {NULL, 0, 0, 0}
};

static const hl_option *check_option(lua_State *L, int arg) {
  const char *name = luaL_checkstring(L, arg);
  const hl_option *o;
  for (o = options; o->name != NULL; o++)
    if (strcmp(o->name, name) == 0) return o;
  luaL_argerror(L, arg, lua_pushfstring(L, "invalid option '%s'", name));
  return NULL;
}

/* s:setoption(name, value) -> true | nil, msg, code */
static int sock_setoption(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  const hl_option *o = check_option(L, 2);
  struct linger lg;
  int value = 0, rc, err;
  const void *p = &value;
  socklen_t len = sizeof value;
  double t0;
  memset(&lg, 0, sizeof lg);
  switch (o->kind) {
    case OPT_BOOL:
      luaL_checktype(L, 3, LUA_TBOOLEAN);
      value = lua_toboolean(L, 3);
      break;
    case OPT_INT:
      value = (int)hl_checksize(L, 3, INT_MAX);
      break;
    case OPT_LINGER:
      if (lua_toboolean(L, 3)) {   /* false or nil: linger off */
        lg.l_onoff = 1;
        lg.l_linger = (int)hl_checksize(L, 3, INT_MAX);
      }
      p = &lg;
      len = sizeof lg;
      break;
    default:
      s->maxline = (unsigned)hl_checksize(L, 3, UINT_MAX);
      luaL_argcheck(L, s->maxline > 0, 3, "maxline must be at least 1");
      lua_pushboolean(L, 1);
      return 1;
  }
  if (o->optname == -1) return hl_error_push(L, ENOPROTOOPT);
  t0 = hl_trace_start(ctx);
  rc = setsockopt(s->fd, o->level, o->optname, p, len);
  err = errno;
  if (t0) hl_trace_end(t0, "setsockopt", s->fd, rc, hl_error_name(err),
                       "%s, %d", o->name, o->kind == OPT_LINGER ? lg.l_linger
                                                                : value);
  if (rc < 0) return hl_error_push(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* s:getoption(name) -> value | nil, msg, code. Sizes are what the
 * system reports (Linux doubles rcvbuf and sndbuf for its bookkeeping). */
static int sock_getoption(lua_State *L) {
  hl_socket *s = hl_socket_checkopen(L, 1);
  const hl_option *o = check_option(L, 2);
  struct linger lg;
  int value = 0;
  socklen_t len = sizeof value;
  void *p = &value;
  if (o->kind == OPT_MAXLINE) {
    lua_pushinteger(L, (lua_Integer)s->maxline);
    return 1;
  }
  if (o->optname == -1) return hl_error_push(L, ENOPROTOOPT);
  if (o->kind == OPT_LINGER) {
    memset(&lg, 0, sizeof lg);
    p = &lg;
    len = sizeof lg;
  }
  if (getsockopt(s->fd, o->level, o->optname, p, &len) < 0)
    return hl_error_push(L, errno);
  if (o->kind == OPT_BOOL)
    lua_pushboolean(L, value != 0);
  else if (o->kind == OPT_INT)
    lua_pushinteger(L, value);
  else if (lg.l_onoff)
    lua_pushinteger(L, lg.l_linger);
  else
    lua_pushboolean(L, 0);
  return 1;
}

const luaL_Reg hl_option_methods[] = {
  {"setoption", sock_setoption},
  {"getoption", sock_getoption},
  {NULL, NULL}
};
