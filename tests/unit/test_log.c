/*
 * ledger/log.c: the Merkle log in LMDB.
 *
 * Leaves, roots and proofs against Go's sumdb/tlog (spec/vectors/tlog.json)
 * and against crypto/merkle.c over an in-memory store, at every size;
 * the byte layout of log.hashes against tlog's stored hashes; batches in
 * one transaction, aborted and failed transactions leaving nothing,
 * duplicate ids, reopening, a full map, corrupt stores.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/crypto.h>
#include <credbank/log.h>

#include "../../ledger/mdb.h"

#define VECTORS CB_SOURCE_DIR "/spec/vectors/tlog.json"

/* ---- the vectors: leaves, their ids and hashes, roots ---- */

static json_t *vec;
static size_t nleaves;
static uint8_t **leaves;
static size_t *lens;
static uint8_t (*ids)[32]; /* id of leaf i: SHA-256(leaf i) */
static cy_hash *leafh;
static cy_hash *roots; /* roots[n]: tree hash of n leaves */

static void unhex32(cy_hash out, json_t *s)
{
    cr_assert(json_is_string(s));
    cr_assert_eq(cy_unhex(out, 32, json_string_value(s)), 0);
}

static void load_vectors(void)
{
    json_error_t e;
    vec = json_load_file(VECTORS, 0, &e);
    cr_assert_not_null(vec, "%s: %s", VECTORS, e.text);
    json_t *ls = json_object_get(vec, "leaves");
    json_t *hs = json_object_get(vec, "leaf_hashes");
    json_t *rs = json_object_get(vec, "roots");
    nleaves = json_array_size(ls);
    cr_assert_geq(nleaves, 1100);
    cr_assert_eq(json_array_size(hs), nleaves);
    cr_assert_eq(json_array_size(rs), nleaves);
    leaves = calloc(nleaves, sizeof *leaves);
    lens = calloc(nleaves, sizeof *lens);
    ids = calloc(nleaves, sizeof *ids);
    leafh = calloc(nleaves, 32);
    roots = calloc(nleaves + 1, 32);
    unhex32(roots[0], json_object_get(vec, "empty_root"));
    for (size_t i = 0; i < nleaves; i++) {
        const char *hex = json_string_value(json_array_get(ls, i));
        lens[i] = strlen(hex) / 2;
        leaves[i] = malloc(lens[i] + 1);
        cr_assert_eq(cy_unhex(leaves[i], lens[i], hex), 0);
        cy_sha256(ids[i], leaves[i], lens[i]);
        unhex32(leafh[i], json_array_get(hs, i));
        unhex32(roots[i + 1], json_array_get(rs, i));
    }
}

static void free_vectors(void)
{
    for (size_t i = 0; i < nleaves; i++)
        free(leaves[i]);
    free(leaves);
    free(lens);
    free(ids);
    free(leafh);
    free(roots);
    json_decref(vec);
}

/* ---- the in-memory implementation over the same leaves ---- */

static cy_hash *mem[64]; /* mem[L][i]: subtree (L, i) */
static uint64_t mem_size;

static int mem_read(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    (void)ctx;
    if (level >= 64 || mem[level] == NULL ||
        ((index + 1) << level) > mem_size)
        return CB_ENOTFOUND;
    memcpy(out, mem[level][index], 32);
    return 0;
}

static void mem_build(void)
{
    for (mem_size = 0; mem_size < nleaves; mem_size++) {
        cy_hash hs[CY_PROOF_MAX];
        size_t nh;
        cr_assert_eq(cy_append_hashes(hs, &nh, mem_size, leafh[mem_size],
                                      mem_read, NULL),
                     0);
        for (size_t k = 0; k < nh; k++) {
            if (mem[k] == NULL)
                mem[k] = calloc((nleaves >> k) + 1, 32);
            memcpy(mem[k][mem_size >> k], hs[k], 32);
        }
    }
}

/* ---- the environment ---- */

static char dir[64];
static MDB_env *env;
static struct lg_log lg;

