-- Regression (found in review): after a short read the socket remembers
-- that the kernel had nothing more, and its next read waits before it
-- calls recv; a wait clears the hint. With 007's fix a call whose
-- deadline had already passed (a tiny timeout) returned "timeout" before
-- any wait, so it never called recv: bytes that had arrived meanwhile
-- were not read, although they were there. Now such a call looks once
-- without waiting and, the socket being ready, reads them.
local hotline = require "hotline"
local helpers = require "spec.helpers"

describe("a read with a timeout already over", function()
  -- (of what one recv gets: the EAGAIN mock changes that by design)
  local kernel_it = helpers.MOCKED and pending or it
  local c, s
  before_each(function() c, s = helpers.tcp_pair() end)
  after_each(function()
    c:close()
    s:close()
  end)

  local function after_a_short_read()
    assert(c:write("abc"))
    assert.equal("abc", s:recv(10))       -- short: the hint is set
    assert(c:write("more"))               -- loopback: in s's queue at once
    s:settimeout(1e-9)
  end

  kernel_it("still reads what has arrived, outside a task", function()
    after_a_short_read()
    assert.equal("more", s:recv(10))
  end)

  kernel_it("still reads what has arrived, in a task", function()
    after_a_short_read()
    local got
    hotline.spawn(function() got = { s:recv(10) } end)
    assert(hotline.run())
    assert.same({ "more" }, got)
  end)

  kernel_it("and is a timeout when nothing has", function()
    assert(c:write("abc"))
    assert.equal("abc", s:recv(10))
    s:settimeout(1e-9)
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:recv(10) })
  end)
end)
