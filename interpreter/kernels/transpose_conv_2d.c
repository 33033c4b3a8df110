/*
 * transpose_conv_2d.c — TRANSPOSE_CONV_2D, NHWC, ONNX ConvTranspose semantics.
 *
 *   input 0  x  [N, H, W, C]
 *   input 1  w  [O, KH, KW, C / groups]   (ONNX [C, O/groups, KH, KW], re-laid
 *                                          out by the converter)
 *   input 2  b  [O]                        optional
 *   output   y  [N, OH, OW, O]
 *   OH = sh * (H - 1) + output_pad_h + ((KH - 1) * dh + 1) - pt - pb
 *
 * Input pixel (iy, ix) tap (ky, kx) lands on output (iy*sh - pt + ky*dh,
 * ix*sw - pl + kx*dw):
 *   y[n,oy,ox,o] = act(b[o] + sum over (iy,ky) with iy*sh - pt + ky*dh = oy,
 *                   (ix,kx) likewise, c < Cg of x[n,iy,ix,g*Cg+c] * w[o,ky,kx,c]),
 *   g = o / (O / groups).
 *
 * Optimized float32 path: the gather form of that sum. For each output pixel
 * a patch row [ky][kx][c] holds x at the input pixel that tap reaches (or
 * zero when (oy + pt - ky*dh) is not a multiple of sh or falls outside), so
 * a tile of output pixels is one GEMM against the weights ([O, KH*KW*Cg] per
 * group), like conv_2d.c's im2col path; threads take tiles. The weights are
 * read in the O16 layout (packed_weights.h), `groups` matrices [O/groups,
 * KH*KW*Cg]: the model's bytes when the converter stored them so (one
 * group, or groups of a multiple of 16 channels), else packed once at
 * prepare (constants) or per invoke into scratch; the reference reads the
 * same O16 bytes.
 */
#include "gemm_f32.h"
#include "kernels.h"
#include "nn_common.h"
#include "nn_variants.h"
#include "packed_weights.h"

QLITE_NN_OPTIMIZE_LOOPS

typedef struct tconv_state {
    qlite_status (*eval)(qlite_node *node);
    const qlite_gemm_f32_ukernel *uk;
    int64_t N, H, W, C, O, KH, KW, OH, OW;
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t groups, Cg, Og, K;
    float lo, hi;
    size_t tile_rows, packed_floats, tile_floats;
    int threads;
    qlite_o16_weights w16;     /* constant: `groups` O16 matrices [Og, K], or data NULL */
} tconv_state;

/* Input index reached by output index o through tap k, or -1. */
static inline int64_t tap_source(int64_t o, int64_t k, int64_t s, int64_t d, int64_t pad,
                                 int64_t in) {
    const int64_t v = o + pad - k * d;
    if (v < 0 || v % s != 0) return -1;
    return v / s < in ? v / s : -1;
}

/* Reference: scatter every input pixel's contribution, then bias and clamp. */
/* w[o][ky][kx][c] of row-major weights, or of the O16 form when s->w16.data. */
static float tconv_w(const tconv_state *s, const float *w, int64_t o, int64_t ky, int64_t kx,
                     int64_t c) {
    const int64_t k = (ky * s->KW + kx) * s->Cg + c;
    if (!s->w16.data) return w[o * s->K + k];
    const int64_t g = o / s->Og;
    return qlite_o16_at((const float *)s->w16.data + (size_t)g * s->w16.mat_elems, false,
                        (size_t)s->K, (size_t)(o - g * s->Og), (size_t)k);
}

static void tconv_f32_ref(const tconv_state *s, const float *x, const float *w, const float *b,
                          float *y) {
    const size_t ny = (size_t)(s->N * s->OH * s->OW * s->O);
    for (size_t i = 0; i < ny; i++) y[i] = b ? b[i % (size_t)s->O] : 0.0f;
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t iy = 0; iy < s->H; iy++)
            for (int64_t ix = 0; ix < s->W; ix++)
                for (int64_t ky = 0; ky < s->KH; ky++)
                    for (int64_t kx = 0; kx < s->KW; kx++) {
                        const int64_t oy = iy * s->sh - s->pt + ky * s->dh;
                        const int64_t ox = ix * s->sw - s->pl + kx * s->dw;
                        if (oy < 0 || oy >= s->OH || ox < 0 || ox >= s->OW) continue;
                        for (int64_t o = 0; o < s->O; o++) {
                            const int64_t g = o / s->Og;
                            float acc = 0.0f;
                            for (int64_t c = 0; c < s->Cg; c++)
                                acc += x[((n * s->H + iy) * s->W + ix) * s->C + g * s->Cg + c] *
                                       tconv_w(s, w, o, ky, kx, c);
                            y[((n * s->OH + oy) * s->OW + ox) * s->O + o] += acc;
                        }
                    }
    for (size_t i = 0; i < ny; i++) y[i] = qlite_clampf(y[i], s->lo, s->hi);
}

