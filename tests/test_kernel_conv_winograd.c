/*
 * test_kernel_conv_winograd.c — float32 CONV_2D 3x3 stride 1 by Winograd
 * F(4x4, 3x3) (interpreter/kernels/conv_2d_winograd.c) through the one-op
 * runner, against NumPy float64 direct convolutions
 * (tests/data/kernels/make_golden_wino.py): H, W = 1..13 around the 4x4
 * tiles, padding 0 / 1 on each side, Cin / Cout 1, 3, 5, 15, 16, 17, 33, 64,
 * batch 2, with and without bias, no activation / RELU / RELU6, float32 and
 * float16 weights, constant and computed weights, 1 and 2 threads, on the
 * fast AVX-512 GEMM and (capped) on gemm_f32's O16 micro-kernels.
 *
 * Tolerance: |got - want| <= WINO_RTOL * S, S = the case's max |pre-
 * activation output| (wino_scale.npy). Why relative to S and not per element:
 * Winograd computes each output of a tile as A^T [sum_c U_c (.) V_c] A, a
 * combination of 36 GEMM results whose magnitudes are set by the transformed
 * inputs (B^T d B: entries up to 10 x 10 = 100 |d|), not by the output; the
 * rounding errors (float32, eps = 2^-24 per operation) of those 36 sums
 * (C terms each, relative error ~ sqrt(C) eps for random signs) are carried
 * to the outputs by A^T (.) A, whose coefficients reach 8 x 8 = 64 and whose
 * rows have absolute sums up to 18 x 18 = 324 (the 4th output row/column),
 * while an output's own size is the O(sqrt(9 C)) dot product. So the error
 * of every element of a tile is of the order eps x (~100 x ~sum of |A|
 * terms) x (sqrt(C) |x| |w|) ~ 1e-7 x 1e2..1e3 x the output scale: ~1e-6 to
 * 1e-5 of S; an element near zero has the same absolute error as a large
 * one. The worst-case (all signs aligned) bound, 324 x 100 x (C + 6) eps
 * |x|max |w|max, is ~1e-1 for C = 64: not a useful test. The largest error
 * seen over these cases is printed: 4.3e-6 S (gcc release, the fast GEMM
 * and the micro-kernels; clang 4.0e-6 S; 4.4e-6 S in a Debug build; 3.4e-6
 * before the weight transform shared its sums); WINO_RTOL = 2e-5 leaves
 * ~4.5x margin, and is still ~500x below the error of one wrong
 * tap (a missing or misplaced term moves an output by ~|x||w| ~ 0.25, and
 * S is 1.1..23 here: 1e-2..2e-1 of S).
 * The direct path (QLITE_INTERP_EXACT_CONV) is checked against the same
 * golden with the summation-bound tolerance of the direct kernels,
 * (9 C + 2) eps sum |x w| <= (9 C + 2) eps x 9 C |x|max |w|max.
 */
#include "kernel_f32_check.h"
#include "kernels/conv_2d_winograd.h"
#include "kernels/gemm_q8.h" /* qlite_q8_set_feature_cap */
#include "support/golden.h"

#define WINO_RTOL 2e-5

typedef struct wcase {
    int64_t N, H, W, C, O, pt, pl, pb, pr;
    qlite_activation act;
    bool bias;
    int64_t OH, OW;
} wcase;

static qlite_status run_wino(const wcase *c, const float *x, const void *w, bool half,
                             bool w_const, const float *b, int threads, uint32_t flags,
                             qlite_op_test_tensor *out) {
    qlite_op_test_tensor in[3];
    in[0] = kc_tensor(4, (int64_t[]){c->N, c->H, c->W, c->C}, x, false);
    in[1] = kc_tensor(4, (int64_t[]){c->O, 3, 3, c->C}, w, w_const);
    in[1].dtype = half ? QLITE_DTYPE_FLOAT16 : QLITE_DTYPE_FLOAT32;
    in[2] = c->bias ? kc_tensor(1, &c->O, b, true) : kc_absent();
    *out = kc_tensor(4, (int64_t[]){c->N, c->OH, c->OW, c->O}, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_CONV_2D);
    o.u.conv2d.pad_top = (int32_t)c->pt, o.u.conv2d.pad_left = (int32_t)c->pl;
    o.u.conv2d.pad_bottom = (int32_t)c->pb, o.u.conv2d.pad_right = (int32_t)c->pr;
    o.u.conv2d.activation = c->act;
    return qlite_op_test_run(QLITE_OP_CONV_2D, &o, 3, in, 1, out, threads, flags);
}

