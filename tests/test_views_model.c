/*
 * test_views_model.c — strided views on the bundled transformer
 * (models/transformer, the attention graph of issue #6: GATHER q/k/v at a
 * constant index, TRANSPOSEs around the BATCH_MATMULs).
 *
 * The ONNX model is converted here in float32 and int8 (64 calibration
 * samples of models/data/fmnist_calib.npz) and run on two test images at 1
 * and 2 threads with views (default flags) and without
 * (QLITE_INTERP_KEEP_ALL_TENSORS): the logits must be bit-identical (the
 * views change where operands are read, not the arithmetic), and the
 * interpreter must really skip ops (qlite_interpreter_elided_ops: per layer
 * the k and v GATHERs, the three TRANSPOSEs and the output TRANSPOSE the
 * second matmul writes through; the q GATHER feeds a MUL, which takes no
 * views, and stays). Fails without the feature (0 ops elided).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interpreter_internal.h"
#include "npy.h"
#include "qlite/qlite_convert.h"
#include "support.h"

static void *convert(qlite_convert_mode mode, size_t *size) {
    const char *calib[1] = {qlite_test_source_path("models/data/fmnist_calib.npz")};
    char cpath[2048];
    snprintf(cpath, sizeof cpath, "%s", calib[0]);
    const char *files[1] = {cpath};
    qlite_convert_options o = {0};
    o.mode = mode;
    if (mode == QLITE_CONVERT_INT8) {
        o.calib_files = files;
        o.num_calib_files = 1;
        o.calib_samples = 64;
    }
    void *bytes = NULL;
    char onnx[2048];
    snprintf(onnx, sizeof onnx, "%s",
             qlite_test_source_path("models/transformer/transformer.onnx"));
    qlite_status st = qlite_convert_to_memory(onnx, &o, &bytes, size, NULL);
    if (st != QLITE_OK) print_error("convert: %s\n", qlite_last_error());
    assert_int_equal(st, QLITE_OK);
    return bytes;
}

/* Logits of `batch` images (float32 [batch, 1, 28, 28]) into a malloc'd copy. */
static void *run(const qlite_model *m, uint32_t flags, int threads, const float *x,
                 int64_t batch, size_t *bytes, uint32_t *elided) {
    qlite_interpreter_options o = {0};
    o.flags = flags;
    o.num_threads = threads;
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_interpreter_create(m, &o, &it));
    const int64_t dims[4] = {batch, 1, 28, 28};
    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, 4, dims));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, (size_t)batch * 784 * sizeof(float)));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    assert_non_null(v.data);
    void *out = malloc(v.bytes);
    memcpy(out, v.data, v.bytes);
    *bytes = v.bytes;
    *elided = qlite_interpreter_elided_ops(it);
    qlite_interpreter_destroy(it);
    return out;
}

static void check(qlite_convert_mode mode) {
    size_t size;
    void *bytes = convert(mode, &size);
    qlite_model *m = NULL;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    /* per attention layer: k, v GATHERs + 3 TRANSPOSEs + the written-through one */
    uint32_t layers = 0, transposes = 0;
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        layers += qlite_model_op(m, i)->code == QLITE_OP_SOFTMAX;
        transposes += qlite_model_op(m, i)->code == QLITE_OP_TRANSPOSE;
    }
    assert_true(layers >= 1);
    /* images: the first two of the test set (float32 [N, 1, 28, 28], as the
     * accuracy evaluation feeds them) */
    qlite_npy_array xs;
    assert_qlite_ok(
        qlite_npy_read_file(qlite_test_source_path("models/data/fmnist_test_x.npy"), &xs));
    const int64_t batch = 2;
    assert_int_equal(xs.dtype, QLITE_DTYPE_FLOAT32);
    assert_true(xs.bytes >= (size_t)batch * 784 * sizeof(float));
    float *x = malloc((size_t)batch * 784 * sizeof(float));
    memcpy(x, xs.data, (size_t)batch * 784 * sizeof(float));
    qlite_npy_free(&xs);
    size_t off_bytes;
    uint32_t off_elided;
    void *off = run(m, QLITE_INTERP_KEEP_ALL_TENSORS, 1, x, batch, &off_bytes, &off_elided);
    assert_int_equal(off_elided, 0);
    for (int threads = 1; threads <= 2; threads++) {
        size_t on_bytes;
        uint32_t elided;
        void *on = run(m, 0, threads, x, batch, &on_bytes, &elided);
        print_message("%s, %d thread(s): %u of %u ops elided (%u attention layers, %u "
                      "TRANSPOSEs)\n",
                      qlite_convert_mode_name(mode), threads, elided, qlite_model_op_count(m),
                      layers, transposes);
        assert_int_equal(elided, 6 * layers);
        assert_int_equal(on_bytes, off_bytes);
        assert_memory_equal(on, off, off_bytes);
        free(on);
    }
    free(off);
    free(x);
    qlite_model_close(m);
    qlite_convert_free_bytes(bytes);
}

static void test_transformer_int8(void **state) {
    (void)state;
    check(QLITE_CONVERT_INT8);
}

static void test_transformer_float32(void **state) {
    (void)state;
    check(QLITE_CONVERT_FLOAT32);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transformer_int8),
        cmocka_unit_test(test_transformer_float32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