/* Patch rows of output pixels [p0, p0 + rows), group g, into col [rows, K]. */
static void gather(const tconv_state *s, const float *x, int64_t g, size_t p0, size_t rows,
                   float *col) {
    const size_t Cg = (size_t)s->Cg;
    for (size_t r = 0; r < rows; r++) {
        const int64_t p = (int64_t)(p0 + r);
        const int64_t n = p / (s->OH * s->OW), rem = p % (s->OH * s->OW);
        const int64_t oy = rem / s->OW, ox = rem % s->OW;
        float *dst = col + r * (size_t)s->K;
        for (int64_t ky = 0; ky < s->KH; ky++) {
            const int64_t iy = tap_source(oy, ky, s->sh, s->dh, s->pt, s->H);
            for (int64_t kx = 0; kx < s->KW; kx++, dst += Cg) {
                const int64_t ix = iy < 0 ? -1 : tap_source(ox, kx, s->sw, s->dw, s->pl, s->W);
                if (ix < 0) {
                    for (size_t c = 0; c < Cg; c++) dst[c] = 0.0f;
                } else {
                    const float *src = x + ((n * s->H + iy) * s->W + ix) * s->C + g * s->Cg;
                    for (size_t c = 0; c < Cg; c++) dst[c] = src[c];
                }
            }
        }
    }
}

typedef struct tconv_job {
    const tconv_state *s;
    const float *x, *w, *b;
    float *y, *packed, *tiles;
} tconv_job;

static void pack_range(void *arg, size_t begin, size_t end) {
    const tconv_job *j = arg;
    const tconv_state *s = j->s;
    const size_t nr = s->uk->nr, panels = (size_t)(s->Og + (int64_t)nr - 1) / nr;
    for (size_t i = begin; i < end; i++) {
        const size_t g = i / panels, p = i % panels;
        qlite_gemm_f32_pack_b(s->uk, (size_t)s->K, (size_t)s->Og,
                              j->w + g * (size_t)(s->Og * s->K), (size_t)s->K, true, p, p + 1,
                              j->packed + g * s->packed_floats);
    }
}

static void tiles_range(void *arg, size_t begin, size_t end) {
    const tconv_job *j = arg;
    const tconv_state *s = j->s;
    const size_t P = (size_t)(s->N * s->OH * s->OW);
    const size_t ntiles = (P + s->tile_rows - 1) / s->tile_rows;
    for (size_t t = begin; t < end; t++) {
        float *col = j->tiles + t * s->tile_floats;
        size_t tb, te;
        qlite_nn_split(ntiles, (size_t)s->threads, t, &tb, &te);
        for (size_t tile = tb; tile < te; tile++) {
            const size_t p0 = tile * s->tile_rows;
            const size_t rows = P - p0 < s->tile_rows ? P - p0 : s->tile_rows;
            for (int64_t g = 0; g < s->groups; g++) {
                gather(s, j->x, g, p0, rows, col);
                qlite_gemm_f32_packed(s->uk, rows, (size_t)s->Og, (size_t)s->K, col,
                                      (size_t)s->K, 1, j->packed + (size_t)g * s->packed_floats,
                                      j->b ? j->b + g * s->Og : NULL,
                                      j->y + p0 * (size_t)s->O + (size_t)(g * s->Og),
                                      (size_t)s->O, s->lo, s->hi);
            }
        }
    }
}

static qlite_status tconv_eval_f32(qlite_node *node) {
    const tconv_state *s = node->state;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    tconv_job j = {.s = s, .x = node->inputs[0]->data, .w = node->inputs[1]->data,
                   .b = bt ? bt->data : NULL, .y = node->outputs[0]->data,
                   .packed = node->scratch};
    if (qlite_node_reference_only(node)) {
        tconv_f32_ref(s, j.x, j.w, j.b, j.y);
        return QLITE_OK;
    }
    j.tiles = j.packed + (size_t)s->groups * s->packed_floats;
    if (s->w16.data) {
        j.tiles = j.packed;
        j.packed = (float *)(uintptr_t)s->w16.data;
    } else { /* weights given at eval: the same O16 panels (uk has 16 columns) */
        const size_t panels = (size_t)(s->Og + (int64_t)s->uk->nr - 1) / s->uk->nr;
        qlite_parallel_for(node, (size_t)s->groups * panels, pack_range, &j);
    }
    qlite_parallel_for(node, (size_t)s->threads, tiles_range, &j);
    return QLITE_OK;
}

