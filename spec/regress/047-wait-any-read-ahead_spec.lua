-- Regression: loop.await_any (and so hotline.wait_any) asked only the
-- poller whether a socket had something to read. A read that took more
-- than it returned (a line, with the next line behind it in the same
-- segment) leaves those bytes in the socket's buffer, not in the kernel:
-- the next wait_any slept on with a line ready, until its timeout or for
-- ever. Seen with more than 64 sockets ready at once (one poll reported
-- 64; two writes reached the 65th before its reader ran) and with two
-- lines sent together.
local hotline = require "hotline"
local core = require "hotline.core"
local loop = require "hotline.loop"
local helpers = require "spec.helpers"

for _, backend in ipairs(helpers.backends()) do
  describe("bytes read ahead (" .. backend .. ")", function()
    before_each(function() loop.reset(backend) end)

    it("make a socket ready for wait_any and await_any, in a task or not", function()
      local a, b = hotline.socketpair()
      local quit = hotline.channel()
      assert(b:write("one\ntwo\nthree\n"))
      local got = {}
      hotline.spawn(function()
        while #got < 3 do
          if hotline.wait_any(quit, a, 5) ~= 2 then break end
          got[#got + 1] = a:read("l")
        end
      end)
      assert(hotline.run())
      assert.same({ "one", "two", "three" }, got)
      assert(b:write("four\nfive\n"))
      assert.equal("four", a:read("l"))
      if not helpers.MOCKED then           -- (there every recv takes one byte)
        assert.equal(#"five\n", core.buffered(a))
      end
      assert.equal(1, loop.await_any({ a, "wantread" }, hotline.now() + 5))
      assert.equal(2, hotline.wait_any(hotline.channel(), a, 5))
      assert.equal("five", a:read("l"))
      assert.equal(0, core.buffered(a))
      assert.same({ nil, "timeout" }, { hotline.wait_any(a, 0.01) })
      a:close(); b:close()
      assert.has_error(function() core.buffered(a) end)
    end)
  end)
end
