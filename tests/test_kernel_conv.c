/*
 * test_kernel_conv.c — CONV_2D and DEPTHWISE_CONV_2D float32 through the
 * one-op runner, against a double-precision direct convolution written here
 * (tolerance: kernel_f32_check.h summation bound over KH*KW*Cg terms);
 * optimized vs reference path; 1, 2 and 3 threads bit-identical; the optimized
 * path also with QLITE_INTERP_EXACT_CONV (no Winograd); edge cases:
 * 1x1 (direct GEMM path), strides > kernel, padding larger than the input,
 * dilation, groups, batch > 1, output channels around the GEMM tiles.
 * TRANSPOSE_CONV_2D likewise, its expected values computed by scattering
 * each input pixel (the ONNX ConvTranspose definition).
 */
#include "kernel_f32_check.h"
#include "kernels/gemm_q8.h"

typedef struct conv_case {
    int64_t N, H, W, C, O, KH, KW;
    int32_t sh, sw, dh, dw, pt, pl, pb, pr, groups;
    bool bias;
    qlite_activation act;
    bool depthwise; /* O = C * groups (depth multiplier) */
} conv_case;

static int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
    return (in + p0 + p1 - ((k - 1) * d + 1)) / s + 1;
}

/* Expected output and summation magnitudes, straight from the definition. */
static void conv_expect(const conv_case *c, const float *x, const float *w, const float *b,
                        double *want, double *mag) {
    const int64_t OH = out_dim(c->H, c->KH, c->sh, c->dh, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, c->dw, c->pl, c->pr);
    const int64_t G = c->depthwise ? c->C : c->groups;
    const int64_t Cg = c->C / G, Og = c->O / G;
    float lo, hi;
    kc_act_range(c->act, &lo, &hi);
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t o = 0; o < c->O; o++) {
                    const int64_t g = o / Og;
                    double s = c->bias ? b[o] : 0.0, m = fabs(s);
                    for (int64_t ky = 0; ky < c->KH; ky++)
                        for (int64_t kx = 0; kx < c->KW; kx++)
                            for (int64_t ci = 0; ci < Cg; ci++) {
                                const int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                                const int64_t ix = ox * c->sw - c->pl + kx * c->dw;
                                if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                                const double xv = x[((n * c->H + iy) * c->W + ix) * c->C + g * Cg + ci];
                                /* conv: [O, KH, KW, Cg]; depthwise: [1, KH, KW, C*M] */
                                const double wv = c->depthwise
                                                      ? w[(ky * c->KW + kx) * c->O + o]
                                                      : w[((o * c->KH + ky) * c->KW + kx) * Cg + ci];
                                s += xv * wv;
                                m += fabs(xv * wv);
                            }
                    const size_t i = (size_t)(((n * OH + oy) * OW + ox) * c->O + o);
                    want[i] = s < lo ? lo : (s > hi ? hi : s);
                    mag[i] = m;
                }
}

static bool g_weights_const = true; /* false: weights given as an activation */

