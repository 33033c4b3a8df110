/*
 * ops_shape.c — ops that move data without arithmetic: Reshape, Flatten,
 * Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Pad, Gather; and the
 * shape inference of ops that are only ever folded (Shape, Size,
 * ConstantOfShape, Range, Expand, comparisons, Where, Tile).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* Emits RESHAPE x -> y using y's inferred shape (dim 0 -1 when dynamic). */
static qlite_status lower_as_reshape(qlc_graph *g, qlc_node *n) {
    qlc_tensor *y = qlc_out_t(g, n, 0);
    if (!y || n->num_inputs < 1 || n->inputs[0] < 0)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "needs one input and one output");
    int64_t s[QLITE_MAX_RANK];
    memcpy(s, y->shape, sizeof s);
    if (qlc_emit_reshape(g, n->name, n->op_type, n->inputs[0], y->rank, s, n->outputs[0]) < 0)
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Reshape -------------------------------------------------------------------- */

qlite_status qlc_infer_reshape(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t *v;
    size_t c;
    if ((st = qlc_const_ints(g, n, 1, false, &v, &c)) != QLITE_OK) return st;
    if (c > QLITE_MAX_RANK) {
        free(v);
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "target rank %zu is too large", c);
    }
    bool allowzero = qlc_attr_int(n, "allowzero", 0) != 0;
    bool dyn_in = x->rank > 0 && x->shape[0] < 0;
    /* input elements = (dyn_in ? B : 1) * S */
    uint64_t S = 1;
    for (int32_t i = dyn_in ? 1 : 0; i < x->rank; i++) S *= (uint64_t)x->shape[i];
    int64_t out[QLITE_MAX_RANK];
    int32_t infer_at = -1, sym_at = -1;
    int64_t sym_k = 1;
    uint64_t P = 1;
    for (size_t i = 0; i < c; i++) {
        int64_t d = v[i];
        if (d == 0 && !allowzero) {
            if ((int32_t)i >= x->rank) {
                free(v);
                return qlc_node_error(n, QLITE_ERR_SHAPE, "0 in the target copies a missing dim");
            }
            d = x->shape[i];
            if (d < 0) d = QLC_SYM_BATCH(1);
        }
        if (qlc_is_sym(d)) {
            if (sym_at >= 0 || !dyn_in) {
                free(v);
                return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                      "target shape has more than one batch-dependent dim");
            }
            sym_at = (int32_t)i;
            sym_k = qlc_sym_k(d);
            out[i] = -1;
        } else if (d == -1) {
            if (infer_at >= 0) {
                free(v);
                return qlc_node_error(n, QLITE_ERR_CORRUPT, "more than one -1 in the target shape");
            }
            infer_at = (int32_t)i;
            out[i] = -1;
        } else if (d < 0) {
            free(v);
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "invalid target dim %lld", (long long)d);
        } else {
            out[i] = d;
            P *= (uint64_t)d;
        }
    }
    free(v);
    if (sym_at >= 0) {
        /* B*S == B*k*P*inferred */
        uint64_t kp = (uint64_t)sym_k * P;
        if (infer_at >= 0) {
            if (kp == 0 || S % kp)
                return qlc_node_error(n, QLITE_ERR_SHAPE, "cannot infer the -1 dimension");
            out[infer_at] = (int64_t)(S / kp);
        } else if (S != kp) {
            return qlc_node_error(n, QLITE_ERR_SHAPE, "element counts differ");
        }
        if (sym_at != 0 || sym_k != 1)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "the result has a batch-dependent dimension other than dim 0 "
                                  "(export with a fixed batch size)");
        out[0] = -1;
    } else if (infer_at >= 0) {
        if (dyn_in) {
            if (infer_at != 0 || P != S)
                return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                      "reshape of a dynamic batch that does not keep the batch in "
                                      "dim 0 (export with a fixed batch size)");
            out[0] = -1;
        } else {
            if (P == 0 || S % P)
                return qlc_node_error(n, QLITE_ERR_SHAPE, "cannot infer the -1 dimension (%llu "
                                      "elements into %llu)", (unsigned long long)S,
                                      (unsigned long long)P);
            out[infer_at] = (int64_t)(S / P);
        }
    } else {
        if (dyn_in)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "reshape of a dynamic batch to a fixed shape");
        if (P != S) {
            char a[128], b[128];
            return qlc_node_error(n, QLITE_ERR_SHAPE, "cannot reshape %s to %s",
                                  qlc_shape_str(x->rank, x->shape, a, sizeof a),
                                  qlc_shape_str((int32_t)c, out, b, sizeof b));
        }
    }
    qlc_set_out(g, n, 0, x->dtype, (int32_t)c, out);
    return QLITE_OK;
}

