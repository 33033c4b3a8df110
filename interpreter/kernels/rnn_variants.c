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
 * implemented per dtype on the weight's packed form (packed_weights.h),
 * one matrix per direction:
 *   float32, float16  O16 panels, gemm_f32.h's O16 calls (halves widened
 *            by the micro-kernels as they load them);
 *   int8     O16I4 blocks; each x row quantized to uint8 with its own
 *            (su, zu) — the input of one time step, or the hidden state of
 *            one step, per batch entry — int32 products in the int8 GEMM
 *            (gemm_q8.h), then out = su sw[r] (acc - zu sum_k M[r][k]) + bias[r].
 * A constant W or R is read in the model's bytes when the converter stored
 * it packed (pack_weights.c), else packed once at prepare; a float weight
 * given at eval is packed into scratch per direction. As in the float
 * kernels, the input projection of all T*B rows is one GEMM before the
 * recurrence (threaded) and each step multiplies the batch's states with R.
 * GRU without linear_before_reset multiplies (r * h) with R_h, rows
 * [2H, 3H): from the panel holding row 2H (rnn_o16_from), skipping the
 * rows before it. The optimized path applies the gates over whole vectors
 * with rnn_common.h's fast exp, as lstm.c / gru.c do; the reference path
 * (QLITE_INTERP_REFERENCE_ONLY) computes each mat with plain loops over the
 * same packed weights and the gates with libm.
 */
#include <math.h>

#include "kernels/gemm_f16.h"
#include "kernels/gemm_f32.h"
#include "kernels/gemm_q8.h"
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"
#include "kernels/packed_weights.h"
#include "kernels/rnn_common.h" /* (applies QLITE_NN_OPTIMIZE_LOOPS) */

/* One weight input (W or R). */
typedef struct rnn_mat {
    qlite_dtype dtype;          /* FLOAT32, FLOAT16 or INT8 */
    const void *data;           /* as handed over ([D][rows][cols] when not constant) */
    const void *packed;         /* constant: D matrices in O16 / O16I4, or NULL (packed per eval) */
    size_t mat_bytes;           /* bytes of one direction's packed matrix */
    size_t rows, cols;
    const float *scale;         /* int8: [rows] per gate row */
    const int32_t *wsum;        /* int8: [D][rows] */
} rnn_mat;

typedef struct rnnv_state {
    qlite_eval_fn eval;         /* must stay first (qlite_eval_dispatch) */
    rnn_dims d;
    int gates;                  /* 4 LSTM, 3 GRU */
    bool lbr;                   /* GRU linear_before_reset */
    rnn_mat w, r;
    const qlite_gemm_f32_ukernel *uk;   /* 16-column panels (O16) */
    const qlite_gemm_q8_ukernel *uk8w;  /* int8 W: the projection's N = G*H */
    const qlite_gemm_q8_ukernel *uk8r1; /* int8 R: the step's first product (n1 rows) */
    const qlite_gemm_q8_ukernel *uk8r2; /* int8 R: GRU's R_h product (3H - h0 rows) */
    qlite_q8_cols cols8;        /* empty (INT32 mode) */
    size_t lda;                 /* quantized row length (max of I, H, padded) */
    size_t urows;               /* rows of the quantization buffer */
    /* scratch parts, bytes */
    size_t gx_b, gemm_b, pack_b, u_b, work_b, wbuf_b;
} rnnv_state;

/* Scratch views. */
typedef struct rnnv_mem {
    float *gx;       /* [T*B, G*H] input projection */
    void *gemm;      /* W of the current direction in O16 when given at eval */
    void *pack;      /* R of the current direction in O16 when given at eval */
    uint8_t *u;      /* [urows, lda] quantized rows */
    float *su;       /* [urows] */
    int32_t *zu;     /* [urows] */
    float *work;     /* pre [B, G*H], h, c, rh [B, H], nh [B, H + 15], bias [G*H], tmp [H] */
    float *wbuf;     /* float16 W: the half GEMM's widening buffers, or NULL */
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
    p += s->work_b;
    m.wbuf = s->wbuf_b ? (float *)(void *)p : NULL;
    return m;
}

