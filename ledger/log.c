/*
 * The Merkle log in LMDB.
 *
 * The log is the ledger's spine: every signed entry is a leaf, and every
 * root a checkpoint signs and every proof a bundle carries must come out of
 * it byte for byte as RFC 9162 defines them. It lives in three named LMDB
 * databases inside the ledger's environment (spec/merkle.md has the bytes):
 *
 *   log.leaves  index (8 bytes big-endian) -> the leaf bytes
 *   log.hashes  stored-hash number (8 BE) -> 32-byte complete-subtree hash
 *   log.ids     entry id (32 bytes)       -> index (8 BE)
 *
 * Why store subtree hashes at all? Because a tree hash or a proof over a
 * million leaves must not touch a million leaves. A leaf's append completes
 * at most log2(n) subtrees -- on average one -- and once complete a
 * subtree's hash never changes, so the log stores each exactly once, when
 * it is completed. Roots and proofs for any size up to the current one are
 * then assembled from O(log n) of them by crypto/merkle.c, which knows
 * nothing about LMDB and reads through a callback.
 *
 * Why this numbering? Go's sumdb/tlog (StoredHashIndex) numbers the hashes
 * in the order appends create them: appending leaf i creates its leaf hash
 * and the hashes of the subtrees it completes, and they take the next
 * consecutive numbers. Big-endian keys make LMDB's byte order the numeric
 * order, so every write of an append -- the leaf and its hashes -- lands at
 * the end of its B-tree and can use MDB_APPEND: no search, no page split in
 * the middle, pages filled completely. Only the id index takes random keys;
 * it is optional per append for that reason (it costs more than the rest of
 * the append together, see bench/bench_log.c).
 *
 * The log keeps no state of its own besides the database handles: the size
 * is LMDB's entry count of log.leaves (O(1)), and everything is read and
 * written inside the caller's transaction. A batch of appends is therefore
 * exactly as atomic as the caller's transaction, together with the rest of
 * the ledger's state; an aborted or failed transaction leaves nothing.
 * Within a transaction an append is all or nothing too: it does everything
 * that can fail cleanly (reading the sibling hashes, the duplicate-id check,
 * which MDB_NOOVERWRITE makes a write-nothing test) before writing the
 * leaf, and undoes its own writes if a later put fails without LMDB having
 * failed the whole transaction.
 *
 * Trust in the stored bytes: every value read is length-checked, a hash the
 * tree needs but cannot find is CB_ECORRUPT (the recursion only asks for
 * subtrees that exist at the checked size), and lg_log_open compares the
 * three databases' counts and last keys, which catches a truncated or
 * mixed-up store before anything is built on it.
 */
#include <credbank/log.h>

#include <errno.h>
#include <string.h>

#include "mdb.h"

/* LMDB's largest value on 64-bit builds (MAXDATASIZE). */
#define LEAF_MAX 0xffffffffu

static void put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t p[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

uint64_t lg_stored_hash_index(unsigned level, uint64_t n)
{
    /* The subtree (level, n) is completed by its last leaf, number
     * (n + 1) * 2^level - 1. */
    for (unsigned l = level; l > 0; l--)
        n = 2 * n + 1;
    /* The leaves before leaf n stored floor(n / 2^k) hashes at each level
     * k; leaf n then stores its own hashes level 0, 1, ... in order. */
    uint64_t i = 0;
    for (; n > 0; n >>= 1)
        i += n;
    return i + level;
}

/* Entries of dbi; if any, its last key must be the 8-byte BE count - 1. */
static int check_tail(MDB_txn *txn, MDB_dbi dbi, uint64_t *count)
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_stat(txn, dbi, &st);
    if (rc != 0)
        return lg_mdb_err(rc);
    *count = st.ms_entries;
    if (st.ms_entries == 0)
        return 0;
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
        return lg_mdb_err(rc);
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc != 0)
        return lg_mdb_err(rc);
    if (k.mv_size != 8 || get_be64(k.mv_data) != st.ms_entries - 1)
        return CB_ECORRUPT;
    return 0;
}

