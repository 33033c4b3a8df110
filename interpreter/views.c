/*
 * views.c — TRANSPOSE and constant-index GATHER as zero-copy strided views
 * (docs/api.md "Strided views"; the kernel side is kernel.h).
 *
 * At create (qlite_views_build), ops from the last to the first:
 *   VIEW   a TRANSPOSE, or a GATHER whose index is a constant scalar, does not
 *          run when its input is an activation in the arena, its output is
 *          not a graph output, has at least one consumer, carries the input's
 *          dtype and quantization, and every consumer takes a view at that
 *          input (kernel.h view_inputs / takes_view; an op elided as VIEW
 *          counts as taking one at input 0: views compose, e.g. GATHER ->
 *          TRANSPOSE -> BATCH_MATMUL). Its output joins the input's alias
 *          root, so the planner keeps the input's bytes until the view's last
 *          use.
 *   WRITE  a TRANSPOSE not elided as VIEW whose input has no other consumer and
 *          is output 0 of an op that writes a view output (view_output /
 *          takes_view(-1)), with the same dtype and quantization and a perm
 *          that keeps the last dim last, does not run either (its output may
 *          be a graph output: it stays dense): its input joins the output's
 *          alias root and the producer writes the TRANSPOSE's
 *          output through the inverse permutation's strides.
 * Ops are visited from the last so a consumer's decision is known before its
 * producer's. Nothing is elided under QLITE_INTERP_KEEP_ALL_TENSORS (every
 * tensor stays readable), QLITE_INTERP_REFERENCE_ONLY (the graph runs as
 * written), or with an observer unless QLITE_INTERP_OBSERVE_VIEWS is given
 * (observers such as calibration see every tensor materialized).
 * At prepare (qlite_views_prepare_op, after each op's kernel prepare, which
 * still runs: it checks the op and sets the output shape), an elided op's
 * view gets its strides and its byte offset from the root; its scratch is
 * dropped. A GATHER index out of range fails here (it would fail at invoke).
 */
#include <string.h>

#include "interpreter_internal.h"

static bool same_quant(const qlite_tensor_info *a, const qlite_tensor_info *b) {
    if (a->dtype != b->dtype) return false;
    const qlite_quant *p = a->quant, *q = b->quant;
    const bool pq = p && p->count > 0, qq = q && q->count > 0;
    if (pq != qq) return false;
    if (!pq) return true;
    if (p->count != q->count || (p->count > 1 && p->axis != q->axis)) return false;
    for (uint32_t c = 0; c < p->count; c++)
        if (p->scale[c] != q->scale[c] || p->zero_point[c] != q->zero_point[c]) return false;
    return true;
}

static bool is_graph_output(const qlite_interpreter *it, uint32_t t) {
    for (uint32_t k = 0; k < it->num_outputs; k++)
        if ((uint32_t)it->outputs_idx[k] == t) return true;
    return false;
}

/* Whether op i's kernel takes a view at `which` (input index, -1 = output 0). */
static bool kernel_takes(const qlite_interpreter *it, uint32_t i, int32_t which) {
    enum { MAX_ASKED = 16 };
    const qlite_kernel *k = it->kernels[i];
    const qlite_op_info *op = qlite_model_op(it->model, i);
    if (which >= 32 || op->num_inputs > MAX_ASKED) return false;
    if (which < 0 ? !k->view_output : !(k->view_inputs & (1u << which))) return false;
    if (!k->takes_view) return true;
    const qlite_tensor_info *infos[MAX_ASKED];
    for (uint32_t j = 0; j < op->num_inputs; j++)
        infos[j] = op->inputs[j] < 0 ? NULL : it->tensors[op->inputs[j]].info;
    return k->takes_view(op, infos, which);
}

