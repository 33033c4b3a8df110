/*
 * rnn_variants.c — LSTM and GRU (ONNX semantics, the layouts of
 * rnn_common.h, the gate math of lstm.c / gru.c) whose W [D, G*H, I] and
 * R [D, G*H, H] are, each on its own, float32, float16 (docs §7: halves
 * read in place) or int8 (hybrid, docs §5: symmetric, one scale per gate
 * row — axis 1, shared by the directions — or per tensor). X, B, the
 * states and the outputs are float32.
 *
 * Every product with a weight matrix is one "mat" operation
 *     out[b][r] = bias[r] + sum_k x[b][k] M[dir][r0 + r][k]
 * implemented per dtype:
 *   float32  gemm_f32.h;
 *   float16  gemm_f16.h (halves widened as they are packed or loaded);
 *   int8     each x row quantized to uint8 with its own (su, zu) — the
 *            input of one time step, or the hidden state of one step, per
 *            batch entry — int32 products in the int8 GEMM (gemm_q8.h), then
 *            out = su sw[r] (acc - zu sum_k M[r][k]) + bias[r].
 * As in the float kernels, the input projection of all T*B rows is one
 * GEMM before the recurrence (threaded) and R is packed once per direction
 * for the per-step products (float panels, or O16I4 for int8). The optimized path applies the
 * gates over whole vectors with rnn_common.h's fast exp, as lstm.c / gru.c
 * do; the reference path (QLITE_INTERP_REFERENCE_ONLY) computes each mat
 * with plain loops and the gates with libm.
 */
#include <math.h>

#include "kernels/gemm_f16.h"
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"
#include "kernels/rnn_common.h" /* (applies QLITE_NN_OPTIMIZE_LOOPS) */

/* One weight input (W or R). */
typedef struct rnn_mat {
    qlite_dtype dtype;          /* FLOAT32, FLOAT16 or INT8 */
    const void *data;           /* [D][rows][cols] */
    size_t rows, cols;
    const float *scale;         /* int8: [rows] per gate row */
    const int32_t *wsum;        /* int8: [D][rows] */
    size_t packed_bytes;        /* one direction packed for the recurrence, 0 = not packed */
} rnn_mat;

typedef struct rnnv_state {
    qlite_eval_fn eval;         /* must stay first (qlite_eval_dispatch) */
    rnn_dims d;
    int gates;                  /* 4 LSTM, 3 GRU */
    bool lbr;                   /* GRU linear_before_reset */
    rnn_mat w, r;
    const qlite_gemm_f32_ukernel *uk;
    const qlite_gemm_q8_ukernel *uk8;
    qlite_q8_cols cols8;        /* empty (INT32 mode) */
    size_t lda;                 /* quantized row length (max of I, H, padded) */
    size_t urows;               /* rows of the quantization buffer */
    /* scratch parts, bytes */
    size_t gx_b, gemm_b, pack_b, u_b, work_b;
} rnnv_state;

/* Scratch views. */
typedef struct rnnv_mem {
    float *gx;       /* [T*B, G*H] input projection */
    void *gemm;      /* projection GEMM scratch (float panels or O16I4) */
    void *pack;      /* R of the current direction, packed (GRU: two parts) */
    uint8_t *u;      /* [urows, lda] quantized rows */
    float *su;       /* [urows] */
    int32_t *zu;     /* [urows] */
    float *work;     /* pre/hp [B, G*H], h, c, rh, nh [B, H], bias [G*H], tmp [H] */
} rnnv_mem;

static rnnv_mem mem_of(const rnnv_state *s, void *scratch) {
    rnnv_mem m;
    uint8_t *p = scratch;
    m.gx = (float *)(void *)p;
    p += s->gx_b;
    m.gemm = p;
    p += s->gemm_b;
    m.pack = p;
    p += s->pack_b;
    m.u = p;
    p += s->u_b;
    m.su = (float *)(void *)p;
    m.zu = (int32_t *)(void *)(m.su + s->urows);
    p += (2 * s->urows * sizeof(int32_t) + 63) / 64 * 64;
    m.work = (float *)(void *)p;
    return m;
}

/* ---------------------------------------------------------------- */
/* mat operations                                                    */
/* ---------------------------------------------------------------- */

