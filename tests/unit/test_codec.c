/*
 * Canonical MessagePack (ledger/codec.c, ledger/json.c).
 *
 * - vectors from python3-msgpack (spec/vectors/msgpack.json): canonical ones
 *   decode and re-encode to the same bytes, and decode to the same tree as
 *   msgpack-c's own unpacker; rejected ones fail with exactly their code;
 * - the writer's bytes at every header boundary, and equal to msgpack-c's
 *   packer over an sbuffer;
 * - a seeded property test: random nested canonical values round-trip
 *   (decode(encode(x)) == x, encode(decode(b)) == b), and random mutations
 *   of them are either refused or still canonical;
 * - every rejection class with its code and the path in its message; memory
 *   bounded by the input; key order and UTF-8 edges; limits;
 * - lg_fields, lg_w_strmap, lg_w_take and friends, lg_json.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>

static struct lg_doc doc;
static struct lg_w w;

static void setup(void)
{
    lg_doc_init(&doc);
    lg_w_init(&w);
}

static void teardown(void)
{
    lg_doc_release(&doc);
    lg_w_release(&w);
}

TestSuite(codec, .init = setup, .fini = teardown);

/* ---------------- helpers ---------------- */

static uint8_t *unhex(const char *s, size_t *len)
{
    *len = strlen(s) / 2;
    uint8_t *b = malloc(*len + 1);
    cr_assert_not_null(b);
    cr_assert_eq(cy_unhex(b, *len, s), 0, "bad hex %.40s", s);
    return b;
}

static char *tohex(const uint8_t *b, size_t n)
{
    char *s = malloc(2 * n + 1);
    cr_assert_not_null(s);
    cy_hex(s, b, n);
    return s;
}

/* w's bytes must be exactly hex. */
#define W_IS(hex)                                                           \
    do {                                                                    \
        char *got_ = tohex(lg_w_data(&w), lg_w_len(&w));                    \
        cr_assert_eq(lg_w_error(&w), 0);                                    \
        cr_assert_str_eq(got_, hex);                                        \
        free(got_);                                                         \
    } while (0)

/* Decodes w's bytes, which must be canonical, and checks the round trip. */
static void decode_w_ok(void)
{
    struct cb_err err = {0, ""};
    int rv = lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, &err);
    cr_assert_eq(rv, 0, "%s", err.msg);
    struct lg_w again;
    lg_w_init(&again);
    lg_w_obj(&again, &doc.root);
    cr_assert_eq(lg_w_error(&again), 0);
    cr_assert_eq(lg_w_len(&again), lg_w_len(&w));
    cr_assert_arr_eq(lg_w_data(&again), lg_w_data(&w), lg_w_len(&w));
    lg_w_release(&again);
}

static bool valid_utf8(const char *s)
{
    json_t *j = json_string(s); /* jansson checks UTF-8 */
    json_decref(j);
    return j != NULL;
}

/* Decodes b[n]: must fail with code, and with message msg when not NULL
 * (a message always starts with the path "$", fits and is UTF-8). */
static void reject(const void *b, size_t n, int code, const char *msg,
                   const struct lg_limits *lim)
{
    struct cb_err err = {0, ""};
    int rv = lg_decode(&doc, b, n, lim, &err);
    cr_assert_eq(rv, code, "want %s, got %s (%s)", cb_errname(code),
                 cb_errname(rv), err.msg);
    cr_assert_eq(err.code, code);
    cr_assert_eq(err.msg[0], '$', "no path: %s", err.msg);
    cr_assert(valid_utf8(err.msg), "message not UTF-8");
    cr_assert_lt(strlen(err.msg), sizeof err.msg - 1, "message cut");
    if (msg != NULL)
        cr_assert_str_eq(err.msg, msg);
    /* the document is left empty, not half built */
    cr_assert_eq(doc.root.type, 0);
}

#define REJECT(bytes, code, msg)                                            \
    do {                                                                    \
        static const uint8_t b_[] = bytes;                                  \
        reject(b_, sizeof b_, code, msg, NULL);                             \
    } while (0)
#define B(...) {__VA_ARGS__}

static void reject_hex(const char *hex, int code, const char *msg)
{
    size_t n;
    uint8_t *b = unhex(hex, &n);
    reject(b, n, code, msg, NULL);
    free(b);
}

static void accept_hex(const char *hex)
{
    size_t n;
    uint8_t *b = unhex(hex, &n);
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_decode(&doc, b, n, NULL, &err), 0, "%s: %s", hex,
                 err.msg);
    free(b);
}

/* msgpack-c's own unpacker must read b[n] to the same tree as ours. Only
 * for input we accepted: its allocation is then bounded too. */
static void same_as_msgpack_c(const uint8_t *b, size_t n,
                              const msgpack_object *ours)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ret =
        msgpack_unpack_next(&u, (const char *)b, n, &off);
    cr_assert_eq(ret, MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(off, n);
    cr_assert(msgpack_object_equal(u.data, *ours));
    msgpack_unpacked_destroy(&u);
}

/* ---------------- python3-msgpack vectors ---------------- */

static json_t *load_vectors(void)
{
    json_error_t e;
    json_t *v = json_load_file(CB_SOURCE_DIR "/spec/vectors/msgpack.json", 0,
                               &e);
    cr_assert_not_null(v, "spec/vectors/msgpack.json: %s", e.text);
    return v;
}

Test(codec, canonical_vectors_round_trip)
{
    json_t *vec = load_vectors(), *v;
    size_t i;
    json_array_foreach(json_object_get(vec, "canonical"), i, v) {
        const char *desc = json_string_value(json_object_get(v, "description"));
        size_t len;
        uint8_t *b = unhex(json_string_value(json_object_get(v, "hex")), &len);
        struct cb_err err = {0, ""};
        cr_assert_eq(lg_decode(&doc, b, len, NULL, &err), 0, "%s: %s", desc,
                     err.msg);
        same_as_msgpack_c(b, len, &doc.root);
        lg_w_reset(&w);
        lg_w_obj(&w, &doc.root);
        cr_assert_eq(lg_w_error(&w), 0);
        cr_assert_eq(lg_w_len(&w), len, "%s: length", desc);
        cr_assert_arr_eq(lg_w_data(&w), b, len, "%s: bytes", desc);
        free(b);
    }
    cr_assert_geq(i, 50, "only %zu canonical vectors", i);
    json_decref(vec);
}

Test(codec, rejected_vectors_fail_with_their_code)
{
    json_t *vec = load_vectors(), *v;
    size_t i;
    json_array_foreach(json_object_get(vec, "rejected"), i, v) {
        const char *desc = json_string_value(json_object_get(v, "description"));
        const char *want = json_string_value(json_object_get(v, "error"));
        cr_assert_neq(cb_errcode(want), 0, "%s: unknown name %s", desc, want);
        size_t len;
        uint8_t *b = unhex(json_string_value(json_object_get(v, "hex")), &len);
        struct cb_err err = {0, ""};
        int rv = lg_decode(&doc, b, len, NULL, &err);
        cr_expect_str_eq(cb_errname(rv), want, "%s: got %s (%s)", desc,
                         cb_errname(rv), err.msg);
        cr_expect_eq(err.msg[0], '$', "%s: message %s lacks a path", desc,
                     err.msg);
        cr_expect(valid_utf8(err.msg), "%s: message not UTF-8", desc);
        free(b);
    }
    cr_assert_geq(i, 100, "only %zu rejected vectors", i);
    json_decref(vec);
}

