/*
 * crypto/merkle.c: RFC 9162 hashing and proofs.
 *
 * Known answers come from Go's golang.org/x/mod/sumdb/tlog
 * (spec/vectors/tlog.json, made by spec/vectors/gen_tlog.go): leaf hashes,
 * the tree hash at every size 1..1100, the stored-hash order, inclusion and
 * consistency proofs. A naive transcription of RFC 9162's recursive
 * definitions (ref_*) checks every (index, size) and (m, n) pair of the
 * small trees. The properties: a proof verifies exactly for its own leaf,
 * index and sizes -- any flipped bit, other index, other size, other leaf,
 * truncated or extended proof fails -- and costs O(log n) reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/crypto.h>
#include <credbank/merkle.h>

#define VECTORS CB_SOURCE_DIR "/spec/vectors/tlog.json"

/* ---- the vectors ---- */

static json_t *vec;
static size_t nleaves;
static cy_hash *leafh;  /* leafh[i]: tlog.RecordHash(leaf i) */
static cy_hash *roots;  /* roots[n]: tree hash of n leaves, roots[0] empty */

static void unhex32(cy_hash out, json_t *s)
{
    cr_assert(json_is_string(s));
    cr_assert_eq(cy_unhex(out, 32, json_string_value(s)), 0);
}

static size_t load_proof(json_t *arr, cy_hash proof[CY_PROOF_MAX])
{
    size_t n = json_array_size(arr);
    cr_assert_leq(n, CY_PROOF_MAX);
    for (size_t i = 0; i < n; i++)
        unhex32(proof[i], json_array_get(arr, i));
    return n;
}

static uint64_t jint(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    cr_assert(json_is_integer(v), "%s", key);
    return (uint64_t)json_integer_value(v);
}

/* ---- an in-memory store of complete subtrees, counting reads ---- */

struct mem {
    cy_hash *level[64]; /* level[L][i]: subtree (L, i) */
    uint64_t size;      /* leaves appended */
    unsigned long reads;
    int fail_at;        /* > 0: the fail_at-th read returns CB_EIO */
};

static struct mem mem;

static int mem_read(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    struct mem *m = ctx;
    m->reads++;
    if (m->fail_at > 0 && m->reads == (unsigned long)m->fail_at)
        return CB_EIO;
    /* Only complete subtrees exist; asking for anything else is a bug. */
    if (level >= 64 || ((index + 1) << level) > m->size ||
        m->level[level] == NULL)
        return CB_ENOTFOUND;
    memcpy(out, m->level[level][index], 32);
    return 0;
}

static void mem_append(struct mem *m, const cy_hash lh)
{
    cy_hash hs[CY_PROOF_MAX];
    size_t nh;
    cr_assert_eq(cy_append_hashes(hs, &nh, m->size, lh, mem_read, m), 0);
    for (size_t k = 0; k < nh; k++) {
        if (m->level[k] == NULL)
            m->level[k] = calloc((nleaves >> k) + 1, 32);
        memcpy(m->level[k][m->size >> k], hs[k], 32);
    }
    m->size++;
}

static void setup(void)
{
    json_error_t e;
    cr_assert_eq(cy_init(), 0);
    vec = json_load_file(VECTORS, 0, &e);
    cr_assert_not_null(vec, "%s: %s", VECTORS, e.text);
    json_t *hs = json_object_get(vec, "leaf_hashes");
    json_t *rs = json_object_get(vec, "roots");
    nleaves = json_array_size(hs);
    cr_assert_geq(nleaves, 1100);
    cr_assert_eq(json_array_size(rs), nleaves);
    leafh = calloc(nleaves, 32);
    roots = calloc(nleaves + 1, 32);
    unhex32(roots[0], json_object_get(vec, "empty_root"));
    for (size_t i = 0; i < nleaves; i++) {
        unhex32(leafh[i], json_array_get(hs, i));
        unhex32(roots[i + 1], json_array_get(rs, i));
    }
    memset(&mem, 0, sizeof mem);
    for (size_t i = 0; i < nleaves; i++)
        mem_append(&mem, leafh[i]);
}

