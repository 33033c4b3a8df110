/*
 * measure.c — what quantization cost, measured by running both models:
 *
 *   activation SQNR: the float model and the converted model run on the same
 *   batches (both with QLITE_INTERP_KEEP_ALL_TENSORS, so every tensor is
 *   readable after invoke); for every activation of the report, the tensor
 *   of that name in both models (int8 values dequantized with their scale
 *   and zero point) adds Σf² to the signal and Σ(f − q)² to the noise;
 *   SQNR = 10·log10(signal / noise) over the whole dataset.
 *
 *   accuracy: output 0 of both models, argmax over each sample's values,
 *   against the labels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant_internal.h"

#define MEASURE_BATCH 32

typedef struct pair {
    int32_t ft, qt;          /* tensor in the float / converted model */
    double signal, noise;
} pair;

static double value(const qlite_tensor_view *v, size_t i) {
    switch (v->dtype) {
    case QLITE_DTYPE_FLOAT32: return ((const float *)v->data)[i];
    case QLITE_DTYPE_FLOAT16: return qlite_fp16_to_fp32(((const uint16_t *)v->data)[i]);
    case QLITE_DTYPE_INT8: return (double)v->scale * (((const int8_t *)v->data)[i] - v->zero_point);
    case QLITE_DTYPE_UINT8:
        return (double)v->scale * (((const uint8_t *)v->data)[i] - v->zero_point);
    default: return NAN;
    }
}

static size_t view_elements(const qlite_tensor_view *v) {
    size_t n = 1;
    for (uint32_t i = 0; i < v->rank; i++) n *= (size_t)v->dims[i];
    return n;
}

qlite_status qlc_measure_activations(qlc_ctx *c, const void *float_bytes, size_t float_size,
                                     const void *conv_bytes, size_t conv_size,
                                     const qlc_dataset *d, qlite_convert_report *r) {
    qlc_run fr, qr;
    qlite_status st = qlc_run_open(float_bytes, float_size, QLITE_INTERP_KEEP_ALL_TENSORS,
                                   c->opts.num_threads, NULL, NULL, MEASURE_BATCH, &fr);
    if (st != QLITE_OK) return st;
    if ((st = qlc_run_open(conv_bytes, conv_size, QLITE_INTERP_KEEP_ALL_TENSORS,
                           c->opts.num_threads, NULL, NULL, MEASURE_BATCH, &qr)) != QLITE_OK) {
        qlc_run_close(&fr);
        return st;
    }
    if (!r->num_acts) {
        /* float16 / dynamic: every float activation of the float model */
        uint32_t n = qlite_model_tensor_count(fr.model);
        bool *produced = calloc(n ? n : 1, sizeof *produced);
        if (!produced) st = qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        for (uint32_t i = 0; produced && i < qlite_model_op_count(fr.model); i++) {
            const qlite_op_info *op = qlite_model_op(fr.model, i);
            for (uint32_t k = 0; k < op->num_outputs; k++)
                if (op->outputs[k] >= 0 && (uint32_t)op->outputs[k] < n)
                    produced[op->outputs[k]] = true;
        }
        for (uint32_t t = 0; t < n && st == QLITE_OK; t++) {
            const qlite_tensor_info *ti = qlite_model_tensor(fr.model, t);
            if (!produced[t] || ti->dtype != QLITE_DTYPE_FLOAT32) continue;
            st = qlc_report_add_activation(r, ti->name, QLITE_DTYPE_FLOAT32, 0, 0, 0, 0, "float");
        }
        free(produced);
    }
    pair *pairs = calloc(r->num_acts ? r->num_acts : 1, sizeof *pairs);
    if (!pairs && st == QLITE_OK) st = qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    for (uint32_t i = 0; st == QLITE_OK && i < r->num_acts; i++) {
        const char *qn = r->act_model_names && r->act_model_names[i] ? r->act_model_names[i]
                                                                     : r->acts[i].tensor;
        pairs[i].ft = qlite_model_find_tensor(fr.model, r->acts[i].tensor);
        pairs[i].qt = qlite_model_find_tensor(qr.model, qn);
    }
    uint64_t first = 0, n;
    qlc_progress(c, "measuring", 0, d->samples);
    while (st == QLITE_OK && (n = qlc_run_chunk(&fr, d, first)) > 0) {
        if (qr.dynamic != fr.dynamic || (!qr.dynamic && qr.batch != n)) break;
        st = qlc_run_batch(&fr, d, first, n);
        if (st == QLITE_OK) st = qlc_run_batch(&qr, d, first, n);
        for (uint32_t i = 0; st == QLITE_OK && i < r->num_acts; i++) {
            pair *p = &pairs[i];
            if (p->ft < 0 || p->qt < 0) continue;
            qlite_tensor_view fv, qv;
            if (qlite_interpreter_tensor(fr.interp, (uint32_t)p->ft, &fv) != QLITE_OK ||
                qlite_interpreter_tensor(qr.interp, (uint32_t)p->qt, &qv) != QLITE_OK ||
                !fv.data || !qv.data) {
                p->ft = -1;
                continue;
            }
            size_t ne = view_elements(&fv);
            if (ne != view_elements(&qv)) {
                p->ft = -1;
                continue;
            }
            for (size_t e = 0; e < ne; e++) {
                double a = value(&fv, e), b = value(&qv, e);
                p->signal += a * a;
                p->noise += (a - b) * (a - b);
            }
        }
        first += n;
        qlc_progress(c, "measuring", first, d->samples);
    }
    for (uint32_t i = 0; st == QLITE_OK && i < r->num_acts; i++)
        if (pairs[i].ft >= 0 && pairs[i].qt >= 0 && first)
            r->acts[i].sqnr_db = qlc_sqnr_db(pairs[i].signal, pairs[i].noise);
    free(pairs);
    qlc_run_close(&fr);
    qlc_run_close(&qr);
    return st;
}

