-- Faults: churn. 20,000 connect, echo, close cycles against one
-- hotline.serve, in one process: afterwards the same descriptors are open,
-- the Lua heap is back where it was and the resident set has not grown.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

-- HOTLINE_CHURN overrides the count (check-valgrind runs fewer).
local CYCLES = tonumber(os.getenv("HOTLINE_CHURN")) or faults.size(20000, 2000)
local WARMUP = math.floor(CYCLES / 10)
local CLIENTS = 4                 -- callers at a time

local function echo(client)
  client:settimeout(helpers.TIMEOUT)
  local line = client:read("l")
  if line then client:write(line, "\n") end
end

-- Runs cycles connect/echo/close cycles against server, CLIENTS at once;
-- the loop stops when they are done (the server's accept loop goes on).
local function churn(server, cycles)
  local host, port = server:address()
  local done, bad, finished = 0, {}, 0
  for k = 1, CLIENTS do
    hotline.spawn(function()
      for i = k, cycles, CLIENTS do
        local c, err = hotline.connect(host, port)
        if not c then
          bad[#bad + 1] = err
          break
        end
        c:settimeout(helpers.TIMEOUT)
        c:write("cycle ", i, "\n")
        local answer = c:read("l")
        c:close()
        if answer ~= "cycle " .. i then
          bad[#bad + 1] = tostring(answer)
          break
        end
        done = done + 1
      end
      finished = finished + 1
      if finished == CLIENTS then hotline.stop() end
    end)
  end
  faults.run()
  assert.same({}, bad)
  assert.equal(cycles, done)
end

describe("churn", function()
  it(CYCLES .. " connect/echo/close cycles leave no descriptor and no memory behind", function()
    local fds = faults.baseline()
    local server = assert(hotline.serve { host = "127.0.0.1", port = 0, handler = echo })
    churn(server, WARMUP)           -- tables, buffers and caches reach their size
    helpers.collect()
    local open = helpers.count_fds()
    -- Two halves, measured after each. Whatever the collector and malloc
    -- keep at their high-water mark is reached in the first half; a leak
    -- grows in both, so the second half must not grow.
    local heap, rss = {}, {}
    local t0 = hotline.now()
    for half = 1, 2 do
      churn(server, CYCLES / 2)
      helpers.collect()
      heap[half], rss[half] = collectgarbage("count"), faults.rss_kib()
    end
    local seconds = hotline.now() - t0
    assert.equal(open, helpers.count_fds())
    assert.equal(0, server:connections())
    -- the Lua heap is counted exactly: after a full collection it is back
    -- within what the collector's timing leaves (a few KiB)
    local heap_grown = heap[2] - heap[1]
    assert.is_true(heap_grown < 64, "the Lua heap grew by " .. heap_grown .. " KiB")
    if faults.check ~= "asan" and faults.check ~= "valgrind" then
      -- A receive buffer is at least 4 KiB and a socket's userdata about
      -- 60 bytes: leaking either per cycle would add 600 KiB or (far) more
      -- in 10,000 cycles. 512 KiB is above the noise of malloc's lists.
      local grown = rss[2] - rss[1]
      assert.is_true(grown < 512, "RSS grew by " .. grown .. " KiB in the second half ("
        .. seconds .. " s in all)")
    end
    server:close()
    faults.run()
    faults.assert_fds(fds)
  end)
end)
