/*
 * Account entries: the credit bank's applications A1-A7 (DESIGN 1, 4, 4.1).
 *
 * Each handler checks authority (role, learner signature), the body and
 * refs, then the rule, and only then writes: the account's items (deposits,
 * recognitions, appeals), changes to c->acct (which the loop stores with the
 * new count and chain), and the fee in c->fee (which the loop zeroes for
 * fee-exempt learners). Policy questions about a recognition -- cap,
 * learner revocability, appealability -- use its recognizer member's
 * effective policy as it is when the later entry is judged; everything else
 * uses the author's.
 *
 * Credits are uint64 on the wire. Sums of them saturate at UINT64_MAX and
 * the cap comparison cannot wrap, so a huge deposit can never make a cap or a
 * degree requirement pass by overflow; a fee that would not fit in uint64
 * (alone or in the account's total) refuses the entry (bad_value). Real
 * figures are many orders of magnitude below either bound.
 *
 * spec/state-machine.md ("Account entries") states every rule and its code.
 */
#include "sm.h"

#include <stdlib.h>
#include <string.h>

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A str that names something (degree, major, course, title, level,
 * reason): non-empty, and without NUL (names are kept as C strings). */
static int nonempty(struct sm_ctx *c, const msgpack_object *o,
                    const char *field)
{
    if (o->via.str.size == 0)
        return SM_FAIL(c, CB_EVALUE, "body.%s: empty", field);
    if (memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
        return SM_FAIL(c, CB_EVALUE, "body.%s: contains NUL", field);
    return 0;
}

static int term_of(struct sm_ctx *c, const msgpack_object *o, int *term)
{
    *term = sm_term_parse(o);
    if (*term < 0)
        return SM_FAIL(c, CB_EVALUE, "body.term: YYYYQn with n in 1-4");
    return 0;
}

static int copy_str(struct sm_ctx *c, char *out, size_t cap,
                    const msgpack_object *o, const char *field)
{
    if (lg_str_copy(out, cap, o) != 0)
        return SM_FAIL(c, CB_ETOOBIG, "body.%s: too long", field);
    return 0;
}

/* Sets the entry's fee to per x qty; bad_value if it, or the account's fee
 * total with it, would not fit in uint64. Fee-exempt accounts pay nothing
 * (the loop zeroes c->fee for them too). */
static int charge(struct sm_ctx *c, uint64_t per, uint64_t qty)
{
    c->fee = 0;
    if (c->acct.fee_exempt || per == 0 || qty == 0)
        return 0;
    if (per > UINT64_MAX / qty)
        return SM_FAIL(c, CB_EVALUE, "fee %llu x %llu overflows",
                       (unsigned long long)per, (unsigned long long)qty);
    uint64_t fee = per * qty;
    if (c->acct.fees > UINT64_MAX - fee)
        return SM_FAIL(c, CB_EVALUE, "the account's fee total overflows");
    c->fee = fee;
    return 0;
}

/* ---- sums over the account's recognitions ---- */
struct sums {
    uint64_t total, by_class[3];
    /* for the cap: active credits of `source` recognised by `member`,
     * leaving out `skip` */
    int source;
    const char *member;
    const uint8_t *skip;
    uint64_t capped;
};

static int sum_one(void *ctx, const uint8_t id[32], const struct sm_item *it)
{
    struct sums *s = ctx;
    if (it->kind != SM_ITEM_RECOG || it->status != SM_RECOG_ACTIVE)
        return 0;
    s->total = sat_add(s->total, it->credits);
    if (it->cls < 3)
        s->by_class[it->cls] = sat_add(s->by_class[it->cls], it->credits);
    if (s->member != NULL && it->source == s->source &&
        strcmp(it->member, s->member) == 0 &&
        (s->skip == NULL || memcmp(id, s->skip, 32) != 0))
        s->capped = sat_add(s->capped, it->credits);
    return 0;
}

/* CB_ECAP unless the member's active credits of source, with `adding`
 * more (and without recognition `skip`), stay within its max_credits. */
static int check_cap(struct sm_ctx *c, const char *member, int source,
                     const uint8_t *skip, uint64_t adding)
{
    struct sm_policy p;
    int rv = sm_policy_effective(c, member, &p);
    if (rv != 0)
        return rv;
    const struct sm_source_policy *sp = &p.sources[source];
    if (!sp->has_max_credits)
        return 0;
    struct sums s = {.source = source, .member = member, .skip = skip};
    if ((rv = sm_items_each(c->l, c->txn, c->acct_id, sum_one, &s)) != 0)
        return rv;
    uint64_t after = sat_add(s.capped, adding);
    if (after > sp->max_credits)
        return SM_FAIL(c, CB_ECAP,
                       "%s credits recognised by %s would be %llu, cap %llu",
                       sm_source_name(source), member,
                       (unsigned long long)after,
                       (unsigned long long)sp->max_credits);
    return 0;
}

/* The recognition named by refs[i], which must be active. */
static int active_recog(struct sm_ctx *c, size_t i, struct sm_item *it)
{
    char what[32];
    snprintf(what, sizeof what, "refs[%zu]", i);
    int rv = sm_item_get(c, lg_entry_ref(c->e, i), SM_ITEM_RECOG, it, what);
    if (rv != 0)
        return rv;
    if (it->status != SM_RECOG_ACTIVE)
        return SM_FAIL(c, CB_EINACTIVE, "refs[%zu]: recognition is cancelled",
                       i);
    return 0;
}

/* Whether the recognition's source is learner-revocable for its
 * recognizer. */
static int revocable(struct sm_ctx *c, const struct sm_item *it, bool *yes)
{
    struct sm_policy p;
    int rv = sm_policy_effective(c, it->member, &p);
    if (rv == 0)
        *yes = p.sources[it->source].learner_revocable;
    return rv;
}

/* Cancels recognition id and frees its deposit for a new recognition. */
static int cancel_recog(struct sm_ctx *c, const uint8_t id[32],
                        struct sm_item *it)
{
    it->status = SM_RECOG_CANCELLED;
    it->closed_index = c->index;
    int rv = sm_item_put(c, id, it);
    if (rv != 0)
        return rv;
    struct sm_item dep;
    if ((rv = sm_item_get(c, it->ref, SM_ITEM_DEPOSIT, &dep, "deposit")) != 0)
        return rv == CB_EREF ? CB_ECORRUPT : rv;
    if (memcmp(dep.ref, id, 32) == 0) {
        memset(dep.ref, 0, 32);
        rv = sm_item_put(c, it->ref, &dep);
    }
    return rv;
}

/* reason: learner_request / investigation / error; learner signs exactly
 * for learner_request. */
static int reason_of(struct sm_ctx *c, const msgpack_object *o, bool *learner)
{
    *learner = lg_is_str(o, "learner_request");
    if (!*learner && !lg_is_str(o, "investigation") && !lg_is_str(o, "error"))
        return SM_FAIL(c, CB_EVALUE, "body.reason: learner_request, "
                                     "investigation or error");
    return *learner ? sm_sig_require(c, c->acct.learner, "learner") : 0;
}

/* ---- A1 ---- */
int sm_account_open(struct sm_ctx *c)
{
    const msgpack_object *degree, *education, *exempt, *lk, *major, *pii;
    const struct lg_field f[] = {
        {"degree", LG_STR, 0, false, &degree},
        {"education", LG_MAP, 0, false, &education},
        {"fee_exempt", LG_BOOL, 0, false, &exempt},
        {"learner_key", LG_BIN, 32, false, &lk},
        {"major", LG_STR, 0, false, &major},
        {"pii", LG_BIN, 32, false, &pii},
    };
    const msgpack_object *evidence, *level;
    const struct lg_field ef[] = {
        {"evidence", LG_BIN, 32, false, &evidence},
        {"level", LG_STR, 0, false, &level},
    };
    int rv;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_body(c, f, 6)) != 0 || (rv = sm_refs(c, 0)) != 0 ||
        (rv = lg_fields(education, ef, 2, "body.education", c->err)) != 0 ||
        (rv = nonempty(c, degree, "degree")) != 0 ||
        (rv = nonempty(c, major, "major")) != 0 ||
        (rv = nonempty(c, level, "education.level")) != 0)
        return rv;
    const uint8_t *learner = (const uint8_t *)lk->via.bin.ptr;
    if ((rv = sm_key_fresh(c, learner, "body.learner_key")) != 0 ||
        (rv = sm_sig_require(c, learner, "learner")) != 0)
        return rv;
    struct sm_policy p;
    if ((rv = sm_policy_effective(c, c->member.name, &p)) != 0)
        return rv;

    if ((rv = sm_account_create(c, c->e->id)) != 0)
        return rv;
    /* sm_account_create zeroed c->acct and set its number */
    struct sm_account *a = &c->acct;
    memcpy(a->learner, learner, 32);
    a->fee_exempt = exempt->via.boolean;
    a->open_index = c->index;
    memcpy(a->registrar, c->member.name, SM_NAME_CAP);
    if ((rv = copy_str(c, a->degree, sizeof a->degree, degree, "degree")) ||
        (rv = copy_str(c, a->major, sizeof a->major, major, "major")))
        return rv;
    struct sm_key k = {.kind = SM_KEY_LEARNER, .in_force = 1};
    memcpy(k.account, c->e->id, 32);
    if ((rv = sm_key_put(c, learner, &k)) != 0)
        return rv;
    return charge(c, p.account_open, 1);
}

