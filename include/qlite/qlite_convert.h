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
 *     -> quantization (docs/quantization.md): float16 constants; dynamic-range
 *        int8 weights; or full integer int8 from a calibration dataset or from
 *        the scales a QDQ (quantization-aware trained) model carries
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
 *   // full integer, calibrated on a NumPy dataset, accuracy measured:
 *   const char *calib[] = {"calib.npz"};
 *   o.mode = QLITE_CONVERT_INT8;
 *   o.calib_files = calib;  o.num_calib_files = 1;
 *   o.eval_file = "test_x.npy";  o.eval_labels = "test_y.npy";
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

/* What the converter produces (docs/quantization.md). */
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

/* Range estimator of full-integer calibration (docs/quantization.md §2.4). */
typedef enum qlite_calibration_method {
    QLITE_CALIBRATION_MINMAX = 0,     /* running min / max over every sample */
    QLITE_CALIBRATION_PERCENTILE,     /* clip |x| at a percentile (options.percentile) */
    QLITE_CALIBRATION_MSE,            /* clip where the expected squared error is least */
    QLITE_CALIBRATION_COUNT
} qlite_calibration_method;

/* "minmax", "percentile", "mse"; "?" for an invalid value. */
QLITE_API const char *qlite_calibration_method_name(qlite_calibration_method method);

/* Dtype of the float inputs and outputs of a full-integer model. */
typedef enum qlite_convert_io {
    QLITE_CONVERT_IO_FLOAT = 0,  /* float32: QUANTIZE after inputs, DEQUANTIZE before outputs */
    QLITE_CONVERT_IO_INT8,       /* int8 with the tensor's scale and zero point */
    QLITE_CONVERT_IO_UINT8,      /* uint8: the same scale, zero point + 128 */
    QLITE_CONVERT_IO_COUNT
} qlite_convert_io;

/* "float", "int8", "uint8"; "?" for an invalid value. */
QLITE_API const char *qlite_convert_io_name(qlite_convert_io io);

/* Pruning: one ranking per weight, or one over all weights (docs/converter.md). */
typedef enum qlite_prune_scope {
    QLITE_PRUNE_LAYER = 0,       /* each weight pruned to the target sparsity */
    QLITE_PRUNE_GLOBAL,          /* one threshold over every prunable weight, block scores
                                    divided by their layer's RMS block score */
    QLITE_PRUNE_SCOPE_COUNT
} qlite_prune_scope;

/* Block score of pruning (1x1 blocks: both are |w|). */
typedef enum qlite_prune_norm {
    QLITE_PRUNE_L2 = 0,          /* sqrt(sum w^2) over the block */
    QLITE_PRUNE_L1,              /* sum |w| over the block */
    QLITE_PRUNE_NORM_COUNT
} qlite_prune_norm;

/* "layer", "global" / "l2", "l1"; "?" for an invalid value. */
QLITE_API const char *qlite_prune_scope_name(qlite_prune_scope scope);
QLITE_API const char *qlite_prune_norm_name(qlite_prune_norm norm);

/* Progress of long stages ("calibrating", "measuring", "evaluating"): `done`
 * of `total` samples. Called from the converting thread. */
