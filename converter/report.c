/*
 * report.c — the conversion report: storage, the public accessors, and the
 * two renderings (text for people, JSON for programs; docs/cli.md).
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *qlite_calibration_method_name(qlite_calibration_method m) {
    static const char *const names[] = {"minmax", "percentile", "mse"};
    return (unsigned)m < QLITE_ARRAY_SIZE(names) ? names[m] : "?";
}

const char *qlite_prune_scope_name(qlite_prune_scope scope) {
    static const char *const names[] = {"layer", "global"};
    return (unsigned)scope < QLITE_ARRAY_SIZE(names) ? names[scope] : "?";
}

const char *qlite_prune_norm_name(qlite_prune_norm norm) {
    static const char *const names[] = {"l2", "l1"};
    return (unsigned)norm < QLITE_ARRAY_SIZE(names) ? names[norm] : "?";
}

const char *qlite_convert_io_name(qlite_convert_io io) {
    static const char *const names[] = {"float", "int8", "uint8"};
    return (unsigned)io < QLITE_ARRAY_SIZE(names) ? names[io] : "?";
}

static char *dup_str(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

qlite_status qlc_report_create(qlite_convert_report **out) {
    qlite_convert_report *r = calloc(1, sizeof *r);
    if (!r) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    *out = r;
    return QLITE_OK;
}

void qlite_convert_report_free(qlite_convert_report *r) {
    if (!r) return;
    free(r->source);
    for (uint32_t i = 0; i < r->num_types; i++) free(r->types[i].name);
    free(r->types);
    for (uint32_t i = 0; i < r->num_weights; i++) {
        free((char *)r->weights[i].op);
        free((char *)r->weights[i].tensor);
    }
    free(r->weights);
    for (uint32_t i = 0; i < r->num_acts; i++) {
        free((char *)r->acts[i].tensor);
        free((char *)r->acts[i].source);
        if (r->act_model_names) free(r->act_model_names[i]);
    }
    free(r->acts);
    free(r->act_model_names);
    for (uint32_t i = 0; i < r->num_float_ops; i++) {
        free((char *)r->float_ops[i].op);
        free((char *)r->float_ops[i].reason);
    }
    free(r->float_ops);
    for (uint32_t i = 0; i < r->num_kept; i++) {
        free((char *)r->kept[i].tensor);
        free((char *)r->kept[i].reason);
    }
    free(r->kept);
    for (uint32_t i = 0; i < r->num_warnings; i++) free(r->warnings[i]);
    free(r->warnings);
    for (uint32_t i = 0; i < r->num_comp; i++) {
        free((char *)r->comp[i].info.op);
        free((char *)r->comp[i].info.tensor);
    }
    free(r->comp);
    free(r);
}

/* Grows *arr (elements of size esize) so that index n is valid. */
static bool grow(void **arr, uint32_t *cap, uint32_t n, size_t esize) {
    if (n < *cap) return true;
    uint32_t nc = *cap ? *cap * 2 : 16;
    while (nc <= n) nc *= 2;
    void *p = realloc(*arr, (size_t)nc * esize);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

#define GROW(r, arr, num, cap) grow((void **)&(r)->arr, &(r)->cap, (r)->num, sizeof *(r)->arr)

static qlite_status oom(void) { return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory (report)"); }

qlite_status qlc_report_add_weight(qlite_convert_report *r, const char *op, qlite_op_code code,
                                   const char *tensor, qlite_dtype dtype, uint32_t channels,
                                   uint64_t elements, double sqnr_db) {
    if (!GROW(r, weights, num_weights, cap_weights)) return oom();
    qlite_convert_weight_info *w = &r->weights[r->num_weights];
    *w = (qlite_convert_weight_info){.op = dup_str(op), .code = code, .tensor = dup_str(tensor),
                                     .dtype = dtype, .channels = channels, .elements = elements,
                                     .sqnr_db = sqnr_db};
    if (!w->op || !w->tensor) {
        free((char *)w->op);
        free((char *)w->tensor);
        return oom();
    }
    r->num_weights++;
    return QLITE_OK;
}

qlite_status qlc_report_add_activation(qlite_convert_report *r, const char *tensor,
                                       qlite_dtype dtype, float scale, int32_t zero_point,
                                       float min, float max, const char *source) {
    uint32_t old_cap = r->cap_acts;
    if (!GROW(r, acts, num_acts, cap_acts)) return oom();
    if (r->cap_acts != old_cap || !r->act_model_names) {
        char **p = realloc(r->act_model_names, r->cap_acts * sizeof *p);
        if (!p) return oom();
        for (uint32_t i = r->act_model_names ? old_cap : 0; i < r->cap_acts; i++) p[i] = NULL;
        r->act_model_names = p;
    }
    qlite_convert_activation_info *a = &r->acts[r->num_acts];
    *a = (qlite_convert_activation_info){.tensor = dup_str(tensor), .dtype = dtype,
                                         .scale = scale, .zero_point = zero_point, .min = min,
                                         .max = max, .source = dup_str(source), .sqnr_db = NAN};
    if (!a->tensor || !a->source) {
        free((char *)a->tensor);
        free((char *)a->source);
        return oom();
    }
    r->num_acts++;
    return QLITE_OK;
}

qlite_status qlc_report_add_float_op(qlite_convert_report *r, const char *op, qlite_op_code code,
                                     const char *reason) {
    if (!GROW(r, float_ops, num_float_ops, cap_float_ops)) return oom();
    qlite_convert_float_op *f = &r->float_ops[r->num_float_ops];
    *f = (qlite_convert_float_op){.op = dup_str(op), .code = code, .reason = dup_str(reason)};
    if (!f->op || !f->reason) {
        free((char *)f->op);
        free((char *)f->reason);
        return oom();
    }
    r->num_float_ops++;
    return QLITE_OK;
}

qlite_status qlc_report_add_kept(qlite_convert_report *r, const char *tensor, uint64_t elements,
                                 const char *reason) {
    if (!GROW(r, kept, num_kept, cap_kept)) return oom();
    qlite_convert_kept_tensor *k = &r->kept[r->num_kept];
    *k = (qlite_convert_kept_tensor){.tensor = dup_str(tensor), .elements = elements,
                                     .reason = dup_str(reason)};
    if (!k->tensor || !k->reason) {
        free((char *)k->tensor);
        free((char *)k->reason);
        return oom();
    }
    r->num_kept++;
    return QLITE_OK;
}

qlite_status qlc_report_add_warning(qlite_convert_report *r, const char *fmt, ...) {
    if (!GROW(r, warnings, num_warnings, cap_warnings)) return oom();
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!(r->warnings[r->num_warnings] = dup_str(line))) return oom();
    r->num_warnings++;
    return QLITE_OK;
}

qlc_comp_entry *qlc_report_find_compress(qlite_convert_report *r, const char *tensor) {
    for (uint32_t i = 0; i < r->num_comp; i++)
        if (!strcmp(r->comp[i].info.tensor, tensor)) return &r->comp[i];
    return NULL;
}

qlc_comp_entry *qlc_report_compress(qlite_convert_report *r, const char *tensor, const char *op,
                                    qlite_op_code code, uint64_t rows, uint64_t cols) {
    qlc_comp_entry *e = qlc_report_find_compress(r, tensor);
    if (e) return e;
    if (!GROW(r, comp, num_comp, cap_comp)) {
        oom();
        return NULL;
    }
    e = &r->comp[r->num_comp];
    *e = (qlc_comp_entry){.info = {.op = dup_str(op), .code = code, .tensor = dup_str(tensor),
                                   .rows = rows, .cols = cols, .sqnr_db = INFINITY}};
    if (!e->info.op || !e->info.tensor) {
        free((char *)e->info.op);
        free((char *)e->info.tensor);
        oom();
        return NULL;
    }
    r->num_comp++;
    return e;
}

qlite_status qlc_report_set_activation_model_name(qlite_convert_report *r, uint32_t index,
                                                  const char *name) {
    if (index >= r->num_acts) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "activation index");
    char *d = dup_str(name);
    if (!d) return oom();
    free(r->act_model_names[index]);
    r->act_model_names[index] = d;
    return QLITE_OK;
}

