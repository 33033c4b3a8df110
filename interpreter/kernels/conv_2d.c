/*
 * conv_2d.c — CONV_2D, NHWC, with groups, strides, dilations, explicit pads.
 *
 *   input 0  x  [N, H, W, C]
 *   input 1  w  [O, KH, KW, C / groups]
 *   input 2  b  [O]           optional (-1 = absent)
 *   output   y  [N, OH, OW, O]   OH = (H + pt + pb - ((KH-1)*dh + 1)) / sh + 1
 *
 * y[n,oy,ox,o] = act(b[o] + sum_{ky,kx,c} x[n, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw,
 *                                            g*Cg + c] * w[o, ky, kx, c]),  g = o / Og
 * (taps outside the input read zero).
 *
 * Float32 input with float32 or float16 weights (the latter widened as
 * they are loaded, docs/quantization.md §7), as a GEMM per group with
 * M = output pixels, N = Og, K = KH*KW*Cg. The weights [O][KH][KW][Cg] are
 * `groups` matrices W [Og, K] read in the O16 layout of packed_weights.h:
 * the model's bytes when the converter stored them so (one matrix [O, K]
 * in the file, the same bytes as `groups` matrices when groups == 1 or
 * Og % 16 == 0), else packed once at prepare; nothing is packed per invoke
 * (weights computed by the graph: packed into scratch each invoke). The
 * reference path reads the same O16 weights (qlite_o16_at).
 *   3x3, stride 1, no dilation, one group, sizes the rule in
 *   conv_2d_winograd.h picks (ResNet's 56x56x64 / 28x28x128 layers), unless
 *   the interpreter has QLITE_INTERP_EXACT_CONV: Winograd F(4x4, 3x3), 36
 *   GEMMs on transformed tiles and weights (conv_2d_winograd.c).
 *   1x1, stride 1, no padding, one group: the NHWC input IS the A operand.
 *   with the fast GEMM (float32 weights, AVX-512), one group, no dilation
 *   across: implicit im2col: each pixel's window is KH runs of KW*C
 *   contiguous input floats (pointers into the input, or at zeros above /
 *   below it); only windows crossing the left / right edge are gathered,
 *   or, for short window rows (KW*C < 16 floats: RGB stems, 5x5 over one
 *   channel), every window runs in a zero-padded copy of the input.
 *   few pixels (<= 2 MiB of patches), one group: one im2col matrix, one
 *   threaded GEMM.
 *   otherwise: threads take tiles of output pixels, gather each tile's
 *   patches into their scratch (im2col, rows laid out [ky][kx][c] like the
 *   weights) and multiply.
 * The multiply: float32 weights on gemm_f32's fastest O16 GEMM
 * (qlite_gemm_f32_o16_fast: AVX-512 6x64 tiles), float16 weights on its
 * half form (gemm_f16.h qlite_gemm_f16_o16_fast: the same sums on the
 * widened weights, implicit im2col included), else gemm_f32's O16
 * micro-kernels.
 */
#include "conv_2d_winograd.h"
#include "gemm_f16.h"
#include "gemm_f32.h"
#include "packed_weights.h"
#include "kernels.h"
#include "nn_common.h"
#include "nn_variants.h"

QLITE_NN_OPTIMIZE_LOOPS

#define WHOLE_MAX_FLOATS ((size_t)1 << 19) /* 2 MiB of im2col patches */
#define PADDED_MAX_FLOATS ((size_t)1 << 20) /* 4 MiB: a padded copy of the input */

