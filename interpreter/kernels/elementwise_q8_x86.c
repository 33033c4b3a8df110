/*
 * elementwise_q8_x86.c — AVX2 and AVX-512 variants of the int8 element-wise
 * kernels (elementwise_q8.h), bit-identical to the references:
 *
 *   lut        AVX-512 VBMI: two VPERMI2B (128 table bytes each) and a blend
 *              on the index's top bit: 64 bytes in four instructions.
 *              AVX2: sixteen VPSHUFB of 16-byte tables, XOR-accumulated (below).
 *   binary     the fused ADD/SUB/MUL row, 16 (8) int32 lanes: the input stage
 *              rq((q - z) << 20) of each operand, the sum (or the product of
 *              the centred values), the output requantization, clamp, bytes.
 *              A broadcast operand's stage is computed once per row.
 *   quantize   the quotient as the reference's division rounds it (AVX2: VDIVPS;
 *              AVX-512: a product and an FMA correction), NaN -> 0, clamp, VCVTPS2DQ
 *              (round half to even in the default MXCSR mode, as the
 *              reference's 1.5*2^23 trick), + zero point, bytes.
 *   dequantize widen, - zero point, to float, * scale.
 *
 * The requantization is src/quant.h's: h = (x M0 + 2^30) >> 31 from the
 * 64-bit products of even and odd lanes (ties toward +inf, like srdhm),
 * then rdbpot's rounding shift: (h >> r) + ((h & (2^r - 1)) > ((2^r - 1) >> 1) + (h < 0)).
 * Left shifts are plain (binary_q8.c's prepare proved they cannot saturate).
 * Tails go through the same vector code: masked loads/stores (AVX-512) or a
 * small stack buffer (AVX2).
 */
#include "kernels/elementwise_q8.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>
#include <string.h>

#define EW_AVX2 __attribute__((target("avx2")))
#define EW_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))
#define EW_VBMI __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi")))

/* ------------------------------------------------------------------ */
/* AVX2                                                                */
/* ------------------------------------------------------------------ */

/* One multiplier for every lane: M0, right shift r and its mask / threshold. */
typedef struct rq8b {
    __m256i m0, m0_odd, mask, thr;
    __m256i r, l; /* shift counts in every lane: VPSRAVD / VPSLLVD are one uop, the
                   * forms with the count in an xmm register two on Intel cores */
} rq8b;

EW_AVX2 static inline rq8b rq8b_init(int32_t m0, int32_t left, int32_t right) {
    rq8b p;
    p.m0 = _mm256_set1_epi32(m0);
    p.m0_odd = _mm256_srli_epi64(p.m0, 32);
    const int32_t mask = (int32_t)((1ll << right) - 1);
    p.mask = _mm256_set1_epi32(mask);
    p.thr = _mm256_set1_epi32(mask >> 1);
    p.r = _mm256_set1_epi32(right);
    p.l = _mm256_set1_epi32(left);
    return p;
}

#define EW_INLINE __attribute__((always_inline)) static inline

/* rdbpot(h, r) of 8 lanes */
EW_AVX2 EW_INLINE __m256i rdbpot8(__m256i h, const rq8b *p) {
    const __m256i q = _mm256_srav_epi32(h, p->r);
    const __m256i rem = _mm256_and_si256(h, p->mask);
    const __m256i t = _mm256_sub_epi32(p->thr, _mm256_srai_epi32(h, 31)); /* thr + (h < 0) */
    return _mm256_sub_epi32(q, _mm256_cmpgt_epi32(rem, t));
}

/* rdbpot(srdhm(x, M0), r) */
EW_AVX2 EW_INLINE __m256i rq8b_apply_r(__m256i x, const rq8b *p) {
    const __m256i nudge = _mm256_set1_epi64x(1ll << 30);
    __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, p->m0), nudge);
    /* odd lanes moved down by a shuffle (port 5), not a shift (ports 0, 1: the muls') */
    __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(x, 0xF5), p->m0_odd),
                                  nudge);
    pe = _mm256_srli_epi64(pe, 31);
    po = _mm256_slli_epi64(po, 1);
    return rdbpot8(_mm256_blend_epi32(pe, po, 0xAA), p);
}

/* rdbpot(srdhm(x << l, M0), r) */
EW_AVX2 static inline __m256i rq8b_apply(__m256i x, const rq8b *p) {
    return rq8b_apply_r(_mm256_sllv_epi32(x, p->l), p);
}

/* 8 bytes -> 8 int32 (sign- or zero-extended). */
EW_AVX2 static inline __m256i widen8(const uint8_t *p, bool sg) {
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return sg ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

/* The low byte of each of 8 int32 lanes, stored as 8 bytes. */
EW_AVX2 static inline void narrow8(uint8_t *p, __m256i y) {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1,
                                          -1, -1, -1, -1);
    const __m256i b = _mm256_shuffle_epi8(y, pick);
    const __m256i d = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    _mm_storel_epi64((__m128i *)p, _mm256_castsi256_si128(d));
}

typedef struct bin8 {
    rq8b sa, sb, out;
    __m256i za, zb;
    __m256i za16, zb16;     /* the zero points in int16 lanes */
    __m256i kaa, kca, kab, kcb; /* ADD/SUB input stages by VPMADDWD (stage16_add) */
    __m256i zy16;           /* zy in every int16 lane */
    __m128i lo8, hi8;       /* the clamp in the byte domain */
} bin8;

/*
 * The per-operand stage of 8 bytes (the low 8 of v): ADD rq((q - z) << 20),
 * MUL q - z. (VPGATHERDD from binary_q8.c's int32 tables of the ADD stage
 * was 1.15-1.45x faster on this Xeon, but gathers are microcoded and slow on
 * the Skylake..Tiger Lake cores patched for GDS and on Zen 2: the AVX2 cores
 * this row is for.)
 */
