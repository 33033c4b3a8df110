/*
 * depthwise_conv_2d_f32.h — the float32 depthwise row kernels of
 * depthwise_conv_2d.c (x86 AVX-512 / AVX2+FMA, ARM64 NEON, portable), shared
 * with the float16-weight variant (depthwise_conv_2d_f16.c), which widens
 * its weights into a float panel and runs the same rows.
 *
 *   x  [N, H, W, C]   w  [KH, KW, C * M]   b  [C * M] or NULL   y  [N, OH, OW, C * M]
 */
#ifndef QLITE_DEPTHWISE_CONV_2D_F32_H
#define QLITE_DEPTHWISE_CONV_2D_F32_H

#include "kernel.h"

typedef struct qlite_dw_f32_plan {
    int64_t N, H, W, C, M, KH, KW, OH, OW, OC; /* OC = C * M */
    int64_t sh, sw, dh, dw, pt, pl;           /* strides, dilations, top / left pads */
    float lo, hi;                             /* fused activation clamp */
    int isa; /* row kernel, set by qlite_dw_f32_plan_select */
} qlite_dw_f32_plan;

/* Chooses the row kernel for this CPU (features within
 * qlite_q8_set_feature_cap) once the shape fields are set. */
void qlite_dw_f32_plan_select(qlite_dw_f32_plan *p);

/* y = act(depthwise(x, w) + b) over the node's threads. Allocates nothing. */
void qlite_dw_f32_run(const qlite_node *node, const qlite_dw_f32_plan *p, const float *x,
                      const float *w, const float *b, float *y);

#endif /* QLITE_DEPTHWISE_CONV_2D_F32_H */
