/*
 * node/tls.c: TLS 1.3 contexts for node keys and pinning. Two SSL objects
 * talk through memory BIOs in process; the pin function is a pin set.
 */
#include <criterion/criterion.h>

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../../node/tls.h"

static struct cy_key ka, kb, kc;        /* members a, b; c an impostor */
static struct nd_tls_pins pins;         /* a and b */
static unsigned pin_calls;
static uint8_t last_seen[CY_PK_LEN];

static bool pin_set(void *data, SSL *ssl, const uint8_t pk[CY_PK_LEN])
{
    (void)ssl;
    pin_calls++;
    memcpy(last_seen, pk, CY_PK_LEN);
    return nd_tls_pins_find(data, pk) >= 0;
}

static void setup(void)
{
    cr_assert_eq(cy_init(), 0);
    uint8_t seed[CY_SEED_LEN];
    memset(seed, 1, sizeof seed);
    cr_assert_eq(cy_key_from_seed(&ka, "bank", seed), 0);
    memset(seed, 2, sizeof seed);
    cr_assert_eq(cy_key_from_seed(&kb, "university", seed), 0);
    cr_assert_eq(cy_key_generate(&kc, "bank"), 0);
    memset(&pins, 0, sizeof pins);
    cr_assert_eq(nd_tls_pins_add(&pins, ka.pk, "bank"), 0);
    cr_assert_eq(nd_tls_pins_add(&pins, kb.pk, "university"), 0);
    pin_calls = 0;
}

static void teardown(void)
{
    cy_key_wipe(&ka);
    cy_key_wipe(&kb);
    cy_key_wipe(&kc);
}

TestSuite(tls, .init = setup, .fini = teardown);

static SSL_CTX *ctx_for(const struct cy_key *k, int mode)
{
    char err[256] = "";
    SSL_CTX *c = nd_tls_ctx_new(k, k->name, mode,
                                mode == ND_TLS_MUTUAL ? pin_set : NULL,
                                &pins, err, sizeof err);
    cr_assert_not_null(c, "context: %s", err);
    return c;
}

/* Moves what one side wrote to the other's input. */
static void move(SSL *from, SSL *to)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof buf)) > 0)
        BIO_write(SSL_get_rbio(to), buf, n);
}

static SSL *new_ssl(SSL_CTX *ctx, bool server)
{
    SSL *s = SSL_new(ctx);
    BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(r, -1);
    BIO_set_mem_eof_return(w, -1);
    SSL_set_bio(s, r, w);
    if (server)
        SSL_set_accept_state(s);
    else
        SSL_set_connect_state(s);
    return s;
}

/* Runs a handshake to its end; then, when it succeeded, one record each
 * way. Returns true when both ends completed and exchanged data. */
