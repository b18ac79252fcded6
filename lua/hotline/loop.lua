-- hotline.loop: the coroutine scheduler and the one wait point.
--
-- A task is a coroutine. When a socket call inside a task would block, the
-- call's Lua wrapper asks loop.await for the socket; inside a task it
-- registers the task as the socket's reader or writer and yields, and the
-- loop resumes it when the poller reports the socket ready, when its
-- deadline passes, or when another task closes the socket. Outside any task
-- it blocks the process in core.waitfd. The socket call is the same code
-- either way; only the waiting differs.
--
-- Per wait nothing is allocated: waiters live in tables keyed by socket,
-- deadlines in a binary heap of tasks, and the poller's iterator reuses its
-- event array.

local core = require "hotline.core"

local coroutine_create, coroutine_resume = coroutine.create, coroutine.resume
local coroutine_running, coroutine_status = coroutine.running, coroutine.status
local coroutine_yield = coroutine.yield
local now, waitfd = core.monotime, core.waitfd
local traceback = debug.traceback
local select, type, tostring, error = select, type, tostring, error
local unpack = table.unpack or unpack -- luacheck: compat

local loop = {}

local WAITING = {}   -- what a task yields when it waits through us

local poller         -- made on first use, so a forked child can make its own
local current        -- the task running now, or nil
local ntasks = 0     -- tasks alive
local nwaiting = 0   -- tasks waiting for a socket (the poller can wake them)
local stopping = false

local readers = {}   -- socket -> the task waiting to read it
local writers = {}   -- socket -> the task waiting to write it
local waited = {}    -- task -> the socket it waits for, while a deadline runs
local many = {}      -- task -> the list it waits for in loop.await_any
local suspended = {} -- tasks parked in loop.suspend

-- Runnable tasks: a ring of (task, value to resume it with).
local queue_task, queue_value = {}, {}
local queue_head, queue_tail = 1, 0

-- Deadlines: a binary heap of tasks ordered by due[task].
local heap, due, slot = {}, {}, {}
local heap_size = 0

-- Exit hooks: exit_hook[task](exit_arg[task], ok, message) when it ends.
local exit_hook, exit_arg = {}, {}

local function report_to_stderr(message)
  io.stderr:write("hotline: task failed: ", tostring(message), "\n")
end
local on_error = report_to_stderr

local signal_handlers = {}   -- signal name -> function
local signal_fd              -- the self-pipe's read end, once catching

local backend = os.getenv("HOTLINE_POLLER")   -- "epoll" or "poll"; nil: best

local function get_poller()
  if not poller then
    poller = assert(core.poller(backend))
  end
  return poller
end

-- Heap ----------------------------------------------------------------

local function heap_swap(i, j)
  local a, b = heap[i], heap[j]
  heap[i], heap[j] = b, a
  slot[b], slot[a] = i, j
end

local function heap_up(i)
  while i > 1 do
    local parent = (i - i % 2) / 2
    if due[heap[parent]] <= due[heap[i]] then return end
    heap_swap(i, parent)
    i = parent
  end
end

local function heap_down(i)
  while true do
    local left, smallest = 2 * i, i
    if left <= heap_size and due[heap[left]] < due[heap[smallest]] then
      smallest = left
    end
    if left + 1 <= heap_size and due[heap[left + 1]] < due[heap[smallest]] then
      smallest = left + 1
    end
    if smallest == i then return end
    heap_swap(i, smallest)
    i = smallest
  end
end

local function timer_start(task, deadline)
  heap_size = heap_size + 1
  heap[heap_size], due[task], slot[task] = task, deadline, heap_size
  heap_up(heap_size)
end

local function timer_cancel(task)
  local i = slot[task]
  if not i then return end
  if i ~= heap_size then
    heap_swap(i, heap_size)
  end
  heap[heap_size], due[task], slot[task] = nil, nil, nil
  heap_size = heap_size - 1
  if i <= heap_size then
    heap_down(i)
    heap_up(i)
  end
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

-- A failure is reported with the task's traceback: to the task's exit hook
-- if it has one, else to on_error.
local function finish(task, ok, err)
  ntasks = ntasks - 1
  local message = not ok and traceback(task, tostring(err)) or nil
  local hook = exit_hook[task]
  if hook then
    local arg = exit_arg[task]
    exit_hook[task], exit_arg[task] = nil, nil
    hook(arg, ok, message)
  elseif not ok then
    on_error(message)
  end
end

-- Runs task until it waits or ends. A task that yields by itself (plain
-- coroutine.yield) is put back in the queue: it gave others a turn.
local function resume(task, value)
  local previous = current
  current = task
  local ok, how = coroutine_resume(task, value)
  current = previous
  if ok and how == WAITING then return end
  if coroutine_status(task) == "suspended" then
    enqueue(task, nil)
  else
    finish(task, ok, how)
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

-- Starts fn(...) as a task; it first runs when the loop next turns.
function loop.spawn(fn, ...)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")", 2)
  end
  local n = select("#", ...)
  local task
  if n <= 1 then
    task = coroutine_create(fn)
    enqueue(task, (...))
  else
    local args = { ... }
    task = coroutine_create(function() return fn(unpack(args, 1, n)) end)
    enqueue(task, nil)
  end
  ntasks = ntasks + 1
  return task
