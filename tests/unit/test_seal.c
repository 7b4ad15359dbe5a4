/* Seals, cosigns, finality and checkpoint notes (DESIGN 3.4,
 * spec/checkpoints.md); the note format against Go's sumdb/note
 * (spec/vectors/checkpoint.json). */
#include "fixture.h"

#include "../../ledger/seal.h"

static struct fx f;
static uint8_t acct[32];

static void setup(void)
{
    fx_setup(&f);
    fx_open_account(&f, &f.learner, false, acct);
}
static void teardown(void) { fx_teardown(&f); }
TestSuite(seal, .init = setup, .fini = teardown);

/* What a seal body says; built by hand so single fields can be wrong. */
struct body {
    uint64_t size, accounts, governance;
    uint8_t log_root[32], accounts_root[32], governance_chain[32];
};

static void body_now(struct body *b)
{
    struct lg_status st;
    cr_assert_eq(lg_status(f.l, &st), 0);
    b->size = st.size;
    b->accounts = st.accounts;
    b->governance = st.governance;
    memcpy(b->log_root, st.root, 32);
    memcpy(b->accounts_root, st.accounts_root, 32);
    memcpy(b->governance_chain, st.governance_chain, 32);
}

static void encode(struct lg_w *w, const struct body *b)
{
    lg_w_map(w, 6);
    lg_w_cstr(w, "accounts");
    lg_w_uint(w, b->accounts);
    lg_w_cstr(w, "accounts_root");
    lg_w_bin(w, b->accounts_root, 32);
    lg_w_cstr(w, "governance");
    lg_w_uint(w, b->governance);
    lg_w_cstr(w, "governance_chain");
    lg_w_bin(w, b->governance_chain, 32);
    lg_w_cstr(w, "log_root");
    lg_w_bin(w, b->log_root, 32);
    lg_w_cstr(w, "size");
    lg_w_uint(w, b->size);
}

static int seal_signed(const struct body *b, const struct cy_key *author,
                       uint64_t ts, const struct cy_key *extra,
                       struct lg_result *r)
{
    struct lg_w w;
    lg_w_init(&w);
    encode(&w, b);
    int rv = fx_submit(&f, &(struct fx_e){.type = LG_T_SEAL, .author = author,
                                          .body_raw = lg_w_data(&w),
                                          .body_raw_len = lg_w_len(&w),
                                          .ts = ts, .signers = {extra}}, r);
    lg_w_release(&w);
    return rv;
}

static int seal_with(const struct body *b, const struct cy_key *author,
                     uint64_t ts, struct lg_result *r)
{
    return seal_signed(b, author, ts, NULL, r);
}

/* A correct seal by the bank's node; returns its index. */
static uint64_t seal(void)
{
    struct body b;
    body_now(&b);
    struct lg_result r;
    int rv = seal_with(&b, &f.bank_node, 0, &r);
    cr_assert_eq(rv, 0, "seal refused: %s: %s", cb_errname(rv), r.msg);
    return r.index;
}

/* An ordinary entry (so that the next seal is not empty). */
static void ordinary(void)
{
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"C1\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
             "\"term\":\"2024Q1\",\"title\":\"Course\"}", fx_hex(f.ledger));
    fx_ok(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT, .author = &f.prov,
                             .account = acct, .body = body}, NULL);
}

/* node's signature of the checkpoint body of the seal at `at`. */
static void sign_checkpoint(uint64_t at, const struct cy_key *node,
                            uint8_t sig[64])
{
    char text[512];
    size_t len;
    cr_assert_eq(lg_checkpoint_body(f.l, at, text, sizeof text, &len), 0);
    cy_sign(sig, text, len, node);
}

static int cosign_raw(uint64_t size, const uint8_t (*refs)[32], size_t nrefs,
                      const struct cy_key *node, const uint8_t sig[64],
                      struct lg_result *r)
{
    char body[256], hex[129];
    cy_hex(hex, sig, 64);
    snprintf(body, sizeof body, "{\"sig\":\"hex:%s\",\"size\":%llu}", hex,
             (unsigned long long)size);
    return fx_submit(&f, &(struct fx_e){.type = LG_T_COSIGN, .author = node,
                                        .refs = refs, .nrefs = nrefs,
                                        .body = body}, r);
}

