/*
 * elementwise_q8_neon.c — the ARM64 NEON row of the element-wise int8
 * variant table (elementwise_q8.h; listed in elementwise_q8.c):
 *
 *   qlite_q8_lut__neon     256-byte table lookup, 16 bytes a step: four
 *                          TBL of 64-byte quarters (an index past a
 *                          quarter gives 0), OR-ed;
 *   qlite_q8_binary__neon  ADD / SUB / MUL with the requantization fused,
 *                          16 bytes a step in four int32x4 lanes;
 *   qlite_q8_quantize__neon   QUANTIZE: FDIV by the scale (not a multiply by
 *                          its reciprocal, as quantize.c), NaN -> 0, clamp
 *                          to the range minus the zero point (exact floats),
 *                          FCVTNS (ties to even), + zero point;
 *   qlite_q8_dequantize__neon DEQUANTIZE: (float)(q - zp) * scale;
 *   qlite_q8_layer_norm__neon LAYER_NORM row (layer_norm_q8.c's steps):
 *                          sums in int32 / int64 lanes (SMLAL), then per
 *                          element T = d G Ma (SMULL) and the two 64-bit
 *                          rounding shifts (SRSHL of x - [x < 0]), 8 a step,
 *                          the tail (< 8) element by element.
 *
 * Both are bit-identical to the references (unary_q8.c, binary_q8.c's fast
 * form). The requantization rq(x) = rdbpot(srdhm(x << l, M0), r) maps onto
 * NEON one to one: SQSHL (the left shift; binary_q8.c's prepare proves it
 * never saturates), SQRDMULH (srdhm: (2 x M0 + 2^31) >> 32, ties toward
 * +inf, as src/quant.h defines it), then for r > 0 a rounding shift SRSHL by
 * -r of x - [x < 0] (rdbpot's ties away from zero: floor((x + 2^(r-1) -
 * [x < 0]) / 2^r)). Tails (< 16 elements) go through a 16-byte buffer.
 * Advanced SIMD is part of every ARMv8-A CPU; the row needs
 * QLITE_Q8_EW_F_NEON (qlite_q8_cpu_features' NEON bit) so that a feature
 * cap of 0 still reaches the portable code.
 */
#include "kernels/elementwise_q8.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <string.h>

void qlite_q8_lut__neon(const uint8_t table[256], const uint8_t *x, uint8_t *y, size_t n);
void qlite_q8_binary__neon(const qlite_q8_binary_params *p, const uint8_t *a, const uint8_t *b,
                           uint8_t *y, size_t n, qlite_q8_bshape shape);
void qlite_q8_quantize__neon(const float *x, uint8_t *y, size_t n, float scale, int32_t zp,
                             bool is_unsigned);
void qlite_q8_dequantize__neon(const uint8_t *x, float *y, size_t n, float scale, int32_t zp,
                               bool is_signed);
void qlite_q8_layer_norm__neon(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y);

typedef struct lut_tables {
    uint8x16x4_t q[4]; /* table[64 k .. 64 k + 63] */
} lut_tables;

static inline uint8x16_t lut16(const lut_tables *t, uint8x16_t v) {
    const uint8x16_t c64 = vdupq_n_u8(64);
    uint8x16_t r = vqtbl4q_u8(t->q[0], v);
    v = vsubq_u8(v, c64);
    r = vorrq_u8(r, vqtbl4q_u8(t->q[1], v));
    v = vsubq_u8(v, c64);
    r = vorrq_u8(r, vqtbl4q_u8(t->q[2], v));
    v = vsubq_u8(v, c64);
    return vorrq_u8(r, vqtbl4q_u8(t->q[3], v));
}