int sm_account_rekey(struct sm_ctx *c)
{
    const msgpack_object *lk;
    const struct lg_field f[] = {{"learner_key", LG_BIN, 32, false, &lk}};
    int rv;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_body(c, f, 1)) != 0 || (rv = sm_refs(c, 0)) != 0)
        return rv;
    const uint8_t *nk = (const uint8_t *)lk->via.bin.ptr;
    if ((rv = sm_key_fresh(c, nk, "body.learner_key")) != 0 ||
        (rv = sm_sig_require(c, nk, "new learner key")) != 0)
        return rv;
    struct sm_key k;
    if ((rv = sm_key_get(c, c->acct.learner, &k)) != 0)
        return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
    k.in_force = 0;
    if ((rv = sm_key_put(c, c->acct.learner, &k)) != 0)
        return rv;
    k.in_force = 1;
    if ((rv = sm_key_put(c, nk, &k)) != 0)
        return rv;
    memcpy(c->acct.learner, nk, 32);
    return 0;
}

int sm_outcome_deposit(struct sm_ctx *c)
{
    const msgpack_object *att, *compat, *course, *credits, *evidence, *grade,
        *source, *term, *title;
    const struct lg_field f[] = {
        {"attendance", LG_UINT, 0, true, &att},
        {"compatible", LG_BOOL, 0, false, &compat},
        {"course", LG_STR, 0, false, &course},
        {"credits", LG_UINT, 0, false, &credits},
        {"evidence", LG_BIN, 32, false, &evidence},
        {"grade", LG_UINT, 0, false, &grade},
        {"source", LG_STR, 0, false, &source},
        {"term", LG_STR, 0, false, &term},
        {"title", LG_STR, 0, false, &title},
    };
    int rv, t;
    if ((rv = sm_author_issuer(c, SM_ROLE_PROVIDER)) != 0 ||
        (rv = sm_body(c, f, 9)) != 0 || (rv = sm_refs(c, 0)) != 0 ||
        (rv = nonempty(c, course, "course")) != 0 ||
        (rv = nonempty(c, title, "title")) != 0 ||
        (rv = term_of(c, term, &t)) != 0)
        return rv;
    int src = sm_source_parse(source);
    if (src < 0)
        return SM_FAIL(c, CB_EVALUE, "body.source: not a known source");
    if (credits->via.u64 < 1)
        return SM_FAIL(c, CB_EVALUE, "body.credits: at least 1");
    if (grade->via.u64 > 100)
        return SM_FAIL(c, CB_EVALUE, "body.grade: 0-100");
    if (att != NULL && att->via.u64 > 100)
        return SM_FAIL(c, CB_EVALUE, "body.attendance: 0-100");
    struct sm_item it = {
        .kind = SM_ITEM_DEPOSIT,
        .source = (uint8_t)src,
        .compatible = compat->via.boolean,
        .has_attendance = att != NULL,
        .grade = (uint8_t)grade->via.u64,
        .attendance = att ? (uint8_t)att->via.u64 : 0,
        .term = t,
        .credits = credits->via.u64,
        .index = c->index,
    };
    memcpy(it.member, c->member.name, SM_NAME_CAP);
    return sm_item_put(c, c->e->id, &it);
}

