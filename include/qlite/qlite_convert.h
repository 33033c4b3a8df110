/*
 * qlite_convert.h — turn an ONNX model into a .qlite file (libqlite-convert).
 *
 * What it does
 * ------------
 *   ONNX file (protobuf, opsets 7-17, weights inline or in external files)
 *     -> import into a mutable graph
 *     -> passes: shape inference, constant folding, Identity/Dropout removal,
 *        BatchNorm folding, pattern fusion (Gelu, LayerNorm, HardSwish, ...),
 *        Gemm/MatMul(+Add) -> FULLY_CONNECTED, activation fusion,
 *        NCHW -> NHWC with weights transposed once
 *     -> (quantization: issue #4; only float32 is in this build)
 *     -> the writer: 64-byte aligned data section, atomic file write.
 *   docs/converter.md describes the graph and every pass.
 *
 * Example
 * -------
 *   qlite_convert_options o = {0};            // zero = float32, ONNX I/O layout
 *   qlite_convert_report *r = NULL;
 *   if (qlite_convert_file("net.onnx", "net.qlite", &o, &r) != QLITE_OK) {
 *       fprintf(stderr, "%s\n", qlite_last_error());   // one line, names the node
 *       return 1;                                       // net.qlite was not created
 *   }
 *   char text[4096];
 *   qlite_convert_report_format(r, text, sizeof text);  // what a person reads
 *   qlite_convert_report_free(r);
 *
 * Errors: every call returns a qlite_status; the one-line detail (node name,
 * op type and what is missing or wrong) is in qlite_last_error(). The library
 * never prints, exits or aborts; progress and per-pass notes go to the
 * optional log callback. On failure no output file is created or touched.
 *
 * Threads: conversions share no state; distinct calls may run in parallel.
 */
#ifndef QLITE_QLITE_CONVERT_H
#define QLITE_QLITE_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the converter produces. Only FLOAT32 is implemented in this build; the
 * other modes return QLITE_ERR_UNSUPPORTED ("not implemented in this build"). */
typedef enum qlite_convert_mode {
    QLITE_CONVERT_FLOAT32 = 0,  /* float32 weights and activations */
    QLITE_CONVERT_FLOAT16,      /* float16 constants, float32 activations */
    QLITE_CONVERT_DYNAMIC,      /* int8 weights, float activations (dynamic range) */
    QLITE_CONVERT_INT8,         /* full integer, calibrated */
    QLITE_CONVERT_MODE_COUNT
} qlite_convert_mode;

/* "float32", "float16", "dynamic", "int8"; "?" for an invalid value. */
QLITE_API const char *qlite_convert_mode_name(qlite_convert_mode mode);

/* Log callback: level 1 = what each pass did, 2 = per node detail. `line` has
 * no trailing newline and is valid only during the call. */
typedef void (*qlite_convert_log_fn)(void *user, int level, const char *line);

/* Options; a zero-initialized struct means the defaults noted per field. */
typedef struct qlite_convert_options {
    qlite_convert_mode mode;     /* default FLOAT32 */
    bool nhwc_io;                /* rank-4 (and 1-D conv rank-3) model inputs and outputs
                                    become NHWC (NLC) instead of the layout ONNX declares */
    const char *producer;        /* producer string to store; NULL = "qlite-convert <version>
                                    mode=<mode>[ nhwc_io]" */
    int verbosity;               /* 0 = no log lines, 1 = per pass, 2 = per node */
    qlite_convert_log_fn log;    /* receives log lines; NULL = verbosity ignored */
    void *log_user;
} qlite_convert_options;

/* What a conversion did (opaque; read with the accessors below). */
typedef struct qlite_convert_report qlite_convert_report;

/*
 * Converts the ONNX model at onnx_path into a .qlite file at out_path,
 * written atomically (temporary file + fsync + rename): on any error out_path
 * is neither created nor modified. External weight files are looked up in
 * onnx_path's directory and may not point outside it. options may be NULL
 * (defaults). When report is non-NULL it receives a report (free with
 * qlite_convert_report_free), on success only.
 * Returns QLITE_OK; QLITE_ERR_IO (cannot read/write), QLITE_ERR_CORRUPT
 * (malformed ONNX: truncated protobuf, missing initializer or input, cyclic
 * graph, rank or shape mismatch), QLITE_ERR_UNSUPPORTED_OP (an op or attribute
 * qlite cannot express), QLITE_ERR_UNSUPPORTED (mode not in this build),
 * QLITE_ERR_INVALID_ARGUMENT, QLITE_ERR_NO_MEMORY.
 */
QLITE_API qlite_status qlite_convert_file(const char *onnx_path, const char *out_path,
                                          const qlite_convert_options *options,
                                          qlite_convert_report **report);

/*
 * Same, but returns the .qlite bytes: *out is a 64-byte aligned allocation of
 * *size bytes, freed with qlite_convert_free_bytes(). It can be opened with
 * qlite_model_open_memory() directly.
 */
QLITE_API qlite_status qlite_convert_to_memory(const char *onnx_path,
                                               const qlite_convert_options *options,
                                               void **out, size_t *size,
                                               qlite_convert_report **report);
QLITE_API void qlite_convert_free_bytes(void *bytes); /* NULL is a no-op */

/* ---- report ---------------------------------------------------------------- */

QLITE_API void qlite_convert_report_free(qlite_convert_report *report); /* NULL is a no-op */

/* ONNX side: node count, number of distinct op types, and (name, count) of
 * type `index` (sorted by name). Returns QLITE_ERR_INVALID_ARGUMENT when
 * index is out of range. *name lives as long as the report. */
QLITE_API uint32_t qlite_convert_report_onnx_node_count(const qlite_convert_report *report);
QLITE_API uint32_t qlite_convert_report_onnx_type_count(const qlite_convert_report *report);
QLITE_API qlite_status qlite_convert_report_onnx_type(const qlite_convert_report *report,
                                                      uint32_t index, const char **name,
                                                      uint32_t *count);

/* qlite side: op count, and how many ops of a given op code were written. */
QLITE_API uint32_t qlite_convert_report_op_count(const qlite_convert_report *report);
QLITE_API uint32_t qlite_convert_report_ops_of(const qlite_convert_report *report,
                                               qlite_op_code code);

/* Rewrites the passes made, by kind ("batchnorm folded into Conv",
 * "transposes cancelled", ...): count of kinds, then (kind, count) per index. */
QLITE_API uint32_t qlite_convert_report_fusion_count(const qlite_convert_report *report);
QLITE_API qlite_status qlite_convert_report_fusion(const qlite_convert_report *report,
                                                   uint32_t index, const char **kind,
                                                   uint32_t *count);

typedef struct qlite_convert_sizes {
    uint64_t onnx_bytes;         /* the .onnx file plus its external data files */
    uint64_t output_bytes;       /* the .qlite file */
    uint64_t weight_bytes;       /* constant tensor bytes in the output */
    uint32_t tensors;            /* tensors in the output */
    double seconds;              /* wall time of the conversion */
} qlite_convert_sizes;

QLITE_API void qlite_convert_report_sizes(const qlite_convert_report *report,
                                          qlite_convert_sizes *out);

/*
 * Formats the whole report as text lines a person reads (ops in and out by
 * type, rewrites, sizes, time) into buf (always NUL-terminated when
 * size > 0). Returns the length the full text needs, excluding the NUL, like
 * snprintf.
 */
QLITE_API size_t qlite_convert_report_format(const qlite_convert_report *report, char *buf,
                                             size_t size);

#ifdef __cplusplus
}
#endif

#endif /* QLITE_QLITE_CONVERT_H */
