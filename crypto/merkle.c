/*
 * RFC 9162 Merkle tree hashing and proofs over stored complete subtrees.
 *
 * Storage keeps only complete subtrees: (level L, index i) covers leaves
 * [i * 2^L, (i + 1) * 2^L). RFC 9162 defines everything by recursion on
 * MTH(D[lo:hi]), splitting at the largest power of two below hi - lo. Walk
 * that recursion and every range it touches is one of two kinds:
 *
 *   - a complete subtree (a power-of-two size, aligned): one read;
 *   - a suffix [s, n) of the whole tree, where s is a boundary of the
 *     decomposition of [0, n) into complete subtrees -- one subtree per set
 *     bit of n, largest first (the "peaks"). Once the recursion leaves the
 *     right edge of the tree it stays inside a complete subtree.
 *
 * So a call reads the peaks of n at most once, lazily from the right, and
 * keeps the running suffix hashes ("struct edge"). A tree hash costs
 * popcount(n) reads; an inclusion or consistency proof at most
 * ceil(log2 n) + popcount(n) + 1 reads and as many node hashes: O(log n),
 * never a rescan and never the O(log^2 n) of recomputing each right-edge
 * sibling from scratch.
 *
 * Proofs are built top-down and emitted bottom-up (RFC 9162 order: the
 * sibling nearest the leaf first). Verification follows RFC 9162 2.1.3.2 and
 * 2.1.4.2 step by step and needs no storage.
 */
#include <credbank/merkle.h>

#include <stdlib.h>

#include <sodium.h>

#include <stdbool.h>
#include <string.h>

#include <credbank/crypto.h>

void cy_leaf_hash(cy_hash out, const void *leaf, size_t len)
{
    static const uint8_t zero = 0;
    cy_sha256_2(out, &zero, 1, leaf, len);
}

void cy_node_hash(cy_hash out, const cy_hash left, const cy_hash right)
{
    /* out may alias left or right: both are copied before hashing. */
    uint8_t buf[65];
    buf[0] = 1;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    cy_sha256(out, buf, sizeof buf);
}

/* Largest power of two strictly below n (n >= 2): RFC 9162's k. */
static uint64_t split(uint64_t n)
{
    uint64_t k = (uint64_t)1 << 63;
    while (k >= n)
        k >>= 1;
    return k;
}

static unsigned ctz64(uint64_t x) /* x != 0 */
{
    return (unsigned)__builtin_ctzll(x);
}

/* The right edge of the tree of n leaves: its peaks and, computed lazily
 * from the right, suffix[j] = MTH(D[start[j]:n]). */
struct edge {
    uint64_t n;
    cy_hash_reader rd;
    void *ctx;
    unsigned count;      /* number of peaks: popcount(n) */
    unsigned from;       /* suffix[from .. count-1] are computed */
    uint64_t start[64];  /* first leaf of peak j */
    uint8_t level[64];   /* peak j covers 2^level[j] leaves */
    cy_hash suffix[64];
};

static void edge_init(struct edge *e, uint64_t n, cy_hash_reader rd,
                      void *ctx)
{
    uint64_t lo = 0;
    e->n = n;
    e->rd = rd;
    e->ctx = ctx;
    e->count = 0;
    for (int l = 63; l >= 0; l--) {
        if (n >> l & 1) {
            e->start[e->count] = lo;
            e->level[e->count] = (uint8_t)l;
            e->count++;
            lo += (uint64_t)1 << l;
        }
    }
    e->from = e->count;
}

/* MTH(D[start[j]:n]) into out. */
static int edge_suffix(struct edge *e, unsigned j, cy_hash out)
{
    while (e->from > j) {
        unsigned f = e->from - 1;
        cy_hash peak;
        int rv = e->rd(e->ctx, e->level[f], e->start[f] >> e->level[f],
                       peak);
        if (rv != 0)
            return rv;
        if (f == e->count - 1)
            memcpy(e->suffix[f], peak, 32);
        else
            cy_node_hash(e->suffix[f], peak, e->suffix[f + 1]);
        e->from = f;
    }
    memcpy(out, e->suffix[j], 32);
    return 0;
}

/* MTH(D[lo:hi]) for a range the RFC 9162 recursion over the tree of e->n
 * leaves produces: a complete subtree or a suffix of the right edge. */
static int range_hash(struct edge *e, uint64_t lo, uint64_t hi, cy_hash out)
{
    uint64_t size = hi - lo;
    if (lo >= hi || hi > e->n)
        return CB_EINTERNAL;
    if ((size & (size - 1)) == 0 && lo % size == 0) {
        unsigned level = ctz64(size);
        return e->rd(e->ctx, level, lo >> level, out);
    }
    if (hi == e->n)
        for (unsigned j = 0; j < e->count; j++)
            if (e->start[j] == lo)
                return edge_suffix(e, j, out);
    return CB_EINTERNAL; /* not a range the recursion produces */
}

