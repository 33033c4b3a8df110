/*
 * test_kernel_pool.c — MAX_POOL_2D / AVERAGE_POOL_2D float32 against a
 * double-precision computation written here: max must be exact; average
 * within the summation bound of kernel_f32_check.h (KH*KW terms, plus one
 * rounding for the division). Optimized vs reference, 1 vs 2 threads
 * identical, ceil_mode (including the dropped last window), count_include_pad,
 * dilation, padding, strides > filter, batch > 1, error paths.
 */
#include "kernel_f32_check.h"
#include "kernels/gemm_q8.h"

typedef struct pool_case {
    bool is_max;
    int64_t N, H, W, C;
    int32_t KH, KW, sh, sw, dh, dw, pt, pl, pb, pr;
    bool ceil_mode, include_pad;
    qlite_activation act;
} pool_case;

/* Output size, written out from the ONNX/PyTorch rule. */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1,
                        bool ceil_mode) {
    const int64_t eff = (k - 1) * d + 1, span = in + p0 + p1 - eff;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p0) o--;
    return o;
}

static void pool_expect(const pool_case *c, const float *x, double *want, double *mag,
                        int64_t OH, int64_t OW) {
    float lo, hi;
    kc_act_range(c->act, &lo, &hi);
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t ch = 0; ch < c->C; ch++) {
                    double best = -INFINITY, sum = 0, m = 0;
                    int64_t cnt = 0;
                    for (int64_t ky = 0; ky < c->KH; ky++)
                        for (int64_t kx = 0; kx < c->KW; kx++) {
                            const int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                            const int64_t ix = ox * c->sw - c->pl + kx * c->dw;
                            const bool in_x = iy >= 0 && iy < c->H && ix >= 0 && ix < c->W;
                            const bool in_pad = iy >= -c->pt && iy < c->H + c->pb &&
                                                ix >= -c->pl && ix < c->W + c->pr;
                            if (c->include_pad ? in_pad : in_x) cnt++;
                            if (!in_x) continue;
                            const double v = x[((n * c->H + iy) * c->W + ix) * c->C + ch];
                            best = v > best ? v : best;
                            sum += v;
                            m += fabs(v);
                        }
                    double r = c->is_max ? best : (cnt ? sum / (double)cnt : 0.0);
                    r = r < lo ? lo : (r > hi ? hi : r);
                    const size_t i = (size_t)(((n * OH + oy) * OW + ox) * c->C + ch);
                    want[i] = r;
                    mag[i] = c->is_max ? 0.0 : (cnt ? m / (double)cnt : 0.0);
                }
}

static qlite_status run_pool(const pool_case *c, const float *x, int64_t OH, int64_t OW,
                             int threads, uint32_t flags, qlite_op_test_tensor *out) {
    qlite_op_test_tensor in = kc_tensor(4, (int64_t[]){c->N, c->H, c->W, c->C}, x, false);
    *out = kc_tensor(4, (int64_t[]){c->N, OH, OW, c->C}, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_POOL_2D);
    o.u.pool2d = (qlite_pool2d_options){.filter_h = c->KH, .filter_w = c->KW,
                                        .stride_h = c->sh, .stride_w = c->sw,
                                        .dilation_h = c->dh, .dilation_w = c->dw,
                                        .pad_top = c->pt, .pad_left = c->pl,
                                        .pad_bottom = c->pb, .pad_right = c->pr,
                                        .ceil_mode = c->ceil_mode,
                                        .count_include_pad = c->include_pad,
                                        .activation = c->act};
    return qlite_op_test_run(c->is_max ? QLITE_OP_MAX_POOL_2D : QLITE_OP_AVERAGE_POOL_2D, &o, 1,
                             &in, 1, out, threads, flags);
}

