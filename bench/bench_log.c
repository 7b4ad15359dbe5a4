/*
 * bench_log: the LMDB Merkle log (ledger/log.c).
 *
 *   bench_log [--leaves N] [--batch B] [--append N] [--samples S]
 *
 * 1. Durable batched appends: B leaves (default 1000) of 400 bytes per
 *    write transaction, default LMDB flags (fsync at every commit), each
 *    configuration on a fresh log of --append leaves (default 100,000):
 *    with and without the id index, and with the leaf hashed by the log
 *    (lg_log_append) or supplied by the caller (lg_log_append_hashed, as
 *    the ledger does: it already has the leaf hash for its chains). Entry
 *    ids, like the ledger's, are computed before the clock starts.
 * 2. A log of --leaves leaves (default 1,000,000) in a temporary
 *    directory: inclusion and consistency proof latency (p50, p99, max over
 *    S random proofs each, default 100,000, after S/10 inclusion proofs
 *    timed apart while the map's pages fault in), tree root latency.
 *    Proofs are checked with cy_*_verify (outside the timing).
 * Everything is deleted at the end. Prints a markdown table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <credbank/crypto.h>
#include <credbank/log.h>

#define LEAF_LEN 400

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void) /* xorshift64 */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "bench_log: %s: %d (%s)\n", what, rc,
                rc < 0 ? cb_errname(rc) : mdb_strerror(rc));
        exit(1);
    }
}

struct store {
    char dir[64];
    MDB_env *env;
    struct lg_log log;
};

