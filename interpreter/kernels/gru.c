/*
 * gru.c — GRU with ONNX semantics (shapes and layouts: rnn_common.h).
 *
 * Per direction and step (gates z, r, h; Wb/Rb the halves of B; clip applied
 * to every pre-activation when set):
 *   z = sigmoid(x W_z^T + h R_z^T + Wb_z + Rb_z)
 *   r = sigmoid(x W_r^T + h R_r^T + Wb_r + Rb_r)
 *   linear_before_reset = 0:  n = tanh(x W_h^T + (r * h) R_h^T + Rb_h + Wb_h)
 *   linear_before_reset = 1:  n = tanh(x W_h^T + r * (h R_h^T + Rb_h) + Wb_h)
 *   h = (1 - z) * n + z * h
 * Sequence lengths as in lstm.c.
 *
 * Optimized float32 path (gates with the vectorizable exp of rnn_common.h;
 * the reference uses libm): x W^T + Wb for every step in one GEMM; per step
 * h R^T over the batch (all three gates with linear_before_reset, else z and
 * r first, then (r * h) R_h^T).
 *
 * W and R are read in the O16 layout (packed_weights.h), per direction: the
 * model's bytes when the converter stored them so, else packed once at
 * prepare (constants) or per invoke into scratch (weights given at eval).
 * R_h (rows [2H, 3H)) is read from R's O16 form starting at the panel that
 * holds row 2H: the product covers rows [16 floor(2H/16), 3H) and the
 * first 2H mod 16 of them are skipped (rnn_o16_tail).
 */
#include "gemm_f32.h"
#include "kernels.h"
#include "nn_variants.h"
#include "packed_weights.h"
#include "rnn_common.h"

typedef struct gru_state {
    qlite_status (*eval)(qlite_node *node);
    rnn_dims d;
    bool lbr;
    const qlite_gemm_f32_ukernel *uk; /* 16-column panels: O16 */
    size_t gx_floats, gemm_floats;
    qlite_o16_weights wo, ro;         /* constant W [D][3H][I], R [D][3H][H] in O16, or data NULL */
} gru_state;

typedef struct gru_io {
    const float *x, *w, *r, *b, *h0;
    size_t w_mat, r_mat;              /* O16 elements per direction when w / r are O16, else 0 */
    const qlite_tensor *lens;
    float *y, *yh;
} gru_io;

static gru_io gru_get_io(qlite_node *node) {
    gru_io io;
    const qlite_tensor *t;
    io.x = node->inputs[0]->data;
    io.w = node->inputs[1]->data;
    io.w_mat = io.r_mat = 0; /* row-major unless the constant's O16 form is used */
    io.r = node->inputs[2]->data;
    io.b = (t = qlite_node_input(node, 3)) ? t->data : NULL;
    io.lens = qlite_node_input(node, 4);
    io.h0 = (t = qlite_node_input(node, 5)) ? t->data : NULL;
    io.y = node->num_outputs > 0 && node->outputs[0] ? node->outputs[0]->data : NULL;
    io.yh = node->num_outputs > 1 && node->outputs[1] ? node->outputs[1]->data : NULL;
    return io;
}

static void gru_finish(const rnn_dims *d, const gru_io *io, int64_t dir, int64_t b, int64_t len,
                       const float *h) {
    const size_t H = (size_t)d->H;
    if (io->yh) memcpy(io->yh + rnn_soff(d, dir, b), h, H * sizeof(float));
    if (io->y)
        for (int64_t t = len; t < d->T; t++) memset(io->y + rnn_yoff(d, t, dir, b), 0, H * sizeof(float));
}

