/*
 * interpreter.c — the qlite_interpreter_* API (include/qlite/qlite.h).
 *
 * create:   copy options; build runtime tensors (constants point into the
 *           model's bytes); resolve every op's kernel (none -> UNSUPPORTED_OP
 *           naming the op); check the graph's order (every tensor read was
 *           produced earlier, produced once); work out lifetimes, which
 *           constants some kernel wants dense, and output aliases; which
 *           TRANSPOSE / GATHER ops become strided views (views.c); wire the
 *           nodes; start the thread pool.
 * prepare:  dense copies of constants (first time only); every kernel's
 *           prepare in op order, which sets output shapes (shape inference
 *           through the graph), then the strides of the views an elided op
 *           makes; plan the arena; place tensors (a view at its root's offset
 *           plus its own) and scratch.
 * invoke:   every kernel's eval in order, except elided ops; the observer
 *           after each op. No allocation, no locking.
 * The object itself is described in interpreter_internal.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "densify.h"
#include "interpreter_internal.h"
#include "threadpool.h"

#define KNOWN_FLAGS \
    (QLITE_INTERP_KEEP_ALL_TENSORS | QLITE_INTERP_REFERENCE_ONLY | QLITE_INTERP_EXACT_CONV | \
     QLITE_INTERP_OBSERVE_VIEWS)
#define PRODUCER_NONE (-1)
#define PRODUCER_INPUT (-2)
#define UNSET_RANK (QLITE_MAX_RANK + 1u)
#define MAX_THREADS 256

/* Records an error as this thread's last error and as the handle's. */
static qlite_status ierr(const qlite_interpreter *it, qlite_status st, const char *fmt, ...)
    QLITE_PRINTF(3, 4);
static qlite_status ierr(const qlite_interpreter *it, qlite_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    qlite_verror(st, fmt, ap);
    va_end(ap);
    /* the message buffer is the only field a const handle lets us change: the
     * object is heap-allocated and never const itself */
    if (it) snprintf(((qlite_interpreter *)it)->ctx.error, QLITE_ERROR_MAX, "%s", qlite_last_error());
    return st;
}

/* Copies this thread's last error (set by a helper) into the handle. */
static qlite_status adopt(qlite_interpreter *it, qlite_status st) {
    snprintf(it->ctx.error, QLITE_ERROR_MAX, "%s", qlite_last_error());
    return st;
}

static const char *op_label(const qlite_interpreter *it, uint32_t i, char *buf, size_t cap) {
    const qlite_op_info *op = qlite_model_op(it->model, i);
    snprintf(buf, cap, "op %u %s '%s'", i, op ? qlite_op_name(op->code) : "?",
             op && op->name ? op->name : "");
    return buf;
}

