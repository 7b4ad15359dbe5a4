/*
 * The Merkle log in LMDB (DESIGN 3.2, spec/merkle.md): the leaves by index,
 * the hashes of every complete subtree, and an optional index from a
 * 32-byte entry id to the leaf's index.
 *
 * The log owns no transaction: every function works inside the caller's
 * MDB_txn, so a batch of appends commits or vanishes together with whatever
 * else the caller writes in that transaction. Reads work in read-only or
 * write transactions and see the transaction's own appends.
 *
 * Costs (n leaves): size O(1); append O(log n) worst case, O(1) amortised
 * (one leaf put, on average two hash puts and one hash read, all at the end
 * of their databases: MDB_APPEND); get and find one B-tree lookup; a tree
 * hash popcount(size) hash reads; a proof at most ceil(log2 size) +
 * popcount(size) + 1 hash reads and as many SHA-256 node hashes. Nothing
 * ever rescans the log.
 *
 * All functions return 0 or a negative CB_E* code. LMDB errors become
 * CB_EFULL (map full), CB_ENOTFOUND, CB_ECORRUPT (LMDB corruption, a stored
 * value of the wrong size, a hash the tree needs missing) or CB_EIO.
 * The struct holds only database handles; it may be shared by threads
 * (each with its own transaction, as LMDB requires).
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

/*
 * Opens the log's three named databases in txn, creating them if absent
 * (creating needs a write transaction; the environment needs maxdbs >= 3
 * for them). The handles stay valid for the environment's life once txn
 * commits (LMDB's rule for mdb_dbi_open; if txn aborts they are gone).
 * Checks that the stored-hash count matches the number of leaves and that
 * no more ids than leaves are indexed: CB_ECORRUPT otherwise.
 * In a read-only transaction, CB_ENOTFOUND when the log was never created.
 */
int lg_log_open(struct lg_log *log, MDB_txn *txn);

/* Number of leaves, O(1) (LMDB keeps the count). */
int lg_log_size(const struct lg_log *log, MDB_txn *txn, uint64_t *size);

/*
 * Appends leaf[len] (any bytes, len may be 0) at index *size, stores the
 * subtree hashes it completes and, when id is not NULL, indexes id -> index.
 * *index gets the new leaf's index. txn must be a write transaction.
 *
 * CB_EDUPLICATE: id is already indexed (by an earlier append, committed or
 * in this transaction). CB_ETOOBIG: len exceeds LMDB's 4 GiB value limit.
 * CB_EINVAL: leaf is NULL with len > 0. CB_ECORRUPT: the store disagrees
 * with itself (a sibling hash missing, a key already taken).
 * An append is all or nothing: on any error it has left nothing of itself
 * that can be committed. On the errors above it wrote nothing, or undid
 * what it wrote, and txn stays usable. On CB_EFULL (map full), CB_EIO or
 * CB_ENOMEM LMDB has failed the transaction: abort it (a commit would be
 * refused).
 */
int lg_log_append(const struct lg_log *log, MDB_txn *txn, const uint8_t *leaf,
                  size_t len, const uint8_t id[32], uint64_t *index);

/*
 * lg_log_append for a caller that already has the leaf hash
 * (cy_leaf_hash(leaf_hash, leaf, len), which the ledger computes for its
 * chains anyway): saves hashing the leaf a second time. leaf_hash is
 * trusted -- a wrong one makes every later root wrong -- so pass only a
 * hash computed from these exact bytes.
 */
int lg_log_append_hashed(const struct lg_log *log, MDB_txn *txn,
                         const uint8_t *leaf, size_t len,
                         const cy_hash leaf_hash, const uint8_t id[32],
                         uint64_t *index);

/*
 * The leaf at index: *leaf points into the LMDB map and is borrowed -- valid
 * until txn ends or, in a write transaction, until its next write (as
 * mdb_get's values). Never write through it. CB_ENOTFOUND when index >=
 * size.
 */
int lg_log_get(const struct lg_log *log, MDB_txn *txn, uint64_t index,
               const uint8_t **leaf, size_t *len);

/* The index of the leaf appended with id; CB_ENOTFOUND when none. */
int lg_log_find(const struct lg_log *log, MDB_txn *txn, const uint8_t id[32],
                uint64_t *index);

/* The stored leaf hash SHA-256(0x00 || leaf) of index; CB_ERANGE when
 * index >= size. */
int lg_log_leaf_hash(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     cy_hash out);

/* RFC 9162 tree hash of the first size leaves, for any size <= the log's
 * size (0: SHA-256 of nothing). CB_ERANGE when size is larger. */
int lg_log_root(const struct lg_log *log, MDB_txn *txn, uint64_t size,
                cy_hash out);

/* RFC 9162 inclusion proof of leaf index in the tree of the first size
 * leaves; *n gets the number of hashes (0 for size 1). CB_ERANGE unless
 * index < size <= the log's size. */
int lg_log_inclusion(const struct lg_log *log, MDB_txn *txn, uint64_t index,
                     uint64_t size, cy_hash proof[CY_PROOF_MAX], size_t *n);

/* RFC 9162 consistency proof from the tree of m leaves to the tree of n
 * leaves; *np gets the number of hashes (0 when m == n). CB_ERANGE unless
 * 0 < m <= n <= the log's size. */
int lg_log_consistency(const struct lg_log *log, MDB_txn *txn, uint64_t m,
                       uint64_t n, cy_hash proof[CY_PROOF_MAX], size_t *np);

/*
 * Go tlog's StoredHashIndex: the number under which "log.hashes" stores the
 * hash of the complete subtree (level, n). Appending leaf i creates the
 * hashes numbered lg_stored_hash_index(0, i) onwards, consecutively, so
 * every hash write is an append; lg_stored_hash_index(0, n) is also the
 * number of hashes stored for n leaves.
 */
uint64_t lg_stored_hash_index(unsigned level, uint64_t n);

#endif
