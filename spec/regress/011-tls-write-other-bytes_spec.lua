-- Regression: a TLS write that timed out leaves a record inside OpenSSL,
-- half sent. A next write with other bytes made OpenSSL (in its
-- moving-buffer mode) send the old record and count it as the first bytes
-- of the new write: those were lost and the old ones sent twice. Now that
-- write is refused (nil, msg, "ETLS") and the rest of the first one, the
-- bytes the timeout reported unsent, still goes through intact.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local certs = require "spec.tools.certs"

describe("regress: a TLS write after a timed-out one", function()
  local c
  setup(function() c = certs.make() end)
  teardown(function() certs.remove(c) end)

  it("must resume with the same bytes", function()
    local a, b, cerr, ccode, serr = certs.pair({ cafile = c.ca },
      { cert = c.cert, key = c.key, server = true })
    assert(a, tostring(cerr) .. " " .. tostring(ccode) .. " / " .. tostring(serr))
    assert(b, serr)
    local big = string.rep("0123456789abcdef", helpers.size(524288, 4096))
    a:settimeout(0.2)
    local ok, err, code, sent = a:write(big)   -- nobody reads: it times out
    assert.is_nil(ok)
    assert.equal("timeout", err, code)
    assert.is_true(sent < #big)
    local other, ocode, received, rerr, _
    hotline.spawn(function()
      received, rerr = b:read(#big)
    end)
    hotline.spawn(function()
      a:settimeout(5)
      other, _, ocode = a:write(string.rep("X", 20000))
      assert(a:write(big:sub(sent + 1)))
    end)
    hotline.run()
    assert.is_nil(other)
    assert.equal("ETLS", ocode)
    assert.equal(#big, received and #received, rerr)
    assert.is_true(received == big, "the stream differs from what was written")
    a:close()
    b:close()
  end)
end)