static const char *fmt_dims(uint32_t rank, const int64_t *dims, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

/* Bytes of a dense tensor; -1 on a negative dim or overflow. */
static int shape_bytes(qlite_dtype dt, uint32_t rank, const int64_t *dims, size_t *out) {
    uint64_t n = 1, bits;
    for (uint32_t i = 0; i < rank; i++)
        if (dims[i] < 0 || qlite_mul_overflow_u64(n, (uint64_t)dims[i], &n)) return -1;
    if (qlite_mul_overflow_u64(n, qlite_dtype_bits(dt), &bits) || bits / 8 > SIZE_MAX / 2)
        return -1;
    *out = (size_t)((bits + 7) / 8);
    return 0;
}

static void *xcalloc(size_t n, size_t size) { return calloc(n ? n : 1, size); }

/* ------------------------------------------------------------------------ */
/* create                                                                    */
/* ------------------------------------------------------------------------ */

/* Whether op `op` (kernel k) reads its sparse / clustered constant input
 * `input` as stored (kernel.h: reads_stored). */
static bool reads_stored(const qlite_interpreter *it, const qlite_kernel *k,
                         const qlite_op_info *op, uint32_t input, const qlite_tensor_info *info) {
    enum { MAX_ASKED = 16 };
    if (!k->reads_stored || (!info->sparsity && !info->clustering) ||
        info->layout != QLITE_LAYOUT_DEFAULT || op->num_inputs > MAX_ASKED)
        return false;
    const qlite_tensor_info *infos[MAX_ASKED];
    for (uint32_t j = 0; j < op->num_inputs; j++)
        infos[j] = op->inputs[j] < 0 || (uint32_t)op->inputs[j] >= it->num_tensors
                       ? NULL
                       : it->tensors[op->inputs[j]].info;
    return k->reads_stored(op, infos, input);
}

/* Whether kernel k gets constant input `input` (described by info) densified
 * (kernel.h: raw_inputs, raw_dense_inputs, raw_packed_inputs, reads_stored). */
static bool reads_dense(const qlite_interpreter *it, const qlite_kernel *k,
                        const qlite_op_info *op, uint32_t input, const qlite_tensor_info *info) {
    if (input >= 32) return true;
    if (k->raw_inputs & (1u << input)) return false;
    if ((k->raw_dense_inputs & (1u << input)) && !info->sparsity && !info->clustering &&
        info->layout == QLITE_LAYOUT_DEFAULT)
        return false;
    if ((k->raw_packed_inputs & (1u << input)) && !info->sparsity && !info->clustering &&
        info->layout != QLITE_LAYOUT_DEFAULT)
        return false;
    return !reads_stored(it, k, op, input, info);
}

static qlite_status build_tensors(qlite_interpreter *it) {
    for (uint32_t t = 0; t < it->num_tensors; t++) {
        const qlite_tensor_info *info = qlite_model_tensor(it->model, t);
        if (!info) return ierr(it, QLITE_ERR_CORRUPT, "tensor %u is missing from the model", t);
        if (info->rank > QLITE_MAX_RANK)
            return ierr(it, QLITE_ERR_UNSUPPORTED, "tensor %u '%s' has rank %u; qlite handles %d",
                        t, info->name, info->rank, QLITE_MAX_RANK);
        if ((unsigned)info->dtype >= QLITE_DTYPE_COUNT)
            return ierr(it, QLITE_ERR_CORRUPT, "tensor %u '%s' has dtype %d", t, info->name,
                        (int)info->dtype);
        qlite_tensor *T = &it->tensors[t];
        T->info = info;
        T->dtype = info->dtype;
        T->rank = info->rank;
        for (uint32_t d = 0; d < info->rank; d++) T->dims[d] = info->shape[d];
        if (info->quant && info->quant->count > 0) {
            T->scale = info->quant->scale[0];
            T->zero_point = info->quant->zero_point[0];
        }
        it->producer[t] = PRODUCER_NONE;
        it->root[t] = t;
        it->dense_of[t] = -1;
        if (info->buffer == 0) continue;
        /* a constant: zero-copy view of the model's bytes */
        T->is_const = true;
        it->home[t] = QLITE_HOME_MODEL;
        T->data = (void *)info->data;
        size_t dense;
        if (shape_bytes(info->dtype, info->rank, info->shape, &dense) != 0)
            return ierr(it, QLITE_ERR_CORRUPT, "constant tensor %u '%s' has a bad shape", t,
                        info->name);
        bool stored_dense = !info->sparsity && !info->clustering &&
                            info->layout == QLITE_LAYOUT_DEFAULT;
        if (stored_dense && (info->data_size < dense || (dense && !info->data)))
            return ierr(it, QLITE_ERR_CORRUPT,
                        "constant tensor %u '%s' has %llu bytes but its shape needs %zu", t,
                        info->name, (unsigned long long)info->data_size, dense);
        T->bytes = stored_dense ? dense : (size_t)info->data_size;
    }
    return QLITE_OK;
}

static qlite_status build_io(qlite_interpreter *it) {
    const qlite_model *m = it->model;
    for (uint32_t k = 0; k < it->num_inputs; k++) {
        int32_t t = qlite_model_input(m, k);
        if (t < 0 || (uint32_t)t >= it->num_tensors)
            return ierr(it, QLITE_ERR_CORRUPT, "graph input %u is tensor %d, out of range", k, t);
        const qlite_tensor *T = &it->tensors[t];
        if (T->is_const)
            return ierr(it, QLITE_ERR_CORRUPT, "graph input %u ('%s') is a constant", k,
                        T->info->name);
        if (it->producer[t] != PRODUCER_NONE)
            return ierr(it, QLITE_ERR_CORRUPT, "tensor %d ('%s') is listed twice as an input", t,
                        T->info->name);
        it->producer[t] = PRODUCER_INPUT;
        it->inputs_idx[k] = t;
        for (uint32_t d = 0; d < T->info->rank; d++)
            it->input_dims[k][d] = T->info->shape[d] < 0 ? 1 : T->info->shape[d];
    }
    return QLITE_OK;
}

static qlite_status build_ops(qlite_interpreter *it, size_t *io_count, uint32_t *max_outputs) {
    const qlite_model *m = it->model;
    char lab[300];
    /* kernels first, so that the message can say how many ops lack one */
    uint32_t missing = 0, first_missing = 0;
    for (uint32_t i = 0; i < it->num_ops; i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        if (!op) return ierr(it, QLITE_ERR_CORRUPT, "op %u is missing from the model", i);
        const qlite_kernel *k =
            (unsigned)op->code < QLITE_OP_COUNT ? qlite_kernel_registry[op->code] : NULL;
        if (!k || !k->eval) {
            if (missing++ == 0) first_missing = i;
            continue;
        }
        it->kernels[i] = k;
    }
    if (missing) {
        const qlite_op_info *op = qlite_model_op(m, first_missing);
        char more[64] = "";
        if (missing > 1) snprintf(more, sizeof more, " (%u ops in all have none)", missing);
        return ierr(it, QLITE_ERR_UNSUPPORTED_OP, "%s: op code %d (%s) has no kernel in this build%s",
                    op_label(it, first_missing, lab, sizeof lab), (int)op->code,
                    qlite_op_name(op->code), more);
    }
    /* graph order: every tensor read exists already; every output is new */
    for (uint32_t i = 0; i < it->num_ops; i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        for (uint32_t j = 0; j < op->num_inputs; j++) {
            int32_t t = op->inputs[j];
            if (t == -1) continue;
            if (t < -1 || (uint32_t)t >= it->num_tensors)
                return ierr(it, QLITE_ERR_CORRUPT, "%s: input %u is tensor %d, out of range",
                            op_label(it, i, lab, sizeof lab), j, t);
            if (!it->tensors[t].is_const && it->producer[t] == PRODUCER_NONE)
                return ierr(it, QLITE_ERR_CORRUPT,
                            "%s: input %u reads tensor %d '%s' before any op produces it",
                            op_label(it, i, lab, sizeof lab), j, t, it->tensors[t].info->name);
            if (!it->tensors[t].is_const && i > it->last[t]) it->last[t] = i;
        }
        for (uint32_t j = 0; j < op->num_outputs; j++) {
            int32_t t = op->outputs[j];
            if (t == -1) continue;
            if (t < -1 || (uint32_t)t >= it->num_tensors)
                return ierr(it, QLITE_ERR_CORRUPT, "%s: output %u is tensor %d, out of range",
                            op_label(it, i, lab, sizeof lab), j, t);
            if (it->tensors[t].is_const)
                return ierr(it, QLITE_ERR_CORRUPT, "%s: output %u writes constant tensor %d '%s'",
                            op_label(it, i, lab, sizeof lab), j, t, it->tensors[t].info->name);
            if (it->producer[t] != PRODUCER_NONE)
                return ierr(it, QLITE_ERR_CORRUPT, "%s: output %u, tensor %d '%s', is also %s",
                            op_label(it, i, lab, sizeof lab), j, t, it->tensors[t].info->name,
                            it->producer[t] == PRODUCER_INPUT ? "a graph input"
                                                              : "written by an earlier op");
            it->producer[t] = (int32_t)i;
            it->first[t] = i;
            if (it->last[t] < i) it->last[t] = i;
        }
        *io_count += (size_t)op->num_inputs + op->num_outputs;
        if (op->num_outputs > *max_outputs) *max_outputs = op->num_outputs;
    }
    return QLITE_OK;
}

static qlite_status build_lifetimes(qlite_interpreter *it) {
    uint32_t end = it->num_ops ? it->num_ops - 1 : 0;
    for (uint32_t t = 0; t < it->num_tensors; t++)
        if (it->producer[t] == PRODUCER_INPUT) {
            it->first[t] = 0;
            it->last[t] = end;
        }
    for (uint32_t k = 0; k < it->num_outputs; k++) {
        int32_t t = qlite_model_output(it->model, k);
        if (t < 0 || (uint32_t)t >= it->num_tensors)
            return ierr(it, QLITE_ERR_CORRUPT, "graph output %u is tensor %d, out of range", k, t);
        if (!it->tensors[t].is_const && it->producer[t] == PRODUCER_NONE)
            return ierr(it, QLITE_ERR_CORRUPT, "graph output %u, tensor %d '%s', is never produced",
                        k, t, it->tensors[t].info->name);
        it->outputs_idx[k] = t;
        it->last[t] = end;
    }
    /* output aliases, in op order so an alias of an alias finds its root */
    for (uint32_t i = 0; i < it->num_ops; i++) {
        const qlite_op_info *op = qlite_model_op(it->model, i);
        if (!it->kernels[i]->output_aliases_input || op->num_inputs < 1 || op->num_outputs < 1 ||
            op->inputs[0] < 0 || op->outputs[0] < 0)
            continue;
        uint32_t in = (uint32_t)op->inputs[0], out = (uint32_t)op->outputs[0];
        if (it->tensors[in].is_const || it->home[in] == QLITE_HOME_CONST_ALIAS)
            it->home[out] = QLITE_HOME_CONST_ALIAS;
        else
            it->root[out] = it->root[in];
    }
    for (uint32_t t = 0; t < it->num_tensors; t++)
        if (it->home[t] == QLITE_HOME_NONE && it->producer[t] != PRODUCER_NONE)
            it->home[t] = QLITE_HOME_ARENA;
    return QLITE_OK;
}

static qlite_status build_dense(qlite_interpreter *it) {
    for (uint32_t i = 0; i < it->num_ops; i++) {
        const qlite_op_info *op = qlite_model_op(it->model, i);
        for (uint32_t j = 0; j < op->num_inputs; j++) {
            int32_t t = op->inputs[j];
            if (t < 0 || !it->tensors[t].is_const || it->dense_of[t] >= 0) continue;
            if (!reads_dense(it, it->kernels[i], op, j, it->tensors[t].info) ||
                !qlite_constant_needs_dense(it->tensors[t].info))
                continue;
            it->dense_of[t] = (int32_t)it->num_dense++;
        }
    }
    it->dense = xcalloc(it->num_dense, sizeof *it->dense);
    it->dense_src = xcalloc(it->num_dense, sizeof *it->dense_src);
    if (!it->dense || !it->dense_src) return ierr(it, QLITE_ERR_NO_MEMORY, "out of memory");
    for (uint32_t t = 0; t < it->num_tensors; t++) {
        if (it->dense_of[t] < 0) continue;
        qlite_tensor *D = &it->dense[it->dense_of[t]];
        *D = it->tensors[t];
        D->data = NULL;
        it->dense_src[it->dense_of[t]] = t;
        qlite_status st = qlite_constant_dense_size(D->info, &D->dtype, &D->bytes);
        if (st != QLITE_OK) return adopt(it, st);
    }
    return QLITE_OK;
}

static void build_nodes(qlite_interpreter *it) {
    size_t off = 0;
    for (uint32_t i = 0; i < it->num_ops; i++) {
        const qlite_op_info *op = qlite_model_op(it->model, i);
        qlite_node *n = &it->nodes[i];
        n->index = i;
        n->op = op;
        n->opts = &op->options;
        n->num_inputs = op->num_inputs;
        n->num_outputs = op->num_outputs;
        n->inputs = it->io + off;
        n->outputs = it->io + off + op->num_inputs;
        n->ctx = &it->ctx;
        off += (size_t)op->num_inputs + op->num_outputs;
        for (uint32_t j = 0; j < op->num_inputs; j++) {
            int32_t t = op->inputs[j];
            if (t < 0) n->inputs[j] = NULL;
            else if (it->dense_of[t] >= 0 &&
                     reads_dense(it, it->kernels[i], op, j, it->tensors[t].info))
                n->inputs[j] = &it->dense[it->dense_of[t]];
            else n->inputs[j] = &it->tensors[t];
        }
        for (uint32_t j = 0; j < op->num_outputs; j++) {
            int32_t t = op->outputs[j];
            n->outputs[j] = t < 0 ? NULL : &it->tensors[t];
        }
    }
}

qlite_status qlite_interpreter_create(const qlite_model *model,
                                      const qlite_interpreter_options *options,
                                      qlite_interpreter **out) {
    if (!out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "interpreter_create: out is NULL");
    *out = NULL;
    if (!model) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "interpreter_create: model is NULL");
    qlite_interpreter_options o;
    memset(&o, 0, sizeof o);
    if (options) o = *options;
    if (o.flags & ~(uint32_t)KNOWN_FLAGS)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "interpreter_create: unknown flags 0x%x",
                           o.flags & ~(uint32_t)KNOWN_FLAGS);
    if ((o.arena != NULL) != (o.arena_size != 0))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "interpreter_create: arena and arena_size must be given together");

    qlite_interpreter *it = calloc(1, sizeof *it);
    if (!it) return qlite_error(QLITE_ERR_NO_MEMORY, "interpreter_create: out of memory");
    it->model = model;
    it->opts = o;
    it->ctx.flags = o.flags;
    it->num_tensors = qlite_model_tensor_count(model);
    it->num_ops = qlite_model_op_count(model);
    it->num_inputs = qlite_model_input_count(model);
    it->num_outputs = qlite_model_output_count(model);
    size_t nt = it->num_tensors, no = it->num_ops;
    it->tensors = xcalloc(nt, sizeof *it->tensors);
    it->home = xcalloc(nt, sizeof *it->home);
    it->producer = xcalloc(nt, sizeof *it->producer);
    it->first = xcalloc(nt, sizeof *it->first);
    it->last = xcalloc(nt, sizeof *it->last);
    it->root = xcalloc(nt, sizeof *it->root);
    it->dense_of = xcalloc(nt, sizeof *it->dense_of);
    it->kernels = xcalloc(no, sizeof *it->kernels);
    it->nodes = xcalloc(no, sizeof *it->nodes);
    it->plan = xcalloc(nt + no, sizeof *it->plan);
    it->inputs_idx = xcalloc(it->num_inputs, sizeof *it->inputs_idx);
    it->input_dims = xcalloc(it->num_inputs, sizeof *it->input_dims);
    it->outputs_idx = xcalloc(it->num_outputs, sizeof *it->outputs_idx);
    it->elided = xcalloc(no, sizeof *it->elided);
    it->vkind = xcalloc(nt, sizeof *it->vkind);
    it->view_off = xcalloc(nt, sizeof *it->view_off);
    qlite_status st = QLITE_OK;
    if (!it->tensors || !it->home || !it->producer || !it->first || !it->last || !it->root ||
        !it->dense_of || !it->kernels || !it->nodes || !it->plan || !it->inputs_idx ||
        !it->input_dims || !it->outputs_idx || !it->elided || !it->vkind || !it->view_off)
        st = ierr(it, QLITE_ERR_NO_MEMORY, "interpreter_create: out of memory");
    size_t io_count = 0;
    uint32_t max_outputs = 0;
    if (st == QLITE_OK) st = build_tensors(it);
    if (st == QLITE_OK) st = build_io(it);
    if (st == QLITE_OK) st = build_ops(it, &io_count, &max_outputs);
    if (st == QLITE_OK) st = build_lifetimes(it);
    if (st == QLITE_OK && (st = qlite_views_build(it)) != QLITE_OK) adopt(it, st);
    if (st == QLITE_OK) st = build_dense(it);
    if (st == QLITE_OK) {
        it->io = xcalloc(io_count, sizeof *it->io);
        it->views = xcalloc(max_outputs, sizeof *it->views);
        if (!it->io || !it->views) st = ierr(it, QLITE_ERR_NO_MEMORY, "out of memory");
    }
    if (st == QLITE_OK) {
        build_nodes(it);
        if (o.num_threads > 1) {
            int n = o.num_threads > MAX_THREADS ? MAX_THREADS : o.num_threads;
            st = qlite_threadpool_create(n, &it->ctx.pool);
        }
    }
    if (st != QLITE_OK) {
        /* keep the message: destroy does not touch the thread's last error */
        qlite_interpreter_destroy(it);
        return st;
    }
    *out = it;
    return QLITE_OK;
}

