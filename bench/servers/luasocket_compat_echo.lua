-- luasocket_compat_echo.lua: luasocket_echo.lua unchanged but for the
-- require: LuaSocket's select server on hotline.luasocket (no FD_SETSIZE).
--   lua luasocket_compat_echo.lua PORT   (0: ephemeral) -> prints "PORT <n>"
-- SPDX-License-Identifier: MIT

local socket = require "hotline.luasocket"

local server = assert(socket.bind("127.0.0.1", tonumber(arg[1]) or 0, 1024))
server:settimeout(0)
print("PORT " .. select(2, server:getsockname()))
io.stdout:flush()

local reading = { server }             -- sockets select watches for reading
local writing = {}                     -- ... and for writing
local pending = {}                     -- client -> bytes not yet written

local function remove(list, sock)
  for i = 1, #list do
    if list[i] == sock then
      list[i] = list[#list]
      list[#list] = nil
      return
    end
  end
end

local function drop(client)
  remove(reading, client)
  remove(writing, client)
  pending[client] = nil
  client:close()
end

-- Sends data; what the kernel does not take waits for writability, and
-- the client is not read meanwhile.
local function send(client, data)
  local last, err, partial = client:send(data)
  if last then return end
  if err ~= "timeout" then return drop(client) end
  pending[client] = data:sub(partial + 1)
  remove(reading, client)
  writing[#writing + 1] = client
end

local function on_readable(client)
  local data, err, partial = client:receive(65536)
  data = data or partial
  if data and #data > 0 then send(client, data) end
  if err and err ~= "timeout" and pending[client] == nil then drop(client) end
end

local function on_writable(client)
  local data = pending[client]
  pending[client] = nil
  remove(writing, client)
  reading[#reading + 1] = client
  send(client, data)
end

while true do
  local readable, writable = socket.select(reading, writing)
  for _, client in ipairs(writable) do
    if pending[client] then on_writable(client) end
  end
  for _, sock in ipairs(readable) do
    if sock == server then
      local client = server:accept()
      while client do
        client:settimeout(0)
        reading[#reading + 1] = client
        client = server:accept()
      end
    elseif not pending[sock] then
      on_readable(sock)
    end
  end
end
