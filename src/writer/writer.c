/*
 * writer.c — the model writer of qlite_writer.h.
 *
 * Serialization (docs/format.md, "File layout"):
 *   1. crc32 of every buffer;
 *   2. the FlatBuffer, built twice: first with data offsets relative to the
 *      data section to learn its size S (every Buffer field is always
 *      written, so the size does not depend on the values), then with the
 *      absolute offsets: data starts at S rounded up to the alignment, each
 *      buffer at the next multiple of the alignment;
 *   3. the bytes: FlatBuffer, zero padding, buffers with zero padding between;
 *   4. the result is opened with the reader before it is handed out or
 *      renamed into place, so the writer cannot emit a file the reader rejects.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fb_builder.h"
#include "fb_schema.h"
#include "model_internal.h"
#include "writer_internal.h"

typedef struct wbuffer {
    const void *data;
    size_t size;
    bool owned;    /* malloc'd copy, freed at destroy */
    uint32_t crc;
    uint64_t offset;
} wbuffer;

typedef struct wmeta {
    const char *key, *value;
    uint32_t buffer;
} wmeta;

struct qlite_writer {
    uint32_t major, minor, alignment;
    const char *producer, *description, *graph_name;
    wbuffer *buffers;
    uint32_t nbuffers, cap_buffers;
    qlite_tensor_info *tensors;
    uint32_t ntensors, cap_tensors;
    qlite_op_info *ops;
    uint32_t nops, cap_ops;
    const int32_t *inputs, *outputs;
    uint32_t ninputs, noutputs;
    wmeta *meta;
    uint32_t nmeta, cap_meta;
    qlite_arena arena; /* every copied string and array */
};

/* ------------------------------------------------------------------------ */
/* Building up the model                                                     */
/* ------------------------------------------------------------------------ */

static bool grow(void **arr, uint32_t *cap, uint32_t n, size_t elem) {
    if (n < *cap) return true;
    if (*cap >= INT32_MAX / 2) return false;
    uint32_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

static const char *copy_str(qlite_writer *w, const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = qlite_arena_alloc(&w->arena, n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Copies count elements; *ok cleared on allocation failure. */
static const void *copy_mem(qlite_writer *w, const void *p, size_t count, size_t elem, bool *ok) {
    if (!p || count == 0) return NULL;
    if (count > SIZE_MAX / elem) {
        *ok = false;
        return NULL;
    }
    void *d = qlite_arena_alloc(&w->arena, count * elem);
    if (!d) {
        *ok = false;
        return NULL;
    }
    memcpy(d, p, count * elem);
    return d;
}

qlite_status qlite_writer_create(qlite_writer **out) {
    if (!out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: out is NULL");
    *out = NULL;
    qlite_writer *w = calloc(1, sizeof *w);
    if (!w) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: out of memory");
    w->major = QLITE_FORMAT_VERSION_MAJOR;
    w->minor = QLITE_FORMAT_VERSION_MINOR;
    w->alignment = QLITE_DATA_ALIGNMENT;
    /* Buffer 0: the empty buffer ("no data"). */
    if (!grow((void **)&w->buffers, &w->cap_buffers, 0, sizeof *w->buffers)) {
        free(w);
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: out of memory");
    }
    memset(&w->buffers[0], 0, sizeof w->buffers[0]);
    w->nbuffers = 1;
    *out = w;
    return QLITE_OK;
}

void qlite_writer_destroy(qlite_writer *w) {
    if (!w) return;
    for (uint32_t i = 0; i < w->nbuffers; i++)
        if (w->buffers[i].owned) free((void *)w->buffers[i].data);
    free(w->buffers);
    free(w->tensors);
    free(w->ops);
    free(w->meta);
    qlite_arena_free(&w->arena);
    free(w);
}

static qlite_status set_string(qlite_writer *w, const char **dst, const char *s, const char *what) {
    if (!w) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: NULL writer");
    const char *c = copy_str(w, s);
    if (s && !c) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: %s: out of memory", what);
    *dst = c;
    return QLITE_OK;
}

qlite_status qlite_writer_set_producer(qlite_writer *w, const char *producer) {
    return set_string(w, w ? &w->producer : NULL, producer, "producer");
}

qlite_status qlite_writer_set_description(qlite_writer *w, const char *description) {
    return set_string(w, w ? &w->description : NULL, description, "description");
}

qlite_status qlite_writer_set_graph_name(qlite_writer *w, const char *name) {
    return set_string(w, w ? &w->graph_name : NULL, name, "graph name");
}

void qlite_writer_set_version(qlite_writer *w, uint32_t major, uint32_t minor) {
    if (!w) return;
    w->major = major;
    w->minor = minor;
}

qlite_status qlite_writer_set_alignment(qlite_writer *w, uint32_t alignment) {
    if (!w) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: NULL writer");
    if (alignment < QLITE_DATA_ALIGNMENT || (alignment & (alignment - 1)) ||
        alignment > (1u << 30))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "writer: alignment %u is not a power of two in 64..2^30", alignment);
    w->alignment = alignment;
    return QLITE_OK;
}

static int64_t add_buffer(qlite_writer *w, const void *data, size_t size, bool copy) {
    if (!w) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: NULL writer"), -1;
    if (!data && size) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: buffer data is NULL"), -1;
    if (!grow((void **)&w->buffers, &w->cap_buffers, w->nbuffers, sizeof *w->buffers))
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: too many buffers"), -1;
    wbuffer *b = &w->buffers[w->nbuffers];
    memset(b, 0, sizeof *b);
    b->size = size;
    if (copy && size) {
        void *p = malloc(size);
        if (!p) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: cannot copy %zu bytes", size), -1;
        memcpy(p, data, size);
        b->data = p;
        b->owned = true;
    } else {
        b->data = size ? data : NULL;
    }
    return w->nbuffers++;
}

int64_t qlite_writer_add_buffer(qlite_writer *w, const void *data, size_t size) {
    return add_buffer(w, data, size, true);
}

int64_t qlite_writer_add_buffer_ref(qlite_writer *w, const void *data, size_t size) {
    return add_buffer(w, data, size, false);
}

int32_t qlite_writer_add_tensor(qlite_writer *w, const qlite_tensor_info *tensor) {
    if (!w || !tensor)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: add_tensor: NULL argument"), -1;
    const qlite_tensor_info *t = tensor;
    if (t->rank > QLITE_MAX_RANK)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: tensor '%s': rank %u exceeds %d",
                           t->name ? t->name : "", t->rank, QLITE_MAX_RANK), -1;
    if (t->rank && !t->shape)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: tensor '%s': shape is NULL",
                           t->name ? t->name : ""), -1;
    if (t->quant && ((t->quant->count && !t->quant->scale) ||
                     (t->quant->range_count && (!t->quant->min || !t->quant->max))))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "writer: tensor '%s': quantization arrays are NULL",
                           t->name ? t->name : ""), -1;
    if (!grow((void **)&w->tensors, &w->cap_tensors, w->ntensors, sizeof *w->tensors))
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: too many tensors"), -1;
    qlite_tensor_info c = *t;
    bool ok = true;
    c.name = t->name ? copy_str(w, t->name) : NULL;
    if (t->name && !c.name) ok = false;
    c.shape = copy_mem(w, t->shape, t->rank, sizeof *t->shape, &ok);
    c.data = NULL;
    c.data_size = 0;
    if (t->quant) {
        qlite_quant *q = qlite_arena_alloc(&w->arena, sizeof *q);
        if (!q) {
            ok = false;
        } else {
            *q = *t->quant;
            q->scale = copy_mem(w, t->quant->scale, q->count, sizeof(float), &ok);
            q->zero_point = copy_mem(w, t->quant->zero_point, q->count, sizeof(int32_t), &ok);
            q->min = copy_mem(w, t->quant->min, q->range_count, sizeof(float), &ok);
            q->max = copy_mem(w, t->quant->max, q->range_count, sizeof(float), &ok);
        }
        c.quant = q;
    }
    if (t->sparsity) {
        qlite_sparsity *s = (qlite_sparsity *)copy_mem(w, t->sparsity, 1, sizeof *s, &ok);
        if (s) s->row_ptr = s->col_index = NULL;
        c.sparsity = s;
    }
    if (t->clustering) {
        qlite_clustering *k = (qlite_clustering *)copy_mem(w, t->clustering, 1, sizeof *k, &ok);
        if (k) k->codebook = NULL;
        c.clustering = k;
    }
    if (!ok) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: add_tensor: out of memory"), -1;
    w->tensors[w->ntensors] = c;
    return (int32_t)w->ntensors++;
}

