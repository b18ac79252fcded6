/* hl_io.c: the data transfer primitives (see hl_io.h).
 * read and recv share the socket's receive buffer (hl_rbuf.h): recv hands
 * out buffered bytes first, and a read that cannot finish keeps what it
 * has for the next call. A read with several formats is all or nothing:
 * it consumes bytes only when every format can be answered, so the Lua
 * layer can simply call it again after waiting.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "hl_addr.h"
#include "hl_error.h"
#include "hl_io.h"
#include "hl_socket.h"
#include "hl_tls.h"

#ifdef MSG_NOSIGNAL
#define HL_SEND_FLAGS MSG_NOSIGNAL   /* elsewhere SO_NOSIGPIPE is set */
#else
#define HL_SEND_FLAGS 0
#endif

#define HL_READ_CHUNK 16384
#define HL_MAX_FORMATS 32
#define HL_MAX_IOV 64

typedef struct hl_format {
  char kind;        /* 'n' a count, 'l' a line, 'L' a line kept whole, 'a' */
  size_t count;
} hl_format;

typedef struct hl_span {
  size_t at, len;
  int found;        /* 0: the format gets nil (the stream ended) */
} hl_span;

static int is_wouldblock(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

/* A short read means the kernel had nothing more: skip the recv that
 * would only say EAGAIN and wait first. Only when a wait follows, that is
 * unless the timeout is 0; every wait clears the hint. */
static int known_drained(const hl_socket *s) {
  return (s->flags & HL_DRAINED) && s->timeout != 0;
}

static ssize_t traced_recv(const hl_ctx *ctx, hl_socket *s, char *p,
                           size_t len, int *err) {
  ssize_t n;
  double t0;
  do {
    t0 = hl_trace_start(ctx);
    n = recv(s->fd, p, len, 0);
    *err = errno;
    if (t0) hl_trace_end(t0, "recv", s->fd, (long)n, hl_error_name(*err),
                         "%lu", (unsigned long)len);
  } while (n < 0 && *err == EINTR);
  if (n < 0 && is_wouldblock(*err)) {
    *err = EAGAIN;
    s->flags &= ~HL_DRAINED;
  } else if (n > 0 && s->socktype == SOCK_STREAM) {
    if ((size_t)n < len)
      s->flags |= HL_DRAINED;
    else
      s->flags &= ~HL_DRAINED;
  } else if (n == 0 && s->socktype == SOCK_STREAM) {
    s->flags |= HL_EOF;
  }
  return n;
}

/* Receives into the buffer, room for at least want bytes. Returns 0 when
 * bytes (or the end of the stream) arrived, or an errno, EAGAIN included;
 * bytes already buffered stay whatever happens. */
static int fill(const hl_ctx *ctx, hl_socket *s, size_t want) {
  size_t room;
  char *p;
  ssize_t n;
  int err;
  if (known_drained(s)) return EAGAIN;
  if (s->tls != NULL) return hl_tls_fill(ctx, s, want);
  p = hl_rbuf_reserve(&s->rbuf, want, &room);
  if (p == NULL) return ENOMEM;
  n = traced_recv(ctx, s, p, room, &err);
  if (n > 0) hl_rbuf_commit(s->rbuf, (size_t)n);
  if (hl_rbuf_len(s->rbuf) == 0) hl_rbuf_free(&s->rbuf);
  return n < 0 ? err : 0;
}

static void check_formats(lua_State *L, hl_format *fmts, int nfmt) {
  int i;
  for (i = 0; i < nfmt; i++) {
    int arg = i + 2;
    if (lua_isnil(L, arg)) {              /* read(nil): a line */
      fmts[i].kind = 'l';
      fmts[i].count = 0;
    } else if (lua_type(L, arg) == LUA_TNUMBER) {
      fmts[i].kind = 'n';
      fmts[i].count = hl_checksize(L, arg, (size_t)-1 / 4);
    } else {
      const char *f = luaL_checkstring(L, arg);
      if (*f == '*') f++;   /* "*l" and friends, as Lua 5.1 and LuaSocket */
      if (*f != 'l' && *f != 'L' && *f != 'a')
        luaL_argerror(L, arg, "invalid format");
      fmts[i].kind = *f;
      fmts[i].count = 0;
    }
  }
}

/* Finds where each format's answer lies in the buffer. Returns 0 when
 * all can be answered now, EAGAIN when more bytes are needed (*want of
 * them at least), EMSGSIZE for a line longer than the socket's maxline. */
static int plan(hl_socket *s, const hl_format *fmts, int nfmt,
                hl_span *spans, size_t *want) {
  size_t pos = 0, avail = hl_rbuf_len(s->rbuf), len;
  int eof = (s->flags & HL_EOF) != 0, i, found;
  for (i = 0; i < nfmt; i++) {
    hl_span *sp = &spans[i];
    sp->at = pos;
    sp->found = 1;
    switch (fmts[i].kind) {
      case 'n':
        /* read(0) tests for the end, as in liolib: it needs one byte */
        if (avail - pos >= fmts[i].count && avail - pos > 0) {
          sp->len = fmts[i].count;
        } else if (eof) {
          sp->len = avail - pos < fmts[i].count ? avail - pos : fmts[i].count;
          sp->found = sp->len > 0 || avail > pos;
        } else {
          *want = fmts[i].count - (avail - pos);
          return EAGAIN;
        }
        break;
      case 'a':
        if (!eof) {
          *want = HL_READ_CHUNK;
          return EAGAIN;
        }
        sp->len = avail - pos;
        break;
      default:
        found = hl_rbuf_line(s->rbuf, pos, s->maxline, &len);
        if (found == HL_LINE_TOOLONG) return EMSGSIZE;
        if (found == HL_LINE_FOUND) {
          sp->len = len;
        } else if (eof) {
          sp->len = avail - pos;
          sp->found = sp->len > 0;
        } else {
          *want = HL_READ_CHUNK;
          return EAGAIN;
        }
    }
    pos += sp->len;
    if (!sp->found) return 0;
  }
  return 0;
}

static void push_span(lua_State *L, const hl_socket *s, char kind,
                      const hl_span *sp) {
  const char *p = hl_rbuf_len(s->rbuf) ? hl_rbuf_bytes(s->rbuf) + sp->at : "";
  size_t len = sp->len;
  if (kind == 'l' && len > 0 && p[len - 1] == '\n') {
    len--;
    if (len > 0 && p[len - 1] == '\r') len--;   /* network lines end \r\n */
  }
  lua_pushlstring(L, p, len);
}

/* s:read(...) primitive, formats as file:read: a count, "l", "L", "a".
 * -> one value per format | nil, "closed" at the end of the stream |
 * nil, "wantread" | nil, msg, code. "l" drops the line end ("\n" or
 * "\r\n"); a line longer than maxline fails with "line too long". */
static int sock_read(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_format fmts[HL_MAX_FORMATS];
  hl_span spans[HL_MAX_FORMATS];
  int nfmt = lua_gettop(L) - 1, i, err;
  size_t want, consumed;
  while (nfmt > 0 && lua_isnil(L, nfmt + 1)) nfmt--;   /* trailing nils */
  luaL_argcheck(L, nfmt <= HL_MAX_FORMATS, HL_MAX_FORMATS + 2,
                "too many formats");
  if (nfmt == 0) {
    fmts[0].kind = 'l';
    fmts[0].count = 0;
    nfmt = 1;
  } else {
    check_formats(L, fmts, nfmt);
  }
  spans[0].found = 0;
  for (;;) {
    err = plan(s, fmts, nfmt, spans, &want);
    if (err == EMSGSIZE) return hl_error_pushmsg(L, "line too long", "EMSGSIZE");
    if (err == 0) break;
    if (want < HL_READ_CHUNK) want = HL_READ_CHUNK;
    if (want > HL_RECV_MAX * 4) want = HL_RECV_MAX * 4;
    err = fill(ctx, s, want);
    if (err == EAGAIN) return hl_error_want(L, HL_WANTREAD, s->timeout);
    if (err != 0) return hl_tls_pusherror(L, s, err);
  }
  if (!spans[0].found) return hl_error_closed(L);
  luaL_checkstack(L, nfmt, "too many results");
  consumed = 0;
  for (i = 0; i < nfmt; i++) {
    if (!spans[i].found) {
      lua_pushnil(L);
      i++;
      break;
    }
    push_span(L, s, fmts[i].kind, &spans[i]);
    consumed = spans[i].at + spans[i].len;
  }
  hl_rbuf_consume(&s->rbuf, consumed);
  return i;
}

/* s:recv([n]) primitive -> up to n bytes (default and most 65536) as soon
 * as any are there, buffered bytes first | nil, "closed" |
 * nil, "wantread" | nil, msg, code. */
static int sock_recv(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  size_t want = hl_optsize(L, 2, HL_RECV_MAX, (size_t)-1 / 4);
  size_t have = hl_rbuf_len(s->rbuf);
  char buf[HL_RECV_MAX];
  ssize_t n;
  int err;
  if (have > 0) {
    if (want > have) want = have;
    lua_pushlstring(L, hl_rbuf_bytes(s->rbuf), want);
    hl_rbuf_consume(&s->rbuf, want);
    return 1;
  }
  if (s->flags & HL_EOF) return hl_error_closed(L);
  if (want == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  if (known_drained(s)) return hl_error_want(L, HL_WANTREAD, s->timeout);
  if (want > sizeof buf) want = sizeof buf;
  n = s->tls == NULL ? traced_recv(ctx, s, buf, want, &err)
                     : hl_tls_recv(ctx, s, buf, want, &err);
  if (n < 0)
    return err == EAGAIN ? hl_error_want(L, HL_WANTREAD, s->timeout)
                         : hl_tls_pusherror(L, s, err);
  if (n == 0 && s->socktype == SOCK_STREAM) return hl_error_closed(L);
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* Gathers the arguments from first on, skipping the first skip bytes
 * (already sent by an earlier call), into at most HL_MAX_IOV pieces.
 * Returns how many pieces; *left says how many bytes they hold. */
static int gather(lua_State *L, int first, size_t skip, struct iovec *iov,
                  size_t *left) {
  int top = lua_gettop(L), arg, n = 0;
  *left = 0;
  for (arg = first; arg <= top && n < HL_MAX_IOV; arg++) {
    size_t len;
    const char *p = luaL_checklstring(L, arg, &len);
    if (skip >= len) {
      skip -= len;
      continue;
    }
    iov[n].iov_base = (void *)(p + skip);
    iov[n].iov_len = len - skip;
    *left += len - skip;
    skip = 0;
    n++;
  }
  return n;
}

static ssize_t send_pieces(const hl_ctx *ctx, hl_socket *s,
                           struct iovec *iov, int n, size_t left, int *err) {
  struct msghdr msg;
  ssize_t sent;
  double t0;
  if (s->tls != NULL) return hl_tls_sendv(ctx, s, iov, n, left, err);
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  do {
    t0 = hl_trace_start(ctx);
    sent = n == 1 ? send(s->fd, iov[0].iov_base, iov[0].iov_len, HL_SEND_FLAGS)
                  : sendmsg(s->fd, &msg, HL_SEND_FLAGS);
    *err = errno;
    if (t0) hl_trace_end(t0, n == 1 ? "send" : "sendmsg", s->fd, (long)sent,
                         hl_error_name(*err), "%lu", (unsigned long)left);
  } while (sent < 0 && *err == EINTR);
  if (sent < 0 && is_wouldblock(*err)) *err = EAGAIN;
  return sent;
}

/* Sends every argument from index first on, after skipping skip bytes.
 * -> the socket | nil, "wantwrite", timeout, sent | nil, msg, code, sent,
 * where sent counts the bytes of all the arguments that went out,
 * skip included: the number to pass as skip next time. */
static int write_args(lua_State *L, int first, size_t skip) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  struct iovec iov[HL_MAX_IOV];
  size_t left;
  ssize_t sent;
  int n, err;
  for (;;) {
    n = gather(L, first, skip, iov, &left);
    if (n == 0) {
      lua_settop(L, 1);
      return 1;
    }
    sent = send_pieces(ctx, s, iov, n, left, &err);
    if (sent < 0) {
      if (err == EAGAIN)
        hl_error_want(L, HL_WANTWRITE, s->timeout);
      else
        hl_tls_pusherror(L, s, err);
      lua_pushinteger(L, (lua_Integer)skip);
      return 4;
    }
    skip += (size_t)sent;
    /* short: the send buffer is full; wait rather than meet EAGAIN */
    if ((size_t)sent < left && s->timeout != 0 && s->socktype == SOCK_STREAM
        && s->tls == NULL) {   /* (TLS: a record may be all one send took) */
      hl_error_want(L, HL_WANTWRITE, s->timeout);
      lua_pushinteger(L, (lua_Integer)skip);
      return 4;
    }
  }
}

/* s:write(...) primitive: strings and numbers, as file:write. */
static int sock_write(lua_State *L) {
  return write_args(L, 2, 0);
}

/* hotline.core.write_from(s, skip, ...): write resumed after skip bytes,
 * for the Lua layer's retry after "wantwrite". */
static int lib_write_from(lua_State *L) {
  size_t skip = hl_checksize(L, 2, (size_t)-1 / 4);
  lua_remove(L, 2);
  return write_args(L, 2, skip);
}

/* Translates string.sub-style i, j at arg, arg + 1 into *at and *len. */
static void check_range(lua_State *L, int arg, size_t size, size_t *at,
                        size_t *len) {
  lua_Number i = luaL_optnumber(L, arg, 1), j = luaL_optnumber(L, arg + 1, -1);
  lua_Number n = (lua_Number)size;
  luaL_argcheck(L, i == i, arg, "number expected, got nan");
  luaL_argcheck(L, j == j, arg + 1, "number expected, got nan");
  if (i < 0) i = n + i + 1;
  if (j < 0) j = n + j + 1;
  if (i < 1) i = 1;
  if (j > n) j = n;
  if (i > j) {
    *at = *len = 0;
    return;
  }
  *at = (size_t)i - 1;
  *len = (size_t)(j - i) + 1;
}

/* s:send(data [, i [, j]]) primitive: one send of data:sub(i, j).
 * -> bytes sent | nil, "wantwrite" | nil, msg, code */
static int sock_send(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  size_t size, at, len;
  const char *data = luaL_checklstring(L, 2, &size);
  struct iovec iov;
  ssize_t sent;
  int err;
  check_range(L, 3, size, &at, &len);
  iov.iov_base = (void *)(data + at);
  iov.iov_len = len;
  sent = send_pieces(ctx, s, &iov, 1, len, &err);
  if (sent < 0)
    return err == EAGAIN ? hl_error_want(L, HL_WANTWRITE, s->timeout)
                         : hl_tls_pusherror(L, s, err);
  lua_pushinteger(L, (lua_Integer)sent);
  return 1;
}

/* s:recvfrom([n]) primitive -> data, host, port (data, path for unix) |
 * nil, "wantread" | nil, msg, code. One datagram, cut to n bytes. */
static int sock_recvfrom(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  size_t want = hl_optsize(L, 2, HL_RECV_MAX, (size_t)-1 / 4);
  char buf[HL_RECV_MAX];
  hl_sockaddr from;
  ssize_t n;
  double t0;
  int err;
  luaL_argcheck(L, s->tls == NULL, 1, "recvfrom would bypass TLS");
  if (want > sizeof buf) want = sizeof buf;
  do {
    from.len = sizeof from.ss;
    memset(&from.ss, 0, sizeof from.ss);
    t0 = hl_trace_start(ctx);
    n = recvfrom(s->fd, buf, want, 0, (struct sockaddr *)&from.ss, &from.len);
    err = errno;
    if (t0) hl_trace_end(t0, "recvfrom", s->fd, (long)n, hl_error_name(err),
                         "%lu", (unsigned long)want);
  } while (n < 0 && err == EINTR);
  if (n < 0)
    return is_wouldblock(err) ? hl_error_want(L, HL_WANTREAD, s->timeout)
                              : hl_error_push(L, err);
  lua_pushlstring(L, buf, (size_t)n);
  from.ss.ss_family = s->family;   /* unnamed unix senders leave it 0 */
  return 1 + hl_addr_push(L, (struct sockaddr *)&from.ss, from.len);
}

/* s:sendto(data, host, port) or s:sendto(data, path) primitive
 * -> bytes sent | nil, "wantwrite" | nil, msg, code */
static int sock_sendto(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  hl_sockaddr to;
  char text[128];
  ssize_t sent;
  double t0;
  int err;
  luaL_argcheck(L, s->tls == NULL, 1, "sendto would bypass TLS");
  if (hl_addr_check(L, ctx, 3, s->family, s->socktype, 0, &to) != 0) return 3;
  do {
    t0 = hl_trace_start(ctx);
    sent = sendto(s->fd, data, len, HL_SEND_FLAGS, (struct sockaddr *)&to.ss,
                  to.len);
    err = errno;
    if (t0) {
      hl_addr_format(text, sizeof text, (struct sockaddr *)&to.ss, to.len);
      hl_trace_end(t0, "sendto", s->fd, (long)sent, hl_error_name(err),
                   "%lu, %s", (unsigned long)len, text);
    }
  } while (sent < 0 && err == EINTR);
  if (sent < 0)
    return is_wouldblock(err) ? hl_error_want(L, HL_WANTWRITE, s->timeout)
                              : hl_error_push(L, err);
  lua_pushinteger(L, (lua_Integer)sent);
  return 1;
}

const luaL_Reg hl_io_methods[] = {
  {"read", sock_read},
  {"write", sock_write},
  {"recv", sock_recv},
  {"send", sock_send},
  {"recvfrom", sock_recvfrom},
  {"sendto", sock_sendto},
  {NULL, NULL}
};

static const luaL_Reg io_funcs[] = {
  {"write_from", lib_write_from},
  {NULL, NULL}
};

void hl_io_open(lua_State *L) {
  hl_register(L, io_funcs);
}
