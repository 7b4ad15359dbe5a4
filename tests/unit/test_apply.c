/*
 * Batch apply: refused entries leave nothing behind whether they are refused
 * before their first write (the fast path, no nested transaction) or after
 * one (the batch runs again with a nested transaction per entry), and the
 * outcome is the same as applying the accepted entries alone.
 */
#include "fixture.h"

#include <lmdb.h>

#include <credbank/log.h>

static char body[512];

static const char *open_body(const struct cy_key *k, const char *degree)
{
    uint8_t pii[32], ev[32];
    cy_sha256(pii, k->pk, 32);
    cy_sha256(ev, pii, 32);
    snprintf(body, sizeof body,
             "{\"degree\":\"%s\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"high_school\"},\"fee_exempt\":false,"
             "\"learner_key\":\"%s\",\"major\":\"computer science\","
             "\"pii\":\"%s\"}",
             degree, fx_hex(ev), fx_hex(k->pk), fx_hex(pii));
    return body;
}

/* Signed account.open of learner k, with extra signer x (or none). */
static uint8_t *open_entry(struct fx *f, const struct cy_key *k,
                           const struct cy_key *x, size_t *len)
{
    return fx_build(f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                      .author = &f->bank,
                                      .body = open_body(k, "bachelor"),
                                      .signers = {k, x}}, len);
}

static void apply(struct fx *f, uint64_t seq, uint8_t **p, size_t *len,
                  size_t n, struct lg_result *res)
{
    struct lg_buf b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (struct lg_buf){p[i], len[i]};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_apply(f->l, seq, b, n, res, NULL, &err), 0, "%s",
                 err.msg);
}

/* b: an empty ledger given a's first n entries (genesis and policy). */
static void twin(struct fx *a, struct fx *b, uint64_t n)
{
    fx_open(b);
    memcpy(b->ledger, a->ledger, 32);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(a->l), NULL, MDB_RDONLY, &txn),
                 0);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *leaf;
        size_t len;
        cr_assert_eq(lg_log_get(lg_ledger_log(a->l), txn, i, &leaf, &len), 0);
        struct lg_result r;
        cr_assert_eq(fx_submit_bytes(b, leaf, len, &r), 0,
                     "%s", r.msg);
    }
    mdb_txn_abort(txn);
}

static void status(struct fx *f, struct lg_status *st)
{
    cr_assert_eq(lg_status(f->l, st), 0);
}

Test(apply, refusal_after_a_write_leaves_nothing_in_a_batch)
{
    struct fx a, b;
    fx_setup(&a);
    twin(&a, &b, 2);
    struct cy_key k2, k3;
    fx_key(&k2, "k2");
    fx_key(&k3, "k3");
    a.ts = b.ts = 1800000000000ull;

    /* e0: k2's account.open with the provider as an extra signer: the
     * handler writes the account and k2's key record before the loop finds
     * the unused signature. e1: the same learner key, properly signed — it
     * is fresh only if e0 left nothing. e2: another learner. */
    uint8_t *p[3];
    size_t len[3];
    p[0] = open_entry(&a, &k2, &a.prov, &len[0]);
    p[1] = open_entry(&a, &k2, NULL, &len[1]);
    p[2] = open_entry(&a, &k3, NULL, &len[2]);

    struct lg_status before;
    status(&a, &before);
    struct lg_result r[3];
    apply(&a, 7, p, len, 3, r);
    cr_assert_eq(r[0].code, CB_ESIGNER, "%s", r[0].msg);
    cr_assert_eq(r[1].code, 0, "%s: %s", cb_errname(r[1].code), r[1].msg);
    cr_assert_eq(r[2].code, 0, "%s: %s", cb_errname(r[2].code), r[2].msg);
    cr_assert_eq(r[1].index, before.size);
    cr_assert_eq(r[2].index, before.size + 1);

    /* The accepted entries alone, on a twin ledger: the same state. */
    struct lg_result rb[2];
    apply(&b, 7, p + 1, len + 1, 2, rb);
    cr_assert_eq(rb[0].code, 0, "%s: %s", cb_errname(rb[0].code), rb[0].msg);
    cr_assert_eq(rb[1].code, 0);
    struct lg_status sa, sb;
    status(&a, &sa);
    status(&b, &sb);
    cr_assert_eq(sa.size, before.size + 2);
    cr_assert_eq(sa.size, sb.size);
    cr_assert_eq(memcmp(sa.root, sb.root, 32), 0, "log roots differ");
    cr_assert_eq(sa.accounts, before.accounts + 2);
    cr_assert_eq(sa.accounts, sb.accounts);
    cr_assert_eq(memcmp(sa.accounts_root, sb.accounts_root, 32), 0,
                 "account trees differ");
    cr_assert_eq(sa.applied_seq, 7);
    for (int i = 0; i < 3; i++)
        free(p[i]);
    fx_teardown(&a);
    fx_teardown(&b);
}

