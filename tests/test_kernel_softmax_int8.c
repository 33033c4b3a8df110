/*
 * test_kernel_softmax_int8.c — int8/uint8 SOFTMAX (docs/quantization.md §4.7)
 * over any axis, any beta (negative and 0 included), rows of length 1.
 *
 * (a) exact against the doc's formula written here (e[d] from exp in
 *     double, R = round(2^16 / sy), uint64 sums, rounded integer division);
 * (b) exact against NumPy golden vectors (make_golden_q8.py);
 * (c) accuracy against softmax(beta * dequantized x) in double, clamped to the
 *     output range: within 0.5 + (n + 2) / (2^24 sy) + 2^-16 LSB per
 *     element (the rounding of e and of R; 0.5 + (n + 2) 2^-16 for the int8
 *     output scale 1/256), n the row length.
 * (a) and (c) run at every ISA level this CPU has (uncapped, AVX2 — the
 * AVX2 row of softmax_q8.c —, portable; NEON on ARM64) on rows of 1..70
 * and 768 values (the 8 / 16 / 32-lane bodies and their tails).
 */
#include "kernel_q8_check.h"
#include "kernels/elementwise_q8.h"
#include "kernels/gemm_q8.h"
#include "support/q8_levels.h"

static double round_half_even(double v) { return nearbyint(v); }

typedef struct sm_case {
    qlite_dtype dt;
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    int32_t axis;
    float beta;
    q8_params px, py;
    int threads;
} sm_case;

static void check_softmax(qlite_test_rng *rng, const sm_case *c, double *worst) {
    const size_t n_all = q8_elems(c->rank, c->dims);
    uint8_t *x = malloc(n_all ? n_all : 1);
    assert_non_null(x);
    q8_fill(rng, x, n_all, c->dt);
    qlite_op_test_tensor in = q8_tensor(c->dt, c->rank, c->dims, x, &c->px);
    qlite_op_test_tensor out = q8_tensor(c->dt, c->rank, c->dims, NULL, &c->py);
    qlite_op_options o = qopts(QLITE_OPTIONS_SOFTMAX);
    o.u.softmax.axis = c->axis;
    o.u.softmax.beta = c->beta;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_SOFTMAX, &o, 1, &in, 1, &out, c->threads, 0));

    const uint32_t ax = (uint32_t)(c->axis < 0 ? c->axis + (int32_t)c->rank : c->axis);
    size_t outer = 1, inner = 1;
    for (uint32_t i = 0; i < ax; i++) outer *= (size_t)c->dims[i];
    for (uint32_t i = ax + 1; i < c->rank; i++) inner *= (size_t)c->dims[i];
    const size_t n = (size_t)c->dims[ax];
    const double sb = (double)c->px.scale * fabs((double)c->beta);
    uint64_t e[256];
    for (int d = 0; d < 256; d++) e[d] = (uint64_t)round_half_even(8388608.0 * exp(-sb * d));
    const uint64_t R = (uint64_t)round_half_even(65536.0 / (double)c->py.scale);
    int32_t lo, hi;
    q8_range(c->dt, &lo, &hi);
    const double sy = c->py.scale;
    const double rlo = ((double)lo - c->py.zp) * sy, rhi = ((double)hi - c->py.zp) * sy;
    const double bound = 0.5 + (double)(n + 2) / (ldexp(1.0, 24) * sy) + ldexp(1.0, -16);
    for (size_t o1 = 0; o1 < outer; o1++)
        for (size_t k = 0; k < inner; k++) {
            const size_t base = o1 * n * inner + k;
            int32_t m = q8_get(x, base, c->dt);
            double rm = -INFINITY; /* max of beta * real x */
            for (size_t i = 0; i < n; i++) {
                const int32_t v = q8_get(x, base + i * inner, c->dt);
                if (c->beta < 0 ? v < m : v > m) m = v;
                const double r = (double)c->beta * c->px.scale * (v - c->px.zp);
                rm = r > rm ? r : rm;
            }
            uint64_t S = 0;
            double rs = 0.0;
            for (size_t i = 0; i < n; i++) {
                const int32_t v = q8_get(x, base + i * inner, c->dt);
                S += e[c->beta < 0 ? v - m : m - v];
                rs += exp((double)c->beta * c->px.scale * (v - c->px.zp) - rm);
            }
            for (size_t i = 0; i < n; i++) {
                const size_t at = base + i * inner;
                const int32_t v = q8_get(x, at, c->dt);
                const uint64_t num = e[c->beta < 0 ? v - m : m - v] * R;
                const uint64_t den = S << 16;
                const int64_t want =
                    q8_clamp(c->py.zp + (int64_t)((2 * num + den) / (2 * den)), lo, hi);
                const int32_t got = q8_get(out.out, at, c->dt);
                if (got != want)
                    fail_msg("softmax %s axis %d beta %g: element %zu is %d, the reference "
                             "says %d",
                             qlite_dtype_name(c->dt), c->axis, (double)c->beta, at, got,
                             (int)want);
                double real =
                    exp((double)c->beta * c->px.scale * (v - c->px.zp) - rm) / rs;
                real = real < rlo ? rlo : (real > rhi ? rhi : real);
                const double err = q8_err_lsb(got, c->py.scale, c->py.zp, real);
                if (err > bound)
                    fail_msg("softmax: element %zu is %.5f LSB from the real value (bound %.5f)",
                             at, err, bound);
                if (worst && err > *worst) *worst = err;
            }
        }
    qlite_op_test_free(1, &out);
    free(x);
}

