/* A small pthread pool that runs fn(ctx, i) for i in [0, n) in parallel,
 * the caller's thread taking part. Private to ledger/. */
#ifndef CREDBANK_POOL_H
#define CREDBANK_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct lg_pool;

/* nthreads workers besides the caller (0: none, everything inline). */
int lg_pool_new(struct lg_pool **out, unsigned nthreads);
void lg_pool_free(struct lg_pool *p);
/* Runs the job and returns when every index is done. One job at a time. */
void lg_pool_run(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                 void *ctx, size_t n);
/* The same in three steps, so that the caller can use results while the
 * rest is still running: lg_pool_start posts the job and returns at once;
 * lg_pool_help runs one index not yet taken on the calling thread (false
 * when none is left); lg_pool_wait runs what is left and returns when every
 * index is done. The caller learns that index i is done through ctx (fn
 * publishes it); ctx must live until lg_pool_wait returns. */
void lg_pool_start(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                   void *ctx, size_t n);
bool lg_pool_help(struct lg_pool *p);
void lg_pool_wait(struct lg_pool *p);

#endif
