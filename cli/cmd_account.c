/*
 * credbank account show ID --dir D [--json]
 * credbank account history ID --dir D [--json]
 *
 * `show` prints the account view of DESIGN 4.2 (lg_account_view) as a
 * readable table; `history` lists the account's entries in log order (from
 * lg_account_entries, each read back from the log): index, type, fee, id.
 * ID is the account id (64 hex: the entry id of its account.open) or
 * @FILE.cbe of that account.open.
 *
 * With --node URL (or CREDBANK_NODE when --dir is not given) both read a
 * running credbankd instead (GET /v1/accounts/{id} and .../entries, each
 * entry fetched as msgpack for its type, id and time) and print the same.
 */
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_USAGE "account show ID (--dir D | --node URL [--key K]) [--json]"
#define HISTORY_USAGE \
    "account history ID (--dir D | --node URL [--key K]) [--json]"

/* ---- the table of account show ---- */

static const char *s_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool u_of(json_t *o, const char *k, long long *v)
{
    json_t *j = json_object_get(o, k);
    if (!json_is_integer(j))
        return false;
    *v = (long long)json_integer_value(j);
    return true;
}

/* A scalar as text into buf. */
static const char *scalar(json_t *v, char *buf, size_t cap)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    case JSON_TRUE:
        return "yes";
    case JSON_FALSE:
        return "no";
    case JSON_NULL:
        return "-";
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, cap, "%s", s ? s : "?");
        free(s);
        return buf;
    }
    }
}

/* key=value pairs of an object's scalars on one line, skipping skip[]. */
static void inline_obj(json_t *o, const char *const *skip)
{
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach(o, k, v) {
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++)
            if (strcmp(*s, k) == 0)
                skipped = true;
        if (skipped || json_is_array(v) || json_is_object(v))
            continue;
        char buf[96];
        printf("%s%s %s", first ? "" : ", ", k, scalar(v, buf, sizeof buf));
        first = false;
    }
}

/* "k v, k v" of an object of scalars. */
static void print_pairs(json_t *m)
{
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach(m, k, v) {
        char buf[64];
        printf("%s%s %s", first ? "" : ", ", k, scalar(v, buf, sizeof buf));
        first = false;
    }
    if (first)
        printf("-");
}

/* Fields of o not in known[], as "(k v, ...)". */
static void print_rest(json_t *o, const char *const *known)
{
    json_t *rest = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool skip = false;
        for (const char *const *s = known; *s; s++)
            if (strcmp(*s, k) == 0)
                skip = true;
        if (!skip)
            json_object_set(rest, k, v);
    }
    if (json_object_size(rest) > 0) {
        printf(" (");
        inline_obj(rest, NULL);
        printf(")");
    }
    json_decref(rest);
}

static void print_recognition(json_t *r)
{
    static const char *const known[] = {
        "id", "index", "recognizer", "member", "credits", "class", "term",
        "status", "linked", "cancelled_at", NULL};
    long long idx = -1, cr = 0, at = -1;
    u_of(r, "index", &idx);
    u_of(r, "credits", &cr);
    const char *who = s_of(r, "recognizer");
    if (who == NULL)
        who = s_of(r, "member");
    const char *cls = s_of(r, "class"), *status = s_of(r, "status"),
               *term = s_of(r, "term");
    printf("        @%-4lld recognised by %s: %lld %s in %s, %s", idx,
           who ? who : "?", cr, cls ? cls : "?", term ? term : "?",
           status ? status : "?");
    if (u_of(r, "cancelled_at", &at))
        printf(" @%lld", at);
    if (json_is_true(json_object_get(r, "linked")))
        printf(", linked");
    print_rest(r, known);
    printf("\n");
}