static qlite_status run_conv(const conv_case *c, const float *x, const float *w, const float *b,
                             int threads, uint32_t flags, qlite_op_test_tensor *out) {
    qlite_op_test_tensor in[3];
    in[0] = kc_tensor(4, (int64_t[]){c->N, c->H, c->W, c->C}, x, false);
    if (c->depthwise)
        in[1] = kc_tensor(4, (int64_t[]){1, c->KH, c->KW, c->O}, w, true);
    else
        in[1] = kc_tensor(4, (int64_t[]){c->O, c->KH, c->KW, c->C / c->groups}, w, true);
    in[1].is_const = g_weights_const;
    in[2] = c->bias ? kc_tensor(1, &c->O, b, true) : kc_absent();
    const int64_t OH = out_dim(c->H, c->KH, c->sh, c->dh, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, c->dw, c->pl, c->pr);
    *out = kc_tensor(4, (int64_t[]){c->N, OH, OW, c->O}, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d = (qlite_conv2d_options){.stride_h = c->sh, .stride_w = c->sw,
                                        .dilation_h = c->dh, .dilation_w = c->dw,
                                        .pad_top = c->pt, .pad_left = c->pl,
                                        .pad_bottom = c->pb, .pad_right = c->pr,
                                        .groups = c->groups, .activation = c->act};
    return qlite_op_test_run(c->depthwise ? QLITE_OP_DEPTHWISE_CONV_2D : QLITE_OP_CONV_2D, &o, 3,
                             in, 1, out, threads, flags);
}

/* Reduced sweeps (support.h): the reference kernel ignores the feature cap, so
 * a sweep that repeats one already run at another level (same cases, same
 * seeds) leaves it out. */
static bool g_ref_repeat;

static void check_case(const conv_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C);
    const size_t nw = c->depthwise ? (size_t)(c->KH * c->KW * c->O)
                                   : (size_t)(c->O * c->KH * c->KW * (c->C / c->groups));
    float *x = kc_alloc(nx), *w = kc_alloc(nw), *b = kc_alloc((size_t)c->O);
    kc_fill(&r, x, nx, -1.0f, 1.0f);
    kc_fill(&r, w, nw, -1.0f, 1.0f);
    kc_fill(&r, b, (size_t)c->O, -1.0f, 1.0f);
    const int64_t OH = out_dim(c->H, c->KH, c->sh, c->dh, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, c->dw, c->pl, c->pr);
    const size_t ny = (size_t)(c->N * OH * OW * c->O);
    double *want = kc_alloc_d(ny), *mag = kc_alloc_d(ny);
    conv_expect(c, x, w, b, want, mag);
    const double terms = (double)(c->KH * c->KW * (c->depthwise ? 1 : c->C / c->groups));

    qlite_op_test_tensor o1, o2, o3, oref;
    memset(&oref, 0, sizeof oref);
    assert_qlite_ok(run_conv(c, x, w, b, 1, 0, &o1));
    assert_qlite_ok(run_conv(c, x, w, b, 2, 0, &o2));
    assert_qlite_ok(run_conv(c, x, w, b, 3, 0, &o3));
    if (!g_ref_repeat) assert_qlite_ok(run_conv(c, x, w, b, 1, KC_REF_ONLY, &oref));
    assert_int_equal(o1.out_bytes, ny * sizeof(float));
    char what[200];
    snprintf(what, sizeof what,
             "%s N%lld H%lld W%lld C%lld O%lld k%lldx%lld s%d,%d d%d,%d p%d,%d,%d,%d g%d",
             c->depthwise ? "dw" : "conv", (long long)c->N, (long long)c->H, (long long)c->W,
             (long long)c->C, (long long)c->O, (long long)c->KH, (long long)c->KW, c->sh, c->sw,
             c->dh, c->dw, c->pt, c->pl, c->pb, c->pr, c->groups);
    kc_check_sum(what, o1.out, want, mag, ny, terms);
    if (!g_ref_repeat) kc_check_sum(what, oref.out, want, mag, ny, terms);
    kc_check_equal(what, o1.out, o2.out, ny);
    kc_check_equal(what, o1.out, o3.out, ny);
    /* weights packed at prepare (constant) or at eval (activation): same result */
    qlite_op_test_tensor ov;
    g_weights_const = false;
    assert_qlite_ok(run_conv(c, x, w, b, 2, 0, &ov));
    g_weights_const = true;
    kc_check_equal(what, o1.out, ov.out, ny);
    qlite_op_test_free(1, &ov);
    /* QLITE_INTERP_EXACT_CONV: the direct / im2col paths also for the 3x3
     * stride-1 cases the size rule sends to Winograd above (which meet the
     * same summation bound here; its own test: test_kernel_conv_winograd.c) */
    if (!c->depthwise) {
        qlite_op_test_tensor x1, x2;
        assert_qlite_ok(run_conv(c, x, w, b, 1, QLITE_INTERP_EXACT_CONV, &x1));
        assert_qlite_ok(run_conv(c, x, w, b, 2, QLITE_INTERP_EXACT_CONV, &x2));
        kc_check_sum(what, x1.out, want, mag, ny, terms);
        kc_check_equal(what, x1.out, x2.out, ny);
        qlite_op_test_free(1, &x1);
        qlite_op_test_free(1, &x2);
    }
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &o3);
    if (!g_ref_repeat) qlite_op_test_free(1, &oref);
    free(x);
    free(w);
    free(b);
    free(want);
    free(mag);
}

