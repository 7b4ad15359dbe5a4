/*
 * HTTP Message Signatures, credbank's profile of RFC 9421 (httpsig.h).
 *
 * Why a strict subset: the signature covers the serialised parameters, and
 * a verifier that re-serialised a liberal parse (whitespace, escapes,
 * parameter order, component parameters) would have to match the signer's
 * serialiser exactly. Accepting only the canonical form that our own
 * serialiser writes (cy_httpsig_params) makes the received text the
 * serialisation, and leaves nothing to interpret. RFC 9421's own Ed25519
 * example (Appendix B.2.6) falls inside the profile; tests/unit/
 * test_httpsig.c reproduces it byte for byte.
 */
#include <credbank/httpsig.h>

#include <stdio.h>
#include <string.h>

static bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* sf-key: ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ) */
static size_t key_len(const char *p, const char *end)
{
    if (p >= end || !(is_lcalpha(*p) || *p == '*'))
        return 0;
    size_t n = 1;
    while (p + n < end && (is_lcalpha(p[n]) || is_digit(p[n]) ||
                           strchr("_-.*", p[n]) != NULL) && p[n] != 0)
        n++;
    return n;
}

/* A string parameter value or component: printable ASCII, no '"' or '\'. */
static bool str_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/* A component name: "@" or a letter first, then lower-case field-name
 * characters (no upper case: HTTP field names are compared lower-cased). */
static bool comp_ok(const char *s, size_t n)
{
    if (n == 0 || n > CY_HS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(is_lcalpha(c) || is_digit(c) || c == '-' || c == '_' ||
              c == '.' || (c == '@' && i == 0)))
            return false;
    }
    return true;
}

struct out {
    char *p;
    size_t cap, len;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || o->len + n >= o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

int cy_httpsig_params(struct cy_httpsig *s, struct cb_err *err)
{
    struct out o = {s->params, sizeof s->params, 0, false};
    s->params[0] = 0;
    puts_(&o, "(");
    for (size_t i = 0; i < s->ncomps; i++) {
        if (!comp_ok(s->comps[i], strlen(s->comps[i])))
            return cb_errf(err, CB_EVALUE, "component \"%s\": not a "
                           "lower-case name", s->comps[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->comps[i], s->comps[j]) == 0)
                return cb_errf(err, CB_EVALUE, "component \"%s\" twice",
                               s->comps[i]);
        if (i > 0)
            puts_(&o, " ");
        puts_(&o, "\"");
        puts_(&o, s->comps[i]);
        puts_(&o, "\"");
    }
    puts_(&o, ")");
    char num[32];
    if (s->has_created) {
        snprintf(num, sizeof num, ";created=%llu",
                 (unsigned long long)s->created);
        puts_(&o, num);
    }
    if (s->has_expires) {
        snprintf(num, sizeof num, ";expires=%llu",
                 (unsigned long long)s->expires);
        puts_(&o, num);
    }
    const struct {
        const char *name, *v;
    } strs[] = {{"nonce", s->nonce}, {"keyid", s->keyid}, {"alg", s->alg},
                {"tag", s->tag}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (!strs[i].v[0])
            continue;
        if (!str_ok(strs[i].v, strlen(strs[i].v)))
            return cb_errf(err, CB_EVALUE, "%s: not printable ASCII "
                           "without '\"' or '\\'", strs[i].name);
        puts_(&o, ";");
        puts_(&o, strs[i].name);
        puts_(&o, "=\"");
        puts_(&o, strs[i].v);
        puts_(&o, "\"");
    }
    if (o.full)
        return cb_errf(err, CB_ETOOBIG, "signature parameters too long");
    return 0;
}

static const char *header_of(const struct cy_httpsig_msg *m,
                             const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcmp(m->hnames[i], name) == 0)
            return m->hvalues[i];
    return NULL;
}

