/*
 * kernel_q8_check.h — helpers for the int8/uint8 kernel tests
 * (tests/test_kernel_*_int8.c).
 *
 * 1. A second, independent implementation of docs/quantization.md §3 in
 *    64-bit integers, written differently from src/quant.h on purpose:
 *      srdhm(a, M0)  = floor((a * M0 + 2^30) / 2^31)      (ties toward +inf)
 *      rdbpot(x, e)  = sign(x) * floor((|x| + 2^(e-1)) / 2^e)  (ties away from 0)
 *    and the multiplier decomposition from frexp().
 * 2. The golden case tables written by tests/data/kernels/make_golden_q8.py
 *    (layout in that script's docstring).
 * 3. Small builders for quantized test tensors.
 */
#ifndef QLITE_KERNEL_Q8_CHECK_H
#define QLITE_KERNEL_Q8_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "support/golden.h"
#include "support/op_check.h"

#define Q8_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- */
/* 1. Reference arithmetic                                           */
/* ---------------------------------------------------------------- */

typedef struct q8_mult {
    int64_t m0;   /* in [2^30, 2^31), or smaller for shifts below -31, or 0 */
    int shift;    /* m = m0 * 2^(shift - 31) */
} q8_mult;

/* The doc's decomposition of a real multiplier 0 <= m < 2^30. */
static inline q8_mult q8_ref_mult(double m) {
    q8_mult r = {0, 0};
    if (m < ldexp(1.0, -31)) return r;
    int e;
    const double frac = frexp(m, &e);
    int64_t q = (int64_t)floor(ldexp(frac, 31) + 0.5);
    if (q == ((int64_t)1 << 31)) {
        q >>= 1;
        e++;
    }
    if (e < -31) {
        q >>= (-31 - e);
        e = -31;
    }
    r.m0 = q;
    r.shift = e;
    return r;
}

