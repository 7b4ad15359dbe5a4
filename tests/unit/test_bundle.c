/* Bundles (ledger/bundle.c): export, offline verification and its reasons. */
#include <credbank/bundle.h>

#include <dirent.h>
#include <sys/stat.h>

#include "fixture.h"

static struct fx f;
static uint8_t acct[32];

static void setup(void)
{
    fx_setup(&f);
    fx_open_account(&f, &f.learner, false, acct);
}
static void teardown(void) { fx_teardown(&f); }
TestSuite(bundle, .init = setup, .fini = teardown);

/* ---- seals and cosigns (as test_seal.c builds them) ---- */

static uint64_t seal_by(const struct cy_key *node)
{
    struct lg_status st;
    cr_assert_eq(lg_status(f.l, &st), 0);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(f.l, &w), 0);
    struct lg_result r;
    int rv = fx_submit(&f, &(struct fx_e){.type = LG_T_SEAL, .author = node,
                                          .body_raw = lg_w_data(&w),
                                          .body_raw_len = lg_w_len(&w)},
                       &r);
    lg_w_release(&w);
    cr_assert_eq(rv, 0, "seal: %s: %s", cb_errname(rv), r.msg);
    return r.index;
}

static void entry_id_at(uint64_t index, uint8_t id[32])
{
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    const uint8_t *p;
    size_t len;
    cr_assert_eq(lg_log_get(lg_ledger_log(f.l), txn, index, &p, &len), 0);
    struct lg_signed s;
    lg_signed_init(&s);
    cr_assert_eq(lg_signed_decode(&s, p, len, NULL), 0);
    memcpy(id, s.e.id, 32);
    lg_signed_release(&s);
    mdb_txn_abort(txn);
}

static void sign_body(uint64_t at, const struct cy_key *node, uint8_t sig[64])
{
    char text[512];
    size_t len;
    cr_assert_eq(lg_checkpoint_body(f.l, at, text, sizeof text, &len), 0);
    cy_sign(sig, text, len, node);
}

static void cosign(uint64_t at, const struct cy_key *node)
{
    uint8_t sig[64], id[32];
    char body[256], hex[129];
    sign_body(at, node, sig);
    entry_id_at(at, id);
    cy_hex(hex, sig, 64);
    snprintf(body, sizeof body, "{\"sig\":\"hex:%s\",\"size\":%llu}", hex,
             (unsigned long long)at);
    fx_ok(&f, &(struct fx_e){.type = LG_T_COSIGN, .author = node,
                             .refs = (const uint8_t(*)[32])id, .nrefs = 1,
                             .body = body}, NULL);
}

static const struct cy_key *depositor; /* NULL: the provider */

static void deposit(const char *course)
{
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"%s\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"Course\"}", course,
             fx_hex(f.ledger));
    fx_ok(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT,
                             .author = depositor ? depositor : &f.prov,
                             .account = acct, .body = body}, NULL);
}

/* A final checkpoint cosigned by the bank's and the university's nodes. */
static uint64_t finalise(void)
{
    uint64_t at = seal_by(&f.bank_node);
    cosign(at, &f.bank_node);
    cosign(at, &f.uni_node);
    return at;
}

static uint8_t *export(size_t *len)
{
    struct lg_w w;
    struct cb_err err = {0, ""};
    lg_w_init(&w);
    int rv = lg_bundle_export(f.l, acct, NULL, &w, &err);
    cr_assert_eq(rv, 0, "export: %s: %s", cb_errname(rv), err.msg);
    return lg_w_take(&w, len);
}

static int verify(const uint8_t *b, size_t len, struct lg_bundle_result *r)
{
    return lg_bundle_verify(b, len, f.ledger, NULL, r);
}

