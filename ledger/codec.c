/*
 * Canonical MessagePack on msgpack-c (DESIGN section 3, spec/encoding.md).
 *
 * Why this shape
 * --------------
 * Every byte credbank signs, hashes or stores is MessagePack in one canonical
 * form, and every verifier re-encodes what it decodes and expects the same
 * bytes. So there are two halves with opposite jobs.
 *
 * The writer is msgpack-c's packer writing into a msgpack_sbuffer. The
 * packer already picks the shortest header for every uint, str, bin, array
 * and map (fixint, then uint 8/16/32/64; fixstr, then str 8/16/32; bin
 * 8/16/32; fixarray/fixmap, then the 16- and 32-bit forms), and the tests pin
 * that byte by byte at every boundary and against a plain msgpack_packer.
 * We instantiate msgpack-c's pack template a second time with the buffer
 * append inlined, because the stock packer makes an indirect call for every
 * header byte, which was most of the cost of encoding an entry. Canonical
 * key order is the caller's duty (lg_keycmp); the only writer that sorts is
 * lg_w_strmap. Errors are sticky so that a chain of writes is checked once.
 *
 * The reader does not use msgpack-c's unpacker. That unpacker must accept
 * every legal encoding (str 8 holding three bytes, int 8 holding 5, floats,
 * nil...), and it allocates count * sizeof(msgpack_object) as soon as it sees
 * an array header: five hostile bytes (0xdd ff ff ff ff) would ask for ~100
 * GB before a single element was read. Instead one pass over the bytes
 * checks each header as it reads it -- the shortest form; no float, nil,
 * signed-int or ext encoding; counts and lengths that fit in the bytes left
 * (each element takes at least one byte, each map entry two); str valid
 * UTF-8 and within max_str; map keys str and strictly increasing; nesting
 * within max_depth -- and builds the very msgpack_object tree msgpack-c
 * would build, in the document's msgpack_zone, with str and bin pointing
 * into the input. An allocation happens only after the count behind it has
 * been checked against the bytes that remain, so memory is bounded by the
 * input: at most one msgpack_object (24 bytes) per input byte, which the
 * zone may round up to twice that for one big array, plus its first chunk.
 * The first error is reported with its path.
 *
 * Speed: a typical entry must encode and decode over a million times a
 * second per core. The decoder never allocates outside the zone, which is
 * cleared (not freed) between decodes, so the steady state is malloc-free;
 * the error path is built lazily -- while parsing we only note, per level,
 * which key or index we are in (two stores), and format "$.body.refs[2]"
 * only when something fails; UTF-8 is checked eight ASCII bytes at a time.
 *
 * Recursion depth is bounded by max_depth, itself capped at LG_DEPTH_CAP so
 * that no caller can let input exhaust the C stack.
 */
#include <credbank/codec.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hard ceiling on max_depth: each level is one C stack frame. */
#define LG_DEPTH_CAP 256

/* ---------------- writer ---------------- */

/* Grows the buffer like msgpack_sbuffer_write does: doubling, at least
 * MSGPACK_SBUFFER_INIT_SIZE, with an overflow check. */
static int w_grow(msgpack_sbuffer *b, size_t len)
{
    size_t need = b->size + len, nsize = b->alloc ? b->alloc * 2
                                                  : MSGPACK_SBUFFER_INIT_SIZE;
    if (need < len)
        return -1;
    while (nsize < need) {
        size_t t = nsize * 2;
        if (t <= nsize) {
            nsize = need;
            break;
        }
        nsize = t;
    }
    void *p = realloc(b->data, nsize);
    if (p == NULL)
        return -1;
    b->data = p;
    b->alloc = nsize;
    return 0;
}

/* Appends len bytes to the buffer, growing it when needed. Inlined at the
 * packer's call sites, where len is usually a constant 1-9. */
static inline int w_append(msgpack_sbuffer *b, const char *p, size_t len)
{
    if (b->alloc - b->size < len && w_grow(b, len) != 0)
        return -1;
    char *d = b->data + b->size;
    /* Short copies (names, terms, 16- and 32-byte ids) inline, as word
     * moves; libc memcpy for the rest. Constant lengths fold away. */
    if (len <= 32 && len >= 16) {
        memcpy(d, p, 16);
        memcpy(d + len - 16, p + len - 16, 16);
    } else if (len < 16 && len >= 8) {
        memcpy(d, p, 8);
        memcpy(d + len - 8, p + len - 8, 8);
    } else if (len < 8 && len >= 4) {
        memcpy(d, p, 4);
        memcpy(d + len - 4, p + len - 4, 4);
    } else if (len < 4) {
        if (len > 0)
            d[0] = p[0];
        if (len > 1)
            d[1] = p[1];
        if (len > 2)
            d[2] = p[2];
    } else {
        memcpy(d, p, len);
    }
    b->size += len;
    return 0;
}

