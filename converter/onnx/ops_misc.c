/*
 * ops_misc.c — ReduceMean/Sum/Max/Min, Resize/Upsample, LSTM/GRU.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* ---- Reduce* -------------------------------------------------------------------- */

typedef struct reduce_spec {
    int32_t count;
    int32_t axes[QLITE_MAX_RANK];
    bool keep;
    bool noop;  /* empty axes with noop_with_empty_axes: identity */
} reduce_spec;

static qlite_status reduce_read(qlc_graph *g, qlc_node *n, reduce_spec *r) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    memset(r, 0, sizeof *r);
    r->keep = qlc_attr_int(n, "keepdims", 1) != 0;
    int64_t *v = NULL;
    size_t c = 0;
    qlite_status st;
    bool from_input = strcmp(n->op_type, "ReduceSum") == 0 && g->opset >= 13;
    if (from_input) {
        if ((st = qlc_const_ints(g, n, 1, true, &v, &c)) != QLITE_OK) return st;
    } else {
        const int64_t *a = qlc_attr_ints(n, "axes", &c);
        if (a && c) {
            v = malloc(c * sizeof *v);
            if (!v) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            memcpy(v, a, c * sizeof *v);
        }
    }
    if (!v || !c) {
        free(v);
        if (from_input && qlc_attr_int(n, "noop_with_empty_axes", 0)) {
            r->noop = true;
            return QLITE_OK;
        }
        r->count = x->rank;
        for (int32_t i = 0; i < x->rank; i++) r->axes[i] = i;
        return QLITE_OK;
    }
    bool seen[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; i < c; i++) {
        int32_t a;
        if ((st = qlc_norm_axis(n, v[i], x->rank, &a)) != QLITE_OK) {
            free(v);
            return st;
        }
        if (!seen[a]) r->axes[r->count++] = a;
        seen[a] = true;
    }
    free(v);
    /* sorted axes */
    for (int32_t i = 1; i < r->count; i++)
        for (int32_t j = i; j > 0 && r->axes[j - 1] > r->axes[j]; j--) {
            int32_t t = r->axes[j];
            r->axes[j] = r->axes[j - 1];
            r->axes[j - 1] = t;
        }
    return QLITE_OK;
}

qlite_status qlc_infer_reduce(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    reduce_spec r;
    if ((st = reduce_read(g, n, &r)) != QLITE_OK) return st;
    if (r.noop) {
        qlc_set_out(g, n, 0, x->dtype, x->rank, x->shape);
        return QLITE_OK;
    }
    bool red[QLITE_MAX_RANK] = {0};
    for (int32_t i = 0; i < r.count; i++) red[r.axes[i]] = true;
    int64_t s[QLITE_MAX_RANK];
    int32_t k = 0;
    for (int32_t i = 0; i < x->rank; i++) {
        if (red[i] && x->shape[i] < 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "reducing over the dynamic batch");
        if (!red[i]) s[k++] = x->shape[i];
        else if (r.keep) s[k++] = 1;
    }
    qlc_set_out(g, n, 0, x->dtype, k, s);
    return QLITE_OK;
}

qlite_status qlc_lower_reduce(qlc_graph *g, qlc_node *n) {
    reduce_spec r;
    qlite_status st = reduce_read(g, n, &r);
    if (st != QLITE_OK) return st;
    if (r.noop) return qlc_lower_identity(g, n);
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "float32 only");
    qlite_op_code code;
    if (!strcmp(n->op_type, "ReduceMean")) code = QLITE_OP_REDUCE_MEAN;
    else if (!strcmp(n->op_type, "ReduceSum")) code = QLITE_OP_REDUCE_SUM;
    else if (!strcmp(n->op_type, "ReduceMax")) code = QLITE_OP_REDUCE_MAX;
    else code = QLITE_OP_REDUCE_MIN;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_REDUCE, &o);
    qlc_node *m = qlc_add_op(g, n->name, n->op_type, code, &o, 1, n->inputs, 1, n->outputs);
    if (!m) return QLITE_ERR_NO_MEMORY;
    int32_t *ax = qlc_node_own(m, 0, r.axes, (size_t)r.count * sizeof(int32_t));
    if (!ax) return QLITE_ERR_NO_MEMORY;
    m->opts.u.reduce.axes = ax;
    m->opts.u.reduce.count = (uint32_t)r.count;
    m->opts.u.reduce.keep_dims = r.keep;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- Resize / Upsample ---------------------------------------------------------- */

