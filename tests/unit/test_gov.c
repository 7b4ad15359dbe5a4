/* Governance rules (DESIGN 2, 4): genesis, membership, keys, policy,
 * quorums, the ledger id, duplicates, and the batch/replay contract. */
#include "fixture.h"

#include "../../ledger/sm.h"

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

/* ---- the rules of spec/state-machine.md "Governance entries", one by one
 * (each test below kills at least one mutant of tests/mutation/gov.bash) */

/* The demo `*` policy of fx_genesis_body. */
#define DEMO_POLICY                                                          \
    "{\"degrees\":{\"associate\":{\"general\":15,\"major\":45,\"total\":80}," \
    "\"bachelor\":{\"general\":30,\"major\":60,\"total\":140}},"             \
    "\"fees\":{\"account_open\":4000,\"currency\":\"KRW\","                  \
    "\"link_free_credits\":80,\"per_credit\":1000},"                         \
    "\"seal_interval_ms\":20,"                                               \
    "\"sources\":{\"mooc\":{\"min_attendance\":80,\"min_grade\":60},"        \
    "\"part_time\":{\"appealable\":true},\"school\":{\"appealable\":true}}}"

/* {"issuers":[issuers],"name":name,"node":node,"roles":[roles]} into buf;
 * issuers and roles are JSON array contents. */
static const char *mmap(char *buf, size_t cap, const char *name,
                        const char *issuers, const uint8_t *node,
                        const char *roles)
{
    snprintf(buf, cap,
             "{\"issuers\":[%s],\"name\":\"%s\",\"node\":\"%s\",\"roles\":[%s]}",
             issuers, name, fx_hex(node), roles);
    return buf;
}

/* "\"hex:...\"" of one key, for mmap's issuers (rotating buffers). */
static const char *qk(const uint8_t *pk)
{
    static char bufs[4][72];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, 72, "\"%s\"", fx_hex(pk));
    return p;
}

/* A genesis body; origin NULL for none. */
static const char *gbody(char *buf, size_t cap, unsigned gq, unsigned cq,
                         const char *members, const char *policy,
                         const char *origin)
{
    char o[300] = "";
    if (origin != NULL)
        snprintf(o, sizeof o, "\"origin\":\"%s\",", origin);
    snprintf(buf, cap,
             "{\"cosign_quorum\":%u,\"governance_quorum\":%u,\"members\":[%s],"
             "%s\"policy\":%s}",
             cq, gq, members, o, policy);
    return buf;
}

/* The three fixture founders' member maps, comma-separated. */
static const char *founders(struct fx *g)
{
    static char buf[2048];
    char a[400], b[400], c[400];
    snprintf(buf, sizeof buf, "%s,%s,%s",
             mmap(a, sizeof a, "bank", qk(g->bank.pk), g->bank_node.pk,
                  "\"registrar\",\"recognizer\""),
             mmap(b, sizeof b, "university", qk(g->uni.pk), g->uni_node.pk,
                  "\"recognizer\",\"provider\""),
             mmap(c, sizeof c, "provider", qk(g->prov.pk), g->prov_node.pk,
                  "\"provider\""));
    return buf;
}

static int genesis3(struct fx *g, const char *body, struct lg_result *r)
{
    int rv = fx_submit(g, &(struct fx_e){
                 .type = LG_T_GENESIS, .author = &g->bank, .body = body,
                 .signers = {&g->bank_node, &g->uni, &g->uni_node, &g->prov,
                             &g->prov_node}}, r);
    if (rv == 0)
        memcpy(g->ledger, r->id, 32);
    return rv;
}

static int update_roles(struct fx *x, const struct cy_key *author,
                        const char *body, const struct cy_key *s1,
                        const struct cy_key *s2, struct lg_result *r)
{
    return fx_submit(x, &(struct fx_e){.type = LG_T_MEMBER_UPDATE,
                                       .author = author, .body = body,
                                       .signers = {s1, s2}}, r);
}

static void remove_provider(void)
{
    fx_ok(&f, &(struct fx_e){.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                             .body = "{\"name\":\"provider\"}",
                             .signers = {&f.uni}}, NULL);
}

Test(gov, new_keys_must_be_valid_ed25519_keys)
{
    remove_provider(); /* n = 2: a third member keeps quorum 2 valid */
    struct cy_key wi, wn, nk;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    fx_key(&nk, "bank-2");
    static const uint8_t zero[32]; /* y = 0: a point of small order */
    char m[512], body[600];
    struct lg_result r;
    snprintf(body, sizeof body, "{\"member\":%s}",
             mmap(m, sizeof m, "witness", qk(wi.pk), zero, "\"witness\""));
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_MEMBER_ADD, .author = &f.bank, .body = body,
                     .signers = {&f.uni, &wi}}, &r), CB_EBADKEY, "%s", r.msg);
    snprintf(body, sizeof body, "{\"member\":%s}",
             mmap(m, sizeof m, "witness", qk(zero), wn.pk, "\"witness\""));
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_MEMBER_ADD, .author = &f.bank, .body = body,
                     .signers = {&f.uni, &wn}}, &r), CB_EBADKEY, "%s", r.msg);
    snprintf(body, sizeof body, "{\"new\":\"%s\",\"old\":\"%s\",\"use\":"
             "\"issuer\"}", fx_hex(zero), fx_hex(f.bank.pk));
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_KEY_ROTATE,
                                              .author = &f.bank, .body = body},
                           &r), CB_EBADKEY, "%s", r.msg);
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni, true, &r), 0, "%s",
                 r.msg);
}

