/*
 * ir.h — the converter's mutable graph (docs/converter.md, "The graph").
 *
 * Object model
 * ------------
 *   qlc_graph   owns everything below: tensors, nodes, names, constant data.
 *   qlc_tensor  a value: name, dtype, shape (-1 in dim 0 = dynamic batch),
 *               optional owned constant data, layout tag, and room for what
 *               the quantization / sparsity / clustering passes attach.
 *               Addressed by index (int32_t); indices never change, a tensor
 *               that is no longer used is simply not emitted.
 *   qlc_node    one operation. Before lowering it is an ONNX op (op_type +
 *               attributes, ONNX input order); lowering turns it into a qlite
 *               op (code + qlite_op_options, qlite input order). Both kinds
 *               live in one graph while passes run. Inputs of -1 are absent
 *               optional inputs. A removed node is marked dead and skipped.
 *
 * Order: nodes[] is *not* kept topological while passes insert and remove
 * nodes; qlc_graph_toposort() restores an execution order (and detects
 * cycles) and runs before emit.
 *
 * Errors: functions returning qlite_status record the detail with
 * qlite_error(); functions returning an index return -1 on allocation failure
 * (with a QLITE_ERR_NO_MEMORY message).
 */
#ifndef QLITE_CONVERTER_IR_H
#define QLITE_CONVERTER_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"
#include "qlite_internal.h"

/*
 * Symbolic batch values inside folded int64 shape constants: Shape() of a
 * tensor whose dim 0 is the dynamic batch yields QLC_SYM_BATCH(1) there;
 * Mul/Div by a constant scales it (batch*k). They exist only while folding
 * shape arithmetic; a Reshape target holding one becomes -1 (inferred).
 */
#define QLC_SYM_BASE INT64_MIN
#define QLC_SYM_MAX_K ((int64_t)1 << 40)
#define QLC_SYM_BATCH(k) (QLC_SYM_BASE + (int64_t)(k))
static inline bool qlc_is_sym(int64_t v) {
    return v > QLC_SYM_BASE && v <= QLC_SYM_BASE + QLC_SYM_MAX_K;
}
static inline int64_t qlc_sym_k(int64_t v) { return v - QLC_SYM_BASE; }

/* Layout tag of an activation tensor. */
typedef enum qlc_layout {
    QLC_LAYOUT_PLAIN = 0,  /* as ONNX declares it (NCHW for images) */
    QLC_LAYOUT_NHWC,       /* channels last: an image tensor moved by the layout pass */
} qlc_layout;

/* Quantization parameters (filled by issue #4's quantizer; emitted as is). */
typedef struct qlc_quant {
    uint32_t count;        /* 0 = not quantized, 1 = per tensor, dim(axis) = per channel */
    int32_t axis;
    float *scale;          /* [count], owned */
    int32_t *zero_point;   /* [count], owned */
} qlc_quant;

/* Calibration range (per tensor: count 1; per channel: dim(axis)). */
typedef struct qlc_range {
    uint32_t count;        /* 0 = none */
    float *min, *max;      /* [count], owned */
} qlc_range;

/* Sparse storage of a constant (issue #5): block-CSR over the 2-D view;
 * the tensor's data then holds the non-zero blocks' values. */
typedef struct qlc_sparse {
    uint32_t block_rows, block_cols;
    qlite_index_type row_ptr_type, col_index_type;
    void *row_ptr; size_t row_ptr_bytes;     /* owned */
    void *col_index; size_t col_index_bytes; /* owned */
    uint64_t nnz_blocks;
} qlc_sparse;

/* Clustered constant (issue #5): data holds the packed indices. */
typedef struct qlc_cluster {
    uint32_t num_clusters, index_bits;
    bool per_row;
    void *codebook; size_t codebook_bytes;   /* owned, in the tensor dtype */
} qlc_cluster;

