/*
 * unary.c — float32 element-wise functions, table-driven over the op codes:
 * SQRT EXP LOG ERF NEG ABS RECIPROCAL SQUARE RELU RELU6 LEAKY_RELU ELU CLIP
 * LOGISTIC TANH HARD_SIGMOID HARD_SWISH GELU.
 *
 * Parameters come from ActivationOptions (schema/qlite.fbs):
 *   LEAKY_RELU alpha; ELU alpha; HARD_SIGMOID alpha, beta (required: the
 *   schema defaults of 0 are not the op's ONNX defaults, so a missing table
 *   is an error rather than a silent guess); CLIP min, max and GELU
 *   approximate (optional: their schema defaults mean "unbounded" and "erf").
 *
 * Formulas (x float, computed in float):
 *   LOGISTIC      1 / (1 + exp(-x)), from e = exp(-|x|) (vectorizable exp,
 *                 kernel_util.h): x >= 0 ? 1/(1+e) : e/(1+e)
 *   TANH          x + x^3 P(x^2) for |x| < 0.5, else sign(x) (1 - e)/(1 + e),
 *                 e = exp(-2|x|) (unary_f32_body.inc; tanhf cost ~20 ns)
 *   HARD_SIGMOID  clamp(alpha*x + beta, 0, 1)
 *   HARD_SWISH    x * clamp(x/6 + 1/2, 0, 1)            (ONNX HardSwish)
 *   ELU           x < 0 ? alpha * expm1(x) : x
 *   ERF           own vectorizable erf (glibc's erff costs ~50 ns a call): a
 *                 polynomial in x^2 for |x| <= 0.875, else 1 - exp(-x^2) g(t)
 *                 with fitted g; <= 3 ulp against double erf
 *   GELU erf      x/2 * (1 + erf(x/sqrt 2)), as x/2 * erfc(-x/sqrt 2) where
 *                 1 + erf would cancel (x/sqrt 2 < -0.875)
 *   GELU tanh     x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
 *                 == x/2 * (1 + tanh u), again without the cancellation
 *                 (both give the limit -0 for x < -30, -inf included)
 * Every row function is a plain loop over contiguous floats (the piecewise
 * linear ones vectorize); large tensors are split over threads. ERF, GELU,
 * LOGISTIC and TANH live in unary_f32_body.inc, compiled here for the baseline
 * ISA and in unary_f32_x86.c for AVX2+FMA and AVX-512 (chosen at prepare
 * from qlite_q8_cpu_features(), so qlite_q8_set_feature_cap caps it;
 * QLITE_INTERP_REFERENCE_ONLY keeps the baseline copy); all bit-identical.
 *
 * int8/uint8 inputs go to unary_q8.c (a 256-entry table per op) after the
 * options are read here; input and output must share a dtype
 * (QLITE_ERR_DTYPE).
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"
#include "kernels/unary_f32.h"

#define UNARY_FN(name, EXPR)                                                     \
    static void name##_f32(const float *xs, float *ys, size_t n, const unary_params *p) { \
        const float alpha = p->alpha, beta = p->beta, lo = p->lo, hi = p->hi;    \
        (void)alpha; (void)beta; (void)lo; (void)hi;                             \
        for (size_t i = 0; i < n; i++) {                                         \
            const float x = xs[i];                                               \
            ys[i] = (EXPR);                                                      \
        }                                                                        \
    }

/* ERF, GELU (both forms), LOGISTIC: the branch-free row functions shared
 * with the x86 variants; here compiled for the baseline ISA. */
#define UF(name) name##_ref
#define UF_ATTR
#include "kernels/unary_f32_body.inc"
#undef UF
#undef UF_ATTR

