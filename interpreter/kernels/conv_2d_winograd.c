/*
 * conv_2d_winograd.c — float32 CONV_2D 3x3 stride 1 by Winograd F(4x4, 3x3)
 * (see conv_2d_winograd.h for the algorithm).
 *
 * Matrices (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2015; interpolation points 0, 1, -1, 2, -2 and infinity):
 *
 *   B^T = [ 4  0 -5  0  1  0 ]    G = [  1/4    0     0  ]   A^T = [ 1 1  1 1  1 0 ]
 *         [ 0 -4 -4  1  1  0 ]        [ -1/6  -1/6  -1/6 ]         [ 0 1 -1 2 -2 0 ]
 *         [ 0  4 -4 -1  1  0 ]        [ -1/6   1/6  -1/6 ]         [ 0 1  1 4  4 0 ]
 *         [ 0 -2 -1  2  1  0 ]        [ 1/24  1/12  1/6  ]         [ 0 1 -1 8 -8 1 ]
 *         [ 0  2 -1 -2  1  0 ]        [ 1/24 -1/12  1/6  ]
 *         [ 0  4  0 -5  0  1 ]        [   0     0     1  ]
 *
 * Layout (all float32, in the node's scratch; nothing is kept between
 * invokes, so no memory beyond the weights as stored):
 *   U [36][ceil(O/16)][C][16]  component k = the O16 matrix of W_k [O, C]
 *   V [36][tiles][C]           input transform of the tiles
 *   M [36][tiles][O]           the 36 GEMMs' results
 * Two schedules:
 *   fused    V and M of all tiles fit in ~2 MiB (28x28x128 and smaller):
 *            input transform (threads split tiles); then each thread takes
 *            rows of the 6x6 components, makes that row's 6 U matrices from
 *            the weights into its own buffer and runs their 6 GEMMs; output
 *            transform (threads split tiles). U never exists whole.
 *   chunked  more tiles (56x56x64): all of U made first (threads split its
 *            rows), then chunks of tiles whose V and M (~1 MiB) stay in L2,
 *            each taken by one thread (its own V and M): input transform,
 *            36 GEMMs, output transform.
 * Each output element is one fixed sequence of operations (its tile's
 * transforms, the fast GEMM's sequential K chain), so any thread count and
 * either schedule give the same bits (gemm_f32's portable micro-kernels:
 * any thread count).
 * Transforms run 16 channels at a time as generic vectors (one AVX-512
 * register), built for AVX-512F / AVX2 / the baseline on x86 and chosen at
 * prepare within QLITE_MAX_ISA (struct qlite_wino_tf).
 */
#include <math.h>

#include "conv_2d_winograd.h"
#include "gemm_f16.h"
#include "gemm_q8.h" /* qlite_q8_feature_limit: QLITE_MAX_ISA and the tests' cap */
#include "nn_common.h"
#include "packed_weights.h"

QLITE_NN_OPTIMIZE_LOOPS

/* V + M of one chunk of tiles, bytes (both stay in a core's 2 MiB L2) */
#define WINO_CHUNK_BYTES ((size_t)1 << 20)
/* V + M of all tiles at most this: one pass, U made per thread, 6
 * components at a time, right before their GEMMs (never all of U) */
#define WINO_FUSED_BYTES ((size_t)2 << 20)

/* output panels (16 channels) per group in panel mode: 32 columns, the
 * fast GEMM's 10 x 32 tiles */
#define WINO_GROUP_PANELS ((size_t)2)

#define WINO_INLINE static inline __attribute__((always_inline))

/* acc = clamp(acc, lo, hi) lane by lane; NaN passes through like qlite_clampf */
#define V16_CLAMP(acc, lo, hi)                                                          \
    do {                                                                                \
        const qlite_v16i lt_ = (acc) < (lo);                                            \
        (acc) = (qlite_v16f)(((qlite_v16i)(lo) & lt_) | ((qlite_v16i)(acc) & ~lt_));    \
        const qlite_v16i gt_ = (acc) > (hi);                                            \
        (acc) = (qlite_v16f)(((qlite_v16i)(hi) & gt_) | ((qlite_v16i)(acc) & ~gt_));    \
    } while (0)

static qlite_wino_mode g_mode;

void qlite_wino_set_mode(qlite_wino_mode mode) { g_mode = mode; }

