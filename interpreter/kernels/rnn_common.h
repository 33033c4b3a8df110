/*
 * rnn_common.h — shapes and layouts shared by LSTM (lstm.c) and GRU (gru.c),
 * ONNX semantics and input order:
 *
 *   X              [T, B, I]  ([B, T, I] with batch_first = ONNX layout 1)
 *   W              [D, G*H, I]      G = 4 (LSTM, gates i,o,f,c) or 3 (GRU, z,r,h)
 *   R              [D, G*H, H]
 *   B              [D, 2*G*H]       optional: input biases then recurrence biases
 *   sequence_lens  [B] int32/int64  optional
 *   initial_h      [D, B, H]  ([B, D, H] with batch_first)   optional
 *   (LSTM) initial_c like initial_h, P [D, 3H] peepholes i,o,f   optional
 * Outputs (each may be absent):
 *   Y    [T, D, B, H]  ([B, T, D, H] with batch_first); zero past a sequence's length
 *   Y_h  [D, B, H]     ([B, D, H]);  (LSTM) Y_c like Y_h
 * D = 2 for bidirectional (direction 0 forward, 1 reverse), else 1.
 */
#ifndef QLITE_RNN_COMMON_H
#define QLITE_RNN_COMMON_H

#include <math.h>
#include <stdio.h>

#include "nn_common.h"
#include "packed_weights.h"

/* The gate loops below must vectorize (nn_common.h); this applies to the
 * including file too (lstm.c, gru.c). */
QLITE_NN_OPTIMIZE_LOOPS

typedef struct rnn_dims {
    int64_t T, B, I, H, D, G;
    bool batch_first, reverse_only;
    float clip;          /* 0 = none */
} rnn_dims;

/* Row of X / of the input projection for (t, b). */
static inline size_t rnn_xrow(const rnn_dims *d, int64_t t, int64_t b) {
    return (size_t)(d->batch_first ? b * d->T + t : t * d->B + b);
}
/* Offset of Y's H-vector for (t, dir, b). */
static inline size_t rnn_yoff(const rnn_dims *d, int64_t t, int64_t dir, int64_t b) {
    return (size_t)((d->batch_first ? (b * d->T + t) * d->D + dir : (t * d->D + dir) * d->B + b) *
                    d->H);
}
/* Offset of a state's (Y_h, Y_c, initial_h, initial_c) H-vector for (dir, b). */
static inline size_t rnn_soff(const rnn_dims *d, int64_t dir, int64_t b) {
    return (size_t)((d->batch_first ? b * d->D + dir : dir * d->B + b) * d->H);
}

/* Length of sequence b (T when sequence_lens is absent). */
static inline int64_t rnn_seq_len(const rnn_dims *d, const qlite_tensor *lens, int64_t b) {
    if (!lens) return d->T;
    int64_t v = lens->dtype == QLITE_DTYPE_INT64 ? ((const int64_t *)lens->data)[b]
                                                 : ((const int32_t *)lens->data)[b];
    return v < 0 ? 0 : (v > d->T ? d->T : v);
}

/*
 * Element [dir][g][k] of a float32 W or R with K columns and `rows` rows per
 * direction: row-major (mat == 0), or O16 matrices of mat elements each
 * (packed_weights.h).
 */
static inline float rnn_wat(const float *w, size_t mat, size_t rows, size_t K, int64_t dir,
                            int64_t g, int64_t k) {
    if (mat) return qlite_o16_at(w + (size_t)dir * mat, false, K, (size_t)g, (size_t)k);
    return w[((size_t)dir * rows + (size_t)g) * K + (size_t)k];
}

/*
 * First row of the O16 / O16I4 panel that holds row r0: a product over rows
 * [r0, r0 + n) of a packed matrix starts there (the panel's address is
 * rnn_o16_from(r0) * K elements, or bytes * round_up(K, 4) for O16I4, from
 * the matrix) and skips its first r0 - rnn_o16_from(r0) outputs.
 */
static inline size_t rnn_o16_from(size_t r0) { return r0 / 16 * 16; }

static inline float rnn_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
static inline float rnn_clip(const rnn_dims *d, float x) {
    return d->clip > 0.0f ? qlite_clampf(x, -d->clip, d->clip) : x;
}

/*
 * Fast, branch-free exp for the optimized gate loops (the compiler
 * vectorizes loops over it; libm's expf is a call per element):
 * x = n ln2 + r with |r| <= ln2/2 (n rounded with the 1.5 * 2^23 trick),
 * e^r by its degree-6 Taylor polynomial (relative error < 3e-7 on that
 * range), 2^n assembled in the exponent bits. Inputs are clamped to
 * [-87, 88] so 2^n stays a normal float; sigmoid and tanh saturate there.
 */
static inline float rnn_fast_exp(float x) {
    x = x > -87.0f ? x : -87.0f; /* two plain selects: both vectorize */
    x = x < 88.0f ? x : 88.0f;
    const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    const float r = (x - n * 0.693145752f) - n * 1.42860677e-06f; /* ln2 in two parts */
    const float p =
        1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f +
                                                          r * (8.3333338e-3f + r * 1.3888889e-3f)))));
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* v[i] = sigmoid(v[i]) = 1 / (1 + e^-v). */
static inline void rnn_sigmoid_vec(float *restrict v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = 1.0f / (1.0f + rnn_fast_exp(-v[i]));
}

