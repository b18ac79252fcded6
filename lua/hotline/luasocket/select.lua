-- hotline.luasocket.select: socket.select(recvt, sendt [, timeout]) with
-- no FD_SETSIZE ceiling, and socket.sleep and socket.gettime.
--
-- Each caller (each task, and the code outside tasks) keeps an epoll set
-- of its own between calls. For sets of hotline.luasocket objects only,
-- that is watch.lua's copied set: the sets are compared with a copy of
-- the last call's, only what changed is told to epoll, and one epoll_wait
-- finds every ready object. Outside tasks the wait comes first and is that
-- epoll_wait (loop.await on the poller); in a task a look comes first, and
-- the task then waits for the set's descriptor in loop.await_any (the one
-- wait point either way). Sets with foreign objects, which take part
-- through getfd and dirty as LuaSocket allows, use a second epoll set
-- diffed by handle (watch_for below); without epoll (the poll backend) a
-- poll poller looks and loop.await_any waits on the whole list. One object
-- alone to read waits in loop.await. Objects with bytes received but not
-- handed out (dirty) are ready to read at once.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local loop = require "hotline.loop"
local base = require "hotline.luasocket.base"
local watch = require "hotline.luasocket.watch"

local now, waitfd = core.monotime, core.waitfd
local type, pairs, next, rawget = type, pairs, next, rawget
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running
local readers = loop.internal.readers   -- socket -> the task waiting to read it

local M = {}

-- false: select without watch sets (as without epoll); for the specs
M.watch_sets = true

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

-- Scratch tables, emptied and filled by each call (a wait may come
-- between, but a call fills them again after it): no garbage per call
-- but the two results. slist holds obj, handle, want triples; smodes
-- handle -> "r", "w" or "rw"; sready the dirty objects; sevents
-- handle -> the events a look found.
local slist, smodes, sready, sevents = {}, {}, {}, {}

local function clear(t)
  for k in pairs(t) do t[k] = nil end
end

-- Adds set's usable objects to the scratch tables, after n entries of
-- slist. -> new n, added plus the handles smodes gained
local function gather(set, want, n, added)
  if not set then return n, added end
  for i = 1, #set do
    local obj = set[i]
    local handle, dirty
    if type(obj) == "table" and rawget(obj, "sock") then
      handle, dirty = obj.sock, obj.bpos <= #obj.buf
    else
      handle, dirty = target(obj)
    end
    if handle then
      slist[n + 1], slist[n + 2], slist[n + 3], n = obj, handle, want, n + 3
      if dirty and want == "r" then sready[obj] = true end
      local mode = smodes[handle]
      if mode == nil then
        smodes[handle], added = want, added + 1
      elseif mode ~= want then
        smodes[handle] = "rw"
      end
    end
  end
  return n, added
end

-- The ready objects among the first n entries of slist, in order, in
-- LuaSocket's result form (an array, each object also a key to its
-- index). -> readable, writable, how many in all
local function collect(n)
  local readable, writable, nr, nw = {}, {}, 0, 0
  for i = 1, n, 3 do
    local obj, want = slist[i], slist[i + 2]
    local ev = sevents[slist[i + 1]]
    if want == "r" then
      if ((ev and ev ~= "w") or sready[obj]) and not readable[obj] then
        nr = nr + 1
        readable[nr], readable[obj] = obj, nr
      end
    elseif ev and ev ~= "r" and not writable[obj] then
      nw = nw + 1
      writable[nw], writable[obj] = obj, nw
    end
  end
  return readable, writable, nr + nw
end

-- Watch sets: caller (task, or true outside tasks) -> { poller, modes }.
local watches = setmetatable({}, { __mode = "k" })

-- What a socket about to be closed does to a watch set (watch.lua).
local General = {}
General.__index = General

function General:drop(sock)
  self.poller:forget(sock)
  if self.modes[sock] then
    self.modes[sock] = nil
    self.n = self.n - 1
  end
end

