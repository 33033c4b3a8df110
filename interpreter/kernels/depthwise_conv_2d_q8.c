/*
 * depthwise_conv_2d_q8.c — DEPTHWISE_CONV_2D with int8 weights
 * [1, KH, KW, C * M] (constant; per tensor or per channel along axis 3),
 * NHWC, the geometry of depthwise_conv_2d.c:
 *
 *   integer  x int8/uint8, bias int32 [C * M] (optional, constant), y of x's
 *            dtype (docs §4.1):
 *              acc[oc] = bias[oc] + sum over taps inside the input of
 *                        (x[.., oc / M] - zx)(w[ky, kx, oc] - zw[oc])
 *              y = clamp(zy + requantize(acc, sx sw[oc] / sy), lo, hi)
 *   hybrid   x, bias, y float32 (docs §5): each image quantized to uint8
 *            with its own (su, zu); acc = sum (u - zu) w over the taps inside
 *            the input; y = su sw[oc] acc + bias[oc], fused activation.
 *
 * Optimized path (multiplier 1, weight zero points 0): per output pixel,
 * blocks of 16 channels (AVX-512; 8 with AVX2) keep int32 accumulators in a
 * register over the taps, (u - zu) * w widened to int32 lane by lane, then
 * the vector requantization of q8_x86.h (or the float output stage) and one
 * store; ARM64: NEON blocks of 8 channels per pixel, the same arithmetic
 * (dw_block_neon). AVX-512 3x3 at stride 1 / 2 (integer and hybrid): the
 * column tables of dw33_block (kernel columns as VPDPBUSD quads, two output
 * rows per pass at stride 1). Threads split output rows (AVX-512: rows x
 * channel groups when there are few rows; the 3x3 path channel group
 * outermost). Other cases (multiplier > 1, weight zero
 * points, CPUs without AVX2 or NEON) take the per-channel portable loop.
 */
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"
#include "kernels/q8_x86.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define DWQ_NEON 1
#endif

enum { DW_PORTABLE, DW_AVX2, DW_AVX512, DW_NEON };

typedef struct dwq_state {
    qlite_eval_fn eval;               /* must stay first (qlite_eval_dispatch) */
    qlite_conv_geom g;
    bool hybrid;
    int isa;                          /* DW_*: the optimized loop this CPU runs */
    bool fast;                        /* multiplier 1 and no weight zero points */
    int k33;                          /* fast, AVX-512, 3x3: dw33_rows, stride 1 / 2 */
    uint8_t flip;
    bool is_signed;
    int32_t zx, zu;
    const int32_t *bias32;
    qlite_q8_weights wq;
    qlite_q8_cols cols;               /* bias (not folded) and requantization per channel */
    qlite_hybrid_cols hc;
    size_t img_bytes;
    const int16_t *w16;               /* fast, AVX2, O >= 16: dw2_pixel's int16 tap pairs */
} dwq_state;

typedef struct dwq_job {
    const dwq_state *s;
    const uint8_t *x;                 /* unsigned codes after the flip (hybrid: quantized) */
    const int8_t *w;
    void *y;
    const float *su;
    const int32_t *zu;
} dwq_job;

/* ---- reference: the formula, one output at a time ---- */

static void dwq_ref(const dwq_state *s, const uint8_t *x, const int8_t *w, uint8_t *y) {
    const qlite_conv_geom *g = &s->g;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oy = 0; oy < g->OH; oy++)
            for (int64_t ox = 0; ox < g->OW; ox++)
                for (int64_t oc = 0; oc < g->O; oc++) {
                    int32_t acc = s->bias32 ? s->bias32[oc] : 0;
                    const int32_t zw = qlite_q8_wzp(&s->wq, (size_t)oc);
                    for (int64_t ky = 0; ky < g->KH; ky++) {
                        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        if (iy < 0 || iy >= g->H) continue;
                        for (int64_t kx = 0; kx < g->KW; kx++) {
                            const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                            if (ix < 0 || ix >= g->W) continue;
                            const uint8_t xv = x[((n * g->H + iy) * g->W + ix) * g->C + oc / g->M];
                            acc += (qlite_q8_decode(xv, s->is_signed) - s->zx) *
                                   (w[(ky * g->KW + kx) * g->O + oc] - zw);
                        }
                    }
                    y[((n * g->OH + oy) * g->OW + ox) * g->O + oc] =
                        qlite_q8_cols_out(&s->cols, (size_t)oc, acc);
                }
}

/* acc of every channel of one output pixel from unsigned codes (portable). */
static void dw_pixel_acc(const dwq_state *s, const dwq_job *j, int64_t n, int64_t oy, int64_t ox,
                         int32_t zu, int32_t *acc) {
    const qlite_conv_geom *g = &s->g;
    for (int64_t oc = 0; oc < g->O; oc++) acc[oc] = 0;
    for (int64_t ky = 0; ky < g->KH; ky++) {
        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
        if (iy < 0 || iy >= g->H) continue;
        for (int64_t kx = 0; kx < g->KW; kx++) {
            const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
            if (ix < 0 || ix >= g->W) continue;
            const uint8_t *xp = j->x + ((n * g->H + iy) * g->W + ix) * g->C;
            const int8_t *wp = j->w + (ky * g->KW + kx) * g->O;
            for (int64_t oc = 0; oc < g->O; oc++) {
                const int32_t zw = qlite_q8_wzp(&s->wq, (size_t)oc);
                acc[oc] += ((int32_t)(uint8_t)(xp[oc / g->M] ^ s->flip) - zu) * (wp[oc] - zw);
            }
        }
    }
}

/* ---- x86 blocks of channels ---- */

/* Output pixels [*oxa, *oxb) of a row whose whole window row is inside the input
 * (every kernel column; the x86 row kernels take them without pad checks). */
static inline void dw_inner_cols(const qlite_conv_geom *g, int64_t *oxa, int64_t *oxb) {
    int64_t a = 0, b = g->OW;
    while (a < g->OW && a * g->sw - g->pl < 0) a++;
    while (b > a && (b - 1) * g->sw - g->pl + (g->KW - 1) * g->dw >= g->W) b--;
    *oxa = a;
    *oxb = b;
}

#ifdef QLITE_Q8_X86
/*
 * Interior pixels of one output row with VPDPBUSD, 64 channels per block
 * (every kernel row inside the input, the window inside along x). The
 * bytes of four taps are interleaved per channel (VPUNPCKLBW/HBW, then
 * VPUNPCKLWD/HWD: accumulator k holds channels 16L + 4k + i in lane L,
 * dword i), so one VPDPBUSD adds four taps' u * w for 16 channels; a last
 * single tap spreads its bytes to dwords by VPSHUFB. The weights go
 * through the same interleave once per block, the bias and requantization
 * parameters through the 4x4 transpose of 128-bit lanes that maps natural
 * channel order to that one (its own inverse). acc = bias - zu sum(w) +
 * sum u w, u the unsigned codes (signed inputs flipped by 0x80, zu = zx +
 * 128): the same int32 value as the formula, modulo 2^32 on the way. The
 * int8 outputs come back to channel order by VPACKSSDW + VPACKSS/USWB
 * (exact: the values are already clamped to the output codes), the hybrid
 * floats by the lane transpose.
 */
Q8_AVX512 static inline void dwv_unpack4(__m512i a, __m512i b, __m512i c, __m512i d,
                                         __m512i q[4]) {
    const __m512i ablo = _mm512_unpacklo_epi8(a, b), abhi = _mm512_unpackhi_epi8(a, b);
    const __m512i cdlo = _mm512_unpacklo_epi8(c, d), cdhi = _mm512_unpackhi_epi8(c, d);
    q[0] = _mm512_unpacklo_epi16(ablo, cdlo);
    q[1] = _mm512_unpackhi_epi16(ablo, cdlo);
    q[2] = _mm512_unpacklo_epi16(abhi, cdhi);
    q[3] = _mm512_unpackhi_epi16(abhi, cdhi);
}

/* v[m] holds channels 16m.. in order; on return v[k] lane L = old v[L] lane k. */
Q8_AVX512 static inline void dwv_lanes_t(__m512i v[4]) {
    const __m512i t0 = _mm512_shuffle_i32x4(v[0], v[1], 0x44);
    const __m512i t1 = _mm512_shuffle_i32x4(v[2], v[3], 0x44);
    const __m512i t2 = _mm512_shuffle_i32x4(v[0], v[1], 0xEE);
    const __m512i t3 = _mm512_shuffle_i32x4(v[2], v[3], 0xEE);
    v[0] = _mm512_shuffle_i32x4(t0, t1, 0x88);
    v[1] = _mm512_shuffle_i32x4(t0, t1, 0xDD);
    v[2] = _mm512_shuffle_i32x4(t2, t3, 0x88);
    v[3] = _mm512_shuffle_i32x4(t2, t3, 0xDD);
}

/* 4 permuted vectors of a padded int32 / float array from channel c0 (dup: its 32
 * channels twice, for pixel pairs) */
Q8_AVX512 static inline void dwv_load_perm(const void *p, int64_t c0, bool dup, __m512i v[4]) {
    const int32_t *q = (const int32_t *)p + c0;
    for (int k = 0; k < 4; k++) v[k] = _mm512_loadu_si512(q + 16 * (dup ? k % 2 : k));
    dwv_lanes_t(v);
}

/* VPSHUFB controls: dword i of lane L <- byte 4k + i of that lane, 0 above */
Q8_AVX512 static inline __m512i dwv_spread(int k) {
    return _mm512_add_epi32(_mm512_set1_epi32((int32_t)(0x80808000u | (uint32_t)(4 * k))),
                            _mm512_set_epi32(3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0));
}

