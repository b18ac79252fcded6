/* bench/servers/c_chat.c: the C ceiling for the chat fan-out bench. A
 * line chat server on epoll, level-triggered: every complete line a
 * client sends is written to every other client ("name: line\n"). No
 * outgoing queue: a write that does not go through whole drops the
 * client, which the bench never provokes. One process, one thread.
 *   c_chat PORT   (0: ephemeral) -> prints "PORT <n>"
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define LINE 4096

typedef struct {
  int open;
  size_t used;
  char name[32];
  char buf[LINE];
} client;

static client *clients[MAXFD];
static int fds[MAXFD], nfds;

static void drop(int ep, int fd) {
  int i;
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  free(clients[fd]);
  clients[fd] = NULL;
  for (i = 0; i < nfds; i++) {
    if (fds[i] == fd) {
      fds[i] = fds[--nfds];
      break;
    }
  }
}

static void broadcast(int ep, int from, const char *line, size_t len) {
  char out[LINE + 64];
  size_t n;
  int i;
  n = (size_t)snprintf(out, sizeof out, "%s: ", clients[from]->name);
  memcpy(out + n, line, len);
  n += len;
  out[n++] = '\n';
  for (i = 0; i < nfds; i++) {
    int fd = fds[i];
    if (fd != from && send(fd, out, n, MSG_NOSIGNAL) != (ssize_t)n) {
      drop(ep, fd);
      i--;
    }
  }
}

int main(int argc, char **argv) {
  struct sockaddr_in addr;
  struct epoll_event ev, events[256];
  socklen_t alen = sizeof addr;
  int one = 1, ep, lfd, i, n;
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 4096)) {
    perror("listen");
    return 1;
  }
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  printf("PORT %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  ep = epoll_create1(0);
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    n = epoll_wait(ep, events, 256, -1);
    for (i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int c = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
        if (c < 0 || c >= MAXFD) {
          if (c >= 0) close(c);
          continue;
        }
        clients[c] = calloc(1, sizeof(client));
        snprintf(clients[c]->name, sizeof clients[c]->name, "127.0.0.1:%d",
                 ntohs(peer.sin_port));
        fds[nfds++] = c;
        ev.events = EPOLLIN;
        ev.data.fd = c;
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
      } else if (clients[fd]) {
        client *cl = clients[fd];
        ssize_t got = recv(fd, cl->buf + cl->used, LINE - cl->used, 0);
        char *nl;
        if (got <= 0) {
          if (got < 0 && errno == EAGAIN) continue;
          drop(ep, fd);
          continue;
        }
        cl->used += (size_t)got;
        while ((nl = memchr(cl->buf, '\n', cl->used)) != NULL) {
          size_t len = (size_t)(nl - cl->buf);
          broadcast(ep, fd, cl->buf, len);
          if (!clients[fd]) break;
          memmove(cl->buf, nl + 1, cl->used - len - 1);
          cl->used -= len + 1;
        }
        if (clients[fd] && cl->used == LINE) drop(ep, fd);
      }
    }
  }
}
