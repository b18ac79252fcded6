-- spec/tools/dns.lua: starts spec/tools/dnsserver.py (a DNS server on
-- 127.0.0.1 answering from rules) for the resolver specs, and reads its
-- log of questions.
--   local server = dns.start({ "a.test=a:127.0.0.2", "slow*.test=a:127.0.0.3,delay:1" })
--   hotline.resolver{ nameservers = { server.address } }
--   server:count("a.test", "A"); server:stop()
local hotline = require "hotline"
local helpers = require "spec.helpers"

local dns = {}

local Server = {}
Server.__index = Server

function Server:stop()
  if self.pid then helpers.stop(self.pid) end
  self.pid = nil
  os.remove(self.out)
  os.remove(self.log)
end

-- The questions asked so far, as "name TYPE" lines.
function Server:questions()
  local list = {}
  for line in (helpers.slurp(self.log) or ""):gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

-- How many questions for name (and type, if given) came.
function Server:count(name, qtype)
  local n = 0
  for _, line in ipairs(self:questions()) do
    local qname, t = line:match("^(%S+) (%S+)$")
    if qname == name and (qtype == nil or t == qtype) then n = n + 1 end
  end
  return n
end

-- How many sockets of this network namespace are connected to port, from
-- /proc/net/<file> for each of files ("udp", "tcp6"...), in state (hex, as
-- "02" for SYN_SENT) if given. Unlike a count of this process's
-- descriptors, no garbage of another spec waiting for the collector
-- changes it.
function dns.sockets_to(port, files, state)
  local n = 0
  for _, file in ipairs(files) do
    for line in (helpers.slurp("/proc/net/" .. file) or ""):gmatch("[^\n]+") do
      local remote, st = line:match("^%s*%d+:%s+%S+%s+(%S+)%s+(%x%x)")
      if remote and tonumber(remote:match(":(%x+)$"), 16) == port
          and (state == nil or st == state) then
        n = n + 1
      end
    end
  end
  return n
end

-- How many sockets still talk to the server (a lookup's, not closed).
function Server:clients()
  return dns.sockets_to(self.port, { "udp", "udp6" })
end

-- The reverse-lookup name of an IPv4 address (PTR rules).
function dns.arpa(ipv4)
  local a, b, c, d = ipv4:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return string.format("%s.%s.%s.%s.in-addr.arpa", d, c, b, a)
end

-- Starts a server with rules (see dnsserver.py); opts.host, opts.port.
function dns.start(rules, opts)
  opts = opts or {}
  local quoted = {}
  for i, rule in ipairs(rules) do quoted[i] = "'" .. rule .. "'" end
  local server = setmetatable({ out = os.tmpname(), log = os.tmpname() }, Server)
  server.pid = helpers.start(string.format(
    "exec python3 spec/tools/dnsserver.py --host %s --port %d %s",
    opts.host or "127.0.0.1", opts.port or 0, table.concat(quoted, " ")),
    { stdout = server.out, stderr = server.log })
  server.port = tonumber(helpers.eventually(function()
    return (helpers.slurp(server.out) or ""):match("^(%d+)\n")
  end))
  assert(server.port, "the DNS server did not start")
  server.address = "127.0.0.1:" .. server.port
  return server
end

-- A resolver asking only server, with no hosts file unless given.
function dns.resolver(server, opts)
  opts = opts or {}
  return assert(hotline.resolver({ nameservers = { server.address }, timeout = opts.timeout or 2,
    attempts = opts.attempts or 1, hosts = opts.hosts or false }))
end

return dns
