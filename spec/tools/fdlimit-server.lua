-- spec/tools/fdlimit-server.lua: run by spec/46-fdlimit_spec.lua under
-- `ulimit -n 64`. First opens sockets until the system refuses one and
-- prints that failure's code, then closes them; then serves a line echo
-- on 127.0.0.1 (printing "PORT n"), printing "accept CODE" the first time
-- accept fails, until SIGTERM. Exits 0 after a clean stop.
local hotline = require "hotline"

local held, code = {}, nil
for _ = 1, 1000 do
  local s, _, c = hotline.socket()
  if not s then
    code = c
    break
  end
  held[#held + 1] = s
end
io.write("socket ", tostring(code), " after ", #held, "\n")
local _, _, listen_code = hotline.listen("127.0.0.1", 0)   -- also refused
io.write("listen ", tostring(listen_code), "\n")
for _, s in ipairs(held) do s:close() end

local told = false
local server = assert(hotline.serve { host = "127.0.0.1", port = 0,
  on_error = function(message)
    if not told then
      told = true
      io.write("accept ", message:match("%((%u+)%)") or message, "\n")
      io.flush()
    end
  end,
  handler = function(client)
    client:settimeout(30)
    while true do
      local line = client:read("l")
      if not line then return end
      client:write("echo ", line, "\n")
    end
  end })
io.write("PORT ", select(2, server:address()), "\n")
io.flush()
hotline.onsignal("TERM", function() server:close() end)
assert(hotline.run())
io.write("stopped\n")
