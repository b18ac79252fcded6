-- make TLS=0: hotline built without OpenSSL. The spec builds that variant
-- into its own directory (build/notls-<version>) and runs a child Lua on
-- it: the module does not load libssl, and every way to ask for TLS
-- answers nil, "hotline was built without TLS", "ENOTSUP".
local helpers = require "spec.helpers"

local CHILD = [[
  local hotline = require "hotline"
  local function say(...)
    local t = { n = select("#", ...), ... }
    for i = 1, t.n do t[i] = tostring(t[i]) end
    io.stdout:write(table.concat(t, " ", 1, t.n), "\n")
  end
  local maps = assert(io.open("/proc/self/maps")):read("*a")
  say("libssl", maps:find("libssl", 1, true) ~= nil)
  say("context", hotline.tls.context())
  local l = assert(hotline.listen("127.0.0.1", 0))
  local _, port = l:getsockname()
  say("connect", hotline.connect("127.0.0.1", port, { tls = true }))
  local s = assert(hotline.connect("127.0.0.1", port))
  say("starttls", s:starttls())
  say("tlsinfo", s:tlsinfo())
  say("serve", hotline.serve { host = "127.0.0.1", port = 0, tls = true,
    handler = function() end })
  s:close()
  l:close()
]]

describe("the TLS=0 build", function()
  -- (make check-asan/valgrind preload their tools into this process's
  -- children: a compiler run under them measures nothing of hotline)
  local it_ = os.getenv("HOTLINE_CHECK") and pending or it

  it_("builds without OpenSSL and answers ENOTSUP", function()
    local build = "build/notls-" .. helpers.version
    local ok = os.execute(string.format("make --no-print-directory -s LUA=%s LUA_VERSION=%s "
      .. "TLS=0 BUILD=%s build >/dev/null 2>&1", helpers.lua, helpers.version, build))
    assert(ok == true or ok == 0, "make TLS=0 failed")
    local script, out = os.tmpname(), os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(CHILD)
    f:close()
    ok = os.execute(string.format("timeout 30 env LUA_PATH='lua/?.lua;lua/?/init.lua;;' "
      .. "LUA_CPATH='%s/?.so;;' %s %s >%s 2>&1", build, helpers.lua, script, out))
    local text = helpers.slurp(out)
    os.remove(script)
    os.remove(out)
    assert(ok == true or ok == 0, text)
    local NO = "nil hotline was built without TLS ENOTSUP"
    assert.equal(table.concat({
      "libssl false", "context " .. NO, "connect " .. NO, "starttls " .. NO,
      "tlsinfo nil", "serve " .. NO, "" }, "\n"), text)
  end)
end)
