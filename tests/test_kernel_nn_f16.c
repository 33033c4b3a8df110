/*
 * test_kernel_nn_f16.c — the float16-weight forms of FULLY_CONNECTED,
 * CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV_2D, BATCH_MATMUL, LSTM and GRU
 * (docs/quantization.md §7: halves read in place, widened as loaded).
 *
 * (a) Every op against the float32 kernel run on the widened weights (the
 *     same math): |y16 - y32| <= 1e-5 * (sum |x w| + |b|) per output (the
 *     two may add in different orders), optimized with 1 and 2 threads and
 *     the reference path; FULLY_CONNECTED and CONV_2D optimized bit for bit
 *     where the fast half GEMM exists (it adds as the float32 one does);
 * (b) every ISA variant of the row kernels (gemm_f16.h) against the
 *     portable one: conversion bit-exact, dot / axpy within the same bound;
 *     a variant for an ISA this CPU lacks is skipped;
 * (d) qlite_gemm_f16_o16_serial (O16 halves widened once per block, then
 *     the float tiles; the fast half GEMM where it exists) against
 *     qlite_gemm_f32_o16_serial with half = true (widened in every tile),
 *     or on the widened floats where the fast GEMM exists (the float32
 *     fast GEMM): bit-identical, over M, K, N around the tile (MR), the
 *     panel (16) and the K pass (QLITE_GEMM_F16_O16_KC), bias or not, a
 *     clamp or not;
 * (e) the fast GEMM on float16 O16 weights (qlite_gemm_f16_o16_fast and
 *     its runs form, AVX-512): bit for bit the chain the header states
 *     (fmaf from the bias in k order, then the clamp; computed here with
 *     the C library's fmaf on the widened halves) and the float32 fast
 *     GEMM on the widened weights, over M around its 6- and 10-row tiles,
 *     its 48-row widening threshold and 240-row block, N around 16 / 32 /
 *     64, K around 192 and its 1152-step block, weights past its prefetch
 *     size; runs of an implicit im2col (many
 *     short runs per block, runs longer than a block, zero runs) equal the
 *     matrix form on the gathered rows; 1 and 2 threads identical.
 *     Skipped where the CPU has no such GEMM;
 * (f) (a) and (d) again with the CPU features capped at AVX2 (no fast
 *     GEMMs: the paths of CPUs without AVX-512), where the fast GEMM exists;
 * (c) through the interpreter: a float16 FC weight stays float16 and inside
 *     the mapped model (no float32 copy in the prepared memory), and so
 *     does a sparse float16 weight (read in place by the sparse kernels of
 *     issue #5, kernels/nn_sparse.h).
 */
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kernels/gemm_f16.h"
#include "kernels/gemm_q8.h" /* qlite_q8_set_feature_cap */
#include "qlite_writer.h"
#include "threadpool.h"
#include "support.h"
#include "support/op_check.h"

#define N_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ASAN 1
#endif
#endif
#ifdef HEAP_ASAN /* the ASan runtime's (sanitizer/allocator_interface.h, not always installed) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

static float frand(qlite_test_rng *r) { return qlite_test_rng_float(r, -1.0f, 1.0f); }

/* Random halves and their widened floats. */
static void half_weights(qlite_test_rng *r, uint16_t *h, float *f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h[i] = qlite_fp32_to_fp16(frand(r));
        f[i] = qlite_fp16_to_fp32(h[i]);
    }
}

/* |a - b| <= tol_rel * scale[i] + 1e-6 for every element. */
static void expect_close(const char *what, const float *a, const float *b, const float *scale,
                         size_t n, double tol_rel) {
    for (size_t i = 0; i < n; i++) {
        const double tol = tol_rel * (double)scale[i] + 1e-6;
        if (!(fabs((double)a[i] - (double)b[i]) <= tol))
            fail_msg("%s: element %zu is %.9g, the float32 kernel gives %.9g (tolerance %g)", what,
                     i, (double)a[i], (double)b[i], tol);
    }
}

/* Runs op twice (float16 weights at input wi, then the widened float32 copy) and compares. */
typedef struct f16_run {
    qlite_op_code code;
    qlite_op_options opts;
    uint32_t nin, nout;
    qlite_op_test_tensor in[8], out[3];
    uint32_t wi[2];      /* weight inputs (up to 2: W and R) */
    uint32_t nw;
    const float *w32[2]; /* the widened copies */
    const float *mag;    /* per output 0 element: sum |x w| + |b| (or NULL: see below) */
    float mag_const;     /* > 0: a bound of sum |x w| + |b| for every element (|x|, |w|, |b|
                            <= 1: the number of terms + 1); 0: |y32| + 1 (recurrent cells) */
    bool exact;          /* optimized runs bit-identical to the float32 kernel's */
} f16_run;

static void run_and_compare(f16_run *r, const char *what) {
    qlite_op_test_tensor in32[8], out32[3];
    memcpy(in32, r->in, sizeof in32);
    for (uint32_t k = 0; k < r->nw; k++) {
        in32[r->wi[k]].dtype = QLITE_DTYPE_FLOAT32;
        in32[r->wi[k]].data = r->w32[k];
    }
    memcpy(out32, r->out, sizeof out32);
    assert_qlite_ok(qlite_op_test_run(r->code, &r->opts, r->nin, in32, r->nout, out32, 1, 0));
    const struct {
        int threads;
        uint32_t flags;
        const char *name;
    } runs[] = {{1, 0, "optimized"}, {2, 0, "2 threads"},
                {1, QLITE_INTERP_REFERENCE_ONLY, "reference"}};
    for (size_t i = 0; i < N_COUNT(runs); i++) {
        qlite_op_test_tensor out16[3];
        memcpy(out16, r->out, sizeof out16);
        assert_qlite_ok(qlite_op_test_run(r->code, &r->opts, r->nin, r->in, r->nout, out16,
                                          runs[i].threads, runs[i].flags));
        char label[160];
        for (uint32_t o = 0; o < r->nout; o++) {
            if (r->out[o].absent || !out16[o].out) continue;
            assert_int_equal(out16[o].out_bytes, out32[o].out_bytes);
            const size_t n = out32[o].out_bytes / sizeof(float);
            float *mag = malloc(n * sizeof(float));
            assert_non_null(mag);
            for (size_t e = 0; e < n; e++)
                mag[e] = o == 0 && r->mag         ? r->mag[e]
                         : r->mag_const > 0.0f ? r->mag_const
                                               : fabsf(((float *)out32[o].out)[e]) + 1.0f;
            snprintf(label, sizeof label, "%s %s output %u", what, runs[i].name, o);
            expect_close(label, out16[o].out, out32[o].out, mag, n, 1e-5);
            if (r->exact && runs[i].flags == 0 &&
                memcmp(out16[o].out, out32[o].out, n * sizeof(float)) != 0)
                fail_msg("%s: not bit-identical to the float32 kernel", label);
            free(mag);
        }
        qlite_op_test_free(r->nout, out16);
    }
    qlite_op_test_free(r->nout, out32);
}

