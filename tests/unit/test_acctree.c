/* The account tree and chains (DESIGN 3.3), recomputed independently of the
 * state machine: chains from the raw leaves of each account's entries, the
 * tree from the 73-byte leaves in account-number order. */
#include "fixture.h"

#include <credbank/merkle.h>

static struct fx f;
static void setup(void) { fx_setup(&f); }
static void teardown(void) { fx_teardown(&f); }
TestSuite(acctree, .init = setup, .fini = teardown);

#define NACC 13

static uint8_t ids[NACC][32];
static cy_hash leaves[NACC];

static int rd(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    (void)ctx;
    /* complete subtree (level, index) from the leaf hashes */
    uint64_t lo = index << level, n = (uint64_t)1 << level;
    if (n == 1) {
        memcpy(out, leaves[lo], 32);
        return 0;
    }
    cy_hash l, r;
    rd(NULL, level - 1, 2 * index, l);
    rd(NULL, level - 1, 2 * index + 1, r);
    cy_node_hash(out, l, r);
    return 0;
}

struct chain_ctx {
    uint8_t chain[32];
    uint64_t count;
};

static int step(void *ctx, uint64_t index, uint64_t fee)
{
    (void)fee;
    struct chain_ctx *c = ctx;
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    const uint8_t *p;
    size_t len;
    cr_assert_eq(lg_log_get(lg_ledger_log(f.l), txn, index, &p, &len), 0);
    uint8_t buf[64];
    memcpy(buf, c->chain, 32);
    cy_leaf_hash(buf + 32, p, len);
    cy_sha256(c->chain, buf, 64);
    c->count++;
    mdb_txn_abort(txn);
    return 0;
}

static void check_tree(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        json_t *v;
        cr_assert_eq(lg_account_view(f.l, ids[i], &v, NULL), 0);
        struct chain_ctx c = {{0}, 0};
        cr_assert_eq(lg_account_entries(f.l, ids[i], 0, UINT64_MAX, step, &c,
                                        NULL), 0);
        char hex[65];
        cy_hex(hex, c.chain, 32);
        cr_assert_str_eq(json_string_value(json_object_get(v, "chain")), hex);
        cr_assert_eq(json_integer_value(json_object_get(v, "count")),
                     (json_int_t)c.count);
        cr_assert_eq(json_integer_value(json_object_get(v, "number")),
                     (json_int_t)i);
        uint8_t leaf[73];
        memcpy(leaf, ids[i], 32);
        for (int b = 0; b < 8; b++)
            leaf[32 + b] = (uint8_t)(c.count >> (56 - 8 * b));
        memcpy(leaf + 40, c.chain, 32);
        leaf[72] = strcmp(json_string_value(json_object_get(v, "status")),
                          "open") != 0;
        cy_leaf_hash(leaves[i], leaf, sizeof leaf);
        json_decref(v);
    }
    cy_hash want;
    cr_assert_eq(cy_tree_hash(want, n, rd, NULL), 0);
    struct lg_status st;
    cr_assert_eq(lg_status(f.l, &st), 0);
    cr_assert_eq(st.accounts, n);
    cr_assert_arr_eq(st.accounts_root, want, 32, "accounts root at %llu",
                     (unsigned long long)n);
}

Test(acctree, empty_tree)
{
    struct lg_status st;
    lg_status(f.l, &st);
    cy_hash empty;
    cy_sha256(empty, "", 0);
    cr_assert_eq(st.accounts, 0);
    cr_assert_arr_eq(st.accounts_root, empty, 32);
}

Test(acctree, root_and_chains_match_an_independent_computation)
{
    struct cy_key k[NACC];
    for (int i = 0; i < NACC; i++) {
        char name[32];
        snprintf(name, sizeof name, "tree-learner-%d", i);
        fx_key(&k[i], name);
        fx_open_account(&f, &k[i], i % 3 == 0, ids[i]);
        check_tree((uint64_t)i + 1);
    }
    /* touch some accounts (deposits), cancel one, in one batch */
    struct fx_e es[4];
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"X\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"X\"}", fx_hex(f.ledger));
    int touch[3] = {0, 5, 12};
    for (int i = 0; i < 3; i++)
        es[i] = (struct fx_e){.type = LG_T_OUTCOME_DEPOSIT, .author = &f.prov,
                              .account = ids[touch[i]], .body = body};
    es[3] = (struct fx_e){.type = LG_T_ACCOUNT_CANCEL, .author = &f.bank,
                          .account = ids[7], .body = "{\"reason\":\"error\"}"};
    struct lg_buf bufs[4];
    for (int i = 0; i < 4; i++)
        bufs[i].p = fx_build(&f, &es[i], &bufs[i].len);
    struct lg_result r[4];
    cr_assert_eq(lg_apply(f.l, 0, bufs, 4, r, NULL, NULL), 0);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(r[i].code, 0, "%s", r[i].msg);
        free((void *)bufs[i].p);
    }
    check_tree(NACC);
}

/* Regression: several accounts opened in one batch. The flush once hashed
 * a parent before its new right child's leaf was written (store_corrupt). */
Test(acctree, accounts_opened_together_in_one_batch)
{
    struct lg_buf bufs[5];
    struct cy_key k[5];
    for (int i = 0; i < 5; i++) {
        char name[32], body[512];
        snprintf(name, sizeof name, "batch-learner-%d", i);
        fx_key(&k[i], name);
        snprintf(body, sizeof body,
                 "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
                 "\"level\":\"x\"},\"fee_exempt\":false,\"learner_key\":\"%s\","
                 "\"major\":\"m\",\"pii\":\"%s\"}",
                 fx_hex(f.ledger), fx_hex(k[i].pk), fx_hex(f.ledger));
        bufs[i].p = fx_build(&f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                                .author = &f.bank, .body = body,
                                                .signers = {&k[i]}},
                             &bufs[i].len);
    }
    struct lg_result r[5];
    struct cb_err err = {0, ""};
    int rv = lg_apply(f.l, 0, bufs, 5, r, NULL, &err);
    cr_assert_eq(rv, 0, "%s: %s", cb_errname(rv), err.msg);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(r[i].code, 0, "%s", r[i].msg);
        memcpy(ids[i], r[i].id, 32);
        free((void *)bufs[i].p);
    }
    check_tree(5);
}
