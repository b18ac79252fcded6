/* hl_trace.c: the module context, the monotonic clock and the trace.
 * SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "hl_trace.h"

void hl_register(lua_State *L, const luaL_Reg *funcs) {
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  hl_setfuncs(L, funcs, 1);
  lua_pop(L, 1);
}

double hl_monotime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double hl_trace_start(const hl_ctx *ctx) {
  return ctx->trace ? hl_monotime() : 0;
}

/* One line, written with a single fprintf so that lines from several
 * processes sharing a terminal do not interleave mid-line. */
void hl_trace_end(double t0, const char *call, int fd, long result,
                  const char *errname, const char *fmt, ...) {
  char args[160], outcome[64];
  double ms = (hl_monotime() - t0) * 1e3;
  va_list ap;
  args[0] = '\0';
  if (fmt != NULL) {
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
  }
  if (result < 0)
    snprintf(outcome, sizeof outcome, "-1 %s", errname);
  else
    snprintf(outcome, sizeof outcome, "%ld", result);
  if (fd >= 0)
    fprintf(stderr, "[hotline %ld] %s(fd=%d%s%s) = %s  %.3f ms\n",
            (long)getpid(), call, fd, args[0] ? ", " : "", args, outcome, ms);
  else
    fprintf(stderr, "[hotline %ld] %s(%s) = %s  %.3f ms\n", (long)getpid(),
            call, args, outcome, ms);
}
