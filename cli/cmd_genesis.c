/*
 * credbank genesis build FILE.json --key FOUNDER.key [-o genesis.cbe] [--json]
 *
 * FILE.json describes the consortium:
 *
 *   {"members": [{"name": "bank", "roles": ["registrar"],
 *                 "node": VKEY, "issuers": [VKEY, ...]}, ...],
 *    "governance_quorum": 2, "cosign_quorum": 2,
 *    "policy": {...the * policy...}, "origin": "optional"}
 *
 * where every VKEY is a signed-note verifier key string or 64 hex digits.
 * The command builds the genesis entry (ts now, random nonce), signs it with
 * FOUNDER.key (an issuer key of one of the founders) and writes the signed
 * entry. Every other key it introduces must add its signature with
 * `credbank sign` before the entry is valid; the command lists them. The
 * ledger id is the genesis entry's id and does not change with signatures.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                          \
    "genesis build FILE.json --key FOUNDER.key [-o genesis.cbe] [--json]"

int cli_genesis_body(const char *ctx, json_t *spec, const uint8_t author[32],
                     struct lg_w *out)
{
    static const char *const known[] = {"members", "governance_quorum",
                                        "cosign_quorum", "policy", "origin",
                                        NULL};
    struct cb_err err = {0, ""};
    if (!json_is_object(spec))
        return cli_fail(ctx, CB_EJSON, "expected a JSON object");
    const char *key;
    json_t *val;
    json_object_foreach(spec, key, val) {
        const char *const *k;
        for (k = known; *k; k++)
            if (strcmp(*k, key) == 0)
                break;
        if (*k == NULL)
            return cli_fail(ctx, CB_EJSON, "unknown key \"%s\"", key);
    }
    json_t *body = json_deep_copy(spec);
    int rv = CLI_FAIL;
    if (body == NULL)
        return cli_fail(ctx, CB_ENOMEM, "out of memory");
    json_t *members = json_object_get(body, "members");
    if (!json_is_array(members) || json_array_size(members) == 0) {
        cli_fail(ctx, CB_EJSON, "%s: expected a non-empty array", "members");
        goto out;
    }
    bool author_found = false;
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *m = json_array_get(members, i);
        char where[32];
        snprintf(where, sizeof where, "members[%zu]", i);
        if (!json_is_object(m)) {
            rv = CLI_FAIL; /* not the previous member's result */
            cli_fail(ctx, CB_EJSON, "%s: expected an object", where);
            goto out;
        }
        if ((rv = cli_member_keys(m, where, &err)) != 0) {
            rv = cli_fail_err(ctx, rv, &err);
            goto out;
        }
        json_t *issuers = json_object_get(m, "issuers");
        for (size_t j = 0; j < json_array_size(issuers); j++) {
            uint8_t pk[32];
            const char *s = json_string_value(json_array_get(issuers, j));
            if (s != NULL && cy_unhex(pk, 32, s + 4) == 0 &&
                memcmp(pk, author, 32) == 0)
                author_found = true;
        }
    }
    rv = CLI_FAIL;
    if (!author_found) {
        cli_fail(ctx, CB_EAUTHOR,
                 "the signing key %s is not an issuer key of any founder",
                 cli_hex32(author));
        goto out;
    }
    if (!json_is_object(json_object_get(body, "policy"))) {
        cli_fail(ctx, CB_EJSON, "%s: expected an object", "policy");
        goto out;
    }
    const char *q[] = {"governance_quorum", "cosign_quorum"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, q[i]);
        if (v == NULL)
            json_object_set_new(body, q[i], json_integer(0));
        else if (!json_is_integer(v) || json_integer_value(v) < 0) {
            cli_fail(ctx, CB_EJSON,
                     "%s: expected an unsigned integer (0: default)", q[i]);
            goto out;
        }
    }
    json_t *origin = json_object_get(body, "origin");
    if (origin != NULL && !json_is_string(origin)) {
        cli_fail(ctx, CB_EJSON, "%s: expected a string", "origin");
        goto out;
    }
    lg_w_reset(out);
    if ((rv = lg_w_json(out, body, &err)) != 0) {
        rv = cli_fail_err(ctx, rv, &err);
        goto out;
    }
    rv = CLI_OK;
out:
    json_decref(body);
    return rv;
}

/* The display name of a key string from the JSON file: its own name when it
 * is a verifier key, else fallback. */
static void key_display(char vk[CY_VKEY_MAX], uint8_t pk[32], const char *s,
                        const char *fallback)
{
    char name[CY_NAME_MAX + 1];
    if (cli_parse_key(s, pk, name, NULL) != 0) {
        snprintf(vk, CY_VKEY_MAX, "%s", s);
        return;
    }
    cli_vkey(vk, name[0] ? name : fallback, pk);
}

