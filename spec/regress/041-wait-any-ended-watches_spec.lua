-- Regression: a hotline.wait_any on a channel and a socket that ended by
-- a raise (its task cancelled, or its timeout scope due) left its watch
-- in the channel's list until something was sent on the channel. On a
-- quiet channel (a "quit" channel shared by every connection's task) the
-- list grew by one per ended wait and kept each ended task alive.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("wait_any ended by a raise (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("keeps neither its watch nor its task; live watches stay", function()
      local quit = hotline.channel()
      local a, b = hotline.socketpair()
      local ended = setmetatable({}, { __mode = "k" })
      local live, woken = {}, 0
      for i = 1, 100 do
        local t = hotline.spawn(function() hotline.wait_any(quit, a) end)
        ended[t] = true
        hotline.spawn(function() t:cancel() end)
        if i % 10 == 0 then        -- waiting on while the ended ones are swept
          local c, d = hotline.socketpair()
          live[#live + 1] = c
          live[#live + 1] = d
          hotline.spawn(function()
            if hotline.wait_any(quit, c) == 1 then woken = woken + 1 end
          end)
        end
      end
      local left
      hotline.spawn(function()       -- each in its own wait_any: scopes end them
        for _ = 1, 100 do hotline.timeout(0, hotline.wait_any, quit, a) end
        helpers.collect()            -- the cancelled tasks have ended by now
        left = 0
        for t in pairs(ended) do
          assert.equal("cancelled", t:status())
          left = left + 1
        end
        quit:close()                 -- (which drops every watch)
      end)
      assert(hotline.run())
      assert.equal(10, woken)
      assert.is_true(left <= 10, left .. " ended tasks kept alive")
      assert.same({ 0, 0, 0 }, { loop.stats() })
      a:close(); b:close()
      for _, s in ipairs(live) do s:close() end
    end)
  end)
end
