-- hotline.luasocket.select: socket.select(recvt, sendt [, timeout]) with
-- no FD_SETSIZE ceiling, and socket.sleep.
--
-- It first looks (a poll that does not wait) for every object that is
-- ready; if none is and the timeout allows, it waits for the first one
-- in loop.await_any (the one wait point: a yield in a task, a blocking
-- poll outside) and looks again. Objects with bytes already received but
-- not handed out (dirty) are ready to read without looking. Foreign
-- objects take part through getfd and dirty, as LuaSocket's select
-- allows; the look's poller stores descriptors without a system call
-- each (the poll backend), so one look costs one poll().
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local loop = require "hotline.loop"
local base = require "hotline.luasocket.base"

local now = core.monotime
local type, pairs, next, rawget = type, pairs, next, rawget
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running

local M = {}

local looker   -- a poll-backend poller, kept empty between calls

-- The hotline socket or descriptor number to watch for obj, and whether
-- obj already has bytes to read; nil for a closed or unusable object.
local function target(obj)
  if type(obj) == "table" then
    local sock = rawget(obj, "sock")
    if sock then return sock, obj.bpos <= #obj.buf end
    if sock ~= nil then return nil end     -- ours, closed
  end
  local getfd = obj and obj.getfd
  if not getfd then return nil end
  local fd = getfd(obj)
  if type(fd) ~= "number" or fd < 0 then return nil end
  local dirty = obj.dirty
  return fd, dirty and dirty(obj) and true or false
end

local function check_set(set, n, fname)
  if set ~= nil and type(set) ~= "table" then
    base.argerror(n, fname, "table expected, got " .. type(set), 4)
  end
end

-- Collects {obj, handle} of each usable object of set into list; also
-- records which handles are watched for what.
local function gather(set, want, list, modes, ready)
  if not set then return end
  for i = 1, #set do
    local obj = set[i]
    local handle, dirty = target(obj)
    if handle then
      list[#list + 1] = obj
      list[#list + 1] = handle
      if want == "r" and dirty then ready[obj] = true end
      local mode = modes[handle]
      if mode == nil then
        modes[handle] = want
      elseif mode ~= want then
        modes[handle] = "rw"
      end
    end
  end
end

-- One look without waiting: handle -> events for each handle ready.
local function look(modes)
  if not looker then looker = assert(core.poller("poll")) end
  local n = 0
  for handle, mode in pairs(modes) do
    looker:add(handle, mode)
    n = n + 1
  end
  local events = {}
  if n > 0 then
    for handle, ev in looker:wait(0) do events[handle] = ev end
  end
  for handle in pairs(modes) do looker:remove(handle) end
  return events
end

-- The objects of list ready for want, in list order, in LuaSocket's
-- result form (an array, each object also a key to its index).
local function collect(list, want, events, ready)
  local out, n = {}, 0
  for i = 1, #list, 2 do
    local obj, handle = list[i], list[i + 1]
    local ev = events[handle]
    if (want == "r" and ready[obj]) or (ev and (ev == "rw" or ev == want)) then
      if not out[obj] then
        n = n + 1
        out[n] = obj
        out[obj] = n
      end
    end
  end
  return out, n
end

-- socket.select(recvt, sendt [, timeout]) -> readable, writable [, "timeout"]
function M.select(recvt, sendt, timeout)
  if FORWARDING and nested[coroutine_running()] then
    return forward(M.select, recvt, sendt, timeout)
  end
  check_set(recvt, 1, "select")
  check_set(sendt, 2, "select")
  if timeout ~= nil and type(timeout) ~= "number" then
    base.argerror(3, "select", "number expected, got " .. type(timeout), 3)
  end
  if timeout and timeout < 0 then timeout = nil end
  local deadline = timeout and now() + timeout
  while true do
    local rlist, wlist, modes, ready = {}, {}, {}, {}
    gather(recvt, "r", rlist, modes, ready)
    gather(sendt, "w", wlist, modes, ready)
    if next(modes) == nil then
      if timeout then M.sleep(timeout) else repeat M.sleep(3600) until false end
      return {}, {}, "timeout"
    end
    local events = look(modes)
    local readable, nr = collect(rlist, "r", events, ready)
    local writable, nw = collect(wlist, "w", events, ready)
    if nr + nw > 0 then return readable, writable end
    if deadline and now() >= deadline then return readable, writable, "timeout" end
    local waitlist, n = {}, 0
    for handle, mode in pairs(modes) do
      if mode ~= "w" then
        waitlist[n + 1], waitlist[n + 2], n = handle, "wantread", n + 2
      end
      if mode ~= "r" then
        waitlist[n + 1], waitlist[n + 2], n = handle, "wantwrite", n + 2
      end
    end
    local _, err = loop.await_any(waitlist, deadline)
    if err == "timeout" then return {}, {}, "timeout" end
  end
end

-- socket.sleep(seconds): suspends the task, or blocks outside tasks.
function M.sleep(seconds)
  if FORWARDING and nested[coroutine_running()] then
    return forward(M.sleep, seconds)
  end
  seconds = tonumber(seconds)
  if not seconds then base.argerror(1, "sleep", "number expected", 3) end
  if seconds ~= seconds or seconds <= 0 then return end
  loop.sleep(seconds)
end

-- socket.gettime(): seconds since the epoch, with a fraction. The clock
-- is the monotonic one set against os.time() once, so that intervals
-- measured with it are exact.
local offset = os.time() - now()
function M.gettime()
  return now() + offset
end

return M