static void print_deposit(json_t *d)
{
    static const char *const known[] = {
        "id", "index", "provider", "member", "source", "course", "title",
        "credits", "grade", "attendance", "term", "compatible",
        "recognitions", NULL};
    long long idx = -1, cr = 0, grade = -1, att = -1;
    u_of(d, "index", &idx);
    u_of(d, "credits", &cr);
    u_of(d, "grade", &grade);
    bool has_att = u_of(d, "attendance", &att);
    const char *src = s_of(d, "source"), *course = s_of(d, "course"),
               *title = s_of(d, "title"), *term = s_of(d, "term"),
               *who = s_of(d, "provider");
    if (who == NULL)
        who = s_of(d, "member");
    printf("  @%-4lld %-13s %-12s %s\n", idx, src ? src : "?",
           course ? course : "?", title ? title : "");
    printf("        %lld credit%s, grade %lld", cr, cr == 1 ? "" : "s", grade);
    if (has_att)
        printf(", attendance %lld", att);
    printf(", %s", term ? term : "?");
    if (json_is_true(json_object_get(d, "compatible")))
        printf(", compatible");
    if (who != NULL)
        printf("; deposited by %s", who);
    print_rest(d, known);
    printf("\n");
    json_t *recs = json_object_get(d, "recognitions");
    for (size_t i = 0; i < json_array_size(recs); i++)
        print_recognition(json_array_get(recs, i));
    if (json_array_size(recs) == 0)
        printf("        not recognised\n");
}

/* The log index of the recognition with id hex, or -1. */
static long long recognition_index(json_t *v, const char *hex)
{
    json_t *deps = json_object_get(v, "deposits");
    for (size_t i = 0; i < json_array_size(deps); i++) {
        json_t *recs = json_object_get(json_array_get(deps, i),
                                       "recognitions");
        for (size_t j = 0; j < json_array_size(recs); j++) {
            json_t *r = json_array_get(recs, j);
            const char *id = s_of(r, "id");
            long long idx;
            if (id && hex && strcmp(id, hex) == 0 && u_of(r, "index", &idx))
                return idx;
        }
    }
    return -1;
}

static void print_programs(const char *label, json_t *arr)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *a = json_array_get(arr, i);
        long long idx = -1;
        u_of(a, "index", &idx);
        const char *deg = s_of(a, "degree"), *maj = s_of(a, "major");
        printf("%-14s @%lld %s / %s", i == 0 ? label : "", idx,
               deg ? deg : "?", maj ? maj : "?");
        json_t *recs = json_object_get(a, "recognitions");
        if (json_is_array(recs))
            printf(", %zu recognition%s linked", json_array_size(recs),
                   json_array_size(recs) == 1 ? "" : "s");
        printf("\n");
    }
    if (json_array_size(arr) == 0)
        printf("%-14s none\n", label);
}

