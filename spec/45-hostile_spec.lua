-- Faults: hostile peers. A slowloris sends its line a byte at a time: the
-- reader's timeout still ends the wait on time, and a server keeps
-- serving others. A peer sends a line longer than maxline: the read fails
-- with "line too long" (EMSGSIZE) having buffered at most about maxline
-- bytes, however much the peer sends. Descriptors are closed again.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

local reset = faults.reset

-- The most bytes one read may pull from the kernel (hl_io.c: four times
-- HL_RECV_MAX): the slack allowed on top of maxline.
local READ_AHEAD = 4 * 65536

describe("hostile peers", function()
  local fds
  before_each(function() fds = faults.baseline() end)

  it("a slowloris line: read gives up at its timeout and keeps what came", function()
    local c, s = helpers.tcp_pair()
    local line = "GET /a-very-slow-request-line-indeed HTTP/1.1\r\n"
    local trickle = #line * 0.01            -- seconds the whole line takes
    local first, elapsed, second
    hotline.spawn(function()
      for i = 1, #line do
        assert(c:write(line:sub(i, i)))
        hotline.sleep(0.01)
      end
    end)
    hotline.spawn(function()
      s:settimeout(0.1)
      local t0 = hotline.now()
      first = { s:read("l") }
      elapsed = hotline.now() - t0
      s:settimeout(helpers.TIMEOUT)
      second = s:read("l")
    end)
    faults.run()
    assert.same({ nil, "timeout", "ETIMEDOUT" }, first)
    assert.is_true(elapsed >= 0.1 and elapsed < trickle * 0.8,
      "the trickle kept the read waiting: " .. elapsed .. " s")
    assert.equal("GET /a-very-slow-request-line-indeed HTTP/1.1", second)
    c:close()
    s:close()
    faults.assert_fds(fds)
  end)

  it("a slowloris holds up no other caller and is cut off by the handler's timeout", function()
    local server = assert(hotline.serve { host = "127.0.0.1", port = 0,
      handler = function(client)
        client:settimeout(0.2)
        local line = client:read("l")
        if line then client:write("echo ", line, "\n") end
      end })
    local host, port = server:address()
    local sent, cut_off, answered_in
    hotline.spawn(function()                  -- the slowloris
      local c = assert(hotline.connect(host, port))
      c:settimeout(helpers.TIMEOUT)
      sent = 0
      for _ = 1, 300 do                       -- 3 s at most; cut off long before
        if not c:write("x") then
          cut_off = true
          break
        end
        sent = sent + 1
        hotline.sleep(0.01)
      end
      c:close()
    end)
    hotline.spawn(function()                  -- an ordinary caller, meanwhile
      hotline.sleep(0.05)
      local t0 = hotline.now()
      local c = assert(hotline.connect(host, port))
      c:settimeout(helpers.TIMEOUT)
      c:write("hello\n")
      assert.equal("echo hello", c:read("l"))
      answered_in = hotline.now() - t0
      c:close()
    end)
    hotline.spawn(function()
      while not cut_off and sent ~= 300 do hotline.sleep(0.02) end
      server:close()
    end)
    faults.run()
    assert.is_true(answered_in < 0.15, "the caller waited " .. answered_in .. " s")
    assert.is_true(cut_off)
    assert.is_true(sent < 150)
    assert.equal(0, server:connections())
    faults.assert_fds(fds)
  end)

  it("a line longer than maxline: EMSGSIZE, with about maxline bytes buffered", function()
    local c, s = helpers.tcp_pair()
    assert(s:setoption("maxline", 1024))
    assert(s:setoption("rcvbuf", 16384))       -- no autotuning: a fixed bound
    assert(c:setoption("sndbuf", 16384))
    local flood = string.rep("x", 8 * 1024 * 1024)  -- and never a newline
    local got, again, wrote
    hotline.spawn(function() wrote = { c:write(flood) } end)
    hotline.spawn(function()
      got = { s:read("l") }
      again = { s:read("l") }                  -- the same answer, no more reading
      reset(s)                                 -- what a server would do
    end)
    faults.run()
    assert.same({ nil, "line too long", "EMSGSIZE" }, got)
    assert.same({ nil, "line too long", "EMSGSIZE" }, again)
    assert.is_nil(wrote[1])                    -- the writer met the reset
    local sent = wrote[4]
    local bound = 1024 + READ_AHEAD + 2 * 16384 * 2   -- Linux doubles buffers
    assert.is_true(sent <= bound, sent .. " bytes were taken, more than " .. bound)
    c:close()
    faults.assert_fds(fds)
  end)

  it("many callers flooding without newlines cost a bounded amount of memory", function()
    local maxline, callers = faults.size(4096, 1024), faults.size(100, 10)
    local reports, rejected, server = {}, 0, nil
    server = assert(hotline.serve { host = "127.0.0.1", port = 0,
      on_error = function(message) reports[#reports + 1] = message end,
      handler = function(client)
        client:setoption("maxline", maxline)
        client:settimeout(helpers.TIMEOUT)
        local line, err = client:read("l")
        assert(not line and err == "line too long", err)
        rejected = rejected + 1
        client:setoption("linger", 0)          -- the caller gets a reset
        if rejected == callers then server:close() end
      end })
    local host, port = server:address()
    local flood = string.rep("y", 1024 * 1024)
    local outcomes = {}
    helpers.collect()
    local before, measured = faults.rss_kib(), faults.peak_reset()
    for _ = 1, callers do
      hotline.spawn(function()
        local c = assert(hotline.connect(host, port))
        c:settimeout(helpers.TIMEOUT)
        local ok, _, code = c:write(flood)
        outcomes[#outcomes + 1] = ok and "ok" or code
        c:close()
      end)
    end
    faults.run()
    local peak = faults.peak_kib() - before
    assert.same({}, reports)
    assert.equal(callers, rejected)
    for _, outcome in ipairs(outcomes) do
      assert.is_true(outcome == "ok" or faults.is_gone(outcome), outcome)
    end
    if measured and faults.check ~= "asan" and faults.check ~= "valgrind" then
      -- 100 MiB were offered at once. A connection buffers at most maxline
      -- plus one read (16 KiB for a line): about 2 MiB for all of them,
      -- where reading to the newline would have taken 100 MiB.
      assert.is_true(peak < 16 * 1024, "the peak RSS grew by " .. peak .. " KiB")
    end
    faults.assert_fds(fds)
  end)
end)
