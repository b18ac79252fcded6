-- Faults: wrong arguments. Every public function and every method of
-- sockets, pollers and servers is called with every kind of wrong value in
-- each argument position (and as self): nil, booleans, numbers small,
-- huge, negative, fractional, NaN and infinite, empty, odd, very long and
-- NUL-holding strings, tables (one that raises when touched), functions,
-- coroutines, other userdata (full and light), closed sockets and pollers. Each call must
-- either work or raise a clean Lua error (a string); a crash ends busted.
-- Values that would make a correct call wait for long (hotline.sleep(1e9))
-- or reach beyond loopback (host 0 is every interface, "inf" a DNS name)
-- are left out where they would; sockets wait 0.05 s at most.
local hotline = require "hotline"
local core = require "hotline.core"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

local unpack = table.unpack or unpack -- luacheck: compat
local WAIT = 0.05

local function pack(...)
  return { n = select("#", ...), ... }
end

-- The wrong values, made afresh for each target (some are objects).
local function wrong_values()
  local closed = assert(hotline.socket())
  closed:close()
  local closed_poller = assert(hotline.poller())
  closed_poller:close()
  local trap = setmetatable({}, {
    __index = function() error("trap: indexed") end,
    __tostring = function() error("trap: tostring") end,
  })
  return pack(
    nil, false, true, 0, 1, -1, 0.5, -0.5, 2 ^ 31 - 1, 2 ^ 31, -2 ^ 31,
    2 ^ 53, -2 ^ 53, 2 ^ 63, 1e308, -1e308, math.huge, -math.huge, 0 / 0,
    "", "a b", "-.-", "\0", "a\0b", string.rep("z", 100000),
    "/nonexistent-dir/hotline-fuzz",
    {}, trap, function() end, coroutine.create(function() end), io.stdout,
    closed, closed_poller,
    debug.upvalueid and debug.upvalueid(wrong_values, 1))   -- luacheck: compat (light userdata)
end

-- Values never used in a position, by what the position means.
local function waits_long(v)      -- seconds a correct call would wait
  return type(v) == "number" and v > WAIT and v < math.huge
end
-- A host: a number n is the address n (2^31 - 1 is 127.255.255.255, 2^31
-- is 128.0.0.0), 0 every interface, and "inf" or "1e+308" are DNS names.
-- Whole numbers below 2^24 (0.x.y.z, refused at once) or in 127/8 stay.
local function leaves_loopback(v)
  if type(v) ~= "number" then return false end
  if v ~= math.floor(v) then return true end
  return not ((v >= 1 and v < 2 ^ 24) or (v >= 127 * 2 ^ 24 and v < 2 ^ 31))
end
local function forks(v)           -- workers = a plausible count
  return type(v) == "number" and v >= 1 and v <= 1024 and v == math.floor(v)
end

-- What the calls found: each entry describes one call that misbehaved.
local problems, calls = {}, 0

local function describe_value(v)
  if type(v) == "string" then
    return #v > 40 and ("string of " .. #v .. " bytes") or string.format("%q", v)
  end
  local ok, text = pcall(tostring, v)
  return ok and text or type(v)
end

-- Closes whatever a call returned that holds a descriptor.
local function release(results)
  for i = 2, results.n do
    local r = results[i]
    if hotline.type(r) == "socket" then
      r:close()
    elseif type(r) == "table" and getmetatable(r) and rawget(r, "listener") then
      r:close()                             -- a server
    elseif type(r) == "userdata" and tostring(r):match("^hotline.poller") then
      r:close()
    elseif type(r) == "table" and rawget(r, "task") and r.cancel then
      r:cancel()                            -- a timer: it would keep run() going
    end
  end
end