/*
 * Measured on ResNet-18's layers (Xeon, AVX-512, 1 thread, interleaved
 * runs; docs/api.md): 56x56x64 -> 64 about 0.5x the implicit-im2col time,
 * 28x28x128 -> 128 about 0.6x. 14x14x256 -> 256 1.9x and 7x7x512 -> 512 4x
 * slower: making U per invoke (9 and 36 MiB, or re-reading the weights per
 * row of components) is memory-bound and costs more than the multiplies
 * saved; U kept from prepare would be 4x the weights and measured no faster
 * at 14x14x256. So: U at most 36 x 128 x 128 floats (2.25 MiB), at least 16
 * channels in and out (below that the transforms cost more than the saved
 * multiplies), and tiles at least half filled (OH x OW >= 8 x tiles: 36
 * multiplies per tile against 9 per output pixel directly).
 * Larger C x O: the panel schedule (U made per group of 32 output channels,
 * each weight read once), where V and M of all tiles fit in ~2 MiB and there
 * are at least 16 tiles: 14x14x256 -> 256 (16 tiles) measured ~0.75x the
 * implicit-im2col time (min of 300 interleaved runs, 1 thread; weight
 * transform ~25%, GEMMs ~45% of it); 7x7x512 -> 512 (4 tiles) 1.27x slower,
 * its 4-row GEMMs and a weight transform per 4 tiles cost more than the
 * saved multiplies.
 */
static bool wino_panel_fits(int64_t tiles, int64_t C, int64_t O) {
    return tiles >= 16 &&
           (size_t)tiles * 36 * (size_t)(C + O) * sizeof(float) <= WINO_FUSED_BYTES;
}

bool qlite_wino_wanted(int64_t OH, int64_t OW, int64_t C, int64_t O) {
    if (OH < 1 || OW < 1 || C < 1 || O < 1) return false;
    if (g_mode != QLITE_WINO_RULE) return true;
    const int64_t tiles = ((OH + 3) / 4) * ((OW + 3) / 4);
    if (C < 16 || O < 16 || OH * OW < 8 * tiles) return false;
    return C * O <= 128 * 128 || wino_panel_fits(tiles, C, O);
}

typedef struct wino_job {
    const qlite_wino *p;
    const float *x, *b;
    const void *w; /* O16 weights (float16 when half) */
    bool half;
    float *y, *u, *v, *m;
    float *wide; /* float16 weights: one widened panel per thread */
    size_t t0, tb; /* the chunk: tiles [t0, t0 + tb) */
} wino_job;

/*
 * The transforms, built once per instruction set from the bodies below
 * (WINO_TF: 16-float vectors as one AVX-512 register, two AVX2 ones, or the
 * baseline's), chosen at prepare like the GEMMs: the best this CPU has
 * within QLITE_MAX_ISA and the tests' cap (qlite_q8_feature_limit), so
 * QLITE_MAX_ISA=avx2 runs what an AVX2 machine runs. (They were ifunc
 * clones chosen by the CPU alone, which no cap reached.)
 */
struct qlite_wino_tf {
    const char *name; /* "avx512f", "avx2", "baseline" */
    void (*weights_range)(void *arg, int thread, size_t begin, size_t end);
    void (*weights_into)(const wino_job *j, int i, float *u, float *wide);
    void (*weights_panels_row)(const wino_job *j, size_t pn0, size_t pn1, int i, float *u,
                               float *wide);
    void (*input_range)(void *arg, size_t begin, size_t end);
    void (*output_cols)(const wino_job *j, size_t begin, size_t end, size_t o_lo, size_t o_hi);
};

/* *out = row i of G times the column of taps (a, b, c), 16 lanes */
WINO_INLINE void g_row(int i, const qlite_v16f *a, const qlite_v16f *b, const qlite_v16f *c,
                       qlite_v16f *out) {
    const float c4 = 0.25f, c6 = -1.0f / 6.0f, c24 = 1.0f / 24.0f, c12 = 1.0f / 12.0f,
                c6p = 1.0f / 6.0f;
    switch (i) {
    case 0: *out = *a * c4; break;
    case 1: *out = (*a + *b + *c) * c6; break;
    case 2: *out = (*a - *b + *c) * c6; break;
    case 3: *out = *a * c24 + *b * c12 + *c * c6p; break;
    case 4: *out = *a * c24 - *b * c12 + *c * c6p; break;
    default: *out = *c; break;
    }
}

