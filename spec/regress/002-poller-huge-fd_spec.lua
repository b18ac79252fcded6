-- Regression: p:add(n, events) with n a large number that names no open
-- descriptor (say 2^31 - 2) grew the poller's per-descriptor tables to n
-- entries before asking the kernel: 2 GiB of memory and ten seconds of
-- memset for one call, and on the poll() backend the call even succeeded.
-- p:remove(n) grew them as well. Now a number must be an open descriptor
-- (else nil, "bad file descriptor", "EBADF"), and removing what was never
-- added does nothing.
local hotline = require "hotline"
local helpers = require "spec.helpers"

local function rss_kib()
  return tonumber(helpers.slurp("/proc/self/status"):match("VmRSS:%s*(%d+)"))
end

for _, backend in ipairs(helpers.backends()) do
  describe("poller (" .. backend .. ") with a huge descriptor number", function()
    it("add fails with EBADF and allocates nothing", function()
      local p = assert(hotline.poller(backend))
      local before, t0 = rss_kib(), hotline.now()
      for _, n in ipairs({ 2 ^ 31 - 2, 2 ^ 24, 65535 }) do
        local ok, err, code = p:add(n, "r")
        assert.is_nil(ok)
        assert.equal("bad file descriptor", err)
        assert.equal("EBADF", code)
        assert.is_true(p:remove(n))
      end
      assert.is_true(rss_kib() - before < 16 * 1024)
      assert.is_true(hotline.now() - t0 < 1)
      p:close()
    end)

    it("still takes an open descriptor given as a number", function()
      local p = assert(hotline.poller(backend))
      local a, b = hotline.socketpair()
      assert.is_true(p:add(a:fileno(), "w"))
      local seen
      for fd, events in p:wait(1) do seen = { fd, events } end
      assert.same({ a:fileno(), "w" }, seen)
      assert.is_true(p:remove(a:fileno()))
      p:close()
      a:close()
      b:close()
    end)
  end)
end
