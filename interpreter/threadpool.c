/*
 * threadpool.c — fixed worker pool; each parallel_for's ranges are claimed,
 * not assigned.
 *
 * One 64-bit atomic `ticket` carries the job: generation in the high 32 bits,
 * the unclaimed chunks [front, back) in bits 16..31 and 0..15 (threads <=
 * 1024, chunks <= 4 per thread).
 *
 * 1. run() writes (fn, arg, count, chunks), resets `finished`, and publishes
 *    ticket = (generation + 1) << 32 with a release store. Only when a worker
 *    is asleep (`sleepers` > 0) does it take the mutex and broadcast: while
 *    the workers spin, starting a job costs one store.
 * 2. Every thread, the caller included (it starts at once), claims chunks by
 *    a CAS on the ticket that also checks the generation (the caller from
 *    the front, the workers from the back), runs
 *    fn(arg, begin, end) on each, and counts it in `finished`. A worker that
 *    wakes late finds nothing left and goes back to waiting; a claim can
 *    never land in a later job (the generation would not match), and a
 *    worker reads the job's fields only after a successful claim, when the
 *    caller cannot have moved on.
 * 3. The caller waits until `finished` == chunks: spinning, then (if a
 *    worker was descheduled in the middle of a chunk) on a condition
 *    variable, with the same `sleepers`-style flag so that workers signal
 *    only a caller that is really asleep.
 *
 * Spinning (workers waiting for a job, the caller waiting for the last
 * chunk) is PAUSE for the first PURE_SPIN_NS, then sched_yield between
 * checks: on a machine with more runnable threads than cores a spinner
 * gives its core to whoever is queued there (often our own descheduled
 * worker) instead of burning it.
 *
 * Why (issue #6, two threads were bimodal with one static range per thread):
 * workers spun 20000 loads (~20 us) and then slept; any gap between
 * parallel ops longer than that (a serial op, a small op below the parallel
 * threshold) put them to sleep, every following op paid a futex wake
 * (tens of us, far more on a loaded VM) and the caller, having finished its
 * fixed half, waited for the sleeper's. Now the workers spin for
 * SPIN_NS (time-based, with PAUSE) before sleeping, and no thread ever
 * waits for work it could do itself.
 *
 * Chunks: count <= K = threads*CHUNKS_PER_THREAD gives one item per chunk
 * (the kernels that split their own work pass count == threads and use the
 * index as a slot); larger counts are cut into K contiguous chunks. The
 * caller claims from the front, the workers from the back, so with two
 * threads the caller runs about the first half of every op's range and the
 * worker the second. Why (issue #6): on this class of machine a core reads
 * or overwrites lines another core wrote at ~7 ns a line (~9 GB/s; a 128 KiB
 * memcpy of data the other core wrote costs 3.7-4x the same copy of its own
 * data, thread CPU time), and with claims in one order consecutive ops gave
 * the same rows to either thread by chance, so every op paid that for about
 * half its inputs. Both ends shrink towards where they are expected to
 * meet (count / threads items from the front, chunk_range): the last chunks
 * claimed, which decide when the slower thread ends, are a few percent of
 * the work instead of 1/K (from K (K + 1) / 2 items on the chunks of one
 * thread shrank in proportion to K, K-1, .., 1 before this split took both
 * ends: per-chunk CPU times of MobileNetV2 int8 at 2 threads replayed in
 * claim order gave a critical path 5.1% above half the work with equal
 * chunks and 2.4% with shrinking ones).
 *
 * Thread index (qlite_threadpool_run_thread): the caller is 0, worker i is
 * i + 1; a thread runs its claimed chunks one after another, so an index is
 * never in two running chunks and kernels may keep per-thread scratch.
 *
 * Memory ordering: job fields are written before the release store of the
 * ticket and read after an acquire CAS that saw it; `finished` is released
 * by each chunk and acquired by the caller; sleepers/ticket and
 * caller_asleep/finished are Dekker pairs (seq_cst on both sides) so no
 * wake-up is lost.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sched.h>
#include <time.h>

#include "qlite_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_NS 300000L          /* workers: 0.3 ms of spinning before sleeping */
#define WAIT_SPIN_NS 2000000L    /* caller: 2 ms before sleeping on `done` */
#define PURE_SPIN_NS 50000L      /* the first 50 us of either: PAUSE only; then sched_yield */
#define CHUNKS_PER_THREAD 4