#define CONV(N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g, bias, act)                  \
    {N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g, bias, act, false}
#define DW(N, H, W, C, M, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, bias, act)                       \
    {N, H, W, C, (C) * (M), KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, M, bias, act, true}

static void test_conv_cases(void **state) {
    (void)state;
    static const conv_case cases[] = {
        CONV(1, 8, 8, 16, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE), /* 1x1 direct */
        CONV(2, 5, 7, 3, 17, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, false, QLITE_ACT_RELU), /* 1x1 batch 2 */
        CONV(1, 9, 9, 8, 8, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE),   /* 1x1 stride 2 */
        CONV(1, 28, 28, 1, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, true, QLITE_ACT_RELU), /* LeNet 1 */
        CONV(1, 14, 14, 6, 16, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_RELU),
        CONV(2, 7, 9, 5, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6),
        CONV(1, 10, 10, 3, 4, 2, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE), /* stride > k */
        CONV(1, 2, 3, 2, 3, 3, 3, 1, 1, 1, 1, 4, 4, 4, 4, 1, true, QLITE_ACT_NONE),   /* pad > input */
        CONV(1, 9, 9, 4, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, false, QLITE_ACT_NONE),  /* dilation */
        CONV(1, 11, 8, 4, 6, 3, 2, 2, 1, 3, 2, 1, 0, 2, 1, 1, true, QLITE_ACT_NONE),  /* mixed */
        CONV(1, 6, 6, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true, QLITE_ACT_NONE),  /* groups 2 */
        CONV(2, 5, 5, 4, 8, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 4, true, QLITE_ACT_NONE),   /* groups = C */
        CONV(3, 4, 4, 2, 2, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 1, true, QLITE_ACT_RELU_N1_TO_1),
        CONV(1, 1, 1, 5, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE),   /* 1x1x1 */
        CONV(1, 3, 3, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, false, QLITE_ACT_NONE),  /* one output */
        CONV(1, 16, 16, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU), /* K=288 > KC */
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_case(&cases[i], 20 + i);
}

static void test_conv_channels_around_tiles(void **state) {
    (void)state;
    static const int64_t Os[] = {1, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48};
    for (size_t i = 0; i < KC_COUNT(Os); i++) {
        conv_case a = CONV(1, 7, 6, 3, Os[i], 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true,
                           QLITE_ACT_NONE);
        check_case(&a, 200 + i);
        conv_case b = CONV(1, 5, 3, 9, Os[i], 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true,
                           QLITE_ACT_NONE);
        check_case(&b, 300 + i);
    }
}

static void test_conv_random(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 0xc0);
    for (int t = 0; t < 40; t++) {
        conv_case c;
        memset(&c, 0, sizeof c);
        c.depthwise = t % 3 == 2;
        c.N = 1 + qlite_test_rng_u32(&r) % 2;
        c.H = 1 + qlite_test_rng_u32(&r) % 12;
        c.W = 1 + qlite_test_rng_u32(&r) % 12;
        c.KH = 1 + qlite_test_rng_u32(&r) % 4;
        c.KW = 1 + qlite_test_rng_u32(&r) % 4;
        c.sh = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.sw = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.dh = 1 + (int32_t)(qlite_test_rng_u32(&r) % 2);
        c.dw = 1 + (int32_t)(qlite_test_rng_u32(&r) % 2);
        c.pt = (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.pl = (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.pb = (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.pr = (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.bias = qlite_test_rng_u32(&r) & 1;
        c.act = (qlite_activation)(qlite_test_rng_u32(&r) % 4);
        if (c.depthwise) {
            c.C = 1 + qlite_test_rng_u32(&r) % 20;
            c.groups = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
            c.O = c.C * c.groups;
        } else {
            c.groups = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
            c.C = c.groups * (1 + qlite_test_rng_u32(&r) % 6);
            c.O = c.groups * (1 + qlite_test_rng_u32(&r) % 12);
        }
        /* make the window fit */
        while (c.H + c.pt + c.pb < (c.KH - 1) * c.dh + 1) c.pt++;
        while (c.W + c.pl + c.pr < (c.KW - 1) * c.dw + 1) c.pl++;
        check_case(&c, 5000 + (uint64_t)t);
    }
}

static void test_depthwise_cases(void **state) {
    (void)state;
    static const conv_case cases[] = {
        DW(1, 8, 8, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6),  /* MobileNet */
        DW(1, 9, 9, 32, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, true, QLITE_ACT_RELU6),  /* stride 2 */
        DW(2, 5, 6, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),    /* multiplier 2 */
        DW(1, 7, 7, 5, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, false, QLITE_ACT_NONE),   /* dilation */
        DW(1, 2, 2, 4, 1, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3, true, QLITE_ACT_NONE),    /* pad > input */
        DW(1, 10, 10, 7, 1, 2, 2, 4, 4, 1, 1, 0, 0, 0, 0, true, QLITE_ACT_NONE),  /* stride > k */
        DW(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, QLITE_ACT_NONE),    /* 1x1x1 */
        DW(3, 6, 4, 33, 1, 5, 3, 1, 2, 1, 1, 2, 1, 2, 1, true, QLITE_ACT_RELU),
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_case(&cases[i], 700 + i);
}

/*
 * The float depthwise row kernels (AVX-512: 16 channels a vector, AVX2: 8,
 * masked tails; 3x3 interior windows four pixels at a time): channels
 * around the vector width, widths around the 4-pixel group, strides,
 * padding, dilation, other window sizes; one ISA level per test (the CPU
 * features capped as for the int8 kernels), skipped where the CPU lacks it.
 */
static void dw_sweep(unsigned cap) {
    static const int64_t Cs[] = {1, 7, 8, 9, 15, 16, 17, 32, 33, 48};
    static const int64_t Ws[] = {1, 3, 4, 5, 7, 8, 9, 13};
    static bool ran;
    g_ref_repeat = ran && qlite_test_reduced();
    qlite_q8_set_feature_cap(cap);
    uint64_t seed = 900;
    for (size_t i = 0; i < KC_COUNT(Cs); i++)
        for (size_t j = 0; j < KC_COUNT(Ws); j++) {
            const int64_t C = Cs[i], W = Ws[j];
            conv_case a = DW(1, 5, W, C, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6);
            check_case(&a, seed++);
            conv_case b = DW(1, 6, W + 2, C, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, false,
                             QLITE_ACT_NONE);
            check_case(&b, seed++);
        }
    static const conv_case more[] = {
        DW(2, 9, 11, 24, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, true, QLITE_ACT_NONE), /* dilation */
        DW(1, 8, 12, 40, 1, 3, 3, 1, 2, 1, 1, 0, 3, 0, 0, true, QLITE_ACT_RELU),  /* asymmetric */
        DW(1, 7, 9, 20, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, true, QLITE_ACT_NONE),  /* 5x5 */
        DW(1, 3, 3, 16, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, true, QLITE_ACT_NONE),  /* no border */
        DW(1, 6, 6, 17, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),  /* multiplier */
    };
    for (size_t i = 0; i < KC_COUNT(more); i++) check_case(&more[i], seed++);
    qlite_q8_set_feature_cap(~0u);
    ran = true;
    g_ref_repeat = false;
}

static void test_dw_f32_avx512(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    dw_sweep(QLITE_Q8_F_AVX512 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX2);
}

static void test_dw_f32_avx2(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX2)) skip();
    dw_sweep(QLITE_Q8_F_AVX2);
}

static void test_dw_f32_portable(void **state) {
    (void)state;
    dw_sweep(0);
}

/*
 * The float conv GEMM at each ISA level (AVX-512: gemm_f32's fast O16 GEMM,
 * 6x64 tiles, 10x32 for O <= 32; below it gemm_f32's O16 kernels), skipped where the CPU
 * lacks it: output pixels around the 6- and 12-row tiles (1x1 direct path),
 * output channels around the 16 / 32 / 64 columns, K across the 256-,
 * 192- and 1152-step blocks, groups; AVX-512: implicit im2col (runs into the input,
 * zeros above / below, gathered rows at the left / right edges: pads,
 * strides, dilation down, batch 2, runs over a K block); below it one
 * im2col matrix for few pixels and per-thread im2col tiles for many (40x40).
 */
static void conv_sweep(unsigned cap) {
    static const int64_t Ps[] = {1, 5, 6, 7, 9, 11, 12, 13, 24, 25, 37};
    static const int64_t Os[] = {1, 15, 16, 17, 31, 32, 33, 48, 65};
    static bool ran;
    g_ref_repeat = ran && qlite_test_reduced();
    qlite_q8_set_feature_cap(cap);
    uint64_t seed = 1300;
    for (size_t i = 0; i < KC_COUNT(Ps); i++)
        for (size_t j = 0; j < KC_COUNT(Os); j++) {
            conv_case a = CONV(1, 1, Ps[i], 20, Os[j], 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true,
                               QLITE_ACT_RELU6);
            check_case(&a, seed++);
        }
    static const conv_case more[] = {
        CONV(1, 5, 5, 300, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE), /* K>256 */
        CONV(1, 16, 16, 64, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU), /* 2 tiles */
        CONV(1, 9, 9, 3, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, true, QLITE_ACT_NONE),  /* thin */
        CONV(2, 6, 7, 12, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, false, QLITE_ACT_NONE), /* groups */
        CONV(1, 4, 4, 520, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, false, QLITE_ACT_NONE), /* 3 blocks */
        CONV(1, 40, 40, 64, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU), /* tiles */
        CONV(1, 5, 5, 150, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE), /* K 1350 */
        /* implicit im2col: runs of exactly a K block (3 x 64 = 192) and one
         * over (193), runs longer than several blocks (900), two images,
         * dilation down, asymmetric pads, stride 2, windows wider than the
         * input (every pixel an edge), dilation across (gathered instead) */
        CONV(1, 6, 7, 64, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),
        CONV(1, 5, 5, 193, 18, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, true, QLITE_ACT_NONE),
        CONV(1, 4, 5, 300, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),
        CONV(2, 7, 6, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU),
        CONV(1, 9, 8, 5, 17, 3, 2, 1, 1, 2, 1, 2, 0, 1, 1, 1, true, QLITE_ACT_NONE),
        CONV(1, 11, 10, 6, 64, 5, 5, 2, 2, 1, 1, 0, 2, 3, 1, 1, false, QLITE_ACT_RELU6),
        CONV(1, 3, 3, 4, 16, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, true, QLITE_ACT_NONE),
        CONV(1, 8, 8, 7, 20, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 1, true, QLITE_ACT_NONE),
        /* runs of exactly the 1152-step block (3 x 384) and one over (3 x
         * 385: two pieces); two runs per block (3 x 160) with weights over
         * 1 MiB (blocks prefetch the next), stride 2 */
        CONV(1, 5, 6, 384, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),
        CONV(1, 4, 5, 385, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU),
        CONV(1, 9, 9, 160, 200, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),
        /* small-C stems (K = 9..36, runs of 3..12 floats) on the 10x32 tiles
         * (O <= 32) and the 6x64 ones: C = 1, 3, 4, strides 1 and 2,
         * symmetric and SAME-style (0, 0, 1, 1) pads, two images, pixel
         * counts off the 10-row tile, a pixel split between threads inside
         * an output row */
        CONV(1, 23, 23, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6),
        CONV(2, 17, 13, 3, 32, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1, true, QLITE_ACT_NONE),
        CONV(1, 13, 11, 3, 31, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false, QLITE_ACT_NONE),
        CONV(1, 12, 12, 1, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU),
        CONV(2, 15, 9, 1, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),
        CONV(1, 21, 19, 4, 24, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1, true, QLITE_ACT_NONE),
        CONV(1, 10, 14, 4, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6),
        CONV(1, 19, 19, 3, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, true, QLITE_ACT_NONE),
        /* MobileNet-like 1x1 layers: 14x14 with small weights (threads split
         * the pixels: gemm_f32.c FAST_ROWS_MAX_W), 7x7 with 525 KB of
         * weights, and 7x7 with 400 KB, over 3x the activations (both split
         * by columns) */
        CONV(1, 14, 14, 96, 144, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_RELU6),
        CONV(1, 7, 7, 160, 820, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE),
        CONV(1, 7, 7, 256, 400, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, false, QLITE_ACT_RELU),
    };
    for (size_t i = 0; i < KC_COUNT(more); i++) check_case(&more[i], seed++);
    qlite_q8_set_feature_cap(~0u);
    ran = true;
    g_ref_repeat = false;
}

static void test_conv_f32_avx512(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    conv_sweep(QLITE_Q8_F_AVX512 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX2);
}

static void test_conv_f32_below_avx512(void **state) {
    (void)state;
    conv_sweep(QLITE_Q8_F_AVX2);
}

static void test_conv_errors(void **state) {
    (void)state;
    float x[4 * 4 * 4] = {0}, w[8 * 9 * 4] = {0};
    qlite_op_test_tensor in[3], out;
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    in[0] = kc_tensor(4, (int64_t[]){1, 4, 4, 4}, x, false);
    in[2] = kc_absent();

    /* weights for 3 input channels, input has 4 */
    in[1] = kc_tensor(4, (int64_t[]){8, 3, 3, 3}, w, true);
    out = kc_tensor(4, (int64_t[]){1, 2, 2, 8}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    /* groups 3 do not divide 4 channels */
    o.u.conv2d.groups = 3;
    in[1] = kc_tensor(4, (int64_t[]){6, 3, 3, 1}, w, true);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    /* kernel larger than the unpadded input: no output */
    o.u.conv2d.groups = 1;
    in[1] = kc_tensor(4, (int64_t[]){2, 5, 5, 4}, w, true);
    out = kc_tensor(4, (int64_t[]){1, 1, 1, 2}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    /* stride 0 */
    in[1] = kc_tensor(4, (int64_t[]){2, 3, 3, 4}, w, true);
    out = kc_tensor(4, (int64_t[]){1, 2, 2, 2}, NULL, false);
    o.u.conv2d.stride_h = 0;
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    o.u.conv2d.stride_h = 1;
    /* rank-3 input */
    in[0] = kc_tensor(3, (int64_t[]){4, 4, 4}, x, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    /* bool input: invalid dtype; int8 x int8 goes to the integer kernel (conv_2d_q8.c,
     * test_kernel_conv_q8.c), which needs quantization parameters */
    in[0] = kc_tensor(4, (int64_t[]){1, 4, 4, 4}, x, false);
    in[0].dtype = QLITE_DTYPE_BOOL;
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    in[0].dtype = QLITE_DTYPE_INT8;
    in[1].dtype = QLITE_DTYPE_INT8;
    out.dtype = QLITE_DTYPE_INT8;
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qlite_last_error(), "quantization parameters"));
    in[1].dtype = QLITE_DTYPE_FLOAT32;
    out.dtype = QLITE_DTYPE_FLOAT32;

    /* depthwise: weights not [1, KH, KW, C*M] */
    in[0].dtype = QLITE_DTYPE_FLOAT32;
    in[1] = kc_tensor(4, (int64_t[]){1, 3, 3, 5}, w, true);
    out = kc_tensor(4, (int64_t[]){1, 2, 2, 5}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_DEPTHWISE_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    /* depthwise: bias of the wrong length */
    float b[3] = {0};
    in[1] = kc_tensor(4, (int64_t[]){1, 3, 3, 4}, w, true);
    in[2] = kc_tensor(1, (int64_t[]){3}, b, true);
    out = kc_tensor(4, (int64_t[]){1, 2, 2, 4}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_DEPTHWISE_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
}

/* ---- TRANSPOSE_CONV_2D: expected values by scattering, in double ---- */

typedef struct tconv_case {
    int64_t N, H, W, C, O, KH, KW;
    int32_t sh, sw, dh, dw, pt, pl, pb, pr, oph, opw, groups;
    bool bias;
    qlite_activation act;
} tconv_case;

static void check_tconv(const tconv_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const int64_t Cg = c->C / c->groups, Og = c->O / c->groups;
    const int64_t OH = c->sh * (c->H - 1) + c->oph + (c->KH - 1) * c->dh + 1 - c->pt - c->pb;
    const int64_t OW = c->sw * (c->W - 1) + c->opw + (c->KW - 1) * c->dw + 1 - c->pl - c->pr;
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C), nw = (size_t)(c->O * c->KH * c->KW * Cg);
    const size_t ny = (size_t)(c->N * OH * OW * c->O);
    float *x = kc_alloc(nx), *w = kc_alloc(nw), *b = kc_alloc((size_t)c->O);
    kc_fill(&r, x, nx, -1.0f, 1.0f);
    kc_fill(&r, w, nw, -1.0f, 1.0f);
    kc_fill(&r, b, (size_t)c->O, -1.0f, 1.0f);
    double *want = kc_alloc_d(ny), *mag = kc_alloc_d(ny);
    for (size_t i = 0; i < ny; i++) {
        want[i] = c->bias ? b[i % (size_t)c->O] : 0.0;
        mag[i] = fabs(want[i]);
    }
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t iy = 0; iy < c->H; iy++)
            for (int64_t ix = 0; ix < c->W; ix++)
                for (int64_t ky = 0; ky < c->KH; ky++)
                    for (int64_t kx = 0; kx < c->KW; kx++) {
                        const int64_t oy = iy * c->sh - c->pt + ky * c->dh;
                        const int64_t ox = ix * c->sw - c->pl + kx * c->dw;
                        if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                        for (int64_t o = 0; o < c->O; o++)
                            for (int64_t ci = 0; ci < Cg; ci++) {
                                const double v =
                                    (double)x[((n * c->H + iy) * c->W + ix) * c->C + (o / Og) * Cg + ci] *
                                    w[((o * c->KH + ky) * c->KW + kx) * Cg + ci];
                                const size_t i = (size_t)(((n * OH + oy) * OW + ox) * c->O + o);
                                want[i] += v;
                                mag[i] += fabs(v);
                            }
                    }
    float lo, hi;
    kc_act_range(c->act, &lo, &hi);
    for (size_t i = 0; i < ny; i++) want[i] = want[i] < lo ? lo : (want[i] > hi ? hi : want[i]);

    qlite_op_test_tensor in[3], o1, o2, oref;
    in[0] = kc_tensor(4, (int64_t[]){c->N, c->H, c->W, c->C}, x, false);
    in[1] = kc_tensor(4, (int64_t[]){c->O, c->KH, c->KW, Cg}, w, true);
    in[2] = c->bias ? kc_tensor(1, &c->O, b, true) : kc_absent();
    o1 = kc_tensor(4, (int64_t[]){c->N, OH, OW, c->O}, NULL, false);
    o2 = oref = o1;
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d = (qlite_conv2d_options){.stride_h = c->sh, .stride_w = c->sw,
                                        .dilation_h = c->dh, .dilation_w = c->dw,
                                        .pad_top = c->pt, .pad_left = c->pl, .pad_bottom = c->pb,
                                        .pad_right = c->pr, .groups = c->groups,
                                        .output_pad_h = c->oph, .output_pad_w = c->opw,
                                        .activation = c->act};
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, in, 1, &o1, 1, 0));
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, in, 1, &o2, 2, 0));
    assert_qlite_ok(
        qlite_op_test_run(QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, in, 1, &oref, 1, KC_REF_ONLY));
    const double terms = (double)(c->KH * c->KW * Cg);
    kc_check_sum("tconv", o1.out, want, mag, ny, terms);
    kc_check_sum("tconv ref", oref.out, want, mag, ny, terms);
    kc_check_equal("tconv threads", o1.out, o2.out, ny);
    in[1].is_const = false; /* packed at eval instead of prepare: same result */
    qlite_op_test_tensor ov = o1;
    ov.out = NULL;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, in, 1, &ov, 1, 0));
    kc_check_equal("tconv weights at eval", o1.out, ov.out, ny);
    qlite_op_test_free(1, &ov);
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &oref);
    free(x);
    free(w);
    free(b);
    free(want);
    free(mag);
}

