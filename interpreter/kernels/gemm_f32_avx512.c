/*
 * gemm_f32_avx512.c — the AVX-512 float32 GEMM on O16 weights (gemm_f32.h):
 *
 *   C[m][n] = clamp(bias[n] + sum_k A[m][k] * W[n][k], lo, hi)
 *
 * with W [N, K] in O16 (16-column panels [N/16][K][16], zero padded), read
 * in place from the model. Register tile: 6 rows x 64 columns (four
 * adjacent panels): 24 accumulators, per K step 4 panel loads and 6
 * broadcasts of A feed 24 FMAs (the 12x16 tile of gemm_f32_ukernel.inc
 * needs 13 loads for 12 FMAs). Row remainders (7-9 rows left: two tiles
 * of 4-5; fewer: one short tile) and column remainders (N % 64, N % 16)
 * are tiles of the same code with fewer rows / panels / masked columns.
 *
 * Blocking, BLIS-style:
 *   1. columns in blocks of NC, sized so a KC x NC block of weights stays
 *      in L2 (1 MiB of this core's 2 MiB);
 *   2. K in blocks of at most KC_MAX steps, split evenly (K = 576 is one
 *      block, 1152 two of 576), so 6 rows of A (<= 12 KiB) stay in L1;
 *   3. rows in tiles of 6, each sweeping the block's columns (the weights
 *      stream from L2, A from L1).
 * Every output adds its K products in k order, one FMA each, K blocks
 * added in order through C; the blocks depend on K alone, so any split of
 * rows or columns between threads gives bit-identical results.
 */
#include "gemm_f32.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "gemm_q8.h" /* qlite_q8_cpu_features: the feature cap tests set */

#define AVX512 __attribute__((target("avx512f")))
#define INL static inline __attribute__((always_inline)) AVX512

#define O16_MR 6        /* rows of a register tile */
#define O16_NP 4        /* 16-column panels of a register tile */
#define O16_KC_MAX 640  /* K steps per block: 6 rows of A = 15 KiB */
#define O16_L2_BLOCK (1u << 20)

/* C[mr, 16*np] (+)= A[mr, kc] * W-panels[kc, 16*np]; `mask` limits the
 * last panel's columns (loads of C and bias, stores). */
INL void o16_tile(const int mr, const int np, size_t kc, const float *a, size_t rsa,
                  const float *w, size_t pstride, float *c, size_t ldc, __mmask16 mask,
                  const float *bias, bool first, bool last, float lo, float hi) {
    __m512 acc[O16_MR][O16_NP];
    for (int j = 0; j < np; j++) {
        const __mmask16 mj = j == np - 1 ? mask : (__mmask16)0xffff;
        if (first) {
            const __m512 b = bias ? _mm512_maskz_loadu_ps(mj, bias + 16 * j) : _mm512_setzero_ps();
            for (int r = 0; r < mr; r++) acc[r][j] = b;
        } else {
            for (int r = 0; r < mr; r++)
                acc[r][j] = _mm512_maskz_loadu_ps(mj, c + (size_t)r * ldc + 16 * j);
        }
    }
    const float *ar[O16_MR];
    for (int r = 0; r < mr; r++) ar[r] = a + (size_t)r * rsa;
    for (size_t k = 0; k < kc; k++) {
        __m512 b[O16_NP];
        for (int j = 0; j < np; j++) b[j] = _mm512_loadu_ps(w + (size_t)j * pstride + k * 16);
        for (int r = 0; r < mr; r++) {
            const __m512 x = _mm512_set1_ps(ar[r][k]);
            for (int j = 0; j < np; j++) acc[r][j] = _mm512_fmadd_ps(x, b[j], acc[r][j]);
        }
    }
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int j = 0; j < np; j++) {
        const __mmask16 mj = j == np - 1 ? mask : (__mmask16)0xffff;
        for (int r = 0; r < mr; r++) {
            __m512 v = acc[r][j];
            if (last) v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi);
            _mm512_mask_storeu_ps(c + (size_t)r * ldc + 16 * j, mj, v);
        }
    }
}

