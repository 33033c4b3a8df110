/*
 * onnx_import.h — ONNX ModelProto -> qlc_graph of ONNX-level nodes.
 */
#ifndef QLITE_CONVERTER_ONNX_IMPORT_H
#define QLITE_CONVERTER_ONNX_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* What the importer learned besides the graph (for metadata and the report). */
typedef struct qlc_import_info {
    uint64_t file_bytes;         /* .onnx plus external data files read */
    uint64_t gzip_bytes;         /* the same bytes compressed with gzip -6 (qlc_gzip_size) */
    uint8_t sha256[32];          /* of the .onnx file */
    int64_t ir_version;
    char producer[128];          /* producer_name producer_version */
    uint32_t constant_nodes;     /* Constant nodes turned into constant tensors */
} qlc_import_info;

/*
 * Reads and imports the model at path. Weights in external files are read
 * from path's directory. Constant nodes become constant tensors; every other
 * node becomes an ONNX-level node with its attributes. Graph inputs that are
 * initializers are constants. The default-domain opset must be 7..17 and
 * every node must be in the default domain.
 */
qlite_status qlc_onnx_import_file(const char *path, qlc_graph **out, qlc_import_info *info);

/* Imports from bytes already in memory; base_dir resolves external data
 * (NULL = none allowed). */
qlite_status qlc_onnx_import_memory(const void *data, size_t size, const char *base_dir,
                                    qlc_graph **out, qlc_import_info *info);

#endif /* QLITE_CONVERTER_ONNX_IMPORT_H */