/* Plain loops: the reference of every dtype. */
static void mat_ref(const rnnv_state *s, const rnn_mat *m, size_t dir, size_t r0, size_t nr,
                    const float *x, size_t B, size_t ldx, const float *bias, float *out,
                    size_t ldo, uint8_t *u) {
    const size_t K = m->cols;
    for (size_t b = 0; b < B; b++) {
        const float *xb = x + b * ldx;
        float su = 0.0f;
        int32_t zu = 0;
        if (m->dtype == QLITE_DTYPE_INT8) su = qlite_hybrid_quantize(xb, K, u, &zu, NULL);
        for (size_t r = 0; r < nr; r++) {
            const size_t row = r0 + r, off = (dir * m->rows + row) * K;
            float v;
            if (m->dtype == QLITE_DTYPE_INT8) {
                const int8_t *w = (const int8_t *)m->data + off;
                int32_t acc = 0;
                for (size_t k = 0; k < K; k++) acc += (u[k] - zu) * w[k];
                v = (float)acc * (su * m->scale[row]);
            } else if (m->dtype == QLITE_DTYPE_FLOAT16) {
                const uint16_t *w = (const uint16_t *)m->data + off;
                v = 0.0f;
                for (size_t k = 0; k < K; k++) v += xb[k] * qlite_fp16_to_fp32(w[k]);
            } else {
                const float *w = (const float *)m->data + off;
                v = 0.0f;
                for (size_t k = 0; k < K; k++) v += xb[k] * w[k];
            }
            out[b * ldo + r] = v + (bias ? bias[r] : 0.0f);
        }
    }
    (void)s;
}

/* Packs rows [r0, r0 + nr) of direction dir for mat_step (when m->packed_bytes). */
static void mat_pack(const rnnv_state *s, const rnn_mat *m, size_t dir, size_t r0, size_t nr,
                     void *dst) {
    const size_t K = m->cols, off = (dir * m->rows + r0) * K;
    const size_t panels = (nr + s->uk->nr - 1) / s->uk->nr;
    switch (m->dtype) {
    case QLITE_DTYPE_INT8:
        qlite_gemm_q8_pack(K, nr, (const int8_t *)m->data + off, K, true, 0, 0, (nr + 15) / 16,
                           dst, NULL);
        break;
    case QLITE_DTYPE_FLOAT16:
        qlite_gemm_f16_pack_b(s->uk, K, nr, (const uint16_t *)m->data + off, K, true, 0, panels,
                              dst);
        break;
    default:
        qlite_gemm_f32_pack_b(s->uk, K, nr, (const float *)m->data + off, K, true, 0, panels, dst);
        break;
    }
}

/* Hybrid output stage of B rows: out = (acc - zu wsum) su sw + bias. */
static void q8_finish(const rnn_mat *m, size_t dir, size_t r0, size_t nr, const float *bias,
                      float *out, size_t ldo, size_t B, const float *su, const int32_t *zu) {
    const qlite_hybrid_cols hc = {.wscale = m->scale + r0,
                                  .wsum = m->wsum + dir * m->rows + r0,
                                  .bias = bias, .lo = -INFINITY, .hi = INFINITY};
    for (size_t b = 0; b < B; b++)
        qlite_hybrid_finish(&hc, 0, nr, su[b], zu[b], (const int32_t *)(void *)(out + b * ldo),
                            out + b * ldo);
}

/* Quantizes B rows of x into mem->u (rows of lda, zero padded). */
static void q8_rows(const rnnv_state *s, const rnnv_mem *mem, const float *x, size_t B,
                    size_t ldx, size_t K) {
    for (size_t b = 0; b < B; b++) {
        uint8_t *row = mem->u + b * s->lda;
        mem->su[b] = qlite_hybrid_quantize(x + b * ldx, K, row, &mem->zu[b], NULL);
        for (size_t k = K; k < s->lda; k++) row[k] = 0;
    }
}

typedef struct q8_fin_ctx {
    const rnn_mat *m;
    size_t dir;
    const float *bias;
    float *out;
    size_t ldo;
    const rnnv_mem *mem;
} q8_fin_ctx;

