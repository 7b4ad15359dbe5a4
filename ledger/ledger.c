/*
 * The apply loop: how a batch of signed entries becomes ledger state.
 *
 * 1. Decode every entry (envelope only) and verify every signature, spread
 *    over the worker pool: this is where the time goes, and it needs no
 *    state.
 * 2. Open one LMDB write transaction. If the batch's seq (the Raft index)
 *    was applied already, stop: replay after a crash is a no-op.
 * 3. For each entry, open a nested transaction, run the generic checks
 *    (ledger id, duplicate id, account open) and the type's handler, then
 *    the bookkeeping every entry shares: signer accounting, account count
 *    and chain, governance count, chain and index row, the log append. A
 *    refusal aborts the nested transaction and restores the in-memory
 *    head, so it changes nothing; storage errors abort the whole batch.
 * 4. Recompute the account tree for the accounts touched, write the head
 *    with the seq, commit. One fsync per batch.
 *
 * Nothing here reads a clock or random numbers, and every iteration is in
 * key order, so every node computes the same state from the same entries.
 */
#include "sm.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mdb.h"
#include "pool.h"

static const char head_key[] = "head";

static int meta_read(struct lg_ledger *l, MDB_txn *txn, struct sm_meta *m)
{
    int rv = sm_get(txn, l->meta, head_key, 4, m, sizeof *m, NULL);
    if (rv == CB_ENOTFOUND) {
        memset(m, 0, sizeof *m);
        m->version = 1;
        return 0;
    }
    if (rv == 0 && m->version != 1)
        return CB_ECORRUPT;
    return rv;
}

