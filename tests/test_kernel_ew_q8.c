/*
 * test_kernel_ew_q8.c — the element-wise int8 variants (elementwise_q8.h)
 * against the reference kernels, bit for bit, at every ISA level of the
 * variant table this CPU has (qlite_q8_set_feature_cap): AVX-512 (+ VBMI),
 * AVX2, portable; ARM64 NEON. A level the CPU lacks is skipped (cmocka skip),
 * not passed.
 *
 * For each op (ADD, SUB, MUL; the table ops LOGISTIC, TANH, HARD_SWISH,
 * GELU and the int8 -> uint8 requantization; QUANTIZE; DEQUANTIZE; SOFTMAX
 * and LAYER_NORM rows) the same
 * inputs run once with QLITE_INTERP_REFERENCE_ONLY (the readable reference)
 * and once with the level's variants, and the outputs must be equal:
 *   - sizes 0 (where allowed) 1..70 and around 64, 128, 256 (tile edges of
 *     the 8 / 16 / 32 / 64-wide loops), and 1000;
 *   - every row shape of the broadcast rows (vector-vector, vector-scalar,
 *     scalar-vector, short inner rows);
 *   - int8 and uint8; random parameters plus hostile ones: zero points at
 *     the ends of the range, scales 2^20 apart, outputs that saturate,
 *     fused activations, QUANTIZE of NaN, +-Inf, values beyond the range and
 *     exact .5 ties.
 * The references themselves are checked against independent implementations
 * in test_kernel_binary_int8.c, test_kernel_unary_int8.c and
 * test_kernel_quant.c; this file pins the variants to them.
 */
#include "kernel_q8_check.h"
#include "kernels/elementwise_q8.h"
#include "kernels/gemm_q8.h"

typedef struct level {
    const char *name;
    unsigned cap;    /* qlite_q8_set_feature_cap */
    unsigned needs;  /* QLITE_Q8_EW_F_* the level must have (else skipped) */
} level;

static const level LEVELS[] = {
    {"avx512", ~0u, QLITE_Q8_EW_F_AVX2 | QLITE_Q8_EW_F_AVX512},
    {"avx2", QLITE_Q8_F_AVX2, QLITE_Q8_EW_F_AVX2},
    {"portable", 0u, 0u},
    {"neon", QLITE_Q8_F_NEON, QLITE_Q8_EW_F_NEON},
};

/* Sets the cap of the level, or skips the test when the CPU lacks it. */
static void enter_level(void **state) {
    const level *l = *state;
    qlite_q8_set_feature_cap(~0u);
    if ((qlite_q8_ew_features() & l->needs) != l->needs) {
        print_message("ISA level %s: not on this CPU, skipped\n", l->name);
        skip();
    }
    qlite_q8_set_feature_cap(l->cap);
    assert_int_equal(qlite_q8_ew_features() & l->needs, l->needs);
}

static int leave_level(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    return 0;
}

/* Runs the op twice (reference, variants) and demands equal output bytes. */
static void run_both(qlite_op_code code, const qlite_op_options *o, uint32_t nin,
                     qlite_op_test_tensor *in, qlite_op_test_tensor *out, const char *what) {
    qlite_op_test_tensor ref = *out, got = *out;
    assert_qlite_ok(qlite_op_test_run(code, o, nin, in, 1, &ref, 1, QLITE_INTERP_REFERENCE_ONLY));
    assert_qlite_ok(qlite_op_test_run(code, o, nin, in, 1, &got, 1, 0));
    assert_int_equal(ref.out_bytes, got.out_bytes);
    if (memcmp(ref.out, got.out, ref.out_bytes) != 0) {
        const uint8_t *r = ref.out, *g = got.out;
        size_t i = 0;
        while (r[i] == g[i]) i++;
        fail_msg("%s %s: byte %zu of %zu is %u, the reference says %u", qlite_op_name(code),
                 what, i, ref.out_bytes, g[i], r[i]);
    }
    qlite_op_test_free(1, &ref);
    qlite_op_test_free(1, &got);
}

