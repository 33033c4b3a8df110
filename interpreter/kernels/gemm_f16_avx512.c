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
 * Tiles and blocking are the float32 kernel's (gemm_f32_avx512.c, 3365ca1):
 * 6 rows x 64 columns (24 accumulators, per K step 4 panel loads and 6
 * broadcasts for 24 FMAs), 10 x 32 for column blocks of <= 2 panels; rows
 * in blocks of H_MC; in each, 64 columns at a time over every K block of
 * at most H_KC steps (whole runs of an implicit im2col, or equal pieces of
 * a longer run); next weight block prefetched into L2 when the weights
 * pass H_PFMIN bytes, the next tile's outputs prefetched for writing. The
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

#define H_MR 6    /* rows of a register tile */
#define H_MR2 10  /* rows of a tile of <= 2 panels (20 accumulators) */
#define H_NP 4    /* 16-column panels of a register tile */
#define H_KC 1152 /* K steps per block: 64 columns of halves (144 KiB) in L2 */
#define H_PFMIN (1u << 19) /* bytes of weights above which blocks prefetch the next */
#define H_MC 240  /* rows per block: their activations stay in L2 */
#define H_WIDEN_ROWS QLITE_GEMM_F16_WIDEN_ROWS /* row blocks of more rows widen their
                           weight blocks once (12-48 rows: within the noise either way) */
_Static_assert(H_NP * H_KC * 16 * sizeof(float) == QLITE_GEMM_F16_WBUF_BYTES,
               "one widened weight block per buffer");

/* 16 weights of step i of a panel: halves widened in the register, or
 * floats from the widened buffer (64-byte aligned). */
INL __m512 h_load(const bool half, const void *w, size_t i) {
    if (half) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i)));
    return _mm512_load_ps((const float *)w + i);
}

/*
 * C[mr, 16*np] (+)= A[mr, kc] * W-panels[kc, 16*np]: A's kc steps are nsb
 * runs of `len` floats; row r's run s starts at ind[r * istride + s] + off
 * and meets weight step s * seg + k of the block (w at its first step,
 * panels pstride halves apart). `mask` limits the last panel's columns.
 * pfon: pfn 64-byte lines from pfp (the next weight block's share of this
 * tile) are prefetched into L2, one per K step; the next tile's cpr rows
 * of outputs (cpf) are prefetched for writing.
 */
