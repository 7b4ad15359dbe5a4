/*
 * Views (DESIGN 4.2): what GET /v1/accounts/{id}, `credbank account show`
 * and the offline verifier show. Built from the stored items and the
 * account's entries in the log (strings such as course titles are read
 * from the entries themselves), in log order, so two ledgers holding the
 * same entries render byte-identical JSON.
 */
#include "sm.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mdb.h"

static json_t *hexj(const uint8_t *b, size_t n)
{
    char buf[129];
    cy_hex(buf, b, n);
    return json_string(buf);
}

static json_t *termj(int term)
{
    char t[7];
    sm_term_format(t, term);
    return json_string(t);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A body field of the entry at index, as JSON (NULL if absent). */
struct entry_reader {
    struct lg_ledger *l;
    MDB_txn *txn;
    struct lg_signed s;
};

static int read_entry(struct entry_reader *r, uint64_t index)
{
    const uint8_t *p;
    size_t len;
    int rv = lg_log_get(&r->l->log, r->txn, index, &p, &len);
    if (rv == 0)
        rv = lg_signed_decode(&r->s, p, len, NULL);
    return rv == 0 ? 0 : CB_ECORRUPT;
}

static json_t *body_field(struct entry_reader *r, const char *key)
{
    const msgpack_object *b = r->s.e.body;
    for (uint32_t i = 0; i < b->via.map.size; i++)
        if (lg_is_str(&b->via.map.ptr[i].key, key))
            return lg_json(&b->via.map.ptr[i].val);
    return NULL;
}

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

static int by_index(const void *x, const void *y)
{
    const struct item_ref *a = x, *b = y;
    return a->it.index < b->it.index ? -1 : a->it.index > b->it.index;
}

int lg_account_view(struct lg_ledger *l, const uint8_t id[32],
                    struct json_t **out, struct cb_err *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    struct sm_account a;
    struct items items = {0};
    struct entry_reader r;
    r.l = l;
    r.txn = txn;
    lg_signed_init(&r.s);
    json_t *v = NULL;
    int rv = sm_account_get(l, txn, id, &a);
    if (rv == CB_ENOTFOUND) {
        cb_errf(err, rv, "no such account");
        goto out;
    }
    if (rv != 0 ||
        (rv = sm_items_each(l, txn, id, collect, &items)) != 0)
        goto out;
    if (items.n > 0)
        qsort(items.v, items.n, sizeof *items.v, by_index);
    struct sm_policy pol;
    if ((rv = sm_policy_effective_txn(l, txn, "*", &pol)) != 0)
        goto out;

    v = json_object();
    json_object_set_new(v, "id", hexj(id, 32));
    json_object_set_new(v, "number", json_integer((json_int_t)a.number));
    json_object_set_new(v, "status",
                        json_string(a.status ? "cancelled" : "open"));
    json_object_set_new(v, "learner_key", hexj(a.learner, 32));
    json_object_set_new(v, "registrar", json_string(a.registrar));
    json_object_set_new(v, "degree", json_string(a.degree));
    json_object_set_new(v, "major", json_string(a.major));
    json_object_set_new(v, "fee_exempt", json_boolean(a.fee_exempt));

    /* entries: awards, links, fees */
    json_t *awards = json_array(), *links = json_array(), *fees = json_array();
    uint8_t start[40], *kp;
    memcpy(start, id, 32);
    memset(start + 32, 0, 8);
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, l->acctents, &cur)) != 0) {
        rv = lg_mdb_err(rc);
        json_decref(awards);
        json_decref(links);
        json_decref(fees);
        goto out;
    }
    MDB_val k = {40, start}, val;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        kp = k.mv_data;
        if (k.mv_size != 40 || memcmp(kp, id, 32) != 0)
            break;
        if (val.mv_size != 16) {
            rv = CB_ECORRUPT;
            break;
        }
        uint64_t index = le64(val.mv_data),
                 fee = le64((const uint8_t *)val.mv_data + 8);
        if ((rv = read_entry(&r, index)) != 0)
            break;
        json_t *fe = json_object();
        json_object_set_new(fe, "index", json_integer((json_int_t)index));
        json_object_set_new(fe, "type",
                            json_string(lg_type_name(r.s.e.type)));
        json_object_set_new(fe, "fee", json_integer((json_int_t)fee));
        json_array_append_new(fees, fe);
        if (r.s.e.type == LG_T_DEGREE_AWARD || r.s.e.type == LG_T_DEGREE_LINK) {
            json_t *o = json_object();
            json_object_set_new(o, "id", hexj(r.s.e.id, 32));
            json_object_set_new(o, "index", json_integer((json_int_t)index));
            json_object_set_new(o, "degree", body_field(&r, "degree"));
            json_object_set_new(o, "major", body_field(&r, "major"));
            if (r.s.e.type == LG_T_DEGREE_LINK) {
                json_t *refs = json_array();
                for (size_t i = 0; i < r.s.e.nrefs; i++)
                    json_array_append_new(refs,
                                          hexj(lg_entry_ref(&r.s.e, i), 32));
                json_object_set_new(o, "recognitions", refs);
                json_array_append_new(links, o);
            } else {
                json_array_append_new(awards, o);
            }
        }
    }
    mdb_cursor_close(cur);
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    json_object_set_new(v, "awards", awards);
    json_object_set_new(v, "links", links);
    if (rv != 0) {
        json_decref(fees);
        goto out;
    }

    /* deposits with their recognition history; appeals */
    json_t *deps = json_array(), *appeals = json_array();
    uint64_t total = 0, by_class[3] = {0}, by_source[SM_SRC__COUNT] = {0};
    for (size_t i = 0; i < items.n && rv == 0; i++) {
        const struct sm_item *it = &items.v[i].it;
        if (it->kind == SM_ITEM_DEPOSIT) {
            if ((rv = read_entry(&r, it->index)) != 0)
                break;
            json_t *d = json_object();
            json_object_set_new(d, "id", hexj(items.v[i].id, 32));
            json_object_set_new(d, "index", json_integer((json_int_t)it->index));
            json_object_set_new(d, "provider", json_string(it->member));
            json_object_set_new(d, "source",
                                json_string(sm_source_name(it->source)));
            json_object_set_new(d, "course", body_field(&r, "course"));
            json_object_set_new(d, "title", body_field(&r, "title"));
            json_object_set_new(d, "credits",
                                json_integer((json_int_t)it->credits));
            json_object_set_new(d, "grade", json_integer(it->grade));
            if (it->has_attendance)
                json_object_set_new(d, "attendance",
                                    json_integer(it->attendance));
            json_object_set_new(d, "term", termj(it->term));
            json_object_set_new(d, "compatible", json_boolean(it->compatible));
            json_t *hist = json_array();
            for (size_t j = 0; j < items.n; j++) {
                const struct sm_item *rc2 = &items.v[j].it;
                if (rc2->kind != SM_ITEM_RECOG ||
                    memcmp(rc2->ref, items.v[i].id, 32) != 0)
                    continue;
                json_t *o = json_object();
                json_object_set_new(o, "id", hexj(items.v[j].id, 32));
                json_object_set_new(o, "index",
                                    json_integer((json_int_t)rc2->index));
                json_object_set_new(o, "recognizer", json_string(rc2->member));
                json_object_set_new(o, "credits",
                                    json_integer((json_int_t)rc2->credits));
                json_object_set_new(o, "class",
                                    json_string(sm_class_name(rc2->cls)));
                json_object_set_new(o, "term", termj(rc2->term));
                json_object_set_new(o, "status",
                                    json_string(rc2->status ? "cancelled"
                                                            : "active"));
                json_object_set_new(o, "linked", json_boolean(rc2->linked));
                if (rc2->status)
                    json_object_set_new(
                        o, "cancelled_at",
                        json_integer((json_int_t)rc2->closed_index));
                json_array_append_new(hist, o);
                if (rc2->status == SM_RECOG_ACTIVE) {
                    total += rc2->credits;
                    if (rc2->cls < 3)
                        by_class[rc2->cls] += rc2->credits;
                    by_source[rc2->source] += rc2->credits;
                }
            }
            json_object_set_new(d, "recognitions", hist);
            json_array_append_new(deps, d);
        } else if (it->kind == SM_ITEM_APPEAL) {
            if ((rv = read_entry(&r, it->index)) != 0)
                break;
            static const char *outcomes[] = {"open", "upheld", "rejected"};
            json_t *o = json_object();
            json_object_set_new(o, "id", hexj(items.v[i].id, 32));
            json_object_set_new(o, "index", json_integer((json_int_t)it->index));
            json_object_set_new(o, "recognition", hexj(it->ref, 32));
            json_object_set_new(o, "term", termj(it->term));
            json_object_set_new(o, "reason", body_field(&r, "reason"));
            json_object_set_new(o, "outcome",
                                json_string(outcomes[it->status % 3]));
            if (it->status != SM_APPEAL_OPEN)
                json_object_set_new(o, "decided_at",
                                    json_integer((json_int_t)it->closed_index));
            json_array_append_new(appeals, o);
        }
    }
    json_object_set_new(v, "deposits", deps);
    json_object_set_new(v, "appeals", appeals);
    json_t *ac = json_object(), *bc = json_object(), *bs = json_object();
    json_object_set_new(ac, "total", json_integer((json_int_t)total));
    for (int c = 0; c < 3; c++)
        json_object_set_new(bc, sm_class_name(c),
                            json_integer((json_int_t)by_class[c]));
    for (int s = 0; s < SM_SRC__COUNT; s++)
        if (by_source[s])
            json_object_set_new(bs, sm_source_name(s),
                                json_integer((json_int_t)by_source[s]));
    json_object_set_new(ac, "by_class", bc);
    json_object_set_new(ac, "by_source", bs);
    json_object_set_new(v, "active_credits", ac);
    json_t *fo = json_object();
    json_object_set_new(fo, "currency", json_string(pol.currency));
    json_object_set_new(fo, "total", json_integer((json_int_t)a.fees));
    json_object_set_new(fo, "entries", fees);
    json_object_set_new(v, "fees", fo);
    json_object_set_new(v, "linked_credits",
                        json_integer((json_int_t)a.linked_credits));
    json_object_set_new(v, "count", json_integer((json_int_t)a.count));
    json_object_set_new(v, "chain", hexj(a.chain, 32));