static void env_open(size_t map)
{
    MDB_txn *txn;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
    cr_assert_eq(mdb_env_set_mapsize(env, map), 0);
    /* No fsync: durability is LMDB's, not under test here. */
    cr_assert_eq(mdb_env_open(env, dir, MDB_NOSYNC, 0600), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(lg_log_open(&lg, txn), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

static void env_close(void)
{
    mdb_env_close(env);
    env = NULL;
}

static void remove_files(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
}

static void setup(void)
{
    cr_assert_eq(cy_init(), 0);
    load_vectors();
    snprintf(dir, sizeof dir, "/tmp/credbank-test-log-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    env_open(64 << 20);
}

static void teardown(void)
{
    if (env != NULL)
        env_close();
    remove_files();
    rmdir(dir);
    for (int l = 0; l < 64; l++) {
        free(mem[l]);
        mem[l] = NULL;
    }
    free_vectors();
}

TestSuite(log, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static MDB_txn *begin(unsigned flags)
{
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, flags, &txn), 0);
    return txn;
}

static void commit(MDB_txn *txn)
{
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

/* Appends vector leaves [from, to) with their ids in txn, alternating
 * lg_log_append and lg_log_append_hashed. */
static void append_in(MDB_txn *txn, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
        uint64_t idx = UINT64_MAX;
        int rv = i % 2 == 0
                     ? lg_log_append(&lg, txn, leaves[i], lens[i], ids[i],
                                     &idx)
                     : lg_log_append_hashed(&lg, txn, leaves[i], lens[i],
                                            leafh[i], ids[i], &idx);
        cr_assert_eq(rv, 0, "append %llu: %s", (unsigned long long)i,
                     cb_errname(rv));
        cr_assert_eq(idx, i);
    }
}

#define APPEND(from, to)              \
    do {                              \
        MDB_txn *t_ = begin(0);       \
        append_in(t_, (from), (to));  \
        commit(t_);                   \
    } while (0)

static uint64_t size_in(MDB_txn *txn)
{
    uint64_t n = UINT64_MAX;
    cr_assert_eq(lg_log_size(&lg, txn, &n), 0);
    return n;
}

static uint64_t entries(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_stat st;
    cr_assert_eq(mdb_stat(txn, dbi, &st), 0);
    return st.ms_entries;
}

/* Size, root and hash count are exactly those of n leaves. */
static void check_state_in(MDB_txn *txn, uint64_t n)
{
    cy_hash r;
    cr_assert_eq(size_in(txn), n);
    cr_assert_eq(lg_log_root(&lg, txn, n, r), 0);
    cr_assert_arr_eq(r, roots[n], 32, "root of %llu", (unsigned long long)n);
    cr_assert_eq(entries(txn, lg.hashes), lg_stored_hash_index(0, n));
    cr_assert_leq(entries(txn, lg.ids), n);
}

static void check_state(uint64_t n)
{
    MDB_txn *txn = begin(MDB_RDONLY);
    check_state_in(txn, n);
    mdb_txn_abort(txn);
}

static void key8(uint8_t k[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        k[i] = (uint8_t)v;
}

static void proofs_equal(const cy_hash *a, size_t na, const cy_hash *b,
                         size_t nb, const char *what, uint64_t x, uint64_t y)
{
    cr_assert_eq(na, nb, "%s %llu, %llu: length", what,
                 (unsigned long long)x, (unsigned long long)y);
    for (size_t k = 0; k < na; k++)
        cr_assert_arr_eq(a[k], b[k], 32, "%s %llu, %llu: hash %zu", what,
                         (unsigned long long)x, (unsigned long long)y, k);
}

/* ---- tests ---- */

Test(log, batches_match_tlog_and_memory_at_every_size)
{
    /* Uneven batches, each one transaction; the environment is closed and
     * reopened halfway. Reads inside the write transaction already see its
     * appends. */
    uint64_t batches[] = {1, 1, 2, 5, 16, 33, 100, 1, 255, 400, 286};
    uint64_t at = 0;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        MDB_txn *txn = begin(0);
        append_in(txn, at, at + batches[b]);
        at += batches[b];
        check_state_in(txn, at);
        commit(txn);
        check_state(at);
        if (b == 5) {
            env_close();
            env_open(64 << 20);
            check_state(at);
        }
    }
    cr_assert_eq(at, nleaves);
    mem_build();

    MDB_txn *txn = begin(MDB_RDONLY);
    /* every size: the vectors' root and the in-memory implementation's
     * roots and proofs */
    for (uint64_t n = 0; n <= nleaves; n++) {
        cy_hash r, want[CY_PROOF_MAX], got[CY_PROOF_MAX];
        size_t nw, ng;
        cr_assert_eq(lg_log_root(&lg, txn, n, r), 0);
        cr_assert_arr_eq(r, roots[n], 32, "root of %llu",
                         (unsigned long long)n);
        if (n == 0)
            continue;
        uint64_t picks[] = {0, n / 2, n - 1, (n * 7) / 11};
        for (size_t k = 0; k < 4; k++) {
            uint64_t i = picks[k];
            cr_assert_eq(lg_log_inclusion(&lg, txn, i, n, got, &ng), 0);
            cr_assert_eq(cy_inclusion_proof(want, &nw, i, n, mem_read, NULL),
                         0);
            proofs_equal((const cy_hash *)got, ng, (const cy_hash *)want, nw,
                         "inclusion", i, n);
            cr_assert_eq(cy_inclusion_verify(leafh[i], i, n,
                                             (const cy_hash *)got, ng,
                                             roots[n]),
                         0);
            uint64_t m = i + 1;
            cr_assert_eq(lg_log_consistency(&lg, txn, m, n, got, &ng), 0);
            cr_assert_eq(
                cy_consistency_proof(want, &nw, m, n, mem_read, NULL), 0);
            proofs_equal((const cy_hash *)got, ng, (const cy_hash *)want, nw,
                         "consistency", m, n);
            cr_assert_eq(cy_consistency_verify(m, n, roots[m], roots[n],
                                               (const cy_hash *)got, ng),
                         0);
        }
    }
    /* every vector proof */
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "inclusion"), i, v) {
        uint64_t index = (uint64_t)json_integer_value(
            json_object_get(v, "index"));
        uint64_t size = (uint64_t)json_integer_value(
            json_object_get(v, "size"));
        json_t *arr = json_object_get(v, "proof");
        cy_hash proof[CY_PROOF_MAX], want;
        size_t n;
        cr_assert_eq(lg_log_inclusion(&lg, txn, index, size, proof, &n), 0);
        cr_assert_eq(n, json_array_size(arr));
        for (size_t k = 0; k < n; k++) {
            unhex32(want, json_array_get(arr, k));
            cr_assert_arr_eq(proof[k], want, 32);
        }
    }
    cr_assert_gt(i, 1000);
    json_array_foreach(json_object_get(vec, "consistency"), i, v) {
        uint64_t m = (uint64_t)json_integer_value(json_object_get(v, "from"));
        uint64_t n = (uint64_t)json_integer_value(json_object_get(v, "to"));
        json_t *arr = json_object_get(v, "proof");
        cy_hash proof[CY_PROOF_MAX], want;
        size_t np;
        cr_assert_eq(lg_log_consistency(&lg, txn, m, n, proof, &np), 0);
        cr_assert_eq(np, json_array_size(arr));
        for (size_t k = 0; k < np; k++) {
            unhex32(want, json_array_get(arr, k));
            cr_assert_arr_eq(proof[k], want, 32);
        }
    }
    cr_assert_gt(i, 1000);
    mdb_txn_abort(txn);
}

Test(log, hashes_are_stored_as_tlog_numbers_them)
{
    APPEND(0, nleaves);
    json_t *st = json_object_get(vec, "stored_hashes");
    MDB_txn *txn = begin(MDB_RDONLY);
    /* log.hashes holds, byte for byte, tlog's stored hashes under tlog's
     * stored-hash numbers (8-byte big-endian keys) */
    for (size_t i = 0; i < json_array_size(st); i++) {
        uint8_t key[8];
        cy_hash want;
        key8(key, i);
        MDB_val k = {8, key}, val;
        cr_assert_eq(mdb_get(txn, lg.hashes, &k, &val), 0);
        cr_assert_eq(val.mv_size, 32);
        unhex32(want, json_array_get(st, i));
        cr_assert_arr_eq(val.mv_data, want, 32, "stored hash %zu", i);
    }
    cr_assert_eq(entries(txn, lg.hashes),
                 lg_stored_hash_index(0, nleaves));
    cr_assert_eq(entries(txn, lg.leaves), nleaves);
    cr_assert_eq(entries(txn, lg.ids), nleaves);
    /* leaves under 8-byte big-endian indexes; ids map to 8-byte BE
     * indexes */
    uint8_t key[8];
    key8(key, 1099);
    MDB_val k = {8, key}, val;
    cr_assert_eq(mdb_get(txn, lg.leaves, &k, &val), 0);
    cr_assert_eq(val.mv_size, lens[1099]);
    cr_assert_eq(memcmp(val.mv_data, leaves[1099], lens[1099]), 0);
    k = (MDB_val){32, ids[1099]};
    cr_assert_eq(mdb_get(txn, lg.ids, &k, &val), 0);
    cr_assert_eq(val.mv_size, 8);
    cr_assert_arr_eq(val.mv_data, key, 8);
    mdb_txn_abort(txn);

    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(vec, "stored_index"), i, t) {
        unsigned level = (unsigned)json_integer_value(json_array_get(t, 0));
        uint64_t n = (uint64_t)json_integer_value(json_array_get(t, 1));
        uint64_t want = (uint64_t)json_integer_value(json_array_get(t, 2));
        cr_assert_eq(lg_stored_hash_index(level, n), want, "(%u, %llu)",
                     level, (unsigned long long)n);
    }
    cr_assert_gt(i, 300);
}

