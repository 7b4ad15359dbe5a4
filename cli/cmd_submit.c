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
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "submit FILE.cbe... --dir LEDGERDIR [--json]"
#define MAX_FILES 4096

int cmd_submit(int argc, char **argv)
{
    const char *dir = NULL, *pos[MAX_FILES];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    const char *ctx = strcmp(argv[0], "append") == 0 ? "log append" : "submit";
    if ((rv = cli_args(ctx, USAGE, argc, argv, opts, pos, MAX_FILES, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    if (npos < 1)
        return cli_usage(ctx, USAGE, "missing FILE.cbe");
    if (dir == NULL)
        return cli_usage(ctx, USAGE, "missing --dir");

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