qlite_status qlc_lower_reshape(qlc_graph *g, qlc_node *n) { return lower_as_reshape(g, n); }

/* ---- Flatten -------------------------------------------------------------------- */

qlite_status qlc_infer_flatten(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t axis = qlc_attr_int(n, "axis", 1);
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "axis out of range");
    int64_t outer = 1, inner = 1;
    bool dyn = false;
    for (int32_t i = 0; i < x->rank; i++) {
        if (x->shape[i] < 0) {
            if (i >= axis) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "flattening the dynamic batch");
            dyn = true;
        } else if (i < axis) {
            outer *= x->shape[i];
        } else {
            inner *= x->shape[i];
        }
    }
    int64_t s[2] = {dyn ? -1 : outer, inner};
    if (dyn && outer != 1)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "flattening the dynamic batch with other dims");
    qlc_set_out(g, n, 0, x->dtype, 2, s);
    return QLITE_OK;
}

qlite_status qlc_lower_flatten(qlc_graph *g, qlc_node *n) { return lower_as_reshape(g, n); }

/* ---- Squeeze / Unsqueeze ---------------------------------------------------------- */

/* A malloc'd copy of int-list attribute `name` (what later opsets pass as a
 * constant input, read with qlc_const_ints): *vals is NULL when the
 * attribute is absent, and non-NULL (with *count 0) when it is empty. */
static qlite_status attr_ints_copy(const qlc_node *n, const char *name, int64_t **vals,
                                   size_t *count) {
    size_t c;
    const int64_t *a = qlc_attr_ints(n, name, &c);
    *vals = NULL;
    *count = 0;
    if (!a) return QLITE_OK;
    *vals = malloc((c ? c : 1) * sizeof **vals);
    if (!*vals) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    memcpy(*vals, a, c * sizeof *a);
    *count = c;
    return QLITE_OK;
}

static qlite_status read_axes(qlc_graph *g, qlc_node *n, int64_t **axes, size_t *count) {
    if (g->opset >= 13) return qlc_const_ints(g, n, 1, true, axes, count);
    return attr_ints_copy(n, "axes", axes, count);
}

qlite_status qlc_infer_squeeze(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t *axes;
    size_t c;
    if ((st = read_axes(g, n, &axes, &c)) != QLITE_OK) return st;
    bool drop[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; i < c; i++) {
        int32_t a;
        if ((st = qlc_norm_axis(n, axes[i], x->rank, &a)) != QLITE_OK) {
            free(axes);
            return st;
        }
        if (x->shape[a] != 1) {
            free(axes);
            return qlc_node_error(n, QLITE_ERR_SHAPE, "axis %d has size %lld, not 1", (int)a,
                                  (long long)x->shape[a]);
        }
        drop[a] = true;
    }
    if (!axes)
        for (int32_t i = 0; i < x->rank; i++) drop[i] = x->shape[i] == 1;
    free(axes);
    int64_t s[QLITE_MAX_RANK];
    int32_t r = 0;
    for (int32_t i = 0; i < x->rank; i++)
        if (!drop[i]) s[r++] = x->shape[i];
    for (int32_t i = 1; i < r; i++)
        if (s[i] < 0) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "the dynamic batch moves");
    qlc_set_out(g, n, 0, x->dtype, r, s);
    return QLITE_OK;
}

qlite_status qlc_lower_squeeze(qlc_graph *g, qlc_node *n) { return lower_as_reshape(g, n); }

qlite_status qlc_infer_unsqueeze(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t *axes;
    size_t c;
    if ((st = read_axes(g, n, &axes, &c)) != QLITE_OK) return st;
    if (!axes) return qlc_node_error(n, QLITE_ERR_CORRUPT, "axes are missing");
    int32_t r = x->rank + (int32_t)c;
    if (r > QLITE_MAX_RANK) {
        free(axes);
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "result rank %d is too large", (int)r);
    }
    bool ins[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; i < c; i++) {
        int32_t a;
        if ((st = qlc_norm_axis(n, axes[i], r, &a)) != QLITE_OK || ins[a]) {
            free(axes);
            return st != QLITE_OK ? st : qlc_node_error(n, QLITE_ERR_CORRUPT, "repeated axis");
        }
        ins[a] = true;
    }
    free(axes);
    int64_t s[QLITE_MAX_RANK];
    for (int32_t i = 0, k = 0; i < r; i++) s[i] = ins[i] ? 1 : x->shape[k++];
    for (int32_t i = 1; i < r; i++)
        if (s[i] < 0) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "the dynamic batch moves");
    qlc_set_out(g, n, 0, x->dtype, r, s);
    return QLITE_OK;
}