static int cosign_with(uint64_t at, const uint8_t seal_id[32],
                       const struct cy_key *node, bool corrupt,
                       struct lg_result *r)
{
    uint8_t sig[64];
    sign_checkpoint(at, node, sig);
    if (corrupt)
        sig[5] ^= 1;
    return cosign_raw(at, (const uint8_t(*)[32])seal_id, 1, node, sig, r);
}

static void seal_id_at(uint64_t index, uint8_t id[32])
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

Test(seal, computed_body_matches_status_and_applies)
{
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(f.l, &w), 0);
    struct lg_w w2;
    lg_w_init(&w2);
    struct body b;
    body_now(&b);
    encode(&w2, &b);
    cr_assert_eq(lg_w_len(&w), lg_w_len(&w2));
    cr_assert_arr_eq(lg_w_data(&w), lg_w_data(&w2), lg_w_len(&w));
    lg_w_release(&w);
    lg_w_release(&w2);
    uint64_t at = seal();
    cr_assert_eq(at, b.size, "a seal's size is its own index");
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert(st.has_seal);
    cr_assert_eq(st.last_seal, at);
    cr_assert_eq(st.since_seal, 0);
    cr_assert_eq(st.size, at + 1);
    cr_assert(!st.has_final);
    /* not final: no note; not a seal: no body either */
    char *note;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_checkpoint_note(f.l, at, &note, &err), CB_ENOTFOUND);
    cr_assert_eq(lg_checkpoint_note(f.l, at - 1, &note, &err), CB_ENOTFOUND);
    char text[512];
    size_t len;
    cr_assert_eq(lg_checkpoint_body(f.l, at - 1, text, sizeof text, &len),
                 CB_ENOTFOUND);
    cr_assert_eq(lg_checkpoint_body(f.l, at, text, 20, &len), CB_ETOOBIG);
}

Test(seal, every_body_field_is_checked)
{
    struct body good, b;
    body_now(&good);
    struct lg_result r;
    const char *names[] = {"size", "accounts", "governance", "log_root",
                           "accounts_root", "governance_chain"};
    for (int i = 0; i < 6; i++) {
        b = good;
        switch (i) {
        case 0: b.size++; break;
        case 1: b.accounts++; break;
        case 2: b.governance--; break;
        case 3: b.log_root[0] ^= 1; break;
        case 4: b.accounts_root[31] ^= 1; break;
        case 5: b.governance_chain[7] ^= 1; break;
        }
        cr_assert_eq(seal_with(&b, &f.bank_node, 0, &r), CB_ESEAL,
                     "%s: %s", names[i], cb_errname(r.code));
        char want[80];
        snprintf(want, sizeof want, "body.%s: ", names[i]);
        cr_assert_not_null(strstr(r.msg, want), "%s", r.msg);
        cr_assert_not_null(strstr(r.msg, "computed"), "%s", r.msg);
    }
    /* a seal of the state before the newest entry is stale */
    b = good;
    b.size--;
    cr_assert_eq(seal_with(&b, &f.bank_node, 0, &r), CB_ESEAL);
    cr_assert_eq(seal_with(&good, &f.bank_node, 0, &r), 0, "%s", r.msg);
}

Test(seal, needs_an_entry_since_the_last_seal_and_monotonic_ts)
{
    uint64_t at = seal();
    struct body b;
    body_now(&b);
    struct lg_result r;
    cr_assert_eq(seal_with(&b, &f.bank_node, 0, &r), CB_ESEALEMPTY);
    /* a cosign is not an ordinary entry */
    uint8_t id[32];
    seal_id_at(at, id);
    cr_assert_eq(cosign_with(at, id, &f.uni_node, false, &r), 0, "%s", r.msg);
    body_now(&b);
    cr_assert_eq(seal_with(&b, &f.bank_node, 0, &r), CB_ESEALEMPTY);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(f.l, &w), CB_ESEALEMPTY);
    lg_w_release(&w);
    /* an ordinary entry; then a seal whose ts goes backwards */
    struct lg_status st;
    lg_status(f.l, &st);
    fx_ok(&f, &(struct fx_e){.type = LG_T_POLICY_SET, .author = &f.uni,
                             .body = "{\"policy\":{},"
                                     "\"scope\":\"university\"}"},
          NULL);
    body_now(&b);
    cr_assert_eq(seal_with(&b, &f.bank_node, st.last_seal_ts - 1, &r),
                 CB_ESEALTIME);
    cr_assert_eq(seal_with(&b, &f.bank_node, 1000, &r), CB_ESEALTIME);
    /* "not below": the same ts is fine, and any member's node may seal */
    cr_assert_eq(seal_with(&b, &f.uni_node, st.last_seal_ts, &r), 0, "%s",
                 r.msg);
}