/* The sink of w->pk, for callers who use msgpack_pack_* on it directly. */
static int w_write(void *data, const char *p, size_t len)
{
    return w_append(data, p, len);
}

/*
 * msgpack-c's own packer, instantiated a second time from its template with
 * the sink inlined: the encodings are byte for byte msgpack_pack_*'s (the
 * shortest form for every value), without an indirect call per header byte,
 * which was most of the cost of encoding an entry.
 */
#define msgpack_pack_inline_func(name) static inline int lg_pk##name
#define msgpack_pack_inline_func_cint(name) static inline int lg_pk##name
#define msgpack_pack_inline_func_fixint(name) static inline int lg_pk_fix##name
#define msgpack_pack_user msgpack_sbuffer *
#define msgpack_pack_append_buffer(user, buf, len) \
    return w_append(user, (const char *)(buf), len)
#include <msgpack/pack_template.h>
#undef msgpack_pack_inline_func
#undef msgpack_pack_inline_func_cint

void lg_w_init(struct lg_w *w)
{
    msgpack_sbuffer_init(&w->buf);
    msgpack_packer_init(&w->pk, &w->buf, w_write);
    w->err = 0;
}

void lg_w_release(struct lg_w *w)
{
    msgpack_sbuffer_destroy(&w->buf);
    msgpack_sbuffer_init(&w->buf);
    w->err = 0;
}

void lg_w_reset(struct lg_w *w)
{
    w->buf.size = 0;
    w->err = 0;
}

/* The first failure sticks; later writes are skipped. */
static inline void w_fail(struct lg_w *w, int code)
{
    if (w->err == 0)
        w->err = code;
}

/* msgpack_pack_* return the sbuffer's result: non-zero only when realloc
 * failed. */
#define W_DO(w, call)                     \
    do {                                  \
        if ((w)->err == 0 && (call) != 0) \
            (w)->err = CB_ENOMEM;         \
    } while (0)

void lg_w_uint(struct lg_w *w, uint64_t v)
{
    W_DO(w, lg_pk_uint64(&w->buf, v));
}

void lg_w_bool(struct lg_w *w, bool v)
{
    W_DO(w, v ? lg_pk_true(&w->buf) : lg_pk_false(&w->buf));
}

void lg_w_str(struct lg_w *w, const char *s, size_t len)
{
    /* msgpack-c would silently truncate the length to 32 bits. */
    if (len > UINT32_MAX) {
        w_fail(w, CB_ETOOBIG);
        return;
    }
    W_DO(w, lg_pk_str(&w->buf, len));
    W_DO(w, lg_pk_str_body(&w->buf, s, len));
}

void lg_w_cstr(struct lg_w *w, const char *s)
{
    lg_w_str(w, s, strlen(s));
}

void lg_w_bin(struct lg_w *w, const void *p, size_t len)
{
    if (len > UINT32_MAX) {
        w_fail(w, CB_ETOOBIG);
        return;
    }
    W_DO(w, lg_pk_bin(&w->buf, len));
    W_DO(w, lg_pk_bin_body(&w->buf, p, len));
}

void lg_w_array(struct lg_w *w, uint32_t n)
{
    W_DO(w, lg_pk_array(&w->buf, n));
}

void lg_w_map(struct lg_w *w, uint32_t n)
{
    W_DO(w, lg_pk_map(&w->buf, n));
}

void lg_w_raw(struct lg_w *w, const void *p, size_t len)
{
    if (len == 0)
        return;
    W_DO(w, w_append(&w->buf, p, len));
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
        for (uint32_t i = 0; i < o->via.array.size && w->err == 0; i++)
            lg_w_obj(w, &o->via.array.ptr[i]);
        break;
    case MSGPACK_OBJECT_MAP:
        lg_w_map(w, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size && w->err == 0; i++) {
            lg_w_obj(w, &o->via.map.ptr[i].key);
            lg_w_obj(w, &o->via.map.ptr[i].val);
        }
        break;
    default:
        /* nil, negative, float, ext: never produced by lg_decode, so this
         * is a programmer error upstream, reported rather than written. */
        w_fail(w, CB_EINVAL);
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
    size_t klen;
};