Test(gov, member_maps_are_checked)
{
    remove_provider();
    struct cy_key wi, wn, w2;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    fx_key(&w2, "witness-2");
    char two[160], iq[80], nq[80]; /* qk's buffers rotate: copy them */
    snprintf(two, sizeof two, "%s,%s", qk(wi.pk), qk(wi.pk));
    snprintf(iq, sizeof iq, "%s", qk(wi.pk));
    snprintf(nq, sizeof nq, "%s", qk(wn.pk));
    struct {
        const char *name, *issuers, *roles;
        const uint8_t *node;
        const char *why;
    } bad[] = {
        {"no spaces", iq, "\"witness\"", wn.pk, "name"},
        {"witness", iq, "", wn.pk, "roles empty"},
        {"witness", iq, "\"witness\",\"witness\"", wn.pk, "role repeated"},
        {"witness", iq, "\"boss\"", wn.pk, "unknown role"},
        {"witness", "", "\"witness\"", wn.pk, "issuers empty"},
        {"witness", two, "\"witness\"", wn.pk, "issuer repeated"},
        {"witness", nq, "\"witness\"", wn.pk, "issuer = node"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char m[600], body[700];
        snprintf(body, sizeof body, "{\"member\":%s}",
                 mmap(m, sizeof m, bad[i].name, bad[i].issuers, bad[i].node,
                      bad[i].roles));
        struct lg_result r;
        cr_assert_eq(fx_submit(&f, &(struct fx_e){
                         .type = LG_T_MEMBER_ADD, .author = &f.bank,
                         .body = body, .signers = {&f.uni, &wi, &wn}}, &r),
                     CB_EVALUE, "%s: %s: %s", bad[i].why, cb_errname(r.code),
                     r.msg);
    }
    struct lg_result r;
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni, true, &r), 0, "%s",
                 r.msg);
}

Test(gov, an_explicit_governance_quorum_is_the_quorum)
{
    struct fx g;
    fx_open(&g);
    char body[4096];
    struct lg_result r;
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 3, 3, founders(&g),
                                    DEMO_POLICY, NULL), &r), 0, "%s", r.msg);
    struct lg_status st;
    cr_assert_eq(lg_status(g.l, &st), 0);
    cr_assert_eq(st.governance_quorum, 3);
    cr_assert_eq(st.cosign_quorum, 3);
    const char *upd = "{\"name\":\"provider\",\"roles\":[\"witness\"]}";
    cr_assert_eq(update_roles(&g, &g.bank, upd, &g.uni, NULL, &r), CB_EQUORUM,
                 "2 of 3 with quorum 3: %s", r.msg);
    cr_assert_eq(update_roles(&g, &g.bank, upd, &g.uni, &g.prov, &r), 0, "%s",
                 r.msg);
    fx_teardown(&g);
}

Test(gov, quorum_bounds_at_genesis)
{
    struct fx g;
    fx_open(&g);
    char a[400], b[400], two[900], body[4096];
    snprintf(two, sizeof two, "%s,%s",
             mmap(a, sizeof a, "bank", qk(g.bank.pk), g.bank_node.pk,
                  "\"registrar\""),
             mmap(b, sizeof b, "university", qk(g.uni.pk), g.uni_node.pk,
                  "\"recognizer\""));
    /* n = 2: q = 1 is not above n/2, q = 3 is above n */
    const unsigned bad[][2] = {{1, 2}, {3, 2}, {2, 1}, {2, 3}};
    for (size_t i = 0; i < 4; i++) {
        struct lg_result r;
        cr_assert_eq(fx_submit(&g, &(struct fx_e){
                         .type = LG_T_GENESIS, .author = &g.bank,
                         .body = gbody(body, sizeof body, bad[i][0], bad[i][1],
                                       two, DEMO_POLICY, NULL),
                         .signers = {&g.bank_node, &g.uni, &g.uni_node}}, &r),
                     CB_EQUORUMBOUNDS, "governance %u cosign %u: %s: %s",
                     bad[i][0], bad[i][1], cb_errname(r.code), r.msg);
    }
    struct lg_result r;
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = gbody(body, sizeof body, 2, 2, two, DEMO_POLICY,
                                   NULL),
                     .signers = {&g.bank_node, &g.uni, &g.uni_node}}, &r),
                 0, "%s", r.msg);
    fx_teardown(&g);
}

