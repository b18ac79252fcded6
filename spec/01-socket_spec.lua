-- The socket object: creation, names, options, closing, errors, misuse.
local hotline = require "hotline"
local helpers = require "spec.helpers"

describe("hotline.socket", function()
  it("creates inet and unix sockets of both types", function()
    for _, family in ipairs({ "inet", "unix" }) do
      for _, socktype in ipairs({ "stream", "dgram" }) do
        local s = assert(hotline.socket(family, socktype))
        assert.equal("socket", hotline.type(s))
        assert.matches(family .. " " .. socktype, tostring(s))
        assert.is_true(s:close())
      end
    end
  end)

  it("defaults to an inet stream socket", function()
    local s = assert(hotline.socket())
    assert.matches("^hotline.socket %(inet stream, fd %d+, 0.0.0.0:0%)$", tostring(s))
    s:close()
  end)

  it("creates inet6 sockets where the machine has IPv6", function()
    if not helpers.has_ipv6() then return pending("no IPv6 here") end
    local s = assert(hotline.socket("inet6", "dgram"))
    assert.matches("inet6 dgram", tostring(s))
    s:close()
  end)

  it("raises on an unknown family or type, naming the argument", function()
    assert.has_error(function() hotline.socket("ipx") end,
      "bad argument #1 to 'socket' (invalid option 'ipx')")
    assert.has_error(function() hotline.socket("inet", "raw") end,
      "bad argument #2 to 'socket' (invalid option 'raw')")
    assert.has_error(function() hotline.socket({}) end)
  end)
end)

describe("closing", function()
  it("is idempotent and makes the socket unusable", function()
    local s = assert(hotline.socket())
    assert.is_true(s:close())
    assert.is_true(s:close())
    assert.equal("closed socket", hotline.type(s))
    assert.equal("hotline.socket (closed)", tostring(s))
    for _, call in ipairs({
      function() s:bind("127.0.0.1", 0) end,
      function() s:listen() end,
      function() s:read() end,
      function() s:write("x") end,
      function() s:recv() end,
      function() s:send("x") end,
      function() s:fileno() end,
      function() s:setoption("nodelay", true) end,
      function() s:settimeout(1) end,
    }) do
      assert.has_error(call)
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.matches("attempt to use a closed socket", err)
    end
  end)

  it("happens when the garbage collector takes the socket", function()
    helpers.collect()
    local before = helpers.count_fds()
    do
      for _ = 1, 50 do assert(hotline.socket()) end
      helpers.tcp_pair()                  -- two more, dropped at once
    end
    assert.equal(before + 52, helpers.count_fds())
    helpers.collect()
    assert.equal(before, helpers.count_fds())
  end)

  it("happens when a <close> variable goes out of scope (Lua 5.4)", function()
    if _VERSION < "Lua 5.4" or jit then return pending("Lua 5.4 only") end
    local chunk = assert(load([[
      local hotline = ...
      local s <close> = assert(hotline.socket())
      return s
    ]]))
    local s = chunk(hotline)
    assert.equal("closed socket", hotline.type(s))
  end)
end)

-- O_NONBLOCK and O_CLOEXEC as /proc shows them, in octal
local function fd_flags(s)
  local f = assert(io.open("/proc/self/fdinfo/" .. s:fileno()))
  local flags = f:read("*a"):match("flags:%s*(%d+)")
  f:close()
  local n = tonumber(flags, 8)
  return math.floor(n / 2048) % 2 == 1, math.floor(n / 524288) % 2 == 1
end

describe("new descriptors", function()
  it("are non-blocking and close-on-exec, accepted ones too", function()
    local c, s = helpers.tcp_pair()
    local a, b = assert(hotline.socketpair())
    for _, sock in ipairs({ c, s, a, b, assert(hotline.socket("unix", "dgram")) }) do
      local nonblocking, cloexec = fd_flags(sock)
      assert.is_true(nonblocking, tostring(sock))
      assert.is_true(cloexec, tostring(sock))
      sock:close()
    end
  end)
end)

describe("hotline.type", function()
  it("tells sockets from other values", function()
    assert.is_nil(hotline.type(nil))
    assert.is_nil(hotline.type({}))
    assert.is_nil(hotline.type(io.stdout))
    assert.is_nil(hotline.type(hotline.poller()))
  end)
end)