static void q8_fin(void *arg, size_t m0, size_t m1, size_t n0, size_t n1) {
    const q8_fin_ctx *f = arg;
    const qlite_hybrid_cols hc = {.wscale = f->m->scale, .wsum = f->m->wsum + f->dir * f->m->rows,
                                  .bias = f->bias, .lo = -INFINITY, .hi = INFINITY};
    for (size_t b = m0; b < m1; b++)
        qlite_hybrid_finish(&hc, n0, n1, f->mem->su[b], f->mem->zu[b],
                            (const int32_t *)(void *)(f->out + b * f->ldo), f->out + b * f->ldo);
}

/* The input projection: out [rows, G*H] = x W[dir]^T + bias, threaded. */
static void mat_project(const qlite_node *node, const rnnv_state *s, const rnnv_mem *mem,
                        size_t dir, const float *x, size_t rows, const float *bias, float *out) {
    const rnn_mat *m = &s->w;
    const size_t N = m->rows, K = m->cols, off = dir * N * K;
    if (m->dtype == QLITE_DTYPE_INT8) {
        q8_rows(s, mem, x, rows, K, K);
        q8_fin_ctx f = {.m = m, .dir = dir, .bias = bias, .out = out, .ldo = N, .mem = mem};
        const qlite_q8_gemm g = {.uk = s->uk8, .M = rows, .N = N, .K = K, .a = mem->u,
                                 .lda = s->lda, .w = (const int8_t *)m->data + off, .ldw = K,
                                 .w_trans = true, .packed = mem->gemm, .cols = &s->cols8,
                                 .c = out, .ldc = N, .mode = QLITE_GEMM_Q8_INT32,
                                 .finish = q8_fin, .finish_ctx = &f};
        qlite_q8_gemm_run(node, &g);
    } else if (m->dtype == QLITE_DTYPE_FLOAT16) {
        const qlite_gemm_f16w_args g = {.M = rows, .N = N, .K = K, .a = x, .rsa = K, .csa = 1,
                                        .b = (const uint16_t *)m->data + off, .ldb = K,
                                        .b_trans = true, .bias = bias, .c = out, .ldc = N,
                                        .lo = -INFINITY, .hi = INFINITY};
        qlite_gemm_f16w_run(node, s->uk, &g, mem->gemm);
    } else {
        const qlite_gemm_f32_args g = {.M = rows, .N = N, .K = K, .a = x, .rsa = K, .csa = 1,
                                       .b = (const float *)m->data + off, .ldb = K,
                                       .b_trans = true, .bias = bias, .c = out, .ldc = N,
                                       .lo = -INFINITY, .hi = INFINITY};
        qlite_gemm_f32_run(node, s->uk, &g, mem->gemm);
    }
}

/* A recurrent step: out [B, nr] = h R[dir][r0 .. r0+nr)^T + bias, calling thread;
 * packed: those rows from mat_pack, or NULL (read in place). */
static void mat_step(const rnnv_state *s, const rnnv_mem *mem, size_t dir, size_t r0, size_t nr,
                     const float *h, size_t B, const float *bias, float *out, size_t ldo,
                     const void *packed) {
    const rnn_mat *m = &s->r;
    const size_t K = m->cols, off = (dir * m->rows + r0) * K;
    if (m->dtype == QLITE_DTYPE_INT8) {
        q8_rows(s, mem, h, B, K, K);
        if (packed)
            qlite_gemm_q8_tiles(s->uk8, B, nr, K, mem->u, s->lda, packed, &s->cols8, NULL, out,
                                ldo, QLITE_GEMM_Q8_INT32);
        else
            qlite_gemm_q8_dot_rows(s->uk8, B, K, mem->u, s->lda, NULL,
                                   (const int8_t *)m->data + off, K, 0, nr, &s->cols8, out, ldo,
                                   QLITE_GEMM_Q8_INT32);
        q8_finish(m, dir, r0, nr, bias, out, ldo, B, mem->su, mem->zu);
    } else if (packed) {
        qlite_gemm_f32_packed(s->uk, B, nr, K, h, K, 1, packed, bias, out, ldo, -INFINITY,
                              INFINITY);
    } else { /* float16 with a small batch: halves read in place */
        const qlite_gemm_f16w_args g = {.M = B, .N = nr, .K = K, .a = h, .rsa = K, .csa = 1,
                                        .b = (const uint16_t *)m->data + off, .ldb = K,
                                        .b_trans = true, .bias = bias, .c = out, .ldc = ldo,
                                        .lo = -INFINITY, .hi = INFINITY};
        qlite_gemm_f16w_serial(s->uk, &g, NULL);
    }
}

