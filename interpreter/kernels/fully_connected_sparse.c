/*
 * fully_connected_sparse.c — FULLY_CONNECTED with a weight W [N, K] read
 * in its stored sparse / clustered form (nn_sparse.h), and the prepare all
 * the sparse ops share (qlite_sparse_linear_prepare):
 *
 *   float32 x float32 / float16   y = act(x W^T + b)            spmm_f32.h
 *   int8/uint8 x int8             docs/quantization.md §4.1     spmm_q8.h
 *   float32 x int8 (hybrid)       docs/quantization.md §5       spmm_q8.h
 *
 * The shapes, options and dtype checks are those of fully_connected.c /
 * fully_connected_q8.c; the int8 output stage is built from the dense
 * weight sums, so results are the dense kernels' bit for bit.
 */
#include "kernels/nn_sparse.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"

#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"
#include "kernels/spmm_f32.h"
#include "kernels/spmm_q8.h"

typedef struct sparse_state {
    qlite_eval_fn eval;      /* must stay first (qlite_eval_dispatch) */
    qlite_spw w;
    bool is_float;
    qlite_spmm_f32 f;
    qlite_spmm_q8 q;
    qlite_q8_cols cols;
    qlite_hybrid_cols hc;
} sparse_state;

bool qlite_sparse_pair_supported(qlite_dtype x, qlite_dtype w) {
    if (x == QLITE_DTYPE_FLOAT32)
        return w == QLITE_DTYPE_FLOAT32 || w == QLITE_DTYPE_FLOAT16 || w == QLITE_DTYPE_INT8;
    return (x == QLITE_DTYPE_INT8 || x == QLITE_DTYPE_UINT8) && w == QLITE_DTYPE_INT8;
}

static qlite_status sparse_eval(qlite_node *node) {
    const sparse_state *s = node->state;
    const void *x = node->inputs[0]->data;
    void *y = node->outputs[0]->data;
    if (s->is_float)
        qlite_spmm_f32_run(node, &s->f, x, y, node->scratch);
    else
        qlite_spmm_q8_run(node, &s->q, x, y, node->scratch);
    return QLITE_OK;
}

/* Per-channel weight zero points expanded to [N] (NULL when all are 0). */
static qlite_status expand_zw(qlite_node *node, const qlite_q8_weights *wq, size_t N,
                              const int32_t **out) {
    *out = NULL;
    if (!wq->any_zp) return QLITE_OK;
    int32_t *z = qlite_node_alloc(node, (N ? N : 1) * sizeof(int32_t));
    if (!z) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    for (size_t n = 0; n < N; n++) z[n] = qlite_q8_wzp(wq, n);
    *out = z;
    return QLITE_OK;
}

static qlite_status prepare_float(qlite_node *node, const qlite_sparse_linear *l,
                                  sparse_state *s) {
    qlite_status st;
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) ||
        (l->b && (st = qlite_nn_check_dtype(node, l->b, "bias", QLITE_DTYPE_FLOAT32))))
        return st;
    s->is_float = true;
    s->f = (qlite_spmm_f32){.w = &s->w, .transposed = l->transposed, .M = l->M, .N = l->N,
                            .K = l->K, .bias = l->b ? l->b->data : NULL};
    if (!qlite_nn_activation(l->act, &s->f.lo, &s->f.hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)l->act);
    if ((st = qlite_spmm_f32_init(node, &s->f))) return st;
    node->scratch_bytes = qlite_spmm_f32_scratch_bytes(&s->f);
    return QLITE_OK;
}

