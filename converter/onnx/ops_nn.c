/*
 * ops_nn.c — Conv, ConvTranspose, MaxPool/AveragePool, Global*Pool, Gemm,
 * MatMul, BatchNormalization, LayerNormalization.
 *
 * Spatial ops run NHWC in qlite. Lowering wraps them in transposes:
 *   rank 4 (N,C,H,W): x -> TRANSPOSE(0,2,3,1) -> op -> TRANSPOSE(0,3,1,2) -> y
 *   rank 3 (N,C,L):   x -> TRANSPOSE(0,2,1) -> RESHAPE(N,1,L,C) -> op
 *                       -> RESHAPE(N,L',C') -> TRANSPOSE(0,2,1) -> y
 * and the layout pass removes the pairs that meet.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* ---- geometry ------------------------------------------------------------------- */

typedef struct geom {
    int32_t nsp;                  /* spatial dims: 1 or 2 */
    int64_t k[2], s[2], d[2], pb[2], pe[2], out[2], in[2], opad[2];
    bool ceil_mode;
} geom;

/* Reads kernel/strides/dilations/pads/auto_pad and computes output sizes.
 * kernel: from the weight (conv) or kernel_shape (pool). */
static qlite_status spatial_geom(const qlc_graph *g, const qlc_node *n, const qlc_tensor *x,
                                 const int64_t *kernel, bool transpose, geom *o) {
    (void)g;
    memset(o, 0, sizeof *o);
    int32_t nsp = x->rank - 2;
    if (nsp < 1 || nsp > 2)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "input rank %d: only 1-D and 2-D convolutions/pools are supported",
                              (int)x->rank);
    o->nsp = nsp;
    size_t c;
    const int64_t *ks = qlc_attr_ints(n, "kernel_shape", &c);
    for (int32_t i = 0; i < nsp; i++) {
        o->k[i] = kernel ? kernel[i] : (ks && c == (size_t)nsp ? ks[i] : -1);
        if (ks && c == (size_t)nsp && kernel && ks[i] != kernel[i])
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "kernel_shape does not match the weight");
        if (o->k[i] <= 0)
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "kernel_shape is missing or invalid");
        o->in[i] = x->shape[2 + i];
        if (o->in[i] < 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "spatial dimension is dynamic");
        o->s[i] = o->d[i] = 1;
    }
    const int64_t *v;
    if ((v = qlc_attr_ints(n, "strides", &c)) && c) {
        if (c != (size_t)nsp) return qlc_node_error(n, QLITE_ERR_CORRUPT, "strides has %zu values", c);
        for (int32_t i = 0; i < nsp; i++) o->s[i] = v[i];
    }
    if ((v = qlc_attr_ints(n, "dilations", &c)) && c) {
        if (c != (size_t)nsp) return qlc_node_error(n, QLITE_ERR_CORRUPT, "dilations has %zu values", c);
        for (int32_t i = 0; i < nsp; i++) o->d[i] = v[i];
    }
    for (int32_t i = 0; i < nsp; i++)
        if (o->s[i] <= 0 || o->d[i] <= 0)
            return qlc_node_error(n, QLITE_ERR_CORRUPT, "strides and dilations must be positive");
    if ((v = qlc_attr_ints(n, "pads", &c)) && c) {
        if (c != (size_t)(2 * nsp)) return qlc_node_error(n, QLITE_ERR_CORRUPT, "pads has %zu values", c);
        for (int32_t i = 0; i < nsp; i++) {
            o->pb[i] = v[i];
            o->pe[i] = v[nsp + i];
            if (o->pb[i] < 0 || o->pe[i] < 0)
                return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "negative pads");
        }
    }
    if (transpose && (v = qlc_attr_ints(n, "output_padding", &c)) && c) {
        if (c != (size_t)nsp) return qlc_node_error(n, QLITE_ERR_CORRUPT, "output_padding has %zu values", c);
        for (int32_t i = 0; i < nsp; i++) o->opad[i] = v[i];
    }
    o->ceil_mode = qlc_attr_int(n, "ceil_mode", 0) != 0;
    const char *ap = qlc_attr_str(n, "auto_pad", "NOTSET");
    bool same_upper = !strcmp(ap, "SAME_UPPER"), same_lower = !strcmp(ap, "SAME_LOWER");
    bool valid = !strcmp(ap, "VALID");
    if (!same_upper && !same_lower && !valid && strcmp(ap, "NOTSET") != 0)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "unknown auto_pad '%s'", ap);
    const int64_t *os = transpose ? qlc_attr_ints(n, "output_shape", &c) : NULL;
    if (os && c != (size_t)nsp && c != (size_t)x->rank)
        return qlc_node_error(n, QLITE_ERR_CORRUPT, "output_shape has %zu values", c);
    if (os && c == (size_t)x->rank) os += 2;
    for (int32_t i = 0; i < nsp; i++) {
        int64_t ek = (o->k[i] - 1) * o->d[i] + 1;
        if (!transpose) {
            if (valid) o->pb[i] = o->pe[i] = 0;
            if (same_upper || same_lower) {
                int64_t out = (o->in[i] + o->s[i] - 1) / o->s[i];
                int64_t total = (out - 1) * o->s[i] + ek - o->in[i];
                if (total < 0) total = 0;
                o->pb[i] = same_upper ? total / 2 : total - total / 2;
                o->pe[i] = total - o->pb[i];
            }
            int64_t span = o->in[i] + o->pb[i] + o->pe[i] - ek;
            if (span < 0)
                return qlc_node_error(n, QLITE_ERR_SHAPE,
                                      "the kernel (%lld) is larger than the padded input (%lld)",
                                      (long long)ek, (long long)(o->in[i] + o->pb[i] + o->pe[i]));
            int64_t out = span / o->s[i] + 1;
            if (o->ceil_mode) {
                out = (span + o->s[i] - 1) / o->s[i] + 1;
                if ((out - 1) * o->s[i] >= o->in[i] + o->pb[i]) out--;
            }
            o->out[i] = out;
        } else {
            int64_t full = o->s[i] * (o->in[i] - 1) + o->opad[i] + ek;
            if (os || same_upper || same_lower) {
                int64_t out = os ? os[i] : o->in[i] * o->s[i];
                int64_t total = full - out;
                if (total < 0) { /* the extra rows come from output padding */
                    o->opad[i] += -total;
                    full += -total;
                    total = 0;
                }
                /* ONNX: SAME_UPPER puts the smaller half first */
                if (same_lower) {
                    o->pb[i] = total - total / 2;
                    o->pe[i] = total / 2;
                } else {
                    o->pb[i] = total / 2;
                    o->pe[i] = total - total / 2;
                }
            } else if (valid) {
                o->pb[i] = o->pe[i] = 0;
            }
            o->out[i] = full - o->pb[i] - o->pe[i];
        }
        if (o->out[i] <= 0)
            return qlc_node_error(n, QLITE_ERR_SHAPE, "output spatial size %lld is not positive",
                                  (long long)o->out[i]);
    }
    return QLITE_OK;
}