static void test_transpose_conv(void **state) {
    (void)state;
    static const tconv_case cases[] = {
        {1, 4, 4, 8, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE}, /* upsample x2 */
        {2, 3, 5, 3, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU},  /* output_pad */
        {1, 5, 4, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 2, false, QLITE_ACT_NONE}, /* groups */
        {1, 3, 3, 2, 3, 3, 2, 3, 2, 2, 1, 0, 1, 2, 0, 2, 1, 1, true, QLITE_ACT_NONE},  /* mixed */
        {1, 1, 1, 3, 17, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE}, /* 1x1 in */
        {1, 6, 6, 16, 33, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 1, true, QLITE_ACT_RELU6},
        {1, 3, 3, 2, 2, 2, 2, 4, 4, 1, 1, 0, 0, 0, 0, 0, 0, 1, true, QLITE_ACT_NONE},  /* stride > k */
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_tconv(&cases[i], 900 + i);
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 0x7c);
    for (int t = 0; t < 25; t++) {
        tconv_case c;
        memset(&c, 0, sizeof c);
        c.N = 1 + qlite_test_rng_u32(&r) % 2;
        c.H = 1 + qlite_test_rng_u32(&r) % 6;
        c.W = 1 + qlite_test_rng_u32(&r) % 6;
        c.groups = 1 + (int32_t)(qlite_test_rng_u32(&r) % 2);
        c.C = c.groups * (1 + qlite_test_rng_u32(&r) % 5);
        c.O = c.groups * (1 + qlite_test_rng_u32(&r) % 9);
        c.KH = 1 + qlite_test_rng_u32(&r) % 4;
        c.KW = 1 + qlite_test_rng_u32(&r) % 4;
        c.sh = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.sw = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.dh = 1 + (int32_t)(qlite_test_rng_u32(&r) % 2);
        c.dw = 1 + (int32_t)(qlite_test_rng_u32(&r) % 2);
        c.oph = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.sh);
        c.opw = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.sw);
        c.pt = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KH);
        c.pb = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KH);
        c.pl = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KW);
        c.pr = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KW);
        c.bias = qlite_test_rng_u32(&r) & 1;
        if (c.sh * (c.H - 1) + c.oph + (c.KH - 1) * c.dh + 1 - c.pt - c.pb < 1) c.pt = c.pb = 0;
        if (c.sw * (c.W - 1) + c.opw + (c.KW - 1) * c.dw + 1 - c.pl - c.pr < 1) c.pl = c.pr = 0;
        check_tconv(&c, 950 + (uint64_t)t);
    }
}

