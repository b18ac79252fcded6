/* c_tls_echo.c: the ceiling for the TLS rows: an echo server in C on
 * OpenSSL 3 and epoll, one thread, non-blocking, level-triggered.
 *   c_tls_echo PORT CERT KEY   (0: ephemeral) -> prints "PORT <n>"
 * Each connection: handshake, then SSL_read into a 64 KiB buffer and
 * SSL_write it back; what the kernel does not take waits for EPOLLOUT.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

#define BUF 65536

typedef struct conn {
  int fd;
  SSL *ssl;
  int handshaken;
  uint32_t events;          /* what epoll watches now */
  size_t off, len;          /* bytes of buf still to write back */
  unsigned char buf[BUF];
} conn;

static int ep;

static void set_events(conn *c, uint32_t ev) {
  struct epoll_event e;
  if (c->events == ev) return;   /* no system call when nothing changes */
  c->events = ev;
  e.events = ev;
  e.data.ptr = c;
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void drop(conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  SSL_free(c->ssl);
  close(c->fd);
  free(c);
}

/* Returns 0 to go on, -1 when the connection is done. */
static int want(conn *c, int rc) {
  switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ: set_events(c, EPOLLIN); return 0;
    case SSL_ERROR_WANT_WRITE: set_events(c, EPOLLOUT); return 0;
    default: ERR_clear_error(); return -1;
  }
}

static int serve(conn *c) {
  int n;
  if (!c->handshaken) {
    n = SSL_do_handshake(c->ssl);
    if (n != 1) return want(c, n);
    c->handshaken = 1;
  }
  for (;;) {
    while (c->off < c->len) {
      n = SSL_write(c->ssl, c->buf + c->off, (int)(c->len - c->off));
      if (n <= 0) return want(c, n);
      c->off += (size_t)n;
    }
    c->off = c->len = 0;
    n = SSL_read(c->ssl, c->buf, BUF);
    if (n <= 0) return want(c, n);
    c->len = (size_t)n;
  }
}

int main(int argc, char **argv) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  struct epoll_event e, evs[256];
  SSL_CTX *ctx;
  int lfd, one = 1, i, n;
  if (argc < 4) {
    fputs("usage: c_tls_echo PORT CERT KEY\n", stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
    fputs("c_tls_echo: cannot load the certificate or key\n", stderr);
    return 1;
  }
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1024) < 0) {
    perror("c_tls_echo");
    return 1;
  }
  getsockname(lfd, (struct sockaddr *)&a, &alen);
  printf("PORT %d\n", ntohs(a.sin_port));
  fflush(stdout);
  ep = epoll_create1(0);
  e.events = EPOLLIN;
  e.data.ptr = NULL;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
  for (;;) {
    n = epoll_wait(ep, evs, 256, -1);
    for (i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          c = calloc(1, sizeof *c);
          c->fd = fd;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          c->events = EPOLLIN;
          c->ssl = SSL_new(ctx);
          SSL_set_fd(c->ssl, fd);
          SSL_set_accept_state(c->ssl);
          e.events = EPOLLIN;
          e.data.ptr = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
          if (serve(c) < 0) drop(c);
        }
      } else if (serve(c) < 0) {
        drop(c);
      }
    }
  }
}
