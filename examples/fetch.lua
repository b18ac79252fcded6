-- examples/fetch.lua: fetches many host:port addresses at once, at most N
-- connections at a time, all within one deadline, and prints a table.
--   lua examples/fetch.lua [-n N] [-t seconds] host:port...
-- N defaults to 10, the deadline to 10 seconds. Each fetch connects, sends
-- "GET / HTTP/1.0" and reads the whole answer; the table gives each
-- address's first line, its size and time, or what went wrong.
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

local N, SECONDS, addresses = 10, 10, {}
local i = 1
while arg[i] do
  if arg[i] == "-n" then N, i = tonumber(arg[i + 1]), i + 2
  elseif arg[i] == "-t" then SECONDS, i = tonumber(arg[i + 1]), i + 2
  else addresses[#addresses + 1], i = arg[i], i + 1 end
end
if not (N and SECONDS) or #addresses == 0 then
  io.stderr:write("usage: lua examples/fetch.lua [-n N] [-t seconds] host:port...\n")
  os.exit(2)
end

local slots = hotline.semaphore(N)
local most = 0       -- the most connections open at once

-- -> first line, bytes | nil, error. The socket goes in conn, for the
-- caller to close however this ends (the deadline may cut it short).
local function fetch(address, conn)
  local host, port = address:match("^%[?(.-)%]?:(%d+)$")
  if not host then return nil, "not host:port" end
  local sock, err = hotline.connect(host, tonumber(port))
  if not sock then return nil, err end
  conn.sock = sock
  most = math.max(most, N - slots.count)
  local ok, body = sock:write("GET / HTTP/1.0\r\nHost: " .. host .. "\r\n\r\n"), nil
  if ok then body, err = sock:read("a") end
  if not body then return nil, err end
  return body:match("^[^\r\n]*"), #body
end

local results = {}
hotline.spawn(function()
  local deadline = hotline.now() + SECONDS
  local tasks = {}
  for k, address in ipairs(addresses) do
    tasks[k] = hotline.spawn(function()
      local t0, conn = hotline.now(), {}
      local first, size = hotline.timeout(deadline - hotline.now(), function()
        return slots:with(fetch, address, conn)
      end)
      if conn.sock then conn.sock:close() end
      if not first then first, size = "failed: " .. tostring(size), "-" end
      results[k] = { address, first, size, hotline.now() - t0 }
    end)
  end
  for k = 1, #tasks do tasks[k]:join() end
end)
hotline.run()

io.stdout:write(string.format("%-24s %-36s %10s %8s\n", "address", "answer", "bytes", "ms"))
for k = 1, #addresses do
  local r = results[k]
  io.stdout:write(string.format("%-24s %-36s %10s %8.1f\n", r[1], r[2]:sub(1, 36),
    tostring(r[3]), r[4] * 1000))
end
io.stdout:write("at most ", most, " connections at once (limit ", N, ")\n")