Q8_AVX512 static inline __attribute__((always_inline)) void
dwv_pixels(const dwq_state *s, const uint8_t *img, uint8_t *out, int64_t oy,
           int64_t oxa, int64_t oxb, int64_t c0, __mmask64 bm, bool pair, int nq, int rem,
           const int64_t *off, const __m512i (*wq)[4], const __m512i acc0[4],
           const rq16w p[4], const __m512 sc[4], const __m512 fb[4], bool hybrid, bool sgn,
           bool edge, const uint8_t *pad) {
    const qlite_conv_geom *g = &s->g;
    const int64_t W = g->W, C = g->C, sh = g->sh, sw = g->sw, pt = g->pt, pl = g->pl;
    const int64_t H = g->H, KW = g->KW, T = g->KH * g->KW;
    const __m512i flip = _mm512_set1_epi8((char)s->flip);
    const __m512 flo = _mm512_set1_ps(s->hc.lo), fhi = _mm512_set1_ps(s->hc.hi);
    const size_t es = hybrid ? 4 : 1;
    /* int8 output stage: q by rq16w_q, then zy and the clamp after saturating narrowing
     * (every step monotone and the identity on [lo, hi]: clamp(q + zy, lo, hi) exactly) */
    const __m512i zy16 = _mm512_set1_epi16((int16_t)s->cols.zy);
    const __m512i lo8 = _mm512_set1_epi8((char)s->cols.lo), hi8 = _mm512_set1_epi8((char)s->cols.hi);
    (void)sgn;
    for (int64_t ox = oxa; ox < oxb; ox += pair ? 2 : 1) {
        /* pairs: the second pixel's 32 channels in the upper half */
        const __mmask64 m = pair && ox + 1 == oxb ? (__mmask64)0xFFFFFFFFu : bm;
        /* edge: each tap's address, or the pad bytes (u = zu: adds zu w, which acc0's
         * - zu sum(w) takes back) for taps outside the input */
        const uint8_t *pp[68];
        const uint8_t *base = edge ? pad : img + ((oy * sh - pt) * W + ox * sw - pl) * C + c0;
        if (edge) {
            for (int64_t t = 0; t < T; t++) {
                const int64_t iy = oy * sh - pt + (t / KW) * g->dh;
                const int64_t ix = ox * sw - pl + (t % KW) * g->dw;
                pp[t] = iy >= 0 && iy < H && ix >= 0 && ix < W ? img + (iy * W + ix) * C + c0
                                                                 : pad;
            }
            for (int64_t t = T; t < 4 * (nq + 1); t++) pp[t] = pp[T - 1];
        }
#define DWV_AT(t) (edge ? pp[(t)] : base + off[(t)])
        __m512i acc[4] = {acc0[0], acc0[1], acc0[2], acc0[3]};
        for (int q = 0; q < nq; q++) {
            __m512i xq[4];
            dwv_unpack4(_mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * q)), flip),
                        _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * q + 1)), flip),
                        _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * q + 2)), flip),
                        _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * q + 3)), flip),
                        xq);
            for (int k = 0; k < 4; k++) acc[k] = _mm512_dpbusd_epi32(acc[k], xq[k], wq[q][k]);
        }
        if (rem == 1) {
            const __m512i xv =
                _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * nq)), flip);
            for (int k = 0; k < 4; k++)
                acc[k] = _mm512_dpbusd_epi32(acc[k], _mm512_shuffle_epi8(xv, dwv_spread(k)),
                                             wq[nq][k]);
        } else if (rem > 1) {
            /* the missing taps repeat the last one with weight 0 */
            const __m512i xa =
                _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * nq)), flip);
            const __m512i xb =
                _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * nq + 1)), flip);
            const __m512i xc =
                rem > 2 ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, DWV_AT(4 * nq + 2)), flip)
                        : xb;
            __m512i xq[4];
            dwv_unpack4(xa, xb, xc, xc, xq);
            for (int k = 0; k < 4; k++) acc[k] = _mm512_dpbusd_epi32(acc[k], xq[k], wq[nq][k]);
        }
#undef DWV_AT
        uint8_t *dst = out + (size_t)(ox * C + c0) * es;
        if (hybrid) {
            __m512i f[4];
            for (int k = 0; k < 4; k++) {
                __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[k]), sc[k]), fb[k]);
                /* max/min return their second operand on NaN: NaN passes like qlite_clampf */
                f[k] = _mm512_castps_si512(_mm512_min_ps(fhi, _mm512_max_ps(flo, v)));
            }
            dwv_lanes_t(f);
            for (int k = 0; k < 4; k++)
                _mm512_mask_storeu_ps((float *)(void *)dst + 16 * k,
                                      (__mmask16)(m >> (16 * k)), _mm512_castsi512_ps(f[k]));
        } else {
            for (int k = 0; k < 4; k++) acc[k] = rq16w_q(acc[k], &p[k]);
            const __m512i w01 = _mm512_adds_epi16(_mm512_packs_epi32(acc[0], acc[1]), zy16);
            const __m512i w23 = _mm512_adds_epi16(_mm512_packs_epi32(acc[2], acc[3]), zy16);
            const __m512i yb =
                p[0].sgn ? _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(w01, w23), lo8), hi8)
                         : _mm512_min_epu8(_mm512_max_epu8(_mm512_packus_epi16(w01, w23), lo8),
                                           hi8);
            _mm512_mask_storeu_epi8(dst, m, yb);
        }
    }
}

/* The output stage's parameters for channels [c0, c0 + 64) (pair: two
 * pixels of 32) in the accumulators' channel order: hybrid, the float scales
 * su sw and biases (p zeroed); else the requantization through rq16w_load
 * (sc, fb zeroed). */
Q8_AVX512 static inline __attribute__((always_inline)) void
dwv_out_params(const dwq_state *s, const dwq_job *j, int64_t n, int64_t c0, bool pair, bool hybrid,
               rq16w p[4], __m512 sc[4], __m512 fb[4]) {
    if (hybrid) {
        __m512i ws[4], bs[4];
        dwv_load_perm(s->hc.wscale, c0, pair, ws);
        if (s->hc.bias) dwv_load_perm(s->hc.bias, c0, pair, bs);
        const __m512 su = _mm512_set1_ps(j->su[n]);
        for (int k = 0; k < 4; k++) {
            sc[k] = _mm512_mul_ps(su, _mm512_castsi512_ps(ws[k]));
            fb[k] = s->hc.bias ? _mm512_castsi512_ps(bs[k]) : _mm512_setzero_ps();
        }
        memset(p, 0, 4 * sizeof *p);
        return;
    }
    __m512i m0[4], lsh[4], rsh[4];
    int32_t pm[64], pls[64], prs[64];
    dwv_load_perm(s->cols.mult, c0, pair, m0);
    dwv_load_perm(s->cols.lshift, c0, pair, lsh);
    dwv_load_perm(s->cols.rshift, c0, pair, rsh);
    for (int k = 0; k < 4; k++) {
        _mm512_storeu_si512(pm + 16 * k, m0[k]);
        _mm512_storeu_si512(pls + 16 * k, lsh[k]);
        _mm512_storeu_si512(prs + 16 * k, rsh[k]);
    }
    qlite_q8_cols pc = s->cols;
    pc.mult = pm;
    pc.lshift = pls;
    pc.rshift = prs;
    for (int k = 0; k < 4; k++) {
        p[k] = rq16w_load(&pc, 16 * (size_t)k);
        sc[k] = fb[k] = _mm512_setzero_ps();
    }
}

/* Pixels [oxa, oxb) of the row (inner: every kernel row inside the input), with edges also
 * the others (taps outside read pad bytes). Returns the end of the channels it did: blocks
 * of 33 or more (the rest wastes less in dw_row_avx512's 16-channel blocks). */
Q8_AVX512 static int64_t dw_row_vnni(const dwq_state *s, const dwq_job *j, size_t row,
                                     int64_t c_begin, int64_t c_end, int64_t oxa, int64_t oxb,
                                     bool inner, bool edges) {
    const qlite_conv_geom *g = &s->g;
    const int64_t H = g->H, W = g->W, C = g->C, KH = g->KH, KW = g->KW, OW = g->OW;
    const int64_t n = (int64_t)row / g->OH, oy = (int64_t)row % g->OH;
    const bool hybrid = s->hybrid, sgn = !hybrid && s->is_signed;
    const int32_t zu = hybrid ? j->zu[n] : s->zu;
    const int T = (int)(KH * KW), nq = T / 4, rem = T % 4;
    int64_t off[68];
    for (int64_t ky = 0; ky < KH; ky++)
        for (int64_t kx = 0; kx < KW; kx++)
            off[ky * KW + kx] = (ky * g->dh * W + kx * g->dw) * C;
    for (int t = T; t < 68; t++) off[t] = off[T - 1];
    const uint8_t *img = j->x + (size_t)(n * H * W * C);
    uint8_t *out = (uint8_t *)j->y + row * (size_t)OW * (size_t)C * (hybrid ? 4 : 1);
    __m512i wq[17][4];
    const __m512i vzu = _mm512_set1_epi8((char)(uint8_t)zu);
    uint8_t pad[64];
    memset(pad, (uint8_t)zu ^ s->flip, sizeof pad);
    /* the pixels by the interior loop: [a, b) */
    const int64_t a = inner && oxb > oxa ? oxa : OW, b = inner && oxb > oxa ? oxb : OW;
    /* 32 channels at stride 1: two pixels per vector (their 64 bytes are contiguous) */
    const bool pair = C == 32 && g->sw == 1 && c_begin == 0 && c_end == 32;
    int64_t c0 = c_begin;
    for (; c_end - c0 > 32 || (pair && c0 == c_begin); c0 += 64) {
        const int64_t cnt = c_end - c0 < 64 ? c_end - c0 : 64;
        const __mmask64 bm =
            cnt == 64 || pair ? ~(__mmask64)0 : (((__mmask64)1 << cnt) - 1);
        const int8_t *wb = j->w + c0;
#define DWV_W(t)                                                                      \
    (pair ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(wb + (t) * C))) \
          : _mm512_maskz_loadu_epi8(bm, wb + (t) * C))
        for (int q = 0; q < nq; q++)
            dwv_unpack4(DWV_W(4 * q), DWV_W(4 * q + 1), DWV_W(4 * q + 2), DWV_W(4 * q + 3),
                        wq[q]);
        if (rem == 1) {
            const __m512i wv = DWV_W(4 * nq);
            for (int k = 0; k < 4; k++) wq[nq][k] = _mm512_shuffle_epi8(wv, dwv_spread(k));
        } else if (rem > 1) {
            const __m512i z = _mm512_setzero_si512();
            dwv_unpack4(DWV_W(4 * nq), DWV_W(4 * nq + 1), rem > 2 ? DWV_W(4 * nq + 2) : z, z,
                        wq[nq]);
        }
