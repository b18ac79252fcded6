-- hotline.loop: the coroutine scheduler and the one wait point.
--
-- A task is a coroutine in a task object (what hotline.spawn returns;
-- methods in hotline.task). A socket call that would block waits in
-- loop.await: inside a task it registers the task as the socket's reader
-- or writer and yields, and the loop resumes it when the poller reports
-- the socket ready, its deadline passes or another task closes the
-- socket; outside any task it blocks in core.waitfd. Nothing is allocated
-- per wait: waiters live in tables keyed by socket, deadlines in a heap
-- (hotline.heap), and the poller's iterator reuses its event array.
--
-- Cancellation (hotline.task) takes a waiting task off what it waits on
-- and resumes it with CANCEL: the wait raises task.cancelling. A running
-- task is dealt with when it next waits, by one counter test in resume.
-- A task object is a small array (see new_task): its coroutine and the
-- socket of its last loop.await; an ended task keeps its end there.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local heap = require "hotline.heap"

local coroutine_create, coroutine_resume = coroutine.create, coroutine.resume
local coroutine_running, coroutine_status = coroutine.running, coroutine.status
local coroutine_yield = coroutine.yield
local coroutine_close = coroutine.close -- luacheck: compat (5.4)
local now, waitfd = core.monotime, core.waitfd
local timer_start, timer_cancel = heap.push, heap.remove
local slot, heap_items, heap_due = heap.slot, heap.items, heap.due
local traceback = debug.traceback
local select, type, tostring, error, setmetatable = select, type, tostring, error, setmetatable
local unpack = table.unpack or unpack -- luacheck: compat

local loop = {}
package.loaded["hotline.loop"] = loop   -- for the parts below that require it

-- What hotline.await_any and hotline.signals, parts of the loop kept in
-- files of their own, share with it. Not an API.
local internal = { on_reset = {} }
loop.internal = internal

local WAITING = {}   -- what a task yields when it waits through us
local CANCEL = {}    -- resume value: the wait raises the task's cancel value
local TIMEOUT = {}   -- resume value of loop.park when its deadline passed

-- What a cancelled task raises: pcall sees it, the loop does not report it.
local CANCELLED = setmetatable({}, { __tostring = function() return "cancelled" end })
loop.CANCELLED = CANCELLED

-- Task objects; hotline.task adds their methods.
local Task = {}
Task.__index = Task
loop.Task = Task

local poller         -- made on first use, so a forked child can make its own
local current        -- the task running now, or nil
local current_co     -- the coroutine it runs in (inside hotline.timeout on
                     -- Lua 5.1, one of its own: see hotline.task)
local ntasks = 0     -- tasks alive
local nwaiting = 0   -- tasks waiting for a socket (the poller can wake them)
local ncancel = 0    -- tasks alive with a cancellation to deliver
local stopping = false

local readers = {}   -- socket -> the task waiting to read it
local writers = {}   -- socket -> the task waiting to write it
local many = {}      -- task -> the list it waits for in loop.await_any
local suspended = {} -- task -> true (loop.suspend) or the object it is
                     -- parked on (loop.park), whose forget(task) drops it

-- Runnable tasks: a ring of (task, value to resume it with).
local queue_task, queue_value = {}, {}
local queue_head, queue_tail = 1, 0


local function report_to_stderr(message)
  io.stderr:write("hotline: task failed: ", tostring(message), "\n")
end
local on_error = report_to_stderr

local signal_fd              -- the self-pipe's read end, once catching
local deliver_signals        -- what to do when it is readable (hotline.signals)

local backend = os.getenv("HOTLINE_POLLER")   -- "epoll" or "poll"; nil: best

local function get_poller()
  if not poller then
    poller = assert(core.poller(backend))
  end
  return poller
end

-- Registers sock with the poller for what its waiters wait for.
local function arm(sock)
  local events = readers[sock] and (writers[sock] and "rw" or "r")
              or (writers[sock] and "w")
  local p = poller or get_poller()
  if events then
    local ok, err = p:add(sock, events)
    if not ok then error("hotline: cannot watch the socket: " .. err, 0) end
  else
    p:remove(sock)
  end
