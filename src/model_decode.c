/*
 * model_decode.c — from verified FlatBuffer to the plain C structs of
 * qlite.h, checking every value as it is read.
 *
 * Steps (qlite_model_decode):
 *   1. file identifier "QLTE" (else QLITE_ERR_NOT_QLITE);
 *   2. version: a bounds-checked peek at Model.version_major before anything
 *      else, so a file from a newer major version (whose layout may differ)
 *      gets QLITE_ERR_UNSUPPORTED_VERSION rather than a structural error;
 *   3. fb_verify() over the whole FlatBuffer (fb_schema.c descriptors);
 *   4. decode buffers (range rule), metadata, graph 0's tensors, inputs,
 *      outputs and operators into arena memory; enums below their counts,
 *      indices below their counts, vector lengths within their limits.
 *
 * Strings point into the model's bytes (the verifier checked their 0
 * terminators); every numeric array is copied (the C types differ from the
 * file's, e.g. int64 zero points become int32, and copies are aligned no
 * matter where the caller's memory is).
 *
 * Work budget: FlatBuffers lets many tables share one vector, so a small file
 * could make a naive decoder copy the same large vector a million times. The
 * copied bytes are therefore limited to 2 x the FlatBuffer's size + 1 MiB, far
 * above what any file without such sharing needs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fb_reader.h"
#include "fb_schema.h"
#include "model_internal.h"

/* Status for a value this reader does not know: the file may be from a newer
 * minor version (then the reader lacks a feature) or simply corrupt. */
static qlite_status unknown_value(const qlite_model *m, const char *fmt, ...) QLITE_PRINTF(2, 3);
static qlite_status unknown_value(const qlite_model *m, const char *fmt, ...) {
    char msg[QLITE_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m->version_major == QLITE_FORMAT_VERSION_MAJOR &&
        m->version_minor > QLITE_FORMAT_VERSION_MINOR)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "%s: the file is format %u.%u, this reader knows %u.%u (upgrade qlite)",
                           msg, m->version_major, m->version_minor, QLITE_FORMAT_VERSION_MAJOR,
                           QLITE_FORMAT_VERSION_MINOR);
    return qlite_error(QLITE_ERR_CORRUPT, "%s", msg);
}

/* Arena array of count elements, charged to the copy budget. */
static qlite_status alloc_array(qlite_model *m, uint64_t count, size_t elem, void **out,
                                const char *what) {
    *out = NULL;
    if (count == 0) return QLITE_OK;
    uint64_t bytes;
    if (qlite_mul_overflow_u64(count, elem, &bytes) || bytes > m->copy_budget)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: %llu elements exceed the decoding budget (vectors shared by "
                           "many tables?)",
                           what, (unsigned long long)count);
    m->copy_budget -= bytes;
    *out = qlite_arena_alloc(&m->arena, (size_t)bytes);
    if (!*out) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", what);
    return QLITE_OK;
}

static qlite_status copy_i32(qlite_model *m, const fb_vector *v, const int32_t **out,
                             const char *what) {
    int32_t *dst;
    qlite_status st = alloc_array(m, v->len, sizeof *dst, (void **)&dst, what);
    if (st) return st;
    for (uint32_t i = 0; i < v->len; i++) dst[i] = fb_vector_i32(v, i);
    *out = dst;
    return QLITE_OK;
}

static qlite_status copy_i64(qlite_model *m, const fb_vector *v, const int64_t **out,
                             const char *what) {
    int64_t *dst;
    qlite_status st = alloc_array(m, v->len, sizeof *dst, (void **)&dst, what);
    if (st) return st;
    for (uint32_t i = 0; i < v->len; i++) dst[i] = fb_vector_i64(v, i);
    *out = dst;
    return QLITE_OK;
}

static qlite_status copy_f32(qlite_model *m, const fb_vector *v, const float **out,
                             const char *what) {
    float *dst;
    qlite_status st = alloc_array(m, v->len, sizeof *dst, (void **)&dst, what);
    if (st) return st;
    for (uint32_t i = 0; i < v->len; i++) dst[i] = fb_vector_f32(v, i);
    *out = dst;
    return QLITE_OK;
}

static const char *string_or_empty(const fb_table *t, unsigned id) {
    const char *s = fb_get_string(t, id, NULL);
    return s ? s : "";
}

/* ------------------------------------------------------------------------ */
/* Buffers and metadata                                                      */
/* ------------------------------------------------------------------------ */

