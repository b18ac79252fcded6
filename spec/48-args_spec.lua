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
local dns = require "spec.tools.dns"

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
    local ready = hotline.channel(1)        -- wait_any answers at once
    ready:send(true)
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
      current = {},
      timeout = { 0, function() end },
      channel = { 1 },
      condition = {},
      semaphore = { 1 },
      wait_any = { ready },
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
      { "listen", { "127.0.0.1", 0 }, { "backlog", "reuseport", "family", "resolver" } },
      { "connect", { "127.0.0.1", port }, { "timeout", "family", "resolver", "attempt_delay" } },
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
      listen = true, connect = true, serve = true,
      resolver = true, getnameinfo = true }   -- (in the resolver case below)
    for name in pairs(simple) do fuzzed[name] = true end
    for name, v in pairs(hotline) do
      if type(v) == "function" then
        assert.is_true(fuzzed[name] == true, "hotline." .. name .. " is not fuzzed")
      end
    end
    settle()
  end)

  it("hotline.resolver, getnameinfo and resolver methods", function()
    -- names go to a DNS server of the spec's own, which knows none
    local server = dns.start({})
    local valid = { nameservers = { server.address }, hosts = false, timeout = WAIT, attempts = 1 }
    fuzz("hotline.resolver", hotline.resolver, function() return { valid }, 1 end)
    for _, field in ipairs({ "nameservers", "timeout", "attempts", "hosts" }) do
      fuzz("hotline.resolver opts." .. field, function(v)
        local opts = {}
        for k, x in pairs(valid) do opts[k] = x end
        opts[field] = v
        return hotline.resolver(opts)
      end, function() return { 0 }, 1 end,
        function(_, v) return field == "timeout" and waits_long(v) end)
    end
    -- a number would be an address to ask the machine's resolver about
    fuzz("hotline.getnameinfo", hotline.getnameinfo, function() return { "127.0.0.1" }, 1 end,
      function(pos, v) return pos == 1 and type(v) == "number" end)
    local r = assert(hotline.resolver(valid))
    for _, method in ipairs({ "getaddrinfo", "getnameinfo", "__tostring" }) do
      local valid_args = method == "getaddrinfo" and { "127.0.0.1", 80, { family = "inet" } }
        or method == "getnameinfo" and { "127.0.0.1" } or {}
      fuzz("resolver:" .. method, function(self, ...)
        return getmetatable(r)[method](self, ...)
      end, function() return { r, unpack(valid_args) }, #valid_args + 1 end)
    end
    server:stop()
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

  it("task, channel, condition and semaphore methods", function()
    local objects = {
      task = function()
        local t = hotline.spawn(function() return 1 end)
        hotline.run()
        return t
      end,
      channel = function() return hotline.channel(1) end,
      condition = function() return hotline.condition() end,
      semaphore = function() return hotline.semaphore(1) end,
    }
    local methods = {
      task = { join = { 0.01 }, cancel = {}, status = {}, __tostring = {} },
      channel = { send = { "v", 0 }, recv = { 0 }, close = {}, ready = {}, values = {},
        __tostring = {} },
      condition = { wait = { 0 }, signal = {}, broadcast = {} },
      semaphore = { acquire = { 0 }, release = {}, with = { function() end } },
    }
    for kind, list in pairs(methods) do
      local mt = getmetatable(objects[kind]())
      for name, valid in pairs(list) do
        local f = mt[name] or mt.__index[name]
        assert.is_function(f, kind .. ":" .. name)
        fuzz(kind .. ":" .. name, f, function()
          return { objects[kind](), unpack(valid) }, #valid + 1
        end)
      end
    end
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
  it("hotline.luasocket functions and object methods", function()
    local socket = require "hotline.luasocket"
    local unix = require "hotline.luasocket.unix"
    -- select's watch set outside tasks lives as long as the process
    local w1, w2 = hotline.socketpair()
    socket.select({ { getfd = function() return w1:fileno() end },
                    { getfd = function() return w2:fileno() end } }, nil, 0)
    w1:close()
    w2:close()
    fds = faults.baseline()
    -- a host string that is not numeric would go to the resolver
    local function off_host(v)
      return leaves_loopback(v) or (type(v) == "string" and not v:match("^[%d.:]*$"))
    end
    local function ours(v)
      return type(v) == "table" and rawget(v, "sock") ~= nil and rawget(v, "bpos") ~= nil
    end
    -- calls f and closes the objects it made
    local function closing(f)
      return function(...)
        local r = pack(f(...))
        for i = 1, r.n do
          if ours(r[i]) then r[i]:close() end
        end
        return unpack(r, 1, r.n)
      end
    end
    local target = assert(socket.bind("127.0.0.1", 0, 1024))
    local _, target_port = target:getsockname()
    local function drain()              -- callers pile up in target's backlog
      target:settimeout(0)
      repeat
        local extra = target:accept()
        if extra then extra:close() end
      until not extra
      target:settimeout(WAIT)
    end
    local sender = assert(socket.udp())
    assert(sender:setsockname("127.0.0.1", 0))
    local _, udp_port = sender:getsockname()
    local function ready()              -- a connected pair, data and end waiting
      drain()
      local c = assert(socket.connect("127.0.0.1", target_port))
      local s = assert(target:accept())
      assert(c:send("hello\nworld"))
      assert(c:shutdown("send"))
      s:settimeout(WAIT)
      return c, s
    end
    local path = os.tmpname()
    os.remove(path)
    local simple = {
      tcp = {}, tcp4 = {}, tcp6 = {}, udp = {}, udp4 = {}, udp6 = {}, gettime = {},
      newtry = { function() end }, protect = { function() end },
      skip = { 1, "a", "b" }, choose = { { default = function() end } },
    }
    for name, valid in pairs(simple) do
      fuzz("socket." .. name, closing(socket[name]),
        function() return { unpack(valid) }, #valid end)
    end
    fuzz("socket.protect(try)", closing(socket.protect(socket.try)),
      function() return { nil, "message" }, 2 end)
    fuzz("socket.sleep", socket.sleep, function() return { 0 }, 1 end,
      function(_, v) return waits_long(v) end)
    fuzz("socket.bind", closing(socket.bind), function() return { "127.0.0.1", 0, 8 }, 3 end,
      function(pos, v) return pos == 1 and off_host(v) end)
    fuzz("socket.connect", closing(socket.connect),
      function() drain(); return { "127.0.0.1", target_port }, 2 end,
      function(pos, v) return (pos == 1 or pos == 3) and off_host(v) end)
    fuzz("socket.select", function(...)
      return socket.select(...)
    end, function()
      local c, s = ready()
      return { { s }, { c }, 0 }, 3, function() c:close(); s:close() end
    end, function(pos, v)
      return pos == 3 and (waits_long(v) or v ~= v)
    end)
    for _, name in ipairs({ "toip", "tohostname", "getaddrinfo", "getnameinfo" }) do
      fuzz("socket.dns." .. name, socket.dns[name], function() return { "127.0.0.1" }, 1 end,
        function(pos, v) return pos == 1 and off_host(v) end)
    end
    fuzz("socket.dns.gethostname", socket.dns.gethostname, function() return {}, 0 end)
    fuzz("socket.sink", closing(socket.sink), function()
      local c, s = ready()
      return { "keep-open", c }, 2, function() c:close(); s:close() end
    end)
    fuzz("socket.source", closing(socket.source), function()
      local c, s = ready()
      return { "by-length", s, 3 }, 3, function() c:close(); s:close() end
    end)
    -- every method of every object, self included
    local fresh = {
      master = function()
        drain()
        local m = socket.tcp()
        m:settimeout(WAIT)
        return m, function() m:close() end
      end,
      bound = function()
        local m = socket.tcp()
        assert(m:bind("127.0.0.1", 0))
        return m, function() m:close() end
      end,
      server = function()               -- with a caller waiting
        local l = assert(socket.bind("127.0.0.1", 0))
        l:settimeout(WAIT)
        local ip, port = l:getsockname()
        local c = assert(socket.connect(ip, port))
        return l, function() l:close(); c:close() end
      end,
      client = function()
        local c, s = ready()
        return s, function() c:close(); s:close() end
      end,
      udp = function()                  -- with a datagram waiting
        local u = socket.udp()
        assert(u:setsockname("127.0.0.1", 0))
        u:settimeout(WAIT)
        assert(sender:sendto("datagram", u:getsockname()))
        return u, function() u:close() end
      end,
      connected = function()
        local u = socket.udp()
        assert(u:setpeername("127.0.0.1", udp_port))
        u:settimeout(WAIT)
        return u, function() u:close() end
      end,
      unix = function()
        local u = unix.stream()
        return u, function() u:close(); os.remove(path) end
      end,
    }
    local methods = {
      { "bind", { "127.0.0.1", 0 }, "master" },
      { "connect", { "127.0.0.1", target_port }, "master" },
      { "listen", { 8 }, "bound" }, { "accept", {}, "server" },
      { "receive", { "*l", "pre" }, "client" }, { "send", { "abcdef", 2, 4 }, "client" },
      { "shutdown", { "both" }, "client" }, { "getpeername", {}, "client" },
      { "getsockname", {}, "client" }, { "getstats", {}, "client" },
      { "setstats", { 1, 2, 3 }, "client" }, { "settimeout", { WAIT, "b" }, "client" },
      { "gettimeout", {}, "client" }, { "setoption", { "keepalive", true }, "client" },
      { "getoption", { "linger" }, "client" }, { "dirty", {}, "client" },
      { "getfd", {}, "client" }, { "getfamily", {}, "client" }, { "close", {}, "client" },
      { "receive", { 10 }, "udp" }, { "receivefrom", { 10 }, "udp" },
      { "sendto", { "x", "127.0.0.1", udp_port }, "udp" },
      { "setsockname", { "127.0.0.1", 0 }, "master" },
      { "setpeername", { "127.0.0.1", udp_port }, "udp" },
      { "send", { "x" }, "connected" }, { "setpeername", { "*" }, "connected" },
      { "getpeername", {}, "connected" }, { "bind", { path }, "unix" },
    }
    for _, m in ipairs(methods) do
      local name, valid, kind = m[1], m[2], m[3]
      local sample, done = fresh[kind]()
      local f = sample[name]
      done()
      fuzz(kind .. ":" .. name, closing(f), function()
        local self, cleanup = fresh[kind]()
        return { self, unpack(valid) }, #valid + 1, cleanup
      end, function(pos, v)
        return kind ~= "unix" and pos == 2 and (name == "bind" or name == "connect"
          or name == "setsockname" or name == "setpeername") and off_host(v)
          or (name == "sendto" and pos == 3 and off_host(v))
      end)
    end
    target:close()
    sender:close()
    settle()
  end)
end)
