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

qlite_status qlc_quant_float16(qlc_ctx *c, qlite_convert_report *r) {
    qlc_graph *g = c->g;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    uint32_t converted = 0;
    for (uint32_t t = 0; t < g->num_tensors; t++) {
        qlc_tensor *tt = g->tensors[t];
        if (!tt->data || tt->dtype != QLITE_DTYPE_FLOAT32 || tt->sparse || tt->cluster) continue;
        if (!qlc_use_count(g, (int32_t)t) && !tt->is_output) continue; /* not emitted */
        uint64_t n = qlc_elements(tt);
        const float *f = tt->data;
        uint16_t *h = malloc(n ? n * 2 : 2);
        if (!h) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        uint64_t saturated = 0;
        float worst = 0;
        double sig = 0, noise = 0;
        for (uint64_t i = 0; i < n; i++) {
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
        if (saturated &&
            (st = qlc_report_add_warning(r, "tensor '%s': %llu value%s beyond the float16 range "
                                            "saturated to +-65504 (largest |x| %g)",
                                         tt->name, (unsigned long long)saturated,
                                         saturated == 1 ? "" : "s", (double)worst)) != QLITE_OK) {
            free(h);
            return st;
        }
        qlc_tensor_set_data(tt, h, (size_t)n * 2);
        tt->dtype = QLITE_DTYPE_FLOAT16;
        converted++;
        /* the report names the first op that reads it */
        const qlc_node *user = qlc_use_count(g, (int32_t)t)
                                   ? g->nodes[g->uses[g->use_start[t]].node] : NULL;
        if ((st = qlc_report_add_weight(r, user ? user->name : "(graph output)",
                                        user ? user->code : QLITE_OP_RESHAPE, tt->name,
                                        QLITE_DTYPE_FLOAT16, 0, n, qlc_sqnr_db(sig, noise))) !=
            QLITE_OK)
            return st;
    }
    qlc_count(c, "constants stored as float16", converted);
    qlc_log(c, 1, "float16: %u constants converted", converted);
    return QLITE_OK;
}
