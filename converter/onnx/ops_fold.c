/*
 * ops_fold.c — evaluates ONNX nodes whose inputs are all constants, at
 * conversion time: the shape arithmetic PyTorch exports (Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape), data movement of constants (Transpose,
 * Reshape, Slice, Gather, Concat, Cast, Expand, ...) and element-wise math
 * on small constants. Float math is computed in double and rounded once.
 *
 * Shape() of a tensor with a dynamic batch yields the symbolic value
 * QLC_SYM_BATCH(1) for dim 0 (ir.h); data movement carries it, Mul/Div by a
 * positive constant scales it; any other use of it is not folded.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static bool is_int(qlite_dtype d) {
    return d == QLITE_DTYPE_INT64 || d == QLITE_DTYPE_INT32 || d == QLITE_DTYPE_INT16 ||
           d == QLITE_DTYPE_INT8 || d == QLITE_DTYPE_UINT8 || d == QLITE_DTYPE_BOOL;
}

static qlite_status set_const(qlc_graph *g, qlc_node *n, uint32_t slot, void *data, size_t size) {
    qlc_tensor *t = qlc_out_t(g, n, slot);
    if (!t) {
        free(data);
        return QLITE_OK;
    }
    qlc_tensor_set_data(t, data, size);
    if (!t->data) t->data = malloc(1);
    return t->data ? QLITE_OK : qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
}

static qlite_status done(qlc_graph *g, qlc_node *n) {
    qlc_remove_node(g, n);
    return QLITE_OK;
}

static bool has_sym(const qlc_tensor *t) {
    if (t->dtype != QLITE_DTYPE_INT64 || !t->data) return false;
    uint64_t c = qlc_elements(t);
    for (uint64_t i = 0; i < c; i++)
        if (qlc_is_sym(((const int64_t *)t->data)[i])) return true;
    return false;
}

qlite_status qlc_fold_shape(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    int64_t start = qlc_attr_int(n, "start", 0);
    if (start < 0) start += x->rank;
    if (start < 0) start = 0;
    int64_t c = y->shape[0];
    int64_t *v = malloc((size_t)(c ? c : 1) * 8);
    if (!v) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < c; i++) {
        int64_t d = x->shape[start + i];
        v[i] = d < 0 ? QLC_SYM_BATCH(1) : d;
    }
    qlite_status st = set_const(g, n, 0, v, (size_t)c * 8);
    return st == QLITE_OK ? done(g, n) : st;
}

qlite_status qlc_fold_size(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    for (int32_t i = 0; i < x->rank; i++)
        if (x->shape[i] < 0) return QLITE_ERR_UNSUPPORTED;
    int64_t *v = malloc(8);
    if (!v) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    *v = (int64_t)qlc_elements(x);
    qlite_status st = set_const(g, n, 0, v, 8);
    return st == QLITE_OK ? done(g, n) : st;
}

/* ---- element access as double / int64 -------------------------------------------- */

static double get_d(const qlc_tensor *t, uint64_t i) {
    switch (t->dtype) {
    case QLITE_DTYPE_FLOAT32: return ((const float *)t->data)[i];
    case QLITE_DTYPE_FLOAT16: return qlite_fp16_to_fp32(((const uint16_t *)t->data)[i]);
    case QLITE_DTYPE_INT64: return (double)((const int64_t *)t->data)[i];
    case QLITE_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    case QLITE_DTYPE_INT16: return ((const int16_t *)t->data)[i];
    case QLITE_DTYPE_INT8: return ((const int8_t *)t->data)[i];
    default: return ((const uint8_t *)t->data)[i];
    }
}

static int64_t get_i(const qlc_tensor *t, uint64_t i) {
    switch (t->dtype) {
    case QLITE_DTYPE_INT64: return ((const int64_t *)t->data)[i];
    case QLITE_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    case QLITE_DTYPE_INT16: return ((const int16_t *)t->data)[i];
    case QLITE_DTYPE_INT8: return ((const int8_t *)t->data)[i];
    case QLITE_DTYPE_FLOAT32: return (int64_t)((const float *)t->data)[i];
    default: return ((const uint8_t *)t->data)[i];
    }
}