int lg_log_open(struct lg_log *log, MDB_txn *txn)
{
    struct lg_log l;
    MDB_stat st;
    uint64_t nleaves, nhashes;
    int rc, rv;

    if ((rc = mdb_dbi_open(txn, "log.leaves", MDB_CREATE, &l.leaves)) != 0 ||
        (rc = mdb_dbi_open(txn, "log.hashes", MDB_CREATE, &l.hashes)) != 0 ||
        (rc = mdb_dbi_open(txn, "log.ids", MDB_CREATE, &l.ids)) != 0)
        /* EACCES: absent, and a read-only transaction cannot create it */
        return rc == EACCES ? CB_ENOTFOUND : lg_mdb_err(rc);
    if ((rv = check_tail(txn, l.leaves, &nleaves)) != 0 ||
        (rv = check_tail(txn, l.hashes, &nhashes)) != 0)
        return rv;
    if (nhashes != lg_stored_hash_index(0, nleaves))
        return CB_ECORRUPT;
    if ((rc = mdb_stat(txn, l.ids, &st)) != 0)
        return lg_mdb_err(rc);
    if (st.ms_entries > nleaves)
        return CB_ECORRUPT;
    *log = l;
    return 0;
}

int lg_log_size(const struct lg_log *log, MDB_txn *txn, uint64_t *size)
{
    MDB_stat st;
    int rc = mdb_stat(txn, log->leaves, &st);
    if (rc != 0)
        return lg_mdb_err(rc);
    *size = st.ms_entries;
    return 0;
}

/* cy_hash_reader over log.hashes. */
struct reader {
    const struct lg_log *log;
    MDB_txn *txn;
};

static int read_hash(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    const struct reader *r = ctx;
    uint8_t key[8];
    put_be64(key, lg_stored_hash_index(level, index));
    MDB_val k = {8, key}, v;
    int rc = mdb_get(r->txn, r->log->hashes, &k, &v);
    if (rc == MDB_NOTFOUND)
        return CB_ECORRUPT; /* only subtrees below the size are asked for */
    if (rc != 0)
        return lg_mdb_err(rc);
    if (v.mv_size != 32)
        return CB_ECORRUPT;
    memcpy(out, v.mv_data, 32);
    return 0;
}

/* A put the log does itself: MDB_KEYEXIST can only mean that the
 * databases disagree with the count they were appended under. */
static int put_err(int rc)
{
    return rc == MDB_KEYEXIST ? CB_ECORRUPT : lg_mdb_err(rc);
}