#undef DWV_W
        __m512i acc0[4];
        if (hybrid || !s->cols.bias) {
            for (int k = 0; k < 4; k++) acc0[k] = _mm512_setzero_si512();
        } else {
            dwv_load_perm(s->cols.bias, c0, pair, acc0);
        }
        /* - zu sum(w): VPDPBUSD of zu's byte with the interleaved weights, negated */
        __m512i zs[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                         _mm512_setzero_si512()};
        for (int q = 0; q < nq + (rem > 0); q++)
            for (int k = 0; k < 4; k++) zs[k] = _mm512_dpbusd_epi32(zs[k], vzu, wq[q][k]);
        for (int k = 0; k < 4; k++) acc0[k] = _mm512_sub_epi32(acc0[k], zs[k]);
        rq16w p[4];
        __m512 sc[4], fb[4];
        dwv_out_params(s, j, n, c0, pair, hybrid, p, sc, fb);
        const __m512i(*wqc)[4] = (const __m512i(*)[4])wq;
        if (edges && !pair && a > 0)
            dwv_pixels(s, img, out, oy, 0, a, c0, bm, false, nq, rem, off, wqc, acc0, p, sc, fb,
                       hybrid, sgn, true, pad);
        if (T == 9)
            dwv_pixels(s, img, out, oy, a, b, c0, bm, pair, 2, 1, off, wqc, acc0, p, sc, fb,
                       hybrid, sgn, false, pad);
        else
            dwv_pixels(s, img, out, oy, a, b, c0, bm, pair, nq, rem, off, wqc, acc0, p, sc, fb,
                       hybrid, sgn, false, pad);
        if (edges && !pair && OW > b)
            dwv_pixels(s, img, out, oy, b, OW, c0, bm, false, nq, rem, off, wqc, acc0, p, sc, fb,
                       hybrid, sgn, true, pad);
    }
    return c0 < c_end ? c0 : c_end;
}

/*
 * 3x3 windows, stride 1 or 2, dilation 1 (MobileNet's depthwise layers):
 * at stride 1 two output rows at a time from the four input
 * rows they read (stride 2: dw33_block).
 * Each input column's four rows are interleaved once per channel
 * (dwv_unpack4: byte i of each dword from row i) into a table of
 * DW33_COLS + 2 columns, so one VPDPBUSD adds a whole kernel column (three
 * taps) of 16 channels, and each interleaved vector serves both rows: the
 * upper with the weights (w0, w1, w2, 0) of that kernel column, the lower
 * with (0, w0, w1, w2). Per output pixel and 64 channels that is 12
 * VPDPBUSD and 4 byte shuffles (dw_row_vnni: 12 and 20). Input outside the
 * image (padding, the row below the last) reads as the code zu, whose
 * products the accumulator start (bias - zu sum(w)) takes back: acc = bias
 * + sum over the taps inside of (u - zu) w, the formula's value (modulo 2^32
 * on the way), so the borders need no separate loop. Blocks of 17..32
 * channels (C = 32, the 32 after 64 of C = 96, ...): two neighbouring output
 * pixels per vector (one 64-byte load per row when C = 32 at stride 1, two
 * 32-byte halves otherwise). The output stage is dwv_pixels' (rq16w_q,
 * saturating narrowing, clamp in bytes) with the accumulator start folded
 * into its constants (dw33_fold) and, under ReLU-like clamps, without the
 * rounding correction for negative values (dw33_q). Hybrid: the same tables
 * from the image's codes (zu its zero point, acc0 = - zu sum(w), no bias in
 * the integers), the float stage of dwv_pixels per vector (dw33_store_f).
 */
#define DW33_COLS 64

Q8_AVX512 static inline __attribute__((always_inline)) __m512i
dw33_row(const uint8_t *p, int64_t ix, int64_t W, int64_t C, bool pair, int64_t step,
         __mmask64 bm, __m512i flip, __m512i vzu8) {
    if (!p) return vzu8;
    if (!pair) {
        if (ix < 0 || ix >= W) return vzu8;
        return _mm512_xor_si512(_mm512_maskz_loadu_epi8(bm, p + ix * C), flip);
    }
    /* columns ix (low 32 bytes) and ix + step (high 32 bytes); bm's low half the channels */
    if (C == 32 && step == 1 && ix >= 0 && ix + 1 < W)
        return _mm512_xor_si512(_mm512_loadu_si512(p + ix * C), flip);
    const __mmask32 hm = (__mmask32)bm;
    const __m256i z8 = _mm512_castsi512_si256(vzu8), f8 = _mm512_castsi512_si256(flip);
    const __m256i lo =
        ix >= 0 && ix < W ? _mm256_xor_si256(_mm256_maskz_loadu_epi8(hm, p + ix * C), f8) : z8;
    const __m256i hi = ix + step >= 0 && ix + step < W
                           ? _mm256_xor_si256(_mm256_maskz_loadu_epi8(hm, p + (ix + step) * C), f8)
                           : z8;
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* rq16w_q of acc0 + x without the addition (no left shift): P = (acc0 + x) M0 = x M0 +
 * acc0 M0, the second term folded into the rounding constants (ce, co) and the test for a
 * negative h (P < -2^30: x M0 < lt = -2^30 - acc0 M0); x M0 and the sums are exact in 64
 * bits (|x|, |acc0| < 2^31, M0 < 2^31). */
Q8_AVX512 static inline void dw33_fold(rq16w *p, __m512i acc0, __m512i lt[2]) {
    const __m512i lim = _mm512_set1_epi64(-(1ll << 30));
    const __m512i fe = _mm512_mul_epi32(acc0, p->m0);
    const __m512i fo = _mm512_mul_epi32(_mm512_srli_epi64(acc0, 32), p->m0o);
    p->ce = _mm512_add_epi64(p->ce, fe);
    p->co = _mm512_add_epi64(p->co, fo);
    lt[0] = _mm512_sub_epi64(lim, fe);
    lt[1] = _mm512_sub_epi64(lim, fo);
}

/* corr false: without the correction for a negative h, which only moves results that are
 * <= 0 either way (h < 0: floor((h + 2^(r-1) - [1]) / 2^r) <= 0); when the output's lower
 * clamp is at or above its zero point (ReLU, ReLU6: lo >= zy) every such result gives lo. */
Q8_AVX512 static inline __attribute__((always_inline)) __m512i
dw33_q(__m512i x, const rq16w *p, const __m512i lt[2], bool corr) {
    const __m512i pe = _mm512_mul_epi32(x, p->m0);
    const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m0o);
    __m512i te = _mm512_add_epi64(pe, p->ce), to = _mm512_add_epi64(po, p->co);
    if (corr) {
        te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(pe, lt[0]), te, p->de);
        to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(po, lt[1]), to, p->dodd);
    }
    te = _mm512_srav_epi64(te, p->she);
    to = _mm512_srav_epi64(to, p->sho);
    return _mm512_mask_shuffle_epi32(te, 0xAAAA, to, (_MM_PERM_ENUM)0xA0);
}

/* Output bytes of acc (left: the whole accumulators, rq16w_q; else the sums after acc0,
 * dw33_q with acc0 folded into p and lt). Both dtypes as uint8: int8 outputs are computed
 * as their codes + 128 (zy16, lo8, hi8 shifted by 128 at setup, every narrowing step
 * monotone), then flipped back by fo = 0x80. */
Q8_AVX512 static inline __attribute__((always_inline)) __m512i
dw33_out(const __m512i acc[4], const rq16w p[4], const __m512i lt[4][2], bool left, bool corr,
         __m512i zy16, __m512i lo8, __m512i hi8, __m512i fo) {
    __m512i q[4];
    for (int k = 0; k < 4; k++) {
        if (left) {
            rq16w pk = p[k];
            pk.left = true; /* a constant here: no test per vector */
            q[k] = rq16w_q(acc[k], &pk);
        } else {
            q[k] = dw33_q(acc[k], &p[k], lt[k], corr);
        }
    }
    const __m512i w01 = _mm512_adds_epi16(_mm512_packs_epi32(q[0], q[1]), zy16);
    const __m512i w23 = _mm512_adds_epi16(_mm512_packs_epi32(q[2], q[3]), zy16);
    return _mm512_xor_si512(
        _mm512_min_epu8(_mm512_max_epu8(_mm512_packus_epi16(w01, w23), lo8), hi8), fo);
}

/* The output bytes of one vector: a pair's halves at two pixels (contiguous when C = 32) */
Q8_AVX512 static inline __attribute__((always_inline)) void
dw33_store(uint8_t *dst, __m512i y, int64_t C, bool pair, bool one, __mmask64 m) {
    if (!pair || C == 32) {
        _mm512_mask_storeu_epi8(dst, m, y);
        return;
    }
    _mm256_mask_storeu_epi8(dst, (__mmask32)m, _mm512_castsi512_si256(y));
    if (!one) _mm256_mask_storeu_epi8(dst + C, (__mmask32)m, _mm512_extracti64x4_epi64(y, 1));
}

/* Hybrid output of one vector's accumulators (channel order of dwv_unpack4): the float
 * stage of dwv_pixels and of the portable dw_out_one, (float)acc * (su sw) + bias, then
 * the clamp (max/min return their second operand on NaN: NaN passes like qlite_clampf),
 * back to channel order by the lane transpose: f[0..3] the 64 channels in order, or with
 * pairs f[0..1] the first pixel's 32 and f[2..3] the second's (at dst + C floats). */
Q8_AVX512 static inline __attribute__((always_inline)) void
dw33_store_f(uint8_t *dst, const __m512i acc[4], const __m512 sc[4], const __m512 fb[4],
             __m512 flo, __m512 fhi, int64_t C, bool pair, bool one, __mmask64 m) {
    __m512i f[4];
    for (int k = 0; k < 4; k++) {
        const __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[k]), sc[k]), fb[k]);
        f[k] = _mm512_castps_si512(_mm512_min_ps(fhi, _mm512_max_ps(flo, v)));
    }
    dwv_lanes_t(f);
    float *d = (float *)(void *)dst;
    const int nv = pair && one ? 2 : 4; /* one: the second pixel is past the row */
    for (int k = 0; k < nv; k++) {
        float *dk = pair && k >= 2 ? d + C + 16 * (k - 2) : d + 16 * k;
        _mm512_mask_storeu_ps(dk, (__mmask16)(m >> (16 * k)), _mm512_castsi512_ps(f[k]));
    }
}

/* Items [i0, i1) of image n, item i = output rows 2 i and 2 i + 1 (if there is one),
 * channels [c0, c0 + cnt), cnt <= 64 (pair: cnt <= 32, two output pixels per vector); the
 * weights and output parameters set up once for all of them. Stride 2 (s2): item i = output
 * row i alone, its three input rows interleaved with the zero point as the fourth, each
 * table column serving the two outputs whose windows share it (DW33_COLS / 2 outputs per
 * chunk). */