UNARY_FN(sqrt, sqrtf(x))
UNARY_FN(exp, expf(x))
UNARY_FN(log, logf(x))
UNARY_FN(neg, -x)
UNARY_FN(abs, fabsf(x))
UNARY_FN(reciprocal, 1.0f / x)
UNARY_FN(square, x * x)
UNARY_FN(relu, x < 0.0f ? 0.0f : x)
UNARY_FN(relu6, qlite_clampf(x, 0.0f, 6.0f))
UNARY_FN(leaky_relu, x < 0.0f ? alpha * x : x)
UNARY_FN(elu, x < 0.0f ? alpha * expm1f(x) : x)
UNARY_FN(clip, qlite_clampf(x, lo, hi))
UNARY_FN(hard_sigmoid, qlite_clampf(alpha * x + beta, 0.0f, 1.0f))
UNARY_FN(hard_swish, x * qlite_clampf(x * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f))

enum { OPT_NONE = 0, OPT_REQUIRED = 1, OPT_OPTIONAL = 2 };

typedef struct unary_entry {
    unary_fn fn;
    uint8_t options;  /* OPT_*: whether ActivationOptions are read */
    uint8_t cost;     /* rough cost per element (threading threshold) */
} unary_entry;

static const unary_entry unary_table[QLITE_OP_COUNT] = {
    [QLITE_OP_SQRT] = {sqrt_f32, OPT_NONE, 4},
    [QLITE_OP_EXP] = {exp_f32, OPT_NONE, 16},
    [QLITE_OP_LOG] = {log_f32, OPT_NONE, 16},
    [QLITE_OP_ERF] = {erf_row_ref, OPT_NONE, 24},
    [QLITE_OP_NEG] = {neg_f32, OPT_NONE, 1},
    [QLITE_OP_ABS] = {abs_f32, OPT_NONE, 1},
    [QLITE_OP_RECIPROCAL] = {reciprocal_f32, OPT_NONE, 2},
    [QLITE_OP_SQUARE] = {square_f32, OPT_NONE, 1},
    [QLITE_OP_RELU] = {relu_f32, OPT_NONE, 1},
    [QLITE_OP_RELU6] = {relu6_f32, OPT_NONE, 1},
    [QLITE_OP_LEAKY_RELU] = {leaky_relu_f32, OPT_REQUIRED, 1},
    [QLITE_OP_ELU] = {elu_f32, OPT_REQUIRED, 16},
    [QLITE_OP_CLIP] = {clip_f32, OPT_OPTIONAL, 1},
    [QLITE_OP_LOGISTIC] = {sigmoid_row_ref, OPT_NONE, 16},
    [QLITE_OP_TANH] = {tanh_row_ref, OPT_NONE, 20},
    [QLITE_OP_HARD_SIGMOID] = {hard_sigmoid_f32, OPT_REQUIRED, 1},
    [QLITE_OP_HARD_SWISH] = {hard_swish_f32, OPT_NONE, 1},
    [QLITE_OP_GELU] = {gelu_erf_row_ref, OPT_OPTIONAL, 24},
};

typedef struct unary_state {
    qlite_eval_fn eval;  /* unary_eval_f32 (first: qlite_eval_dispatch) */
    unary_fn fn;
    unary_params p;
    uint32_t cost;
} unary_state;

static qlite_status unary_eval_f32(qlite_node *node);