/* Sizes around the 8 / 16 / 32 / 64-element loops. */
static const int64_t SIZES[] = {1,  2,  3,  7,  8,  9,  15, 16,  17,  31,  32,  33,  47,
                                63, 64, 65, 70, 95, 96, 97, 127, 128, 129, 255, 256, 257, 1000};

/* ---------------------------------------------------------------- */
/* ADD / SUB / MUL                                                    */
/* ---------------------------------------------------------------- */

typedef struct bshape {
    uint32_t ra, rb;
    int64_t a[3], b[3];
} bshape;

static void check_binary(qlite_test_rng *rng, qlite_op_code code, qlite_dtype dt,
                         const bshape *s, const q8_params *pa, const q8_params *pb,
                         const q8_params *py, qlite_activation act) {
    const size_t na = q8_elems(s->ra, s->a), nb = q8_elems(s->rb, s->b);
    uint8_t *a = malloc(na), *b = malloc(nb);
    assert_non_null(a);
    assert_non_null(b);
    q8_fill(rng, a, na, dt);
    q8_fill(rng, b, nb, dt);
    int32_t lo, hi;
    q8_range(dt, &lo, &hi);
    q8_set(a, 0, dt, lo); /* both ends and the zero point appear */
    if (na > 1) q8_set(a, na - 1, dt, hi);
    if (nb > 1) q8_set(b, nb / 2, dt, pb->zp);
    int64_t od[3];
    for (uint32_t i = 0; i < s->ra; i++) od[i] = s->a[i] > s->b[i] ? s->a[i] : s->b[i];
    qlite_op_test_tensor in[2] = {q8_tensor(dt, s->ra, s->a, a, pa),
                                  q8_tensor(dt, s->rb, s->b, b, pb)};
    qlite_op_test_tensor out = q8_tensor(dt, s->ra, od, NULL, py);
    qlite_op_options o = qopts(QLITE_OPTIONS_BINARY);
    o.u.binary.activation = act;
    char what[160];
    snprintf(what, sizeof what,
             "%s [%lld,%lld,%lld]x[%lld,%lld,%lld] sa=%g za=%d sb=%g zb=%d sy=%g zy=%d act=%d",
             qlite_dtype_name(dt), (long long)s->a[0], (long long)s->a[1], (long long)s->a[2],
             (long long)s->b[0], (long long)s->b[1], (long long)s->b[2], (double)pa->scale,
             pa->zp, (double)pb->scale, pb->zp, (double)py->scale, py->zp, (int)act);
    run_both(code, &o, 2, in, &out, what);
    free(a);
    free(b);
}

static void random_params(qlite_test_rng *rng, qlite_dtype dt, q8_params *pa, q8_params *pb,
                          q8_params *py, int variant) {
    switch (variant % 4) {
    case 0: /* ordinary: scales within 2^3 */
        q8_params_set(pa, q8_rand_scale(rng, -8, -5), q8_rand_zp(rng, dt));
        q8_params_set(pb, q8_rand_scale(rng, -8, -5), q8_rand_zp(rng, dt));
        q8_params_set(py, q8_rand_scale(rng, -7, -4), q8_rand_zp(rng, dt));
        break;
    case 1: /* inputs 2^20 apart */
        q8_params_set(pa, q8_rand_scale(rng, -2, 0), q8_rand_zp(rng, dt));
        q8_params_set(pb, q8_rand_scale(rng, -22, -20), q8_rand_zp(rng, dt));
        q8_params_set(py, q8_rand_scale(rng, -3, 0), q8_rand_zp(rng, dt));
        break;
    case 2: /* saturating output: tiny output scale */
        q8_params_set(pa, q8_rand_scale(rng, -4, -2), q8_rand_zp(rng, dt));
        q8_params_set(pb, q8_rand_scale(rng, -4, -2), q8_rand_zp(rng, dt));
        q8_params_set(py, q8_rand_scale(rng, -12, -10), q8_rand_zp(rng, dt));
        break;
    default: /* large output scale: MUL with a left shift, ADD near zero */
        q8_params_set(pa, q8_rand_scale(rng, -1, 1), q8_rand_zp(rng, dt));
        q8_params_set(pb, q8_rand_scale(rng, -1, 1), q8_rand_zp(rng, dt));
        q8_params_set(py, q8_rand_scale(rng, -12, 4), q8_rand_zp(rng, dt));
        break;
    }
}

