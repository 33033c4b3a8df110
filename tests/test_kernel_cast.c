/*
 * test_kernel_cast.c — CAST against NumPy's astype (make_golden_b.py) for
 * in-range float -> int truncation, float32 -> float16 round-half-even with
 * overflow to inf and subnormals, integer wrap-around, float -> bool (NaN is
 * true); against the ONNX rules written out here for what NumPy leaves
 * undefined (out-of-range float -> int saturates, NaN -> 0); round trips
 * between every pair of supported dtypes; and refused combinations.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/golden.h"
#include "support/op_check.h"
#include "support.h"

static qlite_status run_cast(qlite_dtype from, qlite_dtype to, uint32_t rank,
                             const int64_t *dims, const void *x, qlite_op_test_tensor *out) {
    qlite_op_options o = qopts(QLITE_OPTIONS_CAST);
    o.u.cast.to = to;
    qlite_op_test_tensor in = qt(from, rank, dims, x);
    *out = qt(to, rank, dims, NULL);
    return qlite_op_test_run(QLITE_OP_CAST, &o, 1, &in, 1, out, 1, 0);
}

static void check_golden(const char *in_name, qlite_dtype to, const char *want_name) {
    qlite_golden x, want;
    assert_true(qlite_golden_load(in_name, &x));
    assert_true(qlite_golden_load(want_name, &want));
    if (to == QLITE_DTYPE_BOOL) assert_int_equal(want.dtype, QLITE_DTYPE_BOOL);
    else assert_int_equal(want.dtype, to);
    qlite_op_test_tensor out;
    assert_qlite_ok(run_cast(x.dtype, to, x.rank, x.dims, x.data, &out));
    size_t bytes = want.count * (qlite_dtype_bits(to) / 8);
    assert_int_equal(out.out_bytes, bytes);
    if (memcmp(out.out, want.data, bytes) != 0) {
        for (size_t i = 0; i < bytes; i++)
            if (((unsigned char *)out.out)[i] != ((unsigned char *)want.data)[i])
                fail_msg("%s -> %s: byte %zu differs", in_name, want_name, i);
    }
    qlite_op_test_free(1, &out);
    qlite_golden_free(&x);
    qlite_golden_free(&want);
}

static void test_golden(void **state) {
    (void)state;
    check_golden("b_cast_f32_in", QLITE_DTYPE_INT8, "b_cast_f32_to_i8");
    check_golden("b_cast_f32_in", QLITE_DTYPE_INT32, "b_cast_f32_to_i32");
    check_golden("b_cast_f32_in", QLITE_DTYPE_INT64, "b_cast_f32_to_i64");
    check_golden("b_cast_f16_in", QLITE_DTYPE_FLOAT16, "b_cast_f32_to_f16");
    check_golden("b_cast_i32_in", QLITE_DTYPE_INT8, "b_cast_i32_to_i8");
    check_golden("b_cast_i32_in", QLITE_DTYPE_UINT8, "b_cast_i32_to_u8");
    check_golden("b_cast_i32_in", QLITE_DTYPE_INT16, "b_cast_i32_to_i16");
    check_golden("b_cast_i64_in", QLITE_DTYPE_INT32, "b_cast_i64_to_i32");
    check_golden("b_cast_bool_in", QLITE_DTYPE_BOOL, "b_cast_f32_to_bool");
}

static void test_saturation_and_nan(void **state) {
    (void)state;
    /* undefined in ONNX and in C; qlite saturates and maps NaN to 0 */
    const float x[7] = {1e10f, -1e10f, NAN, INFINITY, -INFINITY, 300.7f, -129.5f};
    const int64_t sh[1] = {7};
    qlite_op_test_tensor out;
    assert_qlite_ok(run_cast(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_INT8, 1, sh, x, &out));
    const int8_t w8[7] = {127, -128, 0, 127, -128, 127, -128};
    assert_memory_equal(out.out, w8, sizeof w8);
    qlite_op_test_free(1, &out);
    assert_qlite_ok(run_cast(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_UINT8, 1, sh, x, &out));
    const uint8_t wu8[7] = {255, 0, 0, 255, 0, 255, 0};
    assert_memory_equal(out.out, wu8, sizeof wu8);
    qlite_op_test_free(1, &out);
    assert_qlite_ok(run_cast(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_INT32, 1, sh, x, &out));
    const int32_t w32[7] = {INT32_MAX, INT32_MIN, 0, INT32_MAX, INT32_MIN, 300, -129};
    assert_memory_equal(out.out, w32, sizeof w32);
    qlite_op_test_free(1, &out);
    const float big[3] = {9.3e18f, -9.3e18f, 9.2e18f};
    assert_qlite_ok(run_cast(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_INT64, 1, (int64_t[]){3}, big, &out));
    const int64_t *y64 = out.out;
    assert_true(y64[0] == INT64_MAX && y64[1] == INT64_MIN && y64[2] == (int64_t)9.2e18f);
    qlite_op_test_free(1, &out);
    /* float -> float16 keeps inf and NaN */
    assert_qlite_ok(run_cast(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_FLOAT16, 1, sh, x, &out));
    const uint16_t *h = out.out;
    assert_int_equal(h[0], 0x7c00);
    assert_int_equal(h[1], 0xfc00);
    assert_true((h[2] & 0x7c00) == 0x7c00 && (h[2] & 0x3ff) != 0);
    qlite_op_test_free(1, &out);
}