describe("bind and listen", function()
  it("bind to port 0 picks a free port, getsockname tells it", function()
    local s = assert(hotline.socket())
    assert.is_true(s:bind("127.0.0.1", 0))
    local host, port = s:getsockname()
    assert.equal("127.0.0.1", host)
    assert.is_true(port > 0)
    assert.is_true(s:listen())
    assert.matches("127.0.0.1:" .. port, tostring(s))
    s:close()
  end)

  it("'*' binds every interface", function()
    local s = assert(hotline.socket())
    assert(s:bind("*", 0))
    assert.equal("0.0.0.0", (s:getsockname()))
    s:close()
  end)

  it("reports an address in use as nil, message, EADDRINUSE", function()
    local a = assert(hotline.listen("127.0.0.1", 0))
    local _, port = a:getsockname()
    local b = assert(hotline.socket())
    local ok, err, code = b:bind("127.0.0.1", port)
    assert.is_nil(ok)
    assert.equal("address already in use", err)
    assert.equal("EADDRINUSE", code)
    a:close()
    b:close()
  end)

  it("raises on a bad port or a missing host", function()
    local s = assert(hotline.socket())
    assert.has_error(function() s:bind("127.0.0.1", 65536) end,
      "bad argument #2 to 'bind' (port must be a whole number from 0 to 65535)")
    assert.has_error(function() s:bind("127.0.0.1", -1) end)
    assert.has_error(function() s:bind("127.0.0.1", 1.5) end)
    assert.has_error(function() s:bind("127.0.0.1", 0 / 0) end)
    assert.has_error(function() s:bind(nil, 80) end)
    assert.has_error(function() s:bind("127.0.0.1\0evil", 0) end)
    s:close()
  end)

  it("reports an unknown host as nil, message, EAI_ code", function()
    local s = assert(hotline.socket())
    local ok, err, code = s:bind("no-such-host.invalid", 0)
    assert.is_nil(ok)
    assert.equal("string", type(err))
    assert.matches("^EAI_", code)
    s:close()
  end)
end)

describe("connect", function()
  it("to a closed port fails with ECONNREFUSED", function()
    local probe = assert(hotline.listen("127.0.0.1", 0))
    local _, port = probe:getsockname()
    probe:close()                  -- nobody listens there now
    local s = assert(hotline.socket())
    s:settimeout(helpers.TIMEOUT)
    local ok, err, code = s:connect("127.0.0.1", port)
    assert.is_nil(ok)
    assert.equal("connection refused", err)
    assert.equal("ECONNREFUSED", code)
    s:close()
  end)

  it("gives getpeername and a tostring with both ends", function()
    local c, s = helpers.tcp_pair()
    local host, port = c:getpeername()
    assert.equal("127.0.0.1", host)
    assert.equal(select(2, s:getsockname()), port)
    assert.matches("127.0.0.1:%d+ %-> 127.0.0.1:" .. port, tostring(c))
    c:close()
    s:close()
  end)

  it("getpeername on an unconnected socket fails with ENOTCONN", function()
    local s = assert(hotline.socket())
    local ok, _, code = s:getpeername()
    assert.is_nil(ok)
    assert.equal("ENOTCONN", code)
    s:close()
  end)
end)

