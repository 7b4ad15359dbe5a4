/*
 * bench_scale: a large ledger built through the real apply path, and what
 * happens to appends, proofs, account reads and bundle export at its size
 * (issue 7 "scale" rows; issue 5: export of a 1,000-entry bundle from a
 * 10,000,000-entry ledger < 50 ms).
 *
 *   bench_scale [--entries 10000000] [--accounts 1000000] [--target 1000]
 *               [--probe 10000] [--samples 10000] [--runs 20]
 *               [--batch 1000] [--threads T] [--dir DIR] [--keep]
 *               [--node-files DIR] [--extra N]
 *
 * The generator: genesis of the demo consortium (bank, university,
 * provider), then
 *   1. `probe0` = min(5,000, accounts) account.open (bank + learner
 *      signatures);
 *   2. TIMED, durable (fsync per batch): `probe` entries, deposit +
 *      credit.recognize pairs (half of the recognitions co-signed by the
 *      learner) on random accounts of those: the append rate at ~10k;
 *   3. the other account.open, up to `accounts`;
 *   4. deposit + recognition pairs round-robin over the accounts until the
 *      ledger holds entries - probe - 3 entries; the first account (the
 *      target) gets target - 1 deposits spread over this phase, so it has
 *      `target` entries; a policy.set (governance) every 100,000 pairs;
 *   5. TIMED, durable: `probe` entries as in 2, on random accounts of all:
 *      the append rate at the full size;
 *   6. a seal and two cosigns (the checkpoint is final: timed);
 *   7. inclusion proofs of random leaves in the final tree (a read
 *      transaction each, as an API request has), account views of random
 *      accounts, export of the target's bundle `runs` times (then verified
 *      once), the LMDB file's size, this process's resident memory.
 * Every entry goes through lg_apply (decoding, Ed25519 verification on the
 * verify threads, every rule, the log, the indices) in batches of `batch`;
 * phases 1, 3 and 4 with MDB_NOSYNC (a generator, not a durability test).
 * Entries are signed on every core while the previous chunk is applied.
 *
 * --node-files DIR: also writes DIR/genesis.cbe, the three node key files
 * (DIR/{bank,university,provider}.node.key) and N (--extra, default 200)
 * signed account.open entries not applied (DIR/extra/NNNNN.cbe), so that
 * credbankd nodes can serve the ledger (scripts/bench's catch-up row).
 *
 * Prints a markdown table (measure | value | target | met).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>

#define BENCH_NAME "bench_scale"
#define BENCH_CONSORTIUM
#include "bench.h"

#include <credbank/bundle.h>
#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/ledger.h>
#include <credbank/log.h>
#include <credbank/merkle.h>

/* ---- entries ---- */





/* ---- the workload: units of one (account.open) or two entries ---- */
static uint8_t (*accts)[32];
static long naccounts, ntarget;
static long target_every = 0, target_from = 0; /* bulk units */

enum phase { PH_OPEN, PH_PROBE0, PH_BULK, PH_PROBE };

struct mix {
    long entries, sigs, bytes;
};

