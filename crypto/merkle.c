/*
 * RFC 9162 Merkle tree hashing and proofs over stored complete subtrees.
 *
 * Every subtree that storage keeps is complete: (level L, index i) covers
 * leaves [i * 2^L, (i + 1) * 2^L). Any range [lo, hi) that RFC 9162 needs --
 * MTH(D[lo:hi]) where lo is a multiple of the largest power of two below
 * hi - lo -- splits into at most log2(n) complete subtrees of strictly
 * decreasing size from left to right; its hash folds them from the right.
 * So a tree hash costs O(log n) reads and a proof O(log n) subtree hashes,
 * each O(log n) reads in the worst case.
 */
#include <credbank/merkle.h>

#include <string.h>

#include <credbank/crypto.h>

void cy_leaf_hash(cy_hash out, const void *leaf, size_t len)
{
    struct cy_sha256 h;
    uint8_t zero = 0;
    cy_sha256_init(&h);
    cy_sha256_update(&h, &zero, 1);
    cy_sha256_update(&h, leaf, len);
    cy_sha256_final(&h, out);
}

void cy_node_hash(cy_hash out, const cy_hash left, const cy_hash right)
{
    uint8_t buf[65];
    buf[0] = 1;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    cy_sha256(out, buf, sizeof buf);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* MTH(D[lo:hi]) for lo < hi, lo aligned so that the range decomposes into
 * complete subtrees left to right. */
static int range_hash(cy_hash out, uint64_t lo, uint64_t hi, cy_hash_reader rd,
                      void *ctx)
{
    cy_hash parts[64];
    int np = 0;
    while (lo < hi) {
        /* the largest aligned complete subtree starting at lo within hi */
        unsigned level = 0;
        while (level < 63) {
            uint64_t size = (uint64_t)1 << (level + 1);
            if (lo % size != 0 || lo + size > hi)
                break;
            level++;
        }
        int rv = rd(ctx, level, lo >> level, parts[np]);
        if (rv != 0)
            return rv;
        np++;
        lo += (uint64_t)1 << level;
    }
    memcpy(out, parts[np - 1], 32);
    for (int i = np - 2; i >= 0; i--)
        cy_node_hash(out, parts[i], out);
    return 0;
}

int cy_tree_hash(cy_hash out, uint64_t size, cy_hash_reader rd, void *ctx)
{
    if (size == 0) {
        cy_sha256(out, "", 0);
        return 0;
    }
    return range_hash(out, 0, size, rd, ctx);
}

/* RFC 9162 2.1.3.1 PATH(m, D[lo:hi]), appended bottom-up into proof. */
static int path(cy_hash *proof, size_t *n, uint64_t m, uint64_t lo,
                uint64_t hi, cy_hash_reader rd, void *ctx)
{
    if (hi - lo <= 1)
        return 0;
    uint64_t k = split(hi - lo);
    int rv;
    cy_hash sib;
    if (m < k) {
        rv = path(proof, n, m, lo, lo + k, rd, ctx);
        if (rv == 0)
            rv = range_hash(sib, lo + k, hi, rd, ctx);
    } else {
        rv = path(proof, n, m - k, lo + k, hi, rd, ctx);
        if (rv == 0)
            rv = range_hash(sib, lo, lo + k, rd, ctx);
    }
    if (rv == 0)
        memcpy(proof[(*n)++], sib, 32);
    return rv;
}

int cy_inclusion_proof(cy_hash proof[CY_PROOF_MAX], size_t *n, uint64_t index,
                       uint64_t size, cy_hash_reader rd, void *ctx)
{
    *n = 0;
    if (index >= size)
        return CB_ERANGE;
    return path(proof, n, index, 0, size, rd, ctx);
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[lo:hi], b). */
static int subproof(cy_hash *proof, size_t *np, uint64_t m, uint64_t lo,
                    uint64_t hi, int b, cy_hash_reader rd, void *ctx)
{
    uint64_t n = hi - lo;
    if (m == n) {
        if (b)
            return 0;
        cy_hash h;
        int rv = range_hash(h, lo, hi, rd, ctx);
        if (rv == 0)
            memcpy(proof[(*np)++], h, 32);
        return rv;
    }
    uint64_t k = split(n);
    cy_hash sib;
    int rv;
    if (m <= k) {
        rv = subproof(proof, np, m, lo, lo + k, b, rd, ctx);
        if (rv == 0)
            rv = range_hash(sib, lo + k, hi, rd, ctx);
    } else {
        rv = subproof(proof, np, m - k, lo + k, hi, 0, rd, ctx);
        if (rv == 0)
            rv = range_hash(sib, lo, lo + k, rd, ctx);
    }
    if (rv == 0)
        memcpy(proof[(*np)++], sib, 32);
    return rv;
}

int cy_consistency_proof(cy_hash proof[CY_PROOF_MAX], size_t *np, uint64_t m,
                         uint64_t n, cy_hash_reader rd, void *ctx)
{
    *np = 0;
    if (m == 0 || m > n)
        return CB_ERANGE;
    if (m == n)
        return 0;
    return subproof(proof, np, m, 0, n, 1, rd, ctx);
}

int cy_inclusion_verify(const cy_hash leaf, uint64_t index, uint64_t size,
                        const cy_hash *proof, size_t n, const cy_hash root)
{
    /* RFC 9162 2.1.3.2 */
    if (index >= size)
        return CB_EVALUE;
    uint64_t fn = index, sn = size - 1;
    cy_hash r;
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return CB_EVALUE;
        if ((fn & 1) || fn == sn) {
            cy_node_hash(r, proof[i], r);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cy_node_hash(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(r, root, 32) != 0)
        return CB_EVALUE;
    return 0;
}

int cy_consistency_verify(uint64_t m, uint64_t n, const cy_hash root_m,
                          const cy_hash root_n, const cy_hash *proof,
                          size_t np)
{
    /* RFC 9162 2.1.4.2 */
    if (m == 0 || m > n)
        return CB_EVALUE;
    if (m == n)
        return (np == 0 && memcmp(root_m, root_n, 32) == 0) ? 0 : CB_EVALUE;
    if (np == 0)
        return CB_EVALUE;
    cy_hash path_buf[CY_PROOF_MAX + 1];
    size_t plen = 0;
    if ((m & (m - 1)) == 0) { /* m is a power of two: prepend root_m */
        memcpy(path_buf[plen++], root_m, 32);
    }
    if (np + plen > CY_PROOF_MAX + 1)
        return CB_EVALUE;
    for (size_t i = 0; i < np; i++)
        memcpy(path_buf[plen++], proof[i], 32);
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    cy_hash fr, sr;
    memcpy(fr, path_buf[0], 32);
    memcpy(sr, path_buf[0], 32);
    for (size_t i = 1; i < plen; i++) {
        if (sn == 0)
            return CB_EVALUE;
        if ((fn & 1) || fn == sn) {
            cy_node_hash(fr, path_buf[i], fr);
            cy_node_hash(sr, path_buf[i], sr);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cy_node_hash(sr, sr, path_buf[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(fr, root_m, 32) != 0 || memcmp(sr, root_n, 32) != 0)
        return CB_EVALUE;
    return 0;
}

int cy_append_hashes(cy_hash out[CY_PROOF_MAX], size_t *n, uint64_t index,
                     const cy_hash leaf, cy_hash_reader rd, void *ctx)
{
    size_t k = 0;
    memcpy(out[k++], leaf, 32);
    /* Leaf `index` completes the subtree at level L + 1 whenever bit L of
     * index is set for L = 0, 1, ... while those bits are all set. */
    uint64_t i = index;
    unsigned level = 0;
    while (i & 1) {
        cy_hash left;
        int rv = rd(ctx, level, (i ^ 1), left);
        if (rv != 0)
            return rv;
        cy_node_hash(out[k], left, out[k - 1]);
        k++;
        i >>= 1;
        level++;
    }
    *n = k;
    return 0;
}
