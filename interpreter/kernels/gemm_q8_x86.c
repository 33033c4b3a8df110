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

/*
 * The workspace path (tiles_ws): A's rows widened to int16 once per call,
 * [Mp][K4] (Mp = M rounded up to 6, the extra rows zero), and each 16-column
 * block of B once per call into "k-pair" order: for each pair of k (2p,
 * 2p + 1) the 16 columns' two int16 weights side by side ([16][2], 64
 * bytes). One VPMADDWD of the block's first (or last) 32 bytes with A's two
 * int16 codes of a row broadcast (VPBROADCASTD from memory) then gives 8
 * whole columns, so a 6 x 16 tile keeps 2 accumulators a row (12 YMM) and
 * its loop is 6 broadcasts, 12 VPMADDWD with B from memory and 12 VPADDD
 * per 2 k: no widening, shuffles or horizontal adds in it (the 3x16 tile
 * above widens 4 B and 3 A vectors per 4 k and spills 2 of its 12
 * accumulators). The loop is written as assembly: gcc and clang otherwise
 * keep B's vectors in registers and spill accumulators.
 */
#define AVX2W_MR 6

static size_t avx2w_rows(size_t M) { return (M + AVX2W_MR - 1) / AVX2W_MR * AVX2W_MR; }

/* (+ 32: the buffers start at the first 32-byte boundary of ws) */
static size_t ws_bytes_avx2(size_t M, size_t K4) {
    return (avx2w_rows(M) * K4 + K4 * 16) * sizeof(int16_t) + 32;
}

/* rows [0, M) of A (K4 bytes each) as int16, then zero rows up to Mp */
Q8_AVX2 static void widen_a_avx2(size_t M, size_t Mp, size_t K4, const uint8_t *a, size_t lda,
                                 int16_t *out) {
    for (size_t r = 0; r < Mp; r++) {
        int16_t *dst = out + r * K4;
        if (r >= M) {
            memset(dst, 0, K4 * sizeof(int16_t));
            continue;
        }
        const uint8_t *src = a + r * lda;
        size_t k = 0;
        for (; k + 16 <= K4; k += 16)
            _mm256_storeu_si256((__m256i *)(dst + k),
                                _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + k))));
        for (; k < K4; k++) dst[k] = src[k];
    }
}

/*
 * One O16I4 block (K4 / 4 groups of [16 columns][4 k]) into k-pair order:
 * group q becomes pairs 2q ([16][k 4q, 4q + 1]) and 2q + 1 ([16][4q + 2,
 * 4q + 3]). Per 8 columns (32 bytes): PSHUFB puts each 4-column lane's k
 * 0,1 bytes before its k 2,3 bytes, VPERMQ joins the two lanes' halves,
 * VPMOVSXBW widens each half.
 */
Q8_AVX2 static void widen_b_avx2(size_t K4, const int8_t *b, int16_t *out) {
    const __m256i sel = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0,
                                         1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    for (size_t q = 0; q < K4 / 4; q++) {
        Q8_UNROLL for (size_t h = 0; h < 2; h++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(b + q * 64 + h * 32));
            v = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(v, sel), _MM_SHUFFLE(3, 1, 2, 0));
            _mm256_storeu_si256((__m256i *)(out + q * 64 + h * 16),
                                _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)));
            _mm256_storeu_si256((__m256i *)(out + q * 64 + 32 + h * 16),
                                _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1)));
        }
    }
}

/* acc += A pair of row (addr) x the 16 columns at b + bo: 2 VPMADDWD + 2 VPADDD */
#define AVX2W_ROW(addr, bo0, bo1, x0, x1)                                                    \
    "vpbroadcastd " addr ", %%ymm14\n\t"                                                     \
    "vpmaddwd " bo0 "(%[b]), %%ymm14, %%ymm15\n\t"                                           \
    "vpaddd %%ymm15, %[" x0 "], %[" x0 "]\n\t"                                               \
    "vpmaddwd " bo1 "(%[b]), %%ymm14, %%ymm14\n\t"                                           \
    "vpaddd %%ymm14, %[" x1 "], %[" x1 "]\n\t"
/* one k pair of the 6 rows: A at displacement d, B at bo0 / bo1 */
#define AVX2W_PAIR(d, bo0, bo1)                                                              \
    AVX2W_ROW(d "(%[a])", bo0, bo1, "c00", "c01")                                            \
    AVX2W_ROW(d "(%[a],%[s])", bo0, bo1, "c10", "c11")                                       \
    AVX2W_ROW(d "(%[a],%[s],2)", bo0, bo1, "c20", "c21")                                     \
    AVX2W_ROW(d "(%[a3])", bo0, bo1, "c30", "c31")                                           \
    AVX2W_ROW(d "(%[a3],%[s])", bo0, bo1, "c40", "c41")                                      \
    AVX2W_ROW(d "(%[a3],%[s],2)", bo0, bo1, "c50", "c51")

