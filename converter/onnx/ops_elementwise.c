/*
 * ops_elementwise.c — unary and binary element-wise ONNX ops, activations,
 * Clip, Softmax/LogSoftmax, Cast, PRelu, Identity/Dropout.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* ---- unary ---------------------------------------------------------------------- */

static const struct {
    const char *onnx;
    qlite_op_code code;
} k_unary[] = {
    {"Relu", QLITE_OP_RELU},       {"Sigmoid", QLITE_OP_LOGISTIC},
    {"Tanh", QLITE_OP_TANH},       {"Exp", QLITE_OP_EXP},
    {"Log", QLITE_OP_LOG},         {"Sqrt", QLITE_OP_SQRT},
    {"Erf", QLITE_OP_ERF},         {"Neg", QLITE_OP_NEG},
    {"Abs", QLITE_OP_ABS},         {"Reciprocal", QLITE_OP_RECIPROCAL},
    {"Elu", QLITE_OP_ELU},         {"LeakyRelu", QLITE_OP_LEAKY_RELU},
    {"HardSigmoid", QLITE_OP_HARD_SIGMOID}, {"HardSwish", QLITE_OP_HARD_SWISH},
    {"Gelu", QLITE_OP_GELU},       {"Relu6", QLITE_OP_RELU6},
};

qlite_status qlc_infer_unary(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    qlc_set_out(g, n, 0, x->dtype, x->rank, x->shape);
    return QLITE_OK;
}

static qlite_status need_float(const qlc_graph *g, const qlc_node *n, uint32_t i) {
    qlc_tensor *t = qlc_in_t(g, n, i);
    if (t && t->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "input %u ('%s') is %s; this op is supported for float32 only", i,
                              t->name, qlite_dtype_name(t->dtype));
    return QLITE_OK;
}

qlite_status qlc_lower_unary(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_float(g, n, 0);
    if (st != QLITE_OK) return st;
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(k_unary); i++) {
        if (strcmp(k_unary[i].onnx, n->op_type) != 0) continue;
        qlite_op_code code = k_unary[i].code;
        qlite_op_options o;
        qlite_op_options_default(QLITE_OPTIONS_NONE, &o);
        if (code == QLITE_OP_ELU || code == QLITE_OP_LEAKY_RELU || code == QLITE_OP_HARD_SIGMOID ||
            code == QLITE_OP_GELU) {
            qlite_op_options_default(QLITE_OPTIONS_ACTIVATION, &o);
            if (code == QLITE_OP_ELU) o.u.activation.alpha = qlc_attr_float(n, "alpha", 1.0f);
            if (code == QLITE_OP_LEAKY_RELU)
                o.u.activation.alpha = qlc_attr_float(n, "alpha", 0.01f);
            if (code == QLITE_OP_HARD_SIGMOID) {
                o.u.activation.alpha = qlc_attr_float(n, "alpha", 0.2f);
                o.u.activation.beta = qlc_attr_float(n, "beta", 0.5f);
            }
            if (code == QLITE_OP_GELU)
                o.u.activation.approximate =
                    strcmp(qlc_attr_str(n, "approximate", "none"), "tanh") == 0;
        }
        if (!qlc_add_op(g, n->name, n->op_type, code, &o, 1, &n->inputs[0], 1, &n->outputs[0]))
            return QLITE_ERR_NO_MEMORY;
        qlc_remove_node(g, n);
        return QLITE_OK;
    }
    return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "no qlite op for this element-wise op");
}

/* ---- binary --------------------------------------------------------------------- */

static qlite_op_code binary_code(const char *op) {
    if (!strcmp(op, "Add") || !strcmp(op, "Sum")) return QLITE_OP_ADD;
    if (!strcmp(op, "Sub")) return QLITE_OP_SUB;
    if (!strcmp(op, "Mul")) return QLITE_OP_MUL;
    if (!strcmp(op, "Div")) return QLITE_OP_DIV;
    if (!strcmp(op, "Pow")) return QLITE_OP_POW;
    if (!strcmp(op, "Min")) return QLITE_OP_MINIMUM;
    if (!strcmp(op, "Max")) return QLITE_OP_MAXIMUM;
    return QLITE_OP_COUNT;
}

qlite_status qlc_infer_binary(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    if ((st = qlc_need_input(g, n, 0)) != QLITE_OK || (st = qlc_need_input(g, n, 1)) != QLITE_OK)
        return st;
    qlc_tensor *a = qlc_in_t(g, n, 0), *b = qlc_in_t(g, n, 1);
    int32_t r;
    int64_t s[QLITE_MAX_RANK];
    if ((st = qlc_broadcast(n, a->rank, a->shape, b->rank, b->shape, &r, s)) != QLITE_OK)
        return st;
    qlc_set_out(g, n, 0, a->dtype, r, s);
    return QLITE_OK;
}

