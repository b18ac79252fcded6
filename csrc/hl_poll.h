/* hl_poll.h: the readiness poller behind hotline.poller() and the loop.
 * hl_poll.c is the only Lua-facing part; each backend (epoll on Linux,
 * poll() everywhere) fills an hl_poll_backend with its few operations,
 * so no function is a chain of #ifs. The poller remembers each fd's
 * registered events, to choose between add, modify and delete without
 * asking the kernel, and the Lua object registered for it.
 * SPDX-License-Identifier: MIT */
#ifndef HL_POLL_H
#define HL_POLL_H

#include "hl_trace.h"

#if defined(__linux__) && !defined(HL_NO_EPOLL)
#define HL_HAVE_EPOLL 1
#endif

#define HL_POLLER_MT "hotline.poller"

enum {
  HL_POLL_R = 1,
  HL_POLL_W = 2,
  HL_POLL_SOCKET = 4   /* in masks[]: the object is a hotline socket */
};

typedef struct hl_ready {
  int fd, events;
} hl_ready;

typedef struct hl_poller hl_poller;

typedef struct hl_poll_backend {
  const char *name;
  int forgets_closed;      /* the kernel drops a descriptor on close */
  int (*init)(hl_poller *p);                       /* 0 or an errno */
  int (*ctl)(hl_poller *p, int fd, int old, int events);
  int (*wait)(hl_poller *p, int ms);               /* ready count, -errno */
  void (*done)(hl_poller *p);
} hl_poll_backend;

struct hl_poller {
  const char *tag;         /* hl_poller_tag: see hl_tagged */
  const hl_poll_backend *backend;
  int fd;                  /* the epoll descriptor; -1 for poll() */
  void *state;             /* the backend's own */
  unsigned char *masks;    /* registered events (and HL_POLL_SOCKET) by fd */
  int nmasks;
  hl_ready *ready;         /* filled by wait */
  int nready, cursor, readycap;
  int primed;              /* ready holds what hl_poll_prime found */
  int objects;             /* registry ref: fd -> object, weak values */
};

/* Makes room for n entries in p->ready; 0 or ENOMEM. */
int hl_poll_reserve(hl_poller *p, int n);

/* The poller at idx (open or closed), or NULL if it is something else. */
hl_poller *hl_poller_test(lua_State *L, int idx);

/* Waits up to seconds (negative: for ever) for p's descriptors, a signal
 * resuming the wait with the time left, and keeps what it found for the
 * next p:wait(0), which then makes no system call of its own: so waiting
 * on a poller outside tasks (core.waitfd) costs one epoll_wait, not a
 * poll on its descriptor and then an epoll_wait. -> ready count, -errno */
int hl_poll_prime(const hl_ctx *ctx, hl_poller *p, double seconds);

#ifdef HL_HAVE_EPOLL
extern const hl_poll_backend hl_poll_epoll;
#endif
extern const hl_poll_backend hl_poll_poll;

void hl_poll_open(lua_State *L);

#endif
