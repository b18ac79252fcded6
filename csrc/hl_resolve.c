/* hl_resolve.c: resolvers and lookups on c-ares (see hl_resolve.h).
 * SPDX-License-Identifier: MIT */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hl_addr.h"
#include "hl_error.h"
#include "hl_resolve.h"
#include "hl_socket.h"

typedef struct hl_resolver {
  const char *tag;
  struct ares_options opts;  /* saved from a channel made the usual way,
                                with tries = 1 (see hl_resolve.h) */
  int optmask;               /* 0 until opts holds something to free */
  struct ares_addr_port_node *servers;   /* with their ports */
  int attempts;
} hl_resolver;

enum { Q_ADDRINFO, Q_NAMEINFO };

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

static const char hl_resolver_tag[] = HL_RESOLVER_MT;
static const char hl_query_tag[] = HL_QUERY_MT;

static hl_resolver *check_resolver(lua_State *L, int idx) {
  hl_resolver *r = (hl_resolver *)hl_tagged(L, idx, hl_resolver_tag, sizeof *r);
  if (r == NULL) hl_typeerror(L, idx, HL_RESOLVER_MT);
  return r;
}

static hl_query *check_query(lua_State *L, int idx) {
  hl_query *q = (hl_query *)hl_tagged(L, idx, hl_query_tag, sizeof *q);
  if (q == NULL) hl_typeerror(L, idx, HL_QUERY_MT);
  return q;
}

/* c-ares' status as getaddrinfo's EAI_* code, so that both resolvers
 * fail with the same codes. */
static int gai_code(int status) {
  switch (status) {
    case ARES_ENOTFOUND: case ARES_ENODATA: case ARES_EBADNAME:
    case ARES_ENONAME:
      return EAI_NONAME;
    case ARES_ETIMEOUT: case ARES_ECONNREFUSED: case ARES_ESERVFAIL:
      return EAI_AGAIN;
    case ARES_ENOMEM: return EAI_MEMORY;
    case ARES_ESERVICE: return EAI_SERVICE;
    case ARES_EBADFAMILY: return EAI_FAMILY;
    default: return EAI_FAIL;
  }
}

static int push_status(lua_State *L, int status) {
  return hl_error_pushgai(L, gai_code(status), 0);
}

static const char *gai_name(int status) {
  switch (gai_code(status)) {
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_AGAIN: return "EAI_AGAIN";
    default: return "EAI_FAIL";
  }
}

/* Resolvers ------------------------------------------------------------ */

static int resolver__gc(lua_State *L) {
  hl_resolver *r = check_resolver(L, 1);
  if (r->optmask) ares_destroy_options(&r->opts);
  if (r->servers) ares_free_data(r->servers);
  r->optmask = 0;
  r->servers = NULL;
  return 0;
}

/* hotline.core.resolver([servers [, timeout [, attempts [, nofiles]]]])
 * -> resolver | nil, message, code. servers is c-ares' list,
 * "127.0.0.1:5353,[::1]:53" (nil: /etc/resolv.conf's), timeout the
 * seconds per try, attempts the tries per server; nofiles leaves
 * /etc/hosts out (the Lua layer reads a hosts file of its own). An
 * invalid server list raises. */
static int lib_resolver(lua_State *L) {
  const char *servers = luaL_optstring(L, 1, NULL);
  double timeout = luaL_optnumber(L, 2, -1);
  lua_Integer attempts = luaL_optinteger(L, 3, -1);
  int nofiles = lua_toboolean(L, 4), mask = 0, rc;
  struct ares_options o;
  ares_channel probe;
  hl_resolver *r = (hl_resolver *)hl_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r);
  r->tag = hl_resolver_tag;
  luaL_getmetatable(L, HL_RESOLVER_MT);
  lua_setmetatable(L, -2);
  memset(&o, 0, sizeof o);
  if (timeout > 0) {
    o.timeout = timeout * 1e3 >= INT_MAX / 2 ? INT_MAX / 2
                                              : (int)ceil(timeout * 1e3);
    mask |= ARES_OPT_TIMEOUTMS;
  }
  if (attempts > 0) {
    o.tries = attempts > 1000 ? 1000 : (int)attempts;
    mask |= ARES_OPT_TRIES;
  }
  if (nofiles) {
    o.lookups = (char *)"b";
    mask |= ARES_OPT_LOOKUPS;
  }
  rc = ares_init_options(&probe, &o, mask);
  if (rc != ARES_SUCCESS) return push_status(L, rc);
  if (servers != NULL &&
      (rc = ares_set_servers_ports_csv(probe, servers)) != ARES_SUCCESS) {
    ares_destroy(probe);
    return luaL_error(L, "invalid nameserver list '%s'", servers);
  }
  rc = ares_save_options(probe, &r->opts, &r->optmask);
  if (rc == ARES_SUCCESS) rc = ares_get_servers_ports(probe, &r->servers);
  ares_destroy(probe);
  if (rc != ARES_SUCCESS) return push_status(L, rc);
  r->attempts = r->opts.tries > 0 ? r->opts.tries : 1;
  r->opts.tries = 1;
  r->optmask |= ARES_OPT_SOCK_STATE_CB;
  return 1;
}