void qlite_interpreter_destroy(qlite_interpreter *it) {
    if (!it) return;
    qlite_threadpool_destroy(it->ctx.pool);
    qlite_exec_ctx_free_allocs(&it->ctx);
    for (uint32_t k = 0; it->dense && k < it->num_dense; k++) qlite_aligned_free(it->dense[k].data);
    qlite_aligned_free(it->arena_owned);
    free(it->tensors);
    free(it->home);
    free(it->producer);
    free(it->first);
    free(it->last);
    free(it->root);
    free(it->dense_of);
    free(it->dense);
    free(it->dense_src);
    free(it->kernels);
    free(it->nodes);
    free(it->io);
    free(it->plan);
    free(it->inputs_idx);
    free(it->input_dims);
    free(it->outputs_idx);
    free(it->views);
    free(it->elided);
    free(it->vkind);
    free(it->view_off);
    free(it);
}

const char *qlite_interpreter_error(const qlite_interpreter *it) {
    return it ? it->ctx.error : "";
}

uint32_t qlite_interpreter_input_count(const qlite_interpreter *it) {
    return it ? it->num_inputs : 0;
}

uint32_t qlite_interpreter_output_count(const qlite_interpreter *it) {
    return it ? it->num_outputs : 0;
}

/* ------------------------------------------------------------------------ */
/* resize / prepare                                                          */
/* ------------------------------------------------------------------------ */

