/*
 * qlite_bench.c — time one .qlite model the way the model-level benchmark
 * suite (tests/bench/run_models.py) compares it with ONNX Runtime and
 * PyTorch: same input rows, same statistics, same memory accounting.
 *
 * usage: qlite_bench MODEL.qlite --input X.npy [--batch B] [--threads T]
 *                    [--runs N] [--warmup W] [--labels Y.npy] [--profile K] [--startup S]
 *                    [--paired T2] [--pair-lead L] [--json]
 *
 * Steps:
 *   1. read X (float32 [rows, ...], or int64/int32 token ids for an integer
 *      input) and, if given, the labels Y ([rows]
 *      int64/int32) — before anything is measured, as the peer scripts do;
 *   2. note the resident memory (VmRSS) and reset the high-water mark
 *      (/proc/self/clear_refs "5"), so "peak" covers only what follows;
 *   3. open the model, create the interpreter (T threads), resize input 0 to
 *      batch B (the model must declare a dynamic batch when B differs),
 *      prepare; copy the first B rows of X (cycled if X has fewer) into the
 *      input (a float32 array given to an int8/uint8 input is quantized with
 *      the input's scale and zero point);
 *   4. W untimed invokes, then N timed ones (CLOCK_MONOTONIC around
 *      qlite_interpreter_invoke only); median, p90 (nearest rank), mean, min;
 *   5. peak resident memory (VmHWM) and its growth over step 2's baseline;
 *   6. --profile K: a second interpreter with an observer runs K more
 *      invokes; each op's time is the clock between the observer calls
 *      (QLITE_INTERP_OBSERVE_VIEWS: the ops the plain run skips as strided
 *      views are skipped here too and show ~0 ms)
 *      around it; per-op medians over the K runs, summed per op type;
 *   7. --labels: the whole X as one batch, top-1 accuracy of output 0;
 *   8. --startup S: S more times open + create + resize/prepare/input copy
 *      (then destroy + close, untimed); median and min (the first, cold
 *      one is step 3's load/create/prepare);
 *   9. --paired T2: the thread-scaling ratio as a paired measurement. Two
 *      interpreters of the same model on the same input rows, A with T
 *      threads (--threads) and B with T2, take turns in this one process:
 *      W warm-up rounds, then N rounds; each round times one invoke of each
 *      (A first in even rounds, B first in odd ones), and each timed invoke
 *      follows L untimed invokes of the same interpreter (--pair-lead,
 *      default 1), so it starts as a run in a back-to-back series does: the
 *      pool's workers awake (they sleep after 0.3 ms idle, and the other
 *      interpreter's turn is longer) and its own arena in cache rather than
 *      the other one's. Reported: both medians and the median (and p10/p90)
 *      of the per-round ratios A time / B time (the speedup of T2 over T
 *      threads). Host noise that lasts longer than a round (another process,
 *      frequency, the neighbour VM) lands on both sides of a ratio instead
 *      of on one of two separately measured medians.
 * Output: a readable report, or one JSON object with --json (the suite's
 * format; keys documented in print_json).
 * This is a benchmark program (it prints numbers); tests/bench.cmake runs it
 * once on a bundled model so it cannot rot.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npy.h"
#include "qlite/qlite.h"

#define MAX_PROFILE_RUNS 100000L

typedef struct bench_args {
    const char *model, *input, *labels;
    long batch, threads, runs, warmup, profile, startup, paired, pair_lead;
    int json;
} bench_args;

typedef struct profile_state {
    double last;       /* clock at the end of the previous op (ms) */
    double *times;     /* [runs][ops] */
    uint32_t ops;
    long run;          /* row of times being filled */
} profile_state;

