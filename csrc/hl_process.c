/* hl_process.c: fork, waitpid, kill, getpid and caught signals.
 * Signal dispositions and the self-pipe belong to the whole process, so
 * they are the one place hotline keeps C globals; nothing here runs
 * unless a script asks to catch a signal or to fork.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hl_error.h"
#include "hl_process.h"
#include "hl_socket.h"
#include "hl_trace.h"

typedef struct hl_signame {
  const char *name;
  int number;
} hl_signame;

static const hl_signame signames[] = {
  {"INT", SIGINT}, {"TERM", SIGTERM}, {"HUP", SIGHUP}, {"QUIT", SIGQUIT},
  {"CHLD", SIGCHLD}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
  {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}, {"KILL", SIGKILL},
  {"WINCH", SIGWINCH}, {NULL, 0}
};

static int signal_pipe[2] = {-1, -1};   /* read end, write end */
static unsigned long caught;            /* bit n: signal n is caught */

/* A pid from arg: a whole positive number; any_child also allows -1. */
static pid_t check_pid(lua_State *L, int arg, int any_child) {
  lua_Number n = luaL_checknumber(L, arg);
  if (any_child && n == -1) return -1;
  luaL_argcheck(L, n >= 1 && n <= 2147483647 && n == (pid_t)n, arg,
                "process id expected");
  return (pid_t)n;
}

static int check_signal(lua_State *L, int arg) {
  const char *name = luaL_checkstring(L, arg);
  const hl_signame *s;
  if (strncmp(name, "SIG", 3) == 0) name += 3;
  for (s = signames; s->name != NULL; s++)
    if (strcmp(s->name, name) == 0) return s->number;
  return luaL_argerror(L, arg, lua_pushfstring(L, "unknown signal '%s'", name));
}

static const char *signal_name(int number) {
  const hl_signame *s;
  for (s = signames; s->name != NULL; s++)
    if (s->number == number) return s->name;
  return "?";
}

/* Async-signal-safe: one byte per signal. A full pipe drops the byte,
 * which is fine: the bytes already waiting wake the loop, and POSIX
 * merges repeated signals anyway. */
static void on_signal(int signo) {
  int saved = errno;
  unsigned char b = (unsigned char)signo;
  if (write(signal_pipe[1], &b, 1) < 0) { /* full: see above */ }
  errno = saved;
}

static int open_pipe(void) {
  int i;
  if (signal_pipe[0] >= 0) return 0;
  if (pipe(signal_pipe) < 0) return errno;
  for (i = 0; i < 2; i++)
    if (hl_socket_setflags(signal_pipe[i]) != 0) return errno;
  return 0;
}

/* hotline.core.sigcatch(name, on) -> fd of the pipe | nil, msg, code.
 * on true: the signal writes a byte to the pipe instead of acting; false
 * restores the default action. */
static int lib_sigcatch(lua_State *L) {
  int signo = check_signal(L, 1), on = lua_toboolean(L, 2), err;
  struct sigaction sa;
  luaL_argcheck(L, signo != SIGKILL, 1, "SIGKILL cannot be caught");
  if (on && (err = open_pipe()) != 0) return hl_error_push(L, err);
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on ? on_signal : SIG_DFL;
  sa.sa_flags = on ? SA_RESTART : 0;
  if (sigaction(signo, &sa, NULL) < 0) return hl_error_push(L, errno);
  if (on)
    caught |= 1ul << signo;
  else
    caught &= ~(1ul << signo);
  lua_pushinteger(L, signal_pipe[0]);
  return 1;
}

/* hotline.core.sigtake() -> list of the names of signals caught since
 * the last call, oldest first. */