static void print_view(json_t *v)
{
    static const char *const known[] = {
        "id", "number", "status", "learner_key", "registrar", "degree",
        "major", "fee_exempt", "awards", "links", "deposits", "appeals",
        "active_credits", "fees", "linked_credits", "count", "chain", NULL};
    char buf[128];
    long long n;
    const char *str;
    printf("%-14s %s\n", "account", (str = s_of(v, "id")) ? str : "?");
    printf("%-14s %s", "status", (str = s_of(v, "status")) ? str : "?");
    if (u_of(v, "number", &n))
        printf(" (account number %lld)", n);
    printf("\n%-14s %s\n", "learner key",
           (str = s_of(v, "learner_key")) ? str : "?");
    printf("%-14s %s / %s", "programme",
           s_of(v, "degree") ? s_of(v, "degree") : "?",
           s_of(v, "major") ? s_of(v, "major") : "?");
    if ((str = s_of(v, "registrar")) != NULL)
        printf(" (registered by %s)", str);
    printf("\n%-14s %s\n", "fee exempt",
           json_is_true(json_object_get(v, "fee_exempt")) ? "yes" : "no");
    json_t *ac = json_object_get(v, "active_credits");
    if (json_is_object(ac)) {
        long long total = 0;
        u_of(ac, "total", &total);
        printf("%-14s %lld total\n", "active credits", total);
        json_t *bc = json_object_get(ac, "by_class");
        json_t *bs = json_object_get(ac, "by_source");
        if (bc) {
            printf("%-14s ", "  by class");
            print_pairs(bc);
            printf("\n");
        }
        if (bs) {
            printf("%-14s ", "  by source");
            print_pairs(bs);
            printf("\n");
        }
    }
    print_programs("awards", json_object_get(v, "awards"));
    print_programs("links", json_object_get(v, "links"));
    if (u_of(v, "linked_credits", &n))
        printf("%-14s %lld\n", "linked credits", n);

    json_t *deps = json_object_get(v, "deposits");
    printf("deposits (%zu), with their recognitions:\n",
           json_array_size(deps));
    for (size_t i = 0; i < json_array_size(deps); i++)
        print_deposit(json_array_get(deps, i));

    json_t *apps = json_object_get(v, "appeals");
    printf("appeals (%zu)%s\n", json_array_size(apps),
           json_array_size(apps) ? ":" : "");
    for (size_t i = 0; i < json_array_size(apps); i++) {
        static const char *const aknown[] = {"id", "index", "recognition",
                                             "term", "reason", "outcome",
                                             "decided_at", NULL};
        json_t *a = json_array_get(apps, i);
        long long idx = -1, at = -1;
        u_of(a, "index", &idx);
        const char *out = s_of(a, "outcome");
        printf("  @%-4lld on the recognition @%lld in %s: \"%s\" -> %s", idx,
               recognition_index(v, s_of(a, "recognition")),
               s_of(a, "term") ? s_of(a, "term") : "?",
               s_of(a, "reason") ? s_of(a, "reason") : "",
               out ? out : "open");
        if (u_of(a, "decided_at", &at))
            printf(" @%lld", at);
        print_rest(a, aknown);
        printf("\n");
    }

    json_t *fees = json_object_get(v, "fees");
    if (json_is_object(fees)) {
        long long total = 0;
        const char *cur = s_of(fees, "currency");
        u_of(fees, "total", &total);
        printf("%-14s %lld %s%s", "fees", total, cur ? cur : "",
               total > 0 ? ":" : "");
        json_t *ents = json_object_get(fees, "entries");
        int col = 80;
        for (size_t i = 0; i < json_array_size(ents); i++) {
            json_t *e = json_array_get(ents, i);
            long long idx = -1, fee = 0;
            u_of(e, "index", &idx);
            u_of(e, "fee", &fee);
            if (fee == 0)
                continue;
            const char *t = s_of(e, "type");
            char item[96];
            int len = snprintf(item, sizeof item, " @%lld %s %lld", idx,
                               t ? t : "", fee);
            if (col + len > 78) {
                printf("\n%-14s", "");
                col = 14;
            }
            printf("%s", item);
            col += len;
        }
        printf("\n");
    }
    if (u_of(v, "count", &n))
        printf("%-14s %lld entries\n", "count", n);
    if ((str = s_of(v, "chain")) != NULL)
        printf("%-14s %s\n", "chain", str);
    /* anything else the view carries */
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        bool skip = false;
        for (const char *const *s2 = known; *s2; s2++)
            if (strcmp(*s2, k) == 0)
                skip = true;
        if (skip)
            continue;
        if (json_is_object(x) || json_is_array(x)) {
            char *js = json_dumps(x, JSON_COMPACT);
            printf("%-14s %s\n", k, js ? js : "?");
            free(js);
        } else {
            printf("%-14s %s\n", k, scalar(x, buf, sizeof buf));
        }
    }
}

void cli_account_print_view(json_t *v)
{
    print_view(v);
}

int cli_account_print(struct lg_ledger *l, const uint8_t id[32], bool json)
{
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    int rv = lg_account_view(l, id, &v, &err);
    if (rv != 0) {
        if (rv == CB_ENOTFOUND)
            return cli_fail(cli_hex32(id), CB_EACCOUNT,
                            "no such account in this ledger");
        return cli_fail_err("account show", rv, &err);
    }
    if (json)
        rv = cli_json_print(v);
    else {
        print_view(v);
        rv = CLI_OK;
    }
    json_decref(v);
    return rv;
}

/* ---- argument handling shared by show and history ---- */

/* Parses the arguments; opens the ledger of --dir into *l, or fills *u
 * (and sets *remote) for --node / CREDBANK_NODE. */
static int open_account(const char *ctx, const char *usage, int argc,
                        char **argv, bool *json, struct lg_ledger **l,
                        uint8_t id[32], bool *remote, struct cli_url *u)
{
    const char *dir = NULL, *node = NULL, *key = NULL, *pos[1];
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--node", CLI_OPT_STR, &node},
        {"--key", CLI_OPT_STR, &key},
        {"--json", CLI_OPT_BOOL, json},
        {NULL, 0, NULL},
    };
    *remote = false;
    if ((rv = cli_args(ctx, usage, argc, argv, opts, pos, 1, &npos, NULL)) !=
        0)
        return rv;
    if (npos != 1)
        return cli_usage(ctx, usage, "missing ID");
    if (dir != NULL && node != NULL)
        return cli_usage(ctx, usage, "--dir and --node exclude each other");
    if (dir == NULL && (node = cli_node_url(node)) == NULL)
        return cli_usage(ctx, usage, "missing --dir or --node (or "
                         "CREDBANK_NODE)");
    if (dir == NULL && (rv = cli_node_parse(ctx, usage, node, u)) != 0)
        return rv;
    if (dir == NULL && (rv = cli_node_key(key)) != 0)
        return rv;
    struct cb_err err = {0, ""};
    if ((rv = cli_parse_id(pos[0], id, &err)) != 0) {
        if (rv == CB_EVALUE)
            return cli_usage(ctx, usage, "ID: %s", cb_errmsg(&err));
        return cli_fail_err(pos[0], rv, &err);
    }
    if (dir == NULL) {
        *remote = true;
        return 0;
    }
    return cli_ledger_open(dir, false, l);
}

