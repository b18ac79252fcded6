/* hl_addr.h: socket addresses between Lua and C.
 * Lua names an address as host, port (inet, inet6) or as a path (unix).
 * Numeric hosts are parsed without the resolver. A name given to a
 * socket method goes through the system's getaddrinfo, which blocks (as
 * it does in LuaSocket); hotline.getaddrinfo and hotline.connect resolve
 * names without blocking (hl_resolve.c) and hand these calls numbers.
 * SPDX-License-Identifier: MIT */
#ifndef HL_ADDR_H
#define HL_ADDR_H

#include <netdb.h>
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

/* Reads the arguments of getaddrinfo at arg (host), arg + 1 (port or
 * service name) and arg + 2 (hints: family, socktype) into hints and
 * service; raises on misuse. Returns the host, or NULL for "*" and nil
 * (then hints asks for the wildcard address). */
const char *hl_addr_checkquery(lua_State *L, int arg, struct addrinfo *hints,
                               char *service, size_t size);
/* Pushes the system's getaddrinfo answer as a list of entries, or nil,
 * message, "EAI_*"; returns how many values. */
int hl_addr_pushinfo(lua_State *L, const hl_ctx *ctx, const char *host,
                     const char *service, const struct addrinfo *hints);
/* Pushes {family=, host=, port=, socktype=} for sa. */
void hl_addr_pushentry(lua_State *L, const struct sockaddr *sa, socklen_t len,
                       int socktype);

/* Whether host is in the "invalid" domain, which RFC 6761 (6.4) keeps out
 * of every nameserver: the answer is no such name, at once, unasked (by
 * the system's resolver too, which does not know it). */
int hl_addr_isinvalid(const char *host);

int hl_addr_checkfamily(lua_State *L, int arg, const char *def);
const char *hl_addr_familyname(int family);

void hl_addr_open(lua_State *L);

#endif
