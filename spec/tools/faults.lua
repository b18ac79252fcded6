-- spec/tools/faults.lua: what the fault specs (spec/4*_spec.lua) share:
-- which check runs them, descriptor accounting, a loop run that stops at
-- the first failing task, resets, and the resident set size.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

local faults = {}

-- The check running the specs (spec/tools/checks.mk): "asan", "valgrind",
-- "eagain" or nil. Under check-eagain every transfer moves one byte, a
-- hundred times slower, so the specs move less data there.
faults.check = os.getenv("HOTLINE_CHECK")
faults.mocked = helpers.MOCKED
faults.size = helpers.size

-- Forgets the loop's tasks and poller (backend: the one to use next) and
-- counts the descriptors open now, with no garbage holding any.
function faults.baseline(backend)
  loop.reset(backend)
  helpers.collect()
  return helpers.count_fds()
end

-- Raises unless exactly the descriptors of the baseline are open. No
-- collection first: the spec itself must have closed what it opened.
function faults.assert_fds(baseline)
  loop.reset()
  local now = helpers.count_fds()
  if now ~= baseline then
    error(string.format("%d descriptors open, %d before", now, baseline), 2)
  end
end

-- hotline.run(), except that a failing task stops the loop and its
-- traceback is raised here, instead of leaving its partners to wait.
function faults.run()
  local failure
  loop.set_error_handler(function(message)
    failure = failure or message
    loop.stop()
  end)
  local ok, err = hotline.run()
  loop.set_error_handler(nil)
  if failure then error(failure, 2) end
  if not ok then error(err, 2) end
end

-- SO_LINGER 0, then close: the peer gets RST instead of FIN.
function faults.reset(sock)
  assert(sock:setoption("linger", 0))
  assert(sock:close())
end

-- What writing to a peer that has gone may give.
function faults.is_gone(code)
  return code == "EPIPE" or code == "ECONNRESET"
end

-- Resident set size of this process in KiB (Linux).
function faults.rss_kib()
  return tonumber(helpers.slurp("/proc/self/status"):match("VmRSS:%s*(%d+)"))
end

-- Starts measuring the peak resident set size anew (Linux 4.0 and later:
-- clear_refs 5); returns false where that cannot be done.
function faults.peak_reset()
  local f = io.open("/proc/self/clear_refs", "w")
  if not f then return false end
  local ok = f:write("5")
  f:close()
  return ok ~= nil
end

-- The peak resident set size since faults.peak_reset(), in KiB.
function faults.peak_kib()
  return tonumber(helpers.slurp("/proc/self/status"):match("VmHWM:%s*(%d+)"))
end

return faults
