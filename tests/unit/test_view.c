/* ledger/view.c: the account view of DESIGN 4.2 (every key, in log order),
 * the account's entry list, the members view, and determinism: two ledgers
 * fed the same entries, in different batches, render byte-identical JSON. */
#include "fixture.h"

static struct fx f;

static void setup(void) { fx_setup(&f); }
static void teardown(void) { fx_teardown(&f); }
TestSuite(view, .init = setup, .fini = teardown);

/* ---- JSON helpers ---- */

/* The value at a dotted path; numeric parts index arrays. */
static json_t *at(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok && v;
         tok = strtok_r(NULL, ".", &save)) {
        if (json_is_array(v))
            v = json_array_get(v, (size_t)strtoul(tok, NULL, 10));
        else
            v = json_object_get(v, tok);
    }
    cr_assert_not_null(v, "no %s", path);
    return v;
}

static json_int_t num(json_t *v, const char *path)
{
    json_t *x = at(v, path);
    cr_assert(json_is_integer(x), "%s is not an integer", path);
    return json_integer_value(x);
}

static const char *str(json_t *v, const char *path)
{
    json_t *x = at(v, path);
    cr_assert(json_is_string(x), "%s is not a string", path);
    return json_string_value(x);
}

static bool truth(json_t *v, const char *path)
{
    json_t *x = at(v, path);
    cr_assert(json_is_boolean(x), "%s is not a boolean", path);
    return json_is_true(x);
}

static size_t len(json_t *v, const char *path)
{
    json_t *x = at(v, path);
    cr_assert(json_is_array(x), "%s is not an array", path);
    return json_array_size(x);
}

/* The object's keys, in order, are exactly keys (NULL-terminated). */
static void keys_are(json_t *o, const char *what, const char *const *keys)
{
    cr_assert(json_is_object(o), "%s is not an object", what);
    size_t i = 0;
    for (void *it = json_object_iter(o); it;
         it = json_object_iter_next(o, it), i++) {
        cr_assert_not_null(keys[i], "%s: extra key %s", what,
                           json_object_iter_key(it));
        cr_assert_str_eq(json_object_iter_key(it), keys[i], "%s: key %zu",
                         what, i);
    }
    cr_assert_null(keys[i], "%s: missing key %s", what, keys[i]);
}

static void hex_is(json_t *v, const char *path, const uint8_t b[32])
{
    char hex[65];
    cy_hex(hex, b, 32);
    cr_assert_str_eq(str(v, path), hex, "%s", path);
}

static json_t *view_of(struct fx *x, const uint8_t id[32])
{
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    int rv = lg_account_view(x->l, id, &v, &err);
    cr_assert_eq(rv, 0, "view: %s: %s", cb_errname(rv), err.msg);
    cr_assert_not_null(v);
    return v;
}

/* lg_account_view_from with every entry handed over decoded (as the
 * offline verifier's summary does) renders v exactly, and reads every
 * entry through the getter. */
struct decoded_log {
    struct lg_signed *s;
    uint64_t n, calls;
};

static const struct lg_signed *decoded_get(void *ctx, uint64_t index)
{
    struct decoded_log *d = ctx;
    d->calls++;
    return index < d->n ? &d->s[index] : NULL;
}

static void same_view_from(struct fx *x, const uint8_t id[32], json_t *v)
{
    struct lg_status st;
    cr_assert_eq(lg_status(x->l, &st), 0);
    struct decoded_log d = {calloc(st.size, sizeof *d.s), st.size, 0};
    cr_assert_not_null(d.s);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(x->l), NULL, MDB_RDONLY, &txn),
                 0);
    for (uint64_t i = 0; i < st.size; i++) {
        const uint8_t *p;
        size_t len;
        cr_assert_eq(lg_log_get(lg_ledger_log(x->l), txn, i, &p, &len), 0);
        lg_signed_init(&d.s[i]);
        cr_assert_eq(lg_signed_decode(&d.s[i], p, len, NULL), 0);
    }
    json_t *w = NULL;
    struct cb_err err = {0, ""};
    int rv = lg_account_view_from(x->l, id, decoded_get, &d, &w, &err);
    cr_assert_eq(rv, 0, "view_from: %s: %s", cb_errname(rv), err.msg);
    cr_assert(json_equal(v, w), "view_from differs from the view");
    cr_assert_gt(d.calls, 0, "the getter was never asked");
    json_decref(w);
    /* a getter that has nothing: the view reads the log itself */
    d.n = 0;
    rv = lg_account_view_from(x->l, id, decoded_get, &d, &w, &err);
    cr_assert_eq(rv, 0, "view_from: %s: %s", cb_errname(rv), err.msg);
    cr_assert(json_equal(v, w), "view_from (log) differs from the view");
    json_decref(w);
    mdb_txn_abort(txn); /* the decoded entries point into its pages */
    for (uint64_t i = 0; i < st.size; i++)
        lg_signed_release(&d.s[i]);
    free(d.s);
}

