/*
 * test_kernel_binary.c — ADD SUB MUL DIV POW MINIMUM MAXIMUM PRELU against a
 * scalar reference written here (index arithmetic straight from the numpy
 * broadcasting rule), over every kind of broadcast; fused activations;
 * threads; hostile shapes, dtypes, options; the AVX-512 rows of ADD / SUB /
 * MUL and the portable loops bit for bit against the formula (NaN, inf,
 * -0.0, every activation, lengths around the vector widths).
 * Tolerance: exact, except POW (1e-6 relative: the kernel may use x*x for a
 * constant exponent 2).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "support/golden.h"
#include "support/op_check.h"
#include "support.h"

static float ref_op(qlite_op_code code, float x, float y) {
    switch (code) {
    case QLITE_OP_ADD: return x + y;
    case QLITE_OP_SUB: return x - y;
    case QLITE_OP_MUL: return x * y;
    case QLITE_OP_DIV: return x / y;
    case QLITE_OP_POW: return (float)pow(x, y);
    case QLITE_OP_MINIMUM: return isnan(x) || isnan(y) ? NAN : (x < y ? x : y);
    case QLITE_OP_MAXIMUM: return isnan(x) || isnan(y) ? NAN : (x > y ? x : y);
    case QLITE_OP_PRELU: return x < 0 ? x * y : x;
    default: return NAN;
    }
}

/* Offset in an operand of shape (rank, dims) for output coords (out_rank). */
static size_t bcast_offset(uint32_t rank, const int64_t *dims, uint32_t out_rank,
                           const int64_t *coord) {
    size_t off = 0;
    for (uint32_t i = 0; i < rank; i++) {
        int64_t c = dims[i] == 1 ? 0 : coord[out_rank - rank + i];
        off = off * (size_t)dims[i] + (size_t)c;
    }
    return off;
}

typedef struct shape_pair {
    uint32_t ra;
    int64_t a[QLITE_MAX_RANK];
    uint32_t rb;
    int64_t b[QLITE_MAX_RANK];
} shape_pair;

static const shape_pair pairs[] = {
    {4, {2, 3, 4, 5}, 4, {2, 3, 4, 5}},           /* same shape */
    {4, {1, 5, 6, 8}, 1, {8}},                    /* NHWC + per channel */
    {4, {2, 5, 6, 8}, 4, {1, 1, 1, 8}},           /* per channel, same rank */
    {4, {2, 5, 6, 8}, 4, {2, 5, 6, 1}},           /* per pixel */
    {4, {2, 5, 6, 8}, 4, {2, 1, 1, 8}},           /* SE-block style scale */
    {3, {3, 4, 5}, 0, {0}},                       /* rank-0 scalar b */
    {1, {1}, 3, {3, 4, 5}},                       /* [1] scalar a */
    {3, {3, 1, 5}, 3, {1, 4, 1}},                 /* both broadcast */
    {1, {7}, 3, {2, 3, 7}},                       /* rank mismatch */
    {5, {2, 1, 4, 1, 3}, 5, {1, 3, 1, 2, 1}},     /* alternating */
    {8, {2, 1, 2, 1, 2, 1, 2, 3}, 8, {1, 2, 1, 2, 1, 2, 1, 3}}, /* max rank */
    {2, {0, 4}, 1, {4}},                          /* empty */
    {2, {1, 1}, 2, {1, 1}},                       /* 1x1 */
    {2, {33, 17}, 2, {33, 1}},                    /* odd sizes, column vector */
};

static void fill(qlite_test_rng *rng, float *p, size_t n, qlite_op_code code, bool second) {
    for (size_t i = 0; i < n; i++) {
        float v = qlite_test_rng_float(rng, -4.0f, 4.0f);
        if (code == QLITE_OP_POW && !second) v = fabsf(v) + 0.1f;
        if (code == QLITE_OP_DIV && second && fabsf(v) < 0.1f) v = 0.5f;
        p[i] = v;
    }
}

