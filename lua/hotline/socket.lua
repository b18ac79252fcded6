-- hotline.socket: the socket methods that may wait, and listen/connect.
--
-- The C module hotline.core provides the socket object; its calls that can
-- block (accept, connect, read, write, recv, send, recvfrom, sendto) only
-- try, and answer nil, "wantread" or nil, "wantwrite" when they would have
-- to wait. This file wraps each of them: the wrapper tries once and, if it
-- must wait, waits at the one wait point (hotline.loop.await: a yield inside
-- a task, a blocking poll outside) and tries again, within the socket's
-- timeout. The wrappers replace the primitives in the socket's methods.

local core = require "hotline.core"
local loop = require "hotline.loop"
local resolver = require "hotline.resolver"
local eyeballs = require "hotline.eyeballs"
local tls = require "hotline.tls"

local now, await, write_from = core.monotime, loop.await, core.write_from
local select, type, error = select, type, error
local unpack = table.unpack or unpack -- luacheck: compat

local methods = core.metatable.__index
local WANTREAD, WANTWRITE = "wantread", "wantwrite"

-- nil, err [, code]: a failure with no trailing nil when there is no code.
local function failure(err, code)
  if code == nil then return nil, err end
  return nil, err, code
end

-- The deadline of a call that has to wait, from the socket's timeout that
-- the primitive handed back with its "want": nil for no limit, or false
-- when the timeout is 0 (never wait).
local function deadline_of(timeout)
  if timeout == 0 then return false end
  return timeout and now() + timeout
end

-- Waits for want, calls primitive(sock, a, b, c) again, and so on until it
-- stops asking to wait or the socket's timeout is spent (loop.await does
-- it; a tail call, so the wrapper's frame is gone while the task waits).
local function retry(sock, want, timeout, primitive, a, b, c)
  local deadline = deadline_of(timeout)
  if deadline == false then return nil, "timeout", "ETIMEDOUT" end
  return await(sock, want, deadline, primitive, a, b, c)
end

-- Each wrapper calls its primitive through a local of the method's own
-- name, so that an argument error raised in C names the method.
local accept, connect, recv, send = methods.accept, methods.connect, methods.recv, methods.send
local recvfrom, sendto, read, write = methods.recvfrom, methods.sendto, methods.read, methods.write
local close = methods.close

function methods.accept(sock)
  local client, err, code = accept(sock)
  if client then return client end
  if err == WANTREAD then return retry(sock, err, code, accept) end
  return failure(err, code)
end

