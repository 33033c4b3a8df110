/*
 * test_kernel_conv_q8.c — CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV_2D
 * on int8 / uint8 activations with int8 weights (docs/quantization.md §4.1):
 *
 * (a) exact against the definitions written here in int64 (the transposed
 *     convolution as the scatter of every input pixel, which the kernel
 *     computes as a gather): strides, dilations, asymmetric pads, groups,
 *     depth multipliers, 1x1, first-layer (1 channel) and output-pixel
 *     counts below the dot limit, per-tensor / per-channel weights, weight
 *     zero points, bias or none, every fused activation; optimized with 1,
 *     2 and 3 threads and the reference path all equal to it, on every ISA
 *     level of the kernels up to this CPU's (qlite_q8_set_feature_cap);
 * (b) the NumPy golden cases of make_golden_nn_q8.py (sets conv, dw, tconv);
 * (c) error paths.
 */
#include "kernel_nn_golden.h"
#include "kernels/gemm_q8.h"
#include "support/q8_levels.h"

typedef enum { K_CONV, K_DW, K_TCONV } conv_kind;

typedef struct convq_case {
    conv_kind kind;
    qlite_dtype dt;
    int64_t N, H, W, C, O, KH, KW;     /* O: output channels (depthwise: C * M) */
    int64_t sh, sw, dh, dw, pt, pl, pb, pr;
    int64_t groups;                    /* conv / tconv groups; depthwise multiplier */
    int64_t oph, opw;                  /* tconv output pads */
    bool per_channel, zw, bias;
    qlite_activation act;
} convq_case;

typedef struct convq_data {
    void *x;
    int8_t *w;
    int32_t *b;
    q8_params px, py;
    nnq_wparams pw;
} convq_data;

static void out_hw(const convq_case *c, int64_t *OH, int64_t *OW) {
    if (c->kind == K_TCONV) {
        *OH = c->sh * (c->H - 1) + c->oph + (c->KH - 1) * c->dh + 1 - c->pt - c->pb;
        *OW = c->sw * (c->W - 1) + c->opw + (c->KW - 1) * c->dw + 1 - c->pl - c->pr;
    } else {
        *OH = (c->H + c->pt + c->pb - ((c->KH - 1) * c->dh + 1)) / c->sh + 1;
        *OW = (c->W + c->pl + c->pr - ((c->KW - 1) * c->dw + 1)) / c->sw + 1;
    }
}

static size_t weight_count(const convq_case *c) {
    return c->kind == K_DW ? (size_t)(c->KH * c->KW * c->O)
                           : (size_t)(c->O * c->KH * c->KW * (c->C / c->groups));
}

static qlite_status run(const convq_case *c, const convq_data *d, int threads, uint32_t flags,
                        qlite_op_test_tensor *out) {
    qlite_op_test_tensor in[3];
    in[0] = q8_tensor(c->dt, 4, (int64_t[]){c->N, c->H, c->W, c->C}, d->x, &d->px);
    if (c->kind == K_DW)
        in[1] = qt_const(QLITE_DTYPE_INT8, 4, (int64_t[]){1, c->KH, c->KW, c->O}, d->w);
    else
        in[1] = qt_const(QLITE_DTYPE_INT8, 4, (int64_t[]){c->O, c->KH, c->KW, c->C / c->groups},
                         d->w);
    in[1].quant = &d->pw.q;
    if (c->bias) {
        in[2] = qt_const(QLITE_DTYPE_INT32, 1, (int64_t[]){c->O}, d->b);
    } else {
        memset(&in[2], 0, sizeof in[2]);
        in[2].absent = true;
    }
    int64_t OH, OW;
    out_hw(c, &OH, &OW);
    *out = q8_tensor(c->dt, 4, (int64_t[]){c->N, OH, OW, c->O}, NULL, &d->py);
    qlite_op_options o = qopts(QLITE_OPTIONS_CONV_2D);
    qlite_conv2d_options *co = &o.u.conv2d;
    co->stride_h = (int32_t)c->sh, co->stride_w = (int32_t)c->sw;
    co->dilation_h = (int32_t)c->dh, co->dilation_w = (int32_t)c->dw;
    co->pad_top = (int32_t)c->pt, co->pad_left = (int32_t)c->pl;
    co->pad_bottom = (int32_t)c->pb, co->pad_right = (int32_t)c->pr;
    co->groups = (int32_t)c->groups;
    co->output_pad_h = (int32_t)c->oph, co->output_pad_w = (int32_t)c->opw;
    co->activation = c->act;
    const qlite_op_code code = c->kind == K_CONV ? QLITE_OP_CONV_2D
                               : c->kind == K_DW ? QLITE_OP_DEPTHWISE_CONV_2D
                                                 : QLITE_OP_TRANSPOSE_CONV_2D;
    return qlite_op_test_run(code, &o, 3, in, 1, out, threads, flags);
}

