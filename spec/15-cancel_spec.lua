-- task:cancel(): the wait a task is in ends at once, whatever it waits
-- for, and unwinds the task like an error that pcall sees but that is not
-- reported; the task leaves no waiter, poller registration or timer
-- behind, and its sockets stay open. On both poller backends.
local hotline = require "hotline"
local core = require "hotline.core"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

-- Runs body(...) in a task, cancels it once it waits, and checks what
-- every cancel must leave: the task cancelled and nothing of it left in
-- the loop. -> the task
local function cancel_while_waiting(body, ...)
  local reached = false
  local t = hotline.spawn(function(...)
    reached = true
    body(...)
    error("the wait returned instead of raising")
  end, ...)
  hotline.spawn(function()
    while t:status() ~= "waiting" do hotline.sleep(0) end
    assert.is_true(t:cancel())
    assert.equal("running", t:status())   -- off its wait, about to raise
  end)
  assert.is_true(hotline.run())     -- returns: nothing of t keeps it going
  assert.is_true(reached)
  assert.equal("cancelled", t:status())
  assert.same({ nil, "cancelled" }, { t:join() })
  assert.same({ 0, 0, 0 }, { loop.stats() })
  return t
end

for _, backend in ipairs(helpers.backends()) do
  describe("cancel (" .. backend .. ")", function()
    local failures
    before_each(function()
      loop.reset(backend)
      failures = {}
      loop.set_error_handler(function(m) failures[#failures + 1] = m end)
    end)
    after_each(function()
      loop.set_error_handler(nil)
      assert.same({}, failures)     -- a cancel is never reported as a failure
    end)

    it("ends a read; the socket stays open and another task can read it", function()
      local a, b = hotline.socketpair()
      cancel_while_waiting(function() a:read(1) end)
      assert.equal("socket", hotline.type(a))
      local got
      hotline.spawn(function() got = a:read(1) end)
      assert(b:write("z"))
      assert(hotline.run())
      assert.equal("z", got)
      a:close(); b:close()
    end)

    it("ends an accept, a write and a connect", function()
      local l = assert(hotline.listen("127.0.0.1", 0))
      cancel_while_waiting(function() l:accept() end)
      local a, b = hotline.socketpair()
      local big = string.rep("x", helpers.size(4 * 1024 * 1024, 64 * 1024))
      cancel_while_waiting(function() a:write(big) end)
      a:close(); b:close()
      -- a listener with a full backlog leaves a connect waiting
      local full = assert(hotline.listen("127.0.0.1", 0, { backlog = 0 }))
      local _, port = full:getsockname()
      local held = {}
      for _ = 1, 16 do
        local c = hotline.connect("127.0.0.1", port, { timeout = 0.2 })
        if not c then break end
        held[#held + 1] = c
      end
      local s = assert(core.socket("inet", "stream"))
      cancel_while_waiting(function() s:connect("127.0.0.1", port) end)
      s:close()
      for _, c in ipairs(held) do c:close() end
      full:close(); l:close()
    end)

    it("ends a sleep, a join, and a wait on several sockets", function()
      cancel_while_waiting(function() hotline.sleep(60) end)
      local other = hotline.spawn(function() hotline.sleep(0.05) end)
      cancel_while_waiting(function() other:join() end)
      assert.equal("done", other:status())
      local a, b = hotline.socketpair()
      cancel_while_waiting(function() loop.await_any({ a, "wantread", b, "wantread" }) end)
      a:close(); b:close()
    end)

    it("ends ch:recv, ch:send, c:wait and s:acquire, which forget the task", function()
      local ch = hotline.channel()
      cancel_while_waiting(function() ch:recv() end)
      cancel_while_waiting(function() ch:send("never taken") end)
      local c = hotline.condition()
      cancel_while_waiting(function() c:wait() end)
      assert.is_false(c:signal())       -- the cancelled waiter is not there
      local s = hotline.semaphore(0)
      cancel_while_waiting(function() s:acquire(30) end)
      s:release()
      assert.is_true(s:acquire(0))      -- the permit was not handed to it
      -- and the channel is as before: a send still waits for a receiver
      local got
      hotline.spawn(function() got = ch:recv() end)
      hotline.spawn(function() ch:send("fresh") end)
      assert(hotline.run())
      assert.equal("fresh", got)
    end)

    it("pcall sees the cancel; the next wait raises it again", function()
      if _VERSION == "Lua 5.1" and not jit then
        return pending("Lua 5.1: a task cannot wait inside pcall")
      end
      local a, b = hotline.socketpair()
      local caught, again
      local t = hotline.spawn(function()
        local ok, err = pcall(a.read, a, 1)
        caught = { ok, tostring(err) }
        again = { pcall(hotline.sleep, 1) }
        hotline.sleep(1)
      end)
      hotline.spawn(function() t:cancel() end)
      assert(hotline.run())
      assert.same({ false, "cancelled" }, caught)
      assert.is_false(again[1])
      assert.equal("cancelled", t:status())
      a:close(); b:close()
    end)

    it("runs a <close> variable's close (Lua 5.4)", function()
      if _VERSION < "Lua 5.4" or jit then return pending("Lua 5.4 only") end
      local a, b = hotline.socketpair()
      local closed = {}
      local body = assert(load([[
        local a, closed = ...
        local guard <close> = setmetatable({}, { __close = function(_, err)
          closed[#closed + 1] = tostring(err)
        end })
        a:read(1)
      ]]))
      cancel_while_waiting(body, a, closed)
      assert.same({ "cancelled" }, closed)
      a:close(); b:close()
    end)

    it("a task woken with a value, cancelled before it runs, keeps the value", function()
      local ch, full, s = hotline.channel(), hotline.channel(1), hotline.semaphore(0)
      local got = {}
      local receiver = hotline.spawn(function()
        got.recv = ch:recv()
        hotline.sleep(60)              -- its next wait raises
      end)
      local sender = hotline.spawn(function()
        got.sent = full:send("second")  -- waits: "first" fills the buffer
        hotline.sleep(60)
      end)
      local acquirer = hotline.spawn(function()
        got.permit = s:acquire()
        s:release()                     -- before the next wait: the permit comes back
        hotline.sleep(60)
      end)
      assert(full:send("first"))
      hotline.spawn(function()
        while acquirer:status() ~= "waiting" do hotline.sleep(0) end
        ch:send("item")                 -- the receiver is queued with it
        receiver:cancel()
        got.first = full:recv()         -- the sender's value moves into the buffer
        sender:cancel()
        s:release()                     -- handed to the acquirer
        acquirer:cancel()
      end)
      assert(hotline.run())
      assert.same({ recv = "item", sent = true, permit = true, first = "first" }, got)
      for _, t in ipairs({ receiver, sender, acquirer }) do
        assert.equal("cancelled", t:status())
      end
      assert.equal("second", full:recv(0))
      assert.is_true(s:acquire(0))
      assert.same({ 0, 0, 0 }, { loop.stats() })
    end)

    it("a running task is cancelled at its next wait", function()
      local steps = {}
      local t
      t = hotline.spawn(function()
        steps[#steps + 1] = t:cancel() and "asked"
        steps[#steps + 1] = "still running"
        hotline.sleep(0)
        steps[#steps + 1] = "never"
      end)
      assert(hotline.run())
      assert.same({ "asked", "still running" }, steps)
      assert.equal("cancelled", t:status())
      assert.is_false(t:cancel())        -- over: nothing to cancel
      -- one cancelled before it ever ran
      local early = hotline.spawn(function() hotline.sleep(60) end)
      early:cancel()
      local t0 = hotline.now()
      assert(hotline.run())
      assert.is_true(hotline.now() - t0 < 5)
      assert.equal("cancelled", early:status())
    end)

    it("a serve handler: the caller is hung up on, the server goes on", function()
      local handlers = {}
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0,
        handler = function(client)
          handlers[#handlers + 1] = hotline.current()
          client:read("l")
          client:write("not cancelled\n")
        end })
      local _, port = server:address()
      local outcome
      hotline.spawn(function()
        local c1 = assert(hotline.connect("127.0.0.1", port))
        local c2 = assert(hotline.connect("127.0.0.1", port))
        c1:settimeout(helpers.TIMEOUT); c2:settimeout(helpers.TIMEOUT)
        while #handlers < 2 or handlers[1]:status() ~= "waiting" do hotline.sleep(0.001) end
        handlers[1]:cancel()
        outcome = { c1:read("l") }          -- closed by the server
        outcome[3] = server:connections()
        assert(c2:write("hi\n"))
        outcome[4] = c2:read("l")
        c1:close(); c2:close()
        server:close()
      end)
      assert(hotline.run())
      assert.same({ nil, "closed", 1, "not cancelled" }, outcome)
    end)
  end)
end
