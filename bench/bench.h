/*
 * What the bench programs share: a clock, dying with a message, the raw
 * Ed25519 verify rate (the bound every figure is measured against), the
 * demo consortium's deterministic keys, and building signed entries.
 * Header-only (static functions): each bench is one program of one file.
 * A bench sets BENCH_NAME before including this.
 */
#ifndef CREDBANK_BENCH_H
#define CREDBANK_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/ledger.h>
#include <credbank/log.h>
#include <lmdb.h>

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench.h"
#endif

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void die(const char *what, int rv, const char *msg)
{
    fprintf(stderr, BENCH_NAME ": %s: %s (%s)\n", what, msg ? msg : "",
            rv < 0 ? cb_errname(rv) : strerror(rv));
    exit(1);
}

static inline int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- the raw verify rate ---- */
struct bench_vjob {
    uint8_t msg[400], sig[64], pk[32];
    double end;
    atomic_long *count;
};

static inline void *bench_verify_loop(void *arg)
{
    struct bench_vjob *j = arg;
    long n = 0;
    while (now() < j->end) {
        for (int i = 0; i < 64; i++)
            if (cy_verify(j->sig, j->msg, sizeof j->msg, j->pk) != 0)
                abort();
        n += 64;
    }
    atomic_fetch_add(j->count, n);
    return NULL;
}

/* Verifications per second of a 400-byte message on threads threads. */
static inline double verify_rate(int threads, double secs)
{
    struct cy_key k;
    uint8_t seed[32] = {1};
    cy_key_from_seed(&k, "bench", seed);
    atomic_long count = 0;
    struct bench_vjob j;
    memset(j.msg, 7, sizeof j.msg);
    cy_sign(j.sig, j.msg, sizeof j.msg, &k);
    memcpy(j.pk, k.pk, 32);
    j.count = &count;
    pthread_t t[64];
    if (threads > 64)
        threads = 64;
    double t0 = now();
    j.end = t0 + secs;
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, bench_verify_loop, &j);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (double)atomic_load(&count) / (now() - t0);
}

/* ---- keys and entries ---- */

/* A deterministic key: seed = SHA-256(name). */
static inline void key(struct cy_key *k, const char *name)
{
    uint8_t seed[32];
    cy_sha256(seed, name, strlen(name));
    if (cy_key_from_seed(k, name, seed) != 0)
        die("key", CB_EINVAL, name);
}

/* "hex:<64 hex>" of 32 bytes, as lg_w_json writes bin. */
static inline char *hexs(const uint8_t *b, char out[70])
{
    memcpy(out, "hex:", 4);
    cy_hex(out + 4, b, 32);
    return out;
}

/* Signed entry bytes (malloc'd) of the given fields and canonical body:
 * signed by author, then co[0..nco). ledger NULL only for genesis. */
static inline uint8_t *build_raw(const uint8_t *ledger, enum lg_type type,
                                 uint64_t ts, const struct cy_key *author,
                                 const uint8_t *account, const uint8_t *ref,
                                 const uint8_t *body, size_t body_len,
                                 const struct cy_key *const *co, size_t nco,
                                 size_t *len)
{
    struct lg_w e, s;
    lg_w_init(&e);
    lg_w_init(&s);
    const uint8_t(*refs)[32] = (const uint8_t(*)[32])ref;
    struct lg_entry_spec spec = {
        .ledger = ledger, .type = type, .author = author->pk, .ts = ts,
        .account = account, .refs = refs, .nrefs = ref ? 1 : 0,
        .body = body, .body_len = body_len};
    if (nco > 15 || lg_entry_encode(&e, &spec) != 0)
        die("encode", CB_EINVAL, NULL);
    struct lg_sig sigs[16];
    uint8_t raw[16][64];
    lg_entry_sign(raw[0], lg_w_data(&e), lg_w_len(&e), author);
    sigs[0] = (struct lg_sig){author->pk, raw[0]};
    for (size_t i = 0; i < nco; i++) {
        lg_entry_sign(raw[i + 1], lg_w_data(&e), lg_w_len(&e), co[i]);
        sigs[i + 1] = (struct lg_sig){co[i]->pk, raw[i + 1]};
    }
    if (lg_signed_encode(&s, lg_w_data(&e), lg_w_len(&e), author->pk, sigs,
                         nco + 1) != 0)
        die("sign", CB_EINVAL, NULL);
    uint8_t *out = lg_w_take(&s, len);
    lg_w_release(&e);
    lg_w_release(&s);
    return out;
}