/* The bundle with its checkpoint replaced by note (everything else kept). */
static uint8_t *with_note(const uint8_t *b, size_t len, const char *note,
                          size_t *out_len)
{
    struct lg_doc d;
    lg_doc_init(&d);
    struct lg_limits lim = {.max_str = LG_BUNDLE_NOTE_MAX};
    cr_assert_eq(lg_decode(&d, b, len, &lim, NULL), 0);
    struct lg_w w;
    lg_w_init(&w);
    const msgpack_object *m = &d.root;
    lg_w_map(&w, m->via.map.size);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        lg_w_obj(&w, &m->via.map.ptr[i].key);
        if (lg_is_str(&m->via.map.ptr[i].key, "checkpoint"))
            lg_w_cstr(&w, note);
        else
            lg_w_obj(&w, &m->via.map.ptr[i].val);
    }
    cr_assert_eq(lg_w_error(&w), 0);
    lg_doc_release(&d);
    return lg_w_take(&w, out_len);
}

/* The note line of node signing the checkpoint of at under name. */
static void note_line(char *out, size_t cap, uint64_t at, const char *name,
                      const struct cy_key *node, bool corrupt)
{
    uint8_t raw[68];
    char b64[96];
    cy_note_keyhash(raw, name, node->pk);
    sign_body(at, node, raw + 4);
    if (corrupt)
        raw[10] ^= 1;
    cy_b64(b64, raw, sizeof raw);
    snprintf(out, cap, "\xe2\x80\x94 %s %s\n", name, b64);
}

static void note_body(uint64_t at, char *out, size_t cap)
{
    size_t len;
    cr_assert_eq(lg_checkpoint_body(f.l, at, out, cap, &len), 0);
    out[len] = '\0';
}

Test(bundle, export_verifies_and_summary_is_the_view)
{
    deposit("C1");
    deposit("C2");
    uint64_t at = finalise();
    size_t len;
    uint8_t *b = export(&len);
    struct lg_bundle_result r;
    int rv = verify(b, len, &r);
    cr_assert_eq(rv, 0, "%s: %s", lg_bundle_reason_name(r.reason), r.msg);
    cr_assert_eq(r.seal_index, at);
    cr_assert_eq(r.entries, 3);
    cr_assert_eq(r.governance, 2);
    cr_assert_eq(memcmp(r.account, acct, 32), 0);
    /* 6 genesis + 1 policy + 2 open + 1 + 1 deposits + 1 seal + 2 note */
    cr_assert_eq(r.signatures, 14, "%llu", (unsigned long long)r.signatures);
    json_t *view;
    cr_assert_eq(lg_account_view(f.l, acct, &view, NULL), 0);
    cr_assert(json_equal(view, r.summary), "summary differs from the view");
    json_decref(view);
    lg_bundle_result_release(&r);
    free(b);
}

Test(bundle, no_final_checkpoint)
{
    struct lg_w w;
    struct cb_err err = {0, ""};
    lg_w_init(&w);
    cr_assert_eq(lg_bundle_export(f.l, acct, NULL, &w, &err), CB_ENOTFINAL);
    uint64_t at = seal_by(&f.bank_node);
    cosign(at, &f.bank_node);
    cr_assert_eq(lg_bundle_export(f.l, acct, NULL, &w, &err), CB_ENOTFINAL,
                 "one cosign of two is not final");
    uint8_t other[32] = {1};
    cosign(at, &f.uni_node);
    cr_assert_eq(lg_bundle_export(f.l, other, NULL, &w, &err), CB_ENOTFOUND);
    lg_w_release(&w);
}

/* The account changes after the seal: export rebuilds the account tree as
 * it was at the seal, and the bundle holds only entries below it. */
Test(bundle, account_changed_after_the_seal)
{
    deposit("C1");
    uint64_t at = finalise();
    deposit("C2");
    struct cy_key k2;
    fx_key(&k2, "learner-two");
    uint8_t acct2[32];
    fx_open_account(&f, &k2, true, acct2);
    size_t len;
    uint8_t *b = export(&len);
    struct lg_bundle_result r;
    int rv = verify(b, len, &r);
    cr_assert_eq(rv, 0, "%s: %s", lg_bundle_reason_name(r.reason), r.msg);
    cr_assert_eq(r.seal_index, at);
    cr_assert_eq(r.entries, 2);
    lg_bundle_result_release(&r);
    free(b);
}

