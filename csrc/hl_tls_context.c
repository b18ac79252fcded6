/* hl_tls_context.c: hotline.tls.context(opts), an SSL_CTX built once from
 * a table of options (see hl_tls.h), shared by every connection made from
 * it. A bad option is misuse and raises; a file that cannot be read or a
 * key that does not fit is a failure: nil, msg, "ETLS".
 * SPDX-License-Identifier: MIT */
#ifndef HL_NO_TLS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "hl_error.h"
#include "hl_tls.h"

typedef struct hl_tls_context {
  const char *tag;
  hl_tls_conf *conf;
} hl_tls_context;

static const char context_tag[] = HL_TLS_CONTEXT_MT;

static const char *const option_names[] = {
  "cafile", "capath", "verify", "servername", "alpn", "cert", "key",
  "ciphers", "min_version", "handshake_timeout", "server", NULL
};

hl_tls_conf *hl_tls_checkconf(lua_State *L, int idx) {
  hl_tls_context *c = (hl_tls_context *)hl_tagged(L, idx, context_tag,
                                                  sizeof *c);
  if (c == NULL) hl_typeerror(L, idx, HL_TLS_CONTEXT_MT);
  return c->conf;
}

void hl_tls_release(hl_tls_conf *conf) {
  if (conf == NULL || --conf->refs > 0) return;
  SSL_SESSION_free(conf->session);
  SSL_CTX_free(conf->ssl_ctx);
  free(conf->servername);
  free(conf);
}

int hl_tls_pushqueue(lua_State *L, const char *fallback) {
  unsigned long e = ERR_peek_last_error();
  const char *why = e ? ERR_reason_error_string(e) : NULL;
  ERR_clear_error();
  return hl_error_pushmsg(L, why ? why : fallback, "ETLS");
}

/* The string option name of the table at 1, or NULL when absent. */
static const char *opt_string(lua_State *L, const char *name) {
  const char *v;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) v = NULL;
  else if (lua_type(L, -1) != LUA_TSTRING)
    v = (luaL_error(L, "TLS option '%s' must be a string", name), NULL);
  else v = lua_tostring(L, -1);
  lua_pop(L, 1);   /* (the table keeps the string alive) */
  return v;
}

/* Checks every key of the options table at 1 is known. */
static void check_names(lua_State *L) {
  int i, known;
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    known = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (i = 0; option_names[i]; i++)
        if (strcmp(option_names[i], lua_tostring(L, -1)) == 0) known = 1;
    if (!known)
      luaL_error(L, "unknown TLS option '%s'", lua_type(L, -1) == LUA_TSTRING
                 ? lua_tostring(L, -1) : luaL_typename(L, -1));
  }
}

/* opts.alpn, a list of names, into conf->alpn in wire format. */
static void check_alpn(lua_State *L, hl_tls_conf *conf) {
  size_t len, i, n;
  const char *name;
  lua_getfield(L, 1, "alpn");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, -1))
    luaL_error(L, "TLS option 'alpn' must be a list of strings");
  n = hl_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, (int)i);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "TLS option 'alpn' must be a list of strings");
    name = lua_tolstring(L, -1, &len);
    if (len == 0 || len > 255 || conf->alpn_len + 1 + len > sizeof conf->alpn)
      luaL_error(L, "TLS option 'alpn': name too long or empty");
    conf->alpn[conf->alpn_len++] = (unsigned char)len;
    memcpy(conf->alpn + conf->alpn_len, name, len);
    conf->alpn_len += (unsigned)len;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Picks the first of the server's protocols the client offers; none in
 * common: the handshake goes on without ALPN. */
