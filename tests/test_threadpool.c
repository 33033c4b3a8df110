/*
 * test_threadpool.c — interpreter/threadpool.c: every index of [0, count)
 * runs exactly once in contiguous ranges (with run_thread: under a thread
 * index no other running range holds), for counts around the chunking
 * limits and many back-to-back jobs; above K = 4 * threads items the
 * caller's front part and the workers' back part shrink towards their
 * boundary to the sizes written here, up to count SIZE_MAX; the caller
 * claims from the front and a worker from the back; all threads really run at the same time;
 * sleeping workers are woken; the caller runs the whole job itself when the
 * workers never come; one thread creates nothing; bad arguments are refused;
 * through the interpreter: num_threads 1 starts no thread, 2 starts one, and
 * a FULLY_CONNECTED large enough to be split gives a naive loop's results
 * either way.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qlite_writer.h"
#include "support.h"
#include "threadpool.h"

/* Threads of this process, from /proc/self/status ("Threads: N"). */
static int process_threads(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    fclose(f);
    return n;
}

/* The process's thread count reaches `want` within a second: a joined thread
 * can stay listed a moment after pthread_join returns (under qemu-user the
 * host thread outlives the guest's join). */
static void sleep_ms(long ms);
static void expect_threads(int want) {
    for (int i = 0; i < 200 && process_threads() != want; i++) sleep_ms(5);
    assert_int_equal(process_threads(), want);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- coverage: each index once, ranges contiguous and within bounds ---- */

typedef struct cover_job {
    atomic_uint *hits;        /* [count] */
    size_t count;
    atomic_uint calls;
    atomic_size_t bad;        /* ranges out of bounds or empty */
} cover_job;

static void cover_fn(void *arg, size_t begin, size_t end) {
    cover_job *j = arg;
    atomic_fetch_add(&j->calls, 1);
    if (begin >= end || end > j->count) {
        atomic_fetch_add(&j->bad, 1);
        return;
    }
    for (size_t i = begin; i < end; i++) atomic_fetch_add(&j->hits[i], 1);
}

static void check_cover(qlite_threadpool *pool, size_t count, int threads) {
    cover_job j = {calloc(count ? count : 1, sizeof(atomic_uint)), count, 0, 0};
    assert_non_null(j.hits);
    qlite_threadpool_run(pool, count, cover_fn, &j);
    assert_int_equal(atomic_load(&j.bad), 0);
    for (size_t i = 0; i < count; i++) assert_int_equal(atomic_load(&j.hits[i]), 1);
    /* count <= 4 * threads: one item per range; above, exactly 4 * threads
     * ranges; count 0: no call; NULL pool or count 1: one call */
    size_t most = (size_t)threads * 4, want;
    if (count == 0) want = 0;
    else if (!pool || count == 1) want = 1;
    else want = count <= most ? count : most;
    assert_int_equal(atomic_load(&j.calls), want);
    free(j.hits);
}

/* The ranges of one job, whatever their count (no per-item array). */
typedef struct range_job {
    pthread_mutex_t mu;
    size_t n, begin[64], end[64];
} range_job;

static void range_fn(void *arg, size_t begin, size_t end) {
    range_job *j = arg;
    pthread_mutex_lock(&j->mu);
    if (j->n < 64) j->begin[j->n] = begin, j->end[j->n] = end;
    j->n++;
    pthread_mutex_unlock(&j->mu);
}

/* Above K = 4 * threads items: K ranges, sorted by start they tile
 * [0, count) exactly, none is empty; the first 4 cover the caller's front
 * part [0, count / threads), the other K - 4 the workers' back part. A part
 * of n items in k ranges with n >= W = k (k + 1) / 2 shrinks towards the
 * boundary between the parts: its outermost range (the first of the front,
 * the last of the back) holds floor(n k / W) items and its innermost
 * ceil(n / W) (written here in 128-bit arithmetic); with fewer items, its
 * ranges differ by at most one. Counts up to SIZE_MAX (the split must not
 * overflow). */
static void check_part(const range_job *j, size_t first, size_t k, size_t n, bool front) {
    const size_t W = k * (k + 1) / 2;
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t a = first; a < first + k; a++) {
        const size_t len = j->end[a] - j->begin[a];
        lo = len < lo ? len : lo;
        hi = len > hi ? len : hi;
    }
    const size_t outer = front ? first : first + k - 1, inner = front ? first + k - 1 : first;
    if (n >= W) {
        const unsigned __int128 c = n;
        assert_int_equal(j->end[outer] - j->begin[outer], (size_t)(c * k / W));
        assert_int_equal(j->end[inner] - j->begin[inner], (size_t)((c + W - 1) / W));
    } else {
        assert_true(hi - lo <= 1);
    }
}

