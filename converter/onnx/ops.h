/*
 * ops.h — per-ONNX-op knowledge: shape inference, constant folding and
 * lowering to qlite ops (docs/converter.md, "ONNX ops").
 *
 * Each supported ONNX op has one qlc_onnx_op entry (ops_table.c):
 *   infer   sets every output's dtype and shape from the inputs (reading
 *           constant inputs where the op needs them); QLITE_ERR_CORRUPT /
 *           QLITE_ERR_SHAPE naming the node when the inputs do not fit.
 *   fold    (optional) computes the outputs when every input is a constant
 *           and the op is cheap to evaluate here (shape arithmetic, small
 *           tensors); returns QLITE_ERR_UNSUPPORTED to leave the node alone.
 *   lower   (NULL = the op is only ever folded away) replaces the ONNX node
 *           with qlite ops in ONNX's layout (NCHW); convolutions, pools and
 *           resizes get NCHW<->NHWC transposes around them, which the layout
 *           pass later moves and cancels. Output tensors keep their index.
 *   const_inputs  bit i: input i must be a constant for lowering (shape,
 *           axes, pads, ...). The conformance runner freezes such graph
 *           inputs from test data.
 */
#ifndef QLITE_CONVERTER_ONNX_OPS_H
#define QLITE_CONVERTER_ONNX_OPS_H

#include "ir.h"

typedef struct qlc_onnx_op {
    const char *name;
    qlite_status (*infer)(qlc_graph *g, qlc_node *n);
    qlite_status (*fold)(qlc_graph *g, qlc_node *n);
    qlite_status (*lower)(qlc_graph *g, qlc_node *n);
    uint32_t const_inputs;
} qlc_onnx_op;

/* The entry for an op type, or NULL when qlite does not know the op. */
const qlc_onnx_op *qlc_onnx_op_find(const char *op_type);

/* ---- helpers shared by the ops_*.c files ------------------------------------------ */

/* Input i's tensor, or NULL when absent. */
static inline qlc_tensor *qlc_in_t(const qlc_graph *g, const qlc_node *n, uint32_t i) {
    int32_t t = qlc_in(n, i);
    return t >= 0 ? g->tensors[t] : NULL;
}
/* Output i's tensor, or NULL when absent. */
static inline qlc_tensor *qlc_out_t(const qlc_graph *g, const qlc_node *n, uint32_t i) {
    return i < n->num_outputs && n->outputs[i] >= 0 ? g->tensors[n->outputs[i]] : NULL;
}

/* Checks that input i exists and has a known shape (QLITE_ERR_CORRUPT otherwise). */
qlite_status qlc_need_input(const qlc_graph *g, const qlc_node *n, uint32_t i);
/* Reads constant input i as int64 values (malloc'd into *vals). Absent input:
 * *count = 0, *vals = NULL, QLITE_OK when optional, else an error. */
qlite_status qlc_const_ints(const qlc_graph *g, const qlc_node *n, uint32_t i, bool optional,
                            int64_t **vals, size_t *count);
/* Reads constant input i as floats. */
qlite_status qlc_const_floats(const qlc_graph *g, const qlc_node *n, uint32_t i, bool optional,
                              float **vals, size_t *count);
/* Normalizes an axis into [0, rank) (QLITE_ERR_CORRUPT naming the node when out of range). */
qlite_status qlc_norm_axis(const qlc_node *n, int64_t axis, int32_t rank, int32_t *out);
/* Numpy broadcast of two shapes (-1 = dynamic batch broadcasts with 1 and itself). */
qlite_status qlc_broadcast(const qlc_node *n, int32_t ra, const int64_t *a, int32_t rb,
                           const int64_t *b, int32_t *rout, int64_t *out);
/* Sets output i's dtype and shape. */
void qlc_set_out(qlc_graph *g, qlc_node *n, uint32_t i, qlite_dtype dt, int32_t rank,
                 const int64_t *shape);

/* Makes output `out_slot` of a lowered graph: adds a fresh activation tensor
 * named after base with suffix, returns its index (or -1). */
int32_t qlc_new_act(qlc_graph *g, int32_t base, const char *suffix, qlite_dtype dt, int32_t rank,
                    const int64_t *shape);
/* Adds TRANSPOSE(in, perm) writing `out` (or a new tensor when out < 0) and
 * returns the output tensor (-1 on failure). */
int32_t qlc_emit_transpose(qlc_graph *g, const char *name, const char *op_type, int32_t in,
                           const int32_t *perm, int32_t out);
/* Adds RESHAPE(in) to `shape` (dim 0 -1 for a dynamic batch) writing out (or new). */
int32_t qlc_emit_reshape(qlc_graph *g, const char *name, const char *op_type, int32_t in,
                         int32_t rank, const int64_t *shape, int32_t out);
