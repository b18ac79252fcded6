std = "min"
read_globals = { "jit" }   -- set by LuaJIT only
max_line_length = 100
files["spec"] = { std = "+busted" }
exclude_files = { "build", ".tree" }
files["bench/run.lua"] = { std = "lua54" }   -- the harness runs on 5.4 only
