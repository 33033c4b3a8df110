/*
 * qlite.h — the qlite runtime: open a .qlite model and run it.
 *
 * Object model
 * ------------
 *   qlite_model        an opened .qlite file: the mapping (or caller memory, or
 *                      an inflated gzip copy), verified and decoded into plain C
 *                      structs. Read-only; many interpreters may share one model
 *                      from many threads.
 *   qlite_interpreter  one execution context: shapes, the activation arena,
 *                      per-op prepared data, a thread pool. Borrows the model,
 *                      which must outlive it. One thread at a time.
 *
 * Lifecycle (out of order calls return QLITE_ERR_BAD_STATE, never crash):
 *
 *   qlite_model *m;  qlite_interpreter *it;
 *   if (qlite_model_open("net.qlite", 0, &m) != QLITE_OK) {
 *       fprintf(stderr, "%s\n", qlite_last_error()); return 1;
 *   }
 *   qlite_interpreter_options o = {0};     // zero = defaults (1 thread)
 *   o.num_threads = 2;
 *   qlite_interpreter_create(m, &o, &it);
 *   qlite_interpreter_resize_input(it, 0, 4, (int64_t[]){8, 28, 28, 1}); // optional
 *   qlite_interpreter_prepare(it);          // shapes, kernels, arena plan
 *   qlite_interpreter_set_input(it, 0, pixels, sizeof pixels);
 *   qlite_interpreter_invoke(it);           // allocates nothing
 *   qlite_tensor_view y;  qlite_interpreter_output(it, 0, &y);
 *   qlite_interpreter_destroy(it);  qlite_model_close(m);
 *
 * Errors: every call that can fail returns a qlite_status. The detail (which
 * tensor, op, byte offset, expected vs found) is in qlite_last_error() (per
 * thread, overwritten by the next failing call in that thread) and, for
 * interpreter calls, also in qlite_interpreter_error(). The library never
 * terminates the process and never prints: every failure is a status.
 *
 * Ownership: pointers returned by qlite_model_* accessors point into the model
 * and stay valid until qlite_model_close(). Views returned by the interpreter
 * point into its arena and stay valid until the next prepare/resize/destroy;
 * an intermediate tensor's bytes are only meaningful while the planner keeps
 * it alive (see QLITE_INTERP_KEEP_ALL_TENSORS).
 */
#ifndef QLITE_QLITE_H
#define QLITE_QLITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(QLITE_BUILDING_LIBRARY) && defined(__GNUC__)
#define QLITE_API __attribute__((visibility("default")))
#else
#define QLITE_API
#endif

#define QLITE_VERSION_MAJOR 0
#define QLITE_VERSION_MINOR 1
#define QLITE_VERSION_PATCH 0
#define QLITE_VERSION_STRING "0.1.0"

/* The file format version this library writes and the newest it reads. */
#define QLITE_FORMAT_VERSION_MAJOR 1
#define QLITE_FORMAT_VERSION_MINOR 0

/* Largest tensor rank qlite handles. */
#define QLITE_MAX_RANK 8

/* ------------------------------------------------------------------------ */
/* Status                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum qlite_status {
    QLITE_OK = 0,
    QLITE_ERR_INVALID_ARGUMENT,  /* a NULL pointer, an index out of range, ... */
    QLITE_ERR_NO_MEMORY,         /* allocation failed, or caller arena too small */
    QLITE_ERR_IO,                /* open/read/write/mmap/fsync failed (errno in message) */
    QLITE_ERR_NOT_QLITE,         /* no "QLTE" identifier: not a qlite file */
    QLITE_ERR_UNSUPPORTED_VERSION,/* written by a newer major format version */
    QLITE_ERR_CORRUPT,           /* structural or semantic validation failed */
    QLITE_ERR_UNSUPPORTED_OP,    /* an op code or op/dtype combination with no kernel */
    QLITE_ERR_UNSUPPORTED,       /* a valid feature this build does not implement */
    QLITE_ERR_BAD_STATE,         /* call out of lifecycle order */
    QLITE_ERR_SHAPE,             /* wrong or inconsistent tensor shape */
    QLITE_ERR_DTYPE,             /* wrong tensor dtype */
    QLITE_ERR_CHECKSUM,          /* a buffer's crc32 does not match */
    QLITE_STATUS_COUNT
} qlite_status;

