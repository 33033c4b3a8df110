/*
 * fully_connected_q8.c — FULLY_CONNECTED with int8 weights W [N, K]
 * (constant, per tensor or per output channel along axis 0):
 *
 *   integer  x int8/uint8 [..., K], bias int32 [N] (optional, constant),
 *            y of x's dtype:  y = clamp(zy + requantize(acc, sx sw[n] / sy))
 *            acc = bias[n] + sum_k (x - zx)(W[n][k] - zw[n])   (docs §4.1)
 *   hybrid   x float32, bias float32, y float32 (docs §5): each row of x
 *            quantized to uint8 with its own (su, zu), then
 *            y = su sw[n] (sum_k u W[n][k] - zu sum_k W[n][k]) + bias[n]
 *
 * Both run the int8 GEMM (gemm_q8.h): the rows of x copied (int8 XOR 0x80)
 * or quantized into scratch; W in O16I4 (packed_weights.h: the model's
 * bytes when the converter stored that layout, else packed once at
 * prepare), tiles for every batch size. The reference path
 * (QLITE_INTERP_REFERENCE_ONLY) is the formula in loops over the packed W.
 */
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"
#include "kernels/packed_weights.h"

typedef struct fcq_state {
    qlite_eval_fn eval;               /* must stay first (qlite_eval_dispatch) */
    const qlite_gemm_q8_ukernel *uk;
    size_t M, N, K, lda;
    uint8_t flip;                     /* 0x80 for int8 x */
    int32_t zx;                       /* integer: x's zero point */
    bool is_signed;
    const int32_t *bias32;            /* integer: the model's bias (reference) */
    qlite_q8_weights wq;
    qlite_o16i4_weights wp;           /* W in O16I4 */
    qlite_q8_cols cols;               /* integer output stage (folded bias) */
    qlite_hybrid_cols hc;             /* hybrid output stage */
    size_t packed_bytes, a_bytes;     /* scratch parts */
    size_t ws_off, ws_bytes, ws_rows; /* the GEMM's per-thread workspaces (AVX2; 0: none) */
} fcq_state;

/* Scratch: [packed W (tiles)] [A rows M x lda] [rowsum M] [hybrid su M, zu M]
 * [per thread: the GEMM's workspace]. */
typedef struct fcq_scratch {
    int8_t *packed;
    uint8_t *a;
    int32_t *rowsum;
    float *su;
    int32_t *zu;
} fcq_scratch;

static fcq_scratch scratch_parts(const fcq_state *s, void *scratch) {
    fcq_scratch p;
    uint8_t *b = scratch;
    p.packed = (int8_t *)b;
    p.a = b + s->packed_bytes;
    p.rowsum = (int32_t *)(void *)(p.a + s->a_bytes);
    p.su = (float *)(void *)(p.rowsum + s->M);
    p.zu = (int32_t *)(void *)(p.su + s->M);
    return p;
}

/* ---- integer ---- */

static void fcq_ref(const fcq_state *s, const uint8_t *x, uint8_t *y) {
    const int8_t *w = s->wp.data;
    for (size_t m = 0; m < s->M; m++)
        for (size_t n = 0; n < s->N; n++) {
            int32_t acc = s->bias32 ? s->bias32[n] : 0;
            const int32_t zw = qlite_q8_wzp(&s->wq, n);
            for (size_t k = 0; k < s->K; k++)
                acc += (qlite_q8_decode(x[m * s->K + k], s->is_signed) - s->zx) *
                       (qlite_o16i4_at(w, s->K, n, k) - zw);
            y[m * s->N + n] = qlite_q8_cols_out(&s->cols, n, acc);
        }
}

