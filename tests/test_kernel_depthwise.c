/*
 * test_kernel_depthwise.c — the DEPTHWISE_CONV_2D SIMD row kernels at every
 * ISA level this build has (x86 AVX-512, AVX2+FMA; ARM64 NEON; portable),
 * one level per test (the CPU features capped with qlite_q8_set_feature_cap),
 * skipped where the CPU lacks it:
 *
 *   float32: against a double-precision direct depthwise convolution written
 *     here (kernel_f32_check.h summation bound over KH*KW terms), 1 vs 2
 *     threads bit-identical (the work split by rows and channel groups, or,
 *     up to 256 Ki outputs, into one range of whole rows per thread);
 *   float16 weights: the same weights chosen exactly representable in
 *     binary16 (k / 256, |k| < 2048, encoded here by hand), so the float16
 *     path, which widens them and runs the float32 rows, must give the float32
 *     path's bits exactly.
 *
 *   int8 / uint8 (weights int8, per channel or per tensor): exact against
 *     an int64 definition written here and the output stage of
 *     kernel_nn_q8_check.h (independent requantization), optimized with 1
 *     and 2 threads; hybrid (float32 in and out, int8 weights): optimized
 *     bit-identical to the reference path (same formula, same roundings).
 *
 * Sizes: channels around the vector widths (4 / 8 / 16) and their
 * multiples (NEON float rows take C % 4 == 0, the rest the portable rows), widths around the 4-pixel group, stride 1 and 2 (the
 * overlapping-column paths), padding cutting each border, dilation, 5x5,
 * depth multiplier 2, few rows with many channels (split by channels).
 */
#include "kernel_f32_check.h"
#include "kernel_nn_q8_check.h"
#include "kernels/gemm_q8.h"

typedef struct dw_case {
    int64_t N, H, W, C, M, KH, KW;
    int32_t sh, sw, dh, dw, pt, pl, pb, pr;
    bool bias;
    qlite_activation act;
} dw_case;

#define DWC(N, H, W, C, M, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, bias, act) \
    {N, H, W, C, M, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, bias, act}

static int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
    return (in + p0 + p1 - (k - 1) * d - 1) / s + 1;
}

/* exact value and sum |terms| per output, then the activation */
static void dw_expect(const dw_case *c, const float *x, const float *w, const float *b,
                      double *want, double *mag) {
    const int64_t OH = out_dim(c->H, c->KH, c->sh, c->dh, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, c->dw, c->pl, c->pr);
    const int64_t O = c->C * c->M;
    float lo, hi;
    kc_act_range(c->act, &lo, &hi);
    size_t i = 0;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t o = 0; o < O; o++, i++) {
                    double acc = c->bias ? b[o] : 0.0, m = fabs(acc);
                    for (int64_t ky = 0; ky < c->KH; ky++)
                        for (int64_t kx = 0; kx < c->KW; kx++) {
                            const int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                            const int64_t ix = ox * c->sw - c->pl + kx * c->dw;
                            if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                            const double t = (double)x[((n * c->H + iy) * c->W + ix) * c->C +
                                                       o / c->M] *
                                             (double)w[(ky * c->KW + kx) * O + o];
                            acc += t;
                            m += fabs(t);
                        }
                    want[i] = acc < lo ? lo : (acc > hi ? hi : acc);
                    mag[i] = m;
                }
}

/* binary16 bits of v = k / 256, |k| < 2048 (exact: at most 11 significant bits) */
static uint16_t f16_bits_of_k256(int32_t k) {
    if (k == 0) return 0;
    const uint16_t sign = k < 0 ? 0x8000u : 0u;
    uint32_t a = (uint32_t)(k < 0 ? -k : k);
    int e = 0; /* a = 1.f * 2^e */
    while ((a >> (e + 1)) != 0) e++;
    const uint32_t frac = (a << (10 - e)) & 0x3ffu; /* e <= 10 */
    const uint32_t exp = (uint32_t)(e - 8 + 15);      /* value exponent e - 8, bias 15 */
    return (uint16_t)(sign | (exp << 10) | frac);
}

