/*
 * op_runner.h — run one kernel without a model (TFLite Micro's kernel_runner
 * idea): build the tensors, call the registry's prepare, give outputs and
 * scratch fresh memory, call eval. Kernel unit tests use it.
 */
#ifndef QLITE_TEST_OP_RUNNER_H
#define QLITE_TEST_OP_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "qlite/qlite.h"

typedef struct qlite_op_test_tensor {
    /* set by the test */
    bool absent;                       /* optional input left out (-1) */
    qlite_dtype dtype;
    uint32_t rank;
    int64_t shape[QLITE_MAX_RANK];     /* inputs: actual; outputs: as the model would declare */
    const void *data;                  /* input values (row-major, dtype) */
    size_t data_size;                  /* bytes at data (constants); 0 = computed from shape */
    bool is_const;                     /* input is a model constant */
    const qlite_quant *quant;          /* NULL = not quantized */
    const qlite_sparsity *sparsity;    /* constants only */
    const qlite_clustering *clustering;
    qlite_layout layout;
    /* filled by qlite_op_test_run for outputs (free with qlite_op_test_free) */
    void *out;
    size_t out_bytes;
    uint32_t out_rank;
    int64_t out_dims[QLITE_MAX_RANK];
} qlite_op_test_tensor;

/*
 * Runs op `code` once. Returns the status of prepare or eval; on failure
 * qlite_last_error() has the kernel's message. threads <= 1 runs inline.
 * flags: QLITE_INTERP_* (e.g. QLITE_INTERP_REFERENCE_ONLY).
 */
qlite_status qlite_op_test_run(qlite_op_code code, const qlite_op_options *options,
                               uint32_t num_inputs, qlite_op_test_tensor *inputs,
                               uint32_t num_outputs, qlite_op_test_tensor *outputs, int threads,
                               uint32_t flags);

/* Frees the out buffers of outputs and clears them. */
void qlite_op_test_free(uint32_t num_outputs, qlite_op_test_tensor *outputs);

#endif /* QLITE_TEST_OP_RUNNER_H */
