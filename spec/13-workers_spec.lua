-- hotline.serve{ workers = N }: processes sharing one port.
local hotline = require "hotline"
local helpers = require "spec.helpers"

local SERVER = [[
  local hotline = require "hotline"
  local server = assert(hotline.serve { host = "127.0.0.1", port = 0, workers = 2,
    handler = function(client)
      client:write(require("hotline.core").getpid(), "\n")
    end })
  local _, port = server:address()
  io.stdout:write("PORT ", port, "\n", "PIDS ", table.concat(server:pids(), " "), "\n")
  io.stdout:flush()
  assert(hotline.run())
  io.stdout:write("STOPPED\n")
]]

-- the process ids whose parent is pid
local function children(pid)
  local p = io.popen("ps -o pid= --ppid " .. pid)
  local list = {}
  for line in p:lines() do list[#list + 1] = tonumber(line) end
  p:close()
  return list
end

describe("serve with workers", function()
  local script, out, pid
  before_each(function()
    script, out = os.tmpname() .. ".lua", os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(SERVER)
    f:close()
    pid = helpers.start(helpers.lua .. " " .. script, { stdout = out })
  end)
  after_each(function()
    for _, child in ipairs(children(pid)) do helpers.stop(child, 1) end
    helpers.stop(pid, 1)
    os.remove(script)
    os.remove(out)
  end)

  local function port_of()
    local text = helpers.eventually(function()
      local t = helpers.slurp(out)
      return t and t:match("PIDS [%d ]+\n") and t
    end)
    assert.truthy(text, "the server did not start")
    return tonumber(text:match("PORT (%d+)")), text
  end

  local function ask_pid(port)
    local c = assert(hotline.connect("127.0.0.1", port))
    c:settimeout(helpers.TIMEOUT)
    local answer = c:read("l")
    c:close()
    return tonumber(answer)
  end

  it("spreads connections over more than one worker process", function()
    local port = port_of()
    local seen, distinct = {}, 0
    for _ = 1, 64 do
      local worker = assert(ask_pid(port))
      assert.not_equal(pid, worker)
      if not seen[worker] then
        seen[worker] = true
        distinct = distinct + 1
      end
      if distinct > 1 then break end
    end
    assert.equal(2, distinct)
  end)

  it("restarts a worker that dies", function()
    local port, text = port_of()
    local first = {}
    for w in text:match("PIDS ([%d ]+)"):gmatch("%d+") do first[#first + 1] = tonumber(w) end
    assert.equal(2, #first)
    helpers.stop(first[1], 1)
    local replaced = helpers.eventually(function()
      local now = children(pid)
      if #now ~= 2 then return false end
      for _, w in ipairs(now) do if w == first[1] then return false end end
      return now
    end)
    assert.truthy(replaced, "no new worker appeared")
    assert.truthy(ask_pid(port))
  end)

  it("SIGTERM to the parent leaves no process behind", function()
    port_of()
    local workers = children(pid)
    assert.equal(2, #workers)
    require("hotline.core").kill(pid, "TERM")
    assert.truthy(helpers.eventually(function() return not helpers.alive(pid) end))
    for _, w in ipairs(workers) do
      assert.is_false(helpers.alive(w))
    end
    assert.matches("STOPPED", helpers.slurp(out))
  end)
end)
