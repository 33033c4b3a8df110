/*
 * fully_connected.c — FULLY_CONNECTED: y = act(x W^T + b).
 *
 *   input 0  x  [..., I]      activations
 *   input 1  W  [O, I]        weights (constant or not)
 *   input 2  b  [O]           optional (-1 = absent)
 *   output   y  [..., O] (keep_num_dims) or [prod(...), O]
 *
 * Variants by (input dtype, weight dtype): float32 x float32 and float32 x
 * float16 (constant) here, on the O16 GEMM (gemm_f32.h): a constant W is
 * read in the O16 layout in place when the converter stored it so, else
 * packed into O16 once at prepare (packed_weights.h); a W given at eval is
 * packed into scratch per call and runs the same micro-kernel, so both give
 * the same bits. int8, hybrid and non-constant float16 weights go to
 * qlite_fc_variants_prepare.
 */
#include "gemm_f16.h"
#include "gemm_f32.h"
#include "kernels.h"
#include "nn_common.h"
#include "nn_variants.h"
#include "packed_weights.h"

typedef struct fc_state {
    qlite_status (*eval)(qlite_node *node); /* the variant prepare chose */
    const qlite_gemm_f32_ukernel *uk;
    size_t M, N, K;
    float lo, hi;
    qlite_o16_weights wo; /* constant float32/float16 W in O16 (packed_weights.h) */
} fc_state;

/* Reference on O16 weights: the same loop as fc_f32_ref. */
static void fc_o16_ref(const fc_state *s, const float *x, const float *b, float *y) {
    for (size_t m = 0; m < s->M; m++) {
        for (size_t o = 0; o < s->N; o++) {
            float acc = b ? b[o] : 0.0f;
            for (size_t i = 0; i < s->K; i++)
                acc += x[m * s->K + i] * qlite_o16_at(s->wo.data, s->wo.half, s->K, o, i);
            y[m * s->N + o] = qlite_clampf(acc, s->lo, s->hi);
        }
    }
}

/* Constant float32 / float16 weights: the 16-column panels of O16, read in
 * place from the model or packed once at prepare (never per invoke). */
static qlite_status fc_eval_o16(qlite_node *node) {
    const fc_state *s = node->state;
    const float *x = node->inputs[0]->data;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    const float *b = bt ? bt->data : NULL;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) {
        fc_o16_ref(s, x, b, y);
        return QLITE_OK;
    }
    qlite_gemm_f32_args g = {.M = s->M, .N = s->N, .K = s->K, .a = x, .rsa = s->K, .csa = 1,
                             .bias = b, .c = y, .ldc = s->N, .lo = s->lo, .hi = s->hi};
    /* float16: the fast half GEMM (gemm_f16.h), the float32 one's sums */
    if (!s->wo.half || !qlite_gemm_f16_run_o16_fast(node, &g, s->wo.data,
                                                       node->scratch_bytes ? node->scratch : NULL))
        qlite_gemm_f32_run_o16(node, s->uk, &g, s->wo.data, s->wo.half);
    return QLITE_OK;
}

/* Reference: one dot product per output, in order. */
static void fc_f32_ref(const fc_state *s, const float *x, const float *w, const float *b,
                       float *y) {
    for (size_t m = 0; m < s->M; m++) {
        for (size_t o = 0; o < s->N; o++) {
            float acc = b ? b[o] : 0.0f;
            for (size_t i = 0; i < s->K; i++) acc += x[m * s->K + i] * w[o * s->K + i];
            y[m * s->N + o] = qlite_clampf(acc, s->lo, s->hi);
        }
    }
}

static qlite_status fc_eval_f32(qlite_node *node) {
    const fc_state *s = node->state;
    const float *x = node->inputs[0]->data, *w = node->inputs[1]->data;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    const float *b = bt ? bt->data : NULL;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) {
        fc_f32_ref(s, x, w, b, y);
        return QLITE_OK;
    }
    /* W changes per call: O16 panels in scratch, then the constant path's
     * micro-kernel (the same summation order, so the same result) */
    float *panels = node->scratch;
    qlite_gemm_o16_pack_f32(s->K, s->N, w, s->K, true, panels);
    qlite_gemm_f32_args g = {.M = s->M, .N = s->N, .K = s->K, .a = x, .rsa = s->K, .csa = 1,
                             .bias = b, .c = y, .ldc = s->N, .lo = s->lo, .hi = s->hi};
    qlite_gemm_f32_run_o16(node, s->uk, &g, panels, false);
    return QLITE_OK;
}

static qlite_status fc_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_status (*eval)(qlite_node *) = NULL;
    switch (QLITE_NN_PAIR(x->dtype, w->dtype)) {
    case QLITE_NN_F32_F32: eval = w->is_const && w->data ? fc_eval_o16 : fc_eval_f32; break;
    case QLITE_NN_PAIR(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_FLOAT16):
        if (w->is_const && w->data) {
            eval = fc_eval_o16;
            break;
        }
        return qlite_fc_variants_prepare(node);
    default: return qlite_fc_variants_prepare(node); /* int8, hybrid */
    }
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) ||
        (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))))
        return st;
    qlite_fc_shape g = {.M = 0};
    if ((st = qlite_fc_shape_get(node, &g))) return st;
    const qlite_fully_connected_options o = g.o;
    const int64_t N = (int64_t)g.N;
    if (b && (b->rank != 1 || b->dims[0] != N))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%lld]", b->info->name,
                                (long long)N);
    fc_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if (!qlite_nn_activation(o.activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o.activation);
    s->K = g.K;
    s->N = g.N;
    s->M = g.M;
    s->eval = eval;
    s->uk = qlite_gemm_f32_select_o16();
    if (eval == fc_eval_o16) {
        if ((st = qlite_o16_weights_get(node, w, "weights", 1, s->N, s->K, &s->wo))) return st;
        /* float16 on many rows: the half GEMM's widening buffers (one per thread) */
        node->scratch_bytes =
            s->wo.half ? qlite_gemm_f16_wbuf_bytes(s->M, (size_t)qlite_node_threads(node)) : 0;
    } else {
        node->scratch_bytes = (qlite_gemm_o16_elems(s->K, s->N) + 16) * sizeof(float);
    }
    node->state = s;
    return QLITE_OK;
}

static qlite_status fc_eval(qlite_node *node) {
    return ((const fc_state *)node->state)->eval(node);
}

const qlite_kernel qlite_kernel_fully_connected = {
    .prepare = fc_prepare,
    .eval = fc_eval,
    .raw_dense_inputs = 1u << 1,  /* float16 weights read in place */
    .raw_packed_inputs = 1u << 1, /* O16 / O16I4 weights read in place */
};