static qlite_status tconv_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    if (node->opts->type != QLITE_OPTIONS_CONV_2D)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Conv2D");
    const qlite_conv2d_options *o = &node->opts->u.conv2d;
    qlite_status (*eval)(qlite_node *) = NULL;
    switch (QLITE_NN_PAIR(x->dtype, w->dtype)) {
    case QLITE_NN_F32_F32: eval = tconv_eval_f32; break;
    default: return qlite_tconv_variants_prepare(node); /* int8, hybrid, float16 weights */
    }
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) ||
        (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))) ||
        (st = qlite_nn_check_rank(node, x, "input", 4)) ||
        (st = qlite_nn_check_rank(node, w, "weights", 4)))
        return st;
    tconv_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = eval;
    s->N = x->dims[0], s->H = x->dims[1], s->W = x->dims[2], s->C = x->dims[3];
    s->O = w->dims[0], s->KH = w->dims[1], s->KW = w->dims[2], s->Cg = w->dims[3];
    s->sh = o->stride_h, s->sw = o->stride_w, s->dh = o->dilation_h, s->dw = o->dilation_w;
    s->pt = o->pad_top, s->pl = o->pad_left, s->groups = o->groups;
    if (s->sh < 1 || s->sw < 1 || s->dh < 1 || s->dw < 1 || s->pt < 0 || s->pl < 0 ||
        o->pad_bottom < 0 || o->pad_right < 0 || o->output_pad_h < 0 || o->output_pad_w < 0 ||
        s->KH < 1 || s->KW < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "strides, dilations and kernel must be >= 1, pads >= 0");
    if (s->groups < 1 || s->C % s->groups != 0 || s->O % s->groups != 0 ||
        s->Cg * s->groups != s->C)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "weights '%s' [%lld, %lld, %lld, %lld] do not fit %lld input "
                                "channels in %lld groups",
                                w->info->name, (long long)s->O, (long long)s->KH,
                                (long long)s->KW, (long long)s->Cg, (long long)s->C,
                                (long long)s->groups);
    if (b && (b->rank != 1 || b->dims[0] != s->O))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%lld]", b->info->name,
                                (long long)s->O);
    s->OH = s->sh * (s->H - 1) + o->output_pad_h + (s->KH - 1) * s->dh + 1 - s->pt - o->pad_bottom;
    s->OW = s->sw * (s->W - 1) + o->output_pad_w + (s->KW - 1) * s->dw + 1 - s->pl - o->pad_right;
    if (s->H < 1 || s->W < 1 || s->OH < 1 || s->OW < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "output would be %lldx%lld",
                                (long long)s->OH, (long long)s->OW);
    if (!qlite_nn_activation(o->activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o->activation);
    s->Og = s->O / s->groups;
    s->K = s->KH * s->KW * s->Cg;
    if ((st = qlite_node_set_output_shape(node, 0, 4, (int64_t[]){s->N, s->OH, s->OW, s->O})))
        return st;
    s->uk = qlite_gemm_f32_select_o16(); /* 16-column panels: O16 */
    s->threads = qlite_node_threads(node);
    size_t rows = 16384 / (size_t)(s->K > 0 ? s->K : 1);
    rows = rows / s->uk->mr * s->uk->mr;
    if (rows < s->uk->mr) rows = s->uk->mr;
    if (rows > 240) rows = 240;
    s->tile_rows = rows;
    s->packed_floats = qlite_gemm_o16_elems((size_t)s->K, (size_t)s->Og);
    s->tile_floats = (rows * (size_t)s->K + 15) / 16 * 16;
    if (s->groups > 1 && s->Og % 16 != 0 && qlite_weights_stored_packed(w, QLITE_LAYOUT_O16))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED,
                                "weights '%s' in O16 with %lld groups of %lld channels (not a "
                                "multiple of 16)",
                                w->info->name, (long long)s->groups, (long long)s->Og);
    if (w->is_const && w->data &&
        (st = qlite_o16_weights_get(node, w, "weights", (size_t)s->groups, (size_t)s->Og,
                                    (size_t)s->K, &s->w16)))
        return st;
    if (s->w16.data && s->w16.mat_elems != s->packed_floats)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "weights '%s': O16 matrices do not match",
                                w->info->name);
    node->scratch_bytes = ((s->w16.data ? 0 : (size_t)s->groups * s->packed_floats) +
                           (size_t)s->threads * s->tile_floats) *
                          sizeof(float);
    node->state = s;
    return QLITE_OK;
}

static qlite_status tconv_eval(qlite_node *node) {
    return ((const tconv_state *)node->state)->eval(node);
}

const qlite_kernel qlite_kernel_transpose_conv_2d = {
    .prepare = tconv_prepare,
    .eval = tconv_eval,
    .raw_dense_inputs = 1u << 1,  /* float16 weights read in place */
    .raw_packed_inputs = 1u << 1, /* float32 weights in O16 read in place */
};