end

-- Tasks ---------------------------------------------------------------

local function enqueue(task, value)
  queue_tail = queue_tail + 1
  queue_task[queue_tail], queue_value[queue_tail] = task, value
end

local unwait   -- below

-- Ends a task: its state and results go in [1] and [2], its joiners wake
-- (loop.unpark below), and a failure is reported with the task's
-- traceback, to the task's exit hook if it has one, else to on_error. A
-- cancelled task is not a failure: its hook hears ok = true.
local function finish(task, ok, err, ...)
  ntasks = ntasks - 1
  local n = select("#", ...)
  while n > 0 and select(n, ...) == nil do n = n - 1 end
  if task.cancelling then
    ncancel = ncancel - 1
    task.cancelling = nil
  end
  local message
  if ok then
    task[1], task[2] = "done", (err ~= nil or n > 0) and { n = n + 1, err, ... } or false
  else
    unwait(task)   -- it may have failed on its way into a wait
    -- Lua 5.4 leaves a failed coroutine's <close> variables open until
    -- coroutine.close: close them, after taking the traceback
    if err ~= CANCELLED then
      -- (hotline.task kept the traceback of an error a scope re-raised)
      message = task.failure == err and task.trace or traceback(task[1], tostring(err))
      task.failure, task.trace = nil, nil
    end
    if coroutine_close then coroutine_close(task[1]) end
    if err == CANCELLED then
      task[1], task[2], ok = "cancelled", false, true
    else
      task[1], task[2] = "failed", message
    end
  end
  local joiners = task.joiners
  if joiners then
    task.joiners = nil
    for i = 1, #joiners do loop.unpark(joiners[i], true) end   -- hotline.suspend
  end
  local hook = task[3]
  if hook then
    local arg = task[4]
    task[3], task[4] = nil, nil
    hook(arg, ok, message)
  elseif not ok then
    on_error(message)
  end
end

-- Takes a task off a socket it waits on in loop.await; -> whether it was.
local function unwait_socket(task, sock)
  local waiters = readers[sock] == task and readers
    or writers[sock] == task and writers
  if not waiters then return false end
  waiters[sock] = nil
  nwaiting = nwaiting - 1
  arm(sock)
  return true
end

local unwait_many   -- below, with loop.await_any

-- Takes a task off everything it waits on (sockets, poller, timer, the
-- object it is parked on); -> whether it was waiting at all.
function unwait(task)
  local waiting = false
  if slot[task] then
    timer_cancel(task)
    waiting = true
  end
  local list = many[task]
  if list then
    unwait_many(task, list)
    waiting = true
  elseif task[2] and unwait_socket(task, task[2]) then
    waiting = true
  end
  local obj = suspended[task]
  if obj then
    suspended[task] = nil
    if obj ~= true then obj:forget(task) end
    waiting = true
  end
  return waiting
end

-- A task with a cancellation due that has just started to wait: end the
-- wait now, with CANCEL.
local function deliver(task)
  if unwait(task) then enqueue(task, CANCEL) end
end

-- What a wait resumed with CANCEL does.
local function raise_cancel()
  error(current.cancelling or CANCELLED, 0)
end

-- Runs task until it waits or ends. A task that yields by itself (plain
-- coroutine.yield) is put back in the queue: it gave others a turn. The
-- results of a task that ends are taken in eight registers, not through
-- a vararg call, which would cost every wait a call: join answers at most
-- eight of them (trailing nils dropped).
local function resume(task, value)
  local co = task[1]
  current, current_co = task, co
  local ok, how, r2, r3, r4, r5, r6, r7, r8 = coroutine_resume(co, value)
  current, current_co = nil, nil      -- only the loop resumes, never a task
  if ok and how == WAITING then
    if ncancel > 0 and task.cancelling then deliver(task) end
  elseif coroutine_status(co) == "suspended" then
    enqueue(task, nil)
  else
    finish(task, ok, how, r2, r3, r4, r5, r6, r7, r8)
  end