static void teardown(void)
{
    for (int l = 0; l < 64; l++)
        free(mem.level[l]);
    free(leafh);
    free(roots);
    json_decref(vec);
}

TestSuite(merkle, .init = setup, .fini = teardown);

/* ---- RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1, transcribed naively ---- */

static uint64_t ref_split(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void ref_mth(cy_hash out, uint64_t lo, uint64_t hi)
{
    if (hi - lo == 1) {
        memcpy(out, leafh[lo], 32);
        return;
    }
    uint64_t k = ref_split(hi - lo);
    cy_hash l, r;
    ref_mth(l, lo, lo + k);
    ref_mth(r, lo + k, hi);
    cy_node_hash(out, l, r);
}

static void ref_path(cy_hash *proof, size_t *n, uint64_t m, uint64_t lo,
                     uint64_t hi)
{
    if (hi - lo == 1)
        return;
    uint64_t k = ref_split(hi - lo);
    if (m < k) {
        ref_path(proof, n, m, lo, lo + k);
        ref_mth(proof[(*n)++], lo + k, hi);
    } else {
        ref_path(proof, n, m - k, lo + k, hi);
        ref_mth(proof[(*n)++], lo, lo + k);
    }
}

static void ref_subproof(cy_hash *proof, size_t *n, uint64_t m, uint64_t lo,
                         uint64_t hi, bool b)
{
    if (m == hi - lo) {
        if (!b)
            ref_mth(proof[(*n)++], lo, hi);
        return;
    }
    uint64_t k = ref_split(hi - lo);
    if (m <= k) {
        ref_subproof(proof, n, m, lo, lo + k, b);
        ref_mth(proof[(*n)++], lo + k, hi);
    } else {
        ref_subproof(proof, n, m - k, lo + k, hi, false);
        ref_mth(proof[(*n)++], lo, lo + k);
    }
}

/* ---- helpers ---- */

static unsigned ceil_log2(uint64_t n)
{
    unsigned l = 0;
    while (l < 64 && ((uint64_t)1 << l) < n)
        l++;
    return l;
}

static void tree_hash(uint64_t n, cy_hash out)
{
    cr_assert_eq(cy_tree_hash(out, n, mem_read, &mem), 0, "size %llu",
                 (unsigned long long)n);
}

static void inclusion(uint64_t index, uint64_t size,
                      cy_hash proof[CY_PROOF_MAX], size_t *n)
{
    mem.reads = 0;
    cr_assert_eq(cy_inclusion_proof(proof, n, index, size, mem_read, &mem),
                 0, "index %llu size %llu", (unsigned long long)index,
                 (unsigned long long)size);
    cr_assert_leq(mem.reads,
                  ceil_log2(size) + (unsigned)__builtin_popcountll(size),
                  "reads for %llu in %llu", (unsigned long long)index,
                  (unsigned long long)size);
}

static void consistency(uint64_t m, uint64_t n, cy_hash proof[CY_PROOF_MAX],
                        size_t *np)
{
    mem.reads = 0;
    cr_assert_eq(cy_consistency_proof(proof, np, m, n, mem_read, &mem), 0,
                 "%llu -> %llu", (unsigned long long)m, (unsigned long long)n);
    cr_assert_leq(mem.reads,
                  ceil_log2(n) + 1 + (unsigned)__builtin_popcountll(n),
                  "reads for %llu -> %llu", (unsigned long long)m,
                  (unsigned long long)n);
}

/* The inclusion checks run twice: directly, and through a node-hash memo
 * shared by every check of the test (memo_g), which must change nothing. */
static struct cy_node_memo *memo_g;
static int incl(const cy_hash leaf, uint64_t i, uint64_t size,
                const cy_hash *p, size_t n, const cy_hash root)
{
    int a = cy_inclusion_verify(leaf, i, size, p, n, root);
    if (memo_g == NULL)
        return a;
    int b = cy_inclusion_verify_memo(memo_g, leaf, i, size, p, n, root);
    cr_assert_eq(a, b, "memo changed the result for %llu in %llu",
                 (unsigned long long)i, (unsigned long long)size);
    return b;
}
#define INCL_OK(leaf, i, size, p, n, root) \
    (incl((leaf), (i), (size), (const cy_hash *)(p), (n), (root)) == 0)
#define CONS_OK(m, n, rm, rn, p, np) \
    (cy_consistency_verify((m), (n), (rm), (rn), (const cy_hash *)(p), \
                           (np)) == 0)

/* ---- known answers ---- */

Test(merkle, leaf_hashes_match_tlog)
{
    json_t *ls = json_object_get(vec, "leaves");
    cr_assert_eq(json_array_size(ls), nleaves);
    int binary = 0;
    for (size_t i = 0; i < nleaves; i++) {
        const char *hex = json_string_value(json_array_get(ls, i));
        size_t len = strlen(hex) / 2;
        uint8_t *leaf = malloc(len + 1);
        cr_assert_eq(cy_unhex(leaf, len, hex), 0);
        cy_hash h;
        cy_leaf_hash(h, leaf, len);
        cr_assert_arr_eq(h, leafh[i], 32, "leaf %zu", i);
        char text[32];
        int tl = snprintf(text, sizeof text, "leaf-%zu", i);
        if ((size_t)tl != len || memcmp(text, leaf, len) != 0)
            binary++;
        free(leaf);
    }
    cr_assert_geq(binary, 5, "the vectors include binary leaves");
    /* The empty leaf: SHA-256 of the single byte 0x00. */
    cy_hash h, want;
    uint8_t zero = 0;
    cy_leaf_hash(h, NULL, 0);
    cy_sha256(want, &zero, 1);
    cr_assert_arr_eq(h, want, 32);
}

Test(merkle, node_hash_is_sha256_of_01_left_right_and_may_alias)
{
    uint8_t buf[65];
    cy_hash want, out;
    buf[0] = 1;
    memcpy(buf + 1, leafh[0], 32);
    memcpy(buf + 33, leafh[1], 32);
    cy_sha256(want, buf, sizeof buf);
    cy_node_hash(out, leafh[0], leafh[1]);
    cr_assert_arr_eq(out, want, 32);
    cr_assert_arr_eq(out, roots[2], 32, "the tree of two leaves");
    memcpy(out, leafh[0], 32);
    cy_node_hash(out, out, leafh[1]);
    cr_assert_arr_eq(out, want, 32);
    memcpy(out, leafh[1], 32);
    cy_node_hash(out, leafh[0], out);
    cr_assert_arr_eq(out, want, 32);
}

Test(merkle, tree_hash_matches_tlog_at_every_size_in_popcount_reads)
{
    for (uint64_t n = 0; n <= nleaves; n++) {
        cy_hash got;
        mem.reads = 0;
        tree_hash(n, got);
        cr_assert_arr_eq(got, roots[n], 32, "root of %llu",
                         (unsigned long long)n);
        cr_assert_eq(mem.reads, (unsigned long)__builtin_popcountll(n));
    }
    cy_hash empty;
    cy_sha256(empty, "", 0);
    cr_assert_arr_eq(roots[0], empty, 32, "size 0: SHA-256 of nothing");
}

Test(merkle, tree_hash_matches_rfc_definition)
{
    for (uint64_t n = 1; n <= 300; n++) {
        cy_hash got, want;
        tree_hash(n, got);
        ref_mth(want, 0, n);
        cr_assert_arr_eq(got, want, 32, "size %llu", (unsigned long long)n);
    }
}

Test(merkle, append_hashes_are_tlogs_stored_hashes_in_order)
{
    json_t *st = json_object_get(vec, "stored_hashes");
    uint64_t n = jint(vec, "stored_leaves");
    size_t at = 0;
    for (uint64_t i = 0; i < n; i++) {
        cy_hash hs[CY_PROOF_MAX];
        size_t nh;
        cr_assert_eq(cy_append_hashes(hs, &nh, i, leafh[i], mem_read, &mem),
                     0);
        cr_assert_eq(nh, 1 + (size_t)__builtin_ctzll(~i));
        for (size_t k = 0; k < nh; k++, at++) {
            cy_hash want;
            cr_assert_lt(at, json_array_size(st));
            unhex32(want, json_array_get(st, at));
            cr_assert_arr_eq(hs[k], want, 32, "stored hash %zu", at);
        }
    }
    cr_assert_eq(at, json_array_size(st));
    /* It reads exactly the left siblings, and passes reader errors on. */
    struct mem m = mem;
    m.reads = 0;
    m.fail_at = 3;
    cy_hash hs[CY_PROOF_MAX];
    size_t nh = 99;
    cr_assert_eq(cy_append_hashes(hs, &nh, 7, leafh[7], mem_read, &m),
                 CB_EIO);
    cr_assert_eq(nh, 0);
    m.reads = 0;
    m.fail_at = 0;
    cr_assert_eq(cy_append_hashes(hs, &nh, 1023, leafh[1023], mem_read, &m),
                 0);
    cr_assert_eq(m.reads, 10);
    cr_assert_eq(nh, 11);
    cr_assert_arr_eq(hs[10], roots[1024], 32);
    cr_assert_eq(cy_append_hashes(hs, &nh, UINT64_MAX, leafh[0], mem_read,
                                  &m),
                 CB_ERANGE);
}

/* Checks every inclusion vector; returns how many. */
static size_t inclusion_vectors(void)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "inclusion"), i, v) {
        uint64_t index = jint(v, "index"), size = jint(v, "size");
        cy_hash want[CY_PROOF_MAX], got[CY_PROOF_MAX];
        size_t nw = load_proof(json_object_get(v, "proof"), want), ng;
        inclusion(index, size, got, &ng);
        cr_assert_eq(ng, nw, "proof length for %llu in %llu",
                     (unsigned long long)index, (unsigned long long)size);
        for (size_t k = 0; k < ng; k++)
            cr_assert_arr_eq(got[k], want[k], 32, "%llu in %llu, hash %zu",
                             (unsigned long long)index,
                             (unsigned long long)size, k);
        cr_assert(INCL_OK(leafh[index], index, size, want, nw, roots[size]),
                  "%llu in %llu", (unsigned long long)index,
                  (unsigned long long)size);
    }
    cr_assert_gt(i, 1000);
    return i;
}

