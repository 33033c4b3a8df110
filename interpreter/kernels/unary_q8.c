/*
 * unary_q8.c — every element-wise function of unary.c on int8 / uint8, as
 * the 256-entry table of docs/quantization.md §4.6:
 *
 *   table[b] = clamp(round_half_even(f(sx * (q(b) - zx)) / sy) + zy)
 *
 * built at prepare with f evaluated in double (the definitions below, which
 * the doc lists), so the result is the correctly rounded quantization of f
 * at the quantized input: |dequant(y) - f(dequant(x))| <= 0.5 output LSB
 * wherever f is inside the output range. +-inf saturates, NaN (log or sqrt
 * of a negative) gives the zero point, as QUANTIZE maps a float NaN.
 * Eval is one lookup per byte, for int8 and uint8 alike.
 *
 * The output parameters are the ones the model gives (the converter sets
 * LOGISTIC to 1/256, -128 and TANH to 1/128, 0 for int8); any valid
 * parameters work, the table absorbs them.
 */
/* The doc's formulas are rounded operation by operation: no fused multiply-add. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <string.h>

#include "kernels/elementwise_q8.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"

typedef struct unary_q8_state {
    qlite_eval_fn eval;  /* must stay first (qlite_eval_dispatch) */
    qlite_q8_lut_fn lut; /* a variant of elementwise_q8.h, or NULL: the loop below */
    uint8_t table[256];
} unary_q8_state;

typedef struct fn_ctx {
    double alpha, beta, lo, hi;
} fn_ctx;

static double dclamp(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

#define REAL_FN(name, EXPR)                                   \
    static double name##_f64(double x, const void *ctx_) {    \
        const fn_ctx *c = ctx_;                               \
        (void)c;                                              \
        return (EXPR);                                        \
    }

#define SQRT_2_OVER_PI_F64 0.79788456080286535588

REAL_FN(sqrt, sqrt(x))
REAL_FN(exp, exp(x))
REAL_FN(log, log(x))
REAL_FN(erf, erf(x))
REAL_FN(neg, -x)
REAL_FN(abs, fabs(x))
REAL_FN(reciprocal, 1.0 / x)
REAL_FN(square, x * x)
REAL_FN(relu, x < 0.0 ? 0.0 : x)
REAL_FN(relu6, dclamp(x, 0.0, 6.0))
REAL_FN(leaky_relu, x < 0.0 ? c->alpha * x : x)
REAL_FN(elu, x < 0.0 ? c->alpha * expm1(x) : x)
REAL_FN(clip, dclamp(x, c->lo, c->hi))
REAL_FN(logistic, 1.0 / (1.0 + exp(-x)))
REAL_FN(tanh, tanh(x))
REAL_FN(hard_sigmoid, dclamp(c->alpha * x + c->beta, 0.0, 1.0))
REAL_FN(hard_swish, x * dclamp(x / 6.0 + 0.5, 0.0, 1.0))
REAL_FN(gelu_erf, 0.5 * x * erfc(-x * M_SQRT1_2))
REAL_FN(gelu_tanh, 0.5 * x * (1.0 + tanh(SQRT_2_OVER_PI_F64 * (x + 0.044715 * x * x * x))))

static qlite_real_fn real_fn(qlite_op_code code, bool gelu_tanh) {
    switch (code) {
    case QLITE_OP_SQRT: return sqrt_f64;
    case QLITE_OP_EXP: return exp_f64;
    case QLITE_OP_LOG: return log_f64;
    case QLITE_OP_ERF: return erf_f64;
    case QLITE_OP_NEG: return neg_f64;
    case QLITE_OP_ABS: return abs_f64;
    case QLITE_OP_RECIPROCAL: return reciprocal_f64;
    case QLITE_OP_SQUARE: return square_f64;
    case QLITE_OP_RELU: return relu_f64;
    case QLITE_OP_RELU6: return relu6_f64;
    case QLITE_OP_LEAKY_RELU: return leaky_relu_f64;
    case QLITE_OP_ELU: return elu_f64;
    case QLITE_OP_CLIP: return clip_f64;
    case QLITE_OP_LOGISTIC: return logistic_f64;
    case QLITE_OP_TANH: return tanh_f64;
    case QLITE_OP_HARD_SIGMOID: return hard_sigmoid_f64;
    case QLITE_OP_HARD_SWISH: return hard_swish_f64;
    case QLITE_OP_GELU: return gelu_tanh ? gelu_tanh_f64 : gelu_erf_f64;
    default: return NULL;
    }
}

typedef struct lut_job {
    const uint8_t *table, *x;
    uint8_t *y;
    qlite_q8_lut_fn lut;
} lut_job;

static void lut_range(void *arg, size_t begin, size_t end) {
    const lut_job *j = arg;
    const uint8_t *t = j->table;
    if (j->lut) {
        j->lut(t, j->x + begin, j->y + begin, end - begin);
        return;
    }
    for (size_t i = begin; i < end; i++) j->y[i] = t[j->x[i]];
}

static qlite_status unary_q8_eval(qlite_node *node) {
    const unary_q8_state *s = node->state;
    lut_job j = {s->table, node->inputs[0]->data, node->outputs[0]->data, s->lut};
    qlite_kernel_parallel(node, qlite_tensor_elements(node->inputs[0]), 1, lut_range, &j);
    return QLITE_OK;
}

qlite_status qlite_unary_q8_prepare(qlite_node *node, const qlite_unary_q8_params *p) {
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    const qlite_real_fn f = real_fn(node->op->code, p->gelu_tanh);
    if (!f) return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "not a unary op");
    qlite_status st;
    qlite_q8 qx, qy;
    if ((st = qlite_node_check_same_dtype(node, x, "input", y, "output")) != QLITE_OK ||
        (st = qlite_q8_params(node, x, "input", &qx)) != QLITE_OK ||
        (st = qlite_q8_params(node, y, "output", &qy)) != QLITE_OK)
        return st;
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    unary_q8_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = unary_q8_eval;
    const qlite_q8_ew_ukernels *v =
        qlite_node_reference_only(node) ? NULL : qlite_q8_ew_select(QLITE_Q8_EW_LUT);
    s->lut = v ? v->lut : NULL;
    const fn_ctx c = {p->alpha, p->beta, p->lo, p->hi};
    qlite_q8_table(s->table, &qx, &qy, qy.qmin, qy.qmax, f, &c);
    node->state = s;
    return QLITE_OK;
}
