/*
 * test_kernel_conv_packed.c — CONV_2D on weights stored in the packed
 * layouts of docs/format.md §6.2 (the weight [O, KH, KW, Cg] seen as one
 * matrix [O, KH*KW*Cg]), handed to the kernel as stored, as the interpreter
 * does for a converted model:
 *
 * (a) int8 in O16I4, int8 input: exact against the §4.1 formula written
 *     here in int64, on every ISA level of this CPU, 1 and 2 threads and the
 *     reference path, and equal to the same weights given DEFAULT;
 * (b) hybrid (float32 input, int8 O16I4 weights): bit-equal to the same
 *     weights given DEFAULT (optimized and reference paths), every ISA level;
 * (c) float32 and float16 weights in O16: within the summation bound of a
 *     double reference, and bit-equal to DEFAULT (packed at prepare);
 * (d) packed weights of a grouped conv whose groups are not whole 16-channel
 *     blocks, and a layout the dtype does not use, are refused.
 * Sizes: output pixels below the int8 dot threshold (1..3) and across
 * several tiles, output channels around 16/32, K around 4 and 64, groups
 * of 16 channels, padding, strides, dilation. The packed bytes are made here
 * from the doc's index formula, not by qlite.
 */
#include <math.h>

#include "kernel_f32_check.h"
#include "kernel_nn_q8_check.h"
#include "kernels/gemm_q8.h"

/* docs/format.md §6.2: element (o, i) of one matrix [O, I]. */
static size_t o16i4_index(size_t I, size_t o, size_t i) {
    return ((o / 16) * ((I + 3) / 4) + i / 4) * 64 + (o % 16) * 4 + i % 4;
}
static size_t o16_index(size_t I, size_t o, size_t i) { return ((o / 16) * I + i) * 16 + o % 16; }
static size_t o16i4_bytes(size_t O, size_t I) { return (O + 15) / 16 * 16 * ((I + 3) / 4 * 4); }
static size_t o16_elems(size_t O, size_t I) { return (O + 15) / 16 * 16 * I; }

typedef struct cp_case {
    int64_t N, H, W, C, O, KH, KW;
    int32_t s, d, pad, groups;
    bool bias;
    qlite_activation act;
} cp_case;

static int64_t cp_out(const cp_case *c, int64_t in, int64_t k) {
    return (in + 2 * c->pad - ((k - 1) * c->d + 1)) / c->s + 1;
}
static int64_t cp_K(const cp_case *c) { return c->KH * c->KW * (c->C / c->groups); }
static size_t cp_P(const cp_case *c) {
    return (size_t)(c->N * cp_out(c, c->H, c->KH) * cp_out(c, c->W, c->KW));
}

/* x at (n, iy, ix, channel ch) or -1 when the tap is in the padding. */
static int64_t cp_src(const cp_case *c, int64_t p, int64_t k, int64_t o) {
    const int64_t OH = cp_out(c, c->H, c->KH), OW = cp_out(c, c->W, c->KW);
    const int64_t Cg = c->C / c->groups, Og = c->O / c->groups;
    const int64_t n = p / (OH * OW), oy = p % (OH * OW) / OW, ox = p % OW;
    const int64_t ky = k / (c->KW * Cg), kx = k / Cg % c->KW, ch = (o / Og) * Cg + k % Cg;
    const int64_t iy = oy * c->s - c->pad + ky * c->d, ix = ox * c->s - c->pad + kx * c->d;
    if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) return -1;
    return ((n * c->H + iy) * c->W + ix) * c->C + ch;
}

static qlite_op_options cp_opts(const cp_case *c) {
    qlite_op_options o = qopts(QLITE_OPTIONS_CONV_2D);
    qlite_conv2d_options *co = &o.u.conv2d;
    co->stride_h = co->stride_w = c->s;
    co->dilation_h = co->dilation_w = c->d;
    co->pad_top = co->pad_left = co->pad_bottom = co->pad_right = c->pad;
    co->groups = c->groups;
    co->activation = c->act;
    return o;
}

