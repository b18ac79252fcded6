/* hl_query.c: one lookup on a c-ares channel of its own (see hl_query.h).
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hl_error.h"
#include "hl_query.h"
#include "hl_socket.h"

static const char hl_query_tag[] = HL_QUERY_MT;

static hl_query *check_query(lua_State *L, int idx) {
  hl_query *q = (hl_query *)hl_tagged(L, idx, hl_query_tag, sizeof *q);
  if (q == NULL) hl_typeerror(L, idx, HL_QUERY_MT);
  return q;
}

/* c-ares' status as getaddrinfo's EAI_* code, so that both resolvers
 * fail with the same codes. */
static int gai_code(int status) {
  switch (status) {
    case ARES_ENOTFOUND: case ARES_ENODATA: case ARES_EBADNAME:
    case ARES_ENONAME:
      return EAI_NONAME;
    case ARES_ETIMEOUT: case ARES_ECONNREFUSED: case ARES_ESERVFAIL:
      return EAI_AGAIN;
    case ARES_ENOMEM: return EAI_MEMORY;
    case ARES_ESERVICE: return EAI_SERVICE;
    case ARES_EBADFAMILY: return EAI_FAMILY;
    default: return EAI_FAIL;
  }
}

int hl_query_pushstatus(lua_State *L, int status) {
  return hl_error_pushgai(L, gai_code(status), 0);
}

static const char *gai_name(int status) {
  switch (gai_code(status)) {
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_AGAIN: return "EAI_AGAIN";
    default: return "EAI_FAIL";
  }
}

/* c-ares' sockets ------------------------------------------------------ */

/* hotline opens c-ares' sockets itself: non-blocking and close-on-exec in
 * one call, no SIGPIPE, and a UDP send that would block is tried again
 * (c-ares 1.18 gives the server up instead, "FIXME: Handle EAGAIN"). */
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
#define HL_QUERY_SOCK_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)
#else
#define HL_QUERY_SOCK_FLAGS 0
#endif
#ifdef MSG_NOSIGNAL
#define HL_QUERY_SEND_FLAGS MSG_NOSIGNAL
#else
#define HL_QUERY_SEND_FLAGS 0
#endif

static ares_socket_t cares_socket(int af, int type, int protocol, void *ud) {
  int fd = socket(af, type | HL_QUERY_SOCK_FLAGS, protocol), on = 1;
  (void)ud;
  if (fd < 0) return ARES_SOCKET_BAD;
  if (HL_QUERY_SOCK_FLAGS == 0 && hl_socket_setflags(fd) != 0) {
    close(fd);
    return ARES_SOCKET_BAD;
  }
#ifdef SO_NOSIGPIPE
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
  if (type == SOCK_STREAM)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return fd;
}

static int cares_close(ares_socket_t fd, void *ud) {
  (void)ud;
  return close(fd);
}

static int cares_connect(ares_socket_t fd, const struct sockaddr *addr,
                         ares_socklen_t len, void *ud) {
  (void)ud;
  return connect(fd, addr, len);
}

static ares_ssize_t cares_recvfrom(ares_socket_t fd, void *buf, size_t len,
                                   int flags, struct sockaddr *from,
                                   ares_socklen_t *fromlen, void *ud) {
  ssize_t n;
  (void)ud;
  do n = recvfrom(fd, buf, len, flags, from, fromlen);
  while (n < 0 && errno == EINTR);
  return n;
}

static ares_ssize_t cares_sendv(ares_socket_t fd, const struct iovec *iov,
                                int iovcnt, void *ud) {
  struct msghdr msg;
  ssize_t n;
  int again = 0;
  (void)ud;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = (struct iovec *)iov;
  msg.msg_iovlen = (size_t)iovcnt;
  do n = sendmsg(fd, &msg, HL_QUERY_SEND_FLAGS);
  while (n < 0 && (errno == EINTR ||
                   ((errno == EAGAIN || errno == EWOULDBLOCK) && ++again < 4)));
  return n;
}

static const struct ares_socket_functions cares_functions = {
  cares_socket, cares_close, cares_connect, cares_recvfrom, cares_sendv
};

/* Queries -------------------------------------------------------------- */

/* c-ares opens and closes its sockets itself; before it closes one it
 * says (readable 0, writable 0). */
static void on_sock_state(void *data, ares_socket_t fd, int readable,
                          int writable) {
  hl_query *q = (hl_query *)data;
  int *grown;
  if (readable || writable) return;
  if (q->nclosed == q->capclosed) {
    grown = (int *)realloc(q->closed, (size_t)(q->capclosed * 2 + 4) *
                                          sizeof *grown);
    if (grown == NULL) return;
    q->closed = grown;
    q->capclosed = q->capclosed * 2 + 4;
  }
  q->closed[q->nclosed++] = (int)fd;
}

