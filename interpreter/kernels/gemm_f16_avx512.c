/*
 * gemm_f16_avx512.c — the AVX-512 GEMM on float16 O16 weights (gemm_f16.h,
 * qlite_gemm_f16_o16_fast):
 *
 *   C[m][n] = clamp(bias[n] + sum_k A[m][k] * half_to_float(W[n][k]), lo, hi)
 *
 * with W [N, K] float16 in O16 (16-column panels [N/16][K][16], zero
 * padded), read in place from a --mode float16 model. The arithmetic is
 * that of the float32 fast O16 GEMM (gemm_f32.h, qlite_gemm_f32_o16_fast)
 * on the widened weights: every output is the chain acc = bias[n] (or 0);
 * acc = fma(A[m][k], W[n][k], acc) for k = 0..K-1, then the clamp, so the
 * results are bit for bit those of the float32 kernel on weights widened
 * first (half to float is exact), whatever the blocking or thread split.
 *
 * Tiles and blocking are the float32 kernel's, one code for both
 * (gemm_o16_avx512.inc; this file instantiates the two weight kinds):
 * 6 rows x 64 columns (24 accumulators, per K step 4 panel loads and 6
 * broadcasts for 24 FMAs), 10 x 32 for column blocks of <= 2 panels; rows
 * in blocks of O16_MC; in each, 64 columns at a time over every K block of
 * at most O16_KC steps (whole runs of an implicit im2col, or equal pieces of
 * a longer run); the next weight block prefetched into L2 by every GEMM of
 * one row block (<= O16_MC rows: each block is read once, from L3 in a
 * model; the transformer's FCs at M = 128) and by larger ones whose weights
 * pass H_PFMIN bytes (more row blocks find smaller weights still in L2);
 * the next tile's outputs prefetched for writing. Prefetching every GEMM
 * as the float32 kernel does (25d749b) measured, float16 models, 1 thread,
 * interleaved whole-model medians x the 512 KiB rule: transformer 0.961,
 * MobileNetV2 1.024 (12 of 16 rounds slower: its 56x56 and larger layers
 * reuse their weights from L2); this rule 0.974 / 0.990, 2 threads 1.00 /
 * 0.98. The
 * weights of a block (<= 1152 x 64) are
 *   - widened once into the caller's buffer of floats (288 KiB per thread,
 *     a slice of the node's scratch; in L2 like
 *     the float32 kernel's weight block) that every row tile of the row
 *     block then reads, when the row block has more than H_WIDEN_ROWS rows
 *     (VCVTPH2PS in the tile adds 4 conversions, 8 uops on the FMA ports,
 *     to the 24 FMAs of each K step);
 *   - widened in registers as loaded (VCVTPH2PS zmm from 32 bytes) when it
 *     has fewer (batch-1 FULLY_CONNECTED, small late layers), where a copy
 *     would be reused too little and the halves halve the bytes read.
 * Measured (this Xeon, loaded: thread CPU time, medians of 11 interleaved
 * runs, x the float32 fast GEMM at 3365ca1): 1152-step buffer 0.9-1.05 on
 * MobileNetV2 / ResNet-18 / transformer shapes (12544x96x16, 3136x24x144,
 * 196x96x576, 3136x64x576, 784x128x1152, 196x256x2304, 49x512x4608,
 * 128x768x256, 128x256x1024), registers 1.05-1.3 there; a 192-step L1
 * buffer (48 KiB) 1.1-1.3 for K >= 576 (C round trips between blocks);
 * batch 1 (1x4096x4096, 1x1000x1280) registers 0.45-0.6, buffer 1.1-1.4.
 */
#include "kernels/gemm_f16.h"
#include "kernels/gemm_o16_blocks.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "kernels/gemm_q8.h" /* qlite_q8_cpu_features: the feature cap tests set */

#define AVX512 __attribute__((target("avx512f,prfchw"))) /* PREFETCHW */
#define INL static inline __attribute__((always_inline)) AVX512

#define O16_MR 6    /* rows of a register tile */
#define O16_MR2 10  /* rows of a tile of <= 2 panels (20 accumulators) */
#define O16_NP 4    /* 16-column panels of a register tile */
#define O16_KC 1152 /* K steps per block: 64 columns of halves (144 KiB) in L2 */
#define O16_MC 240  /* rows per block: their activations stay in L2 */
/* bytes of weights above which a GEMM of more than O16_MC rows prefetches
 * each next block (one row block: always, see h_gemm) */
