/*
 * test_kernel_matmul.c — BATCH_MATMUL float32: numpy-style broadcasting of
 * batch dims, transpose_a/b, rank-1 operands, constant or activation B,
 * against a double-precision computation written here (tolerance: the
 * summation bound of kernel_f32_check.h over K terms); optimized vs
 * reference; 1 vs 2 and 3 threads bit-identical (batches claimed one at a
 * time by free threads: fewer, as many and more batches than 4 per thread);
 * error paths.
 */
#include "kernel_f32_check.h"

typedef struct mm_case {
    uint32_t ar, br;
    int64_t ad[5], bd[5]; /* stored shapes */
    bool ta, tb, b_const;
    qlite_activation act;
    uint32_t yr;
    int64_t yd[5];        /* expected output shape */
} mm_case;

static size_t prod(uint32_t r, const int64_t *d) {
    size_t n = 1;
    for (uint32_t i = 0; i < r; i++) n *= (size_t)d[i];
    return n;
}

/* Expected output via explicit index arithmetic over the output shape. */
static void mm_expect(const mm_case *c, const float *a, const float *b, double *want,
                      double *mag, size_t *K_out) {
    const bool av = c->ar == 1, bv = c->br == 1;
    const int64_t M = av ? 1 : c->ad[c->ar - (c->ta ? 1 : 2)];
    const int64_t K = c->ad[c->ar - (av || !c->ta ? 1 : 2)];
    const int64_t N = bv ? 1 : c->bd[c->br - (c->tb ? 2 : 1)];
    *K_out = (size_t)K;
    const uint32_t abr = av ? 0 : c->ar - 2, bbr = bv ? 0 : c->br - 2;
    const uint32_t R = abr > bbr ? abr : bbr;
    int64_t bdims[5];
    size_t batches = 1;
    for (uint32_t i = 0; i < R; i++) {
        const int ia = (int)i - (int)(R - abr), ib = (int)i - (int)(R - bbr);
        const int64_t da = ia >= 0 ? c->ad[ia] : 1, db = ib >= 0 ? c->bd[ib] : 1;
        bdims[i] = da > db ? da : db;
        batches *= (size_t)bdims[i];
    }
    float lo, hi;
    kc_act_range(c->act, &lo, &hi);
    for (size_t t = 0; t < batches; t++) {
        /* batch index -> A and B matrix indices (broadcast dims use index 0) */
        size_t rem = t, aidx = 0, bidx = 0, amul = 1, bmul = 1;
        for (int i = (int)R - 1; i >= 0; i--) {
            const size_t idx = rem % (size_t)bdims[i];
            rem /= (size_t)bdims[i];
            const int ia = i - (int)(R - abr), ib = i - (int)(R - bbr);
            if (ia >= 0) {
                aidx += (c->ad[ia] == 1 ? 0 : idx) * amul;
                amul *= (size_t)c->ad[ia];
            }
            if (ib >= 0) {
                bidx += (c->bd[ib] == 1 ? 0 : idx) * bmul;
                bmul *= (size_t)c->bd[ib];
            }
        }
        const float *A = a + aidx * (size_t)(M * K), *B = b + bidx * (size_t)(K * N);
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double s = 0, mg = 0;
                for (int64_t k = 0; k < K; k++) {
                    const double x = c->ta ? A[k * M + m] : A[m * K + k];
                    const double y = c->tb ? B[n * K + k] : B[k * N + n];
                    s += x * y;
                    mg += fabs(x * y);
                }
                const size_t i = (t * (size_t)M + (size_t)m) * (size_t)N + (size_t)n;
                want[i] = s < lo ? lo : (s > hi ? hi : s);
                mag[i] = mg;
            }
    }
}

static qlite_status run_mm(const mm_case *c, const float *a, const float *b, int threads,
                           uint32_t flags, qlite_op_test_tensor *out) {
    qlite_op_test_tensor in[2];
    in[0] = kc_tensor(c->ar, c->ad, a, false);
    in[1] = kc_tensor(c->br, c->bd, b, c->b_const);
    *out = kc_tensor(c->yr, c->yd, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_BATCH_MATMUL);
    o.u.batch_matmul.transpose_a = c->ta;
    o.u.batch_matmul.transpose_b = c->tb;
    o.u.batch_matmul.activation = c->act;
    return qlite_op_test_run(QLITE_OP_BATCH_MATMUL, &o, 2, in, 1, out, threads, flags);
}

