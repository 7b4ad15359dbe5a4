/* Account rules A1-A7 (DESIGN 1, 4, 4.1): every rule has a test that fails
 * when the rule is removed. Demo consortium from fixture.h: "bank"
 * (registrar, recognizer), "university" (recognizer, provider; mooc cap 12,
 * not learner-revocable), "provider". */
#include "fixture.h"

static struct fx f;
static uint8_t acct[32];

static void setup(void)
{
    fx_setup(&f);
    fx_open_account(&f, &f.learner, false, acct);
}
static void teardown(void) { fx_teardown(&f); }
TestSuite(rules, .init = setup, .fini = teardown);

/* ---- domain helpers ---- */

static int deposit_r(const struct cy_key *author, const uint8_t *account,
                     const char *source, int credits, int grade,
                     int attendance, const char *term, bool compatible,
                     uint8_t id[32])
{
    char body[600], att[32] = "";
    static int course;
    if (attendance >= 0)
        snprintf(att, sizeof att, "\"attendance\":%d,", attendance);
    int n = ++course;
    snprintf(body, sizeof body,
             "{%s\"compatible\":%s,\"course\":\"C%d\",\"credits\":%d,"
             "\"evidence\":\"%s\",\"grade\":%d,\"source\":\"%s\","
             "\"term\":\"%s\",\"title\":\"Course %d\"}",
             att, compatible ? "true" : "false", n, credits,
             fx_hex(f.ledger), grade, source, term, n);
    struct lg_result r;
    int rv = fx_submit(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT,
                                          .author = author,
                                          .account = account, .body = body},
                       &r);
    if (id)
        memcpy(id, r.id, 32);
    return rv;
}

/* A deposit by the provider member that must succeed. */
static void deposit(const char *source, int credits, int grade,
                    int attendance, const char *term, bool compatible,
                    uint8_t id[32])
{
    const struct cy_key *who = strcmp(source, "mooc") == 0 ? &f.uni : &f.prov;
    int rv = deposit_r(who, acct, source, credits, grade, attendance, term,
                       compatible, id);
    cr_assert_eq(rv, 0, "deposit refused: %s", cb_errname(rv));
}

static int recognize_r(const struct cy_key *author, const uint8_t dep[32],
                       int credits, const char *cls, const char *term,
                       bool learner_signs, struct lg_result *r)
{
    char body[128];
    snprintf(body, sizeof body,
             "{\"class\":\"%s\",\"credits\":%d,\"term\":\"%s\"}", cls, credits,
             term);
    struct fx_e e = {.type = LG_T_CREDIT_RECOGNIZE, .author = author,
                     .account = acct, .refs = (const uint8_t(*)[32])dep,
                     .nrefs = 1, .body = body};
    if (learner_signs)
        e.signers[0] = &f.learner;
    return fx_submit(&f, &e, r);
}

static void recognize(const struct cy_key *author, const uint8_t dep[32],
                      int credits, const char *cls, const char *term,
                      uint8_t id[32])
{
    struct lg_result r;
    int rv = recognize_r(author, dep, credits, cls, term, false, &r);
    cr_assert_eq(rv, 0, "recognition refused: %s: %s", cb_errname(rv), r.msg);
    if (id)
        memcpy(id, r.id, 32);
}

static int with_refs(enum lg_type type, const struct cy_key *author,
                     const uint8_t (*refs)[32], size_t n, const char *body,
                     const struct cy_key *signer, struct lg_result *r)
{
    struct fx_e e = {.type = type, .author = author, .account = acct,
                     .refs = refs, .nrefs = n, .body = body};
    e.signers[0] = signer;
    return fx_submit(&f, &e, r);
}

static int cancel(const struct cy_key *author, const uint8_t rec[32],
                  const char *reason, const struct cy_key *signer,
                  struct lg_result *r)
{
    char body[64];
    snprintf(body, sizeof body, "{\"reason\":\"%s\"}", reason);
    return with_refs(LG_T_CREDIT_CANCEL, author, (const uint8_t(*)[32])rec, 1,
                     body, signer, r);
}

static json_t *view(void)
{
    json_t *v;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_account_view(f.l, acct, &v, &err), 0, "%s", err.msg);
    return v;
}

