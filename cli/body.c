/*
 * Entry bodies from command-line flags: one table row per body field of
 * every entry type `entry build` makes (DESIGN section 4).
 *
 * A flag is named after its field with '-' for '_' and for the dot of a
 * nested field (`--fee-exempt` is body.fee_exempt, `--education-level` is
 * body.education.level). Values are checked by kind before anything is
 * built, so a typo is a usage error naming the flag rather than a refusal
 * from the state machine; the rules themselves (thresholds, roles, caps)
 * are left to the state machine, which is the only judge.
 *
 * The body is assembled as a JSON object (bins as "hex:..." strings, the
 * convention of lg_w_json) over the --body base, then written canonically.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
    K_STR,      /* text, at most 1024 bytes */
    K_NAME,     /* a member name */
    K_UINT,     /* unsigned integer */
    K_CREDITS,  /* unsigned integer >= 1 */
    K_PCT,      /* unsigned integer 0-100 */
    K_BOOL,     /* true/false (the flag alone means true) */
    K_TERM,     /* YYYYQn */
    K_ENUM,     /* one of choices */
    K_DIGEST,   /* 64 hex, or @FILE: SHA-256 of the file */
    K_KEY,      /* verifier key string or 64 hex */
    K_BIN32,    /* 64 hex */
    K_SIG,      /* 128 hex */
    K_ROLES,    /* comma-separated roles */
    K_MEMBER,   /* member JSON (inline or @FILE), keys as strings */
    K_POLICY,   /* policy JSON (inline or @FILE) */
    K_SCOPE,    /* "*" or a member name */
    K_PII_DATA, /* @FILE of a JSON object of strings: pii commitment */
    K_PII_SALT, /* 64 hex: the salt of the pii commitment */
};

struct field {
    const char *flag;   /* without "--" */
    const char *path;   /* body path, "education.level"; NULL: special */
    enum kind kind;
    bool required;
    const char *const *choices;
    const char *def;    /* default value (a flag value) when absent */
};

static const char *const sources[] = {
    "evaluated_course", "school", "part_time", "qualification",
    "self_study_exam", "intangible_heritage", "mooc", "work_experience",
    "other", NULL};
static const char *const classes[] = {"major", "general", "elective", NULL};
static const char *const classes_a7[] = {"major", "general", NULL};
static const char *const reasons[] = {"learner_request", "investigation",
                                      "error", NULL};
static const char *const outcomes[] = {"upheld", "rejected", NULL};
static const char *const uses[] = {"node", "issuer", NULL};
static const char *const roles[] = {"registrar", "recognizer", "provider",
                                    "witness", NULL};

#define END {NULL, NULL, 0, false, NULL, NULL}

static const struct field f_account_open[] = {
    {"learner-key", "learner_key", K_KEY, true, NULL, NULL},
    {"degree", "degree", K_STR, true, NULL, NULL},
    {"major", "major", K_STR, true, NULL, NULL},
    {"education-level", "education.level", K_STR, true, NULL, NULL},
    {"education-evidence", "education.evidence", K_DIGEST, true, NULL, NULL},
    {"pii", "pii", K_BIN32, true, NULL, NULL},
    {"pii-data", NULL, K_PII_DATA, false, NULL, NULL},
    {"pii-salt", NULL, K_PII_SALT, false, NULL, NULL},
    {"fee-exempt", "fee_exempt", K_BOOL, false, NULL, "false"},
    END};
static const struct field f_account_rekey[] = {
    {"learner-key", "learner_key", K_KEY, true, NULL, NULL}, END};
static const struct field f_outcome_deposit[] = {
    {"source", "source", K_ENUM, true, sources, NULL},
    {"course", "course", K_STR, true, NULL, NULL},
    {"title", "title", K_STR, true, NULL, NULL},
    {"credits", "credits", K_CREDITS, true, NULL, NULL},
    {"grade", "grade", K_PCT, true, NULL, NULL},
    {"attendance", "attendance", K_PCT, false, NULL, NULL},
    {"term", "term", K_TERM, true, NULL, NULL},
    {"evidence", "evidence", K_DIGEST, true, NULL, NULL},
    {"compatible", "compatible", K_BOOL, false, NULL, "false"},
    END};