/*
 * Rows [i0, i1) of U = G g G^T for 16 output channels (one O16 panel's
 * lanes) and one input channel: g[ky*3 + kx] the 9 taps (16 lanes each),
 * component i*6 + j stored at u + (i*6 + j - i0*6) * us.
 */
WINO_INLINE void weight_tf(const float *const g[9], int i0, int i1, float *u, size_t us) {
    qlite_v16f tap[9];
    for (int k = 0; k < 9; k++) QLITE_V16F_LOAD(tap[k], g[k]);
    for (int i = i0; i < i1; i++) {
        qlite_v16f t[3]; /* (G g) row i */
        for (int kx = 0; kx < 3; kx++) g_row(i, &tap[kx], &tap[3 + kx], &tap[6 + kx], &t[kx]);
        /* (G g) G^T, row i: G times (t0, t1, t2), the sums shared between
         * the rows of G that have them */
        const float c4 = 0.25f, c6 = -1.0f / 6.0f, c24 = 1.0f / 24.0f, c12 = 1.0f / 12.0f,
                    c6p = 1.0f / 6.0f;
        const qlite_v16f ac = t[0] + t[2], pq = t[0] * c24 + t[2] * c6p, q = t[1] * c12;
        qlite_v16f v[6];
        v[0] = t[0] * c4;
        v[1] = (ac + t[1]) * c6;
        v[2] = (ac - t[1]) * c6;
        v[3] = pq + q;
        v[4] = pq - q;
        v[5] = t[2];
        float *ui = u + (size_t)((i - i0) * 6) * us;
        for (int jj = 0; jj < 6; jj++) QLITE_V16F_STORE(ui + (size_t)jj * us, v[jj]);
    }
}

/* Rows [i0, i1) of U (6 components each) for panels [pn0, pn1) and every
 * channel into u (panel pn's channel c at (pn - pn0) C + c, components us
 * floats apart); float16 weights are widened a panel at a time into `wide`
 * (9 C x 16) unless `widened` (the panels already there, 9 C x 16 apart). */
WINO_INLINE void weights_rows(const wino_job *j, size_t pn0, size_t pn1, int i0, int i1,
                              float *u, size_t us, float *wide, bool widened) {
    const qlite_wino *p = j->p;
    const size_t C = (size_t)p->C, K = 9 * C;
    for (size_t pn = pn0; pn < pn1; pn++) {
        const float *panel = (const float *)j->w + pn * K * 16;
        if (j->half) { /* the panel's [9C][16] halves are contiguous */
            if (!widened)
                qlite_f16_to_f32_row((const uint16_t *)j->w + pn * K * 16, wide, K * 16);
            panel = widened ? wide + (pn - pn0) * K * 16 : wide;
        }
        for (size_t c = 0; c < C; c++) {
            const float *g[9]; /* tap k of channel c: [k * C + c][16] */
            for (size_t k = 0; k < 9; k++) g[k] = panel + (k * C + c) * 16;
            weight_tf(g, i0, i1, u + ((pn - pn0) * C + c) * 16, us);
        }
    }
}

/* Rows [begin, end) of the whole U (chunked mode). */
WINO_INLINE void weights_range_body(void *arg, int thread, size_t begin, size_t end) {
    const wino_job *j = arg;
    weights_rows(j, 0, j->p->panels, (int)begin, (int)end, j->u + begin * 6 * j->p->u_stride,
                 j->p->u_stride, j->wide + (size_t)thread * j->p->wide_floats, false);
}

/* Row i of U (components 6i .. 6i+5) into u (fused mode). */
WINO_INLINE void weights_into_body(const wino_job *j, int i, float *u, float *wide) {
    weights_rows(j, 0, j->p->panels, i, i + 1, u, j->p->u_stride, wide, false);
}

/* Panel mode: row i of U for panels [pn0, pn1) (their weights widened into
 * `wide` first when float16) into u, components (pn1 - pn0) 16 C apart. */
WINO_INLINE void weights_panels_row_body(const wino_job *j, size_t pn0, size_t pn1, int i,
                                         float *u, float *wide) {
    const size_t us = (pn1 - pn0) * 16 * (size_t)j->p->C;
    switch (i) { /* a constant row for each loop: G's row chosen at compile time */
    case 0: weights_rows(j, pn0, pn1, 0, 1, u, us, wide, true); break;
    case 1: weights_rows(j, pn0, pn1, 1, 2, u, us, wide, true); break;
    case 2: weights_rows(j, pn0, pn1, 2, 3, u, us, wide, true); break;
    case 3: weights_rows(j, pn0, pn1, 3, 4, u, us, wide, true); break;
    case 4: weights_rows(j, pn0, pn1, 4, 5, u, us, wide, true); break;
    default: weights_rows(j, pn0, pn1, 5, 6, u, us, wide, true); break;
    }
}