Test(seal, author_must_be_a_member_node_key_and_sign_alone)
{
    struct body b;
    body_now(&b);
    struct lg_result r;
    cr_assert_eq(seal_with(&b, &f.bank, 0, &r), CB_EAUTHOR, "issuer key");
    cr_assert_eq(seal_with(&b, &f.learner, 0, &r), CB_EAUTHOR, "learner key");
    struct cy_key stranger;
    fx_key(&stranger, "stranger-node");
    cr_assert_eq(seal_with(&b, &stranger, 0, &r), CB_EAUTHOR, "unknown key");
    cr_assert_eq(seal_signed(&b, &f.bank_node, 0, &f.uni_node, &r),
                 CB_ESIGNER, "no other signers");
    /* refs must be empty */
    struct lg_w w;
    lg_w_init(&w);
    encode(&w, &b);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_SEAL,
                                              .author = &f.bank_node,
                                              .refs = (const uint8_t(*)[32])
                                                  acct,
                                              .nrefs = 1,
                                              .body_raw = lg_w_data(&w),
                                              .body_raw_len = lg_w_len(&w)},
                           &r), CB_EREF);
    lg_w_release(&w);
    cr_assert_eq(seal_with(&b, &f.prov_node, 0, &r), 0, "%s", r.msg);
}

/* Verifies every signature line of note against the fixture's node keys;
 * returns the number of lines and fills names[] in order. */
static int note_lines(const char *note, const char *body, size_t blen,
                      const char *names[3])
{
    cr_assert_eq(strncmp(note, body, blen), 0);
    cr_assert_eq(note[blen], '\n', "blank line after the body");
    const char *p = note + blen + 1;
    int n = 0;
    while (*p) {
        cr_assert_lt(n, 3);
        cr_assert_eq(strncmp(p, "\xe2\x80\x94 ", 4), 0, "%s", p);
        p += 4;
        const char *sp = strchr(p, ' '), *nl = strchr(p, '\n');
        cr_assert(sp && nl && sp < nl, "%s", p);
        char name[65];
        snprintf(name, sizeof name, "%.*s", (int)(sp - p), p);
        const struct cy_key *k = strcmp(name, "bank") == 0 ? &f.bank_node
                               : strcmp(name, "university") == 0 ? &f.uni_node
                               : strcmp(name, "provider") == 0 ? &f.prov_node
                                                               : NULL;
        cr_assert_not_null(k, "unknown name %s", name);
        names[n++] = k == &f.bank_node ? "bank"
                   : k == &f.uni_node  ? "university"
                                       : "provider";
        uint8_t raw[80], kh[4];
        size_t len;
        cr_assert_eq(cy_unb64(raw, sizeof raw, &len, sp + 1,
                              (size_t)(nl - sp - 1)), 0);
        cr_assert_eq(len, 68);
        cy_note_keyhash(kh, name, k->pk);
        cr_assert_arr_eq(raw, kh, 4);
        cr_assert_eq(cy_verify(raw + 4, body, blen, k->pk), 0);
        p = nl + 1;
    }
    return n;
}