static void put(void *dst, qlite_dtype dt, uint64_t i, double d, int64_t iv, bool use_int) {
    switch (dt) {
    case QLITE_DTYPE_FLOAT32: ((float *)dst)[i] = use_int ? (float)iv : (float)d; break;
    case QLITE_DTYPE_FLOAT16: ((uint16_t *)dst)[i] = qlite_fp32_to_fp16(use_int ? (float)iv : (float)d); break;
    case QLITE_DTYPE_INT64: ((int64_t *)dst)[i] = use_int ? iv : (int64_t)d; break;
    case QLITE_DTYPE_INT32: ((int32_t *)dst)[i] = (int32_t)(use_int ? iv : (int64_t)d); break;
    case QLITE_DTYPE_INT16: ((int16_t *)dst)[i] = (int16_t)(use_int ? iv : (int64_t)d); break;
    case QLITE_DTYPE_INT8: ((int8_t *)dst)[i] = (int8_t)(use_int ? iv : (int64_t)d); break;
    case QLITE_DTYPE_BOOL: ((uint8_t *)dst)[i] = (use_int ? iv != 0 : d != 0.0) ? 1 : 0; break;
    default: ((uint8_t *)dst)[i] = (uint8_t)(use_int ? iv : (int64_t)d); break;
    }
}

/* Offset into a broadcast input for output multi-index idx. */
static uint64_t bcast_offset(const qlc_tensor *t, int32_t orank, const int64_t *idx) {
    uint64_t off = 0, stride = 1;
    for (int32_t i = t->rank - 1; i >= 0; i--) {
        int32_t oi = i + (orank - t->rank);
        int64_t d = t->shape[i];
        if (d > 1) off += (uint64_t)idx[oi] * stride;
        stride *= (uint64_t)(d > 0 ? d : 1);
    }
    return off;
}

static bool next_index(int32_t rank, const int64_t *shape, int64_t *idx) {
    for (int32_t i = rank - 1; i >= 0; i--) {
        if (++idx[i] < shape[i]) return true;
        idx[i] = 0;
    }
    return false;
}

