-- hotline_echo.lua: echo server on hotline.serve, one task per client.
--   lua hotline_echo.lua PORT   (0: ephemeral) -> prints "PORT <n>"
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"

local server = assert(hotline.serve{
  host = "127.0.0.1", port = tonumber(arg[1]) or 0, backlog = 1024,
  handler = function(client)
    while true do
      local data = client:recv(65536)  -- what is there; nil, "closed" at EOF
      if not data then return end
      if not client:write(data) then return end
    end
  end,
})

print("PORT " .. select(2, server:address()))
io.stdout:flush()
hotline.run()