static qlite_status cp_run(const cp_case *c, qlite_op_test_tensor x, qlite_dtype wdt,
                           const void *w, size_t wbytes, qlite_layout layout,
                           const qlite_quant *wq, qlite_op_test_tensor b, qlite_op_test_tensor *out,
                           int threads, uint32_t flags) {
    qlite_op_test_tensor in[3];
    in[0] = x;
    in[1] = qt_const(wdt, 4, (int64_t[]){c->O, c->KH, c->KW, c->C / c->groups}, w);
    in[1].quant = wq;
    in[1].layout = layout;
    in[1].data_size = wbytes;
    in[2] = b;
    const qlite_op_options o = cp_opts(c);
    return qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, out, threads, flags);
}

static qlite_op_test_tensor absent(void) {
    qlite_op_test_tensor t;
    memset(&t, 0, sizeof t);
    t.absent = true;
    return t;
}

#if defined(__aarch64__)
static const unsigned caps[4] = {~0u, QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD, QLITE_Q8_F_NEON, 0u};
#else
static const unsigned caps[4] = {~0u, QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI, QLITE_Q8_F_AVX2, 0u};
#endif

static const cp_case cases[] = {
    /* N  H   W  C   O  KH KW s  d  pad g  bias act */
    {1, 1, 1, 5, 17, 1, 1, 1, 1, 0, 1, true, QLITE_ACT_NONE},   /* 1 pixel (int8 dot size) */
    {1, 3, 1, 4, 16, 3, 3, 1, 1, 1, 1, false, QLITE_ACT_RELU},  /* 3 pixels, K 36 */
    {2, 6, 5, 3, 15, 3, 3, 1, 1, 1, 1, true, QLITE_ACT_RELU6},  /* K 27 */
    {1, 9, 8, 16, 33, 1, 1, 1, 1, 0, 1, true, QLITE_ACT_NONE},  /* 1x1 direct, K 16 */
    {1, 10, 9, 7, 32, 3, 3, 2, 1, 1, 1, true, QLITE_ACT_NONE},  /* stride 2, K 63 */
    {1, 12, 11, 64, 31, 1, 1, 1, 1, 0, 1, false, QLITE_ACT_NONE}, /* K 64, many tiles */
    {1, 9, 9, 13, 48, 5, 5, 1, 2, 3, 1, true, QLITE_ACT_RELU},  /* dilation 2, K 325 */
    {1, 7, 6, 10, 32, 3, 3, 1, 1, 1, 2, true, QLITE_ACT_NONE},  /* 2 groups of 16 */
    {2, 16, 17, 3, 65, 7, 7, 2, 1, 3, 1, true, QLITE_ACT_RELU}, /* first layer, K 147 */
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- (a), (b) int8 weights in O16I4 ---- */

static void check_q8(const cp_case *c, bool hybrid, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t O = (size_t)c->O, K = (size_t)cp_K(c), P = cp_P(c);
    const size_t X = (size_t)(c->N * c->H * c->W * c->C);
    int8_t *x = malloc(X), *w = malloc(O * K), *wp = calloc(o16i4_bytes(O, K), 1);
    float *xf = kc_alloc(X), *bf = kc_alloc(O);
    int32_t *b = malloc(O * sizeof(int32_t)), *want = malloc(P * O * sizeof(int32_t));
    nnq_wparams *pw = malloc(sizeof *pw);
    assert_true(x && w && wp && b && want && pw);
    nnq_fill_codes(&r, x, X, QLITE_DTYPE_INT8);
    kc_fill(&r, xf, X, -2.0f, 2.0f);
    kc_fill(&r, bf, O, -1.0f, 1.0f);
    nnq_fill_weights(&r, w, O * K);
    nnq_fill_bias(&r, b, O, 14);
    for (size_t o = 0; o < O; o++)
        for (size_t k = 0; k < K; k++) wp[o16i4_index(K, o, k)] = w[o * K + k];
    q8_params px, py;
    q8_params_set(&px, q8_rand_scale(&r, -8.0f, -2.0f), q8_rand_zp(&r, QLITE_DTYPE_INT8));
    nnq_wparams_random(&r, pw, seed % 2 ? (uint32_t)O : 1, 0, !hybrid);
    q8_params_set(&py, nnq_out_scale(&r, px.scale, pw->scale[0], K),
                  q8_rand_zp(&r, QLITE_DTYPE_INT8));
    for (size_t p = 0; p < P && !hybrid; p++) /* §4.1 in int64, taps in the padding add 0 */
        for (size_t o = 0; o < O; o++) {
            int64_t acc = c->bias ? b[o] : 0;
            for (size_t k = 0; k < K; k++) {
                const int64_t at = cp_src(c, (int64_t)p, (int64_t)k, (int64_t)o);
                if (at >= 0) acc += (int64_t)(x[at] - px.zp) * (w[o * K + k] - nnq_wzp(pw, o));
            }
            want[p * O + o] = nnq_out(acc, px.scale, pw, o, &py, QLITE_DTYPE_INT8, c->act);
        }
    const int64_t OH = cp_out(c, c->H, c->KH), OW = cp_out(c, c->W, c->KW);
    const int64_t xs[4] = {c->N, c->H, c->W, c->C}, ys[4] = {c->N, OH, OW, c->O};
    const qlite_op_test_tensor xt = hybrid ? qt(QLITE_DTYPE_FLOAT32, 4, xs, xf)
                                           : q8_tensor(QLITE_DTYPE_INT8, 4, xs, x, &px);
    const qlite_op_test_tensor bt =
        !c->bias ? absent()
        : hybrid ? qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){c->O}, bf)
                 : qt_const(QLITE_DTYPE_INT32, 1, (int64_t[]){c->O}, b);
    const qlite_op_test_tensor yt = hybrid ? qt(QLITE_DTYPE_FLOAT32, 4, ys, NULL)
                                           : q8_tensor(QLITE_DTYPE_INT8, 4, ys, NULL, &py);
    const size_t ybytes = P * O * (hybrid ? 4 : 1);
    for (size_t level = 0; level < 4; level++) {
        qlite_q8_set_feature_cap(caps[level]);
        const struct {
            int threads;
            uint32_t flags;
        } runs[] = {{1, 0}, {2, 0}, {1, QLITE_INTERP_REFERENCE_ONLY}};
        for (size_t i = 0; i < Q8_COUNT(runs); i++) {
            qlite_op_test_tensor op = yt, od = yt;
            assert_qlite_ok(cp_run(c, xt, QLITE_DTYPE_INT8, wp, o16i4_bytes(O, K),
                                   QLITE_LAYOUT_O16I4, &pw->q, bt, &op, runs[i].threads,
                                   runs[i].flags));
            assert_qlite_ok(cp_run(c, xt, QLITE_DTYPE_INT8, w, O * K, QLITE_LAYOUT_DEFAULT,
                                   &pw->q, bt, &od, runs[i].threads, runs[i].flags));
            char what[200];
            snprintf(what, sizeof what, "%s level %zu run %zu: N%lld %lldx%lldx%lld O%lld "
                     "k%lldx%lld s%d d%d p%d g%d", hybrid ? "hybrid" : "int8", level, i,
                     (long long)c->N, (long long)c->H, (long long)c->W, (long long)c->C,
                     (long long)c->O, (long long)c->KH, (long long)c->KW, c->s, c->d, c->pad,
                     c->groups);
            if (!hybrid) nnq_expect_codes(what, op.out, want, P * O, QLITE_DTYPE_INT8);
            if (memcmp(op.out, od.out, ybytes) != 0)
                fail_msg("%s: O16I4 and DEFAULT weights give different outputs", what);
            qlite_op_test_free(1, &op);
            qlite_op_test_free(1, &od);
        }
    }
    qlite_q8_set_feature_cap(~0u);
    free(x);
    free(w);
    free(wp);
    free(xf);
    free(bf);
    free(b);
    free(want);
    free(pw);
}

