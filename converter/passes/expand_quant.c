/*
 * expand_quant.c — the pre-quantized ONNX ops rewritten, before shape
 * inference, into standard ops the rest of the converter knows
 * (docs/quantization.md §9):
 *
 *   QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B?)
 *     -> QuantizeLinear(Conv(DequantizeLinear(x, xs, xz), DequantizeLinear(w, ws, wz),
 *                            B · xs·ws), ys, yz)
 *   QLinearMatMul(a, as, az, b, bs, bz, ys, yz)
 *     -> QuantizeLinear(MatMul(DequantizeLinear(a), DequantizeLinear(b)), ys, yz)
 *   ConvInteger(x, w, xz?, wz?)   -> Cast<int32>(Conv(Cast<float>(x) - xz, w - wz))
 *   MatMulInteger(a, b, az?, bz?) -> Cast<int32>(MatMul(Cast<float>(a) - az, b - bz))
 *   DynamicQuantizeLinear(x)      -> (y, y_scale, y_zero_point) from ReduceMin/ReduceMax,
 *                                    Min/Max with 0, Div, Clip, round-half-even, Cast
 *
 * The QLinear forms become a QDQ graph: in float32 mode they run as
 * fake quantization, and the int8 quantizer (quant/qdq.c) turns them back
 * into integer ops with exactly these parameters. The Integer forms compute
 * the int32 accumulator in float on exact integers: exact while every
 * partial sum stays below 2^24 in magnitude (|x - xz|·|w - wz| ≤ 255² =
 * 65025, so reductions of up to 256 products). Rounding half to even of a
 * float v with |v| < 2^22 is (v + 1.5·2^23) − 1.5·2^23 in float32 arithmetic,
 * which the qlite ADD / SUB kernels compute.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"

#define ROUND_MAGIC 12582912.0f /* 1.5 * 2^23 */

/* ONNX TensorProto data types used by Cast's "to". */
enum { ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT32 = 6 };

static qlite_status oom(void) { return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory"); }

static qlite_status set_op_type(qlc_node *n, const char *op) {
    size_t l = strlen(op) + 1;
    char *s = malloc(l);
    if (!s) return oom();
    memcpy(s, op, l);
    free(n->op_type);
    n->op_type = s;
    return QLITE_OK;
}

/* A fresh tensor (shape inferred later) named after the node. */
static int32_t tmp(qlc_graph *g, const qlc_node *n, const char *suffix) {
    return qlc_add_tensor_like(g, n->name, suffix, QLITE_DTYPE_FLOAT32, -1, NULL);
}

/* Adds node op(ins) -> out; returns out (or -1). */
static int32_t node(qlc_graph *g, const qlc_node *n, const char *op, const char *suffix,
                    uint32_t nin, const int32_t *ins, int32_t out) {
    char name[512];
    snprintf(name, sizeof name, "%s/%s", n->name, suffix);
    if (out < 0 && (out = tmp(g, n, suffix)) < 0) return -1;
    return qlc_add_onnx_node(g, name, op, nin, ins, 1, &out) ? out : -1;
}

static int32_t node_int_attr(qlc_graph *g, const qlc_node *n, const char *op, const char *suffix,
                             uint32_t nin, const int32_t *ins, int32_t out, const char *attr,
                             int64_t v) {
    char name[512];
    snprintf(name, sizeof name, "%s/%s", n->name, suffix);
    if (out < 0 && (out = tmp(g, n, suffix)) < 0) return -1;
    qlc_node *m = qlc_add_onnx_node(g, name, op, nin, ins, 1, &out);
    if (!m || qlc_attr_set_int(m, attr, v) != QLITE_OK) return -1;
    return out;
}

static int32_t scalar(qlc_graph *g, float v) { return qlc_add_const_f32(g, NULL, 0, NULL, &v); }

/* Input k as a constant (an error naming the node otherwise). */
static qlite_status need_const(const qlc_graph *g, const qlc_node *n, uint32_t k,
                               const char *what) {
    int32_t t = qlc_in(n, k);
    if (t < 0) return qlc_node_error(n, QLITE_ERR_CORRUPT, "%s (input %u) is missing", what, k);
    if (!qlc_is_const(g, t))
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "%s (input %u, '%s') must be a constant", what, k,
                              g->tensors[t]->name);
    return QLITE_OK;
}

