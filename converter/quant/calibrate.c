/*
 * calibrate.c — runs the float model over the representative dataset and
 * gives every float activation a range (docs/quantization.md §2.4).
 *
 * 1. The float model (emitted to memory by convert.c) is opened and run in
 *    batches through the dynamic batch dim (qlc_run); an observer sees every
 *    op's outputs after the op and folds float32 ones into per-tensor
 *    statistics. The model's inputs are never an op's output: their
 *    statistics come from the dataset arrays directly.
 * 2. minmax: one pass of running min / max. percentile, mse: a first pass
 *    for min / max, a second one filling a 2048-bin histogram over that
 *    range (estimators.c).
 * 3. Every tensor's [min, max] is stored in qlc_tensor.range of the graph
 *    tensor of the same name (the emitted model keeps the graph's names).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant_internal.h"

#define CALIB_BATCH 64

typedef struct tstat {
    bool seen;
    double min, max;
    qlc_hist *hist;       /* second pass */
} tstat;

typedef struct calib_state {
    tstat *st;            /* [model tensors] */
    uint32_t n;
    int pass;             /* 1 = min/max, 2 = histogram */
    bool oom;
} calib_state;

static void fold(calib_state *s, uint32_t t, const float *x, size_t n) {
    tstat *ts = &s->st[t];
    if (s->pass == 1) {
        double lo = ts->seen ? ts->min : INFINITY, hi = ts->seen ? ts->max : -INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (x[i] < lo) lo = x[i];
            if (x[i] > hi) hi = x[i];
        }
        if (n) {
            ts->min = lo;
            ts->max = hi;
            ts->seen = true;
        }
    } else if (ts->seen) {
        if (!ts->hist) {
            ts->hist = malloc(sizeof *ts->hist);
            if (!ts->hist) {
                s->oom = true;
                return;
            }
            qlc_hist_init(ts->hist, ts->min, ts->max);
        }
        qlc_hist_add(ts->hist, x, n);
    }
}

static void observer(void *user, uint32_t op_index, const qlite_op_info *op, uint32_t num_outputs,
                     const qlite_tensor_view *outputs) {
    (void)op_index;
    (void)op;
    calib_state *s = user;
    for (uint32_t k = 0; k < num_outputs; k++) {
        const qlite_tensor_view *v = &outputs[k];
        if (!v->data || v->dtype != QLITE_DTYPE_FLOAT32 || v->tensor >= s->n) continue;
        fold(s, v->tensor, v->data, v->bytes / 4);
    }
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

qlite_status qlc_calibrate(qlc_ctx *c, const void *float_bytes, size_t float_size,
                           const qlc_dataset *d, qlite_convert_report *r) {
    double t0 = seconds();
    qlc_graph *g = c->g;
    calib_state s = {0};
    qlc_run run;
    qlite_status st = qlc_run_open(float_bytes, float_size, 0, c->opts.num_threads, observer, &s,
                                   CALIB_BATCH, &run);
    if (st != QLITE_OK) return st;
    s.n = qlite_model_tensor_count(run.model);
    s.st = calloc(s.n ? s.n : 1, sizeof *s.st);
    if (!s.st) {
        qlc_run_close(&run);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    qlite_calibration_method m = c->opts.calibration;
    int passes = m == QLITE_CALIBRATION_MINMAX ? 1 : 2;
    uint64_t total = d->samples * (uint64_t)passes, done = 0;
    uint64_t used = 0;
    for (s.pass = 1; s.pass <= passes && st == QLITE_OK; s.pass++) {
        /* the model's inputs, straight from the data */
        for (uint32_t i = 0; i < d->num_inputs; i++) {
            int32_t t = qlite_model_input(run.model, i);
            const qlite_npy_array *a = &d->inputs[i];
            if (t >= 0 && (uint32_t)t < s.n && a->dtype == QLITE_DTYPE_FLOAT32)
                fold(&s, (uint32_t)t, a->data, a->bytes / 4);
        }
        qlc_progress(c, "calibrating", done, total);
        uint64_t first = 0, n;
        while (st == QLITE_OK && (n = qlc_run_chunk(&run, d, first)) > 0) {
            st = qlc_run_batch(&run, d, first, n);
            if (st == QLITE_OK && s.oom) st = qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            first += n;
            done += n;
            qlc_progress(c, "calibrating", done, total);
        }
        used = first;
    }
    if (st == QLITE_OK && used == 0)
        st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                         "calibration data: %llu samples but the model takes batches of %llu",
                         (unsigned long long)d->samples, (unsigned long long)run.batch);
    float pct = c->opts.percentile > 0 ? c->opts.percentile : 99.99f;
    uint32_t ranged = 0;
    for (uint32_t t = 0; t < s.n && st == QLITE_OK; t++) {
        tstat *ts = &s.st[t];
        if (!ts->seen) continue;
        const qlite_tensor_info *ti = qlite_model_tensor(run.model, t);
        int32_t gt = ti ? qlc_find_tensor(g, ti->name) : -1;
        if (gt < 0) continue;
        float lo = (float)ts->min, hi = (float)ts->max;
        if (!isfinite(lo) || !isfinite(hi)) {
            st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                             "calibration: tensor '%s' reached %s on the calibration data; its "
                             "range cannot be quantized", ti->name,
                             isnan(lo) || isnan(hi) ? "NaN" : "an infinity");
            break;
        }
        if (ts->hist && m == QLITE_CALIBRATION_PERCENTILE)
            qlc_estimate_percentile(ts->hist, pct, &lo, &hi);
        else if (ts->hist && m == QLITE_CALIBRATION_MSE)
            qlc_estimate_mse(ts->hist, &lo, &hi, NULL);
        qlc_range *rg = &g->tensors[gt]->range;
        free(rg->min);
        free(rg->max);
        rg->min = malloc(sizeof(float));
        rg->max = malloc(sizeof(float));
        if (!rg->min || !rg->max) {
            rg->count = 0;
            st = qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            break;
        }
        rg->min[0] = lo;
        rg->max[0] = hi;
        rg->count = 1;
        ranged++;
    }
    for (uint32_t t = 0; t < s.n; t++) free(s.st[t].hist);
    free(s.st);
    qlc_run_close(&run);
    if (st != QLITE_OK) return st;
    r->calib.samples = used;
    r->calib.method = m;
    r->calib.percentile = m == QLITE_CALIBRATION_PERCENTILE ? pct : 0;
    r->calib.seconds = seconds() - t0;
    qlc_log(c, 1, "calibration: %llu samples, %u tensors ranged (%s)", (unsigned long long)used,
            ranged, qlite_calibration_method_name(m));
    return QLITE_OK;
}
