/*
 * test_kernel_binary_int8.c — int8/uint8 ADD SUB MUL MINIMUM MAXIMUM PRELU
 * (docs/quantization.md §4.3, §4.4, §4.10, §4.11).
 *
 * (a) bit-exact against the doc's formulas written here in int64
 *     (kernel_q8_check.h), over every kind of broadcast, both dtypes, random
 *     and extreme parameters (zero points at the ends of the range, scales
 *     2^+-20 apart, saturating outputs), every fused activation, 1, 2 and 3
 *     threads;
 * (b) bit-exact against NumPy golden vectors (make_golden_q8.py, its own
 *     Python implementation of the rounding rule);
 * (c) accuracy: the dequantized output against the real op on the
 *     dequantized inputs (clamped to the output's range), per element, with
 *     the bound of each op's scheme (docs/quantization.md §3.2):
 *       MUL, MIN/MAX, PRELU  0.5 LSB + 2^-(r+1) [r > 0] + |acc| m 2^-30
 *       ADD/SUB              the same + 1.3 t / (2^20 sy) (the 2^20 input stage)
 *     where r is the right shift of the final multiplier m (srdhm and the
 *     rounding shift round twice): at most 0.75 LSB (r = 1), tending to 0.5
 *     as r grows; ADD with scales 2^20 apart adds up to 1.3 t / (2^20 sy).
 * Hostile parameters: dtype mismatches (QLITE_ERR_DTYPE), missing or
 * per-channel activation parameters, multipliers beyond 2^30, ops with no
 * integer kernel.
 */
#include "kernel_q8_check.h"
#include "kernels/quant_params.h"

static const qlite_op_code BIN_OPS[] = {QLITE_OP_ADD, QLITE_OP_SUB, QLITE_OP_MUL,
                                        QLITE_OP_MINIMUM, QLITE_OP_MAXIMUM};

typedef struct shape_pair {
    uint32_t ra;
    int64_t a[QLITE_MAX_RANK];
    uint32_t rb;
    int64_t b[QLITE_MAX_RANK];
} shape_pair;

static const shape_pair PAIRS[] = {
    {4, {2, 3, 4, 5}, 4, {2, 3, 4, 5}},                          /* same shape */
    {4, {1, 5, 6, 8}, 1, {8}},                                   /* NHWC + per channel */
    {4, {2, 5, 6, 8}, 4, {1, 1, 1, 8}},
    {4, {2, 5, 6, 8}, 4, {2, 5, 6, 1}},                          /* per pixel */
    {4, {2, 5, 6, 8}, 4, {2, 1, 1, 8}},                          /* SE-block scale */
    {3, {3, 4, 5}, 0, {0}},                                      /* rank-0 b */
    {1, {1}, 3, {3, 4, 5}},                                      /* [1] a */
    {3, {3, 1, 5}, 3, {1, 4, 1}},                                /* both broadcast */
    {1, {7}, 3, {2, 3, 7}},                                      /* rank mismatch */
    {5, {2, 1, 4, 1, 3}, 5, {1, 3, 1, 2, 1}},                    /* alternating */
    {8, {2, 1, 2, 1, 2, 1, 2, 3}, 8, {1, 2, 1, 2, 1, 2, 1, 3}},  /* max rank */
    {2, {1, 1}, 2, {1, 1}},                                      /* one element */
};

/* Offset in an operand of shape (rank, dims) for output coordinates (out_rank). */
static size_t bcast_offset(uint32_t rank, const int64_t *dims, uint32_t out_rank,
                           const int64_t *coord) {
    size_t off = 0;
    for (uint32_t i = 0; i < rank; i++) {
        int64_t c = dims[i] == 1 ? 0 : coord[out_rank - rank + i];
        off = off * (size_t)dims[i] + (size_t)c;
    }
    return off;
}

/* Double-rounding term of one requantize by m: 2^-(r+1) for a right shift r > 0. */
static double stage_extra(double m) {
    const q8_mult mm = q8_ref_mult(m);
    return mm.shift < 0 ? ldexp(0.5, mm.shift) : 0.0;
}

/* The doc's formula for one element; *real is the float op on the dequantized
 * inputs and *bound the accuracy bound of (c) in output LSBs. */
