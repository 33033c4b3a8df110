/*
 * test_kernel_nn_hybrid.c — the dynamic-range (hybrid) forms of
 * FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV_2D,
 * BATCH_MATMUL, LSTM, GRU and GATHER (docs/quantization.md §5): float
 * activations, int8 weights symmetric per output channel, the input
 * quantized at run time per row (FC / matmul row, conv image, recurrent
 * step) to uint8 with its own parameters.
 *
 * (a) FC and BATCH_MATMUL equal the doc's formula written here (the row's
 *     range widened to 0, scale and zero point by §2.1, q = clamp(rint(x *
 *     (1 / s)) + zp), acc = sum (u - zu) w in int32, y = acc * (s * sw) + b)
 *     bit for bit;
 * (b) every op is within the error its quantization step allows of the
 *     float computation with the dequantized weights (sw * w): each input
 *     value is off by at most one step s of its row (half a step from
 *     rounding, up to one at the clamped ends of the range), so
 *       |y - y_float| <= s * sum_k |sw w| + 1e-5 (|y_float| + 1)
 *     per output; LSTM / GRU: that bound per step for the input and the
 *     state products, summed over the T steps (the weights keep the
 *     recurrence contracting);
 * (c) optimized (1 and 2 threads) equal to the reference path bit for bit
 *     (LSTM / GRU: the reference within 1e-5 relative — its gates use libm,
 *     the optimized path rnn_common.h's vectorized exp, and a float32
 *     weight's products are summed in another order);
 * (d) GATHER of an int8 table with per-row scales gives scale * (q - zp);
 * (e) errors: weights with zero points, uint8 weights.
 */
#include <float.h>

#include "kernel_nn_q8_check.h"
#include "kernels/gemm_q8.h"

#define H_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The float clamp of a fused activation (docs: RELU [0, inf), RELU6 [0, 6], ...). */
static void act_range(qlite_activation act, float *lo, float *hi) {
    *lo = -INFINITY, *hi = INFINITY;
    if (act == QLITE_ACT_RELU) *lo = 0.0f;
    if (act == QLITE_ACT_RELU6) *lo = 0.0f, *hi = 6.0f;
    if (act == QLITE_ACT_RELU_N1_TO_1) *lo = -1.0f, *hi = 1.0f;
}

/* ---- the doc's per-row quantization, written here ---- */

typedef struct hq_row {
    float s;
    int32_t zu;  /* uint8 zero point (int8 zero point + 128) */
} hq_row;

static hq_row hq_params(const float *x, size_t n) {
    float lo = 0.0f, hi = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    hq_row p = {1.0f, 128};
    const double s = ((double)hi - (double)lo) / 255.0;
    if (s >= (double)FLT_MIN) {
        p.s = (float)s;
        const double z = nearbyint((double)(float)(-128.0 - (double)lo / (double)p.s));
        p.zu = (int32_t)q8_clamp((int64_t)z, -128, 127) + 128;
    }
    return p;
}

static int32_t hq_code(float x, hq_row p) {
    const float v = x * (1.0f / p.s);
    const int64_t q = (int64_t)nearbyintf(fmaxf(fminf(v, 256.0f), -256.0f)) + (p.zu - 128);
    return (int32_t)q8_clamp(q, -128, 127) + 128;
}

/* (b)'s bound for one output. */
static void expect_within(const char *what, size_t i, double got, double want, double bound) {
    if (!(fabs(got - want) <= bound + 1e-5 * (fabs(want) + 1.0)))
        fail_msg("%s: output %zu is %.7g, the float computation %.7g (bound %.3g)", what, i, got,
                 want, bound);
}

/* Runs an op three ways (1 thread, 2 threads, reference) and checks they agree exactly
 * (the reference within 1e-5 relative when ref_tol: a float32 weight's products are then
 * summed in another order); returns the 1-thread output (caller frees). */
