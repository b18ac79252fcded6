-- hotline.luasocket.stream: the methods of LuaSocket's stream objects
-- (tcp{master|client|server}, unixstream{...}): receive patterns, send,
-- accept, listen, shutdown.
--
-- Received bytes go through a buffer of the object's own (buf from bpos
-- on), as in LuaSocket, so that dirty() and select can see bytes that
-- were received but not yet handed out; it costs nothing while empty.
-- Each chunk comes from the hotline socket's recv, which waits in
-- loop.await under the timeout base.arm sets.
-- SPDX-License-Identifier: MIT

local base = require "hotline.luasocket.base"

local find, sub, gsub = string.find, string.sub, string.gsub
local type, tostring, concat, setmetatable = type, tostring, table.concat, setmetatable
local fail, arm, argerror = base.fail, base.arm, base.argerror
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running

local CHUNK = 65536

local stream = {}

-- Raises unless self is in state kind ("client", "server", "master").
local function check_kind(self, kind, fname)
  if type(self) ~= "table" or self.kind ~= kind then
    local got = type(self) == "table" and self.class or type(self)
    argerror(1, fname, self.prefix .. "{" .. kind .. "} expected, got " .. tostring(got), 4)
  end
end
stream.check_kind = check_kind

-- One more chunk from the socket: -> data | nil, err. short: the last
-- chunk of this call was short, so the kernel had no more then; without
-- time to wait, asking again would only answer EAGAIN (hotline's own
-- reads skip that call the same way).
local function fill(self, sock, deadline, short)
  arm(self, sock, deadline)
  if short and self.hto == 0 then return nil, "timeout" end
  local data, err, code = sock:recv(CHUNK)
  if data then
    self.rx = self.rx + #data
    return data
  end
  return fail(err, code)
end

-- What the buffer holds, taken out of it.
local function take_all(self)
  local buf, pos = self.buf, self.bpos
  self.buf, self.bpos = "", 1
  if pos == 1 then return buf end
  return sub(buf, pos)
end

-- Drops "\r" anywhere in a line, as LuaSocket's "*l" does.
local function strip_cr(line)
  if find(line, "\r", 1, true) then line = gsub(line, "\r", "") end
  return line
end

-- "*l": a line without its "\n" (and without "\r"s).
local function receive_line(self, sock, prefix, deadline)
  local parts, n, short = nil, 0, false
  while true do
    local buf, pos = self.buf, self.bpos
    local nl = find(buf, "\n", pos, true)
    if nl then
      local line = sub(buf, pos, nl - 1)
      if nl == #buf then self.buf, self.bpos = "", 1 else self.bpos = nl + 1 end
      if parts then
        n = n + 1
        parts[n] = line
        line = concat(parts, "", 1, n)
      end
      line = strip_cr(line)
      if prefix then return prefix .. line end
      return line
    end
    if pos <= #buf then
      parts = parts or {}
      n = n + 1
      parts[n] = take_all(self)
    end
    local data, err = fill(self, sock, deadline, short)
    if not data then
      local partial = parts and strip_cr(concat(parts, "", 1, n)) or ""
      return nil, err, (prefix or "") .. partial
    end
    self.buf, self.bpos, short = data, 1, #data < CHUNK
  end
end

