/* A small pthread pool that runs fn(ctx, i) for i in [0, n) in parallel,
 * the caller's thread taking part. Private to ledger/. */
#ifndef CREDBANK_POOL_H
#define CREDBANK_POOL_H

#include <stddef.h>

struct lg_pool;

/* nthreads workers besides the caller (0: none, everything inline). */
int lg_pool_new(struct lg_pool **out, unsigned nthreads);
void lg_pool_free(struct lg_pool *p);
/* Runs the job and returns when every index is done. One job at a time. */
void lg_pool_run(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                 void *ctx, size_t n);

#endif