static void test_reference(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x50F7);
    static const struct {
        uint32_t rank;
        int64_t dims[4];
        int32_t axis;
        float beta;
    } shapes[] = {
        {2, {4, 10}, -1, 1.0f},    {2, {3, 1000}, 1, 1.0f},   {3, {2, 7, 5}, 1, 1.0f},
        {2, {6, 1}, -1, 1.0f},     {2, {1, 1}, 0, 1.0f},      {4, {2, 3, 4, 5}, 0, 0.5f},
        {4, {2, 3, 4, 5}, 3, -1.5f}, {2, {3, 256}, -1, 2.0f}, {2, {5, 9}, 1, 0.0f},
        {1, {33}, 0, 1.0f},        {4, {1, 2, 2, 10}, 3, 1.0f}, {2, {2, 4096}, 1, 0.25f},
    };
    double worst = 0.0;
    for (size_t s = 0; s < Q8_COUNT(shapes); s++)
        for (int d = 0; d < 2; d++)
            for (int rep = 0; rep < 3; rep++) {
                sm_case c = {.dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8,
                             .rank = shapes[s].rank, .axis = shapes[s].axis,
                             .beta = shapes[s].beta, .threads = 1};
                memcpy(c.dims, shapes[s].dims, sizeof shapes[s].dims);
                int32_t lo, hi;
                q8_range(c.dt, &lo, &hi);
                q8_params_set(&c.px, q8_rand_scale(&rng, -7, 0), q8_rand_zp(&rng, c.dt));
                /* the fixed output of §2.1, another common one, a random one */
                if (rep == 0) q8_params_set(&c.py, 1.0f / 256, lo);
                if (rep == 1) q8_params_set(&c.py, 1.0f / 255, lo);
                if (rep == 2)
                    q8_params_set(&c.py, q8_rand_scale(&rng, -9, -1), q8_rand_zp(&rng, c.dt));
                check_softmax(&rng, &c, &worst);
            }
    print_message("worst error: %.5f LSB\n", worst);
}

/* The same with the CPU features capped to none: the portable row (the ARM64
 * NEON row and the x86 rows are what test_reference runs on those CPUs). */
static void test_reference_portable(void **state) {
    qlite_q8_set_feature_cap(0);
    test_reference(state);
    qlite_q8_set_feature_cap(~0u);
}

/* Rows of 1..70 and 768 at each ISA level (see the top). */
static void test_levels(void **state) {
    (void)state;
    for (unsigned l = 0; qlite_test_q8_level_next(&l); l++) {
        qlite_test_rng rng;
        qlite_test_rng_seed(&rng, 0x50F8 + l);
        int variant = 0;
        for (int d = 0; d < 2; d++)
            for (unsigned si = 0; si < QLITE_TEST_Q8_ROW_SIZES; si++, variant++) {
                sm_case c = {.dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8, .rank = 2,
                             .dims = {4, qlite_test_q8_row_size(si)}, .axis = -1, .threads = 1};
                c.beta = variant % 4 == 1 ? -0.7f : (variant % 4 == 2 ? 3.0f : 1.0f);
                int32_t lo, hi;
                q8_range(c.dt, &lo, &hi);
                q8_params_set(&c.px, q8_rand_scale(&rng, -8, 1), q8_rand_zp(&rng, c.dt));
                if (variant % 5 == 3) /* 2^16 / sy = 2^32: the largest multiplier */
                    q8_params_set(&c.py, 0x1p-16f, lo);
                else if (variant % 3 == 0)
                    q8_params_set(&c.py, q8_rand_scale(&rng, -12, -6), q8_rand_zp(&rng, c.dt));
                else
                    q8_params_set(&c.py, 1.0f / 256, lo);
                check_softmax(&rng, &c, NULL);
            }
    }
}

