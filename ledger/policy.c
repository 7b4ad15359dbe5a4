/*
 * Policy: the consortium's rules as data (DESIGN 4.1).
 *
 * Each scope (`*`, or a member's name) holds one canonical policy map in the
 * "policies" db, replaced whole by policy.set. A member's effective policy is
 * the `*` policy with the member's laid over it field by field: fees.X
 * (except currency), sources.S.X, and degrees.D whole. Policies are validated
 * when set, so reading them back only has to lay fields over each other.
 */
#include "sm.h"

#include <string.h>

#include "mdb.h"

static const char *const source_fields[] = {
    "appealable", "learner_revocable", "max_credits", "min_attendance",
    "min_grade"};

static int validate_sources(const msgpack_object *o, struct cb_err *err)
{
    char where[96];
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        int s = sm_source_parse(&kv->key);
        if (s < 0)
            return cb_errf(err, CB_EPOLICY,
                           "policy.sources: unknown source \"%.*s\"",
                           (int)(kv->key.via.str.size > 64
                                     ? 64
                                     : kv->key.via.str.size),
                           kv->key.via.str.ptr);
        snprintf(where, sizeof where, "policy.sources.%s", sm_source_name(s));
        const msgpack_object *f[5];
        const struct lg_field fields[] = {
            {"appealable", LG_BOOL, 0, true, &f[0]},
            {"learner_revocable", LG_BOOL, 0, true, &f[1]},
            {"max_credits", LG_UINT, 0, true, &f[2]},
            {"min_attendance", LG_UINT, 0, true, &f[3]},
            {"min_grade", LG_UINT, 0, true, &f[4]},
        };
        int rv = lg_fields(&kv->val, fields, 5, where, err);
        if (rv != 0)
            return cb_errf(err, CB_EPOLICY, "%s", err ? err->msg : "");
        if ((f[3] && f[3]->via.u64 > 100) || (f[4] && f[4]->via.u64 > 100))
            return cb_errf(err, CB_EPOLICY, "%s: thresholds are 0-100", where);
    }
    return 0;
}

static int validate_degrees(const msgpack_object *o, struct cb_err *err)
{
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.via.str.size == 0)
            return cb_errf(err, CB_EPOLICY, "policy.degrees: empty name");
        const msgpack_object *f[3];
        const struct lg_field fields[] = {
            {"general", LG_UINT, 0, false, &f[0]},
            {"major", LG_UINT, 0, false, &f[1]},
            {"total", LG_UINT, 0, false, &f[2]},
        };
        if (lg_fields(&kv->val, fields, 3, "policy.degrees.*", err) != 0)
            return cb_errf(err, CB_EPOLICY, "%s", err ? err->msg : "");
    }
    return 0;
}

int sm_policy_validate(const msgpack_object *o, bool star, struct cb_err *err)
{
    const msgpack_object *degrees, *fees, *seal, *sources;
    const struct lg_field top[] = {
        {"degrees", LG_MAP, 0, !star, &degrees},
        {"fees", LG_MAP, 0, !star, &fees},
        {"seal_interval_ms", LG_UINT, 0, !star, &seal},
        {"sources", LG_MAP, 0, !star, &sources},
    };
    if (lg_fields(o, top, 4, "policy", err) != 0)
        return cb_errf(err, CB_EPOLICY, "%s", err ? err->msg : "");
    if (fees != NULL) {
        const msgpack_object *f[4];
        const struct lg_field fields[] = {
            {"account_open", LG_UINT, 0, !star, &f[0]},
            {"currency", LG_STR, 0, !star, &f[1]},
            {"link_free_credits", LG_UINT, 0, !star, &f[2]},
            {"per_credit", LG_UINT, 0, !star, &f[3]},
        };
        if (lg_fields(fees, fields, 4, "policy.fees", err) != 0)
            return cb_errf(err, CB_EPOLICY, "%s", err ? err->msg : "");
        if (!star && f[1] != NULL)
            return cb_errf(err, CB_EPOLICY,
                           "policy.fees.currency: only the * policy sets it");
        if (star && f[1]->via.str.size == 0)
            return cb_errf(err, CB_EPOLICY, "policy.fees.currency: empty");
    }
    if (sources != NULL && validate_sources(sources, err) != 0)
        return CB_EPOLICY;
    if (degrees != NULL && validate_degrees(degrees, err) != 0)
        return CB_EPOLICY;
    return 0;
}

