-- Regression: loop.await_any (and hotline.wait_any) given the same socket
-- twice for the same want counted the task twice among the tasks waiting
-- for a socket, and took it off once: the count stayed one too high for
-- ever, so the loop went on polling for a waiter that was gone instead of
-- answering that the tasks left could never be woken.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("a socket listed twice (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("is waited on once, and nothing is left counted", function()
      local a, b = hotline.socketpair()
      local r = {}
      hotline.spawn(function()
        r.timeout = { hotline.wait_any(a, a, 0.01) }
        r.cancelled = hotline.spawn(function()
          loop.await_any({ a, "wantread", b, "wantwrite", a, "wantread" })
        end)
        hotline.sleep(0)
        r.cancelled:cancel()
        b:write("x")
        r.ready = { hotline.wait_any(a, a) }
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout" }, r.timeout)
      assert.equal("cancelled", r.cancelled:status())
      assert.same({ 1 }, r.ready)
      assert.same({ 0, 0, 0 }, { loop.stats() })
      local ch = hotline.channel()     -- a task nothing can wake: run says so
      hotline.spawn(function() ch:recv() end)
      assert.is_nil((hotline.run()))
      a:close(); b:close()
    end)
  end)
end
