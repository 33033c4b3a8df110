/*
 * test_kernel_reduce_int8.c — int8/uint8 REDUCE_MEAN, REDUCE_SUM, REDUCE_MAX,
 * REDUCE_MIN (docs/quantization.md §4.5) on every path of reduce.c: global
 * average pooling over H, W of NHWC (columns), contiguous rows, everything,
 * two separate reduced runs (the general walk), reduced dims of size 1 (a
 * rescale), keep_dims, empty reductions, long sums.
 *
 * (a) exact against the doc's formula written here (int64 sums, the
 *     reference requantize of kernel_q8_check.h);
 * (b) exact against NumPy golden vectors (make_golden_q8.py);
 * (c) accuracy against the real mean / sum / max / min of the dequantized
 *     input, clamped to the output range: 0.5 + 2^-(r+1) + |acc| m 2^-30 LSB
 *     (one requantization, §3.2).
 */
#include "kernel_q8_check.h"

static const qlite_op_code RED_OPS[4] = {QLITE_OP_REDUCE_MEAN, QLITE_OP_REDUCE_SUM,
                                         QLITE_OP_REDUCE_MAX, QLITE_OP_REDUCE_MIN};

typedef struct red_case {
    int kind; /* index in RED_OPS */
    qlite_dtype dt;
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    uint32_t mask; /* reduced axes; 0 = all */
    bool keep;
    q8_params px, py;
    int threads;
} red_case;

static void run_reduce(const red_case *c, const void *x, qlite_op_test_tensor *out,
                       int64_t *od, uint32_t *orank) {
    int32_t axes[QLITE_MAX_RANK];
    uint32_t na = 0;
    *orank = 0;
    for (uint32_t i = 0; i < c->rank; i++) {
        const bool r = c->mask == 0 || (c->mask >> i & 1);
        /* odd axes written negative */
        if (r && c->mask) axes[na++] = (int32_t)i - (i % 2 ? (int32_t)c->rank : 0);
        if (!r) od[(*orank)++] = c->dims[i];
        else if (c->keep) od[(*orank)++] = 1;
    }
    qlite_op_options o = qopts(QLITE_OPTIONS_REDUCE);
    o.u.reduce.count = na;
    o.u.reduce.axes = na ? axes : NULL;
    o.u.reduce.keep_dims = c->keep;
    qlite_op_test_tensor in = q8_tensor(c->dt, c->rank, c->dims, x, &c->px);
    *out = q8_tensor(c->dt, *orank, od, NULL, &c->py);
    assert_qlite_ok(qlite_op_test_run(RED_OPS[c->kind], &o, 1, &in, 1, out, c->threads, 0));
}

