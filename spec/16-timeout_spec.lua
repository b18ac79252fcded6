-- hotline.timeout: a deadline over everything a piece of a task waits
-- for; nested scopes, the nearest deadline winning; no timer left behind.
-- On both poller backends, and on Lua 5.1 through its own coroutine.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("hotline.timeout (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)
    after_each(function() loop.set_error_handler(nil) end)

    it("ends a read that never completes; the socket stays usable", function()
      local a, b = hotline.socketpair()
      local result, after, timers
      local t0 = hotline.now()
      hotline.spawn(function()
        result = { hotline.timeout(0.05, function() return a:read(1) end) }
        timers = select(3, loop.stats())
        assert(b:write("y"))
        after = a:read(1)
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
      assert.is_true(hotline.now() - t0 >= 0.04)
      assert.equal(0, timers)
      assert.equal("y", after)
      a:close(); b:close()
    end)

    it("bounds a whole request of several reads and writes", function()
      -- the peer answers every line, slowly: each read ends in time, the
      -- request as a whole does not
      local a, b = hotline.socketpair()
      local lines, result = 0, nil
      local peer = hotline.spawn(function()
        while b:read("l") do
          hotline.sleep(0.02)
          if not b:write("ok\n") then return end
        end
      end)
      hotline.spawn(function()
        a:settimeout(1)                   -- each call alone would be in time
        result = { hotline.timeout(0.1, function()
          for _ = 1, 100 do
            assert(a:write("ping\n"))
            assert(a:read("l"))
            lines = lines + 1
          end
          return "all"
        end) }
        a:close()
        peer:join()
        b:close()
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
      assert.is_true(lines >= 1 and lines < 100)
    end)

    it("returns fn's results, and lets its errors through, leaving no timer", function()
      local results, err
      hotline.spawn(function()
        results = { hotline.timeout(5, function(x, y)
          hotline.sleep(0.001)
          return x, nil, y
        end, 1, 2) }
      end)
      loop.set_error_handler(function() end)
      local failing = hotline.spawn(function()
        hotline.timeout(5, function() hotline.sleep(0.001); error("own error", 0) end)
      end)
      assert(hotline.run())
      err = select(2, failing:join()):match("^[^\n]*")
      assert.same({ 1, nil, 2 }, results)
      assert.equal("own error", err)
      assert.same({ 0, 0, 0 }, { loop.stats() })
    end)

    it("nested: the nearest deadline wins, inner or outer", function()
      local inner_first, outer_first, inner_saw
      hotline.spawn(function()
        inner_first = { hotline.timeout(5, function()
          local r = { hotline.timeout(0.02, hotline.sleep, 5) }
          return "outer went on", r[2]
        end) }
        outer_first = { hotline.timeout(0.02, function()
          inner_saw = { hotline.timeout(5, hotline.sleep, 5) }   -- never returns
          return "not reached"
        end) }
      end)
      assert(hotline.run())
      assert.same({ "outer went on", "timeout" }, inner_first)
      assert.same({ nil, "timeout", "ETIMEDOUT" }, outer_first)
      assert.is_nil(inner_saw)
      assert.same({ 0, 0, 0 }, { loop.stats() })
    end)

    it("due while its task is woken but not yet run: the value is kept", function()
      local ch = hotline.channel()
      local got, result
      hotline.spawn(function()
        result = { hotline.timeout(0.01, function()
          got = ch:recv()
          hotline.sleep(5)             -- the next wait ends with the timeout
        end) }
      end)
      hotline.spawn(function()
        local due = hotline.now() + 0.02
        while hotline.now() < due do end   -- the deadline passes in this turn
        ch:send("item")                -- queues the receiver; then the scope is due
      end)
      assert(hotline.run())
      assert.equal("item", got)
      assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
      assert.same({ 0, 0, 0 }, { loop.stats() })
    end)

    it("runs the cleanups of what it ends: a semaphore's permit comes back", function()
      local s = hotline.semaphore(1)
      local result, again
      hotline.spawn(function()
        result = { hotline.timeout(0.02, function()
          return s:with(function() hotline.sleep(5) end)
        end) }
        again = s:acquire(0)
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
      assert.is_true(again)
    end)

    it("does not swallow a cancel of its task", function()
      local t = hotline.spawn(function()
        hotline.timeout(5, function() hotline.sleep(5) end)
        error("went on after a cancel")
      end)
      hotline.spawn(function() t:cancel() end)
      assert(hotline.run())
      assert.equal("cancelled", t:status())
      assert.same({ 0, 0, 0 }, { loop.stats() })
    end)

    it("a timeout of 0 ends the first wait; outside a task it raises", function()
      local result
      hotline.spawn(function()
        result = { hotline.timeout(0, function() hotline.sleep(1) end) }
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
      assert.has_error(function() hotline.timeout(1, function() end) end,
        "hotline.timeout outside a task: call it inside hotline.spawn")
      assert.has_error(function() hotline.timeout("1", function() end) end)
    end)
  end)
end