/* DequantizeLinear(t, s, z) with axis when s is 1-D. */
static int32_t dequant(qlc_graph *g, const qlc_node *n, const char *suffix, int32_t t, int32_t s,
                       int32_t z, int64_t axis) {
    int32_t ins[3] = {t, s, z};
    char name[512];
    snprintf(name, sizeof name, "%s/%s", n->name, suffix);
    int32_t out = tmp(g, n, suffix);
    if (out < 0) return -1;
    qlc_node *m = qlc_add_onnx_node(g, name, "DequantizeLinear", z >= 0 ? 3 : 2, ins, 1, &out);
    if (!m) return -1;
    if (s >= 0 && g->tensors[s]->rank == 1 && qlc_elements(g->tensors[s]) > 1 &&
        qlc_attr_set_int(m, "axis", axis) != QLITE_OK)
        return -1;
    return out;
}

/* QLinearConv / QLinearMatMul. */
static qlite_status expand_qlinear(qlc_graph *g, qlc_node *n, bool conv) {
    qlite_status st;
    uint32_t need = 8;
    if (n->num_inputs < need)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "%u inputs; %u expected", n->num_inputs, need);
    static const char *const what[8] = {"x", "x_scale", "x_zero_point", "w", "w_scale",
                                        "w_zero_point", "y_scale", "y_zero_point"};
    for (uint32_t k = 1; k < 8; k++) {
        if (k == 3 && !conv) continue; /* QLinearMatMul's b may be an activation */
        if (qlc_in(n, k) < 0 && (k == 2 || k == 5 || k == 7)) continue;
        if ((st = need_const(g, n, k, what[k])) != QLITE_OK) return st;
    }
    int32_t x = n->inputs[0], w = n->inputs[3];
    int32_t ws = n->inputs[4];
    qlc_tensor *wt = g->tensors[w];
    /* a per-tensor input scale (per-row a_scale is not supported) */
    if (qlc_elements(g->tensors[n->inputs[1]]) != 1)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "a per-row input scale");
    int64_t waxis = conv ? 0 : (wt->rank > 0 ? wt->rank - 1 : 0);
    int32_t xf = dequant(g, n, "x_float", x, n->inputs[1], n->inputs[2], 1);
    int32_t wf = dequant(g, n, conv ? "w_float" : "b_float", w, ws, n->inputs[5], waxis);
    if (xf < 0 || wf < 0) return oom();
    int32_t bias = -1;
    if (conv && qlc_in(n, 8) >= 0) {
        if ((st = need_const(g, n, 8, "B")) != QLITE_OK) return st;
        qlc_tensor *bt = g->tensors[n->inputs[8]];
        int64_t *bv = qlc_const_as_i64(bt);
        float *xsv = qlc_const_as_f32(g->tensors[n->inputs[1]]);
        float *wsv = qlc_const_as_f32(g->tensors[ws]);
        uint64_t nb = qlc_elements(bt), nws = qlc_elements(g->tensors[ws]);
        float *bf = malloc((nb ? nb : 1) * sizeof *bf);
        if (!bv || !xsv || !wsv || !bf) {
            free(bv), free(xsv), free(wsv), free(bf);
            return oom();
        }
        if (nws != 1 && nws != nb) {
            free(bv), free(xsv), free(wsv), free(bf);
            return qlc_node_error(n, QLITE_ERR_SHAPE, "B has %llu values for %llu weight scales",
                                  (unsigned long long)nb, (unsigned long long)nws);
        }
        /* B is in units of x_scale * w_scale[c] */
        for (uint64_t i = 0; i < nb; i++) bf[i] = (float)bv[i] * (xsv[0] * wsv[nws == 1 ? 0 : i]);
        free(bv), free(xsv), free(wsv);
        int64_t shape[1] = {(int64_t)nb};
        bias = qlc_add_const_owned(g, NULL, QLITE_DTYPE_FLOAT32, 1, shape, bf, (size_t)nb * 4);
        if (bias < 0) return oom();
    }
    int32_t yf = tmp(g, n, "y_float");
    if (yf < 0) return oom();
    int32_t y = n->outputs[0];
    int32_t qins[3] = {yf, n->inputs[6], n->inputs[7]};
    if (node(g, n, "QuantizeLinear", "quantize_y", qins[2] >= 0 ? 3 : 2, qins, y) < 0) return oom();
    /* the node itself becomes the float Conv / MatMul */
    int32_t *ins = realloc(n->inputs, 3 * sizeof *ins);
    if (!ins) return oom();
    n->inputs = ins;
    ins[0] = xf;
    ins[1] = wf;
    ins[2] = bias;
    n->num_inputs = bias >= 0 ? 3 : 2;
    n->outputs[0] = yf;
    g->index_valid = false;
    return set_op_type(n, conv ? "Conv" : "MatMul");
}

