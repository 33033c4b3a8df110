/*
 * binary_q8.c — int8 / uint8 ADD, SUB, MUL, MINIMUM, MAXIMUM and PRELU with
 * numpy broadcasting and fused activation clamps (docs/quantization.md
 * §4.3, §4.4, §4.10, §4.11). binary.c's prepare hands int8/uint8 nodes here.
 *
 * Every input value enters through a 256-entry table indexed by its byte,
 * filled at prepare with the per-input part of the op's formula, so eval
 * does only what depends on both inputs:
 *
 *   ADD  ta[a] = requantize((a - za) * 2^20, sa / t)         t = 2 max(sa, sb)
 *        tb[b] = requantize((b - zb) * 2^20, sb / t)         (SUB: -that)
 *        y     = clamp(zy + requantize(ta[a] + tb[b], t / (2^20 sy)), lo, hi)
 *   MUL  ta[a] = a - za, tb[b] = b - zb
 *        y     = clamp(zy + requantize(ta[a] * tb[b], sa sb / sy), lo, hi)
 *   MIN/MAX  ta[a] = clamp(zy + requantize(a - za, sa / sy), dtype range): a on
 *        the output's grid (tb likewise), y = clamp(min/max(ta[a], tb[b]), lo, hi)
 *   PRELU ta[x] = x - zx; pos[x] = output code for x >= zx;
 *        x < zx: y = clamp(zy + requantize(ta[x] * (alpha - zalpha[c]),
 *                                          sx salpha[c] / sy), lo, hi)
 *        with one multiplier per alpha channel c (precomputed for every
 *        alpha element, so any broadcast of alpha works).
 *
 * Every intermediate fits int32: |ta| < 2^27 for ADD (|a - za| <= 255,
 * times 2^20, times sa/t <= 1/2), products <= 255 * 255 for MUL/PRELU.
 * Eval allocates nothing and uses no float. Rows are the broadcast rows of
 * qlite_bcast (kernel_util.h): vector-vector, vector-scalar, scalar-vector.
 */
#include <string.h>

#include "kernels/elementwise_q8.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"

#define ADD_LEFT_SHIFT 20

enum { Q_ADD, Q_MUL, Q_MIN, Q_MAX, Q_PRELU, Q_ADD_FAST, Q_MUL_FAST };

typedef struct binary_q8_state {
    qlite_eval_fn eval;              /* must stay first (qlite_eval_dispatch) */
    qlite_bcast bc;
    int kind;                        /* Q_* (SUB is Q_ADD with tb negated) */
    int32_t lo, hi;                  /* output clamp: dtype range ∩ fused activation */
    int32_t zy;
    int32_t out_m, out_shift;        /* ADD: t / (2^20 sy); MUL: sa sb / sy */
    qlite_rq_fast out_fast;          /* the same, branch-free (valid when `fast`) */
    bool fast;                       /* no accumulator can saturate the left shift */
    int32_t in_m[2], in_shift[2];    /* ADD: the input stages' multipliers */
    qlite_q8_binary_fn vec;          /* fused variant (elementwise_q8.h), NULL: rows below */
    qlite_q8_binary_params vp;       /* its parameters */
    uint8_t planes[8][256];          /* ADD: bytes of ta and tb (qlite_q8_binary_params) */
    int32_t ta[256], tb[256];        /* per-input tables (see the top comment) */
    uint8_t pos[256];                /* PRELU: output code for x >= zx */
    int32_t *alpha_zp;               /* PRELU, per alpha element: zero point of its channel */
    int32_t *alpha_m, *alpha_shift;  /* PRELU, per alpha element: sx salpha[c] / sy */
} binary_q8_state;

typedef void (*q8_row_fn)(const binary_q8_state *s, const uint8_t *a, const uint8_t *b,
                          uint8_t *o, size_t n, size_t off_b);

/* The state's fields in locals: the output is bytes, which may alias anything,
 * so the compiler would otherwise reload them after every store. */
#define Q8_LOCALS                                                                           \
    const int32_t *const ta = s->ta, *const tb = s->tb;                                     \
    const int32_t om = s->out_m, osh = s->out_shift, zy = s->zy, lo = s->lo, hi = s->hi;    \
    const qlite_rq_fast rf = s->out_fast;                                                   \
    (void)ta; (void)tb; (void)om; (void)osh; (void)zy; (void)lo; (void)hi; (void)rf

