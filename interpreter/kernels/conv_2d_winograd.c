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
 * Layout (all float32, in scratch or prepared memory):
 *   U [36][ceil(O/16)][C][16]  component k = the O16 matrix of W_k [O, C]
 *   V [36][chunk][C]           input transform of a chunk of tiles
 *   M [36][chunk][O]           the 36 GEMMs' results
 * Tiles are processed in chunks (V and M of a chunk ~1 MiB, L2-resident):
 * input transform (threads split tiles), 36 GEMMs (threads split
 * components), output transform (threads split tiles). Each output element
 * is one fixed sequence of operations (its tile's transforms, the GEMM's
 * sequential K chain), so any thread count gives the same bits.
 * Transforms run 16 channels at a time as generic vectors (one AVX-512
 * register; ifunc clones for AVX-512 / AVX2 / baseline on x86).
 */
#include <math.h>

#include "conv_2d_winograd.h"
#include "nn_common.h"
#include "packed_weights.h"

QLITE_NN_OPTIMIZE_LOOPS

/* V + M of one chunk of tiles, bytes (both stay in a core's 2 MiB L2) */
#define WINO_CHUNK_BYTES ((size_t)1 << 20)
/* U transformed once at prepare (kept) up to this size, else per invoke */
#define WINO_PREPARED_MAX ((size_t)0)

#define WINO_INLINE static inline __attribute__((always_inline))

/* acc = clamp(acc, lo, hi) lane by lane; NaN passes through like qlite_clampf */
#define V16_CLAMP(acc, lo, hi)                                                          \
    do {                                                                                \
        const qlite_v16i lt_ = (acc) < (lo);                                            \
        (acc) = (qlite_v16f)(((qlite_v16i)(lo) & lt_) | ((qlite_v16i)(acc) & ~lt_));    \
        const qlite_v16i gt_ = (acc) > (hi);                                            \
        (acc) = (qlite_v16f)(((qlite_v16i)(hi) & gt_) | ((qlite_v16i)(acc) & ~gt_));    \
    } while (0)

static bool g_forced;

void qlite_wino_set_forced(bool on) { g_forced = on; }

/*
 * Measured on ResNet-18's layers (Xeon, AVX-512, 1 thread, per-invoke U;
 * docs/api.md): 56x56x64 -> 64 0.5x the implicit-im2col time, 28x28x128 ->
 * 128 0.6x; 14x14x256 -> 256 1.8x (1.0x even with U made at prepare: 9 MiB
 * of U per layer streamed per invoke, 16-row GEMMs) and 7x7x512 -> 512
 * 3x. So: U at most 36 x 128 x 128 floats (2.25 MiB), at least 16 channels
 * in and out (below that the transforms cost more than the saved
 * multiplies), and tiles at least half filled (OH x OW >= 8 x tiles: 36
 * multiplies per tile against 9 per output pixel directly).
 */
bool qlite_wino_wanted(int64_t OH, int64_t OW, int64_t C, int64_t O) {
    if (OH < 1 || OW < 1 || C < 1 || O < 1) return false;
    if (g_forced) return true;
    const int64_t tiles = ((OH + 3) / 4) * ((OW + 3) / 4);
    return C >= 16 && O >= 16 && C * O <= 128 * 128 && OH * OW >= 8 * tiles;
}

typedef struct wino_job {
    const qlite_wino *p;
    const float *x, *b;
    const void *w; /* O16 weights (float16 when half) */
    bool half;
    float *y, *u, *v, *m;
    size_t t0, tb; /* the chunk: tiles [t0, t0 + tb) */
} wino_job;

/*
 * U = G g G^T for 16 output channels (one O16 panel lane set) and one
 * input channel: g[ky*3 + kx] the 9 taps (16 lanes each), u[k * us] the 36
 * components.
 */
WINO_INLINE void weight_tf(const float *const g[9], float *u, size_t us) {
    const float c4 = 0.25f, c6 = -1.0f / 6.0f, c24 = 1.0f / 24.0f, c12 = 1.0f / 12.0f,
                c6p = 1.0f / 6.0f;
    qlite_v16f t[6][3];
    for (int kx = 0; kx < 3; kx++) { /* t = G g, column kx */
        qlite_v16f a, b, c;
        QLITE_V16F_LOAD(a, g[kx]);
        QLITE_V16F_LOAD(b, g[3 + kx]);
        QLITE_V16F_LOAD(c, g[6 + kx]);
        t[0][kx] = a * c4;
        t[1][kx] = (a + b + c) * c6;
        t[2][kx] = (a - b + c) * c6;
        t[3][kx] = a * c24 + b * c12 + c * c6p;
        t[4][kx] = a * c24 - b * c12 + c * c6p;
        t[5][kx] = c;
    }
    for (int i = 0; i < 6; i++) { /* u = t G^T, row i */
        const qlite_v16f a = t[i][0], b = t[i][1], c = t[i][2];
        float *r = u + (size_t)(i * 6) * us;
        QLITE_V16F_STORE(r, a * c4);
        QLITE_V16F_STORE(r + us, (a + b + c) * c6);
        QLITE_V16F_STORE(r + 2 * us, (a - b + c) * c6);
        QLITE_V16F_STORE(r + 3 * us, a * c24 + b * c12 + c * c6p);
        QLITE_V16F_STORE(r + 4 * us, a * c24 - b * c12 + c * c6p);
        QLITE_V16F_STORE(r + 5 * us, c);
    }
}