/* Short constant name of a status ("QLITE_ERR_CORRUPT"); never NULL. */
QLITE_API const char *qlite_status_string(qlite_status status);

/* The detail message of the last failing qlite call in this thread, or "" . */
QLITE_API const char *qlite_last_error(void);

/* Library version string, e.g. "0.1.0". */
QLITE_API const char *qlite_version(void);

/* ------------------------------------------------------------------------ */
/* Enums shared with the file format (values equal schema/qlite.fbs)         */
/* ------------------------------------------------------------------------ */

typedef enum qlite_dtype {
    QLITE_DTYPE_FLOAT32 = 0,
    QLITE_DTYPE_FLOAT16 = 1,
    QLITE_DTYPE_INT8 = 2,
    QLITE_DTYPE_UINT8 = 3,
    QLITE_DTYPE_INT16 = 4,
    QLITE_DTYPE_INT32 = 5,
    QLITE_DTYPE_INT64 = 6,
    QLITE_DTYPE_BOOL = 7,
    QLITE_DTYPE_INT4 = 8,   /* signed, packed two per byte, low nibble first */
    QLITE_DTYPE_COUNT
} qlite_dtype;

/* "float32", "int8", ...; "?" for an invalid value. */
QLITE_API const char *qlite_dtype_name(qlite_dtype dtype);
/* Bits per element (4 for INT4, 8 for BOOL); 0 for an invalid value. */
QLITE_API uint32_t qlite_dtype_bits(qlite_dtype dtype);

typedef enum qlite_layout {
    QLITE_LAYOUT_DEFAULT = 0,  /* row-major in the op's canonical layout */
    QLITE_LAYOUT_O16I4 = 1,    /* [ceil(O/16)][ceil(I/4)][16][4] per matrix of the packed view */
    QLITE_LAYOUT_O16 = 2,      /* [ceil(O/16)][I][16] per matrix of the packed view (float) */
    QLITE_LAYOUT_COUNT
} qlite_layout;

typedef enum qlite_index_type {
    QLITE_INDEX_UINT8 = 0,
    QLITE_INDEX_UINT16 = 1,
    QLITE_INDEX_UINT32 = 2,
    QLITE_INDEX_COUNT
} qlite_index_type;

typedef enum qlite_activation {
    QLITE_ACT_NONE = 0,
    QLITE_ACT_RELU = 1,
    QLITE_ACT_RELU6 = 2,
    QLITE_ACT_RELU_N1_TO_1 = 3,
    QLITE_ACT_COUNT
} qlite_activation;

typedef enum qlite_pad_mode {
    QLITE_PAD_CONSTANT = 0, QLITE_PAD_REFLECT = 1, QLITE_PAD_EDGE = 2, QLITE_PAD_MODE_COUNT
} qlite_pad_mode;

typedef enum qlite_resize_mode {
    QLITE_RESIZE_NEAREST = 0, QLITE_RESIZE_LINEAR = 1, QLITE_RESIZE_MODE_COUNT
} qlite_resize_mode;

typedef enum qlite_coord_transform {
    QLITE_COORD_HALF_PIXEL = 0,
    QLITE_COORD_ASYMMETRIC = 1,
    QLITE_COORD_ALIGN_CORNERS = 2,
    QLITE_COORD_PYTORCH_HALF_PIXEL = 3,
    QLITE_COORD_TF_HALF_PIXEL_FOR_NN = 4,
    QLITE_COORD_COUNT
} qlite_coord_transform;

typedef enum qlite_nearest_mode {
    QLITE_NEAREST_ROUND_PREFER_FLOOR = 0,
    QLITE_NEAREST_ROUND_PREFER_CEIL = 1,
    QLITE_NEAREST_FLOOR = 2,
    QLITE_NEAREST_CEIL = 3,
    QLITE_NEAREST_COUNT
} qlite_nearest_mode;

typedef enum qlite_rnn_direction {
    QLITE_RNN_FORWARD = 0, QLITE_RNN_REVERSE = 1, QLITE_RNN_BIDIRECTIONAL = 2,
    QLITE_RNN_DIRECTION_COUNT
} qlite_rnn_direction;

