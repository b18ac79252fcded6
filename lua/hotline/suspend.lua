-- hotline.suspend: waiting for time or for another task rather than for
-- a socket: loop.sleep, loop.suspend/wake (a task parked until another
-- wakes it) and loop.park/unpark (parked on an object, with a deadline:
-- what joins, channels, conditions and semaphores wait with). Like socket
-- waits, they yield to the loop and can be cancelled.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local heap = require "hotline.heap"
local loop = require "hotline.loop"

local internal = loop.internal
local suspended, enqueue, raise_cancel = internal.suspended, internal.enqueue, internal.raise_cancel
local current = internal.current
local WAITING, CANCEL, TIMEOUT = internal.WAITING, internal.CANCEL, internal.TIMEOUT
local timer_start, timer_cancel, slot = heap.push, heap.remove, heap.slot
local now, coroutine_yield = core.monotime, coroutine.yield
local type, error = type, error

-- Suspends the running task until loop.wake(task, value); returns value.
-- Raises the task's cancellation if it is cancelled meanwhile.
function loop.suspend()
  local task = loop.running()
  if not task then error("hotline: suspend outside a task", 2) end
  suspended[task] = true
  local value = coroutine_yield(WAITING)
  if value == CANCEL then raise_cancel() end
  return value
end

-- Wakes a task parked in loop.suspend; does nothing for any other task,
-- so waking twice, or waking a task that waits for a socket, is harmless.
function loop.wake(task, value)
  if suspended[task] == true then
    suspended[task] = nil
    enqueue(task, value)
  end
end

-- For the objects tasks wait on (channels, conditions, joins): parks the
-- running task (the caller checked that there is one) on obj until
-- loop.unpark(task, value) -> value, or until deadline -> nil, "timeout".
-- When the wait ends otherwise (deadline, cancel) the loop calls
-- obj:forget(task), for obj to drop the task from its own queue.
function loop.park(obj, deadline)
  local task = current()
  suspended[task] = obj
  if deadline then timer_start(task, deadline) end
  local value = coroutine_yield(WAITING)
  if value == CANCEL then raise_cancel() end
  if value == TIMEOUT then return nil, "timeout" end
  return value
end

-- Ends a task's loop.park with value; obj has dropped it already.
function loop.unpark(task, value)
  suspended[task] = nil
  if slot[task] then timer_cancel(task) end
  enqueue(task, value)
end

-- In a task: lets other tasks run for seconds. Outside: blocks.
function loop.sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds then
    error("bad argument #1 to 'sleep' (number expected, got " .. type(seconds) .. ")", 2)
  end
  local task = loop.running()
  if not task then return core.sleep(seconds > 0 and seconds or 0) end
  if task.cancelling then raise_cancel() end   -- sleep(0) would not see it
  if seconds <= 0 then
    enqueue(task, nil)
  else
    timer_start(task, now() + seconds)
  end
  if coroutine_yield(WAITING) == CANCEL then raise_cancel() end
end

return loop
