-- Regression: on Lua 5.1, hotline.timeout(seconds, fn) and s:with(fn)
-- with a C function as fn raised "Lua function expected" (fn was made a
-- coroutine's body) where other Luas call it, and left the scope's
-- deadline behind in the heap.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("a C function in a scope (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("is called, and leaves no deadline behind", function()
      local r = {}
      local t = hotline.spawn(function()
        r.timeout = { hotline.timeout(0.01, select, "#", "a", "b") }
        r.with = { hotline.semaphore(1):with(select, 2, "a", "b") }
        r.deadlines = select(3, loop.stats())
        hotline.sleep(0.03)          -- past the scope's deadline
        return "slept"
      end)
      assert(hotline.run())
      assert.same({ timeout = { 2 }, with = { "b" }, deadlines = 0 }, r)
      assert.same({ true, "slept" }, { t:join() })
    end)
  end)
end