/* ---- A2 ---- */
int sm_credit_recognize(struct sm_ctx *c)
{
    const msgpack_object *cls, *credits, *term;
    const struct lg_field f[] = {
        {"class", LG_STR, 0, false, &cls},
        {"credits", LG_UINT, 0, false, &credits},
        {"term", LG_STR, 0, false, &term},
    };
    int rv, t;
    if ((rv = sm_author_issuer(c, SM_ROLE_RECOGNIZER)) != 0 ||
        (rv = sm_body(c, f, 3)) != 0 || (rv = sm_refs(c, 1)) != 0 ||
        (rv = term_of(c, term, &t)) != 0)
        return rv;
    sm_sig_allow(c, c->acct.learner); /* optional */
    int k = sm_class_parse(cls);
    if (k < 0)
        return SM_FAIL(c, CB_EVALUE, "body.class: major, general or elective");
    uint64_t cr = credits->via.u64;
    if (cr < 1)
        return SM_FAIL(c, CB_EVALUE, "body.credits: at least 1");
    struct sm_item dep;
    const uint8_t *dep_id = lg_entry_ref(c->e, 0);
    if ((rv = sm_item_get(c, dep_id, SM_ITEM_DEPOSIT, &dep, "refs[0]")) != 0)
        return rv;
    static const uint8_t zero[32];
    if (memcmp(dep.ref, zero, 32) != 0)
        return SM_FAIL(c, CB_ERECOGNIZED,
                       "refs[0]: deposit already has an active recognition");
    if (cr > dep.credits)
        return SM_FAIL(c, CB_ECREDITS, "body.credits: %llu > %llu deposited",
                       (unsigned long long)cr,
                       (unsigned long long)dep.credits);
    struct sm_policy p;
    if ((rv = sm_policy_effective(c, c->member.name, &p)) != 0)
        return rv;
    const struct sm_source_policy *sp = &p.sources[dep.source];
    if (sp->has_min_grade && dep.grade < sp->min_grade)
        return SM_FAIL(c, CB_ETHRESHOLD, "grade %u below %s minimum %llu",
                       dep.grade, sm_source_name(dep.source),
                       (unsigned long long)sp->min_grade);
    if (sp->has_min_attendance &&
        (!dep.has_attendance || dep.attendance < sp->min_attendance)) {
        if (!dep.has_attendance)
            return SM_FAIL(c, CB_ETHRESHOLD,
                           "no attendance recorded; %s requires %llu",
                           sm_source_name(dep.source),
                           (unsigned long long)sp->min_attendance);
        return SM_FAIL(c, CB_ETHRESHOLD, "attendance %u below %s minimum %llu",
                       dep.attendance, sm_source_name(dep.source),
                       (unsigned long long)sp->min_attendance);
    }
    if ((rv = check_cap(c, c->member.name, dep.source, NULL, cr)) != 0 ||
        (rv = charge(c, p.per_credit, cr)) != 0)
        return rv;

    struct sm_item it = {
        .kind = SM_ITEM_RECOG,
        .status = SM_RECOG_ACTIVE,
        .source = dep.source,
        .cls = (uint8_t)k,
        .compatible = dep.compatible,
        .term = t,
        .credits = cr,
        .deposit_credits = dep.credits,
        .index = c->index,
    };
    memcpy(it.ref, dep_id, 32);
    memcpy(it.member, c->member.name, SM_NAME_CAP);
    memcpy(dep.ref, c->e->id, 32);
    dep.recognitions++;
    if ((rv = sm_item_put(c, c->e->id, &it)) != 0)
        return rv;
    return sm_item_put(c, dep_id, &dep);
}

