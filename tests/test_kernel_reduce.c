/*
 * test_kernel_reduce.c — REDUCE_MEAN/SUM/MAX/MIN against a double-precision
 * reference written here, for every axis combination of a rank-4 tensor with
 * and without keep_dims (global average/max pooling of NHWC included), large
 * rows on threads, empty reductions, NaN, hostile axes.
 * Tolerance: sum/mean 1e-6 absolute + 1e-6 relative; max/min exact.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/op_check.h"
#include "support.h"

static const qlite_op_code reduce_ops[] = {QLITE_OP_REDUCE_MEAN, QLITE_OP_REDUCE_SUM,
                                           QLITE_OP_REDUCE_MAX, QLITE_OP_REDUCE_MIN};

/* Reference: out index drops (or zeroes) reduced coords. */
static void ref_reduce(qlite_op_code code, uint32_t rank, const int64_t *dims, const bool *red,
                       const float *x, double *y, size_t out_n) {
    size_t in_n = (size_t)qlite_shape_elements(rank, dims), cnt = in_n / (out_n ? out_n : 1);
    for (size_t i = 0; i < out_n; i++)
        y[i] = code == QLITE_OP_REDUCE_MAX ? -INFINITY : code == QLITE_OP_REDUCE_MIN ? INFINITY : 0;
    for (size_t i = 0; i < in_n; i++) {
        size_t r = i, oi = 0, mul = 1;
        for (uint32_t d = rank; d-- > 0;) {
            size_t c = r % (size_t)dims[d];
            r /= (size_t)dims[d];
            if (!red[d]) {
                oi += c * mul;
                mul *= (size_t)dims[d];
            }
        }
        double v = x[i];
        if (code == QLITE_OP_REDUCE_MAX) y[oi] = fmax(y[oi], v);
        else if (code == QLITE_OP_REDUCE_MIN) y[oi] = fmin(y[oi], v);
        else y[oi] += v;
    }
    if (code == QLITE_OP_REDUCE_MEAN)
        for (size_t i = 0; i < out_n; i++) y[i] /= (double)cnt;
}

static void check_reduce(qlite_op_code code, uint32_t rank, const int64_t *dims, uint32_t naxes,
                         const int32_t *axes, bool keep, int threads) {
    size_t n = (size_t)qlite_shape_elements(rank, dims);
    float *x = malloc(n * sizeof *x + 4);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 42 + naxes);
    for (size_t i = 0; i < n; i++) x[i] = qlite_test_rng_float(&rng, -5.0f, 5.0f);
    bool red[QLITE_MAX_RANK] = {false};
    for (uint32_t k = 0; k < naxes; k++) red[axes[k] < 0 ? axes[k] + (int32_t)rank : axes[k]] = true;
    if (naxes == 0)
        for (uint32_t i = 0; i < rank; i++) red[i] = true;
    int64_t od[QLITE_MAX_RANK];
    uint32_t orank = 0;
    size_t out_n = 1;
    for (uint32_t i = 0; i < rank; i++) {
        if (!red[i]) od[orank++] = dims[i], out_n *= (size_t)dims[i];
        else if (keep) od[orank++] = 1;
    }
    double *want = malloc(out_n * sizeof *want + 8);
    ref_reduce(code, rank, dims, red, x, want, out_n);

    qlite_op_options o = qopts(QLITE_OPTIONS_REDUCE);
    o.u.reduce.count = naxes;
    o.u.reduce.axes = axes;
    o.u.reduce.keep_dims = keep;
    qlite_op_test_tensor in = qt_f32(rank, dims, x), out = qt_f32(orank, od, NULL);
    assert_qlite_ok(qlite_op_test_run(code, &o, 1, &in, 1, &out, threads, 0));
    assert_int_equal(out.out_rank, orank);
    const float *y = out.out;
    bool exact = code == QLITE_OP_REDUCE_MAX || code == QLITE_OP_REDUCE_MIN;
    for (size_t i = 0; i < out_n; i++) {
        bool ok = exact ? y[i] == (float)want[i]
                        : fabs(y[i] - want[i]) <= 1e-6 + 1e-6 * fabs(want[i]);
        if (!ok)
            fail_msg("%s naxes %u keep %d: element %zu got %.9g want %.9g", qlite_op_name(code),
                     naxes, keep, i, (double)y[i], want[i]);
    }
    qlite_op_test_free(1, &out);
    free(x);
    free(want);
}

static void test_all_axis_sets(void **state) {
    (void)state;
    const int64_t dims[4] = {2, 3, 4, 5};
    for (size_t k = 0; k < QLITE_ARRAY_SIZE(reduce_ops); k++)
        for (unsigned mask = 0; mask < 16; mask++)
            for (int keep = 0; keep < 2; keep++) {
                int32_t axes[4];
                uint32_t n = 0;
                for (int32_t a = 0; a < 4; a++)
                    if (mask & (1u << a)) axes[n++] = (mask & 8) ? a - 4 : a; /* mix negative */
                check_reduce(reduce_ops[k], 4, dims, n, axes, keep, 1);
            }
}

