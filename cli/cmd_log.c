/*
 * credbank log root|prove|verify-proof|append|get
 *
 *   log root --dir D [--size N] [--json]
 *   log prove INDEX --dir D [--size N] [--json]
 *   log verify-proof (--leaf FILE.cbe | --leaf-hash HEX) --index I --size N
 *                    --root HEX [PROOF_HEX...]
 *   log append FILE.cbe... --dir D [--json]          (same as submit)
 *   log get INDEX --dir D [-o FILE.cbe] [--json]
 *
 * Hashing and proofs are RFC 9162 (leaf = SHA-256(0x00 || signed entry),
 * node = SHA-256(0x01 || left || right)); verify-proof needs nothing but
 * its arguments, so anyone can check a proof offline.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <credbank/merkle.h>

#define ROOT_USAGE "log root --dir D [--size N] [--json]"
#define PROVE_USAGE "log prove INDEX --dir D [--size N] [--json]"
#define VERIFY_USAGE                                                        \
    "log verify-proof (--leaf FILE.cbe | --leaf-hash HEX) --index I "       \
    "--size N --root HEX [PROOF_HEX...]"
#define GET_USAGE "log get INDEX --dir D [-o FILE.cbe] [--json]"

/* Opens the ledger and resolves --size (default: the whole log). */
static int open_sized(const char *ctx, const char *usage, const char *dir,
                      const char *sizearg, struct lg_ledger **l,
                      uint64_t *size)
{
    uint64_t want = 0;
    if (dir == NULL)
        return cli_usage(ctx, usage, "missing --dir");
    if (sizearg != NULL && (!cli_parse_u64(sizearg, &want) || want == 0))
        return cli_usage(ctx, usage, "--size: \"%s\" is not a tree size",
                         sizearg);
    int rv = cli_ledger_open(dir, false, l);
    if (rv != 0)
        return rv;
    struct lg_status st;
    if ((rv = lg_status(*l, &st)) != 0) {
        lg_ledger_close(*l);
        return cli_fail(ctx, rv, "cannot read the ledger head");
    }
    if (sizearg != NULL && want > st.size) {
        lg_ledger_close(*l);
        return cli_fail(ctx, CB_ERANGE, "--size %llu: the log has %llu "
                        "entries",
                        (unsigned long long)want,
                        (unsigned long long)st.size);
    }
    *size = sizearg != NULL ? want : st.size;
    return 0;
}

static int log_root(int argc, char **argv)
{
    const char *dir = NULL, *sizearg = NULL, *pos[1];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--size", CLI_OPT_STR, &sizearg},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("log root", ROOT_USAGE, argc, argv, opts, pos, 0,
                       &npos, NULL)) != 0)
        return cli_exit(rv);
    struct lg_ledger *l;
    uint64_t size = 0;
    if ((rv = open_sized("log root", ROOT_USAGE, dir, sizearg, &l, &size)) !=
        0)
        return rv;
    uint8_t root[32];
    struct cb_err err = {0, ""};
    rv = cli_log_root(l, size, root, &err);
    lg_ledger_close(l);
    if (rv != 0)
        return cli_fail_err("log root", rv, &err);
    if (json) {
        json_t *o = json_pack("{s:I,s:s}", "size", (json_int_t)size, "root",
                              cli_hex32(root));
        rv = cli_json_print(o);
        json_decref(o);
        return rv;
    }
    printf("size %llu\nroot %s\n", (unsigned long long)size, cli_hex32(root));
    return CLI_OK;
}

