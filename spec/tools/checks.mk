# spec/tools/checks.mk: the hardening checks (docs/RELIABILITY.md), for
# the top Makefile to -include. LUA=... picks the interpreter, as for
# test-one; BUSTED_ARGS narrows the specs.
#   make check-asan       every spec against an ASan + UBSan build of the
#                         module (build/asan-<version>/): zero reports
#   make check-valgrind   every spec under valgrind memcheck: zero errors and
#                         no definite leak
#   make check-eagain     every spec with every other socket call refusing
#                         (EAGAIN) and one byte per transfer (mockeagain.c)
#   make check-faults     the fault specs only (spec/4*_spec.lua)
#   make fuzz             each libFuzzer target for FUZZ_SECONDS (60)
# The tools come from Debian: gcc's libasan, valgrind, clang with
# libclang-rt-14-dev (spec/tools/ci-hardening.sh installs them).

.PHONY: check-asan check-valgrind check-eagain check-faults fuzz fuzz-build

TOOLS_DIR := build/tools
FAULT_SPECS := $(sort $(wildcard spec/4*_spec.lua))
SPEC_RUN = $(BUSTED) -o plainTerminal

# --- AddressSanitizer + UndefinedBehaviorSanitizer --------------------
# The interpreter is not instrumented, so the runtime is preloaded into
# it; unpreload.so then takes LD_PRELOAD out of the environment, so that
# the commands the specs run (sh, ps, ls) do not inherit it, and
# sanitized-lua.sh gives it back to the Lua scripts they start.
# LeakSanitizer is on for PUC Lua, whose heap is malloc's and so visible
# to it. LuaJIT keeps its objects in memory it maps itself, which the
# leak checker does not scan: a C buffer owned by a live userdata would
# look leaked, so leaks are checked on PUC Lua (and by check-valgrind).
SAN_CC ?= gcc
SAN_BUILD := build/asan-$(LUA_VERSION)
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer \
  -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
SAN_LOG := $(abspath $(SAN_BUILD))/log
SAN_PRELOAD = $(shell $(SAN_CC) -print-file-name=libasan.so) \
              $(abspath $(TOOLS_DIR)/unpreload.so)
SAN_LEAKS := $(if $(filter jit,$(LUA_VERSION)),0,1)

check-asan: $(TOOLS_DIR)/unpreload.so
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) CC=$(SAN_CC) \
	  CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" build
	@rm -rf $(SAN_LOG); mkdir -p $(SAN_LOG)
	HOTLINE_CHECK=asan HOTLINE_BUILD=$(SAN_BUILD) \
	HOTLINE_LUA=$(abspath spec/tools/sanitized-lua.sh) HOTLINE_SAN_LUA=$(LUA) \
	HOTLINE_SAN_PRELOAD="$(SAN_PRELOAD)" \
	ASAN_OPTIONS=detect_leaks=$(SAN_LEAKS):halt_on_error=1:log_path=$(SAN_LOG)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(SAN_LOG)/ubsan \
	LD_PRELOAD="$(SAN_PRELOAD)" $(LUA) $(SPEC_RUN) $(BUSTED_ARGS); rc=$$?; \
	if [ -n "$$(ls $(SAN_LOG))" ]; then \
	  cat $(SAN_LOG)/*; echo "sanitizer reports in $(SAN_LOG)" >&2; exit 1; \
	fi; [ $$rc -eq 0 ] && echo "check-asan ($(LUA)): no sanitizer reports"

# --- valgrind memcheck -------------------------------------------------
# The whole suite, 10-20 times slower than natively (about a minute);
# child processes run natively. PUC Lua only: LuaJIT's string functions
# read whole words past the ends of strings, which memcheck reports.
VALGRIND := valgrind --tool=memcheck --leak-check=full \
  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  --error-exitcode=1 -q

check-valgrind: build
	@if [ "$(LUA_VERSION)" = jit ]; then \
	  echo "check-valgrind: use a PUC Lua (LUA=lua5.4), not LuaJIT" >&2; exit 1; fi
	HOTLINE_CHECK=valgrind $(VALGRIND) $(LUA) $(SPEC_RUN) $(BUSTED_ARGS)

# --- every other socket call says EAGAIN -------------------------------
MOCK := $(TOOLS_DIR)/mockeagain.so

check-eagain: build $(MOCK)
	LD_PRELOAD=$(abspath $(MOCK)) LUA_PATH='lua/?.lua;lua/?/init.lua;;' \
	  LUA_CPATH='$(BUILD)/?.so;;' $(LUA) spec/tools/mockeagain-probe.lua
	HOTLINE_CHECK=eagain LD_PRELOAD=$(abspath $(MOCK)) $(LUA) $(SPEC_RUN) $(BUSTED_ARGS)

check-faults: build
	$(LUA) $(SPEC_RUN) $(or $(BUSTED_ARGS),$(FAULT_SPECS))

$(TOOLS_DIR)/%.so: spec/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -shared -fPIC -O2 -g $(WARN) -o $@ $< -ldl

# --- libFuzzer ---------------------------------------------------------
# fuzz_rbuf: the receive buffer against a model; fuzz_addr: host, port and
# path parsing (hl_addr_check, through Lua 5.4); fuzz_read: read formats
# and maxline over bytes from a socket. Crashes land in build/fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -std=c99 -g -O1 -D_GNU_SOURCE $(WARN) -Icsrc -I/usr/include/lua5.4 \
  -fsanitize=fuzzer,address,undefined,float-cast-overflow \
  -fno-sanitize-recover=all
FUZZ_TARGETS := fuzz_rbuf fuzz_addr fuzz_read
FUZZ_SRCS_fuzz_rbuf := csrc/hl_rbuf.c
FUZZ_SRCS_fuzz_addr := csrc/hl_addr.c csrc/hl_error.c csrc/hl_trace.c
FUZZ_SRCS_fuzz_read := $(SRCS)
FUZZ_LIBS_fuzz_addr := -llua5.4 -lm $(LIBS)
FUZZ_LIBS_fuzz_read := -llua5.4 -lm $(LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

$(FUZZ_DIR)/%: spec/tools/%.c $(SRCS) $(wildcard csrc/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	  echo "== $$t for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1 $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/$$t- \
	    $(FUZZ_DIR)/corpus-$$t 2>$(FUZZ_DIR)/$$t.log || \
	    { tail -n 60 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov:' \
	    $(FUZZ_DIR)/$$t.log | tail -n 3; \
	done
