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
 * linear ones vectorize); large tensors are split over threads.
 *
 * int8/uint8 inputs go to unary_q8.c (a 256-entry table per op) after the
 * options are read here; input and output must share a dtype
 * (QLITE_ERR_DTYPE).
 */
/* Lets GCC turn the selects in the vectorizable exp into blends (see softmax.c). */
#if defined(__GNUC__) && !defined(__clang__)
#endif

#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"

typedef struct unary_params {
    float alpha, beta, lo, hi;
} unary_params;

typedef void (*unary_fn)(const float *x, float *y, size_t n, const unary_params *p);

#define UNARY_FN(name, EXPR)                                                     \
    static void name##_f32(const float *xs, float *ys, size_t n, const unary_params *p) { \
        const float alpha = p->alpha, beta = p->beta, lo = p->lo, hi = p->hi;    \
        (void)alpha; (void)beta; (void)lo; (void)hi;                             \
        for (size_t i = 0; i < n; i++) {                                         \
            const float x = xs[i];                                               \
            ys[i] = (EXPR);                                                      \
        }                                                                        \
    }

#define SQRT_2_OVER_PI 0.7978845608028654f

/* erf(x) for |x| <= 0.875: x * P(x^2), relative error < 1e-8 (least-squares fit). */
static inline float erf_small_f32(float x) {
    const float s = x * x;
    float p = -6.2350527e-04f;
    p = p * s + 5.0387182e-03f;
    p = p * s + -2.6796293e-02f;
    p = p * s + 1.1282608e-01f;
    p = p * s + -3.7612569e-01f;
    p = p * s + 1.1283791e+00f;
    return x * p;
}

/* erfc(z) for z >= 0.875: exp(-z^2) * g(t), t = 1 / (1 + z/2), g a degree-8
 * least-squares fit of erfc(z) e^(z^2) (relative error 2.5e-7 in float;
 * coefficients from tests/data/kernels/fit_erf_b.py).
 * z^2 is split as zh^2 (exact: zh keeps 12 bits) + the rest so that exp() sees
 * no rounding of z^2. 0 beyond z = 9.3 (erfc < 1e-38). */
static inline float erfc_large_f32(float z) {
    const float zc = z < 9.3f ? z : 9.3f;
    const float t = 1.0f / (1.0f + 0.5f * zc);
    float g = 7.7169687e-02f;
    g = g * t + -1.7329004e-01f;
    g = g * t + 9.1507137e-03f;
    g = g * t + 1.1740254e-01f;
    g = g * t + 1.5244578e-01f;
    g = g * t + 2.5459367e-01f;
    g = g * t + 2.8070188e-01f;
    g = g * t + 2.8222805e-01f;
    g = g * t + -5.3164085e-06f;
    uint32_t bits;
    memcpy(&bits, &zc, sizeof bits);
    bits &= 0xfffff000u;
    float zh;
    memcpy(&zh, &bits, sizeof zh);
    const float zl = zc - zh;
    const float e = qlite_exp_nonpos_f32(-(zh * zh)) * qlite_exp_nonpos_f32(-(zl * (zh + zc)));
    return z < 9.3f ? g * e : 0.0f;
}

/* erf for any x: the polynomial near 0, 1 - erfc beyond (both evaluated, one
 * selected, so the loop stays branch-free and vectorizes). */
static inline float erf_scalar(float x) {
    const float a = fabsf(x);
    const float big = 1.0f - erfc_large_f32(a > 0.875f ? a : 0.875f);
    const float r = a <= 0.875f ? erf_small_f32(x) : (x < 0.0f ? -big : big);
    return x != x ? x : r;
}

/* x/2 * (1 + erf(x/sqrt 2)); for x/sqrt 2 < -0.875 as x/2 * erfc(|x|/sqrt 2),
 * which keeps full relative precision where 1 + erf would cancel. */
static inline float gelu_erf_scalar(float x) {
    const float z = x * (float)M_SQRT1_2;
    const float a = fabsf(z);
    const float ec = erfc_large_f32(a > 0.875f ? a : 0.875f);
    const float near0 = 0.5f * x * (1.0f + erf_small_f32(z));
    const float far = x > 0.0f ? x * (1.0f - 0.5f * ec) : 0.5f * x * ec; /* inf stays inf */
    return a <= 0.875f ? near0 : far;
}


