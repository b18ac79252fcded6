-- spec/tools/certs.lua: throwaway certificates for the TLS specs, made
-- with the openssl command in a new temporary directory (nothing with a
-- private key is ever committed). certs.make() -> a table of paths:
--   ca, ca_key         a CA that nothing outside the specs trusts
--   cert, key          localhost and 127.0.0.1, signed by the CA
--   other, other_key   other.example only, signed by the CA
--   expired, expired_key   localhost, expired yesterday
--   client, client_key     a client certificate ("hotline client")
--   rogue, rogue_key   localhost, self-signed (an unknown CA)
--   dir                the directory; certs.remove(t) deletes it
-- certs.pair(client_tls, server_tls) handshakes a loopback pair in tasks.
local hotline = require "hotline"

local certs = {}

local function run(command)
  local ok = os.execute(command .. " >/dev/null 2>&1")
  assert(ok == true or ok == 0, "failed: " .. command)
end

local KEY = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

function certs.make()
  local dir = os.tmpname()
  os.remove(dir)
  run("mkdir -m 700 " .. dir)
  local function path(name) return dir .. "/" .. name end
  local function ext(name, text)
    local f = assert(io.open(path(name), "w"))
    f:write(text, "\n")
    f:close()
    return path(name)
  end
  run(string.format("openssl req -x509 %s -keyout %s -out %s -days 30 -subj '/CN=hotline test CA'",
    KEY, path("ca.key"), path("ca.pem")))
  local function signed(name, cn, days, extension)
    run(string.format("openssl req %s -keyout %s -out %s -subj '/CN=%s'", KEY,
      path(name .. ".key"), path(name .. ".csr"), cn))
    run(string.format("openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -days %d "
      .. "-out %s -extfile %s", path(name .. ".csr"), path("ca.pem"), path("ca.key"), days,
      path(name .. ".pem"), ext(name .. ".ext", extension)))
  end
  local server_ext = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
    .. "extendedKeyUsage=serverAuth"
  signed("server", "localhost", 30, server_ext)
  signed("other", "other.example", 30, "subjectAltName=DNS:other.example")
  signed("expired", "localhost", -1, server_ext)
  signed("client", "hotline client", 30, "extendedKeyUsage=clientAuth")
  run(string.format("openssl req -x509 %s -keyout %s -out %s -days 30 -subj '/CN=localhost' "
    .. "-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1'", KEY, path("rogue.key"),
    path("rogue.pem")))
  return {
    dir = dir, ca = path("ca.pem"), ca_key = path("ca.key"),
    cert = path("server.pem"), key = path("server.key"),
    other = path("other.pem"), other_key = path("other.key"),
    expired = path("expired.pem"), expired_key = path("expired.key"),
    client = path("client.pem"), client_key = path("client.key"),
    rogue = path("rogue.pem"), rogue_key = path("rogue.key"),
  }
end

function certs.remove(t)
  if t and t.dir and t.dir:match("^/tmp/") then os.execute("rm -rf '" .. t.dir .. "'") end
end

-- A TCP pair on 127.0.0.1 with TLS: the client dials "localhost" with
-- hotline.connect{tls = client_tls}, the server side does
-- starttls(server_tls). -> client, server (nil where that side failed),
-- the client's err, code, the server's err, code. Timeouts of 5 s.
function certs.pair(client_tls, server_tls, host)
  local listener = assert(hotline.listen("127.0.0.1", 0))
  local _, port = listener:getsockname()
  local c, s, cerr, ccode, serr, scode
  hotline.spawn(function()
    local a = assert(listener:accept())
    a:settimeout(5)
    local ok
    ok, serr, scode = a:starttls(server_tls)
    if ok then s = a else a:close() end
  end)
  hotline.spawn(function()
    c, cerr, ccode = hotline.connect(host or "localhost", port, { tls = client_tls, timeout = 5 })
  end)
  hotline.run()
  listener:close()
  if c then c:settimeout(5) end
  return c, s, cerr, ccode, serr, scode
end

return certs