/* Deep copy of the arrays an options struct points to. */
static bool copy_options(qlite_writer *w, qlite_op_options *o) {
    bool ok = true;
    switch (o->type) {
    case QLITE_OPTIONS_RESHAPE:
        o->u.reshape.new_shape = copy_mem(w, o->u.reshape.new_shape, o->u.reshape.rank, 8, &ok);
        break;
    case QLITE_OPTIONS_TRANSPOSE:
        o->u.transpose.perm = copy_mem(w, o->u.transpose.perm, o->u.transpose.rank, 4, &ok);
        break;
    case QLITE_OPTIONS_SPLIT:
        o->u.split.sizes = copy_mem(w, o->u.split.sizes, o->u.split.count, 8, &ok);
        break;
    case QLITE_OPTIONS_SLICE:
        o->u.slice.starts = copy_mem(w, o->u.slice.starts, o->u.slice.count, 8, &ok);
        o->u.slice.ends = copy_mem(w, o->u.slice.ends, o->u.slice.count, 8, &ok);
        o->u.slice.axes = copy_mem(w, o->u.slice.axes, o->u.slice.count, 4, &ok);
        o->u.slice.steps = copy_mem(w, o->u.slice.steps, o->u.slice.count, 8, &ok);
        break;
    case QLITE_OPTIONS_PAD:
        o->u.pad.pads = copy_mem(w, o->u.pad.pads, o->u.pad.count, 8, &ok);
        break;
    case QLITE_OPTIONS_REDUCE:
        o->u.reduce.axes = copy_mem(w, o->u.reduce.axes, o->u.reduce.count, 4, &ok);
        break;
    default:
        break;
    }
    return ok;
}

/* Arrays an options struct claims to have must be there. */
static bool options_arrays_present(const qlite_op_options *o) {
    switch (o->type) {
    case QLITE_OPTIONS_RESHAPE: return !o->u.reshape.rank || o->u.reshape.new_shape;
    case QLITE_OPTIONS_TRANSPOSE: return !o->u.transpose.rank || o->u.transpose.perm;
    case QLITE_OPTIONS_SPLIT: return !o->u.split.count || o->u.split.sizes;
    case QLITE_OPTIONS_SLICE:
        return !o->u.slice.count || (o->u.slice.starts && o->u.slice.ends);
    case QLITE_OPTIONS_PAD: return !o->u.pad.count || o->u.pad.pads;
    case QLITE_OPTIONS_REDUCE: return !o->u.reduce.count || o->u.reduce.axes;
    default: return true;
    }
}