/* Element-wise math with numpy broadcasting. */
static qlite_status fold_elementwise(qlc_graph *g, qlc_node *n) {
    const char *op = n->op_type;
    qlc_tensor *y = qlc_out_t(g, n, 0);
    for (int32_t i = 0; i < y->rank; i++)
        if (y->shape[i] < 0) return QLITE_ERR_UNSUPPORTED;
    uint64_t cnt = qlc_elements(y);
    if (cnt > (1u << 22)) return QLITE_ERR_UNSUPPORTED; /* leave big math to the kernels */
    qlc_tensor *in[3] = {qlc_in_t(g, n, 0), qlc_in_t(g, n, 1), qlc_in_t(g, n, 2)};
    uint32_t ni = n->num_inputs > 3 ? 3 : n->num_inputs;
    bool any_sym = false;
    for (uint32_t k = 0; k < ni; k++) any_sym |= in[k] && has_sym(in[k]);
    bool ints = is_int(in[0]->dtype) && (ni < 2 || !in[1] || is_int(in[1]->dtype));
    if (!strcmp(op, "Where")) ints = is_int(in[1]->dtype) && is_int(in[2]->dtype);
    void *out = malloc(cnt ? (size_t)cnt * qlc_dtype_size(y->dtype) : 1);
    if (!out) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    int64_t idx[QLITE_MAX_RANK] = {0};
    for (uint64_t o = 0; o < cnt; o++, next_index(y->rank, y->shape, idx)) {
        uint64_t off[3] = {0, 0, 0};
        for (uint32_t k = 0; k < ni; k++)
            if (in[k]) off[k] = bcast_offset(in[k], y->rank, idx);
        if (ints) {
            int64_t a = get_i(in[0], off[0]), b = ni > 1 && in[1] ? get_i(in[1], off[1]) : 0, r;
            bool sa = qlc_is_sym(a) && in[0]->dtype == QLITE_DTYPE_INT64;
            bool sb = ni > 1 && in[1] && qlc_is_sym(b) && in[1]->dtype == QLITE_DTYPE_INT64;
            if (sa || sb) {
                if (!strcmp(op, "Mul") && (sa != sb)) {
                    int64_t k = qlc_sym_k(sa ? a : b), c = sa ? b : a;
                    if (c <= 0 || k * c > QLC_SYM_MAX_K) goto unsupported;
                    r = QLC_SYM_BATCH(k * c);
                } else if (!strcmp(op, "Div") && sa && !sb && b > 0 && qlc_sym_k(a) % b == 0) {
                    r = QLC_SYM_BATCH(qlc_sym_k(a) / b);
                } else {
                    goto unsupported;
                }
            } else if (!strcmp(op, "Add")) r = a + b;
            else if (!strcmp(op, "Sub")) r = a - b;
            else if (!strcmp(op, "Mul")) r = a * b;
            else if (!strcmp(op, "Div")) {
                if (b == 0) goto unsupported;
                r = a / b; /* truncates, as ONNX Runtime */
            } else if (!strcmp(op, "Neg")) r = -a;
            else if (!strcmp(op, "Abs")) r = a < 0 ? -a : a;
            else if (!strcmp(op, "Min")) r = a < b ? a : b;
            else if (!strcmp(op, "Max")) r = a > b ? a : b;
            else if (!strcmp(op, "Equal")) r = a == b;
            else if (!strcmp(op, "Less")) r = a < b;
            else if (!strcmp(op, "Greater")) r = a > b;
            else if (!strcmp(op, "Not")) r = !a;
            else if (!strcmp(op, "Where")) r = a ? b : get_i(in[2], off[2]);
            else goto unsupported;
            put(out, y->dtype, o, 0, r, true);
        } else {
            if (any_sym) goto unsupported;
            double a = get_d(in[0], off[0]), b = ni > 1 && in[1] ? get_d(in[1], off[1]) : 0, r;
            if (!strcmp(op, "Add")) r = a + b;
            else if (!strcmp(op, "Sub")) r = a - b;
            else if (!strcmp(op, "Mul")) r = a * b;
            else if (!strcmp(op, "Div")) r = a / b;
            else if (!strcmp(op, "Pow")) r = pow(a, b);
            else if (!strcmp(op, "Min")) r = a < b ? a : b;
            else if (!strcmp(op, "Max")) r = a > b ? a : b;
            else if (!strcmp(op, "Sqrt")) r = sqrt(a);
            else if (!strcmp(op, "Exp")) r = exp(a);
            else if (!strcmp(op, "Log")) r = log(a);
            else if (!strcmp(op, "Neg")) r = -a;
            else if (!strcmp(op, "Abs")) r = fabs(a);
            else if (!strcmp(op, "Reciprocal")) r = 1.0 / a;
            else if (!strcmp(op, "Relu")) r = a > 0 ? a : 0;
            else if (!strcmp(op, "Sigmoid")) r = 1.0 / (1.0 + exp(-a));
            else if (!strcmp(op, "Tanh")) r = tanh(a);
            else if (!strcmp(op, "Erf")) r = erf(a);
            else if (!strcmp(op, "Floor")) r = floor(a);
            else if (!strcmp(op, "Ceil")) r = ceil(a);
            else if (!strcmp(op, "Equal")) r = a == b;
            else if (!strcmp(op, "Less")) r = a < b;
            else if (!strcmp(op, "Greater")) r = a > b;
            else if (!strcmp(op, "Where")) r = a != 0 ? b : get_d(in[2], off[2]);
            else goto unsupported;
            put(out, y->dtype, o, r, 0, false);
        }
    }
    {
        qlite_status st = set_const(g, n, 0, out, (size_t)cnt * qlc_dtype_size(y->dtype));
        return st == QLITE_OK ? done(g, n) : st;
    }
unsupported:
    free(out);
    return QLITE_ERR_UNSUPPORTED;
}