/* ---------------- the writer's bytes ---------------- */

Test(codec, writer_uint_boundaries)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } t[] = {
        {0, "00"},
        {127, "7f"},
        {128, "cc80"},
        {255, "ccff"},
        {256, "cd0100"},
        {65535, "cdffff"},
        {65536, "ce00010000"},
        {0xffffffffull, "ceffffffff"},
        {0x100000000ull, "cf0000000100000000"},
        {UINT64_MAX, "cfffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        lg_w_reset(&w);
        lg_w_uint(&w, t[i].v);
        W_IS(t[i].hex);
        decode_w_ok();
        cr_assert_eq(doc.root.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        cr_assert_eq(doc.root.via.u64, t[i].v);
    }
    lg_w_reset(&w);
    lg_w_bool(&w, false);
    lg_w_bool(&w, true);
    W_IS("c2c3");
}

/* Header bytes of a str/bin of n bytes, an array/map of n. */
static char *head_hex(void (*put)(size_t), size_t n, size_t hdr)
{
    lg_w_reset(&w);
    put(n);
    cr_assert_eq(lg_w_error(&w), 0);
    cr_assert_geq(lg_w_len(&w), hdr);
    return tohex(lg_w_data(&w), hdr);
}

static char big[70000];
static void put_str(size_t n) { lg_w_str(&w, big, n); }
static void put_bin(size_t n) { lg_w_bin(&w, big, n); }
static void put_array(size_t n)
{
    lg_w_array(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        lg_w_uint(&w, 0);
}
static void put_map(size_t n)
{
    lg_w_map(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        char k[24];
        snprintf(k, sizeof k, "%05zx", i); /* canonical order */
        lg_w_cstr(&w, k);
        lg_w_bool(&w, true);
    }
}

Test(codec, writer_headers_are_shortest)
{
    memset(big, 'a', sizeof big);
    static const struct {
        void (*put)(size_t);
        size_t n, hdr;
        const char *hex;
    } t[] = {
        {put_str, 0, 1, "a0"},        {put_str, 31, 1, "bf"},
        {put_str, 32, 2, "d920"},     {put_str, 255, 2, "d9ff"},
        {put_str, 256, 3, "da0100"},  {put_str, 65535, 3, "daffff"},
        {put_str, 65536, 5, "db00010000"},
        {put_bin, 0, 2, "c400"},      {put_bin, 1, 2, "c401"},
        {put_bin, 255, 2, "c4ff"},    {put_bin, 256, 3, "c50100"},
        {put_bin, 65535, 3, "c5ffff"}, {put_bin, 65536, 5, "c600010000"},
        {put_array, 0, 1, "90"},      {put_array, 15, 1, "9f"},
        {put_array, 16, 3, "dc0010"}, {put_array, 65535, 3, "dcffff"},
        {put_array, 65536, 5, "dd00010000"},
        {put_map, 0, 1, "80"},        {put_map, 15, 1, "8f"},
        {put_map, 16, 3, "de0010"},   {put_map, 65535, 3, "deffff"},
        {put_map, 65536, 5, "df00010000"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *h = head_hex(t[i].put, t[i].n, t[i].hdr);
        cr_assert_str_eq(h, t[i].hex, "case %zu (n %zu)", i, t[i].n);
        free(h);
        /* and the strict decoder takes it back (str only up to a limit) */
        struct lg_limits lim = {.max_str = 1 << 20};
        struct cb_err err = {0, ""};
        cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), &lim,
                               &err),
                     0, "case %zu: %s", i, err.msg);
    }
}

/* The same values through msgpack-c's packer over an sbuffer: identical. */
Test(codec, writer_matches_msgpack_c_packer)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    memset(big, 'x', sizeof big);
    uint64_t rng = 7;
    for (int i = 0; i < 4000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t v = rng >> (rng % 64);
        size_t n = (size_t)(v % 70000);
        switch (i % 6) {
        case 0:
            lg_w_uint(&w, v);
            msgpack_pack_uint64(&pk, v);
            break;
        case 1:
            lg_w_str(&w, big, n % 300);
            msgpack_pack_str_with_body(&pk, big, n % 300);
            break;
        case 2:
            lg_w_bin(&w, big, n);
            msgpack_pack_bin_with_body(&pk, big, n);
            break;
        case 3:
            lg_w_array(&w, (uint32_t)v);
            msgpack_pack_array(&pk, (uint32_t)v);
            break;
        case 4:
            lg_w_map(&w, (uint32_t)v);
            msgpack_pack_map(&pk, (uint32_t)v);
            break;
        default:
            lg_w_bool(&w, v & 1);
            if (v & 1)
                msgpack_pack_true(&pk);
            else
                msgpack_pack_false(&pk);
        }
    }
    cr_assert_eq(lg_w_error(&w), 0);
    cr_assert_eq(lg_w_len(&w), sb.size);
    cr_assert_arr_eq(lg_w_data(&w), sb.data, sb.size);
    /* w->pk writes into the same buffer */
    lg_w_reset(&w);
    lg_w_uint(&w, 1);
    msgpack_pack_str_with_body(&w.pk, "ab", 2);
    lg_w_uint(&w, 300);
    W_IS("01a26162cd012c");
    msgpack_sbuffer_destroy(&sb);
}

Test(codec, writer_raw_take_reset_and_errors)
{
    lg_w_raw(&w, "\x92", 1);
    lg_w_uint(&w, 1);
    lg_w_raw(&w, "\xa1x", 2);
    lg_w_raw(&w, NULL, 0);
    W_IS("9201a178");
    decode_w_ok();

    size_t len = 99;
    uint8_t *p = lg_w_take(&w, &len);
    cr_assert_not_null(p);
    cr_assert_eq(len, 4);
    cr_assert_arr_eq(p, "\x92\x01\xa1x", 4);
    free(p);
    cr_assert_eq(lg_w_len(&w), 0); /* w reset and reusable */
    lg_w_cstr(&w, "ok");
    W_IS("a26f6b");
    lg_w_reset(&w);
    p = lg_w_take(&w, &len);
    cr_assert_not_null(p);
    cr_assert_eq(len, 0);
    free(p);

    /* a length msgpack cannot express is refused, and the error sticks */
    lg_w_cstr(&w, "a");
    lg_w_str(&w, "x", (size_t)UINT32_MAX + 1);
    cr_assert_eq(lg_w_error(&w), CB_ETOOBIG);
    lg_w_uint(&w, 5);
    cr_assert_eq(lg_w_len(&w), 2, "writes after an error are skipped");
    p = lg_w_take(&w, &len);
    cr_assert_null(p);
    cr_assert_eq(len, 0);
    lg_w_reset(&w);
    cr_assert_eq(lg_w_error(&w), 0);
    lg_w_bin(&w, "x", (size_t)UINT32_MAX + 1);
    cr_assert_eq(lg_w_error(&w), CB_ETOOBIG);

    /* lg_w_obj refuses what is not canonical */
    lg_w_reset(&w);
    msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    lg_w_obj(&w, &nil);
    cr_assert_eq(lg_w_error(&w), CB_EINVAL);
    lg_w_reset(&w);
    msgpack_object neg = {.type = MSGPACK_OBJECT_NEGATIVE_INTEGER};
    neg.via.i64 = -1;
    lg_w_obj(&w, &neg);
    cr_assert_eq(lg_w_error(&w), CB_EINVAL);
}

