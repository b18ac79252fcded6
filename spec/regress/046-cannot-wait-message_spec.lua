-- Regression: a channel, condition, semaphore or join wait (or a
-- hotline.timeout) made in a task where it cannot yield (under a C
-- function: table.sort's comparator here, pcall on Lua 5.1) raised that
-- it was "outside a task", sending the reader to look for a missing
-- hotline.spawn.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("a wait where the task cannot yield (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("says so, not that it is outside a task", function()
      local ch, other = hotline.channel(), hotline.spawn(hotline.sleep, 0.01)
      local waits = {
        function() return ch:recv() end,
        function() return hotline.condition():wait() end,
        function() return hotline.semaphore(0):acquire() end,
        function() return other:join() end,
        function() return hotline.wait_any(ch) end,
        function() return hotline.timeout(1, ch.recv, ch) end,
      }
      local messages = {}
      hotline.spawn(function()
        for i, wait in ipairs(waits) do
          local _, err = pcall(table.sort, { 2, 1 }, function(a, b) wait(); return a < b end)
          messages[i] = err
        end
      end)
      assert(hotline.run())
      assert.equal(#waits, #messages)
      for _, message in ipairs(messages) do
        assert.matches("where this task cannot yield", message, 1, true)
      end
      assert.has_error(function() ch:recv() end,       -- outside a task, as before
        "would wait for ever outside a task: call it inside hotline.spawn")
    end)
  end)
end