/* dst[i] = tanh(src[i]) = sign(x) (1 - e) / (1 + e), e = e^-2|x|. */
static inline void rnn_tanh_vec(float *dst, const float *src, size_t n) { /* dst may be src */
    for (size_t i = 0; i < n; i++) {
        const float e = rnn_fast_exp(-2.0f * fabsf(src[i]));
        dst[i] = copysignf((1.0f - e) / (1.0f + e), src[i]);
    }
}

/* Clip every value to [-clip, clip] when clip > 0. */
static inline void rnn_clip_vec(const rnn_dims *d, float *v, size_t n) {
    if (d->clip > 0.0f)
        for (size_t i = 0; i < n; i++) {
            const float x = v[i] > -d->clip ? v[i] : -d->clip;
            v[i] = x < d->clip ? x : d->clip;
        }
}

/*
 * LSTM gate math for one batch entry (the reference): pre[4H] holds the summed pre-activations
 * (order i, o, f, c); updates h[H] and c[H] in place.
 */
static inline void rnn_lstm_cell(const rnn_dims *d, const float *pre, const float *p, float *h, float *c) {
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

/*
 * The same gate math over whole vectors with the fast exp (optimized paths):
 * pre[4H] is overwritten; tmp holds H floats.
 */
static inline void rnn_lstm_cell_fast(const rnn_dims *d, float *restrict pre, const float *restrict p,
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

/*
 * GRU's r gate over one batch entry's vectors (optimized paths): pb [3H]
 * holds h R^T + Rb (z, r, h parts), xb [3H] x W^T + Wb; r = sigmoid(clip(
 * pb_r + xb_r)) is left in pb's r part and rh[H] = r * h.
 */
static inline void rnn_gru_r_fast(const rnn_dims *d, float *restrict pb,
                                  const float *restrict xb, const float *restrict h,
                                  float *restrict rh) {
    const size_t H = (size_t)d->H;
    float *r = pb + H;
    for (size_t j = 0; j < H; j++) r[j] += xb[H + j];
    rnn_clip_vec(d, r, H);
    rnn_sigmoid_vec(r, H);
    for (size_t j = 0; j < H; j++) rh[j] = r[j] * h[j];
}

/*
 * Then z, the candidate n and the new h[H] (pb's z and h parts reused):
 * n = tanh(clip(xb_h + (lbr ? r * pb_h : nh))), nh [H] = (r * h) R_h^T + Rb_h
 * (unused with linear_before_reset), h = (1 - z) n + z h.
 */
static inline void rnn_gru_h_fast(const rnn_dims *d, bool lbr, float *restrict pb,
                                  const float *restrict xb, const float *restrict nh,
                                  float *restrict h) {
    const size_t H = (size_t)d->H;
    float *z = pb, *n = pb + 2 * H;
    const float *r = pb + H;
    for (size_t j = 0; j < H; j++) z[j] += xb[j];
    rnn_clip_vec(d, z, H);
    rnn_sigmoid_vec(z, H);
    for (size_t j = 0; j < H; j++) n[j] = xb[2 * H + j] + (lbr ? r[j] * n[j] : nh[j]);
    rnn_clip_vec(d, n, H);
    rnn_tanh_vec(n, n, H);
    for (size_t j = 0; j < H; j++) h[j] = (1.0f - z[j]) * n[j] + z[j] * h[j];
}

/* Checks an optional float input's shape. */
static inline qlite_status rnn_check_opt(qlite_node *node, uint32_t index, const char *what,
                                         uint32_t rank, const int64_t *dims) {
    const qlite_tensor *t = qlite_node_input(node, index);
    if (!t) return QLITE_OK;
    if (t->dtype != QLITE_DTYPE_FLOAT32)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "%s '%s' is %s, expected float32", what,
                                t->info->name, qlite_dtype_name(t->dtype));
    bool ok = t->rank == rank;
    for (uint32_t i = 0; ok && i < rank; i++) ok = t->dims[i] == dims[i];
    if (!ok) {
        char buf[96];
        int n = 0;
        for (uint32_t i = 0; i < rank && n < (int)sizeof buf - 24; i++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%lld", i ? ", " : "",
                          (long long)dims[i]);
        return qlite_node_error(node, QLITE_ERR_SHAPE, "%s '%s' must be [%s]", what,
                                t->info->name, buf);
    }
    return QLITE_OK;
}

/*
 * Validates X (float32), W, R (ranks and shapes; their dtypes are the
 * kernel's to check), B, sequence_lens, initial_h (inputs 0..5) and the
 * options, fills d, and sets the shapes of outputs Y (0) and Y_h (1) and, for
 * LSTM, Y_c (2); absent outputs are skipped.
 */
static inline qlite_status rnn_prepare_common(qlite_node *node, int64_t G, rnn_dims *d) {
    qlite_status st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1], *r = node->inputs[2];
    if (node->opts->type != QLITE_OPTIONS_RNN)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Rnn");
    const qlite_rnn_options *o = &node->opts->u.rnn;
    if ((st = qlite_nn_check_rank(node, x, "X", 3)) || (st = qlite_nn_check_rank(node, w, "W", 3)) ||
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

#endif /* QLITE_RNN_COMMON_H */
