/*
 * JSON to canonical MessagePack, for people and tests writing entry bodies
 * and genesis files in JSON. Bytes are written "hex:..." so that a JSON file
 * can say exactly which values are bin.
 */
#include <credbank/codec.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <credbank/crypto.h>

struct kv {
    const char *key;
    json_t *val;
};

static int kv_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    return lg_keycmp(x->key, strlen(x->key), y->key, strlen(y->key));
}

static int write(struct lg_w *w, json_t *j, char *path, size_t plen,
                 size_t cap, struct cb_err *err, int depth)
{
    if (depth > LG_DEPTH_MAX)
        return cb_errf(err, CB_EJSON, "%s: nested too deep", path);
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0;
        struct kv *kvs = calloc(n ? n : 1, sizeof *kvs);
        if (kvs == NULL)
            return cb_errf(err, CB_ENOMEM, "out of memory");
        const char *key;
        json_t *val;
        json_object_foreach(j, key, val) {
            kvs[i].key = key;
            kvs[i].val = val;
            i++;
        }
        qsort(kvs, n, sizeof *kvs, kv_cmp);
        lg_w_map(w, (uint32_t)n);
        int rv = 0;
        for (i = 0; i < n && rv == 0; i++) {
            lg_w_cstr(w, kvs[i].key);
            int m = snprintf(path + plen, cap - plen, ".%s", kvs[i].key);
            size_t np = plen + (m > 0 && (size_t)m < cap - plen ? (size_t)m : 0);
            rv = write(w, kvs[i].val, path, np, cap, err, depth + 1);
            path[plen] = '\0';
        }
        free(kvs);
        return rv;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        lg_w_array(w, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            int m = snprintf(path + plen, cap - plen, "[%zu]", i);
            size_t np = plen + (m > 0 && (size_t)m < cap - plen ? (size_t)m : 0);
            int rv = write(w, json_array_get(j, i), path, np, cap, err,
                           depth + 1);
            path[plen] = '\0';
            if (rv != 0)
                return rv;
        }
        return 0;
    }
    case JSON_STRING: {
        const char *s = json_string_value(j);
        size_t len = json_string_length(j);
        if (len >= 4 && memcmp(s, "hex:", 4) == 0) {
            size_t n = (len - 4) / 2;
            uint8_t *b = malloc(n ? n : 1);
            if (b == NULL)
                return cb_errf(err, CB_ENOMEM, "out of memory");
            int rv = (len - 4) % 2 == 0 ? cy_unhex(b, n, s + 4) : CB_EVALUE;
            if (rv == 0)
                lg_w_bin(w, b, n);
            free(b);
            if (rv != 0)
                return cb_errf(err, CB_EJSON, "%s: bad hex after \"hex:\"",
                               path);
            return 0;
        }
        lg_w_str(w, s, len);
        return 0;
    }
    case JSON_INTEGER:
        if (json_integer_value(j) < 0)
            return cb_errf(err, CB_EJSON, "%s: negative integer", path);
        lg_w_uint(w, (uint64_t)json_integer_value(j));
        return 0;
    case JSON_TRUE:
        lg_w_bool(w, true);
        return 0;
    case JSON_FALSE:
        lg_w_bool(w, false);
        return 0;
    default:
        return cb_errf(err, CB_EJSON, "%s: null and reals are not allowed",
                       path);
    }
}

int lg_w_json(struct lg_w *w, const struct json_t *j, struct cb_err *err)
{
    char path[512] = "$";
    int rv = write(w, (json_t *)j, path, 1, sizeof path, err, 0);
    if (rv == 0 && lg_w_error(w) != 0)
        rv = cb_errf(err, lg_w_error(w), "out of memory");
    return rv;
}