static float *run3_tol(qlite_op_code code, const qlite_op_options *o, uint32_t nin,
                       qlite_op_test_tensor *in, uint32_t nout, qlite_op_test_tensor *out,
                       size_t *count, bool ref_tol) {
    qlite_op_test_tensor r[3][3];
    const uint32_t flags[3] = {0, 0, QLITE_INTERP_REFERENCE_ONLY};
    const int threads[3] = {1, 2, 1};
    for (int k = 0; k < 3; k++) {
        memcpy(r[k], out, nout * sizeof *out);
        assert_qlite_ok(qlite_op_test_run(code, o, nin, in, nout, r[k], threads[k], flags[k]));
    }
    for (uint32_t q = 0; q < nout; q++) {
        if (out[q].absent || !r[0][q].out) continue;
        const size_t n = r[0][q].out_bytes / sizeof(float);
        const float *a = r[0][q].out;
        for (int k = 1; k < 3; k++) {
            const float *b = r[k][q].out;
            for (size_t i = 0; i < n; i++)
                if (k == 2 && ref_tol ? !(fabsf(a[i] - b[i]) <= 1e-5f * (fabsf(a[i]) + 1.0f))
                                      : a[i] != b[i])
                    fail_msg("%s output %u element %zu: %s gives %.9g, 1 thread %.9g",
                             qlite_op_name(code), q, i, k == 1 ? "2 threads" : "the reference",
                             (double)b[i], (double)a[i]);
        }
    }
    float *y = r[0][0].out;
    *count = r[0][0].out_bytes / sizeof(float);
    r[0][0].out = NULL;
    qlite_op_test_free(nout, r[0]);
    qlite_op_test_free(nout, r[1]);
    qlite_op_test_free(nout, r[2]);
    return y;
}

static float *run3(qlite_op_code code, const qlite_op_options *o, uint32_t nin,
                   qlite_op_test_tensor *in, uint32_t nout, qlite_op_test_tensor *out,
                   size_t *count) {
    return run3_tol(code, o, nin, in, nout, out, count, false);
}

static void fill_f(qlite_test_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = qlite_test_rng_float(r, lo, hi);
}

/* ---- FULLY_CONNECTED ---- */

static void check_fc(size_t M, size_t K, size_t N, bool per_channel, bool bias,
                     qlite_activation act, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    float *x = malloc(M * K * 4), *b = malloc(N * 4);
    int8_t *w = malloc(N * K);
    assert_true(x && b && w);
    fill_f(&r, x, M * K, -2.0f, 3.0f);
    if (seed % 3 == 0) fill_f(&r, x, M * K, 0.5f, 1.5f); /* a positive range: widened to 0 */
    fill_f(&r, b, N, -1.0f, 1.0f);
    nnq_fill_weights(&r, w, N * K);
    for (size_t i = 0; i < N * K; i++) w[i] = w[i] == -128 ? -127 : w[i]; /* symmetric */
    nnq_wparams pw;
    nnq_wparams_random(&r, &pw, per_channel ? (uint32_t)N : 1, 0, false);
    qlite_op_test_tensor in[3], out;
    in[0] = qt_f32(2, (int64_t[]){(int64_t)M, (int64_t)K}, x);
    in[1] = qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){(int64_t)N, (int64_t)K}, w);
    in[1].quant = &pw.q;
    in[2] = qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){(int64_t)N}, b);
    in[2].absent = !bias;
    out = qt_f32(2, (int64_t[]){(int64_t)M, (int64_t)N}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.activation = act;
    o.u.fully_connected.keep_num_dims = true;
    size_t n;
    float *y = run3(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, &n);
    assert_int_equal(n, M * N);
    float lo, hi;
    act_range(act, &lo, &hi);
    for (size_t m = 0; m < M; m++) {
        const hq_row p = hq_params(x + m * K, K);
        for (size_t c = 0; c < N; c++) {
            int32_t acc = 0;
            double real = bias ? b[c] : 0.0, wabs = 0.0;
            for (size_t k = 0; k < K; k++) {
                acc += (hq_code(x[m * K + k], p) - p.zu) * w[c * K + k];
                const double wd = (double)nnq_wscale(&pw, c) * w[c * K + k];
                real += (double)x[m * K + k] * wd;
                wabs += fabs(wd);
            }
            /* (a) the formula, bit for bit */
            float v = (float)acc * (p.s * nnq_wscale(&pw, c));
            if (bias) v += b[c];
            v = v < lo ? lo : (v > hi ? hi : v);
            if (y[m * N + c] != v)
                fail_msg("FC M=%zu K=%zu N=%zu: output (%zu, %zu) is %.9g, the formula %.9g", M, K,
                         N, m, c, (double)y[m * N + c], (double)v);
            /* (b) accuracy */
            const double rc = real < lo ? lo : (real > hi ? hi : real);
            expect_within("FC", m * N + c, y[m * N + c], rc, (double)p.s * wabs);
        }
    }
    free(y);
    free(x);
    free(b);
    free(w);
}

