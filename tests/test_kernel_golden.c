/*
 * test_kernel_golden.c — the compute-heavy float kernels against outputs
 * PyTorch computed (tests/data/kernels/make_golden.py: conv2d, depthwise,
 * conv_transpose2d, max/avg pooling incl. ceil_mode, interpolate, nn.LSTM and
 * nn.GRU with their gate orders converted to ONNX's), on both the optimized
 * and the reference path.
 *
 * Tolerance: 1e-4 absolute + 1e-5 relative. Inputs and weights are in
 * [-1, 1]; the largest sums have 72 terms, so each side's float error is
 * below (72 + 2) * FLT_EPSILON * 72 ~ 6e-4 in the worst case and ~1e-6 in
 * practice (random signs); 1e-4 leaves room for PyTorch's own summation
 * order and libm differences in sigmoid/tanh, and is still far below any
 * real mistake (a wrong tap, gate or coordinate moves outputs by ~0.1).
 */
#include "kernel_f32_check.h"

#define ATOL 1e-4
#define RTOL 1e-5

typedef struct garray {
    char name[16];
    int dtype; /* 0 float32, 1 int32 */
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    void *data;
    size_t count;
} garray;

typedef struct gcase {
    garray a[12];
    size_t n;
    void *blob;
} gcase;

static void load_case(const char *name, gcase *g) {
    char rel[96];
    snprintf(rel, sizeof rel, "tests/data/kernels/%s.bin", name);
    size_t size;
    uint8_t *p = qlite_test_read_file(qlite_test_source_path(rel), &size);
    if (!p) print_error("cannot read %s\n", rel);
    assert_non_null(p);
    memset(g, 0, sizeof *g);
    g->blob = p;
    assert_true(size >= 8 && memcmp(p, "QKG1", 4) == 0);
    uint32_t count;
    memcpy(&count, p + 4, 4);
    assert_true(count <= KC_COUNT(g->a));
    size_t off = 8;
    for (uint32_t i = 0; i < count; i++) {
        garray *a = &g->a[g->n++];
        assert_true(off + 1 <= size);
        const size_t len = p[off++];
        assert_true(len < sizeof a->name && off + len + 2 <= size);
        memcpy(a->name, p + off, len);
        off += len;
        a->dtype = p[off++];
        a->rank = p[off++];
        assert_true(a->rank <= QLITE_MAX_RANK && off + 8 * a->rank <= size);
        memcpy(a->dims, p + off, 8 * a->rank);
        off += 8 * a->rank;
        a->count = 1;
        for (uint32_t d = 0; d < a->rank; d++) a->count *= (size_t)a->dims[d];
        assert_true(off + 4 * a->count <= size);
        a->data = p + off; /* 4-byte elements; the test only reads them via memcpy-safe types */
        off += 4 * a->count;
    }
    assert_int_equal(off, size);
}

static const garray *get(const gcase *g, const char *name) {
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->a[i].name, name) == 0) return &g->a[i];
    return NULL;
}

/* Copies an array into aligned float storage (the blob gives no alignment). */
static float *floats(const gcase *g, const char *name) {
    const garray *a = get(g, name);
    assert_non_null(a);
    float *f = kc_alloc(a->count);
    memcpy(f, a->data, a->count * sizeof(float));
    return f;
}

static int32_t param(const gcase *g, size_t i) {
    const garray *a = get(g, "p");
    assert_non_null(a);
    assert_true(i < a->count);
    int32_t v;
    memcpy(&v, (const char *)a->data + 4 * i, 4);
    return v;
}

static qlite_op_test_tensor tensor_of(const gcase *g, const char *name, const float *data,
                                      bool is_const) {
    const garray *a = get(g, name);
    assert_non_null(a);
    return kc_tensor(a->rank, a->dims, data, is_const);
}

/* Runs the op on both paths and compares each output with PyTorch's. */
static void run_and_check(const char *what, qlite_op_code code, const qlite_op_options *o,
                          uint32_t nin, qlite_op_test_tensor *in, const gcase *g,
                          const char *const *out_names, uint32_t nout) {
    for (int pass = 0; pass < 2; pass++) {
        qlite_op_test_tensor out[3];
        float *want[3];
        for (uint32_t i = 0; i < nout; i++) {
            want[i] = floats(g, out_names[i]);
            out[i] = tensor_of(g, out_names[i], NULL, false);
        }
        assert_qlite_ok(qlite_op_test_run(code, o, nin, in, nout, out, 1, pass ? KC_REF_ONLY : 0));
        for (uint32_t i = 0; i < nout; i++) {
            char buf[96];
            snprintf(buf, sizeof buf, "%s %s (%s)", what, out_names[i],
                     pass ? "reference" : "optimized");
            kc_check_close(buf, out[i].out, want[i], get(g, out_names[i])->count, ATOL, RTOL);
            free(want[i]);
        }
        qlite_op_test_free(nout, out);
    }
}

/* conv_<i> / tconv_<i>: p = stride h, w, dilation h, w, pads top, left,
 * bottom, right, groups, then depthwise (conv) or output pads h, w (tconv). */
