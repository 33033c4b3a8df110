/*
 * fuse_patterns.c — recognizes decomposed ops that PyTorch exports and
 * replaces them by one ONNX-level node the lowering knows:
 *   Gelu (erf form):  x * 0.5 * (1 + erf(x / sqrt(2)))            -> Gelu
 *   Gelu (tanh form): 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
 *                                                              -> Gelu(approximate=tanh)
 *   LayerNorm:  m = ReduceMean(x); d = x - m; v = ReduceMean(d^2);
 *               y = d / sqrt(v + eps) [* gamma] [+ beta]           -> LayerNormalization
 *   HardSigmoid: Clip(x + 3, 0, 6) / 6 (or * 1/6)                  -> HardSigmoid(1/6, 0.5)
 *   HardSwish:   x * HardSigmoid(x; 1/6, 0.5)                      -> HardSwish
 * Every intermediate must feed only the pattern (no other uses, not a graph
 * output); constants are compared with a relative tolerance of 1e-4.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"

/* The live ONNX-level node producing t if it has the given type. */
static qlc_node *prod(qlc_graph *g, int32_t t, const char *type) {
    int32_t p = qlc_producer(g, t);
    if (p < 0) return NULL;
    qlc_node *n = g->nodes[p];
    return !n->dead && !n->lowered && !strcmp(n->op_type, type) ? n : NULL;
}

/* Is t a constant whose every element equals v (rel. tol 1e-4)? */
static bool const_is(const qlc_graph *g, int32_t t, float v) {
    if (!qlc_is_const(g, t)) return false;
    float *f = qlc_const_as_f32(g->tensors[t]);
    if (!f) return false;
    uint64_t n = qlc_elements(g->tensors[t]);
    bool ok = n > 0;
    for (uint64_t i = 0; i < n && ok; i++) ok = fabsf(f[i] - v) <= 1e-4f * fmaxf(1.0f, fabsf(v));
    free(f);
    return ok;
}

/* Single use, not a graph output. */
static bool only_use(const qlc_graph *g, int32_t t) {
    return t >= 0 && !g->tensors[t]->is_output && qlc_use_count(g, t) == 1;
}

/* For a binary node, the input that is not `known` (or -1). */
static int32_t other_in(const qlc_node *n, int32_t known) {
    if (n->num_inputs != 2) return -1;
    return n->inputs[0] == known ? n->inputs[1] : (n->inputs[1] == known ? n->inputs[0] : -1);
}

/* Single live consumer node of t (or NULL). */
static qlc_node *consumer(qlc_graph *g, int32_t t, const char *type) {
    if (!only_use(g, t)) return NULL;
    qlc_node *n = g->nodes[g->uses[g->use_start[t]].node];
    return !n->dead && !n->lowered && !strcmp(n->op_type, type) ? n : NULL;
}

static qlite_status replace_with(qlc_graph *g, const char *type, const char *name, int32_t x,
                                 int32_t y, qlc_node **out) {
    qlc_node *n = qlc_add_onnx_node(g, name, type, 1, &x, 1, &y);
    if (!n) return QLITE_ERR_NO_MEMORY;
    *out = n;
    return QLITE_OK;
}

/* Tail common to both Gelu forms: given s = 1 + f(x), find s * x * 0.5 in any
 * order: Mul(Mul(x, s), 0.5) | Mul(Mul(x, 0.5), s) | Mul(x, Mul(s, 0.5)).
 * Returns the final output (or -1) and the nodes to delete. */
static int32_t gelu_tail(qlc_graph *g, int32_t s, int32_t x, qlc_node **dead, int *nd) {
    qlc_node *m1 = consumer(g, s, "Mul");
    if (!m1) return -1;
    int32_t o = other_in(m1, s);
    dead[(*nd)++] = m1;
    if (o == x) { /* (x*s)*0.5 */
        qlc_node *m2 = consumer(g, m1->outputs[0], "Mul");
        if (!m2 || !const_is(g, other_in(m2, m1->outputs[0]), 0.5f)) return -1;
        dead[(*nd)++] = m2;
        return m2->outputs[0];
    }
    qlc_node *h = prod(g, o, "Mul"); /* (x*0.5)*s */
    if (h && only_use(g, o) && (const_is(g, other_in(h, x), 0.5f))) {
        dead[(*nd)++] = h;
        return m1->outputs[0];
    }
    if (const_is(g, o, 0.5f)) { /* (s*0.5)*x */
        qlc_node *m2 = consumer(g, m1->outputs[0], "Mul");
        if (!m2 || other_in(m2, m1->outputs[0]) != x) return -1;
        dead[(*nd)++] = m2;
        return m2->outputs[0];
    }
    return -1;
}

