/*
 * test_kernel_ln_q8.c — int8 / uint8 LAYER_NORM (layer_norm_q8.c,
 * docs/quantization.md §4.14) against float64 NumPy golden codes
 * (tests/data/kernels/make_golden_ln_q8.py: the layer norm of the
 * dequantized input with the dequantized gamma and beta, rounded half to
 * even): every element within 1 LSB, and at least 99% equal (the kernel's
 * error before rounding is 0.5 + 2^-15 LSB, so only values within 2^-15 of a
 * rounding tie may land on the neighbour). Cases: the transformer's 28 x 64,
 * uint8, rows of one value, constant rows, 300 wide without beta,
 * saturating outputs, codes one step apart (eps dominates); 1 and 2 threads;
 * the reference and the variant this CPU selects (test_kernel_ew_q8.c pins
 * every ISA level's variant to the reference).
 * Levels: at every feature cap this CPU has (uncapped, AVX2, portable;
 * NEON on ARM64) the selected row (layer_norm_q8.c's AVX2 row under the
 * AVX2 cap) equals the reference bit for bit on rows of 1..70 and 768
 * values (the 8-lane body and its 0..7 tail), int8 and uint8, constant
 * rows, codes one step apart, tiny output scales that saturate.
 * Hand-derived rows: ties of the first rounding, |U| >= 2^31 (test_hand_rows).
 * Hostile: per-channel gamma, rows beyond 4096, beta beyond 2^13 output
 * steps, a non-constant gamma, dtype mismatches.
 */
#include "kernel_q8_check.h"
#include "kernels/elementwise_q8.h"
#include "kernels/gemm_q8.h"
#include "support/q8_levels.h"

typedef struct ln_case {
    qlite_golden x, g, b, y, p;
} ln_case;

static void load_case(const char *name, ln_case *c) {
    char f[64];
    const char *sfx[5] = {"x", "g", "b", "y", "p"};
    qlite_golden *dst[5] = {&c->x, &c->g, &c->b, &c->y, &c->p};
    for (int i = 0; i < 5; i++) {
        snprintf(f, sizeof f, "q8_ln_%s_%s", name, sfx[i]);
        assert_true(qlite_golden_load(f, dst[i]));
    }
}

static void free_case(ln_case *c) {
    qlite_golden_free(&c->x);
    qlite_golden_free(&c->g);
    qlite_golden_free(&c->b);
    qlite_golden_free(&c->y);
    qlite_golden_free(&c->p);
}

/* Runs the golden case; returns the number of elements that differ by 1. */
static size_t run_case(const char *name, int threads, uint32_t flags) {
    ln_case c;
    load_case(name, &c);
    const float *p = c.p.data; /* sx zx sg zg sb zb sy zy eps signed has_beta (f64 -> f32) */
    const qlite_dtype dt = p[9] != 0.0f ? QLITE_DTYPE_INT8 : QLITE_DTYPE_UINT8;
    const bool has_beta = p[10] != 0.0f;
    q8_params px, pg, pb, py;
    q8_params_set(&px, p[0], (int32_t)p[1]);
    q8_params_set(&pg, p[2], (int32_t)p[3]);
    q8_params_set(&pb, p[4], (int32_t)p[5]);
    q8_params_set(&py, p[6], (int32_t)p[7]);
    const int64_t n = c.x.dims[1];
    qlite_op_test_tensor in[3] = {q8_tensor(dt, 2, c.x.dims, c.x.data, &px),
                                  q8_tensor(dt, 1, &n, c.g.data, &pg),
                                  q8_tensor(dt, 1, &n, c.b.data, &pb)};
    in[1].is_const = in[2].is_const = true;
    qlite_op_test_tensor out = q8_tensor(dt, 2, c.x.dims, NULL, &py);
    qlite_op_options o = qopts(QLITE_OPTIONS_NORM);
    o.u.norm.axis = -1;
    o.u.norm.epsilon = p[8];
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, has_beta ? 3 : 2, in, 1, &out,
                                      threads, flags));
    assert_int_equal(out.out_bytes, c.y.count);
    const int32_t *want = c.y.data;
    size_t off = 0;
    for (size_t i = 0; i < c.y.count; i++) {
        const int32_t got = q8_get(out.out, i, dt);
        const int32_t d = got > want[i] ? got - want[i] : want[i] - got;
        if (d > 1)
            fail_msg("%s: element %zu (row %zu) is %d, NumPy says %d", name, i,
                     i / (size_t)n, got, want[i]);
        off += d != 0;
    }
    if (off * 100 > c.y.count)
        fail_msg("%s: %zu of %zu elements off by one (more than 1%%)", name, off, c.y.count);
    qlite_op_test_free(1, &out);
    free_case(&c);
    return off;
}