static qlite_status run_dw(const dw_case *c, const float *x, const void *w, bool w_f16,
                           const float *b, int threads, uint32_t flags,
                           qlite_op_test_tensor *out) {
    const int64_t O = c->C * c->M;
    qlite_op_test_tensor in[3];
    in[0] = kc_tensor(4, (int64_t[]){c->N, c->H, c->W, c->C}, x, false);
    in[1] = kc_tensor(4, (int64_t[]){1, c->KH, c->KW, O}, w, true);
    if (w_f16) in[1].dtype = QLITE_DTYPE_FLOAT16;
    in[2] = c->bias ? kc_tensor(1, &O, b, true) : kc_absent();
    const int64_t OH = out_dim(c->H, c->KH, c->sh, c->dh, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, c->dw, c->pl, c->pr);
    *out = kc_tensor(4, (int64_t[]){c->N, OH, OW, O}, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d = (qlite_conv2d_options){.stride_h = c->sh, .stride_w = c->sw,
                                        .dilation_h = c->dh, .dilation_w = c->dw,
                                        .pad_top = c->pt, .pad_left = c->pl,
                                        .pad_bottom = c->pb, .pad_right = c->pr,
                                        .groups = (int32_t)c->M, .activation = c->act};
    return qlite_op_test_run(QLITE_OP_DEPTHWISE_CONV_2D, &o, 3, in, 1, out, threads, flags);
}

static void check_case(const dw_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const int64_t O = c->C * c->M;
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C), nw = (size_t)(c->KH * c->KW * O);
    float *x = kc_alloc(nx), *w = kc_alloc(nw), *b = kc_alloc((size_t)O);
    uint16_t *w16 = malloc(nw * sizeof *w16);
    assert_non_null(w16);
    kc_fill(&r, x, nx, -1.0f, 1.0f);
    kc_fill(&r, b, (size_t)O, -1.0f, 1.0f);
    for (size_t i = 0; i < nw; i++) {
        const int32_t k = (int32_t)(qlite_test_rng_u32(&r) % 4095u) - 2047;
        w[i] = (float)k / 256.0f;
        w16[i] = f16_bits_of_k256(k);
    }
    const int64_t OH = out_dim(c->H, c->KH, c->sh, c->dh, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, c->dw, c->pl, c->pr);
    const size_t ny = (size_t)(c->N * OH * OW * O);
    double *want = kc_alloc_d(ny), *mag = kc_alloc_d(ny);
    dw_expect(c, x, w, b, want, mag);
    char what[200];
    snprintf(what, sizeof what,
             "dw N%lld H%lld W%lld C%lld M%lld k%lldx%lld s%d,%d d%d,%d p%d,%d,%d,%d act%d",
             (long long)c->N, (long long)c->H, (long long)c->W, (long long)c->C,
             (long long)c->M, (long long)c->KH, (long long)c->KW, c->sh, c->sw, c->dh, c->dw,
             c->pt, c->pl, c->pb, c->pr, (int)c->act);
    qlite_op_test_tensor o1, o2, h1, h2;
    assert_qlite_ok(run_dw(c, x, w, false, b, 1, 0, &o1));
    assert_qlite_ok(run_dw(c, x, w, false, b, 2, 0, &o2));
    assert_qlite_ok(run_dw(c, x, w16, true, b, 1, 0, &h1));
    assert_qlite_ok(run_dw(c, x, w16, true, b, 2, 0, &h2));
    assert_int_equal(o1.out_bytes, ny * sizeof(float));
    kc_check_sum(what, o1.out, want, mag, ny, (double)(c->KH * c->KW));
    kc_check_equal(what, o1.out, o2.out, ny);
    kc_check_equal(what, o1.out, h1.out, ny);
    kc_check_equal(what, o1.out, h2.out, ny);
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &h1);
    qlite_op_test_free(1, &h2);
    free(x);
    free(w);
    free(w16);
    free(b);
    free(want);
    free(mag);
}

