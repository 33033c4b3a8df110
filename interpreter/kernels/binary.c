/*
 * binary.c — float32 element-wise ADD, SUB, MUL, DIV, POW, MINIMUM, MAXIMUM
 * (numpy broadcasting, fused activation from BinaryOptions) and PRELU (the
 * slope broadcast to the input's shape).
 *
 * prepare: checks dtypes, broadcasts the shapes into a collapsed qlite_bcast
 * (kernel_util.h) and picks the op's row functions.
 * eval: walks the output row by row; every row is one of vector-vector,
 * vector-scalar or scalar-vector over contiguous floats, which the compiler
 * vectorizes. Same-shape operands collapse to a single row; [N,H,W,C] + [C]
 * to rows of C against the same C values; large outputs are split over threads.
 *
 * MINIMUM/MAXIMUM propagate NaN from either operand (as numpy and PyTorch
 * do); POW with a constant scalar exponent of 2 is computed as x*x (exact).
 * ADD / SUB / MUL have AVX-512 rows (chosen at prepare within the feature
 * cap; QLITE_INTERP_REFERENCE_ONLY keeps the loops): the same bits.
 *
 * int8/uint8 inputs go to binary_q8.c (ADD SUB MUL MINIMUM MAXIMUM PRELU);
 * the operands and the output must share one dtype (QLITE_ERR_DTYPE).
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"

typedef void (*bin_row_fn)(const float *a, const float *b, float *o, size_t n, float lo,
                           float hi);

/* Three row shapes per op: vv (both contiguous), vs (b scalar), sv (a scalar). */
#define BINARY_ROWS(name, EXPR)                                                            \
    static void name##_vv(const float *a, const float *b, float *o, size_t n, float lo,    \
                          float hi) {                                                      \
        for (size_t i = 0; i < n; i++) {                                                   \
            float x = a[i], y = b[i];                                                      \
            (void)y;                                                                       \
            o[i] = qlite_clampf((EXPR), lo, hi);                                           \
        }                                                                                  \
    }                                                                                      \
    static void name##_vs(const float *a, const float *b, float *o, size_t n, float lo,    \
                          float hi) {                                                      \
        const float y = b[0];                                                              \
        (void)y;                                                                           \
        for (size_t i = 0; i < n; i++) {                                                   \
            float x = a[i];                                                                \
            o[i] = qlite_clampf((EXPR), lo, hi);                                           \
        }                                                                                  \
    }                                                                                      \
    static void name##_sv(const float *a, const float *b, float *o, size_t n, float lo,    \
                          float hi) {                                                      \
        const float x = a[0];                                                              \
        for (size_t i = 0; i < n; i++) {                                                   \
            float y = b[i];                                                                \
            (void)y;                                                                       \
            o[i] = qlite_clampf((EXPR), lo, hi);                                           \
        }                                                                                  \
    }

BINARY_ROWS(add, x + y)
BINARY_ROWS(sub, x - y)
BINARY_ROWS(mul, x * y)
BINARY_ROWS(div, x / y)
BINARY_ROWS(pow, powf(x, y))
BINARY_ROWS(min, (x < y || x != x) ? x : y)
BINARY_ROWS(max, (x > y || x != x) ? x : y)
BINARY_ROWS(prelu, x < 0.0f ? x * y : x)
BINARY_ROWS(square, x * x) /* POW by a constant 2: reads a only */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "kernels/gemm_q8.h"
#define BINARY_X86 1

/*
 * AVX-512 rows of ADD / SUB / MUL: the compiler's baseline (SSE2) loops
 * spent most of their time on the clamp (qlite_clampf's NaN rule became
 * compares and blends); VMAXPS(lo, v) / VMINPS(hi, v) are exactly
 * `v < lo ? lo : v` / `v > hi ? hi : v` (the second operand is returned when
 * unordered, so a NaN passes as in the reference). Same IEEE operation per
 * element, so the same bits. Masked tails.
 */