static void test_golden(void **state) {
    (void)state;
    const char *cases[] = {"t64", "u7", "n1", "const", "wide", "sat", "tinyvar"};
    size_t off = 0;
    for (size_t i = 0; i < Q8_COUNT(cases); i++)
        for (int t = 1; t <= 2; t++) {
            off += run_case(cases[i], t, 0); /* the variant this CPU selects */
            off += run_case(cases[i], t, QLITE_INTERP_REFERENCE_ONLY);
        }
    print_message("int8 LAYER_NORM: %zu elements one LSB from NumPy's\n", off);
}

/* The selected row against the reference at each ISA level (see the top). */
static void test_levels(void **state) {
    (void)state;
    for (unsigned l = 0; qlite_test_q8_level_next(&l); l++) {
        qlite_test_rng rng;
        qlite_test_rng_seed(&rng, 0x1A7E + l);
        int variant = 0;
        for (int di = 0; di < 2; di++)
            for (unsigned si = 0; si < QLITE_TEST_Q8_ROW_SIZES; si++, variant++) {
                const qlite_dtype dt = di ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
                const int64_t n = qlite_test_q8_row_size(si), shape[2] = {4, n};
                uint8_t *x = malloc((size_t)(4 * n)), *g = malloc((size_t)n),
                        *b = malloc((size_t)n);
                assert_non_null(x);
                assert_non_null(g);
                assert_non_null(b);
                q8_fill(&rng, x, (size_t)(4 * n), dt);
                q8_fill(&rng, g, (size_t)n, dt);
                q8_fill(&rng, b, (size_t)n, dt);
                memset(x + n, x[0], (size_t)n); /* row 1 constant */
                for (int64_t i = 2 * n; i < 3 * n; i++) x[i] = (uint8_t)(x[i] & 1); /* row 2 */
                q8_params px, pg, pb, py;
                q8_params_set(&px, q8_rand_scale(&rng, -10, -2), q8_rand_zp(&rng, dt));
                q8_params_set(&pg, q8_rand_scale(&rng, -9, -5), q8_rand_zp(&rng, dt));
                q8_params_set(&pb, q8_rand_scale(&rng, -12, -8), q8_rand_zp(&rng, dt));
                q8_params_set(&py,
                              q8_rand_scale(&rng, variant % 3 ? -6 : -12, variant % 3 ? -3 : -9),
                              q8_rand_zp(&rng, dt));
                qlite_op_test_tensor in[3] = {q8_tensor(dt, 2, shape, x, &px),
                                              q8_tensor(dt, 1, &n, g, &pg),
                                              q8_tensor(dt, 1, &n, b, &pb)};
                in[1].is_const = in[2].is_const = true;
                qlite_op_test_tensor ref = q8_tensor(dt, 2, shape, NULL, &py), got = ref;
                qlite_op_options o = qopts(QLITE_OPTIONS_NORM);
                o.u.norm.axis = -1;
                o.u.norm.epsilon = variant % 5 == 4 ? 0.0f : (variant % 2 ? 1e-5f : 1e-2f);
                const uint32_t nin = variant % 7 == 6 ? 2 : 3; /* without beta */
                assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, nin, in, 1, &ref, 1,
                                                  QLITE_INTERP_REFERENCE_ONLY));
                assert_qlite_ok(
                    qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, nin, in, 1, &got, 1, 0));
                assert_int_equal(got.out_bytes, ref.out_bytes);
                const uint8_t *rb = ref.out, *gb = got.out;
                for (size_t i = 0; i < ref.out_bytes; i++)
                    if (rb[i] != gb[i])
                        fail_msg("LAYER_NORM level %s, %s rows of %lld: element %zu (row %zu) "
                                 "is %d, the reference says %d",
                                 qlite_test_q8_level_name(l), qlite_dtype_name(dt), (long long)n, i,
                                 i / (size_t)n, q8_get(got.out, i, dt), q8_get(ref.out, i, dt));
                qlite_op_test_free(1, &ref);
                qlite_op_test_free(1, &got);
                free(x);
                free(g);
                free(b);
            }
    }
}

