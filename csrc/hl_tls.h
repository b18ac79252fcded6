/* hl_tls.h: TLS on OpenSSL 3, inside the socket object.
 * A context (hotline.tls.context) is an SSL_CTX with the options read once:
 * trust anchors, certificate and key, ALPN, versions, ciphers; all the
 * connections made from it share it. A socket that speaks TLS points to an
 * hl_tls (its SSL and the context it came from); a plaintext socket points
 * to NULL, so the plaintext paths of hl_io.c pay one test. The SSL talks to
 * the descriptor through a BIO of our own, which sends with MSG_NOSIGNAL
 * and traces its calls. Like the plain primitives, the TLS ones never
 * block: OpenSSL's WANT_READ/WANT_WRITE become "wantread"/"wantwrite".
 * Built with -DHL_NO_TLS, only the stubs that answer ENOTSUP remain.
 * SPDX-License-Identifier: MIT */
#ifndef HL_TLS_H
#define HL_TLS_H

#include <sys/types.h>
#include <sys/uio.h>

#include "hl_socket.h"

/* err values of the TLS paths besides errno numbers and EAGAIN (which
 * stands for "wantread", as on plain sockets) */
#define HL_TLS_EWANTWRITE (-1)  /* OpenSSL must write before it goes on */
#define HL_TLS_EFAIL (-2)       /* a TLS failure: hl_tls_pusherror says */
#define HL_TLS_EWANTREAD (-3)   /* a write must first read (EAGAIN there
                                   means "wantwrite", as for send) */

#define HL_TLS_CHUNK 16384      /* a TLS record's most plaintext */
#define HL_TLS_CONTEXT_MT "hotline.tls.context"

#ifndef HL_NO_TLS
#include <openssl/ssl.h>

/* A context's settings. The context userdata holds one reference, each
 * connection made from it another: a connection outlives a collected
 * context, and the ALPN callback's list stays valid. */
typedef struct hl_tls_conf {
  int refs;
  SSL_CTX *ssl_ctx;
  int verify;                /* -1: the default (client yes, server no) */
  int server;                /* made for the accepting side */
  double handshake_timeout;  /* seconds, or -1 when not given */
  char *servername;          /* or NULL: the host dialled */
  unsigned alpn_len;
  unsigned char alpn[256];   /* protocol list in wire format */
  SSL_SESSION *session;      /* a client's last session, to resume, */
  char session_name[256];    /* with the server name it was for */
} hl_tls_conf;

/* A connection's TLS state, hl_socket.tls */
typedef struct hl_tls {
  SSL *ssl;
  hl_tls_conf *conf;
  const hl_ctx *ctx;      /* for the trace */
  int fd;
  int syserr;             /* errno of the BIO's last failed call, or 0 */
  int fatal;              /* once the connection failed: its err, kept */
  unsigned char eof;      /* the BIO read the end of the stream */
  unsigned char drained;  /* the BIO's last recv was short: kernel empty */
  unsigned char verify;   /* the peer's certificate is checked */
  char *pend;             /* a write OpenSSL holds half sent: its first */
  size_t pend_len;        /* bytes, which the next write must repeat */
  char name[256];         /* a client's server name, or "" */
  char msg[192];          /* why, when fatal is HL_TLS_EFAIL */
} hl_tls;

/* OpenSSL's new-session callback: a client keeps the session in its
 * context, with the server name, for the next connection to resume. */
int hl_tls_keep_session(SSL *ssl, SSL_SESSION *session);

/* The context at idx (raises unless it is one) */
hl_tls_conf *hl_tls_checkconf(lua_State *L, int idx);
void hl_tls_release(hl_tls_conf *conf);
/* Pushes nil, msg, "ETLS" with the reason OpenSSL queued, or fallback */
int hl_tls_pushqueue(lua_State *L, const char *fallback);
void hl_tls_context_open(lua_State *L);
/* Makes the BIO_METHOD of this Lua state (hl_tls_bio.c) */
void hl_tls_bio_open(lua_State *L, hl_ctx *ctx);
#endif

/* Reads decrypted bytes into s->rbuf, want bytes at least if they are
 * there, and everything OpenSSL already decrypted (which the poller
 * cannot see). Returns 0 when bytes or the end arrived, else an err. */
int hl_tls_fill(const hl_ctx *ctx, hl_socket *s, size_t want);

/* One SSL_read into p, for recv: no buffer is allocated unless OpenSSL
 * still holds bytes after it (they go to s->rbuf). Returns the bytes, 0
 * at the end of the stream, or -1 and *err. */
ssize_t hl_tls_recv(const hl_ctx *ctx, hl_socket *s, char *p, size_t len,
                    int *err);

/* Encrypts and sends n pieces holding left bytes (at most HL_TLS_CHUNK of
 * them gathered per record). Returns the bytes taken, or -1 and *err. A
 * send that answered wantwrite must be repeated with the same bytes: other
 * bytes are refused (HL_TLS_EFAIL), as OpenSSL would send the old record
 * and count it as the new bytes. */
ssize_t hl_tls_sendv(const hl_ctx *ctx, hl_socket *s, const struct iovec *iov,
                     int n, size_t left, int *err);

/* Pushes the failure err: nil, "wantwrite"/"wantread", timeout for
 * HL_TLS_EWANTWRITE/HL_TLS_EWANTREAD, nil, msg, "ETLS" for HL_TLS_EFAIL,
 * else nil, msg, code for the errno (plain sockets come here too). */
int hl_tls_pusherror(lua_State *L, hl_socket *s, int err);

/* Sends close_notify if the connection is healthy, the handshake done and
 * none was sent yet, with one try that never waits (shutdown and close). */
void hl_tls_notify(hl_socket *s);

/* Frees the socket's TLS state; notify sends close_notify first if the
 * connection is healthy and the kernel takes it at once (never waits). */
void hl_tls_free(hl_socket *s, int notify);

extern const luaL_Reg hl_tls_methods[];
void hl_tls_open(lua_State *L);

#endif
