/*
 * weights.c — quantizing constants (docs/quantization.md §2.2, §2.3):
 * weights int8 symmetric per output channel (or per tensor), biases int32
 * at input_scale * weight_scale[c], other constants int8 asymmetric per
 * tensor. Every function makes a new constant tensor (a float constant may be
 * shared by several ops) named "<name>_int8" / "<name>_int32".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant_internal.h"

int32_t qlc_weight_axis(const qlc_node *n, uint32_t slot, const qlc_tensor *w) {
    switch (n->code) {
    case QLITE_OP_CONV_2D: case QLITE_OP_TRANSPOSE_CONV_2D: case QLITE_OP_FULLY_CONNECTED:
        return slot == 1 ? 0 : -1;
    case QLITE_OP_DEPTHWISE_CONV_2D:
        return slot == 1 ? 3 : -1;
    case QLITE_OP_BATCH_MATMUL:
        if (slot != 1 || w->rank < 2) return -1;
        return n->opts.u.batch_matmul.transpose_b ? w->rank - 2 : w->rank - 1;
    case QLITE_OP_LSTM: case QLITE_OP_GRU:
        return slot == 1 || slot == 2 ? 1 : -1;
    case QLITE_OP_GATHER:
        return slot == 0 && n->opts.u.gather.axis == 0 ? 0 : -1;
    default:
        return -1;
    }
}

/* The tensor viewed as [outer, channels, inner] around `axis`. */
static void split_axis(const qlc_tensor *t, int32_t axis, uint64_t *outer, uint64_t *ch,
                       uint64_t *inner) {
    *outer = *inner = 1;
    *ch = 1;
    for (int32_t d = 0; d < t->rank; d++) {
        uint64_t v = t->shape[d] < 0 ? 1 : (uint64_t)t->shape[d];
        if (d < axis) *outer *= v;
        else if (d == axis) *ch = v;
        else *inner *= v;
    }
}

static int32_t new_const_like(qlc_graph *g, int32_t ti, const char *suffix, qlite_dtype dt,
                              void *data, size_t bytes) {
    const qlc_tensor *t = g->tensors[ti];
    char name[640];
    qlc_unique_name(g, t->name, suffix, name, sizeof name);
    int64_t shape[QLITE_MAX_RANK];
    memcpy(shape, t->shape, sizeof shape);
    uint32_t cluster_k = t->cluster_k;
    int32_t id = qlc_add_const_owned(g, name, dt, t->rank, shape, data, bytes);
    if (id >= 0) {
        g->tensors[id]->cluster_k = cluster_k;
        g->tensors[id]->float_src = ti;
    }
    return id;
}

int32_t qlc_quantize_weight(qlc_graph *g, int32_t wi, int32_t axis, bool per_tensor,
                            const char *suffix, double *sqnr) {
    qlc_tensor *w = g->tensors[wi];
    float *wf = qlc_const_as_f32(w);
    if (!wf) {
        qlite_error(QLITE_ERR_UNSUPPORTED, "weight '%s' (%s) cannot be read as float", w->name,
                    qlite_dtype_name(w->dtype));
        return -1;
    }
    uint64_t n = qlc_elements(w), outer, ch, inner;
    bool fixed = w->qdq && w->quant.count > 0;
    if (fixed) {
        if (w->quant.count == 1) axis = -1;
        else axis = w->quant.axis;
    } else if (per_tensor || axis < 0 || axis >= w->rank) {
        axis = -1;
    } else if (w->cluster_k && axis != 0) {
        /* a clustered weight keeps one codebook per row of its 2-D view
         * (docs/quantization.md §8): per-channel scales along another axis
         * would give every row up to K x channels values, so it is quantized
         * per tensor */
        axis = -1;
    }
    if (axis >= 0) split_axis(w, axis, &outer, &ch, &inner);
    else outer = 1, ch = 1, inner = n;
    if (fixed && w->quant.count != ch) {
        free(wf);
        qlite_error(QLITE_ERR_CORRUPT, "weight '%s': %u scales for %llu channels", w->name,
                    w->quant.count, (unsigned long long)ch);
        return -1;
    }
    float *scale = malloc(ch * sizeof *scale);
    int32_t *zp = calloc(ch, sizeof *zp);
    int8_t *q = malloc(n ? n : 1);
    if (!scale || !zp || !q) {
        free(wf), free(scale), free(zp), free(q);
        qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    int32_t qmin = -127, qmax = 127;
    if (fixed) {
        qmin = -128;
        for (uint64_t c = 0; c < ch; c++) {
            scale[c] = w->quant.scale[c];
            zp[c] = w->quant.zero_point[c];
        }
    } else {
        for (uint64_t c = 0; c < ch; c++) {
            float amax = 0;
            for (uint64_t o = 0; o < outer; o++)
                for (uint64_t i = 0; i < inner; i++) {
                    float v = fabsf(wf[(o * ch + c) * inner + i]);
                    if (v > amax) amax = v;
                }
            if (qlite_choose_symmetric(amax, QLITE_DTYPE_INT8, &scale[c]) != QLITE_OK) {
                free(wf), free(scale), free(zp), free(q);
                qlite_error(QLITE_ERR_INVALID_ARGUMENT, "weight '%s' holds a NaN or an infinity",
                            w->name);
                return -1;
            }
        }
    }
    double sig = 0, noise = 0;
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t c = 0; c < ch; c++)
            for (uint64_t i = 0; i < inner; i++) {
                uint64_t k = (o * ch + c) * inner + i;
                int32_t v = qlite_quantize_value(wf[k], scale[c], zp[c], qmin, qmax);
                q[k] = (int8_t)v;
                /* dequantized as the kernels do: (q - zp) * scale in float32 (a QDQ
                 * weight's float values were made the same way: then exact) */
                double d = (double)((float)(v - zp[c]) * scale[c]) - wf[k];
                sig += (double)wf[k] * wf[k];
                noise += d * d;
            }
    if (sqnr) *sqnr = qlc_sqnr_db(sig, noise);
    free(wf);
    int32_t id = new_const_like(g, wi, suffix ? suffix : "_int8", QLITE_DTYPE_INT8, q,
                                (size_t)n);
    if (id >= 0 && qlc_quant_set(&g->tensors[id]->quant, (uint32_t)ch, axis < 0 ? 0 : axis, scale,
                                 zp) != QLITE_OK)
        id = -1;
    free(scale);
    free(zp);
    return id;
}