/* The same with the body as JSON (lg_w_json: "hex:..." strings are bin). */
static inline uint8_t *build_json(const uint8_t *ledger, enum lg_type type,
                                  uint64_t ts, const struct cy_key *author,
                                  const uint8_t *account, const uint8_t *ref,
                                  const char *body_json,
                                  const struct cy_key *const *co, size_t nco,
                                  size_t *len)
{
    json_error_t je;
    json_t *j = json_loads(body_json, 0, &je);
    if (j == NULL) {
        fprintf(stderr, BENCH_NAME ": bad JSON: %s\n%s\n", je.text,
                body_json);
        exit(1);
    }
    struct lg_w body;
    lg_w_init(&body);
    struct cb_err err = {0, ""};
    if (lg_w_json(&body, j, &err) != 0)
        die("body", err.code, err.msg);
    json_decref(j);
    uint8_t *out = build_raw(ledger, type, ts, author, account, ref,
                             lg_w_data(&body), lg_w_len(&body), co, nco, len);
    lg_w_release(&body);
    return out;
}

/* Applies one entry that must be accepted; frees p; returns its index. */
static inline uint64_t apply1(struct lg_ledger *l, uint8_t *p, size_t len,
                              uint8_t id[32])
{
    struct lg_buf b = {p, len};
    struct lg_result r;
    struct cb_err err = {0, ""};
    int rv = lg_apply(l, 0, &b, 1, &r, NULL, &err);
    if (rv != 0)
        die("apply", rv, err.msg);
    if (r.code != 0)
        die("entry", r.code, r.msg);
    if (id)
        memcpy(id, r.id, 32);
    free(p);
    return r.index;
}

#ifdef BENCH_CONSORTIUM
/* ---- the demo consortium (bank, university, provider) in one ledger ----
 * The bench sets the keys (key()) before genesis(); entries get strictly
 * increasing timestamps. */
static struct cy_key bank, bank_node, uni, uni_node, prov, prov_node;
static uint8_t ledger_id[32];
static atomic_ullong ts = 1700000000000ull;

static inline uint8_t *build(enum lg_type type, const struct cy_key *author,
                      const uint8_t *account, const uint8_t *ref,
                      const char *body_json, const struct cy_key *const *co,
                      size_t nco, size_t *len)
{
    return build_json(type == LG_T_GENESIS ? NULL : ledger_id, type,
                      atomic_fetch_add(&ts, 1) + 1, author, account, ref,
                      body_json, co, nco, len);
}

static inline void genesis(struct lg_ledger *l)
{
    char h[6][70], body[4096];
    snprintf(body, sizeof body,
        "{\"cosign_quorum\":2,\"governance_quorum\":2,\"members\":["
        "{\"issuers\":[\"%s\"],\"name\":\"bank\",\"node\":\"%s\","
        "\"roles\":[\"registrar\",\"recognizer\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"university\",\"node\":\"%s\","
        "\"roles\":[\"recognizer\",\"provider\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"provider\",\"node\":\"%s\","
        "\"roles\":[\"provider\"]}],"
        "\"policy\":{\"degrees\":{\"bachelor\":{\"general\":30,\"major\":60,"
        "\"total\":140}},\"fees\":{\"account_open\":4000,\"currency\":\"KRW\","
        "\"link_free_credits\":80,\"per_credit\":1000},\"seal_interval_ms\":20,"
        "\"sources\":{\"mooc\":{\"min_attendance\":80,\"min_grade\":60}}}}",
        hexs(bank.pk, h[0]), hexs(bank_node.pk, h[1]), hexs(uni.pk, h[2]),
        hexs(uni_node.pk, h[3]), hexs(prov.pk, h[4]),
        hexs(prov_node.pk, h[5]));
    const struct cy_key *co[] = {&bank_node, &uni, &uni_node, &prov,
                                 &prov_node};
    size_t len;
    uint8_t *p = build(LG_T_GENESIS, &bank, NULL, NULL, body, co, 5, &len);
    struct lg_signed s;
    lg_signed_init(&s);
    struct cb_err err;
    if (lg_signed_decode(&s, p, len, &err) != 0)
        die("genesis", err.code, err.msg);
    memcpy(ledger_id, s.e.id, 32);
    lg_signed_release(&s);
    apply1(l, p, len, NULL);
}
/* ---- the realistic workload (bench_apply, bench_export, bench_scale) ----
 * account.open of learner a (registrar bank, co-signed by the learner's key
 * "learner-<a>"), a K-MOOC outcome.deposit by the university, its
 * credit.recognize by the bank (optionally co-signed by the learner), and a
 * provider policy.set: about 300-500 bytes signed each. */

static inline uint8_t *bench_account_open(long a, size_t *len)
{
    struct cy_key learner;
    char name[32], body[600], h[3][70];
    snprintf(name, sizeof name, "learner-%ld", a);
    key(&learner, name);
    uint8_t pii[32];
    cy_sha256(pii, name, strlen(name));
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":"
             "\"%s\",\"level\":\"high_school\"},\"fee_exempt\":false,"
             "\"learner_key\":\"%s\",\"major\":\"computer science\","
             "\"pii\":\"%s\"}",
             hexs(pii, h[0]), hexs(learner.pk, h[1]), hexs(pii, h[2]));
    const struct cy_key *co[] = {&learner};
    uint8_t *p = build(LG_T_ACCOUNT_OPEN, &bank, NULL, NULL, body, co, 1,
                       len);
    cy_key_wipe(&learner);
    return p;
}