static int log_prove(int argc, char **argv)
{
    const char *dir = NULL, *sizearg = NULL, *pos[1];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--size", CLI_OPT_STR, &sizearg},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("log prove", PROVE_USAGE, argc, argv, opts, pos, 1,
                       &npos, NULL)) != 0)
        return cli_exit(rv);
    uint64_t index;
    if (npos != 1)
        return cli_usage("log prove", PROVE_USAGE, "missing INDEX");
    if (!cli_parse_u64(pos[0], &index))
        return cli_usage("log prove", PROVE_USAGE,
                         "INDEX: \"%s\" is not an index", pos[0]);
    struct lg_ledger *l;
    uint64_t size = 0;
    if ((rv = open_sized("log prove", PROVE_USAGE, dir, sizearg, &l,
                         &size)) != 0)
        return rv;
    struct cb_err err = {0, ""};
    uint8_t root[32], proof[CY_PROOF_MAX][32], lh[32];
    size_t n = 0;
    uint8_t *leaf = NULL;
    size_t len = 0;
    if (index >= size) {
        rv = cli_fail("log prove", CB_ERANGE,
                      "index %llu is not below the tree size %llu",
                      (unsigned long long)index, (unsigned long long)size);
        goto out;
    }
    if ((rv = cli_log_get(l, index, &leaf, &len, &err)) != 0 ||
        (rv = cli_log_root(l, size, root, &err)) != 0 ||
        (rv = cli_log_prove(l, index, size, proof, &n, &err)) != 0) {
        rv = cli_fail_err("log prove", rv, &err);
        goto out;
    }
    cy_leaf_hash(lh, leaf, len);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_string(cli_hex32(proof[i])));
        json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:o}", "index",
                              (json_int_t)index, "size", (json_int_t)size,
                              "leaf_hash", cli_hex32(lh), "root",
                              cli_hex32(root), "proof", arr);
        rv = cli_json_print(o);
        json_decref(o);
        goto out;
    }
    printf("index     %llu\n", (unsigned long long)index);
    printf("size      %llu\n", (unsigned long long)size);
    printf("leaf-hash %s\n", cli_hex32(lh));
    printf("root      %s\n", cli_hex32(root));
    printf("proof     %zu hash%s:\n", n, n == 1 ? "" : "es");
    for (size_t i = 0; i < n; i++)
        printf("%s\n", cli_hex32(proof[i]));
    rv = CLI_OK;
out:
    free(leaf);
    lg_ledger_close(l);
    return rv;
}

static int log_verify(int argc, char **argv)
{
    const char *ctx = "log verify-proof";
    const char *leafarg = NULL, *lharg = NULL, *idxarg = NULL,
               *sizearg = NULL, *rootarg = NULL, *pos[CY_PROOF_MAX + 1];
    int npos, rv;
    struct cli_opt opts[] = {
        {"--leaf", CLI_OPT_STR, &leafarg},
        {"--leaf-hash", CLI_OPT_STR, &lharg},
        {"--index", CLI_OPT_STR, &idxarg},
        {"--size", CLI_OPT_STR, &sizearg},
        {"--root", CLI_OPT_STR, &rootarg},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args(ctx, VERIFY_USAGE, argc, argv, opts, pos,
                       CY_PROOF_MAX, &npos, NULL)) != 0)
        return cli_exit(rv);
    if ((leafarg == NULL) == (lharg == NULL))
        return cli_usage(ctx, VERIFY_USAGE,
                         "give one of --leaf and --leaf-hash");
    uint64_t index, size;
    if (idxarg == NULL || !cli_parse_u64(idxarg, &index))
        return cli_usage(ctx, VERIFY_USAGE, "--index: expected an index");
    if (sizearg == NULL || !cli_parse_u64(sizearg, &size))
        return cli_usage(ctx, VERIFY_USAGE, "--size: expected a tree size");
    struct cb_err err = {0, ""};
    uint8_t root[32], lh[32], proof[CY_PROOF_MAX][32];
    if (rootarg == NULL || cli_parse_hex(rootarg, root, 32, &err) != 0)
        return cli_usage(ctx, VERIFY_USAGE, "--root: expected 64 hex digits");
    for (int i = 0; i < npos; i++)
        if (cli_parse_hex(pos[i], proof[i], 32, &err) != 0)
            return cli_usage(ctx, VERIFY_USAGE,
                             "proof hash %d: expected 64 hex digits", i + 1);
    if (lharg != NULL) {
        if (cli_parse_hex(lharg, lh, 32, &err) != 0)
            return cli_usage(ctx, VERIFY_USAGE,
                             "--leaf-hash: expected 64 hex digits");
    } else {
        uint8_t *leaf;
        size_t len;
        if ((rv = cli_read_file(leafarg, &leaf, &len, LG_SIGNED_MAX,
                                &err)) != 0)
            return cli_fail_err(leafarg, rv, &err);
        cy_leaf_hash(lh, leaf, len);
        free(leaf);
    }
    rv = cy_inclusion_verify(lh, index, size, (const cy_hash *)proof,
                             (size_t)npos, root);
    if (rv != 0)
        return cli_fail(ctx, rv,
                        "the proof does not show leaf %s at index %llu in "
                        "the tree of size %llu with that root",
                        cli_hex32(lh), (unsigned long long)index,
                        (unsigned long long)size);
    printf("ok: leaf %s is entry %llu of the tree of size %llu, root %s\n",
           cli_hex32(lh), (unsigned long long)index,
           (unsigned long long)size, cli_hex32(root));
    return CLI_OK;
}

