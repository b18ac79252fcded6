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
local hsocket = require "hotline.socket"

local find, sub, gsub = string.find, string.sub, string.gsub
local floor, ceil = math.floor, math.ceil
local type, tostring, concat = type, tostring, table.concat
local fail, arm, argerror = base.fail, base.arm, base.argerror
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running
local try_recv, try_send, try_accept = hsocket.try_recv, hsocket.try_send, hsocket.try_accept

local CHUNK = 65536

local stream = {}

-- Raises unless self is in state kind ("client", "server", "master").
local function check_kind(self, kind, fname)
  if type(self) ~= "table" or self.kind ~= kind then
    local is_table = type(self) == "table"
    local got = is_table and self.class or type(self)
    local prefix = is_table and self.prefix or "tcp"
    argerror(1, fname, prefix .. "{" .. kind .. "} expected, got " .. tostring(got), 4)
  end
end
stream.check_kind = check_kind

-- One more chunk from the socket: -> data | nil, err. short: the last
-- chunk of this call was short, so the kernel had no more then; without
-- time to wait, asking again would only answer EAGAIN (hotline's own
-- reads skip that call the same way).
local function fill(self, sock, deadline, short)
  if deadline or self.block ~= self.hto then arm(self, sock, deadline) end
  if short and self.hto == 0 then return nil, "timeout" end
  local data, err, code = sock:recv(CHUNK)
  if data then
    self.rx = self.rx + #data
    return data
  end
  return fail(err, code)
end

-- Keeps data:sub(from) as the buffer (nothing if from is past its end).
local function keep(self, data, from)
  if from <= #data then
    self.buf, self.bpos = data, from
  else
    self.buf, self.bpos = "", 1
  end
end

-- Drops "\r" anywhere in a line, as LuaSocket's "*l" does.
local function strip_cr(line)
  if find(line, "\r", 1, true) then line = gsub(line, "\r", "") end
  return line
end

-- The pieces of a result so far: one string (got) until a second comes,
-- then a table. -> got, parts, n with data added
local function add(got, parts, n, data)
  if got == nil then return data, nil, 0 end
  if not parts then parts, n = { got }, 1 end
  n = n + 1
  parts[n] = data
  return got, parts, n
end

local function joined(got, parts, n)
  if parts then return concat(parts, "", 1, n) end
  return got or ""
end

-- "*l": a line without its "\n" (and without "\r"s).
local function receive_line(self, sock, prefix, deadline)
  local got, parts, n, short = nil, nil, 0, false
  local data, pos = self.buf, self.bpos
  self.buf, self.bpos = "", 1           -- what is taken is the caller's now
  while true do
    local nl = find(data, "\n", pos, true)
    if nl then
      keep(self, data, nl + 1)
      local line = sub(data, pos, nl - 1)
      if got then
        got, parts, n = add(got, parts, n, line)
        line = joined(got, parts, n)
      end
      line = strip_cr(line)
      if prefix then return prefix .. line end
      return line
    end
    if pos <= #data then
      got, parts, n = add(got, parts, n, pos == 1 and data or sub(data, pos))
    end
    local err
    data, err = fill(self, sock, deadline, short)
    if not data then
      return nil, err, (prefix or "") .. strip_cr(joined(got, parts, n))
    end
    pos, short = 1, #data < CHUNK
  end
end

