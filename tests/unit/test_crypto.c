/*
 * crypto/hash.c and crypto/sign.c: SHA-256, hex, base64, randomness and
 * secrets; Ed25519 keys, signatures, verification and cy_pk_check.
 *
 * Known answers come from spec/vectors/crypto.json (gen_crypto.py:
 * python3-nacl, hashlib, base64, and a pure-Python Ed25519 that reproduces
 * every signature and classifies every public-key encoding without
 * libsodium). Every vector of every section is checked; signed-note key
 * strings and key files are in test_notekey.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/crypto.h>

#define VECTORS CB_SOURCE_DIR "/spec/vectors/crypto.json"

static json_t *vec;

static void setup(void)
{
    json_error_t e;
    cr_assert_eq(cy_init(), 0);
    vec = json_load_file(VECTORS, 0, &e);
    cr_assert_not_null(vec, "%s: %s (line %d)", VECTORS, e.text, e.line);
}

static void teardown(void)
{
    json_decref(vec);
}

/* The array `key` of the vectors, asserted non-empty. */
static json_t *section(const char *key)
{
    json_t *a = json_object_get(vec, key);
    cr_assert(json_is_array(a) && json_array_size(a) > 0,
              "crypto.json lacks %s", key);
    return a;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    cr_assert_not_null(s, "vector lacks %s", k);
    return s;
}

static bool flag(json_t *o, const char *k)
{
    json_t *b = json_object_get(o, k);
    cr_assert(json_is_boolean(b), "vector lacks %s", k);
    return json_is_true(b);
}

/* Decodes the hex string o[k] into a malloc'd buffer (never NULL). */
static uint8_t *unhex_alloc(json_t *o, const char *k, size_t *len)
{
    const char *h = str(o, k);
    *len = strlen(h) / 2;
    uint8_t *b = malloc(*len + 1);
    cr_assert_not_null(b);
    cr_assert_eq(cy_unhex(b, *len, h), 0, "%s: bad hex in vector", k);
    return b;
}

/* UNHEX(o, "pk", buf): exactly sizeof buf bytes of hex. */
#define UNHEX(o, k, buf) \
    cr_assert_eq(cy_unhex(buf, sizeof buf, str(o, k)), 0, "vector %s", k)

/* ======================= SHA-256 ======================= */

TestSuite(hash, .init = setup, .fini = teardown);

Test(hash, sha256_vectors_one_shot_and_incremental)
{
    static const size_t steps[] = {1, 7, 63, 64, 65, 4096};
    size_t i, nvec = 0;
    json_t *v;

    json_array_foreach(section("sha256"), i, v) {
        size_t clen, rep = (size_t)json_integer_value(json_object_get(v,
                                                                  "repeat"));
        uint8_t *chunk = unhex_alloc(v, "msg", &clen);
        uint8_t want[CY_HASH_LEN], got[CY_HASH_LEN];
        cr_assert_geq(rep, 1);
        size_t n = clen * rep;
        uint8_t *m = malloc(n + 1);
        cr_assert_not_null(m);
        for (size_t r = 0; r < rep; r++)
            memcpy(m + r * clen, chunk, clen);
        UNHEX(v, "sha256", want);

        cy_sha256(got, m, n);
        cr_assert_arr_eq(got, want, CY_HASH_LEN, "vector %zu one-shot", i);
        /* two parts (cy_sha256_2), split anywhere */
        static const size_t cuts[] = {0, 1, 55, 56, 64, 65, 1000};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            size_t a = cuts[c] < n ? cuts[c] : n;
            memset(got, 0, sizeof got);
            cy_sha256_2(got, m, a, m + a, n - a);
            cr_assert_arr_eq(got, want, CY_HASH_LEN,
                             "vector %zu in two parts at %zu", i, a);
        }

        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            /* Byte-at-a-time over a megabyte is slow under ASan and tests
             * nothing more: small steps only for small inputs. */
            if (steps[s] < 64 && n > 100000)
                continue;
            struct cy_sha256 h;
            cy_sha256_init(&h);
            cy_sha256_update(&h, m, 0);
            for (size_t k = 0; k < n; k += steps[s])
                cy_sha256_update(&h, m + k,
                                 n - k < steps[s] ? n - k : steps[s]);
            cy_sha256_final(&h, got);
            cr_assert_arr_eq(got, want, CY_HASH_LEN,
                             "vector %zu in steps of %zu", i, steps[s]);
            /* final wipes the state (it may have hashed a secret salt) */
            static const uint8_t zero[sizeof h] = {0};
            cr_assert_arr_eq(&h, zero, sizeof h, "state not wiped");
        }
        free(chunk);
        free(m);
        nvec++;
    }
    cr_assert_geq(nvec, 10);
}

