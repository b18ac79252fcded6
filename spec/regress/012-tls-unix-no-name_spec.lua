-- Regression: a verifying TLS client with no name to check (a unix socket
-- dialled without servername) checked only that the certificate chained
-- to a trusted CA, so any certificate that CA ever signed, for any name,
-- was accepted. It now fails ("ETLS") until servername says whom to
-- expect, or verify = false is written out.
local hotline = require "hotline"
local certs = require "spec.tools.certs"

describe("regress: TLS over a unix socket", function()
  local c, path
  setup(function()
    c = certs.make()
    path = os.tmpname() .. "-tls.sock"
  end)
  teardown(function()
    os.remove(path)
    certs.remove(c)
  end)

  -- the server presents other.example's certificate (signed by the CA)
  local function dial(client_tls)
    os.remove(path)
    local l = assert(hotline.listen(path))
    local serr, cli, err, code
    hotline.spawn(function()
      local a = assert(l:accept())
      a:settimeout(5)
      serr = select(2, a:starttls({ cert = c.other, key = c.other_key, server = true }))
      a:close()
    end)
    hotline.spawn(function()
      cli, err, code = hotline.connect(path, nil, { tls = client_tls, timeout = 5 })
      if cli then cli:close() end
    end)
    hotline.run()
    l:close()
    return cli, err, code, serr
  end

  it("refuses to verify without a name", function()
    local cli, err, code = dial({ cafile = c.ca })
    assert.is_nil(cli)
    assert.equal("ETLS", code)
    assert.matches("servername", err)
  end)

  it("checks the name given as servername", function()
    local cli, err, code = dial({ cafile = c.ca, servername = "localhost" })
    assert.is_nil(cli)
    assert.equal("ETLS", code)
    assert.matches("hostname mismatch", err)
    cli, err = dial({ cafile = c.ca, servername = "other.example" })
    assert.truthy(cli, err)
  end)
end)