/* A row of one value is 1.0: the top code (zy + 256 saturates at 127). */
static void test_hand_values(void **state) {
    (void)state;
    q8_params px, py;
    q8_params_set(&px, 0.1f, 0);
    q8_params_set(&py, 1.0f / 256, -128);
    const int8_t x1[3] = {-128, 0, 127};
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){3, 1}, x1, &px);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){3, 1}, NULL, &py);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, ((int8_t[]){127, 127, 127}), 3);
    qlite_op_test_free(1, &out);
    /* two equal values: 0.5 each -> -128 + 128 = 0; four equal values: 0.25 -> -64 */
    const int8_t x2[6] = {5, 5, 9, 9, 9, 9};
    in = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){2}, x2, &px);
    out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){2}, NULL, &py);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, ((int8_t[]){0, 0}), 2);
    qlite_op_test_free(1, &out);
    in = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, x2 + 2, &px);
    out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, NULL, &py);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, ((int8_t[]){-64, -64, -64, -64}), 4);
    qlite_op_test_free(1, &out);
}

/*
 * The fast rows' division (portable, AVX2, AVX-512, NEON): q0 = trunc(N * (1 / D))
 * in double, then one exact integer step: q0 - 1 when q0 D > N, q0 + 1 when
 * N - q0 D >= D. The double quotient is off only when N / D lies within about
 * 2^-52 k of an integer k, which random rows never meet; these two rows do
 * (found by searching n, R, k and sy, d, k for exact or near-integer N / D and
 * evaluating the double quotient; each premise is checked below):
 *  (a) the +1 step: 49 equal values (d = 0, S = 49 2^23) and sy = 2/49,
 *      R = 49 2^15: N / D = (R + 49 2^15) / (49 2^16) = 1 exactly, but
 *      q0 = trunc(49 fl(1/49)) = trunc(1 - 2^-53) = 0 (the classic 49 * (1/49) < 1).
 *      Every output is zy + 1.
 *  (b) the -1 step: sb = 1/16, R = 4216900471 (sy = 0x1.04bd42p-16), a row
 *      with one value at each d = 0, 10, 3, 51, 96, 145, 202 and 166 at d = 1:
 *      S = 1328342227 and for d = 10 (e = 4490098) 218 D - N = 2, so
 *      N / D = 218 - 2^-45.3, but the double quotient rounds to 218 (in the
 *      AVX2 row's form too: N summed in double). That element is zy + 217.
 */
static void check_division_row(const char *level, const uint8_t *x, size_t n, qlite_dtype dt,
                               float sx, float sy, int32_t zy, size_t at, int32_t want_at) {
    q8_params px, py;
    q8_params_set(&px, sx, 0);
    q8_params_set(&py, sy, zy);
    const int64_t dims[2] = {1, (int64_t)n};
    qlite_op_test_tensor in = q8_tensor(dt, 2, dims, x, &px);
    qlite_op_test_tensor out = q8_tensor(dt, 2, dims, NULL, &py);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0));
    /* the reference (exact integer division) for every element */
    uint64_t e[256];
    for (int d = 0; d < 256; d++)
        e[d] = (uint64_t)round_half_even(8388608.0 * exp(-(double)sx * d));
    const uint64_t R = (uint64_t)round_half_even(65536.0 / (double)sy);
    int32_t m = q8_get(x, 0, dt), lo, hi;
    q8_range(dt, &lo, &hi);
    for (size_t i = 1; i < n; i++) m = q8_get(x, i, dt) > m ? q8_get(x, i, dt) : m;
    uint64_t S = 0;
    for (size_t i = 0; i < n; i++) S += e[m - q8_get(x, i, dt)];
    for (size_t i = 0; i < n; i++) {
        const uint64_t q = (e[m - q8_get(x, i, dt)] * R + (S << 15)) / (S << 16);
        const int64_t want = q8_clamp(zy + (int64_t)q, lo, hi);
        if (q8_get(out.out, i, dt) != want)
            fail_msg("softmax level %s, %s row of %zu: element %zu is %d, the exact division "
                     "says %d",
                     level, qlite_dtype_name(dt), n, i, q8_get(out.out, i, dt), (int)want);
    }
    assert_int_equal(q8_get(out.out, at, dt), want_at);
    /* the premise: the element's double quotient is off by one */
    const uint64_t N = e[m - q8_get(x, at, dt)] * R + (S << 15), D = S << 16;
    const uint64_t q0 = (uint64_t)((double)N * (1.0 / (double)D));
    const double n2 = (double)e[m - q8_get(x, at, dt)] * (double)R + (double)(S << 15);
    const uint64_t q2 = (uint64_t)(n2 * (1.0 / (double)D));
    assert_int_not_equal(q0, N / D);
    assert_int_not_equal(q2, N / D);
    qlite_op_test_free(1, &out);
}