/* Rows in three shapes: vv (both contiguous), vs (b one value), sv (a one value). */
#define Q8_ROWS(name, EXPR)                                                                 \
    static void name##_vv(const binary_q8_state *s, const uint8_t *a, const uint8_t *b,     \
                          uint8_t *o, size_t n, size_t off_b) {                             \
        Q8_LOCALS;                                                                          \
        for (size_t i = 0; i < n; i++) {                                                    \
            const uint8_t x = a[i], y = b[i];                                               \
            const size_t ib = off_b + i;                                                    \
            (void)ib;                                                                       \
            o[i] = (uint8_t)(EXPR);                                                         \
        }                                                                                   \
    }                                                                                       \
    static void name##_vs(const binary_q8_state *s, const uint8_t *a, const uint8_t *b,     \
                          uint8_t *o, size_t n, size_t off_b) {                             \
        Q8_LOCALS;                                                                          \
        const uint8_t y = b[0];                                                             \
        const size_t ib = off_b;                                                            \
        (void)ib;                                                                           \
        for (size_t i = 0; i < n; i++) {                                                    \
            const uint8_t x = a[i];                                                         \
            o[i] = (uint8_t)(EXPR);                                                         \
        }                                                                                   \
    }                                                                                       \
    static void name##_sv(const binary_q8_state *s, const uint8_t *a, const uint8_t *b,     \
                          uint8_t *o, size_t n, size_t off_b) {                             \
        Q8_LOCALS;                                                                          \
        const uint8_t x = a[0];                                                             \
        for (size_t i = 0; i < n; i++) {                                                    \
            const uint8_t y = b[i];                                                         \
            const size_t ib = off_b + i;                                                    \
            (void)ib;                                                                       \
            o[i] = (uint8_t)(EXPR);                                                         \
        }                                                                                   \
    }

static inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
/* Two independent selects (cmov), not a nested one that compilers turn into a
 * branch: saturating outputs are common and would mispredict. */
static inline int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi) {
    v = v > hi ? hi : v;
    return v < lo ? lo : v;
}

static inline int32_t prelu_one(const binary_q8_state *s, uint8_t x, uint8_t alpha, size_t ib) {
    const int32_t d = s->ta[x];
    if (d >= 0) return s->pos[x];
    return qlite_q8_out(d * (s->tb[alpha] - s->alpha_zp[ib]), s->alpha_m[ib], s->alpha_shift[ib],
                        s->zy, s->lo, s->hi);
}

Q8_ROWS(q8_add, qlite_q8_out(ta[x] + tb[y], om, osh, zy, lo, hi))
Q8_ROWS(q8_mul, qlite_q8_out(ta[x] * tb[y], om, osh, zy, lo, hi))
/* the same two with the branch-free requantize (prepare proved it exact) */
Q8_ROWS(q8_addf, clamp_i32(zy + qlite_rq_fast_apply(ta[x] + tb[y], &rf), lo, hi))
Q8_ROWS(q8_mulf, clamp_i32(zy + qlite_rq_fast_apply(ta[x] * tb[y], &rf), lo, hi))
Q8_ROWS(q8_min, clamp_i32(min_i32(ta[x], tb[y]), lo, hi))
Q8_ROWS(q8_max, clamp_i32(max_i32(ta[x], tb[y]), lo, hi))
Q8_ROWS(q8_prelu, prelu_one(s, x, y, ib))

typedef struct q8_row_fns {
    q8_row_fn vv, vs, sv;
} q8_row_fns;

static const q8_row_fns q8_fns[] = {
    [Q_ADD] = {q8_add_vv, q8_add_vs, q8_add_sv},
    [Q_MUL] = {q8_mul_vv, q8_mul_vs, q8_mul_sv},
    [Q_MIN] = {q8_min_vv, q8_min_vs, q8_min_sv},
    [Q_MAX] = {q8_max_vv, q8_max_vs, q8_max_sv},
    [Q_PRELU] = {q8_prelu_vv, q8_prelu_vs, q8_prelu_sv},
    [Q_ADD_FAST] = {q8_addf_vv, q8_addf_vs, q8_addf_sv},
    [Q_MUL_FAST] = {q8_mulf_vv, q8_mulf_vs, q8_mulf_sv},
};

typedef struct q8_job {
    const binary_q8_state *s;
    const uint8_t *a, *b;
    uint8_t *out;
} q8_job;