Test(merkle, inclusion_proofs_match_tlog_and_verify)
{
    cr_assert_gt(inclusion_vectors(), 1000);
}

static size_t inclusion_mutants(void);

Test(merkle, inclusion_through_a_memo_gives_the_same_answers)
{
    /* roomy: every node remembered; tiny: a full table (16 slots, 8 kept)
     * and probes that give up; each also after a clear */
    static const size_t caps[] = {1 << 16, 16};
    for (size_t c = 0; c < 2; c++) {
        cr_assert_eq(cy_node_memo_new(&memo_g, caps[c]), 0);
        for (int round = 0; round < 2; round++) {
            cr_assert_gt(inclusion_vectors(), 1000);
            cr_assert_eq(inclusion_mutants(), 40 * 41 / 2);
            cy_node_memo_clear(memo_g);
        }
        cy_node_memo_free(memo_g);
        memo_g = NULL;
    }
    /* the memo is a memo of cy_node_hash: equal outputs, also aliased */
    struct cy_node_memo *m;
    cr_assert_eq(cy_node_memo_new(&m, 64), 0);
    for (size_t i = 0; i + 1 < 200; i++) {
        cy_hash want, got, al;
        cy_node_hash(want, leafh[i], leafh[i + 1]);
        for (int twice = 0; twice < 2; twice++) {
            cy_node_hash_memo(m, got, leafh[i], leafh[i + 1]);
            cr_assert_arr_eq(got, want, 32, "node %zu", i);
            memcpy(al, leafh[i], 32);
            cy_node_hash_memo(m, al, al, leafh[i + 1]);
            cr_assert_arr_eq(al, want, 32, "aliased node %zu", i);
        }
    }
    cy_node_memo_free(m);
}

