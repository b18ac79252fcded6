-- Bug: s:connect(name, port) on a socket with timeout 0 bounded the lookup
-- by that timeout, so it answered nil, "timeout" before any address was
-- known, every time: the usual non-blocking pattern (connect, wait until
-- writable, connect again) never connected. Before names were looked up
-- without blocking, the lookup finished first and only the connect did not
-- wait; it does so again (in a task only the task waits for the lookup).
local hotline = require "hotline"
local loop = require "hotline.loop"
local resolver = require "hotline.resolver"
local dns = require "spec.tools.dns"

describe("s:connect(name) with timeout 0", function()
  local server, r, lookup
  lazy_setup(function()
    server = dns.start({ "late.test=a:127.0.0.1,delay:0.05" })
    r = dns.resolver(server)
    lookup = resolver.lookup   -- s:connect asks the default resolver: make it the spec's
    resolver.lookup = function(which, ...) return lookup(which or r, ...) end
  end)
  lazy_teardown(function()
    resolver.lookup = lookup
    server:stop()
  end)
  before_each(function() loop.reset() end)

  local function dial()
    local l = assert(hotline.listen("127.0.0.1", 0))
    local _, port = l:getsockname()
    local s = assert(hotline.socket("inet"))
    s:settimeout(0)
    local ok, err = s:connect("late.test", port)
    for _ = 1, 50 do   -- (bounded) wait until writable, then ask again
      if ok or err ~= "timeout" then break end
      loop.await(s, "wantwrite", hotline.now() + 0.1)
      ok, err = s:connect("late.test", port)
    end
    local peer = ok and s:getpeername()
    s:close()
    l:close()
    return ok, err, peer
  end

  it("looks the name up, then connects without waiting, outside a task", function()
    local ok, err, peer = dial()
    assert.is_true(ok, err)
    assert.equal("127.0.0.1", peer)
  end)

  it("and in a task", function()
    local ok, err, peer
    hotline.spawn(function() ok, err, peer = dial() end)
    assert(hotline.run())
    assert.is_true(ok, err)
    assert.equal("127.0.0.1", peer)
  end)
end)
