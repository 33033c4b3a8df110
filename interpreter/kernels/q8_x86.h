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

/* The requantization up to the clamp: q of 8 lanes (before clamp and zero point). */
Q8_AVX2 static inline __m256i rq8_round(__m256i x, const rq8 *p) {
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
    return _mm256_sub_epi32(q, _mm256_cmpgt_epi32(rem, t));
}

Q8_AVX2 static inline __m256i rq8_apply(__m256i x, const rq8 *p) {
    const __m256i q = rq8_round(x, p);
    return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, p->lo), p->hi), p->zy);
}

/*
 * The bytes of two rows' 16 columns (q of rq8_round: r0 columns 0-7, 8-15,
 * r1 the same): VPACKSSDW, + zy saturating, VPACKSSWB (int8 output, lo <
 * 0) or VPACKUSWB (uint8), then the clamp to [lo, hi] on bytes; row 0 in the
 * low 128 bits, row 1 in the high. The same as rq8_apply's clamp(q, lo - zy,
 * hi - zy) + zy: every saturation keeps values inside the output range as
 * they are and moves the others past the same end of it (|zy| <= 255 fits
 * int16), where the final clamp puts both.
 */
Q8_AVX2 static inline __m256i rq8_bytes2(__m256i r0a, __m256i r0b, __m256i r1a, __m256i r1b,
                                         const qlite_q8_cols *cols) {
    const __m256i zy = _mm256_set1_epi16((int16_t)cols->zy);
    const __m256i w0 = _mm256_adds_epi16(_mm256_packs_epi32(r0a, r0b), zy);
    const __m256i w1 = _mm256_adds_epi16(_mm256_packs_epi32(r1a, r1b), zy);
    __m256i b;
    if (cols->lo < 0) {
        b = _mm256_packs_epi16(w0, w1);
        b = _mm256_min_epi8(_mm256_max_epi8(b, _mm256_set1_epi8((char)cols->lo)),
                            _mm256_set1_epi8((char)cols->hi));
    } else {
        b = _mm256_packus_epi16(w0, w1);
        b = _mm256_min_epu8(_mm256_max_epu8(b, _mm256_set1_epi8((char)(uint8_t)cols->lo)),
                            _mm256_set1_epi8((char)(uint8_t)cols->hi));
    }
    /* dwords per lane: r0 c0-3, r0 c8-11, r1 c0-3, r1 c8-11 | r0 c4-7, r0 c12-15, r1 ... */
    return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
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

/*
 * The same requantization for the multi-row tiles, with the parameters of
 * 16 columns spread over 64-bit lanes at load (amortized over the tile's
 * rows) so each value takes ~12 vector ops, and the clamp done after
 * narrowing (rq16w_bytes32). The two roundings fold into one 64-bit shift
 * exactly: with P = x' * M0 and h = floor((P + 2^30) / 2^31) (srdhm; M0 is
 * never INT32_MIN, so it does not saturate),
 *   rdbpot(h, r) = floor((h + n) / 2^r),  n = 2^(r-1) - [h < 0]  (r > 0), 0 (r = 0)
 * and floor((floor(a / 2^31) + n) / 2^r) = floor((a + n * 2^31) / 2^(31+r)), so
 *   q = (P + 2^30 + n * 2^31) >> (31 + r)   (64-bit, |P| < 2^62: no overflow)
 * with h < 0 exactly when P < -2^30.
 */
typedef struct rq16w {
    __m512i m0, m0o;      /* M0 (even lanes as read by VPMULDQ), odd lanes' M0 shifted down */
    __m512i ce, co;       /* 2^30 + 2^(r-1) * 2^31 (0 for r = 0), even / odd columns */
    __m512i de, dodd;     /* 2^31 when r > 0: taken off for negative h */
    __m512i she, sho;     /* 31 + r */
    __m512i lsh;
    __m512i zy16;         /* zy in every int16 lane */
    __m256i lo8, hi8;     /* clamp in the byte domain */
    bool left, sgn;       /* sgn: int8 bytes (hi <= 127), else uint8 */
} rq16w;

Q8_AVX512 static inline rq16w rq16w_load(const qlite_q8_cols *cols, size_t n) {
    rq16w p;
    const __m512i k31 = _mm512_set1_epi64(1ll << 31), k30 = _mm512_set1_epi64(1ll << 30);
    const __m512i c31 = _mm512_set1_epi64(31);
    const __m512i r = _mm512_loadu_si512(cols->rshift + n);
    const __m512i thrp = _mm512_srli_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), r), 1);
    const __m512i d = _mm512_min_epu32(r, _mm512_set1_epi32(1));
    p.m0 = _mm512_loadu_si512(cols->mult + n);
    p.m0o = _mm512_srli_epi64(p.m0, 32);
    p.ce = _mm512_add_epi64(_mm512_mul_epu32(thrp, k31), k30);
    p.co = _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(thrp, 32), k31), k30);
    p.de = _mm512_mul_epu32(d, k31);
    p.dodd = _mm512_mul_epu32(_mm512_srli_epi64(d, 32), k31);
    p.she = _mm512_add_epi64(_mm512_and_si512(r, _mm512_set1_epi64(0xffffffffll)), c31);
    p.sho = _mm512_add_epi64(_mm512_srli_epi64(r, 32), c31);
    p.lsh = _mm512_loadu_si512(cols->lshift + n);
    p.left = cols->any_lshift;
    p.sgn = cols->hi <= 127;
    p.zy16 = _mm512_set1_epi16((int16_t)cols->zy);
    p.lo8 = _mm256_set1_epi8((char)cols->lo);
    p.hi8 = _mm256_set1_epi8((char)cols->hi);
    return p;
}

