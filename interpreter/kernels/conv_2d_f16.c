/*
 * conv_2d_f16.c — TRANSPOSE_CONV_2D with float16 weights, and CONV_2D with
 * float16 weights computed by the graph (a constant float16 CONV_2D weight
 * goes through conv_2d.c, which reads it in O16 like float32 ones):
 * [O, KH, KW, C / groups] read in place (docs/quantization.md §7): float32
 * input, bias and output; the definitions of conv_2d.c / transpose_conv_2d.c
 * with every weight widened as it is loaded.
 *
 * Optimized path, as the float kernels: one GEMM per group over output
 * pixels. Threads take tiles of output pixels, gather each tile's patches
 * (im2col, or the transposed gather) and multiply them: on AVX-512 by the
 * fast half GEMM (gemm_f16.h qlite_gemm_f16_o16_fast) on the weights
 * copied as halves into O16 in scratch once per invoke; elsewhere by the
 * float micro-kernels on the weights converted while being packed into
 * their panels (the only float32 form of them, a packing panel). A 1x1
 * stride-1 unpadded single-group convolution multiplies the input in place.
 */
#include "kernels/gemm_f16.h"
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

typedef struct conv16_state {
    qlite_eval_fn eval; /* must stay first (qlite_eval_dispatch) */
    qlite_conv_geom g;
    bool transposed, direct;
    const qlite_gemm_f32_ukernel *uk;
    qlite_gemm_o16h_fn fast_h; /* the fast half GEMM (O16 halves in scratch), or NULL */
    size_t wbuf_off;           /* its widening buffers' scratch offset (0: none) */
    float lo, hi;
    size_t tile_rows, packed_floats, tile_floats;
    int threads;
} conv16_state;

static void conv16_ref(const conv16_state *s, const float *x, const uint16_t *w, const float *b,
                       float *y) {
    const qlite_conv_geom *g = &s->g;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oy = 0; oy < g->OH; oy++)
            for (int64_t ox = 0; ox < g->OW; ox++)
                for (int64_t o = 0; o < g->O; o++) {
                    const int64_t grp = o / g->Og;
                    float acc = b ? b[o] : 0.0f;
                    for (int64_t ky = 0; ky < g->KH; ky++)
                        for (int64_t kx = 0; kx < g->KW; kx++) {
                            int64_t iy, ix;
                            if (s->transposed) {
                                iy = qlite_tconv_source(oy, ky, g->sh, g->dh, g->pt, g->H);
                                ix = iy < 0 ? -1
                                            : qlite_tconv_source(ox, kx, g->sw, g->dw, g->pl,
                                                                 g->W);
                                if (ix < 0) continue;
                            } else {
                                iy = oy * g->sh - g->pt + ky * g->dh;
                                ix = ox * g->sw - g->pl + kx * g->dw;
                                if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W) continue;
                            }
                            const float *xp =
                                x + ((n * g->H + iy) * g->W + ix) * g->C + grp * g->Cg;
                            const uint16_t *wp = w + ((o * g->KH + ky) * g->KW + kx) * g->Cg;
                            for (int64_t c = 0; c < g->Cg; c++)
                                acc += xp[c] * qlite_fp16_to_fp32(wp[c]);
                        }
                    y[((n * g->OH + oy) * g->OW + ox) * g->O + o] = qlite_clampf(acc, s->lo, s->hi);
                }
}

/* Patch rows of output pixels [p0, p0 + rows), group grp, into col [rows, K]. */
static void patches(const conv16_state *s, const float *x, int64_t grp, size_t p0, size_t rows,
                    float *col) {
    const qlite_conv_geom *g = &s->g;
    const size_t Cg = (size_t)g->Cg, K = (size_t)g->K;
    const int64_t OHW = g->OH * g->OW;
    int64_t p = (int64_t)p0, n = p / OHW, oy = p % OHW / g->OW, ox = p % g->OW;
    for (size_t r = 0; r < rows; r++) {
        float *dst = col + r * K;
        const float *img = x + n * g->H * g->W * g->C + grp * g->Cg;
        for (int64_t ky = 0; ky < g->KH; ky++)
            for (int64_t kx = 0; kx < g->KW; kx++, dst += Cg) {
                int64_t iy, ix;
                if (s->transposed) {
                    iy = qlite_tconv_source(oy, ky, g->sh, g->dh, g->pt, g->H);
                    ix = iy < 0 ? -1 : qlite_tconv_source(ox, kx, g->sw, g->dw, g->pl, g->W);
                    if (ix < 0) iy = -1;
                } else {
                    iy = oy * g->sh - g->pt + ky * g->dh;
                    ix = ox * g->sw - g->pl + kx * g->dw;
                }
                if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W) {
                    for (size_t c = 0; c < Cg; c++) dst[c] = 0.0f;
                } else {
                    const float *src = img + (iy * g->W + ix) * g->C;
                    for (size_t c = 0; c < Cg; c++) dst[c] = src[c];
                }
            }
        if (++ox == g->OW) {
            ox = 0;
            if (++oy == g->OH) {
                oy = 0;
                n++;
            }
        }
    }
}

