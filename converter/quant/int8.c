/*
 * int8.c — full-integer quantization of the lowered float graph
 * (docs/quantization.md §1-2, §6; docs/converter.md "Quantization passes").
 *
 * Steps:
 *   1. Parameters for every float activation, in execution order
 *      (assign_params): parameters a QDQ model fixed; the fixed output
 *      ranges of SOFTMAX / LOGISTIC / TANH; the input's parameters for ops
 *      that only move or select values (RESHAPE, TRANSPOSE, SLICE, SPLIT,
 *      GATHER, PAD, MAX/AVERAGE_POOL_2D, REDUCE_MAX/MIN, RESIZE); the
 *      constant's own parameters for GATHER of a constant table; otherwise
 *      the calibrated range (qlite_choose_asymmetric). CONCATENATION first
 *      widens its output and its single-use inputs to the union of their
 *      ranges so that it copies bytes.
 *   2. Per op, in order, the int8 form is planned (weights per channel,
 *      biases int32 at input_scale * weight_scale, other float constants
 *      int8 per tensor) and probed: the kernel's own prepare decides
 *      (probe.c). An op whose probe fails runs in float (a float island);
 *      so does an op that only moves bytes of a float-island result. LSTM
 *      and GRU are float islands that keep int8 weights when their hybrid
 *      kernel takes them. QUANTIZE / DEQUANTIZE left from a QDQ model become
 *      requantizations (or vanish when the parameters match).
 *   3. Rewrite: int8 activations change dtype in place (names kept);
 *      a QUANTIZE is inserted where an int8 op reads a float tensor and a
 *      DEQUANTIZE where a float op reads an int8 one (one per tensor);
 *      a same-parameter op whose output a QDQ model fixed differently gets a
 *      requantizing QUANTIZE behind it.
 *   4. Model inputs and outputs per options.io: float (QUANTIZE after the
 *      input, DEQUANTIZE before the output; names kept on the float
 *      tensors), int8 (the tensors themselves), uint8 (zero point + 128,
 *      with an exact uint8 <-> int8 QUANTIZE next to them).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/ops.h"
#include "quant_internal.h"

typedef struct aparams {
    bool has;
    float scale;
    int32_t zp;
    float min, max;          /* the range behind the parameters */
    char source[64];
} aparams;

enum { DOM_NONE = 0, DOM_FLOAT, DOM_INT8 };

/* per-node plan */
typedef struct nplan {
    int dom;                 /* DOM_FLOAT or DOM_INT8; DOM_NONE = not touched */
    int32_t *consts;         /* [num_inputs]: quantized constant to use, or -1 */
    double *sqnr;            /* [num_inputs]: SQNR of a quantized weight, NAN = not a weight */
    bool requant_inputs;     /* CONCATENATION: inputs rescaled to the output's parameters */
    char why[512];           /* float: the reason */
} nplan;

typedef struct i8ctx {
    qlc_ctx *c;
    qlc_graph *g;
    qlite_convert_report *r;
    uint32_t nt;             /* tensors when the pass started */
    bool *is_act;            /* [nt] float activation */
    aparams *p;              /* [nt] */
    int *dom;                /* [nt] */
    int32_t *twin;           /* [nt] int8 stand-in for probes, -1 */
    int32_t *qcache;         /* [nt] QUANTIZEd version of a float tensor */
    int32_t *dqcache;        /* [nt] DEQUANTIZEd version of an int8 tensor */
    nplan *plan;             /* [num_nodes when the pass started] */
    uint32_t nn;
} i8ctx;

/* ---- op classes -------------------------------------------------------------------------- */

static bool same_params_op(qlite_op_code c) {
    switch (c) {
    case QLITE_OP_RESHAPE: case QLITE_OP_TRANSPOSE: case QLITE_OP_SLICE: case QLITE_OP_SPLIT:
    case QLITE_OP_GATHER: case QLITE_OP_PAD: case QLITE_OP_MAX_POOL_2D:
    case QLITE_OP_AVERAGE_POOL_2D: case QLITE_OP_REDUCE_MAX: case QLITE_OP_REDUCE_MIN:
    case QLITE_OP_RESIZE:
        return true;
    default:
        return false;
    }
}

/* Ops that only move bytes: they follow their input into a float island. */
static bool movement_op(qlite_op_code c) {
    switch (c) {
    case QLITE_OP_RESHAPE: case QLITE_OP_TRANSPOSE: case QLITE_OP_SLICE: case QLITE_OP_SPLIT:
    case QLITE_OP_PAD: case QLITE_OP_GATHER:
        return true;
    default:
        return false;
    }
}

static bool fixed_output(qlite_op_code c, float *scale, int32_t *zp) {
    switch (c) {
    case QLITE_OP_SOFTMAX: case QLITE_OP_LOGISTIC:
        *scale = 1.0f / 256.0f;
        *zp = -128;
        return true;
    case QLITE_OP_TANH:
        *scale = 1.0f / 128.0f;
        *zp = 0;
        return true;
    default:
        return false;
    }
}

static bool is_weight_op(qlite_op_code c) {
    return c == QLITE_OP_CONV_2D || c == QLITE_OP_DEPTHWISE_CONV_2D ||
           c == QLITE_OP_TRANSPOSE_CONV_2D || c == QLITE_OP_FULLY_CONNECTED;
}

static bool is_rnn(qlite_op_code c) { return c == QLITE_OP_LSTM || c == QLITE_OP_GRU; }

/* ---- step 1: parameters ------------------------------------------------------------------ */

