/*
 * bench_open.c — what opening a .qlite model costs as the weights grow.
 *
 * For each size (default 1 MiB, 100 MiB and 1 GiB of float32 weights, in 16
 * FULLY_CONNECTED layers of [n, n], so the FlatBuffer is the same size every
 * time) it writes a model into a scratch directory with the writer, then
 * reports:
 *   - open+close: median over --runs of qlite_model_open(path, 0) (mmap,
 *     structural + semantic validation) followed by qlite_model_close;
 *   - RSS growth: resident memory right after open minus right before
 *     (/proc/self/statm; mapped file pages the process touched count);
 *   - the same with QLITE_OPEN_VERIFY_CRC (which must read every byte);
 *   - the comparison: read() of the whole file into fresh anonymous memory
 *     (what a loader without mmap does), and its RSS growth.
 * Weight-size independent open time and RSS growth are the point of the
 * format (docs/format.md): only the FlatBuffer's pages are touched.
 * The files are deleted afterwards (--keep keeps them).
 *
 * usage: bench_open [--dir DIR] [--runs N] [--read-runs M] [--sizes MIB,MIB,...]
 *                   [--cold] [--keep]
 * --cold drops the file's pages from the page cache before every run
 * (posix_fadvise DONTNEED), so open reads from the disk; default is warm.
 * This is a program that prints numbers, not a test.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qlite/qlite.h"
#include "qlite_writer.h"

#ifndef QLITE_BENCH_DIR
#define QLITE_BENCH_DIR "."
#endif

#define LAYERS 16

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Resident set size in bytes, from /proc/self/statm (field 2, in pages). */
static int64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = 0;
    if (!f) return -1;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    return n == 2 ? (int64_t)resident * sysconf(_SC_PAGESIZE) : -1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void drop_cache(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

/* Writes LAYERS FULLY_CONNECTED layers of [n, n] float32 weights. */
static int write_model(const char *path, uint32_t n) {
    size_t count = (size_t)n * n;
    float *w = malloc((count + LAYERS) * sizeof *w);
    if (!w) {
        fprintf(stderr, "bench_open: out of memory for %zu weights\n", count);
        return -1;
    }
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < count + LAYERS; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        w[i] = (float)((int32_t)((s * 0x2545f4914f6cdd1dull) >> 40) - (1 << 23)) * 1e-8f;
    }
    qlite_writer *wr;
    if (qlite_writer_create(&wr) != QLITE_OK) goto fail_nowriter;
    qlite_writer_set_producer(wr, "bench_open");
    int64_t shape_w[2] = {n, n}, shape_h[2] = {1, n};
    char name[32];
    qlite_tensor_info x = {.name = "x", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2, .shape = shape_h};
    int32_t prev = qlite_writer_add_tensor(wr, &x);
    int32_t input = prev;
    if (prev < 0) goto fail;
    for (int l = 0; l < LAYERS; l++) {
        /* Each layer references its own (overlapping) window of w: distinct bytes, one allocation. */
        int64_t b = qlite_writer_add_buffer_ref(wr, w + l, count * sizeof *w);
        if (b <= 0) goto fail;
        snprintf(name, sizeof name, "fc%d.w", l);
        qlite_tensor_info wt = {.name = name, .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                                .shape = shape_w, .buffer = (uint32_t)b};
        int32_t wi = qlite_writer_add_tensor(wr, &wt);
        snprintf(name, sizeof name, "h%d", l);
        qlite_tensor_info ht = {.name = name, .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                                .shape = shape_h};
        int32_t hi = qlite_writer_add_tensor(wr, &ht);
        if (wi < 0 || hi < 0) goto fail;
        qlite_op_info op = {.code = QLITE_OP_FULLY_CONNECTED, .num_inputs = 3,
                            .inputs = (int32_t[]){prev, wi, -1}, .num_outputs = 1,
                            .outputs = (int32_t[]){hi}};
        qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &op.options);
        if (qlite_writer_add_op(wr, &op) < 0) goto fail;
        prev = hi;
    }
    if (qlite_writer_set_inputs(wr, 1, &input) != QLITE_OK ||
        qlite_writer_set_outputs(wr, 1, &prev) != QLITE_OK ||
        qlite_writer_write_file(wr, path) != QLITE_OK)
        goto fail;
    qlite_writer_destroy(wr);
    free(w);
    return 0;
