-- Regression: on Lua 5.1, s:with(fn) called where the task cannot yield
-- (inside pcall, or in a coroutine of the caller's own) ran fn in a
-- coroutine whose waits it passed on as yields; the yield then failed
-- ("attempt to yield across metamethod/C-call boundary") past s:with's
-- release, and the permit was lost. There fn's waits block instead, as
-- every wait does where a task cannot yield.
local hotline = require "hotline"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("s:with where the task cannot yield (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("runs fn, whose waits block, and gives the permit back", function()
      local a, b = hotline.socketpair()
      assert(b:write("one\ntwo\n"))
      local s = hotline.semaphore(1)
      local function body()
        hotline.sleep(0.001)
        return a:read("l")
      end
      local r = {}
      hotline.spawn(function()
        r.pcall = { pcall(function() return s:with(body) end) }
        r.coroutine = { coroutine.wrap(function() return s:with(body) end)() }
        r.permit = s:acquire(0)
      end)
      assert(hotline.run())
      assert.same({ pcall = { true, "one" }, coroutine = { "two" }, permit = true }, r)
      a:close(); b:close()
    end)
  end)
end
