/* hl_poll_epoll.c: the epoll backend (Linux). Level-triggered, so a
 * readiness nobody handled is reported again on the next wait.
 * SPDX-License-Identifier: MIT */
#include "hl_poll.h"

#ifdef HL_HAVE_EPOLL
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct epoll_state {
  struct epoll_event *events;
  int cap;
} epoll_state;

static int epoll_init(hl_poller *p) {
  epoll_state *st = calloc(1, sizeof *st);
  if (st == NULL) return ENOMEM;
  p->fd = epoll_create1(EPOLL_CLOEXEC);
  if (p->fd < 0) {
    int err = errno;
    free(st);
    return err;
  }
  p->state = st;
  return 0;
}

/* old and events are HL_POLL_R | HL_POLL_W. The kernel forgets a closed
 * descriptor by itself, so the poller's memory can be stale: an ADD that
 * meets EEXIST becomes a MOD and a MOD that meets ENOENT an ADD. */
static int epoll_ctl_fd(hl_poller *p, int fd, int old, int events) {
  struct epoll_event ev;
  int op = events == 0 ? EPOLL_CTL_DEL : old ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  memset(&ev, 0, sizeof ev);
  ev.events = ((events & HL_POLL_R) ? EPOLLIN : 0u) |
              ((events & HL_POLL_W) ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  if (epoll_ctl(p->fd, op, fd, &ev) == 0) return 0;
  if (op == EPOLL_CTL_ADD && errno == EEXIST) op = EPOLL_CTL_MOD;
  else if (op == EPOLL_CTL_MOD && errno == ENOENT) op = EPOLL_CTL_ADD;
  else if (op == EPOLL_CTL_DEL && (errno == ENOENT || errno == EBADF)) return 0;
  else return errno;
  return epoll_ctl(p->fd, op, fd, &ev) == 0 ? 0 : errno;
}

static int epoll_wait_ready(hl_poller *p, int ms) {
  epoll_state *st = p->state;
  int n, i, mask;
  if (st->cap < p->readycap) {
    struct epoll_event *grown =
        realloc(st->events, (size_t)p->readycap * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    st->events = grown;
    st->cap = p->readycap;
  }
  n = epoll_wait(p->fd, st->events, st->cap, ms);
  if (n < 0) return -errno;
  for (i = 0; i < n; i++) {
    const struct epoll_event *ev = &st->events[i];
    int fd = ev->data.fd;
    mask = fd < p->nmasks ? p->masks[fd] & (HL_POLL_R | HL_POLL_W) : 0;
    p->ready[i].fd = fd;
    /* an error or hang-up wakes every registered direction: the next
     * call on the socket reports what happened */
    p->ready[i].events = (ev->events & (EPOLLERR | EPOLLHUP))
        ? mask
        : (((ev->events & EPOLLIN) ? HL_POLL_R : 0) |
           ((ev->events & EPOLLOUT) ? HL_POLL_W : 0)) & mask;
  }
  return n;
}

static void epoll_done(hl_poller *p) {
  epoll_state *st = p->state;
  if (st != NULL) free(st->events);
  free(st);
  p->state = NULL;
  if (p->fd >= 0) close(p->fd);
  p->fd = -1;
}

const hl_poll_backend hl_poll_epoll = {
  "epoll", 1, epoll_init, epoll_ctl_fd, epoll_wait_ready, epoll_done
};
#endif
