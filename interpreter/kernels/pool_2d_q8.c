/*
 * pool_2d_q8.c — MAX_POOL_2D and AVERAGE_POOL_2D on int8 / uint8, NHWC,
 * the windows of pool_2d.c (ONNX semantics), input and output with the same
 * dtype and quantization (docs/quantization.md §4.5):
 *
 *   max      y = max of the codes of the taps inside the input (a window
 *            with none gives the dtype's minimum, what QUANTIZE makes of
 *            the float kernel's -inf);
 *   average  y = rdiv(sum of the codes of the taps inside the input
 *                     + (count - inside) * zx, count)
 *            with count the float kernel's divisor (count_include_pad: the
 *            taps inside the padded input, whose padding holds real 0 = zx;
 *            else the taps inside the input) and rdiv rounding half away
 *            from zero; count 0 gives zx (real 0);
 *   then the fused activation as a clamp of the codes (docs §3.1).
 *
 * Equal parameters make the codes' max / mean the max / mean of the real
 * values (up to the one rounding): no requantization. Codes are compared
 * as unsigned bytes after XOR 0x80 for int8 (order preserved), so one loop
 * serves both dtypes.
 *
 * The reference path takes each window tap by tap. The optimized path uses
 * that both max and sum are separable: per output row, the max (sum) over
 * the window's rows inside the input is formed once for the whole input
 * row (a loop over W * C bytes the compiler vectorizes), then each output
 * pixel combines the columns of its window from that row buffer (scratch,
 * one per thread). Threads split output rows.
 *
 * x86 with AVX-512 (BW): MAX_POOL's two steps 64 channels a step (VPXORD,
 * VPMAXUB, masked tails), chosen at prepare within the feature cap. The
 * portable max ran ~0.15 ms on ResNet-18's 112x112x64 3x3/2 pool (the
 * per-pixel loop over taps did not vectorize: out may alias the row buffer).
 */
#include "kernels/nn_common.h"
#include "kernels/nn_variants.h"
#include "kernels/quant_params.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include "kernels/gemm_q8.h"
#define POOLQ_NEON 1
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include "kernels/gemm_q8.h"
#define POOLQ_AVX512 1
#define POOLQ_TARGET_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))
#endif

typedef struct poolq_state {
    qlite_eval_fn eval;                /* must stay first (qlite_eval_dispatch) */
    bool is_max, include_pad, is_signed;
    int64_t N, H, W, C, KH, KW, OH, OW;
    int64_t sh, sw, dh, dw, pt, pl, pb, pr;
    uint8_t flip;                      /* 0x80 for int8 */
    int32_t zx;                        /* zero point (a value of the dtype) */
    int32_t lo, hi;                    /* clamp of the fused activation, values */
    size_t row_bytes;                  /* per-thread row buffer: W * C int32 */
    int threads;
    bool neon;                         /* ARM64: step 2 in NEON (chosen at prepare) */
    bool avx512;                       /* x86: MAX_POOL in AVX-512 (chosen at prepare) */
} poolq_state;

typedef struct poolq_job {
    const poolq_state *s;
    const uint8_t *x;
    uint8_t *y;
    void *scratch;
    bool ref;                          /* QLITE_INTERP_REFERENCE_ONLY: tap by tap */
} poolq_job;

/* Divisor of an average window (pool_2d.c's avg_count, in integers). */
static int64_t window_count(const poolq_state *s, int64_t oy, int64_t ox, int64_t *inside) {
    int64_t ny = 0, nx = 0, iny = 0, inx = 0;
    const int64_t y0 = s->include_pad ? -s->pt : 0, y1 = s->include_pad ? s->H + s->pb : s->H;
    const int64_t x0 = s->include_pad ? -s->pl : 0, x1 = s->include_pad ? s->W + s->pr : s->W;
    for (int64_t ky = 0; ky < s->KH; ky++) {
        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
        ny += iy >= y0 && iy < y1;
        iny += iy >= 0 && iy < s->H;
    }
    for (int64_t kx = 0; kx < s->KW; kx++) {
        const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
        nx += ix >= x0 && ix < x1;
        inx += ix >= 0 && ix < s->W;
    }
    *inside = iny * inx;
    return ny * nx;
}

