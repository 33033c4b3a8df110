/*
 * test_kernel_quant.c — QUANTIZE against NumPy (np.rint = round half to even,
 * float32 division, clip; make_golden_b.py) for int8 and uint8 with exact
 * ties; per-channel quantize/dequantize against formulas written here
 * (large tensors also at 2 and 3 threads, split at any element);
 * DEQUANTIZE of int8/uint8/int32 and float16; hostile quantization
 * parameters; requantization refused until the integer kernels exist.
 * Integer outputs are compared exactly; dequantized floats exactly too (one
 * subtraction in integers, one float multiply).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/golden.h"
#include "support/op_check.h"
#include "support.h"

static void check_quant_golden(const char *xname, qlite_dtype dt, float scale, int32_t zp,
                               const char *want_name) {
    qlite_golden x, want;
    assert_true(qlite_golden_load(xname, &x));
    assert_true(qlite_golden_load(want_name, &want));
    qlite_quant q = {.count = 1, .scale = &scale, .zero_point = &zp};
    qlite_op_test_tensor in = qt_f32(x.rank, x.dims, x.data);
    qlite_op_test_tensor out = qt(dt, x.rank, x.dims, NULL);
    out.quant = &q;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    for (size_t i = 0; i < x.count; i++) {
        int got = dt == QLITE_DTYPE_INT8 ? ((int8_t *)out.out)[i] : ((uint8_t *)out.out)[i];
        int w = dt == QLITE_DTYPE_INT8 ? ((int8_t *)want.data)[i] : ((uint8_t *)want.data)[i];
        if (got != w)
            fail_msg("%s: x=%.9g -> %d, numpy says %d", want_name, (double)((float *)x.data)[i],
                     got, w);
    }
    qlite_op_test_free(1, &out);
    qlite_golden_free(&x);
    qlite_golden_free(&want);
}

static void test_quantize_golden(void **state) {
    (void)state;
    check_quant_golden("b_quant_x1", QLITE_DTYPE_INT8, 0.5f, -3, "b_quant_x1_i8");
    check_quant_golden("b_quant_x1", QLITE_DTYPE_UINT8, 0.5f, 128, "b_quant_x1_u8");
    check_quant_golden("b_quant_x2", QLITE_DTYPE_INT8, 0.0373f, 5, "b_quant_x2_i8");
    check_quant_golden("b_quant_x2", QLITE_DTYPE_UINT8, 0.0373f, 100, "b_quant_x2_u8");
}

static void test_quantize_special(void **state) {
    (void)state;
    /* ties by hand: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2; NaN -> zp */
    const float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, NAN, INFINITY, -INFINITY};
    float scale = 1.0f;
    int32_t zp = 10;
    qlite_quant q = {.count = 1, .scale = &scale, .zero_point = &zp};
    qlite_op_test_tensor in = qt_f32(1, (int64_t[]){8}, x);
    qlite_op_test_tensor out = qt(QLITE_DTYPE_INT8, 1, (int64_t[]){8}, NULL);
    out.quant = &q;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    const int8_t want[8] = {10, 12, 12, 10, 8, 10, 127, -128};
    assert_memory_equal(out.out, want, sizeof want);
    qlite_op_test_free(1, &out);
}