typedef struct conv_state {
    qlite_status (*eval)(qlite_node *node);
    const qlite_gemm_f32_ukernel *uk;
    int64_t N, H, W, C, O, KH, KW, OH, OW;
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t groups, Cg, Og, K; /* K = KH*KW*Cg */
    float lo, hi;
    bool direct;               /* 1x1 stride 1 unpadded single group */
    bool whole;                /* one group, few pixels: one im2col matrix for all */
    qlite_gemm_o16_ind_fn ind_fn; /* implicit im2col (fast GEMM, one group, dw 1), or NULL */
    const int32_t *edge_col;   /* [OW]: window crosses the left/right edge: its index, else -1 */
    size_t edge_cols;          /* output columns with such windows */
    const float *zeros;        /* KW*C zeros (window rows above / below the input) */
    size_t ind_floats;         /* scratch floats of the run pointers (64-byte multiple) */
    bool padded;               /* implicit, short runs: windows in a zero-padded copy */
    int64_t Hp, Wp;            /* its rows and columns per image (input row iy at iy + pt) */
    size_t tile_rows;          /* output pixels per im2col tile */
    size_t tile_floats;        /* per thread */
    int threads;
    qlite_gemm_o16_fn fast;    /* float32 weights: gemm_f32's fastest O16 GEMM, or NULL */
    qlite_gemm_o16h_fn fast_h; /* float16 weights: its half form (gemm_f16.h), or NULL */
    qlite_gemm_o16h_ind_fn ind_h; /* implicit im2col on float16 weights, or NULL */
    size_t wbuf_off;           /* scratch bytes before the half GEMM's widening buffers */
    bool wbuf;                 /* whether there are any (threads x 288 KiB) */
    qlite_o16_weights w16;     /* `groups` O16 matrices [Og, K] (data NULL: not constant) */
    const qlite_wino *wino;    /* 3x3 stride 1: Winograd F(4x4, 3x3), or NULL */
} conv_state;

/* w[o][ky][kx][c] with k = (ky*KW + kx)*Cg + c: from the O16 matrices of a
 * constant, else from the row-major weights w given at eval (float32). */
static inline float conv_w(const conv_state *s, const float *w, int64_t o, int64_t k) {
    if (!s->w16.data) return w[o * s->K + k];
    const int64_t g = o / s->Og;
    const size_t es = s->w16.half ? 2 : 4;
    return qlite_o16_at((const char *)s->w16.data + (size_t)g * s->w16.mat_elems * es,
                        s->w16.half, (size_t)s->K, (size_t)(o - g * s->Og), (size_t)k);
}

/* Reference: the definition above, one output at a time. */
static void conv_f32_ref(const conv_state *s, const float *x, const float *w, const float *b,
                         float *y) {
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t oy = 0; oy < s->OH; oy++)
            for (int64_t ox = 0; ox < s->OW; ox++)
                for (int64_t o = 0; o < s->O; o++) {
                    const int64_t g = o / s->Og;
                    float acc = b ? b[o] : 0.0f;
                    for (int64_t ky = 0; ky < s->KH; ky++) {
                        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
                        if (iy < 0 || iy >= s->H) continue;
                        for (int64_t kx = 0; kx < s->KW; kx++) {
                            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                            if (ix < 0 || ix >= s->W) continue;
                            const float *xp = x + ((n * s->H + iy) * s->W + ix) * s->C + g * s->Cg;
                            const int64_t k0 = (ky * s->KW + kx) * s->Cg;
                            for (int64_t c = 0; c < s->Cg; c++)
                                acc += xp[c] * conv_w(s, w, o, k0 + c);
                        }
                    }
                    y[((n * s->OH + oy) * s->OW + ox) * s->O + o] = qlite_clampf(acc, s->lo, s->hi);
                }
}

/* Copies n floats: short runs (a 7x7 stem's 21-float window rows) inline
 * in 64-byte pieces, long ones through memcpy. */
static inline void copy_floats(float *restrict dst, const float *restrict src, size_t n) {
    if (n >= 256) {
        memcpy(dst, src, n * sizeof(float));
        return;
    }
    size_t c = 0;
    for (; c + 16 <= n; c += 16) memcpy(dst + c, src + c, 16 * sizeof(float));
    for (; c < n; c++) dst[c] = src[c];
}

/*
 * Gathers the patches of output pixels [p0, p0 + rows) of group g into
 * col [rows, K], row layout [ky][kx][c]. Windows wholly inside the input
 * (most of them) copy without bounds checks.
 */
