-- bench/tasks.lua: what tasks working together cost, in one process.
--   lua bench/tasks.lua [N]   (N messages or tasks per measure; default 200000)
-- Prints, per measure, the median of 5 runs:
--   - channel ping-pong between two hotline tasks (two unbuffered channels),
--     against the floor (a hand-written coroutine resume/yield pair) and
--     cqueues condition variables (if cqueues loads): messages per second;
--   - spawn + join: microseconds per task.
-- SPDX-License-Identifier: MIT

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local v = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. v .. "/?.so;" .. package.cpath

local hotline = require "hotline"
local loop = require "hotline.loop"

local N = tonumber(arg[1]) or 200000
local clock = os.clock

local function median(fn)
  local runs = {}
  for i = 1, 5 do
    collectgarbage()
    runs[i] = fn()
  end
  table.sort(runs)
  return runs[3]
end

-- seconds of CPU for N messages there and back
local function floor_pair()
  local echo = coroutine.create(function(x)
    while true do x = coroutine.yield(x) end
  end)
  local resume = coroutine.resume
  local t0 = clock()
  for i = 1, N do resume(echo, i) end
  return clock() - t0
end

local function channel_pingpong()
  loop.reset()
  local ping, pong = hotline.channel(), hotline.channel()
  hotline.spawn(function()
    for i = 1, N do
      ping:send(i)
      pong:recv()
    end
    ping:close()
  end)
  hotline.spawn(function()
    while true do
      local x = ping:recv()
      if not x then break end
      pong:send(x)
    end
  end)
  local t0 = clock()
  assert(hotline.run())
  return clock() - t0
end

local function cqueues_pingpong()
  local cqueues = require "cqueues"
  local condition = require "cqueues.condition"
  local cq = cqueues.new()
  local to, back = condition.new(), condition.new()
  local turn = 0     -- 1: the echo side's turn, 2: the pinger's
  cq:wrap(function()
    for _ = 1, N do
      turn = 1
      to:signal()
      while turn ~= 2 do back:wait() end
    end
    turn = -1
    to:signal()
  end)
  cq:wrap(function()
    while true do
      while turn ~= 1 and turn ~= -1 do to:wait() end
      if turn == -1 then return end
      turn = 2
      back:signal()
    end
  end)
  local t0 = clock()
  assert(cq:loop())
  return clock() - t0
end

local function spawn_join()
  loop.reset()
  hotline.spawn(function()
    for _ = 1, N / 10 do
      local t = hotline.spawn(function(x) return x end, 1)
      t:join()
    end
  end)
  local t0 = clock()
  assert(hotline.run())
  return clock() - t0
end

local name = _VERSION .. (rawget(_G, "jit") and " (LuaJIT)" or "")
local floor = median(floor_pair)
local chan = median(channel_pingpong)
print(string.format("%s, %d messages, median of 5 (CPU seconds):", name, N))
print(string.format("  coroutine pair (floor)   %10.0f msg/s", N / floor))
print(string.format("  hotline channels         %10.0f msg/s  %.1fx the floor's time", N / chan,
  chan / floor))
local ok, cq = pcall(median, cqueues_pingpong)
if ok then
  print(string.format("  cqueues conditions       %10.0f msg/s  %.1fx the floor's time", N / cq,
    cq / floor))
else
  print("  cqueues conditions       (cqueues not loaded: " .. tostring(cq):match("[^\n]*") .. ")")
end
print(string.format("  spawn + join             %10.2f us per task",
  median(spawn_join) / (N / 10) * 1e6))