int32_t qlc_report_find_activation(const qlite_convert_report *r, const char *tensor) {
    for (uint32_t i = 0; i < r->num_acts; i++)
        if (!strcmp(r->acts[i].tensor, tensor)) return (int32_t)i;
    return -1;
}

double qlc_sqnr_db(double signal, double noise) {
    if (!(signal > 0)) return NAN;
    if (!(noise > 0)) return INFINITY;
    return 10.0 * log10(signal / noise);
}

/* ---- accessors -------------------------------------------------------------------- */

uint32_t qlite_convert_report_onnx_node_count(const qlite_convert_report *r) {
    return r ? r->onnx_nodes : 0;
}
uint32_t qlite_convert_report_onnx_type_count(const qlite_convert_report *r) {
    return r ? r->num_types : 0;
}
qlite_status qlite_convert_report_onnx_type(const qlite_convert_report *r, uint32_t index,
                                            const char **name, uint32_t *count) {
    if (!r || index >= r->num_types)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "report: ONNX type index %u out of range",
                           index);
    if (name) *name = r->types[index].name;
    if (count) *count = r->types[index].count;
    return QLITE_OK;
}
uint32_t qlite_convert_report_op_count(const qlite_convert_report *r) {
    return r ? r->op_count : 0;
}
uint32_t qlite_convert_report_ops_of(const qlite_convert_report *r, qlite_op_code code) {
    return r && (unsigned)code < QLITE_OP_COUNT ? r->ops_of[code] : 0;
}
uint32_t qlite_convert_report_fusion_count(const qlite_convert_report *r) {
    return r ? r->num_fusions : 0;
}
qlite_status qlite_convert_report_fusion(const qlite_convert_report *r, uint32_t index,
                                         const char **kind, uint32_t *count) {
    if (!r || index >= r->num_fusions)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "report: rewrite index %u out of range",
                           index);
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
qlite_convert_mode qlite_convert_report_mode(const qlite_convert_report *r) {
    return r ? r->mode : QLITE_CONVERT_FLOAT32;
}

