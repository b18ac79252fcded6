/* spec/tools/fuzz_addr.c: libFuzzer target for address parsing
 * (csrc/hl_addr.c): hl_addr_check reads a host and a port (inet, inet6)
 * or a path (unix) from the Lua stack, so the harness runs it in a real
 * Lua 5.4 state, under lua_pcall, with host, path and port made from the
 * input: any bytes, NULs included, and ports that are integers, doubles
 * of any bit pattern (NaN, infinities, fractions), strings or nil. A raise
 * is a fine answer; a crash, an overflow or undefined behaviour is not.
 * What parses is printed back (hl_addr_format, hl_addr_push) and checked.
 * A second mode hands hl_addr_format and hl_addr_push raw socket
 * addresses of every length the kernel may return.
 * Names never reach a resolver: this file defines getaddrinfo, which the
 * linker prefers to libc's, and answers from the name's first byte.
 * SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hl_addr.h"
#include "hl_error.h"
#include "lauxlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res);
void freeaddrinfo(struct addrinfo *ai);

typedef struct answer {
  struct addrinfo ai;
  struct sockaddr_storage ss;
} answer;

/* The stand-in resolver: a name starting with an even byte resolves to
 * the loopback address of the asked family, an odd one does not (and
 * every 7th byte fails as EAI_SYSTEM, with errno set). */
int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res) {
  answer *a;
  int family = hints && hints->ai_family == AF_INET6 ? AF_INET6 : AF_INET;
  unsigned char first = node ? (unsigned char)node[0] : 0;
  unsigned port = service ? (unsigned)strtoul(service, NULL, 10) : 0;
  if (first % 7 == 3) {
    errno = ENOMEM;
    return EAI_SYSTEM;
  }
  if (first & 1) return EAI_NONAME;
  a = calloc(1, sizeof *a);
  if (a == NULL) return EAI_MEMORY;
  a->ai.ai_family = family;
  a->ai.ai_socktype = hints ? hints->ai_socktype : SOCK_STREAM;
  a->ai.ai_addr = (struct sockaddr *)&a->ss;
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short)port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->ai.ai_addrlen = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((unsigned short)port);
    sin6->sin6_addr = in6addr_loopback;
    a->ai.ai_addrlen = sizeof *sin6;
  }
  *res = &a->ai;
  return 0;
}

void freeaddrinfo(struct addrinfo *ai) {
  free(ai);   /* the answer starts with its addrinfo */
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_addr: %s\n", what);
    abort();
  }
}

static int family, passive;
static const hl_ctx ctx = {0};

/* Lua: check(host_or_path, port) -> what hl_addr_push gives back, or the
 * failure tuple; raises on misuse. */
static int check_address(lua_State *L) {
  hl_sockaddr addr;
  char text[160];
  memset(&addr, 0, sizeof addr);
  if (hl_addr_check(L, &ctx, 1, family, SOCK_STREAM, passive, &addr) != 0) {
    check(lua_isnil(L, -3) && lua_isstring(L, -2) && lua_isstring(L, -1),
          "a failure that is not nil, message, code");
    return 3;
  }
  check(addr.len > 0 && addr.len <= sizeof addr.ss, "an impossible length");
  check(addr.ss.ss_family == family, "the wrong family");
  hl_addr_format(text, sizeof text, (struct sockaddr *)&addr.ss, addr.len);
  check(strlen(text) < sizeof text, "format overran");
  return hl_addr_push(L, (struct sockaddr *)&addr.ss, addr.len);
}

/* Raw mode: bytes as a socket address of a length the kernel may give. */
static void raw_address(lua_State *L, const uint8_t *data, size_t size) {
  struct sockaddr_storage ss;
  char text[160];
  socklen_t len = (socklen_t)(size > sizeof ss ? sizeof ss : size);
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, data, len);
  if (ss.ss_family == AF_UNIX && len > sizeof(struct sockaddr_un))
    len = sizeof(struct sockaddr_un);
  hl_addr_format(text, sizeof text, (struct sockaddr *)&ss, len);
  check(strlen(text) < sizeof text, "format overran");
  lua_settop(L, 0);
  hl_addr_push(L, (struct sockaddr *)&ss, len);
  lua_settop(L, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  static const int families[] = {AF_INET, AF_INET6, AF_UNIX};
  unsigned mode;
  double d;
  if (L == NULL) L = luaL_newstate();
  if (size < 1) return 0;
  mode = data[0];
  data++;
  size--;
  if ((mode & 3) == 3) {
    raw_address(L, data, size);
    return 0;
  }
  family = families[mode & 3];
  passive = (mode >> 2) & 1;
  lua_settop(L, 0);
  lua_pushcfunction(L, check_address);
  switch ((mode >> 3) & 7) {    /* the port, from the first bytes */
    case 0:
      lua_pushinteger(L, size >= 2 ? (lua_Integer)(data[0] | data[1] << 8)
                                   : 0);
      break;
    case 1:
      if (size >= 8) {
        memcpy(&d, data, sizeof d);
        lua_pushnumber(L, d);
      } else {
        lua_pushnumber(L, -1.5);
      }
      break;
    case 2:
      lua_pushlstring(L, (const char *)data, size < 6 ? size : 6);
      break;
    case 3:
      lua_pushnil(L);
      break;
    default:
      lua_pushinteger(L, (lua_Integer)(mode * 997));
  }
  lua_pushlstring(L, (const char *)data, size);   /* the host or path */
  lua_insert(L, 2);
  (void)lua_pcall(L, 2, LUA_MULTRET, 0);
  lua_settop(L, 0);
  return 0;
}
