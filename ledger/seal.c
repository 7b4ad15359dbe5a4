/*
 * Seals, cosigns, checkpoints and the account tree (DESIGN 3.3, 3.4).
 *
 * A seal commits, at its own index, to everything a verifier needs: the log
 * root, the account tree root and the governance chain. Every node
 * recomputes the body and refuses a seal that differs, so a leader cannot
 * seal a state nobody has. The seal's checkpoint (the tree including the
 * seal) becomes final once cosign_quorum members' nodes -- as they were at
 * the seal -- have signed its note body; those signatures ride in the log as
 * cosign entries, so the log itself carries its own proof of finality.
 *
 * The seal record keeps the members in force at the seal with their node
 * keys then: later removals and rotations do not change who may cosign it
 * or how many must.
 */
#include "sm.h"

#include <stdlib.h>
#include <string.h>

#include "mdb.h"

/* ---- account tree ---- */

void sm_account_leaf(uint8_t out[73], const uint8_t id[32],
                     const struct sm_account *a)
{
    memcpy(out, id, 32);
    for (int i = 0; i < 8; i++)
        out[32 + i] = (uint8_t)(a->count >> (56 - 8 * i));
    memcpy(out + 40, a->chain, 32);
    out[72] = a->status;
}

static void tree_key(uint8_t key[9], unsigned level, uint64_t index)
{
    key[0] = (uint8_t)level;
    for (int i = 0; i < 8; i++)
        key[1 + i] = (uint8_t)(index >> (56 - 8 * i));
}

struct tree_reader {
    struct lg_ledger *l;
    MDB_txn *txn;
};

static int tree_read(void *ctx, unsigned level, uint64_t index, cy_hash out)
{
    struct tree_reader *r = ctx;
    uint8_t key[9];
    tree_key(key, level, index);
    int rv = sm_get(r->txn, r->l->acctree, key, 9, out, 32, NULL);
    return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
}

static int u64cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int sm_acctree_flush(struct lg_ledger *l, MDB_txn *txn, const struct sm_meta *m,
                     uint64_t *dirty, size_t ndirty)
{
    if (ndirty == 0)
        return 0;
    qsort(dirty, ndirty, sizeof *dirty, u64cmp);
    /* dedup in place */
    size_t n = 1;
    for (size_t d = 1; d < ndirty; d++)
        if (dirty[d] != dirty[n - 1])
            dirty[n++] = dirty[d];
    struct tree_reader r = {l, txn};
    int rv;
    /* First every changed leaf: a batch may open several new accounts, and
     * a parent needs both its children in place before it is hashed. */
    for (size_t d = 0; d < n; d++) {
        uint64_t i = dirty[d];
        uint8_t nk[8], id[32], leaf[73], key[9];
        for (int b = 0; b < 8; b++)
            nk[b] = (uint8_t)(i >> (56 - 8 * b));
        rv = sm_get(txn, l->accnum, nk, 8, id, 32, NULL);
        struct sm_account a;
        if (rv == 0)
            rv = sm_account_get(l, txn, id, &a);
        if (rv != 0)
            return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
        sm_account_leaf(leaf, id, &a);
        cy_hash h;
        cy_leaf_hash(h, leaf, sizeof leaf);
        tree_key(key, 0, i);
        if ((rv = sm_put(txn, l->acctree, key, 9, h, 32)) != 0)
            return rv;
    }
    /* Then the complete subtrees above them, one level at a time. The
     * dirty list becomes the list of changed parents as we go up. */
    for (unsigned level = 1; level < 64 && n > 0; level++) {
        size_t up = 0;
        for (size_t d = 0; d < n; d++) {
            uint64_t idx = dirty[d] >> 1;
            if (up > 0 && dirty[up - 1] == idx)
                continue;
            if (((idx + 1) << level) > m->accounts)
                continue; /* incomplete: folded in by cy_tree_hash */
            cy_hash left, right, h;
            uint8_t key[9];
            if ((rv = tree_read(&r, level - 1, 2 * idx, left)) != 0 ||
                (rv = tree_read(&r, level - 1, 2 * idx + 1, right)) != 0)
                return rv;
            cy_node_hash(h, left, right);
            tree_key(key, level, idx);
            if ((rv = sm_put(txn, l->acctree, key, 9, h, 32)) != 0)
                return rv;
            dirty[up++] = idx;
        }
        n = up;
    }
    return 0;
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
    return sizeof(struct sm_seal) + nmembers * sizeof(struct sm_seal_member);
}

