-- spec/tools/luasocket_interop.lua: both ends of a small exchange on
-- LuaSocket's API, run by spec/65 with hotline.luasocket on one end and
-- the real LuaSocket, in a process of its own, on the other.
--   lua luasocket_interop.lua server          -> prints "PORT <n>", serves once
--   lua luasocket_interop.lua client PORT     -> prints what it received
-- As a module (require) it returns { serve = f(lib, client), talk = f(lib, client) }.
-- SPDX-License-Identifier: MIT

local M = {}

M.BLOB = string.rep("0123456789abcdef", 4096)   -- 64 KiB, several chunks

-- The serving end: a line, a count, then everything until the peer's
-- shutdown, each answered.
function M.serve(_, c)
  local line = assert(c:receive("*l"))
  assert(c:send("line:" .. line .. "\n"))
  local count = assert(c:receive(5))
  assert(c:send("num:" .. count .. "\n"))
  local all = assert(c:receive("*a"))
  assert(c:send("all:" .. #all .. ":" .. (all == M.BLOB and "same" or "different") .. "\n"))
  c:close()
end

-- The calling end -> the answers, one string.
function M.talk(_, c)
  local out = {}
  assert(c:send("hello\r\n"))
  out[1] = assert(c:receive())
  assert(c:send("123"))
  assert(c:send("45"))
  out[2] = assert(c:receive("*l"))
  assert(c:send(M.BLOB))
  assert(c:shutdown("send"))
  out[3] = assert(c:receive("*a"))
  c:close()
  return table.concat(out, "|")
end

if ... ~= "spec.tools.luasocket_interop" then
  local socket = require "socket"
  if arg[1] == "server" then
    local server = assert(socket.bind("127.0.0.1", 0))
    print("PORT " .. select(2, server:getsockname()))
    io.stdout:flush()
    server:settimeout(10)
    local c = assert(server:accept())
    c:settimeout(10)
    M.serve(socket, c)
    server:close()
  else
    local c = assert(socket.connect("127.0.0.1", tonumber(arg[2])))
    c:settimeout(10)
    io.write(M.talk(socket, c))
  end
end

return M
