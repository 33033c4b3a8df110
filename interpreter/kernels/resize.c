/*
 * resize.c — RESIZE of H and W of an NHWC tensor, ONNX Resize semantics.
 *
 *   input 0  x  [N, H, W, C]  ->  output y [N, OH, OW, C]
 *   OH = out_h if > 0, else floor(H * scale_h); the scale used by the
 *   coordinate transform is scale_h if given (> 0), else OH / H. Same for W.
 *
 * Output coordinate o -> input coordinate (per axis, in = input length,
 * out = output length, s = scale):
 *   half_pixel           (o + 0.5) / s - 0.5
 *   pytorch_half_pixel   out > 1 ? (o + 0.5) / s - 0.5 : 0
 *   align_corners        out > 1 ? o * (in - 1) / (out - 1) : 0
 *   (out is the resized length: in * scale when the scale is given, as
 *   ONNX defines it, else the output size)
 *   asymmetric           o / s
 *   tf_half_pixel_for_nn (o + 0.5) / s
 * nearest: the coordinate rounded by nearest_mode (round_prefer_floor/ceil
 *   round halves down/up, floor, ceil), clamped to [0, in - 1];
 * linear:  x0 = floor(c), x1 = x0 + 1, weight of x1 = c - x0, both indices
 *   clamped to [0, in - 1] (ONNX's edge padding), bilinear over H and W.
 *
 * Prepare computes both axes' indices and weights once; eval blends whole
 * channel rows (a loop over C the compiler vectorizes), threads over rows.
 */
#include <math.h>

#include "kernels.h"
#include "kernels/quant_params.h"
#include "nn_common.h"
#include "nn_variants.h"
#include "resize_common.h"

typedef struct axis_map {
    int64_t *i0, *i1; /* [out] */
    float *w1;        /* [out] weight of i1 (linear) */
} axis_map;

typedef struct resize_state {
    qlite_eval_fn eval; /* resize_eval_f32 (first: qlite_eval_dispatch) */
    qlite_resize_options o;
    qlite_resize_geometry g;
    axis_map ym, xm;
} resize_state;

/* Input coordinate of output index o on one axis (the table above). */
static double src_coord(qlite_coord_transform ct, int64_t o, int64_t in, double out,
                        double scale) {
    switch (ct) {
    case QLITE_COORD_HALF_PIXEL: return ((double)o + 0.5) / scale - 0.5;
    case QLITE_COORD_PYTORCH_HALF_PIXEL: return out > 1 ? ((double)o + 0.5) / scale - 0.5 : 0.0;
    case QLITE_COORD_ALIGN_CORNERS:
        return out > 1 ? (double)o * (double)(in - 1) / (out - 1.0) : 0.0;
    case QLITE_COORD_ASYMMETRIC: return (double)o / scale;
    case QLITE_COORD_TF_HALF_PIXEL_FOR_NN: return ((double)o + 0.5) / scale;
    default: return 0.0;
    }
}

static int64_t clamp_index(double v, int64_t in) {
    if (!(v > 0.0)) return 0; /* negatives and NaN */
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

/* Source indices and weight of output index i on one axis (resize_common.h). */
void qlite_resize_axis_point(const qlite_resize_options *o, int64_t i, int64_t in, double out,
                             double scale, int64_t *i0, int64_t *i1, float *w1) {
    const double c = src_coord(o->coordinate_transform, i, in, out, scale);
    if (o->mode == QLITE_RESIZE_NEAREST) {
        *i0 = *i1 = nearest_index(o->nearest_mode, c, in);
        *w1 = 0.0f;
        return;
    }
    const double f = floor(c);
    *i0 = clamp_index(f, in);
    *i1 = clamp_index(f + 1.0, in);
    *w1 = (float)(c - f);
}

/* Reference: every output element from the definition, one at a time. */
static void resize_f32_ref(const resize_state *s, const float *x, float *y) {
    const qlite_resize_geometry *g = &s->g;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oy = 0; oy < g->OH; oy++)
            for (int64_t ox = 0; ox < g->OW; ox++) {
                int64_t y0, y1, x0, x1;
                float wy, wx;
                qlite_resize_axis_point(&s->o, oy, g->H, g->lh, g->sh, &y0, &y1, &wy);
                qlite_resize_axis_point(&s->o, ox, g->W, g->lw, g->sw, &x0, &x1, &wx);
                for (int64_t c = 0; c < g->C; c++) {
                    const float *p = x + n * g->H * g->W * g->C + c;
                    const float v00 = p[(y0 * g->W + x0) * g->C], v01 = p[(y0 * g->W + x1) * g->C];
                    const float v10 = p[(y1 * g->W + x0) * g->C], v11 = p[(y1 * g->W + x1) * g->C];
                    const float top = v00 + (v01 - v00) * wx, bot = v10 + (v11 - v10) * wx;
                    y[((n * g->OH + oy) * g->OW + ox) * g->C + c] = top + (bot - top) * wy;
                }
            }
}

typedef struct resize_job {
    const resize_state *s;
    const float *x;
    float *y;
} resize_job;

