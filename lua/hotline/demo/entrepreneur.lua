-- hotline.demo.entrepreneur: the caller, the client side of the demo. Run
-- it (hotline-entrepreneur --help), or require it and call main(args)
-- with the words of a command line.
--
-- The entrepreneur picks up a phone (socket), dials the department
-- (connect), asks each question (write) and hears each answer (read),
-- then hangs up (close). The questions come from the command line, from
-- a file, or from stdin (asked for when stdin is a terminal). A department
-- that is closed, busy or cuts the line off ends the program with a plain
-- message on stderr and exit status 1; a usage mistake exits with 2.

local MODNAME = "hotline.demo.entrepreneur"

if ... ~= MODNAME then
  -- Started as a script. From a source checkout, find hotline beside this
  -- file; the paths go last, so LUA_PATH and an installed hotline win.
  local source = debug.getinfo(1, "S").source
  local root = source:match("^@(.-)lua/hotline/demo/[%w_]+%.lua$")
  if root then
    local v = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
    package.path = package.path .. ";" .. root .. "lua/?.lua;" .. root .. "lua/?/init.lua"
    package.cpath = package.cpath .. ";" .. root .. "build/" .. v .. "/?.so"
  end
end

local hotline = require "hotline"
local cli = require "hotline.demo.cli"
local narrator = require "hotline.demo.narrator"

local format, visible, failed = string.format, narrator.visible, narrator.failed

local entrepreneur = {}

entrepreneur.USAGE = [[
usage: hotline-entrepreneur --port PORT [options] [QUESTION...]

An entrepreneur calls a government department's hotline (a TCP client),
asks questions, prints the answers and hangs up, narrating every step and
the socket call behind it.

The questions are the QUESTION words (one question each; quote them), or
the lines of --file, or else the lines of stdin (with a prompt when stdin
is a terminal; an empty line or Ctrl-D hangs up).

options:
  --host HOST         the department's address (127.0.0.1)
  --port PORT         the department number (required)
  --name NAME         who calls, in the narration (entrepreneur)
  --file FILE         read the questions from FILE, one a line ("-": stdin)
  --timeout SECONDS   how long to wait for the department to pick up or
                      to answer (5)
  --tls               ask for an encrypted line (TLS), checking the
                      department's certificate against --cafile FILE (or
                      the system's trust store)
  --cafile FILE       the certificate to trust (the department prints it)
  --quiet             no narration: print only the answers
  --trace             also print hotline's raw call trace on stderr
  --color, --no-color colour the narration, or not (default: if a terminal)
  --help              this text

Exit status: 0 when the call went through, 1 when the department could
not be reached or cut the call off, 2 for a usage mistake.
]]

local OPTIONS = {
  host = "string", port = "port", name = "string", file = "string",
  timeout = "seconds", quiet = "flag", trace = "flag", color = "flag",
  ["no-color"] = "flag", help = "flag", tls = "flag", cafile = "string",
}

-- What a failed call means, in words, by error code (or message).
local TROUBLE = {
  ECONNREFUSED = "nobody answers: the department is closed (connection refused)",
  ETIMEDOUT = "no answer in time: the line is busy or the department is away",
  timeout = "no answer in time: the line is busy or the department is away",
  ECONNRESET = "the line went dead: the department cut the call off (connection reset)",
  EPIPE = "the line went dead: the department had hung up (broken pipe)",
  closed = "the department hung up",
  EHOSTUNREACH = "there is no line to that address (host unreachable)",
  ENETUNREACH = "there is no line to that address (network unreachable)",
}

local function trouble(err, code)
  local words = TROUBLE[code] or TROUBLE[err]
  if not words and type(code) == "string" and code:find("^EAI_") then
    words = "there is no such address in the directory (" .. err .. ")"
  end
  if not words and code == "ETLS" then words = "the line cannot be encrypted (" .. err .. ")" end
  return words or err
end

-- -> an iterator over the questions: the words of the command line, or
-- the lines of --file or stdin, blank lines and # comments skipped.
local function questions_of(opts, words)
  if words[1] then
    local i = 0
    return function() i = i + 1; return words[i] end
  end
  local file = io.stdin
  if opts.file and opts.file ~= "-" then
    local f, err = io.open(opts.file)
    if not f then return nil, err end
    file = f
  end
  local prompt = file == io.stdin and narrator.isatty(0)
  return function()
    while true do
      if prompt then
        io.stdout:write("question (empty line to hang up)> ")
        io.stdout:flush()
      end
      local line = file:read("*l")
      if line == nil or (prompt and line:find("^%s*$")) then
        if file ~= io.stdin then file:close() end
        return nil
      end
      line = line:gsub("\r$", "")
      if not line:find("^%s*$") and not line:find("^%s*#") then return line end
    end
  end
end

-- A call in progress: its socket, descriptor and narrator.
local Call = {}
Call.__index = Call

-- Fails the call: the narration, and a plain message on stderr.
function Call:fail(words, call)
  self.tell:say(self.role, words, call, true)
  io.stderr:write("hotline-entrepreneur: ", self.role, ": ", words, "\n")
  if hotline.type(self.sock) == "socket" then self.sock:close() end
  return 1
end

-- Hears the department's next line. -> line | nil, exit status
function Call:hear()
  local line, err, code = self.sock:read("L")
  if line and line:sub(-1) ~= "\n" then line, err, code = nil, "closed", nil end
  if not line then
    return nil, self:fail(trouble(err, code), failed(format("read(fd %d)", self.fd), err, code))
  end
  self.heard = #line
  return (line:gsub("\r?\n$", ""))