/* Unit k of phase ph into out[0..) (returns the entries written). */
static int unit(enum phase ph, long k, struct lg_buf *out, long probe_accts,
                struct mix *m)
{
    size_t l1, l2;
    uint8_t *p1, *p2;
    if (ph == PH_OPEN) {
        p1 = bench_account_open(k, &l1);
        out[0] = (struct lg_buf){p1, l1};
        m->entries++, m->sigs += 2, m->bytes += (long)l1;
        return 1;
    }
    long a;
    if (ph == PH_BULK) {
        long rel = k - target_from;
        if (rel % 100000 == 99999) {
            p1 = bench_policy_set(k, &l1);
            a = 1 + k % (naccounts - 1);
            p2 = bench_deposit(accts[a], k, &l2);
            out[0] = (struct lg_buf){p1, l1};
            out[1] = (struct lg_buf){p2, l2};
            m->entries += 2, m->sigs += 2, m->bytes += (long)(l1 + l2);
            return 2;
        }
        if (rel % target_every == 0 && rel / target_every < ntarget - 1) {
            p1 = bench_deposit(accts[0], -1 - k, &l1);
            a = 1 + k % (naccounts - 1);
            p2 = bench_deposit(accts[a], k, &l2);
            out[0] = (struct lg_buf){p1, l1};
            out[1] = (struct lg_buf){p2, l2};
            m->entries += 2, m->sigs += 2, m->bytes += (long)(l1 + l2);
            return 2;
        }
        a = 1 + k % (naccounts - 1);
    } else {
        /* probes: a random account other than the target */
        uint64_t h;
        uint8_t hh[32];
        long seed = k * 2 + (ph == PH_PROBE);
        cy_sha256(hh, &seed, sizeof seed);
        memcpy(&h, hh, 8);
        a = 1 + (long)(h % (uint64_t)(probe_accts - 1));
        k += ph == PH_PROBE ? 4000000000l : 3000000000l; /* distinct evidence */
    }
    p1 = bench_deposit(accts[a], k, &l1);
    int cos = (int)(k & 1);
    p2 = bench_recognize(accts[a], a, p1, l1, cos, &l2);
    out[0] = (struct lg_buf){p1, l1};
    out[1] = (struct lg_buf){p2, l2};
    m->entries += 2, m->sigs += 2 + cos, m->bytes += (long)(l1 + l2);
    return 2;
}

struct sign_job {
    enum phase ph;
    long from, to, probe_accts;
    struct lg_buf *out;
    long n; /* entries written */
    struct mix m;
};

static void *sign_thread(void *arg)
{
    struct sign_job *j = arg;
    j->n = 0;
    for (long k = j->from; k < j->to; k++)
        j->n += unit(j->ph, k, j->out + j->n, j->probe_accts, &j->m);
    return NULL;
}

#define MAXT 16
struct chunk {
    struct sign_job jobs[MAXT];
    pthread_t tid[MAXT];
    unsigned nt;
    struct lg_buf *bufs[MAXT];
};

static unsigned threads;
static long batch = 1000;

static void chunk_start(struct chunk *c, enum phase ph, long from, long to,
                        long probe_accts)
{
    c->nt = threads > MAXT ? MAXT : threads;
    for (unsigned t = 0; t < c->nt; t++) {
        long f = from + (to - from) * t / c->nt;
        long e = from + (to - from) * (t + 1) / c->nt;
        c->bufs[t] = malloc(sizeof(struct lg_buf) * (size_t)(2 * (e - f) + 1));
        c->jobs[t] = (struct sign_job){ph, f, e, probe_accts, c->bufs[t], 0,
                                       {0, 0, 0}};
        pthread_create(&c->tid[t], NULL, sign_thread, &c->jobs[t]);
    }
}

/* Joins the signers, applies the chunk in batches; account ids of opens
 * go to accts[first_open + i]. Adds the mix to *m. */
static void chunk_apply(struct chunk *c, struct lg_ledger *l, long first_open,
                        struct mix *m)
{
    struct lg_result *res = malloc(sizeof *res * (size_t)batch);
    struct cb_err err = {0, ""};
    long opened = 0;
    for (unsigned t = 0; t < c->nt; t++) {
        pthread_join(c->tid[t], NULL);
        m->entries += c->jobs[t].m.entries;
        m->sigs += c->jobs[t].m.sigs;
        m->bytes += c->jobs[t].m.bytes;
    }
    for (unsigned t = 0; t < c->nt; t++) {
        struct lg_buf *b = c->bufs[t];
        long n = c->jobs[t].n;
        for (long i = 0; i < n; i += batch) {
            long k = n - i < batch ? n - i : batch;
            int rv = lg_apply(l, 0, b + i, (size_t)k, res, NULL, &err);
            if (rv != 0)
                die("apply", rv, err.msg);
            for (long q = 0; q < k; q++) {
                if (res[q].code != 0)
                    die("entry", res[q].code, res[q].msg);
                if (c->jobs[t].ph == PH_OPEN)
                    memcpy(accts[first_open + opened++], res[q].id, 32);
                free((void *)b[i + q].p);
            }
        }
        free(b);
    }
    free(res);
}

