std = "min"
read_globals = { "jit" }   -- set by LuaJIT only
max_line_length = 100
files["spec"] = { std = "+busted" }
exclude_files = { "build", ".tree" }