static void check_reduce(qlite_test_rng *rng, const red_case *c, double *worst) {
    const size_t n = q8_elems(c->rank, c->dims);
    uint8_t *x = malloc(n ? n : 1);
    assert_non_null(x);
    q8_fill(rng, x, n, c->dt);
    qlite_op_test_tensor out;
    int64_t od[QLITE_MAX_RANK];
    uint32_t orank;
    run_reduce(c, x, &out, od, &orank);

    /* reference: output index of each input element */
    size_t on = 1, cnt = 1;
    for (uint32_t i = 0; i < c->rank; i++) {
        if (c->mask == 0 || (c->mask >> i & 1)) cnt *= (size_t)c->dims[i];
        else on *= (size_t)c->dims[i];
    }
    assert_int_equal(out.out_bytes, on);
    int64_t *acc = calloc(on ? on : 1, sizeof *acc);
    double *racc = calloc(on ? on : 1, sizeof *racc);
    assert_non_null(acc);
    assert_non_null(racc);
    const bool sum = c->kind < 2;
    for (size_t o = 0; o < on; o++) {
        acc[o] = sum ? 0 : (c->kind == 2 ? INT64_MIN : INT64_MAX);
        racc[o] = sum ? 0.0 : (c->kind == 2 ? -INFINITY : INFINITY);
    }
    int64_t coord[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t o = 0;
        for (uint32_t d = 0; d < c->rank; d++)
            if (!(c->mask == 0 || (c->mask >> d & 1)))
                o = o * (size_t)c->dims[d] + (size_t)coord[d];
        const int64_t v = q8_get(x, i, c->dt);
        const double r = (double)c->px.scale * (double)(v - c->px.zp);
        if (sum) {
            acc[o] += v - c->px.zp;
            racc[o] += r;
        } else if (c->kind == 2) {
            acc[o] = v > acc[o] ? v : acc[o];
            racc[o] = r > racc[o] ? r : racc[o];
        } else {
            acc[o] = v < acc[o] ? v : acc[o];
            racc[o] = r < racc[o] ? r : racc[o];
        }
        for (uint32_t d = c->rank; d-- > 0;) {
            if (++coord[d] < c->dims[d]) break;
            coord[d] = 0;
        }
    }
    int32_t lo, hi;
    q8_range(c->dt, &lo, &hi);
    const double sy = c->py.scale;
    const double rlo = ((double)lo - c->py.zp) * sy, rhi = ((double)hi - c->py.zp) * sy;
    for (size_t o = 0; o < on; o++) {
        int64_t want;
        double m = 0.0, real = racc[o];
        int64_t a = 0;
        if (cnt == 0) {
            want = c->kind == 2 ? lo : c->kind == 3 ? hi : q8_clamp(c->py.zp, lo, hi);
        } else {
            a = sum ? acc[o] : acc[o] - c->px.zp;
            m = c->kind == 0 ? (double)c->px.scale / ((double)c->py.scale * (double)cnt)
                             : (double)c->px.scale / (double)c->py.scale;
            if (c->kind == 0) real /= (double)cnt;
            want = q8_clamp(c->py.zp + q8_ref_rq(a, m), lo, hi);
        }
        const int32_t got = q8_get(out.out, o, c->dt);
        if (got != want)
            fail_msg("%s %s mask %#x keep %d: output %zu is %d, the reference says %d",
                     qlite_op_name(RED_OPS[c->kind]), qlite_dtype_name(c->dt), c->mask, c->keep,
                     o, got, (int)want);
        if (cnt == 0) continue;
        real = real < rlo ? rlo : (real > rhi ? rhi : real);
        const q8_mult mm = q8_ref_mult(m);
        const double bound = 0.5 + (mm.shift < 0 ? ldexp(0.5, mm.shift) : 0.0) +
                             fabs((double)a) * m * ldexp(1.0, -30) + 1e-9;
        const double err = q8_err_lsb(got, c->py.scale, c->py.zp, real);
        if (err > bound)
            fail_msg("%s: output %zu is %.4f LSB from the real value (bound %.4f)",
                     qlite_op_name(RED_OPS[c->kind]), o, err, bound);
        if (worst && err > *worst) *worst = err;
    }
    free(acc);
    free(racc);
    qlite_op_test_free(1, &out);
    free(x);
}

static const struct {
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    uint32_t mask;
    bool keep;
} SHAPES[] = {
    {4, {2, 5, 5, 16}, 0x6, true},   /* global average pool, NHWC */
    {4, {1, 7, 7, 32}, 0x6, false},
    {2, {3, 50}, 0x2, false},        /* rows */
    {2, {3, 50}, 0, false},          /* everything */
    {3, {4, 3, 5}, 0x5, true},       /* two runs: general walk */
    {4, {2, 3, 4, 5}, 0xA, false},
    {3, {5, 1, 6}, 0x2, false},      /* a reduced dim of size 1: rescale */
    {2, {1, 3000}, 0x2, false},      /* long sums */
    {3, {2, 0, 3}, 0x2, true},       /* empty reduction */
    {1, {1}, 0x1, false},            /* one element */
};

