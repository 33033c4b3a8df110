/*
 * lstm.c — LSTM with ONNX semantics (shapes and layouts: rnn_common.h).
 *
 * Per direction and step t (gates i, o, f, c; Wb/Rb the two halves of B;
 * P = peepholes i, o, f; clip applied to every pre-activation when set):
 *   i = sigmoid(x W_i^T + h R_i^T + P_i * c_prev + Wb_i + Rb_i)
 *   f = sigmoid(x W_f^T + h R_f^T + P_f * c_prev + Wb_f + Rb_f)
 *   g = tanh   (x W_c^T + h R_c^T + Wb_c + Rb_c)
 *   c = f * c_prev + i * g
 *   o = sigmoid(x W_o^T + h R_o^T + P_o * c + Wb_o + Rb_o)
 *   h = o * tanh(c)
 * A sequence shorter than T (sequence_lens) stops early: its Y rows past the
 * length are zero and Y_h/Y_c hold the last state it reached.
 *
 * Optimized float32 path (gates with a vectorizable exp, rnn_common.h; the
 * reference uses libm): the input projection of every step, x W^T + Wb +
 * Rb, is one GEMM over all T*B rows before the recurrence; each step then
 * adds h R^T (R packed once per direction; a small GEMM over the batch) and
 * applies the gates.
 */
#include "gemm_f32.h"
#include "kernels.h"
#include "nn_variants.h"
#include "packed_weights.h"
#include "rnn_common.h"

typedef struct lstm_state {
    qlite_status (*eval)(qlite_node *node);
    rnn_dims d;
    const qlite_gemm_f32_ukernel *uk;
    size_t gx_floats, gemm_floats; /* scratch parts */
    const float *pw[2], *pr[2];    /* constant W, R per direction in O16, or NULL */
    qlite_o16_weights wo, ro;      /* constant W [D][4H][I], R [D][4H][H] in O16: the model's
                                      bytes when stored so, else packed at prepare */
} lstm_state;

typedef struct lstm_io {
    const float *x, *w, *r, *b, *p, *h0, *c0;
    size_t w_mat, r_mat;           /* O16 elements per direction when w / r are O16, else 0 */
    const qlite_tensor *lens;
    float *y, *yh, *yc;
} lstm_io;

static lstm_io lstm_get_io(qlite_node *node) {
    lstm_io io;
    const qlite_tensor *t;
    io.x = node->inputs[0]->data;
    io.w = node->inputs[1]->data;
    io.w_mat = io.r_mat = 0; /* row-major unless the constant's O16 form is used */
    io.r = node->inputs[2]->data;
    io.b = (t = qlite_node_input(node, 3)) ? t->data : NULL;
    io.lens = qlite_node_input(node, 4);
    io.h0 = (t = qlite_node_input(node, 5)) ? t->data : NULL;
    io.c0 = (t = qlite_node_input(node, 6)) ? t->data : NULL;
    io.p = (t = qlite_node_input(node, 7)) ? t->data : NULL;
    io.y = node->num_outputs > 0 && node->outputs[0] ? node->outputs[0]->data : NULL;
    io.yh = node->num_outputs > 1 && node->outputs[1] ? node->outputs[1]->data : NULL;
    io.yc = node->num_outputs > 2 && node->outputs[2] ? node->outputs[2]->data : NULL;
    return io;
}

/* Writes the final states and zeroes Y past each sequence's length. */
static void lstm_finish(const rnn_dims *d, const lstm_io *io, int64_t dir, int64_t b,
                        int64_t len, const float *h, const float *c) {
    const size_t H = (size_t)d->H;
    if (io->yh) memcpy(io->yh + rnn_soff(d, dir, b), h, H * sizeof(float));
    if (io->yc) memcpy(io->yc + rnn_soff(d, dir, b), c, H * sizeof(float));
    if (io->y)
        for (int64_t t = len; t < d->T; t++) memset(io->y + rnn_yoff(d, t, dir, b), 0, H * sizeof(float));
}