static int select_alpn(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg) {
  hl_tls_conf *conf = (hl_tls_conf *)arg;
  unsigned char *chosen;
  (void)ssl;
  if (SSL_select_next_proto(&chosen, outlen, conf->alpn, conf->alpn_len, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

/* Reads the options other than the files into conf; raises on misuse. */
static void check_options(lua_State *L, hl_tls_conf *conf, int *min) {
  static const char *const versions[] = {"tls1.2", "tls1.3", NULL};
  const char *v;
  int i;
  check_names(L);
  lua_getfield(L, 1, "verify");
  if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
    luaL_error(L, "TLS option 'verify' must be a boolean");
  conf->verify = lua_isnil(L, -1) ? -1 : lua_toboolean(L, -1);
  lua_getfield(L, 1, "server");
  if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
    luaL_error(L, "TLS option 'server' must be a boolean");
  conf->server = lua_toboolean(L, -1);
  lua_getfield(L, 1, "handshake_timeout");
  if (!lua_isnil(L, -1) && (lua_type(L, -1) != LUA_TNUMBER ||
      !(lua_tonumber(L, -1) >= 0) || lua_tonumber(L, -1) > 1e9))
    luaL_error(L, "TLS option 'handshake_timeout' must be a number >= 0");
  conf->handshake_timeout = lua_isnil(L, -1) ? -1 : lua_tonumber(L, -1);
  lua_pop(L, 3);
  v = opt_string(L, "min_version");
  *min = TLS1_2_VERSION;
  if (v != NULL) {
    for (i = 0; versions[i] && strcmp(versions[i], v) != 0; i++) {}
    if (versions[i] == NULL)
      luaL_error(L, "TLS option 'min_version' must be \"tls1.2\" or "
                 "\"tls1.3\", not '%s'", v);
    *min = i == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
  }
  check_alpn(L, conf);
  (void)opt_string(L, "servername");   /* checked: copied later */
  (void)opt_string(L, "ciphers");
}

/* The system's trust store: its file and hashed directory (or those named
 * by SSL_CERT_FILE / SSL_CERT_DIR). Not SSL_CTX_set_default_verify_paths:
 * in OpenSSL 3 it adds a store loader that reads the whole directory at
 * every lookup, that is at every handshake. */
static int default_paths(SSL_CTX *c) {
  const char *file = getenv(X509_get_default_cert_file_env());
  const char *dir = getenv(X509_get_default_cert_dir_env());
  X509_STORE *store = SSL_CTX_get_cert_store(c);
  X509_LOOKUP *lookup;
  if (file == NULL) file = X509_get_default_cert_file();
  if (dir == NULL) dir = X509_get_default_cert_dir();
  lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == NULL) return 0;
  X509_LOOKUP_load_file(lookup, file, X509_FILETYPE_PEM);   /* may be absent */
  lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
  if (lookup == NULL) return 0;
  X509_LOOKUP_add_dir(lookup, dir, X509_FILETYPE_PEM);
  ERR_clear_error();
  return 1;
}

/* Loads trust anchors, identity and ciphers; returns NULL or the name of
 * what failed (OpenSSL's queue has the reason). */
static const char *load(lua_State *L, hl_tls_conf *conf) {
  SSL_CTX *c = conf->ssl_ctx;
  const char *cafile = opt_string(L, "cafile");
  const char *capath = opt_string(L, "capath");
  const char *cert = opt_string(L, "cert"), *key = opt_string(L, "key");
  const char *ciphers = opt_string(L, "ciphers");
  if (cafile || capath) {
    if (!SSL_CTX_load_verify_locations(c, cafile, capath)) return "cafile";
    if (cafile) {   /* a server asks for certificates from these CAs */
      STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cafile);
      if (names) SSL_CTX_set_client_CA_list(c, names);
    }
  } else if (!default_paths(c)) {
    return "trust store";
  }
  if (cert || key) {
    if (!cert) return "cert";
    if (SSL_CTX_use_certificate_chain_file(c, cert) != 1) return "cert";
    if (SSL_CTX_use_PrivateKey_file(c, key ? key : cert, SSL_FILETYPE_PEM) != 1)
      return "key";
    if (SSL_CTX_check_private_key(c) != 1) return "key";
  }
  if (ciphers && SSL_CTX_set_cipher_list(c, ciphers) != 1) return "ciphers";
  if (conf->alpn_len > 0) {
    if (SSL_CTX_set_alpn_protos(c, conf->alpn, conf->alpn_len) != 0)
      return "alpn";
    SSL_CTX_set_alpn_select_cb(c, select_alpn, conf);
  }
  return NULL;
}

/* hotline.tls.context([opts]) -> context | nil, msg, "ETLS". Raises on
 * an unknown option or a value of the wrong kind. */
static int lib_context(lua_State *L) {
  hl_tls_context *c;
  hl_tls_conf *conf;
  const char *failed, *name;
  char msg[256];
  int min;
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  c = (hl_tls_context *)hl_newuserdata(L, sizeof *c);
  c->tag = context_tag;
  c->conf = NULL;
  luaL_getmetatable(L, HL_TLS_CONTEXT_MT);
  lua_setmetatable(L, -2);
  conf = (hl_tls_conf *)calloc(1, sizeof *conf);
  if (conf == NULL) return luaL_error(L, "not enough memory");
  conf->refs = 1;
  c->conf = conf;
  check_options(L, conf, &min);
  name = opt_string(L, "servername");
  if (name && (conf->servername = strdup(name)) == NULL)
    return luaL_error(L, "not enough memory");
  ERR_clear_error();
  conf->ssl_ctx = SSL_CTX_new(TLS_method());
  if (conf->ssl_ctx == NULL)
    return hl_tls_pushqueue(L, "cannot make a context");
  SSL_CTX_set_min_proto_version(conf->ssl_ctx, min);
  /* (no auto chain: the chain is what the cert file holds, not one
   * looked up in the trust store at every handshake) */
  SSL_CTX_set_mode(conf->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                   SSL_MODE_NO_AUTO_CHAIN);
  /* one recv for many records, not two per record; hl_tls_fill then
   * empties what was read ahead before it answers */
  SSL_CTX_set_read_ahead(conf->ssl_ctx, 1);
  /* clients keep their last session (hl_tls.c) to resume the next */
  SSL_CTX_set_session_cache_mode(conf->ssl_ctx, SSL_SESS_CACHE_BOTH |
                                 SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(conf->ssl_ctx, hl_tls_keep_session);
  failed = load(L, conf);
  if (failed != NULL) {
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    const char *file = opt_string(L, failed);
    snprintf(msg, sizeof msg, "%s%s%s: %s", failed, file ? " " : "",
             file ? file : "", why ? why : "rejected");
    ERR_clear_error();
    return hl_error_pushmsg(L, msg, "ETLS");
  }
  return 1;
}

static int context__gc(lua_State *L) {
  hl_tls_context *c = (hl_tls_context *)lua_touserdata(L, 1);
  hl_tls_release(c->conf);
  c->conf = NULL;
  return 0;
}

static int context__tostring(lua_State *L) {
  hl_tls_conf *conf = hl_tls_checkconf(L, 1);
  lua_pushfstring(L, "hotline.tls.context (%p)", (void *)conf);
  return 1;
}

/* hotline.core.tls_settings(ctx) -> handshake_timeout (or nil), whether
 * the context was made for servers */
static int lib_settings(lua_State *L) {
  hl_tls_conf *conf = hl_tls_checkconf(L, 1);
  if (conf->handshake_timeout < 0) lua_pushnil(L);
  else lua_pushnumber(L, conf->handshake_timeout);
  lua_pushboolean(L, conf->server);
  return 2;
}

static const luaL_Reg context_meta[] = {
  {"__gc", context__gc},
  {"__tostring", context__tostring},
  {NULL, NULL}
};

static const luaL_Reg context_funcs[] = {
  {"tls_context", lib_context},
  {"tls_settings", lib_settings},
  {NULL, NULL}
};

/* Expects the module table at -2 and the module context at -1. */
void hl_tls_context_open(lua_State *L) {
  hl_register(L, context_funcs);
  luaL_newmetatable(L, HL_TLS_CONTEXT_MT);
  lua_pushvalue(L, -2);
  hl_register(L, context_meta);
  lua_pop(L, 1);
  lua_setfield(L, -3, "tls_metatable");
}
#else
typedef int hl_tls_context_unused;   /* ISO C wants something here */
#endif
