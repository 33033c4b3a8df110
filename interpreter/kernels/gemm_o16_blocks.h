/*
 * gemm_o16_blocks.h — the blocking arithmetic the AVX-512 O16 GEMMs share
 * (float32 weights: gemm_f32_avx512.c; float16 weights: gemm_f16_avx512.c),
 * and the column-major grid their threaded runners split (gemm_f32.c,
 * gemm_f16_avx512.c). Plain C: sizes only, no vector code.
 */
#ifndef QLITE_GEMM_O16_BLOCKS_H
#define QLITE_GEMM_O16_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>

/* Rows of the next tile when `left` rows remain and a tile has at most
 * `max` (6, or 10 for <= 2 panels): max + 1 .. 1.5 max give two tiles of
 * half each, not max + a slow few. */
static inline size_t qlite_o16_tile_rows(size_t left, size_t max) {
    return left > max && left <= max + max / 2 ? (left + 1) / 2 : left < max ? left : max;
}

/*
 * A K block of one GEMM whose A rows are nseg runs of seg floats (a matrix
 * is one run of K): runs [s0, s0 + nsb), steps [off, off + len) of each.
 * Blocks hold whole runs, spb per block, or equal pieces of plen steps of a
 * run longer than a block.
 */
typedef struct qlite_o16_kb {
    size_t s0, nsb, off, len;
} qlite_o16_kb;

/* The first K block. */
static inline qlite_o16_kb qlite_o16_kb_first(size_t nseg, size_t seg, size_t spb, size_t plen) {
    const qlite_o16_kb b = {0, nseg < spb ? nseg : spb, 0, seg < plen ? seg : plen};
    return b;
}

/* The K block after b; false after the last. */
static inline bool qlite_o16_kb_next(qlite_o16_kb *b, size_t nseg, size_t seg, size_t spb,
                                     size_t plen) {
    if (b->off + b->len < seg) {
        b->off += plen;
        b->len = seg - b->off < plen ? seg - b->off : plen;
        return true;
    }
    if (b->s0 + b->nsb >= nseg) return false;
    b->s0 += spb;
    b->nsb = nseg - b->s0 < spb ? nseg - b->s0 : spb;
    b->off = 0;
    b->len = seg < plen ? seg : plen;
    return true;
}

/*
 * The threaded runners' work units: a grid of QLITE_O16_GRID_MR-row x
 * QLITE_O16_GRID_NR-column units, numbered column-major, so a range of units
 * is mostly rows of one column block and each weight block streams through
 * the cache about once in all; with one column block, units are row groups.
 */
#define QLITE_O16_GRID_MR 6
#define QLITE_O16_GRID_NR 64

typedef struct qlite_o16_grid {
    size_t M, N;
    size_t mt;  /* row units */
    size_t nr;  /* columns per column block: QLITE_O16_GRID_NR, or N (pixel split) */
    size_t units;
} qlite_o16_grid;

static inline qlite_o16_grid qlite_o16_grid_make(size_t M, size_t N) {
    qlite_o16_grid g = {M, N, (M + QLITE_O16_GRID_MR - 1) / QLITE_O16_GRID_MR,
                        QLITE_O16_GRID_NR, 0};
    g.units = g.mt * ((N + QLITE_O16_GRID_NR - 1) / QLITE_O16_GRID_NR);
    return g;
}

/*
 * The same grid with one column block of all N columns: units are row
 * groups, so the caller (front of the range) gets the first rows and the
 * worker the last, as the ops before and after a 1x1 conv split their
 * pixels. Each thread then reads all the weights; worth it when they are
 * few (a rule of the runner, gemm_f32.c).
 */
static inline qlite_o16_grid qlite_o16_grid_make_rows(size_t M, size_t N) {
    qlite_o16_grid g = {M, N, (M + QLITE_O16_GRID_MR - 1) / QLITE_O16_GRID_MR, N, 0};
    g.units = N ? g.mt : 0;
    return g;
}

/*
 * The grid a threaded runner splits for a GEMM of M x N outputs over K
 * steps on `threads` threads (> 1), the one rule of both runners (float32
 * weights: gemm_f32.c; float16: gemm_f16_avx512.c, whose weights are
 * counted as the floats they widen to, so a float16 model splits every
 * layer as the float32 one does): by rows alone (qlite_o16_grid_make_rows)
 * when the weights are at most QLITE_O16_ROWS_MAX_W bytes and
 * QLITE_O16_ROWS_W_PER_A times the bytes of A and C, and there are at least
 * two row units a thread; else the column-major grid. The row split gives
 * the caller the first output pixels and the worker the last, as the
 * depthwise convolution, the element-wise ops and the other 1x1
 * convolutions of a MobileNet block split them, so each core reads the
 * rows it wrote in the op before (a column split has each core read half
 * of its input from the other core at ~7 ns a line, threadpool.c: a
 * 14x14x576 float32 tensor is ~3500 lines a core). Each thread then
 * streams all the weights, which pays while they are small. Measurements:
 * gemm_f32.c (float32), gemm_f16_avx512.c (float16).
 */
#define QLITE_O16_ROWS_MAX_W ((double)(512u << 10))
#define QLITE_O16_ROWS_W_PER_A 3.0
static inline qlite_o16_grid qlite_o16_grid_split(size_t M, size_t N, size_t K, size_t threads) {
    const size_t mt = (M + QLITE_O16_GRID_MR - 1) / QLITE_O16_GRID_MR;
    const double wb = (double)K * (double)N * sizeof(float);
    const double ab = (double)M * ((double)K + (double)N) * sizeof(float);
    const bool rows = wb <= QLITE_O16_ROWS_MAX_W && wb <= QLITE_O16_ROWS_W_PER_A * ab &&
                      mt >= 2 * threads;
    return rows ? qlite_o16_grid_make_rows(M, N) : qlite_o16_grid_make(M, N);
}

/* The next block [m0, m1) x [n0, n1) of units [*u, end) (whole rows of one
 * column block); advances *u past it. */
static inline void qlite_o16_grid_block(const qlite_o16_grid *g, size_t *u, size_t end,
                                        size_t *m0, size_t *m1, size_t *n0, size_t *n1) {
    const size_t ni = *u / g->mt, mi = *u % g->mt;
    const size_t me = end - *u < g->mt - mi ? mi + (end - *u) : g->mt; /* same column block */
    *m0 = mi * QLITE_O16_GRID_MR;
    *m1 = me * QLITE_O16_GRID_MR < g->M ? me * QLITE_O16_GRID_MR : g->M;
    *n0 = ni * g->nr;
    *n1 = *n0 + g->nr < g->N ? *n0 + g->nr : g->N;
    *u += me - mi;
}

#endif
