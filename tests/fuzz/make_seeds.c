/*
 * make_seeds.c — seed corpus for fuzz_model_open: the test models
 * (tests/support/test_models.c) as written, gzip-compressed, at another
 * alignment, and a few single-rule violations, so the fuzzer starts from
 * inputs that reach deep into validation.
 *
 * usage: make_seeds OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "support/test_models.h"
#include "writer/writer_internal.h"

static int n_written;

static void put(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
    n_written++;
}

static void put_spec(const char *dir, const char *name, const qlite_test_model *s, bool gz) {
    void *bytes;
    size_t n;
    if (qlite_test_model_bytes(s, false, &bytes, &n) != QLITE_OK) {
        fprintf(stderr, "make_seeds: %s: %s\n", name, qlite_last_error());
        exit(1);
    }
    put(dir, name, bytes, n);
    if (gz) {
        uLongf cap = compressBound((uLong)n) + 64;
        uint8_t *out = malloc(cap);
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        zs.next_in = bytes;
        zs.avail_in = (uInt)n;
        zs.next_out = out;
        zs.avail_out = (uInt)cap;
        deflate(&zs, Z_FINISH);
        char gzname[256];
        snprintf(gzname, sizeof gzname, "%s.gz", name);
        put(dir, gzname, out, cap - zs.avail_out);
        deflateEnd(&zs);
        free(out);
    }
    qlite_writer_free_bytes(bytes);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR\n");
        return 2;
    }
    const char *dir = argv[1];
    qlite_test_model *s = qlite_test_model_new();
    qlite_test_model_small(s);
    put_spec(dir, "small.qlite", s, true);
    /* single-rule violations: the fuzzer mutates from just past each check */
    qlite_quant *q = (qlite_quant *)(uintptr_t)s->tensors[1].quant;
    q->count = 3;
    put_spec(dir, "bad_channels.qlite", s, false);
    q->count = 4;
    ((uint8_t *)(uintptr_t)s->buffer_data[2])[2] = 0; /* row_ptr decreasing */
    put_spec(dir, "bad_row_ptr.qlite", s, false);
    ((uint8_t *)(uintptr_t)s->buffer_data[2])[2] = 1;
    s->version_minor = 9;
    s->ops[0].code = (qlite_op_code)(QLITE_OP_COUNT + 1);
    put_spec(dir, "newer_minor_unknown_op.qlite", s, false);
    qlite_test_model_free(s);

    s = qlite_test_model_new();
    qlite_test_model_everything(s);
    put_spec(dir, "everything.qlite", s, true);
    qlite_test_model_free(s);
    printf("make_seeds: %d seeds in %s\n", n_written, dir);
    return 0;
}
