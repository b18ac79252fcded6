-- hotline.demo.cli: the command lines of the demo's programs.
--
-- cli.parse(args, spec) reads "--name value", "--name=value" and flags
-- into a table, and collects the other words in order; "--" ends the
-- options. spec maps each option name to its kind: "flag", "string",
-- "port", "seconds" or "count". Mistakes come back as a message, never
-- raised, so a program can print its usage and exit 2.

local cli = {}

local checks = {
  string = function(v) return v end,
  port = function(v)
    local n = tonumber(v)
    if n and n >= 0 and n <= 65535 and n == math.floor(n) then return n end
    return nil, "a port from 0 to 65535"
  end,
  seconds = function(v)
    local n = tonumber(v)
    if n and n >= 0 then return n end
    return nil, "a number of seconds"
  end,
  count = function(v)
    local n = tonumber(v)
    if n and n >= 1 and n == math.floor(n) then return n end
    return nil, "a whole number of at least 1"
  end,
}

-- -> options, words | nil, message
function cli.parse(args, spec)
  local opts, words, i = {}, {}, 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for j = i + 1, #args do words[#words + 1] = args[j] end
      break
    end
    local name, value = a:match("^%-%-([%w-]+)=(.*)$")
    name = name or a:match("^%-%-([%w-]+)$") or (a == "-h" and "help")
    if not name then
      words[#words + 1] = a
    else
      local kind = spec[name]
      if not kind then return nil, "unknown option --" .. name end
      if kind == "flag" then
        if value then return nil, "--" .. name .. " takes no value" end
        opts[name] = true
      else
        if not value then
          i = i + 1
          value = args[i]
          if value == nil then return nil, "--" .. name .. " needs a value" end
        end
        local v, wanted = checks[kind](value)
        if v == nil then
          return nil, "--" .. name .. " wants " .. wanted .. ", not '" .. value .. "'"
        end
        opts[name] = v
      end
    end
    i = i + 1
  end
  return opts, words
end

-- "always", "never" or "auto", from --color / --no-color.
function cli.color_choice(opts)
  if opts["no-color"] then return "never" end
  if opts.color then return "always" end
  return "auto"
end

return cli