Test(seal, cosigns_make_it_final)
{
    uint64_t at = seal();
    uint8_t id[32];
    seal_id_at(at, id);
    struct lg_result r;
    cr_assert_eq(cosign_with(at, id, &f.uni_node, true, &r), CB_ECOSIGN,
                 "bad signature");
    cr_assert_eq(cosign_with(at, id, &f.uni, false, &r), CB_EAUTHOR,
                 "an issuer key");
    cr_assert_eq(cosign_with(at, id, &f.learner, false, &r), CB_EAUTHOR,
                 "not a member's key");
    cr_assert_eq(cosign_with(at, id, &f.uni_node, false, &r), 0, "%s", r.msg);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert(!st.has_final, "one of two");
    char *note;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_checkpoint_note(f.l, at, &note, &err), CB_ENOTFOUND);
    cr_assert_not_null(strstr(err.msg, "not final"), "%s", err.msg);
    cr_assert_eq(cosign_with(at, id, &f.uni_node, false, &r), CB_ECOSIGNDUP,
                 "the same member twice");
    cr_assert_eq(cosign_with(at, id, &f.prov_node, false, &r), 0);
    lg_status(f.l, &st);
    cr_assert(st.has_final);
    cr_assert_eq(st.final_seal, at);
    /* a third cosign still applies; the note keeps the first two */
    cr_assert_eq(cosign_with(at, id, &f.bank_node, false, &r), 0);
    cr_assert_eq(cosign_with(at, id, &f.bank_node, false, &r), CB_ECOSIGNDUP);
    cr_assert_eq(lg_checkpoint_note(f.l, at, &note, &err), 0, "%s", err.msg);
    char body[512];
    size_t blen;
    cr_assert_eq(lg_checkpoint_body(f.l, at, body, sizeof body, &blen), 0);
    const char *names[3];
    cr_assert_eq(note_lines(note, body, blen, names), 2, "%s", note);
    cr_assert_str_eq(names[0], "university");
    cr_assert_str_eq(names[1], "provider");
    /* body: origin, size + 1, base64 of the root of size + 1 leaves */
    char want[256], b64[48];
    struct lg_status now;
    lg_status(f.l, &now);
    MDB_txn *txn;
    cy_hash root;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(lg_log_root(lg_ledger_log(f.l), txn, at + 1, root), 0);
    mdb_txn_abort(txn);
    cy_b64(b64, root, 32);
    char hex[17];
    cy_hex(hex, f.ledger, 8);
    snprintf(want, sizeof want, "credbank/%s\n%llu\n%s\n", hex,
             (unsigned long long)(at + 1), b64);
    cr_assert_str_eq(body, want);
    snprintf(want, sizeof want, "credbank/%s", hex);
    cr_assert_str_eq(now.origin, want);
    free(note);
}

Test(seal, cosign_size_and_refs_must_name_the_seal)
{
    uint64_t at1 = seal();
    ordinary();
    uint64_t at2 = seal();
    uint8_t id1[32], id2[32], sig[64];
    seal_id_at(at1, id1);
    seal_id_at(at2, id2);
    struct lg_result r;
    sign_checkpoint(at1, &f.uni_node, sig);
    /* size names no seal: an ordinary entry, past the end */
    cr_assert_eq(cosign_raw(at1 - 1, &id1, 1, &f.uni_node, sig, &r),
                 CB_ECOSIGN, "%s", r.msg);
    cr_assert_eq(cosign_raw(at2 + 100, &id1, 1, &f.uni_node, sig, &r),
                 CB_ECOSIGN);
    /* refs: another seal's id, none, two */
    cr_assert_eq(cosign_raw(at1, &id2, 1, &f.uni_node, sig, &r), CB_EREF);
    cr_assert_eq(cosign_raw(at1, NULL, 0, &f.uni_node, sig, &r), CB_EREF);
    uint8_t two[2][32];
    memcpy(two[0], id1, 32);
    memcpy(two[1], id2, 32);
    cr_assert_eq(cosign_raw(at1, two, 2, &f.uni_node, sig, &r), CB_EREF);
    /* a signature of the other seal's checkpoint */
    cr_assert_eq(cosign_raw(at2, &id2, 1, &f.uni_node, sig, &r), CB_ECOSIGN);
    /* the second seal becomes final first; the first one later does not
     * move final_seal back */
    cr_assert_eq(cosign_with(at2, id2, &f.uni_node, false, &r), 0);
    cr_assert_eq(cosign_with(at2, id2, &f.bank_node, false, &r), 0);
    cr_assert_eq(cosign_raw(at1, &id1, 1, &f.uni_node, sig, &r), 0, "%s",
                 r.msg);
    cr_assert_eq(cosign_with(at1, id1, &f.prov_node, false, &r), 0);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert(st.has_final);
    cr_assert_eq(st.final_seal, at2);
    char *note;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_checkpoint_note(f.l, at1, &note, &err), 0, "%s", err.msg);
    free(note);
}

