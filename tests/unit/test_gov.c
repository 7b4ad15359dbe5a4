/* Governance rules (DESIGN 2, 4): genesis, membership, keys, policy,
 * quorums, the ledger id, duplicates, and the batch/replay contract. */
#include "fixture.h"

static struct fx f;
static void setup(void) { fx_setup(&f); }
static void teardown(void) { fx_teardown(&f); }
TestSuite(gov, .init = setup, .fini = teardown);

static const char *member_body(const struct cy_key *issuer,
                               const struct cy_key *node, const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"member\":{\"issuers\":[\"%s\"],\"name\":\"%s\",\"node\":\"%s\","
             "\"roles\":[\"witness\"]}}",
             fx_hex(issuer->pk), name, fx_hex(node->pk));
    return buf;
}

static int add_member(const struct cy_key *issuer, const struct cy_key *node,
                      const char *name, const struct cy_key *cosigner,
                      bool with_new_sigs, struct lg_result *r)
{
    struct fx_e e = {.type = LG_T_MEMBER_ADD, .author = &f.bank,
                     .body = member_body(issuer, node, name)};
    size_t n = 0;
    if (cosigner)
        e.signers[n++] = cosigner;
    if (with_new_sigs) {
        e.signers[n++] = issuer;
        e.signers[n++] = node;
    }
    return fx_submit(&f, &e, r);
}

Test(gov, setup_counts_governance_entries)
{
    struct lg_status st;
    cr_assert_eq(lg_status(f.l, &st), 0);
    cr_assert(st.has_genesis);
    cr_assert_eq(st.size, 2);
    cr_assert_eq(st.governance, 2);
    cr_assert_eq(st.members, 3);
    cr_assert_eq(st.governance_quorum, 2);
    cr_assert_eq(st.cosign_quorum, 2);
    cr_assert_eq(st.seal_interval_ms, 20);
    cr_assert_eq(st.since_seal, 2);
    char hex[17];
    cy_hex(hex, f.ledger, 8);
    char origin[64];
    snprintf(origin, sizeof origin, "credbank/%s", hex);
    cr_assert_str_eq(st.origin, origin);
}

Test(gov, member_add_needs_quorum_and_new_keys)
{
    struct cy_key wi, wn;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    struct lg_result r;
    /* with quorum 2 fixed at genesis, a fourth member would break n/2 < q */
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni, true, &r),
                 CB_EQUORUMBOUNDS, "%s", r.msg);
    fx_ok(&f, &(struct fx_e){.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                             .body = "{\"name\":\"provider\"}",
                             .signers = {&f.uni}}, NULL);
    cr_assert_eq(add_member(&wi, &wn, "witness", NULL, true, &r), CB_EQUORUM,
                 "%s", r.msg);
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni, false, &r),
                 CB_EMISSINGSIG, "%s", r.msg);
    /* a node key is not an issuer key: it does not count toward quorum */
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni_node, true, &r),
                 CB_EQUORUM, "%s", r.msg);
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni, true, &r), 0, "%s",
                 r.msg);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert_eq(st.members, 3);
    cr_assert_eq(st.governance, 4);
    /* names and keys are never used again, even a removed member's */
    struct cy_key x, y;
    fx_key(&x, "x");
    fx_key(&y, "y");
    cr_assert_eq(add_member(&x, &y, "witness", &f.uni, true, &r), CB_ENAMEUSED);
    cr_assert_eq(add_member(&x, &y, "provider", &f.uni, true, &r),
                 CB_ENAMEUSED);
    cr_assert_eq(add_member(&x, &wn, "other", &f.uni, true, &r), CB_EKEYUSED);
    cr_assert_eq(add_member(&f.prov, &y, "other", &f.uni, true, &r),
                 CB_EKEYUSED);
}

Test(gov, learner_key_cannot_become_member_key)
{
    uint8_t acct[32];
    fx_open_account(&f, &f.learner, false, acct);
    struct cy_key y;
    fx_key(&y, "y");
    struct lg_result r;
    fx_ok(&f, &(struct fx_e){.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                             .body = "{\"name\":\"provider\"}",
                             .signers = {&f.uni}}, NULL);
    cr_assert_eq(add_member(&f.learner, &y, "other", &f.uni, true, &r),
                 CB_EKEYUSED, "%s", r.msg);
}