static qlite_status fuse_gelu(qlc_ctx *c, uint32_t *count) {
    qlc_graph *g = c->g;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *e = g->nodes[i];
        if (e->dead || e->lowered) continue;
        bool erf_form = !strcmp(e->op_type, "Erf"), tanh_form = !strcmp(e->op_type, "Tanh");
        if (!erf_form && !tanh_form) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        qlc_node *dead[12];
        int nd = 0;
        int32_t x = -1;
        int32_t ein = e->inputs[0];
        if (!only_use(g, ein)) continue;
        if (erf_form) {
            qlc_node *d = prod(g, ein, "Div"), *m = prod(g, ein, "Mul");
            if (d && const_is(g, d->inputs[1], 1.41421356f)) x = d->inputs[0];
            else if (m) {
                if (const_is(g, m->inputs[1], 0.70710678f)) x = m->inputs[0];
                else if (const_is(g, m->inputs[0], 0.70710678f)) x = m->inputs[1];
            }
            if (x < 0) continue;
            dead[nd++] = d ? d : m;
        } else {
            /* sqrt(2/pi) * (x + 0.044715 * x^3) */
            qlc_node *m = prod(g, ein, "Mul");
            if (!m) continue;
            int32_t inner = const_is(g, m->inputs[0], 0.7978845608f) ? m->inputs[1]
                            : const_is(g, m->inputs[1], 0.7978845608f) ? m->inputs[0] : -1;
            qlc_node *a = inner >= 0 && only_use(g, inner) ? prod(g, inner, "Add") : NULL;
            if (!a) continue;
            for (int k = 0; k < 2 && x < 0; k++) {
                int32_t cand = a->inputs[k], cube = a->inputs[1 - k];
                qlc_node *cm = only_use(g, cube) ? prod(g, cube, "Mul") : NULL;
                if (!cm) continue;
                int32_t p3 = const_is(g, cm->inputs[0], 0.044715f) ? cm->inputs[1]
                             : const_is(g, cm->inputs[1], 0.044715f) ? cm->inputs[0] : -1;
                qlc_node *pw = p3 >= 0 && only_use(g, p3) ? prod(g, p3, "Pow") : NULL;
                if (pw && pw->inputs[0] == cand && const_is(g, pw->inputs[1], 3.0f)) {
                    x = cand;
                    dead[nd++] = m; dead[nd++] = a; dead[nd++] = cm; dead[nd++] = pw;
                }
            }
            if (x < 0) continue;
        }
        dead[nd++] = e;
        qlc_node *add = consumer(g, e->outputs[0], "Add");
        if (!add || !const_is(g, other_in(add, e->outputs[0]), 1.0f)) continue;
        dead[nd++] = add;
        int32_t y = gelu_tail(g, add->outputs[0], x, dead, &nd);
        if (y < 0) continue;
        qlc_node *gl;
        if ((st = replace_with(g, "Gelu", e->name, x, y, &gl)) != QLITE_OK) return st;
        if (tanh_form) {
            gl->attrs = calloc(1, sizeof *gl->attrs);
            if (!gl->attrs) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            gl->attrs[0].name = malloc(12);
            gl->attrs[0].s = malloc(5);
            if (!gl->attrs[0].name || !gl->attrs[0].s) return qlite_error(QLITE_ERR_NO_MEMORY, "oom");
            strcpy(gl->attrs[0].name, "approximate");
            strcpy(gl->attrs[0].s, "tanh");
            gl->attrs[0].type = QLC_ATTR_STRING;
            gl->attrs[0].tensor = -1;
            gl->num_attrs = 1;
        }
        for (int k = 0; k < nd; k++) qlc_remove_node(g, dead[k]);
        (*count)++;
    }
    return QLITE_OK;
}