typedef struct resize_spec {
    int64_t out[QLITE_MAX_RANK];
    float scale[QLITE_MAX_RANK];  /* 0 = from sizes */
    qlite_resize_options o;
} resize_spec;

static qlite_status resize_read(qlc_graph *g, qlc_node *n, resize_spec *r) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    memset(r, 0, sizeof *r);
    qlite_op_options tmp;
    qlite_op_options_default(QLITE_OPTIONS_RESIZE, &tmp);
    r->o = tmp.u.resize;
    bool upsample = strcmp(n->op_type, "Upsample") == 0;
    float *sc = NULL;
    int64_t *sz = NULL;
    size_t csc = 0, csz = 0;
    qlite_status st = QLITE_OK;
    if (upsample) {
        if (g->opset < 9) {
            const qlc_attr *a = qlc_attr_get(n, "scales");
            if (!a || a->type != QLC_ATTR_FLOATS)
                return qlc_node_error(n, QLITE_ERR_CORRUPT, "scales attribute is missing");
            sc = malloc(a->n * sizeof *sc);
            if (!sc) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            memcpy(sc, a->floats, a->n * sizeof *sc);
            csc = a->n;
        } else {
            st = qlc_const_floats(g, n, 1, false, &sc, &csc);
        }
    } else if (g->opset < 11) {
        st = qlc_const_floats(g, n, 1, false, &sc, &csc);
    } else {
        st = qlc_const_floats(g, n, 2, true, &sc, &csc);
        if (st == QLITE_OK) st = qlc_const_ints(g, n, 3, true, &sz, &csz);
        if (st == QLITE_OK && csc == 0 && csz == 0)
            st = qlc_node_error(n, QLITE_ERR_CORRUPT, "neither scales nor sizes is given");
    }
    if (st == QLITE_OK && ((csc && csc != (size_t)x->rank) || (csz && csz != (size_t)x->rank)))
        st = qlc_node_error(n, QLITE_ERR_CORRUPT, "scales/sizes length differs from the rank");
    for (int32_t i = 0; st == QLITE_OK && i < x->rank; i++) {
        if (csz) {
            r->out[i] = sz[i];
        } else {
            r->scale[i] = sc[i];
            r->out[i] = (int64_t)floorf((float)x->shape[i] * sc[i]);
        }
        if (x->shape[i] < 0) r->out[i] = -1;
        if (i < 2 && r->out[i] != x->shape[i] && x->shape[i] >= 0)
            st = qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                "only the spatial dims (2, 3) may be resized");
    }
    free(sc);
    free(sz);
    if (st != QLITE_OK) return st;
    if (x->rank != 4) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "only 4-D inputs are supported");
    const char *mode = qlc_attr_str(n, "mode", "nearest");
    if (!strcmp(mode, "nearest")) r->o.mode = QLITE_RESIZE_NEAREST;
    else if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear")) r->o.mode = QLITE_RESIZE_LINEAR;
    else return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "mode '%s' is not supported", mode);
    if (upsample || g->opset < 11) {
        r->o.coordinate_transform = QLITE_COORD_ASYMMETRIC;
        r->o.nearest_mode = QLITE_NEAREST_FLOOR;
    } else {
        const char *ct = qlc_attr_str(n, "coordinate_transformation_mode", "half_pixel");
        if (!strcmp(ct, "half_pixel")) r->o.coordinate_transform = QLITE_COORD_HALF_PIXEL;
        else if (!strcmp(ct, "asymmetric")) r->o.coordinate_transform = QLITE_COORD_ASYMMETRIC;
        else if (!strcmp(ct, "align_corners")) r->o.coordinate_transform = QLITE_COORD_ALIGN_CORNERS;
        else if (!strcmp(ct, "pytorch_half_pixel")) r->o.coordinate_transform = QLITE_COORD_PYTORCH_HALF_PIXEL;
        else if (!strcmp(ct, "tf_half_pixel_for_nn")) r->o.coordinate_transform = QLITE_COORD_TF_HALF_PIXEL_FOR_NN;
        else return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                   "coordinate_transformation_mode '%s' is not supported", ct);
        const char *nm = qlc_attr_str(n, "nearest_mode", "round_prefer_floor");
        if (!strcmp(nm, "round_prefer_floor")) r->o.nearest_mode = QLITE_NEAREST_ROUND_PREFER_FLOOR;
        else if (!strcmp(nm, "round_prefer_ceil")) r->o.nearest_mode = QLITE_NEAREST_ROUND_PREFER_CEIL;
        else if (!strcmp(nm, "floor")) r->o.nearest_mode = QLITE_NEAREST_FLOOR;
        else if (!strcmp(nm, "ceil")) r->o.nearest_mode = QLITE_NEAREST_CEIL;
        else return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "nearest_mode '%s'", nm);
        if (qlc_attr_int(n, "exclude_outside", 0))
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "exclude_outside=1 is not supported");
        if (g->opset >= 13 && qlc_attr_int(n, "antialias", 0))
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "antialias is not supported");
        if (g->opset >= 18 && qlc_attr_get(n, "axes"))
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "axes is not supported");
    }
    r->o.out_h = (int32_t)r->out[2];
    r->o.out_w = (int32_t)r->out[3];
    r->o.scale_h = r->scale[2];
    r->o.scale_w = r->scale[3];
    if (r->out[2] <= 0 || r->out[3] <= 0)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "output size is not positive");
    return QLITE_OK;
}

