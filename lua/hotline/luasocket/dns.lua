-- hotline.luasocket.dns: socket.dns (toip, tohostname, gethostname,
-- getaddrinfo, getnameinfo).
--
-- Lookups go through hotline.getaddrinfo and hotline.getnameinfo, which
-- wait without blocking other tasks.
-- SPDX-License-Identifier: MIT

local hotline = require "hotline"
local base = require "hotline.luasocket.base"

local type, tostring = type, tostring
local FORWARDING, nested, forward = base.FORWARDING, base.nested, base.forward
local coroutine_running = coroutine.running

local dns = {}

local function forwarded()
  return FORWARDING and nested[coroutine_running()]
end

local function is_numeric(host)
  if type(host) == "number" then return true end
  return host:match("^%d+%.%d+%.%d+%.%d+$") or host:find(":", 1, true)
end

-- The one reverse lookup, hotline.getnameinfo (it waits as getaddrinfo
-- does): ip -> canonical name, aliases | nil, "host not found"
local function reverse(ip)
  local name = hotline.getnameinfo(ip)
  if not name then return nil, "host not found" end
  return name, {}
end

-- The addresses of name, IPv4 first, as LuaSocket's toip lists them.
local function lookup(name)
  local addrs, err = base.resolve(name, 0, nil)
  if not addrs then return nil, err end
  local ips, seen = {}, {}
  for _, want in ipairs({ "inet", "inet6" }) do
    for i = 1, #addrs do
      local a = addrs[i]
      if a.family == want and not seen[a.host] then
        seen[a.host] = true
        ips[#ips + 1] = a.host
      end
    end
  end
  return ips
end

-- A name is a string, or a number (an IPv4 address as hotline reads it).
local function check_name(name, fname)
  local t = type(name)
  if t ~= "string" and t ~= "number" then
    base.argerror(1, fname, "string expected, got " .. t, 4)
  end
  return name
end

-- dns.toip(address) -> first IPv4 address, resolved | nil, err
function dns.toip(address)
  if forwarded() then return forward(dns.toip, address) end
  address = check_name(address, "toip")
  local ips, err = lookup(address)
  if not ips then return nil, err end
  local name, aliases = address, {}
  if is_numeric(address) then name, aliases = reverse(ips[1]) end
  return ips[1], { name = name or ips[1], alias = aliases or {}, ip = ips }
end

-- dns.tohostname(address) -> canonical name, resolved | nil, err
function dns.tohostname(address)
  if forwarded() then return forward(dns.tohostname, address) end
  address = check_name(address, "tohostname")
  local ips, err = lookup(address)
  if not ips then return nil, err end
  local name, aliases = reverse(ips[1])
  if not name then return nil, aliases end
  return name, { name = name, alias = aliases, ip = ips }
end

-- dns.gethostname() -> the machine's name
function dns.gethostname()
  local f = io.open("/proc/sys/kernel/hostname", "r")
  if f then
    local name = f:read("*l")
    f:close()
    if name and name ~= "" then return name end
  end
  return os.getenv("HOSTNAME") or "localhost"
end

-- dns.getaddrinfo(address) -> { {family = "inet"|"inet6", addr = ip}, ... }
-- | nil, err
function dns.getaddrinfo(address)
  if forwarded() then return forward(dns.getaddrinfo, address) end
  address = check_name(address, "getaddrinfo")
  local addrs, err = base.resolve(address, 0, nil)
  if not addrs then return nil, err end
  local out, seen = {}, {}
  for i = 1, #addrs do
    local a = addrs[i]
    if not seen[a.host] then
      seen[a.host] = true
      out[#out + 1] = { family = a.family, addr = a.host }
    end
  end
  return out
end

-- The service name of a TCP port from the services file, or the number.
local function service(port)
  local f = io.open("/etc/services", "r")
  if f then
    for line in f:lines() do
      local name, num = line:match("^(%S+)%s+(%d+)/tcp")
      if num and tonumber(num) == port then
        f:close()
        return name
      end
    end
    f:close()
  end
  return tostring(port)
end

-- dns.getnameinfo(address [, port]) -> { names }, { services } | nil, err
function dns.getnameinfo(address, port)
  if forwarded() then return forward(dns.getnameinfo, address, port) end
  if address == nil and port == nil then
    base.argerror(1, "getnameinfo", "address or port expected", 3)
  end
  local names
  if address ~= nil then
    address = check_name(address, "getnameinfo")
    local ips, err = lookup(address)
    if not ips then return nil, err end
    local name = reverse(ips[1])
    names = { name or ips[1] }
  end
  local services
  if port ~= nil then
    local n = tonumber(port)
    services = { n and service(n) or tostring(port) }
  end
  return names or {}, services
end

return dns
