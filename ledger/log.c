/*
 * The Merkle log in LMDB.
 *
 * Three databases: the leaves by index, the hashes of every complete subtree,
 * and the entry-id index. The hashes are numbered as Go's sumdb/tlog numbers
 * them (StoredHashIndex): appending leaf n creates its leaf hash and the
 * hashes of every subtree it completes, and they get the next consecutive
 * numbers. So appends are pure MDB_APPENDs (no page splits in the middle of
 * the tree), a tree hash or proof reads O(log n) stored hashes (O(log^2 n)
 * for a proof's incomplete right edge in the worst case), and nothing is ever
 * rescanned. All writes go into the caller's transaction.
 */
#include <credbank/log.h>

#include <string.h>

#include "mdb.h"

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static uint64_t rd_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

uint64_t lg_stored_hash_index(unsigned level, uint64_t n)
{
    for (unsigned l = level; l > 0; l--)
        n = 2 * n + 1;
    uint64_t i = 0;
    for (; n > 0; n >>= 1)
        i += n;
    return i + level;
}

int lg_log_open(struct lg_log *log, MDB_txn *txn)
{
    int rc;
    if ((rc = mdb_dbi_open(txn, "log.leaves", MDB_CREATE, &log->leaves)) ||
        (rc = mdb_dbi_open(txn, "log.hashes", MDB_CREATE, &log->hashes)) ||
        (rc = mdb_dbi_open(txn, "log.ids", MDB_CREATE, &log->ids)))
        return lg_mdb_err(rc);
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

struct reader {
    const struct lg_log *log;
    MDB_txn *txn;
};

static int read_hash(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    struct reader *r = ctx;
    uint8_t key[8];
    be64(key, lg_stored_hash_index(level, index));
    MDB_val k = {8, key}, v;
    int rc = mdb_get(r->txn, r->log->hashes, &k, &v);
    if (rc == MDB_NOTFOUND)
        return CB_ECORRUPT; /* a hash the tree needs is missing */
    if (rc != 0)
        return lg_mdb_err(rc);
    if (v.mv_size != 32)
        return CB_ECORRUPT;
    memcpy(out, v.mv_data, 32);
    return 0;
}

int lg_log_append(const struct lg_log *log, MDB_txn *txn, const uint8_t *leaf,
                  size_t len, const uint8_t id[32], uint64_t *index)
{
    uint64_t n;
    int rv = lg_log_size(log, txn, &n);
    if (rv != 0)
        return rv;
    uint8_t key[8];
    be64(key, n);
    int rc;
    if (id != NULL) {
        MDB_val k = {32, (void *)id}, v = {8, key};
        rc = mdb_put(txn, log->ids, &k, &v, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            return CB_EDUPLICATE;
        if (rc != 0)
            return lg_mdb_err(rc);
    }
    MDB_val k = {8, key}, v = {len, (void *)leaf};
    if ((rc = mdb_put(txn, log->leaves, &k, &v, MDB_APPEND)) != 0)
        return lg_mdb_err(rc);

    cy_hash lh, hs[CY_PROOF_MAX];
    size_t nh;
    struct reader r = {log, txn};
    cy_leaf_hash(lh, leaf, len);
    if ((rv = cy_append_hashes(hs, &nh, n, lh, read_hash, &r)) != 0)
        return rv;
    uint64_t first = lg_stored_hash_index(0, n);
    for (size_t i = 0; i < nh; i++) {
        uint8_t hk[8];
        be64(hk, first + i);
        MDB_val kk = {8, hk}, vv = {32, hs[i]};
        if ((rc = mdb_put(txn, log->hashes, &kk, &vv, MDB_APPEND)) != 0)
            return lg_mdb_err(rc);
    }
    *index = n;
    return 0;
}

int lg_log_get(const struct lg_log *log, MDB_txn *txn, uint64_t index,
               const uint8_t **leaf, size_t *len)
{
    uint8_t key[8];
    be64(key, index);
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
    *index = rd_be64(v.mv_data);
    return 0;
}

int lg_log_leaf_hash(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     cy_hash out)
{
    struct reader r = {log, txn};
    uint64_t n;
    int rv = lg_log_size(log, txn, &n);
    if (rv != 0)
        return rv;
    if (index >= n)
        return CB_ERANGE;
    return read_hash(&r, 0, index, out);
}

static int check_size(const struct lg_log *log, MDB_txn *txn, uint64_t size)
{
    uint64_t n;
    int rv = lg_log_size(log, txn, &n);
    if (rv != 0)
        return rv;
    return size > n ? CB_ERANGE : 0;
}

int lg_log_root(const struct lg_log *log, MDB_txn *txn, uint64_t size,
                cy_hash out)
{
    int rv = check_size(log, txn, size);
    struct reader r = {log, txn};
    return rv ? rv : cy_tree_hash(out, size, read_hash, &r);
}

int lg_log_inclusion(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     uint64_t size, cy_hash proof[CY_PROOF_MAX], size_t *n)
{
    int rv = check_size(log, txn, size);
    struct reader r = {log, txn};
    return rv ? rv : cy_inclusion_proof(proof, n, index, size, read_hash, &r);
}

int lg_log_consistency(const struct lg_log *log, MDB_txn *txn, uint64_t m,
                       uint64_t n, cy_hash proof[CY_PROOF_MAX], size_t *np)
{
    int rv = check_size(log, txn, n);
    struct reader r = {log, txn};
    return rv ? rv : cy_consistency_proof(proof, np, m, n, read_hash, &r);
}