typedef enum qlite_op_code {
    QLITE_OP_CONV_2D = 0,
    QLITE_OP_DEPTHWISE_CONV_2D = 1,
    QLITE_OP_TRANSPOSE_CONV_2D = 2,
    QLITE_OP_FULLY_CONNECTED = 3,
    QLITE_OP_BATCH_MATMUL = 4,
    QLITE_OP_ADD = 5,
    QLITE_OP_SUB = 6,
    QLITE_OP_MUL = 7,
    QLITE_OP_DIV = 8,
    QLITE_OP_POW = 9,
    QLITE_OP_MINIMUM = 10,
    QLITE_OP_MAXIMUM = 11,
    QLITE_OP_SQRT = 12,
    QLITE_OP_EXP = 13,
    QLITE_OP_LOG = 14,
    QLITE_OP_ERF = 15,
    QLITE_OP_NEG = 16,
    QLITE_OP_ABS = 17,
    QLITE_OP_RELU = 18,
    QLITE_OP_RELU6 = 19,
    QLITE_OP_LEAKY_RELU = 20,
    QLITE_OP_PRELU = 21,
    QLITE_OP_CLIP = 22,
    QLITE_OP_LOGISTIC = 23,
    QLITE_OP_TANH = 24,
    QLITE_OP_HARD_SIGMOID = 25,
    QLITE_OP_HARD_SWISH = 26,
    QLITE_OP_GELU = 27,
    QLITE_OP_SOFTMAX = 28,
    QLITE_OP_LOG_SOFTMAX = 29,
    QLITE_OP_MAX_POOL_2D = 30,
    QLITE_OP_AVERAGE_POOL_2D = 31,
    QLITE_OP_RESHAPE = 32,
    QLITE_OP_TRANSPOSE = 33,
    QLITE_OP_CONCATENATION = 34,
    QLITE_OP_SPLIT = 35,
    QLITE_OP_SLICE = 36,
    QLITE_OP_PAD = 37,
    QLITE_OP_GATHER = 38,
    QLITE_OP_REDUCE_MEAN = 39,
    QLITE_OP_REDUCE_SUM = 40,
    QLITE_OP_REDUCE_MAX = 41,
    QLITE_OP_REDUCE_MIN = 42,
    QLITE_OP_BATCH_NORM = 43,
    QLITE_OP_LAYER_NORM = 44,
    QLITE_OP_RESIZE = 45,
    QLITE_OP_LSTM = 46,
    QLITE_OP_GRU = 47,
    QLITE_OP_CAST = 48,
    QLITE_OP_QUANTIZE = 49,
    QLITE_OP_DEQUANTIZE = 50,
    QLITE_OP_ELU = 51,
    QLITE_OP_RECIPROCAL = 52,
    QLITE_OP_SQUARE = 53,
    QLITE_OP_EMBEDDING_BAG = 54, /* reserved */
    QLITE_OP_COUNT
} qlite_op_code;

/* "CONV_2D", ...; "?" for an invalid value. */
QLITE_API const char *qlite_op_name(qlite_op_code code);

/* ------------------------------------------------------------------------ */
/* Decoded model structures (all memory owned by the model)                  */
/* ------------------------------------------------------------------------ */

typedef struct qlite_quant {
    uint32_t count;             /* 1 = per tensor; dim(axis) = per channel */
    int32_t axis;               /* quantized dimension when count > 1 */
    const float *scale;         /* [count], finite and > 0 */
    const int32_t *zero_point;  /* [count], within the dtype's range */
    uint32_t range_count;       /* 0, or count: calibration range below */
    const float *min;           /* [range_count] */
    const float *max;           /* [range_count] */
} qlite_quant;

/* CSR (block-CSR) storage over the 2-D view [rows = shape[0], cols = rest]. */
typedef struct qlite_sparsity {
    uint32_t block_rows, block_cols;  /* 1x1, 1x4, 4x1, 1x16, ... */
    qlite_index_type row_ptr_type;
    qlite_index_type col_index_type;
    uint32_t row_ptr_buffer;          /* buffer indices (writer side) */
    uint32_t col_index_buffer;
    uint64_t nnz_blocks;
    const void *row_ptr;              /* [rows/block_rows + 1] (reader side) */
    const void *col_index;            /* [nnz_blocks] block column indices */
} qlite_sparsity;

