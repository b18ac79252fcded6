-- hotline.luasocket.base: what every LuaSocket-style object shares.
--
-- Objects are Lua tables over a hotline socket (field sock; false once
-- closed, nil while a master has no descriptor yet), one metatable per
-- LuaSocket class ("tcp{client}", ...), so a state change is a
-- setmetatable. Timeouts: LuaSocket's block timeout limits each wait, its
-- total timeout the whole call; both become the hotline socket's own
-- timeout before each primitive, which then waits in loop.await. On Lua
-- 5.1 a protected call runs in a coroutine of its own (see protect.lua);
-- a call that may wait made there is handed to the task to run (forward).
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"
local core = require "hotline.core"

local now = core.monotime
local type, error, tostring, setmetatable = type, error, tostring, setmetatable
local coroutine_running, coroutine_yield = coroutine.running, coroutine.yield

local base = {}

-- Lua 5.1 (not LuaJIT) cannot yield across pcall: protect runs its
-- function in a coroutine there, and calls that wait are forwarded.
base.FORWARDING = _VERSION == "Lua 5.1" and not rawget(_G, "jit")

-- coroutine -> true while protect runs a function in it for a task
base.nested = setmetatable({}, { __mode = "k" })
base.FORWARD = {}   -- what a forwarded call yields first

-- Whether the running coroutine is a 5.1 protect coroutine.
function base.is_nested()
  return base.nested[coroutine_running()] == true
end

-- Runs fn(...) in the task that runs this protect coroutine; -> its results.
function base.forward(fn, ...)
  return coroutine_yield(base.FORWARD, fn, ...)
end

-- LuaSocket's wording for the errors its users compare against.
local MESSAGES = {
  ECONNRESET = "closed", ECONNABORTED = "closed", EPIPE = "closed",
  ETIMEDOUT = "timeout", EISCONN = "already connected",
  EADDRINUSE = "address already in use", EACCES = "permission denied",
  EAFNOSUPPORT = "address family not supported",
  EAI_NONAME = "host not found", EAI_FAIL = "host not found",
  EAI_NODATA = "host not found", EAI_AGAIN = "temporary failure in name resolution",
}

-- nil, message as LuaSocket words it, from hotline's nil, message, code.
function base.fail(err, code)
  return nil, code and MESSAGES[code] or err
end

local function argerror(n, fname, msg, level)
  error("bad argument #" .. n .. " to '" .. fname .. "' (" .. msg .. ")", level or 3)
end
base.argerror = argerror

-- Classes ---------------------------------------------------------------

-- An object dropped without close lets go of its socket, as LuaSocket's
-- do: select's watch sets hold the socket (not the object), so it has to
-- leave them first, or it would stay open for ever. pcall: at exit the
-- socket or the watch set may have been finalized already.
local function finalize(self)
  local sock = rawget(self, "sock")
  if sock then
    pcall(base.forget, sock)
    pcall(sock.close, sock)
  end
end

-- Lua 5.1 and LuaJIT have no __gc for tables: a proxy carries it.
local newproxy = rawget(_G, "newproxy")

-- base.class(name, methods [, fields]) -> a metatable for objects of
-- class name, whose __index holds methods, fields and the class field.
function base.class(name, methods, fields)
  local index = { class = name }
  for k, v in pairs(methods) do index[k] = v end
  for k, v in pairs(fields or {}) do index[k] = v end
  return {
    __index = index,
    __name = name,
    __gc = finalize,
    __tostring = function(self)
      return string.format("%s: 0x%08x", name, self.id)
    end,
  }
end

local serial = 0
-- A new object of metatable mt over sock (nil: a master not yet bound).
function base.new(mt, sock, family)
  serial = serial + 1
  -- block, total (timeouts) and hto (the socket's): false for none. Every
  -- field the calls read is the object's own, so reading it never goes
  -- through the class's __index
  local self = setmetatable({
    sock = sock, family = family, id = serial, buf = "", bpos = 1,
    rx = 0, tx = 0, birth = now(), block = false, total = false, hto = false,
    kind = mt.__index.kind, state = mt.__index.state,
  }, mt)
  if newproxy then
    local proxy = newproxy(true)
    getmetatable(proxy).__gc = function() finalize(self) end
    self.gcproxy = proxy
  end
  return self
end

-- Moves self to the class of metatable mt (a state change).
function base.become(self, mt)
  setmetatable(self, mt)
  self.kind, self.state = mt.__index.kind, mt.__index.state
end

-- Timeouts ---------------------------------------------------------------

-- settimeout(value [, mode]): mode "b" (default) limits each wait, "t"
-- (or "r") the whole call; nil or a negative value removes the limit.
function base.settimeout(self, value, mode)
  if value ~= nil and type(value) ~= "number" then
    value = tonumber(value)
    if value == nil then argerror(2, "settimeout", "number expected") end
  end
  if value ~= value then argerror(2, "settimeout", "number expected, got nan") end
  if value == nil or value < 0 then value = false end
  mode = mode or "b"
  if mode == "b" then
    self.block = value
  elseif mode == "t" or mode == "r" then
    self.total = value
  else
    argerror(3, "settimeout", "invalid timeout mode")
  end
  return 1
end

function base.gettimeout(self)
  return self.block or -1, self.total or -1
end

-- The deadline of a call under the total timeout: nil for none.
function base.deadline(self)
  local total = self.total
  return total and now() + total
end

-- Sets the hotline socket's timeout for one wait: the block timeout, cut
-- to what is left before deadline.
function base.arm(self, sock, deadline)
  local t = self.block
  if deadline then
    local left = deadline - now()
    if left < 0 then left = 0 end
    if not t or left < t then t = left end
  end
  if t ~= self.hto then
    sock:settimeout(t or nil)
    self.hto = t
  end
end

-- Stats, descriptors -------------------------------------------------------

function base.getstats(self)
  return self.rx, self.tx, now() - self.birth
end

function base.setstats(self, received, sent, age)
  if received then self.rx = received end
  if sent then self.tx = sent end
  if age then self.birth = now() - age end
  return 1
end

function base.getfd(self)
  local sock = self.sock
  if not sock then return -1 end
  return sock:fileno()
end

-- hotline owns its descriptors; setfd only accepts the one it has, or -1
-- to let go of it without closing (as LuaSocket allows).
function base.setfd(self, fd)
  if fd == -1 then
    self.sock = false
    base.epoch = base.epoch + 1
    return
  end
  if fd ~= base.getfd(self) then
    error("hotline.luasocket: setfd cannot adopt another descriptor", 2)
  end
end

function base.dirty(self)
  return self.bpos <= #self.buf
end

-- Set by watch.lua: takes a socket out of select's watch sets.
function base.forget() end

-- Counts the changes of an object's socket other than a close (a master
-- getting its descriptor, setfd(-1)): select's copied watch sets start
-- again when it moves.
base.epoch = 0