/* A scalar constant integer index of a GATHER; false if it is not one. */
static bool const_scalar_index(const qlite_tensor *T, int64_t *v) {
    if (!T->is_const || T->info->rank != 0 || !T->info->data || T->info->sparsity ||
        T->info->clustering || T->info->layout != QLITE_LAYOUT_DEFAULT)
        return false;
    if (T->dtype == QLITE_DTYPE_INT64 && T->info->data_size >= 8) {
        memcpy(v, T->info->data, 8);
        return true;
    }
    if (T->dtype == QLITE_DTYPE_INT32 && T->info->data_size >= 4) {
        int32_t x;
        memcpy(&x, T->info->data, 4);
        *v = x;
        return true;
    }
    return false;
}

/* Op i is a TRANSPOSE or GATHER that could become a view of its input
 * (shape-independent checks only); *in / *out its tensors. */
static bool candidate(const qlite_interpreter *it, uint32_t i, uint32_t *in, uint32_t *out) {
    const qlite_op_info *op = qlite_model_op(it->model, i);
    if (op->num_outputs != 1 || op->outputs[0] < 0 || op->num_inputs < 1 || op->inputs[0] < 0)
        return false;
    if (op->code == QLITE_OP_TRANSPOSE) {
        if (op->num_inputs != 1 || op->options.type != QLITE_OPTIONS_TRANSPOSE) return false;
    } else if (op->code == QLITE_OP_GATHER) {
        int64_t idx;
        if (op->num_inputs != 2 || op->inputs[1] < 0 ||
            op->options.type != QLITE_OPTIONS_GATHER ||
            !const_scalar_index(&it->tensors[op->inputs[1]], &idx))
            return false;
    } else {
        return false;
    }
    *in = (uint32_t)op->inputs[0];
    *out = (uint32_t)op->outputs[0];
    const qlite_tensor *I = &it->tensors[*in], *O = &it->tensors[*out];
    return it->home[*in] == QLITE_HOME_ARENA && !I->is_const && I->dtype != QLITE_DTYPE_INT4 &&
           same_quant(I->info, O->info);
}

uint32_t qlite_interpreter_elided_ops(const qlite_interpreter *it) {
    return it ? it->num_elided : 0;
}

qlite_status qlite_views_build(qlite_interpreter *it) {
    const uint32_t flags = it->opts.flags;
    if (flags & (QLITE_INTERP_KEEP_ALL_TENSORS | QLITE_INTERP_REFERENCE_ONLY)) return QLITE_OK;
    if (it->opts.observer && !(flags & QLITE_INTERP_OBSERVE_VIEWS)) return QLITE_OK;
    for (uint32_t i = it->num_ops; i-- > 0;) {
        uint32_t in, out;
        if (!candidate(it, i, &in, &out)) continue;
        /* VIEW: every consumer takes a view of `out` */
        uint32_t consumers = 0;
        bool all = true;
        for (uint32_t j = i + 1; j < it->num_ops && all; j++) {
            const qlite_op_info *c = qlite_model_op(it->model, j);
            for (uint32_t s = 0; s < c->num_inputs; s++) {
                if (c->inputs[s] != (int32_t)out) continue;
                consumers++;
                if (!(s == 0 && it->elided[j] == QLITE_ELIDE_VIEW) &&
                    !kernel_takes(it, j, (int32_t)s)) {
                    all = false;
                    break;
                }
            }
        }
        if (consumers && all && !is_graph_output(it, out)) {
            it->elided[i] = QLITE_ELIDE_VIEW;
            it->vkind[out] = QLITE_VIEW_OF_INPUT;
            continue;
        }
        /* WRITE: a TRANSPOSE keeping the last dim, input written by a producer that
         * takes a view output and read by this op alone */
        const qlite_op_info *op = qlite_model_op(it->model, i);
        const qlite_transpose_options *to = &op->options.u.transpose;
        const int32_t pk = it->producer[in];
        if (op->code != QLITE_OP_TRANSPOSE || to->rank < 1 || !to->perm ||
            to->perm[to->rank - 1] != (int32_t)to->rank - 1 || pk < 0 ||
            it->elided[pk] != QLITE_ELIDE_NONE || it->vkind[in] != QLITE_VIEW_NONE ||
            is_graph_output(it, in) || it->root[in] != in || it->root[out] != out)
            continue;
        const qlite_op_info *p = qlite_model_op(it->model, (uint32_t)pk);
        if (p->outputs[0] != (int32_t)in || !kernel_takes(it, (uint32_t)pk, -1)) continue;
        uint32_t readers = 0;
        for (uint32_t j = (uint32_t)pk + 1; j < it->num_ops; j++) {
            const qlite_op_info *c = qlite_model_op(it->model, j);
            for (uint32_t s = 0; s < c->num_inputs; s++) readers += c->inputs[s] == (int32_t)in;
        }
        if (readers != 1) continue;
        it->elided[i] = QLITE_ELIDE_WRITE;
        it->vkind[in] = QLITE_VIEW_WRITTEN;
    }
    /* roots, in op order so a view of a view finds the first source's root */
    for (uint32_t i = 0; i < it->num_ops; i++) {
        if (it->elided[i] == QLITE_ELIDE_NONE) continue;
        const qlite_op_info *op = qlite_model_op(it->model, i);
        const uint32_t in = (uint32_t)op->inputs[0], out = (uint32_t)op->outputs[0];
        if (it->elided[i] == QLITE_ELIDE_VIEW) it->root[out] = it->root[in];
        else it->root[in] = it->root[out];
        it->num_elided++;
    }
    /* an alias (RESHAPE, ...) of a tensor whose root moved follows it */
    for (uint32_t t = 0; t < it->num_tensors; t++) {
        uint32_t r = t, guard = 0;
        while (it->root[r] != r && guard++ < it->num_tensors) r = it->root[r];
        it->root[t] = r;
    }
    return QLITE_OK;
}