int32_t qlite_writer_add_op(qlite_writer *w, const qlite_op_info *op) {
    if (!w || !op) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: add_op: NULL argument"), -1;
    if ((unsigned)op->options.type >= QLITE_OPTIONS_COUNT)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: op '%s': options type %d unknown",
                           op->name ? op->name : "", (int)op->options.type), -1;
    if ((op->num_inputs && !op->inputs) || (op->num_outputs && !op->outputs) ||
        !options_arrays_present(&op->options))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: op '%s': an array is NULL",
                           op->name ? op->name : ""), -1;
    if (!grow((void **)&w->ops, &w->cap_ops, w->nops, sizeof *w->ops))
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: too many ops"), -1;
    qlite_op_info c = *op;
    bool ok = true;
    c.name = op->name ? copy_str(w, op->name) : NULL;
    if (op->name && !c.name) ok = false;
    c.inputs = copy_mem(w, op->inputs, op->num_inputs, sizeof(int32_t), &ok);
    c.outputs = copy_mem(w, op->outputs, op->num_outputs, sizeof(int32_t), &ok);
    if (!copy_options(w, &c.options)) ok = false;
    if (!ok) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: add_op: out of memory"), -1;
    w->ops[w->nops] = c;
    return (int32_t)w->nops++;
}

static qlite_status set_list(qlite_writer *w, const int32_t **dst, uint32_t *n, uint32_t count,
                             const int32_t *tensors) {
    if (!w || (count && !tensors))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: NULL argument");
    bool ok = true;
    const int32_t *c = copy_mem(w, tensors, count, sizeof *tensors, &ok);
    if (!ok) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: out of memory");
    *dst = c;
    *n = count;
    return QLITE_OK;
}

qlite_status qlite_writer_set_inputs(qlite_writer *w, uint32_t count, const int32_t *tensors) {
    return set_list(w, w ? &w->inputs : NULL, w ? &w->ninputs : NULL, count, tensors);
}

qlite_status qlite_writer_set_outputs(qlite_writer *w, uint32_t count, const int32_t *tensors) {
    return set_list(w, w ? &w->outputs : NULL, w ? &w->noutputs : NULL, count, tensors);
}

static qlite_status add_meta(qlite_writer *w, const char *key, const char *value, uint32_t buffer) {
    if (!grow((void **)&w->meta, &w->cap_meta, w->nmeta, sizeof *w->meta))
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: out of memory");
    wmeta *m = &w->meta[w->nmeta];
    m->key = copy_str(w, key);
    m->value = value ? copy_str(w, value) : NULL;
    m->buffer = buffer;
    if (!m->key || (value && !m->value)) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: out of memory");
    w->nmeta++;
    return QLITE_OK;
}

qlite_status qlite_writer_add_metadata(qlite_writer *w, const char *key, const char *value) {
    if (!w || !key || !value)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: add_metadata: NULL argument");
    return add_meta(w, key, value, 0);
}

qlite_status qlite_writer_add_metadata_blob(qlite_writer *w, const char *key, const void *data,
                                            size_t size) {
    if (!w || !key || (!data && size))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: add_metadata_blob: NULL argument");
    int64_t b = add_buffer(w, data, size, true);
    if (b < 0) return QLITE_ERR_NO_MEMORY;
    return add_meta(w, key, NULL, (uint32_t)b);
}

uint32_t qlite_writer_tensor_count(const qlite_writer *w) { return w ? w->ntensors : 0; }
uint32_t qlite_writer_op_count(const qlite_writer *w) { return w ? w->nops : 0; }
uint32_t qlite_writer_buffer_count(const qlite_writer *w) { return w ? w->nbuffers : 0; }

/* ------------------------------------------------------------------------ */
/* The FlatBuffer                                                            */
/* ------------------------------------------------------------------------ */

static fbb_ref i32_vector(fbb *b, const int32_t *v, uint32_t n) {
    return v && n ? fbb_vector(b, v, n, 4) : 0;
}

static fbb_ref i64_vector(fbb *b, const int64_t *v, uint32_t n) {
    return v && n ? fbb_vector(b, v, n, 8) : 0;
}

