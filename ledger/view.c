/*
 * Views (DESIGN 4.2): what GET /v1/accounts/{id}, `credbank account show`
 * and the offline verifier show.
 *
 * A view is built in one read-only transaction from the account record, its
 * items (deposits, recognitions, appeals) and its entries in the log: the
 * strings the items do not keep (course, title, appeal reason, the degree and
 * major of awards and links) are read from the entries themselves, which the
 * items point at by log index. Every array is in log order and every object
 * is built with the same keys in the same order, so two ledgers holding the
 * same entries render byte-identical JSON (json_dumps with or without
 * JSON_SORT_KEYS). Integers above 2^63 - 1 are written as decimal strings,
 * as lg_json does. spec/state-machine.md ("Account view") lists every key.
 */
#include "sm.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mdb.h"

/* ---- JSON helpers: the first failure (out of memory) sticks in *rv ---- */

static json_t *hexj(const uint8_t *b, size_t n)
{
    char buf[129];
    cy_hex(buf, b, n);
    return json_string(buf);
}

static json_t *uj(uint64_t v)
{
    if (v > (uint64_t)INT64_MAX) {
        char buf[24];
        snprintf(buf, sizeof buf, "%" PRIu64, v);
        return json_string(buf);
    }
    return json_integer((json_int_t)v);
}

static json_t *termj(int term)
{
    char t[7];
    sm_term_format(t, term);
    return json_string(t);
}

static void put(json_t *o, const char *key, json_t *v, int *rv)
{
    if (json_object_set_new(o, key, v) != 0 && *rv == 0)
        *rv = CB_ENOMEM;
}

static void push(json_t *a, json_t *v, int *rv)
{
    if (json_array_append_new(a, v) != 0 && *rv == 0)
        *rv = CB_ENOMEM;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- entries read back from the log ---- */

struct entry_reader {
    struct lg_ledger *l;
    MDB_txn *txn;
    const struct lg_signed *(*get)(void *ctx, uint64_t index); /* or NULL */
    void *ctx;
    struct lg_signed s;        /* the decoder */
    const struct lg_signed *e; /* the entry read last; valid until the next
                                  read */
};

static int read_entry(struct entry_reader *r, uint64_t index)
{
    if (r->get != NULL && (r->e = r->get(r->ctx, index)) != NULL)
        return 0;
    const uint8_t *p;
    size_t len;
    r->e = &r->s;
    int rv = lg_log_get(&r->l->log, r->txn, index, &p, &len);
    if (rv == 0)
        rv = lg_signed_decode(&r->s, p, len, NULL);
    return rv == 0 || rv == CB_ENOMEM ? rv : CB_ECORRUPT;
}

/* A body field of the entry read last, or NULL when absent. */
static const msgpack_object *body_obj(struct entry_reader *r, const char *key)
{
    const msgpack_object *b = r->e->e.body;
    for (uint32_t i = 0; i < b->via.map.size; i++)
        if (lg_is_str(&b->via.map.ptr[i].key, key))
            return &b->via.map.ptr[i].val;
    return NULL;
}

/* A body field as JSON; an absent one (which the rules never let through)
 * is corrupt. */
static void put_body(json_t *o, const char *key, struct entry_reader *r,
                     int *rv)
{
    const msgpack_object *f = body_obj(r, key);
    if (f == NULL) {
        if (*rv == 0)
            *rv = CB_ECORRUPT;
        return;
    }
    put(o, key, lg_json(f), rv);
}

/* ---- the account's items, in log order ---- */

struct item_ref {
    uint8_t id[32];
    struct sm_item it;
};

struct items {
    struct item_ref *v;
    size_t n, cap;
};

static int collect(void *ctx, const uint8_t id[32], const struct sm_item *it)
{
    struct items *a = ctx;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        void *p = realloc(a->v, cap * sizeof *a->v);
        if (p == NULL)
            return CB_ENOMEM;
        a->v = p;
        a->cap = cap;
    }
    memcpy(a->v[a->n].id, id, 32);
    a->v[a->n].it = *it;
    a->n++;
    return 0;
}

/* Every item comes from its own entry, so indexes are distinct. */
static int by_index(const void *x, const void *y)
{
    const struct item_ref *a = x, *b = y;
    return a->it.index < b->it.index ? -1 : a->it.index > b->it.index;
}

static const struct item_ref *find_item(const struct items *items,
                                        const uint8_t id[32])
{
    for (size_t i = 0; i < items->n; i++)
        if (memcmp(items->v[i].id, id, 32) == 0)
            return &items->v[i];
    return NULL;
}

