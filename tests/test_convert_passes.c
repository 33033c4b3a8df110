/*
 * test_convert_passes.c — each converter pass on a small ONNX graph
 * (tests/data/onnx/, made by make_fixtures.py; expected outputs computed
 * there with NumPy): the rewrite happened (op counts, report counters) and
 * the converted model computes what NumPy computed (relative 1e-5).
 */
#include "test_convert_util.h"

#define TOL 1e-5f

/* BatchNormalization folded into the Conv; ReLU fused; result = NumPy's
 * conv -> (x - mean) / sqrt(var + eps) * gamma + beta -> relu. */
static void test_batchnorm_folding(void **state) {
    (void)state;
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("bn_fold", NULL, &size, &r);
    assert_int_equal(ct_rewrites(r, "BatchNormalization folded into Conv/Gemm"), 1);
    assert_int_equal(ct_rewrites(r, "activations fused into their producer"), 1);
    assert_int_equal(qlite_convert_report_ops_of(r, QLITE_OP_CONV_2D), 1);
    assert_int_equal(qlite_convert_report_ops_of(r, QLITE_OP_MUL), 0);
    assert_int_equal(qlite_convert_report_ops_of(r, QLITE_OP_BATCH_NORM), 0);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_op_info *conv = NULL;
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++)
        if (qlite_model_op(m, i)->code == QLITE_OP_CONV_2D) conv = qlite_model_op(m, i);
    assert_non_null(conv);
    assert_int_equal(conv->options.u.conv2d.activation, QLITE_ACT_RELU);
    /* weight in qlite's [O, KH, KW, I] layout */
    const qlite_tensor_info *w = qlite_model_tensor(m, (uint32_t)conv->inputs[1]);
    assert_int_equal(w->rank, 4);
    assert_int_equal(w->shape[0], 4);
    assert_int_equal(w->shape[1], 3);
    assert_int_equal(w->shape[2], 3);
    assert_int_equal(w->shape[3], 3);
    qlite_model_close(m);
    ct_check_numeric(b, size, "bn_fold", TOL);
    qlite_convert_free_bytes(b);
    qlite_convert_report_free(r);
}

/* conv -> relu -> add -> depthwise -> maxpool -> softmax(axis=1): everything
 * runs NHWC; only the model input and output transposes remain. */
static void test_layout_transposes_cancel(void **state) {
    (void)state;
    size_t size;
    void *b = ct_convert("layout", NULL, &size, NULL);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    assert_int_equal(ct_count_ops(m, QLITE_OP_TRANSPOSE), 2);
    assert_int_equal(ct_count_ops(m, QLITE_OP_DEPTHWISE_CONV_2D), 1);
    /* the softmax now runs over the channels of an NHWC tensor: axis 3 */
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        if (op->code == QLITE_OP_SOFTMAX) assert_int_equal(op->options.u.softmax.axis, 3);
        if (op->code == QLITE_OP_ADD) { /* the [C,1,1] constant became [1,1,1,C] */
            const qlite_tensor_info *c = qlite_model_tensor(m, (uint32_t)op->inputs[1]);
            assert_int_equal(c->rank, 4);
            assert_int_equal(c->shape[3], 4);
        }
    }
    /* inputs and outputs keep the declared NCHW layout */
    const qlite_tensor_info *in = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, 0));
    assert_string_equal(in->name, "x");
    assert_int_equal(in->shape[1], 2);
    qlite_model_close(m);
    ct_check_numeric(b, size, "layout", TOL);
    qlite_convert_free_bytes(b);
}

/* --nhwc-io: the input becomes [1,6,6,2] and no transpose is left. */
static void test_nhwc_io(void **state) {
    (void)state;
    qlite_convert_options o = {0};
    o.nhwc_io = true;
    size_t size;
    void *b = ct_convert("layout", &o, &size, NULL);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    assert_int_equal(ct_count_ops(m, QLITE_OP_TRANSPOSE), 0);
    const qlite_tensor_info *in = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, 0));
    const qlite_tensor_info *out = qlite_model_tensor(m, (uint32_t)qlite_model_output(m, 0));
    assert_string_equal(in->name, "x");
    assert_string_equal(out->name, "y");
    int64_t in_nhwc[4] = {1, 6, 6, 2}, out_nhwc[4] = {1, 3, 3, 4};
    assert_memory_equal(in->shape, in_nhwc, sizeof in_nhwc);
    assert_memory_equal(out->shape, out_nhwc, sizeof out_nhwc);
    assert_string_equal(qlite_model_metadata_get(m, "io_layout"), "nhwc");
    qlite_model_close(m);
    qlite_convert_free_bytes(b);
}