static fbb_ref build_options(fbb *b, const qlite_op_options *o) {
    fbb_ref r1 = 0, r2 = 0, r3 = 0, r4 = 0;
    switch (o->type) { /* vectors first: nothing may be built inside a table */
    case QLITE_OPTIONS_RESHAPE: r1 = i64_vector(b, o->u.reshape.new_shape, o->u.reshape.rank); break;
    case QLITE_OPTIONS_TRANSPOSE: r1 = i32_vector(b, o->u.transpose.perm, o->u.transpose.rank); break;
    case QLITE_OPTIONS_SPLIT: r1 = i64_vector(b, o->u.split.sizes, o->u.split.count); break;
    case QLITE_OPTIONS_SLICE:
        r1 = i64_vector(b, o->u.slice.starts, o->u.slice.count);
        r2 = i64_vector(b, o->u.slice.ends, o->u.slice.count);
        r3 = i32_vector(b, o->u.slice.axes, o->u.slice.count);
        r4 = i64_vector(b, o->u.slice.steps, o->u.slice.count);
        break;
    case QLITE_OPTIONS_PAD: r1 = i64_vector(b, o->u.pad.pads, o->u.pad.count); break;
    case QLITE_OPTIONS_REDUCE: r1 = i32_vector(b, o->u.reduce.axes, o->u.reduce.count); break;
    default: break;
    }
    fbb_table_begin(b);
    switch (o->type) {
    case QLITE_OPTIONS_CONV_2D: {
        const qlite_conv2d_options *c = &o->u.conv2d;
        fbb_add_i32_d(b, FB_CONV_STRIDE_H, c->stride_h, 1);
        fbb_add_i32_d(b, FB_CONV_STRIDE_W, c->stride_w, 1);
        fbb_add_i32_d(b, FB_CONV_DILATION_H, c->dilation_h, 1);
        fbb_add_i32_d(b, FB_CONV_DILATION_W, c->dilation_w, 1);
        fbb_add_i32_d(b, FB_CONV_PAD_TOP, c->pad_top, 0);
        fbb_add_i32_d(b, FB_CONV_PAD_LEFT, c->pad_left, 0);
        fbb_add_i32_d(b, FB_CONV_PAD_BOTTOM, c->pad_bottom, 0);
        fbb_add_i32_d(b, FB_CONV_PAD_RIGHT, c->pad_right, 0);
        fbb_add_i32_d(b, FB_CONV_GROUPS, c->groups, 1);
        fbb_add_i32_d(b, FB_CONV_OUTPUT_PAD_H, c->output_pad_h, 0);
        fbb_add_i32_d(b, FB_CONV_OUTPUT_PAD_W, c->output_pad_w, 0);
        fbb_add_i8_d(b, FB_CONV_ACTIVATION, (int8_t)c->activation, 0);
        break;
    }
    case QLITE_OPTIONS_POOL_2D: {
        const qlite_pool2d_options *p = &o->u.pool2d;
        fbb_add_i32_d(b, FB_POOL_FILTER_H, p->filter_h, 0);
        fbb_add_i32_d(b, FB_POOL_FILTER_W, p->filter_w, 0);
        fbb_add_i32_d(b, FB_POOL_STRIDE_H, p->stride_h, 1);
        fbb_add_i32_d(b, FB_POOL_STRIDE_W, p->stride_w, 1);
        fbb_add_i32_d(b, FB_POOL_DILATION_H, p->dilation_h, 1);
        fbb_add_i32_d(b, FB_POOL_DILATION_W, p->dilation_w, 1);
        fbb_add_i32_d(b, FB_POOL_PAD_TOP, p->pad_top, 0);
        fbb_add_i32_d(b, FB_POOL_PAD_LEFT, p->pad_left, 0);
        fbb_add_i32_d(b, FB_POOL_PAD_BOTTOM, p->pad_bottom, 0);
        fbb_add_i32_d(b, FB_POOL_PAD_RIGHT, p->pad_right, 0);
        fbb_add_bool_d(b, FB_POOL_CEIL_MODE, p->ceil_mode, false);
        fbb_add_bool_d(b, FB_POOL_COUNT_INCLUDE_PAD, p->count_include_pad, false);
        fbb_add_i8_d(b, FB_POOL_ACTIVATION, (int8_t)p->activation, 0);
        break;
    }
    case QLITE_OPTIONS_FULLY_CONNECTED:
        fbb_add_i8_d(b, FB_FC_ACTIVATION, (int8_t)o->u.fully_connected.activation, 0);
        fbb_add_bool_d(b, FB_FC_KEEP_NUM_DIMS, o->u.fully_connected.keep_num_dims, true);
        break;
    case QLITE_OPTIONS_BATCH_MATMUL:
        fbb_add_bool_d(b, FB_BMM_TRANSPOSE_A, o->u.batch_matmul.transpose_a, false);
        fbb_add_bool_d(b, FB_BMM_TRANSPOSE_B, o->u.batch_matmul.transpose_b, false);
        fbb_add_i8_d(b, FB_BMM_ACTIVATION, (int8_t)o->u.batch_matmul.activation, 0);
        break;
    case QLITE_OPTIONS_BINARY:
        fbb_add_i8_d(b, FB_BINARY_ACTIVATION, (int8_t)o->u.binary.activation, 0);
        break;
    case QLITE_OPTIONS_ACTIVATION: {
        qlite_op_options d;
        qlite_op_options_default(QLITE_OPTIONS_ACTIVATION, &d);
        fbb_add_f32_d(b, FB_ACT_ALPHA, o->u.activation.alpha, 0.0f);
        fbb_add_f32_d(b, FB_ACT_BETA, o->u.activation.beta, 0.0f);
        fbb_add_f32_d(b, FB_ACT_MIN, o->u.activation.min, d.u.activation.min);
        fbb_add_f32_d(b, FB_ACT_MAX, o->u.activation.max, d.u.activation.max);
        fbb_add_bool_d(b, FB_ACT_APPROXIMATE, o->u.activation.approximate, false);
        break;
    }
    case QLITE_OPTIONS_SOFTMAX:
        fbb_add_i32_d(b, FB_SOFTMAX_AXIS, o->u.softmax.axis, -1);
        fbb_add_f32_d(b, FB_SOFTMAX_BETA, o->u.softmax.beta, 1.0f);
        break;
    case QLITE_OPTIONS_RESHAPE: fbb_add_ref(b, FB_RESHAPE_NEW_SHAPE, r1); break;
    case QLITE_OPTIONS_TRANSPOSE: fbb_add_ref(b, FB_TRANSPOSE_PERM, r1); break;
    case QLITE_OPTIONS_CONCATENATION:
        fbb_add_i32_d(b, FB_CONCAT_AXIS, o->u.concatenation.axis, 0);
        fbb_add_i8_d(b, FB_CONCAT_ACTIVATION, (int8_t)o->u.concatenation.activation, 0);
        break;
    case QLITE_OPTIONS_SPLIT:
        fbb_add_i32_d(b, FB_SPLIT_AXIS, o->u.split.axis, 0);
        fbb_add_ref(b, FB_SPLIT_SIZES, r1);
        break;
    case QLITE_OPTIONS_SLICE:
        fbb_add_ref(b, FB_SLICE_STARTS, r1);
        fbb_add_ref(b, FB_SLICE_ENDS, r2);
        fbb_add_ref(b, FB_SLICE_AXES, r3);
        fbb_add_ref(b, FB_SLICE_STEPS, r4);
        break;
    case QLITE_OPTIONS_PAD:
        fbb_add_ref(b, FB_PAD_PADS, r1);
        fbb_add_i8_d(b, FB_PAD_MODE, (int8_t)o->u.pad.mode, 0);
        fbb_add_f32_d(b, FB_PAD_VALUE, o->u.pad.value, 0.0f);
        break;
    case QLITE_OPTIONS_GATHER: fbb_add_i32_d(b, FB_GATHER_AXIS, o->u.gather.axis, 0); break;
    case QLITE_OPTIONS_REDUCE:
        fbb_add_ref(b, FB_REDUCE_AXES, r1);
        fbb_add_bool_d(b, FB_REDUCE_KEEP_DIMS, o->u.reduce.keep_dims, true);
        break;
    case QLITE_OPTIONS_NORM:
        fbb_add_i32_d(b, FB_NORM_AXIS, o->u.norm.axis, -1);
        fbb_add_f32_d(b, FB_NORM_EPSILON, o->u.norm.epsilon, 1e-5f);
        break;
    case QLITE_OPTIONS_RESIZE: {
        const qlite_resize_options *r = &o->u.resize;
        fbb_add_i8_d(b, FB_RESIZE_MODE, (int8_t)r->mode, 0);
        fbb_add_i8_d(b, FB_RESIZE_COORD, (int8_t)r->coordinate_transform, 0);
        fbb_add_i8_d(b, FB_RESIZE_NEAREST_MODE, (int8_t)r->nearest_mode, 0);
        fbb_add_i32_d(b, FB_RESIZE_OUT_H, r->out_h, 0);
        fbb_add_i32_d(b, FB_RESIZE_OUT_W, r->out_w, 0);
        fbb_add_f32_d(b, FB_RESIZE_SCALE_H, r->scale_h, 0.0f);
        fbb_add_f32_d(b, FB_RESIZE_SCALE_W, r->scale_w, 0.0f);
        fbb_add_f32_d(b, FB_RESIZE_CUBIC_COEFF_A, r->cubic_coeff_a, -0.75f);
        break;
    }
    case QLITE_OPTIONS_RNN: {
        const qlite_rnn_options *r = &o->u.rnn;
        fbb_add_i32_d(b, FB_RNN_HIDDEN_SIZE, r->hidden_size, 0);
        fbb_add_i8_d(b, FB_RNN_DIRECTION, (int8_t)r->direction, 0);
        fbb_add_bool_d(b, FB_RNN_BATCH_FIRST, r->batch_first, false);
        fbb_add_bool_d(b, FB_RNN_LINEAR_BEFORE_RESET, r->linear_before_reset, false);
        fbb_add_f32_d(b, FB_RNN_CLIP, r->clip, 0.0f);
        break;
    }
    case QLITE_OPTIONS_CAST: fbb_add_i8_d(b, FB_CAST_TO, (int8_t)o->u.cast.to, 0); break;
    default: break;
    }
    return fbb_table_end(b);
}