static void seal_key(uint8_t key[8], uint64_t index)
{
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(index >> (56 - 8 * i));
}

/* Reads the seal at index into a malloc'd record; CB_ENOTFOUND. */
static int seal_read(struct lg_ledger *l, MDB_txn *txn, uint64_t index,
                     struct sm_seal **out)
{
    uint8_t key[8];
    seal_key(key, index);
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
    if (v.mv_size != seal_size(s->nmembers)) {
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
    seal_key(key, index);
    return sm_put(txn, l->seals, key, 8, s, seal_size(s->nmembers));
}

static int meta_get(struct lg_ledger *l, MDB_txn *txn, struct sm_meta *m)
{
    return sm_get(txn, l->meta, "head", 4, m, sizeof *m, NULL);
}

/* The body fields a seal at index `size` must carry. */
struct seal_body {
    uint64_t size, accounts, governance;
    uint8_t log_root[32], accounts_root[32], governance_chain[32];
};

static int compute_body(struct lg_ledger *l, MDB_txn *txn,
                        const struct sm_meta *m, struct seal_body *b)
{
    b->size = m->size;
    b->accounts = m->accounts;
    b->governance = m->governance;
    memcpy(b->governance_chain, m->governance_chain, 32);
    int rv = lg_log_root(&l->log, txn, m->size, b->log_root);
    if (rv == 0)
        rv = sm_acctree_root(l, txn, m->accounts, b->accounts_root);
    return rv;
}

int sm_seal(struct sm_ctx *c)
{
    if (c->l->partial)
        return SM_FAIL(c, CB_ESEAL, "seals are not replayed offline");
    const msgpack_object *acc, *accr, *gov, *govc, *logr, *size;
    const struct lg_field f[] = {
        {"accounts", LG_UINT, 0, false, &acc},
        {"accounts_root", LG_BIN, 32, false, &accr},
        {"governance", LG_UINT, 0, false, &gov},
        {"governance_chain", LG_BIN, 32, false, &govc},
        {"log_root", LG_BIN, 32, false, &logr},
        {"size", LG_UINT, 0, false, &size},
    };
    int rv;
    if ((rv = sm_author_node(c)) != 0 || (rv = sm_body(c, f, 6)) != 0 ||
        (rv = sm_refs(c, 0)) != 0)
        return rv;
    struct sm_meta *m = c->meta;
    if (m->since_seal == 0)
        return SM_FAIL(c, CB_ESEALEMPTY,
                       "no entry other than seal or cosign since the last "
                       "seal");
    if (m->has_seal && c->e->ts < m->last_seal_ts)
        return SM_FAIL(c, CB_ESEALTIME, "ts %llu below the previous seal's %llu",
                       (unsigned long long)c->e->ts,
                       (unsigned long long)m->last_seal_ts);
    /* The account tree must be current before its root is compared. */
    if ((rv = sm_acctree_flush(c->l, c->txn, m, *c->dirty, *c->ndirty)) != 0)
        return rv;
    struct seal_body b;
    if ((rv = compute_body(c->l, c->txn, m, &b)) != 0)
        return rv;
    if (size->via.u64 != c->index)
        return SM_FAIL(c, CB_ESEAL, "body.size: %llu, this seal's index is "
                       "%llu", (unsigned long long)size->via.u64,
                       (unsigned long long)c->index);
    if (acc->via.u64 != b.accounts)
        return SM_FAIL(c, CB_ESEAL, "body.accounts: %llu, computed %llu",
                       (unsigned long long)acc->via.u64,
                       (unsigned long long)b.accounts);
    if (gov->via.u64 != b.governance)
        return SM_FAIL(c, CB_ESEAL, "body.governance: %llu, computed %llu",
                       (unsigned long long)gov->via.u64,
                       (unsigned long long)b.governance);
    struct {
        const char *name;
        const msgpack_object *got;
        const uint8_t *want;
    } hashes[] = {
        {"log_root", logr, b.log_root},
        {"accounts_root", accr, b.accounts_root},
        {"governance_chain", govc, b.governance_chain},
    };
    for (int i = 0; i < 3; i++)
        if (memcmp(hashes[i].got->via.bin.ptr, hashes[i].want, 32) != 0) {
            char got[17], want[17];
            cy_hex(got, (const uint8_t *)hashes[i].got->via.bin.ptr, 8);
            cy_hex(want, hashes[i].want, 8);
            return SM_FAIL(c, CB_ESEAL, "body.%s: %s…, computed %s…",
                           hashes[i].name, got, want);
        }

    /* Record who may cosign: the members in force now, with their node
     * keys now. */
    uint32_t n = (uint32_t)m->members;
    struct sm_seal *s = calloc(1, seal_size(n));
    if (s == NULL)
        return CB_ENOMEM;
    memcpy(s->id, c->e->id, 32);
    s->ts = c->e->ts;
    s->cosign_quorum = (uint32_t)sm_cosign_quorum(m, m->members);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->l->members, &cur);
    if (rc != 0) {
        free(s);
        return lg_mdb_err(rc);
    }
    MDB_val k, v;
    uint32_t got = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct sm_member mem;
        if (v.mv_size != sizeof mem) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(&mem, v.mv_data, sizeof mem);
        if (!mem.in_force)
            continue;
        if (got == n) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(s->m[got].name, mem.name, SM_NAME_CAP);
        memcpy(s->m[got].node, mem.node, 32);
        got++;
    }
    mdb_cursor_close(cur);
    if ((rc != 0 && rc != MDB_NOTFOUND) || got != n) {
        free(s);
        return rc == MDB_NOTFOUND || rc == 0 ? CB_ECORRUPT : lg_mdb_err(rc);
    }
    s->nmembers = n;
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

