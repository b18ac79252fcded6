/* hl_socket.h: the socket object.
 * A full userdata holding a descriptor that is always non-blocking and
 * close-on-exec. Calls that may have to wait (accept, connect and the data
 * transfers in hl_io.c) are primitives: they try once and return
 * nil, "wantread" or nil, "wantwrite" instead of blocking; the Lua layer
 * owns the one place where waiting happens (see docs/DESIGN.md).
 * SPDX-License-Identifier: MIT */
#ifndef HL_SOCKET_H
#define HL_SOCKET_H

#include "hl_rbuf.h"
#include "hl_trace.h"

#define HL_SOCKET_MT "hotline.socket"
#define HL_MAXLINE_DEFAULT 65536

enum {
  HL_CONNECTING = 1 << 0, /* a non-blocking connect is under way */
  HL_EOF = 1 << 1,        /* the peer closed its side: recv returned 0 */
  HL_DRAINED = 1 << 2     /* the last recv was short: nothing more was in
                             the kernel, so the next read waits first */
};

typedef struct hl_socket {
  const char *tag;        /* hl_socket_tag: see hl_tagged */
  int fd;                 /* -1 once closed */
  unsigned char family;   /* AF_INET, AF_INET6, AF_UNIX */
  unsigned char socktype; /* SOCK_STREAM, SOCK_DGRAM */
  unsigned short flags;
  unsigned maxline;       /* longest line read("l") accepts, in bytes */
  double timeout;         /* seconds each call may wait; < 0: forever */
  hl_rbuf *rbuf;          /* unread bytes, or NULL */
  struct hl_tls *tls;     /* TLS state (hl_tls.h), NULL for plaintext */
} hl_socket;

extern const char hl_socket_tag[];
void *hl_tagged(lua_State *L, int idx, const char *tag, size_t size);
hl_socket *hl_socket_test(lua_State *L, int idx);   /* NULL if not one */
hl_socket *hl_socket_check(lua_State *L, int idx);
hl_socket *hl_socket_checkopen(lua_State *L, int idx);

/* Pushes a socket with fd -1 and no metatable yet: if what follows fails,
 * it is plain garbage with no descriptor and no finalizer to run. */
hl_socket *hl_socket_push(lua_State *L, int family, int socktype);

/* Gives the socket at stack index idx its descriptor and metatable.
 * Returns 0, or an errno after closing fd when it cannot be set up. */
int hl_socket_adopt(lua_State *L, int idx, hl_socket *s, int fd);

/* Makes fd non-blocking and close-on-exec where the system could not
 * create it so; returns 0 or an errno. */
int hl_socket_setflags(int fd);

void hl_socket_open(lua_State *L);

#endif
