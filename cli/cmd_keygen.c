/*
 * credbank keygen NAME [-o FILE]
 *
 * Makes a fresh Ed25519 key named NAME (the signed-note key name, 1-64
 * characters of A-Za-z0-9._-), writes its private key string
 * PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)> to FILE (default
 * NAME.key; mode 0600; an existing file is never overwritten) and prints the
 * verifier key <name>+<hash>+<base64(0x01 || public key)>.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define USAGE "keygen NAME [-o FILE] [--json]"

int cmd_keygen(int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"-o", CLI_OPT_STR, &out},
        {"--out", CLI_OPT_STR, &out},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("keygen", USAGE, argc, argv, opts, pos, 1, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    if (npos != 1)
        return cli_usage("keygen", USAGE, "missing NAME");
    const char *name = pos[0];
    if (!cy_name_valid(name))
        return cli_usage("keygen", USAGE,
                         "name \"%s\" must be 1-64 characters of "
                         "A-Za-z0-9._-",
                         name);
    char path[4096];
    if (out == NULL)
        snprintf(path, sizeof path, "%s.key", name);
    else
        snprintf(path, sizeof path, "%s", out);

    struct cy_key k;
    struct cb_err err = {0, ""};
    rv = cy_key_generate(&k, name);
    if (rv != 0) {
        cy_key_wipe(&k);
        return cli_fail("keygen", rv, "cannot generate a key");
    }
    rv = cy_keyfile_write(path, &k, &err);
    if (rv != 0) {
        cy_key_wipe(&k);
        return cli_fail_err(path, rv, &err);
    }
    char vkey[CY_VKEY_MAX];
    rv = cy_note_vkey(vkey, sizeof vkey, name, k.pk);
    char hex[65];
    cy_hex(hex, k.pk, 32);
    cy_key_wipe(&k);
    if (rv != 0)
        return cli_fail("keygen", rv, "cannot format the verifier key");
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "file",
                              path, "vkey", vkey, "public_key", hex);
        rv = cli_json_print(o);
        json_decref(o);
        return rv;
    }
    printf("%s\n", vkey);
    fprintf(stderr, "credbank: wrote %s (keep it secret)\n", path);
    return CLI_OK;
}
