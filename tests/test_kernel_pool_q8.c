/*
 * test_kernel_pool_q8.c — MAX_POOL_2D, AVERAGE_POOL_2D (docs/quantization.md
 * §4.5) and RESIZE (interpreter/kernels/resize_q8.c) on int8 / uint8 with
 * equal parameters in and out:
 *
 * (a) pooling exact against the rule written here (max of the codes; the
 *     average as rdiv(sum + padding taps * zx, count), half away from zero,
 *     with the float kernel's divisor), ceil_mode, count_include_pad,
 *     dilations, fused activations, the optimized (separable) path with 1
 *     and 2 threads and the tap-by-tap reference; accuracy: the average
 *     is within 0.5 LSB of the float average of the dequantized window;
 * (b) nearest resize equal to the float kernel's choice of pixel (the same
 *     bytes), linear within 0.5 + 2^-10 * 255 LSB of the float kernel on the
 *     dequantized input, and both exact against the rule written here;
 * (c) the NumPy golden cases (sets pool, resize);
 * (d) error paths: different parameters in and out, dtype mismatch.
 */
#include "kernel_nn_golden.h"
#include "kernels/gemm_q8.h"

typedef struct pool_case {
    qlite_dtype dt;
    int64_t N, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr;
    bool ceil, incl, is_max;
    qlite_activation act;
} pool_case;

static int64_t osize(int64_t n, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1,
                     bool ceil) {
    const int64_t span = n + p0 + p1 - ((k - 1) * d + 1);
    int64_t o = (ceil ? (span + s - 1) / s : span / s) + 1;
    if (ceil && o > 1 && (o - 1) * s >= n + p0) o--;
    return o;
}

static qlite_status run_pool(const pool_case *c, const void *x, const q8_params *p, int threads,
                             uint32_t flags, qlite_op_test_tensor *out) {
    const int64_t OH = osize(c->H, c->KH, c->sh, c->dh, c->pt, c->pb, c->ceil);
    const int64_t OW = osize(c->W, c->KW, c->sw, c->dw, c->pl, c->pr, c->ceil);
    qlite_op_test_tensor in = q8_tensor(c->dt, 4, (int64_t[]){c->N, c->H, c->W, c->C}, x, p);
    *out = q8_tensor(c->dt, 4, (int64_t[]){c->N, OH, OW, c->C}, NULL, p);
    qlite_op_options o = qopts(QLITE_OPTIONS_POOL_2D);
    qlite_pool2d_options *po = &o.u.pool2d;
    po->filter_h = (int32_t)c->KH, po->filter_w = (int32_t)c->KW;
    po->stride_h = (int32_t)c->sh, po->stride_w = (int32_t)c->sw;
    po->dilation_h = (int32_t)c->dh, po->dilation_w = (int32_t)c->dw;
    po->pad_top = (int32_t)c->pt, po->pad_left = (int32_t)c->pl;
    po->pad_bottom = (int32_t)c->pb, po->pad_right = (int32_t)c->pr;
    po->ceil_mode = c->ceil;
    po->count_include_pad = c->incl;
    po->activation = c->act;
    return qlite_op_test_run(c->is_max ? QLITE_OP_MAX_POOL_2D : QLITE_OP_AVERAGE_POOL_2D, &o, 1,
                             &in, 1, out, threads, flags);
}

