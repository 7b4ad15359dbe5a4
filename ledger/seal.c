/*
 * Seals, cosigns, checkpoints and the account tree (DESIGN 3.3, 3.4;
 * spec/checkpoints.md has every byte).
 *
 * A seal commits, at its own index, to everything a verifier needs: the log
 * root, the account tree root and the governance chain. Every node
 * recomputes the body and refuses a seal that differs, so a leader cannot
 * seal a state nobody has. The seal's checkpoint (the tree of size + 1
 * leaves: the seal included) becomes final once cosign_quorum members' nodes
 * -- as they were at the seal -- have signed its note body; those signatures
 * ride in the log as cosign entries, so the log carries its own proof of
 * finality and every node agrees on which checkpoint is final and on its
 * note, line for line.
 *
 * The seal record keeps the members in force at the seal with their node
 * keys then, and the cosign quorum then: later removals and rotations change
 * neither who may cosign it nor how many must. The checkpoint root is not
 * computed by the seal's handler (the seal is not yet a leaf then); it is
 * read from the log, which has the seal by the time anyone needs it.
 *
 * The account tree is stored as the hashes of its complete subtrees, keyed
 * level (1) || index (8 BE), exactly what cy_tree_hash reads. A changed leaf
 * rewrites itself and the complete subtrees above it: O(log n) puts per
 * dirty account, once per batch (and once more before a seal, which must
 * see the tree as of its own index).
 */
#include "seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdb.h"
#include "sm.h"

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* ---- account tree ---- */

void sm_account_leaf(uint8_t out[73], const uint8_t id[32],
                     const struct sm_account *a)
{
    memcpy(out, id, 32);
    put_be64(out + 32, a->count);
    memcpy(out + 40, a->chain, 32);
    out[72] = a->status;
}

static void tree_key(uint8_t key[9], unsigned level, uint64_t index)
{
    key[0] = (uint8_t)level;
    put_be64(key + 1, index);
}

struct tree_reader {
    struct lg_ledger *l;
    MDB_txn *txn;
};

/* cy_hash_reader over "accounts.tree". A complete subtree must be there. */
static int tree_read(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    struct tree_reader *r = ctx;
    uint8_t key[9];
    size_t got;
    tree_key(key, level, index);
    int rv = sm_get(r->txn, r->l->acctree, key, 9, out, 32, &got);
    if (rv == 0 && got != 32)
        rv = CB_ECORRUPT;
    return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
}

static int tree_write(struct lg_ledger *l, MDB_txn *txn, unsigned level,
                      uint64_t index, const cy_hash h)
{
    uint8_t key[9];
    tree_key(key, level, index);
    return sm_put(txn, l->acctree, key, 9, h, 32);
}

static int u64cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes the leaf hash of account number i at (0, i). */
static int leaf_write(struct lg_ledger *l, MDB_txn *txn, uint64_t i)
{
    uint8_t nk[8], id[32], leaf[73];
    size_t got;
    struct sm_account a;
    put_be64(nk, i);
    int rv = sm_get(txn, l->accnum, nk, 8, id, 32, &got);
    if (rv == 0 && got != 32)
        rv = CB_ECORRUPT;
    if (rv == 0)
        rv = sm_account_get(l, txn, id, &a);
    if (rv == CB_ENOTFOUND)
        rv = CB_ECORRUPT; /* a number below meta.accounts without account */
    if (rv != 0)
        return rv;
    sm_account_leaf(leaf, id, &a);
    cy_hash h;
    cy_leaf_hash(h, leaf, sizeof leaf);
    return tree_write(l, txn, 0, i, h);
}

/*
 * The caller's dirty array is only read: the batch loop keeps it across
 * entries, and a seal that flushes and is then refused must leave it as it
 * was (its nested transaction, flushed tree included, is rolled back, so
 * the batch-end flush has to redo the same accounts). We work on a sorted,
 * deduplicated copy. First every changed leaf, then the complete subtrees
 * above them level by level: a parent is hashed only after both its
 * children are in place (several accounts opened in one batch share
 * parents).
 */
