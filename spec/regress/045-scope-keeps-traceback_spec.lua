-- Regression: a task that failed inside hotline.timeout or s:with was
-- reported with the traceback of the scope's re-raise: the frames between
-- the error and the scope (where the bug is) were missing, and the first
-- line pointed into hotline.task.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("a failure inside a scope (" .. backend .. ")", function()
    before_each(function()
      loop.reset(backend)
      loop.set_error_handler(function() end)
    end)
    after_each(function() loop.set_error_handler(nil) end)

    it("is reported with the traceback from where it was raised", function()
      local function fail_here() error("broken") end
      local function deep_inside()
        hotline.sleep(0.001)
        fail_here()
        return "not reached"
      end
      local s = hotline.semaphore(1)
      local scoped = hotline.spawn(function()
        hotline.timeout(5, function() hotline.timeout(5, deep_inside) end)
      end)
      local held = hotline.spawn(function() s:with(deep_inside) end)
      assert(hotline.run())
      for _, t in ipairs({ scoped, held }) do
        local ok, message = t:join()
        assert.is_nil(ok)
        assert.matches("^[^\n]*broken\nstack traceback:\n[^\n]*error", message)
        assert.matches("fail_here", message)
      end
      assert.is_nil(scoped.trace)        -- the ended task keeps only its message
      assert.equal(1, s.count)
    end)
  end)
end
