/*
 * qlite-dump_common.c — sizes, names, option lists, gzip size and JSON
 * writers shared by every qlite-dump output.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "qlite-dump.h"

uint64_t dump_buffer_size(const qlite_model *m, uint32_t index) {
    qlite_buffer_info b;
    if (index == 0 || qlite_model_buffer(m, index, &b) != QLITE_OK) return 0;
    return b.size;
}

uint32_t dump_index_bytes(qlite_index_type t) {
    switch (t) {
    case QLITE_INDEX_UINT8: return 1;
    case QLITE_INDEX_UINT16: return 2;
    case QLITE_INDEX_UINT32: return 4;
    default: return 0;
    }
}

const char *dump_index_type_name(qlite_index_type t) {
    switch (t) {
    case QLITE_INDEX_UINT8: return "uint8";
    case QLITE_INDEX_UINT16: return "uint16";
    case QLITE_INDEX_UINT32: return "uint32";
    default: return "?";
    }
}

const char *dump_activation_name(qlite_activation a) {
    switch (a) {
    case QLITE_ACT_NONE: return "NONE";
    case QLITE_ACT_RELU: return "RELU";
    case QLITE_ACT_RELU6: return "RELU6";
    case QLITE_ACT_RELU_N1_TO_1: return "RELU_N1_TO_1";
    default: return "?";
    }
}

const char *dump_layout_name(qlite_layout l) {
    switch (l) {
    case QLITE_LAYOUT_DEFAULT: return "DEFAULT";
    case QLITE_LAYOUT_O16I4: return "O16I4";
    case QLITE_LAYOUT_O16: return "O16";
    default: return "?";
    }
}

static const char *pad_mode_name(qlite_pad_mode m) {
    switch (m) {
    case QLITE_PAD_CONSTANT: return "CONSTANT";
    case QLITE_PAD_REFLECT: return "REFLECT";
    case QLITE_PAD_EDGE: return "EDGE";
    default: return "?";
    }
}

static const char *resize_mode_name(qlite_resize_mode m) {
    switch (m) {
    case QLITE_RESIZE_NEAREST: return "NEAREST";
    case QLITE_RESIZE_LINEAR: return "LINEAR";
    default: return "?";
    }
}

static const char *coord_name(qlite_coord_transform c) {
    switch (c) {
    case QLITE_COORD_HALF_PIXEL: return "HALF_PIXEL";
    case QLITE_COORD_ASYMMETRIC: return "ASYMMETRIC";
    case QLITE_COORD_ALIGN_CORNERS: return "ALIGN_CORNERS";
    case QLITE_COORD_PYTORCH_HALF_PIXEL: return "PYTORCH_HALF_PIXEL";
    case QLITE_COORD_TF_HALF_PIXEL_FOR_NN: return "TF_HALF_PIXEL_FOR_NN";
    default: return "?";
    }
}

static const char *nearest_name(qlite_nearest_mode n) {
    switch (n) {
    case QLITE_NEAREST_ROUND_PREFER_FLOOR: return "ROUND_PREFER_FLOOR";
    case QLITE_NEAREST_ROUND_PREFER_CEIL: return "ROUND_PREFER_CEIL";
    case QLITE_NEAREST_FLOOR: return "FLOOR";
    case QLITE_NEAREST_CEIL: return "CEIL";
    default: return "?";
    }
}

static const char *direction_name(qlite_rnn_direction d) {
    switch (d) {
    case QLITE_RNN_FORWARD: return "FORWARD";
    case QLITE_RNN_REVERSE: return "REVERSE";
    case QLITE_RNN_BIDIRECTIONAL: return "BIDIRECTIONAL";
    default: return "?";
    }
}

void dump_float_range(const float *v, uint32_t count, float *lo, float *hi) {
    float a = v[0], b = v[0];
    for (uint32_t i = 1; i < count; i++) {
        if (v[i] < a) a = v[i];
        if (v[i] > b) b = v[i];
    }
    *lo = a;
    *hi = b;
}

void dump_int_range(const int32_t *v, uint32_t count, int32_t *lo, int32_t *hi) {
    int32_t a = v[0], b = v[0];
    for (uint32_t i = 1; i < count; i++) {
        if (v[i] < a) a = v[i];
        if (v[i] > b) b = v[i];
    }
    *lo = a;
    *hi = b;
}

/* ceil(a * bits / 8) without overflow for any a < 2^64 / 64. */
static uint64_t bits_to_bytes(uint64_t count, uint32_t bits) {
    uint64_t whole = (count / 8) * bits;
    uint64_t rest = ((count % 8) * bits + 7) / 8;
    return whole + rest;
}