#define ACCESSOR(fn_count, fn_get, T, arr, num, what)                                           \
    uint32_t fn_count(const qlite_convert_report *r) { return r ? r->num : 0; }                 \
    qlite_status fn_get(const qlite_convert_report *r, uint32_t index, T *out) {                \
        if (!r || !out || index >= r->num)                                                      \
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "report: %s index %u out of range",  \
                               what, index);                                                    \
        *out = r->arr[index];                                                                   \
        return QLITE_OK;                                                                        \
    }
ACCESSOR(qlite_convert_report_weight_count, qlite_convert_report_weight,
         qlite_convert_weight_info, weights, num_weights, "weight")
ACCESSOR(qlite_convert_report_activation_count, qlite_convert_report_activation,
         qlite_convert_activation_info, acts, num_acts, "activation")
ACCESSOR(qlite_convert_report_float_op_count, qlite_convert_report_float_op,
         qlite_convert_float_op, float_ops, num_float_ops, "float op")
ACCESSOR(qlite_convert_report_kept_count, qlite_convert_report_kept, qlite_convert_kept_tensor,
         kept, num_kept, "kept tensor")
#undef ACCESSOR

uint32_t qlite_convert_report_compression_count(const qlite_convert_report *r) {
    return r ? r->num_comp : 0;
}
qlite_status qlite_convert_report_compression(const qlite_convert_report *r, uint32_t index,
                                              qlite_convert_compression_info *out) {
    if (!r || !out || index >= r->num_comp)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "report: compression index %u out of range",
                           index);
    *out = r->comp[index].info;
    return QLITE_OK;
}

