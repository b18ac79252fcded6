-- cqueues_echo.lua: echo server on cqueues, one coroutine per client.
--   lua cqueues_echo.lua PORT   (0: ephemeral) -> prints "PORT <n>"
-- SPDX-License-Identifier: MIT

local cqueues = require "cqueues"
local socket = require "cqueues.socket"

local server = socket.listen{ host = "127.0.0.1", port = tonumber(arg[1]) or 0,
  backlog = 1024 }
assert(server:listen())                -- bind now, to learn the port
print("PORT " .. select(3, server:localname()))
io.stdout:flush()

local cq = cqueues.new()

-- I/O errors (a peer's reset) come back as results, not raised: a raise
-- inside a client's coroutine would end cq:loop() and the server.
socket.onerror(function(_, _, why) return why end)

local function echo(client)
  client:setmode("b", "bn")            -- binary, writes unbuffered
  while true do
    local data = client:xread(-65536)  -- as soon as any bytes arrive
    if not data or not client:xwrite(data, "bn") then break end
  end
  client:close()
end

cq:wrap(function()
  for client in server:clients() do
    cq:wrap(echo, client)
  end
end)

assert(cq:loop())