/* Shape -> Gather -> Unsqueeze -> Concat -> Reshape of a dynamic batch folds
 * to RESHAPE [-1, 24]; MatMul + Add becomes one FULLY_CONNECTED with bias. */
static void test_shape_chain_folding(void **state) {
    (void)state;
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("shape_chain", NULL, &size, &r);
    assert_int_equal(ct_rewrites(r, "constant nodes folded"), 4);
    assert_int_equal(ct_rewrites(r, "bias Add fused into FULLY_CONNECTED"), 1);
    assert_int_equal(qlite_convert_report_op_count(r), 2);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_op_info *rs = qlite_model_op(m, 0);
    assert_int_equal(rs->code, QLITE_OP_RESHAPE);
    assert_int_equal(rs->options.u.reshape.rank, 2);
    assert_int_equal(rs->options.u.reshape.new_shape[0], -1);
    assert_int_equal(rs->options.u.reshape.new_shape[1], 24);
    const qlite_op_info *fc = qlite_model_op(m, 1);
    assert_int_equal(fc->code, QLITE_OP_FULLY_CONNECTED);
    assert_true(fc->num_inputs == 3 && fc->inputs[2] >= 0);
    /* inferred shapes: the output keeps the dynamic batch */
    const qlite_tensor_info *y = qlite_model_tensor(m, (uint32_t)qlite_model_output(m, 0));
    assert_int_equal(y->shape[0], -1);
    assert_int_equal(y->shape[1], 5);
    qlite_model_close(m);
    ct_check_numeric(b, size, "shape_chain", TOL); /* batch 3 */
    qlite_convert_free_bytes(b);
    qlite_convert_report_free(r);
}

/* Decomposed LayerNorm and erf-form Gelu become LAYER_NORM and GELU. */
static void test_layernorm_gelu_patterns(void **state) {
    (void)state;
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("ln_gelu", NULL, &size, &r);
    assert_int_equal(qlite_convert_report_op_count(r), 2);
    assert_int_equal(qlite_convert_report_ops_of(r, QLITE_OP_LAYER_NORM), 1);
    assert_int_equal(qlite_convert_report_ops_of(r, QLITE_OP_GELU), 1);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_op_info *ln = qlite_model_op(m, 0);
    assert_int_equal(ln->code, QLITE_OP_LAYER_NORM);
    assert_int_equal(ln->options.u.norm.axis, 2);
    assert_true(fabsf(ln->options.u.norm.epsilon - 1e-5f) < 1e-9f);
    assert_false(qlite_model_op(m, 1)->options.u.activation.approximate);
    qlite_model_close(m);
    ct_check_numeric(b, size, "ln_gelu", TOL);
    qlite_convert_free_bytes(b);
    qlite_convert_report_free(r);
}

/* Opset 9: Gemm(transB=1, alpha=0.5, beta=2) -> FULLY_CONNECTED with the
 * scales folded; Clip attributes (-1, 1) fused as RELU_N1_TO_1; Squeeze /
 * Unsqueeze axes attributes. */
static void test_gemm_clip_opset9(void **state) {
    (void)state;
    size_t size;
    void *b = ct_convert("gemm_clip", NULL, &size, NULL);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    assert_int_equal(qlite_model_op_count(m), 1);
    const qlite_op_info *fc = qlite_model_op(m, 0);
    assert_int_equal(fc->code, QLITE_OP_FULLY_CONNECTED);
    assert_int_equal(fc->options.u.fully_connected.activation, QLITE_ACT_RELU_N1_TO_1);
    const qlite_tensor_info *w = qlite_model_tensor(m, (uint32_t)fc->inputs[1]);
    assert_int_equal(w->shape[0], 3);
    assert_int_equal(w->shape[1], 6);
    qlite_model_close(m);
    ct_check_numeric(b, size, "gemm_clip", TOL);
    qlite_convert_free_bytes(b);
}

