/*
 * slice.c — SLICE (any byte-addressable dtype) with ONNX semantics:
 * SliceOptions starts/ends/axes/steps (axes absent = 0..count-1, steps
 * absent = 1). Per sliced axis of size d, with step s != 0:
 *   1. negative start/end count from the end: start += d, end += d;
 *   2. s > 0: start, end clamped to [0, d];  s < 0: start to [0, d-1],
 *      end to [-1, d-1] (so INT64_MAX / INT64_MIN ends mean "to the edge");
 *   3. length = max(0, ceil((end - start) / s)).
 * The result is a strided copy (kernel_util.h): source stride stride*s
 * (negative for reversed axes), offset at the starts; contiguous inner runs
 * are copied with memcpy.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

static qlite_status slice_prepare(qlite_node *node) {
    /* ONNX's starts/ends/axes/steps inputs may be present; the options hold them */
    qlite_status st = qlite_node_check_io(node, 1, 5, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    size_t elem = qlite_node_shape_op_elem(node, x, node->outputs[0], &st);
    if (!elem) return st;
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_SLICE)) != QLITE_OK) return st;
    const qlite_slice_options *o = &node->opts->u.slice;
    if (o->count > x->rank || (o->count > 0 && (!o->starts || !o->ends)))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%u sliced axes for an input of rank %u", o->count, x->rank);
    int64_t start[QLITE_MAX_RANK], step[QLITE_MAX_RANK], len[QLITE_MAX_RANK];
    bool seen[QLITE_MAX_RANK] = {false};
    for (uint32_t i = 0; i < x->rank; i++) start[i] = 0, step[i] = 1, len[i] = x->dims[i];
    for (uint32_t k = 0; k < o->count; k++) {
        int64_t axis_raw = o->axes ? o->axes[k] : (int64_t)k;
        uint32_t a;
        if (!qlite_normalize_axis(axis_raw, x->rank, &a))
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "axis %lld is out of range for rank %u", (long long)axis_raw,
                                    x->rank);
        if (seen[a])
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "axis %u is sliced twice", a);
        seen[a] = true;
        const int64_t d = x->dims[a];
        const int64_t s = o->steps ? o->steps[k] : 1;
        if (s == 0) return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "step %u is 0", k);
        int64_t b = o->starts[k], e = o->ends[k];
        if (b < 0) b += d; /* no overflow: d >= 0 */
        if (e < 0) e += d;
        uint64_t diff;
        if (s > 0) {
            b = clamp64(b, 0, d);
            e = clamp64(e, 0, d);
            diff = e > b ? (uint64_t)(e - b) : 0;
        } else {
            b = clamp64(b, 0, d - 1);
            e = clamp64(e, -1, d - 1);
            diff = b > e ? (uint64_t)(b - e) : 0;
        }
        const uint64_t us = s > 0 ? (uint64_t)s : (uint64_t)0 - (uint64_t)s;
        len[a] = d == 0 || diff == 0 ? 0 : (int64_t)(1 + (diff - 1) / us);
        start[a] = len[a] ? b : 0;
        step[a] = len[a] > 1 ? s : 1; /* |s| < d when there are 2+ elements: no overflow */
    }
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, len)) != QLITE_OK) return st;
    qlite_strided *p = qlite_node_alloc(node, sizeof *p);
    if (!p) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    int64_t in_strides[QLITE_MAX_RANK];
    qlite_shape_strides(x->rank, x->dims, in_strides);
    p->rank = x->rank;
    p->elem = elem;
    p->offset = 0;
    for (uint32_t i = 0; i < x->rank; i++) {
        p->dims[i] = len[i];
        p->stride[i] = in_strides[i] * step[i];
        p->offset += start[i] * in_strides[i];
    }
    qlite_strided_finish(p);
    node->state = p;
    return QLITE_OK;
}

static qlite_status slice_eval(qlite_node *node) {
    qlite_strided_copy(node->state, node->inputs[0]->data, node->outputs[0]->data);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_slice = {.prepare = slice_prepare, .eval = slice_eval};