static void check_ranges(qlite_threadpool *pool, size_t count, int threads) {
    range_job j = {.n = 0};
    pthread_mutex_init(&j.mu, NULL);
    qlite_threadpool_run(pool, count, range_fn, &j);
    pthread_mutex_destroy(&j.mu);
    const size_t K = 4 * (size_t)threads;
    assert_int_equal(j.n, count < K ? count : K);
    for (size_t a = 1; a < j.n; a++) /* insertion sort by start */
        for (size_t b = a; b > 0 && j.begin[b - 1] > j.begin[b]; b--) {
            size_t t = j.begin[b];
            j.begin[b] = j.begin[b - 1], j.begin[b - 1] = t;
            t = j.end[b], j.end[b] = j.end[b - 1], j.end[b - 1] = t;
        }
    for (size_t a = 0; a < j.n; a++) {
        assert_int_equal(j.begin[a], a ? j.end[a - 1] : 0);
        assert_true(j.end[a] > j.begin[a]);
    }
    assert_int_equal(j.end[j.n - 1], count);
    const size_t front = count / (size_t)threads;
    assert_int_equal(j.end[3], front);
    check_part(&j, 0, 4, front, true);
    check_part(&j, 4, K - 4, count - front, false);
}

static void test_shrinking_ranges(void **state) {
    (void)state;
    const int thread_counts[] = {2, 3, 8};
    for (size_t t = 0; t < sizeof thread_counts / sizeof *thread_counts; t++) {
        const int n = thread_counts[t];
        const size_t K = 4 * (size_t)n, W = K * (K + 1) / 2;
        qlite_threadpool *pool;
        assert_qlite_ok(qlite_threadpool_create(n, &pool));
        const size_t counts[] = {K + 1, W - 1, W, W + 1, 2 * W - 1, 49, 56, 112, 1000, 150528,
                                 ((size_t)1 << 40) + 7, SIZE_MAX / 3, SIZE_MAX - 1, SIZE_MAX};
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
            if (counts[c] > K) check_ranges(pool, counts[c], n);
        /* every count up to well past both parts' start of shrinking */
        for (size_t c = K + 1; c <= 3 * W; c++) check_ranges(pool, c, n);
        qlite_threadpool_destroy(pool);
    }
}

static void test_cover_counts(void **state) {
    (void)state;
    const int thread_counts[] = {2, 3, 4, 8};
    for (size_t t = 0; t < sizeof thread_counts / sizeof *thread_counts; t++) {
        const int n = thread_counts[t];
        qlite_threadpool *pool;
        assert_qlite_ok(qlite_threadpool_create(n, &pool));
        assert_int_equal(qlite_threadpool_threads(pool), n);
        const size_t counts[] = {0, 1, 2, 3, (size_t)n - 1, (size_t)n, (size_t)n + 1,
                                 4 * (size_t)n - 1, 4 * (size_t)n, 4 * (size_t)n + 1,
                                 4 * (size_t)n * 7 + 3, 1000, 4099,
                                 /* around the start of the shrinking split, K (K + 1) / 2 */
                                 8 * (size_t)n * n + 2 * (size_t)n - 1,
                                 8 * (size_t)n * n + 2 * (size_t)n,
                                 8 * (size_t)n * n + 2 * (size_t)n + 1};
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) check_cover(pool, counts[c], n);
        qlite_threadpool_destroy(pool);
    }
}

/* ---- run_thread: every index once, each range told a thread index in
 * [0, threads) that no other range holds at the same time (a per-index
 * "busy" flag set on entry must be clear), and the caller's own ranges get 0 */

typedef struct tid_job {
    atomic_uint *hits;        /* [count] */
    size_t count;
    int threads;
    atomic_int busy[8];       /* per thread index: a range is running with it */
    atomic_size_t bad;        /* bad index, index shared by two ranges at once, bad range */
    pthread_t caller;
    atomic_size_t caller_not0; /* caller's ranges given an index other than 0 */
    atomic_uint seen;         /* bit per index that ran something */
} tid_job;