EW_AVX2 EW_INLINE __m256i stage8x(bool mul, bool sg, __m128i v, __m256i z, const rq8b *r) {
    const __m256i w = sg ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
    const __m256i c = _mm256_sub_epi32(w, z);
    if (mul) return c;
    return rq8b_apply_r(_mm256_slli_epi32(c, 20), r);
}

/* The output requantization of 8 accumulators, before the zero point and the clamp. */
EW_AVX2 EW_INLINE __m256i combine8x(bool mul, bool sub, const bin8 *k, __m256i ta, __m256i tb) {
    const __m256i acc = mul ? _mm256_mullo_epi32(ta, tb)
                            : (sub ? _mm256_sub_epi32(ta, tb) : _mm256_add_epi32(ta, tb));
    return rq8b_apply(acc, &k->out);
}

/*
 * The 16 output bytes of the int16 lanes w16 (VPACKSSDW of the int32 results):
 * + zy saturating, VPACKSSWB (int8) or VPACKUSWB (uint8), then the clamp on bytes:
 * every step is monotone and the identity on [lo, hi] (|zy| <= 255 fits int16),
 * so the result is clamp(q + zy, lo, hi) exactly (q8_x86.h's rq8_bytes2).
 */
EW_AVX2 EW_INLINE __m128i bytes_w16(const bin8 *k, bool sg, __m256i w16) {
    const __m256i w = _mm256_adds_epi16(w16, k->zy16);
    const __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
    if (sg) return _mm_min_epi8(_mm_max_epi8(_mm_packs_epi16(lo, hi), k->lo8), k->hi8);
    return _mm_min_epu8(_mm_max_epu8(_mm_packus_epi16(lo, hi), k->lo8), k->hi8);
}

/* bytes_w16 of q0 (elements 0-7) and q1 (8-15) */
EW_AVX2 EW_INLINE __m128i bytes16(const bin8 *k, bool sg, __m256i q0, __m256i q1) {
    /* per 128-bit lane: q0 0-3, q1 0-3 | q0 4-7, q1 4-7 -> 0-3, 4-7 | 8-11, 12-15 */
    return bytes_w16(k, sg, _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8));
}

/*
 * The ADD/SUB input stage rq((q - z) << 20, M0, r) of 16 bytes without 64-bit
 * products: with v = q - z (|v| <= 255), srdhm(v 2^20, M0) = floor((v M0 + 2^10)
 * / 2^11) (numerator and denominator of (v 2^20 M0 + 2^30) / 2^31 divided by
 * 2^20), and with M0 = A 2^11 + C (A < 2^20, C < 2^11) that is
 *   h = v A + floor((v C + 2^10) / 2^11)
 * where v A = v A0 + (32 v)(32 A1) (A = A1 2^10 + A0, 32 A1 < 2^15) and v C are
 * VPMADDWDs of the int16 pairs (v, 32 v) (every product and sum < 2^28), then
 * rdbpot(h, r). Lanes: lo holds elements 0-3 | 8-11, hi 4-7 | 12-15 (the
 * unpack order; bytes16_unpacked puts them back).
 */
EW_AVX2 EW_INLINE void stage16_add(bool sg, __m128i raw, __m256i z16, __m256i ka, __m256i kc,
                                   const rq8b *r, __m256i *lo, __m256i *hi) {
    const __m256i b16 = sg ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw);
    const __m256i v = _mm256_sub_epi16(b16, z16);
    const __m256i v32 = _mm256_slli_epi16(v, 5);
    const __m256i w0 = _mm256_unpacklo_epi16(v, v32), w1 = _mm256_unpackhi_epi16(v, v32);
    const __m256i r10 = _mm256_set1_epi32(1 << 10);
    const __m256i h0 = _mm256_add_epi32(
        _mm256_madd_epi16(w0, ka),
        _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(w0, kc), r10), 11));
    const __m256i h1 = _mm256_add_epi32(
        _mm256_madd_epi16(w1, ka),
        _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(w1, kc), r10), 11));
    *lo = rdbpot8(h0, r);
    *hi = rdbpot8(h1, r);
}

/* The constants of stage16_add for M0: (A0, 32 A1) and (C, 0) as int16 pairs. */
EW_AVX2 static inline void stage16_consts(int32_t m0, __m256i *ka, __m256i *kc) {
    const uint32_t a = (uint32_t)m0 >> 11, c = (uint32_t)m0 & 2047u;
    *ka = _mm256_set1_epi32((int32_t)(((a >> 10) * 32u) << 16 | (a & 1023u)));
    *kc = _mm256_set1_epi32((int32_t)c);
}

/* bytes16 for q0, q1 in the unpack order of stage16_add: VPACKSSDW restores it. */
EW_AVX2 EW_INLINE __m128i bytes16_unpacked(const bin8 *k, bool sg, __m256i q0, __m256i q1) {
    return bytes_w16(k, sg, _mm256_packs_epi32(q0, q1));
}