static int strkv_cmp(const void *x, const void *y)
{
    const struct strkv *a = x, *b = y;
    return lg_keycmp(a->k, a->klen, b->k, b->klen);
}

void lg_w_strmap(struct lg_w *w, const char *const *keys,
                 const char *const *vals, size_t n)
{
    struct strkv stack[32], *kv = stack;
    if (w->err != 0)
        return;
    if (n > UINT32_MAX) {
        w_fail(w, CB_ETOOBIG);
        return;
    }
    if (n > 32 && (kv = malloc(n * sizeof *kv)) == NULL) {
        w_fail(w, CB_ENOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++)
        kv[i] = (struct strkv){keys[i], vals[i], strlen(keys[i])};
    if (n > 1)
        qsort(kv, n, sizeof *kv, strkv_cmp);
    for (size_t i = 1; i < n; i++)
        if (strkv_cmp(&kv[i - 1], &kv[i]) == 0)
            w_fail(w, CB_EKEYORDER);
    if (w->err == 0) {
        lg_w_map(w, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            lg_w_str(w, kv[i].k, kv[i].klen);
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
    size_t n = w->buf.size;
    uint8_t *p = (uint8_t *)msgpack_sbuffer_release(&w->buf);
    if (p == NULL) /* nothing was ever written: still hand out a buffer */
        p = malloc(1);
    *len = p != NULL ? n : 0;
    return p;
}

/* UTF-8 as RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_check(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (x & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i == n)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
        size_t len;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0; /* below: overlong */
            else if (c == 0xed)
                hi = 0x9f; /* above: surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90; /* below: overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above: beyond U+10FFFF */
        } else {
            return false; /* continuation, 0xc0/0xc1 overlong, 0xf5.. */
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

/* Most strs (keys, names, terms) are short ASCII: a few overlapping word
 * loads decide those without a call or a per-byte loop. */
static inline bool utf8_ok(const uint8_t *s, size_t n)
{
    if (n >= 8 && n <= 32) {
        uint64_t acc = load64(s + n - 8);
        for (size_t k = 0; k + 8 <= n; k += 8)
            acc |= load64(s + k);
        if ((acc & 0x8080808080808080ull) == 0)
            return true;
    } else if (n >= 4 && n < 8) {
        if (((load32(s) | load32(s + n - 4)) & 0x80808080u) == 0)
            return true;
    } else if (n < 4) {
        uint8_t acc = 0;
        for (size_t k = 0; k < n; k++)
            acc |= s[k];
        if (acc < 0x80)
            return true;
    }
    return utf8_check(s, n);
}

/* ---------------- names in messages ---------------- */

/*
 * Renders a map key for a message into out[cap] (cap >= 24): ".key" when it
 * is a plain word (letters, digits, '_', '-', non-ASCII UTF-8), else
 * ["..."] with JSON escapes; quoted: always the "..." form without brackets
 * (for 'unknown key "x"'). At most cap - 16 bytes of key (and no more than
 * 48) are shown; a cut falls on a UTF-8 boundary and is marked "...".
 * Invalid UTF-8 is shown as \xNN, so messages stay valid UTF-8 (they end up
 * in JSON bodies).
 */
static size_t keyfmt(char *out, size_t cap, const char *k, size_t len,
                     bool quoted)
{
    const uint8_t *s = (const uint8_t *)k;
    bool plain = !quoted && len > 0;
    for (size_t i = 0; plain && i < len; i++)
        plain = s[i] >= 0x80 || s[i] == '_' || s[i] == '-' ||
                (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
                (s[i] >= 'A' && s[i] <= 'Z');
    size_t o = 0, limit = cap - 16; /* room for "...", marks and NUL */
    if (limit > 48)
        limit = 48;
    if (!quoted)
        out[o++] = plain ? '.' : '[';
    if (!plain)
        out[o++] = '"';
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        char tmp[8];
        size_t n = 0, adv = 1;
        if (c >= 0x80) {
            /* copy one whole, valid UTF-8 sequence, or escape the byte */
            size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
            bool ok = want != 0 && i + want <= len && utf8_ok(s + i, want);
            if (ok) {
                memcpy(tmp, s + i, want);
                n = adv = want;
            } else {
                n = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
            }
        } else if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            n = (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", c);
        } else {
            tmp[0] = (char)c;
            n = 1;
        }
        if (o + n > limit) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, n);
        o += n;
        i += adv;
    }
    if (!plain)
        out[o++] = '"';
    if (!quoted && !plain)
        out[o++] = ']';
    out[o] = '\0';
    return o;
}

/* ---------------- reader ---------------- */

/* Where the parser is, one segment per enclosing container; formatted only
 * when an error is reported. */
struct seg {
    const char *key; /* map: the current key; NULL for an array */
    uint32_t n;      /* key length, or the array index */
};

struct rd {
    const uint8_t *p, *end; /* next byte to read; end of input */
    msgpack_zone *zone;
    size_t max_str;
    unsigned max_depth;
    struct cb_err *err;
    struct seg seg[LG_DEPTH_CAP];
};

/* Formats "$.a[2].b" for the first depth segments into out[cap]. A path too
 * long for out keeps "$" and its innermost part: "$....c[3].d". */
static void path_fmt(const struct rd *r, unsigned depth, char *out,
                     size_t cap)
{
    char buf[LG_DEPTH_CAP * 16 + 64];
    size_t o = 1;
    buf[0] = '$';
    for (unsigned d = 0; d < depth && o + 72 < sizeof buf; d++) {
        const struct seg *s = &r->seg[d];
        if (s->key != NULL)
            o += keyfmt(buf + o, 64, s->key, s->n, false);
        else
            o += (size_t)snprintf(buf + o, 16, "[%u]", s->n);
    }
    buf[o] = '\0';
    if (o < cap) {
        memcpy(out, buf, o + 1);
        return;
    }
    /* Keep "$" + "..." + the innermost part, cut where a segment starts so
     * no UTF-8 sequence is split. */
    size_t keep = cap - 5, from = o - keep;
    while (from < o && buf[from] != '.' && buf[from] != '[')
        from++;
    snprintf(out, cap, "$...%s", buf + from);
}

/* Errors are rare: keep their formatting out of the parsing loops. */
static int fail(struct rd *r, unsigned depth, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), cold, noinline));

