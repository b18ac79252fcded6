-- hotline.luasocket TCP objects, from LuaSocket's reference manual
-- (tcp.html): classes, receive patterns and prefixes across chunk
-- boundaries, partial results, send ranges, closed-state answers, stats,
-- options, errors; each compared with the real LuaSocket where it is
-- installed, and run both outside tasks and inside one.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local ls = require "spec.tools.luasocket_helpers"

local socket = ls.socket
ls.it = it
local real = ls.real()

-- The libraries to run a scenario on: ours, and LuaSocket if present.
local function libs()
  local list = { socket }
  if real then list[2] = real end
  return list
end

-- One string for any results, numbers as integers where they are;
-- trailing nils left out (LuaSocket pads its results with them).
local function show(...)
  local out, n = {}, select("#", ...)
  while n > 1 and select(n, ...) == nil do n = n - 1 end
  for i = 1, n do
    local v = select(i, ...)
    if type(v) == "number" and v == math.floor(v) then v = string.format("%d", v) end
    out[i] = tostring(v)
  end
  return table.concat(out, "|")
end

describe("hotline.luasocket module", function()
  it("has every name of LuaSocket 3.1's socket table", function()
    for _, name in ipairs({ "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "bind", "connect",
        "connect4", "connect6", "select", "sleep", "gettime", "try", "newtry", "protect",
        "skip", "sink", "sinkt", "source", "sourcet", "choose", "install" }) do
      assert.is_not_nil(socket[name], name)
    end
    for _, name in ipairs({ "toip", "tohostname", "gethostname", "getaddrinfo", "getnameinfo" }) do
      assert.is_function(socket.dns[name], name)
    end
    assert.matches("^LuaSocket 3", socket._VERSION)
    assert.equal(hotline.fdlimit(), socket._SETSIZE)
    assert.is_true(socket._SETSIZE > 1024)
    assert.equal(8192, socket._DATAGRAMSIZE)
    assert.equal(require "hotline.luasocket.unix", socket.unix)
  end)

  it("does not install itself as socket unless asked", function()
    assert.is_not.equal(socket, package.loaded.socket)
  end)
end)

