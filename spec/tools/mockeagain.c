/* spec/tools/mockeagain.c: an LD_PRELOAD library for make check-eagain.
 * On non-blocking sockets it makes every other recv, recvfrom, read,
 * send, sendto, sendmsg, write, accept and accept4 fail with EAGAIN, and
 * lets each call that goes through move at most one byte of a stream, so
 * every would-block path and every short transfer of hotline runs.
 * Datagrams are never cut (that would change what arrives), only delayed.
 * connect cannot honestly say EAGAIN on TCP (POSIX has EINPROGRESS for
 * that), so every other connect that succeeds at once reports
 * EINPROGRESS instead: the connection exists, the socket is writable and
 * SO_ERROR is 0, exactly as after a connect that really was in progress.
 * Files, pipes and blocking sockets are left alone (busted writes files).
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MOCK_MAXFD 65536

static unsigned char odd[MOCK_MAXFD];   /* per fd: the next call fails */

/* Declares real_<name>, the function the wrapper stands in front of,
 * looked up on first use; <name>_fn is its type. */
#define REAL(name) \
  static name##_fn *real_##name; \
  if (real_##name == NULL) real_##name = (name##_fn *)dlsym(RTLD_NEXT, #name)

typedef ssize_t recv_fn(int, void *, size_t, int);
typedef ssize_t read_fn(int, void *, size_t);
typedef ssize_t recvfrom_fn(int, void *, size_t, int, struct sockaddr *,
                            socklen_t *);
typedef ssize_t send_fn(int, const void *, size_t, int);
typedef ssize_t write_fn(int, const void *, size_t);
typedef ssize_t sendto_fn(int, const void *, size_t, int,
                          const struct sockaddr *, socklen_t);
typedef ssize_t sendmsg_fn(int, const struct msghdr *, int);
typedef int accept_fn(int, struct sockaddr *, socklen_t *);
typedef int accept4_fn(int, struct sockaddr *, socklen_t *, int);
typedef int connect_fn(int, const struct sockaddr *, socklen_t);

/* 0: leave fd alone; 1: a non-blocking datagram socket; 2: a stream. */
static int kind_of(int fd) {
  struct stat st;
  int fl, type = 0;
  socklen_t len = sizeof type;
  if (fd < 0 || fd >= MOCK_MAXFD) return 0;
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || !(fl & O_NONBLOCK)) return 0;
  if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) return 0;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return 0;
  return type == SOCK_STREAM ? 2 : 1;
}

/* Decides one call on fd: returns -1 after setting errno to EAGAIN when
 * the call is to fail, else the kind of fd. Keeps errno otherwise. */
static int mock(int fd) {
  int saved = errno, kind = kind_of(fd);
  errno = saved;
  if (kind == 0) return 0;
  odd[fd] ^= 1;
  if (odd[fd]) {
    errno = EAGAIN;
    return -1;
  }
  return kind;
}

static size_t cut(int kind, size_t len) {
  return kind == 2 && len > 1 ? 1 : len;
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
  int kind = mock(fd);
  REAL(recv);
  if (kind < 0) return -1;
  return real_recv(fd, buf, cut(kind, len), flags);
}

ssize_t read(int fd, void *buf, size_t len) {
  int kind = mock(fd);
  REAL(read);
  if (kind < 0) return -1;
  return real_read(fd, buf, cut(kind, len));
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                 struct sockaddr *from, socklen_t *fromlen) {
  int kind = mock(fd);
  REAL(recvfrom);
  if (kind < 0) return -1;
  return real_recvfrom(fd, buf, cut(kind, len), flags, from, fromlen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
  int kind = mock(fd);
  REAL(send);
  if (kind < 0) return -1;
  return real_send(fd, buf, cut(kind, len), flags);
}

ssize_t write(int fd, const void *buf, size_t len) {
  int kind = mock(fd);
  REAL(write);
  if (kind < 0) return -1;
  return real_write(fd, buf, cut(kind, len));
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
               const struct sockaddr *to, socklen_t tolen) {
  int kind = mock(fd);
  REAL(sendto);
  if (kind < 0) return -1;
  return real_sendto(fd, buf, cut(kind, len), flags, to, tolen);
}

/* A stream's message is cut to its first byte: one piece of one byte. */
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
  int kind = mock(fd);
  struct msghdr one;
  struct iovec iov;
  size_t i;
  REAL(sendmsg);
  if (kind < 0) return -1;
  if (kind != 2) return real_sendmsg(fd, msg, flags);
  one = *msg;
  for (i = 0; i < msg->msg_iovlen && msg->msg_iov[i].iov_len == 0; i++) {}
  if (i == msg->msg_iovlen) return real_sendmsg(fd, msg, flags);
  iov.iov_base = msg->msg_iov[i].iov_base;
  iov.iov_len = 1;
  one.msg_iov = &iov;
  one.msg_iovlen = 1;
  return real_sendmsg(fd, &one, flags);
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
  REAL(accept);
  if (mock(fd) < 0) return -1;
  return real_accept(fd, addr, len);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
  REAL(accept4);
  if (mock(fd) < 0) return -1;
  return real_accept4(fd, addr, len, flags);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  int kind = mock(fd), rc;
  REAL(connect);
  rc = real_connect(fd, addr, len);
  if (kind < 0 && rc == 0 && kind_of(fd) == 2) {
    errno = EINPROGRESS;
    return -1;
  }
  return rc;
}
