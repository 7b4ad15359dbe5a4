/* Account rules A1-A7 (DESIGN 1, 4, 4.1): every rule has a test that fails
 * when the rule is removed. Demo consortium from fixture.h: "bank"
 * (registrar, recognizer), "university" (recognizer, provider; mooc cap 12,
 * not learner-revocable), "provider". */
#include <stdarg.h>

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
    /* grade 10, no attendance: the MOOC thresholds do not apply to school */
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, d, 3, "major", "2024Q1", false, &r), 0,
                 "%s", r.msg);
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

Test(rules, the_cap_counts_this_members_active_credits_of_this_source)
{
    struct lg_result r;
    uint8_t d[32], rec[32];
    /* the bank's MOOC credits do not count toward the university's cap */
    deposit("mooc", 6, 90, 90, "2024Q1", false, d);
    recognize(&f.bank, d, 6, "general", "2024Q1", NULL);
    /* nor do the university's school credits */
    deposit("school", 6, 90, -1, "2024Q1", false, d);
    recognize(&f.uni, d, 6, "major", "2024Q1", NULL);
    /* the university: 9 + 3 = 12 MOOC credits */
    deposit("mooc", 9, 90, 90, "2024Q1", false, d);
    recognize(&f.uni, d, 9, "general", "2024Q1", rec);
    deposit("mooc", 3, 90, 90, "2024Q1", false, d);
    cr_assert_eq(recognize_r(&f.uni, d, 3, "general", "2024Q1", false, &r),
                 0, "12 is within the cap: %s", r.msg);
    uint8_t d2[32];
    deposit("mooc", 3, 90, 90, "2024Q1", false, d2);
    cr_assert_eq(recognize_r(&f.uni, d2, 1, "general", "2024Q1", false, &r),
                 CB_ECAP);
    /* a cancelled recognition no longer counts */
    cr_assert_eq(cancel(&f.bank, rec, "investigation", NULL, &r), 0, "%s",
                 r.msg);
    cr_assert_eq(recognize_r(&f.uni, d2, 3, "general", "2024Q1", false, &r),
                 0, "3 + 3 = 6: %s", r.msg);
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

/* ---- more of every rule: each test fails if its rule is removed ---- */

static const char *open_body(const struct cy_key *k, const char *degree,
                             const char *major, const char *level)
{
    static char body[600];
    snprintf(body, sizeof body,
             "{\"degree\":\"%s\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"%s\"},\"fee_exempt\":false,\"learner_key\":\"%s\","
             "\"major\":\"%s\",\"pii\":\"%s\"}",
             degree, fx_hex(f.ledger), level, fx_hex(k->pk), major,
             fx_hex(f.ledger));
    return body;
}

static int open_r(const struct cy_key *k, const char *body,
                  const uint8_t (*refs)[32], size_t nrefs,
                  struct lg_result *r)
{
    return fx_submit(&f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN,
                                        .author = &f.bank, .body = body,
                                        .refs = refs, .nrefs = nrefs,
                                        .signers = {k}},
                     r);
}

Test(rules, names_must_not_be_empty)
{
    struct cy_key k;
    fx_key(&k, "names");
    struct lg_result r;
    cr_assert_eq(open_r(&k, open_body(&k, "", "m", "x"), NULL, 0, &r),
                 CB_EVALUE, "empty degree");
    cr_assert_eq(open_r(&k, open_body(&k, "d", "", "x"), NULL, 0, &r),
                 CB_EVALUE, "empty major");
    cr_assert_eq(open_r(&k, open_body(&k, "d", "m", ""), NULL, 0, &r),
                 CB_EVALUE, "empty education.level");
    /* a degree with a NUL inside (JSON cannot say it: raw msgpack) */
    struct lg_w w;
    lg_w_init(&w);
    lg_w_map(&w, 6);
    lg_w_cstr(&w, "degree");
    lg_w_str(&w, "d\0x", 3);
    lg_w_cstr(&w, "education");
    lg_w_map(&w, 2);
    lg_w_cstr(&w, "evidence");
    lg_w_bin(&w, f.ledger, 32);
    lg_w_cstr(&w, "level");
    lg_w_cstr(&w, "x");
    lg_w_cstr(&w, "fee_exempt");
    lg_w_bool(&w, false);
    lg_w_cstr(&w, "learner_key");
    lg_w_bin(&w, k.pk, 32);
    lg_w_cstr(&w, "major");
    lg_w_cstr(&w, "m");
    lg_w_cstr(&w, "pii");
    lg_w_bin(&w, f.ledger, 32);
    cr_assert_eq(lg_w_error(&w), 0);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_ACCOUNT_OPEN, .author = &f.bank,
                     .body_raw = lg_w_data(&w), .body_raw_len = lg_w_len(&w),
                     .signers = {&k}}, &r), CB_EVALUE, "NUL in a name: %s",
                 r.msg);
    lg_w_release(&w);
    cr_assert_eq(open_r(&k, open_body(&k, "d", "m", "x"), NULL, 0, &r), 0,
                 "%s", r.msg);
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"%s\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"%s\"}", "", fx_hex(f.ledger), "T");
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT,
                                              .author = &f.prov,
                                              .account = acct, .body = body},
                           &r), CB_EVALUE, "empty course");
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"%s\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"%s\"}", "C", fx_hex(f.ledger), "");
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT,
                                              .author = &f.prov,
                                              .account = acct, .body = body},
                           &r), CB_EVALUE, "empty title");
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank, NULL, 0,
                           "{\"degree\":\"\",\"major\":\"m\"}", &f.learner,
                           &r), CB_EVALUE);
    cr_assert_eq(with_refs(LG_T_DEGREE_AWARD, &f.bank, NULL, 0,
                           "{\"degree\":\"associate\",\"major\":\"\"}", NULL,
                           &r), CB_EVALUE);
    uint8_t d[32], rec[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    recognize(&f.bank, d, 3, "major", "2024Q1", rec);
    cr_assert_eq(with_refs(LG_T_APPEAL_FILE, &f.bank,
                           (const uint8_t(*)[32])rec, 1,
                           "{\"reason\":\"\",\"term\":\"2024Q2\"}", &f.learner,
                           &r), CB_EVALUE, "empty reason");
}