/* DESIGN 3.4: a removed member's node key is unknown at a later seal, so
 * its (valid) signature line is ignored and does not count. */
Test(bundle, removed_member_signature_does_not_count)
{
    fx_ok(&f, &(struct fx_e){.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                             .body = "{\"name\":\"provider\"}",
                             .signers = {&f.uni}}, NULL);
    depositor = &f.uni;
    deposit("C1");
    depositor = NULL;
    uint64_t at = finalise();
    size_t len, len2;
    uint8_t *b = export(&len);
    struct lg_bundle_result r;
    cr_assert_eq(verify(b, len, &r), 0, "%s", r.msg);
    lg_bundle_result_release(&r);

    char note[2048], line[256];
    note_body(at, note, sizeof note);
    strcat(note, "\n");
    note_line(line, sizeof line, at, "bank", &f.bank_node, false);
    strcat(note, line);
    note_line(line, sizeof line, at, "provider", &f.prov_node, false);
    strcat(note, line);
    uint8_t *t = with_note(b, len, note, &len2);
    cr_assert_eq(verify(t, len2, &r), CB_EBUNDLE);
    cr_assert_eq(r.reason, LG_BR_NOTE_QUORUM, "%s: %s",
                 lg_bundle_reason_name(r.reason), r.msg);
    cr_assert_not_null(strstr(r.msg, "1 valid signature by members"), "%s",
                       r.msg);
    free(t);

    /* with the university's line too it is enough: provider's ignored */
    note_line(line, sizeof line, at, "university", &f.uni_node, false);
    strcat(note, line);
    t = with_note(b, len, note, &len2);
    cr_assert_eq(verify(t, len2, &r), 0, "%s", r.msg);
    cr_assert_str_eq(r.note_signers, "bank university");
    lg_bundle_result_release(&r);
    free(t);
    free(b);
}

/* A bad signature by a key in force rejects the note however many valid
 * lines it has; unknown keys and repeated lines are ignored. */
Test(bundle, note_signatures_as_sumdb_note)
{
    deposit("C1");
    uint64_t at = finalise();
    size_t len, len2;
    uint8_t *b = export(&len);
    char body[1024], note[2048], line[256];
    struct cy_key stranger;
    fx_key(&stranger, "stranger");
    note_body(at, body, sizeof body);

    snprintf(note, sizeof note, "%s\n", body);
    note_line(line, sizeof line, at, "stranger", &stranger, true);
    strcat(note, line); /* unknown key, bad signature: ignored */
    note_line(line, sizeof line, at, "bank", &f.bank_node, false);
    strcat(note, line);
    strcat(note, line); /* repeated: counted once */
    uint8_t *t = with_note(b, len, note, &len2);
    struct lg_bundle_result r;
    cr_assert_eq(verify(t, len2, &r), CB_EBUNDLE);
    cr_assert_eq(r.reason, LG_BR_NOTE_QUORUM, "%s", r.msg);
    free(t);

    note_line(line, sizeof line, at, "university", &f.uni_node, false);
    strcat(note, line);
    t = with_note(b, len, note, &len2);
    cr_assert_eq(verify(t, len2, &r), 0, "%s", r.msg);
    lg_bundle_result_release(&r);
    free(t);

    note_line(line, sizeof line, at, "provider", &f.prov_node, true);
    strcat(note, line); /* a member in force at the seal, bad signature */
    t = with_note(b, len, note, &len2);
    cr_assert_eq(verify(t, len2, &r), CB_EBUNDLE);
    cr_assert_eq(r.reason, LG_BR_NOTE_SIG, "%s", r.msg);
    cr_assert_not_null(strstr(r.msg, "provider"), "%s", r.msg);
    free(t);

    /* a body that is not the seal's checkpoint */
    snprintf(note, sizeof note, "%s", body);
    note[0] = 'X';
    strcat(note, "\n");
    t = with_note(b, len, note, &len2);
    cr_assert_eq(verify(t, len2, &r), CB_EBUNDLE);
    cr_assert_eq(r.reason, LG_BR_CHECKPOINT, "%s", r.msg);
    free(t);
    free(b);
}

