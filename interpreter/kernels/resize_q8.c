/*
 * resize_q8.c — RESIZE of H and W on int8 / uint8 NHWC tensors, input and
 * output with the same dtype and quantization. Coordinates exactly as
 * resize.c computes them (ONNX Resize: the coordinate transforms, the
 * nearest modes, the clamping to the edge); the mapping below mirrors its
 * src_coord / nearest_index / axis_point.
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

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

#define RQ_BITS 10
#define RQ_ONE (1 << RQ_BITS)

typedef struct rq_axis {
    int64_t *i0, *i1;  /* [out] */
    int32_t *l1;       /* [out] weight of i1 in 1/1024 */
} rq_axis;

typedef struct resizeq_state {
    qlite_eval_fn eval; /* must stay first (qlite_eval_dispatch) */
    qlite_resize_options o;
    int64_t N, H, W, C, OH, OW;
    double sh, sw;
    bool is_signed;
    rq_axis ym, xm;
} resizeq_state;

/* ---- coordinates (as resize.c) ---- */

static double src_coord(qlite_coord_transform ct, int64_t o, int64_t in, int64_t out,
                        double scale) {
    switch (ct) {
    case QLITE_COORD_HALF_PIXEL: return ((double)o + 0.5) / scale - 0.5;
    case QLITE_COORD_PYTORCH_HALF_PIXEL: return out > 1 ? ((double)o + 0.5) / scale - 0.5 : 0.0;
    case QLITE_COORD_ALIGN_CORNERS:
        return out > 1 ? (double)o * (double)(in - 1) / (double)(out - 1) : 0.0;
    case QLITE_COORD_ASYMMETRIC: return (double)o / scale;
    case QLITE_COORD_TF_HALF_PIXEL_FOR_NN: return ((double)o + 0.5) / scale;
    default: return 0.0;
    }
}

static int64_t clamp_index(double v, int64_t in) {
    if (!(v > 0.0)) return 0;
    if (v >= (double)(in - 1)) return in - 1;
    return (int64_t)v;
}

static int64_t nearest_index(qlite_nearest_mode m, double c, int64_t in) {
    double r;
    switch (m) {
    case QLITE_NEAREST_ROUND_PREFER_FLOOR: r = c - floor(c) == 0.5 ? floor(c) : round(c); break;
    case QLITE_NEAREST_ROUND_PREFER_CEIL: r = c - floor(c) == 0.5 ? ceil(c) : round(c); break;
    case QLITE_NEAREST_FLOOR: r = floor(c); break;
    default: r = ceil(c); break;
    }
    return clamp_index(r, in);
}

static qlite_status build_axis(qlite_node *node, const qlite_resize_options *o, rq_axis *m,
                               int64_t in, int64_t out, double scale) {
    m->i0 = qlite_node_alloc(node, (size_t)out * sizeof(int64_t));
    m->i1 = qlite_node_alloc(node, (size_t)out * sizeof(int64_t));
    m->l1 = qlite_node_alloc(node, (size_t)out * sizeof(int32_t));
    if (!m->i0 || !m->i1 || !m->l1)
        return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < out; i++) {
        const double c = src_coord(o->coordinate_transform, i, in, out, scale);
        if (o->mode == QLITE_RESIZE_NEAREST) {
            m->i0[i] = m->i1[i] = nearest_index(o->nearest_mode, c, in);
            m->l1[i] = 0;
            continue;
        }
        const double f = floor(c);
        m->i0[i] = clamp_index(f, in);
        m->i1[i] = clamp_index(f + 1.0, in);
        const float w1 = (float)(c - f); /* resize.c's float weight */
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
    const size_t C = (size_t)s->C;
    const bool nearest = s->o.mode == QLITE_RESIZE_NEAREST;
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / s->OH, oy = (int64_t)row % s->OH;
        const uint8_t *img = j->x + (size_t)(n * s->H * s->W) * C;
        const uint8_t *r0 = img + (size_t)(s->ym.i0[oy] * s->W) * C;
        const uint8_t *r1 = img + (size_t)(s->ym.i1[oy] * s->W) * C;
        const int32_t ly = s->ym.l1[oy];
        uint8_t *out = j->y + row * (size_t)s->OW * C;
        for (int64_t ox = 0; ox < s->OW; ox++, out += C) {
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
    qlite_kernel_parallel(node, (size_t)(s->N * s->OH), (size_t)(s->OW * s->C) * 4, resize_rows,
                          &j);
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
    if ((unsigned)o->mode >= QLITE_RESIZE_MODE_COUNT ||
        (unsigned)o->coordinate_transform >= QLITE_COORD_COUNT ||
        (unsigned)o->nearest_mode >= QLITE_NEAREST_COUNT)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "bad mode %d / coordinate transform %d / nearest mode %d",
                                (int)o->mode, (int)o->coordinate_transform, (int)o->nearest_mode);
    if (o->mode != QLITE_RESIZE_NEAREST && o->mode != QLITE_RESIZE_LINEAR)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "only nearest and linear resizing have an integer kernel");
    s->N = x->dims[0], s->H = x->dims[1], s->W = x->dims[2], s->C = x->dims[3];
    if (!(o->scale_h >= 0.0f) || !(o->scale_w >= 0.0f) || !isfinite(o->scale_h) ||
        !isfinite(o->scale_w) || o->out_h < 0 || o->out_w < 0)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad sizes or scales");
    s->OH = o->out_h > 0 ? o->out_h : (int64_t)floor((double)s->H * o->scale_h);
    s->OW = o->out_w > 0 ? o->out_w : (int64_t)floor((double)s->W * o->scale_w);
    if (s->OH < 1 || s->OW < 1 || s->H < 1 || s->W < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "resizing %lldx%lld to %lldx%lld: every size must be >= 1",
                                (long long)s->H, (long long)s->W, (long long)s->OH,
                                (long long)s->OW);
    s->sh = o->scale_h > 0.0f ? (double)o->scale_h : (double)s->OH / (double)s->H;
    s->sw = o->scale_w > 0.0f ? (double)o->scale_w : (double)s->OW / (double)s->W;
    if ((st = qlite_node_set_output_shape(node, 0, 4, (int64_t[]){s->N, s->OH, s->OW, s->C})))
        return st;
    if ((st = build_axis(node, o, &s->ym, s->H, s->OH, s->sh)) ||
        (st = build_axis(node, o, &s->xm, s->W, s->OW, s->sw)))
        return st;
    s->is_signed = qx.is_signed;
    s->eval = resizeq_eval;
    node->state = s;
    return QLITE_OK;
}
