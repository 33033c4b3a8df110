/*
 * bench_pool.c — what the thread pool (interpreter/threadpool.c) costs per
 * parallel op, apart from the op's own work (issue #6: 2 threads scale less
 * inside a model than the same ops alone).
 *
 * usage: bench_pool [--threads T] [--jobs N] [--rounds R] [--bytes B] [--item-us W]
 *
 * 1. dispatch + join: qlite_threadpool_run_thread over count = T items of W
 *    us each (default 20: a small op's share), N jobs back to back; ideally
 *    a job takes W (every thread one item), so the time over W (median of R
 *    rounds of the per-job mean) is what the pool adds to one parallel op:
 *    the workers' start latency and the join. Also the share of jobs in
 *    which the caller ran more than one item (a worker came too late).
 * 2. the same with a gap before each job: the caller alone spends G us (a
 *    serial op, a small op below the parallel threshold) before the next
 *    job, G = 10, 100, 1000 us (workers spin 0.3 ms, then sleep: past that
 *    each job pays a wake-up); the gap is outside the timed part.
 * 3. data locality between consecutive ops (T = 2): a buffer of B bytes
 *    (default 1 MiB, about one MobileNetV2 activation), job 1 writes its two
 *    halves as two items, job 2 copies one half per item, 1 KiB at a time
 *    (a GATHER's row copies), into a buffer only that thread writes (each
 *    item waits until both have started, so each thread runs one):
 *    the half that thread wrote ("own"), or the half the other thread wrote
 *    (every line comes from the other core's cache). Reported: job 2's
 *    thread CPU time (both items: robust to the shared machine taking a
 *    core away), medians over R rounds of N / 20 pairs of each kind (pairs
 *    where one thread ran both items of a job, or where the two threads
 *    were not on two CPUs each with its own item, are left out). The difference is
 *    what a kernel pays when the pool hands a thread another range than the
 *    one it wrote in the previous op.
 * 4. two consecutive ops as kernels run them (any T): job 1 writes 128 rows
 *    of B / 1024 bytes (128 KiB by default: one transformer q / k / v
 *    slice), split by the pool as it likes, job 2 copies them to another
 *    buffer, also split by the pool. Reported: the share of rows copied by
 *    the thread that wrote them (the pool's claiming decides it: the caller
 *    from the front and the workers from the back keeps it near 100%; in
 *    claim order it was a coin toss), the copy's median time and its
 *    threads' CPU time.
 * Times are CLOCK_MONOTONIC medians; the machine is shared, so run it
 * several times and compare within one run. A program that prints numbers
 * (tests/bench.cmake builds it; not a ctest).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu */
#endif
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "threadpool.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

/* This thread's CPU time: what an item costs while it runs, whatever else the
 * shared machine schedules in between. */
static double cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, long n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Each item: `*(double *)arg` microseconds of the running thread's time;
 * counts the items the caller (thread 0) ran. */
typedef struct spin_job {
    double us;
    atomic_int by_caller;
} spin_job;

static void busy(double us);

static void spin_items(void *arg, int thread, size_t begin, size_t end) {
    spin_job *j = arg;
    for (size_t i = begin; i < end; i++) {
        busy(j->us);
        if (thread == 0) atomic_fetch_add_explicit(&j->by_caller, 1, memory_order_relaxed);
    }
}

/* The caller alone for `us` microseconds (a serial op between parallel ones). */
static void busy(double us) {
    const double t0 = now_us();
    while (now_us() - t0 < us) {
    }
}

typedef struct halves {
    uint8_t *buf;
    size_t half;                /* bytes per item */
    int swap;                   /* job 2: read the half the other thread wrote */
    int writer[2], reader[2];   /* thread index that ran item 0 / 1 of each job */
    int wcpu[2], rcpu[2];       /* the CPU each item ran on (sched_getcpu) */
    double cpu_us[2];           /* job 2: each item's thread CPU time */
    atomic_int started;         /* items of the current job that have started */
    uint8_t *copy[2];           /* job 2's destination per thread index */
} halves;

/* Both items of a job wait here until both have started, so each thread runs
 * one (the caller cannot take the second item while it holds the first). */
static void both_started(halves *h) {
    atomic_fetch_add(&h->started, 1);
    while (atomic_load(&h->started) < 2) sched_yield();
}

/* Job 1, item b: writes half b. */
static void write_half(void *arg, int thread, size_t begin, size_t end) {
    halves *h = arg;
    for (size_t b = begin; b < end; b++) {
        both_started(h);
        h->writer[b] = thread;
        h->wcpu[b] = sched_getcpu();
        uint8_t *p = h->buf + b * h->half;
        for (size_t i = 0; i < h->half; i += 8) {
            const uint64_t v = (uint64_t)i * 0x9e3779b97f4a7c15u;
            memcpy(p + i, &v, 8);
        }
    }
}