fail:
    qlite_writer_destroy(wr);
fail_nowriter:
    fprintf(stderr, "bench_open: writing %s: %s\n", path, qlite_last_error());
    free(w);
    return -1;
}

typedef struct result {
    double ms;        /* median time */
    double rss;       /* median RSS growth, bytes */
} result;

static int bench_open_model(const char *path, uint32_t flags, int runs, bool cold, result *out) {
    double *t = calloc((size_t)runs, sizeof *t), *r = calloc((size_t)runs, sizeof *r);
    if (!t || !r) {
        free(t);
        free(r);
        return -1;
    }
    for (int i = -1; i < runs; i++) { /* i = -1: warm-up, not counted */
        if (cold) drop_cache(path);
        qlite_model *m = NULL;
        int64_t before = rss_bytes();
        double t0 = now_ms();
        qlite_status st = qlite_model_open(path, flags, &m);
        int64_t after = rss_bytes();
        qlite_model_close(m);
        double t1 = now_ms();
        if (st != QLITE_OK) {
            fprintf(stderr, "bench_open: %s: %s\n", path, qlite_last_error());
            free(t);
            free(r);
            return -1;
        }
        if (i >= 0) {
            t[i] = t1 - t0;
            r[i] = (double)(after - before);
        }
    }
    out->ms = median(t, runs);
    out->rss = median(r, runs);
    free(t);
    free(r);
    return 0;
}

/* The comparison: read the whole file into memory, touching every page. */
static int bench_read_file(const char *path, int runs, bool cold, result *out) {
    double *t = calloc((size_t)runs, sizeof *t), *r = calloc((size_t)runs, sizeof *r);
    if (!t || !r) {
        free(t);
        free(r);
        return -1;
    }
    volatile unsigned sink = 0;
    for (int i = -1; i < runs; i++) {
        if (cold) drop_cache(path);
        int64_t before = rss_bytes();
        double t0 = now_ms();
        int fd = open(path, O_RDONLY);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) != 0) {
            fprintf(stderr, "bench_open: %s: %s\n", path, strerror(errno));
            if (fd >= 0) close(fd);
            free(t);
            free(r);
            return -1;
        }
        size_t size = (size_t)sb.st_size, done = 0;
        /* Fresh anonymous memory, as a loader's big malloc gets: glibc would
         * reuse a freed heap block after the first run and hide the growth. */
        unsigned char *buf = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED) buf = NULL;
        while (buf && done < size) {
            ssize_t got = read(fd, buf + done, size - done);
            if (got <= 0) break;
            done += (size_t)got;
        }
        close(fd);
        unsigned acc = 0;
        for (size_t k = 0; buf && k < done; k += 4096) acc += buf[k];
        sink += acc;
        int64_t after = rss_bytes();
        if (buf) munmap(buf, size ? size : 1);
        double t1 = now_ms();
        if (!buf || done != size) {
            fprintf(stderr, "bench_open: reading %s failed\n", path);
            free(t);
            free(r);
            return -1;
        }
        if (i >= 0) {
            t[i] = t1 - t0;
            r[i] = (double)(after - before);
        }
    }
    (void)sink;
    out->ms = median(t, runs);
    out->rss = median(r, runs);
    free(t);
    free(r);
    return 0;
}

static void fmt_bytes(char *buf, size_t len, double b) {
    if (fabs(b) < 1024.0) snprintf(buf, len, "%.0f B", b);
    else if (fabs(b) < 1048576.0) snprintf(buf, len, "%.0f KiB", b / 1024.0);
    else if (fabs(b) < 1073741824.0) snprintf(buf, len, "%.1f MiB", b / 1048576.0);
    else snprintf(buf, len, "%.2f GiB", b / 1073741824.0);
}