/* max |got - want| / S, failing above rtol */
static double check_rel(const char *what, const float *got, const float *want, size_t n,
                        double scale, double rtol) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs((double)got[i] - (double)want[i]) / scale;
        if (!(e <= rtol)) {
            print_error("%s: element %zu is %.9g, expected %.9g (err %.3g S > %.3g S, S %.4g)\n",
                        what, i, (double)got[i], (double)want[i], e, rtol, scale);
            fail();
        }
        if (e > worst) worst = e;
    }
    return worst;
}

/* The golden cases on the GEMM this CPU would use, capped below AVX-512
 * (gemm_f32's O16 micro-kernels instead of the fast 6x64 GEMM) when cap. */
static void golden_cases(unsigned cap) {
    qlite_q8_set_feature_cap(cap);
    /* the transforms follow the cap like the GEMMs (an AVX2 machine's
     * path under AVX2, the baseline build under 0) */
    const unsigned have = qlite_q8_cpu_features();
    const char *tf = qlite_wino_transforms_name();
#if defined(__x86_64__) && defined(__GNUC__)
    if (have & QLITE_Q8_F_AVX512)
        assert_string_equal(tf, "avx512f");
    else if (have & QLITE_Q8_F_AVX2)
        assert_string_equal(tf, "avx2");
    else
        assert_string_equal(tf, "baseline");
#else
    (void)have;
    assert_string_equal(tf, "baseline");
#endif
    qlite_golden gp, gx, gw, gb, gy, gs;
    assert_true(qlite_golden_load("wino_p", &gp));
    assert_true(qlite_golden_load("wino_x", &gx));
    assert_true(qlite_golden_load("wino_w", &gw));
    assert_true(qlite_golden_load("wino_b", &gb));
    assert_true(qlite_golden_load("wino_y", &gy));
    assert_true(qlite_golden_load("wino_scale", &gs));
    assert_int_equal(gp.dtype, QLITE_DTYPE_INT32);
    assert_int_equal(gw.dtype, QLITE_DTYPE_FLOAT16);
    assert_int_equal(gp.rank, 2);
    assert_int_equal(gp.dims[1], 11);
    const size_t ncases = (size_t)gp.dims[0];
    assert_int_equal(gs.count, ncases);
    const int32_t *p = gp.data;
    const float *X = gx.data, *B = gb.data, *Y = gy.data, *S = gs.data;
    const uint16_t *W = gw.data;
    size_t ox = 0, ow = 0, ob = 0, oy = 0, differs = 0;
    double worst = 0.0;
    qlite_wino_set_mode(QLITE_WINO_FORCE); /* every case, whatever the size rule picks */
    for (size_t i = 0; i < ncases; i++, p += 11) {
        wcase c = {.N = p[0], .H = p[1], .W = p[2], .C = p[3], .O = p[4], .pt = p[5],
                   .pl = p[6], .pb = p[7], .pr = p[8], .act = (qlite_activation)p[9],
                   .bias = p[10] != 0};
        c.OH = c.H + c.pt + c.pb - 2;
        c.OW = c.W + c.pl + c.pr - 2;
        const size_t nx = (size_t)(c.N * c.H * c.W * c.C), nw = (size_t)(c.O * 9 * c.C);
        const size_t ny = (size_t)(c.N * c.OH * c.OW * c.O);
        assert_true(ox + nx <= gx.count && ow + nw <= gw.count && oy + ny <= gy.count);
        assert_true(!c.bias || ob + (size_t)c.O <= gb.count);
        const float *x = X + ox, *b = c.bias ? B + ob : NULL, *want = Y + oy;
        const uint16_t *w16 = W + ow;
        float *w32 = kc_alloc(nw);
        for (size_t k = 0; k < nw; k++) w32[k] = qlite_fp16_to_fp32(w16[k]);
        /* the direct path's bound, absolute: |x|, |w| <= 1 */
        const double mag9c = (double)(9 * c.C + 2) * FLT_EPSILON * (double)(9 * c.C);
        char what[160];
        snprintf(what, sizeof what, "case %zu: N%lld %lldx%lld C%lld O%lld pads %lld,%lld,%lld,%lld act %d%s",
                 i, (long long)c.N, (long long)c.H, (long long)c.W, (long long)c.C,
                 (long long)c.O, (long long)c.pt, (long long)c.pl, (long long)c.pb,
                 (long long)c.pr, (int)c.act, c.bias ? " bias" : "");

        qlite_op_test_tensor r32_1, r32_2, r16_1, r16_2, rvar, rexact;
        assert_qlite_ok(run_wino(&c, x, w32, false, true, b, 1, 0, &r32_1));
        assert_qlite_ok(run_wino(&c, x, w32, false, true, b, 2, 0, &r32_2));
        assert_qlite_ok(run_wino(&c, x, w16, true, true, b, 1, 0, &r16_1));
        assert_qlite_ok(run_wino(&c, x, w16, true, true, b, 2, 0, &r16_2));
        assert_qlite_ok(run_wino(&c, x, w32, false, false, b, 2, 0, &rvar));
        assert_qlite_ok(run_wino(&c, x, w32, false, true, b, 2, QLITE_INTERP_EXACT_CONV,
                                 &rexact));
        /* the chunked form (U made whole, tiles in chunks of 6) */
        qlite_op_test_tensor rch;
        qlite_wino_set_mode(QLITE_WINO_FORCE_CHUNKED);
        assert_qlite_ok(run_wino(&c, x, w16, true, true, b, 2, 0, &rch));
        /* the panel form (U made per group of 32 output channels, threads
         * split the groups) */
        qlite_op_test_tensor rp1, rp2;
        qlite_wino_set_mode(QLITE_WINO_FORCE_PANEL);
        assert_qlite_ok(run_wino(&c, x, w32, false, true, b, 1, 0, &rp1));
        assert_qlite_ok(run_wino(&c, x, w16, true, true, b, 2, 0, &rp2));
        qlite_wino_set_mode(QLITE_WINO_FORCE);
        assert_int_equal(r32_1.out_bytes, ny * sizeof(float));
        double e = check_rel(what, r32_1.out, want, ny, S[i], WINO_RTOL);
        if (e > worst) worst = e;
        /* the same U from float16 weights (widened exactly), from weights
         * computed by the graph, and for any thread count: the same bits */
        kc_check_equal(what, r32_1.out, r32_2.out, ny);
        kc_check_equal(what, r32_1.out, r16_1.out, ny);
        kc_check_equal(what, r32_1.out, r16_2.out, ny);
        kc_check_equal(what, r32_1.out, rvar.out, ny);
        /* chunks: the same bits on the fast GEMM (one chain per output
         * whatever M); gemm_f32's micro-kernels take other paths for a
         * chunk's fewer rows, so there only the golden tolerance */
        if (qlite_gemm_f32_o16_fast())
            kc_check_equal(what, r32_1.out, rch.out, ny);
        else
            check_rel(what, rch.out, want, ny, S[i], WINO_RTOL);
        /* panels: the golden tolerance, the same bits for float16 weights
         * on 2 threads, and on the fast GEMM the other forms' bits */
        e = check_rel(what, rp1.out, want, ny, S[i], WINO_RTOL);
        if (e > worst) worst = e;
        kc_check_equal(what, rp1.out, rp2.out, ny);
        if (qlite_gemm_f32_o16_fast()) kc_check_equal(what, r32_1.out, rp1.out, ny);
        /* the flag: the direct path, within its summation bound */
        check_rel(what, rexact.out, want, ny, S[i] > 1.0 ? S[i] : 1.0, mag9c);
        differs += memcmp(r32_1.out, rexact.out, ny * sizeof(float)) != 0;
        qlite_op_test_free(1, &r32_1);
        qlite_op_test_free(1, &r32_2);
        qlite_op_test_free(1, &r16_1);
        qlite_op_test_free(1, &r16_2);
        qlite_op_test_free(1, &rvar);
        qlite_op_test_free(1, &rch);
        qlite_op_test_free(1, &rp1);
        qlite_op_test_free(1, &rp2);
        qlite_op_test_free(1, &rexact);
        free(w32);
        ox += nx, ow += nw, oy += ny, ob += c.bias ? (size_t)c.O : 0;
    }
    qlite_wino_set_mode(QLITE_WINO_RULE);
    /* every array used up: the walk matches the generator */
    assert_int_equal(ox, gx.count);
    assert_int_equal(ow, gw.count);
    assert_int_equal(oy, gy.count);
    assert_int_equal(ob, gb.count);
    /* Winograd really ran: its rounding differs from the direct sums */
    assert_true(differs > ncases / 2);
    print_message("winograd: %zu cases, largest error %.3g of max |output|, %zu differ from "
                  "the direct path\n",
                  ncases, worst, differs);
    qlite_golden_free(&gp);
    qlite_golden_free(&gx);
    qlite_golden_free(&gw);
    qlite_golden_free(&gb);
    qlite_golden_free(&gy);
    qlite_golden_free(&gs);
    qlite_q8_set_feature_cap(~0u);
}

