/*
 * q8_x86.h — x86 vector forms of the requantization of docs/quantization.md
 * §3 (bit-identical to qlite_requantize) for the int8 kernels' output
 * stages (gemm_q8_x86.c, depthwise_conv_2d_q8.c):
 *
 *   x'  = x << lshift, saturated to int32 (only when some lshift > 0)
 *   h   = (x' * M0 + 2^30) >> 31          (64-bit products of even and odd
 *                                           lanes; = srdhm, ties toward +inf)
 *   q   = (h >> r) + ((h & (2^r - 1)) > ((2^r - 1) >> 1) + (h < 0))   (rdbpot)
 *   y   = clamp(q, lo - zy, hi - zy) + zy  (no int32 overflow: q is clamped
 *                                           before the zero point is added)
 *
 * Functions carry their own target attributes; callers run them only on
 * CPUs with the ISA (gemm_q8.c's feature detection).
 */
#ifndef QLITE_Q8_X86_H
#define QLITE_Q8_X86_H

#if defined(__x86_64__) && defined(__GNUC__)
#define QLITE_Q8_X86 1

#include <immintrin.h>
#include <string.h>

#include "kernels/gemm_q8.h"

#define Q8_UNROLL _Pragma("GCC unroll 16")
#define Q8_AVX2 __attribute__((target("avx2")))
#define Q8_AVXVNNI __attribute__((target("avx2,avxvnni")))
#define Q8_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

static inline int32_t q8_ld4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline size_t q8_min(size_t a, size_t b) { return a < b ? a : b; }

/* ---- 256-bit (AVX2) ---- */

/* Requantization parameters of 8 columns. */
typedef struct rq8 {
    __m256i m0, lsh, rsh, rmask, thr, lo, hi, zy;
    bool left;
} rq8;

Q8_AVX2 static inline rq8 rq8_load(const qlite_q8_cols *cols, size_t n) {
    rq8 p;
    const __m256i one = _mm256_set1_epi32(1);
    p.m0 = _mm256_loadu_si256((const __m256i *)(cols->mult + n));
    p.lsh = _mm256_loadu_si256((const __m256i *)(cols->lshift + n));
    p.rsh = _mm256_loadu_si256((const __m256i *)(cols->rshift + n));
    p.rmask = _mm256_sub_epi32(_mm256_sllv_epi32(one, p.rsh), one);
    p.thr = _mm256_srli_epi32(p.rmask, 1);
    p.zy = _mm256_set1_epi32(cols->zy);
    p.lo = _mm256_set1_epi32(cols->lo - cols->zy);
    p.hi = _mm256_set1_epi32(cols->hi - cols->zy);
    p.left = cols->any_lshift;
    return p;
}

Q8_AVX2 static inline __m256i rq8_apply(__m256i x, const rq8 *p) {
    const __m256i zero = _mm256_setzero_si256();
    if (p->left) {
        const __m256i xl = _mm256_sllv_epi32(x, p->lsh);
        const __m256i ok = _mm256_cmpeq_epi32(_mm256_srav_epi32(xl, p->lsh), x);
        const __m256i neg = _mm256_cmpgt_epi32(zero, x);
        const __m256i sat = _mm256_blendv_epi8(_mm256_set1_epi32(INT32_MAX),
                                               _mm256_set1_epi32(INT32_MIN), neg);
        x = _mm256_blendv_epi8(sat, xl, ok);
    }
    const __m256i nudge = _mm256_set1_epi64x(1ll << 30);
    __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, p->m0), nudge);
    __m256i po = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(p->m0, 32)), nudge);
    pe = _mm256_srli_epi64(pe, 31); /* bits 31..62 -> low half of each 64-bit lane */
    po = _mm256_slli_epi64(po, 1);  /* bits 31..62 -> high half */
    const __m256i h = _mm256_blend_epi32(pe, po, 0xAA);
    __m256i q = _mm256_srav_epi32(h, p->rsh);
    const __m256i rem = _mm256_and_si256(h, p->rmask);
    const __m256i t = _mm256_sub_epi32(p->thr, _mm256_cmpgt_epi32(zero, h)); /* thr + (h < 0) */
    q = _mm256_sub_epi32(q, _mm256_cmpgt_epi32(rem, t));
    q = _mm256_min_epi32(_mm256_max_epi32(q, p->lo), p->hi);
    return _mm256_add_epi32(q, p->zy);
}

/* Low bytes of 8 int32 lanes into the low 8 bytes. */
Q8_AVX2 static inline __m128i bytes8(__m256i y) {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1,
                                          -1, -1, -1, -1);
    const __m256i b = _mm256_shuffle_epi8(y, pick);
    const __m256i d = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    return _mm256_castsi256_si128(d);
}

/* ---- 512-bit (AVX-512) ---- */

typedef struct rq16 {
    __m512i m0, lsh, rsh, rmask, thr, lo, hi, zy;
    bool left;
} rq16;

Q8_AVX512 static inline rq16 rq16_load(const qlite_q8_cols *cols, size_t n) {
    rq16 p;
    const __m512i one = _mm512_set1_epi32(1);
    p.m0 = _mm512_loadu_si512(cols->mult + n);
    p.lsh = _mm512_loadu_si512(cols->lshift + n);
    p.rsh = _mm512_loadu_si512(cols->rshift + n);
    p.rmask = _mm512_sub_epi32(_mm512_sllv_epi32(one, p.rsh), one);
    p.thr = _mm512_srli_epi32(p.rmask, 1);
    p.zy = _mm512_set1_epi32(cols->zy);
    p.lo = _mm512_set1_epi32(cols->lo - cols->zy);
    p.hi = _mm512_set1_epi32(cols->hi - cols->zy);
    p.left = cols->any_lshift;
    return p;
}

Q8_AVX512 static inline __m512i rq16_apply(__m512i x, const rq16 *p) {
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    if (p->left) {
        const __m512i xl = _mm512_sllv_epi32(x, p->lsh);
        const __mmask16 ovf = _mm512_cmpneq_epi32_mask(_mm512_srav_epi32(xl, p->lsh), x);
        const __mmask16 neg = _mm512_cmplt_epi32_mask(x, zero);
        const __m512i sat = _mm512_mask_blend_epi32(neg, _mm512_set1_epi32(INT32_MAX),
                                                    _mm512_set1_epi32(INT32_MIN));
        x = _mm512_mask_blend_epi32(ovf, xl, sat);
    }
    const __m512i nudge = _mm512_set1_epi64(1ll << 30);
    __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, p->m0), nudge);
    __m512i po = _mm512_add_epi64(
        _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(p->m0, 32)), nudge);
    pe = _mm512_srli_epi64(pe, 31);
    po = _mm512_slli_epi64(po, 1);
    const __m512i h = _mm512_mask_blend_epi32(0xAAAA, pe, po);
    const __m512i q = _mm512_srav_epi32(h, p->rsh);
    const __m512i rem = _mm512_and_si512(h, p->rmask);
    const __m512i t = _mm512_mask_add_epi32(p->thr, _mm512_cmplt_epi32_mask(h, zero), p->thr, one);
    __m512i y = _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, t), q, one);
    y = _mm512_min_epi32(_mm512_max_epi32(y, p->lo), p->hi);
    return _mm512_add_epi32(y, p->zy);
}

#endif /* x86-64 */
#endif /* QLITE_Q8_X86_H */
