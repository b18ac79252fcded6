-- Every ```lua block of README.md runs, as its own process, and succeeds:
-- the documentation cannot drift from the code unnoticed.
local helpers = require "spec.helpers"

local function lua_blocks(text)
  local blocks = {}
  for block in text:gmatch("\n```lua\n(.-)\n```") do blocks[#blocks + 1] = block end
  return blocks
end

describe("README.md", function()
  local blocks = lua_blocks(assert(helpers.slurp("README.md")))

  it("has examples", function()
    assert.is_true(#blocks >= 8)
  end)

  for i, block in ipairs(blocks) do
    local title = block:match("\n%-%- ([^\n]+)") or block:match("[^\n]+$")
    it("example " .. i .. " runs (" .. title .. ")", function()
      local ok, code, out, err = helpers.run_source(block)
      assert.equal("", err)
      assert.is_true(ok, "exit " .. tostring(code) .. "\n" .. out)
      assert.not_equal("", out)
    end)
  end
end)