/* The credits recognition rec had just before log index `at`: those of the
 * newest appeal upheld on it before `at`, else those it was recognised with.
 * (degree.link sums credits as they are at link time; an appeal decided
 * later does not change what that link counted.) */
static int credits_at(struct entry_reader *r, const struct items *items,
                      const struct item_ref *rec, uint64_t at, uint64_t *out)
{
    const struct sm_item *best = NULL;
    bool upheld = false;
    for (size_t i = 0; i < items->n; i++) {
        const struct sm_item *ap = &items->v[i].it;
        if (ap->kind != SM_ITEM_APPEAL || ap->status != SM_APPEAL_UPHELD ||
            memcmp(ap->ref, rec->id, 32) != 0)
            continue;
        upheld = true;
        if (ap->closed_index < at &&
            (best == NULL || ap->closed_index > best->closed_index))
            best = ap;
    }
    if (!upheld) {
        *out = rec->it.credits;
        return 0;
    }
    int rv = read_entry(r, best ? best->closed_index : rec->it.index);
    if (rv != 0)
        return rv;
    const msgpack_object *cr = body_obj(r, "credits");
    if (cr == NULL || cr->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return CB_ECORRUPT;
    *out = cr->via.u64;
    return 0;
}

/* ---- lg_account_view ---- */

struct view {
    struct lg_ledger *l;
    MDB_txn *txn;
    const uint8_t *id;
    struct sm_account a;
    struct items items;
    struct entry_reader r, r2; /* r2: reads nested in r's */
    json_t *awards, *links, *fees;
};

/* awards, links and fees.entries from accounts.entries */
static int view_entries(struct view *w)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(w->txn, w->l->acctents, &cur);
    if (rc != 0)
        return lg_mdb_err(rc);
    uint8_t start[40];
    memcpy(start, w->id, 32);
    memset(start + 32, 0, 8);
    MDB_val k = {40, start}, val;
    int rv = 0;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0 && rv == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        if (k.mv_size != 40 || memcmp(k.mv_data, w->id, 32) != 0)
            break;
        if (val.mv_size != 16) {
            rv = CB_ECORRUPT;
            break;
        }
        uint64_t index = le64(val.mv_data),
                 fee = le64((const uint8_t *)val.mv_data + 8);
        if ((rv = read_entry(&w->r, index)) != 0)
            break;
        const struct lg_entry *e = &w->r.e->e;
        json_t *fe = json_object();
        put(fe, "index", uj(index), &rv);
        put(fe, "type", json_string(lg_type_name(e->type)), &rv);
        put(fe, "fee", uj(fee), &rv);
        push(w->fees, fe, &rv);
        if (e->type != LG_T_DEGREE_AWARD && e->type != LG_T_DEGREE_LINK)
            continue;
        json_t *o = json_object();
        put(o, "id", hexj(e->id, 32), &rv);
        put(o, "index", uj(index), &rv);
        put_body(o, "degree", &w->r, &rv);
        put_body(o, "major", &w->r, &rv);
        if (e->type == LG_T_DEGREE_AWARD) {
            push(w->awards, o, &rv);
            continue;
        }
        json_t *refs = json_array();
        uint64_t credits = 0;
        for (size_t i = 0; i < e->nrefs && rv == 0; i++) {
            const uint8_t *ref = lg_entry_ref(e, i);
            const struct item_ref *rec = find_item(&w->items, ref);
            uint64_t cr = 0;
            if (rec == NULL || rec->it.kind != SM_ITEM_RECOG)
                rv = CB_ECORRUPT;
            else
                rv = credits_at(&w->r2, &w->items, rec, index, &cr);
            credits = credits > UINT64_MAX - cr ? UINT64_MAX : credits + cr;
            push(refs, hexj(ref, 32), &rv);
        }
        put(o, "credits", uj(credits), &rv);
        put(o, "recognitions", refs, &rv);
        push(w->links, o, &rv);
    }
    mdb_cursor_close(cur);
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    return rv;
}

static json_t *recognition_json(const struct item_ref *x, int *rv)
{
    const struct sm_item *it = &x->it;
    json_t *o = json_object();
    put(o, "id", hexj(x->id, 32), rv);
    put(o, "index", uj(it->index), rv);
    put(o, "recognizer", json_string(it->member), rv);
    put(o, "credits", uj(it->credits), rv);
    put(o, "class", json_string(sm_class_name(it->cls)), rv);
    put(o, "term", termj(it->term), rv);
    put(o, "status", json_string(it->status == SM_RECOG_ACTIVE ? "active"
                                                               : "cancelled"),
        rv);
    put(o, "linked", json_boolean(it->linked), rv);
    if (it->status != SM_RECOG_ACTIVE)
        put(o, "cancelled_at", uj(it->closed_index), rv);
    return o;
}