static void store_open(struct store *s)
{
    MDB_txn *txn;
    snprintf(s->dir, sizeof s->dir, "/tmp/credbank-bench-log-XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    check(mdb_env_create(&s->env), "env create");
    check(mdb_env_set_maxdbs(s->env, 8), "maxdbs");
    check(mdb_env_set_mapsize(s->env, (size_t)64 << 30), "mapsize");
    check(mdb_env_open(s->env, s->dir, 0, 0600), "env open"); /* fsync */
    check(mdb_txn_begin(s->env, NULL, 0, &txn), "begin");
    check(lg_log_open(&s->log, txn), "log open");
    check(mdb_txn_commit(txn), "commit");
}

static void store_remove(struct store *s)
{
    char path[128];
    mdb_env_close(s->env);
    snprintf(path, sizeof path, "%s/data.mdb", s->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", s->dir);
    unlink(path);
    if (rmdir(s->dir) != 0)
        fprintf(stderr, "bench_log: could not remove %s\n", s->dir);
}

/* Leaf i: 400 bytes, distinct per index. */
static void make_leaf(uint8_t leaf[LEAF_LEN], uint64_t i)
{
    memset(leaf, 0x5a, LEAF_LEN);
    for (int k = 0; k < 8; k++)
        leaf[k] = (uint8_t)(i >> (8 * k));
    leaf[LEAF_LEN - 1] = (uint8_t)(i * 31);
}

struct rate {
    double leaves_per_s; /* all leaves over all the time */
    double median;       /* leaves/s of the median transaction */
    double commit_share; /* of the elapsed time, in mdb_txn_commit */
};

/* Appends leaves [from, to) in transactions of batch. */
static struct rate append(struct store *s, uint64_t from, uint64_t to,
                          int batch, int with_ids, int hashed)
{
    uint8_t(*leaves)[LEAF_LEN] = malloc((size_t)batch * LEAF_LEN);
    cy_hash *lh = malloc((size_t)batch * sizeof *lh);
    uint8_t(*ids)[32] = malloc((size_t)batch * 32);
    size_t ntx = 0, maxtx = (size_t)((to - from) / (uint64_t)batch) + 1;
    double *per_tx = malloc(maxtx * sizeof *per_tx);
    double elapsed = 0, in_commit = 0;
    if (leaves == NULL || lh == NULL || ids == NULL || per_tx == NULL)
        exit(1);
    for (uint64_t i = from; i < to;) {
        int n = 0;
        /* the caller's part, untimed: the leaves, their ids, and (for
         * lg_log_append_hashed) their leaf hashes */
        for (; n < batch && i + (uint64_t)n < to; n++) {
            make_leaf(leaves[n], i + (uint64_t)n);
            if (with_ids)
                cy_sha256(ids[n], leaves[n], LEAF_LEN);
            if (hashed)
                cy_leaf_hash(lh[n], leaves[n], LEAF_LEN);
        }
        MDB_txn *txn;
        double t0 = now();
        check(mdb_txn_begin(s->env, NULL, 0, &txn), "begin");
        for (int k = 0; k < n; k++) {
            uint64_t idx;
            const uint8_t *id = with_ids ? ids[k] : NULL;
            int rv = hashed ? lg_log_append_hashed(&s->log, txn, leaves[k],
                                                   LEAF_LEN, lh[k], id, &idx)
                            : lg_log_append(&s->log, txn, leaves[k],
                                            LEAF_LEN, id, &idx);
            check(rv, "append");
        }
        double t1 = now();
        check(mdb_txn_commit(txn), "commit");
        double t2 = now();
        elapsed += t2 - t0;
        in_commit += t2 - t1;
        per_tx[ntx++] = (double)n / (t2 - t0);
        i += (uint64_t)n;
    }
    qsort(per_tx, ntx, sizeof *per_tx, cmp_double);
    struct rate r = {(double)(to - from) / elapsed, per_tx[ntx / 2],
                     in_commit / elapsed};
    free(per_tx);
    free(leaves);
    free(lh);
    free(ids);
    return r;
}

struct lat {
    double p50, p99, max; /* microseconds */
};

static struct lat summarize(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return (struct lat){t[n / 2] * 1e6, t[(size_t)n * 99 / 100] * 1e6,
                        t[n - 1] * 1e6};
}

int main(int argc, char **argv)
{
    uint64_t total = 1000000, per_config = 100000;
    int batch = 1000, samples = 100000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--leaves"))
            total = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--append"))
            per_config = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--samples"))
            samples = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_log [--leaves N] [--batch B] "
                            "[--append N] [--samples S]\n");
            return 2;
        }
    }
    if (total < 2 || batch < 1 || samples < 100 || per_config < 1) {
        fprintf(stderr, "bench_log: bad arguments\n");
        return 2;
    }
    check(cy_init(), "cy_init");

    /* 1. durable appends */
    static const struct {
        int ids, hashed;
        const char *name;
    } configs[] = {
        {0, 0, "no id index, leaf hashed by the log"},
        {0, 1, "no id index, leaf hash from the caller"},
        {1, 0, "id index, leaf hashed by the log"},
        {1, 1, "id index, leaf hash from the caller"},
    };
    struct rate rates[4];
    for (int c = 0; c < 4; c++) {
        struct store s;
        store_open(&s);
        fprintf(stderr, "appending: %s...\n", configs[c].name);
        rates[c] = append(&s, 0, per_config, batch, configs[c].ids,
                          configs[c].hashed);
        store_remove(&s);
    }

    /* 2. a big log */
    struct store big;
    store_open(&big);
    fprintf(stderr, "building a log of %llu leaves...\n",
            (unsigned long long)total);
    double tb = now();
    struct rate build = append(&big, 0, total, batch, 0, 1);
    tb = now() - tb;

    MDB_txn *txn;
    uint64_t size;
    check(mdb_txn_begin(big.env, NULL, MDB_RDONLY, &txn), "begin");
    check(lg_log_size(&big.log, txn, &size), "size");
    double *t = malloc(sizeof *t * (size_t)samples);
    cy_hash root, proof[CY_PROOF_MAX];
    size_t n;
    struct lat cold = {0, 0, 0};
    if (t == NULL)
        return 1;
    check(lg_log_root(&big.log, txn, size, root), "root");

    /* The first proofs after the build fault the map's pages in: timed
     * apart ("cold"), then the measured run ("warm"). */
    int ncold = samples / 10;
    for (int i = 0; i < ncold + samples; i++) {
        uint64_t idx = next_rand() % size;
        double t0 = now();
        check(lg_log_inclusion(&big.log, txn, idx, size, proof, &n), "proof");
        t[i % samples] = now() - t0;
        if (i + 1 == ncold)
            cold = summarize(t, ncold);
        if (i % 97 == 0) {
            uint8_t leaf[LEAF_LEN];
            cy_hash lh;
            make_leaf(leaf, idx);
            cy_leaf_hash(lh, leaf, LEAF_LEN);
            check(cy_inclusion_verify(lh, idx, size, (const cy_hash *)proof,
                                      n, root),
                  "inclusion verify");
        }
    }
    struct lat inc = summarize(t, samples);

    for (int i = 0; i < samples; i++) {
        uint64_t m = 1 + next_rand() % size;
        double t0 = now();
        check(lg_log_consistency(&big.log, txn, m, size, proof, &n), "cons");
        t[i] = now() - t0;
        if (i % 97 == 0) {
            cy_hash rm;
            check(lg_log_root(&big.log, txn, m, rm), "root m");
            check(cy_consistency_verify(m, size, rm, root,
                                        (const cy_hash *)proof, n),
                  "consistency verify");
        }
    }
    struct lat con = summarize(t, samples);

    int nroot = samples / 10;
    for (int i = 0; i < nroot; i++) {
        double t0 = now();
        check(lg_log_root(&big.log, txn, size, root), "root");
        t[i] = now() - t0;
    }
    struct lat rt = summarize(t, nroot);
    for (int i = 0; i < nroot; i++) {
        uint64_t m = 1 + next_rand() % size;
        double t0 = now();
        check(lg_log_root(&big.log, txn, m, root), "root");
        t[i] = now() - t0;
    }
    struct lat rr = summarize(t, nroot);
    mdb_txn_abort(txn);
    free(t);
    store_remove(&big);

    printf("bench_log: %d leaves of %d B per durable transaction (default "
           "LMDB flags: fsync per commit), %llu leaves per append "
           "configuration; proofs over a log of %llu leaves\n\n",
           batch, LEAF_LEN, (unsigned long long)per_config,
           (unsigned long long)size);
    printf("| measure | value | target | met |\n|---|---|---|---|\n");
    for (int c = 0; c < 4; c++) {
        int target = c < 2;
        printf("| log: durable appends, %s | %.0f leaves/s (median transaction "
               "%.0f/s; %.0f%% of the time in commit) | %s | %s |\n",
               configs[c].name, rates[c].leaves_per_s, rates[c].median,
               rates[c].commit_share * 100, target ? ">= 200,000/s" : "-",
               !target ? "-"
               : rates[c].leaves_per_s >= 200000 ? "met"
                                                 : "missed");
    }
    printf("| log: building the %llu-leaf log (no id index, hash from the "
           "caller) | %.0f leaves/s, %.1f s | - | - |\n",
           (unsigned long long)size, build.leaves_per_s, tb);
    printf("| log: inclusion proof at %llu leaves, first %d after the build "
           "(cold map), p50 / p99 / max | %.1f / %.1f / %.1f us | - | - |\n",
           (unsigned long long)size, ncold, cold.p50, cold.p99, cold.max);
    printf("| log: inclusion proof at %llu leaves, p50 / p99 / max | %.1f / %.1f "
           "/ %.1f us | p99 < 100 us | %s |\n",
           (unsigned long long)size, inc.p50, inc.p99, inc.max,
           inc.p99 < 100 ? "met" : "missed");
    printf("| log: consistency proof (random m) to %llu, p50 / p99 / max | %.1f / "
           "%.1f / %.1f us | - | - |\n",
           (unsigned long long)size, con.p50, con.p99, con.max);
    printf("| log: tree root at %llu leaves, p50 / p99 | %.1f / %.1f us | - | - "
           "|\n",
           (unsigned long long)size, rt.p50, rt.p99);
    printf("| log: tree root at a random size, p50 / p99 | %.1f / %.1f us | - | - "
           "|\n",
           rr.p50, rr.p99);
    return 0;
}
