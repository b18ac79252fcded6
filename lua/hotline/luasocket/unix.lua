-- hotline.luasocket.unix: LuaSocket's socket.unix module on hotline:
-- unix() and unix.stream() make a unixstream{master}, unix.dgram() a
-- unixdgram{unconnected}; addresses are paths. The objects share the
-- TCP and UDP objects' methods (stream.lua, udp.lua).
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local base = require "hotline.luasocket.base"
local stream = require "hotline.luasocket.stream"
local udp = require "hotline.luasocket.udp"

local fail, arm, check_kind = base.fail, base.arm, stream.check_kind
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running
local type, setmetatable = type, setmetatable

local function check_path(path, fname)
  if type(path) ~= "string" then
    base.argerror(2, fname, "string expected, got " .. type(path), 4)
  end
end

local methods = {
  receive = stream.receive, send = stream.send, shutdown = stream.shutdown,
  listen = stream.listen, accept = stream.accept,
  settimeout = base.settimeout, gettimeout = base.gettimeout,
  getstats = base.getstats, setstats = base.setstats, getfd = base.getfd,
  setfd = base.setfd, dirty = base.dirty, close = base.close,
  setoption = base.setoption, getoption = base.getoption,
}

function methods.bind(self, path)
  check_kind(self, "master", "bind")
  check_path(path, "bind")
  local sock = self.sock
  if not sock then return nil, "closed" end
  local ok, err, code = sock:bind(path)
  if not ok then return fail(err, code) end
  return 1
end

function methods.connect(self, path)
  if FORWARDING and nested[coroutine_running()] then
    return forward(methods.connect, self, path)
  end
  check_kind(self, "master", "connect")
  check_path(path, "connect")
  local sock = self.sock
  if not sock then return nil, "closed" end
  arm(self, sock, self.total and base.deadline(self))
  local ok, err, code = sock:connect(path)
  if not ok then return fail(err, code) end
  base.become(self, self.classes.client)
  return 1
end
methods.setpeername = methods.connect
methods.setsockname = methods.bind

function methods.getsockname(self)
  local sock = self.sock
  if not sock then return nil, "closed" end
  return (sock:getsockname())
end

function methods.getpeername(self)
  check_kind(self, "client", "getpeername")
  local sock = self.sock
  if not sock then return nil, "closed" end
  local path, err, code = sock:getpeername()
  if not path then return fail(err, code) end
  return path
end

local classes = {}
for _, kind in ipairs({ "master", "client", "server" }) do
  classes[kind] = base.class("unixstream{" .. kind .. "}", methods,
    { kind = kind, prefix = "unixstream", classes = classes })
end

local dgram_classes = udp.classes("unixdgram", {
  bind = function(self, path)
    return self:setsockname(path)
  end,
  connect = function(self, path)
    return self:setpeername(path)
  end,
})

local unix = {}

-- unix.stream() -> a unixstream{master} | nil, err
function unix.stream()
  local sock, err, code = core.socket("unix", "stream")
  if not sock then return fail(err, code) end
  return base.new(classes.master, sock, "unix")
end

-- unix.dgram() -> a unixdgram{unconnected} | nil, err
function unix.dgram()
  return udp.new(dgram_classes, "unix")
end

unix.tcp, unix.udp = unix.stream, unix.dgram

return setmetatable(unix, {
  __call = function(_, ...) return unix.stream(...) end,
})