Test(gov, the_last_member_cannot_leave)
{
    struct fx g;
    fx_open(&g);
    char a[400], body[4096];
    struct lg_result r;
    mmap(a, sizeof a, "bank", qk(g.bank.pk), g.bank_node.pk, "\"registrar\"");
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = gbody(body, sizeof body, 0, 0, a, DEMO_POLICY,
                                   NULL),
                     .signers = {&g.bank_node}}, &r), 0, "%s", r.msg);
    memcpy(g.ledger, r.id, 32);
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_MEMBER_REMOVE, .author = &g.bank,
                     .body = "{\"name\":\"bank\"}"}, &r),
                 CB_EQUORUMBOUNDS, "%s", r.msg);
    cr_assert_not_null(strstr(r.msg, "no member would remain"), "%s", r.msg);
    fx_teardown(&g);
}

Test(gov, keys_of_one_member_count_once)
{
    struct fx g;
    fx_open(&g);
    struct cy_key b2;
    fx_key(&b2, "bank-issuer-2");
    char a[400], b[400], c[400], ms[1400], body[4096], iss[160];
    snprintf(iss, sizeof iss, "%s,%s", qk(g.bank.pk), qk(b2.pk));
    snprintf(ms, sizeof ms, "%s,%s,%s",
             mmap(a, sizeof a, "bank", iss, g.bank_node.pk, "\"registrar\""),
             mmap(b, sizeof b, "university", qk(g.uni.pk), g.uni_node.pk,
                  "\"recognizer\""),
             mmap(c, sizeof c, "provider", qk(g.prov.pk), g.prov_node.pk,
                  "\"provider\""));
    struct lg_result r;
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = gbody(body, sizeof body, 2, 2, ms, DEMO_POLICY,
                                   NULL),
                     .signers = {&b2, &g.bank_node, &g.uni, &g.uni_node,
                                 &g.prov, &g.prov_node}}, &r), 0, "%s", r.msg);
    memcpy(g.ledger, r.id, 32);
    const char *upd = "{\"name\":\"provider\",\"roles\":[\"witness\"]}";
    cr_assert_eq(update_roles(&g, &g.bank, upd, &b2, NULL, &r), CB_EQUORUM,
                 "two keys of bank are one member: %s", r.msg);
    cr_assert_eq(update_roles(&g, &g.bank, upd, &b2, &g.uni, &r), 0, "%s",
                 r.msg);
    fx_teardown(&g);
}

Test(gov, the_quorum_is_of_the_members_in_force_before_the_entry)
{
    struct fx g;
    fx_open(&g);
    char body[4096];
    struct lg_result r;
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 0, 0, founders(&g),
                                    DEMO_POLICY, NULL), &r), 0, "%s", r.msg);
    struct cy_key wi, wn;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    char m[400], add[500];
    snprintf(add, sizeof add, "{\"member\":%s}",
             mmap(m, sizeof m, "witness", qk(wi.pk), wn.pk, "\"witness\""));
    /* n = 3: floor(3/2) + 1 = 2 */
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_MEMBER_ADD, .author = &g.bank, .body = add,
                     .signers = {&g.uni, &wi, &wn}}, &r), 0, "%s", r.msg);
    /* n = 4 now: 3 needed, the new member counting */
    const char *upd = "{\"name\":\"provider\",\"roles\":[\"witness\"]}";
    cr_assert_eq(update_roles(&g, &g.bank, upd, &g.uni, NULL, &r), CB_EQUORUM,
                 "%s", r.msg);
    cr_assert_eq(update_roles(&g, &g.bank, upd, &g.uni, &wi, &r), 0, "%s",
                 r.msg);
    fx_teardown(&g);
}

Test(gov, a_rotated_out_key_does_not_count_toward_a_quorum)
{
    struct cy_key u2;
    fx_key(&u2, "university-2");
    struct lg_result r;
    cr_assert_eq(rotate(&f.uni, &u2, "issuer", true, &r), 0, "%s", r.msg);
    const char *upd = "{\"name\":\"provider\",\"roles\":[\"witness\"]}";
    cr_assert_eq(update_roles(&f, &f.bank, upd, &f.uni, NULL, &r), CB_EQUORUM,
                 "%s", r.msg);
    cr_assert_eq(update_roles(&f, &f.bank, upd, &u2, NULL, &r), 0, "%s",
                 r.msg);
}