#define BIN512_OP_add _mm512_add_ps
#define BIN512_OP_sub _mm512_sub_ps
#define BIN512_OP_mul _mm512_mul_ps
#define BIN512_ROWS(name)                                                                   \
    __attribute__((target("avx512f"))) static inline __m512 name##_v512(__m512 x, __m512 y, \
                                                                     __m512 lo, __m512 hi) { \
        return _mm512_min_ps(hi, _mm512_max_ps(lo, BIN512_OP_##name(x, y)));                \
    }                                                                                       \
    __attribute__((target("avx512f"))) static void name##_row512(                          \
        const float *a, const float *b, float *o, size_t n, float lo_, float hi_, int sa,   \
        int sb) {                                                                           \
        const __m512 lo = _mm512_set1_ps(lo_), hi = _mm512_set1_ps(hi_);                   \
        const __m512 ca = _mm512_set1_ps(a[0]), cb = _mm512_set1_ps(b[0]);                  \
        size_t i = 0;                                                                       \
        for (; i + 32 <= n; i += 32) {                                                      \
            const __m512 x0 = sa ? ca : _mm512_loadu_ps(a + i);                             \
            const __m512 x1 = sa ? ca : _mm512_loadu_ps(a + i + 16);                        \
            const __m512 y0 = sb ? cb : _mm512_loadu_ps(b + i);                             \
            const __m512 y1 = sb ? cb : _mm512_loadu_ps(b + i + 16);                        \
            _mm512_storeu_ps(o + i, name##_v512(x0, y0, lo, hi));                           \
            _mm512_storeu_ps(o + i + 16, name##_v512(x1, y1, lo, hi));                      \
        }                                                                                   \
        for (; i < n; i += 16) {                                                            \
            const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF                             \
                                            : (__mmask16)((1u << (n - i)) - 1);             \
            const __m512 x = sa ? ca : _mm512_maskz_loadu_ps(m, a + i);                     \
            const __m512 y = sb ? cb : _mm512_maskz_loadu_ps(m, b + i);                     \
            _mm512_mask_storeu_ps(o + i, m, name##_v512(x, y, lo, hi));                     \
        }                                                                                   \
    }                                                                                       \
    static void name##_vv512(const float *a, const float *b, float *o, size_t n, float lo,  \
                             float hi) {                                                    \
        name##_row512(a, b, o, n, lo, hi, 0, 0);                                            \
    }                                                                                       \
    static void name##_vs512(const float *a, const float *b, float *o, size_t n, float lo,  \
                             float hi) {                                                    \
        name##_row512(a, b, o, n, lo, hi, 0, 1);                                            \
    }                                                                                       \
    static void name##_sv512(const float *a, const float *b, float *o, size_t n, float lo,  \
                             float hi) {                                                    \
        name##_row512(a, b, o, n, lo, hi, 1, 0);                                            \
    }
BIN512_ROWS(add)
BIN512_ROWS(sub)
BIN512_ROWS(mul)
#endif

typedef struct bin_fns {
    bin_row_fn vv, vs, sv;
    uint32_t cost; /* rough relative cost per element, for threading */
} bin_fns;

#define FNS(name, cost) {name##_vv, name##_vs, name##_sv, cost}

static bin_fns binary_fns(qlite_op_code code) {
    switch (code) {
    case QLITE_OP_ADD: return (bin_fns)FNS(add, 1);
    case QLITE_OP_SUB: return (bin_fns)FNS(sub, 1);
    case QLITE_OP_MUL: return (bin_fns)FNS(mul, 1);
    case QLITE_OP_DIV: return (bin_fns)FNS(div, 2);
    case QLITE_OP_POW: return (bin_fns)FNS(pow, 30);
    case QLITE_OP_MINIMUM: return (bin_fns)FNS(min, 1);
    case QLITE_OP_MAXIMUM: return (bin_fns)FNS(max, 1);
    case QLITE_OP_PRELU: return (bin_fns)FNS(prelu, 1);
    default: return (bin_fns){NULL, NULL, NULL, 0};
    }
}

typedef struct binary_state {
    qlite_eval_fn eval;  /* binary_eval_f32 (first: qlite_eval_dispatch) */
    qlite_bcast bc;
    bin_fns fns;
    float lo, hi;        /* fused activation clamp */
} binary_state;

static qlite_status binary_eval_f32(qlite_node *node);

static qlite_status binary_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 2, 2, 2, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *a = node->inputs[0], *b = node->inputs[1];
    qlite_tensor *out = node->outputs[0];
    const bool prelu = node->op->code == QLITE_OP_PRELU;

    qlite_activation act = QLITE_ACT_NONE;
    if (node->opts->type == QLITE_OPTIONS_BINARY) {
        act = node->opts->u.binary.activation;
        if ((unsigned)act >= QLITE_ACT_COUNT)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "fused activation %d is not valid", (int)act);
    } else if (node->opts->type != QLITE_OPTIONS_NONE) {
        return qlite_node_check_options(node, QLITE_OPTIONS_BINARY);
    }
    if (qlite_is_q8(a->dtype)) return qlite_binary_q8_prepare(node, act);
    if ((st = qlite_node_check_dtype(node, a, "input 0", QLITE_DTYPE_FLOAT32)) != QLITE_OK ||
        (st = qlite_node_check_same_dtype(node, a, "input 0", b, prelu ? "slope" : "input 1")) !=
            QLITE_OK ||
        (st = qlite_node_check_same_dtype(node, a, "input 0", out, "output")) != QLITE_OK)
        return st;

    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    char sa[QLITE_SHAPE_STR_MAX], sb[QLITE_SHAPE_STR_MAX];
    if (!qlite_broadcast_shape(a->rank, a->dims, b->rank, b->dims, &rank, dims))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "shapes %s and %s do not broadcast",
                                qlite_shape_str(a->rank, a->dims, sa, sizeof sa),
                                qlite_shape_str(b->rank, b->dims, sb, sizeof sb));
    if (prelu) {
        /* the slope broadcasts to x; the output is x's shape */
        bool same = rank == a->rank;
        for (uint32_t i = 0; same && i < rank; i++) same = dims[i] == a->dims[i];
        if (!same)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "slope %s does not broadcast to the input %s",
                                    qlite_shape_str(b->rank, b->dims, sb, sizeof sb),
                                    qlite_shape_str(a->rank, a->dims, sa, sizeof sa));
    }
    if ((st = qlite_node_set_output_shape(node, 0, rank, dims)) != QLITE_OK) return st;

    binary_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = binary_eval_f32;
    qlite_bcast_init(&s->bc, a->rank, a->dims, b->rank, b->dims);
    s->fns = binary_fns(node->op->code);
    if (!s->fns.vv)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "not a binary op");
    if (node->op->code == QLITE_OP_POW && b->is_const && qlite_tensor_elements(b) == 1 &&
        *(const float *)b->data == 2.0f)
        s->fns = (bin_fns)FNS(square, 1);
