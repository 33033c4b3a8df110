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
 * compiler turns a fixed-C interleave into vector shuffles. C = 3 (RGB) has
 * AVX-512 rows besides, chosen at prepare within the feature cap: 4-byte
 * elements 16 pixels a step (VPERMT2PS of planes 0 and 1, a masked VPERMPS
 * of plane 2 per output vector), bytes 64 pixels a step with VBMI
 * (VPERMT2B / VPERMB likewise); masked tails.
 */
#include <string.h>

#include "kernels/elementwise_q8.h"
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TRANSPOSE_X86 1
#endif

typedef struct transpose_state {
    qlite_strided s;
    unsigned isa;  /* QLITE_Q8_EW_F_* the interleave rows may use (0: portable) */
} transpose_state;

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
    transpose_state *ts = qlite_node_alloc(node, sizeof *ts);
    if (!ts) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    ts->isa = qlite_node_reference_only(node) ? 0u : qlite_q8_ew_features();
    qlite_strided *s = &ts->s;
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
    node->state = ts;
    return QLITE_OK;
}

typedef struct transpose_job {
    const qlite_strided *s;
    unsigned isa;
    const void *src;
    void *dst;
} transpose_job;

/* dst[p * C + c] = src[c * plane + p] for p in [0, n): C planes interleaved. */
#define INTERLEAVE(T, C)                                                                    \
    static void interleave_##T##_##C(const T *restrict src, int64_t plane, T *restrict dst, \
                                     size_t n) {                                            \
        for (size_t p = 0; p < n; p++)                                                      \
            for (int64_t c = 0; c < (C); c++)                                               \
                dst[p * (C) + (size_t)c] = src[c * plane + (int64_t)p];                     \
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

#ifdef TRANSPOSE_X86
/* Output vector k of a 3-plane interleave, element e: pixel (L k + e) / 3 of the
 * block, plane (L k + e) % 3, L lanes per vector. idx01 picks planes 0 / 1 for
 * VPERMT2*, idx2 the pixel of plane 2 and m2 its lanes. */
static void il3_indices(int lanes, int k, uint8_t *idx01, uint8_t *idx2, uint64_t *m2) {
    *m2 = 0;
    for (int e = 0; e < lanes; e++) {
        const int g = lanes * k + e, px = g / 3, pl = g % 3;
        idx01[e] = (uint8_t)(pl == 1 ? lanes + px : px);
        idx2[e] = (uint8_t)px;
        if (pl == 2) *m2 |= (uint64_t)1 << e;
    }
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) static void interleave3_f32_avx512(
    const uint32_t *src, int64_t plane, uint32_t *dst, size_t n) {
    __m512i i01[3], i2[3];
    __mmask16 m2[3];
    for (int k = 0; k < 3; k++) {
        uint8_t a[16], b[16];
        uint64_t m;
        il3_indices(16, k, a, b, &m);
        i01[k] = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)a));
        i2[k] = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)b));
        m2[k] = (__mmask16)m;
    }
    const uint32_t *p0 = src, *p1 = src + plane, *p2 = src + 2 * plane;
    for (size_t i = 0; i < n; i += 16) {
        const size_t left = n - i < 16 ? n - i : 16;
        const __mmask16 m = (__mmask16)((1u << left) - 1);
        const __m512 a = _mm512_maskz_loadu_ps(m, p0 + i), b = _mm512_maskz_loadu_ps(m, p1 + i);
        const __m512 c = _mm512_maskz_loadu_ps(m, p2 + i);
        for (int k = 0; k < 3; k++) {
            const __m512 v = _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(a, i01[k], b),
                                                        m2[k], i2[k], c);
            const size_t done = 16 * (size_t)k, all = 3 * left;
            if (all >= done + 16) _mm512_storeu_ps(dst + 3 * i + done, v);
            else if (all > done)
                _mm512_mask_storeu_ps(dst + 3 * i + done, (__mmask16)((1u << (all - done)) - 1),
                                      v);
        }
    }
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi"))) static void
interleave3_u8_vbmi(const uint8_t *src, int64_t plane, uint8_t *dst, size_t n) {
    __m512i i01[3], i2[3];
    __mmask64 m2[3];
    for (int k = 0; k < 3; k++) {
        uint8_t a[64], b[64];
        uint64_t m;
        il3_indices(64, k, a, b, &m);
        i01[k] = _mm512_loadu_si512(a);
        i2[k] = _mm512_loadu_si512(b);
        m2[k] = (__mmask64)m;
    }
    const uint8_t *p0 = src, *p1 = src + plane, *p2 = src + 2 * plane;
    for (size_t i = 0; i < n; i += 64) {
        const size_t left = n - i < 64 ? n - i : 64;
        const __mmask64 m = left == 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        const __m512i a = _mm512_maskz_loadu_epi8(m, p0 + i);
        const __m512i b = _mm512_maskz_loadu_epi8(m, p1 + i);
        const __m512i c = _mm512_maskz_loadu_epi8(m, p2 + i);
        for (int k = 0; k < 3; k++) {
            const __m512i v = _mm512_mask_permutexvar_epi8(_mm512_permutex2var_epi8(a, i01[k], b),
                                                           m2[k], i2[k], c);
            const size_t done = 64 * (size_t)k, all = 3 * left;
            if (all >= done + 64) _mm512_storeu_si512(dst + 3 * i + done, v);
            else if (all > done)
                _mm512_mask_storeu_epi8(dst + 3 * i + done,
                                        ((__mmask64)1 << (all - done)) - 1, v);
        }
    }
}
#endif