function base.close(self)
  local sock = self.sock
  if sock then
    base.forget(sock)
    sock:close()
  end
  self.sock = false
  self.buf, self.bpos = "", 1
  return 1
end

-- Options ------------------------------------------------------------------

-- LuaSocket's option names -> hotline's.
local OPTIONS = {
  ["tcp-nodelay"] = "nodelay", keepalive = "keepalive", linger = "linger",
  reuseaddr = "reuseaddr", reuseport = "reuseport", ["ipv6-v6only"] = "ipv6only",
  broadcast = "broadcast", ["recv-buffer-size"] = "rcvbuf",
  ["send-buffer-size"] = "sndbuf",
}

local function option_name(name, fname)
  local mapped = OPTIONS[name]
  if not mapped then argerror(2, fname, "unsupported option '" .. tostring(name) .. "'", 4) end
  return mapped
end

-- A master without a descriptor keeps options until it gets one.
function base.setoption(self, name, value)
  local opt = option_name(name, "setoption")
  if opt == "linger" then
    if type(value) ~= "table" then argerror(3, "setoption", "table expected", 3) end
    value = value.on and (value.timeout or 0) or false
  elseif opt == "rcvbuf" or opt == "sndbuf" then
    value = tonumber(value)
  else
    value = value and true or false
  end
  local sock = self.sock
  if sock == false then return nil, "closed" end
  if sock == nil then
    self.pending = self.pending or {}
    self.pending[#self.pending + 1] = { opt, value }
    return 1
  end
  local ok, err, code = sock:setoption(opt, value)
  if not ok then return base.fail(err, code) end
  return 1
end

function base.getoption(self, name)
  local opt = option_name(name, "getoption")
  local sock = self.sock
  if not sock then return nil, "closed" end
  local value, err, code = sock:getoption(opt)
  if value == nil then return base.fail(err, code) end
  if opt == "linger" then
    return { on = value ~= false, timeout = value or 0 }
  end
  return value
end

-- Applies the options set before the descriptor existed.
function base.apply_pending(self)
  local pending = self.pending
  if not pending then return true end
  self.pending = nil
  for i = 1, #pending do
    local ok, err, code = self.sock:setoption(pending[i][1], pending[i][2])
    if not ok then return base.fail(err, code) end
  end
  return true
end

-- Gives an object made before its address family was known its socket
-- of socktype ("stream" or "dgram") for family, once. -> true | nil, err
function base.ensure_socket(self, family, socktype)
  if self.sock then return true end
  local sock, err, code = core.socket(family, socktype)
  if not sock then return base.fail(err, code) end
  -- LuaSocket makes every IPv6 socket IPv6-only (its options may undo it)
  if family == "inet6" then sock:setoption("ipv6only", true) end
  self.sock, self.family = sock, family
  base.epoch = base.epoch + 1
  return base.apply_pending(self)
end

-- Addresses -----------------------------------------------------------------

-- hotline.getaddrinfo through the public table, so a non-blocking
-- resolver put there is used. -> list | nil, LuaSocket's message
function base.resolve(host, port, family, socktype)
  if host == "*" then
    host = family == "inet6" and "::" or "0.0.0.0"
  end
  local addrs, err, code = hotline.getaddrinfo(host, port, { family = family, socktype = socktype })
  if not addrs then
    if code and code:match("^EAI_") then return nil, "host not found" end
    return base.fail(err, code)
  end
  if not addrs[1] then return nil, "host not found" end
  return addrs
end

function base.family_name(family)
  return family == "inet6" and "inet6" or "inet4"
end

return base