/* round(a / b) half away from zero, b > 0 */
static inline int32_t rdiv_away(int32_t a, int32_t b) {
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

/* Average of channels [c, C) of output column ox from the column sums
 * vsum [W][C] (rows of the window already summed), `pad` = the padding
 * taps' zero points, `count` = the window's divisor (none: no column). */
static void avg_channels(const poolq_state *s, const int32_t *vsum, size_t c, size_t C,
                         int64_t ox, bool none, int32_t pad, int64_t count, uint8_t *out) {
    for (; c < C; c++) {
        int32_t t = pad;
        for (int64_t kx = 0; kx < s->KW && !none; kx++) {
            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
            if (ix >= 0 && ix < s->W) t += vsum[(size_t)ix * C + c];
        }
        int32_t v = count > 0 ? rdiv_away(t, (int32_t)count) : s->zx;
        v = v < s->lo ? s->lo : (v > s->hi ? s->hi : v);
        out[c] = (uint8_t)v;
    }
}

static void pool_rows(void *arg, size_t begin, size_t end) {
    const poolq_job *j = arg;
    const poolq_state *s = j->s;
    const size_t C = (size_t)s->C;
    const uint8_t flip = s->flip;
    /* the clamp in the unsigned (flipped) order */
    const uint8_t ulo = (uint8_t)((uint8_t)s->lo ^ flip), uhi = (uint8_t)((uint8_t)s->hi ^ flip);
    uint8_t m[256];
    int32_t sum[256];
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / s->OH, oy = (int64_t)row % s->OH;
        for (int64_t ox = 0; ox < s->OW; ox++) {
            uint8_t *out = j->y + (row * (size_t)s->OW + (size_t)ox) * C;
            int64_t inside = 0, count = 0;
            if (!s->is_max) count = window_count(s, oy, ox, &inside);
            for (size_t c0 = 0; c0 < C; c0 += 256) {
                const size_t cnt = C - c0 < 256 ? C - c0 : 256;
                for (size_t c = 0; c < cnt; c++) m[c] = 0, sum[c] = 0;
                for (int64_t ky = 0; ky < s->KH; ky++) {
                    const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
                    if (iy < 0 || iy >= s->H) continue;
                    for (int64_t kx = 0; kx < s->KW; kx++) {
                        const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                        if (ix < 0 || ix >= s->W) continue;
                        const uint8_t *xp =
                            j->x + ((n * s->H + iy) * s->W + ix) * s->C + (int64_t)c0;
                        if (s->is_max) {
                            for (size_t c = 0; c < cnt; c++) {
                                const uint8_t u = (uint8_t)(xp[c] ^ flip);
                                m[c] = u > m[c] ? u : m[c];
                            }
                        } else if (s->is_signed) {
                            for (size_t c = 0; c < cnt; c++) sum[c] += (int8_t)xp[c];
                        } else {
                            for (size_t c = 0; c < cnt; c++) sum[c] += xp[c];
                        }
                    }
                }
                if (s->is_max) {
                    for (size_t c = 0; c < cnt; c++) {
                        uint8_t u = m[c] < ulo ? ulo : m[c];
                        u = u > uhi ? uhi : u;
                        out[c0 + c] = (uint8_t)(u ^ flip);
                    }
                } else {
                    const int32_t pad = (int32_t)(count - inside) * s->zx;
                    for (size_t c = 0; c < cnt; c++) {
                        int32_t v = count > 0 ? rdiv_away(sum[c] + pad, (int32_t)count) : s->zx;
                        v = v < s->lo ? s->lo : (v > s->hi ? s->hi : v);
                        out[c0 + c] = (uint8_t)v;
                    }
                }
            }
        }
    }
}

#ifdef POOLQ_NEON
/*
 * Step 2 of one output pixel in NEON. Max: UMAX over the window's columns
 * 16 channels at a time, the clamp in the unsigned order, the flip back.
 * Average: the int32 column sums plus the padding term 4 lanes at a time,
 * then rdiv_away as a' = |t| + count / 2, q0 = trunc(a' * (1 / count)) in
 * double (a' < 2^31: within 1 of floor(a' / count)) corrected by one
 * integer step against q0 count (< 2^32), the sign put back, the clamp and
 * the low byte: the same integers as the portable loop.
 */