typedef void (*o16_tile_fn)(size_t kc, const float *a, size_t rsa, const float *w,
                            size_t pstride, float *c, size_t ldc, __mmask16 mask,
                            const float *bias, bool first, bool last, float lo, float hi);

#define O16_TILE(MR, NP)                                                                     \
    AVX512 static void o16_tile_##MR##x##NP(size_t kc, const float *a, size_t rsa,            \
                                            const float *w, size_t pstride, float *c,         \
                                            size_t ldc, __mmask16 mask, const float *bias,    \
                                            bool first, bool last, float lo, float hi) {      \
        o16_tile(MR, NP, kc, a, rsa, w, pstride, c, ldc, mask, bias, first, last, lo, hi);    \
    }
#define O16_TILES(MR) O16_TILE(MR, 1) O16_TILE(MR, 2) O16_TILE(MR, 3) O16_TILE(MR, 4)
O16_TILES(1)
O16_TILES(2)
O16_TILES(3)
O16_TILES(4)
O16_TILES(5)
O16_TILES(6)
#define O16_ROW(MR) {o16_tile_##MR##x1, o16_tile_##MR##x2, o16_tile_##MR##x3, o16_tile_##MR##x4}
static const o16_tile_fn o16_tiles[O16_MR][O16_NP] = {O16_ROW(1), O16_ROW(2), O16_ROW(3),
                                                      O16_ROW(4), O16_ROW(5), O16_ROW(6)};

/* K steps per block for a reduction of K (a function of K alone). */
static size_t o16_kc(size_t K) {
    const size_t blocks = (K + O16_KC_MAX - 1) / O16_KC_MAX;
    return blocks ? (K + blocks - 1) / blocks : 1;
}

static void gemm_o16__avx512(size_t M, size_t N, size_t K, const float *a, size_t rsa,
                             const float *w16, const float *bias, float *c, size_t ldc,
                             float lo, float hi) {
    if (M == 0 || N == 0) return;
    const size_t kc0 = o16_kc(K), pstride = 16 * K;
    size_t nc = O16_L2_BLOCK / (kc0 * sizeof(float)) / 64 * 64;
    if (nc < 64) nc = 64;
    for (size_t n0 = 0; n0 < N; n0 += nc) {
        const size_t n1 = N - n0 < nc ? N : n0 + nc;
        for (size_t k0 = 0;; k0 += kc0) {
            const size_t kc = K - k0 < kc0 ? K - k0 : kc0;
            const bool first = k0 == 0, last = k0 + kc >= K;
            for (size_t m = 0, mr; m < M; m += mr) {
                /* 7..9 rows left: two tiles of 4-5 rows, not 6 + a slow 1-3 */
                const size_t left = M - m;
                mr = left > O16_MR && left < 10 ? (left + 1) / 2
                                  : left < O16_MR            ? left
                                                             : O16_MR;
                const float *am = a + m * rsa + k0;
                float *cm = c + m * ldc;
                for (size_t n = n0; n < n1; n += 16 * O16_NP) {
                    const size_t cols = n1 - n < 16 * O16_NP ? n1 - n : 16 * O16_NP;
                    const size_t np = (cols + 15) / 16, tail = cols - 16 * (np - 1);
                    const __mmask16 mask = (__mmask16)(tail >= 16 ? 0xffffu : (1u << tail) - 1u);
                    o16_tiles[mr - 1][np - 1](kc, am, rsa, w16 + n * K + k0 * 16, pstride,
                                              cm + n, ldc, mask, bias ? bias + n : NULL, first,
                                              last, lo, hi);
                }
            }
            if (last) break;
        }
    }
}

qlite_gemm_o16_fn qlite_gemm_f32_o16_fast(void) {
    return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) ? gemm_o16__avx512 : NULL;
}

#else

qlite_gemm_o16_fn qlite_gemm_f32_o16_fast(void) { return NULL; }

#endif