int cy_tree_hash(cy_hash out, uint64_t size, cy_hash_reader rd, void *ctx)
{
    if (size == 0) {
        cy_sha256(out, "", 0);
        return 0;
    }
    struct edge e;
    edge_init(&e, size, rd, ctx);
    return edge_suffix(&e, 0, out);
}

/* Proof hashes found top-down, emitted in reverse (bottom-up). */
struct sibs {
    size_t n;
    uint64_t lo[CY_PROOF_MAX], hi[CY_PROOF_MAX];
};

static int sibs_push(struct sibs *s, uint64_t lo, uint64_t hi)
{
    if (s->n == CY_PROOF_MAX)
        return CB_ERANGE;
    s->lo[s->n] = lo;
    s->hi[s->n] = hi;
    s->n++;
    return 0;
}

/* Appends the hashes of s's ranges, last found first, to proof[*n]. */
static int sibs_emit(struct edge *e, const struct sibs *s,
                     cy_hash proof[CY_PROOF_MAX], size_t *n)
{
    for (size_t i = s->n; i-- > 0;) {
        if (*n == CY_PROOF_MAX)
            return CB_ERANGE;
        int rv = range_hash(e, s->lo[i], s->hi[i], proof[*n]);
        if (rv != 0)
            return rv;
        (*n)++;
    }
    return 0;
}

int cy_inclusion_proof(cy_hash proof[CY_PROOF_MAX], size_t *n, uint64_t index,
                       uint64_t size, cy_hash_reader rd, void *ctx)
{
    /* RFC 9162 2.1.3.1: PATH(m, D[lo:hi]) = PATH(m, D[lo:lo+k]) :
     * MTH(D[lo+k:hi]) when m < lo + k, else PATH(m, D[lo+k:hi]) :
     * MTH(D[lo:lo+k]); empty for a single leaf. */
    struct sibs s = {0};
    struct edge e;
    uint64_t lo = 0, hi = size;
    int rv;
    *n = 0;
    if (index >= size)
        return CB_ERANGE;
    while (hi - lo > 1) {
        uint64_t k = split(hi - lo);
        if (index < lo + k) {
            rv = sibs_push(&s, lo + k, hi);
            hi = lo + k;
        } else {
            rv = sibs_push(&s, lo, lo + k);
            lo += k;
        }
        if (rv != 0)
            return rv;
    }
    edge_init(&e, size, rd, ctx);
    rv = sibs_emit(&e, &s, proof, n);
    if (rv != 0)
        *n = 0;
    return rv;
}

int cy_consistency_proof(cy_hash proof[CY_PROOF_MAX], size_t *np, uint64_t m,
                         uint64_t n, cy_hash_reader rd, void *ctx)
{
    /* RFC 9162 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true);
     * SUBPROOF(m, D[lo:hi], b) is empty when m = hi - lo and b, is
     * MTH(D[lo:hi]) when m = hi - lo and not b; otherwise with k the split,
     * SUBPROOF(m, D[lo:lo+k], b) : MTH(D[lo+k:hi]) when m <= k, else
     * SUBPROOF(m - k, D[lo+k:hi], false) : MTH(D[lo:lo+k]). */
    struct sibs s = {0};
    struct edge e;
    uint64_t lo = 0, hi = n, mm = m;
    bool b = true;
    int rv = 0;
    *np = 0;
    if (m == 0 || m > n)
        return CB_ERANGE;
    if (m == n)
        return 0;
    while (mm != hi - lo) {
        uint64_t k = split(hi - lo);
        if (mm <= k) {
            rv = sibs_push(&s, lo + k, hi);
            hi = lo + k;
        } else {
            rv = sibs_push(&s, lo, lo + k);
            mm -= k;
            lo += k;
            b = false;
        }
        if (rv != 0)
            return rv;
    }
    edge_init(&e, n, rd, ctx);
    if (!b) {
        rv = range_hash(&e, lo, hi, proof[0]);
        if (rv != 0)
            return rv;
        *np = 1;
    }
    rv = sibs_emit(&e, &s, proof, np);
    if (rv != 0)
        *np = 0;
    return rv;
}

/* ---- node-hash memo ---- */

/* One remembered node hash: SHA-256(0x01 || in) = out. gen says which
 * clearing it belongs to (a slot of an older one is free). */
struct memo_slot {
    uint8_t in[64];
    cy_hash out;
    uint32_t gen;
};

struct cy_node_memo {
    struct memo_slot *slot;
    size_t mask;    /* capacity - 1, capacity a power of two */
    size_t used;    /* slots of this generation */
    uint32_t gen;
    uint64_t seed;  /* random: proof hashes come from whoever made the
                     * bundle, so bucket positions must not be theirs */
};

/* Probes per lookup: bounds the work a crafted run of colliding inputs can
 * cause (past it the hash is simply computed). */
#define MEMO_PROBES 8

int cy_node_memo_new(struct cy_node_memo **out, size_t capacity)
{
    size_t cap = 16;
    while (cap < capacity && cap < ((size_t)1 << 24))
        cap <<= 1;
    struct cy_node_memo *m = calloc(1, sizeof *m);
    if (m == NULL || (m->slot = calloc(cap, sizeof *m->slot)) == NULL) {
        free(m);
        return CB_ENOMEM;
    }
    m->mask = cap - 1;
    m->gen = 1;
    randombytes_buf(&m->seed, sizeof m->seed);
    *out = m;
    return 0;
}

