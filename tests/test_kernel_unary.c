/*
 * test_kernel_unary.c — every unary op against libm in double precision
 * (tolerance stated per op), GELU (both forms) and erf against PyTorch's
 * float64 values (tests/data/kernels/b_*.npy, make_golden_b.py), option
 * handling and hostile options.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/golden.h"
#include "support/op_check.h"
#include "support.h"

typedef struct ucase {
    qlite_op_code code;
    float lo, hi;       /* input range */
    double atol, rtol;  /* tolerance against the double reference */
} ucase;

static const float ALPHA = 0.3f, BETA = 0.6f, CMIN = -1.25f, CMAX = 2.5f;

static double ref_unary(qlite_op_code code, double x) {
    switch (code) {
    case QLITE_OP_SQRT: return sqrt(x);
    case QLITE_OP_EXP: return exp(x);
    case QLITE_OP_LOG: return log(x);
    case QLITE_OP_ERF: return erf(x);
    case QLITE_OP_NEG: return -x;
    case QLITE_OP_ABS: return fabs(x);
    case QLITE_OP_RECIPROCAL: return 1.0 / x;
    case QLITE_OP_SQUARE: return x * x;
    case QLITE_OP_RELU: return x < 0 ? 0 : x;
    case QLITE_OP_RELU6: return x < 0 ? 0 : (x > 6 ? 6 : x);
    case QLITE_OP_LEAKY_RELU: return x < 0 ? ALPHA * x : x;
    case QLITE_OP_ELU: return x < 0 ? ALPHA * (exp(x) - 1.0) : x;
    case QLITE_OP_CLIP: return x < CMIN ? CMIN : (x > CMAX ? CMAX : x);
    case QLITE_OP_LOGISTIC: return 1.0 / (1.0 + exp(-x));
    case QLITE_OP_TANH: return tanh(x);
    case QLITE_OP_HARD_SIGMOID: {
        double v = ALPHA * x + BETA;
        return v < 0 ? 0 : (v > 1 ? 1 : v);
    }
    case QLITE_OP_HARD_SWISH: {
        double v = x / 6.0 + 0.5;
        return x * (v < 0 ? 0 : (v > 1 ? 1 : v));
    }
    case QLITE_OP_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    default: return NAN;
    }
}

static const ucase cases[] = {
    {QLITE_OP_SQRT, 0.0f, 100.0f, 0, 1e-7},
    {QLITE_OP_EXP, -20.0f, 20.0f, 0, 1e-6},
    {QLITE_OP_LOG, 1e-6f, 1e6f, 1e-6, 1e-6},
    {QLITE_OP_ERF, -5.0f, 5.0f, 1e-7, 1e-6},
    {QLITE_OP_NEG, -10.0f, 10.0f, 0, 0},
    {QLITE_OP_ABS, -10.0f, 10.0f, 0, 0},
    {QLITE_OP_RECIPROCAL, 0.01f, 100.0f, 0, 1e-7},
    {QLITE_OP_SQUARE, -100.0f, 100.0f, 0, 1e-7},
    {QLITE_OP_RELU, -10.0f, 10.0f, 0, 0},
    {QLITE_OP_RELU6, -10.0f, 10.0f, 0, 0},
    {QLITE_OP_LEAKY_RELU, -10.0f, 10.0f, 0, 1e-7},
    {QLITE_OP_ELU, -10.0f, 10.0f, 1e-7, 1e-6},
    {QLITE_OP_CLIP, -10.0f, 10.0f, 0, 0},
    {QLITE_OP_LOGISTIC, -30.0f, 30.0f, 1e-7, 1e-6},
    {QLITE_OP_TANH, -10.0f, 10.0f, 1e-7, 1e-6},
    {QLITE_OP_HARD_SIGMOID, -6.0f, 6.0f, 1e-7, 1e-6},
    {QLITE_OP_HARD_SWISH, -6.0f, 6.0f, 1e-6, 1e-6},
    {QLITE_OP_GELU, -8.0f, 8.0f, 1e-7, 1e-6},
};

static qlite_op_options act_opts(void) {
    qlite_op_options o = qopts(QLITE_OPTIONS_ACTIVATION);
    o.u.activation.alpha = ALPHA;
    o.u.activation.beta = BETA;
    o.u.activation.min = CMIN;
    o.u.activation.max = CMAX;
    return o;
}

static void run_case(const ucase *c, size_t n, int threads) {
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 99 + (uint64_t)c->code);
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = qlite_test_rng_float(&rng, c->lo, c->hi);
    if (n > 4 && c->lo <= 0.0f && c->hi >= 0.0f) x[0] = 0.0f;
    int64_t shape[3] = {1, (int64_t)n / 2, 2};
    if (n % 2) shape[2] = 1, shape[1] = (int64_t)n;
    qlite_op_test_tensor in = qt_f32(3, shape, x), out = qt_f32(3, shape, NULL);
    qlite_op_options o = act_opts();
    assert_qlite_ok(qlite_op_test_run(c->code, &o, 1, &in, 1, &out, threads, 0));
    const float *y = out.out;
    for (size_t i = 0; i < n; i++) {
        double want = ref_unary(c->code, x[i]);
        double err = fabs((double)y[i] - want);
        if (!(err <= c->atol + c->rtol * fabs(want)))
            fail_msg("%s(%.9g) = %.9g, want %.9g", qlite_op_name(c->code), (double)x[i],
                     (double)y[i], want);
    }
    qlite_op_test_free(1, &out);
    free(x);
}

static void test_against_libm(void **state) {
    (void)state;
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(cases); i++) {
        run_case(&cases[i], 1, 1);
        run_case(&cases[i], 1001, 1);
    }
}