typedef struct bench_result {
    double load_ms, create_ms, prepare_ms, first_ms;
    double median_ms, p90_ms, p99_ms, mean_ms, min_ms, max_ms;
    double rss_base, rss_peak, rss_now;
    size_t arena, prepared, model_bytes;
    long correct, total;             /* accuracy; total 0 = not measured */
    double *op_median;               /* [ops] with --profile */
    double startup_median_ms, startup_min_ms; /* --startup */
    double profiled_median_ms;       /* invoke with the observer */
    double pair_a_ms, pair_b_ms;     /* --paired: medians of A (T threads) and B (T2) */
    double pair_ratio, pair_ratio_p10, pair_ratio_p90; /* per-round A / B */
    uint32_t ops;
} bench_result;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "qlite_bench: %s%s%s\n", what, detail && *detail ? ": " : "",
            detail ? detail : "");
    return 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values (the definition qlite-run,
 * ort_bench.js and torch_bench.py use). */
static double percentile(const double *sorted, long n, double p) {
    long rank = (long)ceil(p / 100.0 * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

/* VmRSS and VmHWM of this process in bytes (0 when unavailable). */
static void rss(double *now, double *peak) {
    *now = *peak = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return;
    char line[256];
    unsigned long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %lu kB", &kb) == 1) *now = (double)kb * 1024.0;
        if (sscanf(line, "VmHWM: %lu kB", &kb) == 1) *peak = (double)kb * 1024.0;
    }
    fclose(f);
}

/* Resets VmHWM to the current RSS (Linux >= 4.0); harmless where missing. */
static void reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "qlite_bench: %s needs an integer in %ld..%ld, got '%s'\n", opt, lo, hi, s);
        return 1;
    }
    *out = v;
    return 0;
}

static const char usage[] =
    "usage: qlite_bench MODEL.qlite --input X.npy [--batch B] [--threads T] [--runs N]\n"
    "                   [--warmup W] [--labels Y.npy] [--profile K] [--startup S]\n"
    "                   [--paired T2] [--pair-lead L] [--json]\n"
    "Times qlite_interpreter_invoke on the first B rows of X (float32 [rows, ...]):\n"
    "median / p90 over N runs after W warm-up runs (defaults B=1, T=1, N=200, W=20),\n"
    "peak RSS; --profile K: per-op median times over K observed runs; --labels:\n"
    "top-1 accuracy of output 0 on all rows of X as one batch; --startup S: median of S\n"
    "more open + create + prepare; --paired T2: T and T2 threads timed in alternation in\n"
    "this process (N rounds, each timed invoke after L untimed ones, default 1), medians\n"
    "and the median of the per-round ratios T time / T2 time.\n";

static int parse_args(int argc, char **argv, bench_args *a) {
    memset(a, 0, sizeof *a);
    a->batch = 1;
    a->threads = 1;
    a->runs = 200;
    a->warmup = 20;
    a->pair_lead = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(usage, stdout);
            return 2;
        }
        if (!strcmp(s, "--json")) {
            a->json = 1;
            continue;
        }
        if (s[0] != '-') {
            if (a->model) return fail("more than one model given", s);
            a->model = s;
            continue;
        }
        static const char *const with_value[] = {"--input", "--labels", "--batch", "--threads",
                                                 "--runs", "--warmup", "--profile",
                                                 "--startup", "--paired", "--pair-lead"};
        int known = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            known |= !strcmp(s, with_value[k]);
        if (!known) return fail("unknown option (see --help)", s);
        if (i + 1 >= argc) return fail("option needs a value", s);
        const char *v = argv[++i];
        if (!strcmp(s, "--input")) a->input = v;
        else if (!strcmp(s, "--labels")) a->labels = v;
        else if (!strcmp(s, "--batch")) { if (parse_long(s, v, 1, 1 << 20, &a->batch)) return 1; }
        else if (!strcmp(s, "--threads")) { if (parse_long(s, v, 1, 256, &a->threads)) return 1; }
        else if (!strcmp(s, "--runs")) { if (parse_long(s, v, 1, 100000000L, &a->runs)) return 1; }
        else if (!strcmp(s, "--warmup")) { if (parse_long(s, v, 0, 100000000L, &a->warmup)) return 1; }
        else if (!strcmp(s, "--startup")) { if (parse_long(s, v, 1, 10000, &a->startup)) return 1; }
        else if (!strcmp(s, "--paired")) { if (parse_long(s, v, 1, 256, &a->paired)) return 1; }
        else if (!strcmp(s, "--pair-lead")) { if (parse_long(s, v, 0, 1000, &a->pair_lead)) return 1; }
        else if (parse_long(s, v, 1, MAX_PROFILE_RUNS, &a->profile)) return 1; /* --profile */
    }
    if (!a->model || !a->input) return fail("need MODEL.qlite and --input X.npy (see --help)", NULL);
    return 0;
}

