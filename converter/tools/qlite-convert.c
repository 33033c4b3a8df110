/*
 * qlite-convert — ONNX model -> .qlite file (docs/cli.md, "qlite-convert").
 *
 *   qlite-convert in.onnx -o out.qlite [--mode float32|float16|dynamic|int8]
 *                 [--calib data.npz ...] [--calibration minmax|percentile[:P]|mse]
 *                 [--io float|int8|uint8] [--per-tensor] [--strict]
 *                 [--calib-samples N] [--eval x.npz --labels y.npy]
 *                 [--prune S [--prune-scope layer|global] [--prune-block RxC]
 *                  [--prune-norm l2|l1] [--prune-skip PATTERN ...]] [--cluster K]
 *                 [--dense] [--sparse-min S] [--no-pack]
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
            "  --prune S              magnitude pruning of the weights to sparsity S (0 <= S < 1)\n"
            "  --prune-scope SCOPE    layer (default: each weight to S) or global (one threshold\n"
            "                         over all weights, scores relative to each layer's RMS)\n"
            "  --prune-block RxC      prune blocks of R rows x C columns of the weight's 2-D view\n"
            "                         (default 1x1; 16x4 is the fastest int8 form, 1x4 and\n"
            "                         1x16 also have vector kernels)\n"
            "  --prune-norm NORM      block score: l2 (default) or l1\n"
            "  --prune-skip PATTERN   leave weights unpruned whose tensor or op name matches the\n"
            "                         glob PATTERN (repeat, or separate with commas)\n"
            "  --cluster K            k-means clustering of each weight to K values (2..256),\n"
            "                         stored as ceil(log2 K)-bit indices and a codebook\n"
            "  --dense                store every weight dense (no automatic sparse or palette\n"
            "                         storage)\n"
            "  --sparse-min S         store a weight sparse only from sparsity S (default 0.5,\n"
            "                         int8 weights from the sparse kernel's break-even;\n"
            "                         0: whenever the sparse form is smaller)\n"
            "  --no-pack              keep weights in the default layout (else FullyConnected,\n"
            "                         Conv, LSTM / GRU and float TransposeConv weights are\n"
            "                         stored in the layout their kernels read in place)\n"
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

/* A fraction in [lo, hi) (hi_incl: [lo, hi]). */
static int parse_frac(const char *opt, const char *s, double lo, double hi, bool hi_incl,
                      float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo && (hi_incl ? v <= hi : v < hi))) {
        fprintf(stderr, "qlite-convert: %s needs a number in [%g, %g%c, got '%s'\n", opt, lo, hi,
                hi_incl ? ']' : ')', s);
        return -1;
    }
    *out = (float)v;
    return 0;
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
    /* --prune-skip patterns: copies of the comma-separated parts */
    size_t max_skip = (size_t)argc;
    for (int i = 1; i < argc; i++)
        for (const char *p = argv[i]; *p; p++) max_skip += *p == ',';
    char **skip = calloc(max_skip, sizeof *skip);
    uint32_t nskip = 0;
    if (!calib || !skip) {
        free(calib);
        free(skip);
        return 1;
    }
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
        } else if (!strcmp(opt, "--prune")) {
            NEED_VALUE();
            if (parse_frac(opt, val, 0, 1, false, &o.prune)) goto done;
        } else if (!strcmp(opt, "--prune-scope")) {
            NEED_VALUE();
            if (!strcmp(val, "layer")) o.prune_scope = QLITE_PRUNE_LAYER;
            else if (!strcmp(val, "global")) o.prune_scope = QLITE_PRUNE_GLOBAL;
            else {
                fprintf(stderr, "qlite-convert: unknown --prune-scope '%s' (layer, global)\n", val);
                goto done;
            }
        } else if (!strcmp(opt, "--prune-norm")) {
            NEED_VALUE();
            if (!strcmp(val, "l2")) o.prune_norm = QLITE_PRUNE_L2;
            else if (!strcmp(val, "l1")) o.prune_norm = QLITE_PRUNE_L1;
            else {
                fprintf(stderr, "qlite-convert: unknown --prune-norm '%s' (l2, l1)\n", val);
                goto done;
            }
        } else if (!strcmp(opt, "--prune-block")) {
            NEED_VALUE();
            unsigned br = 0, bc = 0;
            char x = 0, extra = 0;
            if (sscanf(val, "%u%c%u%c", &br, &x, &bc, &extra) != 3 || (x != 'x' && x != 'X') ||
                !br || !bc || br > 65536 || bc > 65536 || val[0] == '-' || strchr(val, '-')) {
                fprintf(stderr, "qlite-convert: --prune-block needs ROWSxCOLS (e.g. 16x4, 1x4, "
                                "1x16), got '%s'\n", val);
                goto done;
            }
            o.prune_block_rows = br;
            o.prune_block_cols = bc;
        } else if (!strcmp(opt, "--prune-skip")) {
            NEED_VALUE();
            for (const char *p = val; *p;) {
                const char *comma = strchr(p, ',');
                size_t l = comma ? (size_t)(comma - p) : strlen(p);
                if (l && nskip < max_skip) {
                    char *c = malloc(l + 1);
                    if (!c) goto done;
                    memcpy(c, p, l);
                    c[l] = 0;
                    skip[nskip++] = c;
                }
                p += l + (comma ? 1 : 0);
            }
        } else if (!strcmp(opt, "--cluster")) {
            NEED_VALUE();
            if (parse_u32(opt, val, &o.cluster)) goto done;
            if (o.cluster < 2 || o.cluster > 256) {
                fprintf(stderr, "qlite-convert: --cluster needs K in 2..256, got '%s'\n", val);
                goto done;
            }
        } else if (!strcmp(a, "--dense")) {
            o.dense = true;
        } else if (!strcmp(a, "--no-pack")) {
            o.no_pack = true;
        } else if (!strcmp(opt, "--sparse-min")) {
            NEED_VALUE();
            if (parse_frac(opt, val, 0, 1, true, &o.sparse_min)) goto done;
            if (o.sparse_min == 0) o.sparse_min = -1; /* API: negative = no threshold */
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
    o.prune_skip = (const char *const *)skip;
    o.num_prune_skip = nskip;
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
    for (uint32_t k = 0; k < nskip; k++) free(skip[k]);
    free(skip);
    return rc;
}
