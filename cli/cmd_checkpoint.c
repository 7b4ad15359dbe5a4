/*
 * credbank checkpoint --dir D [--json] [--vkeys FILE]
 *
 * Prints the newest final checkpoint note (lg_checkpoint_note): the C2SP
 * tlog-checkpoint body and the signature lines of the first cosign_quorum
 * cosigns. With --vkeys (one signed-note verifier key per line, as the demo
 * writes) it also verifies the note as any signed-note verifier would:
 * unknown keys are ignored, a bad signature by a known key rejects it.
 *
 * With --node URL (or CREDBANK_NODE when --dir is not given) the note comes
 * from a running credbankd (GET /v1/checkpoint; the cosign quorum for
 * --vkeys from GET /v1/status).
 */
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "checkpoint (--dir D | --node URL) [--json] [--vkeys FILE]"

struct vk {
    char name[CY_NAME_MAX + 1];
    uint8_t pk[32];
    uint8_t hash[4];
    bool seen;
};

int cli_note_verify(const char *note, const char *vkeys, size_t *nvalid,
                    char *names, size_t cap, uint64_t *size,
                    uint8_t root[32], struct cb_err *err)
{
    struct vk keys[64];
    size_t nkeys = 0;
    int rv = 0;
    *nvalid = 0;
    if (names != NULL && cap > 0)
        names[0] = '\0';
    /* verifier keys, one per line */
    for (const char *p = vkeys; p != NULL && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[CY_VKEY_MAX + 8];
        if (n > 0 && n < sizeof line && nkeys < 64) {
            memcpy(line, p, n);
            line[n] = '\0';
            if (cy_note_vkey_parse(line, keys[nkeys].name, keys[nkeys].pk) !=
                0)
                return cb_errf(err, CB_EVALUE, "bad verifier key \"%s\"",
                               line);
            cy_note_keyhash(keys[nkeys].hash, keys[nkeys].name,
                            keys[nkeys].pk);
            keys[nkeys].seen = false;
            nkeys++;
        }
        p = nl ? nl + 1 : NULL;
    }
    /* body: three lines, then an empty line */
    const char *end = strstr(note, "\n\n");
    if (end == NULL)
        return cb_errf(err, CB_EVALUE, "note: no blank line after the body");
    size_t blen = (size_t)(end - note) + 1;
    const char *l2 = memchr(note, '\n', blen);
    const char *l3 = l2 ? memchr(l2 + 1, '\n', blen - (size_t)(l2 + 1 - note))
                        : NULL;
    if (l2 == NULL || l3 == NULL || l3 + 1 == note + blen)
        return cb_errf(err, CB_EVALUE, "note: the body is not three lines");
    char num[32];
    size_t numlen = (size_t)(l3 - l2 - 1);
    if (numlen == 0 || numlen >= sizeof num)
        return cb_errf(err, CB_EVALUE, "note: bad tree size");
    memcpy(num, l2 + 1, numlen);
    num[numlen] = '\0';
    uint64_t sz;
    if (!cli_parse_u64(num, &sz))
        return cb_errf(err, CB_EVALUE, "note: bad tree size");
    if (size != NULL)
        *size = sz;
    const char *b64 = l3 + 1;
    size_t b64len = (size_t)(note + blen - 1 - b64);
    uint8_t rbuf[33];
    size_t rlen = 0;
    if (cy_unb64(rbuf, sizeof rbuf, &rlen, b64, b64len) != 0 || rlen != 32)
        return cb_errf(err, CB_EVALUE, "note: bad root hash");
    if (root != NULL)
        memcpy(root, rbuf, 32);
    /* signature lines */
    static const char dash[] = "\xe2\x80\x94 ";
    for (const char *p = end + 2; *p;) {
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            return cb_errf(err, CB_EVALUE, "note: unterminated line");
        size_t n = (size_t)(nl - p);
        if (n < 4 || memcmp(p, dash, 4) != 0)
            return cb_errf(err, CB_EVALUE, "note: bad signature line");
        const char *name = p + 4;
        const char *sp = memchr(name, ' ', (size_t)(nl - name));
        if (sp == NULL)
            return cb_errf(err, CB_EVALUE, "note: bad signature line");
        uint8_t sig[4 + 64 + 8];
        size_t slen = 0;
        if (cy_unb64(sig, sizeof sig, &slen, sp + 1, (size_t)(nl - sp - 1)) !=
                0 ||
            slen < 5)
            return cb_errf(err, CB_EVALUE, "note: bad signature encoding");
        size_t namelen = (size_t)(sp - name);
        for (size_t i = 0; i < nkeys; i++) {
            if (strlen(keys[i].name) != namelen ||
                memcmp(keys[i].name, name, namelen) != 0 ||
                memcmp(keys[i].hash, sig, 4) != 0)
                continue;
            if (slen != 68 || cy_verify(sig + 4, note, blen, keys[i].pk) != 0)
                return cb_errf(err, CB_EBADSIG,
                               "note: the signature of %s does not verify",
                               keys[i].name);
            if (!keys[i].seen) {
                keys[i].seen = true;
                (*nvalid)++;
                if (names != NULL && cap > 0) {
                    if (names[0])
                        strncat(names, ", ", cap - strlen(names) - 1);
                    strncat(names, keys[i].name, cap - strlen(names) - 1);
                }
            }
        }
        p = nl + 1;
    }
    return rv;
}

/* The newest final checkpoint note of a node; *seal and *quorum from its
 * status. */
