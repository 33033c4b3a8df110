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
 * Column blocks of <= 32 (N <= 32, or the last 16 / 32 columns of N = 96,
 * 144, 160, ...): tiles of 10 rows x 32 columns (20 accumulators, 2 panel
 * loads and 10 broadcasts per K step; 12 rows measured slower on the 3x3
 * stem), 11-15 rows left: two tiles of half each.
 *
 * Blocking (weights streamed from L2, activations in L2):
 *   1. rows in blocks of O16_MC (240);
 *   2. 64 columns at a time, over every K block in order, so a column
 *      block's weights are read as four sequential streams;
 *   3. K in blocks of at most O16_KC = 1152 steps (whole runs of an
 *      implicit im2col: a 7x7 stem's 7 x 21 or a 3x3 conv's 3 x 3C up to
 *      C = 128 is one block; or equal pieces of a longer run): the block's
 *      <= 1152 x 64 weights (288 KiB) stay in L2 while every 6-row tile of
 *      the row block passes over them (L1 cannot hold a useful block next
 *      to the activations: 192-step blocks, 48 KiB, measured 5-10% slower
 *      on ResNet-18's 3x3 convs from the C round trips between blocks).
 *   Every GEMM of one row block (<= O16_MC rows) prefetches the next block
 *   (K block, else the next 64 columns) into L2, one line per K step, in
 *   equal shares, instead of the first tile of each block waiting on L3:
 *   in a model the weights of a layer are rarely still in L2 and such a
 *   GEMM reads each block once (the transformer's 256-1024 KiB FCs,
 *   prefetched only above 1 MiB before, 3-4% faster in the sum of its FCs'
 *   fastest runs; a 128 x 256 -> 1024 FC on weights flushed from L2 ~110
 *   -> ~124 GFLOPS median). GEMMs of more row blocks prefetch only
 *   weights above O16_PFMIN: smaller ones are read again from L2 by every
 *   row block after the first, and prefetching them cost MobileNetV2
 *   float32 ~3% (1 thread, interleaved whole-model medians 0.964 / 0.970
 *   without, 19 of 24 rounds faster; ResNet-18 1.00, transformer the same
 *   code).
 *   A K block short enough for L1 does not pay: 128-step blocks (B panel
 *   32 KiB) measured ~5% slower at M = 128 from the C round trips.
 * Each tile also prefetches (PREFETCHW) the next tile's output lines on
 * the first K block, where a layer's outputs are first written.
 * Every output adds its K products in k order, one FMA each, K blocks
 * added in order through C (exact float round trips), so neither the
 * blocking nor any split of rows or columns between threads changes a
 * result: 1 and N threads give bit-identical results.
 * The tile and the driver are gemm_o16_avx512.inc, shared with the float16
 * kernel (gemm_f16_avx512.c); this file sets the sizes and instantiates them.
 */
#include "gemm_f32.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "gemm_o16_blocks.h"
#include "gemm_q8.h" /* qlite_q8_cpu_features: the feature cap tests set */

#define AVX512 __attribute__((target("avx512f,prfchw"))) /* PREFETCHW */
#define INL static inline __attribute__((always_inline)) AVX512

#define O16_MR 6        /* rows of a register tile */
#define O16_MR2 10      /* rows of a tile of <= 2 panels (20 accumulators) */
#define O16_NP 4        /* 16-column panels of a register tile */
#define O16_KC 1152 /* K steps per block: 64 columns of weights (288 KiB) in L2 */
/* bytes of weights above which a GEMM of more than O16_MC rows prefetches
 * each next block (one row block: always) */
#define O16_PFMIN (1u << 20)
#define O16_MC 240 /* rows per block: their activations stay in L2 */

/* the tile and the driver shared with the float16 GEMM */
#include "gemm_o16_avx512.inc"

O16_KIND(O16_W_F32, ) /* o16_tile_<MR>x<NP>[_pf], o16_tiles */

/* One GEMM (gemm_o16_avx512.inc, o16_gemm_t): A a matrix (ind NULL: a,
 * rsa) or runs (ind, nseg runs of seg floats per row; K = nseg * seg). */
static void o16_gemm(size_t M, size_t N, const float *a, size_t rsa, const float *const *ind,
                     size_t nseg, size_t seg, const float *w16, const float *bias, float *c,
                     size_t ldc, float lo, float hi) {
    o16_gemm_t(false, M, N, a, rsa, ind, nseg, seg, w16, bias, c, ldc, lo, hi, NULL, 0,
               M <= O16_MC ? 0.0 : (double)O16_PFMIN, o16_tiles, o16_tiles);
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
