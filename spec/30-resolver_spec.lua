-- Names: hotline.getaddrinfo, hotline.getnameinfo and hotline.resolver{}
-- against a DNS server of the specs' own on 127.0.0.1
-- (spec/tools/dnsserver.py): answers, NXDOMAIN, silence, numeric hosts,
-- hosts files, reverse lookups, a caller's deadline and the trace.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local dns = require "spec.tools.dns"

describe("hotline.resolver", function()
  local server
  lazy_setup(function()
    server = dns.start({
      "a.test=a:127.0.0.2",
      "six.test=aaaa:::1",
      "both.test=a:127.0.0.3,aaaa:::1",
      "narrow.test=a:127.0.0.3,aaaa:::1",
      "silent.test=silent",
      "many.test=a:127.0.0.4,a:127.0.0.5",
      dns.arpa("127.0.0.5") .. "=ptr:five.test",
    })
  end)
  lazy_teardown(function() server:stop() end)
  before_each(function() loop.reset() end)

  it("resolves a name outside any task, in getaddrinfo's shape", function()
    local r = dns.resolver(server)
    local list = assert(r:getaddrinfo("a.test", 80))
    assert.same({ { family = "inet", host = "127.0.0.2", port = 80, socktype = "stream" } }, list)
    list = assert(r:getaddrinfo("a.test", "http"))
    assert.same({ family = "inet", host = "127.0.0.2", port = 80, socktype = "stream" }, list[1])
    list = assert(r:getaddrinfo("a.test", 53, { socktype = "dgram" }))
    assert.same({ family = "inet", host = "127.0.0.2", port = 53, socktype = "dgram" }, list[1])
    local none, _, code = r:getaddrinfo("a.test", "no-such-service")
    assert.is_nil(none)
    assert.equal("EAI_SERVICE", code)
    assert.equal(0, assert(r:getaddrinfo("a.test", 0))[1].port)
  end)

  it("resolves in a task, and gives every address", function()
    local r = dns.resolver(server)
    local list
    hotline.spawn(function() list = assert(r:getaddrinfo("many.test", 8080)) end)
    assert(hotline.run())
    local hosts = {}
    for _, a in ipairs(list) do hosts[#hosts + 1] = a.host end
    table.sort(hosts)
    assert.same({ "127.0.0.4", "127.0.0.5" }, hosts)
  end)

  it("asks for both families unless hints.family narrows it", function()
    local r = dns.resolver(server)
    local list = assert(r:getaddrinfo("both.test", 80))
    local families = {}
    for _, a in ipairs(list) do families[a.family] = a.host end
    assert.same({ inet = "127.0.0.3", inet6 = "::1" }, families)
    assert.same({ { family = "inet6", host = "::1", port = 80, socktype = "stream" } },
      assert(r:getaddrinfo("six.test", 80)))
    list = assert(r:getaddrinfo("narrow.test", 80, { family = "inet" }))
    assert.same({ { family = "inet", host = "127.0.0.3", port = 80, socktype = "stream" } }, list)
    assert.equal(1, server:count("narrow.test", "A"))
    assert.equal(0, server:count("narrow.test", "AAAA"))
  end)

  it("asks a nameserver on IPv6, with a port", function()
    if not helpers.has_ipv6() then return pending("no IPv6 on this machine") end
    local server6 = dns.start({ "v6server.test=a:127.0.0.8" }, { host = "::1" })
    local r = assert(hotline.resolver({ nameservers = { "[::1]:" .. server6.port }, hosts = false,
      timeout = 2, attempts = 1 }))
    local list = r:getaddrinfo("v6server.test", 80, { family = "inet" })
    server6:stop()
    assert.same({ { family = "inet", host = "127.0.0.8", port = 80, socktype = "stream" } }, list)
  end)

  it("an unknown name gives EAI_NONAME", function()
    local r = dns.resolver(server)
    local list, err, code = r:getaddrinfo("nx.test", 80)
    assert.is_nil(list)
    assert.equal("string", type(err))
    assert.equal("EAI_NONAME", code)
    assert.equal(1, server:count("nx.test", "A"))
  end)

  it("names under .invalid fail at once, unasked (RFC 6761)", function()
    local r = dns.resolver(server)
    local before = #server:questions()
    for _, name in ipairs({ "no-such-host.invalid", "X.INVALID.", "invalid" }) do
      local list, _, code = r:getaddrinfo(name, 80)
      assert.is_nil(list)
      assert.equal("EAI_NONAME", code)
    end
    assert.equal(before, #server:questions())
    assert.equal("127.0.0.2", assert(r:getaddrinfo("a.test", 80))[1].host)
  end)

  it("a silent server gives EAI_AGAIN within timeout x attempts", function()
    local r = dns.resolver(server, { timeout = 0.2, attempts = 2 })
    local t0 = hotline.now()
    local list, err, code = r:getaddrinfo("silent.test", 80, { family = "inet" })
    local took = hotline.now() - t0
    assert.is_nil(list)
    assert.equal("temporary failure in name resolution", err)
    assert.equal("EAI_AGAIN", code)
    assert.is_true(took >= 0.35, "took " .. took)
    assert.is_true(took < 0.2 * 2 + 0.5, "took " .. took)
    assert.equal(2, server:count("silent.test", "A"))
  end)

  it("numeric hosts never reach the server", function()
    local r = dns.resolver(server)
    local before = #server:questions()
    assert.same({ { family = "inet", host = "127.0.0.9", port = 1, socktype = "stream" } },
      assert(r:getaddrinfo("127.0.0.9", 1)))
    assert.equal("::1", assert(r:getaddrinfo("::1", 1))[1].host)
    local list, _, code = r:getaddrinfo("::1", 1, { family = "inet" })
    assert.is_nil(list)
    assert.matches("^EAI_", code)
    assert.equal("0.0.0.0", assert(r:getaddrinfo("*", 1, { family = "inet" }))[1].host)
    assert.equal(before, #server:questions())
  end)

  it("localhost comes from /etc/hosts, in and out of tasks", function()
    local hosts = assert(hotline.getaddrinfo("localhost", 80, { family = "inet" }))
    assert.equal("127.0.0.1", hosts[1].host)
    local list
    hotline.spawn(function()
      list = assert(hotline.getaddrinfo("localhost", 80, { family = "inet" }))
    end)
    assert(hotline.run())
    assert.equal("127.0.0.1", list[1].host)
  end)

  it("hosts = false: localhost is still the loopback address, unasked", function()
    local r = dns.resolver(server)
    local before = #server:questions()
    assert.same({ { family = "inet", host = "127.0.0.1", port = 80, socktype = "stream" } },
      assert(r:getaddrinfo("localhost", 80, { family = "inet" })))
    assert.equal("::1", assert(r:getaddrinfo("localhost", 80, { family = "inet6" }))[1].host)
    assert.equal(before, #server:questions())
  end)

  it("hosts = path: that file first, then the nameservers", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("# a hosts file of the spec's own\n127.0.0.7 Custom.Test other  # comment\n",
      "::1 custom.test\n")
    f:close()
    local r = dns.resolver(server, { hosts = path })
    local before = #server:questions()
    local list = assert(r:getaddrinfo("custom.test", 80))
    assert.same({ "127.0.0.7", "::1" }, { list[1].host, list[2].host })
    assert.same({ { family = "inet6", host = "::1", port = 80, socktype = "stream" } },
      assert(r:getaddrinfo("custom.test", 80, { family = "inet6" })))
    assert.equal("127.0.0.7", assert(r:getaddrinfo("OTHER", 80))[1].host)
    assert.equal("127.0.0.1", assert(r:getaddrinfo("localhost", 80, { family = "inet" }))[1].host)
    assert.equal("Custom.Test", r:getnameinfo("127.0.0.7"))   -- as written
    assert.equal(before, #server:questions())
    assert.equal("127.0.0.2", assert(r:getaddrinfo("a.test", 80))[1].host)   -- not in the file
    os.remove(path)
  end)

  it("getnameinfo: the name of an address", function()
    local r = dns.resolver(server)
    assert.equal("five.test", r:getnameinfo("127.0.0.5"))
    local name
    hotline.spawn(function() name = r:getnameinfo("127.0.0.5") end)
    assert(hotline.run())
    assert.equal("five.test", name)
    local none, _, code = r:getnameinfo("127.0.0.6")   -- NXDOMAIN
    assert.is_nil(none)
    assert.equal("EAI_NONAME", code)
    none, _, code = r:getnameinfo("a.test")
    assert.is_nil(none)
    assert.equal("EAI_NONAME", code)
    assert.equal("localhost", hotline.getnameinfo("127.0.0.1"))   -- /etc/hosts
  end)

  it("a caller's own deadline bounds the lookup", function()
    local r = dns.resolver(server, { timeout = 3 })
    local t0 = hotline.now()
    local sock, err, code = hotline.connect("silent.test", 80, { resolver = r, timeout = 0.2 })
    local took = hotline.now() - t0
    assert.is_nil(sock)
    assert.equal("timeout", err)
    assert.equal("ETIMEDOUT", code)
    assert.is_true(took >= 0.15 and took < 1.5, "took " .. took)
    assert.equal(0, server:clients())   -- the query's socket is closed
  end)

  it("connect and listen take a resolver", function()
    local r = dns.resolver(server)
    local l = assert(hotline.listen("a.test", 0, { resolver = r }))
    local host, port = l:getsockname()
    assert.equal("127.0.0.2", host)
    local c = assert(hotline.connect("a.test", port, { resolver = r }))
    local s = assert(l:accept())
    assert.equal("127.0.0.2", (c:getpeername()))
    for _, x in ipairs({ c, s, l }) do x:close() end
    local none, _, code = hotline.connect("nx.test", port, { resolver = r })
    assert.is_nil(none)
    assert.equal("EAI_NONAME", code)
  end)

  it("s:connect(name, port) looks the name up for the socket's family", function()
    local l = assert(hotline.listen("127.0.0.1", 0))
    local _, port = l:getsockname()
    local s = assert(hotline.socket("inet"))
    s:settimeout(helpers.TIMEOUT)
    assert(s:connect("localhost", port))
    assert.equal("127.0.0.1", (s:getpeername()))
    s:close()
    assert(l:accept()):close()
    l:close()
    s = assert(hotline.socket("inet"))
    local ok, _, code = s:connect("nowhere.invalid", port)
    assert.is_nil(ok)
    assert.equal("EAI_NONAME", code)
    s:close()
  end)

  it("HOTLINE_TRACE shows each query", function()
    local ok, _, _, err = helpers.run_source(string.format([[
      local hotline = require "hotline"
      local r = assert(hotline.resolver({ nameservers = { %q }, hosts = false,
        timeout = 0.1, attempts = 2 }))
      assert(r:getaddrinfo("a.test", 80))
      assert(not r:getaddrinfo("silent.test", 80))
    ]], server.address), "HOTLINE_TRACE=1")
    assert.is_true(ok, err)
    assert.matches("%] ares_getaddrinfo%(a%.test, 80%) = 1  [%d.]+ ms", err)
    local _, retries = err:gsub("ares_getaddrinfo%(silent%.test, 80%) = %-1 EAI_AGAIN", "")
    assert.equal(2, retries)
  end)

  it("refuses wrong options", function()
    assert.has_error(function() hotline.resolver({ bogus = 1 }) end,
      "bad argument #1 to 'resolver' (invalid option 'bogus')")
    assert.has_error(function() hotline.resolver({ nameservers = {} }) end)
    assert.has_error(function() hotline.resolver({ nameservers = { "a,b" } }) end)
    assert.has_error(function() hotline.resolver({ nameservers = { "not an address" } }) end)
    assert.has_error(function() hotline.resolver({ nameservers = { "x.y" } }) end)
    assert.has_error(function() hotline.resolver({ timeout = -1 }) end)
    assert.has_error(function() hotline.resolver({ attempts = 0.5 }) end)
    assert.has_error(function() hotline.resolver({ hosts = 1 }) end)
    assert.has_error(function() hotline.resolver("x") end)
    assert.has_error(function() hotline.connect("a.test", 1, { resolver = {} }) end,
      "bad argument #3 to 'connect' (opts.resolver must be a hotline.resolver)")
    local r = dns.resolver(server)
    assert.has_error(function() r.getaddrinfo({}, "a.test", 1) end)
    assert.has_error(function() r:getaddrinfo({}, 1) end)
    assert.has_error(function() r:getaddrinfo("a.test", 1e6) end)
    assert.has_error(function() r:getnameinfo(nil) end)
  end)
end)