typedef struct conv16_job {
    const conv16_state *s;
    const float *x, *b;
    const uint16_t *w;
    float *y, *packed, *tiles;
    float *wbuf; /* the half GEMM's widening buffers (thread t: slice t), or NULL */
} conv16_job;

static void pack_range(void *arg, size_t begin, size_t end) {
    const conv16_job *j = arg;
    const conv16_state *s = j->s;
    const qlite_conv_geom *g = &s->g;
    const size_t nr = s->uk->nr, panels = ((size_t)g->Og + nr - 1) / nr;
    for (size_t i = begin; i < end; i++) {
        const size_t grp = i / panels, p = i % panels;
        if (s->fast_h) { /* one item per group: its O16 halves (bit copies) */
            qlite_gemm_o16_pack_f16((size_t)g->K, (size_t)g->Og,
                                    j->w + i * (size_t)(g->Og * g->K), (size_t)g->K, true,
                                    (uint16_t *)(void *)(j->packed + i * s->packed_floats));
            continue;
        }
        qlite_gemm_f16_pack_b(s->uk, (size_t)g->K, (size_t)g->Og,
                              j->w + grp * (size_t)(g->Og * g->K), (size_t)g->K, true, p, p + 1,
                              j->packed + grp * s->packed_floats);
    }
}

static void tiles_range(void *arg, size_t begin, size_t end) {
    const conv16_job *j = arg;
    const conv16_state *s = j->s;
    const qlite_conv_geom *g = &s->g;
    const size_t P = (size_t)(g->N * g->OH * g->OW);
    const size_t ntiles = (P + s->tile_rows - 1) / s->tile_rows;
    for (size_t t = begin; t < end; t++) {
        float *col = j->tiles + t * s->tile_floats;
        size_t tb, te;
        qlite_nn_split(ntiles, (size_t)s->threads, t, &tb, &te);
        for (size_t tile = tb; tile < te; tile++) {
            const size_t p0 = tile * s->tile_rows;
            const size_t rows = P - p0 < s->tile_rows ? P - p0 : s->tile_rows;
            for (int64_t grp = 0; grp < g->groups; grp++) {
                patches(s, j->x, grp, p0, rows, col);
                if (s->fast_h) {
                    s->fast_h(rows, (size_t)g->Og, (size_t)g->K, col, (size_t)g->K,
                              (const uint16_t *)(const void *)(j->packed +
                                                               (size_t)grp * s->packed_floats),
                              j->b ? j->b + grp * g->Og : NULL,
                              j->y + p0 * (size_t)g->O + (size_t)(grp * g->Og), (size_t)g->O,
                              s->lo, s->hi,
                              j->wbuf ? j->wbuf + t * (QLITE_GEMM_F16_WBUF_BYTES / sizeof(float))
                                      : NULL);
                    continue;
                }
                qlite_gemm_f32_packed(s->uk, rows, (size_t)g->Og, (size_t)g->K, col,
                                      (size_t)g->K, 1, j->packed + (size_t)grp * s->packed_floats,
                                      j->b ? j->b + grp * g->Og : NULL,
                                      j->y + p0 * (size_t)g->O + (size_t)(grp * g->Og),
                                      (size_t)g->O, s->lo, s->hi);
            }
        }
    }
}

