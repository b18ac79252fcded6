/* loadgen.c: the load generator of the echo benchmarks (bench/README.md).
 * One thread, epoll, non-blocking sockets to 127.0.0.1:<port> only. Every
 * echoed byte is checked against the pattern that was sent; a run ends at
 * --seconds, and fails at --max-seconds whatever happens.
 *
 * Output: one line on stdout, "key=value" pairs separated by spaces, e.g.
 *   scenario=pingpong100 ok=1 conns=100 ops=123456 seconds=5.000
 *   rate=24691.2 unit=rt/s p50_us=40.1 p99_us=120.3 bytes=... errors=0
 *   server_cpu_ns=...
 * (on one line). A failed run has ok=0 and ends with "reason=<text>",
 * the only value that may hold spaces. The exit status is 0 only for ok=1.
 *
 * With --server-pid, loadgen reads the server's CPU time
 * (/proc/PID/task/STAR/schedstat, first field) at the start and the end of
 * the measured window, and for idle10k its VmRSS (/proc/PID/status) before
 * the first connection and while all are held: the harness needs no
 * handshake with loadgen.
 * SPDX-License-Identifier: MIT */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 65521u             /* pattern period: prime, not 64 KiB */
#define CHUNK 65536u              /* largest write and read */
#define BULK_INFLIGHT (4u << 20)  /* bulk: sent but not yet echoed, most */
#define MSG 64u                   /* pingpong and churn message size */
#define HIST_STEP_NS 100u         /* latency histogram resolution */
#define HIST_N 1000000u           /* ... up to 100 ms, then one overflow */
#define STALL_NS 3000000000ull    /* no progress for this long fails */
#define MAX_EVENTS 256
#define CONNECT_WINDOW 256        /* idle10k: connects under way, most */

enum { C_FREE, C_CONNECTING, C_OPEN, C_SERVED };

typedef struct {
  int fd;
  int state;
  int out;                        /* EPOLLOUT registered */
  uint32_t base;                  /* pattern index of stream byte 0 */
  uint64_t sent, rcvd;            /* stream offsets: sent, echoed+checked */
  uint64_t goal;                  /* send up to here */
  uint64_t t0;                    /* ns, start of the operation in flight */
} lg_conn;

typedef struct {
  const char *scenario;
  int port, conns, server_pid;
  double seconds, max_seconds, warmup, hold;
  uint64_t total;                 /* bulk: bytes to stream */
} lg_opts;

typedef struct {
  uint64_t ops, bytes;
  uint64_t t_start, t_end;        /* ns, the measured window */
  uint64_t cpu_start, cpu_end;    /* server ns on CPU over the window */
  long rss_before, rss_held;      /* kB */
  int in_window, done;
  uint64_t last_progress, last_pid_check;
} lg_stats;

static unsigned char pattern[PERIOD + CHUNK];
static unsigned char rxbuf[CHUNK];
static uint32_t hist[HIST_N + 1];
static char reason[256];
static int epfd = -1;
static uint64_t started_ns;       /* --max-seconds counts from here */

