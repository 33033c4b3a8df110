/*
 * fold_batchnorm.c — BatchNormalization after Conv / ConvTranspose / Gemm
 * is folded into the producer's weights and bias:
 *   y = a * (W x + b) + c  with  a = scale / sqrt(var + eps), c = B - mean * a
 *     = (a W) x + (a b + c)
 * Requirements: the producer's weight (and bias) and every BN parameter are
 * constants and the producer's output feeds only this BN. New constants are
 * made (a weight shared with another node is not modified).
 */
#include <stdlib.h>
#include <string.h>

#include "onnx/ops.h"
#include "passes.h"

qlite_status qlc_batchnorm_affine(const qlc_graph *g, const qlc_node *n, float **a, float **b,
                                  int64_t *channels);

/* Scales the weight along the output-channel axis; returns the new tensor. */
static int32_t scaled_weight(qlc_graph *g, const qlc_node *p, const float *a, int64_t ch) {
    qlc_tensor *w = qlc_in_t(g, p, 1);
    float *wf = qlc_const_as_f32(w);
    if (!wf) return -1;
    uint64_t n = qlc_elements(w);
    if (!strcmp(p->op_type, "Conv")) { /* [O, I/g, k...]: channel = dim 0 */
        uint64_t per = n / (uint64_t)ch;
        for (uint64_t i = 0; i < n; i++) wf[i] *= a[i / per];
    } else if (!strcmp(p->op_type, "ConvTranspose")) { /* [Cin, O/g, k...] */
        int64_t groups = qlc_attr_int(p, "group", 1), opg = w->shape[1];
        uint64_t k = n / ((uint64_t)w->shape[0] * (uint64_t)opg);
        int64_t ipg = w->shape[0] / groups;
        for (uint64_t i = 0; i < n; i++) {
            int64_t ci = (int64_t)(i / (k * (uint64_t)opg)), oc = (int64_t)((i / k) % (uint64_t)opg);
            wf[i] *= a[(ci / ipg) * opg + oc];
        }
    } else { /* Gemm: B [K,N] (transB=0) or [N,K] */
        bool tb = qlc_attr_int(p, "transB", 0) != 0;
        int64_t cols = w->shape[1];
        for (uint64_t i = 0; i < n; i++) wf[i] *= a[tb ? (int64_t)i / cols : (int64_t)i % cols];
    }
    int32_t t = qlc_add_const_owned(g, w->name, QLITE_DTYPE_FLOAT32, w->rank, w->shape, wf,
                                    (size_t)n * 4);
    return t;
}

qlite_status qlc_pass_fold_batchnorm(qlc_ctx *c) {
    qlc_graph *g = c->g;
    uint32_t folded = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *bn = g->nodes[i];
        if (bn->dead || bn->lowered || strcmp(bn->op_type, "BatchNormalization") != 0) continue;
        qlite_status st = qlc_graph_reindex(g);
        if (st != QLITE_OK) return st;
        int32_t x = qlc_in(bn, 0);
        int32_t pi = qlc_producer(g, x);
        if (pi < 0 || qlc_has_other_uses(g, x, 1)) continue;
        qlc_node *p = g->nodes[pi];
        if (p->lowered) continue;
        bool conv = !strcmp(p->op_type, "Conv"), convt = !strcmp(p->op_type, "ConvTranspose");
        bool gemm = !strcmp(p->op_type, "Gemm");
        if (!conv && !convt && !gemm) continue;
        qlc_tensor *w = qlc_in_t(g, p, 1), *b = qlc_in_t(g, p, 2);
        if (!w || !w->data || w->dtype != QLITE_DTYPE_FLOAT32 || (b && !b->data)) continue;
        if (gemm && (qlc_in_t(g, bn, 0)->rank != 2 || (b && qlc_elements(b) != (uint64_t)g->tensors[x]->shape[1])))
            continue;
        bool ok = true;
        for (uint32_t k = 1; k <= 4; k++) ok &= qlc_is_const(g, qlc_in(bn, k));
        for (uint32_t k = 1; k < bn->num_outputs; k++)
            ok &= bn->outputs[k] < 0 || !qlc_has_other_uses(g, bn->outputs[k], 0);
        if (!ok) continue;
        float *a, *sh;
        int64_t ch;
        if ((st = qlc_batchnorm_affine(g, bn, &a, &sh, &ch)) != QLITE_OK) return st;
        int64_t out_ch = g->tensors[x]->shape[1];
        if (ch != out_ch) {
            free(a);
            free(sh);
            continue;
        }
        float beta = gemm ? qlc_attr_float(p, "beta", 1.0f) : 1.0f;
        float *nb = malloc((size_t)ch * 4);
        float *old = b ? qlc_const_as_f32(b) : NULL;
        if (!nb || (b && !old)) {
            free(a); free(sh); free(nb); free(old);
            return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        }
        for (int64_t k = 0; k < ch; k++) nb[k] = (old ? beta * old[k] : 0.0f) * a[k] + sh[k];
        free(old);
        int32_t nw = scaled_weight(g, p, a, ch);
        free(a);
        free(sh);
        int64_t bs[1] = {ch};
        int32_t nbt = qlc_add_const_owned(g, b ? b->name : bn->name, QLITE_DTYPE_FLOAT32, 1, bs, nb,
                                          (size_t)ch * 4);
        if (nw < 0 || nbt < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        if (p->num_inputs < 3) {
            int32_t *ni = realloc(p->inputs, 3 * sizeof *ni);
            if (!ni) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            p->inputs = ni;
            p->num_inputs = 3;
        }
        p->inputs[1] = nw;
        p->inputs[2] = nbt;
        if (gemm && (st = qlc_attr_set_float(p, "beta", 1.0f)) != QLITE_OK) return st;
        p->outputs[0] = bn->outputs[0];
        qlc_remove_node(g, bn);
        folded++;
        qlc_log(c, 2, "folded BatchNormalization '%s' into %s '%s'", bn->name, p->op_type, p->name);
    }
    if (folded) qlc_count(c, "BatchNormalization folded into Conv/Gemm", folded);
    return QLITE_OK;
}