/* Lays the fields present in policy map o over p (o validated). */
static void overlay(struct sm_policy *p, const msgpack_object *o)
{
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (lg_is_str(&kv->key, "fees")) {
            for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
                const msgpack_object_kv *f = &kv->val.via.map.ptr[j];
                if (lg_is_str(&f->key, "currency"))
                    lg_str_copy(p->currency, sizeof p->currency, &f->val);
                else if (lg_is_str(&f->key, "account_open"))
                    p->has_account_open = true,
                    p->account_open = f->val.via.u64;
                else if (lg_is_str(&f->key, "per_credit"))
                    p->has_per_credit = true, p->per_credit = f->val.via.u64;
                else if (lg_is_str(&f->key, "link_free_credits"))
                    p->has_link_free_credits = true,
                    p->link_free_credits = f->val.via.u64;
            }
        } else if (lg_is_str(&kv->key, "seal_interval_ms")) {
            p->has_seal_interval_ms = true;
            p->seal_interval_ms = kv->val.via.u64;
        } else if (lg_is_str(&kv->key, "sources")) {
            for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
                const msgpack_object_kv *s = &kv->val.via.map.ptr[j];
                int src = sm_source_parse(&s->key);
                if (src < 0)
                    continue;
                struct sm_source_policy *sp = &p->sources[src];
                for (uint32_t k = 0; k < s->val.via.map.size; k++) {
                    const msgpack_object_kv *f = &s->val.via.map.ptr[k];
                    const msgpack_object *v = &f->val;
                    if (lg_is_str(&f->key, source_fields[0]))
                        sp->has_appealable = true, sp->appealable = v->via.boolean;
                    else if (lg_is_str(&f->key, source_fields[1]))
                        sp->has_learner_revocable = true,
                        sp->learner_revocable = v->via.boolean;
                    else if (lg_is_str(&f->key, source_fields[2]))
                        sp->has_max_credits = true, sp->max_credits = v->via.u64;
                    else if (lg_is_str(&f->key, source_fields[3]))
                        sp->has_min_attendance = true,
                        sp->min_attendance = v->via.u64;
                    else if (lg_is_str(&f->key, source_fields[4]))
                        sp->has_min_grade = true, sp->min_grade = v->via.u64;
                }
            }
        }
    }
}

/* Decodes the stored policy of scope into doc; CB_ENOTFOUND if none. */
static int load(struct lg_ledger *l, MDB_txn *txn, const char *scope,
                size_t len, struct lg_doc *doc)
{
    MDB_val k = {len, (void *)scope}, v;
    int rc = mdb_get(txn, l->policies, &k, &v);
    if (rc != 0)
        return lg_mdb_err(rc);
    int rv = lg_decode(doc, v.mv_data, v.mv_size, NULL, NULL);
    return rv == 0 ? 0 : CB_ECORRUPT;
}

int sm_policy_effective_txn(struct lg_ledger *l, MDB_txn *txn,
                            const char *member, struct sm_policy *p)
{
    struct lg_doc doc;
    memset(p, 0, sizeof *p);
    for (int s = 0; s < SM_SRC__COUNT; s++)
        p->sources[s].learner_revocable = true;
    lg_doc_init(&doc);
    int rv = load(l, txn, "*", 1, &doc);
    if (rv == 0) {
        overlay(p, &doc.root);
        if (member != NULL && strcmp(member, "*") != 0) {
            rv = load(l, txn, member, strlen(member), &doc);
            if (rv == 0)
                overlay(p, &doc.root);
            else if (rv == CB_ENOTFOUND)
                rv = 0;
        }
    }
    lg_doc_release(&doc);
    return rv;
}

int sm_policy_effective(struct sm_ctx *c, const char *member,
                        struct sm_policy *p)
{
    return sm_policy_effective_txn(c->l, c->txn, member, p);
}

/* degrees.D of the policy map root, if present. */
static bool find_degree(const msgpack_object *root, const char *degree,
                        size_t len, struct sm_degree *d)
{
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr[i];
        if (!lg_is_str(&kv->key, "degrees"))
            continue;
        for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
            const msgpack_object_kv *dk = &kv->val.via.map.ptr[j];
            if (dk->key.via.str.size != len ||
                memcmp(dk->key.via.str.ptr, degree, len) != 0)
                continue;
            for (uint32_t k = 0; k < dk->val.via.map.size; k++) {
                const msgpack_object_kv *f = &dk->val.via.map.ptr[k];
                if (lg_is_str(&f->key, "general"))
                    d->general = f->val.via.u64;
                else if (lg_is_str(&f->key, "major"))
                    d->major = f->val.via.u64;
                else if (lg_is_str(&f->key, "total"))
                    d->total = f->val.via.u64;
            }
            return true;
        }
    }
    return false;
}

int sm_policy_degree(struct sm_ctx *c, const char *member, const char *degree,
                     size_t len, struct sm_degree *d)
{
    struct lg_doc doc;
    lg_doc_init(&doc);
    bool found = false;
    int rv = 0;
    if (member != NULL) {
        rv = load(c->l, c->txn, member, strlen(member), &doc);
        if (rv == 0)
            found = find_degree(&doc.root, degree, len, d);
        else if (rv == CB_ENOTFOUND)
            rv = 0;
    }
    if (rv == 0 && !found) {
        rv = load(c->l, c->txn, "*", 1, &doc);
        if (rv == 0)
            found = find_degree(&doc.root, degree, len, d);
    }
    lg_doc_release(&doc);
    if (rv != 0)
        return rv;
    if (!found)
        return SM_FAIL(c, CB_EDEGREE, "degree \"%.*s\" not in policy",
                       (int)(len > 64 ? 64 : len), degree);
    return 0;
}

int sm_policy_put(struct sm_ctx *c, const char *scope, size_t scope_len,
                  const uint8_t *p, size_t len)
{
    return sm_put(c->txn, c->l->policies, scope, scope_len, p, len);
}
