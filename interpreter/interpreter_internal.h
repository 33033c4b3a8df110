/*
 * interpreter_internal.h — the interpreter object (not installed).
 *
 * Memory owned by an interpreter:
 *   - per-tensor runtime structs (qlite_tensor) and per-op nodes, sized at
 *     create from the model and never reallocated;
 *   - dense copies of constants that some kernel reads dense (float16 widened,
 *     sparse / clustered / packed decoded), made at the first prepare and kept
 *     until destroy;
 *   - kernels' prepared data (qlite_node_alloc, freed at each prepare);
 *   - the activation arena (unless the caller supplied one), planned at every
 *     prepare; invoke allocates nothing.
 *
 * Time steps for the planner: op i runs at step i. A tensor lives from its
 * producer's step to its last consumer's step; graph inputs and outputs live
 * through every step (so inputs survive an invoke and can be invoked again, and
 * outputs stay readable). An op's scratch lives at its own step only.
 * A strided view (views.c) is an alias too: it joins its source's root (a
 * skipped TRANSPOSE / GATHER's output), or the source joins the view's (the
 * input of a TRANSPOSE its producer writes through strides), so the root's
 * lifetime covers both; its bytes start view_off after the root's.
 */
#ifndef QLITE_INTERPRETER_INTERNAL_H
#define QLITE_INTERPRETER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "planner.h"

typedef enum qlite_interp_state {
    QLITE_INTERP_CREATED = 0,   /* after create / resize_input: prepare next */
    QLITE_INTERP_PREPARED,      /* shapes known, arena planned: set inputs, invoke */
} qlite_interp_state;

/* Where a tensor's bytes come from at run time. */
typedef enum qlite_tensor_home {
    QLITE_HOME_NONE = 0,        /* unused by the graph: no bytes */
    QLITE_HOME_MODEL,           /* a constant: model bytes (or its dense copy) */
    QLITE_HOME_ARENA,           /* planned in the arena (at its alias root's offset) */
    QLITE_HOME_CONST_ALIAS,     /* output of an aliasing op over a constant */
} qlite_tensor_home;

struct qlite_interpreter {
    const qlite_model *model;            /* borrowed */
    qlite_interpreter_options opts;
    qlite_interp_state state;
    qlite_exec_ctx ctx;                  /* error text, prepare allocs, thread pool, flags */

    uint32_t num_tensors, num_ops, num_inputs, num_outputs;
    qlite_tensor *tensors;               /* [num_tensors] runtime tensors (stored form) */
    qlite_tensor_home *home;             /* [num_tensors] */
    int32_t *producer;                   /* [num_tensors] op index, or -1 */
    uint32_t *first, *last;              /* [num_tensors] lifetime (steps) of alias roots */
    uint32_t *root;                      /* [num_tensors] alias root (itself if none) */

    const qlite_kernel **kernels;        /* [num_ops] */
    qlite_node *nodes;                   /* [num_ops] */
    qlite_tensor **io;                   /* node input/output pointer storage */

    /* dense copies of constants (dense_of[t] = index into dense[], or -1) */
    int32_t *dense_of;                   /* [num_tensors] */
    uint32_t num_dense;
    qlite_tensor *dense;                 /* [num_dense] */
    uint32_t *dense_src;                 /* [num_dense] model tensor index */
    bool dense_ready;
    size_t dense_bytes;

    /* graph inputs: tensor index and current (possibly resized) shape */
    int32_t *inputs_idx;                 /* [num_inputs] */
    int32_t *outputs_idx;                /* [num_outputs] */
    int64_t (*input_dims)[QLITE_MAX_RANK]; /* [num_inputs] */

    /* plan: one item per tensor (alias roots only are non-empty), one per op scratch */
    qlite_plan_item *plan;               /* [num_tensors + num_ops] */
    size_t arena_needed;                 /* from the last successful plan */
    uint8_t *arena;                      /* 64-byte aligned start actually used */
    void *arena_owned;                   /* our allocation, or NULL */
    size_t arena_capacity;               /* bytes at arena_owned */

    qlite_tensor_view *views;            /* [max outputs of an op] for the observer */

    /* strided views (views.c): ops that do not run, tensors that are views */
    uint8_t *elided;                     /* [num_ops] QLITE_ELIDE_* */
    uint8_t *vkind;                      /* [num_tensors] QLITE_VIEW_* */
    size_t *view_off;                    /* [num_tensors] bytes after the root's start */
    uint32_t num_elided;                 /* ops elided at create */
};

/* How an op is elided (views.c). */
enum {
    QLITE_ELIDE_NONE = 0,
    QLITE_ELIDE_VIEW,                    /* output 0 is a view of input 0 */
    QLITE_ELIDE_WRITE,                   /* TRANSPOSE: input 0's producer writes output 0 */
};
/* What a tensor is (views.c). */
enum {
    QLITE_VIEW_NONE = 0,
    QLITE_VIEW_OF_INPUT,                 /* output of a QLITE_ELIDE_VIEW op */
    QLITE_VIEW_WRITTEN,                  /* input of a QLITE_ELIDE_WRITE TRANSPOSE */
};

/* At create, after lifetimes and aliases: picks the ops to elide, sets their
 * outputs' alias roots (views.c). Off under KEEP_ALL_TENSORS, REFERENCE_ONLY,
 * and with an observer unless QLITE_INTERP_OBSERVE_VIEWS. */
qlite_status qlite_views_build(qlite_interpreter *it);
/* At prepare, after op i's kernel prepare: strides and offsets of the views
 * it makes (none when it is not elided). */
qlite_status qlite_views_prepare_op(qlite_interpreter *it, uint32_t i);
/* Number of ops the interpreter skips (elided TRANSPOSE / GATHER); for tests. */
uint32_t qlite_interpreter_elided_ops(const qlite_interpreter *it);

#endif /* QLITE_INTERPRETER_INTERNAL_H */