qlite_status qlc_lower_unsqueeze(qlc_graph *g, qlc_node *n) { return lower_as_reshape(g, n); }

/* ---- Transpose ------------------------------------------------------------------ */

static qlite_status read_perm(const qlc_graph *g, const qlc_node *n, int32_t *perm) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    size_t c;
    const int64_t *p = qlc_attr_ints(n, "perm", &c);
    bool seen[QLITE_MAX_RANK] = {0};
    if (!p || !c) {
        for (int32_t i = 0; i < x->rank; i++) perm[i] = x->rank - 1 - i;
        return QLITE_OK;
    }
    if (c != (size_t)x->rank)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "perm has %zu entries for rank %d", c, (int)x->rank);
    for (size_t i = 0; i < c; i++) {
        if (p[i] < 0 || p[i] >= x->rank || seen[p[i]])
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "perm is not a permutation");
        seen[p[i]] = true;
        perm[i] = (int32_t)p[i];
    }
    return QLITE_OK;
}

qlite_status qlc_infer_transpose(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t perm[QLITE_MAX_RANK];
    if ((st = read_perm(g, n, perm)) != QLITE_OK) return st;
    int64_t s[QLITE_MAX_RANK];
    qlc_permute_shape(x->rank, x->shape, perm, s);
    /* a moved dynamic batch is allowed here (a following Gather may bring it
     * back, see fuse_patterns.c); lowering refuses it */
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

qlite_status qlc_lower_transpose(qlc_graph *g, qlc_node *n) {
    int32_t perm[QLITE_MAX_RANK];
    qlite_status st = read_perm(g, n, perm);
    if (st != QLITE_OK) return st;
    qlc_tensor *y = qlc_out_t(g, n, 0);
    for (int32_t i = 1; y && i < y->rank; i++)
        if (y->shape[i] < 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "the dynamic batch moves out of dim 0 (export with a fixed "
                                  "batch size)");
    if (qlc_emit_transpose(g, n->name, n->op_type, n->inputs[0], perm, n->outputs[0]) < 0)
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Concat --------------------------------------------------------------------- */

qlite_status qlc_infer_concat(qlc_graph *g, qlc_node *n) {
    if (n->num_inputs < 1) return qlc_node_error(n, QLITE_ERR_CORRUPT, "no inputs");
    qlite_status st;
    for (uint32_t i = 0; i < n->num_inputs; i++)
        if ((st = qlc_need_input(g, n, i)) != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    if ((st = qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), x->rank, &axis)) != QLITE_OK) return st;
    int64_t s[QLITE_MAX_RANK];
    memcpy(s, x->shape, sizeof s);
    for (uint32_t i = 1; i < n->num_inputs; i++) {
        qlc_tensor *t = qlc_in_t(g, n, i);
        if (t->rank != x->rank)
            return qlc_node_error(n, QLITE_ERR_SHAPE, "input %u has rank %d, input 0 rank %d", i,
                                  (int)t->rank, (int)x->rank);
        for (int32_t d = 0; d < x->rank; d++) {
            if (d == axis) continue;
            if (t->shape[d] != s[d] && t->shape[d] >= 0 && s[d] >= 0)
                return qlc_node_error(n, QLITE_ERR_SHAPE, "input %u differs in dim %d", i, (int)d);
        }
        if (s[axis] < 0 || t->shape[axis] < 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "concatenating along the dynamic batch");
        s[axis] += t->shape[axis];
    }
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

qlite_status qlc_lower_concat(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    qlite_status st = qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), x->rank, &axis);
    if (st != QLITE_OK) return st;
    if (n->num_inputs == 1) return qlc_lower_identity(g, n);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_CONCATENATION, &o);
    o.u.concatenation.axis = axis;
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_CONCATENATION, &o, n->num_inputs, n->inputs,
                    1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Split ---------------------------------------------------------------------- */

