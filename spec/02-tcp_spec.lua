-- TCP data transfer: read formats, recv/send, write, timeouts, half-close,
-- resets, and the listen/connect helpers. Blocking calls, no tasks.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local unpack = table.unpack or unpack -- luacheck: compat

local families = { "inet" }
if helpers.has_ipv6() then families[2] = "inet6" end

for _, family in ipairs(families) do
  describe("echo over TCP (" .. family .. ")", function()
    it("carries bytes both ways", function()
      local c, s = helpers.tcp_pair(family)
      assert.equal(c, c:write("ping\n"))
      assert.equal("ping", s:read("l"))
      assert.equal(s, s:write("pong\n"))
      assert.equal("pong", c:read("l"))
      c:close()
      s:close()
    end)
  end)
end

describe("read", function()
  local c, s
  before_each(function() c, s = helpers.tcp_pair() end)
  after_each(function()
    c:close()
    s:close()
  end)

  it("reads lines, whole lines and counts across chunk boundaries", function()
    -- sent in pieces that cut lines and counts in odd places
    local pieces = { "fir", "st\r", "\nsecond\n", "thi", "rd", "\n12", "34567", "89tail" }
    for _, piece in ipairs(pieces) do
      c:write(piece)
    end
    c:shutdown("write")
    assert.equal("first", s:read("l"))           -- "\r\n" dropped
    assert.equal("second\n", s:read("L"))        -- kept whole
    assert.equal("third", s:read())              -- "l" is the default
    assert.equal("12345", s:read(5))
    assert.equal("6789", s:read(4))
    assert.equal("tail", s:read("a"))
    assert.equal("", s:read("a"))                -- like file:read("a")
    local data, err = s:read("l")
    assert.is_nil(data)
    assert.equal("closed", err)
  end)

  it("accepts Lua 5.1 and LuaSocket spellings ('*l', '*a')", function()
    c:write("one\ntwo\n")
    c:shutdown("write")
    assert.equal("one", s:read("*l"))
    assert.equal("two\n", s:read("*a"))
  end)

  it("reads several formats at once, and stops at the end", function()
    c:write("alpha\nbeta\n", "xyz")
    c:shutdown("write")
    local a, b, n = s:read("l", "L", 2)
    assert.equal("alpha", a)
    assert.equal("beta\n", b)
    assert.equal("xy", n)
    local last, after = s:read(10, "l")
    assert.equal("z", last)
    assert.is_nil(after)
  end)

  it("a count returns fewer bytes only when the stream ends", function()
    c:write("abc")
    c:close()
    assert.equal("abc", s:read(10))
    assert.same({ nil, "closed" }, { s:read(10) })
  end)

  it("read(0) is '' until the end of the stream", function()
    c:write("x")
    assert.equal("", s:read(0))
    c:close()
    assert.equal("", s:read(0))
    assert.equal("x", s:read(1))
    assert.same({ nil, "closed" }, { s:read(0) })
  end)

  it("a read that times out keeps what it received for the next read", function()
    s:settimeout(0.05)
    c:write("partial li")
    local data, err, code = s:read("l")
    assert.is_nil(data)
    assert.equal("timeout", err)
    assert.equal("ETIMEDOUT", code)
    c:write("ne\nrest")
    assert.equal("partial line", s:read("l"))
    local _, err2 = s:read(10)          -- "rest" is there, 10 bytes are not
    assert.equal("timeout", err2)
    assert.equal("rest", s:recv(100))   -- recv hands out buffered bytes first
  end)

  it("timeout 0 never waits", function()
    s:settimeout(0)
    local t0 = hotline.now()
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:read("l") })
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:recv() })
    assert.is_true(hotline.now() - t0 < 0.5)
  end)

  it("refuses a line longer than maxline, and keeps the bytes", function()
    s:setoption("maxline", 16)
    c:write(string.rep("x", 40), "\nok\n")
    local data, err, code = s:read("l")
    assert.is_nil(data)
    assert.equal("line too long", err)
    assert.equal("EMSGSIZE", code)
    assert.equal(string.rep("x", 40) .. "\n", s:read(41))   -- nothing lost
    assert.equal("ok", s:read("l"))
  end)

  it("raises on an invalid format, naming it", function()
    assert.has_error(function() s:read("x") end)
    assert.has_error(function() s:read({}) end)
    assert.has_error(function() s:read(-1) end)
    assert.has_error(function() s:read(0 / 0) end)
  end)

  it("gets a big body in one read('a')", function()
    local body = string.rep("0123456789abcdef", helpers.size(64 * 1024, 1024))   -- 1 MiB
    -- the writer cannot finish before the reader drains: two tasks
    hotline.spawn(function()
      assert(c:write(body))
      c:shutdown("write")
    end)
    local got
    hotline.spawn(function() got = s:read("a") end)
    assert(hotline.run())
    assert.equal(#body, #got)
    assert.is_true(got == body)
  end)
end)

