-- Regression: hotline.serve{ workers = n } took any whole number, and
-- math.huge is one (math.floor(math.huge) == math.huge): the parent then
-- forked workers for ever, as it did for 2^53. Now n must be from 1 to
-- 1024, and anything else raises before a single fork. (The spec counts
-- forks with a stand-in for core.fork, so the bug cannot fork here.)
local hotline = require "hotline"
local core = require "hotline.core"

describe("serve{ workers = n } with a huge n", function()
  it("raises before forking", function()
    local real_fork, forks = core.fork, 0
    core.fork = function()
      forks = forks + 1
      if forks > 2000 then error("forked for ever") end
      return nil, "no fork in this spec", "EAGAIN"
    end
    finally(function() core.fork = real_fork end)
    for _, n in ipairs({ math.huge, 2 ^ 53, 1025 }) do
      local ok, err = pcall(hotline.serve, { host = "127.0.0.1", port = 0, workers = n,
        handler = function() end })
      assert.is_false(ok)
      assert.matches("workers must be a whole number from 1 to 1024", err)
    end
    assert.equal(0, forks)
  end)
end)