Q8_AVX512 static inline __attribute__((always_inline)) void
dw33_block(const dwq_state *s, const dwq_job *j, int64_t n, int64_t i0, int64_t i1, int64_t c0,
           int64_t cnt, bool pair, bool s2, bool left, bool corr, bool hyb) {
    const qlite_conv_geom *g = &s->g;
    const int64_t H = g->H, W = g->W, C = g->C, OH = g->OH, OW = g->OW;
    /* pair: the channel mask in each 32-byte half */
    const __mmask64 bh = cnt >= 32 ? 0xFFFFFFFFu : (((__mmask64)1 << cnt) - 1);
    const __mmask64 bm = pair ? bh | bh << 32 : cnt >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << cnt) - 1);
    const __m512i flip = _mm512_set1_epi8((char)s->flip);
    const __m512i vzu8 = _mm512_set1_epi8((char)(uint8_t)(hyb ? j->zu[n] : s->zu));
    const __m512i z = _mm512_setzero_si512();
    __m512i wt[9], wa[3][4], wb[3][4] = {{z, z, z, z}, {z, z, z, z}, {z, z, z, z}};
    for (int t = 0; t < 9; t++)
        wt[t] = pair ? _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi8((__mmask32)bh, j->w + t * C + c0))
                     : _mm512_maskz_loadu_epi8(bm, j->w + t * C + c0);
    for (int kx = 0; kx < 3; kx++) {
        dwv_unpack4(wt[kx], wt[3 + kx], wt[6 + kx], z, wa[kx]);
        if (!s2) dwv_unpack4(z, wt[kx], wt[3 + kx], wt[6 + kx], wb[kx]);
    }
    __m512i acc0[4] = {z, z, z, z}, zs[4] = {z, z, z, z};
    if (!hyb && s->cols.bias) dwv_load_perm(s->cols.bias, c0, pair, acc0);
    for (int kx = 0; kx < 3; kx++)
        for (int k = 0; k < 4; k++) zs[k] = _mm512_dpbusd_epi32(zs[k], vzu8, wa[kx][k]);
    for (int k = 0; k < 4; k++) acc0[k] = _mm512_sub_epi32(acc0[k], zs[k]);
    /* the requantization parameters in the accumulators' channel order (hybrid: the float
     * scales su sw and biases, as dwv_pixels) */
    rq16w p[4];
    __m512 sc[4], fb[4];
    dwv_out_params(s, j, n, c0, pair, hyb, p, sc, fb);
    __m512i lt[4][2];
    for (int k = 0; k < 4; k++) {
        if (!left && !hyb) {
            dw33_fold(&p[k], acc0[k], lt[k]);
            acc0[k] = z; /* the sums start at 0 */
        } else {
            lt[k][0] = lt[k][1] = z;
        }
    }
    const int32_t ob8 = s->cols.hi <= 127 ? 128 : 0; /* int8 output: its codes + 128 */
    const __m512i zy16 = _mm512_set1_epi16((int16_t)(s->cols.zy + ob8));
    const __m512i lo8 = _mm512_set1_epi8((char)(uint8_t)(s->cols.lo + ob8));
    const __m512i hi8 = _mm512_set1_epi8((char)(uint8_t)(s->cols.hi + ob8));
    const __m512i fo = _mm512_set1_epi8((char)(uint8_t)ob8);
    const __m512 flo = _mm512_set1_ps(s->hc.lo), fhi = _mm512_set1_ps(s->hc.hi);
    const size_t es = hyb ? 4 : 1;
    const uint8_t *img = j->x + (size_t)(n * H * W * C);
    __m512i tab[(DW33_COLS + 2) * 4];
    for (int64_t item = i0; item < i1; item++) {
        const int64_t oy = s2 ? item : 2 * item;
        const uint8_t *rp[4];
        for (int i = 0; i < 4; i++) {
            const int64_t iy = (s2 ? 2 * oy : oy) - g->pt + i;
            rp[i] = iy >= 0 && iy < H && !(s2 && i == 3) ? img + iy * W * C + c0 : NULL;
        }
        const bool second = !s2 && oy + 1 < OH;
        const int64_t step = s2 ? 2 : 1, chunk = s2 ? DW33_COLS / 2 : DW33_COLS;
        uint8_t *oa = (uint8_t *)j->y + (size_t)((n * OH + oy) * OW * C + c0) * es;
        uint8_t *ob = oa + (size_t)(OW * C) * es;
        for (int64_t ox0 = 0; ox0 < OW; ox0 += chunk) {
            const int64_t cw = OW - ox0 < chunk ? OW - ox0 : chunk;
            const int64_t ixa = step * ox0 - g->pl;
            for (int64_t i = 0; i < step * (cw - 1) + 3; i++) {
                const int64_t ix = ixa + i;
                dwv_unpack4(dw33_row(rp[0], ix, W, C, pair, step, bm, flip, vzu8),
                            dw33_row(rp[1], ix, W, C, pair, step, bm, flip, vzu8),
                            dw33_row(rp[2], ix, W, C, pair, step, bm, flip, vzu8),
                            dw33_row(rp[3], ix, W, C, pair, step, bm, flip, vzu8), &tab[4 * i]);
            }
            for (int64_t o = 0; o < cw; o += pair ? 2 : 1) {
                const __m512i *t = &tab[4 * step * o];
                const bool one = pair && o + 1 == cw; /* a pair's second pixel is past the row */
                const __mmask64 m = one ? bh : bm;
                __m512i aa[4], ab[4];
                for (int k = 0; k < 4; k++) aa[k] = ab[k] = acc0[k];
                for (int kx = 0; kx < 3; kx++)
                    for (int k = 0; k < 4; k++)
                        aa[k] = _mm512_dpbusd_epi32(aa[k], t[4 * kx + k], wa[kx][k]);
                if (hyb)
                    dw33_store_f(oa + (size_t)((ox0 + o) * C) * es, aa, sc, fb, flo, fhi, C, pair,
                                 one, m);
                else
                    dw33_store(oa + (ox0 + o) * C,
                               dw33_out(aa, p, lt, left, corr, zy16, lo8, hi8, fo), C, pair, one, m);
                if (second) {
                    for (int kx = 0; kx < 3; kx++)
                        for (int k = 0; k < 4; k++)
                            ab[k] = _mm512_dpbusd_epi32(ab[k], t[4 * kx + k], wb[kx][k]);
                    if (hyb)
                        dw33_store_f(ob + (size_t)((ox0 + o) * C) * es, ab, sc, fb, flo, fhi, C,
                                     pair, one, m);
                    else
                        dw33_store(ob + (ox0 + o) * C,
                                   dw33_out(ab, p, lt, left, corr, zy16, lo8, hi8, fo), C, pair,
                                   one, m);
                }
            }
        }
    }
}

Q8_AVX512 static void dw_row_avx512(const dwq_state *s, const dwq_job *j, size_t row,
                                    int64_t c_begin, int64_t c_end);

/* Items [i0, i1) of image n of the 3x3 paths (s->k33; item i: output rows 2 i, 2 i + 1, at
 * stride 2 row i), channels [c_begin, c_end). A last block of 9..32 channels (stride 2:
 * 17..32) takes two output pixels per vector; a smaller one goes to dw_row_avx512 (16
 * channels per vector: less work than a block of table and output stage). MobileNetV2's
 * 144 channels, 1 thread: the last 16 as pairs took 0.91x the time at stride 1 and
 * 1.03x at stride 2 (3 interleaved runs, per-op medians). */
Q8_AVX512 static void dw33_rows(const dwq_state *s, const dwq_job *j, int64_t n, int64_t i0,
                                int64_t i1, int64_t c_begin, int64_t c_end) {
    const bool s2 = s->k33 == 2;
    const bool hyb = s->hybrid;
    const bool left = !hyb && s->cols.any_lshift, corr = !hyb && s->cols.lo < s->cols.zy;
#define DW33_CALL(P, S2)                                                                 \
    do {                                                                                 \
        if (hyb)                                                                         \
            dw33_block(s, j, n, i0, i1, c0, cnt, P, S2, false, false, true);             \
        else if (left)                                                                   \
            dw33_block(s, j, n, i0, i1, c0, cnt, P, S2, true, true, false);              \
        else if (corr)                                                                   \
            dw33_block(s, j, n, i0, i1, c0, cnt, P, S2, false, true, false);             \
        else                                                                             \
            dw33_block(s, j, n, i0, i1, c0, cnt, P, S2, false, false, false);            \
    } while (0)
    for (int64_t c0 = c_begin; c0 < c_end; c0 += 64) {
        const int64_t cnt = c_end - c0 < 64 ? c_end - c0 : 64;
        if (cnt <= (s2 ? 16 : 8)) {
            for (int64_t r = s2 ? i0 : 2 * i0; r < (s2 ? i1 : 2 * i1) && r < s->g.OH; r++)
                dw_row_avx512(s, j, (size_t)(n * s->g.OH + r), c0, c_end);
        } else if (cnt <= 32) { /* two pixels per vector */
            if (s2) DW33_CALL(true, true);
            else DW33_CALL(true, false);
        } else if (s2) {
            DW33_CALL(false, true);
        } else {
            DW33_CALL(false, false);
        }
    }
#undef DW33_CALL
}

/*
 * One output row, every channel: AVX-512, 16 channels per register. Per
 * block the tap weights are widened once; pixels whose window is inside
 * the input along x use acc = bias - zx sum(w over the taps of the rows
 * inside) + sum x w (no per-tap subtraction); the others subtract zx from
 * each tap they read.
 */
