/*
 * nn_variants.h — the int8, hybrid (dynamic-range) and float16-weight forms
 * of the compute-heavy kernels (docs/quantization.md §4.1, §4.2, §4.5, §5,
 * §7). The float kernel's prepare (fully_connected.c, conv_2d.c, ...)
 * handles float32 x float32 itself and hands every other (input dtype,
 * weight dtype) pair to the op's *_variants_prepare here, which validates
 * the node for that form, sets node->state to a struct whose first member
 * is its eval function (quant_params.h, qlite_eval_dispatch) and fails with
 * QLITE_ERR_DTYPE / QLITE_ERR_UNSUPPORTED_OP naming the dtypes when there is
 * no such form.
 *
 *   pair (input, weights)       form      files
 *   int8/uint8 x int8           integer   *_q8.c
 *   float32 x int8              hybrid    *_q8.c (quantizes its input per row)
 *   float32 x float16           half      *_f16.c (reads the halves in place)
 *
 * LSTM and GRU (rnn_variants.c) take any mix of float32 / float16 / int8 W
 * and R.
 */
#ifndef QLITE_NN_VARIANTS_H
#define QLITE_NN_VARIANTS_H

#include "kernel.h"

qlite_status qlite_fc_variants_prepare(qlite_node *node);
qlite_status qlite_conv_variants_prepare(qlite_node *node);
qlite_status qlite_dw_variants_prepare(qlite_node *node);
qlite_status qlite_tconv_variants_prepare(qlite_node *node);
qlite_status qlite_bmm_variants_prepare(qlite_node *node);
qlite_status qlite_lstm_variants_prepare(qlite_node *node);
qlite_status qlite_gru_variants_prepare(qlite_node *node);

/* MAX_POOL_2D / AVERAGE_POOL_2D and RESIZE on int8 / uint8 (same parameters in and out). */
qlite_status qlite_pool_q8_prepare(qlite_node *node);
qlite_status qlite_resize_q8_prepare(qlite_node *node);

/* The float16-weight forms (called by the *_variants_prepare above). */
qlite_status qlite_fc_f16_prepare(qlite_node *node);
qlite_status qlite_conv_f16_prepare(qlite_node *node);
qlite_status qlite_dw_f16_prepare(qlite_node *node);
qlite_status qlite_tconv_f16_prepare(qlite_node *node);
qlite_status qlite_bmm_f16_prepare(qlite_node *node);

#endif /* QLITE_NN_VARIANTS_H */