UNARY_FN(sqrt, sqrtf(x))
UNARY_FN(exp, expf(x))
UNARY_FN(log, logf(x))
UNARY_FN(erf, erf_scalar(x))
UNARY_FN(neg, -x)
UNARY_FN(abs, fabsf(x))
UNARY_FN(reciprocal, 1.0f / x)
UNARY_FN(square, x * x)
UNARY_FN(relu, x < 0.0f ? 0.0f : x)
UNARY_FN(relu6, qlite_clampf(x, 0.0f, 6.0f))
UNARY_FN(leaky_relu, x < 0.0f ? alpha * x : x)
UNARY_FN(elu, x < 0.0f ? alpha * expm1f(x) : x)
UNARY_FN(clip, qlite_clampf(x, lo, hi))
/* sigmoid from e = exp(-|x|) <= 1 (no overflow, no cancellation), vectorizable */
static inline float sigmoid_f32(float x) {
    const float e = qlite_exp_nonpos_f32(-fabsf(x));
    const float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}
UNARY_FN(logistic, sigmoid_f32(x))
UNARY_FN(tanh, tanhf(x))
UNARY_FN(hard_sigmoid, qlite_clampf(alpha * x + beta, 0.0f, 1.0f))
UNARY_FN(hard_swish, x * qlite_clampf(x * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f))
/* below -30 both GELU forms are below the smallest float: return the limit,
 * -0, also for -inf (where the formulas would give inf * 0 = NaN) */
UNARY_FN(gelu_erf, x < -30.0f ? -0.0f : gelu_erf_scalar(x))
UNARY_FN(gelu_tanh, x < -30.0f ? -0.0f
                               : x * sigmoid_f32(2.0f * SQRT_2_OVER_PI *
                                                 (x + 0.044715f * x * x * x)))

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
    [QLITE_OP_ERF] = {erf_f32, OPT_NONE, 24},
    [QLITE_OP_NEG] = {neg_f32, OPT_NONE, 1},
    [QLITE_OP_ABS] = {abs_f32, OPT_NONE, 1},
    [QLITE_OP_RECIPROCAL] = {reciprocal_f32, OPT_NONE, 2},
    [QLITE_OP_SQUARE] = {square_f32, OPT_NONE, 1},
    [QLITE_OP_RELU] = {relu_f32, OPT_NONE, 1},
    [QLITE_OP_RELU6] = {relu6_f32, OPT_NONE, 1},
    [QLITE_OP_LEAKY_RELU] = {leaky_relu_f32, OPT_REQUIRED, 1},
    [QLITE_OP_ELU] = {elu_f32, OPT_REQUIRED, 16},
    [QLITE_OP_CLIP] = {clip_f32, OPT_OPTIONAL, 1},
    [QLITE_OP_LOGISTIC] = {logistic_f32, OPT_NONE, 16},
    [QLITE_OP_TANH] = {tanh_f32, OPT_NONE, 20},
    [QLITE_OP_HARD_SIGMOID] = {hard_sigmoid_f32, OPT_REQUIRED, 1},
    [QLITE_OP_HARD_SWISH] = {hard_swish_f32, OPT_NONE, 1},
    [QLITE_OP_GELU] = {gelu_erf_f32, OPT_OPTIONAL, 24},
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
        if (code == QLITE_OP_GELU && o->approximate) s.fn = gelu_tanh_f32;
    } else if (e->options == OPT_REQUIRED || ot != QLITE_OPTIONS_NONE) {
        return qlite_node_check_options(node, QLITE_OPTIONS_ACTIVATION);
    }
    if (q8) {
        const qlite_unary_q8_params qp = {.alpha = s.p.alpha, .beta = s.p.beta, .lo = s.p.lo,
                                          .hi = s.p.hi, .gelu_tanh = s.fn == gelu_tanh_f32};
        return qlite_unary_q8_prepare(node, &qp);
    }
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
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