Test(hash, sha256_state_is_reusable_after_init)
{
    struct cy_sha256 h;
    uint8_t a[CY_HASH_LEN], b[CY_HASH_LEN];
    cy_sha256_init(&h);
    cy_sha256_update(&h, "garbage", 7);
    cy_sha256_init(&h); /* restart discards what came before */
    cy_sha256_update(&h, "abc", 3);
    cy_sha256_final(&h, a);
    cy_sha256(b, "abc", 3);
    cr_assert_arr_eq(a, b, CY_HASH_LEN);
    cy_sha256(b, NULL, 0);
    uint8_t e[CY_HASH_LEN];
    cr_assert_eq(cy_unhex(e, 32, "e3b0c44298fc1c149afbf4c8996fb924"
                                  "27ae41e4649b934ca495991b7852b855"),
                 0);
    cr_assert_arr_eq(b, e, CY_HASH_LEN, "SHA-256 of nothing, NULL pointer");
}

/* ======================= hex ======================= */

Test(hash, hex_round_trip_lower_case_out_either_case_in)
{
    uint8_t bin[256], back[256];
    char h[2 * sizeof bin + 1];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)i;
    cy_hex(h, bin, sizeof bin);
    cr_assert_eq(strlen(h), 2 * sizeof bin);
    cr_assert_eq(strncmp(h, "000102", 6), 0);
    cr_assert_str_eq(h + 2 * 250, "fafbfcfdfeff");
    cr_assert_eq(cy_unhex(back, sizeof back, h), 0);
    cr_assert_arr_eq(back, bin, sizeof bin);

    uint8_t b[4];
    cr_assert_eq(cy_unhex(b, 4, "00FFaa10"), 0);
    cr_assert_arr_eq(b, ((uint8_t[]){0x00, 0xff, 0xaa, 0x10}), 4);
    cy_hex(h, b, 4);
    cr_assert_str_eq(h, "00ffaa10");
    cr_assert_eq(cy_unhex(b, 0, ""), 0, "zero bytes from the empty string");
    cy_hex(h, b, 0);
    cr_assert_str_eq(h, "");
}

Test(hash, hex_refuses_wrong_length_and_characters)
{
    static const char *bad[] = {
        "",          "00",        "00ffaa1",   "00ffaa1000", "00ffaa1g",
        "g0ffaa10",  "00ff aa1",  " 00ffaa1",  "00ffaa1 ",   "0x00ffaa",
        "+0ffaa10",  "00ff:a10",  "00ffaa\n0", "00ff\xc3\xa9" "10",
    };
    uint8_t b[4];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(cy_unhex(b, 4, bad[i]), CB_EVALUE, "\"%s\" accepted",
                     bad[i]);
    cr_assert_eq(cy_unhex(b, 0, "0"), CB_EVALUE);
}

/* ======================= base64 ======================= */