/*
 * Resizes input 0 to [rows, X's other dims] when the model's first dim is
 * dynamic or already equal, prepares, and copies `rows` rows of X (cycled)
 * into it, quantizing float32 data for an int8/uint8 input.
 */
static int bind_rows(qlite_interpreter *it, const qlite_model *m, const qlite_npy_array *x,
                     long rows) {
    if (qlite_interpreter_input_count(it) != 1)
        return fail("the benchmark drives models with exactly one input", NULL);
    const qlite_tensor_info *info = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, 0));
    const bool ids = x->dtype == QLITE_DTYPE_INT64 || x->dtype == QLITE_DTYPE_INT32;
    if ((x->dtype != QLITE_DTYPE_FLOAT32 && !ids) || x->rank < 1 || x->dims[0] < 1)
        return fail("--input must be a float32 (or int64/int32 ids) array [rows, ...] with at "
                    "least one row", NULL);
    if (info->rank != x->rank) return fail("--input rank differs from the model input's", info->name);
    int64_t dims[QLITE_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[0] = rows;
    if (info->shape[0] != rows &&
        qlite_interpreter_resize_input(it, 0, x->rank, dims) != QLITE_OK)
        return fail("resize", qlite_last_error());
    if (qlite_interpreter_prepare(it) != QLITE_OK) return fail("prepare", qlite_last_error());
    qlite_tensor_view in;
    if (qlite_interpreter_input(it, 0, &in) != QLITE_OK) return fail("input", qlite_last_error());
    const size_t esize = x->dtype == QLITE_DTYPE_INT64 ? 8 : 4;
    size_t row_elems = (size_t)(x->bytes / esize / (size_t)x->dims[0]);
    size_t n = (size_t)rows * row_elems;
    const float *src = x->data;
    size_t have = (size_t)x->dims[0] * row_elems;
    if (ids) { /* token ids: int64 or int32 on both sides, converted element-wise */
        if ((in.dtype != QLITE_DTYPE_INT64 && in.dtype != QLITE_DTYPE_INT32) ||
            in.bytes != n * (in.dtype == QLITE_DTYPE_INT64 ? 8 : 4))
            return fail("integer --input needs an int64/int32 model input of X's size", in.name);
        for (size_t i = 0; i < n; i++) {
            const size_t k = i % have;
            const int64_t v = x->dtype == QLITE_DTYPE_INT64 ? ((const int64_t *)x->data)[k]
                                                            : ((const int32_t *)x->data)[k];
            if (in.dtype == QLITE_DTYPE_INT64) ((int64_t *)in.data)[i] = v;
            else ((int32_t *)in.data)[i] = (int32_t)v;
        }
    } else if (in.dtype == QLITE_DTYPE_FLOAT32 && in.bytes == n * sizeof(float)) {
        float *dst = in.data;
        for (size_t i = 0; i < n; i += row_elems)
            memcpy(dst + i, src + i % have, row_elems * sizeof(float));
    } else if ((in.dtype == QLITE_DTYPE_INT8 || in.dtype == QLITE_DTYPE_UINT8) && in.bytes == n &&
               in.scale > 0) {
        int lo = in.dtype == QLITE_DTYPE_INT8 ? -128 : 0, hi = lo + 255;
        for (size_t i = 0; i < n; i++) {
            double q = nearbyint((double)src[i % have] / in.scale) + in.zero_point;
            int v = q < lo ? lo : q > hi ? hi : (int)q;
            if (in.dtype == QLITE_DTYPE_INT8) ((int8_t *)in.data)[i] = (int8_t)v;
            else ((uint8_t *)in.data)[i] = (uint8_t)v;
        }
    } else {
        return fail("input 0 is neither float32 nor quantized int8/uint8 of X's size", in.name);
    }
    return 0;
}

