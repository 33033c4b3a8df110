/*
 * test_kernel_resize.c — RESIZE float32 (ONNX semantics, NHWC, H and W)
 * against a computation written here from the ONNX Resize formulas: every
 * coordinate transform with nearest (every rounding mode) and linear, up- and
 * down-sampling, sizes given or derived from scales, batch > 1; optimized vs
 * reference; 1 vs 2 threads identical; errors.
 * Tolerance: nearest copies values (exact); linear is two lerps of values
 * in [-1, 1] computed in float against double: 1e-6 absolute (a few ulps of
 * the inputs' magnitude).
 */
#include "kernel_f32_check.h"

typedef struct resize_case {
    qlite_resize_mode mode;
    qlite_coord_transform ct;
    qlite_nearest_mode nm;
    int64_t N, H, W, C;
    int32_t out_h, out_w; /* 0 = from scale */
    float scale_h, scale_w;
} resize_case;

static double coord(const resize_case *c, int64_t o, int64_t in, double out, double s) {
    switch (c->ct) {
    case QLITE_COORD_HALF_PIXEL: return (o + 0.5) / s - 0.5;
    case QLITE_COORD_PYTORCH_HALF_PIXEL: return out > 1 ? (o + 0.5) / s - 0.5 : 0.0;
    case QLITE_COORD_ALIGN_CORNERS: return out == 1 ? 0.0 : o * (in - 1.0) / (out - 1.0);
    case QLITE_COORD_ASYMMETRIC: return o / s;
    default: return (o + 0.5) / s;
    }
}

static int64_t clampi(int64_t v, int64_t n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); }

static int64_t nearest(const resize_case *c, double x, int64_t n) {
    double f = floor(x), r;
    if (c->nm == QLITE_NEAREST_FLOOR) r = f;
    else if (c->nm == QLITE_NEAREST_CEIL) r = ceil(x);
    else if (x - f == 0.5) r = c->nm == QLITE_NEAREST_ROUND_PREFER_FLOOR ? f : f + 1;
    else r = x - f < 0.5 ? f : f + 1;
    return clampi((int64_t)r, n);
}

static void check_case(const resize_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const int64_t OH = c->out_h ? c->out_h : (int64_t)floor(c->H * (double)c->scale_h);
    const int64_t OW = c->out_w ? c->out_w : (int64_t)floor(c->W * (double)c->scale_w);
    const double sh = c->scale_h > 0 ? c->scale_h : (double)OH / c->H;
    const double sw = c->scale_w > 0 ? c->scale_w : (double)OW / c->W;
    const size_t nx = (size_t)(c->N * c->H * c->W * c->C), ny = (size_t)(c->N * OH * OW * c->C);
    float *x = kc_alloc(nx), *want = kc_alloc(ny);
    kc_fill(&r, x, nx, -1.0f, 1.0f);
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t ch = 0; ch < c->C; ch++) {
                    /* ONNX: the resized length is in * scale when scales are given */
                    const double ly0 = c->scale_h > 0 ? c->H * sh : (double)OH;
                    const double lx0 = c->scale_w > 0 ? c->W * sw : (double)OW;
                    const double cy = coord(c, oy, c->H, ly0, sh), cx = coord(c, ox, c->W, lx0, sw);
#define AT(yy, xx) ((double)x[((n * c->H + (yy)) * c->W + (xx)) * c->C + ch])
                    double v;
                    if (c->mode == QLITE_RESIZE_NEAREST) {
                        v = AT(nearest(c, cy, c->H), nearest(c, cx, c->W));
                    } else {
                        const int64_t y0 = (int64_t)floor(cy), x0 = (int64_t)floor(cx);
                        const double ly = cy - y0, lx = cx - x0;
                        const int64_t ya = clampi(y0, c->H), yb = clampi(y0 + 1, c->H);
                        const int64_t xa = clampi(x0, c->W), xb = clampi(x0 + 1, c->W);
                        v = (1 - ly) * ((1 - lx) * AT(ya, xa) + lx * AT(ya, xb)) +
                            ly * ((1 - lx) * AT(yb, xa) + lx * AT(yb, xb));
                    }
#undef AT
                    want[((n * OH + oy) * OW + ox) * c->C + ch] = (float)v;
                }
    qlite_op_options o = kc_options(QLITE_OPTIONS_RESIZE);
    o.u.resize.mode = c->mode;
    o.u.resize.coordinate_transform = c->ct;
    o.u.resize.nearest_mode = c->nm;
    o.u.resize.out_h = c->out_h;
    o.u.resize.out_w = c->out_w;
    o.u.resize.scale_h = c->scale_h;
    o.u.resize.scale_w = c->scale_w;
    qlite_op_test_tensor in = kc_tensor(4, (int64_t[]){c->N, c->H, c->W, c->C}, x, false);
    qlite_op_test_tensor o1 = kc_tensor(4, (int64_t[]){c->N, OH, OW, c->C}, NULL, false);
    qlite_op_test_tensor o2 = o1, oref = o1;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &o1, 1, 0));
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &o2, 2, 0));
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &oref, 1, KC_REF_ONLY));
    char what[96];
    snprintf(what, sizeof what, "resize mode %d ct %d nm %d %lldx%lld -> %lldx%lld", c->mode,
             c->ct, c->nm, (long long)c->H, (long long)c->W, (long long)OH, (long long)OW);
    const double tol = c->mode == QLITE_RESIZE_NEAREST ? 0.0 : 1e-6;
    kc_check_close(what, o1.out, want, ny, tol, 0.0);
    kc_check_close(what, oref.out, want, ny, tol, 0.0);
    kc_check_equal(what, o1.out, o2.out, ny);
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &oref);
    free(x);
    free(want);
}

