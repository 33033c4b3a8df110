/*
 * shape_inference.c — infers every ONNX-level node's output dtype and shape
 * in execution order, folding constant nodes as it goes (so a Reshape whose
 * target comes from a Shape -> Gather -> Concat chain sees a constant), and
 * checks the result against the shapes the file declares (value_info, graph
 * outputs): a rank mismatch is an error naming the node.
 *
 * Steps:
 *   1. topological sort (a cycle or a dangling input is reported here);
 *   2. per node: the op must be known; every present input must have a shape;
 *      the op's infer function sets the outputs;
 *   3. declared shapes are compared (rank always; dims where both are known);
 *   4. when every input is constant and the op can be folded, it is.
 */
#include <stdio.h>
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"

qlite_status qlc_fold_node(qlc_ctx *c, qlc_node *n, bool *folded);

static qlite_status check_declared(const qlc_graph *g, const qlc_node *n) {
    for (uint32_t i = 0; i < n->num_outputs; i++) {
        qlc_tensor *t = qlc_out_t(g, n, i);
        if (!t || t->decl_rank < 0 || t->rank < 0) continue;
        char a[160], b[160];
        if (t->decl_rank != t->rank)
            return qlc_node_error(n, QLITE_ERR_CORRUPT,
                                  "rank mismatch: output '%s' is declared %s (rank %d) but the "
                                  "inputs give %s (rank %d)", t->name,
                                  qlc_shape_str(t->decl_rank, t->decl_shape, a, sizeof a),
                                  (int)t->decl_rank, qlc_shape_str(t->rank, t->shape, b, sizeof b),
                                  (int)t->rank);
        for (int32_t d = 0; d < t->rank; d++)
            if (t->decl_shape[d] > 0 && t->shape[d] > 0 && t->decl_shape[d] != t->shape[d])
                return qlc_node_error(n, QLITE_ERR_CORRUPT,
                                      "shape mismatch: output '%s' is declared %s but the inputs "
                                      "give %s", t->name,
                                      qlc_shape_str(t->decl_rank, t->decl_shape, a, sizeof a),
                                      qlc_shape_str(t->rank, t->shape, b, sizeof b));
    }
    return QLITE_OK;
}

qlite_status qlc_pass_infer_shapes(qlc_ctx *c) {
    qlc_graph *g = c->g;
    qlite_status st = qlc_graph_toposort(g);
    if (st != QLITE_OK) return st;
    uint32_t folded = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || n->lowered) continue;
        const qlc_onnx_op *def = qlc_onnx_op_find(n->op_type);
        if (!def)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "op type '%s' is not supported by qlite-convert", n->op_type);
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            qlc_tensor *t = qlc_in_t(g, n, k);
            if (t && t->rank < 0)
                return qlc_node_error(n, QLITE_ERR_CORRUPT,
                                      "input '%s' has no known shape (not produced by any node, "
                                      "not an initializer and not a graph input)", t->name);
        }
        if ((st = def->infer(g, n)) != QLITE_OK) return st;
        if (n->dead) continue; /* the infer function removed it (an unneeded zero state) */
        if ((st = check_declared(g, n)) != QLITE_OK) return st;
        bool f = false;
        if ((st = qlc_fold_node(c, n, &f)) != QLITE_OK) return st;
        folded += f;
    }
    if (folded) qlc_count(c, "constant nodes folded", folded);
    qlc_log(c, 1, "shape inference: %u nodes, %u folded into constants", qlc_live_nodes(g) + folded,
            folded);
    return QLITE_OK;
}
