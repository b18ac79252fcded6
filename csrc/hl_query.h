/* hl_query.h: one lookup (getaddrinfo or getnameinfo) on a c-ares channel
 * of its own, made by hl_resolve.c from a resolver's saved options. The
 * query never waits; its Lua methods say what to wait for and take back
 * what is ready (see hl_resolve.h):
 *   q:start(), q:wants(list) -> n, seconds, q:process([fd, want]),
 *   q:result() -> done, answer..., q:cancel(), q:closed() -> fd...
 * Its __gc cancels it, which closes its sockets.
 * SPDX-License-Identifier: MIT */
#ifndef HL_QUERY_H
#define HL_QUERY_H

#include <ares.h>

#include "hl_addr.h"

#define HL_QUERY_MT "hotline.query"

enum { HL_Q_ADDRINFO, HL_Q_NAMEINFO };

typedef struct hl_query {
  const char *tag;
  ares_channel ch;           /* NULL once cancelled */
  int kind;
  int done, status;          /* the outcome, once done */
  int again;                 /* an attempt timed out: start the next */
  int left;                  /* attempts left, this one included */
  int port;                  /* reported in each address */
  int trace;
  double t0;                 /* when this attempt started, if tracing */
  struct ares_addrinfo_hints hints;
  struct ares_addrinfo *ai;  /* getaddrinfo's answer */
  char *name;                /* getnameinfo's answer */
  hl_sockaddr addr;          /* getnameinfo's question */
  int *closed;               /* descriptors c-ares closed, not yet told */
  int nclosed, capclosed;
  char host[1];              /* the name asked for (allocated longer) */
} hl_query;

/* Pushes a query for host (no channel yet); attempts: how many times a
 * timed-out lookup is tried in all. */
hl_query *hl_query_push(lua_State *L, const hl_ctx *ctx, const char *host,
                        int kind, int attempts);
/* Gives q its channel, made from opts (and servers, with their ports);
 * returns ARES_SUCCESS or c-ares' status (then q has no channel). */
int hl_query_channel(hl_query *q, const struct ares_options *opts,
                     int optmask, const struct ares_addr_port_node *servers);
/* Pushes nil, message, "EAI_*" for c-ares' status; returns 3. */
int hl_query_pushstatus(lua_State *L, int status);
void hl_query_open(lua_State *L);

#endif