qlite_status qlite_interpreter_resize_input(qlite_interpreter *it, uint32_t index, uint32_t rank,
                                            const int64_t *dims) {
    if (!it) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "resize_input: interpreter is NULL");
    if (index >= it->num_inputs)
        return ierr(it, QLITE_ERR_INVALID_ARGUMENT,
                    "resize_input: input %u does not exist (the model has %u)", index,
                    it->num_inputs);
    if (rank && !dims) return ierr(it, QLITE_ERR_INVALID_ARGUMENT, "resize_input: dims is NULL");
    const qlite_tensor_info *info = it->tensors[it->inputs_idx[index]].info;
    char want[200], got[200];
    if (rank != info->rank)
        return ierr(it, QLITE_ERR_SHAPE, "resize_input: input %u '%s' has rank %u %s, got rank %u",
                    index, info->name, info->rank, fmt_dims(info->rank, info->shape, want, sizeof want),
                    rank);
    for (uint32_t d = 0; d < rank; d++) {
        if (info->shape[d] == -1 ? (dims[d] < 1 || dims[d] > INT32_MAX) : dims[d] != info->shape[d])
            return ierr(it, QLITE_ERR_SHAPE,
                        "resize_input: input %u '%s' is declared %s (only -1 dims may change, "
                        "to 1..2^31-1); got %s",
                        index, info->name, fmt_dims(rank, info->shape, want, sizeof want),
                        fmt_dims(rank, dims, got, sizeof got));
    }
    for (uint32_t d = 0; d < rank; d++) it->input_dims[index][d] = dims[d];
    it->state = QLITE_INTERP_CREATED;
    return QLITE_OK;
}