/* A zero point (constant input k, optional) as float values; NULL when absent. */
static qlite_status zero_points(qlc_graph *g, qlc_node *n, uint32_t k, float **out,
                                uint64_t *count) {
    *out = NULL;
    *count = 0;
    if (qlc_in(n, k) < 0) return QLITE_OK;
    qlite_status st = need_const(g, n, k, "the zero point");
    if (st != QLITE_OK) return st;
    *out = qlc_const_as_f32(g->tensors[n->inputs[k]]);
    *count = qlc_elements(g->tensors[n->inputs[k]]);
    return *out ? QLITE_OK : oom();
}

/* x (an activation) as float minus its scalar zero point. */
static int32_t shifted_input(qlc_graph *g, qlc_node *n, int32_t x, const float *zp, uint64_t nz,
                             const char *what) {
    int32_t xc = node_int_attr(g, n, "Cast", "cast_in", 1, &x, -1, "to", ONNX_FLOAT);
    if (xc < 0 || !zp) return xc;
    if (nz != 1) {
        qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "a per-row %s zero point", what);
        return -2;
    }
    int32_t ins[2] = {xc, scalar(g, zp[0])};
    return ins[1] < 0 ? -1 : node(g, n, "Sub", "shift_in", 2, ins, -1);
}

/* ConvInteger / MatMulInteger. */
static qlite_status expand_integer(qlc_graph *g, qlc_node *n, bool conv) {
    qlite_status st;
    if (n->num_inputs < 2) return qlc_node_error(n, QLITE_ERR_CORRUPT, "fewer than 2 inputs");
    float *xz, *wz;
    uint64_t nxz, nwz;
    if ((st = zero_points(g, n, 2, &xz, &nxz)) != QLITE_OK) return st;
    if ((st = zero_points(g, n, 3, &wz, &nwz)) != QLITE_OK) {
        free(xz);
        return st;
    }
    int32_t xs = shifted_input(g, n, n->inputs[0], xz, nxz, conv ? "x" : "A");
    free(xz);
    if (xs < 0) {
        free(wz);
        return xs == -2 ? QLITE_ERR_UNSUPPORTED_OP : oom();
    }
    int32_t w = n->inputs[1], wf;
    qlc_tensor *wt = g->tensors[w];
    if (qlc_is_const(g, w)) {
        /* w - wz[c] computed here: per output channel (Conv axis 0, MatMul last axis) */
        float *v = qlc_const_as_f32(wt);
        uint64_t ne = qlc_elements(wt);
        if (!v) {
            free(wz);
            return oom();
        }
        int64_t cdim = conv ? wt->shape[0] : wt->shape[wt->rank - 1];
        uint64_t inner = 1;
        for (int32_t d = 1; conv && d < wt->rank; d++) inner *= (uint64_t)wt->shape[d];
        if (wz && nwz != 1 && (int64_t)nwz != cdim) {
            free(wz), free(v);
            return qlc_node_error(n, QLITE_ERR_SHAPE, "%llu weight zero points for %lld channels",
                                  (unsigned long long)nwz, (long long)cdim);
        }
        for (uint64_t i = 0; wz && i < ne; i++) {
            uint64_t c = nwz == 1 ? 0 : conv ? i / inner : i % (uint64_t)cdim;
            v[i] -= wz[c];
        }
        int64_t shape[QLITE_MAX_RANK];
        memcpy(shape, wt->shape, sizeof shape);
        wf = qlc_add_const_owned(g, NULL, QLITE_DTYPE_FLOAT32, wt->rank, shape, v, (size_t)ne * 4);
    } else if (conv) {
        free(wz);
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "the weight must be a constant");
    } else {
        wf = node_int_attr(g, n, "Cast", "cast_b", 1, &w, -1, "to", ONNX_FLOAT);
        if (wf >= 0 && wz) {
            int64_t shape[1] = {(int64_t)nwz};
            int32_t zc = qlc_add_const_f32(g, NULL, nwz == 1 ? 0 : 1, shape, wz);
            int32_t ins[2] = {wf, zc};
            wf = zc < 0 ? -1 : node(g, n, "Sub", "shift_b", 2, ins, -1);
        }
    }
    free(wz);
    if (wf < 0) return oom();
    int32_t acc = tmp(g, n, "acc_float");
    if (acc < 0) return oom();
    if (node_int_attr(g, n, "Cast", "to_int32", 1, &acc, n->outputs[0], "to", ONNX_INT32) < 0)
        return oom();
    n->inputs[0] = xs;
    n->inputs[1] = wf;
    n->num_inputs = 2;
    n->outputs[0] = acc;
    g->index_valid = false;
    return set_op_type(n, conv ? "Conv" : "MatMul");
}