void dump_tensor_sizes_get(const qlite_model *m, const qlite_tensor_info *t,
                           dump_tensor_sizes *out) {
    memset(out, 0, sizeof *out);
    out->elements_known = true;
    for (uint32_t i = 0; i < t->rank; i++)
        if (t->shape[i] < 0) out->elements_known = false;
    out->elements = qlite_shape_elements(t->rank, t->shape);
    out->dense_bytes = bits_to_bytes(out->elements, qlite_dtype_bits(t->dtype));
    out->stored_values = out->elements;
    if (t->buffer == 0) return;

    out->data_bytes = t->data_size;
    uint64_t rows = t->rank > 0 ? (uint64_t)(t->shape[0] > 0 ? t->shape[0] : 0) : 1;
    if (t->sparsity) {
        const qlite_sparsity *s = t->sparsity;
        uint64_t block = (uint64_t)s->block_rows * s->block_cols;
        out->stored_values = s->nnz_blocks * block;
        if (out->elements > 0 && out->stored_values <= out->elements)
            out->zero_fraction = 1.0 - (double)out->stored_values / (double)out->elements;
        uint64_t rp = dump_buffer_size(m, s->row_ptr_buffer);
        uint64_t ci = dump_buffer_size(m, s->col_index_buffer);
        if (s->row_ptr_buffer == 0 && s->block_rows > 0)
            rp = (rows / s->block_rows + 1) * dump_index_bytes(s->row_ptr_type);
        if (s->col_index_buffer == 0)
            ci = s->nnz_blocks * dump_index_bytes(s->col_index_type);
        out->aux_bytes += rp + ci;
    }
    if (t->clustering) {
        const qlite_clustering *k = t->clustering;
        uint64_t cb = dump_buffer_size(m, k->codebook_buffer);
        if (k->codebook_buffer == 0 && k->index_bits <= 8) {
            uint64_t entries = (uint64_t)1 << k->index_bits;
            if (k->per_row) entries *= rows;
            cb = bits_to_bytes(entries, qlite_dtype_bits(t->dtype));
        }
        out->aux_bytes += cb;
    }
}

uint64_t dump_data_section_offset(const qlite_model *m, uint64_t model_bytes) {
    uint64_t lo = model_bytes;
    uint32_t n = qlite_model_buffer_count(m);
    for (uint32_t i = 1; i < n; i++) {
        qlite_buffer_info b;
        if (qlite_model_buffer(m, i, &b) == QLITE_OK && b.size > 0 && b.offset < lo)
            lo = b.offset;
    }
    return lo;
}

int64_t dump_gzip_size(const void *data, size_t size) {
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16 = gzip wrapper, memLevel 8: what `gzip -6` uses. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    static unsigned char out[1 << 16];
    const unsigned char *p = data;
    size_t left = size;
    int64_t total = 0;
    int rc;
    do {
        size_t chunk = left > (1u << 20) ? (1u << 20) : left;
        z.next_in = (Bytef *)(uintptr_t)p;
        z.avail_in = (uInt)chunk;
        p += chunk;
        left -= chunk;
        int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            rc = deflate(&z, flush);
            if (rc == Z_STREAM_ERROR) {
                deflateEnd(&z);
                return -1;
            }
            total += (int64_t)(sizeof out - z.avail_out);
        } while (z.avail_out == 0);
    } while (left > 0);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? total : -1;
}

char *dump_shape_str(char *buf, size_t len, uint32_t rank, const int64_t *shape) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, len - n, "[");
    for (uint32_t i = 0; i < rank && n < len; i++) {
        if (shape[i] < 0)
            n += (size_t)snprintf(buf + n, len - n, "%s?", i ? "," : "");
        else
            n += (size_t)snprintf(buf + n, len - n, "%s%" PRId64, i ? "," : "", shape[i]);
    }
    if (n < len) snprintf(buf + n, len - n, "]");
    return buf;
}

char *dump_human_bytes(char *buf, size_t len, uint64_t bytes) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    unsigned u = 0;
    while (v >= 1024.0 && u + 1 < DUMP_ARRAY_SIZE(units)) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%" PRIu64 " B", bytes);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

