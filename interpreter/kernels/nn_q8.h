/*
 * nn_q8.h — what the int8 and hybrid (dynamic-range) forms of CONV_2D,
 * DEPTHWISE_CONV_2D, TRANSPOSE_CONV_2D, FULLY_CONNECTED, BATCH_MATMUL, LSTM
 * and GRU share (docs/quantization.md §4.1, §4.2, §5):
 *
 *   qlite_q8_weights    an int8 weight's scales and zero points (per tensor,
 *                       or per output channel along the axis the op expects);
 *   qlite_q8_cols_build the per-channel output stage of gemm_q8.h, computed
 *                       once at prepare: M[c] = sx sw[c] / sy as (M0, shift),
 *                       the folded bias and the clamp of the output;
 *   qlite_q8_check_acc  the int32 accumulator bound every kernel relies on;
 *   qlite_hybrid_*      run-time quantization of float rows to uint8 and the
 *                       float output stage of the hybrid kernels.
 *
 * Activations enter the integer GEMM unsigned (gemm_q8.h): u = x for uint8,
 * u = x ^ 0x80 = x + 128 for int8, with zero point zu = zx (+ 128); then
 *
 *   acc[c] = bias[c] + sum_k (u - zu) (w[c][k] - zw[c])
 *          = fbias[c] + sum_k u w[c][k] - zw[c] sum_k u
 *   fbias[c] = bias[c] - zu sum_k w[c][k] + K zu zw[c]
 *
 * which is docs §4.1's acc exactly (u - zu = x - zx).
 */
#ifndef QLITE_NN_Q8_H
#define QLITE_NN_Q8_H

#include "kernels/gemm_q8.h"
#include "kernels/nn_common.h"
#include "kernels/quant_params.h"

/* Parameters of an int8 weight tensor. */
typedef struct qlite_q8_weights {
    size_t channels;       /* output channels */
    const float *scale;    /* [channels] if per_channel, else [1] */
    const int32_t *zp;     /* likewise */
    bool per_channel;
    bool any_zp;           /* some zero point is not 0 */
} qlite_q8_weights;

static inline float qlite_q8_wscale(const qlite_q8_weights *w, size_t c) {
    return w->scale[w->per_channel ? c : 0];
}
static inline int32_t qlite_q8_wzp(const qlite_q8_weights *w, size_t c) {
    return w->zp[w->per_channel ? c : 0];
}

/*
 * Checks that w is INT8 (QLITE_ERR_DTYPE otherwise) quantized per tensor or
 * per channel along `axis` with `channels` entries (QLITE_ERR_SHAPE /
 * QLITE_ERR_INVALID_ARGUMENT with the tensor's name otherwise).
 */
qlite_status qlite_q8_weights_init(qlite_node *node, const qlite_tensor *w, const char *what,
                                   uint32_t axis, size_t channels, qlite_q8_weights *out);

/*
 * Refuses (QLITE_ERR_UNSUPPORTED_OP) a reduction whose int32 accumulator
 * could overflow: |bias| + K * 255 * max|w - zw| must stay <= INT32_MAX
 * (max_abs_bias from the constant bias, 0 without one).
 */
qlite_status qlite_q8_check_acc(qlite_node *node, size_t K, const qlite_q8_weights *w,
                                int64_t max_abs_bias);

/*
 * The hybrid kernels' bound: acc = sum u w and zu * sum w each reach
 * K * 255 * 128, so their difference (the output stage's int32) needs
 * 2 * K * 255 * 128 <= INT32_MAX (K <= 32896).
 */
qlite_status qlite_hybrid_check_acc(qlite_node *node, size_t K, const qlite_q8_weights *w);

/* Padded length of a column array (gemm_q8.h: readable to round_up(N, 64)). */
static inline size_t qlite_q8_cols_len(size_t N) { return (N + 63) / 64 * 64 + 64; }

/*
 * Builds `cols` for N output channels of an int8 op (arrays from
 * qlite_node_alloc):
 *   mult/shift from M[c] = sx * sw[c] / sy (double, docs §3.1);
 *   bias[c] = bias32[c] - zu * wsum[c] + K * zu * zw[c] (int64, checked to
 *   fit int32), bias32 NULL = 0; zw set only when some zw[c] != 0;
 *   zy, lo, hi from y and the fused activation (qlite_activation_qrange).
 * wsum[c] = sum over the channel's K weights.
 */
