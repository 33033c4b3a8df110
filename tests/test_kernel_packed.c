/*
 * test_kernel_packed.c — FULLY_CONNECTED on weights stored in the packed
 * layouts of docs/format.md §6.2, handed to the kernel as stored (what the
 * interpreter does for a converted model):
 *
 * (a) int8 weights in O16I4: exact against the doc's formula written here
 *     in int64 (kernel_nn_q8_check.h's output stage), on every ISA level of
 *     this CPU, 1 and 2 threads and the reference path; equal to the same
 *     weights given DEFAULT (packed at prepare);
 * (b) float32 weights in O16: within the summation bound of a double
 *     reference (kernel_f32_check.h), and bit-equal to the same weights
 *     given DEFAULT (same micro-kernel);
 * (c) float16 weights in O16: values exact in binary16, encoded here; the
 *     same bound against the double reference on the widened values;
 * (d) a packed layout the kernel does not read for the dtype (float in
 *     O16I4, int8 in O16) and packed data too short are refused;
 * (e) TRANSPOSE_CONV_2D float32 weights [O, KH, KW, C/groups] in O16 (one
 *     matrix [O, KH*KW*C/groups]; groups of 16 channels): within the
 *     summation bound of a double scatter reference, bit-equal to the same
 *     weights DEFAULT on the optimized and reference paths, 1 = 2 threads;
 *     O16 with groups of a channel count not a multiple of 16 is refused.
 * The packed bytes are made here from the doc's index formula, not by qlite.
 * Sizes sweep the 16-column block and the 4-step group: below, at, above.
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

/* ---- (a) int8 in O16I4 ---- */

typedef struct pk_case {
    size_t M, K, N;
    bool per_channel, bias;
    qlite_activation act;
} pk_case;

static qlite_status run_q8(const pk_case *c, const void *x, const q8_params *px, const void *w,
                           size_t wbytes, qlite_layout layout, const nnq_wparams *pw,
                           const int32_t *b, const q8_params *py, int threads, uint32_t flags,
                           qlite_op_test_tensor *out) {
    qlite_op_test_tensor in[3];
    in[0] = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){(int64_t)c->M, (int64_t)c->K}, x, px);
    in[1] = qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){(int64_t)c->N, (int64_t)c->K}, w);
    in[1].quant = &pw->q;
    in[1].layout = layout;
    in[1].data_size = wbytes;
    if (c->bias) {
        in[2] = qt_const(QLITE_DTYPE_INT32, 1, (int64_t[]){(int64_t)c->N}, b);
    } else {
        memset(&in[2], 0, sizeof in[2]);
        in[2].absent = true;
    }
    *out = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){(int64_t)c->M, (int64_t)c->N}, NULL, py);
    qlite_op_options o = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.activation = c->act;
    o.u.fully_connected.keep_num_dims = true;
    return qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, out, threads, flags);
}

