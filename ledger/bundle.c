/*
 * Learner bundles: export from a ledger, verify offline (DESIGN 3.5;
 * spec/bundle.md is the reference, with every failure reason).
 *
 * Export. A bundle is cut at the ledger's newest final seal S: the note of
 * its checkpoint (tree of S + 1 leaves), the seal, every governance entry
 * below S, the account's entries below S, each with its inclusion proof in
 * that tree, and the account's leaf as it was at the seal with its proof in
 * the account tree the seal committed to. Governance entries come from the
 * governance index (ordinal -> log index, written by apply). The ledger
 * keeps only the current account tree; the seal's differs from it only in
 * the leaves of accounts with entries after S (and in accounts opened after
 * S, outside the seal's tree), so those leaves are recomputed as of S and
 * the rest is read from the store (overlay_read); the root is checked
 * against the seal's accounts_root. Log proofs come from the peaks of the
 * checkpoint's tree, computed once (struct lproofs).
 *
 * Verification. Nothing but the ledger id is trusted. The checks run in the
 * order DESIGN 3.5 lists and stop at the first failure, naming it with one
 * of LG_BUNDLE_REASONS and a message that says which item, index, key,
 * count or chain. To know who was a member with which keys at the seal,
 * and to judge every entry by the real rules, the verifier does not carry a
 * second implementation of the rules: it applies the governance and account
 * entries, merged in log order, to a fresh *partial* ledger (the same state
 * machine over LMDB in a temporary directory, seals and cosigns refused)
 * in one batch. That replay checks every entry's signatures, authors,
 * signers and rules exactly as a node does; the members and node keys in
 * force at the seal and the cosign quorum are then read from it, and so is
 * the account summary (lg_account_view), whose log positions are mapped
 * back to the real log's indices. The replay's outcomes are only reported
 * in their place in the order of checks, so a bundle with two problems is
 * always refused for the earlier one.
 *
 * Each signature is checked once: entries' by the replay, the seal's and
 * the note's here.
 */
#include <credbank/bundle.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mdb.h"
#include "sm.h"

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void chain_step(uint8_t chain[32], const uint8_t leaf_hash[32])
{
    uint8_t buf[64];
    memcpy(buf, chain, 32);
    memcpy(buf + 32, leaf_hash, 32);
    cy_sha256(chain, buf, sizeof buf);
}

static const char *const reason_names[LG_BR__COUNT] = {
    "valid",
#define LG__BRNAME(e, n, m) n,
    LG_BUNDLE_REASONS(LG__BRNAME)
#undef LG__BRNAME
};

static const char *const reason_texts[LG_BR__COUNT] = {
    "the bundle verifies",
#define LG__BRTEXT(e, n, m) m,
    LG_BUNDLE_REASONS(LG__BRTEXT)
#undef LG__BRTEXT
};

const char *lg_bundle_reason_name(int reason)
{
    return reason >= 0 && reason < LG_BR__COUNT ? reason_names[reason]
                                                : NULL;
}

const char *lg_bundle_reason_text(int reason)
{
    return reason >= 0 && reason < LG_BR__COUNT ? reason_texts[reason]
                                                : NULL;
}

/* A body field of a decoded entry, or NULL. */
static const msgpack_object *body_field(const struct lg_entry *e,
                                        const char *key)
{
    const msgpack_object *b = e->body;
    for (uint32_t i = 0; i < b->via.map.size; i++)
        if (lg_is_str(&b->via.map.ptr[i].key, key))
            return &b->via.map.ptr[i].val;
    return NULL;
}

/* The six fields of a seal body. */
struct seal_body {
    uint64_t accounts, governance, size;
    const uint8_t *accounts_root, *governance_chain, *log_root;
};

static int seal_body_parse(const struct lg_entry *e, struct seal_body *b,
                           struct cb_err *err)
{
    const msgpack_object *o[6];
    const struct lg_field f[] = {
        {"accounts", LG_UINT, 0, false, &o[0]},
        {"accounts_root", LG_BIN, 32, false, &o[1]},
        {"governance", LG_UINT, 0, false, &o[2]},
        {"governance_chain", LG_BIN, 32, false, &o[3]},
        {"log_root", LG_BIN, 32, false, &o[4]},
        {"size", LG_UINT, 0, false, &o[5]},
    };
    int rv = lg_fields(e->body, f, 6, "seal.body", err);
    if (rv != 0)
        return rv;
    b->accounts = o[0]->via.u64;
    b->accounts_root = (const uint8_t *)o[1]->via.bin.ptr;
    b->governance = o[2]->via.u64;
    b->governance_chain = (const uint8_t *)o[3]->via.bin.ptr;
    b->log_root = (const uint8_t *)o[4]->via.bin.ptr;
    b->size = o[5]->via.u64;
    return 0;
}

/* Checks a disclosure (salt, canonical data map of str to str) against
 * pii. CB_EINVAL naming the problem. */
static int disclosure_check(const uint8_t salt[32], const uint8_t *data,
                            size_t len, const uint8_t pii[32],
                            struct cb_err *err)
{
    uint8_t *buf = malloc(32 + len);
    if (buf == NULL)
        return cb_errf(err, CB_ENOMEM, "out of memory");
    memcpy(buf, salt, 32);
    memcpy(buf + 32, data, len);
    uint8_t h[32];
    cy_sha256(h, buf, 32 + len);
    free(buf);
    if (memcmp(h, pii, 32) != 0)
        return cb_errf(err, CB_EINVAL, "SHA-256(salt || data) is not the "
                                       "account's pii commitment");
    return 0;
}

/* A decoded map of str to str, each at most LG_STR_MAX bytes. */
static bool strmap_ok(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key,
                             *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR ||
            k->via.str.size > LG_STR_MAX || v->via.str.size > LG_STR_MAX)
            return false;
    }
    return true;
}

/* ================================================================ */
/* export                                                            */
/* ================================================================ */

/* cy_hash_reader over the stored account tree (as seal.c stores it). */
struct store_tree {
    struct lg_ledger *l;
    MDB_txn *txn;
};

static int store_tree_read(void *ctx, unsigned level, uint64_t index,
                           cy_hash out)
{
    struct store_tree *r = ctx;
    uint8_t key[9];
    size_t got;
    key[0] = (uint8_t)level;
    put_be64(key + 1, index);
    int rv = sm_get(r->txn, r->l->acctree, key, 9, out, 32, &got);
    if (rv == 0 && got != 32)
        rv = CB_ECORRUPT;
    return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
}

/* cy_hash_reader over the stored (current) account tree with some leaves
 * replaced: nums[0..n) (sorted, distinct account numbers) get the leaf
 * hashes hashes[0..n). A complete subtree without a replaced leaf is read
 * from the store; one with k replaced leaves costs O(k log n) node hashes.
 * Used for the tree as of a seal: every complete subtree of the seal's tree
 * lies below its `accounts`, so accounts opened later never enter it, and
 * the leaves of accounts changed after the seal are replaced by their
 * leaves as of the seal. */
struct overlay_tree {
    struct store_tree st;
    const uint64_t *nums;
    const cy_hash *hashes;
    size_t n;
};

static int overlay_read(void *ctx, unsigned level, uint64_t index,
                        cy_hash out)
{
    const struct overlay_tree *t = ctx;
    if (level >= 63 || index > (UINT64_MAX >> level) - 1)
        return CB_ECORRUPT;
    uint64_t lo = index << level, hi = (index + 1) << level;
    size_t a = 0, b = t->n; /* first nums[j] >= lo */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (t->nums[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    if (a == t->n || t->nums[a] >= hi)
        return store_tree_read((void *)&t->st, level, index, out);
    if (level == 0) {
        memcpy(out, t->hashes[a], 32);
        return 0;
    }
    cy_hash l, r;
    int rv = overlay_read(ctx, level - 1, 2 * index, l);
    if (rv == 0)
        rv = overlay_read(ctx, level - 1, 2 * index + 1, r);
    if (rv == 0)
        cy_node_hash(out, l, r);
    return rv;
}

/* The account's count, chain and status as of log index S (its entries
 * below S). An account is cancelled by its last entry (nothing may name it
 * afterwards), so it was cancelled at S when it is cancelled now and all
 * its entries lie below S. */
struct lproofs;
static int lp_leaf_hash(struct lproofs *lp, uint64_t index, cy_hash out);

static int account_at(struct lg_ledger *l, MDB_txn *txn, struct lproofs *lp,
                      const uint8_t id[32], uint64_t S, uint8_t leaf[73])
{
    struct sm_account a;
    int rv = sm_account_get(l, txn, id, &a);
    if (rv != 0)
        return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, l->acctents, &cur);
    if (rc != 0)
        return lg_mdb_err(rc);
    uint8_t start[40];
    memcpy(start, id, 32);
    memset(start + 32, 0, 8);
    MDB_val k = {40, start}, v;
    uint64_t count = 0;
    uint8_t chain[32] = {0};
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 40 || memcmp(k.mv_data, id, 32) != 0)
            break;
        if (v.mv_size != 16) {
            rv = CB_ECORRUPT;
            break;
        }
        uint64_t index = get_le64(v.mv_data);
        if (index >= S)
            break;
        cy_hash h;
        if ((rv = lp_leaf_hash(lp, index, h)) != 0)
            break;
        chain_step(chain, h);
        count++;
    }
    mdb_cursor_close(cur);
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    if (rv != 0)
        return rv;
    memcpy(leaf, id, 32);
    put_be64(leaf + 32, count);
    memcpy(leaf + 40, chain, 32);
    leaf[72] = (uint8_t)(a.status != 0 && count == a.count);
    return 0;
}