static qlite_status decode_buffers(qlite_model *m, const fb_table *root) {
    fb_vector v;
    fb_get_vector(root, FB_MODEL_BUFFERS, &v);
    m->num_buffers = v.len;
    if (!v.len) return QLITE_OK;
    m->buffers = qlite_arena_alloc(&m->arena, (size_t)v.len * sizeof *m->buffers);
    if (!m->buffers) return qlite_error(QLITE_ERR_NO_MEMORY, "buffers: out of memory");
    for (uint32_t i = 0; i < v.len; i++) {
        fb_table t = fb_vector_table(&v, i);
        qlite_buffer_info *b = &m->buffers[i];
        b->offset = fb_get_u64(&t, FB_BUFFER_OFFSET, 0);
        b->size = fb_get_u64(&t, FB_BUFFER_SIZE, 0);
        b->crc32 = fb_get_u32(&t, FB_BUFFER_CRC32, 0);
        if (i == 0 && b->size != 0)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "buffer 0 must be empty (index 0 means 'no data') but has %llu "
                               "bytes",
                               (unsigned long long)b->size);
        qlite_status st = qlite_check_buffer_range(i, b->offset, b->size, m->size, m->fb_extent);
        if (st) return st;
        b->data = b->size ? m->bytes + b->offset : NULL;
    }
    return QLITE_OK;
}

static qlite_status decode_metadata(qlite_model *m, const fb_table *root) {
    fb_vector v;
    fb_get_vector(root, FB_MODEL_METADATA, &v);
    m->num_metadata = v.len;
    if (!v.len) return QLITE_OK;
    m->metadata = qlite_arena_alloc(&m->arena, (size_t)v.len * sizeof *m->metadata);
    if (!m->metadata) return qlite_error(QLITE_ERR_NO_MEMORY, "metadata: out of memory");
    for (uint32_t i = 0; i < v.len; i++) {
        fb_table t = fb_vector_table(&v, i);
        qlite_metadata *md = &m->metadata[i];
        md->key = string_or_empty(&t, FB_METADATA_KEY);
        md->value = string_or_empty(&t, FB_METADATA_VALUE);
        md->buffer = fb_get_u32(&t, FB_METADATA_BUFFER, 0);
        if (md->buffer >= m->num_buffers && md->buffer != 0)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "metadata %u ('%s'): buffer %u out of range (%u buffers)", i,
                               md->key, md->buffer, m->num_buffers);
        if (md->buffer) {
            md->data = m->buffers[md->buffer].data;
            md->size = m->buffers[md->buffer].size;
        }
    }
    return QLITE_OK;
}

/* ------------------------------------------------------------------------ */
/* Tensors                                                                   */
/* ------------------------------------------------------------------------ */

static qlite_status check_buffer_index(const qlite_model *m, uint32_t ti, const char *name,
                                       const char *field, uint32_t index) {
    if (index < m->num_buffers || index == 0) return QLITE_OK;
    return qlite_error(QLITE_ERR_CORRUPT, "tensor %u '%s': %s %u out of range (%u buffers)", ti,
                       name, field, index, m->num_buffers);
}

static const void *buffer_data(const qlite_model *m, uint32_t index) {
    return index && index < m->num_buffers ? m->buffers[index].data : NULL;
}

static qlite_status decode_quant(qlite_model *m, uint32_t ti, qlite_tensor_info *info,
                                 const fb_table *q) {
    char what[96];
    snprintf(what, sizeof what, "tensor %u '%s' quantization", ti, info->name);
    fb_vector scale, zp, mn, mx;
    fb_get_vector(q, FB_QUANT_SCALE, &scale);
    fb_get_vector(q, FB_QUANT_ZERO_POINT, &zp);
    fb_get_vector(q, FB_QUANT_MIN, &mn);
    fb_get_vector(q, FB_QUANT_MAX, &mx);
    if (scale.len == 0)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: no scale (a Quantization needs >= 1)", what);
    if (zp.len != 0 && zp.len != scale.len)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: %u zero points for %u scales", what, zp.len,
                           scale.len);
    if (mn.len != mx.len)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: %u min values but %u max values", what, mn.len,
                           mx.len);
    if (mn.len != 0 && mn.len != scale.len)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: calibration range has %u entries, expected 0 or %u", what, mn.len,
                           scale.len);
    qlite_quant *qt = qlite_arena_alloc(&m->arena, sizeof *qt);
    if (!qt) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", what);
    qt->count = scale.len;
    qt->axis = fb_get_i32(q, FB_QUANT_AXIS, 0);
    qt->range_count = mn.len;
    qlite_status st;
    if ((st = copy_f32(m, &scale, &qt->scale, what))) return st;
    if ((st = copy_f32(m, &mn, &qt->min, what))) return st;
    if ((st = copy_f32(m, &mx, &qt->max, what))) return st;
    int32_t *z;
    if ((st = alloc_array(m, scale.len, sizeof *z, (void **)&z, what))) return st;
    for (uint32_t i = 0; i < zp.len; i++) {
        int64_t v = fb_vector_i64(&zp, i);
        if (v < INT32_MIN || v > INT32_MAX)
            return qlite_error(QLITE_ERR_CORRUPT, "%s: zero_point[%u] = %lld is out of range for %s",
                               what, i, (long long)v, qlite_dtype_name(info->dtype));
        z[i] = (int32_t)v;
    }
    qt->zero_point = z;
    info->quant = qt;
    return QLITE_OK;
}