static void observe(void *user, uint32_t op_index, const qlite_op_info *op, uint32_t num_outputs,
                    const qlite_tensor_view *outputs) {
    (void)op;
    (void)num_outputs;
    (void)outputs;
    profile_state *p = user;
    double t = now_ms();
    if (p->times && op_index < p->ops) p->times[(size_t)p->run * p->ops + op_index] = t - p->last;
    p->last = now_ms();
}

static int run_profile(const qlite_model *m, const qlite_npy_array *x, const bench_args *a,
                       bench_result *r) {
    profile_state p = {0};
    p.ops = qlite_model_op_count(m);
    r->ops = p.ops;
    qlite_interpreter_options o = {0};
    o.num_threads = (int32_t)a->threads;
    o.observer = observe;
    o.observer_user = &p;
    o.flags = QLITE_INTERP_OBSERVE_VIEWS; /* time the graph the plain run executes */
    qlite_interpreter *it = NULL;
    double *col = NULL, *total = NULL;
    int rc = 1;
    p.times = calloc((size_t)a->profile * p.ops + 1, sizeof *p.times);
    r->op_median = calloc(p.ops + 1u, sizeof *r->op_median);
    col = malloc(((size_t)a->profile + 1) * sizeof *col);
    total = malloc(((size_t)a->profile + 1) * sizeof *total);
    if (!p.times || !r->op_median || !col || !total) {
        fail("out of memory for the profile", NULL);
        goto done;
    }
    if (qlite_interpreter_create(m, &o, &it) != QLITE_OK) {
        fail("create (profile)", qlite_last_error());
        goto done;
    }
    if (bind_rows(it, m, x, a->batch)) goto done;
    for (long i = 0; i < a->warmup; i++) {
        p.run = 0;
        p.last = now_ms();
        if (qlite_interpreter_invoke(it) != QLITE_OK) {
            fail("invoke (profile)", qlite_last_error());
            goto done;
        }
    }
    for (long k = 0; k < a->profile; k++) {
        p.run = k;
        double t0 = now_ms();
        p.last = t0;
        if (qlite_interpreter_invoke(it) != QLITE_OK) {
            fail("invoke (profile)", qlite_last_error());
            goto done;
        }
        total[k] = now_ms() - t0;
    }
    for (uint32_t op = 0; op < p.ops; op++) {
        for (long k = 0; k < a->profile; k++) col[k] = p.times[(size_t)k * p.ops + op];
        qsort(col, (size_t)a->profile, sizeof *col, cmp_double);
        r->op_median[op] = percentile(col, a->profile, 50);
    }
    qsort(total, (size_t)a->profile, sizeof *total, cmp_double);
    r->profiled_median_ms = percentile(total, a->profile, 50);
    rc = 0;
done:
    qlite_interpreter_destroy(it);
    free(p.times);
    free(col);
    free(total);
    return rc;
}

