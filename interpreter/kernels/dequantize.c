/*
 * dequantize.c — DEQUANTIZE int8 / uint8 / int32 -> float32, per tensor or per
 * channel along quant->axis (ONNX DequantizeLinear):
 *   y = (q - zero_point) * scale        (q - zero_point exact in int64)
 * and float16 -> float32 (no quantization). A float16 constant arrives
 * already widened to float32 (kernel.h), which is then a copy.
 */
#include <string.h>

#include "kernels/elementwise_q8.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"

typedef struct dequantize_state {
    qlite_qparams qp;
    qlite_dtype in;
    qlite_q8_dequantize_fn run;  /* int8/uint8 variant (elementwise_q8.h), NULL: the loops */
} dequantize_state;

static qlite_status dequantize_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    if ((st = qlite_node_check_dtype(node, y, "output", QLITE_DTYPE_FLOAT32)) != QLITE_OK) return st;
    dequantize_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->in = x->dtype;
    switch (x->dtype) {
    case QLITE_DTYPE_INT8: st = qlite_qparams_init(node, x, "input", -128, 127, &s->qp); break;
    case QLITE_DTYPE_UINT8: st = qlite_qparams_init(node, x, "input", 0, 255, &s->qp); break;
    case QLITE_DTYPE_INT32:
        st = qlite_qparams_init(node, x, "input", INT32_MIN, INT32_MAX, &s->qp);
        break;
    case QLITE_DTYPE_FLOAT16:
    case QLITE_DTYPE_FLOAT32: st = QLITE_OK; break;
    default:
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "dequantizing %s is not supported", qlite_dtype_name(x->dtype));
    }
    if (st != QLITE_OK) return st;
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    const qlite_q8_ew_ukernels *v = qlite_node_reference_only(node) || !qlite_is_q8(x->dtype)
                                        ? NULL
                                        : qlite_q8_ew_select(QLITE_Q8_EW_DEQUANTIZE);
    s->run = v ? v->dequantize : NULL;
    node->state = s;
    return QLITE_OK;
}

static qlite_status dequantize_eval(qlite_node *node) {
    const dequantize_state *s = node->state;
    const qlite_tensor *x = node->inputs[0];
    float *y = node->outputs[0]->data;
    const size_t n = qlite_tensor_elements(x);
    if (s->in == QLITE_DTYPE_FLOAT32) {
        if ((void *)y != x->data) memmove(y, x->data, n * sizeof *y);
        return QLITE_OK;
    }
    if (s->in == QLITE_DTYPE_FLOAT16) {
        const uint16_t *h = x->data;
        for (size_t i = 0; i < n; i++) y[i] = qlite_fp16_to_fp32(h[i]);
        return QLITE_OK;
    }
    const qlite_qparams *p = &s->qp;
    for (size_t o = 0; o < p->outer; o++)
        for (size_t c = 0; c < p->channels; c++) {
            const size_t off = (o * p->channels + c) * p->inner;
            const float scale = p->scale[c];
            const int32_t zp = p->zero_point[c];
            float *yo = y + off;
            if (s->run) {
                s->run((const uint8_t *)x->data + off, yo, p->inner, scale, zp,
                       s->in == QLITE_DTYPE_INT8);
            } else if (s->in == QLITE_DTYPE_INT8) {
                const int8_t *q = (const int8_t *)x->data + off;
                for (size_t i = 0; i < p->inner; i++) yo[i] = (float)(q[i] - zp) * scale;
            } else if (s->in == QLITE_DTYPE_UINT8) {
                const uint8_t *q = (const uint8_t *)x->data + off;
                for (size_t i = 0; i < p->inner; i++) yo[i] = (float)(q[i] - zp) * scale;
            } else {
                const int32_t *q = (const int32_t *)x->data + off;
                for (size_t i = 0; i < p->inner; i++)
                    yo[i] = (float)((int64_t)q[i] - zp) * scale;
            }
        }
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_dequantize = {.prepare = dequantize_prepare,
                                              .eval = dequantize_eval};