static json_int_t jint(json_t *o, const char *path)
{
    /* path like "fees.total" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, "."))
        cur = json_object_get(cur, tok);
    cr_assert(json_is_integer(cur), "%s is not an integer", path);
    return json_integer_value(cur);
}

/* ---- A1, fees ---- */

Test(rules, registration_fee_and_per_credit_fee)
{
    json_t *v = view();
    cr_assert_eq(jint(v, "fees.total"), 4000);
    json_decref(v);
    uint8_t dep[32];
    deposit("school", 3, 80, -1, "2024Q1", false, dep);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, dep, 3, "major", "2024Q1", false, &r), 0);
    cr_assert_eq(r.fee, 3000);
    v = view();
    cr_assert_eq(jint(v, "fees.total"), 7000);
    cr_assert_eq(json_array_size(json_object_get(
                     json_object_get(v, "fees"), "entries")), 3);
    json_decref(v);
}

Test(rules, fee_exempt_learner_pays_nothing)
{
    struct cy_key k;
    fx_key(&k, "exempt-learner");
    uint8_t other[32];
    fx_open_account(&f, &k, true, other);
    memcpy(acct, other, 32);
    uint8_t dep[32];
    deposit("school", 3, 80, -1, "2024Q1", false, dep);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, dep, 3, "major", "2024Q1", false, &r), 0);
    cr_assert_eq(r.fee, 0);
    json_t *v = view();
    cr_assert_eq(jint(v, "fees.total"), 0);
    cr_assert(json_is_true(json_object_get(v, "fee_exempt")));
    json_decref(v);
}

Test(rules, recognition_anew_after_cancel_is_charged_again)
{
    uint8_t dep[32], rec[32];
    deposit("school", 3, 80, -1, "2024Q1", false, dep);
    recognize(&f.bank, dep, 3, "major", "2024Q1", rec);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, dep, 2, "major", "2024Q1", false, &r),
                 CB_ERECOGNIZED);
    cr_assert_eq(cancel(&f.bank, rec, "error", NULL, &r), 0, "%s", r.msg);
    cr_assert_eq(recognize_r(&f.bank, dep, 3, "major", "2024Q1", false, &r), 0);
    cr_assert_eq(r.fee, 3000);
    json_t *v = view();
    cr_assert_eq(jint(v, "fees.total"), 10000);
    json_t *hist = json_object_get(
        json_array_get(json_object_get(v, "deposits"), 0), "recognitions");
    cr_assert_eq(json_array_size(hist), 2);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(hist, 0), "status")), "cancelled");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(hist, 1), "status")), "active");
    json_decref(v);
}

Test(rules, recognition_refused_without_open_account)
{
    uint8_t nobody[32] = {42}, dep[32];
    cr_assert_eq(deposit_r(&f.prov, nobody, "school", 3, 80, -1, "2024Q1",
                           false, dep), CB_EACCOUNT);
    deposit("school", 3, 80, -1, "2024Q1", false, dep);
    char body[] = "{\"class\":\"major\",\"credits\":3,\"term\":\"2024Q1\"}";
    struct lg_result r;
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_CREDIT_RECOGNIZE, .author = &f.bank,
                     .account = nobody, .refs = (const uint8_t(*)[32])dep,
                     .nrefs = 1, .body = body}, &r), CB_EACCOUNT);
}

Test(rules, learner_key_must_be_fresh_and_sign)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"x\"},\"fee_exempt\":false,\"learner_key\":\"%s\","
             "\"major\":\"m\",\"pii\":\"%s\"}",
             fx_hex(f.ledger), fx_hex(f.learner.pk), fx_hex(f.ledger));
    struct lg_result r;
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                              .author = &f.bank, .body = body,
                                              .signers = {&f.learner}}, &r),
                 CB_EKEYUSED);
    struct cy_key k;
    fx_key(&k, "l2");
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"x\"},\"fee_exempt\":false,\"learner_key\":\"%s\","
             "\"major\":\"m\",\"pii\":\"%s\"}",
             fx_hex(f.ledger), fx_hex(k.pk), fx_hex(f.ledger));
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                              .author = &f.bank, .body = body},
                           &r), CB_EMISSINGSIG);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                              .author = &f.uni, .body = body,
                                              .signers = {&k}}, &r),
                 CB_EAUTHOR, "university is no registrar");
}

/* ---- A2 thresholds, caps ---- */

