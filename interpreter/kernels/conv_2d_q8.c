/*
 * conv_2d_q8.c — CONV_2D and TRANSPOSE_CONV_2D with int8 weights
 * [O, KH, KW, C / groups] (constant; per tensor or per output channel,
 * axis 0), NHWC, the geometry of conv_2d.c / transpose_conv_2d.c:
 *
 *   integer  x int8/uint8, bias int32 [O] (optional, constant), y of x's
 *            dtype (docs §4.1):
 *              acc = bias[o] + sum over taps inside the input and c < Cg of
 *                    (x - zx)(w[o, ky, kx, c] - zw[o])
 *              y   = clamp(zy + requantize(acc, sx sw[o] / sy), lo, hi)
 *            (padding holds zx: real 0, contributes nothing)
 *   hybrid   x, bias, y float32 (docs §5): each image quantized to uint8
 *            with its own (su, zu) (padding = zu), acc = sum (u - zu) w, then
 *            y = su sw[o] acc + bias[o], fused activation.
 *
 * Both are one int8 GEMM per group over output pixels (gemm_q8.h): the
 * weights read in O16I4 (packed_weights.h: the file's bytes when the
 * converter stored CONV_2D weights so, else packed once at prepare; never
 * per invoke); threads take tiles of
 * output pixels, gather each tile's patches as unsigned bytes (im2col: for
 * CONV_2D the input under the window, for TRANSPOSE_CONV_2D the input pixel
 * each tap comes from — the gather form of the scatter) and multiply, the
 * requantization (or the int32 accumulators, for hybrid) fused into the
 * tile's output stage. Fewer than QLITE_GEMM_Q8_DOT_M output pixels with
 * DEFAULT weights use the dot algorithm on the weights in place (weights
 * stored in O16I4 take the tiles at every size). The weight sums of the
 * zero-point correction and the reference paths read whichever form the
 * kernel holds (row-major or O16I4, qlite_o16i4_at).
 */
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"
#include "kernels/packed_weights.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

typedef struct convq_state {
    qlite_eval_fn eval;               /* must stay first (qlite_eval_dispatch) */
    qlite_conv_geom g;
    bool transposed, hybrid, dot;
    bool direct;                      /* 1x1, stride 1, no padding, one group: rows of x */
    bool wide_copy;                   /* patches gathered with 64-byte moves (AVX-512) */
    const qlite_gemm_q8_ukernel *uk;
    size_t lda;                       /* patch row length in the tiles */
    size_t tile_rows;                 /* output pixels per tile */
    size_t ntiles;                    /* ceil(pixels / tile_rows) */
    size_t ncols, col_width;          /* column ranges per tile (one group only), their width */
    size_t packed_bytes;              /* per group: one O16I4 matrix */
    qlite_o16i4_weights wp;           /* `groups` matrices W [Og, K] in O16I4 (GEMM path) */
    size_t tile_bytes;                /* per thread: rows x lda + rowsum + the tile it holds
                                         + the GEMM's workspace */
    size_t ws_off, ws_bytes;          /* the workspace in a thread's tile scratch (0: none) */
    size_t img_bytes;                 /* the padded / quantized input */
    int64_t Hp, Wp;                   /* CONV_2D: the padded input's height and width */
    int threads;
    /* integer */
    uint8_t flip;
    bool is_signed;
    int32_t zx, zu;
    const int32_t *bias32;
    qlite_q8_weights wq;
    qlite_q8_cols cols;
    /* hybrid */
    qlite_hybrid_cols hc;
} convq_state;

/* Scratch: [per-thread tiles] [image: padded or quantized] [hybrid: su N, zu N]. */
typedef struct convq_job {
    const convq_state *s;
    const uint8_t *x;                 /* unsigned source: the input (integer) or its quantization */
    const int8_t *w;
    void *y;
    const int8_t *packed;
    uint8_t *tiles;
    const float *su;
    const int32_t *zu;                /* per image (hybrid) */
    uint8_t flip;                     /* 1x1 direct rows: the flip still to apply to x */
} convq_job;

/* ---- references ---- */

/* w[o][ky][kx][c], k = (ky*KW + kx)*Cg + c: from the O16I4 matrices when the
 * kernel holds them, else from the row-major weights w. */
static inline int32_t convq_w(const convq_state *s, const int8_t *w, int64_t o, int64_t k) {
    if (!s->wp.data) return w[o * s->g.K + k];
    const int64_t grp = o / s->g.Og;
    return qlite_o16i4_at(s->wp.data + (size_t)grp * s->wp.mat_bytes, (size_t)s->g.K,
                          (size_t)(o - grp * s->g.Og), (size_t)k);
}

/* acc of output (n, oy, ox, o) from unsigned codes with zero point zu (int64 arithmetic is
 * not needed: prepare bounded |acc|). */
