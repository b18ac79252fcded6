-- hotline.sync: how tasks hand each other work and wait for each other:
-- channels (Go's: unbuffered by default, close then drain), conditions,
-- semaphores, and hotline.wait_any over channels and sockets.
--
-- They wait through the loop like sockets do (loop.park): a waiter is a
-- task in the object's queue, woken by loop.unpark; a wait that ends
-- otherwise (its timeout, a cancel) has the loop call the object's
-- forget(task) to take it out of the queue. Queues are FIFO, so waiters
-- are served in the order they came.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local loop = require "hotline.loop"
local task = require "hotline.task"

local now, park, unpark = core.monotime, loop.park, loop.unpark
local check_timeout, cannot_wait = task.check_timeout, task.cannot_wait
local select, type, error = select, type, error
local setmetatable, getmetatable = setmetatable, getmetatable

local sync = {}

local CLOSED = {}   -- what a channel's waiters are woken with when it closes

-- A FIFO of values: push at the tail, shift from the head.
local Fifo = {}
Fifo.__index = Fifo

local function fifo()
  return setmetatable({ head = 1, tail = 0 }, Fifo)
end

function Fifo:push(v)
  local tail = self.tail + 1
  self[tail], self.tail = v, tail
end

function Fifo:shift()
  local head = self.head
  if head > self.tail then return nil end
  local v = self[head]
  self[head] = nil
  if head == self.tail then
    self.head, self.tail = 1, 0
  else
    self.head = head + 1
  end
  return v
end

function Fifo:size()
  return self.tail - self.head + 1
end

-- Removes v (a waiting task), wherever it is; -> whether it was there.
function Fifo:remove(v)
  for i = self.head, self.tail do
    if self[i] == v then
      for j = i, self.tail - 1 do self[j] = self[j + 1] end
      self[self.tail] = nil
      self.tail = self.tail - 1
      return true
    end
  end
  return false
end

local function deadline_of(timeout)
  return timeout and now() + timeout
end

-- The task that would wait, or the error that says it would wait for ever.
local function waiter(level)
  local me = loop.running()
  if not me then cannot_wait(level + 1) end
  return me
end

-- Channels -------------------------------------------------------------

local Channel = {}
Channel.__index = Channel

-- hotline.channel([capacity]) -> channel; capacity 0 (the default) makes
-- every send wait for a receiver.
function sync.channel(capacity)
  if capacity == nil then capacity = 0 end
  if type(capacity) ~= "number" or capacity < 0 or capacity ~= math.floor(capacity) then
    error("bad argument #1 to 'channel' (capacity must be a whole number >= 0)", 2)
  end
  return setmetatable({ capacity = capacity, closed = false, buffer = fifo(),
    receivers = fifo(), senders = fifo(), sending = {} }, Channel)
end

-- A channel's watchers are tickets { task = t, watch = its wait_any },
-- a new one each time a hotline.wait_any (re)starts waiting; a ticket is
-- live while it is its task's latest and the task waits in that wait.
-- Ended waits are not taken out of the lists (that would cost a search
-- of a list per wake, where many tasks watch one channel): their tickets
-- are dropped when met (notify) or swept (add_watch).
local internal = loop.internal
local function live(ticket)
  local t, watch = ticket.task, ticket.watch
  return t.watching == ticket and (internal.suspended[t] == watch
    or (watch.list ~= nil and internal.many[t] == watch.list))
end

-- Wakes the tasks in hotline.wait_any on this channel: recv would not
-- wait.
local function notify(self)
  local watchers = self.watchers
  if watchers then
    self.watchers = nil
    for i = 1, #watchers do
      local ticket = watchers[i]
      if live(ticket) then task.poke(ticket.task, true) end
    end
  end
end

-- Adds a ticket to ch's list. Tickets of ended waits are swept when the
-- list has doubled since the last sweep: a channel nobody sends on would
-- otherwise keep one per ended wait, and the tasks with them.
local function add_watch(ch, ticket)
  local watchers = ch.watchers
  if not watchers then
    ch.watchers, ch.sweep_at = { ticket }, 8
    return
  end
  local n = #watchers
  if n >= ch.sweep_at then
    local kept = 0
    for i = 1, n do
      local w = watchers[i]
      watchers[i] = nil
      if w == ticket or live(w) then
        kept = kept + 1
        watchers[kept] = w
      end
    end
    n, ch.sweep_at = kept, 2 * kept + 8
  end
  watchers[n + 1] = ticket
end

-- ch:send(v [, timeout]): hands v to a receiver, or buffers it, or waits
-- until one of the two can be done. -> true | nil, "timeout". Raises on
-- nil and on a closed channel (also when it is closed while waiting).
function Channel:send(v, timeout)
  if v == nil then error("bad argument #1 to 'send' (nil cannot be sent)", 2) end
  if timeout ~= nil then check_timeout(timeout, 2, "send") end
  if self.closed then error("send on a closed channel", 2) end
  local receivers = self.receivers
  if receivers.tail >= receivers.head then
    unpark(receivers:shift(), v)
    return true
  end
  if self.buffer:size() < self.capacity then
    self.buffer:push(v)
    notify(self)
    return true
  end
  if timeout and timeout <= 0 then return nil, "timeout" end
  local me = waiter(2)
  self.senders:push(me)
  self.sending[me] = v
  notify(self)
  local ok, err = park(self, timeout and now() + timeout)
  if ok == CLOSED then error("send on a closed channel", 2) end
  if not ok then return nil, err end
  return true
end

-- ch:recv([timeout]) -> v | nil, "closed" (closed and drained) |
-- nil, "timeout"
function Channel:recv(timeout)
  if timeout ~= nil then check_timeout(timeout, 1, "recv") end
  local buffer, senders = self.buffer, self.senders
  if buffer.tail >= buffer.head then
    local v = buffer:shift()
    local sender = senders:shift()     -- its value takes the place freed
    if sender then
      buffer:push(self.sending[sender])
      self.sending[sender] = nil
      unpark(sender, true)
    end
    return v
  end
  if senders.tail >= senders.head then
    local sender = senders:shift()
    local v = self.sending[sender]
    self.sending[sender] = nil
    unpark(sender, true)
    return v
  end
  if self.closed then return nil, "closed" end
  if timeout and timeout <= 0 then return nil, "timeout" end
  self.receivers:push(waiter(2))
  local v, err = park(self, timeout and now() + timeout)
  if v == CLOSED then return nil, "closed" end
  if v == nil then return nil, err end
  return v
end

-- Closes the channel: receivers get what was sent, then nil, "closed";
-- waiting senders raise. -> true | false if it was closed already
function Channel:close()
  if self.closed then return false end
  self.closed = true
  for _, queue in ipairs({ self.receivers, self.senders }) do
    for t in Fifo.shift, queue do
      self.sending[t] = nil
      unpark(t, CLOSED)
    end
  end
  notify(self)
  return true
end

-- Whether recv would answer without waiting.
function Channel:ready()
  return self.closed or self.buffer:size() > 0 or self.senders:size() > 0
end

function Channel:forget(t)
  if not self.receivers:remove(t) and self.senders:remove(t) then
    self.sending[t] = nil
  end
end

function Channel:__tostring()
  return "hotline.channel (" .. self.buffer:size() .. "/" .. self.capacity
    .. (self.closed and ", closed)" or ")")
end

-- Whether a for loop's iterator may yield (not on Lua 5.1).
local iterator_yields = (function()
  local co = coroutine.create(function()
    for _ in coroutine.yield do break end   -- luacheck: ignore 512
  end)
  return coroutine.resume(co) and coroutine.status(co) == "suspended"
end)()

-- for v in ch:values() do ... end: every value until the channel is
-- closed and drained. On Lua 5.1 a for loop cannot wait: there it raises
-- when it would have to (use ch:recv() in a while loop).
function Channel:values()
  return function()
    if not iterator_yields and not self:ready() and loop.running() then
      error("ch:values() cannot wait on Lua 5.1: use ch:recv() in a while loop", 2)
    end
    return (self:recv())
  end
end

-- Conditions -----------------------------------------------------------

local Condition = {}
Condition.__index = Condition

function sync.condition()
  return setmetatable({ waiters = fifo() }, Condition)
end

-- c:wait([timeout]) -> true once signalled | nil, "timeout"
function Condition:wait(timeout)
  check_timeout(timeout, 1, "wait")
  if timeout and timeout <= 0 then return nil, "timeout" end
  self.waiters:push(waiter(2))
  local ok, err = park(self, deadline_of(timeout))
  if not ok then return nil, err end
  return true
end

-- Wakes the task that has waited longest. -> whether there was one
function Condition:signal()
  local t = self.waiters:shift()
  if t then unpark(t, true) end
  return t ~= nil
end

-- Wakes every waiting task. -> how many
function Condition:broadcast()
  local n = 0
  for t in Fifo.shift, self.waiters do
    unpark(t, true)
    n = n + 1
  end
  return n
end

function Condition:forget(t)
  self.waiters:remove(t)
end

-- Semaphores -----------------------------------------------------------

local Semaphore = {}
Semaphore.__index = Semaphore

-- hotline.semaphore(n): n permits.
function sync.semaphore(n)
  if type(n) ~= "number" or n < 0 or n ~= math.floor(n) then
    error("bad argument #1 to 'semaphore' (whole number >= 0 expected)", 2)
  end
  return setmetatable({ count = n, waiters = fifo() }, Semaphore)
end

-- s:acquire([timeout]) -> true with a permit | nil, "timeout"
function Semaphore:acquire(timeout)
  check_timeout(timeout, 1, "acquire")
  if self.count > 0 and self.waiters:size() == 0 then
    self.count = self.count - 1
    return true
  end
  if timeout and timeout <= 0 then return nil, "timeout" end
  self.waiters:push(waiter(2))
  local ok, err = park(self, deadline_of(timeout))   -- release hands us its permit
  if not ok then return nil, err end
  return true
end

-- Gives a permit back: to the task that has waited longest, if any.
function Semaphore:release()
  local t = self.waiters:shift()
  if t then
    unpark(t, true)
  else
    self.count = self.count + 1
  end
  return true
end

function Semaphore:forget(t)
  self.waiters:remove(t)
end

local function released(self, ok, ...)
  self:release()
  if not ok then error((...), 0) end
  return ...
end

-- s:with(fn, ...): fn(...) holding a permit, released however fn ends.
-- -> fn's results; fn's error passes through.
function Semaphore:with(fn, ...)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'with' (function expected, got " .. type(fn) .. ")", 2)
  end
  self:acquire()
  return released(self, task.pcall(fn, ...))
end

-- wait_any -------------------------------------------------------------

-- A task's hotline.wait_any: the channels it watches (self[1..n]; the
-- sockets are in list).
local Watch = {}
Watch.__index = Watch

