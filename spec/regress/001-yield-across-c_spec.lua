-- Bug: a socket call made in a task where the task cannot yield (inside
-- table.sort's comparator anywhere; on Lua 5.1 also inside pcall or a for
-- iterator) registered the task as the socket's reader, then failed to
-- yield. If pcall caught that, the task went on with a stale registration
-- and the loop later resumed it at the wrong place, or resumed it dead
-- ("cannot resume dead coroutine") and miscounted tasks, so run() returned
-- early. Now such a call blocks the process, as outside a task.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

describe("regress 001: a socket call where a task cannot yield", function()
  before_each(function() loop.reset() end)

  it("blocks instead of failing, inside a C function", function()
    local c, s = helpers.tcp_pair()
    s:settimeout(0.05)
    local inside, after
    hotline.spawn(function()
      table.sort({ 2, 1 }, function(a, b)
        inside = { s:read("l") }        -- cannot yield here: it blocks
        return a < b
      end)
      after = s:read("l")               -- here it can: it yields
    end)
    hotline.spawn(function()
      hotline.sleep(0.01)
      c:write("wake\n")
    end)
    assert.is_true(hotline.run())
    assert.same({ nil, "timeout", "ETIMEDOUT" }, inside)
    assert.equal("wake", after)
    c:close()
    s:close()
  end)

  it("keeps the other tasks running and counted (pcall on Lua 5.1)", function()
    local a, b = assert(hotline.socketpair())
    a:settimeout(0.05)
    local results, third = {}, false
    hotline.spawn(function() results = { pcall(function() return a:read() end) } end)
    hotline.spawn(function() hotline.sleep(0.05); b:write("hello\n") end)
    hotline.spawn(function() hotline.sleep(0.2); third = true end)
    assert.is_true(hotline.run())
    assert.is_true(third)
    assert.is_true(results[1])
    a:close()
    b:close()
  end)
end)