static void check_case(qlite_op_code code, const shape_pair *p, qlite_activation act,
                       int threads) {
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 1234 + (uint64_t)code);
    size_t na = (size_t)qlite_shape_elements(p->ra, p->a);
    size_t nb = (size_t)qlite_shape_elements(p->rb, p->b);
    float *a = malloc((na + 1) * sizeof *a), *b = malloc((nb + 1) * sizeof *b);
    fill(&rng, a, na, code, false);
    fill(&rng, b, nb, code, true);

    uint32_t ro = p->ra > p->rb ? p->ra : p->rb;
    int64_t od[QLITE_MAX_RANK];
    for (uint32_t i = 0; i < ro; i++) {
        int64_t da = i + p->ra >= ro ? p->a[i + p->ra - ro] : 1;
        int64_t db = i + p->rb >= ro ? p->b[i + p->rb - ro] : 1;
        od[i] = da == 1 ? db : da;
    }
    qlite_op_test_tensor in[2] = {qt_f32(p->ra, p->a, a), qt_f32(p->rb, p->b, b)};
    qlite_op_test_tensor out = qt_f32(ro, od, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_BINARY);
    o.u.binary.activation = act;
    assert_qlite_ok(qlite_op_test_run(code, &o, 2, in, 1, &out, threads, 0));
    size_t n = (size_t)qlite_shape_elements(ro, od);
    assert_int_equal(out.out_bytes, n * sizeof(float));
    const float *y = out.out;
    float lo = act == QLITE_ACT_RELU || act == QLITE_ACT_RELU6 ? 0.0f : -INFINITY;
    float hi = act == QLITE_ACT_RELU6 ? 6.0f : INFINITY;
    int64_t coord[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t r = i;
        for (uint32_t d = ro; d-- > 0;) {
            coord[d] = (int64_t)(r % (size_t)od[d]);
            r /= (size_t)od[d];
        }
        float x = a[bcast_offset(p->ra, p->a, ro, coord)];
        float w = b[bcast_offset(p->rb, p->b, ro, coord)];
        float want = ref_op(code, x, w);
        want = want < lo ? lo : (want > hi ? hi : want);
        if (code == QLITE_OP_POW) {
            if (fabsf(y[i] - want) > 1e-6f * fabsf(want)) fail_msg("pow at %zu", i);
        } else if (y[i] != want) {
            fail_msg("%s case a rank %u b rank %u: element %zu got %g want %g",
                     qlite_op_name(code), p->ra, p->rb, i, (double)y[i], (double)want);
        }
    }
    qlite_op_test_free(1, &out);
    free(a);
    free(b);
}

static const qlite_op_code binary_ops[] = {QLITE_OP_ADD, QLITE_OP_SUB, QLITE_OP_MUL,
                                           QLITE_OP_DIV, QLITE_OP_POW, QLITE_OP_MINIMUM,
                                           QLITE_OP_MAXIMUM};

static void test_broadcast_all_ops(void **state) {
    (void)state;
    for (size_t k = 0; k < QLITE_ARRAY_SIZE(binary_ops); k++)
        for (size_t i = 0; i < QLITE_ARRAY_SIZE(pairs); i++)
            check_case(binary_ops[k], &pairs[i], QLITE_ACT_NONE, 1);
}

static void test_fused_activation(void **state) {
    (void)state;
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(pairs); i++) {
        check_case(QLITE_OP_ADD, &pairs[i], QLITE_ACT_RELU, 1);
        check_case(QLITE_OP_MUL, &pairs[i], QLITE_ACT_RELU6, 1);
    }
}

static void test_threads_match(void **state) {
    (void)state;
    /* large enough to be split; row boundaries fall inside the ranges */
    static const shape_pair big[] = {
        {4, {2, 33, 35, 64}, 1, {64}},
        {3, {3, 171, 257}, 3, {3, 171, 257}},
        {3, {3, 171, 257}, 3, {1, 171, 1}},
        /* split since the cost counts bytes moved (MobileNetV2's 14x14x64 and 28x28x32
         * ADDs, 12-25 Ki elements), rows of 64 / 32 cut inside */
        {4, {1, 14, 14, 64}, 4, {1, 14, 14, 64}},
        {4, {1, 28, 28, 32}, 4, {1, 28, 28, 32}},
        {4, {1, 9, 7, 65}, 1, {65}},
    };
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(big); i++) {
        check_case(QLITE_OP_ADD, &big[i], QLITE_ACT_NONE, 2);
        check_case(QLITE_OP_MAXIMUM, &big[i], QLITE_ACT_NONE, 3);
    }
}

/* Equal floats, or both NaN. */
static bool same_float(float x, float y) { return (isnan(x) && isnan(y)) || x == y; }