/* Copy a constant into the output with the output's shape (reshape-like). */
static qlite_status fold_copy(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    void *d = malloc(x->data_size ? x->data_size : 1);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    if (x->data_size) memcpy(d, x->data, x->data_size);
    qlite_status st = set_const(g, n, 0, d, x->data_size);
    /* QDQ parameters: all of them through an Identity, per tensor through a reshape */
    if (st == QLITE_OK)
        qlc_carry_qdq(g, n->outputs[0], n->inputs[0],
                      strcmp(n->op_type, "Identity") ? -1 : x->quant.axis);
    return st == QLITE_OK ? done(g, n) : st;
}

static qlite_status fold_cast(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    if (has_sym(x) && y->dtype != QLITE_DTYPE_INT64) return QLITE_ERR_UNSUPPORTED;
    uint64_t c = qlc_elements(x);
    void *d = malloc(c ? (size_t)c * qlc_dtype_size(y->dtype) : 1);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    bool src_int = is_int(x->dtype);
    for (uint64_t i = 0; i < c; i++)
        put(d, y->dtype, i, src_int ? 0 : get_d(x, i), src_int ? get_i(x, i) : 0, src_int);
    qlite_status st = set_const(g, n, 0, d, (size_t)c * qlc_dtype_size(y->dtype));
    return st == QLITE_OK ? done(g, n) : st;
}

static qlite_status fold_transpose(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t perm[QLITE_MAX_RANK];
    size_t c;
    const int64_t *p = qlc_attr_ints(n, "perm", &c);
    for (int32_t i = 0; i < x->rank; i++) perm[i] = p && c ? (int32_t)p[i] : x->rank - 1 - i;
    void *d = qlc_transpose_data(x->data, qlc_dtype_size(x->dtype), x->rank, x->shape, perm);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    qlite_status st = set_const(g, n, 0, d, x->data_size);
    /* a QDQ weight's channel axis moves to where the perm puts it */
    int32_t axis = -1;
    for (int32_t i = 0; i < x->rank; i++)
        if (perm[i] == x->quant.axis) axis = i;
    if (st == QLITE_OK) qlc_carry_qdq(g, n->outputs[0], n->inputs[0], axis);
    return st == QLITE_OK ? done(g, n) : st;
}

static qlite_status fold_concat(qlc_graph *g, qlc_node *n) {
    qlc_tensor *y = qlc_out_t(g, n, 0), *x0 = qlc_in_t(g, n, 0);
    int32_t axis;
    if (qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), y->rank, &axis) != QLITE_OK)
        return QLITE_ERR_UNSUPPORTED;
    size_t es = qlc_dtype_size(y->dtype);
    uint64_t outer = 1, total = qlc_elements(y);
    for (int32_t i = 0; i < axis; i++) outer *= (uint64_t)y->shape[i];
    uint8_t *d = malloc(total ? (size_t)total * es : 1);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint64_t w = 0;
    for (uint64_t o = 0; o < outer; o++)
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            qlc_tensor *t = qlc_in_t(g, n, k);
            if (t->dtype != x0->dtype) {
                free(d);
                return QLITE_ERR_UNSUPPORTED;
            }
            uint64_t inner = outer ? qlc_elements(t) / outer : 0;
            memcpy(d + w * es, (const uint8_t *)t->data + o * inner * es, (size_t)(inner * es));
            w += inner;
        }
    qlite_status st = set_const(g, n, 0, d, (size_t)total * es);
    return st == QLITE_OK ? done(g, n) : st;
}