static void trace_attempt(hl_query *q, int status, int count) {
  const char *call = q->kind == HL_Q_ADDRINFO ? "ares_getaddrinfo"
                                           : "ares_getnameinfo";
  if (!q->trace) return;
  if (status == ARES_SUCCESS)
    hl_trace_end(q->t0, call, -1, count, "", "%s, %d", q->host, q->port);
  else
    hl_trace_end(q->t0, call, -1, -1,
                 status == ARES_EDESTRUCTION ? "ECANCELED" : gai_name(status),
                 "%s, %d", q->host, q->port);
}

/* An attempt that timed out leaves the query to start the next one, once
 * c-ares has returned (not from inside its callback). */
static int attempt_over(hl_query *q, int status) {
  if (status == ARES_ETIMEOUT && q->left > 1 && q->ch != NULL) {
    trace_attempt(q, status, 0);
    q->left--;
    q->again = 1;
    return 0;
  }
  q->done = 1;
  q->status = status;
  return 1;
}

static void on_addrinfo(void *arg, int status, int timeouts,
                        struct ares_addrinfo *res) {
  hl_query *q = (hl_query *)arg;
  struct ares_addrinfo_node *node;
  int n = 0;
  (void)timeouts;
  if (!attempt_over(q, status)) {
    if (res) ares_freeaddrinfo(res);
    return;
  }
  q->ai = res;
  for (node = res ? res->nodes : NULL; node != NULL; node = node->ai_next) n++;
  trace_attempt(q, status, n);
}

static void on_nameinfo(void *arg, int status, int timeouts, char *node,
                        char *service) {
  hl_query *q = (hl_query *)arg;
  (void)timeouts;
  (void)service;
  if (!attempt_over(q, status)) return;
  if (status == ARES_SUCCESS && node != NULL) {
    q->name = (char *)malloc(strlen(node) + 1);
    if (q->name == NULL)
      q->status = ARES_ENOMEM;
    else
      strcpy(q->name, node);
  }
  trace_attempt(q, q->status, 1);
}

static void start(hl_query *q) {
  while (q->ch != NULL && !q->done) {
    q->again = 0;
    if (q->trace) q->t0 = hl_monotime();
    if (q->kind == HL_Q_ADDRINFO)
      ares_getaddrinfo(q->ch, q->host, NULL, &q->hints, on_addrinfo, q);
    else
      ares_getnameinfo(q->ch, (struct sockaddr *)&q->addr.ss, q->addr.len,
                       ARES_NI_LOOKUPHOST | ARES_NI_NAMEREQD, on_nameinfo, q);
    if (!q->again) break;
  }
}

static void cancel(hl_query *q) {
  if (q->ch == NULL) return;
  ares_destroy(q->ch);   /* calls back with ARES_EDESTRUCTION if pending */
  q->ch = NULL;
}

/* q:__gc(): cancels the lookup (ares_destroy calls back with
 * ARES_EDESTRUCTION while q is still valid, and closes the sockets; the
 * Lua side wraps this to release them) and frees the answer. Returns
 * nothing; safe to call twice. */
static int query__gc(lua_State *L) {
  hl_query *q = check_query(L, 1);
  cancel(q);
  if (q->ai) ares_freeaddrinfo(q->ai);
  free(q->name);
  free(q->closed);
  q->ai = NULL;
  q->name = NULL;
  q->closed = NULL;
  q->nclosed = q->capclosed = 0;
  return 0;
}

hl_query *hl_query_push(lua_State *L, const hl_ctx *ctx, const char *host,
                        int kind, int attempts) {
  size_t len = strlen(host);
  hl_query *q = (hl_query *)hl_newuserdata(L, sizeof *q + len);
  memset(q, 0, sizeof *q);
  q->tag = hl_query_tag;
  q->kind = kind;
  q->left = attempts;
  q->trace = ctx->trace;
  memcpy(q->host, host, len + 1);
  luaL_getmetatable(L, HL_QUERY_MT);
  lua_setmetatable(L, -2);
  return q;
}

int hl_query_channel(hl_query *q, const struct ares_options *opts,
                     int optmask, const struct ares_addr_port_node *servers) {
  struct ares_options o = *opts;
  int rc;
  o.sock_state_cb = on_sock_state;
  o.sock_state_cb_data = q;
  rc = ares_init_options(&q->ch, &o, optmask | ARES_OPT_SOCK_STATE_CB);
  if (rc != ARES_SUCCESS) {
    q->ch = NULL;
    return rc;
  }
  ares_set_socket_functions(q->ch, &cares_functions, q);
  if (servers != NULL) {
    rc = ares_set_servers_ports(q->ch, (struct ares_addr_port_node *)servers);
    if (rc != ARES_SUCCESS) cancel(q);
  }
  return rc;
}

/* q:start(): sends the question (a name from /etc/hosts is answered at
 * once). */
static int query_start(lua_State *L) {
  start(check_query(L, 1));
  return 0;
}

/* q:wants(list) -> n, seconds | nil: fills list with descriptor, want
 * pairs (n entries, the rest of list cleared) for loop.await_any, and
 * says how long c-ares may wait before q:process() must be called
 * without a descriptor (nil: no timer). n is 0 once the query is done. */