static void test_threads(void **state) {
    (void)state;
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(cases); i++) run_case(&cases[i], 100001, 2);
}

/* GELU (erf and tanh forms) and erf against PyTorch in float64. */
static void check_golden(qlite_op_code code, bool approximate, const char *want_name) {
    qlite_golden x, want;
    assert_true(qlite_golden_load("b_act_x", &x));
    assert_true(qlite_golden_load(want_name, &want));
    assert_int_equal(x.count, want.count);
    qlite_op_test_tensor in = qt_f32(x.rank, x.dims, x.data), out = qt_f32(x.rank, x.dims, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_ACTIVATION);
    o.u.activation.approximate = approximate;
    assert_qlite_ok(qlite_op_test_run(code, &o, 1, &in, 1, &out, 1, 0));
    /* float32 math: a few ulp, plus an absolute floor near zero */
    assert_int_equal(qlite_golden_mismatch_f32(out.out, want.data, want.count, 1e-7, 2e-6),
                     want.count);
    qlite_op_test_free(1, &out);
    qlite_golden_free(&x);
    qlite_golden_free(&want);
}

static void test_golden_gelu_erf(void **state) {
    (void)state;
    check_golden(QLITE_OP_GELU, false, "b_gelu_erf");
    check_golden(QLITE_OP_GELU, true, "b_gelu_tanh");
    check_golden(QLITE_OP_ERF, false, "b_erf");
}

static void test_special_values(void **state) {
    (void)state;
    float x[6] = {INFINITY, -INFINITY, NAN, -0.0f, 1e-40f, -1e30f};
    int64_t sh[1] = {6};
    qlite_op_test_tensor in = qt_f32(1, sh, x), out = qt_f32(1, sh, NULL);
    /* logistic saturates cleanly at both ends */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_LOGISTIC, NULL, 1, &in, 1, &out, 1, 0));
    const float *y = out.out;
    assert_true(y[0] == 1.0f && y[1] == 0.0f && isnan(y[2]) && y[3] == 0.5f && y[5] == 0.0f);
    qlite_op_test_free(1, &out);
    /* relu keeps NaN and inf */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RELU, NULL, 1, &in, 1, &out, 1, 0));
    y = out.out;
    assert_true(isinf(y[0]) && y[1] == 0.0f && isnan(y[2]) && y[5] == 0.0f);
    qlite_op_test_free(1, &out);
    /* GELU of -inf is 0 (no inf * 0 NaN), of +inf is inf, both forms */
    for (int approx = 0; approx < 2; approx++) {
        qlite_op_options o = qopts(QLITE_OPTIONS_ACTIVATION);
        o.u.activation.approximate = approx;
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_GELU, &o, 1, &in, 1, &out, 1, 0));
        y = out.out;
        assert_true(isinf(y[0]) && y[1] == 0.0f && isnan(y[2]) && y[5] == 0.0f);
        qlite_op_test_free(1, &out);
    }
    /* erf saturates to +-1 and keeps NaN */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_ERF, NULL, 1, &in, 1, &out, 1, 0));
    y = out.out;
    assert_true(y[0] == 1.0f && y[1] == -1.0f && isnan(y[2]) && y[3] == 0.0f && y[5] == -1.0f);
    qlite_op_test_free(1, &out);
    /* CLIP without options is ONNX's unbounded clip: lowest()..max() */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_CLIP, NULL, 1, &in, 1, &out, 1, 0));
    y = out.out;
    assert_true(y[0] == FLT_MAX && y[1] == -FLT_MAX && isnan(y[2]) && y[5] == -1e30f);
    qlite_op_test_free(1, &out);
}

static void test_errors(void **state) {
    (void)state;
    float x[4] = {0};
    int8_t q[4] = {0};
    int64_t sh[1] = {4};
    qlite_op_test_tensor in = qt_f32(1, sh, x), out = qt_f32(1, sh, NULL);
    /* ops whose parameters have no meaningful schema default need options */
    assert_int_equal(qlite_op_test_run(QLITE_OP_LEAKY_RELU, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_op_test_run(QLITE_OP_HARD_SIGMOID, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    qlite_op_options o = qopts(QLITE_OPTIONS_SOFTMAX);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ELU, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_op_test_run(QLITE_OP_RELU, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o = act_opts();
    o.u.activation.min = 3.0f;
    o.u.activation.max = 2.0f;
    assert_int_equal(qlite_op_test_run(QLITE_OP_CLIP, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o = act_opts();
    o.u.activation.alpha = NAN;
    assert_int_equal(qlite_op_test_run(QLITE_OP_LEAKY_RELU, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* an output dtype other than the input's is QLITE_ERR_DTYPE (int8 -> float32,
     * float32 -> int32); an input dtype with no kernel is UNSUPPORTED_OP */
    qlite_op_test_tensor qin = qt(QLITE_DTYPE_INT8, 1, sh, q);
    assert_int_equal(qlite_op_test_run(QLITE_OP_TANH, NULL, 1, &qin, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    qlite_op_test_tensor iout = qt(QLITE_DTYPE_INT32, 1, sh, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_EXP, NULL, 1, &in, 1, &iout, 1, 0),
                     QLITE_ERR_DTYPE);
    qlite_op_test_tensor i32in = qt(QLITE_DTYPE_INT32, 1, sh, q);
    assert_int_equal(qlite_op_test_run(QLITE_OP_EXP, NULL, 1, &i32in, 1, &iout, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    /* two inputs */
    qlite_op_test_tensor two[2] = {in, in};
    assert_int_equal(qlite_op_test_run(QLITE_OP_EXP, NULL, 2, two, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_libm),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_golden_gelu_erf),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
