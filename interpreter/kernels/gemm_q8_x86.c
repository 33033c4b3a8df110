/*
 * gemm_q8_x86.c — x86 variants of the int8 GEMM (gemm_q8.h):
 *
 *   qlite_q8_gemm__avx2_3x16         VPMOVSXBW/VPMOVZXBW + VPMADDWD: the
 *                                    u8 x s8 products of 4 k steps as two
 *                                    int16 pairs, exact (VPMADDUBSW would
 *                                    saturate 255 * 127 * 2 in int16);
 *   qlite_q8_gemm__avxvnni_6x16      AVX-VNNI VPDPBUSD on YMM;
 *   qlite_q8_gemm__avx512vnni_12x16  AVX-512 VNNI VPDPBUSD on ZMM, one
 *   qlite_q8_gemm__avx512vnni_8x32   or two 16-column blocks per tile.
 *
 * VPDPBUSD multiplies 4 unsigned bytes of A by 4 signed bytes of B and adds
 * the 4 products to an int32 lane, without intermediate saturation: one
 * instruction does 16 (YMM: 8) columns x 4 k of one row. A 64-byte group
 * of O16I4 weights is exactly one ZMM (two YMM); A's 4 bytes are broadcast.
 *
 * Every variant ends each tile with the vector requantization of q8_x86.h
 * (bit-identical to qlite_requantize) and stores the low byte of each lane.
 * The functions carry their own target attributes; gemm_q8.c calls them
 * only when the CPU has the ISA.
 */
#include "gemm_q8.h"

#include "kernels/q8_x86.h"

#ifdef QLITE_Q8_X86

/* acc (16 columns as two halves) + bias - zw * rowsum. */
Q8_AVX2 static inline void init_terms8(const qlite_q8_cols *cols, size_t n, int32_t rowsum,
                                  __m256i *lo8, __m256i *hi8) {
    if (cols->bias) {
        *lo8 = _mm256_add_epi32(*lo8, _mm256_loadu_si256((const __m256i *)(cols->bias + n)));
        *hi8 = _mm256_add_epi32(*hi8, _mm256_loadu_si256((const __m256i *)(cols->bias + n + 8)));
    }
    if (cols->zw) {
        const __m256i rs = _mm256_set1_epi32(rowsum);
        *lo8 = _mm256_sub_epi32(
            *lo8, _mm256_mullo_epi32(rs, _mm256_loadu_si256((const __m256i *)(cols->zw + n))));
        *hi8 = _mm256_sub_epi32(
            *hi8, _mm256_mullo_epi32(rs, _mm256_loadu_si256((const __m256i *)(cols->zw + n + 8))));
    }
}

/* Output stage of 16 columns [n, n + cnt) of one row (final accumulators). */
Q8_AVX2 static inline void store16_256(__m256i lo8, __m256i hi8, const rq8 *p0, const rq8 *p1,
                                  size_t cnt, unsigned mode, void *dst) {
    if (mode == QLITE_GEMM_Q8_INT32) {
        int32_t tmp[16];
        _mm256_storeu_si256((__m256i *)tmp, lo8);
        _mm256_storeu_si256((__m256i *)(tmp + 8), hi8);
        memcpy(dst, tmp, cnt * sizeof(int32_t));
        return;
    }
    const __m128i b = _mm_unpacklo_epi64(bytes8(rq8_apply(lo8, p0)), bytes8(rq8_apply(hi8, p1)));
    if (cnt == 16) {
        _mm_storeu_si128((__m128i *)dst, b);
    } else {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, b);
        memcpy(dst, tmp, cnt);
    }
}

