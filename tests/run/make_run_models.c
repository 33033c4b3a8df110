/*
 * make_run_models.c — writes the small models the qlite-run CLI tests use
 * (tests/run/run_cli_tests.sh), each simple enough that its outputs can be
 * derived by hand:
 *   classifier.qlite  x float32 [-1, 4] -> FC -> logits [-1, 3] with
 *                     W = [[1,0,0,0],[0,1,0,0],[0,0,1,1]], b = [0, 0, 0.5]:
 *                     logits = [x0, x1, x2 + x3 + 0.5]
 *   fixed.qlite       x float32 [1, 4] -> ADD (1, 2, 3, 4) -> y [1, 4]
 *   two_inputs.qlite  a, b float32 [2] -> d = a - b, s = a + b (outputs d, s)
 *   int8_in.qlite     q int8 [-1, 3] (scale 0.5, zero point -1) -> RESHAPE -> r
 *   unsupported.qlite x float32 [1] -> EMBEDDING_BAG (no kernel) -> y
 * Usage: make_run_models OUTDIR
 */
#include <stdio.h>
#include <string.h>

#include "qlite_writer.h"

static qlite_writer *w;
static int failed;

static void check(qlite_status st, const char *what) {
    if (st != QLITE_OK) {
        fprintf(stderr, "make_run_models: %s: %s\n", what, qlite_last_error());
        failed = 1;
    }
}

static int32_t tensor(const char *name, qlite_dtype dt, uint32_t rank, const int64_t *shape,
                      const void *data, size_t bytes, const qlite_quant *q) {
    qlite_tensor_info t = {.name = name, .dtype = dt, .rank = rank, .shape = shape, .quant = q};
    if (data) t.buffer = (uint32_t)qlite_writer_add_buffer(w, data, bytes);
    return qlite_writer_add_tensor(w, &t);
}

static void add_op(qlite_op_code code, const char *name, qlite_options_type ot,
                   uint32_t nin, const int32_t *in, uint32_t nout, const int32_t *out,
                   const qlite_op_options *opts) {
    qlite_op_info op = {.code = code, .name = name, .num_inputs = nin, .num_outputs = nout,
                        .inputs = in, .outputs = out};
    if (opts) op.options = *opts;
    else qlite_op_options_default(ot, &op.options);
    if (qlite_writer_add_op(w, &op) < 0) check(QLITE_ERR_INVALID_ARGUMENT, name);
}

static void save(const char *dir, const char *file, uint32_t nin, const int32_t *in,
                 uint32_t nout, const int32_t *out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    check(qlite_writer_set_inputs(w, nin, in), "inputs");
    check(qlite_writer_set_outputs(w, nout, out), "outputs");
    check(qlite_writer_set_producer(w, "make_run_models"), "producer");
    check(qlite_writer_write_file(w, path), path);
    qlite_writer_destroy(w);
    w = NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_run_models OUTDIR\n");
        return 1;
    }
    const char *dir = argv[1];

    qlite_writer_create(&w);
    {
        static const float W[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1}, b[3] = {0, 0, 0.5f};
        int32_t x = tensor("x", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){-1, 4}, NULL, 0, NULL);
        int32_t wt = tensor("fc.w", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){3, 4}, W, sizeof W, NULL);
        int32_t bt = tensor("fc.b", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){3}, b, sizeof b, NULL);
        int32_t y = tensor("logits", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){-1, 3}, NULL, 0, NULL);
        add_op(QLITE_OP_FULLY_CONNECTED, "fc", QLITE_OPTIONS_FULLY_CONNECTED, 3,
               (int32_t[]){x, wt, bt}, 1, (int32_t[]){y}, NULL);
        save(dir, "classifier.qlite", 1, &x, 1, &y);
    }
    qlite_writer_create(&w);
    {
        static const float c[4] = {1, 2, 3, 4};
        int32_t x = tensor("x", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){1, 4}, NULL, 0, NULL);
        int32_t k = tensor("c", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){1, 4}, c, sizeof c, NULL);
        int32_t y = tensor("y", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){1, 4}, NULL, 0, NULL);
        add_op(QLITE_OP_ADD, "add", QLITE_OPTIONS_BINARY, 2, (int32_t[]){x, k}, 1,
               (int32_t[]){y}, NULL);
        save(dir, "fixed.qlite", 1, &x, 1, &y);
    }
    qlite_writer_create(&w);
    {
        int32_t a = tensor("a", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL, 0, NULL);
        int32_t b = tensor("b", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL, 0, NULL);
        int32_t d = tensor("d", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL, 0, NULL);
        int32_t s = tensor("s", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL, 0, NULL);
        add_op(QLITE_OP_SUB, "sub", QLITE_OPTIONS_BINARY, 2, (int32_t[]){a, b}, 1,
               (int32_t[]){d}, NULL);
        add_op(QLITE_OP_ADD, "add", QLITE_OPTIONS_BINARY, 2, (int32_t[]){a, b}, 1,
               (int32_t[]){s}, NULL);
        save(dir, "two_inputs.qlite", 2, (int32_t[]){a, b}, 2, (int32_t[]){d, s});
    }
    qlite_writer_create(&w);
    {
        static const float scale = 0.5f;
        static const int32_t zp = -1;
        qlite_quant q = {.count = 1, .scale = &scale, .zero_point = &zp};
        int32_t x = tensor("q", QLITE_DTYPE_INT8, 2, (int64_t[]){-1, 3}, NULL, 0, &q);
        int32_t r = tensor("r", QLITE_DTYPE_INT8, 2, (int64_t[]){-1, 3}, NULL, 0, &q);
        qlite_op_options o;
        qlite_op_options_default(QLITE_OPTIONS_RESHAPE, &o);
        o.u.reshape.rank = 2;
        o.u.reshape.new_shape = (int64_t[]){-1, 3};
        add_op(QLITE_OP_RESHAPE, "reshape", QLITE_OPTIONS_RESHAPE, 1, &x, 1, &r, &o);
        save(dir, "int8_in.qlite", 1, &x, 1, &r);
    }
    qlite_writer_create(&w);
    {
        int32_t x = tensor("x", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){1}, NULL, 0, NULL);
        int32_t y = tensor("y", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){1}, NULL, 0, NULL);
        add_op(QLITE_OP_EMBEDDING_BAG, "bag", QLITE_OPTIONS_NONE, 1, &x, 1, &y, NULL);
        save(dir, "unsupported.qlite", 1, &x, 1, &y);
    }
    return failed;
}