Test(rules, refs_exactly_as_the_table_names)
{
    struct lg_result r;
    uint8_t d[32], rec[32], two[2][32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    struct cy_key k;
    fx_key(&k, "refs-open");
    cr_assert_eq(open_r(&k, open_body(&k, "d", "m", "x"),
                        (const uint8_t(*)[32])d, 1, &r), CB_EREF,
                 "account.open takes no refs");
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"C\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"T\"}", fx_hex(f.ledger));
    cr_assert_eq(with_refs(LG_T_OUTCOME_DEPOSIT, &f.prov,
                           (const uint8_t(*)[32])d, 1, body, NULL, &r),
                 CB_EREF, "deposit takes no refs");
    const char *rb = "{\"class\":\"major\",\"credits\":3,\"term\":\"2024Q1\"}";
    cr_assert_eq(with_refs(LG_T_CREDIT_RECOGNIZE, &f.bank, NULL, 0, rb, NULL,
                           &r), CB_EREF, "recognition needs its deposit");
    uint8_t d2[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d2);
    memcpy(two[0], d, 32);
    memcpy(two[1], d2, 32);
    cr_assert_eq(with_refs(LG_T_CREDIT_RECOGNIZE, &f.bank,
                           (const uint8_t(*)[32])two, 2, rb, NULL, &r),
                 CB_EREF, "one deposit per recognition");
    recognize(&f.bank, d, 3, "major", "2024Q1", rec);
    cr_assert_eq(with_refs(LG_T_DEGREE_AWARD, &f.bank,
                           (const uint8_t(*)[32])rec, 1,
                           "{\"degree\":\"associate\",\"major\":\"m\"}", NULL,
                           &r), CB_EREF, "award takes no refs");
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.bank,
                           (const uint8_t(*)[32])rec, 1,
                           "{\"reason\":\"error\"}", NULL, &r),
                 CB_EREF, "account.cancel takes no refs");
    cr_assert_eq(with_refs(LG_T_CREDIT_CANCEL, &f.bank, NULL, 0,
                           "{\"reason\":\"error\"}", NULL, &r),
                 CB_EREF, "credit.cancel names its recognition");
    /* an appeal.decide ref must be an appeal, not a recognition */
    cr_assert_eq(decide_r(rec, "{\"outcome\":\"rejected\"}", &r), CB_EREF);
    /* a class.change ref must be a recognition, not a deposit */
    cr_assert_eq(class_change(d, "general", &r), CB_EREF);
}

Test(rules, thresholds_and_fees_follow_the_authors_policy)
{
    struct lg_result r;
    /* the bank asks more of school outcomes than the consortium */
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.bank,
                     .body = "{\"policy\":{\"sources\":{\"school\":"
                             "{\"min_grade\":70}}},\"scope\":\"bank\"}"},
                     &r), 0, "%s", r.msg);
    /* the university charges 500 per credit */
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{\"fees\":{\"per_credit\":500},"
                             "\"sources\":{\"mooc\":{\"learner_revocable\":"
                             "false,\"max_credits\":12}}},"
                             "\"scope\":\"university\"}"},
                     &r), 0, "%s", r.msg);
    uint8_t d[32];
    deposit("school", 3, 65, -1, "2024Q1", false, d);
    cr_assert_eq(recognize_r(&f.bank, d, 3, "major", "2024Q1", false, &r),
                 CB_ETHRESHOLD, "bank: grade 65 < 70");
    cr_assert_eq(recognize_r(&f.uni, d, 3, "major", "2024Q1", false, &r), 0,
                 "university: no school threshold: %s", r.msg);
    cr_assert_eq(r.fee, 1500, "the university's per_credit");
    uint8_t d2[32];
    deposit("school", 2, 90, -1, "2024Q1", false, d2);
    cr_assert_eq(recognize_r(&f.bank, d2, 2, "major", "2024Q1", false, &r), 0);
    cr_assert_eq(r.fee, 2000, "the bank's (consortium's) per_credit");
}