-- Calls fn(args...) and records a failure that is not a clean Lua error.
local function try(name, fn, args, n)
  calls = calls + 1
  local results = pack(pcall(fn, unpack(args, 1, n)))
  if results[1] then
    release(results)
  elseif type(results[2]) ~= "string" then
    problems[#problems + 1] = name .. ": raised a " .. type(results[2])
  end
end

-- Calls fn once per wrong value per argument position 1..n + 1, the other
-- arguments valid. make() gives fresh valid arguments, their count and a
-- cleanup for each call; skip(position, value) leaves a value out.
local function fuzz(name, fn, make, skip)
  local values = wrong_values()
  local _, n, cleanup0 = make()
  if cleanup0 then cleanup0() end
  for pos = 1, n + 1 do
    for i = 1, values.n do
      local v = values[i]
      if not (skip and skip(pos, v)) then
        local args, count, cleanup = make()
        args[pos] = v
        try(string.format("%s, argument %d = %s", name, pos, describe_value(v)),
          fn, args, math.max(count, pos))
        if cleanup then cleanup() end
      end
    end
  end
end

-- A connected TCP pair whose server side holds "hello\nworld" and then the
-- end of the stream, so that reads finish at once.
local function ready_pair()
  local c, s = helpers.tcp_pair()
  c:settimeout(WAIT)
  s:settimeout(WAIT)
  assert(c:write("hello\nworld"))
  assert(c:shutdown("write"))
  return c, s
end

describe("every public function with wrong arguments", function()
  local fds
  before_each(function()
    problems, calls = {}, 0
    -- onsignal opens the self-pipe, for the life of the process: before counting
    assert(core.sigcatch("WINCH", true))
    assert(core.sigcatch("WINCH", false))
    fds = faults.baseline()
  end)
  after_each(function()
    core.trace(false)
    loop.reset()
  end)

  local function settle()
    hotline.stop()
    faults.run()                             -- tasks the calls spawned
    helpers.collect()
    loop.reset()
    assert.same({}, problems)
    assert.is_true(calls > 0)
    assert.equal(fds, helpers.count_fds())
  end

  it("hotline.*", function()
    local listener = assert(hotline.listen("127.0.0.1", 0))
    local _, port = listener:getsockname()
    local soft = hotline.fdlimit()
    local simple = {
      socket = { "inet", "stream" },
      socketpair = { "stream" },
      poller = { "poll" },
      type = { listener },
      strerror = { 1 },
      trace = { false },
      monotime = {},
      now = {},
      fdlimit = { soft },
      run = {},
      stop = {},
      spawn = { function() end, 1 },
    }
    for name, valid in pairs(simple) do
      fuzz("hotline." .. name, function(...)
        local r = { hotline[name](...) }
        core.trace(false)
        hotline.fdlimit(soft)
        return unpack(r, 1, 3)
      end, function() return { unpack(valid) }, #valid end)
    end
    fuzz("hotline.sleep", hotline.sleep, function() return { 0 }, 1 end,
      function(_, v) return waits_long(v) end)
    fuzz("hotline.timer", hotline.timer, function() return { 0, function() end }, 2 end)
    local timer = hotline.timer(0, function() end)
    fuzz("timer:cancel", function(self) return getmetatable(timer).cancel(self) end,
      function() return { hotline.timer(0, function() end) }, 1 end)
    timer:cancel()
    fuzz("hotline.onsignal", function(...)
      local ok, err = pcall(hotline.onsignal, ...)
      pcall(hotline.onsignal, (...), nil)     -- back to the default action
      if not ok then error(err, 0) end
    end, function() return { "WINCH", function() end }, 2 end)
    fuzz("hotline.getaddrinfo", hotline.getaddrinfo,
      function() return { "127.0.0.1", 80, { family = "inet" } }, 3 end,
      function(pos, v) return pos == 1 and leaves_loopback(v) end)
    fuzz("hotline.listen", hotline.listen,
      function() return { "127.0.0.1", 0, { backlog = 4 } }, 3 end,
      function(pos, v) return pos == 1 and leaves_loopback(v) end)
    fuzz("hotline.connect", hotline.connect,
      function() return { "127.0.0.1", port, { timeout = WAIT } }, 3 end,
      function(pos, v) return pos == 1 and leaves_loopback(v) end)
    -- the options tables, field by field
    for _, case in ipairs({
      { "listen", { "127.0.0.1", 0 }, { "backlog", "reuseport", "family" } },
      { "connect", { "127.0.0.1", port }, { "timeout", "family" } },
    }) do
      local fname, head, fields = case[1], case[2], case[3]
      for _, field in ipairs(fields) do
        fuzz("hotline." .. fname .. " opts." .. field, function(v)
          return hotline[fname](head[1], head[2], { [field] = v })
        end, function() return { 0 }, 1 end,
          function(_, v) return field == "timeout" and waits_long(v) end)
      end
    end
    listener:close()
    -- every public function is in the list above: a new one must be added
    local fuzzed = { sleep = true, timer = true, onsignal = true, getaddrinfo = true,
      listen = true, connect = true, serve = true }
    for name in pairs(simple) do fuzzed[name] = true end
    for name, v in pairs(hotline) do
      if type(v) == "function" then
        assert.is_true(fuzzed[name] == true, "hotline." .. name .. " is not fuzzed")
      end
    end
    settle()
  end)

  it("hotline.serve and server methods", function()
    local function opts_with(field, v)
      local opts = { host = "127.0.0.1", port = 0, handler = function() end }
      if field then opts[field] = v end
      return opts
    end
    fuzz("hotline.serve", hotline.serve,
      function() return { opts_with() }, 1 end)
    for _, field in ipairs({ "host", "port", "handler", "backlog", "reuseport",
        "max_connections", "workers", "family", "on_error", "socket" }) do
      fuzz("hotline.serve opts." .. field, function(v)
        return hotline.serve(opts_with(field, v))
      end, function() return { 0 }, 1 end, function(_, v)
        return (field == "host" and leaves_loopback(v)) or (field == "workers" and forks(v))
      end)
    end
    local server = assert(hotline.serve(opts_with()))
    for _, method in ipairs({ "address", "connections", "close", "__tostring" }) do
      fuzz("server:" .. method, function(self, ...)
        return getmetatable(server)[method](self, ...)
      end, function()
        local s = assert(hotline.serve(opts_with()))
        return { s }, 1, function() s:close() end
      end)
    end
    server:close()
    settle()
  end)

  it("socket methods, and the socket metamethods", function()
    local udp = assert(hotline.socket("inet", "dgram"))
    assert(udp:bind("127.0.0.1", 0))
    local _, udp_port = udp:getsockname()
    local target = assert(hotline.listen("127.0.0.1", 0))
    local _, target_port = target:getsockname()
    -- method = { valid arguments, how to make self }
    local fresh = {
      tcp = function()
        local s = assert(hotline.socket())
        s:settimeout(WAIT)
        return s, function() s:close() end
      end,
      bound = function()
        local s = assert(hotline.socket())
        assert(s:bind("127.0.0.1", 0))
        return s, function() s:close() end
      end,
      listener = function()              -- with a caller waiting
        local l = assert(hotline.listen("127.0.0.1", 0))
        l:settimeout(WAIT)
        local c = assert(hotline.connect(l:getsockname()))
        return l, function() l:close(); c:close() end
      end,
      connected = function()
        local c, s = ready_pair()
        return s, function() c:close(); s:close() end
      end,
      dgram = function()                 -- with a datagram waiting
        local s = assert(hotline.socket("inet", "dgram"))
        assert(s:bind("127.0.0.1", 0))
        s:settimeout(WAIT)
        assert(udp:sendto("datagram", s:getsockname()))
        return s, function() s:close() end
      end,
    }
    local methods = {
      bind = { { "127.0.0.1", 0 }, "tcp" },
      listen = { { 8 }, "bound" },
      accept = { {}, "listener" },
      connect = { { "127.0.0.1", target_port }, "tcp" },
      shutdown = { { "both" }, "connected" },
      getsockname = { {}, "connected" },
      getpeername = { {}, "connected" },
      fileno = { {}, "connected" },
      settimeout = { { WAIT }, "connected" },
      gettimeout = { {}, "connected" },
      close = { {}, "connected" },
      read = { { "l", 3, "a" }, "connected" },
      write = { { "x", 1, "y" }, "connected" },
      recv = { { 10 }, "connected" },
      send = { { "abcdef", 2, 4 }, "connected" },
      recvfrom = { { 10 }, "dgram" },
      sendto = { { "x", "127.0.0.1", udp_port }, "dgram" },
      setoption = { { "sndbuf", 8192 }, "connected" },
      getoption = { { "sndbuf" }, "connected" },
      __tostring = { {}, "connected" },
      __gc = { {}, "connected" },
      __close = { {}, "connected" },
    }
    local mt = core.metatable
    for name, spec in pairs(methods) do
      local f = mt.__index[name] or mt[name]
      assert.is_function(f, name)
      fuzz("socket:" .. name, function(self, ...)
        if hotline.type(self) == "socket" then self:settimeout(WAIT) end
        return f(self, ...)
      end, function()
        local self, cleanup = fresh[spec[2]]()
        local args = { self, unpack(spec[1]) }
        return args, #spec[1] + 1, cleanup
      end, function(pos, v)
        -- a host that would leave loopback; a timeout that would wait
        return ((name == "connect" or name == "bind") and pos == 2 and leaves_loopback(v))
          or (name == "sendto" and pos == 3 and leaves_loopback(v))
      end)
    end
    -- every option with every wrong value
    for _, option in ipairs({ "reuseaddr", "reuseport", "nodelay", "keepalive", "linger",
        "rcvbuf", "sndbuf", "ipv6only", "broadcast", "maxline" }) do
      fuzz("socket:setoption " .. option, function(v)
        local c, s = ready_pair()
        local ok, err = pcall(s.setoption, s, option, v)
        c:close()
        s:close()
        if not ok then error(err, 0) end
      end, function() return { true }, 1 end)
    end
    -- more formats than read takes, and every format twice
    local c, s = ready_pair()
    local formats = {}
    for i = 1, 40 do formats[i] = "l" end
    try("read with 40 formats", s.read, { s, unpack(formats) }, 41)
    udp:close()
    target:close()
    c:close()
    s:close()
    settle()
  end)

  it("TLS: hotline.tls.context, tls options, starttls, tlsinfo", function()
    local certs = require "spec.tools.certs"
    local c = certs.make()
    local listener = assert(hotline.listen("127.0.0.1", 0))   -- never answers
    local _, port = listener:getsockname()
    fuzz("hotline.tls.context", hotline.tls.context, function() return { {} }, 1 end)
    for _, field in ipairs({ "cafile", "capath", "verify", "servername", "alpn", "cert",
        "key", "ciphers", "min_version", "handshake_timeout", "server" }) do
      fuzz("hotline.tls.context opts." .. field, function(v)
        -- (a cafile of one certificate: the system's bundle is slow to parse)
        local ca = (field ~= "cafile" and field ~= "capath") and c.ca or nil
        return hotline.tls.context({ [field] = v, cafile = ca,
          cert = field == "key" and c.cert or nil })
      end, function() return { 0 }, 1 end)
    end
    fuzz("hotline.connect opts.tls", function(v)
      return hotline.connect("127.0.0.1", port, { tls = v, timeout = WAIT })
    end, function() return { { cafile = c.ca } }, 1 end)
    fuzz("socket:starttls",
      function(self, ...) return core.metatable.__index.starttls(self, ...) end,
      function()
        local a, b = helpers.tcp_pair()
        a:settimeout(WAIT)
        return { a, { cafile = c.ca, servername = "localhost" } }, 2,
          function() a:close(); b:close() end
      end)
    fuzz("socket:tlsinfo", function(self) return core.metatable.__index.tlsinfo(self) end,
      function()
        local a, b = helpers.tcp_pair()
        return { a }, 1, function() a:close(); b:close() end
      end)
    fuzz("hotline.serve opts.tls", function(v)
      return hotline.serve({ host = "127.0.0.1", handler = function() end, tls = v })
    end, function() return { { cert = c.cert, key = c.key } }, 1 end)
    listener:close()
    certs.remove(c)
    settle()
  end)

  it("poller methods and the wait iterator", function()
    for _, backend in ipairs(helpers.backends()) do
      -- a poller with a socket that is always writable, so no wait blocks
      local a, b = hotline.socketpair()
      local function fresh()
        local p = assert(hotline.poller(backend))
        assert(p:add(a, "w"))
        return p
      end
      local methods = {
        add = { b, "rw" }, modify = { a, "r" }, remove = { a }, forget = { a },
        wait = { 0 }, backend = {}, fileno = {}, close = {}, __tostring = {},
        __gc = {},
      }
      local sample = fresh()
      local mt = getmetatable(sample)
      sample:close()
      for name, valid in pairs(methods) do
        local f = mt.__index[name] or mt[name]
        assert.is_function(f, name)
        fuzz("poller:" .. name, f, function()
          local p = fresh()
          return { p, unpack(valid) }, #valid + 1, function() p:close() end
        end, function(pos, v)
          -- a number in the socket's place names a descriptor: let it be
          -- one of ours or none at all, never the terminal's
          return pos == 2 and type(v) == "number" and v >= 0 and v < 3
        end)
      end
      local p = fresh()
      local iterator = p:wait(0)
      fuzz("poller iterator", iterator, function() return { p }, 1 end)
      p:close()
      a:close()
      b:close()
    end
    settle()
  end)
end)