/* ---- entries ---- */

/* Every entry goes through submit: fx_submit on f, or (determinism) build
 * once, apply to f and keep the bytes for a second ledger. */
static int (*submit)(const struct fx_e *e, struct lg_result *r);

static int submit_f(const struct fx_e *e, struct lg_result *r)
{
    return fx_submit(&f, e, r);
}

static void ok(const struct fx_e *e, struct lg_result *r)
{
    int rv = submit(e, r);
    cr_assert_eq(rv, 0, "%s refused: %s: %s", lg_type_name(e->type),
                 cb_errname(rv), r->msg);
}

static void open_account(const struct cy_key *k, bool exempt,
                         struct lg_result *r)
{
    char body[512];
    uint8_t pii[32];
    cy_sha256(pii, k->pk, 32);
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"high_school\"},\"fee_exempt\":%s,"
             "\"learner_key\":\"%s\",\"major\":\"computer science\","
             "\"pii\":\"%s\"}",
             fx_hex(pii), exempt ? "true" : "false", fx_hex(k->pk),
             fx_hex(pii));
    ok(&(struct fx_e){.type = LG_T_ACCOUNT_OPEN, .author = &f.bank,
                      .body = body, .signers = {k}},
       r);
}

static void deposit(const uint8_t acct[32], const struct cy_key *who,
                    const char *source, const char *course, int credits,
                    int grade, int attendance, const char *term,
                    bool compatible, struct lg_result *r)
{
    char body[600], att[32] = "";
    if (attendance >= 0)
        snprintf(att, sizeof att, "\"attendance\":%d,", attendance);
    snprintf(body, sizeof body,
             "{%s\"compatible\":%s,\"course\":\"%s\",\"credits\":%d,"
             "\"evidence\":\"%s\",\"grade\":%d,\"source\":\"%s\","
             "\"term\":\"%s\",\"title\":\"Title of %s\"}",
             att, compatible ? "true" : "false", course, credits,
             fx_hex(f.ledger), grade, source, term, course);
    ok(&(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT, .author = who,
                      .account = acct, .body = body},
       r);
}

static void with_ref(const uint8_t acct[32], enum lg_type type,
                     const struct cy_key *who, const uint8_t ref[32],
                     const char *body, const struct cy_key *signer,
                     struct lg_result *r)
{
    struct fx_e e = {.type = type, .author = who, .account = acct,
                     .refs = (const uint8_t(*)[32])ref, .nrefs = ref ? 1 : 0,
                     .body = body};
    e.signers[0] = signer;
    ok(&e, r);
}

static void recognize(const uint8_t acct[32], const struct cy_key *who,
                      const uint8_t dep[32], int credits, const char *cls,
                      const char *term, struct lg_result *r)
{
    char body[128];
    snprintf(body, sizeof body,
             "{\"class\":\"%s\",\"credits\":%d,\"term\":\"%s\"}", cls, credits,
             term);
    with_ref(acct, LG_T_CREDIT_RECOGNIZE, who, dep, body, NULL, r);
}

/* ---- the scripted journey shared by the content and determinism tests */

struct journey {
    struct lg_result open, d1, d2, r1, cancel, r1b, r2, appeal, decide;
    struct lg_result other_open, other_dep;
    struct cy_key other;
};

static void journey(struct journey *j)
{
    open_account(&f.learner, false, &j->open);
    const uint8_t *acct = j->open.id;
    deposit(acct, &f.prov, "school", "CS101", 3, 80, -1, "2024Q1", true,
            &j->d1);
    deposit(acct, &f.uni, "mooc", "KM7", 3, 90, 85, "2024Q1", false, &j->d2);
    recognize(acct, &f.bank, j->d1.id, 3, "major", "2024Q1", &j->r1);
    with_ref(acct, LG_T_CREDIT_CANCEL, &f.bank, j->r1.id,
             "{\"reason\":\"error\"}", NULL, &j->cancel);
    recognize(acct, &f.bank, j->d1.id, 2, "general", "2024Q2", &j->r1b);
    recognize(acct, &f.uni, j->d2.id, 3, "general", "2024Q1", &j->r2);
    with_ref(acct, LG_T_APPEAL_FILE, &f.bank, j->r1b.id,
             "{\"reason\":\"grade misread\",\"term\":\"2024Q3\"}", &f.learner,
             &j->appeal);
    with_ref(acct, LG_T_APPEAL_DECIDE, &f.bank, j->appeal.id,
             "{\"class\":\"major\",\"credits\":3,\"outcome\":\"upheld\"}",
             NULL, &j->decide);
    /* another account's items never show in this one's view */
    fx_key(&j->other, "view-other");
    open_account(&j->other, true, &j->other_open);
    deposit(j->other_open.id, &f.prov, "school", "OTHER", 5, 70, -1,
            "2024Q1", false, &j->other_dep);
}