Test(rules, recognition_credits_and_class_values)
{
    uint8_t d[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    struct lg_result r;
    cr_assert_eq(recognize_r(&f.bank, d, 0, "major", "2024Q1", false, &r),
                 CB_EVALUE, "credits 0");
    cr_assert_eq(recognize_r(&f.bank, d, 3, "major", "2024Q9", false, &r),
                 CB_EVALUE, "term");
    cr_assert_eq(recognize_r(&f.bank, d, 3, "elective", "2024Q1", false, &r),
                 0, "%s", r.msg);
}

/* A deposit of `credits` and a recognition of all of them by the bank. */
static int recognize_all(const char *credits, struct lg_result *r)
{
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"BIG\",\"credits\":%s,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"T\"}", credits,
             fx_hex(f.ledger));
    int rv = with_refs(LG_T_OUTCOME_DEPOSIT, &f.prov, NULL, 0, body, NULL, r);
    cr_assert_eq(rv, 0, "%s", r->msg);
    uint8_t d[32];
    memcpy(d, r->id, 32);
    snprintf(body, sizeof body,
             "{\"class\":\"major\",\"credits\":%s,\"term\":\"2024Q1\"}",
             credits);
    return with_refs(LG_T_CREDIT_RECOGNIZE, &f.bank,
                     (const uint8_t(*)[32])d, 1, body, NULL, r);
}

Test(rules, huge_credits_cannot_overflow_fees)
{
    struct lg_result r;
    /* 1000 x 18446744073709552 = 2^64 + 384: the fee does not fit */
    cr_assert_eq(recognize_all("18446744073709552", &r), CB_EVALUE,
                 "fee overflow: %s", r.msg);
    /* 1000 x 18446744073709551 fits, but not with the 4000 already due */
    cr_assert_eq(recognize_all("18446744073709551", &r), CB_EVALUE,
                 "fee total overflow: %s", r.msg);
    cr_assert_eq(recognize_all("9223372036854775807", &r), CB_EVALUE);
    json_t *v = view();
    cr_assert_eq(jint(v, "fees.total"), 4000);
    json_decref(v);
    /* a fee-exempt learner is charged nothing, so nothing overflows */
    struct cy_key k;
    fx_key(&k, "exempt-big");
    uint8_t other[32];
    fx_open_account(&f, &k, true, other);
    memcpy(acct, other, 32);
    cr_assert_eq(recognize_all("9223372036854775807", &r), 0, "%s", r.msg);
    cr_assert_eq(r.fee, 0);
    v = view();
    cr_assert_eq(jint(v, "active_credits.total"), INT64_MAX);
    json_decref(v);
}

/* The university makes MOOC appealable (keeping its cap of 12). */
static void uni_mooc_appealable(void)
{
    fx_ok(&f, &(struct fx_e){
              .type = LG_T_POLICY_SET, .author = &f.uni,
              .body = "{\"policy\":{\"sources\":{\"mooc\":{\"appealable\":"
                      "true,\"learner_revocable\":false,\"max_credits\":12}}},"
                      "\"scope\":\"university\"}"}, NULL);
}

Test(rules, upheld_appeal_keeps_the_recognizers_cap)
{
    uni_mooc_appealable();
    uint8_t d[4][32], rec[4][32], ap[32];
    for (int i = 0; i < 4; i++) {
        deposit("mooc", 4, 90, 90, "2024Q1", false, d[i]);
        recognize(&f.uni, d[i], 3, "general", "2024Q1", rec[i]);
    }
    struct lg_result r;
    cr_assert_eq(appeal_r(rec[0], "2024Q2", &r), 0, "%s", r.msg);
    memcpy(ap, r.id, 32);
    cr_assert_eq(decide_r(ap, "{\"class\":\"general\",\"credits\":4,"
                              "\"outcome\":\"upheld\"}", &r), CB_ECAP,
                 "12 - 3 + 4 = 13 > 12: %s", r.msg);
    cr_assert_eq(decide_r(ap, "{\"outcome\":\"maybe\"}", &r), CB_EVALUE);
    cr_assert_eq(decide_r(ap, "{\"class\":\"core\",\"credits\":3,"
                              "\"outcome\":\"upheld\"}", &r), CB_EVALUE);
    cr_assert_eq(decide_r(ap, "{\"class\":\"major\",\"credits\":0,"
                              "\"outcome\":\"upheld\"}", &r), CB_EVALUE);
    cr_assert_eq(decide_r(ap, "{\"class\":\"major\",\"credits\":3,"
                              "\"outcome\":\"upheld\"}", &r), 0,
                 "the recognition's own credits are replaced, not added: %s",
                 r.msg);
    /* the bank's policy has mooc not appealable: the recognizer's counts */
    uint8_t db[32], rb[32];
    deposit("mooc", 3, 90, 90, "2024Q1", false, db);
    recognize(&f.bank, db, 3, "general", "2024Q1", rb);
    cr_assert_eq(appeal_r(rb, "2024Q2", &r), CB_EAPPEALABLE);
}