/* Remembers the first failure; the loops stop when reason is set. */
static void fail(const char *fmt, ...) {
  va_list ap;
  if (reason[0]) return;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The pattern: xorshift bytes, its first CHUNK bytes repeated after the
 * period so that any window of up to CHUNK bytes is contiguous. */
static void pattern_init(void) {
  uint32_t x = 2463534242u;
  unsigned i;
  for (i = 0; i < PERIOD; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    pattern[i] = (unsigned char)(x >> 24);
  }
  for (i = PERIOD; i < PERIOD + CHUNK; i++) pattern[i] = pattern[i - PERIOD];
}

static const unsigned char *pattern_at(const lg_conn *c, uint64_t off) {
  return pattern + (uint32_t)((c->base + off) % PERIOD);
}

static void hist_add(uint64_t ns) {
  uint64_t b = ns / HIST_STEP_NS;
  hist[b < HIST_N ? b : HIST_N]++;
}

/* -> the latency in microseconds below which fraction q of samples lie */
static double hist_quantile(double q) {
  uint64_t total = 0, seen = 0, want;
  unsigned i;
  for (i = 0; i <= HIST_N; i++) total += hist[i];
  if (total == 0) return 0.0;
  want = (uint64_t)(q * (double)total);
  if (want >= total) want = total - 1;
  for (i = 0; i <= HIST_N; i++) {
    seen += hist[i];
    if (seen > want) break;
  }
  return (double)(i + 1) * HIST_STEP_NS / 1000.0;
}

/* Sum of ns on CPU over the threads of pid, or 0 if it is gone. */
static uint64_t server_cpu_ns(int pid) {
  char path[300], line[128];
  DIR *d;
  struct dirent *e;
  uint64_t sum = 0;
  if (pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  d = opendir(path);
  if (!d) return 0;
  while ((e = readdir(d)) != NULL) {
    FILE *f;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/%d/task/%s/schedstat", pid,
             e->d_name);
    f = fopen(path, "r");
    if (!f) continue;
    if (fgets(line, sizeof line, f)) sum += strtoull(line, NULL, 10);
    fclose(f);
  }
  closedir(d);
  return sum;
}

/* VmRSS of pid in kB, or -1. */
static long server_rss_kb(int pid) {
  char path[64], line[256];
  FILE *f;
  long kb = -1;
  if (pid <= 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

static void set_events(lg_conn *c, int idx, uint32_t ev, int op) {
  struct epoll_event e;
  memset(&e, 0, sizeof e);
  e.events = ev;
  e.data.u32 = (uint32_t)idx;
  if (epoll_ctl(epfd, op, c->fd, &e) < 0)
    fail("epoll_ctl: %s", strerror(errno));
}

/* Starts a non-blocking connect on slot idx. The slot's stream starts at
 * pattern index base, so connections carry different bytes. */
static void conn_open(lg_conn *c, int idx, int port, uint32_t base) {
  struct sockaddr_in sa;
  int one = 1;
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    fail("socket: %s", strerror(errno));
    c->fd = -1;
    return;
  }
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->base = base % PERIOD;
  c->t0 = now_ns();
  c->state = C_CONNECTING;
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
      errno != EINPROGRESS) {
    fail("connect to 127.0.0.1:%d: %s", port, strerror(errno));
    return;
  }
  c->out = 1;
  set_events(c, idx, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
}

/* Closes with a reset (SO_LINGER 0) rather than a FIN: a graceful close
 * leaves the client side in TIME_WAIT for 60 s, and churn makes ~10^4 a
 * second. They pile up across runs until the kernel's table is full, so
 * rows measured early (connect() hunting for a free port among TIME_WAIT
 * entries) and late (table full, entries dropped) would see a different
 * kernel. The server's part is the same: a read that ends the stream. */
static void conn_close(lg_conn *c) {
  struct linger lg;
  lg.l_onoff = 1;
  lg.l_linger = 0;
  if (c->fd >= 0 && c->state != C_CONNECTING)
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->state = C_FREE;
}

/* EPOLLOUT while connecting: -> 1 when connected, 0 on failure. */
static int conn_finish(lg_conn *c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err) {
    fail("connect: %s", strerror(err));
    return 0;
  }
  c->state = C_OPEN;
  return 1;
}

/* Sends pattern bytes until c->goal, CHUNK at most per call; registers
 * EPOLLOUT only while the kernel says to wait. */
static void conn_pump(lg_conn *c, int idx) {
  int blocked = 0;
  while (c->sent < c->goal) {
    uint64_t left = c->goal - c->sent;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    ssize_t w = send(c->fd, pattern_at(c, c->sent), n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) { blocked = 1; break; }
      fail("send: %s", strerror(errno));
      return;
    }
    c->sent += (uint64_t)w;
  }
  if (blocked != c->out) {
    c->out = blocked;
    set_events(c, idx, EPOLLIN | (blocked ? EPOLLOUT : 0), EPOLL_CTL_MOD);
  }
}

/* Reads what is there and checks it against what was sent.
 * -> bytes read (0 if none yet) | -1 on end of stream or failure. */