static fbb_ref build_tensor(fbb *b, const qlite_tensor_info *t) {
    fbb_ref name = fbb_cstring(b, t->name);
    fbb_ref shape = fbb_vector(b, t->shape, t->rank, 8); /* always present, even rank 0 */
    fbb_ref quant = 0, sparsity = 0, clustering = 0;
    if (t->quant) {
        const qlite_quant *q = t->quant;
        fbb_ref scale = q->count ? fbb_vector(b, q->scale, q->count, 4) : 0;
        fbb_ref zp = 0;
        /* A per-channel zero-point vector of all zeros (symmetric weights)
         * is left out: readers take an absent vector as zeros, and it would
         * cost 8 bytes a channel. */
        bool all_zero = q->count > 1;
        for (uint32_t i = 0; all_zero && q->zero_point && i < q->count; i++)
            all_zero = q->zero_point[i] == 0;
        if (q->count && q->zero_point && !all_zero) {
            int64_t *z = malloc((size_t)q->count * sizeof *z);
            if (!z) {
                b->failed = true;
                b->error = "out of memory";
                return 0;
            }
            for (uint32_t i = 0; i < q->count; i++) z[i] = q->zero_point[i];
            zp = fbb_vector(b, z, q->count, 8);
            free(z);
        }
        fbb_ref mn = q->range_count ? fbb_vector(b, q->min, q->range_count, 4) : 0;
        fbb_ref mx = q->range_count ? fbb_vector(b, q->max, q->range_count, 4) : 0;
        fbb_table_begin(b);
        fbb_add_ref(b, FB_QUANT_SCALE, scale);
        fbb_add_ref(b, FB_QUANT_ZERO_POINT, zp);
        fbb_add_i32_d(b, FB_QUANT_AXIS, q->axis, 0);
        fbb_add_ref(b, FB_QUANT_MIN, mn);
        fbb_add_ref(b, FB_QUANT_MAX, mx);
        quant = fbb_table_end(b);
    }
    if (t->sparsity) {
        const qlite_sparsity *s = t->sparsity;
        fbb_table_begin(b);
        fbb_add_i32_d(b, FB_SPARSITY_BLOCK_ROWS, (int32_t)s->block_rows, 1);
        fbb_add_i32_d(b, FB_SPARSITY_BLOCK_COLS, (int32_t)s->block_cols, 1);
        fbb_add_i8_d(b, FB_SPARSITY_ROW_PTR_TYPE, (int8_t)s->row_ptr_type, 0);
        fbb_add_u32_d(b, FB_SPARSITY_ROW_PTR_BUFFER, s->row_ptr_buffer, 0);
        fbb_add_i8_d(b, FB_SPARSITY_COL_INDEX_TYPE, (int8_t)s->col_index_type, 0);
        fbb_add_u32_d(b, FB_SPARSITY_COL_INDEX_BUFFER, s->col_index_buffer, 0);
        fbb_add_u64_d(b, FB_SPARSITY_NNZ_BLOCKS, s->nnz_blocks, 0);
        sparsity = fbb_table_end(b);
    }
    if (t->clustering) {
        const qlite_clustering *c = t->clustering;
        fbb_table_begin(b);
        fbb_add_i32_d(b, FB_CLUSTERING_NUM_CLUSTERS, (int32_t)c->num_clusters, 0);
        fbb_add_i32_d(b, FB_CLUSTERING_INDEX_BITS, (int32_t)c->index_bits, 0);
        fbb_add_u32_d(b, FB_CLUSTERING_CODEBOOK_BUFFER, c->codebook_buffer, 0);
        fbb_add_bool_d(b, FB_CLUSTERING_PER_ROW, c->per_row, false);
        clustering = fbb_table_end(b);
    }
    fbb_table_begin(b);
    fbb_add_ref(b, FB_TENSOR_NAME, name);
    fbb_add_ref(b, FB_TENSOR_SHAPE, shape);
    fbb_add_i8_d(b, FB_TENSOR_DTYPE, (int8_t)t->dtype, 0);
    fbb_add_u32_d(b, FB_TENSOR_BUFFER, t->buffer, 0);
    fbb_add_ref(b, FB_TENSOR_QUANTIZATION, quant);
    fbb_add_ref(b, FB_TENSOR_SPARSITY, sparsity);
    fbb_add_ref(b, FB_TENSOR_CLUSTERING, clustering);
    fbb_add_i8_d(b, FB_TENSOR_LAYOUT, (int8_t)t->layout, 0);
    return fbb_table_end(b);
}

