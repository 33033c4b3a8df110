/*
 * densify.h — turning a constant's stored form into the dense row-major form
 * a kernel reads when it does not list the input in `raw_inputs` (kernel.h).
 *
 * Stored forms (schema/qlite.fbs):
 *   - float16: widened to float32;
 *   - sparse (Sparsity): CSR or block-CSR over the 2-D view [rows = shape[0],
 *     cols = product of the other dims]; the buffer holds the non-zero blocks'
 *     values, row-major inside a block; absent blocks become zero (the zero
 *     point of the element's channel for a quantized tensor);
 *   - clustered (Clustering): index_bits-bit indices, one LSB-first bitstream
 *     over the stored values (the non-zero block values when also sparse), into
 *     a codebook of 2^index_bits entries in the tensor dtype (per row of the
 *     2-D view when per_row);
 *   - layout O16I4 ([ceil(O/16)][ceil(I/4)][16][4]) or O16 ([ceil(O/16)][I][16])
 *     per matrix [O, I] of the packed view (src/packed_layout.h), padding
 *     dropped.
 * Steps, each only when it applies: decode the codebook -> scatter the sparse
 * blocks -> undo the packed layout -> widen float16.
 *
 * Runs once per interpreter (the result is kept across prepares and counted in
 * qlite_interpreter_prepared_size()). Every index and size read from the model
 * is re-checked against the buffers it points into, so a model that slipped
 * past validation still cannot make this read or write out of bounds.
 */
#ifndef QLITE_DENSIFY_H
#define QLITE_DENSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "qlite/qlite.h"

/* True when a kernel that reads `info` dense needs a converted copy. */
bool qlite_constant_needs_dense(const qlite_tensor_info *info);

/* The dtype and byte size of the dense form (FLOAT32 for FLOAT16). */
qlite_status qlite_constant_dense_size(const qlite_tensor_info *info, qlite_dtype *dtype,
                                       size_t *bytes);

/*
 * Writes the dense form of constant `tensor` of `model` into out (exactly the
 * bytes qlite_constant_dense_size reported). Errors name the tensor:
 * QLITE_ERR_CORRUPT for inconsistent indices, QLITE_ERR_UNSUPPORTED for
 * combinations qlite does not decode (sub-byte dtypes, packed + sparse),
 * QLITE_ERR_NO_MEMORY.
 */
qlite_status qlite_constant_densify(const qlite_model *model, uint32_t tensor, void *out,
                                    size_t out_bytes);

#endif /* QLITE_DENSIFY_H */