static const struct field f_credit_recognize[] = {
    {"credits", "credits", K_CREDITS, true, NULL, NULL},
    {"class", "class", K_ENUM, true, classes, NULL},
    {"term", "term", K_TERM, true, NULL, NULL},
    END};
static const struct field f_program[] = {
    {"degree", "degree", K_STR, true, NULL, NULL},
    {"major", "major", K_STR, true, NULL, NULL},
    END};
static const struct field f_appeal_file[] = {
    {"reason", "reason", K_STR, true, NULL, NULL},
    {"term", "term", K_TERM, true, NULL, NULL},
    END};
static const struct field f_appeal_decide[] = {
    {"outcome", "outcome", K_ENUM, true, outcomes, NULL},
    {"credits", "credits", K_CREDITS, false, NULL, NULL},
    {"class", "class", K_ENUM, false, classes, NULL},
    END};
static const struct field f_cancel[] = {
    {"reason", "reason", K_ENUM, true, reasons, NULL}, END};
static const struct field f_class_change[] = {
    {"class", "class", K_ENUM, true, classes_a7, NULL}, END};
static const struct field f_member_add[] = {
    {"member", "member", K_MEMBER, true, NULL, NULL}, END};
static const struct field f_member_update[] = {
    {"name", "name", K_NAME, true, NULL, NULL},
    {"roles", "roles", K_ROLES, true, roles, NULL},
    END};
static const struct field f_member_remove[] = {
    {"name", "name", K_NAME, true, NULL, NULL}, END};
static const struct field f_key_rotate[] = {
    {"use", "use", K_ENUM, true, uses, NULL},
    {"old", "old", K_KEY, false, NULL, NULL}, /* default: the author */
    {"new", "new", K_KEY, true, NULL, NULL},
    END};
static const struct field f_policy_set[] = {
    {"scope", "scope", K_SCOPE, true, NULL, NULL},
    {"policy", "policy", K_POLICY, true, NULL, NULL},
    END};
static const struct field f_seal[] = {
    {"size", "size", K_UINT, true, NULL, NULL},
    {"log-root", "log_root", K_BIN32, true, NULL, NULL},
    {"accounts", "accounts", K_UINT, true, NULL, NULL},
    {"accounts-root", "accounts_root", K_BIN32, true, NULL, NULL},
    {"governance", "governance", K_UINT, true, NULL, NULL},
    {"governance-chain", "governance_chain", K_BIN32, true, NULL, NULL},
    END};
static const struct field f_cosign[] = {
    {"size", "size", K_UINT, true, NULL, NULL},
    {"sig", "sig", K_SIG, true, NULL, NULL},
    END};

struct type_row {
    enum lg_type type;
    const struct field *fields;
    size_t min_refs, max_refs;
    const char *refs_what;
};

static const struct type_row types[] = {
    {LG_T_MEMBER_ADD, f_member_add, 0, 0, NULL},
    {LG_T_MEMBER_UPDATE, f_member_update, 0, 0, NULL},
    {LG_T_MEMBER_REMOVE, f_member_remove, 0, 0, NULL},
    {LG_T_KEY_ROTATE, f_key_rotate, 0, 0, NULL},
    {LG_T_POLICY_SET, f_policy_set, 0, 0, NULL},
    {LG_T_ACCOUNT_OPEN, f_account_open, 0, 0, NULL},
    {LG_T_ACCOUNT_REKEY, f_account_rekey, 0, 0, NULL},
    {LG_T_OUTCOME_DEPOSIT, f_outcome_deposit, 0, 0, NULL},
    {LG_T_CREDIT_RECOGNIZE, f_credit_recognize, 1, 1, "the deposit"},
    {LG_T_PROGRAM_CHANGE, f_program, 0, SIZE_MAX, "recognitions dropped"},
    {LG_T_DEGREE_AWARD, f_program, 0, 0, NULL},
    {LG_T_DEGREE_LINK, f_program, 0, SIZE_MAX, "recognitions linked"},
    {LG_T_APPEAL_FILE, f_appeal_file, 1, 1, "the recognition"},
    {LG_T_APPEAL_DECIDE, f_appeal_decide, 1, 1, "the appeal"},
    {LG_T_CREDIT_CANCEL, f_cancel, 1, 1, "the recognition"},
    {LG_T_ACCOUNT_CANCEL, f_cancel, 0, 0, NULL},
    {LG_T_CLASS_CHANGE, f_class_change, 1, 1, "the recognition"},
    {LG_T_SEAL, f_seal, 0, 0, NULL},
    {LG_T_COSIGN, f_cosign, 1, 1, "the seal"},
};