Test(merkle, consistency_proofs_match_tlog_and_verify)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "consistency"), i, v) {
        uint64_t m = jint(v, "from"), n = jint(v, "to");
        cy_hash want[CY_PROOF_MAX], got[CY_PROOF_MAX];
        size_t nw = load_proof(json_object_get(v, "proof"), want), ng;
        consistency(m, n, got, &ng);
        cr_assert_eq(ng, nw, "proof length %llu -> %llu",
                     (unsigned long long)m, (unsigned long long)n);
        for (size_t k = 0; k < ng; k++)
            cr_assert_arr_eq(got[k], want[k], 32, "%llu -> %llu, hash %zu",
                             (unsigned long long)m, (unsigned long long)n, k);
        cr_assert(CONS_OK(m, n, roots[m], roots[n], want, nw),
                  "%llu -> %llu", (unsigned long long)m,
                  (unsigned long long)n);
    }
    cr_assert_gt(i, 1000);
}

Test(merkle, every_small_proof_matches_rfc_definition)
{
    for (uint64_t n = 1; n <= 64; n++) {
        for (uint64_t i = 0; i < n; i++) {
            cy_hash got[CY_PROOF_MAX], want[CY_PROOF_MAX];
            size_t ng, nw = 0;
            inclusion(i, n, got, &ng);
            ref_path(want, &nw, i, 0, n);
            cr_assert_eq(ng, nw);
            cr_assert_arr_eq(got, want, 32 * ng, "%llu in %llu",
                             (unsigned long long)i, (unsigned long long)n);
        }
        for (uint64_t m = 1; m <= n; m++) {
            cy_hash got[CY_PROOF_MAX], want[CY_PROOF_MAX];
            size_t ng, nw = 0;
            consistency(m, n, got, &ng);
            if (m < n)
                ref_subproof(want, &nw, m, 0, n, true);
            cr_assert_eq(ng, nw, "%llu -> %llu", (unsigned long long)m,
                         (unsigned long long)n);
            cr_assert_arr_eq(got, want, 32 * ng, "%llu -> %llu",
                             (unsigned long long)m, (unsigned long long)n);
        }
    }
}