/* acc[n, oy, ox, o] by the definitions, int64. */
static int64_t *reference_acc(const convq_case *c, const convq_data *d) {
    int64_t OH, OW;
    out_hw(c, &OH, &OW);
    const size_t ny = (size_t)(c->N * OH * OW * c->O);
    int64_t *acc = calloc(ny, sizeof *acc);
    assert_non_null(acc);
    const int64_t Cg = c->C / c->groups, Og = c->O / c->groups;
#define X(n_, y_, x_, ch_)                                                                         \
    (q8_get(d->x, (size_t)((((n_)*c->H + (y_)) * c->W + (x_)) * c->C + (ch_)), c->dt) - d->px.zp)
    if (c->kind == K_TCONV) {
        for (int64_t n = 0; n < c->N; n++)
            for (int64_t iy = 0; iy < c->H; iy++)
                for (int64_t ix = 0; ix < c->W; ix++)
                    for (int64_t ky = 0; ky < c->KH; ky++)
                        for (int64_t kx = 0; kx < c->KW; kx++) {
                            const int64_t oy = iy * c->sh - c->pt + ky * c->dh;
                            const int64_t ox = ix * c->sw - c->pl + kx * c->dw;
                            if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                            for (int64_t o = 0; o < c->O; o++) {
                                const int64_t g = o / Og;
                                for (int64_t ch = 0; ch < Cg; ch++)
                                    acc[((n * OH + oy) * OW + ox) * c->O + o] +=
                                        X(n, iy, ix, g * Cg + ch) *
                                        (d->w[((o * c->KH + ky) * c->KW + kx) * Cg + ch] -
                                         nnq_wzp(&d->pw, (size_t)o));
                            }
                        }
    } else {
        for (int64_t n = 0; n < c->N; n++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++)
                    for (int64_t o = 0; o < c->O; o++) {
                        int64_t a = 0;
                        for (int64_t ky = 0; ky < c->KH; ky++)
                            for (int64_t kx = 0; kx < c->KW; kx++) {
                                const int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                                const int64_t ix = ox * c->sw - c->pl + kx * c->dw;
                                if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                                const int32_t zw = nnq_wzp(&d->pw, (size_t)o);
                                if (c->kind == K_DW) {
                                    a += X(n, iy, ix, o / c->groups) *
                                         (d->w[(ky * c->KW + kx) * c->O + o] - zw);
                                } else {
                                    const int64_t g = o / Og;
                                    for (int64_t ch = 0; ch < Cg; ch++)
                                        a += X(n, iy, ix, g * Cg + ch) *
                                             (d->w[((o * c->KH + ky) * c->KW + kx) * Cg + ch] - zw);
                                }
                            }
                        acc[((n * OH + oy) * OW + ox) * c->O + o] = a;
                    }
    }
#undef X
    if (c->bias)
        for (size_t i = 0; i < ny; i++) acc[i] += d->b[i % (size_t)c->O];
    return acc;
}

static bool g_first_level = true; /* run_cases' level is its first */

