-- spec/tools/tls-sigpipe.lua CERT KEY CA: run by spec/22-tls_load_spec.lua
-- as a process of its own. With SIGPIPE at its default action, writes
-- over TLS (write and send) to a peer that has reset. OpenSSL sends
-- through hotline's BIO, which uses MSG_NOSIGNAL: prints each failure's
-- code and "survived"; a SIGPIPE would have killed the process first.
package.path = "spec/tools/?.lua;" .. package.path
local core = require "hotline.core"
local certs = require "certs"

assert(core.sigcatch("PIPE", false))
local cert, key, ca = arg[1], arg[2], arg[3]

for _, how in ipairs({ "write", "send" }) do
  local a, b = certs.pair({ cafile = ca }, { cert = cert, key = key, server = true })
  assert(b:setoption("linger", 0))
  b:close()
  local code
  for _ = 1, 100 do                    -- the first may still be accepted
    local ok, _, c = a[how](a, string.rep("x", 1000))
    if not ok then
      code = c
      break
    end
  end
  io.write(how, " ", tostring(code), "\n")
  a:close()
end
io.write("survived\n")
