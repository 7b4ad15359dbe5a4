/*
 * credbank seal --dir D --key NODE.key [-o SEAL.cbe]
 * credbank cosign --dir D --key NODE.key --name MEMBER [-o COSIGN.cbe]
 *
 * Local, single-process stand-ins for what each member's node does (DESIGN
 * 3.4) until credbankd exists: `seal` builds the seal the ledger would
 * append next (lg_seal_body), signs it with the node key and applies it;
 * `cosign` signs the checkpoint body of the newest seal
 * (lg_checkpoint_body) as a signed-note signature of MEMBER's node key and
 * applies the cosign entry. The state machine judges both like any entry.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_USAGE "seal --dir D --key NODE.key [-o SEAL.cbe]"
#define COSIGN_USAGE "cosign --dir D --key NODE.key --name MEMBER [-o FILE.cbe]"

int cli_seal_make(struct lg_ledger *l, const struct cy_key *node, uint64_t ts,
                  struct lg_w *out, uint8_t id[32], struct cb_err *err)
{
    struct lg_status st;
    int rv = lg_status(l, &st);
    if (rv != 0)
        return cb_errf(err, rv, "cannot read the ledger head");
    struct lg_w body;
    lg_w_init(&body);
    rv = lg_seal_body(l, &body);
    if (rv == 0)
        rv = lg_w_error(&body);
    if (rv != 0) {
        if (rv == CB_ESEALEMPTY)
            cb_errf(err, rv, "nothing to seal: no entry since the last seal");
        else
            cb_errf(err, rv, "cannot compute the seal: %s", cb_strerror(rv));
        goto out;
    }
    if (ts == 0)
        ts = cli_now_ms();
    if (st.has_seal && ts < st.last_seal_ts)
        ts = st.last_seal_ts;
    struct cli_entry e = {
        .type = LG_T_SEAL,
        .author = node,
        .ledger = st.ledger_id,
        .ts = ts,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    rv = cli_entry_make(&e, out, id, err);
out:
    lg_w_release(&body);
    return rv;
}

int cli_cosign_make(struct lg_ledger *l, const struct cy_key *node,
                    uint64_t ts, struct lg_w *out, uint64_t *seal,
                    struct cb_err *err)
{
    struct lg_status st;
    int rv = lg_status(l, &st);
    if (rv != 0)
        return cb_errf(err, rv, "cannot read the ledger head");
    if (!st.has_seal)
        return cb_errf(err, CB_ENOTFOUND, "the ledger has no seal yet");
    char note[512];
    size_t nlen = 0;
    rv = lg_checkpoint_body(l, st.last_seal, note, sizeof note, &nlen);
    if (rv != 0)
        return cb_errf(err, rv, "cannot compute the checkpoint of seal %llu",
                       (unsigned long long)st.last_seal);
    /* the seal's entry id, for refs */
    uint8_t *leaf = NULL;
    size_t len = 0;
    if ((rv = cli_log_get(l, st.last_seal, &leaf, &len, err)) != 0)
        return rv;
    struct lg_signed s;
    lg_signed_init(&s);
    rv = lg_signed_decode(&s, leaf, len, err);
    uint8_t seal_id[32];
    if (rv == 0)
        memcpy(seal_id, s.e.id, 32);
    lg_signed_release(&s);
    free(leaf);
    if (rv != 0)
        return cb_errwrap(err, "seal at %llu",
                          (unsigned long long)st.last_seal);

    uint8_t sig[64];
    cy_sign(sig, note, nlen, node);
    struct lg_w body;
    lg_w_init(&body);
    lg_w_map(&body, 2); /* keys in canonical order: sig, size */
    lg_w_cstr(&body, "sig");
    lg_w_bin(&body, sig, 64);
    lg_w_cstr(&body, "size");
    lg_w_uint(&body, st.last_seal);
    if ((rv = lg_w_error(&body)) != 0) {
        lg_w_release(&body);
        return cb_errf(err, rv, "out of memory");
    }
    const uint8_t(*refs)[32] = (const uint8_t(*)[32])seal_id;
    struct cli_entry e = {
        .type = LG_T_COSIGN,
        .author = node,
        .ledger = st.ledger_id,
        .ts = ts,
        .refs = refs,
        .nrefs = 1,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    rv = cli_entry_make(&e, out, NULL, err);
    lg_w_release(&body);
    if (rv == 0 && seal != NULL)
        *seal = st.last_seal;
    return rv;
}