Test(apply, refusals_before_any_write_keep_the_batch_whole)
{
    struct fx a;
    fx_setup(&a);
    struct cy_key k2, k3;
    fx_key(&k2, "k2");
    fx_key(&k3, "k3");
    /* e0 valid; e1 the same bytes again (duplicate); e2 not signed by its
     * learner (refused before it writes); e3 valid. */
    uint8_t *p[4];
    size_t len[4];
    p[0] = open_entry(&a, &k2, NULL, &len[0]);
    p[1] = malloc(len[0]);
    memcpy(p[1], p[0], len[0]);
    len[1] = len[0];
    p[2] = fx_build(&a, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                       .author = &a.bank,
                                       .body = open_body(&k3, "bachelor")},
                    &len[2]);
    p[3] = open_entry(&a, &k3, NULL, &len[3]);
    struct lg_status before, after;
    status(&a, &before);
    struct lg_result r[4];
    apply(&a, 3, p, len, 4, r);
    cr_assert_eq(r[0].code, 0);
    cr_assert_eq(r[1].code, CB_EDUPLICATE);
    cr_assert_eq(r[1].index, r[0].index, "a duplicate names the first");
    cr_assert_eq(r[2].code, CB_EMISSINGSIG, "%s", cb_errname(r[2].code));
    cr_assert_eq(r[3].code, 0, "%s: %s", cb_errname(r[3].code), r[3].msg);
    cr_assert_eq(r[3].index, r[0].index + 1);
    status(&a, &after);
    cr_assert_eq(after.size, before.size + 2);
    cr_assert_eq(after.accounts, before.accounts + 2);
    for (int i = 0; i < 4; i++)
        free(p[i]);
    fx_teardown(&a);
}

Test(apply, interleaved_refusals_after_writes_match_single_applies)
{
    /* Interleaves refusals after writes (extra signer) with valid entries
     * over a batch of 8, then checks against applying the valid ones one by
     * one on a twin ledger. */
    struct fx a, b;
    fx_setup(&a);
    twin(&a, &b, 2);
    a.ts = b.ts = 1800000000000ull;
    uint8_t *p[8];
    size_t len[8];
    struct cy_key k[8];
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        fx_key(&k[i], name);
        p[i] = open_entry(&a, &k[i], i % 3 == 1 ? &a.uni : NULL, &len[i]);
    }
    struct lg_result r[8];
    apply(&a, 1, p, len, 8, r);
    uint64_t seq = 1;
    for (int i = 0; i < 8; i++) {
        if (i % 3 == 1) {
            cr_assert_eq(r[i].code, CB_ESIGNER, "entry %d", i);
            /* its account record was written before the refusal: gone */
            json_t *v = NULL;
            struct cb_err err = {0, ""};
            cr_assert_eq(lg_account_view(a.l, r[i].id, &v, &err),
                         CB_ENOTFOUND, "entry %d left its account", i);
            cr_assert_null(v);
            /* nor its learner key record, written before the refusal */
            struct lg_key_info ki;
            cr_assert_eq(lg_key_info(a.l, k[i].pk, &ki), CB_ENOTFOUND,
                         "entry %d left its learner key", i);
            continue;
        }
        cr_assert_eq(r[i].code, 0, "entry %d: %s", i, r[i].msg);
        struct lg_result rb;
        apply(&b, seq++, &p[i], &len[i], 1, &rb);
        cr_assert_eq(rb.code, 0);
        cr_assert_eq(rb.index, r[i].index, "entry %d index", i);
    }
    struct lg_status sa, sb;
    status(&a, &sa);
    status(&b, &sb);
    cr_assert_eq(sa.size, sb.size);
    cr_assert_eq(memcmp(sa.root, sb.root, 32), 0);
    cr_assert_eq(memcmp(sa.accounts_root, sb.accounts_root, 32), 0);
    for (int i = 0; i < 8; i++)
        free(p[i]);
    fx_teardown(&a);
    fx_teardown(&b);
}

