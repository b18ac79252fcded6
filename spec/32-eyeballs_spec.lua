-- Happy Eyeballs: hotline.connect to a name with addresses of both
-- families. The IPv6 address of "he.test" is a listener on ::1 whose
-- accept queue is full, so its SYNs go unanswered (as on a dead route);
-- its IPv4 address is a live server on 127.0.0.1, same port.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local dns = require "spec.tools.dns"

local ipv6 = helpers.has_ipv6()

-- How many connect attempts to [::1]:port are still under way (SYN_SENT)
-- on this machine: a losing attempt that was not closed stays there.
local function attempts_to(port)
  return dns.sockets_to(port, { "tcp6" }, "02")
end

-- A listener on ::1, port, that answers no SYN: backlog 0, and one
-- connection already queued. -> listener, the held client
local function dead_ipv6(port)
  local l = assert(hotline.listen("::1", port, { backlog = 0 }))
  port = select(2, l:getsockname())
  local held = assert(hotline.connect("::1", port, { timeout = helpers.TIMEOUT }))
  -- the queue is full now: a connect attempt does not finish
  local probe = assert(hotline.socket("inet6"))
  probe:settimeout(0.1)
  local ok, err = probe:connect("::1", port)
  probe:close()
  assert(not ok and err == "timeout", "the IPv6 listener still answers: " .. tostring(err))
  return l, held
end