static const struct type_row *row_of(enum lg_type t)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == t)
            return &types[i];
    return NULL;
}

bool cli_type_refs(enum lg_type t, size_t *min, size_t *max,
                   const char **what)
{
    const struct type_row *r = row_of(t);
    if (r == NULL)
        return false;
    *min = r->min_refs;
    *max = r->max_refs;
    *what = r->refs_what;
    return true;
}

static const char *kind_hint(const struct field *f)
{
    switch (f->kind) {
    case K_STR: return "TEXT";
    case K_NAME: return "MEMBER";
    case K_UINT: return "N";
    case K_CREDITS: return "CREDITS";
    case K_PCT: return "0-100";
    case K_BOOL: return "[true|false]";
    case K_TERM: return "YYYYQn";
    case K_ENUM: return NULL;
    case K_DIGEST: return "HEX|@FILE";
    case K_KEY: return "VKEY|HEX";
    case K_BIN32: return "HEX";
    case K_SIG: return "HEX128";
    case K_ROLES: return "ROLE,ROLE";
    case K_MEMBER: return "JSON|@member.json";
    case K_POLICY: return "JSON|@policy.json";
    case K_SCOPE: return "*|MEMBER";
    case K_PII_DATA: return "@data.json";
    case K_PII_SALT: return "HEX";
    }
    return "VALUE";
}

void cli_body_help(FILE *f, enum lg_type t)
{
    const struct type_row *r = row_of(t);
    if (r == NULL)
        return;
    fprintf(f, "%s flags:\n", lg_type_name(t));
    for (const struct field *fl = r->fields; fl->flag; fl++) {
        char hint[256];
        if (fl->kind == K_ENUM) {
            hint[0] = '\0';
            for (const char *const *c = fl->choices; *c; c++) {
                if (c != fl->choices)
                    strncat(hint, "|", sizeof hint - strlen(hint) - 1);
                strncat(hint, *c, sizeof hint - strlen(hint) - 1);
            }
        } else {
            snprintf(hint, sizeof hint, "%s", kind_hint(fl));
        }
        fprintf(f, "  --%s %s%s\n", fl->flag, hint,
                fl->required ? "" : "  (optional)");
    }
    if (r->max_refs > 0)
        fprintf(f, "  --ref ID  %s%s\n", r->refs_what,
                r->max_refs == SIZE_MAX ? " (repeatable, may be none)" : "");
}

/* ---- values ---- */

static bool term_valid(const char *s)
{
    if (strlen(s) != 6 || s[4] != 'Q' || s[5] < '1' || s[5] > '4')
        return false;
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
        } else {
            return false;
        }
        for (unsigned i = 1; i <= n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        if (c == 0xe0 && p[1] < 0xa0)
            return false;
        if (c == 0xed && p[1] >= 0xa0)
            return false;
        if (c == 0xf0 && p[1] < 0x90)
            return false;
        if (c == 0xf4 && p[1] >= 0x90)
            return false;
        p += n + 1;
    }
    return true;
}

static json_t *hexval(const uint8_t *b, size_t n)
{
    char buf[4 + 129];
    memcpy(buf, "hex:", 4);
    cy_hex(buf + 4, b, n);
    return json_string(buf);
}

/* Sets obj[path] (dotted) to v (stolen). */
static int set_path(json_t *obj, const char *path, json_t *v)
{
    const char *dot = strchr(path, '.');
    if (v == NULL)
        return CB_ENOMEM;
    if (dot == NULL)
        return json_object_set_new(obj, path, v) == 0 ? 0 : CB_ENOMEM;
    char head[64];
    size_t n = (size_t)(dot - path);
    if (n >= sizeof head) {
        json_decref(v);
        return CB_EINVAL;
    }
    memcpy(head, path, n);
    head[n] = '\0';
    json_t *sub = json_object_get(obj, head);
    if (!json_is_object(sub)) {
        sub = json_object();
        if (sub == NULL || json_object_set_new(obj, head, sub) != 0) {
            json_decref(v);
            return CB_ENOMEM;
        }
    }
    return set_path(sub, dot + 1, v);
}

