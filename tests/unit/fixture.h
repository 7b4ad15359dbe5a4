/*
 * Test fixture: a ledger in a temp directory with the demo consortium of
 * DESIGN 4.1, deterministic keys, and helpers that build, sign and apply
 * entries from JSON bodies ("hex:..." strings become bin).
 *
 *   struct fx f; fx_setup(&f);            genesis + university policy applied
 *   struct lg_result r;
 *   fx_submit(&f, &(struct fx_e){
 *       .type = LG_T_OUTCOME_DEPOSIT, .author = &f.prov, .account = acct,
 *       .body = "{...}"}, &r);             returns r.code
 *   fx_teardown(&f);
 *
 * Members: "bank" (registrar, recognizer; keys f.bank / f.bank_node),
 * "university" (recognizer, provider; f.uni / f.uni_node; own policy:
 * sources.mooc max_credits 12, learner_revocable false), "provider"
 * (provider; f.prov / f.prov_node). Quorums 2 and 2. f.learner is a fresh
 * learner key; fx_key() makes more.
 */
#ifndef CREDBANK_TEST_FIXTURE_H
#define CREDBANK_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/ledger.h>

struct fx {
    char dir[256];
    struct lg_ledger *l;
    uint8_t ledger[32];
    struct cy_key bank, bank_node, uni, uni_node, prov, prov_node, learner;
    uint64_t ts;
};

/* What to build; unset fields take defaults (ts: increasing clock, ledger:
 * the fixture's, nonce: random). signers: extra signers, NULL-terminated. */
struct fx_e {
    enum lg_type type;
    const struct cy_key *author;
    const uint8_t *account;
    const uint8_t (*refs)[32];
    size_t nrefs;
    const char *body;
    const struct cy_key *signers[16];
    const struct cy_key *const *more; /* nmore further signers after them */
    size_t nmore;
    uint64_t ts;
    const uint8_t *ledger;
    const uint8_t *body_raw; /* canonical body bytes instead of body JSON */
    size_t body_raw_len;
};

/* A deterministic key: seed = SHA-256("fixture:" || name). */
static inline void fx_key(struct cy_key *k, const char *name)
{
    uint8_t seed[32];
    char buf[128];
    snprintf(buf, sizeof buf, "fixture:%s", name);
    cy_sha256(seed, buf, strlen(buf));
    cr_assert_eq(cy_key_from_seed(k, name, seed), 0);
}

/* "hex:<64 hex>" of a 32-byte value, in a rotating static buffer. */
static inline const char *fx_hex(const uint8_t *b32)
{
    static char bufs[8][70];
    static int next;
    char *p = bufs[next++ % 8];
    memcpy(p, "hex:", 4);
    cy_hex(p + 4, b32, 32);
    return p;
}

/* Builds the signed entry bytes (malloc'd) of e. */
static inline uint8_t *fx_build(struct fx *f, const struct fx_e *e,
                                size_t *len)
{
    struct lg_w body, entry, signd;
    struct cb_err err = {0, ""};
    lg_w_init(&body);
    lg_w_init(&entry);
    lg_w_init(&signd);
    if (e->body_raw != NULL) {
        lg_w_raw(&body, e->body_raw, e->body_raw_len);
    } else {
        json_error_t jerr;
        json_t *j = json_loads(e->body ? e->body : "{}", 0, &jerr);
        cr_assert_not_null(j, "fixture body JSON: %s: %s", jerr.text,
                           e->body ? e->body : "");
        cr_assert_eq(lg_w_json(&body, j, &err), 0, "%s", err.msg);
        json_decref(j);
    }
    struct lg_entry_spec spec = {
        .ledger = e->type == LG_T_GENESIS ? NULL
                                          : (e->ledger ? e->ledger : f->ledger),
        .type = e->type,
        .author = e->author->pk,
        .ts = e->ts ? e->ts : ++f->ts,
        .account = e->account,
        .refs = e->refs,
        .nrefs = e->nrefs,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    cr_assert_eq(lg_entry_encode(&entry, &spec), 0);
    static struct lg_sig sigs[LG_MAX_SIGS];
    static uint8_t raw[LG_MAX_SIGS][64];
    const struct cy_key *keys[LG_MAX_SIGS + 1] = {e->author};
    size_t nk = 1, n = 0;
    for (size_t i = 0; i < 16 && e->signers[i]; i++)
        keys[nk++] = e->signers[i];
    cr_assert_leq(nk + e->nmore, LG_MAX_SIGS, "fixture: too many signers");
    for (size_t i = 0; i < e->nmore; i++)
        keys[nk++] = e->more[i];
    for (size_t i = 0; i < nk; i++) {
        cr_assert_eq(lg_entry_sign(raw[i], lg_w_data(&entry),
                                   lg_w_len(&entry), keys[i]), 0);
        sigs[n].pk = keys[i]->pk;
        sigs[n].sig = raw[i];
        n++;
    }
    cr_assert_eq(lg_signed_encode(&signd, lg_w_data(&entry), lg_w_len(&entry),
                                  e->author->pk, sigs, n), 0);
    uint8_t *out = lg_w_take(&signd, len);
    lg_w_release(&body);
    lg_w_release(&entry);
    lg_w_release(&signd);
    return out;
}

/* Applies signed bytes as a batch of one; returns res->code. */
static inline int fx_submit_bytes(struct fx *f, const uint8_t *p, size_t len,
                                  struct lg_result *res)
{
    struct lg_buf b = {p, len};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_apply(f->l, 0, &b, 1, res, NULL, &err), 0,
                 "batch failed: %s", err.msg);
    return res->code;
}

