/* The account tree and chains (DESIGN 3.3), recomputed independently of the
 * state machine: chains from the raw leaves of each account's entries, the
 * tree from the 73-byte leaves in account-number order; and the stored tree
 * (ledger/seal.c) against spec/vectors/acctree.json, made by a naive Python
 * implementation, with the set of stored hashes each update rewrites. */
#include "fixture.h"

#include <credbank/merkle.h>

#include "../../ledger/sm.h"

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

/* ---- against spec/vectors/acctree.json (Python hashlib) ---- */

static void unhex(uint8_t *out, size_t len, json_t *o)
{
    cr_assert(json_is_string(o));
    cr_assert_eq(cy_unhex(out, len, json_string_value(o)), 0);
}

/* The stored tree as (key 9 bytes, hash 32 bytes) rows, in key order. */
struct row {
    uint8_t key[9];
    uint8_t hash[32];
};

static size_t snapshot(MDB_txn *txn, struct row **out)
{
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, f.l->acctree, &cur), 0);
    size_t n = 0, cap = 16;
    struct row *rows = malloc(cap * sizeof *rows);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cr_assert_eq(k.mv_size, 9);
        cr_assert_eq(v.mv_size, 32);
        if (n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        memcpy(rows[n].key, k.mv_data, 9);
        memcpy(rows[n].hash, v.mv_data, 32);
        n++;
    }
    mdb_cursor_close(cur);
    *out = rows;
    return n;
}

static void key_of(uint8_t key[9], unsigned level, uint64_t index)
{
    key[0] = (uint8_t)level;
    for (int b = 0; b < 8; b++)
        key[1 + b] = (uint8_t)(index >> (56 - 8 * b));
}

/* Is key on the path of one of the numbers, at a complete subtree? */
static bool on_path(const uint8_t key[9], const uint64_t *nums, size_t n,
                    uint64_t accounts)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned level = 0; level < 64; level++) {
            uint64_t idx = nums[i] >> level;
            if (idx >= accounts >> level)
                break;
            uint8_t k[9];
            key_of(k, level, idx);
            if (memcmp(k, key, 9) == 0)
                return true;
        }
    return false;
}

static const struct row *find_row(const struct row *rows, size_t n,
                                   const uint8_t key[9])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(rows[i].key, key, 9) == 0)
            return &rows[i];
    return NULL;
}

Test(acctree, stored_tree_matches_python_vectors_batch_by_batch)
{
    json_error_t e;
    json_t *vec = json_load_file(CB_SOURCE_DIR "/spec/vectors/acctree.json",
                                 0, &e);
    cr_assert_not_null(vec, "%s", e.text);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, 0, &txn), 0);
    /* The fixture's genesis opened no account: start from an empty tree. */
    cy_hash root, want;
    cr_assert_eq(sm_acctree_root(f.l, txn, 0, root), 0);
    unhex(want, 32, json_object_get(vec, "empty_root"));
    cr_assert_arr_eq(root, want, 32);

    struct row *before;
    size_t nbefore = snapshot(txn, &before);
    cr_assert_eq(nbefore, 0);
    size_t si;
    json_t *step;
    json_array_foreach(json_object_get(vec, "steps"), si, step) {
        json_t *set = json_object_get(step, "set");
        uint64_t accounts = json_integer_value(json_object_get(step,
                                                               "accounts"));
        size_t n = json_array_size(set);
        uint64_t nums[32];
        cr_assert_leq(n, 32);
        for (size_t i = 0; i < n; i++) {
            json_t *a = json_array_get(set, i);
            uint64_t num = json_integer_value(json_object_get(a, "number"));
            uint8_t id[32], nk[8], leaf[73], got[73];
            struct sm_account acc;
            memset(&acc, 0, sizeof acc);
            acc.number = num;
            acc.count = (uint64_t)json_integer_value(json_object_get(a,
                                                                 "count"));
            acc.status = (uint8_t)json_integer_value(json_object_get(a,
                                                                 "status"));
            unhex(id, 32, json_object_get(a, "id"));
            unhex(acc.chain, 32, json_object_get(a, "chain"));
            unhex(leaf, 73, json_object_get(a, "leaf"));
            sm_account_leaf(got, id, &acc);
            cr_assert_arr_eq(got, leaf, 73, "leaf of account %llu",
                             (unsigned long long)num);
            for (int b = 0; b < 8; b++)
                nk[b] = (uint8_t)(num >> (56 - 8 * b));
            cr_assert_eq(sm_put(txn, f.l->accnum, nk, 8, id, 32), 0);
            cr_assert_eq(sm_account_put(f.l, txn, id, &acc), 0);
            /* listed twice and out of order: the flush sorts and dedups */
            nums[n - 1 - i] = num;
        }
        uint64_t dirty[64];
        memcpy(dirty, nums, n * sizeof *nums);
        memcpy(dirty + n, nums, n * sizeof *nums);
        struct sm_meta m;
        memset(&m, 0, sizeof m);
        m.accounts = accounts;
        cr_assert_eq(sm_acctree_flush(f.l, txn, &m, dirty, 2 * n), 0);
        for (size_t i = 0; i < n; i++)
            cr_assert(dirty[i] == nums[i] && dirty[n + i] == nums[i],
                      "the caller's dirty list is left as it was");
        cr_assert_eq(sm_acctree_root(f.l, txn, accounts, root), 0);
        unhex(want, 32, json_object_get(step, "root"));
        cr_assert_arr_eq(root, want, 32, "root after batch %zu", si);

        /* Exactly the complete subtrees on the dirty accounts' paths were
         * written; every other stored hash is as it was. The store holds
         * every complete subtree: sum over levels of accounts >> level. */
        struct row *after;
        size_t nafter = snapshot(txn, &after);
        size_t complete = 0;
        for (unsigned level = 0; level < 64; level++)
            complete += (size_t)(accounts >> level);
        cr_assert_eq(nafter, complete, "batch %zu", si);
        size_t changed = 0;
        for (size_t i = 0; i < nafter; i++) {
            const struct row *old = find_row(before, nbefore, after[i].key);
            bool same =
                old != NULL && memcmp(old->hash, after[i].hash, 32) == 0;
            if (!same) {
                changed++;
                cr_assert(on_path(after[i].key, nums, n, accounts),
                          "batch %zu: hash (%u, ...) off the dirty paths "
                          "changed", si, after[i].key[0]);
            }
        }
        for (size_t i = 0; i < nbefore; i++)
            cr_assert_not_null(find_row(after, nafter, before[i].key),
                               "no stored hash disappears");
        if (n == 1) {
            /* one account: its leaf and the complete subtrees above it,
             * at most log2(accounts) + 1 hashes */
            size_t path = 0;
            for (unsigned level = 0; level < 64; level++)
                path += (nums[0] >> level) < (accounts >> level);
            cr_assert_eq(changed, path, "batch %zu", si);
        }
        free(before);
        before = after;
        nbefore = nafter;
    }
    free(before);
    mdb_txn_abort(txn);
    json_decref(vec);
}

