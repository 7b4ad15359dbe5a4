/*
 * bench_export: time of lg_bundle_export for a 1,000-entry account as the
 * ledger grows (DESIGN 3.5; target: < 50 ms at 10,000,000 entries).
 *
 *   bench_export [--sizes 100000,1000000] [--accounts 1000]
 *                [--target 1000] [--runs 20] [--batch 1000]
 *                [--threads T] [--dir DIR] [--keep] [--baseline]
 *
 * The ledger is built through the real apply path (lg_apply: decoding,
 * Ed25519 verification, every rule, the log, the indices), with MDB_NOSYNC
 * (a generator, not a durability test). Entries are signed on every core.
 * Workload: genesis, `accounts` account.open, then outcome deposits (one
 * signature, about 400 bytes) round-robin over the accounts; the first
 * account ("the target") gets `target` - 1 deposits spread evenly over the
 * first size, so it has `target` entries; a policy.set (governance, of
 * a member's own scope) every 100,000 entries.
 *
 * At each size: a seal and two cosigns (the checkpoint is final), then
 *   1. export of the target `runs` times (unchanged since the seal: the
 *      stored account tree is the seal's);
 *   2. a few entries after the seal (deposits to the target and to others,
 *      a new account), then export `runs` times again: the account tree as
 *      of the seal comes from the stored tree with the changed leaves
 *      recomputed;
 *   3. the second bundle verified once (lg_bundle_verify) as a check.
 * With --baseline, also the time of one pass over the log below the seal
 * (every entry read and decoded), which is what export did before the
 * governance index.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>

#define BENCH_NAME "bench_export"
#define BENCH_CONSORTIUM
#include "bench.h"

#include <credbank/bundle.h>
#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/ledger.h>
#include <credbank/log.h>




/* ---- the workload, signed on every core ---- */
static uint8_t (*accts)[32];
static long naccounts, ntarget, first_size;

/* Entry number i (the log index it will get is base + i) of the bulk. */
struct sign_job {
    struct lg_buf *out;
    long from, to; /* workload positions */
    long target_every;
};

static void *sign_thread(void *arg)
{
    struct sign_job *j = arg;
    for (long i = j->from; i < j->to; i++) {
        size_t len;
        uint8_t *p;
        if (i % 100000 == 99999)
            p = bench_policy_set(i, &len);
        else if (i < first_size && (i % j->target_every) == 0 &&
                 i / j->target_every < ntarget - 1)
            p = bench_deposit(accts[0], i, &len);
        else
            p = bench_deposit(accts[1 + i % (naccounts - 1)], i, &len);
        j->out[i - j->from] = (struct lg_buf){p, len};
    }
    return NULL;
}

static void apply_all(struct lg_ledger *l, struct lg_buf *b, long n,
                      long batch)
{
    struct lg_result *res = malloc(sizeof *res * (size_t)batch);
    struct cb_err err = {0, ""};
    for (long i = 0; i < n; i += batch) {
        long k = n - i < batch ? n - i : batch;
        int rv = lg_apply(l, 0, b + i, (size_t)k, res, NULL, &err);
        if (rv != 0)
            die("apply", rv, err.msg);
        for (long m = 0; m < k; m++) {
            if (res[m].code != 0)
                die("entry", res[m].code, res[m].msg);
            free((void *)b[i + m].p);
        }
    }
    free(res);
}