Test(gov, genesis_checks)
{
    struct fx g;
    fx_open(&g);
    char body[4096], pol[2048];
    struct lg_result r;
    const char *fm = founders(&g);
    uint8_t ref[32] = {7};
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = gbody(body, sizeof body, 2, 2, fm, DEMO_POLICY,
                                   NULL),
                     .refs = (const uint8_t(*)[32])ref, .nrefs = 1,
                     .signers = {&g.bank_node, &g.uni, &g.uni_node, &g.prov,
                                 &g.prov_node}}, &r), CB_EREF, "%s", r.msg);
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 2, 2, fm, DEMO_POLICY,
                                    "with space"), &r), CB_EVALUE, "%s", r.msg);
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 2, 2, fm, DEMO_POLICY,
                                    ""), &r), CB_EVALUE, "%s", r.msg);
    /* the * policy must be whole */
    snprintf(pol, sizeof pol, "%s", DEMO_POLICY);
    char *sie = strstr(pol, "\"seal_interval_ms\":20,");
    memmove(sie, sie + 22, strlen(sie + 22) + 1);
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 2, 2, fm, pol, NULL),
                          &r), CB_EPOLICY, "%s", r.msg);
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 2, 2, fm,
                                    "{\"sources\":{\"moon\":{}}}", NULL), &r),
                 CB_EPOLICY, "%s", r.msg);
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 0, 0, "", DEMO_POLICY,
                                    NULL), &r), CB_EVALUE, "%s", r.msg);
    /* founders distinct: a name twice, a key of another founder */
    char a[400], b[400], c[400], ms[1400];
    snprintf(ms, sizeof ms, "%s,%s",
             mmap(a, sizeof a, "bank", qk(g.bank.pk), g.bank_node.pk,
                  "\"registrar\""),
             mmap(b, sizeof b, "bank", qk(g.uni.pk), g.uni_node.pk,
                  "\"recognizer\""));
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = gbody(body, sizeof body, 2, 2, ms, DEMO_POLICY,
                                   NULL),
                     .signers = {&g.bank_node, &g.uni, &g.uni_node}}, &r),
                 CB_ENAMEUSED, "%s", r.msg);
    snprintf(ms, sizeof ms, "%s,%s",
             mmap(a, sizeof a, "bank", qk(g.bank.pk), g.bank_node.pk,
                  "\"registrar\""),
             mmap(b, sizeof b, "university", qk(g.uni.pk), g.bank_node.pk,
                  "\"recognizer\""));
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = gbody(body, sizeof body, 2, 2, ms, DEMO_POLICY,
                                   NULL),
                     .signers = {&g.bank_node, &g.uni}}, &r),
                 CB_EKEYUSED, "%s", r.msg);
    snprintf(ms, sizeof ms, "%s,%s",
             mmap(a, sizeof a, "bank", qk(g.bank.pk), g.bank_node.pk,
                  "\"registrar\""),
             mmap(c, sizeof c, "university", qk(g.bank.pk), g.uni_node.pk,
                  "\"recognizer\""));
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank,
                     .body = gbody(body, sizeof body, 2, 2, ms, DEMO_POLICY,
                                   NULL),
                     .signers = {&g.bank_node, &g.uni_node}}, &r),
                 CB_EKEYUSED, "%s", r.msg);
    /* the author is a founder's issuer key, not its node key */
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank_node,
                     .body = gbody(body, sizeof body, 2, 2, fm, DEMO_POLICY,
                                   NULL),
                     .signers = {&g.bank, &g.uni, &g.uni_node, &g.prov,
                                 &g.prov_node}}, &r),
                 CB_EAUTHOR, "%s", r.msg);
    cr_assert_eq(genesis3(&g, gbody(body, sizeof body, 2, 2, fm, DEMO_POLICY,
                                    "example.org/credits"), &r), 0, "%s",
                 r.msg);
    struct lg_status st;
    cr_assert_eq(lg_status(g.l, &st), 0);
    cr_assert_str_eq(st.origin, "example.org/credits");
    cr_assert_eq(st.members, 3);
    fx_teardown(&g);
}

Test(gov, governance_entries_take_no_refs)
{
    remove_provider();
    uint8_t ref[32];
    memcpy(ref, f.ledger, 32);
    const uint8_t(*refs)[32] = (const uint8_t(*)[32])ref;
    struct cy_key wi, wn, nk;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    fx_key(&nk, "bank-2");
    char rot[256];
    snprintf(rot, sizeof rot, "{\"new\":\"%s\",\"old\":\"%s\",\"use\":"
             "\"issuer\"}", fx_hex(nk.pk), fx_hex(f.bank.pk));
    struct fx_e es[] = {
        {.type = LG_T_MEMBER_ADD, .author = &f.bank,
         .body = member_body(&wi, &wn, "witness"),
         .signers = {&f.uni, &wi, &wn}},
        {.type = LG_T_MEMBER_UPDATE, .author = &f.bank,
         .body = "{\"name\":\"university\",\"roles\":[\"witness\"]}",
         .signers = {&f.uni}},
        {.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
         .body = "{\"name\":\"nobody\"}", .signers = {&f.uni}},
        {.type = LG_T_KEY_ROTATE, .author = &f.bank, .body = rot,
         .signers = {&nk}},
        {.type = LG_T_POLICY_SET, .author = &f.uni,
         .body = "{\"policy\":{},\"scope\":\"university\"}"},
    };
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++) {
        struct lg_result r;
        es[i].refs = refs;
        es[i].nrefs = 1;
        cr_assert_eq(fx_submit(&f, &es[i], &r), CB_EREF, "%s: %s: %s",
                     lg_type_name(es[i].type), cb_errname(r.code), r.msg);
    }
}