static int meta_write(struct lg_ledger *l, MDB_txn *txn,
                      const struct sm_meta *m)
{
    return sm_put(txn, l->meta, head_key, 4, m, sizeof *m);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Appends governance entry number `ordinal` (at log index) to the index. */
static int govidx_put(struct lg_ledger *l, MDB_txn *txn, uint64_t ordinal,
                      uint64_t index)
{
    uint8_t key[8], val[8];
    put_be64(key, ordinal);
    put_le64(val, index);
    MDB_val k = {8, key}, v = {8, val};
    lg_nwrites++;
    int rc = mdb_put(txn, l->govidx, &k, &v, MDB_APPEND);
    return rc == 0 ? 0 : lg_mdb_err(rc);
}

/*
 * The governance index ("governance") must hold exactly meta.governance
 * rows. A ledger written before the index existed (or one whose index is
 * off) gets it rebuilt here, once, from one pass over the log: the same
 * rows apply writes, since both pick the entries lg_type_is_governance
 * names, in log order.
 */
static int govidx_check(struct lg_ledger *l, MDB_txn *txn,
                        const struct sm_meta *m)
{
    MDB_stat st;
    int rc = mdb_stat(txn, l->govidx, &st);
    if (rc != 0)
        return lg_mdb_err(rc);
    if (st.ms_entries == m->governance)
        return 0;
    if ((rc = mdb_drop(txn, l->govidx, 0)) != 0)
        return lg_mdb_err(rc);
    uint64_t size, n = 0;
    int rv = lg_log_size(&l->log, txn, &size);
    if (rv != 0)
        return rv;
    struct lg_signed s;
    lg_signed_init(&s);
    for (uint64_t i = 0; i < size && rv == 0; i++) {
        const uint8_t *p;
        size_t len;
        if ((rv = lg_log_get(&l->log, txn, i, &p, &len)) != 0)
            break;
        if (lg_signed_decode(&s, p, len, NULL) != 0) {
            rv = CB_ECORRUPT;
            break;
        }
        if (lg_type_is_governance(s.e.type))
            rv = govidx_put(l, txn, n++, i);
    }
    lg_signed_release(&s);
    if (rv == 0 && n != m->governance)
        rv = CB_ECORRUPT;
    return rv;
}

int lg_ledger_open(struct lg_ledger **out, const char *dir,
                   const struct lg_open_opts *opts, struct cb_err *err)
{
    struct lg_open_opts def = {0};
    if (opts == NULL)
        opts = &def;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cb_errf(err, CB_EIO, "%s: cannot create: %s", dir,
                       strerror(errno));
    struct lg_ledger *l = calloc(1, sizeof *l);
    if (l == NULL)
        return cb_errf(err, CB_ENOMEM, "out of memory");
    l->partial = opts->partial;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&l->env);
    if (rc != 0)
        goto mdb_fail;
    size_t map = opts->map_size ? opts->map_size : (size_t)1 << 40;
    if ((rc = mdb_env_set_mapsize(l->env, map)) != 0 ||
        (rc = mdb_env_set_maxdbs(l->env, 32)) != 0 ||
        (rc = mdb_env_set_maxreaders(l->env, 510)) != 0)
        goto mdb_fail;
    unsigned flags = MDB_NOTLS | (opts->nosync ? MDB_NOSYNC : 0) |
                     (opts->scratch ? MDB_NOLOCK : 0);
    if ((rc = mdb_env_open(l->env, dir, flags, 0600)) != 0)
        goto mdb_fail;
    if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0)
        goto mdb_fail;
    int rv = lg_log_open(&l->log, txn);
    if (rv != 0) {
        cb_errf(err, rv, "%s: cannot open the log: %s", dir, cb_strerror(rv));
        goto fail;
    }
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {
        {"meta", &l->meta},
        {"keys", &l->keys},
        {"members", &l->members},
        {"policies", &l->policies},
        {"accounts", &l->accounts},
        {"accounts.num", &l->accnum},
        {"accounts.tree", &l->acctree},
        {"accounts.entries", &l->acctents},
        {"items", &l->items},
        {"seals", &l->seals},
        {"governance", &l->govidx},
    };
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        if ((rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi)) != 0)
            goto mdb_fail;
    struct sm_meta m;
    if ((rv = meta_read(l, txn, &m)) != 0) {
        cb_errf(err, rv, "%s: bad ledger head", dir);
        goto fail;
    }
    if ((rv = govidx_check(l, txn, &m)) != 0) {
        cb_errf(err, rv, "%s: cannot build the governance index: %s", dir,
                cb_strerror(rv));
        goto fail;
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        goto mdb_fail;
    }
    txn = NULL;
    unsigned nthreads = opts->verify_threads;
    if (nthreads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = cpus > 0 ? (unsigned)cpus : 1;
    }
    if ((rv = lg_pool_new(&l->pool, nthreads - 1)) != 0) {
        cb_errf(err, rv, "cannot start worker threads");
        goto fail;
    }
    pthread_mutex_init(&l->vmu, NULL);
    /* NULL: no cache (a scratch ledger checks each entry once) */
    l->vcache = opts->scratch ? NULL : calloc(SM_VCACHE, sizeof *l->vcache);
    *out = l;
    return 0;

mdb_fail:
    rv = lg_mdb_err(rc);
    cb_errf(err, rv, "%s: %s", dir, mdb_strerror(rc));
fail:
    if (txn != NULL)
        mdb_txn_abort(txn);
    if (l->env != NULL)
        mdb_env_close(l->env);
    free(l);
    return rv;
}

int sm_ledger_reset(struct lg_ledger *l)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    MDB_dbi dbs[] = {l->log.leaves, l->log.hashes, l->log.ids, l->meta,
                     l->keys, l->members, l->policies, l->accounts,
                     l->accnum, l->acctree, l->acctents, l->items, l->seals,
                     l->govidx};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        if ((rc = mdb_drop(txn, dbs[i], 0)) != 0) {
            mdb_txn_abort(txn);
            return lg_mdb_err(rc);
        }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? 0 : lg_mdb_err(rc);
}

static void prep_destroy(struct lg_prep *prep);

