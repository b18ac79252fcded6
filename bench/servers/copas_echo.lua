-- copas_echo.lua: echo server on copas (coroutines over LuaSocket's
-- socket.select, so at most FD_SETSIZE = 1024 sockets).
--   lua copas_echo.lua PORT   (0: ephemeral) -> prints "PORT <n>"
-- SPDX-License-Identifier: MIT

local copas = require "copas"
local socket = require "socket"

-- copas 1.x spells it receivePartial, later versions receivepartial
local receivepartial = copas.receivepartial or copas.receivePartial

local server = assert(socket.bind("127.0.0.1", tonumber(arg[1]) or 0, 1024))
print("PORT " .. select(2, server:getsockname()))
io.stdout:flush()

copas.addserver(server, function(client)
  while true do
    local data, err, partial = receivepartial(client, 65536)
    data = data or partial
    if data and #data > 0 and not copas.send(client, data) then return end
    if err and err ~= "timeout" then return end
  end
end)

copas.loop()