Test(gov, member_remove_keeps_quorums_valid)
{
    struct lg_result r;
    struct fx_e e = {.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                     .body = "{\"name\":\"provider\"}", .signers = {&f.uni}};
    cr_assert_eq(fx_submit(&f, &e, &r), 0, "%s", r.msg);
    /* n = 2, q = 2 still valid; n = 1 with q = 2 is not */
    e.body = "{\"name\":\"university\"}";
    cr_assert_eq(fx_submit(&f, &e, &r), CB_EQUORUMBOUNDS, "%s", r.msg);
    /* the removed member's keys can no longer author */
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.prov,
                     .body = "{\"policy\":{},\"scope\":\"provider\"}"}, &r),
                 CB_EAUTHOR, "%s", r.msg);
    /* nor count toward a quorum */
    e.body = "{\"name\":\"nobody\"}";
    e.signers[0] = &f.prov;
    cr_assert_eq(fx_submit(&f, &e, &r), CB_EQUORUM, "%s", r.msg);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert_eq(st.members, 2);
}

Test(gov, member_update_changes_roles)
{
    struct lg_result r;
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_MEMBER_UPDATE, .author = &f.uni,
                     .body = "{\"name\":\"bank\",\"roles\":[\"recognizer\"]}"},
                     &r), CB_EQUORUM);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_MEMBER_UPDATE, .author = &f.uni,
                     .body = "{\"name\":\"bank\",\"roles\":[\"recognizer\"]}",
                     .signers = {&f.prov}}, &r), 0, "%s", r.msg);
    /* bank is no registrar any more */
    char body[512];
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"x\"},\"fee_exempt\":false,\"learner_key\":\"%s\","
             "\"major\":\"m\",\"pii\":\"%s\"}",
             fx_hex(f.ledger), fx_hex(f.learner.pk), fx_hex(f.ledger));
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_ACCOUNT_OPEN, .author = &f.bank,
                     .body = body, .signers = {&f.learner}}, &r),
                 CB_EAUTHOR, "%s", r.msg);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_MEMBER_UPDATE, .author = &f.uni,
                     .body = "{\"name\":\"bank\",\"roles\":[\"boss\"]}",
                     .signers = {&f.prov}}, &r), CB_EVALUE);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_MEMBER_UPDATE, .author = &f.uni,
                     .body = "{\"name\":\"nobody\",\"roles\":[\"witness\"]}",
                     .signers = {&f.prov}}, &r), CB_EMEMBER);
}

static int rotate(const struct cy_key *old, const struct cy_key *nw,
                  const char *use, bool new_signs, struct lg_result *r)
{
    char body[256];
    snprintf(body, sizeof body, "{\"new\":\"%s\",\"old\":\"%s\",\"use\":\"%s\"}",
             fx_hex(nw->pk), fx_hex(old->pk), use);
    struct fx_e e = {.type = LG_T_KEY_ROTATE, .author = old, .body = body};
    if (new_signs)
        e.signers[0] = nw;
    return fx_submit(&f, &e, r);
}

