/*
 * test_kernel_rnn.c — LSTM and GRU float32 (ONNX semantics) against a
 * double-precision implementation of the ONNX equations written here:
 * directions forward/reverse/bidirectional, batch_first, biases, peepholes,
 * initial states, sequence_lens, clip, linear_before_reset, output subsets;
 * optimized vs reference; 1 vs 2 threads bit-identical; error paths.
 *
 * Tolerance: 1e-4 absolute. Each step's pre-activations are float sums of at
 * most I + H + 2 <= 50 products of magnitude <= 1, whose summation error is
 * bounded by (50 + 2) * FLT_EPSILON * 10 ~ 6e-5 (kernel_f32_check.h); sigmoid
 * and tanh are 1-Lipschitz and the cell update is a convex combination, so
 * the error does not grow over the few steps used here.
 */
#include "kernel_f32_check.h"

typedef struct rnn_case {
    bool gru;
    int64_t T, B, I, H;
    qlite_rnn_direction dir;
    bool batch_first, bias, peep, h0, c0, lens, lbr;
    float clip;
    uint32_t outputs; /* 1..3 (Y, Y_h, Y_c) */
} rnn_case;

static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }
static double clipd(const rnn_case *c, double x) {
    return c->clip > 0 ? (x < -c->clip ? -c->clip : (x > c->clip ? c->clip : x)) : x;
}

typedef struct rnn_data {
    float *x, *w, *r, *b, *p, *h0, *c0;
    int32_t *lens;
    double *y, *yh, *yc;
} rnn_data;

static int64_t ndir(const rnn_case *c) { return c->dir == QLITE_RNN_BIDIRECTIONAL ? 2 : 1; }

/* The ONNX equations, in double, index by index. */
static void rnn_expect(const rnn_case *c, rnn_data *d) {
    const int64_t D = ndir(c), H = c->H, G = c->gru ? 3 : 4, T = c->T, B = c->B, I = c->I;
    double h[64], cc[64], pre[256], hpre[256];
    for (int64_t dir = 0; dir < D; dir++) {
        const bool rev = c->dir == QLITE_RNN_REVERSE || dir == 1;
        for (int64_t b = 0; b < B; b++) {
            const int64_t len = c->lens ? d->lens[b] : T;
            for (int64_t j = 0; j < H; j++) {
                const int64_t si = c->batch_first ? (b * D + dir) * H + j : (dir * B + b) * H + j;
                h[j] = c->h0 ? d->h0[si] : 0.0;
                cc[j] = c->c0 ? d->c0[si] : 0.0;
            }
            for (int64_t s = 0; s < T; s++) {
                const int64_t t = rev ? len - 1 - s : s;
                if (s < len) {
                    const float *x = d->x + (c->batch_first ? b * T + t : t * B + b) * I;
                    for (int64_t g = 0; g < G * H; g++) {
                        double a = c->bias ? d->b[dir * 2 * G * H + g] : 0.0;
                        double r = c->bias ? d->b[dir * 2 * G * H + G * H + g] : 0.0;
                        for (int64_t k = 0; k < I; k++) a += (double)x[k] * d->w[(dir * G * H + g) * I + k];
                        for (int64_t k = 0; k < H; k++) r += h[k] * d->r[(dir * G * H + g) * H + k];
                        pre[g] = a;
                        hpre[g] = r;
                    }
                    double hn[64];
                    for (int64_t j = 0; j < H; j++) {
                        if (!c->gru) { /* i o f c */
                            const double pi = c->peep ? d->p[dir * 3 * H + j] : 0.0;
                            const double po = c->peep ? d->p[dir * 3 * H + H + j] : 0.0;
                            const double pf = c->peep ? d->p[dir * 3 * H + 2 * H + j] : 0.0;
                            const double gi = sig(clipd(c, pre[j] + hpre[j] + pi * cc[j]));
                            const double gf = sig(clipd(c, pre[2 * H + j] + hpre[2 * H + j] + pf * cc[j]));
                            const double gg = tanh(clipd(c, pre[3 * H + j] + hpre[3 * H + j]));
                            const double cn = gf * cc[j] + gi * gg;
                            const double go = sig(clipd(c, pre[H + j] + hpre[H + j] + po * cn));
                            cc[j] = cn;
                            hn[j] = go * tanh(cn);
                        } else { /* z r h */
                            const double z = sig(clipd(c, pre[j] + hpre[j]));
                            double hh;
                            if (c->lbr) {
                                const double rr = sig(clipd(c, pre[H + j] + hpre[H + j]));
                                hh = rr * hpre[2 * H + j];
                            } else {
                                hh = c->bias ? d->b[dir * 6 * H + 3 * H + 2 * H + j] : 0.0;
                                for (int64_t k = 0; k < H; k++) {
                                    const double rk = sig(clipd(c, pre[H + k] + hpre[H + k]));
                                    hh += rk * h[k] * d->r[(dir * 3 * H + 2 * H + j) * H + k];
                                }
                            }
                            const double n = tanh(clipd(c, pre[2 * H + j] + hh));
                            hn[j] = (1 - z) * n + z * h[j];
                        }
                    }
                    for (int64_t j = 0; j < H; j++) h[j] = hn[j];
                }
                const int64_t ty = s < len ? t : s; /* rows past the length are zero */
                for (int64_t j = 0; j < H; j++) {
                    const int64_t yi = c->batch_first ? ((b * T + ty) * D + dir) * H + j
                                                      : ((ty * D + dir) * B + b) * H + j;
                    d->y[yi] = s < len ? h[j] : 0.0;
                }
            }
            for (int64_t j = 0; j < H; j++) {
                const int64_t si = c->batch_first ? (b * D + dir) * H + j : (dir * B + b) * H + j;
                d->yh[si] = h[j];
                d->yc[si] = cc[j];
            }
        }
    }
}