/* Wraps a NHWC op around x (rank 3 or 4): makes the NHWC input and the NHWC
 * output tensor (channels `oc`), then the caller adds the op, then
 * finish_spatial writes the ONNX-layout output. */
typedef struct spatial_io {
    int32_t rank;
    int32_t x_nhwc;   /* op input */
    int32_t y_nhwc;   /* op output */
} spatial_io;

static qlite_status begin_spatial(qlc_graph *g, qlc_node *n, const geom *ge, int64_t oc,
                                  spatial_io *io) {
    int32_t x = n->inputs[0];
    qlc_tensor *xt = g->tensors[x];
    io->rank = xt->rank;
    int64_t yshape[4];
    if (xt->rank == 4) {
        int32_t p[4];
        qlc_perm_to_nhwc(4, p);
        io->x_nhwc = qlc_emit_transpose(g, NULL, n->op_type, x, p, -1);
        yshape[0] = xt->shape[0];
        yshape[1] = ge->out[0];
        yshape[2] = ge->out[1];
        yshape[3] = oc;
    } else {
        int32_t p[3] = {0, 2, 1};
        int32_t xl = qlc_emit_transpose(g, NULL, n->op_type, x, p, -1);
        if (xl < 0) return QLITE_ERR_NO_MEMORY;
        int64_t s4[4] = {xt->shape[0], 1, xt->shape[2], xt->shape[1]};
        io->x_nhwc = qlc_emit_reshape(g, NULL, n->op_type, xl, 4, s4, -1);
        yshape[0] = xt->shape[0];
        yshape[1] = 1;
        yshape[2] = ge->out[0];
        yshape[3] = oc;
    }
    if (io->x_nhwc < 0) return QLITE_ERR_NO_MEMORY;
    io->y_nhwc = qlc_new_act(g, n->outputs[0], "_nhwc", xt->dtype, 4, yshape);
    return io->y_nhwc < 0 ? QLITE_ERR_NO_MEMORY : QLITE_OK;
}

static qlite_status finish_spatial(qlc_graph *g, qlc_node *n, const spatial_io *io) {
    int32_t y = n->outputs[0];
    qlc_tensor *yn = g->tensors[io->y_nhwc];
    if (io->rank == 4) {
        int32_t p[4];
        qlc_perm_to_nchw(4, p);
        if (qlc_emit_transpose(g, NULL, n->op_type, io->y_nhwc, p, y) < 0) return QLITE_ERR_NO_MEMORY;
    } else {
        int64_t s3[3] = {yn->shape[0], yn->shape[2], yn->shape[3]};
        int32_t r = qlc_emit_reshape(g, NULL, n->op_type, io->y_nhwc, 3, s3, -1);
        if (r < 0) return QLITE_ERR_NO_MEMORY;
        int32_t p[3] = {0, 2, 1};
        if (qlc_emit_transpose(g, NULL, n->op_type, r, p, y) < 0) return QLITE_ERR_NO_MEMORY;
    }
    qlc_remove_node(g, n);
    return QLITE_OK;
}

static void conv_opts(const geom *ge, qlite_op_options *o) {
    qlite_op_options_default(QLITE_OPTIONS_CONV_2D, o);
    qlite_conv2d_options *c = &o->u.conv2d;
    if (ge->nsp == 2) {
        c->stride_h = (int32_t)ge->s[0]; c->stride_w = (int32_t)ge->s[1];
        c->dilation_h = (int32_t)ge->d[0]; c->dilation_w = (int32_t)ge->d[1];
        c->pad_top = (int32_t)ge->pb[0]; c->pad_left = (int32_t)ge->pb[1];
        c->pad_bottom = (int32_t)ge->pe[0]; c->pad_right = (int32_t)ge->pe[1];
        c->output_pad_h = (int32_t)ge->opad[0]; c->output_pad_w = (int32_t)ge->opad[1];
    } else {
        c->stride_w = (int32_t)ge->s[0];
        c->dilation_w = (int32_t)ge->d[0];
        c->pad_left = (int32_t)ge->pb[0];
        c->pad_right = (int32_t)ge->pe[0];
        c->output_pad_w = (int32_t)ge->opad[0];
    }
}

static qlite_status need_f32_act(const qlc_graph *g, const qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "input type %s: float32 only",
                              qlite_dtype_name(x->dtype));
    return QLITE_OK;
}

/* ---- Conv ----------------------------------------------------------------------- */

qlite_status qlc_infer_conv(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    if ((st = qlc_need_input(g, n, 0)) != QLITE_OK || (st = qlc_need_input(g, n, 1)) != QLITE_OK)
        return st;
    qlc_tensor *x = qlc_in_t(g, n, 0), *w = qlc_in_t(g, n, 1);
    if (w->rank != x->rank)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "weight rank %d does not match input rank %d",
                              (int)w->rank, (int)x->rank);
    int64_t groups = qlc_attr_int(n, "group", 1);
    if (groups <= 0 || x->shape[1] % groups || w->shape[1] * groups != x->shape[1] ||
        w->shape[0] % groups)
        return qlc_node_error(n, QLITE_ERR_SHAPE,
                              "input channels %lld, weight %lldx%lld and group %lld do not fit",
                              (long long)x->shape[1], (long long)w->shape[0],
                              (long long)w->shape[1], (long long)groups);
    geom ge;
    if ((st = spatial_geom(g, n, x, w->shape + 2, false, &ge)) != QLITE_OK) return st;
    int64_t s[4] = {x->shape[0], w->shape[0], ge.out[0], ge.out[1]};
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

