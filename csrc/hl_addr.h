/* hl_addr.h: socket addresses between Lua and C.
 * Lua names an address as host, port (inet, inet6) or as a path (unix).
 * Numeric hosts are parsed without the resolver; names go through
 * getaddrinfo, which blocks (as it does in LuaSocket): resolve names ahead
 * of time where that matters.
 * SPDX-License-Identifier: MIT */
#ifndef HL_ADDR_H
#define HL_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "hl_trace.h"

typedef struct hl_sockaddr {
  struct sockaddr_storage ss;
  socklen_t len;
} hl_sockaddr;

/* Reads the address at arg (host, port for inet and inet6, a path for
 * unix) into addr. Raises on misuse (a missing host, a bad port); returns
 * 0 on success, or pushes nil, message, code and returns 3 when the host
 * cannot be resolved or the path does not fit. passive makes "*" the
 * wildcard address, for bind. */
int hl_addr_check(lua_State *L, const hl_ctx *ctx, int arg, int family,
                  int socktype, int passive, hl_sockaddr *addr);

/* Pushes host, port (or the path) of sa; returns how many values. */
int hl_addr_push(lua_State *L, const struct sockaddr *sa, socklen_t len);

/* "127.0.0.1:80", "[::1]:80", "/tmp/x.sock" or "(unnamed)". */
void hl_addr_format(char *buf, size_t size, const struct sockaddr *sa,
                    socklen_t len);

int hl_addr_checkfamily(lua_State *L, int arg, const char *def);
const char *hl_addr_familyname(int family);

void hl_addr_open(lua_State *L);

#endif
