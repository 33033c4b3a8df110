/*
 * onnx_tensor.h — ONNX TensorProto -> dtype, shape and owned bytes.
 * Used by the importer (initializers, Constant nodes) and by the conformance
 * runner (test_data_set_N/ input and output .pb files).
 */
#ifndef QLITE_CONVERTER_ONNX_TENSOR_H
#define QLITE_CONVERTER_ONNX_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "qlite/qlite.h"

/* ONNX TensorProto.DataType values used here. */
enum {
    QLC_ONNX_FLOAT = 1, QLC_ONNX_UINT8 = 2, QLC_ONNX_INT8 = 3, QLC_ONNX_UINT16 = 4,
    QLC_ONNX_INT16 = 5, QLC_ONNX_INT32 = 6, QLC_ONNX_INT64 = 7, QLC_ONNX_STRING = 8,
    QLC_ONNX_BOOL = 9, QLC_ONNX_FLOAT16 = 10, QLC_ONNX_DOUBLE = 11, QLC_ONNX_UINT32 = 12,
    QLC_ONNX_UINT64 = 13, QLC_ONNX_BFLOAT16 = 16
};

/* Name of an ONNX data type ("FLOAT", "DOUBLE", ...). */
const char *qlc_onnx_type_name(int32_t onnx_type);

/*
 * Maps an ONNX element type to the qlite dtype it is stored as: DOUBLE
 * becomes FLOAT32 (values converted), the others map one to one. Returns
 * QLITE_ERR_UNSUPPORTED for types qlite has no dtype for (STRING, UINT16,
 * UINT32, UINT64, BFLOAT16, complex).
 */
qlite_status qlc_onnx_dtype(int32_t onnx_type, qlite_dtype *out);

/* A decoded tensor; data is malloc'd (never NULL, even for 0 elements). */
typedef struct qlc_onnx_tensor {
    qlite_dtype dtype;
    int32_t rank;
    int64_t shape[QLITE_MAX_RANK];
    void *data;
    size_t size;
} qlc_onnx_tensor;

/*
 * Decodes tp. Values come from raw_data, the typed fields (float_data,
 * int32_data for the small integer types and float16, int64_data,
 * double_data, uint64_data) or external data: a file `location` relative to
 * base_dir (NULL = external data not allowed), which must stay inside
 * base_dir (no absolute path, no "..", no symlink leading out), read at
 * `offset` for `length` bytes. Every size is checked against the element
 * count. `what` names the tensor in messages ("initializer 'w'").
 */
qlite_status qlc_onnx_tensor_decode(const Onnx__TensorProto *tp, const char *base_dir,
                                    const char *what, qlc_onnx_tensor *out);

/* Parses a serialized TensorProto file (.pb) and decodes it (external data
 * resolved next to the file). The name (or "") is copied into name[name_size]. */
qlite_status qlc_onnx_tensor_load_file(const char *path, qlc_onnx_tensor *out, char *name,
                                       size_t name_size);

#endif /* QLITE_CONVERTER_ONNX_TENSOR_H */
