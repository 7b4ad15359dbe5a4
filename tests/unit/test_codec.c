/* Canonical MessagePack: python3-msgpack vectors (spec/vectors/msgpack.json),
 * random round trips, field matching, strmap, JSON in and out. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>

static json_t *vec;
static struct lg_doc doc;

static void setup(void)
{
    json_error_t e;
    vec = json_load_file(CB_SOURCE_DIR "/spec/vectors/msgpack.json", 0, &e);
    cr_assert_not_null(vec, "%s", e.text);
    lg_doc_init(&doc);
}

static void teardown(void)
{
    json_decref(vec);
    lg_doc_release(&doc);
}

TestSuite(codec, .init = setup, .fini = teardown);

static uint8_t *unhex(const char *s, size_t *len)
{
    *len = strlen(s) / 2;
    uint8_t *b = malloc(*len + 1);
    cr_assert_eq(cy_unhex(b, *len, s), 0);
    return b;
}

Test(codec, canonical_vectors_round_trip)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "canonical"), i, v) {
        const char *desc = json_string_value(json_object_get(v, "description"));
        size_t len;
        uint8_t *b = unhex(json_string_value(json_object_get(v, "hex")), &len);
        struct cb_err err = {0, ""};
        struct lg_limits lim = {.max_str = 1024};
        int rv = lg_decode(&doc, b, len, &lim, &err);
        cr_assert_eq(rv, 0, "%s: %s", desc, err.msg);
        struct lg_w w;
        lg_w_init(&w);
        lg_w_obj(&w, &doc.root);
        cr_assert_eq(lg_w_error(&w), 0);
        cr_assert_eq(lg_w_len(&w), len, "%s: length", desc);
        cr_assert_arr_eq(lg_w_data(&w), b, len, "%s: bytes", desc);
        lg_w_release(&w);
        free(b);
    }
    cr_assert_gt(i, 30);
}

Test(codec, rejected_vectors_fail_with_their_code)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "rejected"), i, v) {
        const char *desc = json_string_value(json_object_get(v, "description"));
        const char *want = json_string_value(json_object_get(v, "error"));
        size_t len;
        uint8_t *b = unhex(json_string_value(json_object_get(v, "hex")), &len);
        struct cb_err err = {0, ""};
        int rv = lg_decode(&doc, b, len, NULL, &err);
        cr_expect_str_eq(cb_errname(rv), want, "%s: got %s (%s)", desc,
                         cb_errname(rv), err.msg);
        cr_expect_eq(strncmp(err.msg, "$", 1), 0, "%s: message %s lacks a path",
                     desc, err.msg);
        free(b);
    }
    cr_assert_gt(i, 30);
}

Test(codec, messages_name_the_path)
{
    /* {"a": [1, {"b": 0xcc 0x05}]} */
    uint8_t b[] = {0x81, 0xa1, 'a', 0x92, 0x01, 0x81, 0xa1, 'b', 0xcc, 0x05};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_decode(&doc, b, sizeof b, NULL, &err), CB_ENONCANON);
    cr_assert_not_null(strstr(err.msg, "$.a[1].b"), "%s", err.msg);
}

/* ---- random round trips ---- */
static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_value(struct lg_w *w, int depth)
{
    int kind = (int)(next() % (depth > 4 ? 4 : 6));
    switch (kind) {
    case 0: {
        static const uint64_t edges[] = {0, 127, 128, 255, 256, 65535, 65536,
                                         0xffffffffull, 0x100000000ull,
                                         UINT64_MAX};
        lg_w_uint(w, next() % 2 ? edges[next() % 10] : next() >> (next() % 64));
        break;
    }
    case 1:
        lg_w_bool(w, next() % 2);
        break;
    case 2: {
        char s[300];
        size_t n = next() % 300;
        for (size_t i = 0; i < n; i++)
            s[i] = (char)('a' + next() % 26);
        lg_w_str(w, s, n);
        break;
    }
    case 3: {
        uint8_t b[300];
        size_t n = next() % 300;
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)next();
        lg_w_bin(w, b, n);
        break;
    }
    case 4: {
        uint32_t n = (uint32_t)(next() % 20);
        lg_w_array(w, n);
        for (uint32_t i = 0; i < n; i++)
            random_value(w, depth + 1);
        break;
    }
    default: {
        uint32_t n = (uint32_t)(next() % 20);
        /* keys k00, k01, ... are already in canonical order */
        lg_w_map(w, n);
        for (uint32_t i = 0; i < n; i++) {
            char k[16];
            snprintf(k, sizeof k, "k%02u", i);
            lg_w_cstr(w, k);
            random_value(w, depth + 1);
        }
        break;
    }
    }
}

Test(codec, random_values_round_trip)
{
    for (int i = 0; i < 3000; i++) {
        struct lg_w w, w2;
        lg_w_init(&w);
        lg_w_init(&w2);
        random_value(&w, 0);
        struct cb_err err = {0, ""};
        int rv = lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, &err);
        cr_assert_eq(rv, 0, "value %d: %s", i, err.msg);
        lg_w_obj(&w2, &doc.root);
        cr_assert_eq(lg_w_len(&w2), lg_w_len(&w));
        cr_assert_arr_eq(lg_w_data(&w2), lg_w_data(&w), lg_w_len(&w));
        /* every strict prefix is refused, never crashes */
        if (lg_w_len(&w) > 1)
            cr_assert_neq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w) / 2,
                                    NULL, NULL), 0);
        lg_w_release(&w);
        lg_w_release(&w2);
    }
}