static qlite_status make_dense(qlite_interpreter *it) {
    size_t total = 0;
    for (uint32_t k = 0; k < it->num_dense; k++) {
        qlite_tensor *D = &it->dense[k];
        qlite_status st = QLITE_OK;
        if (D->bytes) {
            D->data = qlite_aligned_alloc(D->bytes);
            if (!D->data)
                st = ierr(it, QLITE_ERR_NO_MEMORY, "cannot allocate %zu bytes for the dense copy "
                          "of tensor '%s'", D->bytes, D->info->name);
            else st = qlite_constant_densify(it->model, it->dense_src[k], D->data, D->bytes);
        }
        if (st != QLITE_OK) {
            if (D->data) adopt(it, st);
            for (uint32_t j = 0; j <= k; j++) {
                qlite_aligned_free(it->dense[j].data);
                it->dense[j].data = NULL;
            }
            return st;
        }
        total += D->bytes;
    }
    it->dense_bytes = total;
    it->dense_ready = true;
    return QLITE_OK;
}

static qlite_status prepare_ops(qlite_interpreter *it) {
    char lab[300];
    for (uint32_t i = 0; i < it->num_ops; i++) {
        qlite_node *n = &it->nodes[i];
        const qlite_kernel *k = it->kernels[i];
        /* empty the message so we can tell whether the kernel wrote one; put
         * the old one back on success */
        char saved = it->ctx.error[0];
        it->ctx.error[0] = '\0';
        qlite_status st = k->prepare ? k->prepare(n) : QLITE_OK;
        if (st == QLITE_OK) it->ctx.error[0] = saved;
        if (st != QLITE_OK) {
            if (!it->ctx.error[0])
                ierr(it, st, "%s: prepare failed (%s)", op_label(it, i, lab, sizeof lab),
                     qlite_status_string(st));
            else
                qlite_error(st, "%s", it->ctx.error);
            return st;
        }
        for (uint32_t j = 0; j < n->num_outputs; j++)
            if (n->outputs[j] && n->outputs[j]->rank == UNSET_RANK)
                return ierr(it, QLITE_ERR_SHAPE, "%s: the kernel did not set output %u's shape",
                            op_label(it, i, lab, sizeof lab), j);
        if ((st = qlite_views_prepare_op(it, i)) != QLITE_OK) return adopt(it, st);
        if (k->output_aliases_input && n->num_inputs && n->num_outputs && n->inputs[0] &&
            n->outputs[0]) {
            if (n->outputs[0]->bytes > n->inputs[0]->bytes)
                return ierr(it, QLITE_ERR_SHAPE,
                            "%s: output 0 (%zu bytes) cannot alias input 0 (%zu bytes)",
                            op_label(it, i, lab, sizeof lab), n->outputs[0]->bytes,
                            n->inputs[0]->bytes);
            uint32_t out = (uint32_t)n->op->outputs[0];
            if (it->home[out] == QLITE_HOME_CONST_ALIAS) {
                n->outputs[0]->data = n->inputs[0]->data;
                n->outputs[0]->is_const = true;
            }
        }
    }
    return QLITE_OK;
}

