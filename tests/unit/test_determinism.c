/* Determinism (issue: the same entries give the same state everywhere):
 * a seeded random sequence of valid and invalid account entries is applied
 * to two fresh ledgers -- one entry per batch in A, random batch sizes in B.
 * Every outcome matches, a refused entry changes nothing in A, and at the
 * end both have equal roots, account roots and byte-identical views. */
#include "fixture.h"

static struct fx a, b;

static uint64_t rng;
static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
}

#define NLEARN 4
#define NENT 400

static struct cy_key learners[NLEARN];
static uint8_t accts[NLEARN][32];
static bool opened[NLEARN];
/* ids of applied entries, per account, that later entries may reference */
static uint8_t deps[NLEARN][NENT][32], recs[NLEARN][NENT][32],
    apps[NLEARN][NENT][32];
static size_t ndeps[NLEARN], nrecs[NLEARN], napps[NLEARN];
/* what the entry being built is, recorded once A accepts it */
static int pend_l;
static enum lg_type pend_type;

static const struct cy_key *issuer(int i)
{
    const struct cy_key *ks[] = {&a.bank, &a.uni, &a.prov};
    return ks[i % 3];
}

static uint8_t *random_entry(size_t *len, int *kind)
{
    char body[700];
    int l = (int)rnd(NLEARN);
    int rl = rnd(5) ? l : (int)rnd(NLEARN); /* whose items refs come from */
    struct fx_e e = {.author = issuer((int)rnd(3)), .account = accts[l]};
    const char *sources[] = {"school", "mooc", "part_time", "other"};
    const char *classes[] = {"major", "general", "elective", "bogus"};
    const char *reasons[] = {"error", "investigation", "learner_request"};
    static uint8_t ref[32];
    *kind = (int)rnd(10);
    switch (*kind) {
    case 0: /* open an account (sometimes again: key_used) */
        snprintf(body, sizeof body,
                 "{\"degree\":\"associate\",\"education\":{\"evidence\":\"%s\","
                 "\"level\":\"hs\"},\"fee_exempt\":%s,\"learner_key\":\"%s\","
                 "\"major\":\"m\",\"pii\":\"%s\"}",
                 fx_hex(a.ledger), rnd(2) ? "true" : "false",
                 fx_hex(learners[l].pk), fx_hex(a.ledger));
        e = (struct fx_e){.type = LG_T_ACCOUNT_OPEN, .author = &a.bank,
                          .body = body, .signers = {&learners[l]}};
        break;
    case 1:
    case 2:
        snprintf(body, sizeof body,
                 "{%s\"compatible\":%s,\"course\":\"C\",\"credits\":%d,"
                 "\"evidence\":\"%s\",\"grade\":%d,\"source\":\"%s\","
                 "\"term\":\"2024Q%d\",\"title\":\"T\"}",
                 rnd(2) ? "\"attendance\":85," : "",
                 rnd(2) ? "true" : "false", (int)rnd(8), fx_hex(a.ledger),
                 (int)rnd(101), sources[rnd(4)], (int)rnd(4) + 1);
        e.type = LG_T_OUTCOME_DEPOSIT;
        e.body = body;
        break;
    case 3:
    case 4:
        if (ndeps[rl] == 0)
            return NULL;
        memcpy(ref, deps[rl][rnd(ndeps[rl])], 32);
        snprintf(body, sizeof body,
                 "{\"class\":\"%s\",\"credits\":%d,\"term\":\"2024Q%d\"}",
                 classes[rnd(4)], (int)rnd(6) + 1, (int)rnd(4) + 1);
        e.type = LG_T_CREDIT_RECOGNIZE;
        e.body = body;
        e.refs = (const uint8_t(*)[32])ref;
        e.nrefs = 1;
        if (rnd(2))
            e.signers[0] = &learners[l];
        break;
    case 5:
        if (nrecs[rl] == 0)
            return NULL;
        memcpy(ref, recs[rl][rnd(nrecs[rl])], 32);
        int reason = (int)rnd(3);
        snprintf(body, sizeof body, "{\"reason\":\"%s\"}", reasons[reason]);
        e.type = LG_T_CREDIT_CANCEL;
        e.body = body;
        e.refs = (const uint8_t(*)[32])ref;
        e.nrefs = 1;
        if (reason == 2 || rnd(5) == 0)
            e.signers[0] = &learners[l];
        break;
    case 6:
        if (nrecs[rl] == 0)
            return NULL;
        memcpy(ref, recs[rl][rnd(nrecs[rl])], 32);
        snprintf(body, sizeof body,
                 "{\"reason\":\"r\",\"term\":\"2025Q%d\"}", (int)rnd(4) + 1);
        e.type = LG_T_APPEAL_FILE;
        e.body = body;
        e.refs = (const uint8_t(*)[32])ref;
        e.nrefs = 1;
        e.signers[0] = &learners[l];
        break;
    case 7:
        if (napps[rl] == 0)
            return NULL;
        memcpy(ref, apps[rl][rnd(napps[rl])], 32);
        e.type = LG_T_APPEAL_DECIDE;
        e.body = rnd(2) ? "{\"outcome\":\"rejected\"}"
                        : "{\"class\":\"general\",\"credits\":2,"
                          "\"outcome\":\"upheld\"}";
        e.refs = (const uint8_t(*)[32])ref;
        e.nrefs = 1;
        break;
    case 8:
        if (nrecs[rl] == 0)
            return NULL;
        memcpy(ref, recs[rl][rnd(nrecs[rl])], 32);
        e.type = LG_T_CLASS_CHANGE;
        e.body = rnd(2) ? "{\"class\":\"major\"}" : "{\"class\":\"general\"}";
        e.refs = (const uint8_t(*)[32])ref;
        e.nrefs = 1;
        e.signers[0] = &learners[l];
        break;
    default:
        e.type = rnd(8) ? LG_T_DEGREE_AWARD : LG_T_ACCOUNT_CANCEL;
        e.body = e.type == LG_T_DEGREE_AWARD
                     ? "{\"degree\":\"associate\",\"major\":\"m\"}"
                     : "{\"reason\":\"error\"}";
        break;
    }
    /* mostly the right author for the type, sometimes any issuer */
    if (e.type != LG_T_ACCOUNT_OPEN) {
        if (rnd(5) == 0)
            e.author = issuer((int)rnd(3));
        else if (e.type == LG_T_OUTCOME_DEPOSIT)
            e.author = rnd(2) ? &a.prov : &a.uni;
        else if (e.type == LG_T_CREDIT_RECOGNIZE)
            e.author = rnd(2) ? &a.bank : &a.uni;
        else
            e.author = &a.bank;
    }
    uint8_t *p = fx_build(&a, &e, len);
    /* remember its id as a possible ref, valid or not */
    struct lg_signed s;
    lg_signed_init(&s);
    cr_assert_eq(lg_signed_decode(&s, p, *len, NULL), 0);
    if (e.type == LG_T_ACCOUNT_OPEN && !opened[l]) {
        memcpy(accts[l], s.e.id, 32);
        opened[l] = true;
    }
    pend_l = l;
    pend_type = e.type;
    lg_signed_release(&s);
    return p;
}