Test(bundle, wrong_ledger_and_garbage)
{
    deposit("C1");
    finalise();
    size_t len;
    uint8_t *b = export(&len);
    uint8_t other[32];
    memcpy(other, f.ledger, 32);
    other[0] ^= 1;
    struct lg_bundle_result r;
    cr_assert_eq(lg_bundle_verify(b, len, other, NULL, &r), CB_EBUNDLE);
    cr_assert_eq(r.reason, LG_BR_GENESIS);
    for (size_t cut = 0; cut < len; cut += len / 7 + 1) {
        cr_assert_eq(verify(b, cut, &r), CB_EBUNDLE);
        cr_assert_eq(r.reason, LG_BR_MALFORMED, "cut at %zu", cut);
    }
    struct lg_bundle_verify_opts o = {.not_before_ms = UINT64_MAX};
    cr_assert_eq(lg_bundle_verify(b, len, f.ledger, &o, &r), CB_EBUNDLE);
    cr_assert_eq(r.reason, LG_BR_STALE);
    free(b);
}

Test(bundle, disclosure)
{
    finalise();
    /* fx_open_account commits pii = SHA-256(learner pk): use a salt and
     * data that do not open it, then none at all. */
    uint8_t salt[32] = {7};
    struct lg_w data, w;
    lg_w_init(&data);
    lg_w_init(&w);
    const char *k[] = {"name"}, *v[] = {"Kim"};
    lg_w_strmap(&data, k, v, 1);
    struct lg_bundle_export_opts o = {salt, lg_w_data(&data),
                                      lg_w_len(&data)};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_bundle_export(f.l, acct, &o, &w, &err), CB_EINVAL, "%s",
                 err.msg);
    lg_w_release(&data);
    lg_w_release(&w);
}

Test(bundle, reason_names_are_unique_and_in_the_spec)
{
    FILE *fp = fopen(CB_SOURCE_DIR "/spec/bundle.md", "r");
    cr_assert_not_null(fp, "spec/bundle.md missing");
    static char doc[1 << 18];
    size_t n = fread(doc, 1, sizeof doc - 1, fp);
    doc[n] = '\0';
    fclose(fp);
    FILE *fe = fopen(CB_SOURCE_DIR "/spec/errors.md", "r");
    cr_assert_not_null(fe);
    static char edoc[1 << 20];
    n = fread(edoc, 1, sizeof edoc - 1, fe);
    edoc[n] = '\0';
    fclose(fe);
    cr_assert_str_eq(lg_bundle_reason_name(0), "valid");
    cr_assert_null(lg_bundle_reason_name(LG_BR__COUNT));
    for (int i = 1; i < LG_BR__COUNT; i++) {
        char needle[80];
        snprintf(needle, sizeof needle, "`%s`", lg_bundle_reason_name(i));
        cr_expect_not_null(strstr(doc, needle), "spec/bundle.md lacks %s",
                           needle);
        cr_expect_not_null(strstr(edoc, needle), "spec/errors.md lacks %s",
                           needle);
        for (int j = 1; j < i; j++)
            cr_expect_str_neq(lg_bundle_reason_name(i),
                              lg_bundle_reason_name(j));
    }
}

/* ---- the governance index and the account tree as of the seal ---- */

static void deposit_to(const uint8_t *account, const char *course)
{
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"%s\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"Course\"}", course,
             fx_hex(f.ledger));
    fx_ok(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT, .author = &f.prov,
                             .account = account, .body = body}, NULL);
}

static void own_policy(const struct cy_key *author, const char *scope,
                       unsigned max)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"policy\":{\"sources\":{\"self_study_exam\":{\"max_credits\":"
             "%u}}},\"scope\":\"%s\"}", max, scope);
    fx_ok(&f, &(struct fx_e){.type = LG_T_POLICY_SET, .author = author,
                             .body = body}, NULL);
}