qlite_status qlite_q8_cols_build(qlite_node *node, size_t N, const qlite_q8_weights *w, float sx,
                                 int32_t zu, const qlite_q8 *y, qlite_activation act,
                                 const int32_t *bias32, const int64_t *wsum, size_t K,
                                 qlite_q8_cols *cols);

/*
 * An optional int32 bias input: must be constant INT32 [N] (the converter
 * writes it so, docs §2.3); *out its values (NULL when absent) and
 * *max_abs the largest magnitude.
 */
qlite_status qlite_q8_bias_init(qlite_node *node, const qlite_tensor *b, size_t N,
                                const int32_t **out, int64_t *max_abs);

/* ---------------------------------------------------------------- */
/* One threaded GEMM                                                 */
/* ---------------------------------------------------------------- */

/*
 * C [M, N] = gemm_q8.h's formula for an A buffer already in unsigned form
 * and weights w (W [N, K] when w_trans, else B [K, N]; bytes XORed with
 * flip when packed). The dot algorithm (no packing) is used when
 * qlite_q8_gemm_dot() says so; the A rows must then be padded to
 * qlite_gemm_q8_dot_lda(K). `finish`, when set, is called by the thread
 * that completed rows [m0, m1) x columns [n0, n1) of C (hybrid output).
 */
typedef struct qlite_q8_gemm {
    const qlite_gemm_q8_ukernel *uk;
    size_t M, N, K;
    const uint8_t *a;
    size_t lda;
    const int32_t *rowsum;       /* [M] when cols->zw is set */
    const void *w;
    size_t ldw;
    bool w_trans;
    uint8_t flip;
    int8_t *packed;              /* scratch of qlite_gemm_q8_packed_size(K, N) (tiles) */
    bool prepacked;              /* packed already holds B (no packing here) */
    const qlite_q8_cols *cols;
    void *c;
    size_t ldc;
    unsigned mode;
    void (*finish)(void *ctx, size_t m0, size_t m1, size_t n0, size_t n1);
    void *finish_ctx;
    /* Optional: one workspace of ws_stride >= qlite_gemm_q8_ws_bytes(uk,
     * ws_rows, K) bytes per thread for the tiles (qlite_gemm_q8_tiles_ws,
     * rows in chunks of ws_rows); NULL: none. */
    uint8_t *ws;
    size_t ws_stride, ws_rows;
} qlite_q8_gemm;

/* True when the dot algorithm serves this GEMM (few rows, W in place). */
static inline bool qlite_q8_gemm_dot(size_t M, bool w_trans, uint8_t flip) {
    return M < QLITE_GEMM_Q8_DOT_M && w_trans && flip == 0;
}

/* Runs it on the node's threads (packing included). */
void qlite_q8_gemm_run(const qlite_node *node, const qlite_q8_gemm *g);

/* ---------------------------------------------------------------- */
/* Hybrid                                                            */
/* ---------------------------------------------------------------- */

/*
 * Quantizes n floats to uint8 with parameters of their own (docs §5): the
 * range [min, max] widened to 0, scale and int8 zero point by docs §2.1
 * (qlite_choose_asymmetric's formula), u = clamp(round_half_even(x * (1 /
 * scale)) + zp, -128, 127) + 128, so zu = zp + 128. Non-finite values are
 * left out of the range and saturate. Writes out[0, n) and returns the
 * scale; *zu the uint8 zero point, *sum the sum of the n codes.
 */
float qlite_hybrid_quantize(const float *x, size_t n, uint8_t *out, int32_t *zu, int32_t *sum);

/* The two halves of qlite_hybrid_quantize: the parameters of x[0, n) (returns
 * the scale, *zu the uint8 zero point), and the codes of any values with
 * them (returns their sum). */
float qlite_hybrid_params(const float *x, size_t n, int32_t *zu);
int32_t qlite_hybrid_apply(const float *x, size_t n, float scale, int32_t zu, uint8_t *out);

/* qlite_hybrid_params with the range search split between the node's
 * threads when x is large (the same scale and zero point for any split and
 * thread count: min / max are exact); with one thread a plain call. */