static void im2col(const conv_state *s, const float *x, int64_t g, size_t p0, size_t rows,
                   float *col) {
    const size_t Cg = (size_t)s->Cg, K = (size_t)s->K;
    const int64_t H = s->H, W = s->W, C = s->C, KH = s->KH, KW = s->KW;
    const int64_t sh = s->sh, sw = s->sw, dh = s->dh, dw = s->dw, OW = s->OW, OHW = s->OH * OW;
    const int64_t span_h = (KH - 1) * dh, span_w = (KW - 1) * dw;
    int64_t p = (int64_t)p0, n = p / OHW, oy = p % OHW / OW, ox = p % OW;
    for (size_t r = 0; r < rows; r++) {
        float *dst = col + r * K;
        const float *img = x + n * H * W * C + g * s->Cg;
        const int64_t iy0 = oy * sh - s->pt, ix0 = ox * sw - s->pl;
        if (iy0 >= 0 && iy0 + span_h < H && ix0 >= 0 && ix0 + span_w < W) {
            for (int64_t ky = 0; ky < KH; ky++) {
                const float *src = img + ((iy0 + ky * dh) * W + ix0) * C;
                if (dw == 1 && (int64_t)Cg == C) { /* the window row is contiguous */
                    copy_floats(dst, src, (size_t)KW * Cg);
                    dst += (size_t)KW * Cg;
                } else if (Cg == 1) {
                    for (int64_t kx = 0; kx < KW; kx++) dst[kx] = src[kx * dw * C];
                    dst += KW;
                } else {
                    for (int64_t kx = 0; kx < KW; kx++, dst += Cg) copy_floats(dst, src + kx * dw * C, Cg);
                }
            }
        } else {
            for (int64_t ky = 0; ky < KH; ky++) {
                const int64_t iy = iy0 + ky * dh;
                if (iy < 0 || iy >= H) { /* a window row in the padding */
                    for (size_t c = 0; c < (size_t)KW * Cg; c++) dst[c] = 0.0f;
                    dst += (size_t)KW * Cg;
                    continue;
                }
                if (dw == 1 && (int64_t)Cg == C) { /* zeros, one contiguous run, zeros */
                    const int64_t a = ix0 < 0 ? -ix0 : 0;
                    const int64_t e = ix0 + KW > W ? W - ix0 : KW;
                    for (int64_t kx = 0; kx < a && kx < KW; kx++, dst += Cg)
                        for (size_t c = 0; c < Cg; c++) dst[c] = 0.0f;
                    if (e > a) {
                        copy_floats(dst, img + (iy * W + ix0 + a) * C, (size_t)(e - a) * Cg);
                        dst += (size_t)(e - a) * Cg;
                    }
                    for (int64_t kx = e > a ? e : a; kx < KW; kx++, dst += Cg)
                        for (size_t c = 0; c < Cg; c++) dst[c] = 0.0f;
                    continue;
                }
                for (int64_t kx = 0; kx < KW; kx++, dst += Cg) {
                    const int64_t ix = ix0 + kx * dw;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
                        for (size_t c = 0; c < Cg; c++) dst[c] = 0.0f;
                    } else {
                        copy_floats(dst, img + (iy * W + ix) * C, Cg);
                    }
                }
            }
        }
        if (++ox == OW) { /* next output pixel */
            ox = 0;
            if (++oy == s->OH) {
                oy = 0;
                n++;
            }
        }
    }
}

typedef struct conv_job {
    const conv_state *s;
    const float *x, *b;
    const void *w;          /* O16 weights, float32 or float16 (s->w16.half) */
    float *y, *tiles;
    const float **ind;      /* implicit mode: [P][KH] runs of KW*C floats */
    float *wbuf;            /* the half GEMM's widening buffers (thread t: slice t), or NULL */
} conv_job;

/*
 * Implicit mode with a padded copy, rows [begin, end) of it (image n, row
 * py = r % Hp holds input row py - pt, or zeros): pl zeros, the input row,
 * zeros to Wp. Its windows then hold exactly the values (and zeros) the
 * edge gathering below would put in a patch, in the same order.
 */
