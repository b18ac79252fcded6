-- hotline.luasocket.tcp: LuaSocket's TCP objects (tcp{master},
-- tcp{client}, tcp{server}) and the tcp/tcp4/tcp6, bind and connect
-- functions of the socket table.
--
-- A master made by tcp() has no descriptor until bind or connect learns
-- the address family (LuaSocket 3 does the same); tcp4/tcp6 make one at
-- once. Every method is in every class, as in LuaSocket; a method used in
-- the wrong state raises.
-- SPDX-License-Identifier: MIT

local base = require "hotline.luasocket.base"
local stream = require "hotline.luasocket.stream"

local fail, arm, check_kind = base.fail, base.arm, stream.check_kind
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running
local type = type

local tcp = {}

local methods = {
  receive = stream.receive, send = stream.send, shutdown = stream.shutdown,
  listen = stream.listen, accept = stream.accept,
  settimeout = base.settimeout, gettimeout = base.gettimeout,
  getstats = base.getstats, setstats = base.setstats, getfd = base.getfd,
  setfd = base.setfd, dirty = base.dirty, close = base.close,
  setoption = base.setoption, getoption = base.getoption,
}

-- Makes the master's descriptor for family if it has none yet.
local function ensure_socket(self, family)
  return base.ensure_socket(self, family, "stream")
end

-- An address is a string (a name or a numeric address) or a number.
local function check_address(address, fname)
  local t = type(address)
  if t ~= "string" and t ~= "number" then
    base.argerror(2, fname, "string expected, got " .. t, 4)
  end
  return address
end

local function check_port(port, fname)
  local n = tonumber(port)
  if not n then base.argerror(3, fname, "number expected, got " .. type(port), 4) end
  return n
end

-- master:bind(address, port) -> 1 | nil, err. address "*": any.
function methods.bind(self, address, port)
  check_kind(self, "master", "bind")
  if self.sock == false then return nil, "closed" end
  port = check_port(port, "bind")
  local addrs, err = base.resolve(check_address(address, "bind"), port, self.family)
  if not addrs then return nil, err end
  local ok
  for i = 1, #addrs do
    ok, err = ensure_socket(self, addrs[i].family)
    if ok and self.family == addrs[i].family then
      local code
      ok, err, code = self.sock:bind(addrs[i].host, addrs[i].port)
      if ok then return 1 end
      err = select(2, fail(err, code))
    end
  end
  return nil, err or "host not found"
end

-- master:connect(address, port) -> 1 | nil, err; the master becomes a
-- client. Each address of the name is tried in turn.
function methods.connect(self, address, port)
  if FORWARDING and nested[coroutine_running()] then
    return forward(methods.connect, self, address, port)
  end
  -- a client too: after a connect that timed out, asking again is how
  -- LuaSocket's users learn that it completed
  if type(self) ~= "table" or self.kind ~= "client" then check_kind(self, "master", "connect") end
  if self.sock == false then return nil, "closed" end
  port = check_port(port, "connect")
  local addrs, err = base.resolve(check_address(address, "connect"), port, self.family)
  if not addrs then return nil, err end
  local deadline = self.total and base.deadline(self)
  local fresh = self.sock == nil
  for i = 1, #addrs do
    local addr = addrs[i]
    local ok = ensure_socket(self, addr.family)
    if ok and self.family == addr.family then
      arm(self, self.sock, deadline)
      local code
      ok, err, code = self.sock:connect(addr.host, addr.port)
      if ok then
        base.become(self, self.classes.client)
        return 1
      end
      err = select(2, fail(err, code))
      if err == "timeout" then
        -- still connecting: a client now (as in LuaSocket), so that
        -- select can wait for it to become writable and send follow
        base.become(self, self.classes.client)
        return nil, err
      end
      if fresh then    -- a failed connect spoils the descriptor: start over
        base.forget(self.sock)
        self.sock:close()
        self.sock, self.family, self.hto = nil, nil, false
      end
    end
  end
  return nil, err
end
methods.setpeername = methods.connect
methods.setsockname = methods.bind

-- -> ip, port, family ("inet", "inet6") | nil, err
function methods.getsockname(self)
  local sock = self.sock
  if not sock then return nil, "closed" end
  local host, port = sock:getsockname()
  if not host then return fail(port) end
  return host, port, self.family
end

function methods.getpeername(self)
  check_kind(self, "client", "getpeername")
  local sock = self.sock
  if not sock then return nil, "closed" end
  local host, port, code = sock:getpeername()
  if not host then return fail(port, code) end
  return host, port, self.family
end

function methods.getfamily(self)
  return base.family_name(self.family)
end

local classes = {}
classes.master = base.class("tcp{master}", methods,
  { kind = "master", prefix = "tcp", classes = classes })
classes.client = base.class("tcp{client}", methods,
  { kind = "client", prefix = "tcp", classes = classes })
classes.server = base.class("tcp{server}", methods,
  { kind = "server", prefix = "tcp", classes = classes })
tcp.classes = classes

-- A master of family (nil: decided by bind or connect).
local function master(family)
  local self = base.new(classes.master, nil, nil)
  if family then
    local ok, err = ensure_socket(self, family)
    if not ok then return nil, err end
  end
  return self
end

function tcp.tcp() return master(nil) end
function tcp.tcp4() return master("inet") end
function tcp.tcp6() return master("inet6") end

-- socket.bind(address, port [, backlog]) -> a server | nil, err; with
-- reuseaddr on, trying each address of the name.
function tcp.bind(address, port, backlog)
  port = check_port(port, "bind")
  local addrs, err = base.resolve(check_address(address, "bind"), port, nil)
  if not addrs then return nil, err end
  for i = 1, #addrs do
    local server
    server, err = master(addrs[i].family)
    if not server then return nil, err end
    server:setoption("reuseaddr", true)
    local ok
    ok, err = server:bind(addrs[i].host, addrs[i].port)
    if ok then ok, err = server:listen(backlog) end
    if ok then return server end
    server:close()
  end
  return nil, err
end

-- socket.connect(address, port [, locaddr [, locport [, family]]])
-- -> a client | nil, err
function tcp.connect(address, port, locaddr, locport, family)
  if FORWARDING and nested[coroutine_running()] then
    return forward(tcp.connect, address, port, locaddr, locport, family)
  end
  if family == "inet4" then family = "inet" end
  local self, err = master(family)
  if not self then return nil, err end
  if locaddr then
    local ok
    ok, err = self:bind(locaddr, locport or 0)
    if not ok then
      self:close()
      return nil, err
    end
  end
  local ok
  ok, err = self:connect(address, port)
  if not ok then
    self:close()
    return nil, err
  end
  return self
end

return tcp