static void binary_q8_range(void *arg, size_t begin, size_t end) {
    const q8_job *j = arg;
    const binary_q8_state *s = j->s;
    const qlite_bcast *bc = &s->bc;
    const uint32_t last = bc->rank - 1;
    const size_t inner = (size_t)bc->dims[last];
    const int kind = s->fast ? (s->kind == Q_ADD ? Q_ADD_FAST : Q_MUL_FAST) : s->kind;
    const q8_row_fns *f = &q8_fns[kind];
    q8_row_fn row = bc->stride_a[last] == 0 ? f->sv : bc->stride_b[last] == 0 ? f->vs : f->vv;
    const qlite_q8_bshape shape = bc->stride_a[last] == 0   ? QLITE_Q8_SV
                                  : bc->stride_b[last] == 0 ? QLITE_Q8_VS
                                                            : QLITE_Q8_VV;
    qlite_bcast_iter it;
    qlite_bcast_iter_seek(bc, &it, begin);
    size_t pos = begin;
    while (pos < end) {
        size_t c = (size_t)it.coord[last];
        size_t n = inner - c;
        if (n > end - pos) n = end - pos;
        if (s->vec)
            s->vec(&s->vp, j->a + it.off_a, j->b + it.off_b, j->out + pos, n, shape);
        else
            row(s, j->a + it.off_a, j->b + it.off_b, j->out + pos, n, it.off_b);
        pos += n;
        if (pos < end) qlite_bcast_iter_next_row(bc, &it);
    }
}

static qlite_status binary_q8_eval(qlite_node *node) {
    const binary_q8_state *s = node->state;
    q8_job j = {s, node->inputs[0]->data, node->inputs[1]->data, node->outputs[0]->data};
    /* cost per element in qlite_kernel_parallel's float-op units: the fused ADD / MUL
     * row takes ~0.4-0.8 ns an element (AVX-512), 4-8 vectorized float adds; at 4 the
     * three 14x14x64 ADDs of MobileNetV2 (~10 us each) stayed on one thread */
    qlite_kernel_parallel(node, s->bc.count, s->kind == Q_ADD || s->kind == Q_MUL ? 8 : 2,
                          binary_q8_range, &j);
    return QLITE_OK;
}

/* ADD/SUB tables: ta = requantize((q - z) * 2^20, s / t), negated for SUB's b. */
static qlite_status add_tables(const qlite_node *node, binary_q8_state *s, const qlite_q8 *qa,
                               const qlite_q8 *qb, const qlite_q8 *qy, bool sub) {
    const double t = 2.0 * (double)(qa->scale > qb->scale ? qa->scale : qb->scale);
    int32_t ma, sha, mb, shb;
    qlite_status st;
    if ((st = qlite_node_multiplier(node, (double)qa->scale / t, "input 0 / (2 max scale)", &ma,
                                    &sha)) != QLITE_OK ||
        (st = qlite_node_multiplier(node, (double)qb->scale / t, "input 1 / (2 max scale)", &mb,
                                    &shb)) != QLITE_OK ||
        (st = qlite_node_multiplier(node, t / ((double)(1 << ADD_LEFT_SHIFT) * (double)qy->scale),
                                    "2 max scale / (2^20 output scale)", &s->out_m,
                                    &s->out_shift)) != QLITE_OK)
        return st;
    s->in_m[0] = ma, s->in_shift[0] = sha, s->in_m[1] = mb, s->in_shift[1] = shb;
    for (int b = 0; b < 256; b++) {
        const int32_t va = qlite_q8_decode((uint8_t)b, qa->is_signed) - qa->zero_point;
        const int32_t vb = qlite_q8_decode((uint8_t)b, qb->is_signed) - qb->zero_point;
        s->ta[b] = qlite_requantize(va * (1 << ADD_LEFT_SHIFT), ma, sha);
        const int32_t rb = qlite_requantize(vb * (1 << ADD_LEFT_SHIFT), mb, shb);
        s->tb[b] = sub ? -rb : rb;
    }
    return QLITE_OK;
}