/* c-ares' sockets ------------------------------------------------------ */

/* hotline opens c-ares' sockets itself: non-blocking and close-on-exec in
 * one call, no SIGPIPE, and a UDP send that would block is tried again
 * (c-ares 1.18 gives the server up instead, "FIXME: Handle EAGAIN"). */
static ares_socket_t cares_socket(int af, int type, int protocol, void *ud) {
  int fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol), on = 1;
  (void)ud;
  if (fd >= 0 && type == SOCK_STREAM)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return fd < 0 ? ARES_SOCKET_BAD : fd;
}

static int cares_close(ares_socket_t fd, void *ud) {
  (void)ud;
  return close(fd);
}

static int cares_connect(ares_socket_t fd, const struct sockaddr *addr,
                         ares_socklen_t len, void *ud) {
  (void)ud;
  return connect(fd, addr, len);
}

static ares_ssize_t cares_recvfrom(ares_socket_t fd, void *buf, size_t len,
                                   int flags, struct sockaddr *from,
                                   ares_socklen_t *fromlen, void *ud) {
  ssize_t n;
  (void)ud;
  do n = recvfrom(fd, buf, len, flags, from, fromlen);
  while (n < 0 && errno == EINTR);
  return n;
}

static ares_ssize_t cares_sendv(ares_socket_t fd, const struct iovec *iov,
                                int iovcnt, void *ud) {
  struct msghdr msg;
  ssize_t n;
  int again = 0;
  (void)ud;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = (struct iovec *)iov;
  msg.msg_iovlen = (size_t)iovcnt;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && (errno == EINTR ||
                   ((errno == EAGAIN || errno == EWOULDBLOCK) && ++again < 4)));
  return n;
}

static const struct ares_socket_functions cares_functions = {
  cares_socket, cares_close, cares_connect, cares_recvfrom, cares_sendv
};

/* Queries -------------------------------------------------------------- */

/* c-ares opens and closes its sockets itself; before it closes one it
 * says (readable 0, writable 0). */
static void on_sock_state(void *data, ares_socket_t fd, int readable,
                          int writable) {
  hl_query *q = (hl_query *)data;
  int *grown;
  if (readable || writable) return;
  if (q->nclosed == q->capclosed) {
    grown = (int *)realloc(q->closed, (size_t)(q->capclosed * 2 + 4) *
                                          sizeof *grown);
    if (grown == NULL) return;
    q->closed = grown;
    q->capclosed = q->capclosed * 2 + 4;
  }
  q->closed[q->nclosed++] = (int)fd;
}

static void trace_attempt(hl_query *q, int status, int count) {
  const char *call = q->kind == Q_ADDRINFO ? "ares_getaddrinfo"
                                           : "ares_getnameinfo";
  if (!q->trace) return;
  if (status == ARES_SUCCESS)
    hl_trace_end(q->t0, call, -1, count, "", "%s, %d", q->host, q->port);
  else
    hl_trace_end(q->t0, call, -1, -1,
                 status == ARES_EDESTRUCTION ? "ECANCELED" : gai_name(status),
                 "%s, %d", q->host, q->port);
}

/* An attempt that timed out leaves the query to start the next one, once
 * c-ares has returned (not from inside its callback). */
static int attempt_over(hl_query *q, int status) {
  if (status == ARES_ETIMEOUT && q->left > 1 && q->ch != NULL) {
    trace_attempt(q, status, 0);
    q->left--;
    q->again = 1;
    return 0;
  }
  q->done = 1;
  q->status = status;
  return 1;
}

