/*
 * unary_f32.h — shared between unary.c and its SIMD variants
 * (unary_f32_x86.c, unary_f32_neon.c): the row-function type and the variant selector.
 */
#ifndef QLITE_KERNELS_UNARY_F32_H
#define QLITE_KERNELS_UNARY_F32_H

#include <stddef.h>

typedef struct unary_params {
    float alpha, beta, lo, hi;
} unary_params;

typedef void (*unary_fn)(const float *x, float *y, size_t n, const unary_params *p);

/* The row functions that have SIMD variants (unary_f32_body.inc). */
typedef enum unary_simd_op {
    UNARY_SIMD_ERF,
    UNARY_SIMD_GELU_ERF,
    UNARY_SIMD_GELU_TANH,
    UNARY_SIMD_LOGISTIC,
    UNARY_SIMD_TANH,
} unary_simd_op;

/* The fastest variant of op this CPU runs within the int8 feature cap
 * (qlite_q8_cpu_features): x86 AVX-512 / AVX2+FMA (unary_f32_x86.c), ARM64
 * NEON (unary_f32_neon.c), or NULL (portable code). */
unary_fn qlite_unary_f32_simd(unary_simd_op op);

#endif
