/*
 * qlite_writer.h — build a .qlite model and write it (internal API of the
 * format core; linked into the converter, the tests and the benchmarks, never
 * into the runtime library).
 *
 * The writer takes the same plain C structs that the reader's accessors
 * return (qlite_tensor_info, qlite_op_info, ...), so a model read with
 * qlite_model_* can be written back field for field.
 *
 *   qlite_writer *w;
 *   qlite_writer_create(&w);
 *   uint32_t b = qlite_writer_add_buffer(w, weights, nbytes);  // copied
 *   qlite_tensor_info t = {.name = "fc.w", .dtype = QLITE_DTYPE_FLOAT32,
 *                          .rank = 2, .shape = (int64_t[]){10, 784}, .buffer = b};
 *   int32_t wi = qlite_writer_add_tensor(w, &t);
 *   ...
 *   qlite_writer_set_inputs(w, 1, (int32_t[]){x});
 *   qlite_writer_write_file(w, "out.qlite");   // atomic
 *   qlite_writer_destroy(w);
 *
 * Every add_* call copies what it is given (strings, shapes, scales, option
 * arrays), except qlite_writer_add_buffer_ref, which borrows the bytes until
 * the writer is destroyed. Index-returning calls return a negative value on
 * failure (allocation), with the detail in qlite_last_error(). Validation of
 * the whole model happens at write time: a writer never produces a file that
 * qlite_model_open would reject (it re-opens the bytes it built before
 * committing them).
 */
#ifndef QLITE_WRITER_H
#define QLITE_WRITER_H

#include "qlite/qlite.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qlite_writer qlite_writer;

qlite_status qlite_writer_create(qlite_writer **out);
void qlite_writer_destroy(qlite_writer *w); /* NULL is a no-op */

/* Producer (tool + version + options) and free-text description. */
qlite_status qlite_writer_set_producer(qlite_writer *w, const char *producer);
qlite_status qlite_writer_set_description(qlite_writer *w, const char *description);
/* Defaults to QLITE_FORMAT_VERSION_*; tests use this to write other versions. */
void qlite_writer_set_version(qlite_writer *w, uint32_t major, uint32_t minor);
/* Data-section alignment of each buffer: 64 (default) or a larger power of two. */
qlite_status qlite_writer_set_alignment(qlite_writer *w, uint32_t alignment);

/* Adds a constant data buffer; returns its index (>= 1; 0 is the empty buffer) or -1. */
int64_t qlite_writer_add_buffer(qlite_writer *w, const void *data, size_t size);
int64_t qlite_writer_add_buffer_ref(qlite_writer *w, const void *data, size_t size);

/* Adds a tensor (the buffer/row_ptr/col_index/codebook indices must exist);
 * `data`/`data_size`/`row_ptr`/`col_index`/`codebook` pointers are ignored.
 * Returns the tensor index or -1. */
int32_t qlite_writer_add_tensor(qlite_writer *w, const qlite_tensor_info *tensor);

/* Adds an operator (appended in execution order). Returns its index or -1. */
int32_t qlite_writer_add_op(qlite_writer *w, const qlite_op_info *op);

qlite_status qlite_writer_set_inputs(qlite_writer *w, uint32_t count, const int32_t *tensors);
qlite_status qlite_writer_set_outputs(qlite_writer *w, uint32_t count, const int32_t *tensors);
qlite_status qlite_writer_set_graph_name(qlite_writer *w, const char *name);

qlite_status qlite_writer_add_metadata(qlite_writer *w, const char *key, const char *value);
qlite_status qlite_writer_add_metadata_blob(qlite_writer *w, const char *key, const void *data,
                                            size_t size);

/* Number of tensors/ops/buffers added so far. */
uint32_t qlite_writer_tensor_count(const qlite_writer *w);
uint32_t qlite_writer_op_count(const qlite_writer *w);
uint32_t qlite_writer_buffer_count(const qlite_writer *w);

/*
 * Serializes to one malloc'd block (64-byte aligned; free with
 * qlite_writer_free_bytes). Fails with the validator's message if the model
 * is inconsistent.
 */
qlite_status qlite_writer_write_memory(qlite_writer *w, void **out, size_t *size);
void qlite_writer_free_bytes(void *bytes);

/*
 * Serializes and writes atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync of the directory. On any failure (full disk
 * included) the temporary file is removed and path is left untouched.
 */
qlite_status qlite_writer_write_file(qlite_writer *w, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* QLITE_WRITER_H */