Test(rules, appeals_need_an_active_recognition_and_their_signers)
{
    uint8_t ds[32], rs[32], ap[32];
    deposit("school", 3, 80, -1, "2024Q1", false, ds);
    recognize(&f.bank, ds, 2, "major", "2024Q1", rs);
    struct lg_result r;
    cr_assert_eq(with_refs(LG_T_APPEAL_FILE, &f.bank,
                           (const uint8_t(*)[32])rs, 1,
                           "{\"reason\":\"r\",\"term\":\"2024Q2\"}", NULL, &r),
                 CB_EMISSINGSIG, "the learner files the appeal");
    cr_assert_eq(with_refs(LG_T_APPEAL_FILE, &f.uni,
                           (const uint8_t(*)[32])rs, 1,
                           "{\"reason\":\"r\",\"term\":\"2024Q2\"}",
                           &f.learner, &r), CB_EAUTHOR, "not a registrar");
    cr_assert_eq(appeal_r(rs, "2024Q2", &r), 0, "%s", r.msg);
    memcpy(ap, r.id, 32);
    cr_assert_eq(with_refs(LG_T_APPEAL_DECIDE, &f.bank,
                           (const uint8_t(*)[32])ap, 1,
                           "{\"outcome\":\"rejected\"}", &f.learner, &r),
                 CB_ESIGNER, "the learner does not sign the decision");
    cr_assert_eq(with_refs(LG_T_APPEAL_DECIDE, &f.uni,
                           (const uint8_t(*)[32])ap, 1,
                           "{\"outcome\":\"rejected\"}", NULL, &r),
                 CB_EAUTHOR, "only a registrar decides");
    /* the recognition is cancelled while the appeal is open */
    cr_assert_eq(cancel(&f.bank, rs, "error", NULL, &r), 0, "%s", r.msg);
    cr_assert_eq(decide_r(ap, "{\"outcome\":\"rejected\"}", &r),
                 CB_EINACTIVE);
    cr_assert_eq(appeal_r(rs, "2024Q3", &r), CB_EINACTIVE);
    /* the appeal stays open in the view (spec: left as it is) */
    json_t *v = view();
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(v, "appeals"), 0),
                         "outcome")), "open");
    json_decref(v);
}

Test(rules, program_change_and_link_need_active_recognitions)
{
    uint8_t d[32], rec[32], big[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    recognize(&f.bank, d, 3, "major", "2024Q1", rec);
    struct lg_result r;
    cr_assert_eq(cancel(&f.bank, rec, "error", NULL, &r), 0);
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.bank,
                           (const uint8_t(*)[32])rec, 1,
                           "{\"degree\":\"associate\",\"major\":\"m\"}",
                           &f.learner, &r), CB_EINACTIVE);
    cr_assert_eq(with_refs(LG_T_PROGRAM_CHANGE, &f.uni, NULL, 0,
                           "{\"degree\":\"associate\",\"major\":\"m\"}",
                           &f.learner, &r), CB_EAUTHOR);
    bulk(45, "major", big);
    bulk(15, "general", big);
    bulk(20, "elective", big);
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
    cr_assert_eq(link((const uint8_t(*)[32])rec, 1, &r), CB_EINACTIVE);
    cr_assert_eq(with_refs(LG_T_DEGREE_LINK, &f.bank,
                           (const uint8_t(*)[32])big, 1,
                           "{\"degree\":\"bachelor\",\"major\":\"cs\"}", NULL,
                           &r), CB_EMISSINGSIG, "the learner applies");
    cr_assert_eq(link(NULL, 0, &r), 0, "a link of nothing: %s", r.msg);
    cr_assert_eq(r.fee, 0);
    /* class.change on a cancelled recognition */
    cr_assert_eq(class_change(rec, "general", &r), CB_EINACTIVE);
}

Test(rules, degree_award_total_alone_and_role)
{
    struct lg_result r;
    uint8_t x[32];
    bulk(45, "major", x);
    bulk(15, "general", x);
    bulk(19, "elective", x);
    cr_assert_eq(award("associate", &r), CB_EREQUIREMENTS,
                 "total 79 < 80 (major 45 and general 15 met)");
    bulk(1, "elective", x);
    cr_assert_eq(with_refs(LG_T_DEGREE_AWARD, &f.uni, NULL, 0,
                           "{\"degree\":\"associate\",\"major\":\"cs\"}", NULL,
                           &r), CB_EAUTHOR, "only a registrar awards");
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
}

Test(rules, degree_award_checks_each_figure_of_the_authors_policy)
{
    struct lg_result r;
    uint8_t x[32];
    bulk(44, "major", x);
    bulk(15, "general", x);
    bulk(21, "elective", x);
    cr_assert_eq(award("associate", &r), CB_EREQUIREMENTS,
                 "major 44 < 45 (total 80 and general 15 met)");
    /* the bank's own policy adds a diploma and eases the associate */
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.bank,
                     .body = "{\"policy\":{\"degrees\":{"
                             "\"associate\":{\"general\":15,\"major\":44,"
                             "\"total\":80},"
                             "\"diploma\":{\"general\":0,\"major\":0,"
                             "\"total\":10}}},\"scope\":\"bank\"}"},
                     &r), 0, "%s", r.msg);
    cr_assert_eq(with_refs(LG_T_DEGREE_AWARD, &f.bank, NULL, 0,
                           "{\"degree\":\"diploma\",\"major\":\"cs\"}",
                           &f.learner, &r), CB_ESIGNER,
                 "no learner signature on an award");
    cr_assert_eq(award("diploma", &r), 0, "%s", r.msg);
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
    cr_assert_eq(award("bachelor", &r), CB_EREQUIREMENTS,
                 "total 80 < 140");
    json_t *v = view();
    cr_assert_eq(json_array_size(json_object_get(v, "awards")), 2);
    json_decref(v);
}

