/* hl_tls.c: TLS connections (see hl_tls.h): attaching an SSL to a socket,
 * the handshake primitive, the reads and writes hl_io.c calls for a
 * socket with TLS, close_notify, and errors in OpenSSL's words (the BIO
 * is in hl_tls_bio.c, tlsinfo in hl_tls_info.c).
 * OpenSSL's error queue is cleared before each call, so what it holds
 * after a failure is about that call.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hl_error.h"
#include "hl_tls.h"

#ifndef HL_NO_TLS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Outcomes and errors ------------------------------------------------- */

/* Keeps why the connection failed, in OpenSSL's words, in t->msg. */
static void describe(hl_tls *t, const char *fallback) {
  unsigned long e = ERR_peek_error();
  const char *why = e ? ERR_reason_error_string(e) : NULL;
  long v = SSL_get_verify_result(t->ssl);
  if (e && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
      v != X509_V_OK)
    snprintf(t->msg, sizeof t->msg, "certificate verify failed: %s",
             X509_verify_cert_error_string(v));
  else
    snprintf(t->msg, sizeof t->msg, "%s", why ? why : fallback);
  ERR_clear_error();
}

static const char *ssl_error_name(int e) {
  switch (e) {
    case SSL_ERROR_WANT_READ: return "WANT_READ";
    case SSL_ERROR_WANT_WRITE: return "WANT_WRITE";
    case SSL_ERROR_ZERO_RETURN: return "ZERO_RETURN";
    case SSL_ERROR_SYSCALL: return "SYSCALL";
    case SSL_ERROR_SSL: return "SSL";
    default: return "OTHER";
  }
}

/* What an SSL call's result rc <= 0 means: EAGAIN (wants to read),
 * HL_TLS_EWANTWRITE, 0 for the end of the stream when eof_ok (a reader:
 * close_notify, or a peer that just closed), else a failure, which is
 * kept in t->fatal so that every later call answers the same. */
static int outcome(hl_tls *t, int rc, int eof_ok, const char *call,
                   double t0) {
  int e = SSL_get_error(t->ssl, rc), err;
  if (t0) hl_trace_end(t0, call, t->fd, -1, ssl_error_name(e), NULL);
  switch (e) {
    case SSL_ERROR_WANT_READ: return EAGAIN;
    case SSL_ERROR_WANT_WRITE: return HL_TLS_EWANTWRITE;
    case SSL_ERROR_ZERO_RETURN:
      if (eof_ok) return 0;
      break;
    case SSL_ERROR_SYSCALL:
      if (t->syserr != 0) {
        err = t->syserr;
        ERR_clear_error();
        return t->fatal = err;
      }
      if (eof_ok && t->eof) {
        ERR_clear_error();
        return 0;
      }
      break;
    case SSL_ERROR_SSL:
      if (eof_ok && ERR_GET_REASON(ERR_peek_error()) ==
          SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return 0;
      }
      break;
    default: break;
  }
  describe(t, t->eof ? "unexpected eof while reading" : "tls failure");
  return t->fatal = HL_TLS_EFAIL;
}

static void before_call(hl_tls *t) {
  ERR_clear_error();
  t->syserr = 0;
}

int hl_tls_pusherror(lua_State *L, hl_socket *s, int err) {
  if (err == HL_TLS_EWANTWRITE)
    return hl_error_want(L, HL_WANTWRITE, s->timeout);
  if (err == HL_TLS_EWANTREAD)
    return hl_error_want(L, HL_WANTREAD, s->timeout);
  if (err == HL_TLS_EFAIL) return hl_error_pushmsg(L, s->tls->msg, "ETLS");
  return hl_error_push(L, err);
}

/* Transfers ----------------------------------------------------------- */

int hl_tls_fill(const hl_ctx *ctx, hl_socket *s, size_t want) {
  hl_tls *t = s->tls;
  size_t room, total = 0;
  double t0;
  char *p;
  int n, err;
  if (t->fatal) return t->fatal;
  for (;;) {
    p = hl_rbuf_reserve(&s->rbuf, HL_TLS_CHUNK, &room);
    if (p == NULL) return ENOMEM;
    if (room > INT_MAX) room = INT_MAX;
    before_call(t);
    t0 = hl_trace_start(ctx);
    n = SSL_read(t->ssl, p, (int)room);
    if (n > 0) {
      if (t0) hl_trace_end(t0, "SSL_read", t->fd, n, NULL, "%lu",
                           (unsigned long)room);
      hl_rbuf_commit(s->rbuf, (size_t)n);
      total += (size_t)n;
      /* what OpenSSL holds (read ahead or decrypted) is invisible to
       * the poller: take it all before answering */
      if (total >= want && !SSL_has_pending(t->ssl)) {
        s->flags &= ~HL_DRAINED;
        return 0;
      }
      continue;
    }
    err = outcome(t, n, 1, "SSL_read", t0);
    if (hl_rbuf_len(s->rbuf) == 0) hl_rbuf_free(&s->rbuf);
    if (err == 0) {
      s->flags |= HL_EOF;
      return 0;
    }
    if (err == EAGAIN) {
      /* the kernel had no more: the next read waits first */
      if (total > 0) s->flags |= HL_DRAINED;
      else s->flags &= ~HL_DRAINED;
    }
    /* bytes that came first are answered now; a failure comes back next */
    return total > 0 ? 0 : err;
  }
}