static int query_wants(lua_State *L) {
  hl_query *q = check_query(L, 1);
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  struct timeval tv, *tvp = NULL;
  unsigned bits = 0;   /* (c-ares' macros shift a signed 1 into the sign bit) */
  int i, n = 0, old;
  luaL_checktype(L, 2, LUA_TTABLE);
  old = (int)hl_rawlen(L, 2);
  if (q->ch != NULL && !q->done) {
    bits = (unsigned)ares_getsock(q->ch, socks, ARES_GETSOCK_MAXNUM);
    tvp = ares_timeout(q->ch, NULL, &tv);
  }
  for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
    if (bits & (1u << i)) {
      lua_pushinteger(L, socks[i]);
      lua_rawseti(L, 2, ++n);
      lua_pushliteral(L, HL_WANTREAD);
      lua_rawseti(L, 2, ++n);
    }
    if (bits & (1u << (i + ARES_GETSOCK_MAXNUM))) {
      lua_pushinteger(L, socks[i]);
      lua_rawseti(L, 2, ++n);
      lua_pushliteral(L, HL_WANTWRITE);
      lua_rawseti(L, 2, ++n);
    }
  }
  for (i = old; i > n; i--) {
    lua_pushnil(L);
    lua_rawseti(L, 2, i);
  }
  lua_pushinteger(L, n);
  if (tvp != NULL)
    lua_pushnumber(L, (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6);
  else
    lua_pushnil(L);
  return 2;
}

static const char *const want_names[] = {"wantread", "wantwrite", NULL};

/* q:process([fd, want]): lets c-ares read or write fd, which is ready,
 * and handle its timeouts (without fd: only those). */
static int query_process(lua_State *L) {
  hl_query *q = check_query(L, 1);
  ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
  if (!lua_isnoneornil(L, 2)) {
    int fd = (int)hl_checksize(L, 2, INT_MAX - 1);
    if (hl_checkoption(L, 3, NULL, want_names) == 0)
      rfd = fd;
    else
      wfd = fd;
  }
  if (q->ch != NULL && !q->done) {
    ares_process_fd(q->ch, rfd, wfd);
    if (q->again) start(q);
  }
  return 0;
}

/* q:result() -> false while under way; then true and the answer: a list
 * of addresses, or a name, or nil, message, "EAI_*". */
static int query_result(lua_State *L) {
  hl_query *q = check_query(L, 1);
  struct ares_addrinfo_node *node;
  unsigned short port = htons((unsigned short)q->port);
  int i = 0;
  lua_pushboolean(L, q->done && q->status != ARES_EDESTRUCTION);
  if (!lua_toboolean(L, -1)) return 1;
  if (q->status != ARES_SUCCESS) return 1 + hl_query_pushstatus(L, q->status);
  if (q->kind == HL_Q_NAMEINFO) {
    lua_pushstring(L, q->name);
    return 2;
  }
  lua_newtable(L);
  for (node = q->ai ? q->ai->nodes : NULL; node != NULL; node = node->ai_next) {
    if (node->ai_family == AF_INET)
      ((struct sockaddr_in *)node->ai_addr)->sin_port = port;
    else if (node->ai_family == AF_INET6)
      ((struct sockaddr_in6 *)node->ai_addr)->sin6_port = port;
    else
      continue;
    hl_addr_pushentry(L, node->ai_addr, node->ai_addrlen, q->hints.ai_socktype);
    lua_rawseti(L, -2, ++i);
  }
  return 2;
}

/* q:cancel(): ends the query and closes its sockets (then q:closed()). */
static int query_cancel(lua_State *L) {
  cancel(check_query(L, 1));
  return 0;
}

/* q:closed() -> fd, ...: the descriptors c-ares closed since the last
 * call, for loop.release. */
static int query_closed(lua_State *L) {
  hl_query *q = check_query(L, 1);
  int i, n = q->nclosed;
  luaL_checkstack(L, n, "too many descriptors");
  for (i = 0; i < n; i++) lua_pushinteger(L, q->closed[i]);
  q->nclosed = 0;
  return n;
}

static int query__tostring(lua_State *L) {
  hl_query *q = check_query(L, 1);
  lua_pushfstring(L, "hotline.query (%s%s)", q->host,
                  q->done ? ", done" : q->ch ? "" : ", cancelled");
  return 1;
}

static const luaL_Reg query_methods[] = {
  {"start", query_start},
  {"wants", query_wants},
  {"process", query_process},
  {"result", query_result},
  {"cancel", query_cancel},
  {"closed", query_closed},
  {NULL, NULL}
};

static const luaL_Reg query_meta[] = {
  {"__gc", query__gc},
  {"__tostring", query__tostring},
  {NULL, NULL}
};

/* Expects the module table at -2 and the context at -1. */
void hl_query_open(lua_State *L) {
  luaL_newmetatable(L, HL_QUERY_MT);
  lua_pushvalue(L, -2);
  hl_register(L, query_meta);
  lua_newtable(L);
  lua_pushvalue(L, -2);
  hl_register(L, query_methods);
  lua_pop(L, 1);
  lua_setfield(L, -3, "__index");
  lua_pop(L, 2);
}