static bool g_weights_const = true; /* false: W and R given as activations */

static qlite_status run_rnn(const rnn_case *c, const rnn_data *d, int threads, uint32_t flags,
                            qlite_op_test_tensor *out) {
    const int64_t D = ndir(c), G = c->gru ? 3 : 4, H = c->H;
    qlite_op_test_tensor in[8];
    in[0] = c->batch_first ? kc_tensor(3, (int64_t[]){c->B, c->T, c->I}, d->x, false)
                           : kc_tensor(3, (int64_t[]){c->T, c->B, c->I}, d->x, false);
    in[1] = kc_tensor(3, (int64_t[]){D, G * H, c->I}, d->w, g_weights_const);
    in[2] = kc_tensor(3, (int64_t[]){D, G * H, H}, d->r, g_weights_const);
    in[3] = c->bias ? kc_tensor(2, (int64_t[]){D, 2 * G * H}, d->b, true) : kc_absent();
    in[4] = kc_absent();
    if (c->lens) {
        in[4] = kc_tensor(1, &c->B, NULL, false);
        in[4].data = d->lens;
        in[4].dtype = QLITE_DTYPE_INT32;
    }
    int64_t sd[3] = {D, c->B, H};
    if (c->batch_first) sd[0] = c->B, sd[1] = D;
    in[5] = c->h0 ? kc_tensor(3, sd, d->h0, false) : kc_absent();
    in[6] = c->c0 ? kc_tensor(3, sd, d->c0, false) : kc_absent();
    in[7] = c->peep ? kc_tensor(2, (int64_t[]){D, 3 * H}, d->p, true) : kc_absent();
    out[0] = c->batch_first ? kc_tensor(4, (int64_t[]){c->B, c->T, D, H}, NULL, false)
                            : kc_tensor(4, (int64_t[]){c->T, D, c->B, H}, NULL, false);
    out[1] = kc_tensor(3, sd, NULL, false);
    out[2] = kc_tensor(3, sd, NULL, false);
    qlite_op_options o = kc_options(QLITE_OPTIONS_RNN);
    o.u.rnn = (qlite_rnn_options){.hidden_size = (int32_t)H, .direction = c->dir,
                                  .batch_first = c->batch_first, .linear_before_reset = c->lbr,
                                  .clip = c->clip};
    return qlite_op_test_run(c->gru ? QLITE_OP_GRU : QLITE_OP_LSTM, &o, c->gru ? 6 : 8, in,
                             c->outputs, out, threads, flags);
}

