/* hl_trace.h: the module context and the system-call trace.
 * Every C function of hotline.core gets one hl_ctx as upvalue 1, so the
 * module keeps its state per Lua state and no C global is needed. With
 * tracing on (hotline.trace(true) or HOTLINE_TRACE=1) each system call
 * prints one line on stderr: the call, its fd and arguments, the result or
 * the errno name, and how long it took.
 * SPDX-License-Identifier: MIT */
#ifndef HL_TRACE_H
#define HL_TRACE_H

#include "hl_compat.h"

typedef struct hl_ctx {
  int trace;
  void *tls_bio;   /* hl_tls.c's BIO_METHOD for this Lua state, or NULL */
} hl_ctx;

#define hl_ctx_get(L) ((hl_ctx *)lua_touserdata((L), lua_upvalueindex(1)))

/* Registers funcs into the table at -2 with the context at -1 as their
 * upvalue; leaves the stack as it found it. */
void hl_register(lua_State *L, const luaL_Reg *funcs);

double hl_monotime(void);

/* Usage: t0 = hl_trace_start(ctx); call; if (t0) hl_trace_end(...).
 * hl_trace_start returns 0 when tracing is off, so the cost is a test;
 * errname (hl_error_name(errno), say) is printed when result < 0. */
double hl_trace_start(const hl_ctx *ctx);
void hl_trace_end(double t0, const char *call, int fd, long result,
                  const char *errname, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

#endif