static qlite_status decode_sparsity(qlite_model *m, uint32_t ti, qlite_tensor_info *info,
                                    const fb_table *s) {
    qlite_sparsity *sp = qlite_arena_alloc(&m->arena, sizeof *sp);
    if (!sp) return qlite_error(QLITE_ERR_NO_MEMORY, "tensor %u: out of memory", ti);
    int32_t br = fb_get_i32(s, FB_SPARSITY_BLOCK_ROWS, 1);
    int32_t bc = fb_get_i32(s, FB_SPARSITY_BLOCK_COLS, 1);
    if (br < 1 || bc < 1)
        return qlite_error(QLITE_ERR_CORRUPT, "tensor %u '%s': sparse block %dx%d (must be >= 1)",
                           ti, info->name, br, bc);
    int8_t rt = fb_get_i8(s, FB_SPARSITY_ROW_PTR_TYPE, 0);
    int8_t ct = fb_get_i8(s, FB_SPARSITY_COL_INDEX_TYPE, 0);
    if (rt < 0 || rt >= QLITE_INDEX_COUNT)
        return unknown_value(m, "tensor %u '%s': unknown row_ptr_type %d", ti, info->name, rt);
    if (ct < 0 || ct >= QLITE_INDEX_COUNT)
        return unknown_value(m, "tensor %u '%s': unknown col_index_type %d", ti, info->name, ct);
    sp->block_rows = (uint32_t)br;
    sp->block_cols = (uint32_t)bc;
    sp->row_ptr_type = (qlite_index_type)rt;
    sp->col_index_type = (qlite_index_type)ct;
    sp->row_ptr_buffer = fb_get_u32(s, FB_SPARSITY_ROW_PTR_BUFFER, 0);
    sp->col_index_buffer = fb_get_u32(s, FB_SPARSITY_COL_INDEX_BUFFER, 0);
    sp->nnz_blocks = fb_get_u64(s, FB_SPARSITY_NNZ_BLOCKS, 0);
    qlite_status st;
    if ((st = check_buffer_index(m, ti, info->name, "row_ptr_buffer", sp->row_ptr_buffer)))
        return st;
    if ((st = check_buffer_index(m, ti, info->name, "col_index_buffer", sp->col_index_buffer)))
        return st;
    sp->row_ptr = buffer_data(m, sp->row_ptr_buffer);
    sp->col_index = buffer_data(m, sp->col_index_buffer);
    info->sparsity = sp;
    return QLITE_OK;
}

static qlite_status decode_clustering(qlite_model *m, uint32_t ti, qlite_tensor_info *info,
                                      const fb_table *c) {
    qlite_clustering *cl = qlite_arena_alloc(&m->arena, sizeof *cl);
    if (!cl) return qlite_error(QLITE_ERR_NO_MEMORY, "tensor %u: out of memory", ti);
    int32_t k = fb_get_i32(c, FB_CLUSTERING_NUM_CLUSTERS, 0);
    int32_t bits = fb_get_i32(c, FB_CLUSTERING_INDEX_BITS, 0);
    if (k < 2 || k > 256)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "tensor %u '%s': clustering with %d clusters (must be 2..256)", ti,
                           info->name, k);
    if (bits < 1 || bits > 8)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "tensor %u '%s': clustering index_bits %d (must be 1..8)", ti,
                           info->name, bits);
    cl->num_clusters = (uint32_t)k;
    cl->index_bits = (uint32_t)bits;
    cl->per_row = fb_get_bool(c, FB_CLUSTERING_PER_ROW, false);
    cl->codebook_buffer = fb_get_u32(c, FB_CLUSTERING_CODEBOOK_BUFFER, 0);
    qlite_status st = check_buffer_index(m, ti, info->name, "codebook_buffer", cl->codebook_buffer);
    if (st) return st;
    cl->codebook = buffer_data(m, cl->codebook_buffer);
    info->clustering = cl;
    return QLITE_OK;
}

