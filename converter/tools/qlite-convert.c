/*
 * qlite-convert — ONNX model -> .qlite file (docs/cli.md, "qlite-convert").
 *
 *   qlite-convert in.onnx -o out.qlite [--mode float32|float16|dynamic|int8]
 *                 [--calib data.npz ...] [--calibration minmax|percentile[:P]|mse]
 *                 [--io float|int8|uint8] [--per-tensor] [--strict]
 *                 [--calib-samples N] [--eval x.npz --labels y.npy]
 *                 [--report report.json] [--nhwc-io] [-v] [-q]
 *
 * Prints the conversion report (ops, rewrites, quantization, SQNR, ops left
 * in float, accuracy, sizes); long stages draw a progress bar on stderr. On
 * bad input: one line on stderr, exit status 1, and the output file is not
 * created (the library writes atomically). Usage errors exit with 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qlite/qlite_convert.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: qlite-convert MODEL.onnx -o OUT.qlite [options]\n"
            "\n"
            "Converts an ONNX model (opsets 7-17) into a .qlite file.\n"
            "\n"
            "options:\n"
            "  -o, --output PATH      output file (written atomically; required)\n"
            "  --mode MODE            float32 (default), float16 (half constants),\n"
            "                         dynamic (int8 weights, float activations),\n"
            "                         int8 (full integer; needs --calib unless the model is QDQ)\n"
            "  --calib FILE           representative dataset: .npy / .npz, one array per model\n"
            "                         input, samples on axis 0; repeat to concatenate files\n"
            "  --calibration METHOD   minmax (default), percentile[:P] (P default 99.99), mse\n"
            "  --calib-samples N      use only the first N calibration samples\n"
            "  --io DTYPE             int8 mode: float (default), int8 or uint8 model inputs and\n"
            "                         outputs\n"
            "  --per-tensor           one weight scale per tensor instead of per output channel\n"
            "  --strict               int8 mode: fail if an op has no integer kernel instead of\n"
            "                         running it in float\n"
            "  --eval FILE            evaluation inputs (.npy/.npz): print top-1 accuracy of the\n"
            "  --labels FILE          float and the converted model (labels: integer .npy)\n"
            "  --report FILE.json     also write the report as JSON\n"
            "  --threads N            interpreter threads for calibration and evaluation\n"
            "  --nhwc-io              image inputs/outputs in NHWC (channels last) instead of the\n"
            "                         layout the ONNX model declares (NCHW)\n"
            "  -q, --quiet            print nothing on success (no report, no progress)\n"
            "  -v, --verbose          also print what each pass did (-vv: per node)\n"
            "  -h, --help             this text\n"
            "  --version              print the version\n");
}

static void log_line(void *user, int level, const char *line) {
    (void)user;
    fprintf(stderr, "%s%s\n", level > 1 ? "    " : "  ", line);
}

typedef struct progress_state {
    bool tty;
    char stage[32];
    int last;                /* last drawn percentage */
} progress_state;

static void progress(void *user, const char *stage, uint64_t done, uint64_t total) {
    progress_state *p = user;
    int pct = total ? (int)(100 * done / total) : 100;
    if (strcmp(p->stage, stage)) {
        snprintf(p->stage, sizeof p->stage, "%s", stage);
        p->last = -1;
    }
    if (pct == p->last) return;
    p->last = pct;
    if (p->tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r%-12s [%s] %3d%% %llu/%llu", stage, bar, pct,
                (unsigned long long)done, (unsigned long long)total);
        if (done >= total) fputc('\n', stderr);
    } else if (done >= total) {
        fprintf(stderr, "%s: %llu/%llu done\n", stage, (unsigned long long)done,
                (unsigned long long)total);
    }
    fflush(stderr);
}