static void test_fc_hybrid(void **state) {
    (void)state;
    const size_t shapes[][3] = {{1, 784, 256}, {1, 5, 3}, {2, 33, 17}, {3, 64, 40},
                                {4, 100, 70}, {9, 31, 130}, {37, 128, 10}};
    for (size_t i = 0; i < H_COUNT(shapes); i++)
        check_fc(shapes[i][0], shapes[i][1], shapes[i][2], i % 3 != 2, i % 4 != 1,
                 (qlite_activation)(i % QLITE_ACT_COUNT), 10 + i);
}

/* ---- convolutions: accuracy against a float reference written here ---- */

typedef struct hconv_case {
    qlite_op_code code;
    int64_t N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g;
} hconv_case;

static void check_conv(const hconv_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const bool dw = c->code == QLITE_OP_DEPTHWISE_CONV_2D,
               tc = c->code == QLITE_OP_TRANSPOSE_CONV_2D;
    const int64_t Cg = dw ? 1 : c->C / c->g, Og = dw ? 1 : c->O / c->g;
    int64_t OH, OW;
    if (tc) {
        OH = c->sh * (c->H - 1) + (c->KH - 1) * c->dh + 1 - c->pt - c->pb;
        OW = c->sw * (c->W - 1) + (c->KW - 1) * c->dw + 1 - c->pl - c->pr;
    } else {
        OH = (c->H + c->pt + c->pb - ((c->KH - 1) * c->dh + 1)) / c->sh + 1;
        OW = (c->W + c->pl + c->pr - ((c->KW - 1) * c->dw + 1)) / c->sw + 1;
    }
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C), nw = (size_t)(c->O * c->KH * c->KW * Cg);
    float *x = malloc(nx * 4), *b = malloc((size_t)c->O * 4);
    int8_t *w = malloc(nw);
    assert_true(x && b && w);
    fill_f(&r, x, nx, -1.0f, 2.0f);
    /* each image's minimum at its end, maximum in its first third: a range search split
     * between threads that skipped a slice would change the image's scale */
    for (int64_t im = 0; im < c->N; im++) {
        const size_t hwc = (size_t)(c->H * c->W * c->C);
        x[(size_t)(im + 1) * hwc - 1] = -3.5f;
        x[(size_t)im * hwc + hwc / 3] = 4.25f;
    }
    fill_f(&r, b, (size_t)c->O, -1.0f, 1.0f);
    nnq_fill_weights(&r, w, nw);
    for (size_t i = 0; i < nw; i++) w[i] = w[i] == -128 ? -127 : w[i];
    nnq_wparams pw;
    nnq_wparams_random(&r, &pw, (uint32_t)c->O, dw ? 3 : 0, false);
    qlite_op_test_tensor in[3], out;
    in[0] = qt_f32(4, (int64_t[]){c->N, c->H, c->W, c->C}, x);
    in[1] = dw ? qt_const(QLITE_DTYPE_INT8, 4, (int64_t[]){1, c->KH, c->KW, c->O}, w)
               : qt_const(QLITE_DTYPE_INT8, 4, (int64_t[]){c->O, c->KH, c->KW, Cg}, w);
    in[1].quant = &pw.q;
    in[2] = qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){c->O}, b);
    out = qt_f32(4, (int64_t[]){c->N, OH, OW, c->O}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_CONV_2D);
    qlite_conv2d_options *co = &o.u.conv2d;
    co->stride_h = (int32_t)c->sh, co->stride_w = (int32_t)c->sw;
    co->dilation_h = (int32_t)c->dh, co->dilation_w = (int32_t)c->dw;
    co->pad_top = (int32_t)c->pt, co->pad_left = (int32_t)c->pl;
    co->pad_bottom = (int32_t)c->pb, co->pad_right = (int32_t)c->pr;
    co->groups = (int32_t)(dw ? c->O / c->C : c->g);
    size_t n;
    float *y = run3(c->code, &o, 3, in, 1, &out, &n);
    assert_int_equal(n, (size_t)(c->N * OH * OW * c->O));
    const size_t hwc = (size_t)(c->H * c->W * c->C);
    for (int64_t im = 0; im < c->N; im++) {
        const hq_row p = hq_params(x + (size_t)im * hwc, hwc);
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t o2 = 0; o2 < c->O; o2++) {
                    double real = b[o2], wabs = 0.0;
                    for (int64_t ky = 0; ky < c->KH; ky++)
                        for (int64_t kx = 0; kx < c->KW; kx++) {
                            int64_t iy, ix;
                            if (tc) { /* the input pixel this tap of the output comes from */
                                const int64_t vy = oy + c->pt - ky * c->dh,
                                              vx = ox + c->pl - kx * c->dw;
                                if (vy < 0 || vx < 0 || vy % c->sh || vx % c->sw) continue;
                                iy = vy / c->sh, ix = vx / c->sw;
                            } else {
                                iy = oy * c->sh - c->pt + ky * c->dh;
                                ix = ox * c->sw - c->pl + kx * c->dw;
                            }
                            if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                            for (int64_t ch = 0; ch < Cg; ch++) {
                                const int64_t xc = dw ? o2 / (c->O / c->C) : (o2 / Og) * Cg + ch;
                                const size_t wi =
                                    dw ? (size_t)((ky * c->KW + kx) * c->O + o2)
                                       : (size_t)(((o2 * c->KH + ky) * c->KW + kx) * Cg + ch);
                                const double wd = (double)pw.scale[o2] * w[wi];
                                real += (double)x[(size_t)im * hwc +
                                                  (size_t)((iy * c->W + ix) * c->C + xc)] *
                                        wd;
                                wabs += fabs(wd);
                            }
                        }
                    const size_t e = (size_t)(((im * OH + oy) * OW + ox) * c->O + o2);
                    expect_within(qlite_op_name(c->code), e, y[e], real, (double)p.s * wabs);
                }
    }
    free(y);
    free(x);
    free(b);
    free(w);
}