static void dw_sweep(unsigned cap) {
    static const int64_t Cs[] = {1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 32, 33, 48};
    static const int64_t Ws[] = {1, 3, 4, 5, 7, 8, 9, 13};
    qlite_q8_set_feature_cap(cap);
    uint64_t seed = 4100;
    for (size_t i = 0; i < KC_COUNT(Cs); i++)
        for (size_t j = 0; j < KC_COUNT(Ws); j++) {
            const int64_t C = Cs[i], W = Ws[j];
            const dw_case s1 =
                DWC(1, 5, W, C, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6);
            check_case(&s1, seed++);
            const dw_case s2 =
                DWC(1, 6, 2 * W + 1, C, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, false, QLITE_ACT_NONE);
            check_case(&s2, seed++);
            const dw_case s2p =
                DWC(1, 4, 2 * W, C, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU);
            check_case(&s2p, seed++);
        }
    static const dw_case more[] = {
        DWC(2, 9, 11, 24, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, true, QLITE_ACT_NONE), /* dilation */
        DWC(1, 8, 12, 40, 1, 3, 3, 1, 2, 1, 1, 0, 3, 0, 0, true, QLITE_ACT_RELU),  /* asymmetric */
        DWC(1, 7, 9, 20, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, true, QLITE_ACT_NONE),  /* 5x5 */
        DWC(1, 3, 3, 16, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, true, QLITE_ACT_NONE),  /* no border */
        DWC(1, 6, 6, 17, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),  /* multiplier */
        DWC(1, 2, 2, 5, 1, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3, true, QLITE_ACT_NONE),   /* pad > input */
        DWC(1, 10, 10, 7, 1, 2, 2, 4, 4, 1, 1, 0, 0, 0, 0, true, QLITE_ACT_NONE), /* stride > k */
        /* few rows, many channels: split by channel groups between threads */
        DWC(1, 3, 3, 200, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6),
        DWC(2, 7, 7, 96, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU6),
        DWC(1, 14, 14, 77, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, false, QLITE_ACT_NONE),
        DWC(1, 1, 1, 300, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_RELU_N1_TO_1),
        /* past DW_PARTS_MAX outputs (256 Ki; the cases above, with 2+ rows, give each
         * thread one range of whole rows): 3 rows x 3 x 29200 channels, split by
         * channel groups */
        DWC(1, 3, 3, 29200, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, QLITE_ACT_NONE),
    };
    for (size_t i = 0; i < KC_COUNT(more); i++) check_case(&more[i], seed++);
    qlite_q8_set_feature_cap(~0u);
}

/* ---- int8 ---- */

typedef struct dwq_case {
    qlite_dtype dt;
    int64_t N, H, W, C, KH, KW; /* multiplier 1: the optimized blocks */
    int32_t sh, sw, pt, pl, pb, pr;
    bool per_channel, bias;
    qlite_activation act;
} dwq_case;

/* check_q8 with sx sw / sy = 5 (the output stage's saturating left shift) */
static bool big_mult;

static qlite_status run_dwq(const dwq_case *c, const void *x, const q8_params *px,
                            const int8_t *w, const nnq_wparams *pw, const void *b,
                            const q8_params *py, int threads, uint32_t flags,
                            qlite_op_test_tensor *out) {
    const bool hybrid = c->dt == QLITE_DTYPE_FLOAT32;
    qlite_op_test_tensor in[3];
    in[0] = hybrid ? kc_tensor(4, (int64_t[]){c->N, c->H, c->W, c->C}, x, false)
                   : q8_tensor(c->dt, 4, (int64_t[]){c->N, c->H, c->W, c->C}, x, px);
    in[1] = qt_const(QLITE_DTYPE_INT8, 4, (int64_t[]){1, c->KH, c->KW, c->C}, w);
    in[1].quant = &pw->q;
    if (c->bias)
        in[2] = qt_const(hybrid ? QLITE_DTYPE_FLOAT32 : QLITE_DTYPE_INT32, 1, &c->C, b);
    else
        in[2] = kc_absent();
    const int64_t OH = out_dim(c->H, c->KH, c->sh, 1, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, 1, c->pl, c->pr);
    *out = hybrid ? kc_tensor(4, (int64_t[]){c->N, OH, OW, c->C}, NULL, false)
                  : q8_tensor(c->dt, 4, (int64_t[]){c->N, OH, OW, c->C}, NULL, py);
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d = (qlite_conv2d_options){.stride_h = c->sh, .stride_w = c->sw,
                                        .dilation_h = 1, .dilation_w = 1,
                                        .pad_top = c->pt, .pad_left = c->pl,
                                        .pad_bottom = c->pb, .pad_right = c->pr,
                                        .groups = 1, .activation = c->act};
    return qlite_op_test_run(QLITE_OP_DEPTHWISE_CONV_2D, &o, 3, in, 1, out, threads, flags);
}