/* Converts a constant to float32 in place (Pow exponents are often int). */
static void const_to_f32(qlc_graph *g, int32_t t) {
    qlc_tensor *c = g->tensors[t];
    if (!c->data || c->dtype == QLITE_DTYPE_FLOAT32) return;
    float *f = qlc_const_as_f32(c);
    if (!f) return;
    qlc_tensor_set_data(c, f, (size_t)qlc_elements(c) * sizeof(float));
    c->dtype = QLITE_DTYPE_FLOAT32;
}

qlite_status qlc_lower_binary(qlc_graph *g, qlc_node *n) {
    qlite_op_code code = binary_code(n->op_type);
    if (code == QLITE_OP_COUNT)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "no qlite op for this binary op");
    qlc_tensor *a = qlc_in_t(g, n, 0), *b = qlc_in_t(g, n, 1);
    if (code == QLITE_OP_POW && b->data && b->dtype != QLITE_DTYPE_FLOAT32) {
        /* a constant exponent of another type: make it float (one use only) */
        int32_t copy = qlc_add_const(g, b->name, b->dtype, b->rank, b->shape, b->data,
                                     b->data_size);
        if (copy < 0) return QLITE_ERR_NO_MEMORY;
        const_to_f32(g, copy);
        n->inputs[1] = copy;
        b = g->tensors[copy];
    }
    if (code == QLITE_OP_POW && a->dtype == QLITE_DTYPE_FLOAT32 && !b->data &&
        (b->dtype == QLITE_DTYPE_INT32 || b->dtype == QLITE_DTYPE_INT64)) {
        int32_t bf = qlc_new_act(g, n->inputs[1], "_f32", QLITE_DTYPE_FLOAT32, b->rank, b->shape);
        if (bf < 0) return QLITE_ERR_NO_MEMORY;
        qlite_op_options co;
        qlite_op_options_default(QLITE_OPTIONS_CAST, &co);
        co.u.cast.to = QLITE_DTYPE_FLOAT32;
        if (!qlc_add_op(g, NULL, "Cast", QLITE_OP_CAST, &co, 1, &n->inputs[1], 1, &bf))
            return QLITE_ERR_NO_MEMORY;
        n->inputs[1] = bf;
        b = g->tensors[bf];
        a = qlc_in_t(g, n, 0);
    }
    if (a->dtype != b->dtype)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "inputs have different types (%s, %s)",
                              qlite_dtype_name(a->dtype), qlite_dtype_name(b->dtype));
    if (a->dtype != QLITE_DTYPE_FLOAT32 && a->dtype != QLITE_DTYPE_INT32 &&
        a->dtype != QLITE_DTYPE_INT64)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "type %s is not supported",
                              qlite_dtype_name(a->dtype));
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    if (!qlc_add_op(g, n->name, n->op_type, code, &o, 2, n->inputs, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* Sum / Min / Max / Mean with any number of inputs. */
qlite_status qlc_infer_variadic(qlc_graph *g, qlc_node *n) {
    if (n->num_inputs < 1) return qlc_node_error(n, QLITE_ERR_CORRUPT, "needs at least one input");
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *a = qlc_in_t(g, n, 0);
    int32_t r = a->rank;
    int64_t s[QLITE_MAX_RANK];
    memcpy(s, a->shape, sizeof s);
    for (uint32_t i = 1; i < n->num_inputs; i++) {
        if ((st = qlc_need_input(g, n, i)) != QLITE_OK) return st;
        qlc_tensor *b = qlc_in_t(g, n, i);
        if ((st = qlc_broadcast(n, r, s, b->rank, b->shape, &r, s)) != QLITE_OK) return st;
    }
    qlc_set_out(g, n, 0, a->dtype, r, s);
    return QLITE_OK;
}

qlite_status qlc_lower_variadic(qlc_graph *g, qlc_node *n) {
    bool mean = strcmp(n->op_type, "Mean") == 0;
    qlite_op_code code = mean ? QLITE_OP_ADD : binary_code(n->op_type);
    qlite_status st = need_float(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *out = qlc_out_t(g, n, 0);
    int32_t acc = n->inputs[0];
    if (n->num_inputs == 1 && !mean) return qlc_lower_identity(g, n);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    for (uint32_t i = 1; i < n->num_inputs; i++) {
        bool last = i + 1 == n->num_inputs && !mean;
        int32_t dst = last ? n->outputs[0]
                           : qlc_new_act(g, n->outputs[0], "_acc", out->dtype, out->rank,
                                         out->shape);
        if (dst < 0) return QLITE_ERR_NO_MEMORY;
        int32_t ins[2] = {acc, n->inputs[i]};
        if (!qlc_add_op(g, NULL, n->op_type, code, &o, 2, ins, 1, &dst)) return QLITE_ERR_NO_MEMORY;
        acc = dst;
    }
    if (mean) {
        float inv = 1.0f / (float)n->num_inputs;
        int32_t c = qlc_add_const_f32(g, NULL, 0, NULL, &inv);
        if (c < 0) return QLITE_ERR_NO_MEMORY;
        int32_t ins[2] = {acc, c};
        if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_MUL, &o, 2, ins, 1, n->outputs))
            return QLITE_ERR_NO_MEMORY;
    }
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Clip ----------------------------------------------------------------------- */

qlite_status qlc_infer_clip(qlc_graph *g, qlc_node *n) { return qlc_infer_unary(g, n); }

qlite_status qlc_lower_clip(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_float(g, n, 0);
    if (st != QLITE_OK) return st;
    float lo = -FLT_MAX, hi = FLT_MAX;
    if (g->opset < 11) {
        lo = qlc_attr_float(n, "min", -FLT_MAX);
        hi = qlc_attr_float(n, "max", FLT_MAX);
    } else {
        for (uint32_t i = 1; i <= 2; i++) {
            float *v;
            size_t c;
            if ((st = qlc_const_floats(g, n, i, true, &v, &c)) != QLITE_OK) return st;
            if (v && c != 1) {
                free(v);
                return qlc_node_error(n, QLITE_ERR_CORRUPT, "input %u must be a scalar", i);
            }
            if (v) {
                if (i == 1) lo = v[0];
                else hi = v[0];
            }
            free(v);
        }
    }
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_ACTIVATION, &o);
    qlite_op_code code = QLITE_OP_CLIP;
    if (lo == 0.0f && hi == 6.0f) {
        code = QLITE_OP_RELU6;
        qlite_op_options_default(QLITE_OPTIONS_NONE, &o);
    } else if (lo == 0.0f && hi >= FLT_MAX) {
        code = QLITE_OP_RELU;
        qlite_op_options_default(QLITE_OPTIONS_NONE, &o);
    } else {
        o.u.activation.min = lo;
        o.u.activation.max = hi;
    }
    if (!qlc_add_op(g, n->name, n->op_type, code, &o, 1, n->inputs, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Softmax / LogSoftmax --------------------------------------------------------- */

qlite_status qlc_infer_softmax(qlc_graph *g, qlc_node *n) { return qlc_infer_unary(g, n); }

qlite_status qlc_lower_softmax(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_float(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    bool logsm = strcmp(n->op_type, "LogSoftmax") == 0;
    qlite_op_code code = logsm ? QLITE_OP_LOG_SOFTMAX : QLITE_OP_SOFTMAX;
    int32_t axis;
    int64_t dflt = g->opset < 13 ? 1 : -1;
    if (x->rank == 0) return qlc_node_error(n, QLITE_ERR_CORRUPT, "input is a scalar");
    if ((st = qlc_norm_axis(n, qlc_attr_int(n, "axis", dflt), x->rank, &axis)) != QLITE_OK)
        return st;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_SOFTMAX, &o);
    if (g->opset >= 13 || axis == x->rank - 1) {
        o.u.softmax.axis = axis;
        if (!qlc_add_op(g, n->name, n->op_type, code, &o, 1, n->inputs, 1, n->outputs))
            return QLITE_ERR_NO_MEMORY;
        qlc_remove_node(g, n);
        return QLITE_OK;
    }
    /* opset < 13: the input is coerced to 2-D [prod(:axis), prod(axis:)] */
    int64_t inner = 1;
    for (int32_t i = axis; i < x->rank; i++) {
        if (x->shape[i] < 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "coerced softmax over a dynamic dimension");
        inner *= x->shape[i];
    }
    int64_t outer = 1;
    bool dyn = false;
    for (int32_t i = 0; i < axis; i++) {
        if (x->shape[i] < 0) dyn = true;
        else outer *= x->shape[i];
    }
    int64_t s2[2] = {dyn ? -1 : outer, inner};
    int32_t r2 = qlc_emit_reshape(g, NULL, n->op_type, n->inputs[0], 2, s2, -1);
    if (r2 < 0) return QLITE_ERR_NO_MEMORY;
    int32_t sm = qlc_new_act(g, n->outputs[0], "_2d", x->dtype, 2, s2);
    if (sm < 0) return QLITE_ERR_NO_MEMORY;
    o.u.softmax.axis = 1;
    if (!qlc_add_op(g, n->name, n->op_type, code, &o, 1, &r2, 1, &sm)) return QLITE_ERR_NO_MEMORY;
    int64_t back[QLITE_MAX_RANK];
    memcpy(back, x->shape, sizeof back);
    if (qlc_emit_reshape(g, NULL, n->op_type, sm, x->rank, back, n->outputs[0]) < 0)
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Cast ----------------------------------------------------------------------- */

qlite_status qlc_infer_cast(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t to = qlc_attr_int(n, "to", -1);
    qlite_dtype dt;
    /* 1 FLOAT 2 UINT8 3 INT8 5 INT16 6 INT32 7 INT64 9 BOOL 10 FLOAT16 11 DOUBLE */
    switch (to) {
    case 1: case 11: dt = QLITE_DTYPE_FLOAT32; break;
    case 2: dt = QLITE_DTYPE_UINT8; break;
    case 3: dt = QLITE_DTYPE_INT8; break;
    case 5: dt = QLITE_DTYPE_INT16; break;
    case 6: dt = QLITE_DTYPE_INT32; break;
    case 7: dt = QLITE_DTYPE_INT64; break;
    case 9: dt = QLITE_DTYPE_BOOL; break;
    case 10: dt = QLITE_DTYPE_FLOAT16; break;
    default:
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "cast to ONNX type %lld is not supported", (long long)to);
    }
    qlc_set_out(g, n, 0, dt, x->rank, x->shape);
    return QLITE_OK;
}

qlite_status qlc_lower_cast(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    if (x->dtype == y->dtype) return qlc_lower_identity(g, n);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_CAST, &o);
    o.u.cast.to = y->dtype;
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_CAST, &o, 1, n->inputs, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- PRelu ---------------------------------------------------------------------- */

qlite_status qlc_infer_prelu(qlc_graph *g, qlc_node *n) { return qlc_infer_binary(g, n); }

qlite_status qlc_lower_prelu(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_float(g, n, 0);
    if (st != QLITE_OK) return st;
    if ((st = need_float(g, n, 1)) != QLITE_OK) return st;
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_PRELU, NULL, 2, n->inputs, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Identity / Dropout ----------------------------------------------------------- */

qlite_status qlc_infer_identity(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_infer_unary(g, n);
    if (st != QLITE_OK) return st;
    if (n->num_outputs > 1 && n->outputs[1] >= 0) { /* Dropout mask: all true in inference */
        qlc_tensor *x = qlc_in_t(g, n, 0);
        qlc_set_out(g, n, 1, QLITE_DTYPE_BOOL, x->rank, x->shape);
    }
    return QLITE_OK;
}

/* Dropout in inference: training_mode must be absent or a constant false;
 * the mask output (if any) becomes a constant of ones. */
qlite_status qlc_dropout_inference(qlc_graph *g, qlc_node *n) {
    int32_t tm = qlc_in(n, 2);
    if (tm >= 0) {
        qlc_tensor *t = g->tensors[tm];
        if (!t->data || (t->data_size && ((const uint8_t *)t->data)[0]))
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "training_mode=true (random dropout) is not supported");
    }
    qlc_tensor *mask = qlc_out_t(g, n, 1), *x = qlc_in_t(g, n, 0);
    if (mask && x && !mask->data) {
        uint64_t c = qlc_elements(x);
        for (int32_t i = 0; i < x->rank; i++)
            if (x->shape[i] < 0)
                return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "mask of a dynamic batch");
        uint8_t *ones = malloc(c ? (size_t)c : 1);
        if (!ones) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        memset(ones, 1, (size_t)c);
        mask->dtype = QLITE_DTYPE_BOOL;
        qlc_tensor_set_shape(mask, x->rank, x->shape);
        qlc_tensor_set_data(mask, ones, (size_t)c);
        n->outputs[1] = -1;
        g->index_valid = false;
    }
    return QLITE_OK;
}

/* Identity that must stay an op (its input is a graph input or constant and
 * its output a graph output): a RESHAPE to the same shape copies. */
qlite_status qlc_lower_identity(qlc_graph *g, qlc_node *n) {
    qlc_tensor *y = qlc_out_t(g, n, 0);
    if (!y || n->num_inputs < 1 || n->inputs[0] < 0)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "needs one input and one output");
    if (!strcmp(n->op_type, "Dropout")) {
        qlite_status st = qlc_dropout_inference(g, n);
        if (st != QLITE_OK) return st;
    }
    int64_t s[QLITE_MAX_RANK];
    memcpy(s, y->shape, sizeof s);
    if (qlc_emit_reshape(g, n->name, n->op_type, n->inputs[0], y->rank, s, n->outputs[0]) < 0)
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}
