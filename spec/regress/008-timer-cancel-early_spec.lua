-- Regression (found by spec/48-args_spec.lua): hotline.timer(seconds, fn)
-- cancelled before its task had first run (timer:cancel() right after
-- hotline.timer, before hotline.run) still slept its whole time, so
-- hotline.run() waited for seconds that no longer meant anything (an hour
-- here, or for ever with a huge number), although "a cancelled timer
-- keeps run() waiting no longer".
local helpers = require "spec.helpers"

describe("a timer cancelled before the loop runs", function()
  it("keeps hotline.run() waiting no longer", function()
    -- in a process of its own (run_lua's timeout): the bug made it wait an hour
    local ok, _, out = helpers.run_lua([[-e '
      local hotline = require "hotline"
      local fired = false
      local t = hotline.timer(3600, function() fired = true end)
      print(t:cancel())
      local t0 = hotline.now()
      print(hotline.run(), fired, hotline.now() - t0 < 1)']])
    assert.is_true(ok)
    assert.equal("true\ntrue\tfalse\ttrue\n", out)
  end)
end)