static int32_t conv_acc(const convq_state *s, const uint8_t *u, int32_t zu, const int8_t *w,
                        int64_t n, int64_t oy, int64_t ox, int64_t o, int32_t zw) {
    const qlite_conv_geom *g = &s->g;
    const int64_t grp = o / g->Og;
    int32_t acc = 0;
    for (int64_t ky = 0; ky < g->KH; ky++)
        for (int64_t kx = 0; kx < g->KW; kx++) {
            int64_t iy, ix;
            if (s->transposed) {
                iy = qlite_tconv_source(oy, ky, g->sh, g->dh, g->pt, g->H);
                ix = iy < 0 ? -1 : qlite_tconv_source(ox, kx, g->sw, g->dw, g->pl, g->W);
                if (ix < 0) continue;
            } else {
                iy = oy * g->sh - g->pt + ky * g->dh;
                ix = ox * g->sw - g->pl + kx * g->dw;
                if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W) continue;
            }
            const uint8_t *xp = u + ((n * g->H + iy) * g->W + ix) * g->C + grp * g->Cg;
            const int64_t k0 = (ky * g->KW + kx) * g->Cg;
            for (int64_t c = 0; c < g->Cg; c++)
                acc += (xp[c] - zu) * (convq_w(s, w, o, k0 + c) - zw);
        }
    return acc;
}

static void convq_ref(const convq_state *s, const uint8_t *x, const int8_t *w, uint8_t *y) {
    const qlite_conv_geom *g = &s->g;
    /* x - zx = u - zu with u the byte read as unsigned after the flip: use the codes directly */
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oy = 0; oy < g->OH; oy++)
            for (int64_t ox = 0; ox < g->OW; ox++)
                for (int64_t o = 0; o < g->O; o++) {
                    const qlite_conv_geom *gg = g;
                    int32_t acc = s->bias32 ? s->bias32[o] : 0;
                    const int32_t zw = qlite_q8_wzp(&s->wq, (size_t)o);
                    const int64_t grp = o / gg->Og;
                    for (int64_t ky = 0; ky < gg->KH; ky++)
                        for (int64_t kx = 0; kx < gg->KW; kx++) {
                            int64_t iy, ix;
                            if (s->transposed) {
                                iy = qlite_tconv_source(oy, ky, gg->sh, gg->dh, gg->pt, gg->H);
                                ix = iy < 0 ? -1
                                            : qlite_tconv_source(ox, kx, gg->sw, gg->dw, gg->pl,
                                                                 gg->W);
                                if (ix < 0) continue;
                            } else {
                                iy = oy * gg->sh - gg->pt + ky * gg->dh;
                                ix = ox * gg->sw - gg->pl + kx * gg->dw;
                                if (iy < 0 || iy >= gg->H || ix < 0 || ix >= gg->W) continue;
                            }
                            const uint8_t *xp =
                                x + ((n * gg->H + iy) * gg->W + ix) * gg->C + grp * gg->Cg;
                            const int64_t k0 = (ky * gg->KW + kx) * gg->Cg;
                            for (int64_t c = 0; c < gg->Cg; c++)
                                acc += (qlite_q8_decode(xp[c], s->is_signed) - s->zx) *
                                       (convq_w(s, w, o, k0 + c) - zw);
                        }
                    y[((n * g->OH + oy) * g->OW + ox) * g->O + o] =
                        qlite_q8_cols_out(&s->cols, (size_t)o, acc);
                }
}

static void convh_ref(const convq_state *s, const uint8_t *u, const float *su, const int32_t *zu,
                      const int8_t *w, float *y) {
    const qlite_conv_geom *g = &s->g;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oy = 0; oy < g->OH; oy++)
            for (int64_t ox = 0; ox < g->OW; ox++)
                for (int64_t o = 0; o < g->O; o++) {
                    const int32_t acc = conv_acc(s, u, zu[n], w, n, oy, ox, o, 0);
                    float v = (float)acc * (su[n] * s->hc.wscale[o]);
                    if (s->hc.bias) v += s->hc.bias[o];
                    y[((n * g->OH + oy) * g->OW + ox) * g->O + o] =
                        qlite_clampf(v, s->hc.lo, s->hc.hi);
                }
}

/* ---- the GEMM path ---- */

/*
 * dst[0, n) = src[0, n), 16 bytes at a time: may read and write up to 15
 * bytes past n (the padded image and the tiles keep 64 bytes of slack, and
 * later writes of the same row cover the overshoot).
 */
static inline void copy16(uint8_t *dst, const uint8_t *src, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        uint8_t v[16];
        memcpy(v, src + i, 16);
        memcpy(dst + i, v, 16);
    }
}