/* Reference: each step of each batch entry with plain dot products. */
static void lstm_f32_ref(const rnn_dims *d, const lstm_io *io, float *scratch) {
    const int64_t H = d->H, G4 = 4 * H;
    float *pre = scratch, *h = pre + G4, *c = h + H;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const bool rev = d->reverse_only || dir == 1;
        const size_t I = (size_t)d->I, Hs = (size_t)H, G = (size_t)G4;
        const float *Wb = io->b ? io->b + dir * 2 * G4 : NULL, *P = io->p ? io->p + dir * 3 * H : NULL;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io->lens, b);
            for (int64_t j = 0; j < H; j++) {
                h[j] = io->h0 ? io->h0[rnn_soff(d, dir, b) + (size_t)j] : 0.0f;
                c[j] = io->c0 ? io->c0[rnn_soff(d, dir, b) + (size_t)j] : 0.0f;
            }
            for (int64_t s = 0; s < len; s++) {
                const int64_t t = rev ? len - 1 - s : s;
                const float *x = io->x + rnn_xrow(d, t, b) * (size_t)d->I;
                for (int64_t g = 0; g < G4; g++) {
                    float acc = Wb ? Wb[g] + Wb[G4 + g] : 0.0f;
                    for (int64_t k = 0; k < d->I; k++)
                        acc += x[k] * rnn_wat(io->w, io->w_mat, G, I, dir, g, k);
                    for (int64_t k = 0; k < H; k++)
                        acc += h[k] * rnn_wat(io->r, io->r_mat, G, Hs, dir, g, k);
                    pre[g] = acc;
                }
                rnn_lstm_cell(d, pre, P, h, c);
                if (io->y) memcpy(io->y + rnn_yoff(d, t, dir, b), h, (size_t)H * sizeof(float));
            }
            lstm_finish(d, io, dir, b, len, h, c);
        }
    }
}

static qlite_status lstm_eval_f32(qlite_node *node) {
    const lstm_state *st = node->state;
    const rnn_dims *d = &st->d;
    lstm_io io = lstm_get_io(node);
    if (st->wo.data) { /* constant: its O16 form (the input itself when stored so) */
        io.w = st->wo.data;
        io.w_mat = st->wo.mat_elems;
    }
    if (st->ro.data) {
        io.r = st->ro.data;
        io.r_mat = st->ro.mat_elems;
    }
    float *scratch = node->scratch;
    if (qlite_node_reference_only(node)) {
        lstm_f32_ref(d, &io, scratch);
        return QLITE_OK;
    }
    const size_t H = (size_t)d->H, G4 = 4 * H, B = (size_t)d->B, TB = (size_t)(d->T * d->B);
    float *gx = scratch, *gemm = gx + st->gx_floats, *pre = gemm + st->gemm_floats;
    float *hs = pre + B * G4, *cs = hs + B * H, *bias = cs + B * H;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const bool rev = d->reverse_only || dir == 1;
        const float *W = io.w + (size_t)dir * G4 * (size_t)d->I, *R = io.r + (size_t)dir * G4 * H;
        const float *P = io.p ? io.p + (size_t)dir * 3 * H : NULL;
        for (size_t g = 0; g < G4; g++)
            bias[g] = io.b ? io.b[(size_t)dir * 2 * G4 + g] + io.b[(size_t)dir * 2 * G4 + G4 + g]
                           : 0.0f;
        /* 1. input projection of every (t, b): gx = X W^T + Wb + Rb */
        /* W given at eval: the same O16 panels made here, so the same sums */
        const float *wp = st->pw[dir];
        if (!wp) {
            qlite_gemm_o16_pack_f32((size_t)d->I, G4, W, (size_t)d->I, true, gemm);
            wp = gemm;
        }
        const qlite_gemm_f32_args gp = {.M = TB, .N = G4, .K = (size_t)d->I, .a = io.x,
                                        .rsa = (size_t)d->I, .csa = 1, .bias = bias, .c = gx,
                                        .ldc = G4, .lo = -INFINITY, .hi = INFINITY};
        qlite_gemm_f32_run_o16(node, st->uk, &gp, wp, false);
        int64_t maxlen = 0;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io.lens, b);
            maxlen = len > maxlen ? len : maxlen;
            for (size_t j = 0; j < H; j++) {
                hs[(size_t)b * H + j] = io.h0 ? io.h0[rnn_soff(d, dir, b) + j] : 0.0f;
                cs[(size_t)b * H + j] = io.c0 ? io.c0[rnn_soff(d, dir, b) + j] : 0.0f;
            }
        }
        /* 2. the recurrence: pre = h R^T for the whole batch, then per entry */
        /* R packed once (at prepare, or here), then one small GEMM per step */
        const float *rp = st->pr[dir];
        if (!rp) {
            qlite_gemm_f32_pack_b(st->uk, H, G4, R, H, true, 0, (G4 + st->uk->nr - 1) / st->uk->nr,
                                  gemm);
            rp = gemm;
        }
        for (int64_t s = 0; s < maxlen; s++) {
            qlite_gemm_f32_packed(st->uk, B, G4, H, hs, H, 1, rp, NULL, pre, G4, -INFINITY,
                                  INFINITY);
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                if (s >= len) continue;
                const int64_t t = rev ? len - 1 - s : s;
                float *pb = pre + (size_t)b * G4;
                const float *xb = gx + rnn_xrow(d, t, b) * G4;
                for (size_t g = 0; g < G4; g++) pb[g] += xb[g];
                rnn_lstm_cell_fast(d, pb, P, hs + (size_t)b * H, cs + (size_t)b * H, bias + G4);
                if (io.y) memcpy(io.y + rnn_yoff(d, t, dir, b), hs + (size_t)b * H, H * sizeof(float));
            }
        }
        for (int64_t b = 0; b < d->B; b++)
            lstm_finish(d, &io, dir, b, rnn_seq_len(d, io.lens, b), hs + (size_t)b * H,
                        cs + (size_t)b * H);
    }
    return QLITE_OK;
}