ssize_t hl_tls_recv(const hl_ctx *ctx, hl_socket *s, char *p, size_t len,
                    int *err) {
  hl_tls *t = s->tls;
  double t0;
  int n;
  if (t->fatal) {
    *err = t->fatal;
    return -1;
  }
  before_call(t);
  t->drained = 0;
  t0 = hl_trace_start(ctx);
  n = SSL_read(t->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
  if (n > 0) {
    if (t0) hl_trace_end(t0, "SSL_read", t->fd, n, NULL, "%lu",
                         (unsigned long)len);
    if (SSL_has_pending(t->ssl)) {   /* where the poller can see it */
      (void)hl_tls_fill(ctx, s, 1);
    } else if (t->drained) {
      s->flags |= HL_DRAINED;        /* as a short recv: wait first */
    } else {
      s->flags &= ~HL_DRAINED;
    }
    return n;
  }
  *err = outcome(t, n, 1, "SSL_read", t0);
  if (*err == 0) {
    s->flags |= HL_EOF;
    return 0;
  }
  if (*err == EAGAIN) s->flags &= ~HL_DRAINED;
  return -1;
}

/* Keeps the first bytes of a write OpenSSL took into a record it could
 * not send yet (one record: HL_TLS_CHUNK at most). */
static void keep_pending(hl_tls *t, const char *p, size_t len) {
  if (len > HL_TLS_CHUNK) len = HL_TLS_CHUNK;
  if (t->pend == NULL) t->pend = (char *)malloc(HL_TLS_CHUNK);
  if (t->pend == NULL) return;   /* (no memory: unchecked, as before) */
  memcpy(t->pend, p, len);
  t->pend_len = len;
}

static void forget_pending(hl_tls *t) {
  free(t->pend);
  t->pend = NULL;
  t->pend_len = 0;
}

ssize_t hl_tls_sendv(const hl_ctx *ctx, hl_socket *s, const struct iovec *iov,
                     int n, size_t left, int *err) {
  hl_tls *t = s->tls;
  char buf[HL_TLS_CHUNK];
  const char *p = (const char *)iov[0].iov_base;
  size_t len = iov[0].iov_len, sent = 0, chunk;
  double t0;
  int i, rc;
  if (t->fatal) {
    *err = t->fatal;
    return -1;
  }
  if (n > 1 && len < sizeof buf) {   /* small pieces: one record */
    for (i = 0, len = 0; i < n && len < sizeof buf; i++) {
      chunk = iov[i].iov_len < sizeof buf - len ? iov[i].iov_len
                                                : sizeof buf - len;
      memcpy(buf + len, iov[i].iov_base, chunk);
      len += chunk;
    }
    p = buf;
  }
  (void)left;
  if (t->pend != NULL &&
      (len < t->pend_len || memcmp(p, t->pend, t->pend_len) != 0)) {
    snprintf(t->msg, sizeof t->msg, "%s", "a TLS write that waited must "
             "resume with the same bytes");
    *err = HL_TLS_EFAIL;
    return -1;
  }
  while (sent < len) {
    chunk = len - sent > INT_MAX ? INT_MAX : len - sent;
    before_call(t);
    t0 = hl_trace_start(ctx);
    rc = SSL_write(t->ssl, p + sent, (int)chunk);
    if (rc <= 0) {
      *err = outcome(t, rc, 0, "SSL_write", t0);
      /* the kernel refused to send (EPIPE...): bytes that came before
       * can still be read, so that is no fate for the reads */
      if (*err > 0 && *err != EAGAIN) t->fatal = 0;
      if (*err == EAGAIN) *err = HL_TLS_EWANTREAD;
      else if (*err == HL_TLS_EWANTWRITE) *err = EAGAIN;
      if (*err == EAGAIN || *err == HL_TLS_EWANTREAD)
        keep_pending(t, p + sent, chunk);
      break;
    }
    if (t->pend != NULL) forget_pending(t);
    if (t0) hl_trace_end(t0, "SSL_write", t->fd, rc, NULL, "%lu",
                         (unsigned long)chunk);
    sent += (size_t)rc;
  }
  return sent > 0 ? (ssize_t)sent : -1;
}

void hl_tls_notify(hl_socket *s) {
  hl_tls *t = s->tls;
  double t0;
  int rc;
  if (t->fatal || !SSL_is_init_finished(t->ssl) ||
      (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
    return;
  before_call(t);
  t0 = hl_trace_start(t->ctx);
  rc = SSL_shutdown(t->ssl);   /* once: close_notify if it fits now */
  if (t0) hl_trace_end(t0, "SSL_shutdown", t->fd, rc, "", NULL);
  ERR_clear_error();
}

void hl_tls_free(hl_socket *s, int notify) {
  hl_tls *t = s->tls;
  if (notify) hl_tls_notify(s);
  s->tls = NULL;
  SSL_free(t->ssl);
  hl_tls_release(t->conf);
  free(t->pend);
  free(t);
}

/* Set-up and handshake ------------------------------------------------ */

static void trace_info(const SSL *ssl, int where, int ret) {
  hl_tls *t = (hl_tls *)SSL_get_app_data(ssl);
  double t0 = hl_trace_start(t->ctx);
  if (!t0) return;
  if (where & SSL_CB_ALERT)
    hl_trace_end(t0, "tls", t->fd, 0, NULL, "alert %s: %s %s",
                 (where & SSL_CB_READ) ? "received" : "sent",
                 SSL_alert_type_string_long(ret),
                 SSL_alert_desc_string_long(ret));
  else if (where & SSL_CB_HANDSHAKE_DONE)
    hl_trace_end(t0, "tls", t->fd, 0, NULL, "handshake done: %s, %s",
                 SSL_get_version(ssl), SSL_get_cipher_name(ssl));
  else if (where & SSL_CB_LOOP)
    hl_trace_end(t0, "tls", t->fd, 0, NULL, "%s", SSL_state_string_long(ssl));
}

int hl_tls_keep_session(SSL *ssl, SSL_SESSION *session) {
  hl_tls *t = (hl_tls *)SSL_get_app_data(ssl);
  hl_tls_conf *conf;
  if (t == NULL || SSL_is_server(ssl) || t->name[0] == '\0') return 0;
  conf = t->conf;
  SSL_SESSION_free(conf->session);
  conf->session = session;   /* the reference is ours now */
  strcpy(conf->session_name, t->name);
  return 1;
}

/* Checks the peer's name (or address) and sends SNI for a name. */
static int set_peer_name(hl_tls *t, const char *name) {
  unsigned char addr[16];
  if (inet_pton(AF_INET, name, addr) == 1 ||
      inet_pton(AF_INET6, name, addr) == 1)
    return !t->verify ||
           X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name);
  if (!SSL_set_tlsext_host_name(t->ssl, name)) return 0;
  return !t->verify || SSL_set1_host(t->ssl, name);
}

/* hotline.core.tls_wrap(sock, ctx, server [, host]) -> true |
 * nil, msg, "ETLS". Gives a connected socket TLS from context ctx, as the
 * accepting side when server is true; host is the name dialled (the
 * context's servername comes first). The handshake is the next step. */
static int lib_wrap(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_tls_conf *conf = hl_tls_checkconf(L, 2);
  int server = lua_toboolean(L, 3), mode;
  const char *host = luaL_optstring(L, 4, NULL), *name;
  hl_tls *t;
  luaL_argcheck(L, s->socktype == SOCK_STREAM, 1, "TLS needs a stream socket");
  luaL_argcheck(L, s->tls == NULL, 1, "the socket already uses TLS");
  if (s->family != AF_UNIX) {
    /* records go out whole, one send each: Nagle would hold the second
     * of two small ones (session tickets, a reply) for a delayed ACK */
    int on = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  if (hl_rbuf_len(s->rbuf) > 0)
    return hl_error_pushmsg(L, "plaintext bytes arrived before the TLS "
                            "handshake", "ETLS");
  if (ctx->tls_bio == NULL) return luaL_error(L, "not enough memory");
  t = (hl_tls *)calloc(1, sizeof *t);
  if (t == NULL) return luaL_error(L, "not enough memory");
  ERR_clear_error();
  t->ssl = SSL_new(conf->ssl_ctx);
  if (t->ssl == NULL) {
    free(t);
    return hl_tls_pushqueue(L, "cannot make a connection");
  }
  t->conf = conf;
  conf->refs++;
  t->ctx = ctx;
  t->fd = s->fd;
  t->verify = conf->verify < 0 ? !server : conf->verify != 0;
  s->tls = t;   /* from here hl_tls_free cleans up */
  {
    BIO *bio = BIO_new((BIO_METHOD *)ctx->tls_bio);
    if (bio == NULL) {
      hl_tls_free(s, 0);
      return hl_tls_pushqueue(L, "cannot make a connection");
    }
    BIO_set_data(bio, t);
    BIO_set_init(bio, 1);
    SSL_set_bio(t->ssl, bio, bio);
  }
  SSL_set_app_data(t->ssl, t);
  SSL_set_info_callback(t->ssl, trace_info);
  mode = !t->verify ? SSL_VERIFY_NONE
         : server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                  : SSL_VERIFY_PEER;
  SSL_set_verify(t->ssl, mode, NULL);
  name = conf->servername ? conf->servername : host;
  if (name != NULL && strlen(name) < sizeof t->name) strcpy(t->name, name);
  if (server) {
    SSL_set_accept_state(t->ssl);
  } else {
    if (name == NULL && t->verify) {   /* a chain alone names no one */
      hl_tls_free(s, 0);
      return hl_error_pushmsg(L, "no server name to check (give servername, "
                              "or verify = false)", "ETLS");
    }
    if (name != NULL && !set_peer_name(t, name)) {
      hl_tls_free(s, 0);
      return hl_tls_pushqueue(L, "bad server name");
    }
    if (name != NULL && conf->session != NULL &&
        strcmp(conf->session_name, name) == 0 &&
        SSL_SESSION_is_resumable(conf->session))
      SSL_set_session(t->ssl, conf->session);   /* an abbreviated handshake */
    SSL_set_connect_state(t->ssl);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* hotline.core.tls_handshake(sock) primitive -> true | nil, "wantread" |
 * nil, "wantwrite" | nil, msg, "ETLS" | nil, msg, code */
static int lib_handshake(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_tls *t = s->tls;
  double t0;
  int rc, err;
  luaL_argcheck(L, t != NULL, 1, "the socket does not use TLS");
  if (t->fatal) return hl_tls_pusherror(L, s, t->fatal);
  before_call(t);
  t0 = hl_trace_start(ctx);
  rc = SSL_do_handshake(t->ssl);
  if (rc == 1) {
    if (t0) hl_trace_end(t0, "SSL_do_handshake", t->fd, 1, NULL, NULL);
    /* records read ahead with the last flight go to the buffer, where
     * the poller sees them (a failure here comes back at the next read) */
    if (SSL_has_pending(t->ssl)) (void)hl_tls_fill(ctx, s, 1);
    lua_pushboolean(L, 1);
    return 1;
  }
  err = outcome(t, rc, 0, "SSL_do_handshake", t0);
  if (err == EAGAIN) return hl_error_want(L, HL_WANTREAD, s->timeout);
  if (err == 0 || (err > 0 && t->eof)) {   /* the peer left mid-handshake */
    snprintf(t->msg, sizeof t->msg, "%s", "unexpected eof while reading");
    err = t->fatal = HL_TLS_EFAIL;
  }
  return hl_tls_pusherror(L, s, err);
}

static const luaL_Reg tls_funcs[] = {
  {"tls_wrap", lib_wrap},
  {"tls_handshake", lib_handshake},
  {NULL, NULL}
};

void hl_tls_open(lua_State *L) {
  hl_tls_bio_open(L, (hl_ctx *)lua_touserdata(L, -1));
  hl_register(L, tls_funcs);
  hl_tls_context_open(L);
  lua_pushboolean(L, 1);
  lua_setfield(L, -3, "tls");
}

#else   /* built without OpenSSL: no socket ever has TLS */

int hl_tls_fill(const hl_ctx *ctx, hl_socket *s, size_t want) {
  (void)ctx, (void)s, (void)want;
  return ENOTSUP;
}

ssize_t hl_tls_recv(const hl_ctx *ctx, hl_socket *s, char *p, size_t len,
                    int *err) {
  (void)ctx, (void)s, (void)p, (void)len;
  *err = ENOTSUP;
  return -1;
}

ssize_t hl_tls_sendv(const hl_ctx *ctx, hl_socket *s, const struct iovec *iov,
                     int n, size_t left, int *err) {
  (void)ctx, (void)s, (void)iov, (void)n, (void)left;
  *err = ENOTSUP;
  return -1;
}

int hl_tls_pusherror(lua_State *L, hl_socket *s, int err) {
  (void)s;
  return hl_error_push(L, err);
}

void hl_tls_notify(hl_socket *s) {
  (void)s;
}

void hl_tls_free(hl_socket *s, int notify) {
  (void)notify;
  s->tls = NULL;
}


void hl_tls_open(lua_State *L) {
  lua_pushboolean(L, 0);
  lua_setfield(L, -3, "tls");
}
#endif
