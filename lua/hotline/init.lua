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
local tls = require "hotline.tls"

local hotline = {
  _VERSION = "hotline scm",
  socket = core.socket,
  socketpair = core.socketpair,
  getaddrinfo = core.getaddrinfo,
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
  timer = loop.timer,
  onsignal = loop.onsignal,
  listen = socket.listen,
  connect = socket.connect,
  serve = server.serve,
  -- TLS (hotline.tls): contexts; connect/serve take tls = ..., s:starttls
  tls = { context = tls.context },
}

return hotline
