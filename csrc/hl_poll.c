/* hl_poll.c: hotline.poller(), the readiness API the loop is built on.
 *   p:add(s, "r" | "w" | "rw"), p:modify(s, events), p:remove(s)
 *   for s, events in p:wait([seconds]) do ... end
 * s is a hotline socket or a raw descriptor number. wait returns an
 * iterator over what one system call found; it allocates nothing per
 * event, and a socket reported readable forgets its "drained" hint.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hl_error.h"
#include "hl_poll.h"
#include "hl_socket.h"

#define HL_READY_MIN 64
#define HL_READY_MAX 4096

static const char *const event_names[] = {"r", "w", "rw", NULL};

/* "r", "w" or "rw" -> HL_POLL_R | HL_POLL_W; anything else raises. */
static int check_events(lua_State *L, int arg) {
  size_t len;
  const char *e = luaL_checklstring(L, arg, &len);
  if (len == 1 && e[0] == 'r') return HL_POLL_R;
  if (len == 1 && e[0] == 'w') return HL_POLL_W;
  if (len == 2 && e[0] == 'r' && e[1] == 'w') return HL_POLL_R | HL_POLL_W;
  return luaL_argerror(L, arg, lua_pushfstring(L, "invalid option '%s'", e));
}

int hl_poll_reserve(hl_poller *p, int n) {
  hl_ready *grown;
  if (n <= p->readycap) return 0;
  grown = realloc(p->ready, (size_t)n * sizeof *grown);
  if (grown == NULL) return ENOMEM;
  p->ready = grown;
  p->readycap = n;
  return 0;
}

static const char hl_poller_tag[] = HL_POLLER_MT;

static hl_poller *to_poller(lua_State *L) {
  hl_poller *p = (hl_poller *)hl_tagged(L, 1, hl_poller_tag, sizeof *p);
  if (p == NULL) hl_typeerror(L, 1, HL_POLLER_MT);   /* (as hl_socket_check) */
  return p;
}

hl_poller *hl_poller_test(lua_State *L, int idx) {
  return (hl_poller *)hl_tagged(L, idx, hl_poller_tag, sizeof(hl_poller));
}

static hl_poller *check_poller(lua_State *L) {
  hl_poller *p = to_poller(L);
  if (p->backend == NULL) luaL_argerror(L, 1, "attempt to use a closed poller");
  return p;
}

/* The descriptor of the socket or number at idx; *flags gets
 * HL_POLL_SOCKET for a socket. */
static int check_target(lua_State *L, int idx, int *flags) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    *flags = 0;
    return (int)hl_checksize(L, idx, INT_MAX - 1);
  }
  *flags = HL_POLL_SOCKET;
  return hl_socket_checkopen(L, idx)->fd;
}

static int grow_masks(hl_poller *p, int fd) {
  int n;
  unsigned char *grown;
  if (fd < p->nmasks) return 0;
  n = fd + 1 > p->nmasks * 2 ? fd + 1 : p->nmasks * 2;
  grown = realloc(p->masks, (size_t)n);
  if (grown == NULL) return ENOMEM;
  memset(grown + p->nmasks, 0, (size_t)(n - p->nmasks));
  p->masks = grown;
  p->nmasks = n;
  return 0;
}

/* Sets fd's events to events (0 removes it), remembering obj at idx.
 * closing: fd is about to be closed, so a kernel that forgets closed
 * descriptors need not be told. */
static int set_events(lua_State *L, const hl_ctx *ctx, hl_poller *p,
                      int idx, int fd, int events, int flags, int closing) {
  int old = fd < p->nmasks ? p->masks[fd] & (HL_POLL_R | HL_POLL_W) : 0;
  int err;
  double t0;
  if (events == 0 && old == 0) {        /* not registered: nothing to do */
    lua_pushboolean(L, 1);
    return 1;
  }
  /* the tables grow to the largest fd, so a number must name an open
   * descriptor first: p:add(2^31 - 2, "r") must not allocate gigabytes */
  if (events != 0 && !(flags & HL_POLL_SOCKET) && fcntl(fd, F_GETFD) < 0)
    return hl_error_push(L, errno);
  if ((err = grow_masks(p, fd)) != 0) return hl_error_push(L, err);
  if (old == events && events != 0) {   /* the loop re-adds all the time */
    int same;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->objects);
    lua_rawgeti(L, -1, fd);
    same = lua_rawequal(L, -1, idx);
    lua_pop(L, 2);
    if (same) {
      lua_pushboolean(L, 1);
      return 1;
    }
  }
  p->primed = 0;                        /* what it found may be stale */
  if (old != events && !(closing && p->backend->forgets_closed)) {
    t0 = p->fd >= 0 ? hl_trace_start(ctx) : 0;
    err = p->backend->ctl(p, fd, old, events);
    if (t0) hl_trace_end(t0, "epoll_ctl", p->fd, err ? -1 : 0,
                         hl_error_name(err), "%d, %s", fd,
                         events ? event_names[events - 1] : "-");
    if (err != 0) return hl_error_push(L, err);
  }
  p->masks[fd] = (unsigned char)(events ? events | flags : 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, p->objects);
  if (events)
    lua_pushvalue(L, idx);
  else
    lua_pushnil(L);
  lua_rawseti(L, -2, fd);
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  return 1;
}

