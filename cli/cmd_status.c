/*
 * credbank status --dir D [--json]     the ledger's head (lg_status)
 * credbank members --dir D [--json]    members, keys, policies
 *                                      (lg_members_view)
 *
 * With --node URL (or CREDBANK_NODE when --dir is not given): GET
 * /v1/status (the node's role, leader, Raft and ledger head) and GET
 * /v1/members (the same view as the local one).
 */
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_USAGE "status (--dir D | --node URL) [--json]"
#define MEMBERS_USAGE "members (--dir D | --node URL [--key K]) [--json]"

/* Opens --dir's ledger into *l, or, for --node / CREDBANK_NODE, leaves *l
 * NULL and fills u. */
static int open_dir(const char *ctx, const char *usage, int argc,
                    char **argv, bool *json, struct lg_ledger **l,
                    struct cli_url *u)
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
    *l = NULL;
    if ((rv = cli_args(ctx, usage, argc, argv, opts, pos, 0, &npos, NULL)) !=
        0)
        return rv;
    if (dir != NULL && node != NULL)
        return cli_usage(ctx, usage, "--dir and --node exclude each other");
    if (dir == NULL && (node = cli_node_url(node)) == NULL)
        return cli_usage(ctx, usage, "missing --dir or --node (or "
                         "CREDBANK_NODE)");
    if (dir == NULL && (rv = cli_node_parse(ctx, usage, node, u)) != 0)
        return rv;
    if (dir == NULL)
        return cli_node_key(key);
    return cli_ledger_open(dir, false, l);
}

/* The node's /v1/status as a table. */
static void print_node_status(json_t *o)
{
    const char *k;
    json_t *v;
#define S(key) json_string_value(json_object_get(o, key))
#define I(key) ((long long)json_integer_value(json_object_get(o, key)))
#define B(key) json_is_true(json_object_get(o, key))
    printf("node            %s (id %lld)\n", S("name") ? S("name") : "?",
           I("id"));
    printf("role            %s, term %lld%s\n", S("role") ? S("role") : "?",
           I("term"),
           B("ready") ? ", ready for writes"
           : S("role") && strcmp(S("role"), "leader") == 0
               ? ", not ready yet"
               : "");
    printf("leader          %s\n", S("leader") ? S("leader") : "unknown");
    printf("ledger id       %s\n", S("ledger_id") ? S("ledger_id") : "?");
    printf("log             %lld entries, root %s\n", I("size"),
           S("root") ? S("root") : "?");
    if (I("final") > 0)
        printf("final           checkpoint of %lld entries\n", I("final"));
    else
        printf("final           none yet\n");
    if (json_is_integer(json_object_get(o, "last_seal")))
        printf("newest seal     index %lld\n", I("last_seal"));
    printf("accounts        %lld\n", I("accounts"));
    printf("members         %lld in force; cosign quorum %lld\n",
           I("members"), I("cosign_quorum"));
    printf("applied         %lld batches (raft last applied %lld); queue "
           "%lld\n",
           I("applied"), I("raft_last_applied"), I("queue"));
    if (B("diverged"))
        printf("health          DIVERGED: %s\n",
               S("diverged_reason") ? S("diverged_reason") : "");
    else if (B("failed"))
        printf("health          FAILED: %s\n",
               S("failed_reason") ? S("failed_reason") : "");
    else
        printf("health          ok\n");
    static const char *const known[] = {
        "name", "id", "role", "term", "ready", "leader", "ledger_id", "size",
        "root", "final", "last_seal", "accounts", "members", "cosign_quorum",
        "applied", "raft_last_applied", "queue", "diverged", "failed",
        "diverged_reason", "failed_reason", NULL};
    json_object_foreach(o, k, v) {
        bool skip = false;
        for (const char *const *s2 = known; *s2; s2++)
            if (strcmp(*s2, k) == 0)
                skip = true;
        if (skip)
            continue;
        char *js = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%-15s %s\n", k, js ? js : "?");
        free(js);
    }
#undef S
#undef I
#undef B
}

static int status_node(const struct cli_url *u, bool json)
{
    json_t *o = NULL;
    int rv = cli_node_get_json("status", u, "/v1/status", &o);
    cli_http_close();
    if (rv != 0)
        return rv;
    if (json) {
        rv = cli_json_print(o);
    } else {
        printf("%-15s %s\n", "url", u->base);
        print_node_status(o);
        rv = CLI_OK;
    }
    json_decref(o);
    return rv;
}

json_t *cli_status_json(const struct lg_status *st)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
#define U(k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))
    json_object_set_new(o, "ledger_id", json_string(cli_hex32(st->ledger_id)));
    json_object_set_new(o, "origin", json_string(st->origin));
    U("size", st->size);
    json_object_set_new(o, "root", json_string(cli_hex32(st->root)));
    U("accounts", st->accounts);
    json_object_set_new(o, "accounts_root",
                        json_string(cli_hex32(st->accounts_root)));
    U("governance", st->governance);
    json_object_set_new(o, "governance_chain",
                        json_string(cli_hex32(st->governance_chain)));
    U("members", st->members);
    U("governance_quorum", st->governance_quorum);
    U("cosign_quorum", st->cosign_quorum);
    U("seal_interval_ms", st->seal_interval_ms);
    U("since_seal", st->since_seal);
    if (st->has_seal) {
        U("last_seal", st->last_seal);
        U("last_seal_ts", st->last_seal_ts);
    }
    if (st->has_final) {
        U("final_seal", st->final_seal);
        U("final_size", st->final_seal + 1);
    }
    U("applied_seq", st->applied_seq);
