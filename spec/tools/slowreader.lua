-- spec/tools/slowreader.lua PORT: run by spec/43-partial_spec.lua as a
-- process of its own. Connects to 127.0.0.1:PORT, reads everything in
-- small pieces with pauses, and prints how many bytes came and their
-- Adler-32, so the writer can check every byte arrived, in order.
local hotline = require "hotline"
local core = require "hotline.core"

local c = assert(hotline.connect("127.0.0.1", tonumber(arg[1])))
c:settimeout(30)
local a, b, total, since = 1, 0, 0, 0
while true do
  local piece, err = c:recv(700)
  if not piece then
    assert(err == "closed", err)
    break
  end
  for i = 1, #piece do
    a = (a + piece:byte(i)) % 65521
    b = (b + a) % 65521
  end
  total = total + #piece
  since = since + #piece
  if since >= 16384 then                  -- a slow reader
    since = 0
    core.sleep(0.002)
  end
end
c:close()
io.write(total, " ", b * 65536 + a, "\n")
