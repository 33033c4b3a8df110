/*
 * cleanup.c — the last pass before emit: drops nodes whose outputs nobody
 * uses, restores ONNX tensor names where a layout copy replaced the
 * original ("x_nhwc" becomes "x" when "x" itself is gone), and sorts the
 * nodes in execution order (a cycle is an error naming a node on it).
 */
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"

static bool tensor_live(const qlc_graph *g, int32_t t) {
    const qlc_tensor *tt = g->tensors[t];
    if (tt->is_output || qlc_use_count(g, t) > 0 || qlc_producer(g, t) >= 0) return true;
    for (uint32_t i = 0; i < g->num_inputs; i++)
        if (g->inputs[i] == t) return true;
    return false;
}

/* A graph output that is a constant (a folded Shape, a Constant node) must
 * still be written by an op: RESHAPE (a copy) from a constant holding the
 * bytes. */
static qlite_status materialize_const_outputs(qlc_ctx *c) {
    qlc_graph *g = c->g;
    for (uint32_t i = 0; i < g->num_outputs; i++) {
        int32_t t = g->outputs[i];
        qlc_tensor *tt = g->tensors[t];
        if (!tt->data) continue;
        int64_t shape[QLITE_MAX_RANK];
        memcpy(shape, tt->shape, sizeof shape);
        int32_t src = qlc_add_const_owned(g, tt->name, tt->dtype, tt->rank, shape, tt->data,
                                          tt->data_size);
        tt = g->tensors[t];
        tt->data = NULL;
        tt->data_size = 0;
        if (src < 0) return QLITE_ERR_NO_MEMORY;
        if (qlc_emit_reshape(g, NULL, "Constant", src, tt->rank, shape, t) < 0)
            return QLITE_ERR_NO_MEMORY;
        qlc_count(c, "constant outputs copied by an op", 1);
    }
    return QLITE_OK;
}

qlite_status qlc_pass_cleanup(qlc_ctx *c) {
    qlc_graph *g = c->g;
    qlite_status st0 = materialize_const_outputs(c);
    if (st0 != QLITE_OK) return st0;
    uint32_t dead = qlc_remove_dead_nodes(g);
    if (dead) qlc_count(c, "unused ops removed", dead);
    qlite_status st = qlc_graph_toposort(g);
    if (st != QLITE_OK) return st;
    /* names: "<base>_nhwc" (possibly "_nhwc_<k>") -> "<base>" when base is unused */
    for (uint32_t t = 0; t < g->num_tensors; t++) {
        qlc_tensor *tt = g->tensors[t];
        char *s = strstr(tt->name, "_nhwc");
        if (!s || tt->data || !tensor_live(g, (int32_t)t)) continue;
        char base[512];
        size_t bl = (size_t)(s - tt->name);
        if (bl >= sizeof base || bl == 0) continue;
        memcpy(base, tt->name, bl);
        base[bl] = 0;
        int32_t b = qlc_find_tensor(g, base);
        if (b < 0 || tensor_live(g, b)) continue;
        qlc_swap_names(g, (int32_t)t, b);
    }
    /* a QDQ weight folded from QuantizeLinear -> DequantizeLinear takes back
     * the name of the float initializer it was made from, once that one is
     * gone ("conv1.weight" rather than ".../DequantizeLinear_output_0") */
    for (uint32_t t = 0; t < g->num_tensors; t++) {
        qlc_tensor *tt = g->tensors[t];
        int32_t o = tt->origin;
        if (o < 0 || !tt->data || !tensor_live(g, (int32_t)t) || tensor_live(g, o)) continue;
        qlc_swap_names(g, (int32_t)t, o);
        tt->origin = -1;
    }
    /* constants rewritten by the passes were named "<name>_<k>" because the
     * original still existed; when that original is no longer used, the
     * rewritten one takes its name back (repeatedly: "w_1_12" -> "w_1" -> "w") */
    bool changed = true;
    while (changed) {
        changed = false;
        for (uint32_t t = 0; t < g->num_tensors; t++) {
            qlc_tensor *tt = g->tensors[t];
            if (!tt->data || !tensor_live(g, (int32_t)t)) continue;
            char *u = strrchr(tt->name, '_');
            if (!u || !u[1] || u == tt->name) continue;
            bool digits = true;
            for (const char *p = u + 1; *p && digits; p++) digits = *p >= '0' && *p <= '9';
            if (!digits) continue;
            char base[512];
            size_t bl = (size_t)(u - tt->name);
            if (bl >= sizeof base) continue;
            memcpy(base, tt->name, bl);
            base[bl] = 0;
            int32_t b = qlc_find_tensor(g, base);
            if (b < 0 || tensor_live(g, b)) continue;
            qlc_swap_names(g, (int32_t)t, b);
            changed = true;
        }
    }
    return QLITE_OK;
}
