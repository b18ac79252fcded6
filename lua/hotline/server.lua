-- hotline.server: hotline.serve, a TCP server with one task per caller.
--
-- The accept loop is a task of its own; every accepted connection gets a
-- new task running handler(client), so a slow or silent caller holds up
-- nobody. When the handler returns or fails, the client is closed; a
-- failure is reported and the server goes on.

local core = require "hotline.core"
local loop = require "hotline.loop"
local socket = require "hotline.socket"
local tls = require "hotline.tls"

local type, error, tostring = type, error, tostring

local server = {}

local Server = {}
Server.__index = Server

-- -> host, port the server listens on (the path for a unix socket)
function Server:address()
  return self.listener:getsockname()
end

-- -> how many handlers are running now
function Server:connections()
  return self.active
end

-- Stops accepting; handlers already running finish their calls.
function Server:close()
  if self.closed then return true end
  self.closed = true
  self.listener:close()                -- wakes the accept loop: "closed"
  if self.parked then
    self.parked = false
    loop.wake(self.acceptor)
  end
  return true
end

function Server:__tostring()
  local host, port = self:address()
  return "hotline.server (" .. tostring(host) .. ":" .. tostring(port)
      .. ", " .. self.active .. " connections)"
end

-- Called when a handler task ends, with the server as upvalue: one closure
-- per server, none per connection.
local function exit_hook(self)
  return function(client, ok, message)
    client:close()
    self.active = self.active - 1
    if not ok then self.report(message) end
    if self.parked then
      self.parked = false
      loop.wake(self.acceptor)
    end
  end
end

local function accept_loop(self)
  local listener, handler, on_exit = self.listener, self.handler, self.on_exit
  while not self.closed do
    if self.max and self.active >= self.max then
      self.parked = true               -- callers wait in the backlog
      loop.suspend()
    else
      local client, err, code = listener:accept()
      if client then
        self.active = self.active + 1
        loop.spawn_with_exit(on_exit, client, handler, client)
      elseif err == "closed" or self.closed then
        break
      else
        -- out of descriptors (EMFILE) and the like: say so, let running
        -- handlers free some, try again
        self.report("hotline.serve: accept failed: " .. err .. " (" .. tostring(code) .. ")")
        loop.sleep(0.05)
      end
    end
  end
end

local function check_opts(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'serve' (table expected, got " .. type(opts) .. ")", 3)
  end
  if type(opts.handler) ~= "function" then
    error("bad argument #1 to 'serve' (handler must be a function)", 3)
  end
  if opts.socket ~= nil then
    if core.type(opts.socket) ~= "socket" then
      error("bad argument #1 to 'serve' (socket must be an open hotline socket)", 3)
    end
    for _, name in ipairs({ "host", "port", "backlog", "reuseport", "family", "workers" }) do
      if opts[name] ~= nil then
        error("bad argument #1 to 'serve' (" .. name .. " does not go with socket)", 3)
      end
    end
  end
  if opts.max_connections ~= nil and (type(opts.max_connections) ~= "number"
      or opts.max_connections < 1) then
    error("bad argument #1 to 'serve' (max_connections must be a number >= 1)", 3)
  end
end

local function default_report(message)
  io.stderr:write(message, "\n")
end

-- Listens (or takes opts.socket, already listening) and starts the
-- accept loop in this process.
local function serve_here(opts)
  local listener = opts.socket
  if not listener then
    local err, code
    listener, err, code = socket.listen(opts.host or "*", opts.port or 0, {
      backlog = opts.backlog, reuseport = opts.reuseport, family = opts.family })
    if not listener then return nil, err, code end
  end
  local self = setmetatable({
    listener = listener, handler = opts.handler, max = opts.max_connections,
    active = 0, closed = false, parked = false,
    report = opts.on_error or default_report,
  }, Server)
  if opts.tls then   -- the handshake runs in the caller's task, first
    self.handler = tls.server_handler(opts.handler, opts.tls, self.report)
  end
  self.on_exit = exit_hook(self)
  self.acceptor = loop.spawn(accept_loop, self)
  return self
end

-- hotline.serve{ host=, port=, handler=, backlog=, reuseport=,
--   max_connections=, workers=, family=, on_error=, tls= }
--   -> server | nil, msg, code
-- host defaults to "*" and port to 0 (a free port: see server:address()).
-- hotline.serve{ socket=, handler=, ... } serves a socket already listening.
function server.serve(opts)
  check_opts(opts)
  if opts.tls then   -- one context for every worker and connection
    local ctx, err, code = tls.server_context(opts.tls)
    if not ctx then return nil, err, code end
    local copy = {}
    for k, v in pairs(opts) do copy[k] = v end
    copy.tls = ctx
    opts = copy
  end
  if opts.workers and opts.workers ~= 0 then
    return require("hotline.workers").serve(opts, serve_here)
  end
  return serve_here(opts)
end

return server