end

local function run_queue()
  local last = queue_tail   -- tasks queued meanwhile wait for the next turn
  while queue_head <= last do
    local task, value = queue_task[queue_head], queue_value[queue_head]
    queue_task[queue_head], queue_value[queue_head] = nil, nil
    queue_head = queue_head + 1
    resume(task, value)
  end
  if queue_head > queue_tail then queue_head, queue_tail = 1, 0 end
end

-- A task object is an array, the least memory per task: [1] its coroutine
-- (once it has ended: "done", "failed" or "cancelled"), [2] the socket of
-- its last loop.await (once ended: its results or failure message), and
-- for loop.spawn_with_exit [3] the exit hook and [4] its argument. Rarer
-- state (cancelling, joiners, scopes) goes in named fields when needed.
local function new_task(task, value)
  setmetatable(task, Task)
  enqueue(task, value)
  ntasks = ntasks + 1
  return task
end

local function check_fn(fn)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")", 3)
  end
end

-- Starts fn(...) as a task; it first runs when the loop next turns.
-- -> the task object
function loop.spawn(fn, ...)
  check_fn(fn)
  local n = select("#", ...)
  if n <= 1 then return new_task({ coroutine_create(fn), false }, (...)) end
  local args = { ... }
  return new_task({ coroutine_create(function() return fn(unpack(args, 1, n)) end), false })
end

-- spawn, and call hook(arg, ok, message) when the task ends, however it
-- ends; message is the traceback of a failure (ok is true for a cancel).
function loop.spawn_with_exit(hook, arg, fn, value)
  check_fn(fn)
  return new_task({ coroutine_create(fn), false, hook, arg }, value)
end

-- Whether the running coroutine can yield here. Lua 5.3+ and LuaJIT say
-- so; on 5.1 any C function between the task's start and here (pcall, a
-- metamethod, table.sort) forbids it, and on 5.2 any but pcall and
-- xpcall do: look for one on the stack. (On 5.1 a for loop's iterator
-- cannot yield either, and nothing on the stack shows it.)
local can_yield = coroutine.isyieldable or function() -- luacheck: compat
  local level = 3                     -- above can_yield and its caller
  while true do
    local info = debug.getinfo(level, "Sf")
    if not info then return true end
    if info.what == "C" and (_VERSION == "Lua 5.1"
        or (info.func ~= pcall and info.func ~= xpcall)) then
      return false
    end
    level = level + 1
  end
end

-- The running task, or nil outside tasks and where a yield is impossible:
-- there socket calls block the process instead, with the same results.
function loop.running()
  if current and current_co == coroutine_running() and can_yield() then return current end
  return nil
end

-- The running task, even where it cannot yield (hotline.current).
function loop.current()
  if current and current_co == coroutine_running() then return current end
  return nil
end

-- Makes co the coroutine the running task runs in; -> the previous one.
-- For hotline.task's protected calls on Lua 5.1.
function loop.run_in(co)
  local previous = current_co
  current_co = co
  return previous
end

-- Waiting -------------------------------------------------------------

