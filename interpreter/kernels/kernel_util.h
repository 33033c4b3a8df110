/*
 * kernel_util.h — small helpers shared by kernels.
 */
#ifndef QLITE_KERNEL_UTIL_H
#define QLITE_KERNEL_UTIL_H

#include <float.h>
#include <math.h>

#include "kernel.h"

/* Float clamp range of a fused activation. */
static inline void qlite_activation_range_f32(qlite_activation act, float *lo, float *hi) {
    switch (act) {
    case QLITE_ACT_RELU: *lo = 0.0f; *hi = FLT_MAX; break;
    case QLITE_ACT_RELU6: *lo = 0.0f; *hi = 6.0f; break;
    case QLITE_ACT_RELU_N1_TO_1: *lo = -1.0f; *hi = 1.0f; break;
    default: *lo = -FLT_MAX; *hi = FLT_MAX; break;
    }
}

static inline float qlite_clampf(float x, float lo, float hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Input i if present, else NULL (safe for i >= num_inputs). */
static inline qlite_tensor *qlite_node_input(const qlite_node *n, uint32_t i) {
    return i < n->num_inputs ? n->inputs[i] : NULL;
}

#endif /* QLITE_KERNEL_UTIL_H */
