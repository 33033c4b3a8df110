/*
 * kernel_f32_check.h — helpers for the float kernel tests (test_kernel_*.c).
 *
 * Tolerance used everywhere: a float result computed by summing n products
 * (any order, with or without FMA) differs from the exact sum by at most
 * gamma_n * sum|terms|, gamma_n = n*u/(1-n*u), u = 2^-24 (Higham, "Accuracy and
 * Stability of Numerical Algorithms", 3.1). The tests compute the exact
 * value in double together with mag = sum|terms| and allow
 * (n + 2) * FLT_EPSILON * mag (FLT_EPSILON = 2u: twice the bound, the +2
 * covering the bias add and the final rounding) plus a tiny absolute slack.
 */
#ifndef QLITE_KERNEL_F32_CHECK_H
#define QLITE_KERNEL_F32_CHECK_H

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "support/op_runner.h"

#define KC_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static inline void kc_fill(qlite_test_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = qlite_test_rng_float(r, lo, hi);
}

static inline float *kc_alloc(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

static inline double *kc_alloc_d(size_t n) {
    double *p = calloc(n ? n : 1, sizeof(double));
    assert_non_null(p);
    return p;
}

/* Checks got[i] against want[i] with the summation bound above. */
static inline void kc_check_sum(const char *what, const float *got, const double *want,
                                const double *mag, size_t count, double terms) {
    for (size_t i = 0; i < count; i++) {
        if ((double)got[i] == want[i]) continue; /* exact, infinities included */
        const double tol = (terms + 2.0) * FLT_EPSILON * mag[i] + 1e-30;
        const double err = fabs((double)got[i] - want[i]);
        if (!(err <= tol)) {
            print_error("%s: element %zu is %.9g, expected %.9g (err %.3g > tol %.3g)\n", what, i,
                        (double)got[i], want[i], err, tol);
            fail();
        }
    }
}

/* |got - want| <= atol + rtol * |want| elementwise. */
static inline void kc_check_close(const char *what, const float *got, const float *want,
                                  size_t count, double atol, double rtol) {
    for (size_t i = 0; i < count; i++) {
        const double err = fabs((double)got[i] - (double)want[i]);
        if (!(err <= atol + rtol * fabs((double)want[i]))) {
            print_error("%s: element %zu is %.9g, expected %.9g (err %.3g)\n", what, i,
                        (double)got[i], (double)want[i], err);
            fail();
        }
    }
}

/* Bitwise equality (thread-count independence, optimized == optimized). */
static inline void kc_check_equal(const char *what, const float *a, const float *b,
                                  size_t count) {
    if (memcmp(a, b, count * sizeof(float)) != 0) {
        for (size_t i = 0; i < count; i++) {
            if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
                print_error("%s: element %zu differs: %.9g vs %.9g\n", what, i, (double)a[i],
                            (double)b[i]);
                break;
            }
        }
        fail();
    }
}

/* A float32 activation / constant tensor description for the op runner. */
static inline qlite_op_test_tensor kc_tensor(uint32_t rank, const int64_t *shape, const float *data,
                                             bool is_const) {
    qlite_op_test_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = QLITE_DTYPE_FLOAT32;
    t.rank = rank;
    for (uint32_t i = 0; i < rank; i++) t.shape[i] = shape[i];
    t.data = data;
    t.is_const = is_const;
    return t;
}

static inline qlite_op_test_tensor kc_absent(void) {
    qlite_op_test_tensor t;
    memset(&t, 0, sizeof t);
    t.absent = true;
    return t;
}

/* Clamp range of a fused activation, as the schema defines them. */
static inline void kc_act_range(qlite_activation act, float *lo, float *hi) {
    *lo = -FLT_MAX;
    *hi = FLT_MAX;
    if (act == QLITE_ACT_RELU) *lo = 0.0f;
    if (act == QLITE_ACT_RELU6) { *lo = 0.0f; *hi = 6.0f; }
    if (act == QLITE_ACT_RELU_N1_TO_1) { *lo = -1.0f; *hi = 1.0f; }
}

/* Options of a type with the schema's defaults (the tests do not depend on
 * the model reader for them). */
static inline qlite_op_options kc_options(qlite_options_type type) {
    qlite_op_options o;
    memset(&o, 0, sizeof o);
    o.type = type;
    switch (type) {
    case QLITE_OPTIONS_CONV_2D:
        o.u.conv2d.stride_h = o.u.conv2d.stride_w = 1;
        o.u.conv2d.dilation_h = o.u.conv2d.dilation_w = 1;
        o.u.conv2d.groups = 1;
        break;
    case QLITE_OPTIONS_POOL_2D:
        o.u.pool2d.stride_h = o.u.pool2d.stride_w = 1;
        o.u.pool2d.dilation_h = o.u.pool2d.dilation_w = 1;
        break;
    case QLITE_OPTIONS_FULLY_CONNECTED: o.u.fully_connected.keep_num_dims = true; break;
    case QLITE_OPTIONS_RESIZE: o.u.resize.cubic_coeff_a = -0.75f; break;
    default: break;
    }
    return o;
}

#define KC_REF_ONLY QLITE_INTERP_REFERENCE_ONLY

#endif /* QLITE_KERNEL_F32_CHECK_H */
