-- spec/tools/tls-server.lua CERT KEY: a hotline.serve{tls=} on 127.0.0.1
-- for the interop specs (spec/21-tls_interop_spec.lua). Prints its port,
-- then serves until stopped: a caller that starts with "GET " gets a small
-- HTTP reply; any other gets each line back in capitals, until "bye".
local hotline = require "hotline"

local cert, key = arg[1], arg[2]
local BODY = "hello from hotline over TLS\n"

local srv = assert(hotline.serve({
  host = "127.0.0.1",
  tls = { cert = cert, key = key, alpn = { "http/1.1" } },
  handler = function(s)
    s:settimeout(10)
    local line = s:read("l")
    if line and line:match("^GET ") then
      repeat line = s:read("l") until not line or line == ""
      s:write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ", #BODY,
        "\r\nConnection: close\r\n\r\n", BODY)
      return
    end
    while line do
      s:write(line:upper(), "\n")
      if line == "bye" then return end
      line = s:read("l")
    end
  end,
}))
local _, port = srv:address()
io.write(port, "\n")
io.flush()
hotline.run()
