-- spec/tools/luasocket_peer.lua: a scripted TCP peer for the luasocket
-- specs, run as a process of its own so that a call blocking the spec's
-- process still has someone on the other side.
--   lua luasocket_peer.lua PORT STEP...
-- Connects to 127.0.0.1:PORT and runs the steps in order: "s<text>" sends
-- text ("\n" and "\r" as escapes), "z<seconds>" sleeps, "r<n>" reads n
-- bytes and prints them, "h" shuts the writing side down. Closes at the end.
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"

local sock = assert(hotline.connect("127.0.0.1", tonumber(arg[1])))
for i = 2, #arg do
  local step, rest = arg[i]:sub(1, 1), arg[i]:sub(2)
  if step == "s" then
    rest = rest:gsub("\\n", "\n"):gsub("\\r", "\r")
    assert(sock:write(rest))
  elseif step == "z" then
    hotline.sleep(tonumber(rest))
  elseif step == "r" then
    io.write(assert(sock:read(tonumber(rest))))
    io.flush()
  elseif step == "h" then
    sock:shutdown("write")
  end
end
sock:close()
