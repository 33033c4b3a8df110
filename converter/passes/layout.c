/*
 * layout.c — NCHW -> NHWC. Lowering wrapped every channels-last op (conv,
 * pool, resize) in transposes; this pass moves those transposes down the
 * graph until they meet and cancel, so that whole chains run NHWC and only
 * the unavoidable transposes remain (a model input / output in the layout
 * ONNX declares, a Flatten of a feature map whose spatial size is not 1x1
 * when no FC weight can absorb it).
 *
 * Rewrites, repeated until nothing changes:
 *   1. TRANSPOSE with the identity perm: removed.
 *   2. TRANSPOSE(TRANSPOSE(x, Q), P) -> TRANSPOSE(x, Q∘P) (so inverse pairs
 *      become identities, rule 1).
 *   3. TRANSPOSE that only moves size-1 dims -> RESHAPE (same bytes).
 *   4. TRANSPOSE(x, P) whose every consumer is layout-agnostic is pushed
 *      below them: element-wise unary ops; element-wise binary ops whose
 *      other input is a constant (transposed once here), a transpose with the
 *      same perm, or a scalar; CONCATENATION, SOFTMAX, REDUCE_*, SLICE, PAD,
 *      SPLIT with their axes renumbered (axis a of y is axis P[a] of x).
 *   5. TRANSPOSE -> RESHAPE(flatten) -> FULLY_CONNECTED: the transpose is
 *      absorbed by permuting the FC weight's columns.
 *   6. RESHAPE(RESHAPE(x)) -> RESHAPE(x); RESHAPE to the same shape removed;
 *      RESHAPE pushed below element-wise unary consumers (so the reshapes of
 *      1-D convolutions meet and cancel).
 *   7. TRANSPOSE / RESHAPE of a constant: computed here.
 */
#include <stdlib.h>
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"

static bool is_unary(qlite_op_code c) {
    switch (c) {
    case QLITE_OP_RELU: case QLITE_OP_RELU6: case QLITE_OP_LOGISTIC: case QLITE_OP_TANH:
    case QLITE_OP_EXP: case QLITE_OP_LOG: case QLITE_OP_SQRT: case QLITE_OP_ERF:
    case QLITE_OP_NEG: case QLITE_OP_ABS: case QLITE_OP_LEAKY_RELU: case QLITE_OP_CLIP:
    case QLITE_OP_HARD_SIGMOID: case QLITE_OP_HARD_SWISH: case QLITE_OP_GELU: case QLITE_OP_ELU:
    case QLITE_OP_RECIPROCAL: case QLITE_OP_SQUARE: case QLITE_OP_CAST:
        return true;
    default:
        return false;
    }
}

static bool is_binary(qlite_op_code c) {
    switch (c) {
    case QLITE_OP_ADD: case QLITE_OP_SUB: case QLITE_OP_MUL: case QLITE_OP_DIV:
    case QLITE_OP_POW: case QLITE_OP_MINIMUM: case QLITE_OP_MAXIMUM: case QLITE_OP_PRELU:
        return true;
    default:
        return false;
    }
}

static bool perm_identity(int32_t r, const int32_t *p) {
    for (int32_t i = 0; i < r; i++)
        if (p[i] != i) return false;
    return true;
}

static qlc_node *live_producer(qlc_graph *g, int32_t t, qlite_op_code code) {
    int32_t p = qlc_producer(g, t);
    if (p < 0) return NULL;
    qlc_node *n = g->nodes[p];
    return !n->dead && n->lowered && n->code == code ? n : NULL;
}

static bool same_perm(const qlc_node *t, int32_t r, const int32_t *p) {
    if ((int32_t)t->opts.u.transpose.rank != r) return false;
    for (int32_t i = 0; i < r; i++)
        if (t->opts.u.transpose.perm[i] != p[i]) return false;
    return true;
}

static bool scalar_like(const qlc_tensor *t) {
    for (int32_t i = 0; i < t->rank; i++)
        if (t->shape[i] != 1) return false;
    return true;
}