static void check_q8(const pk_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    int8_t *x = malloc(c->M * c->K + 1), *w = malloc(c->N * c->K + 1);
    int8_t *wp = calloc(o16i4_bytes(c->N, c->K), 1); /* padding zero */
    int32_t *b = malloc(c->N * sizeof(int32_t)), *want = malloc(c->M * c->N * sizeof(int32_t));
    nnq_wparams *pw = malloc(sizeof *pw);
    assert_true(x && w && wp && b && want && pw);
    nnq_fill_codes(&r, x, c->M * c->K, QLITE_DTYPE_INT8);
    nnq_fill_weights(&r, w, c->N * c->K);
    nnq_fill_bias(&r, b, c->N, 14);
    q8_params px, py;
    q8_params_set(&px, q8_rand_scale(&r, -8.0f, -2.0f), q8_rand_zp(&r, QLITE_DTYPE_INT8));
    nnq_wparams_random(&r, pw, c->per_channel ? (uint32_t)c->N : 1, 0, false);
    q8_params_set(&py, nnq_out_scale(&r, px.scale, pw->scale[0], c->K),
                  q8_rand_zp(&r, QLITE_DTYPE_INT8));
    for (size_t n = 0; n < c->N; n++)
        for (size_t k = 0; k < c->K; k++) wp[o16i4_index(c->K, n, k)] = w[n * c->K + k];
    for (size_t m = 0; m < c->M; m++)
        for (size_t n = 0; n < c->N; n++) {
            int64_t acc = c->bias ? b[n] : 0;
            for (size_t k = 0; k < c->K; k++)
                acc += (int64_t)(x[m * c->K + k] - px.zp) * (w[n * c->K + k] - nnq_wzp(pw, n));
            want[m * c->N + n] = nnq_out(acc, px.scale, pw, n, &py, QLITE_DTYPE_INT8, c->act);
        }
    const struct {
        int threads;
        uint32_t flags;
        qlite_layout layout;
        const char *name;
    } runs[] = {{1, 0, QLITE_LAYOUT_O16I4, "O16I4"},
                {2, 0, QLITE_LAYOUT_O16I4, "O16I4 2 threads"},
                {1, QLITE_INTERP_REFERENCE_ONLY, QLITE_LAYOUT_O16I4, "O16I4 reference"},
                {1, 0, QLITE_LAYOUT_DEFAULT, "DEFAULT"}};
    for (size_t i = 0; i < Q8_COUNT(runs); i++) {
        const bool packed = runs[i].layout == QLITE_LAYOUT_O16I4;
        qlite_op_test_tensor out;
        assert_qlite_ok(run_q8(c, x, &px, packed ? (const void *)wp : w,
                               packed ? o16i4_bytes(c->N, c->K) : c->N * c->K, runs[i].layout,
                               pw, b, &py, runs[i].threads, runs[i].flags, &out));
        char what[160];
        snprintf(what, sizeof what, "%s M=%zu K=%zu N=%zu pc=%d", runs[i].name, c->M, c->K, c->N,
                 c->per_channel);
        nnq_expect_codes(what, out.out, want, c->M * c->N, QLITE_DTYPE_INT8);
        qlite_op_test_free(1, &out);
    }
    free(x);
    free(w);
    free(wp);
    free(b);
    free(want);
    free(pw);
}

static const size_t Ms[] = {1, 2, 5, 13};
static const size_t Ks[] = {1, 3, 4, 5, 16, 63, 64, 65, 300};
static const size_t Ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 64, 100};

static void test_o16i4_exact(void **state) {
    (void)state;
#if defined(__aarch64__)
    const unsigned caps[4] = {~0u, QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD, QLITE_Q8_F_NEON, 0u};
#else
    const unsigned caps[4] = {~0u, QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI, QLITE_Q8_F_AVX2, 0u};
#endif
    uint64_t seed = 1;
    for (size_t level = 0; level < 4; level++) {
        qlite_q8_set_feature_cap(caps[level]);
        for (size_t i = 0; i < Q8_COUNT(Ms); i++)
            for (size_t j = 0; j < Q8_COUNT(Ns); j++) {
                pk_case c = {.M = Ms[i], .K = Ks[(i * 3 + j * 5 + level) % Q8_COUNT(Ks)],
                             .N = Ns[j], .per_channel = (i + j) % 2 == 0, .bias = j % 3 != 1,
                             .act = (qlite_activation)((i + 2 * j) % QLITE_ACT_COUNT)};
                check_q8(&c, seed++);
            }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* ---- (b), (c) float32 / float16 in O16 ---- */

/* binary16 bits of v, which must be exact in binary16 and normal or zero
 * (m / 256 with |m| < 2048 and m != 0 has that form: no rounding here). */
static uint16_t half_bits(float v) {
    if (v == 0.0f) return 0;
    int e;
    const double f = frexp(fabs((double)v), &e); /* |v| = f * 2^e, f in [0.5, 1) */
    const uint32_t mant = (uint32_t)ldexp(f, 11) & 0x3ffu;  /* 11 significant bits */
    const uint32_t exp = (uint32_t)(e - 1 + 15);
    return (uint16_t)((v < 0 ? 0x8000u : 0u) | exp << 10 | mant);
}

static qlite_status run_f(size_t M, size_t K, size_t N, const float *x, qlite_dtype wdt,
                          const void *w, size_t wbytes, qlite_layout layout, const float *b,
                          int threads, uint32_t flags, qlite_op_test_tensor *out) {
    qlite_op_test_tensor in[3];
    in[0] = qt(QLITE_DTYPE_FLOAT32, 2, (int64_t[]){(int64_t)M, (int64_t)K}, x);
    in[1] = qt_const(wdt, 2, (int64_t[]){(int64_t)N, (int64_t)K}, w);
    in[1].layout = layout;
    in[1].data_size = wbytes;
    in[2] = qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){(int64_t)N}, b);
    *out = qt(QLITE_DTYPE_FLOAT32, 2, (int64_t[]){(int64_t)M, (int64_t)N}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.keep_num_dims = true;
    return qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, out, threads, flags);
}