/* Builds, signs and applies e; returns res->code (res->id its id). */
static inline int fx_submit(struct fx *f, const struct fx_e *e,
                            struct lg_result *res)
{
    size_t len;
    uint8_t *p = fx_build(f, e, &len);
    int rv = fx_submit_bytes(f, p, len, res);
    free(p);
    return rv;
}

/* Like fx_submit, but asserts success and returns the new entry's id. */
static inline void fx_ok(struct fx *f, const struct fx_e *e, uint8_t id[32])
{
    struct lg_result r;
    int rv = fx_submit(f, e, &r);
    cr_assert_eq(rv, 0, "%s refused: %s: %s", lg_type_name(e->type),
                 cb_errname(rv), r.msg);
    if (id != NULL)
        memcpy(id, r.id, 32);
}

/* An empty ledger in a fresh temp dir, with the fixture's keys. */
static inline void fx_open(struct fx *f)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(cy_init(), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/credbank-test-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    struct lg_open_opts o = {.nosync = true, .map_size = (size_t)1 << 30};
    struct cb_err err = {0, ""};
    cr_assert_eq(lg_ledger_open(&f->l, f->dir, &o, &err), 0, "%s", err.msg);
    fx_key(&f->bank, "bank");
    fx_key(&f->bank_node, "bank-node");
    fx_key(&f->uni, "university");
    fx_key(&f->uni_node, "university-node");
    fx_key(&f->prov, "provider");
    fx_key(&f->prov_node, "provider-node");
    fx_key(&f->learner, "learner");
    f->ts = 1700000000000ull;
}

/* The demo genesis body (DESIGN 4.1) as JSON text (static buffer). */
static inline const char *fx_genesis_body(struct fx *f)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
        "{\"cosign_quorum\":2,\"governance_quorum\":2,\"members\":["
        "{\"issuers\":[\"%s\"],\"name\":\"bank\",\"node\":\"%s\","
        "\"roles\":[\"registrar\",\"recognizer\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"university\",\"node\":\"%s\","
        "\"roles\":[\"recognizer\",\"provider\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"provider\",\"node\":\"%s\","
        "\"roles\":[\"provider\"]}],"
        "\"policy\":{\"degrees\":{"
        "\"associate\":{\"general\":15,\"major\":45,\"total\":80},"
        "\"bachelor\":{\"general\":30,\"major\":60,\"total\":140}},"
        "\"fees\":{\"account_open\":4000,\"currency\":\"KRW\","
        "\"link_free_credits\":80,\"per_credit\":1000},"
        "\"seal_interval_ms\":20,"
        "\"sources\":{\"mooc\":{\"min_attendance\":80,\"min_grade\":60},"
        "\"part_time\":{\"appealable\":true},"
        "\"school\":{\"appealable\":true}}}}",
        fx_hex(f->bank.pk), fx_hex(f->bank_node.pk), fx_hex(f->uni.pk),
        fx_hex(f->uni_node.pk), fx_hex(f->prov.pk), fx_hex(f->prov_node.pk));
    return buf;
}

/* fx_open, the demo genesis, and the university's own policy. */
static inline void fx_setup(struct fx *f)
{
    fx_open(f);
    uint8_t id[32];
    fx_ok(f, &(struct fx_e){
                 .type = LG_T_GENESIS,
                 .author = &f->bank,
                 .body = fx_genesis_body(f),
                 .signers = {&f->bank_node, &f->uni, &f->uni_node, &f->prov,
                             &f->prov_node},
             }, id);
    memcpy(f->ledger, id, 32);
    fx_ok(f, &(struct fx_e){
                 .type = LG_T_POLICY_SET,
                 .author = &f->uni,
                 .body = "{\"policy\":{\"sources\":{\"mooc\":"
                         "{\"learner_revocable\":false,\"max_credits\":12}}},"
                         "\"scope\":\"university\"}",
             }, NULL);
}

static inline void fx_teardown(struct fx *f)
{
    lg_ledger_close(f->l);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fixture: could not remove %s\n", f->dir);
    f->l = NULL;
}

/* Opens an account for learner k (registrar bank); id gets the account. */
static inline void fx_open_account(struct fx *f, const struct cy_key *k,
                                   bool fee_exempt, uint8_t id[32])
{
    char body[512];
    uint8_t pii[32], ev[32];
    cy_sha256(pii, k->pk, 32);
    cy_sha256(ev, pii, 32);
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"high_school\"},\"fee_exempt\":%s,"
             "\"learner_key\":\"%s\",\"major\":\"computer science\","
             "\"pii\":\"%s\"}",
             fx_hex(ev), fee_exempt ? "true" : "false", fx_hex(k->pk),
             fx_hex(pii));
    fx_ok(f, &(struct fx_e){.type = LG_T_ACCOUNT_OPEN, .author = &f->bank,
                            .body = body, .signers = {k}}, id);
}

#endif
