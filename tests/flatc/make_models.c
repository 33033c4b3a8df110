/*
 * make_models.c — writes the models of tests/support/test_models.c for the
 * qlite -> flatc direction of the cross-check (tests/flatc/check_models.sh):
 *
 *   OUTDIR/NAME.qlite        written by qlite_writer_write_file
 *   OUTDIR/NAME.expect.json  what flatc --json --strict-json --defaults-json
 *                            must print (the spec's values, without offsets)
 *   OUTDIR/NAME.buf<i>.bin   the bytes buffer i must hold
 *
 * usage: make_models OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>

#include "support/test_models.h"

static int write_one(const char *dir, const char *name, void (*fill)(qlite_test_model *)) {
    qlite_test_model *s = qlite_test_model_new();
    fill(s);
    char path[4096];
    qlite_writer *w;
    qlite_status st = qlite_test_model_writer(s, &w);
    snprintf(path, sizeof path, "%s/%s.qlite", dir, name);
    if (st == QLITE_OK) st = qlite_writer_write_file(w, path);
    if (st != QLITE_OK) {
        fprintf(stderr, "make_models: %s: %s\n", path, qlite_last_error());
        return 1;
    }
    qlite_writer_destroy(w);
    snprintf(path, sizeof path, "%s/%s.expect.json", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    qlite_test_model_expect_json(s, f);
    fclose(f);
    for (uint32_t i = 1; i < s->num_buffers; i++) {
        snprintf(path, sizeof path, "%s/%s.buf%u.bin", dir, name, i);
        f = fopen(path, "wb");
        if (!f) return 1;
        if (s->buffer_size[i]) fwrite(s->buffer_data[i], 1, s->buffer_size[i], f);
        fclose(f);
    }
    qlite_test_model_free(s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_models OUTDIR\n");
        return 2;
    }
    return write_one(argv[1], "fmt_small", qlite_test_model_small) |
           write_one(argv[1], "fmt_everything", qlite_test_model_everything);
}
