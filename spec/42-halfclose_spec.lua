-- Faults: half-closed connections in both directions, and writes to a
-- peer that has gone (EPIPE or ECONNRESET, never a SIGPIPE), on TCP and on
-- unix socket pairs. Every descriptor the spec opens is closed again.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

local REPLY = faults.size(512 * 1024, 16 * 1024)
local is_gone = faults.is_gone

local pairs_of = {
  tcp = helpers.tcp_pair,
  unix = function()
    local a, b = assert(hotline.socketpair())
    a:settimeout(helpers.TIMEOUT)
    b:settimeout(helpers.TIMEOUT)
    return a, b
  end,
}

for _, kind in ipairs({ "tcp", "unix" }) do
  local make_pair = pairs_of[kind]

  describe("half-close (" .. kind .. ")", function()
    local fds
    before_each(function() fds = faults.baseline() end)

    it("the client stops writing; the server reads to the end, then answers", function()
      local c, s = make_pair()
      local reply = string.rep("r", REPLY)
      local request, answer
      hotline.spawn(function()
        request = s:read("a")               -- ends when the client shuts down
        assert(s:write(reply))
        s:close()
      end)
      hotline.spawn(function()
        assert(c:write("question 1\n", "question 2\n"))
        assert.is_true(c:shutdown("write"))
        answer = c:read("a")                -- the other direction still works
      end)
      faults.run()
      assert.equal("question 1\nquestion 2\n", request)
      assert.equal(#reply, #answer)
      assert.is_true(reply == answer)
      c:close()
      faults.assert_fds(fds)
    end)

    it("the server stops writing; the client reads to the end, then still writes", function()
      local c, s = make_pair()
      assert(s:write("bye for now\n"))
      assert.is_true(s:shutdown("write"))
      assert.equal("bye for now", c:read("l"))
      for _ = 1, 3 do                        -- the end stays the end
        assert.same({ nil, "closed" }, { c:read("l") })
        assert.same({ nil, "closed" }, { c:recv() })
      end
      local body = string.rep("w", REPLY)
      local got
      hotline.spawn(function() assert(c:write(body)); c:close() end)
      hotline.spawn(function() got = s:read("a") end)
      faults.run()
      assert.is_true(got == body)
      s:close()
      faults.assert_fds(fds)
    end)

    it("shutdown('read') ends our reads at once", function()
      local c, s = make_pair()
      assert.is_true(s:shutdown("read"))
      local t0 = hotline.now()
      assert.same({ nil, "closed" }, { s:read("l") })
      assert.is_true(hotline.now() - t0 < helpers.TIMEOUT / 2)
      c:close()
      s:close()
      faults.assert_fds(fds)
    end)

    it("writing to a peer that has gone fails with EPIPE or ECONNRESET", function()
      for _, how in ipairs({ "write", "send" }) do
        local c, s = make_pair()
        s:close()
        local ok, err, code
        for _ = 1, 100 do                    -- the first may still be taken
          ok, err, code = c[how](c, string.rep("x", 1000))
          if not ok then break end
        end
        assert.is_nil(ok)
        assert.is_true(is_gone(code), "unexpected: " .. tostring(err))
        -- and again: the failure is stable, the process untouched
        ok, err, code = c[how](c, "again")
        assert.is_nil(ok)
        assert.is_true(is_gone(code), "unexpected: " .. tostring(err))
        c:close()
      end
      faults.assert_fds(fds)
    end)
  end)
end

describe("SIGPIPE", function()
  it("never kills a process that writes to a peer that has gone", function()
    local ok, code, out, err = helpers.run_lua("spec/tools/sigpipe.lua")
    assert.equal("", err)
    assert.is_true(ok, "exit code " .. tostring(code))   -- 141 would be SIGPIPE
    assert.matches("survived", out)
    local lines = 0
    for how, failure in out:gmatch("(%a+) (%u+)\n") do
      assert.is_true(how == "write" or how == "send")
      assert.is_true(is_gone(failure), "unexpected: " .. failure)
      lines = lines + 1
    end
    assert.equal(4, lines)
  end)
end)