Test(log, get_find_and_leaf_hash)
{
    APPEND(0, nleaves);
    MDB_txn *txn = begin(MDB_RDONLY);
    for (uint64_t i = 0; i < nleaves; i++) {
        const uint8_t *p = NULL;
        size_t len = 99999;
        uint64_t idx = UINT64_MAX;
        cy_hash h;
        cr_assert_eq(lg_log_get(&lg, txn, i, &p, &len), 0);
        cr_assert_eq(len, lens[i], "leaf %llu", (unsigned long long)i);
        cr_assert(len == 0 || memcmp(p, leaves[i], len) == 0);
        cr_assert_eq(lg_log_find(&lg, txn, ids[i], &idx), 0);
        cr_assert_eq(idx, i);
        cr_assert_eq(lg_log_leaf_hash(&lg, txn, i, h), 0);
        cr_assert_arr_eq(h, leafh[i], 32);
    }
    cr_assert_eq(lens[5], 0, "the vectors have an empty leaf");

    const uint8_t *p;
    size_t len;
    uint64_t idx;
    uint8_t unknown[32] = {1, 2, 3};
    cy_hash h, proof[CY_PROOF_MAX];
    size_t n;
    cr_assert_eq(lg_log_get(&lg, txn, nleaves, &p, &len), CB_ENOTFOUND);
    cr_assert_eq(lg_log_get(&lg, txn, UINT64_MAX, &p, &len), CB_ENOTFOUND);
    cr_assert_eq(lg_log_find(&lg, txn, unknown, &idx), CB_ENOTFOUND);
    cr_assert_eq(lg_log_leaf_hash(&lg, txn, nleaves, h), CB_ERANGE);
    cr_assert_eq(lg_log_leaf_hash(&lg, txn, UINT64_MAX, h), CB_ERANGE);
    cr_assert_eq(lg_log_root(&lg, txn, nleaves + 1, h), CB_ERANGE);
    cr_assert_eq(lg_log_inclusion(&lg, txn, nleaves, nleaves, proof, &n),
                 CB_ERANGE);
    cr_assert_eq(lg_log_inclusion(&lg, txn, 0, nleaves + 1, proof, &n),
                 CB_ERANGE);
    cr_assert_eq(lg_log_consistency(&lg, txn, 0, 5, proof, &n), CB_ERANGE);
    cr_assert_eq(lg_log_consistency(&lg, txn, 6, 5, proof, &n), CB_ERANGE);
    cr_assert_eq(lg_log_consistency(&lg, txn, 5, nleaves + 1, proof, &n),
                 CB_ERANGE);
    cr_assert_eq(lg_log_consistency(&lg, txn, 7, 7, proof, &n), 0);
    cr_assert_eq(n, 0);
    mdb_txn_abort(txn);
}

