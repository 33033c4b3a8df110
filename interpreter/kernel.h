/*
 * kernel.h — the contract between the interpreter and op kernels.
 *
 * An op is prepare + eval (TFLite Micro style):
 *   prepare(node)  runs once per (re)prepare. Validates input count, dtypes
 *                  and shapes, sets every output's shape with
 *                  qlite_node_set_output_shape(), precomputes constants
 *                  (requantization multipliers, ...) into memory from
 *                  qlite_node_alloc(), and asks for per-invoke scratch by
 *                  setting node->scratch_bytes. Errors name the op through
 *                  qlite_node_error().
 *   eval(node)     computes outputs from inputs. Allocates nothing; may use
 *                  node->scratch (scratch_bytes, 64-byte aligned) and
 *                  qlite_parallel_for(). Returns QLITE_OK except on data-
 *                  dependent errors (e.g. a Gather index out of range).
 *
 * The output dtype and quantization are decided by the converter and stored
 * in the model; the kernel checks that they are a combination it supports.
 *
 * Constant inputs: a kernel lists in `raw_inputs` (bit i = input i) the inputs
 * whose stored form it reads directly — float16, int8 weights under float
 * activations (hybrid), sparse, clustered or packed-layout constants. Every
 * other constant input is handed to prepare/eval dense, row-major, and with
 * float16 widened to float32 (the interpreter converts it once at prepare
 * time; the memory is counted in qlite_interpreter_prepared_size()).
 * `raw_dense_inputs` is the narrower promise of a kernel that reads the
 * dense forms in place (float16 stays float16) but not the compressed ones:
 * such an input is handed over as stored when it is dense in the default
 * layout, and densified (float16 widened) when it is sparse, clustered or
 * packed.
 * `reads_stored` (optional) is the per-node form of raw_inputs for the
 * compressed forms: asked once at interpreter creation for each constant
 * input stored sparse or clustered (layout DEFAULT), with the op and the
 * descriptions of its inputs; true = the node reads that input as stored
 * (its prepare/eval see the model's bytes, `data == info->data`), false =
 * densified as above. A kernel that reads only some layouts (e.g. CONV_2D:
 * 1x1 convolutions) says so here; its prepare must accept exactly what this
 * answers true for, and refuse a compressed layout it does not read with a
 * clear error (the one-op test runner hands every constant over as stored).
 * `raw_packed_inputs` (bit i = input i) is the promise of a kernel that reads
 * the packed weight layouts (O16, O16I4; docs/format.md §6.2) in place: such
 * an input stored dense in a packed layout is handed over as stored (same
 * dtype, `data == info->data`); the kernel's prepare checks the layout is the
 * one it reads for that dtype and refuses any other with an error.
 *
 * Strided views (interpreter/views.c, docs/api.md "Strided views"): the
 * interpreter may skip a TRANSPOSE, or a GATHER with a constant scalar index,
 * and hand its output to the consumers as a view of the input's bytes, or let
 * the producer of a TRANSPOSE's input write the TRANSPOSE's output through
 * strides. A kernel opts in per input with `view_inputs` (bit i: input i may
 * arrive as a view) and for output 0 with `view_output`; `takes_view`
 * (optional, NULL = every declared bit holds) narrows it per node at
 * interpreter creation from the op and its tensor descriptions (which = input
 * index, or -1 for output 0), e.g. for dtype variants that read only dense
 * operands. A kernel that declares nothing never sees a view. A view tensor
 * has `is_view` set and `strides[d]` = the element step of dim d (any value
 * >= 0, possibly not a dense layout, dims may overlap nothing else in the
 * arena); `data` is its first element and `bytes` its dense size (not the
 * extent it spans). is_view is known at prepare for inputs and output 0 alike;
 * an input view's strides are valid at prepare and eval, an output view's at
 * eval only (they come from the TRANSPOSE's shape, prepared after its
 * producer). An output view always has stride 1 in its last dim. Every tensor
 * that is not a view is dense row-major (strides not meaningful: use
 * qlite_tensor_stride()).
 */
#ifndef QLITE_KERNEL_H
#define QLITE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"
#include "qlite_internal.h"

/* A tensor at run time. */
typedef struct qlite_tensor {
    const qlite_tensor_info *info; /* static description from the model (never NULL) */
    qlite_dtype dtype;             /* runtime dtype (FLOAT32 for a widened fp16 constant) */
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];  /* concrete: no -1 after prepare */
    void *data;                    /* arena, model bytes, or prepared copy; valid in eval */
    size_t bytes;                  /* dims product * dtype size (packed for INT4) */
    float scale;                   /* per-tensor quant scale (quant->scale[0]) or 0 */
    int32_t zero_point;            /* per-tensor zero point or 0 */
    bool is_const;                 /* data comes from the model */
    /* strided views (see above): set only for kernels that declare view_inputs / view_output */
    bool is_view;                  /* data + sum idx[d] strides[d] elements is element idx */
    int64_t strides[QLITE_MAX_RANK]; /* element strides when is_view */
} qlite_tensor;

struct qlite_threadpool;
struct qlite_alloc;

/*
 * What a node needs from whoever runs it (the interpreter, or the one-op
 * runner the kernel tests use): an error sink, the owner of prepare-time
 * allocations, the thread pool and the flags.
 */