int sm_acctree_flush(struct lg_ledger *l, MDB_txn *txn, const struct sm_meta *m,
                     uint64_t *dirty, size_t ndirty)
{
    if (ndirty == 0)
        return 0;
    struct tree_reader r = {l, txn};
    uint64_t *w = malloc(ndirty * sizeof *w);
    if (w == NULL)
        return CB_ENOMEM;
    memcpy(w, dirty, ndirty * sizeof *w);
    qsort(w, ndirty, sizeof *w, u64cmp);
    size_t n = 1;
    for (size_t d = 1; d < ndirty; d++)
        if (w[d] != w[n - 1])
            w[n++] = w[d];
    int rv = 0;
    if (w[n - 1] >= m->accounts) {
        rv = CB_ECORRUPT; /* dirty number of an account that does not exist */
        goto out;
    }
    for (size_t d = 0; d < n; d++)
        if ((rv = leaf_write(l, txn, w[d])) != 0)
            goto out;
    for (unsigned level = 1; level < 64 && n > 0; level++) {
        /* Subtree (level, idx) is complete iff (idx + 1) << level <=
         * accounts, i.e. idx < accounts >> level; an incomplete one is
         * folded in by cy_tree_hash, and so is everything above it. */
        uint64_t complete = m->accounts >> level;
        size_t up = 0;
        for (size_t d = 0; d < n; d++) {
            uint64_t idx = w[d] >> 1;
            if (idx >= complete || (up > 0 && w[up - 1] == idx))
                continue;
            cy_hash left, right, h;
            if ((rv = tree_read(&r, level - 1, 2 * idx, left)) != 0 ||
                (rv = tree_read(&r, level - 1, 2 * idx + 1, right)) != 0)
                goto out;
            cy_node_hash(h, left, right);
            if ((rv = tree_write(l, txn, level, idx, h)) != 0)
                goto out;
            w[up++] = idx; /* sorted input gives sorted parents */
        }
        n = up;
    }
out:
    free(w);
    return rv;
}

int sm_acctree_root(struct lg_ledger *l, MDB_txn *txn, uint64_t accounts,
                    uint8_t out[32])
{
    struct tree_reader r = {l, txn};
    return cy_tree_hash(out, accounts, tree_read, &r);
}

/* ---- seal records ---- */

static size_t seal_size(uint32_t nmembers)
{
    return sizeof(struct sm_seal) +
           (size_t)nmembers * sizeof(struct sm_seal_member);
}

/* Reads the seal at index into a malloc'd record (the caller frees it);
 * CB_ENOTFOUND when there is no seal at index. */
static int seal_read(struct lg_ledger *l, MDB_txn *txn, uint64_t index,
                     struct sm_seal **out)
{
    uint8_t key[8];
    put_be64(key, index);
    MDB_val k = {8, key}, v;
    int rc = mdb_get(txn, l->seals, &k, &v);
    if (rc != 0)
        return lg_mdb_err(rc);
    if (v.mv_size < sizeof(struct sm_seal))
        return CB_ECORRUPT;
    struct sm_seal *s = malloc(v.mv_size);
    if (s == NULL)
        return CB_ENOMEM;
    memcpy(s, v.mv_data, v.mv_size);
    if (v.mv_size != seal_size(s->nmembers) || s->ncosigns > s->nmembers) {
        free(s);
        return CB_ECORRUPT;
    }
    *out = s;
    return 0;
}

static int seal_write(struct lg_ledger *l, MDB_txn *txn, uint64_t index,
                      const struct sm_seal *s)
{
    uint8_t key[8];
    put_be64(key, index);
    return sm_put(txn, l->seals, key, 8, s, seal_size(s->nmembers));
}

static int meta_get(struct lg_ledger *l, MDB_txn *txn, struct sm_meta *m)
{
    size_t got;
    int rv = sm_get(txn, l->meta, "head", 4, m, sizeof *m, &got);
    if (rv == 0 && got != sizeof *m)
        rv = CB_ECORRUPT;
    return rv;
}

/* ---- the seal ---- */

/* The body a seal at index `size` must carry, given the head m. The
 * account tree must have been flushed. */