static inline uint8_t *bench_deposit(const uint8_t acct[32], long i, size_t *len)
{
    char body[600], h[70];
    uint8_t ev[32];
    cy_sha256(ev, &i, sizeof i);
    snprintf(body, sizeof body,
             "{\"attendance\":95,\"compatible\":true,\"course\":"
             "\"CS%ld Data structures and algorithms\",\"credits\":3,"
             "\"evidence\":\"%s\",\"grade\":91,\"source\":\"mooc\","
             "\"term\":\"2024Q3\",\"title\":\"Data structures, "
             "algorithms and their analysis (K-MOOC)\"}",
             i, hexs(ev, h));
    return build(LG_T_OUTCOME_DEPOSIT, &uni, acct, NULL, body, NULL, 0, len);
}

/* The recognition of deposit dep (bytes p, len) of learner a's account. */
static inline uint8_t *bench_recognize(const uint8_t acct[32], long a, const uint8_t *dp,
                          size_t dlen, int cosigned, size_t *len)
{
    struct lg_signed s;
    struct cb_err err = {0, ""};
    lg_signed_init(&s);
    if (lg_signed_decode(&s, dp, dlen, &err) != 0)
        die("decode", err.code, err.msg);
    uint8_t dep[32];
    memcpy(dep, s.e.id, 32);
    lg_signed_release(&s);
    struct cy_key learner;
    const struct cy_key *co[] = {&learner};
    if (cosigned) {
        char lname[32];
        snprintf(lname, sizeof lname, "learner-%ld", a);
        key(&learner, lname);
    }
    uint8_t *p = build(LG_T_CREDIT_RECOGNIZE, &bank, acct, dep,
                       "{\"class\":\"major\",\"credits\":3,\"term\":"
                       "\"2024Q4\"}", co, cosigned ? 1 : 0, len);
    if (cosigned)
        cy_key_wipe(&learner);
    return p;
}

static inline uint8_t *bench_policy_set(long i, size_t *len)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"policy\":{\"sources\":{\"self_study_exam\":{\"max_credits\":"
             "%ld}}},\"scope\":\"provider\"}", 10 + i % 50);
    return build(LG_T_POLICY_SET, &prov, NULL, NULL, body, NULL, 0, len);
}

/* ---- a final checkpoint: the bank's node seals, two nodes cosign ----
 * bench_entry_at: entry index's id (id may be NULL) and a copy of its bytes
 * (copy may be NULL). */
/* ---- seal and cosigns (as bench_export) ---- */
static inline void bench_entry_at(struct lg_ledger *l, uint64_t index, uint8_t id[32],
                        uint8_t **copy, size_t *copy_len)
{
    MDB_txn *txn;
    if (mdb_txn_begin(lg_ledger_env(l), NULL, MDB_RDONLY, &txn) != 0)
        die("txn", CB_EIO, NULL);
    const uint8_t *p;
    size_t len;
    struct lg_signed s;
    lg_signed_init(&s);
    if (lg_log_get(lg_ledger_log(l), txn, index, &p, &len) != 0 ||
        lg_signed_decode(&s, p, len, NULL) != 0)
        die("entry id", CB_ECORRUPT, NULL);
    if (id != NULL)
        memcpy(id, s.e.id, 32);
    if (copy != NULL) {
        *copy = malloc(len);
        memcpy(*copy, p, len);
        *copy_len = len;
    }
    lg_signed_release(&s);
    mdb_txn_abort(txn);
}

static inline void bench_cosign(struct lg_ledger *l, uint64_t at, const struct cy_key *node)
{
    char text[512], body[256], hex[129];
    size_t len;
    uint8_t sig[64], id[32];
    if (lg_checkpoint_body(l, at, text, sizeof text, &len) != 0)
        die("checkpoint body", CB_ECORRUPT, NULL);
    cy_sign(sig, text, len, node);
    bench_entry_at(l, at, id, NULL, NULL);
    cy_hex(hex, sig, 64);
    snprintf(body, sizeof body, "{\"sig\":\"hex:%s\",\"size\":%llu}", hex,
             (unsigned long long)at);
    uint8_t *p = build(LG_T_COSIGN, node, NULL, id, body, NULL, 0, &len);
    apply1(l, p, len, NULL);
}

static inline uint64_t bench_finalise(struct lg_ledger *l)
{
    struct lg_w w;
    lg_w_init(&w);
    int rv = lg_seal_body(l, &w);
    if (rv != 0)
        die("seal body", rv, NULL);
    size_t len;
    uint8_t *p = build_raw(ledger_id, LG_T_SEAL, atomic_fetch_add(&ts, 1) + 1,
                           &bank_node, NULL, NULL, lg_w_data(&w),
                           lg_w_len(&w), NULL, 0, &len);
    lg_w_release(&w);
    uint64_t at = apply1(l, p, len, NULL);
    bench_cosign(l, at, &bank_node);
    bench_cosign(l, at, &uni_node);
    return at;
}
#endif /* BENCH_CONSORTIUM */

#endif
