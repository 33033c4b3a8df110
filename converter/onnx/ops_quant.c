/*
 * ops_quant.c — QuantizeLinear and DequantizeLinear (opsets 10-17).
 *
 *   QuantizeLinear(x, scale, zero_point?, axis)   y = saturate(round_half_even(x / scale) + zp)
 *   DequantizeLinear(x, scale, zero_point?, axis) y = (x - zp) * scale
 *
 * scale and zero_point must be constants: a scalar (per tensor) or a 1-D
 * tensor along `axis` (default 1, per channel). y's dtype is zero_point's
 * (uint8 when absent); DequantizeLinear reads int8, uint8 or int32.
 *
 * Constant inputs are folded here exactly as the kernels compute (x / scale
 * in float32, rounded half to even; (x - zp) in integers times scale in
 * float32), so a QDQ model's weights (float -> QuantizeLinear ->
 * DequantizeLinear) become float constants holding the fake-quantized
 * values. The DequantizeLinear fold marks them with the parameters they
 * came from (qlc_tensor.qdq; uint8 moved to int8, docs/quantization.md §1),
 * which the lowering carries through the weight transposes so that the int8
 * quantizer stores exactly the model's integers.
 *
 * Lowered, they become QUANTIZE and DEQUANTIZE with the parameters on the
 * integer tensor's Quantization.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "quant.h" /* src/quant.h */

typedef struct onnx_qparams {
    uint32_t count;          /* 1 = per tensor */
    int32_t axis;            /* normalized channel axis when count > 1 */
    float *scale;            /* [count] */
    int32_t *zp;             /* [count], in the zero point's dtype */
    qlite_dtype zdt;         /* INT8 / UINT8 (INT32 for a DequantizeLinear of int32) */
} onnx_qparams;

static void free_qparams(onnx_qparams *p) {
    free(p->scale);
    free(p->zp);
    memset(p, 0, sizeof *p);
}

/* Reads scale (input 1) and zero point (input 2) against x (input 0). */
static qlite_status read_qparams(qlc_graph *g, qlc_node *n, qlite_dtype default_zdt,
                                 onnx_qparams *p) {
    memset(p, 0, sizeof *p);
    qlc_tensor *x = qlc_in_t(g, n, 0), *s = qlc_in_t(g, n, 1), *z = qlc_in_t(g, n, 2);
    if (!s) return qlc_node_error(n, QLITE_ERR_CORRUPT, "the scale input is missing");
    size_t ns;
    qlite_status st = qlc_const_floats(g, n, 1, false, &p->scale, &ns);
    if (st != QLITE_OK) return st;
    if (ns < 1 || s->rank > 1) {
        free_qparams(p);
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "scale must be a scalar or a 1-D tensor (got rank %d)", (int)s->rank);
    }
    p->count = (uint32_t)ns;
    p->axis = 0;
    if (ns > 1 || s->rank == 1) {
        int32_t a;
        if ((st = qlc_norm_axis(n, qlc_attr_int(n, "axis", 1), x->rank, &a)) != QLITE_OK) {
            free_qparams(p);
            return st;
        }
        if (ns > 1 && x->shape[a] != (int64_t)ns) {
            free_qparams(p);
            return qlc_node_error(n, QLITE_ERR_SHAPE, "%zu scales for %lld channels on axis %d", ns,
                                  (long long)x->shape[a], (int)a);
        }
        p->axis = a;
    }
    for (uint32_t i = 0; i < p->count; i++)
        if (!(p->scale[i] > 0) || !isfinite(p->scale[i])) {
            double v = p->scale[i];
            free_qparams(p);
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "scale %g is not a finite positive number", v);
        }
    p->zp = calloc(p->count, sizeof *p->zp);
    if (!p->zp) {
        free_qparams(p);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    p->zdt = default_zdt;
    if (z) {
        int64_t *zv;
        size_t nz;
        if ((st = qlc_const_ints(g, n, 2, false, &zv, &nz)) != QLITE_OK) {
            free_qparams(p);
            return st;
        }
        if (nz != p->count && nz != 1) { /* a single zero point applies to every channel */
            free(zv);
            free_qparams(p);
            return qlc_node_error(n, QLITE_ERR_SHAPE, "%zu zero points for %u scales", nz,
                                  p->count);
        }
        p->zdt = z->dtype;
        for (uint32_t i = 0; i < p->count; i++) p->zp[i] = (int32_t)zv[nz == 1 ? 0 : i];
        free(zv);
        if (p->zdt != QLITE_DTYPE_INT8 && p->zdt != QLITE_DTYPE_UINT8 &&
            p->zdt != QLITE_DTYPE_INT32) {
            free_qparams(p);
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "zero point of type %s (int8 or "
                                  "uint8)", qlite_dtype_name(z->dtype));
        }
    }
    return QLITE_OK;
}

/* Channel of flat element i. */
static uint32_t channel_of(const onnx_qparams *p, const qlc_tensor *x, uint64_t i) {
    if (p->count == 1) return 0;
    uint64_t inner = 1;
    for (int32_t d = p->axis + 1; d < x->rank; d++) inner *= (uint64_t)x->shape[d];
    return (uint32_t)((i / inner) % p->count);
}

static qlite_status set_int_quant(qlc_tensor *t, const onnx_qparams *p) {
    return qlc_quant_set(&t->quant, p->count, p->count > 1 ? p->axis : 0, p->scale, p->zp);
}

/* ---- QuantizeLinear --------------------------------------------------------------- */