Test(gov, governance_authors_are_issuer_keys_of_members_in_force)
{
    remove_provider();
    struct cy_key wi, wn;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    const char *star =
        "{\"policy\":{\"degrees\":{},\"fees\":{\"account_open\":1,"
        "\"currency\":\"EUR\",\"link_free_credits\":0,\"per_credit\":2},"
        "\"seal_interval_ms\":50,\"sources\":{}},\"scope\":\"*\"}";
    const struct cy_key *authors[] = {&f.uni_node, &f.learner, &f.prov};
    for (size_t a = 0; a < 3; a++) {
        struct fx_e es[] = {
            {.type = LG_T_MEMBER_ADD, .author = authors[a],
             .body = member_body(&wi, &wn, "witness"),
             .signers = {&f.bank, &f.uni, &wi, &wn}},
            {.type = LG_T_MEMBER_UPDATE, .author = authors[a],
             .body = "{\"name\":\"university\",\"roles\":[\"witness\"]}",
             .signers = {&f.bank, &f.uni}},
            {.type = LG_T_MEMBER_REMOVE, .author = authors[a],
             .body = "{\"name\":\"university\"}",
             .signers = {&f.bank, &f.uni}},
            {.type = LG_T_POLICY_SET, .author = authors[a], .body = star,
             .signers = {&f.bank, &f.uni}},
        };
        for (size_t i = 0; i < sizeof es / sizeof es[0]; i++) {
            struct lg_result r;
            cr_assert_eq(fx_submit(&f, &es[i], &r), CB_EAUTHOR,
                         "%s by author %zu: %s: %s", lg_type_name(es[i].type),
                         a, cb_errname(r.code), r.msg);
        }
    }
}

Test(gov, update_and_remove_name_a_member_in_force_and_roles_are_checked)
{
    remove_provider();
    struct lg_result r;
    const char *bad[] = {
        "{\"name\":\"provider\",\"roles\":[\"witness\"]}",
        "{\"name\":\"no such\",\"roles\":[\"witness\"]}",
    };
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(update_roles(&f, &f.bank, bad[i], &f.uni, NULL, &r),
                     CB_EMEMBER, "%s: %s", bad[i], r.msg);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                     .body = "{\"name\":\"provider\"}", .signers = {&f.uni}},
                     &r), CB_EMEMBER, "%s", r.msg);
    cr_assert_eq(update_roles(&f, &f.bank,
                              "{\"name\":\"university\",\"roles\":[]}",
                              &f.uni, NULL, &r), CB_EVALUE, "%s", r.msg);
    cr_assert_eq(update_roles(&f, &f.bank,
                              "{\"name\":\"university\",\"roles\":"
                              "[\"witness\",\"witness\"]}",
                              &f.uni, NULL, &r), CB_EVALUE, "%s", r.msg);
}

static void assert_key(struct lg_ledger *l, const struct cy_key *k, int kind,
                       const char *member, bool in_force)
{
    struct lg_key_info ki;
    cr_assert_eq(lg_key_info(l, k->pk, &ki), 0, "%s", member);
    cr_assert_eq(ki.kind, kind, "%s", member);
    cr_assert_str_eq(ki.member, member);
    cr_assert_eq(ki.in_force, in_force, "%s: in force %d", member,
                 (int)ki.in_force);
}

Test(gov, a_removed_members_keys_leave_force_rotated_ones_included)
{
    struct cy_key u2;
    fx_key(&u2, "university-2");
    struct lg_result r;
    cr_assert_eq(rotate(&f.uni, &u2, "issuer", true, &r), 0, "%s", r.msg);
    assert_key(f.l, &u2, LG_KEY_ISSUER, "university", true);
    assert_key(f.l, &f.uni, LG_KEY_ISSUER, "university", false);
    fx_ok(&f, &(struct fx_e){.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                             .body = "{\"name\":\"university\"}",
                             .signers = {&f.prov}}, NULL);
    assert_key(f.l, &u2, LG_KEY_ISSUER, "university", false);
    assert_key(f.l, &f.uni_node, LG_KEY_NODE, "university", false);
    assert_key(f.l, &f.prov, LG_KEY_ISSUER, "provider", true);
    json_t *v;
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_members_view(f.l, &v, &err), 0, "%s", err.msg);
    json_t *ms = json_object_get(v, "members");
    size_t i;
    json_t *m;
    int seen = 0;
    json_array_foreach(ms, i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "name")),
                   "university") == 0) {
            seen++;
            cr_assert(json_is_false(json_object_get(m, "in_force")));
            json_t *iss = json_array_get(json_object_get(m, "issuers"), 0);
            char hex[65];
            cy_hex(hex, u2.pk, 32);
            cr_assert_str_eq(json_string_value(iss), hex,
                             "the member record holds the rotated key");
        }
    }
    cr_assert_eq(seen, 1);
    json_decref(v);
}