void qlite_q8_lut__neon(const uint8_t table[256], const uint8_t *x, uint8_t *y, size_t n) {
    lut_tables t;
    for (int k = 0; k < 4; k++) t.q[k] = vld1q_u8_x4(table + 64 * k);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const uint8x16_t v0 = vld1q_u8(x + i), v1 = vld1q_u8(x + i + 16);
        vst1q_u8(y + i, lut16(&t, v0));
        vst1q_u8(y + i + 16, lut16(&t, v1));
    }
    for (; i + 16 <= n; i += 16) vst1q_u8(y + i, lut16(&t, vld1q_u8(x + i)));
    if (i < n) {
        uint8_t buf[16] = {0};
        memcpy(buf, x + i, n - i);
        vst1q_u8(buf, lut16(&t, vld1q_u8(buf)));
        memcpy(y + i, buf, n - i);
    }
}

/* rdbpot(srdhm(x << l, m), r) per lane; l, r >= 0 (vector shift counts) */
static inline int32x4_t rq4(int32x4_t x, int32x4_t l, int32_t m, int32_t r, int32x4_t neg_r) {
    int32x4_t v = vqrdmulhq_n_s32(vqshlq_s32(x, l), m);
    if (r > 0) {
        v = vqaddq_s32(v, vshrq_n_s32(v, 31)); /* - [v < 0] */
        v = vrshlq_s32(v, neg_r);
    }
    return v;
}

/* 16 bytes as four int32x4 of (q - z) */
static inline void widen16(uint8x16_t q, bool sg, int16x8_t z, int32x4_t out[4]) {
    int16x8_t lo, hi;
    if (sg) {
        const int8x16_t s = vreinterpretq_s8_u8(q);
        lo = vmovl_s8(vget_low_s8(s));
        hi = vmovl_s8(vget_high_s8(s));
    } else {
        lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(q)));
        hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(q)));
    }
    lo = vsubq_s16(lo, z); /* |q - z| <= 255 */
    hi = vsubq_s16(hi, z);
    out[0] = vmovl_s16(vget_low_s16(lo));
    out[1] = vmovl_s16(vget_high_s16(lo));
    out[2] = vmovl_s16(vget_low_s16(hi));
    out[3] = vmovl_s16(vget_high_s16(hi));
}

typedef struct bin_consts {
    bool sg, mul, sub;
    int16x8_t za, zb;
    int32x4_t in_l, ol, neg_ra, neg_rb, neg_or, zy, lo, hi;
    int32_t ma, ra, mb, rb, om, orr;
} bin_consts;

static inline uint8x16_t binary16(const bin_consts *k, uint8x16_t qa, uint8x16_t qb) {
    int32x4_t va[4], vb[4], acc[4];
    widen16(qa, k->sg, k->za, va);
    widen16(qb, k->sg, k->zb, vb);
    for (int i = 0; i < 4; i++) {
        if (k->mul) {
            acc[i] = vmulq_s32(va[i], vb[i]); /* |product| <= 255^2 */
        } else {
            const int32x4_t ta = rq4(va[i], k->in_l, k->ma, k->ra, k->neg_ra);
            const int32x4_t tb = rq4(vb[i], k->in_l, k->mb, k->rb, k->neg_rb);
            acc[i] = k->sub ? vsubq_s32(ta, tb) : vaddq_s32(ta, tb);
        }
        int32x4_t v = rq4(acc[i], k->ol, k->om, k->orr, k->neg_or);
        v = vaddq_s32(k->zy, v);
        acc[i] = vminq_s32(vmaxq_s32(v, k->lo), k->hi);
    }
    /* lo / hi are values of the output dtype: the low byte is its code */
    const int16x8_t h0 = vcombine_s16(vmovn_s32(acc[0]), vmovn_s32(acc[1]));
    const int16x8_t h1 = vcombine_s16(vmovn_s32(acc[2]), vmovn_s32(acc[3]));
    return vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
}