static qlite_status fcq_eval(qlite_node *node) {
    const fcq_state *s = node->state;
    const uint8_t *x = node->inputs[0]->data;
    uint8_t *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) {
        fcq_ref(s, x, y);
        return QLITE_OK;
    }
    const fcq_scratch p = scratch_parts(s, node->scratch);
    qlite_gemm_q8_copy_a(s->M, s->K, x, s->K, s->flip, p.a, s->lda,
                         s->cols.zw ? p.rowsum : NULL);
    const qlite_q8_gemm g = {.uk = s->uk, .M = s->M, .N = s->N, .K = s->K, .a = p.a,
                             .lda = s->lda, .rowsum = p.rowsum, .w = NULL, .ldw = s->K,
                             .w_trans = true, .packed = (int8_t *)(uintptr_t)s->wp.data,
                             .prepacked = true, .cols = &s->cols, .c = y,
                             .ldc = s->N, .mode = QLITE_GEMM_Q8_BYTES,
                             .ws = s->ws_bytes ? (uint8_t *)node->scratch + s->ws_off : NULL,
                             .ws_stride = s->ws_bytes, .ws_rows = s->ws_rows};
    qlite_q8_gemm_run(node, &g);
    return QLITE_OK;
}

/* ---- hybrid ---- */

static void fch_ref(const fcq_state *s, const float *x, float *y, uint8_t *u) {
    const int8_t *w = s->wp.data;
    for (size_t m = 0; m < s->M; m++) {
        int32_t zu;
        const float su = qlite_hybrid_quantize(x + m * s->K, s->K, u, &zu, NULL);
        for (size_t n = 0; n < s->N; n++) {
            int32_t acc = 0;
            for (size_t k = 0; k < s->K; k++) acc += (u[k] - zu) * qlite_o16i4_at(w, s->K, n, k);
            float v = (float)acc * (su * s->hc.wscale[n]);
            if (s->hc.bias) v += s->hc.bias[n];
            y[m * s->N + n] = qlite_clampf(v, s->hc.lo, s->hc.hi);
        }
    }
}

typedef struct fch_finish_ctx {
    const fcq_state *s;
    const fcq_scratch *p;
    float *y;
} fch_finish_ctx;

static void fch_finish(void *arg, size_t m0, size_t m1, size_t n0, size_t n1) {
    const fch_finish_ctx *f = arg;
    const size_t N = f->s->N;
    for (size_t m = m0; m < m1; m++)
        qlite_hybrid_finish(&f->s->hc, n0, n1, f->p->su[m], f->p->zu[m],
                            (const int32_t *)(void *)(f->y + m * N), f->y + m * N);
}

static qlite_status fch_eval(qlite_node *node) {
    const fcq_state *s = node->state;
    const float *x = node->inputs[0]->data;
    float *y = node->outputs[0]->data;
    const fcq_scratch p = scratch_parts(s, node->scratch);
    if (qlite_node_reference_only(node)) {
        fch_ref(s, x, y, p.a);
        return QLITE_OK;
    }
    for (size_t m = 0; m < s->M; m++) {
        uint8_t *row = p.a + m * s->lda;
        p.su[m] = qlite_hybrid_quantize(x + m * s->K, s->K, row, &p.zu[m], NULL);
        for (size_t k = s->K; k < s->lda; k++) row[k] = 0;
    }
    fch_finish_ctx f = {.s = s, .p = &p, .y = y};
    const qlite_q8_gemm g = {.uk = s->uk, .M = s->M, .N = s->N, .K = s->K, .a = p.a,
                             .lda = s->lda, .w = NULL, .ldw = s->K, .w_trans = true,
                             .packed = (int8_t *)(uintptr_t)s->wp.data, .prepacked = true,
                             .cols = &s->cols, .c = y, .ldc = s->N,
                             .mode = QLITE_GEMM_Q8_INT32, .finish = fch_finish, .finish_ctx = &f,
                             .ws = s->ws_bytes ? (uint8_t *)node->scratch + s->ws_off : NULL,
                             .ws_stride = s->ws_bytes, .ws_rows = s->ws_rows};
    qlite_q8_gemm_run(node, &g);
    return QLITE_OK;
}

/* ---- prepare ---- */

