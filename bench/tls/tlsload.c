/* tlsload.c: the TLS load generator for bench/tls/run.lua: a client on
 * OpenSSL 3 with blocking sockets (poll for pingpong100), no session
 * resumption, no certificate checks (that cost is the client's).
 *   tlsload SCENARIO PORT SECONDS SERVER_PID
 * SCENARIO: bulk (1 connection, 64 KiB written and read back in turn),
 * pingpong100 (100 connections, one 64-byte message in flight on each),
 * handshake (connect, full handshake, 64 bytes there and back, close).
 * Prints "rate <units/s> cpu_us <server CPU µs per unit>": for bulk the
 * unit is a MiB echoed, else a round trip or a connection.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX *ctx;
static int port;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double server_cpu(int pid) {   /* seconds of user + system time */
  char path[64], buf[1024], *p;
  unsigned long ut = 0, st = 0;
  FILE *f;
  int i;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  f = fopen(path, "r");
  if (!f) return 0;
  if (!fgets(buf, sizeof buf, f)) buf[0] = '\0';
  fclose(f);
  p = strrchr(buf, ')');
  for (i = 0; p && i < 12; i++) p = strchr(p + 1, ' ');
  if (p) sscanf(p + 1, "%lu %lu", &ut, &st);
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static SSL *dial(void) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  SSL *ssl;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("tlsload: connect");
    exit(1);
  }
  ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) {
    ERR_print_errors_fp(stderr);
    exit(1);
  }
  return ssl;
}

static void hangup(SSL *ssl) {
  int fd = SSL_get_fd(ssl);
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
}

static void read_n(SSL *ssl, unsigned char *buf, int n) {
  int got = 0, r;
  while (got < n) {
    r = SSL_read(ssl, buf + got, n - got);
    if (r <= 0) {
      fputs("tlsload: read failed\n", stderr);
      exit(1);
    }
    got += r;
  }
}

static void write_n(SSL *ssl, const unsigned char *buf, int n) {
  if (SSL_write(ssl, buf, n) != n) {
    fputs("tlsload: write failed\n", stderr);
    exit(1);
  }
}

int main(int argc, char **argv) {
  static unsigned char out[65536], in[65536];
  double seconds, t0, t, cpu0, units = 0;
  int pid, i;
  const char *scen;
  if (argc < 5) {
    fputs("usage: tlsload bulk|pingpong100|handshake PORT SECONDS SERVER_PID\n",
          stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  scen = argv[1];
  port = atoi(argv[2]);
  seconds = atof(argv[3]);
  pid = atoi(argv[4]);
  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  for (i = 0; i < (int)sizeof out; i++) out[i] = (unsigned char)(i * 7);
  if (strcmp(scen, "bulk") == 0) {
    SSL *ssl = dial();
    t0 = now();
    cpu0 = server_cpu(pid);
    do {
      write_n(ssl, out, sizeof out);
      read_n(ssl, in, sizeof in);
      if (memcmp(in, out, sizeof in) != 0) {
        fputs("tlsload: echo differs\n", stderr);
        return 1;
      }
      units += sizeof out / 1048576.0;
    } while ((t = now()) - t0 < seconds);
    hangup(ssl);
  } else if (strcmp(scen, "pingpong100") == 0) {
    SSL *c[100];
    struct pollfd p[100];
    for (i = 0; i < 100; i++) {
      c[i] = dial();
      p[i].fd = SSL_get_fd(c[i]);
      p[i].events = POLLIN;
    }
    t0 = now();
    cpu0 = server_cpu(pid);
    for (i = 0; i < 100; i++) write_n(c[i], out, 64);
    do {
      int n = poll(p, 100, 5000);
      if (n <= 0) {
        fputs("tlsload: no answer in 5 s\n", stderr);
        return 1;
      }
      for (i = 0; i < 100; i++) {
        if (!(p[i].revents & POLLIN)) continue;
        read_n(c[i], in, 64);
        units += 1;
        write_n(c[i], out, 64);
      }
    } while ((t = now()) - t0 < seconds);
    for (i = 0; i < 100; i++) hangup(c[i]);
  } else if (strcmp(scen, "handshake") == 0) {
    t0 = now();
    cpu0 = server_cpu(pid);
    do {
      SSL *ssl = dial();
      write_n(ssl, out, 64);
      read_n(ssl, in, 64);
      hangup(ssl);
      units += 1;
    } while ((t = now()) - t0 < seconds);
  } else {
    fputs("tlsload: unknown scenario\n", stderr);
    return 2;
  }
  printf("rate %.1f cpu_us %.2f\n", units / (t - t0),
         (server_cpu(pid) - cpu0) * 1e6 / units);
  return 0;
}