typedef void (*qlite_convert_progress_fn)(void *user, const char *stage, uint64_t done,
                                          uint64_t total);

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

    /* ---- quantization (DYNAMIC, INT8; docs/quantization.md) ---- */
    bool per_tensor;             /* weights per tensor instead of per output channel */
    /* Representative dataset: .npy / .npz files, one array per model input with
     * the samples on axis 0 (an .npz maps arrays to inputs by name; a single
     * array feeds a single-input model); several files are concatenated.
     * Required by INT8 unless the model is a QDQ model whose scales cover
     * every activation; optional in the other modes (activation SQNR is then
     * measured on it). */
    const char *const *calib_files;
    uint32_t num_calib_files;
    uint32_t calib_samples;      /* use the first N samples; 0 = all */
    qlite_calibration_method calibration; /* default MINMAX */
    float percentile;            /* PERCENTILE: P in (0, 100]; 0 = 99.99 */
    qlite_convert_io io;         /* INT8: dtype of the float inputs/outputs; default FLOAT */
    bool strict;                 /* INT8: an op with no integer kernel is an error
                                    (QLITE_ERR_UNSUPPORTED_OP) instead of a float island */
    /* Accuracy: top-1 of the float and the converted model on eval_file
     * (inputs as for calibration) against eval_labels (a .npy of integer
     * class indices, one per sample). Both or neither. */
    const char *eval_file;
    const char *eval_labels;
    int32_t num_threads;         /* interpreter threads for calibration / evaluation; <= 1: one */
    qlite_convert_progress_fn progress; /* or NULL */
    void *progress_user;

    /* ---- pruning, clustering, compressed storage (docs/converter.md, issue #5) ----
     * They apply to the weights of FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D,
     * TRANSPOSE_CONV_2D, BATCH_MATMUL (constant operand), LSTM / GRU (W, R) and
     * GATHER (constant table), in their float form before any quantization.
     * Blocks are taken over the weight's 2-D view [shape[0], product of the
     * other dims]. */
    float prune;                 /* target sparsity S, 0 <= S < 1; 0 = no pruning */
    qlite_prune_scope prune_scope; /* default LAYER */
    uint32_t prune_block_rows;   /* pruning block height; 0 = 1 */
    uint32_t prune_block_cols;   /* pruning block width; 0 = 1 */
    qlite_prune_norm prune_norm; /* block score; default L2 */
    const char *const *prune_skip; /* glob patterns (fnmatch) of weight tensor or op names
                                      left unpruned; one that names nothing is a warning */
    uint32_t num_prune_skip;
    uint32_t cluster;            /* K in 2..256: k-means per weight (zero kept exact);
                                    0 = no clustering */
    bool dense;                  /* store every weight dense: no automatic sparse storage
                                    and no detected palette (an explicit cluster still
                                    stores a palette) */
    float sparse_min;            /* minimum sparsity (fraction of zero elements) for sparse
                                    storage; 0 = 0.5; negative = none (size alone decides).
                                    INT8 weights without prune (and sparse_min >= 0): also
                                    the sparse int8 kernel's break-even per block shape
                                    (docs/converter.md) */
    bool no_pack;                /* keep every weight in the DEFAULT layout; else the weights
                                    whose kernel reads a packed layout (FULLY_CONNECTED,
                                    CONV_2D, LSTM / GRU W and R, float32 TRANSPOSE_CONV_2D:
                                    float O16, int8 O16I4; docs/format.md §6.2 and
                                    docs/converter.md pass 12) are stored in it, read in
                                    place at run time */
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
 * qlite cannot express; with options.strict, an op with no integer kernel),
 * QLITE_ERR_INVALID_ARGUMENT (bad options, e.g. prune outside [0, 1) or
 * cluster outside 2..256; a pruning block that does not divide a weight's
 * 2-D view, naming the weight; calibration or evaluation data whose arrays,
 * shapes, dtypes or sample counts do not fit the model, NaN or Inf in it, an
 * empty dataset), QLITE_ERR_NO_MEMORY.
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
    uint64_t onnx_gzip_bytes;    /* the .onnx file (with external data) compressed, gzip -6 */
    uint64_t output_gzip_bytes;  /* the .qlite file compressed, gzip -6 */
    uint64_t float_bytes;        /* the same model as a dense float32 .qlite, before pruning
                                    and clustering (0 in FLOAT32 mode when no weight was
                                    pruned, clustered or stored compressed) */
    uint32_t packed_weights;     /* weights stored in a packed layout (O16 / O16I4) */
    uint64_t packed_bytes;       /* their bytes as stored, padding included */
} qlite_convert_sizes;

QLITE_API void qlite_convert_report_sizes(const qlite_convert_report *report,
                                          qlite_convert_sizes *out);

/* The mode the report describes. */
QLITE_API qlite_convert_mode qlite_convert_report_mode(const qlite_convert_report *report);

/*
 * One constant weight of a converted model: the weights of FULLY_CONNECTED,
 * CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV_2D, BATCH_MATMUL, LSTM, GRU and
 * GATHER in DYNAMIC and INT8; every float constant in FLOAT16. The SQNR
 * compares the stored values, dequantized, with the float weights:
 * 10·log10(Σw² / Σ(w − ŵ)²).
 */
typedef struct qlite_convert_weight_info {
    const char *op;              /* name of the op that reads it (its ONNX node) */
    qlite_op_code code;
    const char *tensor;          /* the weight tensor */
    qlite_dtype dtype;           /* as stored: INT8, FLOAT16, or FLOAT32 when kept float */
    uint32_t channels;           /* quantization scales: 1 = per tensor, 0 = not quantized */
    uint64_t elements;
    double sqnr_db;              /* INFINITY when exact; NAN when the weight is all zeros */
} qlite_convert_weight_info;

QLITE_API uint32_t qlite_convert_report_weight_count(const qlite_convert_report *report);
QLITE_API qlite_status qlite_convert_report_weight(const qlite_convert_report *report,
                                                   uint32_t index, qlite_convert_weight_info *out);

/*
 * One activation of an INT8 model: its parameters, where they came from and,
 * when calibration data was given, its SQNR on that data (the converted model
 * and the float model both run through the interpreter; int8 values are
 * dequantized and compared with the float ones).
 */
typedef struct qlite_convert_activation_info {
    const char *tensor;
    qlite_dtype dtype;           /* INT8, or FLOAT32 inside a float island */
    float scale;                 /* 0 when float */
    int32_t zero_point;
    float min, max;              /* the range the parameters came from */
    const char *source;          /* "calibration", "qdq", "fixed by SOFTMAX", "float island", ... */
    double sqnr_db;              /* NAN when not measured; INFINITY when exact */
} qlite_convert_activation_info;