/* Exports the target runs times: median and max in ms; *bytes the size. */
static void time_export(struct lg_ledger *l, int runs, double *med,
                        double *max, size_t *bytes, uint8_t **keep,
                        size_t *keep_len)
{
    double *t = malloc(sizeof *t * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        struct lg_w w;
        lg_w_init(&w);
        struct cb_err err = {0, ""};
        double a = now();
        int rv = lg_bundle_export(l, accts[0], NULL, &w, &err);
        t[r] = now() - a;
        if (rv != 0)
            die("export", rv, err.msg);
        *bytes = lg_w_len(&w);
        if (keep != NULL && r == runs - 1)
            *keep = lg_w_take(&w, keep_len);
        lg_w_release(&w);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    *med = 1e3 * t[runs / 2];
    *max = 1e3 * t[runs - 1];
    free(t);
}

/* What export did before the governance index: read and decode every
 * entry below the seal. */
static double scan_log(struct lg_ledger *l, uint64_t S)
{
    MDB_txn *txn;
    if (mdb_txn_begin(lg_ledger_env(l), NULL, MDB_RDONLY, &txn) != 0)
        die("txn", CB_EIO, NULL);
    struct lg_signed s;
    lg_signed_init(&s);
    long gov = 0;
    double a = now();
    for (uint64_t i = 0; i < S; i++) {
        const uint8_t *p;
        size_t len;
        if (lg_log_get(lg_ledger_log(l), txn, i, &p, &len) != 0 ||
            lg_signed_decode(&s, p, len, NULL) != 0)
            die("scan", CB_ECORRUPT, NULL);
        gov += lg_type_is_governance(s.e.type);
    }
    double secs = now() - a;
    lg_signed_release(&s);
    mdb_txn_abort(txn);
    (void)gov;
    return 1e3 * secs;
}

int main(int argc, char **argv)
{
    const char *sizes_arg = "100000,1000000", *dirarg = NULL;
    long batch = 1000;
    int runs = 20;
    unsigned threads = 0;
    bool keepdir = false, baseline = false, reuse = false;
    naccounts = 1000;
    ntarget = 1000;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--sizes"))
            sizes_arg = v, i++;
        else if (!strcmp(argv[i], "--accounts"))
            naccounts = atol(v), i++;
        else if (!strcmp(argv[i], "--target"))
            ntarget = atol(v), i++;
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch"))
            batch = atol(v), i++;
        else if (!strcmp(argv[i], "--threads"))
            threads = (unsigned)atoi(v), i++;
        else if (!strcmp(argv[i], "--dir"))
            dirarg = v, i++;
        else if (!strcmp(argv[i], "--keep"))
            keepdir = true;
        else if (!strcmp(argv[i], "--baseline"))
            baseline = true;
        else if (!strcmp(argv[i], "--reuse"))
            reuse = true;
        else {
            fprintf(stderr, "usage: bench_export [--sizes N,N..] [--accounts "
                            "A] [--target K] [--runs R] [--batch B] "
                            "[--threads T] [--dir DIR] [--keep] "
                            "[--baseline] [--reuse]\n");
            return 2;
        }
    }
    long sizes[32];
    int nsizes = 0;
    for (const char *p = sizes_arg; *p && nsizes < 32;) {
        sizes[nsizes++] = atol(p);
        const char *c = strchr(p, ',');
        if (c == NULL)
            break;
        p = c + 1;
    }
    if (nsizes == 0 || naccounts < 2 || ntarget < 1 || runs < 1 ||
        batch < 1 || sizes[0] < naccounts + 2 * ntarget) {
        fprintf(stderr, "bench_export: bad arguments\n");
        return 2;
    }
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

    char dir[256];
    if (dirarg != NULL) {
        snprintf(dir, sizeof dir, "%s", dirarg);
    } else {
        snprintf(dir, sizeof dir, "/tmp/credbank-bench-export-XXXXXX");
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
    if (reuse) {
        /* a ledger this program built (--dir DIR --keep): the target is
         * the account opened at index 1; export it `runs` times */
        if (lg_status(l, &st) != 0 || !st.has_final)
            die("--reuse: no final checkpoint", CB_EINVAL, dir);
        accts = malloc(32);
        bench_entry_at(l, 1, accts[0], NULL, NULL);
        double med, max;
        size_t bytes;
        time_export(l, runs, &med, &max, &bytes, NULL, NULL);
        printf("| %llu | - | %.2f / %.2f (current state) | | %.0f | |\n",
               (unsigned long long)st.final_seal + 1, med, max,
               bytes / 1024.0);
        lg_ledger_close(l);
        free(accts);
        return 0;
    }
    if (lg_status(l, &st) != 0 || st.size != 0)
        die("the ledger directory must be empty", CB_EINVAL, dir);
    genesis(l);
    accts = malloc((size_t)naccounts * 32);
    struct lg_buf *bufs = malloc(sizeof *bufs * (size_t)naccounts);
    for (long a = 0; a < naccounts; a++) {
        size_t len;
        uint8_t *p = bench_account_open(a, &len);
        bufs[a] = (struct lg_buf){p, len};
    }
    struct lg_result *res = malloc(sizeof *res * (size_t)naccounts);
    if ((rv = lg_apply(l, 0, bufs, (size_t)naccounts, res, NULL, &err)) != 0)
        die("apply", rv, err.msg);
    for (long a = 0; a < naccounts; a++) {
        if (res[a].code != 0)
            die("account.open", res[a].code, res[a].msg);
        memcpy(accts[a], res[a].id, 32);
        free((void *)bufs[a].p);
    }
    free(bufs);
    free(res);

    first_size = sizes[0];
    long target_every = (first_size - naccounts - 1) / ntarget;
    if (target_every < 1)
        target_every = 1;
    long chunk = 20000, done = 0; /* workload positions applied */
    struct lg_buf *cbufs = malloc(sizeof *cbufs * (size_t)chunk);
    printf("bench_export: a %ld-entry account exported from ledgers of "
           "growing size (%ld accounts; deposits of ~400 B; built through "
           "lg_apply with %u verify threads, MDB_NOSYNC); %d runs each\n\n",
           ntarget, naccounts, threads, runs);
    printf("| ledger size | build s (cumulative) | export, unchanged since "
           "seal: median / max ms | export, account changed after seal: "
           "median / max ms | bundle KiB | verify ms |%s\n",
           baseline ? " old governance scan ms |" : "");
    printf("|---|---|---|---|---|---|%s\n", baseline ? "---|" : "");
    fflush(stdout);
    double t0 = now(), t_apply = 0;
    long post = 0;
    for (int si = 0; si < nsizes; si++) {
        if (lg_status(l, &st) != 0)
            die("status", CB_EIO, NULL);
        long want = sizes[si] - (long)st.size - 3; /* seal + 2 cosigns */
        while (want > 0) {
            long cn = want < chunk ? want : chunk;
            struct sign_job jobs[16];
            pthread_t tid[16];
            unsigned nt = threads > 16 ? 16 : threads;
            for (unsigned t = 0; t < nt; t++) {
                jobs[t] = (struct sign_job){cbufs + cn * t / nt,
                                            done + cn * t / nt,
                                            done + cn * (t + 1) / nt,
                                            target_every};
                pthread_create(&tid[t], NULL, sign_thread, &jobs[t]);
            }
            for (unsigned t = 0; t < nt; t++)
                pthread_join(tid[t], NULL);
            double ta = now();
            apply_all(l, cbufs, cn, batch);
            t_apply += now() - ta;
            done += cn;
            want -= cn;
            if ((done / chunk) % 25 == 0)
                fprintf(stderr, "  %ld entries, %.0f s (%.0f s applying)\n",
                        done, now() - t0, t_apply);
        }
        uint64_t S = bench_finalise(l);
        double build_s = now() - t0;
        double m1, x1, m2, x2;
        size_t bytes;
        time_export(l, runs, &m1, &x1, &bytes, NULL, NULL);
        /* entries after the seal: the target and others change, a new
         * account opens */
        for (int k = 0; k < 3; k++) {
            size_t len;
            uint8_t *p = bench_deposit(accts[0], -1 - post * 10 - k, &len);
            apply1(l, p, len, NULL);
            p = bench_deposit(accts[1 + (post * 7 + k) % (naccounts - 1)],
                        -5 - post * 10 - k, &len);
            apply1(l, p, len, NULL);
        }
        {
            size_t len;
            uint8_t *p = bench_account_open(naccounts + post, &len);
            apply1(l, p, len, NULL);
        }
        post++;
        uint8_t *b = NULL;
        size_t blen = 0;
        time_export(l, runs, &m2, &x2, &bytes, &b, &blen);
        struct lg_bundle_result vr;
        double va = now();
        rv = lg_bundle_verify(b, blen, ledger_id, NULL, &vr);
        double vms = 1e3 * (now() - va);
        if (rv != 0)
            die("verify", rv, vr.msg);
        if (vr.entries != (uint64_t)(ntarget + 3 * si) || vr.seal_index != S)
            die("verify: unexpected bundle", CB_EINTERNAL, NULL);
        lg_bundle_result_release(&vr);
        free(b);
        char base[64] = "";
        if (baseline)
            snprintf(base, sizeof base, " %.0f |", scan_log(l, S));
        printf("| %llu | %.0f | %.2f / %.2f | %.2f / %.2f | %.0f | %.0f |%s\n",
               (unsigned long long)(S + 1), build_s, m1, x1, m2, x2,
               bytes / 1024.0, vms, base);
        fflush(stdout);
    }
    free(cbufs);
    free(accts);
    lg_ledger_close(l);
    if (!keepdir && dirarg == NULL) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
