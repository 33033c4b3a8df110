/*
 * kernel_util.h — small helpers shared by kernels.
 *
 *   - fused-activation clamp ranges;
 *   - input/option/dtype checks that produce qlite_node_error messages;
 *   - axis normalization;
 *   - numpy broadcasting: the output shape of two operands, collapsed into
 *     the fewest dims whose inner dim is contiguous (qlite_bcast), and an
 *     iterator that walks it row by row from any flat position (so a thread
 *     can start in the middle);
 *   - qlite_kernel_parallel() / qlite_kernel_parallel_thread():
 *     qlite_parallel_for() / qlite_parallel_for_thread() only when the work
 *     is large enough to pay for waking threads.
 */
#ifndef QLITE_KERNEL_UTIL_H
#define QLITE_KERNEL_UTIL_H

#include <float.h>
#include <math.h>
#include <string.h>

#include "kernel.h"

/*
 * Float clamp range of a fused activation. Unbounded sides are +-infinity
 * (not +-FLT_MAX) so that an inf result of the op itself survives a clamp.
 */
static inline void qlite_activation_range_f32(qlite_activation act, float *lo, float *hi) {
    switch (act) {
    case QLITE_ACT_RELU: *lo = 0.0f; *hi = INFINITY; break;
    case QLITE_ACT_RELU6: *lo = 0.0f; *hi = 6.0f; break;
    case QLITE_ACT_RELU_N1_TO_1: *lo = -1.0f; *hi = 1.0f; break;
    default: *lo = -INFINITY; *hi = INFINITY; break;
    }
}

/* NaN passes through (both comparisons are false); compiles to min/max. */
static inline float qlite_clampf(float x, float lo, float hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/*
 * e^x for x <= 0 (softmax after subtracting the max), written so that loops
 * over it vectorize (no libm call): x = n ln2 + r with |r| <= ln2/2 (Cody-Waite
 * split of ln2), e^r by its degree-7 Taylor polynomial (truncation error
 * < 6e-9 relative), times 2^n built in the exponent bits. Error <= 2 ulp.
 * Below -87.3 (where e^x is under FLT_MIN) it returns 0; NaN propagates;
 * x > 0 is outside the contract (treated as 0).
 */
static inline float qlite_exp_nonpos_f32(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: rounds to an integer */
    float c = x >= -87.3f ? x : -87.3f;  /* NaN -> -87.3: keeps the int conversion defined */
    c = c <= 0.0f ? c : 0.0f;
    float n = (c * 1.44269504f + magic) - magic;
    float r = c - n * 0.693359375f;          /* ln2 high part, exact product */
    r = r - n * -2.12194440e-4f;             /* ln2 low part */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* n in [-126, 0] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = p * scale;
    y = x < -87.3f ? 0.0f : y;
    return x != x ? x : y;
}

/* Input i if present, else NULL (safe for i >= num_inputs). */
static inline qlite_tensor *qlite_node_input(const qlite_node *n, uint32_t i) {
    return i < n->num_inputs ? n->inputs[i] : NULL;
}

/* Bytes per element of a byte-addressable dtype; 0 for INT4 or an invalid dtype. */
static inline size_t qlite_dtype_size(qlite_dtype dtype) {
    uint32_t bits = qlite_dtype_bits(dtype);
    return (bits >= 8 && bits % 8 == 0) ? bits / 8 : 0;
}

/* axis in [-rank, rank) -> [0, rank) in *out; false when out of range. */
static inline bool qlite_normalize_axis(int64_t axis, uint32_t rank, uint32_t *out) {
    if (axis < -(int64_t)rank || axis >= (int64_t)rank) return false;
    *out = (uint32_t)(axis < 0 ? axis + (int64_t)rank : axis);
    return true;
}

/*
 * Checks that the node has between min_in and max_in inputs of which the
 * first `required` are present, and exactly num_out outputs (all present).
 * QLITE_ERR_INVALID_ARGUMENT with a message otherwise.
 */
qlite_status qlite_node_check_io(const qlite_node *node, uint32_t min_in, uint32_t max_in,
                                 uint32_t required, uint32_t num_out);

/* The node's options must be of `type` (QLITE_ERR_INVALID_ARGUMENT otherwise). */
qlite_status qlite_node_check_options(const qlite_node *node, qlite_options_type type);

/* Tensor `t` (described as `what`, e.g. "input 0") must have dtype `dtype`. */
qlite_status qlite_node_check_dtype(const qlite_node *node, const qlite_tensor *t,
                                    const char *what, qlite_dtype dtype);

/* Formats dims as "[2,3,4]" into buf (for messages); returns buf. */
const char *qlite_shape_str(uint32_t rank, const int64_t *dims, char *buf, size_t size);
#define QLITE_SHAPE_STR_MAX 128

/* ---------------------------------------------------------------- */
/* Broadcasting                                                      */
/* ---------------------------------------------------------------- */

/*
 * Two operands a and b broadcast to an output, described in collapsed form:
 * dims of size 1 dropped and neighbouring dims merged when both operands
 * broadcast (or not) in the same way. The last collapsed dim is contiguous
 * in the output and has stride 0 or 1 in each operand, so the inner loop of
 * a binary op is one of: vector-vector, vector-scalar, scalar-vector.
 *   [N,H,W,C] + [C]         -> dims [N*H*W, C], a strides [C,1], b strides [0,1]
 *   [N,H,W,C] * [N,H,W,1]   -> dims [N*H*W, C], a strides [C,1], b strides [1,0]
 */
typedef struct qlite_bcast {
    uint32_t rank;                     /* collapsed rank, >= 1 */
    int64_t dims[QLITE_MAX_RANK];      /* collapsed output dims */
    int64_t stride_a[QLITE_MAX_RANK];  /* element strides of a (0 = broadcast) */
    int64_t stride_b[QLITE_MAX_RANK];
    size_t count;                      /* output elements */
} qlite_bcast;

/*
 * numpy broadcast of two shapes: *out_rank = max rank and out_dims the
 * broadcast dims. Returns false when a dim pair is neither equal nor has a 1.
 */
bool qlite_broadcast_shape(uint32_t rank_a, const int64_t *dims_a, uint32_t rank_b,
                           const int64_t *dims_b, uint32_t *out_rank, int64_t *out_dims);

/* Fills *b for operands of those shapes (which must broadcast). */
void qlite_bcast_init(qlite_bcast *b, uint32_t rank_a, const int64_t *dims_a, uint32_t rank_b,
                      const int64_t *dims_b);

/* Position in a qlite_bcast walk: output coords and the operands' offsets. */
typedef struct qlite_bcast_iter {
    int64_t coord[QLITE_MAX_RANK];
    size_t off_a, off_b;
} qlite_bcast_iter;

/* Positions *it at output element `flat`. */
void qlite_bcast_iter_seek(const qlite_bcast *b, qlite_bcast_iter *it, size_t flat);

/* Advances *it to the start of the next inner row (coord[rank-1] = 0). */
void qlite_bcast_iter_next_row(const qlite_bcast *b, qlite_bcast_iter *it);

/* ---------------------------------------------------------------- */
/* Strided copies (transpose, slice)                                 */
/* ---------------------------------------------------------------- */

/*
 * A copy that writes a contiguous output by reading the source with
 * arbitrary (possibly negative) element strides:
 *   dst[i0,..,ir] = src[offset + sum_k i_k * stride[k]]
 * qlite_strided_finish() drops dims of size 1 and merges dims that are
 * contiguous in the source too, so a transpose that keeps the last dim
 * copies whole rows with memcpy, and a transpose of the last two dims
 * becomes a blocked 2-D transpose.
 */
typedef struct qlite_strided {
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];      /* output dims */
    int64_t stride[QLITE_MAX_RANK];    /* source element strides */
    int64_t offset;                    /* source element of output element 0 */
    size_t elem;                       /* bytes per element: 1, 2, 4 or 8 */
    size_t count;                      /* output elements */
} qlite_strided;

