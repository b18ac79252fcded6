-- TLS under load and faults: many concurrent clients, a large body to a
-- slow reader, a reset in the middle of a record, SIGPIPE, and
-- descriptors and memory back where they were after many connections.
local hotline = require "hotline"
local helpers = require "spec.helpers"
local faults = require "spec.tools.faults"
local certs = require "spec.tools.certs"

-- Smaller where every transfer moves one byte or runs under valgrind.
local function size(normal, small)
  if faults.mocked or faults.check == "valgrind" then return small end
  return normal
end

describe("TLS under load", function()
  local c, client_ctx, server_ctx
  setup(function()
    c = certs.make()
    client_ctx = assert(hotline.tls.context({ cafile = c.ca }))
    server_ctx = assert(hotline.tls.context({ cert = c.cert, key = c.key, server = true }))
  end)
  teardown(function() certs.remove(c) end)

  local function echo_server()
    return assert(hotline.serve({ host = "127.0.0.1", tls = server_ctx,
      handler = function(s)
        s:settimeout(helpers.TIMEOUT)
        -- (a while loop: Lua 5.1 cannot yield inside a for iterator)
        local line = s:read("l")
        while line do
          s:write(line, "\n")
          line = s:read("l")
        end
      end }))
  end

  it("serves concurrent clients, each many round trips, every byte checked", function()
    local fds = faults.baseline()
    local clients, trips = size(200, 8), size(20, 3)
    local srv = echo_server()
    local _, port = srv:address()
    local done = 0
    for i = 1, clients do
      hotline.spawn(function()
        local s = assert(hotline.connect("localhost", port, { tls = client_ctx, timeout = 30 }))
        s:settimeout(30)
        for j = 1, trips do
          local line = string.rep(string.char(65 + (i + j) % 26), (i * 7 + j * 13) % 200 + 1)
            .. " " .. i .. "/" .. j
          assert(s:write(line, "\n"))
          assert.equal(line, s:read("l"))
        end
        s:close()
        done = done + 1
        if done == clients then srv:close() end
      end)
    end
    faults.run()
    assert.equal(clients, done)
    faults.assert_fds(fds)
  end)

  it("writes a large body to a slow reader in a task, nothing lost", function()
    local a, b = certs.pair(client_ctx, server_ctx)
    local total = size(8 * 1024 * 1024, 64 * 1024)
    local piece = string.rep("0123456789abcdef", 4096)   -- 64 KiB
    local body = string.rep(piece, total / #piece)
    local got, reads = {}, 0
    hotline.spawn(function()
      assert(b:write(body))
      b:close()
    end)
    hotline.spawn(function()
      while true do
        local data, err = a:recv(4096)
        if not data then
          assert.equal("closed", err)
          break
        end
        got[#got + 1] = data
        reads = reads + 1
        if reads % 64 == 0 then hotline.sleep(0.001) end   -- a slow reader
      end
    end)
    faults.run()
    a:close()
    local all = table.concat(got)
    assert.equal(#body, #all)
    assert.is_true(all == body)
  end)

  it("reports a reset in the middle of a record, and nothing is lost before it", function()
    -- client <-> relay <-> server: the relay passes 40 bytes at a time;
    -- once the client says so, it passes 40 bytes of the next record and
    -- resets the client's connection.
    local listener = assert(hotline.listen("127.0.0.1", 0))
    local _, port = listener:getsockname()
    local relay_l = assert(hotline.listen("127.0.0.1", 0))
    local _, relay_port = relay_l:getsockname()
    local cut, outcome = false, nil
    hotline.spawn(function()
      local s = assert(listener:accept())
      s:settimeout(5)
      assert(s:starttls({ cert = c.cert, key = c.key, server = true }))
      s:write("first\n")
      assert.equal("cut now", s:read("l"))
      s:write(string.rep("x", 1000), "\n")     -- one record of about 1 KiB
      s:read("a")
      s:close()
    end)
    hotline.spawn(function()
      local down = assert(relay_l:accept())
      local up = assert(hotline.connect("127.0.0.1", port))
      hotline.spawn(function()             -- client -> server
        while true do
          local data = down:recv()
          if not data or not up:write(data) then break end
        end
        up:close()
      end)
      while true do                        -- server -> client
        local was_cut = cut
        local data = up:recv(40)
        if not data then break end
        down:write(data)
        if was_cut then
          faults.reset(down)
          break
        end
      end
      up:close()
    end)
    hotline.spawn(function()
      local s = assert(hotline.connect("localhost", relay_port,
        { tls = client_ctx, timeout = 5 }))
      s:settimeout(5)
      assert.equal("first", s:read("l"))
      cut = true
      s:write("cut now\n")
      outcome = { s:read("l") }
      s:close()
    end)
    faults.run()
    listener:close()
    relay_l:close()
    assert.same({ nil, "connection reset by peer", "ECONNRESET" }, outcome)
  end)

  it("survives writing to a TLS peer that reset, with SIGPIPE at its default", function()
    local ok, code, out, err = helpers.run_lua("spec/tools/sigpipe.lua",
      c.cert .. " " .. c.key .. " " .. c.ca)
    assert.is_true(ok, "exit " .. tostring(code) .. ": " .. err)
    assert.matches("^write E[A-Z]+\nsend E[A-Z]+\nsurvived\n$", out)
    for code_name in out:gmatch("E[A-Z]+") do assert.is_true(faults.is_gone(code_name)) end
  end)

  it("gives back descriptors and memory after many connections", function()
    local n = size(2000, 20)
    local function round(count)
      local srv = echo_server()
      local _, port = srv:address()
      hotline.spawn(function()
        for _ = 1, count do
          local s = assert(hotline.connect("127.0.0.1", port, { tls = client_ctx, timeout = 5 }))
          s:settimeout(5)
          s:write("x\n")
          assert.equal("x", s:read("l"))
          s:close()
        end
        srv:close()
      end)
      faults.run()
    end
    round(size(50, 5))              -- warm up: tables and caches reach size
    local fds = faults.baseline()
    local kb = collectgarbage("count")
    round(n)
    helpers.collect()
    faults.assert_fds(fds)
    assert.is_true(collectgarbage("count") - kb < 64,
      string.format("Lua memory grew by %.0f KiB", collectgarbage("count") - kb))
  end)
end)