/* Applies the entry in w and reports it; writes it to out when given. */
static int apply_one(struct lg_ledger *l, const char *what, struct lg_w *w,
                     const char *out)
{
    struct cb_err err = {0, ""};
    if (out != NULL &&
        cli_write_atomic(out, lg_w_data(w), lg_w_len(w), 0644, &err) != 0)
        return cli_fail_err(out, err.code, &err);
    struct lg_buf b = {lg_w_data(w), lg_w_len(w)};
    const char *labels[1] = {what};
    return cli_apply(l, &b, 1, labels, NULL, false, NULL);
}

/* --name must be a member; its node key in force should be k (a cosign
 * by a key rotated since the seal is still valid, so that is a warning and
 * the state machine decides). */
static int check_member(struct lg_ledger *l, const char *name,
                        const struct cy_key *k)
{
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    int rv = lg_members_view(l, &v, &err);
    if (rv != 0)
        return cli_fail_err("cosign", rv, &err);
    json_t *members = json_object_get(v, "members");
    json_t *m = NULL;
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *x = json_array_get(members, i);
        const char *n = json_string_value(json_object_get(x, "name"));
        if (n != NULL && strcmp(n, name) == 0)
            m = x;
    }
    if (m == NULL) {
        json_decref(v);
        return cli_fail("cosign", CB_EMEMBER, "no member named \"%s\"", name);
    }
    const char *node = json_string_value(json_object_get(m, "node"));
    if (node != NULL && strcmp(node, cli_hex32(k->pk)) != 0)
        fprintf(stderr, "credbank: cosign: warning: %s is not the node key "
                "of %s in force\n", k->name, name);
    json_decref(v);
    return 0;
}

static int seal_or_cosign(int argc, char **argv, bool cosign)
{
    const char *ctx = cosign ? "cosign" : "seal";
    const char *usage = cosign ? COSIGN_USAGE : SEAL_USAGE;
    const char *dir = NULL, *keyfile = NULL, *name = NULL, *out = NULL,
               *pos[1];
    int npos, rv;
    struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--key", CLI_OPT_STR, &keyfile},
        {"-o", CLI_OPT_STR, &out},
        {"--out", CLI_OPT_STR, &out},
        {cosign ? "--name" : "--no-such-option", CLI_OPT_STR, &name},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args(ctx, usage, argc, argv, opts, pos, 0, &npos, NULL)) !=
        0)
        return cli_exit(rv);
    if (dir == NULL)
        return cli_usage(ctx, usage, "missing --dir");
    if (keyfile == NULL)
        return cli_usage(ctx, usage, "missing --key");
    if (cosign && name == NULL)
        return cli_usage(ctx, usage, "missing --name");
    if (cosign && !cy_name_valid(name))
        return cli_usage(ctx, usage, "--name: \"%s\" is not a member name",
                         name);
    struct cy_key k;
    if ((rv = cli_key_load(keyfile, &k)) != 0)
        return rv;
    struct lg_ledger *l = NULL;
    struct lg_w w;
    lg_w_init(&w);
    struct cb_err err = {0, ""};
    if ((rv = cli_ledger_open(dir, false, &l)) != 0)
        goto out;
    if (cosign && (rv = check_member(l, name, &k)) != 0)
        goto out;
    if (cosign) {
        uint64_t seal;
        if ((rv = cli_cosign_make(l, &k, 0, &w, &seal, &err)) != 0) {
            rv = cli_fail_err(ctx, rv, &err);
            goto out;
        }
        char what[160];
        snprintf(what, sizeof what, "cosign of seal %llu by %s",
                 (unsigned long long)seal, name);
        if ((rv = apply_one(l, what, &w, out)) != 0)
            goto out;
        char vk[CY_VKEY_MAX];
        cli_vkey(vk, name, k.pk);
        printf("verifier key of these signatures: %s\n", vk);
        struct lg_status st;
        if (lg_status(l, &st) == 0 && st.has_final && st.final_seal == seal)
            printf("seal %llu is final: credbank checkpoint --dir %s\n",
                   (unsigned long long)seal, dir);
    } else {
        uint8_t id[32];
        if ((rv = cli_seal_make(l, &k, 0, &w, id, &err)) != 0) {
            rv = cli_fail_err(ctx, rv, &err);
            goto out;
        }
        rv = apply_one(l, "seal", &w, out);
    }
out:
    cy_key_wipe(&k);
    lg_w_release(&w);
    if (l != NULL)
        lg_ledger_close(l);
    return rv;
}

int cmd_seal(int argc, char **argv)
{
    return seal_or_cosign(argc, argv, false);
}

int cmd_cosign(int argc, char **argv)
{
    return seal_or_cosign(argc, argv, true);
}
