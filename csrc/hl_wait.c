/* hl_wait.c: waitfd, buffered, sleep and monotime (see hl_wait.h).
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <time.h>

#include "hl_error.h"
#include "hl_poll.h"
#include "hl_socket.h"
#include "hl_wait.h"

static const char *const want_names[] = {"wantread", "wantwrite", NULL};

static int to_ms(double seconds) {
  if (seconds <= 0) return 0;
  return seconds * 1e3 >= INT_MAX ? INT_MAX : (int)ceil(seconds * 1e3);
}

/* hotline.core.waitfd(s, "wantread" | "wantwrite" [, seconds])
 * -> true | nil, "timeout", "ETIMEDOUT" | nil, msg, code.
 * s is a socket or a descriptor number (a resolver's, say), or a poller
 * to wait for anything in it ("wantread"), its next wait(0) then handing
 * out what this found. seconds is the time a call has left: nil waits
 * for ever, and a negative number (a deadline already past) only looks.
 * Signals do not end the wait early: it resumes with the time left. */
static int lib_waitfd(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_poller *p = lua_type(L, 1) == LUA_TUSERDATA ? hl_poller_test(L, 1) : NULL;
  hl_socket *s = lua_type(L, 1) == LUA_TNUMBER || p ? NULL
                                                     : hl_socket_checkopen(L, 1);
  int fd = s ? s->fd : p ? p->fd : (int)hl_checksize(L, 1, INT_MAX - 1);
  int write = hl_checkoption(L, 2, NULL, want_names);
  double timeout = hl_checkseconds(L, 3), deadline = 0, t0;
  struct pollfd pfd;
  int rc, err;
  if (lua_type(L, 3) == LUA_TNUMBER && lua_tonumber(L, 3) < 0) timeout = 0;
  if (p) {
    luaL_argcheck(L, p->backend != NULL, 1, "attempt to use a closed poller");
    luaL_argcheck(L, !write, 2, "a poller waits to read");
    rc = hl_poll_prime(ctx, p, timeout);
    if (rc < 0) return hl_error_push(L, -rc);
    if (rc == 0) return hl_error_pushmsg(L, "timeout", "ETIMEDOUT");
    lua_pushboolean(L, 1);
    return 1;
  }
  if (timeout > 0) deadline = hl_monotime() + timeout;
  pfd.fd = fd;
  pfd.events = write ? POLLOUT : POLLIN;
  do {
    pfd.revents = 0;
    t0 = hl_trace_start(ctx);
    rc = poll(&pfd, 1, timeout < 0 ? -1 : to_ms(deadline - hl_monotime()));
    err = errno;
    if (t0) hl_trace_end(t0, "poll", fd, rc, hl_error_name(err), "%s",
                         write ? "w" : "r");
  } while (rc < 0 && err == EINTR);
  if (rc < 0) return hl_error_push(L, err);
  if (rc == 0) return hl_error_pushmsg(L, "timeout", "ETIMEDOUT");
  if (!write && s) s->flags &= ~HL_DRAINED;
  lua_pushboolean(L, 1);
  return 1;
}

/* hotline.core.buffered(s) -> how many bytes s has taken from the kernel
 * and not handed out yet. A socket with some is ready to read whatever the
 * poller says: loop.await_any asks before it waits. Raises on a closed
 * socket. */
static int lib_buffered(lua_State *L) {
  hl_socket *s = hl_socket_checkopen(L, 1);
  lua_pushinteger(L, (lua_Integer)hl_rbuf_len(s->rbuf));
  return 1;
}

/* hotline.core.sleep(seconds): blocks the process; tasks use the loop. */
static int lib_sleep(lua_State *L) {
  double t = hl_checkseconds(L, 1);
  struct timespec req, left;
  luaL_argcheck(L, t >= 0, 1, "seconds expected");
  if (t > 1e15) t = 1e15;   /* 30 million years; a bigger double overflows
                               time_t (undefined behaviour, in practice a
                               negative time and no sleep at all) */
  req.tv_sec = (time_t)t;
  req.tv_nsec = (long)((t - (double)req.tv_sec) * 1e9);
  while (nanosleep(&req, &left) < 0 && errno == EINTR) req = left;
  return 0;
}

static int lib_monotime(lua_State *L) {
  lua_pushnumber(L, hl_monotime());
  return 1;
}

static const luaL_Reg wait_funcs[] = {
  {"waitfd", lib_waitfd},
  {"buffered", lib_buffered},
  {"sleep", lib_sleep},
  {"monotime", lib_monotime},
  {NULL, NULL}
};

void hl_wait_open(lua_State *L) {
  hl_register(L, wait_funcs);
}
