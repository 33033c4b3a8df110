/*
 * quantize.c — QUANTIZE float32 -> int8 / uint8 with the output tensor's
 * scale and zero point, per tensor or per channel along quant->axis
 * (ONNX QuantizeLinear):
 *   q = saturate(round_half_to_even(x / scale) + zero_point)
 * x / scale is a float32 division as the ONNX reference computes it (not a
 * multiplication by 1/scale, which rounds differently). Since the bounds
 * [qmin - zp, qmax - zp] are integers, clamping before rounding gives the
 * same result and keeps |v| < 2^22, where (v + 1.5*2^23) - 1.5*2^23 rounds
 * half to even in the FPU's default mode — a loop the compiler vectorizes.
 * NaN quantizes to the zero point (real 0).
 *
 * int8/uint8 input -> int8/uint8 output (requantization, docs/quantization.md
 * §4.9), per tensor on both sides, integer only:
 *   y = clamp(zy + requantize(x - zx, sx / sy))
 * precomputed at prepare for each of the 256 input codes, so eval is one
 * table lookup per byte. Equal scales with zero points 128 apart make the
 * table the exact uint8 <-> int8 shift (q -> q -+ 128, the byte's top bit
 * flipped); equal parameters make it the identity.
 */
#include <string.h>

#include "kernels/elementwise_q8.h"
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"

#define ROUND_MAGIC 12582912.0f /* 1.5 * 2^23 */

typedef struct quantize_state {
    qlite_eval_fn eval;      /* first: qlite_eval_dispatch */
    qlite_qparams qp;
    bool is_unsigned;
    qlite_q8_lut_fn lut;           /* variants (elementwise_q8.h), NULL: the reference loops */
    qlite_q8_quantize_fn quantize;
    uint8_t table[256];      /* requantization: output byte for each input byte */
} quantize_state;

static qlite_status quantize_eval_f32(qlite_node *node);

static qlite_status requantize_eval(qlite_node *node) {
    const quantize_state *s = node->state;
    const uint8_t *x = node->inputs[0]->data;
    uint8_t *y = node->outputs[0]->data;
    const size_t n = qlite_tensor_elements(node->inputs[0]);
    if (s->lut) {
        s->lut(s->table, x, y, n);
        return QLITE_OK;
    }
    for (size_t i = 0; i < n; i++) y[i] = s->table[x[i]];
    return QLITE_OK;
}

static qlite_status requantize_prepare(qlite_node *node) {
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    qlite_status st;
    qlite_q8 qx, qy;
    if ((st = qlite_q8_params(node, x, "input", &qx)) != QLITE_OK ||
        (st = qlite_q8_params(node, y, "output", &qy)) != QLITE_OK)
        return st;
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    quantize_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = requantize_eval;
    const qlite_q8_ew_ukernels *v =
        qlite_node_reference_only(node) ? NULL : qlite_q8_ew_select(QLITE_Q8_EW_LUT);
    s->lut = v ? v->lut : NULL;
    if ((st = qlite_q8_rescale_table(node, s->table, &qx, &qy, qy.qmin, qy.qmax,
                                     "input / output")) != QLITE_OK)
        return st;
    node->state = s;
    return QLITE_OK;
}

static qlite_status quantize_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    if (qlite_is_q8(x->dtype) && qlite_is_q8(y->dtype)) return requantize_prepare(node);
    if ((st = qlite_node_check_dtype(node, x, "input", QLITE_DTYPE_FLOAT32)) != QLITE_OK) return st;
    if (y->dtype != QLITE_DTYPE_INT8 && y->dtype != QLITE_DTYPE_UINT8)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "quantizing to %s is not supported (int8 or uint8)",
                                qlite_dtype_name(y->dtype));
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    quantize_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = quantize_eval_f32;
    const qlite_q8_ew_ukernels *v =
        qlite_node_reference_only(node) ? NULL : qlite_q8_ew_select(QLITE_Q8_EW_QUANTIZE);
    s->quantize = v ? v->quantize : NULL;
    s->is_unsigned = y->dtype == QLITE_DTYPE_UINT8;
    if ((st = qlite_qparams_init(node, y, "output", s->is_unsigned ? 0 : -128,
                                 s->is_unsigned ? 255 : 127, &s->qp)) != QLITE_OK)
        return st;
    node->state = s;
    return QLITE_OK;
}

/* n values with one scale/zero point; writes int8 or uint8. */
static void quantize_run(const float *x, void *out, size_t n, float scale, int32_t zp,
                         bool is_unsigned) {
    const float lo = (float)((is_unsigned ? 0 : -128) - zp);
    const float hi = (float)((is_unsigned ? 255 : 127) - zp);
    if (is_unsigned) {
        uint8_t *y = out;
        for (size_t i = 0; i < n; i++) {
            float v = x[i] / scale;
            v = v != v ? 0.0f : qlite_clampf(v, lo, hi);
            v = (v + ROUND_MAGIC) - ROUND_MAGIC;
            y[i] = (uint8_t)((int32_t)v + zp);
        }
    } else {
        int8_t *y = out;
        for (size_t i = 0; i < n; i++) {
            float v = x[i] / scale;
            v = v != v ? 0.0f : qlite_clampf(v, lo, hi);
            v = (v + ROUND_MAGIC) - ROUND_MAGIC;
            y[i] = (int8_t)((int32_t)v + zp);
        }
    }
}

typedef struct quantize_job {
    const quantize_state *s;
    const float *x;
    uint8_t *y;
} quantize_job;

/* Elements [begin, end) of the flat [outer, channels, inner] tensor, one run per channel
 * block they cross (element-wise: any split gives the same bytes). */
static void quantize_range(void *arg, size_t begin, size_t end) {
    const quantize_job *j = arg;
    const quantize_state *s = j->s;
    const qlite_qparams *p = &s->qp;
    for (size_t i = begin; i < end;) {
        const size_t c = i / p->inner % p->channels, in = i % p->inner;
        const size_t len = p->inner - in < end - i ? p->inner - in : end - i;
        if (s->quantize)
            s->quantize(j->x + i, j->y + i, len, p->scale[c], p->zero_point[c], s->is_unsigned);
        else
            quantize_run(j->x + i, j->y + i, len, p->scale[c], p->zero_point[c], s->is_unsigned);
        i += len;
    }
}

static qlite_status quantize_eval_f32(qlite_node *node) {
    const quantize_state *s = node->state;
    const qlite_qparams *p = &s->qp;
    quantize_job j = {.s = s, .x = node->inputs[0]->data, .y = node->outputs[0]->data};
    /* split between threads when large (a model's input: 0.08 ms serial in ResNet-18) */
    qlite_kernel_parallel(node, p->outer * p->channels * p->inner, 4, quantize_range, &j);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_quantize = {.prepare = quantize_prepare,
                                            .eval = qlite_eval_dispatch};
