/*
 * test_kernel_unary_int8.c — every element-wise op of unary.c on int8 and
 * uint8: the 256-entry table of docs/quantization.md §4.6.
 *
 * (a) exact: for each op, both dtypes and random / extreme parameters, all
 *     256 input codes through the kernel against the table computed here
 *     from the doc (f in double from libm, round half to even, saturate,
 *     NaN -> zero point);
 * (b) exact: NumPy golden vectors (make_golden_q8.py, f from Python's math);
 * (c) accuracy: |dequant(y) - clamp(f(dequant(x)))| <= 0.5 LSB for every
 *     code (clamp = the output's representable range), the bound of a
 *     correctly rounded table;
 * plus the fixed LOGISTIC (1/256, -128) and TANH (1/128, 0) outputs, two
 * threads on a large tensor, and hostile parameters.
 */
#include "kernel_q8_check.h"

typedef struct uop {
    const char *name;
    qlite_op_code code;
    bool tanh_gelu;
} uop;

/* Same order as UNARY in make_golden_q8.py. */
static const uop UOPS[] = {
    {"LOGISTIC", QLITE_OP_LOGISTIC, false},   {"TANH", QLITE_OP_TANH, false},
    {"HARD_SWISH", QLITE_OP_HARD_SWISH, false}, {"HARD_SIGMOID", QLITE_OP_HARD_SIGMOID, false},
    {"GELU", QLITE_OP_GELU, false},           {"GELU_TANH", QLITE_OP_GELU, true},
    {"ELU", QLITE_OP_ELU, false},             {"LEAKY_RELU", QLITE_OP_LEAKY_RELU, false},
    {"RELU", QLITE_OP_RELU, false},           {"RELU6", QLITE_OP_RELU6, false},
    {"CLIP", QLITE_OP_CLIP, false},           {"EXP", QLITE_OP_EXP, false},
    {"LOG", QLITE_OP_LOG, false},             {"SQRT", QLITE_OP_SQRT, false},
    {"ABS", QLITE_OP_ABS, false},             {"NEG", QLITE_OP_NEG, false},
    {"ERF", QLITE_OP_ERF, false},             {"RECIPROCAL", QLITE_OP_RECIPROCAL, false},
    {"SQUARE", QLITE_OP_SQUARE, false},
};

typedef struct uparams {
    float alpha, beta, lo, hi;
} uparams;