static void test_division_correction(void **state) {
    (void)state;
    uint8_t x[173];
    for (unsigned l = 0; qlite_test_q8_level_next(&l); l++)
        for (int di = 0; di < 2; di++) {
            const char *name = qlite_test_q8_level_name(l);
            const qlite_dtype dt = di ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
            const int32_t top = di ? 255 : 127, zy = di ? 0 : -128;
            /* (a) */
            memset(x, di ? 200 : 0x85, 49);
            check_division_row(name, x, 49, dt, 0.5f, 2.0f / 49, zy, 0, zy + 1);
            /* (b): the element at d = 10 in the vector bodies (index 1) */
            static const int d_once[] = {0, 10, 3, 51, 96, 145, 202};
            size_t n = 0;
            for (size_t k = 0; k < Q8_COUNT(d_once); k++) x[n++] = (uint8_t)(top - d_once[k]);
            while (n < 173) x[n++] = (uint8_t)(top - 1);
            check_division_row(name, x, 173, dt, 0.0625f, 0x1.04bd42p-16f, zy, 1, zy + 217);
        }
}

static void test_threads(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 3);
    sm_case c = {.dt = QLITE_DTYPE_INT8, .rank = 2, .dims = {512, 300}, .axis = -1,
                 .beta = 1.0f, .threads = 2};
    q8_params_set(&c.px, 0.05f, 3);
    q8_params_set(&c.py, 1.0f / 256, -128);
    check_softmax(&rng, &c, NULL);
    sm_case c2 = c;
    c2.rank = 3;
    c2.dims[0] = 64, c2.dims[1] = 30, c2.dims[2] = 40;
    c2.axis = 1;
    check_softmax(&rng, &c2, NULL);
}

static void test_golden(void **state) {
    (void)state;
    q8_golden g;
    q8_golden_load("softmax", &g);
    for (size_t c = 0; c < g.n; c++) {
        const int32_t *row = q8_case(&g, c);
        const float *sc = q8_case_scales(&g, c);
        const qlite_dtype dt = q8_case_dtype(row[QG_DTYPE]);
        const uint32_t rank = (uint32_t)row[QG_RANK_A];
        int64_t dims[QLITE_MAX_RANK];
        for (uint32_t i = 0; i < rank; i++) dims[i] = row[QG_DIMS_A + i];
        const size_t n = q8_elems(rank, dims);
        void *x = q8_golden_values(&g.a, (size_t)row[QG_OFF_A], n, dt);
        q8_params px, py;
        q8_params_set(&px, sc[0], row[QG_ZA]);
        q8_params_set(&py, sc[2], row[QG_ZY]);
        qlite_op_test_tensor in = q8_tensor(dt, rank, dims, x, &px);
        qlite_op_test_tensor out = q8_tensor(dt, rank, dims, NULL, &py);
        qlite_op_options o = qopts(QLITE_OPTIONS_SOFTMAX);
        o.u.softmax.axis = row[QG_PARAM];
        o.u.softmax.beta = sc[3];
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_SOFTMAX, &o, 1, &in, 1, &out, 1, 0));
        q8_expect_golden("softmax", c, out.out, dt, &g, (size_t)row[QG_OFF_Y], n);
        qlite_op_test_free(1, &out);
        free(x);
    }
    q8_golden_free(&g);
}

static void test_errors(void **state) {
    (void)state;
    q8_params px, py, pu, tiny;
    q8_params_set(&px, 0.1f, 0);
    q8_params_set(&py, 1.0f / 256, -128);
    q8_params_set(&pu, 1.0f / 256, 0);
    q8_params_set(&tiny, 1e-6f, 0);
    const int8_t x[4] = {1, 2, 3, 4};
    const int64_t sh[2] = {2, 2};
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 2, sh, x, &px);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_UINT8, 2, sh, NULL, &pu);
    assert_int_equal(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    /* LOG_SOFTMAX has no integer form; an output scale below 2^-16 is refused */
    out = q8_tensor(QLITE_DTYPE_INT8, 2, sh, NULL, &py);
    assert_int_equal(qlite_op_test_run(QLITE_OP_LOG_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    out.quant = &tiny.q;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    out.quant = NULL;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SOFTMAX, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    out.quant = &py.q;
    qlite_op_options o = qopts(QLITE_OPTIONS_SOFTMAX);
    o.u.softmax.axis = 2;
    o.u.softmax.beta = 1.0f;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SOFTMAX, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_reference_portable),
        cmocka_unit_test_teardown(test_levels, qlite_test_q8_uncap),
        cmocka_unit_test_teardown(test_division_correction, qlite_test_q8_uncap),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