static const char *const top_keys[] = {
    "id", "number", "status", "learner_key", "registrar", "degree", "major",
    "fee_exempt", "awards", "links", "deposits", "appeals", "active_credits",
    "fees", "linked_credits", "count", "chain", NULL};

/* The chain over the account's entries, computed here from the log. */
struct chain {
    struct fx *x;
    uint8_t chain[32];
    uint64_t n;
};

static int chain_step(void *ctx, uint64_t index, uint64_t fee)
{
    (void)fee;
    struct chain *c = ctx;
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(c->x->l), NULL, MDB_RDONLY,
                               &txn), 0);
    const uint8_t *leaf;
    size_t n;
    cr_assert_eq(lg_log_get(lg_ledger_log(c->x->l), txn, index, &leaf, &n),
                 0);
    uint8_t *buf = malloc(n + 1), lh[32], two[64];
    buf[0] = 0x00;
    memcpy(buf + 1, leaf, n);
    cy_sha256(lh, buf, n + 1);
    free(buf);
    mdb_txn_abort(txn);
    memcpy(two, c->chain, 32);
    memcpy(two + 32, lh, 32);
    cy_sha256(c->chain, two, 64);
    c->n++;
    return 0;
}

Test(view, new_account)
{
    submit = submit_f;
    struct lg_result open;
    open_account(&f.learner, false, &open);
    json_t *v = view_of(&f, open.id);
    keys_are(v, "view", top_keys);
    hex_is(v, "id", open.id);
    cr_assert_eq(num(v, "number"), 0);
    cr_assert_str_eq(str(v, "status"), "open");
    hex_is(v, "learner_key", f.learner.pk);
    cr_assert_str_eq(str(v, "registrar"), "bank");
    cr_assert_str_eq(str(v, "degree"), "bachelor");
    cr_assert_str_eq(str(v, "major"), "computer science");
    cr_assert(!truth(v, "fee_exempt"));
    cr_assert_eq(len(v, "awards"), 0);
    cr_assert_eq(len(v, "links"), 0);
    cr_assert_eq(len(v, "deposits"), 0);
    cr_assert_eq(len(v, "appeals"), 0);
    keys_are(at(v, "active_credits"), "active_credits",
             (const char *const[]){"total", "by_class", "by_source", NULL});
    cr_assert_eq(num(v, "active_credits.total"), 0);
    keys_are(at(v, "active_credits.by_class"), "by_class",
             (const char *const[]){"major", "general", "elective", NULL});
    cr_assert_eq(num(v, "active_credits.by_class.major"), 0);
    cr_assert_eq(json_object_size(at(v, "active_credits.by_source")), 0);
    keys_are(at(v, "fees"), "fees",
             (const char *const[]){"currency", "total", "entries", NULL});
    cr_assert_str_eq(str(v, "fees.currency"), "KRW");
    cr_assert_eq(num(v, "fees.total"), 4000);
    cr_assert_eq(len(v, "fees.entries"), 1);
    keys_are(at(v, "fees.entries.0"), "fee entry",
             (const char *const[]){"index", "type", "fee", NULL});
    cr_assert_eq(num(v, "fees.entries.0.index"), (json_int_t)open.index);
    cr_assert_str_eq(str(v, "fees.entries.0.type"), "account.open");
    cr_assert_eq(num(v, "fees.entries.0.fee"), 4000);
    cr_assert_eq(num(v, "linked_credits"), 0);
    cr_assert_eq(num(v, "count"), 1);
    struct chain c = {.x = &f};
    cr_assert_eq(lg_account_entries(f.l, open.id, 0, UINT64_MAX, chain_step,
                                    &c, NULL), 0);
    cr_assert_eq(c.n, 1);
    hex_is(v, "chain", c.chain);
    json_decref(v);
}

Test(view, unknown_account)
{
    uint8_t nobody[32] = {7};
    json_t *v = (json_t *)1;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_account_view(f.l, nobody, &v, &err), CB_ENOTFOUND);
    cr_assert_null(v);
    cr_assert_eq(err.code, CB_ENOTFOUND);
    cr_assert_eq(lg_account_entries(f.l, nobody, 0, 10, chain_step, NULL,
                                    &err), CB_ENOTFOUND);
}