/* ---- A3 ---- */
int sm_program_change(struct sm_ctx *c)
{
    const msgpack_object *degree, *major;
    const struct lg_field f[] = {
        {"degree", LG_STR, 0, false, &degree},
        {"major", LG_STR, 0, false, &major},
    };
    int rv;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_sig_require(c, c->acct.learner, "learner")) != 0 ||
        (rv = sm_body(c, f, 2)) != 0 || (rv = sm_refs(c, SIZE_MAX)) != 0 ||
        (rv = nonempty(c, degree, "degree")) != 0 ||
        (rv = nonempty(c, major, "major")) != 0)
        return rv;
    for (size_t i = 0; i < c->e->nrefs; i++) {
        struct sm_item it;
        bool yes;
        if ((rv = active_recog(c, i, &it)) != 0 ||
            (rv = revocable(c, &it, &yes)) != 0)
            return rv;
        if (!yes)
            return SM_FAIL(c, CB_EREVOCABLE,
                           "refs[%zu]: %s credits of %s cannot be dropped at "
                           "the learner's request", i,
                           sm_source_name(it.source), it.member);
    }
    for (size_t i = 0; i < c->e->nrefs; i++) {
        struct sm_item it;
        if ((rv = active_recog(c, i, &it)) != 0 ||
            (rv = cancel_recog(c, lg_entry_ref(c->e, i), &it)) != 0)
            return rv;
    }
    if ((rv = copy_str(c, c->acct.degree, sizeof c->acct.degree, degree,
                       "degree")) != 0)
        return rv;
    return copy_str(c, c->acct.major, sizeof c->acct.major, major, "major");
}

