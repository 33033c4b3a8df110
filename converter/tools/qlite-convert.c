/*
 * qlite-convert — ONNX model -> .qlite file (docs/cli.md, "qlite-convert").
 *
 *   qlite-convert in.onnx -o out.qlite [--mode float32] [--nhwc-io] [-v]
 *
 * Prints what it did (ops in and out by type, rewrites, sizes, time). On bad
 * input: one line on stderr, exit status 1, and the output file is not
 * created (the library writes atomically). Usage errors exit with 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/qlite_convert.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: qlite-convert MODEL.onnx -o OUT.qlite [options]\n"
            "\n"
            "Converts an ONNX model (opsets 7-17) into a .qlite file.\n"
            "\n"
            "options:\n"
            "  -o, --output PATH   output file (written atomically; required)\n"
            "  --mode MODE         float32 (default); float16, dynamic, int8 are not in this build\n"
            "  --nhwc-io           image inputs/outputs in NHWC (channels last) instead of the\n"
            "                      layout the ONNX model declares (NCHW)\n"
            "  -q, --quiet         print nothing on success\n"
            "  -v, --verbose       also print what each pass did (-vv: per node)\n"
            "  -h, --help          this text\n"
            "  --version           print the version\n");
}

static void log_line(void *user, int level, const char *line) {
    (void)user;
    fprintf(stderr, "%s%s\n", level > 1 ? "    " : "  ", line);
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    qlite_convert_options o = {0};
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("qlite-convert %s (format %d.%d)\n", qlite_version(), QLITE_FORMAT_VERSION_MAJOR,
                   QLITE_FORMAT_VERSION_MINOR);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (++i >= argc) {
                fprintf(stderr, "qlite-convert: %s needs a path\n", a);
                return 2;
            }
            out = argv[i];
        } else if (!strcmp(a, "--mode") || !strncmp(a, "--mode=", 7)) {
            const char *m = a[6] == '=' ? a + 7 : (++i < argc ? argv[i] : NULL);
            if (!m) {
                fprintf(stderr, "qlite-convert: --mode needs a value\n");
                return 2;
            }
            int k = 0;
            for (; k < QLITE_CONVERT_MODE_COUNT; k++)
                if (!strcmp(m, qlite_convert_mode_name((qlite_convert_mode)k))) break;
            if (k == QLITE_CONVERT_MODE_COUNT) {
                fprintf(stderr, "qlite-convert: unknown mode '%s' (float32, float16, dynamic, int8)\n", m);
                return 2;
            }
            o.mode = (qlite_convert_mode)k;
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
            return 2;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "qlite-convert: more than one input model ('%s', '%s')\n", in, a);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "qlite-convert: %s (see --help)\n",
                !in ? "no input model given" : "no output file given (-o OUT.qlite)");
        return 2;
    }
    if (o.verbosity) {
        o.log = log_line;
        fprintf(stderr, "qlite-convert: %s -> %s\n", in, out);
    }
    qlite_convert_report *r = NULL;
    qlite_status st = qlite_convert_file(in, out, &o, &r);
    if (st != QLITE_OK) {
        fprintf(stderr, "qlite-convert: %s: %s\n", in, qlite_last_error());
        return 1;
    }
    if (!quiet) {
        size_t n = qlite_convert_report_format(r, NULL, 0);
        char *text = malloc(n + 1);
        if (text) {
            qlite_convert_report_format(r, text, n + 1);
            printf("%s -> %s\n%s", in, out, text);
            free(text);
        }
    }
    qlite_convert_report_free(r);
    return 0;
}