Test(gov, a_new_member_can_act_at_once)
{
    remove_provider();
    struct cy_key wi, wn;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    struct lg_result r;
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni, true, &r), 0, "%s",
                 r.msg);
    assert_key(f.l, &wi, LG_KEY_ISSUER, "witness", true);
    assert_key(f.l, &wn, LG_KEY_NODE, "witness", true);
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &wi,
                     .body = "{\"policy\":{},\"scope\":\"witness\"}"}, &r),
                 0, "%s", r.msg);
}

Test(gov, key_rotate_checks)
{
    struct cy_key nk, stranger;
    fx_key(&nk, "bank-2");
    fx_key(&stranger, "stranger");
    struct lg_result r;
    cr_assert_eq(rotate(&f.bank, &nk, "witness", true, &r), CB_EVALUE, "%s",
                 r.msg);
    /* the author must be body.old */
    char body[256];
    snprintf(body, sizeof body, "{\"new\":\"%s\",\"old\":\"%s\",\"use\":"
             "\"issuer\"}", fx_hex(nk.pk), fx_hex(f.uni.pk));
    cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_KEY_ROTATE,
                                              .author = &f.bank, .body = body,
                                              .signers = {&nk}}, &r),
                 CB_EAUTHOR, "%s", r.msg);
    /* a key the ledger never saw is not in force */
    cr_assert_eq(rotate(&stranger, &nk, "issuer", true, &r), CB_EKEYSTATE,
                 "%s: %s", cb_errname(r.code), r.msg);
    /* a learner key is not a member key */
    uint8_t acct[32];
    fx_open_account(&f, &f.learner, false, acct);
    cr_assert_eq(rotate(&f.learner, &nk, "issuer", true, &r), CB_EKEYSTATE,
                 "%s", r.msg);
}

Test(gov, policy_validation)
{
    struct lg_result r;
    const char *star_bad[] = {
        /* a top-level key missing */
        "{\"fees\":{\"account_open\":1,\"currency\":\"EUR\","
        "\"link_free_credits\":0,\"per_credit\":2},\"seal_interval_ms\":50,"
        "\"sources\":{}}",
        "{\"degrees\":{},\"seal_interval_ms\":50,\"sources\":{}}",
        "{\"degrees\":{},\"fees\":{\"account_open\":1,\"currency\":\"EUR\","
        "\"link_free_credits\":0,\"per_credit\":2},\"sources\":{}}",
        "{\"degrees\":{},\"fees\":{\"account_open\":1,\"currency\":\"EUR\","
        "\"link_free_credits\":0,\"per_credit\":2},\"seal_interval_ms\":50}",
        /* a fee missing, or the currency empty */
        "{\"degrees\":{},\"fees\":{\"currency\":\"EUR\","
        "\"link_free_credits\":0,\"per_credit\":2},\"seal_interval_ms\":50,"
        "\"sources\":{}}",
        "{\"degrees\":{},\"fees\":{\"account_open\":1,\"currency\":\"EUR\","
        "\"per_credit\":2},\"seal_interval_ms\":50,\"sources\":{}}",
        "{\"degrees\":{},\"fees\":{\"account_open\":1,\"currency\":\"EUR\","
        "\"link_free_credits\":0},\"seal_interval_ms\":50,\"sources\":{}}",
        "{\"degrees\":{},\"fees\":{\"account_open\":1,\"currency\":\"\","
        "\"link_free_credits\":0,\"per_credit\":2},\"seal_interval_ms\":50,"
        "\"sources\":{}}",
    };
    for (size_t i = 0; i < sizeof star_bad / sizeof star_bad[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "{\"policy\":%s,\"scope\":\"*\"}",
                 star_bad[i]);
        cr_assert_eq(fx_submit(&f, &(struct fx_e){
                         .type = LG_T_POLICY_SET, .author = &f.uni,
                         .body = body, .signers = {&f.bank}}, &r),
                     CB_EPOLICY, "%s: %s: %s", star_bad[i], cb_errname(r.code),
                     r.msg);
    }
    const char *member_bad[] = {
        "{\"sources\":{\"mooc\":{\"min_grade\":101}}}",
        "{\"sources\":{\"mooc\":{\"min_attendance\":101}}}",
        "{\"degrees\":{\"\":{\"general\":1,\"major\":1,\"total\":1}}}",
        "{\"degrees\":{\"d\":{\"major\":1,\"total\":1}}}",
        "{\"degrees\":{\"d\":{\"general\":1,\"total\":1}}}",
        "{\"degrees\":{\"d\":{\"general\":1,\"major\":1}}}",
    };
    for (size_t i = 0; i < sizeof member_bad / sizeof member_bad[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "{\"policy\":%s,\"scope\":\"university\"}",
                 member_bad[i]);
        cr_assert_eq(fx_submit(&f, &(struct fx_e){.type = LG_T_POLICY_SET,
                                                  .author = &f.uni,
                                                  .body = body}, &r),
                     CB_EPOLICY, "%s: %s: %s", member_bad[i],
                     cb_errname(r.code), r.msg);
    }
    /* the bounds themselves are fine */
    cr_assert_eq(fx_submit(&f, &(struct fx_e){
                     .type = LG_T_POLICY_SET, .author = &f.uni,
                     .body = "{\"policy\":{\"sources\":{\"mooc\":"
                             "{\"min_attendance\":100,\"min_grade\":100}}},"
                             "\"scope\":\"university\"}"}, &r), 0, "%s",
                 r.msg);
}