qlite_status qlc_infer_quantize_linear(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->dtype != QLITE_DTYPE_FLOAT32 && x->dtype != QLITE_DTYPE_FLOAT16)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "input of type %s (float expected)",
                              qlite_dtype_name(x->dtype));
    onnx_qparams p;
    if ((st = read_qparams(g, n, QLITE_DTYPE_UINT8, &p)) != QLITE_OK) return st;
    qlite_dtype dt = p.zdt;
    free_qparams(&p);
    if (dt == QLITE_DTYPE_INT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "quantizing to int32");
    qlc_set_out(g, n, 0, dt, x->rank, x->shape);
    return QLITE_OK;
}

qlite_status qlc_fold_quantize_linear(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    onnx_qparams p;
    qlite_status st = read_qparams(g, n, QLITE_DTYPE_UINT8, &p);
    if (st != QLITE_OK) return st;
    float *xf = qlc_const_as_f32(x);
    uint64_t c = qlc_elements(x);
    uint8_t *d = malloc(c ? (size_t)c : 1);
    if (!xf || !d) {
        free(xf);
        free(d);
        free_qparams(&p);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    int32_t lo, hi;
    qlite_dtype_qrange(p.zdt, &lo, &hi);
    for (uint64_t i = 0; i < c; i++) {
        uint32_t ch = channel_of(&p, x, i);
        int32_t q = qlite_quantize_value(xf[i], p.scale[ch], p.zp[ch], lo, hi);
        d[i] = p.zdt == QLITE_DTYPE_INT8 ? (uint8_t)(int8_t)q : (uint8_t)q;
    }
    free(xf);
    qlc_tensor_set_data(y, d, (size_t)c);
    y->origin = x->origin >= 0 ? x->origin : n->inputs[0];
    st = set_int_quant(y, &p);
    free_qparams(&p);
    if (st != QLITE_OK) return st;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

qlite_status qlc_lower_quantize_linear(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "input of type %s (float32 expected)",
                              qlite_dtype_name(x->dtype));
    onnx_qparams p;
    qlite_status st = read_qparams(g, n, QLITE_DTYPE_UINT8, &p);
    if (st != QLITE_OK) return st;
    st = set_int_quant(y, &p);
    free_qparams(&p);
    if (st != QLITE_OK) return st;
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_QUANTIZE, NULL, 1, &n->inputs[0], 1,
                    &n->outputs[0]))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- DequantizeLinear ------------------------------------------------------------- */

qlite_status qlc_infer_dequantize_linear(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->dtype != QLITE_DTYPE_INT8 && x->dtype != QLITE_DTYPE_UINT8 &&
        x->dtype != QLITE_DTYPE_INT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "input of type %s (int8, uint8 or int32 expected)",
                              qlite_dtype_name(x->dtype));
    onnx_qparams p;
    if ((st = read_qparams(g, n, x->dtype, &p)) != QLITE_OK) return st;
    bool mismatch = qlc_in_t(g, n, 2) && p.zdt != x->dtype;
    free_qparams(&p);
    if (mismatch)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "zero point type differs from the input's (%s)",
                              qlite_dtype_name(x->dtype));
    qlc_set_out(g, n, 0, QLITE_DTYPE_FLOAT32, x->rank, x->shape);
    return QLITE_OK;
}

qlite_status qlc_fold_dequantize_linear(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    onnx_qparams p;
    qlite_status st = read_qparams(g, n, x->dtype, &p);
    if (st != QLITE_OK) return st;
    int64_t *xv = qlc_const_as_i64(x);
    uint64_t c = qlc_elements(x);
    float *d = malloc(c ? (size_t)c * 4 : 4);
    if (!xv || !d) {
        free(xv);
        free(d);
        free_qparams(&p);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint64_t i = 0; i < c; i++) {
        uint32_t ch = channel_of(&p, x, i);
        d[i] = (float)(xv[i] - p.zp[ch]) * p.scale[ch];
    }
    free(xv);
    qlc_tensor_set_data(y, d, (size_t)c * 4);
    /* remember the grid the values sit on (int8 terms) */
    if (x->dtype != QLITE_DTYPE_INT32) {
        for (uint32_t i = 0; i < p.count; i++)
            if (x->dtype == QLITE_DTYPE_UINT8) p.zp[i] -= 128;
        if ((st = set_int_quant(y, &p)) == QLITE_OK) y->qdq = true;
        y->origin = x->origin;
    }
    free_qparams(&p);
    if (st != QLITE_OK) return st;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

qlite_status qlc_lower_dequantize_linear(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    onnx_qparams p;
    qlite_status st = read_qparams(g, n, x->dtype, &p);
    if (st != QLITE_OK) return st;
    if (x->quant.count) {
        qlc_quant want = {.count = p.count, .axis = p.count > 1 ? p.axis : 0, .scale = p.scale,
                          .zero_point = p.zp};
        bool same = x->quant.count == want.count && (want.count == 1 || x->quant.axis == want.axis);
        for (uint32_t i = 0; same && i < want.count; i++)
            same =
                x->quant.scale[i] == want.scale[i] && x->quant.zero_point[i] == want.zero_point[i];
        if (!same) {
            free_qparams(&p);
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "'%s' is dequantized with parameters other than those it was "
                                  "quantized with", x->name);
        }
    } else {
        st = set_int_quant(x, &p);
    }
    free_qparams(&p);
    if (st != QLITE_OK) return st;
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_DEQUANTIZE, NULL, 1, &n->inputs[0], 1,
                    &n->outputs[0]))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}