void qlite_q8_binary__neon(const qlite_q8_binary_params *p, const uint8_t *a, const uint8_t *b,
                           uint8_t *y, size_t n, qlite_q8_bshape shape) {
    if (n == 0) return;
    const bin_consts k = {
        .sg = p->is_signed, .mul = p->mul, .sub = p->sub,
        .za = vdupq_n_s16((int16_t)p->za), .zb = vdupq_n_s16((int16_t)p->zb),
        .in_l = vdupq_n_s32(20), .ol = vdupq_n_s32(p->ol),
        .neg_ra = vdupq_n_s32(-p->ra), .neg_rb = vdupq_n_s32(-p->rb),
        .neg_or = vdupq_n_s32(-p->orr), .zy = vdupq_n_s32(p->zy), .lo = vdupq_n_s32(p->lo),
        .hi = vdupq_n_s32(p->hi), .ma = p->ma, .ra = p->ra, .mb = p->mb, .rb = p->rb,
        .om = p->om, .orr = p->orr};
    const bool sa = shape == QLITE_Q8_SV, sb = shape == QLITE_Q8_VS;
    const uint8x16_t da = vdupq_n_u8(a[0]), db = vdupq_n_u8(b[0]);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8x16_t qa = sa ? da : vld1q_u8(a + i), qb = sb ? db : vld1q_u8(b + i);
        vst1q_u8(y + i, binary16(&k, qa, qb));
    }
    if (i < n) {
        uint8_t ba[16] = {0}, bb[16] = {0}, by[16];
        if (!sa) memcpy(ba, a + i, n - i);
        if (!sb) memcpy(bb, b + i, n - i);
        vst1q_u8(by, binary16(&k, sa ? da : vld1q_u8(ba), sb ? db : vld1q_u8(bb)));
        memcpy(y + i, by, n - i);
    }
}

static inline int32x4_t quant4(float32x4_t x, float32x4_t s, float32x4_t lo, float32x4_t hi,
                               int32x4_t zp) {
    float32x4_t v = vdivq_f32(x, s);
    v = vbslq_f32(vceqq_f32(v, v), v, vdupq_n_f32(0.0f)); /* NaN -> 0 (FMAX keeps NaN) */
    v = vminq_f32(vmaxq_f32(v, lo), hi);
    return vaddq_s32(vcvtnq_s32_f32(v), zp);
}

void qlite_q8_quantize__neon(const float *x, uint8_t *y, size_t n, float scale, int32_t zp,
                             bool is_unsigned) {
    const float32x4_t vs = vdupq_n_f32(scale);
    const float32x4_t lo = vdupq_n_f32((float)((is_unsigned ? 0 : -128) - zp));
    const float32x4_t hi = vdupq_n_f32((float)((is_unsigned ? 255 : 127) - zp));
    const int32x4_t vz = vdupq_n_s32(zp);
    for (size_t i = 0; i < n; i += 8) {
        const size_t m = n - i < 8 ? n - i : 8;
        float bx[8] = {0};
        const float *px = x + i;
        if (m < 8) {
            memcpy(bx, px, m * sizeof *bx);
            px = bx;
        }
        const int32x4_t q0 = quant4(vld1q_f32(px), vs, lo, hi, vz);
        const int32x4_t q1 = quant4(vld1q_f32(px + 4), vs, lo, hi, vz);
        /* in the dtype's range: the low byte is the code */
        const uint8x8_t b =
            vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(q0), vmovn_s32(q1))));
        if (m < 8) {
            uint8_t by[8];
            vst1_u8(by, b);
            memcpy(y + i, by, m);
        } else {
            vst1_u8(y + i, b);
        }
    }
}