static void pool_pixel_neon(const poolq_state *s, const void *rb, bool none, int64_t oy,
                            int64_t ox, uint8_t *out) {
    const size_t C = (size_t)s->C;
    size_t c = 0;
    if (s->is_max) {
        const uint8_t *vmax = rb;
        const uint8x16_t ulo = vdupq_n_u8((uint8_t)((uint8_t)s->lo ^ s->flip));
        const uint8x16_t uhi = vdupq_n_u8((uint8_t)((uint8_t)s->hi ^ s->flip));
        const uint8x16_t vf = vdupq_n_u8(s->flip);
        for (; c + 16 <= C; c += 16) {
            uint8x16_t m = vdupq_n_u8(0); /* no tap: the dtype's minimum */
            for (int64_t kx = 0; kx < s->KW && !none; kx++) {
                const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                if (ix >= 0 && ix < s->W) m = vmaxq_u8(m, vld1q_u8(vmax + (size_t)ix * C + c));
            }
            vst1q_u8(out + c, veorq_u8(vminq_u8(vmaxq_u8(m, ulo), uhi), vf));
        }
        const uint8_t lo8 = (uint8_t)((uint8_t)s->lo ^ s->flip);
        const uint8_t hi8 = (uint8_t)((uint8_t)s->hi ^ s->flip);
        for (; c < C; c++) {
            uint8_t m = 0;
            for (int64_t kx = 0; kx < s->KW && !none; kx++) {
                const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                if (ix >= 0 && ix < s->W && vmax[(size_t)ix * C + c] > m)
                    m = vmax[(size_t)ix * C + c];
            }
            m = m < lo8 ? lo8 : m;
            m = m > hi8 ? hi8 : m;
            out[c] = (uint8_t)(m ^ s->flip);
        }
        return;
    }
    const int32_t *vsum = rb;
    int64_t inside = 0;
    const int64_t count = window_count(s, oy, ox, &inside);
    const int32_t pad = (int32_t)(count - inside) * s->zx;
    if (count > 0) {
        const float64x2_t inv = vdupq_n_f64(1.0 / (double)count);
        const uint32x4_t vb = vdupq_n_u32((uint32_t)count), hb = vdupq_n_u32((uint32_t)count / 2);
        const int32x4_t lo = vdupq_n_s32(s->lo), hi = vdupq_n_s32(s->hi);
        for (; c + 4 <= C; c += 4) {
            int32x4_t t = vdupq_n_s32(pad);
            for (int64_t kx = 0; kx < s->KW && !none; kx++) {
                const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                if (ix >= 0 && ix < s->W) t = vaddq_s32(t, vld1q_s32(vsum + (size_t)ix * C + c));
            }
            const uint32x4_t a = vaddq_u32(vreinterpretq_u32_s32(vabsq_s32(t)), hb);
            const uint64x2_t q0 =
                vcvtq_u64_f64(vmulq_f64(vcvtq_f64_u64(vmovl_u32(vget_low_u32(a))), inv));
            const uint64x2_t q1 =
                vcvtq_u64_f64(vmulq_f64(vcvtq_f64_u64(vmovl_u32(vget_high_u32(a))), inv));
            uint32x4_t q = vcombine_u32(vmovn_u64(q0), vmovn_u64(q1));
            uint32x4_t prod = vmulq_u32(q, vb);
            const uint32x4_t over = vcgtq_u32(prod, a);       /* all ones: q - 1 */
            q = vaddq_u32(q, over);
            prod = vsubq_u32(prod, vandq_u32(over, vb));
            q = vsubq_u32(q, vcgeq_u32(vsubq_u32(a, prod), vb)); /* a - q count >= count: q + 1 */
            const int32x4_t neg = vreinterpretq_s32_u32(vcltq_s32(t, vdupq_n_s32(0)));
            int32x4_t v = vsubq_s32(veorq_s32(vreinterpretq_s32_u32(q), neg), neg);
            v = vminq_s32(vmaxq_s32(v, lo), hi);
            const int16x4_t v16 = vmovn_s32(v);
            const int8x8_t v8 = vmovn_s16(vcombine_s16(v16, v16));
            vst1_lane_u32((uint32_t *)(void *)(out + c), vreinterpret_u32_s8(v8), 0);
        }
    }
    avg_channels(s, vsum, c, C, ox, none, pad, count, out);
}
#endif

