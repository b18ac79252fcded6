/* hl_poll_poll.c: the poll() backend, for systems without epoll and for
 * testing on Linux. Adding and removing are O(1) through a slot index per
 * fd; each wait is O(registered), which is poll()'s nature. No FD_SETSIZE
 * limit applies.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "hl_poll.h"

typedef struct poll_state {
  struct pollfd *fds;
  int n, cap;
  int *slot;          /* fd -> index in fds, valid while registered */
  int nslot;
} poll_state;

static int poll_init(hl_poller *p) {
  p->state = calloc(1, sizeof(poll_state));
  return p->state == NULL ? ENOMEM : 0;
}

static short to_pollevents(int events) {
  return (short)(((events & HL_POLL_R) ? POLLIN : 0) |
                 ((events & HL_POLL_W) ? POLLOUT : 0));
}

static void drop_slot(poll_state *st, int i) {
  st->fds[i] = st->fds[--st->n];
  if (i < st->n) st->slot[st->fds[i].fd] = i;
}

static int poll_ctl_fd(hl_poller *p, int fd, int old, int events) {
  poll_state *st = p->state;
  if (fd >= st->nslot) {
    int n = fd + 1 > st->nslot * 2 ? fd + 1 : st->nslot * 2;
    int *grown = realloc(st->slot, (size_t)n * sizeof *grown);
    if (grown == NULL) return ENOMEM;
    st->slot = grown;
    st->nslot = n;
  }
  if (old && events == 0) {
    drop_slot(st, st->slot[fd]);
  } else if (old) {
    st->fds[st->slot[fd]].events = to_pollevents(events);
  } else if (events) {
    if (st->n == st->cap) {
      int cap = st->cap ? st->cap * 2 : 64;
      struct pollfd *grown = realloc(st->fds, (size_t)cap * sizeof *grown);
      if (grown == NULL) return ENOMEM;
      st->fds = grown;
      st->cap = cap;
    }
    st->fds[st->n].fd = fd;
    st->fds[st->n].events = to_pollevents(events);
    st->fds[st->n].revents = 0;
    st->slot[fd] = st->n++;
  }
  return 0;
}

static int poll_wait_ready(hl_poller *p, int ms) {
  poll_state *st = p->state;
  int n, i, ready = 0;
  if (hl_poll_reserve(p, st->n) != 0) return -ENOMEM;
  n = poll(st->fds, (nfds_t)st->n, ms);
  if (n <= 0) return n < 0 ? -errno : 0;
  /* backwards, so that dropping a stale entry moves only seen ones */
  for (i = st->n - 1; i >= 0; i--) {
    struct pollfd *pf = &st->fds[i];
    int fd = pf->fd, mask = p->masks[fd] & (HL_POLL_R | HL_POLL_W);
    if (pf->revents == 0) continue;
    if (pf->revents & POLLNVAL) {   /* closed without being removed */
      p->masks[fd] = 0;
      drop_slot(st, i);
      continue;
    }
    p->ready[ready].fd = fd;
    p->ready[ready++].events = (pf->revents & (POLLERR | POLLHUP))
        ? mask
        : (((pf->revents & POLLIN) ? HL_POLL_R : 0) |
           ((pf->revents & POLLOUT) ? HL_POLL_W : 0)) & mask;
  }
  return ready;
}

static void poll_done(hl_poller *p) {
  poll_state *st = p->state;
  if (st != NULL) {
    free(st->fds);
    free(st->slot);
  }
  free(st);
  p->state = NULL;
}

const hl_poll_backend hl_poll_poll = {
  "poll", 0, poll_init, poll_ctl_fd, poll_wait_ready, poll_done
};