static qlite_status lstm_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 3, 8, 1, 3);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    qlite_status (*eval)(qlite_node *) = NULL;
    /* float16 / int8 W or R (any mix): rnn_variants.c (O16 / O16I4 as for float32 here) */
    if (w->dtype != QLITE_DTYPE_FLOAT32 || node->inputs[2]->dtype != QLITE_DTYPE_FLOAT32)
        return qlite_lstm_variants_prepare(node);
    switch (QLITE_NN_PAIR(x->dtype, w->dtype)) {
    case QLITE_NN_F32_F32: eval = lstm_eval_f32; break;
    default: return qlite_nn_unsupported_pair(node, x, w);
    }
    lstm_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if ((st = rnn_prepare_common(node, 4, &s->d))) return st;
    s->eval = eval;
    s->uk = qlite_gemm_f32_select_o16(); /* 16-column panels: O16 */
    const rnn_dims *d = &s->d;
    const size_t H = (size_t)d->H, G4 = 4 * H, B = (size_t)d->B, TB = (size_t)(d->T * d->B);
    s->gx_floats = (TB * G4 + 15) / 16 * 16;
    /* panels of a W or R given at eval (constants are read in their O16 form) */
    const qlite_tensor *r = node->inputs[2];
    const bool wc = w->is_const && w->data, rc = r->is_const && r->data;
    size_t g1 = wc ? 0 : qlite_gemm_o16_elems((size_t)d->I, G4) * sizeof(float);
    size_t g2 = rc ? 0 : qlite_gemm_f32_packed_size(s->uk, H, G4) * sizeof(float);
    s->gemm_floats = ((g1 > g2 ? g1 : g2) / sizeof(float) + 15) / 16 * 16;
    /* gx, gemm, pre [B, 4H], h [B, H], c [B, H], bias [4H], tmp [H]; the
     * reference path uses the first 6H floats */
    node->scratch_bytes = (s->gx_floats + s->gemm_floats + B * G4 + 2 * B * H + G4 + 6 * H) *
                          sizeof(float);
    const size_t D = (size_t)d->D;
    if (wc && (st = qlite_o16_weights_get(node, w, "W", D, G4, (size_t)d->I, &s->wo)))
        return st;
    if (rc && (st = qlite_o16_weights_get(node, r, "R", D, G4, H, &s->ro)))
        return st;
    for (size_t dir = 0; dir < D; dir++) {
        if (s->wo.data) s->pw[dir] = (const float *)s->wo.data + dir * s->wo.mat_elems;
        if (s->ro.data) s->pr[dir] = (const float *)s->ro.data + dir * s->ro.mat_elems;
    }
    node->state = s;
    return QLITE_OK;
}

static qlite_status lstm_eval(qlite_node *node) {
    return ((const lstm_state *)node->state)->eval(node);
}

const qlite_kernel qlite_kernel_lstm = {
    .prepare = lstm_prepare,
    .eval = lstm_eval,
    .raw_dense_inputs = 1u << 1 | 1u << 2,  /* float16 W, R read in place */
    .raw_packed_inputs = 1u << 1 | 1u << 2, /* W, R in O16 (float) / O16I4 (int8) read in place */
};