end

-- spawn, and call hook(arg, ok, message) when the task ends, however it
-- ends; message is the traceback of a failure.
function loop.spawn_with_exit(hook, arg, fn, value)
  local task = loop.spawn(fn, value)
  exit_hook[task], exit_arg[task] = hook, arg
  return task
end

-- Whether the running coroutine can yield here. Lua 5.3+ and LuaJIT say
-- so; on 5.1 any C function between the task's start and here (pcall, a
-- for iterator, a metamethod, table.sort) forbids it, and on 5.2 any but
-- pcall and xpcall do: look for one on the stack.
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
  if current and current == coroutine_running() and can_yield() then return current end
  return nil
end

-- Suspends the running task until loop.wake(task, value); returns value.
function loop.suspend()
  local task = loop.running()
  if not task then error("hotline: suspend outside a task", 2) end
  suspended[task] = true
  return (coroutine_yield(WAITING))
end

-- Wakes a task parked in loop.suspend; does nothing for any other task,
-- so waking twice, or waking a task that waits for a socket, is harmless.
function loop.wake(task, value)
  if suspended[task] then
    suspended[task] = nil
    enqueue(task, value)
  end
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
    elseif current and current == coroutine_running() and can_yield() then
      if (want == "wantread" and readers or writers)[sock] then
        error("hotline: another task already waits to "
              .. (want == "wantread" and "read" or "write") .. " on this socket", 2)
      end
      if want == "wantread" then readers[sock] = current else writers[sock] = current end
      nwaiting = nwaiting + 1
      r1, r2 = (poller or get_poller()):add(sock, readers[sock] and
        (writers[sock] and "rw" or "r") or "w")
      if not r1 then error("hotline: cannot watch the socket: " .. r2, 2) end
      if deadline then
        waited[current] = sock
        timer_start(current, deadline)
      end
      r1 = coroutine_yield(WAITING)
      if r1 == "timeout" then return nil, "timeout", "ETIMEDOUT" end
      if r1 ~= "ready" then return nil, "closed" end
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
local function unwait_many(task, list)
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
  if waited[task] then
    waited[task] = nil
    timer_cancel(task)
  end
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

-- Outside tasks, loop.await_any waits in a poller of its own, kept for
-- the next call and emptied after each.
local private_poller

local function check_list(list)
  if type(list) ~= "table" or #list == 0 or #list % 2 ~= 0 then
    error("bad argument #1 to 'await_any' (list of socket, want pairs expected)", 3)
  end
  for i = 2, #list, 2 do
    local want = list[i]
    if want ~= "wantread" and want ~= "wantwrite" then
      error("bad argument #1 to 'await_any' (\"wantread\" or \"wantwrite\" expected at "
            .. i .. ", got " .. tostring(want) .. ")", 3)
    end
  end
end

-- loop.await_any({ sock1, want1, sock2, want2, ... } [, deadline]): waits
-- until one of the sockets (or descriptor numbers) is ready for its want
-- or has been closed, or until deadline (monotonic seconds; nil: no
-- limit). -> the index in the list of a socket that is ready (outside a
-- task the first ready one in list order) |
-- nil, "timeout", "ETIMEDOUT". It only waits: the caller then makes the
-- call, which answers at once (with nil, "closed" on a closed socket).
-- Inside a task it registers the task on every socket and yields; outside
-- it blocks in one poll over all of them.
function loop.await_any(list, deadline)
  check_list(list)
  local n = #list
  for i = 1, n, 2 do   -- a closed socket is ready: its call answers at once
    if type(list[i]) ~= "number" and core.type(list[i]) ~= "socket" then return i end
  end
  if deadline and deadline <= now() then deadline = now() end
  local task = loop.running()
  if task then
    for i = 1, n, 2 do
      local sock, waiters = list[i], list[i + 1] == "wantread" and readers or writers
      if waiters[sock] and waiters[sock] ~= task then
        unwait_many(task, list)
        error("hotline: another task already waits to "
              .. (waiters == readers and "read" or "write") .. " on this socket", 2)
      end
      waiters[sock] = task
      nwaiting = nwaiting + 1
      many[task] = list
      arm(sock)
    end
    if deadline then
      waited[task] = list
      timer_start(task, deadline)
    end
    local woken = coroutine_yield(WAITING)
    if many[task] then unwait_many(task, list) end   -- woken otherwise
    if woken == "timeout" then return nil, "timeout", "ETIMEDOUT" end
    for i = 1, n, 2 do
      if list[i] == woken then return i end
    end
    return nil, "closed"
  end
  local p = private_poller
  if not p then
    p = assert(core.poller(backend))
    private_poller = p
  end
  for i = 1, n, 2 do
    local ok, err, code = p:add(list[i], list[i + 1] == "wantread" and "r" or "w")
    if not ok then
      for j = 1, i - 2, 2 do p:remove(list[j]) end
      return nil, err, code
    end
  end
  local found
  repeat
    local timeout = deadline and deadline - now()
    if timeout and timeout < 0 then timeout = 0 end
    for sock in p:wait(timeout) do
      for i = 1, n, 2 do   -- several ready: the first in the list
        if list[i] == sock and (not found or i < found) then found = i end
      end
    end
  until found or (deadline and now() >= deadline)
  for i = 1, n, 2 do p:remove(list[i]) end
  if not found then return nil, "timeout", "ETIMEDOUT" end
  return found
