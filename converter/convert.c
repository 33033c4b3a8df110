/*
 * convert.c — the public entry points of libqlite-convert
 * (include/qlite/qlite_convert.h): runs import, the passes and emit, and
 * builds the report.
 *
 * Pipeline (docs/converter.md):
 *   import -> shape inference + constant folding -> Identity/Dropout removal
 *   -> BatchNorm folding -> pattern fusion (+ shape inference of the new nodes)
 *   -> lowering -> --nhwc-io -> layout (NCHW -> NHWC) -> FC bias fusion
 *   -> activation fusion -> kernel constant folding -> cleanup -> emit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emit.h"
#include "ir.h"
#include "onnx/onnx_import.h"
#include "passes/passes.h"
#include "qlite/qlite_convert.h"
#include "qlite_writer.h"
#include "util/atomic_write.h"
#include "util/sha256.h"

#ifndef QLITE_CONVERT_VERSION
#define QLITE_CONVERT_VERSION QLITE_VERSION_STRING
#endif

typedef struct onnx_type_count {
    char *name;
    uint32_t count;
} onnx_type_count;

struct qlite_convert_report {
    uint32_t onnx_nodes;
    onnx_type_count *types;
    uint32_t num_types;
    uint32_t op_count;
    uint32_t ops_of[QLITE_OP_COUNT];
    qlc_counter fusions[QLC_MAX_COUNTERS];
    uint32_t num_fusions;
    qlite_convert_sizes sizes;
    qlite_convert_mode mode;
    int64_t opset;
    bool nhwc_io;
};

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
    return strcmp(((const onnx_type_count *)a)->name, ((const onnx_type_count *)b)->name);
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

void qlite_convert_report_free(qlite_convert_report *r) {
    if (!r) return;
    for (uint32_t i = 0; i < r->num_types; i++) free(r->types[i].name);
    free(r->types);
    free(r);
}

static qlite_status run_passes(qlc_ctx *c) {
    qlite_status st;
    bool changed;
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

static qlite_status convert(const char *onnx_path, const qlite_convert_options *options,
                            void **out, size_t *size, qlite_convert_report **report) {
    double t0 = now_seconds();
    qlite_convert_options defaults = {0};
    const qlite_convert_options *o = options ? options : &defaults;
    if ((unsigned)o->mode >= QLITE_CONVERT_MODE_COUNT)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "invalid conversion mode %d", (int)o->mode);
    if (o->mode != QLITE_CONVERT_FLOAT32)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "mode %s is not implemented in this build (only float32)",
                           qlite_convert_mode_name(o->mode));
    qlc_graph *g = NULL;
    qlc_import_info info;
    qlite_status st = qlc_onnx_import_file(onnx_path, &g, &info);
    if (st != QLITE_OK) return st;
    qlite_convert_report *r = calloc(1, sizeof *r);
    if (!r) {
        qlc_graph_destroy(g);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    r->mode = o->mode;
    r->opset = g->opset;
    r->nhwc_io = o->nhwc_io;
    st = count_onnx_types(r, g, info.constant_nodes);
    qlc_ctx ctx = {.g = g, .opts = *o};
    qlc_log(&ctx, 1, "imported %s: opset %lld, %u nodes, %u tensors", onnx_path,
            (long long)g->opset, r->onnx_nodes, g->num_tensors);
    if (st == QLITE_OK) st = run_passes(&ctx);
    char producer[256], hex[65], opset[32];
    if (o->producer) snprintf(producer, sizeof producer, "%s", o->producer);
    else snprintf(producer, sizeof producer, "qlite-convert %s mode=%s%s", QLITE_CONVERT_VERSION,
                  qlite_convert_mode_name(o->mode), o->nhwc_io ? " nhwc_io" : "");
    qlc_sha256_hex(info.sha256, hex);
    snprintf(opset, sizeof opset, "%lld", (long long)g->opset);
    const char *base = strrchr(onnx_path, '/');
    base = base ? base + 1 : onnx_path;
    const char *keys[] = {"source_file", "source_sha256", "source_producer", "onnx_opset", "mode",
                          "io_layout"};
    const char *vals[] = {base, hex, info.producer, opset, qlite_convert_mode_name(o->mode),
                          o->nhwc_io ? "nhwc" : "onnx"};
    qlc_emit_meta meta = {.producer = producer, .description = NULL,
                          .num_metadata = (uint32_t)QLITE_ARRAY_SIZE(keys), .keys = keys,
                          .values = vals};
    uint64_t wbytes = 0;
    uint32_t ntensors = 0;
    if (st == QLITE_OK) st = qlc_emit(g, &meta, out, size, &wbytes, &ntensors);
    if (st == QLITE_OK) {
        for (uint32_t i = 0; i < g->num_nodes; i++) {
            if (g->nodes[i]->dead) continue;
            r->op_count++;
            r->ops_of[g->nodes[i]->code]++;
        }
        memcpy(r->fusions, ctx.counters, sizeof ctx.counters);
        r->num_fusions = ctx.num_counters;
        r->sizes.onnx_bytes = info.file_bytes;
        r->sizes.output_bytes = *size;
        r->sizes.weight_bytes = wbytes;
        r->sizes.tensors = ntensors;
        r->sizes.seconds = now_seconds() - t0;
    }
    qlc_graph_destroy(g);
    if (st != QLITE_OK || !report) {
        qlite_convert_report_free(r);
        if (st == QLITE_OK && report) *report = NULL;
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

/* ---- report accessors ---------------------------------------------------------- */