/*
 * One 6 x 16 tile: rows [0, mr) of a16 (row stride K4 int16; rows up to 6
 * readable), block b16 in k-pair order; two k pairs a loop step (K4 / 2 is
 * even: K4 is a multiple of 4).
 */
Q8_AVX2 static void tile16_avx2(size_t K4, const int16_t *a16, const int16_t *b16, size_t mr,
                                size_t nr, const qlite_q8_cols *cols, size_t n0,
                                const rq8 *p0, const rq8 *p1, const int32_t *rowsum, void *c,
                                size_t ldc, unsigned mode) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const size_t s = K4 * sizeof(int16_t);
    const uint8_t *pa = (const uint8_t *)a16, *pa3 = pa + 3 * s;
    const uint8_t *pb = (const uint8_t *)b16;
    for (size_t k = 0; k < K4; k += 4) {
        __asm__(AVX2W_PAIR("", "", "32") AVX2W_PAIR("4", "64", "96")
                : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11),
                  [c20] "+x"(c20), [c21] "+x"(c21), [c30] "+x"(c30), [c31] "+x"(c31),
                  [c40] "+x"(c40), [c41] "+x"(c41), [c50] "+x"(c50), [c51] "+x"(c51)
                : [a] "r"(pa), [a3] "r"(pa3), [s] "r"(s), [b] "r"(pb)
                : "xmm14", "xmm15", "memory");
        pa += 8;
        pa3 += 8;
        pb += 128;
    }
    __m256i acc[AVX2W_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                {c30, c31}, {c40, c41}, {c50, c51}};
    for (size_t i = 0; i < mr; i++)
        init_terms8(cols, n0, rowsum ? rowsum[i] : 0, &acc[i][0], &acc[i][1]);
    if (mode == QLITE_GEMM_Q8_INT32) {
        for (size_t i = 0; i < mr; i++)
            store16_256(acc[i][0], acc[i][1], p0, p1, nr, mode, (int32_t *)c + i * ldc);
        return;
    }
    /* two rows at a time (an odd last row with a copy of itself) */
    for (size_t i = 0; i < mr; i += 2) {
        const size_t i1 = i + 1 < mr ? i + 1 : i;
        const __m256i b = rq8_bytes2(rq8_round(acc[i][0], p0), rq8_round(acc[i][1], p1),
                                     rq8_round(acc[i1][0], p0), rq8_round(acc[i1][1], p1), cols);
        uint8_t *d0 = (uint8_t *)c + i * ldc, *d1 = (uint8_t *)c + i1 * ldc;
        if (nr == 16) {
            _mm_storeu_si128((__m128i *)(void *)d0, _mm256_castsi256_si128(b));
            _mm_storeu_si128((__m128i *)(void *)d1, _mm256_extracti128_si256(b, 1));
        } else {
            uint8_t tmp[32];
            _mm256_storeu_si256((__m256i *)(void *)tmp, b);
            memcpy(d0, tmp, nr);
            memcpy(d1, tmp + 16, nr);
        }
    }
}

Q8_AVX2 static void tiles_ws_avx2(size_t M, size_t N, size_t K4, const uint8_t *a, size_t lda,
                                  const int8_t *packed, size_t bstride,
                                  const qlite_q8_cols *cols, const int32_t *rowsum, void *c,
                                  size_t ldc, unsigned mode, void *ws) {
    const size_t Mp = avx2w_rows(M), es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    int16_t *a16 = (int16_t *)(void *)(((uintptr_t)ws + 31) & ~(uintptr_t)31);
    int16_t *b16 = a16 + Mp * K4;
    widen_a_avx2(M, Mp, K4, a, lda, a16);
    rq8 p0, p1;
    memset(&p0, 0, sizeof p0);
    memset(&p1, 0, sizeof p1);
    for (size_t n0 = 0; n0 < N; n0 += 16) {
        const size_t nr = q8_min(16, N - n0);
        widen_b_avx2(K4, packed + n0 / 16 * bstride, b16);
        if (mode != QLITE_GEMM_Q8_INT32) {
            p0 = rq8_load(cols, n0);
            p1 = rq8_load(cols, n0 + 8);
        }
        for (size_t m0 = 0; m0 < M; m0 += AVX2W_MR)
            tile16_avx2(K4, a16 + m0 * K4, b16, q8_min(AVX2W_MR, M - m0), nr, cols, n0, &p0,
                        &p1, rowsum ? rowsum + m0 : NULL, (uint8_t *)c + (m0 * ldc + n0) * es,
                        ldc, mode);
    }
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__avx2_3x16 = {
    .name = "qlite_q8_gemm__avx2_3x16", .mr = AVX2_MR, .nr = 16, .tile = tile_avx2,
    .dot = dot_avx2, .tiles_ws = tiles_ws_avx2, .ws_bytes = ws_bytes_avx2};

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