/* 16 elements from 16-byte loads va, vb (a broadcast operand: its stage in ca / cb). */
EW_AVX2 EW_INLINE __m128i binary16(const bin8 *k, bool mul, bool sub, bool sg,
                                   qlite_q8_bshape shape, __m128i va, __m128i vb, __m256i ca,
                                   __m256i cb) {
    if (!mul) {
        __m256i ta0 = ca, ta1 = ca, tb0 = cb, tb1 = cb;
        if (shape != QLITE_Q8_SV) stage16_add(sg, va, k->za16, k->kaa, k->kca, &k->sa, &ta0, &ta1);
        if (shape != QLITE_Q8_VS) stage16_add(sg, vb, k->zb16, k->kab, k->kcb, &k->sb, &tb0, &tb1);
        return bytes16_unpacked(k, sg, combine8x(false, sub, k, ta0, tb0),
                                combine8x(false, sub, k, ta1, tb1));
    }
    const __m128i va1 = _mm_unpackhi_epi64(va, va), vb1 = _mm_unpackhi_epi64(vb, vb);
    const __m256i ta0 = shape == QLITE_Q8_SV ? ca : stage8x(mul, sg, va, k->za, &k->sa);
    const __m256i ta1 = shape == QLITE_Q8_SV ? ca : stage8x(mul, sg, va1, k->za, &k->sa);
    const __m256i tb0 = shape == QLITE_Q8_VS ? cb : stage8x(mul, sg, vb, k->zb, &k->sb);
    const __m256i tb1 = shape == QLITE_Q8_VS ? cb : stage8x(mul, sg, vb1, k->zb, &k->sb);
    return bytes16(k, sg, combine8x(mul, sub, k, ta0, tb0), combine8x(mul, sub, k, ta1, tb1));
}

/* One row; mul, sub, sg and shape are constants in each instantiation below. */
EW_AVX2 EW_INLINE void binary_row8(const bin8 *k, bool mul, bool sub, bool sg,
                                   qlite_q8_bshape shape, const uint8_t *a, const uint8_t *b,
                                   uint8_t *y, size_t n) {
    __m256i ca = _mm256_setzero_si256(), cb = _mm256_setzero_si256();
    if (shape == QLITE_Q8_SV)
        ca = stage8x(mul, sg, _mm_set1_epi8((char)a[0]), k->za, &k->sa);
    else if (shape == QLITE_Q8_VS)
        cb = stage8x(mul, sg, _mm_set1_epi8((char)b[0]), k->zb, &k->sb);
    const __m128i zero = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i va = shape == QLITE_Q8_SV ? zero : _mm_loadu_si128((const __m128i *)(a + i));
        const __m128i vb = shape == QLITE_Q8_VS ? zero : _mm_loadu_si128((const __m128i *)(b + i));
        _mm_storeu_si128((__m128i *)(y + i), binary16(k, mul, sub, sg, shape, va, vb, ca, cb));
    }
    if (i < n) { /* the tail through buffers: no access past the ends */
        uint8_t ba[16] = {0}, bb[16] = {0}, by[16];
        if (shape != QLITE_Q8_SV) memcpy(ba, a + i, n - i);
        if (shape != QLITE_Q8_VS) memcpy(bb, b + i, n - i);
        _mm_storeu_si128((__m128i *)by,
                         binary16(k, mul, sub, sg, shape, _mm_loadu_si128((const __m128i *)ba),
                                  _mm_loadu_si128((const __m128i *)bb), ca, cb));
        memcpy(y + i, by, n - i);
    }
}

/*
 * One instantiation per op, dtype and operand shape of a row function (the
 * AVX2 row8 here, the AVX-512 row16 below): the row's bools are constants
 * in each, so its branches fold away. BINARY_ROWS(T, K, ROW, p) defines
 * p##add_s8 ... p##mul_u8.
 */
#define BINARY_SHAPES(T, K, ROW, fn, MUL, SUB, SG)                                   \
    T static void fn(const K *k, const uint8_t *a, const uint8_t *b, uint8_t *y,     \
                     size_t n, qlite_q8_bshape shape) {                              \
        switch (shape) {                                                             \
        case QLITE_Q8_VS: ROW(k, MUL, SUB, SG, QLITE_Q8_VS, a, b, y, n); break;     \
        case QLITE_Q8_SV: ROW(k, MUL, SUB, SG, QLITE_Q8_SV, a, b, y, n); break;     \
        default: ROW(k, MUL, SUB, SG, QLITE_Q8_VV, a, b, y, n); break;              \
        }                                                                            \
    }
