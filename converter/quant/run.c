/*
 * run.c — runs a model (bytes in memory) over a dataset in batches, for
 * calibration, SQNR and accuracy. A model whose batch dim is dynamic takes
 * up to max_batch samples per invoke (the interpreter is resized when the
 * last chunk is smaller); a fixed batch B takes B samples per invoke and a
 * tail shorter than B is not run.
 */
#include <stdlib.h>
#include <string.h>

#include "quant_internal.h"

void qlc_progress(const qlc_ctx *c, const char *stage, uint64_t done, uint64_t total) {
    if (c->opts.progress) c->opts.progress(c->opts.progress_user, stage, done, total);
}

void qlc_run_close(qlc_run *r) {
    if (!r) return;
    qlite_interpreter_destroy(r->interp);
    qlite_model_close(r->model);
    memset(r, 0, sizeof *r);
}

qlite_status qlc_run_open(const void *bytes, size_t size, uint32_t flags, int32_t threads,
                          qlite_observer_fn observer, void *user, uint64_t max_batch,
                          qlc_run *out) {
    memset(out, 0, sizeof *out);
    qlite_status st = qlite_model_open_memory(bytes, size, 0, &out->model);
    if (st != QLITE_OK) return st;
    qlite_interpreter_options o = {.num_threads = threads, .flags = flags, .observer = observer,
                                   .observer_user = user};
    if ((st = qlite_interpreter_create(out->model, &o, &out->interp)) != QLITE_OK) {
        qlc_run_close(out);
        return st;
    }
    /* batch: the first input's dim 0 (-1 = dynamic) */
    const qlite_tensor_info *ti =
        qlite_model_tensor(out->model, (uint32_t)qlite_model_input(out->model, 0));
    out->dynamic = ti && ti->rank > 0 && ti->shape[0] < 0;
    out->batch = out->dynamic ? (max_batch ? max_batch : 1)
                              : (ti && ti->rank > 0 ? (uint64_t)ti->shape[0] : 1);
    return QLITE_OK;
}

uint64_t qlc_run_chunk(const qlc_run *r, const qlc_dataset *d, uint64_t first) {
    if (first >= d->samples) return 0;
    uint64_t left = d->samples - first;
    if (r->dynamic) return left < r->batch ? left : r->batch;
    return left >= r->batch ? r->batch : 0;
}

qlite_status qlc_run_batch(qlc_run *r, const qlc_dataset *d, uint64_t first, uint64_t n) {
    qlite_status st;
    uint32_t ni = qlite_interpreter_input_count(r->interp);
    if (ni != d->num_inputs)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "the model has %u inputs, the data %u", ni,
                           d->num_inputs);
    if (r->current != n) {
        if (r->dynamic)
            for (uint32_t i = 0; i < ni; i++) {
                const qlite_npy_array *a = &d->inputs[i];
                int64_t dims[QLITE_MAX_RANK];
                memcpy(dims, a->dims, sizeof dims);
                dims[0] = (int64_t)n;
                if ((st = qlite_interpreter_resize_input(r->interp, i, a->rank, dims)) != QLITE_OK)
                    return st;
            }
        if ((st = qlite_interpreter_prepare(r->interp)) != QLITE_OK) return st;
        r->current = n;
    }
    for (uint32_t i = 0; i < ni; i++) {
        const qlite_npy_array *a = &d->inputs[i];
        size_t per = a->dims[0] ? a->bytes / (size_t)a->dims[0] : 0;
        const char *src = (const char *)a->data + per * first;
        qlite_tensor_view v;
        if ((st = qlite_interpreter_input(r->interp, i, &v)) != QLITE_OK) return st;
        if (v.dtype == a->dtype) {
            if (v.bytes != per * n)
                return qlite_error(QLITE_ERR_SHAPE, "input %u takes %zu bytes, the data gives %zu",
                                   i, v.bytes, (size_t)(per * n));
            memcpy(v.data, src, v.bytes);
        } else if (a->dtype == QLITE_DTYPE_FLOAT32 &&
                   (v.dtype == QLITE_DTYPE_INT8 || v.dtype == QLITE_DTYPE_UINT8)) {
            /* an int8/uint8 input of a full-integer model: quantize like QUANTIZE does */
            size_t cnt = per * n / 4;
            if (v.bytes != cnt)
                return qlite_error(QLITE_ERR_SHAPE, "input %u takes %zu values, the data gives %zu",
                                   i, v.bytes, cnt);
            int32_t lo, hi;
            qlite_dtype_qrange(v.dtype, &lo, &hi);
            const float *f = (const float *)src;
            for (size_t k = 0; k < cnt; k++) {
                int32_t q = qlite_quantize_value(f[k], v.scale, v.zero_point, lo, hi);
                if (v.dtype == QLITE_DTYPE_INT8) ((int8_t *)v.data)[k] = (int8_t)q;
                else ((uint8_t *)v.data)[k] = (uint8_t)q;
            }
        } else {
            return qlite_error(QLITE_ERR_DTYPE, "input %u is %s, the data %s", i,
                               qlite_dtype_name(v.dtype), qlite_dtype_name(a->dtype));
        }
    }
    return qlite_interpreter_invoke(r->interp);
}

qlite_status qlc_run_output_f32(const qlc_run *r, uint32_t index, float **out, size_t *count) {
    *out = NULL;
    *count = 0;
    qlite_tensor_view v;
    qlite_status st = qlite_interpreter_output(r->interp, index, &v);
    if (st != QLITE_OK) return st;
    size_t n = 1;
    for (uint32_t i = 0; i < v.rank; i++) n *= (size_t)v.dims[i];
    float *f = malloc((n ? n : 1) * sizeof *f);
    if (!f) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        switch (v.dtype) {
        case QLITE_DTYPE_FLOAT32: f[i] = ((const float *)v.data)[i]; break;
        case QLITE_DTYPE_FLOAT16: f[i] = qlite_fp16_to_fp32(((const uint16_t *)v.data)[i]); break;
        case QLITE_DTYPE_INT8:
            f[i] = v.scale * (float)(((const int8_t *)v.data)[i] - v.zero_point);
            break;
        case QLITE_DTYPE_UINT8:
            f[i] = v.scale * (float)(((const uint8_t *)v.data)[i] - v.zero_point);
            break;
        default:
            free(f);
            return qlite_error(QLITE_ERR_DTYPE, "output %u is %s; a classifier's output must be "
                               "float or int8", index, qlite_dtype_name(v.dtype));
        }
    }
    *out = f;
    *count = n;
    return QLITE_OK;
}