Test(seal, rotated_node_key_still_cosigns_older_seals)
{
    uint64_t at = seal();
    uint8_t id[32];
    seal_id_at(at, id);
    struct cy_key nk;
    fx_key(&nk, "university-node-2");
    char body[256];
    snprintf(body, sizeof body,
             "{\"new\":\"%s\",\"old\":\"%s\",\"use\":\"node\"}",
             fx_hex(nk.pk), fx_hex(f.uni_node.pk));
    fx_ok(&f, &(struct fx_e){.type = LG_T_KEY_ROTATE, .author = &f.uni_node,
                             .body = body, .signers = {&nk}}, NULL);
    struct lg_result r;
    cr_assert_eq(cosign_with(at, id, &nk, false, &r), CB_EAUTHOR,
                 "the new key was not the node key at the seal");
    cr_assert_eq(cosign_with(at, id, &f.uni_node, false, &r), 0, "%s", r.msg);
    /* but the old key seals no more */
    struct body b;
    body_now(&b);
    cr_assert_eq(seal_with(&b, &f.uni_node, 0, &r), CB_EAUTHOR);
    cr_assert_eq(seal_with(&b, &nk, 0, &r), 0, "%s", r.msg);
    /* and the new seal is cosigned with the new key only */
    uint8_t id2[32];
    seal_id_at(r.index, id2);
    cr_assert_eq(cosign_with(r.index, id2, &f.uni_node, false, &r),
                 CB_EAUTHOR);
    seal_id_at(b.size, id2);
    cr_assert_eq(cosign_with(b.size, id2, &nk, false, &r), 0, "%s", r.msg);
    /* the note's line for the old seal uses the key at that seal */
    cr_assert_eq(cosign_with(at, id, &f.bank_node, false, &r), 0);
    char *note, text[512];
    size_t len;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_checkpoint_note(f.l, at, &note, &err), 0, "%s", err.msg);
    cr_assert_eq(lg_checkpoint_body(f.l, at, text, sizeof text, &len), 0);
    const char *names[3];
    cr_assert_eq(note_lines(note, text, len, names), 2);
    cr_assert_str_eq(names[0], "university");
    free(note);
}

Test(seal, membership_at_the_seal_decides_who_cosigns)
{
    uint64_t at = seal();
    uint8_t id[32];
    seal_id_at(at, id);
    /* the provider leaves after the seal (n = 2, quorums 2 stay valid) */
    fx_ok(&f, &(struct fx_e){.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                             .body = "{\"name\":\"provider\"}",
                             .signers = {&f.uni}}, NULL);
    struct lg_result r;
    struct body b;
    body_now(&b);
    cr_assert_eq(seal_with(&b, &f.prov_node, 0, &r), CB_EAUTHOR,
                 "a removed member's node seals no more");
    /* it was in force at the seal, so its cosign of that seal counts */
    cr_assert_eq(cosign_with(at, id, &f.prov_node, false, &r), 0, "%s", r.msg);
    cr_assert_eq(cosign_with(at, id, &f.bank_node, false, &r), 0, "%s", r.msg);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert(st.has_final);
    cr_assert_eq(st.final_seal, at);
    /* a seal after the removal: the provider's node may not cosign it */
    uint64_t at2 = seal();
    uint8_t id2[32];
    seal_id_at(at2, id2);
    cr_assert_eq(cosign_with(at2, id2, &f.prov_node, false, &r), CB_EAUTHOR);
}

Test(seal, origin_comes_from_genesis)
{
    struct fx g;
    fx_open(&g);
    json_error_t je;
    json_t *gen = json_loads(fx_genesis_body(&g), 0, &je);
    cr_assert_not_null(gen, "%s", je.text);
    json_object_set_new(gen, "origin", json_string("example.org/credits"));
    char *text = json_dumps(gen, JSON_COMPACT);
    fx_ok(&g, &(struct fx_e){.type = LG_T_GENESIS, .author = &g.bank,
                             .body = text,
                             .signers = {&g.bank_node, &g.uni, &g.uni_node,
                                         &g.prov, &g.prov_node}}, g.ledger);
    free(text);
    json_decref(gen);
    fx_ok(&g, &(struct fx_e){.type = LG_T_POLICY_SET, .author = &g.uni,
                             .body = "{\"policy\":{},"
                                     "\"scope\":\"university\"}"},
          NULL);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(g.l, &w), 0);
    struct lg_result r;
    cr_assert_eq(fx_submit(&g, &(struct fx_e){.type = LG_T_SEAL,
                                              .author = &g.prov_node,
                                              .body_raw = lg_w_data(&w),
                                              .body_raw_len = lg_w_len(&w)},
                           &r), 0, "%s", r.msg);
    lg_w_release(&w);
    uint64_t at = r.index;
    char body[512];
    size_t len;
    cr_assert_eq(lg_checkpoint_body(g.l, at, body, sizeof body, &len), 0);
    cr_assert_eq(strncmp(body, "example.org/credits\n3\n", 22), 0, "%s", body);
    fx_teardown(&g);
}

