/*
 * test_kernel_unary.c — every unary op against libm in double precision
 * (tolerance stated per op), GELU (both forms) and erf against PyTorch's
 * float64 values (tests/data/kernels/b_*.npy, make_golden_b.py), option
 * handling and hostile options; the SIMD rows (ERF, GELU both forms,
 * LOGISTIC, TANH: portable, AVX2+FMA, AVX-512) in ulp against double precision,
 * vector tails bit for bit against the same level's long run.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm_q8.h"
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

/* ------------------------------------------------------------------ */
/* SIMD variants (unary_f32_body.inc): each ISA level the CPU has       */
/* ------------------------------------------------------------------ */

typedef struct simd_case {
    qlite_op_code code;
    bool approximate;   /* GELU tanh form */
    double max_ulp;     /* stated bound (unary_f32_body.inc) for x >= -8 */
    double max_ulp_tail; /* and for x < -8 */
    double floor;       /* absolute error accepted anywhere (flushed tiny results) */
    const char *name;
} simd_case;

/* Double-precision references, written without the cancellations. */
static double ref_simd(const simd_case *c, double x) {
    if (isnan(x)) return x;
    switch (c->code) {
    case QLITE_OP_ERF: return erf(x);
    case QLITE_OP_TANH: return tanh(x);
    case QLITE_OP_LOGISTIC: return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
    case QLITE_OP_GELU:
        if (x == -INFINITY) return -0.0;
        if (x == INFINITY) return x;
        if (!c->approximate) return 0.5 * x * erfc(-x / sqrt(2.0));
        {
            const double u = 2.0 * sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
            return u >= 0 ? x / (1.0 + exp(-u)) : x * exp(u) / (1.0 + exp(u));
        }
    default: return NAN;
    }
}

/* |got - want| in units of the float spacing at want; results below the
 * normal range may be flushed (the kernels' exp saturates at e^-87.3), so
 * an absolute error up to 2^-125 counts as 0. NaN must meet NaN,
 * infinities must be equal. */
static double ulp_err(float got, double want, double floor) {
    if (isnan(want)) return isnan(got) ? 0.0 : INFINITY;
    if (isinf(want) || isinf(got)) return (double)got == want ? 0.0 : INFINITY;
    const float w = (float)fabs(want);
    const double d = fabs((double)got - want);
    if (d <= floor) return 0.0;
    if (w < FLT_MIN) return INFINITY;
    return d / (double)(nextafterf(w, INFINITY) - w);
}

/* The sweep: specials, the polynomial / tail boundaries (erf's 0.875 and
 * GELU's 0.875 sqrt 2, TANH's 0.5) and their neighbours, tiny and large
 * values, a log-spaced sweep of both signs and a dense grid over [-12, 12]. */
static size_t simd_inputs(float *x, size_t cap) {
    static const float special[] = {0.0f, -0.0f, 1e-40f, -1e-40f, 1e-30f, -1e-30f, 1e-7f,
                                    -1e-7f, 0.875f, -0.875f, 0.5f, -0.5f, 1.23743687f, -1.23743687f,
                                    9.3f, -9.3f, 13.2f, -13.2f, 30.0f, -30.0f, -30.5f,
                                    87.0f, -87.0f, 88.0f, -88.0f, 1e30f, -1e30f,
                                    FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, NAN};
    size_t n = 0;
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(special); i++) {
        x[n++] = special[i];
        if (isfinite(special[i]) && special[i] != 0.0f) {
            x[n++] = nextafterf(special[i], INFINITY);
            x[n++] = nextafterf(special[i], -INFINITY);
        }
    }
    for (int k = 0; k < 2000 && n + 2 <= cap; k++) { /* log-spaced 1e-6 .. 2e1, both signs */
        const float v = (float)pow(10.0, -6.0 + 7.3 * k / 2000.0);
        x[n++] = v;
        x[n++] = -v;
    }
    while (n < cap) {
        const float v = -12.0f + 24.0f * (float)(n % 20000) / 20000.0f;
        x[n++] = v;
    }
    return n;
}