static uint8_t *export_of(const uint8_t *account, size_t *len)
{
    struct lg_w w;
    struct cb_err err = {0, ""};
    lg_w_init(&w);
    int rv = lg_bundle_export(f.l, account, NULL, &w, &err);
    cr_assert_eq(rv, 0, "export: %s: %s", cb_errname(rv), err.msg);
    return lg_w_take(&w, len);
}

/* Thirteen accounts (not a power of two), governance entries between the
 * account entries; after the seal some accounts get entries, one is
 * cancelled, new ones open and governance goes on. Every account's bundle
 * verifies: the account tree as of the seal (stored tree with the changed
 * leaves recomputed) matches accounts_root, and the governance list (from
 * the index) matches the seal's count and chain. */
Test(bundle, many_accounts_changed_after_the_seal)
{
    enum { N = 13 };
    uint8_t ids[N][32];
    struct cy_key keys[N];
    memcpy(ids[0], acct, 32);
    keys[0] = f.learner;
    for (int i = 1; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "learner-%d", i);
        fx_key(&keys[i], name);
        fx_open_account(&f, &keys[i], i % 2 == 0, ids[i]);
        if (i % 4 == 0)
            own_policy(&f.prov, "provider", 10 + (unsigned)i);
    }
    unsigned count[N];
    for (int i = 0; i < N; i++) {
        count[i] = 1;
        for (int k = 0; k < i % 3; k++, count[i]++)
            deposit_to(ids[i], "before");
    }
    own_policy(&f.uni, "university", 20);
    uint64_t at = finalise();
    /* after the seal */
    deposit_to(ids[0], "after");
    deposit_to(ids[5], "after");
    deposit_to(ids[12], "after");
    deposit_to(ids[5], "after again");
    fx_ok(&f, &(struct fx_e){.type = LG_T_ACCOUNT_CANCEL, .author = &f.bank,
                             .account = ids[7],
                             .body = "{\"reason\":\"learner_request\"}",
                             .signers = {&keys[7]}}, NULL);
    struct cy_key late;
    uint8_t late_id[32];
    fx_key(&late, "late-learner");
    fx_open_account(&f, &late, false, late_id);
    deposit_to(late_id, "late");
    own_policy(&f.prov, "provider", 40);
    for (int i = 0; i < N; i++) {
        size_t len;
        uint8_t *b = export_of(ids[i], &len);
        struct lg_bundle_result r;
        int rv = verify(b, len, &r);
        cr_assert_eq(rv, 0, "account %d: %s: %s", i,
                     lg_bundle_reason_name(r.reason), r.msg);
        cr_assert_eq(r.seal_index, at);
        cr_assert_eq(r.number, (uint64_t)i);
        cr_assert_eq(r.entries, count[i], "account %d: %llu entries", i,
                     (unsigned long long)r.entries);
        /* genesis, the fixture's policy, 3 provider policies, 1 uni */
        cr_assert_eq(r.governance, 6);
        lg_bundle_result_release(&r);
        free(b);
    }
    /* opened after the seal: not in its checkpoint */
    struct lg_w w;
    struct cb_err err = {0, ""};
    lg_w_init(&w);
    cr_assert_eq(lg_bundle_export(f.l, late_id, NULL, &w, &err),
                 CB_ENOTFOUND);
    lg_w_release(&w);
    /* a later final seal covers the changes: the cancelled account's
     * bundle now ends with its account.cancel */
    finalise();
    size_t len;
    uint8_t *b = export_of(ids[7], &len);
    struct lg_bundle_result r;
    cr_assert_eq(verify(b, len, &r), 0, "%s: %s",
                 lg_bundle_reason_name(r.reason), r.msg);
    cr_assert_eq(r.entries, count[7] + 1);
    cr_assert_eq(r.governance, 7);
    lg_bundle_result_release(&r);
    free(b);
}

/* Runs fn on the "governance" database in a write transaction. */
static void on_govidx(void (*fn)(MDB_txn *txn, MDB_dbi dbi))
{
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "governance", 0, &dbi), 0);
    fn(txn, dbi);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