/*
 * V = B^T d B for 16 channels of one tile: d element (i, j) at
 * d + i * rs + j * cs (16 lanes), component k stored at v + k * vs, its
 * first `lanes` lanes.
 */
WINO_INLINE void input_tf(const float *d, size_t cs, size_t rs, float *v, size_t vs,
                          size_t lanes) {
    qlite_v16f t[6][6];
    for (int j = 0; j < 6; j++) { /* t = B^T d, column j */
        qlite_v16f d0, d1, d2, d3, d4, d5;
        const float *c = d + (size_t)j * cs;
        QLITE_V16F_LOAD(d0, c);
        QLITE_V16F_LOAD(d1, c + rs);
        QLITE_V16F_LOAD(d2, c + 2 * rs);
        QLITE_V16F_LOAD(d3, c + 3 * rs);
        QLITE_V16F_LOAD(d4, c + 4 * rs);
        QLITE_V16F_LOAD(d5, c + 5 * rs);
        t[0][j] = d0 * 4.0f - d2 * 5.0f + d4;
        t[1][j] = d3 + d4 - (d1 + d2) * 4.0f;
        t[2][j] = d4 - d3 + (d1 - d2) * 4.0f;
        t[3][j] = d4 - d2 + (d3 - d1) * 2.0f;
        t[4][j] = d4 - d2 + (d1 - d3) * 2.0f;
        t[5][j] = d1 * 4.0f - d3 * 5.0f + d5;
    }
    for (int i = 0; i < 6; i++) { /* v = t B, row i */
        const qlite_v16f d0 = t[i][0], d1 = t[i][1], d2 = t[i][2], d3 = t[i][3], d4 = t[i][4],
                         d5 = t[i][5];
        qlite_v16f r[6];
        r[0] = d0 * 4.0f - d2 * 5.0f + d4;
        r[1] = d3 + d4 - (d1 + d2) * 4.0f;
        r[2] = d4 - d3 + (d1 - d2) * 4.0f;
        r[3] = d4 - d2 + (d3 - d1) * 2.0f;
        r[4] = d4 - d2 + (d1 - d3) * 2.0f;
        r[5] = d1 * 4.0f - d3 * 5.0f + d5;
        float *o = v + (size_t)(i * 6) * vs;
        if (lanes == 16) {
            for (int k = 0; k < 6; k++) QLITE_V16F_STORE(o + (size_t)k * vs, r[k]);
        } else {
            for (int k = 0; k < 6; k++)
                for (size_t l = 0; l < lanes; l++) o[(size_t)k * vs + l] = r[k][l];
        }
    }
}

/* Input transform of the chunk's tiles [begin, end). */
WINO_INLINE void input_range_body(void *arg, size_t begin, size_t end) {
    const wino_job *j = arg;
    const qlite_wino *p = j->p;
    const size_t C = (size_t)p->C, tiles = p->TH * p->TW;
    const int64_t H = p->H, W = p->W;
    float d[36][16];
    for (size_t i = begin; i < end; i++) {
        const size_t t = j->t0 + i, n = t / tiles, ty = t % tiles / p->TW, tx = t % p->TW;
        const int64_t iy0 = (int64_t)ty * 4 - p->pt, ix0 = (int64_t)tx * 4 - p->pl;
        const bool inside = iy0 >= 0 && iy0 + 6 <= H && ix0 >= 0 && ix0 + 6 <= W;
        const float *img = j->x + (size_t)n * (size_t)(H * W) * C;
        float *v = j->v + i * C;
        for (size_t c0 = 0; c0 < C; c0 += 16) {
            const size_t lanes = C - c0 < 16 ? C - c0 : 16;
            if (inside && lanes == 16) {
                input_tf(img + ((size_t)iy0 * (size_t)W + (size_t)ix0) * C + c0, C,
                         (size_t)W * C, v + c0, p->v_stride, 16);
                continue;
            }
            for (int r = 0; r < 6; r++)
                for (int q = 0; q < 6; q++) {
                    float *dst = d[r * 6 + q];
                    const int64_t iy = iy0 + r, ix = ix0 + q;
                    qlite_v16f val = {0};
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                        const float *src = img + ((size_t)iy * (size_t)W + (size_t)ix) * C + c0;
                        if (lanes == 16)
                            QLITE_V16F_LOAD(val, src);
                        else
                            for (size_t l = 0; l < lanes; l++) val[l] = src[l];
                    }
                    QLITE_V16F_STORE(dst, val);
                }
            input_tf(d[0], 16, 96, v + c0, p->v_stride, lanes);
        }
    }
}