/* Pads [K, lda) of a patch row with zeros and sums its K codes when rowsum is set. */
static inline void finish_row(uint8_t *row, size_t K, size_t lda, int32_t *rowsum) {
    for (size_t k = K; k < lda; k++) row[k] = 0;
    if (rowsum) {
        int32_t sum = 0;
        for (size_t k = 0; k < K; k++) sum += row[k];
        *rowsum = sum;
    }
}

/*
 * CONV_2D: patch rows of output pixels [p0, p0 + rows), group grp, into col
 * [rows, lda], from the padded image (every window inside it: no bounds
 * checks). A window row is one run of KW * C bytes when dw = 1 and there is
 * one group; otherwise KW runs of Cg bytes. Runs are copied 16 bytes at a
 * time, or 64 with AVX-512 when a run is 64+ bytes (the padded image and the
 * tile keep 64 bytes of slack for the overshoot).
 */
typedef void (*convq_copy_fn)(uint8_t *dst, const uint8_t *src, size_t n);

static inline __attribute__((always_inline)) void
patches_plain_body(const convq_state *s, const uint8_t *pimg, int64_t grp, size_t p0, size_t rows,
                   uint8_t *col, int32_t *rowsum, convq_copy_fn copy) {
    const qlite_conv_geom *g = &s->g;
    const size_t Cg = (size_t)g->Cg, C = (size_t)g->C, K = (size_t)g->K, lda = s->lda;
    const size_t KH = (size_t)g->KH, KW = (size_t)g->KW, OW = (size_t)g->OW, OH = (size_t)g->OH;
    const size_t rowstride = (size_t)s->Wp * C, dh = (size_t)g->dh * rowstride;
    const size_t sh = (size_t)g->sh * rowstride, sw = (size_t)g->sw * C, dw = (size_t)g->dw * C;
    const size_t img = (size_t)s->Hp * rowstride;
    const bool runs = g->dw == 1 && Cg == C;
    const size_t run = KW * C;
    size_t n = p0 / (OH * OW), oy = p0 % (OH * OW) / OW, ox = p0 % OW;
    if (runs && run <= 16 && lda - K < 4 && !rowsum) {
        /* thin inputs (first layers: the RGB stem's 3x3 window rows are 9 bytes): each
         * window row is one 8- or 16-byte move, the row's padding one 4-byte store (both may
         * spill into the next row, written after, or the tile's 64 bytes of slack; the
         * padded image has 64 bytes of slack for the reads) */
        const uint32_t zero = 0;
        for (size_t r = 0; r < rows; r++) {
            uint8_t *dst = col + r * lda;
            const uint8_t *src = pimg + n * img + oy * sh + ox * sw;
            if (run <= 8)
                for (size_t ky = 0; ky < KH; ky++, src += dh, dst += run) memcpy(dst, src, 8);
            else
                for (size_t ky = 0; ky < KH; ky++, src += dh, dst += run) memcpy(dst, src, 16);
            memcpy(col + r * lda + K, &zero, 4);
            if (++ox == OW) {
                ox = 0;
                if (++oy == OH) {
                    oy = 0;
                    n++;
                }
            }
        }
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        uint8_t *dst = col + r * lda;
        const uint8_t *src = pimg + n * img + oy * sh + ox * sw + (size_t)grp * Cg;
        for (size_t ky = 0; ky < KH; ky++, src += dh) {
            if (runs) {
                copy(dst, src, run);
                dst += run;
            } else {
                for (size_t kx = 0; kx < KW; kx++, dst += Cg) copy(dst, src + kx * dw, Cg);
            }
        }
        finish_row(col + r * lda, K, lda, rowsum ? rowsum + r : NULL);
        if (++ox == OW) {
            ox = 0;
            if (++oy == OH) {
                oy = 0;
                n++;
            }
        }
    }
}

