/*
 * Entries and signed entries: building, decoding, signing, verifying.
 *
 * The bytes are the truth: an entry's id and its signatures cover the exact
 * canonical bytes, so decoding never normalises anything; it checks that the
 * bytes are already canonical (lg_decode) and that the envelope fits DESIGN
 * 3.1. Type-specific body rules live with the state machine.
 */
#include <credbank/entry.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const struct {
    const char *name;
    bool account;
} types[LG_T__COUNT] = {
    [LG_T_NONE] = {NULL, false},
#define LG__TROW(e, n, a) [LG_T_##e] = {n, a},
    LG_TYPES(LG__TROW)
#undef LG__TROW
};

const char *lg_type_name(enum lg_type t)
{
    if ((int)t <= LG_T_NONE || t >= LG_T__COUNT)
        return NULL;
    return types[t].name;
}

enum lg_type lg_type_parse(const char *s, size_t len)
{
    for (int t = LG_T_NONE + 1; t < LG_T__COUNT; t++)
        if (strlen(types[t].name) == len && memcmp(types[t].name, s, len) == 0)
            return (enum lg_type)t;
    return LG_T_NONE;
}

bool lg_type_has_account(enum lg_type t)
{
    return (int)t > LG_T_NONE && t < LG_T__COUNT && types[t].account;
}

bool lg_type_is_governance(enum lg_type t)
{
    switch (t) {
    case LG_T_GENESIS:
    case LG_T_MEMBER_ADD:
    case LG_T_MEMBER_UPDATE:
    case LG_T_MEMBER_REMOVE:
    case LG_T_KEY_ROTATE:
    case LG_T_POLICY_SET:
        return true;
    default:
        return false;
    }
}

int lg_entry_encode(struct lg_w *w, const struct lg_entry_spec *spec)
{
    const char *tname = lg_type_name(spec->type);
    if (tname == NULL || spec->author == NULL || spec->body == NULL)
        return CB_EINVAL;
    if ((spec->ledger == NULL) != (spec->type == LG_T_GENESIS))
        return CB_EINVAL;
    if ((spec->account != NULL) != lg_type_has_account(spec->type))
        return CB_EINVAL;
    if (spec->nrefs > LG_MAX_REFS)
        return CB_ETOOBIG;

    uint8_t nonce[16];
    if (spec->nonce != NULL)
        memcpy(nonce, spec->nonce, sizeof nonce);
    else
        cy_random(nonce, sizeof nonce);

    uint32_t nkeys = 7 + (spec->ledger != NULL) + (spec->account != NULL);
    lg_w_map(w, nkeys);
    if (spec->account != NULL) {
        lg_w_cstr(w, "account");
        lg_w_bin(w, spec->account, 32);
    }
    lg_w_cstr(w, "author");
    lg_w_bin(w, spec->author, 32);
    lg_w_cstr(w, "body");
    lg_w_raw(w, spec->body, spec->body_len);
    if (spec->ledger != NULL) {
        lg_w_cstr(w, "ledger");
        lg_w_bin(w, spec->ledger, 32);
    }
    lg_w_cstr(w, "nonce");
    lg_w_bin(w, nonce, sizeof nonce);
    lg_w_cstr(w, "refs");
    lg_w_array(w, (uint32_t)spec->nrefs);
    for (size_t i = 0; i < spec->nrefs; i++)
        lg_w_bin(w, spec->refs[i], 32);
    lg_w_cstr(w, "ts");
    lg_w_uint(w, spec->ts);
    lg_w_cstr(w, "type");
    lg_w_cstr(w, tname);
    lg_w_cstr(w, "v");
    lg_w_uint(w, 1);
    return lg_w_error(w);
}

void lg_signed_init(struct lg_signed *s)
{
    memset(s, 0, sizeof *s);
    lg_doc_init(&s->outer);
    lg_doc_init(&s->inner);
    /* What a signed entry's trees take (the demo's: outer 134 B on
     * average, at most 192, plus the signature list; the entry map 680 B,
     * at most 864): a batch or a bundle keeps a decoder per entry, and 4
     * KiB chunks made that 8 KiB each. A larger tree takes another chunk. */
    s->outer.chunk = 512;
    s->inner.chunk = 1024;
}

void lg_signed_release(struct lg_signed *s)
{
    lg_doc_release(&s->outer);
    lg_doc_release(&s->inner);
}