typedef struct qlc_tensor {
    char *name;                 /* unique in the graph; owned */
    qlite_dtype dtype;
    int32_t rank;               /* -1 = not inferred yet */
    int64_t shape[QLITE_MAX_RANK]; /* -1 only in dim 0 (dynamic batch) */
    void *data;                 /* constant values, row-major, owned; NULL = activation */
    size_t data_size;           /* bytes at data */
    qlc_layout layout;
    qlite_layout weight_layout; /* packed layout of a constant (QLITE_LAYOUT_DEFAULT) */
    qlc_quant quant;
    bool qdq;                   /* quant holds int8 parameters a QDQ model fixed while the
                                   tensor is still float (quant/quantize.h) */
    int32_t origin;             /* a folded QDQ weight: the float initializer it was made
                                   from (its name is restored when that one is gone); -1 */
    qlc_range range;
    qlc_sparse *sparse;         /* owned, NULL = dense */
    qlc_cluster *cluster;       /* owned, NULL = not clustered */
    uint32_t cluster_k;         /* a weight --cluster K made (or found) with at most K distinct
                                   values; 0 = not clustered (compress/compress.h) */
    int32_t float_src;          /* a quantized copy: the float constant it was made from; -1 */
    bool is_input, is_output;   /* a graph input / output */
    int32_t decl_rank;          /* shape the ONNX file declares (value_info, graph I/O); */
    int64_t decl_shape[QLITE_MAX_RANK]; /* -1 rank = none, -1 dim = unknown */
} qlc_tensor;

/* ONNX attribute, as imported. */
typedef enum qlc_attr_type {
    QLC_ATTR_FLOAT, QLC_ATTR_INT, QLC_ATTR_STRING, QLC_ATTR_FLOATS, QLC_ATTR_INTS,
    QLC_ATTR_TENSOR, QLC_ATTR_STRINGS, QLC_ATTR_OTHER
} qlc_attr_type;

typedef struct qlc_attr {
    char *name;
    qlc_attr_type type;
    float f;
    int64_t i;
    char *s;                    /* STRING (NUL-terminated copy) */
    size_t n;                   /* FLOATS / INTS / STRINGS count */
    float *floats;
    int64_t *ints;
    int32_t tensor;             /* TENSOR: index of a constant tensor in the graph */
} qlc_attr;

#define QLC_MAX_OPT_ARRAYS 4

typedef struct qlc_node {
    char *name;                 /* ONNX node name (or made up, unique); owned */
    char *op_type;              /* ONNX op type; kept after lowering for messages */
    bool lowered;               /* code/opts valid (qlite op) vs ONNX op */
    bool dead;                  /* removed */
    qlite_op_code code;
    qlite_op_options opts;      /* arrays inside point to own[] */
    void *own[QLC_MAX_OPT_ARRAYS];
    qlc_attr *attrs;
    uint32_t num_attrs;
    int32_t *inputs;            /* -1 = absent */
    uint32_t num_inputs;
    int32_t *outputs;
    uint32_t num_outputs;
} qlc_node;

/* One (node, input slot) use of a tensor. */
typedef struct qlc_use {
    int32_t node;
    uint32_t slot;
} qlc_use;

typedef struct qlc_graph {
    qlc_tensor **tensors;
    uint32_t num_tensors, cap_tensors;
    qlc_node **nodes;
    uint32_t num_nodes, cap_nodes;
    int32_t *inputs;            /* graph inputs (activations only) */
    uint32_t num_inputs;
    int32_t *outputs;
    uint32_t num_outputs;
    int64_t opset;              /* default-domain opset version */
    char *name;
    /* name -> tensor index (open addressing, power-of-two size) */
    int32_t *hash;
    uint32_t hash_cap;
    /* producer / uses index; valid while index_valid (qlc_graph_reindex) */
    bool index_valid;
    int32_t *producer;          /* [num_tensors]: node index or -1 */
    uint32_t *use_start;        /* [num_tensors + 1] into uses */
    qlc_use *uses;
    uint32_t name_counter;      /* for made-up names */
} qlc_graph;

qlite_status qlc_graph_create(qlc_graph **out);
void qlc_graph_destroy(qlc_graph *g); /* NULL is a no-op */

/* ---- tensors ---------------------------------------------------------------- */

/* Adds a tensor named `name` (copied; NULL or "" = made up, unique). The name
 * must not exist yet (-1 with QLITE_ERR_CORRUPT "duplicate tensor name"). */