uint32_t qlite_convert_report_warning_count(const qlite_convert_report *r) {
    return r ? r->num_warnings : 0;
}
const char *qlite_convert_report_warning(const qlite_convert_report *r, uint32_t index) {
    return r && index < r->num_warnings ? r->warnings[index] : NULL;
}
void qlite_convert_report_calibration(const qlite_convert_report *r,
                                      qlite_convert_calibration *out) {
    if (!out) return;
    if (!r) memset(out, 0, sizeof *out);
    else *out = r->calib;
}
void qlite_convert_report_accuracy(const qlite_convert_report *r, qlite_convert_accuracy *out) {
    if (!out) return;
    if (!r) memset(out, 0, sizeof *out);
    else *out = r->accuracy;
}

/* ---- text ------------------------------------------------------------------------- */

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

/* Column width for a name: the widest so far, capped at 48. */
static int width(int w, const char *s) {
    int l = (int)strlen(s);
    return l > w ? (l > 48 ? 48 : l) : w;
}

static void db(char *out, size_t n, double v) {
    if (isnan(v)) snprintf(out, n, "-");
    else if (isinf(v)) snprintf(out, n, "exact");
    else snprintf(out, n, "%.1f", v);
}

/* "1x4", "dense"; "pal4/row" etc. for the storage column. */
static void storage_str(char *out, size_t n, const qlite_convert_compression_info *c) {
    char sp[24] = "dense", pal[32] = "";
    if (c->block_rows) snprintf(sp, sizeof sp, "sparse %ux%u", c->block_rows, c->block_cols);
    if (c->palette)
        snprintf(pal, sizeof pal, " + %u-bit palette%s", c->index_bits,
                 c->per_row ? " per row" : "");
    snprintf(out, n, "%s%s", sp, pal);
}

/* The pruning / clustering / storage table. */
static void format_compression(sbuf *b, const qlite_convert_report *r) {
    if (r->prune > 0)
        put(b, "pruning: %.4g%% per %s, blocks %ux%u scored by %s\n", 100.0 * (double)r->prune,
            r->prune_scope == QLITE_PRUNE_GLOBAL ? "model (global, RMS-normalized)" : "layer",
            r->prune_block_rows, r->prune_block_cols,
            r->prune_norm == QLITE_PRUNE_L1 ? "L1" : "L2");
    if (r->cluster) put(b, "clustering: k-means to %u values per weight\n", r->cluster);
    int wt = 6, wo = 2;
    for (uint32_t i = 0; i < r->num_comp; i++) {
        wt = width(wt, r->comp[i].info.tensor);
        wo = width(wo, r->comp[i].info.op);
    }
    put(b, "weights stored (sparsity, clusters, storage, bytes dense -> stored, SQNR dB of the "
           "pruned/clustered weight):\n");
    for (uint32_t i = 0; i < r->num_comp; i++) {
        const qlite_convert_compression_info *c = &r->comp[i].info;
        char st[64], d[32], sh[48], cl[16] = "-", dn[32], sd[32];
        storage_str(st, sizeof st, c);
        db(d, sizeof d, c->sqnr_db);
        snprintf(sh, sizeof sh, "[%llu,%llu]", (unsigned long long)c->rows,
                 (unsigned long long)c->cols);
        if (c->clusters) snprintf(cl, sizeof cl, "%u", c->clusters);
        human(dn, sizeof dn, c->dense_bytes);
        human(sd, sizeof sd, c->stored_bytes);
        uint64_t n = c->rows * c->cols;
        double sparsity = n ? (double)c->zeros / (double)n : 0;
        put(b, "  %-*s %-*s %-11s %-7s %6.2f%% %4s  %-34s %10s -> %-10s %6s%s\n", wt, c->tensor,
            wo, c->op, sh, c->dense_bytes ? qlite_dtype_name(c->dtype) : "-", 100 * sparsity, cl,
            st, dn, sd, d, c->skipped ? "  (--prune-skip)" : "");
    }
}

static const char *mode_label(const qlite_convert_report *r) {
    return qlite_convert_mode_name(r->mode);
}