/* ---- FULLY_CONNECTED ---- */

static void check_fc(size_t M, size_t K, size_t N, qlite_activation act, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    float *x = malloc(M * K * 4), *w32 = malloc(N * K * 4), *b = malloc(N * 4);
    uint16_t *w16 = malloc(N * K * 2);
    float *mag = malloc(M * N * 4);
    assert_true(x && w32 && b && w16 && mag);
    for (size_t i = 0; i < M * K; i++) x[i] = frand(&r);
    for (size_t i = 0; i < N; i++) b[i] = frand(&r);
    half_weights(&r, w16, w32, N * K);
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            double s = fabs(b[n]);
            for (size_t k = 0; k < K; k++) s += fabs((double)x[m * K + k] * w32[n * K + k]);
            mag[m * N + n] = (float)s;
        }
    f16_run run;
    memset(&run, 0, sizeof run);
    run.code = QLITE_OP_FULLY_CONNECTED;
    run.opts = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    run.opts.u.fully_connected.activation = act;
    run.opts.u.fully_connected.keep_num_dims = true;
    run.nin = 3;
    run.nout = 1;
    run.in[0] = qt_f32(2, (int64_t[]){(int64_t)M, (int64_t)K}, x);
    run.in[1] = qt_const(QLITE_DTYPE_FLOAT16, 2, (int64_t[]){(int64_t)N, (int64_t)K}, w16);
    run.in[2] = qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){(int64_t)N}, b);
    run.out[0] = qt_f32(2, (int64_t[]){(int64_t)M, (int64_t)N}, NULL);
    run.wi[0] = 1;
    run.nw = 1;
    run.w32[0] = w32;
    run.mag = mag;
    /* with the fast half GEMM: the float32 fast GEMM's sums, bit for bit */
    run.exact = qlite_gemm_f16_o16_fast() != NULL;
    char what[64];
    snprintf(what, sizeof what, "FC M=%zu K=%zu N=%zu", M, K, N);
    run_and_compare(&run, what);
    free(x);
    free(w32);
    free(b);
    free(w16);
    free(mag);
}

static void test_fc_f16(void **state) {
    (void)state;
    const size_t shapes[][3] = {{1, 784, 256}, {1, 5, 3}, {2, 33, 17}, {3, 64, 40},
                                {4, 100, 70}, {7, 31, 130}, {33, 128, 10}};
    for (size_t i = 0; i < N_COUNT(shapes); i++)
        check_fc(shapes[i][0], shapes[i][1], shapes[i][2],
                 (qlite_activation)(i % QLITE_ACT_COUNT), 10 + i);
}

/* ---- CONV_2D / TRANSPOSE_CONV_2D / DEPTHWISE_CONV_2D ---- */

typedef struct conv16_case {
    qlite_op_code code;
    int64_t N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g, oph, opw;
} conv16_case;

static void check_conv(const conv16_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const bool dw = c->code == QLITE_OP_DEPTHWISE_CONV_2D,
               tc = c->code == QLITE_OP_TRANSPOSE_CONV_2D;
    int64_t OH, OW;
    if (tc) {
        OH = c->sh * (c->H - 1) + c->oph + (c->KH - 1) * c->dh + 1 - c->pt - c->pb;
        OW = c->sw * (c->W - 1) + c->opw + (c->KW - 1) * c->dw + 1 - c->pl - c->pr;
    } else {
        OH = (c->H + c->pt + c->pb - ((c->KH - 1) * c->dh + 1)) / c->sh + 1;
        OW = (c->W + c->pl + c->pr - ((c->KW - 1) * c->dw + 1)) / c->sw + 1;
    }
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C);
    const size_t nw =
        dw ? (size_t)(c->KH * c->KW * c->O) : (size_t)(c->O * c->KH * c->KW * (c->C / c->g));
    float *x = malloc(nx * 4), *w32 = malloc(nw * 4), *b = malloc((size_t)c->O * 4);
    uint16_t *w16 = malloc(nw * 2);
    assert_true(x && w32 && b && w16);
    for (size_t i = 0; i < nx; i++) x[i] = frand(&r);
    for (int64_t i = 0; i < c->O; i++) b[i] = frand(&r);
    half_weights(&r, w16, w32, nw);
    f16_run run;
    memset(&run, 0, sizeof run);
    run.code = c->code;
    run.opts = qopts(QLITE_OPTIONS_CONV_2D);
    qlite_conv2d_options *o = &run.opts.u.conv2d;
    o->stride_h = (int32_t)c->sh, o->stride_w = (int32_t)c->sw;
    o->dilation_h = (int32_t)c->dh, o->dilation_w = (int32_t)c->dw;
    o->pad_top = (int32_t)c->pt, o->pad_left = (int32_t)c->pl;
    o->pad_bottom = (int32_t)c->pb, o->pad_right = (int32_t)c->pr;
    o->groups = (int32_t)c->g, o->output_pad_h = (int32_t)c->oph, o->output_pad_w = (int32_t)c->opw;
    o->activation = QLITE_ACT_RELU6;
    run.nin = 3;
    run.nout = 1;
    run.in[0] = qt_f32(4, (int64_t[]){c->N, c->H, c->W, c->C}, x);
    run.in[1] = dw ? qt_const(QLITE_DTYPE_FLOAT16, 4, (int64_t[]){1, c->KH, c->KW, c->O}, w16)
                   : qt_const(QLITE_DTYPE_FLOAT16, 4,
                              (int64_t[]){c->O, c->KH, c->KW, c->C / c->g}, w16);
    run.in[2] = qt_const(QLITE_DTYPE_FLOAT32, 1, (int64_t[]){c->O}, b);
    run.out[0] = qt_f32(4, (int64_t[]){c->N, OH, OW, c->O}, NULL);
    run.wi[0] = 1;
    run.nw = 1;
    run.w32[0] = w32;
    run.mag_const = (float)(c->KH * c->KW * (dw ? 1 : c->C / c->g) + 1);
    run.exact = c->code == QLITE_OP_CONV_2D && qlite_gemm_f16_o16_fast() != NULL;
    run_and_compare(&run, qlite_op_name(c->code));
    free(x);
    free(w32);
    free(b);
    free(w16);
}