-- A number: exactly size bytes, the prefix counted in (as LuaSocket 3).
local function receive_count(self, sock, size, prefix, deadline)
  local want = size - (prefix and #prefix or 0)
  if want <= 0 and prefix and prefix ~= "" then return prefix end
  local parts, n, short = nil, 0, false
  while true do
    local buf, pos = self.buf, self.bpos
    local have = #buf - pos + 1
    if have >= want then
      local data
      if have == want then
        data = pos == 1 and buf or sub(buf, pos)
        self.buf, self.bpos = "", 1
      else
        data = sub(buf, pos, pos + want - 1)
        self.bpos = pos + want
      end
      if parts then
        n = n + 1
        parts[n] = data
        data = concat(parts, "", 1, n)
      end
      if prefix then return prefix .. data end
      return data
    end
    if have > 0 then
      parts = parts or {}
      n = n + 1
      parts[n] = take_all(self)
      want = want - have
    end
    local data, err = fill(self, sock, deadline, short)
    if not data then
      return nil, err, (prefix or "") .. (parts and concat(parts, "", 1, n) or "")
    end
    self.buf, self.bpos, short = data, 1, #data < CHUNK
  end
end

-- "*a": everything until the peer closes; "closed" is success here,
-- unless not one byte came (then, as in LuaSocket, it is "closed").
local function receive_all(self, sock, prefix, deadline)
  local parts, n = { prefix or "", take_all(self) }, 2
  local got, short = parts[2] ~= "", false
  while true do
    local data, err = fill(self, sock, deadline, short)
    if not data then
      local all = concat(parts, "", 1, n)
      if err == "closed" and got then return all end
      return nil, err, all
    end
    got, short = true, #data < CHUNK
    n = n + 1
    parts[n] = data
  end
end

-- client:receive([pattern [, prefix]]) -> data | nil, err, partial
function stream.receive(self, pattern, prefix)
  if FORWARDING and nested[coroutine_running()] then
    return forward(stream.receive, self, pattern, prefix)
  end
  check_kind(self, "client", "receive")
  if prefix ~= nil then
    if type(prefix) == "number" then prefix = tostring(prefix) end
    if type(prefix) ~= "string" then
      argerror(3, "receive", "string expected, got " .. type(prefix))
    end
  end
  local sock = self.sock
  if not sock then return nil, "closed", prefix or "" end
  local deadline = self.total and base.deadline(self)
  if pattern == nil then return receive_line(self, sock, prefix, deadline) end
  local kind = type(pattern)
  if kind == "number" then
    if pattern < 0 then argerror(2, "receive", "invalid receive pattern") end
    return receive_count(self, sock, pattern - pattern % 1, prefix, deadline)
  elseif kind == "string" then
    local c = sub(pattern, 1, 1) == "*" and sub(pattern, 2, 2) or sub(pattern, 1, 1)
    if c == "l" then return receive_line(self, sock, prefix, deadline) end
    if c == "a" then return receive_all(self, sock, prefix, deadline) end
    local size = tonumber(pattern)
    if size and size >= 0 then
      return receive_count(self, sock, size - size % 1, prefix, deadline)
    end
  end
  argerror(2, "receive", "invalid receive pattern")
end

-- client:send(data [, i [, j]]) -> index of the last byte sent |
-- nil, err, index of the last byte sent
function stream.send(self, data, i, j)
  if FORWARDING and nested[coroutine_running()] then
    return forward(stream.send, self, data, i, j)
  end
  check_kind(self, "client", "send")
  local kind = type(data)
  if kind == "number" then
    data = tostring(data)
  elseif kind ~= "string" then
    argerror(2, "send", "string expected, got " .. (data == nil and "no value" or kind))
  end
  local len = #data
  i, j = tonumber(i) or 1, tonumber(j) or -1
  if i < 0 then i = len + i + 1 end
  if i < 1 then i = 1 end
  if j < 0 then j = len + j + 1 end
  if j > len then j = len end
  local sock = self.sock
  if not sock then return nil, "closed", i - 1 end
  local last = i - 1
  local deadline = self.total and base.deadline(self)
  while last < j do
    arm(self, sock, deadline)
    local sent, err, code = sock:send(data, last + 1, j)
    if not sent then
      local msg = select(2, fail(err, code))
      return nil, msg, last
    end
    last = last + sent
    self.tx = self.tx + sent
  end
  return last
end

-- client:shutdown([how]): "both" (default), "send" or "receive".
local HOW = { both = "both", send = "write", receive = "read" }
function stream.shutdown(self, how)
  check_kind(self, "client", "shutdown")
  local mapped = HOW[how or "both"]
  if not mapped then argerror(2, "shutdown", "invalid option '" .. tostring(how) .. "'") end
  local sock = self.sock
  if not sock then return nil, "closed" end
  local ok, err, code = sock:shutdown(mapped)
  if not ok then return fail(err, code) end
  return 1
end

-- master:listen([backlog]): the master becomes a server.
function stream.listen(self, backlog)
  check_kind(self, "master", "listen")
  local sock = self.sock
  if sock == false then return nil, "closed" end
  if sock == nil then return nil, "not bound" end
  local ok, err, code = sock:listen(tonumber(backlog) or 32)
  if not ok then return fail(err, code) end
  setmetatable(self, self.classes.server)
  return 1
end

-- server:accept() -> a client object | nil, err
function stream.accept(self)
  if FORWARDING and nested[coroutine_running()] then
    return forward(stream.accept, self)
  end
  check_kind(self, "server", "accept")
  local sock = self.sock
  if not sock then return nil, "closed" end
  arm(self, sock, self.total and base.deadline(self))
  local client, err, code = sock:accept()
  if not client then return fail(err, code) end
  return base.new(self.classes.client, client, self.family)
end

return stream
