-- Bug: a lookup whose wait raised (a task cancelled while it waits) left
-- its query to the collector: its socket stayed open, and when the query's
-- __gc closed it the loop's poller still held the number as watched, so
-- the next lookup's socket, given the same number, was never watched and
-- its task slept until c-ares gave up (EAI_AGAIN instead of the answer).
-- The query now ends and releases its sockets when the wait raises (where
-- pcall can yield: 5.2+, LuaJIT), and its __gc releases what it closes.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local dns = require "spec.tools.dns"

-- hotline.resolver loaded afresh with its waits replaced: the first wait
-- that a task makes while `armed` waits as usual, then raises.
local armed = false
local function fresh_resolver()
  return helpers.require_with_waits("hotline.resolver", function(real)
    return function(...)
      local a, b, c = real(...)
      if armed then
        armed = false
        error("cancelled", 0)
      end
      return a, b, c
    end
  end)
end

local guarded = _VERSION ~= "Lua 5.1" or jit ~= nil

for _, backend in ipairs(helpers.backends()) do
  describe("a lookup whose wait raises (" .. backend .. ")", function()
    local server, fresh
    lazy_setup(function()
      server = dns.start({ "quick.test=a:127.0.0.3", "silent.test=silent" })
      fresh = fresh_resolver()
    end)
    lazy_teardown(function() server:stop() end)
    before_each(function()
      loop.reset(backend)
      helpers.collect()   -- (what an earlier case left must not shift descriptor numbers)
    end)
    after_each(function() loop.reset() end)

    local function raising_lookup(name)
      local r = fresh.new({ nameservers = { server.address }, hosts = false,
                            timeout = 0.5, attempts = 1 })
      local message
      armed = true
      loop.spawn_with_exit(function(_, ok, err)
        assert.is_false(ok)
        message = err
      end, nil, function()
        r:getaddrinfo(name, 80, { family = "inet" })
      end)
      assert(hotline.run())
      assert.matches("cancelled", message)
    end

    it("closes its socket at once", function()
      if not guarded then return pending("Lua 5.1: pcall cannot yield; the __gc closes it") end
      raising_lookup("silent.test")
      assert.equal(0, server:clients())
    end)

    it("leaves nothing in the poller: the next lookup's socket is watched", function()
      raising_lookup("quick.test")
      helpers.collect()
      assert.equal(0, server:clients())
      local r = dns.resolver(server, { timeout = 0.5 })
      local list, err
      hotline.spawn(function() list, err = r:getaddrinfo("quick.test", 80, { family = "inet" }) end)
      assert(hotline.run())
      assert.is_table(list, err)
      assert.equal("127.0.0.3", list[1].host)
    end)
  end)
end