Q8_AVX512 static void dw_row_avx512(const dwq_state *s, const dwq_job *j, size_t row,
                                    int64_t c_begin, int64_t c_end) {
    const qlite_conv_geom *g = &s->g;
    const int64_t H = g->H, W = g->W, C = g->C, KH = g->KH, KW = g->KW, OW = g->OW;
    const int64_t sh = g->sh, sw = g->sw, dh = g->dh, dw = g->dw, pt = g->pt, pl = g->pl;
    const int64_t n = (int64_t)row / g->OH, oy = (int64_t)row % g->OH;
    const bool hybrid = s->hybrid, sgn = !hybrid && s->is_signed;
    const int32_t zx = hybrid ? j->zu[n] : s->zx;
    const __m512i vzx = _mm512_set1_epi32(zx);
    /* the kernel rows inside the input: a contiguous range */
    int64_t ky0 = 0, ky1 = KH;
    while (ky0 < KH && oy * sh - pt + ky0 * dh < 0) ky0++;
    while (ky1 > ky0 && oy * sh - pt + (ky1 - 1) * dh >= H) ky1--;
    int64_t oxa, oxb; /* the pixels whose whole window row is inside the input */
    dw_inner_cols(g, &oxa, &oxb);
    /* every kernel row inside: the interior pixels by VPDPBUSD, the edges below */
    const bool inner = ky0 == 0 && ky1 == KH;
    /* 32 channels at stride 1 (pixel pairs): the interior only; otherwise every pixel */
    const bool all = !(C == 32 && sw == 1 && c_begin == 0 && c_end == 32);
    const int64_t cv = all || (inner && oxb > oxa)
                           ? dw_row_vnni(s, j, row, c_begin, c_end, oxa, oxb, inner, all)
                           : c_begin;
    const uint8_t *img = j->x + (size_t)(n * H * W * C);
    const size_t es = hybrid ? 4 : 1;
    uint8_t *out = (uint8_t *)j->y + row * (size_t)OW * (size_t)C * es;
    __m512i wv[64];
    for (int64_t c0 = c_begin; c0 < c_end; c0 += 16) {
        if (all && c0 < cv) continue; /* dw_row_vnni did every pixel */
        const size_t cnt = c_end - c0 < 16 ? (size_t)(c_end - c0) : 16;
        const __mmask16 cm = (__mmask16)((1u << cnt) - 1);
        __m512i wsum = _mm512_setzero_si512();
        /* weights as int16 in the low half of each lane, 0 above: VPMADDWD of a lane then
         * gives x * w exactly (x in the low half; whatever is above meets the 0) and costs
         * less than VPMULLD */
        const __m512i lo16 = _mm512_set1_epi32(0xFFFF);
        for (int64_t t = ky0 * KW; t < ky1 * KW; t++) {
            const __m512i w32 = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(cm, j->w + t * C + c0));
            wsum = _mm512_add_epi32(wsum, w32);
            wv[t] = _mm512_and_si512(w32, lo16);
        }
        const __m512i bias =
            hybrid ? _mm512_setzero_si512() : _mm512_loadu_si512(s->cols.bias + c0);
        const __m512i bias_in = _mm512_sub_epi32(bias, _mm512_mullo_epi32(vzx, wsum));
        rq16 p;
        __m512 sc = _mm512_setzero_ps(), fb = _mm512_setzero_ps();
        if (hybrid) {
            memset(&p, 0, sizeof p);
            sc = _mm512_mul_ps(_mm512_set1_ps(j->su[n]),
                               _mm512_maskz_loadu_ps(cm, s->hc.wscale + c0));
            if (s->hc.bias) fb = _mm512_maskz_loadu_ps(cm, s->hc.bias + c0);
        } else {
            p = rq16_load(&s->cols, (size_t)c0);
        }
        const __m512 flo = _mm512_set1_ps(s->hc.lo), fhi = _mm512_set1_ps(s->hc.hi);
        /* 3x3, dilation 1, all three rows inside: the nine taps unrolled, weights in registers */
        const bool k33 = KH == 3 && KW == 3 && dw == 1 && dh == 1 && ky0 == 0 && ky1 == 3;
        __m512i w0 = wv[0], w1 = wv[1], w2 = wv[2], w3 = wv[3], w4 = wv[4], w5 = wv[5];
        __m512i w6 = wv[6], w7 = wv[7], w8 = wv[8];
        if (!k33) w0 = w1 = w2 = w3 = w4 = w5 = w6 = w7 = w8 = _mm512_setzero_si512();
        for (int64_t ox = 0; ox < OW; ox++) {
            if (c0 < cv && ox == oxa) {
                ox = oxb - 1;
                continue;
            }
            const int64_t ix0 = ox * sw - pl;
            __m512i acc;
            if (k33 && ox >= oxa && ox < oxb) {
                const uint8_t *r0 = img + ((oy * sh - pt) * W + ix0) * C + c0;
                const uint8_t *r1 = r0 + W * C, *r2 = r1 + W * C;
#define DW_TAP(ptr, w)                                                                         \
    do {                                                                                       \
        const __m128i xb_ = _mm_maskz_loadu_epi8(cm, (ptr));                                   \
        acc = _mm512_add_epi32(                                                                \
            acc, _mm512_madd_epi16(sgn ? _mm512_cvtepi8_epi32(xb_) : _mm512_cvtepu8_epi32(xb_), \
                                   (w)));                                                      \
    } while (0)
                acc = bias_in;
                DW_TAP(r0, w0);
                DW_TAP(r0 + C, w1);
                DW_TAP(r0 + 2 * C, w2);
                DW_TAP(r1, w3);
                DW_TAP(r1 + C, w4);
                DW_TAP(r1 + 2 * C, w5);
                DW_TAP(r2, w6);
                DW_TAP(r2 + C, w7);
                DW_TAP(r2 + 2 * C, w8);
#undef DW_TAP
            } else if (ox >= oxa && ox < oxb) {
                acc = bias_in;
                for (int64_t ky = ky0; ky < ky1; ky++) {
                    const uint8_t *xp = img + ((oy * sh - pt + ky * dh) * W + ix0) * C + c0;
                    for (int64_t kx = 0; kx < KW; kx++, xp += dw * C) {
                        const __m128i xb = _mm_maskz_loadu_epi8(cm, xp);
                        const __m512i xv =
                            sgn ? _mm512_cvtepi8_epi32(xb) : _mm512_cvtepu8_epi32(xb);
                        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(xv, wv[ky * KW + kx]));
                    }
                }
            } else {
                acc = bias;
                for (int64_t ky = ky0; ky < ky1; ky++) {
                    const uint8_t *xr = img + (oy * sh - pt + ky * dh) * W * C + c0;
                    for (int64_t kx = 0; kx < KW; kx++) {
                        const int64_t ix = ix0 + kx * dw;
                        if (ix < 0 || ix >= W) continue;
                        const __m128i xb = _mm_maskz_loadu_epi8(cm, xr + ix * C);
                        const __m512i xv =
                            sgn ? _mm512_cvtepi8_epi32(xb) : _mm512_cvtepu8_epi32(xb);
                        acc = _mm512_add_epi32(
                            acc, _mm512_madd_epi16(_mm512_sub_epi32(xv, vzx), wv[ky * KW + kx]));
                    }
                }
            }
            if (hybrid) {
                __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), sc), fb);
                /* max/min return their second operand on NaN: NaN passes like qlite_clampf */
                v = _mm512_min_ps(fhi, _mm512_max_ps(flo, v));
                _mm512_mask_storeu_ps((float *)(void *)out + ox * C + c0, cm, v);
            } else {
                _mm_mask_storeu_epi8(out + ox * C + c0, cm,
                                     _mm512_cvtepi32_epi8(rq16_apply(acc, &p)));
            }
        }
    }
}

/* One output pixel, channels [c0, c0 + 8): AVX2. */
Q8_AVX2 static void dw_block_avx2(const dwq_state *s, const dwq_job *j, int64_t n, int64_t oy,
                                  int64_t ox, size_t c0, void *out) {
    const qlite_conv_geom *g = &s->g;
    const __m128i flip = _mm_set1_epi8((char)s->flip);
    const int32_t zu = j->zu ? j->zu[n] : s->zu;
    const __m256i vzu = _mm256_set1_epi32(zu);
    __m256i acc = s->hybrid ? _mm256_setzero_si256()
                            : _mm256_loadu_si256((const __m256i *)(s->cols.bias + c0));
    for (int64_t ky = 0; ky < g->KH; ky++) {
        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
        if (iy < 0 || iy >= g->H) continue;
        const uint8_t *xrow = j->x + ((n * g->H + iy) * g->W) * g->C + (int64_t)c0;
        const int8_t *wrow = j->w + (ky * g->KW) * g->O + (int64_t)c0;
        for (int64_t kx = 0; kx < g->KW; kx++) {
            const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
            if (ix < 0 || ix >= g->W) continue;
            const __m128i xb =
                _mm_xor_si128(_mm_loadl_epi64((const __m128i *)(xrow + ix * g->C)), flip);
            const __m256i xv = _mm256_sub_epi32(_mm256_cvtepu8_epi32(xb), vzu);
            /* int16 weights in the low halves, 0 above: VPMADDWD = the exact product */
            const __m256i wv = _mm256_and_si256(
                _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(wrow + kx * g->O))),
                _mm256_set1_epi32(0xFFFF));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv));
        }
    }
    if (s->hybrid) {
        const __m256 sc =
            _mm256_mul_ps(_mm256_set1_ps(j->su[n]), _mm256_loadu_ps(s->hc.wscale + c0));
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), sc);
        if (s->hc.bias) v = _mm256_add_ps(v, _mm256_loadu_ps(s->hc.bias + c0));
        v = _mm256_min_ps(_mm256_set1_ps(s->hc.hi), _mm256_max_ps(_mm256_set1_ps(s->hc.lo), v));
        _mm256_storeu_ps((float *)out + c0, v);
    } else {
        const rq8 p = rq8_load(&s->cols, c0);
        _mm_storel_epi64((__m128i *)((uint8_t *)out + c0), bytes8(rq8_apply(acc, &p)));
    }
}

/*
 * AVX2, 16 channels per step as int16: each tap's 16 input codes widened
 * (VPMOVZXBW; signed inputs VPMOVSXBW) minus the zero point (|x - z| <=
 * 255), two taps' vectors interleaved by VPUNPCKLWD / VPUNPCKHWD and one
 * VPMADDWD per 8 channels against the weights stored as int16 pairs at
 * prepare (dwq_state.w16: per 16-channel block and tap pair, 32 int16 in
 * the unpack order, a missing last tap as 0), so one instruction adds two
 * taps' exact products (|sum| <= 2 * 255 * 128) for 8 channels. The
 * accumulators hold channels {0-3, 8-11} and {4-7, 12-15}; VPERM2I128 puts
 * them back in order for the output stage of dw_block_avx2 (rq8_apply /
 * the hybrid float stage). Taps outside the input read as 0 (border
 * pixels); the tap pointers are computed once per output pixel and serve
 * every channel block.
 */
Q8_AVX2 static inline __attribute__((always_inline)) __m256i dw2_x(const uint8_t *p, size_t c0,
                                                                   bool sgn, __m256i vz) {
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + c0));
    return _mm256_sub_epi16(sgn ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b), vz);
}