/* MINIMUM/MAXIMUM: each input rescaled to the output (§4.8), clamped to the dtype. */
static qlite_status minmax_tables(const qlite_node *node, binary_q8_state *s, const qlite_q8 *qa,
                                  const qlite_q8 *qb, const qlite_q8 *qy) {
    uint8_t ra[256], rb[256];
    qlite_status st;
    if ((st = qlite_q8_rescale_table(node, ra, qa, qy, qy->qmin, qy->qmax, "input 0 / output")) !=
            QLITE_OK ||
        (st = qlite_q8_rescale_table(node, rb, qb, qy, qy->qmin, qy->qmax, "input 1 / output")) !=
            QLITE_OK)
        return st;
    for (int b = 0; b < 256; b++) {
        s->ta[b] = qlite_q8_decode(ra[b], qy->is_signed);
        s->tb[b] = qlite_q8_decode(rb[b], qy->is_signed);
    }
    return QLITE_OK;
}

/* PRELU: positive-side table and one multiplier per alpha element. */
static qlite_status prelu_tables(qlite_node *node, binary_q8_state *s, const qlite_tensor *alpha,
                                 const qlite_q8 *qx, const qlite_q8 *qy) {
    qlite_status st;
    const bool sgn = alpha->dtype == QLITE_DTYPE_INT8;
    qlite_qparams ap;
    if ((st = qlite_qparams_init(node, alpha, "slope", sgn ? -128 : 0, sgn ? 127 : 255, &ap)) !=
        QLITE_OK)
        return st;
    int32_t mpos, shpos;
    if ((st = qlite_node_multiplier(node, (double)qx->scale / (double)qy->scale,
                                    "input / output", &mpos, &shpos)) != QLITE_OK)
        return st;
    for (int b = 0; b < 256; b++) {
        s->ta[b] = qlite_q8_decode((uint8_t)b, qx->is_signed) - qx->zero_point;
        s->tb[b] = qlite_q8_decode((uint8_t)b, sgn);
        s->pos[b] = (uint8_t)qlite_q8_out(s->ta[b] > 0 ? s->ta[b] : 0, mpos, shpos, s->zy, s->lo,
                                          s->hi);
    }
    /* one multiplier per alpha channel, expanded to every alpha element */
    const size_t n = qlite_tensor_elements(alpha);
    int32_t *mem = qlite_node_alloc(node, 3 * (n ? n : 1) * sizeof(int32_t));
    if (!mem) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->alpha_zp = mem;
    s->alpha_m = mem + n;
    s->alpha_shift = mem + 2 * n;
    for (size_t c = 0; c < ap.channels; c++) {
        int32_t m, sh;
        if ((st = qlite_node_multiplier(node,
                                        (double)qx->scale * (double)ap.scale[c] /
                                            (double)qy->scale,
                                        "input * slope / output", &m, &sh)) != QLITE_OK)
            return st;
        for (size_t o = 0; o < ap.outer; o++)
            for (size_t i = 0; i < ap.inner; i++) {
                const size_t e = (o * ap.channels + c) * ap.inner + i;
                s->alpha_zp[e] = ap.zero_point[c];
                s->alpha_m[e] = m;
                s->alpha_shift[e] = sh;
            }
    }
    return QLITE_OK;
}

