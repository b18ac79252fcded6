-- Regression (found by make check-eagain): a socket's timeout did not
-- bound a call whose peer kept it busy. Each socket call computes its
-- deadline once and waits in loop.await as often as it must; when the
-- deadline passed between two waits (while the call was sending, say):
--  * outside a task, the next wait asked core.waitfd for deadline - now
--    seconds, a negative number, which waitfd takes as "for ever": a write
--    to a peer that kept draining went on until it was done, however long
--    that took, and with a peer that stopped it hung;
--  * inside a task, the deadline lost to the socket being ready again.
-- Now a wait whose deadline has passed is a timeout. The spec calls
-- loop.await with a deadline already past, as the socket calls do then.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

describe("a wait whose deadline has passed", function()
  before_each(function() loop.reset() end)

  it("is a timeout outside a task, not a wait for ever", function()
    local listener = assert(hotline.listen("127.0.0.1", 0))
    listener:settimeout(helpers.TIMEOUT)
    -- a peer that writes only after 2 s: without the fix, the wait lasted
    -- until then (and for ever with a peer that never writes)
    local pid = helpers.start(helpers.lua .. string.format([[ -e '
      local hotline = require "hotline"
      local c = assert(hotline.connect("127.0.0.1", %d))
      require("hotline.core").sleep(2)
      c:write("late\n")
      c:close()']], select(2, listener:getsockname())))
    finally(function() helpers.stop(pid) end)
    local s = assert(listener:accept())
    listener:close()
    local t0 = hotline.now()
    local result = { loop.await(s, "wantread", t0 - 0.1) }
    local elapsed = hotline.now() - t0
    s:close()
    assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
    assert.is_true(elapsed < 1, "waited " .. elapsed .. " s")
  end)

  it("is a timeout in a task, even when the socket is ready", function()
    local c, s = helpers.tcp_pair()
    assert(c:write("ready\n"))
    local result
    hotline.spawn(function()
      result = { loop.await(s, "wantread", hotline.now() - 0.1) }
    end)
    assert(hotline.run())
    c:close()
    s:close()
    assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
  end)

  it("is only a look for core.waitfd, given the negative time left", function()
    -- (the wait point's check and its waitfd each read the clock: the
    -- deadline may pass in between, and waitfd then gets a negative time)
    local ok, _, out = helpers.run_lua([[-e '
      local hotline = require "hotline"
      local core = require "hotline.core"
      local listener = assert(hotline.listen("127.0.0.1", 0))
      local c = assert(hotline.connect(listener:getsockname()))
      print(core.waitfd(c, "wantread", -0.001))']])
    assert.is_true(ok)
    assert.equal("nil\ttimeout\tETIMEDOUT\n", out)
  end)
end)
