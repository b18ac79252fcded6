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

  describe("waits of every kind, mixed (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)
    after_each(function() loop.set_error_handler(nil) end)

    -- Twelve tasks each doing five random things, with short timeouts and
    -- scopes, and cancelling each other: no value sent is lost or received
    -- twice, no more than two hold the semaphore, nothing is left behind.
    it("lose nothing, whatever ends the waits", function()
      local function rnd(scale) return math.random() * scale end
      for round = 1, helpers.size(40, 10) do
        math.randomseed(round)
        local failures = {}
        loop.set_error_handler(function(m) failures[#failures + 1] = m end)
        local ch, s = hotline.channel(round % 3), hotline.semaphore(2)
        local c = hotline.condition()
        local sent, got, holders, tasks, last = {}, {}, {}, {}, 0
        local function take(v)
          if v then assert(not got[v], "received twice"); got[v] = true end
        end
        local function hold()
          local n = 0
          for t in pairs(holders) do
            local status = t:status()
            if status == "running" or status == "waiting" then
              n = n + 1
            else
              holders[t] = nil
            end
          end
          assert(n < 2, "more than two hold the semaphore")
          holders[hotline.current()] = true
          hotline.sleep(rnd(0.002))
        end
        local function step(kind, r)
          if kind == 1 then
            last = last + 1
            local v = last
            local ok
            if r < 0.5 then
              ok = ch:send(v, rnd(0.003))
            else
              ok = hotline.timeout(rnd(0.003), ch.send, ch, v)
            end
            sent[v] = ok or nil
          elseif kind == 2 then
            if r < 0.5 then
              take(ch:recv(rnd(0.003)))
            else
              take(hotline.timeout(rnd(0.003), ch.recv, ch))
            end
          elseif kind == 3 then
            hotline.timeout(rnd(0.003), s.with, s, hold)
          elseif kind == 4 then
            c:wait(rnd(0.002))
          elseif kind == 5 then
            if hotline.timeout(rnd(0.003), hotline.wait_any, ch) == 1 then take(ch:recv(0)) end
          else
            local t = tasks[math.random(#tasks)]
            if t == hotline.current() then return end
            if r < 0.3 then t:cancel()
            elseif r < 0.6 then c:signal()
            else t:join(rnd(0.003)) end
            hotline.sleep(rnd(0.002))
          end
        end
        for i = 1, 12 do
          local kind = math.random(1, 6)
          tasks[i] = hotline.spawn(function()
            for _ = 1, 5 do
              holders[hotline.current()] = nil     -- what it held, it let go of
              step(kind, math.random())
            end
          end)
        end
        assert(hotline.run())
        while ch:ready() do take(ch:recv(0)) end
        for v in pairs(sent) do assert(got[v], "value " .. v .. " lost") end
        for v in pairs(got) do assert(sent[v], "value " .. v .. " received, never sent") end
        assert.equal(2, s.count)
        assert.same({}, failures)
        assert.same({ 0, 0, 0 }, { loop.stats() })
      end
    end)
  end)
end