Test(rules, kmooc_attendance_threshold)
{
    uint8_t d79[32], d80[32], dnone[32];
    deposit("mooc", 3, 90, 79, "2024Q1", false, d79);
    deposit("mooc", 3, 90, 80, "2024Q1", false, d80);
    deposit("mooc", 3, 90, -1, "2024Q1", false, dnone);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, d79, 3, "general", "2024Q1", false, &r),
                 CB_ETHRESHOLD, "%s", r.msg);
    cr_assert_eq(recognize_r(&f.bank, d80, 3, "general", "2024Q1", false, &r),
                 0, "%s", r.msg);
    cr_assert_eq(recognize_r(&f.bank, dnone, 3, "general", "2024Q1", false,
                             &r), CB_ETHRESHOLD, "missing attendance");
}

Test(rules, kmooc_grade_threshold)
{
    uint8_t d59[32], d60[32];
    deposit("mooc", 3, 59, 95, "2024Q1", false, d59);
    deposit("mooc", 3, 60, 95, "2024Q1", false, d60);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, d59, 3, "general", "2024Q1", false, &r),
                 CB_ETHRESHOLD);
    cr_assert_eq(recognize_r(&f.bank, d60, 3, "general", "2024Q1", false, &r),
                 0);
}

Test(rules, no_thresholds_for_other_sources)
{
    uint8_t d[32];
    deposit("school", 3, 10, -1, "2024Q1", false, d);
    recognize(&f.bank, d, 3, "major", "2024Q1", NULL);
}

Test(rules, credits_cannot_exceed_deposit)
{
    uint8_t d[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, d, 4, "major", "2024Q1", false, &r),
                 CB_ECREDITS);
    cr_assert_eq(recognize_r(&f.bank, d, 2, "major", "2024Q1", false, &r), 0);
}

Test(rules, university_mooc_cap_of_12)
{
    uint8_t d[5][32];
    for (int i = 0; i < 5; i++)
        deposit("mooc", 3, 90, 90, "2024Q1", false, d[i]);
    for (int i = 0; i < 4; i++)
        recognize(&f.uni, d[i], 3, "general", "2024Q1", NULL);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.uni, d[4], 1, "general", "2024Q1", false, &r),
                 CB_ECAP, "%s", r.msg);
    /* the cap is per recognizing member: the bank has none */
    cr_assert_eq(recognize_r(&f.bank, d[4], 3, "general", "2024Q1", false, &r),
                 0, "%s", r.msg);
}

Test(rules, university_mooc_not_revocable_by_learner)
{
    uint8_t d[32], rec[32];
    deposit("mooc", 3, 90, 90, "2024Q1", false, d);
    recognize(&f.uni, d, 3, "general", "2024Q1", rec);
    struct lg_result r;
    cr_assert_eq(cancel(&f.bank, rec, "learner_request", &f.learner, &r),
                 CB_EREVOCABLE, "%s", r.msg);
    cr_assert_eq(cancel(&f.bank, rec, "investigation", NULL, &r), 0, "%s",
                 r.msg);
}