static bool set_from_range(aparams *a, float lo, float hi, const char *source) {
    float s;
    int32_t z;
    if (qlite_choose_asymmetric(lo, hi, QLITE_DTYPE_INT8, &s, &z) != QLITE_OK) return false;
    *a = (aparams){.has = true, .scale = s, .zp = z, .min = lo, .max = hi};
    snprintf(a->source, sizeof a->source, "%s", source);
    return true;
}

static void set_fixed(aparams *a, float s, int32_t z, const char *source) {
    *a = (aparams){.has = true, .scale = s, .zp = z, .min = s * (float)(-128 - z),
                   .max = s * (float)(127 - z)};
    snprintf(a->source, sizeof a->source, "%s", source);
}

static bool range_of(const qlc_tensor *t, float *lo, float *hi) {
    if (t->qdq && t->quant.count == 1) {
        *lo = t->quant.scale[0] * (float)(-128 - t->quant.zero_point[0]);
        *hi = t->quant.scale[0] * (float)(127 - t->quant.zero_point[0]);
        return true;
    }
    if (t->range.count >= 1) {
        *lo = t->range.min[0];
        *hi = t->range.max[0];
        return true;
    }
    return false;
}

/* A constant's own asymmetric parameters (min/max of its values, 0 included). */
static bool const_params(const qlc_tensor *t, aparams *a) {
    float *f = qlc_const_as_f32(t);
    if (!f) return false;
    float lo = 0, hi = 0;
    for (uint64_t i = 0, n = qlc_elements(t); i < n; i++) {
        if (f[i] < lo) lo = f[i];
        if (f[i] > hi) hi = f[i];
    }
    free(f);
    return set_from_range(a, lo, hi, "constant table");
}

static bool act_tensor(const qlc_graph *g, int32_t t) {
    const qlc_tensor *tt = g->tensors[t];
    return !tt->data && tt->dtype == QLITE_DTYPE_FLOAT32;
}

/* CONCATENATION: output and single-use calibrated inputs get the union range. */
static void widen_concats(qlc_graph *g) {
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || n->code != QLITE_OP_CONCATENATION || !act_tensor(g, n->outputs[0])) continue;
        float lo = 0, hi = 0, a, b;
        bool any = false;
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            int32_t t = n->inputs[k];
            if (t < 0) continue;
            qlc_tensor *tt = g->tensors[t];
            if (tt->data) {
                float *f = qlc_const_as_f32(tt);
                for (uint64_t e = 0, ne = qlc_elements(tt); f && e < ne; e++) {
                    lo = fminf(lo, f[e]);
                    hi = fmaxf(hi, f[e]);
                }
                free(f);
                continue;
            }
            if (!range_of(tt, &a, &b)) return; /* reported later as missing */
            lo = fminf(lo, a);
            hi = fmaxf(hi, b);
            any = true;
        }
        if (!any) continue;
        qlc_tensor *out = g->tensors[n->outputs[0]];
        if (out->qdq) continue;
        for (int pass = 0; pass < 2; pass++) {
            qlc_tensor *tt = out;
            int32_t t = n->outputs[0];
            for (uint32_t k = 0; pass == 1 && k < n->num_inputs; k++) {
                t = n->inputs[k];
                if (t < 0) continue;
                tt = g->tensors[t];
                int32_t pi = qlc_producer(g, t);
                float fs;
                int32_t fz;
                if (tt->data || tt->qdq || tt->is_input || tt->is_output ||
                    qlc_use_count(g, t) != 1 || pi < 0 || same_params_op(g->nodes[pi]->code) ||
                    fixed_output(g->nodes[pi]->code, &fs, &fz) || tt->range.count != 1)
                    continue;
                tt->range.min[0] = lo;
                tt->range.max[0] = hi;
            }
            if (pass == 0) {
                if (tt->range.count != 1) {
                    free(tt->range.min);
                    free(tt->range.max);
                    tt->range.min = malloc(sizeof(float));
                    tt->range.max = malloc(sizeof(float));
                    if (!tt->range.min || !tt->range.max) {
                        tt->range.count = 0;
                        return;
                    }
                    tt->range.count = 1;
                }
                tt->range.min[0] = lo;
                tt->range.max[0] = hi;
            }
        }
    }
}

/* Parameters of every float activation; false with the first tensor that has
 * none in `missing`. */
