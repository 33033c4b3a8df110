/*
 * reshape.c — RESHAPE (any dtype): ReshapeOptions.new_shape, where one -1 is
 * inferred from the element count (a dynamic batch, or Flatten's rest) and
 * every other entry is taken literally (the converter resolves ONNX's 0 =
 * "copy this dim"). The output aliases the input's bytes (zero-copy): the
 * planner gives them one place; eval copies only if it was not given that.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

static qlite_status reshape_prepare(qlite_node *node) {
    /* a second input (ONNX's shape tensor) may be present; the options hold the shape */
    qlite_status st = qlite_node_check_io(node, 1, 2, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    if (!qlite_node_shape_op_elem(node, x, y, &st)) return st;
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_RESHAPE)) != QLITE_OK) return st;
    const qlite_reshape_options *o = &node->opts->u.reshape;
    if (o->rank > QLITE_MAX_RANK || (o->rank > 0 && !o->new_shape))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "new_shape of rank %u is not valid",
                                o->rank);
    int64_t dims[QLITE_MAX_RANK];
    int infer = -1;
    uint64_t known = 1;
    for (uint32_t i = 0; i < o->rank; i++) {
        int64_t d = o->new_shape[i];
        if (d == -1) {
            if (infer >= 0)
                return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                        "new_shape has more than one -1");
            infer = (int)i;
            d = 1;
        } else if (d < 0 || d > INT32_MAX) {
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "new_shape[%u] is %lld", i,
                                    (long long)d);
        }
        if (qlite_mul_overflow_u64(known, (uint64_t)d, &known))
            return qlite_node_error(node, QLITE_ERR_SHAPE, "new_shape overflows");
        dims[i] = d;
    }
    const uint64_t n = qlite_tensor_elements(x);
    char sx[QLITE_SHAPE_STR_MAX], sn[QLITE_SHAPE_STR_MAX];
    if (infer >= 0) {
        if (known == 0 || n % known != 0)
            return qlite_node_error(node, QLITE_ERR_SHAPE, "cannot reshape %s into %s",
                                    qlite_shape_str(x->rank, x->dims, sx, sizeof sx),
                                    qlite_shape_str(o->rank, o->new_shape, sn, sizeof sn));
        dims[infer] = (int64_t)(n / known);
        known = n;
    }
    if (known != n)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "cannot reshape %s (%llu elements) into %s",
                                qlite_shape_str(x->rank, x->dims, sx, sizeof sx),
                                (unsigned long long)n,
                                qlite_shape_str(o->rank, o->new_shape, sn, sizeof sn));
    return qlite_node_set_output_shape(node, 0, o->rank, dims);
}

static qlite_status reshape_eval(qlite_node *node) {
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    if (y->data != x->data && x->bytes) memmove(y->data, x->data, x->bytes);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_reshape = {
    .prepare = reshape_prepare, .eval = reshape_eval, .output_aliases_input = true};
