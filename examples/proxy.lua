-- examples/proxy.lua: a TCP proxy. Each caller is connected to the target
-- and bytes are copied both ways, one task per direction.
--   lua examples/proxy.lua target-host target-port [port [idle [host]]]
-- port defaults to 0 (a free one; the line it prints says which), idle to
-- 60 seconds, host to 127.0.0.1.
--
-- When either direction ends (its sender hung up, or a write failed) or
-- no byte has moved either way for idle seconds, both directions are
-- cancelled and both sockets closed: a hung peer holds nothing for long.
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

local target_host, target_port = arg[1], tonumber(arg[2])
if not (target_host and target_port) then
  io.stderr:write("usage: lua examples/proxy.lua target-host target-port [port [idle [host]]]\n")
  os.exit(2)
end
local port, IDLE, host = tonumber(arg[3] or 0), tonumber(arg[4] or 60), arg[5] or "127.0.0.1"

-- Copies from -> to until from ends or to fails; says so on link.done.
local function pipe(from, to, link)
  while true do
    local data = from:recv(65536)
    if not data then break end
    link.moved = hotline.now()
    if not to:write(data) then break end
  end
  link.done:close()
end

local function handler(client)
  local upstream = hotline.connect(target_host, target_port, { timeout = 5 })
  if not upstream then return end
  local link = { moved = hotline.now(), done = hotline.channel() }
  local up = hotline.spawn(pipe, client, upstream, link)
  local down = hotline.spawn(pipe, upstream, client, link)
  -- until a direction ends, or nothing moved for IDLE seconds
  while not link.done:ready() do
    local left = link.moved + IDLE - hotline.now()
    if left <= 0 then break end
    hotline.wait_any(link.done, left)
  end
  up:cancel()
  down:cancel()
  up:join()
  down:join()        -- both off the sockets: close them (serve closes client)
  upstream:close()
end

local server = assert(hotline.serve { host = host, port = port, handler = handler })
local _, chosen = server:address()
io.stdout:write("proxy on ", host, " port ", chosen, " to ", target_host, " port ",
  target_port, "\n")
io.stdout:flush()
hotline.onsignal("TERM", function() hotline.stop() end)
hotline.onsignal("INT", function() hotline.stop() end)
hotline.run()