/* ---- properties ---- */

/* Every proof of trees up to 40 leaves, and its mutants; returns how many
 * proofs. */
static size_t inclusion_mutants(void)
{
    size_t proofs = 0;
    for (uint64_t size = 1; size <= 40; size++) {
        for (uint64_t index = 0; index < size; index++) {
            cy_hash p[CY_PROOF_MAX + 1], leaf, root;
            size_t n;
            inclusion(index, size, p, &n);
            memcpy(leaf, leafh[index], 32);
            memcpy(root, roots[size], 32);
            cr_assert(INCL_OK(leaf, index, size, p, n, root));
            proofs++;
            for (uint64_t j = 0; j < size + 8; j++) {
                /* another leaf at this index; this leaf at another index */
                if (j != index && j < size)
                    cr_assert(!INCL_OK(leafh[j], index, size, p, n, root));
                if (j != index)
                    cr_assert(!INCL_OK(leaf, j, size, p, n, root),
                              "%llu in %llu verified as %llu",
                              (unsigned long long)index,
                              (unsigned long long)size,
                              (unsigned long long)j);
            }
            /* another size, with that size's root. (With this size's root
             * it may verify: the verifier cannot tell a leaf hash from a
             * node hash, so the proof of 0 in 4 also proves 0 in 3 against
             * the root of 4. That is why a checkpoint signs the size
             * together with the root.) */
            for (uint64_t s = 1; s <= size + 8; s++)
                if (s != size)
                    cr_assert(!INCL_OK(leaf, index, s, p, n, roots[s]),
                              "%llu in %llu verified in %llu",
                              (unsigned long long)index,
                              (unsigned long long)size,
                              (unsigned long long)s);
            /* any flipped bit of the proof, the leaf or the root (all bits
             * for the small trees, one per byte beyond) */
            int step = size <= 12 ? 1 : 8;
            for (size_t k = 0; k < n; k++)
                for (int bit = (int)(index % 8); bit < 256; bit += step) {
                    p[k][bit / 8] ^= (uint8_t)(1 << bit % 8);
                    cr_assert(!INCL_OK(leaf, index, size, p, n, root));
                    p[k][bit / 8] ^= (uint8_t)(1 << bit % 8);
                }
            for (int bit = 0; bit < 256; bit += step) {
                leaf[bit / 8] ^= (uint8_t)(1 << bit % 8);
                cr_assert(!INCL_OK(leaf, index, size, p, n, root));
                leaf[bit / 8] ^= (uint8_t)(1 << bit % 8);
                root[bit / 8] ^= (uint8_t)(1 << bit % 8);
                cr_assert(!INCL_OK(leaf, index, size, p, n, root));
                root[bit / 8] ^= (uint8_t)(1 << bit % 8);
            }
            /* truncated, extended, a hash repeated, two hashes swapped */
            if (n > 0)
                cr_assert(!INCL_OK(leaf, index, size, p, n - 1, root));
            memcpy(p[n], p[n > 0 ? n - 1 : 0], 32);
            if (n == 0)
                memcpy(p[0], leaf, 32);
            cr_assert(!INCL_OK(leaf, index, size, p, n + 1, root));
            if (n >= 2) {
                cy_hash t;
                memcpy(t, p[0], 32);
                memcpy(p[0], p[1], 32);
                cr_assert(!INCL_OK(leaf, index, size, p, n, root));
                memcpy(p[1], t, 32);
                cr_assert(!INCL_OK(leaf, index, size, p, n, root));
            }
        }
    }
    return proofs;
}

