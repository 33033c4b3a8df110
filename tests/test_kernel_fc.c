/*
 * test_kernel_fc.c — FULLY_CONNECTED float32 through the one-op runner:
 * optimized and reference paths against a double-precision computation
 * written here (tolerance: kernel_f32_check.h summation bound), 1 vs 2
 * threads bit-identical, keep_num_dims, fused activations, batch > 1, error
 * paths.
 */
#include "kernel_f32_check.h"

typedef struct fc_case {
    uint32_t rank;
    int64_t dims[4]; /* input [..., K] */
    int64_t N;
    bool bias, keep;
    qlite_activation act;
} fc_case;

static size_t rows_of(const fc_case *c) {
    size_t m = 1;
    for (uint32_t i = 0; i + 1 < c->rank; i++) m *= (size_t)c->dims[i];
    return m;
}

static bool g_weights_const = true; /* false: weights given as an activation */

static qlite_status run_fc(const fc_case *c, const float *x, const float *w, const float *b,
                           int threads, uint32_t flags, qlite_op_test_tensor *out) {
    const int64_t K = c->dims[c->rank - 1];
    qlite_op_test_tensor in[3];
    in[0] = kc_tensor(c->rank, c->dims, x, false);
    in[1] = kc_tensor(2, (int64_t[]){c->N, K}, w, g_weights_const);
    in[2] = c->bias ? kc_tensor(1, &c->N, b, true) : kc_absent();
    int64_t od[4];
    uint32_t orank;
    if (c->keep) {
        orank = c->rank;
        memcpy(od, c->dims, sizeof od);
        od[orank - 1] = c->N;
    } else {
        orank = 2;
        od[0] = (int64_t)rows_of(c);
        od[1] = c->N;
    }
    *out = kc_tensor(orank, od, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.activation = c->act;
    o.u.fully_connected.keep_num_dims = c->keep;
    return qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, out, threads, flags);
}

static void check_case(const fc_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t M = rows_of(c), K = (size_t)c->dims[c->rank - 1], N = (size_t)c->N;
    float *x = kc_alloc(M * K), *w = kc_alloc(N * K), *b = kc_alloc(N);
    kc_fill(&r, x, M * K, -1.0f, 1.0f);
    kc_fill(&r, w, N * K, -1.0f, 1.0f);
    kc_fill(&r, b, N, -1.0f, 1.0f);
    double *want = kc_alloc_d(M * N), *mag = kc_alloc_d(M * N);
    float lo, hi;
    kc_act_range(c->act, &lo, &hi);
    for (size_t m = 0; m < M; m++) {
        for (size_t n = 0; n < N; n++) {
            double s = c->bias ? b[n] : 0.0, mg = fabs(s);
            for (size_t k = 0; k < K; k++) {
                s += (double)x[m * K + k] * w[n * K + k];
                mg += fabs((double)x[m * K + k] * w[n * K + k]);
            }
            want[m * N + n] = s < lo ? lo : (s > hi ? hi : s);
            mag[m * N + n] = mg;
        }
    }
    qlite_op_test_tensor o1, o2, oref;
    assert_qlite_ok(run_fc(c, x, w, b, 1, 0, &o1));
    assert_qlite_ok(run_fc(c, x, w, b, 2, 0, &o2));
    assert_qlite_ok(run_fc(c, x, w, b, 1, KC_REF_ONLY, &oref));
    assert_int_equal(o1.out_bytes, M * N * sizeof(float));
    kc_check_sum("fc optimized", o1.out, want, mag, M * N, (double)K);
    kc_check_sum("fc reference", oref.out, want, mag, M * N, (double)K);
    kc_check_equal("fc 1 vs 2 threads", o1.out, o2.out, M * N);
    qlite_op_test_tensor ov; /* weights packed at eval, not prepare: same result */
    g_weights_const = false;
    assert_qlite_ok(run_fc(c, x, w, b, 1, 0, &ov));
    g_weights_const = true;
    kc_check_equal("fc weights at eval", o1.out, ov.out, M * N);
    qlite_op_test_free(1, &ov);
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &oref);
    free(x);
    free(w);
    free(b);
    free(want);
    free(mag);
}

