# bench/bench.mk: the echo-server benchmarks (bench/README.md), included
# by the top-level Makefile.
#   make bench            full matrix -> bench/RESULTS.md, bench/ratios.svg
#   make bench-quick      the same, short (1 run of 1 s per row, ~1.5 min)
#   make bench-selftest   each server ~1 s, every echoed byte checked (CI)
#   make bench-deps       the Debian packages the bench uses
# BENCH_ARGS passes options to bench/run.lua, e.g.
#   make bench BENCH_ARGS="--reps 5 --rows c,hotline --scenarios churn"

BENCH_CC ?= $(or $(CC),cc)
BENCH_CFLAGS ?= -std=c99 -O2 -Wall -Wextra
BENCH_LUA ?= lua5.4
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-selftest bench-deps bench-bins \
        bench-build-hotline bench-clean

bench/bin/loadgen: bench/loadgen.c
	@mkdir -p bench/bin
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ bench/loadgen.c

bench/bin/c_echo: bench/servers/c_echo.c
	@mkdir -p bench/bin
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ bench/servers/c_echo.c

bench-bins: bench/bin/loadgen bench/bin/c_echo

# hotline for both Lua versions of the matrix
bench-build-hotline:
	$(MAKE) LUA=lua5.4 && $(MAKE) LUA=luajit

# A hotline that does not build shows as FAILED rows, not as no results.
bench: bench-deps bench-bins
	@$(MAKE) --no-print-directory bench-build-hotline || \
	  echo "bench: hotline did not build; its rows will show FAILED" >&2
	@$(BENCH_LUA) bench/run.lua --full $(BENCH_ARGS) || \
	  { rc=$$?; $(BENCH_LUA) bench/run.lua --cleanup; exit $$rc; }

bench-quick: bench-deps bench-bins
	@$(MAKE) --no-print-directory bench-build-hotline || \
	  echo "bench: hotline did not build; its rows will show FAILED" >&2
	@$(BENCH_LUA) bench/run.lua --quick $(BENCH_ARGS) || \
	  { rc=$$?; $(BENCH_LUA) bench/run.lua --cleanup; exit $$rc; }

bench-selftest: bench-deps bench-bins bench-build-hotline
	@$(BENCH_LUA) bench/run.lua --selftest $(BENCH_ARGS) || \
	  { rc=$$?; $(BENCH_LUA) bench/run.lua --cleanup; exit $$rc; }

bench-deps:
	@sh .ci/deps bench

bench-clean:
	rm -rf bench/bin bench/out

# Tasks working together (bench/TASKS.md): channel ping-pong against a bare
# coroutine pair and cqueues conditions, spawn + join, and the chat
# example's fan-out against a C ceiling, on lua5.4 and LuaJIT.
.PHONY: bench-tasks
bench/bin/c_chat: bench/servers/c_chat.c
	@mkdir -p bench/bin
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ bench/servers/c_chat.c

bench-tasks: bench/bin/c_chat bench-build-hotline
	@for l in lua5.4 luajit; do $$l bench/tasks.lua 200000; done
	@for l in lua5.4 luajit; do $$l bench/chat_fanout.lua hotline 1000 200; done
	@lua5.4 bench/chat_fanout.lua "bench/bin/c_chat 0" 1000 200

# names: lookups/s (hotline vs luv vs LuaSocket) against a local DNS server
# and a serve's pingpong100 with lookups outstanding (bench/names.sh; root)
.PHONY: bench-names
bench-names: bench-bins
	@$(MAKE) --no-print-directory LUA=$(BENCH_LUA) build
	sh bench/names.sh $(BENCH_LUA)

# TLS rows (bench/tls/run.lua): C on OpenSSL, hotline serve{tls=}, LuaSec.
bench/bin/tlsload: bench/tls/tlsload.c
	@mkdir -p bench/bin
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ bench/tls/tlsload.c -lssl -lcrypto

bench/bin/c_tls_echo: bench/tls/c_tls_echo.c
	@mkdir -p bench/bin
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ bench/tls/c_tls_echo.c -lssl -lcrypto

.PHONY: bench-tls
bench-tls: bench/bin/tlsload bench/bin/c_tls_echo
	@$(MAKE) --no-print-directory LUA=lua5.4 build
	@$(BENCH_LUA) bench/tls/run.lua $(BENCH_ARGS)