static void tid_fn(void *arg, int thread, size_t begin, size_t end) {
    tid_job *j = arg;
    if (thread < 0 || thread >= j->threads || begin >= end || end > j->count) {
        atomic_fetch_add(&j->bad, 1);
        return;
    }
    if (pthread_equal(pthread_self(), j->caller) && thread != 0)
        atomic_fetch_add(&j->caller_not0, 1);
    if (atomic_exchange(&j->busy[thread], 1) != 0) atomic_fetch_add(&j->bad, 1);
    atomic_fetch_or(&j->seen, 1u << thread);
    for (size_t i = begin; i < end; i++) {
        atomic_fetch_add(&j->hits[i], 1);
        if ((i & 63) == 0) sched_yield(); /* give the others time to overlap */
    }
    atomic_store(&j->busy[thread], 0);
}

static void test_thread_index(void **state) {
    (void)state;
    const int thread_counts[] = {2, 3, 8};
    for (size_t t = 0; t < sizeof thread_counts / sizeof *thread_counts; t++) {
        const int n = thread_counts[t];
        qlite_threadpool *pool;
        assert_qlite_ok(qlite_threadpool_create(n, &pool));
        const size_t counts[] = {0, 1, 2, (size_t)n, 4 * (size_t)n, 4 * (size_t)n + 1, 5000};
        for (int rep = 0; rep < 20; rep++)
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
                tid_job j = {.hits = calloc(counts[c] ? counts[c] : 1, sizeof(atomic_uint)),
                             .count = counts[c], .threads = n, .caller = pthread_self()};
                assert_non_null(j.hits);
                qlite_threadpool_run_thread(pool, counts[c], tid_fn, &j);
                assert_int_equal(atomic_load(&j.bad), 0);
                assert_int_equal(atomic_load(&j.caller_not0), 0);
                for (size_t i = 0; i < counts[c]; i++) assert_int_equal(atomic_load(&j.hits[i]), 1);
                free(j.hits);
            }
        qlite_threadpool_destroy(pool);
    }
    /* no pool: one call with index 0 on the calling thread */
    tid_job j = {.hits = calloc(100, sizeof(atomic_uint)), .count = 100, .threads = 1,
                 .caller = pthread_self()};
    assert_non_null(j.hits);
    qlite_threadpool_run_thread(NULL, 100, tid_fn, &j);
    assert_int_equal(atomic_load(&j.bad), 0);
    assert_int_equal(atomic_load(&j.seen), 1);
    for (size_t i = 0; i < 100; i++) assert_int_equal(atomic_load(&j.hits[i]), 1);
    free(j.hits);
}

/* ---- no pool: a plain call on the calling thread, no thread created ---- */

typedef struct self_job {
    pthread_t caller;
    int calls, other_thread;
    size_t begin, end;
} self_job;

static void self_fn(void *arg, size_t begin, size_t end) {
    self_job *j = arg;
    j->calls++;
    j->other_thread += !pthread_equal(pthread_self(), j->caller);
    j->begin = begin;
    j->end = end;
}

static void test_no_pool_inline(void **state) {
    (void)state;
    const int before = process_threads();
    assert_true(before >= 1);
    self_job j = {pthread_self(), 0, 0, 9, 9};
    qlite_threadpool_run(NULL, 12345, self_fn, &j);
    assert_int_equal(j.calls, 1);
    assert_int_equal(j.other_thread, 0);
    assert_int_equal(j.begin, 0);
    assert_int_equal(j.end, 12345);
    assert_int_equal(qlite_threadpool_threads(NULL), 1);
    qlite_threadpool_destroy(NULL);
    expect_threads(before);
    /* a pool of N adds exactly N - 1 threads, and destroy removes them */
    qlite_threadpool *pool;
    assert_qlite_ok(qlite_threadpool_create(3, &pool));
    expect_threads(before + 2);
    /* count 1 on a pool: also a plain call on the caller */
    j = (self_job){pthread_self(), 0, 0, 9, 9};
    qlite_threadpool_run(pool, 1, self_fn, &j);
    assert_int_equal(j.calls, 1);
    assert_int_equal(j.other_thread, 0);
    qlite_threadpool_destroy(pool);
    expect_threads(before);
}

