/*
 * test_models.c — model specifications for the format tests (test_models.h).
 */
#include "test_models.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "support.h"

/* ------------------------------------------------------------------------ */
/* Pools                                                                     */
/* ------------------------------------------------------------------------ */

#define QLITE_ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

qlite_test_model *qlite_test_model_new(void) {
    qlite_test_model *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->version_major = QLITE_FORMAT_VERSION_MAJOR;
    s->version_minor = QLITE_FORMAT_VERSION_MINOR;
    s->num_buffers = 1; /* buffer 0: empty */
    return s;
}

void qlite_test_model_free(qlite_test_model *s) { free(s); }

/* Reserves `n` elements of `elem_size` bytes at the end of a pool of
 * `capacity` elements whose fill count is *used, copies `v` there when given,
 * and returns the copy. A spec that outgrows a pool is a test bug: abort. */
static void *pool_put(void *pool, uint32_t *used, size_t capacity, size_t elem_size, size_t n,
                      const void *v) {
    if (*used + n > capacity) abort();
    uint8_t *d = (uint8_t *)pool + (size_t)*used * elem_size;
    if (v) memcpy(d, v, n * elem_size);
    *used += (uint32_t)n;
    return d;
}

#define POOL_PUT(s, pool, count, n, v)                                                     \
    pool_put((s)->pool, &(s)->count, QLITE_ARRAY_SIZE_T((s)->pool), sizeof((s)->pool[0]), \
             (n), (v))

const int64_t *qt_i64(qlite_test_model *s, uint32_t n, const int64_t *v) {
    if (!n || !v) return NULL;
    return POOL_PUT(s, i64_pool, n_i64, n, v);
}

const int32_t *qt_i32(qlite_test_model *s, uint32_t n, const int32_t *v) {
    if (!n || !v) return NULL;
    return POOL_PUT(s, i32_pool, n_i32, n, v);
}

const float *qt_f32(qlite_test_model *s, uint32_t n, const float *v) {
    if (!n || !v) return NULL;
    return POOL_PUT(s, f32_pool, n_f32, n, v);
}

static const char *qt_name(qlite_test_model *s, const char *name) {
    if (!name) return NULL;
    return POOL_PUT(s, name_pool, n_name, strlen(name) + 1, name);
}

uint32_t qt_buffer(qlite_test_model *s, const void *data, size_t size) {
    if (s->num_buffers >= QT_MAX_BUFFERS) abort();
    size_t rounded = (size + 15) / 16 * 16;
    uint8_t *d = POOL_PUT(s, byte_pool, n_byte, rounded, NULL);
    if (size) memcpy(d, data, size);
    s->buffer_data[s->num_buffers] = size ? d : NULL;
    s->buffer_size[s->num_buffers] = size;
    return s->num_buffers++;
}

uint32_t qt_buffer_ref(qlite_test_model *s, const void *data, size_t size) {
    if (s->num_buffers >= QT_MAX_BUFFERS) abort();
    s->buffer_data[s->num_buffers] = size ? data : NULL;
    s->buffer_size[s->num_buffers] = size;
    return s->num_buffers++;
}

int32_t qt_tensor(qlite_test_model *s, const char *name, qlite_dtype dtype, uint32_t rank,
                  const int64_t *shape, uint32_t buffer) {
    if (s->num_tensors >= QT_MAX_TENSORS) abort();
    qlite_tensor_info *t = &s->tensors[s->num_tensors];
    memset(t, 0, sizeof *t);
    t->name = qt_name(s, name);
    t->dtype = dtype;
    t->rank = rank;
    t->shape = qt_i64(s, rank, shape);
    t->buffer = buffer;
    return (int32_t)s->num_tensors++;
}

qlite_quant *qt_quant(qlite_test_model *s, int32_t tensor, uint32_t count, int32_t axis,
                      const float *scale, const int32_t *zero_point) {
    if (s->n_quant >= QT_MAX_TENSORS) abort();
    qlite_quant *q = &s->quant_pool[s->n_quant++];
    memset(q, 0, sizeof *q);
    q->count = count;
    q->axis = axis;
    q->scale = qt_f32(s, count, scale);
    q->zero_point = qt_i32(s, count, zero_point);
    s->tensors[tensor].quant = q;
    return q;
}

static qlite_sparsity *qt_sparsity(qlite_test_model *s, int32_t tensor) {
    qlite_sparsity *p = POOL_PUT(s, sparsity_pool, n_sparsity, 1, NULL);
    memset(p, 0, sizeof *p);
    s->tensors[tensor].sparsity = p;
    return p;
}

static qlite_clustering *qt_clustering(qlite_test_model *s, int32_t tensor) {
    qlite_clustering *p = POOL_PUT(s, clustering_pool, n_clustering, 1, NULL);
    memset(p, 0, sizeof *p);
    s->tensors[tensor].clustering = p;
    return p;
}

/* Copies the option arrays into the spec's pools. */
static void own_options(qlite_test_model *s, qlite_op_options *o) {
    switch (o->type) {
    case QLITE_OPTIONS_RESHAPE:
        o->u.reshape.new_shape = qt_i64(s, o->u.reshape.rank, o->u.reshape.new_shape);
        break;
    case QLITE_OPTIONS_TRANSPOSE:
        o->u.transpose.perm = qt_i32(s, o->u.transpose.rank, o->u.transpose.perm);
        break;
    case QLITE_OPTIONS_SPLIT:
        o->u.split.sizes = qt_i64(s, o->u.split.count, o->u.split.sizes);
        break;
    case QLITE_OPTIONS_SLICE:
        o->u.slice.starts = qt_i64(s, o->u.slice.count, o->u.slice.starts);
        o->u.slice.ends = qt_i64(s, o->u.slice.count, o->u.slice.ends);
        o->u.slice.axes = qt_i32(s, o->u.slice.count, o->u.slice.axes);
        o->u.slice.steps = qt_i64(s, o->u.slice.count, o->u.slice.steps);
        break;
    case QLITE_OPTIONS_PAD: o->u.pad.pads = qt_i64(s, o->u.pad.count, o->u.pad.pads); break;
    case QLITE_OPTIONS_REDUCE: o->u.reduce.axes = qt_i32(s, o->u.reduce.count, o->u.reduce.axes); break;
    default: break;
    }
}

int32_t qt_op(qlite_test_model *s, qlite_op_code code, const char *name, uint32_t nin,
              const int32_t *in, uint32_t nout, const int32_t *out, const qlite_op_options *opt) {
    if (s->num_ops >= QT_MAX_OPS) abort();
    qlite_op_info *op = &s->ops[s->num_ops];
    memset(op, 0, sizeof *op);
    op->code = code;
    op->name = qt_name(s, name);
    op->num_inputs = nin;
    op->inputs = qt_i32(s, nin, in);
    op->num_outputs = nout;
    op->outputs = qt_i32(s, nout, out);
    if (opt) op->options = *opt;
    own_options(s, &op->options);
    s->none_as[s->num_ops] = QLITE_OPTIONS_NONE;
    return (int32_t)s->num_ops++;
}

/* ------------------------------------------------------------------------ */
/* The models                                                                */
/* ------------------------------------------------------------------------ */