/* Only the output fields (zy16, lo8, hi8, sgn) for rq16w_bytes32 / _s. */
Q8_AVX512 static inline rq16w rq16w_load_out(const qlite_q8_cols *cols) {
    rq16w p;
    memset(&p, 0, sizeof p);
    p.sgn = cols->hi <= 127;
    p.zy16 = _mm512_set1_epi16((int16_t)cols->zy);
    p.lo8 = _mm256_set1_epi8((char)cols->lo);
    p.hi8 = _mm256_set1_epi8((char)cols->hi);
    return p;
}

/* requantize(x) of 16 lanes, before the zero point and the clamp. */
Q8_AVX512 static inline __m512i rq16w_q(__m512i x, const rq16w *p) {
    if (p->left) {
        const __m512i xl = _mm512_sllv_epi32(x, p->lsh);
        const __mmask16 ovf = _mm512_cmpneq_epi32_mask(_mm512_srav_epi32(xl, p->lsh), x);
        const __mmask16 neg = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512());
        const __m512i sat = _mm512_mask_blend_epi32(neg, _mm512_set1_epi32(INT32_MAX),
                                                    _mm512_set1_epi32(INT32_MIN));
        x = _mm512_mask_blend_epi32(ovf, xl, sat);
    }
    const __m512i lim = _mm512_set1_epi64(-(1ll << 30));
    const __m512i pe = _mm512_mul_epi32(x, p->m0);
    const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m0o);
    __m512i te = _mm512_add_epi64(pe, p->ce), to = _mm512_add_epi64(po, p->co);
    te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(pe, lim), te, p->de);
    to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(po, lim), to, p->dodd);
    te = _mm512_srav_epi64(te, p->she);
    to = _mm512_srav_epi64(to, p->sho);
    /* odd results (low dword of each odd qword) into the odd dword lanes */
    return _mm512_mask_shuffle_epi32(te, 0xAAAA, to, (_MM_PERM_ENUM)0xA0);
}

/*
 * rq16w_q without the left shift (p->left false) of 16 values b + x, where b
 * is folded into p (rq16w_fold) and x is given as xe, whose even int32 lanes
 * hold x's values 0, 2, .., 14, and xo, whose even lanes hold values 1, 3,
 * .., 15 (odd lanes of both ignored): a caller that reads x from memory
 * loads xo 4 bytes further on, one shift fewer. lt: rq16w_fold's limits.
 */
Q8_AVX512 static inline __m512i rq16w_q_eo(__m512i xe, __m512i xo, const rq16w *p,
                                           const __m512i lt[2]) {
    const __m512i pe = _mm512_mul_epi32(xe, p->m0);
    const __m512i po = _mm512_mul_epi32(xo, p->m0o);
    __m512i te = _mm512_add_epi64(pe, p->ce), to = _mm512_add_epi64(po, p->co);
    te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(pe, lt[0]), te, p->de);
    to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(po, lt[1]), to, p->dodd);
    te = _mm512_srav_epi64(te, p->she);
    to = _mm512_srav_epi64(to, p->sho);
    return _mm512_mask_shuffle_epi32(te, 0xAAAA, to, (_MM_PERM_ENUM)0xA0);
}

/*
 * Folds 16 biases b (int32 lanes) into p for rq16w_q_eo: P = (b + x) M0 =
 * x M0 + b M0, the second term added to the rounding constants (ce, co) and
 * the test for a negative h (P < -2^30) made x M0 < lt = -2^30 - b M0; x M0,
 * b M0 and the sums are exact in 64 bits (|x|, |b| < 2^31, M0 < 2^31).
 */
Q8_AVX512 static inline void rq16w_fold(rq16w *p, __m512i b, __m512i lt[2]) {
    const __m512i lim = _mm512_set1_epi64(-(1ll << 30));
    const __m512i fe = _mm512_mul_epi32(b, p->m0);
    const __m512i fo = _mm512_mul_epi32(_mm512_srli_epi64(b, 32), p->m0o);
    p->ce = _mm512_add_epi64(p->ce, fe);
    p->co = _mm512_add_epi64(p->co, fo);
    lt[0] = _mm512_sub_epi64(lim, fe);
    lt[1] = _mm512_sub_epi64(lim, fo);
}

/*
 * Output bytes of two requantized 16-lane vectors qa, qb: 32 bytes, qa's in
 * the low 16. zy added and the clamp taken after saturating narrowing
 * (VPACKSSDW, VPADDSW, VPACKSSWB / VPACKUSWB): every step is monotone and
 * the identity on [lo, hi], so the result is clamp(q + zy, lo, hi) exactly.
 */
Q8_AVX512 static inline __m256i rq16w_bytes32_s(__m512i qa, __m512i qb, const rq16w *p,
                                                bool sgn) {
    const __m512i w = _mm512_adds_epi16(_mm512_packs_epi32(qa, qb), p->zy16);
    /* 128-bit lane l: dwords [qa_l, qb_l, qa_l, qb_l] (4 bytes each) */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    if (sgn) {
        const __m256i b = _mm512_castsi512_si256(
            _mm512_permutexvar_epi32(order, _mm512_packs_epi16(w, w)));
        return _mm256_min_epi8(_mm256_max_epi8(b, p->lo8), p->hi8);
    }
    const __m256i b =
        _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, _mm512_packus_epi16(w, w)));
    return _mm256_min_epu8(_mm256_max_epu8(b, p->lo8), p->hi8);
}

/* The same with p's own sgn (int8 or uint8 bytes). */
Q8_AVX512 static inline __m256i rq16w_bytes32(__m512i qa, __m512i qb, const rq16w *p) {
    return rq16w_bytes32_s(qa, qb, p, p->sgn);
}

#endif /* x86-64 */
#endif /* QLITE_Q8_X86_H */
