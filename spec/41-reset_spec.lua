-- Faults: a peer that resets the connection (SO_LINGER 0, then close)
-- while we read, while we write and before we accept. Each case ends with
-- a plain failure tuple, the process goes on, and every descriptor the
-- spec opened is closed again.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

local BIG = faults.size(4 * 1024 * 1024, 64 * 1024)
local reset, is_gone = faults.reset, faults.is_gone

for _, backend in ipairs(helpers.backends()) do
  describe("a peer that resets (" .. backend .. ")", function()
    local fds
    before_each(function() fds = faults.baseline(backend) end)

    it("during a blocked read: nil, ECONNRESET, and the bytes before it are kept", function()
      local c, s = helpers.tcp_pair()
      local got, rest
      hotline.spawn(function()
        got = { s:read(1000) }              -- waits: only 9 bytes will come
        rest = s:recv()
      end)
      hotline.spawn(function()
        c:write("half a li")
        reset(c)
      end)
      faults.run()
      assert.is_nil(got[1])
      assert.equal("ECONNRESET", got[3])
      assert.equal("connection reset by peer", got[2])
      assert.equal("half a li", rest)      -- received before the reset
      assert.same({ nil, "closed" }, { s:read("l") })
      s:close()
      faults.assert_fds(fds)
    end)

    it("in the middle of a long transfer: the reader stops with a clean error", function()
      local c, s = helpers.tcp_pair()
      local body = string.rep("0123456789abcdef", BIG / 16)
      local got, sent
      hotline.spawn(function()
        got = { s:read(#body) }             -- never completes
      end)
      hotline.spawn(function()
        sent = #body / 2
        assert(c:write(body:sub(1, sent)))  -- half of it, then the reset
        reset(c)
      end)
      faults.run()
      assert.is_nil(got[1])
      assert.truthy(got[3] == "ECONNRESET" or got[2] == "closed",
        "unexpected: " .. tostring(got[2]))
      -- what did arrive is an unaltered prefix of the body
      local prefix = {}
      while true do
        local piece = s:recv()
        if not piece then break end
        prefix[#prefix + 1] = piece
      end
      prefix = table.concat(prefix)
      assert.is_true(#prefix <= sent)
      assert.is_true(prefix == body:sub(1, #prefix))
      s:close()
      faults.assert_fds(fds)
    end)

    it("during a blocked write: nil, ECONNRESET or EPIPE, and the bytes sent", function()
      local c, s = helpers.tcp_pair()
      c:setoption("sndbuf", 4096)
      s:setoption("rcvbuf", 4096)
      local body = string.rep("x", BIG)
      local result, started
      hotline.spawn(function()
        result = { c:write(body) }          -- blocks: the peer reads 1,000 bytes
      end)
      hotline.spawn(function()
        started = s:read(1000)
        reset(s)
      end)
      faults.run()
      assert.equal(1000, #started)
      assert.is_nil(result[1])
      assert.is_true(is_gone(result[3]), "unexpected: " .. tostring(result[3]))
      assert.is_true(result[4] >= 1000 and result[4] < #body)
      -- and the socket keeps failing cleanly, without SIGPIPE
      local ok, _, code = c:write("more")
      assert.is_nil(ok)
      assert.is_true(is_gone(code), "unexpected: " .. tostring(code))
      c:close()
      faults.assert_fds(fds)
    end)

    it("before accept: the server skips or reports it and accepts the next caller", function()
      local listener = assert(hotline.listen("127.0.0.1", 0))
      listener:settimeout(helpers.TIMEOUT)
      local host, port = listener:getsockname()
      for _ = 1, 3 do reset(assert(hotline.connect(host, port))) end
      local good = assert(hotline.connect(host, port))
      good:settimeout(helpers.TIMEOUT)
      local _, good_port = good:getsockname()
      local served
      for _ = 1, 4 do                      -- the three reset ones, then good
        local client = assert(listener:accept())
        client:settimeout(helpers.TIMEOUT)
        local _, peer_port = client:getpeername()
        if peer_port == good_port then
          served = true
          client:write("welcome\n")
        else                                -- a reset caller: reads fail cleanly
          local data, err = client:read("l")
          assert.is_nil(data)
          assert.is_string(err)
        end
        client:close()
        if served then break end
      end
      assert.is_true(served)
      assert.equal("welcome", good:read("l"))
      good:close()
      listener:close()
      faults.assert_fds(fds)
    end)

    it("against hotline.serve: resets do not stop the server", function()
      local reports = {}
      local server = assert(hotline.serve { host = "127.0.0.1", port = 0,
        on_error = function(message) reports[#reports + 1] = message end,
        handler = function(client)
          client:settimeout(helpers.TIMEOUT)
          while true do
            local line = client:read("l")
            if not line then return end
            client:write("echo ", line, "\n")
          end
        end })
      local answers = 0
      hotline.spawn(function()
        local host, port = server:address()
        for i = 1, 40 do
          local c = assert(hotline.connect(host, port))
          c:settimeout(helpers.TIMEOUT)
          if i % 2 == 0 then
            c:write("ping ", i, "\n")
            assert.equal("echo ping " .. i, c:read("l"))
            answers = answers + 1
            c:close()
          elseif i % 4 == 1 then
            reset(c)                        -- before sending anything
          else
            c:write("half")                 -- in the middle of a line
            reset(c)
          end
        end
        server:close()
      end)
      faults.run()
      assert.equal(20, answers)
      assert.same({}, reports)
      assert.equal(0, server:connections())
      faults.assert_fds(fds)
    end)
  end)
end