/* Top-1 accuracy of output 0 over every row of X, as one batch. */
static int run_accuracy(const qlite_model *m, const qlite_npy_array *x, const qlite_npy_array *y,
                        const bench_args *a, bench_result *r) {
    long rows = (long)x->dims[0];
    if (y->rank < 1 || y->dims[0] != rows ||
        (y->dtype != QLITE_DTYPE_INT64 && y->dtype != QLITE_DTYPE_INT32))
        return fail("--labels must be int64/int32 [rows] with X's row count", NULL);
    qlite_interpreter_options o = {0};
    o.num_threads = (int32_t)a->threads;
    qlite_interpreter *it = NULL;
    int rc = 1;
    if (qlite_interpreter_create(m, &o, &it) != QLITE_OK) {
        fail("create (accuracy)", qlite_last_error());
        goto done;
    }
    if (bind_rows(it, m, x, rows)) goto done;
    if (qlite_interpreter_invoke(it) != QLITE_OK) {
        fail("invoke (accuracy)", qlite_last_error());
        goto done;
    }
    qlite_tensor_view out;
    if (qlite_interpreter_output(it, 0, &out) != QLITE_OK || out.rank != 2 || out.dims[0] != rows) {
        fail("output 0 is not [rows, classes]", qlite_last_error());
        goto done;
    }
    long classes = (long)out.dims[1];
    r->correct = 0;
    r->total = rows;
    for (long i = 0; i < rows; i++) {
        long best = 0;
        double bv = -INFINITY;
        for (long c = 0; c < classes; c++) {
            size_t k = (size_t)(i * classes + c);
            double v;
            if (out.dtype == QLITE_DTYPE_FLOAT32) v = ((const float *)out.data)[k];
            else if (out.dtype == QLITE_DTYPE_INT8) v = ((const int8_t *)out.data)[k];
            else if (out.dtype == QLITE_DTYPE_UINT8) v = ((const uint8_t *)out.data)[k];
            else {
                fail("output 0 dtype is not float32/int8/uint8", qlite_dtype_name(out.dtype));
                goto done;
            }
            if (v > bv) {
                bv = v;
                best = c;
            }
        }
        long label = y->dtype == QLITE_DTYPE_INT64 ? (long)((const int64_t *)y->data)[i]
                                                   : (long)((const int32_t *)y->data)[i];
        r->correct += best == label;
    }
    rc = 0;
done:
    qlite_interpreter_destroy(it);
    return rc;
}

static int run_latency(const qlite_model *m, const qlite_npy_array *x, const bench_args *a,
                       bench_result *r, double t_open) {
    qlite_interpreter_options o = {0};
    o.num_threads = (int32_t)a->threads;
    qlite_interpreter *it = NULL;
    double *lat = malloc((size_t)a->runs * sizeof *lat);
    int rc = 1;
    if (!lat) return fail("out of memory for the timings", NULL);
    double t0 = now_ms();
    if (qlite_interpreter_create(m, &o, &it) != QLITE_OK) {
        fail("create", qlite_last_error());
        goto done;
    }
    r->create_ms = now_ms() - t0;
    t0 = now_ms();
    if (bind_rows(it, m, x, a->batch)) goto done;
    r->prepare_ms = now_ms() - t0; /* resize + prepare + input copy */
    r->load_ms = t_open;
    t0 = now_ms();
    if (qlite_interpreter_invoke(it) != QLITE_OK) {
        fail("invoke", qlite_last_error());
        goto done;
    }
    r->first_ms = now_ms() - t0;
    for (long i = 0; i < a->warmup; i++)
        if (qlite_interpreter_invoke(it) != QLITE_OK) {
            fail("invoke", qlite_last_error());
            goto done;
        }
    double sum = 0;
    for (long i = 0; i < a->runs; i++) {
        t0 = now_ms();
        qlite_status st = qlite_interpreter_invoke(it);
        lat[i] = now_ms() - t0;
        if (st != QLITE_OK) {
            fail("invoke", qlite_last_error());
            goto done;
        }
        sum += lat[i];
    }
    qsort(lat, (size_t)a->runs, sizeof *lat, cmp_double);
    r->median_ms = percentile(lat, a->runs, 50);
    r->p90_ms = percentile(lat, a->runs, 90);
    r->p99_ms = percentile(lat, a->runs, 99);
    r->mean_ms = sum / (double)a->runs;
    r->min_ms = lat[0];
    r->max_ms = lat[a->runs - 1];
    r->arena = qlite_interpreter_arena_size(it);
    r->prepared = qlite_interpreter_prepared_size(it);
    rss(&r->rss_now, &r->rss_peak);
    rc = 0;
done:
    qlite_interpreter_destroy(it);
    free(lat);
    return rc;
}