static void check_pool(const pool_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C);
    uint8_t *x = malloc(nx);
    assert_non_null(x);
    nnq_fill_codes(&r, x, nx, c->dt);
    q8_params p;
    q8_params_set(&p, q8_rand_scale(&r, -6.0f, -1.0f), q8_rand_zp(&r, c->dt));
    const int64_t OH = osize(c->H, c->KH, c->sh, c->dh, c->pt, c->pb, c->ceil);
    const int64_t OW = osize(c->W, c->KW, c->sw, c->dw, c->pl, c->pr, c->ceil);
    int32_t lo, hi, qlo, qhi;
    q8_ref_act(c->act, p.scale, p.zp, c->dt, &lo, &hi);
    q8_range(c->dt, &qlo, &qhi);
    const size_t ny = (size_t)(c->N * OH * OW * c->C);
    int32_t *want = malloc(ny * sizeof(int32_t));
    assert_non_null(want);
    size_t k = 0;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t ch = 0; ch < c->C; ch++) {
                    int64_t mx = qlo, sum = 0, inside = 0, cy = 0, cx = 0;
                    double real = 0.0;
                    for (int64_t ky = 0; ky < c->KH; ky++) {
                        const int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                        cy +=
                            c->incl ? (iy >= -c->pt && iy < c->H + c->pb) : (iy >= 0 && iy < c->H);
                    }
                    for (int64_t kx = 0; kx < c->KW; kx++) {
                        const int64_t ix = ox * c->sw - c->pl + kx * c->dw;
                        cx +=
                            c->incl ? (ix >= -c->pl && ix < c->W + c->pr) : (ix >= 0 && ix < c->W);
                    }
                    for (int64_t ky = 0; ky < c->KH; ky++)
                        for (int64_t kx = 0; kx < c->KW; kx++) {
                            const int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                            const int64_t ix = ox * c->sw - c->pl + kx * c->dw;
                            if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W) continue;
                            const int32_t v = q8_get(
                                x, (size_t)(((n * c->H + iy) * c->W + ix) * c->C + ch), c->dt);
                            mx = v > mx ? v : mx;
                            sum += v;
                            real += (double)p.scale * (v - p.zp);
                            inside++;
                        }
                    int64_t v;
                    const int64_t cnt = cy * cx;
                    if (c->is_max) {
                        v = mx;
                    } else if (cnt == 0) {
                        v = p.zp;
                    } else {
                        const int64_t t = sum + (cnt - inside) * p.zp;
                        v = t >= 0 ? (t + cnt / 2) / cnt : -((-t + cnt / 2) / cnt);
                        /* within 0.5 LSB of the float average (before the clamps) */
                        const double favg = real / (double)cnt;
                        assert_true(q8_err_lsb((int32_t)v, p.scale, p.zp, favg) <= 0.5 + 1e-9);
                    }
                    want[k++] = (int32_t)q8_clamp(v, lo, hi);
                }
    /* optimized (separable) with 1 and 2 threads, and the tap-by-tap reference */
    for (int run = 0; run < 3; run++) {
        qlite_op_test_tensor out;
        assert_qlite_ok(run_pool(c, x, &p, run == 1 ? 2 : 1,
                                 run == 2 ? QLITE_INTERP_REFERENCE_ONLY : 0, &out));
        assert_int_equal(out.out_bytes, ny);
        nnq_expect_codes(c->is_max ? "max pool" : "average pool", out.out, want, ny, c->dt);
        qlite_op_test_free(1, &out);
    }
    free(want);
    free(x);
}

