/* Pure request parsing of the HTTP API (apiparse.h). */
#include "apiparse.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <credbank/crypto.h>
#include <credbank/errors.h>

bool nd_query_param(const char *q, size_t len, const char *name, char *out,
                    size_t cap)
{
    const char *end = q + len;
    size_t nlen = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *e = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(e - q));
        const char *kend = eq ? eq : e;
        if ((size_t)(kend - q) == nlen && memcmp(q, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : e;
            size_t vlen = (size_t)(e - v);
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(out, v, vlen);
            out[vlen] = 0;
            return true;
        }
        q = e + 1;
    }
    return false;
}

bool nd_parse_u64(const char *s, uint64_t *out)
{
    if (*s == 0 || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool nd_parse_id(const char *s, size_t len, uint8_t id[32])
{
    char buf[65];
    if (len != 64)
        return false;
    memcpy(buf, s, 64);
    buf[64] = 0;
    return cy_unhex(id, 32, buf) == 0;
}

int nd_entry_from_json(const uint8_t *body, size_t len, uint8_t **out,
                       size_t *outlen, const char **msg)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)body, len, 0, &jerr);
    const char *hex = json_string_value(json_object_get(j, "entry"));
    size_t hlen = hex ? strlen(hex) : 0;
    *out = NULL;
    *outlen = 0;
    if (hex == NULL || hlen == 0 || hlen % 2 != 0 ||
        json_object_size(j) != 1) {
        json_decref(j);
        *msg = "want {\"entry\": \"<hex of the signed entry>\"}";
        return CB_EJSON;
    }
    uint8_t *decoded = malloc(hlen / 2);
    if (decoded == NULL) {
        json_decref(j);
        *msg = "out of memory";
        return CB_ENOMEM;
    }
    if (cy_unhex(decoded, hlen / 2, hex) != 0) {
        free(decoded);
        json_decref(j);
        *msg = "entry: not hex";
        return CB_EJSON;
    }
    json_decref(j);
    *out = decoded;
    *outlen = hlen / 2;
    return 0;
}