static void test_conv_f16(void **state) {
    (void)state;
    const qlite_op_code CV = QLITE_OP_CONV_2D, DW = QLITE_OP_DEPTHWISE_CONV_2D,
                        TC = QLITE_OP_TRANSPOSE_CONV_2D;
    const conv16_case cases[] = {
        {CV, 1, 28, 28, 1, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, 0, 0},
        {CV, 2, 9, 7, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {CV, 1, 7, 7, 32, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0},  /* 1x1: in place */
        {CV, 1, 6, 5, 12, 18, 3, 2, 1, 2, 2, 1, 2, 0, 1, 3, 3, 0, 0},
        /* the conv paths on the fast half GEMM: implicit im2col past its
         * 240-row block and 64 columns, one whole im2col (dilation across),
         * im2col tiles (many pixels, dilation), 1x1 in place past 240 rows */
        {CV, 1, 20, 20, 24, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {CV, 1, 10, 10, 8, 40, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 0},
        {CV, 1, 31, 31, 64, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 0},
        {CV, 1, 20, 20, 16, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0},
        {DW, 1, 14, 14, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {DW, 1, 5, 5, 3, 6, 3, 3, 1, 1, 1, 1, 0, 1, 0, 1, 2, 0, 0},    /* multiplier 2 */
        {DW, 2, 6, 5, 19, 19, 3, 2, 1, 2, 2, 1, 2, 0, 1, 1, 1, 0, 0},
        {TC, 1, 4, 4, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0},
        {TC, 2, 3, 5, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 2, 0, 1},
    };
    for (size_t i = 0; i < N_COUNT(cases); i++) check_conv(&cases[i], 30 + i);
}

/* ---- BATCH_MATMUL (float16 B) ---- */

static void test_bmm_f16(void **state) {
    (void)state;
    const struct {
        int64_t ad[3], bd[3];
        bool tb;
    } cases[] = {{{2, 7, 16}, {1, 16, 9}, false},  /* shared B: folded */
                 {{3, 5, 33}, {3, 40, 33}, true},  /* batched B^T */
                 {{1, 2, 64}, {1, 64, 70}, false}, /* small M */
                 {{4, 28, 64}, {1, 64, 192}, false}};
    for (size_t i = 0; i < N_COUNT(cases); i++) {
        qlite_test_rng r;
        qlite_test_rng_seed(&r, 50 + i);
        const size_t na = (size_t)(cases[i].ad[0] * cases[i].ad[1] * cases[i].ad[2]);
        const size_t nb = (size_t)(cases[i].bd[0] * cases[i].bd[1] * cases[i].bd[2]);
        float *a = malloc(na * 4), *b32 = malloc(nb * 4);
        uint16_t *b16 = malloc(nb * 2);
        assert_true(a && b32 && b16);
        for (size_t k = 0; k < na; k++) a[k] = frand(&r);
        half_weights(&r, b16, b32, nb);
        const int64_t M = cases[i].ad[1];
        const int64_t N = cases[i].tb ? cases[i].bd[1] : cases[i].bd[2];
        const int64_t batches = cases[i].ad[0] > cases[i].bd[0] ? cases[i].ad[0] : cases[i].bd[0];
        f16_run run;
        memset(&run, 0, sizeof run);
        run.code = QLITE_OP_BATCH_MATMUL;
        run.opts = qopts(QLITE_OPTIONS_BATCH_MATMUL);
        run.opts.u.batch_matmul.transpose_b = cases[i].tb;
        run.nin = 2;
        run.nout = 1;
        run.in[0] = qt_f32(3, cases[i].ad, a);
        run.in[1] = qt_const(QLITE_DTYPE_FLOAT16, 3, cases[i].bd, b16);
        run.out[0] = qt_f32(3, (int64_t[]){batches, M, N}, NULL);
        run.wi[0] = 1;
        run.nw = 1;
        run.w32[0] = b32;
        run.mag_const = (float)(cases[i].ad[2] + 1);
        /* 4+ rows on the fast half GEMM: the float32 kernel's fast sums */
        run.exact = M >= 4 && qlite_gemm_f16_o16_fast() != NULL;
        run_and_compare(&run, "BATCH_MATMUL");
        free(a);
        free(b32);
        free(b16);
    }
}

/* ---- LSTM / GRU (float16 W and R, or one of them) ---- */

static void check_rnn(qlite_op_code code, int64_t T, int64_t B, int64_t I, int64_t H,
                      qlite_rnn_direction dir, bool lbr, int halves, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const int64_t G = code == QLITE_OP_LSTM ? 4 : 3, D = dir == QLITE_RNN_BIDIRECTIONAL ? 2 : 1;
    const size_t nx = (size_t)(T * B * I), nw = (size_t)(D * G * H * I),
                 nr = (size_t)(D * G * H * H);
    const size_t nb = (size_t)(D * 2 * G * H);
    float *x = malloc(nx * 4), *w32 = malloc(nw * 4), *r32 = malloc(nr * 4), *bias = malloc(nb * 4);
    uint16_t *w16 = malloc(nw * 2), *r16 = malloc(nr * 2);
    assert_true(x && w32 && r32 && bias && w16 && r16);
    for (size_t i = 0; i < nx; i++) x[i] = frand(&r);
    for (size_t i = 0; i < nb; i++) bias[i] = 0.5f * frand(&r);
    half_weights(&r, w16, w32, nw);
    half_weights(&r, r16, r32, nr);
    for (size_t i = 0; i < nw; i++) w32[i] *= 0.5f, w16[i] = qlite_fp32_to_fp16(w32[i]);
    f16_run run;
    memset(&run, 0, sizeof run);
    run.code = code;
    run.opts = qopts(QLITE_OPTIONS_RNN);
    run.opts.u.rnn.hidden_size = (int32_t)H;
    run.opts.u.rnn.direction = dir;
    run.opts.u.rnn.linear_before_reset = lbr;
    run.nin = 4;
    run.in[0] = qt_f32(3, (int64_t[]){T, B, I}, x);
    run.in[1] = qt_const(halves & 1 ? QLITE_DTYPE_FLOAT16 : QLITE_DTYPE_FLOAT32, 3,
                         (int64_t[]){D, G * H, I}, halves & 1 ? (const void *)w16 : w32);
    run.in[2] = qt_const(halves & 2 ? QLITE_DTYPE_FLOAT16 : QLITE_DTYPE_FLOAT32, 3,
                         (int64_t[]){D, G * H, H}, halves & 2 ? (const void *)r16 : r32);
    run.in[3] = qt_const(QLITE_DTYPE_FLOAT32, 2, (int64_t[]){D, 2 * G * H}, bias);
    run.nout = 2;
    run.out[0] = qt_f32(4, (int64_t[]){T, D, B, H}, NULL);
    run.out[1] = qt_f32(3, (int64_t[]){D, B, H}, NULL);
    if (halves & 1) run.wi[run.nw] = 1, run.w32[run.nw++] = w32;
    if (halves & 2) run.wi[run.nw] = 2, run.w32[run.nw++] = r32;
    char what[80];
    snprintf(what, sizeof what, "%s T=%lld B=%lld halves=%d", qlite_op_name(code), (long long)T,
             (long long)B, halves);
    run_and_compare(&run, what);
    free(x);
    free(w32);
    free(r32);
    free(bias);
    free(w16);
    free(r16);
}

static void test_rnn_f16(void **state) {
    (void)state;
    check_rnn(QLITE_OP_LSTM, 6, 1, 28, 32, QLITE_RNN_FORWARD, false, 3, 60);
    check_rnn(QLITE_OP_LSTM, 4, 5, 9, 16, QLITE_RNN_BIDIRECTIONAL, false, 3, 61);
    check_rnn(QLITE_OP_LSTM, 3, 2, 7, 8, QLITE_RNN_REVERSE, false, 2, 62); /* R only */
    check_rnn(QLITE_OP_GRU, 6, 1, 28, 32, QLITE_RNN_FORWARD, true, 3, 63);
    check_rnn(QLITE_OP_GRU, 4, 4, 9, 16, QLITE_RNN_BIDIRECTIONAL, false, 3, 64);
    check_rnn(QLITE_OP_GRU, 3, 3, 5, 8, QLITE_RNN_FORWARD, false, 1, 65); /* W only */
}

/* ---- (b) row kernels by ISA ---- */

static void test_row_variants(void **state) {
    (void)state;
    size_t n;
    const qlite_gemm_f16_rowk *const *all = qlite_gemm_f16_rowks(&n);
    const qlite_gemm_f16_rowk *ref = all[0];
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 70);
    const size_t Ks[] = {1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100};
    const size_t Ns[] = {1, 3, 4, 5, 31, 32, 33, 64, 65, 100};
    float a[100], w32[100 * 100], bias[100], c0[100], c1[100], mag[100];
    uint16_t w16[100 * 100];
    half_weights(&r, w16, w32, 100 * 100);
    for (size_t i = 0; i < 100; i++) a[i] = frand(&r), bias[i] = frand(&r);
    for (size_t v = 1; v < n; v++) {
        if (!qlite_gemm_f16_runnable(all[v])) {
            print_message("%s: this CPU lacks its ISA (skipped)\n", all[v]->name);
            continue;
        }
        float cv[100 * 100], cr[100 * 100];
        ref->convert(w16, cr, 100 * 100);
        all[v]->convert(w16, cv, 100 * 100);
        assert_memory_equal(cv, cr, sizeof cv);
        for (size_t ik = 0; ik < N_COUNT(Ks); ik++)
            for (size_t in = 0; in < N_COUNT(Ns); in++) {
                const size_t K = Ks[ik], N = Ns[in];
                for (size_t j = 0; j < N; j++) {
                    double s = fabs(bias[j]);
                    for (size_t k = 0; k < K; k++) s += fabs((double)a[k] * w32[j * K + k]);
                    mag[j] = (float)s;
                }
                ref->dot(K, a, 1, w16, K, 0, N, bias, c0, -INFINITY, INFINITY);
                all[v]->dot(K, a, 1, w16, K, 0, N, bias, c1, -INFINITY, INFINITY);
                expect_close(all[v]->name, c1, c0, mag, N, 1e-5);
                for (size_t j = 0; j < N; j++) {
                    double s = fabs(bias[j]);
                    for (size_t k = 0; k < K; k++) s += fabs((double)a[k] * w32[k * N + j]);
                    mag[j] = (float)s;
                }
                ref->axpy(K, a, 1, w16, N, 0, N, bias, c0, -0.5f, 0.5f);
                all[v]->axpy(K, a, 1, w16, N, 0, N, bias, c1, -0.5f, 0.5f);
                expect_close(all[v]->name, c1, c0, mag, N, 1e-5);
            }
    }
    /* a skipped variant is reported by cmocka as skipped, not passed */
    for (size_t v = 1; v < n; v++)
        if (!qlite_gemm_f16_runnable(all[v])) skip();
}

/* ---- (c) through the interpreter ---- */

/* y [1, 2] = x [1, 3] W^T with W as described by tw (bytes at wdata); returns the model. */
static qlite_model *fc_model(qlite_tensor_info *tw, const void *wdata, size_t wbytes,
                             const void *ptr, size_t ptr_bytes, const void *idx, size_t idx_bytes,
                             void **bytes) {
    qlite_writer *W = NULL;
    assert_qlite_ok(qlite_writer_create(&W));
    if (tw->sparsity) {
        qlite_sparsity *sp = (qlite_sparsity *)tw->sparsity;
        sp->row_ptr_buffer = (uint32_t)qlite_writer_add_buffer(W, ptr, ptr_bytes);
        sp->col_index_buffer = (uint32_t)qlite_writer_add_buffer(W, idx, idx_bytes);
    }
    qlite_tensor_info tx = {.name = "x", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){1, 3}};
    qlite_tensor_info ty = {.name = "y", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){1, 2}};
    const int64_t buf = qlite_writer_add_buffer(W, wdata, wbytes);
    assert_true(buf > 0);
    tw->buffer = (uint32_t)buf;
    const int32_t x = qlite_writer_add_tensor(W, &tx), y = qlite_writer_add_tensor(W, &ty);
    const int32_t wt = qlite_writer_add_tensor(W, tw);
    assert_int_equal(wt, 2);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    qlite_op_info op = {.code = QLITE_OP_FULLY_CONNECTED, .name = "fc", .num_inputs = 3,
                        .num_outputs = 1, .inputs = (int32_t[]){x, wt, -1},
                        .outputs = (int32_t[]){y}, .options = o};
    assert_true(qlite_writer_add_op(W, &op) >= 0);
    assert_qlite_ok(qlite_writer_set_inputs(W, 1, &x));
    assert_qlite_ok(qlite_writer_set_outputs(W, 1, &y));
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(W, bytes, &size));
    qlite_writer_destroy(W);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(*bytes, size, 0, &m));
    return m;
}

