/*
 * test_kernel_matmul_q8.c — BATCH_MATMUL with 8-bit operands
 * (docs/quantization.md §4.2): acc = sum_k (a - za)(b - zb[n]),
 * y = clamp(zy + requantize(acc, sa sb[n] / sy)):
 *
 * (a) exact against that formula in int64: two activations (B per tensor
 *     with any zero point, int8 or uint8), a constant B per column (the N
 *     axis, with and without transpose_b), transpose_a, broadcast batch dims
 *     (B shared: batches folded into one GEMM; A broadcast; both batched),
 *     rank-1 operands, row counts below / above the tile; optimized with 1,
 *     2 and 3 threads (batches claimed per thread; fewer than 4 batches a
 *     thread in row chunks, a partial last chunk too) and the reference path;
 * (b) the NumPy golden cases of make_golden_nn_q8.py (set "bmm");
 * (c) error paths.
 */
#include "kernel_nn_golden.h"

typedef struct bmmq_case {
    qlite_dtype adt, bdt;
    uint32_t ar, br;
    int64_t ad[4], bd[4];      /* stored shapes */
    bool ta, tb, b_const, per_column;
    qlite_activation act;
} bmmq_case;

typedef struct bmmq_data {
    void *a, *b;
    q8_params pa, py;
    nnq_wparams pb;
} bmmq_data;

static size_t elems(uint32_t r, const int64_t *d) {
    size_t n = 1;
    for (uint32_t i = 0; i < r; i++) n *= (size_t)d[i];
    return n;
}

/* numpy matmul shapes: M, K, N, batch dims of the output. */
typedef struct bshape {
    int64_t M, K, N;
    uint32_t brank;
    int64_t bdims[4], astr[4], bstr[4];
    size_t batches;
} bshape;

static bshape shapes_of(const bmmq_case *c) {
    bshape s;
    memset(&s, 0, sizeof s);
    const bool av = c->ar == 1, bv = c->br == 1;
    s.M = av ? 1 : c->ad[c->ar - (c->ta ? 1 : 2)];
    s.K = c->ad[c->ar - (av || !c->ta ? 1 : 2)];
    s.N = bv ? 1 : c->bd[c->br - (c->tb ? 2 : 1)];
    const uint32_t ra = av ? 0 : c->ar - 2, rb = bv ? 0 : c->br - 2;
    s.brank = ra > rb ? ra : rb;
    int64_t as = 1, bs = 1;
    s.batches = 1;
    for (int i = (int)s.brank - 1; i >= 0; i--) {
        const int ia = i - (int)(s.brank - ra), ib = i - (int)(s.brank - rb);
        const int64_t da = ia >= 0 ? c->ad[ia] : 1, db = ib >= 0 ? c->bd[ib] : 1;
        s.bdims[i] = da > db ? da : db;
        s.astr[i] = da == 1 ? 0 : as;
        s.bstr[i] = db == 1 ? 0 : bs;
        as *= da;
        bs *= db;
        s.batches *= (size_t)s.bdims[i];
    }
    return s;
}

static qlite_status run(const bmmq_case *c, const bmmq_data *d, int threads, uint32_t flags,
                        qlite_op_test_tensor *out) {
    const bshape s = shapes_of(c);
    qlite_op_test_tensor in[2];
    in[0] = q8_tensor(c->adt, c->ar, c->ad, d->a, &d->pa);
    in[1] = c->b_const ? qt_const(c->bdt, c->br, c->bd, d->b) : qt(c->bdt, c->br, c->bd, d->b);
    in[1].quant = &d->pb.q;
    int64_t od[6];
    uint32_t orank = 0;
    for (uint32_t i = 0; i < s.brank; i++) od[orank++] = s.bdims[i];
    if (c->ar > 1) od[orank++] = s.M;
    if (c->br > 1) od[orank++] = s.N;
    *out = q8_tensor(c->adt, orank, od, NULL, &d->py);
    qlite_op_options o = qopts(QLITE_OPTIONS_BATCH_MATMUL);
    o.u.batch_matmul.transpose_a = c->ta;
    o.u.batch_matmul.transpose_b = c->tb;
    o.u.batch_matmul.activation = c->act;
    return qlite_op_test_run(QLITE_OP_BATCH_MATMUL, &o, 2, in, 1, out, threads, flags);
}