int32_t qlc_add_tensor(qlc_graph *g, const char *name, qlite_dtype dtype, int32_t rank,
                       const int64_t *shape);
/* A tensor whose name is derived from `base` plus a suffix, made unique. */
int32_t qlc_add_tensor_like(qlc_graph *g, const char *base, const char *suffix, qlite_dtype dtype,
                            int32_t rank, const int64_t *shape);
/* Adds a constant; the data is copied. */
int32_t qlc_add_const(qlc_graph *g, const char *name, qlite_dtype dtype, int32_t rank,
                      const int64_t *shape, const void *data, size_t size);
/* Adds a constant and takes ownership of data (malloc'd), also on failure. */
int32_t qlc_add_const_owned(qlc_graph *g, const char *name, qlite_dtype dtype, int32_t rank,
                            const int64_t *shape, void *data, size_t size);
/* Scalar and 1-D helpers. */
int32_t qlc_add_const_f32(qlc_graph *g, const char *name, int32_t rank, const int64_t *shape,
                          const float *values);
int32_t qlc_add_const_i64(qlc_graph *g, const char *name, int32_t rank, const int64_t *shape,
                          const int64_t *values);
/* Index of the tensor with that name, or -1. */
int32_t qlc_find_tensor(const qlc_graph *g, const char *name);

static inline qlc_tensor *qlc_t(const qlc_graph *g, int32_t i) { return g->tensors[i]; }
static inline bool qlc_is_const(const qlc_graph *g, int32_t i) {
    return i >= 0 && g->tensors[i]->data != NULL;
}
/* Element count (dynamic dims count as 1); 0 when rank unknown. */
uint64_t qlc_elements(const qlc_tensor *t);
/* Bytes of one element (INT4: 1, callers handle packing). */
size_t qlc_dtype_size(qlite_dtype dt);
/* Replaces a tensor's constant data (takes ownership of data). */
void qlc_tensor_set_data(qlc_tensor *t, void *data, size_t size);
/* Sets shape (rank <= QLITE_MAX_RANK checked by caller). */
void qlc_tensor_set_shape(qlc_tensor *t, int32_t rank, const int64_t *shape);
/* Same shape (rank and every dim)? */
bool qlc_same_shape(const qlc_tensor *a, const qlc_tensor *b);
/* Formats "[1,3,224,224]" into buf. */
const char *qlc_shape_str(int32_t rank, const int64_t *shape, char *buf, size_t size);

/* Copies of a constant converted to float/int64 (malloc'd; caller frees). NULL
 * when the tensor is not a constant or the dtype cannot be converted. */
float *qlc_const_as_f32(const qlc_tensor *t);
int64_t *qlc_const_as_i64(const qlc_tensor *t);

/* ---- nodes ------------------------------------------------------------------ */

/* Adds an ONNX-level node (name, op_type copied; NULL name = made up). */
qlc_node *qlc_add_onnx_node(qlc_graph *g, const char *name, const char *op_type,
                            uint32_t num_inputs, const int32_t *inputs, uint32_t num_outputs,
                            const int32_t *outputs);
/* Adds a lowered node. name and op_type (the ONNX op it came from) are copied;
 * opts may be NULL (the defaults of the op's option type). Arrays inside opts
 * must be set afterwards with qlc_node_own(). */
qlc_node *qlc_add_op(qlc_graph *g, const char *name, const char *op_type, qlite_op_code code,
                     const qlite_op_options *opts, uint32_t num_inputs, const int32_t *inputs,
                     uint32_t num_outputs, const int32_t *outputs);
/* Copies `bytes` into a node-owned array (slot < QLC_MAX_OPT_ARRAYS) and
 * returns it (NULL on failure) so option pointers can reference it. */
void *qlc_node_own(qlc_node *n, unsigned slot, const void *data, size_t bytes);
/* Marks a node dead (its outputs lose their producer). */
void qlc_remove_node(qlc_graph *g, qlc_node *n);
/* Index of node n in g->nodes. */
int32_t qlc_node_index(const qlc_graph *g, const qlc_node *n);
/* Input i or -1 when absent / beyond num_inputs. */
static inline int32_t qlc_in(const qlc_node *n, uint32_t i) {
    return i < n->num_inputs ? n->inputs[i] : -1;
}