/* Decodes the entry map at bytes[len] into e (using doc). */
static int entry_decode(struct lg_entry *e, struct lg_doc *doc,
                        const uint8_t *bytes, size_t len, struct cb_err *err)
{
    int rv = lg_decode(doc, bytes, len, NULL, err);
    if (rv != 0)
        return cb_errwrap(err, "entry");

    const msgpack_object *account, *author, *body, *ledger, *nonce, *refs,
        *ts, *type, *v;
    const struct lg_field fields[] = {
        {"account", LG_BIN, 32, true, &account},
        {"author", LG_BIN, 32, false, &author},
        {"body", LG_MAP, 0, false, &body},
        {"ledger", LG_BIN, 32, true, &ledger},
        {"nonce", LG_BIN, 16, false, &nonce},
        {"refs", LG_ARRAY, 0, false, &refs},
        {"ts", LG_UINT, 0, false, &ts},
        {"type", LG_STR, 0, false, &type},
        {"v", LG_UINT, 0, false, &v},
    };
    rv = lg_fields(&doc->root, fields, sizeof fields / sizeof fields[0],
                   "entry", err);
    if (rv != 0)
        return rv;
    if (v->via.u64 != 1)
        return cb_errf(err, CB_EVERSION, "entry.v: version %llu unsupported",
                       (unsigned long long)v->via.u64);
    e->type = lg_type_parse(type->via.str.ptr, type->via.str.size);
    if (e->type == LG_T_NONE)
        return cb_errf(err, CB_EBADTYPE, "entry.type: unknown type \"%.*s\"",
                       (int)(type->via.str.size > 64 ? 64 : type->via.str.size),
                       type->via.str.ptr);
    if ((ledger == NULL) != (e->type == LG_T_GENESIS))
        return cb_errf(err, ledger ? CB_EUNKNOWNKEY : CB_EMISSINGKEY,
                       ledger ? "entry: genesis has no \"ledger\""
                              : "entry: missing key \"ledger\"");
    if ((account != NULL) != lg_type_has_account(e->type))
        return cb_errf(err, account ? CB_EUNKNOWNKEY : CB_EMISSINGKEY,
                       "entry: %s %s \"account\"", lg_type_name(e->type),
                       account ? "takes no" : "needs");
    if (refs->via.array.size > LG_MAX_REFS)
        return cb_errf(err, CB_ETOOBIG, "entry.refs: more than %d refs",
                       LG_MAX_REFS);
    for (uint32_t i = 0; i < refs->via.array.size; i++) {
        const msgpack_object *r = &refs->via.array.ptr[i];
        if (r->type != MSGPACK_OBJECT_BIN || r->via.bin.size != 32)
            return cb_errf(err, CB_ETYPE, "entry.refs[%u]: expected bin 32",
                           i);
    }

    e->bytes = bytes;
    e->len = len;
    cy_sha256(e->id, bytes, len);
    e->ledger = ledger ? (const uint8_t *)ledger->via.bin.ptr : NULL;
    e->author = (const uint8_t *)author->via.bin.ptr;
    e->ts = ts->via.u64;
    e->nonce = (const uint8_t *)nonce->via.bin.ptr;
    e->account = account ? (const uint8_t *)account->via.bin.ptr : NULL;
    e->nrefs = refs->via.array.size;
    e->refs = refs->via.array.ptr;
    e->body = body;
    return 0;
}

int lg_signed_decode(struct lg_signed *s, const uint8_t *buf, size_t len,
                     struct cb_err *err)
{
    s->bytes = NULL;
    s->len = 0;
    s->nsigs = 0;
    if (len > LG_SIGNED_MAX)
        return cb_errf(err, CB_ETOOBIG, "signed entry: %zu bytes, limit %d",
                       len, LG_SIGNED_MAX);
    int rv = lg_decode(&s->outer, buf, len, NULL, err);
    if (rv != 0)
        return cb_errwrap(err, "signed entry");