static void test_transpose_conv_errors(void **state) {
    (void)state;
    float x[32] = {0}, w[64] = {0};
    qlite_op_test_tensor in[3], out;
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    in[0] = kc_tensor(4, (int64_t[]){1, 2, 2, 4}, x, false);
    in[1] = kc_tensor(4, (int64_t[]){2, 2, 2, 3}, w, true); /* 3 channels vs 4 */
    in[2] = kc_absent();
    out = kc_tensor(4, (int64_t[]){1, 3, 3, 2}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in[1] = kc_tensor(4, (int64_t[]){2, 2, 2, 4}, w, true);
    o.u.conv2d.pad_top = o.u.conv2d.pad_bottom = 2; /* 3 - 4 < 1 */
    assert_int_equal(qlite_op_test_run(QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_cases),
        cmocka_unit_test(test_conv_channels_around_tiles),
        cmocka_unit_test(test_conv_random),
        cmocka_unit_test(test_depthwise_cases),
        cmocka_unit_test(test_dw_f32_avx512),
        cmocka_unit_test(test_conv_f32_avx512),
        cmocka_unit_test(test_conv_f32_below_avx512),
        cmocka_unit_test(test_dw_f32_avx2),
        cmocka_unit_test(test_dw_f32_portable),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_transpose_conv),
        cmocka_unit_test(test_transpose_conv_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
