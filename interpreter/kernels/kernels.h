/*
 * kernels.h — every kernel the registry knows (one extern per op code).
 */
#ifndef QLITE_KERNELS_H
#define QLITE_KERNELS_H

#include "kernel.h"

/* element-wise (binary.c, unary.c) */
extern const qlite_kernel qlite_kernel_add;
extern const qlite_kernel qlite_kernel_sub;
extern const qlite_kernel qlite_kernel_mul;
extern const qlite_kernel qlite_kernel_div;
extern const qlite_kernel qlite_kernel_pow;
extern const qlite_kernel qlite_kernel_minimum;
extern const qlite_kernel qlite_kernel_maximum;
extern const qlite_kernel qlite_kernel_prelu;
extern const qlite_kernel qlite_kernel_sqrt;
extern const qlite_kernel qlite_kernel_exp;
extern const qlite_kernel qlite_kernel_log;
extern const qlite_kernel qlite_kernel_erf;
extern const qlite_kernel qlite_kernel_neg;
extern const qlite_kernel qlite_kernel_abs;
extern const qlite_kernel qlite_kernel_reciprocal;
extern const qlite_kernel qlite_kernel_square;
extern const qlite_kernel qlite_kernel_relu;
extern const qlite_kernel qlite_kernel_relu6;
extern const qlite_kernel qlite_kernel_leaky_relu;
extern const qlite_kernel qlite_kernel_elu;
extern const qlite_kernel qlite_kernel_clip;
extern const qlite_kernel qlite_kernel_logistic;
extern const qlite_kernel qlite_kernel_tanh;
extern const qlite_kernel qlite_kernel_hard_sigmoid;
extern const qlite_kernel qlite_kernel_hard_swish;
extern const qlite_kernel qlite_kernel_gelu;

/* GEMM-based and windowed ops (fully_connected.c, batch_matmul.c, conv_2d.c, ...) */
extern const qlite_kernel qlite_kernel_transpose_conv_2d;
extern const qlite_kernel qlite_kernel_resize;
extern const qlite_kernel qlite_kernel_lstm;
extern const qlite_kernel qlite_kernel_gru;
extern const qlite_kernel qlite_kernel_batch_matmul;
extern const qlite_kernel qlite_kernel_max_pool_2d;
extern const qlite_kernel qlite_kernel_average_pool_2d;
extern const qlite_kernel qlite_kernel_conv_2d;
extern const qlite_kernel qlite_kernel_depthwise_conv_2d;
extern const qlite_kernel qlite_kernel_fully_connected;

/* softmax.c, reduce.c, batch_norm.c, layer_norm.c */
extern const qlite_kernel qlite_kernel_softmax;
extern const qlite_kernel qlite_kernel_log_softmax;
extern const qlite_kernel qlite_kernel_reduce_mean;
extern const qlite_kernel qlite_kernel_reduce_sum;
extern const qlite_kernel qlite_kernel_reduce_max;
extern const qlite_kernel qlite_kernel_reduce_min;
extern const qlite_kernel qlite_kernel_batch_norm;
extern const qlite_kernel qlite_kernel_layer_norm;

/* shape ops (reshape.c, transpose.c, concatenation.c, split.c, slice.c, pad.c, gather.c) */
extern const qlite_kernel qlite_kernel_reshape;
extern const qlite_kernel qlite_kernel_transpose;
extern const qlite_kernel qlite_kernel_concatenation;
extern const qlite_kernel qlite_kernel_split;
extern const qlite_kernel qlite_kernel_slice;
extern const qlite_kernel qlite_kernel_pad;
extern const qlite_kernel qlite_kernel_gather;

/* cast.c, quantize.c, dequantize.c */
extern const qlite_kernel qlite_kernel_cast;
extern const qlite_kernel qlite_kernel_quantize;
extern const qlite_kernel qlite_kernel_dequantize;

#endif /* QLITE_KERNELS_H */
