/*
 * ops_util.c — helpers shared by the per-op files (see ops.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

qlite_status qlc_need_input(const qlc_graph *g, const qlc_node *n, uint32_t i) {
    qlc_tensor *t = qlc_in_t(g, n, i);
    if (!t) return qlc_node_error(n, QLITE_ERR_CORRUPT, "required input %u is missing", i);
    if (t->rank < 0)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "the shape of input %u ('%s') is unknown", i,
                              t->name);
    return QLITE_OK;
}

/* Input i as a constant: *out is the tensor, or NULL when an optional
 * input is absent. A missing required input or one without a value at
 * conversion time is an error. */
static qlite_status const_input(const qlc_graph *g, const qlc_node *n, uint32_t i, bool optional,
                                qlc_tensor **out) {
    *out = NULL;
    qlc_tensor *t = qlc_in_t(g, n, i);
    if (!t) {
        if (optional) return QLITE_OK;
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "required input %u is missing", i);
    }
    if (!t->data)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "input %u ('%s') must be a constant: qlite needs its value at "
                              "conversion time", i, t->name);
    *out = t;
    return QLITE_OK;
}

qlite_status qlc_const_ints(const qlc_graph *g, const qlc_node *n, uint32_t i, bool optional,
                            int64_t **vals, size_t *count) {
    *vals = NULL;
    *count = 0;
    qlc_tensor *t;
    qlite_status st = const_input(g, n, i, optional, &t);
    if (st || !t) return st;
    int64_t *v = qlc_const_as_i64(t);
    if (!v) return qlc_node_error(n, QLITE_ERR_CORRUPT, "input %u ('%s') is not an integer tensor",
                                  i, t->name);
    *vals = v;
    *count = (size_t)qlc_elements(t);
    return QLITE_OK;
}

qlite_status qlc_const_floats(const qlc_graph *g, const qlc_node *n, uint32_t i, bool optional,
                              float **vals, size_t *count) {
    *vals = NULL;
    *count = 0;
    qlc_tensor *t;
    qlite_status st = const_input(g, n, i, optional, &t);
    if (st || !t) return st;
    float *v = qlc_const_as_f32(t);
    if (!v) return qlc_node_error(n, QLITE_ERR_CORRUPT, "input %u ('%s') is not numeric", i,
                                  t->name);
    *vals = v;
    *count = (size_t)qlc_elements(t);
    return QLITE_OK;
}

qlite_status qlc_norm_axis(const qlc_node *n, int64_t axis, int32_t rank, int32_t *out) {
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= (rank ? rank : 1))
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "axis %lld is out of range for rank %d",
                              (long long)axis, (int)rank);
    *out = (int32_t)a;
    return QLITE_OK;
}

