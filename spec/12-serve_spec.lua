-- hotline.serve: one task per caller, the server keeps listening.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

-- A line echo: "x" -> "echo x"; "boom" raises.
local function echo_handler(client)
  while true do
    local line = client:read("l")
    if not line then return end
    if line == "boom" then error("handler exploded") end
    client:write("echo ", line, "\n")
  end
end

local function dial(server)
  local c = assert(hotline.connect(server:address()))
  c:settimeout(5)
  return c
end

for _, backend in ipairs(helpers.backends()) do
  describe("serve (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("answers B while A is connected and silent", function()
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0, handler = echo_handler })
      local log = {}
      hotline.spawn(function()
        local a = dial(server)
        log[#log + 1] = "A connected"
        hotline.sleep(0.05)             -- silent, while B talks
        a:write("from A\n")
        local answer = a:read("l")
        log[#log + 1] = "A got " .. answer
        a:close()
      end)
      hotline.spawn(function()
        hotline.sleep(0.01)
        local b = dial(server)
        b:write("from B\n")
        local answer = b:read("l")
        log[#log + 1] = "B got " .. answer
        b:close()
        hotline.sleep(0.06)
        server:close()
      end)
      assert(hotline.run())
      assert.same({ "A connected", "B got echo from B", "A got echo from A" }, log)
    end)

    it("holds 2,000 concurrent connections, each doing round trips", function()
      local n = 2000
      local soft = hotline.fdlimit(2 * n + 200)
      if soft < 2 * n + 100 then return pending("descriptor limit too low") end
      local active, peak, served = 0, 0, 0
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0, backlog = 4096,
        handler = function(client)
          active = active + 1
          if active > peak then peak = active end
          echo_handler(client)
          active = active - 1
          served = served + 1
        end })
      local connected, answered, failures = 0, 0, {}
      for i = 1, n do
        hotline.spawn(function()
          local c, err = hotline.connect(server:address())
          if not c then failures[#failures + 1] = err; return end
          c:settimeout(20)
          connected = connected + 1
          -- no round trip until the server holds every connection (20 s at most)
          local give_up = hotline.monotime() + 20
          while active < n and #failures == 0 and hotline.monotime() < give_up do
            hotline.sleep(0.01)
          end
          for round = 1, 3 do
            c:write(i, ".", round, "\n")
            if c:read("l") ~= "echo " .. i .. "." .. round then
              failures[#failures + 1] = "bad answer"
              break
            end
          end
          answered = answered + 1
          c:close()
          if answered == n then server:close() end
        end)
      end
      assert(hotline.run())
      assert.same({}, failures)
      assert.equal(n, answered)
      assert.equal(n, served)
      assert.equal(n, peak)              -- all of them at once
    end)

    it("a failing handler is reported and the server keeps serving", function()
      local reports = {}
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0, handler = echo_handler,
        on_error = function(message) reports[#reports + 1] = message end })
      local first, second
      hotline.spawn(function()
        local c = dial(server)
        c:write("boom\n")
        first = { c:read("l") }          -- the server closed this call
        c:close()
        c = dial(server)
        c:write("still there?\n")
        second = c:read("l")
        c:close()
        server:close()
      end)
      assert(hotline.run())
      assert.same({ nil, "closed" }, first)
      assert.equal("echo still there?", second)
      assert.equal(1, #reports)
      assert.matches("handler exploded", reports[1])
      assert.matches("stack traceback", reports[1])
    end)

    it("close stops accepting and lets calls in progress finish", function()
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0, handler = echo_handler })
      local host, port = server:address()
      local late, after
      hotline.spawn(function()
        local c = dial(server)
        c:write("one\n")
        assert.equal("echo one", c:read("l"))
        server:close()                   -- closing time, with this call open
        assert.equal(1, server:connections())
        late = { hotline.connect(host, port) }
        c:write("two\n")
        after = c:read("l")              -- the call in progress goes on
        c:close()
      end)
      assert(hotline.run())              -- returns once the last call ended
      assert.is_nil(late[1])
      assert.equal("ECONNREFUSED", late[3])
      assert.equal("echo two", after)
      assert.equal(0, server:connections())
    end)

    it("max_connections caps concurrent handlers; the rest wait their turn", function()
      local active, peak = 0, 0
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0, max_connections = 2,
        handler = function(client)
          active = active + 1
          if active > peak then peak = active end
          hotline.sleep(0.02)
          client:write("served\n")
          active = active - 1
        end })
      local answers = 0
      for _ = 1, 6 do
        hotline.spawn(function()
          local c = dial(server)
          if c:read("l") == "served" then answers = answers + 1 end
          c:close()
          if answers == 6 then server:close() end
        end)
      end
      assert(hotline.run())
      assert.equal(6, answers)
      assert.equal(2, peak)
    end)

    it("closes the client when the handler returns", function()
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0,
        handler = function(client) client:write("bye\n") end })
      local got
      hotline.spawn(function()
        local c = dial(server)
        got = { c:read("l"), c:read("l") }
        c:close()
        server:close()
      end)
      assert(hotline.run())
      assert.same({ "bye", nil, "closed" }, got)
    end)
  end)
end

describe("serve", function()
  it("serves a socket that is already listening", function()
    loop.reset()
    local s = assert(hotline.socket())
    assert(s:bind("127.0.0.1", 0))
    assert(s:listen())
    local server = assert(hotline.serve { socket = s, handler = echo_handler })
    assert.equal(select(2, s:getsockname()), select(2, server:address()))
    local answer
    hotline.spawn(function()
      local c = dial(server)
      c:write("given\n")
      answer = c:read("l")
      c:close()
      server:close()
    end)
    assert(hotline.run())
    assert.equal("echo given", answer)
    assert.equal("closed socket", hotline.type(s))
    assert.has_error(function() hotline.serve { socket = s, handler = print } end,
      "bad argument #1 to 'serve' (socket must be an open hotline socket)")
    local t = assert(hotline.socket())
    assert.has_error(function() hotline.serve { socket = t, port = 1, handler = print } end,
      "bad argument #1 to 'serve' (port does not go with socket)")
    t:close()
  end)

  it("checks its options", function()
    assert.has_error(function() hotline.serve() end,
      "bad argument #1 to 'serve' (table expected, got nil)")
    assert.has_error(function() hotline.serve { port = 0 } end,
      "bad argument #1 to 'serve' (handler must be a function)")
    assert.has_error(function()
      hotline.serve { handler = print, max_connections = 0 }
    end)
  end)

  it("returns the failure when it cannot listen", function()
    loop.reset()
    local a = assert(hotline.listen("127.0.0.1", 0))
    local _, port = a:getsockname()
    local server, err, code = hotline.serve { host = "127.0.0.1", port = port, handler = print }
    assert.is_nil(server)
    assert.equal("address already in use", err)
    assert.equal("EADDRINUSE", code)
    a:close()
  end)
end)