static void on_addrinfo(void *arg, int status, int timeouts,
                        struct ares_addrinfo *res) {
  hl_query *q = (hl_query *)arg;
  struct ares_addrinfo_node *node;
  int n = 0;
  (void)timeouts;
  if (!attempt_over(q, status)) {
    if (res) ares_freeaddrinfo(res);
    return;
  }
  q->ai = res;
  for (node = res ? res->nodes : NULL; node != NULL; node = node->ai_next) n++;
  trace_attempt(q, status, n);
}

static void on_nameinfo(void *arg, int status, int timeouts, char *node,
                        char *service) {
  hl_query *q = (hl_query *)arg;
  (void)timeouts;
  (void)service;
  if (!attempt_over(q, status)) return;
  if (status == ARES_SUCCESS && node != NULL) {
    q->name = (char *)malloc(strlen(node) + 1);
    if (q->name == NULL)
      q->status = ARES_ENOMEM;
    else
      strcpy(q->name, node);
  }
  trace_attempt(q, q->status, 1);
}

static void start(hl_query *q) {
  while (q->ch != NULL && !q->done) {
    q->again = 0;
    if (q->trace) q->t0 = hl_monotime();
    if (q->kind == Q_ADDRINFO)
      ares_getaddrinfo(q->ch, q->host, NULL, &q->hints, on_addrinfo, q);
    else
      ares_getnameinfo(q->ch, (struct sockaddr *)&q->addr.ss, q->addr.len,
                       ARES_NI_LOOKUPHOST | ARES_NI_NAMEREQD, on_nameinfo, q);
    if (!q->again) break;
  }
}

static void cancel(hl_query *q) {
  if (q->ch == NULL) return;
  ares_destroy(q->ch);   /* calls back with ARES_EDESTRUCTION if pending */
  q->ch = NULL;
}

static int query__gc(lua_State *L) {
  hl_query *q = check_query(L, 1);
  cancel(q);
  if (q->ai) ares_freeaddrinfo(q->ai);
  free(q->name);
  free(q->closed);
  q->ai = NULL;
  q->name = NULL;
  q->closed = NULL;
  q->nclosed = q->capclosed = 0;
  return 0;
}

/* Pushes a query for host with its own channel made from resolver r;
 * returns 1, or pushes nil, message, code and returns 3. */
static int push_query(lua_State *L, const hl_ctx *ctx, hl_resolver *r,
                      const char *host, int kind) {
  struct ares_options o = r->opts;
  size_t len = strlen(host);
  int rc;
  hl_query *q = (hl_query *)hl_newuserdata(L, sizeof *q + len);
  memset(q, 0, sizeof *q);
  q->tag = hl_query_tag;
  q->kind = kind;
  q->left = r->attempts;
  q->trace = ctx->trace;
  memcpy(q->host, host, len + 1);
  luaL_getmetatable(L, HL_QUERY_MT);
  lua_setmetatable(L, -2);
  o.sock_state_cb = on_sock_state;
  o.sock_state_cb_data = q;
  rc = ares_init_options(&q->ch, &o, r->optmask);
  if (rc == ARES_SUCCESS) ares_set_socket_functions(q->ch, &cares_functions, q);
  if (rc == ARES_SUCCESS && r->servers != NULL)
    rc = ares_set_servers_ports(q->ch, r->servers);
  if (rc != ARES_SUCCESS) {
    cancel(q);
    return push_status(L, rc);
  }
  return 1;
}

/* The port a service names: a number, or a name from /etc/services. */
static int service_port(const char *service, int socktype, int *port) {
  struct servent se, *sp = NULL;
  char buf[1024], *end;
  unsigned long n;
  if (service[0] >= '0' && service[0] <= '9') {
    n = strtoul(service, &end, 10);
    if (*end != '\0' || n > 65535) return EAI_SERVICE;
    *port = (int)n;
    return 0;
  }
  if (getservbyname_r(service, socktype == SOCK_DGRAM ? "udp" : "tcp", &se,
                      buf, sizeof buf, &sp) != 0 || sp == NULL)
    return EAI_SERVICE;
  *port = ntohs((unsigned short)sp->s_port);
  return 0;
}

/* Whether host is an address written out (with a scope, too). */
static int is_numeric(const char *host) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICHOST;
  if (getaddrinfo(host, NULL, &hints, &res) != 0) return 0;
  freeaddrinfo(res);
  return 1;
}