end

-- The call behind the last line heard.
function Call:heard_call()
  return format("read(fd %d) = %d bytes", self.fd, self.heard)
end

-- Says line; told before it is written, so that the narration keeps the
-- order of events (the department may hear it and tell first).
function Call:speak(line, words)
  self.tell:say(self.role, words, format("write(fd %d, %d bytes)", self.fd, #line + 1))
  local ok, err, code = self.sock:write(line, "\n")
  if not ok then
    return nil, self:fail(trouble(err, code), failed(format("write(fd %d)", self.fd), err, code))
  end
  return true
end

-- Picks up a phone and dials. -> a call | nil, exit status
local function dial(opts, tell, role)
  local host, port = opts.host, opts.port
  local family = host:find(":", 1, true) and "inet6" or "inet"
  local sock, err, code = hotline.socket(family, "stream")
  if not sock then
    io.stderr:write("hotline-entrepreneur: no telephone: ", err, " (", tostring(code), ")\n")
    return nil, 1
  end
  local call = setmetatable({ sock = sock, fd = sock:fileno(), tell = tell, role = role }, Call)
  tell:say(role, "picks up a phone", format("socket(%s, stream) = fd %d", family, call.fd))
  sock:settimeout(opts.timeout)
  local dialed = format("connect(fd %d, %s:%d)", call.fd, host, port)
  tell:say(role, format("dials %s, department number %d", host, port), dialed)
  local ok
  ok, err, code = sock:connect(host, port)
  if not ok then
    return nil, call:fail(format("cannot get through to %s, department %d: %s", host, port,
      trouble(err, code)), failed(dialed, err, code))
  end
  if opts.tls then
    local step = format("starttls(fd %d, %s)", call.fd, opts.cafile or "system trust store")
    tell:say(role, "asks for an encrypted line and checks the department's certificate", step)
    ok, err, code = sock:starttls({ cafile = opts.cafile })
    if not ok then
      return nil, call:fail(format("no encrypted line to %s, department %d: %s", host, port,
        trouble(err, code)), failed(step, err, code))
    end
    local info = sock:tlsinfo()
    tell:say(role, format("agrees on keys: the line is encrypted (%s, %s), the department is"
      .. " who it says (%s)", info.version, info.cipher, info.peer and info.peer.subject or "?"),
      format("handshake(fd %d) = done", call.fd))
  end
  return call
end

-- main(args): args are the words of a command line. -> exit status
function entrepreneur.main(args)
  local opts, words = cli.parse(args or {}, OPTIONS)
  if opts and not opts.help and not opts.port then opts, words = nil, "--port is required" end
  if not opts then
    io.stderr:write("hotline-entrepreneur: ", words,
      "\n(hotline-entrepreneur --help tells more)\n")
    return 2
  end
  if opts.help then
    io.stdout:write(entrepreneur.USAGE)
    return 0
  end
  opts.host, opts.timeout = opts.host or "127.0.0.1", opts.timeout or 5
  local next_question, err = questions_of(opts, words)
  if not next_question then
    io.stderr:write("hotline-entrepreneur: ", err, "\n")
    return 2
  end
  io.stdout:setvbuf("line")
  local role = opts.name or "entrepreneur"
  local tell = narrator.new{ quiet = opts.quiet,
    color = narrator.use_color(cli.color_choice(opts)) }
  local was_tracing = hotline.trace()
  if opts.trace then hotline.trace(true) end
  local status = entrepreneur.call(opts, tell, role, next_question)
  hotline.trace(was_tracing)
  return status
end

-- The whole call. -> exit status
function entrepreneur.call(opts, tell, role, next_question)
  local call, status = dial(opts, tell, role)
  if not call then return status end
  local line
  line, status = call:hear()
  if not line then return status end
  local _, my_line = call.sock:getsockname()
  tell:say(role, format("is through on line %s: %s", tostring(my_line), visible(line, 24)),
    call:heard_call())
  local asked = 0
  for question in next_question do
    asked = asked + 1
    if not call:speak("ASK " .. question, "asks: " .. visible(question, 200)) then return 1 end
    line, status = call:hear()
    if not line then return status end
    local kind, text = line:match("^(%u*)%s?(.*)$")
    if kind == "ANSWER" then
      tell:say(role, "hears the answer: " .. text, call:heard_call())
      if tell.quiet then io.stdout:write(text, "\n") end
    else
      tell:say(role, "is told: " .. visible(line), call:heard_call(), true)
      if tell.quiet then
        io.stderr:write("hotline-entrepreneur: the department says: ", visible(line), "\n")
      end
    end
  end
  if not call:speak("BYE", format("has what is needed (%d answer%s), says goodbye",
      asked, asked == 1 and "" or "s")) then
    return 1
  end
  line, status = call:hear()
  if not line then return status end
  tell:say(role, "hears goodbye: " .. visible(line, 37), call:heard_call())
  tell:say(role, "hangs up", format("close(fd %d)", call.fd))
  call.sock:close()
  return 0
end

if ... ~= MODNAME then
  -- The standalone interpreter turns Ctrl-C into an error, "interrupted!":
  -- a person hanging up, not a bug, so it gets a line and not a traceback.
  local ok, status = pcall(entrepreneur.main, { ... })
  if not ok and tostring(status):find("interrupted!$") then
    io.stderr:write("\nhotline-entrepreneur: interrupted: hung up\n")
    os.exit(130)
  elseif not ok then
    error(status, 0)
  end
  os.exit(status)
end

return entrepreneur