static void test_binary(void **state) {
    enter_level(state);
    const qlite_op_code ops[] = {QLITE_OP_ADD, QLITE_OP_SUB, QLITE_OP_MUL};
    const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0xE1E3);
    int variant = 0;
    for (size_t oi = 0; oi < Q8_COUNT(ops); oi++)
        for (size_t di = 0; di < Q8_COUNT(dts); di++)
            for (size_t si = 0; si < Q8_COUNT(SIZES); si++) {
                const int64_t n = SIZES[si];
                const bshape shapes[] = {
                    {1, 1, {n, 1, 1}, {n, 1, 1}},        /* vector-vector */
                    {2, 2, {3, n, 1}, {3, 1, 1}},        /* vector-scalar rows */
                    {2, 2, {3, 1, 1}, {3, n, 1}},        /* scalar-vector rows */
                    {3, 3, {2, 3, n}, {1, 1, n}},        /* per-channel rows */
                };
                for (size_t k = 0; k < Q8_COUNT(shapes); k++) {
                    q8_params pa, pb, py;
                    random_params(&rng, dts[di], &pa, &pb, &py, variant);
                    const qlite_activation act =
                        (qlite_activation)(variant / 4 % QLITE_ACT_COUNT);
                    check_binary(&rng, ops[oi], dts[di], &shapes[k], &pa, &pb, &py, act);
                    variant++;
                }
            }
    /* the variants are in use at this level (and not at the portable one) */
    const qlite_q8_ew_ukernels *v = qlite_q8_ew_select(QLITE_Q8_EW_BINARY);
    const level *l = *state;
    if (l->needs) assert_non_null(v);
    else assert_null(v);
}

/* Hand-picked hostile parameters on a 200-element row. */
static void test_binary_extremes(void **state) {
    enter_level(state);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 77);
    const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    const float sc[][3] = {
        {1.0f, 1.0f, 1.0f},           {1.0f, 1.0f, 1.0f / 4096},  {1.0f, 0x1p-20f, 1.0f},
        {0x1p-20f, 1.0f, 0x1p-20f},   {0.5f, 0.5f, 1.0f},          {0.1f, 0.2f, 0.3f},
        {1.0f, 1.0f, 255.0f * 2},     {0x1p-10f, 0x1p-10f, 0x1p-25f},
    };
    const bshape s = {1, 1, {200, 1, 1}, {200, 1, 1}};
    const qlite_op_code ops[] = {QLITE_OP_ADD, QLITE_OP_SUB, QLITE_OP_MUL};
    for (size_t d = 0; d < 2; d++) {
        int32_t lo, hi;
        q8_range(dts[d], &lo, &hi);
        const int32_t zps[][3] = {{lo, lo, lo}, {hi, hi, hi}, {lo, hi, (lo + hi) / 2}};
        for (size_t i = 0; i < Q8_COUNT(sc); i++)
            for (size_t z = 0; z < Q8_COUNT(zps); z++)
                for (size_t o = 0; o < Q8_COUNT(ops); o++) {
                    q8_params pa, pb, py;
                    q8_params_set(&pa, sc[i][0], zps[z][0]);
                    q8_params_set(&pb, sc[i][1], zps[z][1]);
                    q8_params_set(&py, sc[i][2], zps[z][2]);
                    check_binary(&rng, ops[o], dts[d], &s, &pa, &pb, &py,
                                 (qlite_activation)((i + z) % QLITE_ACT_COUNT));
                }
    }
}

