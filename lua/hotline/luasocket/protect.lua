-- hotline.luasocket.protect: LuaSocket's error helpers try, newtry,
-- protect and skip.
--
-- try raises its message wrapped in a table with a private metatable;
-- protect turns exactly those back into nil, message and lets any other
-- error through. socket.http rests on them, so protect must let its
-- function wait: Lua 5.2+ and LuaJIT yield across pcall, but Lua 5.1
-- cannot, so there, in a task, the function runs in a coroutine of its
-- own. Calls that wait made in it are handed to the task to run
-- (base.forward), and any other yield is passed on to whoever resumes
-- the task and its answer passed back (the coxpcall technique).
-- SPDX-License-Identifier: MIT

local loop = require "hotline.loop"
local base = require "hotline.luasocket.base"

local type, error, select, pcall = type, error, select, pcall
local getmetatable, setmetatable = getmetatable, setmetatable
local coroutine_create, coroutine_resume = coroutine.create, coroutine.resume
local coroutine_running, coroutine_yield = coroutine.running, coroutine.yield
local coroutine_status = coroutine.status
local nested, FORWARD = base.nested, base.FORWARD

local M = {}

local TRY = {}   -- metatable marking errors raised by try

local function raise(message)
  error(setmetatable({ message }, TRY), 0)
end

-- newtry([finalizer]) -> try: try(ok, ...) returns its arguments when ok
-- is true, else calls finalizer() and raises its second argument.
function M.newtry(finalizer)
  if finalizer ~= nil and type(finalizer) ~= "function" then
    base.argerror(1, "newtry", "function expected, got " .. type(finalizer))
  end
  return function(...)
    if (...) then return ... end
    if finalizer then finalizer() end
    raise((select(2, ...)))
  end
end

M.try = M.newtry()

-- The outcome of a protected call: its results, or nil, message for a
-- try error; any other error goes on.
local function outcome(ok, ...)
  if ok then return ... end
  local err = ...
  if type(err) == "table" and getmetatable(err) == TRY then return nil, err[1] end
  error(err, 0)
end

local function call(fn, ...)
  return fn(...)
end

-- Drives the protect coroutine co after a resume answered ok, ....
local function drive(co, ok, ...)
  if not ok or coroutine_status(co) == "dead" then
    nested[co] = nil
    return outcome(ok, ...)
  end
  if ... == FORWARD then
    return drive(co, coroutine_resume(co, call(select(2, ...))))
  end
  return drive(co, coroutine_resume(co, coroutine_yield(...)))
end

-- protect(fn) -> a function calling fn that returns nil, message
-- instead of raising what try raised.
function M.protect(fn)
  if type(fn) ~= "function" then
    base.argerror(1, "protect", "function expected, got " .. type(fn))
  end
  if not base.FORWARDING then
    return function(...) return outcome(pcall(fn, ...)) end
  end
  return function(...)
    if not (loop.running() or nested[coroutine_running()]) then
      return outcome(pcall(fn, ...))
    end
    local co = coroutine_create(fn)
    nested[co] = true
    return drive(co, coroutine_resume(co, ...))
  end
end

-- skip(d, ...) -> the arguments after the first d.
function M.skip(d, ...)
  return select(d + 1, ...)
end

return M