qlite_status qlc_lower_conv(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0), *w = qlc_in_t(g, n, 1), *b = qlc_in_t(g, n, 2);
    if (!w->data)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                              "the weight '%s' is not a constant", w->name);
    if (b && !b->data)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "the bias '%s' is not a constant",
                              b->name);
    geom ge;
    if ((st = spatial_geom(g, n, x, w->shape + 2, false, &ge)) != QLITE_OK) return st;
    int64_t groups = qlc_attr_int(n, "group", 1);
    int64_t cin = x->shape[1], cout = w->shape[0];
    int64_t kh = ge.nsp == 2 ? ge.k[0] : 1, kw = ge.nsp == 2 ? ge.k[1] : ge.k[0];
    float *wf = qlc_const_as_f32(w);
    if (!wf) return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "weight type not supported");
    /* weight viewed as [O, I/g, KH, KW] */
    int64_t w4[4] = {cout, w->shape[1], kh, kw};
    bool depthwise = groups > 1 && groups == cin;
    void *wt;
    int64_t wshape[4];
    qlite_op_code code;
    if (depthwise) { /* [C*M, 1, KH, KW] -> [1, KH, KW, C*M] */
        int32_t p[4] = {1, 2, 3, 0};
        wt = qlc_transpose_data(wf, 4, 4, w4, p);
        qlc_permute_shape(4, w4, p, wshape);
        code = QLITE_OP_DEPTHWISE_CONV_2D;
    } else { /* [O, I/g, KH, KW] -> [O, KH, KW, I/g] */
        int32_t p[4] = {0, 2, 3, 1};
        wt = qlc_transpose_data(wf, 4, 4, w4, p);
        qlc_permute_shape(4, w4, p, wshape);
        code = QLITE_OP_CONV_2D;
    }
    free(wf);
    if (!wt) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    int32_t wi = qlc_add_const_owned(g, w->name, QLITE_DTYPE_FLOAT32, 4, wshape, wt,
                                     (size_t)(cout * w->shape[1] * kh * kw) * 4);
    if (wi < 0) return QLITE_ERR_NO_MEMORY;
    g->tensors[wi]->layout = QLC_LAYOUT_NHWC;
    /* QDQ weight parameters per output channel (ONNX axis 0) */
    w = qlc_in_t(g, n, 1);
    qlc_carry_qdq(g, wi, n->inputs[1], w->quant.count > 1 && w->quant.axis != 0 ? -1
                                       : (depthwise ? 3 : 0));
    int32_t bi = -1;
    if (b) {
        if (qlc_elements(b) != (uint64_t)cout)
            return qlc_node_error(n, QLITE_ERR_SHAPE, "bias has %llu values for %lld channels",
                                  (unsigned long long)qlc_elements(b), (long long)cout);
        float *bf = qlc_const_as_f32(b);
        if (!bf) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        int64_t bs[1] = {cout};
        bi = qlc_add_const_owned(g, b->name, QLITE_DTYPE_FLOAT32, 1, bs, bf, (size_t)cout * 4);
        if (bi < 0) return QLITE_ERR_NO_MEMORY;
    }
    qlite_op_options o;
    conv_opts(&ge, &o);
    o.u.conv2d.groups = depthwise ? (int32_t)(cout / cin) : (int32_t)groups;
    spatial_io io;
    if ((st = begin_spatial(g, n, &ge, cout, &io)) != QLITE_OK) return st;
    int32_t ins[3] = {io.x_nhwc, wi, bi};
    if (!qlc_add_op(g, n->name, n->op_type, code, &o, 3, ins, 1, &io.y_nhwc))
        return QLITE_ERR_NO_MEMORY;
    return finish_spatial(g, n, &io);
}

/* ---- ConvTranspose ----------------------------------------------------------------- */

qlite_status qlc_infer_conv_transpose(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    if ((st = qlc_need_input(g, n, 0)) != QLITE_OK || (st = qlc_need_input(g, n, 1)) != QLITE_OK)
        return st;
    qlc_tensor *x = qlc_in_t(g, n, 0), *w = qlc_in_t(g, n, 1);
    int64_t groups = qlc_attr_int(n, "group", 1);
    if (w->rank != x->rank || groups <= 0 || w->shape[0] != x->shape[1] || x->shape[1] % groups)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "weight shape does not fit the input");
    geom ge;
    if ((st = spatial_geom(g, n, x, w->shape + 2, true, &ge)) != QLITE_OK) return st;
    int64_t s[4] = {x->shape[0], w->shape[1] * groups, ge.out[0], ge.out[1]};
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

qlite_status qlc_lower_conv_transpose(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0), *w = qlc_in_t(g, n, 1), *b = qlc_in_t(g, n, 2);
    if (!w->data || (b && !b->data))
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "weight and bias must be constants");
    geom ge;
    if ((st = spatial_geom(g, n, x, w->shape + 2, true, &ge)) != QLITE_OK) return st;
    int64_t groups = qlc_attr_int(n, "group", 1);
    int64_t cin = x->shape[1], opg = w->shape[1], cout = opg * groups, ipg = cin / groups;
    int64_t kh = ge.nsp == 2 ? ge.k[0] : 1, kw = ge.nsp == 2 ? ge.k[1] : ge.k[0];
    float *wf = qlc_const_as_f32(w);
    float *wt = malloc((size_t)(cin * opg * kh * kw) * 4);
    if (!wf || !wt) {
        free(wf);
        free(wt);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    /* ONNX [Cin, O/g, KH, KW] -> qlite [O, KH, KW, Cin/g] */
    for (int64_t ci = 0; ci < cin; ci++)
        for (int64_t oc = 0; oc < opg; oc++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t xx = 0; xx < kw; xx++) {
                    int64_t grp = ci / ipg, o = grp * opg + oc, j = ci % ipg;
                    wt[((o * kh + y) * kw + xx) * ipg + j] = wf[((ci * opg + oc) * kh + y) * kw + xx];
                }
    free(wf);
    int64_t ws[4] = {cout, kh, kw, ipg};
    int32_t wi = qlc_add_const_owned(g, w->name, QLITE_DTYPE_FLOAT32, 4, ws, wt,
                                     (size_t)(cin * opg * kh * kw) * 4);
    if (wi < 0) return QLITE_ERR_NO_MEMORY;
    /* QDQ parameters per output channel: ONNX axis 1 ([Cin, O/g, ...]), one group only */
    w = qlc_in_t(g, n, 1);
    qlc_carry_qdq(g, wi, n->inputs[1], w->quant.count > 1 && (w->quant.axis != 1 || groups != 1)
                                           ? -1 : 0);
    int32_t bi = -1;
    if (b) {
        float *bf = qlc_const_as_f32(b);
        if (!bf || qlc_elements(b) != (uint64_t)cout) {
            free(bf);
            return qlc_node_error(n, QLITE_ERR_SHAPE, "bias size does not match the channels");
        }
        int64_t bs[1] = {cout};
        if ((bi = qlc_add_const_owned(g, b->name, QLITE_DTYPE_FLOAT32, 1, bs, bf,
                                      (size_t)cout * 4)) < 0)
            return QLITE_ERR_NO_MEMORY;
    }
    qlite_op_options o;
    conv_opts(&ge, &o);
    o.u.conv2d.groups = (int32_t)groups;
    spatial_io io;
    if ((st = begin_spatial(g, n, &ge, cout, &io)) != QLITE_OK) return st;
    int32_t ins[3] = {io.x_nhwc, wi, bi};
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_TRANSPOSE_CONV_2D, &o, 3, ins, 1, &io.y_nhwc))
        return QLITE_ERR_NO_MEMORY;
    return finish_spatial(g, n, &io);
}