/* One binary op on two rank-1 rows of the given shape, every variant against the reference. */
static void run_binary_rows(qlite_op_code op, qlite_dtype dt, const int64_t *shape,
                            const uint8_t *a, const uint8_t *b, const q8_params *pa,
                            const q8_params *pb, const q8_params *py, const char *what) {
    qlite_op_test_tensor in[2] = {q8_tensor(dt, 1, shape, a, pa), q8_tensor(dt, 1, shape, b, pb)};
    qlite_op_test_tensor out = q8_tensor(dt, 1, shape, NULL, py);
    qlite_op_options opt = qopts(QLITE_OPTIONS_BINARY);
    run_both(op, &opt, 2, in, &out, what);
}

/*
 * ADD / SUB where the output multiplier t / (2^20 sy) is 1 or 16 (t = 2 max(sa,
 * sb)), so a unit of the accumulator ta[a] + tb[b] is one (sixteen) output
 * steps, and every byte pair (a, b) once (a row of 65536): most outputs
 * saturate, but the pairs whose input stages nearly cancel (sb / sa = 0.7:
 * a - za = -7k, b - zb = 10k) land inside the range, where an input stage off by
 * one in its last bit shows. (Random scales put a stage's error 2^-20 of an
 * output step away from changing a byte.)
 */
static void test_binary_cancel(void **state) {
    enter_level(state);
    static const float sc[][3] = {
        /* sa, sb, multiplier */
        {1.0f, 0.7f, 1.0f},  {0.7f, 1.0f, 1.0f},   {1.0f, 0.7f, 16.0f},
        {0.3f, 0.9f, 1.0f},  {0.999f, 1.0f, 1.0f}, {0.61f, 0.427f, 16.0f},
    };
    const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    const qlite_op_code ops[] = {QLITE_OP_ADD, QLITE_OP_SUB};
    uint8_t *a = malloc(65536), *b = malloc(65536);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < 65536; i++) {
        a[i] = (uint8_t)i;
        b[i] = (uint8_t)(i >> 8);
    }
    const int64_t shape[1] = {65536};
    for (size_t d = 0; d < Q8_COUNT(dts); d++)
        for (size_t k = 0; k < Q8_COUNT(sc); k++)
            for (size_t o = 0; o < Q8_COUNT(ops); o++) {
                const bool u8 = dts[d] == QLITE_DTYPE_UINT8;
                const float t = 2.0f * (sc[k][0] > sc[k][1] ? sc[k][0] : sc[k][1]);
                q8_params pa, pb, py;
                q8_params_set(&pa, sc[k][0], u8 ? 128 : 0);
                q8_params_set(&pb, sc[k][1], u8 ? 120 : -8);
                q8_params_set(&py, t / (1048576.0f * sc[k][2]), u8 ? 128 : 0);
                char what[96];
                snprintf(what, sizeof what, "%s sa=%g sb=%g multiplier %g",
                         qlite_dtype_name(dts[d]), (double)sc[k][0], (double)sc[k][1],
                         (double)sc[k][2]);
                run_binary_rows(ops[o], dts[d], shape, a, b, &pa, &pb, &py, what);
            }
    /* SUB of a row with itself (every byte, 4100 values: vector bodies and tails)
     * at scales about 0.4 or 0.3 2^-19 apart (0.7 or 0.0123 and a float below; their
     * ratios have all 31 bits of the multiplier), output multiplier ~1: the larger operand's
     * stage is v 2^19 exactly (multiplier 1/2), the other's v 2^19 (1 - 0.4 2^-19)
     * rounded, so y = zy + about 0.4 v for every element: each element shows the
     * smaller operand's stage to its last bit. Both orders (a's stage, b's). */
    const int64_t rshape[1] = {4100};
    for (size_t i = 0; i < 4100; i++) a[i] = (uint8_t)(i * 7);
    for (size_t d = 0; d < Q8_COUNT(dts); d++)
        for (int which = 0; which < 4; which++)
            for (int z = 0; z < 2; z++) {
                const bool u8 = dts[d] == QLITE_DTYPE_UINT8;
                /* 0.4, 0.3 2^-19 apart; two larger scales */
                const float s0 = which < 2 ? 0.7f : 0.0123f;
                const float s1 = s0 * (1.0f - (which < 2 ? 0x1.99999ap-21f : 0x1.333334p-21f));
                const int32_t zp = z ? (u8 ? 200 : 77) : (u8 ? 128 : 0);
                q8_params pa, pb, py;
                q8_params_set(&pa, which % 2 ? s1 : s0, zp);
                q8_params_set(&pb, which % 2 ? s0 : s1, zp);
                q8_params_set(&py, 2.0f * s0 / 1048576.0f, u8 ? 128 : 0);
                char what[96];
                snprintf(what, sizeof what, "%s x - x, sa=%.9g sb=%.9g z=%d",
                         qlite_dtype_name(dts[d]), (double)pa.scale, (double)pb.scale, zp);
                run_binary_rows(QLITE_OP_SUB, dts[d], rshape, a, a, &pa, &pb, &py, what);
            }
    free(a);
    free(b);
}