static void test_round_trips(void **state) {
    (void)state;
    /* small integers survive every cast chain through every dtype */
    const qlite_dtype all[8] = {QLITE_DTYPE_FLOAT32, QLITE_DTYPE_FLOAT16, QLITE_DTYPE_INT8,
                                QLITE_DTYPE_UINT8,   QLITE_DTYPE_INT16,   QLITE_DTYPE_INT32,
                                QLITE_DTYPE_INT64,   QLITE_DTYPE_BOOL};
    const float x[5] = {0.0f, 1.0f, 7.0f, 100.0f, 1.0f};
    const int64_t sh[1] = {5};
    for (int a = 0; a < 8; a++) {
        qlite_op_test_tensor mid, back;
        assert_qlite_ok(run_cast(QLITE_DTYPE_FLOAT32, all[a], 1, sh, x, &mid));
        for (int b = 0; b < 8; b++) {
            qlite_op_test_tensor to_b, fin;
            assert_qlite_ok(run_cast(all[a], all[b], 1, sh, mid.out, &to_b));
            assert_qlite_ok(run_cast(all[b], QLITE_DTYPE_FLOAT32, 1, sh, to_b.out, &fin));
            const float *y = fin.out;
            bool lossy = all[a] == QLITE_DTYPE_BOOL || all[b] == QLITE_DTYPE_BOOL;
            for (int i = 0; i < 5; i++) {
                float want = lossy ? (x[i] != 0.0f) : x[i];
                if (y[i] != want)
                    fail_msg("%s -> %s: %g came back as %g", qlite_dtype_name(all[a]),
                             qlite_dtype_name(all[b]), (double)x[i], (double)y[i]);
            }
            qlite_op_test_free(1, &to_b);
            qlite_op_test_free(1, &fin);
        }
        assert_qlite_ok(run_cast(all[a], QLITE_DTYPE_FLOAT32, 1, sh, mid.out, &back));
        qlite_op_test_free(1, &back);
        qlite_op_test_free(1, &mid);
    }
    /* int64 -> float rounds to nearest; bool input reads any non-zero byte as 1 */
    const int64_t l[2] = {16777217, -3};
    qlite_op_test_tensor out;
    assert_qlite_ok(run_cast(QLITE_DTYPE_INT64, QLITE_DTYPE_FLOAT32, 1, (int64_t[]){2}, l, &out));
    assert_true(((float *)out.out)[0] == 16777216.0f && ((float *)out.out)[1] == -3.0f);
    qlite_op_test_free(1, &out);
    const uint8_t bools[3] = {0, 1, 7};
    assert_qlite_ok(run_cast(QLITE_DTYPE_BOOL, QLITE_DTYPE_INT32, 1, (int64_t[]){3}, bools, &out));
    const int32_t wb[3] = {0, 1, 1};
    assert_memory_equal(out.out, wb, sizeof wb);
    qlite_op_test_free(1, &out);
}

static void test_errors(void **state) {
    (void)state;
    float x[4] = {0};
    const int64_t sh[1] = {4};
    qlite_op_test_tensor out;
    assert_int_equal(run_cast(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_INT4, 1, sh, x, &out),
                     QLITE_ERR_UNSUPPORTED_OP);
    /* options.to disagreeing with the output dtype */
    qlite_op_options o = qopts(QLITE_OPTIONS_CAST);
    o.u.cast.to = QLITE_DTYPE_INT8;
    qlite_op_test_tensor in = qt_f32(1, sh, x);
    out = qt(QLITE_DTYPE_INT32, 1, sh, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CAST, &o, 1, &in, 1, &out, 1, 0), QLITE_ERR_DTYPE);
    o = qopts(QLITE_OPTIONS_PAD);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CAST, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_saturation_and_nan),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