/* 1-D convolutions run as 2-D with H = 1; the reshapes and transposes
 * between them cancel, the ReLU is fused. */
static void test_conv1d(void **state) {
    (void)state;
    size_t size;
    void *b = ct_convert("conv1d", NULL, &size, NULL);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    assert_int_equal(ct_count_ops(m, QLITE_OP_CONV_2D), 2);
    assert_int_equal(ct_count_ops(m, QLITE_OP_TRANSPOSE), 2);
    assert_int_equal(ct_count_ops(m, QLITE_OP_RESHAPE), 2);
    assert_int_equal(ct_count_ops(m, QLITE_OP_RELU), 0);
    qlite_model_close(m);
    ct_check_numeric(b, size, "conv1d", TOL);
    qlite_convert_free_bytes(b);
}

/* Weights in external.bin at offset 16. */
static void test_external_data(void **state) {
    (void)state;
    size_t size;
    void *b = ct_convert("external", NULL, &size, NULL);
    ct_check_numeric(b, size, "external", TOL);
    qlite_convert_free_bytes(b);
}

/* A batch_first LSTM as PyTorch exports it at opset 13: the time-major
 * transpose in front disappears (the LSTM runs batch first, so the dynamic
 * batch stays in dim 0), the zero initial states made by
 * ConstantOfShape(Shape(x)) become absent inputs, Gather(Y_h) reads axis 1. */
static void test_lstm_batch_first(void **state) {
    (void)state;
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("lstm_bf", NULL, &size, &r);
    assert_int_equal(ct_rewrites(r, "recurrent layers made batch-first"), 1);
    qlite_convert_report_free(r);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    assert_int_equal(ct_count_ops(m, QLITE_OP_TRANSPOSE), 0);
    assert_int_equal(ct_count_ops(m, QLITE_OP_LSTM), 1);
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        if (op->code != QLITE_OP_LSTM) continue;
        assert_true(op->options.u.rnn.batch_first);
        assert_int_equal(op->inputs[5], -1); /* initial_h */
        assert_int_equal(op->inputs[6], -1); /* initial_c */
    }
    const qlite_tensor_info *x = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, 0));
    assert_int_equal(x->shape[0], -1);
    qlite_model_close(m);
    ct_check_numeric(b, size, "lstm_bf", TOL);
    qlite_convert_free_bytes(b);
}

/* Producer and metadata. */
static void test_metadata(void **state) {
    (void)state;
    size_t size;
    void *b = ct_convert("gemm_clip", NULL, &size, NULL);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    assert_non_null(strstr(qlite_model_producer(m), "qlite-convert"));
    assert_non_null(strstr(qlite_model_producer(m), "mode=float32"));
    assert_string_equal(qlite_model_metadata_get(m, "mode"), "float32");
    assert_string_equal(qlite_model_metadata_get(m, "onnx_opset"), "9");
    assert_string_equal(qlite_model_metadata_get(m, "source_file"), "gemm_clip.onnx");
    assert_int_equal(strlen(qlite_model_metadata_get(m, "source_sha256")), 64);
    /* op names are the ONNX node names */
    assert_string_equal(qlite_model_op(m, 0)->name, "gemm");
    qlite_model_close(m);
    qlite_convert_free_bytes(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm_folding),
        cmocka_unit_test(test_layout_transposes_cancel),
        cmocka_unit_test(test_nhwc_io),
        cmocka_unit_test(test_shape_chain_folding),
        cmocka_unit_test(test_layernorm_gelu_patterns),
        cmocka_unit_test(test_gemm_clip_opset9),
        cmocka_unit_test(test_conv1d),
        cmocka_unit_test(test_external_data),
        cmocka_unit_test(test_lstm_batch_first),
        cmocka_unit_test(test_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
