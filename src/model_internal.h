/*
 * model_internal.h — the opened model's representation and the pieces of
 * model open shared between src/model*.c, the writer and the tests.
 *
 * Opening is three steps (docs/format.md, "Validation"):
 *   1. bytes: mmap / read / caller memory; gzip input inflated (model.c);
 *   2. structure: file identifier, version, then fb_verify() with the
 *      descriptors of fb_schema.c (model_decode.c);
 *   3. decode into plain C structs owned by the model, checking each value
 *      as it is read (model_decode.c), then the cross-object rules: sizes of
 *      constants, quantization vs shapes, sparse indices, clustering, the
 *      graph's order, op/options agreement (model_validate.c).
 * Open is O(metadata): of the data section only sparse index arrays are read.
 */
#ifndef QLITE_MODEL_INTERNAL_H
#define QLITE_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"
#include "qlite_internal.h"

/* Alignment of every non-empty buffer's offset (a multiple is fine). */
#define QLITE_DATA_ALIGNMENT 64u

/* Default cap on the inflated size of a gzip-compressed model. */
#define QLITE_GZIP_MAX_BYTES (4ull << 30)

/* Bump allocator: everything decoded lives here and is freed at close. */
typedef struct qlite_arena_block qlite_arena_block;
typedef struct qlite_arena {
    qlite_arena_block *head;
} qlite_arena;

/* Zeroed, 16-byte aligned; NULL on failure. */
void *qlite_arena_alloc(qlite_arena *a, size_t bytes);
void qlite_arena_free(qlite_arena *a);

/* Limits of one open; zero fields mean the defaults. */
typedef struct qlite_open_limits {
    uint64_t gzip_max_bytes;  /* QLITE_GZIP_MAX_BYTES */
    uint32_t max_tables;      /* 1,000,000 */
    uint32_t max_depth;       /* 64 */
} qlite_open_limits;

struct qlite_model {
    /* the bytes */
    const uint8_t *bytes;
    size_t size;
    void *map;                /* mmap'd region (munmap at close) or NULL */
    size_t map_size;
    void *owned;              /* qlite_aligned_alloc'd bytes (read / gzip) or NULL */
    bool compressed;
    uint64_t fb_extent;       /* one past the last byte of the FlatBuffer */

    /* decoded */
    uint32_t version_major, version_minor;
    const char *producer, *description, *graph_name;
    uint32_t num_graphs;
    uint32_t num_tensors, num_ops, num_inputs, num_outputs, num_buffers, num_metadata;
    qlite_tensor_info *tensors;
    qlite_op_info *ops;
    const int32_t *inputs, *outputs;
    qlite_buffer_info *buffers;
    qlite_metadata *metadata;

    /* work budgets against DAG-shared vectors (bytes); see model_decode.c */
    uint64_t copy_budget;
    uint64_t scan_budget;
    qlite_arena arena;
};

/* qlite_model_open_memory with explicit limits (tests and the fuzzer lower them). */
qlite_status qlite_model_open_memory_ex(const void *data, size_t size, uint32_t flags,
                                        const qlite_open_limits *limits, qlite_model **out);

/* Step 2 + 3a: verify and decode m->bytes (model_decode.c). */
qlite_status qlite_model_decode(qlite_model *m, const qlite_open_limits *limits);
/* Step 3b: the cross-object rules (model_validate.c). */
qlite_status qlite_model_validate(qlite_model *m);

/*
 * The options table an op code takes (QLITE_OPTIONS_NONE for ops without
 * parameters). A file may always store NONE instead, meaning the schema
 * defaults; the reader then hands out the defaults of this type.
 */
qlite_options_type qlite_op_options_type(qlite_op_code code);

/*
 * The range rule for buffer `index` at [offset, offset + size) in a file of
 * file_size bytes whose FlatBuffer ends at fb_end: 64-byte aligned offset, no
 * overflow, inside the file, after the FlatBuffer (non-empty buffers).
 * 64-bit throughout: files over 4 GiB are fine.
 */
qlite_status qlite_check_buffer_range(uint32_t index, uint64_t offset, uint64_t size,
                                      uint64_t file_size, uint64_t fb_end);

/* Bytes of a dense tensor with `elements` elements of dtype (INT4 packed,
 * rounded up); false on overflow. */
bool qlite_dtype_bytes(qlite_dtype dtype, uint64_t elements, uint64_t *bytes);

/* crc32 (zlib) of any length (zlib's own length type is 32-bit). */
uint32_t qlite_crc32(const void *data, uint64_t size);

#endif /* QLITE_MODEL_INTERNAL_H */
