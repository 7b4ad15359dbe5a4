/* Seals, cosigns, finality and checkpoint notes (DESIGN 3.4). */
#include "fixture.h"

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

static int seal_with(const struct body *b, const struct cy_key *author,
                     uint64_t ts, struct lg_result *r)
{
    struct lg_w w;
    lg_w_init(&w);
    encode(&w, b);
    int rv = fx_submit(&f, &(struct fx_e){.type = LG_T_SEAL, .author = author,
                                          .body_raw = lg_w_data(&w),
                                          .body_raw_len = lg_w_len(&w),
                                          .ts = ts}, r);
    lg_w_release(&w);
    return rv;
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

static int cosign_with(uint64_t at, const uint8_t seal_id[32],
                       const struct cy_key *node, const char *name,
                       bool corrupt, struct lg_result *r)
{
    (void)name;
    char text[512];
    size_t len;
    cr_assert_eq(lg_checkpoint_body(f.l, at, text, sizeof text, &len), 0);
    uint8_t sig[64];
    cy_sign(sig, text, len, node);
    if (corrupt)
        sig[5] ^= 1;
    char body[256], hex[129];
    cy_hex(hex, sig, 64);
    snprintf(body, sizeof body, "{\"sig\":\"hex:%s\",\"size\":%llu}", hex,
             (unsigned long long)at);
    return fx_submit(&f, &(struct fx_e){.type = LG_T_COSIGN, .author = node,
                                        .refs = (const uint8_t(*)[32])seal_id,
                                        .nrefs = 1, .body = body}, r);
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
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert(st.has_seal);
    cr_assert_eq(st.last_seal, at);
    cr_assert_eq(st.since_seal, 0);
    cr_assert(!st.has_final);
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
        cr_assert_not_null(strstr(r.msg, names[i]), "%s", r.msg);
    }
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
    cr_assert_eq(cosign_with(at, id, &f.uni_node, "university", false, &r), 0,
                 "%s", r.msg);
    body_now(&b);
    cr_assert_eq(seal_with(&b, &f.bank_node, 0, &r), CB_ESEALEMPTY);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(f.l, &w), CB_ESEALEMPTY);
    lg_w_release(&w);
    /* an ordinary entry; then a seal whose ts goes backwards */
    fx_ok(&f, &(struct fx_e){.type = LG_T_POLICY_SET, .author = &f.uni,
                             .body = "{\"policy\":{},\"scope\":\"university\"}"},
          NULL);
    body_now(&b);
    cr_assert_eq(seal_with(&b, &f.bank_node, 1000, &r), CB_ESEALTIME);
    cr_assert_eq(seal_with(&b, &f.uni_node, 0, &r), 0, "any member's node");
}

Test(seal, author_must_be_a_member_node_key)
{
    struct body b;
    body_now(&b);
    struct lg_result r;
    cr_assert_eq(seal_with(&b, &f.bank, 0, &r), CB_EAUTHOR, "issuer key");
    cr_assert_eq(seal_with(&b, &f.learner, 0, &r), CB_EAUTHOR, "learner key");
}