static void test_reference(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0x4ED);
    double worst = 0.0;
    for (size_t s = 0; s < Q8_COUNT(SHAPES); s++)
        for (int kind = 0; kind < 4; kind++)
            for (int d = 0; d < 2; d++)
                for (int rep = 0; rep < 4; rep++) {
                    red_case c = {.kind = kind, .dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8,
                                  .rank = SHAPES[s].rank, .mask = SHAPES[s].mask,
                                  .keep = SHAPES[s].keep, .threads = 1};
                    memcpy(c.dims, SHAPES[s].dims, sizeof c.dims);
                    int32_t lo, hi;
                    q8_range(c.dt, &lo, &hi);
                    switch (rep) {
                    case 0: /* the same parameters in and out (what the converter emits) */
                        q8_params_set(&c.px, 0.02f, q8_rand_zp(&rng, c.dt));
                        c.py = c.px;
                        q8_params_set(&c.py, c.px.scale, c.px.zp);
                        break;
                    case 1:
                        q8_params_set(&c.px, q8_rand_scale(&rng, -6, 0), q8_rand_zp(&rng, c.dt));
                        q8_params_set(&c.py, q8_rand_scale(&rng, -6, 0), q8_rand_zp(&rng, c.dt));
                        break;
                    case 2: /* scales 2^20 apart, zero points at the ends */
                        q8_params_set(&c.px, 0x1p-20f, hi);
                        q8_params_set(&c.py, 1.0f, lo);
                        break;
                    default:
                        q8_params_set(&c.px, 0.5f, lo);
                        q8_params_set(&c.py, kind == 1 ? 0x1p19f : 0x1p-12f, hi);
                        break;
                    }
                    check_reduce(&rng, &c, &worst);
                }
    print_message("worst error: %.4f LSB\n", worst);
}

/* Mean over H, W with equal parameters: the rounded mean of the codes. */
static void test_hand_values(void **state) {
    (void)state;
    q8_params p;
    q8_params_set(&p, 0.1f, -3);
    /* [1, 2, 2, 2]: channel 0 = {1, 2, 3, 5} -> mean of (x + 3) = 5.75 -> 6 -> 3;
     * channel 1 = {-128, -128, -128, -127} -> mean -124.75 -> -125 -> -128 */
    const int8_t x[8] = {1, -128, 2, -128, 3, -128, 5, -127};
    red_case c = {.kind = 0, .dt = QLITE_DTYPE_INT8, .rank = 4, .dims = {1, 2, 2, 2},
                  .mask = 0x6, .keep = true, .threads = 1};
    q8_params_set(&c.px, p.scale, p.zp);
    q8_params_set(&c.py, p.scale, p.zp);
    qlite_op_test_tensor out;
    int64_t od[QLITE_MAX_RANK];
    uint32_t orank;
    run_reduce(&c, x, &out, od, &orank);
    assert_int_equal(orank, 4);
    assert_memory_equal(out.out, ((int8_t[]){3, -128}), 2);
    qlite_op_test_free(1, &out);
    /* ties: the multiplier 1/2 is M0 = 2^30, shift 0, so srdhm alone rounds and
     * its ties go toward +inf: {0, 1} -> 0.5 -> 1, {-1, -2} -> -1.5 -> -1 */
    const int8_t t[4] = {0, 1, -1, -2};
    c = (red_case){.kind = 0, .dt = QLITE_DTYPE_INT8, .rank = 2, .dims = {2, 2}, .mask = 0x2,
                   .threads = 1};
    q8_params_set(&c.px, 1.0f, 0);
    q8_params_set(&c.py, 1.0f, 0);
    run_reduce(&c, t, &out, od, &orank);
    assert_memory_equal(out.out, ((int8_t[]){1, -1}), 2);
    qlite_op_test_free(1, &out);
}

