/* hl_socket.c: the socket object: creation, addresses, connection set-up
 * and closing. Data transfer is in hl_io.c, options in hl_option.c.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hl_addr.h"
#include "hl_error.h"
#include "hl_io.h"
#include "hl_option.h"
#include "hl_socket.h"
#include "hl_tls.h"

/* Where the system can create descriptors non-blocking and close-on-exec
 * in one call (Linux, the BSDs), do; elsewhere fcntl follows at once. */
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
#define HL_SOCK_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)
#define HL_HAVE_ACCEPT4 1   /* (glibc's SOCK_* are enums: no #if on them) */
#else
#define HL_SOCK_FLAGS 0
#endif

static const char *const socktype_names[] = {"stream", "dgram", NULL};

static int check_socktype(lua_State *L, int arg) {
  return hl_checkoption(L, arg, "stream", socktype_names) == 0 ? SOCK_STREAM
                                                                 : SOCK_DGRAM;
}

const char hl_socket_tag[] = HL_SOCKET_MT;

/* The userdata at idx if it is one of ours with this tag, else NULL.
 * Each of our objects starts with its type's tag, the address of a static
 * string: cheaper than comparing metatables (the check runs on every call)
 * and safe, as the size is checked before the tag is read. */
void *hl_tagged(lua_State *L, int idx, const char *tag, size_t size) {
  const char **p;
  if (lua_type(L, idx) != LUA_TUSERDATA || hl_rawlen(L, idx) < size) return NULL;
  p = (const char **)lua_touserdata(L, idx);
  return *p == tag ? p : NULL;
}

hl_socket *hl_socket_test(lua_State *L, int idx) {
  return (hl_socket *)hl_tagged(L, idx, hl_socket_tag, sizeof(hl_socket));
}

hl_socket *hl_socket_check(lua_State *L, int idx) {
  hl_socket *s = hl_socket_test(L, idx);
  /* (not luaL_checkudata: debug.setmetatable can give anything our
   * metatable, but not our tag) */
  if (s == NULL) hl_typeerror(L, idx, HL_SOCKET_MT);
  return s;
}

hl_socket *hl_socket_checkopen(lua_State *L, int idx) {
  hl_socket *s = hl_socket_check(L, idx);
  if (s->fd < 0) luaL_argerror(L, idx, "attempt to use a closed socket");
  return s;
}

hl_socket *hl_socket_push(lua_State *L, int family, int socktype) {
  hl_socket *s = (hl_socket *)hl_newuserdata(L, sizeof *s);
  s->tag = hl_socket_tag;
  s->fd = -1;
  s->family = (unsigned char)family;
  s->socktype = (unsigned char)socktype;
  s->flags = 0;
  s->maxline = HL_MAXLINE_DEFAULT;
  s->timeout = -1;
  s->rbuf = NULL;
  s->tls = NULL;
  return s;
}

int hl_socket_setflags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return errno;
  fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) return errno;
  return 0;
}

int hl_socket_adopt(lua_State *L, int idx, hl_socket *s, int fd) {
  int err = 0;
#ifdef SO_NOSIGPIPE
  int on = 1;   /* no MSG_NOSIGNAL here: keep SIGPIPE off per socket */
  if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0)
    err = errno;
#endif
  if (HL_SOCK_FLAGS == 0 && err == 0) err = hl_socket_setflags(fd);
  if (err != 0) {
    close(fd);
    return err;
  }
  idx = hl_absindex(L, idx);
  s->fd = fd;
  luaL_getmetatable(L, HL_SOCKET_MT);
  lua_setmetatable(L, idx);
  return 0;
}

/* hotline.socket([family [, socktype]]) -> socket | nil, msg, code */
static int lib_socket(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  int family = hl_addr_checkfamily(L, 1, "inet");
  int socktype = check_socktype(L, 2);
  hl_socket *s = hl_socket_push(L, family, socktype);
  double t0 = hl_trace_start(ctx);
  int fd = socket(family, socktype | HL_SOCK_FLAGS, 0), err = errno;
  if (t0) hl_trace_end(t0, "socket", -1, fd, hl_error_name(err), "%s, %s",
                       hl_addr_familyname(family), socktype_names[
                       socktype == SOCK_STREAM ? 0 : 1]);
  if (fd < 0) return hl_error_push(L, err);
  err = hl_socket_adopt(L, -1, s, fd);
  return err ? hl_error_push(L, err) : 1;
}