static void test_per_channel(void **state) {
    (void)state;
    /* [2, 3, 4] quantized along axis 1 (3 channels) and back */
    float x[24], scales[3] = {0.1f, 0.25f, 0.03f};
    int32_t zps[3] = {0, -5, 7};
    for (int i = 0; i < 24; i++) x[i] = (float)(i - 12) * 0.37f;
    qlite_quant q = {.count = 3, .axis = 1, .scale = scales, .zero_point = zps};
    qlite_op_test_tensor in = qt_f32(3, (int64_t[]){2, 3, 4}, x);
    qlite_op_test_tensor out = qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 3, 4}, NULL);
    out.quant = &q;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    const int8_t *y = out.out;
    for (int i = 0; i < 24; i++) {
        int c = (i / 4) % 3;
        double v = nearbyint((double)(x[i] / scales[c])) + zps[c];
        v = v < -128 ? -128 : (v > 127 ? 127 : v);
        assert_int_equal(y[i], (int)v);
    }
    /* dequantize per channel: exact (q - zp) * scale */
    qlite_op_test_tensor din = qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 3, 4}, y);
    din.quant = &q;
    qlite_op_test_tensor dout = qt_f32(3, (int64_t[]){2, 3, 4}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_DEQUANTIZE, NULL, 1, &din, 1, &dout, 1, 0));
    const float *z = dout.out;
    for (int i = 0; i < 24; i++) {
        int c = (i / 4) % 3;
        assert_true(z[i] == (float)(y[i] - zps[c]) * scales[c]);
        /* and the round trip is within half a step */
        assert_true(fabsf(z[i] - x[i]) <= 0.5f * scales[c] + 1e-6f ||
                    y[i] == 127 || y[i] == -128);
    }
    qlite_op_test_free(1, &dout);
    qlite_op_test_free(1, &out);
}

/* Large tensors are split between threads at any element: per tensor (uint8) and per
 * channel with short and long channel blocks, 1 / 2 / 3 threads, against the formula
 * (x / s rounded half to even, + zp, clipped; float32 division as NumPy's). */
static void test_quantize_threads(void **state) {
    (void)state;
    const int64_t shapes[3][3] = {{1, 1, 150001}, {5, 7, 3001}, {1001, 37, 3}};
    for (int si = 0; si < 3; si++)
        for (int t = 1; t <= 3; t++) {
            const int64_t *d = shapes[si];
            const size_t n = (size_t)(d[0] * d[1] * d[2]), C = (size_t)d[1];
            float *x = malloc(n * sizeof(float));
            assert_non_null(x);
            for (size_t i = 0; i < n; i++)
                x[i] = (float)((int64_t)(i * 7919 % 2001) - 1000) * 0.013f;
            float scales[37];
            int32_t zps[37];
            for (size_t c = 0; c < C; c++) {
                scales[c] = 0.02f + 0.01f * (float)c;
                zps[c] = si == 0 ? 100 : (int32_t)(c % 9) - 4;
            }
            const bool u8 = si == 0;
            qlite_quant q = {.count = (uint32_t)(si == 0 ? 1 : C), .axis = 1, .scale = scales,
                             .zero_point = zps};
            qlite_op_test_tensor in = qt_f32(3, d, x);
            qlite_op_test_tensor out = qt(u8 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8, 3, d, NULL);
            out.quant = &q;
            assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, t, 0));
            for (size_t i = 0; i < n; i++) {
                const size_t c = si == 0 ? 0 : i / (size_t)d[2] % C;
                double v = nearbyint((double)(x[i] / scales[c])) + zps[c];
                const double lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
                v = v < lo ? lo : (v > hi ? hi : v);
                const int got = u8 ? ((const uint8_t *)out.out)[i] : ((const int8_t *)out.out)[i];
                assert_int_equal(got, (int)v);
            }
            qlite_op_test_free(1, &out);
            free(x);
        }
}

