/*
 * test_kernel_gemm.c — the float32 GEMM (interpreter/kernels/gemm_f32.c):
 * every ISA variant this CPU runs, sizes equal to, below, above and multiples
 * of the register tiles (6x8, 6x16, 8x32) and of the K block (256), both B
 * layouts, transposed A, bias, clamp; against a double-precision scalar
 * computation written here; 1 vs 2 threads bit-identical. The fast O16
 * GEMM (AVX-512 6x64) also bit for bit against an fmaf chain.
 * Tolerance: kernel_f32_check.h (summation bound).
 */
#include "kernel_f32_check.h"

#include "kernel.h"
#include "kernels/gemm_f32.h"
#include "threadpool.h"

typedef struct gemm_case {
    size_t M, N, K;
    bool b_trans, a_trans, bias;
    float lo, hi;
} gemm_case;

typedef struct gemm_data {
    float *a, *b, *bias;
    double *want, *mag;
} gemm_data;

static void make_data(const gemm_case *c, uint64_t seed, gemm_data *d) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    d->a = kc_alloc(c->M * c->K);
    d->b = kc_alloc(c->K * c->N);
    d->bias = kc_alloc(c->N);
    kc_fill(&r, d->a, c->M * c->K, -1.0f, 1.0f);
    kc_fill(&r, d->b, c->K * c->N, -1.0f, 1.0f);
    kc_fill(&r, d->bias, c->N, -1.0f, 1.0f);
    d->want = kc_alloc_d(c->M * c->N);
    d->mag = kc_alloc_d(c->M * c->N);
    for (size_t m = 0; m < c->M; m++) {
        for (size_t n = 0; n < c->N; n++) {
            double s = c->bias ? d->bias[n] : 0.0, mg = fabs(s);
            for (size_t k = 0; k < c->K; k++) {
                double av = c->a_trans ? d->a[k * c->M + m] : d->a[m * c->K + k];
                double bv = c->b_trans ? d->b[n * c->K + k] : d->b[k * c->N + n];
                s += av * bv;
                mg += fabs(av * bv);
            }
            /* the clamp is exact: apply it to the exact value */
            if (s < c->lo) s = c->lo;
            if (s > c->hi) s = c->hi;
            d->want[m * c->N + n] = s;
            d->mag[m * c->N + n] = mg;
        }
    }
}

static void free_data(gemm_data *d) {
    free(d->a);
    free(d->b);
    free(d->bias);
    free(d->want);
    free(d->mag);
}

static qlite_gemm_f32_args make_args(const gemm_case *c, const gemm_data *d, float *out) {
    qlite_gemm_f32_args g = {.M = c->M, .N = c->N, .K = c->K, .a = d->a,
                             .rsa = c->a_trans ? 1 : c->K, .csa = c->a_trans ? c->M : 1,
                             .b = d->b, .ldb = c->b_trans ? c->K : c->N, .b_trans = c->b_trans,
                             .bias = c->bias ? d->bias : NULL, .c = out, .ldc = c->N,
                             .lo = c->lo, .hi = c->hi};
    return g;
}

/* Runs the packed and the small algorithm of one variant directly. */
static void check_variant(const qlite_gemm_f32_ukernel *uk, const gemm_case *c,
                          const gemm_data *d) {
    char what[160];
    float *out = kc_alloc(c->M * c->N);
    qlite_gemm_f32_args g = make_args(c, d, out);

    /* packed */
    float *packed = kc_alloc(qlite_gemm_f32_packed_size(uk, c->K, c->N));
    qlite_gemm_f32_pack_b(uk, c->K, c->N, g.b, g.ldb, g.b_trans, 0,
                          (c->N + uk->nr - 1) / uk->nr, packed);
    qlite_gemm_f32_packed(uk, c->M, c->N, c->K, g.a, g.rsa, g.csa, packed, g.bias, out, g.ldc,
                          g.lo, g.hi);
    snprintf(what, sizeof what, "%s packed M=%zu N=%zu K=%zu bt=%d at=%d", uk->name, c->M, c->N,
             c->K, c->b_trans, c->a_trans);
    kc_check_sum(what, out, d->want, d->mag, c->M * c->N, (double)c->K);
    free(packed);

    /* small: one row at a time over all columns */
    memset(out, 0xA5, c->M * c->N * sizeof(float));
    for (size_t m = 0; m < c->M; m++) {
        if (c->b_trans)
            uk->dot(c->K, g.a + m * g.rsa, g.csa, g.b, g.ldb, 0, c->N, g.bias, out + m * c->N,
                    g.lo, g.hi);
        else
            uk->axpy(c->K, g.a + m * g.rsa, g.csa, g.b, g.ldb, 0, c->N, g.bias, out + m * c->N,
                     g.lo, g.hi);
    }
    snprintf(what, sizeof what, "%s small M=%zu N=%zu K=%zu bt=%d at=%d", uk->name, c->M, c->N,
             c->K, c->b_trans, c->a_trans);
    kc_check_sum(what, out, d->want, d->mag, c->M * c->N, (double)c->K);
    free(out);
}