describe("recv and send", function()
  local c, s
  before_each(function() c, s = helpers.tcp_pair() end)
  after_each(function()
    c:close()
    s:close()
  end)

  -- (one byte at a time under the EAGAIN mock: the kernel's behaviour)
  local kernel_it = helpers.MOCKED and pending or it

  kernel_it("recv returns what is there, up to n bytes", function()
    c:send("hello world")
    assert.equal("hello", s:recv(5))
    assert.equal(" world", s:recv(100))
  end)

  kernel_it("send sends data:sub(i, j) and says how many bytes went", function()
    assert.equal(3, c:send("abcdef", 2, 4))
    assert.equal(2, c:send("abcdef", -2))
    assert.equal(0, c:send("abcdef", 5, 2))
    assert.equal("bcdef", s:read(5))
  end)

  it("recv at the end of the stream is nil, 'closed'", function()
    c:close()
    assert.same({ nil, "closed" }, { s:recv() })
  end)
end)

describe("write", function()
  it("writes strings and numbers, and returns the socket", function()
    local c, s = helpers.tcp_pair()
    assert.equal(c, c:write("n=", 42, " x=", 1.5, "\n"))
    assert.equal("n=42 x=1.5", s:read("l"))
    assert.has_error(function() c:write({}) end)
    c:close()
    s:close()
  end)

  it("finishes partial writes against a small sndbuf and a slow reader", function()
    local c, s = helpers.tcp_pair()
    c:setoption("sndbuf", 4096)
    s:setoption("rcvbuf", 65536)              -- no autotuning past 1 MiB
    local chunks = {}
    for i = 1, helpers.size(256, 24) do
      chunks[i] = string.rep(string.char(64 + i % 26), 4093 + i)
    end
    local expected = table.concat(chunks)     -- ~1 MiB: more than the buffers hold
    local done, read_meanwhile
    local received, count = {}, 0
    hotline.spawn(function()
      done = c:write(unpack(chunks))
      read_meanwhile = count
      c:close()
    end)
    hotline.spawn(function()
      while true do
        local piece = s:recv(1000)          -- a slow reader: small reads
        if not piece then break end
        received[#received + 1] = piece
        count = count + #piece
        hotline.sleep(0)                   -- and lets the writer run between
      end
    end)
    assert(hotline.run())
    assert.equal(c, done)
    assert.is_true(read_meanwhile > 0)     -- the write had to wait for the reader
    local got = table.concat(received)
    assert.equal(#expected, #got)
    assert.is_true(got == expected)        -- every byte, in order
    s:close()
  end)

  it("reports the bytes already written when it times out", function()
    local c, s = helpers.tcp_pair()
    c:setoption("sndbuf", 4096)
    s:setoption("rcvbuf", 4096)
    c:settimeout(0.05)
    local big = string.rep("x", 4 * 1024 * 1024)
    local ok, err, code, sent = c:write(big)
    assert.is_nil(ok)
    assert.equal("timeout", err)
    assert.equal("ETIMEDOUT", code)
    assert.is_true(sent > 0 and sent < #big)
    c:close()
    s:close()
  end)
end)

describe("half-close and resets", function()
  it("shutdown('write') ends the peer's reads but not its writes", function()
    local c, s = helpers.tcp_pair()
    c:write("last words\n")
    assert.is_true(c:shutdown("write"))
    assert.equal("last words", s:read("l"))
    assert.same({ nil, "closed" }, { s:read("l") })
    s:write("reply\n")                       -- the other direction still works
    assert.equal("reply", c:read("l"))
    c:close()
    s:close()
  end)

  it("a reset peer gives ECONNRESET, and data already received is kept", function()
    local c, s = helpers.tcp_pair()
    s:write("kept\n")
    assert.equal("kept", c:read("l"))
    c:write("before reset\n")
    assert.equal("before reset", s:read("l"))
    s:setoption("linger", 0)
    s:close()                               -- sends RST
    local data, err, code = c:read("l")
    assert.is_nil(data)
    assert.equal("ECONNRESET", code)
    assert.equal("connection reset by peer", err)
    c:close()
  end)

  it("writing to a peer that has gone fails without SIGPIPE", function()
    local c, s = helpers.tcp_pair()
    s:close()
    local ok, err, code
    for _ = 1, 50 do                        -- the first write may still succeed
      ok, err, code = c:write(string.rep("x", 1024))
      if not ok then break end
    end
    assert.is_nil(ok)
    assert.is_truthy(code == "EPIPE" or code == "ECONNRESET", code)
    assert.equal("string", type(err))
    c:close()
  end)
end)

describe("hotline.listen and hotline.connect", function()
  it("listen on port 0, connect by name", function()
    local l = assert(hotline.listen("localhost", 0, { family = "inet", backlog = 16 }))
    assert.is_true(l:getoption("reuseaddr"))
    local _, port = l:getsockname()
    local c = assert(hotline.connect("localhost", port, { family = "inet" }))
    local s = assert(l:accept())
    assert.is_nil(c:gettimeout())
    c:write("hi\n")
    s:settimeout(helpers.TIMEOUT)
    assert.equal("hi", s:read("l"))
    for _, x in ipairs({ l, c, s }) do x:close() end
  end)

  it("listen with reuseport lets two sockets share a port", function()
    local a = assert(hotline.listen("127.0.0.1", 0, { reuseport = true }))
    local _, port = a:getsockname()
    local b = assert(hotline.listen("127.0.0.1", port, { reuseport = true }))
    assert.is_true(b:getoption("reuseport"))
    a:close()
    b:close()
  end)

  it("connect fails with the last error when no address answers", function()
    local probe = assert(hotline.listen("127.0.0.1", 0))
    local _, port = probe:getsockname()
    probe:close()
    local c, err, code = hotline.connect("127.0.0.1", port, { timeout = 2 })
    assert.is_nil(c)
    assert.equal("connection refused", err)
    assert.equal("ECONNREFUSED", code)
  end)

  it("connect's timeout bounds the whole attempt", function()
    -- a listener whose backlog is full: SYNs go unanswered
    local l = assert(hotline.listen("127.0.0.1", 0, { backlog = 0 }))
    local _, port = l:getsockname()
    local held = {}
    local t0 = hotline.now()
    local c, err
    for _ = 1, 16 do
      c, err = hotline.connect("127.0.0.1", port, { timeout = 0.2 })
      if not c then break end
      held[#held + 1] = c
    end
    assert.is_nil(c)
    assert.equal("timeout", err)
    assert.is_true(hotline.now() - t0 < 16 * 0.2 + 2)
    for _, x in ipairs(held) do x:close() end
    l:close()
  end)

  it("bad arguments raise and name the function", function()
    assert.has_error(function() hotline.listen("127.0.0.1", 0, "fast") end,
      "bad argument #3 to 'listen' (table expected, got string)")
    assert.has_error(function() hotline.connect("127.0.0.1", 99999) end)
  end)
end)

describe("hotline.getaddrinfo", function()
  it("resolves localhost and numeric hosts", function()
    local list = assert(hotline.getaddrinfo("127.0.0.1", 80))
    assert.same({ family = "inet", host = "127.0.0.1", port = 80, socktype = "stream" }, list[1])
    list = assert(hotline.getaddrinfo("localhost", "80", { family = "inet", socktype = "dgram" }))
    assert.equal("127.0.0.1", list[1].host)
    assert.equal("dgram", list[1].socktype)
  end)

  it("fails on an unknown name with an EAI_ code", function()
    local list, err, code = hotline.getaddrinfo("no-such-host.invalid", 80)
    assert.is_nil(list)
    assert.equal("string", type(err))
    assert.matches("^EAI_", code)
  end)
end)
