-- Regression: hotline.onsignal(name, fn) and its undoing.
-- 1. Once every handler had been removed (onsignal(name, nil)), the
--    signal pipe stayed in the loop's poller and still counted as
--    something that could wake a task: hotline.run() with a task parked
--    in loop.suspend() and nothing else blocked for ever, instead of
--    returning nil, "... task(s) left waiting with nothing to wake them".
-- 2. Any value was taken as a handler: onsignal("WINCH", 42) returned
--    true, and the signal, when it came, raised inside hotline.run (spawn
--    of a number) and brought the whole loop down. Now it raises at once.
local hotline = require "hotline"
local helpers = require "spec.helpers"

describe("hotline.onsignal", function()
  it("once no signal is caught, a stuck task is reported, not waited on for ever", function()
    -- in a process of its own (run_lua's timeout): the bug made it hang
    local ok, _, out = helpers.run_lua([[-e '
      local hotline = require "hotline"
      local loop = require "hotline.loop"
      assert(hotline.onsignal("USR2", function() end))
      assert(hotline.onsignal("USR2", nil))
      hotline.spawn(function() loop.suspend() end)   -- nothing will wake it
      print(hotline.run())']])
    assert.is_true(ok)
    assert.matches("^nil\thotline: 1 task%(s%) left waiting with nothing to wake them", out)
  end)

  it("raises at once on a handler that is not a function", function()
    for _, bad in ipairs({ 42, "f", {}, true }) do
      assert.has_error(function() hotline.onsignal("WINCH", bad) end,
        "bad argument #2 to 'onsignal' (function expected, got " .. type(bad) .. ")")
    end
    assert.is_true(hotline.onsignal("WINCH", function() end))
    assert.is_true(hotline.onsignal("WINCH", nil))
  end)
end)