/*
 * Inclusion proofs of many leaves in one tree of `size` leaves (the
 * checkpoint's), for one export. The tree splits into its peaks: complete
 * subtrees, one per set bit of size, largest first. RFC 9162's PATH(m,
 * D[n]) for a leaf in peak j is its path inside the peak (stored sibling
 * hashes), then the tree hash of the peaks after j (when j is not the last
 * one), then the hashes of peaks j-1, ..., 0. The peaks and the folds of
 * their suffixes are computed once, so a proof costs its in-peak sibling
 * reads and no hashing; the reads of "log.hashes" go through a small
 * direct-mapped cache (leaves of one account share their upper siblings).
 * The result equals lg_log_inclusion's, byte for byte.
 */
#define LP_CACHE (1u << 14)
struct lproofs {
    const struct lg_log *log;
    MDB_txn *txn;
    uint64_t size;
    unsigned npeaks;
    unsigned plevel[64];
    uint64_t pstart[64];
    cy_hash peak[64];
    cy_hash suffix[65]; /* suffix[j]: tree hash of peaks j.. (j < npeaks) */
    uint64_t ckey[LP_CACHE];
    cy_hash cval[LP_CACHE];
    uint8_t cused[LP_CACHE];
};

static int lp_read(struct lproofs *lp, unsigned level, uint64_t index,
                   cy_hash out)
{
    uint64_t num = lg_stored_hash_index(level, index);
    uint64_t x = num * 0x9e3779b97f4a7c15ull;
    size_t slot = (size_t)(x >> 50) & (LP_CACHE - 1);
    if (lp->cused[slot] && lp->ckey[slot] == num) {
        memcpy(out, lp->cval[slot], 32);
        return 0;
    }
    uint8_t key[8];
    put_be64(key, num);
    MDB_val k = {8, key}, v;
    int rc = mdb_get(lp->txn, lp->log->hashes, &k, &v);
    if (rc == MDB_NOTFOUND)
        return CB_ECORRUPT;
    if (rc != 0)
        return lg_mdb_err(rc);
    if (v.mv_size != 32)
        return CB_ECORRUPT;
    memcpy(out, v.mv_data, 32);
    memcpy(lp->cval[slot], out, 32);
    lp->ckey[slot] = num;
    lp->cused[slot] = 1;
    return 0;
}

static int lp_leaf_hash(struct lproofs *lp, uint64_t index, cy_hash out)
{
    return lp_read(lp, 0, index, out);
}

/* Sets up proofs in the tree of size leaves (1 <= size <= log size). */
static int lp_init(struct lproofs *lp, const struct lg_log *log, MDB_txn *txn,
                   uint64_t size)
{
    lp->log = log;
    lp->txn = txn;
    lp->size = size;
    lp->npeaks = 0;
    memset(lp->cused, 0, sizeof lp->cused);
    uint64_t start = 0;
    for (int b = 63; b >= 0; b--) {
        if (!(size >> b & 1))
            continue;
        unsigned j = lp->npeaks++;
        lp->plevel[j] = (unsigned)b;
        lp->pstart[j] = start;
        int rv = lp_read(lp, (unsigned)b, start >> b, lp->peak[j]);
        if (rv != 0)
            return rv;
        start += (uint64_t)1 << b;
    }
    memcpy(lp->suffix[lp->npeaks - 1], lp->peak[lp->npeaks - 1], 32);
    for (unsigned j = lp->npeaks - 1; j-- > 0;)
        cy_node_hash(lp->suffix[j], lp->peak[j], lp->suffix[j + 1]);
    return 0;
}

static int lp_proof(struct lproofs *lp, uint64_t index,
                    cy_hash proof[CY_PROOF_MAX], size_t *n)
{
    if (index >= lp->size)
        return CB_ERANGE;
    unsigned j = 0;
    while (index >= lp->pstart[j] + ((uint64_t)1 << lp->plevel[j]))
        j++;
    size_t k = 0;
    for (unsigned L = 0; L < lp->plevel[j]; L++) {
        int rv = lp_read(lp, L, (index >> L) ^ 1, proof[k++]);
        if (rv != 0)
            return rv;
    }
    if (j + 1 < lp->npeaks)
        memcpy(proof[k++], lp->suffix[j + 1], 32);
    for (unsigned i = j; i-- > 0;)
        memcpy(proof[k++], lp->peak[i], 32);
    *n = k;
    return 0;
}