static void resize_rows(void *arg, size_t begin, size_t end) {
    const resize_job *j = arg;
    const resize_state *s = j->s;
    const qlite_resize_geometry *g = &s->g;
    const size_t C = (size_t)g->C;
    const bool nearest = s->o.mode == QLITE_RESIZE_NEAREST;
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / g->OH, oy = (int64_t)row % g->OH;
        const float *img = j->x + (size_t)(n * g->H * g->W) * C;
        const float *r0 = img + (size_t)(s->ym.i0[oy] * g->W) * C;
        const float *r1 = img + (size_t)(s->ym.i1[oy] * g->W) * C;
        const float wy = s->ym.w1[oy];
        float *out = j->y + row * (size_t)g->OW * C;
        for (int64_t ox = 0; ox < g->OW; ox++, out += C) {
            const size_t a = (size_t)s->xm.i0[ox] * C, b = (size_t)s->xm.i1[ox] * C;
            if (nearest) {
                memcpy(out, r0 + a, C * sizeof(float));
                continue;
            }
            const float wx = s->xm.w1[ox];
            const float *restrict p00 = r0 + a, *restrict p01 = r0 + b;
            const float *restrict p10 = r1 + a, *restrict p11 = r1 + b;
            for (size_t c = 0; c < C; c++) {
                const float top = p00[c] + (p01[c] - p00[c]) * wx;
                const float bot = p10[c] + (p11[c] - p10[c]) * wx;
                out[c] = top + (bot - top) * wy;
            }
        }
    }
}

static qlite_status resize_eval_f32(qlite_node *node) {
    const resize_state *s = node->state;
    resize_job j = {.s = s, .x = node->inputs[0]->data, .y = node->outputs[0]->data};
    if (qlite_node_reference_only(node)) {
        resize_f32_ref(s, j.x, j.y);
        return QLITE_OK;
    }
    qlite_parallel_for(node, (size_t)(s->g.N * s->g.OH), resize_rows, &j);
    return QLITE_OK;
}

static qlite_status build_axis(qlite_node *node, const resize_state *s, axis_map *m, int64_t in,
                               int64_t out, double len, double scale) {
    m->i0 = qlite_node_alloc(node, (size_t)out * sizeof(int64_t));
    m->i1 = qlite_node_alloc(node, (size_t)out * sizeof(int64_t));
    m->w1 = qlite_node_alloc(node, (size_t)out * sizeof(float));
    if (!m->i0 || !m->i1 || !m->w1)
        return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < out; i++)
        qlite_resize_axis_point(&s->o, i, in, len, scale, &m->i0[i], &m->i1[i], &m->w1[i]);
    return QLITE_OK;
}

qlite_status qlite_resize_geometry_init(qlite_node *node, const qlite_resize_options *o,
                                        const qlite_tensor *x, qlite_resize_geometry *g) {
    if ((unsigned)o->mode >= QLITE_RESIZE_MODE_COUNT ||
        (unsigned)o->coordinate_transform >= QLITE_COORD_COUNT ||
        (unsigned)o->nearest_mode >= QLITE_NEAREST_COUNT)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "bad mode %d / coordinate transform %d / nearest mode %d",
                                (int)o->mode, (int)o->coordinate_transform, (int)o->nearest_mode);
    g->N = x->dims[0], g->H = x->dims[1], g->W = x->dims[2], g->C = x->dims[3];
    if (!(o->scale_h >= 0.0f) || !(o->scale_w >= 0.0f) || !isfinite(o->scale_h) ||
        !isfinite(o->scale_w) || o->out_h < 0 || o->out_w < 0)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad sizes or scales");
    g->OH = o->out_h > 0 ? o->out_h : (int64_t)floor((double)g->H * o->scale_h);
    g->OW = o->out_w > 0 ? o->out_w : (int64_t)floor((double)g->W * o->scale_w);
    if (g->OH < 1 || g->OW < 1 || g->H < 1 || g->W < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "resizing %lldx%lld to %lldx%lld: every size must be >= 1",
                                (long long)g->H, (long long)g->W, (long long)g->OH,
                                (long long)g->OW);
    g->sh = o->scale_h > 0.0f ? (double)o->scale_h : (double)g->OH / (double)g->H;
    g->sw = o->scale_w > 0.0f ? (double)o->scale_w : (double)g->OW / (double)g->W;
    /* ONNX: with scales given, the "resized length" in the transforms is
     * in * scale, not its floor (align_corners divides by it minus 1) */
    g->lh = o->scale_h > 0.0f ? (double)g->H * g->sh : (double)g->OH;
    g->lw = o->scale_w > 0.0f ? (double)g->W * g->sw : (double)g->OW;
    return qlite_node_set_output_shape(node, 0, 4, (int64_t[]){g->N, g->OH, g->OW, g->C});
}

static qlite_status resize_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    if (node->opts->type != QLITE_OPTIONS_RESIZE)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Resize");
    /* Variants by dtype: int8/uint8 in resize_q8.c */
    switch (x->dtype) {
    case QLITE_DTYPE_FLOAT32: break;
    case QLITE_DTYPE_INT8:
    case QLITE_DTYPE_UINT8: return qlite_resize_q8_prepare(node);
    default:
        return qlite_node_error(node, QLITE_ERR_DTYPE, "input '%s' is %s", x->info->name,
                                qlite_dtype_name(x->dtype));
    }
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", x->dtype)) ||
        (st = qlite_nn_check_rank(node, x, "input", 4)))
        return st;
    resize_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = resize_eval_f32;
    s->o = node->opts->u.resize;
    const qlite_resize_geometry *g = &s->g;
    if ((st = qlite_resize_geometry_init(node, &s->o, x, &s->g)) ||
        (st = build_axis(node, s, &s->ym, g->H, g->OH, g->lh, g->sh)) ||
        (st = build_axis(node, s, &s->xm, g->W, g->OW, g->lw, g->sw)))
        return st;
    node->state = s;
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_resize = {
    .prepare = resize_prepare,
    .eval = qlite_eval_dispatch,
};