/* Recognitions ordered by (the deposit they recognise, log index): a
 * deposit finds its own by binary search rather than by a scan of every
 * later item (quadratic in the account's size). */
static int by_ref_index(const void *x, const void *y)
{
    const struct item_ref *a = *(const struct item_ref *const *)x,
                          *b = *(const struct item_ref *const *)y;
    int c = memcmp(a->it.ref, b->it.ref, 32);
    if (c != 0)
        return c;
    return a->it.index < b->it.index ? -1 : a->it.index > b->it.index;
}

/* The first recognition of deposit id in recs[n] (sorted by_ref_index). */
static size_t first_recog(const struct item_ref *const *recs, size_t n,
                          const uint8_t id[32])
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(recs[mid]->it.ref, id, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* deposits (with their recognitions), appeals and active credits */
static int view_items(struct view *w, json_t *v)
{
    int rv = 0;
    size_t nrec = 0;
    const struct item_ref **recs =
        malloc((w->items.n ? w->items.n : 1) * sizeof *recs);
    if (recs == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < w->items.n; i++)
        if (w->items.v[i].it.kind == SM_ITEM_RECOG)
            recs[nrec++] = &w->items.v[i];
    if (nrec > 1)
        qsort(recs, nrec, sizeof *recs, by_ref_index);
    json_t *deps = json_array(), *appeals = json_array();
    uint64_t total = 0, by_class[3] = {0}, by_source[SM_SRC__COUNT] = {0};
    for (size_t i = 0; i < w->items.n && rv == 0; i++) {
        const struct item_ref *x = &w->items.v[i];
        const struct sm_item *it = &x->it;
        if (it->kind == SM_ITEM_RECOG) {
            if (it->status != SM_RECOG_ACTIVE)
                continue;
            if (it->cls >= 3 || it->source >= SM_SRC__COUNT) {
                rv = CB_ECORRUPT;
                break;
            }
            total = total > UINT64_MAX - it->credits ? UINT64_MAX
                                                     : total + it->credits;
            uint64_t *c = &by_class[it->cls], *s = &by_source[it->source];
            *c = *c > UINT64_MAX - it->credits ? UINT64_MAX : *c + it->credits;
            *s = *s > UINT64_MAX - it->credits ? UINT64_MAX : *s + it->credits;
        } else if (it->kind == SM_ITEM_DEPOSIT) {
            if ((rv = read_entry(&w->r, it->index)) != 0)
                break;
            json_t *d = json_object();
            put(d, "id", hexj(x->id, 32), &rv);
            put(d, "index", uj(it->index), &rv);
            put(d, "provider", json_string(it->member), &rv);
            put(d, "source", json_string(sm_source_name(it->source)), &rv);
            put_body(d, "course", &w->r, &rv);
            put_body(d, "title", &w->r, &rv);
            put(d, "credits", uj(it->credits), &rv);
            put(d, "grade", uj(it->grade), &rv);
            if (it->has_attendance)
                put(d, "attendance", uj(it->attendance), &rv);
            put(d, "term", termj(it->term), &rv);
            put(d, "compatible", json_boolean(it->compatible), &rv);
            /* its recognitions (after it in the log), in log order */
            json_t *hist = json_array();
            for (size_t j = first_recog(recs, nrec, x->id);
                 j < nrec && memcmp(recs[j]->it.ref, x->id, 32) == 0; j++)
                if (recs[j]->it.index > it->index)
                    push(hist, recognition_json(recs[j], &rv), &rv);
            put(d, "recognitions", hist, &rv);
            push(deps, d, &rv);
        } else if (it->kind == SM_ITEM_APPEAL) {
            static const char *const outcomes[] = {"open", "upheld",
                                                   "rejected"};
            if (it->status > SM_APPEAL_REJECTED) {
                rv = CB_ECORRUPT;
                break;
            }
            if ((rv = read_entry(&w->r, it->index)) != 0)
                break;
            json_t *o = json_object();
            put(o, "id", hexj(x->id, 32), &rv);
            put(o, "index", uj(it->index), &rv);
            put(o, "recognition", hexj(it->ref, 32), &rv);
            put(o, "term", termj(it->term), &rv);
            put_body(o, "reason", &w->r, &rv);
            put(o, "outcome", json_string(outcomes[it->status]), &rv);
            if (it->status != SM_APPEAL_OPEN)
                put(o, "decided_at", uj(it->closed_index), &rv);
            push(appeals, o, &rv);
        }
    }
    put(v, "deposits", deps, &rv);
    put(v, "appeals", appeals, &rv);
    json_t *ac = json_object(), *bc = json_object(), *bs = json_object();
    put(ac, "total", uj(total), &rv);
    for (int c = 0; c < 3; c++)
        put(bc, sm_class_name(c), uj(by_class[c]), &rv);
    for (int s = 0; s < SM_SRC__COUNT; s++)
        if (by_source[s] != 0)
            put(bs, sm_source_name(s), uj(by_source[s]), &rv);
    put(ac, "by_class", bc, &rv);
    put(ac, "by_source", bs, &rv);
    put(v, "active_credits", ac, &rv);
    free(recs);
    return rv;
}

int lg_account_view(struct lg_ledger *l, const uint8_t id[32],
                    struct json_t **out, struct cb_err *err)
{
    return lg_account_view_from(l, id, NULL, NULL, out, err);
}

int lg_account_view_from(struct lg_ledger *l, const uint8_t id[32],
                         const struct lg_signed *(*get)(void *ctx,
                                                        uint64_t index),
                         void *ctx, struct json_t **out, struct cb_err *err)
{
    *out = NULL;
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    struct view w = {.l = l, .txn = txn, .id = id};
    w.r.l = w.r2.l = l;
    w.r.txn = w.r2.txn = txn;
    w.r.get = w.r2.get = get;
    w.r.ctx = w.r2.ctx = ctx;
    lg_signed_init(&w.r.s);
    lg_signed_init(&w.r2.s);
    json_t *v = NULL;
    struct sm_policy pol;
    int rv = sm_account_get(l, txn, id, &w.a);
    if (rv == CB_ENOTFOUND) {
        cb_errf(err, rv, "no such account");
        goto out;
    }
    if (rv != 0 ||
        (rv = sm_items_each(l, txn, id, collect, &w.items)) != 0 ||
        (rv = sm_policy_effective_txn(l, txn, "*", &pol)) != 0)
        goto err;
    if (w.items.n > 0)
        qsort(w.items.v, w.items.n, sizeof *w.items.v, by_index);

    const struct sm_account *a = &w.a;
    v = json_object();
    w.awards = json_array();
    w.links = json_array();
    w.fees = json_array();
    if (v == NULL || w.awards == NULL || w.links == NULL || w.fees == NULL) {
        rv = CB_ENOMEM;
        json_decref(w.awards);
        json_decref(w.links);
        json_decref(w.fees);
        goto err;
    }
    put(v, "id", hexj(id, 32), &rv);
    put(v, "number", uj(a->number), &rv);
    put(v, "status", json_string(a->status ? "cancelled" : "open"), &rv);
    put(v, "learner_key", hexj(a->learner, 32), &rv);
    put(v, "registrar", json_string(a->registrar), &rv);
    put(v, "degree", json_string(a->degree), &rv);
    put(v, "major", json_string(a->major), &rv);
    put(v, "fee_exempt", json_boolean(a->fee_exempt), &rv);
    int rv2 = view_entries(&w);
    if (rv == 0)
        rv = rv2;
    put(v, "awards", w.awards, &rv);
    put(v, "links", w.links, &rv);
    if (rv == 0)
        rv = view_items(&w, v);
    json_t *fo = json_object();
    put(fo, "currency", json_string(pol.currency), &rv);
    put(fo, "total", uj(a->fees), &rv);
    put(fo, "entries", w.fees, &rv);
    put(v, "fees", fo, &rv);
    put(v, "linked_credits", uj(a->linked_credits), &rv);
    put(v, "count", uj(a->count), &rv);
    put(v, "chain", hexj(a->chain, 32), &rv);
    if (rv == 0)
        goto out;
err:
    cb_errf(err, rv, "account view: %s", cb_strerror(rv));
    json_decref(v);
    v = NULL;
out:
    lg_signed_release(&w.r.s);
    lg_signed_release(&w.r2.s);
    free(w.items.v);
    mdb_txn_abort(txn);
    *out = v;
    return rv;
}

/* ---- lg_account_entries ---- */

int lg_account_entries(struct lg_ledger *l, const uint8_t id[32],
                       uint64_t from, uint64_t limit,
                       int (*fn)(void *ctx, uint64_t index, uint64_t fee),
                       void *ctx, struct cb_err *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    struct sm_account a;
    int rv = sm_account_get(l, txn, id, &a);
    if (rv != 0) {
        mdb_txn_abort(txn);
        return cb_errf(err, rv, rv == CB_ENOTFOUND ? "no such account"
                                                   : "account unreadable");
    }
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, l->acctents, &cur)) != 0) {
        mdb_txn_abort(txn);
        return cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    }
    uint8_t start[40];
    memcpy(start, id, 32);
    for (int i = 0; i < 8; i++)
        start[32 + i] = (uint8_t)(from >> (56 - 8 * i));
    MDB_val k = {40, start}, v;
    uint64_t n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && n < limit; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 40 || memcmp(k.mv_data, id, 32) != 0)
            break;
        if (v.mv_size != 16) {
            rv = cb_errf(err, CB_ECORRUPT, "accounts.entries: bad record");
            break;
        }
        n++;
        if ((rv = fn(ctx, le64(v.mv_data),
                     le64((const uint8_t *)v.mv_data + 8))) != 0)
            break;
    }
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rv > 0 ? 0 : rv; /* fn's positive "stop" is not an error */
}