/* ---------------------------------------------------------------- */
/* LSTM and GRU                                                      */
/* ---------------------------------------------------------------- */

typedef struct rnnv_io {
    const float *x, *b, *p, *h0, *c0;
    const qlite_tensor *lens;
    float *y, *yh, *yc;
} rnnv_io;

static rnnv_io get_io(const qlite_node *node, int gates) {
    rnnv_io io;
    const qlite_tensor *t;
    io.x = node->inputs[0]->data;
    io.b = (t = qlite_node_input(node, 3)) ? t->data : NULL;
    io.lens = qlite_node_input(node, 4);
    io.h0 = (t = qlite_node_input(node, 5)) ? t->data : NULL;
    io.c0 = gates == 4 && (t = qlite_node_input(node, 6)) ? t->data : NULL;
    io.p = gates == 4 && (t = qlite_node_input(node, 7)) ? t->data : NULL;
    io.y = node->num_outputs > 0 && node->outputs[0] ? node->outputs[0]->data : NULL;
    io.yh = node->num_outputs > 1 && node->outputs[1] ? node->outputs[1]->data : NULL;
    io.yc = gates == 4 && node->num_outputs > 2 && node->outputs[2] ? node->outputs[2]->data : NULL;
    return io;
}

static void finish_entry(const rnn_dims *d, const rnnv_io *io, int64_t dir, int64_t b,
                         int64_t len, const float *h, const float *c) {
    const size_t H = (size_t)d->H;
    if (io->yh) memcpy(io->yh + rnn_soff(d, dir, b), h, H * sizeof(float));
    if (io->yc && c) memcpy(io->yc + rnn_soff(d, dir, b), c, H * sizeof(float));
    if (io->y)
        for (int64_t t = len; t < d->T; t++)
            memset(io->y + rnn_yoff(d, t, dir, b), 0, H * sizeof(float));
}

/* LSTM gates of one batch entry (lstm.c's lstm_cell): pre[4H] in i, o, f, c order. */
static void lstm_cell(const rnn_dims *d, const float *pre, const float *p, float *h, float *c) {
    const int64_t H = d->H;
    for (int64_t j = 0; j < H; j++) {
        const float cp = c[j];
        const float gi = rnn_sigmoid(rnn_clip(d, pre[j] + (p ? p[j] * cp : 0.0f)));
        const float gf = rnn_sigmoid(rnn_clip(d, pre[2 * H + j] + (p ? p[2 * H + j] * cp : 0.0f)));
        const float gg = tanhf(rnn_clip(d, pre[3 * H + j]));
        const float cn = gf * cp + gi * gg;
        const float go = rnn_sigmoid(rnn_clip(d, pre[H + j] + (p ? p[H + j] * cn : 0.0f)));
        c[j] = cn;
        h[j] = go * tanhf(cn);
    }
}

/* The same gate math over whole vectors with rnn_common.h's fast exp (the
 * optimized path, as lstm.c's): pre[4H] is overwritten, tmp holds H floats. */
static void lstm_cell_fast(const rnn_dims *d, float *restrict pre, const float *restrict p,
                           float *restrict h, float *restrict c, float *restrict tmp) {
    const size_t H = (size_t)d->H;
    float *gi = pre, *go = pre + H, *gf = pre + 2 * H, *gg = pre + 3 * H;
    if (p)
        for (size_t j = 0; j < H; j++) {
            gi[j] += p[j] * c[j];
            gf[j] += p[2 * H + j] * c[j];
        }
    rnn_clip_vec(d, pre, 4 * H);
    rnn_sigmoid_vec(gi, H);
    rnn_sigmoid_vec(gf, H);
    rnn_tanh_vec(gg, gg, H);
    for (size_t j = 0; j < H; j++) c[j] = gf[j] * c[j] + gi[j] * gg[j];
    if (p) {
        for (size_t j = 0; j < H; j++) go[j] += p[H + j] * c[j];
        rnn_clip_vec(d, go, H);
    }
    rnn_sigmoid_vec(go, H);
    rnn_tanh_vec(tmp, c, H);
    for (size_t j = 0; j < H; j++) h[j] = go[j] * tmp[j];
}