static double dclamp(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* The functions as docs/quantization.md §4.6 defines them (double). */
static double ref_f(const uop *u, double x, const uparams *p) {
    switch (u->code) {
    case QLITE_OP_LOGISTIC: return 1.0 / (1.0 + exp(-x));
    case QLITE_OP_TANH: return tanh(x);
    case QLITE_OP_HARD_SWISH: return x * dclamp(x / 6.0 + 0.5, 0.0, 1.0);
    case QLITE_OP_HARD_SIGMOID: return dclamp((double)p->alpha * x + (double)p->beta, 0.0, 1.0);
    case QLITE_OP_GELU:
        if (u->tanh_gelu)
            return 0.5 * x *
                   (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
        return 0.5 * x * erfc(-x * 0.70710678118654752440);
    case QLITE_OP_ELU: return x < 0.0 ? (double)p->alpha * expm1(x) : x;
    case QLITE_OP_LEAKY_RELU: return x < 0.0 ? (double)p->alpha * x : x;
    case QLITE_OP_RELU: return x < 0.0 ? 0.0 : x;
    case QLITE_OP_RELU6: return dclamp(x, 0.0, 6.0);
    case QLITE_OP_CLIP: return dclamp(x, p->lo, p->hi);
    case QLITE_OP_EXP: return exp(x);
    case QLITE_OP_LOG: return log(x);
    case QLITE_OP_SQRT: return sqrt(x);
    case QLITE_OP_ABS: return fabs(x);
    case QLITE_OP_NEG: return -x;
    case QLITE_OP_ERF: return erf(x);
    case QLITE_OP_RECIPROCAL: return 1.0 / x;
    case QLITE_OP_SQUARE: return x * x;
    default: return NAN;
    }
}

/* table[b] of the doc for byte b. */
static int32_t ref_entry(const uop *u, uint8_t b, qlite_dtype dt, const q8_params *px,
                         const q8_params *py, const uparams *p) {
    int32_t lo, hi;
    q8_range(dt, &lo, &hi);
    const int32_t q = dt == QLITE_DTYPE_INT8 ? (int8_t)b : b;
    const double v = ref_f(u, (double)px->scale * (double)(q - px->zp), p) / (double)py->scale;
    if (isnan(v)) return (int32_t)q8_clamp(py->zp, lo, hi);
    if (v >= 4e9) return hi;
    if (v <= -4e9) return lo;
    return (int32_t)q8_clamp((int64_t)nearbyint(v) + py->zp, lo, hi);
}

static qlite_op_options uopts(const uop *u, const uparams *p) {
    qlite_op_options o = qopts(QLITE_OPTIONS_ACTIVATION);
    o.u.activation.alpha = p->alpha;
    o.u.activation.beta = p->beta;
    o.u.activation.min = p->lo;
    o.u.activation.max = p->hi;
    o.u.activation.approximate = u->tanh_gelu;
    return o;
}

/* All 256 codes through the op; checks (a) and (c). */
static void check_table(const uop *u, qlite_dtype dt, const q8_params *px, const q8_params *py,
                        const uparams *p, double *worst) {
    uint8_t x[256];
    for (int b = 0; b < 256; b++) x[b] = (uint8_t)b;
    qlite_op_test_tensor in = q8_tensor(dt, 1, (int64_t[]){256}, x, px);
    qlite_op_test_tensor out = q8_tensor(dt, 1, (int64_t[]){256}, NULL, py);
    qlite_op_options o = uopts(u, p);
    assert_qlite_ok(qlite_op_test_run(u->code, &o, 1, &in, 1, &out, 1, 0));
    int32_t lo, hi;
    q8_range(dt, &lo, &hi);
    const double rlo = ((double)lo - py->zp) * py->scale, rhi = ((double)hi - py->zp) * py->scale;
    for (int b = 0; b < 256; b++) {
        const int32_t got = q8_get(out.out, (size_t)b, dt);
        const int32_t want = ref_entry(u, (uint8_t)b, dt, px, py, p);
        const int32_t q = q8_get(x, (size_t)b, dt);
        if (got != want)
            fail_msg("%s %s (sx=%g zx=%d sy=%g zy=%d): code %d -> %d, the reference says %d",
                     u->name, qlite_dtype_name(dt), (double)px->scale, px->zp,
                     (double)py->scale, py->zp, q, got, want);
        const double r = ref_f(u, (double)px->scale * (double)(q - px->zp), p);
        if (isnan(r)) {
            assert_int_equal(got, q8_clamp(py->zp, lo, hi));
            continue;
        }
        const double err = q8_err_lsb(got, py->scale, py->zp, dclamp(r, rlo, rhi));
        if (err > 0.5 + 1e-9)
            fail_msg("%s: code %d is %.4f LSB from f (bound 0.5)", u->name, q, err);
        if (worst && err > *worst) *worst = err;
    }
    qlite_op_test_free(1, &out);
}

static void test_reference_all_ops(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x7AB1E);
    double worst = 0.0;
    for (size_t k = 0; k < Q8_COUNT(UOPS); k++)
        for (int d = 0; d < 2; d++) {
            const qlite_dtype dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
            int32_t lo, hi;
            q8_range(dt, &lo, &hi);
            for (int rep = 0; rep < 6; rep++) {
                q8_params px, py;
                q8_params_set(&px, q8_rand_scale(&rng, -7, -1), q8_rand_zp(&rng, dt));
                q8_params_set(&py, q8_rand_scale(&rng, -8, 0), q8_rand_zp(&rng, dt));
                if (rep == 4) q8_params_set(&px, 0.05f, lo); /* zero points at the ends */
                if (rep == 5) q8_params_set(&px, 0.05f, hi);
                uparams p = {qlite_test_rng_float(&rng, 0.05f, 0.5f),
                             qlite_test_rng_float(&rng, 0.2f, 0.7f),
                             qlite_test_rng_float(&rng, -3.0f, -0.5f),
                             qlite_test_rng_float(&rng, 0.5f, 3.0f)};
                check_table(&UOPS[k], dt, &px, &py, &p, &worst);
            }
        }
    print_message("worst error: %.4f LSB\n", worst);
}

/* The converter's fixed output parameters (§2.1) and hand-checked codes. */
static void test_fixed_outputs(void **state) {
    (void)state;
    const uparams p = {0};
    q8_params px, pl, pt;
    q8_params_set(&px, 0.1f, 0);
    q8_params_set(&pl, 1.0f / 256, -128);
    q8_params_set(&pt, 1.0f / 128, 0);
    check_table(&UOPS[0], QLITE_DTYPE_INT8, &px, &pl, &p, NULL);
    check_table(&UOPS[1], QLITE_DTYPE_INT8, &px, &pt, &p, NULL);
    /* logistic(0) = 0.5 -> -128 + 128 = 0; logistic(12.7) -> 256 - 0.0008 -> 127 (saturated);
     * tanh(0) = 0; tanh(-12.8) = -1 -> -128 */
    const int8_t x[3] = {0, 127, -128};
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){3}, x, &px);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){3}, NULL, &pl);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_LOGISTIC, NULL, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, ((int8_t[]){0, 127, -128}), 3); /* logistic(-12.8) = 2.8e-6 */
    qlite_op_test_free(1, &out);
    out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){3}, NULL, &pt);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_TANH, NULL, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, ((int8_t[]){0, 127, -128}), 3);
    qlite_op_test_free(1, &out);
    /* RELU with equal parameters is max(x, zx) exactly; NEG of -128 saturates */
    q8_params pr;
    q8_params_set(&pr, 0.1f, -5);
    const int8_t xr[4] = {-128, -6, -5, 127};
    in = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, xr, &pr);
    out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, NULL, &pr);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RELU, NULL, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, ((int8_t[]){-5, -5, -5, 127}), 4);
    qlite_op_test_free(1, &out);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_NEG, NULL, 1, &in, 1, &out, 1, 0));
    /* y = -(q + 5) - 5: -128 -> 118; -6 -> -4; -5 -> -5; 127 -> -137, saturated to -128 */
    assert_memory_equal(out.out, ((int8_t[]){118, -4, -5, -128}), 4);
    qlite_op_test_free(1, &out);
}

