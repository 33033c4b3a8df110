/*
 * test_kernel_norm.c — LAYER_NORM against PyTorch float64 goldens (inputs
 * offset by 500 so that a one-pass variance would lose digits; one and two
 * normalized axes; with and without beta) and BATCH_NORM against a double
 * reference written here (constant and run-time parameters), plus threads and
 * hostile shapes/options.
 * Tolerance: 1e-5 absolute + 1e-5 relative (PyTorch's own float32 kernel is
 * within the same bound of its float64 result).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "support/golden.h"
#include "support/op_check.h"
#include "support.h"

static qlite_op_options norm_opts(int32_t axis, float eps) {
    qlite_op_options o = qopts(QLITE_OPTIONS_NORM);
    o.u.norm.axis = axis;
    o.u.norm.epsilon = eps;
    return o;
}

static void check_ln(int32_t axis, float eps, const char *gname, const char *bname,
                     const char *want_name, int threads) {
    qlite_golden x, g, b = {0}, want;
    assert_true(qlite_golden_load("b_ln_x", &x));
    assert_true(qlite_golden_load(gname, &g));
    if (bname) assert_true(qlite_golden_load(bname, &b));
    assert_true(qlite_golden_load(want_name, &want));
    qlite_op_test_tensor in[3] = {qt_f32(x.rank, x.dims, x.data),
                                  qt_const(QLITE_DTYPE_FLOAT32, g.rank, g.dims, g.data),
                                  qt_const(QLITE_DTYPE_FLOAT32, b.rank, b.dims, b.data)};
    in[2].absent = bname == NULL;
    qlite_op_test_tensor out = qt_f32(x.rank, x.dims, NULL);
    qlite_op_options o = norm_opts(axis, eps);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, threads, 0));
    assert_int_equal(qlite_golden_mismatch_f32(out.out, want.data, want.count, 1e-5, 1e-5),
                     want.count);
    qlite_op_test_free(1, &out);
    /* the optional beta may also be left off the input list entirely */
    if (!bname) {
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 2, in, 1, &out, threads, 0));
        assert_int_equal(qlite_golden_mismatch_f32(out.out, want.data, want.count, 1e-5, 1e-5),
                         want.count);
        qlite_op_test_free(1, &out);
    }
    qlite_golden_free(&x);
    qlite_golden_free(&g);
    qlite_golden_free(&b);
    qlite_golden_free(&want);
}

static void test_layer_norm_golden(void **state) {
    (void)state;
    check_ln(-1, 1e-5f, "b_ln_gamma1", "b_ln_beta1", "b_ln_last", 1);
    check_ln(2, 1e-5f, "b_ln_gamma1", "b_ln_beta1", "b_ln_last", 2);
    check_ln(1, 1e-3f, "b_ln_gamma2", NULL, "b_ln_two_axes_nobeta", 1);
    check_ln(-2, 1e-3f, "b_ln_gamma2", NULL, "b_ln_two_axes_nobeta", 2);
}

static void test_layer_norm_large(void **state) {
    (void)state;
    /* many rows on threads, compared with a double reference */
    enum { R = 512, N = 384 };
    float *x = malloc(sizeof(float) * R * N), g[N], b[N];
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 5);
    for (int i = 0; i < R * N; i++) x[i] = qlite_test_rng_float(&rng, -3.0f, 3.0f) + (float)(i / N);
    for (int i = 0; i < N; i++) g[i] = qlite_test_rng_float(&rng, 0.5f, 1.5f), b[i] = (float)i / N;
    qlite_op_test_tensor in[3] = {qt_f32(2, (int64_t[]){R, N}, x),
                                  qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){N}, g),
                                  qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){N}, b)};
    qlite_op_test_tensor out = qt_f32(2, (int64_t[]){R, N}, NULL);
    qlite_op_options o = norm_opts(-1, 1e-5f);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 2, 0));
    const float *y = out.out;
    for (int r = 0; r < R; r++) {
        double m = 0, v = 0;
        for (int i = 0; i < N; i++) m += x[r * N + i];
        m /= N;
        for (int i = 0; i < N; i++) v += (x[r * N + i] - m) * (x[r * N + i] - m);
        v /= N;
        for (int i = 0; i < N; i++) {
            double want = (x[r * N + i] - m) / sqrt(v + 1e-5) * g[i] + b[i];
            if (fabs(y[r * N + i] - want) > 1e-5 + 1e-5 * fabs(want))
                fail_msg("row %d col %d: got %.9g want %.9g", r, i, (double)y[r * N + i], want);
        }
    }
    qlite_op_test_free(1, &out);
    free(x);
}