out:
    if (rv != 0 && rv != CB_ENOTFOUND)
        cb_errf(err, rv, "account view: %s", cb_strerror(rv));
    if (rv != 0) {
        json_decref(v);
        v = NULL;
    }
    lg_signed_release(&r.s);
    free(items.v);
    mdb_txn_abort(txn);
    *out = v;
    return rv;
}

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
            rv = CB_ECORRUPT;
            break;
        }
        n++;
        if ((rv = fn(ctx, le64(v.mv_data),
                     le64((const uint8_t *)v.mv_data + 8))) != 0)
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rv > 0 ? 0 : rv;
}

int lg_members_view(struct lg_ledger *l, struct json_t **out,
                    struct cb_err *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return cb_errf(err, lg_mdb_err(rc), "read: %s", mdb_strerror(rc));
    json_t *v = json_object(), *members = json_array(),
           *policies = json_object();
    MDB_cursor *cur;
    MDB_val k, val;
    int rv = 0;
    struct lg_doc doc;
    lg_doc_init(&doc);
    if ((rc = mdb_cursor_open(txn, l->members, &cur)) == 0) {
        for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
            struct sm_member m;
            if (val.mv_size != sizeof m) {
                rv = CB_ECORRUPT;
                break;
            }
            memcpy(&m, val.mv_data, sizeof m);
            json_t *o = json_object(), *roles = json_array(),
                   *iss = json_array();
            for (unsigned b = 1; b <= SM_ROLE_WITNESS; b <<= 1)
                if (m.roles & b)
                    json_array_append_new(roles, json_string(sm_role_name(b)));
            for (uint32_t i = 0; i < m.nissuers; i++)
                json_array_append_new(iss, hexj(m.issuers[i], 32));
            char vk[CY_VKEY_MAX];
            cy_note_vkey(vk, sizeof vk, m.name, m.node);
            json_object_set_new(o, "name", json_string(m.name));
            json_object_set_new(o, "roles", roles);
            json_object_set_new(o, "node", hexj(m.node, 32));
            json_object_set_new(o, "node_vkey", json_string(vk));
            json_object_set_new(o, "issuers", iss);
            json_object_set_new(o, "in_force", json_boolean(m.in_force));
            json_array_append_new(members, o);
        }
        mdb_cursor_close(cur);
    }
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    if (rv == 0 && (rc = mdb_cursor_open(txn, l->policies, &cur)) == 0) {
        for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
            if (lg_decode(&doc, val.mv_data, val.mv_size, NULL, NULL) != 0) {
                rv = CB_ECORRUPT;
                break;
            }
            json_object_setn_new(policies, k.mv_data, k.mv_size,
                                 lg_json(&doc.root));
        }
        mdb_cursor_close(cur);
        if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
            rv = lg_mdb_err(rc);
    }
    struct sm_meta m;
    if (rv == 0)
        rv = sm_get(txn, l->meta, "head", 4, &m, sizeof m, NULL);
    lg_doc_release(&doc);
    mdb_txn_abort(txn);
    if (rv != 0) {
        json_decref(v);
        json_decref(members);
        json_decref(policies);
        return cb_errf(err, rv, "members view: %s", cb_strerror(rv));
    }
    json_object_set_new(v, "members", members);
    json_object_set_new(v, "governance_quorum",
                        json_integer((json_int_t)sm_gov_quorum(&m, m.members)));
    json_object_set_new(v, "cosign_quorum",
                        json_integer((json_int_t)sm_cosign_quorum(&m, m.members)));
    json_object_set_new(v, "policies", policies);
    *out = v;
    return 0;
}
