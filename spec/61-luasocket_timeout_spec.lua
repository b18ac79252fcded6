-- hotline.luasocket timeouts (tcp.html, settimeout): the block timeout
-- limits each wait, the total timeout the whole call; measured against
-- a peer process that sleeps between its pieces, outside tasks and in one.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local ls = require "spec.tools.luasocket_helpers"

local socket = ls.socket
ls.it = it

-- A client of ours accepted from a peer that sends "a", "b", "c\n"
-- gap seconds apart.
local function trickle(gap)
  local server, port = ls.listen(socket)
  local pid = ls.peer(port, "sa", "z" .. gap, "sb", "z" .. gap, "sc\\n", "z5")
  local c = assert(server:accept())
  server:close()
  return c, pid
end

describe("hotline.luasocket timeouts", function()
  ls.both("block mode: a slow peer within the block timeout is waited for", function()
    local c, pid = trickle(0.15)
    c:settimeout(0.5)                         -- each wait is 0.15 s at most
    local t0 = socket.gettime()
    assert.equal("abc", c:receive())
    local took = socket.gettime() - t0
    assert.is_true(took >= 0.25, took)          -- waited for both gaps
    c:close()
    helpers.stop(pid)
  end)

  ls.both("total mode: the whole call ends at the total timeout, partial kept", function()
    local c, pid = trickle(0.15)
    c:settimeout(0.2, "t")                    -- less than the two gaps
    local t0 = socket.gettime()
    local line, err, partial = c:receive()
    local took = socket.gettime() - t0
    assert.is_nil(line)
    assert.equal("timeout", err)
    assert.equal("ab", partial)
    assert.is_true(took >= 0.18 and took < 1, took)
    c:settimeout(nil, "t")
    c:settimeout(helpers.TIMEOUT)
    assert.equal("abc", c:receive("*l", partial))
    c:close()
    helpers.stop(pid)
  end)

  ls.both("block mode: a gap longer than the block timeout ends the call", function()
    local c, pid = trickle(0.3)
    c:settimeout(0.1)
    local t0 = socket.gettime()
    local line, err, partial = c:receive()
    local took = socket.gettime() - t0
    assert.same({ nil, "timeout", "a" }, { line, err, partial })
    assert.is_true(took >= 0.09 and took < 1, took)
    c:close()
    helpers.stop(pid)
  end)

  ls.both("both modes at once: the earlier limit wins", function()
    local c, pid = trickle(0.1)
    c:settimeout(0.2)                          -- each wait would be fine...
    c:settimeout(0.15, "t")                    -- ...but the call is too long
    local t0 = socket.gettime()
    local _, err, partial = c:receive()
    local took = socket.gettime() - t0
    assert.equal("timeout", err)
    assert.equal("ab", partial)
    assert.is_true(took >= 0.13 and took < 1, took)
    c:close()
    helpers.stop(pid)
  end)

  ls.both("timeout 0 never waits; accept too", function()
    local server = ls.listen(socket)
    server:settimeout(0)
    local t0 = socket.gettime()
    assert.same({ nil, "timeout" }, { server:accept() })
    local c, s = ls.pair(socket)
    c:settimeout(0)
    assert.same({ nil, "timeout", "" }, { c:receive() })
    assert.same({ nil, "timeout", "" }, { c:receive(5) })
    assert.is_true(socket.gettime() - t0 < 0.1)
    server:close()
    c:close()
    s:close()
  end)

  it("a send that times out waits its block timeout once", function()
    if helpers.MOCKED then
      pending("the mock never fills the kernel's buffers")
      return
    end
    local c, s = ls.pair(socket)
    -- fixed buffers: the kernel does not grow them while the send waits
    assert.equal(1, c:setoption("send-buffer-size", 16384))
    assert.equal(1, s:setoption("recv-buffer-size", 16384))
    c:settimeout(0.2)
    assert.equal(1, c:send("x"))               -- armed: the next sends go the short way
    local big = string.rep("x", 1024 * 1024)
    local err
    for _ = 1, 64 do                           -- the kernel's buffers fill up
      local last
      last, err = c:send(big)
      if not last then break end
    end
    assert.equal("timeout", err)
    local t0 = socket.gettime()                -- full now: nothing goes at all
    local last, err2, sent = c:send(big)
    local took = socket.gettime() - t0
    assert.same({ nil, "timeout", 0 }, { last, err2, sent })
    assert.is_true(took >= 0.15 and took < 0.35, took)
    c:close()
    s:close()
  end)

  it("send with a total timeout answers timeout with the last byte sent", function()
    local c, s = ls.pair(socket)
    local big = string.rep("x", helpers.size(8 * 1024 * 1024, 4096))
    c:settimeout(0.2, "t")
    local last, err, sent = c:send(big)
    if helpers.MOCKED then
      assert.equal(#big, last)                  -- the mock never fills the kernel
    else
      assert.is_nil(last)
      assert.equal("timeout", err)
      assert.is_true(sent > 0 and sent < #big, sent)
    end
    c:close()
    s:close()
  end)

  it("in tasks, a timed-out receive lets the others run meanwhile", function()
    local c, s = ls.pair(socket)
    local ticks, result = 0, nil
    hotline.spawn(function()
      c:settimeout(0.1)
      result = { c:receive() }
    end)
    hotline.spawn(function()
      for _ = 1, 3 do
        ticks = ticks + 1
        socket.sleep(0.02)
      end
    end)
    assert(hotline.run())
    assert.equal(3, ticks)
    assert.same({ nil, "timeout", "" }, result)
    c:close()
    s:close()
  end)
end)