static qlite_status rnnv_eval(qlite_node *node) {
    const rnnv_state *s = node->state;
    const rnn_dims *d = &s->d;
    const rnnv_io io = get_io(node, s->gates);
    const rnnv_mem mem = mem_of(s, node->scratch);
    const bool ref = qlite_node_reference_only(node);
    const size_t H = (size_t)d->H, G = (size_t)s->gates, GH = G * H, B = (size_t)d->B;
    const size_t TB = (size_t)(d->T * d->B), I = (size_t)d->I;
    float *pre = mem.work, *hs = pre + B * GH, *cs = hs + B * H, *rh = cs + B * H;
    float *nh = rh + B * H, *bias = nh + B * H, *tmp = bias + GH;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const bool rev = d->reverse_only || dir == 1;
        const float *Wb = io.b ? io.b + (size_t)dir * 2 * GH : NULL, *Rb = Wb ? Wb + GH : NULL;
        const float *P = io.p ? io.p + (size_t)dir * 3 * H : NULL;
        /* 1. input projection of every (t, b): x W^T + Wb (+ Rb for LSTM) */
        for (size_t g = 0; g < GH; g++)
            bias[g] = Wb ? Wb[g] + (s->gates == 4 ? Rb[g] : 0.0f) : 0.0f;
        if (ref)
            mat_ref(s, &s->w, (size_t)dir, 0, GH, io.x, TB, I, bias, mem.gx, GH, mem.u);
        else
            mat_project(node, s, &mem, (size_t)dir, io.x, TB, bias, mem.gx);
        int64_t maxlen = 0;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io.lens, b);
            maxlen = len > maxlen ? len : maxlen;
            for (size_t j = 0; j < H; j++) {
                hs[(size_t)b * H + j] = io.h0 ? io.h0[rnn_soff(d, dir, b) + j] : 0.0f;
                cs[(size_t)b * H + j] = io.c0 ? io.c0[rnn_soff(d, dir, b) + j] : 0.0f;
            }
        }
        /* 2. R packed once per direction (GRU without linear_before_reset: the z, r rows and
         * the h rows apart) */
        const size_t n1 = s->gates == 3 && !s->lbr ? 2 * H : GH;
        const void *pk1 = NULL, *pk2 = NULL;
        if (!ref && s->r.packed_bytes) {
            mat_pack(s, &s->r, (size_t)dir, 0, n1, mem.pack);
            pk1 = mem.pack;
            if (n1 < GH) {
                mat_pack(s, &s->r, (size_t)dir, n1, H, (uint8_t *)mem.pack + s->r.packed_bytes);
                pk2 = (uint8_t *)mem.pack + s->r.packed_bytes;
            }
        }
        for (int64_t st = 0; st < maxlen; st++) {
            /* h R^T (+ Rb for GRU) for the whole batch */
            const float *rb1 = s->gates == 3 ? Rb : NULL;
            if (ref)
                mat_ref(s, &s->r, (size_t)dir, 0, n1, hs, B, H, rb1, pre, GH, mem.u);
            else
                mat_step(s, &mem, (size_t)dir, 0, n1, hs, B, rb1, pre, GH, pk1);
            if (s->gates == 4) {
                for (int64_t b = 0; b < d->B; b++) {
                    const int64_t len = rnn_seq_len(d, io.lens, b);
                    if (st >= len) continue;
                    const int64_t t = rev ? len - 1 - st : st;
                    float *pb = pre + (size_t)b * GH;
                    const float *xb = mem.gx + rnn_xrow(d, t, b) * GH;
                    for (size_t g = 0; g < GH; g++) pb[g] += xb[g];
                    if (ref)
                        lstm_cell(d, pb, P, hs + (size_t)b * H, cs + (size_t)b * H);
                    else
                        lstm_cell_fast(d, pb, P, hs + (size_t)b * H, cs + (size_t)b * H, tmp);
                    if (io.y)
                        memcpy(io.y + rnn_yoff(d, t, dir, b), hs + (size_t)b * H,
                               H * sizeof(float));
                }
                continue;
            }
            /* GRU: r gate, then the candidate */
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                float *hb = hs + (size_t)b * H, *pb = pre + (size_t)b * GH;
                if (st >= len) {
                    memcpy(rh + (size_t)b * H, hb, H * sizeof(float)); /* unused */
                    continue;
                }
                const int64_t t = rev ? len - 1 - st : st;
                const float *xb = mem.gx + rnn_xrow(d, t, b) * GH;
                if (ref) {
                    for (size_t j = 0; j < H; j++) {
                        const float r = rnn_sigmoid(rnn_clip(d, xb[H + j] + pb[H + j]));
                        pb[H + j] = r;
                        rh[(size_t)b * H + j] = r * hb[j];
                    }
                } else {
                    float *r = pb + H;
                    for (size_t j = 0; j < H; j++) r[j] += xb[H + j];
                    rnn_clip_vec(d, r, H);
                    rnn_sigmoid_vec(r, H);
                    for (size_t j = 0; j < H; j++) rh[(size_t)b * H + j] = r[j] * hb[j];
                }
            }
            if (!s->lbr) { /* (r * h) R_h^T + Rb_h */
                if (ref)
                    mat_ref(s, &s->r, (size_t)dir, 2 * H, H, rh, B, H, Rb ? Rb + 2 * H : NULL,
                            nh, H, mem.u);
                else
                    mat_step(s, &mem, (size_t)dir, 2 * H, H, rh, B, Rb ? Rb + 2 * H : NULL, nh,
                             H, pk2);
            }
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                if (st >= len) continue;
                const int64_t t = rev ? len - 1 - st : st;
                float *hb = hs + (size_t)b * H;
                float *pb = pre + (size_t)b * GH;
                const float *xb = mem.gx + rnn_xrow(d, t, b) * GH;
                if (ref) {
                    for (size_t j = 0; j < H; j++) {
                        const float z = rnn_sigmoid(rnn_clip(d, xb[j] + pb[j]));
                        const float hh = s->lbr ? pb[H + j] * pb[2 * H + j] : nh[(size_t)b * H + j];
                        const float n = tanhf(rnn_clip(d, xb[2 * H + j] + hh));
                        hb[j] = (1.0f - z) * n + z * hb[j];
                    }
                } else { /* z and the candidate n over whole vectors (pb's z and h parts reused) */
                    float *z = pb, *n = pb + 2 * H;
                    const float *r = pb + H, *nhb = nh + (size_t)b * H;
                    for (size_t j = 0; j < H; j++) z[j] += xb[j];
                    rnn_clip_vec(d, z, H);
                    rnn_sigmoid_vec(z, H);
                    for (size_t j = 0; j < H; j++)
                        n[j] = xb[2 * H + j] + (s->lbr ? r[j] * n[j] : nhb[j]);
                    rnn_clip_vec(d, n, H);
                    rnn_tanh_vec(n, n, H);
                    for (size_t j = 0; j < H; j++) hb[j] = (1.0f - z[j]) * n[j] + z[j] * hb[j];
                }
                if (io.y) memcpy(io.y + rnn_yoff(d, t, dir, b), hb, H * sizeof(float));
            }
        }
        for (int64_t b = 0; b < d->B; b++)
            finish_entry(d, &io, dir, b, rnn_seq_len(d, io.lens, b), hs + (size_t)b * H,
                         s->gates == 4 ? cs + (size_t)b * H : NULL);
    }
    return QLITE_OK;
}

