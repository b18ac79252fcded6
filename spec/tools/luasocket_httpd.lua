-- spec/tools/luasocket_httpd.lua: a small HTTP/1.1 server for the
-- socket.http specs, on hotline.serve (one task per connection).
--   lua luasocket_httpd.lua   -> prints "PORT <n>", serves until stopped
-- GET /delay/<s> answers after s seconds; /chunked answers in chunks;
-- POST echoes the body; anything else answers "hello from <path>".
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"

local function answer(client, status, body, extra)
  client:write("HTTP/1.1 ", status, "\r\nContent-Type: text/plain\r\n",
    extra or ("Content-Length: " .. #body .. "\r\n"), "Connection: close\r\n\r\n",
    extra and "" or body)
end

local server = assert(hotline.serve{
  host = "127.0.0.1", port = 0,
  handler = function(client)
    client:settimeout(10)
    local request = client:read("l")
    if not request then return end
    local method, path = request:match("^(%u+) (%S+)")
    local length = 0
    while true do
      local line = client:read("l")
      if not line or line == "" then break end
      local n = line:lower():match("^content%-length:%s*(%d+)")
      if n then length = tonumber(n) end
    end
    local delay = path:match("^/delay/([%d.]+)$")
    if delay then hotline.sleep(tonumber(delay)) end
    if method == "POST" then
      answer(client, "200 OK", "got " .. (length > 0 and client:read(length) or ""))
    elseif path == "/chunked" then
      answer(client, "200 OK", nil, "Transfer-Encoding: chunked\r\n")
      for _, piece in ipairs({ "chunk one, ", "chunk two, ", "the end" }) do
        client:write(string.format("%x\r\n%s\r\n", #piece, piece))
      end
      client:write("0\r\n\r\n")
    elseif path == "/missing" then
      answer(client, "404 Not Found", "no such thing")
    else
      answer(client, "200 OK", "hello from " .. path)
    end
  end,
})
print("PORT " .. select(2, server:address()))
io.stdout:flush()
hotline.run()