static void check_case(const convq_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    convq_data d;
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C), nw = weight_count(c);
    d.x = malloc(nx);
    d.w = malloc(nw);
    d.b = malloc((size_t)c->O * sizeof(int32_t));
    assert_true(d.x && d.w && d.b);
    nnq_fill_codes(&r, d.x, nx, c->dt);
    nnq_fill_weights(&r, d.w, nw);
    nnq_fill_bias(&r, d.b, (size_t)c->O, 13);
    q8_params_set(&d.px, q8_rand_scale(&r, -8.0f, -2.0f), q8_rand_zp(&r, c->dt));
    nnq_wparams_random(&r, &d.pw, c->per_channel ? (uint32_t)c->O : 1, c->kind == K_DW ? 3 : 0,
                       c->zw);
    const size_t K = c->kind == K_DW ? (size_t)(c->KH * c->KW)
                                     : (size_t)(c->KH * c->KW * c->C / c->groups);
    q8_params_set(&d.py, nnq_out_scale(&r, d.px.scale, d.pw.scale[0], K), q8_rand_zp(&r, c->dt));
    int64_t OH, OW;
    out_hw(c, &OH, &OW);
    const size_t ny = (size_t)(c->N * OH * OW * c->O);
    int64_t *acc = reference_acc(c, &d);
    int32_t *want = malloc(ny * sizeof(int32_t));
    assert_non_null(want);
    for (size_t i = 0; i < ny; i++)
        want[i] = nnq_out(acc[i], d.px.scale, &d.pw, i % (size_t)c->O, &d.py, c->dt, c->act);
    const struct {
        int threads;
        uint32_t flags;
        const char *name;
    } runs[] = {{1, 0, "optimized"}, {2, 0, "2 threads"}, {3, 0, "3 threads"},
                {1, QLITE_INTERP_REFERENCE_ONLY, "reference"}};
    char what[200];
    for (size_t i = 0; i < Q8_COUNT(runs); i++) {
        /* reduced sweeps: the reference kernel ignores the cap, so at the first level only */
        if (runs[i].flags && !g_first_level && qlite_test_reduced()) continue;
        qlite_op_test_tensor out;
        assert_qlite_ok(run(c, &d, runs[i].threads, runs[i].flags, &out));
        assert_int_equal(out.out_bytes, ny);
        snprintf(what, sizeof what,
                 "%s kind %d %s x[%lld,%lld,%lld,%lld] O=%lld k%lldx%lld s%lldx%lld d%lldx%lld "
                 "g%lld pc=%d zw=%d",
                 runs[i].name, (int)c->kind, qlite_dtype_name(c->dt), (long long)c->N,
                 (long long)c->H, (long long)c->W, (long long)c->C, (long long)c->O,
                 (long long)c->KH, (long long)c->KW, (long long)c->sh, (long long)c->sw,
                 (long long)c->dh, (long long)c->dw, (long long)c->groups, c->per_channel, c->zw);
        nnq_expect_codes(what, out.out, want, ny, c->dt);
        qlite_op_test_free(1, &out);
    }
    free(acc);
    free(want);
    free(d.x);
    free(d.w);
    free(d.b);
}

#define CASE(kind, dt, N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g)            \
    (convq_case) {                                                                         \
        kind, dt, N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g, 0, 0, true, false, \
            true, QLITE_ACT_NONE                                                           \
    }

/* Every case on every ISA level the kernels have (AMX, AVX-512 VNNI, AVX-VNNI, AVX2,
 * portable; ARM64: i8mm, dot product, NEON, portable), capped below what this CPU has: the
 * depthwise blocks and the GEMM variant chosen differ (a level this CPU lacks repeats the one
 * below it). */
#define NLEVELS 5
#if defined(__aarch64__)
static const unsigned ISA_CAPS[NLEVELS] = {~0u, ~0u, QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD,
                                           QLITE_Q8_F_NEON, 0u};
#else
static const unsigned ISA_CAPS[NLEVELS] = {~0u, ~QLITE_Q8_F_AMX,
                                           QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI, QLITE_Q8_F_AVX2,
                                           0u};
#endif

static void run_level(const convq_case *cases, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        convq_case c = cases[i];
        /* vary the rest deterministically */
        c.per_channel = i % 4 != 3;
        c.zw = i % 5 == 2;
        c.bias = i % 3 != 1;
        c.act = (qlite_activation)(i % QLITE_ACT_COUNT);
        check_case(&c, seed + i);
    }
}