static inline int64_t q8_floor_div(int64_t a, int64_t b) { /* b > 0 */
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* requantize(x, M0, shift) of §3 in int64, formulated independently. */
static inline int64_t q8_ref_requantize(int64_t x, q8_mult m) {
    const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
    int64_t v = x * ((int64_t)1 << left);
    if (v > INT32_MAX) v = INT32_MAX;
    if (v < INT32_MIN) v = INT32_MIN;
    const int64_t h = q8_floor_div(v * m.m0 + ((int64_t)1 << 30), (int64_t)1 << 31);
    if (right == 0) return h;
    const int64_t half = (int64_t)1 << (right - 1);
    return h >= 0 ? (h + half) >> right : -((-h + half) >> right);
}

static inline int64_t q8_ref_rq(int64_t x, double m) {
    return q8_ref_requantize(x, q8_ref_mult(m));
}

static inline int64_t q8_clamp(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

static inline void q8_range(qlite_dtype dt, int32_t *lo, int32_t *hi) {
    *lo = dt == QLITE_DTYPE_INT8 ? -128 : 0;
    *hi = dt == QLITE_DTYPE_INT8 ? 127 : 255;
}

/* clamp(round_half_even(r / s) + zp) with a float32 division (QUANTIZE's rule). */
static inline int32_t q8_ref_quantize(float r, float s, int32_t zp, int32_t lo, int32_t hi) {
    const float q = nearbyintf(r / s); /* default rounding mode: half to even */
    return (int32_t)q8_clamp((int64_t)q + zp, lo, hi);
}

/* Fused activation range on an output (§3.1), written from the doc. */
static inline void q8_ref_act(qlite_activation act, float sy, int32_t zy, qlite_dtype dt,
                              int32_t *lo, int32_t *hi) {
    q8_range(dt, lo, hi);
    float rlo = -INFINITY, rhi = INFINITY;
    if (act == QLITE_ACT_RELU) rlo = 0.0f;
    if (act == QLITE_ACT_RELU6) rlo = 0.0f, rhi = 6.0f;
    if (act == QLITE_ACT_RELU_N1_TO_1) rlo = -1.0f, rhi = 1.0f;
    if (rlo > -INFINITY) {
        int32_t q = q8_ref_quantize(rlo, sy, zy, *lo, *hi);
        if (q > *lo) *lo = q;
    }
    if (rhi < INFINITY) {
        int32_t q = q8_ref_quantize(rhi, sy, zy, *lo, *hi);
        if (q < *hi) *hi = q;
    }
}

/* Value i of a raw int8/uint8 buffer. */
static inline int32_t q8_get(const void *p, size_t i, qlite_dtype dt) {
    return dt == QLITE_DTYPE_INT8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

static inline void q8_set(void *p, size_t i, qlite_dtype dt, int32_t v) {
    if (dt == QLITE_DTYPE_INT8) ((int8_t *)p)[i] = (int8_t)v;
    else ((uint8_t *)p)[i] = (uint8_t)v;
}

/* n random codes of the dtype (bytes). */
static inline void q8_fill(qlite_test_rng *r, void *p, size_t n, qlite_dtype dt) {
    for (size_t i = 0; i < n; i++) {
        const int32_t v = (int32_t)(qlite_test_rng_u32(r) & 0xff);
        q8_set(p, i, dt, dt == QLITE_DTYPE_INT8 ? v - 128 : v);
    }
}

/* A random scale 2^u, u uniform in [lo_exp, hi_exp). */
static inline float q8_rand_scale(qlite_test_rng *r, float lo_exp, float hi_exp) {
    return exp2f(qlite_test_rng_float(r, lo_exp, hi_exp));
}

/* A random zero point, often at the extremes or the middle of the dtype range. */
static inline int32_t q8_rand_zp(qlite_test_rng *r, qlite_dtype dt) {
    int32_t lo, hi;
    q8_range(dt, &lo, &hi);
    switch (qlite_test_rng_u32(r) % 4) {
    case 0: return lo;
    case 1: return hi;
    case 2: return (lo + hi + 1) / 2;
    default: return lo + (int32_t)(qlite_test_rng_u32(r) % (uint32_t)(hi - lo + 1));
    }
}

/* Per-tensor parameters kept alive for a qlite_quant that points at them. */
typedef struct q8_params {
    float scale;
    int32_t zp;
    qlite_quant q;
} q8_params;

static inline void q8_params_set(q8_params *p, float scale, int32_t zp) {
    p->scale = scale;
    p->zp = zp;
    memset(&p->q, 0, sizeof p->q);
    p->q.count = 1;
    p->q.scale = &p->scale;
    p->q.zero_point = &p->zp;
}

/* A quantized tensor description (p must outlive the run). */
static inline qlite_op_test_tensor q8_tensor(qlite_dtype dt, uint32_t rank, const int64_t *shape,
                                             const void *data, const q8_params *p) {
    qlite_op_test_tensor t = qt(dt, rank, shape, data);
    t.quant = p ? &p->q : NULL;
    return t;
}

static inline size_t q8_elems(uint32_t rank, const int64_t *dims) {
    size_t n = 1;
    for (uint32_t i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}

/* Output dequantized minus the real reference, in output LSBs. */
static inline double q8_err_lsb(int32_t y, float sy, int32_t zy, double want) {
    return fabs(((double)y - zy) * (double)sy - want) / (double)sy;
}

/* ---------------------------------------------------------------- */
/* 2. Golden case tables                                             */
/* ---------------------------------------------------------------- */

enum {
    QG_DTYPE = 0, QG_PARAM = 1, QG_ZA = 2, QG_ZB = 3, QG_ZY = 4,
    QG_RANK_A = 5, QG_DIMS_A = 6, QG_RANK_B = 14, QG_DIMS_B = 15,
    QG_OFF_A = 23, QG_OFF_B = 24, QG_OFF_Y = 25, QG_COUNT_Y = 26,
    QG_X0 = 27, QG_X1 = 28, QG_X2 = 29, QG_COLS = 32
};

typedef struct q8_golden {
    qlite_golden cases, scales, a, b, y;
    size_t n;
} q8_golden;

static inline void q8_golden_load(const char *set, q8_golden *g) {
    char name[64];
    const char *parts[5] = {"cases", "scales", "a", "b", "y"};
    qlite_golden *dst[5] = {&g->cases, &g->scales, &g->a, &g->b, &g->y};
    for (int k = 0; k < 5; k++) {
        snprintf(name, sizeof name, "q_%s_%s", set, parts[k]);
        assert_true(qlite_golden_load(name, dst[k]));
    }
    assert_int_equal(g->cases.dtype, QLITE_DTYPE_INT32);
    assert_int_equal(g->cases.dims[1], QG_COLS);
    assert_int_equal(g->scales.dtype, QLITE_DTYPE_FLOAT32);
    assert_int_equal(g->a.dtype, QLITE_DTYPE_INT16);
    g->n = (size_t)g->cases.dims[0];
    assert_true(g->n > 0);
}

static inline void q8_golden_free(q8_golden *g) {
    qlite_golden_free(&g->cases);
    qlite_golden_free(&g->scales);
    qlite_golden_free(&g->a);
    qlite_golden_free(&g->b);
    qlite_golden_free(&g->y);
}

static inline const int32_t *q8_case(const q8_golden *g, size_t i) {
    return (const int32_t *)g->cases.data + i * QG_COLS;
}

static inline const float *q8_case_scales(const q8_golden *g, size_t i) {
    return (const float *)g->scales.data + i * 8;
}

static inline qlite_dtype q8_case_dtype(int32_t code) {
    return code == 0 ? QLITE_DTYPE_INT8 : QLITE_DTYPE_UINT8;
}

/* Copies n int16 golden values from offset off into a raw buffer of dtype dt. */
static inline void *q8_golden_values(const qlite_golden *g, size_t off, size_t n, qlite_dtype dt) {
    assert_true(off + n <= g->count);
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) q8_set(p, i, dt, ((const int16_t *)g->data)[off + i]);
    return p;
}

/* Asserts that n output values equal the golden ones, naming the first difference. */
static inline void q8_expect_golden(const char *set, size_t c, const void *got, qlite_dtype dt,
                                    const q8_golden *g, size_t off, size_t n) {
    assert_true(off + n <= g->y.count);
    for (size_t i = 0; i < n; i++) {
        const int32_t w = ((const int16_t *)g->y.data)[off + i];
        if (q8_get(got, i, dt) != w)
            fail_msg("%s case %zu: element %zu is %d, the NumPy golden says %d", set, c, i,
                     q8_get(got, i, dt), w);
    }
}

#endif /* QLITE_KERNEL_Q8_CHECK_H */