static void test_fc_shapes(void **state) {
    (void)state;
    static const fc_case cases[] = {
        {2, {1, 784}, 128, true, true, QLITE_ACT_RELU},   /* MLP layer, batch 1 */
        {2, {1, 128}, 10, true, true, QLITE_ACT_NONE},
        {1, {7}, 3, false, true, QLITE_ACT_NONE},         /* rank-1 input */
        {2, {1, 1}, 1, true, true, QLITE_ACT_NONE},       /* 1x1 */
        {2, {8, 33}, 17, true, true, QLITE_ACT_RELU6},    /* batch > 1 */
        {3, {2, 5, 40}, 31, false, true, QLITE_ACT_NONE}, /* [B, T, D] kept */
        {3, {2, 5, 40}, 31, true, false, QLITE_ACT_RELU_N1_TO_1}, /* flattened */
        {2, {64, 300}, 64, true, true, QLITE_ACT_NONE},
        {2, {3, 0}, 5, true, true, QLITE_ACT_RELU},       /* K = 0: bias only */
        {4, {2, 3, 2, 16}, 48, true, true, QLITE_ACT_NONE},
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_case(&cases[i], 10 + i);
}

static void test_fc_random(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 0xfc);
    for (int t = 0; t < 30; t++) {
        fc_case c = {.rank = 2, .dims = {1 + qlite_test_rng_u32(&r) % 20,
                                         1 + qlite_test_rng_u32(&r) % 300},
                     .N = 1 + qlite_test_rng_u32(&r) % 80, .bias = qlite_test_rng_u32(&r) & 1,
                     .keep = true, .act = (qlite_activation)(qlite_test_rng_u32(&r) % 4)};
        check_case(&c, 1000 + (uint64_t)t);
    }
}

static void test_fc_errors(void **state) {
    (void)state;
    float x[12] = {0}, w[12] = {0}, b[4] = {0};
    qlite_op_test_tensor in[3], out;
    qlite_op_options o = kc_options(QLITE_OPTIONS_FULLY_CONNECTED);

    /* weights [4, 3] against 4 input features */
    in[0] = kc_tensor(2, (int64_t[]){3, 4}, x, false);
    in[1] = kc_tensor(2, (int64_t[]){4, 3}, w, true);
    in[2] = kc_absent();
    out = kc_tensor(2, (int64_t[]){3, 4}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    assert_non_null(strstr(qlite_last_error(), "FULLY_CONNECTED"));

    /* bias of the wrong length */
    in[1] = kc_tensor(2, (int64_t[]){3, 4}, w, true);
    in[2] = kc_tensor(1, (int64_t[]){4}, b, true);
    out = kc_tensor(2, (int64_t[]){3, 3}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);

    /* output declared with the wrong shape */
    in[2] = kc_absent();
    out = kc_tensor(2, (int64_t[]){3, 5}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);

    /* an int32 input is invalid */
    out = kc_tensor(2, (int64_t[]){3, 3}, NULL, false);
    in[0].dtype = QLITE_DTYPE_INT32;
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);

    /* int8 x int8 goes to the integer kernel (fully_connected_q8.c, tested in
     * test_kernel_fc_q8.c), which needs quantization parameters */
    in[0].dtype = QLITE_DTYPE_INT8;
    in[1].dtype = QLITE_DTYPE_INT8;
    out.dtype = QLITE_DTYPE_INT8;
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qlite_last_error(), "quantization parameters"));

    /* float output dtype mismatch */
    in[0].dtype = QLITE_DTYPE_FLOAT32;
    in[1].dtype = QLITE_DTYPE_FLOAT32;
    out.dtype = QLITE_DTYPE_INT32;
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);

    /* missing weights */
    out.dtype = QLITE_DTYPE_FLOAT32;
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 1, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_shapes),
        cmocka_unit_test(test_fc_random),
        cmocka_unit_test(test_fc_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