/* ---- operator options ---------------------------------------------------- */

const char *dump_options_type_name(qlite_options_type t) {
    static const char *const names[] = {
        [QLITE_OPTIONS_NONE] = "none",
        [QLITE_OPTIONS_CONV_2D] = "conv2d",
        [QLITE_OPTIONS_POOL_2D] = "pool2d",
        [QLITE_OPTIONS_FULLY_CONNECTED] = "fully_connected",
        [QLITE_OPTIONS_BATCH_MATMUL] = "batch_matmul",
        [QLITE_OPTIONS_BINARY] = "binary",
        [QLITE_OPTIONS_ACTIVATION] = "activation",
        [QLITE_OPTIONS_SOFTMAX] = "softmax",
        [QLITE_OPTIONS_RESHAPE] = "reshape",
        [QLITE_OPTIONS_TRANSPOSE] = "transpose",
        [QLITE_OPTIONS_CONCATENATION] = "concatenation",
        [QLITE_OPTIONS_SPLIT] = "split",
        [QLITE_OPTIONS_SLICE] = "slice",
        [QLITE_OPTIONS_PAD] = "pad",
        [QLITE_OPTIONS_GATHER] = "gather",
        [QLITE_OPTIONS_REDUCE] = "reduce",
        [QLITE_OPTIONS_NORM] = "norm",
        [QLITE_OPTIONS_RESIZE] = "resize",
        [QLITE_OPTIONS_RNN] = "rnn",
        [QLITE_OPTIONS_CAST] = "cast",
    };
    _Static_assert(DUMP_ARRAY_SIZE(names) == QLITE_OPTIONS_COUNT, "names out of date");
    return (unsigned)t < QLITE_OPTIONS_COUNT ? names[t] : "?";
}

#define OPT_I(k, v) (items[n++] = (dump_opt){.key = (k), .kind = DUMP_OPT_INT, .i = (v)})
#define OPT_F(k, v) (items[n++] = (dump_opt){.key = (k), .kind = DUMP_OPT_FLOAT, .f = (v)})
#define OPT_B(k, v) (items[n++] = (dump_opt){.key = (k), .kind = DUMP_OPT_BOOL, .b = (v)})
#define OPT_E(k, v) (items[n++] = (dump_opt){.key = (k), .kind = DUMP_OPT_ENUM, .s = (v)})
#define OPT_L64(k, c, p) \
    (items[n++] = (dump_opt){.key = (k), .kind = DUMP_OPT_INTS, .n = (c), .i64s = (p)})
#define OPT_L32(k, c, p) \
    (items[n++] = (dump_opt){.key = (k), .kind = DUMP_OPT_INTS, .n = (c), .i32s = (p)})