qlite_status qlc_infer_resize(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    resize_spec r;
    if ((st = resize_read(g, n, &r)) != QLITE_OK) return st;
    qlc_set_out(g, n, 0, x->dtype, x->rank, r.out);
    return QLITE_OK;
}

qlite_status qlc_lower_resize(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "float32 only");
    resize_spec r;
    qlite_status st = resize_read(g, n, &r);
    if (st != QLITE_OK) return st;
    int32_t p[4];
    qlc_perm_to_nhwc(4, p);
    int32_t xn = qlc_emit_transpose(g, NULL, n->op_type, n->inputs[0], p, -1);
    int64_t ys[4] = {x->shape[0], r.out[2], r.out[3], x->shape[1]};
    int32_t yn = qlc_new_act(g, n->outputs[0], "_nhwc", x->dtype, 4, ys);
    if (xn < 0 || yn < 0) return QLITE_ERR_NO_MEMORY;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_RESIZE, &o);
    o.u.resize = r.o;
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_RESIZE, &o, 1, &xn, 1, &yn))
        return QLITE_ERR_NO_MEMORY;
    qlc_perm_to_nchw(4, p);
    if (qlc_emit_transpose(g, NULL, n->op_type, yn, p, n->outputs[0]) < 0) return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- LSTM / GRU ----------------------------------------------------------------- */

qlite_status qlc_infer_rnn(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    for (uint32_t i = 0; i < 3; i++)
        if ((st = qlc_need_input(g, n, i)) != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0), *w = qlc_in_t(g, n, 1);
    if (x->rank != 3 || w->rank != 3)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "X and W must be 3-D");
    int64_t h = qlc_attr_int(n, "hidden_size", -1);
    bool lstm = strcmp(n->op_type, "LSTM") == 0;
    int64_t gates = lstm ? 4 : 3;
    if (h <= 0) h = w->shape[1] / gates;
    if (w->shape[1] != gates * h)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "W has %lld rows; expected %lld", (long long)w->shape[1],
                              (long long)(gates * h));
    const char *dir = qlc_attr_str(n, "direction", "forward");
    int64_t nd = !strcmp(dir, "bidirectional") ? 2 : 1;
    bool bf = qlc_attr_int(n, "layout", 0) != 0;
    int64_t seq = bf ? x->shape[1] : x->shape[0], batch = bf ? x->shape[0] : x->shape[1];
    int64_t ys[4], hs[3];
    if (bf) {
        ys[0] = batch; ys[1] = seq; ys[2] = nd; ys[3] = h;
        hs[0] = batch; hs[1] = nd; hs[2] = h;
    } else {
        ys[0] = seq; ys[1] = nd; ys[2] = batch; ys[3] = h;
        hs[0] = nd; hs[1] = batch; hs[2] = h;
    }
    qlc_set_out(g, n, 0, x->dtype, 4, ys);
    qlc_set_out(g, n, 1, x->dtype, 3, hs);
    if (lstm) qlc_set_out(g, n, 2, x->dtype, 3, hs);
    return QLITE_OK;
}