static void fmt_ms(char *buf, size_t len, double ms) {
    if (ms < 1.0) snprintf(buf, len, "%.3f ms", ms);
    else if (ms < 100.0) snprintf(buf, len, "%.1f ms", ms);
    else snprintf(buf, len, "%.0f ms", ms);
}

static void usage(FILE *f) {
    fprintf(f, "usage: bench_open [--dir DIR] [--runs N] [--read-runs M] [--sizes MIB,MIB,...] "
               "[--cold] [--keep]\n"
               "defaults: --dir %s --runs 51 --read-runs 5 --sizes 1,100,1024\n",
            QLITE_BENCH_DIR);
}

int main(int argc, char **argv) {
    const char *dir = QLITE_BENCH_DIR;
    int runs = 51, read_runs = 5;
    bool cold = false, keep = false;
    const char *sizes_arg = "1,100,1024";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(a, "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(a, "--read-runs") && i + 1 < argc) read_runs = atoi(argv[++i]);
        else if (!strcmp(a, "--sizes") && i + 1 < argc) sizes_arg = argv[++i];
        else if (!strcmp(a, "--cold")) cold = true;
        else if (!strcmp(a, "--keep")) keep = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (runs < 1 || read_runs < 1) { usage(stderr); return 2; }

    printf("qlite open benchmark: %d FULLY_CONNECTED layers of float32 [n,n] weights; "
           "%s page cache;\nmedians of %d runs (open+close) and %d runs (VERIFY_CRC, read); "
           "scratch dir %s\n\n",
           LAYERS, cold ? "cold (DONTNEED before each run)" : "warm", runs, read_runs, dir);
    printf("| weights | file bytes | open+close | RSS growth | open+VERIFY_CRC | RSS growth "
           "| read()+touch | RSS growth |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);

    char sizes[256];
    snprintf(sizes, sizeof sizes, "%s", sizes_arg);
    int rc = 0;
    for (char *tok = strtok(sizes, ","); tok; tok = strtok(NULL, ",")) {
        double mib = atof(tok);
        if (mib <= 0) { usage(stderr); return 2; }
        /* n*n*4*LAYERS = mib MiB */
        uint32_t n = (uint32_t)floor(sqrt(mib * 1048576.0 / (4.0 * LAYERS)));
        char path[4096];
        snprintf(path, sizeof path, "%s/bench_open_%gMiB.qlite", dir, mib);
        fprintf(stderr, "writing %s (n=%u) ...\n", path, n);
        if (write_model(path, n) != 0) { rc = 1; break; }
        struct stat sb;
        if (stat(path, &sb) != 0) { rc = 1; break; }
        result o, v, r;
        if (bench_open_model(path, 0, runs, cold, &o) || 
            bench_open_model(path, QLITE_OPEN_VERIFY_CRC, read_runs, cold, &v) ||
            bench_read_file(path, read_runs, cold, &r)) {
            rc = 1;
            if (!keep) unlink(path);
            break;
        }
        char wb[32], t1[32], r1[32], t2[32], r2[32], t3[32], r3[32];
        fmt_bytes(wb, sizeof wb, (double)n * n * 4.0 * LAYERS);
        fmt_ms(t1, sizeof t1, o.ms);
        fmt_bytes(r1, sizeof r1, o.rss);
        fmt_ms(t2, sizeof t2, v.ms);
        fmt_bytes(r2, sizeof r2, v.rss);
        fmt_ms(t3, sizeof t3, r.ms);
        fmt_bytes(r3, sizeof r3, r.rss);
        printf("| %s | %lld | %s | %s | %s | %s | %s | %s |\n", wb, (long long)sb.st_size, t1, r1,
               t2, r2, t3, r3);
        fflush(stdout);
        if (!keep) unlink(path);
    }
    return rc;
}