/* Units [from, to) of phase ph, signed chunk by chunk while the previous
 * chunk is applied. Returns the seconds spent. */
static double run_phase(struct lg_ledger *l, enum phase ph, long from,
                        long to, long probe_accts, struct mix *m,
                        const char *what)
{
    long step = ph == PH_OPEN ? 20000 : 10000;
    double t0 = now(), last = t0;
    struct chunk cur, next;
    long pos = from;
    if (pos >= to)
        return 0;
    long e = pos + step < to ? pos + step : to;
    chunk_start(&cur, ph, pos, e, probe_accts);
    long cur_from = pos;
    pos = e;
    for (;;) {
        int more = pos < to;
        long nfrom = pos;
        if (more) {
            e = pos + step < to ? pos + step : to;
            chunk_start(&next, ph, pos, e, probe_accts);
            pos = e;
        }
        chunk_apply(&cur, l, cur_from, m);
        if (now() - last > 30) {
            last = now();
            fprintf(stderr, "  %s: %ld of %ld units, %.0f s, %.0f entries/s\n",
                    what, nfrom - from, to - from, last - t0,
                    (double)m->entries / (last - t0));
        }
        if (!more)
            break;
        cur = next;
        cur_from = nfrom;
    }
    return now() - t0;
}

/* Pre-signs units [from, to) of a probe phase (all in memory). */
static struct lg_buf *presign(enum phase ph, long from, long to,
                              long probe_accts, long *n, struct mix *m)
{
    struct chunk c;
    chunk_start(&c, ph, from, to, probe_accts);
    struct lg_buf *all = malloc(sizeof *all * (size_t)(2 * (to - from) + 1));
    *n = 0;
    for (unsigned t = 0; t < c.nt; t++) {
        pthread_join(c.tid[t], NULL);
        memcpy(all + *n, c.bufs[t], sizeof *all * (size_t)c.jobs[t].n);
        *n += c.jobs[t].n;
        m->entries += c.jobs[t].m.entries;
        m->sigs += c.jobs[t].m.sigs;
        m->bytes += c.jobs[t].m.bytes;
        free(c.bufs[t]);
    }
    return all;
}

/* Durable apply of pre-signed entries: entries/s. */
static double timed_apply(struct lg_ledger *l, struct lg_buf *all, long n)
{
    MDB_env *env = lg_ledger_env(l);
    int rv;
    if ((rv = mdb_env_set_flags(env, MDB_NOSYNC, 0)) != 0 ||
        (rv = mdb_env_sync(env, 1)) != 0)
        die("sync", CB_EIO, mdb_strerror(rv));
    struct lg_result *res = malloc(sizeof *res * (size_t)batch);
    struct cb_err err = {0, ""};
    double t0 = now();
    for (long i = 0; i < n; i += batch) {
        long k = n - i < batch ? n - i : batch;
        if ((rv = lg_apply(l, 0, all + i, (size_t)k, res, NULL, &err)) != 0)
            die("apply", rv, err.msg);
        for (long q = 0; q < k; q++)
            if (res[q].code != 0)
                die("probe entry", res[q].code, res[q].msg);
    }
    double secs = now() - t0;
    for (long i = 0; i < n; i++)
        free((void *)all[i].p);
    free(all);
    free(res);
    if ((rv = mdb_env_set_flags(env, MDB_NOSYNC, 1)) != 0)
        die("nosync", CB_EIO, mdb_strerror(rv));
    return (double)n / secs;
}




/* ---- reads ---- */
static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void pct(double *t, int n, double *p50, double *p99, double *max)
{
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    *p50 = 1e6 * t[n / 2];
    *p99 = 1e6 * t[n * 99 / 100];
    *max = 1e6 * t[n - 1];
}

