-- bench/run.lua: runs the echo benchmarks and writes bench/RESULTS.md and
-- bench/ratios.svg (see bench/README.md). Lua 5.4, no modules.
--   lua5.4 bench/run.lua [--quick | --selftest] [--reps N] [--seconds S]
--     [--scenarios bulk,churn,..] [--rows c,luv,..] [--luas 5.4,jit]
--     [--conns N] [--hold S] [--out FILE]
--   lua5.4 bench/run.lua --cleanup
-- Every server is started afresh per measurement, pinned to CPU 0, and
-- stopped by its PID (TERM, then KILL) and reaped; the load generator runs
-- on CPU 1. Servers still alive when the harness fails are stopped too;
-- if the harness itself is killed, --cleanup (and the next run) stops the
-- servers listed in bench/out/servers.pid.
-- SPDX-License-Identifier: MIT

local ROOT = (arg[0]:match("^(.*)/bench/run%.lua$") or
              (arg[0]:match("^(.*)/run%.lua$") or ".") .. "/..")
ROOT = io.popen("cd '" .. ROOT .. "' && pwd"):read("l")
local BENCH = ROOT .. "/bench"
local BIN, OUT = BENCH .. "/bin", BENCH .. "/out"
local PIDFILE = OUT .. "/servers.pid"

local LUAS = {
  { v = "5.4", bin = "lua5.4", name = "5.4" },
  { v = "jit", bin = "luajit", name = "LuaJIT" },
}

-- Servers. module: what must load for the row to run; pkg: the Debian
-- package that provides it; maxfds: sockets the server can watch at most.
local ROWS = {
  { id = "c", name = "C epoll (ceiling)", exe = "c_echo" },
  { id = "luasocket", name = "LuaSocket select", script = "luasocket_echo.lua",
    module = "socket", pkg = "lua-socket", maxfds = 1024 },
  { id = "copas", name = "copas", script = "copas_echo.lua",
    module = "copas", pkg = "lua-copas", maxfds = 1024 },
  { id = "luv", name = "luv", script = "luv_echo.lua",
    module = "luv", pkg = "lua-luv" },
  { id = "cqueues", name = "cqueues", script = "cqueues_echo.lua",
    module = "cqueues", pkg = "lua-cqueues" },
  { id = "hotline", name = "hotline serve", script = "hotline_echo.lua",
    module = "hotline", hotline = true },
  { id = "hotline-poller", name = "hotline poller",
    script = "hotline_poller_echo.lua", module = "hotline", hotline = true },
  -- issue 12: LuaSocket's API on hotline (no issue-6 targets for these)
  { id = "luasocket-compat", name = "hotline.luasocket select",
    script = "luasocket_compat_echo.lua", module = "hotline.luasocket",
    hotline = true, notarget = true },
  { id = "luasocket-tasks", name = "hotline.luasocket tasks",
    script = "luasocket_tasks_echo.lua", module = "hotline.luasocket",
    hotline = true, notarget = true },
}

-- unit: of the rate; per: unit of work for server CPU (and its scale).
local SCENARIOS = {
  { id = "bulk", title = "bulk: 1 connection streaming 64 KiB writes",
    unit = "MiB/s", per = "MiB", cpu_scale = 1e3, cpu_unit = "µs/MiB" },
  { id = "pingpong1", title = "pingpong1: 1 connection, one 64-byte message"
      .. " in flight", unit = "rt/s", per = "rt", cpu_scale = 1e3,
    cpu_unit = "µs/rt", latency = true },
  { id = "pingpong100", title = "pingpong100: 100 connections, one 64-byte"
      .. " message in flight on each", unit = "rt/s", per = "rt",
    cpu_scale = 1e3, cpu_unit = "µs/rt", latency = true },
  { id = "churn", title = "churn: connect, 64 bytes there and back, close;"
      .. " 16 in flight", unit = "conn/s", per = "conn", cpu_scale = 1e3,
    cpu_unit = "µs/conn", latency = true },
  { id = "idle10k", title = "idle10k: connections held open, each served"
      .. " once", idle = true },
}