uint32_t dump_op_options(const qlite_op_options *o, dump_opt *items) {
    uint32_t n = 0;
    switch (o->type) {
    case QLITE_OPTIONS_CONV_2D: {
        const qlite_conv2d_options *c = &o->u.conv2d;
        OPT_I("stride_h", c->stride_h);
        OPT_I("stride_w", c->stride_w);
        OPT_I("dilation_h", c->dilation_h);
        OPT_I("dilation_w", c->dilation_w);
        OPT_I("pad_top", c->pad_top);
        OPT_I("pad_left", c->pad_left);
        OPT_I("pad_bottom", c->pad_bottom);
        OPT_I("pad_right", c->pad_right);
        OPT_I("groups", c->groups);
        OPT_I("output_pad_h", c->output_pad_h);
        OPT_I("output_pad_w", c->output_pad_w);
        OPT_E("activation", dump_activation_name(c->activation));
        break;
    }
    case QLITE_OPTIONS_POOL_2D: {
        const qlite_pool2d_options *p = &o->u.pool2d;
        OPT_I("filter_h", p->filter_h);
        OPT_I("filter_w", p->filter_w);
        OPT_I("stride_h", p->stride_h);
        OPT_I("stride_w", p->stride_w);
        OPT_I("dilation_h", p->dilation_h);
        OPT_I("dilation_w", p->dilation_w);
        OPT_I("pad_top", p->pad_top);
        OPT_I("pad_left", p->pad_left);
        OPT_I("pad_bottom", p->pad_bottom);
        OPT_I("pad_right", p->pad_right);
        OPT_B("ceil_mode", p->ceil_mode);
        OPT_B("count_include_pad", p->count_include_pad);
        OPT_E("activation", dump_activation_name(p->activation));
        break;
    }
    case QLITE_OPTIONS_FULLY_CONNECTED:
        OPT_E("activation", dump_activation_name(o->u.fully_connected.activation));
        OPT_B("keep_num_dims", o->u.fully_connected.keep_num_dims);
        break;
    case QLITE_OPTIONS_BATCH_MATMUL:
        OPT_B("transpose_a", o->u.batch_matmul.transpose_a);
        OPT_B("transpose_b", o->u.batch_matmul.transpose_b);
        OPT_E("activation", dump_activation_name(o->u.batch_matmul.activation));
        break;
    case QLITE_OPTIONS_BINARY:
        OPT_E("activation", dump_activation_name(o->u.binary.activation));
        break;
    case QLITE_OPTIONS_ACTIVATION:
        OPT_F("alpha", o->u.activation.alpha);
        OPT_F("beta", o->u.activation.beta);
        OPT_F("min", o->u.activation.min);
        OPT_F("max", o->u.activation.max);
        OPT_B("approximate", o->u.activation.approximate);
        break;
    case QLITE_OPTIONS_SOFTMAX:
        OPT_I("axis", o->u.softmax.axis);
        OPT_F("beta", o->u.softmax.beta);
        break;
    case QLITE_OPTIONS_RESHAPE:
        OPT_L64("new_shape", o->u.reshape.rank, o->u.reshape.new_shape);
        break;
    case QLITE_OPTIONS_TRANSPOSE:
        OPT_L32("perm", o->u.transpose.rank, o->u.transpose.perm);
        break;
    case QLITE_OPTIONS_CONCATENATION:
        OPT_I("axis", o->u.concatenation.axis);
        OPT_E("activation", dump_activation_name(o->u.concatenation.activation));
        break;
    case QLITE_OPTIONS_SPLIT:
        OPT_I("axis", o->u.split.axis);
        OPT_L64("sizes", o->u.split.count, o->u.split.sizes);
        break;
    case QLITE_OPTIONS_SLICE:
        OPT_L64("starts", o->u.slice.count, o->u.slice.starts);
        OPT_L64("ends", o->u.slice.count, o->u.slice.ends);
        OPT_L32("axes", o->u.slice.count, o->u.slice.axes);
        OPT_L64("steps", o->u.slice.count, o->u.slice.steps);
        break;
    case QLITE_OPTIONS_PAD:
        OPT_L64("pads", o->u.pad.count, o->u.pad.pads);
        OPT_E("mode", pad_mode_name(o->u.pad.mode));
        OPT_F("value", o->u.pad.value);
        break;
    case QLITE_OPTIONS_GATHER:
        OPT_I("axis", o->u.gather.axis);
        break;
    case QLITE_OPTIONS_REDUCE:
        OPT_L32("axes", o->u.reduce.count, o->u.reduce.axes);
        OPT_B("keep_dims", o->u.reduce.keep_dims);
        break;
    case QLITE_OPTIONS_NORM:
        OPT_I("axis", o->u.norm.axis);
        OPT_F("epsilon", o->u.norm.epsilon);
        break;
    case QLITE_OPTIONS_RESIZE:
        OPT_E("mode", resize_mode_name(o->u.resize.mode));
        OPT_E("coordinate_transform", coord_name(o->u.resize.coordinate_transform));
        OPT_E("nearest_mode", nearest_name(o->u.resize.nearest_mode));
        OPT_I("out_h", o->u.resize.out_h);
        OPT_I("out_w", o->u.resize.out_w);
        OPT_F("scale_h", o->u.resize.scale_h);
        OPT_F("scale_w", o->u.resize.scale_w);
        OPT_F("cubic_coeff_a", o->u.resize.cubic_coeff_a);
        break;
    case QLITE_OPTIONS_RNN:
        OPT_I("hidden_size", o->u.rnn.hidden_size);
        OPT_E("direction", direction_name(o->u.rnn.direction));
        OPT_B("batch_first", o->u.rnn.batch_first);
        OPT_B("linear_before_reset", o->u.rnn.linear_before_reset);
        OPT_F("clip", o->u.rnn.clip);
        break;
    case QLITE_OPTIONS_CAST:
        OPT_E("to", qlite_dtype_name(o->u.cast.to));
        break;
    default:
        break;
    }
    return n;
}

