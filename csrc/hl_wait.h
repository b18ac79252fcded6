/* hl_wait.h: the blocking half of the one wait point, and time.
 * Outside a task the Lua layer waits here, with poll() on one descriptor;
 * inside a task the loop waits for it. hotline.core.waitfd, .sleep and
 * .monotime.
 * SPDX-License-Identifier: MIT */
#ifndef HL_WAIT_H
#define HL_WAIT_H

#include "hl_compat.h"

void hl_wait_open(lua_State *L);

#endif
