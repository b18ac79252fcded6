-- hotline: BSD sockets for Lua.
--
-- The public table: the C module's constructors (hotline.core), the socket
-- methods that wait (hotline.socket), the scheduler (hotline.loop) and the
-- server (hotline.server). It is a new table rather than hotline.core
-- itself, so that the primitives the Lua layer builds on stay out of
-- sight: what is here is what README documents.

local core = require "hotline.core"
local loop = require "hotline.loop"
local socket = require "hotline.socket"
local server = require "hotline.server"
local task = require "hotline.task"
local sync = require "hotline.sync"
local resolver = require "hotline.resolver"
local tls = require "hotline.tls"

local hotline = {
  _VERSION = "hotline scm",
  socket = core.socket,
  socketpair = core.socketpair,
  poller = core.poller,
  type = core.type,
  errno = core.errno,
  strerror = core.strerror,
  trace = core.trace,
  monotime = core.monotime,
  fdlimit = core.fdlimit,
  now = core.monotime,
  spawn = loop.spawn,
  run = loop.run,
  stop = loop.stop,
  sleep = loop.sleep,
  timer = task.timer,
  onsignal = loop.onsignal,
  listen = socket.listen,
  connect = socket.connect,
  serve = server.serve,
  -- tasks that work together (README "Tasks together")
  current = task.current,
  timeout = task.timeout,
  channel = sync.channel,
  condition = sync.condition,
  semaphore = sync.semaphore,
  wait_any = sync.wait_any,
  -- names without blocking (hotline/resolver.lua)
  getaddrinfo = resolver.getaddrinfo,
  getnameinfo = resolver.getnameinfo,
  resolver = resolver.new,
  -- TLS (hotline.tls): contexts; connect/serve take tls = ..., s:starttls
  tls = { context = tls.context },
}

return hotline