static void check_f(size_t M, size_t K, size_t N, bool half, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    float *x = kc_alloc(M * K + 1), *w = kc_alloc(N * K + 1), *b = kc_alloc(N);
    const size_t es = half ? 2 : 4, pe = o16_elems(N, K);
    unsigned char *wd = calloc(N * K + 1, es), *wp = calloc(pe + 1, es);
    double *want = kc_alloc_d(M * N), *mag = kc_alloc_d(M * N);
    assert_true(wd && wp);
    kc_fill(&r, x, M * K, -1.0f, 1.0f);
    kc_fill(&r, b, N, -1.0f, 1.0f);
    for (size_t i = 0; i < N * K; i++) /* m / 256, |m| <= 1024: exact in binary16 */
        w[i] = (float)((int32_t)(qlite_test_rng_u32(&r) % 2049) - 1024) / 256.0f;
    for (size_t n = 0; n < N; n++)
        for (size_t k = 0; k < K; k++) {
            const size_t d = n * K + k, p = o16_index(K, n, k);
            if (half) {
                const uint16_t h = half_bits(w[d]);
                memcpy(wd + d * 2, &h, 2);
                memcpy(wp + p * 2, &h, 2);
            } else {
                memcpy(wd + d * 4, &w[d], 4);
                memcpy(wp + p * 4, &w[d], 4);
            }
        }
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            double acc = b[n], a = fabs((double)b[n]);
            for (size_t k = 0; k < K; k++) {
                acc += (double)x[m * K + k] * w[n * K + k];
                a += fabs((double)x[m * K + k] * w[n * K + k]);
            }
            want[m * N + n] = acc;
            mag[m * N + n] = a;
        }
    const qlite_dtype wdt = half ? QLITE_DTYPE_FLOAT16 : QLITE_DTYPE_FLOAT32;
    char what[128];
    qlite_op_test_tensor o1, o2, oref, od;
    assert_qlite_ok(run_f(M, K, N, x, wdt, wp, pe * es, QLITE_LAYOUT_O16, b, 1, 0, &o1));
    assert_qlite_ok(run_f(M, K, N, x, wdt, wp, pe * es, QLITE_LAYOUT_O16, b, 2, 0, &o2));
    assert_qlite_ok(run_f(M, K, N, x, wdt, wp, pe * es, QLITE_LAYOUT_O16, b, 1,
                          QLITE_INTERP_REFERENCE_ONLY, &oref));
    assert_qlite_ok(run_f(M, K, N, x, wdt, wd, N * K * es, QLITE_LAYOUT_DEFAULT, b, 1, 0, &od));
    snprintf(what, sizeof what, "O16 %s M=%zu K=%zu N=%zu", half ? "f16" : "f32", M, K, N);
    kc_check_sum(what, o1.out, want, mag, M * N, (double)K);
    kc_check_sum(what, oref.out, want, mag, M * N, (double)K);
    kc_check_equal(what, o1.out, o2.out, M * N);  /* threads split whole blocks */
    kc_check_equal(what, o1.out, od.out, M * N);  /* DEFAULT packed at prepare: same bits */
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &oref);
    qlite_op_test_free(1, &od);
    free(x);
    free(w);
    free(b);
    free(wd);
    free(wp);
    free(want);
    free(mag);
}

static void test_o16_f32(void **state) {
    (void)state;
    uint64_t seed = 100;
    for (size_t i = 0; i < Q8_COUNT(Ms); i++)
        for (size_t j = 0; j < Q8_COUNT(Ns); j++)
            check_f(Ms[i] * (i == 3 ? 2 : 1), Ks[(i * 5 + j * 3) % Q8_COUNT(Ks)], Ns[j], false,
                    seed++);
}

static void test_o16_f16(void **state) {
    (void)state;
    uint64_t seed = 200;
    for (size_t i = 0; i < Q8_COUNT(Ms); i++)
        for (size_t j = 0; j < Q8_COUNT(Ns); j++)
            check_f(Ms[i], Ks[(i * 7 + j) % Q8_COUNT(Ks)], Ns[j], true, seed++);
}

