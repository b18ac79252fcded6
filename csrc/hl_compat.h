/* hl_compat.h: lets the rest of hotline code against the Lua 5.4 API.
 * Every shim is a static inline named hl_*; luaL_* is never redefined.
 * SPDX-License-Identifier: MIT */
#ifndef HL_COMPAT_H
#define HL_COMPAT_H

#include <string.h>

#include "lua.h"
#include "lauxlib.h"

/* Plain Lua 5.1 is the only API without luaL_setfuncs and luaL_testudata:
 * LuaJIT 2.1 ships both, and its lauxlib.h is recognisable without
 * luajit.h because it also defines luaL_newlibtable. */
#if LUA_VERSION_NUM < 502 && !defined(luaL_newlibtable)
#define HL_LUA51_ONLY 1
#endif

#if LUA_VERSION_NUM < 502
static inline int hl_absindex(lua_State *L, int idx) {
  return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx : lua_gettop(L) + idx + 1;
}
#define hl_rawlen(L, idx) lua_objlen((L), (idx))
#else
#define hl_absindex(L, idx) lua_absindex((L), (idx))
#define hl_rawlen(L, idx) lua_rawlen((L), (idx))
#endif

#ifdef HL_LUA51_ONLY
static inline void hl_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  int i;
  luaL_checkstack(L, nup, "too many upvalues");
  for (; l->name != NULL; l++) {
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

static inline void *hl_testudata(lua_State *L, int idx, const char *tname) {
  void *p = lua_touserdata(L, idx);
  int same;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, tname);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}
#else
#define hl_setfuncs(L, l, nup) luaL_setfuncs((L), (l), (nup))
#define hl_testudata(L, idx, tname) luaL_testudata((L), (idx), (tname))
#endif

/* luaL_checkoption as 5.4 has it: LuaJIT's takes any non-string for the
 * default, so a table where a name belongs would pass unnoticed. */
static inline int hl_checkoption(lua_State *L, int arg, const char *def,
                                 const char *const list[]) {
  const char *name = (def != NULL && lua_isnoneornil(L, arg))
                         ? def : luaL_checkstring(L, arg);
  int i;
  for (i = 0; list[i] != NULL; i++)
    if (strcmp(list[i], name) == 0) return i;
  return luaL_argerror(L, arg,
                       lua_pushfstring(L, "invalid option '%s'", name));
}

/* 5.4 gives every userdata user values unless told otherwise; hotline
 * keeps its Lua references in the registry and wants none. */
#if LUA_VERSION_NUM >= 504
#define hl_newuserdata(L, size) lua_newuserdatauv((L), (size), 0)
#else
#define hl_newuserdata(L, size) lua_newuserdata((L), (size))
#endif

#endif
