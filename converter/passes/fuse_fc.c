/*
 * fuse_fc.c — FULLY_CONNECTED followed by ADD of a constant vector (the
 * bias a MatMul + Add export leaves separate) becomes one FULLY_CONNECTED
 * with that bias (added to an existing bias). The constant must have O
 * elements broadcast along the last axis ([O], [1,O], [1,1,O], ...).
 */
#include <stdlib.h>

#include "onnx/ops.h"
#include "passes.h"

qlite_status qlc_pass_fuse_fc(qlc_ctx *c) {
    qlc_graph *g = c->g;
    uint32_t fused = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *fc = g->nodes[i];
        if (fc->dead || !fc->lowered || fc->code != QLITE_OP_FULLY_CONNECTED) continue;
        if (fc->opts.u.fully_connected.activation != QLITE_ACT_NONE) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        int32_t y = fc->outputs[0];
        if (qlc_has_other_uses(g, y, 1) || qlc_use_count(g, y) != 1) continue;
        qlc_node *add = g->nodes[g->uses[g->use_start[y]].node];
        if (add->dead || !add->lowered || add->code != QLITE_OP_ADD ||
            add->opts.u.binary.activation != QLITE_ACT_NONE)
            continue;
        int32_t other = add->inputs[0] == y ? add->inputs[1] : add->inputs[0];
        qlc_tensor *w = qlc_in_t(g, fc, 1), *ct = other >= 0 ? g->tensors[other] : NULL;
        if (!ct || !ct->data || ct->dtype != QLITE_DTYPE_FLOAT32) continue;
        int64_t o = w->shape[0];
        bool vec = qlc_elements(ct) == (uint64_t)o && ct->rank >= 1 && ct->shape[ct->rank - 1] == o;
        if (!vec || ct->rank > g->tensors[y]->rank) continue;
        if (!qlc_same_shape(g->tensors[y], g->tensors[add->outputs[0]])) continue;
        float *nb = qlc_const_as_f32(ct);
        if (!nb) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        qlc_tensor *ob = qlc_in_t(g, fc, 2);
        if (ob) {
            const float *obv = ob->data;
            for (int64_t k = 0; k < o; k++) nb[k] += obv[k];
        }
        int64_t bs[1] = {o};
        int32_t bt = qlc_add_const_owned(g, ct->name, QLITE_DTYPE_FLOAT32, 1, bs, nb, (size_t)o * 4);
        if (bt < 0) return QLITE_ERR_NO_MEMORY;
        if (fc->num_inputs < 3) {
            int32_t *ni = realloc(fc->inputs, 3 * sizeof *ni);
            if (!ni) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            fc->inputs = ni;
            fc->num_inputs = 3;
        }
        fc->inputs[2] = bt;
        fc->outputs[0] = add->outputs[0];
        qlc_remove_node(g, add);
        fused++;
    }
    if (fused) qlc_count(c, "bias Add fused into FULLY_CONNECTED", fused);
    return QLITE_OK;
}