static void check_q8(const dwq_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const bool hybrid = c->dt == QLITE_DTYPE_FLOAT32;
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C), nw = (size_t)(c->KH * c->KW * c->C);
    void *x = malloc(nx * 4);
    int8_t *w = malloc(nw);
    int32_t *b = malloc((size_t)c->C * sizeof(int32_t));
    float *bf = malloc((size_t)c->C * sizeof(float));
    assert_true(x && w && b && bf);
    if (hybrid)
        kc_fill(&r, x, nx, -3.0f, 2.0f);
    else
        nnq_fill_codes(&r, x, nx, c->dt);
    nnq_fill_weights(&r, w, nw);
    nnq_fill_bias(&r, b, (size_t)c->C, 13);
    kc_fill(&r, bf, (size_t)c->C, -1.0f, 1.0f);
    q8_params px, py;
    nnq_wparams pw;
    q8_params_set(&px, q8_rand_scale(&r, -8.0f, -2.0f), hybrid ? 0 : q8_rand_zp(&r, c->dt));
    nnq_wparams_random(&r, &pw, c->per_channel ? (uint32_t)c->C : 1, 3, false);
    q8_params_set(&py, nnq_out_scale(&r, px.scale, pw.scale[0], (size_t)(c->KH * c->KW)),
                  hybrid ? 0 : q8_rand_zp(&r, c->dt));
    if (big_mult && !hybrid) q8_params_set(&py, px.scale * pw.scale[0] / 5.0f, q8_rand_zp(&r, c->dt));
    const int64_t OH = out_dim(c->H, c->KH, c->sh, 1, c->pt, c->pb);
    const int64_t OW = out_dim(c->W, c->KW, c->sw, 1, c->pl, c->pr);
    const size_t ny = (size_t)(c->N * OH * OW * c->C);
    char what[160];
    snprintf(what, sizeof what, "dw %s N%lld H%lld W%lld C%lld k%lldx%lld s%d,%d p%d,%d,%d,%d",
             qlite_dtype_name(c->dt), (long long)c->N, (long long)c->H, (long long)c->W,
             (long long)c->C, (long long)c->KH, (long long)c->KW, c->sh, c->sw, c->pt, c->pl,
             c->pb, c->pr);
    qlite_op_test_tensor o1, o2, o3;
    const void *bias = hybrid ? (const void *)bf : (const void *)b;
    assert_qlite_ok(run_dwq(c, x, &px, w, &pw, bias, &py, 1, 0, &o1));
    assert_qlite_ok(run_dwq(c, x, &px, w, &pw, bias, &py, 2, 0, &o2));
    assert_qlite_ok(run_dwq(c, x, &px, w, &pw, bias, &py, 3, 0, &o3)); /* uneven ranges */
    if (hybrid) {
        qlite_op_test_tensor oref;
        assert_qlite_ok(run_dwq(c, x, &px, w, &pw, bias, &py, 1, KC_REF_ONLY, &oref));
        kc_check_equal(what, o1.out, oref.out, ny);
        kc_check_equal(what, o2.out, oref.out, ny);
        kc_check_equal(what, o3.out, oref.out, ny);
        qlite_op_test_free(1, &oref);
    } else {
        int32_t *want = malloc(ny * sizeof(int32_t));
        assert_non_null(want);
        size_t i = 0;
        for (int64_t n = 0; n < c->N; n++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++)
                    for (int64_t ch = 0; ch < c->C; ch++, i++) {
                        int64_t acc = c->bias ? b[ch] : 0;
                        for (int64_t ky = 0; ky < c->KH; ky++)
                            for (int64_t kx = 0; kx < c->KW; kx++) {
                                const int64_t iy = oy * c->sh - c->pt + ky;
                                const int64_t ix = ox * c->sw - c->pl + kx;
                                if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                                const size_t xi = (size_t)(((n * c->H + iy) * c->W + ix) * c->C + ch);
                                acc += (int64_t)(q8_get(x, xi, c->dt) - px.zp) *
                                       w[(ky * c->KW + kx) * c->C + ch];
                            }
                        want[i] = nnq_out(acc, px.scale, &pw, (size_t)ch, &py, c->dt, c->act);
                    }
        nnq_expect_codes(what, o1.out, want, ny, c->dt);
        nnq_expect_codes(what, o2.out, want, ny, c->dt);
        nnq_expect_codes(what, o3.out, want, ny, c->dt);
        free(want);
    }
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &o3);
    free(x);
    free(w);
    free(b);
    free(bf);
}