static json_t *get_path(json_t *obj, const char *path)
{
    const char *dot = strchr(path, '.');
    if (dot == NULL)
        return json_object_get(obj, path);
    char head[64];
    size_t n = (size_t)(dot - path);
    if (n >= sizeof head)
        return NULL;
    memcpy(head, path, n);
    head[n] = '\0';
    json_t *sub = json_object_get(obj, head);
    return json_is_object(sub) ? get_path(sub, dot + 1) : NULL;
}

/* Converts one flag value to its JSON body value. Returns 0, CLI_USAGE or
 * CLI_FAIL (printed). */
static int value_of(const char *ctx, const struct field *f, const char *val,
                    json_t **out)
{
    struct cb_err err = {0, ""};
    uint8_t b[64];
    uint64_t u;
    int rv;
    *out = NULL;
    if (val == NULL && f->kind != K_BOOL)
        return cli_usage(ctx, NULL, "--%s needs a value", f->flag);
    switch (f->kind) {
    case K_STR:
        if (strlen(val) > LG_STR_MAX)
            return cli_usage(ctx, NULL, "--%s: longer than %d bytes",
                             f->flag, LG_STR_MAX);
        if (!utf8_valid(val))
            return cli_usage(ctx, NULL, "--%s: not valid UTF-8", f->flag);
        *out = json_string(val);
        break;
    case K_NAME:
        if (!cy_name_valid(val))
            return cli_usage(ctx, NULL,
                             "--%s: \"%s\" is not a member name (1-64 of "
                             "A-Za-z0-9._-)",
                             f->flag, val);
        *out = json_string(val);
        break;
    case K_SCOPE:
        if (strcmp(val, "*") != 0 && !cy_name_valid(val))
            return cli_usage(ctx, NULL,
                             "--%s: \"%s\" is neither * nor a member name",
                             f->flag, val);
        *out = json_string(val);
        break;
    case K_UINT:
    case K_CREDITS:
    case K_PCT:
        if (!cli_parse_u64(val, &u) || u > (uint64_t)INT64_MAX)
            return cli_usage(ctx, NULL,
                             "--%s: \"%s\" is not an unsigned integer",
                             f->flag, val);
        if (f->kind == K_CREDITS && u < 1)
            return cli_usage(ctx, NULL, "--%s: credits must be at least 1",
                             f->flag);
        if (f->kind == K_PCT && u > 100)
            return cli_usage(ctx, NULL, "--%s: %s is above 100", f->flag,
                             val);
        *out = json_integer((json_int_t)u);
        break;
    case K_BOOL:
        if (val == NULL || strcmp(val, "true") == 0 || strcmp(val, "1") == 0 ||
            strcmp(val, "yes") == 0)
            *out = json_true();
        else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0 ||
                 strcmp(val, "no") == 0)
            *out = json_false();
        else
            return cli_usage(ctx, NULL, "--%s: \"%s\" is not true or false",
                             f->flag, val);
        break;
    case K_TERM:
        if (!term_valid(val))
            return cli_usage(ctx, NULL,
                             "--%s: \"%s\" is not a term YYYYQn (n 1-4)",
                             f->flag, val);
        *out = json_string(val);
        break;
    case K_ENUM:
    case K_ROLES: {
        /* K_ROLES: a comma list of choices */
        json_t *arr = f->kind == K_ROLES ? json_array() : NULL;
        const char *p = val;
        do {
            const char *comma = f->kind == K_ROLES ? strchr(p, ',') : NULL;
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            const char *const *c;
            for (c = f->choices; *c; c++)
                if (strlen(*c) == n && strncmp(*c, p, n) == 0)
                    break;
            if (*c == NULL) {
                char choices[256] = "";
                for (c = f->choices; *c; c++) {
                    if (c != f->choices)
                        strncat(choices, ", ", sizeof choices -
                                                   strlen(choices) - 1);
                    strncat(choices, *c, sizeof choices - strlen(choices) - 1);
                }
                json_decref(arr);
                return cli_usage(ctx, NULL, "--%s: \"%.*s\" is not one of %s",
                                 f->flag, (int)n, p, choices);
            }
            if (arr != NULL)
                json_array_append_new(arr, json_string(*c));
            else
                *out = json_string(*c);
            p = comma ? comma + 1 : NULL;
        } while (p != NULL);
        if (arr != NULL)
            *out = arr;
        break;
    }
    case K_DIGEST:
        rv = cli_parse_digest(val, b, &err);
        if (rv != 0) {
            if (val[0] == '@')
                return cli_fail_err(ctx, rv, &err);
            return cli_usage(ctx, NULL, "--%s: expected 64 hex digits or "
                             "@FILE", f->flag);
        }
        *out = hexval(b, 32);
        break;
    case K_KEY:
        rv = cli_parse_key(val, b, NULL, &err);
        if (rv != 0)
            return cli_usage(ctx, NULL, "--%s: %s", f->flag, cb_errmsg(&err));
        *out = hexval(b, 32);
        break;
    case K_BIN32:
    case K_PII_SALT:
        if (cli_parse_hex(val, b, 32, &err) != 0)
            return cli_usage(ctx, NULL, "--%s: expected 64 hex digits",
                             f->flag);
        *out = hexval(b, 32);
        break;
    case K_SIG:
        if (cli_parse_hex(val, b, 64, &err) != 0)
            return cli_usage(ctx, NULL, "--%s: expected 128 hex digits",
                             f->flag);
        *out = hexval(b, 64);
        break;
    case K_MEMBER:
    case K_POLICY:
    case K_PII_DATA: {
        json_t *j = NULL;
        if (f->kind == K_PII_DATA && val[0] != '@')
            return cli_usage(ctx, NULL, "--%s: expected @FILE", f->flag);
        rv = cli_parse_json(val, &j, &err);
        if (rv != 0) {
            if (val[0] == '@' && rv != CB_EJSON)
                return cli_fail_err(ctx, rv, &err);
            return cli_usage(ctx, NULL, "--%s: %s", f->flag,
                             cb_errmsg(&err));
        }
        if (!json_is_object(j)) {
            json_decref(j);
            return cli_usage(ctx, NULL, "--%s: expected a JSON object",
                             f->flag);
        }
        if (f->kind == K_MEMBER &&
            (rv = cli_member_keys(j, "member", &err)) != 0) {
            json_decref(j);
            return cli_usage(ctx, NULL, "--%s: %s", f->flag,
                             cb_errmsg(&err));
        }
        *out = j;
        break;
    }
    }
    if (*out == NULL)
        return cli_fail(ctx, CB_ENOMEM, "out of memory");
    return 0;
}

