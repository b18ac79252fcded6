-- bench/tasks_cost.lua: what the loop costs per wait and per idle task,
-- in-process, for before/after comparisons of lua/hotline/loop.lua.
--   lua bench/tasks_cost.lua idle N      -> Lua heap bytes per task parked in a read
--   lua bench/tasks_cost.lua pingpong N  -> runs N round trips between two tasks
-- (instructions per round trip: callgrind two N and subtract; see bench/TASKS.md)
-- SPDX-License-Identifier: MIT

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local hotline = require "hotline"

local mode, n = arg[1] or "idle", tonumber(arg[2]) or 10000

if mode == "idle" then
  local pairs_ = {}
  for i = 1, n do
    local a, b = assert(hotline.socketpair())
    pairs_[i] = { a, b }
  end
  collectgarbage(); collectgarbage()
  local before = collectgarbage("count") * 1024
  for i = 1, n do
    local a = pairs_[i][1]
    hotline.spawn(function() a:read(1) end)
  end
  hotline.spawn(function() hotline.stop() end)   -- after every task parked
  hotline.run()
  collectgarbage(); collectgarbage()
  local after = collectgarbage("count") * 1024
  print(string.format("%s: %.0f bytes per parked task (Lua heap)", _VERSION
    .. (jit and " (LuaJIT)" or ""), (after - before) / n))
  for i = 1, n do pairs_[i][1]:close(); pairs_[i][2]:close() end
else
  local a, b = assert(hotline.socketpair())
  hotline.spawn(function()
    for _ = 1, n do
      assert(a:write("x")); assert(a:read(1))
    end
    a:close()
  end)
  hotline.spawn(function()
    while true do
      local c = b:read(1)
      if not c then break end
      b:write(c)
    end
    b:close()
  end)
  hotline.run()
end
