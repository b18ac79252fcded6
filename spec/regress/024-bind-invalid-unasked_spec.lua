-- Bug: s:bind and s:sendto still give names to the system's resolver,
-- which blocks and does not know that the "invalid" domain is never
-- delegated (RFC 6761): a spec's s:bind("no-such-host.invalid", 0) asked
-- the machine's nameservers. Those names now fail at once, unasked, there
-- too, as they do in hotline.getaddrinfo.
local helpers = require "spec.helpers"

describe("a name under .invalid given to s:bind or s:sendto", function()
  it("fails with EAI_NONAME without a getaddrinfo call", function()
    local ok, _, _, err = helpers.run_source([[
      local hotline = require "hotline"
      local s = assert(hotline.socket("inet", "dgram"))
      local ok, _, code = s:bind("no-such-host.invalid", 0)
      assert(ok == nil and code == "EAI_NONAME", code)
      ok, _, code = s:sendto("x", "elsewhere.INVALID.", 9)
      assert(ok == nil and code == "EAI_NONAME", code)
      s:close()
      io.stderr:write("done\n")
    ]], "HOTLINE_TRACE=1")
    assert.is_true(ok, err)
    assert.matches("done", err)
    assert.not_matches("%] getaddrinfo%(", err)
  end)
end)