/* 32-bit horizontal sum. */
Q8_AVX2 static inline int32_t hsum256(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* Dot output: 16 sums (cnt valid) of one row -> C[n0 .. n0 + cnt). */
Q8_AVX2 static inline void dot_out16_256(const int32_t *sums, int32_t rowsum,
                                         const qlite_q8_cols *cols, size_t n, size_t cnt,
                                         unsigned mode, void *c) {
    __m256i lo8 = _mm256_loadu_si256((const __m256i *)sums);
    __m256i hi8 = _mm256_loadu_si256((const __m256i *)(sums + 8));
    init_terms8(cols, n, rowsum, &lo8, &hi8);
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    if (mode == QLITE_GEMM_Q8_INT32) {
        store16_256(lo8, hi8, NULL, NULL, cnt, mode, (uint8_t *)c + n * es);
        return;
    }
    const rq8 p0 = rq8_load(cols, n), p1 = rq8_load(cols, n + 8);
    store16_256(lo8, hi8, &p0, &p1, cnt, mode, (uint8_t *)c + n * es);
}

/* ================================================================ */
/* AVX2: VPMADDWD                                                    */
/* ================================================================ */

#define AVX2_MR 3

/*
 * Per row and 4-column group g, acc[i][g] holds 8 int32 lanes: for columns
 * 4g..4g+3 the sums over k = 0,1 and k = 2,3 of every 4-k step
 * ([c0:01, c0:23, c1:01, c1:23 | c2:01, c2:23, c3:01, c3:23]); the pairs are
 * added and put in column order at the end.
 */
Q8_AVX2 static void tile_avx2(size_t K4, const uint8_t *a, size_t lda, size_t mr, const int8_t *b,
                         size_t bstride, size_t nr, const qlite_q8_cols *cols, size_t n0,
                         const int32_t *rowsum, void *c, size_t ldc, unsigned mode) {
    (void)bstride;
    __m256i acc[AVX2_MR][4];
    const uint8_t *ar[AVX2_MR];
    Q8_UNROLL for (size_t i = 0; i < AVX2_MR; i++) {
        ar[i] = a + (i < mr ? i : mr - 1) * lda;
        Q8_UNROLL for (size_t g = 0; g < 4; g++) acc[i][g] = _mm256_setzero_si256();
    }
    for (size_t k = 0; k < K4; k += 4) {
        const int8_t *bp = b + k * 16;
        __m256i w[4];
        Q8_UNROLL for (size_t g = 0; g < 4; g++)
            w[g] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bp + 16 * g)));
        Q8_UNROLL for (size_t i = 0; i < AVX2_MR; i++) {
            const __m256i av =
                _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(q8_ld4(ar[i] + k))));
            Q8_UNROLL for (size_t g = 0; g < 4; g++)
                acc[i][g] = _mm256_add_epi32(acc[i][g], _mm256_madd_epi16(w[g], av));
        }
    }
    rq8 p0, p1;
    memset(&p0, 0, sizeof p0);
    memset(&p1, 0, sizeof p1);
    if (mode != QLITE_GEMM_Q8_INT32) {
        p0 = rq8_load(cols, n0);
        p1 = rq8_load(cols, n0 + 8);
    }
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    Q8_UNROLL for (size_t i = 0; i < AVX2_MR; i++) {
        if (i >= mr) break;
        __m256i lo8 = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[i][0], acc[i][1]),
                                               _MM_SHUFFLE(3, 1, 2, 0));
        __m256i hi8 = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[i][2], acc[i][3]),
                                               _MM_SHUFFLE(3, 1, 2, 0));
        init_terms8(cols, n0, rowsum ? rowsum[i] : 0, &lo8, &hi8);
        store16_256(lo8, hi8, &p0, &p1, nr, mode, (uint8_t *)c + i * ldc * es);
    }
}

/* 4 weight rows at a time, 16 k per step; the tail of K scalar. */
Q8_AVX2 static void dot_avx2(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w,
                             size_t ldw, size_t n0, size_t n1, const qlite_q8_cols *cols, void *c,
                             unsigned mode) {
    const size_t K16 = K / 16 * 16;
    for (size_t c0 = n0; c0 < n1; c0 += 16) {
        const size_t cnt = q8_min(16, n1 - c0);
        int32_t sums[16] = {0};
        for (size_t j = 0; j < cnt; j += 4) {
            const size_t nrow = q8_min(4, cnt - j);
            const int8_t *wr[4];
            for (size_t r = 0; r < 4; r++) wr[r] = w + (c0 + j + (r < nrow ? r : 0)) * ldw;
            __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                              _mm256_setzero_si256(), _mm256_setzero_si256()};
            for (size_t k = 0; k < K16; k += 16) {
                const __m256i av = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + k)));
                Q8_UNROLL for (size_t r = 0; r < 4; r++) {
                    const __m256i wv =
                        _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wr[r] + k)));
                    acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(av, wv));
                }
            }
            for (size_t r = 0; r < nrow; r++) {
                int32_t s = hsum256(acc[r]);
                for (size_t k = K16; k < K; k++) s += (int32_t)a[k] * wr[r][k];
                sums[j + r] = s;
            }
        }
        dot_out16_256(sums, rowsum, cols, c0, cnt, mode, c);
    }
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__avx2_3x16 = {
    .name = "qlite_q8_gemm__avx2_3x16", .mr = AVX2_MR, .nr = 16, .tile = tile_avx2,
    .dot = dot_avx2};

/* ================================================================ */
/* AVX-VNNI: 256-bit VPDPBUSD                                        */
/* ================================================================ */