static qlite_status prepare_q8(qlite_node *node, const qlite_sparse_linear *l, sparse_state *s,
                               bool hybrid) {
    const qlite_tensor *x = l->x, *b = l->b;
    qlite_tensor *y = node->outputs[0];
    qlite_q8_weights wq;
    qlite_status st;
    if ((st = qlite_q8_weights_init(node, l->w, l->what, l->w_axis, l->N, &wq))) return st;
    s->q = (qlite_spmm_q8){.w = &s->w, .transposed = l->transposed, .M = l->M, .N = l->N,
                           .K = l->K, .hybrid = hybrid, .group_rows = l->group_rows};
    if ((st = expand_zw(node, &wq, l->N, &s->q.zw))) return st;
    if (hybrid) {
        if ((st = qlite_nn_check_dtype(node, y, "output", QLITE_DTYPE_FLOAT32)) ||
            (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))))
            return st;
        if (wq.any_zp)
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                    "hybrid kernels take symmetric int8 weights (zero point 0)");
        if ((st = qlite_hybrid_check_acc(node, l->K, &wq))) return st;
        float *ws = qlite_node_alloc(node, (l->N ? l->N : 1) * sizeof(float));
        if (!ws) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        for (size_t n = 0; n < l->N; n++) ws[n] = qlite_q8_wscale(&wq, n);
        int32_t *stored = NULL;
        if ((st = qlite_spmm_q8_weight_sums(node, &s->w, l->transposed, NULL, NULL, &stored)))
            return st;
        s->hc = (qlite_hybrid_cols){.wscale = ws, .wsum = stored,
                                    .bias = b ? b->data : NULL};
        if (!qlite_nn_activation(l->act, &s->hc.lo, &s->hc.hi))
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                    (int)l->act);
        s->q.hc = &s->hc;
    } else {
        qlite_q8 qx, qy;
        int64_t max_bias = 0;
        const int32_t *bias32 = NULL;
        if ((st = qlite_q8_params(node, x, "input", &qx)) ||
            (st = qlite_node_check_same_dtype(node, x, "input", y, "output")) ||
            (st = qlite_q8_params(node, y, "output", &qy)) ||
            (st = qlite_q8_bias_init(node, b, l->N, &bias32, &max_bias)) ||
            (st = qlite_q8_check_acc(node, l->K, &wq, max_bias)))
            return st;
        if ((unsigned)l->act >= QLITE_ACT_COUNT)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                    (int)l->act);
        int64_t *dense_sum = NULL;
        if ((st = qlite_spmm_q8_weight_sums(node, &s->w, l->transposed, s->q.zw, &dense_sum,
                                            NULL)))
            return st;
        const int32_t zu = qx.zero_point + (qx.is_signed ? 128 : 0);
        if ((st = qlite_q8_cols_build(node, l->N, &wq, qx.scale, zu, &qy, l->act, bias32,
                                      dense_sum, l->K, &s->cols)))
            return st;
        s->q.flip = qx.is_signed ? 0x80 : 0;
        s->q.cols = &s->cols;
    }
    if ((st = qlite_spmm_q8_init(node, &s->q))) return st;
    node->scratch_bytes = qlite_spmm_q8_scratch_bytes(&s->q);
    return QLITE_OK;
}

qlite_status qlite_sparse_linear_prepare(qlite_node *node, const qlite_sparse_linear *l) {
    const qlite_tensor *x = l->x, *w = l->w;
    if (!w->is_const)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "%s '%s' must be a constant",
                                l->what, w->info->name);
    if (!qlite_sparse_pair_supported(x->dtype, w->dtype))
        return qlite_nn_variant_unsupported(node, x, w);
    sparse_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    qlite_status st = qlite_spw_init(node, w, l->what, &s->w);
    if (st != QLITE_OK) return st;
    if (l->b && (l->b->rank != 1 || (size_t)l->b->dims[0] != l->N))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%zu]",
                                l->b->info->name, l->N);
    if (x->dtype == QLITE_DTYPE_FLOAT32 && w->dtype != QLITE_DTYPE_INT8)
        st = prepare_float(node, l, s);
    else
        st = prepare_q8(node, l, s, x->dtype == QLITE_DTYPE_FLOAT32);
    if (st != QLITE_OK) return st;
    s->eval = sparse_eval;
    node->state = s;
    return QLITE_OK;
}

/* ---- FULLY_CONNECTED ---- */

bool qlite_fc_reads_stored(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                           uint32_t input) {
    if (input != 1 || op->num_inputs < 2) return false;
    const qlite_tensor_info *x = inputs[0], *w = inputs[1];
    return x && qlite_spw_form_supported(w) && w->rank == 2 &&
           qlite_sparse_pair_supported(x->dtype, w->dtype);
}

qlite_status qlite_fc_sparse_prepare(qlite_node *node) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_fc_shape g = {.M = 0};
    qlite_status st = qlite_fc_shape_get(node, &g);
    if (st) return st;
    const qlite_sparse_linear l = {.x = x, .w = w, .b = b, .M = g.M, .N = g.N,
                                   .K = g.K, .w_axis = 0, .act = g.o.activation,
                                   .group_rows = 1, .what = "weights"};
    return qlite_sparse_linear_prepare(node, &l);
}

/* ---- the registry's FULLY_CONNECTED (nn_sparse.h) ---- */

static qlite_status fc_or_sparse_prepare(qlite_node *node) {
    if (node->num_inputs >= 2 && qlite_spw_is_stored(node->inputs[1]))
        return qlite_fc_sparse_prepare(node);
    return qlite_kernel_fully_connected.prepare(node);
}

static qlite_status fc_or_sparse_eval(qlite_node *node) {
    if (node->num_inputs >= 2 && qlite_spw_is_stored(node->inputs[1]))
        return qlite_eval_dispatch(node);
    return qlite_kernel_fully_connected.eval(node);
}

const qlite_kernel qlite_kernel_fully_connected_or_sparse = {
    .prepare = fc_or_sparse_prepare,
    .eval = fc_or_sparse_eval,
    .raw_dense_inputs = 1u << 1, /* as qlite_kernel_fully_connected (test_kernel_sparse checks) */
    .reads_stored = qlite_fc_reads_stored,
    .raw_packed_inputs = 1u << 1, /* as qlite_kernel_fully_connected: O16 / O16I4 in place */
};