-- (the loop's call when a wait on channels only ends by timeout or
-- cancel: the ticket is no longer live, nothing else to do)
function Watch.forget()
end

-- hotline.wait_any(x1, x2, ... [, timeout]): waits until one of the
-- channels has something for recv (or is closed) or one of the sockets
-- has something to read (or is closed). -> the index of one that is ready,
-- at once if one is | nil, "timeout" | nil, msg, code when the sockets
-- cannot be watched. Only waits: the caller then makes the call (which
-- another task may have made first).
function sync.wait_any(...)
  local n = select("#", ...)
  local timeout = n > 0 and select(n, ...) or nil
  if type(timeout) == "number" then n = n - 1 else timeout = nil end
  if n == 0 then error("bad argument #1 to 'wait_any' (channel or socket expected)", 2) end
  local watch = setmetatable({ n = n, ... }, Watch)
  local list, where   -- the sockets, for loop.await_any, and their places
  for i = 1, n do
    local x = watch[i]
    if getmetatable(x) ~= Channel then
      if not core.type(x) then
        error("bad argument #" .. i .. " to 'wait_any' (channel or socket expected, got "
          .. type(x) .. ")", 2)
      end
      list, where = list or {}, where or {}
      list[#list + 1], list[#list + 2] = x, "wantread"
      where[#list - 1] = i
    end
  end
  watch.list = list
  local deadline = deadline_of(timeout)
  while true do
    for i = 1, n do
      local x = watch[i]
      if getmetatable(x) == Channel and x:ready() then return i end
    end
    local me = loop.running()
    if me then
      local ticket = { task = me, watch = watch }
      me.watching = ticket
      for i = 1, n do
        local ch = watch[i]
        if getmetatable(ch) == Channel then add_watch(ch, ticket) end
      end
    elseif not list then
      cannot_wait(2)
    end
    if list then
      local k, err, code = loop.await_any(list, deadline)
      if me then me.watching = nil end
      if k then return where[k] end
      if err == "timeout" then return nil, err end
      if err ~= "closed" then return nil, err, code end   -- "closed": a channel woke us
    else
      local _, err = park(watch, deadline)
      me.watching = nil
      if err then return nil, err end
    end
  end
end

return sync