static inline void dequant8(const uint8_t *x, float *y, float32x4_t vs, int32x4_t vz, bool sg) {
    const uint8x8_t q = vld1_u8(x);
    const int16x8_t v = sg ? vmovl_s8(vreinterpret_s8_u8(q)) : vreinterpretq_s16_u16(vmovl_u8(q));
    const int32x4_t v0 = vsubq_s32(vmovl_s16(vget_low_s16(v)), vz);
    const int32x4_t v1 = vsubq_s32(vmovl_s16(vget_high_s16(v)), vz);
    vst1q_f32(y, vmulq_f32(vcvtq_f32_s32(v0), vs));
    vst1q_f32(y + 4, vmulq_f32(vcvtq_f32_s32(v1), vs));
}

void qlite_q8_dequantize__neon(const uint8_t *x, float *y, size_t n, float scale, int32_t zp,
                               bool is_signed) {
    const float32x4_t vs = vdupq_n_f32(scale);
    const int32x4_t vz = vdupq_n_s32(zp);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) dequant8(x + i, y + i, vs, vz, is_signed);
    if (i < n) {
        uint8_t bx[8] = {0};
        float by[8];
        memcpy(bx, x + i, n - i);
        dequant8(bx, by, vs, vz, is_signed);
        memcpy(y + i, by, (n - i) * sizeof *by);
    }
}

/* ---- LAYER_NORM ---- */

/* round(x / 2^e), ties away from zero, e in 0..62 (layer_norm_q8.c's rdbpot64) */
static inline int64_t ln_rdbpot64(int64_t x, int e) {
    const int64_t mask = (int64_t)((1ull << e) - 1);
    const int64_t rem = x & mask, thr = (mask >> 1) + (x < 0);
    return (x >> e) + (rem > thr);
}

/* the same on two lanes, e in 1..62 */
static inline int64x2_t ln_rdbpot64x2(int64x2_t x, int64x2_t neg_e) {
    return vrshlq_s64(vaddq_s64(x, vshrq_n_s64(x, 63)), neg_e);
}

static inline int32_t ln_code(const uint8_t *x, size_t i, bool sg) {
    return sg ? (int32_t)(int8_t)x[i] : (int32_t)x[i];
}

/* 8 codes as two int32x4 */
static inline void ln_load8(const uint8_t *x, bool sg, int32x4_t *lo, int32x4_t *hi) {
    const uint8x8_t q = vld1_u8(x);
    const int16x8_t v = sg ? vmovl_s8(vreinterpret_s8_u8(q)) : vreinterpretq_s16_u16(vmovl_u8(q));
    *lo = vmovl_s16(vget_low_s16(v));
    *hi = vmovl_s16(vget_high_s16(v));
}

/* two outputs from d G (int32) */
static inline int64x2_t ln_out2(int32x2_t dg, int32_t ma, int sh, int64x2_t neg_sh,
                                const int64_t *b, int64x2_t zy, int64x2_t lo, int64x2_t hi) {
    const int64x2_t t = vmull_n_s32(dg, ma); /* |T| < 2^60 */
    int64x2_t u = sh >= 62 ? vdupq_n_s64(0) : sh == 0 ? t : ln_rdbpot64x2(t, neg_sh);
    u = vaddq_s64(u, vld1q_s64(b));
    int64x2_t q = vaddq_s64(ln_rdbpot64x2(u, vdupq_n_s64(-16)), zy);
    q = vbslq_s64(vcgtq_s64(q, hi), hi, q);
    return vbslq_s64(vcltq_s64(q, lo), lo, q);
}

