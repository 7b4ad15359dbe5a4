/*
 * Signature checks dominate apply (Ed25519 verify is the bound of the whole
 * system, ~15-20k/s per core here), so a batch's checks are spread over
 * worker threads. Work is handed out one index at a time through an atomic
 * counter, which balances entries of unequal size without any planning.
 * Jobs wait in a FIFO queue; a job leaves the queue once its last index is
 * handed out (or when its owner waits for it).
 */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

#include <credbank/errors.h>

struct lg_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;       /* a job was posted, or stop */
    pthread_cond_t idle;       /* a job's index finished, or a worker let go */
    unsigned nthreads;
    pthread_t *threads;
    bool stop;
    struct lg_job *head, *tail;
    struct lg_job cur;         /* the one-at-a-time interface's job */
};

static void unqueue(struct lg_pool *p, struct lg_job *j) /* under mu */
{
    if (!j->queued)
        return;
    struct lg_job **pp = &p->head, *prev = NULL;
    while (*pp != j) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    *pp = j->qnext;
    if (p->tail == j)
        p->tail = prev;
    j->qnext = NULL;
    j->queued = false;
}

/* Runs index i of j if there is one; true if it ran. */
static bool run_one(struct lg_pool *p, struct lg_job *j)
{
    size_t i = atomic_fetch_add(&j->next, 1);
    if (i >= j->n)
        return false;
    j->fn(j->ctx, i);
    if (atomic_fetch_add(&j->done, 1) + 1 == j->n) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->idle);
        pthread_mutex_unlock(&p->mu);
    }
    return true;
}

static void *worker(void *arg)
{
    struct lg_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->head == NULL)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        struct lg_job *j = p->head;
        j->users++;
        pthread_mutex_unlock(&p->mu);
        while (run_one(p, j))
            ;
        pthread_mutex_lock(&p->mu);
        unqueue(p, j); /* every index is handed out */
        if (--j->users == 0)
            pthread_cond_broadcast(&p->idle);
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

void lg_job_post(struct lg_pool *p, struct lg_job *j,
                 void (*fn)(void *ctx, size_t i), void *ctx, size_t n)
{
    j->fn = fn;
    j->ctx = ctx;
    j->n = n;
    atomic_store(&j->next, 0);
    atomic_store(&j->done, 0);
    j->users = 0;
    j->queued = false;
    j->qnext = NULL;
    if (p->nthreads == 0 || n < 2)
        return; /* the caller does it all, in help and wait */
    pthread_mutex_lock(&p->mu);
    if (p->tail != NULL)
        p->tail->qnext = j;
    else
        p->head = j;
    p->tail = j;
    j->queued = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

bool lg_job_help(struct lg_pool *p, struct lg_job *j)
{
    return run_one(p, j);
}

void lg_job_wait(struct lg_pool *p, struct lg_job *j)
{
    while (run_one(p, j))
        ;
    pthread_mutex_lock(&p->mu);
    unqueue(p, j);
    while (atomic_load(&j->done) < j->n || j->users > 0)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void lg_pool_start(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                   void *ctx, size_t n)
{
    lg_job_post(p, &p->cur, fn, ctx, n);
}

bool lg_pool_help(struct lg_pool *p)
{
    return lg_job_help(p, &p->cur);
}

void lg_pool_wait(struct lg_pool *p)
{
    lg_job_wait(p, &p->cur);
}

void lg_pool_run(struct lg_pool *p, void (*fn)(void *ctx, size_t i),
                 void *ctx, size_t n)
{
    lg_pool_start(p, fn, ctx, n);
    lg_pool_wait(p);
}
