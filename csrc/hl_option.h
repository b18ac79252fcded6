/* hl_option.h: s:setoption and s:getoption.
 * SPDX-License-Identifier: MIT */
#ifndef HL_OPTION_H
#define HL_OPTION_H

#include "hl_compat.h"

extern const luaL_Reg hl_option_methods[];

#endif
