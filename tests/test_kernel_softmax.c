/*
 * test_kernel_softmax.c — SOFTMAX / LOG_SOFTMAX against PyTorch float64
 * goldens (rows offset by +-1000 that a naive exp() would overflow; a middle
 * axis), against a double-precision reference written here for every axis and
 * beta, threads, special values and hostile options.
 * Tolerance: softmax 1e-7 absolute + 1e-5 relative; log-softmax 2e-5 absolute.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "support/golden.h"
#include "support/op_check.h"
#include "support.h"

static qlite_status run_softmax(qlite_op_code code, int32_t axis, float beta, uint32_t rank,
                                const int64_t *shape, const float *x, qlite_op_test_tensor *out,
                                int threads) {
    qlite_op_options o = qopts(QLITE_OPTIONS_SOFTMAX);
    o.u.softmax.axis = axis;
    o.u.softmax.beta = beta;
    qlite_op_test_tensor in = qt_f32(rank, shape, x);
    *out = qt_f32(rank, shape, NULL);
    return qlite_op_test_run(code, &o, 1, &in, 1, out, threads, 0);
}

static void check_golden(qlite_op_code code, const char *xname, const char *yname, int32_t axis,
                         double atol, double rtol) {
    qlite_golden x, want;
    assert_true(qlite_golden_load(xname, &x));
    assert_true(qlite_golden_load(yname, &want));
    qlite_op_test_tensor out;
    assert_qlite_ok(run_softmax(code, axis, 1.0f, x.rank, x.dims, x.data, &out, 1));
    assert_int_equal(qlite_golden_mismatch_f32(out.out, want.data, want.count, atol, rtol),
                     want.count);
    qlite_op_test_free(1, &out);
    qlite_golden_free(&x);
    qlite_golden_free(&want);
}

static void test_golden(void **state) {
    (void)state;
    check_golden(QLITE_OP_SOFTMAX, "b_softmax_x", "b_softmax_last", -1, 1e-7, 1e-5);
    check_golden(QLITE_OP_SOFTMAX, "b_softmax_x", "b_softmax_last", 1, 1e-7, 1e-5);
    check_golden(QLITE_OP_LOG_SOFTMAX, "b_softmax_x", "b_log_softmax_last", -1, 2e-5, 1e-6);
    check_golden(QLITE_OP_SOFTMAX, "b_softmax_mid_x", "b_softmax_mid", 1, 1e-7, 1e-5);
    check_golden(QLITE_OP_LOG_SOFTMAX, "b_softmax_mid_x", "b_log_softmax_mid", -2, 2e-5, 1e-6);
}

/* Double-precision reference over any axis. */
static void ref_softmax(bool log_out, uint32_t rank, const int64_t *dims, uint32_t axis,
                        float beta, const float *x, double *y) {
    size_t outer = 1, inner = 1, n = (size_t)dims[axis];
    for (uint32_t i = 0; i < axis; i++) outer *= (size_t)dims[i];
    for (uint32_t i = axis + 1; i < rank; i++) inner *= (size_t)dims[i];
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < inner; k++) {
            double m = -INFINITY, s = 0;
            /* a compare, not fmax(): aarch64 gcc 12 -O3 crashes vectorizing an fmax
             * reduction (x has no NaN) */
            for (size_t a = 0; a < n; a++) {
                const double v = beta * (double)x[(o * n + a) * inner + k];
                m = v > m ? v : m;
            }
            for (size_t a = 0; a < n; a++) s += exp(beta * (double)x[(o * n + a) * inner + k] - m);
            for (size_t a = 0; a < n; a++) {
                size_t i = (o * n + a) * inner + k;
                double v = beta * (double)x[i] - m;
                y[i] = log_out ? v - log(s) : exp(v) / s;
            }
        }
}