/*
 * Hand-derived rows from the integer steps of docs/quantization.md §4.14. With
 * sx = 2^-40 the variance term (~2^-72) vanishes next to eps = 1, so
 * a = c = sx sg / (n sy) exactly. Rows of 16 int8 codes: eight 0s, seven 32s
 * and one 33 (sum 257: d = -257, 255, 271), no beta, zy = 0; each case also
 * as a second row with the values reversed (the other 8-lane group), at
 * every ISA level, variant and reference.
 *  (a) ties of the first rounding: sg = 1, zg = -128, gamma codes 127
 *      (G = 255), sy = 2^-27: a = 2^-40 / (16 2^-27) = 2^-17, Ma = 2^30,
 *      Ea - 16 = 31:
 *        d = -257: T = -65535 2^30, U = rdbpot(T, 31) = -32767.5 -> -32768
 *                  (ties away from zero), y = rdbpot(-32768, 16) = -0.5 -> -1
 *        d = 255:  U = 32512.5 -> 32513, y = round(0.496) = 0
 *        d = 271:  U = 34552.5 -> 34553, y = round(0.527) = 1
 *      (ties rounded up would give 0 for the eight 0s);
 *  (b) |U| >= 2^31: sg = 1.5, sy = 2^-57: a = 1.5 2^13, Ma = 3 2^29,
 *      Ea - 16 = 1; gamma codes 127 (G = 255) for the 0s, -127 (G = 1) for
 *      the others: U = d G 3 2^28, every output saturates with the sign of
 *      d G (-128 for the 0s, 127 for the rest); U's low 32 bits alone would
 *      have the wrong sign for d = 255, 271 (765 2^28 and 813 2^28 mod 2^32);
 *  (c) below.
 */
static void check_ln16(const char *what, const int8_t *x16, const int8_t *g, float sg, float sy,
                       const int32_t *want16) {
    int8_t x[2][16], gg[16];
    int32_t want[2][16];
    for (int i = 0; i < 16; i++) {
        x[0][i] = x16[i];
        x[1][15 - i] = x[0][i];
        want[0][i] = want16[i];
        want[1][15 - i] = want16[i];
        gg[i] = g[i];
    }
    const int64_t n = 16;
    q8_params px, pg, py;
    q8_params_set(&px, 0x1p-40f, 0);
    q8_params_set(&pg, sg, -128);
    q8_params_set(&py, sy, 0);
    for (int row = 0; row < 2; row++) {
        /* gamma follows its elements into the reversed row */
        int8_t gr[16];
        for (int i = 0; i < 16; i++) gr[i] = row ? gg[15 - i] : gg[i];
        for (unsigned l = 0; qlite_test_q8_level_next(&l); l++)
            for (int ref = 0; ref < 2; ref++) {
                const int64_t d1[2] = {1, 16};
                qlite_op_test_tensor in[2] = {
                    q8_tensor(QLITE_DTYPE_INT8, 2, d1, x[row], &px),
                    q8_tensor(QLITE_DTYPE_INT8, 1, &n, gr, &pg)};
                in[1].is_const = true;
                qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 2, d1, NULL, &py);
                qlite_op_options o = qopts(QLITE_OPTIONS_NORM);
                o.u.norm.axis = -1;
                o.u.norm.epsilon = 1.0f;
                assert_qlite_ok(qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 2, in, 1, &out, 1,
                                                  ref ? QLITE_INTERP_REFERENCE_ONLY : 0));
                for (size_t i = 0; i < 16; i++)
                    if (q8_get(out.out, i, QLITE_DTYPE_INT8) != want[row][i])
                        fail_msg("LAYER_NORM %s, level %s%s, row %d: element %zu is %d, want %d",
                                 what, qlite_test_q8_level_name(l), ref ? " (reference)" : "",
                                 row, i, q8_get(out.out, i, QLITE_DTYPE_INT8), want[row][i]);
                qlite_op_test_free(1, &out);
            }
    }
}

