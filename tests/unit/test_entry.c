/* Entries and signed entries against independent vectors
 * (spec/vectors/entries.json, made by gen_entries.py with python3-msgpack
 * and python3-nacl), plus building, co-signing and JSON rendering. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/entry.h>

static json_t *vec;

static void load(void)
{
    cr_assert_eq(cy_init(), 0);
    json_error_t e;
    vec = json_load_file(CB_SOURCE_DIR "/spec/vectors/entries.json", 0, &e);
    cr_assert_not_null(vec, "entries.json: %s", e.text);
}

static void unload(void)
{
    json_decref(vec);
}

TestSuite(entry, .init = load, .fini = unload);

/* Decodes hex of a JSON string member into a malloc'd buffer. */
static uint8_t *unhex(json_t *o, const char *k, size_t *len)
{
    const char *s = json_string_value(json_object_get(o, k));
    cr_assert_not_null(s, "vector lacks %s", k);
    *len = strlen(s) / 2;
    uint8_t *b = malloc(*len ? *len : 1);
    cr_assert_eq(cy_unhex(b, *len, s), 0);
    return b;
}

static void seed_key(struct cy_key *k, const char *name)
{
    uint8_t seed[32];
    const char *hex =
        json_string_value(json_object_get(json_object_get(vec, "seeds"), name));
    cr_assert_not_null(hex, "no seed for %s", name);
    cr_assert_eq(cy_unhex(seed, 32, hex), 0);
    cr_assert_eq(cy_key_from_seed(k, name, seed), 0);
}

Test(entry, valid_vectors_decode_verify_and_rebuild)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "valid"), i, v) {
        const char *desc = json_string_value(json_object_get(v, "description"));
        size_t slen, elen, blen, idlen;
        uint8_t *sb = unhex(v, "signed", &slen);
        uint8_t *eb = unhex(v, "entry", &elen);
        uint8_t *body = unhex(v, "body", &blen);
        uint8_t *id = unhex(v, "id", &idlen);

        struct lg_signed s;
        struct cb_err err = {0, ""};
        lg_signed_init(&s);
        cr_assert_eq(lg_signed_decode(&s, sb, slen, &err), 0, "%s: %s", desc,
                     err.msg);
        cr_assert_eq(lg_signed_verify(&s, &err), 0, "%s: %s", desc, err.msg);
        cr_assert_eq(s.e.len, elen, "%s", desc);
        cr_assert_arr_eq(s.e.bytes, eb, elen, "%s", desc);
        cr_assert_arr_eq(s.e.id, id, 32, "%s: id", desc);
        cr_assert_str_eq(lg_type_name(s.e.type),
                         json_string_value(json_object_get(v, "type")));

        /* Rebuild the entry from its fields: identical bytes. */
        struct cy_key author;
        seed_key(&author, json_string_value(json_object_get(v, "author")));
        size_t n;
        uint8_t *nonce = unhex(v, "nonce", &n);
        uint8_t ledger[32], account[32];
        json_t *jl = json_object_get(v, "ledger"),
               *ja = json_object_get(v, "account");
        if (json_is_string(jl))
            cy_unhex(ledger, 32, json_string_value(jl));
        if (json_is_string(ja))
            cy_unhex(account, 32, json_string_value(ja));
        json_t *jrefs = json_object_get(v, "refs");
        size_t nrefs = json_array_size(jrefs);
        uint8_t(*refs)[32] = calloc(nrefs + 1, 32);
        for (size_t r = 0; r < nrefs; r++)
            cy_unhex(refs[r], 32, json_string_value(json_array_get(jrefs, r)));
        struct lg_entry_spec spec = {
            .ledger = json_is_string(jl) ? ledger : NULL,
            .type = s.e.type,
            .author = author.pk,
            .ts = (uint64_t)json_integer_value(json_object_get(v, "ts")),
            .nonce = nonce,
            .account = json_is_string(ja) ? account : NULL,
            .refs = (const uint8_t(*)[32])refs,
            .nrefs = nrefs,
            .body = body,
            .body_len = blen,
        };
        struct lg_w w;
        lg_w_init(&w);
        cr_assert_eq(lg_entry_encode(&w, &spec), 0, "%s", desc);
        cr_assert_eq(lg_w_len(&w), elen, "%s: rebuilt length", desc);
        cr_assert_arr_eq(lg_w_data(&w), eb, elen, "%s: rebuilt bytes", desc);

        /* Re-sign with the same keys: identical signed bytes. */
        struct cy_key keys[8];
        struct lg_sig sigs[8];
        uint8_t raw[8][64];
        size_t ns = 0;
        keys[ns] = author;
        json_t *jsig;
        size_t k;
        json_array_foreach(json_object_get(v, "signers"), k, jsig)
            seed_key(&keys[++ns], json_string_value(jsig));
        ns++;
        /* reverse order on purpose: lg_signed_encode must sort them */
        for (size_t a = 0; a < ns; a++) {
            size_t from = ns - 1 - a;
            cr_assert_eq(lg_entry_sign(raw[a], eb, elen, &keys[from]), 0);
            sigs[a].pk = keys[from].pk;
            sigs[a].sig = raw[a];
        }
        struct lg_w sw;
        lg_w_init(&sw);
        cr_assert_eq(lg_signed_encode(&sw, eb, elen, author.pk, sigs, ns), 0);
        cr_assert_eq(lg_w_len(&sw), slen, "%s: signed length", desc);
        cr_assert_arr_eq(lg_w_data(&sw), sb, slen, "%s: signed bytes", desc);

        lg_w_release(&w);
        lg_w_release(&sw);
        lg_signed_release(&s);
        free(refs);
        free(nonce);
        free(sb);
        free(eb);
        free(body);
        free(id);
    }
    cr_assert_gt(i, 4);
}

