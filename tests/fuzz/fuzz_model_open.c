/*
 * fuzz_model_open.c — libFuzzer target for model open (qlite_model_open_memory:
 * gzip detection, structural verification, decoding, semantic validation).
 *
 * Invariants checked on every input:
 *   - a refusal comes with a non-empty message;
 *   - an accepted model: every pointer the accessors hand out is touched in
 *     full (ASan sees any bad one), checksums can be computed, and what was
 *     read can be given back to the writer field for field and re-opens.
 * Limits are lowered (64 MiB gzip output, 100k tables) to keep iterations fast.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "qlite_writer.h"

static volatile uint8_t sink;

static void touch(const void *p, uint64_t n) {
    const uint8_t *b = p;
    for (uint64_t i = 0; i < n; i++) sink ^= b[i];
}

static void walk(const qlite_model *m) {
    touch(qlite_model_producer(m), strlen(qlite_model_producer(m)));
    touch(qlite_model_description(m), strlen(qlite_model_description(m)));
    for (uint32_t i = 0; i < qlite_model_buffer_count(m); i++) {
        qlite_buffer_info b;
        if (qlite_model_buffer(m, i, &b) != QLITE_OK) abort();
        touch(b.data, b.size);
    }
    for (uint32_t i = 0; i < qlite_model_tensor_count(m); i++) {
        const qlite_tensor_info *t = qlite_model_tensor(m, i);
        touch(t->name, strlen(t->name));
        touch(t->shape, t->rank * sizeof *t->shape);
        touch(t->data, t->data_size);
        if (t->quant) {
            touch(t->quant->scale, t->quant->count * 4);
            touch(t->quant->zero_point, t->quant->count * 4);
            touch(t->quant->min, t->quant->range_count * 4);
            touch(t->quant->max, t->quant->range_count * 4);
        }
        if (t->clustering && !t->clustering->codebook) abort();
        if (t->sparsity && !t->sparsity->row_ptr) abort();
    }
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        touch(op->name, strlen(op->name));
        touch(op->inputs, op->num_inputs * 4);
        touch(op->outputs, op->num_outputs * 4);
        const qlite_op_options *o = &op->options;
        switch (o->type) {
        case QLITE_OPTIONS_RESHAPE: touch(o->u.reshape.new_shape, o->u.reshape.rank * 8); break;
        case QLITE_OPTIONS_TRANSPOSE: touch(o->u.transpose.perm, o->u.transpose.rank * 4); break;
        case QLITE_OPTIONS_SPLIT: touch(o->u.split.sizes, o->u.split.count * 8); break;
        case QLITE_OPTIONS_SLICE:
            touch(o->u.slice.starts, o->u.slice.count * 8);
            touch(o->u.slice.ends, o->u.slice.count * 8);
            touch(o->u.slice.axes, o->u.slice.count * 4);
            touch(o->u.slice.steps, o->u.slice.count * 8);
            break;
        case QLITE_OPTIONS_PAD: touch(o->u.pad.pads, o->u.pad.count * 8); break;
        case QLITE_OPTIONS_REDUCE: touch(o->u.reduce.axes, o->u.reduce.count * 4); break;
        default: break;
        }
    }
    for (uint32_t i = 0; i < qlite_model_metadata_count(m); i++) {
        const qlite_metadata *md = qlite_model_metadata(m, i);
        touch(md->key, strlen(md->key));
        touch(md->value, strlen(md->value));
        touch(md->data, md->size);
    }
}

/* Everything the reader accepted, the writer must write and the reader re-open. */
static void write_back(const qlite_model *m) {
    qlite_writer *w;
    if (qlite_writer_create(&w) != QLITE_OK) abort();
    uint32_t major, minor;
    qlite_model_version(m, &major, &minor);
    qlite_writer_set_version(w, major, minor);
    qlite_writer_set_producer(w, qlite_model_producer(m));
    qlite_writer_set_description(w, qlite_model_description(m));
    for (uint32_t i = 1; i < qlite_model_buffer_count(m); i++) {
        qlite_buffer_info b;
        qlite_model_buffer(m, i, &b);
        if (qlite_writer_add_buffer_ref(w, b.data, b.size) != (int64_t)i) abort();
    }
    for (uint32_t i = 0; i < qlite_model_metadata_count(m); i++) {
        const qlite_metadata *md = qlite_model_metadata(m, i);
        qlite_status st = md->buffer ? qlite_writer_add_metadata_blob(w, md->key, md->data, md->size)
                                     : qlite_writer_add_metadata(w, md->key, md->value);
        if (st != QLITE_OK) abort();
    }
    for (uint32_t i = 0; i < qlite_model_tensor_count(m); i++)
        if (qlite_writer_add_tensor(w, qlite_model_tensor(m, i)) != (int32_t)i) abort();
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++)
        if (qlite_writer_add_op(w, qlite_model_op(m, i)) != (int32_t)i) abort();
    qlite_writer_set_inputs(w, m->num_inputs, m->inputs);
    qlite_writer_set_outputs(w, m->num_outputs, m->outputs);
    void *bytes;
    size_t size;
    if (qlite_writer_write_memory(w, &bytes, &size) != QLITE_OK) abort();
    qlite_writer_free_bytes(bytes);
    qlite_writer_destroy(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qlite_open_limits lim = {.gzip_max_bytes = 64u << 20, .max_tables = 100000};
    qlite_model *m = NULL;
    qlite_status st = qlite_model_open_memory_ex(data, size, 0, &lim, &m);
    if (st != QLITE_OK) {
        if (m || qlite_last_error()[0] == '\0') abort();
        return 0;
    }
    walk(m);
    st = qlite_model_verify_checksums(m);
    if (st != QLITE_OK && st != QLITE_ERR_CHECKSUM) abort();
    write_back(m);
    qlite_model_close(m);
    return 0;
}