static int fail(struct rd *r, unsigned depth, int code, const char *fmt, ...)
{
    if (r->err == NULL)
        return code;
    char path[160], what[88];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    path_fmt(r, depth, path, sizeof path);
    return cb_errf(r->err, code, "%s: %s", path, what);
}

static inline size_t left(const struct rd *r)
{
    return (size_t)(r->end - r->p);
}

/* "str", or "key 3" when the str is the key of map entry 3. */
#define NOKEY UINT32_MAX
static const char *what_fmt(char buf[32], const char *kind, uint32_t key)
{
    if (key == NOKEY)
        return kind;
    snprintf(buf, 32, "key %u", key);
    return buf;
}

/*
 * Reads the nbytes big-endian length or value after a type byte and checks
 * it is at least min (anything smaller has a shorter encoding). kind names
 * it in messages; key is NOKEY or the index of the map key being read.
 */
static inline int rd_num(struct rd *r, unsigned depth, unsigned nbytes,
                         uint64_t min, const char *kind, uint32_t key,
                         uint64_t *v)
{
    char b[32];
    if (left(r) < nbytes)
        return fail(r, depth, CB_EMSGPACK, "truncated %s header",
                    what_fmt(b, kind, key));
    uint64_t x = 0;
    for (unsigned i = 0; i < nbytes; i++)
        x = x << 8 | r->p[i];
    r->p += nbytes;
    if (x < min) {
        if (strcmp(kind, "uint") == 0)
            return fail(r, depth, CB_ENONCANON, "uint not in shortest form");
        return fail(r, depth, CB_ENONCANON, "%s length not in shortest form",
                    what_fmt(b, kind, key));
    }
    *v = x;
    return 0;
}

/* The body of a str of len bytes: presence, limit, UTF-8. */
static inline int rd_str(struct rd *r, msgpack_object *o, uint64_t len,
                         unsigned depth, uint32_t key)
{
    char b[32];
    if (left(r) < len)
        return fail(r, depth, CB_EMSGPACK,
                    "truncated: %s of %llu bytes, %zu left",
                    what_fmt(b, "str", key), (unsigned long long)len, left(r));
    if (len > r->max_str)
        return fail(r, depth, CB_ETOOBIG, "%s of %llu bytes exceeds %zu",
                    what_fmt(b, "str", key), (unsigned long long)len,
                    r->max_str);
    if (!utf8_ok(r->p, len))
        return fail(r, depth, CB_EUTF8, "%s is not valid UTF-8",
                    what_fmt(b, "str", key));
    o->type = MSGPACK_OBJECT_STR;
    o->via.str.ptr = (const char *)r->p;
    o->via.str.size = (uint32_t)len;
    r->p += len;
    return 0;
}