static void check_case(const pool_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const int64_t OH = pool_out(c->H, c->KH, c->sh, c->dh, c->pt, c->pb, c->ceil_mode);
    const int64_t OW = pool_out(c->W, c->KW, c->sw, c->dw, c->pl, c->pr, c->ceil_mode);
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C), ny = (size_t)(c->N * OH * OW * c->C);
    float *x = kc_alloc(nx);
    kc_fill(&r, x, nx, -2.0f, 2.0f);
    double *want = kc_alloc_d(ny), *mag = kc_alloc_d(ny);
    pool_expect(c, x, want, mag, OH, OW);
    qlite_op_test_tensor o1, o2, oref;
    assert_qlite_ok(run_pool(c, x, OH, OW, 1, 0, &o1));
    assert_qlite_ok(run_pool(c, x, OH, OW, 2, 0, &o2));
    assert_qlite_ok(run_pool(c, x, OH, OW, 1, KC_REF_ONLY, &oref));
    char what[160];
    snprintf(what, sizeof what, "%s H%lld W%lld C%lld k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d ceil%d inc%d",
             c->is_max ? "max" : "avg", (long long)c->H, (long long)c->W, (long long)c->C, c->KH,
             c->KW, c->sh, c->sw, c->dh, c->dw, c->pt, c->pl, c->pb, c->pr, c->ceil_mode,
             c->include_pad);
    const double terms = (double)(c->KH * c->KW) + 1.0;
    kc_check_sum(what, o1.out, want, mag, ny, terms);
    kc_check_sum(what, oref.out, want, mag, ny, terms);
    kc_check_equal(what, o1.out, o2.out, ny);
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &oref);
    free(x);
    free(want);
    free(mag);
}

#define P(mx, N, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, ceil, inc, act)                  \
    {mx, N, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, ceil, inc, act}

static void test_pool_cases(void **state) {
    (void)state;
    static const pool_case cases[] = {
        P(true, 1, 28, 28, 6, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_NONE),
        P(false, 1, 10, 10, 16, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_NONE),
        P(true, 2, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, QLITE_ACT_RELU),
        P(false, 2, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, true, QLITE_ACT_NONE),
        P(false, 2, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, QLITE_ACT_NONE),
        /* ceil mode: 6 -> (6-3+2)/2 = 3 windows; the extra one is partial */
        P(true, 1, 6, 6, 2, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, true, false, QLITE_ACT_NONE),
        P(false, 1, 6, 6, 2, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, true, false, QLITE_ACT_NONE),
        P(false, 1, 6, 6, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE),
        /* ceil mode whose last window would start in the padding: dropped */
        P(true, 1, 5, 5, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, true, false, QLITE_ACT_NONE),
        P(false, 1, 5, 5, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, true, true, QLITE_ACT_NONE),
        /* strides > filter, dilation, asymmetric pads */
        P(true, 1, 11, 11, 4, 2, 2, 4, 3, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_NONE),
        P(true, 1, 9, 8, 5, 3, 2, 1, 1, 2, 3, 2, 1, 0, 1, false, false, QLITE_ACT_NONE),
        P(false, 1, 9, 8, 5, 3, 2, 1, 1, 2, 3, 2, 1, 0, 1, false, true, QLITE_ACT_RELU6),
        /* global pooling as a full-size window */
        P(false, 2, 7, 7, 33, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_NONE),
        P(true, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_NONE),
        /* padding as large as the filter: windows entirely in padding */
        P(false, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, false, false, QLITE_ACT_NONE),
        P(false, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, false, true, QLITE_ACT_NONE),
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_case(&cases[i], 40 + i);
}

static void test_pool_random(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 0x9001);
    for (int t = 0; t < 60; t++) {
        pool_case c;
        memset(&c, 0, sizeof c);
        c.is_max = t & 1;
        c.N = 1 + qlite_test_rng_u32(&r) % 2;
        c.H = 1 + qlite_test_rng_u32(&r) % 10;
        c.W = 1 + qlite_test_rng_u32(&r) % 10;
        c.C = 1 + qlite_test_rng_u32(&r) % 20;
        c.KH = 1 + (int32_t)(qlite_test_rng_u32(&r) % 4);
        c.KW = 1 + (int32_t)(qlite_test_rng_u32(&r) % 4);
        c.sh = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.sw = 1 + (int32_t)(qlite_test_rng_u32(&r) % 3);
        c.dh = 1 + (int32_t)(qlite_test_rng_u32(&r) % 2);
        c.dw = 1 + (int32_t)(qlite_test_rng_u32(&r) % 2);
        c.pt = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KH);
        c.pl = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KW);
        c.pb = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KH);
        c.pr = (int32_t)(qlite_test_rng_u32(&r) % (uint32_t)c.KW);
        c.ceil_mode = qlite_test_rng_u32(&r) & 1;
        c.include_pad = qlite_test_rng_u32(&r) & 1;
        while (c.H + c.pt + c.pb < (c.KH - 1) * c.dh + 1) c.H++;
        while (c.W + c.pl + c.pr < (c.KW - 1) * c.dw + 1) c.W++;
        check_case(&c, 9000 + (uint64_t)t);
    }
}

