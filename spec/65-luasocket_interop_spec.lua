-- hotline.luasocket against the real LuaSocket (Debian's lua-socket),
-- which runs in a process of its own: a hotline.luasocket client against
-- a LuaSocket server and the other way round, with line, number and "*a"
-- patterns, outside tasks and in one.
local helpers = require "spec.helpers"
local ls = require "spec.tools.luasocket_helpers"
local interop = require "spec.tools.luasocket_interop"

local socket = ls.socket
ls.it = it

local EXPECTED = "line:hello|num:12345|all:65536:same\n"

-- Starts the real LuaSocket end; -> pid, stdout file.
local function start_real(...)
  local out = os.tmpname()
  local pid = helpers.start(helpers.lua .. " spec/tools/luasocket_interop.lua " ..
    table.concat({ ... }, " "), { stdout = out })
  return pid, out
end

describe("hotline.luasocket interop with LuaSocket", function()
  if not ls.real() then
    pending("LuaSocket (lua-socket) is not installed for this Lua")
    return
  end

  ls.both("a hotline.luasocket client talks to a LuaSocket server", function()
    local pid, out = start_real("server")
    local port = helpers.eventually(function()
      return tonumber((helpers.slurp(out) or ""):match("PORT (%d+)"))
    end)
    assert.is_number(port)
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(helpers.TIMEOUT)
    assert.equal(EXPECTED:sub(1, -2), interop.talk(socket, c):gsub("\n$", ""))
    helpers.stop(pid)
    os.remove(out)
  end)

  ls.both("a LuaSocket client talks to a hotline.luasocket server", function()
    local server, port = ls.listen(socket)
    local pid, out = start_real("client", port)
    local c = assert(server:accept())
    c:settimeout(helpers.TIMEOUT)
    interop.serve(socket, c)
    server:close()
    assert.is_truthy(helpers.eventually(function() return not helpers.alive(pid) end))
    assert.equal(EXPECTED, helpers.slurp(out))
    helpers.stop(pid)
    os.remove(out)
  end)
end)
