-- hotline.luasocket's Lua-level functions (socket.html, dns.html):
-- try/newtry/protect (protect lets its function wait in a task on every
-- Lua, 5.1 included), skip, sink/source/choose, dns, sleep, gettime and
-- install().
local hotline = require "hotline"
local ls = require "spec.tools.luasocket_helpers"

local socket = ls.socket
local real = ls.real()
ls.it = it

describe("hotline.luasocket try/newtry/protect", function()
  it("try passes results through and raises the error of a failure", function()
    assert.same({ 1, 2, 3 }, { socket.try(1, 2, 3) })
    local ok, err = pcall(socket.try, nil, "boom")
    assert.is_false(ok)
    assert.equal("table", type(err))
    assert.equal("boom", err[1])
  end)

  it("protect returns nil, message for try errors and lets others through", function()
    local f = socket.protect(function(a, b)
      if a == "fail" then socket.try(nil, "bad " .. b) end
      return a, b
    end)
    assert.same({ "x", "y" }, { f("x", "y") })
    assert.same({ nil, "bad y" }, { f("fail", "y") })
    local g = socket.protect(function() error("plain error") end)
    local ok, err = pcall(g)
    assert.is_false(ok)
    assert.matches("plain error", err)
    assert.has_error(function() socket.protect(42) end)
  end)

  it("newtry calls its finalizer before raising", function()
    local finalized = 0
    local try = socket.newtry(function() finalized = finalized + 1 end)
    assert.equal(5, try(5))
    assert.equal(0, finalized)
    local f = socket.protect(function() try(false, "oops") end)
    assert.same({ nil, "oops" }, { f() })
    assert.equal(1, finalized)
  end)

  if real then
    it("behaves as LuaSocket's on the same calls", function()
      for _, lib in ipairs({ socket, real }) do
        local f = lib.protect(function(x) return lib.try(x, "no " .. tostring(x)) end)
        assert.same({ 7, "no 7" }, { f(7) })
        assert.same({ nil, "no false" }, { f(false) })
        assert.same({ "b", "c" }, { lib.skip(1, "a", "b", "c") })
      end
    end)
  end

  it("in a task, a protected function's socket calls wait without blocking others", function()
    local c, s = ls.pair(socket)
    s:settimeout(1)
    local got, ticks = nil, 0
    local fetch = socket.protect(function()
      local try = socket.newtry(function() s:close() end)
      local line = try(s:receive())
      local inner = socket.protect(function()       -- nested, waiting too
        socket.sleep(0.01)
        coroutine.yield()                           -- a plain yield: gives a turn
        return socket.try(s:receive(3))
      end)
      return line, inner()
    end)
    hotline.spawn(function() got = { fetch() } end)
    hotline.spawn(function()
      for _ = 1, 3 do
        ticks = ticks + 1
        socket.sleep(0.02)
      end
      assert(c:send("hello\n"))
      socket.sleep(0.02)
      assert(c:send("abc"))
    end)
    assert(hotline.run())
    assert.same({ "hello", "abc" }, got)
    assert.equal(3, ticks)
    c:close()
    s:close()
  end)

  it("in a task, a try error inside protect still answers nil, message", function()
    local c, s = ls.pair(socket)
    local got
    hotline.spawn(function()
      got = { socket.protect(function()
        socket.try(s:receive())            -- the peer closes: "closed"
      end)() }
    end)
    hotline.spawn(function()
      socket.sleep(0.01)
      c:close()
    end)
    assert(hotline.run())
    assert.same({ nil, "closed" }, got)
    s:close()
  end)

  it("skip drops the first d arguments", function()
    assert.same({ "c" }, { socket.skip(2, "a", "b", "c") })
    assert.same({}, { socket.skip(3, "a", "b", "c") })
  end)
end)

describe("hotline.luasocket sinks and sources", function()
  ls.both("sink and source move data through a socket", function()
    local c, s = ls.pair(socket)
    local keep = socket.sink("keep-open", c)
    assert.is_truthy(keep("abc"))
    assert.is_truthy(keep(nil))
    assert.is_true(keep:getfd() >= 0)
    local close = socket.sink("close-when-done", c)
    assert.is_truthy(close("defgh"))
    assert.equal(1, close(nil))
    assert.equal(-1, c:getfd())
    local src = socket.source("by-length", s, 5)
    assert.equal("abcde", src())
    assert.is_nil(src())
    local rest = socket.source(s)                    -- default: until closed
    assert.equal("fgh", rest())
    assert.is_nil(rest())
  end)

  it("choose picks by name, 'default' for a non-string, and raises on unknown", function()
    local f = socket.choose({
      a = function(x) return "a" .. x end,
      default = function(x) return "d" .. tostring(x) end,
    })
    assert.equal("a1", f("a", 1))
    assert.equal("d2", f(2))
    assert.has_error(function() f("zzz") end)
    assert.is_function(socket.sinkt.default)
    assert.is_function(socket.sourcet["until-closed"])
  end)
end)

describe("hotline.luasocket dns, sleep, gettime", function()
  it("toip and getaddrinfo answer numeric hosts and localhost", function()
    local ip, resolved = socket.dns.toip("127.0.0.1")
    assert.equal("127.0.0.1", ip)
    assert.same({ "127.0.0.1" }, resolved.ip)
    assert.equal("table", type(resolved.alias))
    ip = socket.dns.toip("localhost")
    assert.equal("127.0.0.1", ip)
    local list = socket.dns.getaddrinfo("127.0.0.1")
    assert.same({ { family = "inet", addr = "127.0.0.1" } }, list)
  end)

  it("tohostname and getnameinfo name loopback addresses", function()
    local name = socket.dns.tohostname("127.0.0.1")
    assert.is_string(name)
    if real then assert.equal(real.dns.tohostname("127.0.0.1"), name) end
    local names, services = socket.dns.getnameinfo("127.0.0.1", 80)
    assert.equal(name, names[1])
    assert.equal("http", services[1])
    assert.is_string(socket.dns.gethostname())
    if real then assert.equal(real.dns.gethostname(), socket.dns.gethostname()) end
  end)

  ls.both("sleep waits, gettime is wall-clock seconds", function()
    local t0 = socket.gettime()
    assert.is_true(math.abs(t0 - os.time()) < 2)
    socket.sleep(0.05)
    assert.is_true(socket.gettime() - t0 >= 0.045)
    socket.sleep(-1)                                 -- no wait, no error
    assert.has_error(function() socket.sleep("soon") end)
  end)
end)

describe("hotline.luasocket.install", function()
  it("makes require 'socket' (and socket.unix) answer hotline's", function()
    local saved = {}
    for _, name in ipairs({ "socket", "socket.core", "socket.unix", "socket.url" }) do
      saved[name] = package.loaded[name]
    end
    assert.equal(socket, socket.install())
    assert.equal(socket, require "socket")
    assert.equal(socket.unix, require "socket.unix")
    for name, value in pairs(saved) do package.loaded[name] = value end
    assert.is_not.equal(socket, package.loaded.socket)
  end)
end)
