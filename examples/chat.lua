-- examples/chat.lua: a line chat server. Every line a caller sends
-- reaches every other caller.
--   lua examples/chat.lua [host [port [queue]]]
-- host defaults to 127.0.0.1, port to 0 (a free one; the line it prints
-- says which), queue to 64: how many lines may wait for a slow caller.
--
-- Each caller has two tasks: its handler reads its lines and hands them
-- to everyone else's outbox (a channel of the queue's size); a writer
-- task empties its own outbox onto its socket. A caller who reads too
-- slowly fills its outbox and is dropped (both its tasks cancelled, its
-- socket closed), so a slow caller holds up nobody.
-- SPDX-License-Identifier: MIT

-- From a checkout, find hotline in the directory above this file's
-- (LUA_PATH and an installed hotline still win).
do
  local dir = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or ""
  local root = (dir == "" and "./" or dir) .. "../"
  local v = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
  package.path = package.path .. ";" .. root .. "lua/?.lua;" .. root .. "lua/?/init.lua"
  package.cpath = package.cpath .. ";" .. root .. "build/" .. v .. "/?.so"
end

local hotline = require "hotline"

local host, port = arg[1] or "127.0.0.1", tonumber(arg[2] or 0)
local QUEUE = tonumber(arg[3] or 64)

local callers = {}   -- caller -> true, for everyone connected

local function drop(caller)
  if not callers[caller] then return end
  callers[caller] = nil
  caller.writer:cancel()
  caller.handler:cancel()    -- its read ends; serve closes the socket
end

-- Hands line to everyone but from; whoever has no room left is dropped.
local function broadcast(from, line)
  for caller in pairs(callers) do
    if caller ~= from and not caller.outbox:send(line, 0) then
      io.stdout:write("dropped ", caller.name, ": too slow\n")
      drop(caller)
    end
  end
end

-- Writes the caller's outbox out while the caller is in the chat (once
-- dropped, serve may have closed its socket already).
local function writer(caller)
  while true do
    local line = caller.outbox:recv()
    if not (line and callers[caller]) or not caller.sock:write(line) then return end
  end
end

local function handler(sock)
  local peer_host, peer_port = sock:getpeername()
  local caller = { sock = sock, name = peer_host .. ":" .. peer_port,
    outbox = hotline.channel(QUEUE), handler = hotline.current() }
  broadcast(caller, "* " .. caller.name .. " joined\n")
  caller.outbox:send("* welcome, " .. caller.name .. "\n")
  callers[caller] = true
  caller.writer = hotline.spawn(writer, caller)
  while callers[caller] do
    local line = sock:read("l")
    if not line then break end
    broadcast(caller, caller.name .. ": " .. line .. "\n")
    hotline.sleep(0)   -- lines already read would not wait: give the writers a turn
  end
  if callers[caller] then
    drop(caller)
    broadcast(caller, "* " .. caller.name .. " left\n")
  end
end

local server = assert(hotline.serve { host = host, port = port, handler = handler })
local _, chosen = server:address()
io.stdout:write("chat server on ", host, " port ", chosen, "\n")
io.stdout:flush()
io.stdout:setvbuf("line")
hotline.onsignal("TERM", function() server:close(); hotline.stop() end)
hotline.onsignal("INT", function() server:close(); hotline.stop() end)
hotline.run()