/* ---------------------------------------------------------------- */
/* Table ops                                                          */
/* ---------------------------------------------------------------- */

static void test_lut(void **state) {
    enter_level(state);
    const qlite_op_code ops[] = {QLITE_OP_LOGISTIC, QLITE_OP_TANH, QLITE_OP_HARD_SWISH,
                                 QLITE_OP_GELU, QLITE_OP_QUANTIZE};
    const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x107);
    for (size_t oi = 0; oi < Q8_COUNT(ops); oi++)
        for (size_t di = 0; di < Q8_COUNT(dts); di++)
            for (size_t si = 0; si < Q8_COUNT(SIZES); si++) {
                const qlite_dtype dt = dts[di];
                /* QUANTIZE int8 -> int8/uint8 is the requantization table */
                const qlite_dtype dy = ops[oi] == QLITE_OP_QUANTIZE ? dts[1 - di] : dt;
                const int64_t shape[2] = {SIZES[si], 3};
                const size_t n = (size_t)SIZES[si] * 3;
                uint8_t *x = malloc(n);
                assert_non_null(x);
                q8_fill(&rng, x, n, dt);
                for (size_t i = 0; i < n && i < 256; i++) x[i] = (uint8_t)i; /* every byte */
                q8_params px, py;
                q8_params_set(&px, q8_rand_scale(&rng, -6, -2), q8_rand_zp(&rng, dt));
                q8_params_set(&py, q8_rand_scale(&rng, -8, -4), q8_rand_zp(&rng, dy));
                qlite_op_test_tensor in = q8_tensor(dt, 2, shape, x, &px);
                qlite_op_test_tensor out = q8_tensor(dy, 2, shape, NULL, &py);
                run_both(ops[oi], NULL, 1, &in, &out, qlite_dtype_name(dt));
                free(x);
            }
}

/* ---------------------------------------------------------------- */
/* QUANTIZE / DEQUANTIZE                                              */
/* ---------------------------------------------------------------- */

