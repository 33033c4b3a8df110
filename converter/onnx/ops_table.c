/*
 * ops_table.c — the ONNX ops qlite-convert knows, sorted by name (binary
 * search). An op not listed here is rejected with its node name.
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

#define IN(i) (1u << (i))

/* clang-format off */
static const qlc_onnx_op k_ops[] = {
    {"Abs",                qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Add",                qlc_infer_binary,     qlc_fold_generic, qlc_lower_binary, 0},
    {"AveragePool",        qlc_infer_pool,       NULL,             qlc_lower_pool, 0},
    {"BatchNormalization", qlc_infer_batchnorm,  NULL,             qlc_lower_batchnorm, IN(1) | IN(2) | IN(3) | IN(4)},
    {"Cast",               qlc_infer_cast,       qlc_fold_generic, qlc_lower_cast, 0},
    {"Ceil",               qlc_infer_unary,      qlc_fold_generic, NULL, 0},
    {"Clip",               qlc_infer_clip,       NULL,             qlc_lower_clip, IN(1) | IN(2)},
    {"Concat",             qlc_infer_concat,     qlc_fold_generic, qlc_lower_concat, 0},
    {"ConstantOfShape",    qlc_infer_constant_of_shape, qlc_fold_generic, NULL, IN(0)},
    {"Conv",               qlc_infer_conv,       NULL,             qlc_lower_conv, IN(1) | IN(2)},
    {"ConvInteger",        qlc_infer_expanded,   NULL,             qlc_lower_expanded, IN(1) | IN(2) | IN(3)},
    {"ConvTranspose",      qlc_infer_conv_transpose, NULL,         qlc_lower_conv_transpose, IN(1) | IN(2)},
    {"DequantizeLinear",   qlc_infer_dequantize_linear, qlc_fold_dequantize_linear, qlc_lower_dequantize_linear, IN(1) | IN(2)},
    {"Div",                qlc_infer_binary,     qlc_fold_generic, qlc_lower_binary, 0},
    {"Dropout",            qlc_infer_identity,   qlc_fold_generic, qlc_lower_identity, 0},
    {"DynamicQuantizeLinear", qlc_infer_expanded, NULL,            qlc_lower_expanded, 0},
    {"Elu",                qlc_infer_unary,      NULL,             qlc_lower_unary, 0},
    {"Equal",              qlc_infer_compare,    qlc_fold_generic, NULL, 0},
    {"Erf",                qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Exp",                qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Expand",             qlc_infer_expand,     qlc_fold_generic, qlc_lower_expand, IN(1)},
    {"Flatten",            qlc_infer_flatten,    qlc_fold_generic, qlc_lower_flatten, 0},
    {"Floor",              qlc_infer_unary,      qlc_fold_generic, NULL, 0},
    {"GRU",                qlc_infer_rnn,        NULL,             qlc_lower_rnn, IN(1) | IN(2) | IN(3) | IN(4)},
    {"Gather",             qlc_infer_gather,     qlc_fold_generic, qlc_lower_gather, 0},
    {"Gelu",               qlc_infer_unary,      NULL,             qlc_lower_unary, 0},
    {"Gemm",               qlc_infer_gemm,       NULL,             qlc_lower_gemm, 0},
    {"GlobalAveragePool",  qlc_infer_global_pool, NULL,            qlc_lower_global_pool, 0},
    {"GlobalMaxPool",      qlc_infer_global_pool, NULL,            qlc_lower_global_pool, 0},
    {"Greater",            qlc_infer_compare,    qlc_fold_generic, NULL, 0},
    {"HardSigmoid",        qlc_infer_unary,      NULL,             qlc_lower_unary, 0},
    {"HardSwish",          qlc_infer_unary,      NULL,             qlc_lower_unary, 0},
    {"Identity",           qlc_infer_identity,   qlc_fold_generic, qlc_lower_identity, 0},
    {"LSTM",               qlc_infer_rnn,        NULL,             qlc_lower_rnn, IN(1) | IN(2) | IN(3) | IN(4) | IN(7)},
    {"LayerNormalization", qlc_infer_layernorm,  NULL,             qlc_lower_layernorm, IN(1) | IN(2)},
    {"LeakyRelu",          qlc_infer_unary,      NULL,             qlc_lower_unary, 0},
    {"Less",               qlc_infer_compare,    qlc_fold_generic, NULL, 0},
    {"Log",                qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"LogSoftmax",         qlc_infer_softmax,    NULL,             qlc_lower_softmax, 0},
    {"MatMul",             qlc_infer_matmul,     NULL,             qlc_lower_matmul, 0},
    {"MatMulInteger",      qlc_infer_expanded,   NULL,             qlc_lower_expanded, IN(2) | IN(3)},
    {"Max",                qlc_infer_variadic,   qlc_fold_generic, qlc_lower_variadic, 0},
    {"MaxPool",            qlc_infer_pool,       NULL,             qlc_lower_pool, 0},
    {"Mean",               qlc_infer_variadic,   NULL,             qlc_lower_variadic, 0},
    {"Min",                qlc_infer_variadic,   qlc_fold_generic, qlc_lower_variadic, 0},
    {"Mul",                qlc_infer_binary,     qlc_fold_generic, qlc_lower_binary, 0},
    {"Neg",                qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Not",                qlc_infer_unary,      qlc_fold_generic, NULL, 0},
    {"PRelu",              qlc_infer_prelu,      NULL,             qlc_lower_prelu, 0},
    {"Pad",                qlc_infer_pad,        NULL,             qlc_lower_pad, IN(1) | IN(2) | IN(3)},
    {"Pow",                qlc_infer_binary,     qlc_fold_generic, qlc_lower_binary, 0},
    {"QLinearConv",        qlc_infer_expanded,   NULL,             qlc_lower_expanded, IN(1) | IN(2) | IN(3) | IN(4) | IN(5) | IN(6) | IN(7) | IN(8)},
    {"QLinearMatMul",      qlc_infer_expanded,   NULL,             qlc_lower_expanded, IN(1) | IN(2) | IN(4) | IN(5) | IN(6) | IN(7)},
    {"QuantizeLinear",     qlc_infer_quantize_linear, qlc_fold_quantize_linear, qlc_lower_quantize_linear, IN(1) | IN(2)},
    {"Range",              qlc_infer_range,      qlc_fold_generic, NULL, IN(0) | IN(1) | IN(2)},
    {"Reciprocal",         qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"ReduceMax",          qlc_infer_reduce,     NULL,             qlc_lower_reduce, IN(1)},
    {"ReduceMean",         qlc_infer_reduce,     NULL,             qlc_lower_reduce, IN(1)},
    {"ReduceMin",          qlc_infer_reduce,     NULL,             qlc_lower_reduce, IN(1)},
    {"ReduceSum",          qlc_infer_reduce,     NULL,             qlc_lower_reduce, IN(1)},
    {"Relu",               qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Reshape",            qlc_infer_reshape,    qlc_fold_generic, qlc_lower_reshape, IN(1)},
    {"Resize",             qlc_infer_resize,     NULL,             qlc_lower_resize, IN(1) | IN(2) | IN(3)},
    {"Shape",              qlc_infer_shape_op,   qlc_fold_shape,   NULL, 0},
    {"Sigmoid",            qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Size",               qlc_infer_size,       qlc_fold_size,    NULL, 0},
    {"Slice",              qlc_infer_slice,      qlc_fold_generic, qlc_lower_slice, IN(1) | IN(2) | IN(3) | IN(4)},
    {"Softmax",            qlc_infer_softmax,    NULL,             qlc_lower_softmax, 0},
    {"Split",              qlc_infer_split,      qlc_fold_generic, qlc_lower_split, IN(1)},
    {"Sqrt",               qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Squeeze",            qlc_infer_squeeze,    qlc_fold_generic, qlc_lower_squeeze, IN(1)},
    {"Sub",                qlc_infer_binary,     qlc_fold_generic, qlc_lower_binary, 0},
    {"Sum",                qlc_infer_variadic,   qlc_fold_generic, qlc_lower_variadic, 0},
    {"Tanh",               qlc_infer_unary,      qlc_fold_generic, qlc_lower_unary, 0},
    {"Tile",               qlc_infer_tile,       qlc_fold_generic, NULL, IN(1)},
    {"Transpose",          qlc_infer_transpose,  qlc_fold_generic, qlc_lower_transpose, 0},
    {"Unsqueeze",          qlc_infer_unsqueeze,  qlc_fold_generic, qlc_lower_unsqueeze, IN(1)},
    {"Upsample",           qlc_infer_resize,     NULL,             qlc_lower_resize, IN(1)},
    {"Where",              qlc_infer_where,      qlc_fold_generic, NULL, 0},
};
/* clang-format on */

static int cmp(const void *key, const void *e) {
    return strcmp((const char *)key, ((const qlc_onnx_op *)e)->name);
}

const qlc_onnx_op *qlc_onnx_op_find(const char *op_type) {
    if (!op_type) return NULL;
    return bsearch(op_type, k_ops, QLITE_ARRAY_SIZE(k_ops), sizeof k_ops[0], cmp);
}
