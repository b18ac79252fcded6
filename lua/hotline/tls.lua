-- hotline.tls: TLS contexts, the client and server handshakes, starttls.
--
-- The C side (csrc/hl_tls.c) attaches an SSL to a socket and offers the
-- handshake as a primitive answering nil, "wantread"/"wantwrite" like the
-- others, so the handshake waits at the one wait point (loop.await); once
-- it is done, the socket's own read/write/recv/send speak TLS. Everywhere
-- TLS options are taken, `tls` may be true (verify against the system's
-- trust store), a table of options or a context from tls.context.

local core = require "hotline.core"
local loop = require "hotline.loop"

local type, error, tostring, pcall = type, error, tostring, pcall
local getmetatable, setmetatable = getmetatable, setmetatable
local now, await = core.monotime, loop.await
local wrap, handshake, settings = core.tls_wrap, core.tls_handshake, core.tls_settings

local tls = {}

local NOTLS, ENOTSUP = "hotline was built without TLS", "ENOTSUP"
local HANDSHAKE_TIMEOUT = 10   -- seconds a server gives a caller's handshake

local function failure(err, code)
  if code == nil then return nil, err end
  return nil, err, code
end

local function is_context(x)
  return core.tls and getmetatable(x) == core.tls_metatable
end

-- Contexts made from option tables, so that a table passed again (every
-- connect of a loop, say) does not read its files again.
local made = setmetatable({}, { __mode = "k" })
local default_client   -- tls = true

-- spec (true, a table or a context) -> context | nil, msg, code; raises
-- "bad argument #argn to 'fname' (...)" on misuse, at level (error's).
local function context_of(spec, fname, argn, level)
  if not core.tls then return nil, NOTLS, ENOTSUP end
  if is_context(spec) then return spec end
  local opts = spec
  if spec == true then
    if default_client then return default_client end
    opts = {}
  elseif type(spec) ~= "table" then
    error("bad argument #" .. argn .. " to '" .. fname .. "' (tls must be true, a table "
      .. "of options or a TLS context, got " .. type(spec) .. ")", level)
  elseif made[spec] then
    return made[spec]
  end
  local ok, ctx, err, code = pcall(core.tls_context, opts)
  if not ok then
    error("bad argument #" .. argn .. " to '" .. fname .. "' (" .. tostring(ctx) .. ")", level)
  end
  if not ctx then return nil, err, code end
  if spec == true then default_client = ctx else made[spec] = ctx end
  return ctx
end

-- hotline.tls.context([opts]) -> context | nil, msg, code: the options read
-- once (certificates, key, trust anchors), for any number of connections.
function tls.context(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'context' (table expected, got " .. type(opts) .. ")", 2)
  end
  if not core.tls then return nil, NOTLS, ENOTSUP end
  local ok, ctx, err, code = pcall(core.tls_context, opts)
  if not ok then error("bad argument #1 to 'context' (" .. tostring(ctx) .. ")", 2) end
  return ctx, err, code
end

-- Runs the handshake of a socket with TLS attached, until done or
-- deadline (nil: none). -> true | nil, msg, code
local function finish(sock, deadline)
  local ok, err, code = handshake(sock)
  if ok then return true end
  if err == "wantread" or err == "wantwrite" then
    return await(sock, err, deadline, handshake)
  end
  return failure(err, code)
end

-- Attaches TLS from ctx to sock and handshakes. -> sock | nil, msg, code
local function start(sock, ctx, server, host, deadline)
  local ok, err, code = wrap(sock, ctx, server, host)
  if ok then ok, err, code = finish(sock, deadline) end
  if ok then return sock end
  return failure(err, code)
end

-- For hotline.connect: sock is connected to host (nil for a unix socket);
-- spec is opts.tls; deadline the connect's. Closes sock on failure.
-- -> sock | nil, msg, code
function tls.client(sock, host, spec, deadline)
  local ok, ctx, err, code = pcall(context_of, spec, "connect", 3, 0)
  if ok and ctx then
    ctx, err, code = start(sock, ctx, false, host, deadline)
    if ctx then return sock end
  end
  sock:close()
  if not ok then error(ctx, 2) end
  return failure(err, code)
end

-- s:starttls([opts]) -> s | nil, msg, code: upgrades a connected socket
-- in place, as the client unless opts.server (or a context made with
-- server = true). The client checks opts.servername, else the peer's
-- address. The socket's timeout bounds the handshake. Bytes that arrived
-- in plaintext and were not read yet are an error, not TLS input.
local function starttls(sock, opts)
  if opts == nil then opts = true end
  local ctx, err, code = context_of(opts, "starttls", 1, 3)
  if not ctx then return nil, err, code end
  local _, server = settings(ctx)
  if type(opts) == "table" and opts.server ~= nil then server = opts.server end
  local host = not server and sock:getpeername() or nil
  if type(host) ~= "string" or host == "" then host = nil end
  local timeout = sock:gettimeout()
  return start(sock, ctx, server, host, timeout and now() + timeout)
end

-- hotline.serve{ tls = ... }: the context, made once for every worker and
-- connection. -> context | nil, msg, code
function tls.server_context(spec)
  return context_of(spec, "serve", 1, 4)
end

-- Wraps handler so that it runs only for a caller whose handshake
-- succeeded within the context's handshake_timeout; others are reported
-- and closed (by the server's exit hook) without reaching it.
function tls.server_handler(handler, ctx, report)
  local timeout = settings(ctx) or HANDSHAKE_TIMEOUT
  return function(client)
    local deadline = now() + timeout
    local host, port = client:getpeername()   -- (while the caller is there)
    local ok, err, code = start(client, ctx, true, nil, deadline)
    if ok then return handler(client) end
    report("hotline.serve: TLS handshake with " .. tostring(host) .. ":" .. tostring(port)
      .. " failed: " .. tostring(err) .. " (" .. tostring(code) .. ")")
  end
end

if core.metatable then core.metatable.__index.starttls = starttls end

return tls