void qlite_test_model_small(qlite_test_model *s) {
    s->producer = "qlite tests (small model)";
    s->description = "corrupt-file corpus base";
    s->graph_name = "small";
    int32_t x = qt_tensor(s, "x", QLITE_DTYPE_INT8, 2, (int64_t[]){-1, 8}, 0);
    qt_quant(s, x, 1, 0, (float[]){0.5f}, (int32_t[]){-3});
    /* w: int8 [4, 8] per-channel, sparse 1x4 blocks: 2 block columns */
    int8_t wv[3 * 4] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
    uint8_t rp[5] = {0, 1, 1, 2, 3};
    uint8_t ci[3] = {1, 0, 1};
    int32_t w = qt_tensor(s, "w", QLITE_DTYPE_INT8, 2, (int64_t[]){4, 8}, qt_buffer(s, wv, sizeof wv));
    qt_quant(s, w, 4, 0, (float[]){0.25f, 0.125f, 0.5f, 1.0f}, (int32_t[]){0, 0, 0, 0});
    qlite_sparsity *sp = qt_sparsity(s, w);
    sp->block_rows = 1;
    sp->block_cols = 4;
    sp->row_ptr_type = QLITE_INDEX_UINT8;
    sp->col_index_type = QLITE_INDEX_UINT8;
    sp->row_ptr_buffer = qt_buffer(s, rp, sizeof rp);
    sp->col_index_buffer = qt_buffer(s, ci, sizeof ci);
    sp->nnz_blocks = 3;
    int32_t bias_v[4] = {10, -20, 30, -40};
    int32_t b = qt_tensor(s, "b", QLITE_DTYPE_INT32, 1, (int64_t[]){4}, qt_buffer(s, bias_v, 16));
    qt_quant(s, b, 4, 0, (float[]){0.125f, 0.0625f, 0.25f, 0.5f}, NULL);
    int32_t h = qt_tensor(s, "h", QLITE_DTYPE_INT8, 2, (int64_t[]){-1, 4}, 0);
    qt_quant(s, h, 1, 0, (float[]){0.75f}, (int32_t[]){5});
    /* k: float32 [4] clustered, 3 clusters -> 2-bit indices, codebook of 4 */
    float cb[4] = {-1.0f, 0.0f, 2.5f, 0.0f};
    uint8_t idx[1] = {0x24}; /* 0,1,2,0 */
    int32_t k = qt_tensor(s, "k", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){4}, qt_buffer(s, idx, 1));
    qlite_clustering *cl = qt_clustering(s, k);
    cl->num_clusters = 3;
    cl->index_bits = 2;
    cl->codebook_buffer = qt_buffer(s, cb, sizeof cb);
    int32_t hf = qt_tensor(s, "hf", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){-1, 4}, 0);
    int32_t y = qt_tensor(s, "y", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){-1, 4}, 0);

    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    o.u.fully_connected.activation = QLITE_ACT_RELU;
    qt_op(s, QLITE_OP_FULLY_CONNECTED, "fc", 3, (int32_t[]){x, w, b}, 1, (int32_t[]){h}, &o);
    qt_op(s, QLITE_OP_DEQUANTIZE, "deq", 1, (int32_t[]){h}, 1, (int32_t[]){hf}, NULL);
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    o.u.binary.activation = QLITE_ACT_RELU6;
    qt_op(s, QLITE_OP_MUL, "scale", 2, (int32_t[]){hf, k}, 1, (int32_t[]){y}, &o);
    s->inputs[0] = x;
    s->num_inputs = 1;
    s->outputs[0] = y;
    s->num_outputs = 1;
    s->metadata[0].key = "quant_mode";
    s->metadata[0].value = "int8";
    s->num_metadata = 1;
}

static const int64_t k_new_shape[2] = {-1, 32};
static const int32_t k_perm[4] = {0, 3, 1, 2};
static const int64_t k_sizes[2] = {1, 1};
static const int64_t k_starts[2] = {0, 1}, k_ends[2] = {2, INT64_MAX}, k_steps[2] = {1, -2};
static const int32_t k_axes[2] = {1, 2};
static const int64_t k_pads[8] = {0, 1, 1, 0, 0, 1, 1, 0};

/* Options of `type` with values unlike the defaults; `v` picks enum values. */
static void sample_options(qlite_options_type type, uint32_t v, qlite_op_options *o) {
    qlite_op_options_default(type, o);
    switch (type) {
    case QLITE_OPTIONS_CONV_2D:
        o->u.conv2d = (qlite_conv2d_options){2, 3, 4, 5, 1, 2, 3, 4, 6, 7, 8,
                                             (qlite_activation)(v % 4)};
        break;
    case QLITE_OPTIONS_POOL_2D:
        o->u.pool2d = (qlite_pool2d_options){2, 3, 4, 5, 6, 7, 1, 2, 3, 4, true, true,
                                             (qlite_activation)((v + 1) % 4)};
        break;
    case QLITE_OPTIONS_FULLY_CONNECTED:
        o->u.fully_connected.activation = (qlite_activation)((v + 2) % 4);
        o->u.fully_connected.keep_num_dims = false;
        break;
    case QLITE_OPTIONS_BATCH_MATMUL:
        o->u.batch_matmul = (qlite_batch_matmul_options){true, true, (qlite_activation)(v % 4)};
        break;
    case QLITE_OPTIONS_BINARY: o->u.binary.activation = (qlite_activation)(v % 4); break;
    case QLITE_OPTIONS_ACTIVATION:
        o->u.activation = (qlite_activation_options){0.25f * (float)(v + 1), 0.5f, -2.0f, 6.0f,
                                                     v % 2 == 1};
        break;
    case QLITE_OPTIONS_SOFTMAX: o->u.softmax = (qlite_softmax_options){1, 2.0f}; break;
    case QLITE_OPTIONS_RESHAPE:
        o->u.reshape.rank = 2;
        o->u.reshape.new_shape = k_new_shape;
        break;
    case QLITE_OPTIONS_TRANSPOSE:
        o->u.transpose.rank = 4;
        o->u.transpose.perm = k_perm;
        break;
    case QLITE_OPTIONS_CONCATENATION:
        o->u.concatenation = (qlite_concatenation_options){3, QLITE_ACT_RELU};
        break;
    case QLITE_OPTIONS_SPLIT:
        o->u.split.axis = 3;
        o->u.split.count = 2;
        o->u.split.sizes = k_sizes;
        break;
    case QLITE_OPTIONS_SLICE:
        o->u.slice.count = 2;
        o->u.slice.starts = k_starts;
        o->u.slice.ends = k_ends;
        if (v % 2 == 0) { /* variant 1: axes and steps absent (reader fills defaults) */
            o->u.slice.axes = k_axes;
            o->u.slice.steps = k_steps;
        }
        break;
    case QLITE_OPTIONS_PAD:
        o->u.pad.count = 8;
        o->u.pad.pads = k_pads;
        o->u.pad.mode = (qlite_pad_mode)(v % 3);
        o->u.pad.value = 1.5f;
        break;
    case QLITE_OPTIONS_GATHER: o->u.gather.axis = 2; break;
    case QLITE_OPTIONS_REDUCE:
        o->u.reduce.count = 2;
        o->u.reduce.axes = k_axes;
        o->u.reduce.keep_dims = false;
        break;
    case QLITE_OPTIONS_NORM: o->u.norm = (qlite_norm_options){3, 0.001f}; break;
    case QLITE_OPTIONS_RESIZE:
        o->u.resize = (qlite_resize_options){(qlite_resize_mode)(v % 2),
                                             (qlite_coord_transform)(v % 5),
                                             (qlite_nearest_mode)(v % 4), 8, 8, 2.0f, 2.0f, -0.5f};
        break;
    case QLITE_OPTIONS_RNN:
        o->u.rnn = (qlite_rnn_options){16, (qlite_rnn_direction)(v % 3), true, true, 3.0f};
        break;
    case QLITE_OPTIONS_CAST: o->u.cast.to = (qlite_dtype)(v % QLITE_DTYPE_COUNT); break;
    default: break;
    }
}