static int body_text(struct lg_ledger *l, MDB_txn *txn,
                     const struct sm_meta *m, uint64_t seal, char *out,
                     size_t cap, size_t *len)
{
    cy_hash root;
    int rv = lg_log_root(&l->log, txn, seal + 1, root);
    if (rv != 0)
        return rv;
    char b64[48];
    cy_b64(b64, root, 32);
    int n = snprintf(out, cap, "%s\n%llu\n%s\n", m->origin,
                     (unsigned long long)(seal + 1), b64);
    if (n < 0 || (size_t)n >= cap)
        return CB_ETOOBIG;
    *len = (size_t)n;
    return 0;
}

int sm_cosign(struct sm_ctx *c)
{
    if (c->l->partial)
        return SM_FAIL(c, CB_ECOSIGN, "cosigns are not replayed offline");
    const msgpack_object *sig, *size;
    const struct lg_field f[] = {
        {"sig", LG_BIN, 64, false, &sig},
        {"size", LG_UINT, 0, false, &size},
    };
    int rv;
    if ((rv = sm_body(c, f, 2)) != 0 || (rv = sm_refs(c, 1)) != 0)
        return rv;
    c->used[0] = true; /* the author: judged against the seal below */
    uint64_t at = size->via.u64;
    struct sm_seal *s;
    rv = seal_read(c->l, c->txn, at, &s);
    if (rv == CB_ENOTFOUND)
        return SM_FAIL(c, CB_ECOSIGN, "body.size: no seal at index %llu",
                       (unsigned long long)at);
    if (rv != 0)
        return rv;
    if (memcmp(lg_entry_ref(c->e, 0), s->id, 32) != 0) {
        rv = SM_FAIL(c, CB_EREF, "refs[0]: not the seal at index %llu",
                     (unsigned long long)at);
        goto out;
    }
    struct sm_seal_member *who = NULL;
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (memcmp(s->m[i].node, c->e->author, 32) == 0)
            who = &s->m[i];
    if (who == NULL) {
        rv = SM_FAIL(c, CB_EAUTHOR, "author was no member's node key at the "
                                    "seal");
        goto out;
    }
    if (who->cosigned) {
        rv = SM_FAIL(c, CB_ECOSIGNDUP, "%s has cosigned seal %llu already",
                     who->name, (unsigned long long)at);
        goto out;
    }
    char text[512];
    size_t len;
    if ((rv = body_text(c->l, c->txn, c->meta, at, text, sizeof text, &len)) !=
        0)
        goto out;
    if (cy_verify((const uint8_t *)sig->via.bin.ptr, text, len, who->node) !=
        0) {
        rv = SM_FAIL(c, CB_ECOSIGN, "body.sig: not %s's signature of the "
                     "checkpoint", who->name);
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
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    struct sm_meta m;
    struct seal_body b;
    int rv = meta_get(l, txn, &m);
    if (rv == 0 && m.since_seal == 0)
        rv = CB_ESEALEMPTY;
    if (rv == 0)
        rv = compute_body(l, txn, &m, &b);
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
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    struct sm_meta m;
    struct sm_seal *s = NULL;
    int rv = meta_get(l, txn, &m);
    if (rv == 0)
        rv = seal_read(l, txn, seal, &s); /* it must be a seal */
    if (rv == 0)
        rv = body_text(l, txn, &m, seal, out, cap, len);
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
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    struct sm_meta m;
    struct sm_seal *s = NULL;
    char body[512];
    size_t blen = 0;
    int rv = meta_get(l, txn, &m);
    if (rv == 0)
        rv = seal_read(l, txn, seal, &s);
    if (rv == CB_ENOTFOUND)
        cb_errf(err, rv, "no seal at index %llu", (unsigned long long)seal);
    if (rv == 0 && !s->final)
        rv = cb_errf(err, CB_ENOTFOUND, "seal %llu is not final (%u of %u "
                     "cosigns)", (unsigned long long)seal, s->ncosigns,
                     s->cosign_quorum);
    if (rv == 0)
        rv = body_text(l, txn, &m, seal, body, sizeof body, &blen);
    mdb_txn_abort(txn);
    if (rv != 0) {
        free(s);
        return rv;
    }
    struct sm_seal_member *signers[SM_MAX_MEMBERS];
    uint32_t ns = 0;
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (s->m[i].cosigned)
            signers[ns++] = &s->m[i];
    qsort(signers, ns, sizeof signers[0], by_order);
    if (ns > s->cosign_quorum)
        ns = s->cosign_quorum;
    size_t cap = blen + 2 + ns * (4 + SM_NAME_CAP + 96 + 4);
    char *out = malloc(cap);
    if (out == NULL) {
        free(s);
        return cb_errf(err, CB_ENOMEM, "out of memory");
    }
    memcpy(out, body, blen);
    size_t pos = blen;
    out[pos++] = '\n';
    for (uint32_t i = 0; i < ns; i++) {
        uint8_t raw[68];
        char b64[100];
        cy_note_keyhash(raw, signers[i]->name, signers[i]->node);
        memcpy(raw + 4, signers[i]->sig, 64);
        cy_b64(b64, raw, sizeof raw);
        pos += (size_t)snprintf(out + pos, cap - pos, "\xe2\x80\x94 %s %s\n",
                                signers[i]->name, b64);
    }
    out[pos] = '\0';
    free(s);
    *note = out;
    return 0;
}