/* ---- pools ------------------------------------------------------------------------ */

qlite_status qlc_infer_pool(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    geom ge;
    if ((st = spatial_geom(g, n, x, NULL, false, &ge)) != QLITE_OK) return st;
    int64_t s[4] = {x->shape[0], x->shape[1], ge.out[0], ge.out[1]};
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    if (n->num_outputs > 1) qlc_set_out(g, n, 1, QLITE_DTYPE_INT64, x->rank, s);
    return QLITE_OK;
}

qlite_status qlc_lower_pool(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    if (n->num_outputs > 1 && n->outputs[1] >= 0 && qlc_has_other_uses(g, n->outputs[1], 0))
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "the Indices output is not supported");
    if (qlc_attr_int(n, "storage_order", 0) != 0 && n->num_outputs > 1)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "storage_order=1 is not supported");
    qlc_tensor *x = qlc_in_t(g, n, 0);
    geom ge;
    if ((st = spatial_geom(g, n, x, NULL, false, &ge)) != QLITE_OK) return st;
    bool maxp = strcmp(n->op_type, "MaxPool") == 0;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_POOL_2D, &o);
    qlite_pool2d_options *p = &o.u.pool2d;
    int32_t a = ge.nsp == 2 ? 0 : -1, b = ge.nsp == 2 ? 1 : 0;
    p->filter_h = a >= 0 ? (int32_t)ge.k[a] : 1;
    p->filter_w = (int32_t)ge.k[b];
    p->stride_h = a >= 0 ? (int32_t)ge.s[a] : 1;
    p->stride_w = (int32_t)ge.s[b];
    p->dilation_h = a >= 0 ? (int32_t)ge.d[a] : 1;
    p->dilation_w = (int32_t)ge.d[b];
    p->pad_top = a >= 0 ? (int32_t)ge.pb[a] : 0;
    p->pad_bottom = a >= 0 ? (int32_t)ge.pe[a] : 0;
    p->pad_left = (int32_t)ge.pb[b];
    p->pad_right = (int32_t)ge.pe[b];
    p->ceil_mode = ge.ceil_mode;
    p->count_include_pad = qlc_attr_int(n, "count_include_pad", 0) != 0;
    spatial_io io;
    if ((st = begin_spatial(g, n, &ge, x->shape[1], &io)) != QLITE_OK) return st;
    if (!qlc_add_op(g, n->name, n->op_type, maxp ? QLITE_OP_MAX_POOL_2D : QLITE_OP_AVERAGE_POOL_2D,
                    &o, 1, &io.x_nhwc, 1, &io.y_nhwc))
        return QLITE_ERR_NO_MEMORY;
    return finish_spatial(g, n, &io);
}

qlite_status qlc_infer_global_pool(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->rank < 3) return qlc_node_error(n, QLITE_ERR_SHAPE, "input rank %d < 3", (int)x->rank);
    int64_t s[QLITE_MAX_RANK];
    memcpy(s, x->shape, sizeof s);
    for (int32_t i = 2; i < x->rank; i++) s[i] = 1;
    qlc_set_out(g, n, 0, x->dtype, x->rank, s);
    return QLITE_OK;
}

/* GlobalAveragePool / GlobalMaxPool -> REDUCE_MEAN / REDUCE_MAX over the
 * spatial axes with keep_dims (the layout pass renumbers the axes). */
qlite_status qlc_lower_global_pool(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_REDUCE, &o);
    bool maxp = strcmp(n->op_type, "GlobalMaxPool") == 0;
    qlc_node *r = qlc_add_op(g, n->name, n->op_type, maxp ? QLITE_OP_REDUCE_MAX : QLITE_OP_REDUCE_MEAN,
                             &o, 1, n->inputs, 1, n->outputs);
    if (!r) return QLITE_ERR_NO_MEMORY;
    int32_t axes[QLITE_MAX_RANK];
    for (int32_t i = 2; i < x->rank; i++) axes[i - 2] = i;
    int32_t *ax = qlc_node_own(r, 0, axes, (size_t)(x->rank - 2) * sizeof *axes);
    if (!ax) return QLITE_ERR_NO_MEMORY;
    r->opts.u.reduce.axes = ax;
    r->opts.u.reduce.count = (uint32_t)(x->rank - 2);
    r->opts.u.reduce.keep_dims = true;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- MatMul / Gemm ---------------------------------------------------------------- */

qlite_status qlc_infer_matmul(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    if ((st = qlc_need_input(g, n, 0)) != QLITE_OK || (st = qlc_need_input(g, n, 1)) != QLITE_OK)
        return st;
    qlc_tensor *a = qlc_in_t(g, n, 0), *b = qlc_in_t(g, n, 1);
    if (a->rank < 1 || b->rank < 1)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "MatMul of a scalar");
    int64_t as[QLITE_MAX_RANK], bs[QLITE_MAX_RANK];
    int32_t ra = a->rank, rb = b->rank;
    memcpy(as, a->shape, sizeof as);
    memcpy(bs, b->shape, sizeof bs);
    if (ra == 1) { as[1] = as[0]; as[0] = 1; ra = 2; }
    if (rb == 1) { bs[1] = 1; rb = 2; }
    if (as[ra - 1] != bs[rb - 2] && as[ra - 1] >= 0 && bs[rb - 2] >= 0) {
        char s1[128], s2[128];
        return qlc_node_error(n, QLITE_ERR_SHAPE, "cannot multiply %s by %s",
                              qlc_shape_str(a->rank, a->shape, s1, sizeof s1),
                              qlc_shape_str(b->rank, b->shape, s2, sizeof s2));
    }
    int32_t r;
    int64_t s[QLITE_MAX_RANK];
    if ((st = qlc_broadcast(n, ra - 2, as, rb - 2, bs, &r, s)) != QLITE_OK) return st;
    s[r] = as[ra - 2];
    s[r + 1] = bs[rb - 1];
    r += 2;
    /* drop the dims added for 1-D operands */
    if (b->rank == 1) r--;
    if (a->rank == 1) {
        s[r - (b->rank == 1 ? 1 : 2)] = s[r - 1];
        r--;
    }
    qlc_set_out(g, n, 0, a->dtype, r, s);
    return QLITE_OK;
}

