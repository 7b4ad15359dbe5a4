/*
 * crypto/httpsig.c: credbank's RFC 9421 profile.
 *
 * Known answers come from outside: RFC 9421 Appendix B.2.6 (the RFC's own
 * Ed25519 example, its signature base and signature written out here from
 * the RFC's text) and spec/vectors/httpsig.json, made by
 * spec/vectors/gen_httpsig.py with python3-nacl and an independent
 * implementation of the base (tests/lib/httpsig.py). Then the profile's
 * refusals, one per test.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/httpsig.h>

static void setup(void)
{
    cr_assert_eq(cy_init(), 0);
}

TestSuite(httpsig, .init = setup);

/* RFC 9421 B.1.4 test-key-ed25519 (the seed is the JWK "d"), B.2.6. */
static const char rfc_seed[] =
    "9f8362f87a484a954e6e740c5b4c0e84229139a20aa8ab56ff66586f6a7d29c5";
static const char rfc_pk[] =
    "26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb";
static const char rfc_base[] =
    "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
    "\"@method\": POST\n"
    "\"@path\": /foo\n"
    "\"@authority\": example.com\n"
    "\"content-type\": application/json\n"
    "\"content-length\": 18\n"
    "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" "
    "\"content-type\" \"content-length\");created=1618884473"
    ";keyid=\"test-key-ed25519\"";
static const char rfc_input[] =
    "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" "
    "\"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
static const char rfc_sig[] =
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgw"
    "UPiu4A0w6vuQv5lIp5WPpBKRCw==:";

static const char *rfc_hn[] = {"date", "content-type", "content-length"};
static const char *rfc_hv[] = {"Tue, 20 Apr 2021 02:07:55 GMT",
                               "application/json", "18"};
static const struct cy_httpsig_msg rfc_msg = {
    "POST", "example.com", "https", "/foo", "param=Value&Pet=dog",
    rfc_hn, rfc_hv, 3};

static void key_of(struct cy_key *k, const char *seed_hex)
{
    uint8_t seed[32];
    cr_assert_eq(cy_unhex(seed, 32, seed_hex), 0);
    cr_assert_eq(cy_key_from_seed(k, "k", seed), 0);
}

Test(httpsig, rfc9421_b26_sign_byte_for_byte)
{
    struct cy_key k;
    key_of(&k, rfc_seed);
    char pk[65];
    cy_hex(pk, k.pk, 32);
    cr_assert_str_eq(pk, rfc_pk);
    struct cy_httpsig s;
    memset(&s, 0, sizeof s);
    strcpy(s.label, "sig-b26");
    const char *comps[] = {"date", "@method", "@path", "@authority",
                           "content-type", "content-length"};
    for (size_t i = 0; i < 6; i++)
        strcpy(s.comps[i], comps[i]);
    s.ncomps = 6;
    s.has_created = true;
    s.created = 1618884473;
    strcpy(s.keyid, "test-key-ed25519");
    char input[CY_HS_INPUT_MAX], sig[CY_HS_SIG_MAX], base[4096];
    size_t blen;
    cr_assert_eq(cy_httpsig_sign(&s, &rfc_msg, &k, input, sig, NULL), 0);
    cr_assert_eq(cy_httpsig_base(&s, &rfc_msg, base, sizeof base, &blen,
                                 NULL), 0);
    cr_expect_str_eq(base, rfc_base);
    cr_expect_eq(blen, strlen(rfc_base));
    cr_expect_str_eq(input, rfc_input);
    cr_expect_str_eq(sig, rfc_sig);
    cy_key_wipe(&k);
}