/* ---------------------------------------------------------------- */
/* prepare                                                           */
/* ---------------------------------------------------------------- */

/* rnn_common.h's rnn_prepare_common for any W / R dtype (it checks R is float32). */
static qlite_status dims_init(qlite_node *node, int64_t G, rnn_dims *d) {
    qlite_status st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1], *r = node->inputs[2];
    if (node->opts->type != QLITE_OPTIONS_RNN)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Rnn");
    const qlite_rnn_options *o = &node->opts->u.rnn;
    if ((st = qlite_nn_check_rank(node, x, "X", 3)) ||
        (st = qlite_nn_check_rank(node, w, "W", 3)) ||
        (st = qlite_nn_check_rank(node, r, "R", 3)) ||
        (st = qlite_nn_check_dtype(node, x, "X", QLITE_DTYPE_FLOAT32)))
        return st;
    if ((unsigned)o->direction >= QLITE_RNN_DIRECTION_COUNT)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad direction %d",
                                (int)o->direction);
    if (!(o->clip >= 0.0f))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "clip must be >= 0");
    d->G = G;
    d->batch_first = o->batch_first;
    d->T = x->dims[o->batch_first ? 1 : 0];
    d->B = x->dims[o->batch_first ? 0 : 1];
    d->I = x->dims[2];
    d->H = o->hidden_size;
    d->D = o->direction == QLITE_RNN_BIDIRECTIONAL ? 2 : 1;
    d->reverse_only = o->direction == QLITE_RNN_REVERSE;
    d->clip = o->clip;
    if (d->H < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "hidden_size %lld must be >= 1",
                                (long long)d->H);
    if (w->dims[0] != d->D || w->dims[1] != G * d->H || w->dims[2] != d->I)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "W '%s' must be [%lld, %lld, %lld]",
                                w->info->name, (long long)d->D, (long long)(G * d->H),
                                (long long)d->I);
    if (r->dims[0] != d->D || r->dims[1] != G * d->H || r->dims[2] != d->H)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "R '%s' must be [%lld, %lld, %lld]",
                                r->info->name, (long long)d->D, (long long)(G * d->H),
                                (long long)d->H);
    if ((st = rnn_check_opt(node, 3, "B", 2, (int64_t[]){d->D, 2 * G * d->H}))) return st;
    const qlite_tensor *lens = qlite_node_input(node, 4);
    if (lens) {
        if (lens->dtype != QLITE_DTYPE_INT32 && lens->dtype != QLITE_DTYPE_INT64)
            return qlite_node_error(node, QLITE_ERR_DTYPE, "sequence_lens '%s' is %s",
                                    lens->info->name, qlite_dtype_name(lens->dtype));
        if (lens->rank != 1 || lens->dims[0] != d->B)
            return qlite_node_error(node, QLITE_ERR_SHAPE, "sequence_lens '%s' must be [%lld]",
                                    lens->info->name, (long long)d->B);
    }
    int64_t sdims[3] = {d->D, d->B, d->H};
    if (d->batch_first) sdims[0] = d->B, sdims[1] = d->D;
    if ((st = rnn_check_opt(node, 5, "initial_h", 3, sdims))) return st;
    if (G == 4 && (st = rnn_check_opt(node, 6, "initial_c", 3, sdims))) return st;
    if (G == 4 && (st = rnn_check_opt(node, 7, "P", 2, (int64_t[]){d->D, 3 * d->H}))) return st;
    for (uint32_t i = 0; i < node->num_outputs; i++) {
        if (!node->outputs[i]) continue;
        if ((st = qlite_nn_check_dtype(node, node->outputs[i], "output", QLITE_DTYPE_FLOAT32)))
            return st;
        if (i == 0) {
            int64_t y[4] = {d->T, d->D, d->B, d->H};
            if (d->batch_first) y[0] = d->B, y[1] = d->T, y[2] = d->D;
            if ((st = qlite_node_set_output_shape(node, 0, 4, y))) return st;
        } else if ((st = qlite_node_set_output_shape(node, i, 3, sdims))) {
            return st;
        }
    }
    return QLITE_OK;
}