Test(seal, cosigns_make_it_final)
{
    uint64_t at = seal();
    uint8_t id[32], other[32] = {1};
    seal_id_at(at, id);
    struct lg_result r;
    cr_assert_eq(cosign_with(at, id, &f.uni_node, "university", true, &r),
                 CB_ECOSIGN, "bad signature");
    cr_assert_eq(cosign_with(at, id, &f.learner, "x", false, &r), CB_EAUTHOR);
    cr_assert_eq(cosign_with(at, other, &f.uni_node, "university", false, &r),
                 CB_EREF);
    cr_assert_eq(cosign_with(at, id, &f.uni_node, "university", false, &r), 0,
                 "%s", r.msg);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert(!st.has_final, "one of two");
    char *note;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_checkpoint_note(f.l, at, &note, &err), CB_ENOTFOUND);
    cr_assert_eq(cosign_with(at, id, &f.uni_node, "university", false, &r),
                 CB_ECOSIGNDUP);
    cr_assert_eq(cosign_with(at, id, &f.prov_node, "provider", false, &r), 0);
    lg_status(f.l, &st);
    cr_assert(st.has_final);
    cr_assert_eq(st.final_seal, at);
    /* a third cosign still applies; the note keeps the first two */
    cr_assert_eq(cosign_with(at, id, &f.bank_node, "bank", false, &r), 0);
    cr_assert_eq(lg_checkpoint_note(f.l, at, &note, &err), 0, "%s", err.msg);
    char body[512];
    size_t blen;
    cr_assert_eq(lg_checkpoint_body(f.l, at, body, sizeof body, &blen), 0);
    cr_assert_eq(strncmp(note, body, blen), 0);
    cr_assert_eq(note[blen], '\n', "blank line after the body");
    const char *l1 = note + blen + 1;
    cr_assert_eq(strncmp(l1, "\xe2\x80\x94 university ", 15), 0, "%s", l1);
    const char *l2 = strchr(l1, '\n') + 1;
    cr_assert_eq(strncmp(l2, "\xe2\x80\x94 provider ", 13), 0, "%s", l2);
    cr_assert_eq(strchr(l2, '\n')[1], '\0', "exactly two lines");
    /* the line's base64 is key hash || signature over the body */
    const char *b64 = l1 + 15;
    uint8_t raw[80];
    size_t n;
    cr_assert_eq(cy_unb64(raw, sizeof raw, &n, b64, 92), 0);
    cr_assert_eq(n, 68);
    uint8_t kh[4];
    cy_note_keyhash(kh, "university", f.uni_node.pk);
    cr_assert_arr_eq(raw, kh, 4);
    cr_assert_eq(cy_verify(raw + 4, body, blen, f.uni_node.pk), 0);
    /* body: origin, size + 1, root */
    char want[64];
    snprintf(want, sizeof want, "\n%llu\n", (unsigned long long)(at + 1));
    cr_assert_not_null(strstr(body, want));
    cr_assert_eq(strncmp(body, "credbank/", 9), 0);
    free(note);
    /* size that names no seal */
    cr_assert_eq(cosign_with(at, id, &f.uni_node, "university", false, &r),
                 CB_ECOSIGNDUP);
}

Test(seal, rotated_node_key_still_cosigns_older_seals)
{
    uint64_t at = seal();
    uint8_t id[32];
    seal_id_at(at, id);
    struct cy_key nk;
    fx_key(&nk, "university-node-2");
    char body[256];
    snprintf(body, sizeof body, "{\"new\":\"%s\",\"old\":\"%s\",\"use\":\"node\"}",
             fx_hex(nk.pk), fx_hex(f.uni_node.pk));
    fx_ok(&f, &(struct fx_e){.type = LG_T_KEY_ROTATE, .author = &f.uni_node,
                             .body = body, .signers = {&nk}}, NULL);
    struct lg_result r;
    cr_assert_eq(cosign_with(at, id, &nk, "university", false, &r), CB_EAUTHOR,
                 "the new key was not the node key at the seal");
    cr_assert_eq(cosign_with(at, id, &f.uni_node, "university", false, &r), 0,
                 "%s", r.msg);
    /* but the old key seals no more */
    struct body b;
    body_now(&b);
    cr_assert_eq(seal_with(&b, &f.uni_node, 0, &r), CB_EAUTHOR);
    cr_assert_eq(seal_with(&b, &nk, 0, &r), 0, "%s", r.msg);
}

Test(seal, partial_ledgers_refuse_seals)
{
    struct fx g;
    fx_open(&g);
    lg_ledger_close(g.l);
    struct lg_open_opts o = {.nosync = true, .partial = true,
                             .map_size = (size_t)1 << 28};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_ledger_open(&g.l, g.dir, &o, &err), 0, "%s", err.msg);
    uint8_t id[32];
    fx_ok(&g, &(struct fx_e){.type = LG_T_GENESIS, .author = &g.bank,
                             .body = fx_genesis_body(&g),
                             .signers = {&g.bank_node, &g.uni, &g.uni_node,
                                         &g.prov, &g.prov_node}}, id);
    memcpy(g.ledger, id, 32);
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_seal_body(g.l, &w), 0);
    struct lg_result r;
    cr_assert_eq(fx_submit(&g, &(struct fx_e){.type = LG_T_SEAL,
                                              .author = &g.bank_node,
                                              .body_raw = lg_w_data(&w),
                                              .body_raw_len = lg_w_len(&w)},
                           &r), CB_ESEAL);
    lg_w_release(&w);
    fx_teardown(&g);
}
