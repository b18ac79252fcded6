/* hl_process.h: what a pre-forking server needs from the process: fork,
 * waitpid, kill, getpid, and signals turned into readable bytes (the
 * self-pipe trick) so the loop can wait for them like for any socket.
 * SPDX-License-Identifier: MIT */
#ifndef HL_PROCESS_H
#define HL_PROCESS_H

#include "hl_compat.h"

void hl_process_open(lua_State *L);

#endif