/* W or R: dtype, and for int8 its per-row scales (axis 1) and row sums. */
static qlite_status mat_init(qlite_node *node, const qlite_tensor *t, const char *what,
                             size_t D, rnn_mat *m) {
    m->dtype = t->dtype;
    m->data = t->data;
    m->rows = (size_t)t->dims[1];
    m->cols = (size_t)t->dims[2];
    if (t->dtype == QLITE_DTYPE_FLOAT32 || t->dtype == QLITE_DTYPE_FLOAT16) return QLITE_OK;
    if (t->dtype != QLITE_DTYPE_INT8)
        return qlite_node_error(node, QLITE_ERR_DTYPE,
                                "%s '%s' is %s; float32, float16 or int8 expected", what,
                                t->info->name, qlite_dtype_name(t->dtype));
    if (!t->is_const)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "int8 %s '%s' must be a constant",
                                what, t->info->name);
    qlite_q8_weights wq;
    qlite_status st = qlite_q8_weights_init(node, t, what, 1, m->rows, &wq);
    if (st != QLITE_OK) return st;
    if (wq.any_zp)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "hybrid kernels take symmetric int8 weights (%s '%s' has a zero "
                                "point)",
                                what, t->info->name);
    if ((st = qlite_hybrid_check_acc(node, m->cols, &wq))) return st;
    float *scale = qlite_node_alloc(node, m->rows * sizeof(float));
    int32_t *sum = qlite_node_alloc(node, D * m->rows * sizeof(int32_t));
    if (!scale || !sum) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    const int8_t *w = t->data;
    for (size_t r = 0; r < m->rows; r++) scale[r] = qlite_q8_wscale(&wq, r);
    for (size_t i = 0; i < D * m->rows; i++) {
        int32_t acc = 0;
        for (size_t k = 0; k < m->cols; k++) acc += w[i * m->cols + k];
        sum[i] = acc;
    }
    m->scale = scale;
    m->wsum = sum;
    return QLITE_OK;
}