static void test_pool_exact(void **state) {
    (void)state;
    const qlite_dtype I8 = QLITE_DTYPE_INT8, U8 = QLITE_DTYPE_UINT8;
    const pool_case cases[] = {
        {I8, 1, 28, 28, 6, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false, false, true, QLITE_ACT_NONE},
        {U8, 1, 10, 10, 16, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false, false, true, QLITE_ACT_RELU},
        {I8, 2, 7, 6, 300, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false, true, QLITE_ACT_RELU6},
        {I8, 1, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, true, false, QLITE_ACT_NONE},
        {U8, 1, 6, 7, 20, 3, 2, 2, 2, 1, 1, 1, 0, 1, 1, true, false, false, QLITE_ACT_RELU},
        {I8, 1, 4, 4, 33, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, false, false, false, QLITE_ACT_NONE},
        {U8, 1, 5, 5, 4, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, true, true, false, QLITE_ACT_NONE},
        {I8, 1, 8, 8, 5, 2, 3, 1, 2, 2, 2, 1, 2, 0, 1, false, false, false, QLITE_ACT_RELU6},
        {I8, 1, 7, 7, 64, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, false, false, false, QLITE_ACT_NONE},
        /* channel counts around the NEON steps (16 bytes, 4 sums) */
        {U8, 1, 9, 9, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false, false, QLITE_ACT_NONE},
        {I8, 1, 9, 9, 15, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, true, QLITE_ACT_RELU},
        {U8, 1, 6, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, true, false, QLITE_ACT_NONE},
        {I8, 2, 5, 7, 35, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false, true, QLITE_ACT_NONE},
        {U8, 1, 8, 8, 32, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, true, false, true, QLITE_ACT_RELU6},
        {U8, 1, 7, 7, 48, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, false, false, false, QLITE_ACT_RELU6},
        /* max: channel counts and row widths around the AVX-512 steps (64 bytes), ResNet-18's
         * 3x3/2 pad 1 pool, windows of more than 16 columns, bottom rows outside the input */
        {I8, 1, 20, 112, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, true, QLITE_ACT_NONE},
        {U8, 1, 9, 9, 63, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, true, QLITE_ACT_RELU},
        {I8, 1, 9, 5, 65, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false, true, QLITE_ACT_RELU6},
        {U8, 2, 6, 7, 128, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false, false, true, QLITE_ACT_NONE},
        {I8, 1, 5, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false, true, QLITE_ACT_NONE},
        {I8, 1, 4, 20, 130, 2, 18, 1, 1, 1, 1, 0, 0, 0, 0, false, false, true, QLITE_ACT_NONE},
        {U8, 1, 5, 19, 70, 5, 17, 2, 1, 1, 1, 2, 1, 2, 1, false, false, true, QLITE_ACT_RELU},
        {I8, 1, 6, 6, 64, 4, 4, 3, 3, 2, 2, 1, 1, 4, 4, true, false, true, QLITE_ACT_NONE},
    };
    for (size_t i = 0; i < Q8_COUNT(cases); i++) check_pool(&cases[i], 70 + i);
}

/* The same with the CPU features capped to none: the portable step 2 (ARM64
 * runs its NEON step 2 in test_pool_exact). */
static void test_pool_exact_portable(void **state) {
    qlite_q8_set_feature_cap(0);
    test_pool_exact(state);
    qlite_q8_set_feature_cap(~0u);
}

/* ---- resize ---- */

typedef struct resize_case {
    qlite_dtype dt;
    int64_t N, H, W, C, OH, OW;
    qlite_resize_mode mode;
    qlite_coord_transform ct;
} resize_case;

static qlite_status run_resize(const resize_case *c, const void *x, qlite_dtype dt,
                               const q8_params *p, qlite_op_test_tensor *out) {
    qlite_op_test_tensor in = q8_tensor(dt, 4, (int64_t[]){c->N, c->H, c->W, c->C}, x, p);
    *out = q8_tensor(dt, 4, (int64_t[]){c->N, c->OH, c->OW, c->C}, NULL, p);
    qlite_op_options o = qopts(QLITE_OPTIONS_RESIZE);
    o.u.resize.mode = c->mode;
    o.u.resize.coordinate_transform = c->ct;
    o.u.resize.nearest_mode = QLITE_NEAREST_ROUND_PREFER_FLOOR;
    o.u.resize.out_h = (int32_t)c->OH;
    o.u.resize.out_w = (int32_t)c->OW;
    return qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, out, 1, 0);
}