INL void h_tile(const int mr, const int np, const bool half, const float *const *ind,
                size_t istride, size_t nsb, size_t seg, size_t off, size_t len, const void *w,
                size_t pstride, float *c, size_t ldc, __mmask16 mask, const float *bias,
                bool first, bool last, float lo, float hi, const bool pfon, const char *pfp,
                size_t pfn, const float *cpf, int cpr) {
    __m512 acc[H_MR2][H_NP];
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
        const float *ar[H_MR2];
        for (int r = 0; r < mr; r++) ar[r] = ind[(size_t)r * istride + sgi] + off;
        const size_t ws = sgi * seg * 16;
        for (size_t k = 0; k < len; k++) {
            __m512 b[H_NP];
            for (int j = 0; j < np; j++) b[j] = h_load(half, w, ws + (size_t)j * pstride + k * 16);
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

typedef void (*h_tile_fn)(const float *const *ind, size_t istride, size_t nsb, size_t seg,
                          size_t off, size_t len, const void *w, size_t pstride, float *c,
                          size_t ldc, __mmask16 mask, const float *bias, bool first, bool last,
                          float lo, float hi, const char *pfp, size_t pfn, const float *cpf,
                          int cpr);

#define H_TILE1(MR, NP, HALF, PF, SFX)                                                          \
    AVX512 static void h_tile_##MR##x##NP##SFX(                                                 \
        const float *const *ind, size_t istride, size_t nsb, size_t seg, size_t off,             \
        size_t len, const void *w, size_t pstride, float *c, size_t ldc, __mmask16 mask,         \
        const float *bias, bool first, bool last, float lo, float hi, const char *pfp,           \
        size_t pfn, const float *cpf, int cpr) {                                                 \
        h_tile(MR, NP, HALF, ind, istride, nsb, seg, off, len, w, pstride, c, ldc, mask, bias,   \
               first, last, lo, hi, PF, pfp, pfn, cpf, cpr);                                     \
    }
#define H_TILE(MR, NP)                                                                          \
    H_TILE1(MR, NP, true, false, h) H_TILE1(MR, NP, true, true, h_pf)                           \
    H_TILE1(MR, NP, false, false, f) H_TILE1(MR, NP, false, true, f_pf)
#define H_TILES(MR) H_TILE(MR, 1) H_TILE(MR, 2) H_TILE(MR, 3) H_TILE(MR, 4)
#define H_TILES2(MR) H_TILE(MR, 1) H_TILE(MR, 2)
H_TILES(1)
H_TILES(2)
H_TILES(3)
H_TILES(4)
H_TILES(5)
H_TILES(6)
H_TILES2(7)
H_TILES2(8)
H_TILES2(9)
H_TILES2(10)
#define H_ROW(MR, S) {h_tile_##MR##x1##S, h_tile_##MR##x2##S, h_tile_##MR##x3##S, h_tile_##MR##x4##S}
#define H_ROW2(MR, S) {h_tile_##MR##x1##S, h_tile_##MR##x2##S, NULL, NULL}
#define H_TABLE(S)                                                                              \
    {H_ROW(1, S), H_ROW(2, S), H_ROW(3, S), H_ROW(4, S), H_ROW(5, S), H_ROW(6, S),              \
     H_ROW2(7, S), H_ROW2(8, S), H_ROW2(9, S), H_ROW2(10, S)}
/* [weights: 0 halves, 1 widened floats][prefetching the next weight
 * block][rows - 1][panels - 1] */
static const h_tile_fn h_tiles[2][2][H_MR2][H_NP] = {{H_TABLE(h), H_TABLE(h_pf)},
                                                     {H_TABLE(f), H_TABLE(f_pf)}};

/* n steps (16 halves each) of np panels, pstride halves apart, into buf
 * (panels H_KC * 16 floats apart). */
AVX512 static void h_widen(const uint16_t *w, size_t pstride, size_t np, size_t n, float *buf) {
    for (size_t j = 0; j < np; j++) {
        const uint16_t *src = w + j * pstride;
        float *dst = buf + j * H_KC * 16;
        for (size_t i = 0; i < n; i++)
            _mm512_store_ps(dst + 16 * i,
                            _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + 16 * i))));
    }
}

/*
 * One GEMM, A a matrix (ind NULL: a, rsa) or runs (ind: nseg runs of seg
 * floats per row, K = nseg * seg): row blocks of H_MC; in each, 64 columns
 * at a time over every K block in order (whole runs, as many as fit H_KC
 * steps, or equal pieces of a longer run).
 */