/* The options table each op code takes (schema/qlite.fbs comments). */
static qlite_options_type options_for(qlite_op_code c) {
    switch (c) {
    case QLITE_OP_CONV_2D:
    case QLITE_OP_DEPTHWISE_CONV_2D:
    case QLITE_OP_TRANSPOSE_CONV_2D: return QLITE_OPTIONS_CONV_2D;
    case QLITE_OP_FULLY_CONNECTED: return QLITE_OPTIONS_FULLY_CONNECTED;
    case QLITE_OP_BATCH_MATMUL: return QLITE_OPTIONS_BATCH_MATMUL;
    case QLITE_OP_ADD: case QLITE_OP_SUB: case QLITE_OP_MUL: case QLITE_OP_DIV:
    case QLITE_OP_POW: case QLITE_OP_MINIMUM: case QLITE_OP_MAXIMUM: return QLITE_OPTIONS_BINARY;
    case QLITE_OP_LEAKY_RELU: case QLITE_OP_CLIP: case QLITE_OP_HARD_SIGMOID:
    case QLITE_OP_GELU: case QLITE_OP_ELU: return QLITE_OPTIONS_ACTIVATION;
    case QLITE_OP_SOFTMAX: case QLITE_OP_LOG_SOFTMAX: return QLITE_OPTIONS_SOFTMAX;
    case QLITE_OP_MAX_POOL_2D: case QLITE_OP_AVERAGE_POOL_2D: return QLITE_OPTIONS_POOL_2D;
    case QLITE_OP_RESHAPE: return QLITE_OPTIONS_RESHAPE;
    case QLITE_OP_TRANSPOSE: return QLITE_OPTIONS_TRANSPOSE;
    case QLITE_OP_CONCATENATION: return QLITE_OPTIONS_CONCATENATION;
    case QLITE_OP_SPLIT: return QLITE_OPTIONS_SPLIT;
    case QLITE_OP_SLICE: return QLITE_OPTIONS_SLICE;
    case QLITE_OP_PAD: return QLITE_OPTIONS_PAD;
    case QLITE_OP_GATHER: return QLITE_OPTIONS_GATHER;
    case QLITE_OP_REDUCE_MEAN: case QLITE_OP_REDUCE_SUM: case QLITE_OP_REDUCE_MAX:
    case QLITE_OP_REDUCE_MIN: return QLITE_OPTIONS_REDUCE;
    case QLITE_OP_BATCH_NORM: case QLITE_OP_LAYER_NORM: return QLITE_OPTIONS_NORM;
    case QLITE_OP_RESIZE: return QLITE_OPTIONS_RESIZE;
    case QLITE_OP_LSTM: case QLITE_OP_GRU: return QLITE_OPTIONS_RNN;
    case QLITE_OP_CAST: return QLITE_OPTIONS_CAST;
    default: return QLITE_OPTIONS_NONE;
    }
}