static void check_resize(const resize_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C);
    const size_t ny = (size_t)(c->N * c->OH * c->OW * c->C);
    uint8_t *x = malloc(nx);
    float *xf = malloc(nx * sizeof(float));
    assert_true(x && xf);
    nnq_fill_codes(&r, x, nx, c->dt);
    q8_params p;
    q8_params_set(&p, q8_rand_scale(&r, -6.0f, -1.0f), q8_rand_zp(&r, c->dt));
    for (size_t i = 0; i < nx; i++) xf[i] = p.scale * (float)(q8_get(x, i, c->dt) - p.zp);
    qlite_op_test_tensor out, fout;
    assert_qlite_ok(run_resize(c, x, c->dt, &p, &out));
    assert_qlite_ok(run_resize(c, xf, QLITE_DTYPE_FLOAT32, NULL, &fout));
    assert_int_equal(out.out_bytes, ny);
    const float *yf = fout.out;
    for (size_t i = 0; i < ny; i++) {
        const int32_t q = q8_get(out.out, i, c->dt);
        const double err = q8_err_lsb(q, p.scale, p.zp, (double)yf[i]);
        if (c->mode == QLITE_RESIZE_NEAREST) {
            /* the same pixel: its dequantized value, bit for bit */
            if (p.scale * (float)(q - p.zp) != yf[i])
                fail_msg("nearest: element %zu differs from the float kernel", i);
        } else if (err > 0.5 + 255.0 / 1024.0 + 1e-3) {
            fail_msg("linear: element %zu is %d, %.3f LSB from the float kernel's %g", i, q, err,
                     (double)yf[i]);
        }
    }
    qlite_op_test_free(1, &out);
    qlite_op_test_free(1, &fout);
    free(x);
    free(xf);
}

static void test_resize(void **state) {
    (void)state;
    const qlite_dtype I8 = QLITE_DTYPE_INT8, U8 = QLITE_DTYPE_UINT8;
    const resize_case cases[] = {
        {I8, 1, 4, 4, 3, 8, 8, QLITE_RESIZE_LINEAR, QLITE_COORD_HALF_PIXEL},
        {U8, 1, 5, 3, 17, 7, 9, QLITE_RESIZE_LINEAR, QLITE_COORD_ALIGN_CORNERS},
        {I8, 2, 3, 4, 5, 6, 2, QLITE_RESIZE_LINEAR, QLITE_COORD_ASYMMETRIC},
        {U8, 1, 6, 6, 4, 3, 3, QLITE_RESIZE_LINEAR, QLITE_COORD_PYTORCH_HALF_PIXEL},
        {I8, 1, 3, 3, 8, 6, 7, QLITE_RESIZE_NEAREST, QLITE_COORD_ASYMMETRIC},
        {U8, 1, 4, 5, 2, 9, 10, QLITE_RESIZE_NEAREST, QLITE_COORD_HALF_PIXEL},
        {I8, 1, 7, 7, 16, 14, 14, QLITE_RESIZE_NEAREST, QLITE_COORD_TF_HALF_PIXEL_FOR_NN},
    };
    for (size_t i = 0; i < Q8_COUNT(cases); i++) check_resize(&cases[i], 90 + i);
}

/* ONNX test_resize_downsample_scales_linear_align_corners in int8: x = 1..8
 * as [1,2,4,1], scales 0.6 -> [1,1,2,1]; the suite expects {1, 3.142857}
 * (the transform divides by 4 * 0.6 - 1 = 1.4, the resized length from the
 * scale, not by 2 - 1). With scale 1/7, zero point 0 the codes are 7..56 and
 * the expected values are codes 7 and round(3.142857 * 7) = 22. */
static void test_resize_onnx_scales_align_corners(void **state) {
    (void)state;
    const int8_t x[8] = {7, 14, 21, 28, 35, 42, 49, 56};
    q8_params p;
    q8_params_set(&p, 1.0f / 7.0f, 0);
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 2, 4, 1}, x, &p);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 1, 2, 1}, NULL, &p);
    qlite_op_options o = qopts(QLITE_OPTIONS_RESIZE);
    o.u.resize.mode = QLITE_RESIZE_LINEAR;
    o.u.resize.coordinate_transform = QLITE_COORD_ALIGN_CORNERS;
    o.u.resize.scale_h = o.u.resize.scale_w = 0.6f;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &out, 1, 0));
    assert_int_equal(out.out_bytes, 2);
    const int8_t *y = out.out;
    assert_int_equal(y[0], 7);
    assert_int_equal(y[1], 22);
    qlite_op_test_free(1, &out);
}

/* ---- golden ---- */