uint32_t qlite_convert_report_onnx_node_count(const qlite_convert_report *r) {
    return r ? r->onnx_nodes : 0;
}
uint32_t qlite_convert_report_onnx_type_count(const qlite_convert_report *r) {
    return r ? r->num_types : 0;
}
qlite_status qlite_convert_report_onnx_type(const qlite_convert_report *r, uint32_t index,
                                            const char **name, uint32_t *count) {
    if (!r || index >= r->num_types)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "report: ONNX type index %u out of range", index);
    if (name) *name = r->types[index].name;
    if (count) *count = r->types[index].count;
    return QLITE_OK;
}
uint32_t qlite_convert_report_op_count(const qlite_convert_report *r) { return r ? r->op_count : 0; }
uint32_t qlite_convert_report_ops_of(const qlite_convert_report *r, qlite_op_code code) {
    return r && (unsigned)code < QLITE_OP_COUNT ? r->ops_of[code] : 0;
}
uint32_t qlite_convert_report_fusion_count(const qlite_convert_report *r) {
    return r ? r->num_fusions : 0;
}
qlite_status qlite_convert_report_fusion(const qlite_convert_report *r, uint32_t index,
                                         const char **kind, uint32_t *count) {
    if (!r || index >= r->num_fusions)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "report: rewrite index %u out of range", index);
    if (kind) *kind = r->fusions[index].kind;
    if (count) *count = r->fusions[index].count;
    return QLITE_OK;
}
void qlite_convert_report_sizes(const qlite_convert_report *r, qlite_convert_sizes *out) {
    if (!out) return;
    if (!r) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = r->sizes;
}

typedef struct sbuf {
    char *p;
    size_t size, len;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) QLITE_PRINTF(2, 3);
static void put(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->size ? b->size - b->len : 0;
    int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) b->len += (size_t)n;
}

static void human(char *out, size_t n, uint64_t bytes) {
    if (bytes >= (1u << 20)) snprintf(out, n, "%.2f MiB", (double)bytes / (1 << 20));
    else if (bytes >= 1024) snprintf(out, n, "%.1f KiB", (double)bytes / 1024);
    else snprintf(out, n, "%llu B", (unsigned long long)bytes);
}

size_t qlite_convert_report_format(const qlite_convert_report *r, char *buf, size_t size) {
    sbuf b = {buf, size, 0};
    if (size) buf[0] = 0;
    if (!r) return 0;
    put(&b, "ONNX: %u nodes (opset %lld):", r->onnx_nodes, (long long)r->opset);
    for (uint32_t i = 0; i < r->num_types; i++)
        put(&b, " %s %u%s", r->types[i].name, r->types[i].count, i + 1 < r->num_types ? "," : "");
    put(&b, "\nqlite: %u ops (%s%s):", r->op_count, qlite_convert_mode_name(r->mode),
        r->nhwc_io ? ", NHWC I/O" : "");
    bool first = true;
    for (int c = 0; c < QLITE_OP_COUNT; c++) {
        if (!r->ops_of[c]) continue;
        put(&b, "%s %s %u", first ? "" : ",", qlite_op_name((qlite_op_code)c), r->ops_of[c]);
        first = false;
    }
    put(&b, "\nrewrites:");
    if (!r->num_fusions) put(&b, " none");
    for (uint32_t i = 0; i < r->num_fusions; i++)
        put(&b, "\n  %-45s %u", r->fusions[i].kind, r->fusions[i].count);
    char a[32], o[32], w[32];
    human(a, sizeof a, r->sizes.onnx_bytes);
    human(o, sizeof o, r->sizes.output_bytes);
    human(w, sizeof w, r->sizes.weight_bytes);
    put(&b, "\nsize: ONNX %s -> qlite %s (weights %s, %u tensors)\ntime: %.3f s\n", a, o, w,
        r->sizes.tensors, r->sizes.seconds);
    return b.len;
}