Test(view, deposits_recognitions_appeals_and_fees)
{
    submit = submit_f;
    struct journey j;
    journey(&j);
    json_t *v = view_of(&f, j.open.id);
    keys_are(v, "view", top_keys);

    /* deposits in log order, each with its recognition history */
    cr_assert_eq(len(v, "deposits"), 2);
    static const char *const dep_keys[] = {
        "id", "index", "provider", "source", "course", "title", "credits",
        "grade", "term", "compatible", "recognitions", NULL};
    static const char *const dep_keys_att[] = {
        "id", "index", "provider", "source", "course", "title", "credits",
        "grade", "attendance", "term", "compatible", "recognitions", NULL};
    keys_are(at(v, "deposits.0"), "deposit without attendance", dep_keys);
    keys_are(at(v, "deposits.1"), "deposit with attendance", dep_keys_att);
    hex_is(v, "deposits.0.id", j.d1.id);
    cr_assert_eq(num(v, "deposits.0.index"), (json_int_t)j.d1.index);
    cr_assert_str_eq(str(v, "deposits.0.provider"), "provider");
    cr_assert_str_eq(str(v, "deposits.0.source"), "school");
    cr_assert_str_eq(str(v, "deposits.0.course"), "CS101");
    cr_assert_str_eq(str(v, "deposits.0.title"), "Title of CS101");
    cr_assert_eq(num(v, "deposits.0.credits"), 3);
    cr_assert_eq(num(v, "deposits.0.grade"), 80);
    cr_assert_str_eq(str(v, "deposits.0.term"), "2024Q1");
    cr_assert(truth(v, "deposits.0.compatible"));
    hex_is(v, "deposits.1.id", j.d2.id);
    cr_assert_str_eq(str(v, "deposits.1.provider"), "university");
    cr_assert_str_eq(str(v, "deposits.1.source"), "mooc");
    cr_assert_eq(num(v, "deposits.1.attendance"), 85);
    cr_assert(!truth(v, "deposits.1.compatible"));

    static const char *const rec_keys[] = {
        "id", "index", "recognizer", "credits", "class", "term", "status",
        "linked", NULL};
    static const char *const rec_keys_cancelled[] = {
        "id", "index", "recognizer", "credits", "class", "term", "status",
        "linked", "cancelled_at", NULL};
    cr_assert_eq(len(v, "deposits.0.recognitions"), 2);
    keys_are(at(v, "deposits.0.recognitions.0"), "cancelled recognition",
             rec_keys_cancelled);
    hex_is(v, "deposits.0.recognitions.0.id", j.r1.id);
    cr_assert_eq(num(v, "deposits.0.recognitions.0.index"),
                 (json_int_t)j.r1.index);
    cr_assert_str_eq(str(v, "deposits.0.recognitions.0.recognizer"), "bank");
    cr_assert_eq(num(v, "deposits.0.recognitions.0.credits"), 3);
    cr_assert_str_eq(str(v, "deposits.0.recognitions.0.class"), "major");
    cr_assert_str_eq(str(v, "deposits.0.recognitions.0.term"), "2024Q1");
    cr_assert_str_eq(str(v, "deposits.0.recognitions.0.status"),
                     "cancelled");
    cr_assert(!truth(v, "deposits.0.recognitions.0.linked"));
    cr_assert_eq(num(v, "deposits.0.recognitions.0.cancelled_at"),
                 (json_int_t)j.cancel.index);
    keys_are(at(v, "deposits.0.recognitions.1"), "active recognition",
             rec_keys);
    hex_is(v, "deposits.0.recognitions.1.id", j.r1b.id);
    /* the upheld appeal replaced 2 general with 3 major */
    cr_assert_eq(num(v, "deposits.0.recognitions.1.credits"), 3);
    cr_assert_str_eq(str(v, "deposits.0.recognitions.1.class"), "major");
    cr_assert_str_eq(str(v, "deposits.0.recognitions.1.term"), "2024Q2");
    cr_assert_str_eq(str(v, "deposits.0.recognitions.1.status"), "active");
    cr_assert_eq(len(v, "deposits.1.recognitions"), 1);
    cr_assert_str_eq(str(v, "deposits.1.recognitions.0.recognizer"),
                     "university");

    /* appeals */
    cr_assert_eq(len(v, "appeals"), 1);
    keys_are(at(v, "appeals.0"), "appeal",
             (const char *const[]){"id", "index", "recognition", "term",
                                   "reason", "outcome", "decided_at", NULL});
    hex_is(v, "appeals.0.id", j.appeal.id);
    cr_assert_eq(num(v, "appeals.0.index"), (json_int_t)j.appeal.index);
    hex_is(v, "appeals.0.recognition", j.r1b.id);
    cr_assert_str_eq(str(v, "appeals.0.term"), "2024Q3");
    cr_assert_str_eq(str(v, "appeals.0.reason"), "grade misread");
    cr_assert_str_eq(str(v, "appeals.0.outcome"), "upheld");
    cr_assert_eq(num(v, "appeals.0.decided_at"), (json_int_t)j.decide.index);

    /* active credits: R1b 3 major (school), R2 3 general (mooc) */
    cr_assert_eq(num(v, "active_credits.total"), 6);
    cr_assert_eq(num(v, "active_credits.by_class.major"), 3);
    cr_assert_eq(num(v, "active_credits.by_class.general"), 3);
    cr_assert_eq(num(v, "active_credits.by_class.elective"), 0);
    keys_are(at(v, "active_credits.by_source"), "by_source (non-zero only)",
             (const char *const[]){"school", "mooc", NULL});
    cr_assert_eq(num(v, "active_credits.by_source.school"), 3);
    cr_assert_eq(num(v, "active_credits.by_source.mooc"), 3);

    /* fees: every entry of the account, in log order */
    struct {
        const struct lg_result *r;
        const char *type;
        int fee;
    } want[] = {
        {&j.open, "account.open", 4000},
        {&j.d1, "outcome.deposit", 0},
        {&j.d2, "outcome.deposit", 0},
        {&j.r1, "credit.recognize", 3000},
        {&j.cancel, "credit.cancel", 0},
        {&j.r1b, "credit.recognize", 2000},
        {&j.r2, "credit.recognize", 3000},
        {&j.appeal, "appeal.file", 0},
        {&j.decide, "appeal.decide", 0},
    };
    size_t n = sizeof want / sizeof want[0];
    cr_assert_eq(len(v, "fees.entries"), n);
    json_int_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char p[64];
        snprintf(p, sizeof p, "fees.entries.%zu.index", i);
        cr_assert_eq(num(v, p), (json_int_t)want[i].r->index);
        snprintf(p, sizeof p, "fees.entries.%zu.type", i);
        cr_assert_str_eq(str(v, p), want[i].type);
        snprintf(p, sizeof p, "fees.entries.%zu.fee", i);
        cr_assert_eq(num(v, p), want[i].fee);
        cr_assert_eq((int)want[i].r->fee, want[i].fee, "lg_result fee %zu",
                     i);
        total += want[i].fee;
    }
    cr_assert_eq(num(v, "fees.total"), total);
    cr_assert_eq(total, 12000);
    cr_assert_eq(num(v, "count"), (json_int_t)n);
    struct chain c = {.x = &f};
    cr_assert_eq(lg_account_entries(f.l, j.open.id, 0, UINT64_MAX,
                                    chain_step, &c, NULL), 0);
    cr_assert_eq(c.n, n);
    hex_is(v, "chain", c.chain);
    json_decref(v);

    /* the other account: its own deposit only, fee exempt */
    v = view_of(&f, j.other_open.id);
    cr_assert_eq(num(v, "number"), 1);
    cr_assert(truth(v, "fee_exempt"));
    cr_assert_eq(len(v, "deposits"), 1);
    cr_assert_str_eq(str(v, "deposits.0.course"), "OTHER");
    cr_assert_eq(len(v, "deposits.0.recognitions"), 0);
    cr_assert_eq(len(v, "appeals"), 0);
    cr_assert_eq(num(v, "fees.total"), 0);
    cr_assert_eq(num(v, "fees.entries.0.fee"), 0);
    cr_assert_eq(num(v, "count"), 2);
    json_decref(v);
}