/* The effective policy of member (NULL: the * policy alone). */
static void effective(const char *member, struct sm_policy *p)
{
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(sm_policy_effective_txn(f.l, txn, member, p), 0);
    mdb_txn_abort(txn);
}

/* degrees.D of member's effective policy; the code (0 or degree_unknown). */
static int degree(const char *member, const char *d, struct sm_degree *out)
{
    MDB_txn *txn;
    struct cb_err err = {0, ""};
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    struct sm_ctx c;
    memset(&c, 0, sizeof c);
    c.l = f.l;
    c.txn = txn;
    c.err = &err;
    memset(out, 0, sizeof *out);
    int rv = sm_policy_degree(&c, member, d, strlen(d), out);
    mdb_txn_abort(txn);
    return rv;
}

static void set_uni_policy(const char *policy)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"policy\":%s,\"scope\":\"university\"}",
             policy);
    fx_ok(&f, &(struct fx_e){.type = LG_T_POLICY_SET, .author = &f.uni,
                             .body = body}, NULL);
}

Test(gov, the_effective_policy_is_laid_over_field_by_field)
{
    struct sm_policy p;
    struct sm_source_policy *mooc = &p.sources[SM_SRC_MOOC];
    /* fixture: university mooc {learner_revocable false, max_credits 12} */
    effective("university", &p);
    cr_assert_str_eq(p.currency, "KRW");
    cr_assert(p.has_account_open && p.account_open == 4000);
    cr_assert(p.has_per_credit && p.per_credit == 1000);
    cr_assert(p.has_link_free_credits && p.link_free_credits == 80);
    cr_assert(p.has_seal_interval_ms && p.seal_interval_ms == 20);
    cr_assert(mooc->has_min_grade && mooc->min_grade == 60, "from *");
    cr_assert(mooc->has_min_attendance && mooc->min_attendance == 80);
    cr_assert(mooc->has_max_credits && mooc->max_credits == 12, "member's");
    cr_assert(mooc->has_learner_revocable && !mooc->learner_revocable);
    cr_assert(!mooc->has_appealable && !mooc->appealable, "default false");
    cr_assert(p.sources[SM_SRC_SCHOOL].appealable);
    for (int s = 0; s < SM_SRC__COUNT; s++)
        if (s != SM_SRC_MOOC)
            cr_assert(p.sources[s].learner_revocable, "default true (%d)", s);
    effective("bank", &p); /* no policy of its own: the * policy */
    cr_assert(!mooc->has_max_credits && mooc->learner_revocable);
    cr_assert(mooc->has_min_grade && mooc->min_grade == 60);

    /* each field of the member's laid over, the rest kept from * */
    set_uni_policy("{\"fees\":{\"per_credit\":5},\"seal_interval_ms\":99,"
                   "\"sources\":{\"mooc\":{\"min_grade\":70},"
                   "\"school\":{\"appealable\":false}}}");
    effective("university", &p);
    cr_assert_eq(p.per_credit, 5);
    cr_assert(p.has_account_open && p.account_open == 4000, "kept");
    cr_assert(p.has_link_free_credits && p.link_free_credits == 80, "kept");
    cr_assert_eq(p.seal_interval_ms, 99);
    cr_assert_eq(mooc->min_grade, 70);
    cr_assert(mooc->has_min_attendance && mooc->min_attendance == 80, "kept");
    cr_assert(!mooc->has_max_credits, "the scope is replaced whole");
    cr_assert(mooc->learner_revocable, "the scope is replaced whole");
    cr_assert(!p.sources[SM_SRC_SCHOOL].appealable);
    cr_assert(p.sources[SM_SRC_PART_TIME].appealable, "other sources kept");
    struct lg_status st;
    cr_assert_eq(lg_status(f.l, &st), 0);
    cr_assert_eq(st.seal_interval_ms, 20, "sealing reads * only");
    effective("*", &p);
    cr_assert_eq(p.seal_interval_ms, 20);
    cr_assert_eq(p.per_credit, 1000);

    set_uni_policy("{\"fees\":{\"account_open\":7,\"link_free_credits\":9},"
                   "\"sources\":{\"mooc\":{\"appealable\":true,"
                   "\"max_credits\":3,\"min_attendance\":50}}}");
    effective("university", &p);
    cr_assert_eq(p.account_open, 7);
    cr_assert_eq(p.link_free_credits, 9);
    cr_assert_eq(p.per_credit, 1000, "kept");
    cr_assert(mooc->appealable && mooc->max_credits == 3);
    cr_assert_eq(mooc->min_attendance, 50);
    cr_assert_eq(mooc->min_grade, 60, "kept");

    /* degrees.D whole: the member's D, else the * policy's */
    struct sm_degree d;
    cr_assert_eq(degree("university", "bachelor", &d), 0);
    cr_assert(d.total == 140 && d.major == 60 && d.general == 30);
    set_uni_policy("{\"degrees\":{\"bachelor\":{\"general\":3,\"major\":2,"
                   "\"total\":1}},\"sources\":{\"mooc\":{"
                   "\"learner_revocable\":false}}}");
    cr_assert_eq(degree("university", "bachelor", &d), 0);
    cr_assert(d.total == 1 && d.major == 2 && d.general == 3);
    cr_assert_eq(degree("university", "associate", &d), 0);
    cr_assert(d.total == 80 && d.major == 45 && d.general == 15);
    cr_assert_eq(degree("bank", "bachelor", &d), 0);
    cr_assert_eq(d.total, 140);
    cr_assert_eq(degree("university", "doctor", &d), CB_EDEGREE);
    effective("university", &p);
    cr_assert(!mooc->learner_revocable);

    /* a removed member's policy stays its effective policy */
    fx_ok(&f, &(struct fx_e){.type = LG_T_MEMBER_REMOVE, .author = &f.bank,
                             .body = "{\"name\":\"university\"}",
                             .signers = {&f.prov}}, NULL);
    effective("university", &p);
    cr_assert(!mooc->learner_revocable);
    cr_assert_eq(degree("university", "bachelor", &d), 0);
    cr_assert_eq(d.total, 1);
}