int lg_log_append_hashed(const struct lg_log *log, MDB_txn *txn,
                         const uint8_t *leaf, size_t len,
                         const cy_hash leaf_hash, const uint8_t id[32],
                         uint64_t *index)
{
    struct reader r = {log, txn};
    cy_hash hs[CY_PROOF_MAX];
    size_t nh, written = 0;
    uint8_t key[8], hkey[8];
    uint64_t n = 0, first = 0;
    MDB_val k, v;
    int rc, rv;

    if (len > LEAF_MAX)
        return CB_ETOOBIG;
    if (leaf == NULL && len > 0)
        return CB_EINVAL;
    if ((rv = lg_log_size(log, txn, &n)) != 0)
        return rv;
    /* Reads first: an error here has written nothing. */
    if ((rv = cy_append_hashes(hs, &nh, n, leaf_hash, read_hash, &r)) != 0)
        return rv;
    put_be64(key, n);
    lg_nwrites++;
    if (id != NULL) {
        k = (MDB_val){32, (void *)id};
        v = (MDB_val){8, key};
        rc = mdb_put(txn, log->ids, &k, &v, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            return CB_EDUPLICATE; /* nothing written */
        if (rc != 0)
            return lg_mdb_err(rc);
    }
    k = (MDB_val){8, key};
    v = (MDB_val){len, (void *)leaf};
    if ((rc = mdb_put(txn, log->leaves, &k, &v, MDB_APPEND)) != 0) {
        rv = put_err(rc);
        goto err_after_id;
    }
    first = lg_stored_hash_index(0, n);
    for (; written < nh; written++) {
        put_be64(hkey, first + written);
        k = (MDB_val){8, hkey};
        v = (MDB_val){32, hs[written]};
        if ((rc = mdb_put(txn, log->hashes, &k, &v, MDB_APPEND)) != 0) {
            rv = put_err(rc);
            goto err_after_leaf;
        }
    }
    *index = n;
    return 0;

    /* Best effort: if LMDB failed the transaction (map full, I/O, no
     * memory) these fail too, and the transaction cannot commit anyway. */
err_after_leaf:
    while (written-- > 0) {
        put_be64(hkey, first + written);
        k = (MDB_val){8, hkey};
        mdb_del(txn, log->hashes, &k, NULL);
    }
    k = (MDB_val){8, key};
    mdb_del(txn, log->leaves, &k, NULL);
err_after_id:
    if (id != NULL) {
        k = (MDB_val){32, (void *)id};
        mdb_del(txn, log->ids, &k, NULL);
    }
    return rv;
}

int lg_log_append(const struct lg_log *log, MDB_txn *txn, const uint8_t *leaf,
                  size_t len, const uint8_t id[32], uint64_t *index)
{
    cy_hash lh;
    if (len > LEAF_MAX)
        return CB_ETOOBIG;
    if (leaf == NULL && len > 0)
        return CB_EINVAL;
    cy_leaf_hash(lh, leaf, len);
    return lg_log_append_hashed(log, txn, leaf, len, lh, id, index);
}

int lg_log_get(const struct lg_log *log, MDB_txn *txn, uint64_t index,
               const uint8_t **leaf, size_t *len)
{
    uint8_t key[8];
    put_be64(key, index);
    MDB_val k = {8, key}, v;
    int rc = mdb_get(txn, log->leaves, &k, &v);
    if (rc != 0)
        return lg_mdb_err(rc);
    *leaf = v.mv_data;
    *len = v.mv_size;
    return 0;
}

int lg_log_find(const struct lg_log *log, MDB_txn *txn, const uint8_t id[32],
                uint64_t *index)
{
    MDB_val k = {32, (void *)id}, v;
    int rc = mdb_get(txn, log->ids, &k, &v);
    if (rc != 0)
        return lg_mdb_err(rc);
    if (v.mv_size != 8)
        return CB_ECORRUPT;
    *index = get_be64(v.mv_data);
    return 0;
}

/* CB_ERANGE unless size <= the log's size. */
static int check_size(const struct lg_log *log, MDB_txn *txn, uint64_t size)
{
    uint64_t n = 0;
    int rv = lg_log_size(log, txn, &n);
    if (rv != 0)
        return rv;
    return size > n ? CB_ERANGE : 0;
}

int lg_log_leaf_hash(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     cy_hash out)
{
    struct reader r = {log, txn};
    int rv = index == UINT64_MAX ? CB_ERANGE : check_size(log, txn, index + 1);
    return rv != 0 ? rv : read_hash(&r, 0, index, out);
}

int lg_log_root(const struct lg_log *log, MDB_txn *txn, uint64_t size,
                cy_hash out)
{
    struct reader r = {log, txn};
    int rv = check_size(log, txn, size);
    return rv != 0 ? rv : cy_tree_hash(out, size, read_hash, &r);
}

int lg_log_inclusion(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     uint64_t size, cy_hash proof[CY_PROOF_MAX], size_t *n)
{
    struct reader r = {log, txn};
    int rv = check_size(log, txn, size);
    *n = 0;
    return rv != 0 ? rv
                   : cy_inclusion_proof(proof, n, index, size, read_hash, &r);
}

int lg_log_consistency(const struct lg_log *log, MDB_txn *txn, uint64_t m,
                       uint64_t n, cy_hash proof[CY_PROOF_MAX], size_t *np)
{
    struct reader r = {log, txn};
    int rv = check_size(log, txn, n);
    *np = 0;
    return rv != 0 ? rv
                   : cy_consistency_proof(proof, np, m, n, read_hash, &r);
}