/* Can transpose T (perm p, rank r, output y) move below consumer c? */
static bool pushable(qlc_graph *g, const qlc_node *c, int32_t y, int32_t r, const int32_t *p) {
    if (!c->lowered || c->dead) return false;
    if (c->code == QLITE_OP_TRANSPOSE) return false; /* rule 2 handles it from c's side */
    for (uint32_t k = 0; k < c->num_outputs; k++)
        if (c->outputs[k] < 0) return false;
    if (is_unary(c->code)) return true;
    if (c->code == QLITE_OP_QUANTIZE || c->code == QLITE_OP_DEQUANTIZE) {
        /* per-tensor parameters do not care about the layout */
        const qlc_tensor *qt = g->tensors[c->code == QLITE_OP_QUANTIZE ? c->outputs[0] : y];
        return qt->quant.count <= 1;
    }
    if (is_binary(c->code) || c->code == QLITE_OP_CONCATENATION) {
        for (uint32_t k = 0; k < c->num_inputs; k++) {
            int32_t t = c->inputs[k];
            if (t == y) continue;
            if (t < 0) return false;
            qlc_tensor *tt = g->tensors[t];
            if (tt->data && tt->rank <= r) continue;
            if (c->code != QLITE_OP_CONCATENATION && !tt->data && scalar_like(tt) && tt->rank <= r)
                continue;
            qlc_node *pt = live_producer(g, t, QLITE_OP_TRANSPOSE);
            if (pt && same_perm(pt, r, p)) continue;
            return false;
        }
        return g->tensors[c->outputs[0]]->rank == r;
    }
    switch (c->code) {
    case QLITE_OP_SOFTMAX: case QLITE_OP_LOG_SOFTMAX: case QLITE_OP_REDUCE_MEAN:
    case QLITE_OP_REDUCE_SUM: case QLITE_OP_REDUCE_MAX: case QLITE_OP_REDUCE_MIN:
    case QLITE_OP_SLICE: case QLITE_OP_PAD: case QLITE_OP_SPLIT:
        return c->inputs[0] == y;
    default:
        return false;
    }
}

/* Constant c (rank <= r) as the tensor c' with TRANSPOSE(c', p) == c. */
static int32_t transposed_const(qlc_graph *g, int32_t t, int32_t r, const int32_t *p) {
    qlc_tensor *c = g->tensors[t];
    int64_t full[QLITE_MAX_RANK];
    int32_t pad = r - c->rank;
    for (int32_t i = 0; i < r; i++) full[i] = i < pad ? 1 : c->shape[i - pad];
    int32_t inv[QLITE_MAX_RANK];
    for (int32_t i = 0; i < r; i++) inv[p[i]] = i;
    void *d = qlc_transpose_data(c->data, qlc_dtype_size(c->dtype), r, full, inv);
    if (!d) return -1;
    int64_t ns[QLITE_MAX_RANK];
    qlc_permute_shape(r, full, inv, ns);
    int32_t nt = qlc_add_const_owned(g, c->name, c->dtype, r, ns, d, c->data_size);
    if (nt >= 0) g->tensors[nt]->layout = QLC_LAYOUT_NHWC;
    if (nt >= 0) qlc_carry_qdq(g, nt, t, -1); /* per-tensor parameters only */
    return nt;
}