/* [index, signed entry, proof in the tree of lp->size leaves] into w. */
static int write_item(struct lg_ledger *l, MDB_txn *txn, struct lproofs *lp,
                      uint64_t index, struct lg_w *w)
{
    const uint8_t *p;
    size_t len, n;
    cy_hash proof[CY_PROOF_MAX];
    int rv = lg_log_get(&l->log, txn, index, &p, &len);
    if (rv == 0)
        rv = lp_proof(lp, index, proof, &n);
    if (rv != 0)
        return rv;
    lg_w_array(w, 3);
    lg_w_uint(w, index);
    lg_w_bin(w, p, len);
    lg_w_array(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        lg_w_bin(w, proof[i], 32);
    return 0;
}

struct u64s {
    uint64_t *v;
    size_t n, cap;
};

static int u64s_push(struct u64s *a, uint64_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        uint64_t *p = realloc(a->v, cap * sizeof *p);
        if (p == NULL)
            return CB_ENOMEM;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static int u64cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The account tree proof of number at the seal S (sb->accounts leaves),
 * without rebuilding the tree. The stored tree is the current one; it
 * differs from the seal's only in the leaves of accounts whose entries come
 * after S (count, chain, status change only through an account's own
 * entries, and each names its account) and in accounts opened after S
 * (numbers >= sb->accounts, outside every subtree the seal's tree reads).
 * So: one pass over the log after S to collect the accounts named there,
 * their leaves recomputed as of S (account_at), and the tree read through
 * overlay_read. The root is checked against the seal's accounts_root.
 * known is the leaf of account `number` as of S, computed by the caller.
 * Cost: O(entries after S) decodes, plus per changed account its entries
 * below S and O(log n) hashes.
 */
static int account_proof_at(struct lg_ledger *l, MDB_txn *txn,
                            struct lproofs *lp, const struct sm_meta *m,
                            uint64_t S, const uint8_t known[73],
                            const struct seal_body *sb, uint64_t number,
                            cy_hash proof[CY_PROOF_MAX], size_t *np,
                            struct cb_err *err)
{
    if (sb->accounts > m->accounts)
        return cb_errf(err, CB_ECORRUPT, "seal counts more accounts than "
                                         "the ledger has");
    struct u64s nums = {0};
    cy_hash *hashes = NULL;
    struct lg_signed s;
    lg_signed_init(&s);
    int rv = 0;
    for (uint64_t i = S + 1; i < m->size && rv == 0; i++) {
        const uint8_t *p;
        size_t len;
        if ((rv = lg_log_get(&l->log, txn, i, &p, &len)) != 0)
            break;
        if (lg_signed_decode(&s, p, len, NULL) != 0) {
            rv = cb_errf(err, CB_ECORRUPT, "log entry %llu unreadable",
                         (unsigned long long)i);
            break;
        }
        if (s.e.account == NULL)
            continue; /* account.open (a new number), governance, seals */
        struct sm_account a;
        if ((rv = sm_account_get(l, txn, s.e.account, &a)) != 0) {
            if (rv == CB_ENOTFOUND)
                rv = CB_ECORRUPT;
            break;
        }
        if (a.number < sb->accounts)
            rv = u64s_push(&nums, a.number);
    }
    lg_signed_release(&s);
    size_t n = 0;
    if (rv == 0 && nums.n > 0) {
        qsort(nums.v, nums.n, sizeof *nums.v, u64cmp);
        n = 1;
        for (size_t d = 1; d < nums.n; d++)
            if (nums.v[d] != nums.v[n - 1])
                nums.v[n++] = nums.v[d];
        if ((hashes = malloc(n * sizeof *hashes)) == NULL)
            rv = CB_ENOMEM;
    }
    for (size_t d = 0; d < n && rv == 0; d++) {
        uint8_t nk[8], id[32], leaf[73];
        size_t got;
        if (nums.v[d] == number) { /* the exported account's, computed */
            cy_leaf_hash(hashes[d], known, 73);
            continue;
        }
        put_be64(nk, nums.v[d]);
        rv = sm_get(txn, l->accnum, nk, 8, id, 32, &got);
        if (rv == 0 && got != 32)
            rv = CB_ECORRUPT;
        if (rv == 0)
            rv = account_at(l, txn, lp, id, S, leaf);
        if (rv == 0)
            cy_leaf_hash(hashes[d], leaf, 73);
    }
    struct overlay_tree t = {{l, txn}, nums.v, (const cy_hash *)hashes, n};
    cy_hash root;
    if (rv == 0)
        rv = cy_tree_hash(root, sb->accounts, overlay_read, &t);
    if (rv == 0 && memcmp(root, sb->accounts_root, 32) != 0)
        rv = cb_errf(err, CB_ECORRUPT, "the account tree as of the seal "
                                       "differs from its accounts_root");
    if (rv == 0)
        rv = cy_inclusion_proof(proof, np, number, sb->accounts, overlay_read,
                                &t);
    free(hashes);
    free(nums.v);
    return rv;
}

int lg_bundle_export(struct lg_ledger *l, const uint8_t account[32],
                     const struct lg_bundle_export_opts *opts,
                     struct lg_w *w, struct cb_err *err)
{
    struct lg_bundle_export_opts none = {0};
    if (opts == NULL)
        opts = &none;
    struct sm_meta m;
    MDB_txn *txn = NULL;
    char *note = NULL;
    struct lg_signed s;
    struct u64s gov = {0}, ents = {0};
    struct lproofs *lp = NULL;
    int rv, rc;
    lg_signed_init(&s);

    rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        txn = NULL;
        rv = cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
        goto out;
    }
    if ((rv = sm_get(txn, l->meta, "head", 4, &m, sizeof m, NULL)) != 0) {
        rv = rv == CB_ENOTFOUND
                 ? cb_errf(err, CB_ENOTFINAL, "the ledger is empty")
                 : cb_errf(err, rv, "ledger head unreadable");
        goto out;
    }
    if (!m.has_final) {
        rv = cb_errf(err, CB_ENOTFINAL, "the ledger has no final checkpoint");
        goto out;
    }
    const uint64_t S = m.final_seal;
    /* The note comes from its own read transaction; a final note never
     * changes, so it matches this one. */
    if ((rv = lg_checkpoint_note(l, S, &note, err)) != 0)
        goto out;

    struct sm_account a;
    rv = sm_account_get(l, txn, account, &a);
    if (rv == CB_ENOTFOUND) {
        rv = cb_errf(err, CB_ENOTFOUND, "no such account");
        goto out;
    }
    if (rv != 0) {
        cb_errf(err, rv, "account unreadable");
        goto out;
    }
    if (a.open_index >= S) {
        rv = cb_errf(err, CB_ENOTFOUND, "the account was opened after the "
                                        "final checkpoint (seal at %llu)",
                     (unsigned long long)S);
        goto out;
    }

    /* the seal's body */
    const uint8_t *p;
    size_t len;
    struct seal_body sb;
    if ((rv = lg_log_get(&l->log, txn, S, &p, &len)) != 0 ||
        (rv = lg_signed_decode(&s, p, len, err)) != 0 ||
        (rv = seal_body_parse(&s.e, &sb, err)) != 0) {
        cb_errf(err, CB_ECORRUPT, "the seal at %llu is unreadable",
                (unsigned long long)S);
        rv = CB_ECORRUPT;
        goto out;
    }

    /* the disclosure, checked against the account.open's pii */
    struct lg_doc ddoc;
    lg_doc_init(&ddoc);
    if (opts->salt != NULL) {
        const msgpack_object *pii = NULL;
        rv = lg_decode(&ddoc, opts->data, opts->data_len, NULL, err);
        if (rv == 0 && !strmap_ok(&ddoc.root))
            rv = cb_errf(err, CB_EINVAL, "disclosed data: not a map of str "
                                         "to str");
        if (rv == 0 &&
            ((rv = lg_log_get(&l->log, txn, a.open_index, &p, &len)) != 0 ||
             (rv = lg_signed_decode(&s, p, len, err)) != 0 ||
             (pii = body_field(&s.e, "pii")) == NULL ||
             pii->type != MSGPACK_OBJECT_BIN || pii->via.bin.size != 32))
            rv = cb_errf(err, CB_ECORRUPT, "account.open unreadable");
        if (rv == 0)
            rv = disclosure_check(opts->salt, opts->data, opts->data_len,
                                  (const uint8_t *)pii->via.bin.ptr, err);
        if (rv != 0) {
            lg_doc_release(&ddoc);
            if (rv != CB_ENOMEM && rv != CB_ECORRUPT)
                rv = cb_errf(err, CB_EINVAL, "disclosure: %s",
                             cb_errmsg(err));
            goto out;
        }
    }
    lg_doc_release(&ddoc);

    /* governance entries below S: the first sb.governance rows of the
     * governance index (ordinal -> log index), the seal's count */
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, l->govidx, &cur)) != 0) {
        rv = cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
        goto out;
    }
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0 && gov.n < sb.governance;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || v.mv_size != 8 ||
            get_be64(k.mv_data) != gov.n) {
            rv = CB_ECORRUPT;
            break;
        }
        uint64_t index = get_le64(v.mv_data);
        if (index >= S || (gov.n > 0 && index <= gov.v[gov.n - 1])) {
            rv = CB_ECORRUPT;
            break;
        }
        if ((rv = u64s_push(&gov, index)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    if (rv == 0 && gov.n != sb.governance)
        rv = CB_ECORRUPT;
    if (rv != 0) {
        cb_errf(err, rv, "governance index unreadable or short of the "
                         "seal's count");
        goto out;
    }
    /* the account's entries below S */
    if ((rc = mdb_cursor_open(txn, l->acctents, &cur)) != 0) {
        rv = cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
        goto out;
    }
    uint8_t start[40];
    memcpy(start, account, 32);
    memset(start + 32, 0, 8);
    k = (MDB_val){40, start};
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 40 || memcmp(k.mv_data, account, 32) != 0)
            break;
        if (v.mv_size != 16) {
            rv = CB_ECORRUPT;
            break;
        }
        uint64_t index = get_le64(v.mv_data);
        if (index >= S)
            break;
        if ((rv = u64s_push(&ents, index)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    if (rv != 0) {
        cb_errf(err, rv, "account entries unreadable");
        goto out;
    }

    uint8_t leaf[73];
    cy_hash aproof[CY_PROOF_MAX];
    size_t naproof = 0;
    lp = malloc(sizeof *lp);
    if (lp == NULL) {
        rv = cb_errf(err, CB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rv = lp_init(lp, &l->log, txn, S + 1)) != 0 ||
        (rv = account_at(l, txn, lp, account, S, leaf)) != 0 ||
        (rv = account_proof_at(l, txn, lp, &m, S, leaf, &sb, a.number,
                               aproof, &naproof, err)) != 0) {
        if (err == NULL || err->code != rv)
            cb_errf(err, rv, "account tree at the seal");
        goto out;
    }

    /* keys in canonical order: account, checkpoint, disclose, entries,
     * governance, seal, v */
    lg_w_map(w, opts->salt != NULL ? 7 : 6);
    lg_w_cstr(w, "account");
    lg_w_array(w, 3);
    lg_w_uint(w, a.number);
    lg_w_bin(w, leaf, 73);
    lg_w_array(w, (uint32_t)naproof);
    for (size_t i = 0; i < naproof; i++)
        lg_w_bin(w, aproof[i], 32);
    lg_w_cstr(w, "checkpoint");
    lg_w_cstr(w, note);
    if (opts->salt != NULL) {
        lg_w_cstr(w, "disclose");
        lg_w_map(w, 2);
        lg_w_cstr(w, "data");
        lg_w_raw(w, opts->data, opts->data_len);
        lg_w_cstr(w, "salt");
        lg_w_bin(w, opts->salt, 32);
    }
    lg_w_cstr(w, "entries");
    lg_w_array(w, (uint32_t)ents.n);
    for (size_t i = 0; i < ents.n && rv == 0; i++)
        rv = write_item(l, txn, lp, ents.v[i], w);
    lg_w_cstr(w, "governance");
    lg_w_array(w, (uint32_t)gov.n);
    for (size_t i = 0; i < gov.n && rv == 0; i++)
        rv = write_item(l, txn, lp, gov.v[i], w);
    lg_w_cstr(w, "seal");
    if (rv == 0)
        rv = write_item(l, txn, lp, S, w);
    lg_w_cstr(w, "v");
    lg_w_uint(w, 1);
    if (rv == 0)
        rv = lg_w_error(w);
    if (rv != 0)
        cb_errf(err, rv, "writing the bundle");
out:
    if (txn != NULL)
        mdb_txn_abort(txn);
    lg_signed_release(&s);
    free(note);
    free(lp);
    free(gov.v);
    free(ents.v);
    return rv;
}

/* ================================================================ */
/* verification                                                      */
/* ================================================================ */

struct item {
    uint64_t index;
    const uint8_t *bytes;         /* signed entry (in the bundle buffer) */
    size_t len;
    const msgpack_object *proof;  /* array of bin 32 */
    uint8_t leaf[32];             /* leaf hash */
    uint8_t id[32];
    uint8_t account[32];
    bool has_account;
    enum lg_type type;
    size_t nsigs;
    const char *list;             /* "governance", "entries", "seal" */
    size_t pos;                   /* position in its list */
    struct lg_result *res;        /* the replay's outcome (NULL for seal) */
    const struct lg_signed *s;    /* decoded (the verifier's decoders) */
};

struct note_line {
    char name[CY_NAME_MAX + 1];
    uint8_t hash[4];
    uint8_t sig[64];
};

struct member_key {
    char name[SM_NAME_CAP];
    uint8_t node[32];
    bool counted;
};

struct vctx {
    struct lg_bundle_result *res;
    const struct lg_bundle_verify_opts *opts;
    const uint8_t *ledger;
    size_t bundle_len;
    struct lg_doc doc;
    size_t ndec;                  /* the verifier's decoders used so far */
    const struct lg_signed *seal; /* the seal, decoded (sealit.s) */
    struct seal_body sb;
    const msgpack_object *note, *acct, *disclose, *ents, *govs, *sealo;
    struct item sealit;
    struct item *gov, *ent;
    size_t ngov, nent;
    uint64_t number;
    const uint8_t *leaf73;
    const msgpack_object *aproof;
    const msgpack_object *salt, *data;
    char origin[256];
    char body[400];               /* the note's body */
    size_t blen;
    uint8_t root[32];             /* the checkpoint's root */
    struct note_line lines[LG_BUNDLE_NOTE_LINES];
    size_t nlines;
    /* the replay */
    struct lg_bundle_verifier *vf; /* owns the scratch ledger */
    struct lg_ledger *rl;          /* vf's, emptied for this bundle */
    struct item **merged;
    size_t nmerged;
    struct lg_result *results;
    struct member_key *members;
    size_t nmembers;
    uint64_t cosign_quorum;
};

static int fail(struct vctx *v, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct vctx *v, int reason, const char *fmt, ...)
{
    v->res->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->res->msg, sizeof v->res->msg, fmt, ap);
    va_end(ap);
    return CB_EBUNDLE;
}

/* "entries[3] (index 40)" */
static const char *label(const struct item *it, char buf[64])
{
    if (strcmp(it->list, "seal") == 0)
        snprintf(buf, 64, "seal (index %llu)",
                 (unsigned long long)it->index);
    else
        snprintf(buf, 64, "%s[%zu] (index %llu)", it->list, it->pos,
                 (unsigned long long)it->index);
    return buf;
}

/* A verifier: its scratch ledger and memo, kept between bundles. */
struct lg_bundle_verifier {
    struct lg_bundle_verify_opts opts;
    char tmpdir[4096];
    char dir[4200];            /* the scratch ledger's directory, or "" */
    struct lg_ledger *rl;
    size_t map;                /* its map size */
    struct cy_node_memo *memo; /* the inclusion proofs' node hashes */
    size_t memo_cap;
    struct lg_signed *dec;     /* decoders, one per item, kept with their */
    size_t ndec;               /* msgpack zones from bundle to bundle */
};

/* At least n decoders. A verifier that met one huge bundle does not keep
 * its decoders (two msgpack zones each) for the small ones after it: past
 * 1,024, more than four times what a bundle needs are let go. */
static int dec_reserve(struct lg_bundle_verifier *vf, size_t n)
{
    if (vf->ndec > 1024 && vf->ndec / 4 > n) {
        size_t keep = n > 1024 ? n : 1024;
        for (size_t i = keep; i < vf->ndec; i++)
            lg_signed_release(&vf->dec[i]);
        struct lg_signed *d = realloc(vf->dec, keep * sizeof *d);
        if (d != NULL)
            vf->dec = d; /* else the larger block stays: still valid */
        vf->ndec = keep;
        return 0;
    }
    if (vf->ndec >= n)
        return 0;
    struct lg_signed *d = realloc(vf->dec, n * sizeof *d);
    if (d == NULL)
        return CB_ENOMEM;
    for (size_t i = vf->ndec; i < n; i++)
        lg_signed_init(&d[i]);
    vf->dec = d;
    vf->ndec = n;
    return 0;
}

/* ---- 0. decoding ---- */

static int parse_item(struct vctx *v, const msgpack_object *o,
                      const char *list, size_t pos, struct item *it)
{
    char where[48];
    if (strcmp(list, "seal") == 0)
        snprintf(where, sizeof where, "seal");
    else
        snprintf(where, sizeof where, "%s[%zu]", list, pos);
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3)
        return fail(v, LG_BR_MALFORMED,
                    "%s: expected [index, signed entry, proof]", where);
    const msgpack_object *a = o->via.array.ptr;
    if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return fail(v, LG_BR_MALFORMED, "%s[0]: expected uint", where);
    if (a[1].type != MSGPACK_OBJECT_BIN)
        return fail(v, LG_BR_MALFORMED, "%s[1]: expected bin", where);
    if (a[2].type != MSGPACK_OBJECT_ARRAY ||
        a[2].via.array.size > CY_PROOF_MAX)
        return fail(v, LG_BR_MALFORMED,
                    "%s[2]: expected an array of at most %d hashes", where,
                    CY_PROOF_MAX);
    for (uint32_t i = 0; i < a[2].via.array.size; i++) {
        const msgpack_object *h = &a[2].via.array.ptr[i];
        if (h->type != MSGPACK_OBJECT_BIN || h->via.bin.size != 32)
            return fail(v, LG_BR_MALFORMED, "%s[2][%u]: expected bin 32",
                        where, i);
    }
    memset(it, 0, sizeof *it);
    it->index = a[0].via.u64;
    it->bytes = (const uint8_t *)a[1].via.bin.ptr;
    it->len = a[1].via.bin.size;
    it->proof = &a[2];
    it->list = list;
    it->pos = pos;
    struct cb_err err = {0, ""};
    if (v->ndec == v->vf->ndec)
        return CB_EINTERNAL; /* decoders reserved for every item */
    struct lg_signed *s = &v->vf->dec[v->ndec++];
    int rv = lg_signed_decode(s, it->bytes, it->len, &err);
    if (rv == CB_ENOMEM)
        return rv;
    if (rv != 0)
        return fail(v, LG_BR_MALFORMED, "%s[1]: %s (%s)", where,
                    cb_errmsg(&err), cb_errname(rv));
    it->s = s;
    cy_leaf_hash(it->leaf, it->bytes, it->len);
    memcpy(it->id, s->e.id, 32);
    it->type = s->e.type;
    it->nsigs = s->nsigs;
    if (s->e.account != NULL) {
        it->has_account = true;
        memcpy(it->account, s->e.account, 32);
    }
    v->res->signatures += it->nsigs;
    return 0;
}

