-- spec/tools/sigpipe.lua [CERT KEY CA]: run as a process of its own by
-- spec/42-halfclose_spec.lua (plain) and spec/22-tls_load_spec.lua (over
-- TLS). Puts SIGPIPE back to its default action (killing the process),
-- then writes, with write and with send, to peers that have gone: on TCP
-- and on a unix socket pair, or over TLS to a peer that has reset (OpenSSL
-- sends through hotline's BIO, which uses MSG_NOSIGNAL). Prints each
-- failure's code and "survived": a SIGPIPE would have killed the process
-- before that.
package.path = "spec/tools/?.lua;" .. package.path
local hotline = require "hotline"
local core = require "hotline.core"

assert(core.sigcatch("PIPE", false))     -- SIG_DFL, whatever we inherited
local cert, key, ca = arg[1], arg[2], arg[3]

local function gone_tcp()
  local listener = assert(hotline.listen("127.0.0.1", 0))
  local c = assert(hotline.connect(listener:getsockname()))
  local s = assert(listener:accept())
  listener:close()
  s:close()
  return c
end

local function gone_unix()
  local a, b = assert(hotline.socketpair())
  b:close()
  return a
end

local function gone_tls()
  local a, b = require("certs").pair({ cafile = ca }, { cert = cert, key = key, server = true })
  assert(b:setoption("linger", 0))
  b:close()
  return a
end

for _, make in ipairs(cert and { gone_tls } or { gone_tcp, gone_unix }) do
  for _, how in ipairs({ "write", "send" }) do
    local sock = make()
    sock:settimeout(5)
    local code
    for _ = 1, 100 do                    -- the first may still be accepted
      local ok, _, c = sock[how](sock, string.rep("x", 1000))
      if not ok then
        code = c
        break
      end
    end
    io.write(how, " ", tostring(code), "\n")
    sock:close()
  end
end
io.write("survived\n")