static size_t align64(size_t b) { return (b + 63) / 64 * 64; }

static qlite_status rnnv_prepare(qlite_node *node, int gates) {
    qlite_status st = qlite_nn_check_io(node, 3, gates == 4 ? 8 : 6, 1, gates == 4 ? 3 : 2);
    if (st != QLITE_OK) return st;
    rnnv_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->gates = gates;
    rnn_dims *d = &s->d;
    if ((st = dims_init(node, gates, d))) return st;
    s->lbr = gates == 3 && node->opts->u.rnn.linear_before_reset;
    if ((st = mat_init(node, node->inputs[1], "W", (size_t)d->D, &s->w)) ||
        (st = mat_init(node, node->inputs[2], "R", (size_t)d->D, &s->r)))
        return st;
    const size_t H = (size_t)d->H, GH = (size_t)gates * H, B = (size_t)d->B;
    const size_t TB = (size_t)(d->T * d->B), I = (size_t)d->I;
    s->uk = qlite_gemm_f32_select_for(GH);
    s->uk8 = qlite_gemm_q8_select_for(GH);
    const bool w8 = s->w.dtype == QLITE_DTYPE_INT8, r8 = s->r.dtype == QLITE_DTYPE_INT8;
    /* quantized rows: all T*B inputs (projection) or the B states */
    s->lda = qlite_gemm_q8_dot_lda((I > H ? I : H));
    s->urows = (w8 ? TB : 0) > B ? TB : B;
    if (s->urows < 1) s->urows = 1;
    /* the projection's GEMM scratch */
    size_t gemm = 0;
    if (w8)
        gemm = qlite_q8_gemm_dot(TB, true, 0) ? 0 : qlite_gemm_q8_packed_size(I, GH);
    else
        gemm = qlite_gemm_f32_scratch_bytes(s->uk, TB, GH, I);
    /* R packed once per direction and invoke, whatever its dtype (float panels, or O16I4
     * for int8): T steps use it, and tiles beat dot products even for one row */
    const size_t n1 = gates == 3 && !s->lbr ? 2 * H : GH;
    size_t pk1 = 0, pk2 = 0;
    {
        if (r8) {
            pk1 = qlite_gemm_q8_packed_size(H, n1);
            pk2 = n1 < GH ? qlite_gemm_q8_packed_size(H, H) : 0;
        } else {
            pk1 = qlite_gemm_f32_packed_size(s->uk, H, n1) * sizeof(float);
            pk2 = n1 < GH ? qlite_gemm_f32_packed_size(s->uk, H, H) * sizeof(float) : 0;
        }
    }
    s->r.packed_bytes = align64(pk1);
    s->gx_b = align64(TB * GH * sizeof(float));
    s->gemm_b = align64(gemm);
    s->pack_b = s->r.packed_bytes + align64(pk2);
    s->u_b = align64(s->urows * s->lda);
    /* pre [B, GH], h, c, rh, nh [B, H], bias [GH], tmp [H] */
    s->work_b = align64((B * GH + 4 * B * H + GH + H) * sizeof(float));
    node->scratch_bytes = s->gx_b + s->gemm_b + s->pack_b + s->u_b +
                          align64(2 * s->urows * sizeof(int32_t)) + s->work_b;
    memset(&s->cols8, 0, sizeof s->cols8);
    s->eval = rnnv_eval;
    node->state = s;
    return QLITE_OK;
}

qlite_status qlite_lstm_variants_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 3, 8, 1, 3);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlite_nn_variant_unsupported(node, x, node->inputs[1]);
    return rnnv_prepare(node, 4);
}

qlite_status qlite_gru_variants_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 3, 6, 1, 2);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlite_nn_variant_unsupported(node, x, node->inputs[1]);
    return rnnv_prepare(node, 3);
}