static bool assign_params(const qlc_graph *g, aparams *p, char *missing, size_t msize) {
    for (uint32_t i = 0; i < g->num_inputs; i++) {
        int32_t t = g->inputs[i];
        const qlc_tensor *tt = g->tensors[t];
        if (!act_tensor(g, t)) continue;
        float lo, hi;
        if (tt->qdq && tt->quant.count == 1)
            set_fixed(&p[t], tt->quant.scale[0], tt->quant.zero_point[0], "qdq");
        else if (range_of(tt, &lo, &hi)) set_from_range(&p[t], lo, hi, "calibration");
    }
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        for (uint32_t k = 0; k < n->num_outputs; k++) {
            int32_t o = n->outputs[k];
            if (o < 0 || !act_tensor(g, o)) continue;
            const qlc_tensor *ot = g->tensors[o];
            aparams *a = &p[o];
            float fs, lo, hi;
            int32_t fz;
            int32_t x = qlc_in(n, 0);
            char src[64];
            if (ot->qdq && ot->quant.count == 1) {
                set_fixed(a, ot->quant.scale[0], ot->quant.zero_point[0], "qdq");
            } else if (fixed_output(n->code, &fs, &fz)) {
                snprintf(src, sizeof src, "fixed by %s", qlite_op_name(n->code));
                set_fixed(a, fs, fz, src);
            } else if (n->code == QLITE_OP_GATHER && x >= 0 && g->tensors[x]->data &&
                       g->tensors[x]->dtype == QLITE_DTYPE_FLOAT32) {
                if (!const_params(g->tensors[x], a)) return false;
            } else if (same_params_op(n->code) && x >= 0 && act_tensor(g, x) && p[x].has) {
                *a = p[x];
                snprintf(a->source, sizeof a->source, "same as input (%s)", qlite_op_name(n->code));
            } else if (n->code == QLITE_OP_DEQUANTIZE && x >= 0) {
                const qlc_tensor *q = g->tensors[x];
                if (q->quant.count == 1)
                    set_fixed(a, q->quant.scale[0],
                              q->quant.zero_point[0] - (q->dtype == QLITE_DTYPE_UINT8 ? 128 : 0),
                              "qdq");
                else if (range_of(ot, &lo, &hi)) set_from_range(a, lo, hi, "calibration");
            } else if (range_of(ot, &lo, &hi)) {
                if (!set_from_range(a, lo, hi, "calibration")) {
                    snprintf(missing, msize, "'%s' (range [%g, %g] is not finite)", ot->name,
                             (double)lo, (double)hi);
                    return false;
                }
            }
        }
    }
    /* backwards through the parameter-keeping ops: a tensor with none whose
     * only reader keeps parameters (the NHWC -> NCHW transpose or reshape in
     * front of a QDQ model's QuantizeLinear) takes its reader's output's */
    bool more = true;
    while (more) {
        more = false;
        for (uint32_t i = g->num_nodes; i-- > 0;) {
            const qlc_node *n = g->nodes[i];
            if (n->dead || !same_params_op(n->code) || n->num_outputs != 1) continue;
            int32_t x = qlc_in(n, 0), o = n->outputs[0];
            if (x < 0 || o < 0 || !act_tensor(g, x) || !act_tensor(g, o) || p[x].has || !p[o].has ||
                g->tensors[x]->is_input)
                continue;
            uint32_t uses = g->tensors[x]->is_output ? 1 : 0;
            for (uint32_t j = 0; j < g->num_nodes && uses < 2; j++) {
                const qlc_node *m = g->nodes[j];
                for (uint32_t k = 0; !m->dead && k < m->num_inputs; k++) uses += m->inputs[k] == x;
            }
            if (uses != 1) continue;
            p[x] = p[o];
            snprintf(p[x].source, sizeof p[x].source, "same as output (%s)", qlite_op_name(n->code));
            more = true;
        }
    }
    /* every float activation an op reads or writes needs parameters */
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        /* QUANTIZE from and DEQUANTIZE to a float tensor without parameters
         * simply stay what they are (float <-> integer) */
        if (n->code == QLITE_OP_QUANTIZE || n->code == QLITE_OP_DEQUANTIZE) continue;
        for (uint32_t k = 0; k < n->num_inputs + n->num_outputs; k++) {
            int32_t t = k < n->num_inputs ? n->inputs[k] : n->outputs[k - n->num_inputs];
            if (t < 0 || !act_tensor(g, t) || p[t].has) continue;
            snprintf(missing, msize, "'%s' (%s of %s '%s')", g->tensors[t]->name,
                     k < n->num_inputs ? "an input" : "an output", qlite_op_name(n->code), n->name);
            return false;
        }
    }
    return true;
}

