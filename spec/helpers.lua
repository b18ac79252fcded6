-- spec/helpers.lua: loaded by busted before the specs (see .busted).
-- Puts the C module built for the running Lua (build/<version>/) on the
-- cpath, and offers what several specs need: loopback socket pairs, the
-- process's open descriptors, child processes stopped by their PID.

local version = jit and "jit" or _VERSION:match("%d+%.%d+")
-- HOTLINE_BUILD picks another build of the module (make check-asan's).
local build = os.getenv("HOTLINE_BUILD") or "build/" .. version
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

local hotline = require "hotline"
local core = require "hotline.core"

local helpers = {}

helpers.version = version
helpers.TIMEOUT = 5   -- seconds any blocking call in a spec may wait

-- Under make check-eagain (spec/tools/mockeagain.c) every transfer moves
-- one byte: specs move less data there, and specs of what the kernel
-- does with whole buffers do not apply.
helpers.MOCKED = os.getenv("HOTLINE_CHECK") == "eagain"

-- n normally, mocked under the EAGAIN mock.
function helpers.size(normal, mocked)
  return helpers.MOCKED and mocked or normal
end

-- The interpreter running the specs, to start child scripts with.
helpers.lua = os.getenv("HOTLINE_LUA")
if not helpers.lua then
  local i = -1
  while arg and arg[i - 1] do i = i - 1 end
  helpers.lua = arg and arg[i] or "lua"
end

-- LUA_PATH and LUA_CPATH for child processes, so they load this build.
helpers.env = string.format("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;'",
  build)

-- A connected TCP pair on 127.0.0.1: client, server side. Both have
-- helpers.TIMEOUT as timeout, so a broken spec fails instead of hanging.
function helpers.tcp_pair(family)
  local host = family == "inet6" and "::1" or "127.0.0.1"
  local listener = assert(hotline.listen(host, 0, { family = family }))
  local _, port = listener:getsockname()
  local client = assert(hotline.connect(host, port))
  local server = assert(listener:accept())
  listener:close()
  client:settimeout(helpers.TIMEOUT)
  server:settimeout(helpers.TIMEOUT)
  return client, server
end

-- The poller backends this build has: "epoll" (Linux) and "poll".
function helpers.backends()
  local list = {}
  for _, name in ipairs({ "epoll", "poll" }) do
    local ok, p = pcall(hotline.poller, name)
    if ok and p then
      p:close()
      list[#list + 1] = name
    end
  end
  return list
end

function helpers.has_ipv6()
  local s = hotline.socket("inet6")
  if not s then return false end
  local ok = s:bind("::1", 0)
  s:close()
  return ok == true
end

-- How many descriptors this process has open (Linux: /proc). The list
-- goes through a file: with io.popen, the write end of its pipe would be
-- counted or not, as the race with the listing went.
function helpers.count_fds()
  local out = os.tmpname()
  os.execute("ls /proc/" .. core.getpid() .. "/fd >" .. out .. " 2>/dev/null")
  local f = io.open(out)
  local text = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(out)
  local _, n = text:gsub("[^\n]+", "")
  return n
end

-- Runs a full collection, twice, so finalizers have run.
function helpers.collect()
  collectgarbage()
  collectgarbage()
end

-- Starts a shell command in the background; returns its PID. Output goes
-- to the files named by opts.stdout / opts.stderr (default /dev/null).
function helpers.start(command, opts)
  opts = opts or {}
  local line = string.format("%s %s </dev/null >%s 2>%s & echo $!", helpers.env, command,
    opts.stdout or "/dev/null", opts.stderr or "/dev/null")
  local p = io.popen(line)
  local pid = tonumber(p:read("*l"))
  p:close()
  assert(pid, "could not start: " .. command)
  return pid
end

-- Runs a Lua script file of this project with the specs' interpreter and
-- waits for it; returns ok, exit code, stdout, stderr.
function helpers.run_lua(script, args, input)
  local out, err = os.tmpname(), os.tmpname()
  local stdin = "/dev/null"
  if input then
    stdin = os.tmpname()
    local f = assert(io.open(stdin, "w"))
    f:write(input)
    f:close()
  end
  local command = string.format("timeout 30 env %s %s %s %s <%s >%s 2>%s", helpers.env,
    helpers.lua, script, args or "", stdin, out, err)
  local a, b, c = os.execute(command)
  local code = type(a) == "number" and a / 256 or (b == "exit" and c or 128 + (c or 0))
  local function slurp(name)
    local f = io.open(name)
    local text = f and f:read("*a") or ""
    if f then f:close() end
    os.remove(name)
    return text
  end
  if input then os.remove(stdin) end
  return code == 0, code, slurp(out), slurp(err)
end

-- Runs Lua source text as a script (helpers.run_lua), with env (say
-- "HOTLINE_TRACE=1") added to its environment -> ok, code, stdout, stderr
function helpers.run_source(source, env)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  local saved = helpers.env
  helpers.env = saved .. " " .. (env or "")
  local ok, code, out, err = helpers.run_lua(path)
  helpers.env = saved
  os.remove(path)
  return ok, code, out, err
end

-- A fresh copy of module name (required again) that sees wrap(real) for
-- each of loop.await and loop.await_any; the loaded copy stays as it was.
function helpers.require_with_waits(name, wrap)
  local loop = require "hotline.loop"
  local real_await, real_any = loop.await, loop.await_any
  local original = package.loaded[name]
  loop.await, loop.await_any = wrap(real_await), wrap(real_any)
  package.loaded[name] = nil
  local ok, fresh = pcall(require, name)
  loop.await, loop.await_any = real_await, real_any
  package.loaded[name] = original
  assert(ok, fresh)
  return fresh
end

-- Whether process pid still runs (and is not a zombie).
function helpers.alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  local stat = f:read("*l") or ""
  f:close()
  return not stat:match("^%d+ %b() Z")
end

-- Stops process pid: SIGTERM, then SIGKILL after grace seconds.
function helpers.stop(pid, grace)
  if not helpers.alive(pid) then return end
  core.kill(pid, "TERM")
  local deadline = core.monotime() + (grace or 3)
  while helpers.alive(pid) and core.monotime() < deadline do core.sleep(0.02) end
  if helpers.alive(pid) then core.kill(pid, "KILL") end
  core.waitpid(pid, true)
end

-- Polls pred() until it is true or seconds pass; returns its last value.
-- For waiting on another process, where no event can be awaited.
function helpers.eventually(pred, seconds)
  local deadline = core.monotime() + (seconds or helpers.TIMEOUT)
  local value = pred()
  while not value and core.monotime() < deadline do
    core.sleep(0.01)
    value = pred()
  end
  return value
end

-- Reads a whole file, or nil.
function helpers.slurp(name)
  local f = io.open(name)
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

package.loaded["spec.helpers"] = helpers
return helpers
