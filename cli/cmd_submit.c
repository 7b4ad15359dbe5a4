/*
 * credbank submit FILE.cbe... --dir LEDGERDIR [--json]
 *                                        (also: credbank log append)
 *
 * Applies the signed entries, in the order given, as one batch through the
 * state machine of the local ledger in LEDGERDIR (created when absent, for
 * a genesis entry). Prints each entry's index and fee, or its refusal with
 * the rule's error name; exit 1 when any entry was refused. An entry that is
 * already in the log counts as applied (its earlier index is printed), as
 * the node answers a retried submission.
 *
 * With --node URL (or CREDBANK_NODE, when --dir is not given) the files are
 * POSTed one by one to credbankd instead (remote.c: a not_leader answer is
 * followed to the leader, unavailable is retried); each answer comes once
 * the entry is in a final checkpoint, or at local apply with --wait
 * applied.
 */
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                                 \
    "submit FILE.cbe... (--dir LEDGERDIR | --node URL [--wait applied]) "    \
    "[--json]"
#define MAX_FILES 4096

/* Submits the files to a node, in order, one request each. */
static int submit_node(const char *ctx, const char *url, const char **files,
                       int n, bool wait_applied, bool json)
{
    struct cli_url u;
    int rv = cli_node_parse(ctx, USAGE, url, &u);
    if (rv != 0)
        return rv;
    json_t *arr = json ? json_array() : NULL;
    bool all = true;
    rv = CLI_OK;
    for (int i = 0; i < n && rv == CLI_OK; i++) {
        uint8_t *p = NULL;
        size_t len = 0;
        struct cb_err err = {0, ""};
        if ((rv = cli_read_file(files[i], &p, &len, LG_SIGNED_MAX, &err)) !=
            0) {
            rv = cli_fail_err(files[i], rv, &err);
            break;
        }
        struct cli_submit_res res;
        rv = cli_node_submit(&u, p, len, wait_applied, 0, &res, &err);
        free(p);
        if (rv != 0) {
            char c[1100];
            snprintf(c, sizeof c, "%s: %s", ctx, files[i]);
            rv = cli_fail_err(c, rv, &err);
            break;
        }
        rv = CLI_OK;
        if (res.ok) {
            if (json) {
                json_t *o = json_pack("{s:s,s:s,s:I,s:s}", "file", files[i],
                                      "id", res.id, "index",
                                      (json_int_t)res.index, "node",
                                      res.leader);
                if (res.final > 0)
                    json_object_set_new(o, "final",
                                        json_integer((json_int_t)res.final));
                json_array_append_new(arr, o);
            } else if (res.final > 0) {
                printf("%s: index %llu, final (checkpoint of %llu entries), "
                       "id %s\n",
                       files[i], (unsigned long long)res.index,
                       (unsigned long long)res.final, res.id);
            } else {
                printf("%s: applied at index %llu, id %s\n", files[i],
                       (unsigned long long)res.index, res.id);
            }
            continue;
        }
        all = false;
        if (json)
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:i,s:s}", "file", files[i],
                               "error", res.error, "message", res.message,
                               "status", res.http, "node", res.leader));
        if (res.http >= 400 && res.http < 500)
            fprintf(stderr, "credbank: %s: refused: %s (%s)\n", files[i],
                    res.message, res.error);
        else
            fprintf(stderr, "credbank: %s: %s: %s (%s)\n", files[i],
                    res.leader, res.message, res.error);
    }
    cli_http_close();
    if (json) {
        json_t *o = json_pack("{s:b,s:s,s:O}", "ok", all && rv == CLI_OK,
                              "node", u.base, "results", arr);
        cli_json_print(o);
        json_decref(o);
    }
    json_decref(arr);
    if (rv == CLI_OK && !all)
        rv = CLI_FAIL;
    return rv;
}

int cmd_submit(int argc, char **argv)
{
    const char *dir = NULL, *node = NULL, *wait = NULL, *pos[MAX_FILES];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--node", CLI_OPT_STR, &node},
        {"--wait", CLI_OPT_STR, &wait},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    const char *ctx = strcmp(argv[0], "append") == 0 ? "log append" : "submit";
    if ((rv = cli_args(ctx, USAGE, argc, argv, opts, pos, MAX_FILES, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    if (npos < 1)
        return cli_usage(ctx, USAGE, "missing FILE.cbe");
    if (dir != NULL && node != NULL)
        return cli_usage(ctx, USAGE, "--dir and --node exclude each other");
    if (wait != NULL && strcmp(wait, "applied") != 0 &&
        strcmp(wait, "final") != 0)
        return cli_usage(ctx, USAGE, "--wait: applied or final");
    if (dir == NULL && (node = cli_node_url(node)) != NULL)
        return submit_node(ctx, node, pos, npos,
                           wait != NULL && strcmp(wait, "applied") == 0,
                           json);
    if (wait != NULL)
        return cli_usage(ctx, USAGE, "--wait goes with --node");
    if (dir == NULL)
        return cli_usage(ctx, USAGE, "missing --dir or --node (or "
                         "CREDBANK_NODE)");

    struct lg_buf *bufs = calloc((size_t)npos, sizeof *bufs);
    struct lg_result *res = calloc((size_t)npos, sizeof *res);
    struct lg_ledger *l = NULL;
    json_t *arr = NULL;
    struct cb_err err = {0, ""};
    rv = CLI_FAIL;
    if (bufs == NULL || res == NULL) {
        cli_fail(ctx, CB_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < npos; i++) {
        uint8_t *p;
        size_t len;
        if ((rv = cli_read_file(pos[i], &p, &len, LG_SIGNED_MAX, &err)) !=
            0) {
            rv = cli_fail_err(pos[i], rv, &err);
            goto out;
        }
        bufs[i].p = p;
        bufs[i].len = len;
    }
    if ((rv = cli_ledger_open(dir, true, &l)) != 0)
        goto out;
    if (json)
        arr = json_array();
    rv = cli_apply(l, bufs, (size_t)npos, pos, arr, false, res);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(rv == CLI_OK));
        json_object_set(o, "results", arr);
        cli_json_print(o);
        json_decref(o);
    }
out:
    json_decref(arr);
    if (l != NULL)
        lg_ledger_close(l);
    for (int i = 0; bufs != NULL && i < npos; i++)
        free((void *)bufs[i].p);
    free(bufs);
    free(res);
    return rv;
}