/* Appends with snprintf semantics, never past len. */
static void app(char *buf, size_t len, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void app(char *buf, size_t len, size_t *n, const char *fmt, ...) {
    if (*n >= len) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, len - *n, fmt, ap);
    va_end(ap);
    if (w > 0) *n += (size_t)w;
    if (*n > len) *n = len;
}

static void app_ints(char *buf, size_t len, size_t *n, const dump_opt *it) {
    app(buf, len, n, "[");
    for (uint32_t k = 0; k < it->n; k++)
        app(buf, len, n, "%s%" PRId64, k ? "," : "",
            it->i64s ? it->i64s[k] : (int64_t)it->i32s[k]);
    app(buf, len, n, "]");
}

void dump_op_options_text(const qlite_op_options *o, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    if (o->type == QLITE_OPTIONS_CONV_2D) {
        const qlite_conv2d_options *c = &o->u.conv2d;
        app(buf, len, &n, "stride=%dx%d pad=%d,%d,%d,%d dilation=%dx%d groups=%d", c->stride_h,
            c->stride_w, c->pad_top, c->pad_left, c->pad_bottom, c->pad_right, c->dilation_h,
            c->dilation_w, c->groups);
        if (c->output_pad_h || c->output_pad_w)
            app(buf, len, &n, " output_pad=%dx%d", c->output_pad_h, c->output_pad_w);
        if (c->activation != QLITE_ACT_NONE)
            app(buf, len, &n, " act=%s", dump_activation_name(c->activation));
        return;
    }
    if (o->type == QLITE_OPTIONS_POOL_2D) {
        const qlite_pool2d_options *p = &o->u.pool2d;
        app(buf, len, &n, "filter=%dx%d stride=%dx%d pad=%d,%d,%d,%d", p->filter_h, p->filter_w,
            p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->pad_bottom, p->pad_right);
        if (p->dilation_h != 1 || p->dilation_w != 1)
            app(buf, len, &n, " dilation=%dx%d", p->dilation_h, p->dilation_w);
        if (p->ceil_mode) app(buf, len, &n, " ceil_mode");
        if (p->count_include_pad) app(buf, len, &n, " count_include_pad");
        if (p->activation != QLITE_ACT_NONE)
            app(buf, len, &n, " act=%s", dump_activation_name(p->activation));
        return;
    }
    dump_opt items[DUMP_MAX_OPTS];
    uint32_t count = dump_op_options(o, items);
    for (uint32_t i = 0; i < count; i++) {
        const dump_opt *it = &items[i];
        /* A fused activation of NONE says nothing: leave it out of the line. */
        if (it->kind == DUMP_OPT_ENUM && strcmp(it->key, "activation") == 0 &&
            strcmp(it->s, "NONE") == 0)
            continue;
        app(buf, len, &n, "%s%s=", n ? " " : "", strcmp(it->key, "activation") ? it->key : "act");
        switch (it->kind) {
        case DUMP_OPT_INT: app(buf, len, &n, "%" PRId64, it->i); break;
        case DUMP_OPT_FLOAT:
            if (it->f >= 3.4e38) app(buf, len, &n, "+max");
            else if (it->f <= -3.4e38) app(buf, len, &n, "-max");
            else app(buf, len, &n, "%.9g", it->f);
            break;
        case DUMP_OPT_BOOL: app(buf, len, &n, "%s", it->b ? "true" : "false"); break;
        case DUMP_OPT_ENUM: app(buf, len, &n, "%s", it->s); break;
        case DUMP_OPT_INTS: app_ints(buf, len, &n, it); break;
        }
    }
}

/* ---- JSON ---------------------------------------------------------------- */

void json_str(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            /* Control characters and DEL are escaped; bytes >= 0x80 pass
             * through (the schema's strings are UTF-8). */
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static bool json_nonfinite(FILE *f, double v) {
    if (isnan(v)) fputs("\"NaN\"", f);
    else if (isinf(v)) fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else return false;
    return true;
}

void json_num(FILE *f, double v) {
    if (json_nonfinite(f, v)) return;
    if (v == floor(v) && fabs(v) < 9.007199254740992e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.17g", v);
}

void json_f32(FILE *f, float v) {
    if (json_nonfinite(f, v)) return;
    if (v == floorf(v) && fabsf(v) < 16777216.0f)
        fprintf(f, "%.0f", (double)v);
    else
        fprintf(f, "%.9g", (double)v);
}