static int parse_list(struct vctx *v, const msgpack_object *o,
                      const char *list, struct item **out, size_t *n)
{
    size_t cnt = o->via.array.size;
    *out = calloc(cnt ? cnt : 1, sizeof **out);
    if (*out == NULL)
        return CB_ENOMEM;
    *n = cnt;
    for (size_t i = 0; i < cnt; i++) {
        int rv = parse_item(v, &o->via.array.ptr[i], list, i, &(*out)[i]);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int decode(struct vctx *v, const uint8_t *buf, size_t len)
{
    struct cb_err err = {0, ""};
    if (len > LG_BUNDLE_MAX)
        return fail(v, LG_BR_MALFORMED, "%zu bytes, limit %zu (too_large)",
                    len, LG_BUNDLE_MAX);
    struct lg_limits lim = {.max_str = LG_BUNDLE_NOTE_MAX, .max_depth = 0};
    int rv = lg_decode(&v->doc, buf, len, &lim, &err);
    if (rv == CB_ENOMEM)
        return rv;
    if (rv != 0)
        return fail(v, LG_BR_MALFORMED, "%s (%s)", cb_errmsg(&err),
                    cb_errname(rv));
    const msgpack_object *ver;
    const struct lg_field f[] = {
        {"account", LG_ARRAY, 0, false, &v->acct},
        {"checkpoint", LG_STR, 0, false, &v->note},
        {"disclose", LG_MAP, 0, true, &v->disclose},
        {"entries", LG_ARRAY, 0, false, &v->ents},
        {"governance", LG_ARRAY, 0, false, &v->govs},
        {"seal", LG_ARRAY, 0, false, &v->sealo},
        {"v", LG_UINT, 0, false, &ver},
    };
    if ((rv = lg_fields(&v->doc.root, f, 7, "bundle", &err)) != 0)
        return fail(v, LG_BR_MALFORMED, "%s (%s)", cb_errmsg(&err),
                    cb_errname(rv));
    if (ver->via.u64 != 1)
        return fail(v, LG_BR_MALFORMED, "bundle.v: %llu, not 1 "
                                        "(unsupported_version)",
                    (unsigned long long)ver->via.u64);
    /* account: [number, leaf (bin 73), proof] */
    const msgpack_object *a = v->acct->via.array.ptr;
    if (v->acct->via.array.size != 3 ||
        a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        a[1].type != MSGPACK_OBJECT_BIN || a[1].via.bin.size != 73 ||
        a[2].type != MSGPACK_OBJECT_ARRAY ||
        a[2].via.array.size > CY_PROOF_MAX)
        return fail(v, LG_BR_MALFORMED,
                    "account: expected [number, leaf (bin 73), proof]");
    for (uint32_t i = 0; i < a[2].via.array.size; i++) {
        const msgpack_object *h = &a[2].via.array.ptr[i];
        if (h->type != MSGPACK_OBJECT_BIN || h->via.bin.size != 32)
            return fail(v, LG_BR_MALFORMED, "account[2][%u]: expected bin 32",
                        i);
    }
    v->number = a[0].via.u64;
    v->leaf73 = (const uint8_t *)a[1].via.bin.ptr;
    v->aproof = &a[2];
    if (v->leaf73[72] > 1)
        return fail(v, LG_BR_MALFORMED, "account[1]: status byte %u is "
                                        "neither 0 nor 1",
                    v->leaf73[72]);
    if (v->disclose != NULL) {
        const struct lg_field df[] = {
            {"data", LG_MAP, 0, false, &v->data},
            {"salt", LG_BIN, 32, false, &v->salt},
        };
        if ((rv = lg_fields(v->disclose, df, 2, "disclose", &err)) != 0)
            return fail(v, LG_BR_MALFORMED, "%s (%s)", cb_errmsg(&err),
                        cb_errname(rv));
        if (!strmap_ok(v->data))
            return fail(v, LG_BR_MALFORMED, "disclose.data: expected a map "
                                            "of str to str, each at most "
                                            "%d bytes",
                        LG_STR_MAX);
    }
    /* the items, each kept decoded by one of the verifier's decoders */
    if ((rv = dec_reserve(v->vf, 1 + (size_t)v->govs->via.array.size +
                                     v->ents->via.array.size)) != 0)
        return rv;
    if ((rv = parse_item(v, v->sealo, "seal", 0, &v->sealit)) != 0 ||
        (rv = parse_list(v, v->govs, "governance", &v->gov, &v->ngov)) != 0 ||
        (rv = parse_list(v, v->ents, "entries", &v->ent, &v->nent)) != 0)
        return rv;
    v->res->governance = v->ngov;
    v->res->entries = v->nent;
    if (v->nent == 0)
        return fail(v, LG_BR_MALFORMED, "entries: empty (the account's "
                                        "account.open at least)");
    /* the seal */
    if (v->sealit.type != LG_T_SEAL)
        return fail(v, LG_BR_MALFORMED, "seal: a %s entry, not a seal",
                    lg_type_name(v->sealit.type));
    v->seal = v->sealit.s;
    if ((rv = seal_body_parse(&v->seal->e, &v->sb, &err)) != 0) {
        if (rv == CB_ENOMEM)
            return rv;
        return fail(v, LG_BR_MALFORMED, "seal: %s (%s)", cb_errmsg(&err),
                    cb_errname(rv));
    }
    v->res->seal_index = v->sealit.index;
    v->res->seal_ts = v->seal->e.ts;
    memcpy(v->res->account, v->ent[0].id, 32);
    v->res->number = v->number;
    return 0;
}

/* ---- 1. genesis ---- */

static int check_genesis(struct vctx *v)
{
    char hex[65];
    if (v->ngov == 0)
        return fail(v, LG_BR_GENESIS, "governance: empty, no genesis entry");
    const struct item *g = &v->gov[0];
    if (g->type != LG_T_GENESIS || g->index != 0)
        return fail(v, LG_BR_GENESIS, "governance[0]: a %s entry at index "
                                      "%llu, not the genesis entry at 0",
                    lg_type_name(g->type), (unsigned long long)g->index);
    if (memcmp(g->id, v->ledger, 32) != 0) {
        cy_hex(hex, g->id, 32);
        return fail(v, LG_BR_GENESIS, "the genesis entry's id %s is not the "
                                      "ledger id",
                    hex);
    }
    /* the origin: the genesis body's, else credbank/<16 hex> */
    const msgpack_object *o = body_field(&g->s->e, "origin");
    if (o != NULL && o->type == MSGPACK_OBJECT_STR &&
        o->via.str.size < sizeof v->origin) {
        memcpy(v->origin, o->via.str.ptr, o->via.str.size);
        v->origin[o->via.str.size] = '\0';
    } else {
        cy_hex(hex, v->ledger, 8);
        snprintf(v->origin, sizeof v->origin, "credbank/%s", hex);
    }
    snprintf(v->res->origin, sizeof v->res->origin, "%s", v->origin);
    return 0;
}

/* ---- 2. the checkpoint note ---- */

static int check_note_form(struct vctx *v)
{
    const char *n = v->note->via.str.ptr;
    size_t len = v->note->via.str.size;
    uint64_t size = v->sealit.index + 1;
    if (v->sealit.index == UINT64_MAX)
        return fail(v, LG_BR_CHECKPOINT, "seal index out of range");
    /* body: origin, size, base64 root */
    char want[300];
    int wl = snprintf(want, sizeof want, "%s\n%llu\n", v->origin,
                      (unsigned long long)size);
    if (wl < 0 || (size_t)wl >= sizeof want)
        return fail(v, LG_BR_CHECKPOINT, "origin too long");
    if (len < (size_t)wl + 46 || memcmp(n, want, (size_t)wl) != 0)
        return fail(v, LG_BR_CHECKPOINT,
                    "the note does not begin \"%s\\n%llu\\n\" (origin and "
                    "size of the seal's checkpoint)",
                    v->origin, (unsigned long long)size);
    const char *b64 = n + wl;
    size_t rlen = 0;
    uint8_t rbuf[33];
    if (b64[44] != '\n' || b64[45] != '\n' ||
        cy_unb64(rbuf, sizeof rbuf, &rlen, b64, 44) != 0 || rlen != 32)
        return fail(v, LG_BR_CHECKPOINT, "the note's third line is not a "
                                         "base64 root hash followed by an "
                                         "empty line");
    memcpy(v->root, rbuf, 32);
    v->blen = (size_t)wl + 45;
    memcpy(v->body, n, v->blen);
    v->body[v->blen] = '\0';
    /* signature lines: "— <name> <base64(hash || sig)>\n" */
    size_t pos = v->blen + 1;
    while (pos < len) {
        const char *line = n + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (nl == NULL)
            return fail(v, LG_BR_CHECKPOINT, "signature line %zu: no final "
                                             "newline",
                        v->nlines + 1);
        size_t ll = (size_t)(nl - line);
        if (v->nlines == LG_BUNDLE_NOTE_LINES)
            return fail(v, LG_BR_CHECKPOINT, "more than %d signature lines",
                        LG_BUNDLE_NOTE_LINES);
        struct note_line *nlp = &v->lines[v->nlines];
        const char *sp = ll > 4 ? memchr(line + 4, ' ', ll - 4) : NULL;
        size_t namelen = sp ? (size_t)(sp - line - 4) : 0;
        uint8_t raw[69];
        size_t rawlen = 0;
        if (ll < 4 || memcmp(line, "\xe2\x80\x94 ", 4) != 0 || sp == NULL ||
            namelen == 0 || namelen > CY_NAME_MAX)
            return fail(v, LG_BR_CHECKPOINT, "signature line %zu: not "
                                             "\"\xe2\x80\x94 NAME SIG\"",
                        v->nlines + 1);
        memcpy(nlp->name, line + 4, namelen);
        nlp->name[namelen] = '\0';
        const char *sig64 = sp + 1;
        size_t slen = (size_t)(nl - sig64);
        if (!cy_name_valid(nlp->name) ||
            cy_unb64(raw, sizeof raw, &rawlen, sig64, slen) != 0 ||
            rawlen != 68)
            return fail(v, LG_BR_CHECKPOINT, "signature line %zu: bad key "
                                             "name or signature encoding",
                        v->nlines + 1);
        memcpy(nlp->hash, raw, 4);
        memcpy(nlp->sig, raw + 4, 64);
        v->nlines++;
        pos += ll + 1;
    }
    return 0;
}


/* ---- 3. inclusion ---- */

static int check_inclusion(struct vctx *v, const struct item *it)
{
    char lb[64];
    uint64_t size = v->sealit.index + 1;
    cy_hash proof[CY_PROOF_MAX];
    size_t n = it->proof->via.array.size;
    for (size_t i = 0; i < n; i++)
        memcpy(proof[i], it->proof->via.array.ptr[i].via.bin.ptr, 32);
    if (it->index >= size)
        return fail(v, LG_BR_INCLUSION, "%s: index not below the "
                                        "checkpoint's size %llu",
                    label(it, lb), (unsigned long long)size);
    if (cy_inclusion_verify_memo(v->vf->memo, it->leaf, it->index, size,
                                 (const cy_hash *)proof, n, v->root) != 0)
        return fail(v, LG_BR_INCLUSION, "%s: the inclusion proof does not "
                                        "verify against the checkpoint "
                                        "root",
                    label(it, lb));
    return 0;
}

/* ---- 4. lists: order and membership ---- */

static int check_lists(struct vctx *v)
{
    char lb[64];
    const uint64_t S = v->sealit.index;
    struct {
        struct item *a;
        size_t n;
    } lists[2] = {{v->gov, v->ngov}, {v->ent, v->nent}};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l].n; i++) {
            const struct item *it = &lists[l].a[i];
            if (it->index >= S)
                return fail(v, LG_BR_ORDER, "%s: not below the seal's index "
                                            "%llu",
                            label(it, lb), (unsigned long long)S);
            if (i > 0 && it->index <= lists[l].a[i - 1].index)
                return fail(v, LG_BR_ORDER, "%s: does not follow index %llu "
                                            "of the item before it",
                            label(it, lb),
                            (unsigned long long)lists[l].a[i - 1].index);
        }
    for (size_t i = 1; i < v->ngov; i++)
        if (!lg_type_is_governance(v->gov[i].type) ||
            v->gov[i].type == LG_T_GENESIS)
            return fail(v, LG_BR_FOREIGN, "%s: a %s entry is not a "
                                          "governance entry after genesis",
                        label(&v->gov[i], lb), lg_type_name(v->gov[i].type));
    if (v->ent[0].type != LG_T_ACCOUNT_OPEN)
        return fail(v, LG_BR_FOREIGN, "%s: a %s entry, not the account's "
                                      "account.open",
                    label(&v->ent[0], lb), lg_type_name(v->ent[0].type));
    const uint8_t *acct = v->ent[0].id;
    for (size_t i = 1; i < v->nent; i++) {
        const struct item *it = &v->ent[i];
        if (!it->has_account || memcmp(it->account, acct, 32) != 0) {
            char hex[17] = "none";
            if (it->has_account)
                cy_hex(hex, it->account, 8);
            return fail(v, LG_BR_FOREIGN, "%s: a %s entry of account %s…, "
                                          "not of this account",
                        label(it, lb), lg_type_name(it->type), hex);
        }
    }
    return 0;
}