#undef U
    return o;
}

int cmd_status(int argc, char **argv)
{
    bool json = false;
    struct lg_ledger *l = NULL;
    struct cli_url u;
    int rv = open_dir("status", STATUS_USAGE, argc, argv, &json, &l, &u);
    if (rv != 0)
        return cli_exit(rv);
    if (l == NULL)
        return status_node(&u, json);
    struct lg_status st;
    rv = lg_status(l, &st);
    lg_ledger_close(l);
    if (rv != 0)
        return cli_fail("status", rv, "cannot read the ledger head");
    if (json) {
        json_t *o = cli_status_json(&st);
        rv = cli_json_print(o);
        json_decref(o);
        return rv;
    }
    char when[32];
    printf("ledger id       %s\n", cli_hex32(st.ledger_id));
    printf("origin          %s\n", st.origin);
    printf("log             %llu entries, root %s\n",
           (unsigned long long)st.size, cli_hex32(st.root));
    printf("accounts        %llu, root %s\n", (unsigned long long)st.accounts,
           cli_hex32(st.accounts_root));
    printf("governance      %llu entries, chain %s\n",
           (unsigned long long)st.governance, cli_hex32(st.governance_chain));
    printf("members         %llu in force; governance quorum %llu, cosign "
           "quorum %llu\n",
           (unsigned long long)st.members,
           (unsigned long long)st.governance_quorum,
           (unsigned long long)st.cosign_quorum);
    printf("seal interval   %llu ms\n",
           (unsigned long long)st.seal_interval_ms);
    printf("since seal      %llu entries\n", (unsigned long long)st.since_seal);
    if (st.has_seal) {
        cli_format_ms(when, st.last_seal_ts);
        printf("newest seal     index %llu (%s)\n",
               (unsigned long long)st.last_seal, when);
    } else {
        printf("newest seal     none\n");
    }
    if (st.has_final)
        printf("final           seal %llu: checkpoint of %llu entries\n",
               (unsigned long long)st.final_seal,
               (unsigned long long)st.final_seal + 1);
    else
        printf("final           none yet\n");
    return CLI_OK;
}

static const char *str_or(json_t *o, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : def;
}

static void print_keys(const char *label, json_t *v)
{
    if (json_is_string(v)) {
        printf("    %-8s %s\n", label, json_string_value(v));
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *k = json_array_get(v, i);
        if (json_is_string(k))
            printf("    %-8s %s\n", label, json_string_value(k));
        else if (json_is_object(k))
            printf("    %-8s %s\n", label, str_or(k, "key", "?"));
    }
}

static void print_member(json_t *m)
{
    json_t *inforce = json_object_get(m, "in_force");
    printf("  %s", str_or(m, "name", "?"));
    json_t *roles = json_object_get(m, "roles");
    printf(" (");
    for (size_t j = 0; j < json_array_size(roles); j++)
        printf("%s%s", j ? ", " : "", json_string_value(json_array_get(roles,
                                                                       j)));
    printf(")%s\n", json_is_false(inforce) ? " REMOVED" : "");
    json_t *nvk = json_object_get(m, "node_vkey");
    print_keys("node", nvk ? nvk : json_object_get(m, "node"));
    print_keys("issuer", json_object_get(m, "issuers"));
}

int cmd_members(int argc, char **argv)
{
    bool json = false;
    struct lg_ledger *l = NULL;
    struct cli_url u;
    int rv = open_dir("members", MEMBERS_USAGE, argc, argv, &json, &l, &u);
    if (rv != 0)
        return cli_exit(rv);
    json_t *v = NULL;
    if (l == NULL) {
        rv = cli_node_get_json("members", &u, "/v1/members", &v);
        cli_http_close();
        if (rv != 0)
            return rv;
    } else {
        struct cb_err err = {0, ""};
        rv = lg_members_view(l, &v, &err);
        lg_ledger_close(l);
        if (rv != 0)
            return cli_fail_err("members", rv, &err);
    }
    if (json) {
        rv = cli_json_print(v);
        json_decref(v);
        return rv;
    }
    json_t *members = json_object_get(v, "members");
    if (!json_is_array(members)) {
        /* an unexpected shape: show it as it is */
        rv = cli_json_print(v);
        json_decref(v);
        return rv;
    }
    printf("members:\n");
    for (size_t i = 0; i < json_array_size(members); i++)
        print_member(json_array_get(members, i));
    json_t *removed = json_object_get(v, "removed");
    if (json_array_size(removed) > 0) {
        printf("removed:\n");
        for (size_t i = 0; i < json_array_size(removed); i++)
            print_member(json_array_get(removed, i));
    }
    json_t *gq = json_object_get(v, "governance_quorum");
    json_t *cq = json_object_get(v, "cosign_quorum");
    if (json_is_integer(gq) && json_is_integer(cq))
        printf("quorums: governance %lld, cosign %lld\n",
               (long long)json_integer_value(gq),
               (long long)json_integer_value(cq));
    json_t *pol = json_object_get(v, "policies");
    if (pol != NULL) {
        char *s = json_dumps(pol, JSON_INDENT(2));
        if (s != NULL)
            printf("policies:\n%s\n", s);
        free(s);
    }
    json_decref(v);
    return CLI_OK;
}
