-- The government-hotline demo: the real scripts, run as processes. The
-- department is started in the background and its port read back from
-- what it prints; callers are the entrepreneur script or, to play a
-- person typing into nc, hotline sockets of this process.
local hotline = require "hotline"
local core = require "hotline.core"
local helpers = require "spec.helpers"

local GOVERNMENT = "lua/hotline/demo/government.lua"
local ENTREPRENEUR = "lua/hotline/demo/entrepreneur.lua"
local TIMEOUT = helpers.TIMEOUT

local started, temps = {}, {}

local function tmpname()
  local name = os.tmpname()
  temps[#temps + 1] = name
  return name
end

-- Starts a department; -> { pid, port, out, err } once it listens.
local function department(args)
  local d = { out = tmpname(), err = tmpname() }
  d.pid = helpers.start(helpers.lua .. " " .. GOVERNMENT .. " " .. (args or ""),
    { stdout = d.out, stderr = d.err })
  started[#started + 1] = d.pid
  d.port = helpers.eventually(function()
    return tonumber((helpers.slurp(d.out) or ""):match("listening on 127%.0%.0%.1 port (%d+)"))
  end)
  assert(d.port, "the department did not say where it listens: "
    .. (helpers.slurp(d.out) or "") .. (helpers.slurp(d.err) or ""))
  return d
end

-- Narration with each step on one line: the words a narrator wraps go
-- on in lines that start with spaces.
local function unwrap(text)
  return (text:gsub("\n +", " "))
end

-- What the department has narrated so far, a step a line.
local function narration(d)
  return unwrap(helpers.slurp(d.out) or "")
end

-- Waits until the department has told text (a plain string).
local function told(d, text)
  return helpers.eventually(function()
    return narration(d):find(text, 1, true) ~= nil
  end)
end

local function ended(d)
  return helpers.eventually(function() return not helpers.alive(d.pid) end)
end

-- A caller typing by hand, as with nc: connects, hears the greeting.
local function dial(port)
  local s = assert(hotline.connect("127.0.0.1", port))
  s:settimeout(TIMEOUT)
  assert.matches("^HELLO Department of Small Business, department number " .. port,
    assert(s:read()))
  return s
end

local function say(s, line)
  assert(s:write(line, "\n"))
  return s:read()
end

local function entrepreneur(port, args, input)
  return helpers.run_lua(ENTREPRENEUR, "--port " .. port .. " " .. (args or ""), input)
end

-- A port nobody listens on (closed at once; nothing else here binds).
local function dead_port()
  local s = assert(hotline.socket("inet"))
  assert(s:bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

after_each(function()
  for _, pid in ipairs(started) do helpers.stop(pid) end
  for _, name in ipairs(temps) do os.remove(name) end
  started, temps = {}, {}
end)

describe("the demo as modules", function()
  it("returns tables with main, and runs nothing when required", function()
    local government = require "hotline.demo.government"
    local entrepreneur_module = require "hotline.demo.entrepreneur"
    assert.equal("function", type(government.main))
    assert.equal("function", type(entrepreneur_module.main))
  end)

  it("looks answers up by keyword, with a polite default", function()
    local government = require "hotline.demo.government"
    assert.matches("form B%-1", government.answer("How do I REGISTER a company?"))
    assert.matches("town hall", government.answer("do I need a permit"))
    assert.matches("no answer on file", government.answer("what is the meaning of life"))
    local office = { name = "Office" }
    assert.matches("^ANSWER ", (government.reply(office, "ask about taxes")))
    assert.matches("^ERROR ASK needs", (government.reply(office, "ASK   ")))
    assert.matches("^ERROR unknown request 'HELLO'", (government.reply(office, "HELLO there")))
    assert.matches("^ERROR unreadable", (government.reply(office, "ASK \1\2")))
    local bye, go_on = government.reply(office, "bye")
    assert.matches("^BYE Thank you for calling the Office", bye)
    assert.is_false(go_on)
  end)
end)

describe("a call to the department", function()
  it("goes through: greeting, questions, answers, goodbye, narrated on both sides", function()
    local d = department()
    local ok, code, out, err = entrepreneur(d.port,
      "--name 'entrepreneur #1' 'How do I register a company?' 'When do I pay taxes?'")
    out = unwrap(out)
    assert.equal("", err)
    assert.is_true(ok, "exit " .. code)
    -- the entrepreneur: each step, its call with the fd, the answers
    assert.matches("%[entrepreneur #1%] +socket%(inet, stream%) = fd %d+ +picks up a phone", out)
    assert.matches("connect%(fd %d+, 127%.0%.0%.1:" .. d.port .. "%) +dials", out)
    assert.matches("write%(fd %d+, 33 bytes%) +asks: How do I register a company%?", out)
    assert.matches("read%(fd %d+%) = %d+ bytes +hears the answer: Fill in form B%-1", out)
    assert.matches("hears the answer: Register for taxes", out)
    assert.matches("close%(fd %d+%) +hangs up", out)
    -- the department: the whole analogy, in order
    assert.truthy(told(d, "puts the phone down"))
    local text = narration(d)
    local steps = {
      "socket%(inet, stream%) = fd (%d+) +the department applies for a telephone",
      "bind%(fd %d+, 127%.0%.0%.1:0%) +registers its address 127%.0%.0%.1 and department",
      "listen%(fd %d+%) +opens the hotline: listening on 127%.0%.0%.1 port " .. d.port,
      "accept%(fd %d+%) = fd %d+ +answers a call from 127%.0%.0%.1:%d+; clerk #1 takes",
      "%[clerk #1%] +write%(fd %d+, %d+ bytes%) +picks up and greets",
      "%[clerk #1%] +read%(fd %d+%) = 33 bytes +hears: ASK How do I register a company%?",
      "%[clerk #1%] +write%(fd %d+, %d+ bytes%) +answers: Fill in form B%-1",
      "%[clerk #1%] +read%(fd %d+%) = 4 bytes +hears: BYE",
      "%[clerk #1%] +close%(fd %d+%) +puts the phone down",
    }
    local at = 1
    for _, step in ipairs(steps) do
      local _, stop = text:find(step, at)
      assert.truthy(stop, "missing, or out of order: " .. step .. "\n" .. text)
      at = stop
    end
    assert.not_matches("\27", text .. out)   -- not a terminal: no colour
  end)

  it("takes the questions from stdin or from a file, one a line", function()
    local d = department()
    local ok, _, out = entrepreneur(d.port, "--quiet",
      "How do I register a company?\n\n# a comment\nIs there a grant?\n")
    assert.is_true(ok)
    assert.matches("^Fill in form B%-1.-\nStart%-up grants", out)
    local file = tmpname()
    local f = assert(io.open(file, "w"))
    f:write("When is the hotline open?\r\n")
    f:close()
    ok, _, out = entrepreneur(d.port, "--quiet --file " .. file)
    assert.is_true(ok)
    assert.equal("The hotline is open on working days from nine to five.\n", out)
  end)

  it("holds several calls at once: a silent caller holds up nobody", function()
    local d = department()
    local a = dial(d.port)                 -- connected, and says nothing yet
    local b = dial(d.port)
    local c = dial(d.port)
    assert.matches("^ANSWER Fill in form", say(c, "ASK how do I register a company?"))
    assert.matches("^ANSWER Register for taxes", say(b, "ASK when do I pay taxes?"))
    -- a fourth caller, the real script, gets through while all three hold
    local ok, _, out = entrepreneur(d.port, "--quiet 'Is there a grant?'")
    assert.is_true(ok)
    assert.matches("^Start%-up grants", out)
    assert.matches("^ANSWER The hotline is open", say(a, "ASK when are you open?"))
    for _, s in ipairs({ a, b, c }) do
      assert.matches("^BYE ", say(s, "BYE"))
      assert.same({ nil, "closed" }, { s:read() })
      s:close()
    end
    assert.truthy(told(d, "(4 calls now"))
  end)
end)

describe("a caller typing by hand (nc)", function()
  it("gets an ERROR for a malformed line, and the call goes on", function()
    local d = department()
    local s = dial(d.port)
    assert.matches("^ERROR unknown request 'WHAT'", say(s, "what is this?"))
    assert.matches("^ERROR empty line", say(s, ""))
    assert.matches("^ERROR ASK needs a question", say(s, "ASK"))
    assert.matches("^ERROR unreadable line", say(s, "ASK \0\1"))
    assert.matches("^ANSWER Trade permits", say(s, "ask about permits\r"))
    assert.matches("^BYE ", say(s, "bye"))
    s:close()
  end)

  it("is told off and hung up on after too many mistakes", function()
    local d = department()
    local s = dial(d.port)
    for _ = 1, 4 do assert.matches("^ERROR unknown", say(s, "HUH")) end
    assert.matches("^ERROR unknown", say(s, "HUH"))
    assert.matches("^ERROR too many mistakes", s:read())
    assert.same({ nil, "closed" }, { s:read() })
    s:close()
    local next_caller = dial(d.port)
    assert.matches("^ANSWER", say(next_caller, "ASK taxes?"))
    next_caller:close()
  end)

  it("gets an ERROR and a clean hang-up for an over-long line; the next caller is served",
    function()
      local d = department()
      local s = dial(d.port)
      assert(s:write(string.rep("x", 5000)))
      assert.equal("ERROR line too long: at most 1024 bytes, please", s:read())
      assert.same({ nil, "closed" }, { s:read() })
      s:close()
      assert.truthy(told(d, "hears more than 1024 bytes without a line end"))
      local next_caller = dial(d.port)
      assert.matches("^ANSWER", say(next_caller, "ASK how do I hire staff?"))
      next_caller:close()
    end)

  it("may hang up in the middle of a question; the next caller is served", function()
    local d = department()
    local s = dial(d.port)
    assert(s:write("ASK how do I reg"))
    s:close()
    assert.truthy(told(d, "hang up in the middle of a sentence"))
    local next_caller = dial(d.port)
    assert.matches("^ANSWER", say(next_caller, "ASK how do I register?"))
    next_caller:close()
    assert.truthy(told(d, "[clerk #2]"))
    assert.equal("", helpers.slurp(d.err))
  end)

  it("is hung up on after a silence longer than --patience", function()
    local d = department("--patience 0.2")
    local s = dial(d.port)
    assert.matches("^ERROR nothing said for a long time", s:read())
    assert.same({ nil, "closed" }, { s:read() })
    s:close()
  end)
end)

describe("closing time", function()
  it("on SIGTERM: stops taking calls, finishes the call in progress, exits", function()
    local d = department()
    local a = dial(d.port)
    core.kill(d.pid, "TERM")
    assert.truthy(told(d, "SIGTERM, closing time: the department closes the hotline"))
    local refused, _, code = hotline.connect("127.0.0.1", d.port)
    assert.is_nil(refused)
    assert.equal("ECONNREFUSED", code)
    assert.matches("^ANSWER Before your first employee", say(a, "ASK how do I hire staff?"))
    assert.matches("^BYE ", say(a, "BYE"))
    a:close()
    assert.truthy(ended(d))
    assert.matches("the office is closed; 1 call taken today\n$", narration(d))
  end)

  it("on a second signal: hangs up on everyone", function()
    local d = department()
    local a = dial(d.port)
    core.kill(d.pid, "INT")
    assert.truthy(told(d, "SIGINT, closing time"))
    core.kill(d.pid, "INT")
    assert.same({ nil, "closed" }, { a:read() })
    a:close()
    assert.truthy(ended(d))
  end)

  it("after --calls N: the Nth call is finished, nobody else gets through", function()
    local d = department("--calls 1")
    local a = dial(d.port)
    assert.truthy(told(d, "that was call 1 of 1 today"))
    assert.is_nil((hotline.connect("127.0.0.1", d.port)))
    assert.matches("^ANSWER", say(a, "ASK grants?"))
    a:close()
    assert.truthy(ended(d))
  end)

  it("after --hours SECONDS, with a call in progress", function()
    local d = department("--hours 0.5")
    local a = dial(d.port)
    assert.truthy(told(d, "office hours are over (0.5 seconds)"))
    assert.matches("^ANSWER", say(a, "ASK when are you open?"))
    assert.matches("^BYE", say(a, "BYE"))
    a:close()
    assert.truthy(ended(d))
  end)
end)

describe("the entrepreneur, when the call cannot be made", function()
  it("says the department is closed and exits 1", function()
    local ok, code, out, err = entrepreneur(dead_port(), "'Anyone there?'")
    out = unwrap(out)
    assert.is_false(ok)
    assert.equal(1, code)
    assert.matches("^hotline%-entrepreneur: entrepreneur: cannot get through to 127%.0%.0%.1,"
      .. " department %d+: nobody answers: the department is closed %(connection refused%)\n$",
      err)
    assert.matches("connect%(fd %d+, 127%.0%.0%.1:%d+%) = ECONNREFUSED", out)
  end)

  it("says so when the department never picks up (busy), within --timeout", function()
    local listener = assert(hotline.listen("127.0.0.1", 0))   -- never accepts
    local _, port = listener:getsockname()
    local t0 = core.monotime()
    local ok, code, _, err = entrepreneur(port, "--quiet --timeout 0.3 'Hello?'")
    listener:close()
    assert.is_false(ok)
    assert.equal(1, code)
    assert.matches("no answer in time: the line is busy or the department is away\n$", err)
    assert.is_true(core.monotime() - t0 < TIMEOUT)
  end)

  it("says so when the line is cut off (reset), without a traceback", function()
    local listener = assert(hotline.listen("127.0.0.1", 0))
    listener:settimeout(TIMEOUT)
    local _, port = listener:getsockname()
    local out, err, status = tmpname(), tmpname(), tmpname()
    started[#started + 1] = helpers.start(string.format("sh -c '%s %s --port %d q; echo $? >%s'",
      helpers.lua, ENTREPRENEUR, port, status), { stdout = out, stderr = err })
    local caller = assert(listener:accept())
    listener:close()
    assert(caller:setoption("linger", 0))
    caller:close()                          -- with linger 0: a reset
    assert.truthy(helpers.eventually(function() return helpers.slurp(status) ~= "" end))
    assert.equal("1\n", helpers.slurp(status))
    assert.matches("the line went dead: the department cut the call off %(connection reset%)\n$",
      helpers.slurp(err))
  end)

  it("explains a usage mistake and exits 2", function()
    local ok, code, _, err = helpers.run_lua(ENTREPRENEUR, "'no port given'")
    assert.is_false(ok)
    assert.equal(2, code)
    assert.matches("^hotline%-entrepreneur: %-%-port is required\n", err)
    _, code, _, err = helpers.run_lua(GOVERNMENT, "--port 70000")
    assert.equal(2, code)
    assert.matches("%-%-port wants a port from 0 to 65535, not '70000'", err)
    _, code, _, err = helpers.run_lua(GOVERNMENT, "--frobnicate")
    assert.equal(2, code)
    assert.matches("unknown option %-%-frobnicate", err)
  end)
end)

describe("the command lines", function()
  it("have --help", function()
    for _, script in ipairs({ GOVERNMENT, ENTREPRENEUR }) do
      local ok, _, out, err = helpers.run_lua(script, "--help")
      assert.is_true(ok)
      assert.equal("", err)
      assert.matches("^usage: hotline%-%a+ ", out)
      assert.matches("%-%-quiet", out)
      assert.matches("%-%-trace", out)
    end
  end)

  it("are silent with --quiet but for the port and the answers", function()
    local d = department("--quiet --calls 1")
    local ok, _, out, err = entrepreneur(d.port, "--quiet 'How do I register a company?'")
    assert.is_true(ok)
    assert.equal("", err)
    assert.equal(require("hotline.demo.government").answer("register") .. "\n", out)
    assert.truthy(ended(d))
    assert.equal("listening on 127.0.0.1 port " .. d.port .. "\n", helpers.slurp(d.out))
  end)

  it("add the library's call trace on stderr with --trace", function()
    local d = department("--trace --calls 1")
    local ok, _, _, err = entrepreneur(d.port, "--quiet --trace 'taxes?'")
    assert.is_true(ok)
    assert.matches("%[hotline %d+%] connect%(fd=%d+", err)
    assert.truthy(ended(d))
    assert.matches("%[hotline %d+%] listen%(fd=%d+", helpers.slurp(d.err))
    assert.matches("%[hotline %d+%] accept%(fd=%d+", helpers.slurp(d.err))
  end)

  it("colour the narration on a terminal, found by `test -t 1`", function()
    local found = os.execute("command -v script >/dev/null 2>&1")
    if found ~= true and found ~= 0 then
      return pending("no script(1) to make a terminal with")
    end
    local command = string.format("%s TERM=xterm %s %s --port %d q", helpers.env, helpers.lua,
      ENTREPRENEUR, dead_port())
    local p = io.popen("env -u NO_COLOR script -qc \"" .. command .. "\" /dev/null 2>&1")
    local out = p:read("*a")
    p:close()
    assert.matches("\27%[%d+m%[entrepreneur%]\27%[0m", out)
  end)

  it("colour the narration when asked to", function()
    local d = department("--color --calls 1")
    local ok, _, out = entrepreneur(d.port, "--color 'taxes?'")
    assert.is_true(ok)
    assert.matches("\27%[%d+m%[entrepreneur%]\27%[0m", out)
    assert.truthy(ended(d))
    assert.matches("\27%[1;34m%[department%]\27%[0m", helpers.slurp(d.out))
  end)
end)

describe("make demo", function()
  it("shows a department holding several calls at once, and ends by itself", function()
    local ok, code, out, err = helpers.run_lua("lua/hotline/demo/run.lua")
    assert.is_true(ok, "exit " .. code .. ": " .. err)
    out = unwrap(out)
    local held = tonumber(out:match("the department held (%d+) calls at once"))
    assert.truthy(held and held >= 2, out)
    for i = 1, 3 do
      assert.matches("%[entrepreneur #" .. i .. "%] +close%(fd %d+%) +hangs up", out)
    end
    assert.matches("the office is closed; 3 calls taken today", out)
  end)
end)
