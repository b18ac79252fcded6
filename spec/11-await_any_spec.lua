-- loop.await_any: the one wait point for several sockets at once (what
-- select, Happy Eyeballs and waiting on a channel and a socket build on),
-- inside a task and outside, on both poller backends.
local hotline = require "hotline"
local loop = require "hotline.loop"
local core = require "hotline.core"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("loop.await_any (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("outside a task: answers the index of the socket that is ready", function()
      local a1, a2 = hotline.socketpair()
      local b1, b2 = hotline.socketpair()
      assert(b2:write("x"))
      assert.equal(3, loop.await_any({ a1, "wantread", b1, "wantread" }, hotline.now() + 5))
      assert.equal(1, loop.await_any({ a1, "wantwrite", b1, "wantread" }))
      for _, s in ipairs({ a1, a2, b1, b2 }) do s:close() end
    end)

    it("outside a task: times out, and takes descriptor numbers", function()
      local a1, a2 = hotline.socketpair()
      local t0 = hotline.now()
      local ok, err, code = loop.await_any({ a1:fileno(), "wantread" }, t0 + 0.05)
      assert.is_nil(ok)
      assert.equal("timeout", err)
      assert.equal("ETIMEDOUT", code)
      assert.is_true(hotline.now() - t0 >= 0.04)
      a1:close(); a2:close()
    end)

    it("in a task: yields, lets others run, and wakes on the first ready", function()
      local a1, a2 = hotline.socketpair()
      local b1, b2 = hotline.socketpair()
      local got, others = nil, 0
      hotline.spawn(function()
        got = loop.await_any({ a1, "wantread", b1, "wantread" }, hotline.now() + 5)
        assert.equal("y", b1:read(1))
      end)
      hotline.spawn(function()
        others = others + 1
        hotline.sleep(0.01)
        others = others + 1
        assert(b2:write("y"))
      end)
      assert(hotline.run())
      assert.equal(3, got)
      assert.equal(2, others)
      -- the task is no longer registered on a1: another task can read it
      hotline.spawn(function() assert.equal("z", a1:read(1)) end)
      assert(a2:write("z"))
      assert(hotline.run())
      for _, s in ipairs({ a1, a2, b1, b2 }) do s:close() end
    end)

    it("in a task: times out and leaves nothing behind", function()
      local a1, a2 = hotline.socketpair()
      local result
      hotline.spawn(function()
        result = { loop.await_any({ a1, "wantread", a2, "wantread" }, hotline.now() + 0.05) }
      end)
      assert(hotline.run())             -- returns: no timer, no waiter left
      assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
      a1:close(); a2:close()
    end)

    it("a socket closed by another task wakes the waiter with its index", function()
      local a1, a2 = hotline.socketpair()
      local b1, b2 = hotline.socketpair()
      local got, read_result
      hotline.spawn(function()
        got = loop.await_any({ a1, "wantread", b1, "wantread" })
        read_result = hotline.type(b1)
      end)
      hotline.spawn(function() b1:close() end)
      assert(hotline.run())
      assert.equal(3, got)
      assert.equal("closed socket", read_result)
      a1:close(); a2:close(); b2:close()
    end)

    it("a socket already closed is ready at once", function()
      local a1, a2 = hotline.socketpair()
      a2:close()
      assert.equal(1, loop.await_any({ a2, "wantread", a1, "wantread" }))
      a1:close()
    end)

    it("refuses a list that is not socket, want pairs", function()
      local a1, a2 = hotline.socketpair()
      assert.has_error(function() loop.await_any({}) end)
      assert.has_error(function() loop.await_any({ a1 }) end)
      assert.has_error(function() loop.await_any({ a1, "r" }) end)
      assert.has_error(function() loop.await_any("x") end)
      a1:close(); a2:close()
    end)

    it("does not leak a poller registration into the loop", function()
      local a1, a2 = hotline.socketpair()
      hotline.spawn(function()
        assert.equal(1, loop.await_any({ a1, "wantread" }))
      end)
      assert(a2:write("x"))
      assert(hotline.run())
      -- nothing waits on a1 now: data arriving must not spin the loop
      assert(a2:write("y"))
      local n = 0
      hotline.spawn(function() for _ = 1, 3 do n = n + 1; hotline.sleep(0.01) end end)
      assert(hotline.run())
      assert.equal(3, n)
      assert.equal(core.type(a1), "socket")
      a1:close(); a2:close()
    end)
  end)
end
