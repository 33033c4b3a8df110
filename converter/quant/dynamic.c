/*
 * dynamic.c — DYNAMIC (dynamic-range, "hybrid") mode, docs/quantization.md §5:
 * the weights of FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D,
 * TRANSPOSE_CONV_2D, BATCH_MATMUL with a constant operand, LSTM / GRU (W and
 * R) and GATHER (embedding tables) are stored int8 symmetric per output
 * channel (per tensor with options.per_tensor); activations, biases and every
 * other constant stay float32. The kernels quantize their float input per
 * row at run time.
 *
 * Per op: a weight under 1024 elements stays float (listed in the report);
 * otherwise the int8 weight is probed against the op's kernel (probe.c) and
 * used when its prepare accepts it; else the weight stays float and the
 * report says why.
 */
#include <math.h>
#include <stdlib.h>

#include "quant_internal.h"

#define DYNAMIC_MIN_ELEMENTS 1024

/* The weight slots of op n (up to 2). */
static uint32_t weight_slots(const qlc_graph *g, const qlc_node *n, uint32_t slots[2]) {
    switch (n->code) {
    case QLITE_OP_FULLY_CONNECTED: case QLITE_OP_CONV_2D: case QLITE_OP_DEPTHWISE_CONV_2D:
    case QLITE_OP_TRANSPOSE_CONV_2D: case QLITE_OP_BATCH_MATMUL:
        slots[0] = 1;
        return 1;
    case QLITE_OP_LSTM: case QLITE_OP_GRU:
        slots[0] = 1;
        slots[1] = 2;
        return 2;
    case QLITE_OP_GATHER:
        slots[0] = 0;
        return 1;
    default:
        (void)g;
        return 0;
    }
}

qlite_status qlc_quant_dynamic(qlc_ctx *c, qlite_convert_report *r) {
    qlc_graph *g = c->g;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    uint32_t nt0 = g->num_tensors, nn = g->num_nodes;
    int32_t *cache = malloc((nt0 ? nt0 : 1) * sizeof *cache);
    double *cache_sqnr = malloc((nt0 ? nt0 : 1) * sizeof *cache_sqnr);
    if (!cache || !cache_sqnr) {
        free(cache);
        free(cache_sqnr);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint32_t t = 0; t < nt0; t++) cache[t] = -1;
    uint32_t quantized = 0;
    for (uint32_t i = 0; i < nn && st == QLITE_OK; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        uint32_t slots[2], ns = weight_slots(g, n, slots);
        int32_t ins[64];
        if (!ns || n->num_inputs > 64) continue;
        for (uint32_t k = 0; k < n->num_inputs; k++) ins[k] = n->inputs[k];
        bool any = false;
        for (uint32_t s = 0; s < ns && st == QLITE_OK; s++) {
            int32_t w = qlc_in(n, slots[s]);
            if (w < 0 || (uint32_t)w >= nt0) continue;
            qlc_tensor *wt = g->tensors[w];
            if (!wt->data || wt->dtype != QLITE_DTYPE_FLOAT32) continue;
            uint64_t ne = qlc_elements(wt);
            if (ne < DYNAMIC_MIN_ELEMENTS) {
                st = qlc_report_add_kept(r, wt->name, ne, "under 1024 elements");
                continue;
            }
            if (cache[w] < 0) {
                int32_t axis = qlc_weight_axis(n, slots[s], wt);
                cache[w] = qlc_quantize_weight(g, w, axis, c->opts.per_tensor, "_int8",
                                               &cache_sqnr[w]);
                if (cache[w] < 0) st = QLITE_ERR_INVALID_ARGUMENT;
            }
            if (st == QLITE_OK) {
                ins[slots[s]] = cache[w];
                any = true;
            }
        }
        if (st != QLITE_OK || !any) continue;
        char why[256];
        if (qlc_probe_op(g, n, ins, n->outputs, why, sizeof why)) {
            for (uint32_t s = 0; s < ns && st == QLITE_OK; s++) {
                int32_t w = qlc_in(n, slots[s]);
                if (ins[slots[s]] == w || w < 0) continue;
                const qlc_tensor *qt = g->tensors[ins[slots[s]]];
                st = qlc_report_add_weight(r, n->name, n->code, g->tensors[w]->name,
                                           QLITE_DTYPE_INT8, qt->quant.count, qlc_elements(qt),
                                           cache_sqnr[w]);
                n->inputs[slots[s]] = ins[slots[s]];
            }
            quantized++;
        } else {
            char reason[320];
            snprintf(reason, sizeof reason, "no hybrid (int8 weight) kernel: %s", why);
            st = qlc_report_add_float_op(r, n->name, n->code, reason);
            for (uint32_t s = 0; s < ns && st == QLITE_OK; s++) {
                int32_t w = qlc_in(n, slots[s]);
                if (w >= 0 && ins[slots[s]] != w)
                    st = qlc_report_add_kept(r, g->tensors[w]->name, qlc_elements(g->tensors[w]),
                                             "its op has no hybrid kernel");
            }
        }
    }
    free(cache);
    free(cache_sqnr);
    if (st != QLITE_OK) return st;
    g->index_valid = false;
    qlc_count(c, "ops with int8 weights (hybrid)", quantized);
    qlc_log(c, 1, "dynamic: %u ops with int8 weights", quantized);
    return QLITE_OK;
}