Test(gov, key_rotate_retires_the_old_key)
{
    struct cy_key nk;
    fx_key(&nk, "bank-2");
    struct lg_result r;
    cr_assert_eq(rotate(&f.bank, &nk, "issuer", false, &r), CB_EMISSINGSIG);
    cr_assert_eq(rotate(&f.bank, &nk, "node", true, &r), CB_EKEYSTATE);
    cr_assert_eq(rotate(&f.bank, &f.uni, "issuer", true, &r), CB_EKEYUSED);
    cr_assert_eq(rotate(&f.bank, &nk, "issuer", true, &r), 0, "%s", r.msg);
    /* the rotated-out key can no longer author, the new one can */
    uint8_t acct[32];
    struct cy_key l2;
    fx_key(&l2, "learner-2");
    char body[512];
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"x\"},\"fee_exempt\":false,\"learner_key\":\"%s\","
             "\"major\":\"m\",\"pii\":\"%s\"}",
             fx_hex(f.ledger), fx_hex(l2.pk), fx_hex(f.ledger));
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_ACCOUNT_OPEN, .author = &f.bank,
                     .body = body, .signers = {&l2}}, &r), CB_EAUTHOR);
    fx_ok(&f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN, .author = &nk,
                             .body = body, .signers = {&l2}}, acct);
    /* and never comes back */
    struct cy_key n3;
    fx_key(&n3, "bank-3");
    cr_assert_eq(rotate(&nk, &f.bank, "issuer", true, &r), CB_EKEYUSED);
    cr_assert_eq(rotate(&f.bank, &n3, "issuer", true, &r), CB_EKEYSTATE);
    /* node keys rotate too */
    cr_assert_eq(rotate(&f.bank_node, &n3, "node", true, &r), 0, "%s", r.msg);
}

Test(gov, policy_scopes)
{
    struct lg_result r;
    /* a member may set only its own scope, without quorum */
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{},\"scope\":\"bank\"}"}, &r),
                 CB_ESCOPE);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{},\"scope\":\"university\"}",
                     .signers = {&f.bank}}, &r),
                 CB_ESIGNER, "%s", r.msg);
    /* member scope: no currency */
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{\"fees\":{\"currency\":\"USD\"}},"
                             "\"scope\":\"university\"}"}, &r),
                 CB_EPOLICY, "%s", r.msg);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{\"sources\":{\"moon\":{}}},"
                             "\"scope\":\"university\"}"}, &r),
                 CB_EPOLICY, "%s", r.msg);
    /* `*` needs a quorum and every field */
    const char *star =
        "{\"policy\":{\"degrees\":{},\"fees\":{\"account_open\":1,"
        "\"currency\":\"EUR\",\"link_free_credits\":0,\"per_credit\":2},"
        "\"seal_interval_ms\":50,\"sources\":{}},\"scope\":\"*\"}";
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_POLICY_SET,
                                              .author = &f.uni, .body = star},
                           &r), CB_EQUORUM);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{\"degrees\":{}},\"scope\":\"*\"}",
                     .signers = {&f.bank}}, &r),
                 CB_EPOLICY, "%s", r.msg);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_POLICY_SET,
                                              .author = &f.uni, .body = star,
                                              .signers = {&f.bank}}, &r),
                 0, "%s", r.msg);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert_eq(st.seal_interval_ms, 50);
}

Test(gov, wrong_ledger_and_second_genesis_refused)
{
    struct lg_result r;
    uint8_t other[32] = {1};
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{},\"scope\":\"university\"}",
                     .ledger = other}, &r), CB_ELEDGER);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &f.bank,
                     .body = fx_genesis_body(&f),
                     .signers = {&f.bank_node, &f.uni, &f.uni_node, &f.prov,
                                 &f.prov_node}}, &r), CB_EGENESIS);
}

Test(gov, duplicate_is_answered_with_its_index)
{
    struct fx_e e = {.type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{},\"scope\":\"university\"}"};
    size_t len;
    uint8_t *p = fx_build(&f, &e, &len);
    struct lg_result r;
    cr_assert_eq(fx_submit_bytes(&f, p, len, &r), 0);
    uint64_t idx = r.index;
    cr_assert_eq(fx_submit_bytes(&f, p, len, &r), CB_EDUPLICATE);
    cr_assert_eq(r.index, idx);
    struct lg_status st;
    lg_status(f.l, &st);
    cr_assert_eq(st.size, idx + 1, "the retry is not a leaf");
    free(p);
}