void lg_ledger_close(struct lg_ledger *l)
{
    if (l == NULL)
        return;
    lg_pool_free(l->pool);
    for (int i = 0; i < SM_SPARE_PREPS; i++)
        if (l->spare[i] != NULL)
            prep_destroy(l->spare[i]);
    free(l->vcache);
    pthread_mutex_destroy(&l->vmu);
    mdb_env_close(l->env);
    free(l);
}

MDB_env *lg_ledger_env(struct lg_ledger *l)
{
    return l->env;
}

const struct lg_log *lg_ledger_log(struct lg_ledger *l)
{
    return &l->log;
}

/* ---- body helpers ---- */

int sm_body(struct sm_ctx *c, const struct lg_field *f, size_t n)
{
    return lg_fields(c->e->body, f, n, "body", c->err);
}

int sm_refs(struct sm_ctx *c, size_t n)
{
    const struct lg_entry *e = c->e;
    if (n != SIZE_MAX && e->nrefs != n)
        return SM_FAIL(c, CB_EREF, "%s takes %zu ref%s, got %zu",
                       lg_type_name(e->type), n, n == 1 ? "" : "s", e->nrefs);
    for (size_t i = 1; i < e->nrefs; i++)
        for (size_t j = 0; j < i; j++)
            if (memcmp(lg_entry_ref(e, i), lg_entry_ref(e, j), 32) == 0)
                return SM_FAIL(c, CB_EREF, "refs[%zu] repeats refs[%zu]", i,
                               j);
    return 0;
}

/* ---- one entry ---- */

static int (*const handlers[LG_T__COUNT])(struct sm_ctx *) = {
    [LG_T_GENESIS] = sm_genesis,
    [LG_T_MEMBER_ADD] = sm_member_add,
    [LG_T_MEMBER_UPDATE] = sm_member_update,
    [LG_T_MEMBER_REMOVE] = sm_member_remove,
    [LG_T_KEY_ROTATE] = sm_key_rotate,
    [LG_T_POLICY_SET] = sm_policy_set,
    [LG_T_ACCOUNT_OPEN] = sm_account_open,
    [LG_T_ACCOUNT_REKEY] = sm_account_rekey,
    [LG_T_OUTCOME_DEPOSIT] = sm_outcome_deposit,
    [LG_T_CREDIT_RECOGNIZE] = sm_credit_recognize,
    [LG_T_PROGRAM_CHANGE] = sm_program_change,
    [LG_T_DEGREE_AWARD] = sm_degree_award,
    [LG_T_DEGREE_LINK] = sm_degree_link,
    [LG_T_APPEAL_FILE] = sm_appeal_file,
    [LG_T_APPEAL_DECIDE] = sm_appeal_decide,
    [LG_T_CREDIT_CANCEL] = sm_credit_cancel,
    [LG_T_ACCOUNT_CANCEL] = sm_account_cancel,
    [LG_T_CLASS_CHANGE] = sm_class_change,
    [LG_T_SEAL] = sm_seal,
    [LG_T_COSIGN] = sm_cosign,
};

static void chain_step(uint8_t chain[32], const uint8_t leaf_hash[32])
{
    uint8_t buf[64];
    memcpy(buf, chain, 32);
    memcpy(buf + 32, leaf_hash, 32);
    cy_sha256(chain, buf, sizeof buf);
}