/* Job 2, item b: copies the half this thread wrote (or, swapped, the other one) into
 * its own buffer. The pair counts only when each job ran one item on each thread (else
 * there is no "other"). */
static void read_half(void *arg, int thread, size_t begin, size_t end) {
    halves *h = arg;
    for (size_t b = begin; b < end; b++) {
        both_started(h);
        const double c0 = cpu_us();
        h->reader[b] = thread;
        h->rcpu[b] = sched_getcpu();
        const int own = h->writer[0] == thread ? 0 : 1;
        const uint8_t *p = h->buf + (size_t)(h->swap ? 1 - own : own) * h->half;
        for (size_t i = 0; i < h->half; i += 1024)
            memcpy(h->copy[thread] + i, p + i, h->half - i < 1024 ? h->half - i : 1024);
        h->cpu_us[b] = cpu_us() - c0;
    }
}

/* 4. two consecutive ops as kernels run them: job 1 writes `rows` rows of
 * `row` bytes split by the pool as it likes, job 2 copies every row to a
 * second buffer, also split by the pool; per row the thread index that
 * wrote it and the one that copied it. */
typedef struct chain {
    uint8_t *src, *dst;
    size_t rows, row;
    int8_t *writer;             /* [rows] */
    atomic_long local;          /* job 2: rows copied by the thread that wrote them */
    atomic_long cpu_ns;         /* job 2: thread CPU time of all its ranges */
} chain;

static void chain_write(void *arg, int thread, size_t begin, size_t end) {
    chain *c = arg;
    for (size_t r = begin; r < end; r++) {
        memset(c->src + r * c->row, (int)(r & 0xff), c->row);
        c->writer[r] = (int8_t)thread;
    }
}

