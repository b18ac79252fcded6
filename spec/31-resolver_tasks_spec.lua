-- Names without blocking: a lookup suspends only its task. Other tasks and
-- a serve go on while it waits; many lookups wait together; a lookup that
-- is stopped or gives up leaves no descriptor and nothing in the poller.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local dns = require "spec.tools.dns"

for _, backend in ipairs(helpers.backends()) do
  describe("lookups in tasks (" .. backend .. ")", function()
    local server
    lazy_setup(function()
      server = dns.start({
        "slow*.test=a:127.0.0.2,aaaa:::1,delay:1",
        "quick.test=a:127.0.0.3",
        "silent.test=silent",
      })
    end)
    lazy_teardown(function() server:stop() end)
    before_each(function() loop.reset(backend) end)
    after_each(function() loop.reset() end)

    it("one slow lookup stops neither 100 echo round trips nor a serve", function()
      local r = dns.resolver(server, { timeout = 3 })
      local srv = assert(hotline.serve({ host = "127.0.0.1", port = 0, handler = function(c)
        while true do
          local line = c:read("l")
          if not line then return end
          c:write(line, "\n")
        end
      end }))
      local _, port = srv:address()
      local looked_up, echoed, served, trips = nil, nil, nil, 0
      local t0 = hotline.now()
      hotline.spawn(function()
        local list = assert(r:getaddrinfo("slow1.test", 80, { family = "inet" }))
        assert.equal("127.0.0.2", list[1].host)
        looked_up = hotline.now() - t0
      end)
      hotline.spawn(function()
        local a, b = hotline.socketpair()
        for i = 1, 100 do
          assert(a:write(i, "\n"))
          assert.equal(tostring(i), b:read("l"))
          trips = trips + 1
        end
        a:close(); b:close()
        echoed = hotline.now() - t0
      end)
      hotline.spawn(function()
        local c = assert(hotline.connect("127.0.0.1", port))
        c:settimeout(helpers.TIMEOUT)
        for i = 1, helpers.size(10, 3) do   -- (one byte per call under the mock)
          assert(c:write("ping ", i, "\n"))
          assert.equal("ping " .. i, c:read("l"))
        end
        c:close()
        served = hotline.now() - t0
        srv:close()
      end)
      assert(hotline.run())
      assert.equal(100, trips)
      assert.is_true(looked_up >= 0.9, "lookup took " .. looked_up)
      -- both were done while the lookup still waited
      assert.is_true(echoed < looked_up, "echo took " .. echoed)
      assert.is_true(served < looked_up, "serve took " .. served)
    end)

    it("50 slow lookups in 50 tasks take about one answer's delay", function()
      local r = dns.resolver(server, { timeout = 3 })
      local done = 0
      local t0 = hotline.now()
      for i = 1, 50 do
        hotline.spawn(function()
          local list = assert(r:getaddrinfo("slow" .. i .. ".test", 80))
          assert.equal(2, #list)
          done = done + 1
        end)
      end
      assert(hotline.run())
      local took = hotline.now() - t0
      assert.equal(50, done)
      assert.is_true(took >= 0.9 and took < 3, "took " .. took)
    end)

    it("a stopped lookup leaves no socket once collected", function()
      local r = dns.resolver(server, { timeout = 3 })
      local finished = false
      local function stopped()
        hotline.spawn(function()
          r:getaddrinfo("silent.test", 80)
          finished = true
        end)
        hotline.spawn(function()   -- runs once the lookup has asked and waits
          assert.equal(1, server:clients())   -- the query's socket
          hotline.stop()
        end)
        assert(hotline.run())
        loop.reset()               -- the task and its query are garbage now
      end
      stopped()
      helpers.collect()
      assert.is_false(finished)
      assert.equal(0, server:clients())
    end)

    it("a lookup that runs out of time closes its sockets at once", function()
      local r = dns.resolver(server, { timeout = 3 })
      hotline.spawn(function() assert(r:getaddrinfo("quick.test", 80)) end)
      assert(hotline.run())
      local result
      hotline.spawn(function()
        result = { hotline.connect("silent.test", 80, { resolver = r, timeout = 0.1 }) }
      end)
      assert(hotline.run())
      assert.same({ nil, "timeout", "ETIMEDOUT" }, result)
      assert.equal(0, server:clients())
    end)

    it("a descriptor c-ares closed leaves the poller: its number works again", function()
      local r = dns.resolver(server, { timeout = 3 })
      -- each lookup's socket is closed when it ends; the next descriptor
      -- opened takes its number and must be watched afresh
      for _ = 1, 3 do
        local got
        hotline.spawn(function()
          assert(r:getaddrinfo("quick.test", 80, { family = "inet" }))
          local a, b = hotline.socketpair()
          a:settimeout(1)
          hotline.spawn(function()   -- runs once a:read waits
            assert(b:write("x"))
          end)
          got = { a:read(1) }
          a:close(); b:close()
        end)
        assert(hotline.run())
        assert.same({ "x" }, got)
      end
    end)

    it("lookups outside tasks and inside share a resolver", function()
      local r = dns.resolver(server, { timeout = 3 })
      assert.equal("127.0.0.3", assert(r:getaddrinfo("quick.test", 80))[1].host)
      local list
      hotline.spawn(function() list = assert(r:getaddrinfo("quick.test", 80)) end)
      assert(hotline.run())
      assert.equal("127.0.0.3", list[1].host)
      assert.equal("127.0.0.3", assert(r:getaddrinfo("quick.test", 80))[1].host)
    end)
  end)
end

describe("lookups after fork", function()
  local server
  lazy_setup(function() server = dns.start({ "w.test=a:127.0.0.2" }) end)
  lazy_teardown(function() server:stop() end)

  it("each worker of serve{workers=2} resolves on its own", function()
    local r = dns.resolver(server, { timeout = 3 })
    assert(r:getaddrinfo("w.test", 80))   -- the parent used it first
    local path = os.tmpname() .. ".lua"
    local f = assert(io.open(path, "w"))
    f:write(string.format([[
      local hotline = require "hotline"
      local r = assert(hotline.resolver({ nameservers = { %q }, hosts = false }))
      assert(r:getaddrinfo("w.test", 80))
      local srv = assert(hotline.serve({ host = "127.0.0.1", port = 0, workers = 2,
        handler = function(c)
          local list, err = r:getaddrinfo("w.test", 80)
          c:write(list and list[1].host or err, "\n")
        end }))
      local _, port = srv:address()
      io.stdout:write(port, "\n")
      io.stdout:flush()
      hotline.run()
    ]], server.address))
    f:close()
    local out = os.tmpname()
    local pid = helpers.start(helpers.lua .. " " .. path, { stdout = out })
    local port = tonumber(helpers.eventually(function()
      return (helpers.slurp(out) or ""):match("^(%d+)\n")
    end))
    assert.truthy(port)
    for _ = 1, 6 do
      local c = assert(hotline.connect("127.0.0.1", port, { timeout = helpers.TIMEOUT }))
      c:settimeout(helpers.TIMEOUT)
      assert.equal("127.0.0.2", c:read("l"))
      c:close()
    end
    helpers.stop(pid)
    os.remove(path)
    os.remove(out)
  end)
end)