/* Adds FULLY_CONNECTED(x, W[O,I], bias) -> out. */
static qlc_node *add_fc(qlc_graph *g, qlc_node *n, int32_t x, int32_t w, int32_t bias, int32_t out) {
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    o.u.fully_connected.keep_num_dims = true;
    int32_t ins[3] = {x, w, bias};
    return qlc_add_op(g, n->name, n->op_type, QLITE_OP_FULLY_CONNECTED, &o, 3, ins, 1, &out);
}

/* W[O,I] constant from B (transposed when b_is_KN), scaled. */
static int32_t fc_weight(qlc_graph *g, const qlc_tensor *b, bool b_is_kn, float scale) {
    float *bf = qlc_const_as_f32(b);
    if (!bf) return -1;
    int64_t k = b_is_kn ? b->shape[0] : b->shape[1], o = b_is_kn ? b->shape[1] : b->shape[0];
    float *w = malloc((size_t)(k * o) * 4);
    if (!w) {
        free(bf);
        return -1;
    }
    for (int64_t i = 0; i < o; i++)
        for (int64_t j = 0; j < k; j++)
            w[i * k + j] = scale * (b_is_kn ? bf[j * o + i] : bf[i * k + j]);
    free(bf);
    int64_t ws[2] = {o, k};
    int32_t wi = qlc_add_const_owned(g, b->name, QLITE_DTYPE_FLOAT32, 2, ws, w, (size_t)(k * o) * 4);
    /* QDQ parameters along the output axis (B's axis 1 when [K, O], 0 when [O, K]) */
    int32_t src = qlc_find_tensor(g, b->name);
    if (wi >= 0 && src >= 0 && scale == 1.0f)
        qlc_carry_qdq(g, wi, src, b->quant.count > 1 && b->quant.axis != (b_is_kn ? 1 : 0) ? -1 : 0);
    return wi;
}

qlite_status qlc_lower_matmul(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    qlc_tensor *a = qlc_in_t(g, n, 0), *b = qlc_in_t(g, n, 1), *y = qlc_out_t(g, n, 0);
    if (b->dtype != QLITE_DTYPE_FLOAT32)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "float32 only");
    if (b->data && b->rank == 2 && a->rank >= 1) {
        int32_t w = fc_weight(g, b, true, 1.0f);
        if (w < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        int32_t x = n->inputs[0];
        if (a->rank == 1) {
            int64_t s2[2] = {1, a->shape[0]};
            if ((x = qlc_emit_reshape(g, NULL, n->op_type, x, 2, s2, -1)) < 0)
                return QLITE_ERR_NO_MEMORY;
            int64_t o2[2] = {1, b->shape[1]};
            int32_t t = qlc_new_act(g, n->outputs[0], "_2d", a->dtype, 2, o2);
            if (t < 0 || !add_fc(g, n, x, w, -1, t)) return QLITE_ERR_NO_MEMORY;
            if (qlc_emit_reshape(g, NULL, n->op_type, t, 1, y->shape, n->outputs[0]) < 0)
                return QLITE_ERR_NO_MEMORY;
        } else if (!add_fc(g, n, x, w, -1, n->outputs[0])) {
            return QLITE_ERR_NO_MEMORY;
        }
        qlc_remove_node(g, n);
        return QLITE_OK;
    }
    /* two activations (or a batched constant): BATCH_MATMUL, 1-D operands reshaped */
    int32_t xa = n->inputs[0], xb = n->inputs[1];
    if (a->rank == 1) {
        int64_t s2[2] = {1, a->shape[0]};
        if ((xa = qlc_emit_reshape(g, NULL, n->op_type, xa, 2, s2, -1)) < 0) return QLITE_ERR_NO_MEMORY;
    }
    if (b->rank == 1) {
        int64_t s2[2] = {b->shape[0], 1};
        if ((xb = qlc_emit_reshape(g, NULL, n->op_type, xb, 2, s2, -1)) < 0) return QLITE_ERR_NO_MEMORY;
    }
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_BATCH_MATMUL, &o);
    int32_t ins[2] = {xa, xb};
    if (a->rank == 1 || b->rank == 1) {
        qlc_tensor *ta = g->tensors[xa], *tb = g->tensors[xb];
        int32_t r;
        int64_t s[QLITE_MAX_RANK];
        if ((st = qlc_broadcast(n, ta->rank - 2, ta->shape, tb->rank - 2, tb->shape, &r, s)) != QLITE_OK)
            return st;
        s[r] = ta->shape[ta->rank - 2];
        s[r + 1] = tb->shape[tb->rank - 1];
        int32_t t = qlc_new_act(g, n->outputs[0], "_mm", a->dtype, r + 2, s);
        if (t < 0) return QLITE_ERR_NO_MEMORY;
        if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_BATCH_MATMUL, &o, 2, ins, 1, &t))
            return QLITE_ERR_NO_MEMORY;
        if (qlc_emit_reshape(g, NULL, n->op_type, t, y->rank, y->shape, n->outputs[0]) < 0)
            return QLITE_ERR_NO_MEMORY;
    } else if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_BATCH_MATMUL, &o, 2, ins, 1, n->outputs)) {
        return QLITE_ERR_NO_MEMORY;
    }
    qlc_remove_node(g, n);
    return QLITE_OK;
}

