/*
 * Canonical MessagePack on msgpack-c.
 *
 * Writing uses msgpack-c's packer, which already emits the shortest header
 * for every uint, str, bin, array and map; canonical key order is the
 * caller's duty (lg_keycmp), checked by every strict decode in the tests.
 *
 * Reading does not use msgpack-c's unpacker. That unpacker accepts every
 * non-canonical form (it must, to be a general decoder) and allocates
 * count * sizeof(msgpack_object) for an array header before reading a single
 * element, so five hostile bytes could ask for tens of gigabytes. Instead a
 * single pass over the bytes validates each header as it reads it -- the
 * shortest form, no float/nil/negative/ext, counts that fit in the bytes
 * left, UTF-8, key order, depth, size limits -- and builds the same
 * msgpack_object tree msgpack-c would, in the document's msgpack_zone. So
 * memory is bounded by the input (every element costs at least one input
 * byte), errors name the exact path ("$.body.credits"), and everything
 * downstream works on ordinary msgpack-c objects.
 */
#include <credbank/codec.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- writer ---------------- */

void lg_w_init(struct lg_w *w)
{
    msgpack_sbuffer_init(&w->buf);
    msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
    w->err = 0;
}

void lg_w_release(struct lg_w *w)
{
    msgpack_sbuffer_destroy(&w->buf);
    w->buf.data = NULL;
    w->buf.size = w->buf.alloc = 0;
}

void lg_w_reset(struct lg_w *w)
{
    w->buf.size = 0;
    w->err = 0;
}

#define W_CHECK(w, call)                 \
    do {                                 \
        if ((w)->err == 0 && (call) != 0) \
            (w)->err = CB_ENOMEM;        \
    } while (0)

void lg_w_uint(struct lg_w *w, uint64_t v)
{
    W_CHECK(w, msgpack_pack_uint64(&w->pk, v));
}