/* M_k = V_k U_k for the chunk's tiles (U_k at u). */
static void gemm_one(const wino_job *j, size_t k, const float *u) {
    const qlite_wino *p = j->p;
    const size_t C = (size_t)p->C, O = (size_t)p->O;
    const float *a = j->v + k * p->v_stride;
    float *c = j->m + k * p->m_stride;
    if (p->fast) {
        p->fast(j->tb, O, C, a, C, u, NULL, c, O, -INFINITY, INFINITY);
    } else {
        const qlite_gemm_f32_args g = {.M = j->tb, .N = O, .K = C, .a = a, .rsa = C, .csa = 1,
                                       .c = c, .ldc = O, .lo = -INFINITY, .hi = INFINITY};
        qlite_gemm_f32_o16_serial(p->uk, &g, u, false);
    }
}

/* Chunked mode: the chunk's GEMMs for components [begin, end). */
static void gemm_range(void *arg, size_t begin, size_t end) {
    const wino_job *j = arg;
    for (size_t k = begin; k < end; k++) gemm_one(j, k, j->u + k * j->p->u_stride);
}

/* Fused mode: rows [begin, end) of the 6x6 components: U's row made into
 * this thread's buffer, then its 6 GEMMs over all tiles. */
static void fused_range(void *arg, int thread, size_t begin, size_t end) {
    const wino_job *j = arg;
    float *ub = j->u + (size_t)thread * 6 * j->p->u_stride;
    for (size_t i = begin; i < end; i++) {
        j->p->tf->weights_into(j, (int)i, ub, j->wide + (size_t)thread * j->p->wide_floats);
        for (size_t jj = 0; jj < 6; jj++) gemm_one(j, i * 6 + jj, ub + jj * j->p->u_stride);
    }
}

/* Output transform of the chunk's tiles [begin, end), output channels
 * [o_lo, o_hi) (o_lo a multiple of 16): y = A^T M A + b, clamped. */
WINO_INLINE void output_cols_body(const wino_job *j, size_t begin, size_t end, size_t o_lo,
                                  size_t o_hi) {
    const qlite_wino *p = j->p;
    const size_t O = (size_t)p->O, tiles = p->TH * p->TW, ms = p->m_stride;
    const int64_t OH = p->OH, OW = p->OW;
    qlite_v16f lo, hi;
    for (int l = 0; l < 16; l++) lo[l] = p->lo, hi[l] = p->hi;
    for (size_t i = begin; i < end; i++) {
        const size_t t = j->t0 + i, n = t / tiles, ty = t % tiles / p->TW, tx = t % p->TW;
        const int64_t oy0 = (int64_t)ty * 4, ox0 = (int64_t)tx * 4;
        const int64_t rows = OH - oy0 < 4 ? OH - oy0 : 4, cols = OW - ox0 < 4 ? OW - ox0 : 4;
        float *out = j->y + (((size_t)n * (size_t)OH + (size_t)oy0) * (size_t)OW + (size_t)ox0) * O;
        const float *m = j->m + i * O;
        for (size_t o0 = o_lo; o0 < o_hi; o0 += 16) {
            const size_t lanes = o_hi - o0 < 16 ? o_hi - o0 : 16;
            qlite_v16f bias = {0};
            if (j->b) {
                if (lanes == 16) QLITE_V16F_LOAD(bias, j->b + o0);
                else for (size_t l = 0; l < lanes; l++) bias[l] = j->b[o0 + l];
            }
            qlite_v16f s[4][6];
            for (int c = 0; c < 6; c++) { /* s = A^T M, column c */
                qlite_v16f m0, m1, m2, m3, m4, m5;
                const float *mc = m + o0 + (size_t)c * ms;
                QLITE_V16F_LOAD(m0, mc);
                QLITE_V16F_LOAD(m1, mc + 6 * ms);
                QLITE_V16F_LOAD(m2, mc + 12 * ms);
                QLITE_V16F_LOAD(m3, mc + 18 * ms);
                QLITE_V16F_LOAD(m4, mc + 24 * ms);
                QLITE_V16F_LOAD(m5, mc + 30 * ms);
                const qlite_v16f a = m1 + m2, b = m1 - m2, e = m3 + m4, f = m3 - m4;
                s[0][c] = m0 + a + e;
                s[1][c] = b + f * 2.0f;
                s[2][c] = a + e * 4.0f;
                s[3][c] = b + f * 8.0f + m5;
            }
            for (int64_t r = 0; r < rows; r++) { /* y = s A, row r */
                const qlite_v16f a = s[r][1] + s[r][2], b = s[r][1] - s[r][2],
                                 e = s[r][3] + s[r][4], f = s[r][3] - s[r][4];
                qlite_v16f q[4];
                q[0] = s[r][0] + a + e;
                q[1] = b + f * 2.0f;
                q[2] = a + e * 4.0f;
                q[3] = b + f * 8.0f + s[r][5];
                float *yr = out + (size_t)r * (size_t)OW * O + o0;
                for (int64_t c = 0; c < cols; c++) {
                    qlite_v16f val = q[c] + bias;
                    V16_CLAMP(val, lo, hi);
                    if (lanes == 16)
                        QLITE_V16F_STORE(yr + (size_t)c * O, val);
                    else
                        for (size_t l = 0; l < lanes; l++) yr[(size_t)c * O + l] = val[l];
                }
            }
        }
    }
}