end

-- A woken task usually waits on the same socket again soon, so its
-- registration stays; only an event that finds nobody waiting (the poller
-- is level-triggered and would repeat it) updates the registration.
local function dispatch(sock, events)
  if sock == signal_fd then return loop.deliver_signals() end
  local read, write = events ~= "w", events ~= "r"
  local idle = (read and not readers[sock]) or (write and not writers[sock])
  if read then wake_waiter(readers, sock, "ready") end
  if write then wake_waiter(writers, sock, "ready") end
  if idle and (type(sock) == "number" or core.type(sock) == "socket") then arm(sock) end
end

local function expire_timers()
  local t = now()
  while heap_size > 0 and due[heap[1]] <= t do
    local task = heap[1]
    timer_cancel(task)
    local sock = waited[task]
    if many[task] then
      waited[task] = nil
      unwait_many(task, many[task])
    elseif sock then
      waited[task] = nil
      if readers[sock] == task then readers[sock] = nil else writers[sock] = nil end
      nwaiting = nwaiting - 1
      arm(sock)
    end
    resume(task, "timeout")
  end
end

-- Sleeping ------------------------------------------------------------

-- In a task: lets other tasks run for seconds. Outside: blocks.
function loop.sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds then
    error("bad argument #1 to 'sleep' (number expected, got " .. type(seconds) .. ")", 2)
  end
  local task = loop.running()
  if not task then return core.sleep(seconds > 0 and seconds or 0) end
  if seconds <= 0 then
    enqueue(task, nil)
  else
    timer_start(task, now() + seconds)
  end
  coroutine_yield(WAITING)
end

-- loop.timer(seconds, fn): runs fn() in a task after seconds, unless
-- timer:cancel() comes first; a cancelled timer keeps run() waiting no
-- longer. -> timer
local Timer = {}
Timer.__index = Timer

function Timer:cancel()
  if self.done then return false end
  self.done = true
  local task = self.task
  if slot[task] then          -- asleep: wake it now, to end at once
    timer_cancel(task)
    enqueue(task, "cancelled")
  end
  return true
end

function loop.timer(seconds, fn)
  if type(seconds) ~= "number" or seconds ~= seconds then
    error("bad argument #1 to 'timer' (number expected, got " .. type(seconds) .. ")", 2)
  end
  if type(fn) ~= "function" then
    error("bad argument #2 to 'timer' (function expected, got " .. type(fn) .. ")", 2)
  end
  local timer = setmetatable({ done = false }, Timer)
  timer.task = loop.spawn(function()
    if timer.done then return end       -- cancelled before it started
    loop.sleep(seconds)
    if timer.done then return end
    timer.done = true
    fn()
  end)
  return timer
end

-- Signals -------------------------------------------------------------

-- loop.onsignal(name, fn): while set, signal name runs fn(name) in a new
-- task instead of its default action; fn nil restores the default.
function loop.onsignal(name, fn)
  if fn ~= nil and type(fn) ~= "function" then
    error("bad argument #2 to 'onsignal' (function expected, got " .. type(fn) .. ")", 2)
  end
  local fd, err, code = core.sigcatch(name, fn ~= nil)
  if not fd then return nil, err, code end
  signal_handlers[name:gsub("^SIG", "")] = fn
  if fn and not signal_fd then
    signal_fd = fd
    assert(get_poller():add(fd, "r"))
  elseif not fn and signal_fd and next(signal_handlers) == nil then
    -- nothing is caught any more: the pipe can wake no one, and what
    -- is left in it was for handlers that are gone
    get_poller():remove(signal_fd)
    signal_fd = nil
    core.sigtake()
  end
  return true
end

function loop.deliver_signals()
  local names = core.sigtake()
  for i = 1, #names do
    local fn = signal_handlers[names[i]]
    if fn then loop.spawn(fn, names[i]) end
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
    elseif heap_size > 0 then
      timeout = due[heap[1]] - now()
      if timeout < 0 then timeout = 0 end
    elseif nwaiting == 0 and not signal_fd then
      return nil, "hotline: " .. ntasks .. " task(s) left waiting with nothing to wake them"
    end
    for sock, events in (poller or get_poller()):wait(timeout) do
      dispatch(sock, events)
    end
    if heap_size > 0 then expire_timers() end
  end
  return true
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
  poller, current, ntasks, nwaiting, stopping = nil, nil, 0, 0, false
  readers, writers, waited, suspended, many = {}, {}, {}, {}, {}
  private_poller = nil
  queue_task, queue_value, queue_head, queue_tail = {}, {}, 1, 0
  heap, due, slot, heap_size = {}, {}, {}, 0
  exit_hook, exit_arg = {}, {}
  signal_handlers, signal_fd = {}, nil
end

return loop