/* ---- 5. governance count and chain ---- */

static int check_governance(struct vctx *v)
{
    if (v->ngov != v->sb.governance)
        return fail(v, LG_BR_GOV_COUNT, "%zu governance entries, the seal "
                                        "counts %llu",
                    v->ngov, (unsigned long long)v->sb.governance);
    uint8_t chain[32] = {0};
    for (size_t i = 0; i < v->ngov; i++)
        chain_step(chain, v->gov[i].leaf);
    if (memcmp(chain, v->sb.governance_chain, 32) != 0) {
        char a[65], b[65];
        cy_hex(a, chain, 32);
        cy_hex(b, v->sb.governance_chain, 32);
        return fail(v, LG_BR_GOV_CHAIN, "chain over the governance entries "
                                        "%s, the seal's %s",
                    a, b);
    }
    return 0;
}

/* ---- 6. the replay ---- */

/* Removes the scratch ledger's files and directory (the open ledger keeps
 * its file alive through its descriptor and map until it is closed). */
static int scratch_unlink(struct lg_bundle_verifier *vf)
{
    if (vf->dir[0] == '\0')
        return 0;
    char p[4300];
    snprintf(p, sizeof p, "%s/data.mdb", vf->dir);
    int rv = unlink(p) == 0 || errno == ENOENT ? 0 : CB_EIO;
    if (rmdir(vf->dir) != 0 && rv == 0)
        rv = CB_EIO;
    vf->dir[0] = '\0';
    return rv;
}