Test(httpsig, rfc9421_b26_parse_and_verify)
{
    struct cy_httpsig s;
    uint8_t pk[32];
    cr_assert_eq(cy_unhex(pk, 32, rfc_pk), 0);
    cr_assert_eq(cy_httpsig_parse(rfc_input, strlen(rfc_input), rfc_sig,
                                  strlen(rfc_sig), &s, NULL), 0);
    cr_expect_str_eq(s.label, "sig-b26");
    cr_expect_eq(s.ncomps, 6);
    cr_expect_str_eq(s.comps[3], "@authority");
    cr_expect(s.has_created && !s.has_expires);
    cr_expect_eq(s.created, 1618884473);
    cr_expect_str_eq(s.keyid, "test-key-ed25519");
    cr_expect_eq(cy_httpsig_verify(&s, &rfc_msg, pk, NULL), 0);
    /* one changed header value: refused */
    const char *hv2[] = {"Tue, 20 Apr 2021 02:07:56 GMT",
                         "application/json", "18"};
    struct cy_httpsig_msg m2 = rfc_msg;
    m2.hvalues = hv2;
    cr_expect_eq(cy_httpsig_verify(&s, &m2, pk, NULL), CB_EBADSIG);
}

/* spec/vectors/httpsig.json: base and signature of each case reproduced,
 * and each parsed back and verified. */
Test(httpsig, python_vectors)
{
    json_error_t e;
    json_t *v = json_load_file(CB_SOURCE_DIR "/spec/vectors/httpsig.json", 0,
                               &e);
    cr_assert_not_null(v, "httpsig.json: %s", e.text);
    json_t *cases = json_object_get(v, "cases");
    cr_assert_geq(json_array_size(cases), 5);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        struct cy_key k;
        key_of(&k, json_string_value(json_object_get(c, "seed")));
        struct cy_httpsig s;
        memset(&s, 0, sizeof s);
        strcpy(s.label, "sig1");
        json_t *comps = json_object_get(c, "components"), *x;
        size_t j;
        json_array_foreach(comps, j, x)
            strcpy(s.comps[j], json_string_value(x));
        s.ncomps = json_array_size(comps);
        if (json_is_integer(json_object_get(c, "created"))) {
            s.has_created = true;
            s.created = (uint64_t)json_integer_value(
                json_object_get(c, "created"));
        }
        if (json_is_integer(json_object_get(c, "expires"))) {
            s.has_expires = true;
            s.expires = (uint64_t)json_integer_value(
                json_object_get(c, "expires"));
        }
        const char *nonce = json_string_value(json_object_get(c, "nonce"));
        const char *keyid = json_string_value(json_object_get(c, "keyid"));
        const char *alg = json_string_value(json_object_get(c, "alg"));
        snprintf(s.nonce, sizeof s.nonce, "%s", nonce ? nonce : "");
        snprintf(s.keyid, sizeof s.keyid, "%s", keyid ? keyid : "");
        snprintf(s.alg, sizeof s.alg, "%s", alg ? alg : "");
        json_t *msg = json_object_get(c, "msg"), *hdrs;
        hdrs = json_object_get(msg, "headers");
        const char *hn[8], *hv[8];
        size_t nh = 0;
        const char *hk;
        json_object_foreach(hdrs, hk, x) {
            hn[nh] = hk;
            hv[nh++] = json_string_value(x);
        }
        const char *scheme = json_string_value(json_object_get(msg,
                                                               "scheme"));
        struct cy_httpsig_msg m = {
            json_string_value(json_object_get(msg, "method")),
            json_string_value(json_object_get(msg, "authority")),
            scheme ? scheme : "http",
            json_string_value(json_object_get(msg, "path")),
            json_string_value(json_object_get(msg, "query")), hn, hv, nh};
        char input[CY_HS_INPUT_MAX], sig[CY_HS_SIG_MAX], base[4096];
        size_t blen;
        cr_assert_eq(cy_httpsig_sign(&s, &m, &k, input, sig, NULL), 0,
                     "%s", name);
        cr_expect_str_eq(s.params, json_string_value(json_object_get(
                                       c, "params")), "%s", name);
        cr_assert_eq(cy_httpsig_base(&s, &m, base, sizeof base, &blen, NULL),
                     0);
        cr_expect_str_eq(base, json_string_value(json_object_get(c, "base")),
                         "%s", name);
        char want[200];
        snprintf(want, sizeof want, "sig1=:%s:",
                 json_string_value(json_object_get(c, "signature")));
        cr_expect_str_eq(sig, want, "%s", name);
        struct cy_httpsig p;
        cr_assert_eq(cy_httpsig_parse(input, strlen(input), sig, strlen(sig),
                                      &p, NULL), 0, "%s", name);
        cr_expect_eq(cy_httpsig_verify(&p, &m, k.pk, NULL), 0, "%s", name);
        cy_key_wipe(&k);
    }
    json_decref(v);
}