/* Attributes of an ONNX-level node. */
const qlc_attr *qlc_attr_get(const qlc_node *n, const char *name);
int64_t qlc_attr_int(const qlc_node *n, const char *name, int64_t dflt);
float qlc_attr_float(const qlc_node *n, const char *name, float dflt);
const char *qlc_attr_str(const qlc_node *n, const char *name, const char *dflt);
/* INTS attribute: count and values (NULL/0 when missing). */
const int64_t *qlc_attr_ints(const qlc_node *n, const char *name, size_t *count);

/* ---- whole-graph utilities --------------------------------------------------- */

/* Rebuilds producer[] and the use lists; passes call it after mutating. */
qlite_status qlc_graph_reindex(qlc_graph *g);
static inline int32_t qlc_producer(const qlc_graph *g, int32_t t) {
    return t >= 0 && g->index_valid ? g->producer[t] : -1;
}
static inline uint32_t qlc_use_count(const qlc_graph *g, int32_t t) {
    return g->use_start[t + 1] - g->use_start[t];
}
/* True when t is a graph output or used by more than one live slot. */
bool qlc_has_other_uses(const qlc_graph *g, int32_t t, uint32_t allowed);
/* Replaces every use of tensor `from` (node inputs and graph outputs) by `to`.
 * Invalidates the index. */
void qlc_replace_uses(qlc_graph *g, int32_t from, int32_t to);
/* Removes nodes none of whose outputs are used (transitively). Returns count. */
uint32_t qlc_remove_dead_nodes(qlc_graph *g);
/* Drops dead nodes from nodes[] and sorts the rest in execution order.
 * QLITE_ERR_CORRUPT naming a node on a cycle, or a tensor that is used but
 * neither produced, a constant nor a graph input. */
qlite_status qlc_graph_toposort(qlc_graph *g);
/*
 * Removes node n that copies tensor `in` to `out` (Identity-like): uses of
 * out read in; when out is a graph output, in's producer writes out instead
 * (keeping the output's name). Returns false (and changes nothing) when
 * neither is possible (in is a graph input/output or a constant). Needs a
 * valid index; invalidates it.
 */
bool qlc_bypass(qlc_graph *g, qlc_node *n, int32_t in, int32_t out);
/* When constant src carries parameters a QDQ model fixed (qdq), gives them to
 * dst, a rewritten copy of it (transposed, reshaped, ...) whose quantized
 * channel axis is now new_axis (-1: the channels did not survive; nothing is
 * copied). Per-tensor parameters are always carried. */
void qlc_carry_qdq(qlc_graph *g, int32_t dst, int32_t src, int32_t new_axis);
/* Sets / copies quantization parameters (arrays copied; zero_point NULL =
 * zeros), clears them, compares them (scales bit for bit). */
qlite_status qlc_quant_set(qlc_quant *q, uint32_t count, int32_t axis, const float *scale,
                           const int32_t *zero_point);
qlite_status qlc_quant_copy(qlc_quant *dst, const qlc_quant *src);
void qlc_quant_clear(qlc_quant *q);
bool qlc_quant_equal(const qlc_quant *a, const qlc_quant *b);
/* Renames tensor t (the name must be free). */
qlite_status qlc_rename(qlc_graph *g, int32_t t, const char *name);
/* Swaps the names of two tensors. */
void qlc_swap_names(qlc_graph *g, int32_t a, int32_t b);
/* Sets (adds or replaces) a FLOAT / INT attribute of an ONNX-level node. */
qlite_status qlc_attr_set_float(qlc_node *n, const char *name, float v);
qlite_status qlc_attr_set_int(qlc_node *n, const char *name, int64_t v);

/* Number of live nodes. */
uint32_t qlc_live_nodes(const qlc_graph *g);

/* Error helper: "node 'name' (OpType): <message>" as this thread's last error. */
qlite_status qlc_node_error(const qlc_node *n, qlite_status st, const char *fmt, ...)
    QLITE_PRINTF(3, 4);

#endif /* QLITE_CONVERTER_IR_H */
