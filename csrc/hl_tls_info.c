/* hl_tls_info.c: s:tlsinfo(), what a TLS connection agreed on and who the
 * peer's certificate says it is (subject, issuer, expiry, names).
 * SPDX-License-Identifier: MIT */
#include "hl_tls.h"

#ifndef HL_NO_TLS
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <openssl/x509v3.h>

/* Certificate details for tlsinfo ------------------------------------- */

static void push_name(lua_State *L, X509_NAME *name) {
  BIO *mem = BIO_new(BIO_s_mem());
  char *p;
  long len;
  if (mem == NULL || X509_NAME_print_ex(mem, name, 0, XN_FLAG_RFC2253) < 0) {
    lua_pushnil(L);
  } else {
    len = BIO_get_mem_data(mem, &p);
    lua_pushlstring(L, p, (size_t)len);
  }
  BIO_free(mem);
}

static void push_time(lua_State *L, const ASN1_TIME *when) {
  struct tm tm;
  if (!ASN1_TIME_to_tm(when, &tm)) {
    lua_pushnil(L);
    return;
  }
  lua_pushfstring(L, "%d-%s%d-%s%dT%s%d:%s%d:%s%dZ", tm.tm_year + 1900,
                  tm.tm_mon < 9 ? "0" : "", tm.tm_mon + 1,
                  tm.tm_mday < 10 ? "0" : "", tm.tm_mday,
                  tm.tm_hour < 10 ? "0" : "", tm.tm_hour,
                  tm.tm_min < 10 ? "0" : "", tm.tm_min,
                  tm.tm_sec < 10 ? "0" : "", tm.tm_sec);
}

/* The subject alternative names: DNS names and IP addresses as text. */
static void push_san(lua_State *L, X509 *cert) {
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
                                          NULL);
  char text[64];
  int i, n = 0, len;
  lua_newtable(L);
  for (i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      lua_pushlstring(L, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                      (size_t)ASN1_STRING_length(g->d.dNSName));
    } else if (g->type == GEN_IPADD) {
      len = ASN1_STRING_length(g->d.iPAddress);
      if ((len != 4 && len != 16) ||   /* (a peer's DER may say 8) */
          !inet_ntop(len == 4 ? AF_INET : AF_INET6,
                     ASN1_STRING_get0_data(g->d.iPAddress), text, sizeof text))
        continue;
      lua_pushstring(L, text);
    } else {
      continue;
    }
    lua_rawseti(L, -2, ++n);
  }
  GENERAL_NAMES_free(names);
}

/* s:tlsinfo() -> nil on a plaintext socket, else { version, cipher,
 * alpn, servername, verified, peer = { subject, issuer, not_after, san } } */
static int sock_tlsinfo(lua_State *L) {
  hl_socket *s = hl_socket_checkopen(L, 1);
  hl_tls *t = s->tls;
  const unsigned char *alpn;
  unsigned alpn_len;
  const char *sni;
  X509 *peer;
  if (t == NULL) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 6);
  lua_pushstring(L, SSL_get_version(t->ssl));
  lua_setfield(L, -2, "version");
  lua_pushstring(L, SSL_get_cipher_name(t->ssl));
  lua_setfield(L, -2, "cipher");
  SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
  if (alpn_len > 0) {
    lua_pushlstring(L, (const char *)alpn, alpn_len);
    lua_setfield(L, -2, "alpn");
  }
  sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
  if (sni != NULL) {
    lua_pushstring(L, sni);
    lua_setfield(L, -2, "servername");
  }
  peer = SSL_get1_peer_certificate(t->ssl);
  lua_pushboolean(L, t->verify && peer != NULL &&
                     SSL_get_verify_result(t->ssl) == X509_V_OK);
  lua_setfield(L, -2, "verified");
  lua_pushboolean(L, SSL_session_reused(t->ssl));
  lua_setfield(L, -2, "resumed");
  if (peer != NULL) {
    lua_createtable(L, 0, 4);
    push_name(L, X509_get_subject_name(peer));
    lua_setfield(L, -2, "subject");
    push_name(L, X509_get_issuer_name(peer));
    lua_setfield(L, -2, "issuer");
    push_time(L, X509_get0_notAfter(peer));
    lua_setfield(L, -2, "not_after");
    push_san(L, peer);
    lua_setfield(L, -2, "san");
    lua_setfield(L, -2, "peer");
    X509_free(peer);
  }
  return 1;
}
#else

static int sock_tlsinfo(lua_State *L) {
  hl_socket_checkopen(L, 1);
  lua_pushnil(L);
  return 1;
}
#endif

const luaL_Reg hl_tls_methods[] = {
  {"tlsinfo", sock_tlsinfo},
  {NULL, NULL}
};
