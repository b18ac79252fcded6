-- hotline.resolver: names resolved without blocking the process.
--
-- hotline.getaddrinfo and hotline.getnameinfo ask c-ares (csrc/hl_resolve.c)
-- with the system's settings; hotline.resolver{...} makes a resolver with
-- settings of its own. Numeric hosts are answered at once, without the
-- network. A lookup of a name is a query with a c-ares channel of its own:
-- it waits for the channel's sockets at the one wait point
-- (loop.await_any, a yield in a task, one poll outside), until c-ares' next
-- timeout or the caller's deadline, whichever is first, and lets c-ares
-- handle what is ready. Every descriptor c-ares closes leaves the loop's
-- poller first (loop.release), and a query that is dropped unfinished
-- (its task stopped) is cancelled by its __gc, which closes its sockets
-- and releases them; a wait that raises ends the query at once.

local core = require "hotline.core"
local loop = require "hotline.loop"

local now, await, await_any, release = core.monotime, loop.await, loop.await_any, loop.release
local type, select, error, tostring = type, select, error, tostring
local getaddrinfo, getnameinfo = core.lookup, core.reverse

local resolver = {}

local Resolver = {}
Resolver.__index = Resolver

local function release_all(...)
  for i = 1, select("#", ...) do release((select(i, ...))) end
end

-- A query collected unfinished (its task stopped, or its wait raised where
-- the wait cannot be guarded, below) has its sockets closed by its C
-- __gc; the poller must forget their numbers there and then, or a
-- descriptor opened later with the same number would be taken for one
-- already watched and never wake its task. Installed once per metatable.
local function release_on_gc(q)
  local mt = getmetatable(q)
  if mt.c_gc then return end
  local c_gc = mt.__gc
  mt.c_gc = c_gc
  mt.__gc = function(query)   -- (an error in a finalizer must not escape)
    query:cancel()            -- closes; the C __gc then frees
    pcall(release_all, query:closed())
    c_gc(query)
  end
end

-- Waits as finish() says; -> the index in list that is ready, or nil.
local function wait(list, n, wake)
  if n > 2 then return await_any(list, wake) end
  if n == 2 then   -- one descriptor (the usual case): no poller needed
    return await(list[1], list[2], wake) and 1
  end
  loop.sleep(wake and wake - now() or 0.01)   -- only a timer (rare)
  return nil
end

-- A wait that raises (a task cancelled in it) must end the query at once,
-- closing its sockets and releasing them. pcall can yield on 5.2+ and
-- LuaJIT; on 5.1 it would turn a task's wait into a blocking one, so
-- there only a wait outside tasks is guarded, and the query's __gc does
-- it for a task's, later.
local guarded = _VERSION ~= "Lua 5.1" or jit ~= nil

-- Waits for query q's answer until deadline (monotonic seconds; nil: as
-- long as c-ares' own timeouts allow) -> the answer | nil, "timeout",
-- "ETIMEDOUT" when the deadline comes first.
local function finish(q, deadline)
  release_on_gc(q)
  q:start()
  release_all(q:closed())   -- (a send that failed there closed its socket)
  local list = {}
  while true do
    local done, a, b, c = q:result()
    local expired = not done and deadline and now() >= deadline
    if done or expired then
      q:cancel()
      release_all(q:closed())
      if expired then return nil, "timeout", "ETIMEDOUT" end
      if a == nil then return nil, b, c end
      return a
    end
    local n, seconds = q:wants(list)
    local wake = seconds and now() + seconds
    if deadline and (not wake or deadline < wake) then wake = deadline end
    local ok, i = true
    if guarded or not loop.running() then
      ok, i = pcall(wait, list, n, wake)
    else
      i = wait(list, n, wake)
    end
    if not ok then
      q:cancel()
      release_all(q:closed())
      error(i, 0)
    end
    if i then q:process(list[i], list[i + 1]) else q:process() end
    release_all(q:closed())
  end
end

-- Hosts files (resolver{hosts = path or false}) ------------------------

