/* hl_io.h: data transfer primitives: read, write, recv, send, recvfrom,
 * sendto. Each tries once (write: until the kernel takes no more) and
 * returns nil, "wantread" or nil, "wantwrite" where it would block.
 * SPDX-License-Identifier: MIT */
#ifndef HL_IO_H
#define HL_IO_H

#include "hl_compat.h"

#define HL_RECV_MAX 65536

extern const luaL_Reg hl_io_methods[];
void hl_io_open(lua_State *L);

#endif
