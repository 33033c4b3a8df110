/*
 * test_quant.c — quantization parameter selection and multiplier splitting.
 * Expected values are derived by hand from the definitions in
 * docs/quantization.md (and TFLite's int8 spec); requantization itself is
 * checked against gemmlowp in tests/gemmlowp/.
 */
#include <float.h>
#include <math.h>

#include "quant.h"
#include "support.h"

static void test_multiplier_exact_powers(void **state) {
    (void)state;
    int32_t m, s;
    assert_qlite_ok(qlite_quantize_multiplier(0.5, &m, &s));
    assert_int_equal(m, 1 << 30);
    assert_int_equal(s, 0);
    assert_qlite_ok(qlite_quantize_multiplier(1.0, &m, &s));
    assert_int_equal(m, 1 << 30);
    assert_int_equal(s, 1);
    assert_qlite_ok(qlite_quantize_multiplier(0.75, &m, &s));
    assert_int_equal(m, (1 << 30) + (1 << 29));
    assert_int_equal(s, 0);
    assert_qlite_ok(qlite_quantize_multiplier(1.0 / 1024, &m, &s));
    assert_int_equal(m, 1 << 30);
    assert_int_equal(s, -9);
    /* just below 1: frac rounds up to 1.0 -> renormalized */
    assert_qlite_ok(qlite_quantize_multiplier(1.0 - 1e-12, &m, &s));
    assert_int_equal(m, 1 << 30);
    assert_int_equal(s, 1);
    assert_qlite_ok(qlite_quantize_multiplier(0.0, &m, &s));
    assert_int_equal(m, 0);
    assert_int_equal(s, 0);
    assert_int_equal(qlite_quantize_multiplier(-1.0, &m, &s), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_quantize_multiplier(NAN, &m, &s), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_quantize_multiplier(INFINITY, &m, &s), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_quantize_multiplier(2e9, &m, &s), QLITE_ERR_INVALID_ARGUMENT);
}

static void test_multiplier_precision(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 7);
    for (int i = 0; i < 100000; i++) {
        double mreal = ldexp(0.5 + 0.5 * qlite_test_rng_float(&r, 0, 1),
                             (int)(qlite_test_rng_u32(&r) % 50) - 30);
        int32_t m, s;
        assert_qlite_ok(qlite_quantize_multiplier(mreal, &m, &s));
        assert_true(m >= (1 << 30));
        assert_true(s >= -31 && s <= 30);
        double back = ldexp((double)m, s - 31);
        /* half a unit of M0's last place */
        assert_true(fabs(back - mreal) <= ldexp(1.0, s - 32));
    }
}

static void test_requantize_examples(void **state) {
    (void)state;
    int32_t m, s;
    /* 100 * 0.5 = 50; 101 * 0.5 = 50.5 -> 51; -101 * 0.5 = -50.5 -> -50 (srdhm
     * rounds ties toward +infinity, and with shift 0 no second rounding) */
    assert_qlite_ok(qlite_quantize_multiplier(0.5, &m, &s));
    assert_int_equal(qlite_requantize(100, m, s), 50);
    assert_int_equal(qlite_requantize(101, m, s), 51);
    assert_int_equal(qlite_requantize(-101, m, s), -50);
    /* m = 0.25 = 2^30 * 2^(-1-31): srdhm halves exactly (ties at .5 of the
     * first step only for odd x), then rdbpot(., 1) rounds half away from 0:
     * 3 -> srdhm 2 (1.5 tie toward +inf) -> 1;  -3 -> srdhm -1 -> -1 (-0.5 away);
     * 2 -> 1 -> 1 (0.5 away from zero);  -2 -> -1 -> -1;  1 -> 1 (0.5 tie up) -> 1 */
    assert_qlite_ok(qlite_quantize_multiplier(0.25, &m, &s));
    assert_int_equal(qlite_requantize(3, m, s), 1);
    assert_int_equal(qlite_requantize(-3, m, s), -1);
    assert_int_equal(qlite_requantize(2, m, s), 1);
    assert_int_equal(qlite_requantize(-2, m, s), -1);
    assert_int_equal(qlite_requantize(1, m, s), 1);
    /* m = 4.0 = 2^30 * 2^(3-31): x * 2^3 saturates to int32 *before* the
     * multiply by 0.5 (documented; gemmlowp/TFLite leave that case undefined) */
    assert_qlite_ok(qlite_quantize_multiplier(4.0, &m, &s));
    assert_int_equal(qlite_requantize(1000, m, s), 4000);
    assert_int_equal(qlite_requantize(INT32_MAX, m, s), 1 << 30);
    assert_int_equal(qlite_requantize(INT32_MIN, m, s), -(1 << 30));
    assert_int_equal(qlite_requantize(0, m, s), 0);
}

static void test_round_half_even(void **state) {
    (void)state;
    const float in[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 2.5000002f, 1e9f, -3.0f};
    const float out[] = {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, -2.0f, 0.0f, 3.0f, 1e9f, -3.0f};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_true(qlite_round_half_even(in[i]) == out[i]);
}

