/*
 * nn_common.h — validation helpers shared by the compute-heavy kernels
 * (conv, fully connected, matmul, pooling, resize, recurrent cells).
 */
#ifndef QLITE_NN_COMMON_H
#define QLITE_NN_COMMON_H

#include <string.h>

#include "kernel_util.h"

/*
 * Kernel files are compiled with -fno-trapping-math -fno-math-errno (and, on
 * gcc, -fno-tree-loop-distribute-patterns) by CMakeLists.txt: loops with float
 * selects vectorize, and copy loops of a few floats stay loops instead of
 * memcpy calls. (These used to be `#pragma GCC optimize`, which stops gcc from
 * inlining any helper defined without the same pragma: a 6x slower FC.)
 * The two macros remain as no-ops for the files that still name them.
 */
#define QLITE_NN_OPTIMIZE_LOOPS
#define QLITE_NN_NO_LIBCALL_LOOPS

/* Checks the node has between min and max inputs and at least min_out outputs. */
static inline qlite_status qlite_nn_check_io(qlite_node *node, uint32_t min_in, uint32_t max_in,
                                             uint32_t min_out, uint32_t max_out) {
    if (node->num_inputs < min_in || node->num_inputs > max_in)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "expects %u to %u inputs, has %u", min_in, max_in,
                                node->num_inputs);
    if (node->num_outputs < min_out || node->num_outputs > max_out)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "expects %u to %u outputs, has %u", min_out, max_out,
                                node->num_outputs);
    for (uint32_t i = 0; i < min_in; i++)
        if (!node->inputs[i])
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "input %u is required", i);
    return QLITE_OK;
}

/* An input present with the expected rank (rank 0 = any). */
static inline qlite_status qlite_nn_check_rank(qlite_node *node, const qlite_tensor *t,
                                               const char *what, uint32_t rank) {
    if (rank && t->rank != rank)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "%s '%s' must have rank %u, has %u", what,
                                t->info->name, rank, t->rank);
    for (uint32_t i = 0; i < t->rank; i++)
        if (t->dims[i] < 0)
            return qlite_node_error(node, QLITE_ERR_SHAPE, "%s '%s' has dim %u = %lld", what,
                                    t->info->name, i, (long long)t->dims[i]);
    return QLITE_OK;
}

static inline qlite_status qlite_nn_check_dtype(qlite_node *node, const qlite_tensor *t,
                                                const char *what, qlite_dtype want) {
    if (t->dtype != want)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "%s '%s' is %s, expected %s", what,
                                t->info->name, qlite_dtype_name(t->dtype),
                                qlite_dtype_name(want));
    return QLITE_OK;
}

/* True for the dtypes the float, float16, int8 and hybrid variants of these
 * ops take: a pair of them with no kernel is QLITE_ERR_UNSUPPORTED_OP
 * (a valid model this build cannot run), any other dtype QLITE_ERR_DTYPE. */
static inline bool qlite_nn_is_numeric(qlite_dtype d) {
    return d == QLITE_DTYPE_FLOAT32 || d == QLITE_DTYPE_FLOAT16 || d == QLITE_DTYPE_INT8 ||
           d == QLITE_DTYPE_UINT8 || d == QLITE_DTYPE_INT4;
}

/* A (activation dtype, weight dtype) pair as one switch value. */
#define QLITE_NN_PAIR(act, wt) (((unsigned)(act) << 8) | (unsigned)(wt))
#define QLITE_NN_F32_F32 QLITE_NN_PAIR(QLITE_DTYPE_FLOAT32, QLITE_DTYPE_FLOAT32)

/* The error for an (activation, weight) dtype pair with no kernel. */
static inline qlite_status qlite_nn_unsupported_pair(qlite_node *node, const qlite_tensor *in,
                                                     const qlite_tensor *w) {
    if (!qlite_nn_is_numeric(in->dtype) || !qlite_nn_is_numeric(w->dtype))
        return qlite_node_error(node, QLITE_ERR_DTYPE, "input '%s' is %s and weights '%s' %s",
                                in->info->name, qlite_dtype_name(in->dtype), w->info->name,
                                qlite_dtype_name(w->dtype));
    return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                            "no kernel for %s input with %s weights (only float32 x float32 "
                            "is implemented)",
                            qlite_dtype_name(in->dtype), qlite_dtype_name(w->dtype));
}

/* Fused activation of the options as a float clamp; false if out of range. */
static inline bool qlite_nn_activation(qlite_activation act, float *lo, float *hi) {
    if ((unsigned)act >= QLITE_ACT_COUNT) return false;
    qlite_activation_range_f32(act, lo, hi);
    return true;
}