describe("hotline.connect with Happy Eyeballs", function()
  local server, r
  lazy_setup(function()
    server = dns.start({
      "he.test=aaaa:::1,a:127.0.0.1",
      "v4.test=a:127.0.0.1",
      "v6.test=aaaa:::1",
    })
    r = dns.resolver(server)
  end)
  lazy_teardown(function() server:stop() end)
  before_each(function() loop.reset() end)

  local function pending_without_ipv6()
    if not ipv6 then pending("no IPv6 on this machine") end
    return not ipv6
  end

  it("a dead IPv6 address costs a quarter second, not a timeout", function()
    if pending_without_ipv6() then return end
    local live = assert(hotline.listen("127.0.0.1", 0))
    local _, port = live:getsockname()
    local dead, held = dead_ipv6(port)
    -- the resolver sorts ::1 first, as the system would
    assert.equal("inet6", assert(r:getaddrinfo("he.test", port))[1].family)
    local t0 = hotline.now()
    local c = assert(hotline.connect("he.test", port, { resolver = r, timeout = 5 }))
    local took = hotline.now() - t0
    assert.equal("127.0.0.1", (c:getpeername()))
    assert.is_nil(c:gettimeout())
    assert.is_true(took >= 0.2 and took < 0.9, "took " .. took)
    local s = assert(live:accept())
    s:close()
    c:close()
    assert.equal(0, attempts_to(port))   -- the IPv6 attempt is closed
    for _, x in ipairs({ live, dead, held }) do x:close() end
  end)

  it("does the same in tasks, each task with its own race", function()
    if pending_without_ipv6() then return end
    local live = assert(hotline.listen("127.0.0.1", 0))
    local _, port = live:getsockname()
    local dead, held = dead_ipv6(port)
    local peers, ticks = {}, 0
    local t0 = hotline.now()
    for i = 1, 3 do
      hotline.spawn(function()
        local c = assert(hotline.connect("he.test", port, { resolver = r }))
        peers[i] = c:getpeername()
        c:close()
      end)
    end
    hotline.spawn(function()        -- the loop keeps turning meanwhile
      for _ = 1, 10 do
        ticks = ticks + 1
        hotline.sleep(0.01)
      end
    end)
    assert(hotline.run())
    local took = hotline.now() - t0
    assert.same({ "127.0.0.1", "127.0.0.1", "127.0.0.1" }, peers)
    assert.equal(10, ticks)
    assert.is_true(took < 0.9, "took " .. took)
    for _ = 1, 3 do assert(live:accept()):close() end
    assert.equal(0, attempts_to(port))
    for _, x in ipairs({ live, dead, held }) do x:close() end
  end)

  it("HOTLINE_TRACE shows the query and each attempt", function()
    if pending_without_ipv6() then return end
    local live = assert(hotline.listen("127.0.0.1", 0))
    local _, port = live:getsockname()
    local dead, held = dead_ipv6(port)
    local ok, _, _, err = helpers.run_source(string.format([[
      local hotline = require "hotline"
      local r = assert(hotline.resolver({ nameservers = { %q }, hosts = false }))
      assert(hotline.connect("he.test", %d, { resolver = r, timeout = 5 })):close()
    ]], server.address, port), "HOTLINE_TRACE=1")
    assert.is_true(ok, err)
    assert.matches("%] ares_getaddrinfo%(he%.test, " .. port .. "%) = 2 ", err)
    local v6 = err:find("connect%(fd=%d+, %[::1%]:" .. port .. "%) = %-1 EINPROGRESS")
    local v4 = err:find("connect%(fd=%d+, 127%.0%.0%.1:" .. port .. "%)")
    assert.truthy(v6, err)
    assert.truthy(v4, err)
    assert.is_true(v6 < v4)                  -- IPv6 first, then IPv4 beside it
    assert(live:accept()):close()
    for _, x in ipairs({ live, dead, held }) do x:close() end
  end)

  it("opts.attempt_delay sets how long the first attempt runs alone", function()
    if pending_without_ipv6() then return end
    local live = assert(hotline.listen("127.0.0.1", 0))
    local _, port = live:getsockname()
    local dead, held = dead_ipv6(port)
    local t0 = hotline.now()
    local c = assert(hotline.connect("he.test", port, { resolver = r, attempt_delay = 0.02 }))
    local took = hotline.now() - t0
    assert.is_true(took < 0.2, "took " .. took)
    assert.equal("127.0.0.1", (c:getpeername()))
    c:close()
    for _, x in ipairs({ live, dead, held }) do x:close() end
  end)

  it("a refused first attempt starts the next at once", function()
    if pending_without_ipv6() then return end
    local live = assert(hotline.listen("127.0.0.1", 0))
    local _, port = live:getsockname()   -- nothing listens on [::1]:port
    local t0 = hotline.now()
    local c = assert(hotline.connect("he.test", port, { resolver = r }))
    assert.is_true(hotline.now() - t0 < 0.2)
    assert.equal("127.0.0.1", (c:getpeername()))
    c:close()
    live:close()
  end)

  it("names of one family connect", function()
    local live = assert(hotline.listen("127.0.0.1", 0))
    local _, port = live:getsockname()
    local c = assert(hotline.connect("v4.test", port, { resolver = r }))
    assert.equal("127.0.0.1", (c:getpeername()))
    c:close()
    live:close()
    if not ipv6 then return end
    live = assert(hotline.listen("::1", 0))
    _, port = live:getsockname()
    c = assert(hotline.connect("v6.test", port, { resolver = r }))
    assert.equal("::1", (c:getpeername()))
    c:close()
    live:close()
  end)

  it("every address failing gives the last failure", function()
    local probe = assert(hotline.listen("127.0.0.1", 0))
    local _, port = probe:getsockname()
    probe:close()
    local c, err, code = hotline.connect("he.test", port, { resolver = r })
    assert.is_nil(c)
    assert.equal("connection refused", err)
    assert.equal("ECONNREFUSED", code)
  end)

  it("opts.timeout ends the race and closes every attempt", function()
    if pending_without_ipv6() then return end
    local dead, held = dead_ipv6(0)
    local _, port = dead:getsockname()
    local t0 = hotline.now()
    local c, err, code = hotline.connect("v6.test", port, { resolver = r, timeout = 0.3 })
    local took = hotline.now() - t0
    assert.is_nil(c)
    assert.equal("timeout", err)
    assert.equal("ETIMEDOUT", code)
    assert.is_true(took >= 0.25 and took < 1, "took " .. took)
    assert.equal(0, attempts_to(port))
    dead:close()
    held:close()
  end)
end)
