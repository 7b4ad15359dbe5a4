/*
 * TLS contexts for node keys, and pinning (tls.h says what and why).
 *
 * The certificate chain is not verified: SSL_CTX_set_cert_verify_callback
 * replaces OpenSSL's chain building with verify_cert below, which looks at
 * the leaf only. That is sound because in TLS 1.3 the peer signs the
 * handshake transcript with the leaf's key (CertificateVerify), which
 * OpenSSL checks whatever this callback says; the certificate's own
 * signature, names and dates prove nothing here and are ignored. What
 * authenticates the peer is that its key is one the pin function accepts.
 */
#include "tls.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

struct pinner {
    nd_tls_pin_fn fn;
    void *data;
};

static int pinner_idx = -1;     /* SSL_CTX ex_data slot of the pinner */

static void pinner_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                        long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    OPENSSL_free(ptr);
}

static int raw_key(EVP_PKEY *k, uint8_t pk[CY_PK_LEN])
{
    size_t n = CY_PK_LEN;
    if (k == NULL || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(k, pk, &n) != 1 || n != CY_PK_LEN)
        return -1;
    return 0;
}

static int verify_cert(X509_STORE_CTX *xs, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(
        xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    struct pinner *p = ssl == NULL ? NULL
        : SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pinner_idx);
    uint8_t pk[CY_PK_LEN];
    if (ssl == NULL || leaf == NULL || p == NULL || p->fn == NULL ||
        raw_key(X509_get0_pubkey(leaf), pk) != 0) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (!p->fn(p->data, ssl, pk)) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

static X509 *self_signed(EVP_PKEY *k, const char *cn)
{
    X509 *x = X509_new();
    uint64_t serial;
    cy_random(&serial, sizeof serial);
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    if (x == NULL || X509_set_version(x, 2) != 1 ||
        ASN1_INTEGER_set_uint64(X509_get_serialNumber(x),
                                (serial >> 1) | 1) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650) == NULL ||
        X509_set_pubkey(x, k) != 1 || name == NULL ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1 ||
        X509_sign(x, k, NULL) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

SSL_CTX *nd_tls_ctx_new(const struct cy_key *key, const char *cn, int mode,
                        nd_tls_pin_fn pin, void *data, char *err, size_t cap)
{
    SSL_CTX *ctx = NULL;
    X509 *cert = NULL;
    struct pinner *p = NULL;
    const char *what = "out of memory";
    if (pinner_idx < 0) {
        pinner_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
                                              pinner_free);
        if (pinner_idx < 0)
            goto err;
    }
    if (mode == ND_TLS_MUTUAL && pin == NULL) {
        what = "a mutual context needs a pin function";
        goto err;
    }
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
                                               key->seed, CY_SEED_LEN);
    if (k == NULL) {
        what = "Ed25519 key";
        goto err;
    }
    cert = self_signed(k, cn != NULL && cn[0] ? cn : "credbank-node");
    ctx = SSL_CTX_new(TLS_method());
    if (cert == NULL || ctx == NULL) {
        EVP_PKEY_free(k);
        what = "self-signed certificate";
        goto err;
    }
    if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        EVP_PKEY_free(k);
        what = "certificate and key";
        goto err;
    }
    EVP_PKEY_free(k); /* the context holds its own reference */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
        what = "TLS 1.3 only";
        goto err;
    }
    /* every connection is a full handshake, pinned against the members in
     * force at that moment: no tickets, no session cache */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (mode == ND_TLS_MUTUAL) {
        p = OPENSSL_zalloc(sizeof *p);
        if (p == NULL)
            goto err;
        p->fn = pin;
        p->data = data;
        if (SSL_CTX_set_ex_data(ctx, pinner_idx, p) != 1)
            goto err;
        p = NULL; /* the context frees it */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
                                    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_cert_verify_callback(ctx, verify_cert, NULL);
        /* only Ed25519 certificates are acceptable from peers */
        if (SSL_CTX_set1_sigalgs_list(ctx, "ed25519") != 1) {
            what = "signature algorithms";
            goto err;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    X509_free(cert);
    return ctx;
err:
    if (err != NULL && cap > 0) {
        unsigned long e = ERR_peek_last_error();
        char buf[160] = "";
        if (e != 0)
            ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err, cap, "TLS context: %s%s%s", what, buf[0] ? ": " : "",
                 buf);
    }
    ERR_clear_error();
    OPENSSL_free(p);
    X509_free(cert);
    SSL_CTX_free(ctx);
    return NULL;
}

int nd_tls_peer_key(SSL *ssl, uint8_t pk[CY_PK_LEN])
{
    X509 *x = SSL_get0_peer_certificate(ssl);
    return x == NULL ? -1 : raw_key(X509_get0_pubkey(x), pk);
}

void nd_tls_error(SSL *ssl, char *out, size_t cap)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    long v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(out, cap, "%s%s%s", buf, buf[0] ? "; " : "",
                 v == X509_V_ERR_APPLICATION_VERIFICATION
                     ? "peer key not pinned (not a node key of a member "
                       "in force)"
                     : X509_verify_cert_error_string(v));
    else
        snprintf(out, cap, "%s", buf[0] ? buf : "connection closed");
}

int nd_tls_pins_find(const struct nd_tls_pins *s, const uint8_t pk[CY_PK_LEN])
{
    for (unsigned i = 0; i < s->n; i++)
        if (memcmp(s->pk[i], pk, CY_PK_LEN) == 0)
            return (int)i;
    return -1;
}

int nd_tls_pins_add(struct nd_tls_pins *s, const uint8_t pk[CY_PK_LEN],
                    const char *name)
{
    if (nd_tls_pins_find(s, pk) >= 0)
        return 0;
    if (s->n >= ND_TLS_MAX_PINS)
        return -1;
    memcpy(s->pk[s->n], pk, CY_PK_LEN);
    snprintf(s->name[s->n], sizeof s->name[0], "%s", name ? name : "");
    s->n++;
    return 0;
}
