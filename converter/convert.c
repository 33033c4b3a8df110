/*
 * convert.c — the public entry points of libqlite-convert
 * (include/qlite/qlite_convert.h): runs import, the passes, quantization and
 * emit, and fills the report (report.c).
 *
 * Pipeline (docs/converter.md):
 *   import -> shape inference + constant folding -> Identity/Dropout removal
 *   -> BatchNorm folding -> pattern fusion (+ shape inference of the new nodes)
 *   -> lowering -> --nhwc-io -> layout (NCHW -> NHWC) -> FC bias fusion
 *   -> activation fusion -> cleanup -> kernel constant folding
 *   -> [pruning] -> clustering (or finding clustered weights)
 *   -> [FLOAT16 | DYNAMIC | INT8: QDQ absorption, calibration, quantizer]
 *   -> cleanup -> storage (sparse / palettized) -> emit
 *   -> [quantized or compressed: prepare check; SQNR, accuracy].
 *
 * Float references: `ref` is the float32 model as the passes left it, before
 * pruning and clustering (the baseline of sizes and of --eval accuracy);
 * `work` is the float32 model after pruning / clustering (what calibration
 * and the activation SQNR run), the same bytes as ref when the weights did
 * not change.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compress/compress.h"
#include "emit.h"
#include "ir.h"
#include "onnx/onnx_import.h"
#include "passes/passes.h"
#include "qlite/qlite_convert.h"
#include "qlite_writer.h"
#include "quant/quantize.h"
#include "report.h"
#include "util/atomic_write.h"
#include "util/gzip_size.h"
#include "util/sha256.h"

#ifndef QLITE_CONVERT_VERSION
#define QLITE_CONVERT_VERSION QLITE_VERSION_STRING
#endif

const char *qlite_convert_mode_name(qlite_convert_mode mode) {
    static const char *const names[] = {"float32", "float16", "dynamic", "int8"};
    return (unsigned)mode < QLITE_ARRAY_SIZE(names) ? names[mode] : "?";
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_types(const void *a, const void *b) {
    return strcmp(((const qlc_type_count *)a)->name, ((const qlc_type_count *)b)->name);
}

static qlite_status count_onnx_types(qlite_convert_report *r, const qlc_graph *g,
                                     uint32_t constants) {
    uint32_t cap = g->num_nodes + 1;
    r->types = calloc(cap, sizeof *r->types);
    if (!r->types) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    for (uint32_t i = 0; i <= g->num_nodes; i++) {
        const char *name = i < g->num_nodes ? g->nodes[i]->op_type : "Constant";
        uint32_t add = i < g->num_nodes ? 1 : constants;
        if (!add) continue;
        uint32_t k = 0;
        while (k < r->num_types && strcmp(r->types[k].name, name)) k++;
        if (k == r->num_types) {
            size_t l = strlen(name);
            r->types[k].name = malloc(l + 1);
            if (!r->types[k].name) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            memcpy(r->types[k].name, name, l + 1);
            r->num_types++;
        }
        r->types[k].count += add;
        r->onnx_nodes += add;
    }
    qsort(r->types, r->num_types, sizeof *r->types, cmp_types);
    return QLITE_OK;
}

static qlite_status run_passes(qlc_ctx *c) {
    qlite_status st;
    bool changed;
    if ((st = qlc_pass_expand_quant(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_infer_shapes(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_remove_identity(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_fold_batchnorm(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_fuse_patterns(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_infer_shapes(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_lower(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_io_layout(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_layout(c)) != QLITE_OK) return st;
    if (c->opts.nhwc_io) { /* outputs whose transpose the layout pass moved to the end */
        if ((st = qlc_pass_io_layout(c)) != QLITE_OK) return st;
        if ((st = qlc_pass_layout(c)) != QLITE_OK) return st;
    }
    if ((st = qlc_pass_fuse_fc(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_fuse_activation(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_cleanup(c)) != QLITE_OK) return st;
    if ((st = qlc_pass_fold_constants(c, &changed)) != QLITE_OK) return st;
    if (changed && (st = qlc_pass_cleanup(c)) != QLITE_OK) return st;
    return QLITE_OK;
}

static qlite_status check_options(const qlite_convert_options *o) {
    if ((unsigned)o->mode >= QLITE_CONVERT_MODE_COUNT)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "invalid conversion mode %d", (int)o->mode);
    if ((unsigned)o->calibration >= QLITE_CALIBRATION_COUNT)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "invalid calibration method %d",
                           (int)o->calibration);
    if ((unsigned)o->io >= QLITE_CONVERT_IO_COUNT)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "invalid I/O dtype %d", (int)o->io);
    if (!(o->percentile == 0 || (o->percentile > 0 && o->percentile <= 100)))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "percentile %g is outside (0, 100]", (double)o->percentile);
    if (o->num_calib_files && !o->calib_files)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "calib_files is NULL but num_calib_files is %u", o->num_calib_files);
    for (uint32_t i = 0; i < o->num_calib_files; i++)
        if (!o->calib_files[i])
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "calib_files[%u] is NULL", i);
    if (!o->eval_file != !o->eval_labels)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "accuracy needs both the evaluation inputs and their labels "
                           "(--eval DATA --labels LABELS)");
    if (!(o->prune >= 0 && o->prune < 1))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "prune sparsity %g is outside [0, 1) (0.9 = 90%% of the weights zero)",
                           (double)o->prune);
    if (o->cluster == 1 || o->cluster > 256)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "cluster count %u is outside 2..256 (0 = no clustering)", o->cluster);
    if ((unsigned)o->prune_scope >= QLITE_PRUNE_SCOPE_COUNT)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "invalid prune scope %d",
                           (int)o->prune_scope);
    if ((unsigned)o->prune_norm >= QLITE_PRUNE_NORM_COUNT)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "invalid prune norm %d",
                           (int)o->prune_norm);
    if (o->prune_block_rows > 65536 || o->prune_block_cols > 65536)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "pruning block %ux%u is too large",
                           o->prune_block_rows, o->prune_block_cols);
    if (o->num_prune_skip && !o->prune_skip)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "prune_skip is NULL but num_prune_skip is %u", o->num_prune_skip);
    for (uint32_t i = 0; i < o->num_prune_skip; i++)
        if (!o->prune_skip[i])
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "prune_skip[%u] is NULL", i);
    if (!(o->sparse_min <= 1) || isnan(o->sparse_min))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "sparse_min %g is above 1 (a sparsity is a fraction)",
                           (double)o->sparse_min);
    if (o->io != QLITE_CONVERT_IO_FLOAT && o->mode != QLITE_CONVERT_INT8)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "--io %s needs --mode int8",
                           qlite_convert_io_name(o->io));
    return QLITE_OK;
}