/* --paired T2: interpreters A (T threads) and B (T2) in alternating rounds
 * (step 9 of the header). */
static int run_paired(const qlite_model *m, const qlite_npy_array *x, const bench_args *a,
                      bench_result *r) {
    qlite_interpreter *it[2] = {NULL, NULL};
    double *t[2], *ratio = malloc((size_t)a->runs * sizeof *ratio);
    t[0] = malloc((size_t)a->runs * sizeof *t[0]);
    t[1] = malloc((size_t)a->runs * sizeof *t[1]);
    int rc = 1;
    if (!t[0] || !t[1] || !ratio) {
        fail("out of memory for the paired timings", NULL);
        goto done;
    }
    for (int k = 0; k < 2; k++) {
        qlite_interpreter_options o = {0};
        o.num_threads = (int32_t)(k ? a->paired : a->threads);
        if (qlite_interpreter_create(m, &o, &it[k]) != QLITE_OK) {
            fail("create (paired)", qlite_last_error());
            goto done;
        }
        if (bind_rows(it[k], m, x, a->batch)) goto done;
    }
    for (long round = -a->warmup; round < a->runs; round++) {
        for (int j = 0; j < 2; j++) {
            const int k = (int)((round & 1) ^ j); /* A first in even rounds */
            for (long l = 0; l < a->pair_lead; l++)
                if (qlite_interpreter_invoke(it[k]) != QLITE_OK) {
                    fail("invoke (paired)", qlite_last_error());
                    goto done;
                }
            const double t0 = now_ms();
            const qlite_status st = qlite_interpreter_invoke(it[k]);
            const double dt = now_ms() - t0;
            if (st != QLITE_OK) {
                fail("invoke (paired)", qlite_last_error());
                goto done;
            }
            if (round >= 0) t[k][round] = dt;
        }
        if (round >= 0) ratio[round] = t[1][round] > 0 ? t[0][round] / t[1][round] : 0;
    }
    for (int k = 0; k < 2; k++) qsort(t[k], (size_t)a->runs, sizeof *t[k], cmp_double);
    qsort(ratio, (size_t)a->runs, sizeof *ratio, cmp_double);
    r->pair_a_ms = percentile(t[0], a->runs, 50);
    r->pair_b_ms = percentile(t[1], a->runs, 50);
    r->pair_ratio = percentile(ratio, a->runs, 50);
    r->pair_ratio_p10 = percentile(ratio, a->runs, 10);
    r->pair_ratio_p90 = percentile(ratio, a->runs, 90);
    rc = 0;
done:
    qlite_interpreter_destroy(it[0]);
    qlite_interpreter_destroy(it[1]);
    free(t[0]);
    free(t[1]);
    free(ratio);
    return rc;
}

/* --startup: S x (open + create + resize/prepare/input copy), median and min. */
static int run_startup(const qlite_npy_array *x, const bench_args *a, bench_result *r) {
    double *t = malloc((size_t)a->startup * sizeof *t);
    if (!t) return fail("out of memory for the startup timings", NULL);
    qlite_interpreter_options o = {0};
    o.num_threads = (int32_t)a->threads;
    int rc = 0;
    for (long k = 0; k < a->startup && !rc; k++) {
        qlite_model *m = NULL;
        qlite_interpreter *it = NULL;
        const double t0 = now_ms();
        if (qlite_model_open(a->model, 0, &m) != QLITE_OK) rc = fail("open", qlite_last_error());
        else if (qlite_interpreter_create(m, &o, &it) != QLITE_OK)
            rc = fail("create", qlite_last_error());
        else rc = bind_rows(it, m, x, a->batch);
        t[k] = now_ms() - t0;
        qlite_interpreter_destroy(it);
        qlite_model_close(m);
    }
    if (!rc) {
        qsort(t, (size_t)a->startup, sizeof *t, cmp_double);
        r->startup_median_ms = percentile(t, a->startup, 50);
        r->startup_min_ms = t[0];
    }
    free(t);
    return rc;
}

