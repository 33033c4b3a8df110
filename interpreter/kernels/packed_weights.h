/*
 * packed_weights.h — the weights of the GEMM-based kernels in the layout
 * their micro-kernels read (docs/format.md §6.2), zero-copy when the file
 * stores that layout:
 *
 *   float32 / float16 weights  O16    [ceil(N/16)][K][16]          (gemm_f32.h)
 *   int8 weights               O16I4  [ceil(N/16)][ceil(K/4)][16][4] (gemm_q8.h)
 *
 * for each of `nmat` matrices W [N, K] (nmat > 1: LSTM/GRU directions,
 * batched BATCH_MATMUL B). When the constant is stored in that layout and
 * handed over as stored (kernel.h raw_packed_inputs), the kernel reads the
 * model's bytes; when it is stored DEFAULT (a hand-written or --no-pack
 * file), the same bytes are made once here at prepare, in qlite_node_alloc
 * memory (counted in the prepared size). Nothing is packed per invoke.
 *
 * How a GEMM-based kernel uses it (FULLY_CONNECTED, LSTM do; a convolution
 * with W [O, KH*KW*I] the same way):
 *   1. list the weight input in qlite_kernel.raw_packed_inputs (kernel.h),
 *      so the interpreter hands an O16 / O16I4 constant over as stored;
 *   2. prepare, float32 / float16 weights:
 *        uk = qlite_gemm_f32_select_o16();              // nr == 16
 *        qlite_o16_weights_get(node, w, "weights", nmat, N, K, &wo);
 *      eval: qlite_gemm_f32_run_o16(node, uk, &args, wo.data, wo.half)
 *      (threads) or qlite_gemm_f32_o16_serial(uk, &args, wo.data, wo.half);
 *      matrix b of nmat starts wo.mat_elems elements further;
 *   3. prepare, int8 weights:
 *        qlite_o16i4_weights_get(node, w, "weights", nmat, N, K, &wp, wsum);
 *        uk = qlite_gemm_q8_select_packed(N, wp.in_place);
 *      eval: qlite_q8_gemm_run (nn_q8.h) with .packed = wp.data,
 *      .prepacked = true (matrix b at wp.data + b * wp.mat_bytes);
 *   4. the reference path reads W[n][k] with qlite_o16_at / qlite_o16i4_at.
 * A packed layout other than the one for the dtype is refused with
 * QLITE_ERR_UNSUPPORTED; a weight given at eval (not constant) should be
 * packed into scratch with qlite_gemm_o16_pack_f32 / qlite_gemm_q8_pack and
 * run through the same call, so constant and non-constant weights give the
 * same bits.
 */
#ifndef QLITE_PACKED_WEIGHTS_H
#define QLITE_PACKED_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

/* Float weights in O16. */
typedef struct qlite_o16_weights {
    const void *data;  /* nmat matrices of qlite_gemm_o16_elems(K, N) elements */
    bool half;         /* float16 elements (else float32) */
    bool in_place;     /* the model's bytes (false: packed at prepare) */
    size_t mat_elems;  /* elements per matrix */
} qlite_o16_weights;

/*
 * Resolves constant w (FLOAT32 or FLOAT16, any layout the interpreter hands
 * over) seen as nmat matrices W [N, K] (DEFAULT: row-major [nmat][N][K]).
 * `what` names the input in errors. QLITE_ERR_NO_MEMORY / a shape error
 * through qlite_node_error.
 */
qlite_status qlite_o16_weights_get(qlite_node *node, const qlite_tensor *w, const char *what,
                                   size_t nmat, size_t N, size_t K, qlite_o16_weights *out);

/* Int8 weights in O16I4. */
typedef struct qlite_o16i4_weights {
    const int8_t *data;  /* nmat matrices of qlite_gemm_q8_packed_size-compatible blocks */
    bool in_place;
    size_t mat_bytes;    /* ceil(N/16) * 16 * round_up(K, 4) */
} qlite_o16i4_weights;

/*
 * The same for an INT8 constant w. When `wsum` is not NULL it receives the
 * per-row sums sum_k W[b][n][k] (nmat * N int64 values, for the
 * zero-point correction), computed from whichever form is at hand.
 */
qlite_status qlite_o16i4_weights_get(qlite_node *node, const qlite_tensor *w, const char *what,
                                     size_t nmat, size_t N, size_t K,
                                     qlite_o16i4_weights *out, int64_t *wsum);

/* W[n][k] of an O16I4 matrix with K columns (the references read it so). */
static inline int8_t qlite_o16i4_at(const int8_t *p, size_t K, size_t n, size_t k) {
    return p[((n / 16) * ((K + 3) / 4) + k / 4) * 64 + (n % 16) * 4 + k % 4];
}

/* W[n][k] of an O16 matrix with K columns, float32 or float16 (widened). */
static inline float qlite_o16_at(const void *p, bool half, size_t K, size_t n, size_t k) {
    const size_t i = ((n / 16) * K + k) * 16 + n % 16;
    return half ? qlite_fp16_to_fp32(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

/* Whether w is handed over in packed layout `layout` as the model stores it. */
bool qlite_weights_stored_packed(const qlite_tensor *w, qlite_layout layout);

#endif /* QLITE_PACKED_WEIGHTS_H */