Test(codec, fields_match_maps)
{
    json_error_t je;
    json_t *j = json_loads("{\"b\":1,\"c\":\"x\",\"k\":\"hex:0102\"}", 0, &je);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_w_json(&w, j, NULL), 0);
    json_decref(j);
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, NULL), 0);
    const msgpack_object *a, *b, *c, *k;
    struct cb_err err = {0, ""};
    struct lg_field f[] = {
        {"a", LG_UINT, 0, true, &a},
        {"b", LG_UINT, 0, false, &b},
        {"c", LG_STR, 0, false, &c},
        {"k", LG_BIN, 2, false, &k},
    };
    cr_assert_eq(lg_fields(&doc.root, f, 4, "body", &err), 0, "%s", err.msg);
    cr_assert_null(a);
    cr_assert_eq(b->via.u64, 1);
    cr_assert(lg_is_str(c, "x"));
    f[3].len = 3;
    cr_assert_eq(lg_fields(&doc.root, f, 4, "body", &err), CB_EVALUE);
    cr_assert_str_eq(err.msg, "body.k: expected 3 bytes, got 2");
    f[3].len = 2;
    f[2].kind = LG_UINT;
    cr_assert_eq(lg_fields(&doc.root, f, 4, "body", &err), CB_ETYPE);
    cr_assert_str_eq(err.msg, "body.c: expected uint");
    f[2].kind = LG_STR;
    /* unknown key: leave "c" out of the table */
    struct lg_field g[] = {f[0], f[1], f[3]};
    cr_assert_eq(lg_fields(&doc.root, g, 3, "body", &err), CB_EUNKNOWNKEY);
    cr_assert_str_eq(err.msg, "body: unknown key \"c\"");
    /* missing key */
    struct lg_field h[] = {f[0], f[1], f[2], f[3],
                           {"z", LG_ANY, 0, false, &a}};
    cr_assert_eq(lg_fields(&doc.root, h, 5, "body", &err), CB_EMISSINGKEY);
    cr_assert_str_eq(err.msg, "body: missing key \"z\"");
    lg_w_release(&w);
}

Test(codec, strmap_sorts_and_refuses_repeats)
{
    const char *k[] = {"name", "birth", "a", "ab"};
    const char *v[] = {"Kim", "2000-01-01", "1", "2"};
    struct lg_w w;
    lg_w_init(&w);
    lg_w_strmap(&w, k, v, 4);
    cr_assert_eq(lg_w_error(&w), 0);
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, NULL), 0);
    cr_assert(lg_is_str(&doc.root.via.map.ptr[0].key, "a"));
    cr_assert(lg_is_str(&doc.root.via.map.ptr[1].key, "ab"));
    cr_assert(lg_is_str(&doc.root.via.map.ptr[3].key, "name"));
    lg_w_reset(&w);
    const char *k2[] = {"x", "x"};
    lg_w_strmap(&w, k2, v, 2);
    cr_assert_eq(lg_w_error(&w), CB_EKEYORDER);
    lg_w_release(&w);
}

Test(codec, json_in_and_out)
{
    json_error_t je;
    json_t *j = json_loads("{\"z\":[true,false,0,18446744073],\"a\":\"hex:ff00\","
                           "\"m\":{\"é\":\"x\",\"e\":\"y\"}}", 0, &je);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_w_json(&w, j, NULL), 0);
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, NULL), 0);
    json_t *back = lg_json(&doc.root);
    cr_assert_str_eq(json_string_value(json_object_get(back, "a")), "ff00");
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(back, "z"),
                                                   3)), 18446744073);
    json_decref(back);
    json_decref(j);
    struct cb_err err = {0, ""};
    const char *bad[] = {"{\"a\":-1}", "{\"a\":1.5}", "{\"a\":null}",
                         "{\"a\":\"hex:f\"}", "{\"a\":\"hex:zz\"}"};
    for (size_t i = 0; i < 5; i++) {
        j = json_loads(bad[i], 0, &je);
        lg_w_reset(&w);
        cr_assert_eq(lg_w_json(&w, j, &err), CB_EJSON, "%s", bad[i]);
        cr_assert_not_null(strstr(err.msg, "$.a"), "%s", err.msg);
        json_decref(j);
    }
    /* a big uint renders as text */
    lg_w_reset(&w);
    lg_w_uint(&w, UINT64_MAX);
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, NULL), 0);
    back = lg_json(&doc.root);
    cr_assert_str_eq(json_string_value(back), "18446744073709551615");
    json_decref(back);
    lg_w_release(&w);
}

Test(codec, limits_are_configurable)
{
    struct lg_w w;
    lg_w_init(&w);
    char s[2000];
    memset(s, 'x', sizeof s);
    lg_w_str(&w, s, sizeof s);
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, NULL),
                 CB_ETOOBIG);
    struct lg_limits lim = {.max_str = 4096};
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), &lim, NULL), 0);
    lg_w_release(&w);
}
