/*
 * Request authentication and authorisation of the HTTP API
 * (spec/security.md, "Request signatures" and "Authorisation").
 *
 * A read of account or log data carries one HTTP message signature (RFC
 * 9421, the profile of credbank/httpsig.h) by an Ed25519 key the ledger
 * knows: an issuer key or node key of a member in force, or the learner key
 * in force of an account. The checks run cheapest first, and nothing is
 * remembered before the signature verifies, so an unauthenticated client
 * can neither fill the replay cache nor learn more than "refused":
 *
 *   1. both fields present once, parse in the profile; the components
 *      include "@method" "@authority" "@path" "@query"; alg "ed25519";
 *      keyid 64 hex; a nonce of 16-64 characters [A-Za-z0-9_-];
 *   2. the window: created <= now + 60 s, now - 60 s <= expires, expires -
 *      created in 1..300 s, and created not before this process started
 *      (the replay cache lives in memory: a signature made before a
 *      restart is never accepted after it);
 *   3. @authority names this node's API address (a request signed for one
 *      node is not replayed on another);
 *   4. the key: lg_key_info, in force;
 *   5. the signature over the base rebuilt from the request as received;
 *   6. the nonce: (key, nonce) not seen before; it is then remembered until
 *      expires + 60 s.
 *
 * The replay cache is an open-addressing table of ND_NONCE_SLOTS slots
 * (a 16-byte digest of key and nonce, and the second it may be forgotten),
 * probed over at most ND_NONCE_PROBE slots; a slot past its second is free.
 * When a probe run holds no free slot the request is refused with 503
 * unavailable rather than forgetting a live nonce: only holders of keys in
 * force can fill it, at ND_NONCE_SLOTS / 360 s (about 700 reads a second)
 * sustained.
 */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <credbank/httpsig.h>

#define ND_NONCE_SLOTS (1u << 18)
#define ND_NONCE_PROBE 128
#define ND_SKEW_S 60
#define ND_WINDOW_S 300

struct nonce_slot {
    uint8_t d[16];
    uint64_t until;                     /* Unix s; 0: never used */
};

static struct nonce_slot *nonces;
static uint64_t started_s;

int nd_auth_init(void)
{
    nonces = calloc(ND_NONCE_SLOTS, sizeof *nonces);
    if (nonces == NULL)
        return CB_ENOMEM;
    started_s = nd_now_ms() / 1000;
    return 0;
}

void nd_auth_close(void)
{
    free(nonces);
    nonces = NULL;
}

/* 0 when (pk, nonce) is new (and now remembered), CB_EREPLAYED when seen,
 * CB_EUNAVAILABLE when the probe run is full. */
static int nonce_use(const uint8_t pk[32], const char *nonce, uint64_t until,
                     uint64_t now)
{
    struct cy_sha256 h;
    uint8_t d[32];
    cy_sha256_init(&h);
    cy_sha256_update(&h, pk, 32);
    cy_sha256_update(&h, nonce, strlen(nonce));
    cy_sha256_final(&h, d);
    uint32_t start = ((uint32_t)d[16] | (uint32_t)d[17] << 8 |
                      (uint32_t)d[18] << 16) & (ND_NONCE_SLOTS - 1);
    struct nonce_slot *free_slot = NULL;
    for (uint32_t i = 0; i < ND_NONCE_PROBE; i++) {
        struct nonce_slot *s = &nonces[(start + i) & (ND_NONCE_SLOTS - 1)];
        bool live = s->until >= now && s->until != 0;
        if (live && memcmp(s->d, d, 16) == 0)
            return CB_EREPLAYED;
        if (!live && free_slot == NULL)
            free_slot = s;
    }
    if (free_slot == NULL)
        return CB_EUNAVAILABLE;
    memcpy(free_slot->d, d, 16);
    free_slot->until = until;
    return 0;
}

static bool nonce_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 16 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Whether authority (the Host the client signed) names this node's API:
 * the configured IPv4:PORT, or localhost:PORT, or any host with the port
 * when the API listens on 0.0.0.0. */
static bool authority_ok(const char *authority)
{
    const char *c = strrchr(nd.cfg.api, ':');
    const char *ac = strrchr(authority, ':');
    if (c == NULL || ac == NULL || strcmp(c, ac) != 0)
        return false;
    size_t hl = (size_t)(ac - authority), cl = (size_t)(c - nd.cfg.api);
    if (hl == cl && strncmp(authority, nd.cfg.api, cl) == 0)
        return true;
    if (hl == 9 && strncasecmp(authority, "localhost", 9) == 0)
        return true;
    return cl == 7 && strncmp(nd.cfg.api, "0.0.0.0", 7) == 0;
}

static int fail(char *msg, size_t cap, int code, const char *fmt,
                const char *arg)
{
    snprintf(msg, cap, fmt, arg);
    return code;
}

/* The one value of header name (lower case); NULL when absent, and *twice
 * set when it occurs more than once. */