Test(log, aborted_batch_leaves_nothing)
{
    APPEND(0, 10);
    MDB_txn *txn = begin(0);
    append_in(txn, 10, 50);
    check_state_in(txn, 50);
    mdb_txn_abort(txn);
    check_state(10);
    txn = begin(MDB_RDONLY);
    for (uint64_t i = 10; i < 50; i++) {
        uint64_t idx;
        const uint8_t *p;
        size_t len;
        cr_assert_eq(lg_log_find(&lg, txn, ids[i], &idx), CB_ENOTFOUND);
        cr_assert_eq(lg_log_get(&lg, txn, i, &p, &len), CB_ENOTFOUND);
    }
    mdb_txn_abort(txn);
    /* the same leaves and ids again: nothing of them was left */
    APPEND(10, 50);
    check_state(50);
}

Test(log, duplicate_ids_are_refused_and_write_nothing)
{
    APPEND(0, 3);
    MDB_txn *txn = begin(0);
    uint64_t idx = 77;
    /* an id committed earlier */
    cr_assert_eq(lg_log_append(&lg, txn, (const uint8_t *)"x", 1, ids[1],
                               &idx),
                 CB_EDUPLICATE);
    cr_assert_eq(lg_log_append_hashed(&lg, txn, leaves[1], lens[1], leafh[1],
                                      ids[1], &idx),
                 CB_EDUPLICATE);
    cr_assert_eq(idx, 77);
    check_state_in(txn, 3);
    /* an id appended earlier in this transaction */
    append_in(txn, 3, 4);
    cr_assert_eq(lg_log_append(&lg, txn, leaves[3], lens[3], ids[3], &idx),
                 CB_EDUPLICATE);
    check_state_in(txn, 4);
    /* the transaction stays usable; without an id anything goes */
    append_in(txn, 4, 6);
    cr_assert_eq(lg_log_append(&lg, txn, (const uint8_t *)"x", 1, NULL, &idx),
                 0);
    cr_assert_eq(idx, 6);
    cr_assert_eq(lg_log_append(&lg, txn, (const uint8_t *)"x", 1, NULL, &idx),
                 0);
    cr_assert_eq(idx, 7);
    commit(txn);
    txn = begin(MDB_RDONLY);
    cy_hash r;
    cr_assert_eq(size_in(txn), 8);
    cr_assert_eq(entries(txn, lg.ids), 6);
    cr_assert_eq(lg_log_root(&lg, txn, 6, r), 0);
    cr_assert_arr_eq(r, roots[6], 32);
    cr_assert_eq(lg_log_find(&lg, txn, ids[3], &idx), 0);
    cr_assert_eq(idx, 3);
    mdb_txn_abort(txn);
}