/* Closes the scratch ledger, if any. */
static int scratch_drop(struct lg_bundle_verifier *vf)
{
    lg_ledger_close(vf->rl);
    vf->rl = NULL;
    return scratch_unlink(vf);
}

/* An empty scratch ledger with a map of at least map bytes: the one kept
 * from the previous bundle, emptied, or a new one. */
static int scratch(struct lg_bundle_verifier *vf, size_t map)
{
    if (vf->rl != NULL && vf->map >= map && sm_ledger_reset(vf->rl) == 0)
        return 0;
    int rv = scratch_drop(vf);
    if (rv != 0)
        return rv;
    /* The replay ledger is scratch: memory-backed /dev/shm spares the
     * file system's block allocation and inode work where nobody said
     * otherwise. */
    const char *tmp = vf->opts.tmpdir;
    if (tmp == NULL)
        tmp = getenv("TMPDIR");
    if ((tmp == NULL || *tmp == '\0') && access("/dev/shm", W_OK | X_OK) == 0)
        tmp = "/dev/shm";
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    int n = snprintf(vf->dir, sizeof vf->dir, "%s/credbank-verify-XXXXXX",
                     tmp);
    if (n < 0 || (size_t)n >= sizeof vf->dir || mkdtemp(vf->dir) == NULL) {
        vf->dir[0] = '\0';
        return CB_EIO;
    }
    struct lg_open_opts o = {
        .map_size = map,
        .verify_threads = vf->opts.threads ? vf->opts.threads : 1,
        .nosync = true,
        .partial = true,
        .scratch = true,
    };
    struct cb_err err = {0, ""};
    rv = lg_ledger_open(&vf->rl, vf->dir, &o, &err);
    if (rv != 0) {
        vf->rl = NULL;
        scratch_drop(vf);
        return rv;
    }
    /* Nothing else opens it: its name goes at once, so a verifier that is
     * killed leaves no files behind. */
    if ((rv = scratch_unlink(vf)) != 0) {
        scratch_drop(vf);
        return rv;
    }
    vf->map = map;
    return 0;
}

int lg_bundle_verifier_new(struct lg_bundle_verifier **out,
                           const struct lg_bundle_verify_opts *opts)
{
    struct lg_bundle_verifier *vf = calloc(1, sizeof *vf);
    if (vf == NULL)
        return CB_ENOMEM;
    if (opts != NULL) {
        vf->opts = *opts;
        if (opts->tmpdir != NULL) {
            if (strlen(opts->tmpdir) >= sizeof vf->tmpdir) {
                free(vf);
                return CB_EINVAL;
            }
            strcpy(vf->tmpdir, opts->tmpdir);
            vf->opts.tmpdir = vf->tmpdir;
        }
    }
    *out = vf;
    return 0;
}

void lg_bundle_verifier_free(struct lg_bundle_verifier *vf)
{
    if (vf == NULL)
        return;
    scratch_drop(vf);
    cy_node_memo_free(vf->memo);
    for (size_t i = 0; i < vf->ndec; i++)
        lg_signed_release(&vf->dec[i]);
    free(vf->dec);
    free(vf);
}