/* Emits the graph with the conversion's metadata. */
static qlite_status emit_graph(const qlc_graph *g, const qlite_convert_options *o,
                               const char *onnx_path, const qlc_import_info *info,
                               qlite_convert_mode mode, bool qdq, void **out, size_t *size,
                               uint64_t *wbytes, uint32_t *ntensors) {
    char producer[256], hex[65], opset[32];
    if (o->producer) snprintf(producer, sizeof producer, "%s", o->producer);
    else
        snprintf(producer, sizeof producer, "qlite-convert %s mode=%s%s%s%s", QLITE_CONVERT_VERSION,
                 qlite_convert_mode_name(mode), o->nhwc_io ? " nhwc_io" : "",
                 mode >= QLITE_CONVERT_DYNAMIC && o->per_tensor ? " per_tensor" : "",
                 mode == QLITE_CONVERT_INT8 && o->io != QLITE_CONVERT_IO_FLOAT
                     ? (o->io == QLITE_CONVERT_IO_INT8 ? " io=int8" : " io=uint8")
                     : "");
    qlc_sha256_hex(info->sha256, hex);
    snprintf(opset, sizeof opset, "%lld", (long long)g->opset);
    const char *base = strrchr(onnx_path, '/');
    base = base ? base + 1 : onnx_path;
    char calib[256] = "";
    if (mode == QLITE_CONVERT_INT8)
        snprintf(calib, sizeof calib, "%s%s",
                 o->num_calib_files ? qlite_calibration_method_name(o->calibration) : "none",
                 qdq ? " (scales from QDQ)" : "");
    const char *keys[] = {"source_file", "source_sha256", "source_producer", "onnx_opset", "mode",
                          "io_layout", "calibration"};
    const char *vals[] = {base, hex, info->producer, opset, qlite_convert_mode_name(mode),
                          o->nhwc_io ? "nhwc" : "onnx", calib};
    qlc_emit_meta meta = {.producer = producer, .description = NULL,
                          .num_metadata = (uint32_t)QLITE_ARRAY_SIZE(keys) - (calib[0] ? 0 : 1),
                          .keys = keys, .values = vals};
    return qlc_emit(g, &meta, out, size, wbytes, ntensors);
}