static void drop_all(MDB_txn *txn, MDB_dbi dbi)
{
    cr_assert_eq(mdb_drop(txn, dbi, 0), 0);
}

static void drop_last(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *c;
    MDB_val k, v;
    cr_assert_eq(mdb_cursor_open(txn, dbi, &c), 0);
    cr_assert_eq(mdb_cursor_get(c, &k, &v, MDB_LAST), 0);
    cr_assert_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
}

static void reopen(void)
{
    lg_ledger_close(f.l);
    struct lg_open_opts o = {.nosync = true, .map_size = (size_t)1 << 30};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_ledger_open(&f.l, f.dir, &o, &err), 0, "%s", err.msg);
}

/* A ledger written before the governance index existed (or with a short
 * one): export refuses rather than write an incomplete governance list,
 * and opening the ledger rebuilds the index, after which the bundle is the
 * same, byte for byte. */
Test(bundle, governance_index_rebuilt_on_open)
{
    own_policy(&f.prov, "provider", 11);
    deposit("C1");
    own_policy(&f.uni, "university", 12);
    finalise();
    size_t len, len2;
    uint8_t *b = export(&len);

    void (*damage[])(MDB_txn *, MDB_dbi) = {drop_all, drop_last};
    for (size_t d = 0; d < 2; d++) {
        on_govidx(damage[d]);
        struct lg_w w;
        struct cb_err err = {0, ""};
        lg_w_init(&w);
        cr_assert_eq(lg_bundle_export(f.l, acct, NULL, &w, &err),
                     CB_ECORRUPT, "damage %zu: export without the index", d);
        lg_w_release(&w);
        reopen();
        uint8_t *b2 = export(&len2);
        cr_assert_eq(len2, len);
        cr_assert_eq(memcmp(b, b2, len), 0, "damage %zu: another bundle", d);
        free(b2);
    }
    /* apply goes on appending to the rebuilt index */
    own_policy(&f.prov, "provider", 13);
    deposit("C2");
    finalise();
    uint8_t *b3 = export(&len2);
    struct lg_bundle_result r;
    cr_assert_eq(verify(b3, len2, &r), 0, "%s: %s",
                 lg_bundle_reason_name(r.reason), r.msg);
    cr_assert_eq(r.governance, 5);
    lg_bundle_result_release(&r);
    free(b3);
    free(b);
}

/* Verifies b with vf and with a fresh lg_bundle_verify: the same code,
 * reason, signature count and summary; returns that code. */
static int as_one_shot(struct lg_bundle_verifier *vf, const uint8_t *b,
                       size_t len)
{
    struct lg_bundle_result once, again;
    int rv1 = lg_bundle_verify(b, len, f.ledger, NULL, &once);
    int rv2 = lg_bundle_verify_with(vf, b, len, f.ledger, NULL, &again);
    cr_assert_eq(rv1, rv2, "%s vs %s", cb_errname(rv1), cb_errname(rv2));
    cr_assert_eq(once.reason, again.reason, "%s vs %s",
                 lg_bundle_reason_name(once.reason),
                 lg_bundle_reason_name(again.reason));
    cr_assert_eq(once.signatures, again.signatures);
    cr_assert_eq(once.entries, again.entries);
    if (rv2 == 0)
        cr_assert(json_equal(once.summary, again.summary),
                  "summaries differ");
    lg_bundle_result_release(&once);
    lg_bundle_result_release(&again);
    return rv2;
}

/* One verifier, its scratch ledger emptied between bundles: a valid
 * bundle, a tampered one, the valid one again, another account's — each
 * verdict and summary as a fresh lg_bundle_verify gives it. */