static qlite_status split_sizes(qlc_graph *g, qlc_node *n, int32_t *axis, int64_t *sizes) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    qlite_status st = qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), x->rank, axis);
    if (st != QLITE_OK) return st;
    int64_t dim = x->shape[*axis];
    if (dim < 0) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "splitting the dynamic batch");
    int64_t *v = NULL;
    size_t c = 0;
    if (g->opset >= 13) {
        if ((st = qlc_const_ints(g, n, 1, true, &v, &c)) != QLITE_OK) return st;
    } else {
        if ((st = attr_ints_copy(n, "split", &v, &c)) != QLITE_OK) return st;
        if (!c) { /* an empty attribute: equal parts, as when absent */
            free(v);
            v = NULL;
        }
    }
    uint32_t no = n->num_outputs;
    if (v) {
        int64_t sum = 0;
        if (c != no) {
            free(v);
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "split has %zu sizes for %u outputs", c, no);
        }
        for (size_t i = 0; i < c; i++) {
            sizes[i] = v[i];
            sum += v[i];
            if (v[i] < 0) {
                free(v);
                return qlc_node_error(n, QLITE_ERR_CORRUPT, "negative split size");
            }
        }
        free(v);
        if (sum != dim)
            return qlc_node_error(n, QLITE_ERR_SHAPE, "split sizes sum to %lld, dim is %lld",
                                  (long long)sum, (long long)dim);
        return QLITE_OK;
    }
    if (!no || dim % no)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "dim %lld does not split into %u equal parts",
                              (long long)dim, no);
    for (uint32_t i = 0; i < no; i++) sizes[i] = dim / no;
    return QLITE_OK;
}

qlite_status qlc_infer_split(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    if (n->num_outputs > 64) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "too many outputs");
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    int64_t sizes[64];
    if ((st = split_sizes(g, n, &axis, sizes)) != QLITE_OK) return st;
    for (uint32_t i = 0; i < n->num_outputs; i++) {
        int64_t s[QLITE_MAX_RANK];
        memcpy(s, x->shape, sizeof s);
        s[axis] = sizes[i];
        qlc_set_out(g, n, i, x->dtype, x->rank, s);
    }
    return QLITE_OK;
}

qlite_status qlc_lower_split(qlc_graph *g, qlc_node *n) {
    int32_t axis;
    int64_t sizes[64];
    qlite_status st = split_sizes(g, n, &axis, sizes);
    if (st != QLITE_OK) return st;
    /* an absent output still needs a tensor */
    for (uint32_t i = 0; i < n->num_outputs; i++) {
        if (n->outputs[i] >= 0) continue;
        qlc_tensor *x = qlc_in_t(g, n, 0);
        if (!x) return qlc_node_error(n, QLITE_ERR_CORRUPT, "input is missing");
        int64_t s[QLITE_MAX_RANK];
        memcpy(s, x->shape, sizeof s);
        s[axis] = sizes[i];
        if ((n->outputs[i] = qlc_new_act(g, n->inputs[0], "_split", x->dtype, x->rank, s)) < 0)
            return QLITE_ERR_NO_MEMORY;
    }
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_SPLIT, &o);
    qlc_node *s = qlc_add_op(g, n->name, n->op_type, QLITE_OP_SPLIT, &o, 1, n->inputs,
                             n->num_outputs, n->outputs);
    if (!s) return QLITE_ERR_NO_MEMORY;
    int64_t *sz = qlc_node_own(s, 0, sizes, n->num_outputs * sizeof *sizes);
    if (!sz) return QLITE_ERR_NO_MEMORY;
    s->opts.u.split.axis = axis;
    s->opts.u.split.count = n->num_outputs;
    s->opts.u.split.sizes = sz;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Slice ---------------------------------------------------------------------- */

/* Reads starts/ends/axes/steps (attributes before opset 10, inputs after),
 * normalizes them against the input shape (ONNX clamping rules) and computes
 * the output shape. Axes that keep the whole dim are dropped (ops.h). */
