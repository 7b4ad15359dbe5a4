/*
 * libFuzzer target for what the HTTP API does with request bytes before
 * any ledger state is involved (node/apiparse.c, used by node/api.c): the
 * body of POST /v1/entries in both media types -- application/json
 * {"entry": HEX} is unwrapped by nd_entry_from_json, application/msgpack is
 * the signed entry itself -- then the signed-entry decode and signature
 * check every submitted entry goes through first (lg_check's), and the
 * query strings and path ids of the reads.
 *
 * Input: one selector byte, then the bytes. Selector % 3: 0 a JSON body,
 * 1 a msgpack body, 2 a query string (the part after '?') followed, after
 * its first NUL if any, by a path id. The seeds (tests/fuzz/corpus/api/,
 * made by make_corpus.sh) are demo entries in both body forms and the
 * query strings of spec/api.md.
 *
 * Invariants beyond "no crash, no leak, no UB":
 * - a JSON body is accepted exactly when it is an object with the one
 *   member "entry", a non-empty even-length hex string, and then gives the
 *   bytes that string spells (re-encoded: the same hex, lower case); a
 *   refusal is CB_EJSON with a message;
 * - body bytes that decode as a signed entry re-encode to themselves;
 * - a query parameter found is the text after "NAME=" at the start of a
 *   parameter, cut to the buffer; nd_parse_u64 accepts exactly what
 *   strtoull reads whole as a number below 2^64 with digits only, and
 *   nd_parse_id exactly 64 hex digits, giving the bytes they spell.
 *
 * Run: fuzz_api -max_total_time=60 tests/fuzz/corpus/api
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <credbank/entry.h>

#include "../../node/apiparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lg_signed sig;

static void signed_bytes(const uint8_t *p, size_t len)
{
    struct cb_err err = {0, ""};
    if (lg_signed_decode(&sig, p, len, &err) != 0) {
        if (err.code == 0)
            abort();
        return;
    }
    (void)lg_signed_verify(&sig, &err);
    struct lg_w w;
    lg_w_init(&w);
    if (lg_signed_encode(&w, sig.e.bytes, sig.e.len, sig.e.author, sig.sigs,
                         sig.nsigs) != 0 ||
        lg_w_len(&w) != len || memcmp(lg_w_data(&w), p, len) != 0)
        abort();
    lg_w_release(&w);
}

static void json_body(const uint8_t *p, size_t len)
{
    uint8_t *out = NULL;
    size_t olen = 0;
    const char *msg = NULL;
    int rv = nd_entry_from_json(p, len, &out, &olen, &msg);
    /* the oracle: jansson's own reading of the rule */
    json_error_t jerr;
    json_t *j = json_loadb((const char *)p, len, 0, &jerr);
    const char *hex = json_string_value(json_object_get(j, "entry"));
    size_t hlen = hex ? strlen(hex) : 0;
    bool ok = hex != NULL && json_object_size(j) == 1 && hlen > 0 &&
              hlen % 2 == 0;
    for (size_t i = 0; ok && i < hlen; i++)
        ok = isxdigit((unsigned char)hex[i]) != 0;
    if (rv == CB_ENOMEM) {
        json_decref(j);
        return;
    }
    if ((rv == 0) != ok)
        abort();
    if (rv != 0) {
        if (rv != CB_EJSON || msg == NULL || msg[0] == 0 || out != NULL)
            abort();
        json_decref(j);
        return;
    }
    if (olen != hlen / 2 || out == NULL)
        abort();
    char *back = malloc(hlen + 1);
    if (back == NULL)
        abort();
    cy_hex(back, out, olen);
    for (size_t i = 0; i < hlen; i++)
        if (back[i] != tolower((unsigned char)hex[i]))
            abort();
    free(back);
    json_decref(j);
    signed_bytes(out, olen);
    free(out);
}

static void u64_check(const char *s)
{
    uint64_t v = 0;
    bool got = nd_parse_u64(s, &v);
    bool digits = s[0] != 0;
    for (const char *c = s; *c; c++)
        digits = digits && *c >= '0' && *c <= '9';
    bool want = false;
    unsigned long long w = 0;
    if (digits && strlen(s) <= 20) {
        errno = 0;
        char *end;
        w = strtoull(s, &end, 10);
        want = errno == 0 && *end == 0;
    }
    if (got != want || (got && v != w))
        abort();
}

static void query(const char *q, size_t qlen, const char *id, size_t idlen)
{
    static const char *const names[] = {"wait", "from", "limit", "index",
                                        "size", "to", ""};
    static const size_t caps[] = {1, 2, 16, 32, 4096};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
            char out[4096];
            memset(out, 0x7f, sizeof out);
            if (!nd_query_param(q, qlen, names[i], out, caps[c]))
                continue;
            size_t olen = strnlen(out, caps[c]);
            if (olen >= caps[c])
                abort(); /* NUL-terminated inside the buffer */
            /* out is a prefix of the value of a parameter named names[i] */
            size_t nlen = strlen(names[i]);
            bool found = false;
            for (size_t at = 0; at <= qlen && !found;) {
                const char *amp = memchr(q + at, '&', qlen - at);
                size_t e = amp ? (size_t)(amp - q) : qlen;
                if (e - at >= nlen && memcmp(q + at, names[i], nlen) == 0) {
                    size_t v = at + nlen;
                    if (v == e && olen == 0)
                        found = true;
                    else if (v < e && q[v] == '=' && e - v - 1 >= olen &&
                             memcmp(q + v + 1, out, olen) == 0 &&
                             (olen == e - v - 1 || olen == caps[c] - 1))
                        found = true;
                }
                at = e + 1;
            }
            if (!found)
                abort();
            if (caps[c] == 32 && memchr(out, 0, olen) == NULL)
                u64_check(out);
        }
    }
    uint8_t bin[32];
    bool ok = nd_parse_id(id, idlen, bin);
    bool want = idlen == 64;
    for (size_t i = 0; want && i < 64; i++)
        want = isxdigit((unsigned char)id[i]) != 0;
    if (ok != want)
        abort();
    if (ok) {
        char back[65];
        cy_hex(back, bin, 32);
        for (size_t i = 0; i < 64; i++)
            if (back[i] != tolower((unsigned char)id[i]))
                abort();
    }
    char buf[64];
    size_t n = idlen < sizeof buf - 1 ? idlen : sizeof buf - 1;
    memcpy(buf, id, n);
    buf[n] = 0;
    u64_check(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        if (cy_init() != 0)
            abort();
        lg_signed_init(&sig);
        init = true;
    }
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    switch (data[0] % 3) {
    case 0:
        json_body(p, len);
        break;
    case 1:
        signed_bytes(p, len);
        break;
    default: {
        const uint8_t *nul = memchr(p, 0, len);
        size_t qlen = nul ? (size_t)(nul - p) : len;
        const char *id = nul ? (const char *)nul + 1 : "";
        size_t idlen = nul ? len - qlen - 1 : 0;
        query((const char *)p, qlen, id, idlen);
        break;
    }
    }
    return 0;
}