#define H_PFMIN (1u << 19)
#define H_WIDEN_ROWS QLITE_GEMM_F16_WIDEN_ROWS /* row blocks of more rows widen their
                           weight blocks once (12-48 rows: within the noise either way) */
_Static_assert(O16_NP * O16_KC * 16 * sizeof(float) == QLITE_GEMM_F16_WBUF_BYTES,
               "one widened weight block per buffer");

/* the tile and the driver shared with the float32 GEMM */
#include "kernels/gemm_o16_avx512.inc"

O16_KIND(O16_W_F16, h) /* halves widened in registers: o16_tile_<MR>x<NP>h[_pf], o16_tilesh */
O16_KIND(O16_W_BUF, f) /* a widened block: o16_tile_<MR>x<NP>f[_pf], o16_tilesf */

/* One GEMM (gemm_o16_avx512.inc, o16_gemm_t): A a matrix (ind NULL: a,
 * rsa) or runs (ind: nseg runs of seg floats per row, K = nseg * seg); a
 * row block of more than H_WIDEN_ROWS rows widens each weight block once
 * into wbuf (if given), fewer widen the halves in registers. */
static void h_gemm(size_t M, size_t N, const float *a, size_t rsa, const float *const *ind,
                   size_t nseg, size_t seg, const uint16_t *w16, const float *bias, float *c,
                   size_t ldc, float lo, float hi, float *wbuf) {
    o16_gemm_t(true, M, N, a, rsa, ind, nseg, seg, w16, bias, c, ldc, lo, hi,
               M > H_WIDEN_ROWS ? wbuf : NULL, H_WIDEN_ROWS, M <= O16_MC ? 0.0 : (double)H_PFMIN,
               o16_tilesh, o16_tilesf);
}

static void gemm_o16h__avx512(size_t M, size_t N, size_t K, const float *a, size_t rsa,
                              const uint16_t *w16, const float *bias, float *c, size_t ldc,
                              float lo, float hi, float *wbuf) {
    h_gemm(M, N, a, rsa, NULL, 1, K, w16, bias, c, ldc, lo, hi, wbuf);
}

static void gemm_o16h_ind__avx512(size_t M, size_t N, size_t nseg, size_t seg,
                                  const float *const *ind, const uint16_t *w16,
                                  const float *bias, float *c, size_t ldc, float lo, float hi,
                                  float *wbuf) {
    if (nseg == 0) { /* no products: bias (or 0), clamped */
        h_gemm(M, N, NULL, 0, NULL, 1, 0, w16, bias, c, ldc, lo, hi, wbuf);
        return;
    }
    h_gemm(M, N, NULL, 0, ind, nseg, seg, w16, bias, c, ldc, lo, hi, wbuf);
}

qlite_gemm_o16h_fn qlite_gemm_f16_o16_fast(void) {
    return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) ? gemm_o16h__avx512 : NULL;
}

qlite_gemm_o16h_ind_fn qlite_gemm_f16_o16_ind_fast(void) {
    return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) ? gemm_o16h_ind__avx512 : NULL;
}

#else

qlite_gemm_o16h_fn qlite_gemm_f16_o16_fast(void) { return NULL; }
qlite_gemm_o16h_ind_fn qlite_gemm_f16_o16_ind_fast(void) { return NULL; }

#endif

size_t qlite_gemm_f16_wbuf_bytes(size_t M, size_t threads) {
    return qlite_gemm_f16_o16_fast() && M > QLITE_GEMM_F16_WIDEN_ROWS
               ? threads * QLITE_GEMM_F16_WBUF_BYTES
               : 0;
}

/* ---------------------------------------------------------------- */
/* On the node's threads                                             */
/* ---------------------------------------------------------------- */

/* Split as the float32 runner (gemm_f32.c) splits its fast GEMM, by the
 * one rule of qlite_o16_grid_split (gemm_o16_blocks.h): rows alone for
 * small weights (counted as floats), else the column-major grid.
 * MobileNetV2 float16 (every conv down to 14x14 by rows, the 7x7 1x1
 * ones by columns, as in float32), vs the column grid for all: paired
 * 1T/2T ratio 1.47-1.77 -> 1.53-1.84 (8 interleaved rounds, 7 better); per-op
 * medians at 2 threads (2 interleaved pairs, 40 profiled runs): sum
 * 7.31 -> 6.97 and 7.05 -> 6.78 ms; the depthwise convs after the expands
 * x1.12-1.25 faster, the 14x14 576->96 projections 0.20 -> 0.165 ms, while
 * the 14x14 expands 64->384 / 96->576 got 10-15% slower (0.165 -> 0.19 ms,
 * likely as each thread widens all the weights). Same bits (MobileNetV2,
 * ResNet-18, transformer float16 at 1/2/3 threads). */