void cy_node_memo_free(struct cy_node_memo *m)
{
    if (m == NULL)
        return;
    free(m->slot);
    free(m);
}

void cy_node_memo_clear(struct cy_node_memo *m)
{
    if (++m->gen == 0) { /* wrapped: every slot's gen may look current */
        memset(m->slot, 0, (m->mask + 1) * sizeof *m->slot);
        m->gen = 1;
    }
    m->used = 0;
}

void cy_node_hash_memo(struct cy_node_memo *m, cy_hash out,
                       const cy_hash left, const cy_hash right)
{
    if (m == NULL) {
        cy_node_hash(out, left, right);
        return;
    }
    uint8_t in[64];
    memcpy(in, left, 32);
    memcpy(in + 32, right, 32);
    uint64_t a, b;
    memcpy(&a, in, 8);
    memcpy(&b, in + 32, 8);
    /* Fibonacci hashing of the seeded words: the high bits of the product */
    uint64_t h = ((a ^ m->seed) + b * 0x9e3779b97f4a7c15ull) *
                 0xbf58476d1ce4e5b9ull;
    size_t i = (size_t)(h >> 32);
    struct memo_slot *free_slot = NULL;
    for (unsigned p = 0; p < MEMO_PROBES; p++, i++) {
        struct memo_slot *s = &m->slot[i & m->mask];
        if (s->gen != m->gen) {
            free_slot = s;
            break;
        }
        if (memcmp(s->in, in, 64) == 0) {
            memcpy(out, s->out, 32);
            return;
        }
    }
    cy_node_hash(out, in, in + 32);
    /* at most half full: lookups of absent inputs stay short */
    if (free_slot != NULL && 2 * m->used < m->mask + 1) {
        memcpy(free_slot->in, in, 64);
        memcpy(free_slot->out, out, 32);
        free_slot->gen = m->gen;
        m->used++;
    }
}

int cy_inclusion_verify(const cy_hash leaf, uint64_t index, uint64_t size,
                        const cy_hash *proof, size_t n, const cy_hash root)
{
    return cy_inclusion_verify_memo(NULL, leaf, index, size, proof, n, root);
}

int cy_inclusion_verify_memo(struct cy_node_memo *m, const cy_hash leaf,
                             uint64_t index, uint64_t size,
                             const cy_hash *proof, size_t n,
                             const cy_hash root)
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
            cy_node_hash_memo(m, r, proof[i], r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            cy_node_hash_memo(m, r, r, proof[i]);
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
    /* RFC 9162 2.1.4.2; m == n needs an empty proof and equal roots, as
     * Go's tlog.CheckTree. */
    if (m == 0 || m > n)
        return CB_EVALUE;
    if (m == n)
        return (np == 0 && memcmp(root_m, root_n, 32) == 0) ? 0 : CB_EVALUE;
    if (np == 0 || np > CY_PROOF_MAX)
        return CB_EVALUE;
    /* Step 2: when m is a power of two the proof starts implicitly with
     * root_m; c(i) is the i-th hash of that (possibly extended) path. */
    size_t skip = (m & (m - 1)) == 0 ? 1 : 0;
    size_t len = np + skip;
#define C(i) ((i) < skip ? root_m : proof[(i) - skip])
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    cy_hash fr, sr;
    memcpy(fr, C(0), 32);
    memcpy(sr, C(0), 32);
    for (size_t i = 1; i < len; i++) {
        if (sn == 0)
            return CB_EVALUE;
        if ((fn & 1) || fn == sn) {
            cy_node_hash(fr, C(i), fr);
            cy_node_hash(sr, C(i), sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            cy_node_hash(sr, sr, C(i));
        }
        fn >>= 1;
        sn >>= 1;
    }
#undef C
    if (sn != 0 || memcmp(fr, root_m, 32) != 0 || memcmp(sr, root_n, 32) != 0)
        return CB_EVALUE;
    return 0;
}

int cy_append_hashes(cy_hash out[CY_PROOF_MAX], size_t *n, uint64_t index,
                     const cy_hash leaf, cy_hash_reader rd, void *ctx)
{
    /* Leaf `index` completes the subtree (L + 1, index >> (L + 1)) for
     * every L below the number of trailing one bits of index; its left
     * half is the stored (L, (index >> L) - 1), its right half the hash
     * just made. */
    *n = 0;
    if (index == UINT64_MAX)
        return CB_ERANGE;
    memcpy(out[0], leaf, 32);
    size_t k = 1;
    for (uint64_t i = index; i & 1; i >>= 1, k++) {
        cy_hash left;
        int rv = rd(ctx, (unsigned)(k - 1), i - 1, left);
        if (rv != 0)
            return rv;
        cy_node_hash(out[k], left, out[k - 1]);
    }
    *n = k;
    return 0;
}