#define AVNNI_MR 6

Q8_AVXVNNI static void tile_avxvnni(size_t K4, const uint8_t *a, size_t lda, size_t mr,
                               const int8_t *b, size_t bstride, size_t nr,
                               const qlite_q8_cols *cols, size_t n0, const int32_t *rowsum,
                               void *c, size_t ldc, unsigned mode) {
    (void)bstride;
    __m256i acc[AVNNI_MR][2];
    const uint8_t *ar[AVNNI_MR];
    Q8_UNROLL for (size_t i = 0; i < AVNNI_MR; i++) {
        ar[i] = a + (i < mr ? i : mr - 1) * lda;
        acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    }
    for (size_t k = 0; k < K4; k += 4) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(b + k * 16));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(b + k * 16 + 32));
        Q8_UNROLL for (size_t i = 0; i < AVNNI_MR; i++) {
            const __m256i av = _mm256_set1_epi32(q8_ld4(ar[i] + k));
            acc[i][0] = _mm256_dpbusd_avx_epi32(acc[i][0], av, w0);
            acc[i][1] = _mm256_dpbusd_avx_epi32(acc[i][1], av, w1);
        }
    }
    rq8 p0, p1;
    memset(&p0, 0, sizeof p0);
    memset(&p1, 0, sizeof p1);
    if (mode != QLITE_GEMM_Q8_INT32) {
        p0 = rq8_load(cols, n0);
        p1 = rq8_load(cols, n0 + 8);
    }
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    Q8_UNROLL for (size_t i = 0; i < AVNNI_MR; i++) {
        if (i >= mr) break;
        __m256i lo8 = acc[i][0], hi8 = acc[i][1];
        init_terms8(cols, n0, rowsum ? rowsum[i] : 0, &lo8, &hi8);
        store16_256(lo8, hi8, &p0, &p1, nr, mode, (uint8_t *)c + i * ldc * es);
    }
}

Q8_AVXVNNI static void dot_avxvnni(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w,
                              size_t ldw, size_t n0, size_t n1, const qlite_q8_cols *cols,
                              void *c, unsigned mode) {
    const size_t K32 = K / 32 * 32;
    for (size_t c0 = n0; c0 < n1; c0 += 16) {
        const size_t cnt = q8_min(16, n1 - c0);
        int32_t sums[16] = {0};
        for (size_t j = 0; j < cnt; j += 4) {
            const size_t nrow = q8_min(4, cnt - j);
            const int8_t *wr[4];
            for (size_t r = 0; r < 4; r++) wr[r] = w + (c0 + j + (r < nrow ? r : 0)) * ldw;
            __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                              _mm256_setzero_si256(), _mm256_setzero_si256()};
            for (size_t k = 0; k < K32; k += 32) {
                const __m256i av = _mm256_loadu_si256((const __m256i *)(a + k));
                Q8_UNROLL for (size_t r = 0; r < 4; r++)
                    acc[r] = _mm256_dpbusd_avx_epi32(
                        acc[r], av, _mm256_loadu_si256((const __m256i *)(wr[r] + k)));
            }
            for (size_t r = 0; r < nrow; r++) {
                int32_t s = hsum256(acc[r]);
                for (size_t k = K32; k < K; k++) s += (int32_t)a[k] * wr[r][k];
                sums[j + r] = s;
            }
        }
        dot_out16_256(sums, rowsum, cols, c0, cnt, mode, c);
    }
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__avxvnni_6x16 = {
    .name = "qlite_q8_gemm__avxvnni_6x16", .mr = AVNNI_MR, .nr = 16, .tile = tile_avxvnni,
    .dot = dot_avxvnni};

/* ================================================================ */
/* AVX-512 VNNI                                                      */
/* ================================================================ */

Q8_AVX512 static inline __m512i terms16(const qlite_q8_cols *cols, size_t n, int32_t rowsum) {
    __m512i t = cols->bias ? _mm512_loadu_si512(cols->bias + n) : _mm512_setzero_si512();
    if (cols->zw)
        t = _mm512_sub_epi32(t, _mm512_mullo_epi32(_mm512_set1_epi32(rowsum),
                                                   _mm512_loadu_si512(cols->zw + n)));
    return t;
}

Q8_AVX512 static inline void store16_512(__m512i y, __mmask16 cm, const rq16 *p, unsigned mode,
                                    void *dst) {
    if (mode == QLITE_GEMM_Q8_INT32)
        _mm512_mask_storeu_epi32(dst, cm, y);
    else
        _mm_mask_storeu_epi8(dst, cm, _mm512_cvtepi32_epi8(rq16_apply(y, p)));
}