static fbb_ref build_op(fbb *b, const qlite_op_info *op) {
    fbb_ref inputs = fbb_vector(b, op->inputs, op->num_inputs, 4);
    fbb_ref outputs = fbb_vector(b, op->outputs, op->num_outputs, 4);
    fbb_ref options = op->options.type != QLITE_OPTIONS_NONE ? build_options(b, &op->options) : 0;
    fbb_ref name = fbb_cstring(b, op->name);
    fbb_table_begin(b);
    fbb_add_i32_d(b, FB_OP_OPCODE, (int32_t)op->code, 0);
    fbb_add_ref(b, FB_OP_INPUTS, inputs);
    fbb_add_ref(b, FB_OP_OUTPUTS, outputs);
    fbb_add_i8_d(b, FB_OP_OPTIONS_TYPE, (int8_t)op->options.type, 0);
    fbb_add_ref(b, FB_OP_OPTIONS, options);
    fbb_add_ref(b, FB_OP_NAME, name);
    return fbb_table_end(b);
}

/* Builds the FlatBuffer with buffer i at data_start + w->buffers[i].offset. */
static qlite_status build(qlite_writer *w, fbb *b, uint64_t data_start) {
    fbb_init(b);
    qlite_status st = QLITE_ERR_NO_MEMORY;
    size_t nrefs = w->nbuffers;
    if (w->ntensors > nrefs) nrefs = w->ntensors;
    if (w->nops > nrefs) nrefs = w->nops;
    if (w->nmeta > nrefs) nrefs = w->nmeta;
    fbb_ref *refs = malloc((nrefs ? nrefs : 1) * sizeof *refs);
    if (!refs) return qlite_error(st, "writer: out of memory");

    for (uint32_t i = 0; i < w->nbuffers; i++) {
        const wbuffer *wb = &w->buffers[i];
        fbb_table_begin(b); /* every field always written: see the top comment */
        fbb_add_u64(b, FB_BUFFER_OFFSET, wb->size ? data_start + wb->offset : 0);
        fbb_add_u64(b, FB_BUFFER_SIZE, wb->size);
        fbb_add_u32(b, FB_BUFFER_CRC32, wb->crc);
        refs[i] = fbb_table_end(b);
    }
    fbb_ref buffers = fbb_vector_refs(b, refs, w->nbuffers);

    fbb_ref metadata = 0;
    if (w->nmeta) {
        for (uint32_t i = 0; i < w->nmeta; i++) {
            fbb_ref key = fbb_cstring(b, w->meta[i].key);
            fbb_ref value = fbb_cstring(b, w->meta[i].value);
            fbb_table_begin(b);
            fbb_add_ref(b, FB_METADATA_KEY, key);
            fbb_add_ref(b, FB_METADATA_VALUE, value);
            fbb_add_u32_d(b, FB_METADATA_BUFFER, w->meta[i].buffer, 0);
            refs[i] = fbb_table_end(b);
        }
        metadata = fbb_vector_refs(b, refs, w->nmeta);
    }

    for (uint32_t i = 0; i < w->ntensors; i++) refs[i] = build_tensor(b, &w->tensors[i]);
    fbb_ref tensors = b->failed ? 0 : fbb_vector_refs(b, refs, w->ntensors);
    for (uint32_t i = 0; i < w->nops; i++) refs[i] = build_op(b, &w->ops[i]);
    fbb_ref ops = b->failed ? 0 : fbb_vector_refs(b, refs, w->nops);
    fbb_ref inputs = fbb_vector(b, w->inputs, w->ninputs, 4);
    fbb_ref outputs = fbb_vector(b, w->outputs, w->noutputs, 4);
    fbb_ref gname = fbb_cstring(b, w->graph_name);
    fbb_table_begin(b);
    fbb_add_ref(b, FB_GRAPH_NAME, gname);
    fbb_add_ref(b, FB_GRAPH_TENSORS, tensors);
    fbb_add_ref(b, FB_GRAPH_INPUTS, inputs);
    fbb_add_ref(b, FB_GRAPH_OUTPUTS, outputs);
    fbb_add_ref(b, FB_GRAPH_OPERATORS, ops);
    fbb_ref graph = fbb_table_end(b);
    fbb_ref graphs = b->failed ? 0 : fbb_vector_refs(b, &graph, 1);

    fbb_ref producer = fbb_cstring(b, w->producer);
    fbb_ref description = fbb_cstring(b, w->description);
    fbb_table_begin(b);
    fbb_add_u32(b, FB_MODEL_VERSION_MAJOR, w->major);
    fbb_add_u32(b, FB_MODEL_VERSION_MINOR, w->minor);
    fbb_add_ref(b, FB_MODEL_PRODUCER, producer);
    fbb_add_ref(b, FB_MODEL_DESCRIPTION, description);
    fbb_add_ref(b, FB_MODEL_GRAPHS, graphs);
    fbb_add_ref(b, FB_MODEL_BUFFERS, buffers);
    fbb_add_ref(b, FB_MODEL_METADATA, metadata);
    fbb_ref model = fbb_table_end(b);
    free(refs);
    if (!fbb_finish(b, model, QLITE_FILE_IDENTIFIER))
        return qlite_error(strcmp(b->error, "out of memory") == 0 ? QLITE_ERR_NO_MEMORY
                                                                  : QLITE_ERR_INVALID_ARGUMENT,
                           "writer: building the FlatBuffer failed: %s", b->error);
    return QLITE_OK;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* The plan of a file: the FlatBuffer, where data starts and the total size. */
typedef struct layout {
    fbb fb;
    uint64_t data_start, total;
} layout;

static qlite_status plan(qlite_writer *w, layout *l) {
    /* Data offsets relative to the data section; crcs. */
    uint64_t pos = 0;
    for (uint32_t i = 0; i < w->nbuffers; i++) {
        wbuffer *b = &w->buffers[i];
        b->crc = b->size ? qlite_crc32(b->data, b->size) : 0;
        if (!b->size) {
            b->offset = 0;
            continue;
        }
        pos = align_up(pos, w->alignment);
        b->offset = pos;
        pos += b->size;
    }
    qlite_status st = build(w, &l->fb, 0);
    if (st) return st;
    size_t fb_size;
    fbb_data(&l->fb, &fb_size);
    l->data_start = align_up(fb_size, w->alignment);
    fbb_free(&l->fb);
    if ((st = build(w, &l->fb, l->data_start))) return st;
    size_t again;
    fbb_data(&l->fb, &again);
    if (again != fb_size) {
        fbb_free(&l->fb);
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "writer: internal error: FlatBuffer size changed (%zu -> %zu)", fb_size,
                           again);
    }
    l->total = l->data_start + pos;
    return QLITE_OK;
}