static void check_case(const rnn_case *c, uint64_t seed) {
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, seed);
    const int64_t D = ndir(c), G = c->gru ? 3 : 4, H = c->H;
    const size_t nx = (size_t)(c->T * c->B * c->I), nw = (size_t)(D * G * H * c->I),
                 nr = (size_t)(D * G * H * H), nb = (size_t)(D * 2 * G * H),
                 ns = (size_t)(D * c->B * H), ny = (size_t)(c->T * D * c->B * H);
    rnn_data d;
    d.x = kc_alloc(nx), d.w = kc_alloc(nw), d.r = kc_alloc(nr), d.b = kc_alloc(nb);
    d.p = kc_alloc((size_t)(D * 3 * H)), d.h0 = kc_alloc(ns), d.c0 = kc_alloc(ns);
    d.lens = calloc((size_t)c->B, sizeof(int32_t));
    d.y = kc_alloc_d(ny), d.yh = kc_alloc_d(ns), d.yc = kc_alloc_d(ns);
    kc_fill(&rng, d.x, nx, -1.0f, 1.0f);
    kc_fill(&rng, d.w, nw, -0.5f, 0.5f);
    kc_fill(&rng, d.r, nr, -0.5f, 0.5f);
    kc_fill(&rng, d.b, nb, -0.5f, 0.5f);
    kc_fill(&rng, d.p, (size_t)(D * 3 * H), -0.5f, 0.5f);
    kc_fill(&rng, d.h0, ns, -1.0f, 1.0f);
    kc_fill(&rng, d.c0, ns, -1.0f, 1.0f);
    for (int64_t b = 0; b < c->B; b++) d.lens[b] = (int32_t)(1 + qlite_test_rng_u32(&rng) % (uint32_t)c->T);
    rnn_expect(c, &d);

    qlite_op_test_tensor o1[3], o2[3], oref[3];
    assert_qlite_ok(run_rnn(c, &d, 1, 0, o1));
    assert_qlite_ok(run_rnn(c, &d, 2, 0, o2));
    assert_qlite_ok(run_rnn(c, &d, 1, KC_REF_ONLY, oref));
    qlite_op_test_tensor ov[3]; /* weights packed at eval, not prepare */
    g_weights_const = false;
    assert_qlite_ok(run_rnn(c, &d, 1, 0, ov));
    g_weights_const = true;
    const double *want[3] = {d.y, d.yh, d.yc};
    const size_t count[3] = {ny, ns, ns};
    for (uint32_t i = 0; i < c->outputs; i++) {
        float *wf = kc_alloc(count[i]);
        for (size_t k = 0; k < count[i]; k++) wf[k] = (float)want[i][k];
        char what[96];
        snprintf(what, sizeof what, "%s output %u T%lld B%lld I%lld H%lld dir%d bf%d", c->gru ? "gru" : "lstm",
                 i, (long long)c->T, (long long)c->B, (long long)c->I, (long long)c->H, (int)c->dir,
                 c->batch_first);
        kc_check_close(what, o1[i].out, wf, count[i], 1e-4, 0.0);
        kc_check_close(what, oref[i].out, wf, count[i], 1e-4, 0.0);
        kc_check_equal(what, o1[i].out, o2[i].out, count[i]);
        kc_check_equal(what, o1[i].out, ov[i].out, count[i]);
        free(wf);
    }
    qlite_op_test_free(c->outputs, o1);
    qlite_op_test_free(c->outputs, o2);
    qlite_op_test_free(c->outputs, oref);
    qlite_op_test_free(c->outputs, ov);
    free(d.x), free(d.w), free(d.r), free(d.b), free(d.p), free(d.h0), free(d.c0), free(d.lens);
    free(d.y), free(d.yh), free(d.yc);
}