/* A replica of f: the same leaves applied to a fresh ledger. */
static void replicate(struct fx *g)
{
    fx_open(g);
    memcpy(g->ledger, f.ledger, 32);
    struct lg_status st;
    lg_status(f.l, &st);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    struct lg_buf *bufs = calloc(st.size, sizeof *bufs);
    struct lg_result *res = calloc(st.size, sizeof *res);
    for (uint64_t i = 0; i < st.size; i++)
        cr_assert_eq(lg_log_get(lg_ledger_log(f.l), txn, i, &bufs[i].p,
                                &bufs[i].len), 0);
    cr_assert_eq(lg_apply(g->l, 0, bufs, st.size, res, NULL, NULL), 0);
    for (uint64_t i = 0; i < st.size; i++)
        cr_assert_eq(res[i].code, 0, "%s", res[i].msg);
    mdb_txn_abort(txn);
    free(bufs);
    free(res);
}

Test(seal, seal_in_the_middle_of_a_batch)
{
    /* A replica computes the body of a seal that follows a deposit; the
     * primary applies deposit and seal in one batch, so the seal sees the
     * account tree flushed mid-batch. */
    struct fx g;
    replicate(&g);
    char body[600];
    snprintf(body, sizeof body,
             "{\"compatible\":false,\"course\":\"C2\",\"credits\":2,"
             "\"evidence\":\"%s\",\"grade\":70,\"source\":\"school\","
             "\"term\":\"2024Q2\",\"title\":\"Course\"}", fx_hex(f.ledger));
    struct lg_buf bufs[2];
    bufs[0].p = fx_build(&f, &(struct fx_e){.type = LG_T_OUTCOME_DEPOSIT,
                                            .author = &f.prov,
                                            .account = acct, .body = body},
                         &bufs[0].len);
    struct lg_result r[2];
    cr_assert_eq(fx_submit_bytes(&g, bufs[0].p, bufs[0].len, r), 0);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(g.l, &w), 0);
    bufs[1].p = fx_build(&f, &(struct fx_e){.type = LG_T_SEAL,
                                            .author = &f.bank_node,
                                            .body_raw = lg_w_data(&w),
                                            .body_raw_len = lg_w_len(&w)},
                         &bufs[1].len);
    lg_w_release(&w);
    cr_assert_eq(lg_apply(f.l, 0, bufs, 2, r, NULL, NULL), 0);
    cr_assert_eq(r[0].code, 0, "%s", r[0].msg);
    cr_assert_eq(r[1].code, 0, "%s", r[1].msg);
    cr_assert_eq(fx_submit_bytes(&g, bufs[1].p, bufs[1].len, r), 0, "%s",
                 r[0].msg);
    struct lg_status a, b;
    lg_status(f.l, &a);
    lg_status(g.l, &b);
    cr_assert_eq(a.size, b.size);
    cr_assert_arr_eq(a.root, b.root, 32);
    cr_assert_arr_eq(a.accounts_root, b.accounts_root, 32);
    cr_assert_eq(a.last_seal, b.last_seal);
    char ta[512], tb[512];
    size_t la, lb;
    cr_assert_eq(lg_checkpoint_body(f.l, a.last_seal, ta, sizeof ta, &la), 0);
    cr_assert_eq(lg_checkpoint_body(g.l, b.last_seal, tb, sizeof tb, &lb), 0);
    cr_assert_eq(la, lb);
    cr_assert_arr_eq(ta, tb, la);
    free((void *)bufs[0].p);
    free((void *)bufs[1].p);
    fx_teardown(&g);
}

