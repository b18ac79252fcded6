-- spec/tools/signaller.lua PID SIGNAL PORT LINES: run by
-- spec/44-signals_spec.lua as a process of its own, to keep signalling
-- process PID while it blocks in hotline calls. In turn: a burst of
-- signals, then connect to 127.0.0.1:PORT (PID blocks in accept); for
-- each of LINES lines, half a line, a burst, the other half (PID blocks
-- in read); then read until the end, with a signal every 4 KiB (PID
-- blocks in write). Prints "drained N" with the bytes it read.
local hotline = require "hotline"
local core = require "hotline.core"

local pid, signal = tonumber(arg[1]), arg[2]
local port, lines = tonumber(arg[3]), tonumber(arg[4])

local function burst(n)
  for _ = 1, n do
    assert(core.kill(pid, signal))
    core.sleep(0.002)
  end
end

burst(20)
local c = assert(hotline.connect("127.0.0.1", port))
c:settimeout(30)
for i = 1, lines do
  assert(c:write("line ", i))
  burst(5)
  assert(c:write("\n"))
end
local total, since = 0, 0
while true do
  local piece, err = c:recv(1024)
  if not piece then
    assert(err == "closed", err)
    break
  end
  total, since = total + #piece, since + #piece
  if since >= 4096 then
    since = 0
    assert(core.kill(pid, signal))
  end
end
c:close()
io.write("drained ", total, "\n")