/* ---------------- property test ---------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic for a given seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static size_t rndn(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* Appends one random code point as UTF-8; returns its length. */
static size_t rnd_char(char *out)
{
    uint32_t cp;
    switch (rndn(8)) {
    case 0: cp = 0x80 + (uint32_t)rndn(0x780); break;
    case 1:
        do
            cp = 0x800 + (uint32_t)rndn(0xf800);
        while (cp >= 0xd800 && cp <= 0xdfff);
        break;
    case 2: cp = 0x10000 + (uint32_t)rndn(0x100000); break;
    case 3: cp = (uint32_t)rndn(0x80); break; /* NUL and controls too */
    default: cp = 'a' + (uint32_t)rndn(26); break;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static msgpack_object rnd_str(msgpack_zone *z, size_t max)
{
    size_t want = rndn(4) == 0 ? rndn(max + 1) : rndn(12);
    char *s = msgpack_zone_malloc(z, want + 4);
    size_t n = 0;
    while (n < want) {
        char c[4];
        size_t k = rnd_char(c);
        if (n + k > want)
            break;
        memcpy(s + n, c, k);
        n += k;
    }
    msgpack_object o = {.type = MSGPACK_OBJECT_STR};
    o.via.str.ptr = s;
    o.via.str.size = (uint32_t)n;
    return o;
}

static int kv_cmp(const void *a, const void *b)
{
    const msgpack_object_kv *x = a, *y = b;
    return lg_keycmp(x->key.via.str.ptr, x->key.via.str.size,
                     y->key.via.str.ptr, y->key.via.str.size);
}

/* A random canonical value (the model), nested at most 16 deep. */
static msgpack_object rnd_value(msgpack_zone *z, unsigned depth)
{
    msgpack_object o;
    memset(&o, 0, sizeof o);
    size_t kind = rndn(depth >= 16 ? 4 : depth > 5 ? 5 : 6);
    switch (kind) {
    case 0: {
        static const uint64_t edges[] = {0, 127, 128, 255, 256, 65535, 65536,
                                         0xffffffffull, 0x100000000ull,
                                         UINT64_MAX};
        o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o.via.u64 = rndn(3) == 0 ? edges[rndn(10)] : rnd() >> rndn(64);
        break;
    }
    case 1:
        o.type = MSGPACK_OBJECT_BOOLEAN;
        o.via.boolean = rnd() & 1;
        break;
    case 2:
        o = rnd_str(z, rndn(20) == 0 ? 1024 : 300);
        break;
    case 3: {
        size_t n = rndn(10) == 0 ? 70000 : rndn(10) == 0 ? 300 : rndn(40);
        uint8_t *b = msgpack_zone_malloc(z, n + 1);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)rnd();
        o.type = MSGPACK_OBJECT_BIN;
        o.via.bin.ptr = (const char *)b;
        o.via.bin.size = (uint32_t)n;
        break;
    }
    case 4: {
        uint32_t n = (uint32_t)rndn(rndn(8) == 0 ? 40 : 6);
        o.type = MSGPACK_OBJECT_ARRAY;
        o.via.array.size = n;
        o.via.array.ptr = msgpack_zone_malloc(z, (n + 1) * sizeof(o));
        for (uint32_t i = 0; i < n; i++)
            o.via.array.ptr[i] = rnd_value(z, depth + 1);
        break;
    }
    default: {
        uint32_t n = (uint32_t)rndn(rndn(8) == 0 ? 40 : 6);
        msgpack_object_kv *kv = msgpack_zone_malloc(z, (n + 1) * sizeof *kv);
        for (uint32_t i = 0; i < n; i++) {
            /* short keys so that prefixes and repeats happen */
            kv[i].key = rnd_str(z, rndn(3) == 0 ? 40 : 3);
            kv[i].val = rnd_value(z, depth + 1);
        }
        qsort(kv, n, sizeof *kv, kv_cmp);
        uint32_t m = 0; /* drop repeated keys */
        for (uint32_t i = 0; i < n; i++)
            if (m == 0 || kv_cmp(&kv[m - 1], &kv[i]) != 0)
                kv[m++] = kv[i];
        o.type = MSGPACK_OBJECT_MAP;
        o.via.map.size = m;
        o.via.map.ptr = kv;
        break;
    }
    }
    return o;
}

Test(codec, property_random_values_round_trip, .timeout = 120)
{
    msgpack_zone z;
    msgpack_zone_init(&z, 1 << 16);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    rng_state = 0x9e3779b97f4a7c15ull; /* fixed seed: reproducible */
    size_t bytes = 0;
    for (int i = 0; i < 3000; i++) {
        msgpack_zone_clear(&z);
        msgpack_object model = rnd_value(&z, 0);
        /* encode(x) with lg_w, and with msgpack-c's packer: same bytes */
        lg_w_reset(&w);
        lg_w_obj(&w, &model);
        cr_assert_eq(lg_w_error(&w), 0);
        sb.size = 0;
        msgpack_pack_object(&pk, model);
        cr_assert_eq(sb.size, lg_w_len(&w), "value %d", i);
        cr_assert_arr_eq(sb.data, lg_w_data(&w), sb.size, "value %d", i);
        /* decode(encode(x)) == x and encode(decode(b)) == b */
        struct cb_err err = {0, ""};
        int rv = lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, &err);
        cr_assert_eq(rv, 0, "value %d: %s", i, err.msg);
        cr_assert(msgpack_object_equal(doc.root, model), "value %d", i);
        decode_w_ok();
        bytes += lg_w_len(&w);

        /* every proper prefix is refused as truncated */
        size_t cut = rndn(lg_w_len(&w));
        cr_assert_eq(lg_decode(&doc, lg_w_data(&w), cut, NULL, NULL),
                     CB_EMSGPACK, "value %d cut at %zu", i, cut);
    }
    cr_assert_gt(bytes, 100000);
    msgpack_sbuffer_destroy(&sb);
    msgpack_zone_destroy(&z);
}

/* Mutated canonical bytes: refused, or accepted and then still canonical
 * and read alike by msgpack-c. */