/* The x86 row kernels (AVX-512: 16 channels a vector, AVX2: 8, four vectors
 * a step, masked tails) at each ISA level, skipped where the CPU lacks it:
 * channels around the vector widths and four of them, both pools, padding,
 * strides, ceil mode, windows of 64 and 81 taps. */
static void pool_sweep(unsigned cap) {
    static const int64_t Cs[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 63, 65, 96, 130};
    qlite_q8_set_feature_cap(cap);
    for (size_t i = 0; i < KC_COUNT(Cs); i++) {
        const int64_t C = Cs[i];
        const pool_case cases[] = {
            P(true, 1, 9, 9, C, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, QLITE_ACT_NONE),
            P(false, 2, 6, 7, C, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, true, false, QLITE_ACT_RELU6),
            P(false, 1, 7, 5, C, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, true, QLITE_ACT_NONE),
            P(true, 1, 5, 6, C, 2, 3, 1, 2, 2, 1, 0, 1, 1, 0, true, false, QLITE_ACT_RELU),
            /* 81 taps: more than the 64 the rows list per pixel (the tap-by-tap loop) */
            P(true, 1, 9, 9, C, 9, 9, 1, 1, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_NONE),
            P(false, 1, 10, 9, C, 9, 9, 1, 1, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_NONE),
            /* exactly 64 taps inside */
            P(true, 1, 8, 8, C, 8, 8, 1, 1, 1, 1, 0, 0, 0, 0, false, false, QLITE_ACT_RELU6),
        };
        for (size_t k = 0; k < KC_COUNT(cases); k++) check_case(&cases[k], 600 + i * 8 + k);
    }
    qlite_q8_set_feature_cap(~0u);
}

static void test_pool_avx512(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) skip();
    pool_sweep(QLITE_Q8_F_AVX512 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX2);
}

static void test_pool_avx2(void **state) {
    (void)state;
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_AVX2)) skip();
    pool_sweep(QLITE_Q8_F_AVX2);
}

static void test_pool_portable(void **state) {
    (void)state;
    pool_sweep(0);
}

static void test_pool_errors(void **state) {
    (void)state;
    float x[16] = {0};
    qlite_op_test_tensor in = kc_tensor(4, (int64_t[]){1, 2, 2, 4}, x, false), out;
    qlite_op_options o = kc_options(QLITE_OPTIONS_POOL_2D);
    o.u.pool2d.filter_h = o.u.pool2d.filter_w = 3; /* larger than the input, no padding */
    out = kc_tensor(4, (int64_t[]){1, 1, 1, 4}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_MAX_POOL_2D, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    o.u.pool2d.filter_h = o.u.pool2d.filter_w = 0; /* empty filter */
    assert_int_equal(qlite_op_test_run(QLITE_OP_AVERAGE_POOL_2D, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    o.u.pool2d.filter_h = o.u.pool2d.filter_w = 2;
    in = kc_tensor(3, (int64_t[]){2, 2, 4}, x, false); /* rank 3 */
    assert_int_equal(qlite_op_test_run(QLITE_OP_MAX_POOL_2D, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in = kc_tensor(4, (int64_t[]){1, 2, 2, 4}, x, false);
    in.dtype = QLITE_DTYPE_INT32;
    out.dtype = QLITE_DTYPE_INT32;
    assert_int_equal(qlite_op_test_run(QLITE_OP_MAX_POOL_2D, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    in.dtype = QLITE_DTYPE_FLOAT32;
    out.dtype = QLITE_DTYPE_FLOAT32;
    out.shape[3] = 5; /* declared output disagrees */
    assert_int_equal(qlite_op_test_run(QLITE_OP_MAX_POOL_2D, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_cases),
        cmocka_unit_test(test_pool_random),
        cmocka_unit_test(test_pool_avx512),
        cmocka_unit_test(test_pool_avx2),
        cmocka_unit_test(test_pool_portable),
        cmocka_unit_test(test_pool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