Test(hash, base64_vectors)
{
    size_t i, good = 0, bad = 0;
    json_t *v;
    json_array_foreach(section("base64"), i, v) {
        const char *s = str(v, "b64");
        size_t slen = strlen(s), n = 99;
        uint8_t out[128];
        json_t *binj = json_object_get(v, "bin");
        if (json_is_null(binj)) {
            cr_assert_eq(cy_unb64(out, sizeof out, &n, s, slen), CB_EVALUE,
                         "non-canonical \"%s\" accepted", s);
            cr_assert_eq(n, 99, "outlen written on failure");
            bad++;
            continue;
        }
        size_t blen;
        uint8_t *bin = unhex_alloc(v, "bin", &blen);
        cr_assert_eq(cy_unb64(out, sizeof out, &n, s, slen), 0, "\"%s\"", s);
        cr_assert_eq(n, blen, "\"%s\"", s);
        cr_assert_arr_eq(out, bin, blen, "\"%s\"", s);
        /* exactly the decoded size is room enough */
        cr_assert_eq(cy_unb64(out, blen, &n, s, slen), 0, "\"%s\"", s);
        if (blen > 0)
            cr_assert_eq(cy_unb64(out, blen - 1, &n, s, slen), CB_ETOOBIG,
                         "\"%s\" into %zu bytes", s, blen - 1);
        /* and encoding gives the vector back */
        char enc[256];
        cr_assert_eq(cy_b64_len(blen), slen + 1);
        memset(enc, 'x', sizeof enc);
        cy_b64(enc, bin, blen);
        cr_assert_str_eq(enc, s);
        free(bin);
        good++;
    }
    cr_assert_geq(good, 10);
    cr_assert_geq(bad, 20);
}

Test(hash, base64_reads_only_its_length)
{
    uint8_t out[8];
    size_t n;
    /* The length bounds the input: a valid prefix of a longer buffer... */
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "YWI=garbage", 4), 0);
    cr_assert_eq(n, 2);
    cr_assert_arr_eq(out, "ab", 2);
    /* ...and a NUL inside the length is not the end. */
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "YW\0=", 4), CB_EVALUE);
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "YWI=\0\0\0\0", 8), CB_EVALUE);
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "", 0), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(cy_unb64(out, 0, &n, "", 0), 0);
}

/* ======================= randomness, secrets ======================= */

/* libsodium 1.0.18's base64 decoder maps bytes >= 0x80 to 0x3f bits
 * instead of refusing them (found by fuzz_keys: "\237\270\251\214\235\270
 * \307\311" decoded to six 0xff bytes), so one key or signature line had
 * many spellings. Every byte outside the alphabet must be refused. */
Test(hash, base64_refuses_bytes_outside_the_alphabet)
{
    uint8_t out[16];
    size_t n = 0;
    const char high[] = "\237\270\251\214\235\270\307\311";
    cr_assert_eq(cy_unb64(out, sizeof out, &n, high, 8), CB_EVALUE);
    for (unsigned c = 0; c < 256; c++) {
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || c == '+' || c == '/';
        char s[5] = {'Y', 'W', 'J', (char)c, 0}; /* "YWJ?" */
        int rv = cy_unb64(out, sizeof out, &n, s, 4);
        if (alpha)
            cr_assert_eq(rv, 0, "byte 0x%02x refused", c);
        else if (c != '=')
            cr_assert_eq(rv, CB_EVALUE, "byte 0x%02x accepted", c);
    }
}

Test(hash, random_wipe_equal)
{
    uint8_t a[32], b[32], zero[32] = {0};
    cy_random(a, sizeof a);
    cy_random(b, sizeof b);
    cr_assert(!cy_equal(a, b, sizeof a), "two draws of 256 bits equal");
    cr_assert(!cy_equal(a, zero, sizeof a));
    cy_random(a, 0);
    cy_wipe(a, sizeof a);
    cr_assert_arr_eq(a, zero, sizeof a);
    cr_assert(cy_equal("abc", "abc", 3));
    cr_assert(!cy_equal("abc", "abd", 3));
    cr_assert(!cy_equal("\x80", "\x00", 1));
    cr_assert(cy_equal("x", "y", 0));
}

/* ======================= Ed25519 ======================= */

TestSuite(sign, .init = setup, .fini = teardown);