#ifdef POOLQ_AVX512
static inline __mmask64 poolq_mask64(size_t n) {
    return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

/* MAX_POOL rows [begin, end) in AVX-512: the same two steps as
 * pool_rows_sep's max path, in the flipped (unsigned) order, 64 bytes a
 * step with masked tails (rb: W * C bytes). */
POOLQ_TARGET_AVX512 static void pool_rows_max_avx512(const poolq_job *j, size_t begin,
                                                     size_t end, uint8_t *rb) {
    const poolq_state *s = j->s;
    const size_t C = (size_t)s->C, WC = (size_t)(s->W * s->C);
    const __m512i vf = _mm512_set1_epi8((char)s->flip);
    const __m512i ulo = _mm512_set1_epi8((char)((uint8_t)s->lo ^ s->flip));
    const __m512i uhi = _mm512_set1_epi8((char)((uint8_t)s->hi ^ s->flip));
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / s->OH, oy = (int64_t)row % s->OH;
        const uint8_t *img = j->x + (size_t)(n * s->H) * WC;
        /* 1. max of the window's rows inside the input, flipped */
        const uint8_t *rows[2];
        int nr = 0;
        bool none = true;
        for (int64_t ky = 0; ky < s->KH; ky++) {
            const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
            if (iy < 0 || iy >= s->H) continue;
            rows[nr++] = img + (size_t)iy * WC;
            if (nr < 2 && ky + 1 < s->KH) continue;
            /* fold one or two input rows into rb */
            for (size_t i = 0; i < WC; i += 64) {
                const __mmask64 m = poolq_mask64(WC - i);
                __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, rows[0] + i), vf);
                if (nr == 2)
                    v = _mm512_max_epu8(
                        v, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, rows[1] + i), vf));
                if (!none) v = _mm512_max_epu8(v, _mm512_maskz_loadu_epi8(m, rb + i));
                _mm512_mask_storeu_epi8(rb + i, m, v);
            }
            nr = 0;
            none = false;
        }
        if (nr == 1) { /* the last row inside came before a last row outside */
            for (size_t i = 0; i < WC; i += 64) {
                const __mmask64 m = poolq_mask64(WC - i);
                __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, rows[0] + i), vf);
                if (!none) v = _mm512_max_epu8(v, _mm512_maskz_loadu_epi8(m, rb + i));
                _mm512_mask_storeu_epi8(rb + i, m, v);
            }
            none = false;
        }
        /* 2. each output pixel: max over its window's columns, clamp, flip back */
        uint8_t *out = j->y + row * (size_t)s->OW * C;
        for (int64_t ox = 0; ox < s->OW; ox++, out += C) {
            const uint8_t *cols[16];
            int nc = 0;
            bool many = false;
            for (int64_t kx = 0; kx < s->KW && !none; kx++) {
                const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                if (ix < 0 || ix >= s->W) continue;
                if (nc == 16) {
                    many = true;
                    break;
                }
                cols[nc++] = rb + (size_t)ix * C;
            }
            for (size_t c = 0; c < C; c += 64) {
                const __mmask64 m = poolq_mask64(C - c);
                __m512i v = _mm512_setzero_si512(); /* no tap: the dtype's minimum */
                if (many) {
                    for (int64_t kx = 0; kx < s->KW; kx++) {
                        const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                        if (ix >= 0 && ix < s->W)
                            v = _mm512_max_epu8(
                                v, _mm512_maskz_loadu_epi8(m, rb + (size_t)ix * C + c));
                    }
                } else {
                    for (int k = 0; k < nc; k++)
                        v = _mm512_max_epu8(v, _mm512_maskz_loadu_epi8(m, cols[k] + c));
                }
                v = _mm512_min_epu8(_mm512_max_epu8(v, ulo), uhi);
                _mm512_mask_storeu_epi8(out + c, m, _mm512_xor_si512(v, vf));
            }
        }
    }
}
#endif