static void run_cases(const convq_case *cases, size_t n, uint64_t seed) {
    for (size_t level = 0; level < NLEVELS; level++) {
        /* reduced sweeps (support.h): a level that repeats an earlier one, once */
        if (qlite_test_reduced() && qlite_test_q8_cap_repeats(ISA_CAPS, level)) continue;
        g_first_level = level == 0;
        qlite_q8_set_feature_cap(ISA_CAPS[level]);
        run_level(cases, n, seed);
    }
    g_first_level = true;
    qlite_q8_set_feature_cap(~0u);
}

static void test_conv_exact(void **state) {
    (void)state;
    const qlite_dtype I8 = QLITE_DTYPE_INT8, U8 = QLITE_DTYPE_UINT8;
    convq_case cases[] = {
        CASE(K_CONV, I8, 1, 28, 28, 1, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),  /* LeNet conv1 */
        CASE(K_CONV, I8, 1, 14, 14, 6, 16, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1), /* LeNet conv2 */
        CASE(K_CONV, U8, 2, 9, 7, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_CONV, I8, 1, 7, 7, 32, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),  /* pointwise */
        CASE(K_CONV, I8, 1, 6, 5, 12, 18, 3, 2, 1, 2, 2, 1, 2, 0, 1, 3, 3),  /* groups, dilation */
        CASE(K_CONV, U8, 1, 1, 1, 40, 33, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),  /* 1 pixel: dot */
        CASE(K_CONV, I8, 3, 2, 1, 5, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),    /* 6 pixels */
        CASE(K_CONV, I8, 1, 5, 5, 3, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_CONV, U8, 1, 12, 11, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16),
        CASE(K_CONV, I8, 1, 4, 4, 64, 130, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1),
        /* thin inputs (window rows of <= 8 bytes: one move each): MobileNet's first layer */
        CASE(K_CONV, I8, 1, 28, 28, 1, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_CONV, U8, 2, 7, 9, 2, 5, 3, 3, 2, 1, 1, 1, 0, 1, 1, 0, 1),
        /* window rows of 9..16 bytes (one 16-byte move each): MobileNetV2's RGB stem (3x3/2
         * of 3 channels, K = 27), 4 channels (K = 36), 5 channels (K = 45, 15-byte rows) */
        CASE(K_CONV, I8, 1, 23, 24, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_CONV, U8, 2, 9, 10, 4, 20, 3, 3, 1, 2, 1, 1, 1, 0, 1, 1, 1),
        CASE(K_CONV, I8, 1, 11, 13, 5, 33, 3, 3, 2, 1, 1, 1, 1, 1, 0, 1, 1),
        /* short K on the AMX tiles: tiles of more than 256 rows (1600 and 2025 pixels) */
        CASE(K_CONV, I8, 1, 40, 40, 16, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        CASE(K_CONV, U8, 1, 90, 90, 3, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
        /* fewer tiles than threads want: the output columns split into ranges of whole
         * micro-tiles (a partial last one), each thread keeping its tile's patches */
        CASE(K_CONV, I8, 1, 7, 7, 24, 200, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_CONV, U8, 1, 9, 8, 40, 72, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_CONV, I8, 1, 1, 1, 48, 100, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1), /* dot, 7 ranges */
        /* more than one tile of 64+ rows, evened out (300 pixels, K = 288) */
        CASE(K_CONV, I8, 1, 15, 20, 32, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        /* the AMX blocks' edges: ResNet-18's first layer (7x7/2 of 3 channels, K = 147: a K
         * tail of 20 bytes past two 64-byte steps), its layer4 shape (49 pixels = 32 + 16 +
         * 1 rows, K = 576 here), MobileNetV2-like 1x1 with K = 24 (one partial step) and
         * K = 96 over 100 pixels, 1x1 in place with 70 pixels and 40 columns */
        CASE(K_CONV, I8, 1, 20, 18, 3, 24, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1),
        CASE(K_CONV, U8, 1, 7, 7, 64, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_CONV, I8, 1, 10, 10, 24, 144, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        CASE(K_CONV, I8, 1, 10, 10, 96, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        CASE(K_CONV, U8, 2, 5, 7, 68, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        /* a padded image of 2 x 32 rows x 1280 bytes: its rows split between threads */
        CASE(K_CONV, I8, 2, 30, 30, 40, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        /* few tiles, weights smaller than the input + output: at 2 / 3 threads the pixels
         * split into 2 / 3 equal tiles (AMX: 98 = 3 x 32 + 2 rows and 66 = 2 x 32 + 2
         * rows, the 2 in an overlapped 16-row block since AMX_OVERLAP_MIN is 2, 41 = 32 +
         * an overlapped block; two images in 3 tiles that cross them), then columns */
        CASE(K_CONV, I8, 1, 14, 14, 64, 384, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        CASE(K_CONV, U8, 2, 7, 7, 32, 96, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        CASE(K_CONV, I8, 1, 9, 9, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    };
    run_cases(cases, Q8_COUNT(cases), 10);
}

static void test_depthwise_exact(void **state) {
    (void)state;
    const qlite_dtype I8 = QLITE_DTYPE_INT8, U8 = QLITE_DTYPE_UINT8;
    convq_case cases[] = {
        CASE(K_DW, I8, 1, 14, 14, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), /* MobileNet */
        CASE(K_DW, U8, 1, 7, 7, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_DW, I8, 2, 6, 5, 19, 19, 3, 2, 1, 2, 2, 1, 2, 0, 1, 1, 1),  /* tail of 3 */
        CASE(K_DW, I8, 1, 5, 5, 3, 6, 3, 3, 1, 1, 1, 1, 0, 1, 0, 1, 2),    /* multiplier 2 */
        CASE(K_DW, U8, 1, 4, 4, 40, 40, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),
        CASE(K_DW, I8, 1, 3, 3, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    /* one block of 8 */
        CASE(K_DW, I8, 1, 9, 9, 33, 33, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1),
    };
    run_cases(cases, Q8_COUNT(cases), 20);
}

static void test_tconv_exact(void **state) {
    (void)state;
    const qlite_dtype I8 = QLITE_DTYPE_INT8, U8 = QLITE_DTYPE_UINT8;
    convq_case cases[] = {
        CASE(K_TCONV, I8, 1, 4, 4, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_TCONV, U8, 2, 3, 5, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 2),
        CASE(K_TCONV, I8, 1, 5, 3, 6, 17, 3, 2, 1, 2, 2, 1, 0, 1, 1, 0, 1),
        CASE(K_TCONV, I8, 1, 2, 2, 16, 32, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1),
        CASE(K_TCONV, U8, 1, 1, 1, 3, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1), /* 1 pixel */
    };
    cases[0].oph = 1;
    cases[2].opw = 1;
    run_cases(cases, Q8_COUNT(cases), 30);
}

/* (b) ----------------------------------------------------------------------- */

static void golden_set(const char *set, conv_kind kind) {
    nng_set g;
    nng_load(set, &g);
    for (size_t i = 0; i < g.n; i++) {
        const int32_t *m = nng_meta(&g, i);
        const int32_t *p = m + NNG_P0;
        convq_case c;
        memset(&c, 0, sizeof c);
        c.kind = kind;
        c.dt = q8_case_dtype(m[NNG_DTYPE]);
        c.act = (qlite_activation)m[NNG_ACT];
        c.per_channel = m[NNG_PC] != 0;
        c.bias = m[NNG_HAS_BIAS] != 0;
        c.N = p[0], c.H = p[1], c.W = p[2], c.C = p[3];
        if (kind == K_DW) {
            c.groups = p[4], c.O = p[3] * p[4];
            c.KH = p[5], c.KW = p[6], c.sh = p[7], c.sw = p[8], c.dh = p[9], c.dw = p[10];
            c.pt = p[11], c.pl = p[12], c.pb = p[13], c.pr = p[14];
        } else {
            c.O = p[4], c.KH = p[5], c.KW = p[6], c.sh = p[7], c.sw = p[8], c.dh = p[9];
            c.dw = p[10], c.pt = p[11], c.pl = p[12], c.pb = p[13], c.pr = p[14];
            c.groups = p[15];
            if (kind == K_TCONV) c.oph = p[16], c.opw = p[17];
        }
        convq_data d;
        d.x = nng_codes(&g.x, (size_t)m[NNG_OFF_X], (size_t)(c.N * c.H * c.W * c.C), c.dt);
        d.w = nng_codes(&g.w, (size_t)m[NNG_OFF_W], weight_count(&c), QLITE_DTYPE_INT8);
        d.b = nng_i32(&g.b, (size_t)m[NNG_OFF_B], c.bias ? (size_t)c.O : 0);
        q8_params_set(&d.px, nng_f(&g, i)[0], m[NNG_ZX]);
        q8_params_set(&d.py, nng_f(&g, i)[1], m[NNG_ZY]);
        nng_wparams(&g, i, c.per_channel ? (uint32_t)c.O : 1, kind == K_DW ? 3 : 0, &d.pw);
        qlite_op_test_tensor out;
        assert_qlite_ok(run(&c, &d, 1, 0, &out));
        nng_expect(set, i, &g, out.out, c.dt, out.out_bytes);
        qlite_op_test_free(1, &out);
        free(d.x);
        free(d.w);
        free(d.b);
    }
    nng_free(&g);
}

static void test_conv_golden(void **state) {
    (void)state;
    golden_set("conv", K_CONV);
    golden_set("dw", K_DW);
    golden_set("tconv", K_TCONV);
}

/* (c) ----------------------------------------------------------------------- */

static void test_conv_errors(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 5);
    convq_case c = CASE(K_CONV, QLITE_DTYPE_INT8, 1, 4, 4, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    convq_data d;
    uint8_t x[32] = {0};
    int8_t w[54] = {0};
    int32_t b[3] = {0};
    d.x = x, d.w = w, d.b = b;
    q8_params_set(&d.px, 0.1f, 0);
    q8_params_set(&d.py, 0.2f, 0);
    nnq_wparams_random(&r, &d.pw, 3, 0, false);
    qlite_op_test_tensor out;
    assert_qlite_ok(run(&c, &d, 1, 0, &out));
    qlite_op_test_free(1, &out);
    /* weights per channel along axis 3 of a CONV_2D: the wrong axis */
    nnq_wparams_init(&d.pw, 2, 3);
    d.pw.scale[0] = d.pw.scale[1] = 0.01f;
    assert_int_equal(run(&c, &d, 1, 0, &out), QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "axis 3"));
    /* depthwise per channel along axis 0 */
    convq_case dw = CASE(K_DW, QLITE_DTYPE_INT8, 1, 4, 4, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    nnq_wparams_init(&d.pw, 1, 0);
    d.pw.scale[0] = 0.01f;
    assert_qlite_ok(run(&dw, &d, 1, 0, &out));
    qlite_op_test_free(1, &out);
    /* output of another dtype */
    q8_params py8 = d.py;
    qlite_op_test_tensor in[3];
    in[0] = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 4, 4, 2}, x, &d.px);
    in[1] = qt_const(QLITE_DTYPE_INT8, 4, (int64_t[]){3, 3, 3, 2}, w);
    in[1].quant = &d.pw.q;
    in[2] = qt_const(QLITE_DTYPE_INT32, 1, (int64_t[]){3}, b);
    out = q8_tensor(QLITE_DTYPE_UINT8, 4, (int64_t[]){1, 4, 4, 3}, NULL, &py8);
    qlite_op_options o = qopts(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d.stride_h = o.u.conv2d.stride_w = o.u.conv2d.dilation_h = o.u.conv2d.dilation_w = 1;
    o.u.conv2d.pad_top = o.u.conv2d.pad_left = o.u.conv2d.pad_bottom = o.u.conv2d.pad_right = 1;
    o.u.conv2d.groups = 1;
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    /* int8 input with float16 weights: no such kernel */
    in[1].dtype = QLITE_DTYPE_FLOAT16;
    out = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 4, 4, 3}, NULL, &py8);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "int8 input"));
    assert_non_null(strstr(qlite_last_error(), "float16 weights"));
    /* a float bias with integer activations */
    in[1].dtype = QLITE_DTYPE_INT8;
    in[2].dtype = QLITE_DTYPE_FLOAT32;
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    assert_non_null(strstr(qlite_last_error(), "int32 bias"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_exact),
        cmocka_unit_test(test_depthwise_exact),
        cmocka_unit_test(test_tconv_exact),
        cmocka_unit_test(test_conv_golden),
        cmocka_unit_test(test_conv_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