Test(codec, property_mutations_are_refused_or_canonical, .timeout = 120)
{
    msgpack_zone z;
    msgpack_zone_init(&z, 1 << 16);
    rng_state = 12345;
    int accepted = 0, refused = 0;
    for (int i = 0; i < 1500; i++) {
        msgpack_zone_clear(&z);
        msgpack_object model = rnd_value(&z, 0);
        lg_w_reset(&w);
        lg_w_obj(&w, &model);
        size_t n = lg_w_len(&w);
        if (n > 4096)
            continue;
        uint8_t buf[4200];
        memcpy(buf, lg_w_data(&w), n);
        for (int k = 0; k < 8; k++) {
            uint8_t m[4200];
            size_t mn = n;
            memcpy(m, buf, n);
            size_t at = rndn(n);
            switch (rndn(4)) {
            case 0: m[at] ^= (uint8_t)(1u << rndn(8)); break;
            case 1: m[at] = (uint8_t)rnd(); break;
            case 2: /* insert a byte */
                memmove(m + at + 1, m + at, n - at);
                m[at] = (uint8_t)rnd();
                mn++;
                break;
            default: /* delete a byte */
                memmove(m + at, m + at + 1, n - at - 1);
                mn--;
            }
            struct cb_err err = {0, ""};
            if (lg_decode(&doc, m, mn, NULL, &err) != 0) {
                cr_assert_eq(err.msg[0], '$');
                cr_assert(valid_utf8(err.msg), "%s", err.msg);
                refused++;
                continue;
            }
            accepted++;
            same_as_msgpack_c(m, mn, &doc.root);
            struct lg_w again;
            lg_w_init(&again);
            lg_w_obj(&again, &doc.root);
            cr_assert_eq(lg_w_len(&again), mn);
            cr_assert_arr_eq(lg_w_data(&again), m, mn);
            lg_w_release(&again);
        }
    }
    cr_assert_gt(refused, 1000);
    cr_assert_gt(accepted, 100);
    msgpack_zone_destroy(&z);
}

/* ---------------- rejections, codes and paths ---------------- */

Test(codec, messages_name_the_path)
{
    /* one case spelled out; the rest go through REJECT (reject asserts) */
    static const uint8_t deep[] = {0x81, 0xa1, 'x', 0x91, 0xcc, 0x05};
    struct cb_err e = {0, ""};
    cr_assert_eq(lg_decode(&doc, deep, sizeof deep, NULL, &e), CB_ENONCANON);
    cr_assert_str_eq(e.msg, "$.x[0]: uint not in shortest form");
    /* {"body": {"credits": 0xcc 0x03}} */
    REJECT(B(0x81, 0xa4, 'b', 'o', 'd', 'y', 0x81, 0xa7, 'c', 'r', 'e', 'd',
             'i', 't', 's', 0xcc, 0x03),
           CB_ENONCANON, "$.body.credits: uint not in shortest form");
    /* {"refs": [bin 1, bin 1, nil]} */
    REJECT(B(0x81, 0xa4, 'r', 'e', 'f', 's', 0x93, 0xc4, 0x01, 0x00, 0xc4,
             0x01, 0x00, 0xc0),
           CB_ENONCANON, "$.refs[2]: nil");
    /* {"a": [1, {"b": 0xd0 0x05}]} */
    REJECT(B(0x81, 0xa1, 'a', 0x92, 0x01, 0x81, 0xa1, 'b', 0xd0, 0x05),
           CB_ENONCANON, "$.a[1].b: signed integer encoding (0xd0)");
    REJECT(B(0xc0), CB_ENONCANON, "$: nil");
    REJECT(B(0xca, 0, 0, 0, 0), CB_ENONCANON, "$: float");
    REJECT(B(0xff), CB_ENONCANON, "$: negative integer");
    REJECT(B(0xd6, 0xff, 0, 0, 0, 1), CB_ENONCANON, "$: ext type (0xd6)");
    REJECT(B(0xd9, 0x03, 'a', 'b', 'c'), CB_ENONCANON,
           "$: str length not in shortest form");
    REJECT(B(0xc5, 0x00, 0x01, 0x00), CB_ENONCANON,
           "$: bin length not in shortest form");
    REJECT(B(0xdc, 0x00, 0x01, 0x00), CB_ENONCANON,
           "$: array length not in shortest form");
    REJECT(B(0x91, 0xde, 0x00, 0x01, 0xa1, 'a', 0x00), CB_ENONCANON,
           "$[0]: map length not in shortest form");
    REJECT(B(0x81, 0xd9, 0x01, 'a', 0x00), CB_ENONCANON,
           "$: key 0 length not in shortest form");
    REJECT(B(0x01, 0x02, 0x03), CB_ETRAILING, "$: 2 byte(s) after the value");
    REJECT(B(0xc1), CB_EMSGPACK, "$: reserved byte 0xc1");
    REJECT(B(0x92, 0xa1, 'a'), CB_EMSGPACK, "$[1]: truncated: value expected");
    REJECT(B(0x92, 0x01), CB_EMSGPACK,
           "$: truncated: array of 2 elements, 1 bytes left");
    REJECT(B(0xa3, 'a'), CB_EMSGPACK, "$: truncated: str of 3 bytes, 1 left");
    REJECT(B(0xcd, 0x01), CB_EMSGPACK, "$: truncated uint header");
    REJECT(B(0x82, 0xa1, 'a', 0xa1, 'b'), CB_EMSGPACK,
           "$: truncated: key 1 expected");
    reject("", 0, CB_EMSGPACK, "$: empty input", NULL);
    reject(NULL, 0, CB_EMSGPACK, "$: empty input", NULL);
}

Test(codec, messages_render_odd_keys_safely)
{
    /* a key that is not a plain word is shown JSON-quoted in brackets */
    REJECT(B(0x81, 0xa3, 'a', '.', 'b', 0x91, 0xcc, 0x05), CB_ENONCANON,
           "$[\"a.b\"][0]: uint not in shortest form");
    REJECT(B(0x81, 0xa3, 'q', '"', '\n', 0xc0), CB_ENONCANON,
           "$[\"q\\\"\\u000a\"]: nil");
    REJECT(B(0x81, 0xa0, 0xc0), CB_ENONCANON, "$[\"\"]: nil");
    /* non-ASCII words stay readable */
    REJECT(B(0x81, 0xa6, 0xed, 0x95, 0x99, 0xec, 0xa0, 0x90, 0xc0),
           CB_ENONCANON, "$.학점: nil");
    REJECT(B(0x81, 0xa9, 'k', '-', 'm', 'o', 'o', 'c', '_', '1', '2', 0xc0),
           CB_ENONCANON, "$.k-mooc_12: nil");

    /* a long key is cut, on a UTF-8 boundary, and marked */
    lg_w_map(&w, 1);
    char key[1000];
    for (size_t i = 0; i + 3 <= 999; i += 3)
        memcpy(key + i, "한", 3); /* 999 bytes */
    lg_w_str(&w, key, 999);
    lg_w_raw(&w, "\xc0", 1);
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, &err),
                 CB_ENONCANON);
    cr_assert(valid_utf8(err.msg), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "...: nil"), "%s", err.msg);
    cr_assert_lt(strlen(err.msg), 80);

    /* a deep path of long keys keeps its innermost part */
    lg_w_reset(&w);
    memset(key, 'k', 60);
    for (int d = 0; d < 16; d++) {
        lg_w_map(&w, 1);
        key[0] = (char)('a' + d);
        lg_w_str(&w, key, 60);
    }
    lg_w_raw(&w, "\xc0", 1);
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, &err),
                 CB_ENONCANON);
    cr_assert(valid_utf8(err.msg), "%s", err.msg);
    cr_assert_eq(strncmp(err.msg, "$...", 4), 0, "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, ".pkkkk"), "%s", err.msg);
    cr_assert_lt(strlen(err.msg), 200);
}