static int32_t ref_binary(qlite_op_code code, int32_t a, int32_t b, const q8_params *pa,
                          const q8_params *pb, const q8_params *py, int32_t lo, int32_t hi,
                          qlite_dtype dt, double *real, double *bound) {
    const double sa = pa->scale, sb = pb->scale, sy = py->scale;
    const int64_t va = a - pa->zp, vb = b - pb->zp;
    const double ra = sa * (double)va, rb = sb * (double)vb;
    int32_t qlo, qhi;
    q8_range(dt, &qlo, &qhi);
    int64_t y;
    double m;
    int64_t acc;
    switch (code) {
    case QLITE_OP_ADD:
    case QLITE_OP_SUB: {
        const double t = 2.0 * (sa > sb ? sa : sb);
        const int64_t a1 = q8_ref_rq(va * (1 << 20), sa / t);
        const int64_t b1 = q8_ref_rq(vb * (1 << 20), sb / t);
        acc = code == QLITE_OP_ADD ? a1 + b1 : a1 - b1;
        m = t / (1048576.0 * sy);
        y = q8_clamp(py->zp + q8_ref_rq(acc, m), lo, hi);
        *real = code == QLITE_OP_ADD ? ra + rb : ra - rb;
        *bound = 1.3 * t / (1048576.0 * sy);
        break;
    }
    case QLITE_OP_MUL:
        acc = va * vb;
        m = sa * sb / sy;
        y = q8_clamp(py->zp + q8_ref_rq(acc, m), lo, hi);
        *real = ra * rb;
        *bound = 0.0;
        break;
    default: { /* MINIMUM, MAXIMUM: both rescaled to the output, then compared */
        const int64_t ya = q8_clamp(py->zp + q8_ref_rq(va, sa / sy), qlo, qhi);
        const int64_t yb = q8_clamp(py->zp + q8_ref_rq(vb, sb / sy), qlo, qhi);
        const bool mx = code == QLITE_OP_MAXIMUM;
        y = q8_clamp(mx ? (ya > yb ? ya : yb) : (ya < yb ? ya : yb), lo, hi);
        *real = mx ? (ra > rb ? ra : rb) : (ra < rb ? ra : rb);
        /* the result is one of the two rescales: the bound of the worse one */
        const double ea = stage_extra(sa / sy), eb = stage_extra(sb / sy);
        *bound = 0.5 + (ea > eb ? ea : eb) + 255.0 * (sa > sb ? sa : sb) / sy * ldexp(1.0, -30) +
                 1e-9;
        return (int32_t)y;
    }
    }
    *bound += 0.5 + stage_extra(m) + fabs((double)acc) * m * ldexp(1.0, -30) + 1e-9;
    return (int32_t)y;
}

typedef struct bin_case {
    qlite_op_code code;
    qlite_dtype dt;
    const shape_pair *p;
    q8_params pa, pb, py;
    qlite_activation act;
    int threads;
} bin_case;