static const simd_case simd_cases[] = {
    {QLITE_OP_ERF, false, 3, 3, 0x1p-125, "erf"},
    {QLITE_OP_GELU, false, 80, 170, 0x1p-120, "gelu erf"},
    {QLITE_OP_GELU, true, 80, 170, 0x1p-120, "gelu tanh"},
    {QLITE_OP_LOGISTIC, false, 3, 3, 0x1p-125, "logistic"},
    {QLITE_OP_TANH, false, 3, 3, 0x1p-125, "tanh"},
};

static float *run_simd(const simd_case *c, const float *x, size_t n, uint32_t flags) {
    int64_t sh[1] = {(int64_t)n};
    qlite_op_test_tensor in = qt_f32(1, sh, x), out = qt_f32(1, sh, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_ACTIVATION);
    o.u.activation.approximate = c->approximate;
    assert_qlite_ok(qlite_op_test_run(c->code, &o, 1, &in, 1, &out, 1, flags));
    float *y = malloc(n * sizeof *y);
    memcpy(y, out.out, n * sizeof *y);
    qlite_op_test_free(1, &out);
    return y;
}

static void check_simd_level(unsigned cap) {
    qlite_q8_set_feature_cap(cap);
    enum { N = 24200 };
    float *x = malloc(N * sizeof *x);
    const size_t total = simd_inputs(x, N);
    /* the whole sweep, and lengths around the vector widths (tails) */
    static const size_t sizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 47, 65};
    for (size_t k = 0; k < QLITE_ARRAY_SIZE(simd_cases); k++) {
        const simd_case *c = &simd_cases[k];
        float *ref = run_simd(c, x, total, QLITE_INTERP_REFERENCE_ONLY);
        float *y = run_simd(c, x, total, 0);
        double worst = 0, worst_x = 0, worst8 = 0, worst8_x = 0;
        for (size_t i = 0; i < total; i++) {
            const double e = ulp_err(y[i], ref_simd(c, x[i]), c->floor);
            if (x[i] >= -8.0f && e > worst8) worst8 = e, worst8_x = x[i];
            if (e > worst) worst = e, worst_x = x[i];
            const double bound = x[i] < -8.0f ? c->max_ulp_tail : c->max_ulp;
            if (!(e <= bound))
                fail_msg("%s(%.9g) = %.9g, want %.17g (%.2f ulp > %.1f)", c->name,
                         (double)x[i], (double)y[i], ref_simd(c, x[i]), e, bound);
            /* the portable level is the reference-only code itself */
            if (cap == 0 && memcmp(&y[i], &ref[i], sizeof y[i]) != 0)
                fail_msg("%s(%.9g): %a differs from the reference-only %a", c->name,
                         (double)x[i], (double)y[i], (double)ref[i]);
        }
        print_message("  cap %#x %-9s max %.2f ulp at %.9g; x >= -8: %.2f ulp at %.9g\n", cap,
                      c->name, worst, worst_x, worst8, worst8_x);
        free(ref);
        ref = y; /* short rows (vector tails) must match the long run's lanes */
        for (size_t s = 0; s < QLITE_ARRAY_SIZE(sizes); s++) {
            /* offset 5: the specials at an unaligned start */
            y = run_simd(c, x + 5, sizes[s], 0);
            for (size_t i = 0; i < sizes[s]; i++)
                if (isnan(y[i]) ? !isnan(ref[i + 5]) : memcmp(&y[i], &ref[i + 5], sizeof y[i]))
                    fail_msg("%s n=%zu [%zu]: %a != %a", c->name, sizes[s], i, (double)y[i],
                             (double)ref[i + 5]);
            free(y);
        }
        free(ref);
    }
    free(x);
    qlite_q8_set_feature_cap(~0u);
}

static void test_simd_portable(void **state) {
    (void)state;
    check_simd_level(0);
}

static void test_simd_avx2(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX2)) skip();
    check_simd_level(QLITE_Q8_F_AVX2);
}

static void test_simd_avx512(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    check_simd_level(~0u);
}

static void test_simd_neon(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_NEON)) skip();
    check_simd_level(QLITE_Q8_F_NEON);
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
        cmocka_unit_test(test_simd_portable),
        cmocka_unit_test(test_simd_avx2),
        cmocka_unit_test(test_simd_avx512),
        cmocka_unit_test(test_simd_neon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