static int rd_bin(struct rd *r, msgpack_object *o, uint64_t len,
                  unsigned depth)
{
    if (left(r) < len)
        return fail(r, depth, CB_EMSGPACK,
                    "truncated: bin of %llu bytes, %zu left",
                    (unsigned long long)len, left(r));
    o->type = MSGPACK_OBJECT_BIN;
    o->via.bin.ptr = (const char *)r->p;
    o->via.bin.size = (uint32_t)len;
    r->p += len;
    return 0;
}

static int rd_value(struct rd *r, msgpack_object *o, unsigned depth);

static int rd_array(struct rd *r, msgpack_object *o, uint64_t n,
                    unsigned depth)
{
    if (depth >= r->max_depth)
        return fail(r, depth, CB_ETOODEEP, "nested deeper than %u",
                    r->max_depth);
    /* Every element takes at least one byte: refuse before allocating. */
    if (n > left(r))
        return fail(r, depth, CB_EMSGPACK,
                    "truncated: array of %llu elements, %zu bytes left",
                    (unsigned long long)n, left(r));
    o->type = MSGPACK_OBJECT_ARRAY;
    o->via.array.size = (uint32_t)n;
    o->via.array.ptr = NULL;
    if (n == 0)
        return 0;
    msgpack_object *a = msgpack_zone_malloc(r->zone, n * sizeof *a);
    if (a == NULL)
        return fail(r, depth, CB_ENOMEM, "out of memory");
    o->via.array.ptr = a;
    struct seg *s = &r->seg[depth];
    s->key = NULL;
    for (uint32_t i = 0; i < n; i++) {
        s->n = i;
        int rv = rd_value(r, &a[i], depth + 1);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* lg_keycmp for the short keys of real maps: the first byte usually
 * decides, and a libc memcmp call costs more than that. */
static inline int keycmp_inline(const char *a, uint32_t alen, const char *b,
                                uint32_t blen)
{
    uint32_t m = alen < blen ? alen : blen;
    for (uint32_t i = 0; i < m; i++)
        if (a[i] != b[i])
            return (uint8_t)a[i] < (uint8_t)b[i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

/* A map key: a str (any other type is CB_ETYPE, read no further). */
static int rd_key(struct rd *r, msgpack_object *k, uint32_t i, unsigned depth)
{
    if (left(r) == 0)
        return fail(r, depth, CB_EMSGPACK, "truncated: key %u expected", i);
    uint8_t t = *r->p++;
    uint64_t len = 0;
    int rv;
    if (t >= 0xa0 && t <= 0xbf) {
        len = t & 0x1f;
    } else if (t >= 0xd9 && t <= 0xdb) {
        static const unsigned nb[] = {1, 2, 4};
        static const uint64_t min[] = {0x20, 0x100, 0x10000};
        if ((rv = rd_num(r, depth, nb[t - 0xd9], min[t - 0xd9], "str", i,
                         &len)) != 0)
            return rv;
    } else if (t == 0xc1) {
        return fail(r, depth, CB_EMSGPACK, "key %u: reserved byte 0xc1", i);
    } else {
        return fail(r, depth, CB_ETYPE, "key %u is not a str", i);
    }
    return rd_str(r, k, len, depth, i);
}

static int rd_map(struct rd *r, msgpack_object *o, uint64_t n, unsigned depth)
{
    if (depth >= r->max_depth)
        return fail(r, depth, CB_ETOODEEP, "nested deeper than %u",
                    r->max_depth);
    /* Every entry takes at least two bytes (key and value). */
    if (n > left(r) / 2)
        return fail(r, depth, CB_EMSGPACK,
                    "truncated: map of %llu entries, %zu bytes left",
                    (unsigned long long)n, left(r));
    o->type = MSGPACK_OBJECT_MAP;
    o->via.map.size = (uint32_t)n;
    o->via.map.ptr = NULL;
    if (n == 0)
        return 0;
    msgpack_object_kv *kv = msgpack_zone_malloc(r->zone, n * sizeof *kv);
    if (kv == NULL)
        return fail(r, depth, CB_ENOMEM, "out of memory");
    o->via.map.ptr = kv;
    struct seg *s = &r->seg[depth];
    for (uint32_t i = 0; i < n; i++) {
        int rv = rd_key(r, &kv[i].key, i, depth);
        if (rv != 0)
            return rv;
        const char *k = kv[i].key.via.str.ptr;
        uint32_t klen = kv[i].key.via.str.size;
        if (i > 0) {
            int c = keycmp_inline(s->key, s->n, k, klen);
            if (c >= 0) {
                char a[40], b[40];
                keyfmt(a, sizeof a, k, klen, true);
                if (c == 0)
                    return fail(r, depth, CB_EKEYORDER, "key %s repeated", a);
                keyfmt(b, sizeof b, s->key, s->n, true);
                return fail(r, depth, CB_EKEYORDER, "key %s after %s", a, b);
            }
        }
        s->key = k;
        s->n = klen;
        if ((rv = rd_value(r, &kv[i].val, depth + 1)) != 0)
            return rv;
    }
    return 0;
}

static int rd_value(struct rd *r, msgpack_object *o, unsigned depth)
{
    uint64_t v = 0;
    int rv;
    if (left(r) == 0)
        return fail(r, depth, CB_EMSGPACK, "truncated: value expected");
    uint8_t t = *r->p++;
    if (t <= 0x7f) { /* positive fixint */
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = t;
        return 0;
    }
    if (t <= 0x8f)
        return rd_map(r, o, t & 0x0f, depth);
    if (t <= 0x9f)
        return rd_array(r, o, t & 0x0f, depth);
    if (t <= 0xbf)
        return rd_str(r, o, t & 0x1f, depth, NOKEY);
    if (t >= 0xe0)
        return fail(r, depth, CB_ENONCANON, "negative integer");
    switch (t) {
    case 0xc0:
        return fail(r, depth, CB_ENONCANON, "nil");
    case 0xc1:
        return fail(r, depth, CB_EMSGPACK, "reserved byte 0xc1");
    case 0xc2:
    case 0xc3:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = t == 0xc3;
        return 0;
    case 0xc4: /* bin 8 is the shortest bin */
    case 0xc5:
    case 0xc6: {
        static const uint64_t min[] = {0, 0x100, 0x10000};
        unsigned nb = 1u << (t - 0xc4);
        if ((rv = rd_num(r, depth, nb, min[t - 0xc4], "bin", NOKEY, &v)) != 0)
            return rv;
        return rd_bin(r, o, v, depth);
    }
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        return fail(r, depth, CB_ENONCANON, "ext type (0x%02x)", t);
    case 0xca:
    case 0xcb:
        return fail(r, depth, CB_ENONCANON, "float");
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        static const uint64_t min[] = {0x80, 0x100, 0x10000, 0x100000000ull};
        unsigned nb = 1u << (t - 0xcc);
        if ((rv = rd_num(r, depth, nb, min[t - 0xcc], "uint", NOKEY, &v)) != 0)
            return rv;
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = v;
        return 0;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        return fail(r, depth, CB_ENONCANON,
                    "signed integer encoding (0x%02x)", t);
    case 0xd9:
    case 0xda:
    case 0xdb: {
        static const unsigned nb[] = {1, 2, 4};
        static const uint64_t min[] = {0x20, 0x100, 0x10000};
        if ((rv = rd_num(r, depth, nb[t - 0xd9], min[t - 0xd9], "str",
                         NOKEY, &v)) != 0)
            return rv;
        return rd_str(r, o, v, depth, NOKEY);
    }
    case 0xdc:
    case 0xdd:
        if ((rv = rd_num(r, depth, t == 0xdc ? 2 : 4,
                         t == 0xdc ? 0x10 : 0x10000, "array", NOKEY, &v)) != 0)
            return rv;
        return rd_array(r, o, v, depth);
    default: /* 0xde, 0xdf */
        if ((rv = rd_num(r, depth, t == 0xde ? 2 : 4,
                         t == 0xde ? 0x10 : 0x10000, "map", NOKEY, &v)) != 0)
            return rv;
        return rd_map(r, o, v, depth);
    }
}

void lg_doc_init(struct lg_doc *d)
{
    /* No zone yet: lg_decode makes it on first use (on the thread that
     * decodes, which for a batch is a worker), so that preparing a batch
     * of a thousand entries does not malloc two thousand chunks serially. */
    memset(d, 0, sizeof *d);
}

void lg_doc_release(struct lg_doc *d)
{
    if (d->zone.chunk_list.head != NULL)
        msgpack_zone_destroy(&d->zone);
    memset(d, 0, sizeof *d);
}

int lg_decode(struct lg_doc *d, const uint8_t *buf, size_t len,
              const struct lg_limits *lim, struct cb_err *err)
{
    memset(&d->root, 0, sizeof d->root);
    if (d->zone.chunk_list.head == NULL) {
        if (!msgpack_zone_init(&d->zone, d->chunk ? d->chunk : 4096)) {
            memset(&d->zone, 0, sizeof d->zone);
            return cb_errf(err, CB_ENOMEM, "$: out of memory");
        }
    } else {
        /* Keeps the first chunk: steady-state decoding does not malloc. */
        msgpack_zone_clear(&d->zone);
    }
    struct rd r;
    r.p = buf;
    r.end = len != 0 ? buf + len : buf; /* buf may be NULL when len is 0 */
    r.zone = &d->zone;
    r.max_str = lim != NULL && lim->max_str != 0 ? lim->max_str : LG_STR_MAX;
    r.max_depth =
        lim != NULL && lim->max_depth != 0 ? lim->max_depth : LG_DEPTH_MAX;
    if (r.max_depth > LG_DEPTH_CAP)
        r.max_depth = LG_DEPTH_CAP;
    r.err = err;
    if (len == 0)
        return fail(&r, 0, CB_EMSGPACK, "empty input");
    int rv = rd_value(&r, &d->root, 0);
    if (rv == 0 && r.p != r.end)
        rv = fail(&r, 0, CB_ETRAILING, "%zu byte(s) after the value",
                  left(&r));
    if (rv != 0)
        memset(&d->root, 0, sizeof d->root);
    return rv;
}

/* ---------------- fields ---------------- */

static const char *kind_name(enum lg_kind k)
{
    static const char *names[] = {"any", "uint", "bool", "str",
                                  "bin", "array", "map"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
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

/*
 * Both the map (decoded canonically) and the table are in canonical key
 * order, so one merge-like walk matches them in O(keys + fields) without
 * building anything.
 */
int lg_fields(const msgpack_object *obj, const struct lg_field *fields,
              size_t n, const char *where, struct cb_err *err)
{
    if (where == NULL)
        where = "$";
    for (size_t i = 0; i < n; i++)
        if (fields[i].out != NULL)
            *fields[i].out = NULL;
    if (obj == NULL || obj->type != MSGPACK_OBJECT_MAP)
        return cb_errf(err, CB_ETYPE, "%s: expected map", where);
    size_t f = 0;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        const msgpack_object *v = &obj->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR)
            return cb_errf(err, CB_ETYPE, "%s: key %u is not a str", where, i);
        int c = 1;
        while (f < n && (c = lg_keycmp(fields[f].key, strlen(fields[f].key),
                                       k->via.str.ptr, k->via.str.size)) < 0) {
            if (!fields[f].optional)
                return cb_errf(err, CB_EMISSINGKEY, "%s: missing key \"%s\"",
                               where, fields[f].key);
            f++;
        }
        if (f == n || c != 0) {
            char name[64];
            keyfmt(name, sizeof name, k->via.str.ptr, k->via.str.size, true);
            return cb_errf(err, CB_EUNKNOWNKEY, "%s: unknown key %s", where,
                           name);
        }
        if (!kind_ok(v, fields[f].kind))
            return cb_errf(err, CB_ETYPE, "%s.%s: expected %s", where,
                           fields[f].key, kind_name(fields[f].kind));
        if (fields[f].kind == LG_BIN && fields[f].len != 0 &&
            v->via.bin.size != fields[f].len)
            return cb_errf(err, CB_EVALUE, "%s.%s: expected %u bytes, got %u",
                           where, fields[f].key, fields[f].len,
                           v->via.bin.size);
        if (fields[f].out != NULL)
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
    return o != NULL && o->type == MSGPACK_OBJECT_STR &&
           o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

int lg_str_copy(char *out, size_t cap, const msgpack_object *o)
{
    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return CB_ETYPE;
    if (o->via.str.size >= cap)
        return CB_ETOOBIG;
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
    return 0;
}