static void test_quantize(void **state) {
    enter_level(state);
    const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x0A11);
    for (size_t di = 0; di < 2; di++)
        for (size_t si = 0; si < Q8_COUNT(SIZES); si++)
            for (int per_channel = 0; per_channel < 2; per_channel++) {
                const qlite_dtype dt = dts[di];
                const int64_t shape[2] = {3, SIZES[si]};
                const size_t n = 3 * (size_t)SIZES[si];
                float *x = malloc(n * sizeof *x);
                assert_non_null(x);
                float scales[3];
                int32_t zps[3];
                for (int c = 0; c < 3; c++) {
                    scales[c] = q8_rand_scale(&rng, -8, 2);
                    zps[c] = q8_rand_zp(&rng, dt);
                }
                for (size_t i = 0; i < n; i++) {
                    const float s = scales[per_channel ? i / (size_t)SIZES[si] : 0];
                    switch (qlite_test_rng_u32(&rng) % 8) {
                    case 0: /* an exact tie k + 0.5 steps */
                        x[i] = s * ((float)((int)(qlite_test_rng_u32(&rng) % 300) - 150) + 0.5f);
                        break;
                    case 1: x[i] = s * qlite_test_rng_float(&rng, -1000.0f, 1000.0f); break;
                    default: x[i] = s * qlite_test_rng_float(&rng, -200.0f, 200.0f); break;
                    }
                }
                const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 3e38f, -3e38f,
                                         1e-40f};
                for (size_t i = 0; i < Q8_COUNT(special) && i < n; i++)
                    x[(i * 7) % n] = special[i];
                qlite_quant q = {.count = per_channel ? 3 : 1, .axis = 0, .scale = scales,
                                 .zero_point = zps};
                qlite_op_test_tensor in = qt_f32(2, shape, x);
                qlite_op_test_tensor out = qt(dt, 2, shape, NULL);
                out.quant = &q;
                run_both(QLITE_OP_QUANTIZE, NULL, 1, &in, &out,
                         per_channel ? "per channel" : "per tensor");

                /* and back: DEQUANTIZE of random codes with the same parameters */
                uint8_t *codes = malloc(n);
                assert_non_null(codes);
                q8_fill(&rng, codes, n, dt);
                qlite_op_test_tensor din = qt(dt, 2, shape, codes);
                din.quant = &q;
                qlite_op_test_tensor dout = qt(QLITE_DTYPE_FLOAT32, 2, shape, NULL);
                run_both(QLITE_OP_DEQUANTIZE, NULL, 1, &din, &dout,
                         per_channel ? "per channel" : "per tensor");
                free(codes);
                free(x);
            }
}

/* ---------------------------------------------------------------- */
/* SOFTMAX rows                                                       */
/* ---------------------------------------------------------------- */

static void test_softmax(void **state) {
    enter_level(state);
    const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x50F7);
    int variant = 0;
    for (size_t di = 0; di < 2; di++)
        for (size_t si = 0; si < Q8_COUNT(SIZES); si++) {
            const qlite_dtype dt = dts[di];
            const int64_t shape[2] = {3, SIZES[si]};
            const size_t n = 3 * (size_t)SIZES[si];
            uint8_t *x = malloc(n);
            assert_non_null(x);
            q8_fill(&rng, x, n, dt);
            if (variant % 5 == 4) memset(x, 0x7f, n); /* a constant row */
            q8_params px, py;
            /* input scales from a fine grid (many distinct e[d]) to coarse
             * (e[d] = 0 beyond a few steps); standard and random outputs */
            q8_params_set(&px, q8_rand_scale(&rng, -8, 1), q8_rand_zp(&rng, dt));
            if (variant % 7 == 6) /* 2^16 / sy = 2^32: the largest multiplier */
                q8_params_set(&py, 0x1p-16f, dt == QLITE_DTYPE_INT8 ? -128 : 0);
            else if (variant % 3 == 0)
                q8_params_set(&py, q8_rand_scale(&rng, -12, -6), q8_rand_zp(&rng, dt));
            else
                q8_params_set(&py, 1.0f / 256, dt == QLITE_DTYPE_INT8 ? -128 : 0);
            qlite_op_options o = qopts(QLITE_OPTIONS_SOFTMAX);
            o.u.softmax.axis = -1;
            o.u.softmax.beta = variant % 4 == 1 ? -0.7f : (variant % 4 == 2 ? 3.0f : 1.0f);
            qlite_op_test_tensor in = q8_tensor(dt, 2, shape, x, &px);
            qlite_op_test_tensor out = q8_tensor(dt, 2, shape, NULL, &py);
            char what[96];
            snprintf(what, sizeof what, "%s rows of %lld, sx=%g beta=%g sy=%g zy=%d",
                     qlite_dtype_name(dt), (long long)SIZES[si], (double)px.scale,
                     (double)o.u.softmax.beta, (double)py.scale, py.zp);
            run_both(QLITE_OP_SOFTMAX, &o, 1, &in, &out, what);
            free(x);
            variant++;
        }
}

