/* A small pthread pool that runs fn(ctx, i) for i in [0, n) in parallel,
 * the caller's thread taking part. Private to ledger/.
 *
 * Jobs queue in FIFO order: workers take indices of the oldest job that has
 * some left, so a job posted ahead (the next batch's signature checks) runs
 * while the caller is busy with something else (the current batch's rules
 * and commit), and the caller helps with its own job when it waits. */
#ifndef CREDBANK_POOL_H
#define CREDBANK_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct lg_pool;

/* A job; the caller owns the memory, which must live until lg_job_wait
 * returns. Fields are the pool's. */
struct lg_job {
    void (*fn)(void *ctx, size_t i);
    void *ctx;
    size_t n;
    atomic_size_t next;        /* next index to hand out */
    atomic_size_t done;        /* indices finished */
    unsigned users;            /* workers holding the job (under the lock) */
    bool queued;
    struct lg_job *qnext;
};

/* nthreads workers besides the caller (0: none, everything inline). */
int lg_pool_new(struct lg_pool **out, unsigned nthreads);
void lg_pool_free(struct lg_pool *p);

/* Posts job j (fn over [0, n)) and returns at once. */
void lg_job_post(struct lg_pool *p, struct lg_job *j,
                 void (*fn)(void *ctx, size_t i), void *ctx, size_t n);
/* Runs one index of j not yet taken on the calling thread; false when none
 * is left. */
bool lg_job_help(struct lg_pool *p, struct lg_job *j);
/* Runs what is left of j and returns when every index is done and no
 * worker holds j any more. */
void lg_job_wait(struct lg_pool *p, struct lg_job *j);

/* One job at a time, in the pool's own job (the earlier interface):
 * lg_pool_start posts it, lg_pool_help runs one index, lg_pool_wait waits,
 * lg_pool_run does all three. The caller learns that index i is done
 * through ctx (fn publishes it); ctx must live until lg_pool_wait returns. */
void lg_pool_start(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                   void *ctx, size_t n);
bool lg_pool_help(struct lg_pool *p);
void lg_pool_wait(struct lg_pool *p);
void lg_pool_run(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                 void *ctx, size_t n);

#endif