Test(rules, cancellation_signatures_follow_the_reason)
{
    uint8_t d[32], rec[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    recognize(&f.bank, d, 3, "major", "2024Q1", rec);
    struct lg_result r;
    cr_assert_eq(cancel(&f.bank, rec, "error", &f.learner, &r), CB_ESIGNER);
    cr_assert_eq(cancel(&f.bank, rec, "learner_request", NULL, &r),
                 CB_EMISSINGSIG);
    cr_assert_eq(cancel(&f.bank, rec, "whim", NULL, &r), CB_EVALUE);
    cr_assert_eq(cancel(&f.prov, rec, "error", NULL, &r), CB_EAUTHOR,
                 "a provider cannot cancel");
    cr_assert_eq(cancel(&f.bank, rec, "learner_request", &f.learner, &r), 0,
                 "%s", r.msg);
    cr_assert_eq(cancel(&f.bank, rec, "error", NULL, &r), CB_EINACTIVE);
}

/* ---- A5 ---- */

static int appeal_r(const uint8_t rec[32], const char *term,
                    struct lg_result *r)
{
    char body[128];
    snprintf(body, sizeof body, "{\"reason\":\"grade misread\",\"term\":\"%s\"}",
             term);
    return with_refs(LG_T_APPEAL_FILE, &f.bank, (const uint8_t(*)[32])rec, 1,
                     body, &f.learner, r);
}

static int decide_r(const uint8_t ap[32], const char *body,
                    struct lg_result *r)
{
    return with_refs(LG_T_APPEAL_DECIDE, &f.bank, (const uint8_t(*)[32])ap, 1,
                     body, NULL, r);
}

Test(rules, appeal_windows_and_sources)
{
    uint8_t ds[32], rs[32], dm[32], rm[32];
    deposit("school", 3, 80, -1, "2024Q1", false, ds);
    recognize(&f.bank, ds, 2, "major", "2024Q1", rs);
    deposit("mooc", 3, 90, 90, "2024Q1", false, dm);
    recognize(&f.bank, dm, 3, "general", "2024Q1", rm);
    struct lg_result r;
    cr_assert_eq(appeal_r(rs, "2024Q1", &r), CB_ESAMETERM, "%s", r.msg);
    cr_assert_eq(appeal_r(rm, "2024Q2", &r), CB_EAPPEALABLE, "%s", r.msg);
    cr_assert_eq(appeal_r(rs, "2024Q2", &r), 0, "%s", r.msg);
    cr_assert_eq(appeal_r(rs, "2024Q3", &r), CB_EAPPEALOPEN, "%s", r.msg);
    cr_assert_eq(appeal_r(rs, "2024Q5", &r), CB_EVALUE, "bad term");
}

Test(rules, upheld_appeal_replaces_credits_and_class)
{
    uint8_t ds[32], rs[32], ap[32];
    deposit("school", 3, 80, -1, "2024Q1", false, ds);
    recognize(&f.bank, ds, 2, "elective", "2024Q1", rs);
    struct lg_result r;
    cr_assert_eq(appeal_r(rs, "2024Q2", &r), 0, "%s", r.msg);
    memcpy(ap, r.id, 32);
    cr_assert_eq(decide_r(ap, "{\"outcome\":\"upheld\"}", &r), CB_EVALUE);
    cr_assert_eq(decide_r(ap, "{\"credits\":3,\"outcome\":\"rejected\"}", &r),
                 CB_EVALUE);
    cr_assert_eq(decide_r(ap, "{\"class\":\"major\",\"credits\":4,"
                              "\"outcome\":\"upheld\"}", &r), CB_ECREDITS);
    cr_assert_eq(decide_r(ap, "{\"class\":\"major\",\"credits\":3,"
                              "\"outcome\":\"upheld\"}", &r), 0, "%s", r.msg);
    cr_assert_eq(r.fee, 0, "appeals are free");
    cr_assert_eq(decide_r(ap, "{\"outcome\":\"rejected\"}", &r),
                 CB_EAPPEALCLOSED);
    json_t *v = view();
    cr_assert_eq(jint(v, "active_credits.total"), 3);
    cr_assert_eq(jint(v, "active_credits.by_class.major"), 3);
    cr_assert_eq(jint(v, "active_credits.by_class.elective"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(v, "appeals"), 0),
                         "outcome")), "upheld");
    json_decref(v);
    /* a new appeal is possible once the first is closed */
    cr_assert_eq(appeal_r(rs, "2024Q3", &r), 0, "%s", r.msg);
}

Test(rules, rejected_appeal_changes_nothing)
{
    uint8_t ds[32], rs[32];
    deposit("school", 3, 80, -1, "2024Q1", false, ds);
    recognize(&f.bank, ds, 2, "elective", "2024Q1", rs);
    json_t *before = view();
    json_t *b_credits = json_deep_copy(json_object_get(before,
                                                       "active_credits"));
    json_decref(before);
    struct lg_result r;
    cr_assert_eq(appeal_r(rs, "2024Q2", &r), 0);
    uint8_t ap[32];
    memcpy(ap, r.id, 32);
    cr_assert_eq(decide_r(ap, "{\"outcome\":\"rejected\"}", &r), 0, "%s",
                 r.msg);
    json_t *after = view();
    cr_assert(json_equal(b_credits, json_object_get(after, "active_credits")));
    json_decref(after);
    json_decref(b_credits);
}

/* ---- A7 ---- */