int sm_apply_one(struct sm_ctx *c)
{
    const struct lg_entry *e = c->e;
    struct sm_meta *m = c->meta;
    int rv;

    if (e->type != LG_T_GENESIS) {
        if (!m->has_genesis)
            return SM_FAIL(c, CB_EGENESIS, "the ledger has no genesis yet");
        if (memcmp(e->ledger, m->ledger_id, 32) != 0)
            return SM_FAIL(c, CB_ELEDGER, "entry.ledger: another ledger's id");
    }
    uint64_t earlier;
    rv = lg_log_find(&c->l->log, c->txn, e->id, &earlier);
    if (rv == 0) {
        c->index = earlier;
        return SM_FAIL(c, CB_EDUPLICATE, "entry is already at index %llu",
                       (unsigned long long)earlier);
    }
    if (rv != CB_ENOTFOUND)
        return rv;

    if (e->account != NULL) {
        rv = sm_account_get(c->l, c->txn, e->account, &c->acct);
        if (rv == CB_ENOTFOUND) {
            char hex[17];
            cy_hex(hex, e->account, 8);
            return SM_FAIL(c, CB_EACCOUNT, "account %s… is not registered",
                           hex);
        }
        if (rv != 0)
            return rv;
        if (c->acct.status != 0)
            return SM_FAIL(c, CB_ECLOSED, "account is cancelled");
        memcpy(c->acct_id, e->account, 32);
        c->has_acct = true;
    }

    if ((rv = handlers[e->type](c)) != 0)
        return rv;
    if ((rv = sm_sig_all_used(c)) != 0)
        return rv;

    if (c->has_acct) {
        struct sm_account *a = &c->acct;
        if (a->fee_exempt)
            c->fee = 0;
        a->fees += c->fee;
        a->count++;
        chain_step(a->chain, c->leaf_hash);
        uint8_t key[40], val[16];
        memcpy(key, c->acct_id, 32);
        put_be64(key + 32, a->count - 1);
        put_le64(val, c->index);
        put_le64(val + 8, c->fee);
        if ((rv = sm_account_put(c->l, c->txn, c->acct_id, a)) != 0 ||
            (rv = sm_put(c->txn, c->l->acctents, key, 40, val, 16)) != 0 ||
            (rv = sm_dirty(c, a->number)) != 0)
            return rv;
    }
    if (lg_type_is_governance(e->type)) {
        if ((rv = govidx_put(c->l, c->txn, m->governance, c->index)) != 0)
            return rv;
        m->governance++;
        chain_step(m->governance_chain, c->leaf_hash);
    }
    if (e->type != LG_T_SEAL && e->type != LG_T_COSIGN)
        m->since_seal++;

    uint64_t index;
    rv = lg_log_append_hashed(&c->l->log, c->txn, c->s->bytes, c->s->len,
                              c->leaf_hash, e->id, &index);
    if (rv != 0)
        return rv;
    if (index != c->index)
        return CB_ECORRUPT;
    m->size = index + 1;
    return 0;
}

/* ---- batches ---- */

struct decoded {
    struct lg_signed s;        /* the decoder, unless the caller decoded */
    const struct lg_signed *sp; /* the decoded entry: &s or the caller's */
    int code;
    struct cb_err err;
    atomic_bool done;          /* set (release) once s, code, err are final */
    uint8_t leaf[32];          /* leaf hash, when decoding succeeded */
};

struct verify_job {
    struct decoded *d;
    const struct lg_buf *in;             /* bytes to decode, or */
    const struct lg_signed *const *pre;  /* entries decoded by the caller */
    const uint8_t *const *pre_leaf;      /* and their leaf hashes */
    struct lg_ledger *l;
};

