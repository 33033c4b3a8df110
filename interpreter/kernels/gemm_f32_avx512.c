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
 *   Weights larger than ~L2 (ResNet-18 layer3/4, 1-9 MiB per conv): the
 *   tiles of each block prefetch the next block into L2, one line per K
 *   step, in equal shares, instead of the first tile waiting on L3.
 * Each tile also prefetches (PREFETCHW) the next tile's output lines on
 * the first K block, where a layer's outputs are first written.
 * Every output adds its K products in k order, one FMA each, K blocks
 * added in order through C (exact float round trips), so neither the
 * blocking nor any split of rows or columns between threads changes a
 * result: 1 and N threads give bit-identical results.
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
#define O16_PFMIN (1u << 20) /* bytes of weights above which blocks prefetch the next */
#define O16_MC 240 /* rows per block: their activations stay in L2 */

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
                  bool first, bool last, float lo, float hi, const bool pfon, const char *pfp,
                  size_t pfn, const float *cpf, int cpr) {
    __m512 acc[O16_MR2][O16_NP];
    /* the next tile's cpr rows of outputs, for writing (their first touch:
     * the outputs of a layer larger than L2 come from L3 or memory; the
     * 112x112 MobileNetV2 1x1 convs took 2x as long waiting on them) */
    for (int r = 0; r < mr; r++)
        if (r < cpr)
            for (int j = 0; j < np; j++) __builtin_prefetch(cpf + (size_t)r * ldc + 16 * j, 1, 3);
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
            if (pfon && pfn) { /* a line of the next weight block into L2 */
                _mm_prefetch(pfp, _MM_HINT_T1);
                pfp += 64, pfn--;
            }
        }
    }
    if (pfon)
        for (; pfn; pfn--, pfp += 64) _mm_prefetch(pfp, _MM_HINT_T1);
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
                            bool last, float lo, float hi, const char *pfp, size_t pfn,
                            const float *cpf, int cpr);

#define O16_TILE1(MR, NP, PF, SUF)                                                            \
    AVX512 static void o16_tile_##MR##x##NP##SUF(                                              \
        const float *const *ind, size_t istride, size_t nsb, size_t seg, size_t off,           \
        size_t len, const float *w, size_t pstride, float *c, size_t ldc, __mmask16 mask,      \
        const float *bias, bool first, bool last, float lo, float hi, const char *pfp,         \
        size_t pfn, const float *cpf, int cpr) {                                               \
        o16_tile(MR, NP, ind, istride, nsb, seg, off, len, w, pstride, c, ldc, mask, bias,     \
                 first, last, lo, hi, PF, pfp, pfn, cpf, cpr);                                 \
    }
#define O16_TILE(MR, NP) O16_TILE1(MR, NP, false, ) O16_TILE1(MR, NP, true, _pf)
#define O16_TILES(MR) O16_TILE(MR, 1) O16_TILE(MR, 2) O16_TILE(MR, 3) O16_TILE(MR, 4)
O16_TILES(1)
O16_TILES(2)
O16_TILES(3)
O16_TILES(4)
O16_TILES(5)
O16_TILES(6)
/* Taller tiles for column blocks of <= 32 (a 64-column tile would be half zeros and its
 * per-tile overhead would dominate a short K, e.g. the 3x3 stem's 27). */