qlite_status qlc_infer_gemm(qlc_graph *g, qlc_node *n) {
    qlite_status st;
    if ((st = qlc_need_input(g, n, 0)) != QLITE_OK || (st = qlc_need_input(g, n, 1)) != QLITE_OK)
        return st;
    qlc_tensor *a = qlc_in_t(g, n, 0), *b = qlc_in_t(g, n, 1);
    if (a->rank != 2 || b->rank != 2)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "A and B must be 2-D (got rank %d and %d)",
                              (int)a->rank, (int)b->rank);
    bool ta = qlc_attr_int(n, "transA", 0), tb = qlc_attr_int(n, "transB", 0);
    int64_t m = ta ? a->shape[1] : a->shape[0], k = ta ? a->shape[0] : a->shape[1];
    int64_t kb = tb ? b->shape[1] : b->shape[0], nn = tb ? b->shape[0] : b->shape[1];
    if (k != kb && k >= 0 && kb >= 0)
        return qlc_node_error(n, QLITE_ERR_SHAPE, "inner dimensions %lld and %lld differ",
                              (long long)k, (long long)kb);
    int64_t s[2] = {m, nn};
    qlc_tensor *c = qlc_in_t(g, n, 2);
    if (c) {
        int32_t r;
        int64_t tmp[QLITE_MAX_RANK];
        if ((st = qlc_broadcast(n, 2, s, c->rank, c->shape, &r, tmp)) != QLITE_OK) return st;
    }
    qlc_set_out(g, n, 0, a->dtype, 2, s);
    return QLITE_OK;
}

qlite_status qlc_lower_gemm(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    qlc_tensor *a = qlc_in_t(g, n, 0), *b = qlc_in_t(g, n, 1), *c = qlc_in_t(g, n, 2);
    qlc_tensor *y = qlc_out_t(g, n, 0);
    bool ta = qlc_attr_int(n, "transA", 0), tb = qlc_attr_int(n, "transB", 0);
    float alpha = qlc_attr_float(n, "alpha", 1.0f), beta = qlc_attr_float(n, "beta", 1.0f);
    int64_t nout = y->shape[1];
    int32_t x = n->inputs[0];
    if (ta) {
        int32_t p[2] = {1, 0};
        if ((x = qlc_emit_transpose(g, NULL, n->op_type, x, p, -1)) < 0) return QLITE_ERR_NO_MEMORY;
        (void)a;
    }
    int32_t bias = -1;
    bool bias_folded = false;
    if (c && c->data && beta != 0.0f && qlc_elements(c) == (uint64_t)nout &&
        (c->rank <= 1 || (c->rank == 2 && c->shape[0] == 1))) {
        float *cf = qlc_const_as_f32(c);
        if (!cf) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        for (int64_t i = 0; i < nout; i++) cf[i] *= beta;
        int64_t bs[1] = {nout};
        if ((bias = qlc_add_const_owned(g, c->name, QLITE_DTYPE_FLOAT32, 1, bs, cf,
                                        (size_t)nout * 4)) < 0)
            return QLITE_ERR_NO_MEMORY;
        bias_folded = true;
    } else if (c && c->data && beta != 0.0f && qlc_elements(c) == 1) {
        float *cf = qlc_const_as_f32(c), *bv = malloc((size_t)nout * 4);
        if (!cf || !bv) {
            free(cf);
            free(bv);
            return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        }
        for (int64_t i = 0; i < nout; i++) bv[i] = beta * cf[0];
        free(cf);
        int64_t bs[1] = {nout};
        if ((bias = qlc_add_const_owned(g, c->name, QLITE_DTYPE_FLOAT32, 1, bs, bv,
                                        (size_t)nout * 4)) < 0)
            return QLITE_ERR_NO_MEMORY;
        bias_folded = true;
    }
    bool need_add = c && beta != 0.0f && !bias_folded;
    int32_t mm_out = need_add ? qlc_new_act(g, n->outputs[0], "_mm", y->dtype, 2, y->shape)
                              : n->outputs[0];
    if (mm_out < 0) return QLITE_ERR_NO_MEMORY;
    if (b->data) {
        int32_t w = fc_weight(g, b, !tb, alpha);
        if (w < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        if (!add_fc(g, n, x, w, bias, mm_out)) return QLITE_ERR_NO_MEMORY;
    } else {
        qlite_op_options o;
        qlite_op_options_default(QLITE_OPTIONS_BATCH_MATMUL, &o);
        o.u.batch_matmul.transpose_b = tb;
        int32_t ins[2] = {x, n->inputs[1]};
        int32_t dst = (alpha != 1.0f || bias >= 0)
                          ? qlc_new_act(g, n->outputs[0], "_ab", y->dtype, 2, y->shape)
                          : mm_out;
        if (dst < 0) return QLITE_ERR_NO_MEMORY;
        if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_BATCH_MATMUL, &o, 2, ins, 1, &dst))
            return QLITE_ERR_NO_MEMORY;
        qlite_op_options bo;
        qlite_op_options_default(QLITE_OPTIONS_BINARY, &bo);
        if (alpha != 1.0f) {
            int32_t ac = qlc_add_const_f32(g, NULL, 0, NULL, &alpha);
            int32_t d2 = bias >= 0 ? qlc_new_act(g, n->outputs[0], "_alpha", y->dtype, 2, y->shape)
                                   : mm_out;
            int32_t ins2[2] = {dst, ac};
            if (ac < 0 || d2 < 0 ||
                !qlc_add_op(g, NULL, n->op_type, QLITE_OP_MUL, &bo, 2, ins2, 1, &d2))
                return QLITE_ERR_NO_MEMORY;
            dst = d2;
        }
        if (bias >= 0) {
            int32_t ins3[2] = {dst, bias};
            if (!qlc_add_op(g, NULL, n->op_type, QLITE_OP_ADD, &bo, 2, ins3, 1, &mm_out))
                return QLITE_ERR_NO_MEMORY;
        }
    }
    if (need_add) {
        qlite_op_options bo;
        qlite_op_options_default(QLITE_OPTIONS_BINARY, &bo);
        int32_t cc = n->inputs[2];
        if (beta != 1.0f) {
            int32_t bc = qlc_add_const_f32(g, NULL, 0, NULL, &beta);
            int32_t sc = qlc_new_act(g, cc, "_beta", c->dtype, c->rank, c->shape);
            int32_t ins[2] = {cc, bc};
            if (bc < 0 || sc < 0 || !qlc_add_op(g, NULL, n->op_type, QLITE_OP_MUL, &bo, 2, ins, 1, &sc))
                return QLITE_ERR_NO_MEMORY;
            cc = sc;
        }
        int32_t ins[2] = {mm_out, cc};
        if (!qlc_add_op(g, NULL, n->op_type, QLITE_OP_ADD, &bo, 2, ins, 1, n->outputs))
            return QLITE_ERR_NO_MEMORY;
    }
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- BatchNormalization (when not folded) ----------------------------------------- */

