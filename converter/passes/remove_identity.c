/*
 * remove_identity.c — drops Identity and Dropout (inference: a copy) nodes.
 * A Dropout whose mask output is used stays (and fails at lowering). When
 * the node writes a graph output, its producer writes that output instead;
 * when even that is impossible (graph input or constant straight to an
 * output) the node stays and is lowered to a copy.
 */
#include <string.h>

#include "passes.h"

qlite_status qlc_dropout_inference(qlc_graph *g, qlc_node *n);

qlite_status qlc_pass_remove_identity(qlc_ctx *c) {
    qlc_graph *g = c->g;
    uint32_t removed = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || n->lowered) continue;
        bool id = !strcmp(n->op_type, "Identity"), drop = !strcmp(n->op_type, "Dropout");
        if (!id && !drop) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        if (n->num_inputs < 1 || n->inputs[0] < 0 || n->num_outputs < 1 || n->outputs[0] < 0)
            continue;
        if (drop && (st = qlc_dropout_inference(g, n)) != QLITE_OK) return st;
        if (qlc_bypass(g, n, n->inputs[0], n->outputs[0])) removed++;
    }
    if (removed) qlc_count(c, "Identity/Dropout removed", removed);
    return QLITE_OK;
}
