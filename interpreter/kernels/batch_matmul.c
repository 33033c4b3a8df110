/*
 * batch_matmul.c — BATCH_MATMUL: numpy matmul with broadcast batch dims.
 *
 *   input 0  A  [..., M, K]  ([..., K, M] with transpose_a); rank 1 = [K]
 *   input 1  B  [..., K, N]  ([..., N, K] with transpose_b); rank 1 = [K]
 *   output   Y  [broadcast(...), M, N]  (a rank-1 operand's M or N dim dropped)
 *
 * Either operand may be an activation or a constant. Every batch is one
 * float GEMM. When B has no batch dims (weights shared by every batch) and A
 * is not transposed, the batches fold into M: one GEMM with M = batch * M.
 * Many small batches (attention heads) are split between threads, one GEMM
 * each; a few large ones use the GEMM's own threading.
 *
 * Strided views (kernel.h; interpreter/views.c): A, B and the output may be
 * views (a skipped TRANSPOSE / constant-index GATHER; the output written
 * through a following TRANSPOSE's strides). The GEMM reads A through any row
 * and column steps and B through a row step (plain or transposed); a B view
 * with neither matrix dim of step 1 is copied dense first (per thread); the
 * output's rows are ldc apart. A B view read transposed (the transformer's k)
 * is packed for the fast AVX-512 O16 GEMM by 16 x 16 register transposes
 * here (the GEMM's own packing stores one float at a time). With a view
 * nothing folds. Dense operands keep exactly the strides and paths they had
 * before views (same bits).
 *
 * Other dtypes (int8/uint8 operands, float32 x int8 hybrid, float16 B) are
 * the variants of batch_matmul_q8.c / batch_matmul_f16.c (nn_variants.h);
 * only the integer one (not hybrid) takes views.
 */
#include "bmm_views.h"
#include "gemm_f32.h"
#include "kernels.h"
#include "nn_common.h"
#include "nn_variants.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BMM_X86 1
#endif

typedef struct bmm_state {
    qlite_status (*eval)(qlite_node *node);
    const qlite_gemm_f32_ukernel *uk;
    size_t M, N, K, batches;
    bool ta, tb, fold;
    uint32_t brank;                        /* broadcast batch rank */
    int64_t bdims[QLITE_MAX_RANK];         /* output batch dims */
    int64_t astride[QLITE_MAX_RANK];       /* per batch dim, in matrices; 0 = broadcast */
    int64_t bstride[QLITE_MAX_RANK];
    float lo, hi;
    size_t scratch_per_thread;             /* floats */
    size_t bcopy_floats;                   /* per thread, after the GEMM scratch: K * N when
                                              B is a view with no step-1 matrix dim */
    size_t gemm_floats;                    /* per thread: the GEMM's scratch */
    bool b_view;                           /* B (input 1) is a view */
    int threads;
} bmm_state;

/* Offsets (in matrices) of batch b's A and B. */
static void batch_offsets(const bmm_state *s, size_t b, size_t *ao, size_t *bo) {
    size_t a = 0, bb = 0;
    for (int i = (int)s->brank - 1; i >= 0; i--) {
        const size_t d = (size_t)s->bdims[i], idx = b % d;
        b /= d;
        a += idx * (size_t)s->astride[i];
        bb += idx * (size_t)s->bstride[i];
    }
    *ao = a;
    *bo = bb;
}

/* Batch `batch`'s GEMM through the strides st (bcopy: K * N floats for a B
 * the GEMM cannot read in place). */
static qlite_gemm_f32_args batch_args(const bmm_state *s, const qlite_bmm_strides *st,
                                      const float *a, const float *b, float *y, size_t batch,
                                      float *bcopy) {
    size_t ao, bo, yo, ldb;
    bool bt;
    qlite_bmm_offsets(st, s->bdims, s->brank, batch, &ao, &bo, &yo);
    const float *B = b + bo;
    if (!qlite_bmm_b_layout(st, s->K, s->N, s->tb, &ldb, &bt)) {
        qlite_bmm_copy_b(st, B, sizeof(float), s->K, s->N, bcopy);
        B = bcopy;
        ldb = s->N;
        bt = false;
    }
    qlite_gemm_f32_args g = {.M = s->M, .N = s->N, .K = s->K, .a = a + ao,
                             .rsa = (size_t)st->a_rs, .csa = (size_t)st->a_cs, .b = B,
                             .ldb = ldb, .b_trans = bt, .bias = NULL, .c = y + yo,
                             .ldc = (size_t)st->y_rs, .lo = s->lo, .hi = s->hi};
    return g;
}

