-- Bug: when the wait of hotline.connect's race raised (a task cancelled
-- while it connects), the attempts under way were left open, each a SYN
-- retried for minutes until the collector found it. They are closed before
-- the error goes on now (in a task on 5.1, where pcall cannot yield, the
-- collector still does it).
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local dns = require "spec.tools.dns"

-- hotline.eyeballs loaded afresh with its waits replaced: each wait waits
-- as usual, then raises.
local function fresh_eyeballs()
  return helpers.require_with_waits("hotline.eyeballs", function(real)
    return function(...)
      real(...)
      error("cancelled", 0)
    end
  end)
end

-- A listener on ::1 that answers no SYN (backlog 0, its queue full).
local function dead_ipv6()
  local l = assert(hotline.listen("::1", 0, { backlog = 0 }))
  local _, port = l:getsockname()
  local held = assert(hotline.connect("::1", port, { timeout = helpers.TIMEOUT }))
  local probe = assert(hotline.socket("inet6"))
  probe:settimeout(0.1)
  local ok, err = probe:connect("::1", port)
  probe:close()
  assert(not ok and err == "timeout", "the listener still answers: " .. tostring(err))
  return l, held, port
end

local function syn_sent(port)
  return dns.sockets_to(port, { "tcp6" }, "02")
end

describe("hotline.connect's race when its wait raises", function()
  local eyeballs, dead, held, port
  lazy_setup(function()
    eyeballs = fresh_eyeballs()
    if helpers.has_ipv6() then dead, held, port = dead_ipv6() end
  end)
  lazy_teardown(function()
    if dead then dead:close(); held:close() end
  end)
  before_each(function() loop.reset() end)
  after_each(function() loop.reset() end)

  local addrs = function()
    return { { family = "inet6", host = "::1", port = port },
             { family = "inet6", host = "::1", port = port } }
  end

  it("closes every attempt, outside a task", function()
    if not dead then return pending("no IPv6 on this machine") end
    local ok, err = pcall(eyeballs.connect, addrs(), hotline.now() + 2, 0.05)
    assert.is_false(ok)
    assert.equal("cancelled", err)
    assert.equal(0, syn_sent(port))
  end)

  it("closes every attempt, in a task", function()
    if not dead then return pending("no IPv6 on this machine") end
    if _VERSION == "Lua 5.1" and not jit then
      return pending("Lua 5.1: pcall cannot yield in a task; the collector closes them")
    end
    local message
    loop.spawn_with_exit(function(_, ok, err)
      assert.is_false(ok)
      message = err
    end, nil, function()
      eyeballs.connect(addrs(), hotline.now() + 2, 0.05)
    end)
    assert(hotline.run())
    assert.matches("cancelled", message)
    assert.equal(0, syn_sent(port))
  end)
end)