#define BINARY_ROWS(T, K, ROW, p)                                \
    BINARY_SHAPES(T, K, ROW, p##add_s8, false, false, true)     \
    BINARY_SHAPES(T, K, ROW, p##add_u8, false, false, false)    \
    BINARY_SHAPES(T, K, ROW, p##sub_s8, false, true, true)      \
    BINARY_SHAPES(T, K, ROW, p##sub_u8, false, true, false)     \
    BINARY_SHAPES(T, K, ROW, p##mul_s8, true, false, true)      \
    BINARY_SHAPES(T, K, ROW, p##mul_u8, true, false, false)

BINARY_ROWS(EW_AVX2, bin8, binary_row8, row8_)

EW_AVX2 void qlite_q8_binary__avx2(const qlite_q8_binary_params *p, const uint8_t *a,
                                   const uint8_t *b, uint8_t *y, size_t n,
                                   qlite_q8_bshape shape) {
    bin8 k;
    k.sa = rq8b_init(p->ma, 0, p->ra);
    k.sb = rq8b_init(p->mb, 0, p->rb);
    k.out = rq8b_init(p->om, p->ol, p->orr);
    k.za = _mm256_set1_epi32(p->za);
    k.zb = _mm256_set1_epi32(p->zb);
    k.za16 = _mm256_set1_epi16((int16_t)p->za);
    k.zb16 = _mm256_set1_epi16((int16_t)p->zb);
    stage16_consts(p->ma, &k.kaa, &k.kca);
    stage16_consts(p->mb, &k.kab, &k.kcb);
    k.zy16 = _mm256_set1_epi16((int16_t)p->zy);
    k.lo8 = _mm_set1_epi8((char)(uint8_t)p->lo);
    k.hi8 = _mm_set1_epi8((char)(uint8_t)p->hi);
    if (p->mul) (p->is_signed ? row8_mul_s8 : row8_mul_u8)(&k, a, b, y, n, shape);
    else if (p->sub) (p->is_signed ? row8_sub_s8 : row8_sub_u8)(&k, a, b, y, n, shape);
    else (p->is_signed ? row8_add_s8 : row8_add_u8)(&k, a, b, y, n, shape);
}

EW_AVX2 void qlite_q8_quantize__avx2(const float *x, uint8_t *y, size_t n, float scale,
                                     int32_t zp, bool is_unsigned) {
    const __m256 vs = _mm256_set1_ps(scale);
    const __m256 lo = _mm256_set1_ps((float)((is_unsigned ? 0 : -128) - zp));
    const __m256 hi = _mm256_set1_ps((float)((is_unsigned ? 255 : 127) - zp));
    const __m256i vz = _mm256_set1_epi32(zp);
    for (size_t i = 0; i < n; i += 8) {
        const size_t m = n - i < 8 ? n - i : 8;
        float bx[8] = {0};
        uint8_t by[8];
        const float *px = x + i;
        if (m < 8) {
            memcpy(bx, px, m * sizeof *bx);
            px = bx;
        }
        __m256 v = _mm256_div_ps(_mm256_loadu_ps(px), vs);
        v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)); /* NaN -> +0 */
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), vz);
        if (m < 8) {
            narrow8(by, q);
            memcpy(y + i, by, m);
        } else {
            narrow8(y + i, q);
        }
    }
}

EW_AVX2 void qlite_q8_dequantize__avx2(const uint8_t *x, float *y, size_t n, float scale,
                                       int32_t zp, bool is_signed) {
    const __m256 vs = _mm256_set1_ps(scale);
    const __m256i vz = _mm256_set1_epi32(zp);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i q = _mm256_sub_epi32(widen8(x + i, is_signed), vz);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(q), vs));
    }
    if (i < n) {
        uint8_t bx[8] = {0};
        float by[8];
        memcpy(bx, x + i, n - i);
        const __m256i q = _mm256_sub_epi32(widen8(bx, is_signed), vz);
        _mm256_storeu_ps(by, _mm256_mul_ps(_mm256_cvtepi32_ps(q), vs));
        memcpy(y + i, by, (n - i) * sizeof *y);
    }
}

/* ------------------------------------------------------------------ */
/* AVX-512                                                             */
/* ------------------------------------------------------------------ */

typedef struct rq16b {
    __m512i m0, m0_odd, mask, thr;
    __m128i r, l;
} rq16b;

EW_AVX512 static inline rq16b rq16b_init(int32_t m0, int32_t left, int32_t right) {
    rq16b p;
    p.m0 = _mm512_set1_epi32(m0);
    p.m0_odd = _mm512_srli_epi64(p.m0, 32);
    const int32_t mask = (int32_t)((1ll << right) - 1);
    p.mask = _mm512_set1_epi32(mask);
    p.thr = _mm512_set1_epi32(mask >> 1);
    p.r = _mm_cvtsi32_si128(right);
    p.l = _mm_cvtsi32_si128(left);
    return p;
}

EW_AVX512 static inline __m512i rq16b_apply(__m512i x, const rq16b *p) {
    x = _mm512_sll_epi32(x, p->l);
    const __m512i nudge = _mm512_set1_epi64(1ll << 30);
    __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, p->m0), nudge);
    __m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m0_odd), nudge);
    pe = _mm512_srli_epi64(pe, 31);
    po = _mm512_slli_epi64(po, 1);
    const __m512i h = _mm512_mask_blend_epi32(0xAAAA, pe, po);
    const __m512i q = _mm512_sra_epi32(h, p->r);
    const __m512i rem = _mm512_and_si512(h, p->mask);
    const __m512i t = _mm512_sub_epi32(p->thr, _mm512_srai_epi32(h, 31));
    return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, t), q, _mm512_set1_epi32(1));
}

typedef struct bin16 {
    rq16b sa, sb, out;
    __m512i za, zb, zy, lo, hi; /* lo, hi: minus zy */
} bin16;

EW_AVX512 static inline __m512i widen16(const uint8_t *p, __mmask16 m, bool sg) {
    const __m128i v = _mm_maskz_loadu_epi8(m, p);
    return sg ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}

/* The per-operand stage of 16 values: ADD rq((q - z) << 20), MUL q - z. */
EW_AVX512 EW_INLINE __m512i stage16(bool mul, __m512i v, __m512i z, const rq16b *r) {
    v = _mm512_sub_epi32(v, z);
    if (mul) return v;
    return rq16b_apply(_mm512_slli_epi32(v, 20), r);
}

EW_AVX512 EW_INLINE __m512i combine16(bool mul, bool sub, const bin16 *k, __m512i ta,
                                      __m512i tb) {
    const __m512i acc = mul ? _mm512_mullo_epi32(ta, tb)
                            : (sub ? _mm512_sub_epi32(ta, tb) : _mm512_add_epi32(ta, tb));
    __m512i q = rq16b_apply(acc, &k->out);
    q = _mm512_min_epi32(_mm512_max_epi32(q, k->lo), k->hi);
    return _mm512_add_epi32(q, k->zy);
}

