-- hotline.luasocket.udp: LuaSocket's datagram objects, udp{unconnected}
-- and udp{connected} (and, with family "unix", unixdgram{...} for
-- hotline.luasocket.unix), and the udp/udp4/udp6 functions.
--
-- udp() makes its descriptor when the first address tells the family.
-- setpeername("*") makes a connected object unconnected again: hotline
-- has no way to dissolve a connection, so the descriptor is replaced by a
-- new one bound to the same local address.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local base = require "hotline.luasocket.base"

local fail, arm, argerror = base.fail, base.arm, base.argerror
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running
local type, tostring = type, tostring

local DATAGRAMSIZE = 8192

local udp = { DATAGRAMSIZE = DATAGRAMSIZE }

local function check_state(self, state, fname)
  if type(self) ~= "table" or self.state ~= state then
    local is_table = type(self) == "table"
    local got = is_table and self.class or type(self)
    local prefix = is_table and self.prefix or "udp"
    argerror(1, fname, prefix .. "{" .. state .. "} expected, got " .. tostring(got), 4)
  end
end

local function ensure_socket(self, family)
  return base.ensure_socket(self, family, "dgram")
end

-- The first address of host, port for this object: -> host, port | nil, err
local function address(self, host, port, fname)
  if self.family == "unix" or (self.prefix == "unixdgram") then
    if type(host) ~= "string" then argerror(2, fname, "string expected, got " .. type(host), 5) end
    return host
  end
  local n = tonumber(port)
  if not n then argerror(3, fname, "number expected, got " .. type(port), 5) end
  if type(host) ~= "string" and type(host) ~= "number" then
    argerror(2, fname, "string expected, got " .. type(host), 5)
  end
  local addrs, err = base.resolve(host, n, self.family, "dgram")
  if not addrs then return nil, err end
  local ok
  ok, err = ensure_socket(self, addrs[1].family)
  if not ok then return nil, err end
  return addrs[1].host, addrs[1].port
end

local methods = {
  settimeout = base.settimeout, gettimeout = base.gettimeout,
  getfd = base.getfd, setfd = base.setfd, close = base.close,
  setoption = base.setoption, getoption = base.getoption,
}

function methods.dirty() return false end

function methods.getfamily(self)
  return base.family_name(self.family)
end

-- setsockname(address, port) -> 1 | nil, err
function methods.setsockname(self, host, port)
  check_state(self, "unconnected", "setsockname")
  if self.sock == false then return nil, "closed" end
  local h, p = address(self, host, port, "setsockname")
  if not h then return nil, p end
  local ok, err, code = self.sock:bind(h, p)
  if not ok then return fail(err, code) end
  return 1
end

-- Replaces the descriptor by an unconnected one with the same name.
local function disconnect(self)
  local sock = self.sock
  local host, port = sock:getsockname()
  local fresh, err, code = core.socket(self.family, "dgram")
  if not fresh then return fail(err, code) end
  if self.family ~= "unix" then fresh:setoption("reuseaddr", true) end
  base.forget(sock)
  sock:close()
  self.sock, self.hto = fresh, false
  base.epoch = base.epoch + 1     -- select's watch sets: a new socket
  if host and host ~= "(unnamed)" and host ~= "" then fresh:bind(host, port) end
  return true
end

-- setpeername(address, port) connects; setpeername("*") disconnects.
function methods.setpeername(self, host, port)
  if self.sock == false then return nil, "closed" end
  if host == "*" and self.state == "connected" then
    local ok, err = disconnect(self)
    if not ok then return nil, err end
    base.become(self, self.classes.unconnected)
    return 1
  end
  -- a connected object may move to another peer (connect(2) allows it)
  if type(self) ~= "table" or self.state ~= "connected" then
    check_state(self, "unconnected", "setpeername")
  end
  local h, p = address(self, host, port, "setpeername")
  if not h then return nil, p end
  local ok, err, code = self.sock:connect(h, p)
  if not ok then return fail(err, code) end
  base.become(self, self.classes.connected)
  return 1
end

