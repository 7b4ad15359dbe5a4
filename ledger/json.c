/* Decoded MessagePack as JSON for people: bin as hex, big uints as text. */
#include <credbank/codec.h>

#include <stdlib.h>

#include <jansson.h>

#include <credbank/crypto.h>

struct json_t *lg_json(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            char buf[24];
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->via.u64);
            return json_string(buf);
        }
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_STR:
        return json_stringn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN: {
        char *hex = malloc(2 * (size_t)o->via.bin.size + 1);
        if (hex == NULL)
            return NULL;
        cy_hex(hex, (const uint8_t *)o->via.bin.ptr, o->via.bin.size);
        json_t *j = json_string(hex);
        free(hex);
        return j;
    }
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < o->via.array.size; i++) {
            json_t *v = lg_json(&o->via.array.ptr[i]);
            if (v == NULL || json_array_append_new(a, v) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; m && i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            json_t *v = lg_json(&kv->val);
            if (v == NULL || kv->key.type != MSGPACK_OBJECT_STR ||
                json_object_setn_new(m, kv->key.via.str.ptr,
                                     kv->key.via.str.size, v) != 0) {
                json_decref(v);
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
