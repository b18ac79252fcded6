/* hotline.c: luaopen_hotline_core, the entry of the C module. It builds
 * the module context and lets each unit add its functions.
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "hl_addr.h"
#include "hl_error.h"
#include "hl_io.h"
#include "hl_poll.h"
#include "hl_process.h"
#include "hl_resolve.h"
#include "hl_socket.h"
#include "hl_tls.h"
#include "hl_wait.h"

#if defined(__GNUC__)
#define HL_EXPORT __attribute__((visibility("default")))
#else
#define HL_EXPORT
#endif

/* hotline.core.trace([on]) -> whether tracing was on. */
static int lib_trace(lua_State *L) {
  hl_ctx *ctx = hl_ctx_get(L);
  int was = ctx->trace;
  if (!lua_isnone(L, 1)) ctx->trace = lua_toboolean(L, 1);
  lua_pushboolean(L, was);
  return 1;
}

static const luaL_Reg core_funcs[] = {
  {"trace", lib_trace},
  {NULL, NULL}
};

HL_EXPORT int luaopen_hotline_core(lua_State *L);

HL_EXPORT int luaopen_hotline_core(lua_State *L) {
  const char *env = getenv("HOTLINE_TRACE");
  hl_ctx *ctx;
  lua_newtable(L);
  ctx = (hl_ctx *)hl_newuserdata(L, sizeof *ctx);
  ctx->trace = env != NULL && env[0] != '\0' && strcmp(env, "0") != 0;
  ctx->tls_bio = NULL;
  hl_register(L, core_funcs);
  hl_error_open(L, -2);
  hl_addr_open(L);
  hl_socket_open(L);
  hl_io_open(L);
  hl_poll_open(L);
  hl_wait_open(L);
  hl_process_open(L);
  hl_resolve_open(L);
  hl_tls_open(L);
  lua_pop(L, 1);
  return 1;
}