Q8_AVX2 static inline __attribute__((always_inline)) void
dw2_pixel(const dwq_state *s, const dwq_job *j, int64_t n, const uint8_t *const *tp, size_t taps,
          size_t nb, int32_t z, void *out, bool sgn, bool border) {
    const __m256i vz = _mm256_set1_epi16((int16_t)z), zero = _mm256_setzero_si256();
    const size_t np = (taps + 1) / 2;
    const int16_t *wt = s->w16;
    for (size_t b = 0; b < nb; b++, wt += np * 32) {
        const size_t c0 = b * 16;
        __m256i a = zero, h = zero;
        size_t t = 0;
        for (; t + 2 <= taps; t += 2) {
            const __m256i x0 = !border || tp[t] ? dw2_x(tp[t], c0, sgn, vz) : zero;
            const __m256i x1 = !border || tp[t + 1] ? dw2_x(tp[t + 1], c0, sgn, vz) : zero;
            const __m256i *w = (const __m256i *)(const void *)(wt + t * 16);
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                      _mm256_loadu_si256(w)));
            h = _mm256_add_epi32(h, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                      _mm256_loadu_si256(w + 1)));
        }
        if (t < taps && (!border || tp[t])) {
            const __m256i x0 = dw2_x(tp[t], c0, sgn, vz);
            const __m256i *w = (const __m256i *)(const void *)(wt + t * 16);
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, zero),
                                                      _mm256_loadu_si256(w)));
            h = _mm256_add_epi32(h, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, zero),
                                                      _mm256_loadu_si256(w + 1)));
        }
        __m256i lo = _mm256_permute2x128_si256(a, h, 0x20); /* channels c0 .. c0 + 7 */
        __m256i hi = _mm256_permute2x128_si256(a, h, 0x31); /* c0 + 8 .. c0 + 15 */
        if (s->hybrid) {
            const __m256 su = _mm256_set1_ps(j->su[n]);
            const __m256 flo = _mm256_set1_ps(s->hc.lo), fhi = _mm256_set1_ps(s->hc.hi);
            __m256 v0 = _mm256_mul_ps(_mm256_cvtepi32_ps(lo),
                                      _mm256_mul_ps(su, _mm256_loadu_ps(s->hc.wscale + c0)));
            __m256 v1 = _mm256_mul_ps(_mm256_cvtepi32_ps(hi),
                                      _mm256_mul_ps(su, _mm256_loadu_ps(s->hc.wscale + c0 + 8)));
            if (s->hc.bias) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(s->hc.bias + c0));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(s->hc.bias + c0 + 8));
            }
            _mm256_storeu_ps((float *)out + c0, _mm256_min_ps(fhi, _mm256_max_ps(flo, v0)));
            _mm256_storeu_ps((float *)out + c0 + 8, _mm256_min_ps(fhi, _mm256_max_ps(flo, v1)));
        } else {
            lo = _mm256_add_epi32(lo, _mm256_loadu_si256((const __m256i *)(s->cols.bias + c0)));
            hi = _mm256_add_epi32(hi,
                                  _mm256_loadu_si256((const __m256i *)(s->cols.bias + c0 + 8)));
            const rq8 p0 = rq8_load(&s->cols, c0);
            const __m128i b0 = bytes8(rq8_apply(lo, &p0));
            const rq8 p1 = rq8_load(&s->cols, c0 + 8);
            const __m128i b1 = bytes8(rq8_apply(hi, &p1));
            _mm_storeu_si128((__m128i *)(void *)((uint8_t *)out + c0), _mm_unpacklo_epi64(b0, b1));
        }
    }
}

/* Output pixel (n, oy, ox), channels [0, 16 nb) (nb = O / 16): dw2_pixel with the tap
 * pointers of this pixel (NULL outside the input). */
Q8_AVX2 static void dw2_block_avx2(const dwq_state *s, const dwq_job *j, int64_t n, int64_t oy,
                                   int64_t ox, size_t nb, void *out) {
    const qlite_conv_geom *g = &s->g;
    const uint8_t *tp[64];
    size_t t = 0;
    bool border = false;
    for (int64_t ky = 0; ky < g->KH; ky++) {
        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
        const bool yin = iy >= 0 && iy < g->H;
        for (int64_t kx = 0; kx < g->KW; kx++, t++) {
            const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
            if (yin && ix >= 0 && ix < g->W) {
                tp[t] = j->x + ((n * g->H + iy) * g->W + ix) * g->C;
            } else {
                tp[t] = NULL;
                border = true;
            }
        }
    }
    const size_t taps = t;
    if (taps == 9) { /* 3x3: the pair loop unrolled */
        const bool sgn = !s->hybrid && s->is_signed;
        const int32_t z = s->hybrid ? (j->zu ? j->zu[n] : s->zu) : sgn ? s->zx : s->zu;
        if (sgn) {
            if (border) dw2_pixel(s, j, n, tp, 9, nb, z, out, true, true);
            else dw2_pixel(s, j, n, tp, 9, nb, z, out, true, false);
        } else {
            if (border) dw2_pixel(s, j, n, tp, 9, nb, z, out, false, true);
            else dw2_pixel(s, j, n, tp, 9, nb, z, out, false, false);
        }
        return;
    }
    if (s->hybrid) {
        const int32_t z = j->zu ? j->zu[n] : s->zu;
        if (border) dw2_pixel(s, j, n, tp, taps, nb, z, out, false, true);
        else dw2_pixel(s, j, n, tp, taps, nb, z, out, false, false);
    } else if (s->is_signed) {
        if (border) dw2_pixel(s, j, n, tp, taps, nb, s->zx, out, true, true);
        else dw2_pixel(s, j, n, tp, taps, nb, s->zx, out, true, false);
    } else {
        if (border) dw2_pixel(s, j, n, tp, taps, nb, s->zu, out, false, true);
        else dw2_pixel(s, j, n, tp, taps, nb, s->zu, out, false, false);
    }
}

/*
 * Output pixels [ox0, ox1) of row (n, oy) whose taps are all inside the
 * input (integer, not hybrid; O = 16 nb): 16-channel blocks outer, pixels
 * inner, so a block's requantization parameters and bias are set up once a
 * row, and its taps are fixed offsets from the pixel's first one. The codes
 * are widened without the zero point: sum_t (x_t - z) w_t = sum_t x_t w_t -
 * z sum_t w_t, the second term (with the bias) once per block and row from
 * the same int16 weights (every tap is present here; exact in int32 like
 * dw2_pixel's sums). Same bits as dw2_pixel.
 */
Q8_AVX2 static inline __attribute__((always_inline)) void
dw2_row_inner(const dwq_state *s, const dwq_job *j, int64_t n, int64_t oy, int64_t ox0,
              int64_t ox1, size_t nb, uint8_t *yrow, bool sgn, int32_t z) {
    const qlite_conv_geom *g = &s->g;
    const size_t taps = (size_t)(g->KH * g->KW), np = (taps + 1) / 2, O = nb * 16;
    ptrdiff_t off[64];
    for (int64_t ky = 0, t = 0; ky < g->KH; ky++)
        for (int64_t kx = 0; kx < g->KW; kx++, t++)
            off[t] = (ptrdiff_t)((ky * g->dh * g->W + kx * g->dw) * g->C);
    const uint8_t *x0p =
        j->x + ((n * g->H + oy * g->sh - g->pt) * g->W + ox0 * g->sw - g->pl) * g->C;
    const ptrdiff_t step = (ptrdiff_t)(g->sw * g->C);
    const __m256i ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
    const __m256i vz = _mm256_set1_epi32(z);
    for (size_t b = 0; b < nb; b++) {
        const size_t c0 = b * 16;
        const __m256i *wt = (const __m256i *)(const void *)(s->w16 + b * np * 32);
        __m256i sa = zero, sh = zero;
        for (size_t p = 0; p < np; p++) {
            sa = _mm256_add_epi32(sa, _mm256_madd_epi16(_mm256_loadu_si256(wt + 2 * p), ones));
            sh = _mm256_add_epi32(sh,
                                  _mm256_madd_epi16(_mm256_loadu_si256(wt + 2 * p + 1), ones));
        }
        const __m256i clo = _mm256_sub_epi32(
            _mm256_loadu_si256((const __m256i *)(s->cols.bias + c0)),
            _mm256_mullo_epi32(vz, _mm256_permute2x128_si256(sa, sh, 0x20)));
        const __m256i chi = _mm256_sub_epi32(
            _mm256_loadu_si256((const __m256i *)(s->cols.bias + c0 + 8)),
            _mm256_mullo_epi32(vz, _mm256_permute2x128_si256(sa, sh, 0x31)));
        const rq8 p0 = rq8_load(&s->cols, c0), p1 = rq8_load(&s->cols, c0 + 8);
        const uint8_t *px = x0p + c0;
        uint8_t *out = yrow + (size_t)ox0 * O + c0;
        for (int64_t ox = ox0; ox < ox1; ox++, px += step, out += O) {
            __m256i a = zero, h = zero;
            size_t t = 0;
            for (; t + 2 <= taps; t += 2) {
                const __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)(px + off[t]));
                const __m128i b1 =
                    _mm_loadu_si128((const __m128i *)(const void *)(px + off[t + 1]));
                const __m256i v0 = sgn ? _mm256_cvtepi8_epi16(b0) : _mm256_cvtepu8_epi16(b0);
                const __m256i v1 = sgn ? _mm256_cvtepi8_epi16(b1) : _mm256_cvtepu8_epi16(b1);
                a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_unpacklo_epi16(v0, v1),
                                                          _mm256_loadu_si256(wt + t)));
                h = _mm256_add_epi32(h, _mm256_madd_epi16(_mm256_unpackhi_epi16(v0, v1),
                                                          _mm256_loadu_si256(wt + t + 1)));
            }
            if (t < taps) {
                const __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)(px + off[t]));
                const __m256i v0 = sgn ? _mm256_cvtepi8_epi16(b0) : _mm256_cvtepu8_epi16(b0);
                a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_unpacklo_epi16(v0, zero),
                                                          _mm256_loadu_si256(wt + t)));
                h = _mm256_add_epi32(h, _mm256_madd_epi16(_mm256_unpackhi_epi16(v0, zero),
                                                          _mm256_loadu_si256(wt + t + 1)));
            }
            const __m256i lo = _mm256_add_epi32(_mm256_permute2x128_si256(a, h, 0x20), clo);
            const __m256i hi = _mm256_add_epi32(_mm256_permute2x128_si256(a, h, 0x31), chi);
            _mm_storeu_si128((__m128i *)(void *)out,
                             _mm_unpacklo_epi64(bytes8(rq8_apply(lo, &p0)),
                                                bytes8(rq8_apply(hi, &p1))));
        }
    }
}

/* Row (n, oy), integer, O = 16 nb: the border pixels by dw2_block_avx2, the rest by
 * dw2_row_inner (when every tap row is inside the input). */
Q8_AVX2 static void dw2_row_avx2(const dwq_state *s, const dwq_job *j, int64_t n, int64_t oy,
                                 size_t nb, uint8_t *yrow) {
    const qlite_conv_geom *g = &s->g;
    const size_t O = nb * 16;
    int64_t lo = 0, hi = 0; /* interior pixels [lo, hi) */
    const int64_t iy0 = oy * g->sh - g->pt, iy1 = iy0 + (g->KH - 1) * g->dh;
    if (iy0 >= 0 && iy1 < g->H) dw_inner_cols(g, &lo, &hi);
    for (int64_t ox = 0; ox < lo; ox++) dw2_block_avx2(s, j, n, oy, ox, nb, yrow + ox * O);
    if (lo < hi) {
        const bool sgn = s->is_signed;
        if (sgn) dw2_row_inner(s, j, n, oy, lo, hi, nb, yrow, true, s->zx);
        else dw2_row_inner(s, j, n, oy, lo, hi, nb, yrow, false, s->zu);
    }
    for (int64_t ox = hi > lo ? hi : lo; ox < g->OW; ox++)
        dw2_block_avx2(s, j, n, oy, ox, nb, yrow + ox * O);
}
#endif