/* Optimized: the separable form (see the top comment); rows [begin, end), row buffer rb. */
static void pool_rows_sep(const poolq_job *j, size_t begin, size_t end, void *rb) {
    const poolq_state *s = j->s;
    const size_t C = (size_t)s->C, WC = (size_t)(s->W * s->C);
    const uint8_t flip = s->flip;
    const uint8_t ulo = (uint8_t)((uint8_t)s->lo ^ flip), uhi = (uint8_t)((uint8_t)s->hi ^ flip);
    uint8_t *vmax = rb;
    int32_t *vsum = rb;
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / s->OH, oy = (int64_t)row % s->OH;
        const uint8_t *img = j->x + (size_t)(n * s->H) * WC;
        /* 1. the window's rows inside the input, combined over the whole input row */
        bool none = true;
        for (int64_t ky = 0; ky < s->KH; ky++) {
            const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
            if (iy < 0 || iy >= s->H) continue;
            const uint8_t *xr = img + (size_t)iy * WC;
            if (s->is_max && none) {
                for (size_t i = 0; i < WC; i++) vmax[i] = (uint8_t)(xr[i] ^ flip);
            } else if (s->is_max) {
                for (size_t i = 0; i < WC; i++) {
                    const uint8_t u = (uint8_t)(xr[i] ^ flip);
                    vmax[i] = u > vmax[i] ? u : vmax[i];
                }
            } else if (s->is_signed) {
                const int8_t *xs = (const int8_t *)xr;
                for (size_t i = 0; i < WC; i++) vsum[i] = (none ? 0 : vsum[i]) + xs[i];
            } else {
                for (size_t i = 0; i < WC; i++) vsum[i] = (none ? 0 : vsum[i]) + xr[i];
            }
            none = false;
        }
        /* 2. each output pixel from its window's columns of that row */
        uint8_t *out = j->y + row * (size_t)s->OW * C;
        for (int64_t ox = 0; ox < s->OW; ox++, out += C) {
#ifdef POOLQ_NEON
            if (s->neon) {
                pool_pixel_neon(s, rb, none, oy, ox, out);
                continue;
            }
#endif
            if (s->is_max) {
                bool any = false;
                for (int64_t kx = 0; kx < s->KW && !none; kx++) {
                    const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                    if (ix < 0 || ix >= s->W) continue;
                    const uint8_t *v = vmax + (size_t)ix * C;
                    for (size_t c = 0; c < C; c++) out[c] = !any || v[c] > out[c] ? v[c] : out[c];
                    any = true;
                }
                for (size_t c = 0; c < C; c++) {
                    uint8_t u = any ? out[c] : 0; /* no tap: the dtype's minimum */
                    u = u < ulo ? ulo : u;
                    u = u > uhi ? uhi : u;
                    out[c] = (uint8_t)(u ^ flip);
                }
                continue;
            }
            int64_t inside = 0;
            const int64_t count = window_count(s, oy, ox, &inside);
            const int32_t pad = (int32_t)(count - inside) * s->zx;
            avg_channels(s, vsum, 0, C, ox, none, pad, count, out);
        }
    }
}

/* Thread slots [tb, te): each its share of the output rows and its own row buffer. */
static void pool_threads(void *arg, size_t tb, size_t te) {
    const poolq_job *j = arg;
    const poolq_state *s = j->s;
    for (size_t t = tb; t < te; t++) {
        size_t b, e;
        qlite_nn_split((size_t)(s->N * s->OH), (size_t)s->threads, t, &b, &e);
        if (j->ref)
            pool_rows(arg, b, e);
#ifdef POOLQ_AVX512
        else if (s->avx512 && s->is_max)
            pool_rows_max_avx512(j, b, e, (uint8_t *)j->scratch + t * s->row_bytes);
#endif
        else
            pool_rows_sep(j, b, e, (uint8_t *)j->scratch + t * s->row_bytes);
    }
}

