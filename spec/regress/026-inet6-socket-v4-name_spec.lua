-- Bug: s:connect(name, port) on an inet6 socket asked for AAAA records
-- only, so a name with only an IPv4 address failed with EAI_NONAME; the
-- system's resolver, which the method used before, answers it with the
-- IPv4-mapped address (AI_V4MAPPED) and the dual-stack socket connects.
-- The lookup asks for both families there now and maps an IPv4 answer
-- when no IPv6 one came.
local hotline = require "hotline"
local loop = require "hotline.loop"
local resolver = require "hotline.resolver"
local helpers = require "spec.helpers"
local dns = require "spec.tools.dns"

describe("s:connect(name) on an inet6 socket", function()
  local server, r, lookup
  lazy_setup(function()
    server = dns.start({ "v4.test=a:127.0.0.1", "both.test=a:127.0.0.1,aaaa:::1" })
    r = dns.resolver(server)
    -- s:connect asks the default resolver: make it the spec's
    lookup = resolver.lookup
    resolver.lookup = function(which, ...) return lookup(which or r, ...) end
  end)
  lazy_teardown(function()
    resolver.lookup = lookup
    server:stop()
  end)
  before_each(function() loop.reset() end)

  local function dial(name, host)
    local l = assert(hotline.listen(host, 0))
    local _, port = l:getsockname()
    local s = assert(hotline.socket("inet6"))
    s:settimeout(helpers.TIMEOUT)
    local ok, err, code = s:connect(name, port)
    local peer = ok and s:getpeername()
    s:close()
    l:close()
    return ok, err, code, peer
  end

  it("reaches a name with only an IPv4 address through a mapped address", function()
    if not helpers.has_ipv6() then return pending("no IPv6 on this machine") end
    local ok, err, code, peer = dial("v4.test", "127.0.0.1")
    assert.is_true(ok, tostring(err) .. " " .. tostring(code))
    assert.equal("::ffff:127.0.0.1", peer)
  end)

  it("still takes the IPv6 address when there is one", function()
    if not helpers.has_ipv6() then return pending("no IPv6 on this machine") end
    local ok, err, _, peer = dial("both.test", "::1")
    assert.is_true(ok, err)
    assert.equal("::1", peer)
  end)
end)