static void test_winograd_golden(void **state) {
    (void)state;
    golden_cases(~0u);
}

static void test_winograd_golden_below_avx512(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    golden_cases(QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX2);
}

/* Every feature capped: the baseline transforms and gemm_f32's portable
 * O16 micro-kernels. */
static void test_winograd_golden_portable(void **state) {
    (void)state;
    golden_cases(0);
}

/* QLITE_INTERP_REFERENCE_ONLY implies exact convolutions; unknown flags are
 * still refused by the interpreter (KNOWN_FLAGS includes the new bit). */
static void test_winograd_flags(void **state) {
    (void)state;
    const wcase c = {.N = 1, .H = 9, .W = 9, .C = 16, .O = 16, .pt = 1, .pl = 1, .pb = 1,
                     .pr = 1, .act = QLITE_ACT_NONE, .bias = false, .OH = 9, .OW = 9};
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 7);
    float *x = kc_alloc(9 * 9 * 16), *w = kc_alloc(16 * 9 * 16);
    kc_fill(&r, x, 9 * 9 * 16, -1.0f, 1.0f);
    kc_fill(&r, w, 16 * 9 * 16, -1.0f, 1.0f);
    qlite_wino_set_mode(QLITE_WINO_FORCE);
    qlite_op_test_tensor ref, exact, wino;
    assert_qlite_ok(run_wino(&c, x, w, false, true, NULL, 1, QLITE_INTERP_REFERENCE_ONLY, &ref));
    assert_qlite_ok(run_wino(&c, x, w, false, true, NULL, 1, QLITE_INTERP_EXACT_CONV, &exact));
    assert_qlite_ok(run_wino(&c, x, w, false, true, NULL, 1, 0, &wino));
    qlite_wino_set_mode(QLITE_WINO_RULE);
    /* reference: the plain loops' bits differ from Winograd's somewhere */
    assert_true(memcmp(ref.out, wino.out, 81 * 16 * sizeof(float)) != 0);
    assert_true(memcmp(exact.out, wino.out, 81 * 16 * sizeof(float)) != 0);
    qlite_op_test_free(1, &ref);
    qlite_op_test_free(1, &exact);
    qlite_op_test_free(1, &wino);
    free(x);
    free(w);
}