static qlite_status conv16_eval(qlite_node *node) {
    const conv16_state *s = node->state;
    const qlite_conv_geom *g = &s->g;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    conv16_job j = {.s = s, .x = node->inputs[0]->data, .w = node->inputs[1]->data,
                    .b = bt ? bt->data : NULL, .y = node->outputs[0]->data,
                    .packed = node->scratch};
    if (qlite_node_reference_only(node)) {
        conv16_ref(s, j.x, j.w, j.b, j.y);
        return QLITE_OK;
    }
    if (s->direct) {
        const qlite_gemm_f16w_args a = {.M = (size_t)(g->N * g->OH * g->OW), .N = (size_t)g->O,
                                        .K = (size_t)g->C, .a = j.x, .rsa = (size_t)g->C,
                                        .csa = 1, .b = j.w, .ldb = (size_t)g->C, .b_trans = true,
                                        .bias = j.b, .c = j.y, .ldc = (size_t)g->O, .lo = s->lo,
                                        .hi = s->hi};
        qlite_gemm_f16w_run(node, s->uk, &a, node->scratch);
        return QLITE_OK;
    }
    j.tiles = j.packed + (size_t)g->groups * s->packed_floats;
    j.wbuf = s->wbuf_off ? (float *)(void *)((char *)node->scratch + s->wbuf_off) : NULL;
    const size_t panels = s->fast_h ? 1 : ((size_t)g->Og + s->uk->nr - 1) / s->uk->nr;
    qlite_kernel_parallel(node, (size_t)g->groups * panels,
                          (s->fast_h ? (size_t)g->Og : s->uk->nr) * (size_t)g->K, pack_range, &j);
    qlite_parallel_for(node, (size_t)s->threads, tiles_range, &j);
    return QLITE_OK;
}

static qlite_status conv16_prepare(qlite_node *node, bool transposed) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_status st;
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) ||
        (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))))
        return st;
    conv16_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->transposed = transposed;
    qlite_conv_geom *g = &s->g;
    if ((st = qlite_conv_geom_init(node, transposed ? QLITE_CONV_TRANSPOSED : QLITE_CONV_PLAIN, x,
                                   w, b, g)))
        return st;
    if (!qlite_nn_activation(g->act, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)g->act);
    s->eval = conv16_eval;
    s->threads = qlite_node_threads(node);
    s->uk = qlite_gemm_f32_select_for((size_t)(g->groups == 1 ? g->O : g->Og));
    const size_t P = (size_t)(g->N * g->OH * g->OW);
    const qlite_conv2d_options *o = &node->opts->u.conv2d;
    s->direct = !transposed && g->groups == 1 && g->KH == 1 && g->KW == 1 && g->sh == 1 &&
                g->sw == 1 && g->pt == 0 && g->pl == 0 && o->pad_bottom == 0 &&
                o->pad_right == 0;
    if (s->direct) {
        node->scratch_bytes = qlite_gemm_f16w_scratch_bytes(s->uk, P, (size_t)g->O, (size_t)g->C,
                                                            (size_t)s->threads);
    } else {
        size_t rows = 16384 / (size_t)(g->K > 0 ? g->K : 1);
        rows = rows / s->uk->mr * s->uk->mr;
        if (rows < s->uk->mr) rows = s->uk->mr;
        if (rows > 240) rows = 240;
        s->tile_rows = rows;
        s->fast_h = qlite_gemm_f16_o16_fast();
        s->packed_floats =
            s->fast_h ? (qlite_gemm_o16_elems((size_t)g->K, (size_t)g->Og) / 2 + 15) / 16 * 16
                      : (qlite_gemm_f32_packed_size(s->uk, (size_t)g->K, (size_t)g->Og) + 15) /
                            16 * 16;
        s->tile_floats = (rows * (size_t)g->K + 15) / 16 * 16;
        node->scratch_bytes = ((size_t)g->groups * s->packed_floats +
                               (size_t)s->threads * s->tile_floats) * sizeof(float);
        /* tiles of many rows: the half GEMM's widening buffers, one per thread */
        const size_t wb = s->fast_h ? qlite_gemm_f16_wbuf_bytes(rows, (size_t)s->threads) : 0;
        if (wb) {
            s->wbuf_off = (node->scratch_bytes + 63) / 64 * 64;
            node->scratch_bytes = s->wbuf_off + wb;
        }
    }
    node->state = s;
    return QLITE_OK;
}

qlite_status qlite_conv_f16_prepare(qlite_node *node) { return conv16_prepare(node, false); }
qlite_status qlite_tconv_f16_prepare(qlite_node *node) { return conv16_prepare(node, true); }