qlite_status qlc_infer_batchnorm(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    if (x->rank < 2) return qlc_node_error(n, QLITE_ERR_SHAPE, "input rank %d < 2", (int)x->rank);
    for (uint32_t i = 1; i <= 4; i++) {
        if ((st = qlc_need_input(g, n, i)) != QLITE_OK) return st;
        if (qlc_elements(qlc_in_t(g, n, i)) != (uint64_t)x->shape[1])
            return qlc_node_error(n, QLITE_ERR_SHAPE, "input %u does not have %lld values", i,
                                  (long long)x->shape[1]);
    }
    qlc_set_out(g, n, 0, x->dtype, x->rank, x->shape);
    return QLITE_OK;
}

/* Per-channel a = scale / sqrt(var + eps), b = bias - mean * a (both [C]);
 * used by lowering and by the BatchNorm folding pass. */
qlite_status qlc_batchnorm_affine(const qlc_graph *g, const qlc_node *n, float **a, float **b,
                                  int64_t *channels);
qlite_status qlc_batchnorm_affine(const qlc_graph *g, const qlc_node *n, float **a, float **b,
                                  int64_t *channels) {
    *a = *b = NULL;
    float *v[4] = {0};
    size_t cnt[4];
    qlite_status st = QLITE_OK;
    for (uint32_t i = 0; i < 4 && st == QLITE_OK; i++)
        st = qlc_const_floats(g, n, i + 1, false, &v[i], &cnt[i]);
    if (st == QLITE_OK && g->opset >= 14 && qlc_attr_int(n, "training_mode", 0))
        st = qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "training_mode=1 is not supported");
    if (st == QLITE_OK)
        for (uint32_t i = 1; i < n->num_outputs; i++)
            if (n->outputs[i] >= 0 && qlc_has_other_uses(g, n->outputs[i], 0))
                st = qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                    "training outputs (running mean/var) are not supported");
    if (st != QLITE_OK) {
        for (int i = 0; i < 4; i++) free(v[i]);
        return st;
    }
    float eps = qlc_attr_float(n, "epsilon", 1e-5f);
    size_t c = cnt[0];
    for (size_t i = 0; i < c; i++) {
        float s = v[0][i] / sqrtf(v[3][i] + eps);
        v[3][i] = v[1][i] - v[2][i] * s; /* b */
        v[0][i] = s;                      /* a */
    }
    *a = v[0];
    *b = v[3];
    free(v[1]);
    free(v[2]);
    *channels = (int64_t)c;
    return QLITE_OK;
}

qlite_status qlc_lower_batchnorm(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    float *a, *b;
    int64_t c;
    if ((st = qlc_batchnorm_affine(g, n, &a, &b, &c)) != QLITE_OK) return st;
    int64_t cs[QLITE_MAX_RANK];
    cs[0] = c;
    for (int32_t i = 1; i < x->rank - 1; i++) cs[i] = 1;
    char nm[300];
    snprintf(nm, sizeof nm, "%s.scale", n->name);
    int32_t ta = qlc_add_const_owned(g, nm, QLITE_DTYPE_FLOAT32, x->rank - 1, cs, a, (size_t)c * 4);
    snprintf(nm, sizeof nm, "%s.shift", n->name);
    int32_t tb = qlc_add_const_owned(g, nm, QLITE_DTYPE_FLOAT32, x->rank - 1, cs, b, (size_t)c * 4);
    if (ta < 0 || tb < 0) return QLITE_ERR_NO_MEMORY;
    int32_t mid = qlc_new_act(g, n->outputs[0], "_scaled", x->dtype, x->rank, x->shape);
    if (mid < 0) return QLITE_ERR_NO_MEMORY;
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    int32_t i1[2] = {n->inputs[0], ta}, i2[2] = {mid, tb};
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_MUL, &o, 2, i1, 1, &mid) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_ADD, &o, 2, i2, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}

/* ---- LayerNormalization ----------------------------------------------------------- */

qlite_status qlc_infer_layernorm(qlc_graph *g, qlc_node *n) {
    qlite_status st = qlc_need_input(g, n, 0);
    if (st != QLITE_OK) return st;
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    if ((st = qlc_norm_axis(n, qlc_attr_int(n, "axis", -1), x->rank, &axis)) != QLITE_OK) return st;
    qlc_set_out(g, n, 0, x->dtype, x->rank, x->shape);
    int64_t s[QLITE_MAX_RANK];
    memcpy(s, x->shape, sizeof s);
    for (int32_t i = axis; i < x->rank; i++) s[i] = 1;
    qlc_set_out(g, n, 1, QLITE_DTYPE_FLOAT32, x->rank, s);
    qlc_set_out(g, n, 2, QLITE_DTYPE_FLOAT32, x->rank, s);
    return QLITE_OK;
}

/* LayerNormalization whose Mean / InvStdDev outputs are used, as qlite ops:
 *   mean = REDUCE_MEAN(x)              (output 1)
 *   d = x - mean; var = REDUCE_MEAN(d * d)
 *   inv = RECIPROCAL(SQRT(var + eps))   (output 2)
 *   y = d * inv * scale [+ bias]        (output 0)                          */
