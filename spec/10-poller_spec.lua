-- hotline.poller(): readiness for many sockets, on each backend.
local hotline = require "hotline"
local helpers = require "spec.helpers"

-- Collects one wait's results as { [sock] = events }.
local function ready(p, timeout)
  local seen, n = {}, 0
  for sock, events in p:wait(timeout) do
    seen[sock] = events
    n = n + 1
  end
  return seen, n
end

for _, backend in ipairs(helpers.backends()) do
  describe("poller (" .. backend .. ")", function()
    local p
    before_each(function() p = assert(hotline.poller(backend)) end)
    after_each(function() p:close() end)

    it("says which backend it is", function()
      assert.equal(backend, p:backend())
      assert.equal("hotline.poller (" .. backend .. ")", tostring(p))
    end)

    it("reports a socket readable once data arrives, writable at once", function()
      local c, s = helpers.tcp_pair()
      assert.is_true(p:add(s, "r"))
      assert.is_true(p:add(c, "w"))
      local seen = ready(p, 1)
      assert.equal("w", seen[c])
      assert.is_nil(seen[s])
      c:write("x")
      seen = ready(p, 1)
      assert.equal("r", seen[s])
      assert.is_true(p:modify(s, "rw"))
      seen = ready(p, 1)
      assert.equal("rw", seen[s])
      assert.is_true(p:remove(s))
      assert.is_true(p:remove(c))
      local _, n = ready(p, 0)
      assert.equal(0, n)
      c:close()
      s:close()
    end)

    it("waits no longer than the timeout when nothing is ready", function()
      local c, s = helpers.tcp_pair()
      p:add(s, "r")
      local t0 = hotline.now()
      local _, n = ready(p, 0.05)
      local waited = hotline.now() - t0
      assert.equal(0, n)
      assert.is_true(waited >= 0.04 and waited < 2, waited)
      c:close()
      s:close()
    end)

    it("accepts raw descriptor numbers", function()
      local a, b = assert(hotline.socketpair())
      p:add(b:fileno(), "r")
      a:write("x")
      local seen = ready(p, 1)
      assert.equal("r", seen[b:fileno()])
      a:close()
      b:close()
    end)

    it("reports a hang-up to a registered reader", function()
      local c, s = helpers.tcp_pair()
      p:add(s, "r")
      c:close()
      assert.equal("r", ready(p, 1)[s])
      assert.same({ nil, "closed" }, { s:read() })
      s:close()
    end)

    it("modify fails for a socket never added; remove of a closed one is fine", function()
      local c, s = helpers.tcp_pair()
      local ok, _, code = p:modify(s, "r")
      assert.is_nil(ok)
      assert.equal("ENOENT", code)
      p:add(s, "r")
      s:close()
      assert.is_true(p:remove(s))
      c:close()
    end)

    it("raises on bad events or targets", function()
      local c, s = helpers.tcp_pair()
      assert.has_error(function() p:add(s, "x") end)
      assert.has_error(function() p:add({}, "r") end)
      assert.has_error(function() p:add(-1, "r") end)
      assert.has_error(function() p:wait("soon") end)
      local ok, err = pcall(p.wait, s, 0)
      assert.is_false(ok)
      assert.matches("bad argument #1 .*%(hotline.poller expected, got ", err)
      c:close()
      assert.has_error(function() p:add(c, "r") end)
      s:close()
    end)

    it("handles more descriptors than select() could (> 1024)", function()
      local want = 1100   -- pairs: 2200 descriptors
      local soft = hotline.fdlimit(2 * want + 200)
      if soft < 2 * want + 100 then
        return pending("the hard descriptor limit is below " .. 2 * want + 100)
      end
      local pairs_ = {}
      for i = 1, want do
        local a, b = assert(hotline.socketpair())
        pairs_[i] = { a, b }
        p:add(b, "r")
      end
      assert.is_true(pairs_[want][2]:fileno() > 1024)
      -- every 10th gets a byte; exactly those are reported
      for i = 10, want, 10 do pairs_[i][1]:write("x") end
      local seen, total = {}, 0
      for _ = 1, 10 do
        local got, n = ready(p, 0.2)
        for sock in pairs(got) do
          if not seen[sock] then
            seen[sock] = true
            total = total + 1
            p:remove(sock)
          end
        end
        if n == 0 then break end
      end
      assert.equal(want / 10, total)
      assert.is_true(seen[pairs_[want][2]])
      for _, pair in ipairs(pairs_) do
        pair[1]:close()
        pair[2]:close()
      end
    end)

    it("closing the poller makes it unusable", function()
      assert.is_true(p:close())
      assert.is_true(p:close())
      assert.equal("hotline.poller (closed)", tostring(p))
      local ok, err = pcall(p.wait, p, 0)
      assert.is_false(ok)
      assert.matches("%(attempt to use a closed poller%)$", err)
    end)
  end)
end

describe("hotline.poller", function()
  it("refuses a backend this system lacks", function()
    assert.has_error(function() hotline.poller("kqueue") end)
  end)
end)
