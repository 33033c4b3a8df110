/*
 * resize_common.h — RESIZE geometry shared by the float kernel (resize.c,
 * which defines these functions) and the int8 / uint8 one (resize_q8.c):
 * option checks, output size, scales, and the ONNX coordinate mapping of
 * one output index to its source taps. Both kernels must map coordinates
 * identically; keeping one copy is what guarantees it.
 */
#ifndef QLITE_KERNELS_RESIZE_COMMON_H
#define QLITE_KERNELS_RESIZE_COMMON_H

#include "kernel.h"

typedef struct qlite_resize_geometry {
    int64_t N, H, W, C; /* input [N, H, W, C] */
    int64_t OH, OW;     /* output [N, OH, OW, C] */
    double sh, sw;      /* scales the transforms divide by */
    double lh, lw;      /* resized lengths the transforms use (in * scale or out) */
} qlite_resize_geometry;

/* Checks the Resize options `o` against the rank-4 input `x`, fills *g and
 * sets output 0's shape. QLITE_ERR_INVALID_ARGUMENT for bad enums, sizes or
 * scales, QLITE_ERR_SHAPE when a size would be < 1 (message on the node). */
qlite_status qlite_resize_geometry_init(qlite_node *node, const qlite_resize_options *o,
                                        const qlite_tensor *x, qlite_resize_geometry *g);

/* Source taps of output index i on one axis of input length `in`, resized
 * length `len` and scale `scale`: i0, i1 clamped to [0, in - 1] and the
 * weight w1 of i1 (nearest: i0 == i1, w1 == 0). */
void qlite_resize_axis_point(const qlite_resize_options *o, int64_t i, int64_t in, double len,
                             double scale, int64_t *i0, int64_t *i1, float *w1);

#endif
