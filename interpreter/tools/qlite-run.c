/*
 * qlite-run — run a .qlite model on NumPy inputs; print, save and time its
 * outputs. See docs/cli.md ("qlite-run") and `qlite-run --help`.
 *
 * Steps: parse arguments -> open the model (timed) -> create the
 * interpreter (timed) -> bind inputs, resize a dynamic batch -> prepare
 * (timed) -> set inputs -> first invoke (timed) -> [--warmup + --bench runs]
 * -> print outputs / accuracy -> write --output.
 * Exit status (docs/cli.md, common to every qlite tool): 0 success, 1 bad
 * input or a failed run, 2 usage error; the reason is one line on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "qlite-run.h"

#define MAX_INPUT_ARGS 64
#define MAX_BENCH 10000000L

static const char usage_text[] =
    "usage: qlite-run MODEL.qlite [--input FILE | --input NAME=FILE]... [options]\n"
    "\n"
    "Runs a .qlite model on NumPy inputs and prints its outputs.\n"
    "\n"
    "  --input FILE        a .npy for the next model input (in order), or a .npz whose\n"
    "                      arrays go to the inputs of the same name (else in order)\n"
    "  --input NAME=FILE   a .npy (or one-array .npz) for the input named NAME\n"
    "                      A float32 array given to an int8/uint8 input is quantized\n"
    "                      with the input's scale and zero point. An array whose\n"
    "                      batch differs from a model declaring a dynamic (-1) batch\n"
    "                      runs as one batch of that size.\n"
    "  --output FILE       write the outputs: .npy (one output) or .npz (all, by name)\n"
    "  --labels FILE       integer labels [N] (.npy): print top-1 accuracy of output 0\n"
    "  --top K             classes shown per row for [N, C] outputs (default 5, max 64)\n"
    "  --bench N           time N runs; print load/prepare/first-run times, latency\n"
    "                      median/p90/p99, throughput and memory (arena, prepared\n"
    "                      data, mapped model, peak RSS)\n"
    "  --warmup W          untimed runs before the --bench runs (default 1)\n"
    "  --threads T         worker threads (default 1)\n"
    "  --keep-all          give every tensor its own memory (no arena reuse)\n"
    "  --reference         use the reference kernels only\n"
    "  -h, --help          this text\n"
    "  -V, --version       version of qlite-run and the newest format it reads\n"
    "\n"
    "With --bench and no --input, inputs are zero-filled.\n"
    "Exit status: 0 success, 1 bad input or failed run, 2 usage error (reason on one\n"
    "line on stderr).\n";

int run_fail(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n') *p = ' ';
    fprintf(stderr, "qlite-run: %s\n", msg);
    return 1;
}

void run_note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "qlite-run: note: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

typedef struct run_args {
    const char *model;
    const char *inputs[MAX_INPUT_ARGS];
    int num_inputs;
    const char *output, *labels;
    long bench, warmup, threads, top;
    bool keep_all, reference;
} run_args;

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return run_fail("%s needs an integer in %ld..%ld, got '%s'", opt, lo, hi, s);
    *out = v;
    return 0;
}

/* 0 = run, 1 = usage error (printed), 2 = done (help/version printed). */
static int parse_args(int argc, char **argv, run_args *a) {
    memset(a, 0, sizeof *a);
    a->warmup = 1;
    a->threads = 1;
    a->top = 5;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_text, stdout);
            return 2;
        }
        if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
            printf("qlite-run %s (libqlite %s, format %d.%d)\n", QLITE_VERSION_STRING,
                   qlite_version(), QLITE_FORMAT_VERSION_MAJOR, QLITE_FORMAT_VERSION_MINOR);
            return 2;
        }
        if (strcmp(arg, "--keep-all") == 0) {
            a->keep_all = true;
            continue;
        }
        if (strcmp(arg, "--reference") == 0) {
            a->reference = true;
            continue;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if (a->model) return run_fail("unexpected argument '%s' (one model only)", arg);
            a->model = arg;
            continue;
        }
        /* options with a value: --opt VALUE or --opt=VALUE */
        static const char *const with_value[] = {"--input", "--output", "--labels", "--bench",
                                                 "--warmup", "--threads", "--top"};
        const char *name = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
            size_t n = strlen(with_value[k]);
            if (strncmp(arg, with_value[k], n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
                name = with_value[k];
                val = arg[n] == '=' ? arg + n + 1 : NULL;
            }
        }
        if (!name) return run_fail("unknown option '%s' (see --help)", arg);
        if (!val) {
            if (i + 1 >= argc) return run_fail("%s needs a value", name);
            val = argv[++i];
        }
        if (strcmp(name, "--input") == 0) {
            if (a->num_inputs == MAX_INPUT_ARGS) return run_fail("too many --input options");
            a->inputs[a->num_inputs++] = val;
        } else if (strcmp(name, "--output") == 0) {
            a->output = val;
        } else if (strcmp(name, "--labels") == 0) {
            a->labels = val;
        } else if (strcmp(name, "--bench") == 0) {
            if (parse_long(name, val, 1, MAX_BENCH, &a->bench)) return 1;
        } else if (strcmp(name, "--warmup") == 0) {
            if (parse_long(name, val, 0, MAX_BENCH, &a->warmup)) return 1;
        } else if (strcmp(name, "--threads") == 0) {
            if (parse_long(name, val, 1, 256, &a->threads)) return 1;
        } else if (parse_long(name, val, 1, 64, &a->top)) {
            return 1;
        }
    }
    if (!a->model) return run_fail("no model given (usage: qlite-run MODEL.qlite --input X.npy)");
    if (a->num_inputs == 0 && !a->bench)
        return run_fail("no --input given (with --bench alone, inputs are zero-filled)");
    return 0;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, long n, double p) {
    long rank = (long)((p / 100.0) * (double)n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

static void print_bytes(const char *label, double bytes) {
    const char *unit = "B";
    double v = bytes;
    if (v >= 1024.0 * 1024.0) {
        v /= 1024.0 * 1024.0;
        unit = "MiB";
    } else if (v >= 1024.0) {
        v /= 1024.0;
        unit = "KiB";
    }
    if (bytes < 1024.0) printf("  %-16s %12.0f bytes\n", label, bytes);
    else printf("  %-16s %12.0f bytes (%.1f %s)\n", label, bytes, v, unit);
}

/* Resident bytes now and at peak: VmRSS / VmHWM of /proc/self/status (one
 * source, so they agree), else getrusage's ru_maxrss for the peak. */
static void rss(double *now, double *peak) {
    *now = *peak = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        unsigned long kb;
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "VmRSS: %lu kB", &kb) == 1) *now = (double)kb * 1024.0;
            if (sscanf(line, "VmHWM: %lu kB", &kb) == 1) *peak = (double)kb * 1024.0;
        }
        fclose(f);
    }
    struct rusage ru;
    if (*peak == 0 && getrusage(RUSAGE_SELF, &ru) == 0) *peak = (double)ru.ru_maxrss * 1024.0;
    if (*peak < *now) *peak = *now;
}

