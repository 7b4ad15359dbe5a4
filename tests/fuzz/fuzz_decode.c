/*
 * libFuzzer target for the strict canonical decoder (lg_decode).
 *
 * Invariants checked beyond "no crash, no leak, no UB":
 * - a refusal carries its code in err, and a message that starts with the
 *   path "$", fits the buffer and is valid UTF-8 (it goes into JSON bodies);
 * - whatever decodes re-encodes (lg_w_obj) to exactly the input bytes:
 *   the decoder accepts canonical form only;
 * - whatever decodes is read to the same tree by msgpack-c's own unpacker
 *   (safe to call then: an accepted input's counts are bounded by its size);
 * - a decoded value renders as JSON (lg_json), and the JSON has one member
 *   per map entry;
 * - decoding the same bytes twice gives the same verdict (the reused zone
 *   leaves nothing behind).
 *
 * Limits are drawn from the input's length so that small max_str and
 * max_depth values are exercised too.
 *
 * Run: fuzz_decode -max_total_time=120 tests/fuzz/corpus/decode
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <credbank/codec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool utf8_message(const char *s)
{
    json_t *j = json_string(s); /* jansson validates UTF-8 */
    if (j == NULL)
        return false;
    json_decref(j);
    return true;
}

static size_t json_members(const json_t *j)
{
    size_t n = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) n += 1 + json_members(v);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) n += json_members(v);
    }
    return n;
}

static size_t map_entries(const msgpack_object *o)
{
    size_t n = 0;
    if (o->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < o->via.map.size; i++)
            n += 1 + map_entries(&o->via.map.ptr[i].val);
    else if (o->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < o->via.array.size; i++)
            n += map_entries(&o->via.array.ptr[i]);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lg_doc doc;
    static int init;
    if (!init) {
        lg_doc_init(&doc);
        init = 1;
    }
    /* Mostly the defaults; sometimes tight limits. */
    struct lg_limits lim = {0, 0};
    if (size % 7 == 3) {
        lim.max_str = size % 13;
        lim.max_depth = (unsigned)(size % 5);
    }
    struct cb_err err = {0, ""};
    int rv = lg_decode(&doc, data, size, &lim, &err);
    if (rv != 0) {
        if (rv >= 0 || err.code != rv || err.msg[0] != '$' ||
            strlen(err.msg) >= sizeof err.msg - 1 || !utf8_message(err.msg))
            abort(); /* every refusal: its code, a path, a whole message */
        if (doc.root.type != MSGPACK_OBJECT_NIL)
            abort(); /* no half-built tree is left behind */
        struct cb_err err2 = {0, ""};
        if (lg_decode(&doc, data, size, &lim, &err2) != rv ||
            strcmp(err.msg, err2.msg) != 0)
            abort();
        return 0;
    }

    /* Canonical: re-encoding gives back exactly the input. */
    struct lg_w w;
    lg_w_init(&w);
    lg_w_obj(&w, &doc.root);
    if (lg_w_error(&w) != 0 || lg_w_len(&w) != size ||
        memcmp(lg_w_data(&w), data, size) != 0)
        abort();
    lg_w_release(&w);

    /* msgpack-c reads it alike. */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, (const char *)data, size, &off) !=
            MSGPACK_UNPACK_SUCCESS ||
        off != size || !msgpack_object_equal(u.data, doc.root))
        abort();
    msgpack_unpacked_destroy(&u);

    /* JSON for people: always possible, one member per map entry. */
    json_t *j = lg_json(&doc.root);
    if (j == NULL || json_members(j) != map_entries(&doc.root))
        abort();
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        abort();
    free(text);
    json_decref(j);
    return 0;
}