/* Awards and links; a link reports the credits it counted at link time,
 * even when an appeal changes a linked recognition later. */
Test(view, awards_and_links)
{
    submit = submit_f;
    struct lg_result open, d, r, big[3], award, link1, link2, ap, dec;
    open_account(&f.learner, false, &open);
    const uint8_t *acct = open.id;
    /* associate: 80 total, 45 major, 15 general */
    const char *cls[3] = {"major", "general", "elective"};
    int credits[3] = {45, 15, 20};
    for (int i = 0; i < 3; i++) {
        deposit(acct, &f.prov, "school", cls[i], credits[i], 80, -1, "2024Q1",
                false, &d);
        recognize(acct, &f.bank, d.id, credits[i], cls[i], "2024Q1", &big[i]);
    }
    deposit(acct, &f.prov, "part_time", "PT1", 6, 80, -1, "2024Q1", false,
            &d);
    recognize(acct, &f.bank, d.id, 4, "elective", "2024Q1", &r);
    with_ref(acct, LG_T_DEGREE_AWARD, &f.bank, NULL,
             "{\"degree\":\"associate\",\"major\":\"software\"}", NULL,
             &award);
    /* an upheld appeal before the link: 4 -> 6 credits */
    with_ref(acct, LG_T_APPEAL_FILE, &f.bank, r.id,
             "{\"reason\":\"hours\",\"term\":\"2024Q2\"}", &f.learner, &ap);
    with_ref(acct, LG_T_APPEAL_DECIDE, &f.bank, ap.id,
             "{\"class\":\"elective\",\"credits\":6,\"outcome\":\"upheld\"}",
             NULL, &dec);
    uint8_t refs[2][32];
    memcpy(refs[0], big[0].id, 32);
    memcpy(refs[1], r.id, 32);
    ok(&(struct fx_e){.type = LG_T_DEGREE_LINK, .author = &f.bank,
                      .account = acct, .refs = (const uint8_t(*)[32])refs,
                      .nrefs = 2,
                      .body = "{\"degree\":\"bachelor\",\"major\":\"ai\"}",
                      .signers = {&f.learner}},
       &link1);
    cr_assert_eq(link1.fee, 0, "51 linked credits are free");
    /* an upheld appeal after the link: 45 -> 40; link1 still counted 45 */
    with_ref(acct, LG_T_APPEAL_FILE, &f.bank, big[0].id,
             "{\"reason\":\"again\",\"term\":\"2024Q4\"}", &f.learner, &ap);
    with_ref(acct, LG_T_APPEAL_DECIDE, &f.bank, ap.id,
             "{\"class\":\"major\",\"credits\":40,\"outcome\":\"upheld\"}",
             NULL, &dec);
    memcpy(refs[0], big[1].id, 32);
    memcpy(refs[1], big[2].id, 32);
    ok(&(struct fx_e){.type = LG_T_DEGREE_LINK, .author = &f.bank,
                      .account = acct, .refs = (const uint8_t(*)[32])refs,
                      .nrefs = 2,
                      .body = "{\"degree\":\"master\",\"major\":\"ml\"}",
                      .signers = {&f.learner}},
       &link2);
    cr_assert_eq(link2.fee, 6000, "51 + 35 = 86 linked, 80 free");

    json_t *v = view_of(&f, acct);
    cr_assert_eq(len(v, "awards"), 1);
    keys_are(at(v, "awards.0"), "award",
             (const char *const[]){"id", "index", "degree", "major", NULL});
    hex_is(v, "awards.0.id", award.id);
    cr_assert_eq(num(v, "awards.0.index"), (json_int_t)award.index);
    cr_assert_str_eq(str(v, "awards.0.degree"), "associate");
    cr_assert_str_eq(str(v, "awards.0.major"), "software");
    cr_assert_eq(len(v, "links"), 2);
    keys_are(at(v, "links.0"), "link",
             (const char *const[]){"id", "index", "degree", "major",
                                   "credits", "recognitions", NULL});
    hex_is(v, "links.0.id", link1.id);
    cr_assert_eq(num(v, "links.0.index"), (json_int_t)link1.index);
    cr_assert_str_eq(str(v, "links.0.degree"), "bachelor");
    cr_assert_str_eq(str(v, "links.0.major"), "ai");
    cr_assert_eq(num(v, "links.0.credits"), 45 + 6);
    cr_assert_eq(len(v, "links.0.recognitions"), 2);
    hex_is(v, "links.0.recognitions.0", big[0].id);
    hex_is(v, "links.0.recognitions.1", r.id);
    hex_is(v, "links.1.id", link2.id);
    cr_assert_str_eq(str(v, "links.1.degree"), "master");
    cr_assert_eq(num(v, "links.1.credits"), 15 + 20);
    cr_assert_eq(num(v, "linked_credits"), 86);
    /* linked flags and current credits */
    cr_assert(truth(v, "deposits.0.recognitions.0.linked"));
    cr_assert_eq(num(v, "deposits.0.recognitions.0.credits"), 40);
    cr_assert(truth(v, "deposits.3.recognitions.0.linked"));
    cr_assert_eq(num(v, "deposits.3.recognitions.0.credits"), 6);
    cr_assert_eq(len(v, "appeals"), 2);
    cr_assert_eq(num(v, "active_credits.total"), 40 + 15 + 20 + 6);
    cr_assert_eq(num(v, "fees.total"), 4000 + 84000 + 6000);
    same_view_from(&f, acct, v);
    json_decref(v);
}

