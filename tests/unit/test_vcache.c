/* The leader's verified-signature cache (ledger/ledger.c): lg_check
 * remembers the leaf hash of bytes whose signatures verified, and apply
 * skips verifying exactly those bytes again. It must never let other
 * bytes through: a signature changed after the check, an entry whose
 * check failed, or a batch mixing checked and unchecked entries. */
#include "fixture.h"

static struct fx f;

static void setup(void) { fx_setup(&f); }
static void teardown(void) { fx_teardown(&f); }

TestSuite(vcache, .init = setup, .fini = teardown);

static uint8_t *account_open(const char *who, size_t *len)
{
    struct cy_key k;
    fx_key(&k, who);
    char body[512];
    uint8_t pii[32], ev[32];
    cy_sha256(pii, k.pk, 32);
    cy_sha256(ev, pii, 32);
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"high_school\"},\"fee_exempt\":false,"
             "\"learner_key\":\"%s\",\"major\":\"computer science\","
             "\"pii\":\"%s\"}",
             fx_hex(ev), fx_hex(k.pk), fx_hex(pii));
    return fx_build(&f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                       .author = &f.bank, .body = body,
                                       .signers = {&k}},
                    len);
}

Test(vcache, checked_bytes_apply_with_the_same_outcome)
{
    size_t len;
    uint8_t *p = account_open("learner-a", &len);
    struct lg_result r;
    cr_assert_eq(lg_check(f.l, p, len, &r), 0);
    cr_assert_eq(r.code, 0, "%s", r.msg);
    cr_assert_eq(fx_submit_bytes(&f, p, len, &r), 0, "%s", r.msg);
    /* and again: now a duplicate, as without the cache */
    cr_assert_eq(fx_submit_bytes(&f, p, len, &r), CB_EDUPLICATE);
    free(p);
}

Test(vcache, a_signature_changed_after_the_check_is_refused)
{
    size_t len;
    uint8_t *p = account_open("learner-b", &len);
    struct lg_result r;
    cr_assert_eq(lg_check(f.l, p, len, &r), 0);
    cr_assert_eq(r.code, 0, "%s", r.msg);
    p[len - 1] ^= 0x01; /* the last signature's last byte */
    cr_assert_eq(fx_submit_bytes(&f, p, len, &r), CB_EBADSIG, "%s: %s",
                 cb_errname(r.code), r.msg);
    free(p);
}

Test(vcache, bytes_whose_check_failed_are_verified_again_and_refused)
{
    size_t len;
    uint8_t *p = account_open("learner-c", &len);
    p[len - 1] ^= 0x01;
    struct lg_result r;
    cr_assert_eq(lg_check(f.l, p, len, &r), 0);
    cr_assert_eq(r.code, CB_EBADSIG);
    cr_assert_eq(fx_submit_bytes(&f, p, len, &r), CB_EBADSIG);
    free(p);
}

Test(vcache, a_batch_of_checked_and_unchecked_entries)
{
    enum { N = 40 };
    uint8_t *p[N];
    size_t len[N];
    struct lg_buf b[N];
    for (int i = 0; i < N; i++) {
        char who[32];
        snprintf(who, sizeof who, "learner-%d", i);
        p[i] = account_open(who, &len[i]);
        if (i % 3 == 0) { /* a third checked first */
            struct lg_result r;
            cr_assert_eq(lg_check(f.l, p[i], len[i], &r), 0);
        }
        if (i % 5 == 4) /* a fifth tampered, some of them after the check */
            p[i][len[i] - 1] ^= 0x80;
        b[i] = (struct lg_buf){p[i], len[i]};
    }
    struct lg_result res[N];
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_apply(f.l, 0, b, N, res, NULL, &err), 0, "%s", err.msg);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(res[i].code, i % 5 == 4 ? CB_EBADSIG : 0,
                     "entry %d: %s: %s", i, cb_errname(res[i].code),
                     res[i].msg);
        free(p[i]);
    }
}