int sm_degree_award(struct sm_ctx *c)
{
    const msgpack_object *degree, *major;
    const struct lg_field f[] = {
        {"degree", LG_STR, 0, false, &degree},
        {"major", LG_STR, 0, false, &major},
    };
    int rv;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_body(c, f, 2)) != 0 || (rv = sm_refs(c, 0)) != 0 ||
        (rv = nonempty(c, degree, "degree")) != 0 ||
        (rv = nonempty(c, major, "major")) != 0)
        return rv;
    struct sm_degree d;
    if ((rv = sm_policy_degree(c, c->member.name, degree->via.str.ptr,
                               degree->via.str.size, &d)) != 0)
        return rv;
    struct sums s = {0};
    if ((rv = sm_items_each(c->l, c->txn, c->acct_id, sum_one, &s)) != 0)
        return rv;
    if (s.total < d.total || s.by_class[SM_CLASS_MAJOR] < d.major ||
        s.by_class[SM_CLASS_GENERAL] < d.general)
        return SM_FAIL(c, CB_EREQUIREMENTS,
                       "active credits %llu (major %llu, general %llu); "
                       "%.*s needs %llu (%llu, %llu)",
                       (unsigned long long)s.total,
                       (unsigned long long)s.by_class[SM_CLASS_MAJOR],
                       (unsigned long long)s.by_class[SM_CLASS_GENERAL],
                       (int)(degree->via.str.size > 64 ? 64
                                                        : degree->via.str.size),
                       degree->via.str.ptr, (unsigned long long)d.total,
                       (unsigned long long)d.major,
                       (unsigned long long)d.general);
    c->acct.awards++;
    return 0;
}