/* What the decoder says for each type byte followed by 15 zero bytes. */
static int type_byte_verdict(unsigned t)
{
    if (t <= 0x80 || t == 0x90 || t == 0xa0 || t == 0xc2 || t == 0xc3 ||
        t == 0xc4)
        return CB_ETRAILING; /* a whole canonical value, then zeros */
    if (t <= 0x87)
        return CB_ETYPE; /* fixmap: its first key is the uint 0 */
    if (t <= 0x8f)
        return CB_EMSGPACK; /* 8+ entries cannot fit in 15 bytes */
    if (t <= 0x9f)        /* fixarray of n zeros, in 15 bytes */
        return (t & 0x0f) == 15 ? 0 : CB_ETRAILING;
    if (t <= 0xbf) /* fixstr of n NULs (valid UTF-8), in 15 bytes */
        return (t & 0x1f) == 15 ? 0 : (t & 0x1f) < 15 ? CB_ETRAILING
                                                      : CB_EMSGPACK;
    if (t == 0xc1)
        return CB_EMSGPACK;
    /* nil, ext, float, signed ints, negative fixints, and every long
     * form (uint, str, bin, array, map) holding zero */
    return CB_ENONCANON;
}

Test(codec, every_type_byte)
{
    for (unsigned t = 0; t < 256; t++) {
        uint8_t b[16] = {(uint8_t)t};
        struct cb_err err = {0, ""};
        int rv = lg_decode(&doc, b, sizeof b, NULL, &err);
        cr_expect_eq(rv, type_byte_verdict(t), "type 0x%02x: got %s (%s)", t,
                     cb_errname(rv), err.msg);
    }
}

/* Bytes held by malloc, small blocks and mmap'd ones. Under ASan or
 * valgrind, which replace malloc, mallinfo2 sees nothing: the test then
 * checks only the codes. */
static size_t heap(struct mallinfo2 m)
{
    return m.uordblks + m.hblkhd;
}

Test(codec, memory_is_bounded_by_the_input)
{
    /* Headers that claim more than the bytes left are refused before any
     * allocation: msgpack-c's unpacker would allocate ~100 GB for the
     * first. */
    struct mallinfo2 before = mallinfo2();
    REJECT(B(0xdd, 0xff, 0xff, 0xff, 0xff), CB_EMSGPACK,
           "$: truncated: array of 4294967295 elements, 0 bytes left");
    REJECT(B(0xdf, 0xff, 0xff, 0xff, 0xff), CB_EMSGPACK,
           "$: truncated: map of 4294967295 entries, 0 bytes left");
    REJECT(B(0xc6, 0xff, 0xff, 0xff, 0xff), CB_EMSGPACK,
           "$: truncated: bin of 4294967295 bytes, 0 left");
    REJECT(B(0xdb, 0xff, 0xff, 0xff, 0xff), CB_EMSGPACK,
           "$: truncated: str of 4294967295 bytes, 0 left");
    REJECT(B(0x91, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff), CB_EMSGPACK,
           "$[0][0]: truncated: array of 4294967295 elements, 0 bytes left");
    /* a map entry needs two bytes: 3 entries in 5 bytes is impossible */
    REJECT(B(0x83, 0xa1, 'a', 0x01, 0xa1, 'b'), CB_EMSGPACK,
           "$: truncated: map of 3 entries, 5 bytes left");
    /* an array of 16 elements in 15 bytes */
    uint8_t b[18] = {0xdc, 0x00, 0x10};
    reject(b, sizeof b, CB_EMSGPACK, NULL, NULL);
    struct mallinfo2 after = mallinfo2();
    cr_assert_lt(heap(after), heap(before) + 64 * 1024,
                 "decoding hostile headers allocated %zu bytes",
                 heap(after) - heap(before));

    /* The most a valid input can cost: one object per byte. 1 MiB of zeros
     * in one array: about sizeof(msgpack_object) per input byte. */
    size_t n = 1 << 20;
    uint8_t *big_in = calloc(n, 1);
    cr_assert_not_null(big_in);
    uint32_t count = (uint32_t)(n - 5);
    big_in[0] = 0xdd;
    big_in[1] = (uint8_t)(count >> 24);
    big_in[2] = (uint8_t)(count >> 16);
    big_in[3] = (uint8_t)(count >> 8);
    big_in[4] = (uint8_t)count;
    before = mallinfo2();
    cr_assert_eq(lg_decode(&doc, big_in, n, NULL, NULL), 0);
    after = mallinfo2();
    cr_assert_eq(doc.root.via.array.size, count);
    if (heap(after) < heap(before) + sizeof(msgpack_object) * n)
        /* not cr_log_warn: Criterion 2.4 makes a warning fail the run */
        fprintf(stderr, "note: mallinfo2 does not see this process's "
                "allocations (ASan or valgrind): memory bound not measured\n");
    /* the zone rounds a big request up to a power-of-two chunk: <= 2x */
    cr_assert_leq(heap(after),
                  heap(before) + 2 * sizeof(msgpack_object) * n + 65536);
    /* one element short: refused before allocating */
    big_in[4]++;
    reject(big_in, n, CB_EMSGPACK, NULL, NULL);
    free(big_in);
}

Test(codec, big_counts_round_trip)
{
    /* array 32 and map 32 (65536 elements), bin 32 */
    put_array(65536);
    decode_w_ok();
    cr_assert_eq(doc.root.via.array.size, 65536);
    lg_w_reset(&w);
    put_map(65536);
    decode_w_ok();
    cr_assert_eq(doc.root.via.map.size, 65536);
    lg_w_reset(&w);
    put_bin(65536);
    decode_w_ok();
    cr_assert_eq(doc.root.via.bin.size, 65536);
}

Test(codec, key_order_edges)
{
    /* accepted: "" < "a" < "ab" < "abc" < "b"; "B" < "a"; "aa" < "b";
     * ASCII < é (c3 a9) < 한 (ed 95 9c) < 𝄞 (f0 9d 84 9e) */
    lg_w_map(&w, 9);
    const char *keys[] = {"",  "B",  "a",  "aa", "ab",
                          "abc", "b", "\xc3\xa9", "\xf0\x9d\x84\x9e"};
    for (int i = 0; i < 9; i++) {
        lg_w_cstr(&w, keys[i]);
        lg_w_uint(&w, (uint64_t)i);
    }
    decode_w_ok();
    for (int i = 1; i < 9; i++)
        cr_assert_lt(lg_keycmp(keys[i - 1], strlen(keys[i - 1]), keys[i],
                               strlen(keys[i])),
                     0, "%d", i);
    cr_assert_eq(lg_keycmp("ab", 2, "ab", 2), 0);
    cr_assert_gt(lg_keycmp("ab", 2, "a", 1), 0);
    cr_assert_gt(lg_keycmp("\x80", 1, "\x7f", 1), 0, "bytes are unsigned");

    REJECT(B(0x82, 0xa2, 'a', 'b', 0x01, 0xa1, 'a', 0x02), CB_EKEYORDER,
           "$: key \"a\" after \"ab\"");
    REJECT(B(0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02), CB_EKEYORDER,
           "$: key \"a\" repeated");
    REJECT(B(0x82, 0xa0, 0x01, 0xa0, 0x02), CB_EKEYORDER,
           "$: key \"\" repeated");
    REJECT(B(0x82, 0xa1, 'a', 0x01, 0xa1, 'B', 0x02), CB_EKEYORDER,
           "$: key \"B\" after \"a\"");
    REJECT(B(0x82, 0xa1, 'b', 0x01, 0xa2, 'a', 'a', 0x02), CB_EKEYORDER,
           "$: key \"aa\" after \"b\"");
    REJECT(B(0x81, 0xa1, 'm', 0x83, 0xa1, 'a', 0x01, 0xa1, 'c', 0x02, 0xa1,
             'b', 0x03),
           CB_EKEYORDER, "$.m: key \"b\" after \"c\"");
    /* keys must be str; a non-str key is not read further */
    REJECT(B(0x81, 0x01, 0x02), CB_ETYPE, "$: key 0 is not a str");
    REJECT(B(0x82, 0xa1, 'a', 0x01, 0xc4, 0x01, 'b', 0x02), CB_ETYPE,
           "$: key 1 is not a str");
    REJECT(B(0x81, 0x91, 0xc0, 0x02), CB_ETYPE, "$: key 0 is not a str");
    REJECT(B(0x81, 0xc0, 0x02), CB_ETYPE, "$: key 0 is not a str");
}