typedef struct timings {
    double load, create, prepare, first;
} timings;

static int bench(qlite_interpreter *it, const qlite_model *m, const run_args *a,
                 const timings *t) {
    for (long i = 0; i < a->warmup; i++)
        if (qlite_interpreter_invoke(it) != QLITE_OK) return run_fail("%s", qlite_last_error());
    double *lat = malloc((size_t)a->bench * sizeof *lat);
    if (!lat) return run_fail("out of memory for %ld timings", a->bench);
    double total = 0;
    for (long i = 0; i < a->bench; i++) {
        double t0 = now_ms();
        if (qlite_interpreter_invoke(it) != QLITE_OK) {
            free(lat);
            return run_fail("%s", qlite_last_error());
        }
        lat[i] = now_ms() - t0;
        total += lat[i];
    }
    qsort(lat, (size_t)a->bench, sizeof *lat, cmp_double);
    qlite_tensor_view in0;
    long batch = 1;
    if (qlite_interpreter_input_count(it) && qlite_interpreter_input(it, 0, &in0) == QLITE_OK &&
        in0.rank > 0)
        batch = (long)in0.dims[0];
    double med = percentile(lat, a->bench, 50);
    printf("bench: %ld runs after %ld warmup, %ld thread%s, batch %ld%s\n", a->bench, a->warmup,
           a->threads, a->threads == 1 ? "" : "s", batch, a->reference ? ", reference kernels" : "");
    printf("  %-16s %12.4f ms\n", "load", t->load);
    printf("  %-16s %12.4f ms\n", "create", t->create);
    printf("  %-16s %12.4f ms\n", "prepare", t->prepare);
    printf("  %-16s %12.4f ms\n", "first run", t->first);
    printf("  %-16s %12.4f ms\n", "latency median", med);
    printf("  %-16s %12.4f ms\n", "latency p90", percentile(lat, a->bench, 90));
    printf("  %-16s %12.4f ms\n", "latency p99", percentile(lat, a->bench, 99));
    printf("  %-16s %12.4f ms  (min %.4f, max %.4f)\n", "latency mean", total / (double)a->bench,
           lat[0], lat[a->bench - 1]);
    printf("  %-16s %12.1f runs/s, %.1f samples/s (at the median)\n", "throughput",
           med > 0 ? 1e3 / med : 0.0, med > 0 ? 1e3 * (double)batch / med : 0.0);
    size_t model_bytes = 0;
    qlite_model_bytes(m, &model_bytes);
    double now, peak;
    rss(&now, &peak);
    /* what the arena would be without reuse: every non-constant tensor's bytes */
    double activations = 0;
    for (uint32_t k = 0; k < qlite_model_tensor_count(m); k++) {
        qlite_tensor_view v;
        if (qlite_model_tensor(m, k)->buffer == 0 && qlite_interpreter_tensor(it, k, &v) == QLITE_OK)
            activations += (double)v.bytes;
    }
    print_bytes("arena", (double)qlite_interpreter_arena_size(it));
    print_bytes("activations sum", activations);
    print_bytes("prepared data", (double)qlite_interpreter_prepared_size(it));
    print_bytes(qlite_model_was_compressed(m) ? "model (inflated)" : "model mapped", (double)model_bytes);
    print_bytes("RSS now", now);
    print_bytes("peak RSS", peak);
    free(lat);
    return 0;
}

