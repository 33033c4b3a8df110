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
 */
#include "gemm_f32.h"
#include "kernels.h"
#include "nn_variants.h"
#include "rnn_common.h"

typedef struct gru_state {
    qlite_status (*eval)(qlite_node *node);
    rnn_dims d;
    bool lbr;
    const qlite_gemm_f32_ukernel *uk;
    size_t gx_floats, gemm_floats, packed1_floats;
    const float *pw[2], *pr1[2], *pr2[2]; /* packed at prepare (constants), or NULL */
} gru_state;

typedef struct gru_io {
    const float *x, *w, *r, *b, *h0;
    const qlite_tensor *lens;
    float *y, *yh;
} gru_io;

static gru_io gru_get_io(qlite_node *node) {
    gru_io io;
    const qlite_tensor *t;
    io.x = node->inputs[0]->data;
    io.w = node->inputs[1]->data;
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
        const float *W = io->w + dir * G3 * d->I, *R = io->r + dir * G3 * H;
        const float *Wb = io->b ? io->b + dir * 2 * G3 : NULL;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io->lens, b);
            for (int64_t j = 0; j < H; j++) h[j] = io->h0 ? io->h0[rnn_soff(d, dir, b) + (size_t)j] : 0.0f;
            for (int64_t s = 0; s < len; s++) {
                const int64_t t = rev ? len - 1 - s : s;
                const float *x = io->x + rnn_xrow(d, t, b) * (size_t)d->I;
                for (int64_t g = 0; g < G3; g++) { /* x W^T + Wb, h R^T + Rb */
                    float a = Wb ? Wb[g] : 0.0f, c = Wb ? Wb[G3 + g] : 0.0f;
                    for (int64_t k = 0; k < d->I; k++) a += x[k] * W[g * d->I + k];
                    for (int64_t k = 0; k < H; k++) c += h[k] * R[g * H + k];
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
                        for (int64_t k = 0; k < H; k++) nh += rh[k] * R[(2 * H + j) * H + k];
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
    const gru_io io = gru_get_io(node);
    float *scratch = node->scratch;
    if (qlite_node_reference_only(node)) {
        gru_f32_ref(d, st->lbr, &io, scratch);
        return QLITE_OK;
    }
    const size_t H = (size_t)d->H, G3 = 3 * H, B = (size_t)d->B, TB = (size_t)(d->T * d->B);
    float *gx = scratch, *gemm = gx + st->gx_floats, *hp = gemm + st->gemm_floats;
    float *hs = hp + B * G3, *rh = hs + B * H, *nh = rh + B * H;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const bool rev = d->reverse_only || dir == 1;
        const float *W = io.w + (size_t)dir * G3 * (size_t)d->I, *R = io.r + (size_t)dir * G3 * H;
        const float *Wb = io.b ? io.b + (size_t)dir * 2 * G3 : NULL;
        const float *Rb = Wb ? Wb + G3 : NULL;
        qlite_gemm_f32_args gp = {.M = TB, .N = G3, .K = (size_t)d->I, .a = io.x,
                                  .rsa = (size_t)d->I, .csa = 1, .b = W, .ldb = (size_t)d->I,
                                  .b_trans = true, .bias = Wb, .c = gx, .ldc = G3,
                                  .lo = -INFINITY, .hi = INFINITY};
        if (st->pw[dir])
            qlite_gemm_f32_packed(st->uk, TB, G3, (size_t)d->I, io.x, (size_t)d->I, 1, st->pw[dir],
                                  Wb, gx, G3, -INFINITY, INFINITY);
        else
            qlite_gemm_f32_run(node, st->uk, &gp, gemm);
        int64_t maxlen = 0;
        for (int64_t b = 0; b < d->B; b++) {
            const int64_t len = rnn_seq_len(d, io.lens, b);
            maxlen = len > maxlen ? len : maxlen;
            for (size_t j = 0; j < H; j++)
                hs[(size_t)b * H + j] = io.h0 ? io.h0[rnn_soff(d, dir, b) + j] : 0.0f;
        }
        /* gates z, r (and h with linear_before_reset) from h R^T + Rb; R packed
         * once per direction: rows [0, n1) for those, R_h apart otherwise */
        const size_t n1 = st->lbr ? G3 : 2 * H, nr = st->uk->nr;
        const float *pr1 = st->pr1[dir], *pr2 = st->pr2[dir];
        if (!pr1) {
            float *p1 = gemm, *p2 = gemm + st->packed1_floats;
            qlite_gemm_f32_pack_b(st->uk, H, n1, R, H, true, 0, (n1 + nr - 1) / nr, p1);
            if (!st->lbr)
                qlite_gemm_f32_pack_b(st->uk, H, H, R + 2 * H * H, H, true, 0, (H + nr - 1) / nr, p2);
            pr1 = p1;
            pr2 = p2;
        }
        for (int64_t s = 0; s < maxlen; s++) {
            qlite_gemm_f32_packed(st->uk, B, n1, H, hs, H, 1, pr1, Rb, hp, G3, -INFINITY, INFINITY);
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                const int64_t t = rev ? len - 1 - s : s;
                float *hb = hs + (size_t)b * H, *pb = hp + (size_t)b * G3;
                if (s >= len) {
                    memcpy(rh + (size_t)b * H, hb, H * sizeof(float)); /* unused */
                    continue;
                }
                const float *xb = gx + rnn_xrow(d, t, b) * G3;
                float *r = pb + H;
                for (size_t j = 0; j < H; j++) r[j] += xb[H + j];
                rnn_clip_vec(d, r, H);
                rnn_sigmoid_vec(r, H);
                for (size_t j = 0; j < H; j++) rh[(size_t)b * H + j] = r[j] * hb[j];
            }
            if (!st->lbr) /* (r * h) R_h^T + Rb_h */
                qlite_gemm_f32_packed(st->uk, B, H, H, rh, H, 1, pr2, Rb ? Rb + 2 * H : NULL, nh,
                                      H, -INFINITY, INFINITY);
            for (int64_t b = 0; b < d->B; b++) {
                const int64_t len = rnn_seq_len(d, io.lens, b);
                if (s >= len) continue;
                const int64_t t = rev ? len - 1 - s : s;
                float *hb = hs + (size_t)b * H;
                float *pb = hp + (size_t)b * G3;
                const float *xb = gx + rnn_xrow(d, t, b) * G3;
                float *z = pb, *n = pb + 2 * H;
                const float *r = pb + H, *nhb = nh + (size_t)b * H;
                for (size_t j = 0; j < H; j++) z[j] += xb[j];
                rnn_clip_vec(d, z, H);
                rnn_sigmoid_vec(z, H);
                for (size_t j = 0; j < H; j++)
                    n[j] = xb[2 * H + j] + (st->lbr ? r[j] * n[j] : nhb[j]);
                rnn_clip_vec(d, n, H);
                rnn_tanh_vec(n, n, H);
                for (size_t j = 0; j < H; j++) hb[j] = (1.0f - z[j]) * n[j] + z[j] * hb[j];
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
    s->uk = qlite_gemm_f32_select_for((size_t)(3 * s->d.H));
    const rnn_dims *d = &s->d;
    const size_t H = (size_t)d->H, G3 = 3 * H, B = (size_t)d->B, TB = (size_t)(d->T * d->B);
    s->gx_floats = (TB * G3 + 15) / 16 * 16;
    size_t g1 = qlite_gemm_f32_scratch_bytes(s->uk, TB, G3, (size_t)d->I);
    s->packed1_floats = (qlite_gemm_f32_packed_size(s->uk, H, G3) + 15) / 16 * 16;
    size_t g2 = (s->packed1_floats + qlite_gemm_f32_packed_size(s->uk, H, H)) * sizeof(float);
    s->gemm_floats = ((g1 > g2 ? g1 : g2) / sizeof(float) + 15) / 16 * 16;
    /* gx, gemm, hp [B, 3H], h, r*h, n [B, H] each; the reference uses 8H */
    node->scratch_bytes =
        (s->gx_floats + s->gemm_floats + B * G3 + 3 * B * H + 8 * H) * sizeof(float);
    const qlite_tensor *r = node->inputs[2];
    const size_t n1 = s->lbr ? G3 : 2 * H;
    for (int64_t dir = 0; dir < d->D; dir++) {
        const float *R = r->data ? (const float *)r->data + (size_t)dir * G3 * H : NULL;
        if (w->is_const && w->data && TB >= QLITE_GEMM_F32_SMALL_M) /* else the no-copy path */
            s->pw[dir] = qlite_gemm_f32_prepack(node, s->uk, (size_t)d->I, G3,
                                                (const float *)w->data + (size_t)dir * G3 * (size_t)d->I,
                                                (size_t)d->I, true);
        if (r->is_const && R) {
            s->pr1[dir] = qlite_gemm_f32_prepack(node, s->uk, H, n1, R, H, true);
            s->pr2[dir] = s->lbr ? s->pr1[dir]
                                 : qlite_gemm_f32_prepack(node, s->uk, H, H, R + 2 * H * H, H, true);
            if (!s->pr1[dir] || !s->pr2[dir]) s->pr1[dir] = s->pr2[dir] = NULL; /* both or none */
        }
    }
    node->state = s;
    return QLITE_OK;
}

static qlite_status gru_eval(qlite_node *node) {
    return ((const gru_state *)node->state)->eval(node);
}

const qlite_kernel qlite_kernel_gru = {
    .prepare = gru_prepare,
    .eval = gru_eval,
    .raw_dense_inputs = 1u << 1 | 1u << 2, /* float16 W, R read in place */
};