#ifdef DWQ_NEON
/*
 * One output pixel, channels [c0, c0 + 8): NEON. Each tap widens 8 input
 * codes to int16, subtracts the zero point (|u - zu| <= 255) and
 * multiply-accumulates with the int16 weights into two int32x4 (exact);
 * then the output stage per lane: int8 codes through SQSHL / SQRDMULH /
 * rounding shift, which are qlite_requantize's steps (saturating left
 * shift, srdhm with ties toward +inf, rdbpot with ties away from zero: a
 * negative h is lowered by 1 before the rounding shift), bit-exact; hybrid
 * float output as the portable stage ((float)acc * (su * wscale), then the
 * bias, then the clamp; no fused multiply-add).
 */
static void dw_block_neon(const dwq_state *s, const dwq_job *j, int64_t n, int64_t oy,
                          int64_t ox, size_t c0, void *out) {
    const qlite_conv_geom *g = &s->g;
    const uint8x8_t flip = vdup_n_u8(s->flip);
    const int16x8_t vzu = vdupq_n_s16((int16_t)(j->zu ? j->zu[n] : s->zu));
    int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0);
    if (!s->hybrid && s->cols.bias) {
        a0 = vld1q_s32(s->cols.bias + c0);
        a1 = vld1q_s32(s->cols.bias + c0 + 4);
    }
    for (int64_t ky = 0; ky < g->KH; ky++) {
        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
        if (iy < 0 || iy >= g->H) continue;
        const uint8_t *xrow = j->x + ((n * g->H + iy) * g->W) * g->C + (int64_t)c0;
        const int8_t *wrow = j->w + (ky * g->KW) * g->O + (int64_t)c0;
        for (int64_t kx = 0; kx < g->KW; kx++) {
            const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
            if (ix < 0 || ix >= g->W) continue;
            const uint8x8_t xb = veor_u8(vld1_u8(xrow + ix * g->C), flip);
            const int16x8_t xv = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(xb)), vzu);
            const int16x8_t wv = vmovl_s8(vld1_s8(wrow + kx * g->O));
            a0 = vmlal_s16(a0, vget_low_s16(xv), vget_low_s16(wv));
            a1 = vmlal_s16(a1, vget_high_s16(xv), vget_high_s16(wv));
        }
    }
    if (s->hybrid) {
        const float32x4_t su = vdupq_n_f32(j->su[n]);
        float32x4_t v0 = vmulq_f32(vcvtq_f32_s32(a0), vmulq_f32(su, vld1q_f32(s->hc.wscale + c0)));
        float32x4_t v1 =
            vmulq_f32(vcvtq_f32_s32(a1), vmulq_f32(su, vld1q_f32(s->hc.wscale + c0 + 4)));
        if (s->hc.bias) {
            v0 = vaddq_f32(v0, vld1q_f32(s->hc.bias + c0));
            v1 = vaddq_f32(v1, vld1q_f32(s->hc.bias + c0 + 4));
        }
        const float32x4_t lo = vdupq_n_f32(s->hc.lo), hi = vdupq_n_f32(s->hc.hi);
        vst1q_f32((float *)out + c0, vminq_f32(vmaxq_f32(v0, lo), hi));
        vst1q_f32((float *)out + c0 + 4, vminq_f32(vmaxq_f32(v1, lo), hi));
        return;
    }
    const qlite_q8_cols *q = &s->cols;
    int32x4_t r[2] = {a0, a1};
    for (int h = 0; h < 2; h++) {
        const size_t c = c0 + 4 * (size_t)h;
        const int32x4_t rs = vld1q_s32(q->rshift + c);
        int32x4_t v = vqshlq_s32(r[h], vld1q_s32(q->lshift + c));
        v = vqrdmulhq_s32(v, vld1q_s32(q->mult + c));
        /* ties away from zero: v - 1 where v < 0 and the shift is not 0 */
        const uint32x4_t fix = vandq_u32(vcltq_s32(v, vdupq_n_s32(0)),
                                         vcgtq_s32(rs, vdupq_n_s32(0)));
        v = vqaddq_s32(v, vreinterpretq_s32_u32(fix)); /* all ones = -1 */
        v = vrshlq_s32(v, vnegq_s32(rs));
        v = vqaddq_s32(v, vdupq_n_s32(q->zy));
        r[h] = vminq_s32(vmaxq_s32(v, vdupq_n_s32(q->lo)), vdupq_n_s32(q->hi));
    }
    /* lo / hi are values of the output dtype: the low byte is its code */
    const int16x8_t r16 = vcombine_s16(vmovn_s32(r[0]), vmovn_s32(r[1]));
    vst1_u8((uint8_t *)out + c0, vreinterpret_u8_s8(vmovn_s16(r16)));
}
#endif

/* Output of channel oc from its accumulator (portable output stage). */
static inline void dw_out_one(const dwq_state *s, const dwq_job *j, int64_t n, size_t oc,
                              int32_t acc, void *out) {
    if (s->hybrid) {
        float v = (float)acc * (j->su[n] * s->hc.wscale[oc]);
        if (s->hc.bias) v += s->hc.bias[oc];
        ((float *)out)[oc] = qlite_clampf(v, s->hc.lo, s->hc.hi);
    } else {
        ((uint8_t *)out)[oc] =
            qlite_q8_cols_out(&s->cols, oc, acc + (s->bias32 ? s->bias32[oc] : 0));
    }
}

/* Work items: (output row, group of channels), the group innermost (for
 * the 3x3 paths, s->k33, a row pair of stride 1 or a row of stride 2). The
 * AVX-512 row splits its channels (whole 64-channel blocks) when there are
 * few rows (the 14x14 and 7x7 layers), so two threads get even shares;
 * the other paths take whole rows. Rows outermost, so the first part of the
 * items is the first part of the image's pixels: the pool gives the calling
 * thread the front of the range and the workers the back, and the ops around
 * (convolutions, element-wise ops) cut pixels in the same order, so each
 * thread reads mostly rows it wrote itself (threadpool.c). Except in the 3x3
 * paths when there are more channel groups than row items (the 7x7 layers):
 * groups outermost, the order of the 1x1 convolutions around them, which
 * split such layers by output channels (conv_2d_q8.c: their weights outweigh
 * the pixels); rows outermost there read half of each input from the other
 * core (MobileNetV2 int8 7x7 depthwise at 2 threads ~12% slower than with
 * groups outermost, 3rd-percentile times of 200 interleaved rounds). */
static size_t dw_items(const dwq_state *s, int64_t *groups, int64_t *group_c) {
    const qlite_conv_geom *g = &s->g;
    const int64_t rows = g->N * (s->k33 == 1 ? (g->OH + 1) / 2 : g->OH); /* 1: row pairs */
    *groups = 1;
    *group_c = g->C;
#ifdef QLITE_Q8_X86
    if (s->fast && s->isa == DW_AVX512) {
        const int64_t vecs = (g->C + 63) / 64; /* dw_row_vnni's 64-channel blocks */
        int64_t k = (32 + rows - 1) / rows;     /* aim at >= 32 items */
        if (k > vecs) k = vecs;
        const int64_t per = (vecs + k - 1) / k;
        *group_c = per * 64;
        *groups = (vecs + per - 1) / per;
    }
#endif
    return (size_t)(rows * *groups);
}

static void dw_rows(void *arg, size_t begin, size_t end) {
    const dwq_job *j = arg;
    const dwq_state *s = j->s;
    const qlite_conv_geom *g = &s->g;
    const size_t O = (size_t)g->O, es = s->hybrid ? 4 : 1;
    int64_t groups, group_c;
    dw_items(s, &groups, &group_c);
    int32_t acc[256];
#ifdef QLITE_Q8_X86
    if (s->k33) {
        /* rows outermost: a range's whole rows of one image run group by group, each
         * group's rows sharing one setup of the weights and output parameters; a
         * partial row at either end runs its groups one by one */
        const int64_t per = s->k33 == 1 ? (g->OH + 1) / 2 : g->OH; /* items per image */
        const size_t G = (size_t)groups, R = (size_t)(g->N * per);
        if (G > R) { /* dw_items: channel groups outermost */
            for (size_t it = begin; it < end;) {
                const int64_t c0 = (int64_t)(it / R) * group_c, r = (int64_t)(it % R);
                const int64_t n = r / per, i0 = r % per;
                const int64_t i1 = per - i0 < (int64_t)(end - it) ? per : i0 + (int64_t)(end - it);
                dw33_rows(s, j, n, i0, i1, c0, c0 + group_c < g->C ? c0 + group_c : g->C);
                it += (size_t)(i1 - i0);
            }
            return;
        }
        for (size_t it = begin; it < end;) {
            const size_t row = it / G, gi = it % G;
            const int64_t n = (int64_t)row / per, i0 = (int64_t)row % per;
            size_t whole = gi == 0 ? (end - it) / G : 0;           /* whole rows from it */
            if (whole > (size_t)(per - i0)) whole = (size_t)(per - i0); /* within image n */
            if (whole == 0) {
                const int64_t c0 = (int64_t)gi * group_c;
                dw33_rows(s, j, n, i0, i0 + 1, c0, c0 + group_c < g->C ? c0 + group_c : g->C);
                it++;
                continue;
            }
            for (size_t q = 0; q < G; q++) {
                const int64_t c0 = (int64_t)q * group_c;
                dw33_rows(s, j, n, i0, i0 + (int64_t)whole, c0,
                          c0 + group_c < g->C ? c0 + group_c : g->C);
            }
            it += whole * G;
        }
        return;
    }
#endif
    for (size_t it = begin; it < end; it++) {
        const size_t row = it / (size_t)groups;
        const int64_t n = (int64_t)row / g->OH, oy = (int64_t)row % g->OH;
#ifdef QLITE_Q8_X86
        if (s->fast && s->isa == DW_AVX512) {
            const int64_t c0 = (int64_t)(it % (size_t)groups) * group_c;
            dw_row_avx512(s, j, row, c0, c0 + group_c < g->C ? c0 + group_c : g->C);
            continue;
        }
#endif
#ifdef QLITE_Q8_X86
        if (s->fast && s->isa == DW_AVX2 && s->w16 && !s->hybrid && O % 16 == 0) {
            dw2_row_avx2(s, j, n, oy, O / 16, (uint8_t *)j->y + row * (size_t)g->OW * O);
            continue;
        }
#endif
        for (int64_t ox = 0; ox < g->OW; ox++) {
            uint8_t *out = (uint8_t *)j->y + (row * (size_t)g->OW + (size_t)ox) * O * es;
            size_t done = 0;
#ifdef QLITE_Q8_X86
            if (s->fast && s->isa == DW_AVX2) {
                if (s->w16) {
                    dw2_block_avx2(s, j, n, oy, ox, O / 16, out);
                    done = O / 16 * 16;
                }
                for (; done + 8 <= O; done += 8) dw_block_avx2(s, j, n, oy, ox, done, out);
            }
#endif
#ifdef DWQ_NEON
            if (s->fast && s->isa == DW_NEON) {
                for (; done + 8 <= O; done += 8) dw_block_neon(s, j, n, oy, ox, done, out);
            }
#endif
            if (done == O) continue;
            /* the rest, 256 channels at a time */
            const int32_t zu = j->zu ? j->zu[n] : s->zu;
            for (size_t c0 = done; c0 < O; c0 += 256) {
                const size_t cnt = O - c0 < 256 ? O - c0 : 256;
                for (size_t c = 0; c < cnt; c++) acc[c] = 0;
                for (int64_t ky = 0; ky < g->KH; ky++) {
                    const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                    if (iy < 0 || iy >= g->H) continue;
                    for (int64_t kx = 0; kx < g->KW; kx++) {
                        const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                        if (ix < 0 || ix >= g->W) continue;
                        const uint8_t *xp = j->x + ((n * g->H + iy) * g->W + ix) * g->C;
                        const int8_t *wp = j->w + (ky * g->KW + kx) * g->O + (int64_t)c0;
                        for (size_t c = 0; c < cnt; c++) {
                            const size_t oc = c0 + c;
                            const int32_t zw = qlite_q8_wzp(&s->wq, oc);
                            acc[c] += ((int32_t)(uint8_t)(xp[oc / (size_t)g->M] ^ s->flip) - zu) *
                                      (wp[c] - zw);
                        }
                    }
                }
                for (size_t c = 0; c < cnt; c++) dw_out_one(s, j, n, c0 + c, acc[c], out);
            }
        }
    }
}