#define Q8_MR 12
#define Q8_NV 1
#define Q8_SUFFIX 12x16
#include "gemm_q8_avx512.inc"

#define Q8_MR 8
#define Q8_NV 2
#define Q8_SUFFIX 8x32
#include "gemm_q8_avx512.inc"

/*
 * O16I4 packing of 16 rows (c0 .. c0 + cols) of W [N, K]: one gather of 16
 * dwords (4 k of each row) per 64-byte group; the last partial group and
 * missing rows as zeros (gemm_q8.c's pack_block_portable, same bytes).
 */
Q8_AVX512 void qlite_gemm_q8_pack_block_avx512(size_t K, const uint8_t *b, size_t ldb,
                                               uint8_t flip, size_t c0, size_t cols,
                                               uint8_t *dst) {
    const size_t K4 = (K + 3) / 4 * 4, full = K / 4;
    const __mmask16 rows = (__mmask16)((1u << cols) - 1);
    const __m512i idx = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int32_t)ldb));
    const __m512i fl = _mm512_set1_epi8((char)flip);
    const uint8_t *base = b + c0 * ldb;
    for (size_t q = 0; q < full; q++) {
        const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, idx,
                                                      base + 4 * q, 1);
        _mm512_storeu_si512(dst + q * 64, _mm512_maskz_xor_epi32(rows, v, fl));
    }
    if (full < K4 / 4) { /* K % 4 bytes of each row, zero padded */
        uint8_t tail[64] = {0};
        for (size_t c = 0; c < cols; c++)
            for (size_t t = 0; 4 * full + t < K; t++)
                tail[c * 4 + t] = (uint8_t)(base[c * ldb + 4 * full + t] ^ flip);
        memcpy(dst + full * 64, tail, 64);
    }
}

/* 4 weight rows at a time, 64 k per step (masked tail); A is padded to 64. */
Q8_AVX512 static void dot_avx512vnni(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w,
                                size_t ldw, size_t n0, size_t n1, const qlite_q8_cols *cols,
                                void *c, unsigned mode) {
    const size_t K64 = K / 64 * 64;
    const __mmask64 tail = K64 < K ? (~0ull >> (64 - (K - K64))) : 0;
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    rq16 p;
    memset(&p, 0, sizeof p);
    for (size_t c0 = n0; c0 < n1; c0 += 16) {
        const size_t cnt = q8_min(16, n1 - c0);
        int32_t sums[16] = {0};
        for (size_t j = 0; j < cnt; j += 4) {
            const size_t nrow = q8_min(4, cnt - j);
            const int8_t *wr[4];
            for (size_t r = 0; r < 4; r++) wr[r] = w + (c0 + j + (r < nrow ? r : 0)) * ldw;
            __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(),
                              _mm512_setzero_si512(), _mm512_setzero_si512()};
            for (size_t k = 0; k < K64; k += 64) {
                const __m512i av = _mm512_loadu_si512(a + k);
                Q8_UNROLL for (size_t r = 0; r < 4; r++)
                    acc[r] = _mm512_dpbusd_epi32(acc[r], av, _mm512_loadu_si512(wr[r] + k));
            }
            if (tail) {
                const __m512i av = _mm512_loadu_si512(a + K64);
                Q8_UNROLL for (size_t r = 0; r < 4; r++)
                    acc[r] = _mm512_dpbusd_epi32(acc[r], av,
                                                 _mm512_maskz_loadu_epi8(tail, wr[r] + K64));
            }
            for (size_t r = 0; r < nrow; r++) sums[j + r] = _mm512_reduce_add_epi32(acc[r]);
        }
        const __m512i y = _mm512_add_epi32(_mm512_loadu_si512(sums), terms16(cols, c0, rowsum));
        if (mode != QLITE_GEMM_Q8_INT32) p = rq16_load(cols, c0);
        store16_512(y, (__mmask16)((1u << cnt) - 1), &p, mode, (uint8_t *)c + c0 * es);
    }
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__avx512vnni_12x16 = {
    .name = "qlite_q8_gemm__avx512vnni_12x16", .mr = 12, .nr = 16,
    .tile = tile_avx512vnni_12x16, .dot = dot_avx512vnni};

const qlite_gemm_q8_ukernel qlite_q8_gemm__avx512vnni_8x32 = {
    .name = "qlite_q8_gemm__avx512vnni_8x32", .mr = 8, .nr = 32, .tile = tile_avx512vnni_8x32,
    .dot = dot_avx512vnni};

#endif /* x86-64 */
