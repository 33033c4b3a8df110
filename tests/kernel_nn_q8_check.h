/*
 * kernel_nn_q8_check.h — helpers for the tests of the int8 / hybrid /
 * float16-weight forms of the compute-heavy kernels (test_kernel_*_q8.c,
 * test_kernel_nn_hybrid.c, test_kernel_nn_f16.c):
 *
 *   - weight quantization descriptions (per tensor / per channel, any axis)
 *     kept alive beside the qlite_quant that points at them;
 *   - the output stage of docs/quantization.md §4.1 written with the
 *     independent requantization of kernel_q8_check.h:
 *       y = clamp(zy + requantize(acc, sx * sw[c] / sy), act range)
 *     (the real multiplier computed in double from the float32 scales, in
 *     that order, as §3.1 says);
 *   - random data with the extremes (-128, 127, 0, 255) overrepresented.
 */
#ifndef QLITE_KERNEL_NN_Q8_CHECK_H
#define QLITE_KERNEL_NN_Q8_CHECK_H

#include "kernel_q8_check.h"

#define NNQ_MAX_CH 1024

/* Scales / zero points of a weight (or B operand), per tensor or per channel. */
typedef struct nnq_wparams {
    float scale[NNQ_MAX_CH];
    int32_t zp[NNQ_MAX_CH];
    qlite_quant q;
} nnq_wparams;

/* count 1 = per tensor; otherwise per channel along axis. */
static inline void nnq_wparams_init(nnq_wparams *p, uint32_t count, int32_t axis) {
    memset(&p->q, 0, sizeof p->q);
    p->q.count = count;
    p->q.axis = axis;
    p->q.scale = p->scale;
    p->q.zero_point = p->zp;
}

/* Random symmetric-style weight scales (2^-10 .. 2^-4); zero points 0 unless zp. */
static inline void nnq_wparams_random(qlite_test_rng *r, nnq_wparams *p, uint32_t count,
                                      int32_t axis, bool zp) {
    assert_true(count <= NNQ_MAX_CH);
    nnq_wparams_init(p, count, axis);
    for (uint32_t c = 0; c < count; c++) {
        p->scale[c] = q8_rand_scale(r, -10.0f, -4.0f);
        p->zp[c] = zp ? (int32_t)(qlite_test_rng_u32(r) % 61) - 30 : 0;
    }
}

static inline float nnq_wscale(const nnq_wparams *p, size_t c) {
    return p->scale[p->q.count > 1 ? c : 0];
}
static inline int32_t nnq_wzp(const nnq_wparams *p, size_t c) {
    return p->zp[p->q.count > 1 ? c : 0];
}

/* int8 weights: mostly uniform in [-127, 127], some -128 and 127. */
static inline void nnq_fill_weights(qlite_test_rng *r, int8_t *w, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const uint32_t u = qlite_test_rng_u32(r);
        w[i] = u % 16 == 0 ? (u & 16 ? 127 : -128) : (int8_t)((int32_t)((u >> 8) % 255) - 127);
    }
}

/* Activation codes: mostly uniform, often the extremes of the dtype. */
static inline void nnq_fill_codes(qlite_test_rng *r, void *p, size_t n, qlite_dtype dt) {
    int32_t lo, hi;
    q8_range(dt, &lo, &hi);
    for (size_t i = 0; i < n; i++) {
        const uint32_t u = qlite_test_rng_u32(r);
        const int32_t v = u % 8 == 0 ? (u & 8 ? hi : lo) : lo + (int32_t)((u >> 8) % 256);
        q8_set(p, i, dt, v);
    }
}

/* int32 bias in units of sx * sw[c] (as the converter writes it), |bias| < 2^range_bits. */
static inline void nnq_fill_bias(qlite_test_rng *r, int32_t *b, size_t n, int range_bits) {
    for (size_t i = 0; i < n; i++)
        b[i] = (int32_t)(qlite_test_rng_u32(r) % (2u << range_bits)) - (1 << range_bits);
}

/* §4.1's output stage for channel c. */
static inline int32_t nnq_out(int64_t acc, float sx, const nnq_wparams *w, size_t c,
                              const q8_params *py, qlite_dtype dt, qlite_activation act) {
    const double m = (double)sx * (double)nnq_wscale(w, c) / (double)py->scale;
    int32_t lo, hi;
    q8_ref_act(act, py->scale, py->zp, dt, &lo, &hi);
    return (int32_t)q8_clamp(py->zp + q8_ref_rq(acc, m), lo, hi);
}

/* The output's scale such that sx sw / sy lands near 2^-k: realistic shifts. */
static inline float nnq_out_scale(qlite_test_rng *r, float sx, float sw, size_t K) {
    const float spread = sqrtf((float)(K > 0 ? K : 1)) * 40.0f;
    return sx * sw * spread * q8_rand_scale(r, -1.0f, 1.0f);
}

/* Asserts equality of n int8/uint8 outputs, naming the first difference. */
static inline void nnq_expect_codes(const char *what, const void *got, const int32_t *want,
                                    size_t n, qlite_dtype dt) {
    for (size_t i = 0; i < n; i++)
        if (q8_get(got, i, dt) != want[i])
            fail_msg("%s: element %zu is %d, the reference says %d", what, i, q8_get(got, i, dt),
                     want[i]);
}

#endif /* QLITE_KERNEL_NN_Q8_CHECK_H */