bool qlc_int8_needs_calibration(const qlc_graph *g, char *first, size_t size) {
    aparams *p = calloc(g->num_tensors ? g->num_tensors : 1, sizeof *p);
    if (!p) return true;
    bool ok = assign_params(g, p, first, size);
    free(p);
    return !ok;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static qlite_status set_q(qlc_tensor *t, float scale, int32_t zp) {
    return qlc_quant_set(&t->quant, 1, 0, &scale, &zp);
}

/* The range the parameters came from, stored with them (docs §2.4). */
static qlite_status set_range(qlc_tensor *t, const aparams *a) {
    if (t->range.count != 1) {
        free(t->range.min);
        free(t->range.max);
        t->range.min = malloc(sizeof(float));
        t->range.max = malloc(sizeof(float));
        t->range.count = t->range.min && t->range.max ? 1 : 0;
        if (!t->range.count) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    t->range.min[0] = a->min;
    t->range.max[0] = a->max;
    return QLITE_OK;
}

/* int8 stand-in of activation t with its (or given) parameters, for probes. */
static int32_t twin_of(i8ctx *q, int32_t t, const aparams *with) {
    qlc_graph *g = q->g;
    if (!with && q->twin[t] >= 0) return q->twin[t];
    const aparams *a = with ? with : &q->p[t];
    qlc_tensor *tt = g->tensors[t];
    int64_t shape[QLITE_MAX_RANK];
    memcpy(shape, tt->shape, sizeof shape);
    int32_t id = qlc_add_tensor_like(g, tt->name, "_probe", QLITE_DTYPE_INT8, tt->rank, shape);
    if (id < 0) return -1;
    if (set_q(g->tensors[id], a->scale, a->zp) != QLITE_OK) return -1;
    if (!with) q->twin[t] = id;
    return id;
}

static bool params_equal(const aparams *a, const aparams *b) {
    return a->has && b->has && !memcmp(&a->scale, &b->scale, sizeof(float)) && a->zp == b->zp;
}

/* SQNR of int8 constant q (per tensor) against float constant f. */
static double const_sqnr(const qlc_graph *g, int32_t f, int32_t q) {
    const qlc_tensor *ft = g->tensors[f], *qt = g->tensors[q];
    float *v = qlc_const_as_f32(ft);
    if (!v || qt->quant.count != 1) {
        free(v);
        return NAN;
    }
    double sig = 0, noise = 0;
    const int8_t *b = qt->data;
    for (uint64_t i = 0, n = qlc_elements(ft); i < n; i++) {
        double d = (double)qt->quant.scale[0] * (b[i] - qt->quant.zero_point[0]) - v[i];
        sig += (double)v[i] * v[i];
        noise += d * d;
    }
    free(v);
    return qlc_sqnr_db(sig, noise);
}

/* Plans the quantized constants of an int8 op; -1 entries keep the input. */
static qlite_status plan_consts(i8ctx *q, qlc_node *n, nplan *pl) {
    qlc_graph *g = q->g;
    for (uint32_t k = 0; k < n->num_inputs; k++) {
        pl->consts[k] = -1;
        int32_t t = n->inputs[k];
        if (t < 0 || !g->tensors[t]->data || g->tensors[t]->dtype != QLITE_DTYPE_FLOAT32) continue;
        int32_t id;
        int32_t axis = qlc_weight_axis(n, k, g->tensors[t]);
        double sqnr = NAN;
        if (is_weight_op(n->code) && k == 2) {
            int32_t x = n->inputs[0], w = pl->consts[1] >= 0 ? pl->consts[1] : n->inputs[1];
            if (x < 0 || w < 0 || !q->p[x].has || !g->tensors[w]->quant.count)
                return qlite_error(QLITE_ERR_UNSUPPORTED, "bias without an int8 weight");
            int32_t oc = (int32_t)g->tensors[t]->shape[0];
            id = qlc_quantize_bias(g, t, q->p[x].scale, &g->tensors[w]->quant, oc);
        } else if (axis >= 0 && !(n->code == QLITE_OP_GATHER)) {
            id = qlc_quantize_weight(g, t, axis, q->c->opts.per_tensor, "_int8", &sqnr);
            pl->sqnr[k] = sqnr;
        } else if (n->code == QLITE_OP_GATHER && k == 0) {
            /* the table shares the output's parameters */
            int32_t o = n->outputs[0];
            id = qlc_quantize_const_with(g, t, q->p[o].scale, q->p[o].zp);
            if (id >= 0) pl->sqnr[k] = const_sqnr(g, t, id);
        } else if (n->code == QLITE_OP_CONCATENATION) {
            int32_t o = n->outputs[0];
            id = qlc_quantize_const_with(g, t, q->p[o].scale, q->p[o].zp);
        } else {
            id = qlc_quantize_const_asym(g, t, &sqnr);
        }
        if (id < 0) return qlite_last_error()[0] ? QLITE_ERR_UNSUPPORTED : QLITE_ERR_NO_MEMORY;
        pl->consts[k] = id;
    }
    return QLITE_OK;
}

/* Probes the int8 form of n; concat_at_out: every activation input at the
 * output's parameters. */
static bool probe_int8(i8ctx *q, qlc_node *n, nplan *pl, bool concat_at_out, char *why,
                       size_t wsize) {
    qlc_graph *g = q->g;
    int32_t ins[64], outs[64];
    if (n->num_inputs > 64 || n->num_outputs > 64) return false;
    for (uint32_t k = 0; k < n->num_inputs; k++) {
        int32_t t = n->inputs[k];
        ins[k] = t;
        if (t < 0) continue;
        if (pl->consts[k] >= 0) ins[k] = pl->consts[k];
        else if (act_tensor(g, t)) {
            const aparams *with = NULL;
            if (concat_at_out) with = &q->p[n->outputs[0]];
            ins[k] = twin_of(q, t, with);
            if (ins[k] < 0) return false;
        }
    }
    for (uint32_t k = 0; k < n->num_outputs; k++) {
        int32_t t = n->outputs[k];
        outs[k] = t;
        if (t < 0 || !act_tensor(g, t)) continue;
        int32_t x = qlc_in(n, 0);
        /* same-parameter ops are emitted with the input's parameters on the
         * output (a requantization follows when the model fixed others) */
        const aparams *with = NULL;
        if (same_params_op(n->code) && x >= 0 && act_tensor(g, x) &&
            !params_equal(&q->p[t], &q->p[x]))
            with = &q->p[x];
        outs[k] = twin_of(q, t, with);
        if (outs[k] < 0) return false;
    }
    return qlc_probe_op(g, n, ins, outs, why, wsize);
}

/* ---- step 2: decisions ----------------------------------------------------------------- */

static bool has_float_io(const qlc_graph *g, const qlc_node *n) {
    for (uint32_t k = 0; k < n->num_inputs; k++)
        if (n->inputs[k] >= 0 && act_tensor(g, n->inputs[k])) return true;
    for (uint32_t k = 0; k < n->num_outputs; k++)
        if (n->outputs[k] >= 0 && act_tensor(g, n->outputs[k])) return true;
    return false;
}

static qlite_status decide(i8ctx *q) {
    qlc_graph *g = q->g;
    qlite_status st;
    for (uint32_t i = 0; i < q->nn; i++) {
        qlc_node *n = g->nodes[i];
        nplan *pl = &q->plan[i];
        if (n->dead || !has_float_io(g, n)) continue;
        pl->consts = malloc((n->num_inputs ? n->num_inputs : 1) * sizeof *pl->consts);
        pl->sqnr = malloc((n->num_inputs ? n->num_inputs : 1) * sizeof *pl->sqnr);
        if (!pl->consts || !pl->sqnr) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            pl->consts[k] = -1;
            pl->sqnr[k] = NAN;
        }
        pl->dom = DOM_FLOAT;
        if (n->code == QLITE_OP_QUANTIZE || n->code == QLITE_OP_DEQUANTIZE) {
            /* with parameters on its float side it becomes a requantization;
             * without, it stays a float <-> integer conversion */
            int32_t f = n->code == QLITE_OP_QUANTIZE ? n->inputs[0] : n->outputs[0];
            if (q->p[f].has) {
                pl->dom = DOM_INT8;
            } else {
                pl->dom = DOM_FLOAT;
                for (uint32_t k = 0; k < n->num_outputs; k++)
                    if (n->outputs[k] >= 0 && act_tensor(g, n->outputs[k]))
                        q->dom[n->outputs[k]] = DOM_FLOAT;
                continue;
            }
        } else if (is_rnn(n->code)) {
            /* int8 W and R when the hybrid kernel takes them */
            double sqnr[3] = {NAN, NAN, NAN};
            for (uint32_t k = 1; k <= 2 && k < n->num_inputs; k++) {
                int32_t w = n->inputs[k];
                if (w < 0 || !g->tensors[w]->data || g->tensors[w]->dtype != QLITE_DTYPE_FLOAT32)
                    continue;
                pl->consts[k] = qlc_quantize_weight(g, w, 1, q->c->opts.per_tensor, "_int8",
                                                    &sqnr[k]);
                if (pl->consts[k] < 0) return QLITE_ERR_NO_MEMORY;
            }
            int32_t ins[16];
            for (uint32_t k = 0; k < n->num_inputs && k < 16; k++)
                ins[k] = pl->consts[k] >= 0 ? pl->consts[k] : n->inputs[k];
            char why[200];
            if (n->num_inputs <= 16 && qlc_probe_op(g, n, ins, n->outputs, why, sizeof why)) {
                for (uint32_t k = 1; k <= 2 && k < n->num_inputs; k++) {
                    if (pl->consts[k] < 0) continue;
                    const qlc_tensor *wt = g->tensors[pl->consts[k]];
                    if ((st = qlc_report_add_weight(q->r, n->name, n->code,
                                                    g->tensors[n->inputs[k]]->name,
                                                    QLITE_DTYPE_INT8, wt->quant.count,
                                                    qlc_elements(wt), sqnr[k])) != QLITE_OK)
                        return st;
                }
                snprintf(pl->why, sizeof pl->why,
                         "no integer kernel: runs in float with int8 weights (hybrid kernel)");
            } else {
                for (uint32_t k = 1; k <= 2 && k < n->num_inputs; k++) pl->consts[k] = -1;
                snprintf(pl->why, sizeof pl->why, "no integer kernel; its hybrid kernel does not "
                                                  "take int8 weights either: %.300s", why);
            }
        } else {
            /* an op that only moves bytes of a float-island result stays float */
            int32_t x = qlc_in(n, 0);
            bool follows_float = movement_op(n->code) && x >= 0 && act_tensor(g, x) &&
                                 q->dom[x] == DOM_FLOAT && !g->tensors[x]->is_input;
            if (follows_float) {
                snprintf(pl->why, sizeof pl->why, "its input '%s' is float (a float island)",
                         g->tensors[x]->name);
            } else if ((st = plan_consts(q, n, pl)) != QLITE_OK) {
                if (st == QLITE_ERR_NO_MEMORY) return st;
                snprintf(pl->why, sizeof pl->why, "%s", qlite_last_error());
                for (uint32_t k = 0; k < n->num_inputs; k++) pl->consts[k] = -1;
            } else if (probe_int8(q, n, pl, false, pl->why, sizeof pl->why)) {
                pl->dom = DOM_INT8;
            } else if (n->code == QLITE_OP_CONCATENATION &&
                       probe_int8(q, n, pl, true, pl->why, sizeof pl->why)) {
                pl->dom = DOM_INT8;
                pl->requant_inputs = true;
            } else {
                for (uint32_t k = 0; k < n->num_inputs; k++) pl->consts[k] = -1;
                char kmsg[512];
                snprintf(kmsg, sizeof kmsg, "%s", pl->why);
                snprintf(pl->why, sizeof pl->why, "no int8 kernel (%.400s)", kmsg);
            }
        }
        for (uint32_t k = 0; k < n->num_outputs; k++)
            if (n->outputs[k] >= 0 && act_tensor(g, n->outputs[k]))
                q->dom[n->outputs[k]] = pl->dom;
        for (uint32_t k = 0; pl->dom == DOM_INT8 && k < n->num_inputs; k++) {
            if (pl->consts[k] < 0 || isnan(pl->sqnr[k])) continue;
            const qlc_tensor *wt = g->tensors[pl->consts[k]];
            if ((st = qlc_report_add_weight(q->r, n->name, n->code, g->tensors[n->inputs[k]]->name,
                                            QLITE_DTYPE_INT8, wt->quant.count, qlc_elements(wt),
                                            pl->sqnr[k])) != QLITE_OK)
                return st;
        }
        if (pl->dom == DOM_FLOAT) {
            if (q->c->opts.strict)
                return qlc_node_error(n, QLITE_ERR_UNSUPPORTED_OP,
                                      "%s cannot run in int8 (--strict): %s",
                                      qlite_op_name(n->code), pl->why);
            if ((st = qlc_report_add_float_op(q->r, n->name, n->code, pl->why)) != QLITE_OK)
                return st;
            for (uint32_t k = 0; k < n->num_inputs; k++) {
                int32_t t = n->inputs[k];
                if (t < 0 || pl->consts[k] >= 0 || !g->tensors[t]->data ||
                    g->tensors[t]->dtype != QLITE_DTYPE_FLOAT32)
                    continue;
                if ((st = qlc_report_add_kept(q->r, g->tensors[t]->name,
                                              qlc_elements(g->tensors[t]), "read by a float op")) !=
                    QLITE_OK)
                    return st;
            }
        }
    }
    return QLITE_OK;
}

/* ---- step 3: rewrite ---------------------------------------------------------------------- */

/* The int8 version of float-domain tensor t (a QUANTIZE, once). */
static int32_t quantized(i8ctx *q, int32_t t, const aparams *with) {
    qlc_graph *g = q->g;
    if (!with && q->qcache[t] >= 0) return q->qcache[t];
    const aparams *a = with ? with : &q->p[t];
    qlc_tensor *tt = g->tensors[t];
    int64_t shape[QLITE_MAX_RANK];
    memcpy(shape, tt->shape, sizeof shape);
    int32_t id = qlc_add_tensor_like(g, tt->name, "_quantized", QLITE_DTYPE_INT8, tt->rank, shape);
    if (id < 0 || set_q(g->tensors[id], a->scale, a->zp) != QLITE_OK ||
        set_range(g->tensors[id], a) != QLITE_OK)
        return -1;
    int32_t in = t;
    if (!qlc_add_op(g, NULL, "QuantizeLinear", QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &id)) return -1;
    if (!with) q->qcache[t] = id;
    return id;
}

/* The float version of int8-domain tensor t (a DEQUANTIZE, once). */
static int32_t dequantized(i8ctx *q, int32_t t) {
    qlc_graph *g = q->g;
    if (q->dqcache[t] >= 0) return q->dqcache[t];
    qlc_tensor *tt = g->tensors[t];
    int64_t shape[QLITE_MAX_RANK];
    memcpy(shape, tt->shape, sizeof shape);
    int32_t id =
        qlc_add_tensor_like(g, tt->name, "_dequantized", QLITE_DTYPE_FLOAT32, tt->rank, shape);
    if (id < 0) return -1;
    int32_t in = t;
    if (!qlc_add_op(g, NULL, "DequantizeLinear", QLITE_OP_DEQUANTIZE, NULL, 1, &in, 1, &id))
        return -1;
    q->dqcache[t] = id;
    return id;
}

static qlite_status rewrite(i8ctx *q) {
    qlc_graph *g = q->g;
    /* node inputs (the graph grows while this runs: only the original nodes) */
    for (uint32_t i = 0; i < q->nn; i++) {
        qlc_node *n = g->nodes[i];
        nplan *pl = &q->plan[i];
        if (n->dead || pl->dom == DOM_NONE) continue;
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            int32_t t = n->inputs[k];
            if (t < 0) continue;
            if (pl->consts[k] >= 0) {
                n->inputs[k] = pl->consts[k];
                continue;
            }
            if ((uint32_t)t >= q->nt || !q->is_act[t]) continue;
            int tdom = q->dom[t];
            int32_t r = t;
            if (pl->dom == DOM_INT8 && tdom == DOM_FLOAT) r = quantized(q, t, NULL);
            else if (pl->dom == DOM_FLOAT && tdom == DOM_INT8) r = dequantized(q, t);
            if (pl->dom == DOM_INT8 && pl->requant_inputs &&
                !params_equal(&q->p[t], &q->p[n->outputs[0]])) {
                /* rescale to the concatenation's parameters */
                int32_t src = r;
                qlc_tensor *st = g->tensors[src];
                int64_t shape[QLITE_MAX_RANK];
                memcpy(shape, st->shape, sizeof shape);
                r = qlc_add_tensor_like(g, g->tensors[t]->name, "_requantized", QLITE_DTYPE_INT8,
                                        st->rank, shape);
                const aparams *o = &q->p[n->outputs[0]];
                if (r < 0 || set_q(g->tensors[r], o->scale, o->zp) != QLITE_OK ||
                    !qlc_add_op(g, NULL, "QuantizeLinear", QLITE_OP_QUANTIZE, NULL, 1, &src, 1, &r))
                    r = -1;
            }
            if (r < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            n->inputs[k] = r;
        }
    }
    /* int8 activations: dtype and parameters in place */
    for (uint32_t t = 0; t < q->nt; t++) {
        if (!q->is_act[t] || q->dom[t] != DOM_INT8) continue;
        qlc_tensor *tt = g->tensors[t];
        if (set_q(tt, q->p[t].scale, q->p[t].zp) != QLITE_OK)
            return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        tt->dtype = QLITE_DTYPE_INT8;
        tt->qdq = false;
        if (set_range(tt, &q->p[t]) != QLITE_OK) return QLITE_ERR_NO_MEMORY;
    }
    /* same-parameter int8 ops whose output the model fixed otherwise:
     * the op writes the input's parameters, a QUANTIZE requantizes */
    for (uint32_t i = 0; i < q->nn; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || q->plan[i].dom != DOM_INT8 || !same_params_op(n->code)) continue;
        int32_t x = n->inputs[0];
        qlc_tensor *xt = g->tensors[x];
        if (xt->dtype != QLITE_DTYPE_INT8 || xt->quant.count != 1) continue;
        for (uint32_t k = 0; k < n->num_outputs; k++) {
            int32_t o = n->outputs[k];
            if (o < 0 || (uint32_t)o >= q->nt || !q->is_act[o]) continue;
            qlc_tensor *ot = g->tensors[o];
            if (qlc_quant_equal(&ot->quant, &xt->quant)) continue;
            int64_t shape[QLITE_MAX_RANK];
            memcpy(shape, ot->shape, sizeof shape);
            int32_t mid =
                qlc_add_tensor_like(g, ot->name, "_same", QLITE_DTYPE_INT8, ot->rank, shape);
            if (mid < 0 ||
                qlc_quant_copy(&g->tensors[mid]->quant, &g->tensors[x]->quant) != QLITE_OK)
                return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            n->outputs[k] = mid;
            if (!qlc_add_op(g, NULL, "QuantizeLinear", QLITE_OP_QUANTIZE, NULL, 1, &mid, 1, &o))
                return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        }
    }
    g->index_valid = false;
    return QLITE_OK;
}