Test(view, cancelled_account)
{
    submit = submit_f;
    struct lg_result open, d, r, c;
    open_account(&f.learner, false, &open);
    deposit(open.id, &f.prov, "school", "S", 3, 80, -1, "2024Q1", false, &d);
    recognize(open.id, &f.bank, d.id, 3, "major", "2024Q1", &r);
    with_ref(open.id, LG_T_ACCOUNT_CANCEL, &f.bank, NULL,
             "{\"reason\":\"investigation\"}", NULL, &c);
    json_t *v = view_of(&f, open.id);
    cr_assert_str_eq(str(v, "status"), "cancelled");
    cr_assert_str_eq(str(v, "deposits.0.recognitions.0.status"), "cancelled");
    cr_assert_eq(num(v, "deposits.0.recognitions.0.cancelled_at"),
                 (json_int_t)c.index);
    cr_assert_eq(num(v, "active_credits.total"), 0);
    cr_assert_eq(json_object_size(at(v, "active_credits.by_source")), 0);
    cr_assert_str_eq(str(v, "fees.entries.3.type"), "account.cancel");
    cr_assert_eq(num(v, "count"), 4);
    json_decref(v);
}

/* ---- lg_account_entries ---- */

struct pick {
    uint64_t idx[64], fee[64];
    size_t n, stop_after;
};

