-- hotline.demo.run: what `make demo` runs, from the top of the checkout.
--
-- Starts the department (government.lua) on a free port, waits for the
-- line saying where it listens, lets three entrepreneurs (entrepreneur.lua)
-- call at the same time, and shows what all four processes narrate as it
-- happens. The department closes after its third call, once the calls in
-- progress are finished.
--
-- All four write their narration into one FIFO that this script reads: a
-- blocking read wakes at each line (no polling, no fixed sleeps), lines
-- arrive whole and in the order they happened, and the end of the FIFO
-- (every writer gone) is the end of the demo. Every process started is
-- stopped by its PID when the demo ends, however it ends.

local version = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
local build = os.getenv("HOTLINE_BUILD") or "build/" .. version
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

local core = require "hotline.core"
local narrator = require "hotline.demo.narrator"

local format = string.format

local CALLERS = {
  { "How do I register a company?", "Do I need a permit to open a bakery?" },
  { "When do I pay taxes?", "Is there a grant for new equipment?" },
  { "What must I do before hiring staff?", "When is the hotline open?" },
}
local THINK = 0.3    -- seconds a clerk takes per answer: calls overlap visibly
local HOURS = 20     -- the department closes by itself after this, whatever happens

-- The interpreter running this script, to run the others with.
local function interpreter()
  local i = -1
  while arg and arg[i - 1] do i = i - 1 end
  return arg and arg[i] or "lua"
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function shell_words(list)
  local out = {}
  for i, w in ipairs(list) do out[i] = shell_quote(w) end
  return table.concat(out, " ")
end

-- Whether a shell command succeeds (5.1 and LuaJIT answer a number).
local function succeeds(command)
  local status = os.execute(command)
  return status == true or status == 0
end

-- Whether process pid still runs (kill -0 asks without signalling).
local function alive(pid)
  return succeeds("kill -0 " .. pid .. " 2>/dev/null")
end

-- Stops pid if it still runs: SIGTERM, then SIGKILL after 2 seconds.
local function stop(pid)
  if not alive(pid) then return end
  core.kill(pid, "TERM")
  local deadline = core.monotime() + 2
  while alive(pid) and core.monotime() < deadline do core.sleep(0.05) end
  if alive(pid) then core.kill(pid, "KILL") end
end

local demo = { pids = {} }

-- Starts a Lua script of the demo in the background, its stdout into the
-- FIFO; -> its PID.
function demo.start(script, args)
  local command = format("LUA_PATH=%s LUA_CPATH=%s %s %s %s </dev/null >%s & echo $!",
    shell_quote("lua/?.lua;lua/?/init.lua;;"), shell_quote(build .. "/?.so;;"),
    shell_quote(demo.lua), shell_quote(script), shell_words(args), shell_quote(demo.fifo))
  local p = assert(io.popen(command))
  local pid = tonumber(p:read("*l"))
  p:close()
  assert(pid, "could not start " .. script)
  demo.pids[#demo.pids + 1] = pid
  return pid
end

-- The demo itself. -> true | nil, what went wrong
function demo.run()
  local color = narrator.use_color("auto")
  local color_flag = color and "--color" or "--no-color"
  demo.lua = interpreter()
  demo.fifo = os.tmpname()
  os.remove(demo.fifo)
  if not succeeds("mkfifo -m 600 " .. shell_quote(demo.fifo)) then
    demo.fifo = nil
    return nil, "mkfifo failed"
  end

  io.stdout:write([[
The government hotline, acted out with BSD sockets.
A department (a TCP server) opens a telephone hotline; three entrepreneurs
(three client processes) call it at the same time. Each line shows who acts,
the socket call behind the step, and what happens, in plain words.

]])
  io.stdout:flush()
  demo.start("lua/hotline/demo/government.lua", { "--port", "0", "--calls", #CALLERS,
    "--hours", HOURS, "--think", THINK, "--patience", 10, color_flag })
  local fifo = assert(io.open(demo.fifo, "r"))  -- waits for the department to open it

  local port, busiest, hung_up, closed = nil, 0, 0, false
  for line in fifo:lines() do
    io.stdout:write(line, "\n")
    io.stdout:flush()
    local plain = line:gsub("\27%[[%d;]*m", "")
    if not port then
      port = plain:match("listening on %S+ port (%d+)")
      if port then
        for i, questions in ipairs(CALLERS) do
          local args = { "--port", port, "--name", "entrepreneur #" .. i, color_flag }
          for _, q in ipairs(questions) do args[#args + 1] = q end
          demo.start("lua/hotline/demo/entrepreneur.lua", args)
        end
      end
    end
    local now = tonumber(plain:match("%((%d+) calls? now"))
    if now and now > busiest then busiest = now end
    if plain:find("^%[entrepreneur #%d+%].*hangs up$") then hung_up = hung_up + 1 end
    if plain:find("the office is closed") then closed = true end
  end
  fifo:close()

  io.stdout:write("\n")
  if not port then return nil, "the department did not open its hotline" end
  if hung_up < #CALLERS or not closed then
    return nil, format("%d of %d entrepreneurs finished their call%s", hung_up, #CALLERS,
      closed and "" or ", and the department did not close properly")
  end
  io.stdout:write(format([[
What happened: the department held %d calls at once, each answered by a clerk
of its own (a task), while its hotline kept listening for more callers.

Try it by hand, in two terminals:
  %s lua/hotline/demo/government.lua
  %s lua/hotline/demo/entrepreneur.lua --port PORT "How do I register a company?"
or call the department yourself: nc 127.0.0.1 PORT, then type ASK how do I hire staff?
]], busiest, demo.lua, demo.lua))
  return true
end

-- Stops what is left and removes the FIFO, whatever happened.
function demo.cleanup()
  for _, pid in ipairs(demo.pids) do stop(pid) end
  if demo.fifo then os.remove(demo.fifo) end
end

-- Ctrl-C reaches the whole process group: the department closes and lets
-- its calls finish, and this script keeps reading until everyone is done.
core.sigcatch("INT", true)
local ok, done, err = xpcall(demo.run, debug.traceback)
demo.cleanup()
if #core.sigtake() > 0 then
  io.stderr:write("make demo: interrupted; every process it started has stopped\n")
  os.exit(130)
elseif not ok then
  io.stderr:write("make demo: ", tostring(done), "\n")
  os.exit(1)
elseif not done then
  io.stderr:write("make demo: ", err, "\n")
  os.exit(1)
end
os.exit(0)
