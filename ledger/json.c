/*
 * Decoded MessagePack as JSON for people (lg_json).
 *
 * The mapping is lossy on purpose but unambiguous for credbank's data: uint
 * becomes a JSON integer while it fits jansson's json_int_t (int64), and a
 * decimal string above 2^63 - 1 so no precision is lost in JSON readers;
 * bin becomes lower-case hex (keys, hashes and signatures read as people
 * know them); str stays str (jansson keeps embedded NULs); maps become
 * objects in their canonical key order.
 *
 * Ownership: jansson's *_new setters steal the value reference even when
 * they fail, so a failed set must not release the value again.
 */
#include <credbank/codec.h>

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include <credbank/crypto.h>

static json_t *bin_hex(const msgpack_object *o)
{
    char stack[2 * 64 + 1], *hex = stack;
    size_t need = 2 * (size_t)o->via.bin.size + 1;
    if (need > sizeof stack && (hex = malloc(need)) == NULL)
        return NULL;
    cy_hex(hex, (const uint8_t *)o->via.bin.ptr, o->via.bin.size);
    json_t *j = json_stringn(hex, need - 1);
    if (hex != stack)
        free(hex);
    return j;
}

struct json_t *lg_json(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            char buf[24];
            int n = snprintf(buf, sizeof buf, "%llu",
                             (unsigned long long)o->via.u64);
            return json_stringn(buf, (size_t)n);
        }
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_STR:
        return json_stringn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return bin_hex(o);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        if (a == NULL)
            return NULL;
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            json_t *v = lg_json(&o->via.array.ptr[i]);
            /* append_new releases v itself when it fails */
            if (v == NULL || json_array_append_new(a, v) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        if (m == NULL)
            return NULL;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR) {
                json_decref(m);
                return NULL;
            }
            json_t *v = lg_json(&kv->val);
            /* setn_new releases v itself when it fails */
            if (v == NULL || json_object_setn_new(m, kv->key.via.str.ptr,
                                                  kv->key.via.str.size,
                                                  v) != 0) {
                json_decref(m);
                return NULL;
            }
        }
        return m;
    }
    default:
        return NULL;
    }
}