qlite_status qlc_slice_read(qlc_graph *g, qlc_node *n, qlc_slice_spec *sp, int64_t *oshape) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t *st_ = NULL, *en = NULL, *ax = NULL, *sp_ = NULL;
    size_t cs = 0, ce = 0, ca = 0, cp = 0;
    qlite_status st = QLITE_OK;
    if (g->opset < 10) {
        if (st == QLITE_OK) st = attr_ints_copy(n, "starts", &st_, &cs);
        if (st == QLITE_OK) st = attr_ints_copy(n, "ends", &en, &ce);
        if (st == QLITE_OK) st = attr_ints_copy(n, "axes", &ax, &ca);
    } else {
        if (st == QLITE_OK) st = qlc_const_ints(g, n, 1, false, &st_, &cs);
        if (st == QLITE_OK) st = qlc_const_ints(g, n, 2, false, &en, &ce);
        if (st == QLITE_OK) st = qlc_const_ints(g, n, 3, true, &ax, &ca);
        if (st == QLITE_OK) st = qlc_const_ints(g, n, 4, true, &sp_, &cp);
    }
    if (st == QLITE_OK && (!st_ || !en || cs != ce || (ax && ca != cs) || (sp_ && cp != cs) ||
                           cs > (size_t)x->rank))
        st = qlc_node_error(n, QLITE_ERR_CORRUPT, "starts/ends/axes/steps lengths do not match");
    memcpy(oshape, x->shape, sizeof(int64_t) * QLITE_MAX_RANK);
    sp->count = 0;
    bool seen[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; st == QLITE_OK && i < cs; i++) {
        int32_t a;
        if ((st = qlc_norm_axis(n, ax ? ax[i] : (int64_t)i, x->rank, &a)) != QLITE_OK) break;
        if (seen[a]) { st = qlc_node_error(n, QLITE_ERR_CORRUPT, "repeated axis"); break; }
        seen[a] = true;
        int64_t step = sp_ ? sp_[i] : 1, d = x->shape[a];
        if (step == 0) { st = qlc_node_error(n, QLITE_ERR_CORRUPT, "step 0"); break; }
        int64_t s = st_[i], e = en[i];
        if (d < 0) { /* dynamic batch: only the whole range is allowed */
            if (step == 1 && s == 0 && e >= INT32_MAX) continue;
            st = qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "slicing the dynamic batch");
            break;
        }
        if (s < 0) s += d;
        if (e < 0) e += d;
        int64_t len;
        if (step > 0) {
            s = s < 0 ? 0 : (s > d ? d : s);
            e = e < 0 ? 0 : (e > d ? d : e);
            len = e > s ? (e - s + step - 1) / step : 0;
        } else {
            s = s < 0 ? -1 : (s > d - 1 ? d - 1 : s);
            e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
            len = s > e ? (s - e + (-step) - 1) / (-step) : 0;
        }
        oshape[a] = len;
        if (step == 1 && s == 0 && e == d) continue; /* whole dim */
        sp->axes[sp->count] = a;
        sp->starts[sp->count] = s;
        sp->ends[sp->count] = e;
        sp->steps[sp->count] = step;
        sp->count++;
    }
    free(st_); free(en); free(ax); free(sp_);
    return st;
}