size_t qlite_convert_report_format(const qlite_convert_report *r, char *buf, size_t size) {
    sbuf b = {buf, size, 0};
    if (size) buf[0] = 0;
    if (!r) return 0;
    put(&b, "ONNX: %u nodes (opset %lld):", r->onnx_nodes, (long long)r->opset);
    for (uint32_t i = 0; i < r->num_types; i++)
        put(&b, " %s %u%s", r->types[i].name, r->types[i].count, i + 1 < r->num_types ? "," : "");
    put(&b, "\nqlite: %u ops (%s%s):", r->op_count, mode_label(r), r->nhwc_io ? ", NHWC I/O" : "");
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
    put(&b, "\n");
    if (r->mode != QLITE_CONVERT_FLOAT32) {
        if (r->mode == QLITE_CONVERT_FLOAT16)
            put(&b, "quantization: float16 constants, float32 activations\n");
        else if (r->mode == QLITE_CONVERT_DYNAMIC)
            put(&b, "quantization: dynamic range: int8 weights per %s, float activations\n",
                r->per_tensor ? "tensor" : "channel");
        else
            put(&b, "quantization: int8 weights per %s, int8 activations per tensor, I/O %s%s\n",
                r->per_tensor ? "tensor" : "channel", qlite_convert_io_name(r->io),
                r->qdq ? ", scales from the model's QuantizeLinear/DequantizeLinear" : "");
    }
    if (r->calib.samples) {
        put(&b, "calibration: %llu samples, %s", (unsigned long long)r->calib.samples,
            qlite_calibration_method_name(r->calib.method));
        if (r->calib.method == QLITE_CALIBRATION_PERCENTILE)
            put(&b, " %g", (double)r->calib.percentile);
        put(&b, ", %.2f s\n", r->calib.seconds);
    }
    char d[32];
    if (r->num_weights) {
        int wop = 4, wt = 6;
        for (uint32_t i = 0; i < r->num_weights; i++) {
            wop = width(wop, r->weights[i].op);
            wt = width(wt, r->weights[i].tensor);
        }
        put(&b, "weights (SQNR dB):\n");
        for (uint32_t i = 0; i < r->num_weights; i++) {
            const qlite_convert_weight_info *w = &r->weights[i];
            char q[32];
            if (w->channels > 1) snprintf(q, sizeof q, "x%u", w->channels);
            else if (w->channels == 1) snprintf(q, sizeof q, "per tensor");
            else snprintf(q, sizeof q, "-");
            db(d, sizeof d, w->sqnr_db);
            put(&b, "  %-*s %-17s %-*s %-7s %-10s %9llu  %6s\n", wop, w->op, qlite_op_name(w->code),
                wt, w->tensor, qlite_dtype_name(w->dtype), q, (unsigned long long)w->elements, d);
        }
    }
    if (r->num_acts) {
        bool measured = false;
        int wa = 6, ws = 6;
        for (uint32_t i = 0; i < r->num_acts; i++) {
            measured |= !isnan(r->acts[i].sqnr_db);
            wa = width(wa, r->acts[i].tensor);
            ws = width(ws, r->acts[i].source);
        }
        put(&b, "activations (%s):\n",
            measured ? "SQNR dB on the calibration data" : "not measured");
        for (uint32_t i = 0; i < r->num_acts; i++) {
            const qlite_convert_activation_info *a = &r->acts[i];
            char q[96] = "";
            if (a->dtype != QLITE_DTYPE_FLOAT32)
                snprintf(q, sizeof q, "scale %-9.4g zp %-4d [%.4g, %.4g]", (double)a->scale,
                         a->zero_point, (double)a->min, (double)a->max);
            db(d, sizeof d, a->sqnr_db);
            put(&b, "  %-*s %-7s  %-42s %-*s %6s\n", wa, a->tensor, qlite_dtype_name(a->dtype), q,
                ws, a->source, d);
        }
    }
    if (r->mode == QLITE_CONVERT_INT8 || r->mode == QLITE_CONVERT_DYNAMIC) {
        int wf = 4;
        for (uint32_t i = 0; i < r->num_float_ops; i++) wf = width(wf, r->float_ops[i].op);
        put(&b, "ops left in float:%s\n", r->num_float_ops ? "" : " none");
        for (uint32_t i = 0; i < r->num_float_ops; i++)
            put(&b, "  %-*s %-17s %s\n", wf, r->float_ops[i].op,
                qlite_op_name(r->float_ops[i].code), r->float_ops[i].reason);
    }
    if (r->num_kept) {
        put(&b, "tensors kept float32:\n");
        for (uint32_t i = 0; i < r->num_kept; i++)
            put(&b, "  %-40s %9llu  %s\n", r->kept[i].tensor,
                (unsigned long long)r->kept[i].elements, r->kept[i].reason);
    }
    if (r->num_comp) format_compression(&b, r);
    for (uint32_t i = 0; i < r->num_warnings; i++) put(&b, "warning: %s\n", r->warnings[i]);
    if (r->accuracy.samples) {
        const qlite_convert_accuracy *a = &r->accuracy;
        put(&b, "accuracy (%llu samples): float32 %.2f%%, %s %.2f%% (%+.2f points), %llu agree\n",
            (unsigned long long)a->samples, 100 * a->float_top1, mode_label(r),
            100 * a->converted_top1, 100 * (a->converted_top1 - a->float_top1),
            (unsigned long long)a->agree);
    }
    char a[32], o[32], w[32], ag[32], og[32], f[32];
    human(a, sizeof a, r->sizes.onnx_bytes);
    human(o, sizeof o, r->sizes.output_bytes);
    human(w, sizeof w, r->sizes.weight_bytes);
    human(ag, sizeof ag, r->sizes.onnx_gzip_bytes);
    human(og, sizeof og, r->sizes.output_gzip_bytes);
    put(&b, "size: ONNX %s (gzip %s) -> qlite %s (gzip %s; weights %s, %u tensors)", a, ag, o, og,
        w, r->sizes.tensors);
    if (r->sizes.float_bytes) {
        human(f, sizeof f, r->sizes.float_bytes);
        put(&b, ", %.1f%% of float32 (%s)",
            100.0 * (double)r->sizes.output_bytes / (double)r->sizes.float_bytes, f);
    }
    if (r->sizes.packed_weights) {
        human(w, sizeof w, r->sizes.packed_bytes);
        put(&b, "\npacked: %u weight%s in the kernels' layouts (O16 / O16I4, %s), read in place",
            r->sizes.packed_weights, r->sizes.packed_weights == 1 ? "" : "s", w);
    }
    put(&b, "\ntime: %.3f s\n", r->sizes.seconds);
    return b.len;
}