static void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

/*
 * One JSON object: times in ms, sizes in bytes.
 *   engine "qlite", model, batch, threads, runs, warmup,
 *   load_ms (open), create_ms, prepare_ms (resize + prepare + input copy),
 *   first_ms, median_ms, p90_ms, p99_ms, mean_ms, min_ms, max_ms,
 *   arena_bytes, prepared_bytes, model_bytes,
 *   rss_base_bytes (before open), rss_peak_bytes (VmHWM after the timed
 *   runs; reset at the baseline), rss_delta_bytes (peak - base),
 *   accuracy / correct / total (with --labels),
 *   profile: {median_ms (invoke with observer), ops: [{index, op, name, ms}]},
 *   paired (with --paired): {threads_a, threads_b, runs, lead, a_median_ms,
 *   b_median_ms, ratio (median of the per-round A / B), ratio_p10, ratio_p90}
 */
static void print_json(const qlite_model *m, const bench_args *a, const bench_result *r) {
    printf("{\"engine\": \"qlite\", \"model\": ");
    json_string(a->model);
    printf(", \"batch\": %ld, \"threads\": %ld, \"runs\": %ld, \"warmup\": %ld", a->batch,
           a->threads, a->runs, a->warmup);
    printf(", \"load_ms\": %.6f, \"create_ms\": %.6f, \"prepare_ms\": %.6f, \"first_ms\": %.6f",
           r->load_ms, r->create_ms, r->prepare_ms, r->first_ms);
    printf(", \"median_ms\": %.6f, \"p90_ms\": %.6f, \"p99_ms\": %.6f, \"mean_ms\": %.6f"
           ", \"min_ms\": %.6f, \"max_ms\": %.6f",
           r->median_ms, r->p90_ms, r->p99_ms, r->mean_ms, r->min_ms, r->max_ms);
    printf(", \"arena_bytes\": %zu, \"prepared_bytes\": %zu, \"model_bytes\": %zu", r->arena,
           r->prepared, r->model_bytes);
    printf(", \"rss_base_bytes\": %.0f, \"rss_peak_bytes\": %.0f, \"rss_delta_bytes\": %.0f",
           r->rss_base, r->rss_peak, r->rss_peak - r->rss_base);
    if (r->total)
        printf(", \"accuracy\": %.6f, \"correct\": %ld, \"total\": %ld",
               (double)r->correct / (double)r->total, r->correct, r->total);
    if (a->startup)
        printf(", \"startup_runs\": %ld, \"startup_ms\": %.6f, \"startup_min_ms\": %.6f", a->startup,
               r->startup_median_ms, r->startup_min_ms);
    if (r->op_median) {
        printf(", \"profile\": {\"runs\": %ld, \"median_ms\": %.6f, \"ops\": [", a->profile,
               r->profiled_median_ms);
        for (uint32_t i = 0; i < r->ops; i++) {
            const qlite_op_info *op = qlite_model_op(m, i);
            printf("%s{\"index\": %u, \"op\": \"%s\", \"name\": ", i ? ", " : "", i,
                   qlite_op_name(op->code));
            json_string(op->name);
            printf(", \"ms\": %.6f}", r->op_median[i]);
        }
        printf("]}");
    }
    if (a->paired)
        printf(", \"paired\": {\"threads_a\": %ld, \"threads_b\": %ld, \"runs\": %ld, \"lead\": %ld"
               ", \"a_median_ms\": %.6f, \"b_median_ms\": %.6f, \"ratio\": %.6f"
               ", \"ratio_p10\": %.6f, \"ratio_p90\": %.6f}",
               a->threads, a->paired, a->runs, a->pair_lead, r->pair_a_ms, r->pair_b_ms,
               r->pair_ratio, r->pair_ratio_p10, r->pair_ratio_p90);
    printf("}\n");
}