static void run_fc_model(qlite_model *m, const float want[2], qlite_dtype weight_view,
                         bool in_model) {
    qlite_interpreter *it;
    assert_qlite_ok(qlite_interpreter_create(m, NULL, &it));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_tensor(it, 2, &v));
    assert_int_equal(v.dtype, weight_view);
    size_t msize;
    const uint8_t *mb = qlite_model_bytes(m, &msize);
    const bool inside = (const uint8_t *)v.data >= mb && (const uint8_t *)v.data < mb + msize;
    assert_int_equal(inside, in_model);
    const float xin[3] = {1.0f, 1.0f, 2.0f};
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, xin, sizeof xin));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    const float *yo = v.data;
    assert_true(yo[0] == want[0]);
    assert_true(yo[1] == want[1]);
    qlite_interpreter_destroy(it);
}

static void test_interpreter_weights(void **state) {
    (void)state;
    void *bytes;
    /* dense float16 W [2, 3] = {{1, 2, 3}, {-0.5, 0.25, 65504}}: read in place */
    const uint16_t w[6] = {0x3C00, 0x4000, 0x4200, 0xB800, 0x3400, 0x7BFF};
    qlite_tensor_info tw = {.name = "w", .dtype = QLITE_DTYPE_FLOAT16, .rank = 2,
                            .shape = (int64_t[]){2, 3}};
    qlite_model *m = fc_model(&tw, w, sizeof w, NULL, 0, NULL, 0, &bytes);
    run_fc_model(m, (float[]){9.0f, -0.5f + 0.25f + 2.0f * 65504.0f}, QLITE_DTYPE_FLOAT16, true);
    qlite_interpreter *it;
    assert_qlite_ok(qlite_interpreter_create(m, NULL, &it));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    /* nothing of the weight's size was converted at prepare */
    assert_true(qlite_interpreter_prepared_size(it) < 1024);
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);

    /* sparse float16 (1x1 CSR): row 0 = {col 2: 0.5}, row 1 = {col 0: -2, col 1: 1024}:
     * read in place from the model by the sparse kernel (kernels/nn_sparse.h) */
    const uint8_t row_ptr[3] = {0, 1, 3}, col_index[3] = {2, 0, 1};
    const uint16_t values[3] = {0x3800, 0xC000, 0x6400};
    qlite_sparsity sp = {.block_rows = 1, .block_cols = 1, .row_ptr_type = QLITE_INDEX_UINT8,
                         .col_index_type = QLITE_INDEX_UINT8, .nnz_blocks = 3};
    qlite_tensor_info ts = {.name = "w", .dtype = QLITE_DTYPE_FLOAT16, .rank = 2,
                            .shape = (int64_t[]){2, 3}, .sparsity = &sp};
    m = fc_model(&ts, values, sizeof values, row_ptr, sizeof row_ptr, col_index,
                 sizeof col_index, &bytes);
    run_fc_model(m, (float[]){1.0f, -2.0f + 1024.0f}, QLITE_DTYPE_FLOAT16, true);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
}

