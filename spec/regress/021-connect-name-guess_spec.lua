-- Bug: s:connect(host, port) sent host to the resolver without blocking
-- only when it guessed a name (a letter, no colon, the port a number);
-- anything else, a port given as a string among them, went to the
-- system's getaddrinfo, which blocks the whole process. Every host that is
-- not an address written out is looked up without blocking now.
local hotline = require "hotline"
local helpers = require "spec.helpers"

describe("s:connect with a name", function()
  it("looks it up without blocking when the port is a string", function()
    local l = assert(hotline.listen("127.0.0.1", 0))
    local _, port = l:getsockname()
    local ok, _, _, err = helpers.run_source(string.format([[
      local hotline = require "hotline"
      local s = assert(hotline.socket("inet"))
      s:settimeout(5)
      assert(s:connect("localhost", "%d"))
      assert(s:getpeername() == "127.0.0.1")
      s:close()
    ]], port), "HOTLINE_TRACE=1")
    l:close()
    assert.is_true(ok, err)
    assert.matches("%] ares_getaddrinfo%(localhost, " .. port .. "%)", err)
    assert.not_matches("%] getaddrinfo%(localhost", err)
  end)

  it("still treats addresses, '*' and NUL bytes as before", function()
    local core = require "hotline.core"
    assert.is_false(core.isname("127.0.0.1"))
    assert.is_false(core.isname("::1"))
    assert.is_false(core.isname("*"))
    assert.is_false(core.isname("a\0b"))
    assert.is_true(core.isname("[::1]"))
    assert.is_true(core.isname("1-2.test"))
    local s = assert(hotline.socket("inet"))
    assert.has_error(function() s:connect("a\0b", 80) end)
    s:close()
  end)
end)