/* Runs one case and checks (a) exactness and (c) accuracy on every element. */
static void check_bin_case(qlite_test_rng *rng, const bin_case *c, double *worst_lsb) {
    const shape_pair *p = c->p;
    const size_t na = q8_elems(p->ra, p->a), nb = q8_elems(p->rb, p->b);
    uint8_t *a = malloc(na), *b = malloc(nb);
    assert_non_null(a);
    assert_non_null(b);
    q8_fill(rng, a, na, c->dt);
    q8_fill(rng, b, nb, c->dt);
    /* make sure both ends of the range and the zero points appear */
    q8_set(a, 0, c->dt, c->dt == QLITE_DTYPE_INT8 ? -128 : 0);
    if (na > 1) q8_set(a, na - 1, c->dt, c->dt == QLITE_DTYPE_INT8 ? 127 : 255);
    if (nb > 1) q8_set(b, 1, c->dt, c->pb.zp);
    uint32_t orank = p->ra > p->rb ? p->ra : p->rb;
    int64_t od[QLITE_MAX_RANK];
    for (uint32_t i = 0; i < orank; i++) {
        int64_t da = i + p->ra >= orank ? p->a[i + p->ra - orank] : 1;
        int64_t db = i + p->rb >= orank ? p->b[i + p->rb - orank] : 1;
        od[i] = da == 1 ? db : da;
    }
    qlite_op_test_tensor in[2] = {q8_tensor(c->dt, p->ra, p->a, a, &c->pa),
                                  q8_tensor(c->dt, p->rb, p->b, b, &c->pb)};
    qlite_op_test_tensor out = q8_tensor(c->dt, orank, od, NULL, &c->py);
    qlite_op_options o = qopts(QLITE_OPTIONS_BINARY);
    o.u.binary.activation = c->act;
    assert_qlite_ok(qlite_op_test_run(c->code, &o, 2, in, 1, &out, c->threads, 0));
    const size_t n = q8_elems(orank, od);
    assert_int_equal(out.out_bytes, n);
    int32_t lo, hi;
    q8_ref_act(c->act, c->py.scale, c->py.zp, c->dt, &lo, &hi);
    const double rlo = ((double)lo - c->py.zp) * c->py.scale;
    const double rhi = ((double)hi - c->py.zp) * c->py.scale;
    int64_t coord[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; i < n; i++) {
        const int32_t va = q8_get(a, bcast_offset(p->ra, p->a, orank, coord), c->dt);
        const int32_t vb = q8_get(b, bcast_offset(p->rb, p->b, orank, coord), c->dt);
        double real, bound;
        const int32_t want =
            ref_binary(c->code, va, vb, &c->pa, &c->pb, &c->py, lo, hi, c->dt, &real, &bound);
        const int32_t got = q8_get(out.out, i, c->dt);
        if (got != want)
            fail_msg("%s %s: element %zu (a=%d b=%d; sa=%g za=%d sb=%g zb=%d sy=%g zy=%d act=%d) "
                     "is %d, the reference says %d",
                     qlite_op_name(c->code), qlite_dtype_name(c->dt), i, va, vb,
                     (double)c->pa.scale, c->pa.zp, (double)c->pb.scale, c->pb.zp,
                     (double)c->py.scale, c->py.zp, (int)c->act, got, want);
        real = real < rlo ? rlo : (real > rhi ? rhi : real);
        const double err = q8_err_lsb(got, c->py.scale, c->py.zp, real);
        if (err > bound)
            fail_msg("%s: element %zu is %.4f LSB from the real result (bound %.4f)",
                     qlite_op_name(c->code), i, err, bound);
        if (worst_lsb && err > *worst_lsb) *worst_lsb = err;
        for (uint32_t d = orank; d-- > 0;) {
            if (++coord[d] < od[d]) break;
            coord[d] = 0;
        }
    }
    qlite_op_test_free(1, &out);
    free(a);
    free(b);
}

static void test_reference_sweep(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x1D8);
    double worst = 0.0;
    for (size_t k = 0; k < Q8_COUNT(BIN_OPS); k++)
        for (size_t pi = 0; pi < Q8_COUNT(PAIRS); pi++)
            for (int d = 0; d < 2; d++)
                for (int rep = 0; rep < 3; rep++) {
                    bin_case c = {.code = BIN_OPS[k], .p = &PAIRS[pi], .threads = 1,
                                  .dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8};
                    q8_params_set(&c.pa, q8_rand_scale(&rng, -8, 2), q8_rand_zp(&rng, c.dt));
                    q8_params_set(&c.pb, q8_rand_scale(&rng, -8, 2), q8_rand_zp(&rng, c.dt));
                    q8_params_set(&c.py, q8_rand_scale(&rng, -8, 2), q8_rand_zp(&rng, c.dt));
                    if (rep == 1) { /* equal parameters everywhere */
                        q8_params_set(&c.pb, c.pa.scale, c.pa.zp);
                        q8_params_set(&c.py, c.pa.scale, c.pa.zp);
                    }
                    c.act = (qlite_activation)((pi + (size_t)rep) % QLITE_ACT_COUNT);
                    check_bin_case(&rng, &c, &worst);
                }
    /* srdhm then the rounding shift round twice: 0.5 + 2^-(r+1) <= 0.75 LSB (r = 1) */
    print_message("worst error over the sweep: %.4f LSB\n", worst);
    assert_true(worst <= 0.75 + 1e-6);
}

