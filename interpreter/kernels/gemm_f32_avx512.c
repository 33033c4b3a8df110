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
 * N <= 32: tiles of 10 rows x 32 columns (20 accumulators, 2 panel loads
 * and 10 broadcasts per K step; 12 rows measured slower on the 3x3 stem),
 * 11-15 rows left: two tiles of half each.
 *
 * Blocking (GotoBLAS-style, weights in L1, activations in L2):
 *   1. rows in blocks of O16_MC (240 x 192 floats of A, 180 KiB, in L2);
 *   2. K in blocks of at most O16_KC = 192 steps (whole runs of an implicit
 *      im2col: a 7x7 stem's 7 x 21 is one block, a 3x3 conv over 64
 *      channels one run of 192 each; or equal pieces of a longer run);
 *   3. 64 columns at a time: their <= 192 x 64 weights (48 KiB) stay in L1
 *      while every 6-row tile of the row block passes over them.
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
#define O16_MR2 10      /* rows of a tile of <= 2 panels (N <= 32: 20 accumulators) */
#define O16_NP 4        /* 16-column panels of a register tile */
#define O16_KC 192 /* K steps per block: the 64-column weight block (<= 48 KiB) in L1 */
#define O16_MC 240 /* rows per block: 240 x 192 of A (180 KiB) stays in L2 */

/*
 * C[mr, 16*np] (+)= A[mr, kc] * W-panels[kc, 16*np] where A's kc steps are
 * nsb runs of `len` floats: row r's run s starts at ind[r * istride + s] +
 * off and meets weight step s * seg + k (w points at the block's first
 * step); a plain matrix is one run per row. `mask` limits the last
 * panel's columns (loads of C and bias, stores).
 */
