/*
 * threadpool.c — fixed worker pool with a generation counter.
 *
 * 1. run() publishes (fn, arg, count), bumps `generation` and wakes workers.
 * 2. Worker k (1..n-1) computes its own range [k*count/n, (k+1)*count/n),
 *    runs it and decrements `pending`; the caller runs range 0.
 * 3. The caller waits until pending reaches 0.
 * Workers spin briefly before sleeping so back-to-back ops (the common case in
 * one invoke) do not pay a futex round trip each.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "qlite_internal.h"

struct qlite_threadpool {
    int threads;                       /* total, caller included */
    pthread_t *workers;                /* [threads - 1] */
    pthread_mutex_t mu;
    pthread_cond_t wake;               /* workers wait for a new generation */
    pthread_cond_t done;               /* caller waits for pending == 0 */
    atomic_uint generation;
    atomic_int pending;
    atomic_bool stop;
    void (*fn)(void *, size_t, size_t);
    void *arg;
    size_t count;
};

typedef struct worker_arg {
    qlite_threadpool *pool;
    int index;
} worker_arg;

static void run_share(qlite_threadpool *p, int k) {
    size_t n = (size_t)p->threads;
    size_t begin = p->count * (size_t)k / n, end = p->count * (size_t)(k + 1) / n;
    if (begin < end) p->fn(p->arg, begin, end);
}

static void *worker_main(void *v) {
    worker_arg wa = *(worker_arg *)v;
    free(v);
    qlite_threadpool *p = wa.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               !atomic_load(&p->stop) && spins < 20000)
            spins++;
        if (gen == seen && !atomic_load(&p->stop)) {
            pthread_mutex_lock(&p->mu);
            while ((gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = gen;
        run_share(p, wa.index);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

qlite_status qlite_threadpool_create(int threads, qlite_threadpool **out) {
    if (!out || threads < 2 || threads > 1024)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "thread pool: bad thread count %d", threads);
    *out = NULL;
    qlite_threadpool *p = calloc(1, sizeof *p);
    if (!p) return qlite_error(QLITE_ERR_NO_MEMORY, "thread pool: out of memory");
    p->threads = threads;
    p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return qlite_error(QLITE_ERR_NO_MEMORY, "thread pool: out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < threads - 1; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->pool = p;
            wa->index = i + 1;
        }
        if (!wa || pthread_create(&p->workers[i], NULL, worker_main, wa) != 0) {
            free(wa);
            p->threads = i + 1; /* only i workers exist */
            qlite_threadpool_destroy(p);
            return qlite_error(QLITE_ERR_NO_MEMORY, "thread pool: cannot start thread %d", i + 1);
        }
    }
    *out = p;
    return QLITE_OK;
}

void qlite_threadpool_destroy(qlite_threadpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->threads - 1; i++) pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

int qlite_threadpool_threads(const qlite_threadpool *p) { return p ? p->threads : 1; }

void qlite_threadpool_run(qlite_threadpool *p, size_t count,
                          void (*fn)(void *arg, size_t begin, size_t end), void *arg) {
    if (count == 0) return;
    if (!p || count == 1) {
        fn(arg, 0, count);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->count = count;
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0 && spins < 200000) spins++;
    if (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