/* ---- (d) O16 halves widened per block ---- */

static void test_o16_blocked(void **state) {
    (void)state;
    static const size_t Ms[] = {1, 3, 4, 11, 12, 13, 24, 200, 400};
    static const size_t Ks[] = {1, 15, 16, 17, 255, 256, 257, 600};
    static const size_t Ns[] = {1, 15, 16, 17, 33, 64};
    const qlite_gemm_f32_ukernel *uk = qlite_gemm_f32_select_o16();
    float *wbuf = aligned_alloc(64, QLITE_GEMM_F16_WBUF_BYTES);
    assert_non_null(wbuf);
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 77);
    size_t checked = 0;
    for (size_t i = 0; i < N_COUNT(Ms); i++)
        for (size_t j = 0; j < N_COUNT(Ks); j++)
            for (size_t l = 0; l < N_COUNT(Ns); l++) {
                const size_t M = Ms[i], K = Ks[j], N = Ns[l];
                if (M * K * N > 4000000) continue;
                const size_t pe = qlite_gemm_o16_elems(K, N);
                float *a = malloc(M * K * sizeof(float)), *bias = malloc(N * sizeof(float));
                float *c1 = malloc(M * N * sizeof(float)), *c2 = malloc(M * N * sizeof(float));
                uint16_t *w = malloc(pe * sizeof(uint16_t));
                float *wf = malloc(pe * sizeof(float));
                assert_true(a && bias && c1 && c2 && w && wf);
                for (size_t t = 0; t < M * K; t++) a[t] = frand(&r);
                for (size_t t = 0; t < N; t++) bias[t] = frand(&r);
                half_weights(&r, w, wf, pe); /* padding included: both read the same bytes */
                const bool with_bias = (i + j + l) % 2 == 0, clamp = (i + l) % 3 == 0;
                qlite_gemm_f32_args g = {.M = M, .N = N, .K = K, .a = a, .rsa = K, .csa = 1,
                                         .bias = with_bias ? bias : NULL, .c = c1, .ldc = N,
                                         .lo = clamp ? -0.5f : -INFINITY,
                                         .hi = clamp ? 0.5f : INFINITY};
                if (qlite_gemm_f16_o16_fast()) /* both on the fast GEMMs */
                    qlite_gemm_f32_o16_serial(uk, &g, wf, false);
                else
                    qlite_gemm_f32_o16_serial(uk, &g, w, true);
                g.c = c2;
                for (int wb = 0; wb < 2; wb++) { /* widening buffer, then in registers */
                    memset(c2, 0xA5, M * N * sizeof(float));
                    qlite_gemm_f16_o16_serial(uk, &g, w, wb == 0 ? wbuf : NULL);
                    if (memcmp(c1, c2, M * N * sizeof(float)) != 0) {
                        print_error("O16 halves blocked M=%zu K=%zu N=%zu (%s): differs from "
                                    "tile_h\n",
                                    M, K, N, wb == 0 ? "buffer" : "registers");
                        fail();
                    }
                }
                checked++;
                free(a), free(bias), free(c1), free(c2), free(w), free(wf);
            }
    assert_true(checked > 300);
    free(wbuf);
}

/* ---- (e) the fast GEMM on float16 O16 weights ---- */

