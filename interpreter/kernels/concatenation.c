/*
 * concatenation.c — CONCATENATION of any number of inputs along
 * ConcatenationOptions.axis (any byte-addressable dtype; all inputs and the
 * output share it). Viewed as [outer, axis * inner], each output row is the
 * inputs' rows one after another: one memcpy per input per row (concat along
 * the last axis is rows of C_i values each).
 *
 * Quantized int8/uint8 (docs/quantization.md §4.8): an input whose scale and
 * zero point equal the output's is copied; any other is rescaled through a
 * 256-entry table made at prepare, table[x] = clamp(zy + requantize(x - zx,
 * sx / sy)). A fused activation is a float clamp for float32 and, for
 * int8/uint8, the integer clamp of §3.1 folded into every input's table.
 * Other integer dtypes must have equal quantization on every input and the
 * output, and no fused activation.
 */
#include <stdio.h>
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"

typedef struct concat_state {
    size_t outer, out_row;   /* bytes of one output row */
    size_t elem;
    float lo, hi;
    bool clamp;
    size_t *in_row;          /* [num_inputs] bytes of each input's row */
    uint8_t **table;         /* [num_inputs] int8/uint8 rescale table, NULL = copy */
} concat_state;

/* int8/uint8: a rescale table for each input that needs one (see the top comment). */
static qlite_status concat_q8_tables(qlite_node *node, concat_state *s, qlite_activation act) {
    qlite_status st;
    qlite_q8 qy;
    const qlite_tensor *y = node->outputs[0];
    if ((st = qlite_q8_params(node, y, "output", &qy)) != QLITE_OK) return st;
    int32_t lo, hi;
    qlite_activation_qrange(act, qy.scale, qy.zero_point, y->dtype, &lo, &hi);
    for (uint32_t k = 0; k < node->num_inputs; k++) {
        qlite_q8 qx;
        char what[32];
        snprintf(what, sizeof what, "input %u", k);
        if ((st = qlite_q8_params(node, node->inputs[k], what, &qx)) != QLITE_OK) return st;
        if (act == QLITE_ACT_NONE && qx.scale == qy.scale && qx.zero_point == qy.zero_point)
            continue;
        s->table[k] = qlite_node_alloc(node, 256);
        if (!s->table[k]) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        snprintf(what, sizeof what, "input %u / output", k);
        if ((st = qlite_q8_rescale_table(node, s->table[k], &qx, &qy, lo, hi, what)) != QLITE_OK)
            return st;
    }
    return QLITE_OK;
}