/* ---- lg_members_view ---- */

static int members_json(struct lg_ledger *l, MDB_txn *txn, json_t *members)
{
    MDB_cursor *cur;
    MDB_val k, val;
    int rv = 0, rc = mdb_cursor_open(txn, l->members, &cur);
    if (rc != 0)
        return lg_mdb_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0 && rv == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        struct sm_member m;
        if (val.mv_size != sizeof m) {
            rv = CB_ECORRUPT;
            break;
        }
        memcpy(&m, val.mv_data, sizeof m);
        if (m.nissuers > SM_MAX_ISSUERS ||
            memchr(m.name, '\0', sizeof m.name) == NULL) {
            rv = CB_ECORRUPT;
            break;
        }
        json_t *o = json_object(), *roles = json_array(), *iss = json_array();
        for (unsigned b = 1; b <= SM_ROLE_WITNESS; b <<= 1)
            if (m.roles & b)
                push(roles, json_string(sm_role_name(b)), &rv);
        for (uint32_t i = 0; i < m.nissuers; i++)
            push(iss, hexj(m.issuers[i], 32), &rv);
        char vk[CY_VKEY_MAX];
        put(o, "name", json_string(m.name), &rv);
        put(o, "roles", roles, &rv);
        put(o, "node", hexj(m.node, 32), &rv);
        if (cy_note_vkey(vk, sizeof vk, m.name, m.node) == 0)
            put(o, "node_vkey", json_string(vk), &rv);
        put(o, "issuers", iss, &rv);
        put(o, "in_force", json_boolean(m.in_force), &rv);
        push(members, o, &rv);
    }
    mdb_cursor_close(cur);
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    return rv;
}