qlite_status qlc_infer_slice(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    qlc_slice_spec sp;
    int64_t s[QLITE_MAX_RANK];
    if ((st = qlc_slice_read(g, n, &sp, s)) != QLITE_OK) return st;
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

qlite_status qlc_lower_slice(qlc_graph *g, qlc_node *n) {
    qlc_slice_spec sp;
    int64_t s[QLITE_MAX_RANK];
    qlite_status st = qlc_slice_read(g, n, &sp, s);
    if (st != QLITE_OK) return st;
    if (sp.count == 0) return qlc_lower_identity(g, n);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_SLICE, &o);
    qlc_node *m = qlc_add_op(g, n->name, n->op_type, QLITE_OP_SLICE, &o, 1, n->inputs, 1, n->outputs);
    if (!m) return QLITE_ERR_NO_MEMORY;
    size_t b64 = sp.count * sizeof(int64_t);
    o.u.slice.count = sp.count;
    o.u.slice.starts = qlc_node_own(m, 0, sp.starts, b64);
    o.u.slice.ends = qlc_node_own(m, 1, sp.ends, b64);
    o.u.slice.steps = qlc_node_own(m, 2, sp.steps, b64);
    o.u.slice.axes = qlc_node_own(m, 3, sp.axes, sp.count * sizeof(int32_t));
    if (!o.u.slice.starts || !o.u.slice.ends || !o.u.slice.steps || !o.u.slice.axes)
        return QLITE_ERR_NO_MEMORY;
    m->opts = o;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Pad ------------------------------------------------------------------------ */

static qlite_status pad_read(qlc_graph *g, qlc_node *n, int64_t *pads, float *value,
                             qlite_pad_mode *mode) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    qlite_status st;
    int64_t *p = NULL;
    size_t c = 0;
    *value = 0.0f;
    if (g->opset < 11) {
        const int64_t *a = qlc_attr_ints(n, g->opset < 2 ? "paddings" : "pads", &c);
        if (!a) return qlc_node_error(n, QLITE_ERR_CORRUPT, "pads attribute is missing");
        if (c != (size_t)(2 * x->rank))
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "pads has %zu values for rank %d", c, (int)x->rank);
        memcpy(pads, a, c * sizeof *a);
        *value = qlc_attr_float(n, "value", 0.0f);
    } else {
        if ((st = qlc_const_ints(g, n, 1, false, &p, &c)) != QLITE_OK) return st;
        if (c != (size_t)(2 * x->rank)) {
            free(p);
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "pads has %zu values for rank %d", c, (int)x->rank);
        }
        memcpy(pads, p, c * sizeof *p);
        free(p);
        float *v;
        size_t vc;
        if ((st = qlc_const_floats(g, n, 2, true, &v, &vc)) != QLITE_OK) return st;
        if (v && vc >= 1) *value = v[0];
        free(v);
        if (n->num_inputs > 3 && n->inputs[3] >= 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "the axes input is not supported");
    }
    const char *m = qlc_attr_str(n, "mode", "constant");
    if (!strcmp(m, "constant")) *mode = QLITE_PAD_CONSTANT;
    else if (!strcmp(m, "reflect")) *mode = QLITE_PAD_REFLECT;
    else if (!strcmp(m, "edge")) *mode = QLITE_PAD_EDGE;
    else return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "pad mode '%s' is not supported", m);
    for (int32_t i = 0; i < 2 * x->rank; i++)
        if (pads[i] < 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "negative pads are not supported");
    return QLITE_OK;
}

qlite_status qlc_infer_pad(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t pads[2 * QLITE_MAX_RANK];
    float v;
    qlite_pad_mode m;
    if ((st = pad_read(g, n, pads, &v, &m)) != QLITE_OK) return st;
    int64_t s[QLITE_MAX_RANK];
    for (int32_t i = 0; i < x->rank; i++) {
        s[i] = x->shape[i] + pads[i] + pads[x->rank + i];
        if (x->shape[i] < 0) {
            if (pads[i] || pads[x->rank + i])
                return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "padding the dynamic batch");
            s[i] = -1;
        }
        if (m == QLITE_PAD_REFLECT && x->shape[i] >= 0 &&
            (pads[i] >= x->shape[i] || pads[x->rank + i] >= x->shape[i]) &&
            (pads[i] || pads[x->rank + i]))
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                  "reflect padding wider than the dimension");
    }
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

qlite_status qlc_lower_pad(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t pads[2 * QLITE_MAX_RANK];
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_PAD, &o);
    qlite_status st = pad_read(g, n, pads, &o.u.pad.value, &o.u.pad.mode);
    if (st != QLITE_OK) return st;
    qlc_node *m = qlc_add_op(g, n->name, n->op_type, QLITE_OP_PAD, &o, 1, n->inputs, 1, n->outputs);
    if (!m) return QLITE_ERR_NO_MEMORY;
    int64_t *p = qlc_node_own(m, 0, pads, (size_t)(2 * x->rank) * sizeof *pads);
    if (!p) return QLITE_ERR_NO_MEMORY;
    m->opts.u.pad.pads = p;
    m->opts.u.pad.count = (uint32_t)(2 * x->rank);
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Gather --------------------------------------------------------------------- */

qlite_status qlc_infer_gather(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    if ((st = qlc_need_input(g, n, 0)) != QLITE_OK || (st = qlc_need_input(g, n, 1)) != QLITE_OK)
        return st;
    qlc_tensor *x = qlc_in_t(g, n, 0), *idx = qlc_in_t(g, n, 1);
    int32_t axis;
    if ((st = qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), x->rank, &axis)) != QLITE_OK) return st;
    int32_t r = x->rank - 1 + idx->rank;
    if (r > QLITE_MAX_RANK) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "result rank too large");
    int64_t s[QLITE_MAX_RANK];
    int32_t k = 0;
    for (int32_t i = 0; i < axis; i++) s[k++] = x->shape[i];
    for (int32_t i = 0; i < idx->rank; i++) s[k++] = idx->shape[i];
    for (int32_t i = axis + 1; i < x->rank; i++) s[k++] = x->shape[i];
    if (idx->dtype != QLITE_DTYPE_INT64 && idx->dtype != QLITE_DTYPE_INT32)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "indices must be int32 or int64");
    qlc_set_out(g, n, 0, x->dtype, r, s);
    return QLITE_OK;
}