Test(rules, degree_link_fees_for_exempt_learners_and_past_the_allowance)
{
    struct cy_key k;
    fx_key(&k, "exempt-linker");
    uint8_t other[32], recs[2][32];
    fx_open_account(&f, &k, true, other);
    memcpy(acct, other, 32);
    bulk(45, "major", recs[0]);
    bulk(15, "general", recs[0]);
    bulk(50, "elective", recs[1]);
    struct lg_result r;
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
    cr_assert_eq(with_refs(LG_T_DEGREE_LINK, &f.bank,
                           (const uint8_t(*)[32])recs, 2,
                           "{\"degree\":\"bachelor\",\"major\":\"cs\"}", &k,
                           &r), 0, "%s", r.msg);
    cr_assert_eq(r.fee, 0, "65 over the allowance, but fee exempt");
    json_t *v = view();
    cr_assert_eq(jint(v, "linked_credits"), 65);
    cr_assert_eq(jint(v, "fees.total"), 0);
    json_decref(v);
}

Test(rules, account_cancel_signers_and_open_appeals)
{
    uint8_t ds[32], rs[32];
    deposit("school", 3, 80, -1, "2024Q1", false, ds);
    recognize(&f.bank, ds, 2, "major", "2024Q1", rs);
    struct lg_result r;
    cr_assert_eq(appeal_r(rs, "2024Q2", &r), 0, "%s", r.msg);
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.bank, NULL, 0,
                           "{\"reason\":\"investigation\"}", &f.learner, &r),
                 CB_ESIGNER, "the learner signs only a learner_request");
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.uni, NULL, 0,
                           "{\"reason\":\"investigation\"}", NULL, &r),
                 CB_EAUTHOR, "a recognizer cannot cancel an account");
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.bank, NULL, 0,
                           "{\"reason\":\"bored\"}", NULL, &r), CB_EVALUE);
    cr_assert_eq(with_refs(LG_T_ACCOUNT_CANCEL, &f.bank, NULL, 0,
                           "{\"reason\":\"investigation\"}", NULL, &r), 0,
                 "%s", r.msg);
    json_t *v = view();
    cr_assert_str_eq(json_string_value(json_object_get(v, "status")),
                     "cancelled");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(v, "appeals"), 0),
                         "outcome")), "open", "appeals are left as they are");
    json_decref(v);
    /* every later entry for the account is refused */
    struct cy_key nk;
    fx_key(&nk, "after-cancel");
    char body[128];
    snprintf(body, sizeof body, "{\"learner_key\":\"%s\"}", fx_hex(nk.pk));
    cr_assert_eq(with_refs(LG_T_ACCOUNT_REKEY, &f.bank, NULL, 0, body, &nk,
                           &r), CB_ECLOSED);
    cr_assert_eq(award("associate", &r), CB_ECLOSED);
    cr_assert_eq(class_change(rs, "general", &r), CB_ECLOSED);
}

Test(rules, a_recognizer_may_cancel_credits)
{
    uint8_t d[32], rec[32];
    deposit("school", 3, 80, -1, "2024Q1", false, d);
    recognize(&f.bank, d, 3, "major", "2024Q1", rec);
    struct lg_result r;
    cr_assert_eq(cancel(&f.uni, rec, "error", NULL, &r), 0,
                 "registrar or recognizer: %s", r.msg);
    json_t *v = view();
    cr_assert_eq(jint(v, "active_credits.total"), 0);
    json_decref(v);
}

Test(rules, rekey_needs_a_registrar_and_a_fresh_key)
{
    struct cy_key nk;
    fx_key(&nk, "rekey-new");
    char body[128];
    snprintf(body, sizeof body, "{\"learner_key\":\"%s\"}", fx_hex(nk.pk));
    struct lg_result r;
    cr_assert_eq(with_refs(LG_T_ACCOUNT_REKEY, &f.uni, NULL, 0, body, &nk,
                           &r), CB_EAUTHOR);
    snprintf(body, sizeof body, "{\"learner_key\":\"%s\"}", fx_hex(f.prov.pk));
    cr_assert_eq(with_refs(LG_T_ACCOUNT_REKEY, &f.bank, NULL, 0, body,
                           &f.prov, &r), CB_EKEYUSED, "an issuer key");
    snprintf(body, sizeof body, "{\"learner_key\":\"%s\"}", fx_hex(nk.pk));
    cr_assert_eq(with_refs(LG_T_ACCOUNT_REKEY, &f.bank, NULL, 0, body, &nk,
                           &r), 0, "%s", r.msg);
    json_t *v = view();
    char hex[65];
    cy_hex(hex, nk.pk, 32);
    cr_assert_str_eq(json_string_value(json_object_get(v, "learner_key")),
                     hex);
    json_decref(v);
    /* the old key cannot open another account either */
    struct lg_result r2;
    cr_assert_eq(open_r(&f.learner, open_body(&f.learner, "d", "m", "x"),
                        NULL, 0, &r2), CB_EKEYUSED);
}