#ifdef BINARY_X86
    else if (!qlite_node_reference_only(node) &&
             (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512)) {
        const uint32_t cost = s->fns.cost;
        switch (node->op->code) {
        case QLITE_OP_ADD: s->fns = (bin_fns){add_vv512, add_vs512, add_sv512, cost}; break;
        case QLITE_OP_SUB: s->fns = (bin_fns){sub_vv512, sub_vs512, sub_sv512, cost}; break;
        case QLITE_OP_MUL: s->fns = (bin_fns){mul_vv512, mul_vs512, mul_sv512, cost}; break;
        default: break;
        }
    }
#endif
    qlite_activation_range_f32(act, &s->lo, &s->hi);
    node->state = s;
    return QLITE_OK;
}

typedef struct binary_job {
    const binary_state *s;
    const float *a, *b;
    float *out;
} binary_job;

static void binary_range(void *arg, size_t begin, size_t end) {
    const binary_job *j = arg;
    const binary_state *s = j->s;
    const qlite_bcast *bc = &s->bc;
    const uint32_t last = bc->rank - 1;
    const size_t inner = (size_t)bc->dims[last];
    bin_row_fn row = bc->stride_a[last] == 0 ? s->fns.sv
                     : bc->stride_b[last] == 0 ? s->fns.vs : s->fns.vv;
    qlite_bcast_iter it;
    qlite_bcast_iter_seek(bc, &it, begin);
    size_t pos = begin;
    while (pos < end) {
        size_t c = (size_t)it.coord[last];
        size_t n = inner - c;
        if (n > end - pos) n = end - pos;
        row(j->a + it.off_a, j->b + it.off_b, j->out + pos, n, s->lo, s->hi);
        pos += n;
        if (pos < end) qlite_bcast_iter_next_row(bc, &it);
    }
}

static qlite_status binary_eval_f32(qlite_node *node) {
    const binary_state *s = node->state;
    binary_job j = {s, node->inputs[0]->data, node->inputs[1]->data, node->outputs[0]->data};
    /* cost per element for qlite_kernel_parallel: at least 2 units per byte moved (12:
     * two floats read, one written), so from ~32 KiB on two threads split the rows. A
     * serial op reads the part of its inputs the other core wrote (threadpool.c: with 2
     * threads the worker writes the back part of every pixel-ordered op) at ~7 ns a line,
     * more than a pool job's start and end (~2 us) from about that size; MobileNetV2
     * float32's 14x14 and 28x28 ADDs (12-25 Ki elements, below the 64 Ki the plain cost
     * of 1 gave) took 1.2-1.6x their 1-thread time at 2 threads. */
    qlite_kernel_parallel(node, s->bc.count, s->fns.cost > 24 ? s->fns.cost : 24, binary_range,
                          &j);
    return QLITE_OK;
}

#define BINARY_KERNEL(name)                  \
    const qlite_kernel qlite_kernel_##name = { \
        .prepare = binary_prepare, .eval = qlite_eval_dispatch}

BINARY_KERNEL(add);
BINARY_KERNEL(sub);
BINARY_KERNEL(mul);
BINARY_KERNEL(div);
BINARY_KERNEL(pow);
BINARY_KERNEL(minimum);
BINARY_KERNEL(maximum);
BINARY_KERNEL(prelu);