static qlite_status decode_tensor(qlite_model *m, uint32_t ti, const fb_table *t,
                                  qlite_tensor_info *info) {
    info->name = string_or_empty(t, FB_TENSOR_NAME);
    fb_vector shape;
    fb_get_vector(t, FB_TENSOR_SHAPE, &shape);
    if (shape.len > QLITE_MAX_RANK)
        return qlite_error(QLITE_ERR_CORRUPT, "tensor %u '%s': rank %u exceeds the maximum of %d",
                           ti, info->name, shape.len, QLITE_MAX_RANK);
    info->rank = shape.len;
    if (shape.len) {
        int64_t *dims = qlite_arena_alloc(&m->arena, shape.len * sizeof *dims);
        if (!dims) return qlite_error(QLITE_ERR_NO_MEMORY, "tensor %u: out of memory", ti);
        for (uint32_t i = 0; i < shape.len; i++) dims[i] = fb_vector_i64(&shape, i);
        info->shape = dims;
    }
    int8_t dtype = fb_get_i8(t, FB_TENSOR_DTYPE, 0);
    if (dtype < 0 || dtype >= QLITE_DTYPE_COUNT)
        return unknown_value(m, "tensor %u '%s': unknown dtype %d", ti, info->name, dtype);
    info->dtype = (qlite_dtype)dtype;
    int8_t layout = fb_get_i8(t, FB_TENSOR_LAYOUT, 0);
    if (layout < 0 || layout >= QLITE_LAYOUT_COUNT)
        return unknown_value(m, "tensor %u '%s': unknown weight layout %d", ti, info->name, layout);
    info->layout = (qlite_layout)layout;
    info->buffer = fb_get_u32(t, FB_TENSOR_BUFFER, 0);
    qlite_status st = check_buffer_index(m, ti, info->name, "buffer", info->buffer);
    if (st) return st;
    if (info->buffer) {
        info->data = m->buffers[info->buffer].data;
        info->data_size = m->buffers[info->buffer].size;
    }
    fb_table sub;
    if (fb_get_table(t, FB_TENSOR_QUANTIZATION, &sub) && (st = decode_quant(m, ti, info, &sub)))
        return st;
    if (fb_get_table(t, FB_TENSOR_SPARSITY, &sub) && (st = decode_sparsity(m, ti, info, &sub)))
        return st;
    if (fb_get_table(t, FB_TENSOR_CLUSTERING, &sub) &&
        (st = decode_clustering(m, ti, info, &sub)))
        return st;
    return QLITE_OK;
}

/* ------------------------------------------------------------------------ */
/* Operators and their options                                               */
/* ------------------------------------------------------------------------ */

typedef struct op_label {
    uint32_t index;
    qlite_op_code code;
    const char *name;
} op_label;

#define OPF "op %u %s '%s'"
#define OPA(l) (l)->index, qlite_op_name((l)->code), (l)->name

static qlite_status check_activation(const qlite_model *m, const op_label *l, int8_t v,
                                     qlite_activation *out) {
    if (v < 0 || v >= QLITE_ACT_COUNT)
        return unknown_value(m, OPF ": unknown fused activation %d", OPA(l), v);
    *out = (qlite_activation)v;
    return QLITE_OK;
}

/* Copies an options vector of at most max_len elements (0 = no limit). */
static qlite_status opt_vector(qlite_model *m, const op_label *l, const fb_table *t, unsigned id,
                               const char *field, uint32_t max_len, fb_vector *v) {
    fb_get_vector(t, id, v);
    if (max_len && v->len > max_len)
        return qlite_error(QLITE_ERR_CORRUPT, OPF ": options.%s has %u entries (at most %u)",
                           OPA(l), field, v->len, max_len);
    (void)m;
    return QLITE_OK;
}

