-- hotline.channel: Go's channels on the loop. Unbuffered rendezvous,
-- capacity and back-pressure, FIFO order under many senders and
-- receivers, close then drain, timeouts, iteration. Both poller backends.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

local LUA51 = _VERSION == "Lua 5.1" and not jit

for _, backend in ipairs(helpers.backends()) do
  describe("channels (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("unbuffered: a send waits until a receiver has the value", function()
      local ch = hotline.channel()
      local trace = {}
      hotline.spawn(function()
        trace[#trace + 1] = "send"
        assert.is_true(ch:send("v"))
        trace[#trace + 1] = "sent"
      end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        trace[#trace + 1] = "recv"
        trace[#trace + 1] = ch:recv()
      end)
      assert(hotline.run())
      assert.same({ "send", "recv", "v", "sent" }, trace)
    end)

    it("FIFO under 100 senders and 100 receivers, either side first", function()
      for _, senders_first in ipairs({ true, false }) do
        local ch = hotline.channel()
        local got = {}
        local function senders()
          for i = 1, 100 do hotline.spawn(function() ch:send(i) end) end
        end
        local function receivers()
          for i = 1, 100 do hotline.spawn(function() got[i] = ch:recv() end) end
        end
        if senders_first then senders(); receivers() else receivers(); senders() end
        assert(hotline.run())
        for i = 1, 100 do assert.equal(i, got[i]) end
      end
    end)

    it("capacity: sends go on until it is full, then wait (back-pressure)", function()
      local ch = hotline.channel(3)
      local sent, seen_when_receiving = 0, nil
      hotline.spawn(function()
        for i = 1, 10 do
          ch:send(i)
          sent = i
        end
        ch:close()
      end)
      local got = {}
      hotline.spawn(function()
        hotline.sleep(0.01)
        seen_when_receiving = sent
        while true do
          local v, err = ch:recv()
          if not v then got.err = err break end
          got[#got + 1] = v
        end
      end)
      assert(hotline.run())
      assert.equal(3, seen_when_receiving)
      assert.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, err = "closed" }, got)
    end)

    it("close: receivers drain, then nil, \"closed\"; sending raises", function()
      local ch = hotline.channel(2)
      assert(ch:send("a")); assert(ch:send("b"))     -- no wait: outside a task too
      assert.is_true(ch:close())
      assert.is_false(ch:close())
      assert.has_error(function() ch:send("c") end, "send on a closed channel")
      assert.equal("a", ch:recv())
      assert.equal("b", ch:recv())
      assert.same({ nil, "closed" }, { ch:recv() })
      assert.same({ nil, "closed" }, { ch:recv() })
      assert.matches("closed", tostring(ch))
    end)

    it("close wakes the waiting receivers and senders", function()
      local ch = hotline.channel()
      local results = {}
      for i = 1, 2 do
        hotline.spawn(function() results["r" .. i] = { ch:recv() } end)
      end
      local ok, err = hotline.run()          -- they wait: nothing can wake them
      assert.is_nil(ok)
      assert.matches("2 task%(s%) left waiting", err)
      local full = hotline.channel()
      loop.set_error_handler(function() end)
      local sender = hotline.spawn(function() full:send(1); results.sent = true end)
      hotline.spawn(function()
        hotline.sleep(0)                   -- the sender waits by now
        ch:close()
        full:close()
      end)
      assert(hotline.run())
      loop.set_error_handler(nil)
      assert.same({ nil, "closed" }, results.r1)
      assert.same({ nil, "closed" }, results.r2)
      assert.is_nil(results.sent)          -- the waiting send raised
      local ok2, message = sender:join()
      assert.is_nil(ok2)
      assert.matches("send on a closed channel", message)
    end)

    it("nil cannot be sent; capacity is checked", function()
      local ch = hotline.channel(1)
      assert.has_error(function() ch:send(nil) end,
        "bad argument #1 to 'send' (nil cannot be sent)")
      assert.has_error(function() hotline.channel(-1) end)
      assert.has_error(function() hotline.channel(1.5) end)
      assert.has_error(function() hotline.channel("big") end)
      assert.has_error(function() ch:recv("soon") end)
      assert.is_true(ch:send(false))     -- false is a value
      assert.is_false(ch:recv())
    end)

    it("timeouts: recv and send give up with nil, \"timeout\"", function()
      local ch = hotline.channel(1)
      local r
      hotline.spawn(function()
        local t0 = hotline.now()
        r = { ch:recv(0.02) }
        r.waited = hotline.now() - t0 >= 0.015
        r.first = ch:send(1, 0)
        r.full = { ch:send(2, 0) }         -- full: a send that must not wait
        r.full_later = { ch:send(2, 0.01) }
        r.kept = ch:recv(0)
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", waited = true, first = true,
        full = { nil, "timeout" }, full_later = { nil, "timeout" }, kept = 1 }, r)
      assert.same({ 0, 0, 0 }, { loop.stats() })
      assert.same({ nil, "timeout" }, { ch:recv(0) })  -- outside a task, no wait
    end)

    it("unbuffered: a send that timed out has delivered nothing", function()
      local ch = hotline.channel()
      local r = {}
      hotline.spawn(function()
        r.send = { ch:send("late", 0.01) }
        r.recv = { ch:recv(0) }
        r.ready = ch:ready()
      end)
      assert(hotline.run())
      assert.same({ send = { nil, "timeout" }, recv = { nil, "timeout" }, ready = false }, r)
      assert.same({ 0, 0, 0 }, { loop.stats() })
    end)

    it("values() iterates until closed and drained", function()
      local closed = hotline.channel(3)
      for i = 1, 3 do closed:send(i) end
      closed:close()
      local got = {}
      for v in closed:values() do got[#got + 1] = v end   -- nothing to wait for
      assert.same({ 1, 2, 3 }, got)
      local ch = hotline.channel()
      got = {}
      hotline.spawn(function()
        for i = 1, 5 do ch:send(i) end
        ch:close()
      end)
      local failure
      loop.set_error_handler(function(m) failure = m end)
      hotline.spawn(function()
        for v in ch:values() do got[#got + 1] = v end
      end)
      local ok = hotline.run()
      loop.set_error_handler(nil)
      if LUA51 then      -- a for loop's iterator cannot wait there
        assert.is_nil(ok)                 -- the sender is left waiting
        assert.matches("ch:values%(%) cannot wait on Lua 5.1", failure)
      else
        assert.is_nil(failure)
        assert.same({ 1, 2, 3, 4, 5 }, got)
      end
    end)
  end)
end
