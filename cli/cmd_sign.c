/*
 * credbank sign FILE.cbe --key K.key [-o OUT.cbe]     (also: entry sign)
 *
 * Adds K's signature to a signed entry (lg_signed_cosign): the learner of an
 * account.open, governance co-signers, a new key of key.rotate, the founders
 * of genesis. Rewrites FILE in place (atomically) unless -o names another
 * file. The existing signatures are not checked here: `entry inspect` and
 * `submit` do that.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#define USAGE "sign FILE.cbe --key K.key [-o OUT.cbe]"

int cmd_sign(int argc, char **argv)
{
    const char *keyfile = NULL, *out = NULL, *pos[1];
    int npos, rv;
    struct cli_opt opts[] = {
        {"--key", CLI_OPT_STR, &keyfile},
        {"-o", CLI_OPT_STR, &out},
        {"--out", CLI_OPT_STR, &out},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("sign", USAGE, argc, argv, opts, pos, 1, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    if (npos != 1)
        return cli_usage("sign", USAGE, "missing FILE.cbe");
    if (keyfile == NULL)
        return cli_usage("sign", USAGE, "missing --key");
    const char *in = pos[0];
    if (out == NULL)
        out = in;

    uint8_t *buf = NULL;
    size_t len = 0;
    struct cb_err err = {0, ""};
    rv = cli_read_file(in, &buf, &len, LG_SIGNED_MAX, &err);
    if (rv != 0)
        return cli_fail_err(in, rv, &err);
    struct cy_key k;
    if ((rv = cli_key_load(keyfile, &k)) != 0) {
        free(buf);
        return rv;
    }
    struct lg_w w;
    lg_w_init(&w);
    rv = lg_signed_cosign(&w, buf, len, &k, &err);
    char vkey[CY_VKEY_MAX];
    cli_vkey(vkey, k.name, k.pk);
    cy_key_wipe(&k);
    if (rv != 0) {
        rv = cli_fail_err(in, rv, &err);
        goto out;
    }
    rv = cli_write_atomic(out, lg_w_data(&w), lg_w_len(&w), 0644, &err);
    if (rv != 0) {
        rv = cli_fail_err(out, rv, &err);
        goto out;
    }
    struct lg_signed s;
    lg_signed_init(&s);
    if (lg_signed_decode(&s, lg_w_data(&w), lg_w_len(&w), NULL) == 0)
        printf("%s: signed by %s (%zu signatures)\n", out, vkey, s.nsigs);
    lg_signed_release(&s);
    rv = CLI_OK;
out:
    lg_w_release(&w);
    free(buf);
    return rv;
}