/* hotline.core.lookup(host, port, hints [, resolver]) -> list | query |
 * false | nil, message, code. Arguments as hotline.getaddrinfo's. Numeric
 * hosts and "*" are answered at once, without the network; a name gives a
 * query, not yet started (q:start()), or false without a resolver. */
static int lib_lookup(lua_State *L) {
  const hl_ctx *ctx = hl_ctx_get(L);
  struct addrinfo hints;
  char service[32];
  const char *host = hl_addr_checkquery(L, 1, &hints, service, sizeof service);
  hl_resolver *r = lua_isnoneornil(L, 4) ? NULL : check_resolver(L, 4);
  hl_query *q;
  int port = 0, rc;
  if (host == NULL || is_numeric(host))
    return hl_addr_pushinfo(L, ctx, host, service, &hints);
  if (r == NULL) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (hints.ai_family == AF_UNIX) return hl_error_pushgai(L, EAI_FAMILY, 0);
  if (host[0] == '\0') return hl_error_pushgai(L, EAI_NONAME, 0);
  if ((rc = service_port(service, hints.ai_socktype, &port)) != 0)
    return hl_error_pushgai(L, rc, 0);
  if (push_query(L, ctx, r, host, Q_ADDRINFO) != 1) return 3;
  q = (hl_query *)lua_touserdata(L, -1);
  q->port = port;
  q->hints.ai_family = hints.ai_family;
  q->hints.ai_socktype = hints.ai_socktype;
  return 1;
}

/* hotline.core.reverse(host, resolver) -> query | nil, message, code:
 * the name of a numeric address (not yet started: q:start()). */
static int lib_reverse(lua_State *L) {
  size_t len;
  const char *host = luaL_checklstring(L, 1, &len);
  hl_resolver *r = check_resolver(L, 2);
  struct addrinfo hints, *res = NULL;
  hl_query *q;
  if (strlen(host) != len) luaL_argerror(L, 1, "host contains a NUL byte");
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICHOST;
  if (getaddrinfo(host, NULL, &hints, &res) != 0)
    return hl_error_pushmsg(L, "not a numeric address", "EAI_NONAME");
  if (push_query(L, hl_ctx_get(L), r, host, Q_NAMEINFO) != 1) {
    freeaddrinfo(res);
    return 3;
  }
  q = (hl_query *)lua_touserdata(L, -1);
  memcpy(&q->addr.ss, res->ai_addr, res->ai_addrlen);
  q->addr.len = res->ai_addrlen;
  freeaddrinfo(res);
  return 1;
}

/* q:start(): sends the question (a name from /etc/hosts is answered at
 * once). */
static int query_start(lua_State *L) {
  start(check_query(L, 1));
  return 0;
}

/* q:wants(list) -> n, seconds | nil: fills list with descriptor, want
 * pairs (n entries, the rest of list cleared) for loop.await_any, and
 * says how long c-ares may wait before q:process() must be called
 * without a descriptor (nil: no timer). n is 0 once the query is done. */
static int query_wants(lua_State *L) {
  hl_query *q = check_query(L, 1);
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  struct timeval tv, *tvp = NULL;
  unsigned bits = 0;   /* (c-ares' macros shift a signed 1 into the sign bit) */
  int i, n = 0, old;
  luaL_checktype(L, 2, LUA_TTABLE);
  old = (int)hl_rawlen(L, 2);
  if (q->ch != NULL && !q->done) {
    bits = (unsigned)ares_getsock(q->ch, socks, ARES_GETSOCK_MAXNUM);
    tvp = ares_timeout(q->ch, NULL, &tv);
  }
  for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
    if (bits & (1u << i)) {
      lua_pushinteger(L, socks[i]);
      lua_rawseti(L, 2, ++n);
      lua_pushliteral(L, HL_WANTREAD);
      lua_rawseti(L, 2, ++n);
    }
    if (bits & (1u << (i + ARES_GETSOCK_MAXNUM))) {
      lua_pushinteger(L, socks[i]);
      lua_rawseti(L, 2, ++n);
      lua_pushliteral(L, HL_WANTWRITE);
      lua_rawseti(L, 2, ++n);
    }
  }
  for (i = old; i > n; i--) {
    lua_pushnil(L);
    lua_rawseti(L, 2, i);
  }
  lua_pushinteger(L, n);
  if (tvp != NULL)
    lua_pushnumber(L, (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6);
  else
    lua_pushnil(L);
  return 2;
}