static const h2o_iovec_t *one_header(h2o_req_t *req, const char *name,
                                     bool *twice)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name),
                                       -1);
    if (i < 0)
        return NULL;
    if (h2o_find_header_by_str(&req->headers, name, strlen(name), i) >= 0)
        *twice = true;
    return &req->headers.entries[i].value;
}

/* A copy of v into the request's pool, NUL-terminated. */
static char *pool_str(h2o_req_t *req, const char *p, size_t n)
{
    char *s = h2o_mem_alloc_pool(&req->pool, n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

int nd_auth_check(h2o_req_t *req, struct nd_ident *id, char *msg,
                  size_t cap)
{
    memset(id, 0, sizeof *id);
    bool twice = false;
    const h2o_iovec_t *in = one_header(req, "signature-input", &twice);
    const h2o_iovec_t *sg = one_header(req, "signature", &twice);
    if (in == NULL && sg == NULL)
        return fail(msg, cap, CB_EUNAUTH, "%sthis endpoint needs a request "
                    "signature (Signature-Input, Signature; spec/security.md)",
                    "");
    if (in == NULL || sg == NULL || twice)
        return fail(msg, cap, CB_EUNAUTH, "%swant exactly one Signature-Input "
                    "and one Signature field", "");
    struct cy_httpsig s;
    struct cb_err err = {0, ""};
    if (cy_httpsig_parse(in->base, in->len, sg->base, sg->len, &s, &err))
        return fail(msg, cap, CB_EUNAUTH, "%s", cb_errmsg(&err));
    /* 1. the profile */
    static const char *need[] = {"@method", "@authority", "@path", "@query"};
    for (size_t i = 0; i < 4; i++) {
        bool found = false;
        for (size_t j = 0; j < s.ncomps; j++)
            found |= strcmp(s.comps[j], need[i]) == 0;
        if (!found)
            return fail(msg, cap, CB_EUNAUTH, "the signature must cover "
                        "\"%s\"", need[i]);
    }
    if (strcmp(s.alg, "ed25519") != 0)
        return fail(msg, cap, CB_EUNAUTH, "alg \"%s\": want \"ed25519\"",
                    s.alg);
    if (strlen(s.keyid) != 64 || cy_unhex(id->pk, 32, s.keyid) != 0)
        return fail(msg, cap, CB_EUNAUTH, "keyid \"%.80s\": want the 64 hex "
                    "of an Ed25519 public key", s.keyid);
    id->has_pk = true;
    if (!nonce_ok(s.nonce))
        return fail(msg, cap, CB_EUNAUTH, "nonce \"%.80s\": want 16-64 "
                    "characters of A-Z a-z 0-9 - _", s.nonce);
    /* 2. the window */
    uint64_t now = nd_now_ms() / 1000;
    if (!s.has_created || !s.has_expires || s.expires <= s.created ||
        s.expires - s.created > ND_WINDOW_S)
        return fail(msg, cap, CB_ESIGEXPIRED, "%swant created and expires, "
                    "expires - created in 1..300 s", "");
    if (s.created > now + ND_SKEW_S)
        return fail(msg, cap, CB_ESIGEXPIRED, "%screated is ahead of this "
                    "node's clock by more than 60 s", "");
    if (s.expires + ND_SKEW_S < now)
        return fail(msg, cap, CB_ESIGEXPIRED, "%sthe signature expired", "");
    if (s.created < started_s)
        return fail(msg, cap, CB_ESIGEXPIRED, "%sthe signature was made "
                    "before this node started; sign again", "");
    /* 3. the authority and the rest of the message */
    char *authority = pool_str(req, req->input.authority.base,
                               req->input.authority.len);
    if (!authority_ok(authority))
        return fail(msg, cap, CB_EUNAUTH, "@authority \"%.100s\" is not this "
                    "node's API address", authority);
    const h2o_iovec_t *p = &req->input.path;
    size_t qat = req->input.query_at;
    char *path = pool_str(req, p->base, qat == SIZE_MAX ? p->len : qat);
    char *query = qat == SIZE_MAX ? pool_str(req, "", 0)
                                  : pool_str(req, p->base + qat + 1,
                                             p->len - qat - 1);
    char *method = pool_str(req, req->input.method.base,
                            req->input.method.len);
    /* covered header fields, looked up by their lower-case names */
    const char *hn[CY_HS_MAX_COMPS], *hv[CY_HS_MAX_COMPS];
    size_t nh = 0;
    for (size_t j = 0; j < s.ncomps; j++) {
        if (s.comps[j][0] == '@')
            continue;
        bool t2 = false;
        const h2o_iovec_t *v = one_header(req, s.comps[j], &t2);
        if (v == NULL || t2)
            return fail(msg, cap, CB_EUNAUTH, "covered field \"%s\" absent "
                        "or repeated", s.comps[j]);
        /* trim optional whitespace */
        size_t b = 0, e = v->len;
        while (b < e && (v->base[b] == ' ' || v->base[b] == '\t'))
            b++;
        while (e > b && (v->base[e - 1] == ' ' || v->base[e - 1] == '\t'))
            e--;
        hn[nh] = s.comps[j];
        hv[nh++] = pool_str(req, v->base + b, e - b);
    }
    struct cy_httpsig_msg m = {method, authority, "http", path, query,
                               hn, hv, nh};
    /* 4. the key */
    struct lg_key_info ki;
    int rv = lg_key_info(nd.l, id->pk, &ki);
    if (rv == CB_ENOTFOUND || (rv == 0 && !ki.in_force))
        return fail(msg, cap, CB_EUNAUTH, "keyid %.16s…: not a key in force "
                    "in this ledger", s.keyid);
    if (rv != 0)
        return fail(msg, cap, rv, "%scannot read the ledger's keys", "");
    /* 5. the signature */
    if (cy_httpsig_verify(&s, &m, id->pk, &err) != 0)
        return fail(msg, cap, CB_EUNAUTH, "%s", cb_errmsg(&err));
    /* 6. the nonce */
    rv = nonce_use(id->pk, s.nonce, s.expires + ND_SKEW_S, now);
    if (rv == CB_EREPLAYED)
        return fail(msg, cap, rv, "nonce \"%.80s\" was used before with this "
                    "key", s.nonce);
    if (rv != 0)
        return fail(msg, cap, rv, "%sthe replay cache is full; retry "
                    "shortly", "");
    id->kind = ki.kind;
    memcpy(id->member, ki.member, sizeof id->member);
    memcpy(id->account, ki.account, 32);
    return 0;
}

int nd_auth_allow(const struct nd_ident *id, enum nd_need need,
                  const uint8_t *account, char *msg, size_t cap)
{
    switch (need) {
    case ND_NEED_ANY:
        return 0;
    case ND_NEED_LOG:
        if (id->kind == LG_KEY_ISSUER || id->kind == LG_KEY_NODE)
            return 0;
        return fail(msg, cap, CB_EFORBIDDEN, "%sthe log is read with an "
                    "issuer or node key of a member", "");
    case ND_NEED_ENTRY:
        if (id->kind == LG_KEY_ISSUER || id->kind == LG_KEY_NODE)
            return 0;
        if (id->kind == LG_KEY_LEARNER && account != NULL &&
            memcmp(id->account, account, 32) == 0)
            return 0;
        return fail(msg, cap, CB_EFORBIDDEN, "%sa learner key reads only the "
                    "entries of its own account", "");
    case ND_NEED_ISSUER:
        if (id->kind == LG_KEY_ISSUER)
            return 0;
        return fail(msg, cap, CB_EFORBIDDEN, "%sthis needs an issuer key of "
                    "a member", "");
    case ND_NEED_ACCOUNT:
        if (id->kind == LG_KEY_ISSUER)
            return 0;
        if (id->kind == LG_KEY_LEARNER && account != NULL &&
            memcmp(id->account, account, 32) == 0)
            return 0;
        return fail(msg, cap, CB_EFORBIDDEN, "%sa learner key reads only its "
                    "own account; other accounts need an issuer key", "");
    }
    return CB_EINTERNAL;
}

const char *nd_ident_name(const struct nd_ident *id)
{
    switch (id->kind) {
    case LG_KEY_ISSUER:
        return "issuer";
    case LG_KEY_NODE:
        return "node";
    case LG_KEY_LEARNER:
        return "learner";
    default:
        return "anonymous";
    }
}

int nd_auth_sign_get(const char *authority, const char *path_query,
                     char *out, size_t cap)
{
    const char *q = strchr(path_query, '?');
    char path[512];
    size_t pl = q ? (size_t)(q - path_query) : strlen(path_query);
    if (pl >= sizeof path)
        return CB_ETOOBIG;
    memcpy(path, path_query, pl);
    path[pl] = 0;
    struct cy_httpsig s;
    memset(&s, 0, sizeof s);
    snprintf(s.label, sizeof s.label, "cb");
    static const char *comps[] = {"@method", "@authority", "@path", "@query"};
    for (size_t i = 0; i < 4; i++)
        snprintf(s.comps[i], sizeof s.comps[i], "%s", comps[i]);
    s.ncomps = 4;
    s.has_created = s.has_expires = true;
    s.created = nd_now_ms() / 1000;
    s.expires = s.created + 60;
    uint8_t rnd[16];
    cy_random(rnd, sizeof rnd);
    cy_hex(s.nonce, rnd, sizeof rnd);
    cy_hex(s.keyid, nd.key.pk, 32);
    snprintf(s.alg, sizeof s.alg, "ed25519");
    struct cy_httpsig_msg m = {"GET", authority, "http", path,
                               q ? q + 1 : "", NULL, NULL, 0};
    char input[CY_HS_INPUT_MAX], sig[CY_HS_SIG_MAX];
    int rv = cy_httpsig_sign(&s, &m, &nd.key, input, sig, NULL);
    if (rv != 0)
        return rv;
    int n = snprintf(out, cap, "Signature-Input: %s\r\nSignature: %s\r\n",
                     input, sig);
    return n < 0 || (size_t)n >= cap ? CB_ETOOBIG : 0;
}