#define O16_TILES2(MR) O16_TILE(MR, 1) O16_TILE(MR, 2)
O16_TILES2(7)
O16_TILES2(8)
O16_TILES2(9)
O16_TILES2(10)
#define O16_ROW(MR, S)                                                                        \
    {o16_tile_##MR##x1##S, o16_tile_##MR##x2##S, o16_tile_##MR##x3##S, o16_tile_##MR##x4##S}
#define O16_ROW2(MR, S) {o16_tile_##MR##x1##S, o16_tile_##MR##x2##S, NULL, NULL}
#define O16_TABLE(S)                                                                          \
    {O16_ROW(1, S),  O16_ROW(2, S),  O16_ROW(3, S),  O16_ROW(4, S),  O16_ROW(5, S),           \
     O16_ROW(6, S),  O16_ROW2(7, S), O16_ROW2(8, S), O16_ROW2(9, S), O16_ROW2(10, S)}
/* [prefetching the next weight block][rows - 1][panels - 1] */
static const o16_tile_fn o16_tiles[2][O16_MR2][O16_NP] = {O16_TABLE(), O16_TABLE(_pf)};

/*
 * The loops over one GEMM, A given either as a matrix (ind NULL: a, rsa)
 * or as runs (ind, nseg runs of seg floats per row; K = nseg * seg).
 * K blocks (gemm_o16_blocks.h): whole runs, as many as fit O16_KC steps, or
 * equal pieces of a longer run (a matrix is one run of K).
 */
static void o16_gemm(size_t M, size_t N, const float *a, size_t rsa, const float *const *ind,
                     size_t nseg, size_t seg, const float *w16, const float *bias, float *c,
                     size_t ldc, float lo, float hi) {
    if (M == 0 || N == 0) return;
    const size_t K = nseg * seg;
    const size_t pieces = seg > O16_KC ? (seg + O16_KC - 1) / O16_KC : 1;
    const size_t plen = seg ? (seg + pieces - 1) / pieces : 0;
    const size_t spb = pieces > 1 || seg == 0 ? 1 : O16_KC / seg; /* runs per block */
    const qlite_o16_kb kb0 = qlite_o16_kb_first(nseg, seg, spb, plen);
    const float *rows[O16_MR2];
    /* weights larger than L2 keep: each block's tiles prefetch the next one */
    const bool pfon = (double)K * (double)N * sizeof(float) > (double)O16_PFMIN;
    for (size_t mb = 0; mb < M; mb += O16_MC) {
        const size_t me = M - mb < O16_MC ? M : mb + O16_MC;
        for (size_t n = 0; n < N; n += 16 * O16_NP) {
            const size_t cols = N - n < 16 * O16_NP ? N - n : 16 * O16_NP;
            const size_t np = (cols + 15) / 16, tail = cols - 16 * (np - 1);
            /* a block of <= 2 panels (N <= 32, or the last 16 / 32 columns
             * of N = 96, 144, 160: 6-row tiles there ran at ~60% of the
             * 64-column ones, MobileNetV2's projection convs 1.4x ORT) */
            const size_t maxr = np <= 2 ? O16_MR2 : O16_MR;
            size_t tiles = 0;
            for (size_t m = mb; m < me; m += qlite_o16_tile_rows(me - m, maxr)) tiles++;
            const __mmask16 mask = (__mmask16)(tail >= 16 ? 0xffffu : (1u << tail) - 1u);
            const float *bn = bias ? bias + n : NULL;
            for (qlite_o16_kb kb = kb0;;) {
                const bool first = kb.s0 == 0 && kb.off == 0;
                const bool last = kb.s0 + kb.nsb >= nseg && kb.off + kb.len >= seg;
                const float *wn = w16 + n * K + (kb.s0 * seg + kb.off) * 16;
                /* the next block: K block, else columns, else row block */
                qlite_o16_kb nk = kb;
                size_t nn = n, npn = 0, lines = 0;
                const char *nw = NULL;
                if (pfon) {
                    bool next = qlite_o16_kb_next(&nk, nseg, seg, spb, plen);
                    if (!next) {
                        nk = kb0, nn = n + 16 * O16_NP;
                        next = nn < N || me < M;
                        if (nn >= N) nn = 0;
                    }
                    if (next) {
                        const size_t ncols = N - nn < 16 * O16_NP ? N - nn : 16 * O16_NP;
                        npn = (ncols + 15) / 16;
                        lines = (nk.nsb - 1) * seg + nk.len; /* 64-byte lines per panel */
                        nw = (const char *)(w16 + nn * K + (nk.s0 * seg + nk.off) * 16);
                    }
                }
                size_t t = 0;
                for (size_t m = mb, mr; m < me; m += mr, t++) {
                    mr = qlite_o16_tile_rows(me - m, maxr);
                    /* rows of the next tile, whose outputs are first written now */
                    const int cpr = first && m + mr < me ? (int)qlite_o16_tile_rows(me - m - mr, maxr) : 0;
                    const float *const *im = ind ? ind + m * nseg + kb.s0 : rows;
                    if (!ind && a)
                        for (size_t r = 0; r < mr; r++) rows[r] = a + (m + r) * rsa;
                    /* this tile's share: a piece of one panel (panel j gets
                     * tiles [j * tiles / npn, (j + 1) * tiles / npn)) */
                    const char *pfp = NULL;
                    size_t pfn = 0;
                    if (npn) {
                        const size_t j = t * npn / tiles;
                        const size_t t0 = (j * tiles + npn - 1) / npn;
                        const size_t t1 = ((j + 1) * tiles + npn - 1) / npn;
                        const size_t l0 = (t - t0) * lines / (t1 - t0);
                        pfn = (t - t0 + 1) * lines / (t1 - t0) - l0;
                        pfp = nw + j * 16 * K * sizeof(float) + l0 * 64;
                    }
                    o16_tiles[pfon][mr - 1][np - 1](im, ind ? nseg : 1, ind ? kb.nsb : 1, seg,
                                                    kb.off, kb.len, wn, 16 * K, c + m * ldc + n,
                                                    ldc, mask, bn, first, last, lo, hi, pfp,
                                                    pfn, c + (m + mr) * ldc + n, cpr);
                }
                if (!qlite_o16_kb_next(&kb, nseg, seg, spb, plen)) break;
            }
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