/* qlite_gemm_f32_run with 1 and 2 threads: correct and bit-identical. */
static void check_run(const gemm_case *c, const gemm_data *d, qlite_threadpool *pool) {
    const qlite_gemm_f32_ukernel *uk = qlite_gemm_f32_select();
    qlite_exec_ctx ctx1, ctx2;
    memset(&ctx1, 0, sizeof ctx1);
    memset(&ctx2, 0, sizeof ctx2);
    ctx2.pool = pool;
    qlite_node n1 = {.ctx = &ctx1}, n2 = {.ctx = &ctx2};
    size_t sb = qlite_gemm_f32_scratch_bytes(uk, c->M, c->N, c->K);
    float *scratch = qlite_aligned_alloc(sb ? sb : 64);
    assert_non_null(scratch);
    float *o1 = kc_alloc(c->M * c->N), *o2 = kc_alloc(c->M * c->N);
    qlite_gemm_f32_args g1 = make_args(c, d, o1), g2 = make_args(c, d, o2);
    qlite_gemm_f32_run(&n1, uk, &g1, scratch);
    qlite_gemm_f32_run(&n2, uk, &g2, scratch);
    char what[128];
    snprintf(what, sizeof what, "run M=%zu N=%zu K=%zu", c->M, c->N, c->K);
    kc_check_sum(what, o1, d->want, d->mag, c->M * c->N, (double)c->K);
    kc_check_equal(what, o1, o2, c->M * c->N);
    /* the reference definition agrees too */
    qlite_gemm_f32_args gr = make_args(c, d, o2);
    qlite_gemm_f32_ref(&gr);
    kc_check_sum("ref", o2, d->want, d->mag, c->M * c->N, (double)c->K);
    free(o1);
    free(o2);
    qlite_aligned_free(scratch);
}

static void run_case(const gemm_case *c, uint64_t seed, qlite_threadpool *pool) {
    gemm_data d;
    make_data(c, seed, &d);
    size_t nv;
    const qlite_gemm_f32_ukernel *const *all = qlite_gemm_f32_ukernels(&nv);
    for (size_t v = 0; v < nv; v++) check_variant(all[v], c, &d);
    check_run(c, &d, pool);
    free_data(&d);
}

static void test_gemm_tile_edges(void **state) {
    (void)state;
    qlite_threadpool *pool;
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    /* rows around MR (6, 8) and MC; columns around NR (8, 16, 32); K around
     * small values and the 256 block */
    static const size_t Ms[] = {1, 3, 5, 6, 7, 8, 9, 12, 16, 17, 97, 100};
    static const size_t Ns[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65};
    static const size_t Ks[] = {0, 1, 2, 7, 16, 33, 255, 256, 257, 513};
    uint64_t seed = 1;
    for (size_t i = 0; i < KC_COUNT(Ms); i++) {
        for (size_t j = 0; j < KC_COUNT(Ns); j++) {
            const size_t K = Ks[(i * 7 + j * 3) % KC_COUNT(Ks)];
            gemm_case c = {.M = Ms[i], .N = Ns[j], .K = K, .b_trans = (i + j) % 2 == 0,
                           .a_trans = (i * j) % 3 == 1, .bias = j % 3 != 0, .lo = -FLT_MAX,
                           .hi = FLT_MAX};
            run_case(&c, seed++, pool);
        }
    }
    qlite_threadpool_destroy(pool);
}

