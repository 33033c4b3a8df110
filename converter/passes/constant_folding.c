/*
 * constant_folding.c — replaces nodes whose inputs are all constants by
 * their computed outputs.
 *
 * ONNX level (qlc_fold_node, called by shape inference for every node in
 * order): the op's fold function (onnx/ops_fold.c) evaluates shape
 * arithmetic, data movement and element-wise math on constants.
 *
 * qlite level (qlc_pass_fold_constants, after lowering): any remaining op
 * whose inputs are all constants is evaluated by the qlite kernels
 * themselves — a one-op model is written to memory, opened and invoked —
 * so the folded values are exactly what the runtime would compute.
 */
#include <stdlib.h>
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"
#include "qlite_writer.h"

qlite_status qlc_fold_node(qlc_ctx *c, qlc_node *n, bool *folded);

qlite_status qlc_fold_node(qlc_ctx *c, qlc_node *n, bool *folded) {
    qlc_graph *g = c->g;
    *folded = false;
    const qlc_onnx_op *def = qlc_onnx_op_find(n->op_type);
    if (!def || !def->fold) return QLITE_OK;
    /* Shape and Size need only the input's shape */
    bool shape_only = !strcmp(n->op_type, "Shape") || !strcmp(n->op_type, "Size");
    bool any = shape_only;
    for (uint32_t k = 0; k < n->num_inputs && !shape_only; k++) {
        if (n->inputs[k] < 0) continue;
        if (!qlc_is_const(g, n->inputs[k])) return QLITE_OK;
        any = true;
    }
    if (!any) return QLITE_OK;
    qlite_status st = def->fold(g, n);
    if (st == QLITE_ERR_UNSUPPORTED) return QLITE_OK;
    if (st != QLITE_OK) return st;
    *folded = true;
    qlc_log(c, 2, "folded %s '%s'", n->op_type, n->name);
    return QLITE_OK;
}

/* Runs one lowered node with the qlite kernels on its constant inputs. */
static qlite_status run_one(qlc_graph *g, qlc_node *n) {
    qlite_writer *w = NULL;
    qlite_status st = qlite_writer_create(&w);
    if (st != QLITE_OK) return st;
    int32_t ins[16], outs[16];
    if (n->num_inputs > 16 || n->num_outputs > 16) {
        qlite_writer_destroy(w);
        return QLITE_ERR_UNSUPPORTED;
    }
    for (uint32_t k = 0; k < n->num_inputs && st == QLITE_OK; k++) {
        ins[k] = -1;
        qlc_tensor *t = qlc_in_t(g, n, k);
        if (!t) continue;
        int64_t b = qlite_writer_add_buffer(w, t->data, t->data_size);
        qlite_tensor_info ti = {.name = t->name, .dtype = t->dtype, .rank = (uint32_t)t->rank,
                                .shape = t->shape, .buffer = b > 0 ? (uint32_t)b : 0};
        ins[k] = b < 0 ? -1 : qlite_writer_add_tensor(w, &ti);
        if (ins[k] < 0) st = QLITE_ERR_NO_MEMORY;
    }
    for (uint32_t k = 0; k < n->num_outputs && st == QLITE_OK; k++) {
        qlc_tensor *t = qlc_out_t(g, n, k);
        qlite_tensor_info ti = {.name = t->name, .dtype = t->dtype, .rank = (uint32_t)t->rank,
                                .shape = t->shape};
        outs[k] = qlite_writer_add_tensor(w, &ti);
        if (outs[k] < 0) st = QLITE_ERR_NO_MEMORY;
    }
    qlite_op_info op = {.code = n->code, .name = n->name, .num_inputs = n->num_inputs,
                        .num_outputs = n->num_outputs, .inputs = ins, .outputs = outs,
                        .options = n->opts};
    if (st == QLITE_OK && qlite_writer_add_op(w, &op) < 0) st = QLITE_ERR_NO_MEMORY;
    if (st == QLITE_OK) st = qlite_writer_set_outputs(w, n->num_outputs, outs);
    void *bytes = NULL;
    size_t size = 0;
    if (st == QLITE_OK) st = qlite_writer_write_memory(w, &bytes, &size);
    qlite_writer_destroy(w);
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    if (st == QLITE_OK) st = qlite_model_open_memory(bytes, size, 0, &m);
    if (st == QLITE_OK) st = qlite_interpreter_create(m, NULL, &it);
    if (st == QLITE_OK) st = qlite_interpreter_prepare(it);
    if (st == QLITE_OK) st = qlite_interpreter_invoke(it);
    for (uint32_t k = 0; k < n->num_outputs && st == QLITE_OK; k++) {
        qlite_tensor_view v;
        st = qlite_interpreter_output(it, k, &v);
        if (st != QLITE_OK) break;
        void *d = malloc(v.bytes ? v.bytes : 1);
        if (!d) {
            st = QLITE_ERR_NO_MEMORY;
            break;
        }
        if (v.bytes) memcpy(d, v.data, v.bytes);
        qlc_tensor *t = qlc_out_t(g, n, k);
        qlc_tensor_set_data(t, d, v.bytes);
    }
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
    return st;
}

qlite_status qlc_pass_fold_constants(qlc_ctx *c, bool *changed) {
    qlc_graph *g = c->g;
    *changed = false;
    uint32_t folded = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || !n->lowered) continue;
        bool all = n->num_inputs > 0;
        for (uint32_t k = 0; k < n->num_inputs && all; k++)
            all = n->inputs[k] < 0 || qlc_is_const(g, n->inputs[k]);
        for (uint32_t k = 0; k < n->num_outputs && all; k++) {
            qlc_tensor *t = qlc_out_t(g, n, k);
            all = t && !t->is_output && t->rank >= 0 && (t->rank == 0 || t->shape[0] >= 0);
        }
        if (!all) continue;
        qlite_status st = run_one(g, n);
        if (st == QLITE_ERR_NO_MEMORY) return qlite_error(st, "out of memory folding '%s'", n->name);
        if (st != QLITE_OK) {
            /* leave it to run at inference time; drop partial results */
            for (uint32_t k = 0; k < n->num_outputs; k++) {
                qlc_tensor *t = qlc_out_t(g, n, k);
                if (t) qlc_tensor_set_data(t, NULL, 0);
            }
            qlc_log(c, 2, "not folded %s '%s': %s", qlite_op_name(n->code), n->name,
                    qlite_last_error());
            continue;
        }
        qlc_remove_node(g, n);
        folded++;
    }
    if (folded) {
        qlc_count(c, "constant ops folded by the kernels", folded);
        *changed = true;
    }
    return QLITE_OK;
}
