/* hl_error.h: how hotline reports failure.
 * Misuse (a wrong argument, a closed socket) raises a Lua error. A failure
 * of the system returns nil, message, code: the system's message in lower
 * case and the errno's symbolic name, as in nil, "connection refused",
 * "ECONNREFUSED". Two outcomes have fixed words: nil, "closed" at the end
 * of a stream and nil, "timeout", "ETIMEDOUT" when a wait runs out.
 * Inside the primitives, would-block is not a failure: they return
 * nil, "wantread" or nil, "wantwrite" (and the socket's timeout) and the
 * Lua layer decides whether to wait, to yield or to report a timeout.
 * SPDX-License-Identifier: MIT */
#ifndef HL_ERROR_H
#define HL_ERROR_H

#include <stddef.h>
#include "hl_compat.h"

#define HL_WANTREAD "wantread"
#define HL_WANTWRITE "wantwrite"

int hl_error_push(lua_State *L, int err);
int hl_error_pushgai(lua_State *L, int gaierr, int syserr);
int hl_error_pushmsg(lua_State *L, const char *msg, const char *code);
int hl_error_closed(lua_State *L);
/* nil, want, the socket's timeout (nil: none), so the Lua layer need not
 * ask for it before waiting */
int hl_error_want(lua_State *L, const char *want, double timeout);
const char *hl_error_name(int err);

/* Argument checks that reject NaN, infinities and out-of-range numbers
 * before any conversion, so no input can reach undefined behaviour. */
/* Raises "bad argument #arg (tname expected, got <type>)", as
 * luaL_checkudata does; <type> is the value's __name where it has one. */
int hl_typeerror(lua_State *L, int arg, const char *tname);
size_t hl_checksize(lua_State *L, int arg, size_t max);
size_t hl_optsize(lua_State *L, int arg, size_t def, size_t max);
double hl_checkseconds(lua_State *L, int arg); /* nil gives -1: forever */

void hl_error_open(lua_State *L, int module);

#endif
