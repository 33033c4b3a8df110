/*
 * emit.c — writes the lowered graph with the model writer (src/writer):
 * every live tensor (ONNX names kept), constants as 64-byte aligned buffers
 * referenced from the graph (no copy), ops in execution order named after
 * their ONNX nodes, inputs, outputs, producer and metadata.
 */
#include "emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite_writer.h"

qlite_status qlc_emit_tensor(qlite_writer *w, const qlc_tensor *t, int32_t *out) {
    int64_t buf = 0;
    if (t->data) {
        if (!t->data_size)
            return qlite_error(QLITE_ERR_UNSUPPORTED,
                               "tensor '%s' is an empty (zero-element) constant, which a .qlite file "
                               "cannot hold", t->name);
        buf = qlite_writer_add_buffer_ref(w, t->data, t->data_size);
        if (buf < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: buffer for '%s'", t->name);
    }
    qlite_quant q = {0};
    qlite_tensor_info ti = {.name = t->name, .dtype = t->dtype, .rank = (uint32_t)t->rank,
                            .shape = t->shape, .buffer = (uint32_t)buf,
                            .layout = t->weight_layout};
    /* parameters a QDQ model fixed on a tensor that stayed float are not the
     * tensor's quantization: only integer tensors carry one */
    bool is_float = t->dtype == QLITE_DTYPE_FLOAT32 || t->dtype == QLITE_DTYPE_FLOAT16;
    if (t->quant.count && !is_float) {
        q.count = t->quant.count;
        q.axis = t->quant.axis;
        q.scale = t->quant.scale;
        q.zero_point = t->quant.zero_point;
        if (t->range.count == t->quant.count) {
            q.range_count = t->range.count;
            q.min = t->range.min;
            q.max = t->range.max;
        }
        ti.quant = &q;
    }
    qlite_sparsity sp = {0};
    if (t->sparse) {
        int64_t rb = qlite_writer_add_buffer_ref(w, t->sparse->row_ptr, t->sparse->row_ptr_bytes);
        int64_t cb = qlite_writer_add_buffer_ref(w, t->sparse->col_index, t->sparse->col_index_bytes);
        if (rb < 0 || cb < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: sparse buffers");
        sp = (qlite_sparsity){.block_rows = t->sparse->block_rows, .block_cols = t->sparse->block_cols,
                              .row_ptr_type = t->sparse->row_ptr_type,
                              .col_index_type = t->sparse->col_index_type,
                              .row_ptr_buffer = (uint32_t)rb, .col_index_buffer = (uint32_t)cb,
                              .nnz_blocks = t->sparse->nnz_blocks};
        ti.sparsity = &sp;
    }
    qlite_clustering cl = {0};
    if (t->cluster) {
        int64_t cb = qlite_writer_add_buffer_ref(w, t->cluster->codebook, t->cluster->codebook_bytes);
        if (cb < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: codebook buffer");
        cl = (qlite_clustering){.num_clusters = t->cluster->num_clusters,
                                .index_bits = t->cluster->index_bits, .per_row = t->cluster->per_row,
                                .codebook_buffer = (uint32_t)cb};
        ti.clustering = &cl;
    }
    *out = qlite_writer_add_tensor(w, &ti);
    if (*out < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: tensor '%s'", t->name);
    return QLITE_OK;
}

qlite_status qlc_emit(const qlc_graph *g, const qlc_emit_meta *meta, void **bytes, size_t *size,
                      uint64_t *weight_bytes, uint32_t *tensor_count) {
    qlite_writer *w = NULL;
    qlite_status st = qlite_writer_create(&w);
    if (st != QLITE_OK) return st;
    int32_t *map = malloc((g->num_tensors ? g->num_tensors : 1) * sizeof *map);
    if (!map) {
        qlite_writer_destroy(w);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint32_t i = 0; i < g->num_tensors; i++) map[i] = -1;
    uint64_t wbytes = 0;
#define MAP(t)                                                                   \
    do {                                                                         \
        if ((t) >= 0 && map[t] < 0 && st == QLITE_OK) {                          \
            st = qlc_emit_tensor(w, g->tensors[t], &map[t]);                          \
            const qlc_tensor *tt_ = g->tensors[t];                                \
            if (tt_->data) wbytes += tt_->data_size;                             \
            if (tt_->sparse)                                                     \
                wbytes += tt_->sparse->row_ptr_bytes + tt_->sparse->col_index_bytes; \
            if (tt_->cluster) wbytes += tt_->cluster->codebook_bytes;            \
        }                                                                        \
    } while (0)
    for (uint32_t i = 0; i < g->num_inputs; i++) MAP(g->inputs[i]);
    for (uint32_t i = 0; i < g->num_nodes && st == QLITE_OK; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        if (!n->lowered) {
            st = qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "was not lowered to a qlite op");
            break;
        }
        for (uint32_t k = 0; k < n->num_inputs; k++) MAP(n->inputs[k]);
        for (uint32_t k = 0; k < n->num_outputs; k++) MAP(n->outputs[k]);
    }
    for (uint32_t i = 0; i < g->num_outputs; i++) MAP(g->outputs[i]);
#undef MAP
    int32_t ins[64], outs[64];
    for (uint32_t i = 0; i < g->num_nodes && st == QLITE_OK; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        if (n->num_inputs > 64 || n->num_outputs > 64) {
            st = qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "more than 64 inputs or outputs");
            break;
        }
        for (uint32_t k = 0; k < n->num_inputs; k++) ins[k] = n->inputs[k] < 0 ? -1 : map[n->inputs[k]];
        for (uint32_t k = 0; k < n->num_outputs; k++) outs[k] = n->outputs[k] < 0 ? -1 : map[n->outputs[k]];
        qlite_op_info op = {.code = n->code, .name = n->name, .num_inputs = n->num_inputs,
                            .num_outputs = n->num_outputs, .inputs = ins, .outputs = outs,
                            .options = n->opts};
        if (qlite_writer_add_op(w, &op) < 0) st = QLITE_ERR_NO_MEMORY;
    }
    if (st == QLITE_OK) {
        for (uint32_t i = 0; i < g->num_inputs; i++) ins[i < 64 ? i : 63] = map[g->inputs[i]];
        for (uint32_t i = 0; i < g->num_outputs; i++) outs[i < 64 ? i : 63] = map[g->outputs[i]];
        if (g->num_inputs > 64 || g->num_outputs > 64)
            st = qlite_error(QLITE_ERR_UNSUPPORTED, "more than 64 graph inputs or outputs");
    }
    if (st == QLITE_OK) st = qlite_writer_set_inputs(w, g->num_inputs, ins);
    if (st == QLITE_OK) st = qlite_writer_set_outputs(w, g->num_outputs, outs);
    if (st == QLITE_OK && g->name) st = qlite_writer_set_graph_name(w, g->name);
    if (st == QLITE_OK && meta->producer) st = qlite_writer_set_producer(w, meta->producer);
    if (st == QLITE_OK && meta->description) st = qlite_writer_set_description(w, meta->description);
    for (uint32_t i = 0; i < meta->num_metadata && st == QLITE_OK; i++)
        st = qlite_writer_add_metadata(w, meta->keys[i], meta->values[i]);
    if (st == QLITE_OK) st = qlite_writer_write_memory(w, bytes, size);
    qlite_writer_destroy(w);
    if (tensor_count) {
        uint32_t c = 0;
        for (uint32_t i = 0; i < g->num_tensors; i++) c += map[i] >= 0;
        *tensor_count = c;
    }
    free(map);
    if (weight_bytes) *weight_bytes = wbytes;
    return st;
}
