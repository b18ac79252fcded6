-- hotline_tls_echo.lua: TLS echo server on hotline.serve{tls=}, one task
-- per client (bench/tls/run.lua).
--   lua hotline_tls_echo.lua PORT CERT KEY   (0: ephemeral) -> "PORT <n>"
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"

local server = assert(hotline.serve{
  host = "127.0.0.1", port = tonumber(arg[1]) or 0, backlog = 1024,
  tls = { cert = arg[2], key = arg[3] },
  handler = function(client)
    while true do
      local data = client:recv(65536)
      if not data then return end
      if not client:write(data) then return end
    end
  end,
})

print("PORT " .. select(2, server:address()))
io.stdout:flush()
hotline.run()
