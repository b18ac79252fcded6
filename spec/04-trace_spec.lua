-- hotline.trace and HOTLINE_TRACE: one line per system call on stderr.
local helpers = require "spec.helpers"

local script = [[
  local hotline = require "hotline"
  %s
  local l = assert(hotline.listen("127.0.0.1", 0))
  local _, port = l:getsockname()
  l:close()
  local c = hotline.socket()
  print(c:connect("127.0.0.1", port))
  c:close()
]]

describe("tracing", function()
  it("is off by default", function()
    local ok, _, out, err = helpers.run_source(script:format(""))
    assert.is_true(ok)
    assert.matches("connection refused", out)
    assert.equal("", err)
  end)

  it("hotline.trace(true) prints each call with fd, arguments, result and time", function()
    local ok, _, _, err = helpers.run_source(script:format("assert(hotline.trace(true) == false)"))
    assert.is_true(ok)
    local pid = err:match("^%[hotline (%d+)%]")
    assert.truthy(pid)
    for _, pattern in ipairs({
      "socket%(inet, stream%) = (%d+)  [%d.]+ ms",
      "bind%(fd=%d+, 127%.0%.0%.1:0%) = 0",
      "listen%(fd=%d+, backlog=%d+%) = 0",
      "connect%(fd=%d+, 127%.0%.0%.1:%d+%) = %-1 EINPROGRESS",
      "connect%(fd=%d+, finished%) = %-1 ECONNREFUSED",
      "close%(fd=%d+%) = 0",
    }) do
      assert.matches("%[hotline " .. pid .. "%] " .. pattern, err)
    end
  end)

  it("HOTLINE_TRACE=1 turns it on from the environment", function()
    local ok, _, _, err = helpers.run_source(script:format(""), "HOTLINE_TRACE=1")
    assert.is_true(ok)
    assert.matches("%] connect%(fd=%d+, finished%) = %-1 ECONNREFUSED", err)
  end)

  it("hotline.trace(false) turns it off again", function()
    local ok, _, _, err = helpers.run_source(script:format("hotline.trace(false)"),
      "HOTLINE_TRACE=1")
    assert.is_true(ok)
    assert.equal("", err)
  end)
end)