static const char *const want_names[] = {"wantread", "wantwrite", NULL};

/* q:process([fd, want]): lets c-ares read or write fd, which is ready,
 * and handle its timeouts (without fd: only those). */
static int query_process(lua_State *L) {
  hl_query *q = check_query(L, 1);
  ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
  if (!lua_isnoneornil(L, 2)) {
    int fd = (int)hl_checksize(L, 2, INT_MAX - 1);
    if (hl_checkoption(L, 3, NULL, want_names) == 0)
      rfd = fd;
    else
      wfd = fd;
  }
  if (q->ch != NULL && !q->done) {
    ares_process_fd(q->ch, rfd, wfd);
    if (q->again) start(q);
  }
  return 0;
}

/* q:result() -> false while under way; then true and the answer: a list
 * of addresses, or a name, or nil, message, "EAI_*". */
static int query_result(lua_State *L) {
  hl_query *q = check_query(L, 1);
  struct ares_addrinfo_node *node;
  int i = 0;
  lua_pushboolean(L, q->done && q->status != ARES_EDESTRUCTION);
  if (!lua_toboolean(L, -1)) return 1;
  if (q->status != ARES_SUCCESS) return 1 + push_status(L, q->status);
  if (q->kind == Q_NAMEINFO) {
    lua_pushstring(L, q->name);
    return 2;
  }
  lua_newtable(L);
  for (node = q->ai ? q->ai->nodes : NULL; node != NULL; node = node->ai_next) {
    if (node->ai_family == AF_INET)
      ((struct sockaddr_in *)node->ai_addr)->sin_port = htons((unsigned short)q->port);
    else if (node->ai_family == AF_INET6)
      ((struct sockaddr_in6 *)node->ai_addr)->sin6_port = htons((unsigned short)q->port);
    else
      continue;
    hl_addr_pushentry(L, node->ai_addr, node->ai_addrlen, q->hints.ai_socktype);
    lua_rawseti(L, -2, ++i);
  }
  return 2;
}

/* q:cancel(): ends the query and closes its sockets (then q:closed()). */
static int query_cancel(lua_State *L) {
  cancel(check_query(L, 1));
  return 0;
}

/* q:closed() -> fd, ...: the descriptors c-ares closed since the last
 * call, for loop.release. */
static int query_closed(lua_State *L) {
  hl_query *q = check_query(L, 1);
  int i, n = q->nclosed;
  luaL_checkstack(L, n, "too many descriptors");
  for (i = 0; i < n; i++) lua_pushinteger(L, q->closed[i]);
  q->nclosed = 0;
  return n;
}

static int query__tostring(lua_State *L) {
  hl_query *q = check_query(L, 1);
  lua_pushfstring(L, "hotline.query (%s%s)", q->host,
                  q->done ? ", done" : q->ch ? "" : ", cancelled");
  return 1;
}

static const luaL_Reg query_methods[] = {
  {"start", query_start},
  {"wants", query_wants},
  {"process", query_process},
  {"result", query_result},
  {"cancel", query_cancel},
  {"closed", query_closed},
  {NULL, NULL}
};

static const luaL_Reg query_meta[] = {
  {"__gc", query__gc},
  {"__tostring", query__tostring},
  {NULL, NULL}
};

static const luaL_Reg resolver_meta[] = {
  {"__gc", resolver__gc},
  {NULL, NULL}
};

static const luaL_Reg resolve_funcs[] = {
  {"resolver", lib_resolver},
  {"lookup", lib_lookup},
  {"reverse", lib_reverse},
  {NULL, NULL}
};

/* Expects the module table at -2 and the context at -1. */
void hl_resolve_open(lua_State *L) {
  ares_library_init(ARES_LIB_INIT_ALL);
  hl_register(L, resolve_funcs);
  luaL_newmetatable(L, HL_RESOLVER_MT);
  lua_pushvalue(L, -2);
  hl_register(L, resolver_meta);
  lua_pop(L, 2);
  luaL_newmetatable(L, HL_QUERY_MT);
  lua_pushvalue(L, -2);
  hl_register(L, query_meta);
  lua_newtable(L);
  lua_pushvalue(L, -2);
  hl_register(L, query_methods);
  lua_pop(L, 1);
  lua_setfield(L, -3, "__index");
  lua_pop(L, 2);
}