#define WINO_TF(SFX, ATTR)                                                                   \
    ATTR static void weights_range_##SFX(void *arg, int thread, size_t begin, size_t end) {   \
        weights_range_body(arg, thread, begin, end);                                          \
    }                                                                                         \
    ATTR static void weights_into_##SFX(const wino_job *j, int i, float *u, float *wide) {    \
        weights_into_body(j, i, u, wide);                                                     \
    }                                                                                         \
    ATTR static void weights_panels_row_##SFX(const wino_job *j, size_t pn0, size_t pn1,      \
                                              int i, float *u, float *wide) {                 \
        weights_panels_row_body(j, pn0, pn1, i, u, wide);                                     \
    }                                                                                         \
    ATTR static void input_range_##SFX(void *arg, size_t begin, size_t end) {                 \
        input_range_body(arg, begin, end);                                                    \
    }                                                                                         \
    ATTR static void output_cols_##SFX(const wino_job *j, size_t begin, size_t end,           \
                                       size_t o_lo, size_t o_hi) {                            \
        output_cols_body(j, begin, end, o_lo, o_hi);                                          \
    }                                                                                         \
    static const struct qlite_wino_tf wino_tf_##SFX = {                                       \
        #SFX, weights_range_##SFX, weights_into_##SFX, weights_panels_row_##SFX,              \
        input_range_##SFX, output_cols_##SFX};

WINO_TF(baseline, )
#if defined(__x86_64__) && defined(__GNUC__)
#define QLITE_WINO_X86 1
/* the instruction sets of the former clones (target_clones "avx512f" /
 * "avx2": no FMA contraction in the AVX2 build, as before) */
WINO_TF(avx512f, __attribute__((target("avx512f"))))
WINO_TF(avx2, __attribute__((target("avx2"))))
#endif

/* The transforms for this CPU within the caps in force now. */
static const struct qlite_wino_tf *wino_tf_select(void) {
#ifdef QLITE_WINO_X86
    __builtin_cpu_init();
    const unsigned lim = qlite_q8_feature_limit();
    if (__builtin_cpu_supports("avx512f") && (lim & QLITE_Q8_F_AVX512)) return &wino_tf_avx512f;
    if (__builtin_cpu_supports("avx2") && (lim & QLITE_Q8_F_AVX2)) return &wino_tf_avx2;
#endif
    return &wino_tf_baseline;
}

const char *qlite_wino_transforms_name(void) { return wino_tf_select()->name; }

static void weights_range(void *arg, int thread, size_t begin, size_t end) {
    const wino_job *j = arg;
    j->p->tf->weights_range(arg, thread, begin, end);
}

static void input_range(void *arg, size_t begin, size_t end) {
    const wino_job *j = arg;
    j->p->tf->input_range(arg, begin, end);
}

