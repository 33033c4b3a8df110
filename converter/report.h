/*
 * report.h — what a conversion did (the opaque qlite_convert_report of
 * include/qlite/qlite_convert.h): filled by convert.c and the quantization
 * passes, read through the public accessors, printed as text or JSON
 * (report.c).
 *
 * Every string the report holds is its own copy (freed by
 * qlite_convert_report_free); the add functions copy their arguments.
 */
#ifndef QLITE_CONVERTER_REPORT_H
#define QLITE_CONVERTER_REPORT_H

#include "passes/passes.h"
#include "qlite/qlite_convert.h"

typedef struct qlc_type_count {
    char *name;
    uint32_t count;
} qlc_type_count;

/* A compression entry and the sums behind its SQNR: pruning and clustering
 * change disjoint elements (clustering keeps zeros), so their errors add. */
typedef struct qlc_comp_entry {
    qlite_convert_compression_info info;
    double signal;                       /* Σ w² of the original weight */
    double noise;                        /* Σ (w − w')² so far */
} qlc_comp_entry;

struct qlite_convert_report {
    /* source and what came out */
    char *source;                        /* path of the .onnx file */
    uint32_t onnx_nodes;
    qlc_type_count *types;
    uint32_t num_types;
    int64_t opset;
    uint32_t op_count;
    uint32_t ops_of[QLITE_OP_COUNT];
    qlc_counter fusions[QLC_MAX_COUNTERS];
    uint32_t num_fusions;
    qlite_convert_sizes sizes;
    /* options that shaped the output */
    qlite_convert_mode mode;
    bool nhwc_io, per_tensor, qdq;       /* qdq: scales taken from a QDQ model */
    qlite_convert_io io;
    /* quantization */
    qlite_convert_weight_info *weights;
    uint32_t num_weights, cap_weights;
    qlite_convert_activation_info *acts;
    uint32_t num_acts, cap_acts;
    char **act_model_names;              /* [cap_acts]: tensor holding it in the converted
                                            model when its name differs, else NULL */
    qlite_convert_float_op *float_ops;
    uint32_t num_float_ops, cap_float_ops;
    qlite_convert_kept_tensor *kept;
    uint32_t num_kept, cap_kept;
    char **warnings;
    uint32_t num_warnings, cap_warnings;
    qlite_convert_calibration calib;
    qlite_convert_accuracy accuracy;
    /* pruning / clustering / compressed storage (issue #5) */
    struct qlc_comp_entry *comp;
    uint32_t num_comp, cap_comp;
    float prune;                         /* options as applied */
    qlite_prune_scope prune_scope;
    qlite_prune_norm prune_norm;
    uint32_t prune_block_rows, prune_block_cols;
    uint32_t cluster;
};

qlite_status qlc_report_create(qlite_convert_report **out);

/* Appends an entry (strings copied). The activation's sqnr_db starts NAN. */
qlite_status qlc_report_add_weight(qlite_convert_report *r, const char *op, qlite_op_code code,
                                   const char *tensor, qlite_dtype dtype, uint32_t channels,
                                   uint64_t elements, double sqnr_db);
qlite_status qlc_report_add_activation(qlite_convert_report *r, const char *tensor,
                                       qlite_dtype dtype, float scale, int32_t zero_point,
                                       float min, float max, const char *source);
qlite_status qlc_report_add_float_op(qlite_convert_report *r, const char *op, qlite_op_code code,
                                     const char *reason);
qlite_status qlc_report_add_kept(qlite_convert_report *r, const char *tensor, uint64_t elements,
                                 const char *reason);
qlite_status qlc_report_add_warning(qlite_convert_report *r, const char *fmt, ...)
    QLITE_PRINTF(2, 3);

/* The compression entry of weight `tensor` (its source name), created with
 * the other arguments when new (sqnr_db INFINITY, everything else 0); NULL
 * when out of memory (error set). The pointer is valid until the next call. */
qlc_comp_entry *qlc_report_compress(qlite_convert_report *r, const char *tensor, const char *op,
                                    qlite_op_code code, uint64_t rows, uint64_t cols);
/* The entry of `tensor` or NULL. */
qlc_comp_entry *qlc_report_find_compress(qlite_convert_report *r, const char *tensor);

/* Name of the tensor that holds activation `index` in the converted model
 * (when it is not the activation's own name, e.g. a float input's QUANTIZE). */
qlite_status qlc_report_set_activation_model_name(qlite_convert_report *r, uint32_t index,
                                                  const char *name);
/* Index of the activation entry for a tensor name, or -1. */
int32_t qlc_report_find_activation(const qlite_convert_report *r, const char *tensor);

/* 10·log10(signal / noise) with the report's conventions: NAN when the
 * signal is 0, INFINITY when the noise is 0. */
double qlc_sqnr_db(double signal, double noise);

#endif /* QLITE_CONVERTER_REPORT_H */