void qlite_test_model_everything(qlite_test_model *s) {
    s->producer = "qlite tests (everything model) \"quoted\"";
    s->description = "every table, field, op code, options type and enum value";
    s->graph_name = "main";
    s->version_minor = QLITE_FORMAT_VERSION_MINOR;
    int32_t x = qt_tensor(s, "x", QLITE_DTYPE_FLOAT32, 4, (int64_t[]){-1, 4, 4, 2}, 0);
    s->inputs[s->num_inputs++] = x;

    /* one dense constant per dtype */
    float f6[6] = {1.5f, -2.0f, 3.0f, -4.0f, 5.0f, -6.25f};
    int32_t c_f32 = qt_tensor(s, "c.f32", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 3},
                              qt_buffer(s, f6, sizeof f6));
    uint16_t h3[3] = {0x3c00, 0xc000, 0x7bff};
    int32_t c_f16 = qt_tensor(s, "c.f16", QLITE_DTYPE_FLOAT16, 1, (int64_t[]){3},
                              qt_buffer(s, h3, sizeof h3));
    int8_t i8[6] = {-127, -1, 0, 1, 64, 127};
    int32_t c_i8 = qt_tensor(s, "c.i8", QLITE_DTYPE_INT8, 2, (int64_t[]){3, 2},
                             qt_buffer(s, i8, sizeof i8));
    qlite_quant *q = qt_quant(s, c_i8, 3, 0, (float[]){0.5f, 0.25f, 0.125f}, (int32_t[]){0, 0, 0});
    q->range_count = 3;
    q->min = qt_f32(s, 3, (float[]){-1.0f, -2.0f, -3.0f});
    q->max = qt_f32(s, 3, (float[]){1.0f, 2.0f, 3.5f});
    uint8_t u8[4] = {0, 128, 200, 255};
    int32_t c_u8 = qt_tensor(s, "c.u8", QLITE_DTYPE_UINT8, 1, (int64_t[]){4}, qt_buffer(s, u8, 4));
    qt_quant(s, c_u8, 1, 0, (float[]){0.0625f}, (int32_t[]){128});
    int16_t i16[2] = {-300, 300};
    int32_t c_i16 = qt_tensor(s, "c.i16", QLITE_DTYPE_INT16, 1, (int64_t[]){2},
                              qt_buffer(s, i16, sizeof i16));
    qt_quant(s, c_i16, 1, 0, (float[]){0.01f}, (int32_t[]){-5});
    int32_t i32v[3] = {-100000, 0, 7};
    int32_t c_i32 = qt_tensor(s, "c.i32", QLITE_DTYPE_INT32, 1, (int64_t[]){3},
                              qt_buffer(s, i32v, sizeof i32v));
    qt_quant(s, c_i32, 3, 0, (float[]){0.001f, 0.002f, 0.004f}, NULL); /* zero points absent */
    int64_t i64v[2] = {INT64_MIN + 1, 5};
    int32_t c_i64 = qt_tensor(s, "c.i64", QLITE_DTYPE_INT64, 1, (int64_t[]){2},
                              qt_buffer(s, i64v, sizeof i64v));
    uint8_t bl[3] = {0, 1, 1};
    int32_t c_bool = qt_tensor(s, "c.bool", QLITE_DTYPE_BOOL, 1, (int64_t[]){3}, qt_buffer(s, bl, 3));
    uint8_t i4[3] = {0x1f, 0x7e, 0x08};
    int32_t c_i4 = qt_tensor(s, "c.i4", QLITE_DTYPE_INT4, 1, (int64_t[]){5}, qt_buffer(s, i4, 3));
    qt_quant(s, c_i4, 1, 0, (float[]){0.5f}, (int32_t[]){-1});
    float scalar = 42.0f;
    int32_t c_scalar = qt_tensor(s, "c.scalar", QLITE_DTYPE_FLOAT32, 0, NULL,
                                 qt_buffer(s, &scalar, 4));

    /* O16I4: int8 [20, 6] -> [2][2][16][4] = 256 bytes */
    uint8_t packed[256];
    for (int i = 0; i < 256; i++) packed[i] = (uint8_t)(i * 7);
    int32_t c_packed = qt_tensor(s, "c.packed", QLITE_DTYPE_INT8, 2, (int64_t[]){20, 6},
                                 qt_buffer(s, packed, sizeof packed));
    s->tensors[c_packed].layout = QLITE_LAYOUT_O16I4;
    qt_quant(s, c_packed, 1, 0, (float[]){0.03125f}, (int32_t[]){0});

    /* sparse 1x4 blocks, float32 [4, 8]: row_ptr uint8, col_index uint16 */
    uint8_t rp8[5] = {0, 1, 1, 2, 3};
    uint16_t ci16[3] = {1, 0, 1};
    float sv[12];
    for (int i = 0; i < 12; i++) sv[i] = (float)(i + 1) * 0.5f;
    int32_t c_sp1 = qt_tensor(s, "c.sparse1x4", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){4, 8},
                              qt_buffer(s, sv, sizeof sv));
    qlite_sparsity *sp = qt_sparsity(s, c_sp1);
    *sp = (qlite_sparsity){1, 4, QLITE_INDEX_UINT8, QLITE_INDEX_UINT16, qt_buffer(s, rp8, 5),
                           qt_buffer(s, ci16, 6), 3, NULL, NULL};

    /* sparse 2x1 blocks, int8 [6, 4] per-channel: row_ptr uint32, col_index uint8 */
    uint32_t rp32[4] = {0, 2, 2, 4};
    uint8_t ci8[4] = {0, 3, 1, 2};
    int8_t sv8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int32_t c_sp2 = qt_tensor(s, "c.sparse2x1", QLITE_DTYPE_INT8, 2, (int64_t[]){6, 4},
                              qt_buffer(s, sv8, 8));
    qt_quant(s, c_sp2, 6, 0, (float[]){0.5f, 0.5f, 0.25f, 0.25f, 1.0f, 2.0f},
             (int32_t[]){0, 1, -1, 2, -2, 3}); /* absent elements: the zero point */
    sp = qt_sparsity(s, c_sp2);
    *sp = (qlite_sparsity){2, 1, QLITE_INDEX_UINT32, QLITE_INDEX_UINT8, qt_buffer(s, rp32, 16),
                           qt_buffer(s, ci8, 4), 4, NULL, NULL};

    /* clustered float32 [3, 5], 5 clusters -> 3-bit indices, codebook of 8 */
    float cb8[8] = {-2.0f, -1.0f, 0.0f, 1.0f, 2.0f, 0.0f, 0.0f, 0.0f};
    uint8_t bits45[6] = {0x88, 0xc6, 0xfa, 0x12, 0x34, 0x05};
    int32_t c_cl = qt_tensor(s, "c.clustered", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){3, 5},
                             qt_buffer(s, bits45, 6));
    qlite_clustering *cl = qt_clustering(s, c_cl);
    *cl = (qlite_clustering){5, 3, false, qt_buffer(s, cb8, sizeof cb8), NULL};

    /* clustered per row, int8 [2, 4], 2 clusters -> 1 bit, 2 x 2 codebook */
    int8_t cbr[4] = {-10, 10, -20, 20};
    uint8_t bits8 = 0xa5;
    int32_t c_clr = qt_tensor(s, "c.clustered_rows", QLITE_DTYPE_INT8, 2, (int64_t[]){2, 4},
                              qt_buffer(s, &bits8, 1));
    qt_quant(s, c_clr, 1, 0, (float[]){0.1f}, (int32_t[]){0});
    cl = qt_clustering(s, c_clr);
    *cl = (qlite_clustering){2, 1, true, qt_buffer(s, cbr, 4), NULL};

    /* sparse 1x1 and clustered: float32 [2, 4], row_ptr uint16, col_index uint32 */
    uint16_t rp16[3] = {0, 2, 3};
    uint32_t ci32[3] = {0, 3, 2};
    float cb4[4] = {0.5f, -0.5f, 4.0f, 0.0f};
    uint8_t bits6 = 0x24;
    int32_t c_spcl = qt_tensor(s, "c.sparse_clustered", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 4},
                               qt_buffer(s, &bits6, 1));
    sp = qt_sparsity(s, c_spcl);
    *sp = (qlite_sparsity){1, 1, QLITE_INDEX_UINT16, QLITE_INDEX_UINT32, qt_buffer(s, rp16, 6),
                           qt_buffer(s, ci32, 12), 3, NULL, NULL};
    cl = qt_clustering(s, c_spcl);
    *cl = (qlite_clustering){3, 2, false, qt_buffer(s, cb4, sizeof cb4), NULL};

    int32_t consts[] = {c_f32, c_f16, c_i8, c_u8, c_i16, c_i32, c_i64, c_bool, c_i4,
                        c_scalar, c_packed, c_sp1, c_sp2, c_cl, c_clr, c_spcl};
    uint32_t nconsts = (uint32_t)(sizeof consts / sizeof consts[0]);

    /* One op per op code (several where an enum has more values to cover),
     * each producing a new tensor; inputs cycle through the constants, and
     * every fifth op also reads the previous op's output. */
    int32_t prev = x;
    uint32_t k = 0;
    for (int c = 0; c < QLITE_OP_COUNT; c++) {
        uint32_t variants = c == QLITE_OP_PAD ? 3 : c == QLITE_OP_RESIZE ? 5
                          : c == QLITE_OP_LSTM ? 3 : c == QLITE_OP_CAST ? QLITE_DTYPE_COUNT
                          : c == QLITE_OP_SLICE ? 2 : 1;
        for (uint32_t v = 0; v < variants; v++, k++) {
            char name[48];
            snprintf(name, sizeof name, "t%u", k);
            int32_t out = qt_tensor(s, name, QLITE_DTYPE_FLOAT32, 4, (int64_t[]){-1, 4, 4, 2}, 0);
            qlite_op_options o;
            uint32_t variant = (c >= QLITE_OP_ADD && c <= QLITE_OP_MAXIMUM) ? (uint32_t)c : v;
            sample_options(options_for((qlite_op_code)c), variant, &o);
            int32_t in[3] = {k % 5 == 4 ? prev : x, consts[k % nconsts], -1};
            snprintf(name, sizeof name, "node/%s_%u", qlite_op_name((qlite_op_code)c), v);
            qt_op(s, (qlite_op_code)c, v == 0 || c != QLITE_OP_CAST ? name : NULL, 3, in, 1,
                  &out, &o);
            s->outputs[s->num_outputs++] = out;
            prev = out;
        }
    }
    /* Options NONE on ops whose table has parameters: the reader must hand
     * out the schema defaults of the right table. */
    const qlite_op_code none_ops[] = {QLITE_OP_SOFTMAX, QLITE_OP_CONV_2D, QLITE_OP_REDUCE_SUM};
    for (uint32_t i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%u", i);
        int32_t out = qt_tensor(s, name, QLITE_DTYPE_FLOAT32, 4, (int64_t[]){-1, 4, 4, 2}, 0);
        int32_t op = qt_op(s, none_ops[i], "defaults", 1, &x, 1, &out, NULL);
        s->none_as[op] = options_for(none_ops[i]);
        s->outputs[s->num_outputs++] = out;
    }

    s->metadata[0].key = "labels";
    s->metadata[0].value = "cat,dog";
    static const uint8_t blob[7] = {1, 2, 3, 0, 255, 254, 7};
    s->metadata[1].key = "calibration";
    s->metadata[1].buffer = qt_buffer(s, blob, sizeof blob);
    s->metadata[2].key = "empty";
    s->metadata[2].value = "";
    s->num_metadata = 3;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

qlite_status qlite_test_model_writer(const qlite_test_model *s, qlite_writer **out) {
    qlite_writer *w;
    qlite_status st = qlite_writer_create(&w);
    if (st) return st;
    qlite_writer_set_version(w, s->version_major, s->version_minor);
    if ((s->producer && (st = qlite_writer_set_producer(w, s->producer))) ||
        (s->description && (st = qlite_writer_set_description(w, s->description))) ||
        (s->graph_name && (st = qlite_writer_set_graph_name(w, s->graph_name))))
        goto fail;
    /* Buffers first, in order, so that indices match the spec's. */
    for (uint32_t i = 1; i < s->num_buffers; i++) {
        bool is_blob = false;
        for (uint32_t j = 0; j < s->num_metadata; j++)
            if (!s->metadata[j].value && s->metadata[j].buffer == i) is_blob = true;
        if (is_blob) continue; /* added by add_metadata_blob below, in order */
        if (qlite_writer_add_buffer(w, s->buffer_data[i], s->buffer_size[i]) != (int64_t)i) {
            st = QLITE_ERR_INVALID_ARGUMENT;
            goto fail;
        }
    }
    for (uint32_t i = 0; i < s->num_metadata; i++) {
        st = s->metadata[i].value
                 ? qlite_writer_add_metadata(w, s->metadata[i].key, s->metadata[i].value)
                 : qlite_writer_add_metadata_blob(w, s->metadata[i].key,
                                                  s->buffer_data[s->metadata[i].buffer],
                                                  s->buffer_size[s->metadata[i].buffer]);
        if (st) goto fail;
    }
    for (uint32_t i = 0; i < s->num_tensors; i++)
        if (qlite_writer_add_tensor(w, &s->tensors[i]) != (int32_t)i) {
            st = QLITE_ERR_INVALID_ARGUMENT;
            goto fail;
        }
    for (uint32_t i = 0; i < s->num_ops; i++)
        if (qlite_writer_add_op(w, &s->ops[i]) != (int32_t)i) {
            st = QLITE_ERR_INVALID_ARGUMENT;
            goto fail;
        }
    if ((st = qlite_writer_set_inputs(w, s->num_inputs, s->inputs)) ||
        (st = qlite_writer_set_outputs(w, s->num_outputs, s->outputs)))
        goto fail;
    *out = w;
    return QLITE_OK;
fail:
    qlite_writer_destroy(w);
    return st;
}