/* Output transform of the chunk's tiles [begin, end), every channel. */
static void output_range(void *arg, size_t begin, size_t end) {
    const wino_job *j = arg;
    j->p->tf->output_cols(j, begin, end, 0, (size_t)j->p->O);
}

/*
 * Panel mode: groups [begin, end) of WINO_GROUP_PANELS output panels, after
 * the input transform of all tiles: each group's weights (widened once when
 * float16), then per row of the 6x6 components that row's U for the group
 * (6 x C x 16 x group floats, in L2) and its 6 GEMMs over all tiles into
 * the group's columns of M, then the group's output transform. Each thread
 * reads only its groups' weights, once.
 */
static void panels_range(void *arg, int thread, size_t begin, size_t end) {
    const wino_job *j = arg;
    const qlite_wino *p = j->p;
    const size_t C = (size_t)p->C, O = (size_t)p->O;
    float *ub = j->u + (size_t)thread * p->u_floats_thread;
    float *wide = j->wide + (size_t)thread * p->wide_floats;
    for (size_t gi = begin; gi < end; gi++) {
        const size_t pn0 = gi * WINO_GROUP_PANELS;
        const size_t pn1 = pn0 + WINO_GROUP_PANELS < p->panels ? pn0 + WINO_GROUP_PANELS
                                                               : p->panels;
        const size_t o_lo = pn0 * 16, o_hi = pn1 * 16 < O ? pn1 * 16 : O;
        const size_t us = (pn1 - pn0) * 16 * C; /* floats per component of the group's U */
        if (j->half)
            qlite_f16_to_f32_row((const uint16_t *)j->w + pn0 * 9 * C * 16, wide,
                                 (pn1 - pn0) * 9 * C * 16);
        for (int i = 0; i < 6; i++) {
            p->tf->weights_panels_row(j, pn0, pn1, i, ub, wide);
            for (size_t jj = 0; jj < 6; jj++) {
                const size_t k = (size_t)i * 6 + jj;
                const float *a = j->v + k * p->v_stride;
                float *c = j->m + k * p->m_stride + o_lo;
                if (p->fast) {
                    /* rows in equal pieces of at most 10 (16 tiles: 8 + 8, not 10 + 6) */
                    const size_t pieces = (j->tb + 9) / 10;
                    for (size_t q = 0; q < pieces; q++) {
                        const size_t r0 = j->tb * q / pieces, r1 = j->tb * (q + 1) / pieces;
                        p->fast(r1 - r0, o_hi - o_lo, C, a + r0 * C, C, ub + jj * us, NULL,
                                c + r0 * O, O, -INFINITY, INFINITY);
                    }
                } else {
                    const qlite_gemm_f32_args g = {
                        .M = j->tb, .N = o_hi - o_lo, .K = C, .a = a, .rsa = C, .csa = 1,
                        .c = c, .ldc = O, .lo = -INFINITY, .hi = INFINITY};
                    qlite_gemm_f32_o16_serial(p->uk, &g, ub + jj * us, false);
                }
            }
        }
        p->tf->output_cols(j, 0, j->tb, o_lo, o_hi);
    }
}

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

