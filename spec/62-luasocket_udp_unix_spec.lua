-- hotline.luasocket UDP objects in both states (udp.html) and unix
-- domain sockets (socket.unix), outside tasks and in one.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local ls = require "spec.tools.luasocket_helpers"

local socket = ls.socket
local real = ls.real()
ls.it = it

local function bound(lib)
  local u = lib.udp()
  assert.equal(1, u:setsockname("127.0.0.1", 0))
  u:settimeout(helpers.TIMEOUT)
  return u, select(2, u:getsockname())
end

describe("hotline.luasocket UDP", function()
  it("has LuaSocket's classes in both states", function()
    local libs = { socket, real }
    for _, lib in ipairs(libs) do
      local u = lib.udp()
      assert.equal("udp{unconnected}", u.class)
      assert.matches("^udp{unconnected}: 0x%x+$", tostring(u))
      assert.equal(1, u:setpeername("127.0.0.1", 9))
      assert.equal("udp{connected}", u.class)
      assert.equal(1, u:setpeername("*"))
      assert.equal("udp{unconnected}", u.class)
      assert.is_false(u:dirty())
      assert.is_false(pcall(u.getpeername, u))   -- only a connected object has a peer
      u:close()
    end
  end)

  ls.both("unconnected: sendto and receivefrom", function()
    local a, aport = bound(socket)
    local b, bport = bound(socket)
    assert.equal(5, a:sendto("hello", "127.0.0.1", bport))
    assert.same({ "hello", "127.0.0.1", aport }, { b:receivefrom() })
    assert.equal(3, b:sendto("abc", "127.0.0.1", aport))
    assert.equal("abc", a:receive())
    assert.equal(6, a:sendto("abcdef", "127.0.0.1", bport))
    assert.equal("abc", b:receive(3))            -- a datagram cut to the size
    assert.has_error(function() a:send("x") end) -- send is for connected objects
    a:close()
    b:close()
  end)

  ls.both("connected: send and receive, getpeername; setpeername('*') undoes it", function()
    local a, aport = bound(socket)
    local b, bport = bound(socket)
    assert.equal(1, a:setpeername("127.0.0.1", bport))
    assert.same({ "127.0.0.1", bport, "inet" }, { a:getpeername() })
    assert.equal(4, a:send("ping"))
    assert.equal("ping", b:receive())
    assert.has_error(function() a:sendto("x", "127.0.0.1", bport) end)
    assert.equal(1, a:setpeername("*"))
    assert.equal(aport, select(2, a:getsockname()))   -- same local address after
    assert.equal(2, a:sendto("hi", "127.0.0.1", bport))
    assert.same({ "hi", "127.0.0.1", aport }, { b:receivefrom() })
    a:close()
    b:close()
  end)

  ls.both("a connected object moves to another peer with setpeername", function()
    local a = bound(socket)
    local b, bport = bound(socket)
    local c, cport = bound(socket)
    assert.equal(1, a:setpeername("127.0.0.1", bport))
    assert.equal(1, a:setpeername("127.0.0.1", cport))     -- as LuaSocket allows
    assert.equal(cport, select(2, a:getpeername()))
    assert.equal(2, a:send("hi"))
    assert.equal("hi", c:receive())
    a:close()
    b:close()
    c:close()
  end)

  ls.both("a receive times out; a closed object answers closed", function()
    local a = bound(socket)
    a:settimeout(0.05)
    local t0 = socket.gettime()
    assert.same({ nil, "timeout" }, { a:receive() })
    assert.is_true(socket.gettime() - t0 >= 0.04)
    assert.equal(1, a:close())
    assert.same({ nil, "closed" }, { a:receive() })
    assert.same({ nil, "closed" }, { a:receivefrom() })
    assert.same({ nil, "closed" }, { a:sendto("x", "127.0.0.1", 9) })
    assert.equal(-1, a:getfd())
  end)

  ls.both("options by LuaSocket's names", function()
    local u = socket.udp4()
    assert.equal("inet4", u:getfamily())
    assert.equal(1, u:setoption("broadcast", true))
    assert.is_true(u:getoption("broadcast"))
    assert.equal(1, u:setoption("reuseaddr", true))
    assert.is_true(u:getoption("reuseaddr"))
    assert.has_error(function() u:setoption("bogus", 1) end)
    u:close()
  end)

  if helpers.has_ipv6() then
    it("udp6 speaks ::1", function()
      local a, b = socket.udp6(), socket.udp6()
      assert.equal("inet6", a:getfamily())
      assert.equal(1, a:setsockname("::1", 0))
      assert.equal(1, b:setsockname("::1", 0))
      b:settimeout(helpers.TIMEOUT)
      local _, port = b:getsockname()
      assert.equal(3, a:sendto("six", "::1", port))
      assert.equal("six", b:receive())
      a:close()
      b:close()
    end)
  end

  it("in tasks, a waiting receivefrom suspends only its task", function()
    local a = bound(socket)
    local b, bport = bound(socket)
    local ticks, got = 0, nil
    hotline.spawn(function() got = b:receivefrom() end)
    hotline.spawn(function()
      ticks = ticks + 1
      socket.sleep(0.02)
      ticks = ticks + 1
      a:sendto("late", "127.0.0.1", bport)
    end)
    assert(hotline.run())
    assert.equal(2, ticks)
    assert.equal("late", got)
    a:close()
    b:close()
  end)
end)

describe("hotline.luasocket.unix", function()
  local path
  before_each(function()
    path = os.tmpname()
    os.remove(path)
  end)
  after_each(function() os.remove(path) end)

  it("has LuaSocket's shape: callable, stream and dgram", function()
    local unix = require "hotline.luasocket.unix"
    local m = unix()
    assert.equal("unixstream{master}", m.class)
    assert.matches("^unixstream{master}: 0x%x+$", tostring(m))
    m:close()
    local d = unix.dgram()
    assert.equal("unixdgram{unconnected}", d.class)
    d:close()
    assert.equal(unix.stream, unix.tcp)
    assert.equal(unix.dgram, unix.udp)
  end)

  ls.both("stream: bind, listen, accept, connect, receive patterns", function()
    local unix = socket.unix
    local server = unix.stream()
    assert.equal(1, server:bind(path))
    assert.equal(1, server:listen(8))
    assert.equal("unixstream{server}", server.class)
    assert.equal(path, server:getsockname())
    local client = unix.stream()
    client:settimeout(helpers.TIMEOUT)
    assert.equal(1, client:connect(path))
    assert.equal("unixstream{client}", client.class)
    server:settimeout(helpers.TIMEOUT)
    local peer = assert(server:accept())
    assert.equal("unixstream{client}", peer.class)
    peer:settimeout(helpers.TIMEOUT)
    assert.equal(9, client:send("one\ntwo\nx"))
    assert.equal("one", peer:receive())
    assert.equal("tw", peer:receive(2))
    client:close()
    assert.equal("o\nx", peer:receive("*a"))
    assert.same({ nil, "closed", "" }, { peer:receive() })
    peer:close()
    server:close()
  end)

  ls.both("dgram: sendto a path, receivefrom; connect", function()
    local unix = socket.unix
    local a = unix.dgram()
    assert.equal(1, a:bind(path))
    a:settimeout(helpers.TIMEOUT)
    local b = unix.dgram()
    assert.equal(5, b:sendto("hello", path))
    assert.equal("hello", (a:receivefrom()))
    assert.equal(1, b:connect(path))
    assert.equal("unixdgram{connected}", b.class)
    assert.equal(3, b:send("abc"))
    assert.equal("abc", a:receive())
    a:close()
    b:close()
  end)
end)