/* Integer ceil/floor division for a positive divisor. */
static inline int64_t qlite_nn_div_floor(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/*
 * Output size of a sliding window over `in` (+ pads) with kernel k, stride s,
 * dilation d: floor (or ceil) of (in + pad0 + pad1 - ((k - 1) * d + 1)) / s + 1.
 * Returns -1 when the window does not fit or a parameter is out of range.
 */
static inline int64_t qlite_nn_window_out(int64_t in, int64_t k, int64_t s, int64_t d,
                                          int64_t pad0, int64_t pad1, bool ceil_mode) {
    if (k < 1 || s < 1 || d < 1 || pad0 < 0 || pad1 < 0 || k > INT32_MAX || d > INT32_MAX)
        return -1;
    const int64_t span = in + pad0 + pad1 - ((k - 1) * d + 1);
    if (span < 0) return -1;
    return (ceil_mode ? (span + s - 1) / s : span / s) + 1;
}

/*
 * 16 floats as one generic vector (the compiler splits it into whatever
 * registers the target has: 4 SSE, 2 AVX, 1 AVX-512), for channel loops of
 * the NHWC window kernels. Unaligned loads and stores go through memcpy.
 */
typedef float qlite_v16f __attribute__((vector_size(64), aligned(4), may_alias));
/* (macros, not functions: passing such vectors by value changes the ABI
 * between ISAs) */
#define QLITE_V16F_LOAD(v, p) ((v) = *(const qlite_v16f *)(p))
#define QLITE_V16F_STORE(p, v) (*(qlite_v16f *)(p) = (v))
typedef int32_t qlite_v16i __attribute__((vector_size(64), aligned(4), may_alias));
/* acc = v > acc ? v : acc, lane by lane (C has no vector ?:) */
#define QLITE_V16F_MAX_INTO(acc, v)                                                    \
    do {                                                                                \
        const qlite_v16i m_ = (v) > (acc);                                              \
        (acc) = (qlite_v16f)(((qlite_v16i)(v) & m_) | ((qlite_v16i)(acc) & ~m_));       \
    } while (0)

/* Splits [0, n) into `parts` near-equal ranges; range t is [*b, *e). */
static inline void qlite_nn_split(size_t n, size_t parts, size_t t, size_t *b, size_t *e) {
    *b = n * t / parts;
    *e = n * (t + 1) / parts;
}

/*
 * FULLY_CONNECTED's options and shapes, one reading for all its variants:
 * input x [..., K] (rank >= 1), weights w [N, K]; M = the product of x's
 * dims but the last; output 0 set to [..., N] (keep_num_dims) or [M, N].
 * Options absent = no activation, keep_num_dims. Bias and dtypes are the
 * variant's to check.
 */
typedef struct qlite_fc_shape {
    qlite_fully_connected_options o;
    size_t M, N, K;
} qlite_fc_shape;

static inline qlite_status qlite_fc_shape_get(qlite_node *node, qlite_fc_shape *g) {
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    g->o = (qlite_fully_connected_options){.activation = QLITE_ACT_NONE, .keep_num_dims = true};
    if (node->opts->type == QLITE_OPTIONS_FULLY_CONNECTED)
        g->o = node->opts->u.fully_connected;
    else if (node->opts->type != QLITE_OPTIONS_NONE)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not FullyConnected");
    qlite_status st;
    if ((st = qlite_nn_check_rank(node, x, "input", 0)) ||
        (st = qlite_nn_check_rank(node, w, "weights", 2)))
        return st;
    if (x->rank < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "input '%s' must have rank >= 1",
                                x->info->name);
    const int64_t K = x->dims[x->rank - 1], N = w->dims[0];
    if (w->dims[1] != K)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "weights '%s' are [%lld, %lld] but the input has %lld features",
                                w->info->name, (long long)w->dims[0], (long long)w->dims[1],
                                (long long)K);
    g->K = (size_t)K;
    g->N = (size_t)N;
    g->M = 1;
    for (uint32_t i = 0; i + 1 < x->rank; i++) g->M *= (size_t)x->dims[i];
    int64_t dims[QLITE_MAX_RANK];
    uint32_t rank = 2;
    if (g->o.keep_num_dims) {
        rank = x->rank;
        for (uint32_t i = 0; i + 1 < rank; i++) dims[i] = x->dims[i];
        dims[rank - 1] = N;
    } else {
        dims[0] = (int64_t)g->M;
        dims[1] = N;
    }
    return qlite_node_set_output_shape(node, 0, rank, dims);
}

