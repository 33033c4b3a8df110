/*
 * lower.c — turns every remaining ONNX-level node into qlite ops through
 * its op's lower function (onnx/ops_*.c). Ops that exist only to be folded
 * (Shape, Range, ...) and survived folding are reported here: their inputs
 * were not constant.
 */
#include "onnx/ops.h"
#include "passes.h"

qlite_status qlc_pass_lower(qlc_ctx *c) {
    qlc_graph *g = c->g;
    uint32_t n0 = g->num_nodes, lowered = 0;
    for (uint32_t i = 0; i < n0; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || n->lowered) continue;
        const qlc_onnx_op *def = qlc_onnx_op_find(n->op_type);
        if (!def)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "op type '%s' is not supported by qlite-convert", n->op_type);
        if (!def->lower)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "qlite has no kernel for %s; it is supported only when its "
                                  "inputs are constants (folded at conversion)", n->op_type);
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        if ((st = def->lower(g, n)) != QLITE_OK) return st;
        lowered++;
    }
    qlc_log(c, 1, "lowering: %u ONNX nodes -> %u qlite ops", lowered, qlc_live_nodes(g));
    return QLITE_OK;
}