Test(merkle, inclusion_proof_verifies_only_its_own_leaf_index_and_size)
{
    cr_assert_eq(inclusion_mutants(), 40 * 41 / 2);
}

Test(merkle, consistency_proof_verifies_only_its_own_sizes_and_roots)
{
    for (uint64_t n = 1; n <= 40; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            cy_hash p[CY_PROOF_MAX + 1], rm, rn;
            size_t np;
            consistency(m, n, p, &np);
            memcpy(rm, roots[m], 32);
            memcpy(rn, roots[n], 32);
            cr_assert(CONS_OK(m, n, rm, rn, p, np));
            cr_assert_eq(np == 0, m == n);
            /* other sizes, with their own roots */
            for (uint64_t s = 1; s <= n + 8; s++) {
                if (s != m && s <= n)
                    cr_assert(!CONS_OK(s, n, roots[s], rn, p, np),
                              "%llu -> %llu verified from %llu",
                              (unsigned long long)m, (unsigned long long)n,
                              (unsigned long long)s);
                if (s != n && s >= m)
                    cr_assert(!CONS_OK(m, s, rm, roots[s], p, np),
                              "%llu -> %llu verified to %llu",
                              (unsigned long long)m, (unsigned long long)n,
                              (unsigned long long)s);
            }
            if (m == n)
                continue;
            /* swapped or wrong roots */
            cr_assert(!CONS_OK(m, n, rn, rm, p, np));
            cr_assert(!CONS_OK(m, n, rn, rn, p, np));
            cr_assert(!CONS_OK(m, n, rm, rm, p, np));
            int step = n <= 12 ? 1 : 8;
            for (size_t k = 0; k < np; k++)
                for (int bit = (int)(m % 8); bit < 256; bit += step) {
                    p[k][bit / 8] ^= (uint8_t)(1 << bit % 8);
                    cr_assert(!CONS_OK(m, n, rm, rn, p, np));
                    p[k][bit / 8] ^= (uint8_t)(1 << bit % 8);
                }
            for (int bit = 0; bit < 256; bit += step) {
                rm[bit / 8] ^= (uint8_t)(1 << bit % 8);
                cr_assert(!CONS_OK(m, n, rm, rn, p, np));
                rm[bit / 8] ^= (uint8_t)(1 << bit % 8);
                rn[bit / 8] ^= (uint8_t)(1 << bit % 8);
                cr_assert(!CONS_OK(m, n, rm, rn, p, np));
                rn[bit / 8] ^= (uint8_t)(1 << bit % 8);
            }
            cr_assert(!CONS_OK(m, n, rm, rn, p, np - 1), "truncated");
            memcpy(p[np], p[np - 1], 32);
            cr_assert(!CONS_OK(m, n, rm, rn, p, np + 1), "extended");
            cr_assert(!CONS_OK(m, n, rm, rn, p, 0), "empty");
        }
    }
}