/* ReduceMean over the trailing axes [r-k, r) with keepdims: returns k or 0. */
static int trailing_mean(const qlc_graph *g, const qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    size_t cnt;
    const int64_t *ax = qlc_attr_ints(n, "axes", &cnt);
    if (!ax || !cnt || qlc_attr_int(n, "keepdims", 1) != 1 || n->num_inputs > 1) return 0;
    bool seen[QLITE_MAX_RANK] = {0};
    for (size_t i = 0; i < cnt; i++) {
        int64_t a = ax[i] < 0 ? ax[i] + x->rank : ax[i];
        if (a < 0 || a >= x->rank) return 0;
        seen[a] = true;
    }
    for (int32_t i = x->rank - (int32_t)cnt; i < x->rank; i++)
        if (i < 0 || !seen[i]) return 0;
    return (int)cnt;
}

static qlite_status fuse_layernorm(qlc_ctx *c, uint32_t *count) {
    qlc_graph *g = c->g;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *div = g->nodes[i];
        if (div->dead || div->lowered || strcmp(div->op_type, "Div") != 0) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        int32_t d = div->inputs[0], s = div->inputs[1];
        qlc_node *sub = prod(g, d, "Sub"), *sq = prod(g, s, "Sqrt");
        if (!sub || !sq || !only_use(g, s)) continue;
        int32_t x = sub->inputs[0];
        qlc_node *m1 = prod(g, sub->inputs[1], "ReduceMean");
        if (!m1 || m1->inputs[0] != x || !only_use(g, sub->inputs[1])) continue;
        int k = trailing_mean(g, m1);
        if (!k) continue;
        qlc_node *ad = prod(g, sq->inputs[0], "Add");
        if (!ad || !only_use(g, sq->inputs[0])) continue;
        int32_t epst = qlc_is_const(g, ad->inputs[1]) ? ad->inputs[1] : ad->inputs[0];
        int32_t vt = epst == ad->inputs[1] ? ad->inputs[0] : ad->inputs[1];
        if (!qlc_is_const(g, epst) || qlc_elements(g->tensors[epst]) != 1) continue;
        float *ev = qlc_const_as_f32(g->tensors[epst]);
        if (!ev) continue;
        float eps = ev[0];
        free(ev);
        qlc_node *m2 = prod(g, vt, "ReduceMean");
        if (!m2 || !only_use(g, vt) || trailing_mean(g, m2) != k) continue;
        int32_t p = m2->inputs[0];
        qlc_node *pw = prod(g, p, "Pow"), *mu = prod(g, p, "Mul");
        if (!only_use(g, p)) continue;
        if (pw && !(pw->inputs[0] == d && const_is(g, pw->inputs[1], 2.0f))) pw = NULL;
        if (mu && !(mu->inputs[0] == d && mu->inputs[1] == d)) mu = NULL;
        if (!pw && !mu) continue;
        /* d feeds exactly the square and the Div */
        if (g->tensors[d]->is_output || qlc_use_count(g, d) != (pw ? 2u : 3u)) continue;
        qlc_tensor *xt = g->tensors[x];
        /* optional affine tail */
        int32_t y = div->outputs[0], gamma = -1, beta = -1;
        qlc_node *dead[10];
        int nd = 0;
        dead[nd++] = div; dead[nd++] = sub; dead[nd++] = sq; dead[nd++] = m1;
        dead[nd++] = ad; dead[nd++] = m2; dead[nd++] = pw ? pw : mu;
        uint64_t inner = 1;
        for (int32_t a = xt->rank - k; a < xt->rank; a++) inner *= (uint64_t)xt->shape[a];
        qlc_node *mg = consumer(g, y, "Mul");
        if (mg) {
            int32_t o = other_in(mg, y);
            if (qlc_is_const(g, o) && qlc_elements(g->tensors[o]) == inner &&
                g->tensors[o]->rank <= k) {
                gamma = o;
                y = mg->outputs[0];
                dead[nd++] = mg;
                qlc_node *ab = consumer(g, y, "Add");
                if (ab) {
                    int32_t o2 = other_in(ab, y);
                    if (qlc_is_const(g, o2) && qlc_elements(g->tensors[o2]) == inner &&
                        g->tensors[o2]->rank <= k) {
                        beta = o2;
                        y = ab->outputs[0];
                        dead[nd++] = ab;
                    }
                }
            }
        }
        if (gamma < 0) {
            float *ones = malloc((size_t)inner * 4);
            if (!ones) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            for (uint64_t q = 0; q < inner; q++) ones[q] = 1.0f;
            int64_t shp[1] = {(int64_t)inner};
            gamma = qlc_add_const_owned(g, NULL, QLITE_DTYPE_FLOAT32, 1, shp, ones, (size_t)inner * 4);
            if (gamma < 0) return QLITE_ERR_NO_MEMORY;
        }
        int32_t ins[3] = {x, gamma, beta};
        qlc_node *ln = qlc_add_onnx_node(g, div->name, "LayerNormalization", beta >= 0 ? 3 : 2,
                                         ins, 1, &y);
        if (!ln) return QLITE_ERR_NO_MEMORY;
        if ((st = qlc_attr_set_int(ln, "axis", -k)) != QLITE_OK ||
            (st = qlc_attr_set_float(ln, "epsilon", eps)) != QLITE_OK)
            return st;
        for (int q = 0; q < nd; q++) qlc_remove_node(g, dead[q]);
        (*count)++;
    }
    return QLITE_OK;
}