/* Scales 2^+-20 apart, zero points at the ends, outputs that saturate. */
static void test_extreme_parameters(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 77);
    const float sc[][3] = {{1.0f, 0x1p-20f, 1.0f},   {0x1p-20f, 1.0f, 0x1p-19f},
                           {0x1p-10f, 0x1p10f, 0x1p-12f}, {0.05f, 0.05f, 0.001f},
                           {0.5f, 0.25f, 3.0f},      {0x1p-20f, 0x1p-20f, 0x1p-21f},
                           {1.0f, 1.0f, 0x1p-8f},
                           /* ADD's output multiplier 8: accumulators can saturate the
                            * left shift, so the general requantize runs */
                           {1.0f, 1.0f, 0x1p-22f}};
    for (size_t k = 0; k < Q8_COUNT(BIN_OPS); k++)
        for (int d = 0; d < 2; d++)
            for (size_t s = 0; s < Q8_COUNT(sc); s++)
                for (int z = 0; z < 3; z++) {
                    bin_case c = {.code = BIN_OPS[k], .p = &PAIRS[z == 2 ? 1 : 0], .threads = 1,
                                  .dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8};
                    int32_t lo, hi;
                    q8_range(c.dt, &lo, &hi);
                    const int32_t zs[3][3] = {{lo, hi, lo}, {hi, lo, hi}, {lo, lo, hi}};
                    q8_params_set(&c.pa, sc[s][0], zs[z][0]);
                    q8_params_set(&c.pb, sc[s][1], zs[z][1]);
                    q8_params_set(&c.py, sc[s][2], zs[z][2]);
                    c.act = (qlite_activation)(s % QLITE_ACT_COUNT);
                    check_bin_case(&rng, &c, NULL);
                }
}

static void test_threads_match(void **state) {
    (void)state;
    static const shape_pair big = {4, {2, 64, 64, 32}, 1, {32}};
    /* same shape, just above the split threshold (MobileNetV2's 14x14x64 ADDs), 3 threads */
    static const shape_pair mid = {4, {1, 14, 14, 64}, 4, {1, 14, 14, 64}};
    qlite_test_rng rng;
    for (size_t k = 0; k < 2 * Q8_COUNT(BIN_OPS); k++) {
        qlite_test_rng_seed(&rng, 5);
        const bool m = k >= Q8_COUNT(BIN_OPS);
        bin_case c = {.code = BIN_OPS[k % Q8_COUNT(BIN_OPS)], .p = m ? &mid : &big,
                      .threads = m ? 3 : 2, .dt = QLITE_DTYPE_INT8};
        q8_params_set(&c.pa, 0.02f, -3);
        q8_params_set(&c.pb, 0.07f, 10);
        q8_params_set(&c.py, 0.05f, -20);
        c.act = QLITE_ACT_RELU6;
        check_bin_case(&rng, &c, NULL);
    }
}

/* ---------------------------------------------------------------- */
/* PRELU                                                             */
/* ---------------------------------------------------------------- */

/* x [2, 3, 4, C] with a slope of shape `ash` quantized per channel along its
 * last axis (nch scales) or per tensor (nch = 1). */
static void check_prelu(qlite_dtype dt, uint32_t arank, const int64_t *ash, uint32_t nch,
                        qlite_test_rng *rng) {
    const int64_t xs[4] = {2, 3, 4, 6};
    const size_t nx = q8_elems(4, xs), na = q8_elems(arank, ash);
    uint8_t x[144], al[144];
    assert_true(nx <= sizeof x && na <= sizeof al);
    q8_fill(rng, x, nx, dt);
    q8_fill(rng, al, na, dt);
    float ascale[8];
    int32_t azp[8];
    for (uint32_t c = 0; c < nch; c++) {
        ascale[c] = q8_rand_scale(rng, -9, -4);
        azp[c] = q8_rand_zp(rng, dt);
    }
    qlite_quant aq = {.count = nch, .axis = (int32_t)arank - 1, .scale = ascale,
                      .zero_point = azp};
    q8_params px, py;
    q8_params_set(&px, q8_rand_scale(rng, -6, 0), q8_rand_zp(rng, dt));
    q8_params_set(&py, q8_rand_scale(rng, -6, 0), q8_rand_zp(rng, dt));
    qlite_op_test_tensor in[2] = {q8_tensor(dt, 4, xs, x, &px), qt(dt, arank, ash, al)};
    in[1].quant = &aq;
    in[1].is_const = true;
    qlite_op_test_tensor out = q8_tensor(dt, 4, xs, NULL, &py);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_PRELU, NULL, 2, in, 1, &out, 1, 0));
    int32_t lo, hi;
    q8_range(dt, &lo, &hi);
    int64_t coord[4] = {0};
    for (size_t i = 0; i < nx; i++) {
        const size_t ai = bcast_offset(arank, ash, 4, coord);
        const uint32_t ch = nch == 1 ? 0 : (uint32_t)(ai % nch);
        const int64_t d = q8_get(x, i, dt) - px.zp;
        const int64_t dal = q8_get(al, ai, dt) - azp[ch];
        int64_t want;
        double m;
        int64_t acc;
        if (d >= 0) {
            acc = d;
            m = (double)px.scale / py.scale;
        } else {
            acc = d * dal;
            m = (double)px.scale * ascale[ch] / py.scale;
        }
        want = q8_clamp(py.zp + q8_ref_rq(acc, m), lo, hi);
        const int32_t got = q8_get(out.out, i, dt);
        if (got != want)
            fail_msg("PRELU %s element %zu (x=%d alpha=%d ch=%u) is %d, the reference says %d",
                     qlite_dtype_name(dt), i, q8_get(x, i, dt), q8_get(al, ai, dt), ch, got,
                     (int)want);
        /* (c): real PReLU of the dequantized values, clamped to the output range */
        double real = (double)px.scale * (double)d;
        if (d < 0) real *= (double)ascale[ch] * (double)dal;
        const double rlo = ((double)lo - py.zp) * py.scale, rhi = ((double)hi - py.zp) * py.scale;
        real = real < rlo ? rlo : (real > rhi ? rhi : real);
        const double bound = 0.5 + stage_extra(m) + fabs((double)acc) * m * ldexp(1.0, -30) + 1e-9;
        assert_true(q8_err_lsb(got, py.scale, py.zp, real) <= bound);
        for (uint32_t k = 4; k-- > 0;) {
            if (++coord[k] < xs[k]) break;
            coord[k] = 0;
        }
    }
    qlite_op_test_free(1, &out);
}