/* Element strides of T (its own when a view, else dense row-major). */
static void strides_of(const qlite_tensor *T, int64_t *s) {
    for (uint32_t d = 0; d < T->rank; d++) s[d] = qlite_tensor_stride(T, d);
}

qlite_status qlite_views_prepare_op(qlite_interpreter *it, uint32_t i) {
    if (it->elided[i] == QLITE_ELIDE_NONE) return QLITE_OK;
    qlite_node *n = &it->nodes[i];
    const qlite_op_info *op = n->op;
    const uint32_t tin = (uint32_t)op->inputs[0], tout = (uint32_t)op->outputs[0];
    qlite_tensor *in = &it->tensors[tin], *out = &it->tensors[tout];
    n->scratch_bytes = 0;
    const size_t es = qlite_dtype_bits(in->dtype) / 8;
    int64_t s[QLITE_MAX_RANK];
    if (it->elided[i] == QLITE_ELIDE_WRITE) {
        /* input dim perm[j] is output dim j: its step is output dim j's */
        const int32_t *perm = op->options.u.transpose.perm;
        strides_of(out, s);
        for (uint32_t j = 0; j < out->rank; j++) in->strides[perm[j]] = s[j];
        in->is_view = true;
        it->view_off[tin] = it->view_off[tout];
        return QLITE_OK;
    }
    strides_of(in, s);
    size_t off = it->view_off[tin];
    if (op->code == QLITE_OP_TRANSPOSE) {
        const int32_t *perm = op->options.u.transpose.perm;
        for (uint32_t j = 0; j < out->rank; j++) out->strides[j] = s[perm[j]];
    } else {
        uint32_t ax = 0;
        int64_t idx = 0;
        int64_t axis = op->options.u.gather.axis; /* checked by GATHER's prepare */
        if (axis < 0) axis += in->rank;
        ax = (uint32_t)axis;
        const_scalar_index(&it->tensors[op->inputs[1]], &idx);
        const int64_t d = in->dims[ax];
        if (idx < 0) idx += d;
        if (idx < 0 || idx >= d)
            return qlite_node_error(n, QLITE_ERR_INVALID_ARGUMENT,
                                    "index %lld is out of range for axis %u of size %lld",
                                    (long long)idx, ax, (long long)d);
        off += (size_t)idx * (size_t)s[ax] * es;
        for (uint32_t j = 0, o = 0; j < in->rank; j++)
            if (j != ax) out->strides[o++] = s[j];
    }
    out->is_view = true;
    it->view_off[tout] = off;
    return QLITE_OK;
}