Test(codec, utf8_edges)
{
    /* one case spelled out; the tables below go through helpers that
     * assert: a lone continuation byte is not UTF-8 */
    static const uint8_t lone[] = {0xa1, 0x80};
    struct cb_err e = {0, ""};
    cr_assert_eq(lg_decode(&doc, lone, sizeof lone, NULL, &e), CB_EUTF8);
    /* accepted: the first and last code point of every length */
    static const char *good[] = {
        "a100",         "a17f",         "a2c280",       "a2dfbf",
        "a3e0a080",     "a3ed9fbf",     "a3ee8080",     "a3efbfbf",
        "a4f0908080",   "a4f48fbfbf",   "a3efbbbf", /* BOM is a char */
        "a0",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        accept_hex(good[i]);
    static const char *badv[] = {
        "a180",       /* lone continuation */
        "a1bf",       /* lone continuation */
        "a1c2",       /* cut 2-byte */
        "a2e282",     /* cut 3-byte */
        "a3f09080",   /* cut 4-byte */
        "a2c0af",     /* overlong '/' */
        "a2c080",     /* overlong NUL */
        "a2c1bf",     /* overlong */
        "a3e09fbf",   /* overlong 3-byte */
        "a3e08080",   /* overlong 3-byte */
        "a4f08fbfbf", /* overlong 4-byte */
        "a3eda080",   /* U+D800 */
        "a3edbfbf",   /* U+DFFF */
        "a4f4908080", /* U+110000 */
        "a4f5808080", /* 0xf5 lead */
        "a1fe",       "a1ff",
        "a2c328",     /* bad continuation */
        "a3e228a1",   /* bad continuation, 3-byte */
        "a3e282c0",   /* bad third byte */
        "a4f0908028", /* bad fourth byte */
    };
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++)
        reject_hex(badv[i], CB_EUTF8, "$: str is not valid UTF-8");

    /* the word-at-a-time ASCII path: a bad byte at every position of
     * strs of every length up to 80 (fixstr and str 8) */
    char s[80];
    for (size_t n = 1; n < sizeof s; n++) {
        for (size_t at = 0; at < n; at++) {
            memset(s, 'a', n);
            s[at] = (char)0xff;
            lg_w_reset(&w);
            lg_w_str(&w, s, n);
            reject(lg_w_data(&w), lg_w_len(&w), CB_EUTF8, NULL, NULL);
            s[at] = 'a';
            if (at + 2 <= n) { /* a valid 2-byte char there is fine */
                s[at] = (char)0xc3;
                s[at + 1] = (char)0xa9;
                lg_w_reset(&w);
                lg_w_str(&w, s, n);
                decode_w_ok();
            }
        }
    }
    /* keys are checked too */
    REJECT(B(0x81, 0xa1, 0xff, 0x01), CB_EUTF8,
           "$: key 0 is not valid UTF-8");
    REJECT(B(0x81, 0xa1, 'a', 0x91, 0xa2, 0xed, 0xa0), CB_EUTF8,
           "$.a[0]: str is not valid UTF-8");
}

Test(codec, limits)
{
    static char s[2000];
    memset(s, 'x', sizeof s);
    /* default: 1024 bytes, keys included */
    lg_w_str(&w, s, 1024);
    decode_w_ok();
    lg_w_reset(&w);
    lg_w_str(&w, s, 1025);
    reject(lg_w_data(&w), lg_w_len(&w), CB_ETOOBIG,
           "$: str of 1025 bytes exceeds 1024", NULL);
    lg_w_reset(&w);
    lg_w_map(&w, 1);
    lg_w_str(&w, s, 1025);
    lg_w_uint(&w, 1);
    reject(lg_w_data(&w), lg_w_len(&w), CB_ETOOBIG,
           "$: key 0 of 1025 bytes exceeds 1024", NULL);
    /* bin has no limit but the input */
    lg_w_reset(&w);
    lg_w_bin(&w, s, sizeof s);
    decode_w_ok();

    /* configurable */
    struct lg_limits lim = {.max_str = 4};
    lg_w_reset(&w);
    lg_w_cstr(&w, "abcd");
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), &lim, NULL),
                 0);
    lg_w_reset(&w);
    lg_w_cstr(&w, "abcde");
    reject(lg_w_data(&w), lg_w_len(&w), CB_ETOOBIG,
           "$: str of 5 bytes exceeds 4", &lim);
    lim.max_str = 4096;
    lg_w_reset(&w);
    lg_w_str(&w, s, 2000);
    cr_assert_eq(lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), &lim, NULL),
                 0);

    /* depth: 16 by default, arrays and maps alike; scalars add none */
    uint8_t d[600];
    memset(d, 0x91, sizeof d);
    d[16] = 0x00;
    cr_assert_eq(lg_decode(&doc, d, 17, NULL, NULL), 0);
    d[15] = 0x90; /* the 16th level may be an empty array */
    cr_assert_eq(lg_decode(&doc, d, 16, NULL, NULL), 0);
    d[15] = 0x91;
    d[16] = 0x90; /* a 17th level, even empty, may not */
    reject(d, 17, CB_ETOODEEP, NULL, NULL);
    d[16] = 0x91;
    d[17] = 0x00;
    reject(d, 18, CB_ETOODEEP,
           "$[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested "
           "deeper than 16",
           NULL);
    struct lg_limits shallow = {.max_depth = 1};
    cr_assert_eq(lg_decode(&doc, (const uint8_t *)"\x91\x00", 2, &shallow,
                           NULL),
                 0);
    reject("\x91\x90", 2, CB_ETOODEEP, "$[0]: nested deeper than 1",
           &shallow);
    reject("\x81\xa1k\x80", 4, CB_ETOODEEP, "$.k: nested deeper than 1",
           &shallow);
    /* a caller's max_depth is capped (the parser recurses per level) */
    struct lg_limits deep = {.max_depth = 100000};
    memset(d, 0x91, sizeof d);
    d[256] = 0x00;
    cr_assert_eq(lg_decode(&doc, d, 257, &deep, NULL), 0);
    d[256] = 0x91;
    d[257] = 0x00;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_decode(&doc, d, 258, &deep, &err), CB_ETOODEEP);
    cr_assert(valid_utf8(err.msg));
    cr_assert_eq(strncmp(err.msg, "$...", 4), 0, "%s", err.msg);
}

