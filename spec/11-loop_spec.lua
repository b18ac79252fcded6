-- The scheduler: tasks, sleep, stop, timeouts inside tasks, failures,
-- and the same socket calls blocking outside a task.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("loop (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)
    after_each(function() loop.set_error_handler(nil) end)

    it("runs tasks until none is left, passing spawn's arguments", function()
      local got = {}
      hotline.spawn(function(a, b, c) got[#got + 1] = a .. b .. c end, "x", "y", "z")
      hotline.spawn(function(a) got[#got + 1] = a end, "one")
      hotline.spawn(function() got[#got + 1] = "none" end)
      assert.is_true(hotline.run())
      assert.same({ "xyz", "one", "none" }, got)
      assert.is_true(hotline.run())              -- nothing left: returns at once
    end)

    it("sleep orders tasks by their wake-up time", function()
      local order = {}
      for _, d in ipairs({ 0.05, 0.01, 0.03, 0 }) do
        hotline.spawn(function()
          hotline.sleep(d)
          order[#order + 1] = d
        end)
      end
      local t0 = hotline.now()
      assert(hotline.run())
      assert.same({ 0, 0.01, 0.03, 0.05 }, order)
      assert.is_true(hotline.now() - t0 >= 0.05)
    end)

    it("sleep(0) and coroutine.yield let other tasks run", function()
      local trace = {}
      hotline.spawn(function()
        for i = 1, 3 do trace[#trace + 1] = "a" .. i; hotline.sleep(0) end
      end)
      hotline.spawn(function()
        for i = 1, 3 do trace[#trace + 1] = "b" .. i; coroutine.yield() end
      end)
      assert(hotline.run())
      assert.same({ "a1", "b1", "a2", "b2", "a3", "b3" }, trace)
    end)

    it("stop() returns from run; run() goes on where it stopped", function()
      local steps = 0
      hotline.spawn(function()
        for _ = 1, 3 do
          steps = steps + 1
          if steps == 2 then hotline.stop() end
          hotline.sleep(0)
        end
      end)
      assert.is_true(hotline.run())
      assert.equal(2, steps)
      assert.is_true(hotline.run())
      assert.equal(3, steps)
    end)

    it("a failing task is reported with a traceback; the others go on", function()
      local reports, finished = {}, false
      loop.set_error_handler(function(message) reports[#reports + 1] = message end)
      hotline.spawn(function()
        hotline.sleep(0)
        error("boom")
      end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        finished = true
      end)
      assert(hotline.run())
      assert.is_true(finished)
      assert.equal(1, #reports)
      assert.matches("boom", reports[1])
      assert.matches("stack traceback", reports[1])
    end)

    it("the default report goes to stderr without stopping the loop", function()
      local ok, _, out, err = helpers.run_source([[
        local hotline = require "hotline"
        hotline.spawn(function() error("task exploded") end)
        hotline.spawn(function() hotline.sleep(0.01) print("still here") end)
        print(hotline.run())
      ]])
      assert.is_true(ok)
      assert.matches("still here\ntrue", out)
      assert.matches("hotline: task failed: .*task exploded", err)
      assert.matches("stack traceback", err)
    end)

    it("socket calls in a task suspend only that task", function()
      local c, s = helpers.tcp_pair()
      local order = {}
      hotline.spawn(function()
        order[#order + 1] = "reader waits"
        local line = s:read("l")
        order[#order + 1] = "read " .. line
      end)
      hotline.spawn(function()
        order[#order + 1] = "writer runs"
        hotline.sleep(0.01)
        c:write("hello\n")
      end)
      assert(hotline.run())
      assert.same({ "reader waits", "writer runs", "read hello" }, order)
      c:close()
      s:close()
    end)

    it("a timeout inside a task is the socket's timeout, and loses nothing", function()
      local c, s = helpers.tcp_pair()
      s:settimeout(0.05)
      local results = {}
      hotline.spawn(function()
        c:write("par")
        results[1] = { s:read("l") }
        c:write("tial\n")
        results[2] = { s:read("l") }
      end)
      local t0 = hotline.now()
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, results[1])
      assert.same({ "partial" }, results[2])
      assert.is_true(hotline.now() - t0 >= 0.05)
      c:close()
      s:close()
    end)

    it("a task waiting on a socket wakes with 'closed' when another closes it", function()
      local c, s = helpers.tcp_pair()
      local got
      hotline.spawn(function() got = { s:read("l") } end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        s:close()
      end)
      assert(hotline.run())
      assert.same({ nil, "closed" }, got)
      c:close()
    end)

    it("two tasks may not wait to read the same socket", function()
      local c, s = helpers.tcp_pair()
      local reports = {}
      loop.set_error_handler(function(message) reports[#reports + 1] = message end)
      hotline.spawn(function() s:read("l") end)
      hotline.spawn(function() s:read("l") end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        c:write("x\n")
      end)
      assert(hotline.run())
      assert.equal(1, #reports)
      assert.matches("another task already waits to read", reports[1])
      c:close()
      s:close()
    end)

    it("timer runs its function later, unless cancelled first", function()
      local fired = {}
      local t1 = hotline.timer(0.01, function() fired[#fired + 1] = "t1" end)
      local t2 = hotline.timer(30, function() fired[#fired + 1] = "t2" end)
      hotline.spawn(function()
        hotline.sleep(0.02)
        assert.is_true(t2:cancel())      -- without this run() would take 30 s
        assert.is_false(t1:cancel())     -- already fired
      end)
      local t0 = hotline.now()
      assert(hotline.run())
      assert.same({ "t1" }, fired)
      assert.is_true(hotline.now() - t0 < 5)
      assert.has_error(function() hotline.timer("soon", print) end)
    end)

    it("run says so when tasks are left that nothing can wake", function()
      hotline.spawn(function() loop.suspend() end)
      local ok, err = hotline.run()
      assert.is_nil(ok)
      assert.matches("1 task%(s%) left waiting", err)
    end)

    it("accept and connect wait in tasks too", function()
      local l = assert(hotline.listen("127.0.0.1", 0))
      local _, port = l:getsockname()
      local answer
      hotline.spawn(function()
        local client = assert(l:accept())
        client:write("welcome\n")
        client:close()
      end)
      hotline.spawn(function()
        local c = assert(hotline.connect("127.0.0.1", port))
        answer = c:read("l")
        c:close()
      end)
      assert(hotline.run())
      assert.equal("welcome", answer)
      l:close()
    end)

    it("UDP recvfrom and sendto wait in tasks", function()
      local a = assert(hotline.socket("inet", "dgram"))
      assert(a:bind("127.0.0.1", 0))
      local _, port = a:getsockname()
      local b = assert(hotline.socket("inet", "dgram"))
      local got
      hotline.spawn(function() got = { a:recvfrom() } end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        b:sendto("datagram", "127.0.0.1", port)
      end)
      assert(hotline.run())
      assert.equal("datagram", got[1])
      a:close()
      b:close()
    end)
  end)
end

describe("outside any task", function()
  it("the same calls block the process, within their timeout", function()
    local c, s = helpers.tcp_pair()
    s:settimeout(0.05)
    local t0 = hotline.now()
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:read("l") })
    assert.is_true(hotline.now() - t0 >= 0.05)
    c:write("now\n")
    assert.equal("now", s:read("l"))
    c:close()
    s:close()
  end)

  it("sleep blocks for the time given", function()
    local t0 = hotline.now()
    hotline.sleep(0.02)
    assert.is_true(hotline.now() - t0 >= 0.02)
  end)

  it("run raises when called from inside a task", function()
    loop.reset()
    local err
    hotline.spawn(function() err = select(2, pcall(hotline.run)) end)
    assert(hotline.run())
    assert.matches("inside a task", err)
  end)

  it("spawn and sleep check their arguments", function()
    assert.has_error(function() hotline.spawn("not a function") end,
      "bad argument #1 to 'spawn' (function expected, got string)")
    assert.has_error(function() hotline.sleep("long") end)
  end)
end)
