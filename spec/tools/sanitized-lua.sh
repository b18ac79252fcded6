#!/bin/bash
# spec/tools/sanitized-lua.sh: the interpreter make check-asan gives the
# specs as HOTLINE_LUA, for the Lua scripts they start as processes:
# $HOTLINE_SAN_LUA with $HOTLINE_SAN_PRELOAD preloaded, as the busted
# process itself is (see unpreload.c). exec -a keeps this script's path as
# argv[0], so a script that starts more Lua with its own interpreter
# (arg[-1], as lua/hotline/demo/run.lua does) comes back here too.
LD_PRELOAD="$HOTLINE_SAN_PRELOAD" exec -a "$0" "$HOTLINE_SAN_LUA" "$@"