/* One row; mul, sub, sg and shape are constants in each instantiation below. */
EW_AVX512 EW_INLINE void binary_row16(const bin16 *k, bool mul, bool sub, bool sg,
                                      qlite_q8_bshape shape, const uint8_t *a, const uint8_t *b,
                                      uint8_t *y, size_t n) {
    __m512i ca = _mm512_setzero_si512(), cb = _mm512_setzero_si512();
    if (shape == QLITE_Q8_SV)
        ca = stage16(mul, _mm512_set1_epi32(sg ? (int8_t)a[0] : a[0]), k->za, &k->sa);
    else if (shape == QLITE_Q8_VS)
        cb = stage16(mul, _mm512_set1_epi32(sg ? (int8_t)b[0] : b[0]), k->zb, &k->sb);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) { /* two independent chains per step */
        const __mmask16 m = 0xFFFF;
        const __m512i ta0 =
            shape == QLITE_Q8_SV ? ca : stage16(mul, widen16(a + i, m, sg), k->za, &k->sa);
        const __m512i ta1 =
            shape == QLITE_Q8_SV ? ca : stage16(mul, widen16(a + i + 16, m, sg), k->za, &k->sa);
        const __m512i tb0 =
            shape == QLITE_Q8_VS ? cb : stage16(mul, widen16(b + i, m, sg), k->zb, &k->sb);
        const __m512i tb1 =
            shape == QLITE_Q8_VS ? cb : stage16(mul, widen16(b + i + 16, m, sg), k->zb, &k->sb);
        const __m128i y0 = _mm512_cvtepi32_epi8(combine16(mul, sub, k, ta0, tb0));
        const __m128i y1 = _mm512_cvtepi32_epi8(combine16(mul, sub, k, ta1, tb1));
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_set_m128i(y1, y0));
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i ta =
            shape == QLITE_Q8_SV ? ca : stage16(mul, widen16(a + i, m, sg), k->za, &k->sa);
        const __m512i tb =
            shape == QLITE_Q8_VS ? cb : stage16(mul, widen16(b + i, m, sg), k->zb, &k->sb);
        _mm512_mask_cvtepi32_storeu_epi8(y + i, m, combine16(mul, sub, k, ta, tb));
    }
}

BINARY_ROWS(EW_AVX512, bin16, binary_row16, row16_)

EW_AVX512 void qlite_q8_binary__avx512(const qlite_q8_binary_params *p, const uint8_t *a,
                                       const uint8_t *b, uint8_t *y, size_t n,
                                       qlite_q8_bshape shape) {
    bin16 k;
    k.sa = rq16b_init(p->ma, 0, p->ra);
    k.sb = rq16b_init(p->mb, 0, p->rb);
    k.out = rq16b_init(p->om, p->ol, p->orr);
    k.za = _mm512_set1_epi32(p->za);
    k.zb = _mm512_set1_epi32(p->zb);
    k.zy = _mm512_set1_epi32(p->zy);
    k.lo = _mm512_set1_epi32(p->lo - p->zy);
    k.hi = _mm512_set1_epi32(p->hi - p->zy);
    if (p->mul) (p->is_signed ? row16_mul_s8 : row16_mul_u8)(&k, a, b, y, n, shape);
    else if (p->sub) (p->is_signed ? row16_sub_s8 : row16_sub_u8)(&k, a, b, y, n, shape);
    else (p->is_signed ? row16_add_s8 : row16_add_u8)(&k, a, b, y, n, shape);
}

EW_AVX512 void qlite_q8_quantize__avx512(const float *x, uint8_t *y, size_t n, float scale,
                                         int32_t zp, bool is_unsigned) {
    const __m512 vs = _mm512_set1_ps(scale);
    const __m512 lo = _mm512_set1_ps((float)((is_unsigned ? 0 : -128) - zp));
    const __m512 hi = _mm512_set1_ps((float)((is_unsigned ? 255 : 127) - zp));
    const __m512i vz = _mm512_set1_epi32(zp);
    /* The quotient without VDIVPS (Markstein): q0 = x * (1 / scale) is within an ulp of
     * x / scale, the residual x - q0 scale is exact by FMA, and q0 + residual / scale
     * rounds to x / scale correctly. Its outputs were compared with VDIVPS over every
     * float x for several scales (1e-20 .. 3e15): equal wherever the quotient is in
     * [0.25, 2^20) (below, both round to 0; above, both clamp). Needs a normal residual:
     * scales in [2^-100, 2^100]; |q0| >= 2^20 keeps q0 (an inf q0 would make NaN). */
    const float inv = 1.0f / scale;
    const bool fast = scale >= 0x1p-100f && scale <= 0x1p100f;
    const __m512 vinv = _mm512_set1_ps(inv), big = _mm512_set1_ps(1048576.0f);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 vx = _mm512_maskz_loadu_ps(m, x + i);
        __m512 v;
        if (fast) {
            const __m512 q0 = _mm512_mul_ps(vx, vinv);
            const __m512 q1 = _mm512_fmadd_ps(_mm512_fnmadd_ps(q0, vs, vx), vinv, q0);
            v = _mm512_mask_mov_ps(q0, _mm512_cmp_ps_mask(_mm512_abs_ps(q0), big, _CMP_LT_OQ),
                                   q1);
        } else {
            v = _mm512_div_ps(vx, vs);
        }
        v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v); /* NaN -> +0 */
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), vz);
        _mm512_mask_cvtepi32_storeu_epi8(y + i, m, q);
    }
}

EW_AVX512 void qlite_q8_dequantize__avx512(const uint8_t *x, float *y, size_t n, float scale,
                                           int32_t zp, bool is_signed) {
    const __m512 vs = _mm512_set1_ps(scale);
    const __m512i vz = _mm512_set1_epi32(zp);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i q = _mm512_sub_epi32(widen16(x + i, m, is_signed), vz);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(q), vs));
    }
}

/* ---- LAYER_NORM rows: layer_norm_q8.c's steps, 16 elements at a time ---- */

void qlite_q8_layer_norm__avx512(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y);

