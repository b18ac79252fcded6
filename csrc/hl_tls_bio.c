/* hl_tls_bio.c: the BIO through which a connection's SSL reaches its
 * descriptor: send with MSG_NOSIGNAL (no SIGPIPE on any record, alert or
 * close_notify), recv noting the end of the stream and short reads, and
 * both traced. Out of hl_tls.c, which keeps the connection logic.
 * SPDX-License-Identifier: MIT */
#include "hl_tls.h"

#ifndef HL_NO_TLS
#include <errno.h>
#include <sys/socket.h>

#include "hl_error.h"

#ifdef MSG_NOSIGNAL
#define HL_SEND_FLAGS MSG_NOSIGNAL   /* elsewhere SO_NOSIGPIPE is set */
#else
#define HL_SEND_FLAGS 0
#endif

/* One send or recv on the connection's descriptor, retried on EINTR and
 * traced -> its result. The BIO is told to retry on EAGAIN; any other
 * failure is kept for the error report. */
static ssize_t transfer(BIO *b, int sending, char *p, int len) {
  hl_tls *t = (hl_tls *)BIO_get_data(b);
  double t0;
  ssize_t n;
  int err;
  BIO_clear_retry_flags(b);
  do {
    t0 = hl_trace_start(t->ctx);
    n = sending ? send(t->fd, p, (size_t)len, HL_SEND_FLAGS)
                : recv(t->fd, p, (size_t)len, 0);
    err = errno;
    if (t0) hl_trace_end(t0, sending ? "send" : "recv", t->fd, (long)n,
                         hl_error_name(err), "%d, tls record", len);
  } while (n < 0 && err == EINTR);
  if (n < 0) {
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (sending)
        BIO_set_retry_write(b);
      else
        BIO_set_retry_read(b);
    } else {
      t->syserr = err;
    }
    errno = err;
  }
  return n;
}

static int bio_write(BIO *b, const char *p, int len) {
  ssize_t n = transfer(b, 1, (char *)p, len);
  return n < 0 ? -1 : (int)n;
}

static int bio_read(BIO *b, char *p, int len) {
  hl_tls *t = (hl_tls *)BIO_get_data(b);
  ssize_t n = transfer(b, 0, p, len);
  if (n < 0) return -1;
  if (n == 0) t->eof = 1;
  t->drained = n < len;
  return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  hl_tls *t = (hl_tls *)BIO_get_data(b);
  (void)num;
  (void)ptr;
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_EOF: return t != NULL && t->eof;
    default: return 0;
  }
}

/* The BIO_METHOD lives in a userdata of each Lua state that loads the
 * module, freed by its finalizer: no process-wide allocation, and made
 * before any socket, it is finalized after them at lua_close. */
typedef struct hl_tls_bio {
  BIO_METHOD *method;
} hl_tls_bio;

static int bio__gc(lua_State *L) {
  hl_tls_bio *b = (hl_tls_bio *)lua_touserdata(L, 1);
  BIO_meth_free(b->method);
  b->method = NULL;
  return 0;
}

static BIO_METHOD *bio_new_method(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                               "hotline socket");
  if (m == NULL) return NULL;
  BIO_meth_set_write(m, bio_write);
  BIO_meth_set_read(m, bio_read);
  BIO_meth_set_ctrl(m, bio_ctrl);
  return m;
}

/* Makes this state's BIO_METHOD (ctx->tls_bio, NULL if OpenSSL had no
 * memory: connections then fail) in a userdata the registry keeps. */
void hl_tls_bio_open(lua_State *L, hl_ctx *ctx) {
  hl_tls_bio *b = (hl_tls_bio *)hl_newuserdata(L, sizeof *b);
  b->method = NULL;
  lua_newtable(L);
  lua_pushcfunction(L, bio__gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  b->method = bio_new_method();
  ctx->tls_bio = b->method;
  luaL_ref(L, LUA_REGISTRYINDEX);   /* alive as long as the state */
}
#else
typedef int hl_tls_bio_unused;   /* ISO C wants something here */
#endif
