-- hotline.luasocket select on the caller's copied watch set (watch.lua):
-- sets that change between calls (objects coming, going, moving, repeated,
-- closed, their descriptor numbers taken by new sockets) answer what a
-- look at each object answers; unchanged sets cost one epoll_wait and no
-- epoll_ctl; outside tasks the wait itself is that epoll_wait, because a
-- poller waited on by core.waitfd hands its look to the next wait(0).
local hotline = require "hotline"
local core = require "hotline.core"
local helpers = require "spec.helpers"
local ls = require "spec.tools.luasocket_helpers"

local socket = ls.socket
ls.it = it

-- What select should answer for set: its objects that look ready for
-- want, once each, in the set's order, as LuaSocket lists them.
local function expected(set, want)
  local list = {}
  for _, obj in ipairs(set) do
    local sock = obj.sock
    if sock and not list[obj] then
      local ready = core.waitfd(sock, want, 0) or (want == "wantread" and obj:dirty())
      if ready then
        list[#list + 1] = obj
        list[obj] = #list
      end
    end
  end
  return list
end

describe("hotline.luasocket select on a copied watch set", function()
  ls.both("answers as a look at each object does while the sets change", function()
    math.randomseed(67)
    local random = math.random
    local pool, closed = {}, {}
    local function new_pair()
      local c, s = ls.pair(socket)
      c:settimeout(0)
      s:settimeout(0)
      pool[#pool + 1], pool[#pool + 2] = c, s
    end
    for _ = 1, 8 do new_pair() end
    local recvt, sendt = {}, {}
    local function some_set() return random(2) == 1 and recvt or sendt end
    for round = 1, 400 do
      local op = random(9)
      local set = some_set()
      if op <= 3 then                           -- one more (maybe again)
        set[#set + 1] = pool[random(#pool)]
      elseif op == 4 and #set > 0 then          -- one out, the last moved in
        local i = random(#set)
        set[i] = set[#set]
        set[#set] = nil
      elseif op == 5 and #set > 1 then          -- two swapped
        local i, j = random(#set), random(#set)
        set[i], set[j] = set[j], set[i]
      elseif op == 6 then                       -- a pair closed, a new one
        local i = 2 * random(#pool / 2) - 1     -- (its descriptors reused)
        local c, s = table.remove(pool, i), table.remove(pool, i)
        c:close()
        s:close()
        closed[#closed + 1], closed[#closed + 2] = c, s
        new_pair()
      elseif op == 7 and #closed > 0 then       -- a closed object
        set[#set + 1] = closed[random(#closed)]
      elseif op == 8 then                       -- bytes for someone to read
        local obj = pool[random(#pool)]
        obj:settimeout(helpers.TIMEOUT)         -- (the EAGAIN mock refuses some)
        assert(obj:send("ab\n"))
        obj:settimeout(0)
      elseif op == 9 then                       -- someone reads some
        local obj = pool[random(#pool)]
        obj:receive(random(2))
      end
      if round % 50 == 0 then                  -- a set emptied
        for i = #set, 1, -1 do set[i] = nil end
      end
      local timeout = round % 7 == 0 and 0.001 or 0
      local r, w, err = socket.select(recvt, sendt, timeout)
      local want_r, want_w = expected(recvt, "wantread"), expected(sendt, "wantwrite")
      assert.same(want_r, r, "round " .. round)
      assert.same(want_w, w, "round " .. round)
      assert.equal(#r + #w == 0 and "timeout" or nil, err)
    end
    for _, obj in ipairs(pool) do obj:close() end
  end)

  it("a socket closed while in a set leaves it; one on its number joins", function()
    local c, s = ls.pair(socket)
    local c2, s2 = ls.pair(socket)
    assert(c:send("x"))
    local set = { s, s2 }
    assert.same({ s, [s] = 1 }, (socket.select(set, nil, 1)))
    s:close()
    c:close()
    local c3, s3 = ls.pair(socket)            -- likely on the numbers just freed
    set[3] = s3
    assert(c3:send("y"))
    assert.same({ s3, [s3] = 1 }, (socket.select(set, nil, 1)))
    assert.equal("y", s3:receive(1))
    local r, w, err = socket.select(set, nil, 0)
    assert.same({ {}, {}, "timeout" }, { r, w, err })
    for _, obj in ipairs({ c2, s2, c3, s3 }) do obj:close() end
  end)

  ls.both("reports ready objects even when the timeout ends before any wait", function()
    local c, s = ls.pair(socket)
    local c2, s2 = ls.pair(socket)
    assert(c:send("x"))
    -- a timeout so short that the deadline has passed by the time select
    -- could wait: LuaSocket's select still looks, once
    for _, set in ipairs({ { s, s2 }, { s } }) do
      for _ = 1, 3 do
        local r, w, err = socket.select(set, nil, 1e-9)
        assert.same({ { s, [s] = 1 }, {} }, { r, w })
        assert.is_nil(err)
      end
    end
    for _, obj in ipairs({ c, s, c2, s2 }) do obj:close() end
  end)

  -- (the EAGAIN mock receives 1 byte at a time: nothing is ever left over)
  local dirty_both = helpers.MOCKED and function(name) pending(name) end or ls.both
  dirty_both("leaves out an object let go of by setfd(-1), bytes buffered or not", function()
    local c, s = ls.pair(socket)
    local c2, s2 = ls.pair(socket)
    assert(c:send("xy"))
    assert.equal("x", s:receive(1))
    assert.is_true(s:dirty())
    local set = { s, s2 }
    assert.same({ s, [s] = 1 }, (socket.select(set, nil, 0)))
    local sock = s.sock
    s:setfd(-1)                   -- LuaSocket's select skips a descriptor of -1
    local r, w, err = socket.select(set, nil, 0)
    assert.same({ {}, {}, "timeout" }, { r, w, err })
    sock:close()
    for _, obj in ipairs({ c, c2, s2 }) do obj:close() end
  end)

  local no_epoll = os.getenv("HOTLINE_POLLER") == "poll" or not pcall(hotline.poller, "epoll")
  local two_it, one_it = it, pending
  if no_epoll then two_it, one_it = pending, it end
  one_it("on the poll() backend, a second task selecting on one object raises", function()
    local c, s = ls.pair(socket)
    local got = {}
    for i = 1, 2 do
      hotline.spawn(function()
        local ok, r = pcall(socket.select, { s }, nil, 1)
        got[i] = ok and r[1] or r
      end)
    end
    hotline.spawn(function() assert(c:send("x")) end)
    assert(hotline.run())
    assert.equal(s, got[1])
    assert.matches("another task already waits", got[2])
    c:close()
    s:close()
  end)
  two_it("lets two tasks select on the same lone object at once", function()
    local c, s = ls.pair(socket)
    for _, timeout in ipairs({ 1, false }) do
      local got = {}
      for i = 1, 2 do
        hotline.spawn(function()
          local r, _, err = socket.select({ s }, nil, timeout or nil)
          got[i] = err or r[1]
        end)
      end
      hotline.spawn(function()                -- once both wait (tasks start in turn)
        assert(c:send("x"))
      end)
      assert(hotline.run())
      assert.same({ s, s }, got)
      assert.equal("x", s:receive(1))
    end
    c:close()
    s:close()
  end)

  local script = [[
    local hotline = require "hotline"
    local socket = require "hotline.luasocket"
    local server = assert(socket.bind("127.0.0.1", 0))
    local port = select(2, server:getsockname())
    local clients, set = {}, {}
    for i = 1, 20 do
      clients[i] = assert(socket.connect("127.0.0.1", port))
      set[i] = assert(server:accept())
    end
    assert(clients[3]:send("x"))
    socket.select(set, nil, 1)                -- the first call fills the set
    hotline.trace(true)
    io.stderr:write("SAME\n")
    assert(#socket.select(set, nil, 1) == 1)
    io.stderr:write("ONE MORE\n")
    set[21] = server
    assert(#socket.select(set, nil, 1) == 1)
    io.stderr:write("ONE LESS\n")
    set[21] = nil
    assert(#socket.select(set, nil, 1) == 1)
    io.stderr:write("IDLE\n")
    assert(set[3]:receive(1) == "x")
    local _, _, err = socket.select(set, nil, 0.01)
    assert(err == "timeout")
    hotline.trace(false)
  ]]

  -- counts of the traced system calls in each part of the script's stderr
  local function calls(text, from, to)
    local part = text:match(from .. "\n(.-)" .. (to and "\n" .. to or "$"))
    local count = {}
    for name in part:gmatch("%f[%w_]([%w_]+)%(") do count[name] = (count[name] or 0) + 1 end
    return count
  end

  local epoll_it = helpers.MOCKED and pending or it
  if not pcall(hotline.poller, "epoll") or os.getenv("HOTLINE_POLLER") == "poll" then
    epoll_it = pending
  end
  epoll_it("asks the kernel one epoll_wait for unchanged sets, outside tasks too", function()
    local ok, code, out, err = helpers.run_source(script)
    assert.is_true(ok, "exit " .. tostring(code) .. ": " .. out .. err)
    local same = calls(err, "SAME", "ONE MORE")
    assert.same({ epoll_wait = 1 }, same)
    local more = calls(err, "ONE MORE", "ONE LESS")
    assert.same({ epoll_ctl = 1, epoll_wait = 1 }, more)
    local less = calls(err, "ONE LESS", "IDLE")
    assert.same({ epoll_ctl = 1, epoll_wait = 1 }, less)
    -- an idle set: one look that finds nothing, one wait that times out
    local idle = calls(err, "IDLE")
    assert.is_nil(idle.epoll_ctl)
    assert.is_nil(idle.poll)
    assert.is_true((idle.epoll_wait or 0) <= 2)
  end)

  for _, backend in ipairs(helpers.backends()) do
    it("core.waitfd waits on a poller, its look left to wait(0) (" .. backend .. ")", function()
      local p = assert(hotline.poller(backend))
      local c, s = helpers.tcp_pair()
      assert(p:add(s, "r"))
      assert.same({ nil, "timeout", "ETIMEDOUT" }, { core.waitfd(p, "wantread", 0.01) })
      assert(c:send("x"))
      assert.is_true(core.waitfd(p, "wantread", 1))
      local got = {}
      for sock, events in p:wait(0) do got[#got + 1] = { sock, events } end
      assert.same({ { s, "r" } }, got)
      assert.has_error(function() core.waitfd(p, "wantwrite", 0) end)
      p:close()
      assert.error_matches(function() core.waitfd(p, "wantread", 0) end, "closed poller")
      c:close()
      s:close()
    end)
  end
end)