static void check_ref(qlite_op_code code, uint32_t rank, const int64_t *dims, int32_t axis,
                      float beta, int threads) {
    size_t n = (size_t)qlite_shape_elements(rank, dims);
    float *x = malloc(n * sizeof *x + 4);
    double *want = malloc(n * sizeof *want + 8);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 7 + (uint64_t)rank);
    for (size_t i = 0; i < n; i++) x[i] = qlite_test_rng_float(&rng, -10.0f, 10.0f);
    uint32_t ax = (uint32_t)(axis < 0 ? axis + (int32_t)rank : axis);
    ref_softmax(code == QLITE_OP_LOG_SOFTMAX, rank, dims, ax, beta, x, want);
    qlite_op_test_tensor out;
    assert_qlite_ok(run_softmax(code, axis, beta, rank, dims, x, &out, threads));
    const float *y = out.out;
    double atol = code == QLITE_OP_SOFTMAX ? 1e-7 : 2e-5;
    for (size_t i = 0; i < n; i++)
        if (!(fabs(y[i] - want[i]) <= atol + 1e-5 * fabs(want[i])))
            fail_msg("%s axis %d beta %g: element %zu got %.9g want %.9g", qlite_op_name(code),
                     axis, (double)beta, i, (double)y[i], want[i]);
    qlite_op_test_free(1, &out);
    free(x);
    free(want);
}

static void test_axes_and_beta(void **state) {
    (void)state;
    const int64_t d3[3] = {5, 3, 4}, d1[1] = {17}, d4[4] = {2, 3, 1, 6};
    for (int code = 0; code < 2; code++) {
        qlite_op_code c = code ? QLITE_OP_LOG_SOFTMAX : QLITE_OP_SOFTMAX;
        for (int32_t axis = -3; axis < 3; axis++) check_ref(c, 3, d3, axis, 1.0f, 1);
        check_ref(c, 3, d3, -1, 0.5f, 1);
        check_ref(c, 3, d3, 0, -2.0f, 1);
        check_ref(c, 1, d1, 0, 1.0f, 1);
        for (int32_t axis = 0; axis < 4; axis++) check_ref(c, 4, d4, axis, 1.0f, 1);
    }
}

static void test_threads(void **state) {
    (void)state;
    const int64_t rows[2] = {2000, 100}, cols[3] = {6, 50, 40};
    check_ref(QLITE_OP_SOFTMAX, 2, rows, -1, 1.0f, 2);
    check_ref(QLITE_OP_LOG_SOFTMAX, 2, rows, -1, 1.0f, 2);
    check_ref(QLITE_OP_SOFTMAX, 3, cols, 1, 1.0f, 2);
    check_ref(QLITE_OP_LOG_SOFTMAX, 3, cols, 1, 1.0f, 3);
}

static void test_special_values(void **state) {
    (void)state;
    /* -inf entries get probability 0; a single element gets 1 */
    float x[4] = {-INFINITY, 0.0f, -INFINITY, 0.0f};
    qlite_op_test_tensor out;
    assert_qlite_ok(run_softmax(QLITE_OP_SOFTMAX, -1, 1.0f, 2, (int64_t[]){2, 2}, x, &out, 1));
    const float *y = out.out;
    assert_true(y[0] == 0.0f && y[1] == 1.0f && y[2] == 0.0f && y[3] == 1.0f);
    qlite_op_test_free(1, &out);
    float one = 123.0f;
    assert_qlite_ok(run_softmax(QLITE_OP_SOFTMAX, 0, 1.0f, 1, (int64_t[]){1}, &one, &out, 1));
    assert_true(((float *)out.out)[0] == 1.0f);
    qlite_op_test_free(1, &out);
    assert_qlite_ok(run_softmax(QLITE_OP_LOG_SOFTMAX, 0, 1.0f, 1, (int64_t[]){1}, &one, &out, 1));
    assert_true(((float *)out.out)[0] == 0.0f);
    qlite_op_test_free(1, &out);
}

/* The vector rows (softmax_f32_x86.c; chosen at prepare within the feature cap)
 * and the portable row, per ISA level present, on row lengths around the
 * vector widths, against double precision. Rows: uniform +-10, +-80, +-1e4
 * (max subtraction: e^1e4 overflows anything), and +-10 with -inf entries.
 * Tolerance per element, z = beta x - max (exact in double):
 *   |y - ref| <= 2^-24 (8 + |z|) ref + 2e-38
 * |z| 2^-24: the argument z is rounded to float once (z = beta*x - m in float,
 * exp's condition number is |z|); 8 ulp: exp's polynomial and 2^n (<= 2 ulp),
 * the sum (double lanes, then rounded: 1 ulp through 1/s), 1/s rounded to
 * float (0.5), the product (0.5), with margin; 2e-38: results flushed to 0 where
 * z < -87.3 (true value < 1.2e-38). */
