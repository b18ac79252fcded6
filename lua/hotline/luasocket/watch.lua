-- hotline.luasocket.watch: the epoll sets behind socket.select, kept per
-- caller (each task, and the code outside tasks) between calls.
--
-- A server selects on much the same objects every time. For sets made
-- only of hotline.luasocket objects, the watch set keeps a copy of the
-- last call's sets and, each call, walks the new ones beside it: an
-- object where the copy has the same one costs a comparison and nothing
-- else, and only the objects that came or went are added to or removed
-- from the epoll set. One epoll_wait without waiting then finds every
-- ready object; when none is, the caller waits for the set's descriptor
-- to become readable, at the one wait point (select.lua does that).
-- Everything here holds objects and sockets weakly: a set does not keep
-- a dropped object (and its descriptor) alive.
-- SPDX-License-Identifier: MIT

local core = require "hotline.core"
local base = require "hotline.luasocket.base"

local type, pairs, next, rawget, setmetatable = type, pairs, next, rawget, setmetatable

local M = {}

local WEAK_KEYS, WEAK_VALUES = { __mode = "k" }, { __mode = "v" }

-- The watch sets a socket is in: it must leave them before it is closed
-- (base.close calls forget), since a new socket may get its descriptor
-- number. owner: sock -> the first one (the usual case: no table per
-- socket); others: sock -> the set of any more. Weak both ways: a
-- long-lived socket must not keep the watch set (and epoll descriptor) of
-- a finished task alive.
local owner = setmetatable({}, { __mode = "kv" })
local others = setmetatable({}, WEAK_KEYS)

function M.own(sock, w)
  local first = owner[sock]
  if first == nil then
    owner[sock] = w
  elseif first ~= w then
    local more = others[sock]
    if more == nil then
      more = setmetatable({}, WEAK_KEYS)
      others[sock] = more
    end
    more[w] = true
  end
end

function M.disown(sock, w)
  if owner[sock] == w then owner[sock] = nil end
  local more = others[sock]
  if more then more[w] = nil end
end

-- (drop may come twice to one watch set; it does nothing the second time)
function base.forget(sock)
  local first = owner[sock]
  if first then
    owner[sock] = nil
    first:drop(sock)
  end
  local more = others[sock]
  if more then
    others[sock] = nil
    for w in pairs(more) do w:drop(sock) end
  end
end

-- A new epoll poller, or nil where there is none (HOTLINE_POLLER=poll, as
-- for the loop, or not Linux).
local have_epoll   -- nil: not tried yet
function M.epoll()
  if have_epoll == false then return nil end
  local ok, p = false, nil
  if os.getenv("HOTLINE_POLLER") ~= "poll" then ok, p = pcall(core.poller, "epoll") end
  have_epoll = (ok and p) and true or false
  return have_epoll and p or nil
end

-- The copied watch set ---------------------------------------------------

local Copied = {}
Copied.__index = Copied

-- caller -> its copied watch set
local copied = setmetatable({}, WEAK_KEYS)

local function new_copied(p)
  return setmetatable({
    poller = p, fd = p:fileno(), epoch = base.epoch,
    rcopy = setmetatable({}, WEAK_VALUES), wcopy = setmetatable({}, WEAK_VALUES),
    rn = 0, wn = 0,                           -- the copies' lengths
    rcount = setmetatable({}, WEAK_KEYS),     -- obj -> times in recvt
    wcount = setmetatable({}, WEAK_KEYS),     -- obj -> times in sendt
    handle = setmetatable({}, WEAK_KEYS),     -- obj -> its socket | false
    object = setmetatable({}, WEAK_VALUES),   -- socket -> obj
    mode = setmetatable({}, WEAK_KEYS),       -- socket -> "r" | "w" | "rw"
    watched = 0,                              -- sockets in the epoll set
    rready = {}, wready = {},                 -- obj -> true, during a call
  }, Copied)
end

-- The socket obj watches, registered for what its counts ask.
function Copied:update(obj)
  local sock = self.handle[obj]
  if not sock then return end
  local r, w = self.rcount[obj], self.wcount[obj]
  local mode = r and (w and "rw" or "r") or (w and "w" or nil)
  local old = self.mode[sock]
  if mode == old then return end
  if mode then
    local ok, err = self.poller:add(sock, mode)
    if not ok then error("hotline.luasocket: cannot watch the socket: " .. err, 0) end
    if not old then
      self.watched = self.watched + 1
      self.object[sock] = obj
      M.own(sock, self)
    end
  else
    self.poller:remove(sock)
    self.watched = self.watched - 1
    self.object[sock] = nil
    M.disown(sock, self)
  end
  self.mode[sock] = mode