/* ---- (d) refused ---- */

static void test_wrong_layout(void **state) {
    (void)state;
    static float x[8 * 4], wf[64 * 8], b[20];
    static int8_t wq[64 * 8];
    qlite_op_test_tensor out;
    /* float32 weights in the int8 layout */
    qlite_status st = run_f(2, 8, 20, x, QLITE_DTYPE_FLOAT32, wf, o16i4_bytes(20, 8) * 4,
                            QLITE_LAYOUT_O16I4, b, 1, 0, &out);
    assert_int_not_equal(st, QLITE_OK);
    assert_non_null(strstr(qlite_last_error(), "packed layout 1, which this kernel does not read"));
    /* O16 data one element short */
    st = run_f(2, 8, 20, x, QLITE_DTYPE_FLOAT32, wf, o16_elems(20, 8) * 4 - 4, QLITE_LAYOUT_O16,
               b, 1, 0, &out);
    assert_int_not_equal(st, QLITE_OK);
    /* int8 weights in the float layout */
    pk_case c = {.M = 2, .K = 8, .N = 20, .bias = false};
    q8_params px, py;
    q8_params_set(&px, 0.5f, 0);
    q8_params_set(&py, 4.0f, 0);
    nnq_wparams *pw = malloc(sizeof *pw);
    assert_non_null(pw);
    nnq_wparams_init(pw, 1, 0);
    pw->scale[0] = 0.01f;
    pw->zp[0] = 0;
    st = run_q8(&c, x, &px, wq, o16_elems(20, 8), QLITE_LAYOUT_O16, pw, NULL, &py, 1, 0, &out);
    assert_int_not_equal(st, QLITE_OK);
    assert_non_null(strstr(qlite_last_error(), "packed layout 2, which this kernel does not read"));
    free(pw);
}

/* ---- (e) TRANSPOSE_CONV_2D in O16 ---- */

typedef struct tc_case {
    int64_t H, W, C, O, K;
    int32_t stride, pad, groups;
} tc_case;