static qlite_status poolq_eval(qlite_node *node) {
    const poolq_state *s = node->state;
    poolq_job j = {.s = s, .x = node->inputs[0]->data, .y = node->outputs[0]->data,
                   .scratch = node->scratch, .ref = qlite_node_reference_only(node)};
    qlite_kernel_parallel(node, (size_t)s->threads,
                          (size_t)(s->N * s->OH * s->OW * s->C * s->KH * s->KW) /
                              (size_t)s->threads,
                          pool_threads, &j);
    return QLITE_OK;
}

qlite_status qlite_pool_q8_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    if (node->opts->type != QLITE_OPTIONS_POOL_2D)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Pool2D");
    const qlite_pool2d_options *o = &node->opts->u.pool2d;
    qlite_q8 qx, qy;
    if ((st = qlite_q8_params(node, x, "input", &qx)) ||
        (st = qlite_node_check_same_dtype(node, x, "input", y, "output")) ||
        (st = qlite_q8_params(node, y, "output", &qy)) ||
        (st = qlite_node_check_same_qparams(node, x, "input", y, "output")) ||
        (st = qlite_nn_check_rank(node, x, "input", 4)))
        return st;
    poolq_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->is_max = node->op->code == QLITE_OP_MAX_POOL_2D;
    s->include_pad = o->count_include_pad;
    s->N = x->dims[0], s->H = x->dims[1], s->W = x->dims[2], s->C = x->dims[3];
    s->KH = o->filter_h, s->KW = o->filter_w, s->sh = o->stride_h, s->sw = o->stride_w;
    s->dh = o->dilation_h, s->dw = o->dilation_w;
    s->pt = o->pad_top, s->pl = o->pad_left, s->pb = o->pad_bottom, s->pr = o->pad_right;
    s->OH = qlite_nn_window_out(s->H, s->KH, s->sh, s->dh, s->pt, s->pb, o->ceil_mode);
    s->OW = qlite_nn_window_out(s->W, s->KW, s->sw, s->dw, s->pl, s->pr, o->ceil_mode);
    if (o->ceil_mode && s->OH > 1 && (s->OH - 1) * s->sh >= s->H + s->pt) s->OH--;
    if (o->ceil_mode && s->OW > 1 && (s->OW - 1) * s->sw >= s->W + s->pl) s->OW--;
    if (s->OH < 1 || s->OW < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "no output: input %lldx%lld, filter %lldx%lld, stride %lldx%lld, "
                                "dilation %lldx%lld, pads %d,%d,%d,%d",
                                (long long)s->H, (long long)s->W, (long long)s->KH,
                                (long long)s->KW, (long long)s->sh, (long long)s->sw,
                                (long long)s->dh, (long long)s->dw, o->pad_top, o->pad_left,
                                o->pad_bottom, o->pad_right);
    /* the sum of a window stays in int32: 255 per tap */
    if ((double)s->KH * (double)s->KW * 255.0 > (double)INT32_MAX / 2)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "window %lldx%lld is too large",
                                (long long)s->KH, (long long)s->KW);
    if ((unsigned)o->activation >= QLITE_ACT_COUNT)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o->activation);
    s->is_signed = qx.is_signed;
    s->flip = qx.is_signed ? 0x80 : 0;
    s->zx = qx.zero_point;
    qlite_activation_qrange(o->activation, qy.scale, qy.zero_point, y->dtype, &s->lo, &s->hi);
    if ((st = qlite_node_set_output_shape(node, 0, 4, (int64_t[]){s->N, s->OH, s->OW, s->C})))
        return st;
    s->eval = poolq_eval;
#ifdef POOLQ_NEON
    s->neon = (qlite_q8_cpu_features() & QLITE_Q8_F_NEON) != 0;
#endif
#ifdef POOLQ_AVX512
    s->avx512 = (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) != 0;
#endif
    s->threads = qlite_node_threads(node);
    s->row_bytes = ((size_t)(s->W * s->C) * sizeof(int32_t) + 63) / 64 * 64;
    node->scratch_bytes = s->row_bytes * (size_t)s->threads;
    node->state = s;
    return QLITE_OK;
}