static void dwq_sweep(unsigned cap) {
    static const int64_t Cs[] = {1, 7, 8, 9, 15, 16, 17, 24, 33};
    static const int64_t Ws[] = {1, 3, 5, 9};
    static const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8, QLITE_DTYPE_FLOAT32};
    qlite_q8_set_feature_cap(cap);
    uint64_t seed = 7300;
    for (size_t d = 0; d < KC_COUNT(dts); d++)
        for (size_t i = 0; i < KC_COUNT(Cs); i++)
            for (size_t j = 0; j < KC_COUNT(Ws); j++, seed++) {
                const qlite_activation act = (qlite_activation)(seed % QLITE_ACT_COUNT);
                const dwq_case a = {dts[d], 1, 4, Ws[j], Cs[i], 3, 3, 1, 1, 1, 1, 1, 1,
                                    seed % 3 != 0, seed % 4 != 1, act};
                check_q8(&a, seed);
                const dwq_case s2 = {dts[d], 2, 5, 2 * Ws[j] + 1, Cs[i], 3, 3, 2, 2, 0, 0, 1, 1,
                                     seed % 3 == 0, seed % 4 == 1, act};
                check_q8(&s2, seed + 10000);
            }
    static const dwq_case more[] = {
        {QLITE_DTYPE_INT8, 1, 3, 3, 200, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_RELU6},
        {QLITE_DTYPE_UINT8, 1, 7, 7, 96, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 1, 6, 7, 40, 5, 5, 1, 2, 2, 2, 2, 2, false, true, QLITE_ACT_RELU},
        {QLITE_DTYPE_FLOAT32, 1, 7, 7, 96, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_RELU6},
        /* AVX-512 VNNI rows: 64-channel blocks (full, tails of 1..63, several), the taps
         * as quads plus 0 / 1 / 2 / 3 more (3x3 = 2 + 1, 5x5 = 6 + 1, 2x3, 3x1, 2x2) */
        {QLITE_DTYPE_INT8, 1, 9, 9, 64, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_RELU6},
        {QLITE_DTYPE_UINT8, 1, 8, 10, 144, 3, 3, 2, 2, 0, 0, 1, 1, true, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 2, 6, 11, 130, 5, 5, 1, 1, 2, 2, 2, 2, true, true, QLITE_ACT_RELU},
        {QLITE_DTYPE_UINT8, 1, 5, 9, 70, 2, 3, 1, 1, 0, 0, 0, 0, false, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 1, 5, 9, 65, 3, 1, 1, 1, 1, 0, 1, 0, true, false, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 1, 6, 8, 192, 3, 3, 2, 2, 1, 1, 1, 1, false, false, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 1, 4, 4, 127, 2, 2, 2, 2, 0, 0, 0, 0, true, true, QLITE_ACT_RELU6},
        {QLITE_DTYPE_FLOAT32, 1, 9, 9, 100, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_FLOAT32, 1, 7, 9, 64, 2, 2, 2, 2, 0, 0, 0, 0, true, false, QLITE_ACT_RELU},
        {QLITE_DTYPE_FLOAT32, 1, 6, 6, 80, 2, 3, 1, 1, 0, 1, 0, 1, false, true, QLITE_ACT_RELU6},
        /* the 3x3 column tables' items, rows outermost with channel groups inside, over
         * several images: 2 and 3 threads take ranges that start and end inside a row
         * and cross images (2 x 7 row pairs x 3 groups; 3 x 8 rows x 2 groups) */
        {QLITE_DTYPE_INT8, 2, 14, 14, 192, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_RELU6},
        {QLITE_DTYPE_UINT8, 3, 15, 15, 130, 3, 3, 2, 2, 1, 1, 1, 1, false, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_FLOAT32, 2, 13, 9, 200, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE},
        /* more channel groups than row items (2 x 2 row pairs, 8 groups): groups outermost,
         * runs of rows crossing the images */
        {QLITE_DTYPE_INT8, 2, 3, 4, 512, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_UINT8, 3, 5, 5, 330, 3, 3, 2, 2, 1, 1, 1, 1, true, false, QLITE_ACT_RELU},
        /* 32 channels at stride 1: pixel pairs (odd and even interior counts), stride 2 not */
        {QLITE_DTYPE_INT8, 1, 6, 9, 32, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_RELU6},
        {QLITE_DTYPE_UINT8, 1, 5, 10, 32, 3, 3, 1, 1, 1, 1, 1, 1, false, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_FLOAT32, 1, 5, 9, 32, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_RELU},
        {QLITE_DTYPE_FLOAT32, 1, 4, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, true, false, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 2, 5, 8, 32, 5, 5, 1, 1, 2, 2, 2, 2, true, false, QLITE_ACT_RELU},
        {QLITE_DTYPE_INT8, 1, 7, 9, 32, 3, 3, 2, 2, 1, 1, 1, 1, true, true, QLITE_ACT_NONE},
    };
    for (size_t i = 0; i < KC_COUNT(more); i++) check_q8(&more[i], seed++);
    /* 3x3 stride 1 and 2 (AVX-512: two output rows (stride 2: one) per item from
     * interleaved input columns, borders and the row below the last read as the zero
     * point, 64- (32-) output chunks, blocks of 17..32 channels (stride 1: 9..32) as pixel
     * pairs (contiguous when C = 32), smaller tails by the 16-channel rows): odd and even
     * row counts, 1..20 rows and columns, widths past one chunk, channels around the
     * 64-byte blocks and the tail limits, each padding side 0..2 */
    static const int64_t Hs3[] = {1, 2, 3, 6, 7, 20};
    static const int64_t Ws3[] = {1, 2, 5, 20, 67};
    static const int64_t Cs3[] = {8, 9, 17, 31, 32, 63, 64, 65, 70, 72, 88, 96, 144};
    for (size_t i = 0; i < KC_COUNT(Hs3); i++)
        for (size_t k = 0; k < KC_COUNT(Cs3); k++, seed++) {
            const size_t wi = (i + k) % KC_COUNT(Ws3);
            const int32_t pt = (int32_t)(seed % 3), pl = (int32_t)((seed / 3) % 3);
            const int32_t pb = (int32_t)((seed / 2) % 3), pr = (int32_t)((seed / 5) % 3);
            if (Hs3[i] + pt + pb < 3 || Ws3[wi] + pl + pr < 3) continue;
            const dwq_case a = {dts[seed % 2], 1 + (int64_t)(seed % 5 == 0), Hs3[i], Ws3[wi],
                                Cs3[k], 3, 3, 1, 1, pt, pl, pb, pr, seed % 4 != 0,
                                seed % 3 != 1, (qlite_activation)(seed % QLITE_ACT_COUNT)};
            check_q8(&a, seed);
            dwq_case a2 = a; /* stride 2: one output row per item, 32-output chunks */
            a2.sh = a2.sw = 2;
            a2.W = Ws3[(wi + 2) % KC_COUNT(Ws3)];
            if (a2.W + pl + pr >= 3) check_q8(&a2, seed + 20000);
        }
    static const dwq_case big[] = {
        {QLITE_DTYPE_INT8, 1, 5, 6, 100, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_UINT8, 1, 5, 6, 64, 3, 3, 1, 1, 1, 1, 1, 1, false, false, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 1, 5, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, true, false, QLITE_ACT_RELU6},
        {QLITE_DTYPE_UINT8, 1, 7, 70, 144, 3, 3, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 1, 4, 9, 32, 3, 3, 1, 1, 0, 2, 2, 0, true, true, QLITE_ACT_NONE},
        {QLITE_DTYPE_INT8, 1, 9, 70, 144, 3, 3, 2, 2, 0, 0, 1, 1, true, true, QLITE_ACT_RELU6},
    };
    big_mult = true;
    for (size_t i = 0; i < KC_COUNT(big); i++) check_q8(&big[i], seed++);
    big_mult = false;
    /* every channel count 1..70 (AVX2: 16-channel int16 tap-pair blocks, then an 8-channel
     * block and single channels), 3x3 and 5x5 (odd tap counts: a last unpaired tap),
     * stride 1 / 2, padding cutting 0..2 per side (border pixels: taps outside the input),
     * int8 / uint8 / hybrid, per-channel / per-tensor weights */
    /* reduced sweeps (support.h): 1..33 (every remainder of the 8- / 16-channel blocks with
     * 0..2 blocks before it) and 63..70 (four blocks and their tails); 34..62 repeat them */
    const bool reduced = qlite_test_reduced();
    for (int64_t C = 1; C <= 70; C++, seed++) {
        if (reduced && C > 33 && C < 63) continue;
        const int64_t k = C % 2 ? 3 : 5;
        const int32_t st = (int32_t)(seed % 2) + 1;
        const int32_t pt = (int32_t)(seed % 3), pl = (int32_t)((seed / 3) % 3);
        const int32_t pb = (int32_t)((seed / 2) % 3), pr = (int32_t)((seed / 5) % 3);
        const dwq_case a = {dts[seed % 3], 1, 5 + (int64_t)(seed % 3), 7 + (int64_t)(seed % 4), C,
                            k, k, st, st, pt, pl, pb, pr, seed % 4 != 0, seed % 3 != 1,
                            (qlite_activation)(seed % QLITE_ACT_COUNT)};
        if (a.H + pt + pb < k || a.W + pl + pr < k) continue;
        check_q8(&a, seed);
        dwq_case b3 = a; /* the other kernel size and dtype, stride */
        b3.KH = b3.KW = 8 - k;
        b3.dt = dts[(seed + 1) % 3];
        b3.sh = b3.sw = 3 - st;
        b3.per_channel = !a.per_channel;
        if (b3.H + pt + pb >= b3.KH && b3.W + pl + pr >= b3.KW) check_q8(&b3, seed + 30000);
    }
    qlite_q8_set_feature_cap(~0u);
}