static void test_threads(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 12);
    for (int kind = 0; kind < 4; kind++) {
        red_case c = {.kind = kind, .dt = QLITE_DTYPE_INT8, .rank = 2, .dims = {4096, 64},
                      .mask = 0x2, .threads = 2};
        q8_params_set(&c.px, 0.03f, 7);
        q8_params_set(&c.py, 0.02f, -9);
        check_reduce(&rng, &c, NULL);
        /* the columns path (inner positions split): MobileNetV2's global pool, uint8,
         * 2 and 3 threads; the first axis of a wide matrix */
        red_case g = {.kind = kind, .dt = QLITE_DTYPE_UINT8, .rank = 4, .dims = {2, 7, 7, 1280},
                      .mask = 0x6, .keep = true, .threads = 2 + kind % 2};
        q8_params_set(&g.px, 0.05f, 120);
        q8_params_set(&g.py, 0.04f, 100);
        check_reduce(&rng, &g, NULL);
        /* one image (62720 codes): split between threads since the cost counts bytes */
        red_case g1 = {.kind = kind, .dt = QLITE_DTYPE_INT8, .rank = 4, .dims = {1, 7, 7, 1280},
                       .mask = 0x6, .keep = kind % 2 == 0, .threads = 2};
        q8_params_set(&g1.px, 0.05f, -20);
        q8_params_set(&g1.py, 0.04f, 3);
        check_reduce(&rng, &g1, NULL);
        /* the int8 transformer's mean over its 128 tokens (32 KiB: serial below 48 KiB
         * read, reduce.c) and 192 tokens (48 KiB: threaded), at 1, 2 and 3 threads */
        for (int t = 1; t <= 3; t++) {
            red_case m = {.kind = kind, .dt = QLITE_DTYPE_INT8, .rank = 3, .dims = {1, 128, 256},
                          .mask = 0x2, .keep = t == 2, .threads = t};
            q8_params_set(&m.px, 0.05f, -5);
            q8_params_set(&m.py, 0.03f, 11);
            check_reduce(&rng, &m, NULL);
            m.dims[1] = 192;
            check_reduce(&rng, &m, NULL);
        }
        red_case f = {.kind = kind, .dt = QLITE_DTYPE_INT8, .rank = 2, .dims = {50, 4099},
                      .mask = 0x1, .threads = 3};
        q8_params_set(&f.px, 0.03f, 7);
        q8_params_set(&f.py, 0.02f, -9);
        check_reduce(&rng, &f, NULL);
    }
}

static void test_golden(void **state) {
    (void)state;
    q8_golden g;
    q8_golden_load("reduce", &g);
    for (size_t k = 0; k < g.n; k++) {
        const int32_t *row = q8_case(&g, k);
        const float *sc = q8_case_scales(&g, k);
        red_case c = {.kind = row[QG_X0], .dt = q8_case_dtype(row[QG_DTYPE]),
                      .rank = (uint32_t)row[QG_RANK_A], .mask = (uint32_t)row[QG_X1],
                      .keep = row[QG_X2] != 0, .threads = 1};
        for (uint32_t i = 0; i < c.rank; i++) c.dims[i] = row[QG_DIMS_A + i];
        q8_params_set(&c.px, sc[0], row[QG_ZA]);
        q8_params_set(&c.py, sc[2], row[QG_ZY]);
        void *x = q8_golden_values(&g.a, (size_t)row[QG_OFF_A], q8_elems(c.rank, c.dims), c.dt);
        qlite_op_test_tensor out;
        int64_t od[QLITE_MAX_RANK];
        uint32_t orank;
        run_reduce(&c, x, &out, od, &orank);
        assert_int_equal(out.out_bytes, (size_t)row[QG_COUNT_Y]);
        q8_expect_golden(qlite_op_name(RED_OPS[c.kind]), k, out.out, c.dt, &g,
                         (size_t)row[QG_OFF_Y], (size_t)row[QG_COUNT_Y]);
        qlite_op_test_free(1, &out);
        free(x);
    }
    q8_golden_free(&g);
}

static void test_errors(void **state) {
    (void)state;
    q8_params p, pu;
    q8_params_set(&p, 0.1f, 0);
    q8_params_set(&pu, 0.1f, 128);
    const int8_t x[4] = {1, 2, 3, 4};
    qlite_op_options o = qopts(QLITE_OPTIONS_REDUCE);
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, x, &p);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_UINT8, 0, NULL, NULL, &pu);
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_MEAN, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    out = qt_f32(0, NULL, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_SUM, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    out = q8_tensor(QLITE_DTYPE_INT8, 0, NULL, NULL, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_MAX, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* a sum of more than 2^23 values could overflow int32: refused at prepare
     * (prepare reads no data, so none is given) */
    out = q8_tensor(QLITE_DTYPE_INT8, 0, NULL, NULL, &p);
    qlite_op_test_tensor big = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){4096, 4097}, NULL, &p);
    assert_int_equal(qlite_op_test_run(QLITE_OP_REDUCE_MEAN, &o, 1, &big, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
