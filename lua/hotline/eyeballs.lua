-- hotline.eyeballs: connect to the first address that answers (Happy
-- Eyeballs, RFC 8305), for hotline.connect.
--
-- The addresses are tried in turn with the families alternating, the
-- first family first (as the resolver sorted them). An attempt that has
-- not connected after attempt_delay (0.25 s) does not hold the next one
-- back: both go on, and the first to connect wins; the others are closed.
-- A failed attempt starts the next at once. All attempts in flight are
-- waited for together at the one wait point (loop.await_any: a yield in a
-- task, one poll outside), until the next attempt is due or the caller's
-- deadline.

local core = require "hotline.core"
local loop = require "hotline.loop"

local now, await, await_any = core.monotime, loop.await, loop.await_any

local eyeballs = {}

eyeballs.DELAY = 0.25   -- RFC 8305's recommended Connection Attempt Delay

-- addrs with the families alternating, starting with the first's (RFC
-- 8305, section 4); a list of one family is returned as it is.
local function interleave(addrs)
  local first, mine, other = addrs[1] and addrs[1].family, {}, {}
  for i = 1, #addrs do
    local t = addrs[i].family == first and mine or other
    t[#t + 1] = addrs[i]
  end
  if not other[1] then return addrs end
  local out = {}
  for i = 1, math.max(#mine, #other) do
    out[#out + 1] = mine[i]
    out[#out + 1] = other[i]
  end
  return out
end

local function close_all(socks)
  for i = 1, #socks do socks[i]:close() end
end

-- A wait that raises (a task cancelled in it) must not leave attempts
-- open: they are closed and the error goes on. pcall can yield on 5.2+
-- and LuaJIT; on 5.1 it would make a task's wait block, so there only a
-- wait outside tasks is guarded (in a task the sockets' __gc closes them).
local guarded = _VERSION ~= "Lua 5.1" or jit ~= nil

local function wait(pending, list, wake)
  if pending[2] then
    for k = 1, #pending do list[2 * k - 1], list[2 * k] = pending[k], "wantwrite" end
    for k = #list, 2 * #pending + 1, -1 do list[k] = nil end
    return await_any(list, wake)
  end
  return await(pending[1], "wantwrite", wake) and 1   -- one: no poller needed
end

local function won(sock, pending)
  close_all(pending)
  sock:settimeout(nil)
  return sock
end

-- eyeballs.connect(addrs, deadline [, delay]) -> a connected TCP socket
-- (no timeout set) | nil, msg, code: the last failure, or nil, "timeout",
-- "ETIMEDOUT" at deadline (monotonic seconds; nil: none). addrs are
-- getaddrinfo entries ({family=, host=, port=}; a unix one has a path as
-- host and no port).
function eyeballs.connect(addrs, deadline, delay)
  addrs = interleave(addrs)
  delay = delay or eyeballs.DELAY
  local pending, targets, list = {}, {}, {}   -- attempts under way
  local nexti, next_at = 1, now()
  local err, code = "no address to connect to", "EAI_NONAME"
  while true do
    if addrs[nexti] and (not pending[1] or now() >= next_at) then
      local addr = addrs[nexti]
      nexti = nexti + 1
      local sock, e, c = core.socket(addr.family, "stream")
      if not sock then
        close_all(pending)
        return nil, e, c
      end
      sock:settimeout(0)   -- "timeout" then means: under way
      local ok
      ok, e, c = sock:connect(addr.host, addr.port)
      if ok then return won(sock, pending) end
      if e == "timeout" then
        pending[#pending + 1], targets[#targets + 1] = sock, addr
        next_at = now() + delay
      else
        sock:close()
        err, code = e, c
      end
    elseif not pending[1] then
      return nil, err, code
    else
      local wake = addrs[nexti] and next_at or nil
      if deadline and (not wake or deadline < wake) then wake = deadline end
      local waited, i = true
      if guarded or not loop.running() then
        waited, i = pcall(wait, pending, list, wake)
      else
        i = wait(pending, list, wake)
      end
      if not waited then
        close_all(pending)
        error(i, 0)
      end
      if i then
        local k = (i + 1) / 2
        local sock, addr = pending[k], targets[k]
        local ok, e, c = sock:connect(addr.host, addr.port)   -- how it ended
        if ok then
          table.remove(pending, k)
          return won(sock, pending)
        end
        if e ~= "timeout" then   -- (a wake-up too early keeps it)
          table.remove(pending, k)
          table.remove(targets, k)
          sock:close()
          err, code = e, c
          next_at = now()        -- a failure starts the next at once
        end
      elseif deadline and now() >= deadline then
        close_all(pending)
        return nil, "timeout", "ETIMEDOUT"
      end
    end
  end
end

return eyeballs