static int pick(void *ctx, uint64_t index, uint64_t fee)
{
    struct pick *p = ctx;
    p->idx[p->n] = index;
    p->fee[p->n] = fee;
    p->n++;
    return p->stop_after && p->n == p->stop_after ? 1 : 0;
}

Test(view, account_entries_pages)
{
    submit = submit_f;
    struct journey j;
    journey(&j);
    const struct lg_result *all[] = {&j.open,  &j.d1,     &j.d2,
                                     &j.r1,    &j.cancel, &j.r1b,
                                     &j.r2,    &j.appeal, &j.decide};
    struct pick p = {0};
    cr_assert_eq(lg_account_entries(f.l, j.open.id, 0, UINT64_MAX, pick, &p,
                                    NULL), 0);
    cr_assert_eq(p.n, 9);
    for (size_t i = 0; i < 9; i++) {
        cr_assert_eq(p.idx[i], all[i]->index);
        cr_assert_eq(p.fee[i], all[i]->fee);
    }
    /* from is a position in the account's list, limit a count */
    memset(&p, 0, sizeof p);
    cr_assert_eq(lg_account_entries(f.l, j.open.id, 3, 4, pick, &p, NULL), 0);
    cr_assert_eq(p.n, 4);
    cr_assert_eq(p.idx[0], j.r1.index);
    cr_assert_eq(p.idx[3], j.r2.index);
    memset(&p, 0, sizeof p);
    cr_assert_eq(lg_account_entries(f.l, j.open.id, 9, 10, pick, &p, NULL),
                 0);
    cr_assert_eq(p.n, 0, "past the end: nothing, and no entry of the next "
                         "account");
    memset(&p, 0, sizeof p);
    cr_assert_eq(lg_account_entries(f.l, j.open.id, 0, 0, pick, &p, NULL), 0);
    cr_assert_eq(p.n, 0);
    /* a positive return stops without an error */
    memset(&p, 0, sizeof p);
    p.stop_after = 2;
    cr_assert_eq(lg_account_entries(f.l, j.open.id, 0, UINT64_MAX, pick, &p,
                                    NULL), 0);
    cr_assert_eq(p.n, 2);
    memset(&p, 0, sizeof p);
    cr_assert_eq(lg_account_entries(f.l, j.other_open.id, 0, UINT64_MAX, pick,
                                    &p, NULL), 0);
    cr_assert_eq(p.n, 2);
    cr_assert_eq(p.idx[0], j.other_open.index);
    cr_assert_eq(p.idx[1], j.other_dep.index);
}

/* ---- lg_members_view ---- */

Test(view, members_and_policies)
{
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_members_view(f.l, &v, &err), 0, "%s", err.msg);
    keys_are(v, "members view",
             (const char *const[]){"members", "governance_quorum",
                                   "cosign_quorum", "policies", NULL});
    cr_assert_eq(num(v, "governance_quorum"), 2);
    cr_assert_eq(num(v, "cosign_quorum"), 2);
    /* by name */
    cr_assert_eq(len(v, "members"), 3);
    cr_assert_str_eq(str(v, "members.0.name"), "bank");
    cr_assert_str_eq(str(v, "members.1.name"), "provider");
    cr_assert_str_eq(str(v, "members.2.name"), "university");
    keys_are(at(v, "members.0"), "member",
             (const char *const[]){"name", "roles", "node", "node_vkey",
                                   "issuers", "in_force", NULL});
    cr_assert_eq(len(v, "members.0.roles"), 2);
    cr_assert_str_eq(str(v, "members.0.roles.0"), "registrar");
    cr_assert_str_eq(str(v, "members.0.roles.1"), "recognizer");
    cr_assert_str_eq(str(v, "members.1.roles.0"), "provider");
    cr_assert_str_eq(str(v, "members.2.roles.0"), "recognizer");
    cr_assert_str_eq(str(v, "members.2.roles.1"), "provider");
    hex_is(v, "members.0.node", f.bank_node.pk);
    hex_is(v, "members.0.issuers.0", f.bank.pk);
    hex_is(v, "members.2.issuers.0", f.uni.pk);
    cr_assert_eq(len(v, "members.2.issuers"), 1);
    cr_assert(truth(v, "members.1.in_force"));
    char vk[CY_VKEY_MAX];
    cr_assert_eq(cy_note_vkey(vk, sizeof vk, "bank", f.bank_node.pk), 0);
    cr_assert_str_eq(str(v, "members.0.node_vkey"), vk);
    /* policies by scope, as stored */
    cr_assert_eq(json_object_size(at(v, "policies")), 2);
    cr_assert_str_eq(str(v, "policies.*.fees.currency"), "KRW");
    cr_assert_eq(num(v, "policies.*.fees.account_open"), 4000);
    cr_assert_eq(num(v, "policies.*.sources.mooc.min_attendance"), 80);
    cr_assert_eq(num(v, "policies.*.degrees.bachelor.total"), 140);
    cr_assert_eq(num(v, "policies.university.sources.mooc.max_credits"), 12);
    cr_assert(!truth(v, "policies.university.sources.mooc.learner_revocable"));
    json_decref(v);
}

