-- hotline.luasocket select (socket.html): LuaSocket's results, dirty
-- objects, foreign objects through getfd/dirty, closed objects, 2,000
-- sockets (past FD_SETSIZE), outside tasks and in one, on both pollers.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local ls = require "spec.tools.luasocket_helpers"

local socket = ls.socket
local real = ls.real()
ls.it = it

describe("hotline.luasocket select", function()
  ls.both("answers the ready objects as a list and as keys, or 'timeout'", function()
    local c, s = ls.pair(socket)
    local r, w, err = socket.select({ s }, nil, 0.05)
    assert.same({}, r)
    assert.same({}, w)
    assert.equal("timeout", err)
    assert(c:send("x\n"))
    r, w, err = socket.select({ c, s }, { c }, 1)
    assert.is_nil(err)
    assert.equal(1, #r)
    assert.equal(s, r[1])
    assert.equal(1, r[s])
    assert.equal(c, w[1])
    assert.equal(1, w[c])
    c:close()
    s:close()
  end)

  if real then
    it("gives the same shape of results as LuaSocket", function()
      for _, lib in ipairs({ socket, real }) do
        local c, s = ls.pair(lib)
        assert(c:send("x\n"))
        local r, w, err = lib.select({ s, c }, { c }, 1)
        assert.is_nil(err)
        assert.same({ [1] = s, [s] = 1 }, r)
        assert.same({ [1] = c, [c] = 1 }, w)
        r, w, err = lib.select({}, {}, 0)
        assert.same({ {}, {}, "timeout" }, { r, w, err })
        c:close()
        s:close()
      end
    end)
  end

  -- (the EAGAIN mock receives 1 byte at a time: nothing is ever left over)
  local dirty_it = helpers.MOCKED and function(name) pending(name) end or ls.both
  dirty_it("an object with bytes received but not handed out is ready", function()
    local c, s = ls.pair(socket)
    assert(c:send("one\ntwo\n"))
    assert.equal("one", s:receive())
    assert.is_true(s:dirty())
    local r = socket.select({ s }, nil, 0)
    assert.equal(s, r[1])
    assert.equal("two", s:receive())
    local _, _, err = socket.select({ s }, nil, 0)
    assert.equal("timeout", err)
    c:close()
    s:close()
  end)

  ls.both("takes foreign objects through getfd and dirty; skips closed ones", function()
    local a, b = hotline.socketpair()
    local dirty = false
    local foreign = {
      getfd = function() return a:fileno() end,
      dirty = function() return dirty end,
    }
    local closed = socket.tcp()
    closed:close()
    local _, _, err = socket.select({ foreign, closed }, nil, 0)
    assert.equal("timeout", err)
    dirty = true
    assert.equal(foreign, socket.select({ foreign }, nil, 0)[1])
    dirty = false
    assert(b:write("x"))
    assert.equal(foreign, socket.select({ foreign, closed }, nil, 1)[1])
    a:close()
    b:close()
  end)

  ls.both("keeps up with sets that change between calls, and reused descriptors", function()
    local c1, s1 = ls.pair(socket)
    local c2, s2 = ls.pair(socket)
    assert(c1:send("a"))
    assert.equal(s1, socket.select({ s1, s2 }, nil, 1)[1])
    assert.equal(s1, socket.select({ s1, s2 }, nil, 1)[1])   -- the same set again
    assert.equal("a", s1:receive(1))
    local _, _, err = socket.select({ s1, s2 }, nil, 0)
    assert.equal("timeout", err)
    assert(c1:send("b"))
    _, _, err = socket.select({ s2, c2 }, nil, 0)               -- s1 left the set
    assert.equal("timeout", err)
    -- sockets closed while in a watch set; a new one gets a descriptor
    -- number the set knew: it must still be watched
    local freed = { [s2:getfd()] = true, [c2:getfd()] = true }
    s2:close()
    c2:close()
    local u, others = nil, {}
    for _ = 1, 8 do                    -- the lowest free numbers come first
      local x = socket.udp()
      assert.equal(1, x:setsockname("127.0.0.1", 0))
      if freed[x:getfd()] then
        u = x
        break
      end
      others[#others + 1] = x
    end
    assert.is_not_nil(u)
    for _, x in ipairs(others) do x:close() end
    assert(u:sendto("x", u:getsockname()))
    local r = socket.select({ s1, u }, nil, 1)
    assert.equal(2, #r)
    assert.equal(u, r[2])
    u:close()
    for _, s in ipairs({ c1, s1 }) do s:close() end
  end)

  -- select's watch sets hold sockets between calls: an object dropped
  -- without close must still let go of its socket when collected, and a
  -- socket given its number later must be watched.
  local function select_and_drop(keep)
    local c, s = ls.pair(socket)
    assert(c:send("a"))
    assert.equal(s, socket.select({ keep, s, c }, { c }, helpers.TIMEOUT)[1])
  end

  ls.both("an object dropped after select is closed when collected", function()
    local keep_c, keep_s = ls.pair(socket)
    socket.select({ keep_s, keep_c }, nil, 0)       -- this caller's watch set exists
    helpers.collect()
    local before = helpers.count_fds()
    select_and_drop(keep_s)
    helpers.collect()
    assert.equal(before, helpers.count_fds())
    local u = socket.udp()
    assert.equal(1, u:setsockname("127.0.0.1", 0))
    assert(u:sendto("x", u:getsockname()))
    local r = socket.select({ keep_s, u }, nil, helpers.TIMEOUT)
    assert.equal(u, r[1])
    u:close()
    keep_c:close()
    keep_s:close()
  end)

  it("takes a timeout written as a string, as LuaSocket does", function()
    local u = socket.udp()
    assert.equal(1, u:setsockname("127.0.0.1", 0))
    local r, w, err = socket.select({ u }, nil, "0")
    assert.same({ {}, {}, "timeout" }, { r, w, err })
    assert.has_error(function() socket.select({ u }, nil, "soon") end)
    u:close()
  end)

  it("the watch set of a finished task goes, though its sockets live on", function()
    local c, s = ls.pair(socket)
    local function tasks(n)
      for _ = 1, n do
        hotline.spawn(function()
          socket.select({ s, c }, { c }, 0.01)
          socket.select({ s, c }, nil, 0.01)
        end)
      end
      assert(hotline.run())
      helpers.collect()
    end
    tasks(1)                                  -- the loop's own poller exists now
    local before = helpers.count_fds()
    tasks(20)
    -- at most as many: a set the first round left to the collector may
    -- only go now (LuaJIT), but none of the twenty rounds may stay
    assert.is_true(helpers.count_fds() <= before)
    c:close()
    s:close()
  end)

  if real then
    it("watches real LuaSocket objects too", function()
      local c, s = ls.pair(real)
      assert(c:send("x"))
      local r = socket.select({ s }, nil, helpers.TIMEOUT)
      assert.equal(s, r[1])
      c:close()
      s:close()
    end)
  end

  ls.both("waits for the timeout, or for ever with none", function()
    local c, s = ls.pair(socket)
    local t0 = socket.gettime()
    local _, _, err = socket.select({ s }, nil, 0.1)
    assert.equal("timeout", err)
    assert.is_true(socket.gettime() - t0 >= 0.09)
    t0 = socket.gettime()
    assert.same({ {}, {}, "timeout" }, { socket.select(nil, nil, 0.05) })
    assert.is_true(socket.gettime() - t0 >= 0.04)
    c:close()
    s:close()
  end)

  it("in a task, waits while others run", function()
    local c, s = ls.pair(socket)
    local ticks, ready = 0, nil
    hotline.spawn(function() ready = socket.select({ s }) end)
    hotline.spawn(function()
      for _ = 1, 3 do
        ticks = ticks + 1
        socket.sleep(0.01)
      end
      assert(c:send("x"))
    end)
    assert(hotline.run())
    assert.equal(3, ticks)
    assert.equal(s, ready[1])
    c:close()
    s:close()
  end)

  -- 2,000 sockets: past select()'s FD_SETSIZE of 1,024.
  local N = 2000
  local function many()
    local soft = hotline.fdlimit()
    if soft < N + 200 then soft = hotline.fdlimit(N + 200) end
    if soft < N + 200 then return nil end
    local list = {}
    for i = 1, N do
      local u = socket.udp()
      assert.equal(1, u:setsockname("127.0.0.1", 0))
      list[i] = u
    end
    return list
  end

  for _, backend in ipairs(helpers.backends()) do
    it("selects among 2,000 sockets (" .. backend .. ")", function()
      loop.reset(backend)
      -- with poll, select goes without its epoll watch sets too
      require("hotline.luasocket.select").watch_sets = backend ~= "poll"
      local list = many()
      if not list then
        pending("the descriptor limit cannot be raised to " .. N + 200)
        return
      end
      assert.is_true(list[N]:getfd() >= 1024)
      local sender = socket.udp()
      for _, i in ipairs({ 7, 1500, N }) do
        assert(sender:sendto("x", list[i]:getsockname()))
      end
      local function check(r)
        assert.equal(3, #r)
        assert.equal(list[7], r[1])
        assert.equal(list[1500], r[2])
        assert.equal(list[N], r[3])
      end
      check(socket.select(list, nil, helpers.TIMEOUT))
      ls.in_task(function() check(socket.select(list, nil, helpers.TIMEOUT)) end)
      for _, i in ipairs({ 7, 1500, N }) do assert.equal("x", list[i]:receive()) end
      -- and waiting: the datagram comes while the select waits
      local woken
      hotline.spawn(function() woken = socket.select(list, nil, helpers.TIMEOUT) end)
      hotline.spawn(function()
        socket.sleep(0.02)
        assert(sender:sendto("y", list[N - 1]:getsockname()))
      end)
      assert(hotline.run())
      assert.equal(list[N - 1], woken[1])
      for i = 1, N do list[i]:close() end
      sender:close()
      loop.reset()
      require("hotline.luasocket.select").watch_sets = true
    end)
  end
end)