Test(log, reopen_and_continue)
{
    APPEND(0, 100);
    env_close();
    env_open(64 << 20);
    check_state(100);
    APPEND(100, 333);
    env_close();
    /* a read-only transaction opens an existing log */
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
    cr_assert_eq(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
    MDB_txn *txn = begin(MDB_RDONLY);
    memset(&lg, 0, sizeof lg);
    cr_assert_eq(lg_log_open(&lg, txn), 0);
    check_state_in(txn, 333);
    mdb_txn_abort(txn);
    env_close();
    env_open(64 << 20);
    APPEND(333, nleaves);
    check_state(nleaves);
}

Test(log, fresh_store_read_only_is_not_found)
{
    env_close();
    remove_files();
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
    MDB_txn *txn = begin(MDB_RDONLY);
    struct lg_log l;
    cr_assert_eq(lg_log_open(&l, txn), CB_ENOTFOUND);
    mdb_txn_abort(txn);
}

Test(log, full_map_is_storage_full_and_keeps_what_was_committed)
{
    env_close();
    remove_files();
    env_open(256 << 10); /* 256 KiB */
    APPEND(0, 20);
    MDB_txn *txn = begin(0);
    static uint8_t big[4000];
    int rv = 0;
    uint64_t i, idx;
    for (i = 0; i < 1000 && rv == 0; i++) {
        uint8_t id[32];
        big[0] = (uint8_t)i;
        big[1] = (uint8_t)(i >> 8);
        cy_sha256(id, big, sizeof big);
        rv = lg_log_append(&lg, txn, big, sizeof big, id, &idx);
    }
    cr_assert_eq(rv, CB_EFULL, "%s", cb_errname(rv));
    cr_assert_gt(i, 2, "some appends fitted before the map filled");
    /* LMDB refuses to commit the failed transaction: no half-written
     * append can reach the store */
    cr_assert_neq(mdb_txn_commit(txn), 0);
    check_state(20);
    /* grow the map: the log continues where it was */
    cr_assert_eq(mdb_env_set_mapsize(env, 64 << 20), 0);
    APPEND(20, 200);
    check_state(200);
    env_close();
    env_open(64 << 20);
    check_state(200);
}

Test(log, corrupt_stores_are_reported_not_trusted)
{
    APPEND(0, 20);
    uint8_t key[8];
    MDB_val k, v;
    cy_hash h, proof[CY_PROOF_MAX];
    size_t n;
    uint64_t idx;

    /* a stored hash missing: what needs it is store_corrupt */
    MDB_txn *txn = begin(0);
    key8(key, lg_stored_hash_index(0, 3));
    k = (MDB_val){8, key};
    cr_assert_eq(mdb_del(txn, lg.hashes, &k, NULL), 0);
    cr_assert_eq(lg_log_leaf_hash(&lg, txn, 3, h), CB_ECORRUPT);
    cr_assert_eq(lg_log_inclusion(&lg, txn, 2, 20, proof, &n), CB_ECORRUPT);
    cr_assert_eq(n, 0);
    cr_assert_eq(lg_log_root(&lg, txn, 20, h), 0, "the root does not use it");
    cr_assert_eq(lg_log_root(&lg, txn, 4, h), 0, "nor this one");
    cr_assert_eq(lg_log_root(&lg, txn, 5, h), 0);
    mdb_txn_abort(txn);

    /* a stored hash of the wrong size */
    txn = begin(0);
    v = (MDB_val){31, leafh[3]};
    cr_assert_eq(mdb_put(txn, lg.hashes, &k, &v, 0), 0);
    cr_assert_eq(lg_log_leaf_hash(&lg, txn, 3, h), CB_ECORRUPT);
    mdb_txn_abort(txn);

    /* an id mapping to a wrong-size index */
    txn = begin(0);
    k = (MDB_val){32, ids[7]};
    v = (MDB_val){7, key};
    cr_assert_eq(mdb_put(txn, lg.ids, &k, &v, 0), 0);
    cr_assert_eq(lg_log_find(&lg, txn, ids[7], &idx), CB_ECORRUPT);
    mdb_txn_abort(txn);

    /* a stray hash where the next append's must go: the append fails as
     * corrupt and leaves nothing of itself behind */
    txn = begin(0);
    key8(key, lg_stored_hash_index(0, 20) + 1);
    k = (MDB_val){8, key};
    v = (MDB_val){32, leafh[0]};
    cr_assert_eq(mdb_put(txn, lg.hashes, &k, &v, 0), 0);
    cr_assert_eq(lg_log_append(&lg, txn, leaves[20], lens[20], ids[20], &idx),
                 CB_ECORRUPT);
    cr_assert_eq(size_in(txn), 20);
    cr_assert_eq(lg_log_find(&lg, txn, ids[20], &idx), CB_ENOTFOUND);
    cr_assert_eq(entries(txn, lg.hashes), lg_stored_hash_index(0, 20) + 1);
    commit(txn); /* store the damage */
    /* and opening the log notices the count */
    txn = begin(MDB_RDONLY);
    struct lg_log l;
    cr_assert_eq(lg_log_open(&l, txn), CB_ECORRUPT);
    mdb_txn_abort(txn);
}

Test(log, open_checks_counts_and_last_keys)
{
    APPEND(0, 20);
    struct {
        const char *what;
        int db; /* 0 leaves, 1 hashes, 2 ids */
        uint64_t del, add;
    } cases[] = {
        {"a leaf missing at the end", 0, 19, UINT64_MAX},
        {"a leaf missing in the middle, one past the end", 0, 5, 20},
        {"a hash missing", 1, 7, UINT64_MAX},
        {"a hash past the end instead of the last", 1,
         lg_stored_hash_index(0, 20) - 1, lg_stored_hash_index(0, 20)},
        {"the last hash missing", 1, lg_stored_hash_index(0, 20) - 1,
         UINT64_MAX},
        {"one hash too many", 1, UINT64_MAX, lg_stored_hash_index(0, 20)},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        MDB_txn *txn = begin(0);
        MDB_dbi dbi = cases[c].db == 0 ? lg.leaves : lg.hashes;
        uint8_t key[8];
        MDB_val k = {8, key}, v = {32, leafh[0]};
        if (cases[c].del != UINT64_MAX) {
            key8(key, cases[c].del);
            cr_assert_eq(mdb_del(txn, dbi, &k, NULL), 0);
        }
        if (cases[c].add != UINT64_MAX) {
            key8(key, cases[c].add);
            cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
        }
        struct lg_log l;
        cr_assert_eq(lg_log_open(&l, txn), CB_ECORRUPT, "%s", cases[c].what);
        mdb_txn_abort(txn);
    }
    /* more ids than leaves */
    MDB_txn *txn = begin(0);
    uint8_t key[8], id[32] = {9};
    key8(key, 3);
    MDB_val k = {32, id}, v = {8, key};
    cr_assert_eq(mdb_put(txn, lg.ids, &k, &v, 0), 0);
    struct lg_log l;
    cr_assert_eq(lg_log_open(&l, txn), CB_ECORRUPT);
    mdb_txn_abort(txn);
    /* and the untouched store opens */
    txn = begin(MDB_RDONLY);
    cr_assert_eq(lg_log_open(&l, txn), 0);
    mdb_txn_abort(txn);
}

Test(log, bad_arguments_write_nothing)
{
    APPEND(0, 4);
    MDB_txn *txn = begin(0);
    uint64_t idx = 42;
    cr_assert_eq(lg_log_append(&lg, txn, NULL, 3, ids[4], &idx), CB_EINVAL);
    cr_assert_eq(lg_log_append(&lg, txn, leaves[4], (size_t)1 << 33, ids[4],
                               &idx),
                 CB_ETOOBIG);
    cr_assert_eq(lg_log_append_hashed(&lg, txn, NULL, 3, leafh[4], ids[4],
                                      &idx),
                 CB_EINVAL);
    cr_assert_eq(lg_log_append_hashed(&lg, txn, leaves[4], (size_t)1 << 33,
                                      leafh[4], ids[4], &idx),
                 CB_ETOOBIG);
    cr_assert_eq(idx, 42);
    check_state_in(txn, 4);
    /* an empty leaf may come as NULL */
    cr_assert_eq(lg_log_append(&lg, txn, NULL, 0, NULL, &idx), 0);
    cr_assert_eq(idx, 4);
    const uint8_t *p;
    size_t len = 9;
    cy_hash h, want;
    cr_assert_eq(lg_log_get(&lg, txn, 4, &p, &len), 0);
    cr_assert_eq(len, 0);
    cr_assert_eq(lg_log_leaf_hash(&lg, txn, 4, h), 0);
    cy_leaf_hash(want, "", 0);
    cr_assert_arr_eq(h, want, 32);
    commit(txn);
}

Test(log, lmdb_errors_map_to_cb_codes)
{
    cr_assert_eq(lg_mdb_err(0), 0);
    cr_assert_eq(lg_mdb_err(MDB_NOTFOUND), CB_ENOTFOUND);
    cr_assert_eq(lg_mdb_err(MDB_KEYEXIST), CB_EEXISTS);
    cr_assert_eq(lg_mdb_err(MDB_MAP_FULL), CB_EFULL);
    cr_assert_eq(lg_mdb_err(MDB_TXN_FULL), CB_EFULL);
    cr_assert_eq(lg_mdb_err(ENOSPC), CB_EFULL);
    cr_assert_eq(lg_mdb_err(MDB_CORRUPTED), CB_ECORRUPT);
    cr_assert_eq(lg_mdb_err(MDB_PAGE_NOTFOUND), CB_ECORRUPT);
    cr_assert_eq(lg_mdb_err(MDB_INVALID), CB_ECORRUPT);
    cr_assert_eq(lg_mdb_err(MDB_VERSION_MISMATCH), CB_ECORRUPT);
    cr_assert_eq(lg_mdb_err(MDB_BAD_VALSIZE), CB_ETOOBIG);
    cr_assert_eq(lg_mdb_err(ENOMEM), CB_ENOMEM);
    cr_assert_eq(lg_mdb_err(MDB_READERS_FULL), CB_EUNAVAILABLE);
    cr_assert_eq(lg_mdb_err(EIO), CB_EIO);
    cr_assert_eq(lg_mdb_err(MDB_PANIC), CB_EIO);
    cr_assert_eq(lg_mdb_err(MDB_BAD_TXN), CB_EIO);
}