typedef struct qlite_exec_ctx {
    char error[QLITE_ERROR_MAX];      /* last node error message */
    struct qlite_alloc *allocs;       /* list freed by qlite_exec_ctx_free_allocs */
    size_t alloc_bytes;               /* total bytes from qlite_node_alloc */
    struct qlite_threadpool *pool;    /* NULL = single thread */
    uint32_t flags;                   /* QLITE_INTERP_* */
} qlite_exec_ctx;

/* Frees every qlite_node_alloc block of the context and zeroes alloc_bytes. */
void qlite_exec_ctx_free_allocs(qlite_exec_ctx *ctx);

typedef struct qlite_node {
    uint32_t index;                /* op index in the model */
    const qlite_op_info *op;
    const qlite_op_options *opts;  /* &op->options */
    uint32_t num_inputs, num_outputs;
    qlite_tensor **inputs;         /* [num_inputs]; NULL = optional input absent */
    qlite_tensor **outputs;        /* [num_outputs] */
    void *state;                   /* the kernel's prepared data (from qlite_node_alloc) */
    size_t scratch_bytes;          /* set by prepare */
    void *scratch;                 /* set by the interpreter before eval */
    qlite_exec_ctx *ctx;           /* never NULL */
} qlite_node;

typedef struct qlite_kernel {
    qlite_status (*prepare)(qlite_node *node);
    qlite_status (*eval)(qlite_node *node);
    uint32_t raw_inputs;           /* bit i: input i is read in stored form */
    bool output_aliases_input;     /* output 0 is input 0's bytes (reshape-like, no copy) */
    uint32_t raw_dense_inputs;     /* bit i: input i is read as stored when stored dense */
    /* NULL = never; inputs[j] = input j's description (NULL when absent) */
    bool (*reads_stored)(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                         uint32_t input);
    uint32_t raw_packed_inputs;    /* bit i: input i is read as stored when stored in a packed
                                      layout (and not sparse / clustered) */
    uint32_t view_inputs;          /* bit i: input i may arrive as a strided view */
    bool view_output;              /* output 0 may be written through strides */
    /* NULL = every declared view bit holds; which = input index or -1 (output 0);
     * inputs[j] = input j's description (NULL when absent) */
    bool (*takes_view)(const qlite_op_info *op, const qlite_tensor_info *const *inputs,
                       int32_t which);
} qlite_kernel;

/* The registry, indexed by op code; NULL = no kernel (interpreter/registry.c). */
extern const qlite_kernel *const qlite_kernel_registry[QLITE_OP_COUNT];

/* Formats "op <index> <OPCODE> '<name>': <message>" into the interpreter's
 * error and this thread's last error; returns status. */
qlite_status qlite_node_error(const qlite_node *node, qlite_status status, const char *fmt, ...)
    QLITE_PRINTF(3, 4);

/* Sets output `index`'s rank and dims and computes its byte size; checks
 * them against the shape the model declares (dim 0 may differ when the model
 * declares it -1). Returns QLITE_ERR_SHAPE with a message otherwise. */
qlite_status qlite_node_set_output_shape(qlite_node *node, uint32_t index, uint32_t rank,
                                         const int64_t *dims);

/* Zeroed, 64-byte aligned memory that lives until the next prepare or
 * destroy (freed by the interpreter); NULL on failure. */
void *qlite_node_alloc(qlite_node *node, size_t bytes);

/* Number of threads eval may use (>= 1). */
int qlite_node_threads(const qlite_node *node);

/* True when the interpreter was created with QLITE_INTERP_REFERENCE_ONLY. */
bool qlite_node_reference_only(const qlite_node *node);

/* True when float convolutions must be the plain dot products (no Winograd):
 * the interpreter was created with QLITE_INTERP_EXACT_CONV or
 * QLITE_INTERP_REFERENCE_ONLY. */
bool qlite_node_exact_conv(const qlite_node *node);

/*
 * Runs fn(arg, begin, end) over [0, count) split into contiguous ranges
 * (threadpool.h: one item each when count <= 4 * threads, else 4 * threads
 * ranges), claimed by whichever thread is free, the calling thread included;
 * fn must not assume which thread runs a range. With one thread it is a
 * plain call fn(arg, 0, count). Returns after every range is done.
 */
typedef void (*qlite_range_fn)(void *arg, size_t begin, size_t end);
void qlite_parallel_for(const qlite_node *node, size_t count, qlite_range_fn fn, void *arg);

/*
 * The same, passing the index of the thread that runs each range:
 * fn(arg, thread, begin, end) with thread in [0, qlite_node_threads(node)).
 * Ranges given the same index never run at the same time, so a kernel can
 * keep one scratch area per thread (e.g. im2col tiles) while ranges are
 * claimed dynamically. With one thread: fn(arg, 0, 0, count).
 */
typedef void (*qlite_thread_range_fn)(void *arg, int thread, size_t begin, size_t end);
void qlite_parallel_for_thread(const qlite_node *node, size_t count, qlite_thread_range_fn fn,
                               void *arg);

/* Element step of dim d of a runtime tensor: strides[d] for a view, else the
 * product of the later dims (dense row-major). */
static inline int64_t qlite_tensor_stride(const qlite_tensor *t, uint32_t d) {
    if (t->is_view) return t->strides[d];
    int64_t s = 1;
    for (uint32_t i = d + 1; i < t->rank; i++) s *= t->dims[i];
    return s;
}

/* Element count of a runtime tensor. */
static inline size_t qlite_tensor_elements(const qlite_tensor *t) {
    size_t n = 1;
    for (uint32_t i = 0; i < t->rank; i++) n *= (size_t)t->dims[i];
    return n;
}

#endif /* QLITE_KERNEL_H */
