-- hotline.demo.government: the department and its hotline, the server side
-- of the demo. Run it (hotline-government --help), or require it and call
-- main(args) with the words of a command line.
--
-- The department applies for a telephone (socket), registers its address
-- and department number with the exchange (bind) and opens the hotline
-- (listen). Each call is answered (accept) by a clerk in a task of its
-- own (hotline.serve), so the hotline keeps ringing for others while
-- clerks talk. At the end of office hours (--hours, --calls, SIGINT or
-- SIGTERM) the department closes the hotline (close) and the calls in
-- progress are finished; a second signal hangs up on everyone.
--
-- The line protocol, one line each way, usable by hand with nc:
--   department: HELLO <greeting>           when it picks up
--   caller: ASK <question>    department: ANSWER <text>
--   caller: BYE               department: BYE <farewell>, then hangs up
--   anything else, or a line over 1024 bytes: ERROR <reason>; after a
--   line too long, too many errors or a long silence it also hangs up.

local MODNAME = "hotline.demo.government"

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

local government = {}

government.MAXLINE = 1024      -- the longest line a clerk listens to
government.MAX_ERRORS = 5      -- malformed lines before a clerk hangs up
government.LINGER = 1          -- seconds a clerk waits for the caller to hang up

government.USAGE = [[
usage: hotline-government [options]

A government department opens a telephone hotline (a TCP server) and
answers questions about its services, one clerk (task) per call, narrating
every step and the socket call behind it.

options:
  --name NAME         the department's name (Department of Small Business)
  --host HOST         the address to register (127.0.0.1)
  --port PORT         the department number; 0 takes a free one (0)
  --hours SECONDS     close the hotline after this many seconds
  --calls N           close the hotline after taking N calls
  --think SECONDS     how long a clerk takes to look an answer up (0)
  --patience SECONDS  how long a clerk waits for a silent caller (120)
  --tls               an encrypted line: TLS with --cert and --key (without
                      them, a throwaway self-signed certificate, whose file
                      callers pass to hotline-entrepreneur --tls --cafile)
  --cert FILE, --key FILE  the department's certificate and key (PEM)
  --quiet             no narration: print only the line saying where it listens
  --trace             also print hotline's raw call trace on stderr
  --color, --no-color colour the narration, or not (default: if a terminal)
  --help              this text

It prints "listening on HOST port PORT" once callers can dial. Ctrl-C or
SIGTERM closes the hotline and lets the calls in progress finish; a second
one hangs up on everyone. Call it with hotline-entrepreneur, or with
nc HOST PORT and type: ASK how do I register a company?
]]

local OPTIONS = {
  name = "string", host = "string", port = "port", hours = "seconds",
  calls = "count", think = "seconds", patience = "seconds", quiet = "flag",
  trace = "flag", color = "flag", ["no-color"] = "flag", help = "flag",
  tls = "flag", cert = "string", key = "string",
}

-- What the department knows: the first entry with a keyword in the
-- question answers it.
government.SERVICES = {
  { keys = { "tax", "taxes", "vat" },
    answer = "Register for taxes within a month of starting; you declare"
      .. " every quarter, and the first year's advance is waived." },
  { keys = { "register", "registration", "found", "start", "company" },
    answer = "Fill in form B-1 online or at any office, with your ID and the company's"
      .. " name and address; registration takes three working days." },
  { keys = { "permit", "permits", "licence", "license" },
    answer = "Trade permits are issued by your town hall; most shops need none,"
      .. " food and transport businesses do. Ask about it before you sign a lease." },
  { keys = { "grant", "grants", "subsidy", "funding", "loan" },
    answer = "Start-up grants cover up to half of your first equipment; apply"
      .. " with a business plan before you buy anything." },
  { keys = { "hire", "hiring", "employee", "employees", "staff" },
    answer = "Before your first employee starts, register as an employer and"
      .. " take out accident insurance; contracts must be in writing." },
  { keys = { "hours", "open", "opening" },
    answer = "The hotline is open on working days from nine to five." },
}

local TOPICS = "registering a company, permits, taxes, grants, hiring, office hours"

-- -> the department's answer to question (a string)
function government.answer(question)
  local q = question:lower()
  for _, service in ipairs(government.SERVICES) do
    for _, key in ipairs(service.keys) do
      if q:find("%f[%w]" .. key .. "%f[%W]") then return service.answer end
    end
  end
  return "Sorry, there is no answer on file for that. You can ask about " .. TOPICS .. "."
end