static void check_o16h_fast(size_t M, size_t N, size_t K, bool with_bias, bool clamp,
                            qlite_threadpool *pool, qlite_threadpool *pool3, uint64_t seed) {
    qlite_gemm_o16h_fn fn = qlite_gemm_f16_o16_fast();
    qlite_gemm_o16_fn f32 = qlite_gemm_f32_o16_fast();
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t pe = qlite_gemm_o16_elems(K, N), MN = M * N > 0 ? M * N : 1;
    float *a = malloc((M * K + 1) * sizeof(float)), *bias = malloc(N * sizeof(float));
    uint16_t *wh = malloc((pe + 16) * sizeof(uint16_t));
    float *wf = malloc((pe + 16) * sizeof(float));
    float *chain = malloc(MN * sizeof(float)), *out = malloc(MN * sizeof(float));
    assert_true(a && bias && wh && wf && chain && out);
    for (size_t t = 0; t < M * K; t++) a[t] = frand(&r);
    for (size_t t = 0; t < N; t++) bias[t] = frand(&r);
    half_weights(&r, wh, wf, pe);
    const float lo = clamp ? -0.25f : -INFINITY, hi = clamp ? 0.5f : INFINITY;
    const float *b = with_bias ? bias : NULL;
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            float acc = b ? b[n] : 0.0f;
            for (size_t k = 0; k < K; k++)
                acc = fmaf(a[m * K + k], wf[(n / 16 * K + k) * 16 + n % 16], acc);
            chain[m * N + n] = acc < lo ? lo : acc > hi ? hi : acc;
        }
    char what[96];
    snprintf(what, sizeof what, "o16 half fast M=%zu N=%zu K=%zu", M, N, K);
    /* widening buffers for 3 threads (the caller's: the GEMM allocates nothing) */
    float *wbuf = aligned_alloc(64, 3 * QLITE_GEMM_F16_WBUF_BYTES);
    assert_non_null(wbuf);
    for (int wb = 0; wb < 2; wb++) { /* blocks widened into the buffer, then in registers */
        memset(out, 0xA5, MN * sizeof(float));
        fn(M, N, K, a, K, wh, b, out, N, lo, hi, wb == 0 ? wbuf : NULL);
        if (memcmp(out, chain, M * N * sizeof(float)) != 0)
            fail_msg("%s: not the fmaf chain (%s)", what, wb == 0 ? "buffer" : "registers");
    }
    if (f32) { /* the float32 fast GEMM on the widened weights */
        memset(out, 0xA5, MN * sizeof(float));
        f32(M, N, K, a, K, wf, b, out, N, lo, hi);
        if (memcmp(out, chain, M * N * sizeof(float)) != 0)
            fail_msg("%s: the float32 GEMM on widened weights differs", what);
    }
    /* through the threaded runner, 1, 2 and 3 threads (qlite_o16_grid_split:
     * column-major grid, or rows alone for weights <= 512 KiB as floats and
     * <= 3x A and C, >= 2 row units a thread: M >= 19 at 2 threads, 31 at 3) */
    qlite_exec_ctx ctx1, ctx2, ctx3;
    memset(&ctx1, 0, sizeof ctx1);
    memset(&ctx2, 0, sizeof ctx2);
    memset(&ctx3, 0, sizeof ctx3);
    ctx2.pool = pool;
    ctx3.pool = pool3;
    qlite_node n1 = {.ctx = &ctx1}, n2 = {.ctx = &ctx2}, n3 = {.ctx = &ctx3};
    const qlite_node *nodes[] = {&n1, &n2, &n3, NULL};
    for (size_t i = 0; i < 2 * N_COUNT(nodes); i++) {
        memset(out, 0xA5, MN * sizeof(float));
        const qlite_gemm_f32_args g = {.M = M, .N = N, .K = K, .a = a, .rsa = K, .csa = 1,
                                       .bias = b, .c = out, .ldc = N, .lo = lo, .hi = hi};
        assert_true(qlite_gemm_f16_run_o16_fast(nodes[i / 2], &g, wh, i % 2 ? NULL : wbuf));
        if (memcmp(out, chain, M * N * sizeof(float)) != 0)
            fail_msg("%s: run %zu (%s) differs", what, i / 2,
                     i % 2 ? "registers" : "buffers");
    }
    free(a), free(bias), free(wh), free(wf), free(chain), free(out), free(wbuf);
}

/* Runs form: row m's K = nseg * seg values as nseg runs; runs of odd rows
 * that are all zero point at a shared zero run (as a conv's padding rows). */
static void check_o16h_ind(size_t M, size_t N, size_t nseg, size_t seg, qlite_threadpool *pool,
                           qlite_threadpool *pool3, uint64_t seed) {
    qlite_gemm_o16h_fn fn = qlite_gemm_f16_o16_fast();
    qlite_gemm_o16h_ind_fn ind_fn = qlite_gemm_f16_o16_ind_fast();
    assert_non_null(ind_fn);
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t K = nseg * seg, pe = qlite_gemm_o16_elems(K, N);
    float *a = calloc(M * K + 1, sizeof(float)), *zeros = calloc(seg + 1, sizeof(float));
    float *bias = malloc(N * sizeof(float)), *want = malloc((M * N + 1) * sizeof(float));
    float *out = malloc((M * N + 1) * sizeof(float));
    uint16_t *wh = malloc((pe + 16) * sizeof(uint16_t));
    float *wf = malloc((pe + 16) * sizeof(float));
    const float **ind = malloc((M * nseg + 1) * sizeof(float *));
    assert_true(a && zeros && bias && want && out && wh && wf && ind);
    for (size_t t = 0; t < N; t++) bias[t] = frand(&r);
    half_weights(&r, wh, wf, pe);
    for (size_t m = 0; m < M; m++)
        for (size_t s = 0; s < nseg; s++) {
            const bool zero = m % 2 == 1 && s % 3 == 0;
            float *run = a + m * K + s * seg;
            for (size_t k = 0; k < seg; k++) run[k] = zero ? 0.0f : frand(&r);
            ind[m * nseg + s] = zero ? zeros : run;
        }
    float *wbuf = aligned_alloc(64, 3 * QLITE_GEMM_F16_WBUF_BYTES);
    assert_non_null(wbuf);
    fn(M, N, K, a, K, wh, bias, want, N, -INFINITY, INFINITY, NULL);
    char what[96];
    snprintf(what, sizeof what, "o16 half runs M=%zu N=%zu %zu x %zu", M, N, nseg, seg);
    qlite_exec_ctx ctx1, ctx2, ctx3;
    memset(&ctx1, 0, sizeof ctx1);
    memset(&ctx2, 0, sizeof ctx2);
    memset(&ctx3, 0, sizeof ctx3);
    ctx2.pool = pool;
    ctx3.pool = pool3;
    qlite_node n1 = {.ctx = &ctx1}, n2 = {.ctx = &ctx2}, n3 = {.ctx = &ctx3};
    for (int wb = 0; wb < 2; wb++) {
        memset(out, 0xA5, (M * N + 1) * sizeof(float));
        ind_fn(M, N, nseg, seg, ind, wh, bias, out, N, -INFINITY, INFINITY, wb ? NULL : wbuf);
        if (memcmp(out, want, M * N * sizeof(float)) != 0)
            fail_msg("%s: serial differs (%s)", what, wb ? "registers" : "buffer");
    }
    const qlite_node *nodes[] = {&n1, &n2, &n3};
    for (size_t i = 0; i < 2 * N_COUNT(nodes); i++) {
        memset(out, 0xA5, (M * N + 1) * sizeof(float));
        qlite_gemm_f16_run_o16_ind(nodes[i / 2], ind_fn, M, N, nseg, seg, ind, wh, bias, out, N,
                                   -INFINITY, INFINITY, i % 2 ? NULL : wbuf);
        if (memcmp(out, want, M * N * sizeof(float)) != 0)
            fail_msg("%s: %zu thread(s) differ (%s)", what, i / 2 + 1,
                     i % 2 ? "registers" : "buffers");
    }
    free(a), free(zeros), free(bias), free(want), free(out), free(wh), free(wf), free(ind);
    free(wbuf);
}

