-- The demo with --tls: the real scripts as processes. The department's
-- line is encrypted (its own certificate, or a throwaway one it makes),
-- the handshake is a narrated step of each call, and a caller that does
-- not trust the certificate, or does not speak TLS, gets nowhere.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local certs = require "spec.tools.certs"

local GOVERNMENT = "lua/hotline/demo/government.lua"
local ENTREPRENEUR = "lua/hotline/demo/entrepreneur.lua"

local function unwrap(text)
  return (text:gsub("\n +", " "))
end

describe("the demo with --tls", function()
  local c, pid, out, port, cert
  setup(function()
    c = certs.make()
    out = os.tmpname()
    pid = helpers.start(string.format("%s %s --tls --no-color", helpers.lua, GOVERNMENT),
      { stdout = out })
    local text = helpers.eventually(function()
      local t = unwrap(helpers.slurp(out) or "")
      return t:match("callers check its certificate %S+") and t
    end)
    assert(text, "the department did not start: " .. tostring(helpers.slurp(out)))
    port = tonumber(text:match("listening on 127%.0%.0%.1 port (%d+)"))
    cert = text:match("callers check its certificate (%S+)")
  end)
  teardown(function()
    helpers.stop(pid)
    os.remove(out)
    if cert then os.execute("rm -rf '" .. cert:match("^(.*)/") .. "'") end
    certs.remove(c)
  end)

  it("encrypts the call: the handshake is a step on both sides", function()
    local ok, code, said, err = helpers.run_lua(ENTREPRENEUR, string.format(
      "--port %d --tls --cafile %s --no-color 'How do I register a company?'", port, cert))
    said = unwrap(said)
    assert.equal("", err)
    assert.is_true(ok, "exit " .. tostring(code))
    assert.matches("asks for an encrypted line and checks the department's certificate", said)
    assert.matches("the line is encrypted %(TLSv1%.3, [%w_]+%), the department is who it says"
      .. " %(CN=localhost%)", said)
    assert.matches("hears the answer: Fill in form B%-1", said)
    assert.is_truthy(helpers.eventually(function()
      return unwrap(helpers.slurp(out)):find("from here the line is encrypted", 1, true)
    end))
  end)

  it("refuses a certificate the caller does not trust", function()
    local ok, code, said = helpers.run_lua(ENTREPRENEUR, string.format(
      "--port %d --tls --cafile %s --no-color 'anything?'", port, c.ca))
    assert.is_false(ok)
    assert.equal(1, code)
    assert.matches("the line cannot be encrypted %(certificate verify failed", unwrap(said))
  end)

  it("hangs up on a caller who speaks plaintext", function()
    local s = assert(hotline.connect("127.0.0.1", port))
    s:settimeout(helpers.TIMEOUT)
    s:write("ASK hello?\n")
    local data = s:read("a")
    s:close()
    assert.is_true(data == nil or data == "")      -- no greeting in clear
    assert.is_truthy(helpers.eventually(function()
      return unwrap(helpers.slurp(out)):find("cannot set up an encrypted line", 1, true)
    end))
  end)

  it("takes its certificate from --cert and --key", function()
    local out2 = os.tmpname()
    local pid2 = helpers.start(string.format("%s %s --tls --cert %s --key %s --quiet",
      helpers.lua, GOVERNMENT, c.cert, c.key), { stdout = out2 })
    local port2 = helpers.eventually(function()
      return tonumber((helpers.slurp(out2) or ""):match("port (%d+)"))
    end)
    local ok, _, said = helpers.run_lua(ENTREPRENEUR, string.format(
      "--port %d --tls --cafile %s --quiet 'When do I pay taxes?'", port2, c.ca))
    helpers.stop(pid2)
    os.remove(out2)
    assert.is_true(ok)
    assert.matches("quarter", said)
  end)
end)
