/*
 * test_models.h — model specifications for the format tests (test_model,
 * test_writer, test_corrupt, the flatc cross-checks and the fuzz seeds).
 *
 * A spec is the plain description of a model: the values given to the writer,
 * kept so that a test can check what a reader (qlite's or flatc's) gives back
 * against what was asked for, not against qlite's own output.
 *
 *   qlite_test_model *s = qlite_test_model_new();
 *   qlite_test_model_everything(s);          // every table, field, enum value
 *   void *bytes; size_t n;
 *   qlite_test_model_bytes(s, true, &bytes, &n);   // via qlite_writer
 *   qlite_model_open_memory(bytes, n, 0, &m);
 *   qlite_test_model_check(s, m);            // cmocka asserts, field by field
 *   qlite_test_model_free(s);
 */
#ifndef QLITE_TEST_MODELS_H
#define QLITE_TEST_MODELS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qlite/qlite.h"
#include "qlite_writer.h"

#define QT_MAX_TENSORS 128
#define QT_MAX_OPS 96
#define QT_MAX_BUFFERS 64
#define QT_MAX_META 8

typedef struct qlite_test_model {
    const char *producer, *description, *graph_name;
    uint32_t version_major, version_minor;
    uint32_t num_buffers; /* including buffer 0 (empty) */
    const uint8_t *buffer_data[QT_MAX_BUFFERS];
    size_t buffer_size[QT_MAX_BUFFERS];
    uint32_t num_tensors;
    qlite_tensor_info tensors[QT_MAX_TENSORS];
    uint32_t num_ops;
    qlite_op_info ops[QT_MAX_OPS];
    /* for ops written with options NONE: the type whose defaults the reader
     * must hand out (hand-copied from the schema's op list) */
    qlite_options_type none_as[QT_MAX_OPS];
    uint32_t num_inputs, num_outputs;
    int32_t inputs[QT_MAX_TENSORS], outputs[QT_MAX_TENSORS];
    uint32_t num_metadata;
    struct {
        const char *key, *value; /* value NULL = blob */
        uint32_t buffer;
    } metadata[QT_MAX_META];

    /* storage the pointers above point into */
    int64_t i64_pool[2048];
    int32_t i32_pool[2048];
    float f32_pool[1024];
    uint8_t byte_pool[8192];
    char name_pool[8192];
    qlite_quant quant_pool[QT_MAX_TENSORS];
    qlite_sparsity sparsity_pool[16];
    qlite_clustering clustering_pool[16];
    uint32_t n_i64, n_i32, n_f32, n_byte, n_name, n_quant, n_sparsity, n_clustering;
} qlite_test_model;

qlite_test_model *qlite_test_model_new(void); /* empty spec, version 1.0 */
void qlite_test_model_free(qlite_test_model *s);

/* ~6 tensors and 3 ops: per-channel quantization, a sparse and a clustered
 * constant, options; the corrupt-file corpus mutates it. */
void qlite_test_model_small(qlite_test_model *s);
/* Every table, every field, every op code, every options type and every
 * value of every enum the schema has. */
void qlite_test_model_everything(qlite_test_model *s);

/* Spec building blocks (return the new index). */
uint32_t qt_buffer(qlite_test_model *s, const void *data, size_t size);     /* copied */
uint32_t qt_buffer_ref(qlite_test_model *s, const void *data, size_t size); /* borrowed */
int32_t qt_tensor(qlite_test_model *s, const char *name, qlite_dtype dtype, uint32_t rank,
                  const int64_t *shape, uint32_t buffer);
qlite_quant *qt_quant(qlite_test_model *s, int32_t tensor, uint32_t count, int32_t axis,
                      const float *scale, const int32_t *zero_point);
int32_t qt_op(qlite_test_model *s, qlite_op_code code, const char *name, uint32_t nin,
              const int32_t *in, uint32_t nout, const int32_t *out, const qlite_op_options *opt);
const int64_t *qt_i64(qlite_test_model *s, uint32_t n, const int64_t *v);
const int32_t *qt_i32(qlite_test_model *s, uint32_t n, const int32_t *v);
const float *qt_f32(qlite_test_model *s, uint32_t n, const float *v);

/* Feeds the spec to a new writer. */
qlite_status qlite_test_model_writer(const qlite_test_model *s, qlite_writer **out);
/* Serializes the spec (checked = through the validating write path). Free
 * the bytes with qlite_writer_free_bytes(). */
qlite_status qlite_test_model_bytes(const qlite_test_model *s, bool checked, void **bytes,
                                    size_t *size);

/* cmocka assertions: the opened model holds exactly what the spec says. */
void qlite_test_model_check(const qlite_test_model *s, const qlite_model *m);

/* The JSON flatc must print for the spec's file (flatc --json --strict-json
 * --defaults-json), without buffer offsets (the writer chooses them). */
void qlite_test_model_expect_json(const qlite_test_model *s, FILE *f);

#endif /* QLITE_TEST_MODELS_H */