/* p:add(s, events) -> true | nil, msg, code; adding again changes the
 * events. */
static int poll_add(lua_State *L) {
  hl_poller *p = check_poller(L);
  int flags, fd = check_target(L, 2, &flags);
  int events = check_events(L, 3);
  return set_events(L, hl_ctx_get(L), p, 2, fd, events, flags, 0);
}

/* p:modify(s, events) -> true | nil, msg, "ENOENT" if s was not added. */
static int poll_modify(lua_State *L) {
  hl_poller *p = check_poller(L);
  int flags, fd = check_target(L, 2, &flags);
  int events = check_events(L, 3);
  if (fd >= p->nmasks || p->masks[fd] == 0) return hl_error_push(L, ENOENT);
  return set_events(L, hl_ctx_get(L), p, 2, fd, events, flags, 0);
}

/* p:remove(s) -> true. A closed socket has already left every poller. */
static int poll_remove(lua_State *L) {
  hl_poller *p = check_poller(L);
  int flags, fd;
  hl_socket *s = hl_socket_test(L, 2);
  if (s != NULL && s->fd < 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  fd = check_target(L, 2, &flags);
  return set_events(L, hl_ctx_get(L), p, 2, fd, 0, flags, 0);
}

/* p:forget(s) -> true: remove for a socket about to be closed, without a
 * system call where closing removes it anyway (epoll). */
static int poll_forget(lua_State *L) {
  hl_poller *p = check_poller(L);
  int flags, fd = check_target(L, 2, &flags);
  if (fd >= p->nmasks || p->masks[fd] == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return set_events(L, hl_ctx_get(L), p, 2, fd, 0, flags, 1);
}

/* The iterator p:wait returns: yields s, events per ready descriptor. */
static int poll_next(lua_State *L) {
  hl_poller *p = to_poller(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, p->objects);
  while (p->cursor < p->nready) {
    const hl_ready *r = &p->ready[p->cursor++];
    if (r->events == 0) continue;
    lua_rawgeti(L, -1, r->fd);
    if (lua_isnil(L, -1)) {   /* collected, or removed meanwhile */
      lua_pop(L, 1);
      continue;
    }
    if ((r->events & HL_POLL_R) && (p->masks[r->fd] & HL_POLL_SOCKET)) {
      hl_socket *s = (hl_socket *)lua_touserdata(L, -1);
      if (s != NULL) s->flags &= ~HL_DRAINED;
    }
    lua_pushstring(L, event_names[r->events - 1]);
    return 2;
  }
  return 0;
}

static int to_ms(double seconds) {
  if (seconds < 0) return -1;
  return seconds * 1e3 >= INT_MAX ? INT_MAX : (int)ceil(seconds * 1e3);
}

/* One wait of the backend's into p->ready, traced. -> count, -errno */
static int wait_once(const hl_ctx *ctx, hl_poller *p, int ms) {
  double t0;
  int n;
  if (p->nready == p->readycap && p->readycap < HL_READY_MAX &&
      hl_poll_reserve(p, p->readycap * 2) != 0)
    return -ENOMEM;
  p->nready = p->cursor = p->primed = 0;
  t0 = hl_trace_start(ctx);
  n = p->backend->wait(p, ms);
  if (t0) hl_trace_end(t0, p->fd >= 0 ? "epoll_wait" : "poll", p->fd,
                       n < 0 ? -1 : n, hl_error_name(-n), "%d ms", ms);
  p->nready = n < 0 ? 0 : n;
  return n;
}

int hl_poll_prime(const hl_ctx *ctx, hl_poller *p, double seconds) {
  double deadline = seconds > 0 ? hl_monotime() + seconds : 0;
  int n;
  while ((n = wait_once(ctx, p, to_ms(seconds))) == -EINTR) {
    if (seconds > 0 && (seconds = deadline - hl_monotime()) < 0) seconds = 0;
  }
  if (n > 0) p->primed = 1;
  return n;
}

/* p:wait([seconds]) -> iterator, p. nil waits until something is ready;
 * a signal ends the wait early with nothing ready. Right after
 * hl_poll_prime, wait(0) hands out what that found. */
static int poll_wait(lua_State *L) {
  hl_poller *p = check_poller(L);
  double timeout = hl_checkseconds(L, 2);
  int n;
  if (p->primed && timeout == 0) {
    p->primed = p->cursor = 0;
  } else {
    n = wait_once(hl_ctx_get(L), p, to_ms(timeout));
    if (n < 0 && n != -EINTR)
      return luaL_error(L, "%s failed: %s", p->backend->name, strerror(-n));
  }
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  return 2;
}

static int poll_backend(lua_State *L) {
  lua_pushstring(L, check_poller(L)->backend->name);
  return 1;
}

static int poll_fileno(lua_State *L) {
  lua_pushinteger(L, check_poller(L)->fd);
  return 1;
}

static void close_poller(lua_State *L, hl_poller *p) {
  if (p->backend == NULL) return;
  p->backend->done(p);
  p->backend = NULL;
  free(p->masks);
  free(p->ready);
  p->masks = NULL;
  p->ready = NULL;
  p->nmasks = p->nready = p->readycap = 0;
  luaL_unref(L, LUA_REGISTRYINDEX, p->objects);
  p->objects = LUA_NOREF;
}

static int poll_close(lua_State *L) {
  close_poller(L, to_poller(L));
  lua_pushboolean(L, 1);
  return 1;
}

static int poll__tostring(lua_State *L) {
  hl_poller *p = to_poller(L);
  if (p->backend == NULL)
    lua_pushliteral(L, "hotline.poller (closed)");
  else
    lua_pushfstring(L, "hotline.poller (%s)", p->backend->name);
  return 1;
}

static const hl_poll_backend *const backends[] = {
#ifdef HL_HAVE_EPOLL
  &hl_poll_epoll,
#endif
  &hl_poll_poll,
  NULL
};

/* hotline.poller([backend]) -> poller | nil, msg, code. backend is
 * "epoll" or "poll"; the default is the best this system has. */
static int lib_poller(lua_State *L) {
  const char *want = luaL_optstring(L, 1, backends[0]->name);
  const hl_poll_backend *const *b;
  hl_poller *p;
  int err;
  for (b = backends; *b != NULL && strcmp((*b)->name, want) != 0; b++) {}
  if (*b == NULL) luaL_argerror(L, 1, "no such poller backend here");
  p = (hl_poller *)hl_newuserdata(L, sizeof *p);
  memset(p, 0, sizeof *p);
  p->tag = hl_poller_tag;
  p->fd = -1;
  p->objects = LUA_NOREF;
  if ((err = (*b)->init(p)) != 0) return hl_error_push(L, err);
  p->backend = *b;
  luaL_getmetatable(L, HL_POLLER_MT);
  lua_setmetatable(L, -2);
  lua_newtable(L);                      /* fd -> object, weak values */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  p->objects = luaL_ref(L, LUA_REGISTRYINDEX);
  if (hl_poll_reserve(p, HL_READY_MIN) != 0) return hl_error_push(L, ENOMEM);
  return 1;
}

static const luaL_Reg poll_methods[] = {
  {"add", poll_add},
  {"modify", poll_modify},
  {"remove", poll_remove},
  {"forget", poll_forget},
  {"wait", poll_wait},
  {"backend", poll_backend},
  {"fileno", poll_fileno},
  {"close", poll_close},
  {NULL, NULL}
};

static const luaL_Reg poll_meta[] = {
  {"__gc", poll_close},
  {"__tostring", poll__tostring},
  {NULL, NULL}
};

static const luaL_Reg poll_funcs[] = {
  {"poller", lib_poller},
  {NULL, NULL}
};

/* Expects the module table at -2 and the context at -1. The methods get
 * a second upvalue, the iterator, made once so wait allocates nothing. */
void hl_poll_open(lua_State *L) {
  hl_register(L, poll_funcs);
  luaL_newmetatable(L, HL_POLLER_MT);
  lua_pushvalue(L, -2);
  hl_register(L, poll_meta);
  lua_newtable(L);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, poll_next, 1);     /* it too needs the context */
  hl_setfuncs(L, poll_methods, 2);
  lua_setfield(L, -3, "__index");
  lua_pop(L, 2);
}
