-- hotline.task: what a task object can do (join, cancel, status), the
-- running task (hotline.current), deadlines over a piece of a task
-- (hotline.timeout) and timers (hotline.timer).
--
-- A timeout scope is an entry in the loop's deadline heap; when it is due
-- the loop cancels the scope's task with the scope itself as the error
-- value, the error unwinds to the scope, and the scope turns it into
-- nil, "timeout", "ETIMEDOUT". Errors are caught with pcall where a yield
-- may cross it (Lua 5.2+, LuaJIT); on Lua 5.1 the function runs in a
-- coroutine of its own whose yields are passed on to the loop.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local heap = require "hotline.heap"
local loop = require "hotline.loop"

local now = core.monotime
local coroutine_create, coroutine_resume = coroutine.create, coroutine.resume
local coroutine_status, coroutine_yield = coroutine.status, coroutine.yield
local type, error, setmetatable, xpcall = type, error, setmetatable, xpcall
local traceback = debug.traceback
local unpack = table.unpack or unpack -- luacheck: compat

local task = {}

local WAIT_FOREVER = "would wait for ever outside a task: call it inside hotline.spawn"
task.WAIT_FOREVER = WAIT_FOREVER

-- What a wait that only another task could end raises where the running
-- code cannot yield: outside tasks, or in a task under a C function
-- (pcall on Lua 5.1, table.sort's comparator...), where blaming "outside
-- a task" would send the reader looking in the wrong place.
function task.cannot_wait(level)
  if loop.current() then
    error("would wait for ever where this task cannot yield (under a C function,"
      .. " such as pcall on Lua 5.1)", level + 1)
  end
  error(WAIT_FOREVER, level + 1)
end

local function check_timeout(timeout, n, fname)
  if timeout ~= nil and (type(timeout) ~= "number" or timeout ~= timeout) then
    error("bad argument #" .. n .. " to '" .. fname .. "' (number expected, got "
      .. type(timeout) .. ")", 3)
  end
end
task.check_timeout = check_timeout

-- Protected calls ------------------------------------------------------

-- Whether a yield can cross pcall here (not on Lua 5.1).
local pcall_yields = (function()
  local co = coroutine_create(function() return pcall(coroutine_yield) end)
  return coroutine_resume(co) and coroutine_status(co) == "suspended"
end)()

-- An error message leaving fn keeps its traceback in the running task,
-- for the loop to report should the error end the task: re-raised by a
-- scope, its own traceback would start there. The first look wins (the
-- error then passes outer scopes). Cancels and scopes are no strings.
local function keep_trace(err, trace)
  local t = loop.current()
  if t and t.failure ~= err then t.failure, t.trace = err, trace end
end

local function on_error(err)
  if type(err) == "string" then keep_trace(err, traceback(err, 2)) end
  return err
end

local function xpcall_traced(fn, ...)
  return xpcall(fn, on_error, ...)
end

-- Lua 5.1: fn runs in a coroutine of its own; what it yields (a wait) is
-- yielded on to the loop and what the loop resumes with is passed back
-- in. While it runs the loop takes it for the task's own coroutine.
local resume_inner
local function step(co, outer, ok, ...)
  loop.run_in(outer)
  if not ok then
    local err = ...
    if type(err) == "string" then   -- fn's frames, then the caller's
      keep_trace(err, traceback(co, err) .. (traceback("", 2):gsub("^%s*stack traceback:", "")))
    end
    return false, err
  end
  if coroutine_status(co) == "dead" then return true, ... end
  return step(co, outer, resume_inner(co, coroutine_yield(...)))
end

function resume_inner(co, ...)
  loop.run_in(co)
  return coroutine_resume(co, ...)
end

-- The coroutine's body: on 5.1 coroutine.create takes no C function.
local function call(fn, ...)
  return fn(...)
end

local function forwarding_pcall(fn, ...)
  -- where the task cannot yield (inside pcall, a coroutine of the caller's
  -- own) fn's waits block, as they would without us: a yield passed on
  -- from here would fail, past the caller's cleanup
  if not loop.running() then return pcall(fn, ...) end
  local co = coroutine_create(call)
  local outer = loop.run_in(co)
  return step(co, outer, coroutine_resume(co, fn, ...))
end

-- task.pcall(fn, ...): pcall that lets fn wait (yield to the loop) on
-- every Lua, and keeps the traceback of an error message (keep_trace).
-- -> true, fn's results | false, error value
task.pcall = pcall_yields and xpcall_traced or forwarding_pcall

-- Cancelling -----------------------------------------------------------

local internal = loop.internal
local CANCELLED, unwait, enqueue = internal.CANCELLED, internal.unwait, internal.enqueue
local CANCEL, current = internal.CANCEL, internal.current

-- Cancels t with err (CANCELLED, or a timeout scope of depth err.depth):
-- a waiting task's wait raises err at once, a running one's at its next
-- wait. A pending cancellation is kept if it is stronger (CANCELLED, or
-- an outer scope). -> false if the task was over.
local function interrupt(t, err)
  if type(t[1]) ~= "thread" then return false end
  local pending = t.cancelling
  if pending then
    if pending == CANCELLED or (err ~= CANCELLED and pending.depth <= err.depth) then
      return true
    end
  else
    internal.add_cancel(1)
  end
  t.cancelling = err
  if t ~= current() and unwait(t) then enqueue(t, CANCEL) end
  return true
end
internal.interrupt = interrupt

-- Withdraws a timeout scope's cancellation once the scope is over.
local function uninterrupt(t, err)
  if t.cancelling == err then
    t.cancelling = nil
    internal.add_cancel(-1)
  end
end

-- Ends whatever wait t is in with value (loop.await_any then answers
-- nil, "closed"; loop.park answers value): for hotline.wait_any, whose
-- task waits on sockets and channels at once. -> whether it was waiting.
function task.poke(t, value)
  if t ~= current() and unwait(t) then
    enqueue(t, value)
    return true
  end
  return false
end

-- Whether t waits (for a socket, a timer, a task, a channel...).
local function waiting(t)
  if internal.slot[t] or internal.many[t] or internal.suspended[t] then return true end
  local sock = t[2]
  return (sock and (internal.readers[sock] == t or internal.writers[sock] == t)) or false
end

-- Task objects ---------------------------------------------------------

local Task = loop.Task

-- The joiners of a task, parked on this list until it ends.
local Joiners = {}
Joiners.__index = Joiners

function Joiners:forget(t)
  for i = 1, #self do
    if self[i] == t then
      table.remove(self, i)
      return
    end
  end
end

-- t:join([timeout]) -> true, fn's results | nil, message (traceback) |
-- nil, "cancelled" | nil, "timeout" (the join's own timeout)
function Task:join(timeout)
  check_timeout(timeout, 1, "join")
  if type(self[1]) == "thread" then
    if loop.current() == self then error("a task cannot join itself", 2) end
    if timeout and timeout <= 0 then return nil, "timeout" end
    local me = loop.running()
    if not me then task.cannot_wait(2) end
    local joiners = self.joiners
    if not joiners then
      joiners = setmetatable({}, Joiners)
      self.joiners = joiners
    end
    joiners[#joiners + 1] = me
    if not loop.park(joiners, timeout and now() + timeout) then return nil, "timeout" end
  end
  local state, results = self[1], self[2]   -- an ended task keeps them here
  if state == "done" then
    if not results then return true end
    return true, unpack(results, 1, results.n)
  elseif state == "failed" then
    return nil, results
  end
  return nil, "cancelled"
end

-- Cancels the task: its wait (or its next one, if it is running) raises
-- an error that unwinds it; pcall sees it, the loop does not report it.
-- -> true | false when the task had ended already
function Task:cancel()
  return interrupt(self, CANCELLED)
end

-- -> "running" (running or ready to run), "waiting", "done", "failed" or
-- "cancelled"
function Task:status()
  local state = self[1]
  if type(state) ~= "thread" then return state end
  if self ~= loop.current() and waiting(self) then return "waiting" end
  return "running"
end

function Task:__tostring()
  return "hotline.task (" .. self:status() .. ")"
end

-- -> the running task, or nil outside tasks
task.current = loop.current

-- Timeout scopes -------------------------------------------------------

local Scope = { __tostring = function() return "timeout" end }

local function close_scope(me, scope, ok, ...)
  heap.remove(scope)
  me.scopes = scope.depth - 1
  uninterrupt(me, scope)
  if ok then return ... end
  local err = ...
  if err == scope then return nil, "timeout", "ETIMEDOUT" end
  error(err, 0)
end

-- Raises, for the caller of fname, unless seconds is a number and fn a
-- function (hotline.timeout's and hotline.timer's arguments).
local function check_seconds_fn(fname, seconds, fn)
  if type(seconds) ~= "number" or seconds ~= seconds then
    error("bad argument #1 to '" .. fname .. "' (number expected, got " .. type(seconds) .. ")", 3)
  end
  if type(fn) ~= "function" then
    error("bad argument #2 to '" .. fname .. "' (function expected, got " .. type(fn) .. ")", 3)
  end
end

-- hotline.timeout(seconds, fn, ...): runs fn(...) in the running task with
-- a deadline over all its waits. -> fn's results | nil, "timeout",
-- "ETIMEDOUT" when the deadline passed first (its waits were ended as by
-- a cancel, their cleanups ran). Errors from fn pass through.
function task.timeout(seconds, fn, ...)
  check_seconds_fn("timeout", seconds, fn)
  local me = loop.running()
  if not me then
    if loop.current() then
      error("hotline.timeout where this task cannot yield (under a C function,"
        .. " such as pcall on Lua 5.1)", 2)
    end
    error("hotline.timeout outside a task: call it inside hotline.spawn", 2)
  end
  local scope = setmetatable({ task = me, depth = (me.scopes or 0) + 1 }, Scope)
  me.scopes = scope.depth
  heap.push(scope, now() + seconds)
  return close_scope(me, scope, task.pcall(fn, ...))
end

-- Timers ---------------------------------------------------------------

-- hotline.timer(seconds, fn): runs fn() in a task after seconds, unless
-- timer:cancel() comes first; a cancelled timer keeps run() waiting no
-- longer. -> timer
local Timer = {}
Timer.__index = Timer

function Timer:cancel()
  if self.done then return false end
  self.done = true
  self.task:cancel()
  return true
end

function task.timer(seconds, fn)
  check_seconds_fn("timer", seconds, fn)
  local timer = setmetatable({ done = false }, Timer)
  timer.task = loop.spawn(function()
    loop.sleep(seconds)
    if timer.done then return end   -- cancelled during a sleep of 0
    timer.done = true
    fn()
  end)
  return timer
end

return task