static qlite_status layernorm_decomposed(qlc_graph *g, qlc_node *n) {
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    qlite_status st = qlc_norm_axis(n, qlc_attr_int(n, "axis", -1), x->rank, &axis);
    if (st != QLITE_OK) return st;
    if (qlc_attr_int(n, "stash_type", 1) != 1)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "stash_type other than float");
    int64_t rs[QLITE_MAX_RANK];
    memcpy(rs, x->shape, sizeof rs);
    for (int32_t i = axis; i < x->rank; i++) rs[i] = 1;
    int32_t xr = x->rank, xin = n->inputs[0];
    int64_t xs[QLITE_MAX_RANK];
    memcpy(xs, x->shape, sizeof xs);
    int32_t axes[QLITE_MAX_RANK];
    for (int32_t i = axis; i < xr; i++) axes[i - axis] = i;
    qlite_op_options ro, bo, no;
    qlite_op_options_default(QLITE_OPTIONS_REDUCE, &ro);
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &bo);
    qlite_op_options_default(QLITE_OPTIONS_NONE, &no);
    ro.u.reduce.keep_dims = true;
    int32_t mean = qlc_out_t(g, n, 1) ? n->outputs[1] : qlc_new_act(g, n->outputs[0], "_mean", x->dtype, xr, rs);
    int32_t d = qlc_new_act(g, n->outputs[0], "_centered", x->dtype, xr, xs);
    int32_t sq = qlc_new_act(g, n->outputs[0], "_sq", x->dtype, xr, xs);
    int32_t var = qlc_new_act(g, n->outputs[0], "_var", x->dtype, xr, rs);
    int32_t ve = qlc_new_act(g, n->outputs[0], "_var_eps", x->dtype, xr, rs);
    int32_t sd = qlc_new_act(g, n->outputs[0], "_std", x->dtype, xr, rs);
    int32_t inv = qlc_out_t(g, n, 2) ? n->outputs[2] : qlc_new_act(g, n->outputs[0], "_invstd", x->dtype, xr, rs);
    int32_t nrm = qlc_new_act(g, n->outputs[0], "_norm", x->dtype, xr, xs);
    float eps = qlc_attr_float(n, "epsilon", 1e-5f);
    int32_t epst = qlc_add_const_f32(g, NULL, 0, NULL, &eps);
    if (mean < 0 || d < 0 || sq < 0 || var < 0 || ve < 0 || sd < 0 || inv < 0 || nrm < 0 || epst < 0)
        return QLITE_ERR_NO_MEMORY;
    qlc_set_out(g, n, 1, x->dtype, xr, rs);
    qlc_set_out(g, n, 2, x->dtype, xr, rs);
    bool has_bias = qlc_in(n, 2) >= 0;
    int32_t scaled = has_bias ? qlc_new_act(g, n->outputs[0], "_scaled", x->dtype, xr, xs) : n->outputs[0];
    if (scaled < 0) return QLITE_ERR_NO_MEMORY;
    qlc_node *r1, *r2;
    int32_t i_sub[2] = {xin, mean}, i_sq[2] = {d, d}, i_ve[2] = {var, epst}, i_nrm[2] = {d, inv};
    int32_t i_sc[2] = {nrm, n->inputs[1]}, i_b[2] = {scaled, qlc_in(n, 2)};
    if (!(r1 = qlc_add_op(g, n->name, n->op_type, QLITE_OP_REDUCE_MEAN, &ro, 1, &xin, 1, &mean)) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_SUB, &bo, 2, i_sub, 1, &d) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_MUL, &bo, 2, i_sq, 1, &sq) ||
        !(r2 = qlc_add_op(g, NULL, n->op_type, QLITE_OP_REDUCE_MEAN, &ro, 1, &sq, 1, &var)) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_ADD, &bo, 2, i_ve, 1, &ve) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_SQRT, &no, 1, &ve, 1, &sd) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_RECIPROCAL, &no, 1, &sd, 1, &inv) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_MUL, &bo, 2, i_nrm, 1, &nrm) ||
        !qlc_add_op(g, NULL, n->op_type, QLITE_OP_MUL, &bo, 2, i_sc, 1, &scaled) ||
        (has_bias && !qlc_add_op(g, NULL, n->op_type, QLITE_OP_ADD, &bo, 2, i_b, 1, n->outputs)))
        return QLITE_ERR_NO_MEMORY;
    for (int k = 0; k < 2; k++) {
        qlc_node *r = k ? r2 : r1;
        int32_t *ax = qlc_node_own(r, 0, axes, (size_t)(xr - axis) * sizeof *axes);
        if (!ax) return QLITE_ERR_NO_MEMORY;
        r->opts.u.reduce.axes = ax;
        r->opts.u.reduce.count = (uint32_t)(xr - axis);
    }
    qlc_remove_node(g, n);
    return QLITE_OK;
}

qlite_status qlc_lower_layernorm(qlc_graph *g, qlc_node *n) {
    qlite_status st = need_f32_act(g, n);
    if (st != QLITE_OK) return st;
    bool stats = false;
    for (uint32_t i = 1; i < n->num_outputs; i++)
        stats |= n->outputs[i] >= 0 && qlc_has_other_uses(g, n->outputs[i], 0);
    if (stats) return layernorm_decomposed(g, n);
    qlc_tensor *x = qlc_in_t(g, n, 0);
    int32_t axis;
    if ((st = qlc_norm_axis(n, qlc_attr_int(n, "axis", -1), x->rank, &axis)) != QLITE_OK) return st;
    if (qlc_attr_int(n, "stash_type", 1) != 1)
        return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "stash_type other than float");
    uint64_t inner = 1;
    int64_t ishape[QLITE_MAX_RANK];
    for (int32_t i = axis; i < x->rank; i++) {
        if (x->shape[i] < 0)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "normalized dims are dynamic");
        inner *= (uint64_t)x->shape[i];
        ishape[i - axis] = x->shape[i];
    }
    int32_t params[2] = {-1, -1};
    for (uint32_t k = 1; k <= 2; k++) {
        qlc_tensor *p = qlc_in_t(g, n, k);
        if (!p) continue;
        if (!p->data)
            return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP, "input %u is not a constant", k);
        float *pv = qlc_const_as_f32(p);
        if (!pv) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        uint64_t pc = qlc_elements(p);
        float *full = pv;
        if (pc != inner) { /* broadcast (e.g. one value) to the normalized shape */
            full = malloc((size_t)inner * 4);
            bool ok = full && pc > 0 && inner % pc == 0;
            for (uint64_t i = 0; ok && i < inner; i++) full[i] = pv[i % pc];
            free(pv);
            if (!ok) {
                free(full);
                return qlc_node_error(n, QLITE_ERR_SHAPE, "input %u does not fit the normalized "
                                      "shape", k);
            }
        }
        params[k - 1] = qlc_add_const_owned(g, p->name, QLITE_DTYPE_FLOAT32, x->rank - axis, ishape,
                                            full, (size_t)inner * 4);
        if (params[k - 1] < 0) return QLITE_ERR_NO_MEMORY;
    }
    if (params[0] < 0) return qlc_node_error(n, QLITE_ERR_CORRUPT, "Scale input is missing");
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_NORM, &o);
    o.u.norm.axis = axis;
    o.u.norm.epsilon = qlc_attr_float(n, "epsilon", 1e-5f);
    int32_t ins[3] = {n->inputs[0], params[0], params[1]};
    if (!qlc_add_op(g, n->name, n->op_type, QLITE_OP_LAYER_NORM, &o, 3, ins, 1, n->outputs))
        return QLITE_ERR_NO_MEMORY;
    qlc_remove_node(g, n);
    return QLITE_OK;
}