static qlite_status fold_gather(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *idx = qlc_in_t(g, n, 1), *y = qlc_out_t(g, n, 0);
    int32_t axis;
    if (qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), x->rank, &axis) != QLITE_OK)
        return QLITE_ERR_UNSUPPORTED;
    size_t es = qlc_dtype_size(x->dtype);
    uint64_t outer = 1, inner = 1, ni = qlc_elements(idx);
    for (int32_t i = 0; i < axis; i++) outer *= (uint64_t)x->shape[i];
    for (int32_t i = axis + 1; i < x->rank; i++) inner *= (uint64_t)x->shape[i];
    int64_t dim = x->shape[axis];
    uint64_t total = qlc_elements(y);
    uint8_t *d = malloc(total ? (size_t)total * es : 1);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint64_t w = 0;
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t k = 0; k < ni; k++) {
            int64_t j = get_i(idx, k);
            if (j < 0) j += dim;
            if (j < 0 || j >= dim) {
                free(d);
                return qlc_node_error(n, QLITE_ERR_CORRUPT, "index %lld out of range",
                                      (long long)get_i(idx, k));
            }
            memcpy(d + w * es, (const uint8_t *)x->data + ((o * (uint64_t)dim + (uint64_t)j) * inner) * es,
                   (size_t)(inner * es));
            w += inner;
        }
    qlite_status st = set_const(g, n, 0, d, (size_t)total * es);
    return st == QLITE_OK ? done(g, n) : st;
}

/* Slice / Expand / Tile / Pad(constant mode) by per-element source mapping. */
static qlite_status fold_index_map(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0), *y = qlc_out_t(g, n, 0);
    const char *op = n->op_type;
    size_t es = qlc_dtype_size(x->dtype);
    for (int32_t i = 0; i < y->rank; i++)
        if (y->shape[i] < 0) return QLITE_ERR_UNSUPPORTED;
    uint64_t total = qlc_elements(y);
    if (total > (1u << 24)) return QLITE_ERR_UNSUPPORTED;
    int64_t start[QLITE_MAX_RANK] = {0}, step[QLITE_MAX_RANK];
    for (int32_t i = 0; i < QLITE_MAX_RANK; i++) step[i] = 1;
    if (!strcmp(op, "Slice")) {
        /* normalized starts/steps, as inference derived them; other axes 0 / 1 */
        qlc_slice_spec sp;
        int64_t os[QLITE_MAX_RANK];
        if (qlc_slice_read(g, n, &sp, os) != QLITE_OK) return QLITE_ERR_UNSUPPORTED;
        for (uint32_t i = 0; i < sp.count; i++) {
            start[sp.axes[i]] = sp.starts[i];
            step[sp.axes[i]] = sp.steps[i];
        }
    }
    uint8_t *d = malloc(total ? (size_t)total * es : 1);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    int64_t idx[QLITE_MAX_RANK] = {0};
    int32_t off_rank = y->rank - x->rank; /* Expand may add leading dims */
    for (uint64_t o = 0; o < total; o++, next_index(y->rank, y->shape, idx)) {
        uint64_t src = 0, stride = 1;
        for (int32_t i = x->rank - 1; i >= 0; i--) {
            int64_t oi = idx[i + off_rank], si;
            if (!strcmp(op, "Slice")) si = start[i] + oi * step[i];
            else if (!strcmp(op, "Tile")) si = oi % x->shape[i];
            else si = x->shape[i] == 1 ? 0 : oi; /* Expand */
            src += (uint64_t)si * stride;
            stride *= (uint64_t)x->shape[i];
        }
        memcpy(d + o * es, (const uint8_t *)x->data + src * es, es);
    }
    qlite_status st = set_const(g, n, 0, d, (size_t)total * es);
    return st == QLITE_OK ? done(g, n) : st;
}

static qlite_status fold_constant_of_shape(qlc_graph *g, qlc_node *n) {
    qlc_tensor *y = qlc_out_t(g, n, 0);
    const qlc_attr *a = qlc_attr_get(n, "value");
    size_t es = qlc_dtype_size(y->dtype);
    uint64_t total = qlc_elements(y);
    if (total > (1u << 24)) return QLITE_ERR_UNSUPPORTED;
    uint8_t *d = calloc(total ? (size_t)total : 1, es);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    if (a && a->tensor >= 0 && g->tensors[a->tensor]->data_size >= es)
        for (uint64_t i = 0; i < total; i++) memcpy(d + i * es, g->tensors[a->tensor]->data, es);
    qlite_status st = set_const(g, n, 0, d, (size_t)total * es);
    return st == QLITE_OK ? done(g, n) : st;
}

