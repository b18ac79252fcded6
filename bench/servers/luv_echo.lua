-- luv_echo.lua: echo server on luv (libuv): every chunk read is written
-- back as it comes; libuv queues what the kernel does not take.
--   lua luv_echo.lua PORT   (0: ephemeral) -> prints "PORT <n>"
-- SPDX-License-Identifier: MIT

local uv = require "luv"

-- libuv leaves SIGPIPE alone: a write to a peer that has gone would kill
-- the process. Catching the signal turns it into an EPIPE write error.
local sigpipe = uv.new_signal()
sigpipe:start("sigpipe", function() end)
sigpipe:unref()                        -- not a reason to keep running

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", tonumber(arg[1]) or 0))
assert(server:listen(1024, function(err)
  assert(not err, err)
  local client = uv.new_tcp()
  server:accept(client)
  client:read_start(function(rerr, data)
    if rerr or not data then
      client:close()
    else
      client:write(data)
    end
  end)
end))

print("PORT " .. server:getsockname().port)
io.stdout:flush()
uv.run()
