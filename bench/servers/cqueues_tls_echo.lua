-- cqueues_tls_echo.lua: TLS echo server on cqueues with luaossl's context,
-- one coroutine per client, the handshake by starttls (bench/tls/run.lua).
--   lua cqueues_tls_echo.lua PORT CERT KEY   (0: ephemeral) -> "PORT <n>"
-- SPDX-License-Identifier: MIT

local cqueues = require "cqueues"
local socket = require "cqueues.socket"
local context = require "openssl.ssl.context"
local pkey = require "openssl.pkey"
local x509 = require "openssl.x509"

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local ctx = context.new("TLS", true)   -- server side
ctx:setCertificate(x509.new(slurp(arg[2])))
ctx:setPrivateKey(pkey.new(slurp(arg[3])))

local server = socket.listen{ host = "127.0.0.1", port = tonumber(arg[1]) or 0,
  backlog = 1024 }
assert(server:listen())                -- bind now, to learn the port
print("PORT " .. select(3, server:localname()))
io.stdout:flush()

local cq = cqueues.new()

-- errors (a failed handshake, a reset) come back as results, not raised:
-- a raise inside a client's coroutine would end cq:loop() and the server
socket.onerror(function(_, _, why) return why end)

local function echo(client)
  client:setmode("b", "bn")            -- binary, writes unbuffered
  if client:starttls(ctx, 10) then
    while true do
      local data = client:xread(-65536)  -- as soon as any bytes arrive
      if not data or not client:xwrite(data, "bn") then break end
    end
  end
  client:close()
end

cq:wrap(function()
  -- nodelay on each client: TLS sends the session tickets and the reply as
  -- small records, and Nagle would hold the last for a delayed ACK
  for client in server:clients{ nodelay = true } do
    cq:wrap(echo, client)
  end
end)

assert(cq:loop())