static void test_prelu(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 31);
    for (int d = 0; d < 2; d++) {
        const qlite_dtype dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
        for (int rep = 0; rep < 4; rep++) {
            check_prelu(dt, 1, (int64_t[]){6}, 6, &rng);          /* per channel [C] */
            check_prelu(dt, 3, (int64_t[]){1, 1, 6}, 6, &rng);    /* [1, 1, C] */
            check_prelu(dt, 1, (int64_t[]){6}, 1, &rng);          /* one scale */
            check_prelu(dt, 0, (int64_t[]){0}, 1, &rng);          /* scalar slope */
            check_prelu(dt, 4, (int64_t[]){2, 3, 4, 6}, 1, &rng); /* elementwise slope */
        }
    }
}

/* ---------------------------------------------------------------- */
/* (b) NumPy golden vectors                                          */
/* ---------------------------------------------------------------- */

static void run_golden(const char *set, qlite_op_code code) {
    q8_golden g;
    q8_golden_load(set, &g);
    for (size_t c = 0; c < g.n; c++) {
        const int32_t *row = q8_case(&g, c);
        const float *sc = q8_case_scales(&g, c);
        const qlite_dtype dt = q8_case_dtype(row[QG_DTYPE]);
        const uint32_t ra = (uint32_t)row[QG_RANK_A], rb = (uint32_t)row[QG_RANK_B];
        int64_t da[QLITE_MAX_RANK], db[QLITE_MAX_RANK], dy[QLITE_MAX_RANK];
        for (uint32_t i = 0; i < ra; i++) da[i] = row[QG_DIMS_A + i];
        for (uint32_t i = 0; i < rb; i++) db[i] = row[QG_DIMS_B + i];
        uint32_t ry = ra > rb ? ra : rb;
        for (uint32_t i = 0; i < ry; i++) {
            int64_t x = i + ra >= ry ? da[i + ra - ry] : 1, y = i + rb >= ry ? db[i + rb - ry] : 1;
            dy[i] = x == 1 ? y : x;
        }
        const size_t na = q8_elems(ra, da), nb = q8_elems(rb, db), ny = q8_elems(ry, dy);
        assert_int_equal(ny, (size_t)row[QG_COUNT_Y]);
        void *a = q8_golden_values(&g.a, (size_t)row[QG_OFF_A], na, dt);
        void *b = q8_golden_values(&g.b, (size_t)row[QG_OFF_B], nb, dt);
        q8_params pa, pb, py;
        q8_params_set(&pa, sc[0], row[QG_ZA]);
        q8_params_set(&pb, sc[1], row[QG_ZB]);
        q8_params_set(&py, sc[2], row[QG_ZY]);
        qlite_op_test_tensor in[2] = {q8_tensor(dt, ra, da, a, &pa), q8_tensor(dt, rb, db, b, &pb)};
        qlite_op_test_tensor out = q8_tensor(dt, ry, dy, NULL, &py);
        qlite_op_options o = qopts(QLITE_OPTIONS_BINARY);
        o.u.binary.activation = (qlite_activation)row[QG_PARAM];
        assert_qlite_ok(qlite_op_test_run(code, &o, 2, in, 1, &out, 1, 0));
        q8_expect_golden(set, c, out.out, dt, &g, (size_t)row[QG_OFF_Y], ny);
        qlite_op_test_free(1, &out);
        free(a);
        free(b);
    }
    q8_golden_free(&g);
}

