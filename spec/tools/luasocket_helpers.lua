-- spec/tools/luasocket_helpers.lua: what the luasocket specs (60-69)
-- share: the real LuaSocket to compare against, a scripted peer process,
-- and running a spec body both outside tasks and inside one.
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

local M = {}

M.socket = require "hotline.luasocket"

-- Debian's LuaSocket, when this Lua has it (loaded by its own name).
function M.real()
  local saved = package.loaded.socket
  if saved == M.socket then package.loaded.socket = nil end
  local ok, real = pcall(require, "socket")
  if saved == M.socket then package.loaded.socket = saved end
  if ok and real ~= M.socket and real._VERSION:match("^LuaSocket") then return real end
  return nil
end

-- Starts the scripted peer (spec/tools/luasocket_peer.lua) against port
-- with steps; returns its PID (stop it with helpers.stop).
function M.peer(port, ...)
  local args = {}
  for i = 1, select("#", ...) do args[i] = "'" .. select(i, ...) .. "'" end
  return helpers.start(helpers.lua .. " spec/tools/luasocket_peer.lua " .. port .. " "
    .. table.concat(args, " "))
end

-- A listening server of lib on 127.0.0.1 -> server, port.
function M.listen(lib)
  local server = assert(lib.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  server:settimeout(helpers.TIMEOUT)
  return server, port
end

-- A connected pair of lib objects -> client, server side.
function M.pair(lib)
  local server, port = M.listen(lib)
  local client = assert(lib.connect("127.0.0.1", port))
  local peer = assert(server:accept())
  server:close()
  client:settimeout(helpers.TIMEOUT)
  peer:settimeout(helpers.TIMEOUT)
  return client, peer
end

-- Runs fn(true) in a task and fails with its error, if any.
function M.in_task(fn)
  local finished, failure = false, nil
  loop.spawn_with_exit(function(_, ok, message)
    finished, failure = true, not ok and message or nil
  end, nil, function() fn(true) end)
  local ok, err = hotline.run()
  if not ok then error(err, 0) end
  if failure then error(failure, 0) end
  if not finished then error("the task did not finish", 0) end
end

-- it(name) twice: fn(false) outside tasks, fn(true) inside a task.
-- busted's it is only a global in spec files: they set M.it = it.
function M.both(name, fn)
  M.it(name .. " (outside tasks)", function() fn(false) end)
  M.it(name .. " (in a task)", function() M.in_task(fn) end)
end

return M