QLITE_API uint32_t qlite_convert_report_activation_count(const qlite_convert_report *report);
QLITE_API qlite_status qlite_convert_report_activation(const qlite_convert_report *report,
                                                       uint32_t index,
                                                       qlite_convert_activation_info *out);

/* Ops of an INT8 model left in float (between DEQUANTIZE and QUANTIZE), and
 * ops of a DYNAMIC model whose weights stayed float, each with the reason. */
typedef struct qlite_convert_float_op {
    const char *op;
    qlite_op_code code;
    const char *reason;
} qlite_convert_float_op;

QLITE_API uint32_t qlite_convert_report_float_op_count(const qlite_convert_report *report);
QLITE_API qlite_status qlite_convert_report_float_op(const qlite_convert_report *report,
                                                     uint32_t index, qlite_convert_float_op *out);

/* Float constants a quantized mode left float32 (DYNAMIC: tensors under 1024
 * elements, biases; INT8: constants of float islands), with the reason. */
typedef struct qlite_convert_kept_tensor {
    const char *tensor;
    uint64_t elements;
    const char *reason;
} qlite_convert_kept_tensor;

QLITE_API uint32_t qlite_convert_report_kept_count(const qlite_convert_report *report);
QLITE_API qlite_status qlite_convert_report_kept(const qlite_convert_report *report,
                                                 uint32_t index, qlite_convert_kept_tensor *out);

/* Warnings (a float16 constant that saturated, ...), one line each; the
 * string lives as long as the report, NULL when index is out of range. */
QLITE_API uint32_t qlite_convert_report_warning_count(const qlite_convert_report *report);
QLITE_API const char *qlite_convert_report_warning(const qlite_convert_report *report,
                                                   uint32_t index);

/*
 * One weight seen by pruning, clustering or the storage decision: every
 * weight (as for options.prune) when prune or cluster was asked for, else
 * every weight stored sparse or palettized. In execution order.
 */
typedef struct qlite_convert_compression_info {
    const char *op;              /* first op reading it (its ONNX node) */
    qlite_op_code code;
    const char *tensor;          /* the weight as the source model names it */
    uint64_t rows, cols;         /* its 2-D view */
    qlite_dtype dtype;           /* as stored */
    uint64_t zeros;              /* elements equal to real zero in the stored tensor */
    bool pruned;                 /* options.prune was applied to it */
    bool skipped;                /* matched a prune_skip pattern */
    uint32_t clusters;           /* distinct values k-means left (options.cluster) or found
                                    (already clustered); 0 = not clustered */
    uint32_t block_rows, block_cols; /* sparse storage block; 0 = stored dense */
    uint32_t palette;            /* codebook entries in use (Clustering.num_clusters);
                                    0 = no palette */
    uint32_t index_bits;         /* bits per palette index */
    bool per_row;                /* one codebook per row of the 2-D view */
    uint64_t dense_bytes;        /* bytes of the dense form in the stored dtype */
    uint64_t stored_bytes;       /* bytes as stored: values or indices, row pointers,
                                    column indices, codebook */
    double sqnr_db;              /* float weight after pruning / clustering against the
                                    original: 10·log10(Σw² / Σ(w − w')²); INFINITY when
                                    unchanged, NAN when the original is all zeros */
} qlite_convert_compression_info;

QLITE_API uint32_t qlite_convert_report_compression_count(const qlite_convert_report *report);
QLITE_API qlite_status qlite_convert_report_compression(const qlite_convert_report *report,
                                                        uint32_t index,
                                                        qlite_convert_compression_info *out);

/* Calibration: samples run, estimator, wall time (samples 0: none ran). */
typedef struct qlite_convert_calibration {
    uint64_t samples;
    qlite_calibration_method method;
    float percentile;
    double seconds;
} qlite_convert_calibration;

QLITE_API void qlite_convert_report_calibration(const qlite_convert_report *report,
                                                qlite_convert_calibration *out);

/* Top-1 accuracy on options.eval_file / eval_labels (samples 0: not evaluated). */
typedef struct qlite_convert_accuracy {
    uint64_t samples;
    double float_top1;           /* fraction in [0, 1] */
    double converted_top1;
    uint64_t agree;              /* samples where both models predict the same class */
} qlite_convert_accuracy;

QLITE_API void qlite_convert_report_accuracy(const qlite_convert_report *report,
                                             qlite_convert_accuracy *out);

/*
 * Formats the whole report as text lines a person reads (ops in and out by
 * type, rewrites, sizes, time) into buf (always NUL-terminated when
 * size > 0). Returns the length the full text needs, excluding the NUL, like
 * snprintf.
 */
QLITE_API size_t qlite_convert_report_format(const qlite_convert_report *report, char *buf,
                                             size_t size);

/* The whole report as one JSON object (fields in docs/cli.md, "The report
 * as JSON"); same buffer contract as qlite_convert_report_format. */
QLITE_API size_t qlite_convert_report_json(const qlite_convert_report *report, char *buf,
                                           size_t size);

#ifdef __cplusplus
}
#endif

#endif /* QLITE_QLITE_CONVERT_H */