static void test_lstm(void **state) {
    (void)state;
    static const rnn_case cases[] = {
        {false, 5, 1, 8, 16, QLITE_RNN_FORWARD, false, true, false, false, false, false, false, 0, 3},
        {false, 4, 3, 5, 7, QLITE_RNN_REVERSE, false, true, true, true, true, false, false, 0, 3},
        {false, 6, 2, 4, 6, QLITE_RNN_BIDIRECTIONAL, false, true, false, true, true, true, false, 0, 3},
        {false, 7, 5, 3, 9, QLITE_RNN_BIDIRECTIONAL, true, true, true, true, false, true, false, 0, 2},
        {false, 3, 4, 6, 5, QLITE_RNN_FORWARD, true, false, false, false, false, false, false, 0.5f, 1},
        {false, 28, 1, 28, 32, QLITE_RNN_FORWARD, true, true, false, false, false, false, false, 0, 2},
        {false, 1, 1, 1, 1, QLITE_RNN_FORWARD, false, true, true, true, true, false, false, 0, 3},
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_case(&cases[i], 80 + i);
}

static void test_gru(void **state) {
    (void)state;
    static const rnn_case cases[] = {
        {true, 5, 1, 8, 16, QLITE_RNN_FORWARD, false, true, false, false, false, false, false, 0, 2},
        {true, 5, 1, 8, 16, QLITE_RNN_FORWARD, false, true, false, false, false, false, true, 0, 2},
        {true, 4, 3, 5, 7, QLITE_RNN_REVERSE, false, true, false, true, false, true, false, 0, 2},
        {true, 6, 4, 4, 6, QLITE_RNN_BIDIRECTIONAL, true, true, false, true, false, true, true, 0, 2},
        {true, 6, 5, 4, 6, QLITE_RNN_BIDIRECTIONAL, false, false, false, false, false, false, false, 0.7f, 1},
        {true, 1, 1, 1, 1, QLITE_RNN_FORWARD, false, true, false, true, false, false, false, 0, 2},
    };
    for (size_t i = 0; i < KC_COUNT(cases); i++) check_case(&cases[i], 90 + i);
}

static void test_rnn_errors(void **state) {
    (void)state;
    float x[64] = {0}, w[256] = {0};
    qlite_op_test_tensor in[3], out;
    qlite_op_options o = kc_options(QLITE_OPTIONS_RNN);
    o.u.rnn.hidden_size = 4;
    in[0] = kc_tensor(3, (int64_t[]){2, 1, 3}, x, false);
    in[1] = kc_tensor(3, (int64_t[]){1, 16, 2}, w, true); /* I = 2, X has 3 */
    in[2] = kc_tensor(3, (int64_t[]){1, 16, 4}, w, true);
    out = kc_tensor(4, (int64_t[]){2, 1, 1, 4}, NULL, false);
    assert_int_equal(qlite_op_test_run(QLITE_OP_LSTM, &o, 3, in, 1, &out, 1, 0), QLITE_ERR_SHAPE);
    in[1] = kc_tensor(3, (int64_t[]){1, 12, 3}, w, true); /* GRU needs 3H = 12 */
    assert_int_equal(qlite_op_test_run(QLITE_OP_LSTM, &o, 3, in, 1, &out, 1, 0), QLITE_ERR_SHAPE);
    in[2] = kc_tensor(3, (int64_t[]){1, 12, 4}, w, true);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_GRU, &o, 3, in, 1, &out, 1, 0));
    qlite_op_test_free(1, &out);
    in[0].dtype = QLITE_DTYPE_INT32;
    assert_int_equal(qlite_op_test_run(QLITE_OP_GRU, &o, 3, in, 1, &out, 1, 0), QLITE_ERR_DTYPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm),
        cmocka_unit_test(test_gru),
        cmocka_unit_test(test_rnn_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
