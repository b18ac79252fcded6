/* spec/tools/fuzz_read.c: libFuzzer target for s:read (csrc/hl_io.c: the
 * formats, their planning over the receive buffer, maxline) on bytes that
 * come from a real socket. The input gives a maxline, a program of reads
 * (one to three formats each: "l", "L", "a", counts) and the bytes a peer
 * sends before closing. A driver in Lua runs the program against a unix
 * socket pair through the whole module, in a Lua 5.4 state, and checks
 * every answer against the bytes sent: each byte handed out exactly once,
 * in order, line ends dropped only by "l", "line too long" only for a
 * line longer than maxline, and nil, "closed" only at the very end.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lualib.h"

int luaopen_hotline_core(lua_State *L);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char driver[] =
  "local core, maxline, program, data = ...\n"
  "local a, b = assert(core.socketpair())\n"
  "assert(b:setoption('maxline', maxline))\n"
  "b:settimeout(0)\n"
  "local sent = 0\n"                 /* the pair holds more than 64 KiB */
  "while sent < #data do\n"
  "  local ok, err, _, n = a:write(data:sub(sent + 1))\n"
  "  if ok then sent = #data\n"
  "  else assert(err == 'wantwrite', err); sent = n end\n"
  "end\n"
  "a:close()\n"
  "local pos, steps = 1, 0\n"       /* data:sub(pos) is still to come */
  "local function piece(kind, s)\n"
  "  if kind == 'a' then\n"
  "    assert(s == data:sub(pos), 'a: wrong bytes'); pos = #data + 1\n"
  "  elseif kind == 'L' then\n"
  "    assert(s == data:sub(pos, pos + #s - 1), 'L: wrong bytes')\n"
  "    assert(not s:sub(1, -2):find('\\n', 1, true), 'L: two lines')\n"
  "    assert(s:sub(-1) == '\\n' or pos + #s - 1 == #data, 'L: cut short')\n"
  "    assert(#s <= maxline or pos + #s - 1 == #data, 'L: past maxline')\n"
  "    pos = pos + #s\n"
  "  elseif kind == 'l' then\n"
  "    assert(s == data:sub(pos, pos + #s - 1), 'l: wrong bytes')\n"
  "    assert(not s:find('\\n', 1, true), 'l: two lines')\n"
  "    pos = pos + #s\n"
  "    if data:sub(pos, pos) == '\\n' then pos = pos + 1\n"
  "    elseif data:sub(pos, pos + 1) == '\\r\\n' then pos = pos + 2\n"
  "    else assert(pos == #data + 1, 'l: line end lost') end\n"
  "  else\n"
  "    assert(s == data:sub(pos, pos + #s - 1), 'n: wrong bytes')\n"
  "    assert(#s == kind or pos + #s - 1 == #data, 'n: short read')\n"
  "    pos = pos + #s\n"
  "  end\n"
  "end\n"
  /* one read; several formats are all or nothing: when one of their
   * lines is too long, nothing was taken, and they are read one by one */
  "local function step(formats)\n"
  "  local r = { b:read(table.unpack(formats)) }\n"
  "  if r[1] == nil and r[2] == 'closed' then return 'closed' end\n"
  "  if r[1] == nil and r[2] == 'line too long' and #formats > 1 then\n"
  "    for _, f in ipairs(formats) do\n"
  "      if step({ f }) == 'closed' then return 'closed' end\n"
  "    end\n"
  "  elseif r[1] == nil and r[2] == 'line too long' then\n"
  "    assert(r[3] == 'EMSGSIZE')\n"
  "    local rest = data:sub(pos, pos + maxline)\n"  /* and one more */
  "    assert(#rest == maxline + 1, 'a line fit')\n"
  "    assert(not rest:sub(1, maxline):find('\\n', 1, true), 'a line fit')\n"
  "    local skip = b:read(maxline)\n"
  "    assert(skip == rest:sub(1, maxline), 'skipping a long line')\n"
  "    pos = pos + maxline\n"
  "  else\n"
  "    assert(r[1] ~= nil or r[2] == nil, tostring(r[2]))\n"
  "    for k, f in ipairs(formats) do\n"
  "      if r[k] == nil then break end\n"   /* the end: nothing after */
  "      piece(f, r[k])\n"
  "    end\n"
  "  end\n"
  "end\n"
  "local i, mark = 0, 0\n"
  "while steps < 1000 do\n"
  "  steps = steps + 1\n"
  "  if i % #program == 0 then\n"   /* a whole pass that read nothing */
  "    if i > 0 and pos == mark then piece('a', assert(b:read('a'))) end\n"
  "    mark = pos\n"
  "  end\n"
  "  local formats = program[i % #program + 1]; i = i + 1\n"
  "  if step(formats) == 'closed' then break end\n"
  "end\n"
  "if steps == 1000 then\n"          /* the program was slow: the rest */
  "  local rest = b:read('a'); if rest then piece('a', rest) end\n"
  "end\n"
  "assert(pos == #data + 1, 'bytes left unread: ' .. (#data + 1 - pos))\n"
  "b:close()\n";

/* The program: up to 16 reads, each of one to three formats. */
static int push_program(lua_State *L, const uint8_t *p, size_t n) {
  size_t used = 0;
  int reads = 0, k, nfmt;
  lua_newtable(L);
  while (used < n && reads < 16) {
    nfmt = 1 + p[used++] % 3;
    lua_createtable(L, nfmt, 0);
    for (k = 1; k <= nfmt; k++) {
      unsigned c = used < n ? p[used++] : 0;
      switch (c & 3) {
        case 0: lua_pushliteral(L, "l"); break;
        case 1: lua_pushliteral(L, "L"); break;
        case 2: lua_pushinteger(L, (lua_Integer)(c >> 2)); break;
        default: lua_pushliteral(L, "a");
      }
      lua_rawseti(L, -2, k);
    }
    lua_rawseti(L, -2, ++reads);
  }
  if (reads == 0) {                 /* at least one read: a line */
    lua_createtable(L, 1, 0);
    lua_pushliteral(L, "l");
    lua_rawseti(L, -2, 1);
    lua_rawseti(L, -2, 1);
  }
  return (int)used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  size_t head;
  if (L == NULL) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "hotline.core", luaopen_hotline_core, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.core");
  }
  if (size < 2) return 0;
  lua_settop(L, 0);
  if (luaL_loadbuffer(L, driver, sizeof driver - 1, "=driver") != LUA_OK)
    abort();
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.core");
  /* maxline: small, to meet long lines, or the default */
  lua_pushinteger(L, data[0] == 255 ? 65536 : 1 + data[0] % 64);
  head = 2 + (size_t)push_program(L, data + 2, data[1] % 40 < size - 2
                                                   ? data[1] % 40 : size - 2);
  if (head > size) head = size;
  lua_pushlstring(L, (const char *)data + head, size - head);
  if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_read: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);   /* the sockets' finalizers, every run */
  return 0;
}