-- Targets for hotline (issue 6): scenario, what, limit, lower is better.
local TARGETS = {
  { scen = "bulk", what = "throughput ×C", key = "rate_x", limit = 0.90,
    min = true },
  { scen = "pingpong100", what = "server CPU per round trip ×C",
    key = "cpu_x", limit = 1.20 },
  { scen = "churn", what = "server CPU per connection ×C", key = "cpu_x",
    limit = 1.15 },
  { scen = "idle10k", what = "server memory per idle connection (bytes)",
    key = "mem", limit = 1024 },
}

---------------------------------------------------------------- helpers

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command -> its stdout, and whether it exited 0.
local function sh(cmd)
  local h = io.popen(cmd, "r")
  local out = h:read("a")
  local ok = h:close()
  return out, ok
end

local function have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

local function readfile(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function writefile(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

local function sleep(s) os.execute("sleep " .. s) end

-- Seconds since boot, to 10 ms: enough for deadlines.
local function uptime()
  return tonumber(readfile("/proc/uptime"):match("^(%S+)"))
end

local function median(t)
  local s = {}
  for i = 1, #t do s[i] = t[i] end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local function firstline(s)
  return (s or ""):match("^%s*([^\n]*)") or ""
end

------------------------------------------------------- process control

local PIN_SERVER, PIN_LOAD = "", ""
if have("taskset") then
  PIN_SERVER, PIN_LOAD = "taskset -c 0 ", "taskset -c 1 "
end

local live = {}                       -- pid -> popen handle of a server

local function save_pids()
  local lines = {}
  for pid in pairs(live) do lines[#lines + 1] = tostring(pid) end
  writefile(PIDFILE, table.concat(lines, "\n") .. "\n")
end

-- "R", "S", ..., "Z" (exited, not yet reaped), or nil if gone.
local function pstate(pid)
  local s = readfile("/proc/" .. pid .. "/stat")
  return s and s:match("%) (%a)")
end

local function alive(pid)
  local st = pstate(pid)
  return st ~= nil and st ~= "Z" and st ~= "X"
end

local function wait_exit(pid, seconds)
  local deadline = uptime() + seconds
  while alive(pid) and uptime() < deadline do sleep(0.02) end
  return not alive(pid)
end

-- Stops a server: TERM, KILL if it lingers, then reaps it (pclose).
local function stop_server(pid)
  local h = live[pid]
  if not h then return end
  os.execute("kill -TERM " .. pid .. " 2>/dev/null")
  if not wait_exit(pid, 2) then
    os.execute("kill -KILL " .. pid .. " 2>/dev/null")
    wait_exit(pid, 2)
  end
  h:close()
  live[pid] = nil
  save_pids()
end

local function stop_all()
  for pid in pairs(live) do stop_server(pid) end
end

-- A previous harness that died may have left servers: stop those whose
-- command line is one of ours (a recycled PID belongs to someone else).
local function stop_leftovers()
  for pid in (readfile(PIDFILE) or ""):gmatch("%d+") do
    local cmdline = readfile("/proc/" .. pid .. "/cmdline") or ""
    if cmdline:find("bench/servers/", 1, true) or
        cmdline:find("bench/bin/c_echo", 1, true) then
      os.execute("kill -KILL " .. pid .. " 2>/dev/null")
    end
  end
  os.remove(PIDFILE)
end

local function lua_env(lua)
  return "export LUA_PATH=" .. quote(ROOT .. "/lua/?.lua;" .. ROOT ..
    "/lua/?/init.lua;;") .. " LUA_CPATH=" .. quote(ROOT .. "/build/" ..
    lua.v .. "/?.so;;") .. "; "
end

local function server_argv(row, lua)
  if row.exe then return quote(BIN .. "/" .. row.exe) end
  return lua.bin .. " " .. quote(BENCH .. "/servers/" .. row.script)
end

-- Starts a fresh server -> pid, port | nil, reason. The shell prints its
-- PID and execs (taskset execs too), so the PID is the server's; the
-- harness is its parent and reaps it in stop_server.
local function start_server(row, lua)
  local out, err = OUT .. "/server.out", OUT .. "/server.err"
  os.remove(out)
  local cmd = "ulimit -n $(ulimit -Hn) 2>/dev/null; " ..
    (lua and lua_env(lua) or "") .. "echo $$; exec " .. PIN_SERVER ..
    server_argv(row, lua) .. " 0 </dev/null >" .. quote(out) .. " 2>" ..
    quote(err)
  local h = io.popen(cmd, "r")
  local pid = tonumber(h:read("l"))
  if not pid then
    h:close()
    return nil, "could not start the server"
  end
  live[pid] = h
  save_pids()
  local deadline = uptime() + 10
  while true do
    local port = (readfile(out) or ""):match("^PORT (%d+)\n")
    if port then return pid, tonumber(port) end
    if not alive(pid) or uptime() > deadline then
      local why = alive(pid) and "no PORT line within 10 s" or
        "server exited: " .. firstline(readfile(err))
      stop_server(pid)
      return nil, why
    end
    sleep(0.02)
  end
end

-- Parses loadgen's result line -> table (numbers where they are).
local function parse_result(line)
  local r = {}
  local reason = line:match(" reason=(.*)$")
  if reason then line = line:sub(1, #line - #reason - 8) end
  for k, v in line:gmatch("(%S+)=(%S+)") do r[k] = tonumber(v) or v end
  r.reason = reason
  return r
end

-- Runs loadgen with args -> result table | nil, reason.
local function loadgen(args, cap)
  local cmd = "timeout -k 2 " .. cap .. " " .. PIN_LOAD .. quote(BIN ..
    "/loadgen") .. " " .. args .. " 2>&1"
  local out = sh(cmd)
  local line = out:match("(scenario=[^\n]*)")
  if not line then
    return nil, "loadgen gave no result: " .. firstline(out)
  end
  local r = parse_result(line)
  if r.ok ~= 1 then return nil, r.reason or "loadgen failed" end
  return r
end

--------------------------------------------------------------- probing

local dpkg_cache = {}

-- -> version of an installed Debian package, or nil
local function dpkg_version(pkg)
  if dpkg_cache[pkg] == nil then
    local out = sh("dpkg-query -W -f='${Status}|${Version}' " .. pkg ..
      " 2>/dev/null")
    dpkg_cache[pkg] = out:match("ok installed|(.+)") or false
  end
  return dpkg_cache[pkg] or nil
end

-- -> "5.1, 5.2": the Lua versions a package installs modules for
local function dpkg_luas(pkg)
  local seen, list = {}, {}
  for v in sh("dpkg -L " .. pkg .. " 2>/dev/null"):gmatch("/lua/(5%.%d)/") do
    if not seen[v] then
      seen[v] = true
      list[#list + 1] = v
    end
  end
  table.sort(list)
  return table.concat(list, ", ")
end

local probe_cache = {}

-- Can row run on lua? -> "ok" | "skip", reason | "fail", reason.
-- A missing peer library is a skip; hotline missing is a failure (except
-- in the selftest: see main).
local function probe(row, lua)
  local key = row.id .. "/" .. (lua and lua.v or "")
  if probe_cache[key] then return table.unpack(probe_cache[key]) end
  local res
  if row.exe then
    res = { "ok" }
    if not io.open(BIN .. "/" .. row.exe) then
      res = { "fail", BIN .. "/" .. row.exe .. " not built" }
    end
  elseif not have(lua.bin) then
    res = { "skip", lua.bin .. " not installed" }
  else
    local out, ok = sh(lua_env(lua) .. lua.bin .. " -e " ..
      quote("require '" .. row.module .. "'") .. " 2>&1")
    if ok then
      res = { "ok" }
    elseif row.hotline then
      res = { "fail", "hotline does not load on " .. lua.bin .. ": " ..
        (firstline(out):gsub("^[^:]*: ", ""):gsub("^%(command line%):%d+: ", "")
        :gsub(":$", "")) }
    elseif dpkg_version(row.pkg) then
      local abi = lua.v == "jit" and "5.1" or lua.v
      res = { "skip", ("Debian's %s %s installs for Lua %s only, not %s")
        :format(row.pkg, dpkg_version(row.pkg), dpkg_luas(row.pkg), abi) }
    else
      res = { "skip", row.pkg .. " not installed (make bench-deps)" }
    end
  end
  probe_cache[key] = res
  return table.unpack(res)
end

-- The rows of a run: C once, every Lua row on each Lua version.
local function instances(opts)
  local list = {}
  for _, row in ipairs(ROWS) do
    if not opts.rows or opts.rows[row.id] then
      if row.exe then
        list[#list + 1] = { row = row, key = row.id, label = row.name,
          lua = "–" }
      else
        for _, lua in ipairs(LUAS) do
          if not opts.luas or opts.luas[lua.v] then
            list[#list + 1] = { row = row, lua_t = lua, lua = lua.name,
              key = row.id .. "/" .. lua.v, label = row.name }
          end
        end
      end
    end
  end
  return list
end

------------------------------------------------------------- measuring

-- loadgen arguments for one measured run of scenario sc.
local function scenario_args(sc, opts, port, pid)
  local a = "--scenario " .. sc.id .. " --port " .. port .. " --server-pid " ..
    pid
  if sc.idle then
    return a .. " --conns " .. opts.conns .. " --hold " .. opts.hold ..
      " --max-seconds 60", 75
  end
  if sc.id == "bulk" then a = a .. " --bytes " .. opts.bulk_bytes end
  return a .. " --seconds " .. opts.seconds, opts.seconds + 30
end

-- One run: fresh server, one loadgen run, server stopped. -> metrics | nil,
-- reason
local function measure(inst, sc, opts)
  local pid, port = start_server(inst.row, inst.lua_t)
  if not pid then return nil, port end
  local args, cap = scenario_args(sc, opts, port, pid)
  local r, why = loadgen(args, cap)
  if r and not alive(pid) then
    r, why = nil, "server exited during the run"
  end
  local err = OUT .. "/server.err"
  stop_server(pid)
  if not r then
    local serr = firstline(readfile(err))
    if serr ~= "" then why = why .. "; server said: " .. serr end
    return nil, why
  end
  local m = { rate = r.rate, p50 = r.p50_us, p99 = r.p99_us }
  if sc.idle then
    m.mem, m.held, m.rss0 = r.bytes_per_conn, r.conns, r.rss_before_kb
  elseif r.server_cpu_ns then
    local work = sc.id == "bulk" and r.bytes / 1048576 or r.ops
    m.cpu = r.server_cpu_ns / work / sc.cpu_scale
  end
  return m
end

-- Runs the matrix; repetitions interleaved across rows (rotated order)
-- so that drift hits every row alike. -> results[scenario][key]
local function run_matrix(opts, insts)
  local results = {}
  for _, sc in ipairs(SCENARIOS) do
    if not opts.scenarios or opts.scenarios[sc.id] then
      local res = {}
      results[sc.id] = res
      for _, inst in ipairs(insts) do
        local status, reason = probe(inst.row, inst.lua_t)
        if status == "ok" and sc.idle and inst.row.maxfds and
            opts.conns + 8 > inst.row.maxfds then
          status, reason = "skip", ("select() watches descriptors below " ..
            "FD_SETSIZE (%d) only"):format(inst.row.maxfds)
        end
        res[inst.key] = { status = status, reason = reason, runs = {} }
      end
      for rep = 1, opts.reps do
        for i = 1, #insts do
          local inst = insts[(i + rep - 2) % #insts + 1]
          local e = res[inst.key]
          if e.status == "ok" then
            io.stderr:write(("%-12s %-26s rep %d/%d: "):format(sc.id,
              inst.key, rep, opts.reps))
            local m, why = measure(inst, sc, opts)
            if m then
              e.runs[#e.runs + 1] = m
              io.stderr:write(("%.1f %s\n"):format(m.rate, sc.unit or
                "conn/s"))
            else
              e.status, e.reason = "fail", why
              io.stderr:write("FAILED: " .. why .. "\n")
            end
          end
        end
      end
    end
  end
  return results
end

-- Medians of each metric over an entry's runs, and the spreads
-- ((max - min) / median) of throughput and of server CPU per unit.
local function summarize(e)
  local s = {}
  for _, k in ipairs({ "rate", "p50", "p99", "cpu", "mem", "held", "rss0" }) do
    local vals = {}
    for _, m in ipairs(e.runs) do
      if m[k] then vals[#vals + 1] = m[k] end
    end
    s[k] = median(vals)
    if (k == "rate" or k == "cpu") and #vals > 1 and s[k] > 0 then
      s[k .. "_spread"] = (math.max(table.unpack(vals)) -
        math.min(table.unpack(vals))) / s[k]
    end
  end
  return s
end

--------------------------------------------------------------- reports

local function fmt(x, digits)
  if x == nil then return "" end
  if digits then return ("%." .. digits .. "f"):format(x) end
  if x >= 100 then return ("%.0f"):format(x) end
  if x >= 10 then return ("%.1f"):format(x) end
  return ("%.2f"):format(x)
end

local function ratio(x, c)
  if not x or not c or c == 0 then return nil end
  return x / c
end

-- Fills per-entry summaries and ratios to the C row of the same run.
local function add_ratios(results)
  for _, res in pairs(results) do
    for _, e in pairs(res) do
      if e.status == "ok" and #e.runs > 0 then e.sum = summarize(e) end
    end
    local c = res.c and res.c.sum
    for _, e in pairs(res) do
      if e.sum then
        e.sum.rate_x = ratio(e.sum.rate, c and c.rate)
        e.sum.cpu_x = ratio(e.sum.cpu, c and c.cpu)
        e.sum.mem_x = ratio(e.sum.mem, c and c.mem)
      end
    end
  end
end

local function status_text(e)
  if e.status == "skip" then return "SKIPPED (" .. e.reason .. ")" end
  return "FAILED (" .. (e.reason or "?") .. ")"
end

local function table_for(sc, res, insts, reps)
  local L = {}
  local spread = reps > 1 and " | spread rate / CPU" or ""
  if sc.idle then
    L[1] = "| server | Lua | connections held | server RSS before | " ..
      "bytes per connection | ×C |"
    L[2] = "|---|---|--:|--:|--:|--:|"
  elseif sc.latency then
    L[1] = ("| server | Lua | %s | ×C | p50 µs | p99 µs | server CPU %s " ..
      "| ×C%s |"):format(sc.unit, sc.cpu_unit, spread)
    L[2] = "|---|---|--:|--:|--:|--:|--:|--:|" .. (reps > 1 and "--:|" or "")
  else
    L[1] = ("| server | Lua | %s | ×C | server CPU %s | ×C%s |")
      :format(sc.unit, sc.cpu_unit, spread)
    L[2] = "|---|---|--:|--:|--:|--:|" .. (reps > 1 and "--:|" or "")
  end
  for _, inst in ipairs(insts) do
    local e = res[inst.key]
    local head = "| " .. inst.label .. " | " .. inst.lua .. " | "
    if not e.sum then
      L[#L + 1] = head .. status_text(e) .. " |"
    else
      local s = e.sum
      local sp = reps > 1 and (" | %s%% / %s%%"):format(
        fmt(s.rate_spread and s.rate_spread * 100, 0),
        fmt(s.cpu_spread and s.cpu_spread * 100, 0)) or ""
      if sc.idle then
        L[#L + 1] = head .. ("%d | %s MiB | %s | %s |"):format(s.held,
          fmt(s.rss0 / 1024, 1), fmt(s.mem, 0), fmt(s.mem_x, 1))
      elseif sc.latency then
        L[#L + 1] = head .. ("%s | %s | %s | %s | %s | %s%s |"):format(
          fmt(s.rate, 0), fmt(s.rate_x, 2), fmt(s.p50, 1), fmt(s.p99, 1),
          fmt(s.cpu, 2), fmt(s.cpu_x, 2), sp)
      else
        L[#L + 1] = head .. ("%s | %s | %s | %s%s |"):format(fmt(s.rate, 0),
          fmt(s.rate_x, 2), fmt(s.cpu, 1), fmt(s.cpu_x, 2), sp)
      end
    end
  end
  return table.concat(L, "\n")
end

local function targets_table(results, insts)
  local cols = {}
  for _, inst in ipairs(insts) do
    if inst.row.hotline and not inst.row.notarget then cols[#cols + 1] = inst end
  end
  if #cols == 0 then return nil end
  local L = { "| target |", "|---|" }
  for _, inst in ipairs(cols) do
    L[1] = L[1] .. " " .. inst.label .. " (" .. inst.lua .. ") |"
    L[2] = L[2] .. "---|"
  end
  for _, t in ipairs(TARGETS) do
    local line = ("| %s %s %s %s |"):format(t.scen, t.what, t.min and "≥" or
      "≤", t.key == "mem" and fmt(t.limit, 0) or fmt(t.limit, 2))
    for _, inst in ipairs(cols) do
      local e = results[t.scen] and results[t.scen][inst.key]
      local v = e and e.sum and e.sum[t.key]
      local cell
      if v then
        local met = t.min and v >= t.limit or not t.min and v <= t.limit
        cell = (t.key == "mem" and fmt(v, 0) or fmt(v, 2)) ..
          (met and " met" or " **missed**")
      elseif e then
        cell = e.status == "skip" and "skipped" or "failed"
      else
        cell = "not run"
      end
      line = line .. " " .. cell .. " |"
    end
    L[#L + 1] = line
  end
  return table.concat(L, "\n")
end

local function machine()
  local cpu = (readfile("/proc/cpuinfo") or "")
    :match("model name%s*:%s*([^\n]+)")
  local cores = firstline(sh("nproc"))
  local kernel = firstline(sh("uname -sr"))
  return ("%s cores, %s, %s"):format(cores, cpu or "unknown CPU", kernel)
end

-- Share of the machine busy over one second while the harness is idle:
-- other work on the machine makes results noisy.
local function background_load()
  local function sample()
    local f = readfile("/proc/stat") or ""
    local total, idle, i = 0, 0, 0
    for n in f:match("^cpu%s+([^\n]+)"):gmatch("%d+") do
      i = i + 1
      total = total + tonumber(n)
      if i == 4 or i == 5 then idle = idle + tonumber(n) end
    end
    return total, idle
  end
  local t0, i0 = sample()
  sleep(1)
  local t1, i1 = sample()
  if t1 == t0 then return nil end
  return 100 * (1 - (i1 - i0) / (t1 - t0))
end

local function versions()
  local list = {}
  for _, p in ipairs({ "lua5.4", "luajit", "lua-socket", "lua-copas",
      "lua-luv", "lua-cqueues" }) do
    list[#list + 1] = p .. " " .. (dpkg_version(p) or "not installed")
  end
  local rev = firstline(sh("git -C " .. quote(ROOT) ..
    " describe --always --dirty 2>/dev/null"))
  list[#list + 1] = "hotline " .. (rev ~= "" and rev or "(no git)")
  return table.concat(list, ", ")
end

-- The chart: server CPU per unit of work and throughput, each ×C, one
-- bar per Lua row, clustered by scenario; and bytes per idle connection.
local function chart(results, insts, svg)
  if not have("gnuplot") then return "gnuplot not installed: no chart" end
  local scen, series = {}, {}
  for _, sc in ipairs(SCENARIOS) do
    if results[sc.id] and not sc.idle then scen[#scen + 1] = sc end
  end
  for _, inst in ipairs(insts) do
    if not inst.row.exe then series[#series + 1] = inst end
  end
  if #scen == 0 or #series == 0 then return "nothing to chart" end
  local dat = { "# scenario then, per series: CPU ×C, throughput ×C" }
  for _, sc in ipairs(scen) do
    local line = { sc.id }
    for _, inst in ipairs(series) do
      local s = results[sc.id][inst.key].sum
      line[#line + 1] = s and s.cpu_x and ("%.4f"):format(s.cpu_x) or "-"
      line[#line + 1] = s and s.rate_x and ("%.4f"):format(s.rate_x) or "-"
    end
    dat[#dat + 1] = table.concat(line, " ")
  end
  local datfile, memfile = OUT .. "/ratios.dat", OUT .. "/idle.dat"
  writefile(datfile, table.concat(dat, "\n") .. "\n")
  local mem = { "idle10k" }
  for _, inst in ipairs(series) do
    local s = results.idle10k and results.idle10k[inst.key].sum
    mem[#mem + 1] = s and s.mem and ("%.0f"):format(s.mem) or "-"
  end
  writefile(memfile, table.concat(mem, " ") .. "\n")
  local panels = table.concat(mem, " "):find("%d") and 3 or 2
  local function plots(file, col, step)
    local p = {}
    for i, inst in ipairs(series) do
      p[#p + 1] = ("%s using %d%s title \"%s\""):format(i == 1 and
        quote(file) or "''", step * i + col, i == 1 and ":xtic(1)" or "",
        inst.label .. " " .. inst.lua)
    end
    return table.concat(p, ", ")
  end
  local gp = table.concat({
    "set terminal svg size 1000," .. panels * 350 .. " dynamic font 'sans,11'",
    "set output " .. quote(svg),
    "set datafile missing '-'",
    "set style data histograms",
    "set style histogram clustered gap 1",
    "set style fill solid 0.85 border -1",
    "set grid ytics",
    "set key outside right top vertical",
    "set yrange [0:*]",
    "set multiplot layout " .. panels .. ",1 title 'hotline bench: Lua servers as multiples"
      .. " of the C epoll server (same run)'",
    "set title 'server CPU per unit of work, ×C (lower is better)'",
    "plot " .. plots(datfile, 0, 2) ..
      ", 1 with lines lw 2 dt 2 lc 'black' title 'C'",
    "set title 'throughput, ×C (higher is better)'",
    "plot " .. plots(datfile, 1, 2) ..
      ", 1 with lines lw 2 dt 2 lc 'black' title 'C'",
    panels < 3 and "" or
      "set title 'idle10k: server bytes per idle connection (target: 1 KiB)'",
    panels < 3 and "" or "plot " .. plots(memfile, 1, 1) ..
      ", 1024 with lines lw 2 dt 2 lc 'red' title '1 KiB'",
    "unset multiplot",
  }, "\n")
  local gpfile = OUT .. "/ratios.gp"
  writefile(gpfile, gp .. "\n")
  local out, ok = sh("gnuplot " .. quote(gpfile) .. " 2>&1")
  if not ok then return "gnuplot failed: " .. firstline(out) end
  return nil
end

local function write_report(opts, results, insts)
  local L = {
    "# hotline benchmark results", "",
    "Generated by `bench/run.lua` (" .. opts.mode .. "); see bench/README.md"
      .. " for what each scenario measures.", "",
    "- date: " .. os.date("!%Y-%m-%d %H:%M UTC"),
    "- machine: " .. machine(),
    ("- background load before the run: %s%% of all CPUs busy%s"):format(
      opts.load and ("%.0f"):format(opts.load) or "?",
      (opts.load or 0) > 10 and " — **the machine was not idle: expect " ..
        "noisy figures and large spreads**" or ""),
    "- pinning: " .. (PIN_SERVER ~= "" and "server on CPU 0, loadgen on CPU 1"
      .. " (taskset)" or "none (taskset missing)"),
    "- versions: " .. versions(),
    ("- runs: median of %d repetition(s) per row, %s s each (idle10k: %d " ..
      "connections held %s s); a fresh server per run, repetitions " ..
      "interleaved across rows"):format(opts.reps, opts.seconds, opts.conns,
      opts.hold),
    "- ×C: the row's median over the C server's median in this same run. "
      .. "Throughput ×C above 1 is faster than C; server CPU ×C above 1 is "
      .. "more CPU per unit of work than C.",
    "- server CPU: time on CPU of every server thread "
      .. "(/proc/PID/task/*/schedstat) over the measured window, divided by "
      .. "the work done in it.",
    "",
  }
  local tt = targets_table(results, insts)
  if tt then
    L[#L + 1] = "## Targets (issue 6)"
    L[#L + 1] = ""
    L[#L + 1] = tt
    L[#L + 1] = ""
  end
  for _, sc in ipairs(SCENARIOS) do
    if results[sc.id] then
      L[#L + 1] = "## " .. sc.title
      L[#L + 1] = ""
      L[#L + 1] = table_for(sc, results[sc.id], insts, opts.reps)
      L[#L + 1] = ""
    end
  end
  local svg = (opts.out:match("^(.*)/[^/]*$") or ".") .. "/ratios.svg"
  local note = chart(results, insts, svg)
  L[#L + 1] = note and ("Chart: " .. note .. ".") or
    "Chart: [ratios.svg](ratios.svg)."
  L[#L + 1] = ""
  -- the profiles of the misses, written by hand (bench/README.md)
  local profile = readfile(BENCH .. "/PROFILE.md")
  if profile then L[#L + 1] = profile end
  writefile(opts.out, table.concat(L, "\n"))
  io.stderr:write("wrote " .. opts.out .. (note and "" or
    " and " .. svg) .. "\n")
end

-------------------------------------------------------------- selftest

-- Each server a second or so: pingpong, bulk and churn, every byte
-- checked. A missing library skips its row; anything else that fails
-- fails the selftest.
local function selftest(insts)
  local passed, failed, skipped = 0, 0, 0
  local checks = {
    "--scenario pingpong100 --conns 20 --seconds 0.3 --warmup 0",
    "--scenario bulk --bytes 16777216 --seconds 1 --warmup 0",
    "--scenario churn --conns 4 --seconds 0.2 --warmup 0",
  }
  for _, inst in ipairs(insts) do
    local status, reason = probe(inst.row, inst.lua_t)
    if status == "fail" and inst.row.hotline and not io.open(ROOT ..
        "/build/" .. inst.lua_t.v .. "/hotline/core.so") then
      status, reason = "skip", "hotline not built for " .. inst.lua_t.bin
    end
    if status == "ok" then
      local pid, port = start_server(inst.row, inst.lua_t)
      if not pid then
        status, reason = "fail", port
      else
        for _, c in ipairs(checks) do
          local r, why = loadgen(c .. " --port " .. port .. " --server-pid "
            .. pid .. " --max-seconds 10", 15)
          if not r then
            status, reason = "fail", c:match("%-%-scenario (%S+)") .. ": " ..
              why
            break
          end
        end
        if status == "ok" and not alive(pid) then
          status, reason = "fail", "server exited"
        end
        stop_server(pid)
      end
    end
    local name = inst.key
    if status == "ok" then
      passed = passed + 1
      print("PASS " .. name)
    elseif status == "skip" then
      skipped = skipped + 1
      print("SKIP " .. name .. " (" .. reason .. ")")
    else
      failed = failed + 1
      print("FAIL " .. name .. " (" .. reason .. ")")
    end
  end
  print(("bench-selftest: %d passed, %d failed, %d skipped"):format(passed,
    failed, skipped))
  return failed == 0
end

------------------------------------------------------------------ main

local function set_of(csv)
  if not csv then return nil end
  local s = {}
  for w in csv:gmatch("[^,]+") do s[w] = true end
  return s
end

local function parse_args(argv)
  local o = { mode = "full", reps = 3, seconds = 5, conns = 10000, hold = 1,
    bulk_bytes = 2 * 1024 ^ 3, out = BENCH .. "/RESULTS.md" }
  local i = 1
  while i <= #argv do
    local a, v = argv[i], argv[i + 1]
    if a == "--quick" then
      o.mode, o.reps, o.seconds, o.hold = "quick", 1, 1, 0.3
      o.bulk_bytes = 1024 ^ 3
    elseif a == "--selftest" then
      o.mode = "selftest"
    elseif a == "--full" then
      o.mode = "full"
    elseif a == "--cleanup" then
      o.mode = "cleanup"
    else
      if v == nil then error("missing value after " .. a, 0) end
      if a == "--reps" then o.reps = assert(tonumber(v), "--reps N")
      elseif a == "--seconds" then o.seconds = assert(tonumber(v))
      elseif a == "--conns" then o.conns = assert(tonumber(v))
      elseif a == "--hold" then o.hold = assert(tonumber(v))
      elseif a == "--scenarios" then o.scenarios = set_of(v)
      elseif a == "--rows" then o.rows = set_of(v)
      elseif a == "--luas" then o.luas = set_of(v)
      elseif a == "--out" then o.out = v
      else error("unknown option " .. a, 0) end
      i = i + 1
    end
    i = i + 1
  end
  o.bulk_bytes = math.floor(o.bulk_bytes)
  return o
end

local function main()
  local opts = parse_args(arg)
  os.execute("mkdir -p " .. quote(OUT))
  stop_leftovers()
  if opts.mode == "cleanup" then return true end
  for _, exe in ipairs({ "loadgen", "c_echo" }) do
    if not io.open(BIN .. "/" .. exe) then
      error(BIN .. "/" .. exe .. " is missing: run make bench-bins", 0)
    end
  end
  local insts = instances(opts)
  if opts.mode == "selftest" then return selftest(insts) end
  local t0 = uptime()
  opts.load = background_load()
  local results = run_matrix(opts, insts)
  add_ratios(results)
  write_report(opts, results, insts)
  io.stderr:write(("done in %.0f s\n"):format(uptime() - t0))
  return true
end

local ok, res = xpcall(main, debug.traceback)
stop_all()
os.remove(PIDFILE)
if not ok then
  io.stderr:write("bench/run.lua: " .. tostring(res) .. "\n")
  os.exit(2)
end
os.exit(res and 0 or 1)
