/*
 * spmm_f32.h — float32 products with a weight read in its stored sparse /
 * clustered form (sparse_weights.h), the arithmetic under the float32 and
 * float16-weight forms of FULLY_CONNECTED, 1x1 CONV_2D and BATCH_MATMUL
 * with a constant B:
 *
 *   rows form        y[m][n] = clamp(bias[n] + sum_k x[m][k] W[n][k])   W = [N, K]
 *   transposed form  y[m][n] = clamp(bias[n] + sum_k x[m][k] W[k][n])   W = [K, N]
 *
 * x [M, K] and y [M, N] row-major float32. Values stored as float16, or
 * clustered with a float32 / float16 codebook, are converted one block row
 * at a time into a per-thread buffer (F16C where present); float32 values
 * are read in place. At batch 1 on AVX-512 a not-sparse 4-bit palette is
 * read without the buffer: VPERMPS on the 16 centroids into the FMA.
 *
 * Algorithms (each for the rows and the transposed form):
 *   M == 1   one row kernel per block shape: 1x1 (gathered x), 1x4 and
 *            1x16 (the 4 / 16 x values of a block loaded once, one vector
 *            multiply-add), 4x1 (one x value for four outputs), a dense
 *            row (clustered, not sparse), and a generic one for any block;
 *   M >= 2   panels of 8 rows of x transposed into [K][8] (per thread), so
 *            every weight is loaded once per 8 rows and multiplies a vector
 *            of 8 batch rows (any block shape).
 * Threads split block rows (balanced by stored blocks) for the rows form,
 * output columns for the transposed form, or panels when there are at
 * least as many panels as threads. Builds for AVX-512, AVX2+FMA and
 * portable C, chosen at prepare from the CPU (gemm_q8.h's feature
 * detection, so tests can cap it).
 *
 * Results equal the dense float kernels on the densified weights up to
 * the order of float additions (tests: within 1e-5 * sum |x w|).
 */
#ifndef QLITE_SPMM_F32_H
#define QLITE_SPMM_F32_H

#include "kernels/sparse_weights.h"

typedef struct qlite_spmm_f32 {
    const qlite_spw *w;
    bool transposed;          /* W is [K, N] (rows of the view = reduction) */
    size_t M, N, K;
    const float *bias;        /* [N] or NULL */
    float lo, hi;             /* fused activation */
    unsigned isa;             /* chosen by qlite_spmm_f32_init */
    int threads;
    size_t thread_bytes;      /* scratch per thread */
} qlite_spmm_f32;

/* Checks w against M, N, K and the form, picks the ISA, sizes the scratch
 * (QLITE_ERR_SHAPE / QLITE_ERR_NO_MEMORY through the node). */
qlite_status qlite_spmm_f32_init(qlite_node *node, qlite_spmm_f32 *p);

/* Scratch bytes eval needs (64-byte aligned parts). */
size_t qlite_spmm_f32_scratch_bytes(const qlite_spmm_f32 *p);

/* y = the formula above on the node's threads; the readable reference with
 * QLITE_INTERP_REFERENCE_ONLY. */
void qlite_spmm_f32_run(const qlite_node *node, const qlite_spmm_f32 *p, const float *x,
                        float *y, void *scratch);

#endif /* QLITE_SPMM_F32_H */