static qlite_status push_down(qlc_ctx *ctx, qlc_node *c, int32_t x, int32_t y, int32_t r,
                              const int32_t *p) {
    qlc_graph *g = ctx->g;
    /* inputs */
    for (uint32_t k = 0; k < c->num_inputs; k++) {
        int32_t t = c->inputs[k];
        if (t < 0) continue;
        if (t == y) {
            c->inputs[k] = x;
            continue;
        }
        qlc_tensor *tt = g->tensors[t];
        if (tt->data) {
            int32_t nt = transposed_const(g, t, r, p);
            if (nt < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            c->inputs[k] = nt;
            continue;
        }
        qlc_node *pt = live_producer(g, t, QLITE_OP_TRANSPOSE);
        if (pt && same_perm(pt, r, p)) c->inputs[k] = pt->inputs[0];
        /* else: scalar-like activation, unchanged */
    }
    /* options and the perm of each output */
    int32_t op_[QLITE_MAX_RANK];
    memcpy(op_, p, sizeof op_);
    qlite_op_options *o = &c->opts;
    switch (c->code) {
    case QLITE_OP_CONCATENATION: {
        int32_t a = o->u.concatenation.axis < 0 ? o->u.concatenation.axis + r : o->u.concatenation.axis;
        o->u.concatenation.axis = p[a];
        break;
    }
    case QLITE_OP_SOFTMAX: case QLITE_OP_LOG_SOFTMAX: {
        int32_t a = o->u.softmax.axis < 0 ? o->u.softmax.axis + r : o->u.softmax.axis;
        o->u.softmax.axis = p[a];
        break;
    }
    case QLITE_OP_SPLIT: {
        int32_t a = o->u.split.axis < 0 ? o->u.split.axis + r : o->u.split.axis;
        o->u.split.axis = p[a];
        break;
    }
    case QLITE_OP_REDUCE_MEAN: case QLITE_OP_REDUCE_SUM: case QLITE_OP_REDUCE_MAX:
    case QLITE_OP_REDUCE_MIN: {
        int32_t axes[QLITE_MAX_RANK];
        bool red_y[QLITE_MAX_RANK] = {0}, red_x[QLITE_MAX_RANK] = {0};
        for (uint32_t i = 0; i < o->u.reduce.count; i++) {
            int32_t a = o->u.reduce.axes[i] < 0 ? o->u.reduce.axes[i] + r : o->u.reduce.axes[i];
            axes[i] = p[a];
            red_y[a] = true;
            red_x[p[a]] = true;
        }
        /* keep sorted */
        for (uint32_t i = 1; i < o->u.reduce.count; i++)
            for (uint32_t j = i; j > 0 && axes[j - 1] > axes[j]; j--) {
                int32_t tmp = axes[j]; axes[j] = axes[j - 1]; axes[j - 1] = tmp;
            }
        int32_t *na = qlc_node_own(c, 0, axes, o->u.reduce.count * sizeof *axes);
        if (!na) return QLITE_ERR_NO_MEMORY;
        o->u.reduce.axes = na;
        if (!o->u.reduce.keep_dims) {
            /* output dim j = j-th kept y dim k_j = x dim p[k_j]; its position in the
             * new output is its rank among kept x dims */
            int32_t pos_x[QLITE_MAX_RANK], q = 0;
            for (int32_t i = 0; i < r; i++) pos_x[i] = red_x[i] ? -1 : q++;
            q = 0;
            for (int32_t i = 0; i < r; i++)
                if (!red_y[i]) op_[q++] = pos_x[p[i]];
        }
        break;
    }
    case QLITE_OP_SLICE: {
        int32_t axes[QLITE_MAX_RANK];
        for (uint32_t i = 0; i < o->u.slice.count; i++) {
            int32_t a = o->u.slice.axes[i] < 0 ? o->u.slice.axes[i] + r : o->u.slice.axes[i];
            axes[i] = p[a];
        }
        int32_t *na = qlc_node_own(c, 3, axes, o->u.slice.count * sizeof *axes);
        if (!na) return QLITE_ERR_NO_MEMORY;
        o->u.slice.axes = na;
        break;
    }
    case QLITE_OP_PAD: {
        int64_t pads[2 * QLITE_MAX_RANK];
        for (int32_t i = 0; i < r; i++) {
            pads[p[i]] = o->u.pad.pads[i];
            pads[r + p[i]] = o->u.pad.pads[r + i];
        }
        int64_t *np = qlc_node_own(c, 0, pads, (size_t)(2 * r) * sizeof *pads);
        if (!np) return QLITE_ERR_NO_MEMORY;
        o->u.pad.pads = np;
        break;
    }
    default:
        break;
    }
    /* outputs: z in x's layout, then TRANSPOSE(z, perm) -> original output */
    for (uint32_t k = 0; k < c->num_outputs; k++) {
        int32_t out = c->outputs[k];
        qlc_tensor *ot = g->tensors[out];
        int32_t rr = ot->rank;
        const int32_t *pp = op_;
        if (rr != r && c->code != QLITE_OP_REDUCE_MEAN && c->code != QLITE_OP_REDUCE_SUM &&
            c->code != QLITE_OP_REDUCE_MAX && c->code != QLITE_OP_REDUCE_MIN)
            return qlite_error(QLITE_ERR_CORRUPT, "layout: unexpected rank change at '%s'", c->name);
        int64_t zs[QLITE_MAX_RANK];
        for (int32_t i = 0; i < rr; i++) zs[pp[i]] = ot->shape[i];
        int32_t z = qlc_new_act(g, out, "_nhwc", ot->dtype, rr, zs);
        if (z < 0) return QLITE_ERR_NO_MEMORY;
        g->tensors[z]->layout = QLC_LAYOUT_NHWC;
        c->outputs[k] = z;
        if (qlc_emit_transpose(g, NULL, "Transpose", z, pp, out) < 0) return QLITE_ERR_NO_MEMORY;
    }
    g->index_valid = false;
    return QLITE_OK;
}

static void set_reshape(qlc_node *n, const qlc_tensor *y) {
    int64_t s[QLITE_MAX_RANK];
    memcpy(s, y->shape, sizeof s);
    free(n->own[0]);
    n->own[0] = NULL;
    n->code = QLITE_OP_RESHAPE;
    qlite_op_options_default(QLITE_OPTIONS_RESHAPE, &n->opts);
    int64_t *ns = qlc_node_own(n, 0, s, (size_t)y->rank * sizeof *s);
    n->opts.u.reshape.rank = ns ? (uint32_t)y->rank : 0;
    n->opts.u.reshape.new_shape = ns;
}

/* Rule 5: TRANSPOSE(x,P) -> RESHAPE [N,K] -> FULLY_CONNECTED with a constant weight. */
static qlite_status absorb_into_fc(qlc_ctx *ctx, qlc_node *t, bool *done) {
    qlc_graph *g = ctx->g;
    *done = false;
    int32_t x = t->inputs[0], y = t->outputs[0];
    const int32_t *p = t->opts.u.transpose.perm;
    int32_t r = (int32_t)t->opts.u.transpose.rank;
    if (p[0] != 0 || r < 3 || qlc_has_other_uses(g, y, 1)) return QLITE_OK;
    qlc_node *rs = g->nodes[g->uses[g->use_start[y]].node];
    if (rs->dead || !rs->lowered || rs->code != QLITE_OP_RESHAPE) return QLITE_OK;
    int32_t f = rs->outputs[0];
    qlc_tensor *ft = g->tensors[f], *xt = g->tensors[x];
    uint64_t k = 1;
    for (int32_t i = 1; i < r; i++) k *= (uint64_t)xt->shape[i];
    if (ft->rank != 2 || ft->shape[1] != (int64_t)k || qlc_has_other_uses(g, f, 1)) return QLITE_OK;
    qlc_node *fc = g->nodes[g->uses[g->use_start[f]].node];
    if (fc->dead || !fc->lowered || fc->code != QLITE_OP_FULLY_CONNECTED || fc->inputs[0] != f)
        return QLITE_OK;
    qlc_tensor *w = qlc_in_t(g, fc, 1);
    if (!w || !w->data || w->dtype != QLITE_DTYPE_FLOAT32 || w->rank != 2 || w->shape[1] != (int64_t)k)
        return QLITE_OK;
    /* m[j] = flat index in x[1:] of the j-th element of y[1:] */
    int64_t *idx = malloc((size_t)k * sizeof *idx);
    if (!idx) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    for (uint64_t j = 0; j < k; j++) idx[j] = (int64_t)j;
    int32_t sub[QLITE_MAX_RANK];
    for (int32_t i = 1; i < r; i++) sub[i - 1] = p[i] - 1;
    int64_t *m = qlc_transpose_data(idx, sizeof *idx, r - 1, xt->shape + 1, sub);
    free(idx);
    if (!m) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    int64_t o = w->shape[0];
    const float *wf = w->data;
    float *nw = malloc((size_t)(o * (int64_t)k) * 4);
    if (!nw) {
        free(m);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (int64_t i = 0; i < o; i++)
        for (uint64_t j = 0; j < k; j++) nw[(uint64_t)i * k + (uint64_t)m[j]] = wf[(uint64_t)i * k + j];
    free(m);
    int32_t wt = qlc_add_const_owned(g, w->name, QLITE_DTYPE_FLOAT32, 2, w->shape, nw,
                                     (size_t)(o * (int64_t)k) * 4);
    if (wt < 0) return QLITE_ERR_NO_MEMORY;
    qlc_carry_qdq(g, wt, fc->inputs[1], 0); /* columns permuted: rows (channels) stay */
    fc->inputs[1] = wt;
    rs->inputs[0] = x;
    qlc_remove_node(g, t);
    *done = true;
    return QLITE_OK;
}

/* One sweep over the graph; returns after the first rewrite (the index is
 * stale then). */
static qlite_status sweep(qlc_ctx *ctx, bool *changed) {
    qlc_graph *g = ctx->g;
    *changed = false;
    qlc_remove_dead_nodes(g); /* rewrites leave unused ops behind; they would count as uses */
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || !n->lowered) continue;
        if (n->code == QLITE_OP_TRANSPOSE) {
            int32_t x = n->inputs[0], y = n->outputs[0];
            int32_t r = (int32_t)n->opts.u.transpose.rank;
            const int32_t *p = n->opts.u.transpose.perm;
            qlc_tensor *xt = g->tensors[x], *yt = g->tensors[y];
            if (xt->data) { /* rule 7 */
                void *d = qlc_transpose_data(xt->data, qlc_dtype_size(xt->dtype), r, xt->shape, p);
                if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
                if (yt->is_output) {
                    free(d);
                    continue;
                }
                qlc_tensor_set_data(yt, d, xt->data_size);
                qlc_remove_node(g, n);
                *changed = true;
                return QLITE_OK;
            }
            if (perm_identity(r, p)) { /* rule 1 */
                if (qlc_bypass(g, n, x, y)) {
                    qlc_count(ctx, "transposes cancelled", 1);
                    *changed = true;
                    return QLITE_OK;
                }
                continue;
            }
            qlc_node *pt = live_producer(g, x, QLITE_OP_TRANSPOSE);
            if (pt) { /* rule 2 */
                int32_t comp[QLITE_MAX_RANK];
                for (int32_t k = 0; k < r; k++) comp[k] = pt->opts.u.transpose.perm[p[k]];
                int32_t *np = qlc_node_own(n, 0, comp, (size_t)r * sizeof *comp);
                if (!np) return QLITE_ERR_NO_MEMORY;
                n->opts.u.transpose.perm = np;
                n->inputs[0] = pt->inputs[0];
                g->index_valid = false;
                *changed = true;
                return QLITE_OK;
            }
            /* rule 3: only size-1 dims move */
            int32_t last = -1;
            bool unit_only = true;
            for (int32_t k = 0; k < r && unit_only; k++) {
                if (xt->shape[p[k]] == 1) continue;
                if (p[k] < last) unit_only = false;
                last = p[k];
            }
            if (unit_only) {
                set_reshape(n, yt);
                qlc_count(ctx, "transposes turned into reshapes", 1);
                *changed = true;
                g->index_valid = false;
                return QLITE_OK;
            }
            bool done;
            if ((st = absorb_into_fc(ctx, n, &done)) != QLITE_OK) return st;
            if (done) {
                qlc_count(ctx, "transposes absorbed into FC weights", 1);
                *changed = true;
                return QLITE_OK;
            }
            if (yt->is_output || qlc_use_count(g, y) == 0) continue;
            /* rule 4 */
            bool all = true;
            for (uint32_t u = g->use_start[y]; u < g->use_start[y + 1] && all; u++)
                all = pushable(g, g->nodes[g->uses[u].node], y, r, p);
            if (!all) continue;
            int32_t perm[QLITE_MAX_RANK];
            memcpy(perm, p, (size_t)r * sizeof *p);
            uint32_t nu = qlc_use_count(g, y);
            int32_t users[64];
            if (nu > 64) continue;
            for (uint32_t u = 0; u < nu; u++) users[u] = g->uses[g->use_start[y] + u].node;
            for (uint32_t u = 0; u < nu; u++) {
                bool dup = false;
                for (uint32_t v = 0; v < u; v++) dup |= users[v] == users[u];
                if (dup) continue;
                if ((st = push_down(ctx, g->nodes[users[u]], x, y, r, perm)) != QLITE_OK) return st;
            }
            qlc_remove_node(g, n);
            qlc_count(ctx, "transposes moved", 1);
            *changed = true;
            return QLITE_OK;
        }
        if (n->code == QLITE_OP_RESHAPE) {
            int32_t x = n->inputs[0], y = n->outputs[0];
            qlc_tensor *xt = g->tensors[x], *yt = g->tensors[y];
            if (xt->data) { /* rule 7 */
                if (yt->is_output) continue;
                void *d = malloc(xt->data_size ? xt->data_size : 1);
                if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
                memcpy(d, xt->data, xt->data_size);
                qlc_tensor_set_data(yt, d, xt->data_size);
                qlc_remove_node(g, n);
                *changed = true;
                return QLITE_OK;
            }
            qlc_node *pr = live_producer(g, x, QLITE_OP_RESHAPE);
            if (pr) { /* rule 6 */
                n->inputs[0] = pr->inputs[0];
                g->index_valid = false;
                *changed = true;
                return QLITE_OK;
            }
            if (qlc_same_shape(xt, yt) && qlc_bypass(g, n, x, y)) {
                *changed = true;
                return QLITE_OK;
            }
            if (yt->is_output || qlc_use_count(g, y) == 0 || qlc_use_count(g, y) > 1) continue;
            qlc_node *c = g->nodes[g->uses[g->use_start[y]].node];
            if (!c->lowered || c->dead || !is_unary(c->code)) continue;
            /* only worth it when a reshape follows that could cancel this one */
            int32_t cy = c->outputs[0];
            if (qlc_use_count(g, cy) != 1 || g->tensors[cy]->is_output) continue;
            qlc_node *nx = g->nodes[g->uses[g->use_start[cy]].node];
            if (!nx->lowered || (nx->code != QLITE_OP_RESHAPE && !is_unary(nx->code))) continue;
            int32_t z = qlc_new_act(g, cy, "_pre", g->tensors[cy]->dtype, xt->rank, xt->shape);
            if (z < 0) return QLITE_ERR_NO_MEMORY;
            c->inputs[0] = x;
            c->outputs[0] = z;
            n->inputs[0] = z;
            n->outputs[0] = cy;
            g->index_valid = false;
            *changed = true;
            return QLITE_OK;
        }
    }
    return QLITE_OK;
}

qlite_status qlc_pass_layout(qlc_ctx *c) {
    bool changed = true;
    uint32_t guard = 0, limit = 64 + 16 * c->g->num_nodes;
    while (changed) {
        qlite_status st = sweep(c, &changed);
        if (st != QLITE_OK) return st;
        if (++guard > limit)
            return qlite_error(QLITE_ERR_CORRUPT, "layout pass did not converge");
    }
    uint32_t left = 0;
    for (uint32_t i = 0; i < c->g->num_nodes; i++) {
        qlc_node *n = c->g->nodes[i];
        left += !n->dead && n->lowered && n->code == QLITE_OP_TRANSPOSE;
    }
    qlc_log(c, 1, "layout: %u transposes left", left);
    return QLITE_OK;
}