end

-- Counts obj once more in counts; false if obj is not one of ours.
function Copied:enter(obj, counts)
  if type(obj) ~= "table" or rawget(obj, "bpos") == nil then return false end
  local n = counts[obj]
  counts[obj] = (n or 0) + 1
  if n == nil then
    if self.handle[obj] == nil then self.handle[obj] = rawget(obj, "sock") or false end
    self:update(obj)
  end
  return true
end

-- Counts obj once less in counts (nil: an object collected since).
function Copied:leave(obj, counts)
  local n = obj ~= nil and counts[obj]
  if not n then return end
  if n > 1 then
    counts[obj] = n - 1
    return
  end
  counts[obj] = nil
  self:update(obj)
  if not (self.rcount[obj] or self.wcount[obj]) then self.handle[obj] = nil end
end

-- base.forget: the socket is about to close; its object stays counted.
function Copied:drop(sock)
  if self.mode[sock] then
    self.poller:forget(sock)
    self.watched = self.watched - 1
    self.mode[sock] = nil
  end
  local obj = self.object[sock]
  self.object[sock] = nil
  if obj then self.handle[obj] = false end
end

-- Brings copy (of length n) and counts up to set -> its new length, or
-- false if set holds an object that is not ours.
function Copied:sync(set, copy, n, counts)
  local len = set and #set or 0
  for i = 1, len do
    local obj = set[i]
    if obj ~= copy[i] then
      if i <= n then self:leave(copy[i], counts) end
      if not self:enter(obj, counts) then
        copy[i] = nil
        return false
      end
      copy[i] = obj
    end
  end
  for i = len + 1, n do
    self:leave(copy[i], counts)
    copy[i] = nil
  end
  return len
end

-- Lets go of every object and socket (a set with other objects came).
function Copied:reset()
  for sock in pairs(self.mode) do
    self.poller:remove(sock)
    M.disown(sock, self)
  end
  for _, t in pairs{ self.rcopy, self.wcopy, self.rcount, self.wcount,
                     self.handle, self.object, self.mode } do
    for k in pairs(t) do t[k] = nil end
  end
  self.rn, self.wn, self.watched, self.epoch = 0, 0, 0, base.epoch
end

-- The ready objects of set (length n), in set's order, in LuaSocket's
-- result form (an array, each object also a key to its index); marks is
-- emptied of them. -> result, count
local function collect(set, n, marks)
  local result, found = {}, 0
  if next(marks) == nil then return result, 0 end
  for i = 1, n do
    local obj = set[i]
    if marks[obj] then
      marks[obj] = nil
      found = found + 1
      result[found], result[obj] = obj, found
    end
  end
  if next(marks) ~= nil then
    for k in pairs(marks) do marks[k] = nil end
  end
  return result, found
end

-- Brings the caller's copied watch set up to date with recvt and sendt.
-- -> the watch set and whether an object in recvt has bytes received but
-- not handed out (ready at once); nil when the sets hold objects that are
-- not ours, or there is no epoll.
function M.prepare(caller, recvt, sendt)
  local self = copied[caller]
  if not self then
    local p = M.epoll()
    if not p then return nil end
    self = new_copied(p)
    copied[caller] = self
  end
  -- sockets made or let go of without a close: start again
  if self.epoch ~= base.epoch then self:reset() end
  local rn = self:sync(recvt, self.rcopy, self.rn, self.rcount)
  local wn = rn and self:sync(sendt, self.wcopy, self.wn, self.wcount)
  if not wn then
    self:reset()
    return nil
  end
  self.rn, self.wn = rn, wn
  -- dirty objects are ready, but not one let go of by setfd(-1), whose
  -- bytes LuaSocket's select skips with its descriptor of -1
  local rready, dirty = self.rready, false
  for i = 1, rn do
    local obj = recvt[i]
    if obj.bpos <= #obj.buf and obj.sock then rready[obj], dirty = true, true end
  end
  return self, dirty
end

-- One look without waiting (after a wait on the poller outside tasks, the
-- look that wait made) -> readable, writable, how many in all
function M.collect(self, recvt, sendt)
  local rready, wready = self.rready, self.wready
  if self.watched > 0 then
    local object = self.object
    for sock, ev in self.poller:wait(0) do
      local obj = object[sock]
      if obj then
        if ev ~= "w" then rready[obj] = true end
        if ev ~= "r" then wready[obj] = true end
      end
    end
  end
  local readable, nr = collect(recvt, self.rn, rready)
  local writable, nw = collect(sendt, self.wn, wready)
  return readable, writable, nr + nw
end

return M