-- The caller's epoll set, brought up to date with modes (count
-- handles) -> poller, its descriptor | nil without epoll. Descriptor
-- numbers (foreign objects) leave at the next call: nothing tells when
-- they are closed.
local function watch_for(modes, count, caller)
  if not M.watch_sets then return nil end
  local w = watches[caller]
  if not w then
    local p = watch.epoll()
    if not p then return nil end
    w = setmetatable({ poller = p, fd = p:fileno(), modes = {}, n = 0, numbers = nil }, General)
    watches[caller] = w
  end
  local p, watched = w.poller, w.modes
  local numbers = w.numbers
  if numbers then
    for i = 1, #numbers do
      p:remove(numbers[i])
      watched[numbers[i]] = nil
      w.n = w.n - 1
    end
    w.numbers = nil
  end
  for handle, mode in pairs(modes) do
    local old = watched[handle]
    if old ~= mode then
      p:add(handle, mode)
      watched[handle] = mode
      if old == nil then w.n = w.n + 1 end
      if type(handle) == "number" then
        w.numbers = w.numbers or {}
        w.numbers[#w.numbers + 1] = handle
      else
        watch.own(handle, w)
      end
    end
  end
  if w.n ~= count then     -- some watched handles are not asked for now
    for handle in pairs(watched) do
      if not modes[handle] then
        p:remove(handle)
        watched[handle] = nil
        w.n = w.n - 1
        if type(handle) ~= "number" then watch.disown(handle, w) end
      end
    end
  end
  return p, w.fd
end

local looker   -- without epoll: a poll poller, empty between calls

-- One look without waiting: fills sevents with handle -> events.
local function look(p, modes)
  clear(sevents)
  if p then
    for handle, ev in p:wait(0) do sevents[handle] = ev end
    return
  end
  looker = looker or assert(core.poller("poll"))
  for handle, mode in pairs(modes) do looker:add(handle, mode) end
  for handle, ev in looker:wait(0) do sevents[handle] = ev end
  for handle in pairs(modes) do looker:remove(handle) end
end

local WANT = { r = "wantread", w = "wantwrite" }

-- Waits for something in modes, or until deadline: false on timeout.
-- fd: the watch set's descriptor, if there is one; task: loop.running().
local function wait(fd, modes, count, deadline, task)
  if count == 1 then
    local handle, mode = next(modes)
    if mode ~= "rw" then
      local ok, err = loop.await(handle, WANT[mode], deadline)
      return ok or err ~= "timeout"
    end
  end
  if fd then
    -- the set's descriptor is readable while anything in it is ready.
    -- Outside tasks loop.await polls it and registers nothing; a task
    -- uses await_any, which takes it off the loop's poller afterwards
    -- (the set may be closed later, and its number reused)
    local _, err
    if task then
      _, err = loop.await_any({ fd, "wantread" }, deadline)
    else
      _, err = loop.await(fd, "wantread", deadline)
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
  clear(sevents)
  local r = mode ~= "w" and waitfd(handle, "wantread", 0)
  local w = mode ~= "r" and waitfd(handle, "wantwrite", 0)
  if r or w then sevents[handle] = r and (w and "rw" or "r") or "w" end
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
  -- another task waits on the socket itself: take the caller's watch set
  if readers[handle] and timeout ~= 0 then return nil end
  if timeout == 0 then return waitfd(handle, "wantread", 0) and obj or false end
  local ok, err = loop.await(handle, "wantread", deadline)
  if ok then return obj end
  -- a deadline already past ends the wait without a look: one more look,
  -- as LuaSocket's select always makes one
  if err == "timeout" then return waitfd(handle, "wantread", 0) and obj or false end
  return nil
end

-- Waits for the copied watch set's descriptor to become readable, or
-- until deadline: false on timeout. Outside tasks the wait is on the
-- poller itself, whose next look then makes no system call.
local function wait_copied(set, deadline, task)
  local _, err
  if task then
    _, err = loop.await_any({ set.fd, "wantread" }, deadline)
  else
    _, err = loop.await(set.poller, "wantread", deadline)
  end
  return err ~= "timeout"
end

-- select over sets of hotline.luasocket objects only, on the caller's
-- copied watch set (watch.lua) -> select's results; nil when the sets
-- hold other objects.
local function copied_select(task, recvt, sendt, timeout, deadline)
  local set, dirty = watch.prepare(task or true, recvt, sendt)
  if not set then return nil end
  -- outside tasks, wait first: that wait looks too, so a busy server
  -- makes one epoll_wait per call and an idle one no more
  local wait_first = not task
  while true do
    if wait_first and not dirty and timeout ~= 0 and set.watched > 0 then
      -- its timeout still leaves the look below (a deadline already past
      -- ends the wait without one)
      wait_copied(set, deadline, task)
    end
    local readable, writable, found = watch.collect(set, recvt, sendt)
    if found > 0 then return readable, writable end
    if set.watched == 0 then
      if timeout then M.sleep(timeout) else repeat M.sleep(3600) until false end
      return {}, {}, "timeout"
    end
    if timeout == 0 or (deadline and now() >= deadline) then return {}, {}, "timeout" end
    if not wait_copied(set, deadline, task) then return {}, {}, "timeout" end
    set, dirty = watch.prepare(task or true, recvt, sendt)
    if not set then return nil end
    wait_first = false
  end
end

-- socket.select(recvt, sendt [, timeout]) -> readable, writable [, "timeout"]
function M.select(recvt, sendt, timeout)
  if FORWARDING and nested[coroutine_running()] then
    return forward(M.select, recvt, sendt, timeout)
  end
  -- one object of ours to read, without a time limit: the usual call in
  -- a task, which waits on the object's socket itself
  if sendt == nil and timeout == nil and type(recvt) == "table" and recvt[2] == nil then
    local obj = recvt[1]
    local sock = type(obj) == "table" and rawget(obj, "sock")
    if sock and not readers[sock] then
      if obj.bpos <= #obj.buf or loop.await(sock, "wantread", nil) then
        return { obj, [obj] = 1 }, {}
      end
    end
  end
  if (recvt ~= nil and type(recvt) ~= "table") or (sendt ~= nil and type(sendt) ~= "table") then
    check_set(recvt, 1, "select")
    check_set(sendt, 2, "select")
  end
  if timeout ~= nil and type(timeout) ~= "number" then
    local n = tonumber(timeout)     -- LuaSocket takes "0.5" too
    if not n then base.argerror(3, "select", "number expected, got " .. type(timeout), 3) end
    timeout = n
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
  local task = loop.running()
  if M.watch_sets then
    local readable, writable, err = copied_select(task, recvt, sendt, timeout, deadline)
    if readable then return readable, writable, err end
  end
  local waited = false
  while true do
    clear(smodes)
    if next(sready) then clear(sready) end
    local n, count = gather(recvt, "r", 0, 0)
    n, count = gather(sendt, "w", n, count)
    if count == 0 then
      if timeout then M.sleep(timeout) else repeat M.sleep(3600) until false end
      return {}, {}, "timeout"
    end
    local p, fd
    if count == 1 and not waited then
      if timeout == 0 and next(sready) == nil then look_one(next(smodes)) else clear(sevents) end
    else
      if count > 1 then p, fd = watch_for(smodes, count, task or true) end
      if fd and not waited and not task and timeout ~= 0 and next(sready) == nil then
        -- outside tasks, wait first: the poll answers at once if anything
        -- is ready, and one look then finds it all
        if not wait(fd, smodes, count, deadline, task) then
          for i = 1, n do slist[i] = nil end
          return {}, {}, "timeout"
        end
      end
      look(p, smodes)
    end
    local readable, writable, found = collect(n)
    if found > 0 or (deadline and now() >= deadline)
        or not wait(fd, smodes, count, deadline, task) then
      for i = 1, n do slist[i] = nil end   -- let go of the objects
      if found > 0 then return readable, writable end
      return readable, writable, "timeout"
    end
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