static void check_case(const bmmq_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const bshape s = shapes_of(c);
    const size_t na = elems(c->ar, c->ad), nb = elems(c->br, c->bd);
    bmmq_data d;
    d.a = malloc(na);
    d.b = malloc(nb);
    assert_true(d.a && d.b);
    nnq_fill_codes(&r, d.a, na, c->adt);
    nnq_fill_codes(&r, d.b, nb, c->bdt);
    q8_params_set(&d.pa, q8_rand_scale(&r, -6.0f, -2.0f), q8_rand_zp(&r, c->adt));
    const uint32_t nax = c->br - (c->tb ? 2 : 1);
    nnq_wparams_init(&d.pb, c->per_column ? (uint32_t)s.N : 1, (int32_t)nax);
    for (uint32_t i = 0; i < d.pb.q.count; i++) {
        d.pb.scale[i] = q8_rand_scale(&r, -7.0f, -3.0f);
        d.pb.zp[i] = q8_rand_zp(&r, c->bdt);
    }
    q8_params_set(&d.py, nnq_out_scale(&r, d.pa.scale, d.pb.scale[0], (size_t)s.K),
                  q8_rand_zp(&r, c->adt));
    const size_t ny = s.batches * (size_t)(s.M * s.N);
    int32_t *want = malloc(ny * sizeof(int32_t));
    assert_non_null(want);
    for (size_t t = 0; t < s.batches; t++) {
        size_t ao = 0, bo = 0, rem = t;
        for (int i = (int)s.brank - 1; i >= 0; i--) {
            const size_t idx = rem % (size_t)s.bdims[i];
            rem /= (size_t)s.bdims[i];
            ao += idx * (size_t)s.astr[i];
            bo += idx * (size_t)s.bstr[i];
        }
        for (int64_t m = 0; m < s.M; m++)
            for (int64_t n = 0; n < s.N; n++) {
                int64_t acc = 0;
                const size_t ch = c->per_column ? (size_t)n : 0;
                for (int64_t k = 0; k < s.K; k++) {
                    const size_t ai = ao * (size_t)(s.M * s.K) +
                                      (size_t)(c->ta ? k * s.M + m : m * s.K + k);
                    const size_t bi = bo * (size_t)(s.K * s.N) +
                                      (size_t)(c->tb ? n * s.K + k : k * s.N + n);
                    acc += (int64_t)(q8_get(d.a, ai, c->adt) - d.pa.zp) *
                           (q8_get(d.b, bi, c->bdt) - d.pb.zp[ch]);
                }
                const double mult =
                    (double)d.pa.scale * (double)d.pb.scale[ch] / (double)d.py.scale;
                int32_t lo, hi;
                q8_ref_act(c->act, d.py.scale, d.py.zp, c->adt, &lo, &hi);
                want[(t * (size_t)s.M + (size_t)m) * (size_t)s.N + (size_t)n] =
                    (int32_t)q8_clamp(d.py.zp + q8_ref_rq(acc, mult), lo, hi);
            }
    }
    const struct {
        int threads;
        uint32_t flags;
        const char *name;
    } runs[] = {{1, 0, "optimized"}, {2, 0, "2 threads"}, {3, 0, "3 threads"},
                {1, QLITE_INTERP_REFERENCE_ONLY, "reference"}};
    char what[160];
    for (size_t i = 0; i < Q8_COUNT(runs); i++) {
        qlite_op_test_tensor out;
        assert_qlite_ok(run(c, &d, runs[i].threads, runs[i].flags, &out));
        assert_int_equal(out.out_bytes, ny);
        snprintf(what, sizeof what, "%s A %s rank %u B %s rank %u ta %d tb %d const %d col %d",
                 runs[i].name, qlite_dtype_name(c->adt), c->ar, qlite_dtype_name(c->bdt), c->br,
                 c->ta, c->tb, c->b_const, c->per_column);
        nnq_expect_codes(what, out.out, want, ny, c->adt);
        qlite_op_test_free(1, &out);
    }
    free(want);
    free(d.a);
    free(d.b);
}