int main(int argc, char **argv) {
    run_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 2 ? 0 : 2;

    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    run_inputs in;
    memset(&in, 0, sizeof in);
    timings t;
    double t0 = now_ms();
    if (qlite_model_open(a.model, 0, &m) != QLITE_OK) {
        rc = run_fail("%s", qlite_last_error());
        goto done;
    }
    t.load = now_ms() - t0;
    if ((rc = run_inputs_load(m, a.num_inputs, a.inputs, &in)) != 0) goto done;
    if (a.num_inputs) {
        for (uint32_t i = 0; i < in.count; i++) {
            if (in.array[i]) continue;
            const qlite_tensor_info *info = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, i));
            rc = run_fail("input %u '%s' has no data (give --input %s=FILE.npy)", i, info->name,
                          info->name);
            goto done;
        }
    }
    qlite_interpreter_options o;
    memset(&o, 0, sizeof o);
    o.num_threads = (int32_t)a.threads;
    o.flags = (a.keep_all ? QLITE_INTERP_KEEP_ALL_TENSORS : 0) |
              (a.reference ? QLITE_INTERP_REFERENCE_ONLY : 0);
    t0 = now_ms();
    if (qlite_interpreter_create(m, &o, &it) != QLITE_OK) {
        rc = run_fail("%s", qlite_last_error());
        goto done;
    }
    t.create = now_ms() - t0;
    if ((rc = run_inputs_resize(m, it, &in)) != 0) goto done;
    t0 = now_ms();
    if (qlite_interpreter_prepare(it) != QLITE_OK) {
        rc = run_fail("%s", qlite_last_error());
        goto done;
    }
    t.prepare = now_ms() - t0;
    if ((rc = run_inputs_set(m, it, &in)) != 0) goto done;
    t0 = now_ms();
    if (qlite_interpreter_invoke(it) != QLITE_OK) {
        rc = run_fail("%s", qlite_last_error());
        goto done;
    }
    t.first = now_ms() - t0;
    if (a.bench && (rc = bench(it, m, &a, &t)) != 0) goto done;
    run_print_outputs(it, (int)a.top);
    if (a.labels && (rc = run_accuracy(it, a.labels)) != 0) goto done;
    if (a.output && (rc = run_write_outputs(it, a.output)) != 0) goto done;
    if (a.output) printf("wrote %s\n", a.output);
done:
    run_inputs_free(&in);
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    fflush(stdout);
    return rc;
}