static void test_conv_hybrid(void **state) {
    (void)state;
    const qlite_op_code CV = QLITE_OP_CONV_2D, DW = QLITE_OP_DEPTHWISE_CONV_2D,
                        TC = QLITE_OP_TRANSPOSE_CONV_2D;
    const hconv_case cases[] = {
        {CV, 1, 28, 28, 1, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},
        {CV, 2, 9, 7, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {CV, 1, 7, 7, 32, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        {CV, 1, 6, 5, 12, 18, 3, 2, 1, 2, 2, 1, 2, 0, 1, 3, 3},
        {CV, 1, 1, 1, 20, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        /* images of >= 2 x 16384 floats: the range search and the padded rows split
         * between threads (3x3 padded; 1x1 unpadded) */
        {CV, 2, 40, 40, 24, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {CV, 1, 48, 48, 16, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        {DW, 1, 14, 14, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {DW, 2, 6, 5, 19, 19, 3, 2, 1, 2, 2, 1, 2, 0, 1, 1, 1},
        {DW, 1, 5, 5, 3, 6, 3, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1},
        {DW, 2, 40, 40, 24, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* quantized by 2 threads */
        /* 3x3 at stride 1 / 2 around the AVX-512 column tables' blocks: 64 channels,
         * 17..32 as pixel pairs (32: one load per row at stride 1), tails of 9..16 (pairs
         * at stride 1) and <= 8; odd row counts, rows wider than a table chunk (64 / 32
         * outputs), padding on any side */
        {DW, 1, 1, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 5, 7, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 5, 7, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 9, 6, 16, 16, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1},
        {DW, 1, 20, 3, 17, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 3, 20, 17, 17, 3, 3, 2, 2, 1, 1, 1, 0, 1, 2, 1},
        {DW, 1, 7, 20, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 4, 70, 32, 32, 3, 3, 1, 1, 1, 1, 0, 1, 2, 1, 1},
        {DW, 1, 9, 9, 32, 32, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1},
        {DW, 1, 3, 67, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 2, 13, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 12, 12, 64, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 11, 4, 65, 65, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 11, 4, 65, 65, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 3, 17, 96, 96, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        {DW, 2, 20, 20, 96, 96, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {DW, 2, 6, 6, 144, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 1, 20, 144, 144, 3, 3, 2, 2, 1, 1, 1, 0, 1, 1, 1},
        {DW, 1, 8, 8, 72, 72, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {DW, 1, 13, 5, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {TC, 1, 4, 4, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {TC, 2, 3, 5, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 2},
        {TC, 1, 40, 40, 24, 8, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1}, /* quantized by 2 threads */
    };
    /* on every ISA level up to this CPU's (the depthwise blocks differ by ISA) */
#if defined(__aarch64__)
    const unsigned caps[3] = {~0u, QLITE_Q8_F_NEON, 0u}; /* best (dot product), NEON, portable */
#else
    const unsigned caps[3] = {~0u, QLITE_Q8_F_AVX2, 0u};
#endif
    for (size_t level = 0; level < 3; level++) {
        qlite_q8_set_feature_cap(caps[level]);
        for (size_t i = 0; i < H_COUNT(cases); i++) check_conv(&cases[i], 30 + i);
    }
    qlite_q8_set_feature_cap(~0u);
}

/* ---- BATCH_MATMUL with a constant int8 B ---- */

static void test_bmm_hybrid(void **state) {
    (void)state;
    /* b3: B holds one matrix per batch ([bt, K, N]), so the batches do not fold into
     * one GEMM; with M >= 33 and fewer than 4 batches a thread, 2 threads claim them in
     * row chunks (batch_matmul_q8.c): the last two cases (run3 checks 2 threads against
     * 1 bit for bit, and both against the formula) */
    const struct {
        int64_t bt, M, K, N;
        bool tb, per_col, b3;
    } cases[] = {{2, 7, 16, 9, false, true, false},   {1, 3, 64, 70, true, true, false},
                 {3, 5, 33, 8, false, false, false},  {1, 28, 64, 192, false, true, false},
                 {2, 70, 40, 24, false, true, true},  {3, 45, 64, 17, true, false, true}};
    for (size_t i = 0; i < H_COUNT(cases); i++) {
        qlite_test_rng r;
        qlite_test_rng_seed(&r, 50 + i);
        const int64_t bt = cases[i].bt, M = cases[i].M, K = cases[i].K, N = cases[i].N;
        const bool tb = cases[i].tb, b3 = cases[i].b3;
        const int64_t nbm = b3 ? bt : 1; /* B matrices */
        float *a = malloc((size_t)(bt * M * K) * 4);
        int8_t *b = malloc((size_t)(nbm * K * N));
        assert_true(a && b);
        fill_f(&r, a, (size_t)(bt * M * K), -3.0f, 1.0f);
        nnq_fill_weights(&r, b, (size_t)(nbm * K * N));
        nnq_wparams pw;
        nnq_wparams_random(&r, &pw, cases[i].per_col ? (uint32_t)N : 1,
                           (tb ? 0 : 1) + (b3 ? 1 : 0), false);
        qlite_op_test_tensor in[2], out;
        in[0] = qt_f32(3, (int64_t[]){bt, M, K}, a);
        if (b3)
            in[1] = tb ? qt_const(QLITE_DTYPE_INT8, 3, (int64_t[]){bt, N, K}, b)
                       : qt_const(QLITE_DTYPE_INT8, 3, (int64_t[]){bt, K, N}, b);
        else
            in[1] = tb ? qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){N, K}, b)
                       : qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){K, N}, b);
        in[1].quant = &pw.q;
        out = qt_f32(3, (int64_t[]){bt, M, N}, NULL);
        qlite_op_options o = qopts(QLITE_OPTIONS_BATCH_MATMUL);
        o.u.batch_matmul.transpose_b = tb;
        size_t n;
        float *y = run3(QLITE_OP_BATCH_MATMUL, &o, 2, in, 1, &out, &n);
        for (int64_t m = 0; m < bt * M; m++) {
            const hq_row p = hq_params(a + m * K, (size_t)K);
            const int8_t *bm = b + (b3 ? m / M * K * N : 0); /* this row's batch's B */
            for (int64_t c = 0; c < N; c++) {
                int32_t acc = 0;
                double real = 0.0, wabs = 0.0;
                for (int64_t k = 0; k < K; k++) {
                    const int8_t wv = bm[tb ? c * K + k : k * N + c];
                    acc += (hq_code(a[m * K + k], p) - p.zu) * wv;
                    const double wd = (double)nnq_wscale(&pw, (size_t)c) * wv;
                    real += (double)a[m * K + k] * wd;
                    wabs += fabs(wd);
                }
                const float v = (float)acc * (p.s * nnq_wscale(&pw, (size_t)c));
                if (y[m * N + c] != v)
                    fail_msg("BATCH_MATMUL case %zu: (%lld, %lld) is %.9g, the formula %.9g", i,
                             (long long)m, (long long)c, (double)y[m * N + c], (double)v);
                expect_within("BATCH_MATMUL", (size_t)(m * N + c), y[m * N + c], real,
                              (double)p.s * wabs);
            }
        }
        free(y);
        free(a);
        free(b);
    }
}

/* ---- LSTM / GRU: int8 W and R (or one of them) against float with dequantized weights ---- */

static void check_rnn(qlite_op_code code, int64_t T, int64_t B, int64_t I, int64_t H,
                      qlite_rnn_direction dir, bool lbr, int int8s, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const int64_t G = code == QLITE_OP_LSTM ? 4 : 3, D = dir == QLITE_RNN_BIDIRECTIONAL ? 2 : 1;
    const size_t nx = (size_t)(T * B * I), nw = (size_t)(D * G * H * I),
                 nr = (size_t)(D * G * H * H);
    const size_t nb = (size_t)(D * 2 * G * H);
    float *x = malloc(nx * 4), *wf = malloc(nw * 4), *rf = malloc(nr * 4), *bias = malloc(nb * 4);
    int8_t *w8 = malloc(nw), *r8 = malloc(nr);
    assert_true(x && wf && rf && bias && w8 && r8);
    fill_f(&r, x, nx, -1.0f, 1.0f);
    fill_f(&r, bias, nb, -0.3f, 0.3f);
    nnq_fill_weights(&r, w8, nw);
    nnq_fill_weights(&r, r8, nr);
    /* per gate row scales (axis 1), small enough that the recurrence contracts */
    nnq_wparams pw, pr;
    nnq_wparams_init(&pw, (uint32_t)(G * H), 1);
    nnq_wparams_init(&pr, (uint32_t)(G * H), 1);
    for (int64_t i = 0; i < G * H; i++) {
        pw.scale[i] = 0.6f / (127.0f * sqrtf((float)I)) * qlite_test_rng_float(&r, 0.5f, 1.0f);
        pr.scale[i] = 0.6f / (127.0f * sqrtf((float)H)) * qlite_test_rng_float(&r, 0.5f, 1.0f);
        pw.zp[i] = pr.zp[i] = 0;
    }
    for (size_t i = 0; i < nw; i++) wf[i] = pw.scale[(i / (size_t)I) % (size_t)(G * H)] * w8[i];
    for (size_t i = 0; i < nr; i++) rf[i] = pr.scale[(i / (size_t)H) % (size_t)(G * H)] * r8[i];
    qlite_op_test_tensor in[4], out[2], fin[4], fout[2];
    in[0] = qt_f32(3, (int64_t[]){T, B, I}, x);
    in[1] = int8s & 1 ? qt_const(QLITE_DTYPE_INT8, 3, (int64_t[]){D, G * H, I}, w8)
                      : qt_const(QLITE_DTYPE_FLOAT32, 3, (int64_t[]){D, G * H, I}, wf);
    in[1].quant = int8s & 1 ? &pw.q : NULL;
    in[2] = int8s & 2 ? qt_const(QLITE_DTYPE_INT8, 3, (int64_t[]){D, G * H, H}, r8)
                      : qt_const(QLITE_DTYPE_FLOAT32, 3, (int64_t[]){D, G * H, H}, rf);
    in[2].quant = int8s & 2 ? &pr.q : NULL;
    in[3] = qt_const(QLITE_DTYPE_FLOAT32, 2, (int64_t[]){D, 2 * G * H}, bias);
    out[0] = qt_f32(4, (int64_t[]){T, D, B, H}, NULL);
    out[1] = qt_f32(3, (int64_t[]){D, B, H}, NULL);
    memcpy(fin, in, sizeof fin);
    fin[1] = qt_const(QLITE_DTYPE_FLOAT32, 3, (int64_t[]){D, G * H, I}, wf);
    fin[2] = qt_const(QLITE_DTYPE_FLOAT32, 3, (int64_t[]){D, G * H, H}, rf);
    memcpy(fout, out, sizeof fout);
    qlite_op_options o = qopts(QLITE_OPTIONS_RNN);
    o.u.rnn.hidden_size = (int32_t)H;
    o.u.rnn.direction = dir;
    o.u.rnn.linear_before_reset = lbr;
    size_t n;
    float *y = run3_tol(code, &o, 4, in, 2, out, &n, true);
    assert_qlite_ok(qlite_op_test_run(code, &o, 4, fin, 2, fout, 1, QLITE_INTERP_REFERENCE_ONLY));
    /* per step: input rows quantized with s <= range(x) / 255, the state with s <= 2 / 255
     * (|h| <= 1); the product errors bounded by s * max row sum |w| */
    double wmax = 0.0, rmax = 0.0, xr = 0.0;
    for (int64_t row = 0; row < D * G * H; row++) {
        double sw = 0.0, sr = 0.0;
        for (int64_t k = 0; k < I; k++) sw += fabs(wf[row * I + k]);
        for (int64_t k = 0; k < H; k++) sr += fabs(rf[row * H + k]);
        wmax = sw > wmax ? sw : wmax;
        rmax = sr > rmax ? sr : rmax;
    }
    for (size_t i = 0; i < nx; i++) xr = fabs(x[i]) > xr ? fabs(x[i]) : xr;
    const double step = ((int8s & 1) ? 2.0 * xr / 255.0 * wmax : 0.0) +
                        ((int8s & 2) ? 2.0 / 255.0 * rmax : 0.0);
    const double bound = (double)T * step;
    const float *yf = fout[0].out;
    for (size_t i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s int8s=%d", qlite_op_name(code), int8s);
        expect_within(what, i, y[i], yf[i], bound);
    }
    free(y);
    qlite_op_test_free(2, fout);
    free(x);
    free(wf);
    free(rf);
    free(bias);
    free(w8);
    free(r8);
}

static void test_rnn_hybrid(void **state) {
    (void)state;
    check_rnn(QLITE_OP_LSTM, 28, 1, 28, 32, QLITE_RNN_FORWARD, false, 3, 60);
    check_rnn(QLITE_OP_LSTM, 5, 5, 9, 16, QLITE_RNN_BIDIRECTIONAL, false, 3, 61);
    check_rnn(QLITE_OP_LSTM, 4, 2, 7, 8, QLITE_RNN_REVERSE, false, 1, 62); /* W only */
    check_rnn(QLITE_OP_GRU, 28, 1, 28, 32, QLITE_RNN_FORWARD, true, 3, 63);
    check_rnn(QLITE_OP_GRU, 5, 4, 9, 16, QLITE_RNN_BIDIRECTIONAL, false, 3, 64);
    check_rnn(QLITE_OP_GRU, 4, 3, 5, 8, QLITE_RNN_FORWARD, false, 2, 65); /* R only */
}

/* ---- GATHER: int8 table -> float rows ---- */

static void test_gather_dequant(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 80);
    for (int per_row = 0; per_row < 2; per_row++)
        for (int u8 = 0; u8 < 2; u8++) {
            const qlite_dtype dt = u8 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
            uint8_t table[20 * 7];
            nnq_fill_codes(&r, table, sizeof table, dt);
            nnq_wparams pw;
            nnq_wparams_init(&pw, per_row ? 20 : 1, 0);
            for (uint32_t i = 0; i < pw.q.count; i++) {
                pw.scale[i] = q8_rand_scale(&r, -8.0f, 0.0f);
                pw.zp[i] = q8_rand_zp(&r, dt);
            }
            const int32_t idx[5] = {3, -1, 0, 19, 3};
            qlite_op_test_tensor in[2], out;
            in[0] = qt_const(dt, 2, (int64_t[]){20, 7}, table);
            in[0].quant = &pw.q;
            in[1] = qt(QLITE_DTYPE_INT32, 1, (int64_t[]){5}, idx);
            out = qt_f32(2, (int64_t[]){5, 7}, NULL);
            qlite_op_options o = qopts(QLITE_OPTIONS_GATHER);
            o.u.gather.axis = 0;
            assert_qlite_ok(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0));
            const float *y = out.out;
            for (int j = 0; j < 5; j++) {
                const int row = idx[j] < 0 ? idx[j] + 20 : idx[j];
                const int c = per_row ? row : 0;
                for (int k = 0; k < 7; k++) {
                    const float want =
                        pw.scale[c] * (float)(q8_get(table, (size_t)(row * 7 + k), dt) - pw.zp[c]);
                    assert_true(y[j * 7 + k] == want);
                }
            }
            qlite_op_test_free(1, &out);
        }
    /* quantized along the non-gathered axis: refused with its reason */
    uint8_t table[6] = {0};
    nnq_wparams pw;
    nnq_wparams_init(&pw, 3, 1);
    for (int i = 0; i < 3; i++) pw.scale[i] = 0.5f, pw.zp[i] = 0;
    const int32_t idx[1] = {0};
    qlite_op_test_tensor in[2], out;
    in[0] = qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){2, 3}, table);
    in[0].quant = &pw.q;
    in[1] = qt(QLITE_DTYPE_INT32, 1, (int64_t[]){1}, idx);
    out = qt_f32(2, (int64_t[]){1, 3}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_GATHER);
    assert_int_equal(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "axis 1"));
}

/* ---- errors ---- */

static void test_hybrid_errors(void **state) {
    (void)state;
    float x[8] = {0};
    int8_t w[16] = {0};
    nnq_wparams pw;
    nnq_wparams_init(&pw, 2, 0);
    pw.scale[0] = pw.scale[1] = 0.1f;
    pw.zp[0] = 0, pw.zp[1] = 3; /* a zero point: not a dynamic-range weight */
    qlite_op_test_tensor in[3], out;
    in[0] = qt_f32(2, (int64_t[]){1, 8}, x);
    in[1] = qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){2, 8}, w);
    in[1].quant = &pw.q;
    memset(&in[2], 0, sizeof in[2]);
    in[2].absent = true;
    out = qt_f32(2, (int64_t[]){1, 2}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.keep_num_dims = true;
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "zero point"));
    pw.zp[1] = 0;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0));
    qlite_op_test_free(1, &out);
    /* float32 input with uint8 weights: no kernel, both dtypes named */
    in[1].dtype = QLITE_DTYPE_UINT8;
    assert_int_equal(qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "float32 input"));
    assert_non_null(strstr(qlite_last_error(), "uint8 weights"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_hybrid),      cmocka_unit_test(test_conv_hybrid),
        cmocka_unit_test(test_bmm_hybrid),     cmocka_unit_test(test_rnn_hybrid),
        cmocka_unit_test(test_gather_dequant), cmocka_unit_test(test_hybrid_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