static void test_dw_avx512(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    dw_sweep(QLITE_Q8_F_AVX512 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX2);
    dwq_sweep(QLITE_Q8_F_AVX512 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX2);
}

static void test_dw_avx2(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX2)) skip();
    dw_sweep(QLITE_Q8_F_AVX2);
    dwq_sweep(QLITE_Q8_F_AVX2);
}

static void test_dw_neon(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_NEON)) skip();
    dw_sweep(QLITE_Q8_F_NEON);
    dwq_sweep(QLITE_Q8_F_NEON);
}

static void test_dw_portable(void **state) {
    (void)state;
    dw_sweep(0);
    dwq_sweep(0);
}

/* the binary16 encoder above against NumPy (np.float16(v).view(np.uint16)) */
static void test_f16_encoder(void **state) {
    (void)state;
    assert_int_equal(f16_bits_of_k256(256), 0x3c00);   /* 1.0 */
    assert_int_equal(f16_bits_of_k256(-512), 0xc000);  /* -2.0 */
    assert_int_equal(f16_bits_of_k256(1), 0x1c00);     /* 2^-8 */
    assert_int_equal(f16_bits_of_k256(384), 0x3e00);   /* 1.5 */
    assert_int_equal(f16_bits_of_k256(2047), 0x47ff);  /* 7.99609375 */
    assert_int_equal(f16_bits_of_k256(-3), 0xa200);    /* -0.01171875 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_encoder), cmocka_unit_test(test_dw_avx512),
        cmocka_unit_test(test_dw_avx2),     cmocka_unit_test(test_dw_neon),
        cmocka_unit_test(test_dw_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