static int log_get(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *pos[1];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"-o", CLI_OPT_STR, &out},
        {"--out", CLI_OPT_STR, &out},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("log get", GET_USAGE, argc, argv, opts, pos, 1, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    uint64_t index;
    if (npos != 1)
        return cli_usage("log get", GET_USAGE, "missing INDEX");
    if (!cli_parse_u64(pos[0], &index))
        return cli_usage("log get", GET_USAGE,
                         "INDEX: \"%s\" is not an index", pos[0]);
    struct lg_ledger *l;
    uint64_t size = 0;
    if ((rv = open_sized("log get", GET_USAGE, dir, NULL, &l, &size)) != 0)
        return rv;
    uint8_t *leaf = NULL;
    size_t len = 0;
    struct cb_err err = {0, ""};
    if (index >= size) {
        rv = cli_fail("log get", CB_ERANGE, "the log has %llu entries",
                      (unsigned long long)size);
        goto out;
    }
    if ((rv = cli_log_get(l, index, &leaf, &len, &err)) != 0) {
        rv = cli_fail_err("log get", rv, &err);
        goto out;
    }
    if (out != NULL) {
        if ((rv = cli_write_atomic(out, leaf, len, 0644, &err)) != 0) {
            rv = cli_fail_err(out, rv, &err);
            goto out;
        }
        printf("%s: entry %llu (%zu bytes)\n", out, (unsigned long long)index,
               len);
        rv = CLI_OK;
        goto out;
    }
    json_t *extra = json_pack("{s:I}", "index", (json_int_t)index);
    char ctx[64];
    snprintf(ctx, sizeof ctx, "entry %llu", (unsigned long long)index);
    rv = cli_inspect(ctx, leaf, len, json, extra);
    json_decref(extra);
out:
    free(leaf);
    lg_ledger_close(l);
    return rv;
}

int cmd_log(int argc, char **argv)
{
    static const struct cli_cmd sub[] = {
        {"root", log_root, ROOT_USAGE, "tree hash of the log"},
        {"prove", log_prove, PROVE_USAGE, "inclusion proof of an entry"},
        {"verify-proof", log_verify, VERIFY_USAGE,
         "check an inclusion proof offline"},
        {"append", cmd_submit, "log append FILE.cbe... --dir D [--json]",
         "apply signed entries (same as submit)"},
        {"get", log_get, GET_USAGE, "one entry of the log"},
    };
    return cli_dispatch("credbank log", sub, sizeof sub / sizeof sub[0],
                        argc - 1, argv + 1);
}
