-- bench/names.lua: the names benchmark's clients (bench/names.sh runs them
-- in a network namespace whose /etc/resolv.conf points at a local DNS
-- server, so every library below asks that server and nothing else).
--   lua bench/names.lua lookups hotline|luv|luasocket COUNT CONCURRENCY
--     COUNT lookups of distinct names nK.bench (A and AAAA)
--     -> "rate=<lookups/s> ... cpu_us_per_lookup=<client CPU>"
--   lua bench/names.lua serve OUTSTANDING
--     a hotline echo serve (for loadgen's pingpong100), with OUTSTANDING
--     lookups of slow names kept in flight in the same process -> "PORT <n>"
-- SPDX-License-Identifier: MIT

local mode, a, b, c = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])

local function now()
  return require("hotline").now()
end

local cpu0 = os.clock()   -- the process's CPU time, all its threads

local function report(count, seconds)
  print(string.format("rate=%.0f lookups=%d seconds=%.3f cpu_us_per_lookup=%.1f",
    count / seconds, count, seconds, (os.clock() - cpu0) / count * 1e6))
end

if mode == "lookups" and a == "hotline" then
  local hotline = require "hotline"
  local count, concurrency, next_name, done = b, c, 0, 0
  local t0 = now()
  for _ = 1, concurrency do
    hotline.spawn(function()
      while next_name < count do
        next_name = next_name + 1
        assert(hotline.getaddrinfo("n" .. next_name .. ".bench", 80))
        done = done + 1
      end
    end)
  end
  assert(hotline.run())
  report(done, now() - t0)
elseif mode == "lookups" and a == "luv" then
  local uv = require "luv"
  local count, concurrency, next_name, done = b, c, 0, 0
  local t0 = uv.hrtime()
  local function one()
    if next_name >= count then return end
    next_name = next_name + 1
    uv.getaddrinfo("n" .. next_name .. ".bench", "80", { socktype = "stream" }, function(err, res)
      assert(not err and res and res[1], err)
      done = done + 1
      one()
    end)
  end
  for _ = 1, concurrency do one() end
  uv.run()
  report(done, (uv.hrtime() - t0) / 1e9)
elseif mode == "lookups" and a == "luasocket" then
  local socket = require "socket"
  local count = b
  local t0 = socket.gettime()
  for i = 1, count do
    assert(socket.dns.getaddrinfo("n" .. i .. ".bench"))
  end
  report(count, socket.gettime() - t0)
elseif mode == "serve" then
  local hotline = require "hotline"
  local server = assert(hotline.serve({
    host = "127.0.0.1", port = 0, backlog = 1024,
    handler = function(client)
      while true do
        local data = client:recv(65536)
        if not data then return end
        if not client:write(data) then return end
      end
    end,
  }))
  local n = 0
  for _ = 1, tonumber(a) do
    hotline.spawn(function()
      while true do
        n = n + 1
        assert(hotline.getaddrinfo("slow" .. n .. ".bench", 80))
      end
    end)
  end
  print("PORT " .. select(2, server:address()))
  io.stdout:flush()
  hotline.run()
else
  io.stderr:write("usage: see the head of bench/names.lua\n")
  os.exit(2)
end