static void test_golden_add(void **state) { (void)state; run_golden("add", QLITE_OP_ADD); }
static void test_golden_sub(void **state) { (void)state; run_golden("sub", QLITE_OP_SUB); }
static void test_golden_mul(void **state) { (void)state; run_golden("mul", QLITE_OP_MUL); }
static void test_golden_min(void **state) { (void)state; run_golden("min", QLITE_OP_MINIMUM); }
static void test_golden_max(void **state) { (void)state; run_golden("max", QLITE_OP_MAXIMUM); }
static void test_golden_prelu(void **state) { (void)state; run_golden("prelu", QLITE_OP_PRELU); }

/* Hand-derived values, every scale 1/4, zero points 0. ADD 2 + 1: t = 1/2,
 * a' = 2 * 2^20 * (1/2) = 2^20, b' = 2^19, y = 1.5 * 2^20 * t / (2^20 / 4) = 3. */
static void test_hand_values(void **state) {
    (void)state;
    q8_params p;
    q8_params_set(&p, 0.25f, 0);
    const int8_t a[4] = {2, -128, 127, 0}, b[4] = {1, -128, 127, -1};
    qlite_op_test_tensor in[2] = {q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, a, &p),
                                  q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, b, &p)};
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, NULL, &p);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0));
    const int8_t add[4] = {3, -128, 127, -1}; /* saturating at both ends */
    assert_memory_equal(out.out, add, 4);
    qlite_op_test_free(1, &out);
    /* MUL 2 * 1: 0.5 * 0.25 = 0.125 = 0.5 LSB, a tie, rounded away from zero: 1;
     * -128 * -128 and 127 * 127 saturate to 127; 0 * -1 = 0 */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_MUL, NULL, 2, in, 1, &out, 1, 0));
    const int8_t mul[4] = {1, 127, 127, 0};
    assert_memory_equal(out.out, mul, 4);
    qlite_op_test_free(1, &out);
    /* MAX with equal parameters is the plain byte maximum */
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_MAXIMUM, NULL, 2, in, 1, &out, 1, 0));
    const int8_t mx[4] = {2, -128, 127, 0};
    assert_memory_equal(out.out, mx, 4);
    qlite_op_test_free(1, &out);
}