int32_t qlc_quantize_bias(qlc_graph *g, int32_t bi, float input_scale, const qlc_quant *wq,
                          int32_t out_channels) {
    qlc_tensor *b = g->tensors[bi];
    float *bf = qlc_const_as_f32(b);
    if (!bf) {
        qlite_error(QLITE_ERR_UNSUPPORTED, "bias '%s' cannot be read as float", b->name);
        return -1;
    }
    uint64_t n = qlc_elements(b);
    if ((int64_t)n != out_channels || (wq->count != 1 && wq->count != n)) {
        free(bf);
        qlite_error(QLITE_ERR_CORRUPT, "bias '%s' has %llu elements for %d output channels",
                    b->name, (unsigned long long)n, out_channels);
        return -1;
    }
    uint32_t count = wq->count;
    float *scale = malloc(count * sizeof *scale);
    int32_t *q = malloc((n ? n : 1) * sizeof *q);
    if (!scale || !q) {
        free(bf), free(scale), free(q);
        qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    for (uint32_t c = 0; c < count; c++) scale[c] = input_scale * wq->scale[c];
    for (uint64_t i = 0; i < n; i++) {
        float s = scale[count == 1 ? 0 : i];
        double v = s > 0 ? qlite_round_half_even_d((double)bf[i] / (double)s) : 0;
        if (!(v >= -2147483648.0 && v <= 2147483647.0)) {
            qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                        "bias '%s'[%llu] = %g does not fit int32 at scale %g (input scale x weight "
                        "scale): the input's range is degenerate",
                        b->name, (unsigned long long)i, (double)bf[i], (double)s);
            free(bf), free(scale), free(q);
            return -1;
        }
        q[i] = (int32_t)v;
    }
    free(bf);
    /* no Quantization on the bias: its scale is implied (docs/quantization.md §2.3) */
    int32_t id = new_const_like(g, bi, "_int32", QLITE_DTYPE_INT32, q, (size_t)n * 4);
    free(scale);
    return id;
}

int32_t qlc_quantize_const_with(qlc_graph *g, int32_t ti, float scale, int32_t zp) {
    qlc_tensor *t = g->tensors[ti];
    float *f = qlc_const_as_f32(t);
    if (!f) {
        qlite_error(QLITE_ERR_UNSUPPORTED, "constant '%s' cannot be read as float", t->name);
        return -1;
    }
    uint64_t n = qlc_elements(t);
    int8_t *q = malloc(n ? n : 1);
    if (!q) {
        free(f);
        qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    for (uint64_t i = 0; i < n; i++)
        q[i] = (int8_t)qlite_quantize_value(f[i], scale, zp, -128, 127);
    free(f);
    int32_t id = new_const_like(g, ti, "_int8", QLITE_DTYPE_INT8, q, (size_t)n);
    if (id >= 0 && qlc_quant_set(&g->tensors[id]->quant, 1, 0, &scale, &zp) != QLITE_OK) id = -1;
    return id;
}

int32_t qlc_quantize_const_asym(qlc_graph *g, int32_t ti, double *sqnr) {
    qlc_tensor *t = g->tensors[ti];
    float *f = qlc_const_as_f32(t);
    if (!f) {
        qlite_error(QLITE_ERR_UNSUPPORTED, "constant '%s' cannot be read as float", t->name);
        return -1;
    }
    uint64_t n = qlc_elements(t);
    float lo = 0, hi = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (f[i] < lo) lo = f[i];
        if (f[i] > hi) hi = f[i];
    }
    float scale;
    int32_t zp;
    if (qlite_choose_asymmetric(lo, hi, QLITE_DTYPE_INT8, &scale, &zp) != QLITE_OK) {
        free(f);
        qlite_error(QLITE_ERR_INVALID_ARGUMENT, "constant '%s' holds a NaN or an infinity",
                    t->name);
        return -1;
    }
    double sig = 0, noise = 0;
    for (uint64_t i = 0; i < n; i++) {
        int32_t v = qlite_quantize_value(f[i], scale, zp, -128, 127);
        double d = (double)scale * (v - zp) - f[i];
        sig += (double)f[i] * f[i];
        noise += d * d;
    }
    free(f);
    if (sqnr) *sqnr = qlc_sqnr_db(sig, noise);
    return qlc_quantize_const_with(g, ti, scale, zp);
}