/* hotline.socketpair([socktype]) -> a, b: two connected unix sockets. */
static int lib_socketpair(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  int socktype = check_socktype(L, 1);
  hl_socket *a = hl_socket_push(L, AF_UNIX, socktype);
  hl_socket *b = hl_socket_push(L, AF_UNIX, socktype);
  double t0 = hl_trace_start(ctx);
  int fds[2], rc = socketpair(AF_UNIX, socktype | HL_SOCK_FLAGS, 0, fds);
  int err = errno;
  if (t0) hl_trace_end(t0, "socketpair", -1, rc, hl_error_name(err), "unix");
  if (rc < 0) return hl_error_push(L, err);
  err = hl_socket_adopt(L, -2, a, fds[0]);
  if (err != 0) {
    close(fds[1]);
    return hl_error_push(L, err);
  }
  err = hl_socket_adopt(L, -1, b, fds[1]);
  return err ? hl_error_push(L, err) : 2;
}

/* hotline.type(x) -> "socket" | "closed socket" | nil, as io.type. */
static int lib_type(lua_State *L) {
  hl_socket *s = hl_socket_test(L, 1);
  if (s == NULL)
    lua_pushnil(L);
  else
    lua_pushstring(L, s->fd < 0 ? "closed socket" : "socket");
  return 1;
}

/* s:bind(host, port) or s:bind(path) -> true | nil, msg, code.
 * Host "*" is every interface. */