static qlite_status dwq_eval(qlite_node *node) {
    const dwq_state *s = node->state;
    const qlite_conv_geom *g = &s->g;
    dwq_job j = {.s = s, .x = node->inputs[0]->data, .w = node->inputs[1]->data,
                 .y = node->outputs[0]->data};
    if (s->hybrid) {
        uint8_t *img = node->scratch;
        float *su = (float *)(void *)(img + s->img_bytes);
        int32_t *zu = (int32_t *)(void *)(su + g->N);
        const size_t hwc = (size_t)(g->H * g->W * g->C);
        const float *xf = node->inputs[0]->data;
        const bool ref = qlite_node_reference_only(node);
        for (int64_t n = 0; n < g->N; n++) /* the same codes either way; split between threads */
            su[n] = ref ? qlite_hybrid_quantize(xf + (size_t)n * hwc, hwc, img + (size_t)n * hwc,
                                                &zu[n], NULL)
                        : qlite_hybrid_quantize_parallel(node, xf + (size_t)n * hwc, hwc,
                                                         img + (size_t)n * hwc, &zu[n], NULL);
        j.x = img;
        j.su = su;
        j.zu = zu;
        if (qlite_node_reference_only(node)) {
            /* the formula with the codes of each image: acc = sum (u - zu) w */
            int32_t *acc = (int32_t *)(void *)(zu + g->N);
            for (int64_t n = 0; n < g->N; n++)
                for (int64_t oy = 0; oy < g->OH; oy++)
                    for (int64_t ox = 0; ox < g->OW; ox++) {
                        dw_pixel_acc(s, &j, n, oy, ox, zu[n], acc);
                        float *out = (float *)j.y + ((n * g->OH + oy) * g->OW + ox) * g->O;
                        for (int64_t oc = 0; oc < g->O; oc++)
                            dw_out_one(s, &j, n, (size_t)oc, acc[oc], out);
                    }
            return QLITE_OK;
        }
    } else if (qlite_node_reference_only(node)) {
        dwq_ref(s, j.x, j.w, j.y);
        return QLITE_OK;
    }
    int64_t groups, group_c;
    const size_t items = dw_items(s, &groups, &group_c);
    qlite_kernel_parallel(node, items,
                          (size_t)(g->OW * g->O * g->KH * g->KW) / (size_t)groups + 1, dw_rows,
                          &j);
    return QLITE_OK;
}

static qlite_status dwq_prepare(qlite_node *node, bool hybrid) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_tensor *y = node->outputs[0];
    dwq_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->hybrid = hybrid;
    qlite_conv_geom *g = &s->g;
    qlite_status st;
    if ((st = qlite_conv_geom_init(node, QLITE_CONV_DEPTHWISE, x, w, b, g))) return st;
    if (!w->is_const)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "int8 weights '%s' must be a constant", w->info->name);
    const size_t O = (size_t)g->O, taps = (size_t)(g->KH * g->KW);
    if ((st = qlite_q8_weights_init(node, w, "weights", 3, O, &s->wq))) return st;
    if (hybrid) {
        if ((st = qlite_nn_check_dtype(node, y, "output", QLITE_DTYPE_FLOAT32)) ||
            (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))) ||
            (st = qlite_hybrid_check_acc(node, taps, &s->wq)) ||
            (st = qlite_hybrid_cols_build(node, O, &s->wq, w->data, taps, 1, O,
                                          b ? b->data : NULL, g->act, &s->hc)))
            return st;
        /* the AVX-512 block loads 16 scales and biases: keep padded copies */
        float *ws = qlite_node_alloc(node, qlite_q8_cols_len(O) * sizeof(float));
        float *bs = b ? qlite_node_alloc(node, qlite_q8_cols_len(O) * sizeof(float)) : NULL;
        if (!ws || (b && !bs)) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        memcpy(ws, s->hc.wscale, O * sizeof(float));
        if (bs) memcpy(bs, b->data, O * sizeof(float));
        s->hc.wscale = ws;
        s->hc.bias = bs;
        s->flip = 0;
    } else {
        qlite_q8 qx, qy;
        int64_t max_bias;
        if ((st = qlite_q8_params(node, x, "input", &qx)) ||
            (st = qlite_node_check_same_dtype(node, x, "input", y, "output")) ||
            (st = qlite_q8_params(node, y, "output", &qy)) ||
            (st = qlite_q8_bias_init(node, b, O, &s->bias32, &max_bias)) ||
            (st = qlite_q8_check_acc(node, taps, &s->wq, max_bias)))
            return st;
        /* output stage with the unfolded bias (zu = 0, no weight sums): the
         * kernel subtracts the zero point from every input it reads */
        qlite_q8_weights nozp = s->wq;
        nozp.any_zp = false;
        int64_t *wsum = qlite_node_alloc(node, O * sizeof(int64_t));
        if (!wsum) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        if ((st = qlite_q8_cols_build(node, O, &nozp, qx.scale, 0, &qy, g->act, s->bias32, wsum,
                                      0, &s->cols)))
            return st;
        s->is_signed = qx.is_signed;
        s->zx = qx.zero_point;
        s->flip = qx.is_signed ? 0x80 : 0;
        s->zu = qx.zero_point + (qx.is_signed ? 128 : 0);
    }
    s->fast = g->M == 1 && !s->wq.any_zp;
    s->isa = DW_PORTABLE;
    const unsigned cpu = qlite_q8_cpu_features();
    if (cpu & QLITE_Q8_F_AVX512) s->isa = DW_AVX512;
    else if (cpu & QLITE_Q8_F_AVX2) s->isa = DW_AVX2;
    else if (cpu & QLITE_Q8_F_NEON) s->isa = DW_NEON;
    if (O > 65536 || taps > 64) s->fast = false; /* (the AVX-512 row keeps 64 tap vectors) */
    s->k33 = 0;
    if (s->fast && s->isa == DW_AVX512 && g->KH == 3 && g->KW == 3 && g->dh == 1 &&
        g->dw == 1 && g->sh == g->sw && (g->sh == 1 || g->sh == 2))
        s->k33 = (int)g->sh;
    s->w16 = NULL;
    if (s->fast && s->isa == DW_AVX2 && O >= 16) {
        /* dw2_pixel's weights: per 16-channel block b and tap pair p, 32 int16 in the
         * order of VPUNPCKLWD / VPUNPCKHWD of the two taps' vectors (lo: channels
         * 8L + i, hi: 8L + 4 + i in lane L; tap 2p then 2p + 1), a missing tap 0 */
        const size_t nb = O / 16, np = (taps + 1) / 2;
        int16_t *w16 = qlite_node_alloc(node, nb * np * 32 * sizeof(int16_t));
        if (!w16) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        const int8_t *wd = w->data;
        for (size_t bl = 0; bl < nb; bl++)
            for (size_t p = 0; p < np; p++)
                for (size_t k = 0; k < 32; k++) {
                    const size_t half = k / 16, lane = (k / 8) % 2, i = (k / 2) % 4, e = k % 2;
                    const size_t oc = bl * 16 + lane * 8 + half * 4 + i, tap = 2 * p + e;
                    w16[(bl * np + p) * 32 + k] = tap < taps ? wd[tap * O + oc] : 0;
                }
        s->w16 = w16;
    }
    s->eval = dwq_eval;
    s->img_bytes = hybrid ? ((size_t)(g->N * g->H * g->W * g->C) + 63) / 64 * 64 : 0;
    node->scratch_bytes =
        hybrid ? s->img_bytes + 2 * (size_t)g->N * sizeof(int32_t) + O * sizeof(int32_t) : 0;
    node->state = s;
    return QLITE_OK;
}

qlite_status qlite_dw_variants_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    if (w->dtype == QLITE_DTYPE_INT8 && qlite_is_q8(x->dtype)) return dwq_prepare(node, false);
    if (w->dtype == QLITE_DTYPE_INT8 && x->dtype == QLITE_DTYPE_FLOAT32)
        return dwq_prepare(node, true);
    if (w->dtype == QLITE_DTYPE_FLOAT16 && x->dtype == QLITE_DTYPE_FLOAT32)
        return qlite_dw_f16_prepare(node);
    return qlite_nn_variant_unsupported(node, x, w);
}