/* Palettized weights: the tensor's data is a bitstream of index_bits-bit
 * indices (LSB first, row-major, no padding) into codebook, which holds
 * 2^index_bits entries (per row when per_row), so every index is in range. */
typedef struct qlite_clustering {
    uint32_t num_clusters;            /* 2..256 */
    uint32_t index_bits;              /* ceil(log2(num_clusters)) */
    bool per_row;                     /* one codebook per row of the 2-D view */
    uint32_t codebook_buffer;         /* writer side */
    const void *codebook;             /* reader side: values in the tensor dtype */
} qlite_clustering;

typedef struct qlite_tensor_info {
    const char *name;
    qlite_dtype dtype;
    uint32_t rank;
    const int64_t *shape;             /* [rank]; -1 only in dim 0 (dynamic batch) */
    uint32_t buffer;                  /* 0 = not a constant */
    const void *data;                 /* constant bytes in the model, or NULL */
    uint64_t data_size;               /* bytes at data */
    const qlite_quant *quant;         /* NULL = not quantized */
    const qlite_sparsity *sparsity;   /* NULL = dense */
    const qlite_clustering *clustering; /* NULL = not clustered */
    qlite_layout layout;
} qlite_tensor_info;

typedef enum qlite_options_type {
    QLITE_OPTIONS_NONE = 0,
    QLITE_OPTIONS_CONV_2D,
    QLITE_OPTIONS_POOL_2D,
    QLITE_OPTIONS_FULLY_CONNECTED,
    QLITE_OPTIONS_BATCH_MATMUL,
    QLITE_OPTIONS_BINARY,
    QLITE_OPTIONS_ACTIVATION,
    QLITE_OPTIONS_SOFTMAX,
    QLITE_OPTIONS_RESHAPE,
    QLITE_OPTIONS_TRANSPOSE,
    QLITE_OPTIONS_CONCATENATION,
    QLITE_OPTIONS_SPLIT,
    QLITE_OPTIONS_SLICE,
    QLITE_OPTIONS_PAD,
    QLITE_OPTIONS_GATHER,
    QLITE_OPTIONS_REDUCE,
    QLITE_OPTIONS_NORM,
    QLITE_OPTIONS_RESIZE,
    QLITE_OPTIONS_RNN,
    QLITE_OPTIONS_CAST,
    QLITE_OPTIONS_COUNT
} qlite_options_type;

typedef struct qlite_conv2d_options {
    int32_t stride_h, stride_w, dilation_h, dilation_w;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t groups;              /* CONV_2D: groups; DEPTHWISE: depth multiplier */
    int32_t output_pad_h, output_pad_w; /* TRANSPOSE_CONV_2D */
    qlite_activation activation;
} qlite_conv2d_options;

typedef struct qlite_pool2d_options {
    int32_t filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    bool ceil_mode, count_include_pad;
    qlite_activation activation;
} qlite_pool2d_options;

typedef struct qlite_fully_connected_options {
    qlite_activation activation;
    bool keep_num_dims;
} qlite_fully_connected_options;

typedef struct qlite_batch_matmul_options {
    bool transpose_a, transpose_b;
    qlite_activation activation;
} qlite_batch_matmul_options;

typedef struct qlite_binary_options {
    qlite_activation activation;
} qlite_binary_options;

typedef struct qlite_activation_options {
    float alpha, beta, min, max;
    bool approximate;
} qlite_activation_options;

typedef struct qlite_softmax_options {
    int32_t axis;
    float beta;
} qlite_softmax_options;

typedef struct qlite_reshape_options {
    uint32_t rank;
    const int64_t *new_shape;    /* [rank] */
} qlite_reshape_options;

typedef struct qlite_transpose_options {
    uint32_t rank;
    const int32_t *perm;         /* [rank] */
} qlite_transpose_options;

typedef struct qlite_concatenation_options {
    int32_t axis;
    qlite_activation activation;
} qlite_concatenation_options;

typedef struct qlite_split_options {
    int32_t axis;
    uint32_t count;
    const int64_t *sizes;        /* [count] */
} qlite_split_options;

typedef struct qlite_slice_options {
    uint32_t count;              /* number of sliced axes */
    const int64_t *starts, *ends; /* [count] */
    const int32_t *axes;         /* [count] */
    const int64_t *steps;        /* [count] */
} qlite_slice_options;

