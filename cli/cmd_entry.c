/*
 * credbank entry build|sign|inspect
 *
 *   entry build TYPE --key AUTHOR.key (--ledger ID | --dir LEDGERDIR)
 *               [--account ID] [--ref ID]... [--ts MS] [--body JSON|@FILE]
 *               [--sign K.key]... [--FIELD VALUE]... -o FILE.cbe [--json]
 *
 * builds an entry of TYPE (any type of DESIGN section 4 but genesis, which
 * `genesis build` makes), signs it with the author key and the --sign keys,
 * and writes the signed entry. Body fields come from --body (a JSON object,
 * bins as "hex:...") and from per-type flags (body.c). IDs are 64 hex or
 * @FILE.cbe (the id of the entry in that file); the ledger id may also be
 * @genesis.cbe.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUILD_USAGE                                                         \
    "entry build TYPE --key AUTHOR.key (--ledger ID | --dir LEDGERDIR) "    \
    "[--account ID] [--ref ID]... [--ts MS] [--body JSON|@FILE] "           \
    "[--sign K.key]... [--FIELD VALUE]... -o FILE.cbe [--json]"

/* Which further signatures an entry still needs, for the hint line. */
static const char *needs_hint(enum lg_type t, json_t *body)
{
    const char *reason =
        json_string_value(json_object_get(body, "reason"));
    bool learner_req = reason && strcmp(reason, "learner_request") == 0;
    switch (t) {
    case LG_T_ACCOUNT_OPEN:
    case LG_T_PROGRAM_CHANGE:
    case LG_T_DEGREE_LINK:
    case LG_T_APPEAL_FILE:
    case LG_T_CLASS_CHANGE:
        return "the learner's key";
    case LG_T_CREDIT_CANCEL:
    case LG_T_ACCOUNT_CANCEL:
        return learner_req ? "the learner's key" : NULL;
    case LG_T_ACCOUNT_REKEY:
        return "the new learner key";
    case LG_T_MEMBER_ADD:
        return "a governance quorum of members and every key of the new "
               "member";
    case LG_T_MEMBER_UPDATE:
    case LG_T_MEMBER_REMOVE:
        return "a governance quorum of members";
    case LG_T_POLICY_SET: {
        const char *scope = json_string_value(json_object_get(body, "scope"));
        return scope && strcmp(scope, "*") == 0
                   ? "a governance quorum of members"
                   : NULL;
    }
    case LG_T_KEY_ROTATE:
        return "the new key";
    default:
        return NULL;
    }
}