static void run_conv_case(const char *name, bool transpose) {
    gcase g;
    load_case(name, &g);
    float *x = floats(&g, "x"), *w = floats(&g, "w"), *b = floats(&g, "b");
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d = (qlite_conv2d_options){
        .stride_h = param(&g, 0), .stride_w = param(&g, 1), .dilation_h = param(&g, 2),
        .dilation_w = param(&g, 3), .pad_top = param(&g, 4), .pad_left = param(&g, 5),
        .pad_bottom = param(&g, 6), .pad_right = param(&g, 7), .groups = param(&g, 8)};
    qlite_op_code code;
    if (transpose) {
        o.u.conv2d.output_pad_h = param(&g, 9);
        o.u.conv2d.output_pad_w = param(&g, 10);
        code = QLITE_OP_TRANSPOSE_CONV_2D;
    } else {
        code = param(&g, 9) ? QLITE_OP_DEPTHWISE_CONV_2D : QLITE_OP_CONV_2D;
    }
    qlite_op_test_tensor in[3] = {tensor_of(&g, "x", x, false), tensor_of(&g, "w", w, true),
                                  tensor_of(&g, "b", b, true)};
    static const char *const outs[] = {"y"};
    run_and_check(name, code, &o, 3, in, &g, outs, 1);
    free(x), free(w), free(b), free(g.blob);
}

static void test_golden_conv(void **state) {
    (void)state;
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "conv_%d", i);
        run_conv_case(name, false);
    }
}

static void test_golden_transpose_conv(void **state) {
    (void)state;
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "tconv_%d", i);
        run_conv_case(name, true);
    }
}

static void test_golden_pool(void **state) {
    (void)state;
    for (int i = 0; i < 7; i++) {
        char name[32];
        snprintf(name, sizeof name, "pool_%d", i);
        gcase g;
        load_case(name, &g);
        float *x = floats(&g, "x");
        qlite_op_options o = kc_options(QLITE_OPTIONS_POOL_2D);
        o.u.pool2d = (qlite_pool2d_options){
            .filter_h = param(&g, 1), .filter_w = param(&g, 2), .stride_h = param(&g, 3),
            .stride_w = param(&g, 4), .dilation_h = param(&g, 5), .dilation_w = param(&g, 6),
            .pad_top = param(&g, 7), .pad_left = param(&g, 8), .pad_bottom = param(&g, 9),
            .pad_right = param(&g, 10), .ceil_mode = param(&g, 11) != 0,
            .count_include_pad = param(&g, 12) != 0};
        qlite_op_test_tensor in = tensor_of(&g, "x", x, false);
        static const char *const outs[] = {"y"};
        run_and_check(name, param(&g, 0) ? QLITE_OP_MAX_POOL_2D : QLITE_OP_AVERAGE_POOL_2D, &o, 1,
                      &in, &g, outs, 1);
        free(x), free(g.blob);
    }
}

static void test_golden_resize(void **state) {
    (void)state;
    for (int i = 0; i < 7; i++) {
        char name[32];
        snprintf(name, sizeof name, "resize_%d", i);
        gcase g;
        load_case(name, &g);
        float *x = floats(&g, "x"), *f = floats(&g, "f");
        qlite_op_options o = kc_options(QLITE_OPTIONS_RESIZE);
        o.u.resize.mode = (qlite_resize_mode)param(&g, 0);
        o.u.resize.coordinate_transform = (qlite_coord_transform)param(&g, 1);
        o.u.resize.nearest_mode = (qlite_nearest_mode)param(&g, 2);
        o.u.resize.out_h = param(&g, 3);
        o.u.resize.out_w = param(&g, 4);
        o.u.resize.scale_h = f[0];
        o.u.resize.scale_w = f[1];
        qlite_op_test_tensor in = tensor_of(&g, "x", x, false);
        static const char *const outs[] = {"y"};
        run_and_check(name, QLITE_OP_RESIZE, &o, 1, &in, &g, outs, 1);
        free(x), free(f), free(g.blob);
    }
}

static void test_golden_rnn(void **state) {
    (void)state;
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "rnn_%d", i);
        gcase g;
        load_case(name, &g);
        const bool gru = param(&g, 0) != 0;
        float *x = floats(&g, "x"), *w = floats(&g, "w"), *r = floats(&g, "r");
        float *b = floats(&g, "b"), *h0 = floats(&g, "h0"), *c0 = gru ? NULL : floats(&g, "c0");
        qlite_op_options o = kc_options(QLITE_OPTIONS_RNN);
        o.u.rnn.hidden_size = param(&g, 4);
        o.u.rnn.direction = param(&g, 5) ? QLITE_RNN_BIDIRECTIONAL : QLITE_RNN_FORWARD;
        o.u.rnn.batch_first = param(&g, 6) != 0;
        o.u.rnn.linear_before_reset = gru; /* PyTorch's GRU applies r after R h + b */
        qlite_op_test_tensor in[7] = {tensor_of(&g, "x", x, false), tensor_of(&g, "w", w, true),
                                      tensor_of(&g, "r", r, true), tensor_of(&g, "b", b, true),
                                      kc_absent(), tensor_of(&g, "h0", h0, false),
                                      gru ? kc_absent() : tensor_of(&g, "c0", c0, false)};
        static const char *const outs[] = {"y", "yh", "yc"};
        run_and_check(name, gru ? QLITE_OP_GRU : QLITE_OP_LSTM, &o, gru ? 6 : 7, in, &g, outs,
                      gru ? 2 : 3);
        free(x), free(w), free(r), free(b), free(h0), free(c0), free(g.blob);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_conv),
        cmocka_unit_test(test_golden_transpose_conv),
        cmocka_unit_test(test_golden_pool),
        cmocka_unit_test(test_golden_resize),
        cmocka_unit_test(test_golden_rnn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