/* Clip(x + 3, 0, 6) / 6 -> HardSigmoid; then x * HardSigmoid(x) -> HardSwish. */
static qlite_status fuse_hard(qlc_ctx *c, uint32_t *hs, uint32_t *hw) {
    qlc_graph *g = c->g;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *cl = g->nodes[i];
        if (cl->dead || cl->lowered) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        if (!strcmp(cl->op_type, "Clip")) {
            float lo, hi;
            if (g->opset < 11) {
                lo = qlc_attr_float(cl, "min", -1e30f);
                hi = qlc_attr_float(cl, "max", 1e30f);
            } else {
                if (!const_is(g, qlc_in(cl, 1), 0.0f) || !const_is(g, qlc_in(cl, 2), 6.0f)) continue;
                lo = 0.0f;
                hi = 6.0f;
            }
            if (lo != 0.0f || hi != 6.0f) continue;
            qlc_node *ad = prod(g, cl->inputs[0], "Add");
            if (!ad || !only_use(g, cl->inputs[0])) continue;
            int32_t x = const_is(g, ad->inputs[1], 3.0f) ? ad->inputs[0]
                        : const_is(g, ad->inputs[0], 3.0f) ? ad->inputs[1] : -1;
            if (x < 0) continue;
            qlc_node *dv = consumer(g, cl->outputs[0], "Div"), *ml = NULL;
            if (dv && dv->inputs[0] == cl->outputs[0] && const_is(g, dv->inputs[1], 6.0f)) {
                /* ok */
            } else {
                dv = NULL;
                ml = consumer(g, cl->outputs[0], "Mul");
                if (!ml || !const_is(g, other_in(ml, cl->outputs[0]), 1.0f / 6.0f)) continue;
            }
            qlc_node *last = dv ? dv : ml;
            qlc_node *h;
            if ((st = replace_with(g, "HardSigmoid", cl->name, x, last->outputs[0], &h)) != QLITE_OK)
                return st;
            if ((st = qlc_attr_set_float(h, "alpha", 1.0f / 6.0f)) != QLITE_OK ||
                (st = qlc_attr_set_float(h, "beta", 0.5f)) != QLITE_OK)
                return st;
            qlc_remove_node(g, ad);
            qlc_remove_node(g, cl);
            qlc_remove_node(g, last);
            (*hs)++;
        }
    }
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *h = g->nodes[i];
        if (h->dead || h->lowered || strcmp(h->op_type, "HardSigmoid") != 0) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        if (fabsf(qlc_attr_float(h, "alpha", 0.2f) - 1.0f / 6.0f) > 1e-6f ||
            fabsf(qlc_attr_float(h, "beta", 0.5f) - 0.5f) > 1e-6f)
            continue;
        int32_t x = h->inputs[0];
        qlc_node *ml = consumer(g, h->outputs[0], "Mul");
        if (!ml || other_in(ml, h->outputs[0]) != x) continue;
        qlc_node *sw;
        if ((st = replace_with(g, "HardSwish", ml->name, x, ml->outputs[0], &sw)) != QLITE_OK)
            return st;
        qlc_remove_node(g, h);
        qlc_remove_node(g, ml);
        (*hw)++;
    }
    return QLITE_OK;
}

