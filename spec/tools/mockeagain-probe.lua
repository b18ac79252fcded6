-- spec/tools/mockeagain-probe.lua: make check-eagain runs this first, to
-- prove the mock is in place: without it a socket pair's first send of
-- five bytes takes all five at once.
local hotline = require "hotline"

local a, b = assert(hotline.socketpair())
a:settimeout(0)
b:settimeout(0)
local first = { a:send("hello") }
local second = { a:send("hello") }
assert(first[1] == nil and first[2] == "timeout",
  "mockeagain is not active: the first send was not refused")
assert(second[1] == 1, "mockeagain is not active: a send moved more than one byte")
a:close()
b:close()
print("mockeagain: active")