static int genesis_build(int argc, char **argv)
{
    const char *keyfile = NULL, *out = NULL, *pos[1];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--key", CLI_OPT_STR, &keyfile},
        {"-o", CLI_OPT_STR, &out},
        {"--out", CLI_OPT_STR, &out},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("genesis build", USAGE, argc, argv, opts, pos, 1,
                       &npos, NULL)) != 0)
        return cli_exit(rv);
    if (npos != 1)
        return cli_usage("genesis build", USAGE, "missing FILE.json");
    if (keyfile == NULL)
        return cli_usage("genesis build", USAGE, "missing --key");
    if (out == NULL)
        out = "genesis.cbe";

    struct cb_err err = {0, ""};
    json_t *spec = NULL;
    char at[4200];
    snprintf(at, sizeof at, "@%s", pos[0]);
    if ((rv = cli_parse_json(at, &spec, &err)) != 0)
        return cli_fail_err(pos[0], rv, &err);
    struct cy_key k;
    if ((rv = cli_key_load(keyfile, &k)) != 0) {
        json_decref(spec);
        return rv;
    }
    struct lg_w body, signd;
    lg_w_init(&body);
    lg_w_init(&signd);
    uint8_t id[32];
    json_t *report = NULL;
    if ((rv = cli_genesis_body(pos[0], spec, k.pk, &body)) != 0)
        goto out;
    struct cli_entry e = {
        .type = LG_T_GENESIS,
        .author = &k,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    if ((rv = cli_entry_make(&e, &signd, id, &err)) != 0) {
        rv = cli_fail_err("genesis build", rv, &err);
        goto out;
    }
    if ((rv = cli_write_atomic(out, lg_w_data(&signd), lg_w_len(&signd), 0644,
                               &err)) != 0) {
        rv = cli_fail_err(out, rv, &err);
        goto out;
    }

    /* the report: members, their keys, who still has to sign */
    report = json_object();
    json_t *jm = json_array(), *needs = json_array();
    json_object_set_new(report, "ledger_id", json_string(cli_hex32(id)));
    json_object_set_new(report, "file", json_string(out));
    json_t *origin = json_object_get(spec, "origin");
    if (json_is_string(origin)) {
        json_object_set_new(report, "origin", json_incref(origin));
    } else {
        char o[32];
        char hex[65];
        cy_hex(hex, id, 32);
        snprintf(o, sizeof o, "credbank/%.16s", hex);
        json_object_set_new(report, "origin", json_string(o));
    }
    char avk[CY_VKEY_MAX];
    cli_vkey(avk, k.name, k.pk);
    json_object_set_new(report, "signed_by", json_string(avk));
    json_t *members = json_object_get(spec, "members");
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *m = json_array_get(members, i);
        const char *name = json_string_value(json_object_get(m, "name"));
        if (name == NULL)
            name = "?";
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(name));
        json_object_set(o, "roles", json_object_get(m, "roles"));
        uint8_t pk[32];
        char vk[CY_VKEY_MAX], cvk[CY_VKEY_MAX];
        const char *ns = json_string_value(json_object_get(m, "node"));
        key_display(vk, pk, ns ? ns : "?", name);
        cli_vkey(cvk, name, pk);
        json_object_set_new(o, "node", json_string(vk));
        json_object_set_new(o, "checkpoint_vkey", json_string(cvk));
        json_array_append_new(needs, json_pack("{s:s,s:s,s:s}", "key", vk,
                                               "member", name, "use",
                                               "node"));
        json_t *iss = json_array();
        json_t *issuers = json_object_get(m, "issuers");
        for (size_t j = 0; j < json_array_size(issuers); j++) {
            const char *is = json_string_value(json_array_get(issuers, j));
            key_display(vk, pk, is ? is : "?", name);
            json_array_append_new(iss, json_string(vk));
            if (memcmp(pk, k.pk, 32) != 0)
                json_array_append_new(needs,
                                      json_pack("{s:s,s:s,s:s}", "key", vk,
                                                "member", name, "use",
                                                "issuer"));
        }
        json_object_set_new(o, "issuers", iss);
        json_array_append_new(jm, o);
    }
    json_object_set_new(report, "members", jm);
    json_object_set_new(report, "needs_signatures", needs);

    if (json) {
        rv = cli_json_print(report);
        goto out;
    }
    printf("ledger id: %s\n", cli_hex32(id));
    printf("origin:    %s\n",
           json_string_value(json_object_get(report, "origin")));
    printf("wrote %s, signed by %s\n\nmembers:\n", out, avk);
    for (size_t i = 0; i < json_array_size(jm); i++) {
        json_t *o = json_array_get(jm, i);
        printf("  %s (", json_string_value(json_object_get(o, "name")));
        json_t *r = json_object_get(o, "roles");
        for (size_t j = 0; j < json_array_size(r); j++)
            printf("%s%s", j ? ", " : "",
                   json_string_value(json_array_get(r, j)));
        printf(")\n    node     %s\n",
               json_string_value(json_object_get(o, "node")));
        printf("    verifies checkpoints as %s\n",
               json_string_value(json_object_get(o, "checkpoint_vkey")));
        json_t *iss = json_object_get(o, "issuers");
        for (size_t j = 0; j < json_array_size(iss); j++)
            printf("    issuer   %s\n",
                   json_string_value(json_array_get(iss, j)));
    }
    printf("\nstill to sign (credbank sign %s --key KEY):\n", out);
    for (size_t i = 0; i < json_array_size(needs); i++) {
        json_t *n = json_array_get(needs, i);
        printf("  %s  (%s %s key)\n",
               json_string_value(json_object_get(n, "key")),
               json_string_value(json_object_get(n, "member")),
               json_string_value(json_object_get(n, "use")));
    }
    rv = CLI_OK;
out:
    cy_key_wipe(&k);
    json_decref(report);
    json_decref(spec);
    lg_w_release(&body);
    lg_w_release(&signd);
    return rv;
}

int cmd_genesis(int argc, char **argv)
{
    static const struct cli_cmd sub[] = {
        {"build", genesis_build, USAGE,
         "build and sign the genesis entry from a JSON file"},
    };
    return cli_dispatch("credbank genesis", sub, 1, argc - 1, argv + 1);
}