static int class_change(const uint8_t rec[32], const char *cls,
                        struct lg_result *r)
{
    char body[64];
    snprintf(body, sizeof body, "{\"class\":\"%s\"}", cls);
    return with_refs(LG_T_CLASS_CHANGE, &f.bank, (const uint8_t(*)[32])rec, 1,
                     body, &f.learner, r);
}

Test(rules, class_change_only_compatible_between_major_and_general)
{
    uint8_t dc[32], rc[32], dn[32], rn[32], de[32], re[32];
    deposit("school", 3, 80, -1, "2024Q1", true, dc);
    recognize(&f.bank, dc, 3, "major", "2024Q1", rc);
    deposit("school", 3, 80, -1, "2024Q1", false, dn);
    recognize(&f.bank, dn, 3, "major", "2024Q1", rn);
    deposit("school", 3, 80, -1, "2024Q1", true, de);
    recognize(&f.bank, de, 3, "elective", "2024Q1", re);
    struct lg_result r;
    cr_assert_eq(class_change(rn, "general", &r), CB_ECOMPATIBLE);
    cr_assert_eq(class_change(re, "general", &r), CB_ECLASS);
    cr_assert_eq(class_change(rc, "elective", &r), CB_ECLASS);
    cr_assert_eq(class_change(rc, "major", &r), CB_ESAMECLASS);
    cr_assert_eq(class_change(rc, "general", &r), 0, "%s", r.msg);
    json_t *v = view();
    cr_assert_eq(jint(v, "active_credits.by_class.general"), 3);
    json_decref(v);
    /* the learner must sign */
    cr_assert_eq(with_refs(LG_T_CLASS_CHANGE, &f.bank,
                           (const uint8_t(*)[32])rc, 1,
                           "{\"class\":\"major\"}", NULL, &r),
                 CB_EMISSINGSIG);
}

/* ---- A3 ---- */

Test(rules, program_change_cancels_dropped_recognitions)
{
    uint8_t d1[32], r1[32], d2[32], r2[32], dm[32], rm[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d1);
    recognize(&f.bank, d1, 3, "major", "2024Q1", r1);
    deposit("school", 3, 80, -1, "2024Q1", false, d2);
    recognize(&f.bank, d2, 3, "major", "2024Q1", r2);
    deposit("mooc", 3, 90, 90, "2024Q1", false, dm);
    recognize(&f.uni, dm, 3, "general", "2024Q1", rm);
    struct lg_result r;
    const char *body = "{\"degree\":\"associate\",\"major\":\"business\"}";
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank,
                           (const uint8_t(*)[32])rm, 1, body, &f.learner, &r),
                 CB_EREVOCABLE, "%s", r.msg);
    uint8_t both[2][32];
    memcpy(both[0], r1, 32);
    memcpy(both[1], r1, 32);
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank,
                           (const uint8_t(*)[32])both, 2, body, &f.learner,
                           &r), CB_EREF, "repeated ref");
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank,
                           (const uint8_t(*)[32])r1, 1, body, NULL, &r),
                 CB_EMISSINGSIG);
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank,
                           (const uint8_t(*)[32])r1, 1, body, &f.learner, &r),
                 0, "%s", r.msg);
    json_t *v = view();
    cr_assert_str_eq(json_string_value(json_object_get(v, "degree")),
                     "associate");
    cr_assert_str_eq(json_string_value(json_object_get(v, "major")),
                     "business");
    cr_assert_eq(jint(v, "active_credits.total"), 6);
    json_decref(v);
    /* the dropped deposit can be recognised anew */
    recognize(&f.bank, d1, 3, "major", "2024Q2", NULL);
}

/* ---- awards and A4 ---- */

static void bulk(int credits, const char *cls, uint8_t rec[32])
{
    uint8_t d[32];
    deposit("school", credits, 80, -1, "2024Q1", false, d);
    recognize(&f.bank, d, credits, cls, "2024Q1", rec);
}

static int award(const char *degree, struct lg_result *r)
{
    char body[128];
    snprintf(body, sizeof body, "{\"degree\":\"%s\",\"major\":\"cs\"}",
             degree);
    return with_refs(LG_T_DEGREE_AWARD, &f.bank, NULL, 0, body, NULL, r);
}