/* O16 panels [begin, end) of the weights into U. */
QLITE_NN_ISA_CLONES static void weights_range(void *arg, size_t begin, size_t end) {
    const wino_job *j = arg;
    const qlite_wino *p = j->p;
    const size_t C = (size_t)p->C, K = 9 * C;
    float wide[9][16];
    for (size_t pn = begin; pn < end; pn++)
        for (size_t c = 0; c < C; c++) {
            const float *g[9];
            const size_t at = (pn * K + c) * 16; /* tap k at at + k * C * 16 */
            for (size_t k = 0; k < 9; k++) {
                if (j->half) {
                    const uint16_t *h = (const uint16_t *)j->w + at + k * C * 16;
                    for (int l = 0; l < 16; l++) wide[k][l] = qlite_fp16_to_fp32(h[l]);
                    g[k] = wide[k];
                } else {
                    g[k] = (const float *)j->w + at + k * C * 16;
                }
            }
            weight_tf(g, j->u + (pn * C + c) * 16, p->u_stride);
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
QLITE_NN_ISA_CLONES static void input_range(void *arg, size_t begin, size_t end) {
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
                    size_t l = 0;
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                        const float *src = img + ((size_t)iy * (size_t)W + (size_t)ix) * C + c0;
                        for (; l < lanes; l++) dst[l] = src[l];
                    }
                    for (; l < 16; l++) dst[l] = 0.0f;
                }
            input_tf(d[0], 16, 96, v + c0, p->v_stride, lanes);
        }
    }
}

/* The chunk's GEMMs for components [begin, end): M_k = V_k U_k. */
static void gemm_range(void *arg, size_t begin, size_t end) {
    const wino_job *j = arg;
    const qlite_wino *p = j->p;
    const size_t C = (size_t)p->C, O = (size_t)p->O;
    for (size_t k = begin; k < end; k++) {
        const float *a = j->v + k * p->v_stride, *u = j->u + k * p->u_stride;
        float *c = j->m + k * p->m_stride;
        if (p->fast) {
            p->fast(j->tb, O, C, a, C, u, NULL, c, O, -INFINITY, INFINITY);
        } else {
            const qlite_gemm_f32_args g = {.M = j->tb, .N = O, .K = C, .a = a, .rsa = C,
                                           .csa = 1, .c = c, .ldc = O, .lo = -INFINITY,
                                           .hi = INFINITY};
            qlite_gemm_f32_o16_serial(p->uk, &g, u, false);
        }
    }
}

/* Output transform of the chunk's tiles [begin, end): y = A^T M A + b, clamped. */
QLITE_NN_ISA_CLONES static void output_range(void *arg, size_t begin, size_t end) {
    const wino_job *j = arg;
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
        for (size_t o0 = 0; o0 < O; o0 += 16) {
            const size_t lanes = O - o0 < 16 ? O - o0 : 16;
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

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

qlite_status qlite_wino_prepare(qlite_node *node, qlite_wino *p, int64_t N, int64_t H, int64_t W,
                                int64_t C, int64_t O, int64_t OH, int64_t OW, int64_t pt,
                                int64_t pl, float lo, float hi, const void *w16, bool half,
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
    /* chunk: as many tiles as keep V + M near WINO_CHUNK_BYTES, a multiple
     * of the GEMM's 6-row tiles, balanced over the chunks */
    const size_t per_tile = 36 * (size_t)(C + O) * sizeof(float);
    size_t chunk = WINO_CHUNK_BYTES / per_tile / 6 * 6;
    if (chunk < 6) chunk = 6;
    if (chunk >= p->T) {
        chunk = p->T;
    } else {
        const size_t nch = (p->T + chunk - 1) / chunk;
        chunk = ((p->T + nch - 1) / nch + 5) / 6 * 6;
    }
    p->chunk = chunk;
    p->v_stride = round16(chunk * (size_t)C);
    p->m_stride = round16(chunk * (size_t)O + 16); /* + 16: a tail's full-vector loads */
    p->u_floats = 36 * p->u_stride;
    p->v_floats = 36 * p->v_stride;
    p->m_floats = 36 * p->m_stride;
    size_t floats = p->v_floats + p->m_floats;
    if (w16 && p->u_floats * sizeof(float) <= WINO_PREPARED_MAX) {
        float *u = qlite_node_alloc(node, p->u_floats * sizeof(float));
        if (!u) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        wino_job j = {.p = p, .w = w16, .half = half, .u = u};
        weights_range(&j, 0, p->panels);
        p->u = u;
    } else {
        floats += p->u_floats;
    }
    *scratch_bytes = floats * sizeof(float);
    return QLITE_OK;
}

void qlite_wino_run(const qlite_node *node, const qlite_wino *p, const float *x, const void *w16,
                    bool half, const float *b, float *y, void *scratch) {
    float *s = scratch;
    wino_job j = {.p = p, .x = x, .b = b, .w = w16, .half = half, .y = y};
    if (p->u) {
        j.u = (float *)p->u;
    } else { /* weights transformed here, each invoke */
        j.u = s;
        s += p->u_floats;
        qlite_parallel_for(node, p->panels, weights_range, &j);
    }
    j.v = s;
    j.m = s + p->v_floats;
    for (size_t t0 = 0; t0 < p->T; t0 += p->chunk) {
        j.t0 = t0;
        j.tb = p->T - t0 < p->chunk ? p->T - t0 : p->chunk;
        qlite_parallel_for(node, j.tb, input_range, &j);
        qlite_parallel_for(node, 36, gemm_range, &j);
        qlite_parallel_for(node, j.tb, output_range, &j);
    }
}
