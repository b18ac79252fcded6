-- hotline.signals: hotline.onsignal, signals as tasks. The C side catches
-- a signal by writing its name's byte to a self-pipe; the loop watches the
-- pipe like a socket and, when it is readable, runs each caught signal's
-- handler in a new task.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local loop = require "hotline.loop"

local internal = loop.internal
local type, error, next = type, error, next

local signals = {}

local handlers = {}   -- signal name -> function
local watching       -- the self-pipe's read end, while the loop watches it

internal.on_reset[#internal.on_reset + 1] = function()
  handlers, watching = {}, nil
end

local function deliver()
  local names = core.sigtake()
  for i = 1, #names do
    local fn = handlers[names[i]]
    if fn then loop.spawn(fn, names[i]) end
  end
end

-- hotline.onsignal(name, fn): while set, signal name runs fn(name) in a
-- new task instead of its default action; fn nil restores the default.
-- -> true | nil, msg, code
function signals.onsignal(name, fn)
  if fn ~= nil and type(fn) ~= "function" then
    error("bad argument #2 to 'onsignal' (function expected, got " .. type(fn) .. ")", 3)
  end
  local fd, err, code = core.sigcatch(name, fn ~= nil)
  if not fd then return nil, err, code end
  handlers[name:gsub("^SIG", "")] = fn
  if fn and not watching then
    watching = fd
    internal.watch_signals(fd, deliver)
  elseif not fn and watching and next(handlers) == nil then
    -- nothing is caught any more: the pipe can wake no one, and what
    -- is left in it was for handlers that are gone
    internal.watch_signals(nil)
    watching = nil
    core.sigtake()
  end
  return true
end

return signals
