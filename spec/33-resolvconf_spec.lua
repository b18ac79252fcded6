-- The default resolver reads /etc/resolv.conf: nameserver, search, ndots,
-- timeout and attempts. The spec gives a child process a resolv.conf of
-- its own (a mount namespace and a bind mount, and a network namespace
-- whose loopback holds the spec's DNS server on port 53), so no name ever
-- reaches the machine's resolver. It needs root and unshare; elsewhere it
-- is skipped with a message.
local helpers = require "spec.helpers"

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function can_unshare()
  local ok = os.execute("unshare -mn sh -c 'ip link set lo up && mount -t tmpfs none /mnt' "
    .. ">/dev/null 2>&1")
  return ok == true or ok == 0
end

local child = [[
  local hotline = require "hotline"
  local function show(key, ...)
    local out = {}
    for i = 1, select("#", ...) do out[i] = tostring((select(i, ...))) end
    io.stdout:write(key, " ", table.concat(out, " "), "\n")
  end
  local function first(name)
    local list, err, code = hotline.getaddrinfo(name, 80, { family = "inet" })
    if not list then return err, code end
    return list[1].host
  end
  show("search", first("www"))
  show("ndots", first("a.b"))
  show("absolute", first("a.b."))
  show("localhost", first("localhost"))
  local t0 = hotline.now()
  local _, _, code = hotline.getaddrinfo("silent.test", 80, { family = "inet" })
  show("silent", code, string.format("%.2f", hotline.now() - t0))
  local l = assert(hotline.listen("127.0.0.1", 0))
  local _, port = l:getsockname()
  local found
  hotline.spawn(function()
    local c = assert(hotline.connect("srv.test", port))
    found = c:getpeername()
    c:close()
  end)
  assert(hotline.run())
  show("connect", found)
  -- s:connect(name) in a task: the answer takes 0.3 s, the loop goes on
  local ticks, peer = 0, nil
  hotline.spawn(function()
    local s = assert(hotline.socket("inet"))
    s:settimeout(5)
    assert(s:connect("slowsrv.test", port))
    peer = s:getpeername() .. " " .. tostring(ticks >= 10)
    s:close()
  end)
  hotline.spawn(function()
    for _ = 1, 10 do ticks = ticks + 1; hotline.sleep(0.01) end
  end)
  assert(hotline.run())
  show("method", peer)
  show("reverse", hotline.getnameinfo("127.0.0.9"))
]]

describe("the default resolver and /etc/resolv.conf", function()
  it("honours nameserver, search, ndots, timeout and attempts", function()
    if not can_unshare() then
      pending("needs root, unshare -mn and ip (a private /etc/resolv.conf): skipped")
      return
    end
    local conf, script, out, log, err = os.tmpname(), os.tmpname() .. ".lua", os.tmpname(),
      os.tmpname(), os.tmpname()
    write(conf, "nameserver 127.0.0.1\nsearch example.test\n"
      .. "options ndots:2 timeout:1 attempts:2\n")
    write(script, child)
    local rules = table.concat({
      quote("www.example.test=a:127.0.0.2"),
      quote("a.b.example.test=a:127.0.0.3"),
      quote("a.b=a:127.0.0.4"),
      quote("srv.test=a:127.0.0.1"),
      quote("slowsrv.test=a:127.0.0.1,delay:0.3"),
      quote("silent.test=silent"),
      quote("9.0.0.127.in-addr.arpa=ptr:nine.test"),
    }, " ")
    local ready = os.tmpname()
    local command = table.concat({
      "ip link set lo up || exit 97",
      string.format("python3 spec/tools/dnsserver.py --port 53 %s >%s 2>%s &", rules, ready, log),
      "dns=$!",
      string.format("i=0; while [ ! -s %s ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done",
        ready),
      string.format("mount --bind %s /etc/resolv.conf || exit 98", conf),
      string.format("env %s %s %s >%s 2>%s; rc=$?", helpers.env, helpers.lua, script, out, err),
      "kill $dns; wait $dns 2>/dev/null; exit $rc",
    }, "\n")
    local ok = os.execute("timeout 60 unshare -mn sh -c " .. quote(command))
    local results = {}
    for line in (helpers.slurp(out) or ""):gmatch("[^\n]+") do
      local key, value = line:match("^(%S+) ?(.*)$")
      results[key] = value
    end
    local questions = helpers.slurp(log) or ""
    local stderr = helpers.slurp(err) or ""
    for _, name in ipairs({ conf, script, out, log, err, ready }) do os.remove(name) end
    assert.is_true(ok == true or ok == 0, stderr)
    assert.equal("127.0.0.2", results.search)        -- www + the search domain
    assert.equal("127.0.0.3", results.ndots)         -- 1 dot < ndots 2: search list first
    assert.equal("127.0.0.4", results.absolute)      -- a trailing dot: as it is
    assert.equal("127.0.0.1", results.localhost)     -- /etc/hosts, no question asked
    assert.equal("127.0.0.1", results.connect)
    assert.equal("127.0.0.1 true", results.method)   -- s:connect(name) did not block
    assert.equal("nine.test", results.reverse)
    local code, took = results.silent:match("^(%S+) ([%d.]+)$")
    assert.equal("EAI_AGAIN", code)
    took = tonumber(took)
    assert.is_true(took >= 1.8 and took < 3.5, "silent took " .. took)  -- timeout 1 x attempts 2
    local _, asked = questions:gsub("silent%.test A\n", "")
    assert.equal(2, asked)
    assert.is_nil(questions:find("localhost", 1, true))
  end)
end)