Test(sign, keys_from_seed_match_nacl)
{
    size_t i;
    json_t *k;
    json_array_foreach(section("keys"), i, k) {
        const char *name = str(k, "name");
        uint8_t seed[CY_SEED_LEN], pk[CY_PK_LEN];
        struct cy_key key;
        UNHEX(k, "seed", seed);
        UNHEX(k, "pk", pk);
        cr_assert_eq(cy_key_from_seed(&key, name, seed), 0, "%s", name);
        cr_assert_arr_eq(key.pk, pk, CY_PK_LEN, "%s: public key", name);
        cr_assert_arr_eq(key.seed, seed, CY_SEED_LEN);
        cr_assert_arr_eq(key.sk, seed, 32, "sk = seed || pk");
        cr_assert_arr_eq(key.sk + 32, pk, 32, "sk = seed || pk");
        cr_assert_str_eq(key.name, name);
        cr_assert_eq(cy_pk_check(key.pk), 0);

        /* seed and name may come from the key itself */
        struct cy_key again = key;
        cr_assert_eq(cy_key_from_seed(&again, again.name, again.seed), 0);
        cr_assert_arr_eq(&again, &key, sizeof key);

        cy_key_wipe(&key);
        static const uint8_t zero[sizeof key] = {0};
        cr_assert_arr_eq(&key, zero, sizeof key, "wiped");
        cy_key_wipe(&again);
    }
    cr_assert_geq(i, 5);
}