static qlite_status plan_and_place(qlite_interpreter *it) {
    const uint32_t nt = it->num_tensors, end = it->num_ops ? it->num_ops - 1 : 0;
    const bool keep_all = (it->opts.flags & QLITE_INTERP_KEEP_ALL_TENSORS) != 0;
    qlite_plan_item *items = it->plan;
    for (uint32_t t = 0; t < nt; t++) items[t] = (qlite_plan_item){0, UINT32_MAX, 0, 0};
    /* an alias root's item covers every member's bytes and lifetime */
    for (uint32_t t = 0; t < nt; t++) {
        if (it->home[t] != QLITE_HOME_ARENA) continue;
        qlite_plan_item *p = &items[it->root[t]];
        uint32_t f = keep_all ? 0 : it->first[t], l = keep_all ? end : it->last[t];
        if (p->first == UINT32_MAX) {
            p->first = f;
            p->last = l;
        } else {
            if (f < p->first) p->first = f;
            if (l > p->last) p->last = l;
        }
        if (it->tensors[t].bytes > p->size) p->size = it->tensors[t].bytes;
    }
    for (uint32_t t = 0; t < nt; t++)
        if (items[t].first == UINT32_MAX) items[t].first = items[t].last = 0;
    for (uint32_t i = 0; i < it->num_ops; i++)
        items[nt + i] = (qlite_plan_item){it->nodes[i].scratch_bytes, i, i, 0};
    size_t needed;
    qlite_status st = qlite_plan_arena(items, (size_t)nt + it->num_ops, &needed);
    if (st != QLITE_OK) return adopt(it, st);

    uint8_t *base;
    if (it->opts.arena) {
        size_t pad = (size_t)(-(uintptr_t)it->opts.arena & (QLITE_PLAN_ALIGN - 1));
        if (needed && (it->opts.arena_size < pad || it->opts.arena_size - pad < needed))
            return ierr(it, QLITE_ERR_NO_MEMORY,
                        "the caller's arena of %zu bytes is too small: the plan needs %zu bytes%s",
                        it->opts.arena_size, needed + pad,
                        pad ? " (including padding to align the arena's start to 64)" : "");
        base = (uint8_t *)it->opts.arena + pad;
    } else {
        if (needed > it->arena_capacity) {
            qlite_aligned_free(it->arena_owned);
            it->arena_capacity = 0;
            it->arena_owned = qlite_aligned_alloc(needed);
            if (!it->arena_owned)
                return ierr(it, QLITE_ERR_NO_MEMORY, "cannot allocate the %zu-byte arena", needed);
            it->arena_capacity = needed;
        }
        base = it->arena_owned;
    }
    it->arena = base;
    it->arena_needed = needed;
    for (uint32_t t = 0; t < nt; t++)
        if (it->home[t] == QLITE_HOME_ARENA)
            it->tensors[t].data = base ? base + items[it->root[t]].offset + it->view_off[t] : NULL;
    for (uint32_t i = 0; i < it->num_ops; i++) {
        qlite_node *n = &it->nodes[i];
        n->scratch = n->scratch_bytes ? base + items[nt + i].offset : NULL;
    }
    return QLITE_OK;
}

