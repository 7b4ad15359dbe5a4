/* The LMDB Merkle log: batches, atomicity, ids, proofs against Go's
 * sumdb/tlog vectors at every size, reopening, a full map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/crypto.h>
#include <credbank/log.h>

static char dir[64];
static MDB_env *env;
static struct lg_log log_;

static void open_env(size_t map)
{
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
    cr_assert_eq(mdb_env_set_mapsize(env, map), 0);
    cr_assert_eq(mdb_env_open(env, dir, MDB_NOSYNC, 0600), 0);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(lg_log_open(&log_, txn), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

static void setup(void)
{
    cr_assert_eq(cy_init(), 0);
    snprintf(dir, sizeof dir, "/tmp/credbank-log-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    open_env(64 << 20);
}

static void teardown(void)
{
    mdb_env_close(env);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(log, .init = setup, .fini = teardown);

/* Appends leaves "leaf-from" .. "leaf-(to-1)" in one transaction. */
static void append_range(uint64_t from, uint64_t to, bool commit)
{
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (uint64_t i = from; i < to; i++) {
        char leaf[32];
        int n = snprintf(leaf, sizeof leaf, "leaf-%llu", (unsigned long long)i);
        uint8_t id[32];
        cy_sha256(id, leaf, (size_t)n);
        uint64_t idx;
        cr_assert_eq(lg_log_append(&log_, txn, (const uint8_t *)leaf,
                                   (size_t)n, id, &idx), 0);
        cr_assert_eq(idx, i);
    }
    if (commit)
        cr_assert_eq(mdb_txn_commit(txn), 0);
    else
        mdb_txn_abort(txn);
}

static uint64_t size_now(void)
{
    MDB_txn *txn;
    uint64_t n;
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(lg_log_size(&log_, txn, &n), 0);
    mdb_txn_abort(txn);
    return n;
}

Test(log, batches_match_tlog_vectors_at_every_size)
{
    json_error_t e;
    json_t *vec = json_load_file(CB_SOURCE_DIR "/spec/vectors/tlog.json", 0,
                                 &e);
    cr_assert_not_null(vec, "%s", e.text);
    /* uneven batches, reopening the environment halfway */
    uint64_t at = 0;
    uint64_t batches[] = {1, 2, 5, 16, 33, 100, 400, 543};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        append_range(at, at + batches[b], true);
        at += batches[b];
        if (b == 4) {
            mdb_env_close(env);
            open_env(64 << 20);
        }
    }
    cr_assert_eq(size_now(), 1100);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(vec, "roots"), key, val) {
        cy_hash want, got;
        cy_unhex(want, 32, json_string_value(val));
        cr_assert_eq(lg_log_root(&log_, txn, strtoull(key, NULL, 10), got), 0);
        cr_assert_arr_eq(got, want, 32, "root at %s", key);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "inclusion"), i, v) {
        uint64_t index = (uint64_t)json_integer_value(json_object_get(v, "index"));
        uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "size"));
        cy_hash proof[CY_PROOF_MAX], want;
        size_t n;
        cr_assert_eq(lg_log_inclusion(&log_, txn, index, size, proof, &n), 0);
        json_t *arr = json_object_get(v, "proof");
        cr_assert_eq(n, json_array_size(arr));
        for (size_t k = 0; k < n; k++) {
            cy_unhex(want, 32, json_string_value(json_array_get(arr, k)));
            cr_assert_arr_eq(proof[k], want, 32);
        }
    }
    json_array_foreach(json_object_get(vec, "consistency"), i, v) {
        uint64_t m = (uint64_t)json_integer_value(json_object_get(v, "from"));
        uint64_t n = (uint64_t)json_integer_value(json_object_get(v, "to"));
        cy_hash proof[CY_PROOF_MAX], want;
        size_t np;
        cr_assert_eq(lg_log_consistency(&log_, txn, m, n, proof, &np), 0);
        json_t *arr = json_object_get(v, "proof");
        cr_assert_eq(np, json_array_size(arr));
        for (size_t k = 0; k < np; k++) {
            cy_unhex(want, 32, json_string_value(json_array_get(arr, k)));
            cr_assert_arr_eq(proof[k], want, 32);
        }
    }
    /* get, find, leaf hash */
    const uint8_t *leaf;
    size_t len;
    cr_assert_eq(lg_log_get(&log_, txn, 777, &leaf, &len), 0);
    cr_assert_eq(len, 8);
    cr_assert_eq(memcmp(leaf, "leaf-777", 8), 0);
    uint8_t id[32];
    cy_sha256(id, "leaf-777", 8);
    uint64_t idx;
    cr_assert_eq(lg_log_find(&log_, txn, id, &idx), 0);
    cr_assert_eq(idx, 777);
    cy_hash lh, want;
    cy_leaf_hash(want, "leaf-777", 8);
    cr_assert_eq(lg_log_leaf_hash(&log_, txn, 777, lh), 0);
    cr_assert_arr_eq(lh, want, 32);
    cr_assert_eq(lg_log_get(&log_, txn, 1100, &leaf, &len), CB_ENOTFOUND);
    cy_hash r;
    cr_assert_eq(lg_log_root(&log_, txn, 1101, r), CB_ERANGE);
    mdb_txn_abort(txn);
    json_decref(vec);
}