struct seal_body {
    uint64_t accounts, governance, size;
    uint8_t accounts_root[32], governance_chain[32], log_root[32];
};

static int compute_body(struct lg_ledger *l, MDB_txn *txn,
                        const struct sm_meta *m, uint64_t size,
                        struct seal_body *b)
{
    b->accounts = m->accounts;
    b->governance = m->governance;
    b->size = size;
    memcpy(b->governance_chain, m->governance_chain, 32);
    int rv = sm_acctree_root(l, txn, m->accounts, b->accounts_root);
    if (rv == 0)
        rv = lg_log_root(&l->log, txn, size, b->log_root);
    return rv;
}

/* Compares the entry's body with b, in the body's key order; CB_ESEAL
 * naming the first field that differs, with both values. */
static int body_check(struct sm_ctx *c, const msgpack_object *const got[6],
                      const struct seal_body *b)
{
    static const char *const names[6] = {"accounts",   "accounts_root",
                                         "governance", "governance_chain",
                                         "log_root",   "size"};
    const uint64_t nums[6] = {b->accounts, 0, b->governance, 0, 0, b->size};
    const uint8_t *const bins[6] = {NULL, b->accounts_root, NULL,
                                    b->governance_chain, b->log_root, NULL};
    for (int i = 0; i < 6; i++) {
        if (bins[i] == NULL) {
            if (got[i]->via.u64 != nums[i])
                return SM_FAIL(c, CB_ESEAL, "body.%s: %llu, computed %llu",
                               names[i],
                               (unsigned long long)got[i]->via.u64,
                               (unsigned long long)nums[i]);
        } else if (memcmp(got[i]->via.bin.ptr, bins[i], 32) != 0) {
            char g[65], want[65];
            cy_hex(g, (const uint8_t *)got[i]->via.bin.ptr, 32);
            cy_hex(want, bins[i], 32);
            return SM_FAIL(c, CB_ESEAL, "body.%s: %s, computed %s", names[i],
                           g, want);
        }
    }
    return 0;
}

/* Fills a seal record for the members in force now, in name order (the
 * order of the members database), with their node keys now. */
static int seal_members(struct sm_ctx *c, struct sm_seal **out)
{
    uint64_t n = c->meta->members;
    if (n == 0 || n > UINT32_MAX)
        return CB_ECORRUPT; /* quorum rules keep n >= 1 */
    struct sm_seal *s = calloc(1, seal_size((uint32_t)n));
    if (s == NULL)
        return CB_ENOMEM;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->l->members, &cur);
    if (rc != 0) {
        free(s);
        return lg_mdb_err(rc);
    }
    MDB_val k, v;
    uint64_t got = 0;
    int rv = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct sm_member mem;
        if (v.mv_size != sizeof mem) {
            rv = CB_ECORRUPT;
            break;
        }
        memcpy(&mem, v.mv_data, sizeof mem);
        if (!mem.in_force)
            continue;
        if (got == n) {
            rv = CB_ECORRUPT; /* more members in force than meta says */
            break;
        }
        memcpy(s->m[got].name, mem.name, SM_NAME_CAP);
        s->m[got].name[SM_NAME_CAP - 1] = '\0';
        memcpy(s->m[got].node, mem.node, 32);
        got++;
    }
    mdb_cursor_close(cur);
    if (rv == 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    if (rv == 0 && got != n)
        rv = CB_ECORRUPT;
    if (rv != 0) {
        free(s);
        return rv;
    }
    s->nmembers = (uint32_t)n;
    *out = s;
    return 0;
}