static void h_gemm(size_t M, size_t N, const float *a, size_t rsa, const float *const *ind,
                   size_t nseg, size_t seg, const uint16_t *w16, const float *bias, float *c,
                   size_t ldc, float lo, float hi, float *wbuf) {
    if (M == 0 || N == 0) return;
    static const float zero_row[1];
    float *const buf = M > H_WIDEN_ROWS ? wbuf : NULL;
    const size_t K = nseg * seg;
    const float *rows[H_MR2];
    for (size_t r = 0; r < H_MR2; r++) rows[r] = zero_row; /* K = 0: never read */
    /* weights larger than L2 keeps: each block's tiles prefetch the next */
    const bool pfon = (double)K * (double)N * sizeof(uint16_t) > (double)H_PFMIN;
    for (size_t mb = 0; mb < M; mb += H_MC) {
        const size_t me = M - mb < H_MC ? M : mb + H_MC;
        /* many rows: each weight block widened once into buf, few: halves
         * widened in registers */
        const bool widen = buf && me - mb > H_WIDEN_ROWS;
        const size_t pieces = seg > H_KC ? (seg + H_KC - 1) / H_KC : 1;
        const size_t plen = seg ? (seg + pieces - 1) / pieces : 0;
        const size_t spb = pieces > 1 || seg == 0 ? 1 : H_KC / seg; /* runs per block */
        const qlite_o16_kb kb0 = qlite_o16_kb_first(nseg, seg, spb, plen);
        for (size_t n = 0; n < N; n += 16 * H_NP) {
            const size_t cols = N - n < 16 * H_NP ? N - n : 16 * H_NP;
            const size_t np = (cols + 15) / 16, tail = cols - 16 * (np - 1);
            const size_t maxr = np <= 2 ? H_MR2 : H_MR; /* taller tiles for <= 2 panels */
            size_t tiles = 0;
            for (size_t m = mb; m < me; m += qlite_o16_tile_rows(me - m, maxr)) tiles++;
            const __mmask16 mask = (__mmask16)(tail >= 16 ? 0xffffu : (1u << tail) - 1u);
            const float *bn = bias ? bias + n : NULL;
            for (qlite_o16_kb kb = kb0;;) {
                const bool first = kb.s0 == 0 && kb.off == 0;
                const bool last = kb.s0 + kb.nsb >= nseg && kb.off + kb.len >= seg;
                const uint16_t *wn = w16 + n * K + (kb.s0 * seg + kb.off) * 16;
                const void *wt = wn;
                size_t ps = 16 * K;
                if (widen) {
                    h_widen(wn, 16 * K, np, (kb.nsb - 1) * seg + kb.len, buf);
                    wt = buf;
                    ps = H_KC * 16;
                }
                /* the next block: K block, else columns, else row block */
                qlite_o16_kb nk = kb;
                size_t nn = n, npn = 0, lines = 0;
                const char *nw = NULL;
                if (pfon) {
                    bool next = qlite_o16_kb_next(&nk, nseg, seg, spb, plen);
                    if (!next) {
                        nk = kb0, nn = n + 16 * H_NP;
                        next = nn < N || me < M;
                        if (nn >= N) nn = 0;
                    }
                    if (next) {
                        const size_t ncols = N - nn < 16 * H_NP ? N - nn : 16 * H_NP;
                        npn = (ncols + 15) / 16;
                        /* 64-byte lines per panel: 32 bytes of halves a step */
                        lines = ((nk.nsb - 1) * seg + nk.len + 1) / 2;
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
                    /* this tile's share of the next block: a piece of one
                     * panel (panel j gets tiles [j tiles / npn, (j+1) tiles / npn)) */
                    const char *pfp = NULL;
                    size_t pfn = 0;
                    if (npn) {
                        const size_t j = t * npn / tiles;
                        const size_t t0 = (j * tiles + npn - 1) / npn;
                        const size_t t1 = ((j + 1) * tiles + npn - 1) / npn;
                        const size_t l0 = (t - t0) * lines / (t1 - t0);
                        pfn = (t - t0 + 1) * lines / (t1 - t0) - l0;
                        pfp = nw + j * 16 * K * sizeof(uint16_t) + l0 * 64;
                    }
                    h_tiles[widen][pfon][mr - 1][np - 1](
                        im, ind ? nseg : 1, ind ? kb.nsb : 1, seg, kb.off, kb.len, wt, ps,
                        c + m * ldc + n, ldc, mask, bn, first, last, lo, hi, pfp, pfn,
                        c + (m + mr) * ldc + n, cpr);
                }
                if (!qlite_o16_kb_next(&kb, nseg, seg, spb, plen)) break;
            }
        }
    }
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

/* Split over the column-major grid of gemm_o16_blocks.h, as the float32
 * runner (gemm_f32.c) splits its fast GEMM. */
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
    j->grid = qlite_o16_grid_make(j->M, j->N);
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
