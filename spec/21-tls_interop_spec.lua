-- TLS interop with peers nobody here wrote: hotline's client against
-- openssl s_server and a Python ssl server; openssl s_client, a Python
-- ssl client and curl against hotline.serve{tls=} (spec/tools/tls-server.lua).
local hotline = require "hotline"
local helpers = require "spec.helpers"
local certs = require "spec.tools.certs"

local function has(command)
  return os.execute("command -v " .. command .. " >/dev/null 2>&1") == true
    or os.execute("command -v " .. command .. " >/dev/null 2>&1") == 0
end

-- The peers run without the EAGAIN mock's LD_PRELOAD (make check-eagain
-- tests hotline, not them).
local PEER = "env -u LD_PRELOAD "

-- A port free a moment ago, for servers that cannot report theirs.
local function free_port()
  local l = assert(hotline.listen("127.0.0.1", 0))
  local _, port = l:getsockname()
  l:close()
  return port
end

-- Waits until something listens on port (another process starts it).
local function wait_listening(port)
  return helpers.eventually(function()
    local s = hotline.connect("127.0.0.1", port)
    if s then s:close() end
    return s ~= nil
  end)
end

-- Runs a shell command, returns its output.
local function run(command)
  local p = io.popen(command)
  local out = p:read("*a")
  p:close()
  return out
end

local function tmpfile(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

describe("TLS interop", function()
  local c
  setup(function() c = certs.make() end)
  teardown(function() certs.remove(c) end)

  describe("hotline's client", function()
    it("talks to openssl s_server", function()
      local port = free_port()
      local pid = helpers.start(string.format(
        PEER .. "openssl s_server -accept 127.0.0.1:%d -cert %s -key %s -rev -quiet", port,
        c.cert, c.key))
      finally(function() helpers.stop(pid) end)   -- (also when an assert fails)
      assert.is_true(wait_listening(port))
      local s, err = hotline.connect("localhost", port, { tls = { cafile = c.ca }, timeout = 5 })
      assert(s, err)
      s:settimeout(5)
      s:write("hello\n")
      assert.equal("olleh", s:read("l"))
      assert.is_true(s:tlsinfo().verified)
      s:close()
    end)

    it("talks to a Python ssl server", function()
      local script = tmpfile([[
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.set_alpn_protocols(["echo/1"])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
conn, _ = ls.accept()
with ctx.wrap_socket(conn, server_side=True) as s:
    f = s.makefile("rwb")
    line = f.readline()
    f.write(b"python says " + line + (s.selected_alpn_protocol() or "none").encode() + b"\n")
    f.flush()
]])
      local out = os.tmpname()
      local pid = helpers.start(string.format(PEER .. "timeout 20 python3 %s %s %s", script, c.cert,
        c.key), { stdout = out })
      finally(function()
        helpers.stop(pid)
        os.remove(script)
        os.remove(out)
      end)
      local port = helpers.eventually(function() return tonumber(helpers.slurp(out)) end)
      assert(port, "the python server did not start")
      local s = assert(hotline.connect("localhost", port,
        { tls = { cafile = c.ca, alpn = { "echo/1" } }, timeout = 5 }))
      s:settimeout(5)
      s:write("hi\n")
      assert.equal("python says hi", s:read("l"))
      assert.equal("echo/1", s:read("l"))
      assert.equal("echo/1", s:tlsinfo().alpn)
      s:close()
    end)
  end)

  describe("hotline.serve{tls=}", function()
    local pid, port, out
    setup(function()
      out = os.tmpname()
      pid = helpers.start(string.format("%s spec/tools/tls-server.lua %s %s", helpers.lua,
        c.cert, c.key), { stdout = out })
      port = helpers.eventually(function() return tonumber(helpers.slurp(out)) end)
      assert(port, "the hotline server did not start")
    end)
    teardown(function()
      helpers.stop(pid)
      os.remove(out)
    end)

    it("answers openssl s_client", function()
      local reply = run(string.format("printf 'ping\\nbye\\n' | " .. PEER
        .. "timeout 10 openssl s_client "
        .. "-connect 127.0.0.1:%d -CAfile %s -servername localhost -verify_return_error "
        .. "-quiet -ign_eof 2>/dev/null", port, c.ca))
      assert.equal("PING\nBYE\n", reply)
    end)

    it("answers a Python ssl client", function()
      local script = tmpfile([[
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.set_alpn_protocols(["http/1.1"])
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"from python\n")
        data = b""
        while not data.endswith(b"\n"):
            data += s.recv(100)
        print(data.decode().strip(), s.version(), s.selected_alpn_protocol())
]])
      local reply = run(string.format(PEER .. "timeout 10 python3 %s %s %d 2>&1", script, c.ca,
        port))
      os.remove(script)
      assert.matches("^FROM PYTHON TLSv1%.3 http/1%.1\n$", reply)
    end)

    it("serves curl --cacert a small HTTP reply", function()
      if not has("curl") then return pending("no curl") end
      local reply = run(string.format(PEER
        .. "timeout 10 curl -sS --cacert %s https://localhost:%d/ 2>&1", c.ca, port))
      assert.equal("hello from hotline over TLS\n", reply)
    end)

    it("is refused by curl without the CA", function()
      local reply = run(string.format(PEER
        .. "timeout 10 curl -sS https://localhost:%d/ 2>&1; echo rc=$?", port))
      assert.matches("rc=60", reply)
    end)
  end)
end)