typedef struct qlite_pad_options {
    uint32_t count;              /* 2 * rank */
    const int64_t *pads;         /* [begins..., ends...] */
    qlite_pad_mode mode;
    float value;
} qlite_pad_options;

typedef struct qlite_gather_options {
    int32_t axis;
} qlite_gather_options;

typedef struct qlite_reduce_options {
    uint32_t count;
    const int32_t *axes;         /* [count] */
    bool keep_dims;
} qlite_reduce_options;

typedef struct qlite_norm_options {
    int32_t axis;
    float epsilon;
} qlite_norm_options;

typedef struct qlite_resize_options {
    qlite_resize_mode mode;
    qlite_coord_transform coordinate_transform;
    qlite_nearest_mode nearest_mode;
    int32_t out_h, out_w;
    float scale_h, scale_w;      /* 0 = out / in */
    float cubic_coeff_a;
} qlite_resize_options;

typedef struct qlite_rnn_options {
    int32_t hidden_size;
    qlite_rnn_direction direction;
    bool batch_first;
    bool linear_before_reset;
    float clip;                  /* 0 = none */
} qlite_rnn_options;

typedef struct qlite_cast_options {
    qlite_dtype to;
} qlite_cast_options;

typedef struct qlite_op_options {
    qlite_options_type type;     /* which member below is valid */
    union {
        qlite_conv2d_options conv2d;
        qlite_pool2d_options pool2d;
        qlite_fully_connected_options fully_connected;
        qlite_batch_matmul_options batch_matmul;
        qlite_binary_options binary;
        qlite_activation_options activation;
        qlite_softmax_options softmax;
        qlite_reshape_options reshape;
        qlite_transpose_options transpose;
        qlite_concatenation_options concatenation;
        qlite_split_options split;
        qlite_slice_options slice;
        qlite_pad_options pad;
        qlite_gather_options gather;
        qlite_reduce_options reduce;
        qlite_norm_options norm;
        qlite_resize_options resize;
        qlite_rnn_options rnn;
        qlite_cast_options cast;
    } u;
} qlite_op_options;

/* Default option values as the schema defines them (strides 1, axis -1, ...). */
QLITE_API void qlite_op_options_default(qlite_options_type type, qlite_op_options *out);

typedef struct qlite_op_info {
    qlite_op_code code;
    const char *name;            /* source node name; "" if none */
    uint32_t num_inputs, num_outputs;
    const int32_t *inputs;       /* [num_inputs]; -1 = optional input absent */
    const int32_t *outputs;      /* [num_outputs] */
    qlite_op_options options;
} qlite_op_info;

typedef struct qlite_buffer_info {
    uint64_t offset;             /* from file start */
    uint64_t size;
    uint32_t crc32;
    const void *data;            /* into the model; NULL when size is 0 */
} qlite_buffer_info;

typedef struct qlite_metadata {
    const char *key;
    const char *value;           /* "" when the value is a blob */
    uint32_t buffer;             /* blob buffer index, 0 = none */
    const void *data;            /* blob bytes or NULL */
    uint64_t size;
} qlite_metadata;

/* ------------------------------------------------------------------------ */
/* Model                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct qlite_model qlite_model;

/* Flags for qlite_model_open*. */
#define QLITE_OPEN_VERIFY_CRC  (1u << 0) /* check every buffer's crc32 (reads all pages) */
#define QLITE_OPEN_READ        (1u << 1) /* read the file into memory instead of mmap */
#define QLITE_OPEN_POPULATE    (1u << 2) /* prefault the mapping (MAP_POPULATE) */

/*
 * Opens a .qlite file (or a gzip-compressed one, detected by its magic).
 * Plain files are mapped read-only; weight pages are not touched by open.
 * The FlatBuffer is verified structurally, then every semantic rule of
 * docs/format.md is checked; only then is *out set.
 * Returns QLITE_OK, or IO / NOT_QLITE / UNSUPPORTED_VERSION / CORRUPT /
 * CHECKSUM / NO_MEMORY / INVALID_ARGUMENT with the detail in qlite_last_error().
 */
QLITE_API qlite_status qlite_model_open(const char *path, uint32_t flags, qlite_model **out);