static size_t vcache_slot(const uint8_t h[32])
{
    return ((size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16) %
           SM_VCACHE;
}

static bool vcache_hit(struct lg_ledger *l, const uint8_t h[32])
{
    if (l->vcache == NULL)
        return false;
    pthread_mutex_lock(&l->vmu);
    bool hit = memcmp(l->vcache[vcache_slot(h)], h, 32) == 0;
    pthread_mutex_unlock(&l->vmu);
    return hit;
}

static void vcache_put(struct lg_ledger *l, const uint8_t h[32])
{
    if (l->vcache == NULL)
        return;
    pthread_mutex_lock(&l->vmu);
    memcpy(l->vcache[vcache_slot(h)], h, 32);
    pthread_mutex_unlock(&l->vmu);
}

static void decode_verify(void *ctx, size_t i)
{
    struct verify_job *job = ctx;
    struct decoded *d = &job->d[i];
    d->err.code = 0;
    d->err.msg[0] = '\0';
    if (job->pre != NULL) {
        d->sp = job->pre[i];
        d->code = 0;
        memcpy(d->leaf, job->pre_leaf[i], 32);
    } else {
        d->sp = &d->s;
        d->code = lg_signed_decode(&d->s, job->in[i].p, job->in[i].len,
                                   &d->err);
        if (d->code == 0)
            cy_leaf_hash(d->leaf, d->s.bytes, d->s.len);
    }
    if (d->code == 0 && !vcache_hit(job->l, d->leaf))
        d->code = lg_signed_verify(d->sp, &d->err);
    atomic_store_explicit(&d->done, true, memory_order_release);
}

static bool batch_fatal(int rv)
{
    return rv == CB_ENOMEM || rv == CB_EIO || rv == CB_EFULL ||
           rv == CB_ECORRUPT || rv == CB_EINTERNAL;
}

/* run_batch's answer when a refusal followed a write without a nested
 * transaction to undo it: the caller aborts and runs the batch again with
 * nested == true. Never leaves ledger.c. */
#define RUN_AGAIN_NESTED (-1000)

enum run_mode {
    RUN_FAST,    /* entries run in txn; RUN_AGAIN_NESTED if one must be undone */
    RUN_NESTED,  /* a nested transaction per entry */
    RUN_CHECK,   /* one entry whose txn the caller aborts: nothing to undo */
};

/* Below this much free space, an EIO from a commit is a full file system. */
#define LG_FULL_SLACK (1u << 20)

/* The error of a failed mdb_txn_commit. LMDB 0.9 turns a short write of its
 * pages (pwritev/pwrite returning fewer bytes than asked: what a file system
 * that fills up mid-write does) into EIO, "short write, filesystem full?"
 * (mdb_page_flush); only a write that stores nothing fails with ENOSPC. So an
 * EIO while the data directory's file system has (almost) no space left is
 * reported as storage_full, with the free space, not as io_error. */
static int commit_failed(struct lg_ledger *l, int rc, struct cb_err *err)
{
    const char *path = NULL;
    struct statvfs sv;
    if (rc == EIO && mdb_env_get_path(l->env, &path) == 0 && path != NULL &&
        statvfs(path, &sv) == 0 &&
        (unsigned long long)sv.f_bavail * sv.f_frsize < LG_FULL_SLACK)
        return cb_errf(err, CB_EFULL,
                       "commit: short write, file system full (%llu KiB "
                       "free): %s",
                       (unsigned long long)sv.f_bavail * sv.f_frsize / 1024,
                       mdb_strerror(rc));
    return cb_errf(err, lg_mdb_err(rc), "commit: %s", mdb_strerror(rc));
}

/* Runs entries d[0..n) in txn; res gets the outcomes. Every refused entry
 * must leave nothing behind. Rules check before they write, so a refusal
 * almost always comes before the entry's first write: then restoring the
 * in-memory head is all the undoing needed, and the entry runs in txn
 * itself (nested == false). Where a refusal comes after a write (lg_nwrites
 * moved), the batch is run again with a nested transaction per entry, which
 * LMDB can abort alone. The nested path costs a dirty-page list per entry
 * (and merges it into the parent's on commit), which is why it is the
 * fallback and not the rule. */
static int run_batch(struct lg_ledger *l, MDB_txn *txn, struct sm_meta *m,
                     struct decoded *d, size_t n, struct lg_job *job,
                     struct lg_result *res, enum run_mode mode,
                     struct cb_err *err)
{
    bool nested = mode == RUN_NESTED;
    uint64_t *dirty = NULL;
    size_t ndirty = 0, dirty_cap = 0;
    int rv = 0;
    struct sm_ctx *c = malloc(sizeof *c);
    if (c == NULL)
        return cb_errf(err, CB_ENOMEM, "out of memory");

    for (size_t i = 0; i < n; i++) {
        struct lg_result *r = &res[i];
        memset(r, 0, sizeof *r);
        /* The rules run in log order while the pool still checks later
         * entries' signatures; until entry i is checked, help check. */
        while (!atomic_load_explicit(&d[i].done, memory_order_acquire))
            if (job == NULL || !lg_job_help(l->pool, job))
                sched_yield();
        if (d[i].code != 0) {
            r->code = d[i].code;
            snprintf(r->msg, sizeof r->msg, "%s", cb_errmsg(&d[i].err));
            if (d[i].sp->nsigs > 0 || d[i].code == CB_EBADSIG)
                memcpy(r->id, d[i].sp->e.id, 32);
            continue;
        }
        const struct lg_signed *s = d[i].sp;
        memcpy(r->id, s->e.id, 32);
        r->type = (int)s->e.type;
        r->ts = s->e.ts;
        memcpy(r->author, s->e.author, 32);
        MDB_txn *child = txn;
        int rc = nested ? mdb_txn_begin(l->env, txn, 0, &child) : 0;
        if (rc != 0) {
            rv = cb_errf(err, lg_mdb_err(rc), "nested txn: %s",
                         mdb_strerror(rc));
            break;
        }
        unsigned long writes = lg_nwrites;
        struct sm_meta saved = *m;
        size_t saved_dirty = ndirty;
        struct cb_err e = {0, ""};
        memset(c, 0, sizeof *c);
        c->l = l;
        c->txn = child;
        c->meta = m;
        c->s = s;
        c->e = &s->e;
        c->index = m->size;
        c->err = &e;
        c->dirty = &dirty;
        c->ndirty = &ndirty;
        c->dirty_cap = &dirty_cap;
        memcpy(c->leaf_hash, d[i].leaf, 32);

        int code = sm_apply_one(c);
        if (code == 0) {
            rc = nested ? mdb_txn_commit(child) : 0;
            if (rc != 0) {
                *m = saved;
                rv = cb_errf(err, lg_mdb_err(rc), "commit: %s",
                             mdb_strerror(rc));
                break;
            }
            r->code = 0;
            r->index = c->index;
            r->fee = c->fee;
            continue;
        }
        if (nested)
            mdb_txn_abort(child);
        *m = saved;
        ndirty = saved_dirty;
        if (mode == RUN_FAST && !batch_fatal(code) && lg_nwrites != writes) {
            rv = RUN_AGAIN_NESTED;
            break;
        }
        if (batch_fatal(code)) {
            rv = cb_errf(err, code, "entry %zu: %s", i, cb_errmsg(&e));
            break;
        }
        r->code = code;
        if (code == CB_EDUPLICATE)
            r->index = c->index;
        snprintf(r->msg, sizeof r->msg, "%s",
                 e.msg[0] ? e.msg : cb_strerror(code));
    }
    if (rv == 0 && ndirty > 0)
        rv = sm_acctree_flush(l, txn, m, dirty, ndirty);
    free(dirty);
    free(c);
    return rv;
}

static int decode_all(size_t n, struct decoded **out)
{
    struct decoded *d = calloc(n ? n : 1, sizeof *d);
    if (d == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < n; i++)
        lg_signed_init(&d[i].s);
    *out = d;
    return 0;
}

static void free_decoded(struct decoded *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lg_signed_release(&d[i].s);
    free(d);
}

struct lg_prep {
    struct lg_ledger *l;
    struct decoded *d;
    size_t n, cap;             /* entries, and decoders allocated */
    struct verify_job vj;
    struct lg_job job;
};

/* A prepared batch with room for n entries: a spare one if it fits. */
static struct lg_prep *prep_get(struct lg_ledger *l, size_t n)
{
    struct lg_prep *prep = NULL;
    pthread_mutex_lock(&l->vmu);
    for (int i = 0; i < SM_SPARE_PREPS; i++)
        if (l->spare[i] != NULL && l->spare[i]->cap >= n) {
            prep = l->spare[i];
            l->spare[i] = NULL;
            break;
        }
    pthread_mutex_unlock(&l->vmu);
    if (prep != NULL) {
        for (size_t i = 0; i < n; i++) {
            /* as new, but for the decoders' msgpack zones */
            struct decoded *d = &prep->d[i];
            struct lg_doc outer = d->s.outer, inner = d->s.inner;
            memset(d, 0, sizeof *d);
            d->s.outer = outer;
            d->s.inner = inner;
        }
        return prep;
    }
    prep = calloc(1, sizeof *prep);
    if (prep == NULL)
        return NULL;
    if (decode_all(n, &prep->d) != 0) {
        free(prep);
        return NULL;
    }
    prep->cap = n ? n : 1;
    return prep;
}

static void prep_destroy(struct lg_prep *prep)
{
    free_decoded(prep->d, prep->cap);
    free(prep);
}

int lg_prepare(struct lg_ledger *l, const struct lg_buf *entries, size_t n,
               struct lg_prep **out)
{
    struct lg_prep *prep = prep_get(l, n);
    if (prep == NULL)
        return CB_ENOMEM;
    prep->l = l;
    prep->n = n;
    prep->vj = (struct verify_job){prep->d, entries, NULL, NULL, l};
    lg_job_post(l->pool, &prep->job, decode_verify, &prep->vj, n);
    *out = prep;
    return 0;
}

int lg_apply_decoded(struct lg_ledger *l, const struct lg_signed *const *s,
                     const uint8_t *const *leaf, size_t n,
                     struct lg_result *res, struct cb_err *err)
{
    struct lg_prep *prep = prep_get(l, n);
    if (prep == NULL)
        return cb_errf(err, CB_ENOMEM, "out of memory");
    prep->l = l;
    prep->n = n;
    prep->vj = (struct verify_job){prep->d, NULL, s, leaf, l};
    lg_job_post(l->pool, &prep->job, decode_verify, &prep->vj, n);
    return lg_apply_prepared(l, 0, prep, res, NULL, err);
}

void lg_prep_free(struct lg_prep *prep)
{
    if (prep == NULL)
        return;
    struct lg_ledger *l = prep->l;
    lg_job_wait(l->pool, &prep->job);
    /* keep it for the next batch (the largest ones), else free it */
    pthread_mutex_lock(&l->vmu);
    int slot = -1;
    for (int i = 0; i < SM_SPARE_PREPS; i++) {
        if (l->spare[i] == NULL) {
            slot = i;
            break;
        }
        if (l->spare[i]->cap < prep->cap &&
            (slot < 0 || l->spare[i]->cap < l->spare[slot]->cap))
            slot = i;
    }
    struct lg_prep *drop = prep;
    if (slot >= 0) {
        drop = l->spare[slot];
        l->spare[slot] = prep;
    }
    pthread_mutex_unlock(&l->vmu);
    if (drop != NULL)
        prep_destroy(drop);
}

int lg_apply(struct lg_ledger *l, uint64_t seq, const struct lg_buf *entries,
             size_t n, struct lg_result *res, bool *replayed,
             struct cb_err *err)
{
    struct lg_prep *prep;
    int rv = lg_prepare(l, entries, n, &prep);
    if (rv != 0) {
        if (replayed != NULL)
            *replayed = false;
        return cb_errf(err, rv, "out of memory");
    }
    return lg_apply_prepared(l, seq, prep, res, replayed, err);
}

int lg_apply_prepared(struct lg_ledger *l, uint64_t seq, struct lg_prep *prep,
                      struct lg_result *res, bool *replayed,
                      struct cb_err *err)
{
    if (replayed != NULL)
        *replayed = false;
    struct decoded *d = prep->d;
    size_t n = prep->n;
    int rv = 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc != 0) {
        rv = cb_errf(err, lg_mdb_err(rc), "begin: %s", mdb_strerror(rc));
        goto out;
    }
    struct sm_meta m;
    if ((rv = meta_read(l, txn, &m)) != 0) {
        cb_errf(err, rv, "ledger head unreadable");
        mdb_txn_abort(txn);
        goto out;
    }
    if (seq != 0 && seq <= m.applied_seq) {
        mdb_txn_abort(txn);
        if (replayed != NULL)
            *replayed = true;
        for (size_t i = 0; i < n; i++) {
            memset(&res[i], 0, sizeof res[i]);
            res[i].code = CB_EEXISTS;
            snprintf(res[i].msg, sizeof res[i].msg,
                     "batch %llu was applied already",
                     (unsigned long long)seq);
        }
        goto out;
    }
    struct sm_meta m0 = m;
    rv = run_batch(l, txn, &m, d, n, &prep->job, res, RUN_FAST, err);
    if (rv == RUN_AGAIN_NESTED) {
        /* A refusal came after a write: start over, each entry in a
         * nested transaction (signatures are checked already). */
        mdb_txn_abort(txn);
        if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0) {
            rv = cb_errf(err, lg_mdb_err(rc), "begin: %s", mdb_strerror(rc));
            goto out;
        }
        m = m0;
        rv = run_batch(l, txn, &m, d, n, &prep->job, res, RUN_NESTED, err);
    }
    if (rv == 0) {
        if (seq != 0)
            m.applied_seq = seq;
        rv = meta_write(l, txn, &m);
    }
    if (rv != 0) {
        mdb_txn_abort(txn);
        goto out;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        rv = commit_failed(l, rc, err);
out:
    lg_prep_free(prep);
    return rv;
}