static qlite_status decode_options(qlite_model *m, const op_label *l, uint8_t type,
                                   const fb_table *t, qlite_op_options *o) {
    if (type == QLITE_OPTIONS_NONE) {
        qlite_op_options_default(qlite_op_options_type(l->code), o);
        return QLITE_OK;
    }
    qlite_op_options_default((qlite_options_type)type, o);
    if (!t) return QLITE_OK; /* a type without a table: all defaults */
    char what[96];
    snprintf(what, sizeof what, OPF " options", OPA(l));
    qlite_status st = QLITE_OK;
    fb_vector v, v2, v3, v4;
    switch ((qlite_options_type)type) {
    case QLITE_OPTIONS_CONV_2D: {
        qlite_conv2d_options *c = &o->u.conv2d;
        c->stride_h = fb_get_i32(t, FB_CONV_STRIDE_H, 1);
        c->stride_w = fb_get_i32(t, FB_CONV_STRIDE_W, 1);
        c->dilation_h = fb_get_i32(t, FB_CONV_DILATION_H, 1);
        c->dilation_w = fb_get_i32(t, FB_CONV_DILATION_W, 1);
        c->pad_top = fb_get_i32(t, FB_CONV_PAD_TOP, 0);
        c->pad_left = fb_get_i32(t, FB_CONV_PAD_LEFT, 0);
        c->pad_bottom = fb_get_i32(t, FB_CONV_PAD_BOTTOM, 0);
        c->pad_right = fb_get_i32(t, FB_CONV_PAD_RIGHT, 0);
        c->groups = fb_get_i32(t, FB_CONV_GROUPS, 1);
        c->output_pad_h = fb_get_i32(t, FB_CONV_OUTPUT_PAD_H, 0);
        c->output_pad_w = fb_get_i32(t, FB_CONV_OUTPUT_PAD_W, 0);
        return check_activation(m, l, fb_get_i8(t, FB_CONV_ACTIVATION, 0), &c->activation);
    }
    case QLITE_OPTIONS_POOL_2D: {
        qlite_pool2d_options *p = &o->u.pool2d;
        p->filter_h = fb_get_i32(t, FB_POOL_FILTER_H, 0);
        p->filter_w = fb_get_i32(t, FB_POOL_FILTER_W, 0);
        p->stride_h = fb_get_i32(t, FB_POOL_STRIDE_H, 1);
        p->stride_w = fb_get_i32(t, FB_POOL_STRIDE_W, 1);
        p->dilation_h = fb_get_i32(t, FB_POOL_DILATION_H, 1);
        p->dilation_w = fb_get_i32(t, FB_POOL_DILATION_W, 1);
        p->pad_top = fb_get_i32(t, FB_POOL_PAD_TOP, 0);
        p->pad_left = fb_get_i32(t, FB_POOL_PAD_LEFT, 0);
        p->pad_bottom = fb_get_i32(t, FB_POOL_PAD_BOTTOM, 0);
        p->pad_right = fb_get_i32(t, FB_POOL_PAD_RIGHT, 0);
        p->ceil_mode = fb_get_bool(t, FB_POOL_CEIL_MODE, false);
        p->count_include_pad = fb_get_bool(t, FB_POOL_COUNT_INCLUDE_PAD, false);
        return check_activation(m, l, fb_get_i8(t, FB_POOL_ACTIVATION, 0), &p->activation);
    }
    case QLITE_OPTIONS_FULLY_CONNECTED:
        o->u.fully_connected.keep_num_dims = fb_get_bool(t, FB_FC_KEEP_NUM_DIMS, true);
        return check_activation(m, l, fb_get_i8(t, FB_FC_ACTIVATION, 0),
                                &o->u.fully_connected.activation);
    case QLITE_OPTIONS_BATCH_MATMUL:
        o->u.batch_matmul.transpose_a = fb_get_bool(t, FB_BMM_TRANSPOSE_A, false);
        o->u.batch_matmul.transpose_b = fb_get_bool(t, FB_BMM_TRANSPOSE_B, false);
        return check_activation(m, l, fb_get_i8(t, FB_BMM_ACTIVATION, 0),
                                &o->u.batch_matmul.activation);
    case QLITE_OPTIONS_BINARY:
        return check_activation(m, l, fb_get_i8(t, FB_BINARY_ACTIVATION, 0),
                                &o->u.binary.activation);
    case QLITE_OPTIONS_ACTIVATION: {
        qlite_activation_options *a = &o->u.activation;
        a->alpha = fb_get_f32(t, FB_ACT_ALPHA, 0.0f);
        a->beta = fb_get_f32(t, FB_ACT_BETA, 0.0f);
        a->min = fb_get_f32(t, FB_ACT_MIN, a->min);
        a->max = fb_get_f32(t, FB_ACT_MAX, a->max);
        a->approximate = fb_get_bool(t, FB_ACT_APPROXIMATE, false);
        return QLITE_OK;
    }
    case QLITE_OPTIONS_SOFTMAX:
        o->u.softmax.axis = fb_get_i32(t, FB_SOFTMAX_AXIS, -1);
        o->u.softmax.beta = fb_get_f32(t, FB_SOFTMAX_BETA, 1.0f);
        return QLITE_OK;
    case QLITE_OPTIONS_RESHAPE:
        if ((st = opt_vector(m, l, t, FB_RESHAPE_NEW_SHAPE, "new_shape", QLITE_MAX_RANK, &v)))
            return st;
        o->u.reshape.rank = v.len;
        return copy_i64(m, &v, &o->u.reshape.new_shape, what);
    case QLITE_OPTIONS_TRANSPOSE:
        if ((st = opt_vector(m, l, t, FB_TRANSPOSE_PERM, "perm", QLITE_MAX_RANK, &v))) return st;
        o->u.transpose.rank = v.len;
        return copy_i32(m, &v, &o->u.transpose.perm, what);
    case QLITE_OPTIONS_CONCATENATION:
        o->u.concatenation.axis = fb_get_i32(t, FB_CONCAT_AXIS, 0);
        return check_activation(m, l, fb_get_i8(t, FB_CONCAT_ACTIVATION, 0),
                                &o->u.concatenation.activation);
    case QLITE_OPTIONS_SPLIT:
        o->u.split.axis = fb_get_i32(t, FB_SPLIT_AXIS, 0);
        if ((st = opt_vector(m, l, t, FB_SPLIT_SIZES, "sizes", 0, &v))) return st;
        o->u.split.count = v.len;
        return copy_i64(m, &v, &o->u.split.sizes, what);
    case QLITE_OPTIONS_SLICE: {
        qlite_slice_options *s = &o->u.slice;
        if ((st = opt_vector(m, l, t, FB_SLICE_STARTS, "starts", QLITE_MAX_RANK, &v)) ||
            (st = opt_vector(m, l, t, FB_SLICE_ENDS, "ends", QLITE_MAX_RANK, &v2)) ||
            (st = opt_vector(m, l, t, FB_SLICE_AXES, "axes", QLITE_MAX_RANK, &v3)) ||
            (st = opt_vector(m, l, t, FB_SLICE_STEPS, "steps", QLITE_MAX_RANK, &v4)))
            return st;
        if (v2.len != v.len || (v3.len && v3.len != v.len) || (v4.len && v4.len != v.len))
            return qlite_error(QLITE_ERR_CORRUPT,
                               "%s: starts/ends/axes/steps have %u/%u/%u/%u entries (ends must "
                               "match starts; axes and steps may be absent)",
                               what, v.len, v2.len, v3.len, v4.len);
        s->count = v.len;
        if ((st = copy_i64(m, &v, &s->starts, what)) || (st = copy_i64(m, &v2, &s->ends, what)))
            return st;
        if (v.len == 0) return QLITE_OK;
        /* Absent axes mean 0..count-1, absent steps mean 1. */
        int32_t *axes;
        int64_t *steps;
        if ((st = alloc_array(m, v.len, sizeof *axes, (void **)&axes, what)) ||
            (st = alloc_array(m, v.len, sizeof *steps, (void **)&steps, what)))
            return st;
        for (uint32_t i = 0; i < v.len; i++) {
            axes[i] = v3.len ? fb_vector_i32(&v3, i) : (int32_t)i;
            steps[i] = v4.len ? fb_vector_i64(&v4, i) : 1;
        }
        s->axes = axes;
        s->steps = steps;
        return QLITE_OK;
    }
    case QLITE_OPTIONS_PAD: {
        if ((st = opt_vector(m, l, t, FB_PAD_PADS, "pads", 2 * QLITE_MAX_RANK, &v))) return st;
        if (v.len % 2)
            return qlite_error(QLITE_ERR_CORRUPT, "%s: pads has %u entries (must be 2 x rank)",
                               what, v.len);
        int8_t mode = fb_get_i8(t, FB_PAD_MODE, 0);
        if (mode < 0 || mode >= QLITE_PAD_MODE_COUNT)
            return unknown_value(m, "%s: unknown pad mode %d", what, mode);
        o->u.pad.mode = (qlite_pad_mode)mode;
        o->u.pad.value = fb_get_f32(t, FB_PAD_VALUE, 0.0f);
        o->u.pad.count = v.len;
        return copy_i64(m, &v, &o->u.pad.pads, what);
    }
    case QLITE_OPTIONS_GATHER:
        o->u.gather.axis = fb_get_i32(t, FB_GATHER_AXIS, 0);
        return QLITE_OK;
    case QLITE_OPTIONS_REDUCE:
        if ((st = opt_vector(m, l, t, FB_REDUCE_AXES, "axes", QLITE_MAX_RANK, &v))) return st;
        o->u.reduce.keep_dims = fb_get_bool(t, FB_REDUCE_KEEP_DIMS, true);
        o->u.reduce.count = v.len;
        return copy_i32(m, &v, &o->u.reduce.axes, what);
    case QLITE_OPTIONS_NORM:
        o->u.norm.axis = fb_get_i32(t, FB_NORM_AXIS, -1);
        o->u.norm.epsilon = fb_get_f32(t, FB_NORM_EPSILON, 1e-5f);
        return QLITE_OK;
    case QLITE_OPTIONS_RESIZE: {
        qlite_resize_options *r = &o->u.resize;
        int8_t mode = fb_get_i8(t, FB_RESIZE_MODE, 0);
        int8_t coord = fb_get_i8(t, FB_RESIZE_COORD, 0);
        int8_t nearest = fb_get_i8(t, FB_RESIZE_NEAREST_MODE, 0);
        if (mode < 0 || mode >= QLITE_RESIZE_MODE_COUNT)
            return unknown_value(m, "%s: unknown resize mode %d", what, mode);
        if (coord < 0 || coord >= QLITE_COORD_COUNT)
            return unknown_value(m, "%s: unknown coordinate transform %d", what, coord);
        if (nearest < 0 || nearest >= QLITE_NEAREST_COUNT)
            return unknown_value(m, "%s: unknown nearest mode %d", what, nearest);
        r->mode = (qlite_resize_mode)mode;
        r->coordinate_transform = (qlite_coord_transform)coord;
        r->nearest_mode = (qlite_nearest_mode)nearest;
        r->out_h = fb_get_i32(t, FB_RESIZE_OUT_H, 0);
        r->out_w = fb_get_i32(t, FB_RESIZE_OUT_W, 0);
        r->scale_h = fb_get_f32(t, FB_RESIZE_SCALE_H, 0.0f);
        r->scale_w = fb_get_f32(t, FB_RESIZE_SCALE_W, 0.0f);
        r->cubic_coeff_a = fb_get_f32(t, FB_RESIZE_CUBIC_COEFF_A, -0.75f);
        return QLITE_OK;
    }
    case QLITE_OPTIONS_RNN: {
        qlite_rnn_options *r = &o->u.rnn;
        int8_t dir = fb_get_i8(t, FB_RNN_DIRECTION, 0);
        if (dir < 0 || dir >= QLITE_RNN_DIRECTION_COUNT)
            return unknown_value(m, "%s: unknown RNN direction %d", what, dir);
        r->direction = (qlite_rnn_direction)dir;
        r->hidden_size = fb_get_i32(t, FB_RNN_HIDDEN_SIZE, 0);
        r->batch_first = fb_get_bool(t, FB_RNN_BATCH_FIRST, false);
        r->linear_before_reset = fb_get_bool(t, FB_RNN_LINEAR_BEFORE_RESET, false);
        r->clip = fb_get_f32(t, FB_RNN_CLIP, 0.0f);
        return QLITE_OK;
    }
    case QLITE_OPTIONS_CAST: {
        int8_t to = fb_get_i8(t, FB_CAST_TO, 0);
        if (to < 0 || to >= QLITE_DTYPE_COUNT)
            return unknown_value(m, "%s: unknown cast target dtype %d", what, to);
        o->u.cast.to = (qlite_dtype)to;
        return QLITE_OK;
    }
    case QLITE_OPTIONS_NONE:
    case QLITE_OPTIONS_COUNT:
        break;
    }
    return unknown_value(m, "%s: unknown options type %u", what, type);
}