/* Reference: one batch entry, one step at a time, plain dot products. */
static void gru_f32_ref(const rnn_dims *d, bool lbr, const gru_io *io, float *scratch) {
    const int64_t H = d->H, G3 = 3 * H;
    float *xp = scratch, *hp = xp + G3, *h = hp + G3, *rh = h + H;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const bool rev = d->reverse_only || dir == 1;
        const size_t I = (size_t)d->I, Hs = (size_t)H, G = (size_t)G3;
        const float *Wb = io->b ? io->b + dir * 2 * G3 : NULL;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io->lens, b);
            for (int64_t j = 0; j < H; j++) h[j] = io->h0 ? io->h0[rnn_soff(d, dir, b) + (size_t)j] : 0.0f;
            for (int64_t s = 0; s < len; s++) {
                const int64_t t = rev ? len - 1 - s : s;
                const float *x = io->x + rnn_xrow(d, t, b) * (size_t)d->I;
                for (int64_t g = 0; g < G3; g++) { /* x W^T + Wb, h R^T + Rb */
                    float a = Wb ? Wb[g] : 0.0f, c = Wb ? Wb[G3 + g] : 0.0f;
                    for (int64_t k = 0; k < d->I; k++)
                        a += x[k] * rnn_wat(io->w, io->w_mat, G, I, dir, g, k);
                    for (int64_t k = 0; k < H; k++)
                        c += h[k] * rnn_wat(io->r, io->r_mat, G, Hs, dir, g, k);
                    xp[g] = a;
                    hp[g] = c;
                }
                for (int64_t j = 0; j < H; j++) {
                    const float r = rnn_sigmoid(rnn_clip(d, xp[H + j] + hp[H + j]));
                    rh[j] = r * h[j];
                    hp[H + j] = r; /* keep r */
                }
                for (int64_t j = 0; j < H; j++) {
                    const float z = rnn_sigmoid(rnn_clip(d, xp[j] + hp[j]));
                    float nh;
                    if (lbr) {
                        nh = hp[H + j] * hp[2 * H + j];
                    } else {
                        nh = Wb ? Wb[G3 + 2 * H + j] : 0.0f;
                        for (int64_t k = 0; k < H; k++)
                            nh += rh[k] * rnn_wat(io->r, io->r_mat, G, Hs, dir, 2 * H + j, k);
                    }
                    const float n = tanhf(rnn_clip(d, xp[2 * H + j] + nh));
                    xp[j] = (1.0f - z) * n + z * h[j]; /* new h, stored aside */
                }
                for (int64_t j = 0; j < H; j++) h[j] = xp[j];
                if (io->y) memcpy(io->y + rnn_yoff(d, t, dir, b), h, (size_t)H * sizeof(float));
            }
            gru_finish(d, io, dir, b, len, h);
        }
    }
}

static qlite_status gru_eval_f32(qlite_node *node) {
    const gru_state *st = node->state;
    const rnn_dims *d = &st->d;
    gru_io io = gru_get_io(node);
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
        gru_f32_ref(d, st->lbr, &io, scratch);
        return QLITE_OK;
    }
    const size_t H = (size_t)d->H, G3 = 3 * H, B = (size_t)d->B, TB = (size_t)(d->T * d->B);
    const size_t I = (size_t)d->I;
    /* R_h's product starts at the O16 panel holding row 2H (rnn_o16_from) */
    const size_t h0 = rnn_o16_from(2 * H), skip = 2 * H - h0, ldn = G3 - h0;
    float *gx = scratch, *gemm = gx + st->gx_floats, *hp = gemm + st->gemm_floats;
    float *hs = hp + B * G3, *rh = hs + B * H, *nh = rh + B * H;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const bool rev = d->reverse_only || dir == 1;
        const float *Wb = io.b ? io.b + (size_t)dir * 2 * G3 : NULL;
        const float *Rb = Wb ? Wb + G3 : NULL;
        /* 1. x W^T + Wb for every (t, b); W given at eval: the same O16 panels made here */
        const float *wp = io.w_mat ? io.w + (size_t)dir * io.w_mat : NULL;
        if (!wp) {
            qlite_gemm_o16_pack_f32(I, G3, io.w + (size_t)dir * G3 * I, I, true, gemm);
            wp = gemm;
        }
        const qlite_gemm_f32_args gp = {.M = TB, .N = G3, .K = I, .a = io.x, .rsa = I, .csa = 1,
                                        .bias = Wb, .c = gx, .ldc = G3, .lo = -INFINITY,
                                        .hi = INFINITY};
        qlite_gemm_f32_run_o16(node, st->uk, &gp, wp, false);
        int64_t maxlen = 0;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io.lens, b);
            maxlen = len > maxlen ? len : maxlen;
            for (size_t j = 0; j < H; j++)
                hs[(size_t)b * H + j] = io.h0 ? io.h0[rnn_soff(d, dir, b) + j] : 0.0f;
        }
        /* 2. gates z, r (and h with linear_before_reset) from h R^T + Rb: rows [0, n1) of
         * R's O16 form; R given at eval: packed here once per direction */
        const size_t n1 = st->lbr ? G3 : 2 * H;
        const float *rp = io.r_mat ? io.r + (size_t)dir * io.r_mat : NULL;
        if (!rp) {
            qlite_gemm_o16_pack_f32(H, G3, io.r + (size_t)dir * G3 * H, H, true, gemm);
            rp = gemm;
        }
        for (int64_t s = 0; s < maxlen; s++) {
            qlite_gemm_f32_packed(st->uk, B, n1, H, hs, H, 1, rp, Rb, hp, G3, -INFINITY, INFINITY);
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                const int64_t t = rev ? len - 1 - s : s;
                float *hb = hs + (size_t)b * H, *pb = hp + (size_t)b * G3;
                if (s >= len) {
                    memcpy(rh + (size_t)b * H, hb, H * sizeof(float)); /* unused */
                    continue;
                }
                rnn_gru_r_fast(d, pb, gx + rnn_xrow(d, t, b) * G3, hb, rh + (size_t)b * H);
            }
            if (!st->lbr) /* (r * h) R_h^T + Rb_h: rows [h0, 3H) into nh [B, ldn] */
                qlite_gemm_f32_packed(st->uk, B, ldn, H, rh, H, 1, rp + h0 * H,
                                      Rb ? Rb + h0 : NULL, nh, ldn, -INFINITY, INFINITY);
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                if (s >= len) continue;
                const int64_t t = rev ? len - 1 - s : s;
                float *hb = hs + (size_t)b * H;
                rnn_gru_h_fast(d, st->lbr, hp + (size_t)b * G3, gx + rnn_xrow(d, t, b) * G3,
                               nh + (size_t)b * ldn + skip, hb);
                if (io.y) memcpy(io.y + rnn_yoff(d, t, dir, b), hb, H * sizeof(float));
            }
        }
        for (int64_t b = 0; b < d->B; b++)
            gru_finish(d, &io, dir, b, rnn_seq_len(d, io.lens, b), hs + (size_t)b * H);
    }
    return QLITE_OK;
}