static void print_text(const qlite_model *m, const bench_args *a, const bench_result *r) {
    printf("%s: batch %ld, %ld thread%s, %ld runs after %ld warm-up\n", a->model, a->batch,
           a->threads, a->threads == 1 ? "" : "s", a->runs, a->warmup);
    printf("  open %.4f ms, create %.4f ms, prepare %.4f ms, first run %.4f ms\n", r->load_ms,
           r->create_ms, r->prepare_ms, r->first_ms);
    printf("  latency median %.4f ms, p90 %.4f ms, p99 %.4f ms, mean %.4f ms (min %.4f)\n",
           r->median_ms, r->p90_ms, r->p99_ms, r->mean_ms, r->min_ms);
    printf("  arena %zu B, prepared %zu B, model %zu B\n", r->arena, r->prepared, r->model_bytes);
    printf("  peak RSS %.1f MiB (+%.1f MiB over %.1f MiB before open)\n", r->rss_peak / 1048576.0,
           (r->rss_peak - r->rss_base) / 1048576.0, r->rss_base / 1048576.0);
    if (a->startup)
        printf("  startup (open + create + prepare) x %ld: median %.4f ms, min %.4f ms\n", a->startup,
               r->startup_median_ms, r->startup_min_ms);
    if (a->paired)
        printf("  paired %ld vs %ld threads x %ld rounds (lead %ld): medians %.4f / %.4f ms, "
               "ratio median %.3f (p10 %.3f, p90 %.3f)\n",
               a->threads, a->paired, a->runs, a->pair_lead, r->pair_a_ms, r->pair_b_ms,
               r->pair_ratio, r->pair_ratio_p10, r->pair_ratio_p90);
    if (r->total)
        printf("  accuracy %.4f (%ld/%ld)\n", (double)r->correct / (double)r->total, r->correct,
               r->total);
    if (r->op_median) {
        double sum = 0;
        for (uint32_t i = 0; i < r->ops; i++) sum += r->op_median[i];
        printf("  profile: %ld observed runs, invoke median %.4f ms, sum of op medians %.4f ms\n",
               a->profile, r->profiled_median_ms, sum);
        for (uint32_t i = 0; i < r->ops; i++) {
            const qlite_op_info *op = qlite_model_op(m, i);
            printf("  %4u %-20s %9.4f ms %5.1f%%  %s\n", i, qlite_op_name(op->code),
                   r->op_median[i], sum > 0 ? 100.0 * r->op_median[i] / sum : 0.0, op->name);
        }
    }
}

int main(int argc, char **argv) {
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 2 ? 0 : 2;
    qlite_npy_array x = {0}, y = {0};
    qlite_model *m = NULL;
    bench_result r;
    memset(&r, 0, sizeof r);
    rc = 1;
    if (qlite_npy_read_file(a.input, &x) != QLITE_OK) {
        fail("--input", qlite_last_error());
        goto done;
    }
    if (a.labels && qlite_npy_read_file(a.labels, &y) != QLITE_OK) {
        fail("--labels", qlite_last_error());
        goto done;
    }
    double peak;
    rss(&r.rss_base, &peak);
    reset_peak_rss();
    double t0 = now_ms();
    if (qlite_model_open(a.model, 0, &m) != QLITE_OK) {
        fail("open", qlite_last_error());
        goto done;
    }
    double t_open = now_ms() - t0;
    qlite_model_bytes(m, &r.model_bytes);
    if (run_latency(m, &x, &a, &r, t_open)) goto done;
    if (a.profile && run_profile(m, &x, &a, &r)) goto done;
    if (a.labels && run_accuracy(m, &x, &y, &a, &r)) goto done;
    if (a.startup && run_startup(&x, &a, &r)) goto done;
    if (a.paired && run_paired(m, &x, &a, &r)) goto done;
    if (a.json) print_json(m, &a, &r);
    else print_text(m, &a, &r);
    rc = 0;
done:
    free(r.op_median);
    qlite_model_close(m);
    qlite_npy_free(&x);
    qlite_npy_free(&y);
    return rc;
}