/* A quantized model must prepare: an op/dtype combination no kernel takes
 * is refused here, naming the op, rather than at the user's run time. */
static qlite_status check_prepares(const void *bytes, size_t size) {
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    qlite_status st = qlite_model_open_memory(bytes, size, 0, &m);
    if (st == QLITE_OK) st = qlite_interpreter_create(m, NULL, &it);
    if (st == QLITE_OK) st = qlite_interpreter_prepare(it);
    if (st != QLITE_OK) {
        char msg[QLITE_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", qlite_last_error());
        st = qlite_error(st, "the converted model does not prepare: %s", msg);
    }
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    return st;
}

typedef struct conv_state {
    qlc_graph *g;
    qlite_convert_report *r;
    void *ref_bytes;             /* float32 before pruning / clustering (NULL: not made) */
    size_t ref_size;
    void *work_bytes;            /* float32 after them; == ref_bytes when unchanged */
    size_t work_size;
    qlc_dataset calib, eval;
    int64_t *labels;
} conv_state;

static void conv_state_free(conv_state *s) {
    qlc_graph_destroy(s->g);
    if (s->work_bytes != s->ref_bytes) qlite_writer_free_bytes(s->work_bytes);
    qlite_writer_free_bytes(s->ref_bytes);
    qlc_dataset_free(&s->calib);
    qlc_dataset_free(&s->eval);
    free(s->labels);
}

static qlite_status quantize(qlc_ctx *ctx, conv_state *s, const qlite_convert_options *o) {
    qlite_status st = QLITE_OK;
    qlite_convert_report *r = s->r;
    switch (o->mode) {
    case QLITE_CONVERT_FLOAT16:
        st = qlc_quant_float16(ctx, r);
        break;
    case QLITE_CONVERT_DYNAMIC:
        st = qlc_quant_dynamic(ctx, r);
        break;
    case QLITE_CONVERT_INT8: {
        bool qdq = false;
        if ((st = qlc_qdq_absorb(ctx, &qdq)) != QLITE_OK) return st;
        r->qdq = qdq;
        char missing[256];
        bool need = qlc_int8_needs_calibration(ctx->g, missing, sizeof missing);
        if (s->calib.samples) {
            if ((st = qlc_calibrate(ctx, s->work_bytes, s->work_size, &s->calib, r)) != QLITE_OK)
                return st;
        } else if (need) {
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                               "int8 needs a representative dataset (--calib data.npz): %s%s",
                               qdq ? "the model's QuantizeLinear/DequantizeLinear do not fix the "
                                     "parameters of tensor " : "no range for tensor ", missing);
        }
        st = qlc_quant_int8(ctx, r);
        break;
    }
    default:
        break;
    }
    if (st == QLITE_OK) st = qlc_pass_cleanup(ctx);
    return st;
}

