-- Bug: c-ares 1.18 puts any string in a question: hotline.getaddrinfo("[::1]")
-- or a name with a space cost a round trip to the nameservers (by default
-- the machine's) for a name that cannot exist. A host with a byte no host
-- name has fails at once now with EAI_NONAME, unasked.
local hotline = require "hotline"
local loop = require "hotline.loop"
local dns = require "spec.tools.dns"

describe("a host that cannot be a host name", function()
  local server
  lazy_setup(function() server = dns.start({ "a.test=a:127.0.0.2", "*=a:127.0.0.9" }) end)
  lazy_teardown(function() server:stop() end)
  before_each(function() loop.reset() end)

  it("fails with EAI_NONAME without a question", function()
    local r = dns.resolver(server)
    for _, host in ipairs({ "[::1]", "[127.0.0.1]", "a b", "a\tb", "x\255.test", "a%b" }) do
      local list, _, code = r:getaddrinfo(host, 80, { family = "inet" })
      assert.is_nil(list, host)
      assert.equal("EAI_NONAME", code, host)
    end
    local c, _, code = hotline.connect("[::1]", 80, { resolver = r })
    assert.is_nil(c)
    assert.equal("EAI_NONAME", code)
    assert.same({}, server:questions())
    -- host names still go out: letters, digits, '-', '_' and dots
    assert.equal("127.0.0.2", assert(r:getaddrinfo("a.test", 80, { family = "inet" }))[1].host)
    assert(r:getaddrinfo("_srv-1.A.test", 80, { family = "inet" }))
    assert.equal(1, server:count("_srv-1.a.test", "A"))   -- (logged in lower case)
  end)
end)