/* rdbpot on 8 int64 lanes (e in 0..62): (x >> e) + ((x & m) > (m >> 1) + (x < 0)) */
EW_AVX512 static inline __m512i rdbpot64x8(__m512i x, int e) {
    const __m512i mask = _mm512_set1_epi64((long long)((1ull << e) - 1));
    const __m512i rem = _mm512_and_si512(x, mask);
    const __m512i thr = _mm512_sub_epi64(_mm512_srli_epi64(mask, 1), _mm512_srai_epi64(x, 63));
    const __m512i q = _mm512_sra_epi64(x, _mm_cvtsi32_si128(e));
    return _mm512_mask_add_epi64(q, _mm512_cmpgt_epi64_mask(rem, thr), q, _mm512_set1_epi64(1));
}

EW_AVX512 void qlite_q8_layer_norm__avx512(const qlite_q8_ln_params *p, const uint8_t *x,
                                           uint8_t *y) {
    const size_t n = p->n;
    const bool sg = p->is_signed;
    __m512i acc = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 16) { /* masked lanes load 0 */
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        acc = _mm512_add_epi32(acc, widen16(x + i, m, sg));
    }
    const int32_t sum = _mm512_reduce_add_epi32(acc); /* |sum| <= 4096 * 255 */
    const __m512i vn = _mm512_set1_epi32((int32_t)n), vs = _mm512_set1_epi32(sum);
    __m512i v0 = _mm512_setzero_si512(), v1 = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i d = _mm512_maskz_sub_epi32(
            m, _mm512_mullo_epi32(vn, widen16(x + i, m, sg)), vs); /* |d| < 2^21 */
        v0 = _mm512_add_epi64(v0, _mm512_mul_epi32(d, d));
        const __m512i dodd = _mm512_srli_epi64(d, 32);
        v1 = _mm512_add_epi64(v1, _mm512_mul_epi32(dodd, dodd));
    }
    const uint64_t v = (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(v0, v1));
    const __m512i zy = _mm512_set1_epi64(p->zy), lo = _mm512_set1_epi64(p->qmin),
                  hi = _mm512_set1_epi64(p->qmax);
    int64_t ma = 0;
    int sh = 0;
    if (v) qlite_q8_ln_row_multiplier(p, v, &ma, &sh);
    const __m512i vma = _mm512_set1_epi64(ma);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i d = _mm512_maskz_sub_epi32(
            m, _mm512_mullo_epi32(vn, widen16(x + i, m, sg)), vs);
        const __m512i dg = _mm512_mullo_epi32(d, _mm512_maskz_loadu_epi32(m, p->g + i));
        for (int h = 0; h < 2; h++) {
            const __mmask8 mh = (__mmask8)(m >> (8 * h));
            const __m256i dgh = h ? _mm512_extracti64x4_epi64(dg, 1) : _mm512_castsi512_si256(dg);
            /* v = 0: d = 0 everywhere and u = 0 (y = beta), as in the reference */
            const __m512i t = _mm512_mul_epi32(_mm512_cvtepi32_epi64(dgh), vma);
            const __m512i u = sh >= 62 ? _mm512_setzero_si512() : rdbpot64x8(t, sh);
            const __m512i w = _mm512_add_epi64(u, _mm512_maskz_loadu_epi64(mh, p->b + i + 8 * h));
            __m512i q = _mm512_add_epi64(rdbpot64x8(w, 16), zy);
            q = _mm512_min_epi64(_mm512_max_epi64(q, lo), hi);
            _mm512_mask_cvtepi64_storeu_epi8(y + i + 8 * h, mh, q);
        }
    }
}

/* ---- SOFTMAX rows (also needs AVX-512 DQ: 64-bit multiply, conversions) ---- */

#define EW_AVX512DQ __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512dq")))

void qlite_q8_softmax__avx512(const qlite_q8_softmax_params *p, const uint8_t *x, uint8_t *y,
                              size_t n);

/* 16 decoded values of the row (masked lanes: the byte `fill`). */
EW_AVX512DQ static inline __m512i sm_load16(const uint8_t *x, __mmask16 m, bool sg,
                                            uint8_t fill) {
    const __m128i v = _mm_mask_loadu_epi8(_mm_set1_epi8((char)fill), m, x);
    return sg ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}

/* q = floor(num / den) from q0 = trunc(num * inv), corrected by one step
 * (elementwise_q8.c's scalar row explains why one step is enough). */
EW_AVX512DQ static inline __m512i sm_div8(__m512i num, __m512i den, __m512d inv) {
    __m512i q = _mm512_cvttpd_epi64(_mm512_mul_pd(_mm512_cvtepi64_pd(num), inv));
    const __m512i prod = _mm512_mullo_epi64(q, den);
    const __mmask8 over = _mm512_cmpgt_epu64_mask(prod, num);
    const __mmask8 under = _mm512_mask_cmpge_epu64_mask((__mmask8)~over,
                                                        _mm512_sub_epi64(num, prod), den);
    q = _mm512_mask_sub_epi64(q, over, q, _mm512_set1_epi64(1));
    return _mm512_mask_add_epi64(q, under, q, _mm512_set1_epi64(1));
}