static qlite_status fold_range(qlc_graph *g, qlc_node *n) {
    qlc_tensor *y = qlc_out_t(g, n, 0), *s = qlc_in_t(g, n, 0), *dl = qlc_in_t(g, n, 2);
    if (has_sym(s) || has_sym(qlc_in_t(g, n, 1))) return QLITE_ERR_UNSUPPORTED;
    uint64_t total = qlc_elements(y);
    size_t es = qlc_dtype_size(y->dtype);
    void *d = malloc(total ? (size_t)total * es : 1);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    bool ints = is_int(y->dtype);
    for (uint64_t i = 0; i < total; i++) {
        if (ints) put(d, y->dtype, i, 0, get_i(s, 0) + (int64_t)i * get_i(dl, 0), true);
        else put(d, y->dtype, i, get_d(s, 0) + (double)i * get_d(dl, 0), 0, false);
    }
    qlite_status st = set_const(g, n, 0, d, (size_t)total * es);
    return st == QLITE_OK ? done(g, n) : st;
}

static qlite_status fold_split(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    if (qlc_norm_axis(n, qlc_attr_int(n, "axis", 0), x->rank, &axis) != QLITE_OK)
        return QLITE_ERR_UNSUPPORTED;
    size_t es = qlc_dtype_size(x->dtype);
    uint64_t outer = 1, inner = 1;
    for (int32_t i = 0; i < axis; i++) outer *= (uint64_t)x->shape[i];
    for (int32_t i = axis + 1; i < x->rank; i++) inner *= (uint64_t)x->shape[i];
    int64_t pos = 0;
    for (uint32_t k = 0; k < n->num_outputs; k++) {
        qlc_tensor *y = qlc_out_t(g, n, k);
        int64_t len = y ? y->shape[axis] : 0;
        if (y) {
            uint64_t total = outer * (uint64_t)len * inner;
            uint8_t *d = malloc(total ? (size_t)total * es : 1);
            if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            for (uint64_t o = 0; o < outer; o++)
                memcpy(d + o * (uint64_t)len * inner * es,
                       (const uint8_t *)x->data + (o * (uint64_t)x->shape[axis] + (uint64_t)pos) * inner * es,
                       (size_t)((uint64_t)len * inner * es));
            qlite_status st = set_const(g, n, k, d, (size_t)total * es);
            if (st != QLITE_OK) return st;
        }
        pos += len;
    }
    return done(g, n);
}

qlite_status qlc_fold_generic(qlc_graph *g, qlc_node *n) {
    const char *op = n->op_type;
    for (uint32_t i = 0; i < n->num_outputs; i++) {
        qlc_tensor *y = qlc_out_t(g, n, i);
        if (y && y->rank < 0) return QLITE_ERR_UNSUPPORTED;
    }
    if (!strcmp(op, "Identity") || !strcmp(op, "Reshape") || !strcmp(op, "Flatten") ||
        !strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze") || !strcmp(op, "Dropout")) {
        if (!strcmp(op, "Dropout") && n->num_outputs > 1 && n->outputs[1] >= 0)
            return QLITE_ERR_UNSUPPORTED;
        return fold_copy(g, n);
    }
    if (!strcmp(op, "Cast")) return fold_cast(g, n);
    if (!strcmp(op, "Transpose")) return fold_transpose(g, n);
    if (!strcmp(op, "Concat")) return fold_concat(g, n);
    if (!strcmp(op, "Gather")) return fold_gather(g, n);
    if (!strcmp(op, "Slice") || !strcmp(op, "Expand") || !strcmp(op, "Tile"))
        return has_sym(qlc_in_t(g, n, 0)) && strcmp(op, "Slice") ? QLITE_ERR_UNSUPPORTED
                                                                  : fold_index_map(g, n);
    if (!strcmp(op, "ConstantOfShape")) return fold_constant_of_shape(g, n);
    if (!strcmp(op, "Range")) return fold_range(g, n);
    if (!strcmp(op, "Split")) return fold_split(g, n);
    return fold_elementwise(g, n);
}