static void test_resize_all_modes(void **state) {
    (void)state;
    /* sizes: up x2, up non-integer, down, mixed, to one pixel, by scale */
    static const int32_t sizes[][4] = {{4, 5, 8, 10}, {3, 4, 7, 9}, {9, 8, 4, 3}, {5, 5, 1, 7},
                                       {6, 3, 2, 6}};
    uint64_t seed = 1;
    for (int mode = 0; mode < 2; mode++)
        for (int ct = 0; ct < QLITE_COORD_COUNT; ct++)
            for (int nm = 0; nm < (mode == 0 ? QLITE_NEAREST_COUNT : 1); nm++)
                for (size_t s = 0; s < KC_COUNT(sizes); s++) {
                    resize_case c = {(qlite_resize_mode)mode, (qlite_coord_transform)ct,
                                     (qlite_nearest_mode)nm, 2, sizes[s][0], sizes[s][1], 3,
                                     sizes[s][2], sizes[s][3], 0, 0};
                    check_case(&c, seed++);
                }
}

static void test_resize_scales(void **state) {
    (void)state;
    /* ONNX "scales" input: output = floor(in * scale), transform uses the scale */
    resize_case a = {QLITE_RESIZE_LINEAR, QLITE_COORD_HALF_PIXEL, 0, 1, 4, 6, 5, 0, 0, 2.5f, 0.6f};
    resize_case b = {QLITE_RESIZE_NEAREST, QLITE_COORD_ASYMMETRIC, QLITE_NEAREST_FLOOR, 1, 3, 3, 2,
                     0, 0, 2.0f, 2.0f};
    resize_case c = {QLITE_RESIZE_NEAREST, QLITE_COORD_TF_HALF_PIXEL_FOR_NN,
                     QLITE_NEAREST_ROUND_PREFER_CEIL, 2, 5, 7, 17, 0, 0, 0.7f, 1.3f};
    check_case(&a, 501);
    check_case(&b, 502);
    check_case(&c, 503);
    resize_case d = {QLITE_RESIZE_LINEAR, QLITE_COORD_ALIGN_CORNERS, 0, 1, 2, 4, 1, 0, 0, 0.6f, 0.6f};
    check_case(&d, 504);
    /* ONNX test_resize_downsample_scales_linear_align_corners: 2x4 by 0.6 ->
     * 1x2, the transform divides by 4 * 0.6 - 1 = 1.4, not by 2 - 1 */
    const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    qlite_op_options o = kc_options(QLITE_OPTIONS_RESIZE);
    o.u.resize.mode = QLITE_RESIZE_LINEAR;
    o.u.resize.coordinate_transform = QLITE_COORD_ALIGN_CORNERS;
    o.u.resize.scale_h = o.u.resize.scale_w = 0.6f;
    qlite_op_test_tensor in = kc_tensor(4, (int64_t[]){1, 2, 4, 1}, x, false);
    qlite_op_test_tensor out = kc_tensor(4, (int64_t[]){1, 1, 2, 1}, NULL, false);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &out, 1, 0));
    const float want[2] = {1.0f, 3.142857f}; /* the ONNX suite's expected output */
    kc_check_close("onnx align_corners scales", out.out, want, 2, 1e-5, 0.0);
    qlite_op_test_free(1, &out);
}

static void test_resize_errors(void **state) {
    (void)state;
    float x[8] = {0};
    qlite_op_options o = kc_options(QLITE_OPTIONS_RESIZE);
    qlite_op_test_tensor in = kc_tensor(4, (int64_t[]){1, 2, 2, 2}, x, false);
    qlite_op_test_tensor out = kc_tensor(4, (int64_t[]){1, 4, 4, 2}, NULL, false);
    /* neither sizes nor scales */
    assert_int_equal(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    o.u.resize.out_h = o.u.resize.out_w = 4;
    o.u.resize.mode = (qlite_resize_mode)7;
    assert_int_equal(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.resize.mode = QLITE_RESIZE_LINEAR;
    out.shape[1] = 5; /* declared shape disagrees */
    assert_int_equal(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in = kc_tensor(3, (int64_t[]){2, 2, 2}, x, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_RESIZE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_all_modes),
        cmocka_unit_test(test_resize_scales),
        cmocka_unit_test(test_resize_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
