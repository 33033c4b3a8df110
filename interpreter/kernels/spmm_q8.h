/*
 * spmm_q8.h — 8-bit integer products with an int8 weight read in its
 * stored sparse / clustered form (sparse_weights.h): the arithmetic under
 * the int8 and hybrid forms of FULLY_CONNECTED, 1x1 CONV_2D and
 * BATCH_MATMUL with a constant B (docs/quantization.md §4.1, §4.2, §5).
 *
 * Activations enter as the unsigned bytes u of gemm_q8.h (u = x ^ 0x80 for
 * int8, x for uint8, or a hybrid row quantized to uint8), and
 *
 *   rows form        S[m][n] = sum over the stored (n, k) of u[m][k] (W[n][k] - zw[n])
 *   transposed form  S[m][n] = sum over the stored (k, n) of u[m][k] (W[k][n] - zw[n])
 *
 * Elements outside the stored blocks equal zw (real zero) and would add
 * nothing, so S is the dense formula's sum exactly. The output stages are
 * then those of the dense kernels, on the same numbers:
 *   integer  y = qlite_q8_cols_out(cols, n, cols.bias[n] + S)   with
 *            cols built by qlite_q8_cols_build from the dense weight sums
 *            (stored sum + (K - stored count) * zw), so that cols.bias is
 *            the dense kernel's folded bias and y is its output bit for bit;
 *   hybrid   y = qlite_hybrid_finish(hc, su, zu, S) (zw = 0; wsum = the
 *            stored sum), bit for bit the dense hybrid kernel.
 *
 * Algorithms: as spmm_f32.h (M == 1 row kernels per block shape; panels of
 * 8 rows of u for M >= 2, each weight loaded once per panel). x86 builds
 * with AVX-512 VNNI (spmm_q8_x86.c): VPDPBUSD on gathered 4-byte groups of
 * u for 1x1 and 1x4 blocks, on 16-byte runs for 1x16 blocks, one per
 * 16x4 block (the O16I4 tile, u's 4 bytes broadcast), and on
 * [k/4][8 rows][4] panels (one broadcast weight group times 8 batch rows)
 * for M >= 2; clustered rows that are not sparse have their int8
 * centroids looked up in registers (4-bit: VPSHUFB with u permuted to the
 * nibbles' order; other widths with VBMI: VPERMB + VPMULTISHIFTQB) and fed
 * to VPDPBUSD without a buffer, batch 1 and panels. Portable C elsewhere
 * and whenever a weight zero point is not 0.
 */
#ifndef QLITE_SPMM_Q8_H
#define QLITE_SPMM_Q8_H

#include "kernels/nn_q8.h"
#include "kernels/sparse_weights.h"

typedef struct qlite_spmm_q8 {
    const qlite_spw *w;           /* INT8 values or centroids */
    bool transposed;              /* W is [K, N] */
    size_t M, N, K;
    bool hybrid;
    /* integer: x int8 (flip 0x80) or uint8, output through cols */
    uint8_t flip;
    const qlite_q8_cols *cols;
    /* hybrid: x float32, rows quantized in groups of group_rows (1: per row;
     * a convolution's H*W pixels: per image), output through hc */
    size_t group_rows;
    const qlite_hybrid_cols *hc;
    const int32_t *zw;            /* [N] weight zero points when some is not 0, else NULL */
    /* set by qlite_spmm_q8_init */
    unsigned isa;
    int threads;
    size_t ldu;                   /* row stride of the u buffer (K + 64, rounded to 64) */
    size_t shared_bytes, thread_bytes;
} qlite_spmm_q8;

/* Checks w against M, N, K, picks the variant and sizes the scratch. */
qlite_status qlite_spmm_q8_init(qlite_node *node, qlite_spmm_q8 *p);

size_t qlite_spmm_q8_scratch_bytes(const qlite_spmm_q8 *p);

/* y (int8/uint8 bytes, or float32 for hybrid) from x; the readable
 * reference with QLITE_INTERP_REFERENCE_ONLY. */
void qlite_spmm_q8_run(const qlite_node *node, const qlite_spmm_q8 *p, const void *x, void *y,
                       void *scratch);

/*
 * Prepare-time helpers for the ops: per output channel n the dense sum of
 * the weight (stored values + (K - stored count) * zw[n]) — what
 * qlite_q8_cols_build takes as wsum — and, for hybrid, the stored sum as
 * int32. Node memory; `zw` per channel (NULL = all 0).
 */
qlite_status qlite_spmm_q8_weight_sums(qlite_node *node, const qlite_spw *w, bool transposed,
                                       const int32_t *zw, int64_t **dense_sum,
                                       int32_t **stored_sum);

/* ---- the kernel table (spmm_q8.c portable, spmm_q8_x86.c AVX-512 VNNI) ---- */

typedef struct qlite_spmm_q8_kernels {
    /* M == 1, rows form: acc[(r - r0) * br + i] = S of output r*br + i, r in [r0, r1) */
    void (*rows_m1)(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t r0,
                    size_t r1, int8_t *vbuf, int32_t *acc);
    /* M >= 2, rows form: u rows [m0, m0 + valid) (stride ldu) into the kernel's panel,
     * acc[((r - r0) * br + i) * 8 + l] = S of row m0 + l, output r*br + i */
    void (*rows_panel)(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t ldu,
                       size_t K, size_t valid, size_t r0, size_t r1, int8_t *vbuf,
                       uint8_t *panel, int32_t *acc);
    /* rows form, M >= 2, sums row-major instead: acc[l * ld + r*br + i]; false when
     * this weight is not one it handles (then rows_panel runs); may be NULL */
    bool (*rows_panel_rm)(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t ldu,
                          size_t K, size_t valid, size_t r0, size_t r1, int8_t *vbuf,
                          uint8_t *panel, int32_t *acc, size_t ld);
    /* transposed form, columns [n0, n1): acc[n] (M == 1) or acc[n * 8 + l] (panel) */
    void (*cols_m1)(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t n0,
                    size_t n1, int8_t *vbuf, int32_t *acc);
    void (*cols_panel)(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t ldu,
                       size_t K, size_t valid, size_t n0, size_t n1, int8_t *vbuf,
                       uint8_t *panel, int32_t *acc);
    size_t panel_bytes_per_k;  /* panel size = round_up(K, 4) * this */
    /* integer output stage of one row: y[n] = qlite_q8_cols_out(cols, n,
     * cols->bias[n] + acc[n * stride]) for n in [n0, n1) (cols padded as
     * gemm_q8.h says, so 16 columns may be loaded at once) */
    void (*out_bytes)(const qlite_q8_cols *cols, size_t n0, size_t n1, const int32_t *acc,
                      size_t stride, uint8_t *y);
} qlite_spmm_q8_kernels;

extern const qlite_spmm_q8_kernels qlite_spmm_q8__portable;
#if defined(__x86_64__) && defined(__GNUC__)
#define QLITE_SPMM_Q8_X86 1
extern const qlite_spmm_q8_kernels qlite_spmm_q8__avx512vnni;
#endif

#endif /* QLITE_SPMM_Q8_H */