function methods.connect(sock, host, port)
  -- any host that is not an address written out is a name, looked up
  -- without blocking (a guess from its letters let "1-2.test", "[::1]" or
  -- a port given as a string reach the system's resolver, which blocks)
  if type(host) == "string" and (type(port) == "number" or type(port) == "string")
      and core.type(sock) == "socket" and core.isname(host) then
    local err, code
    host, err, code = resolver.address_for(sock, host, port)
    if not host then return failure(err, code) end
    port = err
  end
  local ok, err, code = connect(sock, host, port)
  if ok then return ok end
  if err == WANTWRITE then return retry(sock, err, code, connect, host, port) end
  return failure(err, code)
end

function methods.recv(sock, n)
  local data, err, code = recv(sock, n)
  if data then return data end
  if err == WANTREAD or err == WANTWRITE then return retry(sock, err, code, recv, n) end
  return failure(err, code)
end

function methods.send(sock, data, i, j)
  local sent, err, code = send(sock, data, i, j)
  if sent then return sent end
  if err == WANTWRITE or err == WANTREAD then return retry(sock, err, code, send, data, i, j) end
  return failure(err, code)
end

function methods.recvfrom(sock, n)
  local data, host, port = recvfrom(sock, n)
  if data then return data, host, port end
  if host == WANTREAD then return retry(sock, host, port, recvfrom, n) end
  return failure(host, port)
end

function methods.sendto(sock, data, host, port)
  local sent, err, code = sendto(sock, data, host, port)
  if sent then return sent end
  if err == WANTWRITE then return retry(sock, err, code, sendto, data, host, port) end
  return failure(err, code)
end

-- Several formats: results of any number, kept in a table (rare path).
local function pack(...)
  return { n = select("#", ...), ... }
end

local function read_many(sock, ...)
  local formats = pack(...)
  local results = pack(read(sock, ...))
  if results[1] == nil and (results[2] == WANTREAD or results[2] == WANTWRITE) then
    local deadline = deadline_of(results[3])
    if deadline == false then return nil, "timeout", "ETIMEDOUT" end
    repeat
      local ok, err, code = await(sock, results[2], deadline)
      if not ok then return failure(err, code) end
      results = pack(read(sock, unpack(formats, 1, formats.n)))
    until results[1] ~= nil or (results[2] ~= WANTREAD and results[2] ~= WANTWRITE)
  end
  return unpack(results, 1, results.n)
end

function methods.read(sock, format, ...)
  if ... ~= nil then return read_many(sock, format, ...) end
  local data, err, code = read(sock, format)
  if data then return data end
  if err == WANTREAD or err == WANTWRITE then return retry(sock, err, code, read, format) end
  return failure(err, code)
end

-- write resumes after the bytes already sent, so a wait never repeats or
-- loses any: -> sock | nil, msg, code, bytes sent. (Over TLS a write may
-- want to read first.)
local function write_rest(sock, want, timeout, sent, ...)
  local deadline = deadline_of(timeout)
  if deadline == false then return nil, "timeout", "ETIMEDOUT", sent end
  while true do
    local ok, err, code = await(sock, want, deadline)
    if not ok then return nil, err, code, sent end
    local done, more
    done, err, code, more = write_from(sock, sent, ...)
    if done then return done end
    if err ~= WANTWRITE and err ~= WANTREAD then return nil, err, code, more end
    want, sent = err, more
  end
end

function methods.write(sock, ...)
  local done, err, code, sent = write(sock, ...)
  if done then return done end
  if err == WANTWRITE or err == WANTREAD then return write_rest(sock, err, code, sent, ...) end
  return nil, err, code, sent
end

-- Closing wakes the tasks waiting on the socket (they get nil, "closed").
function methods.close(sock)
  if core.type(sock) == "socket" then loop.release(sock) end
  return close(sock)
end
core.metatable.__close = methods.close   -- Lua 5.4: local s <close> = ...

local socket = {}

-- The C calls themselves, which only try: for a layer that knows its
-- call must not wait (hotline.luasocket with a timeout of 0).
socket.try_recv, socket.try_send, socket.try_accept = recv, send, accept

local function check_opts(opts, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error("bad argument #3 to '" .. fname .. "' (table expected, got " .. type(opts) .. ")", 3)
  end
  if opts.resolver ~= nil and not resolver.is(opts.resolver) then
    error("bad argument #3 to '" .. fname .. "' (opts.resolver must be a hotline.resolver)", 3)
  end
  return opts
end

-- hotline.listen(host, port [, opts]) -> a listening TCP socket, with
-- reuseaddr on. host "*" is every interface; hotline.listen(path) listens
-- on a unix socket. opts: backlog, reuseport, family ("inet", "inet6"),
-- resolver (for a name). -> sock | nil, msg, code
function socket.listen(host, port, opts)
  opts = check_opts(opts, "listen")
  local family = opts.family
  if port == nil then
    family = "unix"
  elseif host ~= "*" then
    local addrs, err, code = resolver.lookup(opts.resolver, host, port, { family = family })
    if not addrs then return nil, err, code end
    if not addrs[1] then return nil, "no address for " .. tostring(host), "EAI_NONAME" end
    host, family = addrs[1].host, addrs[1].family
  end
  local sock, err, code = core.socket(family or "inet", "stream")
  if not sock then return nil, err, code end
  local ok = true
  if family ~= "unix" then ok, err, code = sock:setoption("reuseaddr", true) end
  if ok and opts.reuseport then ok, err, code = sock:setoption("reuseport", true) end
  if ok then ok, err, code = sock:bind(host, port) end
  if ok then ok, err, code = sock:listen(opts.backlog) end
  if not ok then
    sock:close()
    return nil, err, code
  end
  return sock
end

-- hotline.connect(host, port [, opts]) -> a connected TCP socket. Tries
-- the addresses of host as Happy Eyeballs does (hotline/eyeballs.lua):
-- the next starts after opts.attempt_delay (0.25 s) without the first
-- giving up. opts.timeout bounds the whole call, lookup and TLS handshake
-- included; opts.family limits the addresses, opts.resolver resolves the
-- name; opts.tls (true, options or a context: hotline.tls) adds TLS.
-- hotline.connect(path) dials a unix socket. -> sock | nil, msg, code
function socket.connect(host, port, opts)
  opts = check_opts(opts, "connect")
  local deadline = opts.timeout and now() + opts.timeout
  local delay = opts.attempt_delay
  if delay ~= nil and not (type(delay) == "number" and delay >= 0 and delay < 1e6) then
    error("bad argument #3 to 'connect' (opts.attempt_delay must be a number of seconds)", 2)
  end
  local addrs
  if port == nil and opts.family == nil then
    addrs = { { family = "unix", host = host } }
  else
    local err, code
    addrs, err, code = resolver.lookup(opts.resolver, host, port, { family = opts.family },
                                       deadline)
    if not addrs then return nil, err, code end
  end
  local sock, err, code = eyeballs.connect(addrs, deadline, delay)
  if not sock then return nil, err, code end
  if opts.tls then return tls.client(sock, port ~= nil and host or nil, opts.tls, deadline) end
  return sock
end

return socket
