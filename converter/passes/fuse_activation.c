/*
 * fuse_activation.c — RELU, RELU6, CLIP(0,6), CLIP(-1,1) and CLIP(0,+inf)
 * that directly follow an op with a fused-activation field (conv, depthwise,
 * transpose conv, FC, batch matmul, add/sub/mul/div, concatenation, pools)
 * become that field; the producer then writes the activation's output.
 * The producer's output must feed only the activation.
 */
#include <float.h>

#include "onnx/ops.h"
#include "passes.h"

static qlite_activation *act_field(qlc_node *n) {
    switch (n->code) {
    case QLITE_OP_CONV_2D: case QLITE_OP_DEPTHWISE_CONV_2D: case QLITE_OP_TRANSPOSE_CONV_2D:
        return &n->opts.u.conv2d.activation;
    case QLITE_OP_FULLY_CONNECTED: return &n->opts.u.fully_connected.activation;
    case QLITE_OP_BATCH_MATMUL: return &n->opts.u.batch_matmul.activation;
    case QLITE_OP_ADD: case QLITE_OP_SUB: case QLITE_OP_MUL: case QLITE_OP_DIV:
        return &n->opts.u.binary.activation;
    case QLITE_OP_CONCATENATION: return &n->opts.u.concatenation.activation;
    case QLITE_OP_MAX_POOL_2D: case QLITE_OP_AVERAGE_POOL_2D: return &n->opts.u.pool2d.activation;
    default: return NULL;
    }
}

static qlite_activation act_of(const qlc_node *a) {
    if (a->code == QLITE_OP_RELU) return QLITE_ACT_RELU;
    if (a->code == QLITE_OP_RELU6) return QLITE_ACT_RELU6;
    if (a->code == QLITE_OP_CLIP) {
        float lo = a->opts.u.activation.min, hi = a->opts.u.activation.max;
        if (lo == 0.0f && hi == 6.0f) return QLITE_ACT_RELU6;
        if (lo == -1.0f && hi == 1.0f) return QLITE_ACT_RELU_N1_TO_1;
        if (lo == 0.0f && hi >= FLT_MAX) return QLITE_ACT_RELU;
    }
    return QLITE_ACT_NONE;
}

qlite_status qlc_pass_fuse_activation(qlc_ctx *c) {
    qlc_graph *g = c->g;
    uint32_t fused = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *a = g->nodes[i];
        if (a->dead || !a->lowered) continue;
        qlite_activation act = act_of(a);
        if (act == QLITE_ACT_NONE) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        int32_t x = a->inputs[0];
        int32_t pi = qlc_producer(g, x);
        if (pi < 0 || qlc_has_other_uses(g, x, 1)) continue;
        qlc_node *p = g->nodes[pi];
        if (p->dead || !p->lowered || p->num_outputs != 1) continue;
        qlite_activation *f = act_field(p);
        if (!f || g->tensors[x]->dtype != QLITE_DTYPE_FLOAT32) continue;
        /* compose: relu then relu6 (or the reverse) is relu6 */
        if (*f == QLITE_ACT_RELU && (act == QLITE_ACT_RELU6 || act == QLITE_ACT_RELU)) {
            /* act already the result */
        } else if (*f == QLITE_ACT_RELU6 && (act == QLITE_ACT_RELU || act == QLITE_ACT_RELU6)) {
            act = QLITE_ACT_RELU6;
        } else if (*f != QLITE_ACT_NONE) {
            continue;
        }
        *f = act;
        p->outputs[0] = a->outputs[0];
        qlc_remove_node(g, a);
        fused++;
    }
    if (fused) qlc_count(c, "activations fused into their producer", fused);
    return QLITE_OK;
}
