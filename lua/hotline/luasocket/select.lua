-- hotline.luasocket.select: socket.select(recvt, sendt [, timeout]) with
-- no FD_SETSIZE ceiling, and socket.sleep and socket.gettime.
--
-- Each caller (each task, and the code outside tasks) keeps an epoll set
-- of its own between calls, brought up to date with what the call asks
-- for: a server that selects on much the same sockets every time pays
-- system calls only for what changed, and one epoll_wait that does not
-- wait finds every ready object. When none is, the caller waits for the
-- set's descriptor to become readable in loop.await_any, the one wait
-- point (a yield in a task, a blocking poll outside). One object alone
-- waits in loop.await instead. Without epoll (the poll backend) a poll
-- poller looks and loop.await_any waits on the whole list. Objects with
-- bytes received but not handed out (dirty) are ready to read at once;
-- foreign objects take part through getfd and dirty, as LuaSocket allows.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local loop = require "hotline.loop"
local base = require "hotline.luasocket.base"

local now, waitfd = core.monotime, core.waitfd
local type, pairs, next, rawget = type, pairs, next, rawget
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running

local M = {}

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

-- Collects obj, handle pairs of set's usable objects into list, what
-- each handle is watched for into modes ("r", "w", "rw"), and the
-- dirty objects into ready. -> how many handles modes gained
local function gather(set, want, list, modes, ready)
  if not set then return 0 end
  local added, n = 0, 0
  for i = 1, #set do
    local obj = set[i]
    local handle, dirty = target(obj)
    if handle then
      list[n + 1], list[n + 2], n = obj, handle, n + 2
      if dirty and want == "r" then ready[obj] = true end
      local mode = modes[handle]
      if mode == nil then
        modes[handle], added = want, added + 1
      elseif mode ~= want then
        modes[handle] = "rw"
      end
    end
  end
  return added
end

-- The objects of list ready for want, in list order, in LuaSocket's
-- result form (an array, each object also a key to its index).
local function collect(list, want, events, ready)
  local out, n = {}, 0
  for i = 1, #list, 2 do
    local obj = list[i]
    local ev = events[list[i + 1]]
    if (ev and (ev == "rw" or ev == want)) or (want == "r" and ready[obj]) then
      if not out[obj] then
        n = n + 1
        out[n] = obj
        out[obj] = n
      end
    end
  end
  return out, n
end

-- Watch sets: caller (task, or true outside tasks) -> { poller, modes }.
local watches = setmetatable({}, { __mode = "k" })
local have_epoll   -- nil: not tried yet

-- sock -> the watch set it is in, or a set of them: a socket must leave
-- them before it is closed (base.close calls forget), since a new socket
-- may get its descriptor number.
local owners = setmetatable({}, { __mode = "k" })

local function own(sock, w)
  local o = owners[sock]
  if o == nil then
    owners[sock] = w
  elseif o ~= w then
    if o.poller then owners[sock] = { [o] = true, [w] = true } else o[w] = true end
  end
end

function base.forget(sock)
  local o = owners[sock]
  if not o then return end
  owners[sock] = nil
  if o.poller then o = { [o] = true } end
  for w in pairs(o) do
    w.poller:forget(sock)
    w.modes[sock] = nil
  end
end

-- The caller's epoll set, brought up to date with modes; nil without
-- epoll. Descriptor numbers (foreign objects) are added for this call
-- only: nothing tells when they are closed.
local function watch_for(modes)
  if have_epoll == false then return nil end
  local caller = loop.running() or true
  local w = watches[caller]
  if not w then
    local p = core.poller("epoll")
    have_epoll = p and true or false
    if not p then return nil end
    w = { poller = p, modes = {} }
    watches[caller] = w
  end
  local p, watched = w.poller, w.modes
  for handle in pairs(watched) do
    if not modes[handle] or type(handle) == "number" then
      p:remove(handle)
      watched[handle] = nil
      if owners[handle] == w then owners[handle] = nil end
    end
  end
  for handle, mode in pairs(modes) do
    if watched[handle] ~= mode then
      p:add(handle, mode)
      watched[handle] = mode
      if type(handle) ~= "number" then own(handle, w) end
    end
  end
  return p
end

local looker   -- without epoll: a poll poller, empty between calls

-- One look without waiting: -> handle -> events for the ready ones.
local function look(p, modes)
  local events = {}
  if p then
    for handle, ev in p:wait(0) do events[handle] = ev end
    return events
  end
  looker = looker or assert(core.poller("poll"))
  for handle, mode in pairs(modes) do looker:add(handle, mode) end
  for handle, ev in looker:wait(0) do events[handle] = ev end
  for handle in pairs(modes) do looker:remove(handle) end
  return events