Test(entry, rejected_vectors_fail_with_their_code)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "rejected"), i, v) {
        const char *desc = json_string_value(json_object_get(v, "description"));
        const char *want = json_string_value(json_object_get(v, "error"));
        size_t len;
        uint8_t *b = unhex(v, "signed", &len);
        struct lg_signed s;
        struct cb_err err = {0, ""};
        lg_signed_init(&s);
        int rv = lg_signed_decode(&s, b, len, &err);
        if (rv == 0)
            rv = lg_signed_verify(&s, &err);
        cr_expect_str_eq(cb_errname(rv), want, "%s: got %s (%s)", desc,
                         cb_errname(rv), err.msg);
        cr_expect_neq(err.msg[0], '\0', "%s: no message", desc);
        lg_signed_release(&s);
        free(b);
    }
    cr_assert_gt(i, 10);
}

Test(entry, cosign_adds_in_order_and_refuses_twice)
{
    struct cy_key a, b, c;
    uint8_t seed[32] = {1};
    cy_key_from_seed(&a, "a", seed);
    seed[0] = 2;
    cy_key_from_seed(&b, "b", seed);
    seed[0] = 3;
    cy_key_from_seed(&c, "c", seed);
    uint8_t ledger[32] = {9}, account[32] = {7};
    struct lg_w body, e, s1, s2, s3;
    lg_w_init(&body);
    lg_w_init(&e);
    lg_w_init(&s1);
    lg_w_init(&s2);
    lg_w_init(&s3);
    lg_w_map(&body, 1);
    lg_w_cstr(&body, "reason");
    lg_w_cstr(&body, "error");
    struct lg_entry_spec spec = {.ledger = ledger,
                                 .type = LG_T_ACCOUNT_CANCEL,
                                 .author = a.pk,
                                 .ts = 1,
                                 .account = account,
                                 .body = lg_w_data(&body),
                                 .body_len = lg_w_len(&body)};
    cr_assert_eq(lg_entry_encode(&e, &spec), 0);
    uint8_t sig[64];
    lg_entry_sign(sig, lg_w_data(&e), lg_w_len(&e), &a);
    struct lg_sig one = {a.pk, sig};
    cr_assert_eq(lg_signed_encode(&s1, lg_w_data(&e), lg_w_len(&e), a.pk, &one,
                                  1), 0);
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_signed_cosign(&s2, lg_w_data(&s1), lg_w_len(&s1), &c, &err),
                 0, "%s", err.msg);
    cr_assert_eq(lg_signed_cosign(&s3, lg_w_data(&s2), lg_w_len(&s2), &b, &err),
                 0, "%s", err.msg);
    struct lg_signed s;
    lg_signed_init(&s);
    cr_assert_eq(lg_signed_decode(&s, lg_w_data(&s3), lg_w_len(&s3), &err), 0,
                 "%s", err.msg);
    cr_assert_eq(lg_signed_verify(&s, &err), 0, "%s", err.msg);
    cr_assert_eq(s.nsigs, 3);
    cr_assert_arr_eq(s.sigs[0].pk, a.pk, 32);
    cr_assert_lt(memcmp(s.sigs[1].pk, s.sigs[2].pk, 32), 0);
    lg_w_reset(&s2);
    cr_assert_eq(lg_signed_cosign(&s2, lg_w_data(&s3), lg_w_len(&s3), &b, &err),
                 CB_EEXISTS);
    /* A forged co-signature (bytes flipped) fails verification. */
    uint8_t *copy = malloc(lg_w_len(&s3));
    memcpy(copy, lg_w_data(&s3), lg_w_len(&s3));
    copy[lg_w_len(&s3) - 1] ^= 0x80;
    struct lg_signed t;
    lg_signed_init(&t);
    cr_assert_eq(lg_signed_decode(&t, copy, lg_w_len(&s3), &err), 0);
    cr_assert_eq(lg_signed_verify(&t, &err), CB_EBADSIG);
    lg_signed_release(&t);
    free(copy);

    json_t *j = lg_signed_json(&s);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")),
                     "account.cancel");
    cr_assert_eq(json_array_size(json_object_get(j, "sigs")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(j, "entry"), "body"),
                         "reason")),
                     "error");
    json_decref(j);
    lg_signed_release(&s);
    lg_w_release(&body);
    lg_w_release(&e);
    lg_w_release(&s1);
    lg_w_release(&s2);
    lg_w_release(&s3);
}