qlite_status qlite_writer_write_memory_unchecked(qlite_writer *w, void **out, size_t *size);

qlite_status qlite_test_model_bytes(const qlite_test_model *s, bool checked, void **bytes,
                                    size_t *size) {
    qlite_writer *w;
    qlite_status st = qlite_test_model_writer(s, &w);
    if (st) return st;
    st = checked ? qlite_writer_write_memory(w, bytes, size)
                 : qlite_writer_write_memory_unchecked(w, bytes, size);
    qlite_writer_destroy(w);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Checking an opened model against the spec                                 */
/* ------------------------------------------------------------------------ */

static void check_bytes(const void *got, const void *want, size_t n) {
    if (n == 0) return;
    assert_non_null(got);
    assert_memory_equal(got, want, n);
}

static void check_options(const qlite_op_options *got, const qlite_op_options *want) {
    assert_int_equal(got->type, want->type);
    switch (want->type) {
    case QLITE_OPTIONS_CONV_2D: {
        const qlite_conv2d_options *a = &got->u.conv2d, *b = &want->u.conv2d;
        assert_int_equal(a->stride_h, b->stride_h);
        assert_int_equal(a->stride_w, b->stride_w);
        assert_int_equal(a->dilation_h, b->dilation_h);
        assert_int_equal(a->dilation_w, b->dilation_w);
        assert_int_equal(a->pad_top, b->pad_top);
        assert_int_equal(a->pad_left, b->pad_left);
        assert_int_equal(a->pad_bottom, b->pad_bottom);
        assert_int_equal(a->pad_right, b->pad_right);
        assert_int_equal(a->groups, b->groups);
        assert_int_equal(a->output_pad_h, b->output_pad_h);
        assert_int_equal(a->output_pad_w, b->output_pad_w);
        assert_int_equal(a->activation, b->activation);
        break;
    }
    case QLITE_OPTIONS_POOL_2D: {
        const qlite_pool2d_options *a = &got->u.pool2d, *b = &want->u.pool2d;
        assert_int_equal(a->filter_h, b->filter_h);
        assert_int_equal(a->filter_w, b->filter_w);
        assert_int_equal(a->stride_h, b->stride_h);
        assert_int_equal(a->stride_w, b->stride_w);
        assert_int_equal(a->dilation_h, b->dilation_h);
        assert_int_equal(a->dilation_w, b->dilation_w);
        assert_int_equal(a->pad_top, b->pad_top);
        assert_int_equal(a->pad_left, b->pad_left);
        assert_int_equal(a->pad_bottom, b->pad_bottom);
        assert_int_equal(a->pad_right, b->pad_right);
        assert_int_equal(a->ceil_mode, b->ceil_mode);
        assert_int_equal(a->count_include_pad, b->count_include_pad);
        assert_int_equal(a->activation, b->activation);
        break;
    }
    case QLITE_OPTIONS_FULLY_CONNECTED:
        assert_int_equal(got->u.fully_connected.activation, want->u.fully_connected.activation);
        assert_int_equal(got->u.fully_connected.keep_num_dims,
                         want->u.fully_connected.keep_num_dims);
        break;
    case QLITE_OPTIONS_BATCH_MATMUL:
        assert_int_equal(got->u.batch_matmul.transpose_a, want->u.batch_matmul.transpose_a);
        assert_int_equal(got->u.batch_matmul.transpose_b, want->u.batch_matmul.transpose_b);
        assert_int_equal(got->u.batch_matmul.activation, want->u.batch_matmul.activation);
        break;
    case QLITE_OPTIONS_BINARY:
        assert_int_equal(got->u.binary.activation, want->u.binary.activation);
        break;
    case QLITE_OPTIONS_ACTIVATION:
        assert_true(got->u.activation.alpha == want->u.activation.alpha);
        assert_true(got->u.activation.beta == want->u.activation.beta);
        assert_true(got->u.activation.min == want->u.activation.min);
        assert_true(got->u.activation.max == want->u.activation.max);
        assert_int_equal(got->u.activation.approximate, want->u.activation.approximate);
        break;
    case QLITE_OPTIONS_SOFTMAX:
        assert_int_equal(got->u.softmax.axis, want->u.softmax.axis);
        assert_true(got->u.softmax.beta == want->u.softmax.beta);
        break;
    case QLITE_OPTIONS_RESHAPE:
        assert_int_equal(got->u.reshape.rank, want->u.reshape.rank);
        check_bytes(got->u.reshape.new_shape, want->u.reshape.new_shape, want->u.reshape.rank * 8);
        break;
    case QLITE_OPTIONS_TRANSPOSE:
        assert_int_equal(got->u.transpose.rank, want->u.transpose.rank);
        check_bytes(got->u.transpose.perm, want->u.transpose.perm, want->u.transpose.rank * 4);
        break;
    case QLITE_OPTIONS_CONCATENATION:
        assert_int_equal(got->u.concatenation.axis, want->u.concatenation.axis);
        assert_int_equal(got->u.concatenation.activation, want->u.concatenation.activation);
        break;
    case QLITE_OPTIONS_SPLIT:
        assert_int_equal(got->u.split.axis, want->u.split.axis);
        assert_int_equal(got->u.split.count, want->u.split.count);
        check_bytes(got->u.split.sizes, want->u.split.sizes, want->u.split.count * 8);
        break;
    case QLITE_OPTIONS_SLICE: {
        uint32_t n = want->u.slice.count;
        assert_int_equal(got->u.slice.count, n);
        check_bytes(got->u.slice.starts, want->u.slice.starts, n * 8);
        check_bytes(got->u.slice.ends, want->u.slice.ends, n * 8);
        for (uint32_t i = 0; i < n; i++) { /* absent axes = 0..n-1, absent steps = 1 */
            assert_int_equal(got->u.slice.axes[i], want->u.slice.axes ? want->u.slice.axes[i] : (int32_t)i);
            assert_int_equal(got->u.slice.steps[i], want->u.slice.steps ? want->u.slice.steps[i] : 1);
        }
        break;
    }
    case QLITE_OPTIONS_PAD:
        assert_int_equal(got->u.pad.count, want->u.pad.count);
        check_bytes(got->u.pad.pads, want->u.pad.pads, want->u.pad.count * 8);
        assert_int_equal(got->u.pad.mode, want->u.pad.mode);
        assert_true(got->u.pad.value == want->u.pad.value);
        break;
    case QLITE_OPTIONS_GATHER: assert_int_equal(got->u.gather.axis, want->u.gather.axis); break;
    case QLITE_OPTIONS_REDUCE:
        assert_int_equal(got->u.reduce.count, want->u.reduce.count);
        check_bytes(got->u.reduce.axes, want->u.reduce.axes, want->u.reduce.count * 4);
        assert_int_equal(got->u.reduce.keep_dims, want->u.reduce.keep_dims);
        break;
    case QLITE_OPTIONS_NORM:
        assert_int_equal(got->u.norm.axis, want->u.norm.axis);
        assert_true(got->u.norm.epsilon == want->u.norm.epsilon);
        break;
    case QLITE_OPTIONS_RESIZE: {
        const qlite_resize_options *a = &got->u.resize, *b = &want->u.resize;
        assert_int_equal(a->mode, b->mode);
        assert_int_equal(a->coordinate_transform, b->coordinate_transform);
        assert_int_equal(a->nearest_mode, b->nearest_mode);
        assert_int_equal(a->out_h, b->out_h);
        assert_int_equal(a->out_w, b->out_w);
        assert_true(a->scale_h == b->scale_h && a->scale_w == b->scale_w);
        assert_true(a->cubic_coeff_a == b->cubic_coeff_a);
        break;
    }
    case QLITE_OPTIONS_RNN: {
        const qlite_rnn_options *a = &got->u.rnn, *b = &want->u.rnn;
        assert_int_equal(a->hidden_size, b->hidden_size);
        assert_int_equal(a->direction, b->direction);
        assert_int_equal(a->batch_first, b->batch_first);
        assert_int_equal(a->linear_before_reset, b->linear_before_reset);
        assert_true(a->clip == b->clip);
        break;
    }
    case QLITE_OPTIONS_CAST: assert_int_equal(got->u.cast.to, want->u.cast.to); break;
    default: break;
    }
}

/* Schema defaults, typed in from schema/qlite.fbs (not from the library). */
static void schema_defaults(qlite_options_type type, qlite_op_options *o) {
    memset(o, 0, sizeof *o);
    o->type = type;
    switch (type) {
    case QLITE_OPTIONS_CONV_2D:
        o->u.conv2d.stride_h = o->u.conv2d.stride_w = 1;
        o->u.conv2d.dilation_h = o->u.conv2d.dilation_w = 1;
        o->u.conv2d.groups = 1;
        break;
    case QLITE_OPTIONS_SOFTMAX:
        o->u.softmax.axis = -1;
        o->u.softmax.beta = 1.0f;
        break;
    case QLITE_OPTIONS_REDUCE: o->u.reduce.keep_dims = true; break;
    default: fail_msg("no schema defaults typed in for options type %d", (int)type);
    }
}

void qlite_test_model_check(const qlite_test_model *s, const qlite_model *m) {
    uint32_t major, minor;
    qlite_model_version(m, &major, &minor);
    assert_int_equal(major, s->version_major);
    assert_int_equal(minor, s->version_minor);
    assert_string_equal(qlite_model_producer(m), s->producer ? s->producer : "");
    assert_string_equal(qlite_model_description(m), s->description ? s->description : "");

    assert_int_equal(qlite_model_buffer_count(m), s->num_buffers);
    for (uint32_t i = 0; i < s->num_buffers; i++) {
        qlite_buffer_info b;
        assert_int_equal(qlite_model_buffer(m, i, &b), QLITE_OK);
        assert_int_equal(b.size, s->buffer_size[i]);
        assert_int_equal(b.offset % 64, 0);
        check_bytes(b.data, s->buffer_data[i], s->buffer_size[i]);
        if (b.size == 0) assert_null(b.data);
    }

    assert_int_equal(qlite_model_tensor_count(m), s->num_tensors);
    for (uint32_t i = 0; i < s->num_tensors; i++) {
        const qlite_tensor_info *g = qlite_model_tensor(m, i), *w = &s->tensors[i];
        assert_non_null(g);
        assert_string_equal(g->name, w->name ? w->name : "");
        assert_int_equal(g->dtype, w->dtype);
        assert_int_equal(g->rank, w->rank);
        for (uint32_t d = 0; d < w->rank; d++) assert_int_equal(g->shape[d], w->shape[d]);
        assert_int_equal(g->buffer, w->buffer);
        assert_int_equal(g->layout, w->layout);
        assert_int_equal(g->data_size, w->buffer ? s->buffer_size[w->buffer] : 0);
        if (w->buffer) check_bytes(g->data, s->buffer_data[w->buffer], g->data_size);
        else assert_null(g->data);
        if (!w->quant) {
            assert_null(g->quant);
        } else {
            const qlite_quant *a = g->quant, *b = w->quant;
            assert_non_null(a);
            assert_int_equal(a->count, b->count);
            if (b->count > 1) assert_int_equal(a->axis, b->axis);
            for (uint32_t c = 0; c < b->count; c++) {
                assert_true(a->scale[c] == b->scale[c]);
                assert_int_equal(a->zero_point[c], b->zero_point ? b->zero_point[c] : 0);
            }
            assert_int_equal(a->range_count, b->range_count);
            for (uint32_t c = 0; c < b->range_count; c++) {
                assert_true(a->min[c] == b->min[c]);
                assert_true(a->max[c] == b->max[c]);
            }
        }
        if (!w->sparsity) {
            assert_null(g->sparsity);
        } else {
            const qlite_sparsity *a = g->sparsity, *b = w->sparsity;
            assert_non_null(a);
            assert_int_equal(a->block_rows, b->block_rows);
            assert_int_equal(a->block_cols, b->block_cols);
            assert_int_equal(a->row_ptr_type, b->row_ptr_type);
            assert_int_equal(a->col_index_type, b->col_index_type);
            assert_int_equal(a->row_ptr_buffer, b->row_ptr_buffer);
            assert_int_equal(a->col_index_buffer, b->col_index_buffer);
            assert_int_equal(a->nnz_blocks, b->nnz_blocks);
            check_bytes(a->row_ptr, s->buffer_data[b->row_ptr_buffer], s->buffer_size[b->row_ptr_buffer]);
            check_bytes(a->col_index, s->buffer_data[b->col_index_buffer],
                        s->buffer_size[b->col_index_buffer]);
        }
        if (!w->clustering) {
            assert_null(g->clustering);
        } else {
            const qlite_clustering *a = g->clustering, *b = w->clustering;
            assert_non_null(a);
            assert_int_equal(a->num_clusters, b->num_clusters);
            assert_int_equal(a->index_bits, b->index_bits);
            assert_int_equal(a->per_row, b->per_row);
            assert_int_equal(a->codebook_buffer, b->codebook_buffer);
            check_bytes(a->codebook, s->buffer_data[b->codebook_buffer],
                        s->buffer_size[b->codebook_buffer]);
        }
    }

    assert_int_equal(qlite_model_op_count(m), s->num_ops);
    for (uint32_t i = 0; i < s->num_ops; i++) {
        const qlite_op_info *g = qlite_model_op(m, i), *w = &s->ops[i];
        assert_non_null(g);
        assert_int_equal(g->code, w->code);
        assert_string_equal(g->name, w->name ? w->name : "");
        assert_int_equal(g->num_inputs, w->num_inputs);
        assert_int_equal(g->num_outputs, w->num_outputs);
        check_bytes(g->inputs, w->inputs, w->num_inputs * 4);
        check_bytes(g->outputs, w->outputs, w->num_outputs * 4);
        if (w->options.type == QLITE_OPTIONS_NONE && s->none_as[i] != QLITE_OPTIONS_NONE) {
            qlite_op_options d;
            schema_defaults(s->none_as[i], &d);
            check_options(&g->options, &d);
        } else {
            check_options(&g->options, &w->options);
        }
    }
    assert_int_equal(qlite_model_input_count(m), s->num_inputs);
    for (uint32_t i = 0; i < s->num_inputs; i++) assert_int_equal(qlite_model_input(m, i), s->inputs[i]);
    assert_int_equal(qlite_model_output_count(m), s->num_outputs);
    for (uint32_t i = 0; i < s->num_outputs; i++)
        assert_int_equal(qlite_model_output(m, i), s->outputs[i]);

    assert_int_equal(qlite_model_metadata_count(m), s->num_metadata);
    for (uint32_t i = 0; i < s->num_metadata; i++) {
        const qlite_metadata *g = qlite_model_metadata(m, i);
        assert_non_null(g);
        assert_string_equal(g->key, s->metadata[i].key);
        assert_string_equal(g->value, s->metadata[i].value ? s->metadata[i].value : "");
        if (!s->metadata[i].value) {
            uint32_t b = s->metadata[i].buffer;
            assert_int_equal(g->buffer, b);
            assert_int_equal(g->size, s->buffer_size[b]);
            check_bytes(g->data, s->buffer_data[b], s->buffer_size[b]);
        } else {
            assert_int_equal(g->buffer, 0);
            assert_null(g->data);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Expected flatc JSON                                                       */
/* ------------------------------------------------------------------------ */

/* Enum names as schema/qlite.fbs spells them. */
static const char *const DTYPE[] = {"FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16",
                                    "INT32",   "INT64",   "BOOL", "INT4"};
static const char *const LAYOUT[] = {"DEFAULT", "O16I4", "O16"};
static const char *const INDEX[] = {"UINT8", "UINT16", "UINT32"};
static const char *const ACT[] = {"NONE", "RELU", "RELU6", "RELU_N1_TO_1"};
static const char *const PADMODE[] = {"CONSTANT", "REFLECT", "EDGE"};
static const char *const RESIZEMODE[] = {"NEAREST", "LINEAR"};
static const char *const COORD[] = {"HALF_PIXEL", "ASYMMETRIC", "ALIGN_CORNERS",
                                    "PYTORCH_HALF_PIXEL", "TF_HALF_PIXEL_FOR_NN"};
static const char *const NEAREST[] = {"ROUND_PREFER_FLOOR", "ROUND_PREFER_CEIL", "FLOOR", "CEIL"};
static const char *const DIRECTION[] = {"FORWARD", "REVERSE", "BIDIRECTIONAL"};
static const char *const OPTIONS[] = {
    "NONE",          "Conv2DOptions",  "Pool2DOptions",       "FullyConnectedOptions",
    "BatchMatMulOptions", "BinaryOptions", "ActivationOptions", "SoftmaxOptions",
    "ReshapeOptions", "TransposeOptions", "ConcatenationOptions", "SplitOptions",
    "SliceOptions",  "PadOptions",     "GatherOptions",       "ReduceOptions",
    "NormOptions",   "ResizeOptions",  "RnnOptions",          "CastOptions"};

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned char)*s);
        else fputc(*s, f);
    }
    fputc('"', f);
}