/* ---------------------------------------------------------------- */
/* mat operations                                                    */
/* ---------------------------------------------------------------- */

/* Direction dir of m in its packed form: the constant's, or packed into dst. */
static const void *mat_dir(const rnn_mat *m, size_t dir, void *dst) {
    if (m->packed) return (const uint8_t *)m->packed + dir * m->mat_bytes;
    const size_t K = m->cols, N = m->rows;
    if (m->dtype == QLITE_DTYPE_FLOAT16)
        qlite_gemm_o16_pack_f16(K, N, (const uint16_t *)m->data + dir * N * K, K, true, dst);
    else
        qlite_gemm_o16_pack_f32(K, N, (const float *)m->data + dir * N * K, K, true, dst);
    return dst;
}

/* Plain loops over the packed form wp of one direction: the reference of every dtype. */
static void mat_ref(const rnn_mat *m, const void *wp, size_t dir, size_t r0, size_t nr,
                    const float *x, size_t B, size_t ldx, const float *bias, float *out,
                    size_t ldo, uint8_t *u) {
    const size_t K = m->cols;
    const bool half = m->dtype == QLITE_DTYPE_FLOAT16;
    for (size_t b = 0; b < B; b++) {
        const float *xb = x + b * ldx;
        float su = 0.0f;
        int32_t zu = 0;
        if (m->dtype == QLITE_DTYPE_INT8) su = qlite_hybrid_quantize(xb, K, u, &zu, NULL);
        for (size_t r = 0; r < nr; r++) {
            const size_t row = r0 + r;
            float v;
            if (m->dtype == QLITE_DTYPE_INT8) {
                int32_t acc = 0;
                for (size_t k = 0; k < K; k++)
                    acc += (u[k] - zu) * qlite_o16i4_at(wp, K, row, k);
                v = (float)acc * (su * m->scale[row]);
            } else {
                v = 0.0f;
                for (size_t k = 0; k < K; k++) v += xb[k] * qlite_o16_at(wp, half, K, row, k);
            }
            out[b * ldo + r] = v + (bias ? bias[r] : 0.0f);
        }
    }
    (void)dir;
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

/* The input projection: out [rows, G*H] = x W[dir]^T + bias, threaded; wp: mat_dir's. */
static void mat_project(const qlite_node *node, const rnnv_state *s, const rnnv_mem *mem,
                        size_t dir, const void *wp, const float *x, size_t rows,
                        const float *bias, float *out) {
    const rnn_mat *m = &s->w;
    const size_t N = m->rows, K = m->cols;
    if (m->dtype == QLITE_DTYPE_INT8) {
        q8_rows(s, mem, x, rows, K, K);
        q8_fin_ctx f = {.m = m, .dir = dir, .bias = bias, .out = out, .ldo = N, .mem = mem};
        const qlite_q8_gemm g = {.uk = s->uk8w, .M = rows, .N = N, .K = K, .a = mem->u,
                                 .lda = s->lda, .ldw = K, .w_trans = true,
                                 .packed = (int8_t *)(uintptr_t)wp, .prepacked = true,
                                 .cols = &s->cols8, .c = out, .ldc = N,
                                 .mode = QLITE_GEMM_Q8_INT32, .finish = q8_fin, .finish_ctx = &f};
        qlite_q8_gemm_run(node, &g);
        return;
    }
    const qlite_gemm_f32_args g = {.M = rows, .N = N, .K = K, .a = x, .rsa = K, .csa = 1,
                                   .bias = bias, .c = out, .ldc = N, .lo = -INFINITY,
                                   .hi = INFINITY};
    if (m->dtype == QLITE_DTYPE_FLOAT16) /* halves widened once per block, the same sums */
        qlite_gemm_f16_o16_run(node, s->uk, &g, wp, mem->wbuf);
    else
        qlite_gemm_f32_run_o16(node, s->uk, &g, wp, false);
}

/* A recurrent step on the calling thread: out [B, nr] = h R[dir][r0 .. r0+nr)^T + bias,
 * r0 a multiple of 16 (a panel's first row); rp: mat_dir's; uk8 for int8 R. */
static void mat_step(const rnnv_state *s, const rnnv_mem *mem, const qlite_gemm_q8_ukernel *uk8,
                     size_t dir, const void *rp, size_t r0, size_t nr, const float *h, size_t B,
                     const float *bias, float *out, size_t ldo) {
    const rnn_mat *m = &s->r;
    const size_t K = m->cols;
    if (m->dtype == QLITE_DTYPE_INT8) {
        q8_rows(s, mem, h, B, K, K);
        qlite_gemm_q8_tiles(uk8, B, nr, K, mem->u, s->lda,
                            (const int8_t *)rp + r0 * qlite_gemm_q8_k4(K), &s->cols8, NULL, out,
                            ldo, QLITE_GEMM_Q8_INT32);
        q8_finish(m, dir, r0, nr, bias, out, ldo, B, mem->su, mem->zu);
        return;
    }
    const bool half = m->dtype == QLITE_DTYPE_FLOAT16;
    const qlite_gemm_f32_args g = {.M = B, .N = nr, .K = K, .a = h, .rsa = K, .csa = 1,
                                   .bias = bias, .c = out, .ldc = ldo, .lo = -INFINITY,
                                   .hi = INFINITY};
    qlite_gemm_f32_o16_serial(s->uk, &g, (const uint8_t *)rp + r0 * K * (half ? 2 : 4), half);
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

static qlite_status rnnv_eval(qlite_node *node) {
    const rnnv_state *s = node->state;
    const rnn_dims *d = &s->d;
    const rnnv_io io = get_io(node, s->gates);
    const rnnv_mem mem = mem_of(s, node->scratch);
    const bool ref = qlite_node_reference_only(node);
    const size_t H = (size_t)d->H, G = (size_t)s->gates, GH = G * H, B = (size_t)d->B;
    const size_t TB = (size_t)(d->T * d->B), I = (size_t)d->I;
    /* GRU's R_h product: rows [h0, 3H) into nh [B, ldn], the first `skip` unused */
    const size_t h0 = rnn_o16_from(2 * H), skip = 2 * H - h0, ldn = GH - h0;
    float *pre = mem.work, *hs = pre + B * GH, *cs = hs + B * H, *rh = cs + B * H;
    float *nh = rh + B * H, *bias = nh + B * (H + 15), *tmp = bias + GH;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const bool rev = d->reverse_only || dir == 1;
        const float *Wb = io.b ? io.b + (size_t)dir * 2 * GH : NULL, *Rb = Wb ? Wb + GH : NULL;
        const float *P = io.p ? io.p + (size_t)dir * 3 * H : NULL;
        const void *wp = mat_dir(&s->w, (size_t)dir, mem.gemm);
        const void *rp = mat_dir(&s->r, (size_t)dir, mem.pack);
        /* 1. input projection of every (t, b): x W^T + Wb (+ Rb for LSTM) */
        for (size_t g = 0; g < GH; g++)
            bias[g] = Wb ? Wb[g] + (s->gates == 4 ? Rb[g] : 0.0f) : 0.0f;
        if (ref)
            mat_ref(&s->w, wp, (size_t)dir, 0, GH, io.x, TB, I, bias, mem.gx, GH, mem.u);
        else
            mat_project(node, s, &mem, (size_t)dir, wp, io.x, TB, bias, mem.gx);
        int64_t maxlen = 0;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io.lens, b);
            maxlen = len > maxlen ? len : maxlen;
            for (size_t j = 0; j < H; j++) {
                hs[(size_t)b * H + j] = io.h0 ? io.h0[rnn_soff(d, dir, b) + j] : 0.0f;
                cs[(size_t)b * H + j] = io.c0 ? io.c0[rnn_soff(d, dir, b) + j] : 0.0f;
            }
        }
        /* 2. the recurrence (GRU without linear_before_reset: the z, r rows, then R_h) */
        const size_t n1 = s->gates == 3 && !s->lbr ? 2 * H : GH;
        for (int64_t st = 0; st < maxlen; st++) {
            /* h R^T (+ Rb for GRU) for the whole batch */
            const float *rb1 = s->gates == 3 ? Rb : NULL;
            if (ref)
                mat_ref(&s->r, rp, (size_t)dir, 0, n1, hs, B, H, rb1, pre, GH, mem.u);
            else
                mat_step(s, &mem, s->uk8r1, (size_t)dir, rp, 0, n1, hs, B, rb1, pre, GH);
            if (s->gates == 4) {
                for (int64_t b = 0; b < d->B; b++) {
                    const int64_t len = rnn_seq_len(d, io.lens, b);
                    if (st >= len) continue;
                    const int64_t t = rev ? len - 1 - st : st;
                    float *pb = pre + (size_t)b * GH;
                    const float *xb = mem.gx + rnn_xrow(d, t, b) * GH;
                    for (size_t g = 0; g < GH; g++) pb[g] += xb[g];
                    if (ref)
                        rnn_lstm_cell(d, pb, P, hs + (size_t)b * H, cs + (size_t)b * H);
                    else
                        rnn_lstm_cell_fast(d, pb, P, hs + (size_t)b * H, cs + (size_t)b * H, tmp);
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
                    rnn_gru_r_fast(d, pb, xb, hb, rh + (size_t)b * H);
                }
            }
            if (!s->lbr) { /* (r * h) R_h^T + Rb_h */
                if (ref)
                    mat_ref(&s->r, rp, (size_t)dir, 2 * H, H, rh, B, H, Rb ? Rb + 2 * H : NULL,
                            nh + skip, ldn, mem.u);
                else
                    mat_step(s, &mem, s->uk8r2, (size_t)dir, rp, h0, ldn, rh, B,
                             Rb ? Rb + h0 : NULL, nh, ldn);
            }
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                if (st >= len) continue;
                const int64_t t = rev ? len - 1 - st : st;
                float *hb = hs + (size_t)b * H;
                float *pb = pre + (size_t)b * GH;
                const float *xb = mem.gx + rnn_xrow(d, t, b) * GH;
                const float *nhb = nh + (size_t)b * ldn + skip;
                if (ref) {
                    for (size_t j = 0; j < H; j++) {
                        const float z = rnn_sigmoid(rnn_clip(d, xb[j] + pb[j]));
                        const float hh = s->lbr ? pb[H + j] * pb[2 * H + j] : nhb[j];
                        const float n = tanhf(rnn_clip(d, xb[2 * H + j] + hh));
                        hb[j] = (1.0f - z) * n + z * hb[j];
                    }
                } else {
                    rnn_gru_h_fast(d, s->lbr, pb, xb, nhb, hb);
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

/* W or R: dtype, the packed form of a constant, and for int8 its per-row
 * scales (axis 1) and row sums. */
static qlite_status mat_init(qlite_node *node, const qlite_tensor *t, const char *what,
                             size_t D, rnn_mat *m) {
    m->dtype = t->dtype;
    m->data = t->data;
    m->packed = NULL;
    m->rows = (size_t)t->dims[1];
    m->cols = (size_t)t->dims[2];
    qlite_status st;
    if (t->dtype == QLITE_DTYPE_FLOAT32 || t->dtype == QLITE_DTYPE_FLOAT16) {
        const size_t es = t->dtype == QLITE_DTYPE_FLOAT16 ? 2 : 4;
        m->mat_bytes = qlite_gemm_o16_elems(m->cols, m->rows) * es;
        if (!t->is_const || !t->data) return QLITE_OK;
        qlite_o16_weights wo;
        if ((st = qlite_o16_weights_get(node, t, what, D, m->rows, m->cols, &wo))) return st;
        m->packed = wo.data;
        return QLITE_OK;
    }
    if (t->dtype != QLITE_DTYPE_INT8)
        return qlite_node_error(node, QLITE_ERR_DTYPE,
                                "%s '%s' is %s; float32, float16 or int8 expected", what,
                                t->info->name, qlite_dtype_name(t->dtype));
    if (!t->is_const || !t->data)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "int8 %s '%s' must be a constant",
                                what, t->info->name);
    qlite_q8_weights wq;
    if ((st = qlite_q8_weights_init(node, t, what, 1, m->rows, &wq))) return st;
    if (wq.any_zp)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "hybrid kernels take symmetric int8 weights (%s '%s' has a zero "
                                "point)",
                                what, t->info->name);
    if ((st = qlite_hybrid_check_acc(node, m->cols, &wq))) return st;
    float *scale = qlite_node_alloc(node, m->rows * sizeof(float));
    int32_t *sum = qlite_node_alloc(node, D * m->rows * sizeof(int32_t));
    if (!scale || !sum) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    qlite_o16i4_weights wp;
    if ((st = qlite_o16i4_weights_get(node, t, what, D, m->rows, m->cols, &wp, NULL))) return st;
    for (size_t r = 0; r < m->rows; r++) scale[r] = qlite_q8_wscale(&wq, r);
    for (size_t dir = 0; dir < D; dir++) /* row sums from the packed form; |sum| <= 127 K */
        for (size_t r = 0; r < m->rows; r++) {
            int32_t acc = 0;
            for (size_t k = 0; k < m->cols; k++)
                acc += qlite_o16i4_at(wp.data + dir * wp.mat_bytes, m->cols, r, k);
            sum[dir * m->rows + r] = acc;
        }
    m->packed = wp.data;
    m->mat_bytes = wp.mat_bytes;
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
    if ((st = rnn_prepare_common(node, gates, d))) return st;
    s->lbr = gates == 3 && node->opts->u.rnn.linear_before_reset;
    if ((st = mat_init(node, node->inputs[1], "W", (size_t)d->D, &s->w)) ||
        (st = mat_init(node, node->inputs[2], "R", (size_t)d->D, &s->r)))
        return st;
    const size_t H = (size_t)d->H, GH = (size_t)gates * H, B = (size_t)d->B;
    const size_t TB = (size_t)(d->T * d->B), I = (size_t)d->I;
    const size_t n1 = gates == 3 && !s->lbr ? 2 * H : GH, h0 = rnn_o16_from(2 * H);
    s->uk = qlite_gemm_f32_select_o16();
    /* tiles that read only the blocks a product covers (exact_blocks) */
    s->uk8w = qlite_gemm_q8_select_packed(GH, true);
    s->uk8r1 = qlite_gemm_q8_select_packed(n1, true);
    s->uk8r2 = qlite_gemm_q8_select_packed(GH - h0, true);
    const bool w8 = s->w.dtype == QLITE_DTYPE_INT8;
    /* quantized rows: all T*B inputs (projection) or the B states */
    s->lda = qlite_gemm_q8_dot_lda((I > H ? I : H));
    s->urows = (w8 ? TB : 0) > B ? TB : B;
    if (s->urows < 1) s->urows = 1;
    s->gx_b = align64(TB * GH * sizeof(float));
    s->gemm_b = s->w.packed ? 0 : align64(s->w.mat_bytes); /* W given at eval, per direction */
    s->pack_b = s->r.packed ? 0 : align64(s->r.mat_bytes); /* R likewise */
    s->u_b = align64(s->urows * s->lda);
    /* pre [B, GH], h, c, rh [B, H], nh [B, H + 15], bias [GH], tmp [H] */
    s->work_b = align64((B * GH + 3 * B * H + B * (H + 15) + GH + H) * sizeof(float));
    /* float16 W: the input projection's widening buffers (one per thread) */
    s->wbuf_b = s->w.dtype == QLITE_DTYPE_FLOAT16
                    ? qlite_gemm_f16_wbuf_bytes(TB, (size_t)qlite_node_threads(node))
                    : 0;
    node->scratch_bytes = s->gx_b + s->gemm_b + s->pack_b + s->u_b +
                          align64(2 * s->urows * sizeof(int32_t)) + s->work_b + s->wbuf_b;
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