/* ---- A4 ---- */
int sm_degree_link(struct sm_ctx *c)
{
    const msgpack_object *degree, *major;
    const struct lg_field f[] = {
        {"degree", LG_STR, 0, false, &degree},
        {"major", LG_STR, 0, false, &major},
    };
    int rv;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_sig_require(c, c->acct.learner, "learner")) != 0 ||
        (rv = sm_body(c, f, 2)) != 0 || (rv = sm_refs(c, SIZE_MAX)) != 0 ||
        (rv = nonempty(c, degree, "degree")) != 0 ||
        (rv = nonempty(c, major, "major")) != 0)
        return rv;
    if (c->acct.awards == 0)
        return SM_FAIL(c, CB_ENOAWARD, "degree.link needs a prior "
                                       "degree.award in this account");
    uint64_t added = 0;
    for (size_t i = 0; i < c->e->nrefs; i++) {
        struct sm_item it;
        if ((rv = active_recog(c, i, &it)) != 0)
            return rv;
        if (it.linked)
            return SM_FAIL(c, CB_ELINKED, "refs[%zu]: linked before", i);
        added = sat_add(added, it.credits);
    }
    struct sm_policy p;
    if ((rv = sm_policy_effective(c, c->member.name, &p)) != 0)
        return rv;
    /* T counts the credits of linked recognitions as they are now, at link
     * time; a later appeal does not change it. */
    uint64_t before = c->acct.linked_credits, after = sat_add(before, added),
             free_ = p.link_free_credits;
    uint64_t over_before = before > free_ ? before - free_ : 0;
    uint64_t over_after = after > free_ ? after - free_ : 0;
    if ((rv = charge(c, p.per_credit, over_after - over_before)) != 0)
        return rv;
    for (size_t i = 0; i < c->e->nrefs; i++) {
        struct sm_item it;
        if ((rv = active_recog(c, i, &it)) != 0)
            return rv;
        it.linked = 1;
        if ((rv = sm_item_put(c, lg_entry_ref(c->e, i), &it)) != 0)
            return rv;
    }
    c->acct.linked_credits = after;
    c->acct.links++;
    return 0;
}

/* ---- A5 ---- */
int sm_appeal_file(struct sm_ctx *c)
{
    const msgpack_object *reason, *term;
    const struct lg_field f[] = {
        {"reason", LG_STR, 0, false, &reason},
        {"term", LG_STR, 0, false, &term},
    };
    int rv, t;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_sig_require(c, c->acct.learner, "learner")) != 0 ||
        (rv = sm_body(c, f, 2)) != 0 || (rv = sm_refs(c, 1)) != 0 ||
        (rv = nonempty(c, reason, "reason")) != 0 ||
        (rv = term_of(c, term, &t)) != 0)
        return rv;
    struct sm_item it;
    if ((rv = active_recog(c, 0, &it)) != 0)
        return rv;
    struct sm_policy p;
    if ((rv = sm_policy_effective(c, it.member, &p)) != 0)
        return rv;
    if (!p.sources[it.source].appealable)
        return SM_FAIL(c, CB_EAPPEALABLE,
                       "%s credits are not open to re-examination",
                       sm_source_name(it.source));
    if (t == it.term)
        return SM_FAIL(c, CB_ESAMETERM,
                       "body.term: the recognition is of the same term");
    if (it.appeal_open)
        return SM_FAIL(c, CB_EAPPEALOPEN,
                       "refs[0]: an appeal on it is already open");
    struct sm_item ap = {
        .kind = SM_ITEM_APPEAL,
        .status = SM_APPEAL_OPEN,
        .source = it.source,
        .term = t,
        .index = c->index,
    };
    memcpy(ap.ref, lg_entry_ref(c->e, 0), 32);
    memcpy(ap.member, c->member.name, SM_NAME_CAP);
    it.appeal_open = 1;
    memcpy(it.ref2, c->e->id, 32);
    if ((rv = sm_item_put(c, c->e->id, &ap)) != 0)
        return rv;
    return sm_item_put(c, lg_entry_ref(c->e, 0), &it);
}