/* ADD / SUB / MUL rows (binary.c's AVX-512 rows, 16 lanes, two vectors a step, masked
 * tails; and the portable loops with the CPU features capped to none) against the
 * formula, element by element: lengths 1..70 and around 256 / 1000 in the three row
 * shapes (both vectors, b one value, a one value), operands with NaN, +-inf, -0.0
 * and values beyond the RELU6 range, every fused activation. */
static void test_simd_rows(void **state) {
    (void)state;
    static const qlite_op_code ops[] = {QLITE_OP_ADD, QLITE_OP_SUB, QLITE_OP_MUL};
    static const qlite_activation acts[] = {QLITE_ACT_NONE, QLITE_ACT_RELU, QLITE_ACT_RELU6,
                                            QLITE_ACT_RELU_N1_TO_1};
    static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 7.5f, -7.5f, 6.0f};
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0xB16);
    float *a = malloc(1000 * sizeof *a), *b = malloc(1000 * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    for (int cap = 0; cap < 2; cap++) {
        qlite_q8_set_feature_cap(cap ? 0u : ~0u);
        for (int64_t n = 1; n <= 1000; n = n < 70 ? n + 1 : n == 70 ? 255 : n < 257 ? n + 1
                                                                    : n < 1000 ? 1000 : 1001)
            for (int shape = 0; shape < 3; shape++) {
                const qlite_op_code code = ops[(size_t)(n + shape) % 3];
                const qlite_activation act = acts[(size_t)(n * 3 + shape) % 4];
                for (int64_t i = 0; i < n; i++) {
                    const uint32_t r = qlite_test_rng_u32(&rng);
                    a[i] = r % 9 == 0 ? special[r / 9 % 8] : qlite_test_rng_float(&rng, -8, 8);
                    b[i] = r % 7 == 0 ? special[r / 7 % 8] : qlite_test_rng_float(&rng, -8, 8);
                }
                const int64_t one[1] = {1}, len[1] = {n};
                qlite_op_test_tensor in[2] = {qt_f32(1, shape == 2 ? one : len, a),
                                              qt_f32(1, shape == 1 ? one : len, b)};
                qlite_op_test_tensor out = qt_f32(1, len, NULL);
                qlite_op_options o = qopts(QLITE_OPTIONS_BINARY);
                o.u.binary.activation = act;
                assert_qlite_ok(qlite_op_test_run(code, &o, 2, in, 1, &out, 1, 0));
                const float lo = act == QLITE_ACT_RELU || act == QLITE_ACT_RELU6 ? 0.0f
                                 : act == QLITE_ACT_RELU_N1_TO_1             ? -1.0f
                                                                             : -INFINITY;
                const float hi = act == QLITE_ACT_RELU6 ? 6.0f
                                 : act == QLITE_ACT_RELU_N1_TO_1 ? 1.0f
                                                                 : INFINITY;
                const float *y = out.out;
                for (int64_t i = 0; i < n; i++) {
                    const float x = a[shape == 2 ? 0 : i], w = b[shape == 1 ? 0 : i];
                    float want = ref_op(code, x, w);
                    want = want < lo ? lo : (want > hi ? hi : want);
                    if (!same_float(y[i], want) || signbit(y[i]) != signbit(want))
                        fail_msg("%s n %lld shape %d act %d (%s): element %lld got %g want %g",
                                 qlite_op_name(code), (long long)n, shape, (int)act,
                                 cap ? "portable" : "this CPU's rows",
                                 (long long)i, (double)y[i], (double)want);
                }
                qlite_op_test_free(1, &out);
            }
    }
    qlite_q8_set_feature_cap(~0u);
    free(a);
    free(b);
}

static void test_prelu(void **state) {
    (void)state;
    static const shape_pair ok[] = {
        {4, {2, 3, 4, 5}, 1, {5}},
        {4, {2, 3, 4, 5}, 3, {3, 1, 5}},
        {2, {7, 9}, 1, {1}},
        {3, {2, 3, 4}, 3, {2, 3, 4}},
    };
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(ok); i++)
        check_case(QLITE_OP_PRELU, &ok[i], QLITE_ACT_NONE, 1);
    /* a slope larger than the input does not broadcast *to* it */
    float x[3] = {1, -1, 2}, s[6] = {0};
    qlite_op_test_tensor in[2] = {qt_f32(1, (int64_t[]){3}, x), qt_f32(2, (int64_t[]){2, 3}, s)};
    qlite_op_test_tensor out = qt_f32(2, (int64_t[]){2, 3}, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_PRELU, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
}