static void patches_plain(const convq_state *s, const uint8_t *pimg, int64_t grp, size_t p0,
                          size_t rows, uint8_t *col, int32_t *rowsum) {
    patches_plain_body(s, pimg, grp, p0, rows, col, rowsum, copy16);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CONVQ_X86 1
/*
 * The same with 64-byte moves (AVX-512): a 3x3 window row of 64..512
 * channels is 192..1536 bytes, 4x fewer moves than 16 at a time. Overshoot
 * up to 63 bytes past a run: the padded image and each tile keep 64 bytes of
 * slack, and later writes of the row (or the next row) cover the rest.
 */
__attribute__((target("avx512f"))) static inline void copy64(uint8_t *dst, const uint8_t *src,
                                                             size_t n) {
    for (size_t i = 0; i < n; i += 64)
        _mm512_storeu_si512((void *)(dst + i), _mm512_loadu_si512((const void *)(src + i)));
}

__attribute__((target("avx512f"))) static void
patches_plain_avx512(const convq_state *s, const uint8_t *pimg, int64_t grp, size_t p0,
                     size_t rows, uint8_t *col, int32_t *rowsum) {
    patches_plain_body(s, pimg, grp, p0, rows, col, rowsum, copy64);
}
#endif

/*
 * TRANSPOSE_CONV_2D: patch rows from the unpadded codes x (XOR flip): the
 * input pixel each tap of the output pixel comes from, or the zero point.
 */
static void patches_tconv(const convq_state *s, const convq_job *j, int64_t grp, size_t p0,
                          size_t rows, uint8_t *col, int32_t *rowsum) {
    const qlite_conv_geom *g = &s->g;
    const size_t Cg = (size_t)g->Cg, K = (size_t)g->K, lda = s->lda;
    const int64_t OHW = g->OH * g->OW, H = g->H, W = g->W, C = g->C;
    const uint8_t flip = s->flip;
    int64_t p = (int64_t)p0, n = p / OHW, oy = p % OHW / g->OW, ox = p % g->OW;
    for (size_t r = 0; r < rows; r++) {
        uint8_t *dst = col + r * lda;
        const uint8_t pad = (uint8_t)(j->zu ? j->zu[n] : s->zu);
        const uint8_t *img = j->x + (size_t)(n * H * W * C + grp * g->Cg);
        for (int64_t ky = 0; ky < g->KH; ky++) {
            const int64_t iy = qlite_tconv_source(oy, ky, g->sh, g->dh, g->pt, H);
            for (int64_t kx = 0; kx < g->KW; kx++, dst += Cg) {
                const int64_t ix = iy < 0 ? -1 : qlite_tconv_source(ox, kx, g->sw, g->dw, g->pl, W);
                if (ix < 0) {
                    for (size_t c = 0; c < Cg; c++) dst[c] = pad;
                } else {
                    const uint8_t *src = img + (size_t)((iy * W + ix) * C);
                    for (size_t c = 0; c < Cg; c++) dst[c] = (uint8_t)(src[c] ^ flip);
                }
            }
        }
        finish_row(col + r * lda, K, lda, rowsum ? rowsum + r : NULL);
        if (++ox == g->OW) {
            ox = 0;
            if (++oy == g->OH) {
                oy = 0;
                n++;
            }
        }
    }
}

/*
 * The padded image of CONV_2D: [N, Hp, Wp, C] unsigned codes with the
 * padding at each image's zero point (real 0). Integer: x ^ flip; hybrid:
 * each image quantized with its own parameters (su, zu), found first
 * (qlite_hybrid_params_parallel). The padded rows are independent: split
 * between the threads (qlite_kernel_parallel: inline when small or on one
 * thread); each code depends only on its input value and (su, zu), so any
 * split writes the same bytes.
 */
typedef struct pad_job {
    const convq_state *s;
    const void *x;
    bool hybrid;
    uint8_t *pimg;
    const float *su;
    const int32_t *zu;
} pad_job;

/* Padded rows [begin, end) of all images (row r = image r / Hp, row r % Hp). */
static void pad_rows(void *arg, size_t begin, size_t end) {
    const pad_job *j = arg;
    const convq_state *s = j->s;
    const qlite_conv_geom *g = &s->g;
    const size_t C = (size_t)g->C, W = (size_t)g->W, H = (size_t)g->H;
    const size_t Wp = (size_t)s->Wp, Hp = (size_t)s->Hp, pl = (size_t)g->pl, pt = (size_t)g->pt;
    const size_t rowb = Wp * C, hwc = H * W * C;
    for (size_t r = begin; r < end; r++) {
        const size_t n = r / Hp, yy = r % Hp;
        const uint8_t pad = (uint8_t)(j->hybrid ? j->zu[n] : s->zu);
        uint8_t *row = j->pimg + r * rowb;
        if (yy < pt || yy >= pt + H) {
            memset(row, pad, rowb);
            continue;
        }
        const size_t off = n * hwc + (yy - pt) * W * C;
        memset(row, pad, pl * C);
        if (j->hybrid) {
            qlite_hybrid_apply((const float *)j->x + off, W * C, j->su[n], j->zu[n], row + pl * C);
        } else {
            const uint8_t *src = (const uint8_t *)j->x + off, flip = s->flip;
            uint8_t *d = row + pl * C;
            for (size_t i = 0; i < W * C; i++) d[i] = (uint8_t)(src[i] ^ flip);
        }
        memset(row + (pl + W) * C, pad, (Wp - pl - W) * C);
    }
}

static void pad_images(const qlite_node *node, const convq_state *s, const void *x, bool hybrid,
                       uint8_t *pimg, float *su, int32_t *zu) {
    const qlite_conv_geom *g = &s->g;
    const size_t hwc = (size_t)(g->H * g->W * g->C), rowb = (size_t)s->Wp * (size_t)g->C;
    if (hybrid)
        for (size_t n = 0; n < (size_t)g->N; n++)
            su[n] = qlite_hybrid_params_parallel(node, (const float *)x + n * hwc, hwc, &zu[n]);
    pad_job j = {.s = s, .x = x, .hybrid = hybrid, .pimg = pimg, .su = su, .zu = zu};
    /* cost: about one simple operation per byte copied, four per float quantized */
    qlite_kernel_parallel(node, (size_t)g->N * (size_t)s->Hp, rowb * (hybrid ? 4 : 1), pad_rows,
                          &j);
    memset(pimg + (size_t)g->N * (size_t)s->Hp * rowb, 0, 64); /* the slack copy16 may read */
}

/* Hybrid: rows [p0, p0 + rows) x channels [c0, c1) from int32 to float. */
static void hybrid_rows(const convq_state *s, const convq_job *j, size_t c0, size_t c1, size_t p0,
                        size_t rows) {
    const qlite_conv_geom *g = &s->g;
    float *y = j->y;
    const size_t O = (size_t)g->O;
    for (size_t r = 0; r < rows; r++) {
        const size_t p = p0 + r, n = p / (size_t)(g->OH * g->OW);
        float *row = y + p * O;
        qlite_hybrid_finish(&s->hc, c0, c1, j->su[n], j->zu[n], (const int32_t *)(void *)row,
                            row);
    }
}

/* Thread t's tile scratch: patches, 64 bytes of slack, rowsums, then (8-byte aligned) the
 * index + 1 of the tile whose patches it holds. */
static inline size_t held_offset(const convq_state *s) {
    return (s->tile_rows * s->lda + 64 + s->tile_rows * sizeof(int32_t) + 7) / 8 * 8;
}

/*
 * Work items: (tile of output pixels, range of output columns), tile-major;
 * item i = tile i / ncols, columns [c * col_width, ...) of range c = i % ncols
 * (ncols is 1 unless one group and too few tiles for the threads). Each
 * thread gathers a tile's patches into its own scratch and keeps them for its
 * next item of the same tile (the index of the tile it holds, plus 1, is
 * stored after its rowsums; 0 = none, reset by eval).
 */
static void items_range(void *arg, int thread, size_t begin, size_t end) {
    const convq_job *j = arg;
    const convq_state *s = j->s;
    const qlite_conv_geom *g = &s->g;
    const size_t P = (size_t)(g->N * g->OH * g->OW), O = (size_t)g->O, Og = (size_t)g->Og;
    const size_t es = s->hybrid ? 4 : 1;
    const unsigned mode = s->hybrid ? QLITE_GEMM_Q8_INT32 : QLITE_GEMM_Q8_BYTES;
    uint8_t *col = j->tiles + (size_t)thread * s->tile_bytes;
    int32_t *rowsum = (int32_t *)(void *)(col + s->tile_rows * s->lda + 64);
    size_t *held = (size_t *)(void *)(col + held_offset(s));
    const size_t K4 = qlite_gemm_q8_k4((size_t)g->K);
    for (size_t it = begin; it < end; it++) {
        const size_t tile = it / s->ncols, cr = it % s->ncols;
        const size_t p0 = tile * s->tile_rows;
        const size_t rows = P - p0 < s->tile_rows ? P - p0 : s->tile_rows;
        const size_t n0 = cr * s->col_width, n1 = n0 + s->col_width < Og ? n0 + s->col_width : Og;
        for (int64_t grp = 0; grp < g->groups; grp++) {
            const size_t gc = (size_t)(grp * g->Og);
            const qlite_q8_cols cols = qlite_q8_cols_from(&s->cols, gc);
            if (g->groups > 1 || *held != tile + 1) {
                if (s->transposed)
                    patches_tconv(s, j, grp, p0, rows, col, cols.zw ? rowsum : NULL);
                else if (s->direct) /* 1x1: a patch is an input pixel */
                    qlite_gemm_q8_copy_a(rows, (size_t)g->C, j->x + p0 * (size_t)g->C,
                                         (size_t)g->C, j->flip, col, s->lda,
                                         cols.zw ? rowsum : NULL);
#ifdef CONVQ_X86
                else if (s->wide_copy)
                    patches_plain_avx512(s, j->x, grp, p0, rows, col, cols.zw ? rowsum : NULL);
#endif
                else
                    patches_plain(s, j->x, grp, p0, rows, col, cols.zw ? rowsum : NULL);
                *held = g->groups > 1 ? 0 : tile + 1;
            }
            uint8_t *c = (uint8_t *)j->y + (p0 * O + gc) * es;
            if (s->dot) {
                qlite_gemm_q8_dot_rows(s->uk, rows, (size_t)g->K, col, s->lda, rowsum,
                                       j->w + gc * (size_t)g->K, (size_t)g->K, n0, n1, &cols, c,
                                       O, mode);
            } else {
                const qlite_q8_cols cn = qlite_q8_cols_from(&cols, n0);
                qlite_gemm_q8_tiles_ws(
                    s->uk, rows, n1 - n0, (size_t)g->K, col, s->lda,
                    j->packed + (size_t)grp * s->packed_bytes + n0 / 16 * K4 * 16, &cn, rowsum,
                    c + n0 * es, O, mode, s->ws_bytes ? col + s->ws_off : NULL);
            }
            if (s->hybrid) hybrid_rows(s, j, gc + n0, gc + n1, p0, rows);
        }
    }
}

static qlite_status convq_eval(qlite_node *node) {
    const convq_state *s = node->state;
    const qlite_conv_geom *g = &s->g;
    convq_job j = {.s = s, .x = node->inputs[0]->data, .w = node->inputs[1]->data,
                   .y = node->outputs[0]->data};
    uint8_t *scratch = node->scratch;
    /* [tiles] [image: padded (CONV_2D) or quantized (hybrid tconv)] [su, zu] */
    uint8_t *img = scratch + (size_t)s->threads * s->tile_bytes;
    float *su = (float *)(void *)(img + s->img_bytes);
    int32_t *zu = (int32_t *)(void *)(su + g->N);
    const bool ref = qlite_node_reference_only(node);
    if (s->hybrid) {
        j.su = su;
        j.zu = zu;
        if (ref || s->transposed) { /* unpadded codes */
            const size_t hwc = (size_t)(g->H * g->W * g->C);
            const float *xf = node->inputs[0]->data;
            for (int64_t n = 0; n < g->N; n++)
                su[n] = ref ? qlite_hybrid_quantize(xf + (size_t)n * hwc, hwc,
                                                    img + (size_t)n * hwc, &zu[n], NULL)
                            : qlite_hybrid_quantize_parallel(node, xf + (size_t)n * hwc, hwc,
                                                             img + (size_t)n * hwc, &zu[n], NULL);
            j.x = img;
            if (ref) {
                convh_ref(s, img, su, zu, j.w, j.y);
                return QLITE_OK;
            }
        }
    } else if (ref) {
        convq_ref(s, j.x, j.w, j.y);
        return QLITE_OK;
    }
    j.flip = s->hybrid ? 0 : s->flip;
    if (s->direct && !s->hybrid) {
        j.x = node->inputs[0]->data; /* rows copied with the flip, no padded copy */
    } else if (!s->transposed) {
        pad_images(node, s, node->inputs[0]->data, s->hybrid, img, su, zu);
        j.x = img;
        j.flip = 0;
    }
    j.tiles = scratch;
    for (int t = 0; t < s->threads; t++) /* no thread holds a tile of this input yet */
        *(size_t *)(void *)(scratch + (size_t)t * s->tile_bytes + held_offset(s)) = 0;
    if (!s->dot) j.packed = s->wp.data; /* O16I4, from the file or made at prepare */
    qlite_parallel_for_thread(node, s->ntiles * s->ncols, items_range, &j);
    return QLITE_OK;
}

/* ---- prepare ---- */

static qlite_status convq_prepare(qlite_node *node, bool transposed, bool hybrid) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_tensor *y = node->outputs[0];
    convq_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->transposed = transposed;
    s->hybrid = hybrid;
    qlite_conv_geom *g = &s->g;
    if ((st = qlite_conv_geom_init(node, transposed ? QLITE_CONV_TRANSPOSED : QLITE_CONV_PLAIN, x,
                                   w, b, g)))
        return st;
    if (!w->is_const)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "int8 weights '%s' must be a constant", w->info->name);
    if ((st = qlite_q8_weights_init(node, w, "weights", 0, (size_t)g->O, &s->wq))) return st;
    const size_t K = (size_t)g->K, O = (size_t)g->O;
    const size_t P = (size_t)(g->N * g->OH * g->OW);
    /* handed over in a packed layout (kernel.h raw_packed_inputs): the GEMM tiles read it */
    const bool stored_packed = w->data == w->info->data && w->info->layout != QLITE_LAYOUT_DEFAULT;
    s->dot = P < QLITE_GEMM_Q8_DOT_M && !stored_packed;
    if (stored_packed && g->groups > 1 && g->Og % 16 != 0)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED,
                                "weights '%s' are stored in a packed layout with %lld groups of "
                                "%lld output channels: read in place only with one group or "
                                "groups of a multiple of 16 channels",
                                w->info->name, (long long)g->groups, (long long)g->Og);
    int64_t *wsum = qlite_node_alloc(node, (O ? O : 1) * sizeof(int64_t));
    if (!wsum) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if (!s->dot) { /* the GEMM reads O16I4 weights: made once here unless the file has them */
        if ((st = qlite_o16i4_weights_get(node, w, "weights", (size_t)g->groups, (size_t)g->Og,
                                          K, &s->wp, wsum)))
            return st;
        s->packed_bytes = s->wp.mat_bytes;
    } else { /* DEFAULT weights read in place by the dot algorithm */
        const int8_t *wd = w->data;
        for (size_t o = 0; o < O; o++) {
            int64_t sum = 0;
            for (size_t k = 0; k < K; k++) sum += wd[o * K + k];
            wsum[o] = sum;
        }
    }
    if (hybrid) {
        if ((st = qlite_nn_check_dtype(node, y, "output", QLITE_DTYPE_FLOAT32)) ||
            (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))) ||
            (st = qlite_hybrid_check_acc(node, K, &s->wq)) ||
            (st = qlite_hybrid_cols_build_sums(node, O, &s->wq, wsum, b ? b->data : NULL, g->act,
                                               &s->hc)))
            return st;
        s->cols.bias = NULL; /* the GEMM stores raw accumulators */
    } else {
        qlite_q8 qx, qy;
        int64_t max_bias;
        if ((st = qlite_q8_params(node, x, "input", &qx)) ||
            (st = qlite_node_check_same_dtype(node, x, "input", y, "output")) ||
            (st = qlite_q8_params(node, y, "output", &qy)) ||
            (st = qlite_q8_bias_init(node, b, O, &s->bias32, &max_bias)) ||
            (st = qlite_q8_check_acc(node, K, &s->wq, max_bias)))
            return st;
        s->is_signed = qx.is_signed;
        s->zx = qx.zero_point;
        s->flip = qx.is_signed ? 0x80 : 0;
        s->zu = qx.zero_point + (qx.is_signed ? 128 : 0);
        if ((st = qlite_q8_cols_build(node, O, &s->wq, qx.scale, s->zu, &qy, g->act, s->bias32,
                                      wsum, K, &s->cols)))
            return st;
    }
    s->eval = convq_eval;
    s->threads = qlite_node_threads(node);
    /* in place: only tiles whose width divides the stored 16-column blocks */
    s->uk = s->dot ? qlite_gemm_q8_select_for((size_t)g->Og)
                   : qlite_gemm_q8_select_packed((size_t)g->Og, s->wp.in_place);
    s->lda = s->dot ? qlite_gemm_q8_dot_lda(K) : qlite_gemm_q8_k4(K);
    /*
     * Tiles: ~16 KiB of patches (they stay in L1 beside a weight panel), but
     * at least 64 rows: every tile streams all of the group's weights (2.4
     * MB for ResNet-18's 3x3 512 -> 512, more than L2), so deep layers with
     * few pixels want few tiles (a 64 x 4608 tile still sits in L2). Then
     * the tiles are evened out (49 pixels: one tile of 49, not 48 + 1).
     * At most 256 rows, except on the AMX tiles (any_shape) with a short K
     * (K4 < 64, 16 KiB of patches is 512+ rows): up to 1024, each call's
     * pipeline fill and drain spread over more 32-row blocks (MobileNetV2's
     * 112x112 1x1s of K = 16, 32 ~12% faster than at 256), as long as there
     * are 4 tiles per thread.
     */
    const size_t mr = s->uk->mr;
    size_t rows = 16384 / s->lda, cap = 256;
    if (s->uk->any_shape) {
        cap = P / (4 * (size_t)s->threads);
        cap = cap < 256 ? 256 : cap > 1024 ? 1024 : cap;
    }
    if (rows < 64) rows = 64;
    if (rows > cap) rows = cap;
    if (s->dot) rows = QLITE_GEMM_Q8_DOT_M;
    size_t ntiles = P ? (P + rows - 1) / rows : 1;
    if (!s->dot) {
        rows = (P + ntiles - 1) / ntiles;
        rows = rows ? (rows + mr - 1) / mr * mr : mr;
        ntiles = P ? (P + rows - 1) / rows : 1;
    }
    /* Few tiles for the threads, weights no larger than the input and output: the pixels
     * split into a multiple of `threads` tiles of equal size (at least 16 rows) before the
     * columns are. The pool's claims give the caller the front of the items and the
     * workers the back, so each thread then computes (and later reads) its own part of
     * the pixels, as the depthwise and element-wise ops around it do; a split by columns
     * alone had each thread write a part of every pixel, which the next op, split by
     * pixels, read from the other core. With larger weights (deep 3x3 layers: MBs) each
     * tile would stream them all: the columns are split instead, each thread reading
     * its own part of the weights. */
    const size_t T = (size_t)s->threads;
    const size_t wbytes = (size_t)g->groups * qlite_gemm_q8_k4(K) * (size_t)g->Og;
    const size_t abytes = P * ((size_t)g->C + O) * (hybrid ? 4 : 1);
    if (!s->dot && T > 1 && ntiles < 4 * T && ntiles % T != 0 && wbytes <= abytes) {
        size_t nt = (ntiles + T - 1) / T * T;
        while (nt > T && P / nt < 16) nt -= T;
        if (P / nt >= 16) {
            size_t r = (P + nt - 1) / nt;
            if (!s->uk->any_shape) r = (r + mr - 1) / mr * mr; /* the AMX tiles take any M */
            rows = r;
            ntiles = (P + r - 1) / r;
        }
    }
    s->tile_rows = rows;
    s->ntiles = ntiles;
    /* Too few tiles for the threads (4 items each, for claiming): one group's columns
     * are split into ranges of whole micro-tiles (16-column blocks for the dot path);
     * each thread gathers a tile's patches once for its consecutive ranges of it. */
    const size_t unit = s->dot ? 16 : s->uk->nr, units = ((size_t)g->Og + unit - 1) / unit;
    const size_t want = 4 * (size_t)s->threads;
    size_t ncols = 1;
    if (s->threads > 1 && g->groups == 1 && ntiles < want) {
        ncols = (want + ntiles - 1) / ntiles;
        if (ncols > units) ncols = units;
        if (ncols < 1) ncols = 1;
    }
    const size_t per = (units + ncols - 1) / ncols;
    s->col_width = per * unit;
    s->ncols = ((size_t)g->Og + s->col_width - 1) / s->col_width;
    if (s->ncols < 1) s->ncols = 1;
    /* (64 bytes of slack after the patch rows: copy16 may write 15 past a run; then the
     * rowsums and the index of the tile held) */
    s->tile_bytes = (held_offset(s) + sizeof(size_t) + 63) / 64 * 64;
    /* AVX2: the GEMM widens a tile's patches and each weight block to int16 once a call */
    s->ws_bytes = s->dot ? 0 : qlite_gemm_q8_ws_bytes(s->uk, s->tile_rows, K);
    s->ws_off = s->tile_bytes;
    s->tile_bytes += (s->ws_bytes + 63) / 64 * 64;
    s->direct = !transposed && g->groups == 1 && g->KH == 1 && g->KW == 1 && g->sh == 1 &&
                g->sw == 1 && g->pt == 0 && g->pl == 0 && node->opts->u.conv2d.pad_bottom == 0 &&
                node->opts->u.conv2d.pad_right == 0;
