/* ledger/pool.c: every index runs exactly once, whether the workers, the
 * caller's help or the final wait take it, and a caller can consume the
 * results in order while the job still runs (what lg_apply does). */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "../../ledger/pool.h"

struct job {
    atomic_int *runs;
    atomic_bool *done;
    unsigned long *out;
};

static void work(void *ctx, size_t i)
{
    struct job *j = ctx;
    unsigned long x = i + 1;
    for (int k = 0; k < 200; k++) /* a little work of uneven length */
        x = x * 6364136223846793005ul + 1442695040888963407ul + (i % 7);
    j->out[i] = x;
    atomic_fetch_add(&j->runs[i], 1);
    atomic_store_explicit(&j->done[i], true, memory_order_release);
}

static size_t cases_run;

static void run_case(unsigned threads, size_t n)
{
    cases_run++;
    struct lg_pool *p;
    cr_assert_eq(lg_pool_new(&p, threads), 0);
    for (int round = 0; round < 3; round++) { /* the pool is reusable */
        struct job j = {calloc(n + 1, sizeof *j.runs),
                        calloc(n + 1, sizeof *j.done),
                        calloc(n + 1, sizeof *j.out)};
        lg_pool_start(p, work, &j, n);
        for (size_t i = 0; i < n; i++) {
            while (!atomic_load_explicit(&j.done[i], memory_order_acquire))
                if (!lg_pool_help(p))
                    sched_yield();
            cr_assert_neq(j.out[i], 0);
        }
        lg_pool_wait(p);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(atomic_load(&j.runs[i]), 1,
                         "threads %u n %zu: index %zu ran %d times", threads,
                         n, i, atomic_load(&j.runs[i]));
        free(j.runs);
        free(j.done);
        free(j.out);
    }
    lg_pool_free(p);
}

Test(pool, start_help_wait_runs_each_index_once)
{
    size_t sizes[] = {0, 1, 2, 3, 1000};
    unsigned threads[] = {0, 1, 3};
    for (size_t a = 0; a < sizeof threads / sizeof *threads; a++)
        for (size_t b = 0; b < sizeof sizes / sizeof *sizes; b++)
            run_case(threads[a], sizes[b]);
    cr_assert_eq(cases_run, 15); /* each case asserts every index ran once */
}

Test(pool, run_is_start_then_wait)
{
    struct lg_pool *p;
    cr_assert_eq(lg_pool_new(&p, 2), 0);
    size_t n = 500;
    struct job j = {calloc(n, sizeof *j.runs), calloc(n, sizeof *j.done),
                    calloc(n, sizeof *j.out)};
    lg_pool_run(p, work, &j, n);
    for (size_t i = 0; i < n; i++)
        cr_assert(atomic_load(&j.done[i]) && atomic_load(&j.runs[i]) == 1);
    free(j.runs);
    free(j.done);
    free(j.out);
    lg_pool_free(p);
}

Test(pool, queued_jobs_each_run_once_whatever_the_wait_order)
{
    struct lg_pool *p;
    cr_assert_eq(lg_pool_new(&p, 2), 0);
    enum { NJ = 4 };
    size_t n[NJ] = {700, 1, 0, 300};
    struct lg_job jobs[NJ];
    struct job j[NJ];
    for (int round = 0; round < 5; round++) {
        for (int k = 0; k < NJ; k++) {
            j[k] = (struct job){calloc(n[k] + 1, sizeof *j[k].runs),
                                calloc(n[k] + 1, sizeof *j[k].done),
                                calloc(n[k] + 1, sizeof *j[k].out)};
            lg_job_post(p, &jobs[k], work, &j[k], n[k]);
        }
        /* the last posted is waited for first; the first helped in order */
        lg_job_wait(p, &jobs[NJ - 1]);
        for (size_t i = 0; i < n[0]; i++)
            while (!atomic_load_explicit(&j[0].done[i], memory_order_acquire))
                if (!lg_job_help(p, &jobs[0]))
                    sched_yield();
        for (int k = 0; k < NJ - 1; k++)
            lg_job_wait(p, &jobs[k]);
        for (int k = 0; k < NJ; k++) {
            for (size_t i = 0; i < n[k]; i++)
                cr_assert_eq(atomic_load(&j[k].runs[i]), 1,
                             "job %d index %zu ran %d times", k, i,
                             atomic_load(&j[k].runs[i]));
            free(j[k].runs);
            free(j[k].done);
            free(j[k].out);
        }
    }
    lg_pool_free(p);
}
