/*
 * test_kernel_fc_q8.c — FULLY_CONNECTED on int8 / uint8 activations with
 * int8 weights (docs/quantization.md §4.1), through the one-op runner:
 *
 * (a) exact against the doc's formula written here in int64
 *     (acc = bias + sum (x - zx)(w - zw), kernel_nn_q8_check.h's output
 *     stage) for batch rows below / at / above the dot-algorithm limit and
 *     the tile sizes, per-tensor and per-channel weights, weight zero points,
 *     fused activations, keep_num_dims; the optimized path with 1 and 2
 *     threads and the reference path (QLITE_INTERP_REFERENCE_ONLY) all
 *     equal to it;
 * (b) the NumPy golden cases of make_golden_nn_q8.py (set "fc");
 * (c) error paths: dtype pairs with no kernel, mismatched output dtype,
 *     weights quantized on the wrong axis, a float bias, non-constant
 *     weights, an accumulator that could overflow.
 */
#include "kernel_nn_q8_check.h"
#include "kernels/gemm_q8.h"

typedef struct fcq_case {
    qlite_dtype dt;
    size_t M, K, N;
    bool per_channel, zw, bias, keep;
    qlite_activation act;
} fcq_case;

typedef struct fcq_data {
    void *x;
    int8_t *w;
    int32_t *b;
    q8_params px, py;
    nnq_wparams pw;
} fcq_data;

static qlite_status run(const fcq_case *c, const fcq_data *d, int threads, uint32_t flags,
                        qlite_op_test_tensor *out) {
    qlite_op_test_tensor in[3];
    in[0] = q8_tensor(c->dt, 2, (int64_t[]){(int64_t)c->M, (int64_t)c->K}, d->x, &d->px);
    in[1] = qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){(int64_t)c->N, (int64_t)c->K}, d->w);
    in[1].quant = &d->pw.q;
    if (c->bias) {
        in[2] = qt_const(QLITE_DTYPE_INT32, 1, (int64_t[]){(int64_t)c->N}, d->b);
    } else {
        memset(&in[2], 0, sizeof in[2]);
        in[2].absent = true;
    }
    *out = q8_tensor(c->dt, 2, (int64_t[]){(int64_t)c->M, (int64_t)c->N}, NULL, &d->py);
    qlite_op_options o = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.activation = c->act;
    o.u.fully_connected.keep_num_dims = c->keep;
    return qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, out, threads, flags);
}

static void check_case(const fcq_case *c, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    fcq_data d;
    d.x = malloc(c->M * c->K);
    d.w = malloc(c->N * c->K);
    d.b = malloc(c->N * sizeof(int32_t));
    assert_true(d.x && d.w && d.b);
    nnq_fill_codes(&r, d.x, c->M * c->K, c->dt);
    nnq_fill_weights(&r, d.w, c->N * c->K);
    nnq_fill_bias(&r, d.b, c->N, 14);
    q8_params_set(&d.px, q8_rand_scale(&r, -8.0f, -2.0f), q8_rand_zp(&r, c->dt));
    nnq_wparams_random(&r, &d.pw, c->per_channel ? (uint32_t)c->N : 1, 0, c->zw);
    q8_params_set(&d.py, nnq_out_scale(&r, d.px.scale, d.pw.scale[0], c->K), q8_rand_zp(&r, c->dt));

    int32_t *want = malloc(c->M * c->N * sizeof(int32_t));
    assert_non_null(want);
    for (size_t m = 0; m < c->M; m++)
        for (size_t n = 0; n < c->N; n++) {
            int64_t acc = c->bias ? d.b[n] : 0;
            for (size_t k = 0; k < c->K; k++)
                acc += (int64_t)(q8_get(d.x, m * c->K + k, c->dt) - d.px.zp) *
                       (d.w[n * c->K + k] - nnq_wzp(&d.pw, n));
            want[m * c->N + n] = nnq_out(acc, d.px.scale, &d.pw, n, &d.py, c->dt, c->act);
        }
    char what[160];
    const struct {
        int threads;
        uint32_t flags;
        const char *name;
    } runs[] = {{1, 0, "optimized"}, {2, 0, "2 threads"},
                {1, QLITE_INTERP_REFERENCE_ONLY, "reference"}};
    for (size_t i = 0; i < Q8_COUNT(runs); i++) {
        qlite_op_test_tensor out;
        assert_qlite_ok(run(c, &d, runs[i].threads, runs[i].flags, &out));
        assert_int_equal(out.out_bytes, c->M * c->N);
        snprintf(what, sizeof what, "%s %s M=%zu K=%zu N=%zu pc=%d zw=%d bias=%d act=%d",
                 runs[i].name, qlite_dtype_name(c->dt), c->M, c->K, c->N, c->per_channel, c->zw,
                 c->bias, (int)c->act);
        nnq_expect_codes(what, out.out, want, c->M * c->N, c->dt);
        qlite_op_test_free(1, &out);
    }
    free(want);
    free(d.x);
    free(d.w);
    free(d.b);
}

