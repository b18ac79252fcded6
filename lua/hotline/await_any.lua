-- hotline.await_any: loop.await_any, the one wait point for several
-- sockets at once (what select, Happy Eyeballs and hotline.wait_any build
-- on). Inside a task it registers the task as a waiter on every socket of
-- the list, in the loop's own tables, and yields; outside any task it
-- blocks in one poll over all of them, in a poller of its own.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local heap = require "hotline.heap"
local loop = require "hotline.loop"

local internal = loop.internal
local readers, writers, many = internal.readers, internal.writers, internal.many
local WAITING, CANCEL = internal.WAITING, internal.CANCEL
local arm, unwait_many = internal.arm, internal.unwait_many
local now, timer_start, buffered = core.monotime, heap.push, core.buffered
local coroutine_yield = coroutine.yield
local type, error, tostring, assert = type, error, tostring, assert

-- Outside tasks, loop.await_any waits in a poller of its own, kept for
-- the next call and emptied after each.
local private_poller

internal.on_reset[#internal.on_reset + 1] = function()
  if private_poller then private_poller:close() end
  private_poller = nil
end

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

-- Outside a task: one poll over the list until one is ready or deadline.
local function await_blocking(list, n, deadline)
  local p = private_poller
  if not p then
    p = assert(core.poller(internal.backend()))
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

-- loop.await_any({ sock1, want1, sock2, want2, ... } [, deadline]): waits
-- until one of the sockets (or descriptor numbers) is ready for its want
-- (for a read, bytes already read ahead count) or has been closed, or
-- until deadline (monotonic seconds; nil: no limit).
-- -> the index in the list of a socket that is ready (outside a task the
-- first ready one in list order) |
-- nil, "timeout", "ETIMEDOUT". It only waits: the caller then makes the
-- call, which answers at once (with nil, "closed" on a closed socket).
-- A task woken otherwise (hotline.wait_any's channels: task.poke) gets
-- nil, "closed"; a cancelled one raises.
function loop.await_any(list, deadline)
  check_list(list)
  local n = #list
  for i = 1, n, 2 do   -- a closed socket is ready: its call answers at once
    local sock = list[i]
    if type(sock) ~= "number" then
      if core.type(sock) ~= "socket" then return i end
      -- so is one holding bytes read ahead (a read of a line that took
      -- the next one too), of which the poller knows nothing
      if list[i + 1] == "wantread" and buffered(sock) > 0 then return i end
    end
  end
  if deadline and deadline <= now() then deadline = now() end
  local task = loop.running()
  if not task then return await_blocking(list, n, deadline) end
  for i = 1, n, 2 do
    local sock, waiters = list[i], list[i + 1] == "wantread" and readers or writers
    if waiters[sock] and waiters[sock] ~= task then
      unwait_many(task, list)
      error("hotline: another task already waits to "
            .. (waiters == readers and "read" or "write") .. " on this socket", 2)
    end
    if not waiters[sock] then   -- once for a socket listed twice
      waiters[sock] = task
      internal.add_waiting(1)
    end
    many[task] = list
    arm(sock)
  end
  if deadline then timer_start(task, deadline) end
  local woken = coroutine_yield(WAITING)
  if many[task] then unwait_many(task, list) end   -- woken otherwise
  if woken == CANCEL then internal.raise_cancel() end
  if woken == "timeout" then return nil, "timeout", "ETIMEDOUT" end
  for i = 1, n, 2 do
    if list[i] == woken then return i end
  end
  return nil, "closed"
end

return loop.await_any
