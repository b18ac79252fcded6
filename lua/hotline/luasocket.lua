-- hotline.luasocket: LuaSocket 3.1's socket module on hotline.
--
--   package.loaded.socket = require "hotline.luasocket"   -- or .install()
--
-- makes LuaSocket's own socket.http, socket.url, ltn12 and any library
-- built on "socket" run on hotline: the same calls block outside tasks
-- and suspend only their task inside hotline.spawn; select has no
-- FD_SETSIZE ceiling. The pieces live in hotline/luasocket/*.lua.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local tcp = require "hotline.luasocket.tcp"
local udp = require "hotline.luasocket.udp"
local sel = require "hotline.luasocket.select"
local dns = require "hotline.luasocket.dns"
local protect = require "hotline.luasocket.protect"
local sinks = require "hotline.luasocket.sinks"

local socket = {
  _VERSION = "LuaSocket 3.1.0",
  _DATAGRAMSIZE = udp.DATAGRAMSIZE,
  _SOCKETINVALID = -1,
  BLOCKSIZE = sinks.BLOCKSIZE,
  tcp = tcp.tcp, tcp4 = tcp.tcp4, tcp6 = tcp.tcp6,
  udp = udp.udp, udp4 = udp.udp4, udp6 = udp.udp6,
  bind = tcp.bind, connect = tcp.connect,
  connect4 = function(address, port, locaddr, locport)
    return tcp.connect(address, port, locaddr, locport, "inet")
  end,
  connect6 = function(address, port, locaddr, locport)
    return tcp.connect(address, port, locaddr, locport, "inet6")
  end,
  select = sel.select, sleep = sel.sleep, gettime = sel.gettime,
  dns = dns,
  try = protect.try, newtry = protect.newtry, protect = protect.protect,
  skip = protect.skip,
  sink = sinks.sink, sinkt = sinks.sinkt, source = sinks.source,
  sourcet = sinks.sourcet, choose = sinks.choose,
}

-- socket._SETSIZE: the descriptors this process may open now (select's
-- only limit), read each time, as hotline.fdlimit(n) may raise it.
-- socket.unix: loaded on first use (LuaSocket's is a module of its own).
setmetatable(socket, {
  __index = function(t, k)
    if k == "_SETSIZE" then return (core.fdlimit()) end
    if k == "unix" then
      local unix = require "hotline.luasocket.unix"
      rawset(t, "unix", unix)
      return unix
    end
  end,
})

-- install(): socket and socket.unix resolve to hotline's from now on, so
-- that require "socket.http" and the like run on hotline. -> socket
function socket.install()
  package.loaded.socket = socket
  package.loaded["socket.core"] = socket
  package.loaded["socket.unix"] = require "hotline.luasocket.unix"
  return socket
end

return socket