Test(rules, degree_award_requirements)
{
    struct lg_result r;
    uint8_t a[32], b[32], c[32];
    bulk(45, "major", a);
    bulk(14, "general", b);
    cr_assert_eq(award("associate", &r), CB_EREQUIREMENTS, "%s", r.msg);
    bulk(21, "elective", c);
    cr_assert_eq(award("associate", &r), CB_EREQUIREMENTS, "general 14 < 15");
    uint8_t d[32];
    bulk(1, "general", d);
    cr_assert_eq(award("doctorate", &r), CB_EDEGREE);
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
    cr_assert_eq(award("bachelor", &r), CB_EREQUIREMENTS);
    json_t *v = view();
    cr_assert_eq(json_array_size(json_object_get(v, "awards")), 1);
    json_decref(v);
}

static int link(const uint8_t (*refs)[32], size_t n, struct lg_result *r)
{
    return with_refs(LG_T_DEGREE_LINK, &f.bank, refs, n,
                     "{\"degree\":\"bachelor\",\"major\":\"cs\"}", &f.learner,
                     r);
}

Test(rules, degree_link_free_up_to_80_then_per_credit)
{
    uint8_t recs[4][32];
    bulk(45, "major", recs[0]);
    bulk(15, "general", recs[1]);
    bulk(20, "elective", recs[2]);
    bulk(5, "major", recs[3]);
    struct lg_result r;
    cr_assert_eq(link((const uint8_t(*)[32])recs, 1, &r), CB_ENOAWARD);
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
    cr_assert_eq(link((const uint8_t(*)[32])recs, 3, &r), 0, "%s", r.msg);
    cr_assert_eq(r.fee, 0, "80 linked credits are free");
    cr_assert_eq(link((const uint8_t(*)[32])recs, 1, &r), CB_ELINKED);
    cr_assert_eq(link((const uint8_t(*)[32])&recs[3], 1, &r), 0, "%s", r.msg);
    cr_assert_eq(r.fee, 5000, "85 - 80 = 5 credits over the allowance");
    json_t *v = view();
    cr_assert_eq(jint(v, "linked_credits"), 85);
    cr_assert_eq(json_array_size(json_object_get(v, "links")), 2);
    json_decref(v);
}

/* ---- A6: account.cancel ---- */

Test(rules, account_cancel_cancels_everything_and_closes_the_account)
{
    uint8_t d[32], rec[32], dm[32], rm[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    recognize(&f.bank, d, 3, "major", "2024Q1", rec);
    deposit("mooc", 3, 90, 90, "2024Q1", false, dm);
    recognize(&f.uni, dm, 3, "general", "2024Q1", rm);
    struct lg_result r;
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.bank, NULL, 0,
                           "{\"reason\":\"learner_request\"}", NULL, &r),
                 CB_EMISSINGSIG);
    /* not learner-revocable mooc credits are cancelled too */
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.bank, NULL, 0,
                           "{\"reason\":\"learner_request\"}", &f.learner, &r),
                 0, "%s", r.msg);
    json_t *v = view();
    cr_assert_str_eq(json_string_value(json_object_get(v, "status")),
                     "cancelled");
    cr_assert_eq(jint(v, "active_credits.total"), 0);
    json_decref(v);
    uint8_t d2[32];
    cr_assert_eq(deposit_r(&f.prov, acct, "school", 3, 80, -1, "2024Q1",
                           false, d2), CB_ECLOSED);
    cr_assert_eq(cancel(&f.bank, rec, "error", NULL, &r), CB_ECLOSED);
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.bank, NULL, 0,
                           "{\"reason\":\"error\"}", NULL, &r), CB_ECLOSED);
}

/* ---- rekey, signers, roles, refs ---- */

Test(rules, rekey_moves_the_learner_signature)
{
    struct cy_key nk;
    fx_key(&nk, "learner-new");
    char body[128];
    snprintf(body, sizeof body, "{\"learner_key\":\"%s\"}", fx_hex(nk.pk));
    struct lg_result r;
    cr_assert_eq(with_refs(LG_T_ACCOUNT_REKEY, &f.bank, NULL, 0, body, NULL,
                           &r), CB_EMISSINGSIG);
    cr_assert_eq(with_refs(LG_T_ACCOUNT_REKEY, &f.bank, NULL, 0, body, &nk,
                           &r), 0, "%s", r.msg);
    const char *pc = "{\"degree\":\"bachelor\",\"major\":\"physics\"}";
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank, NULL, 0, pc,
                           &f.learner, &r), CB_EMISSINGSIG, "old key");
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank, NULL, 0, pc, &nk, &r),
                 0, "%s", r.msg);
    /* the old key is spent forever */
    snprintf(body, sizeof body, "{\"learner_key\":\"%s\"}",
             fx_hex(f.learner.pk));
    cr_assert_eq(with_refs(LG_T_ACCOUNT_REKEY, &f.bank, NULL, 0, body,
                           &f.learner, &r), CB_EKEYUSED);
}

