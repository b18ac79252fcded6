-- bench/chat_fanout.lua: the chat example's fan-out. N callers connect to
-- a chat server; one of them sends M lines, one at a time, each reaching
-- the N - 1 others. Reported: the server's CPU time (user + system, from
-- /proc) per delivered line, measured over the M lines only.
--   lua bench/chat_fanout.lua SERVER [N [M]]
-- SERVER: "hotline" (examples/chat.lua on this Lua) or a command printing
-- "PORT <n>" or "port <n>" (bench/bin/c_chat 0, the C ceiling).
-- SPDX-License-Identifier: MIT

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local v = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. v .. "/?.so;" .. package.cpath

local hotline = require "hotline"
local core = require "hotline.core"

local server, N, M = arg[1] or "hotline", tonumber(arg[2]) or 1000, tonumber(arg[3]) or 100
local lua = arg[-1] or "lua"
if server == "hotline" then server = lua .. " examples/chat.lua 127.0.0.1 0 100000" end

local out = os.tmpname()
local p = io.popen(string.format("LUA_PATH='lua/?.lua;lua/?/init.lua;;' "
  .. "LUA_CPATH='build/%s/?.so;;' %s >%s 2>&1 & echo $!", v, server, out))
local pid = tonumber(p:read("*l"))
p:close()

local function slurp()
  local f = io.open(out)
  local s = f and f:read("*a") or ""
  if f then f:close() end
  return s
end

local port
for _ = 1, 500 do
  port = tonumber(slurp():match("[Pp][Oo][Rr][Tt] (%d+)"))
  if port then break end
  core.sleep(0.01)
end
assert(port, "the server did not start: " .. slurp())

-- utime + stime of pid, in seconds
local function cpu()
  local f = assert(io.open("/proc/" .. pid .. "/stat"))
  local stat = f:read("*l")
  f:close()
  local fields = {}
  for x in stat:match("%) (.*)"):gmatch("%S+") do fields[#fields + 1] = x end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100   -- fields 14, 15; USER_HZ 100
end

local got, wave = 0, hotline.condition()
local callers = {}
local result
hotline.spawn(function()
  for i = 1, N do
    callers[i] = assert(hotline.connect("127.0.0.1", port))
    local c = callers[i]
    hotline.spawn(function()
      while true do
        local line = c:read("l")
        if not line then return end
        if line:find("msg", 1, true) then
          got = got + 1
          if got % (N - 1) == 0 then wave:signal() end
        end
      end
    end)
  end
  hotline.sleep(1)                  -- the joins have been told
  local before, t0 = cpu(), hotline.now()
  for i = 1, M do
    assert(callers[1]:write("msg " .. i .. "\n"))
    while got < i * (N - 1) do assert(wave:wait(10), "lines lost") end
  end
  local used, wall = cpu() - before, hotline.now() - t0
  result = { cpu = used, wall = wall }
  for i = 1, N do callers[i]:close() end
end)
hotline.run()
core.kill(pid, "TERM")
core.waitpid(pid)
os.remove(out)
local lines = M * (N - 1)
print(string.format("%-40s %d callers, %d lines delivered: %.2f us CPU per line"
  .. " (%.2f s CPU, %.2f s)", server:sub(1, 40), N, lines, result.cpu / lines * 1e6,
  result.cpu, result.wall))