static bool talk(SSL_CTX *cctx, SSL_CTX *sctx, SSL **cl, SSL **sv)
{
    SSL *c = new_ssl(cctx, false), *s = new_ssl(sctx, true);
    int rc = -1, rs = -1;
    for (int i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
        /* SSL_get_error right after each call: moving bytes into a BIO
         * clears the retry flags it reads */
        rc = SSL_do_handshake(c);
        int ec = rc == 1 ? 0 : SSL_get_error(c, rc);
        move(c, s);
        rs = SSL_do_handshake(s);
        int es = rs == 1 ? 0 : SSL_get_error(s, rs);
        move(s, c);
        if ((rc != 1 && ec != SSL_ERROR_WANT_READ) ||
            (rs != 1 && es != SSL_ERROR_WANT_READ))
            break;
    }
    /* the client may think it is done before the server read its
     * certificate: finish with an application record each way */
    bool ok = false;
    if (rc == 1 && SSL_write(c, "ping", 4) == 4) {
        move(c, s);
        char buf[8];
        if (SSL_read(s, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0 &&
            SSL_write(s, "pong", 4) == 4) {
            move(s, c);
            ok = SSL_read(c, buf, sizeof buf) == 4 &&
                 memcmp(buf, "pong", 4) == 0;
        }
    }
    ERR_clear_error();
    if (cl != NULL)
        *cl = c;
    else
        SSL_free(c);
    if (sv != NULL)
        *sv = s;
    else
        SSL_free(s);
    return ok;
}

Test(tls, two_members_connect_and_see_each_others_key)
{
    SSL_CTX *a = ctx_for(&ka, ND_TLS_MUTUAL), *b = ctx_for(&kb, ND_TLS_MUTUAL);
    SSL *c, *s;
    cr_assert(talk(a, b, &c, &s), "members a -> b must connect");
    uint8_t pk[CY_PK_LEN];
    cr_assert_eq(nd_tls_peer_key(c, pk), 0);
    cr_assert_arr_eq(pk, kb.pk, CY_PK_LEN, "the client sees b's node key");
    cr_assert_eq(nd_tls_peer_key(s, pk), 0);
    cr_assert_arr_eq(pk, ka.pk, CY_PK_LEN, "the server sees a's node key");
    cr_assert_eq(SSL_version(c), TLS1_3_VERSION);
    cr_assert_eq(pin_calls, 2, "each end pinned the other once");
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
}

Test(tls, impostor_client_is_refused_by_the_server)
{
    SSL_CTX *evil = ctx_for(&kc, ND_TLS_MUTUAL), *b = ctx_for(&kb, ND_TLS_MUTUAL);
    SSL *c, *s;
    cr_assert_not(talk(evil, b, &c, &s), "a key outside the pins must fail");
    cr_assert_arr_eq(last_seen, kc.pk, CY_PK_LEN,
                     "the server pinned the impostor's key");
    cr_assert_eq(SSL_get_verify_result(s), X509_V_ERR_APPLICATION_VERIFICATION);
    char e[256];
    nd_tls_error(s, e, sizeof e);
    cr_assert(strstr(e, "not pinned") != NULL, "message: %s", e);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(evil);
    SSL_CTX_free(b);
}

Test(tls, impostor_server_is_refused_by_the_client)
{
    SSL_CTX *a = ctx_for(&ka, ND_TLS_MUTUAL), *evil = ctx_for(&kc, ND_TLS_MUTUAL);
    SSL *c;
    cr_assert_not(talk(a, evil, &c, NULL));
    cr_assert_eq(SSL_get_verify_result(c), X509_V_ERR_APPLICATION_VERIFICATION);
    cr_assert_eq(pin_calls, 1, "the client refused before sending its own");
    SSL_free(c);
    SSL_CTX_free(a);
    SSL_CTX_free(evil);
}

Test(tls, a_removed_member_is_refused_once_unpinned)
{
    SSL_CTX *a = ctx_for(&ka, ND_TLS_MUTUAL), *b = ctx_for(&kb, ND_TLS_MUTUAL);
    cr_assert(talk(a, b, NULL, NULL));
    /* b is removed: the pin set is rebuilt without it */
    memset(&pins, 0, sizeof pins);
    cr_assert_eq(nd_tls_pins_add(&pins, ka.pk, "bank"), 0);
    cr_assert_not(talk(a, b, NULL, NULL), "b as server is refused by a");
    cr_assert_not(talk(b, a, NULL, NULL), "b as client is refused by a");
    SSL_CTX_free(a);
    SSL_CTX_free(b);
}

Test(tls, client_without_certificate_is_refused_by_a_mutual_server)
{
    SSL_CTX *plain = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(plain, SSL_VERIFY_NONE, NULL);
    SSL_CTX *b = ctx_for(&kb, ND_TLS_MUTUAL);
    cr_assert_not(talk(plain, b, NULL, NULL));
    /* the API's server-only context takes it */
    SSL_CTX *api = ctx_for(&kb, ND_TLS_SERVER_ONLY);
    cr_assert(talk(plain, api, NULL, NULL));
    SSL_CTX_free(plain);
    SSL_CTX_free(b);
    SSL_CTX_free(api);
}

Test(tls, tls12_is_refused)
{
    SSL_CTX *old = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(old, TLS1_2_VERSION);
    SSL_CTX_set_verify(old, SSL_VERIFY_NONE, NULL);
    SSL_CTX *api = ctx_for(&kb, ND_TLS_SERVER_ONLY);
    cr_assert_not(talk(old, api, NULL, NULL));
    SSL_CTX_free(old);
    SSL_CTX_free(api);
}

Test(tls, mutual_context_needs_a_pin_function)
{
    char err[256] = "";
    SSL_CTX *c = nd_tls_ctx_new(&ka, "bank", ND_TLS_MUTUAL, NULL, NULL, err,
                                sizeof err);
    cr_assert_null(c);
    cr_assert(strstr(err, "pin function") != NULL, "message: %s", err);
}

Test(tls, pin_set_finds_dedupes_and_fills)
{
    cr_assert_eq(nd_tls_pins_find(&pins, ka.pk), 0);
    cr_assert_eq(nd_tls_pins_find(&pins, kb.pk), 1);
    cr_assert_eq(nd_tls_pins_find(&pins, kc.pk), -1);
    cr_assert_eq(nd_tls_pins_add(&pins, ka.pk, "bank"), 0);
    cr_assert_eq(pins.n, 2, "a key is not repeated");
    cr_assert_str_eq(pins.name[1], "university");
    uint8_t pk[CY_PK_LEN] = {0};
    for (unsigned i = pins.n; i < ND_TLS_MAX_PINS; i++) {
        pk[0] = (uint8_t)i;
        pk[1] = 0xee;
        cr_assert_eq(nd_tls_pins_add(&pins, pk, "m"), 0);
    }
    pk[0] = 0xff;
    cr_assert_eq(nd_tls_pins_add(&pins, pk, "m"), -1, "a full set refuses");
    cr_assert_eq(pins.n, ND_TLS_MAX_PINS);
}
