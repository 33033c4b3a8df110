/*
 * kernels_q8.h — the int8/uint8 variants of kernels that also have a float
 * form. The float kernel's prepare validates what both share (inputs,
 * options) and calls the variant here when its input is int8 or uint8; the
 * variant sets node->state to a struct whose first member is its eval
 * function (quant_params.h, qlite_eval_dispatch).
 */
#ifndef QLITE_KERNELS_Q8_H
#define QLITE_KERNELS_Q8_H

#include "kernel.h"

/* binary_q8.c: ADD SUB MUL MINIMUM MAXIMUM PRELU (act = fused activation). */
qlite_status qlite_binary_q8_prepare(qlite_node *node, qlite_activation act);

/* unary_q8.c: every op of unary.c as a 256-entry table. */
typedef struct qlite_unary_q8_params {
    float alpha, beta, lo, hi;   /* ActivationOptions as unary.c reads them */
    bool gelu_tanh;              /* GELU approximate = "tanh" */
} qlite_unary_q8_params;
qlite_status qlite_unary_q8_prepare(qlite_node *node, const qlite_unary_q8_params *p);

/* softmax_q8.c: SOFTMAX over [outer, n, inner] (axis already normalized). */
qlite_status qlite_softmax_q8_prepare(qlite_node *node, size_t outer, size_t n, size_t inner,
                                      float beta);

/* layer_norm_q8.c: LAYER_NORM over rows of n values (x viewed as [rows, n]). */
qlite_status qlite_layer_norm_q8_prepare(qlite_node *node, size_t rows, size_t n, float epsilon);

#endif /* QLITE_KERNELS_Q8_H */