/* ---- the profile's own requests, and what breaks them ---- */

static const struct cy_httpsig_msg get_msg = {
    "GET", "127.0.0.1:7001", "http", "/v1/accounts/x/entries",
    "from=0&limit=10", NULL, NULL, 0};

static void sign_get(const struct cy_key *k, char *input, char *sig)
{
    struct cy_httpsig s;
    memset(&s, 0, sizeof s);
    strcpy(s.label, "cb");
    const char *comps[] = {"@method", "@authority", "@path", "@query"};
    for (size_t i = 0; i < 4; i++)
        strcpy(s.comps[i], comps[i]);
    s.ncomps = 4;
    s.has_created = s.has_expires = true;
    s.created = 1700000000;
    s.expires = 1700000300;
    strcpy(s.nonce, "0123456789abcdef");
    cy_hex(s.keyid, k->pk, 32);
    strcpy(s.alg, "ed25519");
    cr_assert_eq(cy_httpsig_sign(&s, &get_msg, k, input, sig, NULL), 0);
}

static int verify_with(const char *input, const char *sig,
                       const struct cy_httpsig_msg *m, const uint8_t pk[32])
{
    struct cy_httpsig s;
    int rv = cy_httpsig_parse(input, strlen(input), sig, strlen(sig), &s,
                              NULL);
    return rv != 0 ? rv : cy_httpsig_verify(&s, m, pk, NULL);
}

Test(httpsig, each_covered_component_is_bound)
{
    struct cy_key k;
    key_of(&k, "0101010101010101010101010101010101010101010101010101010101"
               "010101");
    char input[CY_HS_INPUT_MAX], sig[CY_HS_SIG_MAX];
    sign_get(&k, input, sig);
    cr_assert_eq(verify_with(input, sig, &get_msg, k.pk), 0);
    struct cy_httpsig_msg m = get_msg;
    m.method = "POST";
    cr_expect_eq(verify_with(input, sig, &m, k.pk), CB_EBADSIG, "method");
    m = get_msg;
    m.authority = "127.0.0.1:7002";
    cr_expect_eq(verify_with(input, sig, &m, k.pk), CB_EBADSIG, "authority");
    m = get_msg;
    m.path = "/v1/accounts/y/entries";
    cr_expect_eq(verify_with(input, sig, &m, k.pk), CB_EBADSIG, "path");
    m = get_msg;
    m.query = "from=0&limit=11";
    cr_expect_eq(verify_with(input, sig, &m, k.pk), CB_EBADSIG, "query");
    m = get_msg;
    m.query = "";
    cr_expect_eq(verify_with(input, sig, &m, k.pk), CB_EBADSIG, "no query");
    struct cy_key other;
    key_of(&other, "0202020202020202020202020202020202020202020202020202020202"
                   "020202");
    cr_expect_eq(verify_with(input, sig, &get_msg, other.pk), CB_EBADSIG,
                 "another key");
    /* a changed parameter (the window widened) changes the base */
    char wider[CY_HS_INPUT_MAX];
    snprintf(wider, sizeof wider, "%s", input);
    char *e = strstr(wider, "expires=1700000300");
    cr_assert_not_null(e);
    memcpy(e, "expires=1700009300", 18);
    cr_expect_eq(verify_with(wider, sig, &get_msg, k.pk), CB_EBADSIG,
                 "expires changed");
    cy_key_wipe(&k);
    cy_key_wipe(&other);
}