/* The size rule at ResNet-18's 3x3 layers (conv_2d_winograd.c): the fused
 * form up to C x O = 128 x 128; above, the panel form where V and M of all
 * tiles fit in 2 MiB with at least 16 tiles (14x14x256: 16 tiles,
 * 16 x 36 x 512 x 4 = 1.18 MB), not 7x7x512 (4 tiles) or 14x14x512
 * (2.4 MB); no 1x1-like or nearly empty tiles. */
static void test_winograd_rule(void **state) {
    (void)state;
    qlite_wino_set_mode(QLITE_WINO_RULE);
    assert_true(qlite_wino_wanted(56, 56, 64, 64));
    assert_true(qlite_wino_wanted(28, 28, 128, 128));
    assert_true(qlite_wino_wanted(14, 14, 256, 256));
    assert_true(qlite_wino_wanted(14, 14, 144, 160));
    assert_false(qlite_wino_wanted(7, 7, 512, 512));
    assert_false(qlite_wino_wanted(14, 14, 512, 512));
    assert_false(qlite_wino_wanted(12, 12, 256, 256)); /* 9 tiles */
    assert_false(qlite_wino_wanted(14, 14, 8, 256));
    assert_false(qlite_wino_wanted(5, 5, 64, 64)); /* 25 pixels in 4 tiles */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winograd_golden),
        cmocka_unit_test(test_winograd_golden_below_avx512),
        cmocka_unit_test(test_winograd_golden_portable),
        cmocka_unit_test(test_winograd_flags),
        cmocka_unit_test(test_winograd_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