static qlite_status gru_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 3, 6, 1, 2);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    qlite_status (*eval)(qlite_node *) = NULL;
    /* float16 / int8 W or R (any mix): rnn_variants.c */
    if (w->dtype != QLITE_DTYPE_FLOAT32 || node->inputs[2]->dtype != QLITE_DTYPE_FLOAT32)
        return qlite_gru_variants_prepare(node);
    switch (QLITE_NN_PAIR(x->dtype, w->dtype)) {
    case QLITE_NN_F32_F32: eval = gru_eval_f32; break;
    default: return qlite_nn_unsupported_pair(node, x, w);
    }
    gru_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if ((st = rnn_prepare_common(node, 3, &s->d))) return st;
    s->eval = eval;
    s->lbr = node->opts->u.rnn.linear_before_reset;
    s->uk = qlite_gemm_f32_select_o16(); /* 16-column panels: O16 */
    const rnn_dims *d = &s->d;
    const size_t H = (size_t)d->H, G3 = 3 * H, B = (size_t)d->B, TB = (size_t)(d->T * d->B);
    const qlite_tensor *r = node->inputs[2];
    s->gx_floats = (TB * G3 + 15) / 16 * 16;
    /* O16 panels of a W or R given at eval */
    const bool wc = w->is_const && w->data, rc = r->is_const && r->data;
    const size_t g1 = wc ? 0 : qlite_gemm_o16_elems((size_t)d->I, G3);
    const size_t g2 = rc ? 0 : qlite_gemm_o16_elems(H, G3);
    s->gemm_floats = ((g1 > g2 ? g1 : g2) + 15) / 16 * 16;
    /* gx, gemm, hp [B, 3H], h, r*h [B, H] each, nh [B, H + 15]; the reference uses 8H */
    node->scratch_bytes =
        (s->gx_floats + s->gemm_floats + B * G3 + 2 * B * H + B * (H + 15) + 8 * H) *
        sizeof(float);
    const size_t D = (size_t)d->D;
    if (wc && (st = qlite_o16_weights_get(node, w, "W", D, G3, (size_t)d->I, &s->wo)))
        return st;
    if (rc && (st = qlite_o16_weights_get(node, r, "R", D, G3, H, &s->ro)))
        return st;
    node->state = s;
    return QLITE_OK;
}

static qlite_status gru_eval(qlite_node *node) {
    return ((const gru_state *)node->state)->eval(node);
}

const qlite_kernel qlite_kernel_gru = {
    .prepare = gru_prepare,
    .eval = gru_eval,
    .raw_dense_inputs = 1u << 1 | 1u << 2,  /* float16 W, R read in place */
    .raw_packed_inputs = 1u << 1 | 1u << 2, /* W, R in O16 (float) / O16I4 (int8) read in place */
};
