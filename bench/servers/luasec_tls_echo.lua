-- luasec_tls_echo.lua: TLS echo server on LuaSocket + LuaSec (Debian
-- lua-sec), non-blocking sockets multiplexed with socket.select, as
-- luasocket_echo.lua (bench/tls/run.lua).
--   lua luasec_tls_echo.lua PORT CERT KEY   (0: ephemeral) -> "PORT <n>"
-- SPDX-License-Identifier: MIT

local socket = require "socket"
local ssl = require "ssl"

local params = { mode = "server", protocol = "any", key = arg[3], certificate = arg[2],
  options = { "all", "no_sslv2", "no_sslv3", "no_tlsv1", "no_tlsv1_1" } }
local ctx = assert(ssl.newcontext(params))
local server = assert(socket.bind("127.0.0.1", tonumber(arg[1]) or 0, 1024))
server:settimeout(0)
print("PORT " .. select(2, server:getsockname()))
io.stdout:flush()

local reading, writing = { server }, {}
local pending, shaking = {}, {}   -- client -> unsent bytes; -> in handshake

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
  pending[client], shaking[client] = nil, nil
  client:close()
end

local function handshake(client)
  local ok, err = client:dohandshake()
  remove(reading, client)
  remove(writing, client)
  if ok then
    shaking[client] = nil
    reading[#reading + 1] = client
  elseif err == "wantread" then
    reading[#reading + 1] = client
  elseif err == "wantwrite" then
    writing[#writing + 1] = client
  else
    drop(client)
  end
end

local function send(client, data)
  local last, err, partial = client:send(data)
  if last then return end
  if err ~= "timeout" and err ~= "wantwrite" then return drop(client) end
  pending[client] = data:sub((partial or 0) + 1)
  remove(reading, client)
  writing[#writing + 1] = client
end

local function on_readable(client)
  repeat   -- what LuaSec holds decrypted is invisible to select
    local data, err, partial = client:receive(65536)
    data = data or partial
    if data and #data > 0 then send(client, data) end
    if err and err ~= "timeout" and err ~= "wantread" and pending[client] == nil then
      return drop(client)
    end
  until pending[client] or not client:dirty()
end

while true do
  local readable, writable = socket.select(reading, writing)
  for _, client in ipairs(writable) do
    if shaking[client] then
      handshake(client)
    elseif pending[client] then
      local data = pending[client]
      pending[client] = nil
      remove(writing, client)
      reading[#reading + 1] = client
      send(client, data)
    end
  end
  for _, sock in ipairs(readable) do
    if sock == server then
      local raw = server:accept()
      while raw do
        raw:setoption("tcp-nodelay", true)   -- as the other rows: no Nagle wait
        local client = assert(ssl.wrap(raw, ctx))
        client:settimeout(0)
        shaking[client] = true
        handshake(client)
        raw = server:accept()
      end
    elseif shaking[sock] then
      handshake(sock)
    elseif not pending[sock] then
      on_readable(sock)
    end
  end
end