/* ---------------------------------------------------------------- */
/* LAYER_NORM rows                                                    */
/* ---------------------------------------------------------------- */

static void test_layer_norm(void **state) {
    enter_level(state);
    const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x1A7E);
    int variant = 0;
    for (size_t di = 0; di < 2; di++)
        for (size_t si = 0; si < Q8_COUNT(SIZES); si++) {
            const qlite_dtype dt = dts[di];
            const int64_t n = SIZES[si], shape[2] = {3, n};
            uint8_t *x = malloc((size_t)(3 * n)), *g = malloc((size_t)n), *b = malloc((size_t)n);
            assert_non_null(x);
            assert_non_null(g);
            assert_non_null(b);
            q8_fill(&rng, x, (size_t)(3 * n), dt);
            q8_fill(&rng, g, (size_t)n, dt);
            q8_fill(&rng, b, (size_t)n, dt);
            if (variant % 4 == 3) memset(x + n, x[0], (size_t)n); /* a constant row */
            if (variant % 5 == 2) /* codes one step apart: eps dominates */
                for (int64_t i = 0; i < 3 * n; i++) x[i] = (uint8_t)(x[i] & 1);
            q8_params px, pg, pb, py;
            q8_params_set(&px, q8_rand_scale(&rng, -10, -2), q8_rand_zp(&rng, dt));
            q8_params_set(&pg, q8_rand_scale(&rng, -9, -5), q8_rand_zp(&rng, dt));
            /* |beta / sy| <= 255 * 2^-8 / 2^-12 < 2^13, the kernel's limit */
            q8_params_set(&pb, q8_rand_scale(&rng, -12, -8), q8_rand_zp(&rng, dt));
            /* ordinary output scales, and tiny ones that saturate */
            q8_params_set(&py, q8_rand_scale(&rng, variant % 3 ? -6 : -12, variant % 3 ? -3 : -9),
                          q8_rand_zp(&rng, dt));
            qlite_op_test_tensor in[3] = {q8_tensor(dt, 2, shape, x, &px),
                                          q8_tensor(dt, 1, &n, g, &pg),
                                          q8_tensor(dt, 1, &n, b, &pb)};
            in[1].is_const = in[2].is_const = true;
            qlite_op_test_tensor out = q8_tensor(dt, 2, shape, NULL, &py);
            qlite_op_options o = qopts(QLITE_OPTIONS_NORM);
            o.u.norm.axis = -1;
            o.u.norm.epsilon = variant % 6 == 5 ? 0.0f : (variant % 2 ? 1e-5f : 1e-2f);
            char what[96];
            snprintf(what, sizeof what, "%s rows of %lld, eps=%g", qlite_dtype_name(dt),
                     (long long)n, (double)o.u.norm.epsilon);
            qlite_op_test_tensor ref = out, got = out;
            const uint32_t nin = variant % 7 == 6 ? 2 : 3; /* without beta */
            assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, nin, in, 1, &ref, 1,
                                              QLITE_INTERP_REFERENCE_ONLY));
            assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, nin, in, 1, &got, 1, 0));
            if (memcmp(ref.out, got.out, ref.out_bytes) != 0)
                fail_msg("LAYER_NORM %s: the variant differs from the reference", what);
            qlite_op_test_free(1, &ref);
            qlite_op_test_free(1, &got);
            free(x);
            free(g);
            free(b);
            variant++;
        }
}

/* ---------------------------------------------------------------- */