static qlite_status run_tc(const tc_case *c, const float *x, const float *w, size_t wbytes,
                           qlite_layout layout, const float *b, int threads, uint32_t flags,
                           qlite_op_test_tensor *out) {
    const int64_t OH = c->stride * (c->H - 1) + c->K - 2 * c->pad;
    const int64_t OW = c->stride * (c->W - 1) + c->K - 2 * c->pad;
    qlite_op_test_tensor in[3];
    in[0] = kc_tensor(4, (int64_t[]){1, c->H, c->W, c->C}, x, false);
    in[1] = kc_tensor(4, (int64_t[]){c->O, c->K, c->K, c->C / c->groups}, w, true);
    in[1].layout = layout;
    in[1].data_size = wbytes;
    in[2] = kc_tensor(1, &c->O, b, true);
    *out = kc_tensor(4, (int64_t[]){1, OH, OW, c->O}, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d = (qlite_conv2d_options){.stride_h = c->stride, .stride_w = c->stride,
                                        .dilation_h = 1, .dilation_w = 1, .pad_top = c->pad,
                                        .pad_left = c->pad, .pad_bottom = c->pad,
                                        .pad_right = c->pad, .groups = c->groups};
    return qlite_op_test_run(QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, in, 1, out, threads, flags);
}

static void check_tc(const tc_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const int64_t Cg = c->C / c->groups, Og = c->O / c->groups, Kg = c->K * c->K * Cg;
    const int64_t OH = c->stride * (c->H - 1) + c->K - 2 * c->pad;
    const int64_t OW = c->stride * (c->W - 1) + c->K - 2 * c->pad;
    const size_t nx = (size_t)(c->H * c->W * c->C), nw = (size_t)(c->O * Kg);
    const size_t ny = (size_t)(OH * OW * c->O), pe = o16_elems((size_t)c->O, (size_t)Kg);
    float *x = kc_alloc(nx), *w = kc_alloc(nw), *b = kc_alloc((size_t)c->O), *wp = kc_alloc(pe);
    kc_fill(&r, x, nx, -1.0f, 1.0f);
    kc_fill(&r, w, nw, -1.0f, 1.0f);
    kc_fill(&r, b, (size_t)c->O, -1.0f, 1.0f);
    memset(wp, 0, pe * sizeof(float));
    for (size_t o = 0; o < (size_t)c->O; o++)
        for (size_t k = 0; k < (size_t)Kg; k++) wp[o16_index((size_t)Kg, o, k)] = w[o * (size_t)Kg + k];
    double *want = kc_alloc_d(ny), *mag = kc_alloc_d(ny);
    for (size_t i = 0; i < ny; i++) want[i] = b[i % (size_t)c->O], mag[i] = fabs(want[i]);
    for (int64_t iy = 0; iy < c->H; iy++) /* scatter: input pixel, tap, channels */
        for (int64_t ix = 0; ix < c->W; ix++)
            for (int64_t ky = 0; ky < c->K; ky++)
                for (int64_t kx = 0; kx < c->K; kx++) {
                    const int64_t oy = iy * c->stride - c->pad + ky, ox = ix * c->stride - c->pad + kx;
                    if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                    for (int64_t o = 0; o < c->O; o++)
                        for (int64_t ci = 0; ci < Cg; ci++) {
                            const double v = (double)x[(iy * c->W + ix) * c->C + (o / Og) * Cg + ci] *
                                             w[o * Kg + (ky * c->K + kx) * Cg + ci];
                            want[(oy * OW + ox) * c->O + o] += v;
                            mag[(oy * OW + ox) * c->O + o] += fabs(v);
                        }
                }
    qlite_op_test_tensor p1, p2, pref, d1, dref;
    assert_qlite_ok(run_tc(c, x, wp, pe * 4, QLITE_LAYOUT_O16, b, 1, 0, &p1));
    assert_qlite_ok(run_tc(c, x, wp, pe * 4, QLITE_LAYOUT_O16, b, 2, 0, &p2));
    assert_qlite_ok(run_tc(c, x, wp, pe * 4, QLITE_LAYOUT_O16, b, 1, QLITE_INTERP_REFERENCE_ONLY,
                           &pref));
    assert_qlite_ok(run_tc(c, x, w, nw * 4, QLITE_LAYOUT_DEFAULT, b, 1, 0, &d1));
    assert_qlite_ok(run_tc(c, x, w, nw * 4, QLITE_LAYOUT_DEFAULT, b, 1,
                           QLITE_INTERP_REFERENCE_ONLY, &dref));
    char what[96];
    snprintf(what, sizeof what, "tconv O16 O=%lld C=%lld K=%lld g=%d", (long long)c->O,
             (long long)c->C, (long long)c->K, c->groups);
    kc_check_sum(what, p1.out, want, mag, ny, (double)Kg);
    kc_check_sum(what, pref.out, want, mag, ny, (double)Kg);
    kc_check_equal(what, p1.out, p2.out, ny);
    kc_check_equal(what, p1.out, d1.out, ny);
    kc_check_equal(what, pref.out, dref.out, ny);
    qlite_op_test_free(1, &p1);
    qlite_op_test_free(1, &p2);
    qlite_op_test_free(1, &pref);
    qlite_op_test_free(1, &d1);
    qlite_op_test_free(1, &dref);
    free(x), free(w), free(b), free(wp), free(want), free(mag);
}

static void test_tconv_o16(void **state) {
    (void)state;
    static const tc_case cases[] = {
        {3, 3, 4, 5, 3, 2, 1, 1},   {4, 3, 8, 16, 2, 2, 0, 1}, {3, 4, 3, 17, 3, 1, 1, 1},
        {2, 2, 6, 33, 4, 2, 1, 1},  {3, 3, 4, 32, 3, 2, 1, 2}, {2, 3, 6, 48, 2, 3, 0, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_tc(&cases[i], 400 + i);
    /* O16 over groups of 8 channels: the stored matrix is not the per-group ones */
    static float x[3 * 3 * 4], w[16 * 9 * 2], b[16];
    qlite_op_test_tensor out;
    const tc_case bad = {3, 3, 4, 16, 3, 2, 1, 2};
    assert_int_not_equal(run_tc(&bad, x, w, o16_elems(16, 18) * 4, QLITE_LAYOUT_O16, b, 1, 0,
                                &out),
                         QLITE_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_o16i4_exact),
        cmocka_unit_test(test_o16_f32),
        cmocka_unit_test(test_o16_f16),
        cmocka_unit_test(test_wrong_layout),
        cmocka_unit_test(test_tconv_o16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