/* Inputs outside the profile: each refused with CB_EVALUE (or TOOBIG). */
Test(httpsig, parse_refuses_non_canonical_forms)
{
    const char *sig = "cb=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02"
                      "Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
    static const char *bad[] = {
        "cb=(\"@method\"  \"@path\");created=1",     /* two spaces */
        "cb=( \"@method\");created=1",               /* space inside */
        "cb=(\"@method\"); created=1",               /* space after ; */
        "cb=(\"@method\");created=01",               /* leading zero */
        "cb=(\"@method\");created=-1",               /* negative */
        "cb=(\"@method\");created=1;created=2",      /* twice */
        "cb=(\"@method\");color=\"x\"",              /* not in profile */
        "cb=(\"@method\");nonce=\"a\\\"b\"",         /* escape */
        "cb=(\"@method\" \"@method\")",              /* component twice */
        "cb=(\"@Method\")",                          /* upper case */
        "cb=(\"@method\";sf)",                       /* component param */
        "cb=(\"@method\"), other=(\"@path\")",       /* two signatures */
        "Cb=(\"@method\")",                          /* label not sf-key */
        "cb=\"@method\"",                            /* not an inner list */
        "cb=(\"@method\"",                           /* unclosed */
        "cb=(\"@method\");keyid=\"\"",               /* empty string */
        "cb=(\"@method\");created=1.5",              /* decimal */
        "=(\"@method\")",                            /* no label */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cy_httpsig s;
        cr_expect_eq(cy_httpsig_parse(bad[i], strlen(bad[i]), sig,
                                      strlen(sig), &s, NULL),
                     CB_EVALUE, "accepted: %s", bad[i]);
    }
}

Test(httpsig, parse_refuses_bad_signature_fields)
{
    const char *in = "cb=(\"@method\");created=1";
    static const char *bad[] = {
        "other=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDg"
        "wUPiu4A0w6vuQv5lIp5WPpBKRCw==:",            /* another label */
        "cb=wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPi"
        "u4A0w6vuQv5lIp5WPpBKRCw==",                 /* no colons */
        "cb=:AAAA:",                                  /* 3 bytes */
        "cb=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUP"
        "iu4A0w6vuQv5lIp5WPpBKRCx==:",               /* non-canonical b64 */
        "cb=::",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cy_httpsig s;
        cr_expect_eq(cy_httpsig_parse(in, strlen(in), bad[i], strlen(bad[i]),
                                      &s, NULL),
                     CB_EVALUE, "accepted: %s", bad[i]);
    }
}

Test(httpsig, base_refusals)
{
    struct cy_httpsig s;
    memset(&s, 0, sizeof s);
    strcpy(s.label, "cb");
    strcpy(s.comps[0], "@status"); /* a response component */
    s.ncomps = 1;
    char out[512];
    size_t n;
    cr_assert_eq(cy_httpsig_params(&s, NULL), 0);
    cr_expect_eq(cy_httpsig_base(&s, &get_msg, out, sizeof out, &n, NULL),
                 CB_EVALUE);
    strcpy(s.comps[0], "date"); /* a header the message lacks */
    cr_assert_eq(cy_httpsig_params(&s, NULL), 0);
    cr_expect_eq(cy_httpsig_base(&s, &get_msg, out, sizeof out, &n, NULL),
                 CB_ENOTFOUND);
    /* a value with a line break cannot be signed */
    const char *hn[] = {"x-a"}, *hv[] = {"a\nb"};
    struct cy_httpsig_msg m = get_msg;
    m.hnames = hn;
    m.hvalues = hv;
    m.nheaders = 1;
    strcpy(s.comps[0], "x-a");
    cr_assert_eq(cy_httpsig_params(&s, NULL), 0);
    cr_expect_eq(cy_httpsig_base(&s, &m, out, sizeof out, &n, NULL),
                 CB_EVALUE);
    /* a base that does not fit */
    strcpy(s.comps[0], "@path");
    cr_assert_eq(cy_httpsig_params(&s, NULL), 0);
    cr_expect_eq(cy_httpsig_base(&s, &get_msg, out, 20, &n, NULL),
                 CB_ETOOBIG);
}