/* The variant table: names unique, needs consistent with what runs. */
static void test_table(void **state) {
    (void)state;
    size_t n;
    const qlite_q8_ew_ukernels *rows = qlite_q8_ew_all(&n);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(rows[i].name);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(rows[i].name, rows[j].name);
    }
    qlite_q8_set_feature_cap(0u);
    assert_int_equal(qlite_q8_ew_features(), 0u);
    /* portable level: only rows that need nothing */
    for (int k = 0; k < QLITE_Q8_EW_KIND_COUNT; k++) {
        const qlite_q8_ew_ukernels *v = qlite_q8_ew_select((qlite_q8_ew_kind)k);
        if (v) assert_int_equal(v->needs, 0u);
    }
    qlite_q8_set_feature_cap(~0u);
}

/* QUANTIZE where the quotient x / scale is within a few ulps of a tie k + 0.5 (the
 * AVX-512 row forms it by a product and an FMA correction, not a division), for
 * scales of every magnitude, those beyond [2^-100, 2^100] (the division path) and
 * around those bounds included; plus random floats of every exponent. */
static void test_quantize_near_ties(void **state) {
    enter_level(state);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x71E5);
    const float fixed[] = {0x1p-100f, 0x1.fffffep-101f, 0x1p100f, 0x1.000002p100f, 1e-30f,
                           1e30f, 1.0f, 0.0078125f, 0.3f, 0.018658f, 3.3e-5f, 0x1.8p-126f};
    for (int round = 0; round < 24; round++) {
        const qlite_dtype dt = round % 2 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
        float scale = round < (int)Q8_COUNT(fixed) ? fixed[round]
                                                   : q8_rand_scale(&rng, -20, 10);
        int32_t zp = q8_rand_zp(&rng, dt);
        const size_t n = 6000;
        const int64_t shape[1] = {(int64_t)n};
        float *x = malloc(n * sizeof *x);
        assert_non_null(x);
        for (size_t i = 0; i < n; i++) {
            const uint32_t r = qlite_test_rng_u32(&rng);
            if (i % 4 == 3) { /* any float bits but NaN */
                uint32_t b = qlite_test_rng_u32(&rng);
                memcpy(&x[i], &b, sizeof b);
                if (x[i] != x[i]) x[i] = 0.0f;
                continue;
            }
            const float tie = (float)((int)(r % 601) - 300) + 0.5f;
            float v = tie * scale;
            for (int k = (int)(r >> 16) % 7 - 3; k != 0; k += k > 0 ? -1 : 1)
                v = nextafterf(v, k > 0 ? INFINITY : -INFINITY);
            x[i] = v;
        }
        qlite_quant q = {.count = 1, .axis = 0, .scale = &scale, .zero_point = &zp};
        qlite_op_test_tensor in = qt_f32(1, shape, x);
        qlite_op_test_tensor out = qt(dt, 1, shape, NULL);
        out.quant = &q;
        run_both(QLITE_OP_QUANTIZE, NULL, 1, &in, &out, "near ties");
        free(x);
    }
}

/* one test per ISA level, named "<test> avx512" etc. */
#define LEVEL_TESTS(fn)                                                            \
    {#fn " avx512", fn, NULL, leave_level, (void *)&LEVELS[0]},                    \
        {#fn " avx2", fn, NULL, leave_level, (void *)&LEVELS[1]},                  \
        {#fn " portable", fn, NULL, leave_level, (void *)&LEVELS[2]},              \
        {#fn " neon", fn, NULL, leave_level, (void *)&LEVELS[3]}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        LEVEL_TESTS(test_binary),
        LEVEL_TESTS(test_binary_extremes),
        LEVEL_TESTS(test_binary_cancel),
        LEVEL_TESTS(test_lut),
        LEVEL_TESTS(test_quantize),
        LEVEL_TESTS(test_quantize_near_ties),
        LEVEL_TESTS(test_softmax),
        LEVEL_TESTS(test_layer_norm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