static int note_from_node(const char *url, char **note, uint64_t *seal,
                          uint64_t *quorum)
{
    struct cli_url u;
    int rv = cli_node_parse("checkpoint", USAGE, url, &u);
    if (rv != 0)
        return rv;
    size_t len = 0;
    json_t *st = NULL;
    if ((rv = cli_node_get_raw("checkpoint", &u, "/v1/checkpoint",
                               "text/plain", note, &len)) != 0 ||
        (rv = cli_node_get_json("checkpoint", &u, "/v1/status", &st)) != 0)
        goto out;
    if (strlen(*note) != len) {
        rv = cli_fail("checkpoint", CB_EIO, "%s/v1/checkpoint: not a note",
                      u.base);
        goto out;
    }
    /* the note's own size, not the status's (it may have moved on) */
    const char *nl = strchr(*note, '\n');
    uint64_t size = 0;
    char num[32];
    const char *e = nl ? strchr(nl + 1, '\n') : NULL;
    if (e == NULL || e - nl - 1 <= 0 || e - nl - 1 >= (long)sizeof num) {
        rv = cli_fail("checkpoint", CB_EIO, "%s/v1/checkpoint: not a note",
                      u.base);
        goto out;
    }
    memcpy(num, nl + 1, (size_t)(e - nl - 1));
    num[e - nl - 1] = '\0';
    if (!cli_parse_u64(num, &size) || size == 0) {
        rv = cli_fail("checkpoint", CB_EIO, "%s/v1/checkpoint: bad size",
                      u.base);
        goto out;
    }
    *seal = size - 1;
    *quorum = (uint64_t)json_integer_value(json_object_get(st,
                                                           "cosign_quorum"));
out:
    json_decref(st);
    cli_http_close();
    if (rv != 0) {
        free(*note);
        *note = NULL;
    }
    return rv;
}

/* The newest final checkpoint note of a local ledger. */
static int note_from_dir(const char *dir, char **note, uint64_t *seal,
                         uint64_t *quorum)
{
    struct lg_ledger *l;
    struct cb_err err = {0, ""};
    int rv = cli_ledger_open(dir, false, &l);
    if (rv != 0)
        return rv;
    struct lg_status st;
    rv = lg_status(l, &st);
    if (rv != 0) {
        rv = cli_fail("checkpoint", rv, "cannot read the ledger head");
        goto out;
    }
    if (!st.has_final) {
        rv = cli_fail("checkpoint", CB_ENOTFOUND,
                      "no final checkpoint yet (seal, then cosign by %llu "
                      "members)",
                      (unsigned long long)st.cosign_quorum);
        goto out;
    }
    if ((rv = lg_checkpoint_note(l, st.final_seal, note, &err)) != 0) {
        rv = cli_fail_err("checkpoint", rv, &err);
        goto out;
    }
    *seal = st.final_seal;
    *quorum = st.cosign_quorum;
out:
    lg_ledger_close(l);
    return rv;
}

int cmd_checkpoint(int argc, char **argv)
{
    const char *dir = NULL, *node = NULL, *vkfile = NULL, *pos[1];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--node", CLI_OPT_STR, &node},
        {"--vkeys", CLI_OPT_STR, &vkfile},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("checkpoint", USAGE, argc, argv, opts, pos, 0, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    if (dir != NULL && node != NULL)
        return cli_usage("checkpoint", USAGE,
                         "--dir and --node exclude each other");
    if (dir == NULL && (node = cli_node_url(node)) == NULL)
        return cli_usage("checkpoint", USAGE,
                         "missing --dir or --node (or CREDBANK_NODE)");
    struct cb_err err = {0, ""};
    uint8_t *vkeys = NULL;
    size_t vlen;
    if (vkfile != NULL &&
        (rv = cli_read_file(vkfile, &vkeys, &vlen, 1 << 20, &err)) != 0)
        return cli_fail_err(vkfile, rv, &err);
    char *note = NULL;
    uint64_t seal = 0, quorum = 0;
    rv = dir != NULL ? note_from_dir(dir, &note, &seal, &quorum)
                     : note_from_node(node, &note, &seal, &quorum);
    if (rv != 0)
        goto out;
    size_t nvalid = 0;
    char names[512] = "";
    if (vkeys != NULL) {
        rv = cli_note_verify(note, (const char *)vkeys, &nvalid, names,
                             sizeof names, NULL, NULL, &err);
        if (rv != 0) {
            rv = cli_fail_err("checkpoint", rv, &err);
            goto out;
        }
        if (nvalid < quorum || nvalid == 0) {
            rv = cli_fail("checkpoint", CB_EQUORUM,
                          "%zu known signatures verify, %llu needed", nvalid,
                          (unsigned long long)quorum);
            goto out;
        }
    }
    if (json) {
        json_t *o = json_pack("{s:I,s:I,s:s}", "seal", (json_int_t)seal,
                              "size", (json_int_t)(seal + 1), "note", note);
        if (o != NULL && vkeys != NULL)
            json_object_set_new(o, "verified_by", json_string(names));
        rv = cli_json_print(o);
        json_decref(o);
    } else {
        fputs(note, stdout);
        if (vkeys != NULL)
            fprintf(stderr, "credbank: checkpoint verified: %zu of %llu "
                    "needed signatures (%s)\n",
                    nvalid, (unsigned long long)quorum, names);
        rv = CLI_OK;
    }
out:
    free(note);
    free(vkeys);
    return rv;
}