qlite_status qlite_wino_prepare(qlite_node *node, qlite_wino *p, int64_t N, int64_t H, int64_t W,
                                int64_t C, int64_t O, int64_t OH, int64_t OW, int64_t pt,
                                int64_t pl, float lo, float hi, bool half,
                                size_t *scratch_bytes) {
    *p = (qlite_wino){.N = N, .H = H, .W = W, .C = C, .O = O, .OH = OH, .OW = OW, .pt = pt,
                      .pl = pl, .lo = lo, .hi = hi};
    p->TH = (size_t)(OH + 3) / 4;
    p->TW = (size_t)(OW + 3) / 4;
    p->T = (size_t)N * p->TH * p->TW;
    p->panels = (size_t)(O + 15) / 16;
    p->u_stride = p->panels * 16 * (size_t)C;
    p->uk = qlite_gemm_f32_select_o16();
    p->fast = qlite_gemm_f32_o16_fast();
    p->tf = wino_tf_select();
    p->threads = qlite_node_threads(node);
    const size_t per_tile = 36 * (size_t)(C + O) * sizeof(float);
    p->panel = g_mode == QLITE_WINO_FORCE_PANEL || (g_mode == QLITE_WINO_RULE && C * O > 128 * 128);
    p->fused = !p->panel && p->T * per_tile <= WINO_FUSED_BYTES &&
               g_mode != QLITE_WINO_FORCE_CHUNKED;
    size_t chunk = p->T;
    if (p->panel) {
        chunk = p->T;
    } else if (g_mode == QLITE_WINO_FORCE_CHUNKED) {
        chunk = 6;
    } else if (!p->fused) {
        /* chunks: as many tiles as keep V + M near WINO_CHUNK_BYTES, a
         * multiple of the GEMM's 6-row tiles, balanced over the chunks */
        chunk = WINO_CHUNK_BYTES / per_tile / 6 * 6;
        if (chunk < 6) chunk = 6;
        if (chunk >= p->T) {
            chunk = p->T;
        } else {
            const size_t nch = (p->T + chunk - 1) / chunk;
            chunk = ((p->T + nch - 1) / nch + 5) / 6 * 6;
        }
    }
    p->chunk = chunk;
    p->v_stride = round16(chunk * (size_t)C);
    p->m_stride = round16(chunk * (size_t)O + 16); /* + 16: a tail's full-vector loads */
    /* U: all of it (chunked), or 6 components per thread (fused) */
    /* panel mode: each thread one row (6 components) of a group's U */
    const size_t gp = p->panels < WINO_GROUP_PANELS ? p->panels : WINO_GROUP_PANELS;
    p->u_floats_thread = 6 * gp * 16 * (size_t)C;
    p->u_floats = p->panel   ? (size_t)p->threads * p->u_floats_thread
                  : p->fused ? (size_t)p->threads * 6 * p->u_stride
                             : 36 * p->u_stride;
    p->v_floats = 36 * p->v_stride;
    p->m_floats = 36 * p->m_stride;
    /* chunked: each thread its own V and M */
    const size_t vm_sets = p->fused || p->panel ? 1 : (size_t)p->threads;
    /* float16 weights widened a panel (a group in panel mode) at a time */
    p->wide_floats = half ? round16((p->panel ? gp : 1) * 9 * (size_t)C * 16) : 0;
    *scratch_bytes = (p->u_floats + vm_sets * (p->v_floats + p->m_floats) +
                      (size_t)p->threads * p->wide_floats) * sizeof(float);
    return QLITE_OK;
}

/* Chunked mode: chunks [begin, end) of tiles, each transformed, multiplied
 * and transformed back by one thread in its own V and M. */
static void chunks_range(void *arg, int thread, size_t begin, size_t end) {
    wino_job j = *(const wino_job *)arg;
    const qlite_wino *p = j.p;
    j.v += (size_t)thread * (p->v_floats + p->m_floats);
    j.m = j.v + p->v_floats;
    for (size_t ci = begin; ci < end; ci++) {
        j.t0 = ci * p->chunk;
        j.tb = p->T - j.t0 < p->chunk ? p->T - j.t0 : p->chunk;
        input_range(&j, 0, j.tb);
        gemm_range(&j, 0, 36);
        output_range(&j, 0, j.tb);
    }
}

void qlite_wino_run(const qlite_node *node, const qlite_wino *p, const float *x, const void *w16,
                    bool half, const float *b, float *y, void *scratch) {
    float *s = scratch;
    const size_t vm_sets = p->fused || p->panel ? 1 : (size_t)p->threads;
    wino_job j = {.p = p, .x = x, .b = b, .w = w16, .half = half, .y = y, .u = s};
    j.v = s + p->u_floats;
    j.m = j.v + p->v_floats;
    j.wide = j.v + vm_sets * (p->v_floats + p->m_floats);
    if (p->panel) { /* all tiles at once; U made per group of panels beside its GEMMs */
        j.t0 = 0;
        j.tb = p->T;
        qlite_parallel_for(node, p->T, input_range, &j);
        qlite_parallel_for_thread(node, (p->panels + WINO_GROUP_PANELS - 1) / WINO_GROUP_PANELS,
                                  panels_range, &j);
        return;
    }
    if (p->fused) { /* all tiles at once; U made row by row beside its GEMMs */
        j.t0 = 0;
        j.tb = p->T;
        qlite_parallel_for(node, p->T, input_range, &j);
        qlite_parallel_for_thread(node, 6, fused_range, &j);
        qlite_parallel_for(node, p->T, output_range, &j);
        return;
    }
    qlite_parallel_for_thread(node, 6, weights_range, &j); /* all of U, each invoke */
    qlite_parallel_for_thread(node, (p->T + p->chunk - 1) / p->chunk, chunks_range, &j);
}
