/*
 * RFC 9162 (RFC 6962) Merkle tree hashing and proofs, SHA-256, independent of
 * storage.
 *
 *   leaf hash = SHA-256(0x00 || leaf bytes)
 *   node hash = SHA-256(0x01 || left || right)
 *
 * Storage provides the hashes of complete subtrees through a callback: the
 * subtree at (level L, index i) covers leaves [i * 2^L, (i + 1) * 2^L) and
 * level 0 holds the leaf hashes. Tree hashes and proofs for any size are
 * assembled from O(log n) such reads, as Go's golang.org/x/mod/sumdb/tlog
 * does. Proofs are arrays of 32-byte hashes in RFC 9162 order.
 */
#ifndef CREDBANK_MERKLE_H
#define CREDBANK_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include <credbank/errors.h>

/* Enough for any proof over 2^64 leaves. */
#define CY_PROOF_MAX 64

typedef uint8_t cy_hash[32];

void cy_leaf_hash(cy_hash out, const void *leaf, size_t len);
void cy_node_hash(cy_hash out, const cy_hash left, const cy_hash right);

/* Reads the hash of the complete subtree (level, index) into out; returns 0
 * or a negative CB_E* code, which the caller passes on. */
typedef int (*cy_hash_reader)(void *ctx, unsigned level, uint64_t index,
                              cy_hash out);

/* Tree hash of the first size leaves (size 0: SHA-256 of nothing). */
int cy_tree_hash(cy_hash out, uint64_t size, cy_hash_reader rd, void *ctx);

/* Inclusion proof of leaf index in the tree of size leaves; *n gets the
 * number of hashes. CB_ERANGE unless index < size. */
int cy_inclusion_proof(cy_hash proof[CY_PROOF_MAX], size_t *n, uint64_t index,
                       uint64_t size, cy_hash_reader rd, void *ctx);

/* Consistency proof from size m to size n; CB_ERANGE unless 0 < m <= n.
 * (m == n gives an empty proof.) */
int cy_consistency_proof(cy_hash proof[CY_PROOF_MAX], size_t *np, uint64_t m,
                         uint64_t n, cy_hash_reader rd, void *ctx);

/* 0 when proof shows leaf hash `leaf` at index in the tree of size with
 * root; CB_EVALUE otherwise (also for index >= size or a wrong length). */
int cy_inclusion_verify(const cy_hash leaf, uint64_t index, uint64_t size,
                        const cy_hash *proof, size_t n, const cy_hash root);

/* A memo of node hashes, for checking many proofs against one tree (a
 * bundle's inclusion proofs share their upper nodes): each node hash
 * computed is remembered by its input (left, right), so a repeated one
 * costs a comparison instead of SHA-256. Being a memo of a pure function it
 * changes no result. At most capacity/2 hashes are kept (capacity rounded
 * up to a power of two, at most 2^24); lookups probe a bounded number of
 * slots from a randomly seeded position, so crafted inputs cannot make it
 * slower than computing. */
struct cy_node_memo;
int cy_node_memo_new(struct cy_node_memo **out, size_t capacity);
void cy_node_memo_free(struct cy_node_memo *m);
void cy_node_memo_clear(struct cy_node_memo *m); /* forgets all, O(1) */
/* cy_node_hash through the memo (m NULL: no memo). out may alias. */
void cy_node_hash_memo(struct cy_node_memo *m, cy_hash out,
                       const cy_hash left, const cy_hash right);
/* cy_inclusion_verify with its node hashes through m (NULL: none). */
int cy_inclusion_verify_memo(struct cy_node_memo *m, const cy_hash leaf,
                             uint64_t index, uint64_t size,
                             const cy_hash *proof, size_t n,
                             const cy_hash root);

/* 0 when proof shows the tree of size m with root_m is a prefix of the tree
 * of size n with root_n; CB_EVALUE otherwise. */
int cy_consistency_verify(uint64_t m, uint64_t n, const cy_hash root_m,
                          const cy_hash root_n, const cy_hash *proof,
                          size_t np);

/* Hashes of complete subtrees that appending leaf number `index` (its leaf
 * hash `leaf`) completes: out[0] = leaf (level 0), out[k] = subtree at level
 * k and index index >> k, for k = 0..*n-1. Reads the left siblings through
 * rd. Storage writes all of them; that is all an append needs. */
int cy_append_hashes(cy_hash out[CY_PROOF_MAX], size_t *n, uint64_t index,
                     const cy_hash leaf, cy_hash_reader rd, void *ctx);

#endif