/* ---- all threads at once: range i waits until range i+1 has started ----
 * With count == threads every range is one item. Item i (i < n-1) returns
 * only after item i+1 has started, so the job finishes only if n threads run
 * items at the same time (a thread that runs an item cannot claim another
 * before it returns). A 10 s limit turns a hang into a failure. */

typedef struct chain_job {
    atomic_int started[16];
    atomic_int timeouts;
    size_t n;
} chain_job;

static void chain_fn(void *arg, size_t begin, size_t end) {
    chain_job *j = arg;
    for (size_t i = begin; i < end; i++) {
        atomic_store(&j->started[i], 1);
        if (i + 1 == j->n) continue;
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!atomic_load(&j->started[i + 1])) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > 10) {
                atomic_fetch_add(&j->timeouts, 1);
                break;
            }
        }
    }
}

static void test_all_threads_concurrent(void **state) {
    (void)state;
    for (int n = 2; n <= 4; n++) {
        qlite_threadpool *pool;
        assert_qlite_ok(qlite_threadpool_create(n, &pool));
        for (int rep = 0; rep < 50; rep++) {
            chain_job j;
            memset(&j, 0, sizeof j);
            j.n = (size_t)n;
            if (rep % 10 == 9) sleep_ms(5); /* now and then, workers asleep */
            qlite_threadpool_run(pool, (size_t)n, chain_fn, &j);
            assert_int_equal(atomic_load(&j.timeouts), 0);
        }
        qlite_threadpool_destroy(pool);
    }
}

/* ---- the caller does not wait for work it can do itself ----
 * Range 0 (whoever runs it) blocks until the caller has finished the other
 * ranges... which it only can if it runs ranges it was never "assigned".
 * Put differently: with 2 threads and 2 ranges, if a worker holds range 0
 * hostage until range 1 is done, the caller must take range 1; if the
 * caller took range 0, the worker takes range 1. Either way it finishes.
 * The stronger case: many ranges while the one worker is stuck in the first
 * it claimed: the caller must run all the others. */

typedef struct hostage_job {
    atomic_int done_others;   /* ranges other than the hostage finished */
    atomic_int hostage;       /* 1 once some thread holds the hostage range */
    atomic_int timeouts;
    atomic_int caller_ran;    /* ranges the caller ran */
    pthread_t caller;
    size_t count;
} hostage_job;

static void hostage_fn(void *arg, size_t begin, size_t end) {
    hostage_job *j = arg;
    if (pthread_equal(pthread_self(), j->caller)) atomic_fetch_add(&j->caller_ran, 1);
    (void)end;
    if (!pthread_equal(pthread_self(), j->caller) && atomic_exchange(&j->hostage, 1) == 0) {
        /* the worker's first range: hold it until every other range is done */
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (atomic_load(&j->done_others) < (int)j->count - 1) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > 10) {
                atomic_fetch_add(&j->timeouts, 1);
                break;
            }
        }
        return;
    }
    (void)begin;
    atomic_fetch_add(&j->done_others, 1);
}

static void test_caller_takes_the_rest(void **state) {
    (void)state;
    qlite_threadpool *pool;
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    for (int rep = 0; rep < 20; rep++) {
        hostage_job j;
        memset(&j, 0, sizeof j);
        j.caller = pthread_self();
        j.count = 8; /* 8 ranges of one item */
        qlite_threadpool_run(pool, j.count, hostage_fn, &j);
        assert_int_equal(atomic_load(&j.timeouts), 0);
        /* the worker, if it came, ran exactly one range; the caller the rest */
        const int worker_ran = atomic_load(&j.hostage);
        assert_int_equal(atomic_load(&j.caller_ran), (int)j.count - worker_ran);
    }
    qlite_threadpool_destroy(pool);
}

/* ---- the caller claims from the front, the workers from the back: with
 * 2 threads, every item the caller ran comes before every item the worker
 * ran (whoever was faster), for one-item ranges and for larger counts ---- */

typedef struct ends_job {
    atomic_int owner[4096]; /* thread index + 1 per item */
    size_t count;
} ends_job;