qlite_status qlite_interpreter_prepare(qlite_interpreter *it) {
    if (!it) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "prepare: interpreter is NULL");
    it->state = QLITE_INTERP_CREATED;
    it->arena_needed = 0;
    qlite_exec_ctx_free_allocs(&it->ctx);
    for (uint32_t i = 0; i < it->num_ops; i++) {
        it->nodes[i].state = NULL;
        it->nodes[i].scratch_bytes = 0;
        it->nodes[i].scratch = NULL;
    }
    qlite_status st;
    if (!it->dense_ready && (st = make_dense(it)) != QLITE_OK) return st;
    /* fresh shapes: graph inputs from input_dims, everything produced unset */
    for (uint32_t t = 0; t < it->num_tensors; t++) {
        if (it->home[t] == QLITE_HOME_MODEL) continue;
        qlite_tensor *T = &it->tensors[t];
        T->rank = UNSET_RANK;
        T->bytes = 0;
        T->data = NULL;
        T->is_const = false;
        T->is_view = it->vkind[t] != QLITE_VIEW_NONE; /* strides: qlite_views_prepare_op */
        it->view_off[t] = 0;
    }
    for (uint32_t k = 0; k < it->num_inputs; k++) {
        qlite_tensor *T = &it->tensors[it->inputs_idx[k]];
        T->rank = T->info->rank;
        memcpy(T->dims, it->input_dims[k], sizeof T->dims);
        if (shape_bytes(T->dtype, T->rank, T->dims, &T->bytes) != 0) {
            char d[200];
            return ierr(it, QLITE_ERR_SHAPE, "input %u '%s' of shape %s is too large", k,
                        T->info->name, fmt_dims(T->rank, T->dims, d, sizeof d));
        }
    }
    if ((st = prepare_ops(it)) != QLITE_OK) return st;
    if ((st = plan_and_place(it)) != QLITE_OK) return st;
    it->state = QLITE_INTERP_PREPARED;
    return QLITE_OK;
}

size_t qlite_interpreter_arena_size(const qlite_interpreter *it) {
    return it && it->state == QLITE_INTERP_PREPARED ? it->arena_needed : 0;
}

size_t qlite_interpreter_prepared_size(const qlite_interpreter *it) {
    return it ? it->dense_bytes + it->ctx.alloc_bytes : 0;
}

/* ------------------------------------------------------------------------ */
/* inputs, outputs, views                                                    */
/* ------------------------------------------------------------------------ */

static void fill_view(uint32_t index, const qlite_tensor *T, qlite_tensor_view *v) {
    memset(v, 0, sizeof *v);
    v->tensor = index;
    v->name = T->info->name;
    v->dtype = T->dtype;
    v->rank = T->rank <= QLITE_MAX_RANK ? T->rank : 0;
    for (uint32_t d = 0; d < v->rank; d++) v->dims[d] = T->dims[d];
    /* a strided view (views.c) is not dense: no data to show */
    v->data = T->is_view ? NULL : T->data;
    v->bytes = T->is_view ? 0 : T->bytes;
    const qlite_quant *q = T->info->quant;
    if (q && q->count == 1) {
        v->scale = q->scale[0];
        v->zero_point = q->zero_point[0];
    }
}

static qlite_status need_prepared(const qlite_interpreter *it, const char *what) {
    if (!it) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "%s: interpreter is NULL", what);
    if (it->state != QLITE_INTERP_PREPARED)
        return ierr(it, QLITE_ERR_BAD_STATE,
                    "%s: the interpreter is not prepared (call qlite_interpreter_prepare after "
                    "create or resize_input)",
                    what);
    return QLITE_OK;
}