/*
 * Same for a model already in memory. The bytes are referenced, not copied
 * (except gzip input, which is inflated into an owned aligned allocation):
 * they must stay valid and unchanged until qlite_model_close().
 */
QLITE_API qlite_status qlite_model_open_memory(const void *data, size_t size, uint32_t flags,
                                               qlite_model **out);

/* Unmaps/frees everything the model owns. NULL is a no-op. */
QLITE_API void qlite_model_close(qlite_model *model);

/* Checks every buffer's crc32; QLITE_ERR_CHECKSUM names the first bad one. */
QLITE_API qlite_status qlite_model_verify_checksums(const qlite_model *model);

QLITE_API void qlite_model_version(const qlite_model *model, uint32_t *major, uint32_t *minor);
QLITE_API const char *qlite_model_producer(const qlite_model *model);    /* "" if none */
QLITE_API const char *qlite_model_description(const qlite_model *model); /* "" if none */

/* The model's bytes as opened (after gzip inflation) and their size. */
QLITE_API const void *qlite_model_bytes(const qlite_model *model, size_t *size);
/* True when the model was gzip-compressed on disk/in memory. */
QLITE_API bool qlite_model_was_compressed(const qlite_model *model);

QLITE_API uint32_t qlite_model_tensor_count(const qlite_model *model);
/* NULL when index is out of range. */
QLITE_API const qlite_tensor_info *qlite_model_tensor(const qlite_model *model, uint32_t index);
/* Index of the first tensor with that name, or -1. */
QLITE_API int32_t qlite_model_find_tensor(const qlite_model *model, const char *name);

QLITE_API uint32_t qlite_model_op_count(const qlite_model *model);
QLITE_API const qlite_op_info *qlite_model_op(const qlite_model *model, uint32_t index);

QLITE_API uint32_t qlite_model_input_count(const qlite_model *model);
QLITE_API int32_t qlite_model_input(const qlite_model *model, uint32_t index);  /* tensor index or -1 */
QLITE_API uint32_t qlite_model_output_count(const qlite_model *model);
QLITE_API int32_t qlite_model_output(const qlite_model *model, uint32_t index);

QLITE_API uint32_t qlite_model_buffer_count(const qlite_model *model);
QLITE_API qlite_status qlite_model_buffer(const qlite_model *model, uint32_t index,
                                          qlite_buffer_info *out);

QLITE_API uint32_t qlite_model_metadata_count(const qlite_model *model);
QLITE_API const qlite_metadata *qlite_model_metadata(const qlite_model *model, uint32_t index);
/* Text value of the first entry with that key, or NULL. */
QLITE_API const char *qlite_model_metadata_get(const qlite_model *model, const char *key);

/* Element count of a shape (dynamic dims count as 1); 0 on overflow. */
QLITE_API uint64_t qlite_shape_elements(uint32_t rank, const int64_t *shape);

/* ------------------------------------------------------------------------ */
/* Interpreter                                                               */
/* ------------------------------------------------------------------------ */

typedef struct qlite_interpreter qlite_interpreter;

/* A tensor as the interpreter sees it now. */
typedef struct qlite_tensor_view {
    uint32_t tensor;             /* index in the model */
    const char *name;
    qlite_dtype dtype;
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    void *data;                  /* arena / model bytes; see ownership above */
    size_t bytes;
    float scale;                 /* per-tensor quantization; 0 when none */
    int32_t zero_point;
} qlite_tensor_view;

/* Called after each op during invoke (calibration, debugging). */
typedef void (*qlite_observer_fn)(void *user, uint32_t op_index, const qlite_op_info *op,
                                  uint32_t num_outputs, const qlite_tensor_view *outputs);

#define QLITE_INTERP_KEEP_ALL_TENSORS (1u << 0) /* no memory reuse: every tensor readable after invoke */
#define QLITE_INTERP_REFERENCE_ONLY   (1u << 1) /* never use optimized kernels */
/* Float32 CONV_2D by direct / im2col GEMM only: no Winograd F(4x4, 3x3) for
 * 3x3 stride-1 convolutions (docs/api.md "Winograd convolution"), so the
 * results are the plain dot products, within the summation bound of the
 * reference. Implied by QLITE_INTERP_REFERENCE_ONLY. */
