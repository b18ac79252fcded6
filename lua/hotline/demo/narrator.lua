-- hotline.demo.narrator: how the demo's programs tell what they do.
--
-- Every step is a line on stdout in three columns: who acts
-- ("[department]", "[clerk #2]", "[entrepreneur #1]"), the call behind
-- the step with its descriptor and addresses, and what happens in plain
-- words. One write per step, so the steps of several processes sharing a
-- pipe or a terminal interleave whole. Colour only when asked, or when
-- stdout is a terminal.

local narrator = {}

local unpack = table.unpack or unpack -- luacheck: compat

-- Whether descriptor fd (0 or 1) of this process is a terminal. The shell
-- that os.execute starts inherits our descriptors, so `test -t` answers
-- for ours (io.popen would not: there stdout is the pipe back to us).
-- Lua 5.1 and LuaJIT return the status number, later versions true/nil.
function narrator.isatty(fd)
  local status = os.execute("test -t " .. fd)
  return status == true or status == 0
end

-- The colour choice: "always", "never" or "auto" (a terminal that can
-- show colour, and no NO_COLOR in the environment: no-color.org).
function narrator.use_color(choice)
  if choice == "always" or choice == "never" then return choice == "always" end
  local term = os.getenv("TERM")
  if os.getenv("NO_COLOR") or not term or term == "dumb" then return false end
  return narrator.isatty(1)
end

local RESET = "\27[0m"
local CALL = "\27[2m"             -- the call behind a step: dim
local TROUBLE = "\27[31m"         -- a failure: red
local ROLE_COLORS = {
  department = "\27[1;34m", clerk = "\27[36m",
  entrepreneur = { "\27[32m", "\27[33m", "\27[35m", "\27[1;32m", "\27[1;33m" },
}

-- Columns: role, call, words; long words go on into more lines.
local ROLE_WIDTH, CALL_WIDTH, WORDS_WIDTH = 18, 31, 52

local function role_color(role)
  local kind, number = role:match("^(%a+)%s*#?(%d*)")
  local color = ROLE_COLORS[kind]
  if type(color) == "table" then
    color = color[((tonumber(number) or 1) - 1) % #color + 1]
  end
  return color or ""
end

-- Cuts text into lines of at most width characters, at spaces.
local function wrap(text, width)
  local lines, line = {}, nil
  for word in text:gmatch("%S+") do
    if not line then
      line = word
    elseif #line + 1 + #word <= width then
      line = line .. " " .. word
    else
      lines[#lines + 1] = line
      line = word
    end
  end
  lines[#lines + 1] = line or ""
  return lines
end

local Narrator = {}
Narrator.__index = Narrator

-- One step: role, plain words and, if any, the call behind them. Words
-- are wrapped, unless they come as a list of lines already. With trouble
-- true the words tell a failure. Quiet narrators say nothing. The whole
-- step is one write, so that it stays together in a pipe.
function Narrator:say(role, words, call, trouble)
  if self.quiet then return end
  local color = self.color
  local tag = "[" .. role .. "]"
  local lines = type(words) == "table" and { unpack(words) } or wrap(words, WORDS_WIDTH)
  local indent = string.rep(" ", ROLE_WIDTH + CALL_WIDTH)
  call = call or ""
  local head = tag .. string.rep(" ", ROLE_WIDTH - #tag)
  if color then head = role_color(role) .. tag .. RESET .. string.rep(" ", ROLE_WIDTH - #tag) end
  local call_pad = CALL_WIDTH - #call
  if call_pad < 1 then                      -- a long call: words below it
    table.insert(lines, 1, "")
    call_pad = 0
  end
  head = head .. (color and call ~= "" and CALL .. call .. RESET or call)
    .. string.rep(" ", call_pad)
  local out = {}
  for i, line in ipairs(lines) do
    if color and trouble and line ~= "" then line = TROUBLE .. line .. RESET end
    out[i] = (i == 1 and head or indent) .. line
    out[i] = out[i]:gsub("%s+$", "")
  end
  self.out:write(table.concat(out, "\n"), "\n")
  self.out:flush()
end

-- narrator.new{ quiet = bool, color = bool, out = file } -> a narrator
function narrator.new(opts)
  return setmetatable({
    quiet = opts.quiet, color = opts.color, out = opts.out or io.stdout,
  }, Narrator)
end

-- What a line said, fit to be shown: control characters escaped, and
-- shortened to max characters when longer.
function narrator.visible(text, max)
  text = text:gsub("%c", function(c)
    return c == "\n" and "\\n" or c == "\r" and "\\r" or string.format("\\%03d", c:byte())
  end)
  if max and #text > max then text = text:sub(1, max - 3) .. "..." end
  return text
end

-- A call that failed, as narrated: the error code, or else the message
-- ("closed" has no code).
function narrator.failed(call, err, code)
  return string.format("%s = %s", call, code or string.format("%q", err))
end

return narrator
