-- The examples of README's "Tasks together", run as real processes and
-- talked to over real sockets by tasks of this process: the chat server,
-- the proxy and the fetcher. Each process is stopped by its PID.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

local TIMEOUT = helpers.TIMEOUT
local started, temps = {}, {}

local function tmpname()
  local name = os.tmpname()
  temps[#temps + 1] = name
  return name
end

-- Starts examples/<name>.lua with args; -> { pid, out, err, port } once it
-- has said its port (pattern: the number in its first line), or { pid, out }.
local function start(name, args, pattern)
  local p = { out = tmpname(), err = tmpname() }
  p.pid = helpers.start(helpers.lua .. " examples/" .. name .. ".lua " .. args,
    { stdout = p.out, stderr = p.err })
  started[#started + 1] = p.pid
  if pattern then
    p.port = helpers.eventually(function()
      return tonumber((helpers.slurp(p.out) or ""):match(pattern))
    end)
    assert(p.port, name .. " did not say its port: " .. (helpers.slurp(p.err) or ""))
  end
  return p
end

local function dial(port)
  local s = assert(hotline.connect("127.0.0.1", port))
  s:settimeout(TIMEOUT)
  return s
end

-- Runs the loop with fn as a task; raises what the task raised.
local function run(fn)
  local failure
  loop.set_error_handler(function(m) failure = failure or m; hotline.stop() end)
  hotline.spawn(fn)
  assert(hotline.run())
  loop.set_error_handler(nil)
  if failure then error(failure, 0) end
end

describe("examples", function()
  before_each(function() loop.reset() end)
  after_each(function()
    for _, pid in ipairs(started) do helpers.stop(pid) end
    for _, name in ipairs(temps) do os.remove(name) end
    started, temps = {}, {}
  end)

  it("chat.lua: a line reaches every other caller, not its sender", function()
    local chat = start("chat", "127.0.0.1 0", "port (%d+)")
    run(function()
      local a, b, c = dial(chat.port), dial(chat.port), dial(chat.port)
      for _, s in ipairs({ a, b, c }) do assert.matches("^%* welcome", s:read("l")) end
      assert.matches("joined$", a:read("l"))      -- b and c joined after a
      assert.matches("joined$", a:read("l"))
      assert.matches("joined$", b:read("l"))      -- c joined after b
      assert(a:write("hello all\n"))
      assert.matches(": hello all$", b:read("l"))
      assert.matches(": hello all$", c:read("l"))
      assert(b:write("and back\n"))
      assert.matches(": and back$", a:read("l"))  -- a got nothing of its own
      assert.matches(": and back$", c:read("l"))
      c:close()
      assert.matches("left$", a:read("l"))
      a:close(); b:close()
    end)
  end)

  it("chat.lua: a caller who does not read is dropped, and holds up nobody", function()
    if helpers.MOCKED then
      return pending("1-byte transfers under the EAGAIN mock: filling a socket buffer "
        .. "takes millions of calls")
    end
    local chat = start("chat", "127.0.0.1 0 16", "port (%d+)")
    local LINE, LINES = string.rep("x", 8 * 1024), 1000   -- 8 MB: past every buffer
    run(function()
      local slow = assert(hotline.socket("inet", "stream"))
      slow:setoption("rcvbuf", 4096)
      assert(slow:connect("127.0.0.1", chat.port))
      local sender, reader = dial(chat.port), dial(chat.port)
      assert.matches("welcome", sender:read("l"))
      assert.matches("welcome", reader:read("l"))
      assert.matches("joined", sender:read("l"))  -- the reader joined after the sender
      local got, arrived = 0, hotline.condition()
      local reading = hotline.spawn(function()
        while got < LINES do
          local line = reader:read("l")
          if not line then break end
          if line:find(LINE, 1, true) then got = got + 1 end
          arrived:signal()
        end
      end)
      for i = 1, LINES do    -- at the reader's pace: it is not slow, the other one is
        assert(sender:write(LINE .. "\n"))
        while got < i and reading:status() ~= "done" do arrived:wait(TIMEOUT) end
      end
      assert.is_true(reading:join(TIMEOUT))
      assert.equal(LINES, got)
      assert.truthy(helpers.eventually(function()
        return (helpers.slurp(chat.out) or ""):find("dropped .*too slow")
      end))
      -- the slow caller's connection ends once it reads what was sent to it
      slow:settimeout(TIMEOUT)
      repeat local data = slow:recv(65536) until not data
      slow:close(); sender:close(); reader:close()
    end)
  end)

  it("proxy.lua: copies both ways, closes both sides when one ends or all is idle", function()
    local upstreams = 0
    local echo = assert(hotline.serve { host = "127.0.0.1", port = 0, handler = function(s)
      upstreams = upstreams + 1
      while true do
        local data = s:recv(65536)
        if not data or not s:write(data) then break end
      end
    end })
    local _, echo_port = echo:address()
    local proxy = start("proxy", "127.0.0.1 " .. echo_port .. " 0 0.3", "port (%d+)")
    run(function()
      local c = dial(proxy.port)
      local big = string.rep("0123456789", helpers.size(100000, 1000))
      local reading = hotline.spawn(function() return c:read(#big) end)
      assert(c:write(big))
      assert.same({ true, big }, { reading:join() })
      c:close()                               -- one side ends: the proxy hangs up upstream
      assert.is_true(helpers.eventually(function()
        hotline.sleep(0.01)
        return echo:connections() == 0
      end))
      -- idle: nothing moves for 0.3 s, the proxy closes both sides
      local idle = dial(proxy.port)
      assert(idle:write("x\n"))
      assert.equal("x", idle:read("l"))
      local t0 = hotline.now()
      assert.same({ nil, "closed" }, { idle:read("l") })
      assert.is_true(hotline.now() - t0 >= 0.2)
      idle:close()
      assert.is_true(helpers.eventually(function()
        hotline.sleep(0.01)
        return echo:connections() == 0
      end))
      assert.equal(2, upstreams)
      echo:close()
    end)
  end)

  it("fetch.lua: at most N at once, one deadline over all", function()
    local now_serving, most = 0, 0
    local function http(s)
      now_serving = now_serving + 1
      most = math.max(most, now_serving)
      repeat local line = s:read("l") until not line or line:match("^\r?$")  -- the request
      hotline.sleep(0.05)                     -- long enough for fetches to overlap
      s:write("HTTP/1.0 200 OK\r\n\r\nhello")
      now_serving = now_serving - 1
    end
    local fast = assert(hotline.serve { host = "127.0.0.1", port = 0, handler = http })
    local silent = assert(hotline.serve { host = "127.0.0.1", port = 0,
      handler = function(s) s:read("a") end })
    local _, fast_port = fast:address()
    local _, silent_port = silent:address()
    local refused = assert(hotline.listen("127.0.0.1", 0))
    local _, refused_port = refused:getsockname()
    refused:close()
    local list = {}
    for _ = 1, 4 do list[#list + 1] = "127.0.0.1:" .. fast_port end
    list[#list + 1] = "127.0.0.1:" .. silent_port
    list[#list + 1] = "127.0.0.1:" .. refused_port
    local fetch = start("fetch", "-n 2 -t 1.5 " .. table.concat(list, " "))
    run(function()
      local deadline = hotline.now() + 3 * TIMEOUT
      while helpers.alive(fetch.pid) and hotline.now() < deadline do hotline.sleep(0.02) end
      fast:close(); silent:close()
    end)
    local out = helpers.slurp(fetch.out) or ""
    local _, oks = out:gsub("HTTP/1.0 200 OK%s+%d+", "")
    assert.equal(4, oks, out .. (helpers.slurp(fetch.err) or ""))
    assert.matches(silent_port .. "%s+failed: timeout", out)
    assert.matches(refused_port .. "%s+failed: connection refused", out)
    assert.matches("at most 2 connections at once %(limit 2%)", out)
    assert.equal(2, most)
  end)
end)