static void test_golden(void **state) {
    (void)state;
    q8_golden g;
    q8_golden_load("unary", &g);
    for (size_t c = 0; c < g.n; c++) {
        const int32_t *row = q8_case(&g, c);
        const float *sc = q8_case_scales(&g, c);
        const qlite_dtype dt = q8_case_dtype(row[QG_DTYPE]);
        const uop *u = &UOPS[row[QG_X0]];
        const size_t n = (size_t)row[QG_DIMS_A];
        void *x = q8_golden_values(&g.a, (size_t)row[QG_OFF_A], n, dt);
        q8_params px, py;
        q8_params_set(&px, sc[0], row[QG_ZA]);
        q8_params_set(&py, sc[2], row[QG_ZY]);
        const uparams p = {sc[3], sc[4], sc[5], sc[6]};
        qlite_op_test_tensor in = q8_tensor(dt, 1, (int64_t[]){(int64_t)n}, x, &px);
        qlite_op_test_tensor out = q8_tensor(dt, 1, (int64_t[]){(int64_t)n}, NULL, &py);
        qlite_op_options o = uopts(u, &p);
        assert_qlite_ok(qlite_op_test_run(u->code, &o, 1, &in, 1, &out, 1, 0));
        char what[48];
        snprintf(what, sizeof what, "unary %s", u->name);
        q8_expect_golden(what, c, out.out, dt, &g, (size_t)row[QG_OFF_Y], n);
        qlite_op_test_free(1, &out);
        free(x);
    }
    q8_golden_free(&g);
}

static void test_threads(void **state) {
    (void)state;
    const size_t n = 1 << 18;
    uint8_t *x = malloc(n);
    assert_non_null(x);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 9);
    q8_fill(&rng, x, n, QLITE_DTYPE_UINT8);
    q8_params px, py;
    q8_params_set(&px, 0.04f, 128);
    q8_params_set(&py, 0.03f, 20);
    const uparams p = {0};
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_UINT8, 1, (int64_t[]){(int64_t)n}, x, &px);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_UINT8, 1, (int64_t[]){(int64_t)n}, NULL, &py);
    qlite_op_options o = uopts(&UOPS[2], &p);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_HARD_SWISH, &o, 1, &in, 1, &out, 2, 0));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(((uint8_t *)out.out)[i],
                         ref_entry(&UOPS[2], x[i], QLITE_DTYPE_UINT8, &px, &py, &p));
    qlite_op_test_free(1, &out);
    free(x);
}

static void test_errors(void **state) {
    (void)state;
    q8_params p, pu;
    q8_params_set(&p, 0.1f, 0);
    q8_params_set(&pu, 0.1f, 128);
    const int8_t x[4] = {1, 2, 3, 4};
    const int64_t sh[1] = {4};
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 1, sh, x, &p);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_UINT8, 1, sh, NULL, &pu);
    assert_int_equal(qlite_op_test_run(QLITE_OP_TANH, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    out = qt_f32(1, sh, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_LOGISTIC, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    out = q8_tensor(QLITE_DTYPE_INT8, 1, sh, NULL, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_TANH, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    float s2[2] = {0.1f, 0.2f};
    int32_t z2[2] = {0, 0};
    qlite_quant pc = {.count = 2, .axis = 1, .scale = s2, .zero_point = z2};
    qlite_op_test_tensor in2 = qt(QLITE_DTYPE_INT8, 2, (int64_t[]){2, 2}, x);
    in2.quant = &pc;
    out = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){2, 2}, NULL, &p);
    assert_int_equal(qlite_op_test_run(QLITE_OP_TANH, NULL, 1, &in2, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    /* options are still checked on the integer path */
    out = q8_tensor(QLITE_DTYPE_INT8, 1, sh, NULL, &p);
    qlite_op_options o = qopts(QLITE_OPTIONS_ACTIVATION);
    o.u.activation.alpha = NAN;
    assert_int_equal(qlite_op_test_run(QLITE_OP_ELU, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_op_test_run(QLITE_OP_HARD_SIGMOID, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_all_ops),
        cmocka_unit_test(test_fixed_outputs),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