Test(seal, seal_and_its_cosigns_in_one_batch)
{
    /* The replica applies the seal first, so the cosigners can sign its
     * checkpoint; the primary gets seal and cosigns in one batch. */
    struct fx g;
    replicate(&g);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(f.l, &w), 0);
    struct lg_buf bufs[3];
    bufs[0].p = fx_build(&f, &(struct fx_e){.type = LG_T_SEAL,
                                            .author = &f.uni_node,
                                            .body_raw = lg_w_data(&w),
                                            .body_raw_len = lg_w_len(&w)},
                         &bufs[0].len);
    lg_w_release(&w);
    struct lg_result r[3];
    cr_assert_eq(fx_submit_bytes(&g, bufs[0].p, bufs[0].len, r), 0, "%s",
                 r[0].msg);
    uint64_t at = r[0].index;
    char text[512], body[256], hex[129];
    size_t len;
    cr_assert_eq(lg_checkpoint_body(g.l, at, text, sizeof text, &len), 0);
    const struct cy_key *nodes[2] = {&f.prov_node, &f.bank_node};
    for (int i = 0; i < 2; i++) {
        uint8_t sig[64];
        cy_sign(sig, text, len, nodes[i]);
        cy_hex(hex, sig, 64);
        snprintf(body, sizeof body, "{\"sig\":\"hex:%s\",\"size\":%llu}", hex,
                 (unsigned long long)at);
        bufs[1 + i].p = fx_build(&f, &(struct fx_e){
                                         .type = LG_T_COSIGN,
                                         .author = nodes[i],
                                         .refs = (const uint8_t(*)[32])r[0].id,
                                         .nrefs = 1, .body = body},
                                 &bufs[1 + i].len);
    }
    cr_assert_eq(lg_apply(f.l, 0, bufs, 3, r, NULL, NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(r[i].code, 0, "entry %d: %s", i, r[i].msg);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert(st.has_final);
    cr_assert_eq(st.final_seal, at);
    cr_assert_eq(st.since_seal, 0, "cosigns are not ordinary entries");
    char *note;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_checkpoint_note(f.l, at, &note, &err), 0, "%s", err.msg);
    const char *names[3];
    cr_assert_eq(note_lines(note, text, len, names), 2);
    cr_assert_str_eq(names[0], "provider");
    cr_assert_str_eq(names[1], "bank");
    free(note);
    for (int i = 0; i < 3; i++)
        free((void *)bufs[i].p);
    fx_teardown(&g);
}

/* An empty ledger reopened in partial mode (the offline verifier's replay),
 * with the demo genesis. */
static void partial(struct fx *g)
{
    fx_open(g);
    lg_ledger_close(g->l);
    struct lg_open_opts o = {.nosync = true, .partial = true,
                             .map_size = (size_t)1 << 28};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_ledger_open(&g->l, g->dir, &o, &err), 0, "%s", err.msg);
    uint8_t id[32];
    fx_ok(g, &(struct fx_e){.type = LG_T_GENESIS, .author = &g->bank,
                            .body = fx_genesis_body(g),
                            .signers = {&g->bank_node, &g->uni, &g->uni_node,
                                        &g->prov, &g->prov_node}}, id);
    memcpy(g->ledger, id, 32);
}

Test(seal, partial_ledgers_refuse_seals_and_cosigns)
{
    struct fx g;
    partial(&g);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(g.l, &w), 0);
    struct lg_result r;
    cr_assert_eq(fx_submit(&g, &(struct fx_e){.type = LG_T_SEAL,
                                              .author = &g.bank_node,
                                              .body_raw = lg_w_data(&w),
                                              .body_raw_len = lg_w_len(&w)},
                           &r), CB_ESEAL);
    cr_assert_not_null(strstr(r.msg, "partial"), "%s", r.msg);
    lg_w_release(&w);
    uint8_t sig[64] = {0};
    char body[256], hex[129];
    cy_hex(hex, sig, 64);
    snprintf(body, sizeof body, "{\"sig\":\"hex:%s\",\"size\":0}", hex);
    cr_assert_eq(fx_submit(&g, &(struct fx_e){.type = LG_T_COSIGN,
                                              .author = &g.bank_node,
                                              .refs = (const uint8_t(*)[32])
                                                  g.ledger,
                                              .nrefs = 1, .body = body},
                           &r), CB_ECOSIGN);
    cr_assert_not_null(strstr(r.msg, "partial"), "%s", r.msg);
    fx_teardown(&g);
}

/* ---- the note format against Go's golang.org/x/mod/sumdb/note ---- */

