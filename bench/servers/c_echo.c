/* c_echo.c: the ceiling of the echo benchmarks, a plain C epoll server.
 * Level-triggered; reads up to 64 KiB into one shared buffer and writes it
 * back. What the kernel does not take is kept for that connection, which
 * then waits for EPOLLOUT and is not read until its backlog is gone.
 *   c_echo PORT   (0: an ephemeral port) -> prints "PORT <n>", runs until
 *   killed; listens on 127.0.0.1 only.
 * SPDX-License-Identifier: MIT */

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536
#define MAX_EVENTS 256

typedef struct {
  char *pending;                  /* bytes the kernel did not take yet */
  size_t len, off;
} echo_conn;

static echo_conn *conns;          /* indexed by descriptor */
static size_t nconns;
static int epfd;
static char buf[BUF];

static void die(const char *what) {
  perror(what);
  exit(1);
}

static echo_conn *conn_of(int fd) {
  if ((size_t)fd >= nconns) {
    size_t n = nconns ? nconns : 1024, old = nconns;
    echo_conn *p;
    while (n <= (size_t)fd) n *= 2;
    p = realloc(conns, n * sizeof *p);
    if (!p) die("realloc");
    memset(p + old, 0, (n - old) * sizeof *p);
    conns = p;
    nconns = n;
  }
  return &conns[fd];
}

static void watch(int fd, uint32_t events, int op) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epfd, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL)
    die("epoll_ctl");
}

static void drop(int fd) {
  echo_conn *c = conn_of(fd);
  free(c->pending);
  memset(c, 0, sizeof *c);
  close(fd);                      /* also leaves the epoll set */
}

/* Sends data[0..len); keeps what is left and switches fd to EPOLLOUT.
 * -> 0, or -1 when the connection failed and was dropped. */
static int send_or_keep(int fd, const char *data, size_t len) {
  echo_conn *c = conn_of(fd);
  size_t done = 0;
  while (done < len) {
    ssize_t w = send(fd, data + done, len - done, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      drop(fd);
      return -1;
    }
    done += (size_t)w;
  }
  if (done == len) return 0;
  c->len = len - done;
  c->off = 0;
  c->pending = malloc(c->len);
  if (!c->pending) die("malloc");
  memcpy(c->pending, data + done, c->len);
  watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
  return 0;
}

static void on_readable(int fd) {
  ssize_t r;
  do r = recv(fd, buf, BUF, 0); while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (r <= 0) {
    drop(fd);
    return;
  }
  send_or_keep(fd, buf, (size_t)r);
}

static void on_writable(int fd) {
  echo_conn *c = conn_of(fd);
  while (c->off < c->len) {
    ssize_t w = send(fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      drop(fd);
      return;
    }
    c->off += (size_t)w;
  }
  free(c->pending);
  c->pending = NULL;
  c->len = c->off = 0;
  watch(fd, EPOLLIN, EPOLL_CTL_MOD);
}

static void on_accept(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) perror("accept4");
      return;                     /* EMFILE: the queue waits for us */
    }
    conn_of(fd);
    watch(fd, EPOLLIN, EPOLL_CTL_ADD);
  }
}

static int listen_on(int port) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  if (listen(fd, 1024) < 0) die("listen");
  if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) die("getsockname");
  printf("PORT %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  return fd;
}

int main(int argc, char **argv) {
  struct epoll_event ev[MAX_EVENTS];
  int lfd, n, i;
  lfd = listen_on(argc > 1 ? atoi(argv[1]) : 0);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  watch(lfd, EPOLLIN, EPOLL_CTL_ADD);
  for (;;) {
    n = epoll_wait(epfd, ev, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (i = 0; i < n; i++) {
      int fd = ev[i].data.fd;
      if (fd == lfd) on_accept(lfd);
      else if (conn_of(fd)->pending) on_writable(fd);
      else on_readable(fd);
    }
  }
}
