/*
 * TLS 1.3 between credbank nodes, authenticated by node keys (DESIGN 5,
 * spec/security.md "Transport" and "Pinning").
 *
 * There is no certificate authority. Every node makes, at start, a
 * self-signed X.509 certificate for its Ed25519 node key (the key its
 * member's ledger record names as "node"); the certificate carries nothing
 * a peer relies on but the public key. The peer's certificate is never
 * checked against a chain: the handshake's CertificateVerify proves that
 * the peer holds the private key of the certificate's public key, and that
 * raw 32-byte key is then *pinned*: a pin function (the node's: a node key
 * of a member in force in its ledger) must accept it, or the handshake
 * fails with a certificate alert. Both ends of a node-to-node link verify
 * each other this way (mutual TLS); the HTTP API's server context asks
 * clients for no certificate.
 *
 * This file depends on OpenSSL and credbank/crypto.h only (no libuv, no
 * node state), so tests drive it with memory BIOs.
 */
#ifndef CREDBANK_NODE_TLS_H
#define CREDBANK_NODE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <credbank/crypto.h>

/*
 * The pin decision for a peer that proved it holds the Ed25519 key pk.
 * ssl is the connection (SSL_get_app_data gives the caller's object); data
 * is the pointer given to nd_tls_ctx_new. Returns true to accept.
 */
typedef bool (*nd_tls_pin_fn)(void *data, SSL *ssl,
                              const uint8_t pk[CY_PK_LEN]);

enum {
    ND_TLS_MUTUAL = 0,      /* verify the peer, both as client and server */
    ND_TLS_SERVER_ONLY = 1, /* as server, ask no client certificate */
};

/*
 * A TLS 1.3-only context presenting a fresh self-signed certificate for
 * key (subject CN = cn). With ND_TLS_MUTUAL, a peer must present an
 * Ed25519 certificate whose key pin accepts (a server also demands one from
 * its clients); pin may be NULL only with ND_TLS_SERVER_ONLY. No session
 * resumption (every connection re-pins). Returns NULL with a message in
 * err[cap] on failure. Free with SSL_CTX_free.
 */
SSL_CTX *nd_tls_ctx_new(const struct cy_key *key, const char *cn, int mode,
                        nd_tls_pin_fn pin, void *data, char *err,
                        size_t cap);

/* The raw Ed25519 public key of the peer of a completed handshake: 0, or
 * -1 when there is none (or it is not Ed25519). */
int nd_tls_peer_key(SSL *ssl, uint8_t pk[CY_PK_LEN]);

/* The last OpenSSL error (and a verify failure) as text into out[cap]. */
void nd_tls_error(SSL *ssl, char *out, size_t cap);

/* ---- a pin set: node keys with their member names ---- */
#define ND_TLS_MAX_PINS 64

struct nd_tls_pins {
    unsigned n;
    uint8_t pk[ND_TLS_MAX_PINS][CY_PK_LEN];
    char name[ND_TLS_MAX_PINS][CY_NAME_MAX + 1];
};

/* Index of pk in the set, or -1. */
int nd_tls_pins_find(const struct nd_tls_pins *s, const uint8_t pk[CY_PK_LEN]);
/* Adds (pk, name); -1 when full. A key already present is not repeated. */
int nd_tls_pins_add(struct nd_tls_pins *s, const uint8_t pk[CY_PK_LEN],
                    const char *name);

#endif
