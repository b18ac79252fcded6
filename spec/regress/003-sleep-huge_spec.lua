-- Regression: hotline.core.sleep(seconds) converted any finite number of
-- seconds to time_t. Past 2^63 (1e300, say) that conversion is undefined
-- behaviour (UBSan: float-cast-overflow); on x86-64 it gave a negative
-- time, nanosleep refused it with EINVAL, and a sleep "for ever" returned
-- at once. Now such sleeps are cut to 1e15 seconds and do sleep.
local helpers = require "spec.helpers"

describe("core.sleep with a huge number of seconds", function()
  it("sleeps instead of returning at once", function()
    local pid = helpers.start(helpers.lua
      .. [[ -e 'require("hotline.core").sleep(1e300) print("woke")']])
    finally(function() helpers.stop(pid) end)
    -- waiting for an exit that must not come: half a second is the bound
    local ended = helpers.eventually(function() return not helpers.alive(pid) end, 0.5)
    assert.is_false(ended)
  end)
end)
