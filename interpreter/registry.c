/*
 * registry.c — op code -> kernel. One line per op; an op without a line has
 * no kernel and fails at interpreter creation with its name.
 * Kernels are named qlite_kernel_<op code in lower case>, defined in
 * kernels/<file>.c and declared in kernels/kernels.h. FULLY_CONNECTED,
 * CONV_2D and BATCH_MATMUL go through kernels/nn_sparse.h, which adds the
 * kernels that read sparse / clustered weights in place and hands every
 * other node to the dense kernel.
 */
#include "kernel.h"
#include "kernels/kernels.h"
#include "kernels/nn_sparse.h"

const qlite_kernel *const qlite_kernel_registry[QLITE_OP_COUNT] = {
    [QLITE_OP_TRANSPOSE_CONV_2D] = &qlite_kernel_transpose_conv_2d,
    [QLITE_OP_RESIZE] = &qlite_kernel_resize,
    [QLITE_OP_LSTM] = &qlite_kernel_lstm,
    [QLITE_OP_GRU] = &qlite_kernel_gru,
    [QLITE_OP_BATCH_MATMUL] = &qlite_kernel_batch_matmul_or_sparse,
    [QLITE_OP_MAX_POOL_2D] = &qlite_kernel_max_pool_2d,
    [QLITE_OP_AVERAGE_POOL_2D] = &qlite_kernel_average_pool_2d,
    [QLITE_OP_CONV_2D] = &qlite_kernel_conv_2d_or_sparse,
    [QLITE_OP_DEPTHWISE_CONV_2D] = &qlite_kernel_depthwise_conv_2d,
    [QLITE_OP_FULLY_CONNECTED] = &qlite_kernel_fully_connected_or_sparse,
    [QLITE_OP_ADD] = &qlite_kernel_add,
    [QLITE_OP_SUB] = &qlite_kernel_sub,
    [QLITE_OP_MUL] = &qlite_kernel_mul,
    [QLITE_OP_DIV] = &qlite_kernel_div,
    [QLITE_OP_POW] = &qlite_kernel_pow,
    [QLITE_OP_MINIMUM] = &qlite_kernel_minimum,
    [QLITE_OP_MAXIMUM] = &qlite_kernel_maximum,
    [QLITE_OP_PRELU] = &qlite_kernel_prelu,
    [QLITE_OP_SQRT] = &qlite_kernel_sqrt,
    [QLITE_OP_EXP] = &qlite_kernel_exp,
    [QLITE_OP_LOG] = &qlite_kernel_log,
    [QLITE_OP_ERF] = &qlite_kernel_erf,
    [QLITE_OP_NEG] = &qlite_kernel_neg,
    [QLITE_OP_ABS] = &qlite_kernel_abs,
    [QLITE_OP_RECIPROCAL] = &qlite_kernel_reciprocal,
    [QLITE_OP_SQUARE] = &qlite_kernel_square,
    [QLITE_OP_RELU] = &qlite_kernel_relu,
    [QLITE_OP_RELU6] = &qlite_kernel_relu6,
    [QLITE_OP_LEAKY_RELU] = &qlite_kernel_leaky_relu,
    [QLITE_OP_ELU] = &qlite_kernel_elu,
    [QLITE_OP_CLIP] = &qlite_kernel_clip,
    [QLITE_OP_LOGISTIC] = &qlite_kernel_logistic,
    [QLITE_OP_TANH] = &qlite_kernel_tanh,
    [QLITE_OP_HARD_SIGMOID] = &qlite_kernel_hard_sigmoid,
    [QLITE_OP_HARD_SWISH] = &qlite_kernel_hard_swish,
    [QLITE_OP_GELU] = &qlite_kernel_gelu,
    [QLITE_OP_SOFTMAX] = &qlite_kernel_softmax,
    [QLITE_OP_LOG_SOFTMAX] = &qlite_kernel_log_softmax,
    [QLITE_OP_REDUCE_MEAN] = &qlite_kernel_reduce_mean,
    [QLITE_OP_REDUCE_SUM] = &qlite_kernel_reduce_sum,
    [QLITE_OP_REDUCE_MAX] = &qlite_kernel_reduce_max,
    [QLITE_OP_REDUCE_MIN] = &qlite_kernel_reduce_min,
    [QLITE_OP_BATCH_NORM] = &qlite_kernel_batch_norm,
    [QLITE_OP_LAYER_NORM] = &qlite_kernel_layer_norm,
    [QLITE_OP_RESHAPE] = &qlite_kernel_reshape,
    [QLITE_OP_TRANSPOSE] = &qlite_kernel_transpose,
    [QLITE_OP_CONCATENATION] = &qlite_kernel_concatenation,
    [QLITE_OP_SPLIT] = &qlite_kernel_split,
    [QLITE_OP_SLICE] = &qlite_kernel_slice,
    [QLITE_OP_PAD] = &qlite_kernel_pad,
    [QLITE_OP_GATHER] = &qlite_kernel_gather,
    [QLITE_OP_CAST] = &qlite_kernel_cast,
    [QLITE_OP_QUANTIZE] = &qlite_kernel_quantize,
    [QLITE_OP_DEQUANTIZE] = &qlite_kernel_dequantize,
};
_Static_assert(QLITE_ARRAY_SIZE(qlite_kernel_registry) == QLITE_OP_COUNT, "registry size");