static void test_pool_golden(void **state) {
    (void)state;
    nng_set g;
    nng_load("pool", &g);
    for (size_t i = 0; i < g.n; i++) {
        const int32_t *m = nng_meta(&g, i), *p = m + NNG_P0;
        pool_case c = {q8_case_dtype(m[NNG_DTYPE]), p[0], p[1], p[2], p[3], p[4], p[5], p[6],
                       p[7], 1, 1, p[8], p[9], p[10], p[11], p[12] != 0, p[13] != 0, p[14] != 0,
                       (qlite_activation)m[NNG_ACT]};
        void *x = nng_codes(&g.x, (size_t)m[NNG_OFF_X], (size_t)(c.N * c.H * c.W * c.C), c.dt);
        q8_params qp;
        q8_params_set(&qp, nng_f(&g, i)[0], m[NNG_ZX]);
        qlite_op_test_tensor out;
        assert_qlite_ok(run_pool(&c, x, &qp, 1, 0, &out));
        nng_expect("pool", i, &g, out.out, c.dt, out.out_bytes);
        qlite_op_test_free(1, &out);
        free(x);
    }
    nng_free(&g);
    nng_load("resize", &g);
    /* the script's transforms 0..3: half_pixel, pytorch_half_pixel, align_corners, asymmetric */
    const qlite_coord_transform ct[4] = {QLITE_COORD_HALF_PIXEL, QLITE_COORD_PYTORCH_HALF_PIXEL,
                                         QLITE_COORD_ALIGN_CORNERS, QLITE_COORD_ASYMMETRIC};
    for (size_t i = 0; i < g.n; i++) {
        const int32_t *m = nng_meta(&g, i), *p = m + NNG_P0;
        resize_case c = {q8_case_dtype(m[NNG_DTYPE]), p[0], p[1], p[2], p[3], p[4], p[5],
                         p[6] ? QLITE_RESIZE_LINEAR : QLITE_RESIZE_NEAREST, ct[p[7]]};
        void *x = nng_codes(&g.x, (size_t)m[NNG_OFF_X], (size_t)(c.N * c.H * c.W * c.C), c.dt);
        q8_params qp;
        q8_params_set(&qp, nng_f(&g, i)[0], m[NNG_ZX]);
        qlite_op_test_tensor out;
        assert_qlite_ok(run_resize(&c, x, c.dt, &qp, &out));
        nng_expect("resize", i, &g, out.out, c.dt, out.out_bytes);
        qlite_op_test_free(1, &out);
        free(x);
    }
    nng_free(&g);
}

static void test_pool_errors(void **state) {
    (void)state;
    uint8_t x[16] = {0};
    q8_params p1, p2;
    q8_params_set(&p1, 0.1f, 3);
    q8_params_set(&p2, 0.2f, 3);
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 2, 2, 4}, x, &p1);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 1, 1, 4}, NULL, &p2);
    qlite_op_options o = qopts(QLITE_OPTIONS_POOL_2D);
    o.u.pool2d.filter_h = o.u.pool2d.filter_w = o.u.pool2d.stride_h = o.u.pool2d.stride_w = 2;
    o.u.pool2d.dilation_h = o.u.pool2d.dilation_w = 1;
    const qlite_status st = qlite_op_test_run(QLITE_OP_MAX_POOL_2D, &o, 1, &in, 1, &out, 1, 0);
    assert_true(st == QLITE_ERR_UNSUPPORTED_OP || st == QLITE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qlite_last_error(), "0.2"));
    out = q8_tensor(QLITE_DTYPE_UINT8, 4, (int64_t[]){1, 1, 1, 4}, NULL, &p1);
    assert_int_equal(qlite_op_test_run(QLITE_OP_AVERAGE_POOL_2D, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    out = q8_tensor(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 1, 1, 4}, NULL, &p1);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_AVERAGE_POOL_2D, &o, 1, &in, 1, &out, 1, 0));
    qlite_op_test_free(1, &out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_exact),
        cmocka_unit_test(test_pool_exact_portable),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_resize_onnx_scales_align_corners),
        cmocka_unit_test(test_pool_golden),
        cmocka_unit_test(test_pool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
