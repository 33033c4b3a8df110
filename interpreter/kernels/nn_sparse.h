/*
 * nn_sparse.h — FULLY_CONNECTED, 1x1 CONV_2D and BATCH_MATMUL with a
 * constant weight read in its stored sparse and/or clustered form (issue
 * #5; docs/format.md §6.3, §6.4): no dense copy of the weight exists.
 *
 * Which inputs are read stored is decided per node at interpreter creation
 * by the kernels' `reads_stored` (kernel.h), answered by the functions
 * below; every other compressed weight is densified as before:
 *
 *   FULLY_CONNECTED  W (input 1), any block shape and index width;
 *   CONV_2D          W of a 1x1 convolution with stride 1, no padding and
 *                    one group (an FC over the pixels);
 *   BATCH_MATMUL     a constant rank-2 B (input 1), A not transposed; both
 *                    B [K, N] and, with transpose_b, [N, K];
 *
 * each for the (input, weight) dtype pairs of the dense kernels:
 * float32 x float32 / float16 (values or a codebook of that dtype),
 * int8/uint8 x int8 (integer, docs/quantization.md §4.1 / §4.2) and
 * float32 x int8 (hybrid, §5). The op's prepare hands a weight that is
 * stored sparse / clustered to the *_sparse_prepare here, which validates
 * the node like the dense variant, sets node->state (first member: its
 * eval, quant_params.h qlite_eval_dispatch) and sizes the scratch; a form
 * or layout these kernels do not read is refused with a message naming it.
 *
 * Results: integer and hybrid forms equal the dense kernels on the
 * densified weights bit for bit (spmm_q8.h); float forms up to the order
 * of additions (spmm_f32.h).
 */
#ifndef QLITE_NN_SPARSE_H
#define QLITE_NN_SPARSE_H

#include "kernel.h"

/* The product every op here reduces to: y [M, N] = act(x [M, K] . W + b). */
typedef struct qlite_sparse_linear {
    const qlite_tensor *x, *w, *b; /* b may be NULL */
    size_t M, N, K;
    bool transposed;               /* W is [K, N] (BATCH_MATMUL without transpose_b) */
    uint32_t w_axis;               /* int8 W: the axis of per-channel (N) parameters */
    qlite_activation act;
    size_t group_rows;             /* hybrid: rows quantized together (1, or H*W) */
    const char *what;              /* the weight's role in messages: "weights", "B" */
} qlite_sparse_linear;

/* Validates dtypes, parameters and the stored form, sets node->state and
 * node->scratch_bytes (the output shape is the caller's). */
qlite_status qlite_sparse_linear_prepare(qlite_node *node, const qlite_sparse_linear *l);

/* The ops' hooks: prepare for a stored sparse / clustered weight, and the
 * kernel's reads_stored. */
qlite_status qlite_fc_sparse_prepare(qlite_node *node);
bool qlite_fc_reads_stored(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                           uint32_t input);
qlite_status qlite_conv_sparse_prepare(qlite_node *node);
bool qlite_conv_reads_stored(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                             uint32_t input);
qlite_status qlite_bmm_sparse_prepare(qlite_node *node);
bool qlite_bmm_reads_stored(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                            uint32_t input);

/*
 * The registry's kernels for the three ops (registry.c): the dense kernel
 * (qlite_kernel_fully_connected, ...) unless the weight reaches the node in
 * its stored sparse / clustered form (sparse_weights.h qlite_spw_is_stored),
 * which goes to the *_sparse_prepare above; reads_stored is theirs, the
 * other fields equal the dense kernel's (test_kernel_sparse checks).
 */
extern const qlite_kernel qlite_kernel_fully_connected_or_sparse;
extern const qlite_kernel qlite_kernel_conv_2d_or_sparse;
extern const qlite_kernel qlite_kernel_batch_matmul_or_sparse;

/* True for the (input, weight) dtype pairs above. */
bool qlite_sparse_pair_supported(qlite_dtype x, qlite_dtype w);

#endif /* QLITE_NN_SPARSE_H */