qlite_status qlc_lower_gather(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    qlite_status st = qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), x->rank, &axis);
    if (st != QLITE_OK) return st;
    if (x->shape[axis] < 0)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "gathering along the dynamic batch");
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_GATHER, &o);
    o.u.gather.axis = axis;
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_GATHER, &o, 2, n->inputs, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- ops that are only folded --------------------------------------------------- */

qlite_status qlc_infer_shape_op(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t start = qlc_attr_int(n, "start", 0), end = qlc_attr_int(n, "end", x->rank);
    if (start < 0) start += x->rank;
    if (end < 0) end += x->rank;
    start = start < 0 ? 0 : (start > x->rank ? x->rank : start);
    end = end < 0 ? 0 : (end > x->rank ? x->rank : end);
    int64_t s[1] = {end > start ? end - start : 0};
    qlc_set_out(g, n, 0, QLITE_DTYPE_INT64, 1, s);
    return QLITE_OK;
}

qlite_status qlc_infer_size(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_set_out(g, n, 0, QLITE_DTYPE_INT64, 0, NULL);
    return QLITE_OK;
}

/*
 * ConstantOfShape(zeros) of a batch-dependent shape whose every use is the
 * initial_h / initial_c input of an LSTM or GRU (what PyTorch exports for a
 * recurrent layer called without a state): an absent initial state is zeros
 * too, so the uses are cut and the node removed. True when that was done.
 */
static bool zeros_for_rnn_state(qlc_graph *g, qlc_node *n, const qlc_attr *value) {
    if (value && value->tensor >= 0) {
        const qlc_tensor *vt = g->tensors[value->tensor];
        const unsigned char *b = vt->data;
        if (!b) return false;
        for (size_t i = 0; i < vt->data_size; i++)
            if (b[i]) return false;
    }
    int32_t out = n->outputs[0];
    if (g->tensors[out]->is_output) return false;
    uint32_t uses = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        const qlc_node *m = g->nodes[i];
        if (m->dead || m == n) continue;
        bool rnn = !m->lowered && (!strcmp(m->op_type, "LSTM") || !strcmp(m->op_type, "GRU"));
        for (uint32_t k = 0; k < m->num_inputs; k++) {
            if (m->inputs[k] != out) continue;
            if (!rnn || (k != 5 && !(k == 6 && !strcmp(m->op_type, "LSTM")))) return false;
            uses++;
        }
    }
    if (!uses) return false;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *m = g->nodes[i];
        if (m->dead || m == n) continue;
        for (uint32_t k = 0; k < m->num_inputs; k++)
            if (m->inputs[k] == out) m->inputs[k] = -1;
    }
    g->index_valid = false;
    /* the output keeps a shape so later passes never see an unknown tensor */
    int64_t one = 1;
    qlc_set_out(g, n, 0, QLITE_DTYPE_FLOAT32, 1, &one);
    qlc_remove_node(g, n);
    return true;
}

qlite_status qlc_infer_constant_of_shape(qlc_graph *g, qlc_node *n) {
    int64_t *v;
    size_t c;
    qlite_status st = qlc_const_ints(g, n, 0, false, &v, &c);
    if (st != QLITE_OK) return st;
    if (c > QLITE_MAX_RANK) {
        free(v);
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "rank too large");
    }
    const qlc_attr *a = qlc_attr_get(n, "value");
    for (size_t i = 0; i < c; i++)
        if (v[i] < 0) {
            free(v);
            if (zeros_for_rnn_state(g, n, a)) return QLITE_OK;
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "shape depends on the dynamic batch");
        }
    qlite_dtype dt = a && a->tensor >= 0 ? g->tensors[a->tensor]->dtype : QLITE_DTYPE_FLOAT32;
    qlc_set_out(g, n, 0, dt, (int32_t)c, v);
    free(v);
    return QLITE_OK;
}