Test(merkle, a_proof_does_not_stretch_to_a_larger_claimed_size)
{
    /* RFC 9162's final "sn is 0" checks: the proof of 2 -> 4 (one hash)
     * rebuilds root(4); claimed as 2 -> 8 with root(4) as the root of 8 it
     * must fail, and so must the proof of 0 in 2 claimed as 0 in 4. */
    cy_hash p[CY_PROOF_MAX];
    size_t np;
    consistency(2, 4, p, &np);
    cr_assert_eq(np, 1);
    cr_assert(CONS_OK(2, 4, roots[2], roots[4], p, np));
    for (uint64_t s = 5; s <= 16; s++)
        cr_assert(!CONS_OK(2, s, roots[2], roots[4], p, np), "2 -> %llu",
                  (unsigned long long)s);
    inclusion(0, 2, p, &np);
    cr_assert(INCL_OK(leafh[0], 0, 2, p, np, roots[2]));
    for (uint64_t s = 3; s <= 16; s++)
        cr_assert(!INCL_OK(leafh[0], 0, s, p, np, roots[2]), "0 in %llu",
                  (unsigned long long)s);
}

/* ---- limits and errors ---- */

/* A tree of 2^64 - 1 equal leaves: every subtree of a level has the same
 * hash, so a reader of any size is consistent without storing anything. */
static cy_hash same[64];

static int same_read(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    (void)ctx;
    (void)index;
    if (level >= 64)
        return CB_EINTERNAL;
    memcpy(out, same[level], 32);
    return 0;
}

Test(merkle, huge_trees_prove_and_verify)
{
    cy_leaf_hash(same[0], "x", 1);
    for (int l = 1; l < 64; l++)
        cy_node_hash(same[l], same[l - 1], same[l - 1]);
    uint64_t sizes[] = {((uint64_t)1 << 63) + ((uint64_t)1 << 40) + 5,
                        UINT64_MAX,
                        (uint64_t)1 << 63,
                        ((uint64_t)1 << 63) - 1,
                        ((uint64_t)1 << 62) + ((uint64_t)1 << 40) + 5,
                        1000000007ULL};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t n = sizes[s];
        cy_hash root, p[CY_PROOF_MAX];
        size_t np;
        cr_assert_eq(cy_tree_hash(root, n, same_read, NULL), 0);
        uint64_t idx[] = {0, 1, n / 3, n / 2, n - 2, n - 1};
        for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
            cr_assert_eq(cy_inclusion_proof(p, &np, idx[i], n, same_read,
                                            NULL),
                         0);
            cr_assert_leq(np, 64);
            cr_assert(INCL_OK(same[0], idx[i], n, p, np, root));
            cr_assert(!INCL_OK(same[1], idx[i], n, p, np, root));
        }
        if (n > (uint64_t)1 << 63)
            continue; /* below */
        uint64_t ms[] = {1, 2, 3, n / 3, n / 2 + 1, n - 1};
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
            cy_hash rm;
            cr_assert_eq(cy_tree_hash(rm, ms[i], same_read, NULL), 0);
            int rv = cy_consistency_proof(p, &np, ms[i], n, same_read, NULL);
            cr_assert_eq(rv, 0, "%llu -> %llu", (unsigned long long)ms[i],
                         (unsigned long long)n);
            cr_assert(CONS_OK(ms[i], n, rm, root, p, np));
        }
    }
    /* Beyond 2^63 leaves a consistency proof can need 65 hashes, one more
     * than CY_PROOF_MAX: refused, never written past the array. */
    cy_hash p[CY_PROOF_MAX];
    size_t np = 9;
    uint64_t n = ((uint64_t)1 << 63) + ((uint64_t)1 << 40) + 5;
    cr_assert_eq(cy_consistency_proof(p, &np, 3, n, same_read, NULL),
                 CB_ERANGE);
    cr_assert_eq(np, 0);
    cr_assert_eq(cy_consistency_proof(p, &np, 4, n, same_read, NULL), 0);
}