static void pad_rows_range(void *arg, size_t begin, size_t end) {
    const conv_job *j = arg;
    const conv_state *s = j->s;
    const int64_t Hp = s->Hp, Wp = s->Wp, C = s->C, W = s->W;
    const int64_t left = s->pl < Wp ? s->pl : Wp;
    const int64_t len = W < Wp - left ? W : Wp - left; /* input columns that land in the copy */
    for (size_t r = begin; r < end; r++) {
        const int64_t n = (int64_t)r / Hp, iy = (int64_t)r % Hp - s->pt;
        float *dst = j->tiles + (int64_t)r * Wp * C;
        if (iy < 0 || iy >= s->H) {
            memset(dst, 0, (size_t)(Wp * C) * sizeof(float));
            continue;
        }
        memset(dst, 0, (size_t)(left * C) * sizeof(float));
        if (len > 0) copy_floats(dst + left * C, j->x + ((n * s->H + iy) * W) * C, (size_t)(len * C));
        const int64_t done = left + (len > 0 ? len : 0);
        memset(dst + done * C, 0, (size_t)((Wp - done) * C) * sizeof(float));
    }
}

/*
 * Implicit mode, pixels [begin, end): the KH runs of each pixel's window
 * (KW*C contiguous floats each, dilation 1 across, one group): into the
 * input where the window row lies inside it, at zeros where it is above or
 * below; a pixel whose window crosses the left or right edge gets its
 * patch gathered (im2col) into its own row of j->tiles and runs into that.
 */
static void ind_range(void *arg, size_t begin, size_t end) {
    const conv_job *j = arg;
    const conv_state *s = j->s;
    const size_t K = (size_t)s->K, run = (size_t)(s->KW * s->C), KH = (size_t)s->KH;
    const int64_t OW = s->OW, OH = s->OH, OHW = OH * OW;
    /* the geometry in locals: the pointer stores below could alias *s, so
     * read through s the compiler would load every field again per pixel */
    const int64_t H = s->H, W = s->W, C = s->C, sh = s->sh, sw = s->sw, pt = s->pt, pl = s->pl;
    const int64_t dh = s->dh, step = dh * W * C;
    const float *const x = j->x, *const zeros = s->zeros;
    if (begin >= end) return;
    if (s->padded) { /* every window inside the padded copy: KH runs of KW*C floats */
        const int64_t Hp = s->Hp, Wp = s->Wp, pstep = dh * Wp * C;
        int64_t n = (int64_t)begin / OHW, oy = (int64_t)begin % OHW / OW, ox = (int64_t)begin % OW;
        const float **ind = j->ind + begin * KH;
        const float *row = j->tiles + (n * Hp + oy * sh) * Wp * C; /* window row 0 of (n, oy) */
        for (size_t p = begin; p < end; p++, ox++) {
            if (ox == OW) {
                ox = 0;
                if (++oy == OH) {
                    oy = 0;
                    n++;
                }
                row = j->tiles + (n * Hp + oy * sh) * Wp * C;
            }
            const float *src = row + ox * sw * C;
            for (size_t ky = 0; ky < KH; ky++, src += pstep) *ind++ = src;
        }
        return;
    }
    /* pixel coordinates stepped along, not divided out per pixel (three
     * 64-bit divisions cost as much as the rest of a stem pixel's runs) */
    int64_t n = (int64_t)begin / OHW, oy = (int64_t)begin % OHW / OW, ox = (int64_t)begin % OW;
    for (size_t p = begin; p < end; p++, ox++) {
        if (ox == OW) {
            ox = 0;
            if (++oy == OH) {
                oy = 0;
                n++;
            }
        }
        const float **ind = j->ind + p * KH;
        const int32_t e = s->edge_col[ox];
        if (e >= 0) {
            float *row = j->tiles + ((size_t)(n * s->OH + oy) * s->edge_cols + (size_t)e) * K;
            im2col(s, j->x, 0, p, 1, row);
            for (size_t ky = 0; ky < KH; ky++) ind[ky] = row + ky * run;
            continue;
        }
        const int64_t iy0 = oy * sh - pt, ix0 = ox * sw - pl;
        const float *src = x + ((n * H + iy0) * W + ix0) * C; /* row ky: src + ky * step */
        for (size_t ky = 0; ky < KH; ky++, src += step) {
            const int64_t iy = iy0 + (int64_t)ky * dh;
            ind[ky] = iy < 0 || iy >= H ? zeros : src;
        }
    }
}

