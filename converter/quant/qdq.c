/*
 * qdq.c — a QDQ model (QuantizeLinear / DequantizeLinear pairs, as
 * quantization-aware training exports them) carries its int8 parameters in
 * the graph. After lowering they are QUANTIZE (float -> uint8/int8) and
 * DEQUANTIZE ops; weights were folded at import (their parameters ride on the
 * float constant, qlc_tensor.qdq). This pass, run before the int8 quantizer,
 * turns them into fixed parameters on the float tensors:
 *
 *   1. QUANTIZE(x) -> q with per-tensor parameters: x gets q's parameters
 *      (uint8 moved to int8: zero point - 128, the same real values,
 *      docs/quantization.md §1), unless x already has some.
 *   2. DEQUANTIZE(q) -> y: y gets q's parameters the same way.
 *   3. A QUANTIZE whose every use is a DEQUANTIZE with the same parameters is
 *      an identity on the int8 grid: uses of each DEQUANTIZE output read x
 *      instead (a model output keeps its name), and both ops disappear.
 *
 * What remains (a model input or output that is uint8 in the ONNX file, a
 * requantization between two different parameter sets) stays as QUANTIZE /
 * DEQUANTIZE ops, which the quantizer turns into integer requantizations.
 */
#include <string.h>

#include "quant_internal.h"

static bool is_q8(qlite_dtype d) { return d == QLITE_DTYPE_INT8 || d == QLITE_DTYPE_UINT8; }

static bool float_act(const qlc_tensor *t) { return !t->data && t->dtype == QLITE_DTYPE_FLOAT32; }

/* Parameters of int tensor q moved to int8 into (scale, zp). */
static bool int8_params(const qlc_tensor *q, float *scale, int32_t *zp) {
    if (!is_q8(q->dtype) || q->quant.count != 1) return false;
    *scale = q->quant.scale[0];
    *zp = q->quant.zero_point[0] - (q->dtype == QLITE_DTYPE_UINT8 ? 128 : 0);
    return true;
}

static qlite_status preset(qlc_tensor *t, float scale, int32_t zp) {
    if (t->qdq) return QLITE_OK;
    qlite_status st = qlc_quant_set(&t->quant, 1, 0, &scale, &zp);
    if (st == QLITE_OK) t->qdq = true;
    return st;
}

qlite_status qlc_qdq_absorb(qlc_ctx *c, bool *found) {
    qlc_graph *g = c->g;
    *found = false;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    for (uint32_t t = 0; t < g->num_tensors; t++)
        if (g->tensors[t]->data && g->tensors[t]->qdq) *found = true; /* folded weights */
    /* 1, 2 */
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || (n->code != QLITE_OP_QUANTIZE && n->code != QLITE_OP_DEQUANTIZE)) continue;
        qlc_tensor *x = g->tensors[n->inputs[0]], *y = g->tensors[n->outputs[0]];
        float s;
        int32_t z;
        if (n->code == QLITE_OP_QUANTIZE && float_act(x) && int8_params(y, &s, &z)) {
            *found = true;
            if ((st = preset(x, s, z)) != QLITE_OK) return st;
        } else if (n->code == QLITE_OP_DEQUANTIZE && float_act(y) && int8_params(x, &s, &z)) {
            *found = true;
            if ((st = preset(y, s, z)) != QLITE_OK) return st;
        }
    }
    /* 3 */
    uint32_t pairs = 0;
    bool changed = true;
    while (changed) {
        changed = false;
        if ((st = qlc_graph_reindex(g)) != QLITE_OK) return st;
        for (uint32_t i = 0; i < g->num_nodes && !changed; i++) {
            qlc_node *qn = g->nodes[i];
            if (qn->dead || qn->code != QLITE_OP_QUANTIZE) continue;
            int32_t x = qn->inputs[0], q = qn->outputs[0];
            qlc_tensor *xt = g->tensors[x], *qt = g->tensors[q];
            float s;
            int32_t z;
            if (!float_act(xt) || !int8_params(qt, &s, &z) || qt->is_output || !qlc_use_count(g, q))
                continue;
            if (!xt->qdq || xt->quant.count != 1 || xt->quant.scale[0] != s ||
                xt->quant.zero_point[0] != z)
                continue;
            for (uint32_t u = g->use_start[q]; u < g->use_start[q + 1] && !changed; u++) {
                qlc_node *dq = g->nodes[g->uses[u].node];
                if (dq->dead || dq->code != QLITE_OP_DEQUANTIZE) continue;
                int32_t y = dq->outputs[0];
                qlc_tensor *yt = g->tensors[y];
                if (!float_act(yt) || !yt->qdq || yt->quant.count != 1 ||
                    yt->quant.scale[0] != s || yt->quant.zero_point[0] != z)
                    continue;
                /* the DEQUANTIZE becomes a copy of x, then disappears */
                dq->inputs[0] = x;
                if (qlc_bypass(g, dq, x, y)) {
                    pairs++;
                    changed = true;
                } else {
                    dq->inputs[0] = q;
                }
            }
        }
    }
    uint32_t dead = qlc_remove_dead_nodes(g);
    (void)dead;
    if (pairs) qlc_count(c, "QuantizeLinear/DequantizeLinear pairs absorbed", pairs);
    qlc_log(c, 1, "qdq: %u pairs absorbed%s", pairs, *found ? "" : " (not a QDQ model)");
    return qlc_graph_reindex(g);
}