int cli_pii_commit(json_t *data, const uint8_t salt[32], uint8_t out[32],
                   struct cb_err *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(data))
        return cb_errf(err, CB_EJSON, "personal data: expected an object");
    json_object_foreach(data, key, v) {
        if (!json_is_string(v))
            return cb_errf(err, CB_EJSON,
                           "personal data.%s: values must be strings", key);
        if (strlen(key) > LG_STR_MAX || json_string_length(v) > LG_STR_MAX)
            return cb_errf(err, CB_ETOOBIG,
                           "personal data.%s: longer than %d bytes", key,
                           LG_STR_MAX);
    }
    struct lg_w w;
    lg_w_init(&w);
    int rv = lg_w_json(&w, data, err);
    if (rv == 0) {
        struct cy_sha256 h;
        cy_sha256_init(&h);
        cy_sha256_update(&h, salt, 32);
        cy_sha256_update(&h, lg_w_data(&w), lg_w_len(&w));
        cy_sha256_final(&h, out);
    }
    lg_w_release(&w);
    return rv;
}

int cli_body_build(const char *ctx, enum lg_type t, json_t *base,
                   const struct cli_kvs *flags, const uint8_t author[32],
                   struct lg_w *out)
{
    const struct type_row *r = row_of(t);
    if (r == NULL)
        return cli_usage(ctx, NULL, "entry build cannot make %s entries",
                         lg_type_name(t));
    json_t *body = base ? json_deep_copy(base) : json_object();
    json_t *pii_data = NULL, *pii_salt = NULL;
    int rv = 0;
    if (body == NULL)
        return cli_fail(ctx, CB_ENOMEM, "out of memory");
    if (!json_is_object(body)) {
        rv = cli_usage(ctx, NULL, "--body must be a JSON object");
        goto out;
    }
    /* each flag once, and known */
    for (size_t i = 0; i < flags->n; i++) {
        const struct field *f;
        for (f = r->fields; f->flag; f++)
            if (strcmp(f->flag, flags->v[i].name) == 0)
                break;
        if (f->flag == NULL) {
            rv = cli_usage(ctx, NULL, "unknown flag --%s for %s (see "
                           "credbank entry build %s --help)",
                           flags->v[i].name, lg_type_name(t),
                           lg_type_name(t));
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(flags->v[j].name, flags->v[i].name) == 0) {
                rv = cli_usage(ctx, NULL, "--%s given twice", f->flag);
                goto out;
            }
        json_t *v;
        if ((rv = value_of(ctx, f, flags->v[i].value, &v)) != 0)
            goto out;
        if (f->kind == K_PII_DATA) {
            pii_data = v;
        } else if (f->kind == K_PII_SALT) {
            pii_salt = v;
        } else if (set_path(body, f->path, v) != 0) {
            rv = cli_fail(ctx, CB_ENOMEM, "out of memory");
            goto out;
        }
    }
    /* pii from data and salt */
    if (pii_data != NULL || pii_salt != NULL) {
        if (pii_data == NULL || pii_salt == NULL) {
            rv = cli_usage(ctx, NULL, "--pii-data and --pii-salt go together");
            goto out;
        }
        if (get_path(body, "pii") != NULL) {
            rv = cli_usage(ctx, NULL, "give --pii or --pii-data, not both");
            goto out;
        }
        uint8_t salt[32], pii[32];
        struct cb_err err = {0, ""};
        cy_unhex(salt, 32, json_string_value(pii_salt) + 4);
        if ((rv = cli_pii_commit(pii_data, salt, pii, &err)) != 0) {
            rv = cli_usage(ctx, NULL, "--pii-data: %s", cb_errmsg(&err));
            goto out;
        }
        cy_wipe(salt, sizeof salt);
        set_path(body, "pii", hexval(pii, 32));
    }
    /* key.rotate: --old defaults to the author */
    if (t == LG_T_KEY_ROTATE && get_path(body, "old") == NULL)
        set_path(body, "old", hexval(author, 32));
    /* defaults and required fields */
    for (const struct field *f = r->fields; f->flag; f++) {
        if (f->path == NULL || get_path(body, f->path) != NULL)
            continue;
        if (f->def != NULL) {
            json_t *v;
            if ((rv = value_of(ctx, f, f->def, &v)) != 0)
                goto out;
            set_path(body, f->path, v);
        } else if (f->required) {
            if (f->kind == K_BIN32 && strcmp(f->path, "pii") == 0)
                rv = cli_usage(ctx, NULL,
                               "missing --pii (or --pii-data and --pii-salt)");
            else
                rv = cli_usage(ctx, NULL, "missing --%s", f->flag);
            goto out;
        }
    }
    /* appeal.decide: credits and class exactly when upheld */
    if (t == LG_T_APPEAL_DECIDE) {
        json_t *o = json_object_get(body, "outcome");
        bool upheld = json_is_string(o) &&
                      strcmp(json_string_value(o), "upheld") == 0;
        bool has_c = json_object_get(body, "credits") != NULL;
        bool has_k = json_object_get(body, "class") != NULL;
        if (upheld && (!has_c || !has_k)) {
            rv = cli_usage(ctx, NULL,
                           "an upheld appeal needs --credits and --class");
            goto out;
        }
        if (!upheld && (has_c || has_k)) {
            rv = cli_usage(ctx, NULL, "--credits and --class only with "
                           "--outcome upheld");
            goto out;
        }
    }
    struct cb_err err = {0, ""};
    lg_w_reset(out);
    rv = lg_w_json(out, body, &err);
    if (rv != 0)
        rv = rv == CB_ENOMEM ? cli_fail_err(ctx, rv, &err)
                             : cli_usage(ctx, NULL, "body: %s",
                                         cb_errmsg(&err));
out:
    json_decref(body);
    json_decref(pii_data);
    json_decref(pii_salt);
    return rv;
}