Test(entry, encode_refuses_envelope_breaks)
{
    uint8_t k[32] = {1}, body[] = {0x80};
    struct lg_w w;
    lg_w_init(&w);
    struct lg_entry_spec spec = {.type = LG_T_OUTCOME_DEPOSIT, .author = k,
                                 .ledger = k, .body = body, .body_len = 1};
    cr_assert_eq(lg_entry_encode(&w, &spec), CB_EINVAL, "account missing");
    spec.type = LG_T_GENESIS;
    cr_assert_eq(lg_entry_encode(&w, &spec), CB_EINVAL, "genesis has ledger");
    spec.type = LG_T_NONE;
    cr_assert_eq(lg_entry_encode(&w, &spec), CB_EINVAL, "no type");
    lg_w_release(&w);
}

Test(entry, type_table)
{
    cr_assert_eq(lg_type_parse("class.change", 12), LG_T_CLASS_CHANGE);
    cr_assert_eq(lg_type_parse("class.chang", 11), LG_T_NONE);
    cr_assert(lg_type_has_account(LG_T_ACCOUNT_REKEY));
    cr_assert(!lg_type_has_account(LG_T_ACCOUNT_OPEN));
    cr_assert(lg_type_is_governance(LG_T_KEY_ROTATE));
    cr_assert(!lg_type_is_governance(LG_T_SEAL));
    for (int t = LG_T_NONE + 1; t < LG_T__COUNT; t++) {
        const char *n = lg_type_name((enum lg_type)t);
        cr_assert_eq(lg_type_parse(n, strlen(n)), t);
    }
}

/* A decoder's zones start small (512 B for the envelope, 1 KiB for the
 * entry map): the most signatures an entry may carry, and a body larger than
 * the first chunk, take further chunks; one decoder goes from such an entry
 * to a small one and back, every signature read and verified each time. */
Test(entry, decoders_grow_past_their_first_chunks_and_back)
{
    enum { N = LG_MAX_SIGS };
    static struct cy_key k[N];
    static uint8_t raw[N][64];
    static struct lg_sig sigs[N];
    uint8_t seed[32] = {0};
    for (int i = 0; i < N; i++) {
        seed[0] = (uint8_t)i;
        seed[1] = 0x5a;
        cr_assert_eq(cy_key_from_seed(&k[i], "k", seed), 0);
    }
    uint8_t ledger[32] = {9}, account[32] = {7};
    struct lg_w body, e, big, small;
    lg_w_init(&body);
    lg_w_init(&e);
    lg_w_init(&big);
    lg_w_init(&small);
    lg_w_map(&body, 60); /* 60 keys "f00".."f59": a map of 2.9 KiB */
    for (int i = 0; i < 60; i++) {
        char key[8];
        snprintf(key, sizeof key, "f%02d", i);
        lg_w_cstr(&body, key);
        lg_w_cstr(&body, "v");
    }
    struct lg_entry_spec spec = {.ledger = ledger,
                                 .type = LG_T_ACCOUNT_CANCEL,
                                 .author = k[0].pk,
                                 .ts = 1,
                                 .account = account,
                                 .body = lg_w_data(&body),
                                 .body_len = lg_w_len(&body)};
    cr_assert_eq(lg_entry_encode(&e, &spec), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(lg_entry_sign(raw[i], lg_w_data(&e), lg_w_len(&e), &k[i]),
                     0);
        sigs[i] = (struct lg_sig){k[i].pk, raw[i]};
    }
    cr_assert_eq(lg_signed_encode(&big, lg_w_data(&e), lg_w_len(&e), k[0].pk,
                                  sigs, N), 0);
    cr_assert_eq(lg_signed_encode(&small, lg_w_data(&e), lg_w_len(&e),
                                  k[0].pk, sigs, 1), 0);
    struct lg_signed s;
    lg_signed_init(&s);
    struct cb_err err = {0, ""};
    struct lg_w *seq[] = {&big, &small, &big};
    size_t want[] = {N, 1, N};
    for (int r = 0; r < 3; r++) {
        cr_assert_eq(lg_signed_decode(&s, lg_w_data(seq[r]), lg_w_len(seq[r]),
                                      &err), 0, "%s", err.msg);
        cr_assert_eq(s.nsigs, want[r]);
        cr_assert_arr_eq(s.sigs[0].pk, k[0].pk, 32);
        for (size_t i = 2; i < s.nsigs; i++)
            cr_assert_lt(memcmp(s.sigs[i - 1].pk, s.sigs[i].pk, 32), 0);
        cr_assert_eq(s.e.body->via.map.size, 60);
        cr_assert_eq(lg_signed_verify(&s, &err), 0, "%s", err.msg);
    }
    lg_signed_release(&s);
    lg_w_release(&body);
    lg_w_release(&e);
    lg_w_release(&big);
    lg_w_release(&small);
}
