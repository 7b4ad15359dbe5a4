/*
 * Canonical MessagePack (DESIGN section 3) on msgpack-c.
 *
 * Canonical form: unsigned integers only, shortest encoding; no floats, no
 * nil, no ext; str (valid UTF-8) and bin with the shortest length prefixes;
 * map keys are str, sorted by memcmp of their UTF-8 bytes (a key that is a
 * prefix of another first), no duplicates; booleans allowed. Re-encoding a
 * decoded value reproduces its bytes exactly.
 *
 * Writer: struct lg_w appends values to a growing buffer. It only ever
 * produces canonical encodings for the values given; callers write map keys
 * in canonical order (lg_keycmp), and tests check it by decoding strictly.
 * Errors (out of memory) are sticky: check lg_w_error() once at the end.
 *
 * Reader: lg_decode() parses exactly one value occupying the whole buffer,
 * rejecting anything not canonical, with a stable code and a message naming
 * where it is (for example "$.body.credits"). Memory is bounded by the input
 * size: a header that claims more elements than bytes remain is refused
 * before anything is allocated. Decoded objects point into the input buffer
 * and the document's zone: both must outlive them.
 */
#ifndef CREDBANK_CODEC_H
#define CREDBANK_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include <credbank/errors.h>

#define LG_STR_MAX 1024 /* default str limit, map keys included */
#define LG_DEPTH_MAX 16 /* deepest nesting of arrays and maps */

/* ---------------- writer ---------------- */
struct lg_w {
    msgpack_sbuffer buf; /* the bytes written so far */
    msgpack_packer pk;
    int err;             /* sticky: 0 or the first error (CB_ENOMEM;
                            CB_ETOOBIG, CB_EKEYORDER, CB_EINVAL below) */
};

void lg_w_init(struct lg_w *w);
void lg_w_release(struct lg_w *w);
/* Empties the buffer, keeping its memory. */
void lg_w_reset(struct lg_w *w);
void lg_w_uint(struct lg_w *w, uint64_t v);
void lg_w_bool(struct lg_w *w, bool v);
void lg_w_str(struct lg_w *w, const char *s, size_t len);
void lg_w_cstr(struct lg_w *w, const char *s);
void lg_w_bin(struct lg_w *w, const void *p, size_t len);
void lg_w_array(struct lg_w *w, uint32_t n);
void lg_w_map(struct lg_w *w, uint32_t n);
/* Appends already-encoded canonical bytes (a nested value). */
void lg_w_raw(struct lg_w *w, const void *p, size_t len);
/* Re-encodes a decoded object canonically (maps keep their order);
 * CB_EINVAL (sticky) for nil, negative, float or ext objects, which
 * lg_decode never produces. A str or bin over 2^32 - 1 bytes: CB_ETOOBIG. */
void lg_w_obj(struct lg_w *w, const msgpack_object *o);
/* Writes a map of str to str from unsorted arrays, sorting the keys
 * canonically; CB_EKEYORDER (sticky) if a key repeats. */
void lg_w_strmap(struct lg_w *w, const char *const *keys,
                 const char *const *vals, size_t n);
int lg_w_error(const struct lg_w *w);
const uint8_t *lg_w_data(const struct lg_w *w);
size_t lg_w_len(const struct lg_w *w);
/* Hands the buffer (malloc'd) to the caller and resets w; NULL with *len 0
 * when w is in error. */
uint8_t *lg_w_take(struct lg_w *w, size_t *len);

/* Canonical key order: memcmp of the bytes, shorter prefix first. */
int lg_keycmp(const char *a, size_t alen, const char *b, size_t blen);

/* ---------------- reader ---------------- */
struct lg_doc {
    msgpack_zone zone;    /* holds the object tree */
    msgpack_object root;  /* valid after a successful lg_decode */
    size_t chunk;         /* the zone's first chunk, kept across decodes
                             (0: 4 KiB); may be set after lg_doc_init */
};

struct lg_limits {
    size_t max_str;       /* longest str in bytes (0: LG_STR_MAX) */
    unsigned max_depth;   /* 0: LG_DEPTH_MAX; capped at 256 */
};

void lg_doc_init(struct lg_doc *d);
void lg_doc_release(struct lg_doc *d);
/* Decodes buf[len] strictly into d->root (d is reused; earlier objects die).
 * lim may be NULL for the defaults. Codes: CB_EMSGPACK (truncated or
 * invalid), CB_ETRAILING, CB_ENONCANON (non-shortest, float, nil, negative
 * int, ext), CB_EUTF8, CB_EKEYORDER, CB_ETYPE (non-str key), CB_ETOOBIG,
 * CB_ETOODEEP. */
int lg_decode(struct lg_doc *d, const uint8_t *buf, size_t len,
              const struct lg_limits *lim, struct cb_err *err);

/* What a field must be. */
enum lg_kind {
    LG_ANY = 0,
    LG_UINT,
    LG_BOOL,
    LG_STR,
    LG_BIN,
    LG_ARRAY,
    LG_MAP,
};

struct lg_field {
    const char *key;
    enum lg_kind kind;
    uint32_t len;                /* LG_BIN: exact length (0: any) */
    bool optional;
    const msgpack_object **out;  /* gets the value, or NULL when absent */
};

/*
 * Matches a decoded map against fields (listed in canonical key order):
 * every key of the map must be listed (CB_EUNKNOWNKEY), every non-optional
 * field present (CB_EMISSINGKEY), every value of its kind (CB_ETYPE) and, for
 * bin with len set, of that length (CB_EVALUE). where names the map in
 * messages ("body", "body.education"). CB_ETYPE if obj is not a map.
 */
int lg_fields(const msgpack_object *obj, const struct lg_field *fields,
              size_t n, const char *where, struct cb_err *err);

/* A decoded value as JSON for humans (jansson): uint as integer (as a
 * decimal string above 2^63 - 1), bin as lower-case hex string, str, bool,
 * array, map as object. NULL on out of memory. */
struct json_t;
struct json_t *lg_json(const msgpack_object *o);

/*
 * Writes a JSON value canonically: objects become maps with their keys in
 * canonical order, strings "hex:<hex>" become bin (so keys and hashes can be
 * written in JSON), other strings str, non-negative integers uint, true and
 * false bool, arrays arrays. Reals, null and negative integers are refused
 * (CB_EJSON, message naming the path).
 */
int lg_w_json(struct lg_w *w, const struct json_t *j, struct cb_err *err);

/* Small helpers over decoded objects. */
bool lg_is_str(const msgpack_object *o, const char *s); /* str equal to s */
/* Copies a str into out[cap] with a NUL; CB_ETOOBIG if it does not fit. */
int lg_str_copy(char *out, size_t cap, const msgpack_object *o);

#endif