static void ends_fn(void *arg, int thread, size_t begin, size_t end) {
    ends_job *j = arg;
    for (size_t i = begin; i < end; i++) atomic_store(&j->owner[i], thread + 1);
    /* 20 us per range, so both threads take turns claiming */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t1);
    while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 20000);
}

static void test_caller_front_worker_back(void **state) {
    (void)state;
    qlite_threadpool *pool;
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    const size_t counts[] = {2, 3, 8, 9, 20, 21, 100, 4096};
    int worker_ran = 0;
    /* 50 rounds, more while the worker has joined fewer than 5 jobs (a
     * loaded machine may keep it off a CPU for a while) */
    for (int rep = 0; rep < 50 || (worker_ran < 5 && rep < 2000); rep++)
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            static ends_job j;
            memset(&j, 0, sizeof j);
            j.count = counts[c];
            qlite_threadpool_run_thread(pool, j.count, ends_fn, &j);
            /* (a caller descheduled before its first claim can find the
             * worker has taken everything from the back: an empty prefix) */
            size_t i = 0;
            while (i < j.count && atomic_load(&j.owner[i]) == 1) i++;
            worker_ran += i < j.count;
            while (i < j.count && atomic_load(&j.owner[i]) == 2) i++;
            assert_int_equal(i, j.count);
        }
    assert_true(worker_ran > 0);
    qlite_threadpool_destroy(pool);
}

/* ---- many small jobs back to back, and after the workers fell asleep ---- */

typedef struct sum_job {
    const uint32_t *v;
    atomic_ullong sum;
} sum_job;

static void sum_fn(void *arg, size_t begin, size_t end) {
    sum_job *j = arg;
    unsigned long long s = 0;
    for (size_t i = begin; i < end; i++) s += j->v[i];
    atomic_fetch_add(&j->sum, s);
}

static void test_back_to_back_and_sleeping(void **state) {
    (void)state;
    enum { N = 257 };
    uint32_t v[N];
    unsigned long long want = 0;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 6);
    for (int i = 0; i < N; i++) want += v[i] = qlite_test_rng_u32(&rng);
    for (int n = 2; n <= 3; n++) {
        qlite_threadpool *pool;
        assert_qlite_ok(qlite_threadpool_create(n, &pool));
        for (int rep = 0; rep < 20000; rep++) {
            sum_job j = {v, 0};
            const size_t count = (size_t)(rep % N) + 1;
            unsigned long long w = 0;
            for (size_t i = 0; i < count; i++) w += v[i];
            qlite_threadpool_run(pool, count, sum_fn, &j);
            assert_int_equal(atomic_load(&j.sum), w);
        }
        /* workers spin for well under 100 ms, then sleep: wake them */
        for (int rep = 0; rep < 5; rep++) {
            sleep_ms(100);
            sum_job j = {v, 0};
            qlite_threadpool_run(pool, N, sum_fn, &j);
            assert_int_equal(atomic_load(&j.sum), want);
        }
        qlite_threadpool_destroy(pool);
    }
    /* destroy right after create (workers never saw a job) and while asleep */
    qlite_threadpool *pool;
    assert_qlite_ok(qlite_threadpool_create(4, &pool));
    qlite_threadpool_destroy(pool);
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    sleep_ms(50);
    qlite_threadpool_destroy(pool);
}

/* ---- a descheduled worker: the caller sleeps instead of spinning forever,
 * and is woken by the worker's last range (caller's wait > its spin budget) */

static void slow_fn(void *arg, size_t begin, size_t end) {
    (void)end;
    atomic_int *n = arg;
    if (begin == 1) sleep_ms(30);
    atomic_fetch_add(n, 1);
}

static void test_long_range_caller_sleeps(void **state) {
    (void)state;
    qlite_threadpool *pool;
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    for (int rep = 0; rep < 5; rep++) {
        atomic_int n = 0;
        qlite_threadpool_run(pool, 2, slow_fn, &n);
        assert_int_equal(atomic_load(&n), 2);
    }
    qlite_threadpool_destroy(pool);
}

static void test_bad_arguments(void **state) {
    (void)state;
    qlite_threadpool *pool = (qlite_threadpool *)&pool;
    assert_int_equal(qlite_threadpool_create(1, &pool), QLITE_ERR_INVALID_ARGUMENT);
    assert_null(pool);
    assert_int_equal(qlite_threadpool_create(0, &pool), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_threadpool_create(1025, &pool), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_threadpool_create(2, NULL), QLITE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qlite_last_error(), "thread count"));
}