static int lib_sigtake(lua_State *L) {
  unsigned char buf[64];
  ssize_t n, i;
  int count = 0;
  lua_newtable(L);
  if (signal_pipe[0] < 0) return 1;
  while ((n = read(signal_pipe[0], buf, sizeof buf)) > 0 ||
         (n < 0 && errno == EINTR)) {
    for (i = 0; i < n; i++) {
      lua_pushstring(L, signal_name(buf[i]));
      lua_rawseti(L, -2, ++count);
    }
  }
  return 1;
}

/* In a new child: forget the parent's caught signals and pipe, so the
 * child's signals are its own. */
static void reset_child(void) {
  int signo;
  for (signo = 1; signo < (int)(8 * sizeof caught); signo++)
    if (caught & (1ul << signo)) signal(signo, SIG_DFL);
  caught = 0;
  if (signal_pipe[0] >= 0) {
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
  }
}

/* hotline.core.fork() -> pid in the parent, 0 in the child |
 * nil, msg, code */
static int lib_fork(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  double t0 = hl_trace_start(ctx);
  pid_t pid = fork();
  int err = errno;
  if (pid == 0) reset_child();
  if (t0 && pid != 0) hl_trace_end(t0, "fork", -1, (long)pid,
                                   hl_error_name(err), NULL);
  if (pid < 0) return hl_error_push(L, err);
  lua_pushinteger(L, (lua_Integer)pid);
  return 1;
}

/* hotline.core.waitpid([pid [, nohang]]) -> pid, "exit", status |
 * pid, "signal", name | 0 (nohang, none ended) | nil, msg, code */
static int lib_waitpid(lua_State *L) {
  pid_t pid = lua_isnoneornil(L, 1) ? -1 : check_pid(L, 1, 1), got;
  int status = 0;
  do {
    got = waitpid(pid, &status, lua_toboolean(L, 2) ? WNOHANG : 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return hl_error_push(L, errno);
  lua_pushinteger(L, (lua_Integer)got);
  if (got == 0) return 1;
  if (WIFSIGNALED(status)) {
    lua_pushliteral(L, "signal");
    lua_pushstring(L, signal_name(WTERMSIG(status)));
  } else {
    lua_pushliteral(L, "exit");
    lua_pushinteger(L, WEXITSTATUS(status));
  }
  return 3;
}

/* hotline.core.kill(pid, name) -> true | nil, msg, code */
static int lib_kill(lua_State *L) {
  pid_t pid = check_pid(L, 1, 0);
  int signo = check_signal(L, 2);
  if (kill(pid, signo) < 0) return hl_error_push(L, errno);
  lua_pushboolean(L, 1);
  return 1;
}

static int lib_getpid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

static void push_limit(lua_State *L, rlim_t n) {
  if (n == RLIM_INFINITY)
    lua_pushnumber(L, HUGE_VAL);
  else
    lua_pushinteger(L, (lua_Integer)n);
}

/* hotline.fdlimit([n]) -> soft, hard limits on open descriptors, after
 * setting the soft one to n (at most the hard one) if n is given. A
 * server holding many connections raises it. */
static int lib_fdlimit(lua_State *L) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return hl_error_push(L, errno);
  if (!lua_isnoneornil(L, 1)) {
    size_t n = hl_checksize(L, 1, (size_t)-1 / 4);
    rl.rlim_cur = (rl.rlim_max != RLIM_INFINITY && (rlim_t)n > rl.rlim_max)
                      ? rl.rlim_max : (rlim_t)n;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) return hl_error_push(L, errno);
  }
  push_limit(L, rl.rlim_cur);
  push_limit(L, rl.rlim_max);
  return 2;
}

static const luaL_Reg process_funcs[] = {
  {"fdlimit", lib_fdlimit},
  {"sigcatch", lib_sigcatch},
  {"sigtake", lib_sigtake},
  {"fork", lib_fork},
  {"waitpid", lib_waitpid},
  {"kill", lib_kill},
  {"getpid", lib_getpid},
  {NULL, NULL}
};

void hl_process_open(lua_State *L) {
  hl_register(L, process_funcs);
}
