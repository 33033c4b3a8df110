/*
 * softmax_f32.h — shared between softmax.c / layer_norm.c and their x86 row
 * variants (softmax_f32_x86.c): row-function types and the variant selectors.
 */
#ifndef QLITE_KERNELS_SOFTMAX_F32_H
#define QLITE_KERNELS_SOFTMAX_F32_H

#include <stddef.h>

/* y = softmax(beta * x) over one contiguous row of n >= 1 values. */
typedef void (*softmax_f32_row_fn)(const float *x, float *y, size_t n, float beta);

/* y = (x - mean) / sqrt(var + eps) * g (+ b if b != NULL) over one row of n >= 1 values. */
typedef void (*layer_norm_f32_row_fn)(const float *x, float *y, size_t n, const float *g,
                                      const float *b, float eps);

/* The fastest variant this CPU runs within the feature cap (qlite_q8_cpu_features):
 * AVX-512F or AVX2+FMA, or NULL (portable code in softmax.c / layer_norm.c). */
softmax_f32_row_fn qlite_softmax_f32_row_simd(void);
layer_norm_f32_row_fn qlite_layer_norm_f32_row_simd(void);

#endif