Test(codec, decoded_objects_point_into_the_input)
{
    lg_w_map(&w, 2);
    lg_w_cstr(&w, "b");
    lg_w_bin(&w, "\x01\x02", 2);
    lg_w_cstr(&w, "s");
    lg_w_cstr(&w, "text");
    decode_w_ok();
    const char *lo = (const char *)lg_w_data(&w);
    const char *hi = lo + lg_w_len(&w);
    const msgpack_object_kv *kv = doc.root.via.map.ptr;
    cr_assert(kv[0].val.via.bin.ptr > lo && kv[0].val.via.bin.ptr < hi);
    cr_assert(kv[1].key.via.str.ptr > lo && kv[1].key.via.str.ptr < hi);
    /* the doc is reused: a failed decode leaves an empty root */
    cr_assert_neq(lg_decode(&doc, (const uint8_t *)"\xc0", 1, NULL, NULL), 0);
    cr_assert_eq(doc.root.type, MSGPACK_OBJECT_NIL);
    /* release twice is harmless; init again works */
    lg_doc_release(&doc);
    lg_doc_release(&doc);
    lg_doc_init(&doc);
    cr_assert_eq(lg_decode(&doc, (const uint8_t *)"\x01", 1, NULL, NULL), 0);
}

/* ---------------- lg_fields ---------------- */

static void decode_json(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    cr_assert_not_null(j, "%s", je.text);
    lg_w_reset(&w);
    cr_assert_eq(lg_w_json(&w, j, NULL), 0);
    json_decref(j);
    decode_w_ok();
}

Test(codec, fields_match_maps)
{
    decode_json("{\"b\":1,\"c\":\"x\",\"k\":\"hex:0102\",\"m\":{}}");
    const msgpack_object *a, *b, *c, *k, *m;
    struct cb_err err = {0, ""};
    struct lg_field f[] = {
        {"a", LG_UINT, 0, true, &a},  {"b", LG_UINT, 0, false, &b},
        {"c", LG_STR, 0, false, &c},  {"k", LG_BIN, 2, false, &k},
        {"m", LG_MAP, 0, true, &m},
    };
    cr_assert_eq(lg_fields(&doc.root, f, 5, "body", &err), 0, "%s", err.msg);
    cr_assert_null(a);
    cr_assert_eq(b->via.u64, 1);
    cr_assert(lg_is_str(c, "x"));
    cr_assert_eq(k->via.bin.size, 2);
    cr_assert_eq(m->type, MSGPACK_OBJECT_MAP);

    f[3].len = 3;
    cr_assert_eq(lg_fields(&doc.root, f, 5, "body", &err), CB_EVALUE);
    cr_assert_str_eq(err.msg, "body.k: expected 3 bytes, got 2");
    f[3].len = 0; /* any length */
    cr_assert_eq(lg_fields(&doc.root, f, 5, "body", &err), 0);
    f[2].kind = LG_UINT;
    cr_assert_eq(lg_fields(&doc.root, f, 5, "body", &err), CB_ETYPE);
    cr_assert_str_eq(err.msg, "body.c: expected uint");
    f[2].kind = LG_ANY;
    cr_assert_eq(lg_fields(&doc.root, f, 5, "body", &err), 0);
    f[2].kind = LG_STR;
    f[4].kind = LG_ARRAY;
    cr_assert_eq(lg_fields(&doc.root, f, 5, "body.education", &err),
                 CB_ETYPE);
    cr_assert_str_eq(err.msg, "body.education.m: expected array");
    f[4].kind = LG_MAP;

    /* unknown key: leave "c" out of the table */
    struct lg_field g[] = {f[0], f[1], f[3], f[4]};
    cr_assert_eq(lg_fields(&doc.root, g, 4, "body.education", &err),
                 CB_EUNKNOWNKEY);
    cr_assert_str_eq(err.msg, "body.education: unknown key \"c\"");
    /* a key past the end of the table */
    cr_assert_eq(lg_fields(&doc.root, f, 3, "body", &err), CB_EUNKNOWNKEY);
    cr_assert_str_eq(err.msg, "body: unknown key \"k\"");
    /* missing keys, before, between and after the map's keys */
    struct lg_field h[] = {{"", LG_ANY, 0, false, &a}, f[1], f[2], f[3],
                           f[4]};
    cr_assert_eq(lg_fields(&doc.root, h, 5, "body", &err), CB_EMISSINGKEY);
    cr_assert_str_eq(err.msg, "body: missing key \"\"");
    struct lg_field h2[] = {f[1], {"bb", LG_ANY, 0, false, &a}, f[2], f[3],
                            f[4]};
    cr_assert_eq(lg_fields(&doc.root, h2, 5, "body", &err), CB_EMISSINGKEY);
    cr_assert_str_eq(err.msg, "body: missing key \"bb\"");
    struct lg_field h3[] = {f[1], f[2], f[3], f[4],
                            {"z", LG_ANY, 0, false, &a},
                            {"zz", LG_ANY, 0, true, &a}};
    cr_assert_eq(lg_fields(&doc.root, h3, 6, "body", &err), CB_EMISSINGKEY);
    cr_assert_str_eq(err.msg, "body: missing key \"z\"");
    /* optional trailing fields absent: fine, and set to NULL */
    h3[4].optional = true;
    b = NULL;
    a = (const msgpack_object *)&doc;
    cr_assert_eq(lg_fields(&doc.root, h3, 6, "body", &err), 0);
    cr_assert_null(a);
    cr_assert_not_null(b);
    /* out may be NULL: only checked */
    struct lg_field nout[] = {{"b", LG_UINT, 0, false, NULL},
                              {"c", LG_STR, 0, false, NULL},
                              {"k", LG_BIN, 2, false, NULL},
                              {"m", LG_MAP, 0, false, NULL}};
    cr_assert_eq(lg_fields(&doc.root, nout, 4, "body", &err), 0);

    /* not a map */
    msgpack_object u = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER};
    cr_assert_eq(lg_fields(&u, f, 5, "body", &err), CB_ETYPE);
    cr_assert_str_eq(err.msg, "body: expected map");
    cr_assert_null(b, "outs are cleared even on failure");
    /* the empty map against all-optional and against a required field */
    decode_json("{}");
    cr_assert_eq(lg_fields(&doc.root, f, 1, "x", &err), 0);
    cr_assert_eq(lg_fields(&doc.root, f, 2, "x", &err), CB_EMISSINGKEY);
    cr_assert_str_eq(err.msg, "x: missing key \"b\"");
    cr_assert_eq(lg_fields(&doc.root, NULL, 0, "x", NULL), 0);
}

Test(codec, fields_quote_odd_unknown_keys)
{
    decode_json("{\"a\\\"b\\n\":1}");
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_fields(&doc.root, NULL, 0, "body", &err), CB_EUNKNOWNKEY);
    cr_assert_str_eq(err.msg, "body: unknown key \"a\\\"b\\u000a\"");
    /* a long key is cut */
    char j[2100] = "{\"";
    memset(j + 2, 'q', 1000);
    strcpy(j + 1002, "\":1}");
    decode_json(j);
    cr_assert_eq(lg_fields(&doc.root, NULL, 0, "body", &err), CB_EUNKNOWNKEY);
    cr_assert_lt(strlen(err.msg), 100, "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "qqq...\""), "%s", err.msg);
}