static void check_case(const mm_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    const size_t na = prod(c->ar, c->ad), nb = prod(c->br, c->bd), ny = prod(c->yr, c->yd);
    float *a = kc_alloc(na), *b = kc_alloc(nb);
    kc_fill(&r, a, na, -1.0f, 1.0f);
    kc_fill(&r, b, nb, -1.0f, 1.0f);
    double *want = kc_alloc_d(ny), *mag = kc_alloc_d(ny);
    size_t K;
    mm_expect(c, a, b, want, mag, &K);
    qlite_op_test_tensor o1, o2, o3, oref;
    assert_qlite_ok(run_mm(c, a, b, 1, 0, &o1));
    assert_qlite_ok(run_mm(c, a, b, 2, 0, &o2));
    assert_qlite_ok(run_mm(c, a, b, 3, 0, &o3));
    assert_qlite_ok(run_mm(c, a, b, 1, KC_REF_ONLY, &oref));
    assert_int_equal(o1.out_rank, c->yr);
    for (uint32_t i = 0; i < c->yr; i++) assert_int_equal(o1.out_dims[i], c->yd[i]);
    kc_check_sum("matmul", o1.out, want, mag, ny, (double)K);
    kc_check_sum("matmul ref", oref.out, want, mag, ny, (double)K);
    kc_check_equal("matmul threads", o1.out, o2.out, ny);
    kc_check_equal("matmul 3 threads", o1.out, o3.out, ny);
    qlite_op_test_free(1, &o1);
    qlite_op_test_free(1, &o2);
    qlite_op_test_free(1, &o3);
    qlite_op_test_free(1, &oref);
    free(a);
    free(b);
    free(want);
    free(mag);
}

static void test_matmul_cases(void **state) {
    (void)state;
    static const mm_case cases[] = {
        /* plain 2-D, constant B */
        {2, 2, {5, 7}, {7, 3}, false, false, true, QLITE_ACT_NONE, 2, {5, 3}},
        /* transformer projection: [B, T, D] x [D, D'] folds batches into M */
        {3, 2, {2, 9, 32}, {32, 48}, false, false, true, QLITE_ACT_NONE, 3, {2, 9, 48}},
        /* attention scores and context: [B, H, T, d] x [B, H, d, T] */
        {4, 4, {1, 4, 7, 16}, {1, 4, 7, 16}, false, true, false, QLITE_ACT_NONE, 4, {1, 4, 7, 7}},
        {4, 4, {1, 4, 7, 7}, {1, 4, 7, 16}, false, false, false, QLITE_ACT_NONE, 4, {1, 4, 7, 16}},
        /* a transformer's 4 heads of 128 tokens (the fast GEMM per batch), and
         * 13 / 29 batches: ranges of several per claim at 2 and 3 threads */
        {4, 4, {1, 4, 128, 64}, {1, 4, 64, 128}, false, false, false, QLITE_ACT_NONE, 4,
         {1, 4, 128, 128}},
        {3, 3, {13, 9, 16}, {13, 16, 11}, false, false, false, QLITE_ACT_NONE, 3, {13, 9, 11}},
        {3, 3, {29, 5, 8}, {29, 6, 8}, false, true, false, QLITE_ACT_NONE, 3, {29, 5, 6}},
        /* broadcasting batch dims both ways */
        {3, 3, {1, 5, 8}, {3, 8, 6}, false, false, false, QLITE_ACT_RELU, 3, {3, 5, 6}},
        {4, 3, {2, 1, 3, 4}, {5, 4, 2}, false, false, false, QLITE_ACT_NONE, 4, {2, 5, 3, 2}},
        /* transposes */
        {3, 3, {2, 6, 5}, {2, 4, 6}, true, true, false, QLITE_ACT_NONE, 3, {2, 5, 4}},
        {2, 2, {40, 13}, {40, 20}, true, false, true, QLITE_ACT_RELU6, 2, {13, 20}},
        /* rank-1 operands */
        {1, 2, {6}, {6, 4}, false, false, true, QLITE_ACT_NONE, 1, {4}},
        {3, 1, {2, 3, 6}, {6}, false, false, true, QLITE_ACT_NONE, 2, {2, 3}},
        {1, 1, {9}, {9}, false, false, false, QLITE_ACT_NONE, 0, {0}},
        /* around the tiles and the K block */
        {2, 2, {17, 300}, {300, 33}, false, false, true, QLITE_ACT_NONE, 2, {17, 33}},
        {3, 3, {3, 1, 64}, {3, 64, 64}, false, false, false, QLITE_ACT_NONE, 3, {3, 1, 64}},
        /* K = 0 */
        {2, 2, {3, 0}, {0, 4}, false, false, true, QLITE_ACT_NONE, 2, {3, 4}},
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_case(&cases[i], 60 + i);
}

static void test_matmul_errors(void **state) {
    (void)state;
    float a[64] = {0}, b[64] = {0};
    qlite_op_test_tensor in[2], out;
    qlite_op_options o = kc_options(QLITE_OPTIONS_BATCH_MATMUL);
    in[0] = kc_tensor(2, (int64_t[]){3, 4}, a, false);
    in[1] = kc_tensor(2, (int64_t[]){5, 2}, b, true); /* K 4 vs 5 */
    out = kc_tensor(2, (int64_t[]){3, 2}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_BATCH_MATMUL, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in[0] = kc_tensor(3, (int64_t[]){2, 3, 4}, a, false);
    in[1] = kc_tensor(3, (int64_t[]){3, 4, 2}, b, false); /* batch 2 vs 3 */
    out = kc_tensor(3, (int64_t[]){3, 3, 2}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_BATCH_MATMUL, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in[1] = kc_tensor(3, (int64_t[]){2, 4, 2}, b, false);
    in[1].dtype = QLITE_DTYPE_INT64;
    out = kc_tensor(3, (int64_t[]){2, 3, 2}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_BATCH_MATMUL, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_cases),
        cmocka_unit_test(test_matmul_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
