/*
 * targets.c — which constants the pruning, clustering and storage passes
 * look at (compress.h): the weights of the ops that multiply by them.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

/* Weight slots of op n whose input is a constant; returns the count (<= 2). */
static uint32_t weight_slots(const qlc_graph *g, const qlc_node *n, uint32_t slots[2]) {
    switch (n->code) {
    case QLITE_OP_FULLY_CONNECTED: case QLITE_OP_CONV_2D: case QLITE_OP_DEPTHWISE_CONV_2D:
    case QLITE_OP_TRANSPOSE_CONV_2D:
        slots[0] = 1;
        return 1;
    case QLITE_OP_BATCH_MATMUL: {
        /* either operand may be the constant one */
        uint32_t k = 0;
        for (uint32_t s = 0; s < 2; s++)
            if (qlc_is_const(g, qlc_in(n, s))) slots[k++] = s;
        return k;
    }
    case QLITE_OP_LSTM: case QLITE_OP_GRU:
        slots[0] = 1;
        slots[1] = 2;
        return 2;
    case QLITE_OP_GATHER:
        slots[0] = 0;
        return 1;
    default:
        return 0;
    }
}

qlite_status qlc_targets(qlc_graph *g, bool float_only, qlc_target **out, uint32_t *count) {
    *out = NULL;
    *count = 0;
    uint8_t *seen = calloc(g->num_tensors ? g->num_tensors : 1, 1);
    qlc_target *list = malloc((g->num_tensors ? g->num_tensors : 1) * sizeof *list);
    if (!seen || !list) {
        free(seen);
        free(list);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead || !n->lowered) continue;
        uint32_t slots[2], ns = weight_slots(g, n, slots);
        for (uint32_t s = 0; s < ns; s++) {
            int32_t t = qlc_in(n, slots[s]);
            if (t < 0 || seen[t] || !qlc_is_const(g, t)) continue;
            const qlc_tensor *tt = g->tensors[t];
            if (float_only && tt->dtype != QLITE_DTYPE_FLOAT32) continue;
            if (tt->rank < 0 || !tt->data_size) continue;
            seen[t] = 1;
            uint64_t rows = tt->rank > 0 ? (uint64_t)tt->shape[0] : 1;
            uint64_t n_el = qlc_elements(tt);
            list[m++] = (qlc_target){.tensor = t, .op = n, .slot = slots[s], .rows = rows,
                                     .cols = rows ? n_el / rows : 0};
        }
    }
    free(seen);
    *out = list;
    *count = m;
    return QLITE_OK;
}

bool qlc_target_matches(const qlc_graph *g, const qlc_target *t, const char *pattern) {
    if (!fnmatch(pattern, g->tensors[t->tensor]->name, 0)) return true;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead || !n->name) continue;
        for (uint32_t k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] == t->tensor && !fnmatch(pattern, n->name, 0)) return true;
    }
    return false;
}