describe("options", function()
  it("sets and reads back every option", function()
    local s = assert(hotline.socket())
    for _, name in ipairs({ "reuseaddr", "reuseport", "nodelay", "keepalive" }) do
      assert.is_true(s:setoption(name, true))
      assert.is_true(s:getoption(name))
      assert.is_true(s:setoption(name, false))
      assert.is_false(s:getoption(name))
    end
    assert.is_true(s:setoption("linger", 3))
    assert.equal(3, s:getoption("linger"))
    assert.is_true(s:setoption("linger", false))
    assert.is_false(s:getoption("linger"))
    assert.is_true(s:setoption("sndbuf", 65536))
    assert.is_true(s:getoption("sndbuf") >= 65536)
    assert.is_true(s:setoption("rcvbuf", 65536))
    assert.is_true(s:getoption("rcvbuf") >= 65536)
    assert.equal(65536, s:getoption("maxline"))
    assert.is_true(s:setoption("maxline", 100))
    assert.equal(100, s:getoption("maxline"))
    s:close()
    local u = assert(hotline.socket("inet", "dgram"))
    assert.is_true(u:setoption("broadcast", true))
    assert.is_true(u:getoption("broadcast"))
    u:close()
    if helpers.has_ipv6() then
      local s6 = assert(hotline.socket("inet6"))
      assert.is_true(s6:setoption("ipv6only", true))
      assert.is_true(s6:getoption("ipv6only"))
      s6:close()
    end
  end)

  it("raises on an unknown option or a value of the wrong type", function()
    local s = assert(hotline.socket())
    assert.has_error(function() s:setoption("speed", true) end,
      "bad argument #1 to 'setoption' (invalid option 'speed')")
    assert.has_error(function() s:getoption("speed") end)
    assert.has_error(function() s:setoption("nodelay", 1) end)
    assert.has_error(function() s:setoption("sndbuf", "big") end)
    assert.has_error(function() s:setoption("maxline", 0) end)
    s:close()
  end)

  it("returns a failure for an option the socket type refuses", function()
    local u = assert(hotline.socket("unix"))
    local ok, err, code = u:setoption("nodelay", true)
    assert.is_nil(ok)
    assert.equal("string", type(err))
    assert.equal("string", type(code))
    u:close()
  end)
end)

describe("timeouts", function()
  it("settimeout and gettimeout agree; nil waits forever", function()
    local s = assert(hotline.socket())
    assert.is_nil(s:gettimeout())
    assert.is_true(s:settimeout(1.5))
    assert.equal(1.5, s:gettimeout())
    s:settimeout(0)
    assert.equal(0, s:gettimeout())
    s:settimeout(nil)
    assert.is_nil(s:gettimeout())
    s:settimeout(-1)
    assert.is_nil(s:gettimeout())
    assert.has_error(function() s:settimeout("soon") end)
    assert.has_error(function() s:settimeout(0 / 0) end)
    s:close()
  end)
end)

describe("errors", function()
  it("hotline.errno maps names to numbers and back", function()
    local n = hotline.errno.ECONNREFUSED
    assert.equal("number", type(n))
    assert.equal("ECONNREFUSED", hotline.errno[n])
    assert.equal("EAGAIN", hotline.errno[hotline.errno.EAGAIN])
  end)

  it("hotline.strerror gives the system's message in lower case", function()
    assert.equal("connection refused", hotline.strerror(hotline.errno.ECONNREFUSED))
  end)

  it("words a peer's reset, hang-up and refusal as the system does", function()
    -- (error tuples take these three from a table of their own: they come
    -- on every reset connection, and strerror is slow)
    assert.equal("connection reset by peer", hotline.strerror(hotline.errno.ECONNRESET))
    assert.equal("broken pipe", hotline.strerror(hotline.errno.EPIPE))
    assert.equal("connection refused", hotline.strerror(hotline.errno.ECONNREFUSED))
    -- and the tuples of real failures say what strerror says
    local listener = assert(hotline.listen("127.0.0.1", 0))
    local _, port = listener:getsockname()
    listener:close()
    local _, refused, code = hotline.connect("127.0.0.1", port)
    assert.equal("ECONNREFUSED", code)
    assert.equal(hotline.strerror(hotline.errno[code]), refused)
    local c, peer = helpers.tcp_pair()
    assert(peer:setoption("linger", 0))
    peer:close()                                   -- a reset
    local written, gone
    for _ = 1, 10 do                               -- the reset may take a write to be seen
      written, gone, code = c:send("x")
      if not written then break end
    end
    assert.is_true(code == "ECONNRESET" or code == "EPIPE", tostring(code))
    assert.equal(hotline.strerror(hotline.errno[code]), gone)
    c:close()
  end)

  it("takes no other userdata for a socket, even one given its metatable", function()
    local s = assert(hotline.socket())
    local f = assert(io.tmpfile())
    local file_mt = getmetatable(f)
    debug.setmetatable(f, getmetatable(s))
    local ok, err = pcall(getmetatable(s).__index.fileno, f)
    debug.setmetatable(f, file_mt)
    f:close()
    s:close()
    assert.is_false(ok)
    assert.matches("bad argument #1 .*%(hotline.socket expected", err)
  end)

  it("fileno gives the descriptor", function()
    local s = assert(hotline.socket())
    assert.matches("fd " .. s:fileno(), tostring(s))
    s:close()
  end)
end)
