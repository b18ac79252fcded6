-- hotline_poller_echo.lua: echo server on hotline's low-level poller and
-- non-blocking sockets, no scheduler: the shape of c_echo.c in Lua. A
-- client whose echo the kernel did not take is watched for writing, and
-- not read, until it is sent.
--   lua hotline_poller_echo.lua PORT   (0: ephemeral) -> prints "PORT <n>"
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"

local listener = assert(hotline.listen("127.0.0.1", tonumber(arg[1]) or 0,
  { backlog = 1024 }))
listener:settimeout(0)
print("PORT " .. select(2, listener:getsockname()))
io.stdout:flush()

local poller = assert(hotline.poller())
poller:add(listener, "r")

-- client -> true, or the bytes it still has to be sent. The poller holds
-- its sockets weakly, so this table is also what keeps them alive.
local clients = {}
local from = {}                        -- client -> index of the unsent rest

local function drop(client)
  clients[client], from[client] = nil, nil
  poller:remove(client)
  client:close()
end

-- Sends data from index i on; what the kernel does not take is kept and
-- the client watched for writing instead of reading.
local function send(client, data, i)
  while i <= #data do
    local n, err = client:send(data, i)
    if not n then
      if err ~= "timeout" then return drop(client) end
      if clients[client] == true then poller:modify(client, "w") end
      clients[client], from[client] = data, i
      return
    end
    i = i + n
  end
  if clients[client] ~= true then
    clients[client], from[client] = true, nil
    poller:modify(client, "r")
  end
end

local function accept_all()
  while true do
    local client = listener:accept()
    if not client then return end
    client:settimeout(0)
    clients[client] = true
    poller:add(client, "r")
  end
end

while true do
  for sock, events in poller:wait() do
    local state = clients[sock]
    if sock == listener then
      accept_all()
    elseif state == true then
      local data, err = sock:recv(65536)
      if data then
        send(sock, data, 1)
      elseif err ~= "timeout" then
        drop(sock)
      end
    elseif state and events ~= "r" then
      send(sock, state, from[sock])
    end
  end
end