/* QUANTIZE / DEQUANTIZE ops of a QDQ model that now connect two int8 tensors:
 * DEQUANTIZE becomes QUANTIZE (requantize); equal parameters vanish. */
static qlite_status tidy_qdq_ops(i8ctx *q) {
    qlc_graph *g = q->g;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead || (n->code != QLITE_OP_QUANTIZE && n->code != QLITE_OP_DEQUANTIZE)) continue;
        int32_t x = n->inputs[0], y = n->outputs[0];
        qlc_tensor *xt = g->tensors[x], *yt = g->tensors[y];
        bool xi = xt->dtype == QLITE_DTYPE_INT8 || xt->dtype == QLITE_DTYPE_UINT8;
        bool yi = yt->dtype == QLITE_DTYPE_INT8 || yt->dtype == QLITE_DTYPE_UINT8;
        if (!xi || !yi) continue;
        n->code = QLITE_OP_QUANTIZE;
        if (xt->dtype == yt->dtype && !xt->data && qlc_quant_equal(&xt->quant, &yt->quant) &&
            !xt->is_input && qlc_bypass(g, n, x, y)) {
            qlc_count(q->c, "requantizations with equal parameters removed", 1);
            if ((st = qlc_graph_reindex(g)) != QLITE_OK) return st;
        }
    }
    return QLITE_OK;
}