function methods.getsockname(self)
  local sock = self.sock
  if not sock then return nil, "closed" end
  local host, port = sock:getsockname()
  if self.family == "unix" then return host end
  return host, port, self.family
end

function methods.getpeername(self)
  check_state(self, "connected", "getpeername")
  local sock = self.sock
  if not sock then return nil, "closed" end
  local host, port, code = sock:getpeername()
  if not host then return fail(port, code) end
  if self.family == "unix" then return host end
  return host, port, self.family
end

local function check_size(size, fname)
  if size == nil then return DATAGRAMSIZE end
  local n = tonumber(size)
  if not n or n < 0 then argerror(2, fname, "invalid receive size", 4) end
  return n - n % 1
end

-- receive([size]) -> datagram | nil, err
function methods.receive(self, size)
  if FORWARDING and nested[coroutine_running()] then
    return forward(methods.receive, self, size)
  end
  size = check_size(size, "receive")
  local sock = self.sock
  if not sock then return nil, "closed" end
  arm(self, sock, self.total and base.deadline(self))
  local data, err, code = sock:recvfrom(size)
  if not data then return fail(err, code) end
  return data
end

-- receivefrom([size]) -> datagram, ip, port (path for unix) | nil, err
function methods.receivefrom(self, size)
  if FORWARDING and nested[coroutine_running()] then
    return forward(methods.receivefrom, self, size)
  end
  check_state(self, "unconnected", "receivefrom")
  size = check_size(size, "receivefrom")
  local sock = self.sock
  if not sock then return nil, "closed" end
  arm(self, sock, self.total and base.deadline(self))
  local data, host, port = sock:recvfrom(size)
  if not data then return fail(host, port) end
  return data, host, port
end

local function check_data(data, fname)
  if type(data) == "number" then return tostring(data) end
  if type(data) ~= "string" then argerror(2, fname, "string expected, got " .. type(data), 4) end
  return data
end

-- send(datagram) -> bytes sent | nil, err
function methods.send(self, data)
  if FORWARDING and nested[coroutine_running()] then
    return forward(methods.send, self, data)
  end
  check_state(self, "connected", "send")
  data = check_data(data, "send")
  local sock = self.sock
  if not sock then return nil, "closed" end
  arm(self, sock, self.total and base.deadline(self))
  local sent, err, code = sock:send(data)
  if not sent then return fail(err, code) end
  return sent
end

-- sendto(datagram, ip, port) -> bytes sent | nil, err
function methods.sendto(self, data, host, port)
  if FORWARDING and nested[coroutine_running()] then
    return forward(methods.sendto, self, data, host, port)
  end
  check_state(self, "unconnected", "sendto")
  data = check_data(data, "sendto")
  if self.sock == false then return nil, "closed" end
  local h, p = address(self, host, port, "sendto")
  if not h then return nil, p end
  local sock = self.sock
  arm(self, sock, self.total and base.deadline(self))
  local sent, err, code
  if p then
    sent, err, code = sock:sendto(data, h, p)
  else
    sent, err, code = sock:sendto(data, h)
  end
  if not sent then return fail(err, code) end
  return sent
end

-- The two classes of prefix ("udp", "unixdgram").
function udp.classes(prefix, extra)
  local all = {}
  for k, v in pairs(methods) do all[k] = v end
  for k, v in pairs(extra or {}) do all[k] = v end
  local classes = {}
  classes.unconnected = base.class(prefix .. "{unconnected}", all,
    { state = "unconnected", prefix = prefix, classes = classes })
  classes.connected = base.class(prefix .. "{connected}", all,
    { state = "connected", prefix = prefix, classes = classes })
  return classes
end

local classes = udp.classes("udp")

-- A new unconnected object of classes for family (nil: decided later).
function udp.new(cls, family)
  local self = base.new(cls.unconnected, nil, nil)
  if family then
    local ok, err = ensure_socket(self, family)
    if not ok then return nil, err end
  end
  return self
end

function udp.udp() return udp.new(classes, nil) end
function udp.udp4() return udp.new(classes, "inet") end
function udp.udp6() return udp.new(classes, "inet6") end

return udp
