# hotline: build the C module, run the specs, lint, install.
#   make               build hotline.core for $(LUA)
#   make test          specs on every installed Lua of 5.1-5.4 and LuaJIT
#   make LUA=lua5.1 test   specs on one
#   make demo          the government-hotline demo
#   make lint | install | clean
# The first three install missing Debian packages themselves (.ci/deps).

LUAS := lua5.1 lua5.2 lua5.3 lua5.4 luajit
LUA ?= $(firstword $(foreach l,lua5.4 luajit lua5.3 lua5.2 lua5.1 lua,\
         $(if $(shell command -v $(l) 2>/dev/null),$(l))) lua5.4)

# "5.1" .. "5.4", or "jit": LuaJIT has its own headers and build directory
LUA_VERSION ?= $(shell $(LUA) -e 'print(jit and "jit" or _VERSION:match("%d+%.%d+"))' 2>/dev/null)
LUA_INCDIR ?= $(if $(filter jit,$(LUA_VERSION)),/usr/include/luajit-2.1,/usr/include/lua$(LUA_VERSION))
LUA_ABI := $(if $(filter jit,$(LUA_VERSION)),5.1,$(LUA_VERSION))
PREFIX ?= /usr/local
LUA_LMOD ?= $(PREFIX)/share/lua/$(LUA_ABI)
LUA_CMOD ?= $(PREFIX)/lib/lua/$(LUA_ABI)

BUILD := build/$(LUA_VERSION)
LIB := $(BUILD)/hotline/core.so
SRCS := $(wildcard csrc/*.c)
OBJS := $(SRCS:csrc/%.c=$(BUILD)/obj/%.o)
LUA_FILES := $(shell find lua -name '*.lua')

# warnings modelled on Lua's and LPeg's makefiles
WARN := -Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wredundant-decls \
        -Wdisabled-optimization -Wmissing-prototypes -Wmissing-declarations \
        -Wstrict-prototypes -Wdeclaration-after-statement -Wpointer-arith
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c99 -fPIC -fvisibility=hidden -D_GNU_SOURCE $(WARN) \
              $(CFLAGS) -I$(LUA_INCDIR) -MMD -MP
# TLS on OpenSSL 3 (make TLS=0 builds without it) and names on c-ares
TLS ?= 1
ifeq ($(TLS),0)
ALL_CFLAGS += -DHL_NO_TLS
else
LIBS += -lssl -lcrypto
endif
LIBS += -lcares
ifeq ($(POLLER),poll)
ALL_CFLAGS += -DHL_NO_EPOLL
endif
ifeq ($(shell uname -s),Darwin)
LIBFLAG := -bundle -undefined dynamic_lookup
else
LIBFLAG := -shared
endif

BUSTED := $(shell command -v busted 2>/dev/null || echo /usr/bin/busted)

.PHONY: all build deps test test-all test-one demo lint install clean clean-build

all: deps
	@$(MAKE) --no-print-directory build

deps:
	@sh .ci/deps build

build: $(LIB)

$(LIB): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/obj/%.o: csrc/%.c
	@test -f $(LUA_INCDIR)/lua.h || { echo "no lua.h in $(LUA_INCDIR): set LUA_INCDIR" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

-include $(OBJS:.o=.d)

# Without LUA=... on the command line: every Lua of LUAS that is installed.
TEST_LUAS = $(if $(filter command line,$(origin LUA)),$(LUA),\
              $(foreach l,$(LUAS),$(if $(shell command -v $(l) 2>/dev/null),$(l))))

test:
	@sh .ci/deps test
	@$(MAKE) --no-print-directory test-all

test-all:
	@mkdir -p build; luas="$(TEST_LUAS)"; [ -n "$$luas" ] || { echo "no Lua found" >&2; exit 1; }; \
	passed=0; failed=0; skipped=0; bad=""; \
	for l in $$luas; do \
	  echo "== specs on $$l"; \
	  $(MAKE) --no-print-directory LUA=$$l test-one > build/test-$$l.log 2>&1; rc=$$?; \
	  cat build/test-$$l.log; \
	  line=$$(grep -E '^[0-9]+ success' build/test-$$l.log | tail -n 1); \
	  set -- $$(echo "$$line" | tr -cs '0-9' ' '); \
	  passed=$$((passed + $${1:-0})); failed=$$((failed + $${2:-0} + $${3:-0})); \
	  skipped=$$((skipped + $${4:-0})); \
	  if [ $$rc -ne 0 ] || [ -z "$$line" ]; then bad="$$bad $$l"; fi; \
	done; \
	echo "specs on:$$(echo $$luas)"; \
	echo "$$passed passed, $$failed failed, $$skipped skipped"; \
	[ -z "$$bad" ] || { echo "failing on:$$bad" >&2; exit 1; }

test-one: build
	$(LUA) $(BUSTED) -o plainTerminal $(BUSTED_ARGS)

demo:
	@sh .ci/deps demo
	@$(MAKE) --no-print-directory -s build
	@$(LUA) lua/hotline/demo/run.lua

lint:
	luacheck lua spec examples $(wildcard bench/*.lua bench/servers)

install: build
	mkdir -p $(DESTDIR)$(LUA_CMOD)/hotline $(DESTDIR)$(LUA_LMOD)/hotline/demo
	cp $(LIB) $(DESTDIR)$(LUA_CMOD)/hotline/core.so
	cp lua/hotline/*.lua $(DESTDIR)$(LUA_LMOD)/hotline/
	cp lua/hotline/demo/*.lua $(DESTDIR)$(LUA_LMOD)/hotline/demo/
	mkdir -p $(DESTDIR)$(LUA_LMOD)/hotline/luasocket
	cp lua/hotline/luasocket/*.lua $(DESTDIR)$(LUA_LMOD)/hotline/luasocket/

clean:
	rm -rf build

clean-build:
	rm -rf $(BUILD)

-include bench/bench.mk
-include spec/tools/checks.mk
