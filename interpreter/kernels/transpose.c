/*
 * transpose.c — TRANSPOSE (any byte-addressable dtype): output dim i is input
 * dim perm[i]. prepare turns the permutation into a strided copy
 * (kernel_util.h) collapsed to the fewest dims: a permutation that keeps
 * the last dim copies rows with memcpy; one that swaps the last two dims
 * (NHWC <-> NCHW, [B,M,N] -> [B,N,M]) runs a blocked 2-D transpose.
 * Large copies are split along the outermost collapsed dim between threads.
 *
 * Planar to interleaved with few channels (an image input NCHW -> NHWC:
 * [P, C] output rows read from C planes, C = 2..4) has its own loop with C
 * a constant: the blocked 2-D transpose ran a 3-column tile loop per 32
 * pixels (~1 ns a byte, 0.15-0.19 ms for a 3x224x224 input), while the
 * compiler turns a fixed-C interleave into vector shuffles.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

static qlite_status transpose_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    size_t elem = qlite_node_shape_op_elem(node, x, node->outputs[0], &st);
    if (!elem) return st;
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_TRANSPOSE)) != QLITE_OK) return st;
    const qlite_transpose_options *o = &node->opts->u.transpose;
    if (o->rank != x->rank || (o->rank > 0 && !o->perm))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "perm has %u entries for an input of rank %u", o->rank, x->rank);
    bool seen[QLITE_MAX_RANK] = {false};
    for (uint32_t i = 0; i < o->rank; i++) {
        int32_t p = o->perm[i];
        if (p < 0 || (uint32_t)p >= x->rank || seen[p])
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "perm is not a permutation of 0..%u (entry %u is %d)",
                                    x->rank - 1, i, p);
        seen[p] = true;
    }
    qlite_strided *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    int64_t in_strides[QLITE_MAX_RANK];
    qlite_shape_strides(x->rank, x->dims, in_strides);
    s->rank = x->rank;
    s->elem = elem;
    for (uint32_t i = 0; i < x->rank; i++) {
        s->dims[i] = x->dims[o->perm[i]];
        s->stride[i] = in_strides[o->perm[i]];
    }
    if ((st = qlite_node_set_output_shape(node, 0, s->rank, s->dims)) != QLITE_OK) return st;
    qlite_strided_finish(s);
    node->state = s;
    return QLITE_OK;
}

typedef struct transpose_job {
    const qlite_strided *s;
    const void *src;
    void *dst;
} transpose_job;

/* dst[p * C + c] = src[c * plane + p] for p in [0, n): C planes interleaved. */
#define INTERLEAVE(T, C)                                                                    \
    static void interleave_##T##_##C(const T *restrict src, int64_t plane, T *restrict dst, \
                                     size_t n) {                                            \
        for (size_t p = 0; p < n; p++)                                                      \
            for (int64_t c = 0; c < (C); c++) dst[p * (C) + (size_t)c] = src[c * plane + (int64_t)p]; \
    }
INTERLEAVE(uint8_t, 2)
INTERLEAVE(uint8_t, 3)
INTERLEAVE(uint8_t, 4)
INTERLEAVE(uint16_t, 2)
INTERLEAVE(uint16_t, 3)
INTERLEAVE(uint16_t, 4)
INTERLEAVE(uint32_t, 2)
INTERLEAVE(uint32_t, 3)
INTERLEAVE(uint32_t, 4)
#undef INTERLEAVE

/* The copy of one slice: the fixed-C interleave when it is one ([P, C] read
 * as C planes of stride >= P, elements of 1, 2 or 4 bytes), else the
 * generic strided copy. */
static void transpose_copy(const qlite_strided *s, const void *src, void *dst) {
    const int64_t c = s->rank == 2 ? s->dims[1] : 0, plane = s->rank == 2 ? s->stride[1] : 0;
    if (c >= 2 && c <= 4 && s->stride[0] == 1 && plane >= s->dims[0]) {
        const size_t n = (size_t)s->dims[0];
        switch (s->elem * 8 + (size_t)c) {
#define IL_CASE(T, C)                                                                        \
    case sizeof(T) * 8 + (C):                                                                \
        interleave_##T##_##C((const T *)src + s->offset, plane, dst, n);                   \
        return;
            IL_CASE(uint8_t, 2)
            IL_CASE(uint8_t, 3)
            IL_CASE(uint8_t, 4)
            IL_CASE(uint16_t, 2)
            IL_CASE(uint16_t, 3)
            IL_CASE(uint16_t, 4)
            IL_CASE(uint32_t, 2)
            IL_CASE(uint32_t, 3)
            IL_CASE(uint32_t, 4)
#undef IL_CASE
        default: break;
        }
    }
    qlite_strided_copy(s, src, dst);
}

/* Output rows [begin, end) along the collapsed dim 0: the same copy on a slice. */
static void transpose_range(void *arg, size_t begin, size_t end) {
    const transpose_job *j = arg;
    qlite_strided sub = *j->s;
    const size_t inner = j->s->count / (size_t)j->s->dims[0];
    sub.dims[0] = (int64_t)(end - begin);
    sub.offset += (int64_t)begin * j->s->stride[0];
    sub.count = inner * (end - begin);
    transpose_copy(&sub, j->src, (char *)j->dst + begin * inner * j->s->elem);
}

static qlite_status transpose_eval(qlite_node *node) {
    const qlite_strided *s = node->state;
    transpose_job j = {.s = s, .src = node->inputs[0]->data, .dst = node->outputs[0]->data};
    /* split along the outermost dim between threads (e.g. a model's NCHW input to NHWC,
     * 0.2 ms serial in ResNet-18); one thread: a plain call over everything */
    if (s->rank >= 2 && s->count > 0 && s->dims[0] > 1)
        qlite_kernel_parallel(node, (size_t)s->dims[0], s->count / (size_t)s->dims[0] * s->elem,
                              transpose_range, &j);
    else
        transpose_copy(s, j.src, j.dst);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_transpose = {.prepare = transpose_prepare,
                                             .eval = transpose_eval};