int cy_httpsig_base(const struct cy_httpsig *s,
                    const struct cy_httpsig_msg *m, char *out, size_t cap,
                    size_t *len, struct cb_err *err)
{
    struct out o = {out, cap, 0, false};
    if (cap > 0)
        out[0] = 0;
    for (size_t i = 0; i < s->ncomps; i++) {
        const char *c = s->comps[i];
        puts_(&o, "\"");
        puts_(&o, c);
        puts_(&o, "\": ");
        const char *v = NULL;
        if (strcmp(c, "@method") == 0) {
            v = m->method;
        } else if (strcmp(c, "@authority") == 0) {
            v = m->authority;
        } else if (strcmp(c, "@path") == 0) {
            v = m->path;
        } else if (strcmp(c, "@query") == 0) {
            puts_(&o, "?");
            v = m->query ? m->query : "";
        } else if (strcmp(c, "@target-uri") == 0) {
            puts_(&o, m->scheme ? m->scheme : "http");
            puts_(&o, "://");
            puts_(&o, m->authority ? m->authority : "");
            puts_(&o, m->path ? m->path : "");
            if (m->query && m->query[0]) {
                puts_(&o, "?");
                puts_(&o, m->query);
            }
            v = "";
        } else if (c[0] == '@') {
            return cb_errf(err, CB_EVALUE, "component \"%s\": not a derived "
                           "component of this profile", c);
        } else {
            v = header_of(m, c);
            if (v == NULL)
                return cb_errf(err, CB_ENOTFOUND, "covered header \"%s\" "
                               "absent", c);
        }
        if (v == NULL)
            return cb_errf(err, CB_EVALUE, "component \"%s\" has no value",
                           c);
        if (strchr(v, '\n') != NULL || strchr(v, '\r') != NULL)
            return cb_errf(err, CB_EVALUE, "component \"%s\": a line break "
                           "in its value", c);
        puts_(&o, v);
        puts_(&o, "\n");
    }
    puts_(&o, "\"@signature-params\": ");
    puts_(&o, s->params);
    if (o.full)
        return cb_errf(err, CB_ETOOBIG, "signature base over %zu bytes", cap);
    *len = o.len;
    return 0;
}

int cy_httpsig_sign(struct cy_httpsig *s, const struct cy_httpsig_msg *m,
                    const struct cy_key *k, char *input, char *sig,
                    struct cb_err *err)
{
    size_t ll = strlen(s->label);
    if (ll == 0 || ll > CY_HS_NAME_MAX || key_len(s->label, s->label + ll)
        != ll)
        return cb_errf(err, CB_EVALUE, "label \"%s\": not an sf-key",
                       s->label);
    int rv = cy_httpsig_params(s, err);
    if (rv != 0)
        return rv;
    static _Thread_local char base[CY_HS_BASE_MAX];
    size_t blen;
    if ((rv = cy_httpsig_base(s, m, base, sizeof base, &blen, err)) != 0)
        return rv;
    cy_sign(s->sig, base, blen, k);
    snprintf(input, CY_HS_INPUT_MAX, "%s=%s", s->label, s->params);
    char b64[90];
    cy_b64(b64, s->sig, CY_SIG_LEN);
    snprintf(sig, CY_HS_SIG_MAX, "%s=:%s:", s->label, b64);
    return 0;
}

/* Parses an unsigned integer without leading zeros (sf-integer, >= 0). */
static bool parse_uint(const char **pp, const char *end, uint64_t *v)
{
    const char *p = *pp;
    size_t n = 0;
    while (p + n < end && is_digit(p[n]))
        n++;
    if (n == 0 || n > 15 || (n > 1 && p[0] == '0'))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (uint64_t)(p[i] - '0');
    *v = x;
    *pp = p + n;
    return true;
}

/* Parses "..." (no escapes) at *pp into out[cap]. */
static bool parse_str(const char **pp, const char *end, char *out,
                      size_t cap)
{
    const char *p = *pp;
    if (p >= end || *p != '"')
        return false;
    const char *q = p + 1;
    while (q < end && *q != '"')
        q++;
    if (q >= end)
        return false;
    size_t n = (size_t)(q - (p + 1));
    if (n >= cap || !str_ok(p + 1, n))
        return false;
    memcpy(out, p + 1, n);
    out[n] = 0;
    *pp = q + 1;
    return true;
}