struct qlite_threadpool {
    int threads;                       /* total, caller included */
    pthread_t *workers;                /* [threads - 1] */
    pthread_mutex_t mu;
    pthread_cond_t wake;               /* workers wait for a new generation */
    pthread_cond_t done;               /* caller waits for finished == chunks */
    _Atomic uint64_t ticket;           /* generation << 32 | front << 16 | back */
    atomic_uint finished;              /* chunks completed in this generation */
    atomic_int sleepers;               /* workers inside the wait on `wake` */
    atomic_bool caller_asleep;         /* caller inside the wait on `done` */
    atomic_bool stop;
    /* the job, written by run() before publishing the ticket: fn or fn_thread */
    void (*fn)(void *, size_t, size_t);
    void (*fn_thread)(void *, int, size_t, size_t);
    void *arg;
    size_t count;
    uint32_t chunks;
    struct worker_arg *args;           /* [threads - 1]: worker i + 1's index */
};

typedef struct worker_arg {
    qlite_threadpool *pool;
    int index;                         /* 1 .. threads - 1 (0 is the caller) */
} worker_arg;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Start of chunk c (0..chunks) of a decreasing split of [0, count): chunk c
 * holds about count * (chunks - c) / W items, W = chunks (chunks + 1) / 2, so
 * the last chunks are small. Exact floor(count * W(c) / W) with W(c) the
 * weights before c, without overflow (r * w < W^2 < 2^47). */
static size_t guided_start(size_t count, size_t chunks, size_t c) {
    const size_t total = chunks * (chunks + 1) / 2, w = c * chunks - c * (c - 1) / 2;
    const size_t q = count / total, r = count % total;
    return q * w + r * w / total;
}

/* Start of chunk c (0..chunks) of a split of [0, count) into `chunks`
 * non-empty pieces (count >= chunks): from chunks (chunks + 1) / 2 items on
 * the decreasing split of guided_start, below it equal pieces (the first
 * count % chunks one item longer). No overflow for any size_t count. */
static size_t piece_start(size_t count, size_t chunks, size_t c) {
    if (count >= chunks * (chunks + 1) / 2) return guided_start(count, chunks, c);
    const size_t base = count / chunks, rem = count % chunks;
    return c * base + (c < rem ? c : rem);
}

/* Chunk c of `chunks` over [0, count) (count > chunks = threads *
 * CHUNKS_PER_THREAD). The caller claims from the front, the workers from
 * the back (work()), so the range is cut into a front part of count /
 * threads items in CHUNKS_PER_THREAD chunks for the caller and a back part
 * for the workers in the rest: each part shrinks towards the point where
 * the two ends are expected to meet (the front part as piece_start, the
 * back part its mirror image), so the last chunks claimed are small
 * whichever end is faster. */
static void chunk_range(size_t count, size_t chunks, int threads, size_t c, size_t *begin,
                        size_t *end) {
    const size_t kf = CHUNKS_PER_THREAD, front = count / (size_t)threads;
    if (c < kf) {
        *begin = piece_start(front, kf, c);
        *end = piece_start(front, kf, c + 1);
        return;
    }
    const size_t kb = chunks - kf, back = count - front, r = chunks - 1 - c; /* r = 0: last */
    *begin = count - piece_start(back, kb, r + 1);
    *end = count - piece_start(back, kb, r);
}

/* ticket layout: generation << 32 | front << 16 | back; chunks [front, back)
 * are unclaimed */
#define TICKET_GEN(t) ((uint32_t)((t) >> 32))
#define TICKET_FRONT(t) ((uint32_t)((t) >> 16) & 0xffffu)
#define TICKET_BACK(t) ((uint32_t)(t) & 0xffffu)

/* Claims and runs chunks of generation `gen` until none is left: the caller
 * (index 0) from the front, the workers from the back. A claim is a CAS
 * that only succeeds while the generation matches and a chunk is left, so
 * the job's fields are stable from a successful claim until this thread
 * counts the chunk in `finished`. */
static void work(qlite_threadpool *p, uint32_t gen, int index) {
    uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    for (;;) {
        if (TICKET_GEN(t) != gen || TICKET_FRONT(t) >= TICKET_BACK(t)) return;
        const uint64_t claimed = index == 0 ? t + (1u << 16) : t - 1;
        if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, claimed, memory_order_acquire,
                                                   memory_order_acquire))
            continue;
        const uint32_t chunks = p->chunks, c = index == 0 ? TICKET_FRONT(t) : TICKET_BACK(t) - 1;
        size_t begin = c, end = c + 1; /* count <= chunks: one item each */
        if (p->count > chunks) chunk_range(p->count, chunks, p->threads, c, &begin, &end);
        if (p->fn_thread) p->fn_thread(p->arg, index, begin, end);
        else p->fn(p->arg, begin, end);
        /* seq_cst: pairs with the caller's store of caller_asleep */
        if (atomic_fetch_add(&p->finished, 1) + 1 == chunks && atomic_load(&p->caller_asleep)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
        t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    }
}