#ifdef BMM_X86
/* O16 panels ([K][16] floats per 16 columns, zero columns past N) of a B read
 * transposed, B[k][n] = src[n * ld + k] (a B view whose K dim has step 1: the
 * transformer's k, read through TRANSPOSE [0,2,3,1]): 16 x 16 blocks transposed
 * in registers. The generic packing scatters one float a store (~25 us a layer).
 * Same panel contents as qlite_gemm_o16_pack_f32(b_trans): same bits. */
__attribute__((target("avx512f"))) static void pack_o16_trans(const float *src, size_t ld,
                                                              size_t K, size_t N, float *out) {
    for (size_t n0 = 0; n0 < N; n0 += 16) {
        float *dst = out + n0 * K;
        const size_t cols = N - n0 < 16 ? N - n0 : 16;
        for (size_t k0 = 0; k0 < K; k0 += 16) {
            const size_t kk = K - k0 < 16 ? K - k0 : 16;
            const __mmask16 km = (__mmask16)(kk == 16 ? 0xffffu : (1u << kk) - 1u);
            __m512 r[16], t[16];
            for (size_t j = 0; j < 16; j++)
                r[j] = j < cols ? _mm512_maskz_loadu_ps(km, src + (n0 + j) * ld + k0)
                                : _mm512_setzero_ps();
            for (int j = 0; j < 16; j += 2) { /* pairs: a0 b0 a1 b1 | a2 b2 a3 b3 per lane */
                t[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
                t[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
            }
            for (int q = 0; q < 16; q += 4) { /* rows q..q+3 at lane column g in r[q + g] */
                const __m512d t0 = _mm512_castps_pd(t[q]), t1 = _mm512_castps_pd(t[q + 1]);
                const __m512d t2 = _mm512_castps_pd(t[q + 2]), t3 = _mm512_castps_pd(t[q + 3]);
                r[q] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
                r[q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
                r[q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
                r[q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
            }
            for (int g = 0; g < 4; g++) { /* column c = 4 lane + g: lanes of r[g + 4 i] */
                const __m512 a = _mm512_shuffle_f32x4(r[g], r[g + 4], 0x88);
                const __m512 b = _mm512_shuffle_f32x4(r[g + 8], r[g + 12], 0x88);
                const __m512 c = _mm512_shuffle_f32x4(r[g], r[g + 4], 0xdd);
                const __m512 d = _mm512_shuffle_f32x4(r[g + 8], r[g + 12], 0xdd);
                t[g] = _mm512_shuffle_f32x4(a, b, 0x88);      /* column g */
                t[g + 8] = _mm512_shuffle_f32x4(a, b, 0xdd);  /* column g + 8 */
                t[g + 4] = _mm512_shuffle_f32x4(c, d, 0x88);  /* column g + 4 */
                t[g + 12] = _mm512_shuffle_f32x4(c, d, 0xdd); /* column g + 12 */
            }
            for (size_t k = 0; k < kk; k++) _mm512_storeu_ps(dst + (k0 + k) * 16, t[k]);
        }
    }
}
#endif

/* The fast O16 GEMM when g reads a B view transposed and it can take g (else
 * NULL): then B is packed by pack_o16_trans into `packed` (gemm_floats). */
static qlite_gemm_o16_fn own_pack(const bmm_state *s, const qlite_gemm_f32_args *g,
                                  float *packed) {
#ifdef BMM_X86
    if (!s->b_view || !g->b_trans || g->csa != 1 || g->M < QLITE_GEMM_F32_SMALL_M ||
        qlite_gemm_o16_elems(g->K, g->N) > s->gemm_floats)
        return NULL;
    qlite_gemm_o16_fn fn = qlite_gemm_f32_o16_fast();
    if (fn) pack_o16_trans(g->b, g->ldb, g->K, g->N, packed);
    return fn;
#else
    (void)s, (void)g, (void)packed;
    return NULL;
#endif
}

static void bmm_f32_ref(const bmm_state *s, const float *a, const float *b, float *y) {
    for (size_t t = 0; t < s->batches; t++) {
        size_t ao, bo;
        batch_offsets(s, t, &ao, &bo);
        const float *A = a + ao * s->M * s->K, *B = b + bo * s->K * s->N;
        for (size_t m = 0; m < s->M; m++)
            for (size_t n = 0; n < s->N; n++) {
                float acc = 0.0f;
                for (size_t k = 0; k < s->K; k++) {
                    const float av = s->ta ? A[k * s->M + m] : A[m * s->K + k];
                    const float bv = s->tb ? B[n * s->K + k] : B[k * s->N + n];
                    acc += av * bv;
                }
                y[(t * s->M + m) * s->N + n] = qlite_clampf(acc, s->lo, s->hi);
            }
    }
}

typedef struct bmm_job {
    const bmm_state *s;
    const qlite_bmm_strides *st;
    const float *a, *b;
    float *y, *scratch;
} bmm_job;

/* Batches [begin, end) on thread `thread` (its scratch slot). */
static void batches_range(void *arg, int thread, size_t begin, size_t end) {
    const bmm_job *j = arg;
    const bmm_state *s = j->s;
    for (size_t batch = begin; batch < end; batch++) {
        float *sc = j->scratch + (size_t)thread * s->scratch_per_thread;
        qlite_gemm_f32_args g = batch_args(s, j->st, j->a, j->b, j->y, batch,
                                           sc + (s->scratch_per_thread - s->bcopy_floats));
        qlite_gemm_o16_fn fn = own_pack(s, &g, sc);
        if (fn)
            fn(g.M, g.N, g.K, g.a, g.rsa, sc, NULL, g.c, g.ldc, g.lo, g.hi);
        else
            qlite_gemm_f32_serial(s->uk, &g, sc);
    }
}

static qlite_status bmm_eval_f32(qlite_node *node) {
    const bmm_state *s = node->state;
    const float *a = node->inputs[0]->data, *b = node->inputs[1]->data;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) { /* never views (views.c) */
        bmm_f32_ref(s, a, b, y);
        return QLITE_OK;
    }
    qlite_bmm_strides st;
    qlite_bmm_strides_get(node->inputs[0], node->inputs[1], node->outputs[0], s->brank, s->ta,
                          s->tb, &st);
    if (s->fold) {
        qlite_gemm_f32_args g = {.M = s->batches * s->M, .N = s->N, .K = s->K, .a = a,
                                 .rsa = s->K, .csa = 1, .b = b, .ldb = s->tb ? s->K : s->N,
                                 .b_trans = s->tb, .c = y, .ldc = s->N, .lo = s->lo,
                                 .hi = s->hi};
        qlite_gemm_f32_run(node, s->uk, &g, node->scratch);
    } else if (s->threads > 1 && s->batches >= (size_t)s->threads) {
        bmm_job j = {.s = s, .st = &st, .a = a, .b = b, .y = y, .scratch = node->scratch};
        /* one item per batch (ranges of them past 4 per thread), claimed by
         * whichever thread is free: a thread that starts late takes fewer
         * (with one fixed share per thread the other waited for it; a
         * transformer's 4 heads at 2 threads) */
        qlite_parallel_for_thread(node, s->batches, batches_range, &j);
    } else {
        float *bcopy = (float *)node->scratch + (s->scratch_per_thread - s->bcopy_floats);
        for (size_t t = 0; t < s->batches; t++) {
            qlite_gemm_f32_args g = batch_args(s, &st, a, b, y, t, bcopy);
            if (own_pack(s, &g, node->scratch))
                qlite_gemm_f32_run_o16(node, qlite_gemm_f32_select_o16(), &g, node->scratch,
                                       false);
            else
                qlite_gemm_f32_run(node, s->uk, &g, node->scratch);
        }
    }
    return QLITE_OK;
}

static qlite_status bmm_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 2, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *a = node->inputs[0], *b = node->inputs[1];
    qlite_status (*eval)(qlite_node *) = NULL;
    switch (QLITE_NN_PAIR(a->dtype, b->dtype)) {
    case QLITE_NN_F32_F32: eval = bmm_eval_f32; break;
    default: return qlite_bmm_variants_prepare(node); /* int8, hybrid, float16 B */
    }
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)))
        return st;
    qlite_bmm_shape g = {.M = 0};
    if ((st = qlite_bmm_shape_get(node, &g))) return st;
    const qlite_batch_matmul_options o = g.o;
    bmm_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = eval;
    /* a rank-1 operand is a row (A) or a column (B) vector, never transposed */
    QLITE_BMM_SHAPE_COPY(s, g);
    if (!qlite_nn_activation(o.activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o.activation);

    s->uk = qlite_gemm_f32_select_for(s->N);
    s->threads = qlite_node_threads(node);
    bool b_shared = true, a_dense = !s->ta;
    for (uint32_t i = 0; i < s->brank; i++) {
        b_shared = b_shared && s->bstride[i] == 0;
        a_dense = a_dense && (s->astride[i] != 0 || s->bdims[i] == 1);
    }
    const qlite_tensor *y = node->outputs[0];
    s->fold = b_shared && a_dense && s->batches > 1 && !a->is_view && !b->is_view && !y->is_view;
    s->b_view = b->is_view && b->rank >= 2;
    if (qlite_bmm_b_copied(a, b, y, s->brank, s->ta, s->tb, s->K, s->N))
        s->bcopy_floats = (s->K * s->N + 15) / 16 * 16;
    if (s->fold) {
        node->scratch_bytes = qlite_gemm_f32_scratch_bytes(s->uk, s->batches * s->M, s->N, s->K);
    } else {
        size_t per = qlite_gemm_f32_scratch_bytes(s->uk, s->M, s->N, s->K) / sizeof(float);
        s->gemm_floats = per;
        s->scratch_per_thread = (per + 15) / 16 * 16 + s->bcopy_floats;
        node->scratch_bytes = s->scratch_per_thread * (size_t)s->threads * sizeof(float);
    }
    node->state = s;
    return QLITE_OK;
}

static qlite_status bmm_eval(qlite_node *node) {
    return ((const bmm_state *)node->state)->eval(node);
}

/* Views: float32 x float32 (here) and the integer variant (batch_matmul_q8.c);
 * not hybrid, float16 or sparse B. */
bool qlite_bmm_takes_view(const qlite_op_info *op, const qlite_tensor_info *const *in,
                          int32_t which) {
    (void)op;
    (void)which;
    if (!in[0] || !in[1]) return false;
    if (in[1]->buffer != 0 && (in[1]->sparsity || in[1]->clustering ||
                               in[1]->layout != QLITE_LAYOUT_DEFAULT))
        return false;
    const bool q0 = in[0]->dtype == QLITE_DTYPE_INT8 || in[0]->dtype == QLITE_DTYPE_UINT8;
    const bool q1 = in[1]->dtype == QLITE_DTYPE_INT8 || in[1]->dtype == QLITE_DTYPE_UINT8;
    return (in[0]->dtype == QLITE_DTYPE_FLOAT32 && in[1]->dtype == QLITE_DTYPE_FLOAT32) ||
           (q0 && q1);
}

/* B (input 1) float16 is read in place by batch_matmul_f16.c */
const qlite_kernel qlite_kernel_batch_matmul = {
    .prepare = bmm_prepare,
    .eval = bmm_eval,
    .raw_dense_inputs = 1u << 1,
    .view_inputs = (1u << 0) | (1u << 1),
    .view_output = true,
    .takes_view = qlite_bmm_takes_view,
};