/* Gather(Transpose(x, P), k, axis=0) with a scalar constant k ->
 * Transpose(Gather(x, k, axis=P[0]), P'): the split of a fused qkv
 * projection as PyTorch exports it ([B,T,3,H,D] -> perm (2,0,3,1,4) ->
 * three Gathers) then never moves the batch out of dim 0. */
static qlite_status sink_gather_transpose(qlc_ctx *c, uint32_t *count) {
    qlc_graph *g = c->g;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *t = g->nodes[i];
        if (t->dead || t->lowered || strcmp(t->op_type, "Transpose") != 0) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        int32_t y = t->outputs[0], x = t->inputs[0];
        qlc_tensor *xt = g->tensors[x];
        int32_t r = xt->rank;
        size_t pc;
        const int64_t *p = qlc_attr_ints(t, "perm", &pc);
        if (!p || pc != (size_t)r || p[0] == 0 || g->tensors[y]->is_output || !qlc_use_count(g, y))
            continue;
        bool ok = true;
        for (uint32_t u = g->use_start[y]; u < g->use_start[y + 1] && ok; u++) {
            qlc_node *gn = g->nodes[g->uses[u].node];
            ok = !gn->lowered && !strcmp(gn->op_type, "Gather") && g->uses[u].slot == 0 &&
                 qlc_attr_int(gn, "axis", 0) == 0 && qlc_is_const(g, gn->inputs[1]) &&
                 g->tensors[gn->inputs[1]]->rank == 0;
        }
        if (!ok) continue;
        int32_t users[16];
        uint32_t nu = qlc_use_count(g, y);
        if (nu > 16) continue;
        for (uint32_t u = 0; u < nu; u++) users[u] = g->uses[g->use_start[y] + u].node;
        int64_t rest[QLITE_MAX_RANK];
        for (int32_t k = 1; k < r; k++) rest[k - 1] = p[k] > p[0] ? p[k] - 1 : p[k];
        for (uint32_t u = 0; u < nu; u++) {
            qlc_node *gn = g->nodes[users[u]];
            int32_t mid = qlc_add_tensor_like(g, g->tensors[gn->outputs[0]]->name, "_pre",
                                              xt->dtype, -1, NULL);
            if (mid < 0) return QLITE_ERR_NO_MEMORY;
            int32_t gi[2] = {x, gn->inputs[1]};
            qlc_node *ng = qlc_add_onnx_node(g, gn->name, "Gather", 2, gi, 1, &mid);
            int32_t out = gn->outputs[0];
            qlc_node *nt = ng ? qlc_add_onnx_node(g, NULL, "Transpose", 1, &mid, 1, &out) : NULL;
            if (!nt || qlc_attr_set_int(ng, "axis", p[0]) != QLITE_OK) return QLITE_ERR_NO_MEMORY;
            nt->attrs = calloc(1, sizeof *nt->attrs);
            if (!nt->attrs) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            nt->attrs[0].name = malloc(5);
            nt->attrs[0].ints = malloc((size_t)(r - 1) * sizeof(int64_t));
            if (!nt->attrs[0].name || !nt->attrs[0].ints)
                return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            memcpy(nt->attrs[0].name, "perm", 5);
            memcpy(nt->attrs[0].ints, rest, (size_t)(r - 1) * sizeof(int64_t));
            nt->attrs[0].n = (size_t)(r - 1);
            nt->attrs[0].type = QLC_ATTR_INTS;
            nt->attrs[0].tensor = -1;
            nt->num_attrs = 1;
            qlc_remove_node(g, gn);
        }
        qlc_remove_node(g, t);
        (*count)++;
    }
    return QLITE_OK;
}

/* True when node m's "perm" attribute equals want (n entries). */
static bool perm_is(const qlc_node *m, const int64_t *want, size_t n) {
    size_t count;
    const int64_t *perm = qlc_attr_ints(m, "perm", &count);
    if (!perm || count != n) return false;
    for (size_t i = 0; i < n; i++)
        if (perm[i] != want[i]) return false;
    return true;
}

/*
 * LSTM/GRU(Transpose(x, [1,0,2])) with layout 0 -> LSTM/GRU(x) with layout 1
 * (batch first), as PyTorch exports a batch_first recurrent layer at opset
 * < 14: the transpose would move the dynamic batch out of dim 0. Allowed when
 * the outputs' uses still make sense batch first: Y unused or only read by
 * Transpose([2,0,1,3]) (which then becomes a copy), Y_h / Y_c unused or only
 * read by Gather(axis 0, scalar constant index), which becomes axis 1.
 */
