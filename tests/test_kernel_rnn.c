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
 *
 * Packed weights (test_packed): W and R float32 / float16 in O16 and int8
 * in O16I4 (docs/format.md §6.2, bytes laid out here by the doc's index
 * formula), handed over as stored: bit-identical to the same weights stored
 * DEFAULT (packed at prepare), on the optimized and the reference path, 1
 * and 2 threads; against the double equations on the values the kernel sees
 * (halves exact in binary16; int8 dequantized): 1e-4 for float32 / float16,
 * 0.03 for int8 (each x and h row is quantized to uint8 per step: <= 1/255
 * absolute per element, at most 40 products with |w| <= 0.5 per gate). H
 * and 4H / 3H around the 16-row panel (2H = 14, 16, 18, 24, 34: GRU's R_h
 * starts inside a panel or on its edge).
 */
#include "kernel_f32_check.h"
#include "kernel_nn_q8_check.h"

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
static const qlite_op_test_tensor *g_wr[2]; /* set: W and R as given here (test_packed) */

static qlite_status run_rnn(const rnn_case *c, const rnn_data *d, int threads, uint32_t flags,
                            qlite_op_test_tensor *out) {
    const int64_t D = ndir(c), G = c->gru ? 3 : 4, H = c->H;
    qlite_op_test_tensor in[8];
    in[0] = c->batch_first ? kc_tensor(3, (int64_t[]){c->B, c->T, c->I}, d->x, false)
                           : kc_tensor(3, (int64_t[]){c->T, c->B, c->I}, d->x, false);
    in[1] = kc_tensor(3, (int64_t[]){D, G * H, c->I}, d->w, g_weights_const);
    in[2] = kc_tensor(3, (int64_t[]){D, G * H, H}, d->r, g_weights_const);
    if (g_wr[0]) in[1] = *g_wr[0], in[2] = *g_wr[1];
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

/* ---- W and R stored packed ---- */

typedef enum { WK_F32, WK_F16, WK_I8 } wkind;

static size_t o16_at(size_t I, size_t o, size_t i) { return ((o / 16) * I + i) * 16 + o % 16; }
static size_t o16i4_at(size_t I, size_t o, size_t i) {
    return ((o / 16) * ((I + 3) / 4) + i / 4) * 64 + (o % 16) * 4 + i % 4;
}

/* binary16 bits of m / 256, |m| <= 128 (exact, normal or zero). */
static uint16_t half_of(int32_t m) {
    if (m == 0) return 0;
    const uint32_t a = (uint32_t)(m < 0 ? -m : m);
    uint32_t e = 0;
    while ((a >> e) > 1) e++;                 /* a = 2^e * (1 + f) */
    const uint32_t mant = ((a << 10) >> e) & 0x3ffu;
    return (uint16_t)((m < 0 ? 0x8000u : 0u) | (e - 8 + 15) << 10 | mant);
}

/* One weight of D matrices [O, I] in both storage forms. */
typedef struct wforms {
    void *dense, *packed;
    size_t dense_bytes, packed_bytes;
    nnq_wparams *q;                           /* int8: per row (axis 1) */
    qlite_op_test_tensor td, tp;
} wforms;

/* Random weight of kind k; v receives the values the kernel computes with. */
static void make_w(qlite_test_rng *r, wkind k, int64_t D, int64_t O, int64_t I, float *v,
                   wforms *f) {
    const size_t es = k == WK_I8 ? 1 : k == WK_F16 ? 2 : 4, Os = (size_t)O, Is = (size_t)I;
    const size_t mat = (Os + 15) / 16 * 16 * (k == WK_I8 ? (Is + 3) / 4 * 4 : Is);
    f->dense_bytes = (size_t)D * Os * Is * es;
    f->packed_bytes = (size_t)D * mat * es;
    f->dense = calloc(f->dense_bytes + 1, 1);
    f->packed = calloc(f->packed_bytes + 1, 1);
    f->q = NULL;
    assert_true(f->dense && f->packed);
    if (k == WK_I8) {
        f->q = malloc(sizeof *f->q);
        assert_non_null(f->q);
        nnq_wparams_init(f->q, (uint32_t)O, 1);
        for (size_t o = 0; o < Os; o++) f->q->scale[o] = (float)(1 + o % 4) / 1024.0f, f->q->zp[o] = 0;
    }
    for (size_t b = 0; b < (size_t)D; b++)
        for (size_t o = 0; o < Os; o++)
            for (size_t i = 0; i < Is; i++) {
                const size_t di = (b * Os + o) * Is + i;
                if (k == WK_I8) {
                    const int8_t q = (int8_t)((int32_t)(qlite_test_rng_u32(r) % 255) - 127);
                    ((int8_t *)f->dense)[di] = q;
                    ((int8_t *)f->packed)[b * mat + o16i4_at(Is, o, i)] = q;
                    v[di] = (float)q * f->q->scale[o];
                } else if (k == WK_F16) {
                    const int32_t m = (int32_t)(qlite_test_rng_u32(r) % 257) - 128;
                    ((uint16_t *)f->dense)[di] = half_of(m);
                    ((uint16_t *)f->packed)[b * mat + o16_at(Is, o, i)] = half_of(m);
                    v[di] = (float)m / 256.0f;
                } else {
                    const float x = (float)((double)qlite_test_rng_u32(r) / 4294967296.0 - 0.5);
                    ((float *)f->dense)[di] = x;
                    ((float *)f->packed)[b * mat + o16_at(Is, o, i)] = x;
                    v[di] = x;
                }
            }
    const qlite_dtype dt = k == WK_I8 ? QLITE_DTYPE_INT8 : k == WK_F16 ? QLITE_DTYPE_FLOAT16
                                                                      : QLITE_DTYPE_FLOAT32;
    f->td = kc_tensor(3, (int64_t[]){D, O, I}, NULL, true);
    f->td.dtype = dt;
    f->td.data = f->dense;
    f->td.quant = f->q ? &f->q->q : NULL;
    f->tp = f->td;
    f->tp.data = f->packed;
    f->tp.data_size = f->packed_bytes;
    f->tp.layout = k == WK_I8 ? QLITE_LAYOUT_O16I4 : QLITE_LAYOUT_O16;
}

static void free_w(wforms *f) {
    free(f->dense);
    free(f->packed);
    free(f->q);
}

static void check_packed(const rnn_case *c, wkind kw, wkind kr, uint64_t seed) {
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
    kc_fill(&rng, d.b, nb, -0.5f, 0.5f);
    kc_fill(&rng, d.p, (size_t)(D * 3 * H), -0.5f, 0.5f);
    kc_fill(&rng, d.h0, ns, -1.0f, 1.0f);
    kc_fill(&rng, d.c0, ns, -1.0f, 1.0f);
    for (int64_t b = 0; b < c->B; b++) d.lens[b] = (int32_t)(1 + qlite_test_rng_u32(&rng) % (uint32_t)c->T);
    wforms fw, fr;
    make_w(&rng, kw, D, G * H, c->I, d.w, &fw);
    make_w(&rng, kr, D, G * H, H, d.r, &fr);
    rnn_expect(c, &d);
    qlite_op_test_tensor op1[3], op2[3], opref[3], od1[3], odref[3];
    g_wr[0] = &fw.tp, g_wr[1] = &fr.tp;
    assert_qlite_ok(run_rnn(c, &d, 1, 0, op1));
    assert_qlite_ok(run_rnn(c, &d, 2, 0, op2));
    assert_qlite_ok(run_rnn(c, &d, 1, KC_REF_ONLY, opref));
    g_wr[0] = &fw.td, g_wr[1] = &fr.td;
    assert_qlite_ok(run_rnn(c, &d, 1, 0, od1));
    assert_qlite_ok(run_rnn(c, &d, 1, KC_REF_ONLY, odref));
    g_wr[0] = g_wr[1] = NULL;
    const double tol = kw == WK_I8 || kr == WK_I8 ? 0.03 : 1e-4;
    const double *want[3] = {d.y, d.yh, d.yc};
    const size_t count[3] = {ny, ns, ns};
    for (uint32_t i = 0; i < c->outputs; i++) {
        float *wf = kc_alloc(count[i]);
        for (size_t k = 0; k < count[i]; k++) wf[k] = (float)want[i][k];
        char what[128];
        snprintf(what, sizeof what, "packed %s W%d R%d output %u T%lld B%lld I%lld H%lld dir%d lbr%d",
                 c->gru ? "gru" : "lstm", (int)kw, (int)kr, i, (long long)c->T, (long long)c->B,
                 (long long)c->I, (long long)H, (int)c->dir, c->lbr);
        kc_check_close(what, op1[i].out, wf, count[i], tol, 0.0);
        kc_check_close(what, opref[i].out, wf, count[i], tol, 0.0);
        kc_check_equal(what, op1[i].out, od1[i].out, count[i]);     /* packed = DEFAULT */
        kc_check_equal(what, opref[i].out, odref[i].out, count[i]); /* on both paths */
        kc_check_equal(what, op1[i].out, op2[i].out, count[i]);     /* threads */
        free(wf);
    }
    qlite_op_test_free(c->outputs, op1);
    qlite_op_test_free(c->outputs, op2);
    qlite_op_test_free(c->outputs, opref);
    qlite_op_test_free(c->outputs, od1);
    qlite_op_test_free(c->outputs, odref);
    free_w(&fw);
    free_w(&fr);
    free(d.x), free(d.w), free(d.r), free(d.b), free(d.p), free(d.h0), free(d.c0), free(d.lens);
    free(d.y), free(d.yh), free(d.yc);
}

static void test_packed(void **state) {
    (void)state;
    static const int64_t Hs[] = {7, 8, 9, 12, 17};
    static const int64_t Is[] = {5, 16, 17};
    static const wkind kinds[][2] = {{WK_F32, WK_F32}, {WK_F16, WK_F16}, {WK_I8, WK_I8},
                                     {WK_F16, WK_I8}, {WK_I8, WK_F32}};
    uint64_t seed = 300;
    for (size_t h = 0; h < KC_COUNT(Hs); h++)
        for (size_t k = 0; k < KC_COUNT(kinds); k++)
            for (int g = 0; g < 3; g++) { /* LSTM, GRU, GRU with linear_before_reset */
                rnn_case c = {.gru = g > 0, .lbr = g == 2, .T = 4, .B = 1 + (int64_t)(seed % 3),
                              .I = Is[(h + k) % KC_COUNT(Is)], .H = Hs[h],
                              .dir = (h + k) % 2 ? QLITE_RNN_BIDIRECTIONAL : QLITE_RNN_FORWARD,
                              .bias = true, .h0 = true, .c0 = g == 0, .peep = g == 0 && h % 2,
                              .lens = seed % 2 == 0, .outputs = g == 0 ? 3 : 2};
                check_packed(&c, kinds[k][0], kinds[k][1], seed++);
            }
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
        cmocka_unit_test(test_packed),
        cmocka_unit_test(test_rnn_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