/* Thread t: its share of the im2col tiles, every group. */
static void tiles_range(void *arg, size_t begin, size_t end) {
    const conv_job *j = arg;
    const conv_state *s = j->s;
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
                im2col(s, j->x, g, p0, rows, col);
                const qlite_gemm_f32_args ga = {
                    .M = rows, .N = (size_t)s->Og, .K = (size_t)s->K, .a = col,
                    .rsa = (size_t)s->K, .csa = 1, .bias = j->b ? j->b + g * s->Og : NULL,
                    .c = j->y + p0 * (size_t)s->O + (size_t)(g * s->Og), .ldc = (size_t)s->O,
                    .lo = s->lo, .hi = s->hi};
                const size_t es = s->w16.half ? 2 : 4;
                const void *wg = (const char *)j->w + (size_t)g * s->w16.mat_elems * es;
                if (s->fast) {
                    s->fast(ga.M, ga.N, ga.K, ga.a, ga.rsa, wg, ga.bias, ga.c, ga.ldc, ga.lo,
                            ga.hi);
                    continue;
                }
                if (s->fast_h) {
                    s->fast_h(ga.M, ga.N, ga.K, ga.a, ga.rsa, wg, ga.bias, ga.c, ga.ldc, ga.lo,
                              ga.hi,
                              j->wbuf ? j->wbuf + t * (QLITE_GEMM_F16_WBUF_BYTES / sizeof(float))
                                      : NULL);
                    continue;
                }
                qlite_gemm_f32_o16_serial(s->uk, &ga, wg, s->w16.half);
            }
        }
    }
}

/* Whole mode: rows [begin, end) of the one im2col matrix (group 0). */
static void whole_im2col_range(void *arg, size_t begin, size_t end) {
    const conv_job *j = arg;
    im2col(j->s, j->x, 0, begin, end - begin, j->tiles + begin * (size_t)j->s->K);
}

static qlite_status conv_eval_f32(qlite_node *node) {
    const conv_state *s = node->state;
    const float *x = node->inputs[0]->data, *w = node->inputs[1]->data;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    const float *b = bt ? bt->data : NULL;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) {
        conv_f32_ref(s, x, w, b, y);
        return QLITE_OK;
    }
    float *scratch = node->scratch;
    float *const wbuf = s->wbuf ? (float *)(void *)((char *)scratch + s->wbuf_off) : NULL;
    const void *w16 = s->w16.data;
    if (!w16) { /* float32 weights computed by the graph: packed here, each invoke */
        for (int64_t g = 0; g < s->groups; g++)
            qlite_gemm_o16_pack_f32((size_t)s->K, (size_t)s->Og, w + (size_t)(g * s->Og * s->K),
                                    (size_t)s->K, true, scratch + (size_t)g * s->w16.mat_elems);
        w16 = scratch;
        scratch += ((size_t)s->groups * s->w16.mat_elems + 15) / 16 * 16;
    }
    if (s->wino) {
        qlite_wino_run(node, s->wino, x, w16, s->w16.half, b, y, scratch);
        return QLITE_OK;
    }
    if (s->direct) {
        const qlite_gemm_f32_args g = {
            .M = (size_t)(s->N * s->OH * s->OW), .N = (size_t)s->O, .K = (size_t)s->C, .a = x,
            .rsa = (size_t)s->C, .csa = 1, .bias = b, .c = y, .ldc = (size_t)s->O, .lo = s->lo,
            .hi = s->hi};
        if (!s->fast_h || !qlite_gemm_f16_run_o16_fast(node, &g, w16, wbuf))
            qlite_gemm_f32_run_o16(node, s->uk, &g, w16, s->w16.half);
        return QLITE_OK;
    }
    conv_job j = {.s = s, .x = x, .w = w16, .b = b, .y = y, .tiles = scratch, .wbuf = wbuf};
    if (s->ind_fn || s->ind_h) { /* implicit im2col: runs into the input, one threaded GEMM */
        const size_t P = (size_t)(s->N * s->OH * s->OW);
        j.ind = (const float **)(void *)scratch;
        j.tiles = scratch + s->ind_floats;
        if (s->padded) qlite_parallel_for(node, (size_t)(s->N * s->Hp), pad_rows_range, &j);
        qlite_parallel_for(node, P, ind_range, &j);
        if (s->ind_h)
            qlite_gemm_f16_run_o16_ind(node, s->ind_h, P, (size_t)s->O, (size_t)s->KH,
                                       (size_t)(s->KW * s->C), j.ind, w16, b, y, (size_t)s->O,
                                       s->lo, s->hi, wbuf);
        else
            qlite_gemm_f32_run_o16_ind(node, s->ind_fn, P, (size_t)s->O, (size_t)s->KH,
                                       (size_t)(s->KW * s->C), j.ind, w16, b, y, (size_t)s->O,
                                       s->lo, s->hi);
        return QLITE_OK;
    }
    if (s->whole) { /* few output pixels: one im2col matrix, then one threaded GEMM */
        const size_t P = (size_t)(s->N * s->OH * s->OW);
        qlite_parallel_for(node, P, whole_im2col_range, &j);
        const qlite_gemm_f32_args g = {
            .M = P, .N = (size_t)s->O, .K = (size_t)s->K, .a = scratch, .rsa = (size_t)s->K,
            .csa = 1, .bias = b, .c = y, .ldc = (size_t)s->O, .lo = s->lo, .hi = s->hi};
        if (!s->fast_h || !qlite_gemm_f16_run_o16_fast(node, &g, w16, wbuf))
            qlite_gemm_f32_run_o16(node, s->uk, &g, w16, s->w16.half);
        return QLITE_OK;
    }
    qlite_parallel_for(node, (size_t)s->threads, tiles_range, &j);
    return QLITE_OK;
}