static void test_dequantize(void **state) {
    (void)state;
    const uint8_t u[4] = {0, 128, 255, 7};
    float scale = 0.5f;
    int32_t zp = 128;
    qlite_quant q = {.count = 1, .scale = &scale, .zero_point = &zp};
    qlite_op_test_tensor in = qt(QLITE_DTYPE_UINT8, 1, (int64_t[]){4}, u);
    in.quant = &q;
    qlite_op_test_tensor out = qt_f32(1, (int64_t[]){4}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_DEQUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    const float wu[4] = {-64.0f, 0.0f, 63.5f, -60.5f};
    assert_memory_equal(out.out, wu, sizeof wu);
    qlite_op_test_free(1, &out);
    /* int32 (biases) with extreme values: the subtraction must not overflow */
    const int32_t b[3] = {INT32_MAX, INT32_MIN, 12345};
    float s32 = 1e-6f;
    int32_t z32 = -100;
    qlite_quant q32 = {.count = 1, .scale = &s32, .zero_point = &z32};
    in = qt(QLITE_DTYPE_INT32, 1, (int64_t[]){3}, b);
    in.quant = &q32;
    out = qt_f32(1, (int64_t[]){3}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_DEQUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    const float *y = out.out;
    assert_true(y[0] == (float)(2147483647.0 + 100.0) * s32);
    assert_true(y[1] == (float)(-2147483648.0 + 100.0) * s32);
    assert_true(y[2] == (float)(12345 + 100) * s32);
    qlite_op_test_free(1, &out);
    /* float16 -> float32 */
    uint16_t h[3] = {0x3c00, 0xc000, 0x7c00};
    in = qt(QLITE_DTYPE_FLOAT16, 1, (int64_t[]){3}, h);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_DEQUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    y = out.out;
    assert_true(y[0] == 1.0f && y[1] == -2.0f && isinf(y[2]));
    qlite_op_test_free(1, &out);
}

static void test_errors(void **state) {
    (void)state;
    float x[4] = {0};
    int8_t q8[4] = {0};
    float scale = 0.5f, bad_scale = 0.0f, nan_scale = NAN;
    int32_t zp = 0, bad_zp = 200;
    qlite_quant ok = {.count = 1, .scale = &scale, .zero_point = &zp};
    qlite_quant s0 = {.count = 1, .scale = &bad_scale, .zero_point = &zp};
    qlite_quant sn = {.count = 1, .scale = &nan_scale, .zero_point = &zp};
    qlite_quant zb = {.count = 1, .scale = &scale, .zero_point = &bad_zp};
    float scales2[2] = {1, 1};
    int32_t zps2[2] = {0, 0};
    qlite_quant pc = {.count = 2, .axis = 0, .scale = scales2, .zero_point = zps2};
    qlite_op_test_tensor in = qt_f32(1, (int64_t[]){4}, x);
    qlite_op_test_tensor out = qt(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, NULL);
    const qlite_quant *bad[5] = {NULL, &s0, &sn, &zb, &pc};
    const qlite_status want[5] = {QLITE_ERR_INVALID_ARGUMENT, QLITE_ERR_INVALID_ARGUMENT,
                                  QLITE_ERR_INVALID_ARGUMENT, QLITE_ERR_INVALID_ARGUMENT,
                                  QLITE_ERR_SHAPE};
    for (int k = 0; k < 5; k++) {
        out.quant = bad[k];
        assert_int_equal(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0),
                         want[k]);
        qlite_op_test_tensor din = qt(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, q8);
        din.quant = bad[k];
        qlite_op_test_tensor dout = qt_f32(1, (int64_t[]){4}, NULL);
        assert_int_equal(qlite_op_test_run(QLITE_OP_DEQUANTIZE, NULL, 1, &din, 1, &dout, 1, 0),
                         want[k]);
    }
    /* requantization (int8 in) is per tensor only: a per-channel side is refused */
    out.quant = &ok;
    qlite_op_test_tensor qin = qt(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, q8);
    qin.quant = &pc;
    qin.shape[0] = 2;
    qin.rank = 1;
    out.shape[0] = 2;
    assert_int_equal(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &qin, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    out.shape[0] = 4;
    /* quantize to int16, dequantize from int64: refused */
    out = qt(QLITE_DTYPE_INT16, 1, (int64_t[]){4}, NULL);
    out.quant = &ok;
    assert_int_equal(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    qlite_op_test_tensor din = qt(QLITE_DTYPE_INT64, 1, (int64_t[]){4}, x);
    qlite_op_test_tensor dout = qt_f32(1, (int64_t[]){4}, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_DEQUANTIZE, NULL, 1, &din, 1, &dout, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_golden),
        cmocka_unit_test(test_quantize_special),
        cmocka_unit_test(test_per_channel),
        cmocka_unit_test(test_quantize_threads),
        cmocka_unit_test(test_dequantize),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