qlite_status qlite_binary_q8_prepare(qlite_node *node, qlite_activation act) {
    const qlite_tensor *a = node->inputs[0], *b = node->inputs[1];
    qlite_tensor *out = node->outputs[0];
    const qlite_op_code code = node->op->code;
    const bool prelu = code == QLITE_OP_PRELU;
    int kind;
    switch (code) {
    case QLITE_OP_ADD:
    case QLITE_OP_SUB: kind = Q_ADD; break;
    case QLITE_OP_MUL: kind = Q_MUL; break;
    case QLITE_OP_MINIMUM: kind = Q_MIN; break;
    case QLITE_OP_MAXIMUM: kind = Q_MAX; break;
    case QLITE_OP_PRELU: kind = Q_PRELU; break;
    default:
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "%s has no integer kernel (the converter keeps it in float, "
                                "docs/quantization.md §6)",
                                qlite_op_name(code));
    }
    qlite_status st;
    qlite_q8 qa, qb, qy;
    if ((st = qlite_node_check_same_dtype(node, a, "input 0", b, prelu ? "slope" : "input 1")) !=
            QLITE_OK ||
        (st = qlite_node_check_same_dtype(node, a, "input 0", out, "output")) != QLITE_OK ||
        (st = qlite_q8_params(node, a, "input 0", &qa)) != QLITE_OK ||
        (!prelu && (st = qlite_q8_params(node, b, "input 1", &qb)) != QLITE_OK) ||
        (st = qlite_q8_params(node, out, "output", &qy)) != QLITE_OK)
        return st;

    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    char sa[QLITE_SHAPE_STR_MAX], sb[QLITE_SHAPE_STR_MAX];
    if (!qlite_broadcast_shape(a->rank, a->dims, b->rank, b->dims, &rank, dims))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "shapes %s and %s do not broadcast",
                                qlite_shape_str(a->rank, a->dims, sa, sizeof sa),
                                qlite_shape_str(b->rank, b->dims, sb, sizeof sb));
    if (prelu) {
        bool same = rank == a->rank;
        for (uint32_t i = 0; same && i < rank; i++) same = dims[i] == a->dims[i];
        if (!same)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "slope %s does not broadcast to the input %s",
                                    qlite_shape_str(b->rank, b->dims, sb, sizeof sb),
                                    qlite_shape_str(a->rank, a->dims, sa, sizeof sa));
    }
    if ((st = qlite_node_set_output_shape(node, 0, rank, dims)) != QLITE_OK) return st;

    binary_q8_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = binary_q8_eval;
    s->kind = kind;
    s->zy = qy.zero_point;
    qlite_activation_qrange(act, qy.scale, qy.zero_point, out->dtype, &s->lo, &s->hi);
    qlite_bcast_init(&s->bc, a->rank, a->dims, b->rank, b->dims);
    switch (kind) {
    case Q_ADD: st = add_tables(node, s, &qa, &qb, &qy, code == QLITE_OP_SUB); break;
    case Q_MUL:
        st = qlite_node_multiplier(node,
                                   (double)qa.scale * (double)qb.scale / (double)qy.scale,
                                   "input 0 * input 1 / output", &s->out_m, &s->out_shift);
        for (int v = 0; v < 256; v++) {
            s->ta[v] = qlite_q8_decode((uint8_t)v, qa.is_signed) - qa.zero_point;
            s->tb[v] = qlite_q8_decode((uint8_t)v, qb.is_signed) - qb.zero_point;
        }
        break;
    case Q_PRELU: st = prelu_tables(node, s, b, &qa, &qy); break;
    default: st = minmax_tables(node, s, &qa, &qb, &qy); break;
    }
    if (st != QLITE_OK) return st;
    if (kind == Q_ADD || kind == Q_MUL) {
        /* the largest accumulator decides whether the branch-free form is exact */
        int64_t ma = 0, mb = 0;
        for (int v = 0; v < 256; v++) {
            ma = s->ta[v] > ma ? s->ta[v] : (-(int64_t)s->ta[v] > ma ? -(int64_t)s->ta[v] : ma);
            mb = s->tb[v] > mb ? s->tb[v] : (-(int64_t)s->tb[v] > mb ? -(int64_t)s->tb[v] : mb);
        }
        s->fast = qlite_rq_fast_ok(kind == Q_ADD ? ma + mb : ma * mb, s->out_shift);
        s->out_fast = qlite_rq_fast_init(s->out_m, s->out_shift);
        /* the fused variants: fast form, input stages that shift right only */
        const bool rshift_in = kind == Q_MUL || (s->in_shift[0] <= 0 && s->in_shift[1] <= 0);
        const qlite_q8_ew_ukernels *v = qlite_node_reference_only(node) || !s->fast || !rshift_in
                                            ? NULL
                                            : qlite_q8_ew_select(QLITE_Q8_EW_BINARY);
        if (v) {
            s->vec = v->binary;
            s->vp = (qlite_q8_binary_params){
                .is_signed = qa.is_signed, .mul = kind == Q_MUL, .sub = code == QLITE_OP_SUB,
                .za = qa.zero_point, .zb = qb.zero_point,
                .ma = s->in_m[0], .ra = -s->in_shift[0], .mb = s->in_m[1], .rb = -s->in_shift[1],
                .om = s->out_m, .ol = s->out_shift > 0 ? s->out_shift : 0,
                .orr = s->out_shift > 0 ? 0 : -s->out_shift,
                .zy = s->zy, .lo = s->lo, .hi = s->hi};
            if (kind == Q_ADD) {
                for (int k = 0; k < 4; k++)
                    for (int q = 0; q < 256; q++) {
                        s->planes[k][q] = (uint8_t)((uint32_t)s->ta[q] >> (8 * k));
                        s->planes[4 + k][q] = (uint8_t)((uint32_t)s->tb[q] >> (8 * k));
                    }
                s->vp.planes = (const uint8_t(*)[256])s->planes;
            }
        }
    }
    node->state = s;
    return QLITE_OK;
}