qlite_status qlite_writer_write_memory_unchecked(qlite_writer *w, void **out, size_t *size) {
    if (!w || !out || !size)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: write_memory: NULL argument");
    *out = NULL;
    *size = 0;
    layout l;
    qlite_status st = plan(w, &l);
    if (st) return st;
    if (l.total > SIZE_MAX) {
        fbb_free(&l.fb);
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: %llu bytes do not fit in memory",
                           (unsigned long long)l.total);
    }
    uint8_t *p = qlite_aligned_alloc((size_t)l.total);
    if (!p) {
        fbb_free(&l.fb);
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: cannot allocate %llu bytes",
                           (unsigned long long)l.total);
    }
    size_t fb_size;
    const uint8_t *fb = fbb_data(&l.fb, &fb_size);
    memset(p, 0, (size_t)l.total);
    memcpy(p, fb, fb_size);
    for (uint32_t i = 0; i < w->nbuffers; i++)
        if (w->buffers[i].size)
            memcpy(p + l.data_start + w->buffers[i].offset, w->buffers[i].data,
                   w->buffers[i].size);
    fbb_free(&l.fb);
    *out = p;
    *size = (size_t)l.total;
    return QLITE_OK;
}

qlite_status qlite_writer_write_memory(qlite_writer *w, void **out, size_t *size) {
    qlite_status st = qlite_writer_write_memory_unchecked(w, out, size);
    if (st) return st;
    qlite_model *m = NULL;
    st = qlite_model_open_memory(*out, *size, 0, &m);
    if (st) {
        char msg[QLITE_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", qlite_last_error());
        qlite_aligned_free(*out);
        *out = NULL;
        *size = 0;
        return qlite_error(st, "writer: refusing to write an invalid model: %s", msg);
    }
    qlite_model_close(m);
    return QLITE_OK;
}

void qlite_writer_free_bytes(void *bytes) { qlite_aligned_free(bytes); }

/* ------------------------------------------------------------------------ */
/* Atomic file write                                                         */
/* ------------------------------------------------------------------------ */

static bool write_all(int fd, const void *data, uint64_t n) {
    const uint8_t *p = data;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t r = write(fd, p, chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            return false;
        }
        p += r;
        n -= (uint64_t)r;
    }
    return true;
}