static qlite_status decode_op(qlite_model *m, uint32_t oi, const fb_table *t, qlite_op_info *op) {
    int32_t code = fb_get_i32(t, FB_OP_OPCODE, 0);
    op->name = string_or_empty(t, FB_OP_NAME);
    if (code < 0 || code >= QLITE_OP_COUNT)
        return unknown_value(m, "op %u '%s': unknown op code %d", oi, op->name, code);
    op->code = (qlite_op_code)code;
    op_label l = {oi, op->code, op->name};
    char what[96];
    snprintf(what, sizeof what, OPF, OPA(&l));
    fb_vector v;
    qlite_status st;
    fb_get_vector(t, FB_OP_INPUTS, &v);
    op->num_inputs = v.len;
    if ((st = copy_i32(m, &v, &op->inputs, what))) return st;
    fb_get_vector(t, FB_OP_OUTPUTS, &v);
    op->num_outputs = v.len;
    if ((st = copy_i32(m, &v, &op->outputs, what))) return st;
    uint8_t type = fb_get_u8(t, FB_OP_OPTIONS_TYPE, 0);
    fb_table opt;
    bool has = fb_get_table(t, FB_OP_OPTIONS, &opt);
    return decode_options(m, &l, type, has ? &opt : NULL, &op->options);
}

