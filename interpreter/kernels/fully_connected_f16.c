/*
 * fully_connected_f16.c — FULLY_CONNECTED with float16 weights W [N, K]
 * read in place (docs/quantization.md §7): float32 input, bias and output,
 * y = act(x W^T + b) with every weight widened as it is loaded
 * (gemm_f16.h). The reference path widens one weight at a time.
 */
#include "kernels/gemm_f16.h"
#include "kernels/nn_common.h"
#include "kernels/nn_variants.h"
#include "kernels/quant_params.h"

typedef struct fc16_state {
    qlite_eval_fn eval; /* must stay first (qlite_eval_dispatch) */
    const qlite_gemm_f32_ukernel *uk;
    size_t M, N, K;
    float lo, hi;
} fc16_state;

static void fc16_ref(const fc16_state *s, const float *x, const uint16_t *w, const float *b,
                     float *y) {
    for (size_t m = 0; m < s->M; m++)
        for (size_t n = 0; n < s->N; n++) {
            float acc = b ? b[n] : 0.0f;
            for (size_t k = 0; k < s->K; k++)
                acc += x[m * s->K + k] * qlite_fp16_to_fp32(w[n * s->K + k]);
            y[m * s->N + n] = qlite_clampf(acc, s->lo, s->hi);
        }
}

static qlite_status fc16_eval(qlite_node *node) {
    const fc16_state *s = node->state;
    const float *x = node->inputs[0]->data;
    const uint16_t *w = node->inputs[1]->data;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    const float *b = bt ? bt->data : NULL;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) {
        fc16_ref(s, x, w, b, y);
        return QLITE_OK;
    }
    const qlite_gemm_f16w_args g = {.M = s->M, .N = s->N, .K = s->K, .a = x, .rsa = s->K,
                                    .csa = 1, .b = w, .ldb = s->K, .b_trans = true, .bias = b,
                                    .c = y, .ldc = s->N, .lo = s->lo, .hi = s->hi};
    qlite_gemm_f16w_run(node, s->uk, &g, node->scratch);
    return QLITE_OK;
}

qlite_status qlite_fc_f16_prepare(qlite_node *node) {
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_status st;
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
    fc16_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if (!qlite_nn_activation(o.activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o.activation);
    s->K = g.K;
    s->N = g.N;
    s->M = g.M;
    s->eval = fc16_eval;
    s->uk = qlite_gemm_f32_select_for(s->N);
    node->scratch_bytes = qlite_gemm_f16w_scratch_bytes(s->uk, s->M, s->N, s->K,
                                                        (size_t)qlite_node_threads(node));
    node->state = s;
    return QLITE_OK;
}