static void test_o16h_fast(void **state) {
    (void)state;
    if (!qlite_gemm_f16_o16_fast()) skip();
    qlite_threadpool *pool, *pool3;
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    assert_qlite_ok(qlite_threadpool_create(3, &pool3));
    static const size_t Ms[] = {1, 2, 5, 6, 7, 10, 11, 13, 15, 19, 31, 48, 49, 97, 241, 300};
    static const size_t Ns[] = {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 130};
    static const size_t Ks[] = {0, 1, 9, 27, 191, 192, 193, 385, 1000};
    uint64_t seed = 900;
    /* reduced sweeps (support.h): every shape up to 2e5 multiply-adds (the tile
     * edges), of the larger ones half ((i + j) % 2 == 0: each M still meets
     * every other N, with three K each); in the runs below the 250 x 130 GEMM
     * for every third run shape */
    const bool reduced = qlite_test_reduced();
    for (size_t i = 0; i < N_COUNT(Ms); i++)
        for (size_t j = 0; j < N_COUNT(Ns); j++)
            for (size_t l = 0; l < N_COUNT(Ks); l++) {
                if ((i + j + l) % 3 != 0 || Ms[i] * Ns[j] * Ks[l] > 6000000) continue;
                if (reduced && Ms[i] * Ns[j] * (Ks[l] + 1) > 200000 && (i + j) % 2 != 0) {
                    seed++;
                    continue;
                }
                check_o16h_fast(Ms[i], Ns[j], Ks[l], (i + l) % 2 == 0, (j + l) % 4 == 1, pool,
                                pool3, seed++);
            }
    /* K over the 1152-step block (widened / in registers), weights over
     * the 512 KiB at which blocks prefetch the next */
    check_o16h_fast(61, 130, 2400, true, false, pool, pool3, seed++);
    check_o16h_fast(13, 65, 1300, false, true, pool, pool3, seed++);
    check_o16h_fast(250, 40, 1153, true, true, pool, pool3, seed++);
    /* runs: many per block (3 x 9, 3 x 64), a block each (3 x 192), longer
     * than a block (2 x 450, pieces), no runs */
    static const size_t runs[][2] = {{3, 9}, {7, 21}, {3, 64}, {9, 64}, {3, 192}, {2, 450},
                                     {1, 193}, {0, 5}, {3, 500}, {1, 1300}, {2, 1152}};
    for (size_t i = 0; i < N_COUNT(runs); i++) {
        check_o16h_ind(50, 64, runs[i][0], runs[i][1], pool, pool3, seed++);
        check_o16h_ind(7, 24, runs[i][0], runs[i][1], pool, pool3, seed++);
        if (!reduced || i % 3 == 0)
            check_o16h_ind(250, 130, runs[i][0], runs[i][1], pool, pool3, seed);
        seed++;
    }
    /* MobileNetV2's 1x1 layers: 14x14 96 -> 576 and 576 -> 96 (split by
     * rows: 98 / 66 rows a thread, widened into the buffers), 7x7
     * 160 -> 960 (614 KiB as floats: the column grid), 320 -> 1280 (1.6 MiB) */
    check_o16h_fast(196, 576, 96, true, true, pool, pool3, seed++);
    check_o16h_fast(196, 96, 576, true, false, pool, pool3, seed++);
    check_o16h_fast(49, 960, 160, true, true, pool, pool3, seed++);
    if (!reduced) check_o16h_fast(49, 1280, 320, false, true, pool, pool3, seed++);
    check_o16h_ind(196, 96, 1, 576, pool, pool3, seed++);
    qlite_threadpool_destroy(pool);
    qlite_threadpool_destroy(pool3);
}

/* The widening GEMM on a thread with a 128 KiB stack, given the caller's
 * 288 KiB buffer: the buffer must not be static TLS (glibc takes a module's
 * static TLS out of every thread's stack, so pthread_create would refuse
 * such a thread) nor on the stack. */
typedef struct small_stack_job {
    size_t M, N, K;
    const float *a;
    const uint16_t *w;
    float *out, *wbuf;
} small_stack_job;

static void *small_stack_main(void *arg) {
    const small_stack_job *j = arg;
    qlite_gemm_f16_o16_fast()(j->M, j->N, j->K, j->a, j->K, j->w, NULL, j->out, j->N, -INFINITY,
                              INFINITY, j->wbuf);
    return NULL;
}

static void test_o16h_small_stack(void **state) {
    (void)state;
    if (!qlite_gemm_f16_o16_fast()) skip();
    enum { M = 97, N = 64, K = 300 }; /* more than 48 rows: the widened buffer */
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 4242);
    const size_t pe = qlite_gemm_o16_elems(K, N);
    float *a = malloc(M * K * sizeof(float)), *wf = malloc(pe * sizeof(float));
    float *want = malloc(M * N * sizeof(float)), *out = malloc(M * N * sizeof(float));
    uint16_t *wh = malloc(pe * sizeof(uint16_t));
    assert_true(a && wf && want && out && wh);
    for (size_t t = 0; t < (size_t)M * K; t++) a[t] = frand(&r);
    half_weights(&r, wh, wf, pe);
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            float acc = 0.0f;
            for (size_t k = 0; k < K; k++)
                acc = fmaf(a[m * K + k], wf[(n / 16 * K + k) * 16 + n % 16], acc);
            want[m * N + n] = acc;
        }
    memset(out, 0xA5, M * N * sizeof(float));
    float *wbuf = aligned_alloc(64, QLITE_GEMM_F16_WBUF_BYTES);
    assert_non_null(wbuf);
    small_stack_job job = {M, N, K, a, wh, out, wbuf};
    pthread_attr_t attr;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 128 * 1024), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, &attr, small_stack_main, &job), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
    assert_memory_equal(out, want, M * N * sizeof(float));
    free(a), free(wf), free(want), free(out), free(wh), free(wbuf);
}

/* ---- invoke allocates nothing: the widening buffers come from scratch ---- */

/* Bytes of heap in use, every arena and mmapped chunk (glibc), or ASan's
 * count under ASan; false where neither is available. */
static bool heap_in_use(size_t *bytes) {
#ifdef HEAP_ASAN
    *bytes = __sanitizer_get_current_allocated_bytes();
    return true;
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    const struct mallinfo2 mi = mallinfo2();
    *bytes = mi.uordblks + mi.hblkhd;
    return true;
#else
    (void)bytes;
    return false;
#endif
}

typedef struct invoke_job {
    qlite_interpreter *it;
    size_t before, after;
    qlite_status st;
} invoke_job;

