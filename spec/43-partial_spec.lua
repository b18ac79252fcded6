-- Faults: a slow reader and a tiny send buffer force partial writes, in a
-- task (the loop waits) and outside any task (the process blocks in
-- poll), with timeouts that interrupt a write half-way. Every byte must
-- arrive once, in order, and every descriptor is closed again.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"

local SIZE = faults.size(1024 * 1024, 16 * 1024)

-- About size bytes in numbered lines of varied length, as pieces for
-- write(...); some pieces are numbers, which write turns into text.
local function numbered(size)
  local pieces, total, i = {}, 0, 0
  while total < size do
    i = i + 1
    local line = string.format("%07d:%s\n", i, string.rep(string.char(97 + i % 26), i * 7 % 2000))
    pieces[#pieces + 1] = line
    pieces[#pieces + 1] = i                 -- a number piece
    total = total + #line + #tostring(i)
  end
  return pieces, table.concat(pieces)
end

local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return b * 65536 + a
end

local unpack = table.unpack or unpack -- luacheck: compat

for _, backend in ipairs(helpers.backends()) do
  describe("partial writes (" .. backend .. ")", function()
    local fds
    before_each(function() fds = faults.baseline(backend) end)

    -- A tiny send buffer. (A tiny receive buffer as well would only test
    -- the kernel: its window updates then wait for the 200 ms persist
    -- timer.)
    local function small_buffers()
      local c, s = helpers.tcp_pair()
      assert(c:setoption("sndbuf", 4096))
      return c, s
    end

    it("one write of many pieces to a slow reader: every byte, in order", function()
      local c, s = small_buffers()
      local pieces, expected = numbered(SIZE)
      assert.is_true(#pieces > 64)          -- more than one sendmsg can take
      local received, done, waited = {}, nil, 0
      hotline.spawn(function()
        done = c:write(unpack(pieces))
        c:close()
      end)
      hotline.spawn(function()
        local turn = 0
        while true do                        -- small reads of varied kinds
          turn = turn + 1
          local piece
          if turn % 3 == 0 then
            piece = s:read("L")
          elseif turn % 3 == 1 then
            piece = s:recv(1 + turn % 997)
          else
            piece = s:read(1 + turn % 500)
          end
          if not piece then break end
          received[#received + 1] = piece
          if turn % 8 == 0 then
            waited = waited + 1
            hotline.sleep(0)                 -- let the writer meet a full buffer
          end
        end
      end)
      faults.run()
      assert.equal(c, done)
      assert.is_true(waited > 0)
      local got = table.concat(received)
      assert.equal(#expected, #got)
      assert.is_true(got == expected)
      s:close()
      faults.assert_fds(fds)
    end)

    it("a write cut short by its timeout resumes from the bytes it reports", function()
      local c, s = small_buffers()
      local _, expected = numbered(SIZE / 4)
      local timeouts, received = 0, {}
      hotline.spawn(function()
        c:settimeout(0.01)
        local rest = expected
        for _ = 1, 100000 do                -- bounded; ends long before
          local ok, err, code, sent = c:write(rest)
          if ok then break end
          assert.equal("timeout", err)
          assert.equal("ETIMEDOUT", code)
          assert.is_true(sent >= 0 and sent < #rest)
          timeouts = timeouts + 1
          rest = rest:sub(sent + 1)
        end
        c:close()
      end)
      hotline.spawn(function()
        local since = 0
        while true do
          local piece = s:recv(4096)
          if not piece then break end
          received[#received + 1] = piece
          since = since + #piece
          if since >= 4096 then              -- slower than the writer's timeout
            since = 0
            hotline.sleep(0.002)
          end
        end
      end)
      faults.run()
      assert.is_true(timeouts > 0)
      assert.is_true(table.concat(received) == expected)
      s:close()
      faults.assert_fds(fds)
    end)
  end)
end

describe("partial writes outside any task", function()
  it("block in poll until a slow reader process has taken every byte", function()
    local fds = faults.baseline()
    local listener = assert(hotline.listen("127.0.0.1", 0))
    listener:settimeout(helpers.TIMEOUT)
    local _, port = listener:getsockname()
    local out = os.tmpname()
    local pid = helpers.start(helpers.lua .. " spec/tools/slowreader.lua " .. port,
      { stdout = out })
    local c = assert(listener:accept())
    listener:close()
    assert(c:setoption("sndbuf", 4096))
    c:settimeout(30)
    local _, body = numbered(SIZE)
    assert.equal(c, c:write(body))          -- many partial sends, one call
    c:close()
    local text = helpers.eventually(function()
      local t = helpers.slurp(out)
      return t and t:match("\n") and t
    end, 30)
    helpers.stop(pid)
    os.remove(out)
    assert.truthy(text, "the reader did not finish")
    local total, sum = text:match("^(%d+) (%d+)")
    assert.equal(#body, tonumber(total))
    assert.equal(adler32(body), tonumber(sum))
    faults.assert_fds(fds)
  end)
end)