static void test_gemm_random_shapes(void **state) {
    (void)state;
    qlite_threadpool *pool;
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 0x6e6d);
    for (int t = 0; t < 40; t++) {
        gemm_case c = {.M = 1 + qlite_test_rng_u32(&r) % 70, .N = 1 + qlite_test_rng_u32(&r) % 90,
                       .K = qlite_test_rng_u32(&r) % 600, .b_trans = qlite_test_rng_u32(&r) & 1,
                       .a_trans = qlite_test_rng_u32(&r) % 4 == 0,
                       .bias = qlite_test_rng_u32(&r) & 1, .lo = -FLT_MAX, .hi = FLT_MAX};
        if (t % 3 == 0) {
            c.lo = 0.0f;
            c.hi = t % 2 ? 6.0f : FLT_MAX;
        }
        run_case(&c, 100 + (uint64_t)t, pool);
    }
    qlite_threadpool_destroy(pool);
}

static void test_gemm_clamp_and_selection(void **state) {
    (void)state;
    gemm_case c = {.M = 13, .N = 40, .K = 50, .b_trans = true, .bias = true, .lo = -0.5f,
                   .hi = 0.25f};
    gemm_data d;
    make_data(&c, 7, &d);
    size_t nv;
    const qlite_gemm_f32_ukernel *const *all = qlite_gemm_f32_ukernels(&nv);
    assert_true(nv >= 1);
    assert_ptr_equal(qlite_gemm_f32_select(), all[nv - 1]);
    for (size_t v = 0; v < nv; v++) check_variant(all[v], &c, &d);
    free_data(&d);
}

/*
 * The fast O16 GEMM (qlite_gemm_f32_o16_fast, AVX-512 6x64 tiles, 10x32
 * for column blocks of <= 32: N <= 32 and the last 1-32 columns of N = 65,
 * 96, 130, 160): rows around its tiles (1..13, the 7-9 and 11-15 row
 * splits, 18-21, 25-31, past the 240-row block), columns around 16, 32 and
 * 64, K around its 1152-step block (and the former 192) and the stems' 9
 * and 27, weights over 1 MiB (blocks prefetching the next one: the next K
 * block, column block or row block; fewer tiles than panels); against the
 * double computation within the summation bound, bit for bit against the
 * definition the header states (one fmaf chain per output in k order from
 * the bias, then the clamp), and through qlite_gemm_f32_run_o16 with 1, 2
 * and 3 threads identical (the runner's splits: column-major grid, or rows
 * alone for small weights and >= 2 row units a thread: M >= 19 at 2 threads,
 * 31 at 3). Skipped where the CPU has no such GEMM.
 */
static void check_o16_fast(qlite_gemm_o16_fn fn, const gemm_case *c, const gemm_data *d,
                           qlite_threadpool *pool, qlite_threadpool *pool3) {
    char what[160];
    const size_t MN = c->M * c->N > 0 ? c->M * c->N : 1;
    float *w16 = kc_alloc(qlite_gemm_o16_elems(c->K, c->N) + 16);
    qlite_gemm_o16_pack_f32(c->K, c->N, d->b, c->b_trans ? c->K : c->N, c->b_trans, w16);
    float *out = kc_alloc(MN), *chain = kc_alloc(MN), *o2 = kc_alloc(MN);
    const float *bias = c->bias ? d->bias : NULL;
    fn(c->M, c->N, c->K, d->a, c->K, w16, bias, out, c->N, c->lo, c->hi);
    snprintf(what, sizeof what, "o16 fast M=%zu N=%zu K=%zu", c->M, c->N, c->K);
    kc_check_sum(what, out, d->want, d->mag, c->M * c->N, (double)c->K);
    for (size_t m = 0; m < c->M; m++)
        for (size_t n = 0; n < c->N; n++) {
            float acc = bias ? bias[n] : 0.0f;
            for (size_t k = 0; k < c->K; k++) {
                const float b = c->b_trans ? d->b[n * c->K + k] : d->b[k * c->N + n];
                acc = fmaf(d->a[m * c->K + k], b, acc);
            }
            chain[m * c->N + n] = acc < c->lo ? c->lo : acc > c->hi ? c->hi : acc;
        }
    kc_check_equal(what, out, chain, c->M * c->N);
    /* through run_o16 on 1, 2 and 3 threads */
    qlite_exec_ctx ctx1, ctx2, ctx3;
    memset(&ctx1, 0, sizeof ctx1);
    memset(&ctx2, 0, sizeof ctx2);
    memset(&ctx3, 0, sizeof ctx3);
    ctx2.pool = pool;
    ctx3.pool = pool3;
    qlite_node n1 = {.ctx = &ctx1}, n2 = {.ctx = &ctx2}, n3 = {.ctx = &ctx3};
    const gemm_case ca = {c->M, c->N, c->K, c->b_trans, false, c->bias, c->lo, c->hi};
    qlite_gemm_f32_args g1 = make_args(&ca, d, o2);
    qlite_gemm_f32_run_o16(&n1, qlite_gemm_f32_select_o16(), &g1, w16, false);
    kc_check_equal(what, out, o2, c->M * c->N);
    memset(o2, 0xA5, MN * sizeof(float));
    qlite_gemm_f32_run_o16(&n2, qlite_gemm_f32_select_o16(), &g1, w16, false);
    kc_check_equal(what, out, o2, c->M * c->N);
    memset(o2, 0xA5, MN * sizeof(float));
    qlite_gemm_f32_run_o16(&n3, qlite_gemm_f32_select_o16(), &g1, w16, false);
    kc_check_equal(what, out, o2, c->M * c->N);
    free(w16);
    free(out);
    free(chain);
    free(o2);
}