/* ---- JSON ------------------------------------------------------------------------- */

static void jstr(sbuf *b, const char *s) {
    put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') put(b, "\\%c", *p);
        else if (*p < 0x20) put(b, "\\u%04x", *p);
        else put(b, "%c", *p);
    }
    put(b, "\"");
}

static void jnum(sbuf *b, double v) {
    if (isnan(v)) put(b, "null");
    else if (isinf(v)) put(b, v > 0 ? "\"inf\"" : "\"-inf\"");
    else put(b, "%.9g", v);
}

size_t qlite_convert_report_json(const qlite_convert_report *r, char *buf, size_t size) {
    sbuf b = {buf, size, 0};
    if (size) buf[0] = 0;
    if (!r) return 0;
    const qlite_convert_sizes *s = &r->sizes;
    put(&b, "{\n  \"source\": ");
    jstr(&b, r->source);
    put(&b, ",\n  \"mode\": ");
    jstr(&b, qlite_convert_mode_name(r->mode));
    put(&b, ",\n  \"per_tensor\": %s,\n  \"io\": ", r->per_tensor ? "true" : "false");
    jstr(&b, r->mode == QLITE_CONVERT_INT8 ? qlite_convert_io_name(r->io) : "float");
    put(&b, ",\n  \"qdq\": %s,\n  \"nhwc_io\": %s,\n", r->qdq ? "true" : "false",
        r->nhwc_io ? "true" : "false");
    put(&b,
        "  \"sizes\": {\"onnx_bytes\": %llu, \"onnx_gzip_bytes\": %llu, \"output_bytes\": %llu, "
        "\"output_gzip_bytes\": %llu, \"float32_bytes\": %llu, \"weight_bytes\": %llu, "
        "\"tensors\": %u, \"packed_weights\": %u, \"packed_bytes\": %llu},\n",
        (unsigned long long)s->onnx_bytes, (unsigned long long)s->onnx_gzip_bytes,
        (unsigned long long)s->output_bytes, (unsigned long long)s->output_gzip_bytes,
        (unsigned long long)s->float_bytes, (unsigned long long)s->weight_bytes, s->tensors,
        s->packed_weights, (unsigned long long)s->packed_bytes);
    put(&b, "  \"seconds\": ");
    jnum(&b, s->seconds);
    put(&b, ",\n  \"onnx\": {\"opset\": %lld, \"nodes\": %u, \"types\": {", (long long)r->opset,
        r->onnx_nodes);
    for (uint32_t i = 0; i < r->num_types; i++) {
        put(&b, "%s", i ? ", " : "");
        jstr(&b, r->types[i].name);
        put(&b, ": %u", r->types[i].count);
    }
    put(&b, "}},\n  \"ops\": {\"count\": %u, \"by_code\": {", r->op_count);
    bool first = true;
    for (int c = 0; c < QLITE_OP_COUNT; c++) {
        if (!r->ops_of[c]) continue;
        put(&b, "%s\"%s\": %u", first ? "" : ", ", qlite_op_name((qlite_op_code)c), r->ops_of[c]);
        first = false;
    }
    put(&b, "}},\n  \"rewrites\": {");
    for (uint32_t i = 0; i < r->num_fusions; i++) {
        put(&b, "%s", i ? ", " : "");
        jstr(&b, r->fusions[i].kind);
        put(&b, ": %u", r->fusions[i].count);
    }
    put(&b, "},\n  \"calibration\": ");
    if (r->calib.samples) {
        put(&b, "{\"samples\": %llu, \"method\": ", (unsigned long long)r->calib.samples);
        jstr(&b, qlite_calibration_method_name(r->calib.method));
        put(&b, ", \"percentile\": ");
        if (r->calib.method == QLITE_CALIBRATION_PERCENTILE) jnum(&b, r->calib.percentile);
        else put(&b, "null");
        put(&b, ", \"seconds\": ");
        jnum(&b, r->calib.seconds);
        put(&b, "}");
    } else {
        put(&b, "null");
    }
    put(&b, ",\n  \"weights\": [");
    for (uint32_t i = 0; i < r->num_weights; i++) {
        const qlite_convert_weight_info *w = &r->weights[i];
        put(&b, "%s\n    {\"op\": ", i ? "," : "");
        jstr(&b, w->op);
        put(&b, ", \"code\": \"%s\", \"tensor\": ", qlite_op_name(w->code));
        jstr(&b, w->tensor);
        put(&b, ", \"dtype\": \"%s\", \"channels\": %u, \"elements\": %llu, \"sqnr_db\": ",
            qlite_dtype_name(w->dtype), w->channels, (unsigned long long)w->elements);
        jnum(&b, w->sqnr_db);
        put(&b, "}");
    }
    put(&b, "%s],\n  \"activations\": [", r->num_weights ? "\n  " : "");
    for (uint32_t i = 0; i < r->num_acts; i++) {
        const qlite_convert_activation_info *a = &r->acts[i];
        put(&b, "%s\n    {\"tensor\": ", i ? "," : "");
        jstr(&b, a->tensor);
        put(&b, ", \"dtype\": \"%s\", \"scale\": ", qlite_dtype_name(a->dtype));
        jnum(&b, a->scale);
        put(&b, ", \"zero_point\": %d, \"min\": ", a->zero_point);
        jnum(&b, a->min);
        put(&b, ", \"max\": ");
        jnum(&b, a->max);
        put(&b, ", \"source\": ");
        jstr(&b, a->source);
        put(&b, ", \"sqnr_db\": ");
        jnum(&b, a->sqnr_db);
        put(&b, "}");
    }
    put(&b, "%s],\n  \"float_ops\": [", r->num_acts ? "\n  " : "");
    for (uint32_t i = 0; i < r->num_float_ops; i++) {
        put(&b, "%s\n    {\"op\": ", i ? "," : "");
        jstr(&b, r->float_ops[i].op);
        put(&b, ", \"code\": \"%s\", \"reason\": ", qlite_op_name(r->float_ops[i].code));
        jstr(&b, r->float_ops[i].reason);
        put(&b, "}");
    }
    put(&b, "%s],\n  \"kept_float\": [", r->num_float_ops ? "\n  " : "");
    for (uint32_t i = 0; i < r->num_kept; i++) {
        put(&b, "%s\n    {\"tensor\": ", i ? "," : "");
        jstr(&b, r->kept[i].tensor);
        put(&b, ", \"elements\": %llu, \"reason\": ", (unsigned long long)r->kept[i].elements);
        jstr(&b, r->kept[i].reason);
        put(&b, "}");
    }
    put(&b, "%s],\n  \"warnings\": [", r->num_kept ? "\n  " : "");
    for (uint32_t i = 0; i < r->num_warnings; i++) {
        put(&b, "%s", i ? ", " : "");
        jstr(&b, r->warnings[i]);
    }
    put(&b, "],\n  \"compression\": {\"prune\": ");
    jnum(&b, r->prune);
    put(&b, ", \"prune_scope\": ");
    jstr(&b, qlite_prune_scope_name(r->prune_scope));
    put(&b, ", \"prune_norm\": ");
    jstr(&b, qlite_prune_norm_name(r->prune_norm));
    put(&b, ", \"prune_block\": [%u, %u], \"cluster\": %u, \"weights\": [",
        r->prune_block_rows, r->prune_block_cols, r->cluster);
    for (uint32_t i = 0; i < r->num_comp; i++) {
        const qlite_convert_compression_info *c = &r->comp[i].info;
        put(&b, "%s\n    {\"tensor\": ", i ? "," : "");
        jstr(&b, c->tensor);
        put(&b, ", \"op\": ");
        jstr(&b, c->op);
        put(&b, ", \"code\": \"%s\", \"rows\": %llu, \"cols\": %llu, \"dtype\": \"%s\", "
                "\"zeros\": %llu, \"pruned\": %s, \"skipped\": %s, \"clusters\": %u, "
                "\"block\": [%u, %u], \"palette\": %u, \"index_bits\": %u, \"per_row\": %s, "
                "\"dense_bytes\": %llu, \"stored_bytes\": %llu, \"sqnr_db\": ",
            qlite_op_name(c->code), (unsigned long long)c->rows, (unsigned long long)c->cols,
            qlite_dtype_name(c->dtype), (unsigned long long)c->zeros,
            c->pruned ? "true" : "false", c->skipped ? "true" : "false", c->clusters,
            c->block_rows, c->block_cols, c->palette, c->index_bits,
            c->per_row ? "true" : "false", (unsigned long long)c->dense_bytes,
            (unsigned long long)c->stored_bytes);
        jnum(&b, c->sqnr_db);
        put(&b, "}");
    }
    put(&b, "%s]}", r->num_comp ? "\n  " : "");
    put(&b, ",\n  \"accuracy\": ");
    if (r->accuracy.samples) {
        put(&b, "{\"samples\": %llu, \"float_top1\": ", (unsigned long long)r->accuracy.samples);
        jnum(&b, r->accuracy.float_top1);
        put(&b, ", \"converted_top1\": ");
        jnum(&b, r->accuracy.converted_top1);
        put(&b, ", \"agree\": %llu}", (unsigned long long)r->accuracy.agree);
    } else {
        put(&b, "null");
    }
    put(&b, "\n}\n");
    return b.len;
}