void lg_w_bool(struct lg_w *w, bool v)
{
    W_CHECK(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

void lg_w_str(struct lg_w *w, const char *s, size_t len)
{
    W_CHECK(w, msgpack_pack_str(&w->pk, len));
    W_CHECK(w, msgpack_pack_str_body(&w->pk, s, len));
}

void lg_w_cstr(struct lg_w *w, const char *s)
{
    lg_w_str(w, s, strlen(s));
}

void lg_w_bin(struct lg_w *w, const void *p, size_t len)
{
    W_CHECK(w, msgpack_pack_bin(&w->pk, len));
    W_CHECK(w, msgpack_pack_bin_body(&w->pk, p, len));
}

void lg_w_array(struct lg_w *w, uint32_t n)
{
    W_CHECK(w, msgpack_pack_array(&w->pk, n));
}

void lg_w_map(struct lg_w *w, uint32_t n)
{
    W_CHECK(w, msgpack_pack_map(&w->pk, n));
}

void lg_w_raw(struct lg_w *w, const void *p, size_t len)
{
    if (w->err == 0 && msgpack_sbuffer_write(&w->buf, p, len) != 0)
        w->err = CB_ENOMEM;
}

void lg_w_obj(struct lg_w *w, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        lg_w_uint(w, o->via.u64);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        lg_w_bool(w, o->via.boolean);
        break;
    case MSGPACK_OBJECT_STR:
        lg_w_str(w, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        lg_w_bin(w, o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
        lg_w_array(w, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            lg_w_obj(w, &o->via.array.ptr[i]);
        break;
    case MSGPACK_OBJECT_MAP:
        lg_w_map(w, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            lg_w_obj(w, &o->via.map.ptr[i].key);
            lg_w_obj(w, &o->via.map.ptr[i].val);
        }
        break;
    default:
        /* Not producible by lg_decode; a programmer error elsewhere. */
        if (w->err == 0)
            w->err = CB_EINVAL;
        break;
    }
}

int lg_keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

struct strkv {
    const char *k, *v;
};

static int strkv_cmp(const void *x, const void *y)
{
    const struct strkv *a = x, *b = y;
    return lg_keycmp(a->k, strlen(a->k), b->k, strlen(b->k));
}

void lg_w_strmap(struct lg_w *w, const char *const *keys,
                 const char *const *vals, size_t n)
{
    struct strkv stack[32], *kv = stack;
    if (n > 32 && (kv = malloc(n * sizeof *kv)) == NULL) {
        if (w->err == 0)
            w->err = CB_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++)
        kv[i] = (struct strkv){keys[i], vals[i]};
    qsort(kv, n, sizeof *kv, strkv_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(kv[i - 1].k, kv[i].k) == 0 && w->err == 0)
            w->err = CB_EKEYORDER;
    if (w->err == 0) {
        lg_w_map(w, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            lg_w_cstr(w, kv[i].k);
            lg_w_cstr(w, kv[i].v);
        }
    }
    if (kv != stack)
        free(kv);
}

int lg_w_error(const struct lg_w *w)
{
    return w->err;
}

const uint8_t *lg_w_data(const struct lg_w *w)
{
    return (const uint8_t *)w->buf.data;
}

size_t lg_w_len(const struct lg_w *w)
{
    return w->buf.size;
}

uint8_t *lg_w_take(struct lg_w *w, size_t *len)
{
    if (w->err != 0) {
        *len = 0;
        return NULL;
    }
    *len = w->buf.size;
    uint8_t *p = (uint8_t *)msgpack_sbuffer_release(&w->buf);
    if (p == NULL) /* an empty buffer has no data yet */
        p = malloc(1);
    return p;
}

/* ---------------- reader ---------------- */

struct rd {
    const uint8_t *p, *end;
    msgpack_zone *zone;
    size_t max_str;
    unsigned max_depth;
    struct cb_err *err;
    char path[192];
    size_t plen;
};

static int fail(struct rd *r, int code, const char *what)
{
    return cb_errf(r->err, code, "%s: %s", r->path, what);
}

/* Appends a path segment; returns the old length to restore. */
static size_t path_push_index(struct rd *r, uint32_t i)
{
    size_t old = r->plen;
    int n = snprintf(r->path + r->plen, sizeof r->path - r->plen, "[%u]", i);
    if (n > 0 && (size_t)n < sizeof r->path - r->plen)
        r->plen += (size_t)n;
    return old;
}

static size_t path_push_key(struct rd *r, const char *k, size_t len)
{
    size_t old = r->plen;
    int n = snprintf(r->path + r->plen, sizeof r->path - r->plen, ".%.*s",
                     (int)(len > 40 ? 40 : len), k);
    if (n > 0 && (size_t)n < sizeof r->path - r->plen)
        r->plen += (size_t)n;
    return old;
}

static void path_pop(struct rd *r, size_t old)
{
    r->plen = old;
    r->path[old] = '\0';
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Reads n header bytes after the type byte. */
static int need(struct rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return fail(r, CB_EMSGPACK, "truncated");
    return 0;
}

static int rd_value(struct rd *r, msgpack_object *o, unsigned depth);

static int rd_bytes(struct rd *r, msgpack_object *o, uint64_t len, bool str)
{
    if ((uint64_t)(r->end - r->p) < len)
        return fail(r, CB_EMSGPACK, "truncated");
    if (str) {
        if (len > r->max_str)
            return fail(r, CB_ETOOBIG, "str longer than the limit");
        if (!utf8_valid(r->p, len))
            return fail(r, CB_EUTF8, "str is not valid UTF-8");
        o->type = MSGPACK_OBJECT_STR;
        o->via.str.ptr = (const char *)r->p;
        o->via.str.size = (uint32_t)len;
    } else {
        o->type = MSGPACK_OBJECT_BIN;
        o->via.bin.ptr = (const char *)r->p;
        o->via.bin.size = (uint32_t)len;
    }
    r->p += len;
    return 0;
}

static int rd_array(struct rd *r, msgpack_object *o, uint64_t n,
                    unsigned depth)
{
    if (depth + 1 > r->max_depth)
        return fail(r, CB_ETOODEEP, "nested too deep");
    if ((uint64_t)(r->end - r->p) < n)
        return fail(r, CB_EMSGPACK, "truncated (more elements than bytes)");
    o->type = MSGPACK_OBJECT_ARRAY;
    o->via.array.size = (uint32_t)n;
    o->via.array.ptr = NULL;
    if (n == 0)
        return 0;
    o->via.array.ptr = msgpack_zone_malloc(r->zone, n * sizeof(msgpack_object));
    if (o->via.array.ptr == NULL)
        return fail(r, CB_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        size_t old = path_push_index(r, i);
        int rv = rd_value(r, &o->via.array.ptr[i], depth + 1);
        if (rv != 0)
            return rv;
        path_pop(r, old);
    }
    return 0;
}

static int rd_map(struct rd *r, msgpack_object *o, uint64_t n, unsigned depth)
{
    if (depth + 1 > r->max_depth)
        return fail(r, CB_ETOODEEP, "nested too deep");
    if ((uint64_t)(r->end - r->p) / 2 < n)
        return fail(r, CB_EMSGPACK, "truncated (more entries than bytes)");
    o->type = MSGPACK_OBJECT_MAP;
    o->via.map.size = (uint32_t)n;
    o->via.map.ptr = NULL;
    if (n == 0)
        return 0;
    o->via.map.ptr = msgpack_zone_malloc(r->zone, n * sizeof(msgpack_object_kv));
    if (o->via.map.ptr == NULL)
        return fail(r, CB_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        msgpack_object_kv *kv = &o->via.map.ptr[i];
        int rv = rd_value(r, &kv->key, depth + 1);
        if (rv != 0)
            return rv;
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return fail(r, CB_ETYPE, "map key is not a str");
        if (i > 0) {
            const msgpack_object *prev = &o->via.map.ptr[i - 1].key;
            int c = lg_keycmp(prev->via.str.ptr, prev->via.str.size,
                              kv->key.via.str.ptr, kv->key.via.str.size);
            if (c >= 0) {
                size_t old = path_push_key(r, kv->key.via.str.ptr,
                                           kv->key.via.str.size);
                rv = fail(r, CB_EKEYORDER,
                          c == 0 ? "key repeated" : "keys not in canonical order");
                path_pop(r, old);
                return rv;
            }
        }
        size_t old = path_push_key(r, kv->key.via.str.ptr, kv->key.via.str.size);
        rv = rd_value(r, &kv->val, depth + 1);
        if (rv != 0)
            return rv;
        path_pop(r, old);
    }
    return 0;
}

static int rd_value(struct rd *r, msgpack_object *o, unsigned depth)
{
    int rv;
    if ((rv = need(r, 1)) != 0)
        return rv;
    uint8_t t = *r->p++;
    if (t <= 0x7f) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = t;
        return 0;
    }
    if (t <= 0x8f)
        return rd_map(r, o, t & 0x0f, depth);
    if (t <= 0x9f)
        return rd_array(r, o, t & 0x0f, depth);
    if (t <= 0xbf)
        return rd_bytes(r, o, t & 0x1f, true);
    if (t >= 0xe0)
        return fail(r, CB_ENONCANON, "negative integer");

    static const uint8_t hdr[] = {
        /* header bytes after 0xc0.. by type */
        [0xc4 - 0xc0] = 1, [0xc5 - 0xc0] = 2, [0xc6 - 0xc0] = 4,
        [0xcc - 0xc0] = 1, [0xcd - 0xc0] = 2, [0xce - 0xc0] = 4,
        [0xcf - 0xc0] = 8, [0xd9 - 0xc0] = 1, [0xda - 0xc0] = 2,
        [0xdb - 0xc0] = 4, [0xdc - 0xc0] = 2, [0xdd - 0xc0] = 4,
        [0xde - 0xc0] = 2, [0xdf - 0xc0] = 4,
    };
    switch (t) {
    case 0xc0:
        return fail(r, CB_ENONCANON, "nil");
    case 0xc1:
        return fail(r, CB_EMSGPACK, "reserved byte 0xc1");
    case 0xc2:
    case 0xc3:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = t == 0xc3;
        return 0;
    case 0xc7: case 0xc8: case 0xc9:
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        return fail(r, CB_ENONCANON, "ext type");
    case 0xca:
    case 0xcb:
        return fail(r, CB_ENONCANON, "float");
    case 0xd0: case 0xd1: case 0xd2: case 0xd3:
        return fail(r, CB_ENONCANON, "signed integer encoding");
    default:
        break;
    }
    int n = hdr[t - 0xc0];
    if ((rv = need(r, (size_t)n)) != 0)
        return rv;
    uint64_t v = be(r->p, n);
    r->p += n;
    /* The smallest value each wider encoding may carry: anything below
     * fits a shorter one. (bin 8 is the shortest bin, so 0.) */
    static const uint64_t mins[] = {
        [0xc4 - 0xc0] = 0,     [0xc5 - 0xc0] = 0x100,
        [0xc6 - 0xc0] = 0x10000, [0xcc - 0xc0] = 0x80,
        [0xcd - 0xc0] = 0x100, [0xce - 0xc0] = 0x10000,
        [0xcf - 0xc0] = 0x100000000ull, [0xd9 - 0xc0] = 0x20,
        [0xda - 0xc0] = 0x100, [0xdb - 0xc0] = 0x10000,
        [0xdc - 0xc0] = 0x10,  [0xdd - 0xc0] = 0x10000,
        [0xde - 0xc0] = 0x10,  [0xdf - 0xc0] = 0x10000,
    };
    uint64_t min = mins[t - 0xc0];
    if (v < min)
        return fail(r, CB_ENONCANON, "length or value not in shortest form");
    switch (t) {
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = v;
        return 0;
    case 0xc4: case 0xc5: case 0xc6:
        return rd_bytes(r, o, v, false);
    case 0xd9: case 0xda: case 0xdb:
        return rd_bytes(r, o, v, true);
    case 0xdc: case 0xdd:
        return rd_array(r, o, v, depth);
    default: /* 0xde, 0xdf */
        return rd_map(r, o, v, depth);
    }
}

void lg_doc_init(struct lg_doc *d)
{
    msgpack_zone_init(&d->zone, 4096);
    memset(&d->root, 0, sizeof d->root);
}

void lg_doc_release(struct lg_doc *d)
{
    msgpack_zone_destroy(&d->zone);
}

int lg_decode(struct lg_doc *d, const uint8_t *buf, size_t len,
              const struct lg_limits *lim, struct cb_err *err)
{
    msgpack_zone_clear(&d->zone);
    memset(&d->root, 0, sizeof d->root);
    struct rd r = {
        .p = buf,
        .end = buf + len,
        .zone = &d->zone,
        .max_str = lim && lim->max_str ? lim->max_str : LG_STR_MAX,
        .max_depth = lim && lim->max_depth ? lim->max_depth : LG_DEPTH_MAX,
        .err = err,
        .path = "$",
        .plen = 1,
    };
    if (len == 0)
        return fail(&r, CB_EMSGPACK, "empty input");
    int rv = rd_value(&r, &d->root, 0);
    if (rv == 0 && r.p != r.end) {
        r.path[1] = '\0';
        rv = cb_errf(err, CB_ETRAILING, "$: %zu trailing bytes",
                     (size_t)(r.end - r.p));
    }
    if (rv != 0)
        memset(&d->root, 0, sizeof d->root);
    return rv;
}

/* ---------------- fields ---------------- */

static const char *kind_name(enum lg_kind k)
{
    static const char *names[] = {"any", "uint", "bool", "str",
                                  "bin", "array", "map"};
    return names[k];
}

static bool kind_ok(const msgpack_object *o, enum lg_kind k)
{
    switch (k) {
    case LG_ANY: return true;
    case LG_UINT: return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
    case LG_BOOL: return o->type == MSGPACK_OBJECT_BOOLEAN;
    case LG_STR: return o->type == MSGPACK_OBJECT_STR;
    case LG_BIN: return o->type == MSGPACK_OBJECT_BIN;
    case LG_ARRAY: return o->type == MSGPACK_OBJECT_ARRAY;
    case LG_MAP: return o->type == MSGPACK_OBJECT_MAP;
    }
    return false;
}

int lg_fields(const msgpack_object *obj, const struct lg_field *fields,
              size_t n, const char *where, struct cb_err *err)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return cb_errf(err, CB_ETYPE, "%s: expected map", where);
    for (size_t i = 0; i < n; i++)
        *fields[i].out = NULL;
    /* Both lists are in canonical order: walk them together. */
    size_t f = 0;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        const msgpack_object *v = &obj->via.map.ptr[i].val;
        int c = 1;
        while (f < n && (c = lg_keycmp(fields[f].key, strlen(fields[f].key),
                                       k->via.str.ptr, k->via.str.size)) < 0) {
            if (!fields[f].optional)
                return cb_errf(err, CB_EMISSINGKEY, "%s: missing key \"%s\"",
                               where, fields[f].key);
            f++;
        }
        if (f == n || c != 0)
            return cb_errf(err, CB_EUNKNOWNKEY, "%s: unknown key \"%.*s\"",
                           where,
                           (int)(k->via.str.size > 64 ? 64 : k->via.str.size),
                           k->via.str.ptr);
        if (!kind_ok(v, fields[f].kind))
            return cb_errf(err, CB_ETYPE, "%s.%s: expected %s", where,
                           fields[f].key, kind_name(fields[f].kind));
        if (fields[f].kind == LG_BIN && fields[f].len != 0 &&
            v->via.bin.size != fields[f].len)
            return cb_errf(err, CB_EVALUE, "%s.%s: expected %u bytes, got %u",
                           where, fields[f].key, fields[f].len,
                           v->via.bin.size);
        *fields[f].out = v;
        f++;
    }
    for (; f < n; f++)
        if (!fields[f].optional)
            return cb_errf(err, CB_EMISSINGKEY, "%s: missing key \"%s\"",
                           where, fields[f].key);
    return 0;
}

bool lg_is_str(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

int lg_str_copy(char *out, size_t cap, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return CB_ETYPE;
    if (o->via.str.size >= cap)
        return CB_ETOOBIG;
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
    return 0;
}
