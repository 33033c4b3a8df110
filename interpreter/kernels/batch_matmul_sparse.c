/*
 * batch_matmul_sparse.c — BATCH_MATMUL with a constant rank-2 B read in its
 * stored sparse / clustered form (nn_sparse.h):
 *
 *   B [K, N]                  y = A B     the transposed form of spmm_*.h
 *                                         (rows of B's 2-D view = the reduction)
 *   B [N, K] with transpose_b y = A B^T   the rows form, as FULLY_CONNECTED
 *
 * A [..., M, K] (rank >= 1, not transposed): its batch dims fold into the
 * rows, since one B serves every batch. int8 B is quantized per tensor or
 * per column (its N axis), hybrid rows are A's rows, as batch_matmul_q8.c.
 * A transposed A, a B with batch dims or a compressed A is densified
 * (qlite_bmm_reads_stored answers false).
 */
#include "kernels/bmm_views.h"
#include "kernels/nn_common.h"
#include "kernels/nn_sparse.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"
#include "kernels/sparse_weights.h"

static qlite_batch_matmul_options bmm_options(const qlite_op_options *opts) {
    qlite_batch_matmul_options o = {.transpose_a = false, .transpose_b = false,
                                    .activation = QLITE_ACT_NONE};
    if (opts->type == QLITE_OPTIONS_BATCH_MATMUL) o = opts->u.batch_matmul;
    return o;
}

bool qlite_bmm_reads_stored(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                            uint32_t input) {
    if (input != 1 || op->num_inputs != 2) return false;
    const qlite_tensor_info *a = inputs[0], *b = inputs[1];
    const qlite_batch_matmul_options o = bmm_options(&op->options);
    return a && qlite_spw_form_supported(b) && b->rank == 2 && a->rank >= 1 &&
           (!o.transpose_a || a->rank == 1) && qlite_sparse_pair_supported(a->dtype, b->dtype);
}

qlite_status qlite_bmm_sparse_prepare(qlite_node *node) {
    const qlite_tensor *a = node->inputs[0], *b = node->inputs[1];
    if (node->opts->type != QLITE_OPTIONS_BATCH_MATMUL && node->opts->type != QLITE_OPTIONS_NONE)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not BatchMatMul");
    const qlite_batch_matmul_options o = bmm_options(node->opts);
    qlite_status st;
    if ((st = qlite_nn_check_rank(node, a, "A", 0)) || (st = qlite_nn_check_rank(node, b, "B", 0)))
        return st;
    if (a->rank < 1 || b->rank != 2 || (o.transpose_a && a->rank > 1))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "B '%s' is stored sparse/clustered: read in place only as a "
                                "rank-2 B with A of rank >= 1 not transposed (A has rank %u%s, "
                                "B rank %u)",
                                b->info->name, a->rank, o.transpose_a ? ", transposed" : "",
                                b->rank);
    const bool tb = o.transpose_b;
    const int64_t K = a->dims[a->rank - 1];
    const int64_t bk = b->dims[tb ? 1 : 0], N = b->dims[tb ? 0 : 1];
    if (K != bk)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "inner dims differ: A '%s' has K = %lld, B '%s' has K = %lld",
                                a->info->name, (long long)K, b->info->name, (long long)bk);
    size_t M = 1;
    int64_t dims[QLITE_MAX_RANK];
    uint32_t rank = 0;
    for (uint32_t i = 0; i + 1 < a->rank; i++) {
        M *= (size_t)a->dims[i];
        dims[rank++] = a->dims[i];
    }
    dims[rank++] = N;
    if ((st = qlite_node_set_output_shape(node, 0, rank, dims))) return st;
    const qlite_sparse_linear l = {.x = a, .w = b, .b = NULL, .M = M, .N = (size_t)N,
                                   .K = (size_t)K, .transposed = !tb, .w_axis = tb ? 0 : 1,
                                   .act = o.activation, .group_rows = 1, .what = "B"};
    return qlite_sparse_linear_prepare(node, &l);
}

/* ---- the registry's BATCH_MATMUL (nn_sparse.h) ---- */

static qlite_status bmm_or_sparse_prepare(qlite_node *node) {
    if (node->num_inputs >= 2 && qlite_spw_is_stored(node->inputs[1]))
        return qlite_bmm_sparse_prepare(node);
    return qlite_kernel_batch_matmul.prepare(node);
}

static qlite_status bmm_or_sparse_eval(qlite_node *node) {
    if (node->num_inputs >= 2 && qlite_spw_is_stored(node->inputs[1]))
        return qlite_eval_dispatch(node);
    return qlite_kernel_batch_matmul.eval(node);
}

const qlite_kernel qlite_kernel_batch_matmul_or_sparse = {
    .prepare = bmm_or_sparse_prepare,
    .eval = bmm_or_sparse_eval,
    .raw_dense_inputs = 1u << 1, /* as qlite_kernel_batch_matmul (test_kernel_sparse checks) */
    .reads_stored = qlite_bmm_reads_stored,
    /* strided views as qlite_kernel_batch_matmul (never with a sparse B: takes_view) */
    .view_inputs = (1u << 0) | (1u << 1),
    .view_output = true,
    .takes_view = qlite_bmm_takes_view,
};