static ssize_t conn_drain(lg_conn *c) {
  ssize_t total = 0;
  for (;;) {
    ssize_t r = recv(c->fd, rxbuf, CHUNK, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return total;
      fail("recv: %s", strerror(errno));
      return -1;
    }
    if (r == 0) {
      fail("server closed a connection after %llu of %llu bytes",
           (unsigned long long)c->rcvd, (unsigned long long)c->sent);
      return -1;
    }
    if (c->rcvd + (uint64_t)r > c->sent) {
      fail("server echoed %llu bytes more than were sent",
           (unsigned long long)(c->rcvd + (uint64_t)r - c->sent));
      return -1;
    }
    if (memcmp(rxbuf, pattern_at(c, c->rcvd), (size_t)r) != 0) {
      fail("echo mismatch within bytes %llu..%llu of a connection",
           (unsigned long long)c->rcvd,
           (unsigned long long)(c->rcvd + (uint64_t)r));
      return -1;
    }
    c->rcvd += (uint64_t)r;
    total += r;
    if ((size_t)r < CHUNK) return total;
  }
}

/* One readiness event for c: a connect finishing (then sends until
 * first_goal), or a send to continue and an echo to check.
 * -> 1 handled, 0 not connected yet, -1 failed (reason says why). */
static int conn_event(lg_conn *c, int idx, uint32_t events,
                      uint64_t first_goal) {
  if (c->state == C_CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return 0;
    if (!conn_finish(c)) return -1;
    c->goal = first_goal;
    conn_pump(c, idx);
    return 1;
  }
  if (events & EPOLLOUT) conn_pump(c, idx);
  return conn_drain(c) < 0 ? -1 : 1;
}

static void window_open(lg_stats *st, const lg_opts *o, uint64_t t) {
  st->in_window = 1;
  st->t_start = t;
  st->cpu_start = server_cpu_ns(o->server_pid);
}

static void window_close(lg_stats *st, const lg_opts *o, uint64_t t) {
  st->t_end = t;
  st->cpu_end = server_cpu_ns(o->server_pid);
  st->done = 1;
}

/* Fails runs past the hard cap, stalls, and (twice a second, as /proc
 * is slow) a server that has exited. */
static void check_limits(lg_stats *st, const lg_opts *o) {
  uint64_t t = now_ns();
  if ((double)(t - started_ns) / 1e9 >= o->max_seconds)
    fail("no result within --max-seconds %.1f", o->max_seconds);
  else if (t - st->last_progress > STALL_NS)
    fail("stalled: no echo for %.0f s", STALL_NS / 1e9);
  if (o->server_pid > 0 && t - st->last_pid_check > 500000000ull) {
    st->last_pid_check = t;
    if (server_rss_kb(o->server_pid) < 0)
      fail("server process %d is gone", o->server_pid);
  }
}

/* Per loop turn: opens the window after the warm-up (counted from t0),
 * closes it --seconds later, and checks the limits. */
static void tick(lg_stats *st, const lg_opts *o, uint64_t t0) {
  uint64_t t = now_ns();
  double el = (double)(t - t0) / 1e9;
  if (!st->in_window && el >= o->warmup) window_open(st, o, t);
  if (st->in_window && !st->done && el >= o->warmup + o->seconds)
    window_close(st, o, t);
  check_limits(st, o);
}