Test(gov, batch_is_atomic_per_entry_and_replay_is_a_noop)
{
    struct fx_e good = {.type = LG_T_POLICY_SET, .author = &f.uni,
                        .body = "{\"policy\":{},\"scope\":\"university\"}"};
    struct fx_e bad = {.type = LG_T_POLICY_SET, .author = &f.uni,
                       .body = "{\"policy\":{},\"scope\":\"bank\"}"};
    size_t l1, l2, l3;
    uint8_t *p1 = fx_build(&f, &good, &l1), *p2 = fx_build(&f, &bad, &l2);
    uint8_t *p3 = fx_build(&f, &good, &l3);
    uint8_t junk[] = {0x92, 0xc4, 0x01};
    struct lg_buf b[4] = {{p1, l1}, {p2, l2}, {junk, sizeof junk}, {p3, l3}};
    struct lg_result r[4];
    struct cb_err err = {0, ""};
    bool replayed;
    struct lg_status before, after;
    lg_status(f.l, &before);
    cr_assert_eq(lg_apply(f.l, 7, b, 4, r, &replayed, &err), 0, "%s", err.msg);
    cr_assert(!replayed);
    cr_assert_eq(r[0].code, 0);
    cr_assert_eq(r[1].code, CB_ESCOPE);
    cr_assert_eq(r[2].code, CB_EMSGPACK, "%s", cb_errname(r[2].code));
    cr_assert_eq(r[3].code, 0);
    cr_assert_eq(r[3].index, r[0].index + 1, "refused entries are no leaves");
    lg_status(f.l, &after);
    cr_assert_eq(after.size, before.size + 2);
    cr_assert_eq(after.applied_seq, 7);
    cr_assert_eq(lg_apply(f.l, 7, b, 4, r, &replayed, &err), 0);
    cr_assert(replayed);
    lg_status(f.l, &before);
    cr_assert_eq(before.size, after.size);
    cr_assert_arr_eq(before.root, after.root, 32);
    free(p1);
    free(p2);
    free(p3);
}

Test(gov, check_is_a_dry_run)
{
    struct fx_e e = {.type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{},\"scope\":\"university\"}"};
    size_t len;
    uint8_t *p = fx_build(&f, &e, &len);
    struct lg_result r;
    struct lg_status a, b;
    lg_status(f.l, &a);
    cr_assert_eq(lg_check(f.l, p, len, &r), 0);
    cr_assert_eq(r.code, 0);
    cr_assert_eq(r.index, a.size);
    lg_status(f.l, &b);
    cr_assert_eq(a.size, b.size);
    free(p);
}

Test(gov, bad_signature_refused_before_rules)
{
    struct fx_e e = {.type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{},\"scope\":\"university\"}"};
    size_t len;
    uint8_t *p = fx_build(&f, &e, &len);
    p[len - 3] ^= 1; /* inside the signature */
    struct lg_result r;
    cr_assert_eq(fx_submit_bytes(&f, p, len, &r), CB_EBADSIG);
    free(p);
}

Test(gov, genesis_rules)
{
    struct fx g;
    fx_open(&g);
    struct lg_result r;
    /* before genesis nothing else applies */
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &g.uni,
                     .body = "{\"policy\":{},\"scope\":\"university\"}"}, &r),
                 CB_EGENESIS);
    /* every founder key must sign */
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = fx_genesis_body(&g),
                     .signers = {&g.bank_node, &g.uni, &g.uni_node, &g.prov}},
                     &r), CB_EMISSINGSIG, "%s", r.msg);
    /* the author must be a founder's issuer key */
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.learner,
                     .body = fx_genesis_body(&g),
                     .signers = {&g.bank, &g.bank_node, &g.uni, &g.uni_node,
                                 &g.prov, &g.prov_node}}, &r),
                 CB_EAUTHOR, "%s", r.msg);
    /* quorum 1 of 3 breaks n/2 < q */
    char body[4096];
    snprintf(body, sizeof body, "%s", fx_genesis_body(&g));
    char *q = strstr(body, "\"governance_quorum\":2");
    q[20] = '1';
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank, .body = body,
                     .signers = {&g.bank_node, &g.uni, &g.uni_node, &g.prov,
                                 &g.prov_node}}, &r),
                 CB_EQUORUMBOUNDS, "%s", r.msg);
    fx_teardown(&g);
}

