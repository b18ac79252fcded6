-- hotline.luasocket.sinks: LuaSocket's ltn12 adapters for sockets:
-- socket.sink, sinkt, source, sourcet and choose (socket.http adds its
-- "http-chunked" entries to the two tables itself).
--
-- A sink or source is a callable table that also answers getfd and dirty
-- with its socket's, so select can watch it as LuaSocket's can.
-- SPDX-License-Identifier: MIT

local type, tostring, setmetatable, error = type, tostring, setmetatable, error

local M = { BLOCKSIZE = 2048 }

-- choose(t) -> f(name, ...): calls t[name](...), or t.default(name, ...)
-- when name is not a string; an unknown name raises.
function M.choose(t)
  return function(name, opt1, opt2)
    if type(name) ~= "string" then
      name, opt1, opt2 = "default", name, opt1
    end
    local f = t[name]
    if not f then error("unknown key (" .. tostring(name) .. ")", 3) end
    return f(opt1, opt2)
  end
end

-- A callable over sock, for select too.
local function adapter(sock, fn)
  return setmetatable({
    getfd = function() return sock:getfd() end,
    dirty = function() return sock:dirty() end,
  }, { __call = function(_, ...) return fn(...) end })
end

local sinkt = {}

-- Sends each chunk; at the end (nil) closes the socket.
sinkt["close-when-done"] = function(sock)
  return adapter(sock, function(chunk, err)
    if chunk then return sock:send(chunk) end
    sock:close()
    return 1, err
  end)
end

-- Sends each chunk; the socket stays open at the end.
sinkt["keep-open"] = function(sock)
  return adapter(sock, function(chunk, err)
    if chunk then return sock:send(chunk) end
    return 1, err
  end)
end

sinkt.default = sinkt["keep-open"]

local sourcet = {}

-- length bytes, in chunks of BLOCKSIZE at most; then nil.
sourcet["by-length"] = function(sock, length)
  local left = tonumber(length) or 0
  return adapter(sock, function()
    if left <= 0 then return nil end
    local data, err = sock:receive(left < M.BLOCKSIZE and left or M.BLOCKSIZE)
    if not data then return nil, err end
    left = left - #data
    return data
  end)
end

-- Everything until the peer closes, in chunks; then nil.
sourcet["until-closed"] = function(sock)
  local done = false
  return adapter(sock, function()
    if done then return nil end
    local data, err, partial = sock:receive(M.BLOCKSIZE)
    if data then return data end
    if err == "closed" then
      sock:close()
      done = true
      return partial
    end
    return nil, err
  end)
end

sourcet.default = sourcet["until-closed"]

M.sinkt, M.sourcet = sinkt, sourcet
M.sink = M.choose(sinkt)
M.source = M.choose(sourcet)

return M