int sm_seal(struct sm_ctx *c)
{
    if (c->l->partial)
        return SM_FAIL(c, CB_ESEAL, "a partial ledger (offline replay) "
                                    "applies no seals");
    const msgpack_object *got[6];
    const struct lg_field f[] = {
        {"accounts", LG_UINT, 0, false, &got[0]},
        {"accounts_root", LG_BIN, 32, false, &got[1]},
        {"governance", LG_UINT, 0, false, &got[2]},
        {"governance_chain", LG_BIN, 32, false, &got[3]},
        {"log_root", LG_BIN, 32, false, &got[4]},
        {"size", LG_UINT, 0, false, &got[5]},
    };
    int rv;
    if ((rv = sm_author_node(c)) != 0 || (rv = sm_body(c, f, 6)) != 0 ||
        (rv = sm_refs(c, 0)) != 0)
        return rv;
    struct sm_meta *m = c->meta;
    if (m->since_seal == 0)
        return SM_FAIL(c, CB_ESEALEMPTY, "no entry other than seal or cosign "
                                         "since the seal at %llu",
                       (unsigned long long)m->last_seal);
    if (m->has_seal && c->e->ts < m->last_seal_ts)
        return SM_FAIL(c, CB_ESEALTIME, "ts %llu is below the previous "
                                        "seal's %llu",
                       (unsigned long long)c->e->ts,
                       (unsigned long long)m->last_seal_ts);
    /* The tree must include this batch's changes so far. Flushing is
     * idempotent; the loop flushes again at the batch's end. */
    if ((rv = sm_acctree_flush(c->l, c->txn, m, *c->dirty, *c->ndirty)) != 0)
        return rv;
    struct seal_body b;
    if ((rv = compute_body(c->l, c->txn, m, c->index, &b)) != 0 ||
        (rv = body_check(c, got, &b)) != 0)
        return rv;

    struct sm_seal *s = NULL;
    if ((rv = seal_members(c, &s)) != 0)
        return rv;
    memcpy(s->id, c->e->id, 32);
    s->ts = c->e->ts;
    s->cosign_quorum = (uint32_t)sm_cosign_quorum(m, m->members);
    rv = seal_write(c->l, c->txn, c->index, s);
    free(s);
    if (rv != 0)
        return rv;
    m->has_seal = 1;
    m->last_seal = c->index;
    m->last_seal_ts = c->e->ts;
    m->since_seal = 0;
    return 0;
}

/* ---- checkpoint text ---- */

/* "<origin>\n<seal + 1>\n<base64 root of seal + 1 leaves>\n" into out[cap];
 * root gets the root. */
static int checkpoint_text(struct lg_ledger *l, MDB_txn *txn,
                           const char *origin, uint64_t seal, char *out,
                           size_t cap, size_t *len, cy_hash root)
{
    int rv = lg_log_root(&l->log, txn, seal + 1, root);
    if (rv != 0)
        return rv == CB_ERANGE ? CB_ECORRUPT : rv; /* a seal is a leaf */
    char b64[48];
    cy_b64(b64, root, 32);
    int n = snprintf(out, cap, "%s\n%llu\n%s\n", origin,
                     (unsigned long long)(seal + 1), b64);
    if (n < 0 || (size_t)n >= cap)
        return CB_ETOOBIG;
    *len = (size_t)n;
    return 0;
}

/* origin (<= 255) + size (<= 20) + base64 (44) + 3 newlines */
#define BODY_CAP 328

int sm_note_format(const char *body, size_t blen,
                   const struct sm_note_sig *sigs, size_t n, char **note,
                   size_t *len)
{
    if (blen == 0 || body[blen - 1] != '\n')
        return CB_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!cy_name_valid(sigs[i].name))
            return CB_EINVAL;
    /* per line: dash (3) + space + name (<= 64) + space + base64(68) (92)
     * + newline */
    size_t cap = blen + 1 + n * (3 + 1 + CY_NAME_MAX + 1 + 92 + 1) + 1;
    char *out = malloc(cap);
    if (out == NULL)
        return CB_ENOMEM;
    memcpy(out, body, blen);
    size_t pos = blen;
    out[pos++] = '\n';
    for (size_t i = 0; i < n; i++) {
        uint8_t raw[68];
        char b64[96];
        cy_note_keyhash(raw, sigs[i].name, sigs[i].key);
        memcpy(raw + 4, sigs[i].sig, 64);
        cy_b64(b64, raw, sizeof raw);
        pos += (size_t)snprintf(out + pos, cap - pos, "\xe2\x80\x94 %s %s\n",
                                sigs[i].name, b64);
    }
    out[pos] = '\0';
    *note = out;
    if (len != NULL)
        *len = pos;
    return 0;
}

