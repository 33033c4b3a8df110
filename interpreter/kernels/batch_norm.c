/*
 * batch_norm.c — float32 BATCH_NORM (inference): inputs x, scale, bias,
 * mean, var, each of the last four [C] with C = x's last dim (channels last);
 * NormOptions epsilon.
 *   y = (x - mean) / sqrt(var + eps) * scale + bias  ==  x * a[c] + b[c]
 * with a = scale / sqrt(var + eps) and b = bias - mean * a computed in double:
 * once at prepare when the four parameters are constants (the usual case),
 * otherwise at each eval into scratch. The per-element loop is a
 * multiply-add over rows of C, split over threads.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

typedef struct bn_state {
    size_t rows, c;
    float eps;
    float *ab;          /* [2][C] when the parameters are constant, else NULL */
} bn_state;

static void bn_fold(const bn_state *s, const float *scale, const float *bias, const float *mean,
                    const float *var, float *ab) {
    for (size_t k = 0; k < s->c; k++) {
        double a = (double)scale[k] / sqrt((double)var[k] + (double)s->eps);
        ab[k] = (float)a;
        ab[s->c + k] = (float)((double)bias[k] - (double)mean[k] * a);
    }
}

static qlite_status bn_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 5, 5, 5, 1);
    if (st != QLITE_OK) return st;
    static const char *const names[5] = {"input", "scale", "bias", "mean", "var"};
    for (uint32_t i = 0; i < 5; i++)
        if ((st = qlite_node_check_dtype(node, node->inputs[i], names[i], QLITE_DTYPE_FLOAT32)) !=
            QLITE_OK)
            return st;
    if ((st = qlite_node_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) !=
        QLITE_OK)
        return st;
    float eps = 1e-5f;
    if (node->opts->type == QLITE_OPTIONS_NORM) eps = node->opts->u.norm.epsilon;
    else if (node->opts->type != QLITE_OPTIONS_NONE)
        return qlite_node_check_options(node, QLITE_OPTIONS_NORM);
    if (!(eps >= 0.0f) || isinf(eps))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "epsilon %g is not valid",
                                (double)eps);
    const qlite_tensor *x = node->inputs[0];
    if (x->rank < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "input must have a channel dim");
    const size_t c = (size_t)x->dims[x->rank - 1];
    for (uint32_t i = 1; i < 5; i++) {
        const qlite_tensor *p = node->inputs[i];
        if (qlite_tensor_elements(p) != c || p->rank > 1)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "%s ('%s') must be [%zu] (the input's last dim)", names[i],
                                    p->info->name, c);
    }
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    bn_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->c = c;
    s->rows = c ? qlite_tensor_elements(x) / c : 0;
    s->eps = eps;
    bool all_const = true;
    for (uint32_t i = 1; i < 5; i++) all_const = all_const && node->inputs[i]->is_const;
    if (all_const) {
        s->ab = qlite_node_alloc(node, 2 * c * sizeof(float));
        if (!s->ab) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        bn_fold(s, node->inputs[1]->data, node->inputs[2]->data, node->inputs[3]->data,
                node->inputs[4]->data, s->ab);
    } else {
        node->scratch_bytes = 2 * c * sizeof(float);
    }
    node->state = s;
    return QLITE_OK;
}

typedef struct bn_job {
    const bn_state *s;
    const float *x, *ab;
    float *y;
} bn_job;

static void bn_rows(void *arg, size_t begin, size_t end) {
    const bn_job *j = arg;
    const size_t c = j->s->c;
    const float *a = j->ab, *b = j->ab + c;
    for (size_t r = begin; r < end; r++) {
        const float *x = j->x + r * c;
        float *y = j->y + r * c;
        for (size_t k = 0; k < c; k++) y[k] = x[k] * a[k] + b[k];
    }
}

static qlite_status bn_eval(qlite_node *node) {
    const bn_state *s = node->state;
    const float *ab = s->ab;
    if (!ab) {
        bn_fold(s, node->inputs[1]->data, node->inputs[2]->data, node->inputs[3]->data,
                node->inputs[4]->data, node->scratch);
        ab = node->scratch;
    }
    bn_job j = {s, node->inputs[0]->data, ab, node->outputs[0]->data};
    qlite_kernel_parallel(node, s->rows, s->c * 2, bn_rows, &j);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_batch_norm = {.prepare = bn_prepare, .eval = bn_eval};