qlite_status qlc_broadcast(const qlc_node *n, int32_t ra, const int64_t *a, int32_t rb,
                           const int64_t *b, int32_t *rout, int64_t *out) {
    int32_t r = ra > rb ? ra : rb;
    int64_t tmp[QLITE_MAX_RANK];
    for (int32_t i = 0; i < r; i++) {
        int32_t ia = i - (r - ra), ib = i - (r - rb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        int64_t d;
        if (da == db) d = da;
        else if (da == 1) d = db;
        else if (db == 1) d = da;
        else if (da == -1) d = db; /* dynamic batch against a fixed size */
        else if (db == -1) d = da;
        else {
            char sa[128], sb[128];
            return qlc_node_error(n, QLITE_ERR_SHAPE, "shapes %s and %s do not broadcast",
                                  qlc_shape_str(ra, a, sa, sizeof sa),
                                  qlc_shape_str(rb, b, sb, sizeof sb));
        }
        tmp[i] = d;
    }
    memcpy(out, tmp, (size_t)r * sizeof *out);
    *rout = r;
    return QLITE_OK;
}

void qlc_set_out(qlc_graph *g, qlc_node *n, uint32_t i, qlite_dtype dt, int32_t rank,
                 const int64_t *shape) {
    qlc_tensor *t = qlc_out_t(g, n, i);
    if (!t) return;
    t->dtype = dt;
    qlc_tensor_set_shape(t, rank, shape);
}

int32_t qlc_new_act(qlc_graph *g, int32_t base, const char *suffix, qlite_dtype dt, int32_t rank,
                    const int64_t *shape) {
    int32_t t = qlc_add_tensor_like(g, base >= 0 ? g->tensors[base]->name : "t", suffix, dt, rank,
                                    shape);
    /* the same values in another layout keep an integer tensor's per-tensor
     * parameters (a per-channel axis would move: not copied) */
    if (t >= 0 && base >= 0) {
        const qlc_tensor *b = g->tensors[base];
        qlc_tensor *nt = g->tensors[t];
        if (b->dtype == dt && b->quant.count == 1 && dt != QLITE_DTYPE_FLOAT32 &&
            dt != QLITE_DTYPE_FLOAT16) {
            nt->quant.scale = malloc(sizeof(float));
            nt->quant.zero_point = malloc(sizeof(int32_t));
            if (nt->quant.scale && nt->quant.zero_point) {
                nt->quant.scale[0] = b->quant.scale[0];
                nt->quant.zero_point[0] = b->quant.zero_point[0];
                nt->quant.count = 1;
            }
        }
    }
    return t;
}

void qlc_perm_to_nhwc(int32_t r, int32_t *perm) {
    perm[0] = 0;
    for (int32_t i = 1; i < r - 1; i++) perm[i] = i + 1;
    perm[r - 1] = 1;
}

void qlc_perm_to_nchw(int32_t r, int32_t *perm) {
    perm[0] = 0;
    perm[1] = r - 1;
    for (int32_t i = 2; i < r; i++) perm[i] = i - 1;
}

void qlc_permute_shape(int32_t r, const int64_t *in, const int32_t *perm, int64_t *out) {
    int64_t tmp[QLITE_MAX_RANK];
    for (int32_t i = 0; i < r; i++) tmp[i] = in[perm[i]];
    memcpy(out, tmp, (size_t)r * sizeof *out);
}

int32_t qlc_emit_transpose(qlc_graph *g, const char *name, const char *op_type, int32_t in,
                           const int32_t *perm, int32_t out) {
    qlc_tensor *ti = g->tensors[in];
    int32_t r = ti->rank;
    int64_t shape[QLITE_MAX_RANK];
    qlc_permute_shape(r, ti->shape, perm, shape);
    if (out < 0) out = qlc_new_act(g, in, perm[1] == r - 1 ? "_nchw" : "_nhwc", ti->dtype, r,
                                   shape);
    if (out < 0) return -1;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_TRANSPOSE, &o);
    qlc_node *n = qlc_add_op(g, name, op_type, QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out);
    if (!n) return -1;
    int32_t *p = qlc_node_own(n, 0, perm, (size_t)r * sizeof *perm);
    if (!p) return -1;
    n->opts.u.transpose.rank = (uint32_t)r;
    n->opts.u.transpose.perm = p;
    return out;
}

int32_t qlc_emit_reshape(qlc_graph *g, const char *name, const char *op_type, int32_t in,
                         int32_t rank, const int64_t *shape, int32_t out) {
    qlc_tensor *ti = g->tensors[in];
    if (out < 0) out = qlc_new_act(g, in, "_reshaped", ti->dtype, rank, shape);
    if (out < 0) return -1;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_RESHAPE, &o);
    qlc_node *n = qlc_add_op(g, name, op_type, QLITE_OP_RESHAPE, &o, 1, &in, 1, &out);
    if (!n) return -1;
    int64_t *s = qlc_node_own(n, 0, shape, (size_t)rank * sizeof *shape);
    if (!s) return -1;
    n->opts.u.reshape.rank = (uint32_t)rank;
    n->opts.u.reshape.new_shape = s;
    return out;
}

void *qlc_transpose_data(const void *data, size_t esize, int32_t rank, const int64_t *shape,
                         const int32_t *perm) {
    uint64_t n = 1;
    for (int32_t i = 0; i < rank; i++) n *= (uint64_t)shape[i];
    uint8_t *out = malloc(n ? (size_t)(n * esize) : 1);
    if (!out) return NULL;
    /* strides of the input */
    uint64_t istride[QLITE_MAX_RANK], oshape[QLITE_MAX_RANK];
    uint64_t s = 1;
    for (int32_t i = rank - 1; i >= 0; i--) {
        istride[i] = s;
        s *= (uint64_t)shape[i];
    }
    for (int32_t i = 0; i < rank; i++) oshape[i] = (uint64_t)shape[perm[i]];
    uint64_t idx[QLITE_MAX_RANK] = {0};
    for (uint64_t o = 0; o < n; o++) {
        uint64_t src = 0;
        for (int32_t i = 0; i < rank; i++) src += idx[i] * istride[perm[i]];
        memcpy(out + o * esize, (const uint8_t *)data + src * esize, esize);
        for (int32_t i = rank - 1; i >= 0; i--) {
            if (++idx[i] < oshape[i]) break;
            idx[i] = 0;
        }
    }
    return out;
}