static void test_gemm_o16_fast(void **state) {
    (void)state;
    qlite_gemm_o16_fn fn = qlite_gemm_f32_o16_fast();
    if (!fn) skip();
    qlite_threadpool *pool, *pool3;
    assert_qlite_ok(qlite_threadpool_create(2, &pool));
    assert_qlite_ok(qlite_threadpool_create(3, &pool3));
    static const size_t Ms[] = {1,  2,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                15, 16, 18, 19, 20, 21, 25, 30, 31, 97, 251};
    static const size_t Ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96, 100, 130, 160};
    static const size_t Ks[] = {0, 1, 7, 9, 27, 33, 191, 192, 193, 384, 641, 1153};
    uint64_t seed = 500;
    /* reduced sweeps (support.h): every shape up to 2e5 multiply-adds (the tile
     * edges), of the larger ones a third ((i + j) % 3 == 0: each M still meets
     * every third N); the K block and 1 MiB weights: `big` below */
    const bool reduced = qlite_test_reduced();
    for (size_t i = 0; i < KC_COUNT(Ms); i++)
        for (size_t j = 0; j < KC_COUNT(Ns); j++, seed++) {
            gemm_case c = {.M = Ms[i], .N = Ns[j], .K = Ks[(i * 5 + j * 3) % KC_COUNT(Ks)],
                           .b_trans = (i + j) % 2 == 0, .bias = j % 3 != 0, .lo = -FLT_MAX,
                           .hi = FLT_MAX};
            if (reduced && c.M * c.N * (c.K + 1) > 200000 && (i + j) % 3 != 0) continue;
            if ((i + j) % 4 == 0) c.lo = 0.0f, c.hi = (i % 2) ? 0.5f : FLT_MAX;
            gemm_data d;
            make_data(&c, seed, &d);
            check_o16_fast(fn, &c, &d, pool, pool3);
            free_data(&d);
        }
    /* K at the 1152-step block (M x N x K), then weights over 1 MiB: more
     * tiles than panels, fewer, two K blocks (sizes kept small for the
     * sanitizer build) */
    static const size_t big[][3] = {{7, 65, 1152},   {13, 96, 1151}, {20, 96, 1500},
                                    {31, 264, 1000}, {3, 600, 600}, {13, 300, 1153}};
    for (size_t i = 0; i < KC_COUNT(big); i++) {
        gemm_case c = {.M = big[i][0], .N = big[i][1], .K = big[i][2], .b_trans = i % 2 == 0,
                       .bias = true, .lo = i % 2 ? 0.0f : -FLT_MAX, .hi = FLT_MAX};
        gemm_data d;
        make_data(&c, seed++, &d);
        check_o16_fast(fn, &c, &d, pool, pool3);
        free_data(&d);
    }
    qlite_threadpool_destroy(pool);
    qlite_threadpool_destroy(pool3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_tile_edges),
        cmocka_unit_test(test_gemm_random_shapes),
        cmocka_unit_test(test_gemm_clamp_and_selection),
        cmocka_unit_test(test_gemm_o16_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