Test(codec, str_helpers)
{
    lg_w_array(&w, 3);
    lg_w_cstr(&w, "abc");
    lg_w_uint(&w, 1);
    lg_w_str(&w, "a\0b", 3);
    decode_w_ok();
    const msgpack_object *a = doc.root.via.array.ptr;
    cr_assert(lg_is_str(&a[0], "abc"));
    cr_assert_not(lg_is_str(&a[0], "ab"));
    cr_assert_not(lg_is_str(&a[1], "1"));
    char out[4];
    cr_assert_eq(lg_str_copy(out, sizeof out, &a[0]), 0);
    cr_assert_str_eq(out, "abc");
    cr_assert_eq(lg_str_copy(out, 3, &a[0]), CB_ETOOBIG);
    cr_assert_eq(lg_str_copy(out, sizeof out, &a[1]), CB_ETYPE);
    cr_assert_eq(a[2].via.str.size, 3, "NUL is a valid character");
}

/* ---------------- lg_w_strmap ---------------- */

Test(codec, strmap_sorts_and_refuses_repeats)
{
    const char *k[] = {"name", "birth", "a", "ab", "", "B", "\xed\x95\x9c"};
    const char *v[] = {"Kim", "2000-01-01", "1", "2", "e", "b", "h"};
    lg_w_strmap(&w, k, v, 7);
    cr_assert_eq(lg_w_error(&w), 0);
    decode_w_ok();
    static const char *order[] = {"", "B", "a", "ab", "birth", "name",
                                  "\xed\x95\x9c"};
    static const char *vals[] = {"e", "b", "1", "2", "2000-01-01", "Kim",
                                 "h"};
    for (int i = 0; i < 7; i++) {
        cr_assert(lg_is_str(&doc.root.via.map.ptr[i].key, order[i]), "%d", i);
        cr_assert(lg_is_str(&doc.root.via.map.ptr[i].val, vals[i]), "%d", i);
    }
    lg_w_reset(&w);
    lg_w_strmap(&w, k, v, 0);
    W_IS("80");

    lg_w_reset(&w);
    const char *k2[] = {"x", "y", "x"};
    lg_w_strmap(&w, k2, v, 3);
    cr_assert_eq(lg_w_error(&w), CB_EKEYORDER);
    cr_assert_eq(lg_w_len(&w), 0, "nothing written");

    /* more keys than the stack array: the heap path, shuffled input */
    char names[100][8];
    const char *kk[100], *vv[100];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "k%03d", (i * 37) % 100);
        kk[i] = names[i];
        vv[i] = names[i];
    }
    lg_w_reset(&w);
    lg_w_strmap(&w, kk, vv, 100);
    decode_w_ok();
    cr_assert_eq(doc.root.via.map.size, 100);
    for (uint32_t i = 0; i < 100; i++) {
        const msgpack_object_kv *kv = &doc.root.via.map.ptr[i];
        char want[16];
        snprintf(want, sizeof want, "k%03u", i);
        cr_assert(lg_is_str(&kv->key, want));
        cr_assert(lg_is_str(&kv->val, want), "values follow their keys");
    }
    /* make two keys equal */
    memcpy(names[99], names[98], sizeof names[99]);
    lg_w_reset(&w);
    lg_w_strmap(&w, kk, vv, 100);
    cr_assert_eq(lg_w_error(&w), CB_EKEYORDER);
}

/* ---------------- lg_json ---------------- */

Test(codec, json_out)
{
    lg_w_map(&w, 6);
    lg_w_cstr(&w, "a");
    lg_w_bin(&w, "\xff\x00", 2);
    lg_w_cstr(&w, "big");
    lg_w_array(&w, 4);
    lg_w_uint(&w, (uint64_t)INT64_MAX);
    lg_w_uint(&w, (uint64_t)INT64_MAX + 1);
    lg_w_uint(&w, UINT64_MAX);
    lg_w_uint(&w, 0);
    lg_w_cstr(&w, "e");
    lg_w_bin(&w, "", 0);
    lg_w_cstr(&w, "m");
    lg_w_map(&w, 2);
    lg_w_cstr(&w, "z");
    lg_w_bool(&w, true);
    lg_w_cstr(&w, "\xc3\xa9");
    lg_w_bool(&w, false);
    lg_w_cstr(&w, "s");
    lg_w_str(&w, "a\0b", 3);
    lg_w_cstr(&w, "x");
    lg_w_array(&w, 0);
    decode_w_ok();
    json_t *j = lg_json(&doc.root);
    cr_assert_not_null(j);
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    cr_assert_str_eq(text,
                     "{\"a\":\"ff00\",\"big\":[9223372036854775807,"
                     "\"9223372036854775808\",\"18446744073709551615\",0],"
                     "\"e\":\"\",\"m\":{\"z\":true,\"\\u00E9\":false},"
                     "\"s\":\"a\\u0000b\",\"x\":[]}");
    free(text);
    json_decref(j);

    /* a long bin (heap path of the hex buffer) */
    lg_w_reset(&w);
    uint8_t b[100];
    for (int i = 0; i < 100; i++)
        b[i] = (uint8_t)i;
    lg_w_bin(&w, b, sizeof b);
    decode_w_ok();
    j = lg_json(&doc.root);
    cr_assert_eq(json_string_length(j), 200);
    cr_assert_eq(strncmp(json_string_value(j), "000102", 6), 0);
    cr_assert_str_eq(json_string_value(j) + 194, "616263");
    json_decref(j);

    /* objects lg_decode never makes are refused, not guessed */
    msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    cr_assert_null(lg_json(&nil));
    msgpack_object_kv kv = {.key = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER},
                            .val = {.type = MSGPACK_OBJECT_BOOLEAN}};
    msgpack_object m = {.type = MSGPACK_OBJECT_MAP};
    m.via.map.size = 1;
    m.via.map.ptr = &kv;
    cr_assert_null(lg_json(&m));
    msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY};
    arr.via.array.size = 1;
    arr.via.array.ptr = &nil;
    cr_assert_null(lg_json(&arr));
}

/* lg_w_json lives in ledger/jsonmp.c; here only as the way tests write. */
Test(codec, json_in_round_trips_through_json_out)
{
    json_error_t je;
    json_t *j = json_loads("{\"z\":[true,false,0,18446744073],"
                           "\"a\":\"hex:ff00\","
                           "\"m\":{\"\xc3\xa9\":\"x\",\"e\":\"y\"}}",
                           0, &je);
    cr_assert_not_null(j);
    cr_assert_eq(lg_w_json(&w, j, NULL), 0);
    decode_w_ok();
    json_t *back = lg_json(&doc.root);
    char *text = json_dumps(back, JSON_COMPACT);
    cr_assert_str_eq(text, "{\"a\":\"ff00\",\"m\":{\"e\":\"y\",\"\xc3\xa9\":"
                           "\"x\"},\"z\":[true,false,0,18446744073]}");
    free(text);
    json_decref(back);
    json_decref(j);
}
