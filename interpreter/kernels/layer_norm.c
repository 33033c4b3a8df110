/*
 * layer_norm.c — float32 LAYER_NORM: inputs x, gamma, beta (optional);
 * NormOptions axis (normalize over dims axis..last) and epsilon.
 * gamma and beta hold one value per normalized element: shape x.shape[axis:]
 * (or any shape with that many elements, e.g. flattened).
 *
 * Per row of n = prod(x.shape[axis:]) values (two passes, double accumulators,
 * so a large common offset does not cost precision the way E[x^2] - E[x]^2
 * would):
 *   1. mean = sum(x) / n
 *   2. var  = sum((x - mean)^2) / n
 *   3. y    = (x - mean) * (1 / sqrt(var + eps)) * gamma + beta
 * Rows are independent and split over threads. On x86 with AVX-512 / AVX2+FMA
 * the row of softmax_f32_x86.c is used instead (chosen at prepare; see there
 * for its precision); the loop here is the fallback. An int8 / uint8 input goes to
 * layer_norm_q8.c (kernels_q8.h) once the shared options and shapes are read.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"
#include "kernels/softmax_f32.h"

static qlite_status ln_eval(qlite_node *node);

typedef struct ln_state {
    qlite_eval_fn eval; /* first: qlite_eval_dispatch */
    size_t rows, n;
    float eps;
    layer_norm_f32_row_fn row; /* vector row or NULL */
} ln_state;

static qlite_status ln_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 2, 3, 2, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *g = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    const bool q8 = qlite_is_q8(x->dtype);
    if (q8) {
        /* layer_norm_q8.c checks the dtypes and parameters */
    } else if ((st = qlite_node_check_dtype(node, x, "input", QLITE_DTYPE_FLOAT32)) != QLITE_OK ||
        (st = qlite_node_check_dtype(node, g, "gamma", QLITE_DTYPE_FLOAT32)) != QLITE_OK ||
        (b && (st = qlite_node_check_dtype(node, b, "beta", QLITE_DTYPE_FLOAT32)) != QLITE_OK) ||
        (st = qlite_node_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) !=
            QLITE_OK)
        return st;
    /* no options: the schema defaults (axis -1, epsilon 1e-5) */
    qlite_norm_options o_default = {.axis = -1, .epsilon = 1e-5f};
    const qlite_norm_options *o = &o_default;
    if (node->opts->type == QLITE_OPTIONS_NORM) o = &node->opts->u.norm;
    else if (node->opts->type != QLITE_OPTIONS_NONE)
        return qlite_node_check_options(node, QLITE_OPTIONS_NORM);
    uint32_t ax;
    if (x->rank == 0 || !qlite_normalize_axis(o->axis, x->rank, &ax))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "axis %d is out of range for rank %u", o->axis, x->rank);
    if (!(o->epsilon >= 0.0f) || isinf(o->epsilon))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "epsilon %g is not valid",
                                (double)o->epsilon);
    size_t n = 1, rows = 1;
    for (uint32_t i = 0; i < x->rank; i++) {
        if (i < ax) rows *= (size_t)x->dims[i];
        else n *= (size_t)x->dims[i];
    }
    if (qlite_tensor_elements(g) != n || (b && qlite_tensor_elements(b) != n)) {
        char sh[QLITE_SHAPE_STR_MAX];
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "gamma/beta must have %zu elements (shape %s), gamma has %zu", n,
                                qlite_shape_str(x->rank - ax, x->dims + ax, sh, sizeof sh),
                                qlite_tensor_elements(g));
    }
    if (q8) return qlite_layer_norm_q8_prepare(node, rows, n, o->epsilon);
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    ln_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = ln_eval;
    s->rows = rows;
    s->n = n;
    s->eps = o->epsilon;
    s->row = qlite_layer_norm_f32_row_simd();
    node->state = s;
    return QLITE_OK;
}

typedef struct ln_job {
    const ln_state *s;
    const float *x, *g, *b;
    float *y;
} ln_job;

static void ln_rows(void *arg, size_t begin, size_t end) {
    const ln_job *j = arg;
    const size_t n = j->s->n;
    if (j->s->row) {
        for (size_t r = begin; r < end; r++)
            j->s->row(j->x + r * n, j->y + r * n, n, j->g, j->b, j->s->eps);
        return;
    }
    for (size_t r = begin; r < end; r++) {
        const float *x = j->x + r * n;
        float *y = j->y + r * n;
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) sum += (double)x[i];
        const double mean = sum / (double)n;
        double sq = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)x[i] - mean;
            sq += d * d;
        }
        const double rstd = 1.0 / sqrt(sq / (double)n + (double)j->s->eps);
        /* centre and scale in double (one rounding), then the affine part in float */
        for (size_t i = 0; i < n; i++) {
            float v = (float)(((double)x[i] - mean) * rstd);
            y[i] = j->b ? v * j->g[i] + j->b[i] : v * j->g[i];
        }
    }
}

static qlite_status ln_eval(qlite_node *node) {
    const ln_state *s = node->state;
    if (s->n == 0) return QLITE_OK;
    const qlite_tensor *b = qlite_node_input(node, 2);
    ln_job j = {s, node->inputs[0]->data, node->inputs[1]->data, b ? b->data : NULL,
                node->outputs[0]->data};
    qlite_kernel_parallel(node, s->rows, s->n * 8, ln_rows, &j);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_layer_norm = {.prepare = ln_prepare,
                                              .eval = qlite_eval_dispatch};
