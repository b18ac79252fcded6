-- hotline.serve{ workers = 2, tls = ... }: the context is made once in the
-- parent, every worker process handshakes its own callers; a caller that
-- does not speak TLS never reaches the handler. The server runs as a child
-- process; it and its workers are stopped by PID.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local certs = require "spec.tools.certs"

local SERVER = [[
  local hotline = require "hotline"
  local server = assert(hotline.serve { host = "127.0.0.1", port = 0, workers = 2,
    tls = { cert = arg[1], key = arg[2] },
    on_error = function() end,
    handler = function(client)
      client:write(require("hotline.core").getpid(), "\n")
    end })
  local _, port = server:address()
  io.stdout:write("PORT ", port, "\n", "PIDS ", table.concat(server:pids(), " "), "\n")
  io.stdout:flush()
  assert(hotline.run())
]]

-- the process ids whose parent is pid
local function children(pid)
  local p = io.popen("ps -o pid= --ppid " .. pid)
  local list = {}
  for line in p:lines() do list[#list + 1] = tonumber(line) end
  p:close()
  return list
end

describe("serve with workers and TLS", function()
  local c, script, out, pid, port, pids
  setup(function()
    c = certs.make()
    script, out = os.tmpname() .. ".lua", os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(SERVER)
    f:close()
    pid = helpers.start(table.concat({ helpers.lua, script, c.cert, c.key }, " "),
      { stdout = out })
    local text = helpers.eventually(function()
      local t = helpers.slurp(out)
      return t and t:match("PIDS [%d ]+\n") and t
    end)
    assert.truthy(text, "the server did not start")
    port = tonumber(text:match("PORT (%d+)"))
    pids = {}
    for w in text:match("PIDS ([%d ]+)"):gmatch("%d+") do pids[tonumber(w)] = true end
  end)
  teardown(function()
    for _, child in ipairs(children(pid)) do helpers.stop(child, 1) end
    helpers.stop(pid, 1)
    os.remove(script)
    os.remove(out)
    certs.remove(c)
  end)

  it("handshakes in more than one worker, verified", function()
    local seen, distinct = {}, 0
    for _ = 1, 64 do
      local s = assert(hotline.connect("localhost", port,
        { tls = { cafile = c.ca }, timeout = helpers.TIMEOUT }))
      s:settimeout(helpers.TIMEOUT)
      assert.is_true(s:tlsinfo().verified)
      local worker = tonumber(assert(s:read("l")))
      s:close()
      assert.is_true(pids[worker], "not a worker: " .. tostring(worker))
      if not seen[worker] then
        seen[worker] = true
        distinct = distinct + 1
      end
      if distinct > 1 then break end
    end
    assert.equal(2, distinct)
  end)

  it("never runs the handler for a plaintext caller", function()
    for _ = 1, 4 do   -- (more than one worker answers)
      local s = assert(hotline.connect("127.0.0.1", port, { timeout = helpers.TIMEOUT }))
      s:settimeout(helpers.TIMEOUT)
      s:write("GET / HTTP/1.0\r\n\r\n")   -- (may meet the close: EPIPE)
      local data = s:read("a")
      s:close()
      assert.is_nil((data or ""):match("^%d+\n"))
    end
  end)
end)