static qlite_status convert(const char *onnx_path, const qlite_convert_options *options,
                            void **out, size_t *size, qlite_convert_report **report) {
    double t0 = now_seconds();
    qlite_convert_options defaults = {0};
    const qlite_convert_options *o = options ? options : &defaults;
    qlite_status st = check_options(o);
    if (st != QLITE_OK) return st;
    conv_state s = {0};
    qlc_import_info info;
    if ((st = qlc_onnx_import_file(onnx_path, &s.g, &info)) != QLITE_OK) return st;
    if ((st = qlc_report_create(&s.r)) != QLITE_OK) {
        conv_state_free(&s);
        return st;
    }
    qlite_convert_report *r = s.r;
    qlc_graph *g = s.g;
    r->mode = o->mode;
    r->opset = g->opset;
    r->nhwc_io = o->nhwc_io;
    r->per_tensor = o->per_tensor && o->mode >= QLITE_CONVERT_DYNAMIC;
    r->io = o->io;
    r->source = malloc(strlen(onnx_path) + 1);
    if (r->source) memcpy(r->source, onnx_path, strlen(onnx_path) + 1);
    st = r->source ? count_onnx_types(r, g, info.constant_nodes)
                   : qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    qlc_ctx ctx = {.g = g, .opts = *o};
    qlc_log(&ctx, 1, "imported %s: opset %lld, %u nodes, %u tensors", onnx_path,
            (long long)g->opset, r->onnx_nodes, g->num_tensors);
    if (st == QLITE_OK) st = run_passes(&ctx);
    bool quantized = o->mode != QLITE_CONVERT_FLOAT32;
    bool reshape = o->prune > 0 || o->cluster > 0; /* pruning / clustering change weights */
    r->prune = o->prune;
    r->prune_scope = o->prune_scope;
    r->prune_norm = o->prune_norm;
    r->prune_block_rows = o->prune_block_rows ? o->prune_block_rows : 1;
    r->prune_block_cols = o->prune_block_cols ? o->prune_block_cols : 1;
    r->cluster = o->cluster;
    /* the float reference: baseline for sizes, calibration, SQNR and accuracy */
    if (st == QLITE_OK && (quantized || o->eval_file || reshape))
        st = emit_graph(g, o, onnx_path, &info, QLITE_CONVERT_FLOAT32, false, &s.ref_bytes,
                        &s.ref_size, NULL, NULL);
    s.work_bytes = s.ref_bytes;
    s.work_size = s.ref_size;
    if (st == QLITE_OK && o->prune > 0) st = qlc_prune_weights(&ctx, r);
    else if (st == QLITE_OK && o->num_prune_skip)
        st = qlc_report_add_warning(r, "--prune-skip has no effect without --prune");
    if (st == QLITE_OK) st = qlc_cluster_weights(&ctx, r);
    /* calibration and activation SQNR run the float model that gets quantized */
    if (st == QLITE_OK && reshape && o->mode == QLITE_CONVERT_INT8)
        st = emit_graph(g, o, onnx_path, &info, QLITE_CONVERT_FLOAT32, false, &s.work_bytes,
                        &s.work_size, NULL, NULL);
    if (st == QLITE_OK && o->num_calib_files) {
        qlc_log(&ctx, 1, "calibration data: %u file%s", o->num_calib_files,
                o->num_calib_files == 1 ? "" : "s");
        st = qlc_dataset_load(g, o->calib_files, o->num_calib_files, o->calib_samples,
                              "calibration data", &s.calib);
    }
    if (st == QLITE_OK && o->eval_file) {
        st = qlc_dataset_load(g, &o->eval_file, 1, 0, "evaluation data", &s.eval);
        if (st == QLITE_OK) st = qlc_labels_load(o->eval_labels, s.eval.samples, &s.labels);
    }
    if (st == QLITE_OK && quantized) st = quantize(&ctx, &s, o);
    /* a float32 model whose weights only change form: the dense file is the baseline */
    if (st == QLITE_OK && !s.ref_bytes && qlc_store_candidates(&ctx)) {
        st = emit_graph(g, o, onnx_path, &info, QLITE_CONVERT_FLOAT32, false, &s.ref_bytes,
                        &s.ref_size, NULL, NULL);
        s.work_bytes = s.ref_bytes;
        s.work_size = s.ref_size;
    }
    uint32_t compressed = 0;
    if (st == QLITE_OK) st = qlc_store_weights(&ctx, r, &compressed);
    uint32_t packed = 0;
    uint64_t packed_bytes = 0;
    if (st == QLITE_OK) st = qlc_pass_pack_weights(&ctx, &packed, &packed_bytes);
    uint64_t wbytes = 0;
    uint32_t ntensors = 0;
    if (st == QLITE_OK)
        st = emit_graph(g, o, onnx_path, &info, o->mode, r->qdq, out, size, &wbytes, &ntensors);
    if (st == QLITE_OK && (quantized || compressed || packed)) st = check_prepares(*out, *size);
    if (st == QLITE_OK && quantized && s.calib.samples)
        st = qlc_measure_activations(&ctx, s.work_bytes, s.work_size, *out, *size, &s.calib, r);
    if (st == QLITE_OK && o->eval_file)
        st = qlc_measure_accuracy(&ctx, s.ref_bytes, s.ref_size, *out, *size, &s.eval,
                                  s.labels, r);
    if (st == QLITE_OK) {
        for (uint32_t i = 0; i < g->num_nodes; i++) {
            if (g->nodes[i]->dead) continue;
            r->op_count++;
            r->ops_of[g->nodes[i]->code]++;
        }
        memcpy(r->fusions, ctx.counters, sizeof ctx.counters);
        r->num_fusions = ctx.num_counters;
        r->sizes.onnx_bytes = info.file_bytes;
        r->sizes.onnx_gzip_bytes = info.gzip_bytes;
        r->sizes.output_bytes = *size;
        r->sizes.output_gzip_bytes = qlc_gzip_size(*out, *size);
        r->sizes.float_bytes = s.ref_bytes && (quantized || reshape || compressed) ? s.ref_size : 0;
        r->sizes.weight_bytes = wbytes;
        r->sizes.tensors = ntensors;
        r->sizes.packed_weights = packed;
        r->sizes.packed_bytes = packed_bytes;
        r->sizes.seconds = now_seconds() - t0;
    }
    if (st != QLITE_OK && *out) {
        qlite_writer_free_bytes(*out);
        *out = NULL;
        *size = 0;
    }
    s.r = NULL;
    conv_state_free(&s);
    if (st != QLITE_OK || !report) {
        qlite_convert_report_free(r);
        if (report) *report = NULL;
    } else {
        *report = r;
    }
    return st;
}

qlite_status qlite_convert_to_memory(const char *onnx_path, const qlite_convert_options *options,
                                     void **out, size_t *size, qlite_convert_report **report) {
    if (report) *report = NULL;
    if (!onnx_path || !out || !size)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "qlite_convert_to_memory: NULL argument");
    *out = NULL;
    *size = 0;
    return convert(onnx_path, options, out, size, report);
}

void qlite_convert_free_bytes(void *bytes) { qlite_writer_free_bytes(bytes); }

qlite_status qlite_convert_file(const char *onnx_path, const char *out_path,
                                const qlite_convert_options *options,
                                qlite_convert_report **report) {
    if (report) *report = NULL;
    if (!onnx_path || !out_path)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "qlite_convert_file: NULL path");
    void *bytes = NULL;
    size_t size = 0;
    qlite_convert_report *r = NULL;
    qlite_status st = convert(onnx_path, options, &bytes, &size, &r);
    if (st != QLITE_OK) return st;
    st = qlc_write_atomic(out_path, bytes, size);
    qlite_convert_free_bytes(bytes);
    if (st != QLITE_OK) {
        qlite_convert_report_free(r);
        return st;
    }
    if (report) *report = r;
    else qlite_convert_report_free(r);
    return QLITE_OK;
}