static void chain_copy(void *arg, int thread, size_t begin, size_t end) {
    chain *c = arg;
    const double c0 = cpu_us();
    long local = 0;
    for (size_t r = begin; r < end; r++) {
        memcpy(c->dst + r * c->row, c->src + r * c->row, c->row);
        local += c->writer[r] == thread;
    }
    atomic_fetch_add(&c->local, local);
    atomic_fetch_add(&c->cpu_ns, (long)((cpu_us() - c0) * 1e3));
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "bench_pool: %s needs an integer in %ld..%ld, got '%s'\n", opt, lo, hi, s);
        return 1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    long threads = 2, jobs = 2000, rounds = 15, bytes = 1 << 20, item_us = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: bench_pool [--threads T] [--jobs N] [--rounds R] [--bytes B] [--item-us W]\n"
                 "Per-job cost of the thread pool: jobs of T items of W us back to back and after\n"
                 "a serial gap (time over one item's),\n"
                 "and reading the data the other thread wrote in the previous job (T = 2).");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_pool: %s needs a value (see --help)\n", argv[i]);
            return 2;
        }
        const char *k = argv[i], *v = argv[++i];
        long *dst = !strcmp(k, "--threads") ? &threads
                    : !strcmp(k, "--jobs")  ? &jobs
                    : !strcmp(k, "--rounds") ? &rounds
                    : !strcmp(k, "--bytes") ? &bytes
                    : !strcmp(k, "--item-us") ? &item_us
                                            : NULL;
        if (!dst) {
            fprintf(stderr, "bench_pool: unknown option %s (see --help)\n", k);
            return 2;
        }
        if (parse_long(k, v, 1, !strcmp(k, "--threads") ? 64 : 1L << 30, dst)) return 2;
    }
    if (threads < 2) {
        fprintf(stderr, "bench_pool: --threads must be at least 2\n");
        return 2;
    }
    qlite_threadpool *pool = NULL;
    if (qlite_threadpool_create((int)threads, &pool) != QLITE_OK) {
        fprintf(stderr, "bench_pool: cannot create the pool\n");
        return 1;
    }
    double *per = malloc((size_t)rounds * sizeof *per);
    const long pairs = jobs / 20 > 0 ? jobs / 20 : 1;
    double *same = malloc((size_t)(rounds * pairs) * sizeof *same);
    double *swapped = malloc((size_t)(rounds * pairs) * sizeof *swapped); /* per kind */
    halves h = {.half = (size_t)bytes / 2 / 64 * 64};
    h.buf = aligned_alloc(64, 2 * h.half);
    h.copy[0] = aligned_alloc(64, h.half + 64);
    h.copy[1] = aligned_alloc(64, h.half + 64);
    int rc = 1;
    if (!per || !same || !swapped || !h.buf || !h.copy[0] || !h.copy[1] || h.half == 0) {
        fprintf(stderr, "bench_pool: out of memory\n");
        goto done;
    }
    printf("thread pool, %ld threads (%ld jobs x %ld rounds; medians)\n", threads, jobs, rounds);
    /* 1, 2: jobs of T items of W us each, after a serial gap of G us (0: back to back) */
    static const double gaps[] = {0.0, 10.0, 100.0, 1000.0};
    for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++) {
        const long n = gaps[g] >= 1000.0 ? (jobs / 20 > 0 ? jobs / 20 : 1) : jobs / 4 + 1;
        long late = 0;
        for (long r = 0; r < rounds; r++) {
            double sum = 0;
            for (long j = 0; j < n; j++) {
                if (gaps[g] > 0) busy(gaps[g]);
                spin_job sj = {.us = (double)item_us};
                atomic_init(&sj.by_caller, 0);
                const double t0 = now_us();
                qlite_threadpool_run_thread(pool, (size_t)threads, spin_items, &sj);
                sum += now_us() - t0 - (double)item_us;
                late += atomic_load(&sj.by_caller) > 1;
            }
            per[r] = sum / (double)n;
        }
        printf("  %ld items of %ld us after a gap of %5.0f us: %8.2f us over one item's time "
               "(the caller ran more than one item in %.1f%% of the jobs)\n",
               threads, item_us, gaps[g], median(per, rounds),
               100.0 * (double)late / (double)(n * rounds));
    }
    /* 3. locality: job 2 reads its own half or the other thread's (2 threads) */
    if (threads == 2) {
        long k[2] = {0, 0}, skipped = 0;
        for (long r = 0; r < rounds; r++)
            for (long p = 0; p < pairs; p++)
                for (int sw = 0; sw < 2; sw++) {
                    h.swap = (sw + (int)p) % 2; /* alternate which comes first */
                    atomic_store(&h.started, 0);
                    qlite_threadpool_run_thread(pool, 2, write_half, &h);
                    atomic_store(&h.started, 0);
                    qlite_threadpool_run_thread(pool, 2, read_half, &h);
                    const double dt = h.cpu_us[0] + h.cpu_us[1];
                    /* a pair counts when each job ran one item per thread,
                     * on two CPUs (the threads are not pinned; on a loaded
                     * machine both may share one, and then no line moves) */
                    if (h.writer[0] == h.writer[1] || h.reader[0] == h.reader[1] ||
                        h.wcpu[0] == h.wcpu[1] || h.rcpu[0] == h.rcpu[1])
                        skipped++;
                    else (h.swap ? swapped : same)[k[h.swap]++] = dt;
                }
        if (k[0] && k[1]) {
            const double ms = median(same, k[0]), mw = median(swapped, k[1]);
            printf("  copy 2 x %zu KiB after writing them (thread CPU us, both items): each "
                   "thread its own half %8.2f, the other thread's %8.2f (x%.2f; %ld + %ld pairs, "
                   "%ld where one thread ran both items or the threads shared a CPU left out)\n",
                   h.half / 1024, ms, mw, mw / ms, k[0], k[1], skipped);
        } else {
            printf("  locality: one thread ran every job or both shared a CPU (%ld pairs): no "
                   "measurement\n",
                   skipped);
        }
    }
    /* 4. consecutive ops: how many rows each thread copies of those it wrote */
    {
        chain c = {.rows = 128, .row = (size_t)bytes / 8 / 128 / 64 * 64};
        if (c.row == 0) c.row = 64;
        c.src = aligned_alloc(64, c.rows * c.row);
        c.dst = aligned_alloc(64, c.rows * c.row);
        c.writer = malloc(c.rows);
        double *wall = malloc((size_t)(rounds * pairs) * sizeof *wall);
        double *cpu = malloc((size_t)(rounds * pairs) * sizeof *cpu);
        if (c.src && c.dst && c.writer && wall && cpu) {
            memset(c.dst, 0, c.rows * c.row);
            long n = 0, local = 0;
            for (long r = 0; r < rounds; r++)
                for (long p = 0; p < pairs; p++) {
                    qlite_threadpool_run_thread(pool, c.rows, chain_write, &c);
                    atomic_store(&c.local, 0);
                    atomic_store(&c.cpu_ns, 0);
                    const double t0 = now_us();
                    qlite_threadpool_run_thread(pool, c.rows, chain_copy, &c);
                    wall[n] = now_us() - t0;
                    cpu[n++] = (double)atomic_load(&c.cpu_ns) * 1e-3;
                    local += atomic_load(&c.local);
                }
            printf("  write %zu rows of %zu B, then copy them (two pool jobs): %.1f%% of the rows "
                   "copied by the thread that wrote them; the copy %.2f us (threads' CPU %.2f "
                   "us)\n",
                   c.rows, c.row, 100.0 * (double)local / (double)(n * (long)c.rows),
                   median(wall, n), median(cpu, n));
        }
        free(c.src);
        free(c.dst);
        free(c.writer);
        free(wall);
        free(cpu);
    }
    rc = 0;
done:
    qlite_threadpool_destroy(pool);
    free(per);
    free(same);
    free(swapped);
    free(h.buf);
    free(h.copy[0]);
    free(h.copy[1]);
    return rc;
}