static void test_bmm_exact(void **state) {
    (void)state;
    const qlite_dtype I8 = QLITE_DTYPE_INT8, U8 = QLITE_DTYPE_UINT8;
    const bmmq_case cases[] = {
        /* attention-like: [B, heads, T, d] x [B, heads, d, T] */
        {I8, I8, 4, 4, {1, 4, 28, 16}, {1, 4, 16, 28}, false, false, false, false, QLITE_ACT_NONE},
        {I8, I8, 4, 4, {2, 2, 7, 9}, {2, 2, 7, 5}, true, false, false, false, QLITE_ACT_NONE},
        {U8, U8, 3, 3, {3, 5, 33}, {3, 40, 33}, false, true, false, false, QLITE_ACT_RELU},
        {U8, I8, 3, 2, {4, 6, 20}, {20, 17}, false, false, true, true, QLITE_ACT_NONE}, /* fold */
        {I8, I8, 2, 2, {3, 64}, {40, 64}, false, true, true, true, QLITE_ACT_RELU6},
        {I8, U8, 2, 3, {9, 10}, {3, 10, 12}, false, false, false, false, QLITE_ACT_NONE}, /* A bcast
                                                                                           */
        {I8, I8, 1, 2, {31}, {31, 18}, false, false, true, true, QLITE_ACT_NONE},     /* vector A */
        {U8, I8, 3, 1, {2, 5, 19}, {19}, false, false, false, false, QLITE_ACT_NONE}, /* vector B */
        {I8, I8, 2, 2, {1, 130}, {130, 70}, false, false, true, false, QLITE_ACT_NONE},
        {I8, I8, 3, 3, {2, 37, 8}, {1, 8, 50}, false, false, false, false, QLITE_ACT_NONE},
        /* fewer than 4 batches a thread: claimed in row chunks (2 threads: 64 + 64 rows;
         * 3 threads: 48 + 48 + 32), B packed before them (4 heads of 128 tokens) */
        {I8, I8, 4, 4, {1, 4, 128, 64}, {1, 4, 64, 128}, false, false, false, false,
         QLITE_ACT_NONE},
        {U8, U8, 3, 3, {2, 70, 24}, {2, 40, 24}, false, true, false, false, QLITE_ACT_NONE},
        {I8, I8, 3, 3, {3, 24, 50}, {3, 24, 20}, true, false, false, false, QLITE_ACT_RELU},
        {U8, I8, 3, 3, {2, 64, 20}, {2, 20, 17}, false, false, true, true, QLITE_ACT_NONE},
    };
    for (size_t i = 0; i < Q8_COUNT(cases); i++) check_case(&cases[i], 40 + i);
}

static void test_bmm_golden(void **state) {
    (void)state;
    nng_set g;
    nng_load("bmm", &g);
    for (size_t i = 0; i < g.n; i++) {
        const int32_t *m = nng_meta(&g, i), *p = m + NNG_P0;
        const int64_t bt = p[0], M = p[1], K = p[2], N = p[3];
        const bool pc = p[5] != 0;
        bmmq_case c = {.adt = q8_case_dtype(m[NNG_DTYPE]), .bdt = QLITE_DTYPE_INT8, .ar = 3,
                       .br = 3, .ad = {bt, M, K}, .bd = {bt, K, N}, .b_const = pc,
                       .per_column = pc, .act = (qlite_activation)m[NNG_ACT]};
        bmmq_data d;
        d.a = nng_codes(&g.x, (size_t)m[NNG_OFF_X], (size_t)(bt * M * K), c.adt);
        d.b = nng_codes(&g.w, (size_t)m[NNG_OFF_W], (size_t)(bt * K * N), QLITE_DTYPE_INT8);
        q8_params_set(&d.pa, nng_f(&g, i)[0], m[NNG_ZX]);
        q8_params_set(&d.py, nng_f(&g, i)[1], m[NNG_ZY]);
        nng_wparams(&g, i, pc ? (uint32_t)N : 1, 2, &d.pb);
        qlite_op_test_tensor out;
        assert_qlite_ok(run(&c, &d, 1, 0, &out));
        nng_expect("bmm", i, &g, out.out, c.adt, out.out_bytes);
        qlite_op_test_free(1, &out);
        free(d.a);
        free(d.b);
    }
    nng_free(&g);
}

static void test_bmm_errors(void **state) {
    (void)state;
    uint8_t a[12] = {0}, b[12] = {0};
    bmmq_data d = {.a = a, .b = b};
    q8_params_set(&d.pa, 0.1f, 1);
    q8_params_set(&d.py, 0.3f, 2);
    nnq_wparams_init(&d.pb, 1, 0);
    d.pb.scale[0] = 0.05f;
    d.pb.zp[0] = 4;
    bmmq_case c = {QLITE_DTYPE_INT8, QLITE_DTYPE_INT8, 2, 2, {3, 4}, {4, 3}, false, false, false,
                   false, QLITE_ACT_NONE};
    qlite_op_test_tensor out;
    assert_qlite_ok(run(&c, &d, 1, 0, &out));
    qlite_op_test_free(1, &out);
    /* int8 A with a float32 B: no kernel, the message names both */
    c.bdt = QLITE_DTYPE_FLOAT32;
    assert_int_equal(run(&c, &d, 1, 0, &out), QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "int8"));
    assert_non_null(strstr(qlite_last_error(), "float32"));
    /* per-column B along K */
    c.bdt = QLITE_DTYPE_INT8;
    nnq_wparams_init(&d.pb, 4, 0);
    for (int i = 0; i < 4; i++) d.pb.scale[i] = 0.05f, d.pb.zp[i] = 0;
    assert_int_equal(run(&c, &d, 1, 0, &out), QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "N axis"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bmm_exact),
        cmocka_unit_test(test_bmm_golden),
        cmocka_unit_test(test_bmm_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