/* perm taking an NCHW-like tensor of rank r to NHWC ([0,2,..,r-1,1]) and back. */
void qlc_perm_to_nhwc(int32_t r, int32_t *perm);
void qlc_perm_to_nchw(int32_t r, int32_t *perm);
/* out[i] = in[perm[i]] */
void qlc_permute_shape(int32_t r, const int64_t *in, const int32_t *perm, int64_t *out);
/* Transposes a constant's data: returns malloc'd bytes of the permuted tensor. */
void *qlc_transpose_data(const void *data, size_t esize, int32_t rank, const int64_t *shape,
                         const int32_t *perm);

/* infer/fold/lower functions per family (ops_*.c) */
#define QLC_OP_FUNCS(x)                                                         \
    qlite_status qlc_infer_##x(qlc_graph *g, qlc_node *n);                       \
    qlite_status qlc_lower_##x(qlc_graph *g, qlc_node *n);

QLC_OP_FUNCS(unary)
QLC_OP_FUNCS(binary)
QLC_OP_FUNCS(variadic)
QLC_OP_FUNCS(clip)
QLC_OP_FUNCS(softmax)
QLC_OP_FUNCS(cast)
QLC_OP_FUNCS(prelu)
QLC_OP_FUNCS(conv)
QLC_OP_FUNCS(conv_transpose)
QLC_OP_FUNCS(pool)
QLC_OP_FUNCS(global_pool)
QLC_OP_FUNCS(gemm)
QLC_OP_FUNCS(matmul)
QLC_OP_FUNCS(batchnorm)
QLC_OP_FUNCS(layernorm)
QLC_OP_FUNCS(reshape)
QLC_OP_FUNCS(flatten)
QLC_OP_FUNCS(squeeze)
QLC_OP_FUNCS(unsqueeze)
QLC_OP_FUNCS(transpose)
QLC_OP_FUNCS(concat)
QLC_OP_FUNCS(split)
QLC_OP_FUNCS(slice)
QLC_OP_FUNCS(pad)
QLC_OP_FUNCS(gather)
QLC_OP_FUNCS(reduce)
QLC_OP_FUNCS(resize)
QLC_OP_FUNCS(rnn)
QLC_OP_FUNCS(identity)

/* Slice's starts / ends / axes / steps (attributes before opset 10, inputs
 * after), normalized against the input shape by ONNX's clamping rules; axes
 * that keep the whole dim are left out. oshape gets the output shape
 * (QLITE_MAX_RANK entries). Shared by Slice's inference, lowering and
 * folding (ops_shape.c, ops_fold.c). */
typedef struct qlc_slice_spec {
    uint32_t count;
    int32_t axes[QLITE_MAX_RANK];
    int64_t starts[QLITE_MAX_RANK], ends[QLITE_MAX_RANK], steps[QLITE_MAX_RANK];
} qlc_slice_spec;
qlite_status qlc_slice_read(qlc_graph *g, qlc_node *n, qlc_slice_spec *sp, int64_t *oshape);

qlite_status qlc_infer_shape_op(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_size(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_constant_of_shape(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_range(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_expand(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_compare(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_where(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_tile(qlc_graph *g, qlc_node *n);
qlite_status qlc_lower_expand(qlc_graph *g, qlc_node *n);

/* QuantizeLinear / DequantizeLinear (ops_quant.c) */
qlite_status qlc_infer_quantize_linear(qlc_graph *g, qlc_node *n);
qlite_status qlc_fold_quantize_linear(qlc_graph *g, qlc_node *n);
qlite_status qlc_lower_quantize_linear(qlc_graph *g, qlc_node *n);
qlite_status qlc_infer_dequantize_linear(qlc_graph *g, qlc_node *n);
qlite_status qlc_fold_dequantize_linear(qlc_graph *g, qlc_node *n);
qlite_status qlc_lower_dequantize_linear(qlc_graph *g, qlc_node *n);
/* QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, DynamicQuantizeLinear
 * are rewritten into standard ops before shape inference
 * (passes/expand_quant.c); reaching inference unexpanded is an error. */
qlite_status qlc_infer_expanded(qlc_graph *g, qlc_node *n);
qlite_status qlc_lower_expanded(qlc_graph *g, qlc_node *n);

/* folds (ops_fold.c) */
qlite_status qlc_fold_shape(qlc_graph *g, qlc_node *n);
qlite_status qlc_fold_size(qlc_graph *g, qlc_node *n);
qlite_status qlc_fold_generic(qlc_graph *g, qlc_node *n);

#endif /* QLITE_CONVERTER_ONNX_OPS_H */
