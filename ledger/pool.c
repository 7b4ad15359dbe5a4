/*
 * Signature checks dominate apply (Ed25519 verify is the bound of the whole
 * system, ~20k/s per core), so a batch's checks are spread over worker
 * threads. Work is handed out one index at a time through an atomic counter,
 * which balances entries of unequal size without any planning.
 */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include <credbank/errors.h>

struct lg_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a job was posted, or stop */
    pthread_cond_t idle;     /* a worker finished its share */
    unsigned nthreads;
    pthread_t *threads;
    bool stop;
    unsigned long gen;       /* job generation */
    unsigned busy;           /* workers still in the current job */
    void (*fn)(void *ctx, size_t i);
    void *ctx;
    size_t n;
    atomic_size_t next;
};

static void drain(struct lg_pool *p)
{
    size_t i;
    while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
        p->fn(p->ctx, i);
}

static void *worker(void *arg)
{
    struct lg_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int lg_pool_new(struct lg_pool **out, unsigned nthreads)
{
    struct lg_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return CB_ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    if (nthreads > 0) {
        p->threads = calloc(nthreads, sizeof *p->threads);
        if (p->threads == NULL) {
            lg_pool_free(p);
            return CB_ENOMEM;
        }
    }
    for (unsigned i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    *out = p;
    return 0;
}

void lg_pool_free(struct lg_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void lg_pool_start(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                   void *ctx, size_t n)
{
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->next, 0);
    if (p->nthreads > 0 && n >= 2) {
        p->busy = p->nthreads;
        p->gen++;
        pthread_cond_broadcast(&p->work);
    } else {
        p->busy = 0; /* the caller does it all, in help and wait */
    }
    pthread_mutex_unlock(&p->mu);
}

bool lg_pool_help(struct lg_pool *p)
{
    size_t i = atomic_fetch_add(&p->next, 1);
    if (i >= p->n)
        return false;
    p->fn(p->ctx, i);
    return true;
}

void lg_pool_wait(struct lg_pool *p)
{
    drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void lg_pool_run(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                 void *ctx, size_t n)
{
    lg_pool_start(p, fn, ctx, n);
    lg_pool_wait(p);
}