-- The lines of the hosts file at path, as lists of fields (address,
-- names...); an unreadable file has none.
local function hosts_lines(path)
  local lines = {}
  local f = io.open(path)
  if not f then return lines end
  for line in f:lines() do
    local fields = {}
    for word in line:gsub("#.*", ""):gmatch("%S+") do fields[#fields + 1] = word end
    if fields[2] then lines[#lines + 1] = fields end
  end
  f:close()
  return lines
end

-- Appends the addresses of numeric host to list (none if it is a name).
local function add_numeric(r, list, host, port, hints)
  local found = getaddrinfo(host, port, hints, r.ud)
  if type(found) ~= "table" then
    if found then found:cancel() end
    return
  end
  for i = 1, #found do list[#list + 1] = found[i] end
end

-- The addresses the resolver's hosts file gives host, in file order, or
-- nil. localhost is the loopback address even if the file forgets it.
local function from_hosts(r, host, port, hints)
  local name, list = host:lower(), {}
  local lines = r.hosts and hosts_lines(r.hosts) or {}
  for i = 1, #lines do
    local fields = lines[i]
    for k = 2, #fields do
      if fields[k]:lower() == name then
        add_numeric(r, list, fields[1], port, hints)
        break
      end
    end
  end
  if not list[1] and name == "localhost" then
    add_numeric(r, list, "::1", port, hints)
    add_numeric(r, list, "127.0.0.1", port, hints)
  end
  return list[1] and list or nil
end

-- The address as inet_ntop writes it, to compare addresses.
local function canonical(r, host)
  local list = getaddrinfo(host, 0, nil, r.ud)
  if type(list) == "table" and list[1] then return list[1].host end
  if type(list) == "userdata" then list:cancel() end
  return nil
end

local function name_from_hosts(r, host)
  if not r.hosts then return nil end
  local want = canonical(r, host)
  local lines = hosts_lines(r.hosts)
  for i = 1, #lines do
    if want and canonical(r, lines[i][1]) == want then return lines[i][2] end
  end
  return nil
end

-- Lookups ------------------------------------------------------------

-- The timeout and attempts of /etc/resolv.conf's "options" lines and of
-- RES_OPTIONS, with glibc's defaults (5 s, 2) and limits (30 s, 5).
-- c-ares 1.18 reads "ndots:" there but not these two.
local function system_options()
  local timeout, attempts = 5, 2
  local function parse(words)
    for word in words:gmatch("%S+") do
      local key, n = word:match("^(%a+):(%d+)$")
      n = tonumber(n)
      if key == "timeout" then timeout = math.max(1, math.min(n, 30)) end
      if key == "attempts" then attempts = math.max(1, math.min(n, 5)) end
    end
  end
  local f = io.open("/etc/resolv.conf")
  if f then
    for line in f:lines() do
      local words = line:match("^%s*options%s(.*)")
      if words then parse(words) end
    end
    f:close()
  end
  parse(os.getenv("RES_OPTIONS") or "")
  return timeout, attempts
end

-- The resolver made from the system's files, one per process: a forked
-- worker makes its own.
local system, system_pid

local function default()
  local pid = core.getpid()
  if not system or system_pid ~= pid then
    local ud, err, code = core.resolver(nil, system_options())
    if not ud then return nil, err, code end
    system, system_pid = setmetatable({ ud = ud }, Resolver), pid
  end
  return system
end

local function check_self(self, fname)
  if getmetatable(self) ~= Resolver then
    error("bad argument #1 to '" .. fname .. "' (hotline.resolver expected, got "
          .. type(self) .. ")", 3)
  end
end

-- resolver.lookup(r, host, port, hints, deadline): getaddrinfo through r
-- (nil: the system's) within deadline (nil: c-ares' timeouts alone).
function resolver.lookup(r, host, port, hints, deadline)
  local q, err, code = getaddrinfo(host, port, hints, r and r.ud)
  if q == false then   -- a name: the system's resolver is needed
    r, err, code = default()
    if not r then return nil, err, code end
    q, err, code = getaddrinfo(host, port, hints, r.ud)
  end
  if type(q) ~= "userdata" then return q, err, code end   -- numeric, or failed
  if r.own_hosts then
    local list = from_hosts(r, host, port, hints)
    if list then
      q:cancel()
      return list
    end
  end
  return finish(q, deadline)
end

-- resolver.reverse(r, host, deadline): getnameinfo through r.
function resolver.reverse(r, host, deadline)
  if r == nil then
    local err, code
    r, err, code = default()
    if not r then return nil, err, code end
  end
  local q, err, code = getnameinfo(host, r.ud)
  if not q then return nil, err, code end
  if r.own_hosts then
    local name = name_from_hosts(r, host)
    if name then
      q:cancel()
      return name
    end
  end
  return finish(q, deadline)
end

-- For s:connect(name, port): the address to dial, of the socket's family,
-- found without blocking; the socket's timeout bounds the lookup, except
-- a timeout of 0: that one is for the connect (a lookup cut short would
-- answer "timeout" on every call, and the socket never connect). An inet6
-- socket also reaches a name with only IPv4 addresses, through the mapped
-- address, as the system's resolver answers it (AI_V4MAPPED).
-- -> host, port | nil, msg, code
function resolver.address_for(sock, host, port)
  local family = core.sockfamily(sock)
  if family == "unix" then return host, port end
  local timeout = sock:gettimeout()
  if timeout == 0 then timeout = nil end
  local list, err, code = resolver.lookup(nil, host, port,
    { family = family ~= "inet6" and family or nil }, timeout and now() + timeout)
  if not list then return nil, err, code end
  for i = 1, #list do
    if list[i].family == family then return list[i].host, list[i].port end
  end
  if family == "inet6" and list[1] then return "::ffff:" .. list[1].host, list[1].port end
  return nil, "no address for " .. host, "EAI_NONAME"
end

-- hotline.getaddrinfo(host, port [, hints]) -> list of {family=, host=,
-- port=, socktype=} | nil, msg, "EAI_*": from /etc/hosts, then the
-- nameservers of /etc/resolv.conf. In a task only the task waits.
function resolver.getaddrinfo(host, port, hints)
  return resolver.lookup(nil, host, port, hints, nil)
end

-- hotline.getnameinfo(host) -> the name of numeric address host.
function resolver.getnameinfo(host)
  return resolver.reverse(nil, host, nil)
end

function Resolver:getaddrinfo(host, port, hints)
  check_self(self, "getaddrinfo")
  return resolver.lookup(self, host, port, hints, nil)
end

function Resolver:getnameinfo(host)
  check_self(self, "getnameinfo")
  return resolver.reverse(self, host, nil)
end

function Resolver.__tostring()
  return "hotline.resolver"
end

-- Whether x is a resolver (for the options of connect and listen).
function resolver.is(x)
  return getmetatable(x) == Resolver
end

local function bad(message)
  error("bad argument #1 to 'resolver' (" .. message .. ")", 3)
end

local options = { nameservers = true, timeout = true, attempts = true, hosts = true }

-- hotline.resolver{ nameservers = {"127.0.0.1:5353", "[::1]:53", ...},
-- timeout = seconds per try, attempts = tries per server, hosts = path
-- (false: none) } -> resolver | nil, msg, code. What is left out comes
-- from /etc/resolv.conf and /etc/hosts.
function resolver.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then bad("table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not options[k] then bad("invalid option '" .. tostring(k) .. "'") end
  end
  local servers = opts.nameservers
  if servers ~= nil then
    if type(servers) ~= "table" or not servers[1] then
      bad("nameservers must be a non-empty list of strings")
    end
    for i = 1, #servers do
      local s = servers[i]
      if type(s) ~= "string" or s == "" or s:find("[,%s%z]") then
        bad("nameservers[" .. i .. "] must be an address, with a port if need be")
      end
    end
    servers = table.concat(servers, ",")
  end
  local timeout, attempts, hosts = opts.timeout, opts.attempts, opts.hosts
  if timeout ~= nil and not (type(timeout) == "number" and timeout > 0 and timeout < 1e6) then
    bad("timeout must be a positive number of seconds")
  end
  if attempts ~= nil and not (type(attempts) == "number" and attempts >= 1
                              and attempts <= 100 and attempts % 1 == 0) then
    bad("attempts must be a whole number from 1 to 100")
  end
  if hosts ~= nil and hosts ~= false and type(hosts) ~= "string" then
    bad("hosts must be a path or false")
  end
  if timeout == nil or attempts == nil then
    local t, a = system_options()
    timeout, attempts = timeout or t, attempts or a
  end
  local ud, err, code = core.resolver(servers, timeout, attempts, hosts ~= nil)
  if not ud then return nil, err, code end
  -- own_hosts: c-ares reads no hosts file; the file (if any) and the
  -- loopback answer for localhost come from here
  return setmetatable({ ud = ud, hosts = hosts or nil, own_hosts = hosts ~= nil }, Resolver)
end

return resolver