Test(seal, note_format_matches_go_sumdb_note)
{
    json_error_t e;
    json_t *vec = json_load_file(CB_SOURCE_DIR
                                 "/spec/vectors/checkpoint.json", 0, &e);
    cr_assert_not_null(vec, "%s", e.text);
    const char *body = json_string_value(json_object_get(vec, "body"));
    size_t blen = strlen(body);
    /* the body is what lg_checkpoint_body writes for origin, size, root */
    uint8_t root[32];
    char b64[48], want[400];
    cr_assert_eq(cy_unhex(root, 32, json_string_value(json_object_get(vec,
                                                                  "root"))),
                 0);
    cy_b64(b64, root, 32);
    snprintf(want, sizeof want, "%s\n%lld\n%s\n",
             json_string_value(json_object_get(vec, "origin")),
             (long long)json_integer_value(json_object_get(vec, "size")), b64);
    cr_assert_str_eq(body, want);

    json_t *keys = json_object_get(vec, "keys");
    size_t nk = json_array_size(keys);
    cr_assert_eq(nk, 2);
    struct cy_key k[2];
    uint8_t sigs[2][64];
    const char *names[2];
    for (size_t i = 0; i < nk; i++) {
        json_t *o = json_array_get(keys, i);
        names[i] = json_string_value(json_object_get(o, "name"));
        uint8_t seed[32], pk[32];
        cr_assert_eq(cy_unhex(seed, 32, json_string_value(json_object_get(
                                            o, "seed"))), 0);
        cr_assert_eq(cy_unhex(pk, 32, json_string_value(json_object_get(
                                          o, "pk"))), 0);
        cr_assert_eq(cy_unhex(sigs[i], 64, json_string_value(json_object_get(
                                               o, "sig"))), 0);
        cr_assert_eq(cy_key_from_seed(&k[i], names[i], seed), 0);
        cr_assert_arr_eq(k[i].pk, pk, 32);
        char vkey[CY_VKEY_MAX];
        cr_assert_eq(cy_note_vkey(vkey, sizeof vkey, names[i], pk), 0);
        cr_assert_str_eq(vkey, json_string_value(json_object_get(o, "vkey")));
        /* Go's signature verifies here, and ours is the same bytes */
        cr_assert_eq(cy_verify(sigs[i], body, blen, pk), 0);
        uint8_t mine[64];
        cy_sign(mine, body, blen, &k[i]);
        cr_assert_arr_eq(mine, sigs[i], 64);
        uint8_t bad[64];
        memcpy(bad, sigs[i], 64);
        bad[63] ^= 0x10;
        cr_assert_neq(cy_verify(bad, body, blen, pk), 0);
    }
    size_t ni;
    json_t *c;
    json_array_foreach(json_object_get(vec, "notes"), ni, c) {
        json_t *order = json_object_get(c, "signers");
        struct sm_note_sig ns[2];
        size_t n = json_array_size(order);
        cr_assert_eq(n, 2);
        for (size_t j = 0; j < n; j++) {
            const char *name = json_string_value(json_array_get(order, j));
            size_t i = strcmp(name, names[0]) == 0 ? 0 : 1;
            cr_assert_str_eq(names[i], name);
            ns[j] = (struct sm_note_sig){names[i], k[i].pk, sigs[i]};
        }
        char *note;
        size_t len;
        cr_assert_eq(sm_note_format(body, blen, ns, n, &note, &len), 0);
        const char *go = json_string_value(json_object_get(c, "note"));
        cr_assert_eq(len, strlen(go));
        cr_assert_str_eq(note, go);
        free(note);
    }
    /* no lines: the body and the blank line */
    char *note;
    cr_assert_eq(sm_note_format(body, blen, NULL, 0, &note, NULL), 0);
    cr_assert_eq(strlen(note), blen + 1);
    cr_assert_eq(note[blen], '\n');
    free(note);
    /* a body without its final newline, a name that is no key name */
    cr_assert_eq(sm_note_format(body, blen - 1, NULL, 0, &note, NULL),
                 CB_EINVAL);
    struct sm_note_sig bad = {"two words", k[0].pk, sigs[0]};
    cr_assert_eq(sm_note_format(body, blen, &bad, 1, &note, NULL), CB_EINVAL);
    for (size_t i = 0; i < nk; i++)
        cy_key_wipe(&k[i]);
    json_decref(vec);
}