/* ---- step 4: model inputs and outputs -------------------------------------------------------- */

static qlite_status fix_io(i8ctx *q) {
    qlc_graph *g = q->g;
    qlite_convert_io io = q->c->opts.io;
    qlite_status st;
    for (uint32_t i = 0; i < g->num_inputs; i++) {
        int32_t x = g->inputs[i];
        if ((uint32_t)x >= q->nt || !q->is_act[x] || io != QLITE_CONVERT_IO_UINT8) continue;
        qlc_tensor *xt = g->tensors[x];
        if (xt->dtype != QLITE_DTYPE_INT8) continue;
        /* uint8 input -> int8 tensor read by the ops */
        int64_t shape[QLITE_MAX_RANK];
        memcpy(shape, xt->shape, sizeof shape);
        int32_t xi = qlc_add_tensor_like(g, xt->name, "_int8", QLITE_DTYPE_INT8, xt->rank, shape);
        if (xi < 0) return QLITE_ERR_NO_MEMORY;
        xt = g->tensors[x];
        if ((st = qlc_quant_copy(&g->tensors[xi]->quant, &xt->quant)) != QLITE_OK ||
            (st = set_range(g->tensors[xi], &q->p[x])) != QLITE_OK)
            return st;
        for (uint32_t k = 0; k < g->num_nodes; k++) {
            qlc_node *n = g->nodes[k];
            if (n->dead) continue;
            for (uint32_t s = 0; s < n->num_inputs; s++)
                if (n->inputs[s] == x) n->inputs[s] = xi;
        }
        xt->dtype = QLITE_DTYPE_UINT8;
        xt->quant.zero_point[0] += 128;
        if (!qlc_add_op(g, NULL, "QuantizeLinear", QLITE_OP_QUANTIZE, NULL, 1, &x, 1, &xi))
            return QLITE_ERR_NO_MEMORY;
    }
    for (uint32_t i = 0; i < g->num_outputs; i++) {
        int32_t y = g->outputs[i];
        if ((uint32_t)y >= q->nt || !q->is_act[y]) continue;
        qlc_tensor *yt = g->tensors[y];
        bool is8 = yt->dtype == QLITE_DTYPE_INT8;
        qlite_dtype want = io == QLITE_CONVERT_IO_FLOAT ? QLITE_DTYPE_FLOAT32
                           : io == QLITE_CONVERT_IO_INT8 ? QLITE_DTYPE_INT8 : QLITE_DTYPE_UINT8;
        if (yt->dtype == want) continue;
        if (g->tensors[y]->is_input) continue;
        /* the producer writes `inner` (the tensor as computed); an op converts into y */
        int64_t shape[QLITE_MAX_RANK];
        memcpy(shape, yt->shape, sizeof shape);
        int32_t inner = qlc_add_tensor_like(g, yt->name, is8 ? "_int8" : "_float", yt->dtype,
                                            yt->rank, shape);
        if (inner < 0) return QLITE_ERR_NO_MEMORY;
        yt = g->tensors[y];
        qlc_tensor *it = g->tensors[inner];
        if (is8 && ((st = qlc_quant_copy(&it->quant, &yt->quant)) != QLITE_OK ||
                    (st = set_range(it, &q->p[y])) != QLITE_OK))
            return st;
        for (uint32_t k = 0; k < g->num_nodes; k++) {
            qlc_node *n = g->nodes[k];
            if (n->dead) continue;
            for (uint32_t s = 0; s < n->num_inputs; s++)
                if (n->inputs[s] == y) n->inputs[s] = inner;
            for (uint32_t s = 0; s < n->num_outputs; s++)
                if (n->outputs[s] == y) n->outputs[s] = inner;
        }
        if (want == QLITE_DTYPE_FLOAT32) {
            yt->dtype = QLITE_DTYPE_FLOAT32;
            qlc_quant_clear(&yt->quant);
            if (!qlc_add_op(g, NULL, "DequantizeLinear", QLITE_OP_DEQUANTIZE, NULL, 1, &inner, 1,
                            &y))
                return QLITE_ERR_NO_MEMORY;
        } else {
            const aparams *a = &q->p[y];
            yt->dtype = want;
            if ((st = set_q(yt, a->scale, a->zp + (want == QLITE_DTYPE_UINT8 ? 128 : 0))) !=
                    QLITE_OK ||
                (st = set_range(yt, a)) != QLITE_OK)
                return st;
            if (!qlc_add_op(g, NULL, "QuantizeLinear", QLITE_OP_QUANTIZE, NULL, 1, &inner, 1, &y))
                return QLITE_ERR_NO_MEMORY;
        }
        qlc_count(q->c,
                  is8 ? "model outputs converted from int8" : "model outputs converted from float",
                  1);
    }
    g->index_valid = false;
    return QLITE_OK;
}