static void test_errors(void **state) {
    (void)state;
    q8_params p, pu;
    q8_params_set(&p, 0.1f, 0);
    q8_params_set(&pu, 0.1f, 128);
    int8_t a[4] = {1, 2, 3, 4};
    const int64_t sh[1] = {4};
    qlite_op_test_tensor in[2] = {q8_tensor(QLITE_DTYPE_INT8, 1, sh, a, &p),
                                  q8_tensor(QLITE_DTYPE_INT8, 1, sh, a, &p)};
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 1, sh, NULL, &p);
    /* dtype mismatches: int8 + uint8, int8 -> uint8, int8 -> float32, float + int8 */
    in[1] = q8_tensor(QLITE_DTYPE_UINT8, 1, sh, a, &pu);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0), QLITE_ERR_DTYPE);
    in[1] = q8_tensor(QLITE_DTYPE_INT8, 1, sh, a, &p);
    out = q8_tensor(QLITE_DTYPE_UINT8, 1, sh, NULL, &pu);
    assert_int_equal(qlite_op_test_run(QLITE_OP_MUL, NULL, 2, in, 1, &out, 1, 0), QLITE_ERR_DTYPE);
    out = qt_f32(1, sh, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_SUB, NULL, 2, in, 1, &out, 1, 0), QLITE_ERR_DTYPE);
    const float f[4] = {1, 2, 3, 4};
    qlite_op_test_tensor fin[2] = {qt_f32(1, sh, f), in[1]};
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, fin, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    out = q8_tensor(QLITE_DTYPE_INT8, 1, sh, NULL, &p);
    /* no quantization parameters on an input or the output */
    in[0].quant = NULL;
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    in[0].quant = &p.q;
    out.quant = NULL;
    assert_int_equal(qlite_op_test_run(QLITE_OP_MAXIMUM, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* scale 0 / NaN and a zero point outside the range (the validator stops
     * these in a model; the kernel still refuses them) */
    q8_params bad;
    q8_params_set(&bad, 0.0f, 0);
    out.quant = &bad.q;
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    q8_params_set(&bad, NAN, 0);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    q8_params_set(&bad, 0.1f, 200);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* per-channel activation parameters */
    float s4[4] = {0.1f, 0.1f, 0.1f, 0.1f};
    int32_t z4[4] = {0, 0, 0, 0};
    qlite_quant pc = {.count = 4, .axis = 0, .scale = s4, .zero_point = z4};
    out.quant = &pc;
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    /* a multiplier beyond 2^30: MUL of scales 1 into an output scale of 1e-10 */
    q8_params one, tiny;
    q8_params_set(&one, 1.0f, 0);
    q8_params_set(&tiny, 1e-10f, 0);
    in[0].quant = &one.q;
    in[1].quant = &one.q;
    out.quant = &tiny.q;
    assert_int_equal(qlite_op_test_run(QLITE_OP_MUL, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    out.quant = &p.q;
    /* ops without an integer form, shapes that do not broadcast */
    assert_int_equal(qlite_op_test_run(QLITE_OP_DIV, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    assert_int_equal(qlite_op_test_run(QLITE_OP_POW, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    in[1] = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){3}, a, &p);
    assert_int_equal(qlite_op_test_run(QLITE_OP_ADD, NULL, 2, in, 1, &out, 1, 0), QLITE_ERR_SHAPE);
    /* PRELU: a slope that does not broadcast to x, a slope without parameters */
    in[1] = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){2, 4}, a, &p);
    assert_int_equal(qlite_op_test_run(QLITE_OP_PRELU, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in[1] = q8_tensor(QLITE_DTYPE_INT8, 1, sh, a, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_PRELU, NULL, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

/* The kernels' branch-free requantize equals src/quant.h's on its domain
 * (|x| 2^left <= INT32_MAX): every shift, edge and random operands. */
static void test_fast_requantize(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0xFA57);
    const int32_t m0s[4] = {1 << 30, INT32_MAX, 1518500250, 0};
    for (int32_t shift = -31; shift <= 30; shift++)
        for (int k = 0; k < 4 + 60; k++) {
            const int32_t m0 =
                k < 4 ? m0s[k] : (int32_t)((1u << 30) | (qlite_test_rng_u32(&rng) >> 2));
            const int left = shift > 0 ? shift : 0;
            const int64_t lim = (int64_t)INT32_MAX >> left;
            const qlite_rq_fast f = qlite_rq_fast_init(m0, shift);
            for (int i = 0; i < 200; i++) {
                int64_t x;
                if (i < 8) {
                    const int64_t edges[8] = {0,       1, -1, lim, -lim, lim / 2, -(lim / 2) - 1,
                                              lim > 3 ? 3 : 0};
                    x = edges[i];
                } else {
                    x = (int64_t)(qlite_test_rng_u32(&rng) % (uint32_t)(2 * lim + 1)) - lim;
                }
                assert_true(qlite_rq_fast_ok(x < 0 ? -x : x, shift));
                const int32_t want = qlite_requantize((int32_t)x, m0, shift);
                const int32_t got = qlite_rq_fast_apply((int32_t)x, &f);
                if (got != want)
                    fail_msg("x=%lld M0=%d shift=%d: fast %d, qlite_requantize %d", (long long)x,
                             m0, shift, got, want);
            }
        }
    assert_false(qlite_rq_fast_ok((int64_t)1 << 28, 4));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_requantize),
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_reference_sweep),
        cmocka_unit_test(test_extreme_parameters),
        cmocka_unit_test(test_threads_match),
        cmocka_unit_test(test_prelu),
        cmocka_unit_test(test_golden_add),
        cmocka_unit_test(test_golden_sub),
        cmocka_unit_test(test_golden_mul),
        cmocka_unit_test(test_golden_min),
        cmocka_unit_test(test_golden_max),
        cmocka_unit_test(test_golden_prelu),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
