/* RFC 9162 hashing and proofs (crypto/merkle.c) against Go's sumdb/tlog
 * (spec/vectors/tlog.json, made by gen_tlog.go), plus properties: a proof
 * verifies exactly for its own leaf, index and sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/crypto.h>
#include <credbank/merkle.h>

#define MAXN 1100

/* An in-memory store of complete subtrees: level L, index i. */
static cy_hash *levels[12];
static json_t *vec;

static int rd(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    (void)ctx;
    if (level >= 12 || levels[level] == NULL || index >= (uint64_t)(MAXN >> level))
        return CB_ENOTFOUND;
    memcpy(out, levels[level][index], 32);
    return 0;
}

static void build(void)
{
    cr_assert_eq(cy_init(), 0);
    for (int l = 0; l < 12; l++)
        levels[l] = calloc((MAXN >> l) + 1, 32);
    for (uint64_t i = 0; i < MAXN; i++) {
        char leaf[32];
        int n = snprintf(leaf, sizeof leaf, "leaf-%llu", (unsigned long long)i);
        cy_hash lh, hs[CY_PROOF_MAX];
        size_t nh;
        cy_leaf_hash(lh, leaf, (size_t)n);
        cr_assert_eq(cy_append_hashes(hs, &nh, i, lh, rd, NULL), 0);
        for (size_t k = 0; k < nh; k++)
            memcpy(levels[k][i >> k], hs[k], 32);
    }
    json_error_t e;
    vec = json_load_file(CB_SOURCE_DIR "/spec/vectors/tlog.json", 0, &e);
    cr_assert_not_null(vec, "%s", e.text);
}

static void teardown(void)
{
    for (int l = 0; l < 12; l++)
        free(levels[l]);
    json_decref(vec);
}

TestSuite(merkle, .init = build, .fini = teardown);

static void unhex32(cy_hash out, json_t *s)
{
    cr_assert_eq(cy_unhex(out, 32, json_string_value(s)), 0);
}

static void root_of(uint64_t n, cy_hash out)
{
    cr_assert_eq(cy_tree_hash(out, n, rd, NULL), 0);
}

Test(merkle, tree_hashes_match_tlog)
{
    const char *key;
    json_t *val;
    int count = 0;
    json_object_foreach(json_object_get(vec, "roots"), key, val) {
        cy_hash want, got;
        unhex32(want, val);
        root_of(strtoull(key, NULL, 10), got);
        cr_assert_arr_eq(got, want, 32, "root of %s", key);
        count++;
    }
    cr_assert_gt(count, 70);
}

Test(merkle, empty_tree_is_sha256_of_nothing)
{
    cy_hash got, want;
    root_of(0, got);
    cy_sha256(want, "", 0);
    cr_assert_arr_eq(got, want, 32);
}

static size_t load_proof(json_t *arr, cy_hash proof[CY_PROOF_MAX])
{
    size_t n = json_array_size(arr);
    cr_assert_leq(n, CY_PROOF_MAX);
    for (size_t i = 0; i < n; i++)
        unhex32(proof[i], json_array_get(arr, i));
    return n;
}

Test(merkle, inclusion_proofs_match_tlog_and_verify)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "inclusion"), i, v) {
        uint64_t index = (uint64_t)json_integer_value(json_object_get(v, "index"));
        uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "size"));
        cy_hash want[CY_PROOF_MAX], got[CY_PROOF_MAX], root, leaf;
        size_t nw = load_proof(json_object_get(v, "proof"), want), ng;
        cr_assert_eq(cy_inclusion_proof(got, &ng, index, size, rd, NULL), 0);
        cr_assert_eq(ng, nw, "proof length for %llu in %llu",
                     (unsigned long long)index, (unsigned long long)size);
        for (size_t k = 0; k < ng; k++)
            cr_assert_arr_eq(got[k], want[k], 32);
        root_of(size, root);
        memcpy(leaf, levels[0][index], 32);
        cr_assert_eq(cy_inclusion_verify(leaf, index, size,
                                         (const cy_hash *)want, nw, root), 0);
    }
    cr_assert_gt(i, 500);
}