Test(rules, extra_signers_and_wrong_roles_refused)
{
    uint8_t d[32];
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"X\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"X\"}", fx_hex(f.ledger));
    struct lg_result r;
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_OUTCOME_DEPOSIT, .author = &f.prov,
                     .account = acct, .body = body, .signers = {&f.learner}},
                     &r), CB_ESIGNER);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_OUTCOME_DEPOSIT, .author = &f.bank,
                     .account = acct, .body = body}, &r), CB_EAUTHOR,
                 "bank is no provider");
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_OUTCOME_DEPOSIT, .author = &f.prov_node,
                     .account = acct, .body = body}, &r), CB_EAUTHOR,
                 "node keys do not author deposits");
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    cr_assert_eq(recognize_r(&f.prov, d, 3, "major", "2024Q1", false, &r),
                 CB_EAUTHOR);
    cr_assert_eq(recognize_r(&f.bank, d, 3, "major", "2024Q1", true, &r), 0,
                 "the learner may co-sign a recognition");
}

Test(rules, refs_must_be_of_this_account)
{
    struct cy_key k;
    fx_key(&k, "other-learner");
    uint8_t other[32], mine[32], d[32];
    memcpy(mine, acct, 32);
    fx_open_account(&f, &k, false, other);
    memcpy(acct, other, 32);
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    memcpy(acct, mine, 32);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, d, 3, "major", "2024Q1", false, &r),
                 CB_EREF, "%s", r.msg);
    /* a ref of the right account but the wrong kind */
    uint8_t d2[32], rec[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d2);
    recognize(&f.bank, d2, 3, "major", "2024Q1", rec);
    cr_assert_eq(recognize_r(&f.bank, rec, 3, "major", "2024Q1", false, &r),
                 CB_EREF);
    cr_assert_eq(cancel(&f.bank, d2, "error", NULL, &r), CB_EREF);
}

Test(rules, bad_body_values_refused)
{
    uint8_t d[32];
    cr_assert_eq(deposit_r(&f.prov, acct, "school", 0, 80, -1, "2024Q1",
                           false, d), CB_EVALUE, "credits 0");
    cr_assert_eq(deposit_r(&f.prov, acct, "school", 3, 101, -1, "2024Q1",
                           false, d), CB_EVALUE, "grade 101");
    cr_assert_eq(deposit_r(&f.prov, acct, "school", 3, 80, 101, "2024Q1",
                           false, d), CB_EVALUE, "attendance 101");
    cr_assert_eq(deposit_r(&f.prov, acct, "moon", 3, 80, -1, "2024Q1", false,
                           d), CB_EVALUE, "unknown source");
    cr_assert_eq(deposit_r(&f.prov, acct, "school", 3, 80, -1, "2024Q0",
                           false, d), CB_EVALUE, "term");
    struct lg_result r;
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_OUTCOME_DEPOSIT, .author = &f.prov,
                     .account = acct, .body = "{\"credits\":3}"}, &r),
                 CB_EMISSINGKEY, "%s", r.msg);
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    cr_assert_eq(recognize_r(&f.bank, d, 3, "core", "2024Q1", false, &r),
                 CB_EVALUE);
}

/* ---- a whole journey, A1 to A7, checked field by field ---- */