static bool write_zeros(int fd, uint64_t n) {
    static const uint8_t zeros[4096];
    while (n > 0) {
        uint64_t chunk = n > sizeof zeros ? sizeof zeros : n;
        if (!write_all(fd, zeros, chunk)) return false;
        n -= chunk;
    }
    return true;
}

/* Creates "<path>.tmp-<pid>-<n>" exclusively; returns the fd or -1. */
static int create_temp(const char *path, char *tmp, size_t tmp_size) {
    static unsigned counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        int w = snprintf(tmp, tmp_size, "%s.tmp-%ld-%u", path, (long)getpid(), n);
        if (w < 0 || (size_t)w >= tmp_size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

static qlite_status io_fail(const char *path, const char *what, int err) {
    return qlite_error(QLITE_ERR_IO, "cannot write %s: %s: %s", path, what, strerror(err));
}

static qlite_status write_layout(qlite_writer *w, const layout *l, int fd, const char *path) {
    size_t fb_size;
    const uint8_t *fb = fbb_data(&l->fb, &fb_size);
    if (!write_all(fd, fb, fb_size)) return io_fail(path, "write", errno);
    uint64_t pos = fb_size;
    for (uint32_t i = 0; i < w->nbuffers; i++) {
        const wbuffer *b = &w->buffers[i];
        if (!b->size) continue;
        uint64_t at = l->data_start + b->offset;
        if (!write_zeros(fd, at - pos) || !write_all(fd, b->data, b->size))
            return io_fail(path, "write", errno);
        pos = at + b->size;
    }
    if (pos < l->data_start && !write_zeros(fd, l->data_start - pos))
        return io_fail(path, "write", errno);
    if (fsync(fd) != 0) return io_fail(path, "fsync", errno);
    return QLITE_OK;
}

qlite_status qlite_writer_write_file(qlite_writer *w, const char *path) {
    if (!w || !path || !*path)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "writer: write_file: NULL argument");
    layout l;
    qlite_status st = plan(w, &l);
    if (st) return st;
    size_t tmp_size = strlen(path) + 64;
    char *tmp = malloc(tmp_size);
    if (!tmp) {
        fbb_free(&l.fb);
        return qlite_error(QLITE_ERR_NO_MEMORY, "writer: out of memory");
    }
    int fd = create_temp(path, tmp, tmp_size);
    if (fd < 0) {
        st = io_fail(path, "cannot create a temporary file beside it", errno);
        fbb_free(&l.fb);
        free(tmp);
        return st;
    }
    st = write_layout(w, &l, fd, path);
    fbb_free(&l.fb);
    if (close(fd) != 0 && st == QLITE_OK) st = io_fail(path, "close", errno);
    if (st == QLITE_OK) {
        /* Re-open what is on disk: never rename an invalid model into place. */
        qlite_model *m = NULL;
        st = qlite_model_open(tmp, 0, &m);
        if (st) {
            char msg[QLITE_ERROR_MAX];
            snprintf(msg, sizeof msg, "%s", qlite_last_error());
            st = qlite_error(st, "writer: refusing to write an invalid model to %s: %s", path,
                             msg);
        }
        qlite_model_close(m);
    }
    if (st == QLITE_OK && rename(tmp, path) != 0) st = io_fail(path, "rename", errno);
    if (st) {
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);

    /* Make the rename itself durable. */
    size_t dlen = strlen(path);
    char *dir = malloc(dlen + 2);
    if (!dir) return qlite_error(QLITE_ERR_NO_MEMORY, "writer: out of memory");
    memcpy(dir, path, dlen + 1);
    char *slash = strrchr(dir, '/');
    if (!slash) strcpy(dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) st = io_fail(path, "fsync of its directory", errno);
    if (dfd >= 0) close(dfd);
    free(dir);
    return st;
}