/* max_i beta x_i in double. Not vectorized: gcc 12 for aarch64 stops with an
 * internal compiler error (vect_transform_reduction) when it vectorizes this
 * fmax reduction inside check_simd_rows at -O2/-O3. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
static double row_max_scaled(const float *x, size_t n, float beta) {
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++) m = fmax(m, beta * (double)x[i]);
    return m;
}

static void check_simd_rows(unsigned cap) {
    qlite_q8_set_feature_cap(cap);
    static const size_t lens[] = {1, 15, 16, 17, 28, 31, 32, 33, 128, 1000};
    enum { KINDS = 4 };
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 99);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (int bi = 0; bi < 2; bi++) {
            const size_t n = lens[li];
            const float beta = bi ? 0.5f : 1.0f;
            float *x = malloc(KINDS * n * sizeof *x);
            double *want = malloc(KINDS * n * sizeof *want);
            for (size_t r = 0; r < KINDS; r++)
                for (size_t i = 0; i < n; i++) {
                    const float a = r == 1 ? 80.0f : r == 2 ? 1e4f : 10.0f;
                    float v = qlite_test_rng_float(&rng, -a, a);
                    if (r == 3 && i % 3 == 1) v = -INFINITY;
                    x[r * n + i] = v;
                }
            const int64_t sh[2] = {KINDS, (int64_t)n};
            ref_softmax(false, 2, sh, 1, beta, x, want);
            qlite_op_test_tensor out;
            assert_qlite_ok(run_softmax(QLITE_OP_SOFTMAX, -1, beta, 2, sh, x, &out, 1));
            const float *y = out.out;
            for (size_t r = 0; r < KINDS; r++) {
                const double m = row_max_scaled(x + r * n, n, beta);
                for (size_t i = 0; i < n; i++) {
                    const size_t e = r * n + i;
                    const double z = beta * (double)x[e] - m;
                    const double az = isfinite(z) ? fabs(z) : 0.0; /* -inf: want 0 */
                    const double tol = ldexp(8.0 + az, -24) * want[e] + 2e-38;
                    if (!(fabs(y[e] - want[e]) <= tol))
                        fail_msg("cap %#x n %zu beta %g row %zu [%zu]: x %.9g got %.9g want %.9g",
                                 cap, n, (double)beta, r, i, (double)x[e], (double)y[e], want[e]);
                }
            }
            qlite_op_test_free(1, &out);
            free(x);
            free(want);
        }
    qlite_q8_set_feature_cap(~0u);
}

static void test_simd_portable(void **state) {
    (void)state;
    check_simd_rows(0);
}

static void test_simd_avx2(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX2)) skip();
    check_simd_rows(QLITE_Q8_F_AVX2);
}

static void test_simd_avx512(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    check_simd_rows(~0u);
}

static void test_errors(void **state) {
    (void)state;
    float x[6] = {0};
    int8_t q[6] = {0};
    int64_t sh[2] = {2, 3};
    qlite_op_test_tensor out;
    assert_int_equal(run_softmax(QLITE_OP_SOFTMAX, 2, 1.0f, 2, sh, x, &out, 1),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(run_softmax(QLITE_OP_SOFTMAX, -3, 1.0f, 2, sh, x, &out, 1),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(run_softmax(QLITE_OP_SOFTMAX, INT32_MIN, 1.0f, 2, sh, x, &out, 1),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(run_softmax(QLITE_OP_LOG_SOFTMAX, -1, NAN, 2, sh, x, &out, 1),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* int8 in, float32 out: a dtype mismatch */
    qlite_op_test_tensor in = qt(QLITE_DTYPE_INT8, 2, sh, q);
    out = qt_f32(2, sh, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    qlite_op_options o = qopts(QLITE_OPTIONS_REDUCE);
    in = qt_f32(2, sh, x);
    assert_int_equal(qlite_op_test_run(QLITE_OP_SOFTMAX, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_axes_and_beta),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_simd_portable),
        cmocka_unit_test(test_simd_avx2),
        cmocka_unit_test(test_simd_avx512),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
