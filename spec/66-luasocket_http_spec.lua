-- LuaSocket's own socket.http (Debian's lua-socket, unchanged) running on
-- hotline.luasocket after install(): fetching from a local HTTP server
-- (spec/tools/luasocket_httpd.lua, another process) outside tasks, and
-- in 20 tasks at once, which run concurrently: 20 requests the server
-- answers after 0.2 s each take about 0.2 s, not 4 s.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local ls = require "spec.tools.luasocket_helpers"

local socket = ls.socket
ls.it = it

local MODULES = { "socket", "socket.core", "socket.unix", "socket.http", "socket.url",
                  "socket.headers", "ltn12", "mime", "mime.core" }

-- socket.http loaded afresh over hotline.luasocket, and a function
-- putting package.loaded back as it was.
local function load_http()
  local saved = {}
  for _, name in ipairs(MODULES) do
    saved[name] = package.loaded[name]
    if name ~= "mime.core" then package.loaded[name] = nil end
  end
  socket.install()
  local ok, http = pcall(require, "socket.http")
  local function restore()
    for _, name in ipairs(MODULES) do package.loaded[name] = saved[name] end
  end
  if not ok then
    restore()
    return nil
  end
  return http, restore
end

describe("socket.http on hotline.luasocket", function()
  local http, restore = load_http()
  if not http then
    pending("LuaSocket's socket.http is not installed for this Lua")
    return
  end
  local ltn12 = require "ltn12"
  local pid, out, base
  setup(function()
    out = os.tmpname()
    pid = helpers.start(helpers.lua .. " spec/tools/luasocket_httpd.lua", { stdout = out })
    local port = helpers.eventually(function()
      return tonumber((helpers.slurp(out) or ""):match("PORT (%d+)"))
    end)
    assert.is_number(port)
    base = "http://127.0.0.1:" .. port
  end)
  teardown(function()
    helpers.stop(pid)
    os.remove(out)
    restore()
  end)

  it("is LuaSocket's module, running over hotline's sockets", function()
    assert.equal(socket, require "socket")
    assert.matches("/usr/share/lua/.*/socket/http%.lua$", debug.getinfo(http.open, "S").source)
    assert.equal(socket._VERSION, http.USERAGENT)
  end)

  ls.both("fetches a page, a chunked page, a 404 and a POST", function()
    local body, code, headers = http.request(base .. "/hello")
    assert.equal("hello from /hello", body)
    assert.equal(200, code)
    assert.equal("17", headers["content-length"])
    body, code = http.request(base .. "/chunked")
    assert.equal("chunk one, chunk two, the end", body)
    assert.equal(200, code)
    body, code = http.request(base .. "/missing")
    assert.equal("no such thing", body)
    assert.equal(404, code)
    body = http.request(base .. "/post", "a=1&b=2")
    assert.equal("got a=1&b=2", body)
    local parts = {}
    local ok, status = http.request{ url = base .. "/sink", sink = ltn12.sink.table(parts) }
    assert.equal(1, ok)
    assert.equal(200, status)
    assert.equal("hello from /sink", table.concat(parts))
  end)

  ls.both("reports a refused connection as LuaSocket does", function()
    local probe = assert(socket.bind("127.0.0.1", 0))
    local _, port = probe:getsockname()
    probe:close()
    assert.same({ nil, "connection refused" }, { http.request("http://127.0.0.1:" .. port .. "/") })
  end)

  it("runs 20 requests concurrently in 20 tasks", function()
    local N, DELAY = 20, 0.2
    local bodies, done = {}, 0
    local t0 = hotline.now()
    for i = 1, N do
      hotline.spawn(function()
        bodies[i] = http.request(base .. "/delay/" .. DELAY)
        done = done + 1
      end)
    end
    assert(hotline.run())
    local took = hotline.now() - t0
    assert.equal(N, done)
    for i = 1, N do assert.equal("hello from /delay/" .. DELAY, bodies[i]) end
    -- one after the other they take N * DELAY = 4 s; together about DELAY
    assert.is_true(took >= DELAY, took)
    assert.is_true(took < N * DELAY / 2, took)
    print(string.format("\n  %d socket.http requests (server delay %.1f s) in tasks: %.3f s",
      N, DELAY, took))
  end)
end)