EW_AVX512DQ void qlite_q8_softmax__avx512(const qlite_q8_softmax_params *p, const uint8_t *x,
                                          uint8_t *y, size_t n) {
    const bool sg = p->is_signed, use_min = p->use_min;
    /* the neutral byte for the masked lanes of the extreme */
    const uint8_t fill = use_min ? (sg ? 0x7f : 0xff) : (sg ? 0x80 : 0x00);
    __m512i ext = _mm512_set1_epi32(sg ? (int8_t)fill : fill);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i v = sm_load16(x + i, m, sg, fill);
        ext = use_min ? _mm512_min_epi32(ext, v) : _mm512_max_epi32(ext, v);
    }
    const int32_t mx = use_min ? _mm512_reduce_min_epi32(ext) : _mm512_reduce_max_epi32(ext);
    const __m512i vm = _mm512_set1_epi32(mx);
    /* d = |m - v|; S = sum e[d] in 64-bit lanes */
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i d = _mm512_abs_epi32(_mm512_sub_epi32(vm, sm_load16(x + i, m, sg, fill)));
        const __m512i e = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, d,
                                                      (const int *)p->e, 4);
        s0 = _mm512_add_epi64(s0, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(e)));
        s1 = _mm512_add_epi64(s1, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(e, 1)));
    }
    const uint64_t sum = (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(s0, s1));
    const __m512i den = _mm512_set1_epi64((long long)(sum << 16));
    const __m512i half = _mm512_set1_epi64((long long)(sum << 15));
    const __m512i r = _mm512_set1_epi64((long long)p->r); /* < 2^32: VPMULUDQ */
    const bool r32 = p->r >> 32 != 0;                      /* r = 2^32: a shift */
    const __m512d inv = _mm512_set1_pd(1.0 / (double)(int64_t)(sum << 16));
    const __m512i zy = _mm512_set1_epi64(p->zy), lo = _mm512_set1_epi64(p->qmin),
                  hi = _mm512_set1_epi64(p->qmax);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i d = _mm512_abs_epi32(_mm512_sub_epi32(vm, sm_load16(x + i, m, sg, fill)));
        const __m512i e = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, d,
                                                      (const int *)p->e, 4);
        for (int h = 0; h < 2; h++) {
            const __m256i eh = h ? _mm512_extracti64x4_epi64(e, 1) : _mm512_castsi512_si256(e);
            const __m512i e64 = _mm512_cvtepu32_epi64(eh);
            const __m512i num = _mm512_add_epi64(
                r32 ? _mm512_slli_epi64(e64, 32) : _mm512_mul_epu32(e64, r), half);
            __m512i q = _mm512_add_epi64(sm_div8(num, den, inv), zy);
            q = _mm512_min_epi64(_mm512_max_epi64(q, lo), hi);
            const __mmask8 mh = (__mmask8)(m >> (8 * h));
            _mm512_mask_cvtepi64_storeu_epi8(y + i + 8 * h, mh, q);
        }
    }
}

/* ------------------------------------------------------------------ */
/* AVX-512 VBMI: ADD/SUB through the input-stage tables                */
/* ------------------------------------------------------------------ */

void qlite_q8_binary__avx512vbmi(const qlite_q8_binary_params *p, const uint8_t *a,
                                 const uint8_t *b, uint8_t *y, size_t n, qlite_q8_bshape shape);

/* 256-byte table as four registers; lookup of 64 bytes: VPERMI2B on each
 * half and a blend on the index's top bit. */
typedef struct tab64 {
    __m512i t0, t1, t2, t3;
} tab64;

EW_VBMI static inline tab64 tab_load(const uint8_t *t) {
    tab64 r = {_mm512_loadu_si512(t), _mm512_loadu_si512(t + 64), _mm512_loadu_si512(t + 128),
               _mm512_loadu_si512(t + 192)};
    return r;
}

EW_VBMI static inline __m512i tab_look(const tab64 *t, __m512i v, __mmask64 top) {
    return _mm512_mask_blend_epi8(top, _mm512_permutex2var_epi8(t->t0, v, t->t1),
                                  _mm512_permutex2var_epi8(t->t2, v, t->t3));
}

/* The int32 table value of each of 64 bytes, as 4 x 16 dwords in the
 * unpack order: register j, 128-bit lane L holds elements 16L + 4j .. +3. */
EW_VBMI static inline void tab_dwords(const tab64 pl[4], __m512i v, __m512i out[4]) {
    const __mmask64 top = _mm512_movepi8_mask(v);
    const __m512i b0 = tab_look(&pl[0], v, top), b1 = tab_look(&pl[1], v, top);
    const __m512i b2 = tab_look(&pl[2], v, top), b3 = tab_look(&pl[3], v, top);
    const __m512i w01l = _mm512_unpacklo_epi8(b0, b1), w01h = _mm512_unpackhi_epi8(b0, b1);
    const __m512i w23l = _mm512_unpacklo_epi8(b2, b3), w23h = _mm512_unpackhi_epi8(b2, b3);
    out[0] = _mm512_unpacklo_epi16(w01l, w23l);
    out[1] = _mm512_unpackhi_epi16(w01l, w23l);
    out[2] = _mm512_unpacklo_epi16(w01h, w23h);
    out[3] = _mm512_unpackhi_epi16(w01h, w23h);
}

