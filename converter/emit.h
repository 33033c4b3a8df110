/*
 * emit.h — lowered graph -> .qlite bytes (through src/qlite_writer.h).
 */
#ifndef QLITE_CONVERTER_EMIT_H
#define QLITE_CONVERTER_EMIT_H

#include "ir.h"

typedef struct qlc_emit_meta {
    const char *producer;
    const char *description;
    uint32_t num_metadata;
    const char *const *keys;
    const char *const *values;
} qlc_emit_meta;

/* Serializes g (every node lowered, sorted) into *bytes (free with
 * qlite_writer_free_bytes). weight_bytes / tensor_count may be NULL. */
qlite_status qlc_emit(const qlc_graph *g, const qlc_emit_meta *meta, void **bytes, size_t *size,
                      uint64_t *weight_bytes, uint32_t *tensor_count);

/* Adds one tensor (with its constant data by reference, quantization,
 * sparsity, clustering) to a writer; *out = its index there. The data must
 * outlive the writer. */
struct qlite_writer;
qlite_status qlc_emit_tensor(struct qlite_writer *w, const qlc_tensor *t, int32_t *out);

#endif