#ifdef CONVQ_X86
    /* runs of 64+ bytes (a window row of 22+ channels) are worth the wide moves */
    s->wide_copy = (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) &&
                   (g->dw == 1 && g->Cg == g->C ? g->KW * g->C : g->Cg) >= 64;
#endif
    /* CONV_2D reads a padded copy of the input (no bounds checks in the patches); the
     * hybrid reference and TRANSPOSE_CONV_2D quantize the input unpadded */
    const qlite_conv2d_options *o = &node->opts->u.conv2d;
    s->Hp = g->H + g->pt + (o->pad_bottom > 0 ? o->pad_bottom : 0);
    s->Wp = g->W + g->pl + (o->pad_right > 0 ? o->pad_right : 0);
    const size_t padded = transposed ? 0 : (size_t)(g->N * s->Hp * s->Wp * g->C) + 64;
    const size_t unpadded = hybrid ? (size_t)(g->N * g->H * g->W * g->C) : 0;
    s->img_bytes = ((padded > unpadded ? padded : unpadded) + 63) / 64 * 64;
    node->scratch_bytes = (size_t)s->threads * s->tile_bytes + s->img_bytes +
                          2 * (size_t)g->N * sizeof(int32_t);
    node->state = s;
    return QLITE_OK;
}

qlite_status qlite_conv_variants_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    if (w->dtype == QLITE_DTYPE_INT8 && qlite_is_q8(x->dtype))
        return convq_prepare(node, false, false);
    if (w->dtype == QLITE_DTYPE_INT8 && x->dtype == QLITE_DTYPE_FLOAT32)
        return convq_prepare(node, false, true);
    if (w->dtype == QLITE_DTYPE_FLOAT16 && x->dtype == QLITE_DTYPE_FLOAT32)
        return qlite_conv_f16_prepare(node);
    return qlite_nn_variant_unsupported(node, x, w);
}

qlite_status qlite_tconv_variants_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    if (w->dtype == QLITE_DTYPE_INT8 && qlite_is_q8(x->dtype))
        return convq_prepare(node, true, false);
    if (w->dtype == QLITE_DTYPE_INT8 && x->dtype == QLITE_DTYPE_FLOAT32)
        return convq_prepare(node, true, true);
    if (w->dtype == QLITE_DTYPE_FLOAT16 && x->dtype == QLITE_DTYPE_FLOAT32)
        return qlite_tconv_f16_prepare(node);
    return qlite_nn_variant_unsupported(node, x, w);
}