    const msgpack_object *root = &s->outer.root;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != 2)
        return cb_errf(err, CB_ETYPE,
                       "signed entry: expected [entry, sigs] array");
    const msgpack_object *ebin = &root->via.array.ptr[0];
    const msgpack_object *sigs = &root->via.array.ptr[1];
    if (ebin->type != MSGPACK_OBJECT_BIN)
        return cb_errf(err, CB_ETYPE, "signed entry[0]: expected bin");
    if (sigs->type != MSGPACK_OBJECT_ARRAY)
        return cb_errf(err, CB_ETYPE, "signed entry[1]: expected array");
    if (sigs->via.array.size == 0)
        return cb_errf(err, CB_EMISSINGSIG, "signed entry: no signatures");
    if (sigs->via.array.size > LG_MAX_SIGS)
        return cb_errf(err, CB_ETOOBIG, "signed entry: more than %d sigs",
                       LG_MAX_SIGS);

    s->sigs = msgpack_zone_malloc(&s->outer.zone,
                                  sigs->via.array.size * sizeof *s->sigs);
    if (s->sigs == NULL)
        return cb_errf(err, CB_ENOMEM, "signed entry: out of memory");
    for (uint32_t i = 0; i < sigs->via.array.size; i++) {
        const msgpack_object *p = &sigs->via.array.ptr[i];
        if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2 ||
            p->via.array.ptr[0].type != MSGPACK_OBJECT_BIN ||
            p->via.array.ptr[0].via.bin.size != 32 ||
            p->via.array.ptr[1].type != MSGPACK_OBJECT_BIN ||
            p->via.array.ptr[1].via.bin.size != 64)
            return cb_errf(err, CB_ETYPE,
                           "sigs[%u]: expected [bin 32, bin 64]", i);
        s->sigs[i].pk = (const uint8_t *)p->via.array.ptr[0].via.bin.ptr;
        s->sigs[i].sig = (const uint8_t *)p->via.array.ptr[1].via.bin.ptr;
    }
    s->nsigs = sigs->via.array.size;

    rv = entry_decode(&s->e, &s->inner, (const uint8_t *)ebin->via.bin.ptr,
                      ebin->via.bin.size, err);
    if (rv != 0) {
        s->nsigs = 0;
        return rv;
    }

    /* Author first, then the rest strictly increasing by key. */
    if (memcmp(s->sigs[0].pk, s->e.author, 32) != 0) {
        s->nsigs = 0;
        return cb_errf(err, CB_EMISSINGSIG,
                       "sigs[0]: the first signature must be the author's");
    }
    for (size_t i = 1; i < s->nsigs; i++) {
        if (memcmp(s->sigs[i].pk, s->e.author, 32) == 0 ||
            (i > 1 && memcmp(s->sigs[i - 1].pk, s->sigs[i].pk, 32) >= 0)) {
            size_t n = i;
            s->nsigs = 0;
            return cb_errf(err, CB_ESIGORDER,
                           "sigs[%zu]: keys must follow the author sorted, "
                           "each once", n);
        }
    }
    s->bytes = buf;
    s->len = len;
    return 0;
}

/* The signature message LG_SIG_CONTEXT || entry, in buf if it fits. */
static uint8_t *sig_message(uint8_t *buf, size_t cap, const uint8_t *entry,
                            size_t len, size_t *mlen)
{
    uint8_t *m = buf;
    *mlen = LG_SIG_CONTEXT_LEN + len;
    if (*mlen > cap && (m = malloc(*mlen)) == NULL)
        return NULL;
    memcpy(m, LG_SIG_CONTEXT, LG_SIG_CONTEXT_LEN);
    memcpy(m + LG_SIG_CONTEXT_LEN, entry, len);
    return m;
}

int lg_signed_verify(const struct lg_signed *s, struct cb_err *err)
{
    uint8_t stack[4096];
    size_t mlen;
    if (s->nsigs == 0)
        return cb_errf(err, CB_EMISSINGSIG, "signed entry: no signatures");
    uint8_t *m = sig_message(stack, sizeof stack, s->e.bytes, s->e.len, &mlen);
    if (m == NULL)
        return cb_errf(err, CB_ENOMEM, "verify: out of memory");
    int rv = 0;
    for (size_t i = 0; i < s->nsigs; i++) {
        if (cy_verify(s->sigs[i].sig, m, mlen, s->sigs[i].pk) != 0) {
            char hex[65];
            cy_hex(hex, s->sigs[i].pk, 32);
            rv = cb_errf(err, CB_EBADSIG,
                         "sigs[%zu]: signature by %.16s… does not verify", i,
                         hex);
            break;
        }
    }
    if (m != stack)
        free(m);
    return rv;
}

bool lg_signed_has_signer(const struct lg_signed *s, const uint8_t pk[32])
{
    for (size_t i = 0; i < s->nsigs; i++)
        if (memcmp(s->sigs[i].pk, pk, 32) == 0)
            return true;
    return false;
}