-- The one wait point: waits until sock is ready for want ("wantread" or
-- "wantwrite") or until deadline (monotonic seconds; nil: no limit), then
-- calls primitive(sock, a, b, c) if one is given, and waits again for as
-- long as it answers nil, "wantread"/"wantwrite".
-- -> true (no primitive) | what the primitive returned |
--    nil, "timeout", "ETIMEDOUT" | nil, "closed"
-- Inside a task it registers the task as the socket's reader or writer and
-- yields; elsewhere it blocks in core.waitfd. The task path is written out
-- here, not called, and the poller is told directly: a task parked in a
-- socket call then fits in the stack its coroutine started with (every
-- Lua frame and C call deeper would double it), which on LuaJIT is about
-- half of what an idle connection costs.
function loop.await(sock, want, deadline, primitive, a, b, c)
  while true do
    local r1, r2, r3
    if deadline and deadline <= now() then
      -- the deadline has passed: one look without waiting (it also tells
      -- a read that bytes may have come since its last short read) and, if
      -- the socket is ready, one last try below. So a peer that trickles
      -- cannot stretch the call, and ready data is never missed. (deadline
      -- false marks the last try: one more local would cost every parked
      -- task a bigger stack on 5.4)
      if not (primitive and waitfd(sock, want, 0)) then
        return nil, "timeout", "ETIMEDOUT"
      end
      deadline = false
    elseif current and current_co == coroutine_running() and can_yield() then
      if (want == "wantread" and readers or writers)[sock] then
        error("hotline: another task already waits to "
              .. (want == "wantread" and "read" or "write") .. " on this socket", 2)
      end
      if want == "wantread" then readers[sock] = current else writers[sock] = current end
      nwaiting = nwaiting + 1
      r1, r2 = (poller or get_poller()):add(sock, readers[sock] and
        (writers[sock] and "rw" or "r") or "w")
      if not r1 then error("hotline: cannot watch the socket: " .. r2, 2) end
      current[2] = sock
      if deadline then timer_start(current, deadline) end
      r1 = coroutine_yield(WAITING)
      if r1 == "timeout" then return nil, "timeout", "ETIMEDOUT" end
      if r1 ~= "ready" then
        if r1 == CANCEL then raise_cancel() end
        return nil, "closed"
      end
    else
      r1, r2, r3 = waitfd(sock, want, deadline and deadline - now())
      if not r1 then return r1, r2, r3 end
    end
    if not primitive then return true end
    r1, r2, r3 = primitive(sock, a, b, c)
    if r1 ~= nil or (r2 ~= "wantread" and r2 ~= "wantwrite") then
      if r3 == nil then return r1, r2 end
      return r1, r2, r3
    end
    if deadline == false then return nil, "timeout", "ETIMEDOUT" end
    want = r2
  end
end

-- Takes a task waiting in loop.await_any off every socket of its list
-- (one may already be off); their registrations are brought up to date.
function unwait_many(task, list)
  many[task] = nil
  for i = 1, #list, 2 do
    local sock = list[i]
    local waiters = list[i + 1] == "wantread" and readers or writers
    if waiters[sock] == task then
      waiters[sock] = nil
      nwaiting = nwaiting - 1
      arm(sock)
    end
  end
end

-- Wakes the waiter in waiters for sock with outcome, now or via the queue.
-- A task in loop.await_any is woken with the socket that woke it.
local function wake_waiter(waiters, sock, outcome, later)
  local task = waiters[sock]
  if not task then return end
  waiters[sock] = nil
  nwaiting = nwaiting - 1
  if slot[task] then timer_cancel(task) end
  local list = many[task]
  if list then
    unwait_many(task, list)
    outcome = sock
  end
  if later then enqueue(task, outcome) else resume(task, outcome) end
end