float qlite_hybrid_params_parallel(const qlite_node *node, const float *x, size_t n,
                                   int32_t *zu);

/* qlite_hybrid_quantize with both halves split between the node's threads
 * when x is large (the same codes, parameters and sum for any split); with
 * one thread a plain call. */
float qlite_hybrid_quantize_parallel(const qlite_node *node, const float *x, size_t n,
                                     uint8_t *out, int32_t *zu, int32_t *sum);

/* The float output stage of a hybrid op's N channels. */
typedef struct qlite_hybrid_cols {
    const float *wscale;   /* [N] (a per-tensor scale expanded) */
    const int32_t *wsum;   /* [N] sum of the channel's int8 weights */
    const float *bias;     /* [N] or NULL */
    float lo, hi;          /* fused activation */
} qlite_hybrid_cols;

/*
 * y[n] = clamp((acc[n] - zu * wsum[n]) * (su * wscale[n]) + bias[n], lo, hi)
 * for n in [n0, n1); acc may alias y (the GEMM's int32 output written into
 * the float output).
 */
void qlite_hybrid_finish(const qlite_hybrid_cols *hc, size_t n0, size_t n1, float su, int32_t zu,
                         const int32_t *acc, float *y);

/*
 * Builds hc for an int8 weight of N channels whose channel c has its K
 * weights at w + c * cstride + k * kstride (sum taken here); refuses
 * non-zero weight zero points (the converter's dynamic weights are
 * symmetric).
 */
qlite_status qlite_hybrid_cols_build(qlite_node *node, size_t N, const qlite_q8_weights *wq,
                                     const int8_t *w, size_t K, size_t cstride, size_t kstride,
                                     const float *bias, qlite_activation act,
                                     qlite_hybrid_cols *hc);

/* The same with the channel sums given (wsum [N], e.g. taken from packed
 * weights at prepare, packed_weights.h). */
qlite_status qlite_hybrid_cols_build_sums(qlite_node *node, size_t N,
                                          const qlite_q8_weights *wq, const int64_t *wsum,
                                          const float *bias, qlite_activation act,
                                          qlite_hybrid_cols *hc);

/* ---------------------------------------------------------------- */
/* Convolution geometry (every variant of the three conv ops)        */
/* ---------------------------------------------------------------- */

typedef enum { QLITE_CONV_PLAIN, QLITE_CONV_DEPTHWISE, QLITE_CONV_TRANSPOSED } qlite_conv_kind;

/* The shapes of conv_2d.c / depthwise_conv_2d.c / transpose_conv_2d.c. */
typedef struct qlite_conv_geom {
    int64_t N, H, W, C;             /* input [N, H, W, C] */
    int64_t O, KH, KW;              /* output channels (depthwise: C * M), kernel */
    int64_t OH, OW;                 /* output [N, OH, OW, O] */
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t groups, Cg, Og, K;      /* plain/transposed: K = KH * KW * Cg */
    int64_t M;                      /* depthwise multiplier */
    qlite_activation act;
} qlite_conv_geom;

/*
 * Validates the Conv2D options and the shapes of input x and weights w (and
 * a bias b of [O], any dtype) for `kind` exactly as the float kernel does,
 * fills g and sets output 0's shape. Errors name the op and the tensor.
 */
qlite_status qlite_conv_geom_init(qlite_node *node, qlite_conv_kind kind, const qlite_tensor *x,
                                  const qlite_tensor *w, const qlite_tensor *b,
                                  qlite_conv_geom *g);

/* The input index reached by output index o through tap k of a transposed
 * convolution (stride s, dilation d, pad, input length in), or -1. */
static inline int64_t qlite_tconv_source(int64_t o, int64_t k, int64_t s, int64_t d,
                                         int64_t pad, int64_t in) {
    const int64_t v = o + pad - k * d;
    if (v < 0 || v % s != 0) return -1;
    return v / s < in ? v / s : -1;
}

/* The error of a (input, weights) dtype pair no variant takes. */
qlite_status qlite_nn_variant_unsupported(qlite_node *node, const qlite_tensor *x,
                                          const qlite_tensor *w);

#endif /* QLITE_NN_Q8_H */