static int replay(struct vctx *v)
{
    size_t map = (size_t)1 << 25 > 16 * v->bundle_len ? (size_t)1 << 25
                                                       : 16 * v->bundle_len;
    int rv = scratch(v->vf, map);
    if (rv != 0)
        return rv;
    v->rl = v->vf->rl;
    struct cb_err err = {0, ""};
    /* governance and account entries merged in log order */
    v->nmerged = v->ngov + v->nent;
    v->merged = malloc(v->nmerged * sizeof *v->merged);
    v->results = calloc(v->nmerged, sizeof *v->results);
    const struct lg_signed **ss = malloc(v->nmerged * sizeof *ss);
    const uint8_t **leaves = malloc(v->nmerged * sizeof *leaves);
    if (v->merged == NULL || v->results == NULL || ss == NULL ||
        leaves == NULL) {
        free(ss);
        free(leaves);
        return CB_ENOMEM;
    }
    size_t g = 0, e = 0;
    for (size_t i = 0; i < v->nmerged; i++) {
        struct item *it;
        if (e == v->nent ||
            (g < v->ngov && v->gov[g].index < v->ent[e].index))
            it = &v->gov[g++];
        else
            it = &v->ent[e++];
        v->merged[i] = it;
        it->res = &v->results[i];
        ss[i] = it->s;
        leaves[i] = it->leaf;
    }
    rv = lg_apply_decoded(v->rl, ss, leaves, v->nmerged, v->results, &err);
    free(ss);
    free(leaves);
    if (rv != 0)
        return rv;

    /* members in force at the seal, their node keys, the cosign quorum */
    MDB_txn *txn;
    int rc = mdb_txn_begin(v->rl->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    struct sm_meta m;
    rv = sm_get(txn, v->rl->meta, "head", 4, &m, sizeof m, NULL);
    if (rv == CB_ENOTFOUND) {
        memset(&m, 0, sizeof m); /* nothing applied: genesis refused */
        rv = 0;
    }
    MDB_cursor *cur = NULL;
    if (rv == 0 && (rc = mdb_cursor_open(txn, v->rl->members, &cur)) != 0)
        rv = lg_mdb_err(rc);
    if (rv == 0) {
        v->members = calloc(m.members ? m.members : 1, sizeof *v->members);
        if (v->members == NULL)
            rv = CB_ENOMEM;
    }
    MDB_val k, val;
    for (rc = rv == 0 ? mdb_cursor_get(cur, &k, &val, MDB_FIRST) : 0;
         rv == 0 && rc == 0; rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        struct sm_member mem;
        if (val.mv_size != sizeof mem) {
            rv = CB_ECORRUPT;
            break;
        }
        memcpy(&mem, val.mv_data, sizeof mem);
        if (!mem.in_force)
            continue;
        if (v->nmembers == m.members) {
            rv = CB_ECORRUPT;
            break;
        }
        struct member_key *mk = &v->members[v->nmembers++];
        memcpy(mk->name, mem.name, SM_NAME_CAP);
        mk->name[SM_NAME_CAP - 1] = '\0';
        memcpy(mk->node, mem.node, 32);
    }
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    if (cur != NULL)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    v->cosign_quorum = m.members ? sm_cosign_quorum(&m, m.members) : 1;
    return rv;
}

static bool code_is_sig(int code)
{
    return code == CB_EBADSIG || code == CB_EMISSINGSIG ||
           code == CB_EBADKEY || code == CB_ESIGORDER;
}

static bool code_is_auth(int code)
{
    return code == CB_EAUTHOR || code == CB_ESIGNER || code == CB_EQUORUM ||
           code == CB_ELEDGER || code == CB_EKEYSTATE;
}

static int check_gov_replay(struct vctx *v)
{
    char lb[64];
    for (size_t i = 0; i < v->ngov; i++) {
        const struct lg_result *r = v->gov[i].res;
        if (r->code != 0)
            return fail(v, LG_BR_GOV_REFUSED, "%s: %s (%s)",
                        label(&v->gov[i], lb), r->msg, cb_errname(r->code));
    }
    return 0;
}

/* ---- 7. the note's signatures ---- */

static int check_note_sigs(struct vctx *v)
{
    size_t valid = 0;
    char *names = v->res->note_signers;
    size_t cap = sizeof v->res->note_signers, used = 0;
    names[0] = '\0';
    for (size_t i = 0; i < v->nlines; i++) {
        const struct note_line *ln = &v->lines[i];
        struct member_key *mk = NULL;
        for (size_t j = 0; j < v->nmembers && mk == NULL; j++) {
            uint8_t h[4];
            if (strcmp(v->members[j].name, ln->name) != 0)
                continue;
            cy_note_keyhash(h, ln->name, v->members[j].node);
            if (memcmp(h, ln->hash, 4) == 0)
                mk = &v->members[j];
        }
        if (mk == NULL)
            continue; /* not a node key of a member in force at the seal */
        v->res->signatures++;
        if (cy_verify(ln->sig, v->body, v->blen, mk->node) != 0)
            return fail(v, LG_BR_NOTE_SIG, "signature line %zu by %s (a node "
                                           "key in force at the seal) does "
                                           "not verify",
                        i + 1, ln->name);
        if (mk->counted)
            continue;
        mk->counted = true;
        valid++;
        int w = snprintf(names + used, cap - used, "%s%s", used ? " " : "",
                         mk->name);
        if (w > 0 && (size_t)w < cap - used)
            used += (size_t)w;
    }
    if (valid < v->cosign_quorum)
        return fail(v, LG_BR_NOTE_QUORUM, "%zu valid signature%s by members "
                                          "in force at the seal (%s), "
                                          "cosign_quorum is %llu",
                    valid, valid == 1 ? "" : "s", used ? names : "none",
                    (unsigned long long)v->cosign_quorum);
    return 0;
}

/* ---- 8. entries' signatures and authority ---- */

static int check_entry_sigs(struct vctx *v)
{
    char lb[64];
    for (size_t i = 0; i < v->nent; i++) {
        const struct lg_result *r = v->ent[i].res;
        if (code_is_sig(r->code))
            return fail(v, LG_BR_ENTRY_SIG, "%s: %s (%s)",
                        label(&v->ent[i], lb), r->msg, cb_errname(r->code));
        if (code_is_auth(r->code))
            return fail(v, LG_BR_ENTRY_AUTH, "%s: %s (%s)",
                        label(&v->ent[i], lb), r->msg, cb_errname(r->code));
    }
    struct cb_err err = {0, ""};
    int rv = lg_signed_verify(v->seal, &err);
    if (rv == CB_ENOMEM)
        return rv;
    if (rv != 0)
        return fail(v, LG_BR_ENTRY_SIG, "seal (index %llu): %s (%s)",
                    (unsigned long long)v->sealit.index, cb_errmsg(&err),
                    cb_errname(rv));
    return 0;
}

/* ---- 9. the seal ---- */

static int check_seal(struct vctx *v)
{
    const struct lg_entry *e = &v->seal->e;
    const uint64_t S = v->sealit.index;
    bool member = false;
    for (size_t j = 0; j < v->nmembers && !member; j++)
        member = memcmp(v->members[j].node, e->author, 32) == 0;
    if (!member) {
        char hex[65];
        cy_hex(hex, e->author, 32);
        return fail(v, LG_BR_SEAL, "author %s is not the node key of a "
                                   "member in force at the seal",
                    hex);
    }
    if (v->seal->nsigs != 1)
        return fail(v, LG_BR_SEAL, "signed by %zu keys; a seal is signed by "
                                   "its author alone",
                    v->seal->nsigs);
    if (memcmp(e->ledger, v->ledger, 32) != 0)
        return fail(v, LG_BR_SEAL, "entry.ledger is another ledger's id");
    if (e->nrefs != 0)
        return fail(v, LG_BR_SEAL, "a seal has no refs");
    if (v->sb.size != S)
        return fail(v, LG_BR_SEAL, "body.size %llu is not its index %llu",
                    (unsigned long long)v->sb.size, (unsigned long long)S);
    /* The seal is the checkpoint's last leaf: its proof's hashes are the
     * left siblings, whose right fold is the tree hash of the S leaves
     * before it (RFC 9162 2.1.1), which the seal must name. */
    const msgpack_object *p = v->sealit.proof;
    size_t n = p->via.array.size;
    cy_hash r;
    if (n == 0)
        return fail(v, LG_BR_SEAL, "no entries before the seal");
    memcpy(r, p->via.array.ptr[0].via.bin.ptr, 32);
    for (size_t i = 1; i < n; i++) {
        cy_hash t;
        cy_node_hash(t, (const uint8_t *)p->via.array.ptr[i].via.bin.ptr, r);
        memcpy(r, t, 32);
    }
    if (memcmp(r, v->sb.log_root, 32) != 0)
        return fail(v, LG_BR_SEAL, "body.log_root is not the tree hash of "
                                   "the %llu entries before the seal",
                    (unsigned long long)S);
    return 0;
}

/* ---- 10. the account ---- */

static int check_account(struct vctx *v)
{
    char a[65], b[65];
    const uint8_t *leaf = v->leaf73;
    if (v->number >= v->sb.accounts)
        return fail(v, LG_BR_ACCOUNT_PROOF, "account number %llu, the seal "
                                            "counts %llu accounts",
                    (unsigned long long)v->number,
                    (unsigned long long)v->sb.accounts);
    if (memcmp(leaf, v->ent[0].id, 32) != 0) {
        cy_hex(a, leaf, 32);
        cy_hex(b, v->ent[0].id, 32);
        return fail(v, LG_BR_ACCOUNT_PROOF, "the leaf names account %s, "
                                            "entries[0] opens %s",
                    a, b);
    }
    cy_hash lh, proof[CY_PROOF_MAX];
    cy_leaf_hash(lh, leaf, 73);
    size_t n = v->aproof->via.array.size;
    for (size_t i = 0; i < n; i++)
        memcpy(proof[i], v->aproof->via.array.ptr[i].via.bin.ptr, 32);
    if (cy_inclusion_verify(lh, v->number, v->sb.accounts,
                            (const cy_hash *)proof, n,
                            v->sb.accounts_root) != 0)
        return fail(v, LG_BR_ACCOUNT_PROOF, "the leaf of account number %llu "
                                            "is not in the seal's account "
                                            "tree of %llu",
                    (unsigned long long)v->number,
                    (unsigned long long)v->sb.accounts);
    uint64_t count = get_be64(leaf + 32);
    if (count != v->nent)
        return fail(v, LG_BR_ACCOUNT_COUNT, "%zu entries, the account leaf "
                                            "counts %llu",
                    v->nent, (unsigned long long)count);
    uint8_t chain[32] = {0};
    bool cancelled = false;
    for (size_t i = 0; i < v->nent; i++) {
        chain_step(chain, v->ent[i].leaf);
        cancelled |= v->ent[i].type == LG_T_ACCOUNT_CANCEL;
    }
    if (memcmp(chain, leaf + 40, 32) != 0) {
        cy_hex(a, chain, 32);
        cy_hex(b, leaf + 40, 32);
        return fail(v, LG_BR_ACCOUNT_CHAIN, "chain over the entries %s, the "
                                            "leaf's %s",
                    a, b);
    }
    if ((uint8_t)cancelled != leaf[72])
        return fail(v, LG_BR_ACCOUNT_STATUS, "the entries leave the account "
                                             "%s, the leaf says %s",
                    cancelled ? "cancelled" : "open",
                    leaf[72] ? "cancelled" : "open");
    return 0;
}

/* ---- 11. disclosure ---- */

static int check_disclosure(struct vctx *v)
{
    if (v->disclose == NULL)
        return 0;
    struct cb_err err = {0, ""};
    int rv;
    const msgpack_object *pii = body_field(&v->ent[0].s->e, "pii");
    if (pii == NULL || pii->type != MSGPACK_OBJECT_BIN ||
        pii->via.bin.size != 32)
        return fail(v, LG_BR_DISCLOSURE, "the account.open has no pii");
    struct lg_w w;
    lg_w_init(&w);
    lg_w_obj(&w, v->data);
    if ((rv = lg_w_error(&w)) != 0) {
        lg_w_release(&w);
        return rv;
    }
    rv = disclosure_check((const uint8_t *)v->salt->via.bin.ptr,
                          lg_w_data(&w), lg_w_len(&w),
                          (const uint8_t *)pii->via.bin.ptr, &err);
    lg_w_release(&w);
    if (rv == CB_ENOMEM)
        return rv;
    if (rv != 0)
        return fail(v, LG_BR_DISCLOSURE, "%s", cb_errmsg(&err));
    v->res->disclosed = lg_json(v->data);
    return v->res->disclosed ? 0 : CB_ENOMEM;
}

/* ---- 12. the rules ---- */

static int check_rules(struct vctx *v)
{
    char lb[64];
    for (size_t i = 0; i < v->nent; i++) {
        const struct lg_result *r = v->ent[i].res;
        if (r->code != 0)
            return fail(v, LG_BR_REPLAY, "%s: %s (%s)", label(&v->ent[i], lb),
                        r->msg, cb_errname(r->code));
    }
    return 0;
}

/* ---- the summary ---- */

/* Replaces replay positions by the real log's indices. */
static void remap(json_t *j, struct item *const *merged, size_t n)
{
    if (json_is_array(j)) {
        size_t i;
        json_t *x;
        json_array_foreach(j, i, x) remap(x, merged, n);
    } else if (json_is_object(j)) {
        const char *k;
        json_t *x;
        json_object_foreach(j, k, x)
        {
            if (json_is_integer(x) &&
                (strcmp(k, "index") == 0 || strcmp(k, "cancelled_at") == 0 ||
                 strcmp(k, "decided_at") == 0)) {
                json_int_t r = json_integer_value(x);
                if (r >= 0 && (uint64_t)r < n &&
                    merged[r]->index <= (uint64_t)INT64_MAX)
                    json_integer_set(x, (json_int_t)merged[r]->index);
            } else {
                remap(x, merged, n);
            }
        }
    }
}

/* The replay's entry at log index i: the bundle's, decoded already (the
 * summary runs once every entry applied, the i-th at index i; else NULL,
 * and the view reads the replay's log). */
static const struct lg_signed *merged_entry(void *ctx, uint64_t i)
{
    const struct vctx *v = ctx;
    if (i >= v->nmerged || v->results[i].code != 0 ||
        v->results[i].index != i)
        return NULL;
    return v->merged[i]->s;
}

static int summary(struct vctx *v)
{
    json_t *view = NULL;
    struct cb_err err = {0, ""};
    int rv = lg_account_view_from(v->rl, v->ent[0].id, merged_entry, v, &view,
                                  &err);
    if (rv != 0)
        return rv == CB_ENOMEM ? rv : CB_EINTERNAL;
    remap(view, v->merged, v->nmerged);
    if (v->number <= (uint64_t)INT64_MAX &&
        json_object_set_new(view, "number",
                            json_integer((json_int_t)v->number)) != 0) {
        json_decref(view);
        return CB_ENOMEM;
    }
    v->res->summary = view;
    return 0;
}

int lg_bundle_verify(const uint8_t *buf, size_t len, const uint8_t ledger[32],
                     const struct lg_bundle_verify_opts *opts,
                     struct lg_bundle_result *res)
{
    struct lg_bundle_verifier *vf;
    int rv = lg_bundle_verifier_new(&vf, opts);
    if (rv != 0) {
        memset(res, 0, sizeof *res);
        return rv;
    }
    rv = lg_bundle_verify_with(vf, buf, len, ledger, opts, res);
    int drop = scratch_drop(vf);
    if (drop != 0 && rv == 0)
        rv = drop;
    lg_bundle_verifier_free(vf);
    return rv;
}

int lg_bundle_verify_with(struct lg_bundle_verifier *vf, const uint8_t *buf,
                          size_t len, const uint8_t ledger[32],
                          const struct lg_bundle_verify_opts *opts,
                          struct lg_bundle_result *res)
{
    struct lg_bundle_verify_opts def = {0};
    memset(res, 0, sizeof *res);
    struct vctx *v = calloc(1, sizeof *v);
    if (v == NULL)
        return CB_ENOMEM;
    v->vf = vf;
    v->res = res;
    v->opts = opts ? opts : &def;
    v->ledger = ledger;
    v->bundle_len = len;
    lg_doc_init(&v->doc);

    int rv;
    if ((rv = decode(v, buf, len)) != 0 || (rv = check_genesis(v)) != 0 ||
        (rv = check_note_form(v)) != 0)
        goto out;
    /* The inclusion proofs share their upper nodes: a memo of node hashes
     * (emptied per bundle; room for two per item) computes each once. */
    size_t want = 4 * (v->ngov + v->nent + 1);
    if (vf->memo != NULL && vf->memo_cap < want) {
        cy_node_memo_free(vf->memo);
        vf->memo = NULL;
    }
    if (vf->memo == NULL) {
        if ((rv = cy_node_memo_new(&vf->memo, want)) != 0)
            goto out;
        vf->memo_cap = want;
    }
    cy_node_memo_clear(vf->memo);
    if ((rv = check_inclusion(v, &v->sealit)) != 0)
        goto out;
    for (size_t i = 0; i < v->ngov; i++)
        if ((rv = check_inclusion(v, &v->gov[i])) != 0)
            goto out;
    for (size_t i = 0; i < v->nent; i++)
        if ((rv = check_inclusion(v, &v->ent[i])) != 0)
            goto out;
    if ((rv = check_lists(v)) != 0 || (rv = check_governance(v)) != 0 ||
        (rv = replay(v)) != 0 || (rv = check_gov_replay(v)) != 0 ||
        (rv = check_note_sigs(v)) != 0 || (rv = check_entry_sigs(v)) != 0 ||
        (rv = check_seal(v)) != 0 || (rv = check_account(v)) != 0 ||
        (rv = check_disclosure(v)) != 0 || (rv = check_rules(v)) != 0)
        goto out;
    if (v->opts->not_before_ms != 0 && v->seal->e.ts < v->opts->not_before_ms) {
        rv = fail(v, LG_BR_STALE, "the seal's ts %llu ms is below "
                                  "--not-before %llu ms",
                  (unsigned long long)v->seal->e.ts,
                  (unsigned long long)v->opts->not_before_ms);
        goto out;
    }
    if (!v->opts->no_summary)
        rv = summary(v);
out:
    if (rv != 0 && rv != CB_EBUNDLE)
        res->reason = LG_BR_OK; /* a system error, not a verdict */
    if (rv != 0 && rv != CB_EBUNDLE) {
        json_decref(res->summary);
        res->summary = NULL;
    }
    lg_doc_release(&v->doc);
    free(v->gov);
    free(v->ent);
    free(v->merged);
    free(v->results);
    free(v->members);
    free(v);
    return rv;
}

void lg_bundle_result_release(struct lg_bundle_result *res)
{
    json_decref(res->summary);
    json_decref(res->disclosed);
    res->summary = NULL;
    res->disclosed = NULL;
}
