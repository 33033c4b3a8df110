/*
 * passes.h — graph passes of the converter, in the order convert.c runs them
 * (docs/converter.md, "Passes"). One pass per file. Every pass takes the
 * conversion context, rewrites ctx->g in place and counts what it did with
 * qlc_count() (the report's "rewrites").
 */
#ifndef QLITE_CONVERTER_PASSES_H
#define QLITE_CONVERTER_PASSES_H

#include "ir.h"
#include "qlite/qlite_convert.h"

#define QLC_MAX_COUNTERS 48

typedef struct qlc_counter {
    const char *kind;   /* static string */
    uint32_t count;
} qlc_counter;

typedef struct qlc_ctx {
    qlc_graph *g;
    qlite_convert_options opts;
    qlc_counter counters[QLC_MAX_COUNTERS];
    uint32_t num_counters;
} qlc_ctx;

/* Adds n to the counter `kind` (a string literal). */
void qlc_count(qlc_ctx *c, const char *kind, uint32_t n);
/* Sends a log line at `level` to the options' callback (if verbosity allows). */
void qlc_log(const qlc_ctx *c, int level, const char *fmt, ...) QLITE_PRINTF(3, 4);

/* ONNX-level passes (before lowering) */
qlite_status qlc_pass_expand_quant(qlc_ctx *c);   /* QLinearConv, ConvInteger, ... -> standard ops */
qlite_status qlc_pass_infer_shapes(qlc_ctx *c);   /* shape inference + constant folding */
qlite_status qlc_pass_fold_constants(qlc_ctx *c, bool *changed);
qlite_status qlc_pass_remove_identity(qlc_ctx *c);
qlite_status qlc_pass_fold_batchnorm(qlc_ctx *c);
qlite_status qlc_pass_fuse_patterns(qlc_ctx *c);  /* Gelu, LayerNorm, HardSwish, HardSigmoid */
/* Lowering: every ONNX node -> qlite ops (ONNX layout, transposes around NHWC ops). */
qlite_status qlc_pass_lower(qlc_ctx *c);
/* qlite-level passes (after lowering) */
qlite_status qlc_pass_io_layout(qlc_ctx *c);      /* --nhwc-io */
qlite_status qlc_pass_layout(qlc_ctx *c);         /* NCHW -> NHWC: move and cancel transposes */
qlite_status qlc_pass_fuse_fc(qlc_ctx *c);        /* FULLY_CONNECTED + ADD(bias) */
qlite_status qlc_pass_fuse_activation(qlc_ctx *c);
qlite_status qlc_pass_cleanup(qlc_ctx *c);        /* dead nodes, names, order */
/* last, before emit: weights whose kernel reads a packed layout stored in it
 * (docs/format.md §6.2); *packed weights, *bytes of them as stored */
qlite_status qlc_pass_pack_weights(qlc_ctx *c, uint32_t *packed, uint64_t *bytes);

#endif /* QLITE_CONVERTER_PASSES_H */