static int entry_build(int argc, char **argv)
{
    const char *ctx = "entry build";
    const char *keyfile = NULL, *ledger = NULL, *dir = NULL, *account = NULL,
               *ts = NULL, *bodyarg = NULL, *out = NULL, *pos[1];
    struct cli_list refs = {0}, signs = {0};
    struct cli_kvs flags = {0};
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--key", CLI_OPT_STR, &keyfile},
        {"--ledger", CLI_OPT_STR, &ledger},
        {"--dir", CLI_OPT_STR, &dir},
        {"--account", CLI_OPT_STR, &account},
        {"--ref", CLI_OPT_LIST, &refs},
        {"--ts", CLI_OPT_STR, &ts},
        {"--body", CLI_OPT_STR, &bodyarg},
        {"--sign", CLI_OPT_LIST, &signs},
        {"-o", CLI_OPT_STR, &out},
        {"--out", CLI_OPT_STR, &out},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    /* TYPE --help lists the type's flags */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: credbank %s\n", BUILD_USAGE);
            enum lg_type t = argc > 1 && argv[1][0] != '-'
                                 ? lg_type_parse(argv[1], strlen(argv[1]))
                                 : LG_T_NONE;
            if (t != LG_T_NONE) {
                cli_body_help(stdout, t);
            } else {
                printf("types:");
                for (int k = LG_T_MEMBER_ADD; k < LG_T__COUNT; k++)
                    printf(" %s", lg_type_name((enum lg_type)k));
                printf("\n");
            }
            return CLI_OK;
        }

    struct cy_key key, *extra = NULL;
    size_t nextra = 0;
    bool have_key = false;
    uint8_t ledger_id[32], account_id[32], (*ref_ids)[32] = NULL;
    json_t *base = NULL;
    struct lg_w body, signd;
    lg_w_init(&body);
    lg_w_init(&signd);
    struct cb_err err = {0, ""};
    char bctx[64];

    if ((rv = cli_args(ctx, BUILD_USAGE, argc, argv, opts, pos, 1, &npos,
                       &flags)) != 0) {
        rv = cli_exit(rv);
        goto out;
    }
    rv = CLI_USAGE;
    if (npos != 1) {
        cli_usage(ctx, BUILD_USAGE, "missing TYPE");
        goto out;
    }
    enum lg_type t = lg_type_parse(pos[0], strlen(pos[0]));
    if (t == LG_T_NONE) {
        cli_usage(ctx, BUILD_USAGE, "unknown entry type \"%s\"", pos[0]);
        goto out;
    }
    if (t == LG_T_GENESIS) {
        cli_usage(ctx, NULL, "genesis entries are made by credbank genesis "
                  "build");
        goto out;
    }
    snprintf(bctx, sizeof bctx, "entry build %s", lg_type_name(t));
    if (keyfile == NULL) {
        cli_usage(bctx, BUILD_USAGE, "missing --key");
        goto out;
    }
    if (out == NULL) {
        cli_usage(bctx, BUILD_USAGE, "missing -o FILE.cbe");
        goto out;
    }
    if ((ledger == NULL) == (dir == NULL)) {
        cli_usage(bctx, BUILD_USAGE, "give one of --ledger and --dir");
        goto out;
    }
    bool has_acct = lg_type_has_account(t);
    if (has_acct && account == NULL) {
        cli_usage(bctx, NULL, "%s needs --account ID", lg_type_name(t));
        goto out;
    }
    if (!has_acct && account != NULL) {
        cli_usage(bctx, NULL, "%s entries name no account: drop --account",
                  lg_type_name(t));
        goto out;
    }
    size_t rmin, rmax;
    const char *rwhat;
    cli_type_refs(t, &rmin, &rmax, &rwhat);
    if (refs.n < rmin || refs.n > rmax) {
        if (rmax == 0)
            cli_usage(bctx, NULL, "%s takes no --ref", lg_type_name(t));
        else
            cli_usage(bctx, NULL, "%s takes %s%zu --ref (%s)",
                      lg_type_name(t), rmin == rmax ? "exactly " : "",
                      rmin, rwhat);
        goto out;
    }
    uint64_t tsv = 0;
    if (ts != NULL && (!cli_parse_u64(ts, &tsv) || tsv == 0)) {
        cli_usage(bctx, NULL, "--ts: \"%s\" is not Unix milliseconds", ts);
        goto out;
    }
    /* ids */
    if (account != NULL && cli_parse_id(account, account_id, &err) != 0) {
        rv = cli_status_of(err.code == CB_EVALUE ? CB_EUSAGE : err.code);
        if (rv == CLI_USAGE)
            cli_usage(bctx, NULL, "--account: %s", cb_errmsg(&err));
        else
            cli_fail_err("--account", err.code, &err);
        goto out;
    }
    ref_ids = calloc(refs.n ? refs.n : 1, 32);
    if (ref_ids == NULL) {
        rv = cli_fail(bctx, CB_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < refs.n; i++)
        if (cli_parse_id(refs.v[i], ref_ids[i], &err) != 0) {
            if (err.code == CB_EVALUE)
                rv = cli_usage(bctx, NULL, "--ref: %s", cb_errmsg(&err));
            else
                rv = cli_fail_err("--ref", err.code, &err);
            goto out;
        }
    if (ledger != NULL && cli_parse_id(ledger, ledger_id, &err) != 0) {
        if (err.code == CB_EVALUE)
            rv = cli_usage(bctx, NULL, "--ledger: %s", cb_errmsg(&err));
        else
            rv = cli_fail_err("--ledger", err.code, &err);
        goto out;
    }
    if (bodyarg != NULL) {
        if (cli_parse_json(bodyarg, &base, &err) != 0) {
            if (err.code == CB_EJSON)
                rv = cli_usage(bctx, NULL, "--body: %s", cb_errmsg(&err));
            else
                rv = cli_fail_err("--body", err.code, &err);
            goto out;
        }
    }
    rv = CLI_FAIL;
    if (dir != NULL) {
        struct lg_ledger *l;
        if ((rv = cli_ledger_open(dir, false, &l)) != 0)
            goto out;
        struct lg_status st;
        rv = lg_status(l, &st);
        lg_ledger_close(l);
        if (rv != 0) {
            rv = cli_fail(dir, rv, "cannot read the ledger head");
            goto out;
        }
        memcpy(ledger_id, st.ledger_id, 32);
    }
    /* keys */
    if ((rv = cli_key_load(keyfile, &key)) != 0)
        goto out;
    have_key = true;
    extra = calloc(signs.n ? signs.n : 1, sizeof *extra);
    if (extra == NULL) {
        rv = cli_fail(bctx, CB_ENOMEM, "out of memory");
        goto out;
    }
    for (; nextra < signs.n; nextra++)
        if ((rv = cli_key_load(signs.v[nextra], &extra[nextra])) != 0)
            goto out;
    /* body */
    if ((rv = cli_body_build(bctx, t, base, &flags, key.pk, &body)) != 0)
        goto out;
    const struct cy_key *signers[LG_MAX_SIGS];
    if (nextra + 1 > LG_MAX_SIGS) {
        rv = cli_usage(bctx, NULL, "too many --sign keys");
        goto out;
    }
    for (size_t i = 0; i < nextra; i++)
        signers[i] = &extra[i];
    struct cli_entry e = {
        .type = t,
        .author = &key,
        .ledger = ledger_id,
        .ts = tsv,
        .account = has_acct ? account_id : NULL,
        .refs = (const uint8_t(*)[32])ref_ids,
        .nrefs = refs.n,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
        .signers = signers,
        .nsigners = nextra,
    };
    uint8_t id[32];
    if ((rv = cli_entry_make(&e, &signd, id, &err)) != 0) {
        rv = cli_fail_err(bctx, rv, &err);
        goto out;
    }
    if ((rv = cli_write_atomic(out, lg_w_data(&signd), lg_w_len(&signd), 0644,
                               &err)) != 0) {
        rv = cli_fail_err(out, rv, &err);
        goto out;
    }
    /* the hint reads the body as JSON */
    struct lg_doc d;
    lg_doc_init(&d);
    json_t *jb = NULL;
    if (lg_decode(&d, lg_w_data(&body), lg_w_len(&body), NULL, NULL) == 0)
        jb = lg_json(&d.root);
    lg_doc_release(&d);
    const char *hint = needs_hint(t, jb);
    if (json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "file", out, "type",
                              lg_type_name(t), "id", cli_hex32(id),
                              "signatures", (json_int_t)(nextra + 1));
        if (o != NULL && hint != NULL)
            json_object_set_new(o, "needs", json_string(hint));
        rv = cli_json_print(o);
        json_decref(o);
    } else {
        printf("%s: %s %s (%zu signature%s)\n", out, lg_type_name(t),
               cli_hex32(id), nextra + 1, nextra ? "s" : "");
        if (hint != NULL)
            printf("it needs also the signature of %s: credbank sign %s "
                   "--key KEY\n",
                   hint, out);
        rv = CLI_OK;
    }
    json_decref(jb);
out:
    if (have_key)
        cy_key_wipe(&key);
    for (size_t i = 0; i < nextra; i++)
        cy_key_wipe(&extra[i]);
    free(extra);
    free(ref_ids);
    json_decref(base);
    lg_w_release(&body);
    lg_w_release(&signd);
    cli_list_free(&refs);
    cli_list_free(&signs);
    cli_kvs_free(&flags);
    return rv;
}

int cmd_entry(int argc, char **argv)
{
    static const struct cli_cmd sub[] = {
        {"build", entry_build, BUILD_USAGE, "build and sign an entry"},
        {"sign", cmd_sign, "entry sign FILE.cbe --key K.key [-o OUT.cbe]",
         "add a signature (same as credbank sign)"},
        {"inspect", cmd_entry_inspect, "entry inspect FILE.cbe [--json]",
         "decode, verify and print a signed entry"},
    };
    return cli_dispatch("credbank entry", sub, sizeof sub / sizeof sub[0],
                        argc - 1, argv + 1);
}
