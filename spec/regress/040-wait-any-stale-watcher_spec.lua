-- Regression: hotline.wait_any(channel, socket) ended by a timeout scope
-- (or a cancel the task survives) left the task registered as a watcher
-- on the channel. A later send on the channel then ended the task's next,
-- unrelated wait (here a read on another socket) as if its socket had
-- been closed: the read answered nil, "closed" with the socket open.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("wait_any ended by a timeout scope (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("leaves no watcher that could end a later wait", function()
      local ch = hotline.channel(1)
      local a, b = hotline.socketpair()
      local c, d = hotline.socketpair()
      local scoped, read
      hotline.spawn(function()
        scoped = { hotline.timeout(0.01, hotline.wait_any, ch, a) }
        read = { c:read("l") }
      end)
      hotline.spawn(function()
        hotline.sleep(0.05)
        ch:send("not for the reader")
        hotline.sleep(0.01)
        d:write("line\n")
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, scoped)
      assert.same({ "line" }, read)
      for _, s in ipairs({ a, b, c, d }) do s:close() end
    end)

    it("the same with channels only", function()
      local ch, other = hotline.channel(1), hotline.channel()
      local scoped, got
      hotline.spawn(function()
        scoped = { hotline.timeout(0.01, hotline.wait_any, ch) }
        got = { other:recv() }
      end)
      hotline.spawn(function()
        hotline.sleep(0.05)
        ch:send("not for the receiver")
        hotline.sleep(0.01)
        other:send("for it")
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, scoped)
      assert.same({ "for it" }, got)
    end)
  end)
end