static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, fl) == 0 && line[fl] == ':')
            v = atol(line + fl + 1);
    if (f != NULL)
        fclose(f);
    return v;
}

static double load1(void)
{
    double v = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
        die(path, errno, "write");
}

static void human(long n, char *out, size_t cap)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(out, cap, "%ldM", n / 1000000);
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(out, cap, "%ldk", n / 1000);
    else
        snprintf(out, cap, "%ld", n);
}

int main(int argc, char **argv)
{
    long nentries = 10000000, probe = 10000;
    int samples = 10000, runs = 20, extra = 200;
    const char *dirarg = NULL, *nodefiles = NULL;
    bool keepdir = false;
    naccounts = 1000000;
    ntarget = 1000;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--entries"))
            nentries = atol(v), i++;
        else if (!strcmp(argv[i], "--accounts"))
            naccounts = atol(v), i++;
        else if (!strcmp(argv[i], "--target"))
            ntarget = atol(v), i++;
        else if (!strcmp(argv[i], "--probe"))
            probe = atol(v), i++;
        else if (!strcmp(argv[i], "--samples"))
            samples = atoi(v), i++;
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch"))
            batch = atol(v), i++;
        else if (!strcmp(argv[i], "--threads"))
            threads = (unsigned)atoi(v), i++;
        else if (!strcmp(argv[i], "--dir"))
            dirarg = v, i++;
        else if (!strcmp(argv[i], "--node-files"))
            nodefiles = v, i++;
        else if (!strcmp(argv[i], "--extra"))
            extra = atoi(v), i++;
        else if (!strcmp(argv[i], "--keep"))
            keepdir = true;
        else
            goto usage;
    }
    long probe0 = naccounts < 5000 ? naccounts : 5000;
    probe = probe / 2 * 2;
    /* entries: 1 genesis + accounts + 2 probes + bulk + 3 (seal, cosigns) */
    long bulk = nentries - 1 - naccounts - 2 * probe - 3;
    if (naccounts < 10 || ntarget < 1 || probe < 2 || samples < 100 ||
        runs < 1 || batch < 1 || extra < 0 || bulk < 2 * ntarget)
        goto usage;
    if (cy_init() != 0)
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (threads == 0)
        threads = cpus > 0 ? (unsigned)cpus : 1;
    key(&bank, "bank");
    key(&bank_node, "bank-node");
    key(&uni, "university");
    key(&uni_node, "university-node");
    key(&prov, "provider");
    key(&prov_node, "provider-node");

    char dir[512];
    if (dirarg != NULL) {
        snprintf(dir, sizeof dir, "%s", dirarg);
        mkdir(dir, 0700);
    } else {
        snprintf(dir, sizeof dir, "/tmp/credbank-bench-scale-XXXXXX");
        if (mkdtemp(dir) == NULL)
            return 1;
    }
    struct lg_ledger *l;
    struct cb_err err = {0, ""};
    struct lg_open_opts o = {.verify_threads = threads, .nosync = true};
    int rv = lg_ledger_open(&l, dir, &o, &err);
    if (rv != 0)
        die("open", rv, err.msg);
    struct lg_status st;
    if (lg_status(l, &st) != 0 || st.size != 0)
        die("the ledger directory must be empty", CB_EINVAL, dir);

    char hn[32], ha[32];
    human(nentries, hn, sizeof hn);
    human(naccounts, ha, sizeof ha);
    fprintf(stderr, "measuring the verify bound...\n");
    double v1 = verify_rate(1, 1.0), vn = verify_rate((int)threads, 1.0);
    printf("bench_scale: a ledger of %ld entries and %ld accounts built "
           "through lg_apply (signatures, rules, log, indices; batches of "
           "%ld, %u verify threads; bulk without fsync, timed appends "
           "durable); deposits + recognitions of ~400 B; load %.2f at "
           "start\n\n", nentries, naccounts, batch, threads, load1());
    printf("| measure | value | target | met |\n|---|---|---|---|\n");
    printf("| scale: Ed25519 verify (~400 B), 1 thread / %u threads | %.0f/s "
           "/ %.0f/s | - | - |\n", threads, v1, vn);
    fflush(stdout);

    double tb = now();
    genesis(l);
    accts = malloc((size_t)naccounts * 32);
    struct mix mo = {0, 0, 0}, mp0 = {0, 0, 0}, mb = {0, 0, 0},
               mp1 = {0, 0, 0};
    /* 1. the first accounts */
    run_phase(l, PH_OPEN, 0, probe0, 0, &mo, "account.open");
    /* 2. append rate at ~10k */
    long n0;
    struct lg_buf *pb = presign(PH_PROBE0, 0, probe / 2, probe0, &n0, &mp0);
    if (lg_status(l, &st) != 0)
        die("status", CB_EIO, NULL);
    uint64_t size_p0 = st.size;
    double r0 = timed_apply(l, pb, n0);
    fprintf(stderr, "append rate at %llu..%llu entries: %.0f/s\n",
            (unsigned long long)size_p0,
            (unsigned long long)(size_p0 + (uint64_t)n0), r0);
    /* 3. the other accounts */
    double t_open = run_phase(l, PH_OPEN, probe0, naccounts, 0, &mo,
                              "account.open");
    (void)t_open;
    /* 4. the bulk */
    long units = bulk / 2;
    target_from = 0;
    target_every = units / ntarget;
    if (target_every < 1)
        target_every = 1;
    double t_bulk = run_phase(l, PH_BULK, 0, units, 0, &mb, "bulk");
    /* top up to the exact size (the probe and the seal come next) */
    if (lg_status(l, &st) != 0)
        die("status", CB_EIO, NULL);
    while ((long)st.size < nentries - probe - 3) {
        size_t len;
        uint8_t *p = bench_deposit(accts[1 + st.size % (naccounts - 1)],
                             5000000000l + (long)st.size, &len);
        apply1(l, p, len, NULL);
        if (lg_status(l, &st) != 0)
            die("status", CB_EIO, NULL);
    }
    double build_s = now() - tb;
    /* 5. append rate at the full size */
    long n1;
    pb = presign(PH_PROBE, 0, probe / 2, naccounts, &n1, &mp1);
    uint64_t size_p1 = st.size;
    double r1 = timed_apply(l, pb, n1);
    /* 6. the seal */
    double ts0 = now();
    uint64_t S = bench_finalise(l);
    double seal_ms = 1e3 * (now() - ts0);
    MDB_env *env = lg_ledger_env(l);
    if ((rv = mdb_env_sync(env, 1)) != 0)
        die("sync", CB_EIO, mdb_strerror(rv));
    if (lg_status(l, &st) != 0 || !st.has_final || st.final_seal != S)
        die("status after the seal", CB_EINTERNAL, NULL);

    long total_entries = mo.entries + mp0.entries + mb.entries + mp1.entries;
    double spe_mix = (double)(mp1.sigs) / (double)mp1.entries;
    printf("| scale: build (%ld entries signed on %u threads and applied, "
           "bulk without fsync) | %.0f s (%.0f entries/s overall; bulk "
           "deposits + recognitions %.0f entries/s) | - | - |\n",
           total_entries + 4, threads, build_s,
           (double)(total_entries + 4) / build_s,
           (double)mb.entries / (t_bulk > 0 ? t_bulk : 1));
    printf("| scale: workload of the timed appends: avg bytes, sigs/entry "
           "| %.0f B, %.2f | - | - |\n",
           (double)mp1.bytes / (double)mp1.entries, spe_mix);
    printf("| scale: append rate at %llu..%llu entries (durable, batch %ld) "
           "| %.0f entries/s | - | - |\n", (unsigned long long)size_p0,
           (unsigned long long)(size_p0 + (uint64_t)n0), batch, r0);
    printf("| scale: append rate at %llu..%llu entries, %ld accounts "
           "(durable, batch %ld) | %.0f entries/s = %.0f%% of the rate at "
           "~10k | >= 90%% kept 10k -> %s | %s |\n",
           (unsigned long long)size_p1,
           (unsigned long long)(size_p1 + (uint64_t)n1), naccounts, batch, r1,
           100 * r1 / r0, hn, r1 >= 0.9 * r0 ? "met" : "missed");
    printf("| scale: seal + 2 cosigns at %llu entries (%ld accounts) | "
           "%.0f ms | - | - |\n", (unsigned long long)S, naccounts, seal_ms);
    fflush(stdout);

    /* 7a. inclusion proofs */
    double *t = malloc(sizeof *t * (size_t)samples);
    uint64_t size = S + 1;
    cy_hash root, proof[CY_PROOF_MAX];
    {
        MDB_txn *txn;
        if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
            lg_log_root(lg_ledger_log(l), txn, size, root) != 0)
            die("root", CB_EIO, NULL);
        mdb_txn_abort(txn);
    }
    for (int pass = 0; pass < 2; pass++) { /* the first pass warms up */
        for (int i = 0; i < samples; i++) {
            uint64_t idx = next_rand() % size;
            size_t n;
            MDB_txn *txn;
            double a = now();
            if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
                lg_log_inclusion(lg_ledger_log(l), txn, idx, size, proof,
                                 &n) != 0)
                die("proof", CB_EIO, NULL);
            mdb_txn_abort(txn);
            t[i] = now() - a;
            if (i % 101 == 0) {
                cy_hash lh;
                if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
                    lg_log_leaf_hash(lg_ledger_log(l), txn, idx, lh) != 0 ||
                    cy_inclusion_verify(lh, idx, size,
                                        (const cy_hash *)proof, n,
                                        root) != 0)
                    die("proof does not verify", CB_EINTERNAL, NULL);
                mdb_txn_abort(txn);
            }
        }
        if (pass == 0)
            continue;
        double p50, p99, mx;
        pct(t, samples, &p50, &p99, &mx);
        printf("| scale: inclusion proof at %llu leaves (read txn + proof), "
               "p50 / p99 / max | %.1f / %.1f / %.1f us | p99 < 1000 us | "
               "%s |\n", (unsigned long long)size, p50, p99, mx,
               p99 < 1000 ? "met" : "missed");
    }
    /* 7b. account views */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < samples; i++) {
            const uint8_t *acct = accts[next_rand() % (uint64_t)naccounts];
            json_t *j;
            double a = now();
            if ((rv = lg_account_view(l, acct, &j, &err)) != 0)
                die("view", rv, err.msg);
            t[i] = now() - a;
            json_decref(j);
        }
        if (pass == 0)
            continue;
        double p50, p99, mx;
        pct(t, samples, &p50, &p99, &mx);
        printf("| scale: account view at %ld accounts, %llu entries, p50 / "
               "p99 / max | %.1f / %.1f / %.1f us | p99 < 1000 us | %s |\n",
               naccounts, (unsigned long long)size, p50, p99, mx,
               p99 < 1000 ? "met" : "missed");
    }
    fflush(stdout);
    /* 7c. export */
    double *et = malloc(sizeof *et * (size_t)runs);
    uint8_t *bundle = NULL;
    size_t blen = 0;
    for (int r = 0; r < runs; r++) {
        struct lg_w w;
        lg_w_init(&w);
        double a = now();
        if ((rv = lg_bundle_export(l, accts[0], NULL, &w, &err)) != 0)
            die("export", rv, err.msg);
        et[r] = now() - a;
        if (r == runs - 1)
            bundle = lg_w_take(&w, &blen);
        lg_w_release(&w);
    }
    qsort(et, (size_t)runs, sizeof *et, cmp_d);
    struct lg_bundle_result vr;
    double va = now();
    rv = lg_bundle_verify(bundle, blen, ledger_id, NULL, &vr);
    double vms = 1e3 * (now() - va);
    if (rv != 0)
        die("bundle verify", rv, vr.msg);
    uint64_t bentries = vr.entries;
    lg_bundle_result_release(&vr);
    free(bundle);
    printf("| scale: bundle export, %llu-entry account, %llu-entry ledger, "
           "min / median / max of %d | %.1f / %.1f / %.1f ms (%.0f KiB; "
           "verified in %.0f ms) | < 50 ms (issue 5) | %s |\n",
           (unsigned long long)bentries, (unsigned long long)size, runs,
           1e3 * et[0] /* sorted: min */, 1e3 * et[runs / 2],
           1e3 * et[runs - 1], blen / 1024.0, vms,
           et[runs / 2] < 0.050 ? "met" : "missed");
    free(et);
    /* 7d. size and memory */
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat sb;
    if (stat(path, &sb) != 0)
        die("stat", errno, path);
    MDB_envinfo ei;
    MDB_stat ms;
    mdb_env_info(env, &ei);
    mdb_env_stat(env, &ms);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("| scale: LMDB at %llu entries, %ld accounts: data.mdb on disk "
           "(pages in use) | %.2f GiB (%.2f GiB); %.0f B per entry | - | - "
           "|\n", (unsigned long long)size, naccounts,
           (double)sb.st_blocks * 512 / (1 << 30),
           (double)(ei.me_last_pgno + 1) * ms.ms_psize / (1 << 30),
           (double)sb.st_blocks * 512 / (double)size);
    printf("| scale: resident memory of this process (generator + ledger; "
           "LMDB pages are file-backed, shared with the page cache) | "
           "now %.0f MiB (anonymous %.0f MiB, file %.0f MiB); peak %.0f MiB "
           "| - | - |\n", status_kib("VmRSS") / 1024.0,
           status_kib("RssAnon") / 1024.0, status_kib("RssFile") / 1024.0,
           ru.ru_maxrss / 1024.0);
    fflush(stdout);
    free(t);

    if (nodefiles != NULL) {
        char p[700];
        mkdir(nodefiles, 0700);
        uint8_t *g;
        size_t glen;
        bench_entry_at(l, 0, NULL, &g, &glen);
        snprintf(p, sizeof p, "%s/genesis.cbe", nodefiles);
        write_file(p, g, glen);
        free(g);
        const char *names[3] = {"bank", "university", "provider"};
        const struct cy_key *nk[3] = {&bank_node, &uni_node, &prov_node};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s/%s.node.key", nodefiles, names[i]);
            if (cy_keyfile_write(p, nk[i], &err) != 0)
                die("key file", err.code, err.msg);
        }
        snprintf(p, sizeof p, "%s/extra", nodefiles);
        mkdir(p, 0700);
        for (int i = 0; i < extra; i++) {
            size_t len;
            uint8_t *e = bench_account_open(naccounts + 1000 + i, &len);
            snprintf(p, sizeof p, "%s/extra/%05d.cbe", nodefiles, i);
            write_file(p, e, len);
            free(e);
        }
        printf("| scale: ledger for the catch-up row: entries, sigs per "
               "entry | %llu, %.3f | - | - |\n",
               (unsigned long long)size + 2, /* and the two cosigns */
               (double)(mo.sigs + mp0.sigs + mb.sigs + mp1.sigs + 6 + 3) /
                   (double)size);
        fflush(stdout);
    }
    free(accts);
    lg_ledger_close(l);
    if (!keepdir && dirarg == NULL) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
usage:
    fprintf(stderr, "usage: bench_scale [--entries N] [--accounts A] "
                    "[--target K] [--probe P] [--samples S] [--runs R] "
                    "[--batch B] [--threads T] [--dir DIR] [--keep] "
                    "[--node-files DIR] [--extra N]\n"
                    "(entries must exceed accounts + 2 probes + 2 targets)\n");
    return 2;
}