static qlite_status conv_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    if (node->opts->type != QLITE_OPTIONS_CONV_2D)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Conv2D");
    const qlite_conv2d_options *o = &node->opts->u.conv2d;

    qlite_status (*eval)(qlite_node *) = NULL;
    switch (QLITE_NN_PAIR(x->dtype, w->dtype)) {
    case QLITE_NN_F32_F32: eval = conv_eval_f32; break;
    case QLITE_NN_PAIR(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_FLOAT16):
        if (!w->is_const || !w->data) /* computed float16 weights: the widening kernel */
            return qlite_conv_variants_prepare(node);
        eval = conv_eval_f32;
        break;
    default: return qlite_conv_variants_prepare(node); /* int8, hybrid */
    }
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) ||
        (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))) ||
        (st = qlite_nn_check_rank(node, x, "input", 4)) ||
        (st = qlite_nn_check_rank(node, w, "weights", 4)))
        return st;
    conv_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = eval;
    s->N = x->dims[0], s->H = x->dims[1], s->W = x->dims[2], s->C = x->dims[3];
    s->O = w->dims[0], s->KH = w->dims[1], s->KW = w->dims[2], s->Cg = w->dims[3];
    s->sh = o->stride_h, s->sw = o->stride_w, s->dh = o->dilation_h, s->dw = o->dilation_w;
    s->pt = o->pad_top, s->pl = o->pad_left, s->groups = o->groups;
    if (s->groups < 1 || s->C % s->groups != 0 || s->O % s->groups != 0)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "groups %lld must divide input channels %lld and output "
                                "channels %lld",
                                (long long)s->groups, (long long)s->C, (long long)s->O);
    if (s->Cg * s->groups != s->C)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "weights '%s' take %lld channels per group, the input has "
                                "%lld in %lld groups",
                                w->info->name, (long long)s->Cg, (long long)s->C,
                                (long long)s->groups);
    if (b && (b->rank != 1 || b->dims[0] != s->O))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%lld]", b->info->name,
                                (long long)s->O);
    s->OH = qlite_nn_window_out(s->H, s->KH, s->sh, s->dh, s->pt, o->pad_bottom, false);
    s->OW = qlite_nn_window_out(s->W, s->KW, s->sw, s->dw, s->pl, o->pad_right, false);
    if (s->OH < 1 || s->OW < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "no output: input %lldx%lld, kernel %lldx%lld, stride %lldx%lld, "
                                "dilation %lldx%lld, pads %d,%d,%d,%d",
                                (long long)s->H, (long long)s->W, (long long)s->KH,
                                (long long)s->KW, (long long)s->sh, (long long)s->sw,
                                (long long)s->dh, (long long)s->dw, o->pad_top, o->pad_left,
                                o->pad_bottom, o->pad_right);
    if (!qlite_nn_activation(o->activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o->activation);
    s->Og = s->O / s->groups;
    s->K = s->KH * s->KW * s->Cg;
    if ((st = qlite_node_set_output_shape(node, 0, 4, (int64_t[]){s->N, s->OH, s->OW, s->O})))
        return st;

    s->uk = qlite_gemm_f32_select_o16();
    s->fast = w->dtype == QLITE_DTYPE_FLOAT32 ? qlite_gemm_f32_o16_fast() : NULL;
    s->fast_h = w->dtype == QLITE_DTYPE_FLOAT16 ? qlite_gemm_f16_o16_fast() : NULL;
    s->threads = qlite_node_threads(node);
    s->direct = s->groups == 1 && s->KH == 1 && s->KW == 1 && s->sh == 1 && s->sw == 1 &&
                s->pt == 0 && s->pl == 0 && o->pad_bottom == 0 && o->pad_right == 0;
    size_t wfloats = 0; /* weights packed into scratch at eval (not constant) */
    if (w->is_const && w->data) {
        if (s->groups > 1 && s->Og % 16 != 0 && w->data == w->info->data &&
            w->info->layout != QLITE_LAYOUT_DEFAULT)
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED,
                                    "weights '%s' are stored in a packed layout with %lld "
                                    "groups of %lld output channels: read in place only with "
                                    "one group or groups of a multiple of 16 channels",
                                    w->info->name, (long long)s->groups, (long long)s->Og);
        if ((st = qlite_o16_weights_get(node, w, "weights", (size_t)s->groups, (size_t)s->Og,
                                        (size_t)s->K, &s->w16)))
            return st;
    } else {
        s->w16.mat_elems = qlite_gemm_o16_elems((size_t)s->K, (size_t)s->Og);
        wfloats = ((size_t)s->groups * s->w16.mat_elems + 15) / 16 * 16;
    }
    node->scratch_bytes = wfloats * sizeof(float);
    /* 3x3 stride 1, one group: Winograd F(4x4, 3x3) where the size rule
     * measured it faster, unless the interpreter asks for exact dot
     * products (conv_2d_winograd.h) */
    if (s->groups == 1 && s->KH == 3 && s->KW == 3 && s->sh == 1 && s->sw == 1 && s->dh == 1 &&
        s->dw == 1 && !qlite_node_exact_conv(node) &&
        qlite_wino_wanted(s->OH, s->OW, s->C, s->O)) {
        qlite_wino *wp = qlite_node_alloc(node, sizeof *wp);
        if (!wp) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        size_t wb = 0;
        if ((st = qlite_wino_prepare(node, wp, s->N, s->H, s->W, s->C, s->O, s->OH, s->OW, s->pt,
                                     s->pl, s->lo, s->hi, s->w16.half, &wb)))
            return st;
        s->wino = wp;
        node->scratch_bytes += wb;
        node->state = s;
        return QLITE_OK;
    }
    const size_t P = (size_t)(s->N * s->OH * s->OW);
    /* Few output pixels (late layers: 7x7, 14x14) against many weights: the
     * patches of every pixel (<= 2 MiB) are gathered once and multiplied in
     * one GEMM, which the threads split by rows and columns, so the weights
     * stream through the cache once and 2 threads share 49 rows evenly. */
    const bool implicit = !s->direct && s->groups == 1 && s->dw == 1;
    s->ind_fn = s->fast && implicit ? qlite_gemm_f32_o16_ind_fast() : NULL;
    s->ind_h = s->fast_h && implicit ? qlite_gemm_f16_o16_ind_fast() : NULL;
    s->whole = !s->ind_fn && !s->ind_h && !s->direct && s->groups == 1 &&
               P * (size_t)s->K <= WHOLE_MAX_FLOATS;
    if (s->ind_fn || s->ind_h) {
        /* Implicit im2col: no patch copies but the windows that cross the
         * left / right edge (a few output columns). Scratch: KH run
         * pointers per pixel, then those pixels' gathered rows. */
        int32_t *edge_col = qlite_node_alloc(node, (size_t)s->OW * sizeof(int32_t));
        float *zeros = qlite_node_alloc(node, (size_t)(s->KW * s->C) * sizeof(float) + 64);
        if (!edge_col || !zeros) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        size_t ne = 0;
        for (int64_t ox = 0; ox < s->OW; ox++) {
            const int64_t ix0 = ox * s->sw - s->pl;
            edge_col[ox] = ix0 < 0 || ix0 + s->KW - 1 >= s->W ? (int32_t)ne++ : -1;
        }
        s->edge_col = edge_col, s->edge_cols = ne, s->zeros = zeros;
        s->ind_floats = (P * (size_t)s->KH * sizeof(float *) + 63) / 64 * 16;
        /* Short window rows (KW*C < 16 floats: RGB stems, LeNet's 5x5 over one
         * channel): gathering the edge windows one by one was ~40% of such a
         * conv (perf, LeNet conv1); a zero-padded copy of the input (small:
         * few channels) makes every window a plain run instead. */
        s->Hp = (s->OH - 1) * s->sh + (s->KH - 1) * s->dh + 1;
        s->Wp = (s->OW - 1) * s->sw + s->KW;
        s->padded = ne > 0 && s->KW * s->C < 16 &&
                    (size_t)(s->N * s->Hp * s->Wp * s->C) <= PADDED_MAX_FLOATS;
        node->scratch_bytes +=
            (s->ind_floats + (s->padded ? (size_t)(s->N * s->Hp * s->Wp * s->C)
                                        : (size_t)(s->N * s->OH) * ne * (size_t)s->K)) *
            sizeof(float);
    } else if (s->whole) {
        node->scratch_bytes += P * (size_t)s->K * sizeof(float);
    } else if (!s->direct) {
        /* Each tile streams all the weights through the cache once, so
         * tiles are as large as ~512 KiB of patches allows (the GEMM blocks
         * them for L1/L2 itself): a late ResNet layer (49 pixels, 9 MiB of
         * weights) is then one tile, not five. Threads get a tile each. */
        const size_t mr = s->uk->mr;
        size_t rows = (size_t)131072 / (size_t)(s->K > 0 ? s->K : 1);
        const size_t share = (P + (size_t)s->threads - 1) / (size_t)s->threads;
        if (rows > share) rows = share;
        rows = (rows + mr - 1) / mr * mr;
        s->tile_rows = rows;
        s->tile_floats = (rows * (size_t)s->K + 15) / 16 * 16;
        node->scratch_bytes += (size_t)s->threads * s->tile_floats * sizeof(float);
    }
    /* float16 weights feeding many rows: the half GEMM's widening buffers
     * (one per thread), so invoke allocates nothing */
    const size_t wb = s->fast_h ? qlite_gemm_f16_wbuf_bytes(s->direct || s->whole || s->ind_h
                                                                ? P
                                                                : s->tile_rows,
                                                            (size_t)s->threads)
                                : 0;
    if (wb) {
        s->wbuf = true;
        s->wbuf_off = (node->scratch_bytes + 63) / 64 * 64;
        node->scratch_bytes = s->wbuf_off + wb;
    }
    node->state = s;
    return QLITE_OK;
}

static qlite_status conv_eval(qlite_node *node) {
    return ((const conv_state *)node->state)->eval(node);
}

const qlite_kernel qlite_kernel_conv_2d = {
    .prepare = conv_prepare,
    .eval = conv_eval,
    .raw_dense_inputs = 1u << 1,  /* float16 weights read in place */
    .raw_packed_inputs = 1u << 1, /* O16 / O16I4 weights read in place */
};
