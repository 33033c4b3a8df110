/*
 * softmax.c — float32 SOFTMAX and LOG_SOFTMAX over any axis
 * (SoftmaxOptions axis, beta: softmax(beta * x)).
 *
 * The tensor is viewed as [outer, n, inner] around the axis. Numerically
 * stable: with m = max_j(beta * x_j) over the axis,
 *   1. e_j = exp(beta * x_j - m)             (every e_j <= 1, the largest is 1;
 *                                             a vectorizable exp, kernel_util.h)
 *   2. s   = sum_j e_j                       (accumulated in double, s >= 1)
 *   3. softmax: y_j = e_j / s;  log-softmax: y_j = (beta * x_j - m) - log(s).
 * inner == 1 (the last axis, the common case) works on contiguous rows, split
 * over threads. inner > 1 walks the axis with stride `inner`, updating
 * `inner` running values at once (contiguous, vectorizable) in scratch.
 *
 * SOFTMAX (not LOG_SOFTMAX) on the last axis uses the AVX-512 / AVX2+FMA row
 * of softmax_f32_x86.c when the CPU has one (chosen at prepare, within the
 * feature cap of qlite_q8_cpu_features); the loops here are the fallback.
 *
 * int8/uint8 SOFTMAX goes to softmax_q8.c once the options are read here;
 * LOG_SOFTMAX has no integer form.
 */
/* GCC keeps the selects of qlite_exp_nonpos_f32 as branches (so the loop
 * stays scalar) unless it may assume FP compares do not trap; qlite never
 * reads FP exception flags. Clang assumes this by default. */
#if defined(__GNUC__) && !defined(__clang__)
#endif

#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"
#include "kernels/softmax_f32.h"

/* Scratch of one block: `inner` running maxima (float), then `inner` sums (double). */
static size_t block_bytes(size_t inner) {
    return ((inner * sizeof(float) + 7) & ~(size_t)7) + inner * sizeof(double);
}

typedef struct softmax_state {
    qlite_eval_fn eval;  /* softmax_eval_f32 (first: qlite_eval_dispatch) */
    size_t outer, n, inner;
    float beta;
    bool log;
    int blocks;          /* inner > 1: scratch blocks (one per thread) */
    softmax_f32_row_fn row; /* inner == 1, SOFTMAX: vector row or NULL */
} softmax_state;

static qlite_status softmax_eval_f32(qlite_node *node);

static qlite_status softmax_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    const bool q8 = qlite_is_q8(x->dtype);
    if (!q8 && ((st = qlite_node_check_dtype(node, x, "input", QLITE_DTYPE_FLOAT32)) != QLITE_OK ||
                (st = qlite_node_check_same_dtype(node, x, "input", node->outputs[0],
                                                  "output")) != QLITE_OK))
        return st;
    int32_t axis = -1;
    float beta = 1.0f;
    if (node->opts->type == QLITE_OPTIONS_SOFTMAX) {
        axis = node->opts->u.softmax.axis;
        beta = node->opts->u.softmax.beta;
    } else if (node->opts->type != QLITE_OPTIONS_NONE) {
        return qlite_node_check_options(node, QLITE_OPTIONS_SOFTMAX);
    }
    if (!isfinite(beta))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "beta %g is not finite",
                                (double)beta);
    uint32_t ax;
    if (x->rank == 0 || !qlite_normalize_axis(axis, x->rank, &ax))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "axis %d is out of range for rank %u", axis, x->rank);
    size_t outer = 1, inner = 1;
    for (uint32_t i = 0; i < ax; i++) outer *= (size_t)x->dims[i];
    for (uint32_t i = ax + 1; i < x->rank; i++) inner *= (size_t)x->dims[i];
    if (q8) return qlite_softmax_q8_prepare(node, outer, (size_t)x->dims[ax], inner, beta);
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    softmax_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = softmax_eval_f32;
    s->outer = outer;
    s->inner = inner;
    s->n = (size_t)x->dims[ax];
    s->beta = beta;
    s->log = node->op->code == QLITE_OP_LOG_SOFTMAX;
    s->row = s->inner == 1 && !s->log ? qlite_softmax_f32_row_simd() : NULL;
    if (s->inner > 1) {
        s->blocks = qlite_node_threads(node);
        if ((size_t)s->blocks > s->outer) s->blocks = (int)(s->outer ? s->outer : 1);
        /* per block: running max (float) and sum (double) for `inner` columns */
        node->scratch_bytes = (size_t)s->blocks * block_bytes(s->inner);
    }
    node->state = s;
    return QLITE_OK;
}

typedef struct softmax_job {
    const softmax_state *s;
    const float *x;
    float *y;
    void *scratch;
} softmax_job;

