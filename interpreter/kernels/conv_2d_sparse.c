/*
 * conv_2d_sparse.c — CONV_2D with a 1x1 kernel, stride 1, no padding and
 * one group, whose weight [O, 1, 1, C] is read in its stored sparse /
 * clustered form (nn_sparse.h): the NHWC input [N, H, W, C] is then M =
 * N*H*W rows of K = C features and the convolution is a FULLY_CONNECTED
 * over them (2-D view of the weight [O, C]). Hybrid inputs are quantized
 * per image (H*W rows together), as the dense hybrid convolution does.
 * Other convolutions get their compressed weights densified
 * (qlite_conv_reads_stored answers false for them). Weights in a packed
 * layout (O16 / O16I4, never sparse) go to the dense kernel as stored.
 */
#include "kernels/nn_q8.h"
#include "kernels/nn_sparse.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"
#include "kernels/sparse_weights.h"

/* 1x1, stride 1, unpadded, one group, from the options and weight shape alone. */
static bool pointwise(const qlite_conv2d_options *o, const int64_t *wshape, uint32_t wrank) {
    return wrank == 4 && wshape[1] == 1 && wshape[2] == 1 && o->stride_h == 1 &&
           o->stride_w == 1 && o->pad_top == 0 && o->pad_left == 0 && o->pad_bottom == 0 &&
           o->pad_right == 0 && o->groups == 1;
}

bool qlite_conv_reads_stored(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                             uint32_t input) {
    if (input != 1 || op->num_inputs < 2 || op->options.type != QLITE_OPTIONS_CONV_2D) return false;
    const qlite_tensor_info *x = inputs[0], *w = inputs[1];
    return x && qlite_spw_form_supported(w) && x->rank == 4 &&
           pointwise(&op->options.u.conv2d, w->shape, w->rank) && x->shape[3] == w->shape[3] &&
           qlite_sparse_pair_supported(x->dtype, w->dtype);
}

qlite_status qlite_conv_sparse_prepare(qlite_node *node) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_conv_geom g;
    qlite_status st = qlite_conv_geom_init(node, QLITE_CONV_PLAIN, x, w, b, &g);
    if (st != QLITE_OK) return st;
    if (!pointwise(&node->opts->u.conv2d, w->dims, w->rank))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "weights '%s' are stored sparse/clustered: read in place only by "
                                "1x1 convolutions with stride 1, no padding and one group (this "
                                "is %lldx%lld, stride %lldx%lld, %lld groups)",
                                w->info->name, (long long)g.KH, (long long)g.KW,
                                (long long)g.sh, (long long)g.sw, (long long)g.groups);
    const qlite_sparse_linear l = {.x = x, .w = w, .b = b,
                                   .M = (size_t)(g.N * g.H * g.W), .N = (size_t)g.O,
                                   .K = (size_t)g.C, .w_axis = 0, .act = g.act,
                                   .group_rows = (size_t)(g.H * g.W), .what = "weights"};
    if (l.M == 0 && l.group_rows == 0) {
        qlite_sparse_linear l1 = l;
        l1.group_rows = 1;
        return qlite_sparse_linear_prepare(node, &l1);
    }
    return qlite_sparse_linear_prepare(node, &l);
}

/* ---- the registry's CONV_2D (nn_sparse.h) ---- */

static qlite_status conv_or_sparse_prepare(qlite_node *node) {
    if (node->num_inputs >= 2 && qlite_spw_is_stored(node->inputs[1]))
        return qlite_conv_sparse_prepare(node);
    return qlite_kernel_conv_2d.prepare(node);
}

static qlite_status conv_or_sparse_eval(qlite_node *node) {
    if (node->num_inputs >= 2 && qlite_spw_is_stored(node->inputs[1]))
        return qlite_eval_dispatch(node);
    return qlite_kernel_conv_2d.eval(node);
}

const qlite_kernel qlite_kernel_conv_2d_or_sparse = {
    .prepare = conv_or_sparse_prepare,
    .eval = conv_or_sparse_eval,
    .raw_dense_inputs = 1u << 1,  /* as qlite_kernel_conv_2d (test_kernel_sparse checks) */
    .raw_packed_inputs = 1u << 1, /* as qlite_kernel_conv_2d: O16 / O16I4 (not sparse) as stored */
    .reads_stored = qlite_conv_reads_stored,
};