/* The vector rows (softmax_f32_x86.c; chosen at prepare within the feature cap)
 * and the portable row, per ISA level present, on row lengths around the
 * vector widths, against double precision. Rows: uniform +-3 offset by 500
 * (the mean must keep double precision: rounding it to float alone would
 * shift every output by up to 1.8e-5), +-1e4, and +-1 with beta absent.
 * Tolerance relative to the row's scale, per element:
 *   |y - ref| <= 1e-5 (|g_i| max_j |xhat_j| + |b_i|),  xhat = (x - mean) / std
 * The variance is summed in float lanes (>= 8 lanes, so <= 125 + 3 adds per
 * lane for n = 1000: <= 128 2^-24 = 7.6e-6 relative, 3.8e-6 on 1/std); the
 * centred value, the product with 1/std and the FMA add a few ulp of the
 * row's scale. */
/* Mean, 1 / std and max |xhat| of one row in double. Not vectorized: gcc 12
 * for aarch64 stops with an internal compiler error (vect_transform_reduction)
 * when it vectorizes these reductions inside check_ln_simd at -O2/-O3. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
static void ln_row_stats(const float *xr, size_t n, double *mean, double *rstd, double *xmax) {
    double m = 0, v = 0, xm = 0;
    for (size_t i = 0; i < n; i++) m += xr[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) v += (xr[i] - m) * (xr[i] - m);
    const double rs = 1.0 / sqrt(v / (double)n + 1e-5);
    for (size_t i = 0; i < n; i++) xm = fmax(xm, fabs(xr[i] - m) * rs);
    *mean = m;
    *rstd = rs;
    *xmax = xm;
}

static void check_ln_simd(unsigned cap) {
    qlite_q8_set_feature_cap(cap);
    static const size_t lens[] = {1, 15, 16, 17, 31, 32, 33, 128, 256, 1000};
    enum { KINDS = 3 };
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 17);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (int kind = 0; kind < KINDS; kind++) {
            const size_t n = lens[li], rows = 3;
            float *x = malloc(rows * n * sizeof *x), *g = malloc(n * sizeof *g),
                  *b = malloc(n * sizeof *b);
            for (size_t i = 0; i < rows * n; i++)
                x[i] = kind == 0   ? 500.0f + qlite_test_rng_float(&rng, -3.0f, 3.0f)
                       : kind == 1 ? qlite_test_rng_float(&rng, -1e4f, 1e4f)
                                   : qlite_test_rng_float(&rng, -1.0f, 1.0f);
            for (size_t i = 0; i < n; i++)
                g[i] = qlite_test_rng_float(&rng, -2.0f, 2.0f),
                b[i] = kind == 2 ? 0.0f : qlite_test_rng_float(&rng, -1.0f, 1.0f);
            const int64_t sh[2] = {(int64_t)rows, (int64_t)n};
            qlite_op_test_tensor in[3] = {
                qt_f32(2, sh, x), qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){(int64_t)n}, g),
                qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){(int64_t)n}, b)};
            in[2].absent = kind == 2;
            qlite_op_test_tensor out = qt_f32(2, sh, NULL);
            qlite_op_options o = norm_opts(-1, 1e-5f);
            assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 1, 0));
            const float *y = out.out;
            for (size_t r = 0; r < rows; r++) {
                const float *xr = x + r * n;
                double m, rstd, xm;
                ln_row_stats(xr, n, &m, &rstd, &xm);
                for (size_t i = 0; i < n; i++) {
                    const double want = (xr[i] - m) * rstd * g[i] + b[i];
                    const double tol = 1e-5 * (fabs(g[i]) * xm + fabs(b[i]));
                    if (!(fabs(y[r * n + i] - want) <= tol))
                        fail_msg("cap %#x n %zu kind %d row %zu [%zu]: got %.9g want %.9g", cap,
                                 n, kind, r, i, (double)y[r * n + i], want);
                }
            }
            qlite_op_test_free(1, &out);
            free(x);
            free(g);
            free(b);
        }
    qlite_q8_set_feature_cap(~0u);
}

static void test_layer_norm_simd_portable(void **state) {
    (void)state;
    check_ln_simd(0);
}

static void test_layer_norm_simd_avx2(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX2)) skip();
    check_ln_simd(QLITE_Q8_F_AVX2);
}

static void test_layer_norm_simd_avx512(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    check_ln_simd(~0u);
}

static void test_layer_norm_errors(void **state) {
    (void)state;
    float x[24] = {0}, g[4] = {1, 1, 1, 1};
    qlite_op_test_tensor in[3] = {qt_f32(3, (int64_t[]){2, 3, 4}, x),
                                  qt_f32(1, (int64_t[]){4}, g), qt_f32(1, (int64_t[]){4}, g)};
    qlite_op_test_tensor out = qt_f32(3, (int64_t[]){2, 3, 4}, NULL);
    qlite_op_options o = norm_opts(3, 1e-5f);
    assert_int_equal(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o = norm_opts(-4, 1e-5f);
    assert_int_equal(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o = norm_opts(1, 1e-5f); /* normalizes 12 elements: gamma of 4 does not fit */
    assert_int_equal(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    o = norm_opts(-1, -1.0f);
    assert_int_equal(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o = norm_opts(-1, 1e-5f);
    assert_int_equal(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 1, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    in[1].absent = true; /* gamma is required */
    assert_int_equal(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

static void check_bn(bool constant, int threads, int64_t n, int64_t hw, int64_t c) {
    size_t total = (size_t)(n * hw * c);
    float *x = malloc(total * sizeof *x), *p = malloc(4 * (size_t)c * sizeof *p);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 11);
    for (size_t i = 0; i < total; i++) x[i] = qlite_test_rng_float(&rng, -4.0f, 4.0f);
    for (int64_t k = 0; k < c; k++) {
        p[k] = qlite_test_rng_float(&rng, 0.5f, 2.0f);          /* scale */
        p[c + k] = qlite_test_rng_float(&rng, -1.0f, 1.0f);     /* bias */
        p[2 * c + k] = qlite_test_rng_float(&rng, -1.0f, 1.0f); /* mean */
        p[3 * c + k] = qlite_test_rng_float(&rng, 0.0f, 3.0f);  /* var */
    }
    p[3 * c] = 0.0f; /* var 0: epsilon alone */
    qlite_op_test_tensor in[5];
    in[0] = qt_f32(4, (int64_t[]){n, hw, 1, c}, x);
    for (int i = 1; i < 5; i++) {
        in[i] = qt_f32(1, (int64_t[]){c}, p + (i - 1) * c);
        in[i].is_const = constant;
    }
    qlite_op_test_tensor out = qt_f32(4, (int64_t[]){n, hw, 1, c}, NULL);
    qlite_op_options o = norm_opts(-1, 1e-3f);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_BATCH_NORM, &o, 5, in, 1, &out, threads, 0));
    const float *y = out.out;
    for (size_t i = 0; i < total; i++) {
        size_t k = i % (size_t)c;
        double want = ((double)x[i] - p[2 * c + k]) / sqrt((double)p[3 * c + k] + 1e-3) * p[k] +
                      p[c + k];
        if (fabs(y[i] - want) > 1e-5 + 1e-5 * fabs(want))
            fail_msg("element %zu: got %.9g want %.9g", i, (double)y[i], want);
    }
    qlite_op_test_free(1, &out);
    free(x);
    free(p);
}

static void test_batch_norm(void **state) {
    (void)state;
    check_bn(true, 1, 2, 5, 7);
    check_bn(false, 1, 2, 5, 7);
    check_bn(true, 2, 4, 64, 96);
    check_bn(false, 3, 1, 1, 1);
}

static void test_batch_norm_errors(void **state) {
    (void)state;
    float x[12] = {0}, p[4] = {1, 1, 1, 1};
    qlite_op_test_tensor in[5] = {qt_f32(2, (int64_t[]){3, 4}, x)};
    for (int i = 1; i < 5; i++) in[i] = qt_f32(1, (int64_t[]){4}, p);
    qlite_op_test_tensor out = qt_f32(2, (int64_t[]){3, 4}, NULL);
    in[3] = qt_f32(1, (int64_t[]){3}, p); /* mean of the wrong size */
    assert_int_equal(qlite_op_test_run(QLITE_OP_BATCH_NORM, NULL, 5, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in[3] = qt_f32(1, (int64_t[]){4}, p);
    assert_int_equal(qlite_op_test_run(QLITE_OP_BATCH_NORM, NULL, 4, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    qlite_op_options o = norm_opts(-1, NAN);
    assert_int_equal(qlite_op_test_run(QLITE_OP_BATCH_NORM, &o, 5, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_BATCH_NORM, NULL, 5, in, 1, &out, 1, 0));
    qlite_op_test_free(1, &out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_norm_golden),
        cmocka_unit_test(test_layer_norm_large),
        cmocka_unit_test(test_layer_norm_simd_portable),
        cmocka_unit_test(test_layer_norm_simd_avx2),
        cmocka_unit_test(test_layer_norm_simd_avx512),
        cmocka_unit_test(test_layer_norm_errors),
        cmocka_unit_test(test_batch_norm),
        cmocka_unit_test(test_batch_norm_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