/* ---- the pass -------------------------------------------------------------------------------- */

static void i8_free(i8ctx *q) {
    for (uint32_t i = 0; q->plan && i < q->nn; i++) {
        free(q->plan[i].consts);
        free(q->plan[i].sqnr);
    }
    free(q->plan);
    free(q->is_act);
    free(q->p);
    free(q->dom);
    free(q->twin);
    free(q->qcache);
    free(q->dqcache);
}

static qlite_status report_one(i8ctx *q, int32_t t);

/* Activations in execution order: the model's inputs, then each op's outputs. */
static qlite_status report_activations(i8ctx *q) {
    qlc_graph *g = q->g;
    qlite_status st = QLITE_OK;
    for (uint32_t i = 0; i < g->num_inputs && st == QLITE_OK; i++) st = report_one(q, g->inputs[i]);
    for (uint32_t i = 0; i < q->nn && st == QLITE_OK; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead || q->plan[i].dom == DOM_NONE) continue;
        for (uint32_t k = 0; k < n->num_outputs && st == QLITE_OK; k++)
            if (n->outputs[k] >= 0) st = report_one(q, n->outputs[k]);
    }
    return st;
}

static qlite_status report_one(i8ctx *q, int32_t tt) {
    qlc_graph *g = q->g;
    {
        uint32_t t = (uint32_t)tt;
        if (t >= q->nt || !q->is_act[t] || !q->p[t].has) return QLITE_OK;
        const aparams *a = &q->p[t];
        bool i8 = q->dom[t] == DOM_INT8 || q->qcache[t] >= 0;
        qlite_status st = qlc_report_add_activation(q->r, g->tensors[t]->name,
                                                    i8 ? QLITE_DTYPE_INT8 : QLITE_DTYPE_FLOAT32,
                                                    i8 ? a->scale : 0, i8 ? a->zp : 0, a->min,
                                                    a->max, i8 ? a->source : "float island");
        if (st == QLITE_OK && q->dom[t] != DOM_INT8 && q->qcache[t] >= 0)
            st = qlc_report_set_activation_model_name(q->r, q->r->num_acts - 1,
                                                      g->tensors[q->qcache[t]]->name);
        if (st != QLITE_OK) return st;
    }
    return QLITE_OK;
}