static void test_global_pool_and_shapes(void **state) {
    (void)state;
    const int64_t nhwc[4] = {2, 7, 7, 64}, ones[4] = {1, 1, 6, 1}, big[2] = {300, 999};
    const int32_t hw[2] = {1, 2}, w[1] = {2}, last[1] = {-1}, first[1] = {0};
    for (size_t k = 0; k < QLITE_ARRAY_SIZE(reduce_ops); k++) {
        check_reduce(reduce_ops[k], 4, nhwc, 2, hw, true, 1);   /* GlobalAveragePool */
        check_reduce(reduce_ops[k], 4, nhwc, 2, hw, false, 1);
        check_reduce(reduce_ops[k], 4, ones, 1, w, true, 1);    /* reduces a real dim */
        check_reduce(reduce_ops[k], 4, ones, 2, hw, false, 1);  /* only size-1 dims: a copy */
        check_reduce(reduce_ops[k], 2, big, 1, last, false, 2); /* long rows, threads */
        check_reduce(reduce_ops[k], 2, big, 1, first, true, 1);
        /* MobileNetV2's global pool and the first axis of a wide matrix: the inner
         * positions split between 2 and 3 threads */
        check_reduce(reduce_ops[k], 4, (const int64_t[]){2, 7, 7, 1280}, 2, hw, true, 2);
        /* one image (250 KB): split between threads since the cost counts bytes read */
        check_reduce(reduce_ops[k], 4, (const int64_t[]){1, 7, 7, 1280}, 2, hw, true, 2);
        check_reduce(reduce_ops[k], 4, (const int64_t[]){1, 4, 4, 600}, 2, hw, false, 3);
        check_reduce(reduce_ops[k], 2, big, 1, first, false, 3);
    }
}

static void test_empty_and_nan(void **state) {
    (void)state;
    float x[6] = {1.0f, NAN, 3.0f, -1.0f, -2.0f, -3.0f};
    qlite_op_options o = qopts(QLITE_OPTIONS_REDUCE);
    const int32_t ax1[1] = {1};
    o.u.reduce.count = 1;
    o.u.reduce.axes = ax1;
    o.u.reduce.keep_dims = false;
    qlite_op_test_tensor in = qt_f32(2, (int64_t[]){2, 3}, x);
    qlite_op_test_tensor out = qt_f32(1, (int64_t[]){2}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_REDUCE_MAX, &o, 1, &in, 1, &out, 1, 0));
    assert_true(isnan(((float *)out.out)[0]) && ((float *)out.out)[1] == -1.0f);
    qlite_op_test_free(1, &out);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_REDUCE_MIN, &o, 1, &in, 1, &out, 1, 0));
    assert_true(isnan(((float *)out.out)[0]) && ((float *)out.out)[1] == -3.0f);
    qlite_op_test_free(1, &out);
    /* reducing a zero-size axis: sum 0, mean NaN, max -inf, min +inf */
    in = qt_f32(3, (int64_t[]){2, 0, 3}, x);
    out = qt_f32(2, (int64_t[]){2, 3}, NULL);
    float want_first[4];
    const qlite_op_code ops[4] = {QLITE_OP_REDUCE_SUM, QLITE_OP_REDUCE_MEAN, QLITE_OP_REDUCE_MAX,
                                  QLITE_OP_REDUCE_MIN};
    want_first[0] = 0.0f, want_first[2] = -INFINITY, want_first[3] = INFINITY;
    for (int k = 0; k < 4; k++) {
        assert_qlite_ok(qlite_op_test_run(ops[k], &o, 1, &in, 1, &out, 1, 0));
        const float *y = out.out;
        for (int i = 0; i < 6; i++)
            assert_true(k == 1 ? isnan(y[i]) : y[i] == want_first[k]);
        qlite_op_test_free(1, &out);
    }
}

static void test_errors(void **state) {
    (void)state;
    float x[6] = {0};
    qlite_op_test_tensor in = qt_f32(2, (int64_t[]){2, 3}, x);
    qlite_op_test_tensor out = qt_f32(1, (int64_t[]){2}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_REDUCE);
    const int32_t bad[1] = {2}, neg[1] = {-3}, dup[2] = {1, -1}, huge[1] = {INT32_MIN};
    o.u.reduce.count = 1;
    o.u.reduce.axes = bad;
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_SUM, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.reduce.axes = neg;
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_SUM, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.reduce.axes = huge;
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_MEAN, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.reduce.count = 2;
    o.u.reduce.axes = dup;
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_MAX, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.reduce.axes = NULL; /* a count with no array */
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_MAX, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* options are required (keep_dims and axes have no safe guess) */
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_MIN, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_axis_sets),
        cmocka_unit_test(test_global_pool_and_shapes),
        cmocka_unit_test(test_empty_and_nan),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