Test(sign, signatures_match_nacl_and_verify)
{
    size_t i, nsig = 0;
    json_t *k;
    json_array_foreach(section("keys"), i, k) {
        uint8_t seed[CY_SEED_LEN], pk[CY_PK_LEN];
        struct cy_key key;
        UNHEX(k, "seed", seed);
        UNHEX(k, "pk", pk);
        cr_assert_eq(cy_key_from_seed(&key, str(k, "name"), seed), 0);
        size_t j;
        json_t *s;
        json_array_foreach(json_object_get(k, "sigs"), j, s) {
            size_t mlen;
            uint8_t *msg = unhex_alloc(s, "msg", &mlen);
            uint8_t sig[CY_SIG_LEN], want[CY_SIG_LEN];
            UNHEX(s, "sig", want);
            cy_sign(sig, msg, mlen, &key);
            cr_assert_arr_eq(sig, want, CY_SIG_LEN, "key %zu signature %zu",
                             i, j);
            cr_assert_eq(cy_verify(sig, msg, mlen, pk), 0);
            /* any flipped bit of the signature refuses it */
            for (size_t bit = 0; bit < 8 * CY_SIG_LEN; bit += 37) {
                sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                cr_assert_eq(cy_verify(sig, msg, mlen, pk), CB_EBADSIG,
                             "key %zu sig %zu bit %zu", i, j, bit);
                sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
            /* so does another message */
            if (mlen > 0) {
                msg[mlen - 1] ^= 1;
                cr_assert_eq(cy_verify(sig, msg, mlen, pk), CB_EBADSIG);
                msg[mlen - 1] ^= 1;
            }
            cr_assert_eq(cy_verify(sig, msg, mlen + 1, pk), CB_EBADSIG,
                         "one byte more");
            if (mlen == 0) {
                /* the empty message may come as NULL */
                cy_sign(sig, NULL, 0, &key);
                cr_assert_arr_eq(sig, want, CY_SIG_LEN);
                cr_assert_eq(cy_verify(sig, NULL, 0, pk), 0);
            }
            free(msg);
            nsig++;
        }
        cy_key_wipe(&key);
    }
    cr_assert_geq(nsig, 20);
}

Test(sign, signature_by_another_key_refused)
{
    json_t *keys = section("keys");
    uint8_t seed[CY_SEED_LEN], pk1[CY_PK_LEN], sig[CY_SIG_LEN];
    struct cy_key k0;
    UNHEX(json_array_get(keys, 0), "seed", seed);
    UNHEX(json_array_get(keys, 1), "pk", pk1);
    cr_assert_eq(cy_key_from_seed(&k0, "bank", seed), 0);
    cy_sign(sig, "credbank", 8, &k0);
    cr_assert_eq(cy_verify(sig, "credbank", 8, k0.pk), 0);
    cr_assert_eq(cy_verify(sig, "credbank", 8, pk1), CB_EBADSIG);
    cy_key_wipe(&k0);
}

Test(sign, verification_verdicts_match_libsodium_rules)
{
    size_t i, valid = 0, refused_but_equation_holds = 0;
    json_t *v;
    json_array_foreach(section("verify"), i, v) {
        uint8_t pk[CY_PK_LEN], sig[CY_SIG_LEN];
        size_t mlen;
        UNHEX(v, "pk", pk);
        UNHEX(v, "sig", sig);
        uint8_t *msg = unhex_alloc(v, "msg", &mlen);
        bool want = flag(v, "valid");
        cr_assert_eq(cy_verify(sig, msg, mlen, pk), want ? 0 : CB_EBADSIG,
                     "%s", str(v, "why"));
        valid += want;
        refused_but_equation_holds +=
            !want && flag(v, "cofactorless_equation");
        free(msg);
    }
    /* The vectors must include the interesting ones: a mixed-order key
     * that verifies, and small-order key or R and S + L that do not. */
    cr_assert_geq(valid, 2);
    cr_assert_geq(refused_but_equation_holds, 3);
}

Test(sign, pk_check_accepts_exactly_what_verification_accepts)
{
    size_t i, acc = 0, rej = 0, mixed = 0, noncanon = 0, small = 0, off = 0;
    json_t *v;
    json_array_foreach(section("pk_cases"), i, v) {
        uint8_t pk[CY_PK_LEN];
        UNHEX(v, "pk", pk);
        bool want = flag(v, "accept");
        cr_assert_eq(cy_pk_check(pk), want ? 0 : CB_EBADKEY, "%s: %s",
                     str(v, "pk"), str(v, "why"));
        /* the rule, restated from the vector's classification */
        const char *order = json_string_value(json_object_get(v, "order"));
        bool is_small = order != NULL && strcmp(order, "small") == 0;
        bool is_mixed = order != NULL && strcmp(order, "mixed") == 0;
        cr_assert_eq(want, flag(v, "canonical") && flag(v, "on_curve") &&
                               !is_small);
        acc += want;
        rej += !want;
        mixed += want && is_mixed;
        noncanon += !flag(v, "canonical");
        small += flag(v, "canonical") && is_small;
        off += !flag(v, "on_curve");
    }
    cr_assert_geq(mixed, 3, "mixed-order keys are accepted");
    cr_assert_eq(noncanon, 38, "every y >= p, both signs");
    cr_assert_geq(small, 8, "every point of small order");
    cr_assert_geq(off, 3);
    cr_assert_geq(acc, 8);
    cr_assert_geq(rej, 40);
}

Test(sign, pk_check_on_generated_keys_and_sign_bit)
{
    /* Flipping the sign bit of an honest key gives its negation: still a
     * canonical point of the main subgroup. */
    for (int i = 0; i < 32; i++) {
        struct cy_key k;
        cr_assert_eq(cy_key_generate(&k, "gen"), 0);
        cr_assert_eq(cy_pk_check(k.pk), 0);
        k.pk[31] ^= 0x80;
        cr_assert_eq(cy_pk_check(k.pk), 0);
        cy_key_wipe(&k);
    }
}

Test(sign, generate)
{
    struct cy_key a, b;
    uint8_t sig[CY_SIG_LEN];
    cr_assert_eq(cy_key_generate(&a, "bank"), 0);
    cr_assert_eq(cy_key_generate(&b, "bank"), 0);
    cr_assert(!cy_equal(a.seed, b.seed, CY_SEED_LEN), "fresh seeds");
    cr_assert(!cy_equal(a.pk, b.pk, CY_PK_LEN));
    cr_assert_str_eq(a.name, "bank");
    cy_sign(sig, "m", 1, &a);
    cr_assert_eq(cy_verify(sig, "m", 1, a.pk), 0);
    cr_assert_eq(cy_verify(sig, "m", 1, b.pk), CB_EBADSIG);

    /* the same seed gives the same key */
    struct cy_key c;
    cr_assert_eq(cy_key_from_seed(&c, "bank", a.seed), 0);
    cr_assert_arr_eq(&c, &a, sizeof a);

    /* a bad name is refused before anything is written */
    struct cy_key d;
    memset(&d, 0xAA, sizeof d);
    struct cy_key before = d;
    cr_assert_eq(cy_key_generate(&d, "bad name"), CB_EINVAL);
    cr_assert_eq(cy_key_generate(&d, ""), CB_EINVAL);
    cr_assert_eq(cy_key_from_seed(&d, "a+b", a.seed), CB_EINVAL);
    cr_assert_arr_eq(&d, &before, sizeof d);
    cy_key_wipe(&a);
    cy_key_wipe(&b);
    cy_key_wipe(&c);
}