/* A seal flushes the tree inside its own nested transaction. When the seal
 * is then refused, that flush is rolled back, and the batch-end flush must
 * still see every account changed earlier in the batch. */
Test(acctree, refused_seal_mid_batch_keeps_the_dirty_accounts)
{
    struct cy_key k[8];
    for (int i = 0; i < 8; i++) {
        char name[32];
        snprintf(name, sizeof name, "seal-learner-%d", i);
        fx_key(&k[i], name);
        fx_open_account(&f, &k[i], false, ids[i]);
    }
    check_tree(8);
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"X\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"X\"}", fx_hex(f.ledger));
    struct lg_buf bufs[3];
    bufs[0].p = fx_build(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT,
                                            .author = &f.prov,
                                            .account = ids[5], .body = body},
                         &bufs[0].len);
    /* a seal with a wrong body (stale roots): refused after its flush */
    struct lg_status st;
    cr_assert_eq(lg_status(f.l, &st), 0);
    uint8_t bad[32] = {0};
    struct lg_w w;
    lg_w_init(&w);
    lg_w_map(&w, 6);
    lg_w_cstr(&w, "accounts");
    lg_w_uint(&w, st.accounts);
    lg_w_cstr(&w, "accounts_root");
    lg_w_bin(&w, st.accounts_root, 32);
    lg_w_cstr(&w, "governance");
    lg_w_uint(&w, st.governance);
    lg_w_cstr(&w, "governance_chain");
    lg_w_bin(&w, st.governance_chain, 32);
    lg_w_cstr(&w, "log_root");
    lg_w_bin(&w, bad, 32);
    lg_w_cstr(&w, "size");
    lg_w_uint(&w, st.size + 1);
    bufs[1].p = fx_build(&f, &(struct fx_e){.type = LG_T_SEAL,
                                            .author = &f.bank_node,
                                            .body_raw = lg_w_data(&w),
                                            .body_raw_len = lg_w_len(&w)},
                         &bufs[1].len);
    lg_w_release(&w);
    bufs[2].p = fx_build(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT,
                                            .author = &f.prov,
                                            .account = ids[2], .body = body},
                         &bufs[2].len);
    struct lg_result r[3];
    cr_assert_eq(lg_apply(f.l, 0, bufs, 3, r, NULL, NULL), 0);
    cr_assert_eq(r[0].code, 0, "%s", r[0].msg);
    cr_assert_eq(r[1].code, CB_ESEAL, "%s", r[1].msg);
    cr_assert_eq(r[2].code, 0, "%s", r[2].msg);
    for (int i = 0; i < 3; i++)
        free((void *)bufs[i].p);
    check_tree(8);
}