void qlite_q8_layer_norm__neon(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y) {
    const size_t n = p->n, n8 = n / 8 * 8;
    const bool sg = p->is_signed;
    int32x4_t acc = vdupq_n_s32(0);
    for (size_t i = 0; i < n8; i += 8) {
        int32x4_t a, b;
        ln_load8(x + i, sg, &a, &b);
        acc = vaddq_s32(acc, vaddq_s32(a, b));
    }
    int32_t sum = vaddvq_s32(acc); /* |sum| <= 4096 * 255 */
    for (size_t i = n8; i < n; i++) sum += ln_code(x, i, sg);
    const int32_t nn = (int32_t)n;
    int64x2_t v2 = vdupq_n_s64(0);
    for (size_t i = 0; i < n8; i += 8) {
        int32x4_t a, b;
        ln_load8(x + i, sg, &a, &b);
        const int32x4_t da = vsubq_s32(vmulq_n_s32(a, nn), vdupq_n_s32(sum)); /* |d| < 2^21 */
        const int32x4_t db = vsubq_s32(vmulq_n_s32(b, nn), vdupq_n_s32(sum));
        v2 = vmlal_s32(v2, vget_low_s32(da), vget_low_s32(da));
        v2 = vmlal_high_s32(v2, da, da);
        v2 = vmlal_s32(v2, vget_low_s32(db), vget_low_s32(db));
        v2 = vmlal_high_s32(v2, db, db);
    }
    uint64_t v = (uint64_t)vaddvq_s64(v2);
    for (size_t i = n8; i < n; i++) {
        const int64_t d = (int64_t)nn * ln_code(x, i, sg) - sum;
        v += (uint64_t)(d * d);
    }
    int64_t ma = 0;
    int sh = 62; /* v = 0: every d = 0 and u = 0 (y = beta), as in the reference */
    if (v) qlite_q8_ln_row_multiplier(p, v, &ma, &sh);
    const int64x2_t neg_sh = vdupq_n_s64(-(int64_t)sh), zy = vdupq_n_s64(p->zy),
                    lo = vdupq_n_s64(p->qmin), hi = vdupq_n_s64(p->qmax);
    const int32_t m32 = (int32_t)ma; /* Ma < 2^31 */
    for (size_t i = 0; i < n8; i += 8) {
        int32x4_t a, b;
        ln_load8(x + i, sg, &a, &b);
        const int32x4_t da = vsubq_s32(vmulq_n_s32(a, nn), vdupq_n_s32(sum));
        const int32x4_t db = vsubq_s32(vmulq_n_s32(b, nn), vdupq_n_s32(sum));
        const int32x4_t ga = vmulq_s32(da, vld1q_s32(p->g + i)); /* |d G| < 2^29 */
        const int32x4_t gb = vmulq_s32(db, vld1q_s32(p->g + i + 4));
        const int64x2_t q0 = ln_out2(vget_low_s32(ga), m32, sh, neg_sh, p->b + i, zy, lo, hi);
        const int64x2_t q1 = ln_out2(vget_high_s32(ga), m32, sh, neg_sh, p->b + i + 2, zy, lo, hi);
        const int64x2_t q2 = ln_out2(vget_low_s32(gb), m32, sh, neg_sh, p->b + i + 4, zy, lo, hi);
        const int64x2_t q3 = ln_out2(vget_high_s32(gb), m32, sh, neg_sh, p->b + i + 6, zy, lo, hi);
        const int32x4_t r0 = vcombine_s32(vmovn_s64(q0), vmovn_s64(q1));
        const int32x4_t r1 = vcombine_s32(vmovn_s64(q2), vmovn_s64(q3));
        /* in the dtype's range: the low byte is the code */
        const int16x8_t r = vcombine_s16(vmovn_s32(r0), vmovn_s32(r1));
        vst1_u8(y + i, vreinterpret_u8_s8(vmovn_s16(r)));
    }
    for (size_t i = n8; i < n; i++) {
        const int64_t d = (int64_t)nn * ln_code(x, i, sg) - sum;
        const int64_t t = d * p->g[i] * ma;
        const int64_t u = sh >= 62 ? 0 : ln_rdbpot64(t, sh);
        int64_t q = (int64_t)p->zy + ln_rdbpot64(u + p->b[i], 16);
        q = q < p->qmin ? p->qmin : (q > p->qmax ? p->qmax : q);
        y[i] = (uint8_t)q;
    }
}

#else
typedef int qlite_elementwise_q8_neon_unused; /* not an empty translation unit */
#endif