qlite_status qlc_infer_range(qlc_graph *g, qlc_node *n) {
    float *v[3];
    size_t c;
    qlite_status st = QLITE_OK;
    for (int i = 0; i < 3; i++) v[i] = NULL;
    for (uint32_t i = 0; i < 3 && st == QLITE_OK; i++) st = qlc_const_floats(g, n, i, false, &v[i], &c);
    if (st == QLITE_OK) {
        double start = v[0][0], limit = v[1][0], delta = v[2][0];
        double len = delta != 0 ? (limit - start) / delta : -1;
        int64_t s[1] = {len > 0 ? (int64_t)(len + 0.999999999) : 0};
        if (delta == 0) st = qlc_node_error(n, QLITE_ERR_CORRUPT, "delta is 0");
        else qlc_set_out(g, n, 0, qlc_in_t(g, n, 0)->dtype, 1, s);
    }
    for (int i = 0; i < 3; i++) free(v[i]);
    return st;
}

qlite_status qlc_infer_expand(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t *v;
    size_t c;
    if ((st = qlc_const_ints(g, n, 1, false, &v, &c)) != QLITE_OK) return st;
    for (size_t i = 0; i < c; i++)
        if (qlc_is_sym(v[i])) v[i] = qlc_sym_k(v[i]) == 1 && i == 0 ? -1 : 1;
    int32_t r;
    int64_t s[QLITE_MAX_RANK];
    if (c > QLITE_MAX_RANK) st = qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "rank too large");
    else st = qlc_broadcast(n, x->rank, x->shape, (int32_t)c, v, &r, s);
    free(v);
    if (st != QLITE_OK) return st;
    qlc_set_out(g, n, 0, x->dtype, r, s);
    return QLITE_OK;
}

qlite_status qlc_infer_compare(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_infer_binary(g, n);
    if (st == QLITE_OK) qlc_out_t(g, n, 0)->dtype = QLITE_DTYPE_BOOL;
    return st;
}

qlite_status qlc_infer_where(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    for (uint32_t i = 0; i < 3; i++)
        if ((st = qlc_need_input(g, n, i)) != QLITE_OK) return st;
    qlc_tensor *c = qlc_in_t(g, n, 0), *a = qlc_in_t(g, n, 1), *b = qlc_in_t(g, n, 2);
    int32_t r;
    int64_t s[QLITE_MAX_RANK];
    if ((st = qlc_broadcast(n, c->rank, c->shape, a->rank, a->shape, &r, s)) != QLITE_OK ||
        (st = qlc_broadcast(n, r, s, b->rank, b->shape, &r, s)) != QLITE_OK)
        return st;
    qlc_set_out(g, n, 0, a->dtype, r, s);
    return QLITE_OK;
}

qlite_status qlc_infer_tile(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int64_t *v;
    size_t c;
    if ((st = qlc_const_ints(g, n, 1, false, &v, &c)) != QLITE_OK) return st;
    if (c != (size_t)x->rank) {
        free(v);
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "repeats has %zu values for rank %d", c, (int)x->rank);
    }
    int64_t s[QLITE_MAX_RANK];
    for (int32_t i = 0; i < x->rank; i++) s[i] = x->shape[i] < 0 ? -1 : x->shape[i] * v[i];
    free(v);
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

/* Expand of an activation: x * ones, the ones shaped to broadcast x to the
 * target (1 where x already has the size). */
qlite_status qlc_lower_expand(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    if (!x || !y) return qlc_node_error(n, QLITE_ERR_CORRUPT, "needs an input and an output");
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "Expand of %s: float32 only",
                              qlite_dtype_name(x->dtype));
    int64_t os[QLITE_MAX_RANK];
    uint64_t cnt = 1;
    for (int32_t i = 0; i < y->rank; i++) {
        int32_t xi = i - (y->rank - x->rank);
        int64_t xd = xi >= 0 ? x->shape[xi] : 1;
        os[i] = (xd == y->shape[i] || y->shape[i] < 0) ? 1 : y->shape[i];
        cnt *= (uint64_t)os[i];
    }
    float *ones = malloc((size_t)cnt * 4);
    if (!ones) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    for (uint64_t i = 0; i < cnt; i++) ones[i] = 1.0f;
    int32_t c = qlc_add_const_owned(g, NULL, QLITE_DTYPE_FLOAT32, y->rank, os, ones, (size_t)cnt * 4);
    if (c < 0) return QLITE_ERR_NO_MEMORY;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    int32_t ins[2] = {n->inputs[0], c};
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_MUL, &o, 2, ins, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}
