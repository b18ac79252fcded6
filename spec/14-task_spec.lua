-- Task objects: hotline.spawn's result, join, status in every state,
-- hotline.current, and the error for a wait that could never end outside
-- a task; on both poller backends.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("tasks (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)
    after_each(function() loop.set_error_handler(nil) end)

    it("join answers true and every result of the task's function", function()
      local got
      local worker = hotline.spawn(function(a, b) return a + b, "two", nil, false end, 1, 2)
      hotline.spawn(function() got = { worker:join() } end)
      assert(hotline.run())
      assert.same({ true, 3, "two", nil, false }, got)
      assert.equal(5, select("#", worker:join()))     -- ended: answers outside a task too
      local none = hotline.spawn(function() end)
      local many = hotline.spawn(function() return 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 end)
      assert(hotline.run())
      assert.same({ true }, { none:join() })
      assert.same({ true, 1, 2, 3, 4, 5, 6, 7, 8 }, { many:join() })   -- up to eight
    end)

    it("join of a failed task answers nil and the message with a traceback", function()
      loop.set_error_handler(function() end)
      local bad = hotline.spawn(function() error("broken here") end)
      local ok, message
      hotline.spawn(function() ok, message = bad:join() end)
      assert(hotline.run())
      assert.is_nil(ok)
      assert.matches("broken here", message)
      assert.matches("stack traceback", message)
      assert.equal("failed", bad:status())
    end)

    it("join waits for a task that waits, and several can join one", function()
      local a, b = hotline.socketpair()
      local order = {}
      local reader = hotline.spawn(function() return a:read(1) end)
      for i = 1, 3 do
        hotline.spawn(function()
          local ok, v = reader:join()
          order[#order + 1] = i .. (ok and v or "?")
        end)
      end
      hotline.spawn(function()
        hotline.sleep(0.01)
        assert(b:write("x"))
      end)
      assert(hotline.run())
      assert.same({ "1x", "2x", "3x" }, order)
      a:close(); b:close()
    end)

    it("join's own timeout answers nil, \"timeout\" and leaves the task alone", function()
      local sleeper = hotline.spawn(function() hotline.sleep(0.2) return "woke" end)
      local first, second
      hotline.spawn(function()
        first = { sleeper:join(0.01) }
        second = { sleeper:join(5) }
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout" }, first)
      assert.same({ true, "woke" }, second)
      assert.same({ nil, "timeout" }, { hotline.spawn(function() end):join(0) })
      assert(hotline.run())
    end)

    it("status: running, waiting, done, failed, cancelled", function()
      loop.set_error_handler(function() end)
      local seen = {}
      local a, b = hotline.socketpair()
      local me
      me = hotline.spawn(function() seen.self = me:status() end)
      local reader = hotline.spawn(function() a:read(1) end)
      local sleeper = hotline.spawn(function() hotline.sleep(10) end)
      local failing = hotline.spawn(function() error("no") end)
      assert.equal("running", reader:status())     -- ready to run, not started
      hotline.spawn(function()
        hotline.sleep(0)
        seen.reader, seen.sleeper = reader:status(), sleeper:status()
        seen.failing = failing:status()
        sleeper:cancel()
        assert(b:write("x"))
      end)
      assert(hotline.run())
      assert.same({ self = "running", reader = "waiting", sleeper = "waiting",
        failing = "failed" }, seen)
      assert.equal("done", reader:status())
      assert.equal("cancelled", sleeper:status())
      assert.equal("done", me:status())
      assert.matches("hotline.task %(done%)", tostring(me))
      a:close(); b:close()
    end)

    it("current() is the running task, the one spawn returned, and wake takes it", function()
      local inside, woken
      assert.is_nil(hotline.current())
      local t
      t = hotline.spawn(function()
        inside = hotline.current()
        woken = loop.suspend()
      end)
      hotline.spawn(function() loop.wake(loop.running() == t and nil or t, "hello") end)
      assert(hotline.run())
      assert.equal(t, inside)
      assert.equal("hello", woken)
      hotline.spawn(function() assert.equal(hotline.current(), loop.running()) end)
      assert(hotline.run())
    end)

    it("a wait that nothing could end, outside a task, raises", function()
      local message = "would wait for ever outside a task: call it inside hotline.spawn"
      local t = hotline.spawn(function() end)
      assert.has_error(function() t:join() end, message)
      assert.has_error(function() hotline.channel():recv() end, message)
      assert.has_error(function() hotline.channel():send(1) end, message)
      assert.has_error(function() hotline.condition():wait() end, message)
      assert.has_error(function() hotline.semaphore(0):acquire() end, message)
      assert.has_error(function() hotline.wait_any(hotline.channel()) end, message)
      assert(hotline.run())
      assert.same({ true }, { t:join() })      -- ended: no waiting, no error
    end)

    it("a task cannot join itself", function()
      local t, err
      t = hotline.spawn(function() err = select(2, pcall(t.join, t)) end)
      assert(hotline.run())
      assert.matches("cannot join itself", err)
    end)
  end)
end