static void test_choose_asymmetric(void **state) {
    (void)state;
    float scale;
    int32_t zp;
    /* [-1, 1] int8: scale = float(2/255); zp = qmin - rmin/scale with that float
     * scale: -128 + 1/0.0078431377 = -0.5000075 -> -1 */
    assert_qlite_ok(qlite_choose_asymmetric(-1.0f, 1.0f, QLITE_DTYPE_INT8, &scale, &zp));
    assert_true(scale == (float)(2.0 / 255.0));
    assert_int_equal(zp, (int32_t)lrint(-128.0 + 1.0 / (double)scale));
    assert_int_equal(zp, -1);
    /* [0, 6] int8 (ReLU6): zp = -128, scale 6/255 */
    assert_qlite_ok(qlite_choose_asymmetric(0.0f, 6.0f, QLITE_DTYPE_INT8, &scale, &zp));
    assert_int_equal(zp, -128);
    assert_true(fabsf(scale - 6.0f / 255.0f) < 1e-9f);
    /* positive-only range is widened to include 0 */
    assert_qlite_ok(qlite_choose_asymmetric(2.0f, 4.0f, QLITE_DTYPE_UINT8, &scale, &zp));
    assert_int_equal(zp, 0);
    assert_true(fabsf(scale - 4.0f / 255.0f) < 1e-9f);
    /* negative-only -> zp at qmax */
    assert_qlite_ok(qlite_choose_asymmetric(-5.1f, -1.0f, QLITE_DTYPE_INT8, &scale, &zp));
    assert_int_equal(zp, 127);
    /* real 0 is exactly representable: dequantize(zp) == 0 */
    assert_qlite_ok(qlite_choose_asymmetric(-0.3f, 7.7f, QLITE_DTYPE_INT8, &scale, &zp));
    assert_true(scale * (float)(zp - zp) == 0.0f);
    assert_int_equal(zp, -128 + (int)lrintf(0.3f / scale));
    /* degenerate */
    assert_qlite_ok(qlite_choose_asymmetric(0.0f, 0.0f, QLITE_DTYPE_INT8, &scale, &zp));
    assert_true(scale == 1.0f);
    assert_int_equal(zp, 0);
    assert_int_equal(qlite_choose_asymmetric(NAN, 1.0f, QLITE_DTYPE_INT8, &scale, &zp),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_choose_asymmetric(-INFINITY, 1.0f, QLITE_DTYPE_INT8, &scale, &zp),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_choose_asymmetric(1.0f, -1.0f, QLITE_DTYPE_INT8, &scale, &zp),
                     QLITE_ERR_INVALID_ARGUMENT);
}

static void test_choose_symmetric_and_quantize(void **state) {
    (void)state;
    float scale;
    assert_qlite_ok(qlite_choose_symmetric(2.54f, QLITE_DTYPE_INT8, &scale));
    assert_true(fabsf(scale - 0.02f) < 1e-8f);
    assert_int_equal(qlite_quantize_value(2.54f, scale, 0, -127, 127), 127);
    assert_int_equal(qlite_quantize_value(-2.54f, scale, 0, -127, 127), -127);
    assert_int_equal(qlite_quantize_value(0.01f, scale, 0, -127, 127), 0);  /* 0.5 -> 0 (even) */
    assert_int_equal(qlite_quantize_value(0.03f, scale, 0, -127, 127), 2);  /* 1.5 -> 2 */
    assert_int_equal(qlite_quantize_value(100.0f, scale, 0, -127, 127), 127);
    assert_int_equal(qlite_quantize_value(NAN, scale, 0, -127, 127), -127);
    assert_qlite_ok(qlite_choose_symmetric(0.0f, QLITE_DTYPE_INT8, &scale));
    assert_true(scale == 1.0f);
    assert_qlite_ok(qlite_choose_symmetric(7.0f, QLITE_DTYPE_INT4, &scale));
    assert_true(scale == 1.0f);
    assert_int_equal(qlite_choose_symmetric(1.0f, QLITE_DTYPE_UINT8, &scale), QLITE_ERR_DTYPE);
}

static void test_activation_qrange(void **state) {
    (void)state;
    int32_t lo, hi;
    /* scale 0.1, zp -10: relu6 -> [q(0), q(6)] = [-10, 50] */
    qlite_activation_qrange(QLITE_ACT_RELU6, 0.1f, -10, QLITE_DTYPE_INT8, &lo, &hi);
    assert_int_equal(lo, -10);
    assert_int_equal(hi, 50);
    qlite_activation_qrange(QLITE_ACT_RELU, 0.1f, -10, QLITE_DTYPE_INT8, &lo, &hi);
    assert_int_equal(lo, -10);
    assert_int_equal(hi, 127);
    qlite_activation_qrange(QLITE_ACT_NONE, 0.1f, -10, QLITE_DTYPE_UINT8, &lo, &hi);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 255);
    /* relu6 with a range smaller than 6 keeps the dtype bound */
    qlite_activation_qrange(QLITE_ACT_RELU6, 0.01f, 0, QLITE_DTYPE_INT8, &lo, &hi);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 127);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiplier_exact_powers),
        cmocka_unit_test(test_multiplier_precision),
        cmocka_unit_test(test_requantize_examples),
        cmocka_unit_test(test_round_half_even),
        cmocka_unit_test(test_choose_asymmetric),
        cmocka_unit_test(test_choose_symmetric_and_quantize),
        cmocka_unit_test(test_activation_qrange),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
