-- Regression (found by spec/tools/fuzz_read.c): with maxline n, a last
-- line of exactly n bytes, ended by the end of the stream rather than by
-- "\n", was refused as "line too long", although it is no longer than n
-- (a line of n - 1 bytes and its "\n" fit; n bytes and "\n" do not).
-- hl_rbuf_line said "too long" as soon as n bytes held no newline; now it
-- waits for one byte more, or the end of the stream.
local hotline = require "hotline"

local function read_after(data, maxline, ...)
  local a, b = assert(hotline.socketpair())
  assert(b:setoption("maxline", maxline))
  b:settimeout(5)
  assert(a:write(data))
  a:close()
  local r = { b:read(...) }
  b:close()
  return r
end

describe("maxline and the last line of a stream", function()
  it("takes a last line of exactly maxline bytes", function()
    assert.same({ "12345678" }, read_after("12345678", 8, "l"))
    assert.same({ "12345678" }, read_after("12345678", 8, "L"))
    assert.same({ "x" }, read_after("x", 1, "l"))
    assert.same({ "ab", "12345678" }, read_after("ab\n12345678", 8, "l", "l"))
  end)

  it("still refuses a line longer than maxline", function()
    local too_long = { nil, "line too long", "EMSGSIZE" }
    assert.same(too_long, read_after("123456789", 8, "l"))
    assert.same(too_long, read_after("12345678\n", 8, "l"))    -- 9 with "\n"
    assert.same({ "1234567" }, read_after("1234567\n", 8, "l"))
  end)

  it("refuses a long line as soon as maxline + 1 bytes are there", function()
    local a, b = assert(hotline.socketpair())
    assert(b:setoption("maxline", 8))
    b:settimeout(5)
    assert(a:write("123456789"))               -- and the stream stays open
    assert.same({ nil, "line too long", "EMSGSIZE" }, { b:read("l") })
    a:close()
    b:close()
  end)
end)