static void test_special_values(void **state) {
    (void)state;
    float a[6] = {1.0f, -1.0f, NAN, 2.0f, 0.0f, 3.0f};
    float b[6] = {0.0f, 0.0f, 1.0f, NAN, 0.0f, 2.0f};
    int64_t sh[1] = {6};
    qlite_op_test_tensor in[2] = {qt_f32(1, sh, a), qt_f32(1, sh, b)};
    qlite_op_test_tensor out = qt_f32(1, sh, NULL);
    /* division by zero gives inf, not FLT_MAX, when there is no activation */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_DIV, NULL, 2, in, 1, &out, 1, 0));
    const float *y = out.out;
    assert_true(isinf(y[0]) && y[0] > 0);
    assert_true(isinf(y[1]) && y[1] < 0);
    assert_true(isnan(y[4]));
    qlite_op_test_free(1, &out);
    /* NaN propagates through MINIMUM/MAXIMUM from either side */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_MAXIMUM, NULL, 2, in, 1, &out, 1, 0));
    y = out.out;
    assert_true(isnan(y[2]) && isnan(y[3]));
    assert_true(y[0] == 1.0f && y[5] == 3.0f);
    qlite_op_test_free(1, &out);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_MINIMUM, NULL, 2, in, 1, &out, 1, 0));
    y = out.out;
    assert_true(isnan(y[2]) && isnan(y[3]));
    assert_true(y[1] == -1.0f && y[5] == 2.0f);
    qlite_op_test_free(1, &out);
}

static void test_pow_constant_exponent(void **state) {
    (void)state;
    float x[5] = {-3.0f, -0.5f, 0.0f, 1.5f, 1e20f};
    float two = 2.0f, half = 0.5f;
    qlite_op_test_tensor in[2] = {qt_f32(1, (int64_t[]){5}, x),
                                  qt_const(QLITE_DTYPE_FLOAT32, 0, NULL, &two)};
    qlite_op_test_tensor out = qt_f32(1, (int64_t[]){5}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_POW, NULL, 2, in, 1, &out, 1, 0));
    const float *y = out.out;
    assert_true(y[0] == 9.0f && y[1] == 0.25f && y[2] == 0.0f && y[3] == 2.25f);
    assert_true(isinf(y[4]));
    qlite_op_test_free(1, &out);
    in[1].data = &half;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_POW, NULL, 2, in, 1, &out, 1, 0));
    y = out.out;
    assert_true(isnan(y[0]) && y[3] == sqrtf(1.5f));
    qlite_op_test_free(1, &out);
}

static void test_errors(void **state) {
    (void)state;
    float a[12] = {0}, b[12] = {0};
    int32_t ia[4] = {0};
    qlite_op_test_tensor in[3] = {qt_f32(2, (int64_t[]){3, 4}, a),
                                  qt_f32(2, (int64_t[]){3, 3}, b), qt_f32(1, (int64_t[]){1}, b)};
    qlite_op_test_tensor out = qt_f32(2, (int64_t[]){3, 4}, NULL);
    /* shapes that do not broadcast */
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0), QLITE_ERR_SHAPE);
    assert_non_null(strstr(qlite_last_error(), "do not broadcast"));
    /* wrong input count */
    in[1] = qt_f32(1, (int64_t[]){4}, b);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 1, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 3, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* absent required input */
    in[1].absent = true;
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    in[1] = qt_f32(1, (int64_t[]){4}, b);
    /* a dtype this kernel does not do */
    in[0] = qt(QLITE_DTYPE_INT32, 1, (int64_t[]){4}, ia);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    in[0] = qt_f32(2, (int64_t[]){3, 4}, a);
    /* bad fused activation value, wrong options type */
    qlite_op_options o = qopts(QLITE_OPTIONS_BINARY);
    o.u.binary.activation = (qlite_activation)42;
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o = qopts(QLITE_OPTIONS_SOFTMAX);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* output declared with another shape */
    out = qt_f32(2, (int64_t[]){4, 3}, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_all_ops),
        cmocka_unit_test(test_fused_activation),
        cmocka_unit_test(test_threads_match),
        cmocka_unit_test(test_simd_rows),
        cmocka_unit_test(test_prelu),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_pow_constant_exponent),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