static int parse_u32(const char *opt, const char *s, uint32_t *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || !*s || s[0] == '-' || v > UINT32_MAX) {
        fprintf(stderr, "qlite-convert: %s needs a non-negative integer, got '%s'\n", opt, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *json = NULL;
    qlite_convert_options o = {0};
    bool quiet = false;
    const char **calib = calloc((size_t)argc, sizeof *calib);
    if (!calib) return 1;
    uint32_t ncalib = 0;
    int rc = 2;
#define NEED_VALUE()                                                                \
    do {                                                                            \
        if (eq) val = eq + 1;                                                       \
        else if (i + 1 < argc) val = argv[++i];                                     \
        else {                                                                      \
            fprintf(stderr, "qlite-convert: %s needs a value\n", a);                \
            goto done;                                                              \
        }                                                                           \
    } while (0)
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char opt[64];
        const char *eq = a[0] == '-' && a[1] == '-' ? strchr(a, '=') : NULL;
        size_t ol = eq ? (size_t)(eq - a) : strlen(a);
        snprintf(opt, sizeof opt, "%.*s", (int)(ol < sizeof opt ? ol : sizeof opt - 1), a);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--version")) {
            printf("qlite-convert %s (format %d.%d)\n", qlite_version(), QLITE_FORMAT_VERSION_MAJOR,
                   QLITE_FORMAT_VERSION_MINOR);
            rc = 0;
            goto done;
        } else if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
            NEED_VALUE();
            out = val;
        } else if (!strcmp(opt, "--mode")) {
            NEED_VALUE();
            int k = 0;
            for (; k < QLITE_CONVERT_MODE_COUNT; k++)
                if (!strcmp(val, qlite_convert_mode_name((qlite_convert_mode)k))) break;
            if (k == QLITE_CONVERT_MODE_COUNT) {
                fprintf(stderr,
                        "qlite-convert: unknown mode '%s' (float32, float16, dynamic, int8)\n",
                        val);
                goto done;
            }
            o.mode = (qlite_convert_mode)k;
        } else if (!strcmp(opt, "--calib")) {
            NEED_VALUE();
            calib[ncalib++] = val;
        } else if (!strcmp(opt, "--calibration")) {
            NEED_VALUE();
            if (!strcmp(val, "minmax")) {
                o.calibration = QLITE_CALIBRATION_MINMAX;
            } else if (!strcmp(val, "mse")) {
                o.calibration = QLITE_CALIBRATION_MSE;
            } else if (!strncmp(val, "percentile", 10) && (!val[10] || val[10] == ':')) {
                o.calibration = QLITE_CALIBRATION_PERCENTILE;
                if (val[10] == ':') {
                    char *end;
                    double p = strtod(val + 11, &end);
                    if (*end || end == val + 11 || !(p > 0 && p <= 100)) {
                        fprintf(stderr, "qlite-convert: percentile must be in (0, 100], got '%s'\n",
                                val + 11);
                        goto done;
                    }
                    o.percentile = (float)p;
                }
            } else {
                fprintf(stderr, "qlite-convert: unknown calibration method '%s' (minmax, "
                                "percentile[:P], mse)\n", val);
                goto done;
            }
        } else if (!strcmp(opt, "--calib-samples")) {
            NEED_VALUE();
            if (parse_u32(opt, val, &o.calib_samples)) goto done;
        } else if (!strcmp(opt, "--io")) {
            NEED_VALUE();
            int k = 0;
            for (; k < QLITE_CONVERT_IO_COUNT; k++)
                if (!strcmp(val, qlite_convert_io_name((qlite_convert_io)k))) break;
            if (k == QLITE_CONVERT_IO_COUNT) {
                fprintf(stderr, "qlite-convert: unknown --io '%s' (float, int8, uint8)\n", val);
                goto done;
            }
            o.io = (qlite_convert_io)k;
        } else if (!strcmp(a, "--per-tensor")) {
            o.per_tensor = true;
        } else if (!strcmp(a, "--strict")) {
            o.strict = true;
        } else if (!strcmp(opt, "--eval")) {
            NEED_VALUE();
            o.eval_file = val;
        } else if (!strcmp(opt, "--labels")) {
            NEED_VALUE();
            o.eval_labels = val;
        } else if (!strcmp(opt, "--report")) {
            NEED_VALUE();
            json = val;
        } else if (!strcmp(opt, "--threads")) {
            NEED_VALUE();
            uint32_t t;
            if (parse_u32(opt, val, &t)) goto done;
            o.num_threads = (int32_t)(t > 256 ? 256 : t);
        } else if (!strcmp(a, "--nhwc-io")) {
            o.nhwc_io = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o.verbosity++;
        } else if (!strcmp(a, "-vv")) {
            o.verbosity += 2;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "qlite-convert: unknown option '%s' (see --help)\n", a);
            goto done;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "qlite-convert: more than one input model ('%s', '%s')\n", in, a);
            goto done;
        }
    }
#undef NEED_VALUE
    if (!in || !out) {
        fprintf(stderr, "qlite-convert: %s (see --help)\n",
                !in ? "no input model given" : "no output file given (-o OUT.qlite)");
        goto done;
    }
    if (!o.eval_file != !o.eval_labels) {
        fprintf(stderr, "qlite-convert: --eval and --labels go together\n");
        goto done;
    }
    o.calib_files = calib;
    o.num_calib_files = ncalib;
    if (o.verbosity) {
        o.log = log_line;
        fprintf(stderr, "qlite-convert: %s -> %s\n", in, out);
    }
    progress_state ps = {.tty = isatty(2) != 0, .last = -1};
    if (!quiet) {
        o.progress = progress;
        o.progress_user = &ps;
    }
    qlite_convert_report *r = NULL;
    qlite_status st = qlite_convert_file(in, out, &o, &r);
    if (st != QLITE_OK) {
        if (ps.tty && ps.last >= 0 && ps.last < 100) fputc('\n', stderr);
        fprintf(stderr, "qlite-convert: %s: %s\n", in, qlite_last_error());
        rc = 1;
        goto done;
    }
    rc = 0;
    if (!quiet) {
        size_t n = qlite_convert_report_format(r, NULL, 0);
        char *text = malloc(n + 1);
        if (text) {
            qlite_convert_report_format(r, text, n + 1);
            printf("%s -> %s\n%s", in, out, text);
            free(text);
        }
    }
    if (json) {
        size_t n = qlite_convert_report_json(r, NULL, 0);
        char *text = malloc(n + 1);
        FILE *f = text ? fopen(json, "w") : NULL;
        if (text) qlite_convert_report_json(r, text, n + 1);
        bool ok = f && fwrite(text, 1, n, f) == n;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) {
            fprintf(stderr, "qlite-convert: cannot write the report to '%s': %s\n", json,
                    strerror(errno));
            rc = 1;
        }
        free(text);
    }
    qlite_convert_report_free(r);
done:
    free(calib);
    return rc;
}
