-- Bug: a task that called a waiting socket method from where it cannot
-- yield (inside table.sort's comparator anywhere; in Lua 5.1 also inside
-- a for iterator or pcall) died in loop.wait after registering as the
-- socket's reader. The next event on the socket resumed the dead
-- coroutine ("cannot resume dead coroutine"), a second failure report.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

describe("regress 001: a task failing inside loop.wait", function()
  it("is reported once and never resumed again", function()
    loop.reset()
    local c, s = helpers.tcp_pair()
    local reports = {}
    loop.set_error_handler(function(message) reports[#reports + 1] = message end)
    hotline.spawn(function()
      table.sort({ 2, 1 }, function(a, b)
        s:read("l")                     -- must wait: cannot yield from here
        return a < b
      end)
    end)
    hotline.spawn(function()
      hotline.sleep(0.01)
      c:write("wake the dead reader?\n")
      hotline.sleep(0.01)
    end)
    assert.is_true(hotline.run())
    loop.set_error_handler(nil)
    assert.equal(1, #reports)
    assert.matches("yield across", reports[1])
    assert.equal("wake the dead reader?", s:read("l"))   -- nobody else took it
    c:close()
    s:close()
  end)
end)