int lg_check(struct lg_ledger *l, const uint8_t *p, size_t len,
             struct lg_result *res)
{
    struct lg_buf in = {p, len};
    struct decoded *d = calloc(1, sizeof *d);
    if (d == NULL)
        return CB_ENOMEM;
    lg_signed_init(&d->s);
    struct verify_job job = {d, &in, NULL, NULL, l};
    decode_verify(&job, 0);
    if (d->code == 0)
        vcache_put(l, d->leaf); /* apply will not verify these bytes again */

    MDB_txn *txn;
    int rv, rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc != 0) {
        rv = lg_mdb_err(rc);
        goto out;
    }
    struct sm_meta m;
    if ((rv = meta_read(l, txn, &m)) == 0)
        rv = run_batch(l, txn, &m, d, 1, NULL, res, RUN_CHECK, NULL);
    mdb_txn_abort(txn);
out:
    free_decoded(d, 1);
    return rv;
}

int lg_status(struct lg_ledger *l, struct lg_status *st)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    struct sm_meta m;
    int rv = meta_read(l, txn, &m);
    memset(st, 0, sizeof *st);
    if (rv == 0)
        rv = lg_log_root(&l->log, txn, m.size, st->root);
    if (rv == 0)
        rv = sm_acctree_root(l, txn, m.accounts, st->accounts_root);
    if (rv == 0 && m.has_genesis) {
        struct sm_policy p;
        rv = sm_policy_effective_txn(l, txn, "*", &p);
        st->seal_interval_ms = p.seal_interval_ms;
    }
    mdb_txn_abort(txn);
    if (rv != 0)
        return rv;
    st->has_genesis = m.has_genesis;
    memcpy(st->ledger_id, m.ledger_id, 32);
    st->applied_seq = m.applied_seq;
    st->size = m.size;
    st->accounts = m.accounts;
    st->governance = m.governance;
    memcpy(st->governance_chain, m.governance_chain, 32);
    st->members = m.members;
    st->governance_quorum = sm_gov_quorum(&m, m.members);
    st->cosign_quorum = sm_cosign_quorum(&m, m.members);
    st->since_seal = m.since_seal;
    st->has_seal = m.has_seal;
    st->last_seal = m.last_seal;
    st->last_seal_ts = m.last_seal_ts;
    st->has_final = m.has_final;
    st->final_seal = m.final_seal;
    snprintf(st->origin, sizeof st->origin, "%s", m.origin);
    return 0;
}