-- A number: exactly size bytes, the prefix counted in (as LuaSocket 3).
local function receive_count(self, sock, size, prefix, deadline)
  local want = size - (prefix and #prefix or 0)
  if want <= 0 then
    if prefix and prefix ~= "" then return prefix end
    -- 0 bytes: LuaSocket still waits for some (or the close) and keeps
    -- them, so receive(0) answers "timeout" or "closed" as it does
    if self.bpos > #self.buf then
      local data, err = fill(self, sock, deadline, false)
      if not data then return nil, err, "" end
      self.buf, self.bpos = data, 1
    end
    return ""
  end
  local got, parts, n, short = nil, nil, 0, false
  local data, pos = self.buf, self.bpos
  self.buf, self.bpos = "", 1           -- what is taken is the caller's now
  while true do
    local have = #data - pos + 1
    if have >= want then
      keep(self, data, pos + want)
      local piece = (pos == 1 and have == want) and data or sub(data, pos, pos + want - 1)
      if got then
        got, parts, n = add(got, parts, n, piece)
        piece = joined(got, parts, n)
      end
      if prefix then return prefix .. piece end
      return piece
    end
    if have > 0 then
      got, parts, n = add(got, parts, n, pos == 1 and data or sub(data, pos))
      want = want - have
    end
    local err
    data, err = fill(self, sock, deadline, short)
    if not data then
      return nil, err, (prefix or "") .. joined(got, parts, n)
    end
    pos, short = 1, #data < CHUNK
  end
end

-- "*a": everything until the peer closes; "closed" is success here,
-- unless not one byte came (then, as in LuaSocket, it is "closed").
local function receive_all(self, sock, prefix, deadline)
  local buf, pos = self.buf, self.bpos
  self.buf, self.bpos = "", 1
  local parts, n = { prefix or "", pos == 1 and buf or sub(buf, pos) }, 2
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
  if type(self) ~= "table" or self.kind ~= "client" then check_kind(self, "client", "receive") end
  if prefix ~= nil then
    if type(prefix) == "number" then prefix = tostring(prefix) end
    if type(prefix) ~= "string" then
      argerror(3, "receive", "string expected, got " .. type(prefix))
    end
  end
  local sock = self.sock
  if not sock then return nil, "closed", prefix or "" end
  local kind = type(pattern)
  if kind == "number" and pattern >= 1 and prefix == nil and not self.total
      and self.bpos > #self.buf then
    -- the usual case, a chunk into an empty buffer, without extra calls
    -- (with a timeout of 0, not even the waiting wrapper's)
    pattern = pattern - pattern % 1
    local block = self.block
    if block ~= self.hto then arm(self, sock, nil) end
    local data, err, code
    if block == 0 then
      data, err, code = try_recv(sock, CHUNK)
      if not data and (err == "wantread" or err == "wantwrite") then return nil, "timeout", "" end
    else
      data, err, code = sock:recv(CHUNK)
    end
    if not data then return nil, select(2, fail(err, code)), "" end
    local len = #data
    self.rx = self.rx + len
    if len == pattern then return data end
    if len > pattern then
      self.buf, self.bpos = data, pattern + 1
      return sub(data, 1, pattern)
    end
    if block == 0 and len < CHUNK then return nil, "timeout", data end
    self.buf, self.bpos = data, 1
    return receive_count(self, sock, pattern, nil, nil)
  end
  local deadline = self.total and base.deadline(self)
  if pattern == nil then return receive_line(self, sock, prefix, deadline) end
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
  if type(self) ~= "table" or self.kind ~= "client" then check_kind(self, "client", "send") end
  local kind = type(data)
  if kind == "number" then
    data = tostring(data)
  elseif kind ~= "string" then
    argerror(2, "send", "string expected, got " .. (data == nil and "no value" or kind))
  end
  local len = #data
  local sock = self.sock
  local block = self.block
  if (i == nil or i == 1) and j == nil and sock and len > 0 and block == self.hto
      and not self.total then
    -- the usual case: all of data, and it all goes at once
    local sent, err, code
    if block == 0 then
      sent, err, code = try_send(sock, data)
      if not sent and (err == "wantwrite" or err == "wantread") then return nil, "timeout", 0 end
    else
      sent, err, code = sock:send(data)
    end
    -- a failure here has waited its timeout already: not a second time
    if not sent then return nil, select(2, fail(err, code)), 0 end
    self.tx = self.tx + sent
    if sent == len then return len end
    i = sent + 1
  end
  i, j = tonumber(i) or 1, tonumber(j) or -1
  -- whole numbers, cut toward zero as LuaSocket's C cast does (a
  -- fraction left in j would never be reached: the loop below would spin)
  i = i < 0 and ceil(i) or floor(i)
  j = j < 0 and ceil(j) or floor(j)
  if i < 0 then i = len + i + 1 end
  if i < 1 then i = 1 end
  if j < 0 then j = len + j + 1 end
  if j > len then j = len end
  if not sock then return nil, "closed", i - 1 end
  local last = i - 1
  local deadline = self.total and base.deadline(self)
  while last < j do
    if deadline or self.block ~= self.hto then arm(self, sock, deadline) end
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
  -- LuaSocket answers 1 whatever shutdown(2) said (closed, not connected)
  local sock = self.sock
  if sock then sock:shutdown(mapped) end
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
  base.become(self, self.classes.server)
  return 1
end

-- server:accept() -> a client object | nil, err
function stream.accept(self)
  if FORWARDING and nested[coroutine_running()] then
    return forward(stream.accept, self)
  end
  if type(self) ~= "table" or self.kind ~= "server" then check_kind(self, "server", "accept") end
  local sock = self.sock
  if not sock then return nil, "closed" end
  local total = self.total
  if total or self.block ~= self.hto then arm(self, sock, total and base.deadline(self)) end
  local client, err, code
  if self.hto == 0 then
    client, err, code = try_accept(sock)
    if not client and err == "wantread" then return nil, "timeout" end
  else
    client, err, code = sock:accept()
  end
  if not client then return fail(err, code) end
  return base.new(self.classes.client, client, self.family)
end

return stream
