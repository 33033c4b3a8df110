/*
 * batch_matmul_f16.c — BATCH_MATMUL with a float16 B read in place (docs
 * §7): float32 A and Y, the shapes and broadcasting of batch_matmul.c, each
 * batch one GEMM of gemm_f16.h (halves widened as they are packed or
 * loaded). Batches that share B with a plain A fold into one GEMM; others
 * are split between threads.
 */
#include "kernels/gemm_f16.h"
#include "kernels/nn_common.h"
#include "kernels/nn_variants.h"
#include "kernels/quant_params.h"

typedef struct bmm16_state {
    qlite_eval_fn eval; /* must stay first (qlite_eval_dispatch) */
    const qlite_gemm_f32_ukernel *uk;
    size_t M, N, K, batches;
    bool ta, tb, fold;
    uint32_t brank;
    int64_t bdims[QLITE_MAX_RANK], astride[QLITE_MAX_RANK], bstride[QLITE_MAX_RANK];
    float lo, hi;
    size_t scratch_per_thread; /* floats */
    int threads;
} bmm16_state;

static void batch_offsets(const bmm16_state *s, size_t b, size_t *ao, size_t *bo) {
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

static qlite_gemm_f16w_args batch_args(const bmm16_state *s, const float *a, const uint16_t *b,
                                       float *y, size_t batch) {
    size_t ao, bo;
    batch_offsets(s, batch, &ao, &bo);
    qlite_gemm_f16w_args g = {.M = s->M, .N = s->N, .K = s->K, .a = a + ao * s->M * s->K,
                              .rsa = s->ta ? 1 : s->K, .csa = s->ta ? s->M : 1,
                              .b = b + bo * s->K * s->N, .ldb = s->tb ? s->K : s->N,
                              .b_trans = s->tb, .c = y + batch * s->M * s->N, .ldc = s->N,
                              .lo = s->lo, .hi = s->hi};
    return g;
}

static void bmm16_ref(const bmm16_state *s, const float *a, const uint16_t *b, float *y) {
    for (size_t t = 0; t < s->batches; t++) {
        size_t ao, bo;
        batch_offsets(s, t, &ao, &bo);
        const float *A = a + ao * s->M * s->K;
        const uint16_t *B = b + bo * s->K * s->N;
        for (size_t m = 0; m < s->M; m++)
            for (size_t n = 0; n < s->N; n++) {
                float acc = 0.0f;
                for (size_t k = 0; k < s->K; k++) {
                    const float av = s->ta ? A[k * s->M + m] : A[m * s->K + k];
                    const uint16_t bv = s->tb ? B[n * s->K + k] : B[k * s->N + n];
                    acc += av * qlite_fp16_to_fp32(bv);
                }
                y[(t * s->M + m) * s->N + n] = qlite_clampf(acc, s->lo, s->hi);
            }
    }
}

typedef struct bmm16_job {
    const bmm16_state *s;
    const float *a;
    const uint16_t *b;
    float *y, *scratch;
} bmm16_job;

static void batches_range(void *arg, size_t begin, size_t end) {
    const bmm16_job *j = arg;
    const bmm16_state *s = j->s;
    for (size_t t = begin; t < end; t++) {
        size_t b0, b1;
        qlite_nn_split(s->batches, (size_t)s->threads, t, &b0, &b1);
        for (size_t batch = b0; batch < b1; batch++) {
            const qlite_gemm_f16w_args g = batch_args(s, j->a, j->b, j->y, batch);
            qlite_gemm_f16w_serial(s->uk, &g, j->scratch + t * s->scratch_per_thread);
        }
    }
}

static qlite_status bmm16_eval(qlite_node *node) {
    const bmm16_state *s = node->state;
    const float *a = node->inputs[0]->data;
    const uint16_t *b = node->inputs[1]->data;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node)) {
        bmm16_ref(s, a, b, y);
        return QLITE_OK;
    }
    if (s->fold) {
        const qlite_gemm_f16w_args g = {.M = s->batches * s->M, .N = s->N, .K = s->K, .a = a,
                                        .rsa = s->K, .csa = 1, .b = b,
                                        .ldb = s->tb ? s->K : s->N, .b_trans = s->tb, .c = y,
                                        .ldc = s->N, .lo = s->lo, .hi = s->hi};
        qlite_gemm_f16w_run(node, s->uk, &g, node->scratch);
    } else if (s->threads > 1 && s->batches >= (size_t)s->threads) {
        bmm16_job j = {.s = s, .a = a, .b = b, .y = y, .scratch = node->scratch};
        qlite_parallel_for(node, (size_t)s->threads, batches_range, &j);
    } else {
        for (size_t t = 0; t < s->batches; t++) {
            const qlite_gemm_f16w_args g = batch_args(s, a, b, y, t);
            qlite_gemm_f16w_run(node, s->uk, &g, node->scratch);
        }
    }
    return QLITE_OK;
}

qlite_status qlite_bmm_f16_prepare(qlite_node *node) {
    qlite_status st;
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)))
        return st;
    qlite_bmm_shape g = {.M = 0};
    if ((st = qlite_bmm_shape_get(node, &g))) return st;
    const qlite_batch_matmul_options o = g.o;
    bmm16_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    QLITE_BMM_SHAPE_COPY(s, g);
    if (!qlite_nn_activation(o.activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o.activation);
    s->eval = bmm16_eval;
    s->uk = qlite_gemm_f32_select_for(s->N);
    s->threads = qlite_node_threads(node);
    bool b_shared = true, a_dense = !s->ta;
    for (uint32_t i = 0; i < s->brank; i++) {
        b_shared = b_shared && s->bstride[i] == 0;
        a_dense = a_dense && (s->astride[i] != 0 || s->bdims[i] == 1);
    }
    s->fold = b_shared && a_dense && s->batches > 1;
    if (s->fold) {
        node->scratch_bytes = qlite_gemm_f16w_scratch_bytes(s->uk, s->batches * s->M, s->N, s->K,
                                                            (size_t)s->threads);
    } else {
        size_t per = qlite_gemm_f16w_scratch_bytes(s->uk, s->M, s->N, s->K, 1) / sizeof(float);
        s->scratch_per_thread = (per + 15) / 16 * 16;
        node->scratch_bytes = s->scratch_per_thread * (size_t)s->threads * sizeof(float);
    }
    node->state = s;
    return QLITE_OK;
}