static void test_int8_o16i4(void **state) {
    (void)state;
    for (size_t i = 0; i < NCASES; i++) check_q8(&cases[i], false, 10 + i);
}

static void test_hybrid_o16i4(void **state) {
    (void)state;
    for (size_t i = 0; i < NCASES; i++) check_q8(&cases[i], true, 40 + i);
}

/* ---- (c) float32 / float16 weights in O16 ---- */

/* binary16 bits of m / 256 with |m| <= 1024 (exact, normal or zero). */
static uint16_t half_bits(float v) {
    if (v == 0.0f) return 0;
    int e;
    const double f = frexp(fabs((double)v), &e);
    const uint32_t mant = (uint32_t)ldexp(f, 11) & 0x3ffu;
    return (uint16_t)((v < 0 ? 0x8000u : 0u) | (uint32_t)(e - 1 + 15) << 10 | mant);
}

static void check_f(const cp_case *c, bool half, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t O = (size_t)c->O, K = (size_t)cp_K(c), P = cp_P(c), es = half ? 2 : 4;
    const size_t X = (size_t)(c->N * c->H * c->W * c->C), pe = o16_elems(O, K);
    float *x = kc_alloc(X), *w = kc_alloc(O * K), *b = kc_alloc(O);
    unsigned char *wd = calloc(O * K, es), *wp = calloc(pe, es);
    double *want = kc_alloc_d(P * O), *mag = kc_alloc_d(P * O);
    assert_true(wd && wp);
    kc_fill(&r, x, X, -1.0f, 1.0f);
    kc_fill(&r, b, O, -1.0f, 1.0f);
    for (size_t i = 0; i < O * K; i++) /* m / 256: exact in binary16 */
        w[i] = (float)((int32_t)(qlite_test_rng_u32(&r) % 2049) - 1024) / 256.0f;
    for (size_t o = 0; o < O; o++)
        for (size_t k = 0; k < K; k++) {
            const size_t d = o * K + k, p = o16_index(K, o, k);
            if (half) {
                const uint16_t h = half_bits(w[d]);
                memcpy(wd + d * 2, &h, 2);
                memcpy(wp + p * 2, &h, 2);
            } else {
                memcpy(wd + d * 4, &w[d], 4);
                memcpy(wp + p * 4, &w[d], 4);
            }
        }
    float lo, hi;
    kc_act_range(c->act, &lo, &hi);
    for (size_t p = 0; p < P; p++)
        for (size_t o = 0; o < O; o++) {
            double acc = c->bias ? b[o] : 0.0, a = fabs(acc);
            for (size_t k = 0; k < K; k++) {
                const int64_t at = cp_src(c, (int64_t)p, (int64_t)k, (int64_t)o);
                if (at < 0) continue;
                acc += (double)x[at] * w[o * K + k];
                a += fabs((double)x[at] * w[o * K + k]);
            }
            want[p * O + o] = acc < lo ? lo : acc > hi ? hi : acc;
            mag[p * O + o] = a;
        }
    const int64_t OH = cp_out(c, c->H, c->KH), OW = cp_out(c, c->W, c->KW);
    const qlite_op_test_tensor xt =
        qt(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){c->N, c->H, c->W, c->C}, x);
    const qlite_op_test_tensor bt =
        c->bias ? qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){c->O}, b) : absent();
    const qlite_op_test_tensor yt =
        qt(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){c->N, OH, OW, c->O}, NULL);
    const qlite_dtype wdt = half ? QLITE_DTYPE_FLOAT16 : QLITE_DTYPE_FLOAT32;
    for (size_t level = 0; level < 4; level++) {
        qlite_q8_set_feature_cap(caps[level]);
        char what[200];
        snprintf(what, sizeof what, "O16 %s level %zu: N%lld %lldx%lldx%lld O%lld k%lldx%lld s%d "
                 "d%d p%d g%d", half ? "f16" : "f32", level, (long long)c->N, (long long)c->H,
                 (long long)c->W, (long long)c->C, (long long)c->O, (long long)c->KH,
                 (long long)c->KW, c->s, c->d, c->pad, c->groups);
        qlite_op_test_tensor o1 = yt, o2 = yt, oref = yt, od = yt, odref = yt;
        assert_qlite_ok(cp_run(c, xt, wdt, wp, pe * es, QLITE_LAYOUT_O16, NULL, bt, &o1, 1, 0));
        assert_qlite_ok(cp_run(c, xt, wdt, wp, pe * es, QLITE_LAYOUT_O16, NULL, bt, &o2, 2, 0));
        assert_qlite_ok(cp_run(c, xt, wdt, wp, pe * es, QLITE_LAYOUT_O16, NULL, bt, &oref, 1,
                               QLITE_INTERP_REFERENCE_ONLY));
        assert_qlite_ok(
            cp_run(c, xt, wdt, wd, O * K * es, QLITE_LAYOUT_DEFAULT, NULL, bt, &od, 1, 0));
        assert_qlite_ok(cp_run(c, xt, wdt, wd, O * K * es, QLITE_LAYOUT_DEFAULT, NULL, bt, &odref,
                               1, QLITE_INTERP_REFERENCE_ONLY));
        kc_check_sum(what, o1.out, want, mag, P * O, (double)K);
        kc_check_sum(what, oref.out, want, mag, P * O, (double)K);
        kc_check_equal(what, o1.out, o2.out, P * O);     /* threads split whole tiles */
        kc_check_equal(what, o1.out, od.out, P * O);     /* DEFAULT packed at prepare */
        kc_check_equal(what, oref.out, odref.out, P * O);
        qlite_op_test_free(1, &o1);
        qlite_op_test_free(1, &o2);
        qlite_op_test_free(1, &oref);
        qlite_op_test_free(1, &od);
        qlite_op_test_free(1, &odref);
    }
    qlite_q8_set_feature_cap(~0u);
    free(x);
    free(w);
    free(b);
    free(wd);
    free(wp);
    free(want);
    free(mag);
}