/* round half to even: (v + 1.5·2^23) − 1.5·2^23 */
static int32_t round_even(qlc_graph *g, qlc_node *n, int32_t v, const char *suffix, int32_t magic) {
    char a[64], b[64];
    snprintf(a, sizeof a, "%s_add", suffix);
    snprintf(b, sizeof b, "%s_sub", suffix);
    int32_t i1[2] = {v, magic};
    int32_t t = node(g, n, "Add", a, 2, i1, -1);
    int32_t i2[2] = {t, magic};
    return t < 0 ? -1 : node(g, n, "Sub", b, 2, i2, -1);
}

static qlite_status expand_dynamic_quantize(qlc_graph *g, qlc_node *n) {
    if (n->num_inputs < 1 || n->num_outputs < 3 || n->outputs[0] < 0 || n->outputs[1] < 0 ||
        n->outputs[2] < 0)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "needs its input and all three outputs");
    int32_t x = n->inputs[0];
    int32_t zero = scalar(g, 0.0f), c255 = scalar(g, 255.0f), magic = scalar(g, ROUND_MAGIC);
    if (zero < 0 || c255 < 0 || magic < 0) return oom();
    int32_t mn = node_int_attr(g, n, "ReduceMin", "min", 1, &x, -1, "keepdims", 0);
    int32_t mx = node_int_attr(g, n, "ReduceMax", "max", 1, &x, -1, "keepdims", 0);
    if (mn < 0 || mx < 0) return oom();
    int32_t a[2] = {mn, zero}, b[2] = {mx, zero};
    int32_t mn0 = node(g, n, "Min", "min0", 2, a, -1), mx0 = node(g, n, "Max", "max0", 2, b, -1);
    int32_t r[2] = {mx0, mn0};
    int32_t rng = node(g, n, "Sub", "range", 2, r, -1);
    int32_t s[2] = {rng, c255};
    int32_t scale = node(g, n, "Div", "scale", 2, s, n->outputs[1]);
    int32_t d[2] = {mn0, scale};
    int32_t t = node(g, n, "Div", "min_over_scale", 2, d, -1);
    int32_t z[2] = {zero, t};
    int32_t izp = node(g, n, "Sub", "zp_real", 2, z, -1);
    int32_t c1[3] = {izp, zero, c255};
    int32_t izc = node(g, n, "Clip", "zp_clip", 3, c1, -1);
    if (izc < 0) return oom();
    int32_t izr = round_even(g, n, izc, "zp_round", magic);
    if (izr < 0 ||
        node_int_attr(g, n, "Cast", "zp_uint8", 1, &izr, n->outputs[2], "to", ONNX_UINT8) < 0)
        return oom();
    int32_t q[2] = {x, scale};
    int32_t xd = node(g, n, "Div", "x_over_scale", 2, q, -1);
    int32_t xr = xd < 0 ? -1 : round_even(g, n, xd, "x_round", magic);
    int32_t e[2] = {xr, izr};
    int32_t xz = xr < 0 ? -1 : node(g, n, "Add", "plus_zp", 2, e, -1);
    int32_t c2[3] = {xz, zero, c255};
    int32_t xc = xz < 0 ? -1 : node(g, n, "Clip", "y_clip", 3, c2, -1);
    if (xc < 0 ||
        node_int_attr(g, n, "Cast", "y_uint8", 1, &xc, n->outputs[0], "to", ONNX_UINT8) < 0)
        return oom();
    qlc_remove_node(g, n);
    return QLITE_OK;
}

qlite_status qlc_pass_expand_quant(qlc_ctx *c) {
    qlc_graph *g = c->g;
    uint32_t count = 0, nn = g->num_nodes;
    qlite_status st = QLITE_OK;
    for (uint32_t i = 0; i < nn && st == QLITE_OK; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || n->lowered) continue;
        const char *op = n->op_type;
        if (!strcmp(op, "QLinearConv")) st = expand_qlinear(g, n, true);
        else if (!strcmp(op, "QLinearMatMul")) st = expand_qlinear(g, n, false);
        else if (!strcmp(op, "ConvInteger")) st = expand_integer(g, n, true);
        else if (!strcmp(op, "MatMulInteger")) st = expand_integer(g, n, false);
        else if (!strcmp(op, "DynamicQuantizeLinear")) st = expand_dynamic_quantize(g, n);
        else continue;
        count++;
    }
    if (st == QLITE_OK && count) qlc_count(c, "quantized ONNX ops expanded", count);
    return st;
}

qlite_status qlc_infer_expanded(qlc_graph *g, qlc_node *n) {
    (void)g;
    return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "internal: %s was not expanded", n->op_type);
}

/* The table gives these ops a lower function so that tools reading it (the
 * conformance runner) treat them as ops that run, not as folded constants. */
qlite_status qlc_lower_expanded(qlc_graph *g, qlc_node *n) {
    return qlc_infer_expanded(g, n);
}
