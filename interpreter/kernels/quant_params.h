/*
 * quant_params.h — per-tensor or per-channel quantization parameters of a
 * tensor, checked once at prepare (shared by quantize.c and dequantize.c).
 */
#ifndef QLITE_QUANT_PARAMS_H
#define QLITE_QUANT_PARAMS_H

#include "kernels/kernel_util.h"

typedef struct qlite_qparams {
    size_t outer, channels, inner;  /* the tensor viewed as [outer, channels, inner] */
    const float *scale;             /* [channels] */
    const int32_t *zero_point;      /* [channels] */
} qlite_qparams;

/*
 * Reads t's quantization (per tensor, or per channel along quant->axis),
 * checks scales finite and > 0 and zero points inside [zp_lo, zp_hi].
 * `what` names the tensor in messages.
 */
qlite_status qlite_qparams_init(const qlite_node *node, const qlite_tensor *t, const char *what,
                                int64_t zp_lo, int64_t zp_hi, qlite_qparams *out);

#endif /* QLITE_QUANT_PARAMS_H */
