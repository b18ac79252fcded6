-- Faults: signals arriving again and again while the process blocks in
-- accept, read, write and sleep, outside any task (poll and nanosleep are
-- interrupted: EINTR) and inside the loop (epoll_wait is). The signals
-- are caught (core.sigcatch, hotline.onsignal), so their default action
-- cannot end busted; no call may fail or lose a byte because of them.
local hotline = require "hotline"
local core = require "hotline.core"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

local LINES = 10
local BODY = string.rep("0123456789abcdef", faults.size(64, 8) * 1024 / 16)

-- Starts the signaller against this process; returns its pid and the
-- file it reports to.
local function start_signaller(signal, port)
  local out = os.tmpname()
  local pid = helpers.start(string.format("%s spec/tools/signaller.lua %d %s %d %d",
    helpers.lua, core.getpid(), signal, port, LINES), { stdout = out })
  return pid, out
end

-- Waits for the signaller's report and for it to be gone: only then may
-- the signal's default action come back.
local function finish_signaller(pid, out)
  local text = helpers.eventually(function()
    local t = helpers.slurp(out)
    return t and t:match("drained %d+") and not helpers.alive(pid) and t
  end, 30)
  helpers.stop(pid)
  os.remove(out)
  return text and tonumber(text:match("drained (%d+)"))
end

describe("signals during blocking calls", function()
  local fds
  before_each(function()
    -- the self-pipe lives as long as the process: open it before counting
    assert(core.sigcatch("USR2", true))
    assert(core.sigcatch("USR2", false))
    fds = faults.baseline()
  end)

  it("outside a task: accept, read, write and sleep go on (SIGUSR1)", function()
    assert(core.sigcatch("USR1", true))
    core.sigtake()
    local pid, out
    finally(function()
      if pid then helpers.stop(pid) end
      core.sigcatch("USR1", false)
    end)
    local listener = assert(hotline.listen("127.0.0.1", 0))
    listener:settimeout(30)
    pid, out = start_signaller("USR1", select(2, listener:getsockname()))
    local c = assert(listener:accept())       -- a burst arrives meanwhile
    listener:close()
    c:settimeout(30)
    local t0 = hotline.now()
    hotline.sleep(0.05)                        -- nanosleep resumes when cut
    assert.is_true(hotline.now() - t0 >= 0.05)
    for i = 1, LINES do
      assert.equal("line " .. i, c:read("l"))  -- each waits through a burst
    end
    assert(c:setoption("sndbuf", 4096))
    assert.equal(c, c:write(BODY))             -- waits while the peer drains
    c:close()
    assert.equal(#BODY, finish_signaller(pid, out))
    local caught = core.sigtake()
    assert.is_true(#caught > 0)
    assert.equal("USR1", caught[1])
    faults.assert_fds(fds)
  end)

  it("inside the loop: tasks go on and the handler runs (SIGALRM)", function()
    local handled = 0
    assert(hotline.onsignal("ALRM", function() handled = handled + 1 end))
    local pid, out
    finally(function()
      if pid then helpers.stop(pid) end
      hotline.onsignal("ALRM", nil)
      loop.reset()
    end)
    local listener = assert(hotline.listen("127.0.0.1", 0))
    listener:settimeout(30)
    pid, out = start_signaller("ALRM", select(2, listener:getsockname()))
    local lines, wrote = {}, nil
    hotline.spawn(function()
      local c = assert(listener:accept())
      listener:close()
      c:settimeout(30)
      hotline.sleep(0.05)
      for _ = 1, LINES do lines[#lines + 1] = c:read("l") end
      assert(c:setoption("sndbuf", 4096))
      wrote = c:write(BODY)
      c:close()
    end)
    faults.run()
    assert.is_truthy(wrote)
    for i = 1, LINES do assert.equal("line " .. i, lines[i]) end
    assert.equal(#BODY, finish_signaller(pid, out))
    assert.is_true(handled > 0)
    hotline.onsignal("ALRM", nil)
    faults.assert_fds(fds)
  end)
end)
