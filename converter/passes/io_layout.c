/*
 * io_layout.c — --nhwc-io: model inputs that feed only channels-last ops
 * (every consumer is a TRANSPOSE to channels-last, as lowering makes for
 * convolutions, pools and resizes) become NHWC (NLC for 1-D) inputs, and
 * outputs written by a TRANSPOSE back to channels-first become NHWC
 * outputs. The names stay; the layout pass then cancels the transposes.
 */
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"

static bool is_to_last(const qlc_node *n, int32_t r) {
    if (!n->lowered || n->dead || n->code != QLITE_OP_TRANSPOSE || (int32_t)n->opts.u.transpose.rank != r)
        return false;
    int32_t p[QLITE_MAX_RANK];
    qlc_perm_to_nhwc(r, p);
    return memcmp(p, n->opts.u.transpose.perm, (size_t)r * sizeof *p) == 0;
}

static bool is_to_first(const qlc_node *n, int32_t r) {
    if (!n->lowered || n->dead || n->code != QLITE_OP_TRANSPOSE || (int32_t)n->opts.u.transpose.rank != r)
        return false;
    int32_t p[QLITE_MAX_RANK];
    qlc_perm_to_nchw(r, p);
    return memcmp(p, n->opts.u.transpose.perm, (size_t)r * sizeof *p) == 0;
}

qlite_status qlc_pass_io_layout(qlc_ctx *c) {
    if (!c->opts.nhwc_io) return QLITE_OK;
    qlc_graph *g = c->g;
    uint32_t moved = 0;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    for (uint32_t i = 0; i < g->num_inputs; i++) {
        int32_t x = g->inputs[i];
        qlc_tensor *xt = g->tensors[x];
        int32_t r = xt->rank;
        if ((r != 3 && r != 4) || qlc_use_count(g, x) == 0) continue;
        bool all = true;
        for (uint32_t u = g->use_start[x]; u < g->use_start[x + 1] && all; u++)
            all = is_to_last(g->nodes[g->uses[u].node], r);
        if (!all || xt->is_output) continue;
        int32_t p[QLITE_MAX_RANK];
        qlc_perm_to_nhwc(r, p);
        int64_t s[QLITE_MAX_RANK];
        qlc_permute_shape(r, xt->shape, p, s);
        int32_t nx = qlc_new_act(g, x, "_nhwc", xt->dtype, r, s);
        if (nx < 0) return QLITE_ERR_NO_MEMORY;
        xt = g->tensors[x];
        g->tensors[nx]->layout = QLC_LAYOUT_NHWC; /* calibration data may come channels first */
        g->tensors[nx]->is_input = true;
        xt->is_input = false;
        qlc_perm_to_nchw(r, p);
        if (qlc_emit_transpose(g, NULL, "Transpose", nx, p, x) < 0) return QLITE_ERR_NO_MEMORY;
        g->inputs[i] = nx;
        qlc_swap_names(g, x, nx);
        moved++;
        if ((st = qlc_graph_reindex(g)) != QLITE_OK) return st;
    }
    for (uint32_t i = 0; i < g->num_outputs; i++) {
        int32_t y = g->outputs[i];
        int32_t pi = qlc_producer(g, y);
        qlc_tensor *yt = g->tensors[y];
        int32_t r = yt->rank;
        if (pi < 0 || (r != 3 && r != 4) || !is_to_first(g->nodes[pi], r)) continue;
        int32_t p[QLITE_MAX_RANK];
        qlc_perm_to_nhwc(r, p);
        int32_t ny = qlc_emit_transpose(g, NULL, "Transpose", y, p, -1);
        if (ny < 0) return QLITE_ERR_NO_MEMORY;
        g->outputs[i] = ny;
        g->tensors[ny]->is_output = true;
        g->tensors[y]->is_output = false;
        qlc_swap_names(g, y, ny);
        moved++;
        if ((st = qlc_graph_reindex(g)) != QLITE_OK) return st;
    }
    if (moved) qlc_count(c, "model inputs/outputs made NHWC (--nhwc-io)", moved);
    return QLITE_OK;
}