/* ---- the cosign ---- */

int sm_cosign(struct sm_ctx *c)
{
    if (c->l->partial)
        return SM_FAIL(c, CB_ECOSIGN, "a partial ledger (offline replay) "
                                      "applies no cosigns");
    const msgpack_object *sig, *size;
    const struct lg_field f[] = {
        {"sig", LG_BIN, 64, false, &sig},
        {"size", LG_UINT, 0, false, &size},
    };
    int rv;
    if ((rv = sm_body(c, f, 2)) != 0 || (rv = sm_refs(c, 1)) != 0)
        return rv;
    /* The author is judged against the seal's member list below, not
     * against the keys in force now: a node key rotated after the seal
     * still cosigns it. */
    c->used[0] = true;
    uint64_t at = size->via.u64;
    struct sm_seal *s = NULL;
    rv = seal_read(c->l, c->txn, at, &s);
    if (rv == CB_ENOTFOUND)
        return SM_FAIL(c, CB_ECOSIGN, "body.size: no seal at index %llu",
                       (unsigned long long)at);
    if (rv != 0)
        return rv;
    struct sm_seal_member *who = NULL;
    for (uint32_t i = 0; i < s->nmembers && who == NULL; i++)
        if (memcmp(s->m[i].node, c->e->author, 32) == 0)
            who = &s->m[i];
    if (who == NULL) {
        rv = SM_FAIL(c, CB_EAUTHOR, "author was not the node key of a "
                                    "member in force at the seal at %llu",
                     (unsigned long long)at);
        goto out;
    }
    if (memcmp(lg_entry_ref(c->e, 0), s->id, 32) != 0) {
        rv = SM_FAIL(c, CB_EREF, "refs[0]: not the id of the seal at %llu",
                     (unsigned long long)at);
        goto out;
    }
    if (who->cosigned) {
        rv = SM_FAIL(c, CB_ECOSIGNDUP, "%s cosigned the seal at %llu at %llu",
                     who->name, (unsigned long long)at,
                     (unsigned long long)who->cosign_index);
        goto out;
    }
    char text[BODY_CAP];
    size_t len;
    if ((rv = checkpoint_text(c->l, c->txn, c->meta->origin, at, text,
                              sizeof text, &len, s->root)) != 0)
        goto out;
    if (cy_verify((const uint8_t *)sig->via.bin.ptr, text, len, who->node) !=
        0) {
        rv = SM_FAIL(c, CB_ECOSIGN, "body.sig: not %s's signature of the "
                                    "checkpoint of the seal at %llu",
                     who->name, (unsigned long long)at);
        goto out;
    }
    who->cosigned = 1;
    who->order = ++s->ncosigns;
    who->cosign_index = c->index;
    memcpy(who->sig, sig->via.bin.ptr, 64);
    if (!s->final && s->ncosigns >= s->cosign_quorum) {
        s->final = 1;
        if (!c->meta->has_final || at > c->meta->final_seal) {
            c->meta->has_final = 1;
            c->meta->final_seal = at;
        }
    }
    rv = seal_write(c->l, c->txn, at, s);
out:
    free(s);
    return rv;
}

/* ---- for the node and the CLI ---- */

int lg_seal_body(struct lg_ledger *l, struct lg_w *w)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(lg_ledger_env(l), NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    struct sm_meta m;
    struct seal_body b;
    uint64_t size = 0;
    int rv = meta_get(l, txn, &m);
    if (rv == 0 && !m.has_genesis)
        rv = CB_EGENESIS;
    if (rv == 0 && m.since_seal == 0)
        rv = CB_ESEALEMPTY;
    if (rv == 0)
        rv = lg_log_size(&l->log, txn, &size);
    if (rv == 0 && size != m.size)
        rv = CB_ECORRUPT;
    /* The stored tree was flushed at the end of the last batch. */
    if (rv == 0)
        rv = compute_body(l, txn, &m, size, &b);
    mdb_txn_abort(txn);
    if (rv != 0)
        return rv;
    lg_w_map(w, 6);
    lg_w_cstr(w, "accounts");
    lg_w_uint(w, b.accounts);
    lg_w_cstr(w, "accounts_root");
    lg_w_bin(w, b.accounts_root, 32);
    lg_w_cstr(w, "governance");
    lg_w_uint(w, b.governance);
    lg_w_cstr(w, "governance_chain");
    lg_w_bin(w, b.governance_chain, 32);
    lg_w_cstr(w, "log_root");
    lg_w_bin(w, b.log_root, 32);
    lg_w_cstr(w, "size");
    lg_w_uint(w, b.size);
    return lg_w_error(w);
}