static qlite_status rnn_batch_first(qlc_ctx *c, uint32_t *count) {
    qlc_graph *g = c->g;
    static const int64_t to_time_major[3] = {1, 0, 2}, y_back[4] = {2, 0, 1, 3};
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *r = g->nodes[i];
        if (r->dead || r->lowered || (strcmp(r->op_type, "LSTM") && strcmp(r->op_type, "GRU")))
            continue;
        if (qlc_attr_int(r, "layout", 0) != 0 || r->num_inputs < 1) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        int32_t xt = r->inputs[0];
        int32_t pi = qlc_producer(g, xt);
        if (pi < 0) continue;
        qlc_node *t = g->nodes[pi];
        if (t->lowered || strcmp(t->op_type, "Transpose") ||
            !perm_is(t, to_time_major, 3) ||
            g->tensors[xt]->is_output || qlc_use_count(g, xt) != 1)
            continue;
        bool ok = true;
        for (uint32_t o = 0; o < r->num_outputs && ok; o++) {
            int32_t y = r->outputs[o];
            if (y < 0) continue;
            if (g->tensors[y]->is_output) ok = false;
            for (uint32_t u = g->use_start[y]; u < g->use_start[y + 1] && ok; u++) {
                const qlc_node *m = g->nodes[g->uses[u].node];
                if (m->lowered) ok = false;
                else if (o == 0)
                    ok = !strcmp(m->op_type, "Transpose") &&
                         perm_is(m, y_back, 4);
                else
                    ok = !strcmp(m->op_type, "Gather") && g->uses[u].slot == 0 &&
                         qlc_attr_int(m, "axis", 0) == 0 && qlc_is_const(g, m->inputs[1]) &&
                         g->tensors[m->inputs[1]]->rank == 0;
            }
        }
        if (!ok) continue;
        /* rewrite: the RNN reads x directly, batch first */
        r->inputs[0] = t->inputs[0];
        qlc_remove_node(g, t);
        if ((st = qlc_attr_set_int(r, "layout", 1)) != QLITE_OK) return st;
        for (uint32_t o = 0; o < r->num_outputs; o++) {
            int32_t y = r->outputs[o];
            if (y < 0) continue;
            for (uint32_t u = g->use_start[y]; u < g->use_start[y + 1]; u++) {
                qlc_node *m = g->nodes[g->uses[u].node];
                if (o > 0) {
                    if ((st = qlc_attr_set_int(m, "axis", 1)) != QLITE_OK) return st;
                } else {
                    /* the transpose back to batch-first is now the identity */
                    size_t pc;
                    int64_t *perm = (int64_t *)qlc_attr_ints(m, "perm", &pc);
                    for (size_t k = 0; k < pc; k++) perm[k] = (int64_t)k;
                }
            }
            qlc_tensor_set_shape(g->tensors[y], -1, NULL); /* re-inferred, */
            g->tensors[y]->decl_rank = -1;                /* batch first now */
        }
        g->index_valid = false;
        (*count)++;
    }
    return QLITE_OK;
}

qlite_status qlc_pass_fuse_patterns(qlc_ctx *c) {
    uint32_t gelu = 0, ln = 0, hs = 0, hw = 0, gt = 0;
    qlite_status st;
    if ((st = sink_gather_transpose(c, &gt)) != QLITE_OK) return st;
    if (gt) qlc_count(c, "Gathers moved before a Transpose", gt);
    uint32_t bf = 0;
    if ((st = rnn_batch_first(c, &bf)) != QLITE_OK) return st;
    if (bf) qlc_count(c, "recurrent layers made batch-first", bf);
    if ((st = fuse_gelu(c, &gelu)) != QLITE_OK) return st;
    if ((st = fuse_layernorm(c, &ln)) != QLITE_OK) return st;
    if ((st = fuse_hard(c, &hs, &hw)) != QLITE_OK) return st;
    if (gelu) qlc_count(c, "Gelu patterns fused", gelu);
    if (ln) qlc_count(c, "LayerNorm patterns fused", ln);
    if (hw) qlc_count(c, "HardSwish patterns fused", hw);
    if (hs > hw) qlc_count(c, "HardSigmoid patterns fused", hs - hw);
    return QLITE_OK;
}