static int wait_events(struct epoll_event *ev) {
  int n = epoll_wait(epfd, ev, MAX_EVENTS, 20);
  if (n < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
  return n < 0 ? 0 : n;
}

/* Opens n connections (CONNECT_WINDOW under way at most), sends
 * first_msg bytes on each and waits for their echo; each ends in state
 * C_SERVED. Sets up pingpong, bulk (first_msg 0) and idle10k. */
static void open_all(lg_conn *cs, int n, const lg_opts *o, lg_stats *st,
                     uint64_t first_msg) {
  struct epoll_event ev[MAX_EVENTS];
  int started = 0, pending = 0, served = 0, i;
  while (served < n && !reason[0]) {
    while (started < n && pending < CONNECT_WINDOW && !reason[0]) {
      conn_open(&cs[started], started, o->port, (uint32_t)started * 4099u);
      started++;
      pending++;
    }
    for (i = wait_events(ev) - 1; i >= 0 && !reason[0]; i--) {
      int idx = (int)ev[i].data.u32, r;
      lg_conn *c = &cs[idx];
      if ((r = conn_event(c, idx, ev[i].events, first_msg)) < 0) break;
      if (r == 0) continue;
      if (c->state == C_OPEN && c->rcvd == c->goal) {
        c->state = C_SERVED;
        served++;
        pending--;
        st->last_progress = now_ns();
      }
    }
    if (reason[0] || served == n) break;
    check_limits(st, o);
  }
  if (reason[0] && n > 1)
    snprintf(reason + strlen(reason), sizeof reason - strlen(reason),
             " (%d of %d connections served)", served, n);
}

/* pingpong: each connection has one MSG-byte message in flight; the echo
 * completes a round trip and sends the next. */
static void run_pingpong(const lg_opts *o, lg_stats *st) {
  struct epoll_event ev[MAX_EVENTS];
  lg_conn *cs = calloc((size_t)o->conns, sizeof *cs);
  uint64_t t0;
  int i;
  if (!cs) { fail("out of memory"); return; }
  st->last_progress = now_ns();
  open_all(cs, o->conns, o, st, MSG);
  for (i = 0; i < o->conns && !reason[0]; i++) {
    cs[i].goal += MSG;
    cs[i].t0 = now_ns();
    conn_pump(&cs[i], i);
  }
  t0 = now_ns();
  st->last_progress = t0;
  while (!st->done && !reason[0]) {
    int n = wait_events(ev);
    for (i = 0; i < n && !reason[0]; i++) {
      int idx = (int)ev[i].data.u32;
      lg_conn *c = &cs[idx];
      if (ev[i].events & EPOLLOUT) conn_pump(c, idx);
      if (conn_drain(c) < 0) break;
      if (c->rcvd == c->goal) {
        uint64_t t = now_ns();
        st->last_progress = t;
        if (st->in_window && !st->done) {
          st->ops++;
          st->bytes += MSG;
          hist_add(t - c->t0);
        }
        c->goal += MSG;
        c->t0 = t;
        conn_pump(c, idx);
      }
    }
    tick(st, o, t0);
  }
  for (i = 0; i < o->conns; i++) conn_close(&cs[i]);
  free(cs);
}

/* bulk: one connection streams total bytes in CHUNK writes, at most
 * BULK_INFLIGHT ahead of the echo. The window opens after the warm-up or
 * the first 64 MiB, whichever is first, and closes at the end. */
static void run_bulk(const lg_opts *o, lg_stats *st) {
  struct epoll_event ev[MAX_EVENTS];
  lg_conn c;
  uint64_t t0, mark = 0;
  st->last_progress = now_ns();
  open_all(&c, 1, o, st, 0);
  t0 = now_ns();
  while (!st->done && !reason[0]) {
    int n = wait_events(ev), i;
    for (i = 0; i < n && !reason[0]; i++) {
      ssize_t r = conn_drain(&c);
      if (r < 0) break;
      if (r > 0) st->last_progress = now_ns();
    }
    if (!st->in_window && c.rcvd >= (64u << 20)) {
      window_open(st, o, now_ns());
      mark = c.rcvd;
    }
    c.goal = c.rcvd + BULK_INFLIGHT;
    if (c.goal > o->total) c.goal = o->total;
    conn_pump(&c, 0);
    if (!st->in_window && (double)(now_ns() - t0) / 1e9 >= o->warmup) {
      window_open(st, o, now_ns());
      mark = c.rcvd;
    }
    if (st->in_window) st->bytes = c.rcvd - mark;
    if (c.rcvd >= o->total && st->in_window) window_close(st, o, now_ns());
    else tick(st, o, t0);
  }
  st->ops = st->bytes / CHUNK;
  conn_close(&c);
}

/* churn: o->conns slots, each connects, sends MSG bytes, reads the echo,
 * closes and starts over. */
static void run_churn(const lg_opts *o, lg_stats *st) {
  struct epoll_event ev[MAX_EVENTS];
  lg_conn *cs = calloc((size_t)o->conns, sizeof *cs);
  uint64_t t0 = now_ns(), serial = 0;
  int i;
  if (!cs) { fail("out of memory"); return; }
  st->last_progress = t0;
  for (i = 0; i < o->conns && !reason[0]; i++)
    conn_open(&cs[i], i, o->port, (uint32_t)(serial++ * 4099u));
  while (!st->done && !reason[0]) {
    int n = wait_events(ev);
    for (i = 0; i < n && !reason[0]; i++) {
      int idx = (int)ev[i].data.u32, r;
      lg_conn *c = &cs[idx];
      if ((r = conn_event(c, idx, ev[i].events, MSG)) < 0) break;
      if (r == 0) continue;
      if (c->rcvd == MSG) {
        uint64_t t = now_ns();
        st->last_progress = t;
        if (st->in_window && !st->done) {
          st->ops++;
          st->bytes += MSG;
          hist_add(t - c->t0);
        }
        conn_close(c);
        conn_open(c, idx, o->port, (uint32_t)(serial++ * 4099u));
      }
    }
    tick(st, o, t0);
  }
  for (i = 0; i < o->conns; i++) conn_close(&cs[i]);
  free(cs);
}

/* idle10k: opens o->conns connections, each proves it is served with a
 * one-byte echo; holds them all for o->hold seconds (watching for any
 * that the server drops) and reads the server's VmRSS then. */
static void run_idle(const lg_opts *o, lg_stats *st) {
  struct epoll_event ev[MAX_EVENTS];
  lg_conn *cs = calloc((size_t)o->conns, sizeof *cs);
  uint64_t t;
  int i;
  if (!cs) { fail("out of memory"); return; }
  st->rss_before = server_rss_kb(o->server_pid);
  st->last_progress = now_ns();
  window_open(st, o, st->last_progress);
  open_all(cs, o->conns, o, st, 1);
  if (!reason[0]) {
    window_close(st, o, now_ns());
    st->ops = (uint64_t)o->conns;
    st->bytes = (uint64_t)o->conns;
  }
  t = now_ns();
  while (!reason[0] && (double)(now_ns() - t) / 1e9 < o->hold) {
    int n = wait_events(ev);
    for (i = 0; i < n && !reason[0]; i++)
      conn_drain(&cs[ev[i].data.u32]);  /* anything here is a failure */
  }
  if (!reason[0]) st->rss_held = server_rss_kb(o->server_pid);
  for (i = 0; i < o->conns; i++)
    if (cs[i].state != C_FREE) conn_close(&cs[i]);
  free(cs);
}

static void usage(void) {
  fputs("usage: loadgen --scenario bulk|pingpong1|pingpong100|churn|idle10k"
        " --port N\n"
        "  [--seconds S] [--max-seconds S] [--warmup S] [--conns N]\n"
        "  [--bytes N] [--hold S] [--server-pid PID]\n", stderr);
  exit(2);
}

/* Raises RLIMIT_NOFILE to the hard limit. -> the soft limit now */
static long raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

static void parse(int argc, char **argv, lg_opts *o) {
  int i;
  memset(o, 0, sizeof *o);
  o->seconds = 5.0;
  o->warmup = -1.0;
  o->max_seconds = -1.0;
  o->hold = 1.0;
  o->conns = -1;
  o->total = 2ull << 30;
  for (i = 1; i < argc; i += 2) {  /* options come in pairs */
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (strcmp(k, "--scenario") == 0) o->scenario = v;
    else if (strcmp(k, "--port") == 0) o->port = atoi(v);
    else if (strcmp(k, "--seconds") == 0) o->seconds = atof(v);
    else if (strcmp(k, "--max-seconds") == 0) o->max_seconds = atof(v);
    else if (strcmp(k, "--warmup") == 0) o->warmup = atof(v);
    else if (strcmp(k, "--conns") == 0) o->conns = atoi(v);
    else if (strcmp(k, "--bytes") == 0) o->total = strtoull(v, NULL, 10);
    else if (strcmp(k, "--hold") == 0) o->hold = atof(v);
    else if (strcmp(k, "--server-pid") == 0) o->server_pid = atoi(v);
    else usage();
  }
  if (!o->scenario || o->port <= 0 || o->port > 65535 || o->seconds <= 0)
    usage();
  if (o->conns < 0) {
    if (strcmp(o->scenario, "pingpong100") == 0) o->conns = 100;
    else if (strcmp(o->scenario, "churn") == 0) o->conns = 16;
    else if (strcmp(o->scenario, "idle10k") == 0) o->conns = 10000;
    else o->conns = 1;
  }
  if (o->conns < 1) usage();
  if (o->warmup < 0) o->warmup = o->seconds * 0.1 < 1.0 ? o->seconds * 0.1
                                                          : 1.0;
  if (o->max_seconds <= 0)
    o->max_seconds = o->warmup + o->seconds + 15.0 + o->hold;
}

int main(int argc, char **argv) {
  lg_opts o;
  lg_stats st;
  const char *unit = "rt/s";
  double secs, rate, cpu;
  long nofile;
  parse(argc, argv, &o);
  memset(&st, 0, sizeof st);
  started_ns = now_ns();
  st.rss_before = st.rss_held = -1;
  pattern_init();
  nofile = raise_nofile();
  if (o.conns + 16 > nofile)
    fail("--conns %d needs more descriptors than RLIMIT_NOFILE %ld",
         o.conns, nofile);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) fail("epoll_create1: %s", strerror(errno));
  if (reason[0]) {
    /* reported below */
  } else if (strcmp(o.scenario, "bulk") == 0) {
    unit = "MiB/s";
    run_bulk(&o, &st);
  } else if (strcmp(o.scenario, "pingpong1") == 0 ||
             strcmp(o.scenario, "pingpong100") == 0) {
    run_pingpong(&o, &st);
  } else if (strcmp(o.scenario, "churn") == 0) {
    unit = "conn/s";
    run_churn(&o, &st);
  } else if (strcmp(o.scenario, "idle10k") == 0) {
    unit = "conn/s";
    run_idle(&o, &st);
  } else {
    usage();
  }
  if (!reason[0] && !st.done) fail("the run ended before its window");
  if (!reason[0] && st.ops == 0) fail("no operation completed");
  secs = st.done ? (double)(st.t_end - st.t_start) / 1e9 : 0.0;
  rate = secs > 0 ? (double)st.ops / secs : 0.0;
  if (strcmp(unit, "MiB/s") == 0 && secs > 0)
    rate = (double)st.bytes / 1048576.0 / secs;
  printf("scenario=%s ok=%d conns=%d ops=%llu seconds=%.3f rate=%.1f"
         " unit=%s p50_us=%.1f p99_us=%.1f bytes=%llu errors=%d",
         o.scenario, reason[0] ? 0 : 1, o.conns,
         (unsigned long long)st.ops, secs, rate, unit, hist_quantile(0.5),
         hist_quantile(0.99), (unsigned long long)st.bytes,
         reason[0] ? 1 : 0);
  if (o.server_pid > 0 && st.done) {
    cpu = (double)(st.cpu_end - st.cpu_start);
    printf(" server_cpu_ns=%.0f", cpu);
  }
  if (strcmp(o.scenario, "idle10k") == 0)
    printf(" rss_before_kb=%ld rss_held_kb=%ld bytes_per_conn=%.0f",
           st.rss_before, st.rss_held,
           st.rss_held >= 0 && st.rss_before >= 0 ?
             (double)(st.rss_held - st.rss_before) * 1024.0 / o.conns : -1.0);
  if (reason[0]) printf(" reason=%s", reason);
  printf("\n");
  fflush(stdout);
  return reason[0] ? 1 : 0;
}