int lg_checkpoint_body(struct lg_ledger *l, uint64_t seal, char *out,
                       size_t cap, size_t *len)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(lg_ledger_env(l), NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    struct sm_meta m;
    struct sm_seal *s = NULL;
    cy_hash root;
    int rv = meta_get(l, txn, &m);
    if (rv == 0)
        rv = seal_read(l, txn, seal, &s); /* CB_ENOTFOUND: not a seal */
    if (rv == 0)
        rv = checkpoint_text(l, txn, m.origin, seal, out, cap, len, root);
    free(s);
    mdb_txn_abort(txn);
    return rv;
}

static int by_order(const void *a, const void *b)
{
    const struct sm_seal_member *x = *(const struct sm_seal_member *const *)a;
    const struct sm_seal_member *y = *(const struct sm_seal_member *const *)b;
    return x->order < y->order ? -1 : x->order > y->order;
}

int lg_checkpoint_note(struct lg_ledger *l, uint64_t seal, char **note,
                       struct cb_err *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(lg_ledger_env(l), NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return cb_errf(err, lg_mdb_err(rc), "read transaction: %s",
                       mdb_strerror(rc));
    struct sm_meta m;
    struct sm_seal *s = NULL;
    char body[BODY_CAP];
    size_t blen = 0;
    cy_hash root;
    int rv = meta_get(l, txn, &m);
    if (rv != 0)
        cb_errf(err, rv, "ledger head unreadable");
    if (rv == 0 && (rv = seal_read(l, txn, seal, &s)) != 0)
        cb_errf(err, rv, rv == CB_ENOTFOUND ? "no seal at index %llu"
                                            : "seal at %llu unreadable",
                (unsigned long long)seal);
    if (rv == 0 && !s->final)
        rv = cb_errf(err, CB_ENOTFOUND, "the seal at %llu is not final (%u "
                                        "of %u cosigns)",
                     (unsigned long long)seal, s->ncosigns, s->cosign_quorum);
    if (rv == 0 && (rv = checkpoint_text(l, txn, m.origin, seal, body,
                                         sizeof body, &blen, root)) != 0)
        cb_errf(err, rv, "checkpoint of the seal at %llu",
                (unsigned long long)seal);
    mdb_txn_abort(txn);
    if (rv != 0) {
        free(s);
        return rv;
    }

    /* The first cosign_quorum cosigns, in the order they were applied. */
    struct sm_seal_member **by = malloc(s->nmembers * sizeof *by);
    struct sm_note_sig *sigs = malloc(s->nmembers * sizeof *sigs);
    size_t ns = 0;
    if (by == NULL || sigs == NULL) {
        rv = cb_errf(err, CB_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (s->m[i].cosigned)
            by[ns++] = &s->m[i];
    qsort(by, ns, sizeof by[0], by_order);
    if (ns > s->cosign_quorum)
        ns = s->cosign_quorum;
    for (size_t i = 0; i < ns; i++)
        sigs[i] = (struct sm_note_sig){by[i]->name, by[i]->node, by[i]->sig};
    rv = sm_note_format(body, blen, sigs, ns, note, NULL);
    if (rv == CB_EINVAL)
        rv = CB_ECORRUPT; /* a stored member name that is not a key name */
    if (rv != 0)
        cb_errf(err, rv, "note of the seal at %llu", (unsigned long long)seal);
out:
    free(by);
    free(sigs);
    free(s);
    return rv;
}