int sm_appeal_decide(struct sm_ctx *c)
{
    const msgpack_object *cls, *credits, *outcome;
    const struct lg_field f[] = {
        {"class", LG_STR, 0, true, &cls},
        {"credits", LG_UINT, 0, true, &credits},
        {"outcome", LG_STR, 0, false, &outcome},
    };
    int rv;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_body(c, f, 3)) != 0 || (rv = sm_refs(c, 1)) != 0)
        return rv;
    bool upheld = lg_is_str(outcome, "upheld");
    if (!upheld && !lg_is_str(outcome, "rejected"))
        return SM_FAIL(c, CB_EVALUE, "body.outcome: upheld or rejected");
    if (upheld != (cls != NULL) || upheld != (credits != NULL))
        return SM_FAIL(c, CB_EVALUE, "body: class and credits go exactly "
                                     "with an upheld outcome");
    int k = -1;
    if (upheld) {
        k = sm_class_parse(cls);
        if (k < 0)
            return SM_FAIL(c, CB_EVALUE,
                           "body.class: major, general or elective");
        if (credits->via.u64 < 1)
            return SM_FAIL(c, CB_EVALUE, "body.credits: at least 1");
    }
    struct sm_item ap, it;
    const uint8_t *ap_id = lg_entry_ref(c->e, 0);
    if ((rv = sm_item_get(c, ap_id, SM_ITEM_APPEAL, &ap, "refs[0]")) != 0)
        return rv;
    if (ap.status != SM_APPEAL_OPEN)
        return SM_FAIL(c, CB_EAPPEALCLOSED, "refs[0]: appeal was decided");
    if ((rv = sm_item_get(c, ap.ref, SM_ITEM_RECOG, &it, "appeal's "
                          "recognition")) != 0)
        return rv == CB_EREF ? CB_ECORRUPT : rv;
    if (it.status != SM_RECOG_ACTIVE)
        return SM_FAIL(c, CB_EINACTIVE, "the appealed recognition was "
                                        "cancelled");
    if (upheld) {
        if (credits->via.u64 > it.deposit_credits)
            return SM_FAIL(c, CB_ECREDITS, "body.credits: %llu > %llu "
                           "deposited", (unsigned long long)credits->via.u64,
                           (unsigned long long)it.deposit_credits);
        if ((rv = check_cap(c, it.member, it.source, ap.ref,
                            credits->via.u64)) != 0)
            return rv;
        it.credits = credits->via.u64;
        it.cls = (uint8_t)k;
    }
    ap.status = upheld ? SM_APPEAL_UPHELD : SM_APPEAL_REJECTED;
    ap.closed_index = c->index;
    it.appeal_open = 0;
    if ((rv = sm_item_put(c, ap_id, &ap)) != 0)
        return rv;
    return sm_item_put(c, ap.ref, &it);
}

