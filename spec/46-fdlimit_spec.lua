-- Faults: running out of descriptors. A server process limited to 64
-- (ulimit -n) sees socket() fail with EMFILE, and accept too once callers
-- take the rest; it keeps running, and serves the callers who waited as
-- soon as earlier ones hang up.
local hotline = require "hotline"
local core = require "hotline.core"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

local CALLERS = 100     -- more than 64 descriptors can serve at once

describe("out of descriptors", function()
  it("socket and accept fail with EMFILE; the server recovers when some are freed", function()
    local fds = faults.baseline()
    local out, err = os.tmpname(), os.tmpname()
    local pid = helpers.start(string.format("sh -c 'ulimit -n 64 && exec %s %s'",
      helpers.lua, "spec/tools/fdlimit-server.lua"), { stdout = out, stderr = err })
    local callers = {}
    finally(function()
      for _, c in ipairs(callers) do c:close() end
      helpers.stop(pid)
      os.remove(out)
      os.remove(err)
    end)
    local text = helpers.eventually(function()
      local t = helpers.slurp(out)
      return t and t:match("PORT %d+") and t
    end)
    assert.truthy(text, "the server did not start: " .. (helpers.slurp(err) or ""))
    assert.matches("socket EMFILE after %d+\n", text)
    assert.matches("listen EMFILE\n", text)
    local port = tonumber(text:match("PORT (%d+)"))

    -- every caller connects (the kernel completes the handshake) and asks
    for i = 1, CALLERS do
      local c = assert(hotline.connect("127.0.0.1", port))
      c:settimeout(helpers.TIMEOUT)
      assert(c:write("caller ", i, "\n"))
      callers[i] = c
    end
    -- the server runs out: accept fails with EMFILE, and it goes on
    assert.truthy(helpers.eventually(function()
      return (helpers.slurp(out) or ""):match("accept EMFILE")
    end), "accept never failed")
    assert.is_true(helpers.alive(pid))

    -- each caller in turn gets its answer and hangs up, which frees the
    -- descriptor the next one needs
    for i = 1, CALLERS do
      assert.equal("echo caller " .. i, callers[i]:read("l"))
      callers[i]:close()
    end
    callers = {}

    -- and after all that, a new caller is served at once
    local c = assert(hotline.connect("127.0.0.1", port))
    c:settimeout(helpers.TIMEOUT)
    c:write("again\n")
    assert.equal("echo again", c:read("l"))
    c:close()

    -- SIGTERM stops it cleanly
    assert(core.kill(pid, "TERM"))
    assert.truthy(helpers.eventually(function()
      return (helpers.slurp(out) or ""):match("stopped")
    end), "the server did not stop: " .. (helpers.slurp(err) or ""))
    faults.assert_fds(fds)
  end)
end)
