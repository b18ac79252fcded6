-- hotline.condition, hotline.semaphore and hotline.wait_any, on both
-- poller backends.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("conditions (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("signal wakes one, the longest waiting; broadcast wakes all", function()
      local c = hotline.condition()
      local woke = {}
      for i = 1, 4 do
        hotline.spawn(function()
          assert.is_true(c:wait())
          woke[#woke + 1] = i
        end)
      end
      local counts = {}
      hotline.spawn(function()
        hotline.sleep(0)
        counts.first = c:signal()
        hotline.sleep(0.01)
        counts.after_one = #woke
        counts.all = c:broadcast()
        hotline.sleep(0.01)
        counts.none = c:signal()           -- no waiter: nothing is kept for later
      end)
      assert(hotline.run())
      assert.same({ 1, 2, 3, 4 }, woke)
      assert.same({ first = true, after_one = 1, all = 3, none = false }, counts)
    end)

    it("wait gives up after its timeout", function()
      local c = hotline.condition()
      local r
      hotline.spawn(function() r = { c:wait(0.01) } end)
      assert(hotline.run())
      assert.same({ nil, "timeout" }, r)
      assert.is_false(c:signal())
      assert.same({ 0, 0, 0 }, { loop.stats() })
    end)
  end)

  describe("semaphores (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)
    after_each(function() loop.set_error_handler(nil) end)

    it("never lets more than n in", function()
      local s = hotline.semaphore(3)
      local inside, most, done = 0, 0, 0
      for i = 1, 20 do
        hotline.spawn(function()
          local r = s:with(function(x)
            inside = inside + 1
            if inside > most then most = inside end
            hotline.sleep((i % 4) * 0.002)
            inside = inside - 1
            return x * 2
          end, i)
          assert.equal(2 * i, r)
          done = done + 1
        end)
      end
      assert(hotline.run())
      assert.equal(3, most)
      assert.equal(20, done)
      assert.equal(3, s.count)
    end)

    it("acquire waits for a release, in order, or gives up", function()
      local s = hotline.semaphore(1)
      local order = {}
      assert.is_true(s:acquire())        -- a permit is there: no wait, no task needed
      for i = 1, 3 do
        hotline.spawn(function()
          assert.is_true(s:acquire())
          order[#order + 1] = i
          s:release()
        end)
      end
      local late
      hotline.spawn(function() late = { s:acquire(0.01) } end)
      hotline.spawn(function()
        hotline.sleep(0.05)
        s:release()
      end)
      assert(hotline.run())
      assert.same({ 1, 2, 3 }, order)
      assert.same({ nil, "timeout" }, late)
      assert.same({ nil, "timeout" }, { hotline.semaphore(0):acquire(0) })
    end)

    it("with releases however fn ends", function()
      loop.set_error_handler(function() end)
      local s = hotline.semaphore(1)
      local t = hotline.spawn(function()
        s:with(function() hotline.sleep(0.001); error("inside") end)
      end)
      assert(hotline.run())
      assert.matches("inside", select(2, t:join()))
      assert.equal(1, s.count)
      local waiting = hotline.spawn(function() s:with(hotline.sleep, 5) end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        waiting:cancel()
      end)
      assert(hotline.run())
      assert.equal(1, s.count)
      assert.has_error(function() s:with("fn") end)
      assert.has_error(function() hotline.semaphore(-1) end)
    end)
  end)

  describe("hotline.wait_any (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("answers the first of a channel and a socket to have something", function()
      local ch = hotline.channel()
      local a, b = hotline.socketpair()
      local got = {}
      hotline.spawn(function()
        got[1] = hotline.wait_any(ch, a)
        got[2] = a:read(1)
        got[3] = hotline.wait_any(ch, a)
        got[4] = ch:recv()
        got[5] = { hotline.wait_any(ch, a, 0.01) }
      end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        assert(b:write("x"))
        hotline.sleep(0.01)
        ch:send("m")
      end)
      assert(hotline.run())
      assert.same({ 2, "x", 1, "m", { nil, "timeout" } }, got)
      assert.same({ 0, 0, 0 }, { loop.stats() })
      a:close(); b:close()
    end)

    it("several channels; a closed one is ready; a ready one answers at once", function()
      local c1, c2, c3 = hotline.channel(), hotline.channel(1), hotline.channel()
      local got = {}
      hotline.spawn(function()
        got[1] = hotline.wait_any(c1, c2, c3)
        got[2] = c2:recv()
        got[3] = hotline.wait_any(c1, c2, c3, 5)
        got[4] = { c3:recv() }
      end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        c2:send("two")
        hotline.sleep(0.01)
        c3:close()
      end)
      assert(hotline.run())
      assert.same({ 2, "two", 3, { nil, "closed" } }, got)
      c1:send("ready", 0)                -- nobody receives: it does not wait
      c2:send("buffered")
      assert.equal(2, hotline.wait_any(c1, c2))   -- outside a task: no wait needed
    end)

    it("outside a task waits on its sockets only; bad arguments raise", function()
      local a, b = hotline.socketpair()
      assert(b:write("y"))
      assert.equal(2, hotline.wait_any(hotline.channel(), a, 1))
      assert.same({ nil, "timeout" }, { hotline.wait_any(b, 0.01) })
      assert.has_error(function() hotline.wait_any() end)
      assert.has_error(function() hotline.wait_any(5) end)
      assert.has_error(function() hotline.wait_any({}) end)
      a:close(); b:close()
    end)
  end)
end
