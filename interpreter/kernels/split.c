/*
 * split.c — SPLIT (any byte-addressable dtype) of one input into N outputs
 * along SplitOptions.axis with SplitOptions.sizes (one per output, summing to
 * the axis size; no sizes = equal parts, which must divide the axis).
 * Viewed as [outer, axis * inner]: each output row is one memcpy.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

typedef struct split_state {
    size_t outer, in_row;    /* bytes of one input row */
    size_t *out_row;         /* [num_outputs] bytes of each output's row */
} split_state;

static qlite_status split_prepare(qlite_node *node) {
    if (node->num_outputs < 1)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "expects at least 1 output");
    qlite_status st = qlite_node_check_io(node, 1, 2, 1, node->num_outputs);
    if (st != QLITE_OK) return st;
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_SPLIT)) != QLITE_OK) return st;
    const qlite_split_options *o = &node->opts->u.split;
    const qlite_tensor *x = node->inputs[0];
    size_t elem = 0;
    for (uint32_t k = 0; k < node->num_outputs; k++)
        if (!(elem = qlite_node_shape_op_elem(node, x, node->outputs[k], &st))) return st;
    uint32_t ax;
    if (x->rank == 0 || !qlite_normalize_axis(o->axis, x->rank, &ax))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "axis %d is out of range for rank %u", o->axis, x->rank);
    const int64_t d = x->dims[ax];
    const uint32_t n = node->num_outputs;
    if (o->count != 0 && (o->count != n || !o->sizes))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%u split sizes for %u outputs", o->count, n);
    if (o->count == 0 && d % n != 0)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "axis size %lld does not split into %u equal parts", (long long)d,
                                n);
    int64_t sum = 0;
    for (uint32_t k = 0; k < n; k++) {
        int64_t sz = o->count ? o->sizes[k] : d / n;
        if (sz < 0 || sz > d)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "split size %u is %lld", k,
                                    (long long)sz);
        sum += sz;
    }
    if (sum != d)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "split sizes sum to %lld but the axis has %lld", (long long)sum,
                                (long long)d);
    split_state *s = qlite_node_alloc(node, sizeof *s + n * sizeof(size_t));
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->out_row = (size_t *)(s + 1);
    size_t inner = elem;
    s->outer = 1;
    for (uint32_t i = 0; i < ax; i++) s->outer *= (size_t)x->dims[i];
    for (uint32_t i = ax + 1; i < x->rank; i++) inner *= (size_t)x->dims[i];
    s->in_row = (size_t)d * inner;
    for (uint32_t k = 0; k < n; k++) {
        int64_t dims[QLITE_MAX_RANK];
        memcpy(dims, x->dims, sizeof dims);
        dims[ax] = o->count ? o->sizes[k] : d / n;
        if ((st = qlite_node_set_output_shape(node, k, x->rank, dims)) != QLITE_OK) return st;
        s->out_row[k] = (size_t)dims[ax] * inner;
    }
    node->state = s;
    return QLITE_OK;
}

static qlite_status split_eval(qlite_node *node) {
    const split_state *s = node->state;
    const char *in = node->inputs[0]->data;
    size_t col = 0;
    for (uint32_t k = 0; k < node->num_outputs; k++) {
        const size_t n = s->out_row[k];
        char *out = node->outputs[k]->data;
        if (n == 0) continue;
        for (size_t o = 0; o < s->outer; o++) memcpy(out + o * n, in + o * s->in_row + col, n);
        col += n;
    }
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_split = {.prepare = split_prepare, .eval = split_eval};
