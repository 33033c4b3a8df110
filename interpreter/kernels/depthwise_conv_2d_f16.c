/*
 * depthwise_conv_2d_f16.c — DEPTHWISE_CONV_2D with float16 weights
 * [1, KH, KW, C * M] (docs/quantization.md §7): float32 input, bias and
 * output, depthwise_conv_2d.c's definition with the weights widened.
 *
 * The weights of one invoke are converted once into a float panel in
 * scratch (KH * KW * C * M floats, as a GEMM packs its panel; nothing is
 * kept between invokes), then the float32 kernel's rows run on it
 * (depthwise_conv_2d_f32.h: AVX-512 / AVX2 / NEON, portable otherwise), so
 * the result is the float32 kernel's on the widened weights.
 */
#include "kernels/depthwise_conv_2d_f32.h"
#include "kernels/gemm_f16.h"
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

typedef struct dw16_state {
    qlite_eval_fn eval; /* must stay first (qlite_eval_dispatch) */
    qlite_conv_geom g;
    float lo, hi;
    qlite_dw_f32_plan plan; /* the float32 rows on the widened panel */
} dw16_state;

static void dw16_ref(const dw16_state *s, const float *x, const uint16_t *w, const float *b,
                     float *y) {
    const qlite_conv_geom *g = &s->g;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oy = 0; oy < g->OH; oy++)
            for (int64_t ox = 0; ox < g->OW; ox++)
                for (int64_t oc = 0; oc < g->O; oc++) {
                    float acc = b ? b[oc] : 0.0f;
                    for (int64_t ky = 0; ky < g->KH; ky++) {
                        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        if (iy < 0 || iy >= g->H) continue;
                        for (int64_t kx = 0; kx < g->KW; kx++) {
                            const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                            if (ix < 0 || ix >= g->W) continue;
                            acc += x[((n * g->H + iy) * g->W + ix) * g->C + oc / g->M] *
                                   qlite_fp16_to_fp32(w[(ky * g->KW + kx) * g->O + oc]);
                        }
                    }
                    y[((n * g->OH + oy) * g->OW + ox) * g->O + oc] =
                        qlite_clampf(acc, s->lo, s->hi);
                }
}

static qlite_status dw16_eval(qlite_node *node) {
    const dw16_state *s = node->state;
    const qlite_conv_geom *g = &s->g;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    const uint16_t *w16 = node->inputs[1]->data;
    const float *x = node->inputs[0]->data, *b = bt ? bt->data : NULL;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) {
        dw16_ref(s, x, w16, b, y);
        return QLITE_OK;
    }
    float *panel = node->scratch;
    qlite_f16_to_f32_row(w16, panel, (size_t)(g->KH * g->KW * g->O));
    qlite_dw_f32_run(node, &s->plan, x, panel, b, y);
    return QLITE_OK;
}

qlite_status qlite_dw_f16_prepare(qlite_node *node) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_status st;
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) ||
        (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))))
        return st;
    dw16_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if ((st = qlite_conv_geom_init(node, QLITE_CONV_DEPTHWISE, x, w, b, &s->g))) return st;
    if (!qlite_nn_activation(s->g.act, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)s->g.act);
    s->eval = dw16_eval;
    const qlite_conv_geom *g = &s->g;
    s->plan = (qlite_dw_f32_plan){.N = g->N, .H = g->H, .W = g->W, .C = g->C, .M = g->M,
                                  .KH = g->KH, .KW = g->KW, .OH = g->OH, .OW = g->OW,
                                  .OC = g->O, .sh = g->sh, .sw = g->sw, .dh = g->dh,
                                  .dw = g->dw, .pt = g->pt, .pl = g->pl, .lo = s->lo,
                                  .hi = s->hi};
    qlite_dw_f32_plan_select(&s->plan);
    node->scratch_bytes = (size_t)(s->g.KH * s->g.KW * s->g.O) * sizeof(float);
    node->state = s;
    return QLITE_OK;
}