static bool same_status(const struct lg_status *x, const struct lg_status *y)
{
    return x->size == y->size && memcmp(x->root, y->root, 32) == 0 &&
           x->accounts == y->accounts &&
           memcmp(x->accounts_root, y->accounts_root, 32) == 0 &&
           x->governance == y->governance && x->since_seal == y->since_seal;
}

Test(determinism, two_ledgers_same_state)
{
    fx_open(&a);
    fx_open(&b);
    b.ts = a.ts;
    size_t glen;
    uint8_t *g = fx_build(&a, &(struct fx_e){
                              .type = LG_T_GENESIS, .author = &a.bank,
                              .body = fx_genesis_body(&a),
                              .signers = {&a.bank_node, &a.uni, &a.uni_node,
                                          &a.prov, &a.prov_node}}, &glen);
    struct lg_result r;
    cr_assert_eq(fx_submit_bytes(&a, g, glen, &r), 0);
    memcpy(a.ledger, r.id, 32);
    cr_assert_eq(fx_submit_bytes(&b, g, glen, &r), 0);
    free(g);
    for (int i = 0; i < NLEARN; i++) {
        char name[32];
        snprintf(name, sizeof name, "det-learner-%d", i);
        fx_key(&learners[i], name);
        memset(accts[i], 0xee, 32); /* unknown until opened */
    }
    rng = 0x9e3779b97f4a7c15ull;
    struct lg_buf *all = calloc(NENT, sizeof *all);
    struct lg_result *ra = calloc(NENT, sizeof *ra), *rb = calloc(NENT,
                                                                  sizeof *rb);
    size_t n = 0, refused = 0;
    while (n < NENT) {
        int kind;
        size_t len;
        uint8_t *p = random_entry(&len, &kind);
        if (p == NULL)
            continue;
        struct lg_status before, after;
        lg_status(a.l, &before);
        fx_submit_bytes(&a, p, len, &ra[n]);
        lg_status(a.l, &after);
        if (ra[n].code != 0) {
            refused++;
            cr_assert(same_status(&before, &after),
                      "refused entry %zu (%s) changed the state", n,
                      cb_errname(ra[n].code));
        } else {
            cr_assert_eq(after.size, before.size + 1);
            int l = pend_l;
            if (pend_type == LG_T_OUTCOME_DEPOSIT)
                memcpy(deps[l][ndeps[l]++], ra[n].id, 32);
            if (pend_type == LG_T_CREDIT_RECOGNIZE)
                memcpy(recs[l][nrecs[l]++], ra[n].id, 32);
            if (pend_type == LG_T_APPEAL_FILE)
                memcpy(apps[l][napps[l]++], ra[n].id, 32);
        }
        all[n].p = p;
        all[n].len = len;
        n++;
    }
    /* B: the same bytes in random batches */
    for (size_t i = 0; i < NENT;) {
        size_t k = 1 + rnd(40);
        if (i + k > NENT)
            k = NENT - i;
        struct cb_err err = {0, ""};
        int rv = lg_apply(b.l, 0, all + i, k, rb + i, NULL, &err);
        cr_assert_eq(rv, 0, "batch at %zu: %s: %s", i, cb_errname(rv), err.msg);
        i += k;
    }
    for (size_t i = 0; i < NENT; i++) {
        cr_assert_eq(ra[i].code, rb[i].code, "entry %zu: %s vs %s", i,
                     cb_errname(ra[i].code), cb_errname(rb[i].code));
        cr_assert_eq(ra[i].index, rb[i].index);
        cr_assert_eq(ra[i].fee, rb[i].fee);
    }
    struct lg_status sa, sb;
    lg_status(a.l, &sa);
    lg_status(b.l, &sb);
    cr_assert(same_status(&sa, &sb));
    if (getenv("CB_DEBUG_MIX"))
        for (size_t i = 0; i < NENT; i++)
            fprintf(stderr, "%s\n", cb_errname(ra[i].code));
    cr_assert_gt(refused, NENT / 10, "the mix has refusals (%zu)", refused);
    cr_assert_gt(sa.size, NENT / 4, "and successes (%llu)",
                 (unsigned long long)sa.size);
    for (int i = 0; i < NLEARN; i++) {
        if (!opened[i])
            continue;
        json_t *va = NULL, *vb = NULL;
        int ea = lg_account_view(a.l, accts[i], &va, NULL);
        int eb = lg_account_view(b.l, accts[i], &vb, NULL);
        cr_assert_eq(ea, eb);
        if (ea != 0)
            continue;
        char *da = json_dumps(va, JSON_SORT_KEYS | JSON_COMPACT);
        char *db = json_dumps(vb, JSON_SORT_KEYS | JSON_COMPACT);
        cr_assert_str_eq(da, db);
        free(da);
        free(db);
        json_decref(va);
        json_decref(vb);
    }
    for (size_t i = 0; i < NENT; i++)
        free((void *)all[i].p);
    free(all);
    free(ra);
    free(rb);
    fx_teardown(&a);
    fx_teardown(&b);
}