qlite_status qlc_lower_rnn(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "float32 only");
    bool lstm = strcmp(n->op_type, "LSTM") == 0;
    for (uint32_t i = 1; i < n->num_inputs; i++) {
        qlc_tensor *t = qlc_in_t(g, n, i);
        if (t && i != 4 && i != 5 && i != 6 && !t->data)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "input %u ('%s') must be a constant",
                                  i, t->name);
    }
    if (lstm && qlc_attr_int(n, "input_forget", 0))
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "input_forget=1 is not supported");
    const qlc_attr *acts = qlc_attr_get(n, "activations");
    if (acts && acts->type == QLC_ATTR_STRINGS && acts->n) {
        /* only the defaults are supported; the strings themselves were not kept */
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "custom activations are not supported (only Sigmoid/Tanh defaults)");
    }
    if (qlc_attr_get(n, "activation_alpha") || qlc_attr_get(n, "activation_beta"))
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "activation_alpha/beta are not supported");
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_RNN, &o);
    qlc_tensor *w = qlc_in_t(g, n, 1);
    int64_t h = qlc_attr_int(n, "hidden_size", w->shape[1] / (lstm ? 4 : 3));
    o.u.rnn.hidden_size = (int32_t)h;
    const char *dir = qlc_attr_str(n, "direction", "forward");
    if (!strcmp(dir, "forward")) o.u.rnn.direction = QLITE_RNN_FORWARD;
    else if (!strcmp(dir, "reverse")) o.u.rnn.direction = QLITE_RNN_REVERSE;
    else if (!strcmp(dir, "bidirectional")) o.u.rnn.direction = QLITE_RNN_BIDIRECTIONAL;
    else return qlc_node_error(n, QLITE_ERR_CORRUPT, "direction '%s'", dir);
    o.u.rnn.batch_first = qlc_attr_int(n, "layout", 0) != 0;
    o.u.rnn.linear_before_reset = qlc_attr_int(n, "linear_before_reset", 0) != 0;
    o.u.rnn.clip = qlc_attr_float(n, "clip", 0.0f);
    int32_t outs[3] = {-1, -1, -1};
    for (uint32_t i = 0; i < n->num_outputs && i < 3; i++) outs[i] = n->outputs[i];
    int32_t ins[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    for (uint32_t i = 0; i < n->num_inputs && i < 8; i++) ins[i] = n->inputs[i];
    uint32_t ni = lstm ? 8 : 6;
    /* every output slot gets a tensor (the kernel writes all of them) */
    for (uint32_t i = 0; i < (lstm ? 3u : 2u); i++) {
        if (outs[i] >= 0) continue;
        qlc_tensor *ref = qlc_out_t(g, n, 0);
        int64_t hs[3];
        bool bf = o.u.rnn.batch_first;
        int64_t nd = o.u.rnn.direction == QLITE_RNN_BIDIRECTIONAL ? 2 : 1;
        int64_t batch = bf ? x->shape[0] : x->shape[1];
        int64_t seq = bf ? x->shape[1] : x->shape[0];
        if (i == 0) {
            int64_t ys[4] = {bf ? batch : seq, bf ? seq : nd, bf ? nd : batch, h};
            outs[i] = qlc_new_act(g, n->inputs[0], "_Y", x->dtype, 4, ys);
        } else {
            hs[0] = bf ? batch : nd; hs[1] = bf ? nd : batch; hs[2] = h;
            outs[i] = qlc_new_act(g, n->inputs[0], i == 1 ? "_Yh" : "_Yc", x->dtype, 3, hs);
        }
        (void)ref;
        if (outs[i] < 0) return QLITE_ERR_NO_MEMORY;
    }
    if (!qlc_add_op(g, n->name, n->op_type, lstm ? QLITE_OP_LSTM : QLITE_OP_GRU, &o, ni, ins,
                    lstm ? 3 : 2, outs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}