Test(gov, same_entries_same_roots)
{
    struct fx g;
    fx_setup(&g);
    struct lg_status a, b;
    lg_status(f.l, &a);
    lg_status(g.l, &b);
    /* same keys, same bodies, but random nonces: different ids... */
    cr_assert_eq(a.size, b.size);
    /* ...so replay f's own leaves into a third ledger: identical roots */
    struct fx h;
    fx_open(&h);
    const struct lg_log *log = lg_ledger_log(f.l);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    for (uint64_t i = 0; i < a.size; i++) {
        const uint8_t *p;
        size_t len;
        cr_assert_eq(lg_log_get(log, txn, i, &p, &len), 0);
        struct lg_result r;
        cr_assert_eq(fx_submit_bytes(&h, p, len, &r), 0, "%s", r.msg);
    }
    mdb_txn_abort(txn);
    struct lg_status c;
    lg_status(h.l, &c);
    cr_assert_eq(c.size, a.size);
    cr_assert_arr_eq(c.root, a.root, 32);
    cr_assert_arr_eq(c.governance_chain, a.governance_chain, 32);
    cr_assert_arr_eq(c.ledger_id, a.ledger_id, 32);
    fx_teardown(&g);
    fx_teardown(&h);
}

/* The cosign quorum is bounded by the checkpoint note: a final note carries
 * one signature line per cosign of the quorum, and a note holds at most 100
 * (LG_BUNDLE_NOTE_LINES; golang.org/x/mod/sumdb/note refuses more), so a
 * membership whose cosign quorum would pass 100 could never make a
 * checkpoint that a verifier accepts. With the default quorums (0 at
 * genesis) that is n = 150 (floor(2n/3)+1 = 101): members 4 to 149 join,
 * the 150th is refused. */
Test(gov_large, cosign_quorum_stays_within_a_note)
{
    struct fx *x = &f;
    fx_open(x);
    char body[4096];
    const char *demo = fx_genesis_body(x);
    const char *q = "\"cosign_quorum\":2,\"governance_quorum\":2,";
    const char *at = strstr(demo, q);
    cr_assert_not_null(at);
    snprintf(body, sizeof body, "%.*s\"cosign_quorum\":0,"
             "\"governance_quorum\":0,%s", (int)(at - demo), demo,
             at + strlen(q));
    uint8_t id[32];
    fx_ok(x, &(struct fx_e){.type = LG_T_GENESIS, .author = &x->bank,
                            .body = body,
                            .signers = {&x->bank_node, &x->uni, &x->uni_node,
                                        &x->prov, &x->prov_node}}, id);
    memcpy(x->ledger, id, 32);

    static struct cy_key issuer[151], node[151];
    static const struct cy_key *more[LG_MAX_SIGS];
    issuer[1] = x->bank;
    issuer[2] = x->uni;
    issuer[3] = x->prov;
    for (unsigned n = 3; n < 150; n++) { /* n members in force */
        unsigned m = n + 1;
        char name[32], nname[40];
        snprintf(name, sizeof name, "member-%u", m);
        snprintf(nname, sizeof nname, "member-%u-node", m);
        fx_key(&issuer[m], name);
        fx_key(&node[m], nname);
        size_t k = 0;
        for (unsigned i = 2; i <= n / 2 + 1; i++) /* the quorum, bank first */
            more[k++] = &issuer[i];
        more[k++] = &issuer[m];
        more[k++] = &node[m];
        struct lg_result r;
        int rv = fx_submit(x, &(struct fx_e){
                     .type = LG_T_MEMBER_ADD, .author = &x->bank,
                     .body = member_body(&issuer[m], &node[m], name),
                     .more = more, .nmore = k}, &r);
        if (m < 150) {
            cr_assert_eq(rv, 0, "member %u: %s", m, r.msg);
        } else {
            cr_assert_eq(rv, CB_EQUORUMBOUNDS, "member %u: %s: %s", m,
                         cb_errname(rv), r.msg);
            cr_assert_not_null(strstr(r.msg, "cosign quorum 101"), "%s",
                               r.msg);
        }
    }
    struct lg_status st;
    cr_assert_eq(lg_status(x->l, &st), 0);
    cr_assert_eq(st.members, 149);
    cr_assert_eq(st.cosign_quorum, 100);
    cr_assert_eq(st.governance_quorum, 75);
    fx_teardown(x);
}
