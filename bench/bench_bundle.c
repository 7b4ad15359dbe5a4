/*
 * bench_bundle: offline verification of learner bundles (lg_bundle_verify)
 * with 10, 100 and 1000 account entries, against the raw Ed25519 verify
 * rate (cy_verify) measured in the same run.
 *
 * Each size gets its own ledger in a temporary directory: the demo
 * consortium's genesis, a policy.set, an account.open (signed by the
 * registrar and the learner), then deposits (provider) and recognitions of
 * them (recognizer and learner) alternating, a seal and two cosigns. The
 * bundle is exported once and verified repeatedly for about 1.5 s (one
 * signature thread, as `credbank verify`). The figure of merit is
 * signatures verified per second inside bundle verification (every
 * signature of the bundle: entries, governance, seal, note lines) as a share
 * of the raw single-core rate; the target is at least 80 %. The raw rate
 * is measured interleaved: after each bundle, as many raw verifications as
 * it had signatures, so the share is raw CPU time over bundle CPU time for
 * the same signatures under the same conditions. Rates use the process CPU
 * time (the replay's LMDB work included); wall-clock rates are shown beside
 * them.
 *
 * Usage: bench_bundle [seconds-per-row [ROWS]]
 *   CB_BENCH_BUNDLE_DIR=DIR also writes the bundles there (keep_bundle)
 *   ROWS: only these rows, as digits 1-6 (1-3 one-shot for 10, 100, 1000
 *   entries, 4-6 reused), e.g. 36 for the two 1000-entry rows (profiling)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <credbank/bundle.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/ledger.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rv, const char *msg)
{
    fprintf(stderr, "bench_bundle: %s: %s (%s)\n", what, msg ? msg : "",
            cb_errname(rv));
    exit(1);
}

struct world {
    char dir[64];
    struct lg_ledger *l;
    uint8_t ledger[32];
    struct cy_key bank, bank_node, uni, uni_node, prov, prov_node, learner;
    uint64_t ts;
};

static void key(struct cy_key *k, const char *name)
{
    uint8_t seed[32];
    char buf[64];
    snprintf(buf, sizeof buf, "bench:%s", name);
    cy_sha256(seed, buf, strlen(buf));
    if (cy_key_from_seed(k, name, seed) != 0)
        die("key", CB_EINTERNAL, name);
}

static const char *hx(const uint8_t *b)
{
    static char bufs[8][70];
    static int next;
    char *p = bufs[next++ % 8];
    memcpy(p, "hex:", 4);
    cy_hex(p + 4, b, 32);
    return p;
}

/* Builds, signs (author, then signers) and applies one entry. */
static void submit(struct world *w, enum lg_type t, const struct cy_key *au,
                   const uint8_t *account, const uint8_t *ref,
                   const char *body_json, const uint8_t *body_raw,
                   size_t body_len, const struct cy_key *const *signers,
                   uint8_t id[32])
{
    struct lg_w body, entry, signd;
    struct cb_err err = {0, ""};
    lg_w_init(&body);
    lg_w_init(&entry);
    lg_w_init(&signd);
    if (body_raw != NULL) {
        lg_w_raw(&body, body_raw, body_len);
    } else {
        json_error_t je;
        json_t *j = json_loads(body_json, 0, &je);
        if (j == NULL || lg_w_json(&body, j, &err) != 0)
            die("body", CB_EJSON, je.text);
        json_decref(j);
    }
    const uint8_t(*refs)[32] = (const uint8_t(*)[32])ref;
    struct lg_entry_spec spec = {
        .ledger = t == LG_T_GENESIS ? NULL : w->ledger,
        .type = t,
        .author = au->pk,
        .ts = ++w->ts,
        .account = account,
        .refs = refs,
        .nrefs = ref ? 1 : 0,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    if (lg_entry_encode(&entry, &spec) != 0)
        die("encode", CB_EINVAL, lg_type_name(t));
    struct lg_sig sigs[8];
    uint8_t raw[8][64];
    size_t n = 0;
    const struct cy_key *keys[8] = {au};
    for (size_t i = 0; signers && signers[i]; i++)
        keys[i + 1] = signers[i];
    for (size_t i = 0; i < 8 && keys[i]; i++, n++) {
        lg_entry_sign(raw[i], lg_w_data(&entry), lg_w_len(&entry), keys[i]);
        sigs[n] = (struct lg_sig){keys[i]->pk, raw[i]};
    }
    lg_signed_encode(&signd, lg_w_data(&entry), lg_w_len(&entry), au->pk,
                     sigs, n);
    struct lg_buf b = {lg_w_data(&signd), lg_w_len(&signd)};
    struct lg_result r;
    int rv = lg_apply(w->l, 0, &b, 1, &r, NULL, &err);
    if (rv != 0)
        die("apply", rv, err.msg);
    if (r.code != 0)
        die(lg_type_name(t), r.code, r.msg);
    if (id != NULL)
        memcpy(id, r.id, 32);
    lg_w_release(&body);
    lg_w_release(&entry);
    lg_w_release(&signd);
}

static void cosign(struct world *w, uint64_t at, const uint8_t seal_id[32],
                   const struct cy_key *node)
{
    char text[512], body[256], hex[129];
    size_t len;
    uint8_t sig[64];
    if (lg_checkpoint_body(w->l, at, text, sizeof text, &len) != 0)
        die("checkpoint body", CB_EINTERNAL, NULL);
    cy_sign(sig, text, len, node);
    cy_hex(hex, sig, 64);
    snprintf(body, sizeof body, "{\"sig\":\"hex:%s\",\"size\":%llu}", hex,
             (unsigned long long)at);
    submit(w, LG_T_COSIGN, node, NULL, seal_id, body, NULL, 0, NULL, NULL);
}

/* A ledger whose account has n entries, sealed and final; the bundle. */
static uint8_t *make_bundle(unsigned n, size_t *len, uint8_t ledger[32])
{
    struct world w;
    memset(&w, 0, sizeof w);
    snprintf(w.dir, sizeof w.dir, "/tmp/bench-bundle-XXXXXX");
    if (mkdtemp(w.dir) == NULL)
        die("mkdtemp", CB_EIO, w.dir);
    struct lg_open_opts o = {.nosync = true, .map_size = (size_t)1 << 30,
                             .verify_threads = 1};
    struct cb_err err = {0, ""};
    int rv = lg_ledger_open(&w.l, w.dir, &o, &err);
    if (rv != 0)
        die("open", rv, err.msg);
    key(&w.bank, "bank");
    key(&w.bank_node, "bank-node");
    key(&w.uni, "university");
    key(&w.uni_node, "university-node");
    key(&w.prov, "provider");
    key(&w.prov_node, "provider-node");
    key(&w.learner, "learner");
    w.ts = 1700000000000ull;

    char body[4096];
    snprintf(body, sizeof body,
        "{\"cosign_quorum\":2,\"governance_quorum\":2,\"members\":["
        "{\"issuers\":[\"%s\"],\"name\":\"bank\",\"node\":\"%s\","
        "\"roles\":[\"registrar\",\"recognizer\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"university\",\"node\":\"%s\","
        "\"roles\":[\"recognizer\",\"provider\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"provider\",\"node\":\"%s\","
        "\"roles\":[\"provider\"]}],"
        "\"policy\":{\"degrees\":{"
        "\"bachelor\":{\"general\":30,\"major\":60,\"total\":140}},"
        "\"fees\":{\"account_open\":4000,\"currency\":\"KRW\","
        "\"link_free_credits\":80,\"per_credit\":1000},"
        "\"seal_interval_ms\":20,"
        "\"sources\":{\"mooc\":{\"min_attendance\":80,\"min_grade\":60}}}}",
        hx(w.bank.pk), hx(w.bank_node.pk), hx(w.uni.pk), hx(w.uni_node.pk),
        hx(w.prov.pk), hx(w.prov_node.pk));
    const struct cy_key *founders[] = {&w.bank_node, &w.uni, &w.uni_node,
                                       &w.prov, &w.prov_node, NULL};
    submit(&w, LG_T_GENESIS, &w.bank, NULL, NULL, body, NULL, 0, founders,
           w.ledger);
    submit(&w, LG_T_POLICY_SET, &w.uni, NULL, NULL,
           "{\"policy\":{\"sources\":{\"mooc\":{\"max_credits\":12}}},"
           "\"scope\":\"university\"}",
           NULL, 0, NULL, NULL);
    uint8_t acct[32], pii[32], dep[32];
    cy_sha256(pii, w.learner.pk, 32);
    snprintf(body, sizeof body,
             "{\"degree\":\"bachelor\",\"education\":{\"evidence\":\"%s\","
             "\"level\":\"high_school\"},\"fee_exempt\":false,"
             "\"learner_key\":\"%s\",\"major\":\"computer science\","
             "\"pii\":\"%s\"}",
             hx(pii), hx(w.learner.pk), hx(pii));
    const struct cy_key *learner[] = {&w.learner, NULL};
    submit(&w, LG_T_ACCOUNT_OPEN, &w.bank, NULL, NULL, body, NULL, 0, learner,
           acct);
    for (unsigned i = 1; i < n; i++) {
        if (i % 2 == 1) {
            snprintf(body, sizeof body,
                     "{\"compatible\":false,\"course\":\"C%u\",\"credits\":3,"
                     "\"evidence\":\"%s\",\"grade\":80,\"source\":\"school\","
                     "\"term\":\"2024Q1\",\"title\":\"Course %u\"}",
                     i, hx(pii), i);
            submit(&w, LG_T_OUTCOME_DEPOSIT, &w.prov, acct, NULL, body, NULL,
                   0, NULL, dep);
        } else {
            submit(&w, LG_T_CREDIT_RECOGNIZE, &w.bank, acct, dep,
                   "{\"class\":\"major\",\"credits\":3,\"term\":\"2024Q1\"}",
                   NULL, 0, learner, NULL);
        }
    }
    struct lg_w sb;
    lg_w_init(&sb);
    if ((rv = lg_seal_body(w.l, &sb)) != 0)
        die("seal body", rv, NULL);
    uint8_t seal_id[32];
    submit(&w, LG_T_SEAL, &w.bank_node, NULL, NULL, NULL, lg_w_data(&sb),
           lg_w_len(&sb), NULL, seal_id);
    lg_w_release(&sb);
    struct lg_status st;
    lg_status(w.l, &st);
    uint64_t at = st.size - 1;
    cosign(&w, at, seal_id, &w.bank_node);
    cosign(&w, at, seal_id, &w.uni_node);

    struct lg_w out;
    lg_w_init(&out);
    if ((rv = lg_bundle_export(w.l, acct, NULL, &out, &err)) != 0)
        die("export", rv, err.msg);
    memcpy(ledger, w.ledger, 32);
    lg_ledger_close(w.l);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_bundle: could not remove %s\n", w.dir);
    return lg_w_take(&out, len);
}

/* CPU seconds to verify n signatures of one 300-byte message (raw
 * Ed25519, cy_verify). */
static double raw_verify_cpu(unsigned long n)
{
    static struct cy_key k;
    static uint8_t msg[300], sig[64];
    static bool ready;
    if (!ready) {
        key(&k, "raw");
        memset(msg, 0x5a, sizeof msg);
        cy_sign(sig, msg, sizeof msg, &k);
        ready = true;
    }
    /* a few untimed first: the bundle just verified has evicted the
     * verifier's tables from the caches, and a cold raw rate would flatter
     * the bundles */
    for (int i = 0; i < 4; i++)
        if (cy_verify(sig, msg, sizeof msg, k.pk) != 0)
            exit(1);
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (unsigned long i = 0; i < n; i++)
        if (cy_verify(sig, msg, sizeof msg, k.pk) != 0)
            exit(1);
    return clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
}

/* With CB_BENCH_BUNDLE_DIR set, each bundle is also written there as
 * bundle-N.cbx with its ledger id in bundle-N.ledger (64 hex), for
 * measuring `credbank verify` itself (time, memory). */
static void keep_bundle(unsigned entries, const uint8_t *b, size_t len,
                        const uint8_t ledger[32])
{
    const char *dir = getenv("CB_BENCH_BUNDLE_DIR");
    if (dir == NULL || *dir == '\0')
        return;
    char path[4200], hex[65];
    snprintf(path, sizeof path, "%s/bundle-%u.cbx", dir, entries);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b, 1, len, f) != len || fclose(f) != 0)
        die(path, CB_EIO, "cannot write");
    snprintf(path, sizeof path, "%s/bundle-%u.ledger", dir, entries);
    cy_hex(hex, ledger, 32);
    f = fopen(path, "w");
    if (f == NULL || fprintf(f, "%s\n", hex) < 0 || fclose(f) != 0)
        die(path, CB_EIO, "cannot write");
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.5;
    if (secs <= 0)
        secs = 1.5;
    const char *rows = argc > 2 ? argv[2] : "123456";
    if (cy_init() != 0)
        return 1;

    /* Raw Ed25519 verification is measured interleaved with the bundles:
     * after every bundle verified, as many raw verifications as the bundle
     * had signatures. A row's share is raw CPU time over bundle CPU time
     * for the same signatures, so both see the same machine (a neighbour's
     * burst slows both). */
    static const unsigned sizes[] = {10, 100, 1000};
    double pct[6], msb[6], bps[6], cpurate[6], wallrate[6];
    double raw_sigs = 0, raw_cpu = 0;
    unsigned long nsig[6];
    size_t blen[6];
    for (size_t row = 0; row < 2 * sizeof sizes / sizeof sizes[0]; row++) {
        /* rows 0-2: one-shot lg_bundle_verify (as `credbank verify` of one
         * file, a scratch ledger made and removed per bundle); rows 3-5:
         * one lg_bundle_verifier for every bundle (`credbank verify` of
         * several files, or a service verifying many) */
        size_t s = row % 3;
        bool reuse = row >= 3;
        nsig[row] = 0;
        if (strchr(rows, (int)('1' + row)) == NULL)
            continue;
        size_t len;
        uint8_t ledger[32];
        uint8_t *b = make_bundle(sizes[s], &len, ledger);
        keep_bundle(sizes[s], b, len, ledger);
        struct lg_bundle_verify_opts o = {.threads = 1};
        struct lg_bundle_verifier *vf = NULL;
        if (reuse && lg_bundle_verifier_new(&vf, &o) != 0)
            die("verifier", CB_ENOMEM, "");
        struct lg_bundle_result r;
        unsigned long n = 0, sigs = 0;
        double cpu = 0, rcpu = 0, wall = 0;
        do {
            double w0 = clock_s(CLOCK_MONOTONIC);
            double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            int rv = reuse ? lg_bundle_verify_with(vf, b, len, ledger, &o, &r)
                           : lg_bundle_verify(b, len, ledger, &o, &r);
            cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
            wall += clock_s(CLOCK_MONOTONIC) - w0;
            if (rv != 0)
                die("verify", rv, r.msg);
            sigs = r.signatures;
            lg_bundle_result_release(&r);
            n++;
            rcpu += raw_verify_cpu(sigs);
        } while (cpu < secs || n < 3);
        cpurate[row] = (double)(n * sigs) / cpu;
        wallrate[row] = (double)(n * sigs) / wall;
        bps[row] = (double)n / cpu;
        msb[row] = 1000.0 * wall / (double)n;
        nsig[row] = sigs;
        blen[row] = len;
        pct[row] = 100.0 * rcpu / cpu;
        raw_sigs += (double)(n * sigs);
        raw_cpu += rcpu;
        lg_bundle_verifier_free(vf);
        free(b);
    }
    double raw_rate = raw_cpu > 0 ? raw_sigs / raw_cpu : 0;
    printf("raw Ed25519 verify (cy_verify, 300-byte message): %.0f/s per "
           "core (measured interleaved with the bundles)\n\n",
           raw_rate);
    printf("%8s %9s %6s %10s %12s %12s %8s %10s\n", "entries", "bytes",
           "sigs", "bundles/s", "sigs/s cpu", "sigs/s wall", "of raw",
           "ms/bundle");
    for (size_t row = 0; row < 6; row++) {
        if (row == 3)
            printf("reusing one verifier (lg_bundle_verify_with):\n");
        if (nsig[row] == 0)
            continue;
        printf("%8u %9zu %6lu %10.1f %12.0f %12.0f %7.1f%% %10.2f\n",
               sizes[row % 3], blen[row], nsig[row], bps[row], cpurate[row],
               wallrate[row], pct[row], msb[row]);
    }
    printf("\ntarget: signatures per second in bundle verification >= 80%% "
           "of the raw rate\n");
    /* the same as rows of scripts/bench's table */
    printf("\n| measure | value | target | met |\n|---|---|---|---|\n");
    printf("| bundle: raw Ed25519 verify, 1 core (300-byte message) | %.0f/s "
           "| - | - |\n", raw_rate);
    for (size_t row = 0; row < 6; row++)
        if (nsig[row] != 0)
            printf("| bundle: verify a %u-entry bundle (%lu signatures), %s | "
               "%.1f%% of raw (%.2f ms per bundle) | >= 80%% | %s |\n",
               sizes[row % 3], nsig[row],
               row < 3 ? "one-shot (lg_bundle_verify, as verify of one file)"
                       : "one verifier reused (as verify of several files)",
               pct[row], msb[row], pct[row] >= 80.0 ? "met" : "missed");
    return 0;
}