describe("hotline.luasocket TCP objects", function()
  it("have LuaSocket's classes, tostring and getfd in each state", function()
    for _, lib in ipairs(libs()) do
      local master = lib.tcp()
      assert.equal("tcp{master}", master.class)
      assert.matches("^tcp{master}: 0x%x+$", tostring(master))
      assert.equal(-1, master:getfd())           -- no descriptor before bind/connect
      assert.equal("inet4", master:getfamily())
      local server, port = ls.listen(lib)
      assert.equal("tcp{server}", server.class)
      local client = assert(lib.connect("127.0.0.1", port))
      assert.equal("tcp{client}", client.class)
      assert.matches("^tcp{client}: 0x%x+$", tostring(client))
      assert.is_true(client:getfd() >= 0)
      local accepted = assert(server:accept())
      assert.equal("tcp{client}", accepted.class)
      local ip, p, family = client:getpeername()
      assert.equal("127.0.0.1|" .. port .. "|inet", show(ip, p, family))
      assert.equal("127.0.0.1", (accepted:getsockname()))
      assert.is_false(client:dirty())
      -- a method of another state raises
      assert.is_false(pcall(client.accept, client))
      assert.is_false(pcall(server.receive, server))
      assert.is_false(pcall(master.listen, client))
      for _, s in ipairs({ master, server, client, accepted }) do s:close() end
    end
  end)

  it("tcp4 and tcp6 make their descriptor at once", function()
    local t4 = socket.tcp4()
    assert.is_true(t4:getfd() >= 0)
    assert.equal("inet4", t4:getfamily())
    t4:close()
    if helpers.has_ipv6() then
      local t6 = socket.tcp6()
      assert.equal("inet6", t6:getfamily())
      assert.is_true(t6:getoption("ipv6-v6only"))
      t6:close()
    end
  end)

  it("an IPv6 socket made by bind or connect is IPv6-only, as LuaSocket's", function()
    if not helpers.has_ipv6() then
      pending("no ::1 here")
      return
    end
    local server = assert(socket.bind("::1", 0))
    local port = select(2, server:getsockname())
    local t = socket.tcp()
    assert.equal(1, t:connect("::1", port))
    assert.is_true(t:getoption("ipv6-v6only"))
    t:close()
    local u = socket.udp()
    assert.equal(1, u:setpeername("::1", port))
    assert.is_true(u:getoption("ipv6-v6only"))
    u:close()
    server:close()
  end)

  -- The peer sends its pieces 20 ms apart, so that lines and counts are
  -- cut across the chunks the reader receives.
  local pieces = { "sfir", "z0.02", "sst\\r", "z0.02", "s\\nsecond\\n", "z0.02", "sthi",
                   "z0.02", "srd\\n12", "z0.02", "s34567", "z0.02", "s89tail" }
  local function patterns(lib)
    local server, port = ls.listen(lib)
    local pid = ls.peer(port, (table.unpack or unpack)(pieces)) -- luacheck: compat
    local c = assert(server:accept())
    c:settimeout(helpers.TIMEOUT)
    local got = {
      show(c:receive()), show(c:receive("*l", "pre:")), show(c:receive("*l")),
      show(c:receive(5, "ab")), show(c:receive(6)), show(c:receive("*a")),
      show(c:receive()), show(c:receive(3)), show(c:receive("*a")),
    }
    c:close()
    server:close()
    helpers.stop(pid)
    return got
  end
  local expected = { "first", "pre:second", "third", "ab123", "456789", "tail",
                     "nil|closed|", "nil|closed|", "nil|closed|" }

  ls.both("receive patterns across chunk boundaries with prefixes", function()
    assert.same(expected, patterns(socket))
  end)

  if real then
    it("receive patterns give what LuaSocket gives", function()
      assert.same(patterns(real), patterns(socket))
    end)
  end

  local function partials(lib)
    local server, port = ls.listen(lib)
    local pid = ls.peer(port, "sabc", "z0.4", "sdef\\nghij", "z0.4", "sklm", "h", "z5")
    local c = assert(server:accept())
    c:settimeout(0.2)
    local got = {}
    local line, err, partial = c:receive()
    got[1] = show(line, err, partial)
    c:settimeout(helpers.TIMEOUT)
    got[2] = show(c:receive("*l", partial))        -- LuaSocket's resume idiom
    c:settimeout(0.2)
    got[3] = show(c:receive(10))                    -- "ghij" so far
    c:settimeout(helpers.TIMEOUT)
    got[4] = show(c:receive("*a", "<"))
    c:close()
    server:close()
    helpers.stop(pid)
    return got
  end

  ls.both("a timed-out receive answers nil, 'timeout', partial; the prefix resumes it",
    function()
      assert.same({ "nil|timeout|abc", "abcdef", "nil|timeout|ghij", "<klm" }, partials(socket))
    end)

  if real then
    it("partial results are LuaSocket's", function()
      assert.same(partials(real), partials(socket))
    end)
  end

  local function sends(lib)
    local c, s = ls.pair(lib)
    local got = { show(c:send("abc", 2)), show(c:send("abcdef", 2, 4)), show(c:send("abc", 5)),
                  show(c:send("")), show(c:send("xyz", -2)), show(c:send(42)) }
    got[#got + 1] = show(s:receive(9))
    c:close()
    got[#got + 1] = show(c:send("x"))
    got[#got + 1] = show(c:receive())
    got[#got + 1] = show(c:getfd())
    got[#got + 1] = show(c:close())
    got[#got + 1] = show(tostring(c):match("^tcp{client}") ~= nil)
    got[#got + 1] = show(s:receive())
    s:close()
    return got
  end

  -- Fractional indices are cut toward zero (LuaSocket casts them to long).
  local function fractions(lib)
    local c, s = ls.pair(lib)
    local got = { show(c:send("abcdef", 2.5)), show(c:send("abcdef", 1, 3.7)),
                  show(c:send("abcdef", -2.5)), show(c:send("abcdef", "2", -1.5)) }
    got[#got + 1] = show(s:receive(15))
    c:close()
    s:close()
    return got
  end

  ls.both("send cuts fractional indices toward zero", function()
    assert.same({ "6", "3", "6", "6", "bcdefabcefbcdef" }, fractions(socket))
  end)

  if real then
    it("send with fractional indices does what LuaSocket does", function()
      assert.same(fractions(real), fractions(socket))
    end)
  end

  ls.both("send ranges, and the answers of a closed object", function()
    assert.same({ "3", "4", "4", "0", "3", "2", "bcbcdyz42", "nil|closed|0", "nil|closed|",
                  "-1", "1", "true", "nil|closed|" }, sends(socket))
  end)

  if real then
    it("send ranges and closed answers are LuaSocket's", function()
      assert.same(sends(real), sends(socket))
    end)
  end

  ls.both("a count takes what it needs of a chunk and keeps the rest", function()
    local c, s = ls.pair(socket)
    assert(c:send("abcdef"))
    assert.equal("ab", s:receive(2))
    assert.equal(not helpers.MOCKED, s:dirty())     -- "cdef" came in the same chunk
    assert.equal("cdef", s:receive(4))
    assert.is_false(s:dirty())
    c:close()
    s:close()
  end)

  -- receive(0) waits for bytes (keeping them) or the close, as LuaSocket;
  -- shutdown answers 1 even once closed.
  local function zeros(lib)
    local c, s = ls.pair(lib)
    s:settimeout(0.05)
    local got = { show(s:receive(0)) }
    s:settimeout(helpers.TIMEOUT)
    assert(c:send("z"))
    got[#got + 1] = show(s:receive(0))
    got[#got + 1] = show(s:dirty() or helpers.MOCKED)
    got[#got + 1] = show(s:receive(1))
    c:close()
    got[#got + 1] = show(s:receive(0))
    got[#got + 1] = show(s:receive(0, "p"))
    got[#got + 1] = show(s:shutdown())
    s:close()
    got[#got + 1] = show(s:shutdown())
    return got
  end

  ls.both("receive(0) waits for bytes or the close; shutdown answers 1", function()
    assert.same({ "nil|timeout|", "", "true", "z", "nil|closed|", "p", "1", "1" },
      zeros(socket))
  end)

  if real then
    it("receive(0) and shutdown answer what LuaSocket answers", function()
      assert.same(zeros(real), zeros(socket))
    end)
  end

  -- A connect that times out (timeout 0) leaves a client, as in LuaSocket:
  -- select waits for it to be writable, then send works or connect says so.
  local function nonblocking_connect(lib)
    local server, port = ls.listen(lib)
    local c = lib.tcp()
    c:settimeout(0)
    local ok, err = c:connect("127.0.0.1", port)
    local got = { show(ok or err == "timeout"), tostring(c):match("^[^:]*") }
    local _, w = lib.select(nil, { c }, helpers.TIMEOUT)
    got[#got + 1] = show(w[1] == c)
    got[#got + 1] = show(c:connect("127.0.0.1", port))
    c:settimeout(helpers.TIMEOUT)
    got[#got + 1] = show(c:send("hi"))
    local s = assert(server:accept())
    got[#got + 1] = show(s:receive(2))
    s:close()
    c:close()
    server:close()
    return got
  end

  ls.both("a connect that timed out leaves a client that select and send can use", function()
    assert.same({ "true", "tcp{client}", "true", "1", "2", "hi" }, nonblocking_connect(socket))
  end)

  if real then
    it("a connect that timed out gives what LuaSocket gives", function()
      assert.same(nonblocking_connect(real), nonblocking_connect(socket))
    end)
  end

  it("setfd lets go of the descriptor with -1 and adopts no other", function()
    local c, s = ls.pair(socket)
    local fd = s:getfd()
    assert.has_no.errors(function() s:setfd(fd) end)
    assert.has_error(function() s:setfd(fd + 100) end)
    s:setfd(-1)
    assert.equal(-1, s:getfd())
    assert.same({ nil, "closed", "" }, { s:receive() })
    c:close()
    helpers.collect()                            -- the descriptor goes with its socket
  end)

  ls.both("receive misuse raises", function()
    local c, s = ls.pair(socket)
    assert.has_error(function() c:receive("*x") end)
    assert.has_error(function() c:receive(-1) end)
    assert.has_error(function() c:receive("*l", {}) end)
    assert.has_error(function() c:send() end)
    assert.has_error(function() c:shutdown("sideways") end)
    assert.has_error(function() c:setoption("no-such-option", true) end)
    assert.has_error(function() c:settimeout(1, "x") end)
    c:close()
    s:close()
  end)

  ls.both("counts bytes in getstats, and setstats sets them", function()
    local c, s = ls.pair(socket)
    assert(c:send("hello\n"))
    assert.equal("hello", s:receive())
    local rx, tx, age = c:getstats()
    assert.equal(0, rx)
    assert.equal(6, tx)
    assert.is_true(age >= 0)
    rx, tx = s:getstats()
    assert.equal(6, rx)
    assert.equal(0, tx)
    assert.equal(1, s:setstats(100, 200, 10))
    rx, tx, age = s:getstats()
    assert.equal(100, rx)
    assert.equal(200, tx)
    assert.is_true(age >= 10)
    c:close()
    s:close()
  end)

  ls.both("sets and reads options by LuaSocket's names", function()
    local c, s = ls.pair(socket)
    assert.equal(1, c:setoption("tcp-nodelay", true))
    assert.is_true(c:getoption("tcp-nodelay"))
    assert.equal(1, c:setoption("keepalive", true))
    assert.is_true(c:getoption("keepalive"))
    assert.equal(1, c:setoption("linger", { on = true, timeout = 3 }))
    assert.same({ on = true, timeout = 3 }, c:getoption("linger"))
    assert.equal(1, c:setoption("linger", { on = false }))
    assert.is_false(c:getoption("linger").on)
    assert.equal(1, c:setoption("recv-buffer-size", 65536))
    assert.is_true(c:getoption("recv-buffer-size") >= 65536)
    assert.equal(1, c:setoption("send-buffer-size", 65536))
    assert.is_true(c:getoption("send-buffer-size") >= 65536)
    -- a master keeps options until it has a descriptor
    local m = socket.tcp()
    assert.equal(1, m:setoption("reuseaddr", true))
    assert.equal(1, m:setoption("reuseport", true))
    assert.equal(1, m:bind("127.0.0.1", 0))
    assert.is_true(m:getoption("reuseaddr"))
    assert.is_true(m:getoption("reuseport"))
    m:close()
    c:close()
    assert.same({ nil, "closed" }, { c:getoption("keepalive") })
    s:close()
  end)

  ls.both("shutdown('send') ends the peer's stream; dirty sees buffered bytes", function()
    local c, s = ls.pair(socket)
    assert(c:send("one\ntwo\nthree\n"))
    assert.equal(1, c:shutdown("send"))
    assert.equal("one", s:receive())
    -- "two\n" came with "one\n" (not under the EAGAIN mock: 1 byte a recv)
    assert.equal(not helpers.MOCKED, s:dirty())
    assert.equal("two", s:receive("l"))            -- LuaSocket 3.1 spells it so too
    assert.equal("three", s:receive("*l"))
    assert.is_false(s:dirty())
    assert.same({ nil, "closed", "" }, { s:receive() })
    c:close()
    s:close()
  end)

  ls.both("errors carry LuaSocket's words", function()
    local probe = assert(socket.bind("127.0.0.1", 0))
    local _, port = probe:getsockname()
    probe:close()
    assert.same({ nil, "connection refused" }, { socket.connect("127.0.0.1", port) })
    local s, err = socket.bind("127.0.0.1", 0)
    local _, taken = s:getsockname()
    local m = socket.tcp()
    assert.equal(1, m:bind("127.0.0.1", 0))
    assert.is_nil(socket.bind("127.0.0.1", taken))
    s:close()
    m:close()
    assert.is_nil(err)
  end)

  it("resolves names through hotline.getaddrinfo, answering 'host not found'", function()
    local saved = hotline.getaddrinfo
    local asked
    hotline.getaddrinfo = function(host)
      asked = host
      return nil, "name or service not known", "EAI_NONAME"
    end
    local ok, a, b = pcall(socket.connect, "no.such.name", 80)
    local t, c, d = pcall(socket.dns.toip, "no.such.name")
    hotline.getaddrinfo = saved
    assert.is_true(ok and t)
    assert.equal("no.such.name", asked)
    assert.same({ nil, "host not found" }, { a, b })
    assert.same({ nil, "host not found" }, { c, d })
  end)

  it("connect4 and connect6 keep to their family", function()
    local server, port = ls.listen(socket)
    local c = assert(socket.connect4("127.0.0.1", port))
    assert.equal("inet4", c:getfamily())
    c:close()
    assert.is_nil(socket.connect6("127.0.0.1", port))   -- no IPv6 address there
    server:close()
    if helpers.has_ipv6() then
      local s6 = assert(socket.bind("::1", 0))
      local _, port6 = s6:getsockname()
      local c6 = assert(socket.connect6("::1", port6))
      assert.equal("inet6", c6:getfamily())
      assert.equal("::1", (c6:getpeername()))
      c6:close()
      s6:close()
    end
  end)

  it("settimeout/gettimeout keep both modes", function()
    local m = socket.tcp()
    assert.same({ -1, -1 }, { m:gettimeout() })
    assert.equal(1, m:settimeout(2))
    assert.equal(1, m:settimeout(5, "t"))
    assert.same({ 2, 5 }, { m:gettimeout() })
    m:settimeout(nil)
    m:settimeout(-1, "t")
    assert.same({ -1, -1 }, { m:gettimeout() })
    m:close()
  end)

  it("in tasks, a waiting receive suspends only its task", function()
    local c, s = ls.pair(socket)
    local ticks, line = 0, nil
    hotline.spawn(function() line = s:receive() end)
    hotline.spawn(function()
      for _ = 1, 5 do
        ticks = ticks + 1
        socket.sleep(0.01)
      end
      assert(c:send("late\n"))
    end)
    assert(hotline.run())
    assert.equal(5, ticks)
    assert.equal("late", line)
    c:close()
    s:close()
  end)

  it("accept and connect wait in tasks too", function()
    local server, port = ls.listen(socket)
    local got
    hotline.spawn(function()
      local c = assert(server:accept())
      got = c:receive()
      c:close()
    end)
    hotline.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      assert(c:send("hi\n"))
      c:close()
    end)
    assert(hotline.run())
    assert.equal("hi", got)
    server:close()
  end)
end)
