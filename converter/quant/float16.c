/*
 * float16.c — FLOAT16 mode (docs/quantization.md §7): every float32
 * constant an op reads is stored as IEEE binary16, rounded to nearest even
 * (qlite_fp32_to_fp16). A finite value that would overflow (|x| >= 65520,
 * which rounds to infinity) is saturated to ±65504 and the tensor is named
 * in a warning; infinities and NaNs stay what they are. Activations, inputs
 * and outputs stay float32: kernels read the halves (or the interpreter
 * widens small constants once at prepare).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant_internal.h"

#define FP16_MAX 65504.0f

/* Converts constant t (read first by op n) to float16 in place. */
static qlite_status convert_one(qlc_ctx *c, qlite_convert_report *r, const qlc_node *n, int32_t t) {
    qlc_tensor *tt = c->g->tensors[t];
    uint64_t count = qlc_elements(tt);
    const float *f = tt->data;
    uint16_t *h = malloc(count ? count * 2 : 2);
    if (!h) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint64_t saturated = 0;
    float worst = 0;
    double sig = 0, noise = 0;
    for (uint64_t i = 0; i < count; i++) {
        float v = f[i];
        uint16_t hv = qlite_fp32_to_fp16(v);
        if (isfinite(v) && !isfinite(qlite_fp16_to_fp32(hv))) {
            hv = qlite_fp32_to_fp16(v > 0 ? FP16_MAX : -FP16_MAX);
            saturated++;
            if (fabsf(v) > worst) worst = fabsf(v);
        }
        h[i] = hv;
        if (isfinite(v)) {
            double d = (double)qlite_fp16_to_fp32(hv) - v;
            sig += (double)v * v;
            noise += d * d;
        }
    }
    qlite_status st = QLITE_OK;
    if (saturated)
        st = qlc_report_add_warning(r, "tensor '%s': %llu value%s beyond the float16 range "
                                       "saturated to +-65504 (largest |x| %g)",
                                    tt->name, (unsigned long long)saturated,
                                    saturated == 1 ? "" : "s", (double)worst);
    if (st != QLITE_OK) {
        free(h);
        return st;
    }
    qlc_tensor_set_data(tt, h, (size_t)count * 2);
    tt->dtype = QLITE_DTYPE_FLOAT16;
    return qlc_report_add_weight(r, n->name, n->code, tt->name, QLITE_DTYPE_FLOAT16, 0, count,
                                 qlc_sqnr_db(sig, noise));
}

qlite_status qlc_quant_float16(qlc_ctx *c, qlite_convert_report *r) {
    qlc_graph *g = c->g;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    uint32_t converted = 0;
    /* constants in the order the ops read them (the report lists them so) */
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            int32_t t = n->inputs[k];
            if (t < 0) continue;
            const qlc_tensor *tt = g->tensors[t];
            if (!tt->data || tt->dtype != QLITE_DTYPE_FLOAT32 || tt->sparse || tt->cluster)
                continue;
            if ((st = convert_one(c, r, n, t)) != QLITE_OK) return st;
            converted++;
        }
    }
    qlc_count(c, "constants stored as float16", converted);
    qlc_log(c, 1, "float16: %u constants converted", converted);
    return QLITE_OK;
}