static qlite_status concat_prepare(qlite_node *node) {
    if (node->num_inputs < 1 || node->num_outputs != 1 || !node->outputs[0])
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "expects at least 1 input and 1 output");
    qlite_status st;
    if ((st = qlite_node_check_io(node, node->num_inputs, node->num_inputs, node->num_inputs, 1)) !=
        QLITE_OK)
        return st;
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_CONCATENATION)) != QLITE_OK) return st;
    const qlite_concatenation_options *o = &node->opts->u.concatenation;
    const qlite_tensor *x0 = node->inputs[0];
    const size_t elem = qlite_dtype_size(x0->dtype);
    if (!elem)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "dtype %s is not supported",
                                qlite_dtype_name(x0->dtype));
    const qlite_quant *oq = node->outputs[0]->info->quant;
    const bool q8 = qlite_is_q8(x0->dtype) && oq && oq->count > 0;
    for (uint32_t k = 0; k < node->num_inputs; k++) {
        char what[32];
        snprintf(what, sizeof what, "input %u", k);
        if ((st = qlite_node_check_same_dtype(node, x0, "input 0", node->inputs[k], what)) !=
            QLITE_OK)
            return st;
        if (!q8 && (st = qlite_node_check_same_qparams(node, node->inputs[k], what,
                                                       node->outputs[0], "output")) != QLITE_OK)
            return st;
    }
    if ((st = qlite_node_check_same_dtype(node, x0, "input 0", node->outputs[0], "output")) !=
        QLITE_OK)
        return st;
    uint32_t ax;
    if (x0->rank == 0 || !qlite_normalize_axis(o->axis, x0->rank, &ax))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "axis %d is out of range for rank %u", o->axis, x0->rank);
    if ((unsigned)o->activation >= QLITE_ACT_COUNT ||
        (o->activation != QLITE_ACT_NONE && x0->dtype != QLITE_DTYPE_FLOAT32 && !q8))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "fused activation %d on %s is not supported", (int)o->activation,
                                qlite_dtype_name(x0->dtype));
    int64_t dims[QLITE_MAX_RANK];
    memcpy(dims, x0->dims, sizeof dims);
    dims[ax] = 0;
    char s0[QLITE_SHAPE_STR_MAX], si[QLITE_SHAPE_STR_MAX];
    for (uint32_t k = 0; k < node->num_inputs; k++) {
        const qlite_tensor *x = node->inputs[k];
        bool ok = x->dtype == x0->dtype && x->rank == x0->rank;
        for (uint32_t i = 0; ok && i < x->rank; i++) ok = i == ax || x->dims[i] == x0->dims[i];
        if (!ok)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "input %u (%s %s) does not match input 0 (%s %s) off axis %u",
                                    k, qlite_dtype_name(x->dtype),
                                    qlite_shape_str(x->rank, x->dims, si, sizeof si),
                                    qlite_dtype_name(x0->dtype),
                                    qlite_shape_str(x0->rank, x0->dims, s0, sizeof s0), ax);
        dims[ax] += x->dims[ax];
        if (dims[ax] > INT32_MAX)
            return qlite_node_error(node, QLITE_ERR_SHAPE, "concatenated axis is too large");
    }
    if ((st = qlite_node_set_output_shape(node, 0, x0->rank, dims)) != QLITE_OK) return st;
    concat_state *s = qlite_node_alloc(
        node, sizeof *s + node->num_inputs * (sizeof(size_t) + sizeof(uint8_t *)));
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->in_row = (size_t *)(s + 1);
    s->table = (uint8_t **)(s->in_row + node->num_inputs); /* zeroed: all copies */
    size_t inner = elem;
    s->outer = 1;
    for (uint32_t i = 0; i < ax; i++) s->outer *= (size_t)dims[i];
    for (uint32_t i = ax + 1; i < x0->rank; i++) inner *= (size_t)dims[i];
    s->out_row = (size_t)dims[ax] * inner;
    for (uint32_t k = 0; k < node->num_inputs; k++)
        s->in_row[k] = (size_t)node->inputs[k]->dims[ax] * inner;
    s->elem = elem;
    s->clamp = o->activation != QLITE_ACT_NONE && !q8;
    qlite_activation_range_f32(o->activation, &s->lo, &s->hi);
    if (q8 && (st = concat_q8_tables(node, s, o->activation)) != QLITE_OK) return st;
    node->state = s;
    return QLITE_OK;
}

static qlite_status concat_eval(qlite_node *node) {
    const concat_state *s = node->state;
    char *out = node->outputs[0]->data;
    size_t col = 0;
    for (uint32_t k = 0; k < node->num_inputs; k++) {
        const size_t n = s->in_row[k];
        const char *in = node->inputs[k]->data;
        if (n == 0) continue;
        const uint8_t *t = s->table[k];
        if (t) {
            const uint8_t *src = (const uint8_t *)in;
            for (size_t o = 0; o < s->outer; o++) {
                uint8_t *dst = (uint8_t *)out + o * s->out_row + col;
                for (size_t i = 0; i < n; i++) dst[i] = t[src[o * n + i]];
            }
        } else {
            for (size_t o = 0; o < s->outer; o++)
                memcpy(out + o * s->out_row + col, in + o * n, n);
        }
        col += n;
    }
    if (s->clamp) {
        float *y = (float *)(void *)out;
        const size_t total = s->outer * s->out_row / sizeof(float);
        for (size_t i = 0; i < total; i++) y[i] = qlite_clampf(y[i], s->lo, s->hi);
    }
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_concatenation = {.prepare = concat_prepare, .eval = concat_eval};
