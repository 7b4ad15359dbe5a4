/*
 * credbank status --dir D [--json]     the ledger's head (lg_status)
 * credbank members --dir D [--json]    members, keys, policies
 *                                      (lg_members_view)
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_USAGE "status --dir D [--json]"
#define MEMBERS_USAGE "members --dir D [--json]"

static int open_dir(const char *ctx, const char *usage, int argc,
                    char **argv, bool *json, struct lg_ledger **l)
{
    const char *dir = NULL, *pos[1];
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--json", CLI_OPT_BOOL, json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args(ctx, usage, argc, argv, opts, pos, 0, &npos, NULL)) !=
        0)
        return rv;
    if (dir == NULL)
        return cli_usage(ctx, usage, "missing --dir");
    return cli_ledger_open(dir, false, l);
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
    int rv = open_dir("status", STATUS_USAGE, argc, argv, &json, &l);
    if (rv != 0)
        return cli_exit(rv);
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
    int rv = open_dir("members", MEMBERS_USAGE, argc, argv, &json, &l);
    if (rv != 0)
        return cli_exit(rv);
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    rv = lg_members_view(l, &v, &err);
    lg_ledger_close(l);
    if (rv != 0)
        return cli_fail_err("members", rv, &err);
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
