-- Regression: tlsinfo() read an IP address in the peer's subjectAltName
-- as 16 bytes whenever it was not 4 long, so a certificate with an 8-byte
-- entry (legal DER, the shape of a name-constraint range) made it read past
-- the end of OpenSSL's string and report a made-up IPv6 address. Entries
-- that are neither 4 nor 16 bytes are now left out.
local certs = require "spec.tools.certs"

describe("regress: tlsinfo with an odd-length IP in subjectAltName", function()
  local dir
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. dir))
    -- SEQUENCE { dNSName "localhost", iPAddress 7f000001ffffffff }
    local san = "DER:3015820" .. "96c6f63616c686f7374" .. "87087f000001ffffffff"
    local ok = os.execute(string.format("openssl req -x509 -newkey ec -pkeyopt "
      .. "ec_paramgen_curve:prime256v1 -nodes -keyout %s/k.pem -out %s/c.pem -days 3 "
      .. "-subj /CN=localhost -addext 'subjectAltName=%s' >/dev/null 2>&1", dir, dir, san))
    assert(ok == true or ok == 0, "openssl req failed")
  end)
  teardown(function() certs.remove({ dir = dir }) end)

  it("lists only the well-formed names", function()
    local a, b, cerr, ccode, serr = certs.pair({ verify = false },
      { cert = dir .. "/c.pem", key = dir .. "/k.pem", server = true })
    assert(a, tostring(cerr) .. " " .. tostring(ccode) .. " / " .. tostring(serr))
    assert(b, serr)
    assert.same({ "localhost" }, a:tlsinfo().peer.san)
    a:close()
    b:close()
  end)
end)