/*
 * BATCH_MATMUL's options and shapes, one reading for all its variants:
 * A [..., M, K] and B [..., K, N] (transposed per the options; a rank-1
 * operand is a row (A) or column (B) vector, never transposed), batch dims
 * broadcast NumPy-style, right-aligned (astride / bstride 0 on a broadcast
 * dim); nb = B's own batch count; output 0 set to [batch..., M, N] without
 * the vector dims. Dtypes and the activation are the variant's to check.
 */
typedef struct qlite_bmm_shape {
    qlite_batch_matmul_options o;
    bool a_vec, b_vec, ta, tb;
    size_t M, K, N, batches, nb;
    uint32_t brank;
    int64_t bdims[QLITE_MAX_RANK], astride[QLITE_MAX_RANK], bstride[QLITE_MAX_RANK];
} qlite_bmm_shape;

static inline qlite_status qlite_bmm_shape_get(qlite_node *node, qlite_bmm_shape *g) {
    const qlite_tensor *a = node->inputs[0], *b = node->inputs[1];
    g->o = (qlite_batch_matmul_options){.transpose_a = false, .transpose_b = false,
                                        .activation = QLITE_ACT_NONE};
    if (node->opts->type == QLITE_OPTIONS_BATCH_MATMUL)
        g->o = node->opts->u.batch_matmul;
    else if (node->opts->type != QLITE_OPTIONS_NONE)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not BatchMatMul");
    qlite_status st;
    if ((st = qlite_nn_check_rank(node, a, "A", 0)) || (st = qlite_nn_check_rank(node, b, "B", 0)))
        return st;
    if (a->rank < 1 || b->rank < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "operands must have rank >= 1");
    const bool a_vec = a->rank == 1, b_vec = b->rank == 1;
    g->a_vec = a_vec;
    g->b_vec = b_vec;
    g->ta = g->o.transpose_a && !a_vec;
    g->tb = g->o.transpose_b && !b_vec;
    const int64_t am = a_vec ? 1 : a->dims[a->rank - (g->ta ? 1 : 2)];
    const int64_t ak = a->dims[a->rank - (a_vec || !g->ta ? 1 : 2)];
    const int64_t bk = b_vec ? b->dims[0] : b->dims[b->rank - (g->tb ? 1 : 2)];
    const int64_t bn = b_vec ? 1 : b->dims[b->rank - (g->tb ? 2 : 1)];
    if (ak != bk)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "inner dims differ: A '%s' has K = %lld, B '%s' has K = %lld",
                                a->info->name, (long long)ak, b->info->name, (long long)bk);
    g->M = (size_t)am, g->K = (size_t)ak, g->N = (size_t)bn;
    const uint32_t ar = a_vec ? 0 : a->rank - 2, br = b_vec ? 0 : b->rank - 2;
    g->brank = ar > br ? ar : br;
    int64_t as = 1, bs = 1;
    g->batches = 1;
    for (int i = (int)g->brank - 1; i >= 0; i--) {
        const int ia = i - (int)(g->brank - ar), ib = i - (int)(g->brank - br);
        const int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "batch dims do not broadcast: %lld vs %lld", (long long)da,
                                    (long long)db);
        g->bdims[i] = da > db ? da : db;
        if (da == 0 || db == 0) g->bdims[i] = 0;
        g->astride[i] = da == 1 ? 0 : as;
        g->bstride[i] = db == 1 ? 0 : bs;
        as *= da;
        bs *= db;
        g->batches *= (size_t)g->bdims[i];
    }
    g->nb = (size_t)bs;
    int64_t dims[QLITE_MAX_RANK];
    uint32_t rank = 0;
    for (uint32_t i = 0; i < g->brank; i++) dims[rank++] = g->bdims[i];
    if (!a_vec) dims[rank++] = am;
    if (!b_vec) dims[rank++] = bn;
    return qlite_node_set_output_shape(node, 0, rank, dims);
}

/* The shape fields every BATCH_MATMUL state carries, from g. */
#define QLITE_BMM_SHAPE_COPY(s, g)                                                \
    do {                                                                          \
        (s)->ta = (g).ta, (s)->tb = (g).tb;                                       \
        (s)->M = (g).M, (s)->K = (g).K, (s)->N = (g).N;                           \
        (s)->brank = (g).brank, (s)->batches = (g).batches;                       \
        memcpy((s)->bdims, (g).bdims, sizeof (g).bdims);                          \
        memcpy((s)->astride, (g).astride, sizeof (g).astride);                    \
        memcpy((s)->bstride, (g).bstride, sizeof (g).bstride);                    \
    } while (0)

#endif /* QLITE_NN_COMMON_H */