Test(bundle, a_reused_verifier_gives_the_one_shot_verdicts)
{
    struct cy_key k2;
    fx_key(&k2, "second-learner");
    uint8_t acct2[32];
    fx_open_account(&f, &k2, false, acct2);
    deposit("C1");
    deposit_to(acct2, "D1");
    deposit_to(acct2, "D2");
    finalise();
    size_t len1, len2;
    uint8_t *b1 = export(&len1), *b2 = export_of(acct2, &len2);
    uint8_t *bad = malloc(len1);
    memcpy(bad, b1, len1);
    bad[len1 / 2] ^= 0x01;

    struct lg_bundle_verifier *vf;
    cr_assert_eq(lg_bundle_verifier_new(&vf, NULL), 0);
    const uint8_t *in[] = {b1, bad, b1, b2, b1};
    size_t lens[] = {len1, len1, len1, len2, len1};
    int want[] = {0, CB_EBUNDLE, 0, 0, 0};
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(as_one_shot(vf, in[i], lens[i]), want[i],
                     "bundle %zu: the tampered one verified or another not",
                     i);
    lg_bundle_verifier_free(vf);
    free(b1);
    free(b2);
    free(bad);
}

static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The replay's scratch ledger has no name once it is open: a verifier (a
 * `credbank verify` killed halfway) never leaves files behind, not even
 * while it still holds the ledger for its next bundle. */
Test(bundle, the_scratch_ledger_leaves_no_files)
{
    deposit("C1");
    finalise();
    size_t len;
    uint8_t *b = export(&len);
    char tmp[300]; /* inside the fixture's directory, removed with it */
    snprintf(tmp, sizeof tmp, "%s/scratch", f.dir);
    cr_assert_eq(mkdir(tmp, 0700), 0, "%s", tmp);
    struct lg_bundle_verify_opts o = {.tmpdir = tmp};
    struct lg_bundle_verifier *vf;
    cr_assert_eq(lg_bundle_verifier_new(&vf, &o), 0);
    for (int i = 0; i < 2; i++) {
        struct lg_bundle_result r;
        int rv = lg_bundle_verify_with(vf, b, len, f.ledger, &o, &r);
        cr_assert_eq(rv, 0, "%s: %s", lg_bundle_reason_name(r.reason), r.msg);
        cr_assert_eq(dir_entries(tmp), 0, "the verifier left files in %s",
                     tmp);
        lg_bundle_result_release(&r);
    }
    lg_bundle_verifier_free(vf);
    struct lg_bundle_result r;
    cr_assert_eq(lg_bundle_verify(b, len, f.ledger, &o, &r), 0);
    lg_bundle_result_release(&r);
    cr_assert_eq(dir_entries(tmp), 0);
    cr_assert_eq(remove(tmp), 0);
    free(b);
}

/* A reused verifier grows its decoders for a large bundle (more than 1,024
 * items), lets most go for a small one, and grows again: every verdict and
 * summary as a fresh lg_bundle_verify gives it (ASan checks the decoders
 * let go are not touched again). */
Test(bundle, a_reused_verifier_shrinks_after_a_large_bundle)
{
    struct cy_key k2;
    fx_key(&k2, "small-learner");
    uint8_t acct2[32];
    fx_open_account(&f, &k2, false, acct2);
    deposit_to(acct2, "S1");
    for (int i = 0; i < 1030; i++) {
        char course[16];
        snprintf(course, sizeof course, "L%d", i);
        deposit(course);
    }
    finalise();
    size_t len1, len2;
    uint8_t *big = export(&len1), *small = export_of(acct2, &len2);
    struct lg_bundle_verifier *vf;
    cr_assert_eq(lg_bundle_verifier_new(&vf, NULL), 0);
    const uint8_t *in[] = {big, small, big, small};
    size_t lens[] = {len1, len2, len1, len2};
    for (size_t i = 0; i < 4; i++) {
        struct lg_bundle_result r;
        cr_assert_eq(as_one_shot(vf, in[i], lens[i]), 0, "bundle %zu", i);
        cr_assert_eq(lg_bundle_verify_with(vf, in[i], lens[i], f.ledger, NULL,
                                           &r), 0, "bundle %zu: %s", i, r.msg);
        cr_assert_eq(r.entries, in[i] == big ? 1031u : 2u);
        lg_bundle_result_release(&r);
    }
    lg_bundle_verifier_free(vf);
    free(big);
    free(small);
}