qlite_status qlite_interpreter_set_input(qlite_interpreter *it, uint32_t index, const void *data,
                                         size_t bytes) {
    qlite_status st = need_prepared(it, "set_input");
    if (st != QLITE_OK) return st;
    if (index >= it->num_inputs)
        return ierr(it, QLITE_ERR_INVALID_ARGUMENT,
                    "set_input: input %u does not exist (the model has %u)", index, it->num_inputs);
    qlite_tensor *T = &it->tensors[it->inputs_idx[index]];
    if (bytes != T->bytes) {
        char d[200];
        return ierr(it, QLITE_ERR_INVALID_ARGUMENT,
                    "set_input: input %u '%s' is %s %s = %zu bytes; got %zu bytes", index,
                    T->info->name, qlite_dtype_name(T->dtype), fmt_dims(T->rank, T->dims, d, sizeof d),
                    T->bytes, bytes);
    }
    if (bytes && !data) return ierr(it, QLITE_ERR_INVALID_ARGUMENT, "set_input: data is NULL");
    if (bytes && data != T->data) memcpy(T->data, data, bytes);
    return QLITE_OK;
}

qlite_status qlite_interpreter_input(const qlite_interpreter *it, uint32_t index,
                                     qlite_tensor_view *out) {
    qlite_status st = need_prepared(it, "input");
    if (st != QLITE_OK) return st;
    if (!out) return ierr(it, QLITE_ERR_INVALID_ARGUMENT, "input: out is NULL");
    if (index >= it->num_inputs)
        return ierr(it, QLITE_ERR_INVALID_ARGUMENT, "input: input %u does not exist (the model has %u)",
                    index, it->num_inputs);
    uint32_t t = (uint32_t)it->inputs_idx[index];
    fill_view(t, &it->tensors[t], out);
    return QLITE_OK;
}

/* The runtime form a view shows: a constant's dense copy when one exists. */
static const qlite_tensor *shown(const qlite_interpreter *it, uint32_t t) {
    if (it->dense_of[t] >= 0 && it->dense_ready) return &it->dense[it->dense_of[t]];
    return &it->tensors[t];
}

qlite_status qlite_interpreter_output(const qlite_interpreter *it, uint32_t index,
                                      qlite_tensor_view *out) {
    qlite_status st = need_prepared(it, "output");
    if (st != QLITE_OK) return st;
    if (!out) return ierr(it, QLITE_ERR_INVALID_ARGUMENT, "output: out is NULL");
    if (index >= it->num_outputs)
        return ierr(it, QLITE_ERR_INVALID_ARGUMENT,
                    "output: output %u does not exist (the model has %u)", index, it->num_outputs);
    uint32_t t = (uint32_t)it->outputs_idx[index];
    fill_view(t, shown(it, t), out);
    return QLITE_OK;
}

qlite_status qlite_interpreter_tensor(const qlite_interpreter *it, uint32_t tensor,
                                      qlite_tensor_view *out) {
    qlite_status st = need_prepared(it, "tensor");
    if (st != QLITE_OK) return st;
    if (!out) return ierr(it, QLITE_ERR_INVALID_ARGUMENT, "tensor: out is NULL");
    if (tensor >= it->num_tensors)
        return ierr(it, QLITE_ERR_INVALID_ARGUMENT,
                    "tensor: tensor %u does not exist (the model has %u)", tensor, it->num_tensors);
    fill_view(tensor, shown(it, tensor), out);
    return QLITE_OK;
}

/* ------------------------------------------------------------------------ */
/* invoke                                                                    */
/* ------------------------------------------------------------------------ */

qlite_status qlite_interpreter_invoke(qlite_interpreter *it) {
    qlite_status st = need_prepared(it, "invoke");
    if (st != QLITE_OK) return st;
    char lab[300];
    for (uint32_t i = 0; i < it->num_ops; i++) {
        qlite_node *n = &it->nodes[i];
        char saved = it->ctx.error[0];
        it->ctx.error[0] = '\0';
        /* an elided op's output is a view, or written by its producer (views.c) */
        st = it->elided[i] ? QLITE_OK : it->kernels[i]->eval(n);
        if (st == QLITE_OK) it->ctx.error[0] = saved;
        if (st != QLITE_OK) {
            if (!it->ctx.error[0])
                ierr(it, st, "%s: eval failed (%s)", op_label(it, i, lab, sizeof lab),
                     qlite_status_string(st));
            else
                qlite_error(st, "%s", it->ctx.error);
            return st;
        }
        if (it->opts.observer) {
            for (uint32_t j = 0; j < n->num_outputs; j++) {
                if (n->outputs[j]) fill_view((uint32_t)n->op->outputs[j], n->outputs[j], &it->views[j]);
                else memset(&it->views[j], 0, sizeof it->views[j]);
            }
            it->opts.observer(it->opts.observer_user, i, n->op, n->num_outputs, it->views);
        }
    }
    return QLITE_OK;
}