Test(merkle, out_of_range_arguments_and_reader_errors)
{
    cy_hash p[CY_PROOF_MAX], r;
    size_t np = 7;
    cr_assert_eq(cy_inclusion_proof(p, &np, 5, 5, mem_read, &mem), CB_ERANGE);
    cr_assert_eq(np, 0);
    cr_assert_eq(cy_inclusion_proof(p, &np, 0, 0, mem_read, &mem), CB_ERANGE);
    cr_assert_eq(cy_consistency_proof(p, &np, 0, 5, mem_read, &mem),
                 CB_ERANGE);
    cr_assert_eq(cy_consistency_proof(p, &np, 6, 5, mem_read, &mem),
                 CB_ERANGE);
    np = 7;
    cr_assert_eq(cy_consistency_proof(p, &np, 5, 5, mem_read, &mem), 0);
    cr_assert_eq(np, 0);
    cr_assert_eq(cy_inclusion_proof(p, &np, 0, 1, mem_read, &mem), 0);
    cr_assert_eq(np, 0);
    cr_assert(INCL_OK(leafh[0], 0, 1, p, 0, roots[1]));

    /* verification of impossible arguments fails, never crashes */
    cr_assert(!INCL_OK(leafh[0], 0, 0, p, 0, roots[0]));
    cr_assert(!INCL_OK(leafh[3], 3, 2, p, 1, roots[2]));
    cr_assert(!CONS_OK(0, 5, roots[0], roots[5], p, 1));
    cr_assert(!CONS_OK(6, 5, roots[6], roots[5], p, 1));
    cr_assert(!CONS_OK(5, 5, roots[5], roots[5], p, 1), "m == n: empty");
    cr_assert(!CONS_OK(5, 5, roots[5], roots[6], NULL, 0));
    cr_assert(CONS_OK(5, 5, roots[5], roots[5], NULL, 0));
    cr_assert(!CONS_OK(3, 5, roots[3], roots[5], NULL, 0), "empty proof");
    cr_assert(!CONS_OK(4, 5, roots[4], roots[5], NULL, 0), "empty proof");
    cr_assert(!CONS_OK(3, 5, roots[3], roots[5], p, CY_PROOF_MAX + 1));

    /* every read that fails fails the call with the reader's code */
    for (int at = 1; at <= 40; at++) {
        struct mem m = mem;
        m.reads = 0;
        m.fail_at = at;
        int a = cy_inclusion_proof(p, &np, 333, 1099, mem_read, &m);
        cr_assert(a == 0 || a == CB_EIO);
        cr_assert(a == 0 || np == 0);
        m.reads = 0;
        int b = cy_consistency_proof(p, &np, 333, 1099, mem_read, &m);
        cr_assert(b == 0 || b == CB_EIO);
        m.reads = 0;
        int c = cy_tree_hash(r, 1099, mem_read, &m);
        cr_assert(c == 0 || c == CB_EIO);
        if (at == 1)
            cr_assert(a == CB_EIO && b == CB_EIO && c == CB_EIO);
    }
}
