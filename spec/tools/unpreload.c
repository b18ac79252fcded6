/* spec/tools/unpreload.c: an LD_PRELOAD library for make check-asan.
 * Listed after the sanitizer runtime, it removes LD_PRELOAD from the
 * environment as the interpreter starts: the interpreter keeps the runtime
 * it was started with, but the commands the specs run (sh, ps, ls) do
 * not inherit it (procps' ps deadlocks under a preloaded ASan runtime).
 * Lua child scripts get it back through HOTLINE_LUA (sanitized-lua.sh).
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200112L
#include <stdlib.h>

static void unpreload(void) __attribute__((constructor));

static void unpreload(void) {
  unsetenv("LD_PRELOAD");
}