/* The copy of one slice: the fixed-C interleave when it is one ([P, C] read
 * as C planes of stride >= P, elements of 1, 2 or 4 bytes), else the
 * generic strided copy. */
static void transpose_copy(const qlite_strided *s, const void *src, void *dst, unsigned isa) {
    const int64_t c = s->rank == 2 ? s->dims[1] : 0, plane = s->rank == 2 ? s->stride[1] : 0;
    if (c >= 2 && c <= 4 && s->stride[0] == 1 && plane >= s->dims[0]) {
        const size_t n = (size_t)s->dims[0];
#ifdef TRANSPOSE_X86
        if (c == 3 && s->elem == 4 && (isa & QLITE_Q8_EW_F_AVX512)) {
            interleave3_f32_avx512((const uint32_t *)src + s->offset, plane, dst, n);
            return;
        }
        if (c == 3 && s->elem == 1 && (isa & QLITE_Q8_EW_F_VBMI)) {
            interleave3_u8_vbmi((const uint8_t *)src + s->offset, plane, dst, n);
            return;
        }
#else
        (void)isa;
#endif
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
    transpose_copy(&sub, j->src, (char *)j->dst + begin * inner * j->s->elem, j->isa);
}

static qlite_status transpose_eval(qlite_node *node) {
    const transpose_state *ts = node->state;
    const qlite_strided *s = &ts->s;
    transpose_job j = {.s = s, .isa = ts->isa, .src = node->inputs[0]->data,
                       .dst = node->outputs[0]->data};
    /* split along the outermost dim between threads (e.g. a model's NCHW input to NHWC,
     * 0.2 ms serial in ResNet-18); one thread: a plain call over everything. The cost is
     * per element, at least 4 units each: a strided copy moves one element at a time
     * whatever its size (an int8 transformer's 128 x 4 x 64 head transposes, 32 KiB,
     * took ~11 us serial, slower at 2 threads than at 1 from reading the lines the
     * other core wrote: issue #6) */
    if (s->rank >= 2 && s->count > 0 && s->dims[0] > 1)
        qlite_kernel_parallel(node, (size_t)s->dims[0],
                              s->count / (size_t)s->dims[0] * (s->elem < 4 ? 4 : s->elem),
                              transpose_range, &j);
    else
        transpose_copy(s, j.src, j.dst, ts->isa);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_transpose = {.prepare = transpose_prepare,
                                             .eval = transpose_eval};