Test(apply, batches_prepared_ahead_apply_as_lg_apply_does)
{
    /* Three batches prepared before the first is applied (their memory
     * then reused by later, larger and smaller batches), one prepared batch
     * dropped unapplied: the same state as applying them one by one. */
    struct fx a, b;
    fx_setup(&a);
    twin(&a, &b, 2);
    enum { N = 24 };
    uint8_t *p[N];
    size_t len[N];
    struct lg_buf bufs[N];
    for (int i = 0; i < N; i++) {
        char name[16];
        struct cy_key k;
        snprintf(name, sizeof name, "q%d", i);
        fx_key(&k, name);
        /* every fifth carries a signer it may not have: refused */
        p[i] = open_entry(&a, &k, i % 5 == 4 ? &a.prov : NULL, &len[i]);
        bufs[i] = (struct lg_buf){p[i], len[i]};
    }
    /* batches: [0,3) [3,9) [9,10) dropped: [10,12) then [10,24) */
    size_t from[] = {0, 3, 9, 10}, cnt[] = {3, 6, 1, 14};
    struct lg_prep *pr[3];
    for (int k = 0; k < 3; k++)
        cr_assert_eq(lg_prepare(a.l, bufs + from[k], cnt[k], &pr[k]), 0);
    struct lg_prep *dropped;
    cr_assert_eq(lg_prepare(a.l, bufs + 10, 2, &dropped), 0);
    struct lg_result r[N];
    struct cb_err err = {0, ""};
    for (int k = 0; k < 3; k++)
        cr_assert_eq(lg_apply_prepared(a.l, (uint64_t)k + 1, pr[k],
                                       r + from[k], NULL, &err), 0, "%s",
                     err.msg);
    lg_prep_free(dropped);
    struct lg_prep *last;
    cr_assert_eq(lg_prepare(a.l, bufs + 10, 14, &last), 0);
    cr_assert_eq(lg_apply_prepared(a.l, 4, last, r + 10, NULL, &err), 0);

    uint64_t seq = 1;
    for (int i = 0; i < N; i++) {
        struct lg_result rb;
        apply(&b, seq++, &p[i], &len[i], 1, &rb);
        cr_assert_eq(r[i].code, rb.code, "entry %d: %s vs %s", i,
                     cb_errname(r[i].code), cb_errname(rb.code));
        if (i % 5 == 4)
            cr_assert_eq(r[i].code, CB_ESIGNER);
        else
            cr_assert_eq(r[i].index, rb.index, "entry %d", i);
    }
    struct lg_status sa, sb;
    status(&a, &sa);
    status(&b, &sb);
    cr_assert_eq(sa.size, sb.size);
    cr_assert_eq(memcmp(sa.root, sb.root, 32), 0);
    cr_assert_eq(memcmp(sa.accounts_root, sb.accounts_root, 32), 0);
    cr_assert_eq(sa.applied_seq, 4);
    for (int i = 0; i < N; i++)
        free(p[i]);
    fx_teardown(&a);
    fx_teardown(&b);
}

Test(apply, entries_decoded_by_the_caller_apply_as_lg_apply_does)
{
    /* lg_apply_decoded (the offline verifier's replay) takes entries the
     * caller decoded: the same outcomes and state as lg_apply, and it still
     * checks every signature (a flipped one is refused, not trusted). */
    struct fx a, b;
    fx_setup(&a);
    twin(&a, &b, 2);
    enum { N = 12 };
    uint8_t *p[N];
    size_t len[N];
    struct lg_buf bufs[N];
    struct lg_signed s[N];
    const struct lg_signed *sp[N];
    uint8_t leaf[N][32];
    const uint8_t *lp[N];
    for (int i = 0; i < N; i++) {
        char name[16];
        struct cy_key k;
        snprintf(name, sizeof name, "d%d", i);
        fx_key(&k, name);
        /* every fourth has a signer it may not have; entry 5 a bad sig */
        p[i] = open_entry(&a, &k, i % 4 == 3 ? &a.prov : NULL, &len[i]);
        if (i == 5)
            p[i][len[i] - 1] ^= 0x01; /* the last signature's last byte */
        bufs[i] = (struct lg_buf){p[i], len[i]};
        lg_signed_init(&s[i]);
        cr_assert_eq(lg_signed_decode(&s[i], p[i], len[i], NULL), 0);
        cy_leaf_hash(leaf[i], p[i], len[i]);
        sp[i] = &s[i];
        lp[i] = leaf[i];
    }
    struct lg_result ra[N], rb[N];
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_apply_decoded(a.l, sp, lp, N, ra, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(lg_apply(b.l, 0, bufs, N, rb, NULL, &err), 0, "%s",
                 err.msg);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(ra[i].code, rb[i].code, "entry %d: %s vs %s", i,
                     cb_errname(ra[i].code), cb_errname(rb[i].code));
        cr_assert_eq(memcmp(ra[i].id, rb[i].id, 32), 0, "entry %d", i);
        if (i == 5)
            cr_assert_eq(ra[i].code, CB_EBADSIG);
        else if (i % 4 == 3)
            cr_assert_eq(ra[i].code, CB_ESIGNER);
        else
            cr_assert_eq(ra[i].index, rb[i].index, "entry %d", i);
    }
    struct lg_status sa, sb;
    status(&a, &sa);
    status(&b, &sb);
    cr_assert_eq(sa.size, 2 + N - 4);
    cr_assert_eq(sa.size, sb.size);
    cr_assert_eq(memcmp(sa.root, sb.root, 32), 0);
    cr_assert_eq(memcmp(sa.accounts_root, sb.accounts_root, 32), 0);
    for (int i = 0; i < N; i++) {
        lg_signed_release(&s[i]);
        free(p[i]);
    }
    fx_teardown(&a);
    fx_teardown(&b);
}