Test(rules, full_learner_journey)
{
    uint8_t kmooc79[32], kmooc[32], s1[32], s2[32], s3[32], s4[32], uni1[32];
    uint8_t r_kmooc[32], r1[32], r2[32], r3[32], r4[32], r_uni[32];
    struct lg_result r;
    /* deposits */
    deposit("mooc", 3, 90, 79, "2024Q1", false, kmooc79);
    deposit("mooc", 3, 90, 85, "2024Q1", true, kmooc);
    deposit("school", 45, 85, -1, "2024Q1", false, s1);
    deposit("school", 20, 85, -1, "2024Q1", true, s2);
    deposit("part_time", 15, 85, -1, "2024Q2", false, s3);
    deposit("school", 2, 85, -1, "2024Q2", false, s4);
    cr_assert_eq(deposit_r(&f.uni, acct, "mooc", 6, 95, 95, "2024Q2", false,
                           uni1), 0);
    /* A2 */
    cr_assert_eq(recognize_r(&f.bank, kmooc79, 3, "general", "2024Q1", false,
                             &r), CB_ETHRESHOLD);
    recognize(&f.bank, kmooc, 3, "general", "2024Q1", r_kmooc);
    recognize(&f.bank, s1, 45, "major", "2024Q1", r1);
    recognize(&f.bank, s2, 20, "major", "2024Q1", r2);
    recognize(&f.bank, s3, 10, "elective", "2024Q2", r3);
    recognize(&f.bank, s4, 2, "elective", "2024Q2", r4);
    recognize(&f.uni, uni1, 6, "general", "2024Q2", r_uni);
    /* A3: change major, dropping the small school course */
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank,
                           (const uint8_t(*)[32])r4, 1,
                           "{\"degree\":\"associate\",\"major\":\"software\"}",
                           &f.learner, &r), 0, "%s", r.msg);
    /* A5: appeal the part-time recognition, upheld with 15 general */
    cr_assert_eq(appeal_r(r3, "2024Q3", &r), 0, "%s", r.msg);
    uint8_t ap[32];
    memcpy(ap, r.id, 32);
    cr_assert_eq(decide_r(ap, "{\"class\":\"general\",\"credits\":15,"
                              "\"outcome\":\"upheld\"}", &r), 0, "%s", r.msg);
    /* A6: the registrar cancels the university MOOC after investigation */
    cr_assert_eq(cancel(&f.bank, r_uni, "investigation", NULL, &r), 0);
    /* A7: the compatible school course moves from major to general */
    cr_assert_eq(class_change(r2, "general", &r), 0, "%s", r.msg);
    /* degree: major 45, general 3 + 20 + 15 = 38, total 83 */
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
    /* A4: link everything active */
    uint8_t all[4][32];
    memcpy(all[0], r_kmooc, 32);
    memcpy(all[1], r1, 32);
    memcpy(all[2], r2, 32);
    memcpy(all[3], r3, 32);
    cr_assert_eq(link((const uint8_t(*)[32])all, 4, &r), 0, "%s", r.msg);
    cr_assert_eq(r.fee, 3000, "83 linked, 80 free");

    json_t *v = view();
    cr_assert_str_eq(json_string_value(json_object_get(v, "status")), "open");
    cr_assert_str_eq(json_string_value(json_object_get(v, "degree")),
                     "associate");
    cr_assert_str_eq(json_string_value(json_object_get(v, "major")),
                     "software");
    cr_assert_eq(json_array_size(json_object_get(v, "deposits")), 7);
    cr_assert_eq(jint(v, "active_credits.total"), 83);
    cr_assert_eq(jint(v, "active_credits.by_class.major"), 45);
    cr_assert_eq(jint(v, "active_credits.by_class.general"), 38);
    cr_assert_eq(jint(v, "active_credits.by_class.elective"), 0);
    cr_assert_eq(jint(v, "active_credits.by_source.school"), 65);
    cr_assert_eq(jint(v, "active_credits.by_source.mooc"), 3);
    cr_assert_eq(jint(v, "active_credits.by_source.part_time"), 15);
    /* fees: 4000 open + (3+45+20+10+2+6) x 1000 recognitions + 3000 link */
    cr_assert_eq(jint(v, "fees.total"), 4000 + 86000 + 3000);
    cr_assert_eq(json_array_size(json_object_get(v, "appeals")), 1);
    cr_assert_eq(json_array_size(json_object_get(v, "awards")), 1);
    cr_assert_eq(json_array_size(json_object_get(v, "links")), 1);
    cr_assert_eq(jint(v, "linked_credits"), 83);
    /* 1 open + 7 deposits + 6 recognitions + A3 + A5 x2 + A6 + A7 + award
     * + link = 21 entries (the refused one is not) */
    cr_assert_eq(jint(v, "count"), 21);
    cr_assert_eq(json_array_size(json_object_get(json_object_get(v, "fees"),
                                                 "entries")), 21);
    json_decref(v);
}