static void test_f32_o16(void **state) {
    (void)state;
    for (size_t i = 0; i < NCASES; i++) check_f(&cases[i], false, 70 + i);
}

static void test_f16_o16(void **state) {
    (void)state;
    for (size_t i = 0; i < NCASES; i++) check_f(&cases[i], true, 100 + i);
}

/* ---- (d) refused ---- */

static void test_refused(void **state) {
    (void)state;
    static float x[1 * 4 * 4 * 4], wf[64 * 9 * 4];
    static int8_t xq[1 * 4 * 4 * 4], wq[64 * 9 * 4];
    /* 2 groups of 3 channels stored as one O16 matrix: not the groups' panels */
    const cp_case g3 = {1, 4, 4, 4, 6, 3, 3, 1, 1, 1, 2, false, QLITE_ACT_NONE};
    const qlite_op_test_tensor xt = qt(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){1, 4, 4, 4}, x);
    qlite_op_test_tensor y = qt(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){1, 4, 4, 6}, NULL);
    assert_int_equal(cp_run(&g3, xt, QLITE_DTYPE_FLOAT32, wf, o16_elems(6, 18) * 4,
                            QLITE_LAYOUT_O16, NULL, absent(), &y, 1, 0),
                     QLITE_ERR_UNSUPPORTED);
    assert_non_null(strstr(qlite_last_error(), "2 groups of 3 output channels"));
    q8_params px, py;
    q8_params_set(&px, 0.5f, 0);
    q8_params_set(&py, 4.0f, 0);
    nnq_wparams *pw = malloc(sizeof *pw);
    assert_non_null(pw);
    nnq_wparams_init(pw, 1, 0);
    pw->scale[0] = 0.01f;
    pw->zp[0] = 0;
    const qlite_op_test_tensor xq8 =
        q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 4, 4, 4}, xq, &px);
    qlite_op_test_tensor yq = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 4, 4, 6}, NULL, &py);
    assert_int_equal(cp_run(&g3, xq8, QLITE_DTYPE_INT8, wq, o16i4_bytes(6, 18),
                            QLITE_LAYOUT_O16I4, &pw->q, absent(), &yq, 1, 0),
                     QLITE_ERR_UNSUPPORTED);
    assert_non_null(strstr(qlite_last_error(), "2 groups of 3 output channels"));
    /* a layout the dtype does not use: float in O16I4, int8 in O16 */
    const cp_case one = {1, 4, 4, 4, 20, 3, 3, 1, 1, 1, 1, false, QLITE_ACT_NONE};
    y = qt(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){1, 4, 4, 20}, NULL);
    assert_int_not_equal(cp_run(&one, xt, QLITE_DTYPE_FLOAT32, wf, o16i4_bytes(20, 36) * 4,
                                QLITE_LAYOUT_O16I4, NULL, absent(), &y, 1, 0),
                         QLITE_OK);
    assert_non_null(strstr(qlite_last_error(), "which this kernel does not read"));
    yq = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 4, 4, 20}, NULL, &py);
    assert_int_not_equal(cp_run(&one, xq8, QLITE_DTYPE_INT8, wq, o16_elems(20, 36),
                                QLITE_LAYOUT_O16, &pw->q, absent(), &yq, 1, 0),
                         QLITE_OK);
    assert_non_null(strstr(qlite_last_error(), "which this kernel does not read"));
    /* O16 data one element short */
    assert_int_not_equal(cp_run(&one, xt, QLITE_DTYPE_FLOAT32, wf, o16_elems(20, 36) * 4 - 4,
                                QLITE_LAYOUT_O16, NULL, absent(), &y, 1, 0),
                         QLITE_OK);
    free(pw);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int8_o16i4), cmocka_unit_test(test_hybrid_o16i4),
        cmocka_unit_test(test_f32_o16),    cmocka_unit_test(test_f16_o16),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