/* ---- A6 ---- */
int sm_credit_cancel(struct sm_ctx *c)
{
    const msgpack_object *reason;
    const struct lg_field f[] = {{"reason", LG_STR, 0, false, &reason}};
    int rv;
    bool learner;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR | SM_ROLE_RECOGNIZER)) ||
        (rv = sm_body(c, f, 1)) != 0 || (rv = sm_refs(c, 1)) != 0 ||
        (rv = reason_of(c, reason, &learner)) != 0)
        return rv;
    struct sm_item it;
    if ((rv = active_recog(c, 0, &it)) != 0)
        return rv;
    if (learner) {
        bool yes;
        if ((rv = revocable(c, &it, &yes)) != 0)
            return rv;
        if (!yes)
            return SM_FAIL(c, CB_EREVOCABLE,
                           "%s credits recognised by %s cannot be revoked at "
                           "the learner's request",
                           sm_source_name(it.source), it.member);
    }
    return cancel_recog(c, lg_entry_ref(c->e, 0), &it);
}

struct active_list {
    uint8_t (*ids)[32];
    size_t n, cap;
};

static int collect_active(void *ctx, const uint8_t id[32],
                          const struct sm_item *it)
{
    struct active_list *a = ctx;
    if (it->kind != SM_ITEM_RECOG || it->status != SM_RECOG_ACTIVE)
        return 0;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        void *p = realloc(a->ids, cap * 32);
        if (p == NULL)
            return CB_ENOMEM;
        a->ids = p;
        a->cap = cap;
    }
    memcpy(a->ids[a->n++], id, 32);
    return 0;
}

int sm_account_cancel(struct sm_ctx *c)
{
    const msgpack_object *reason;
    const struct lg_field f[] = {{"reason", LG_STR, 0, false, &reason}};
    int rv;
    bool learner;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_body(c, f, 1)) != 0 || (rv = sm_refs(c, 0)) != 0 ||
        (rv = reason_of(c, reason, &learner)) != 0)
        return rv;
    /* Leaving the credit bank cancels every active recognition, whatever
     * its learner_revocable: it is not a revocation of a credit. */
    struct active_list a = {0};
    rv = sm_items_each(c->l, c->txn, c->acct_id, collect_active, &a);
    for (size_t i = 0; rv == 0 && i < a.n; i++) {
        struct sm_item it;
        rv = sm_item_get(c, a.ids[i], SM_ITEM_RECOG, &it, "recognition");
        if (rv == 0)
            rv = cancel_recog(c, a.ids[i], &it);
    }
    free(a.ids);
    if (rv != 0)
        return rv;
    c->acct.status = 1;
    return 0;
}

/* ---- A7 ---- */
int sm_class_change(struct sm_ctx *c)
{
    const msgpack_object *cls;
    const struct lg_field f[] = {{"class", LG_STR, 0, false, &cls}};
    int rv;
    if ((rv = sm_author_issuer(c, SM_ROLE_REGISTRAR)) != 0 ||
        (rv = sm_sig_require(c, c->acct.learner, "learner")) != 0 ||
        (rv = sm_body(c, f, 1)) != 0 || (rv = sm_refs(c, 1)) != 0)
        return rv;
    int k = sm_class_parse(cls);
    if (k < 0)
        return SM_FAIL(c, CB_EVALUE, "body.class: major or general");
    if (k != SM_CLASS_MAJOR && k != SM_CLASS_GENERAL)
        return SM_FAIL(c, CB_ECLASS, "body.class: %s; class change only "
                       "between major and general", sm_class_name(k));
    struct sm_item it;
    if ((rv = active_recog(c, 0, &it)) != 0)
        return rv;
    if (!it.compatible)
        return SM_FAIL(c, CB_ECOMPATIBLE,
                       "refs[0]: its deposit is not flagged compatible");
    if (it.cls != SM_CLASS_MAJOR && it.cls != SM_CLASS_GENERAL)
        return SM_FAIL(c, CB_ECLASS, "refs[0]: class %s; class change only "
                       "between major and general", sm_class_name(it.cls));
    if (it.cls == k)
        return SM_FAIL(c, CB_ESAMECLASS, "refs[0]: already %s",
                       sm_class_name(k));
    it.cls = (uint8_t)k;
    return sm_item_put(c, lg_entry_ref(c->e, 0), &it);
}