EW_VBMI void qlite_q8_binary__avx512vbmi(const qlite_q8_binary_params *p, const uint8_t *a,
                                         const uint8_t *b, uint8_t *y, size_t n,
                                         qlite_q8_bshape shape) {
    if (p->mul || !p->planes || n < 64) { /* MUL has no tables; short rows: 16 lanes */
        qlite_q8_binary__avx512(p, a, b, y, n, shape);
        return;
    }
    tab64 pa[4], pb[4];
    for (int k = 0; k < 4; k++) {
        pa[k] = tab_load(p->planes[k]);
        pb[k] = tab_load(p->planes[4 + k]);
    }
    const rq16b out = rq16b_init(p->om, p->ol, p->orr);
    const __m512i zy = _mm512_set1_epi32(p->zy);
    const __m512i lo = _mm512_set1_epi32(p->lo - p->zy), hi = _mm512_set1_epi32(p->hi - p->zy);
    /* bytes of the four registers (after VPMOVDB, j at 16j) back in element order */
    __m512i order;
    {
        uint8_t idx[64];
        for (int L = 0; L < 4; L++)
            for (int j = 0; j < 4; j++)
                for (int t = 0; t < 4; t++) idx[16 * L + 4 * j + t] = (uint8_t)(16 * j + 4 * L + t);
        order = _mm512_loadu_si512(idx);
    }
    /* a broadcast operand: its table value in every lane */
    int32_t cst = 0;
    if (shape != QLITE_Q8_VV) {
        const uint8_t q = shape == QLITE_Q8_SV ? a[0] : b[0];
        const int base = shape == QLITE_Q8_SV ? 0 : 4;
        cst = (int32_t)((uint32_t)p->planes[base][q] | (uint32_t)p->planes[base + 1][q] << 8 |
                        (uint32_t)p->planes[base + 2][q] << 16 |
                        (uint32_t)p->planes[base + 3][q] << 24);
    }
    const __m512i vc = _mm512_set1_epi32(cst);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i ta[4], tb[4];
        if (shape == QLITE_Q8_SV) ta[0] = ta[1] = ta[2] = ta[3] = vc;
        else tab_dwords(pa, _mm512_loadu_si512(a + i), ta);
        if (shape == QLITE_Q8_VS) tb[0] = tb[1] = tb[2] = tb[3] = vc;
        else tab_dwords(pb, _mm512_loadu_si512(b + i), tb);
        __m512i packed = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            __m512i q = rq16b_apply(_mm512_add_epi32(ta[j], tb[j]), &out);
            q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), zy);
            packed = _mm512_inserti32x4(packed, _mm512_cvtepi32_epi8(q), 0);
            packed = _mm512_alignr_epi32(packed, packed, 4); /* rotate: j lands at 16j */
        }
        _mm512_storeu_si512(y + i, _mm512_permutexvar_epi8(order, packed));
    }
    if (i < n) qlite_q8_binary__avx512(p, a + (shape == QLITE_Q8_SV ? 0 : i),
                                       b + (shape == QLITE_Q8_VS ? 0 : i), y + i, n - i, shape);
}

/* ------------------------------------------------------------------ */
/* AVX2: table lookup                                                  */
/* ------------------------------------------------------------------ */

/*
 * VPSHUFB looks up 16-byte tables by the index's low 4 bits and gives 0 when
 * the index byte's bit 7 is set. For x = 16h + l in the lower half (h < 8)
 * and j = 0..7, the saturating x + (0x70 - 16j) = 16(h + 7 - j) + l keeps l
 * and has bit 7 clear exactly when h <= j (upper-half bytes always set it),
 * so lookups in d[j] = T[j] ^ T[j + 1] (d[7] = T[7]; T[j] = table bytes
 * 16j..16j+15) XOR to T[h][l] over j = h..7: the sum telescopes. The upper
 * half is the same on x ^ 0x80 with T[8..15].
 */
EW_AVX2 static inline __m256i lut32_avx2(const __m256i d[16], __m256i v) {
    const __m256i w = _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80));
    __m256i r = _mm256_setzero_si256();
    for (int j = 0; j < 8; j++) {
        const __m256i add = _mm256_set1_epi8((char)(0x70 - 16 * j));
        r = _mm256_xor_si256(r, _mm256_shuffle_epi8(d[j], _mm256_adds_epu8(v, add)));
        r = _mm256_xor_si256(r, _mm256_shuffle_epi8(d[8 + j], _mm256_adds_epu8(w, add)));
    }
    return r;
}

EW_AVX2 void qlite_q8_lut__avx2(const uint8_t table[256], const uint8_t *x, uint8_t *y,
                                size_t n) {
    __m256i d[16];
    for (int j = 0; j < 16; j++) {
        __m128i t = _mm_loadu_si128((const __m128i *)(table + 16 * j));
        if (j != 7 && j != 15)
            t = _mm_xor_si128(t, _mm_loadu_si128((const __m128i *)(table + 16 * j + 16)));
        d[j] = _mm256_broadcastsi128_si256(t);
    }
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _mm256_storeu_si256((__m256i *)(y + i),
                            lut32_avx2(d, _mm256_loadu_si256((const __m256i *)(x + i))));
    if (i < n) {
        uint8_t buf[32] = {0};
        memcpy(buf, x + i, n - i);
        _mm256_storeu_si256((__m256i *)buf, lut32_avx2(d, _mm256_loadu_si256((const __m256i *)buf)));
        memcpy(y + i, buf, n - i);
    }
}

/* ------------------------------------------------------------------ */
/* AVX-512 VBMI: table lookup                                          */
/* ------------------------------------------------------------------ */

EW_VBMI void qlite_q8_lut__avx512vbmi(const uint8_t table[256], const uint8_t *x, uint8_t *y,
                                      size_t n) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i v = _mm512_loadu_si512(x + i);
        const __m512i lo = _mm512_permutex2var_epi8(t0, v, t1); /* index bits 0..6 */
        const __m512i hi = _mm512_permutex2var_epi8(t2, v, t3);
        _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
    }
    if (i < n) {
        const __mmask64 m = ((__mmask64)1 << (n - i)) - 1;
        const __m512i v = _mm512_maskz_loadu_epi8(m, x + i);
        const __m512i lo = _mm512_permutex2var_epi8(t0, v, t1);
        const __m512i hi = _mm512_permutex2var_epi8(t2, v, t3);
        _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
    }
}

#else
/* ISO C forbids an empty translation unit. */
typedef int qlite_elementwise_q8_x86_unused;
#endif