/* ------------------------------------------------------------------------ */
/* Model                                                                     */
/* ------------------------------------------------------------------------ */

qlite_status qlite_model_decode(qlite_model *m, const qlite_open_limits *limits) {
    const uint8_t *b = m->bytes;
    size_t n = m->size;
    if (n < 8)
        return qlite_error(QLITE_ERR_NOT_QLITE, "not a qlite file: %zu bytes is too short", n);
    if (memcmp(b + 4, QLITE_FILE_IDENTIFIER, 4) != 0)
        return fb_verify(b, n, &fb_desc_Model, QLITE_FILE_IDENTIFIER, NULL, NULL);

    /* The version first: a newer major may have a different layout. */
    uint32_t major = 0, minor = 0;
    if (fb_peek_root_u32(b, n, FB_MODEL_VERSION_MAJOR, 0, &major) &&
        fb_peek_root_u32(b, n, FB_MODEL_VERSION_MINOR, 0, &minor) &&
        major > QLITE_FORMAT_VERSION_MAJOR)
        return qlite_error(QLITE_ERR_UNSUPPORTED_VERSION,
                           "the file is format version %u.%u; this reader supports %u.x "
                           "(up to %u.%u): upgrade qlite",
                           major, minor, QLITE_FORMAT_VERSION_MAJOR, QLITE_FORMAT_VERSION_MAJOR,
                           QLITE_FORMAT_VERSION_MINOR);
    m->version_major = major;
    m->version_minor = minor;

    fb_verify_options vo = {0};
    vo.max_tables = limits ? limits->max_tables : 0;
    vo.max_depth = limits ? limits->max_depth : 0;
    vo.unknown_union_status =
        major == QLITE_FORMAT_VERSION_MAJOR && minor > QLITE_FORMAT_VERSION_MINOR
            ? QLITE_ERR_UNSUPPORTED
            : QLITE_ERR_CORRUPT;
    fb_verify_result vr;
    qlite_status st = fb_verify(b, n, &fb_desc_Model, QLITE_FILE_IDENTIFIER, &vo, &vr);
    if (st) return st;
    m->fb_extent = vr.extent;
    m->copy_budget = 2 * vr.extent + (1u << 20);
    m->scan_budget = 2 * (uint64_t)n + (1u << 20);

    fb_table root = fb_root(b);
    m->version_major = fb_get_u32(&root, FB_MODEL_VERSION_MAJOR, 0);
    m->version_minor = fb_get_u32(&root, FB_MODEL_VERSION_MINOR, 0);
    if (m->version_major == 0)
        return qlite_error(QLITE_ERR_CORRUPT, "Model.version_major is 0 or missing");
    m->producer = string_or_empty(&root, FB_MODEL_PRODUCER);
    m->description = string_or_empty(&root, FB_MODEL_DESCRIPTION);

    fb_vector graphs;
    fb_get_vector(&root, FB_MODEL_GRAPHS, &graphs);
    if (graphs.len == 0) return qlite_error(QLITE_ERR_CORRUPT, "the model has no graph");
    m->num_graphs = graphs.len;

    if ((st = decode_buffers(m, &root))) return st;
    if ((st = decode_metadata(m, &root))) return st;

    fb_table g = fb_vector_table(&graphs, 0);
    m->graph_name = string_or_empty(&g, FB_GRAPH_NAME);
    fb_vector v;
    fb_get_vector(&g, FB_GRAPH_TENSORS, &v);
    if (v.len > INT32_MAX)
        return qlite_error(QLITE_ERR_CORRUPT, "%u tensors (at most 2^31-1)", v.len);
    m->num_tensors = v.len;
    if (v.len) {
        m->tensors = qlite_arena_alloc(&m->arena, (size_t)v.len * sizeof *m->tensors);
        if (!m->tensors) return qlite_error(QLITE_ERR_NO_MEMORY, "tensors: out of memory");
    }
    for (uint32_t i = 0; i < v.len; i++) {
        fb_table t = fb_vector_table(&v, i);
        if ((st = decode_tensor(m, i, &t, &m->tensors[i]))) return st;
    }

    fb_get_vector(&g, FB_GRAPH_INPUTS, &v);
    m->num_inputs = v.len;
    if ((st = copy_i32(m, &v, &m->inputs, "graph inputs"))) return st;
    fb_get_vector(&g, FB_GRAPH_OUTPUTS, &v);
    m->num_outputs = v.len;
    if ((st = copy_i32(m, &v, &m->outputs, "graph outputs"))) return st;

    fb_get_vector(&g, FB_GRAPH_OPERATORS, &v);
    m->num_ops = v.len;
    if (v.len) {
        m->ops = qlite_arena_alloc(&m->arena, (size_t)v.len * sizeof *m->ops);
        if (!m->ops) return qlite_error(QLITE_ERR_NO_MEMORY, "operators: out of memory");
    }
    for (uint32_t i = 0; i < v.len; i++) {
        fb_table t = fb_vector_table(&v, i);
        if ((st = decode_op(m, i, &t, &m->ops[i]))) return st;
    }
    return QLITE_OK;
}