int cy_httpsig_parse(const char *input, size_t ilen, const char *sig,
                     size_t slen, struct cy_httpsig *s, struct cb_err *err)
{
    memset(s, 0, sizeof *s);
    const char *p = input, *end = input + ilen;
    size_t ll = key_len(p, end);
    if (ll == 0 || ll > CY_HS_NAME_MAX || p + ll >= end || p[ll] != '=')
        return cb_errf(err, CB_EVALUE, "Signature-Input: want LABEL=(...)");
    memcpy(s->label, p, ll);
    p += ll + 1;
    const char *params = p;
    if ((size_t)(end - params) > CY_HS_PARAMS_MAX)
        return cb_errf(err, CB_ETOOBIG, "Signature-Input: too long");
    if (p >= end || *p != '(')
        return cb_errf(err, CB_EVALUE, "Signature-Input: want an inner "
                       "list after the label");
    p++;
    while (p < end && *p != ')') {
        if (s->ncomps > 0) {
            if (*p != ' ')
                return cb_errf(err, CB_EVALUE, "Signature-Input: "
                               "components are separated by one space");
            p++;
        }
        if (s->ncomps == CY_HS_MAX_COMPS)
            return cb_errf(err, CB_ETOOBIG, "Signature-Input: over %d "
                           "components", CY_HS_MAX_COMPS);
        char *c = s->comps[s->ncomps];
        if (!parse_str(&p, end, c, CY_HS_NAME_MAX + 1) ||
            !comp_ok(c, strlen(c)))
            return cb_errf(err, CB_EVALUE, "Signature-Input: component %zu "
                           "is not a quoted lower-case name", s->ncomps + 1);
        for (size_t j = 0; j < s->ncomps; j++)
            if (strcmp(s->comps[j], c) == 0)
                return cb_errf(err, CB_EVALUE, "Signature-Input: component "
                               "\"%s\" twice", c);
        s->ncomps++;
    }
    if (p >= end)
        return cb_errf(err, CB_EVALUE, "Signature-Input: unclosed list");
    p++;
    unsigned seen = 0;
    while (p < end) {
        if (*p != ';')
            return cb_errf(err, CB_EVALUE, "Signature-Input: want ';' "
                           "before a parameter (one signature only)");
        p++;
        size_t kl = key_len(p, end);
        if (kl == 0 || p + kl >= end || p[kl] != '=')
            return cb_errf(err, CB_EVALUE, "Signature-Input: want "
                           "NAME=VALUE parameters");
        static const char *names[] = {"created", "expires", "nonce",
                                      "keyid", "alg", "tag"};
        int which = -1;
        for (int i = 0; i < 6; i++)
            if (strlen(names[i]) == kl && memcmp(names[i], p, kl) == 0)
                which = i;
        if (which < 0)
            return cb_errf(err, CB_EVALUE, "Signature-Input: parameter "
                           "\"%.*s\" is not in the profile", (int)kl, p);
        if (seen & (1u << which))
            return cb_errf(err, CB_EVALUE, "Signature-Input: parameter %s "
                           "twice", names[which]);
        seen |= 1u << which;
        p += kl + 1;
        bool ok;
        switch (which) {
        case 0:
            ok = parse_uint(&p, end, &s->created);
            s->has_created = true;
            break;
        case 1:
            ok = parse_uint(&p, end, &s->expires);
            s->has_expires = true;
            break;
        case 2:
            ok = parse_str(&p, end, s->nonce, sizeof s->nonce) &&
                 s->nonce[0];
            break;
        case 3:
            ok = parse_str(&p, end, s->keyid, sizeof s->keyid) &&
                 s->keyid[0];
            break;
        case 4:
            ok = parse_str(&p, end, s->alg, sizeof s->alg) && s->alg[0];
            break;
        default:
            ok = parse_str(&p, end, s->tag, sizeof s->tag) && s->tag[0];
            break;
        }
        if (!ok)
            return cb_errf(err, CB_EVALUE, "Signature-Input: parameter %s: "
                           "bad value", names[which]);
    }
    memcpy(s->params, params, (size_t)(end - params));
    s->params[end - params] = 0;

    /* Signature: LABEL=:BASE64: */
    if (slen < ll + 3 || memcmp(sig, s->label, ll) != 0 || sig[ll] != '=' ||
        sig[ll + 1] != ':' || sig[slen - 1] != ':')
        return cb_errf(err, CB_EVALUE, "Signature: want %s=:BASE64: (the "
                       "label of Signature-Input)", s->label);
    size_t got = 0;
    const char *b = sig + ll + 2;
    size_t blen = slen - ll - 3;
    uint8_t raw[CY_SIG_LEN + 3];
    if (blen != 88 || cy_unb64(raw, sizeof raw, &got, b, blen) != 0 ||
        got != CY_SIG_LEN)
        return cb_errf(err, CB_EVALUE, "Signature: not the base64 of 64 "
                       "bytes");
    memcpy(s->sig, raw, CY_SIG_LEN);
    return 0;
}

int cy_httpsig_verify(const struct cy_httpsig *s,
                      const struct cy_httpsig_msg *m,
                      const uint8_t pk[CY_PK_LEN], struct cb_err *err)
{
    static _Thread_local char base[CY_HS_BASE_MAX];
    size_t blen;
    int rv = cy_httpsig_base(s, m, base, sizeof base, &blen, err);
    if (rv != 0)
        return rv;
    if (cy_verify(s->sig, base, blen, pk) != 0)
        return cb_errf(err, CB_EBADSIG, "the request signature does not "
                       "verify");
    return 0;
}