qlite_status qlc_quant_int8(qlc_ctx *c, qlite_convert_report *r) {
    qlc_graph *g = c->g;
    qlite_status st = qlc_graph_toposort(g);
    if (st == QLITE_OK) st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    widen_concats(g);
    i8ctx q = {.c = c, .g = g, .r = r, .nt = g->num_tensors, .nn = g->num_nodes};
    size_t nt = q.nt ? q.nt : 1;
    q.is_act = calloc(nt, sizeof *q.is_act);
    q.p = calloc(nt, sizeof *q.p);
    q.dom = calloc(nt, sizeof *q.dom);
    q.twin = malloc(nt * sizeof *q.twin);
    q.qcache = malloc(nt * sizeof *q.qcache);
    q.dqcache = malloc(nt * sizeof *q.dqcache);
    q.plan = calloc(q.nn ? q.nn : 1, sizeof *q.plan);
    if (!q.is_act || !q.p || !q.dom || !q.twin || !q.qcache || !q.dqcache || !q.plan) {
        i8_free(&q);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint32_t t = 0; t < q.nt; t++) {
        q.twin[t] = q.qcache[t] = q.dqcache[t] = -1;
        q.is_act[t] = act_tensor(g, (int32_t)t) &&
                      (qlc_producer(g, (int32_t)t) >= 0 || g->tensors[t]->is_input);
    }
    char missing[256];
    if (!assign_params(g, q.p, missing, sizeof missing)) {
        i8_free(&q);
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "int8: no quantization parameters for "
                           "tensor %s", missing);
    }
    for (uint32_t i = 0; i < g->num_inputs; i++) {
        int32_t x = g->inputs[i];
        if (q.is_act[x]) q.dom[x] = c->opts.io == QLITE_CONVERT_IO_FLOAT ? DOM_FLOAT : DOM_INT8;
    }
    st = decide(&q);
    if (st == QLITE_OK) st = rewrite(&q);
    if (st == QLITE_OK) st = report_activations(&q);
    if (st == QLITE_OK) st = fix_io(&q);
    if (st == QLITE_OK) st = tidy_qdq_ops(&q);
    if (st == QLITE_OK) {
        uint32_t i8 = 0, fl = 0;
        for (uint32_t i = 0; i < q.nn; i++) {
            i8 += q.plan[i].dom == DOM_INT8;
            fl += q.plan[i].dom == DOM_FLOAT;
        }
        qlc_count(c, "ops quantized to int8", i8);
        if (fl) qlc_count(c, "ops left in float", fl);
        qlc_log(c, 1, "int8: %u ops int8, %u float", i8, fl);
    }
    i8_free(&q);
    return st;
}