-- For a socket about to be closed: wake its waiters with "closed" and
-- drop it from the poller (closing removes it from the kernel's set).
function loop.release(sock)
  if readers[sock] or writers[sock] then
    wake_waiter(readers, sock, "closed", true)
    wake_waiter(writers, sock, "closed", true)
  end
  if poller then poller:forget(sock) end
end

-- A woken task usually waits on the same socket again soon, so its
-- registration stays; only an event that finds nobody waiting (the poller
-- is level-triggered and would repeat it) updates the registration.
local function dispatch(sock, events)
  if sock == signal_fd then return deliver_signals() end
  local read, write = events ~= "w", events ~= "r"
  local idle = (read and not readers[sock]) or (write and not writers[sock])
  if read then wake_waiter(readers, sock, "ready") end
  if write then wake_waiter(writers, sock, "ready") end
  if idle and (type(sock) == "number" or core.type(sock) == "socket") then arm(sock) end
end

-- A due entry is a timeout scope (its field task is the task to cancel)
-- or a task whose wait has timed out.
local function expire_timers()
  local t = now()
  while true do
    local entry = heap_items[1]
    if not entry or heap_due[entry] > t then return end
    timer_cancel(entry)
    if entry.task then
      internal.interrupt(entry.task, entry)   -- a timeout scope: hotline.task
    else
      local value = "timeout"
      local list = many[entry]
      if list then
        unwait_many(entry, list)
      elseif not (entry[2] and unwait_socket(entry, entry[2])) then
        local obj = suspended[entry]    -- loop.park: no socket, a deadline
        if obj then
          suspended[entry] = nil
          obj:forget(entry)
          value = TIMEOUT
        end
      end
      resume(entry, value)
    end
  end
end

-- Running -------------------------------------------------------------

-- Runs tasks until none is left or loop.stop() is called. Returns true,
-- or nil and a message when tasks are left that nothing can wake.
function loop.run()
  if current then error("hotline.run called from inside a task", 2) end
  stopping = false
  while ntasks > 0 and not stopping do
    if queue_head <= queue_tail then run_queue() end
    if ntasks == 0 or stopping then break end
    local timeout
    if queue_head <= queue_tail then
      timeout = 0
    else
      local entry = heap_items[1]
      if entry then
        timeout = heap_due[entry] - now()
        if timeout < 0 then timeout = 0 end
      elseif nwaiting == 0 and not signal_fd then
        return nil, "hotline: " .. ntasks .. " task(s) left waiting with nothing to wake them"
      end
    end
    -- tasks only talking to each other (channels): no one to poll for
    if timeout ~= 0 or nwaiting > 0 or signal_fd then
      for sock, events in (poller or get_poller()):wait(timeout) do
        dispatch(sock, events)
      end
    end
    if heap_items[1] then expire_timers() end
  end
  return true
end

-- -> tasks alive, tasks waiting for a socket, deadlines running (specs
-- check that nothing is left behind)
function loop.stats()
  return ntasks, nwaiting, heap.size()
end

function loop.stop()
  stopping = true
end

function loop.now()
  return now()
end

-- on_error(message): how failing tasks are reported; nil: on stderr.
function loop.set_error_handler(fn)
  on_error = fn or report_to_stderr
end

-- Forgets every task, the poller and the signal handlers: for a forked
-- child, and for specs, which also pick the poller backend this way.
function loop.reset(poller_backend)
  if poller_backend then backend = poller_backend end
  if poller then poller:close() end
  poller, current, current_co, stopping = nil, nil, nil, false
  ntasks, nwaiting, ncancel = 0, 0, 0
  for _, t in ipairs({ readers, writers, suspended, many }) do   -- shared: clear in place
    for k in pairs(t) do t[k] = nil end
  end
  queue_task, queue_value, queue_head, queue_tail = {}, {}, 1, 0
  heap.reset()
  signal_fd, deliver_signals = nil, nil
  for i = 1, #internal.on_reset do internal.on_reset[i]() end
end

-- The parts of the loop in files of their own -------------------------

internal.readers, internal.writers, internal.many = readers, writers, many
internal.WAITING, internal.CANCEL, internal.raise_cancel = WAITING, CANCEL, raise_cancel
internal.arm, internal.unwait_many = arm, unwait_many
internal.slot, internal.suspended, internal.CANCELLED = slot, suspended, CANCELLED
internal.unwait, internal.enqueue, internal.TIMEOUT = unwait, enqueue, TIMEOUT

-- The running task, even where it cannot yield (hotline.current).
function internal.current()
  return current
end

function internal.add_cancel(n)
  ncancel = ncancel + n
end

function internal.backend()
  return backend
end

function internal.add_waiting(n)
  nwaiting = nwaiting + n
end

-- The self-pipe of hotline.signals: deliver() when it is readable.
function internal.watch_signals(fd, on_readable)
  local p = poller or get_poller()
  if fd then assert(p:add(fd, "r")) else p:remove(signal_fd) end
  signal_fd, deliver_signals = fd, on_readable
end

require "hotline.await_any"
require "hotline.suspend"

-- loop.onsignal(name, fn): see hotline.signals.
function loop.onsignal(name, fn)
  local ok, err, code = require("hotline.signals").onsignal(name, fn)
  return ok, err, code
end

return loop
