-- luasocket_tasks_echo.lua: echo server written with LuaSocket calls on
-- hotline.luasocket, one hotline task per client: socket.select waits for
-- data (suspending the task only), a non-blocking receive takes what is there.
--   lua luasocket_tasks_echo.lua PORT   (0: ephemeral) -> prints "PORT <n>"
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"
local socket = require "hotline.luasocket"

local server = assert(socket.bind("127.0.0.1", tonumber(arg[1]) or 0, 1024))
print("PORT " .. select(2, server:getsockname()))
io.stdout:flush()

-- Sends all of data, waiting for room as long as it takes -> ok
local function send_all(client, data)
  local i = 1
  while true do
    local last, err, sent = client:send(data, i)
    if last then return true end
    if err ~= "timeout" then return false end
    i = sent + 1
    socket.select(nil, { client })
  end
end

local function serve(client)
  client:settimeout(0)
  local watch = { client }
  while true do
    socket.select(watch, nil)
    local data, err, partial = client:receive(65536)
    data = data or partial
    if data ~= "" and not send_all(client, data) then break end
    if err and err ~= "timeout" then break end
  end
  client:close()
end

hotline.spawn(function()
  while true do
    local client = server:accept()
    if client then hotline.spawn(serve, client) end
  end
end)
hotline.run()