Test(gov, governance_chain_is_over_governance_leaves_only)
{
    uint8_t acct[32];
    fx_open_account(&f, &f.learner, false, acct); /* not governance */
    fx_ok(&f, &(struct fx_e){.type = LG_T_POLICY_SET, .author = &f.uni,
                             .body = "{\"policy\":{},\"scope\":\"university\"}"},
          NULL);
    struct lg_status st;
    cr_assert_eq(lg_status(f.l, &st), 0);
    cr_assert_eq(st.size, 4);
    cr_assert_eq(st.governance, 3);
    uint8_t chain[32] = {0}, buf[64];
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(lg_ledger_env(f.l), NULL, MDB_RDONLY, &txn), 0);
    const uint64_t gov[] = {0, 1, 3};
    for (size_t i = 0; i < 3; i++) {
        const uint8_t *p;
        size_t len;
        cr_assert_eq(lg_log_get(lg_ledger_log(f.l), txn, gov[i], &p, &len), 0);
        memcpy(buf, chain, 32);
        cy_leaf_hash(buf + 32, p, len);
        cy_sha256(chain, buf, 64);
    }
    mdb_txn_abort(txn);
    cr_assert_arr_eq(st.governance_chain, chain, 32);
}

Test(gov, every_new_key_signs_its_entry)
{
    remove_provider();
    struct cy_key wi, wn;
    fx_key(&wi, "witness");
    fx_key(&wn, "witness-node");
    struct lg_result r;
    const struct cy_key *missing_one[][2] = {{&wn, NULL}, {&wi, NULL}};
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(fx_submit(&f, &(struct fx_e){
                         .type = LG_T_MEMBER_ADD, .author = &f.bank,
                         .body = member_body(&wi, &wn, "witness"),
                         .signers = {&f.uni, missing_one[i][0]}}, &r),
                     CB_EMISSINGSIG, "%zu: %s: %s", i, cb_errname(r.code),
                     r.msg);
    }
    cr_assert_eq(add_member(&wi, &wn, "witness", &f.uni, true, &r), 0, "%s",
                 r.msg);
    /* genesis: a founder's issuer key, then its node key, missing */
    struct fx g;
    fx_open(&g);
    char body[4096];
    gbody(body, sizeof body, 2, 2, founders(&g), DEMO_POLICY, NULL);
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank, .body = body,
                     .signers = {&g.bank_node, &g.uni_node, &g.prov,
                                 &g.prov_node}}, &r),
                 CB_EMISSINGSIG, "%s", r.msg);
    cr_assert_eq(fx_submit(&g, &(struct fx_e){
                     .type = LG_T_GENESIS, .author = &g.bank, .body = body,
                     .signers = {&g.uni, &g.uni_node, &g.prov,
                                 &g.prov_node}}, &r),
                 CB_EMISSINGSIG, "%s", r.msg);
    cr_assert_eq(genesis3(&g, body, &r), 0, "%s", r.msg);
    fx_teardown(&g);
}