static int account_show(int argc, char **argv)
{
    bool json = false, remote;
    struct lg_ledger *l = NULL;
    struct cli_url u;
    uint8_t id[32];
    int rv = open_account("account show", SHOW_USAGE, argc, argv, &json, &l,
                          id, &remote, &u);
    if (rv != 0)
        return cli_exit(rv);
    if (remote) {
        rv = cli_remote_account_show("account show", &u, id, json);
        cli_http_close();
        return rv;
    }
    rv = cli_account_print(l, id, json);
    lg_ledger_close(l);
    return rv;
}

struct hist {
    struct lg_ledger *l;
    json_t *arr;
    bool json;
    int rv;
    struct cb_err err;
};

static int hist_one(void *ctx, uint64_t index, uint64_t fee)
{
    struct hist *h = ctx;
    uint8_t *leaf = NULL;
    size_t len = 0;
    int rv = cli_log_get(h->l, index, &leaf, &len, &h->err);
    if (rv != 0) {
        h->rv = rv;
        return 1;
    }
    struct lg_signed s;
    lg_signed_init(&s);
    rv = lg_signed_decode(&s, leaf, len, &h->err);
    if (rv != 0) {
        h->rv = rv;
        lg_signed_release(&s);
        free(leaf);
        return 1;
    }
    const char *type = lg_type_name(s.e.type);
    if (h->json) {
        json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:I}", "index",
                              (json_int_t)index, "type", type, "fee",
                              (json_int_t)fee, "id", cli_hex32(s.e.id), "ts",
                              (json_int_t)s.e.ts);
        json_array_append_new(h->arr, o);
    } else {
        printf("%6llu  %-17s %8llu  %s\n", (unsigned long long)index, type,
               (unsigned long long)fee, cli_hex32(s.e.id));
    }
    lg_signed_release(&s);
    free(leaf);
    return 0;
}

static int account_history(int argc, char **argv)
{
    bool json = false, remote;
    struct lg_ledger *l = NULL;
    struct cli_url u;
    uint8_t id[32];
    int rv = open_account("account history", HISTORY_USAGE, argc, argv,
                          &json, &l, id, &remote, &u);
    if (rv != 0)
        return cli_exit(rv);
    if (remote) {
        rv = cli_remote_account_history("account history", &u, id, json);
        cli_http_close();
        return rv;
    }
    struct hist h = {.l = l, .json = json, .err = {0, ""}};
    if (json)
        h.arr = json_array();
    else
        printf("%6s  %-17s %8s  %s\n", "index", "type", "fee", "id");
    rv = lg_account_entries(l, id, 0, UINT64_MAX, hist_one, &h, &h.err);
    if (rv == 0)
        rv = h.rv;
    if (rv != 0) {
        if (rv == CB_ENOTFOUND || rv == CB_EACCOUNT)
            rv = cli_fail(cli_hex32(id), CB_EACCOUNT,
                          "no such account in this ledger");
        else
            rv = cli_fail_err("account history", rv, &h.err);
    } else if (json) {
        json_t *o = json_pack("{s:s,s:O}", "account", cli_hex32(id),
                              "entries", h.arr);
        rv = cli_json_print(o);
        json_decref(o);
    }
    json_decref(h.arr);
    lg_ledger_close(l);
    return rv;
}

int cmd_account(int argc, char **argv)
{
    static const struct cli_cmd sub[] = {
        {"show", account_show, SHOW_USAGE, "the account view as a table"},
        {"history", account_history, HISTORY_USAGE,
         "the account's entries in log order"},
    };
    return cli_dispatch("credbank account", sub, sizeof sub / sizeof sub[0],
                        argc - 1, argv + 1);
}
