/*
 * resize_q8.c — RESIZE of H and W on int8 / uint8 NHWC tensors, input and
 * output with the same dtype and quantization. Coordinates exactly as
 * resize.c computes them (ONNX Resize: the coordinate transforms, the
 * nearest modes, the clamping to the edge): both take the geometry and the
 * source taps from resize_common.h.
 *
 *   nearest  the byte of the selected input pixel (no arithmetic);
 *   linear   per axis the weight of the second tap w1 = c - floor(c) as
 *            L = floor(w1 * 1024 + 0.5) in [0, 1024] (10 fraction bits),
 *            then on the codes q (values of the dtype):
 *              v = (q00 (1024 - Lx) + q01 Lx) (1024 - Ly)
 *                + (q10 (1024 - Lx) + q11 Lx) Ly          (exact, |v| < 2^28)
 *              y = rdiv(v, 2^20), rounding half away from zero.
 *            The weights sum to 2^20, so the zero point passes through:
 *            this is the interpolation of the real values up to the weight
 *            quantization (|error of a weight| <= 2^-11) and one rounding.
 */
#include <math.h>

#include "kernels/nn_common.h"
#include "kernels/nn_variants.h"
#include "kernels/quant_params.h"
#include "kernels/resize_common.h"

#define RQ_BITS 10
#define RQ_ONE (1 << RQ_BITS)

typedef struct rq_axis {
    int64_t *i0, *i1;  /* [out] */
    int32_t *l1;       /* [out] weight of i1 in 1/1024 */
} rq_axis;

typedef struct resizeq_state {
    qlite_eval_fn eval; /* must stay first (qlite_eval_dispatch) */
    qlite_resize_options o;
    qlite_resize_geometry g;
    bool is_signed;
    rq_axis ym, xm;
} resizeq_state;

/* The taps of resize.c, with the weight of the second one as L in 1/1024. */
static qlite_status build_axis(qlite_node *node, const qlite_resize_options *o, rq_axis *m,
                               int64_t in, int64_t out, double len, double scale) {
    m->i0 = qlite_node_alloc(node, (size_t)out * sizeof(int64_t));
    m->i1 = qlite_node_alloc(node, (size_t)out * sizeof(int64_t));
    m->l1 = qlite_node_alloc(node, (size_t)out * sizeof(int32_t));
    if (!m->i0 || !m->i1 || !m->l1)
        return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < out; i++) {
        float w1; /* resize.c's float weight; 0 for nearest */
        qlite_resize_axis_point(o, i, in, len, scale, &m->i0[i], &m->i1[i], &w1);
        m->l1[i] = (int32_t)floor((double)w1 * RQ_ONE + 0.5);
    }
    return QLITE_OK;
}

/* ---- eval ---- */

static inline int32_t rdiv_pot_away(int32_t v, int bits) {
    const int32_t half = 1 << (bits - 1);
    return v >= 0 ? (v + half) >> bits : -((-v + half) >> bits);
}

typedef struct resizeq_job {
    const resizeq_state *s;
    const uint8_t *x;
    uint8_t *y;
} resizeq_job;

static void resize_rows(void *arg, size_t begin, size_t end) {
    const resizeq_job *j = arg;
    const resizeq_state *s = j->s;
    const qlite_resize_geometry *g = &s->g;
    const size_t C = (size_t)g->C;
    const bool nearest = s->o.mode == QLITE_RESIZE_NEAREST;
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / g->OH, oy = (int64_t)row % g->OH;
        const uint8_t *img = j->x + (size_t)(n * g->H * g->W) * C;
        const uint8_t *r0 = img + (size_t)(s->ym.i0[oy] * g->W) * C;
        const uint8_t *r1 = img + (size_t)(s->ym.i1[oy] * g->W) * C;
        const int32_t ly = s->ym.l1[oy];
        uint8_t *out = j->y + row * (size_t)g->OW * C;
        for (int64_t ox = 0; ox < g->OW; ox++, out += C) {
            const size_t a = (size_t)s->xm.i0[ox] * C, b = (size_t)s->xm.i1[ox] * C;
            if (nearest) {
                memcpy(out, r0 + a, C);
                continue;
            }
            const int32_t lx = s->xm.l1[ox];
            for (size_t c = 0; c < C; c++) {
                const int32_t q00 = qlite_q8_decode(r0[a + c], s->is_signed);
                const int32_t q01 = qlite_q8_decode(r0[b + c], s->is_signed);
                const int32_t q10 = qlite_q8_decode(r1[a + c], s->is_signed);
                const int32_t q11 = qlite_q8_decode(r1[b + c], s->is_signed);
                const int32_t top = q00 * (RQ_ONE - lx) + q01 * lx;
                const int32_t bot = q10 * (RQ_ONE - lx) + q11 * lx;
                const int32_t v = top * (RQ_ONE - ly) + bot * ly;
                out[c] = (uint8_t)rdiv_pot_away(v, 2 * RQ_BITS);
            }
        }
    }
}

static qlite_status resizeq_eval(qlite_node *node) {
    const resizeq_state *s = node->state;
    resizeq_job j = {.s = s, .x = node->inputs[0]->data, .y = node->outputs[0]->data};
    /* one readable implementation serves as reference and optimized path */
    qlite_kernel_parallel(node, (size_t)(s->g.N * s->g.OH), (size_t)(s->g.OW * s->g.C) * 4,
                          resize_rows, &j);
    return QLITE_OK;
}

qlite_status qlite_resize_q8_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    if (node->opts->type != QLITE_OPTIONS_RESIZE)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Resize");
    qlite_q8 qx, qy;
    if ((st = qlite_q8_params(node, x, "input", &qx)) ||
        (st = qlite_node_check_same_dtype(node, x, "input", y, "output")) ||
        (st = qlite_q8_params(node, y, "output", &qy)) ||
        (st = qlite_node_check_same_qparams(node, x, "input", y, "output")) ||
        (st = qlite_nn_check_rank(node, x, "input", 4)))
        return st;
    resizeq_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->o = node->opts->u.resize;
    const qlite_resize_options *o = &s->o;
    const qlite_resize_geometry *g = &s->g;
    if ((st = qlite_resize_geometry_init(node, o, x, &s->g))) return st;
    if (o->mode != QLITE_RESIZE_NEAREST && o->mode != QLITE_RESIZE_LINEAR)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "only nearest and linear resizing have an integer kernel");
    if ((st = build_axis(node, o, &s->ym, g->H, g->OH, g->lh, g->sh)) ||
        (st = build_axis(node, o, &s->xm, g->W, g->OW, g->lw, g->sw)))
        return st;
    s->is_signed = qx.is_signed;
    s->eval = resizeq_eval;
    node->state = s;
    return QLITE_OK;
}