-- The clerk's reply to a line the caller said (without its line end).
-- -> the reply, and whether the call goes on (false after BYE)
function government.reply(office, line)
  if (line:gsub("\t", " ")):find("%c") then   -- a tab is fine, other controls are not
    return "ERROR unreadable line: it has control characters", true
  end
  local verb, rest = line:match("^%s*(%S*)%s*(.-)%s*$")
  verb = verb:upper()
  if verb == "ASK" and rest ~= "" then
    return "ANSWER " .. government.answer(rest), true
  elseif verb == "ASK" then
    return "ERROR ASK needs a question, as in: ASK how do I register a company?", true
  elseif verb == "BYE" then
    return "BYE Thank you for calling the " .. office.name .. ". Goodbye.", false
  elseif verb == "" then
    return "ERROR empty line: send ASK <question>, or BYE to hang up", true
  end
  return format("ERROR unknown request '%s': send ASK <question>, or BYE to hang up",
    visible(verb, 20)), true
end

local function plural(n, word)
  return n .. " " .. word .. (n == 1 and "" or "s")
end

-- The clerk says line on the call; false when the line is dead. Told
-- before it is written, so that the narration keeps the order of events
-- (the caller may read it and tell before this process gets to it).
local function say_line(call, line, words, trouble)
  call.tell:say(call.role, words, format("write(fd %d, %d bytes)", call.fd, #line + 1), trouble)
  local ok, err, code = call.client:write(line, "\n")
  if ok then return true end
  call.tell:say(call.role, "cannot be heard: the line went dead (" .. err .. ")",
    failed(format("write(fd %d)", call.fd), err, code), true)
  return false
end

-- The clerk hangs up first: it says it is done (shutdown) and waits a
-- little for the caller to put the phone down too, so that what it said
-- is not cut off by a reset (closing with unread input sends one).
local function hang_up(call)
  local client, tell, role = call.client, call.tell, call.role
  tell:say(role, "is done talking, waits for the caller to hang up",
    format("shutdown(fd %d, write)", call.fd))
  client:shutdown("write")
  -- LINGER seconds and 64 KiB at most: a caller cannot keep it for ever
  local give_up, heard = hotline.monotime() + government.LINGER, 0
  while heard < 65536 do
    local left = give_up - hotline.monotime()
    if left <= 0 then break end
    client:settimeout(left)
    local data, err, code = client:recv(4096)
    if not data then
      local result = failed(format("recv(fd %d)", call.fd), err, code)
      if err == "closed" then
        tell:say(role, "hears the caller hang up", result)
      else
        tell:say(role, "the caller stays on the line: hangs up anyway", result)
      end
      return
    end
    heard = heard + #data
  end
  tell:say(role, "the caller keeps talking: hangs up anyway")
end

-- A failed read: what it means for the call, which ends.
local function read_failed(call, err, code)
  local tell, role = call.tell, call.role
  local result = failed(format("read(fd %d)", call.fd), err, code)
  if err == "closed" then
    tell:say(role, "hears the caller hang up", result)
  elseif code == "EMSGSIZE" then
    tell:say(role, format("hears more than %d bytes without a line end", government.MAXLINE),
      result, true)
    if say_line(call, format("ERROR line too long: at most %d bytes, please", government.MAXLINE),
        "objects: the line is too long; it hangs up", true) then
      hang_up(call)
    end
  elseif err == "timeout" then
    tell:say(role, format("hears nothing for %g seconds", call.office.patience), result, true)
    if say_line(call, "ERROR nothing said for a long time: hanging up",
        "says it hangs up", true) then
      hang_up(call)
    end
  else
    tell:say(role, "the line went dead: " .. err, result, true)
  end
end

-- The conversation on one call, until either side hangs up.
local function converse(call)
  local office, client, tell, role = call.office, call.client, call.tell, call.role
  client:setoption("maxline", government.MAXLINE)
  client:settimeout(office.patience)
  local greeting = format("HELLO %s, department number %d."
    .. " Send ASK <question>, or BYE to hang up.", office.name, office.port)
  if not say_line(call, greeting, "picks up and greets the caller") then return end
  local errors = 0
  while true do
    local line, err, code = client:read("L")
    if not line then return read_failed(call, err, code) end
    if line:sub(-1) ~= "\n" then
      tell:say(role, "hears the caller hang up in the middle of a sentence: "
        .. visible(line, 40), format("read(fd %d) = %d bytes, end", call.fd, #line), true)
      return
    end
    local said = line:gsub("\r?\n$", "")
    tell:say(role, "hears: " .. visible(said, 45), format("read(fd %d) = %d bytes", call.fd, #line))
    local reply, go_on = government.reply(office, said)
    local kind = reply:match("^%u+")
    if kind == "ERROR" then errors = errors + 1 end
    if kind == "ANSWER" and office.think > 0 then
      tell:say(role, "looks the answer up; other calls go on meanwhile")
      hotline.sleep(office.think)
    end
    local words = kind == "ANSWER" and "answers: " .. visible(reply:sub(8), 43)
      or kind == "BYE" and "says goodbye"
      or "objects: " .. visible(reply:sub(7), 43)
    if not say_line(call, reply, words, kind == "ERROR") then return end
    if errors >= government.MAX_ERRORS then
      if say_line(call, "ERROR too many mistakes: please call again",
          "gives up on this caller", true) then
        hang_up(call)
      end
      return
    end
    if not go_on then return hang_up(call) end
  end
end

-- Closing time: no new calls; calls in progress go on to their end.
local function close_office(office, why)
  if not office.open then return end
  office.open = false
  if office.closing_timer then office.closing_timer:cancel() end
  office.tell:say("department", why .. ": the department closes the hotline",
    format("close(fd %d)", office.fd))
  office.server:close()     -- stops accepting; calls in progress go on
  if office.active > 0 then
    office.tell:say("department", "the " .. plural(office.active, "call")
      .. " in progress will be finished")
  end
end

-- With --tls the first step of every call: the clerk and the caller agree
-- on keys (the handshake) before a word is said. -> whether it worked
local function encrypt(call)
  local client, tell = call.client, call.tell
  client:settimeout(call.office.patience)
  local ok, err, code = client:starttls(call.office.tls)
  if not ok then
    tell:say(call.role, "cannot set up an encrypted line with the caller: " .. err
      .. "; hangs up", failed(format("starttls(fd %d)", call.fd), err, code), true)
    return false
  end
  local info = client:tlsinfo()
  tell:say(call.role, format("agrees on keys with the caller: from here the line is encrypted"
    .. " (%s, %s)", info.version, info.cipher), format("starttls(fd %d): handshake", call.fd))
  return true
end

-- The clerk: hotline.serve runs this in a task of its own for every call
-- it accepts, while it keeps accepting others; serve closes the client
-- when the clerk returns. No pcall around converse: Lua 5.1 cannot yield
-- across one. A failure would be a bug, which serve reports with a
-- traceback before it goes on.
local function clerk(office, client)
  office.calls, office.active = office.calls + 1, office.active + 1
  local n, tell = office.calls, office.tell
  local call = { office = office, client = client, number = n, fd = client:fileno(),
    role = "clerk #" .. n, tell = tell }
  office.lines[n] = client
  local host, port = client:getpeername()
  tell:say("department", format("answers a call from %s:%s; clerk #%d takes it (%s now,"
    .. " and the hotline keeps ringing)", tostring(host or "?"), tostring(port or "?"), n,
    plural(office.active, "call")), format("accept(fd %d) = fd %d", office.fd, call.fd))
  if office.max_calls and n >= office.max_calls then
    close_office(office, format("that was call %d of %d today", n, office.max_calls))
  end
  if not office.tls or encrypt(call) then converse(call) end
  office.lines[n] = nil
  office.active = office.active - 1
  tell:say(call.role, format("puts the phone down (%s still in progress)",
    plural(office.active, "call")), format("close(fd %d)", call.fd))
end

-- Signals: the first closes the office, the next hang up on everyone.
-- Hanging up is a shutdown: the clerk's read sees the end of the call and
-- its write a dead line, and the clerk closes the socket as usual.
local function on_signal(office, name)
  if office.open then
    return close_office(office, "SIG" .. name .. ", closing time")
  end
  office.tell:say("department", "SIG" .. name .. " again: it hangs up on every caller")
  for n, client in pairs(office.lines) do
    client:shutdown("both")
    office.tell:say("department", "hangs up on clerk #" .. n .. "'s caller",
      format("shutdown(fd %d, both)", client:fileno()))
  end
end

-- The department's telephone, step by step. -> true | nil, message
local function open_office(office)
  local tell, host = office.tell, office.host
  local family = host:find(":", 1, true) and "inet6" or "inet"
  local s, err, code = hotline.socket(family, "stream")
  if not s then return nil, "no telephone: " .. err .. " (" .. tostring(code) .. ")" end
  office.listener, office.fd = s, s:fileno()
  tell:say("department", "the department applies for a telephone",
    format("socket(%s, stream) = fd %d", family, office.fd))
  local ok
  ok, err, code = s:setoption("reuseaddr", true)
  if ok then
    tell:say("department", "asks to keep its number free to reuse at once",
      format("setoption(fd %d, reuseaddr)", office.fd))
    ok, err, code = s:bind(host, office.port)
  end
  if not ok then
    s:close()
    return nil, format("cannot register %s port %d: %s (%s)", host, office.port, err,
      tostring(code))
  end
  local bound_host, port = s:getsockname()
  tell:say("department", format("registers its address %s and department number %d with the"
    .. " exchange: the contract is in force", bound_host, port),
    format("bind(fd %d, %s:%d)", office.fd, host, office.port))
  office.port = port
  ok, err, code = s:listen()
  if not ok then
    s:close()
    return nil, format("cannot listen: %s (%s)", err, tostring(code))
  end
  local where = format("listening on %s port %d", bound_host, port)
  if office.tell.quiet then
    io.stdout:write(where, "\n")
    io.stdout:flush()
  end
  local closes = {}
  if office.hours then closes[#closes + 1] = format("after %g seconds", office.hours) end
  if office.max_calls then closes[#closes + 1] = "after " .. plural(office.max_calls, "call") end
  closes[#closes + 1] = "on Ctrl-C"
  -- one line for where it listens, however long: scripts look for it
  tell:say("department", { "opens the hotline: " .. where }, format("listen(fd %d)", office.fd))
  if office.tls then
    tell:say("department", "its line is encrypted (TLS): callers check its certificate "
      .. office.cert)
  end
  tell:say("department", "it waits for callers, and closes " .. table.concat(closes, " or "))
  return true
end

-- --tls: the department's identity, read once for every call. Without
-- --cert/--key, a self-signed certificate made now with openssl, valid a
-- day, for localhost and 127.0.0.1. -> true | nil, message
local function open_tls(office, opts)
  local cert, key = opts.cert, opts.key
  if not cert then
    local dir = os.tmpname()
    os.remove(dir)
    cert, key = dir .. "/department.pem", dir .. "/department.key"
    local made = os.execute("mkdir -m 700 " .. dir .. " && openssl req -x509 -newkey ec"
      .. " -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
      .. " -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 -keyout " .. key
      .. " -out " .. cert .. " >/dev/null 2>&1")
    if made ~= true and made ~= 0 then return nil, "cannot make a certificate (openssl)" end
  end
  local ctx, err, code = hotline.tls.context { cert = cert, key = key or cert, server = true }
  if not ctx then return nil, format("--tls: %s (%s)", err, tostring(code)) end
  office.tls, office.cert = ctx, cert
  return true
end

-- main(args): args are the words of a command line. -> exit status
function government.main(args)
  local opts, words = cli.parse(args or {}, OPTIONS)
  if opts and words[1] then opts, words = nil, "unexpected argument '" .. words[1] .. "'" end
  if not opts then
    io.stderr:write("hotline-government: ", words, "\n(hotline-government --help tells more)\n")
    return 2
  end
  if opts.help then
    io.stdout:write(government.USAGE)
    return 0
  end
  io.stdout:setvbuf("line")
  local office = {
    name = opts.name or "Department of Small Business",
    host = opts.host or "127.0.0.1", port = opts.port or 0,
    hours = opts.hours, max_calls = opts.calls,
    think = opts.think or 0, patience = opts.patience or 120,
    open = true, calls = 0, active = 0, lines = {},
    tell = narrator.new{ quiet = opts.quiet, color = narrator.use_color(cli.color_choice(opts)) },
  }
  local was_tracing = hotline.trace()
  if opts.trace then hotline.trace(true) end
  local ok, err = true, nil
  if opts.tls or opts.cert then ok, err = open_tls(office, opts) end
  if ok then ok, err = open_office(office) end
  if not ok then
    hotline.trace(was_tracing)
    io.stderr:write("hotline-government: ", err, "\n")
    return 1
  end
  local function handler(name) on_signal(office, name) end
  hotline.onsignal("INT", handler)
  hotline.onsignal("TERM", handler)
  office.server = assert(hotline.serve { socket = office.listener,
    handler = function(client) return clerk(office, client) end })
  if office.hours then
    office.closing_timer = hotline.timer(office.hours, function()
      close_office(office, format("office hours are over (%g seconds)", office.hours))
    end)
  end
  ok, err = hotline.run()
  hotline.onsignal("INT", nil)
  hotline.onsignal("TERM", nil)
  hotline.trace(was_tracing)
  if not ok then
    io.stderr:write("hotline-government: ", tostring(err), "\n")
    return 1
  end
  office.tell:say("department", format("the office is closed; %s taken today",
    plural(office.calls, "call")))
  return 0
end

if ... ~= MODNAME then
  os.exit(government.main({ ... }))
end

return government