INL void o16_tile(const int mr, const int np, const float *const *ind, size_t istride,
                  size_t nsb, size_t seg, size_t off, size_t len, const float *w,
                  size_t pstride, float *c, size_t ldc, __mmask16 mask, const float *bias,
                  bool first, bool last, float lo, float hi) {
    __m512 acc[O16_MR2][O16_NP];
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
    for (size_t sgi = 0; sgi < nsb; sgi++) {
        const float *ar[O16_MR2];
        for (int r = 0; r < mr; r++) ar[r] = ind[(size_t)r * istride + sgi] + off;
        const float *ws = w + sgi * seg * 16;
        for (size_t k = 0; k < len; k++) {
            __m512 b[O16_NP];
            for (int j = 0; j < np; j++) b[j] = _mm512_loadu_ps(ws + (size_t)j * pstride + k * 16);
            for (int r = 0; r < mr; r++) {
                const __m512 x = _mm512_set1_ps(ar[r][k]);
                for (int j = 0; j < np; j++) acc[r][j] = _mm512_fmadd_ps(x, b[j], acc[r][j]);
            }
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

typedef void (*o16_tile_fn)(const float *const *ind, size_t istride, size_t nsb, size_t seg,
                            size_t off, size_t len, const float *w, size_t pstride, float *c,
                            size_t ldc, __mmask16 mask, const float *bias, bool first,
                            bool last, float lo, float hi);

#define O16_TILE(MR, NP)                                                                      \
    AVX512 static void o16_tile_##MR##x##NP(const float *const *ind, size_t istride,           \
                                            size_t nsb, size_t seg, size_t off, size_t len,    \
                                            const float *w, size_t pstride, float *c,          \
                                            size_t ldc, __mmask16 mask, const float *bias,     \
                                            bool first, bool last, float lo, float hi) {       \
        o16_tile(MR, NP, ind, istride, nsb, seg, off, len, w, pstride, c, ldc, mask, bias,     \
                 first, last, lo, hi);                                                         \
    }
#define O16_TILES(MR) O16_TILE(MR, 1) O16_TILE(MR, 2) O16_TILE(MR, 3) O16_TILE(MR, 4)
O16_TILES(1)
O16_TILES(2)
O16_TILES(3)
O16_TILES(4)
O16_TILES(5)
O16_TILES(6)
/* Taller tiles for N <= 32 (a 64-column tile would be half zeros and its
 * per-tile overhead would dominate a short K, e.g. the 3x3 stem's 27). */
#define O16_TILES2(MR) O16_TILE(MR, 1) O16_TILE(MR, 2)
O16_TILES2(7)
O16_TILES2(8)
O16_TILES2(9)
O16_TILES2(10)
#define O16_ROW(MR) {o16_tile_##MR##x1, o16_tile_##MR##x2, o16_tile_##MR##x3, o16_tile_##MR##x4}
#define O16_ROW2(MR) {o16_tile_##MR##x1, o16_tile_##MR##x2, NULL, NULL}
static const o16_tile_fn o16_tiles[O16_MR2][O16_NP] = {
    O16_ROW(1),  O16_ROW(2),  O16_ROW(3),  O16_ROW(4),   O16_ROW(5),   O16_ROW(6),
    O16_ROW2(7), O16_ROW2(8), O16_ROW2(9), O16_ROW2(10)};

/* Rows of the next tile when `left` rows remain and a tile has at most
 * `max` (6, or 10 for <= 2 panels): max + 1 .. 1.5 max give two tiles of
 * half each, not max + a slow few. */
static size_t o16_rows(size_t left, size_t max) {
    return left > max && left <= max + max / 2 ? (left + 1) / 2 : left < max ? left : max;
}

/*
 * The loops over one GEMM, A given either as a matrix (ind NULL: a, rsa)
 * or as runs (ind, nseg runs of seg floats per row; K = nseg * seg).
 * K blocks: whole runs, as many as fit O16_KC steps, or equal pieces of a
 * longer run (a matrix is one run of K).
 */
static void o16_gemm(size_t M, size_t N, const float *a, size_t rsa, const float *const *ind,
                     size_t nseg, size_t seg, const float *w16, const float *bias, float *c,
                     size_t ldc, float lo, float hi) {
    if (M == 0 || N == 0) return;
    const size_t K = nseg * seg;
    const size_t pieces = seg > O16_KC ? (seg + O16_KC - 1) / O16_KC : 1;
    const size_t plen = seg ? (seg + pieces - 1) / pieces : 0;
    const size_t spb = pieces > 1 || seg == 0 ? 1 : O16_KC / seg; /* runs per block */
    const float *rows[O16_MR2];
    const size_t maxr = N <= 32 ? O16_MR2 : O16_MR; /* one column block of <= 2 panels */
    for (size_t mb = 0; mb < M; mb += O16_MC) {
        const size_t me = M - mb < O16_MC ? M : mb + O16_MC;
        for (size_t s0 = 0;; s0 += spb) {
            const size_t nsb = nseg - s0 < spb ? nseg - s0 : spb;
            for (size_t off = 0;; off += plen) {
                const size_t len = seg - off < plen ? seg - off : plen;
                const bool first = s0 == 0 && off == 0;
                const bool last = s0 + nsb >= nseg && off + len >= seg;
                const size_t k0 = s0 * seg + off;
                for (size_t n = 0; n < N; n += 16 * O16_NP) {
                    const size_t cols = N - n < 16 * O16_NP ? N - n : 16 * O16_NP;
                    const size_t np = (cols + 15) / 16, tail = cols - 16 * (np - 1);
                    const __mmask16 mask = (__mmask16)(tail >= 16 ? 0xffffu : (1u << tail) - 1u);
                    const float *wn = w16 + n * K + k0 * 16, *bn = bias ? bias + n : NULL;
                    for (size_t m = mb, mr; m < me; m += mr) {
                        mr = o16_rows(me - m, maxr);
                        const float *const *im = ind ? ind + m * nseg + s0 : rows;
                        if (!ind && a)
                            for (size_t r = 0; r < mr; r++) rows[r] = a + (m + r) * rsa;
                        o16_tiles[mr - 1][np - 1](im, ind ? nseg : 1, ind ? nsb : 1, seg, off,
                                                  len, wn, 16 * K, c + m * ldc + n, ldc, mask, bn,
                                                  first, last, lo, hi);
                    }
                }
                if (off + len >= seg) break;
            }
            if (s0 + nsb >= nseg) break;
        }
    }
}

static void gemm_o16__avx512(size_t M, size_t N, size_t K, const float *a, size_t rsa,
                             const float *w16, const float *bias, float *c, size_t ldc,
                             float lo, float hi) {
    o16_gemm(M, N, a, rsa, NULL, 1, K, w16, bias, c, ldc, lo, hi);
}

static void gemm_o16_ind__avx512(size_t M, size_t N, size_t nseg, size_t seg,
                                 const float *const *ind, const float *w16, const float *bias,
                                 float *c, size_t ldc, float lo, float hi) {
    if (nseg == 0) { /* no products: bias (or 0), clamped */
        o16_gemm(M, N, NULL, 0, NULL, 1, 0, w16, bias, c, ldc, lo, hi);
        return;
    }
    o16_gemm(M, N, NULL, 0, ind, nseg, seg, w16, bias, c, ldc, lo, hi);
}

qlite_gemm_o16_ind_fn qlite_gemm_f32_o16_ind_fast(void) {
    return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) ? gemm_o16_ind__avx512 : NULL;
}

qlite_gemm_o16_fn qlite_gemm_f32_o16_fast(void) {
    return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) ? gemm_o16__avx512 : NULL;
}

#else

qlite_gemm_o16_fn qlite_gemm_f32_o16_fast(void) { return NULL; }
qlite_gemm_o16_ind_fn qlite_gemm_f32_o16_ind_fast(void) { return NULL; }

#endif