/* Sum of n floats in eight independent double lanes (vectorizable). */
static double sum_f32(const float *v, size_t n) {
    double acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = 0; k < 8; k++) acc[k] += (double)v[i + k];
    double s = 0.0;
    for (; i < n; i++) s += (double)v[i];
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Max of beta * x over n values, eight lanes. */
static float max_scaled(const float *x, size_t n, float beta) {
    float m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY,
                  -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = 0; k < 8; k++) {
            float v = beta * x[i + k];
            m[k] = v > m[k] ? v : m[k];
        }
    for (; i < n; i++) {
        float v = beta * x[i];
        m[0] = v > m[0] ? v : m[0];
    }
    for (size_t k = 1; k < 8; k++) m[0] = m[k] > m[0] ? m[k] : m[0];
    return m[0];
}

/* One contiguous row of n values. */
static void softmax_row(const float *x, float *y, size_t n, float beta, bool log_out) {
    float m = max_scaled(x, n, beta);
    if (m == -INFINITY || m != m) m = 0.0f; /* all -inf (or NaN): let exp() decide */
    for (size_t j = 0; j < n; j++) y[j] = qlite_exp_nonpos_f32(beta * x[j] - m);
    const double sum = sum_f32(y, n);
    if (log_out) {
        /* (beta x - m) is exact near the max; subtracting the small log(sum)
         * afterwards avoids rounding m + log(sum) at the magnitude of x */
        const float ls = (float)log(sum);
        for (size_t j = 0; j < n; j++) y[j] = (beta * x[j] - m) - ls;
    } else {
        const float r = (float)(1.0 / sum);
        for (size_t j = 0; j < n; j++) y[j] *= r;
    }
}

static void softmax_rows(void *arg, size_t begin, size_t end) {
    const softmax_job *j = arg;
    const softmax_state *s = j->s;
    if (s->row) {
        for (size_t r = begin; r < end; r++) s->row(j->x + r * s->n, j->y + r * s->n, s->n, s->beta);
        return;
    }
    for (size_t r = begin; r < end; r++)
        softmax_row(j->x + r * s->n, j->y + r * s->n, s->n, s->beta, s->log);
}

/* Blocks of outer slices [o0, o1) for inner > 1, each block with its own scratch. */
static void softmax_strided(void *arg, size_t begin, size_t end) {
    const softmax_job *j = arg;
    const softmax_state *s = j->s;
    const size_t n = s->n, inner = s->inner;
    const float beta = s->beta;
    for (size_t blk = begin; blk < end; blk++) {
        char *base = (char *)j->scratch + blk * block_bytes(inner);
        float *m = (float *)base;
        double *sum = (double *)(base + block_bytes(inner) - inner * sizeof(double));
        size_t o0 = s->outer * blk / (size_t)s->blocks;
        size_t o1 = s->outer * (blk + 1) / (size_t)s->blocks;
        for (size_t o = o0; o < o1; o++) {
            const float *x = j->x + o * n * inner;
            float *y = j->y + o * n * inner;
            for (size_t k = 0; k < inner; k++) m[k] = -INFINITY;
            for (size_t a = 0; a < n; a++)
                for (size_t k = 0; k < inner; k++) {
                    float v = beta * x[a * inner + k];
                    m[k] = v > m[k] ? v : m[k];
                }
            for (size_t k = 0; k < inner; k++) {
                if (m[k] == -INFINITY || m[k] != m[k]) m[k] = 0.0f;
                sum[k] = 0.0;
            }
            for (size_t a = 0; a < n; a++) {
                /* y holds the exponentials for now (log-softmax overwrites them) */
                float *ya = y + a * inner;
                const float *xa = x + a * inner;
                for (size_t k = 0; k < inner; k++) ya[k] = qlite_exp_nonpos_f32(beta * xa[k] - m[k]);
                for (size_t k = 0; k < inner; k++) sum[k] += (double)ya[k];
            }
            if (s->log) {
                float *ls = (float *)sum; /* log(sum) replaces the sums in place */
                for (size_t k = 0; k < inner; k++) ls[k] = (float)log(sum[k]);
                for (size_t a = 0; a < n; a++)
                    for (size_t k = 0; k < inner; k++)
                        y[a * inner + k] = (beta * x[a * inner + k] - m[k]) - ls[k];
            } else {
                for (size_t k = 0; k < inner; k++) m[k] = (float)(1.0 / sum[k]);
                for (size_t a = 0; a < n; a++)
                    for (size_t k = 0; k < inner; k++) y[a * inner + k] *= m[k];
            }
        }
    }
}

static qlite_status softmax_eval_f32(qlite_node *node) {
    const softmax_state *s = node->state;
    softmax_job j = {s, node->inputs[0]->data, node->outputs[0]->data, node->scratch};
    if (s->n == 0 || s->outer == 0 || s->inner == 0) return QLITE_OK;
    if (s->inner == 1)
        qlite_kernel_parallel(node, s->outer, s->n * 20, softmax_rows, &j);
    else
        qlite_kernel_parallel(node, (size_t)s->blocks, s->outer * s->n * s->inner * 20 / (size_t)s->blocks,
                              softmax_strided, &j);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_softmax = {.prepare = softmax_prepare,
                                           .eval = qlite_eval_dispatch};
const qlite_kernel qlite_kernel_log_softmax = {.prepare = softmax_prepare,
                                               .eval = qlite_eval_dispatch};
