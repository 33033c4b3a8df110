/*
 * qlite-dump — inspect a .qlite model: graph, tensors, quantization,
 * sparsity, sizes. Links only libqlite. Manual: docs/cli.md; --json format:
 * docs/dump-json.md.
 *
 * Exit codes: 0 success, 1 the model could not be opened / failed
 * verification / a tensor could not be decoded, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qlite-dump.h"

static const char usage_text[] =
    "usage: qlite-dump MODEL.qlite [--json | --dot | --tensor NAME|INDEX [--all] | --verify]\n"
    "                  [--no-gzip]\n"
    "\n"
    "Shows what a .qlite model contains. Without an option: a summary (header,\n"
    "metadata, inputs/outputs, one line per op and per tensor, size totals).\n"
    "\n"
    "  --json           the same information as JSON (format: docs/dump-json.md)\n"
    "  --dot            the graph in Graphviz format (pipe into `dot -Tsvg`)\n"
    "  --tensor NAME    one tensor: shape, dtype, quantization and its values,\n"
    "                   dequantized alongside; NAME may also be a tensor index\n"
    "  --all            with --tensor: print every value, not just both ends\n"
    "  --verify         full validation plus every buffer's crc32; prints OK\n"
    "  --no-gzip        skip computing the gzip -6 size (slow on huge models)\n"
    "  -h, --help       this text\n"
    "  -V, --version    version of qlite-dump and of the format it reads\n"
    "\n"
    "Exit status: 0 ok, 1 bad model or failed verification, 2 usage error.\n";

static int usage_error(const char *fmt, const char *arg) {
    fputs("qlite-dump: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'qlite-dump --help'.\n", stderr);
    return 2;
}

static int fail_model(const char *path, qlite_status st) {
    const char *msg = qlite_last_error();
    /* The library may already name the file; say it once. */
    size_t n = strlen(path);
    if (msg && strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    fprintf(stderr, "qlite-dump: %s: %s\n", path, msg && msg[0] ? msg : qlite_status_string(st));
    return 1;
}

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

int main(int argc, char **argv) {
    enum { MODE_TEXT, MODE_JSON, MODE_DOT, MODE_VERIFY } mode = MODE_TEXT;
    int modes = 0;
    const char *tensor = NULL;
    bool all = false, no_gzip = false;
    enum { OPT_JSON = 256, OPT_DOT, OPT_TENSOR, OPT_ALL, OPT_VERIFY, OPT_NO_GZIP };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"dot", no_argument, NULL, OPT_DOT},
        {"tensor", required_argument, NULL, OPT_TENSOR},
        {"all", no_argument, NULL, OPT_ALL},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"no-gzip", no_argument, NULL, OPT_NO_GZIP},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_JSON: mode = MODE_JSON; modes++; break;
        case OPT_DOT: mode = MODE_DOT; modes++; break;
        case OPT_VERIFY: mode = MODE_VERIFY; modes++; break;
        case OPT_TENSOR:
            if (tensor) return usage_error("%s", "--tensor given twice");
            tensor = optarg;
            break;
        case OPT_ALL: all = true; break;
        case OPT_NO_GZIP: no_gzip = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V':
            printf("qlite-dump %s (format %d.%d)\n", qlite_version(), QLITE_FORMAT_VERSION_MAJOR,
                   QLITE_FORMAT_VERSION_MINOR);
            return 0;
        case ':': return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (modes > 1) return usage_error("%s", "--json, --dot and --verify exclude each other");
    if (tensor && (mode == MODE_DOT || mode == MODE_VERIFY))
        return usage_error("%s", "--tensor combines only with --json and --all");
    if (all && !tensor) return usage_error("%s", "--all needs --tensor");
    if (optind >= argc) return usage_error("%s", "no model file given");
    if (optind + 1 < argc) return usage_error("unexpected argument '%s'", argv[optind + 1]);

    dump_ctx c = {.path = argv[optind], .want_gzip = !no_gzip};
    struct stat sb;
    if (stat(c.path, &sb) != 0) {
        fprintf(stderr, "qlite-dump: %s: %s\n", c.path, strerror(errno));
        return 1;
    }
    c.file_size = (uint64_t)sb.st_size;
    qlite_status st = qlite_model_open(c.path, 0, &c.model);
    if (st != QLITE_OK) return fail_model(c.path, st);

    int rc;
    if (mode == MODE_VERIFY) {
        st = qlite_model_verify_checksums(c.model);
        if (st != QLITE_OK) {
            rc = fail_model(c.path, st);
        } else {
            uint64_t total = 0;
            uint32_t nb = qlite_model_buffer_count(c.model);
            for (uint32_t i = 1; i < nb; i++) total += dump_buffer_size(c.model, i);
            uint32_t major = 0, minor = 0;
            qlite_model_version(c.model, &major, &minor);
            printf("%s: OK (format %u.%u, %u ops, %u tensors, %u buffers, crc32 of %llu bytes "
                   "verified)\n",
                   c.path, major, minor, qlite_model_op_count(c.model),
                   qlite_model_tensor_count(c.model), nb > 0 ? nb - 1 : 0,
                   (unsigned long long)total);
            rc = 0;
        }
    } else if (tensor) {
        int32_t idx = qlite_model_find_tensor(c.model, tensor);
        if (idx < 0 && all_digits(tensor)) {
            unsigned long v = strtoul(tensor, NULL, 10);
            if (v < qlite_model_tensor_count(c.model)) idx = (int32_t)v;
        }
        if (idx < 0) {
            fprintf(stderr, "qlite-dump: %s: no tensor named '%s' (and no tensor with that index; "
                            "the model has %u)\n",
                    c.path, tensor, qlite_model_tensor_count(c.model));
            rc = 1;
        } else {
            rc = dump_tensor_values(&c, (uint32_t)idx, all, mode == MODE_JSON, stdout);
        }
    } else if (mode == MODE_JSON) {
        rc = dump_json(&c, stdout);
    } else if (mode == MODE_DOT) {
        rc = dump_dot(&c, stdout);
    } else {
        rc = dump_text(&c, stdout);
    }
    qlite_model_close(c.model);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "qlite-dump: write error: %s\n", strerror(errno));
        return 1;
    }
    return rc;
}