#define QLITE_INTERP_EXACT_CONV       (1u << 2)
/* Strided views (docs/api.md "Strided views"): by default the interpreter
 * skips a TRANSPOSE, or a GATHER with a constant scalar index, whose consumers
 * (BATCH_MATMUL) read its input through strides, or whose producer writes its
 * output through strides. Not with KEEP_ALL_TENSORS or REFERENCE_ONLY, and not
 * when an observer is set (the observer sees every tensor materialized, e.g.
 * calibration) unless this flag is given too: then the observer is still
 * called after each skipped op, and a tensor that is a view shows data = NULL,
 * bytes = 0 (to it and to qlite_interpreter_tensor), e.g. for per-op timing. */
#define QLITE_INTERP_OBSERVE_VIEWS    (1u << 3)

typedef struct qlite_interpreter_options {
    int32_t num_threads;         /* <= 1: run on the calling thread only */
    uint32_t flags;              /* QLITE_INTERP_* */
    void *arena;                 /* caller-supplied activation arena, or NULL */
    size_t arena_size;           /* its size in bytes (64-byte aligned start recommended) */
    qlite_observer_fn observer;  /* or NULL */
    void *observer_user;
} qlite_interpreter_options;

/*
 * Creates an interpreter over a model (borrowed: keep it open until the
 * interpreter is destroyed). options may be NULL (defaults). Resolves a
 * kernel for every op; an op with no kernel fails here with
 * QLITE_ERR_UNSUPPORTED_OP naming the op.
 */
QLITE_API qlite_status qlite_interpreter_create(const qlite_model *model,
                                                const qlite_interpreter_options *options,
                                                qlite_interpreter **out);
QLITE_API void qlite_interpreter_destroy(qlite_interpreter *interp); /* NULL is a no-op */

/* Detail of the interpreter's last error, or "". */
QLITE_API const char *qlite_interpreter_error(const qlite_interpreter *interp);

QLITE_API uint32_t qlite_interpreter_input_count(const qlite_interpreter *interp);
QLITE_API uint32_t qlite_interpreter_output_count(const qlite_interpreter *interp);

/*
 * Changes the shape of model input `index` (only dims the model declares
 * dynamic may change). Returns to the created state: call prepare again.
 */
QLITE_API qlite_status qlite_interpreter_resize_input(qlite_interpreter *interp, uint32_t index,
                                                      uint32_t rank, const int64_t *dims);

/*
 * Infers every shape, prepares every op (validation, requantization
 * constants, constant conversion) and plans the arena. Errors name the op.
 */
QLITE_API qlite_status qlite_interpreter_prepare(qlite_interpreter *interp);

/* Arena bytes the plan needs (after prepare). */
QLITE_API size_t qlite_interpreter_arena_size(const qlite_interpreter *interp);
/* Bytes of per-op prepared data (converted constants, multipliers, ...). */
QLITE_API size_t qlite_interpreter_prepared_size(const qlite_interpreter *interp);

/* Copies `bytes` (must equal the input's size) into input `index`. */
QLITE_API qlite_status qlite_interpreter_set_input(qlite_interpreter *interp, uint32_t index,
                                                   const void *data, size_t bytes);
/* View of input/output `index` (after prepare); the input's data may be written. */
QLITE_API qlite_status qlite_interpreter_input(const qlite_interpreter *interp, uint32_t index,
                                               qlite_tensor_view *out);
QLITE_API qlite_status qlite_interpreter_output(const qlite_interpreter *interp, uint32_t index,
                                                qlite_tensor_view *out);
/* View of any tensor by model index (constants included). */
QLITE_API qlite_status qlite_interpreter_tensor(const qlite_interpreter *interp, uint32_t tensor,
                                                qlite_tensor_view *out);

/* Runs every op in order. Allocates nothing. */
QLITE_API qlite_status qlite_interpreter_invoke(qlite_interpreter *interp);

/* ------------------------------------------------------------------------ */
/* Numeric helpers                                                           */
/* ------------------------------------------------------------------------ */

/* IEEE binary16 <-> binary32, round to nearest even; overflow gives +-inf. */
QLITE_API float qlite_fp16_to_fp32(uint16_t h);
QLITE_API uint16_t qlite_fp32_to_fp16(float f);

#ifdef __cplusplus
}
#endif

#endif /* QLITE_QLITE_H */