static void *worker_main(void *v) {
    qlite_threadpool *p = ((const worker_arg *)v)->pool;
    const int index = ((const worker_arg *)v)->index;
    uint32_t seen = 0;
    for (;;) {
        uint32_t gen = TICKET_GEN(atomic_load_explicit(&p->ticket, memory_order_acquire));
        if (gen == seen && !atomic_load_explicit(&p->stop, memory_order_relaxed)) {
            const int64_t start = now_ns();
            bool polite = false;
            for (unsigned i = 1;; i++) {
                if (polite) sched_yield();
                else CPU_RELAX();
                gen = TICKET_GEN(atomic_load_explicit(&p->ticket, memory_order_acquire));
                if (gen != seen || atomic_load_explicit(&p->stop, memory_order_relaxed)) break;
                if (polite || (i & 63) == 0) {
                    const int64_t spent = now_ns() - start;
                    if (spent > SPIN_NS) break;
                    polite = spent > PURE_SPIN_NS;
                }
            }
        }
        if (gen == seen && !atomic_load(&p->stop)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((gen = TICKET_GEN(atomic_load(&p->ticket))) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = gen;
        work(p, gen, index);
    }
}

qlite_status qlite_threadpool_create(int threads, qlite_threadpool **out) {
    if (out) *out = NULL;
    if (!out || threads < 2 || threads > 1024)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "thread pool: bad thread count %d", threads);
    qlite_threadpool *p = calloc(1, sizeof *p);
    if (!p) return qlite_error(QLITE_ERR_NO_MEMORY, "thread pool: out of memory");
    p->threads = threads;
    p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
    p->args = calloc((size_t)threads - 1, sizeof *p->args);
    if (!p->workers || !p->args) {
        free(p->workers);
        free(p->args);
        free(p);
        return qlite_error(QLITE_ERR_NO_MEMORY, "thread pool: out of memory");
    }
    atomic_init(&p->ticket, 0);
    atomic_init(&p->finished, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_asleep, false);
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < threads - 1; i++) {
        p->args[i] = (worker_arg){.pool = p, .index = i + 1};
        if (pthread_create(&p->workers[i], NULL, worker_main, &p->args[i]) != 0) {
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
    free(p->args);
    free(p);
}

int qlite_threadpool_threads(const qlite_threadpool *p) { return p ? p->threads : 1; }

/* Publishes the job (fn or fn_thread set) and runs it with the workers. */
static void run_job(qlite_threadpool *p, size_t count, void (*fn)(void *, size_t, size_t),
                    void (*fn_thread)(void *, int, size_t, size_t), void *arg) {
    const size_t most = (size_t)p->threads * CHUNKS_PER_THREAD;
    const uint32_t chunks = (uint32_t)(count < most ? count : most);
    p->fn = fn;
    p->fn_thread = fn_thread;
    p->arg = arg;
    p->count = count;
    p->chunks = chunks;
    atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
    const uint32_t gen = TICKET_GEN(atomic_load_explicit(&p->ticket, memory_order_relaxed)) + 1;
    /* seq_cst (release for the job's fields): pairs with `sleepers` */
    atomic_store(&p->ticket, (uint64_t)gen << 32 | chunks);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    work(p, gen, 0);
    if (atomic_load_explicit(&p->finished, memory_order_acquire) == chunks) return;
    const int64_t start = now_ns();
    bool polite = false;
    for (unsigned i = 1; atomic_load_explicit(&p->finished, memory_order_acquire) != chunks; i++) {
        if (polite) sched_yield();
        else CPU_RELAX();
        if (!polite && (i & 63) != 0) continue;
        const int64_t spent = now_ns() - start;
        polite = spent > PURE_SPIN_NS;
        if (spent > WAIT_SPIN_NS) {
            pthread_mutex_lock(&p->mu);
            atomic_store(&p->caller_asleep, true); /* seq_cst: pairs with `finished` */
            while (atomic_load(&p->finished) != chunks) pthread_cond_wait(&p->done, &p->mu);
            atomic_store(&p->caller_asleep, false);
            pthread_mutex_unlock(&p->mu);
            break;
        }
    }
}

void qlite_threadpool_run(qlite_threadpool *p, size_t count,
                          void (*fn)(void *arg, size_t begin, size_t end), void *arg) {
    if (count == 0) return;
    if (!p || count == 1) {
        fn(arg, 0, count);
        return;
    }
    run_job(p, count, fn, NULL, arg);
}

void qlite_threadpool_run_thread(qlite_threadpool *p, size_t count,
                                 void (*fn)(void *arg, int thread, size_t begin, size_t end),
                                 void *arg) {
    if (count == 0) return;
    if (!p || count == 1) {
        fn(arg, 0, 0, count);
        return;
    }
    run_job(p, count, NULL, fn, arg);
}