static qlite_status fcq_prepare(qlite_node *node, bool hybrid) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    qlite_tensor *y = node->outputs[0];
    qlite_fc_shape g = {.M = 0};
    qlite_status st = qlite_fc_shape_get(node, &g);
    if (st) return st;
    const qlite_fully_connected_options o = g.o;
    const int64_t N = (int64_t)g.N;
    if (!w->is_const)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "int8 weights '%s' must be a constant", w->info->name);
    fcq_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->K = g.K;
    s->N = g.N;
    s->M = g.M;
    if ((st = qlite_q8_weights_init(node, w, "weights", 0, s->N, &s->wq))) return st;
    int64_t *wsum = qlite_node_alloc(node, (s->N ? s->N : 1) * sizeof(int64_t));
    if (!wsum) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if ((st = qlite_o16i4_weights_get(node, w, "weights", 1, s->N, s->K, &s->wp, wsum)))
        return st;
    if (hybrid) {
        if ((st = qlite_nn_check_dtype(node, y, "output", QLITE_DTYPE_FLOAT32)) ||
            (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))))
            return st;
        if (b && (b->rank != 1 || b->dims[0] != N))
            return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%lld]",
                                    b->info->name, (long long)N);
        if ((st = qlite_hybrid_check_acc(node, s->K, &s->wq)) ||
            (st = qlite_hybrid_cols_build_sums(node, s->N, &s->wq, wsum, b ? b->data : NULL,
                                               o.activation, &s->hc)))
            return st;
        s->eval = fch_eval;
    } else {
        qlite_q8 qx, qy;
        int64_t max_bias;
        if ((st = qlite_q8_params(node, x, "input", &qx)) ||
            (st = qlite_node_check_same_dtype(node, x, "input", y, "output")) ||
            (st = qlite_q8_params(node, y, "output", &qy)) ||
            (st = qlite_q8_bias_init(node, b, s->N, &s->bias32, &max_bias)) ||
            (st = qlite_q8_check_acc(node, s->K, &s->wq, max_bias)))
            return st;
        if ((unsigned)o.activation >= QLITE_ACT_COUNT)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                    (int)o.activation);
        s->is_signed = qx.is_signed;
        s->zx = qx.zero_point;
        s->flip = qx.is_signed ? 0x80 : 0;
        const int32_t zu = qx.zero_point + (qx.is_signed ? 128 : 0);
        if ((st = qlite_q8_cols_build(node, s->N, &s->wq, qx.scale, zu, &qy, o.activation,
                                      s->bias32, wsum, s->K, &s->cols)))
            return st;
        s->eval = fcq_eval;
    }
    s->uk = qlite_gemm_q8_select_packed(s->N, s->wp.in_place);
    s->lda = qlite_gemm_q8_k4(s->K);
    s->packed_bytes = 0;
    s->a_bytes = (s->M * s->lda + 63) / 64 * 64;
    if (hybrid && s->a_bytes < s->lda) s->a_bytes = s->lda; /* the reference's one row */
    node->scratch_bytes = s->packed_bytes + s->a_bytes + 3 * s->M * sizeof(int32_t);
    /* AVX2: A's rows and each weight block widened to int16 once a GEMM call */
    /* (rows through it in chunks of at most 240: a large batch does not grow it) */
    s->ws_rows = s->M < 240 ? s->M : 240;
    s->ws_bytes = (qlite_gemm_q8_ws_bytes(s->uk, s->ws_rows, s->K) + 63) / 64 * 64;
    s->ws_off = (node->scratch_bytes + 63) / 64 * 64;
    if (s->ws_bytes)
        node->scratch_bytes = s->ws_off + (size_t)qlite_node_threads(node) * s->ws_bytes;
    node->state = s;
    return QLITE_OK;
}

qlite_status qlite_fc_variants_prepare(qlite_node *node) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    if (w->dtype == QLITE_DTYPE_INT8 && qlite_is_q8(x->dtype)) return fcq_prepare(node, false);
    if (w->dtype == QLITE_DTYPE_INT8 && x->dtype == QLITE_DTYPE_FLOAT32)
        return fcq_prepare(node, true);
    if (w->dtype == QLITE_DTYPE_FLOAT16 && x->dtype == QLITE_DTYPE_FLOAT32)
        return qlite_fc_f16_prepare(node);
    return qlite_nn_variant_unsupported(node, x, w);
}