typedef struct h_job {
    qlite_gemm_o16h_fn fn;         /* A a matrix (a, rsa) */
    qlite_gemm_o16h_ind_fn ind_fn; /* or runs: ind, nseg, seg */
    size_t M, N, K;
    const float *a;
    size_t rsa;
    const float *const *ind;
    size_t nseg, seg;
    const uint16_t *w16;
    const float *bias;
    float *c;
    size_t ldc;
    float lo, hi;
    float *wbuf; /* threads x QLITE_GEMM_F16_WBUF_BYTES, or NULL */
    qlite_o16_grid grid; /* the units the threads split (gemm_o16_blocks.h) */
} h_job;

static void h_block(const h_job *j, size_t thread, size_t m0, size_t m1, size_t n0,
                    size_t n1) {
    float *const buf =
        j->wbuf ? j->wbuf + thread * (QLITE_GEMM_F16_WBUF_BYTES / sizeof(float)) : NULL;
    if (j->ind_fn)
        j->ind_fn(m1 - m0, n1 - n0, j->nseg, j->seg, j->ind + m0 * j->nseg, j->w16 + n0 * j->K,
                  j->bias ? j->bias + n0 : NULL, j->c + m0 * j->ldc + n0, j->ldc, j->lo, j->hi,
                  buf);
    else
        j->fn(m1 - m0, n1 - n0, j->K, j->a + m0 * j->rsa, j->rsa, j->w16 + n0 * j->K,
              j->bias ? j->bias + n0 : NULL, j->c + m0 * j->ldc + n0, j->ldc, j->lo, j->hi, buf);
}

/* thread: this range's slice of the widening buffers (qlite_parallel_for_thread) */
static void h_range(void *arg, int thread, size_t begin, size_t end) {
    const h_job *j = arg;
    for (size_t u = begin; u < end;) {
        size_t m0, m1, n0, n1;
        qlite_o16_grid_block(&j->grid, &u, end, &m0, &m1, &n0, &n1);
        h_block(j, (size_t)thread, m0, m1, n0, n1);
    }
}

static void h_run(const qlite_node *node, h_job *j) {
    const size_t threads = node ? (size_t)qlite_node_threads(node) : 1;
    if (threads <= 1) {
        h_block(j, 0, 0, j->M, 0, j->N);
        return;
    }
    j->grid = qlite_o16_grid_split(j->M, j->N, j->K, threads);
    qlite_parallel_for_thread(node, j->grid.units, h_range, j);
}

bool qlite_gemm_f16_run_o16_fast(const qlite_node *node, const qlite_gemm_f32_args *g,
                                 const uint16_t *w16, float *wbuf) {
    qlite_gemm_o16h_fn fn = g->csa == 1 ? qlite_gemm_f16_o16_fast() : NULL;
    if (!fn) return false;
    if (g->M == 0 || g->N == 0) return true;
    h_job j = {.fn = fn, .M = g->M, .N = g->N, .K = g->K, .a = g->a, .rsa = g->rsa,
               .w16 = w16, .bias = g->bias, .c = g->c, .ldc = g->ldc, .lo = g->lo, .hi = g->hi,
               .wbuf = wbuf};
    h_run(node, &j);
    return true;
}

void qlite_gemm_f16_run_o16_ind(const qlite_node *node, qlite_gemm_o16h_ind_fn fn, size_t M,
                                size_t N, size_t nseg, size_t seg, const float *const *ind,
                                const uint16_t *w16, const float *bias, float *c, size_t ldc,
                                float lo, float hi, float *wbuf) {
    if (M == 0 || N == 0 || !fn) return;
    h_job j = {.ind_fn = fn, .M = M, .N = N, .K = nseg * seg, .ind = ind, .nseg = nseg,
               .seg = seg, .w16 = w16, .bias = bias, .c = c, .ldc = ldc, .lo = lo, .hi = hi,
               .wbuf = wbuf};
    h_run(node, &j);
}