static void json_i64s(FILE *f, const int64_t *v, uint32_t n) {
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) fprintf(f, "%s%lld", i ? "," : "", (long long)v[i]);
    fputc(']', f);
}

static void json_i32s(FILE *f, const int32_t *v, uint32_t n) {
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", v[i]);
    fputc(']', f);
}

static void json_f32s(FILE *f, const float *v, uint32_t n) {
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) fprintf(f, "%s%.9g", i ? "," : "", (double)v[i]);
    fputc(']', f);
}

#define B(x) ((x) ? "true" : "false")

static void json_options(FILE *f, const qlite_op_options *o) {
    const qlite_op_options *p = o;
    switch (o->type) {
    case QLITE_OPTIONS_CONV_2D: {
        const qlite_conv2d_options *c = &p->u.conv2d;
        fprintf(f, "{\"stride_h\":%d,\"stride_w\":%d,\"dilation_h\":%d,\"dilation_w\":%d,"
                   "\"pad_top\":%d,\"pad_left\":%d,\"pad_bottom\":%d,\"pad_right\":%d,"
                   "\"groups\":%d,\"output_pad_h\":%d,\"output_pad_w\":%d,\"activation\":\"%s\"}",
                c->stride_h, c->stride_w, c->dilation_h, c->dilation_w, c->pad_top, c->pad_left,
                c->pad_bottom, c->pad_right, c->groups, c->output_pad_h, c->output_pad_w,
                ACT[c->activation]);
        break;
    }
    case QLITE_OPTIONS_POOL_2D: {
        const qlite_pool2d_options *c = &p->u.pool2d;
        fprintf(f, "{\"filter_h\":%d,\"filter_w\":%d,\"stride_h\":%d,\"stride_w\":%d,"
                   "\"dilation_h\":%d,\"dilation_w\":%d,\"pad_top\":%d,\"pad_left\":%d,"
                   "\"pad_bottom\":%d,\"pad_right\":%d,\"ceil_mode\":%s,"
                   "\"count_include_pad\":%s,\"activation\":\"%s\"}",
                c->filter_h, c->filter_w, c->stride_h, c->stride_w, c->dilation_h, c->dilation_w,
                c->pad_top, c->pad_left, c->pad_bottom, c->pad_right, B(c->ceil_mode),
                B(c->count_include_pad), ACT[c->activation]);
        break;
    }
    case QLITE_OPTIONS_FULLY_CONNECTED:
        fprintf(f, "{\"activation\":\"%s\",\"keep_num_dims\":%s}",
                ACT[p->u.fully_connected.activation], B(p->u.fully_connected.keep_num_dims));
        break;
    case QLITE_OPTIONS_BATCH_MATMUL:
        fprintf(f, "{\"transpose_a\":%s,\"transpose_b\":%s,\"activation\":\"%s\"}",
                B(p->u.batch_matmul.transpose_a), B(p->u.batch_matmul.transpose_b),
                ACT[p->u.batch_matmul.activation]);
        break;
    case QLITE_OPTIONS_BINARY: fprintf(f, "{\"activation\":\"%s\"}", ACT[p->u.binary.activation]); break;
    case QLITE_OPTIONS_ACTIVATION:
        fprintf(f, "{\"alpha\":%.9g,\"beta\":%.9g,\"min\":%.9g,\"max\":%.9g,\"approximate\":%s}",
                (double)p->u.activation.alpha, (double)p->u.activation.beta,
                (double)p->u.activation.min, (double)p->u.activation.max,
                B(p->u.activation.approximate));
        break;
    case QLITE_OPTIONS_SOFTMAX:
        fprintf(f, "{\"axis\":%d,\"beta\":%.9g}", p->u.softmax.axis, (double)p->u.softmax.beta);
        break;
    case QLITE_OPTIONS_RESHAPE:
        fputs("{\"new_shape\":", f);
        json_i64s(f, p->u.reshape.new_shape, p->u.reshape.rank);
        fputc('}', f);
        break;
    case QLITE_OPTIONS_TRANSPOSE:
        fputs("{\"perm\":", f);
        json_i32s(f, p->u.transpose.perm, p->u.transpose.rank);
        fputc('}', f);
        break;
    case QLITE_OPTIONS_CONCATENATION:
        fprintf(f, "{\"axis\":%d,\"activation\":\"%s\"}", p->u.concatenation.axis,
                ACT[p->u.concatenation.activation]);
        break;
    case QLITE_OPTIONS_SPLIT:
        fprintf(f, "{\"axis\":%d,\"sizes\":", p->u.split.axis);
        json_i64s(f, p->u.split.sizes, p->u.split.count);
        fputc('}', f);
        break;
    case QLITE_OPTIONS_SLICE:
        fputs("{\"starts\":", f);
        json_i64s(f, p->u.slice.starts, p->u.slice.count);
        fputs(",\"ends\":", f);
        json_i64s(f, p->u.slice.ends, p->u.slice.count);
        if (p->u.slice.axes) {
            fputs(",\"axes\":", f);
            json_i32s(f, p->u.slice.axes, p->u.slice.count);
        }
        if (p->u.slice.steps) {
            fputs(",\"steps\":", f);
            json_i64s(f, p->u.slice.steps, p->u.slice.count);
        }
        fputc('}', f);
        break;
    case QLITE_OPTIONS_PAD:
        fputs("{\"pads\":", f);
        json_i64s(f, p->u.pad.pads, p->u.pad.count);
        fprintf(f, ",\"mode\":\"%s\",\"value\":%.9g}", PADMODE[p->u.pad.mode],
                (double)p->u.pad.value);
        break;
    case QLITE_OPTIONS_GATHER: fprintf(f, "{\"axis\":%d}", p->u.gather.axis); break;
    case QLITE_OPTIONS_REDUCE:
        fputs("{\"axes\":", f);
        json_i32s(f, p->u.reduce.axes, p->u.reduce.count);
        fprintf(f, ",\"keep_dims\":%s}", B(p->u.reduce.keep_dims));
        break;
    case QLITE_OPTIONS_NORM:
        fprintf(f, "{\"axis\":%d,\"epsilon\":%.9g}", p->u.norm.axis, (double)p->u.norm.epsilon);
        break;
    case QLITE_OPTIONS_RESIZE: {
        const qlite_resize_options *r = &p->u.resize;
        fprintf(f, "{\"mode\":\"%s\",\"coordinate_transform\":\"%s\",\"nearest_mode\":\"%s\","
                   "\"out_h\":%d,\"out_w\":%d,\"scale_h\":%.9g,\"scale_w\":%.9g,"
                   "\"cubic_coeff_a\":%.9g}",
                RESIZEMODE[r->mode], COORD[r->coordinate_transform], NEAREST[r->nearest_mode],
                r->out_h, r->out_w, (double)r->scale_h, (double)r->scale_w,
                (double)r->cubic_coeff_a);
        break;
    }
    case QLITE_OPTIONS_RNN: {
        const qlite_rnn_options *r = &p->u.rnn;
        fprintf(f, "{\"hidden_size\":%d,\"direction\":\"%s\",\"batch_first\":%s,"
                   "\"linear_before_reset\":%s,\"clip\":%.9g}",
                r->hidden_size, DIRECTION[r->direction], B(r->batch_first),
                B(r->linear_before_reset), (double)r->clip);
        break;
    }
    case QLITE_OPTIONS_CAST: fprintf(f, "{\"to\":\"%s\"}", DTYPE[p->u.cast.to]); break;
    default: fputs("{}", f); break;
    }
}

