/*
 * The Merkle log in LMDB (DESIGN 3.2): leaves, complete-subtree hashes and
 * the entry-id index, written inside the caller's transaction so a batch of
 * appends is atomic with the rest of the ledger's state.
 *
 * Borrowed pointers (lg_log_get) live until the transaction ends, as with
 * mdb_get. All functions return 0 or a negative CB_E* code.
 */
#ifndef CREDBANK_LOG_H
#define CREDBANK_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include <credbank/errors.h>
#include <credbank/merkle.h>

struct lg_log {
    MDB_dbi leaves; /* "log.leaves": index (8 BE) -> leaf bytes */
    MDB_dbi hashes; /* "log.hashes": stored-hash number (8 BE) -> 32 bytes */
    MDB_dbi ids;    /* "log.ids": entry id (32) -> index (8 BE) */
};

/* Opens (creating, in a write txn) the log's databases. */
int lg_log_open(struct lg_log *log, MDB_txn *txn);
/* Number of leaves, O(1). */
int lg_log_size(const struct lg_log *log, MDB_txn *txn, uint64_t *size);
/* Appends a leaf; indexes id (if not NULL) -> its index, refusing an id
 * already present with CB_EDUPLICATE (nothing written). *index gets the
 * leaf's index. O(log n) hash reads and writes. */
int lg_log_append(const struct lg_log *log, MDB_txn *txn, const uint8_t *leaf,
                  size_t len, const uint8_t id[32], uint64_t *index);
/* The leaf at index: borrowed until txn ends. CB_ENOTFOUND past the end. */
int lg_log_get(const struct lg_log *log, MDB_txn *txn, uint64_t index,
               const uint8_t **leaf, size_t *len);
/* The index of entry id; CB_ENOTFOUND. */
int lg_log_find(const struct lg_log *log, MDB_txn *txn, const uint8_t id[32],
                uint64_t *index);
/* Leaf hash of index. */
int lg_log_leaf_hash(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     cy_hash out);
/* Tree hash of the first size leaves (size <= the log's size). */
int lg_log_root(const struct lg_log *log, MDB_txn *txn, uint64_t size,
                cy_hash out);
/* Inclusion proof of index in the tree of size leaves. */
int lg_log_inclusion(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     uint64_t size, cy_hash proof[CY_PROOF_MAX], size_t *n);
/* Consistency proof from m to n leaves (0 < m <= n <= size). */
int lg_log_consistency(const struct lg_log *log, MDB_txn *txn, uint64_t m,
                       uint64_t n, cy_hash proof[CY_PROOF_MAX], size_t *np);

/* Go tlog's StoredHashIndex: where the hash (level, n) is stored. Hashes are
 * numbered in the order appends create them, so every write appends. */
uint64_t lg_stored_hash_index(unsigned level, uint64_t n);

#endif