static int sock_bind(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_sockaddr addr;
  char text[128];
  double t0;
  int rc, err;
  if (hl_addr_check(L, ctx, 2, s->family, s->socktype, 1, &addr) != 0)
    return 3;
  t0 = hl_trace_start(ctx);
  rc = bind(s->fd, (struct sockaddr *)&addr.ss, addr.len);
  err = errno;
  if (t0) {
    hl_addr_format(text, sizeof text, (struct sockaddr *)&addr.ss, addr.len);
    hl_trace_end(t0, "bind", s->fd, rc, hl_error_name(err), "%s", text);
  }
  if (rc < 0) return hl_error_push(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* s:listen([backlog]) -> true | nil, msg, code */
static int sock_listen(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  int backlog = (int)hl_optsize(L, 2, SOMAXCONN, INT_MAX);
  double t0 = hl_trace_start(ctx);
  int rc = listen(s->fd, backlog), err = errno;
  if (t0) hl_trace_end(t0, "listen", s->fd, rc, hl_error_name(err),
                       "backlog=%d", backlog);
  if (rc < 0) return hl_error_push(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* s:accept() primitive -> client | nil, "wantread" | nil, msg, code.
 * A peer that gave up while queued (ECONNABORTED) is skipped. */
static int sock_accept(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_socket *c = hl_socket_push(L, s->family, s->socktype);
  hl_sockaddr peer;
  char text[128];
  double t0;
  int fd, err;
  do {
    peer.len = sizeof peer.ss;
    t0 = hl_trace_start(ctx);
#ifdef HL_HAVE_ACCEPT4
    fd = accept4(s->fd, (struct sockaddr *)&peer.ss, &peer.len, HL_SOCK_FLAGS);
#else
    fd = accept(s->fd, (struct sockaddr *)&peer.ss, &peer.len);
#endif
    err = errno;
    if (t0) {
      if (fd >= 0)
        hl_addr_format(text, sizeof text, (struct sockaddr *)&peer.ss,
                       peer.len);
      hl_trace_end(t0, "accept", s->fd, fd, hl_error_name(err), "%s",
                   fd >= 0 ? text : "");
    }
  } while (fd < 0 && (err == EINTR || err == ECONNABORTED));
  if (fd < 0)
    return (err == EAGAIN || err == EWOULDBLOCK) ? hl_error_want(L, HL_WANTREAD, s->timeout)
                                                 : hl_error_push(L, err);
  err = hl_socket_adopt(L, -1, c, fd);
  return err ? hl_error_push(L, err) : 1;
}

/* Second half of a non-blocking connect, once the socket is writable:
 * SO_ERROR says whether it failed; getpeername whether it is done (the
 * caller may look before the wait is over). */
static int finish_connect(lua_State *L, const hl_ctx *ctx, hl_socket *s) {
  hl_sockaddr peer;
  socklen_t len = sizeof(int);
  int soerr = 0, rc, err;
  double t0 = hl_trace_start(ctx);
  rc = getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  err = rc < 0 ? errno : soerr;
  if (t0) hl_trace_end(t0, "connect", s->fd, err ? -1 : 0, hl_error_name(err),
                       "finished");
  if (err == 0) {
    peer.len = sizeof peer.ss;
    if (getpeername(s->fd, (struct sockaddr *)&peer.ss, &peer.len) < 0)
      err = errno;
    if (err == ENOTCONN) return hl_error_want(L, HL_WANTWRITE, s->timeout);
  }
  s->flags &= ~HL_CONNECTING;
  if (err != 0) return hl_error_push(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* s:connect(host, port) or s:connect(path) primitive
 * -> true | nil, "wantwrite" | nil, msg, code.
 * Called again after "wantwrite", it completes the same attempt. */
static int sock_connect(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_sockaddr addr;
  char text[128];
  double t0;
  int rc, err;
  if (s->flags & HL_CONNECTING) return finish_connect(L, ctx, s);
  if (hl_addr_check(L, ctx, 2, s->family, s->socktype, 0, &addr) != 0)
    return 3;
  t0 = hl_trace_start(ctx);
  rc = connect(s->fd, (struct sockaddr *)&addr.ss, addr.len);
  err = errno;
  if (t0) {
    hl_addr_format(text, sizeof text, (struct sockaddr *)&addr.ss, addr.len);
    hl_trace_end(t0, "connect", s->fd, rc, hl_error_name(err), "%s", text);
  }
  /* interrupted, a non-blocking connect goes on in the background */
  if (rc < 0 && (err == EINPROGRESS || err == EINTR)) {
    s->flags |= HL_CONNECTING;
    return hl_error_want(L, HL_WANTWRITE, s->timeout);
  }
  if (rc < 0) return hl_error_push(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

static const char *const shutdown_names[] = {"read", "write", "both", NULL};
static const int shutdown_codes[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};

/* s:shutdown([how]) -> true | nil, msg, code; how is "read", "write" or
 * "both" (the default). */
static int sock_shutdown(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  int how = hl_checkoption(L, 2, "both", shutdown_names);
  double t0;
  int rc, err;
  if (s->tls != NULL && how != 0) hl_tls_notify(s);   /* TLS's goodbye first */
  t0 = hl_trace_start(ctx);
  rc = shutdown(s->fd, shutdown_codes[how]);
  err = errno;
  if (t0) hl_trace_end(t0, "shutdown", s->fd, rc, hl_error_name(err), "%s",
                       shutdown_names[how]);
  if (rc < 0) return hl_error_push(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* s:getsockname() / s:getpeername() -> host, port | path | nil, msg, code */
static int push_name(lua_State *L, int peer) {
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_sockaddr addr;
  int rc;
  addr.len = sizeof addr.ss;
  memset(&addr.ss, 0, sizeof addr.ss);
  rc = peer ? getpeername(s->fd, (struct sockaddr *)&addr.ss, &addr.len)
            : getsockname(s->fd, (struct sockaddr *)&addr.ss, &addr.len);
  if (rc < 0) return hl_error_push(L, errno);
  return hl_addr_push(L, (struct sockaddr *)&addr.ss, addr.len);
}

static int sock_getsockname(lua_State *L) {
  return push_name(L, 0);
}

static int sock_getpeername(lua_State *L) {
  return push_name(L, 1);
}

static int sock_fileno(lua_State *L) {
  lua_pushinteger(L, hl_socket_checkopen(L, 1)->fd);
  return 1;
}

/* s:settimeout(seconds) -> true. nil (or a negative number) waits
 * forever, 0 never waits. */
static int sock_settimeout(lua_State *L) {
  hl_socket *s = hl_socket_checkopen(L, 1);
  s->timeout = hl_checkseconds(L, 2);
  lua_pushboolean(L, 1);
  return 1;
}

static int sock_gettimeout(lua_State *L) {
  hl_socket *s = hl_socket_checkopen(L, 1);
  if (s->timeout < 0)
    lua_pushnil(L);
  else
    lua_pushnumber(L, s->timeout);
  return 1;
}

/* Marks the socket closed before closing, so no path can use or close
 * the number again; close is never retried (the descriptor is gone even
 * when close reports EINTR). Returns 0 or an errno. */
static int close_socket(const hl_ctx *ctx, hl_socket *s, const char *why) {
  int fd = s->fd, rc, err;
  double t0;
  if (fd < 0) return 0;
  if (s->tls != NULL) hl_tls_free(s, why[0] == '\0');   /* gc: no notify */
  s->fd = -1;
  hl_rbuf_free(&s->rbuf);
  t0 = hl_trace_start(ctx);
  rc = close(fd);
  err = errno;
  if (t0) hl_trace_end(t0, "close", fd, rc, hl_error_name(err), "%s", why);
  return (rc < 0 && err != EINTR) ? err : 0;
}

/* s:close() -> true | nil, msg, code; closing twice is fine. The Lua
 * layer wraps it (and sets __close to the wrapper) so that tasks waiting
 * on the socket are woken. */
static int sock_close(lua_State *L) {
  int err = close_socket(hl_ctx_get(L), hl_socket_check(L, 1), "");
  if (err != 0) return hl_error_push(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

static int sock__gc(lua_State *L) {
  close_socket(hl_ctx_get(L), hl_socket_check(L, 1), "gc");
  return 0;
}

static int sock__tostring(lua_State *L) {
  hl_socket *s = hl_socket_check(L, 1);
  hl_sockaddr local, peer;
  char here[128], there[128];
  if (s->fd < 0) {
    lua_pushliteral(L, "hotline.socket (closed)");
    return 1;
  }
  local.len = peer.len = sizeof local.ss;
  memset(&local.ss, 0, sizeof local.ss);
  if (getsockname(s->fd, (struct sockaddr *)&local.ss, &local.len) < 0)
    local.len = 0;
  local.ss.ss_family = s->family;
  hl_addr_format(here, sizeof here, (struct sockaddr *)&local.ss, local.len);
  there[0] = '\0';
  if (getpeername(s->fd, (struct sockaddr *)&peer.ss, &peer.len) == 0) {
    memcpy(there, " -> ", 5);
    hl_addr_format(there + 4, sizeof there - 4, (struct sockaddr *)&peer.ss,
                   peer.len);
  }
  lua_pushfstring(L, "hotline.socket (%s %s%s, fd %d, %s%s)",
                  hl_addr_familyname(s->family),
                  s->socktype == SOCK_STREAM ? "stream" : "dgram",
                  s->tls != NULL ? " tls" : "", s->fd,
                  here, there);
  return 1;
}

static const luaL_Reg sock_methods[] = {
  {"bind", sock_bind},
  {"listen", sock_listen},
  {"accept", sock_accept},
  {"connect", sock_connect},
  {"shutdown", sock_shutdown},
  {"getsockname", sock_getsockname},
  {"getpeername", sock_getpeername},
  {"fileno", sock_fileno},
  {"settimeout", sock_settimeout},
  {"gettimeout", sock_gettimeout},
  {"close", sock_close},
  {NULL, NULL}
};

static const luaL_Reg sock_meta[] = {
  {"__gc", sock__gc},
  {"__tostring", sock__tostring},
  {NULL, NULL}
};

static const luaL_Reg sock_funcs[] = {
  {"socket", lib_socket},
  {"socketpair", lib_socketpair},
  {"type", lib_type},
  {NULL, NULL}
};

/* Expects the module table at -2 and the context at -1; adds the socket
 * functions and hotline.core.metatable (the Lua layer finishes it). */
void hl_socket_open(lua_State *L) {
  hl_register(L, sock_funcs);
  luaL_newmetatable(L, HL_SOCKET_MT);
  lua_pushvalue(L, -2);
  hl_register(L, sock_meta);
  lua_newtable(L);                     /* the methods, mt.__index */
  lua_pushvalue(L, -2);
  hl_register(L, sock_methods);
  hl_register(L, hl_io_methods);
  hl_register(L, hl_option_methods);
  hl_register(L, hl_tls_methods);
  lua_pop(L, 1);
  lua_setfield(L, -3, "__index");
  lua_pop(L, 1);                       /* the context copy */
  lua_setfield(L, -3, "metatable");
}