/* Call after filling rank/dims/stride/offset/elem: computes count, collapses. */
void qlite_strided_finish(qlite_strided *s);

/* Performs the copy (src and dst must not overlap). */
void qlite_strided_copy(const qlite_strided *s, const void *src, void *dst);

/* Row-major element strides of a shape. */
void qlite_shape_strides(uint32_t rank, const int64_t *dims, int64_t *strides);

/* Element size of a tensor for a shape op (byte-addressable dtypes), or 0
 * after reporting QLITE_ERR_UNSUPPORTED_OP for INT4. Also checks that the
 * output has the input's dtype (QLITE_ERR_DTYPE) and, for integer dtypes,
 * the input's quantization parameters (QLITE_ERR_UNSUPPORTED_OP: moving
 * bytes cannot change them; docs/quantization.md §4.8). */
size_t qlite_node_shape_op_elem(const qlite_node *node, const qlite_tensor *in,
                                const qlite_tensor *out, qlite_status *st);

/* ---------------------------------------------------------------- */
/* Threads                                                           */
/* ---------------------------------------------------------------- */

/*
 * Runs fn over [0, count) on the node's threads when count * cost_per_item
 * is large enough to be worth it (cost in rough "simple float ops"), else
 * calls fn(arg, 0, count) inline. count == 0 calls nothing.
 */
void qlite_kernel_parallel(const qlite_node *node, size_t count, size_t cost_per_item,
                           qlite_range_fn fn, void *arg);
/* The same rule for a range function that is told its thread's index
 * (qlite_parallel_for_thread; inline: thread 0). */
void qlite_kernel_parallel_thread(const qlite_node *node, size_t count, size_t cost_per_item,
                                  qlite_thread_range_fn fn, void *arg);

#endif /* QLITE_KERNEL_UTIL_H */
