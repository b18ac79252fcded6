-- bench/tls/run.lua: the TLS rows (make bench-tls): echo servers on
-- OpenSSL 3 in C (the ceiling), hotline.serve{tls=}, LuaSec on LuaSocket
-- and cqueues with luaossl, driven by bench/bin/tlsload, each measurement
-- with a fresh server pinned to CPU 0 and the client on CPU 1. cqueues' TLS needs
-- luaossl (Debian lua-luaossl): its row runs only where that loads.
--   lua5.4 bench/tls/run.lua [--reps N] [--seconds S] [--out FILE]
-- Prints a table of medians and ratios to C and writes it to --out.
-- SPDX-License-Identifier: MIT

local ROOT = (arg[0]:match("^(.*)/bench/tls/run%.lua$") or ".")
local BIN, SERVERS = ROOT .. "/bench/bin", ROOT .. "/bench/servers"
local opts = { reps = 3, seconds = 2, out = ROOT .. "/bench/TLS-RESULTS.md" }
for i = 1, #arg, 2 do opts[arg[i]:gsub("^%-%-", "")] = tonumber(arg[i + 1]) or arg[i + 1] end

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

local dir = sh("mktemp -d"):gsub("%s+$", "")
local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
  .. " -subj /CN=localhost -keyout " .. key .. " -out " .. cert .. " 2>/dev/null")

local lua_env = string.format("env LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;;' "
  .. "LUA_CPATH='%s/build/5.4/?.so;;' ", ROOT, ROOT, ROOT)
local ROWS = {
  { id = "c", name = "C on OpenSSL (ceiling)", cmd = BIN .. "/c_tls_echo" },
  { id = "hotline", name = "hotline serve{tls=}",
    cmd = lua_env .. "lua5.4 " .. SERVERS .. "/hotline_tls_echo.lua" },
  { id = "luasec", name = "LuaSec on LuaSocket",
    cmd = "lua5.4 " .. SERVERS .. "/luasec_tls_echo.lua", module = "ssl" },
  { id = "cqueues", name = "cqueues + luaossl",
    cmd = "lua5.4 " .. SERVERS .. "/cqueues_tls_echo.lua", module = "openssl.ssl.context" },
}
local SCENARIOS = {
  { id = "bulk", title = "bulk (64 KiB echoed, AES-GCM)", unit = "MiB/s", cpu = "µs/MiB" },
  { id = "pingpong100", title = "pingpong100", unit = "rt/s", cpu = "µs/rt" },
  { id = "handshake", title = "full handshakes", unit = "conn/s", cpu = "µs/conn" },
}
local pin = sh("command -v taskset") ~= "" and function(cpu) return "taskset -c " .. cpu .. " " end
  or function() return "" end

local function measure(row, scen)
  local out = os.tmpname()
  local pid = tonumber((sh(string.format("%s%s 0 %s %s >%s 2>&1 & echo $!", pin(0), row.cmd,
    cert, key, out))))
  local port
  for _ = 1, 200 do
    local f = io.open(out)
    port = f and tonumber((f:read("a") or ""):match("PORT (%d+)"))
    if f then f:close() end
    if port then break end
    sh("sleep 0.02")
  end
  local line = port and sh(string.format("%stimeout %d %s/tlsload %s %d %s %d 2>&1", pin(1),
    opts.seconds + 20, BIN, scen.id, port, opts.seconds, pid)) or ""
  sh("kill " .. pid .. " 2>/dev/null; sleep 0.05; kill -9 " .. pid .. " 2>/dev/null")
  os.remove(out)
  local rate, cpu = line:match("rate ([%d.]+) cpu_us ([%d.]+)")
  return tonumber(rate), tonumber(cpu)
end

local function median(t)
  table.sort(t)
  return t[math.floor((#t + 1) / 2)]
end

local lines = { "| scenario | server | rate | server CPU | rate ×C | CPU ×C |",
  "|---|---|---:|---:|---:|---:|" }
for _, scen in ipairs(SCENARIOS) do
  local c_rate, c_cpu
  for _, row in ipairs(ROWS) do
    local loads = not row.module
      or select(2, sh("lua5.4 -e 'require\"" .. row.module .. "\"' 2>/dev/null"))
    if loads then
      local rates, cpus = {}, {}
      for _ = 1, opts.reps do
        local r, c = measure(row, scen)
        if r then rates[#rates + 1], cpus[#cpus + 1] = r, c end
      end
      local r, c = median(rates), median(cpus)
      if row.id == "c" then c_rate, c_cpu = r, c end
      local text = r and string.format("| %s | %s | %.1f %s | %.1f %s | %s | %s |", scen.title,
        row.name, r, scen.unit, c, scen.cpu, c_rate and string.format("%.2f", r / c_rate) or "-",
        c_cpu and string.format("%.2f", c / c_cpu) or "-")
        or string.format("| %s | %s | FAILED | | | |", scen.title, row.name)
      lines[#lines + 1] = text
      print(text)
    end
  end
end
sh("rm -rf " .. dir)
local f = assert(io.open(opts.out, "w"))
f:write("# TLS rows (bench/tls/run.lua)\n\nMedians of ", opts.reps, " runs of ", opts.seconds,
  " s each; server on CPU 0, tlsload on CPU 1.\n\n", table.concat(lines, "\n"), "\n")
f:close()