Test(merkle, consistency_proofs_match_tlog_and_verify)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "consistency"), i, v) {
        uint64_t m = (uint64_t)json_integer_value(json_object_get(v, "from"));
        uint64_t n = (uint64_t)json_integer_value(json_object_get(v, "to"));
        cy_hash want[CY_PROOF_MAX], got[CY_PROOF_MAX], rm, rn;
        size_t nw = load_proof(json_object_get(v, "proof"), want), ng;
        cr_assert_eq(cy_consistency_proof(got, &ng, m, n, rd, NULL), 0);
        cr_assert_eq(ng, nw, "proof length %llu -> %llu",
                     (unsigned long long)m, (unsigned long long)n);
        for (size_t k = 0; k < ng; k++)
            cr_assert_arr_eq(got[k], want[k], 32);
        root_of(m, rm);
        root_of(n, rn);
        cr_assert_eq(cy_consistency_verify(m, n, rm, rn,
                                           (const cy_hash *)want, nw), 0,
                     "%llu -> %llu", (unsigned long long)m,
                     (unsigned long long)n);
    }
    cr_assert_gt(i, 500);
}

Test(merkle, inclusion_proof_verifies_only_its_own_leaf_index_and_size)
{
    for (uint64_t size = 1; size <= 40; size++) {
        cy_hash root;
        root_of(size, root);
        for (uint64_t index = 0; index < size; index++) {
            cy_hash proof[CY_PROOF_MAX], leaf;
            size_t n;
            cr_assert_eq(cy_inclusion_proof(proof, &n, index, size, rd, NULL),
                         0);
            memcpy(leaf, levels[0][index], 32);
            const cy_hash *p = (const cy_hash *)proof;
            cr_assert_eq(cy_inclusion_verify(leaf, index, size, p, n, root), 0);
            if (size > 1) {
                cy_hash other;
                memcpy(other, levels[0][(index + 1) % size], 32);
                cr_assert_neq(cy_inclusion_verify(other, index, size, p, n,
                                                  root), 0);
                cr_assert_neq(cy_inclusion_verify(leaf, (index + 1) % size,
                                                  size, p, n, root), 0);
            }
            /* Against the real root of another size it fails. (Against the
             * same root it may not: RFC 9162 verification cannot tell a leaf
             * hash from a node hash, which is why checkpoints sign the size
             * together with the root.) */
            cy_hash root1;
            root_of(size + 1, root1);
            cr_assert_neq(cy_inclusion_verify(leaf, index, size + 1, p, n,
                                              root1), 0, "index %llu size %llu",
                          (unsigned long long)index, (unsigned long long)size);
            cr_assert_neq(cy_inclusion_verify(leaf, index, index, p, n, root),
                          0, "index must be below size");
            for (size_t k = 0; k < n; k++) {
                proof[k][k % 32] ^= 0x40;
                cr_assert_neq(cy_inclusion_verify(leaf, index, size, p, n,
                                                  root), 0);
                proof[k][k % 32] ^= 0x40;
            }
            if (n > 0)
                cr_assert_neq(cy_inclusion_verify(leaf, index, size, p, n - 1,
                                                  root), 0, "truncated");
        }
    }
}

Test(merkle, consistency_proof_verifies_only_its_own_sizes)
{
    for (uint64_t n = 1; n <= 40; n++) {
        cy_hash rn;
        root_of(n, rn);
        for (uint64_t m = 1; m <= n; m++) {
            cy_hash proof[CY_PROOF_MAX], rm;
            size_t np;
            root_of(m, rm);
            cr_assert_eq(cy_consistency_proof(proof, &np, m, n, rd, NULL), 0);
            const cy_hash *p = (const cy_hash *)proof;
            cr_assert_eq(cy_consistency_verify(m, n, rm, rn, p, np), 0);
            if (m < n) {
                cr_assert_neq(cy_consistency_verify(m, n, rn, rn, p, np), 0);
                for (size_t k = 0; k < np; k++) {
                    proof[k][3] ^= 1;
                    cr_assert_neq(cy_consistency_verify(m, n, rm, rn, p, np),
                                  0);
                    proof[k][3] ^= 1;
                }
                if (m > 1) {
                    cy_hash rm1;
                    root_of(m - 1, rm1);
                    cr_assert_neq(cy_consistency_verify(m - 1, n, rm1, rn, p,
                                                        np), 0);
                }
            }
        }
    }
    cy_hash a, b;
    root_of(3, a);
    root_of(5, b);
    cr_assert_neq(cy_consistency_verify(0, 5, a, b, NULL, 0), 0);
    cr_assert_neq(cy_consistency_verify(6, 5, a, b, NULL, 0), 0);
    cy_hash proof[CY_PROOF_MAX];
    size_t np;
    cr_assert_eq(cy_consistency_proof(proof, &np, 0, 5, rd, NULL), CB_ERANGE);
    cr_assert_eq(cy_inclusion_proof(proof, &np, 5, 5, rd, NULL), CB_ERANGE);
}