void qlite_test_model_expect_json(const qlite_test_model *s, FILE *f) {
    fprintf(f, "{\"version_major\":%u,\"version_minor\":%u", s->version_major, s->version_minor);
    if (s->producer) {
        fputs(",\"producer\":", f);
        json_str(f, s->producer);
    }
    if (s->description) {
        fputs(",\"description\":", f);
        json_str(f, s->description);
    }
    fputs(",\"graphs\":[{", f);
    if (s->graph_name) {
        fputs("\"name\":", f);
        json_str(f, s->graph_name);
        fputc(',', f);
    }
    fputs("\"tensors\":[", f);
    for (uint32_t i = 0; i < s->num_tensors; i++) {
        const qlite_tensor_info *t = &s->tensors[i];
        fputs(i ? ",{" : "{", f);
        if (t->name) {
            fputs("\"name\":", f);
            json_str(f, t->name);
            fputc(',', f);
        }
        fputs("\"shape\":", f);
        json_i64s(f, t->shape, t->rank);
        fprintf(f, ",\"dtype\":\"%s\",\"buffer\":%u,\"layout\":\"%s\"", DTYPE[t->dtype], t->buffer,
                LAYOUT[t->layout]);
        if (t->quant) {
            const qlite_quant *q = t->quant;
            fputs(",\"quantization\":{\"scale\":", f);
            json_f32s(f, q->scale, q->count);
            /* format.md: the writer leaves out a per-channel all-zero vector */
            bool zp_all_zero = q->count > 1;
            for (uint32_t c = 0; zp_all_zero && q->zero_point && c < q->count; c++)
                zp_all_zero = q->zero_point[c] == 0;
            if (q->zero_point && !zp_all_zero) {
                fputs(",\"zero_point\":", f);
                fputc('[', f);
                for (uint32_t c = 0; c < q->count; c++) fprintf(f, "%s%d", c ? "," : "", q->zero_point[c]);
                fputc(']', f);
            }
            fprintf(f, ",\"axis\":%d", q->axis);
            if (q->range_count) {
                fputs(",\"min\":", f);
                json_f32s(f, q->min, q->range_count);
                fputs(",\"max\":", f);
                json_f32s(f, q->max, q->range_count);
            }
            fputc('}', f);
        }
        if (t->sparsity) {
            const qlite_sparsity *p = t->sparsity;
            fprintf(f, ",\"sparsity\":{\"block_rows\":%u,\"block_cols\":%u,\"row_ptr_type\":\"%s\","
                       "\"row_ptr_buffer\":%u,\"col_index_type\":\"%s\",\"col_index_buffer\":%u,"
                       "\"nnz_blocks\":%llu}",
                    p->block_rows, p->block_cols, INDEX[p->row_ptr_type], p->row_ptr_buffer,
                    INDEX[p->col_index_type], p->col_index_buffer,
                    (unsigned long long)p->nnz_blocks);
        }
        if (t->clustering) {
            const qlite_clustering *c = t->clustering;
            fprintf(f, ",\"clustering\":{\"num_clusters\":%u,\"index_bits\":%u,"
                       "\"codebook_buffer\":%u,\"per_row\":%s}",
                    c->num_clusters, c->index_bits, c->codebook_buffer, B(c->per_row));
        }
        fputc('}', f);
    }
    fputs("],\"inputs\":", f);
    json_i32s(f, s->inputs, s->num_inputs);
    fputs(",\"outputs\":", f);
    json_i32s(f, s->outputs, s->num_outputs);
    fputs(",\"operators\":[", f);
    for (uint32_t i = 0; i < s->num_ops; i++) {
        const qlite_op_info *op = &s->ops[i];
        fprintf(f, "%s{\"opcode\":\"%s\",\"inputs\":", i ? "," : "", qlite_op_name(op->code));
        json_i32s(f, op->inputs, op->num_inputs);
        fputs(",\"outputs\":", f);
        json_i32s(f, op->outputs, op->num_outputs);
        fprintf(f, ",\"options_type\":\"%s\"", OPTIONS[op->options.type]);
        if (op->options.type != QLITE_OPTIONS_NONE) {
            fputs(",\"options\":", f);
            json_options(f, &op->options);
        }
        if (op->name) {
            fputs(",\"name\":", f);
            json_str(f, op->name);
        }
        fputc('}', f);
    }
    fputs("]}],\"buffers\":[", f);
    for (uint32_t i = 0; i < s->num_buffers; i++) {
        uint32_t crc = 0;
        if (s->buffer_size[i]) crc = (uint32_t)crc32(0, s->buffer_data[i], (uInt)s->buffer_size[i]);
        fprintf(f, "%s{\"size\":%zu,\"crc32\":%u}", i ? "," : "", s->buffer_size[i], crc);
    }
    fputs("],\"metadata\":[", f);
    for (uint32_t i = 0; i < s->num_metadata; i++) {
        fputs(i ? ",{\"key\":" : "{\"key\":", f);
        json_str(f, s->metadata[i].key);
        if (s->metadata[i].value) {
            fputs(",\"value\":", f);
            json_str(f, s->metadata[i].value);
        }
        fprintf(f, ",\"buffer\":%u}", s->metadata[i].value ? 0 : s->metadata[i].buffer);
    }
    fputs("]}\n", f);
}