int lg_entry_sign(uint8_t sig[64], const uint8_t *entry, size_t len,
                  const struct cy_key *k)
{
    uint8_t stack[4096];
    size_t mlen;
    uint8_t *m = sig_message(stack, sizeof stack, entry, len, &mlen);
    if (m == NULL)
        return CB_ENOMEM;
    cy_sign(sig, m, mlen, k);
    if (m != stack)
        free(m);
    return 0;
}

static int sig_cmp(const void *a, const void *b)
{
    const struct lg_sig *x = a, *y = b;
    return memcmp(x->pk, y->pk, 32);
}

int lg_signed_encode(struct lg_w *w, const uint8_t *entry, size_t len,
                     const uint8_t author[32], const struct lg_sig *sigs,
                     size_t nsigs)
{
    if (nsigs == 0 || nsigs > LG_MAX_SIGS)
        return nsigs == 0 ? CB_EMISSINGSIG : CB_ETOOBIG;
    struct lg_sig sorted[LG_MAX_SIGS];
    size_t n = 0, author_at = nsigs;
    for (size_t i = 0; i < nsigs; i++) {
        if (memcmp(sigs[i].pk, author, 32) == 0) {
            if (author_at != nsigs)
                return CB_ESIGORDER;
            author_at = i;
        } else {
            sorted[n++] = sigs[i];
        }
    }
    if (author_at == nsigs)
        return CB_EMISSINGSIG;
    qsort(sorted, n, sizeof sorted[0], sig_cmp);
    for (size_t i = 1; i < n; i++)
        if (memcmp(sorted[i - 1].pk, sorted[i].pk, 32) == 0)
            return CB_ESIGORDER;

    lg_w_array(w, 2);
    lg_w_bin(w, entry, len);
    lg_w_array(w, (uint32_t)nsigs);
    const struct lg_sig *first = &sigs[author_at];
    for (size_t i = 0; i <= n; i++) {
        const struct lg_sig *p = i == 0 ? first : &sorted[i - 1];
        lg_w_array(w, 2);
        lg_w_bin(w, p->pk, 32);
        lg_w_bin(w, p->sig, 64);
    }
    return lg_w_error(w);
}

int lg_signed_cosign(struct lg_w *w, const uint8_t *signed_bytes, size_t len,
                     const struct cy_key *k, struct cb_err *err)
{
    struct lg_signed s;
    lg_signed_init(&s);
    int rv = lg_signed_decode(&s, signed_bytes, len, err);
    if (rv != 0)
        goto out;
    if (lg_signed_has_signer(&s, k->pk)) {
        rv = cb_errf(err, CB_EEXISTS, "cosign: key %s has signed already",
                     k->name);
        goto out;
    }
    struct lg_sig sigs[LG_MAX_SIGS];
    if (s.nsigs >= LG_MAX_SIGS) {
        rv = cb_errf(err, CB_ETOOBIG, "cosign: too many signatures");
        goto out;
    }
    memcpy(sigs, s.sigs, s.nsigs * sizeof sigs[0]);
    uint8_t sig[64];
    rv = lg_entry_sign(sig, s.e.bytes, s.e.len, k);
    if (rv != 0)
        goto out;
    sigs[s.nsigs].pk = k->pk;
    sigs[s.nsigs].sig = sig;
    rv = lg_signed_encode(w, s.e.bytes, s.e.len, s.e.author, sigs,
                          s.nsigs + 1);
    if (rv != 0)
        cb_errf(err, rv, "cosign: %s", cb_strerror(rv));
out:
    lg_signed_release(&s);
    return rv;
}

struct json_t *lg_signed_json(const struct lg_signed *s)
{
    char hex[129];
    json_t *o = json_object(), *sigs = json_array();
    if (o == NULL || sigs == NULL)
        goto fail;
    cy_hex(hex, s->e.id, 32);
    json_object_set_new(o, "id", json_string(hex));
    json_object_set_new(o, "type", json_string(lg_type_name(s->e.type)));
    json_t *entry = lg_json(&s->inner.root);
    if (entry == NULL)
        goto fail;
    json_object_set_new(o, "entry", entry);
    for (size_t i = 0; i < s->nsigs; i++) {
        json_t *p = json_object();
        if (p == NULL)
            goto fail;
        cy_hex(hex, s->sigs[i].pk, 32);
        json_object_set_new(p, "key", json_string(hex));
        cy_hex(hex, s->sigs[i].sig, 64);
        json_object_set_new(p, "sig", json_string(hex));
        json_array_append_new(sigs, p);
    }
    json_object_set_new(o, "sigs", sigs);
    return o;
fail:
    json_decref(sigs);
    json_decref(o);
    return NULL;
}