/* On a thread that never ran a GEMM (a per-thread buffer made on first use
 * would be allocated here): the heap in use around one invoke. */
static void *invoke_main(void *arg) {
    invoke_job *j = arg;
    heap_in_use(&j->before);
    j->st = qlite_interpreter_invoke(j->it);
    heap_in_use(&j->after);
    return NULL;
}

/* A prepared float16 CONV_2D of 100 output pixels (> 48 rows: weight
 * blocks widened into a buffer) over 3x3x64 -> 80 (two column blocks, K
 * 576), 1 and 2 threads: invoke leaves the heap exactly as it was, and the
 * result is the float32 chain of the widened weights (checked against a
 * double reference within 1e-5 of sum |x w| + |b|). */
static void test_conv_invoke_no_alloc(void **state) {
    (void)state;
    size_t probe;
    if (!qlite_gemm_f16_o16_fast() || !heap_in_use(&probe)) skip();
    enum { H = 10, W = 10, C = 64, O = 80, KS = 3 };
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 515);
    static float x[H * W * C], wf[O * KS * KS * C], b[O], want[H * W * O], mag[H * W * O];
    static uint16_t wh[O * KS * KS * C];
    for (size_t i = 0; i < N_COUNT(x); i++) x[i] = frand(&r);
    for (size_t i = 0; i < N_COUNT(b); i++) b[i] = frand(&r);
    half_weights(&r, wh, wf, N_COUNT(wh));
    for (int oy = 0; oy < H; oy++)
        for (int ox = 0; ox < W; ox++)
            for (int o = 0; o < O; o++) {
                double acc = b[o], m = fabs(b[o]);
                for (int ky = 0; ky < KS; ky++)
                    for (int kx = 0; kx < KS; kx++) {
                        const int iy = oy + ky - 1, ix = ox + kx - 1;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        for (int c = 0; c < C; c++) {
                            const double p = (double)x[(iy * W + ix) * C + c] *
                                             wf[((o * KS + ky) * KS + kx) * C + c];
                            acc += p, m += fabs(p);
                        }
                    }
                want[(oy * W + ox) * O + o] = (float)acc;
                mag[(oy * W + ox) * O + o] = (float)m;
            }
    qlite_writer *wr = NULL;
    assert_qlite_ok(qlite_writer_create(&wr));
    qlite_tensor_info tx = {.name = "x", .dtype = QLITE_DTYPE_FLOAT32, .rank = 4,
                            .shape = (int64_t[]){1, H, W, C}};
    qlite_tensor_info ty = {.name = "y", .dtype = QLITE_DTYPE_FLOAT32, .rank = 4,
                            .shape = (int64_t[]){1, H, W, O}};
    qlite_tensor_info tw = {.name = "w", .dtype = QLITE_DTYPE_FLOAT16, .rank = 4,
                            .shape = (int64_t[]){O, KS, KS, C}};
    qlite_tensor_info tb = {.name = "b", .dtype = QLITE_DTYPE_FLOAT32, .rank = 1,
                            .shape = (int64_t[]){O}};
    const int64_t bw = qlite_writer_add_buffer(wr, wh, sizeof wh);
    const int64_t bb = qlite_writer_add_buffer(wr, b, sizeof b);
    assert_true(bw > 0 && bb > 0);
    tw.buffer = (uint32_t)bw, tb.buffer = (uint32_t)bb;
    const int32_t ix = qlite_writer_add_tensor(wr, &tx), iy = qlite_writer_add_tensor(wr, &ty);
    const int32_t iw = qlite_writer_add_tensor(wr, &tw), ib = qlite_writer_add_tensor(wr, &tb);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_CONV_2D, &o);
    o.u.conv2d.stride_h = o.u.conv2d.stride_w = 1;
    o.u.conv2d.dilation_h = o.u.conv2d.dilation_w = 1;
    o.u.conv2d.pad_top = o.u.conv2d.pad_left = o.u.conv2d.pad_bottom = o.u.conv2d.pad_right = 1;
    o.u.conv2d.groups = 1;
    qlite_op_info op = {.code = QLITE_OP_CONV_2D, .name = "conv", .num_inputs = 3,
                        .num_outputs = 1, .inputs = (int32_t[]){ix, iw, ib},
                        .outputs = (int32_t[]){iy}, .options = o};
    assert_true(qlite_writer_add_op(wr, &op) >= 0);
    assert_qlite_ok(qlite_writer_set_inputs(wr, 1, &ix));
    assert_qlite_ok(qlite_writer_set_outputs(wr, 1, &iy));
    void *bytes;
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(wr, &bytes, &size));
    qlite_writer_destroy(wr);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    for (int threads = 1; threads <= 2; threads++) {
        qlite_interpreter_options io;
        memset(&io, 0, sizeof io);
        io.num_threads = threads;
        qlite_interpreter *it;
        assert_qlite_ok(qlite_interpreter_create(m, &io, &it));
        assert_qlite_ok(qlite_interpreter_prepare(it));
        assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
        invoke_job job = {.it = it};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, invoke_main, &job), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_qlite_ok(job.st);
        if (job.after != job.before)
            fail_msg("%d thread(s): invoke changed the heap in use by %lld bytes", threads,
                     (long long)job.after - (long long)job.before);
        qlite_tensor_view v;
        assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
        expect_close("CONV_2D float16 invoke", v.data, want, mag, N_COUNT(want), 1e-5);
        qlite_interpreter_destroy(it);
    }
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
}

/* (a), (d) again with the CPU features capped at AVX2: no fast GEMMs, the
 * float micro-kernels and F16C row kernels (what a CPU without AVX-512
 * runs) within the tolerance, (d) bit for bit against tile_h. Last: the
 * cap is process-wide. */
static void test_without_fast(void **state) {
    if (!qlite_gemm_f16_o16_fast()) skip(); /* the other tests ran these paths */
    qlite_q8_set_feature_cap(QLITE_Q8_F_AVX2);
    assert_null(qlite_gemm_f16_o16_fast());
    assert_null(qlite_gemm_f16_o16_ind_fast());
    test_fc_f16(state);
    test_conv_f16(state);
    test_bmm_f16(state);
    test_o16_blocked(state);
    qlite_q8_set_feature_cap(~0u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_f16),
        cmocka_unit_test(test_conv_f16),
        cmocka_unit_test(test_bmm_f16),
        cmocka_unit_test(test_rnn_f16),
        cmocka_unit_test(test_row_variants),
        cmocka_unit_test(test_o16_blocked),
        cmocka_unit_test(test_o16h_fast),
        cmocka_unit_test(test_o16h_small_stack),
        cmocka_unit_test(test_conv_invoke_no_alloc),
        cmocka_unit_test(test_interpreter_weights),
        cmocka_unit_test(test_without_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