/* ---- determinism ---- */

static struct fx g;         /* the second ledger */
static struct lg_buf kept[64];
static size_t nkept;

static int submit_twin(const struct fx_e *e, struct lg_result *r)
{
    size_t n;
    uint8_t *p = fx_build(&f, e, &n);
    int rv = fx_submit_bytes(&f, p, n, r);
    cr_assert_lt(nkept, 64);
    kept[nkept].p = p;
    kept[nkept].len = n;
    nkept++;
    return rv;
}

static char *dump(struct fx *x, const uint8_t id[32], size_t flags)
{
    json_t *v = view_of(x, id);
    char *s = json_dumps(v, flags);
    cr_assert_not_null(s);
    json_decref(v);
    return s;
}

Test(view_twins, same_entries_same_bytes)
{
    /* Both ledgers from the same genesis bytes; every later entry built
     * once. The first ledger applies them one per batch, the second in
     * batches of 1, 2, 3, ... */
    fx_open(&f);
    fx_open(&g);
    size_t glen;
    uint8_t *gb = fx_build(&f, &(struct fx_e){
                               .type = LG_T_GENESIS, .author = &f.bank,
                               .body = fx_genesis_body(&f),
                               .signers = {&f.bank_node, &f.uni, &f.uni_node,
                                           &f.prov, &f.prov_node}},
                           &glen);
    struct lg_result r;
    cr_assert_eq(fx_submit_bytes(&f, gb, glen, &r), 0);
    memcpy(f.ledger, r.id, 32);
    cr_assert_eq(fx_submit_bytes(&g, gb, glen, &r), 0);
    free(gb);
    nkept = 0;
    submit = submit_twin;
    ok(&(struct fx_e){.type = LG_T_POLICY_SET, .author = &f.uni,
                      .body = "{\"policy\":{\"sources\":{\"mooc\":"
                              "{\"learner_revocable\":false,"
                              "\"max_credits\":12}}},"
                              "\"scope\":\"university\"}"},
       &r);
    struct journey j;
    journey(&j);
    size_t nres = nkept;
    struct lg_result *res = calloc(nres, sizeof *res);
    for (size_t i = 0, k = 1; i < nres; i += k, k++) {
        if (i + k > nres)
            k = nres - i;
        struct cb_err err = {0, ""};
        cr_assert_eq(lg_apply(g.l, 0, kept + i, k, res + i, NULL, &err), 0,
                     "%s", err.msg);
    }
    for (size_t i = 0; i < nres; i++)
        cr_assert_eq(res[i].code, 0, "entry %zu on the second ledger: %s", i,
                     res[i].msg);
    const uint8_t *ids[2] = {j.open.id, j.other_open.id};
    for (int a = 0; a < 2; a++) {
        size_t flags[2] = {JSON_SORT_KEYS | JSON_COMPACT, JSON_INDENT(1)};
        for (int fl = 0; fl < 2; fl++) {
            char *x = dump(&f, ids[a], flags[fl]);
            char *y = dump(&g, ids[a], flags[fl]);
            char *x2 = dump(&f, ids[a], flags[fl]);
            cr_assert_str_eq(x, y, "account %d differs between ledgers", a);
            cr_assert_str_eq(x, x2, "account %d: views not stable", a);
            free(x);
            free(y);
            free(x2);
        }
    }
    json_t *mf, *mg;
    cr_assert_eq(lg_members_view(f.l, &mf, NULL), 0);
    cr_assert_eq(lg_members_view(g.l, &mg, NULL), 0);
    char *x = json_dumps(mf, JSON_SORT_KEYS), *y = json_dumps(mg, JSON_SORT_KEYS);
    cr_assert_str_eq(x, y);
    free(x);
    free(y);
    json_decref(mf);
    json_decref(mg);
    for (size_t i = 0; i < nkept; i++)
        free((void *)kept[i].p);
    free(res);
    fx_teardown(&f);
    fx_teardown(&g);
}