static qlite_status unary_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    const qlite_op_code code = node->op->code;
    const unary_entry *e = (unsigned)code < QLITE_OP_COUNT ? &unary_table[code] : NULL;
    if (!e || !e->fn) return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "not a unary op");
    const bool q8 = qlite_is_q8(x->dtype);
    if (!q8 && ((st = qlite_node_check_dtype(node, x, "input", QLITE_DTYPE_FLOAT32)) != QLITE_OK ||
                (st = qlite_node_check_same_dtype(node, x, "input", node->outputs[0],
                                                  "output")) != QLITE_OK))
        return st;

    unary_state s = {.eval = unary_eval_f32, .fn = e->fn, .cost = e->cost,
                     .p = {.alpha = 0.0f, .beta = 0.0f, .lo = -FLT_MAX, .hi = FLT_MAX}};
    const qlite_options_type ot = node->opts->type;
    if (e->options == OPT_NONE) {
        if (ot != QLITE_OPTIONS_NONE && ot != QLITE_OPTIONS_ACTIVATION)
            return qlite_node_check_options(node, QLITE_OPTIONS_ACTIVATION);
    } else if (ot == QLITE_OPTIONS_ACTIVATION) {
        const qlite_activation_options *o = &node->opts->u.activation;
        if (isnan(o->alpha) || isnan(o->beta) || isnan(o->min) || isnan(o->max))
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "NaN in activation options");
        s.p.alpha = o->alpha;
        s.p.beta = o->beta;
        if (code == QLITE_OP_CLIP) {
            if (o->min > o->max)
                return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                        "clip min %g is greater than max %g", (double)o->min,
                                        (double)o->max);
            s.p.lo = o->min;
            s.p.hi = o->max;
        }
        if (code == QLITE_OP_GELU && o->approximate) s.fn = gelu_tanh_row_ref;
    } else if (e->options == OPT_REQUIRED || ot != QLITE_OPTIONS_NONE) {
        return qlite_node_check_options(node, QLITE_OPTIONS_ACTIVATION);
    }
    if (q8) {
        const qlite_unary_q8_params qp = {.alpha = s.p.alpha, .beta = s.p.beta, .lo = s.p.lo,
                                          .hi = s.p.hi, .gelu_tanh = s.fn == gelu_tanh_row_ref};
        return qlite_unary_q8_prepare(node, &qp);
    }
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    /* an AVX2 / AVX-512 copy of the branch-free rows (bit-identical) */
    if (!qlite_node_reference_only(node)) {
        int op = s.fn == erf_row_ref         ? UNARY_SIMD_ERF
                 : s.fn == gelu_erf_row_ref  ? UNARY_SIMD_GELU_ERF
                 : s.fn == gelu_tanh_row_ref ? UNARY_SIMD_GELU_TANH
                 : s.fn == sigmoid_row_ref   ? UNARY_SIMD_LOGISTIC
                 : s.fn == tanh_row_ref      ? UNARY_SIMD_TANH
                                             : -1;
        const unary_fn f = op >= 0 ? qlite_unary_f32_simd((unary_simd_op)op) : NULL;
        if (f) s.fn = f;
    }
    unary_state *ps = qlite_node_alloc(node, sizeof *ps);
    if (!ps) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    *ps = s;
    node->state = ps;
    return QLITE_OK;
}

typedef struct unary_job {
    const unary_state *s;
    const float *x;
    float *y;
} unary_job;

static void unary_range(void *arg, size_t begin, size_t end) {
    const unary_job *j = arg;
    j->s->fn(j->x + begin, j->y + begin, end - begin, &j->s->p);
}

static qlite_status unary_eval_f32(qlite_node *node) {
    const unary_state *s = node->state;
    unary_job j = {s, node->inputs[0]->data, node->outputs[0]->data};
    qlite_kernel_parallel(node, qlite_tensor_elements(node->inputs[0]), s->cost, unary_range, &j);
    return QLITE_OK;
}

#define UNARY_KERNEL(name) \
    const qlite_kernel qlite_kernel_##name = {.prepare = unary_prepare, .eval = qlite_eval_dispatch}

UNARY_KERNEL(sqrt);
UNARY_KERNEL(exp);
UNARY_KERNEL(log);
UNARY_KERNEL(erf);
UNARY_KERNEL(neg);
UNARY_KERNEL(abs);
UNARY_KERNEL(reciprocal);
UNARY_KERNEL(square);
UNARY_KERNEL(relu);
UNARY_KERNEL(relu6);
UNARY_KERNEL(leaky_relu);
UNARY_KERNEL(elu);
UNARY_KERNEL(clip);
UNARY_KERNEL(logistic);
UNARY_KERNEL(tanh);
UNARY_KERNEL(hard_sigmoid);
UNARY_KERNEL(hard_swish);
UNARY_KERNEL(gelu);