Test(log, aborted_batch_leaves_nothing)
{
    append_range(0, 10, true);
    MDB_txn *txn;
    cy_hash before, after;
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(lg_log_root(&log_, txn, 10, before), 0);
    mdb_txn_abort(txn);
    append_range(10, 50, false);
    cr_assert_eq(size_now(), 10);
    append_range(10, 11, true); /* the same leaf again: its id is free */
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(lg_log_root(&log_, txn, 10, after), 0);
    mdb_txn_abort(txn);
    cr_assert_arr_eq(before, after, 32);
    cr_assert_eq(size_now(), 11);
}

Test(log, duplicate_id_refused)
{
    append_range(0, 3, true);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    uint8_t id[32];
    cy_sha256(id, "leaf-1", 6);
    uint64_t idx;
    cr_assert_eq(lg_log_append(&log_, txn, (const uint8_t *)"x", 1, id, &idx),
                 CB_EDUPLICATE);
    /* without an id, anything may be appended */
    cr_assert_eq(lg_log_append(&log_, txn, (const uint8_t *)"x", 1, NULL, &idx),
                 0);
    cr_assert_eq(idx, 3);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

Test(log, full_map_is_storage_full_and_keeps_what_was_committed)
{
    mdb_env_close(env);
    open_env(256 << 10); /* 256 KiB */
    append_range(0, 10, true);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    int rv = 0;
    static uint8_t big[4000];
    for (uint64_t i = 0; i < 1000 && rv == 0; i++) {
        uint64_t idx;
        big[0] = (uint8_t)i;
        big[1] = (uint8_t)(i >> 8);
        rv = lg_log_append(&log_, txn, big, sizeof big, NULL, &idx);
    }
    cr_assert_eq(rv, CB_EFULL, "%s", cb_errname(rv));
    mdb_txn_abort(txn);
    cr_assert_eq(size_now(), 10);
    append_range(10, 12, true);
    cr_assert_eq(size_now(), 12);
}

Test(log, stored_hash_numbering_is_tlogs)
{
    /* from tlog's documentation: level 0 n=0..3 -> 0, 1, 3, 4; level 1
     * n=0 -> 2; level 2 n=0 -> 6 */
    cr_assert_eq(lg_stored_hash_index(0, 0), 0);
    cr_assert_eq(lg_stored_hash_index(0, 1), 1);
    cr_assert_eq(lg_stored_hash_index(1, 0), 2);
    cr_assert_eq(lg_stored_hash_index(0, 2), 3);
    cr_assert_eq(lg_stored_hash_index(0, 3), 4);
    cr_assert_eq(lg_stored_hash_index(1, 1), 5);
    cr_assert_eq(lg_stored_hash_index(2, 0), 6);
}
