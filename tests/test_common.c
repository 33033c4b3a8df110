/*
 * test_common.c — status strings and fp16 conversion.
 * fp16 is checked exhaustively against the CPU's F16C instructions (an
 * independent implementation) when the machine has them.
 */
#include <math.h>
#include <string.h>

#include "support.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_F16C_TEST 1
static int cpu_has_f16c(void) { /* CPUID.1:ECX bit 29 */
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
__attribute__((target("f16c"))) static float hw_h2f(uint16_t h) {
    return _cvtsh_ss(h);
}
__attribute__((target("f16c"))) static uint16_t hw_f2h(float f) {
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}
#endif

static void test_status_strings(void **state) {
    (void)state;
    assert_string_equal(qlite_status_string(QLITE_OK), "QLITE_OK");
    assert_string_equal(qlite_status_string(QLITE_ERR_CORRUPT), "QLITE_ERR_CORRUPT");
    assert_string_equal(qlite_status_string((qlite_status)999), "QLITE_ERR_UNKNOWN");
    assert_string_equal(qlite_op_name(QLITE_OP_CONV_2D), "CONV_2D");
    assert_string_equal(qlite_op_name(QLITE_OP_SQUARE), "SQUARE");
    assert_string_equal(qlite_op_name((qlite_op_code)-1), "?");
    assert_string_equal(qlite_dtype_name(QLITE_DTYPE_INT4), "int4");
    assert_int_equal(qlite_dtype_bits(QLITE_DTYPE_INT4), 4);
    assert_int_equal(qlite_dtype_bits(QLITE_DTYPE_INT64), 64);
}

static void test_shape_elements(void **state) {
    (void)state;
    assert_int_equal(qlite_shape_elements(3, (int64_t[]){-1, 3, 4}), 12);
    assert_int_equal(qlite_shape_elements(0, NULL), 1);
    assert_int_equal(qlite_shape_elements(2, (int64_t[]){INT64_MAX, 3}), 0);
    assert_int_equal(qlite_shape_elements(1, (int64_t[]){-2}), 0);
}

static void test_fp16_known_values(void **state) {
    (void)state;
    /* Values from the IEEE 754 binary16 definition. */
    assert_int_equal(qlite_fp32_to_fp16(1.0f), 0x3c00);
    assert_int_equal(qlite_fp32_to_fp16(-2.0f), 0xc000);
    assert_int_equal(qlite_fp32_to_fp16(65504.0f), 0x7bff);
    assert_int_equal(qlite_fp32_to_fp16(65520.0f), 0x7c00); /* rounds to inf */
    assert_int_equal(qlite_fp32_to_fp16(5.9604645e-08f), 0x0001);
    assert_int_equal(qlite_fp32_to_fp16(0.0f), 0x0000);
    assert_true(qlite_fp16_to_fp32(0x0001) == 5.9604645e-08f);
    assert_true(qlite_fp16_to_fp32(0x3555) == 0.333251953125f);
    assert_true(isinf(qlite_fp16_to_fp32(0xfc00)));
    assert_true(isnan(qlite_fp16_to_fp32(0x7e00)));
}

static void test_fp16_exhaustive_vs_f16c(void **state) {
    (void)state;
#ifdef HAVE_F16C_TEST
    if (!cpu_has_f16c()) {
        skip();
        return;
    }
    for (uint32_t h = 0; h < 65536; h++) {
        float a = qlite_fp16_to_fp32((uint16_t)h), b = hw_h2f((uint16_t)h);
        if (isnan(b)) {
            assert_true(isnan(a));
            continue;
        }
        uint32_t ba, bb;
        memcpy(&ba, &a, 4);
        memcpy(&bb, &b, 4);
        assert_int_equal(ba, bb);
    }
    /* float -> half: every 2^-8 step of the float bit patterns, plus ties. */
    for (uint64_t x = 0; x < (1ull << 32); x += 251) {
        uint32_t bits = (uint32_t)x;
        float f;
        memcpy(&f, &bits, 4);
        if (isnan(f)) continue;
        assert_int_equal(qlite_fp32_to_fp16(f), hw_f2h(f));
    }
#else
    skip();
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_shape_elements),
        cmocka_unit_test(test_fp16_known_values),
        cmocka_unit_test(test_fp16_exhaustive_vs_f16c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