/* ---- through the interpreter ---- */

enum { FC_M = 64, FC_K = 256, FC_N = 96 };

static qlite_model *fc_model(const float *w, void **bytes) {
    qlite_writer *W = NULL;
    assert_qlite_ok(qlite_writer_create(&W));
    qlite_tensor_info tx = {.name = "x", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){FC_M, FC_K}};
    qlite_tensor_info ty = {.name = "y", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){FC_M, FC_N}};
    qlite_tensor_info tw = {.name = "w", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){FC_N, FC_K}};
    const int64_t buf = qlite_writer_add_buffer(W, w, sizeof(float) * FC_N * FC_K);
    assert_true(buf > 0);
    tw.buffer = (uint32_t)buf;
    const int32_t x = qlite_writer_add_tensor(W, &tx), y = qlite_writer_add_tensor(W, &ty);
    const int32_t wt = qlite_writer_add_tensor(W, &tw);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    qlite_op_info op = {.code = QLITE_OP_FULLY_CONNECTED, .name = "fc", .num_inputs = 3,
                        .num_outputs = 1, .inputs = (int32_t[]){x, wt, -1},
                        .outputs = (int32_t[]){y}, .options = o};
    assert_true(qlite_writer_add_op(W, &op) >= 0);
    assert_qlite_ok(qlite_writer_set_inputs(W, 1, &x));
    assert_qlite_ok(qlite_writer_set_outputs(W, 1, &y));
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(W, bytes, &size));
    qlite_writer_destroy(W);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(*bytes, size, 0, &m));
    return m;
}

static void test_interpreter_threads(void **state) {
    (void)state;
    static float w[FC_N * FC_K], x[FC_M * FC_K];
    static double want[FC_M * FC_N];
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 61);
    for (size_t i = 0; i < FC_N * FC_K; i++) w[i] = qlite_test_rng_float(&rng, -1, 1);
    for (size_t i = 0; i < FC_M * FC_K; i++) x[i] = qlite_test_rng_float(&rng, -1, 1);
    for (size_t m = 0; m < FC_M; m++) /* y = x W^T, naive, in double */
        for (size_t n = 0; n < FC_N; n++) {
            double acc = 0;
            for (size_t k = 0; k < FC_K; k++) acc += (double)x[m * FC_K + k] * w[n * FC_K + k];
            want[m * FC_N + n] = acc;
        }
    void *bytes = NULL;
    qlite_model *model = fc_model(w, &bytes);
    const int base = process_threads();
    for (int threads = 1; threads <= 3; threads++) {
        qlite_interpreter_options o = {0};
        o.num_threads = threads;
        qlite_interpreter *it;
        assert_qlite_ok(qlite_interpreter_create(model, &o, &it));
        expect_threads(base + threads - 1); /* 1 thread: none started */
        assert_qlite_ok(qlite_interpreter_prepare(it));
        qlite_tensor_view in, out;
        assert_qlite_ok(qlite_interpreter_input(it, 0, &in));
        memcpy(in.data, x, sizeof x);
        for (int rep = 0; rep < 3; rep++) {
            assert_qlite_ok(qlite_interpreter_invoke(it));
            assert_qlite_ok(qlite_interpreter_output(it, 0, &out));
            const float *y = out.data;
            for (size_t i = 0; i < FC_M * FC_N; i++)
                assert_float_equal(y[i], want[i], 1e-4 * (1 + fabs(want[i])));
        }
        qlite_interpreter_destroy(it);
        expect_threads(base);
    }
    qlite_model_close(model);
    qlite_writer_free_bytes(bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cover_counts),
        cmocka_unit_test(test_shrinking_ranges),
        cmocka_unit_test(test_thread_index),
        cmocka_unit_test(test_no_pool_inline),
        cmocka_unit_test(test_all_threads_concurrent),
        cmocka_unit_test(test_caller_takes_the_rest),
        cmocka_unit_test(test_caller_front_worker_back),
        cmocka_unit_test(test_back_to_back_and_sleeping),
        cmocka_unit_test(test_long_range_caller_sleeps),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_interpreter_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