end

local WANT = { r = "wantread", w = "wantwrite" }

-- Waits for something in modes, or until deadline: false on timeout.
local function wait(p, modes, count, deadline)
  if count == 1 then
    local handle, mode = next(modes)
    if mode ~= "rw" then
      local ok, err = loop.await(handle, WANT[mode], deadline)
      return ok or err ~= "timeout"
    end
  end
  if p then
    -- the set's descriptor is readable while anything in it is ready.
    -- Outside tasks loop.await polls it and registers nothing; a task
    -- uses await_any, which takes it off the loop's poller afterwards
    -- (the set may be closed later, and its number reused)
    local _, err
    if loop.running() then
      _, err = loop.await_any({ p:fileno(), "wantread" }, deadline)
    else
      _, err = loop.await(p:fileno(), "wantread", deadline)
    end
    return err ~= "timeout"
  end
  local list, n = {}, 0
  for handle, mode in pairs(modes) do
    if mode ~= "w" then list[n + 1], list[n + 2], n = handle, "wantread", n + 2 end
    if mode ~= "r" then list[n + 1], list[n + 2], n = handle, "wantwrite", n + 2 end
  end
  local _, err = loop.await_any(list, deadline)
  return err ~= "timeout"
end

-- A single object: one look of its own, no watch set.
local function look_one(handle, mode)
  local events = {}
  local r = mode ~= "w" and waitfd(handle, "wantread", 0)
  local w = mode ~= "r" and waitfd(handle, "wantwrite", 0)
  if r or w then events[handle] = r and (w and "rw" or "r") or "w" end
  return events
end

-- select on one object to read, the usual case in a task: -> obj when
-- it is ready, false on timeout, nil to take the general path.
local function select_one(obj, deadline, timeout)
  local handle, dirty
  if type(obj) == "table" and rawget(obj, "sock") then
    handle, dirty = obj.sock, obj.bpos <= #obj.buf
  else
    handle, dirty = target(obj)
    if not handle then return nil end
  end
  if dirty then return obj end
  if timeout == 0 then return waitfd(handle, "wantread", 0) and obj or false end
  local ok, err = loop.await(handle, "wantread", deadline)
  if ok then return obj end
  if err == "timeout" then return false end
  return nil
end

-- socket.select(recvt, sendt [, timeout]) -> readable, writable [, "timeout"]
function M.select(recvt, sendt, timeout)
  if FORWARDING and nested[coroutine_running()] then
    return forward(M.select, recvt, sendt, timeout)
  end
  if (recvt ~= nil and type(recvt) ~= "table") or (sendt ~= nil and type(sendt) ~= "table") then
    check_set(recvt, 1, "select")
    check_set(sendt, 2, "select")
  end
  if timeout ~= nil and type(timeout) ~= "number" then
    base.argerror(3, "select", "number expected, got " .. type(timeout), 3)
  end
  if timeout and timeout < 0 then timeout = nil end
  local deadline = timeout and now() + timeout
  if recvt and (sendt == nil or sendt[1] == nil) and recvt[2] == nil and recvt[1] ~= nil then
    local ready = select_one(recvt[1], deadline, timeout)
    if ready ~= nil then
      if ready then return { ready, [ready] = 1 }, {} end
      return {}, {}, "timeout"
    end
  end
  local waited = false
  while true do
    local rlist, wlist, modes, ready = {}, {}, {}, {}
    local count = gather(recvt, "r", rlist, modes, ready) + gather(sendt, "w", wlist, modes, ready)
    if count == 0 then
      if timeout then M.sleep(timeout) else repeat M.sleep(3600) until false end
      return {}, {}, "timeout"
    end
    local p, events
    if count == 1 and not waited then
      events = (timeout ~= 0 or next(ready)) and {} or look_one(next(modes))
    else
      p = count > 1 and watch_for(modes) or nil
      if p and not waited and timeout ~= 0 and next(ready) == nil and not loop.running() then
        -- outside tasks, wait first: the poll answers at once if anything
        -- is ready, and one look then finds it all
        if not wait(p, modes, count, deadline) then return {}, {}, "timeout" end
      end
      events = look(p, modes)
    end
    local readable, nr = collect(rlist, "r", events, ready)
    local writable, nw = collect(wlist, "w", events, ready)
    if nr + nw > 0 then return readable, writable end
    if deadline and now() >= deadline then return readable, writable, "timeout" end
    if not wait(p, modes, count, deadline) then return readable, writable, "timeout" end
    waited = true
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