static void test_hand_rows(void **state) {
    (void)state;
    int8_t x[16], g[16];
    int32_t want[16];
    for (int i = 0; i < 16; i++) {
        x[i] = (int8_t)(i < 8 ? 0 : (i < 15 ? 32 : 33));
        g[i] = 127;
        want[i] = i < 8 ? -1 : (i < 15 ? 0 : 1);
    }
    check_ln16("ties", x, g, 1.0f, 0x1p-27f, want);
    for (int i = 0; i < 16; i++) {
        g[i] = (int8_t)(i < 8 ? 127 : -127);
        want[i] = i < 8 ? -128 : 127;
    }
    check_ln16("|U| >= 2^31", x, g, 1.5f, 0x1p-57f, want);
    /* (c) as (b) with x = 16 (d = 0, y = 0) first, seven 0s (d = -256, G = 255: -128)
     * and eight 30s (d = 224, G = 1: 127); sum 256. U = d G 3 2^28 is a multiple of
     * 2^32 for both nonzero d (the low 32 bits say 0): the row's max |d| must come
     * from all 16 values, not the first */
    for (int i = 0; i < 16; i++) {
        x[i] = (int8_t)(i == 0 ? 16 : (i < 8 ? 0 : 30));
        g[i] = (int8_t)(i < 8 ? 127 : -127);
        want[i] = i == 0 ? 0 : (i < 8 ? -128 : 127);
    }
    check_ln16("|U| >= 2^31, d = 0 first", x, g, 1.5f, 0x1p-57f, want);
}

/* A valid small case, each test breaks one thing. */
typedef struct hostile {
    int64_t n;
    bool per_channel_gamma, gamma_not_const, big_beta, uint8_out;
} hostile;

static qlite_status run_hostile(const hostile *h) {
    const int64_t dims[2] = {2, h->n};
    const size_t ne = (size_t)(2 * h->n);
    int8_t *x = calloc(ne, 1), *g = calloc((size_t)h->n, 1), *b = calloc((size_t)h->n, 1);
    assert_non_null(x);
    assert_non_null(g);
    assert_non_null(b);
    for (size_t i = 0; i < ne; i++) x[i] = (int8_t)(i * 7);
    b[0] = 127;
    q8_params px, pg, pb, py;
    q8_params_set(&px, 0.05f, 0);
    q8_params_set(&pg, 0.01f, 0);
    q8_params_set(&pb, h->big_beta ? 100.0f : 0.01f, 0);
    q8_params_set(&py, 0.05f, 0);
    float gs[2] = {0.01f, 0.02f};
    int32_t gz[2] = {0, 0};
    qlite_quant pcq = {.count = 2, .axis = 0, .scale = gs, .zero_point = gz};
    const int64_t gdims[2] = {2, h->n / 2};
    qlite_op_test_tensor in[3] = {q8_tensor(QLITE_DTYPE_INT8, 2, dims, x, &px),
                                  q8_tensor(QLITE_DTYPE_INT8, 1, &h->n, g, &pg),
                                  q8_tensor(QLITE_DTYPE_INT8, 1, &h->n, b, &pb)};
    if (h->per_channel_gamma) {
        in[1] = q8_tensor(QLITE_DTYPE_INT8, 2, gdims, g, NULL);
        in[1].quant = &pcq;
    }
    in[1].is_const = !h->gamma_not_const;
    in[2].is_const = true;
    qlite_op_test_tensor out =
        q8_tensor(h->uint8_out ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8, 2, dims, NULL, &py);
    qlite_op_options o = qopts(QLITE_OPTIONS_NORM);
    o.u.norm.axis = -1;
    o.u.norm.epsilon = 1e-5f;
    const qlite_status st = qlite_op_test_run(QLITE_OP_LAYER_NORM, &o, 3, in, 1, &out, 1, 0);
    qlite_op_test_free(1, &out);
    free(x);
    free(g);
    free(b);
    return st;
}

static void test_hostile(void **state) {
    (void)state;
    const hostile ok = {.n = 8};
    assert_qlite_ok(run_hostile(&ok));
    hostile h = ok;
    h.per_channel_gamma = true;
    assert_int_not_equal(run_hostile(&h), QLITE_OK);
    h = ok;
    h.n = 4098;
    assert_int_equal(run_hostile(&h), QLITE_ERR_UNSUPPORTED_OP);
    h = ok;
    h.big_beta = true;
    assert_int_equal(run_hostile(&h), QLITE_ERR_UNSUPPORTED_OP);
    h = ok;
    h.gamma_not_const = true;
    assert_int_equal(run_hostile(&h), QLITE_ERR_UNSUPPORTED_OP);
    h = ok;
    h.uint8_out = true;
    assert_int_not_equal(run_hostile(&h), QLITE_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test_teardown(test_levels, qlite_test_q8_uncap),
        cmocka_unit_test_teardown(test_hand_rows, qlite_test_q8_uncap),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