static int policies_json(struct lg_ledger *l, MDB_txn *txn, json_t *policies)
{
    MDB_cursor *cur;
    MDB_val k, val;
    struct lg_doc doc;
    int rv = 0, rc = mdb_cursor_open(txn, l->policies, &cur);
    if (rc != 0)
        return lg_mdb_err(rc);
    lg_doc_init(&doc);
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0 && rv == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        if (lg_decode(&doc, val.mv_data, val.mv_size, NULL, NULL) != 0) {
            rv = CB_ECORRUPT;
            break;
        }
        json_t *p = lg_json(&doc.root);
        if (p == NULL ||
            json_object_setn_new(policies, k.mv_data, k.mv_size, p) != 0)
            rv = CB_ENOMEM;
    }
    mdb_cursor_close(cur);
    lg_doc_release(&doc);
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    return rv;
}

int lg_members_view(struct lg_ledger *l, struct json_t **out,
                    struct cb_err *err)
{
    *out = NULL;
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    json_t *v = json_object(), *members = json_array(),
           *policies = json_object();
    struct sm_meta m;
    int rv = v && members && policies ? 0 : CB_ENOMEM;
    if (rv == 0)
        rv = members_json(l, txn, members);
    if (rv == 0)
        rv = policies_json(l, txn, policies);
    if (rv == 0)
        rv = sm_get(txn, l->meta, "head", 4, &m, sizeof m, NULL);
    mdb_txn_abort(txn);
    if (rv == 0) {
        put(v, "members", members, &rv);
        members = NULL;
        put(v, "governance_quorum", uj(sm_gov_quorum(&m, m.members)), &rv);
        put(v, "cosign_quorum", uj(sm_cosign_quorum(&m, m.members)), &rv);
        put(v, "policies", policies, &rv);
        policies = NULL;
    }
    if (rv != 0) {
        json_decref(v);
        json_decref(members);
        json_decref(policies);
        return cb_errf(err, rv, "members view: %s", cb_strerror(rv));
    }
    *out = v;
    return 0;
}