/* argmax of each of `rows` rows of `cols` values. */
static void argmax_rows(const float *v, size_t rows, size_t cols, int64_t *out) {
    for (size_t r = 0; r < rows; r++) {
        size_t best = 0;
        for (size_t k = 1; k < cols; k++)
            if (v[r * cols + k] > v[r * cols + best]) best = k;
        out[r] = (int64_t)best;
    }
}

qlite_status qlc_measure_accuracy(qlc_ctx *c, const void *float_bytes, size_t float_size,
                                  const void *conv_bytes, size_t conv_size, const qlc_dataset *d,
                                  const int64_t *labels, qlite_convert_report *r) {
    qlc_run runs[2];
    qlite_status st = qlc_run_open(float_bytes, float_size, 0, c->opts.num_threads, NULL, NULL,
                                   MEASURE_BATCH * 2, &runs[0]);
    if (st != QLITE_OK) return st;
    if ((st = qlc_run_open(conv_bytes, conv_size, 0, c->opts.num_threads, NULL, NULL,
                           MEASURE_BATCH * 2, &runs[1])) != QLITE_OK) {
        qlc_run_close(&runs[0]);
        return st;
    }
    int64_t *pred[2] = {malloc(d->samples * sizeof(int64_t)), malloc(d->samples * sizeof(int64_t))};
    if (!pred[0] || !pred[1]) st = qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint64_t done = 0;
    for (int m = 0; m < 2 && st == QLITE_OK; m++) {
        uint64_t first = 0, n;
        while (st == QLITE_OK && (n = qlc_run_chunk(&runs[m], d, first)) > 0) {
            st = qlc_run_batch(&runs[m], d, first, n);
            float *out = NULL;
            size_t count = 0;
            if (st == QLITE_OK) st = qlc_run_output_f32(&runs[m], 0, &out, &count);
            if (st == QLITE_OK) {
                if (!count || count % n) {
                    st = qlite_error(QLITE_ERR_SHAPE,
                                     "evaluation: output 0 has %zu values for %llu "
                                     "samples",
                                     count, (unsigned long long)n);
                } else {
                    argmax_rows(out, n, count / n, pred[m] + first);
                }
            }
            free(out);
            first += n;
            qlc_progress(c, "evaluating", done + first, 2 * d->samples);
        }
        if (m == 0) done = first;
        if (st == QLITE_OK && first != d->samples)
            st =
                qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                            "evaluation: %llu samples do not divide into the model's batch of %llu",
                            (unsigned long long)d->samples, (unsigned long long)runs[m].batch);
    }
    if (st == QLITE_OK) {
        uint64_t ok[2] = {0, 0}, agree = 0;
        for (uint64_t i = 0; i < d->samples; i++) {
            ok[0] += pred[0][i] == labels[i];
            ok[1] += pred[1][i] == labels[i];
            agree += pred[0][i] == pred[1][i];
        }
        r->accuracy.samples = d->samples;
        r->accuracy.float_top1 = (double)ok[0] / (double)d->samples;
        r->accuracy.converted_top1 = (double)ok[1] / (double)d->samples;
        r->accuracy.agree = agree;
    }
    free(pred[0]);
    free(pred[1]);
    qlc_run_close(&runs[0]);
    qlc_run_close(&runs[1]);
    return st;
}