Test(rules, class_change_values)
{
    uint8_t dc[32], rc[32];
    deposit("school", 3, 80, -1, "2024Q1", true, dc);
    recognize(&f.bank, dc, 3, "major", "2024Q1", rc);
    struct lg_result r;
    cr_assert_eq(class_change(rc, "core", &r), CB_EVALUE);
    cr_assert_eq(with_refs(LG_T_CLASS_CHANGE, &f.uni,
                           (const uint8_t(*)[32])rc, 1,
                           "{\"class\":\"general\"}", &f.learner, &r),
                 CB_EAUTHOR);
    cr_assert_eq(class_change(rc, "general", &r), 0, "%s", r.msg);
    cr_assert_eq(class_change(rc, "major", &r), 0, "and back: %s", r.msg);
}

/* ---- a whole journey, A1 to A7, checked field by field ---- */

/* The value at a dotted path; numeric parts index arrays. */
static json_t *at(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok && v;
         tok = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10))
                             : json_object_get(v, tok);
    cr_assert_not_null(v, "view has no %s", path);
    return v;
}

static json_int_t num_at(json_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_int_t num_at(json_t *v, const char *fmt, ...)
{
    char path[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *x = at(v, path);
    cr_assert(json_is_integer(x), "%s is not an integer", path);
    return json_integer_value(x);
}

static const char *str_at(json_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *str_at(json_t *v, const char *fmt, ...)
{
    char path[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *x = at(v, path);
    cr_assert(json_is_string(x), "%s is not a string", path);
    return json_string_value(x);
}

static void hex_at(json_t *v, const char *path, const uint8_t b[32])
{
    char hex[65];
    cy_hex(hex, b, 32);
    cr_assert_str_eq(str_at(v, "%s", path), hex, "%s", path);
}

/* SHA-256 chain over the account's leaves, recomputed from the log. */
struct chain {
    uint8_t chain[32];
    uint64_t n;
};

static int chain_step(void *ctx, uint64_t index, uint64_t fee)
{
    (void)fee;
    struct chain *c = ctx;
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn),
                 0);
    const uint8_t *leaf;
    size_t n;
    cr_assert_eq(lg_log_get(lg_ledger_log(f.l), txn, index, &leaf, &n), 0);
    uint8_t *buf = malloc(n + 1), two[64];
    buf[0] = 0x00;
    memcpy(buf + 1, leaf, n);
    memcpy(two, c->chain, 32);
    cy_sha256(two + 32, buf, n + 1);
    free(buf);
    mdb_txn_abort(txn);
    cy_sha256(c->chain, two, 64);
    c->n++;
    return 0;
}

/* One recognition of the view, as expected. */
static void recog_is(json_t *v, int dep, int k, const uint8_t id[32],
                     const char *who, int credits, const char *cls,
                     const char *term, const char *status, bool linked,
                     int64_t cancelled_at)
{
    char p[96];
    snprintf(p, sizeof p, "deposits.%d.recognitions.%d.id", dep, k);
    hex_at(v, p, id);
    cr_assert_str_eq(str_at(v, "deposits.%d.recognitions.%d.recognizer", dep,
                            k), who);
    cr_assert_eq(num_at(v, "deposits.%d.recognitions.%d.credits", dep, k),
                 credits, "deposit %d recognition %d credits", dep, k);
    cr_assert_str_eq(str_at(v, "deposits.%d.recognitions.%d.class", dep, k),
                     cls, "deposit %d recognition %d class", dep, k);
    cr_assert_str_eq(str_at(v, "deposits.%d.recognitions.%d.term", dep, k),
                     term);
    cr_assert_str_eq(str_at(v, "deposits.%d.recognitions.%d.status", dep, k),
                     status);
    snprintf(p, sizeof p, "deposits.%d.recognitions.%d.linked", dep, k);
    cr_assert_eq(json_is_true(at(v, p)), linked, "%s", p);
    snprintf(p, sizeof p, "deposits.%d.recognitions.%d", dep, k);
    json_t *ca = json_object_get(at(v, p), "cancelled_at");
    if (cancelled_at < 0)
        cr_assert_null(ca, "%s: not cancelled", p);
    else
        cr_assert_eq(json_integer_value(ca), cancelled_at, "%s", p);
}

Test(rules, full_learner_journey)
{
    uint8_t kmooc79[32], kmooc[32], s1[32], s2[32], s3[32], s4[32], uni1[32];
    uint8_t r_kmooc[32], r1[32], r2[32], r3[32], r4[32], r_uni[32], ap[32];
    uint8_t award_id[32], link_id[32];
    uint64_t i_pc, i_decide, i_cancel, i_award, i_link, i_appeal;
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
    i_pc = r.index;
    /* A5: appeal the part-time recognition, upheld with 15 general */
    cr_assert_eq(appeal_r(r3, "2024Q3", &r), 0, "%s", r.msg);
    memcpy(ap, r.id, 32);
    i_appeal = r.index;
    cr_assert_eq(decide_r(ap, "{\"class\":\"general\",\"credits\":15,"
                              "\"outcome\":\"upheld\"}", &r), 0, "%s", r.msg);
    i_decide = r.index;
    /* A6: the registrar cancels the university MOOC after investigation */
    cr_assert_eq(cancel(&f.bank, r_uni, "investigation", NULL, &r), 0);
    i_cancel = r.index;
    /* A7: the compatible school course moves from major to general */
    cr_assert_eq(class_change(r2, "general", &r), 0, "%s", r.msg);
    /* degree: major 45, general 3 + 20 + 15 = 38, total 83 */
    cr_assert_eq(award("associate", &r), 0, "%s", r.msg);
    memcpy(award_id, r.id, 32);
    i_award = r.index;
    /* A4: link everything active */
    uint8_t all[4][32];
    memcpy(all[0], r_kmooc, 32);
    memcpy(all[1], r1, 32);
    memcpy(all[2], r2, 32);
    memcpy(all[3], r3, 32);
    cr_assert_eq(link((const uint8_t(*)[32])all, 4, &r), 0, "%s", r.msg);
    cr_assert_eq(r.fee, 3000, "83 linked, 80 free");
    memcpy(link_id, r.id, 32);
    i_link = r.index;

    json_t *v = view();
    /* the account */
    hex_at(v, "id", acct);
    cr_assert_eq(num_at(v, "number"), 0);
    cr_assert_str_eq(str_at(v, "status"), "open");
    hex_at(v, "learner_key", f.learner.pk);
    cr_assert_str_eq(str_at(v, "registrar"), "bank");
    cr_assert_str_eq(str_at(v, "degree"), "associate");
    cr_assert_str_eq(str_at(v, "major"), "software");
    cr_assert(json_is_false(at(v, "fee_exempt")));
    /* awards and links */
    cr_assert_eq(json_array_size(at(v, "awards")), 1);
    hex_at(v, "awards.0.id", award_id);
    cr_assert_eq(num_at(v, "awards.0.index"), (json_int_t)i_award);
    cr_assert_str_eq(str_at(v, "awards.0.degree"), "associate");
    cr_assert_str_eq(str_at(v, "awards.0.major"), "cs");
    cr_assert_eq(json_array_size(at(v, "links")), 1);
    hex_at(v, "links.0.id", link_id);
    cr_assert_eq(num_at(v, "links.0.index"), (json_int_t)i_link);
    cr_assert_str_eq(str_at(v, "links.0.degree"), "bachelor");
    cr_assert_str_eq(str_at(v, "links.0.major"), "cs");
    cr_assert_eq(num_at(v, "links.0.credits"), 83);
    cr_assert_eq(json_array_size(at(v, "links.0.recognitions")), 4);
    for (int i = 0; i < 4; i++) {
        char p[40];
        snprintf(p, sizeof p, "links.0.recognitions.%d", i);
        hex_at(v, p, all[i]);
    }
    cr_assert_eq(num_at(v, "linked_credits"), 83);
    /* deposits, in log order, with their recognitions */
    const struct {
        const uint8_t *id;
        const char *source, *term, *provider;
        int credits, grade, attendance;
        bool compatible;
        size_t nrec;
    } deps[] = {
        {kmooc79, "mooc", "2024Q1", "university", 3, 90, 79, false, 0},
        {kmooc, "mooc", "2024Q1", "university", 3, 90, 85, true, 1},
        {s1, "school", "2024Q1", "provider", 45, 85, -1, false, 1},
        {s2, "school", "2024Q1", "provider", 20, 85, -1, true, 1},
        {s3, "part_time", "2024Q2", "provider", 15, 85, -1, false, 1},
        {s4, "school", "2024Q2", "provider", 2, 85, -1, false, 1},
        {uni1, "mooc", "2024Q2", "university", 6, 95, 95, false, 1},
    };
    cr_assert_eq(json_array_size(at(v, "deposits")), 7);
    for (int i = 0; i < 7; i++) {
        char p[64];
        snprintf(p, sizeof p, "deposits.%d.id", i);
        hex_at(v, p, deps[i].id);
        cr_assert_str_eq(str_at(v, "deposits.%d.source", i), deps[i].source);
        cr_assert_str_eq(str_at(v, "deposits.%d.provider", i),
                         deps[i].provider);
        cr_assert_str_eq(str_at(v, "deposits.%d.term", i), deps[i].term);
        cr_assert_eq(num_at(v, "deposits.%d.credits", i), deps[i].credits);
        cr_assert_eq(num_at(v, "deposits.%d.grade", i), deps[i].grade);
        /* course "C<n>" and title "Course <n>" come from the entry */
        const char *course = str_at(v, "deposits.%d.course", i);
        char title[32];
        cr_assert_eq(course[0], 'C');
        snprintf(title, sizeof title, "Course %s", course + 1);
        cr_assert_str_eq(str_at(v, "deposits.%d.title", i), title);
        snprintf(p, sizeof p, "deposits.%d", i);
        json_t *att = json_object_get(at(v, p), "attendance");
        if (deps[i].attendance < 0)
            cr_assert_null(att);
        else
            cr_assert_eq(json_integer_value(att), deps[i].attendance);
        snprintf(p, sizeof p, "deposits.%d.compatible", i);
        cr_assert_eq(json_is_true(at(v, p)), deps[i].compatible);
        snprintf(p, sizeof p, "deposits.%d.recognitions", i);
        cr_assert_eq(json_array_size(at(v, p)), deps[i].nrec, "%s", p);
    }
    recog_is(v, 1, 0, r_kmooc, "bank", 3, "general", "2024Q1", "active",
             true, -1);
    recog_is(v, 2, 0, r1, "bank", 45, "major", "2024Q1", "active", true, -1);
    recog_is(v, 3, 0, r2, "bank", 20, "general", "2024Q1", "active", true,
             -1);
    recog_is(v, 4, 0, r3, "bank", 15, "general", "2024Q2", "active", true,
             -1);
    recog_is(v, 5, 0, r4, "bank", 2, "elective", "2024Q2", "cancelled", false,
             (int64_t)i_pc);
    recog_is(v, 6, 0, r_uni, "university", 6, "general", "2024Q2",
             "cancelled", false, (int64_t)i_cancel);
    /* active credits */
    cr_assert_eq(num_at(v, "active_credits.total"), 83);
    cr_assert_eq(num_at(v, "active_credits.by_class.major"), 45);
    cr_assert_eq(num_at(v, "active_credits.by_class.general"), 38);
    cr_assert_eq(num_at(v, "active_credits.by_class.elective"), 0);
    cr_assert_eq(json_object_size(at(v, "active_credits.by_source")), 3);
    cr_assert_eq(num_at(v, "active_credits.by_source.school"), 65);
    cr_assert_eq(num_at(v, "active_credits.by_source.mooc"), 3);
    cr_assert_eq(num_at(v, "active_credits.by_source.part_time"), 15);
    /* appeals */
    cr_assert_eq(json_array_size(at(v, "appeals")), 1);
    hex_at(v, "appeals.0.id", ap);
    cr_assert_eq(num_at(v, "appeals.0.index"), (json_int_t)i_appeal);
    hex_at(v, "appeals.0.recognition", r3);
    cr_assert_str_eq(str_at(v, "appeals.0.term"), "2024Q3");
    cr_assert_str_eq(str_at(v, "appeals.0.reason"), "grade misread");
    cr_assert_str_eq(str_at(v, "appeals.0.outcome"), "upheld");
    cr_assert_eq(num_at(v, "appeals.0.decided_at"), (json_int_t)i_decide);
    /* fees: 4000 open + (3+45+20+10+2+6) x 1000 recognitions + 3000 link,
     * entry by entry in log order (the refused recognition is none) */
    static const struct {
        const char *type;
        int fee;
    } fees[] = {
        {"account.open", 4000},     {"outcome.deposit", 0},
        {"outcome.deposit", 0},     {"outcome.deposit", 0},
        {"outcome.deposit", 0},     {"outcome.deposit", 0},
        {"outcome.deposit", 0},     {"outcome.deposit", 0},
        {"credit.recognize", 3000}, {"credit.recognize", 45000},
        {"credit.recognize", 20000}, {"credit.recognize", 10000},
        {"credit.recognize", 2000}, {"credit.recognize", 6000},
        {"program.change", 0},      {"appeal.file", 0},
        {"appeal.decide", 0},       {"credit.cancel", 0},
        {"class.change", 0},        {"degree.award", 0},
        {"degree.link", 3000},
    };
    cr_assert_str_eq(str_at(v, "fees.currency"), "KRW");
    cr_assert_eq(num_at(v, "fees.total"), 4000 + 86000 + 3000);
    cr_assert_eq(json_array_size(at(v, "fees.entries")), 21);
    int64_t prev = -1;
    for (int i = 0; i < 21; i++) {
        cr_assert_str_eq(str_at(v, "fees.entries.%d.type", i), fees[i].type,
                         "entry %d", i);
        cr_assert_eq(num_at(v, "fees.entries.%d.fee", i), fees[i].fee,
                     "entry %d", i);
        json_int_t idx = num_at(v, "fees.entries.%d.index", i);
        cr_assert_gt(idx, prev, "log order");
        prev = idx;
    }
    cr_assert_eq(num_at(v, "fees.entries.20.index"), (json_int_t)i_link);
    /* count and chain: 1 open + 7 deposits + 6 recognitions + A3 + A5 x2 +
     * A6 + A7 + award + link = 21 entries */
    cr_assert_eq(num_at(v, "count"), 21);
    struct chain c = {{0}, 0};
    cr_assert_eq(lg_account_entries(f.l, acct, 0, UINT64_MAX, chain_step, &c,
                                    NULL), 0);
    cr_assert_eq(c.n, 21);
    hex_at(v, "chain", c.chain);
    json_decref(v);
}