static void fc_level(void) {
    /* 16+ rows: the AMX blocks (32 + 5 rows; 64 + 16 + 6 rows) */
    const size_t Ms[] = {1, 2, 3, 4, 5, 13, 24, 37, 86};
    const size_t Ks[] = {1, 3, 4, 7, 16, 63, 64, 65, 130, 784};
    const size_t Ns[] = {1, 6, 15, 16, 17, 32, 33, 70, 130};
    uint64_t seed = 1;
    for (size_t i = 0; i < Q8_COUNT(Ms); i++)
        for (size_t j = 0; j < Q8_COUNT(Ns); j++) {
            const size_t k = Ks[(i * 3 + j * 7) % Q8_COUNT(Ks)];
            fcq_case c = {.dt = (i + j) % 3 == 2 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8,
                          .M = Ms[i], .K = k, .N = Ns[j], .per_channel = (i + j) % 2 == 0,
                          .zw = (i * j) % 5 == 3, .bias = j % 3 != 1, .keep = true,
                          .act = (qlite_activation)((i + 2 * j) % QLITE_ACT_COUNT)};
            check_case(&c, seed++);
        }
}

static void test_fc_exact(void **state) {
    (void)state;
    /* on every ISA level up to this CPU's: AMX, AVX-512 VNNI, AVX-VNNI, AVX2, portable
     * (ARM64: i8mm, dot product, NEON, portable; the first level twice) */
#if defined(__aarch64__)
    const unsigned caps[5] = {~0u, ~0u, QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD, QLITE_Q8_F_NEON,
                              0u};
#else
    const unsigned caps[5] = {~0u, ~QLITE_Q8_F_AMX, QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI,
                              QLITE_Q8_F_AVX2, 0u};
#endif
    for (size_t level = 0; level < 5; level++) {
        qlite_q8_set_feature_cap(caps[level]);
        fc_level();
        /* more rows than the AVX2 workspace holds (240 a chunk): 240 + 10, 240 + 240 + 7 */
        const size_t big[2][3] = {{250, 40, 33}, {487, 9, 17}};
        for (size_t b = 0; b < 2; b++) {
            fcq_case c = {.dt = b ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8, .M = big[b][0],
                          .K = big[b][1], .N = big[b][2], .per_channel = b == 0, .zw = b == 1,
                          .bias = true, .keep = true, .act = QLITE_ACT_NONE};
            check_case(&c, 900 + level * 2 + b);
        }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* Transformer-like FC shapes over 128 tokens (M = 128: four 32-row AMX blocks), on AMX and
 * capped to AVX-512 VNNI (x86; ARM64 runs its own level twice). */
static void test_fc_transformer_shapes(void **state) {
    (void)state;
    const size_t layers[3][2] = {{64, 192}, {64, 256}, {256, 64}};
#if defined(__aarch64__)
    const unsigned caps[2] = {~0u, ~0u};
#else
    const unsigned caps[2] = {~0u, ~QLITE_Q8_F_AMX};
#endif
    for (size_t level = 0; level < 2; level++) {
        qlite_q8_set_feature_cap(caps[level]);
        uint64_t seed = 300;
        for (size_t l = 0; l < 3; l++) {
            fcq_case c = {.dt = QLITE_DTYPE_INT8, .M = 128, .K = layers[l][0], .N = layers[l][1],
                          .per_channel = l != 1, .zw = l == 2, .bias = true, .keep = true,
                          .act = l == 1 ? QLITE_ACT_RELU : QLITE_ACT_NONE};
            check_case(&c, seed++);
        }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* The bundled MLP's shapes at batch 1 and 4 (784-256-128-10). */
static void test_fc_mlp_shapes(void **state) {
    (void)state;
    const size_t layers[3][2] = {{784, 256}, {256, 128}, {128, 10}};
    uint64_t seed = 100;
    for (size_t b = 1; b <= 4; b += 3)
        for (size_t l = 0; l < 3; l++) {
            fcq_case c = {.dt = QLITE_DTYPE_INT8, .M = b, .K = layers[l][0], .N = layers[l][1],
                          .per_channel = true, .bias = true, .keep = true,
                          .act = l < 2 ? QLITE_ACT_RELU : QLITE_ACT_NONE};
            check_case(&c, seed++);
        }
}

/* (b) ----------------------------------------------------------------------- */

#include "kernel_nn_golden.h"

static void test_fc_golden(void **state) {
    (void)state;
    nng_set g;
    nng_load("fc", &g);
    for (size_t i = 0; i < g.n; i++) {
        const int32_t *m = nng_meta(&g, i);
        const qlite_dtype dt = q8_case_dtype(m[NNG_DTYPE]);
        const size_t M = (size_t)m[NNG_P0], K = (size_t)m[NNG_P0 + 1], N = (size_t)m[NNG_P0 + 2];
        const bool pc = m[NNG_PC] != 0, has_bias = m[NNG_HAS_BIAS] != 0;
        fcq_data d;
        d.x = nng_codes(&g.x, (size_t)m[NNG_OFF_X], M * K, dt);
        d.w = nng_codes(&g.w, (size_t)m[NNG_OFF_W], N * K, QLITE_DTYPE_INT8);
        d.b = (int32_t *)nng_i32(&g.b, (size_t)m[NNG_OFF_B], has_bias ? N : 0);
        q8_params_set(&d.px, nng_f(&g, i)[0], m[NNG_ZX]);
        q8_params_set(&d.py, nng_f(&g, i)[1], m[NNG_ZY]);
        nng_wparams(&g, i, pc ? (uint32_t)N : 1, 0, &d.pw);
        fcq_case c = {.dt = dt, .M = M, .K = K, .N = N, .per_channel = pc, .bias = has_bias,
                      .keep = true, .act = (qlite_activation)m[NNG_ACT]};
        qlite_op_test_tensor out;
        assert_qlite_ok(run(&c, &d, 1, 0, &out));
        nng_expect("fc", i, &g, out.out, dt, M * N);
        qlite_op_test_free(1, &out);
        free(d.x);
        free(d.w);
        free(d.b);
    }
    nng_free(&g);
}

/* (c) ----------------------------------------------------------------------- */

static qlite_status run_raw(qlite_dtype xdt, qlite_dtype wdt, qlite_dtype ydt, qlite_dtype bdt,
                            const qlite_quant *wq, bool w_const, size_t K) {
    static uint8_t x[1 << 17], w[1 << 17];
    static int32_t b[4];
    memset(b, 0, sizeof b);
    q8_params px, py;
    q8_params_set(&px, 0.05f, 3);
    q8_params_set(&py, 0.1f, 5);
    qlite_op_test_tensor in[3], out;
    in[0] = q8_tensor(xdt, 2, (int64_t[]){1, (int64_t)K}, x, &px);
    in[1] = w_const ? qt_const(wdt, 2, (int64_t[]){1, (int64_t)K}, w)
                    : qt(wdt, 2, (int64_t[]){1, (int64_t)K}, w);
    in[1].quant = wq;
    in[2] = qt_const(bdt, 1, (int64_t[]){1}, b);
    out = q8_tensor(ydt, 2, (int64_t[]){1, 1}, NULL, &py);
    qlite_op_options o = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.keep_num_dims = true;
    qlite_status st = qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0);
    qlite_op_test_free(1, &out);
    return st;
}

static void expect_error(qlite_status st, qlite_status want, const char *needle) {
    assert_int_equal(st, want);
    if (!strstr(qlite_last_error(), needle))
        fail_msg("message '%s' does not name '%s'", qlite_last_error(), needle);
}

static void test_fc_errors(void **state) {
    (void)state;
    nnq_wparams pw;
    nnq_wparams_init(&pw, 1, 0);
    pw.scale[0] = 0.01f;
    pw.zp[0] = 0;
    const qlite_dtype I8 = QLITE_DTYPE_INT8, U8 = QLITE_DTYPE_UINT8, I32 = QLITE_DTYPE_INT32;
    /* the happy path first, so the failures below are about what they change */
    assert_qlite_ok(run_raw(I8, I8, I8, I32, &pw.q, true, 8));
    assert_qlite_ok(run_raw(U8, I8, U8, I32, &pw.q, true, 8));
    expect_error(run_raw(I8, U8, I8, I32, &pw.q, true, 8), QLITE_ERR_UNSUPPORTED_OP,
                 "uint8 weights");
    expect_error(run_raw(QLITE_DTYPE_INT16, I8, I8, I32, &pw.q, true, 8), QLITE_ERR_DTYPE, "int16");
    expect_error(run_raw(I8, I8, U8, I32, &pw.q, true, 8), QLITE_ERR_DTYPE, "uint8");
    expect_error(run_raw(I8, I8, I8, QLITE_DTYPE_FLOAT32, &pw.q, true, 8), QLITE_ERR_DTYPE,
                 "float32");
    expect_error(run_raw(I8, I8, I8, I32, &pw.q, false, 8), QLITE_ERR_UNSUPPORTED_OP, "constant");
    expect_error(run_raw(I8, I8, I8, I32, NULL, true, 8), QLITE_ERR_INVALID_ARGUMENT,
                 "no quantization");
    /* per channel along the input axis (8 scales on axis 1) */
    nnq_wparams pa;
    nnq_wparams_init(&pa, 8, 1);
    for (int i = 0; i < 8; i++) pa.scale[i] = 0.01f, pa.zp[i] = 0;
    expect_error(run_raw(I8, I8, I8, I32, &pa.q, true, 8), QLITE_ERR_UNSUPPORTED_OP, "axis 1");
    /* 255 * 128 * 70000 > 2^31: refused at prepare */
    expect_error(run_raw(I8, I8, I8, I32, &pw.q, true, 70000), QLITE_ERR_UNSUPPORTED_OP,
                 "overflow");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_exact),
        cmocka_unit_test(test_fc_mlp_shapes),
        cmocka_unit_test(test_fc_transformer_shapes),
        cmocka_unit_test(test_fc_golden),
        cmocka_unit_test(test_fc_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
