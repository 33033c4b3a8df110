/*
 * dataset.c — representative and evaluation datasets (.npy / .npz) bound to
 * the graph's inputs, with every check a user needs a clear message for:
 * which file, which array, which input, expected vs found.
 *
 * Binding, per file:
 *   .npy            one unnamed array: the model must have one input;
 *   .npz            arrays named after inputs feed them (other arrays are
 *                   ignored); an .npz with a single array feeds a
 *                   single-input model whatever its name.
 * Files are concatenated on axis 0 (every file must feed every input).
 * Checks: dtype equal to the input's, same rank, every dim but the first
 * equal (the first is the sample axis), equal sample counts across inputs,
 * at least one sample, no NaN or Inf in float data. An input made channels
 * last by --nhwc-io also takes channels-first data (the layout the ONNX model
 * declares), transposed here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant_internal.h"

void qlc_dataset_free(qlc_dataset *d) {
    if (!d) return;
    for (uint32_t i = 0; i < d->num_inputs; i++) qlite_npy_free(&d->inputs[i]);
    free(d->inputs);
    memset(d, 0, sizeof *d);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void shape_str(uint32_t rank, const int64_t *dims, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "[");
    for (uint32_t i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
}

static void input_names(const qlc_graph *g, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < g->num_inputs && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s'%s'", i ? ", " : "",
                              g->tensors[g->inputs[i]]->name);
}

/* Checks one array against input t; `where` = "file 'x.npz' array 'a'". */
static qlite_status check_array(const char *what, const char *where, const qlc_tensor *t,
                                const qlite_npy_array *a) {
    char want[160], got[160];
    int64_t ws[QLITE_MAX_RANK];
    for (int32_t i = 0; i < t->rank; i++) ws[i] = t->shape[i];
    if (t->rank > 0) ws[0] = -1;
    shape_str((uint32_t)(t->rank > 0 ? t->rank : 0), ws, want, sizeof want);
    shape_str(a->rank, a->dims, got, sizeof got);
    /* "-1" reads better as "N" in the message */
    char *p = strstr(want, "-1");
    if (p) {
        p[0] = 'N';
        memmove(p + 1, p + 2, strlen(p + 2) + 1);
    }
    if (a->dtype != t->dtype)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "%s: %s is %s but model input '%s' is %s", what, where,
                           qlite_dtype_name(a->dtype), t->name, qlite_dtype_name(t->dtype));
    if (t->rank < 1)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "%s: model input '%s' is a scalar; samples need a batch axis", what,
                           t->name);
    if ((int32_t)a->rank != t->rank)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "%s: %s has shape %s but model input '%s' needs %s (samples on axis 0)",
                           what, where, got, t->name, want);
    for (int32_t i = 1; i < t->rank; i++)
        if (a->dims[i] != t->shape[i])
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                               "%s: %s has shape %s but model input '%s' needs %s (dim %d is "
                               "%lld, expected %lld)", what, where, got, t->name, want, (int)i,
                               (long long)a->dims[i], (long long)t->shape[i]);
    if (a->dtype == QLITE_DTYPE_FLOAT32 || a->dtype == QLITE_DTYPE_FLOAT16) {
        size_t n = a->bytes / (a->dtype == QLITE_DTYPE_FLOAT32 ? 4 : 2);
        for (size_t i = 0; i < n; i++) {
            float v = a->dtype == QLITE_DTYPE_FLOAT32
                          ? ((const float *)a->data)[i]
                          : qlite_fp16_to_fp32(((const uint16_t *)a->data)[i]);
            if (!isfinite(v)) {
                size_t inner = a->dims[0] ? n / (size_t)a->dims[0] : 1;
                return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                                   "%s: %s holds %s at sample %zu (element %zu): calibration and "
                                   "evaluation data must be finite",
                                   what, where, isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"),
                                   inner ? i / inner : 0, i);
            }
        }
    }
    return QLITE_OK;
}

/* An --nhwc-io input (channels last) given channels-first data, as the ONNX
 * model declares it: the data is transposed to the input's layout. */
static qlite_status to_channels_last(const qlc_tensor *t, qlite_npy_array *a) {
    int32_t r = t->rank;
    if (t->layout != QLC_LAYOUT_NHWC || (r != 3 && r != 4) || (int32_t)a->rank != r)
        return QLITE_OK;
    /* the channels-first shape of t: [N, C, spatial...] */
    bool first = a->dims[1] == t->shape[r - 1], same = true;
    for (int32_t d = 2; d < r; d++) first = first && a->dims[d] == t->shape[d - 1];
    for (int32_t d = 1; d < r; d++) same = same && a->dims[d] == t->shape[d];
    if (!first || same) return QLITE_OK;
    size_t es = qlite_npy_dtype_size(a->dtype);
    uint64_t n = (uint64_t)a->dims[0], c = (uint64_t)a->dims[1], hw = 1;
    for (int32_t d = 2; d < r; d++) hw *= (uint64_t)a->dims[d];
    unsigned char *dst = malloc(a->bytes ? a->bytes : 1);
    if (!dst) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    const unsigned char *src = a->data;
    for (uint64_t b = 0; b < n; b++)
        for (uint64_t ch = 0; ch < c; ch++)
            for (uint64_t i = 0; i < hw; i++)
                memcpy(dst + ((b * hw + i) * c + ch) * es, src + ((b * c + ch) * hw + i) * es, es);
    free(a->data);
    a->data = dst;
    int64_t cdim = a->dims[1];
    for (int32_t d = 1; d < r - 1; d++) a->dims[d] = a->dims[d + 1];
    a->dims[r - 1] = cdim;
    return QLITE_OK;
}

/* Appends array a (checked) to acc on axis 0; takes a's data. */
static qlite_status append(qlite_npy_array *acc, qlite_npy_array *a) {
    if (!acc->data && !acc->bytes) {
        *acc = *a;
        acc->name = NULL;
        free(a->name);
        memset(a, 0, sizeof *a);
        return QLITE_OK;
    }
    size_t nb = acc->bytes + a->bytes;
    void *p = realloc(acc->data, nb ? nb : 1);
    if (!p) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory (calibration data)");
    memcpy((char *)p + acc->bytes, a->data, a->bytes);
    acc->data = p;
    acc->bytes = nb;
    acc->dims[0] += a->dims[0];
    qlite_npy_free(a);
    return QLITE_OK;
}

qlite_status qlc_dataset_load(const qlc_graph *g, const char *const *files, uint32_t num_files,
                              uint64_t max_samples, const char *what, qlc_dataset *out) {
    memset(out, 0, sizeof *out);
    if (!g->num_inputs)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "%s: the model has no inputs", what);
    out->inputs = calloc(g->num_inputs, sizeof *out->inputs);
    if (!out->inputs) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    out->num_inputs = g->num_inputs;
    qlite_status st = QLITE_OK;
    char names[512];
    input_names(g, names, sizeof names);
    for (uint32_t f = 0; f < num_files && st == QLITE_OK; f++) {
        qlite_npz z;
        if ((st = qlite_npy_load(files[f], &z)) != QLITE_OK) {
            char msg[QLITE_ERROR_MAX];
            snprintf(msg, sizeof msg, "%s", qlite_last_error());
            st = qlite_error(st == QLITE_ERR_IO ? QLITE_ERR_IO : QLITE_ERR_INVALID_ARGUMENT,
                             "%s: %s", what, msg);
            break;
        }
        for (uint32_t i = 0; i < g->num_inputs && st == QLITE_OK; i++) {
            const qlc_tensor *t = g->tensors[g->inputs[i]];
            int32_t pick = -1;
            for (uint32_t k = 0; k < z.count; k++)
                if (z.arrays[k].name && !strcmp(z.arrays[k].name, t->name)) pick = (int32_t)k;
            if (pick < 0 && z.count == 1 && g->num_inputs == 1) pick = 0;
            if (pick < 0) {
                char have[512];
                size_t n = 0;
                have[0] = 0;
                for (uint32_t k = 0; k < z.count && n < sizeof have; k++)
                    n += (size_t)snprintf(have + n, sizeof have - n, "%s'%s'", k ? ", " : "",
                                          z.arrays[k].name ? z.arrays[k].name : "(unnamed)");
                if (!z.arrays[0].name)
                    st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                                     "%s: '%s' is a .npy (one array) but the model has %u inputs "
                                     "(%s): give an .npz with one array named after each input",
                                     what, base_name(files[f]), g->num_inputs, names);
                else
                    st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                                     "%s: '%s' has no array for model input '%s' (arrays: %s; "
                                     "inputs: %s)", what, base_name(files[f]), t->name, have,
                                     names);
                break;
            }
            char where[600];
            if (z.arrays[pick].name)
                snprintf(where, sizeof where, "'%s' array '%s'", base_name(files[f]),
                         z.arrays[pick].name);
            else
                snprintf(where, sizeof where, "'%s'", base_name(files[f]));
            if ((st = to_channels_last(t, &z.arrays[pick])) != QLITE_OK ||
                (st = check_array(what, where, t, &z.arrays[pick])) != QLITE_OK)
                break;
            st = append(&out->inputs[i], &z.arrays[pick]);
        }
        qlite_npz_free(&z);
    }
    if (st == QLITE_OK) {
        uint64_t n = (uint64_t)out->inputs[0].dims[0];
        for (uint32_t i = 1; i < out->num_inputs && st == QLITE_OK; i++)
            if ((uint64_t)out->inputs[i].dims[0] != n)
                st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                                 "%s: input '%s' has %lld samples but input '%s' has %llu", what,
                                 g->tensors[g->inputs[i]]->name, (long long)out->inputs[i].dims[0],
                                 g->tensors[g->inputs[0]]->name, (unsigned long long)n);
        if (st == QLITE_OK && n == 0)
            st = qlite_error(QLITE_ERR_INVALID_ARGUMENT, "%s: the dataset is empty (0 samples)",
                             what);
        if (st == QLITE_OK && max_samples && max_samples < n) {
            for (uint32_t i = 0; i < out->num_inputs; i++) {
                qlite_npy_array *a = &out->inputs[i];
                a->bytes = (size_t)(a->bytes / (uint64_t)a->dims[0] * max_samples);
                a->dims[0] = (int64_t)max_samples;
            }
            n = max_samples;
        }
        out->samples = n;
    }
    if (st != QLITE_OK) qlc_dataset_free(out);
    return st;
}

qlite_status qlc_labels_load(const char *path, uint64_t samples, int64_t **labels) {
    *labels = NULL;
    qlite_npy_array a;
    qlite_status st = qlite_npy_read_file(path, &a);
    if (st != QLITE_OK) {
        char msg[QLITE_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", qlite_last_error());
        return qlite_error(st == QLITE_ERR_IO ? st : QLITE_ERR_INVALID_ARGUMENT, "labels: %s", msg);
    }
    uint64_t n = a.rank ? (uint64_t)a.dims[0] : 1;
    bool shape_ok = a.rank == 1 || (a.rank == 2 && a.dims[1] == 1);
    size_t es = qlite_npy_dtype_size(a.dtype);
    bool int_ok = a.dtype == QLITE_DTYPE_INT64 || a.dtype == QLITE_DTYPE_INT32 ||
                  a.dtype == QLITE_DTYPE_INT16 || a.dtype == QLITE_DTYPE_INT8 ||
                  a.dtype == QLITE_DTYPE_UINT8;
    if (!int_ok || !shape_ok) {
        char got[160];
        shape_str(a.rank, a.dims, got, sizeof got);
        st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                         "labels: '%s' is %s %s; expected integer class indices of shape [%llu]",
                         base_name(path), qlite_dtype_name(a.dtype), got,
                         (unsigned long long)samples);
    } else if (n != samples) {
        st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                         "labels: '%s' has %llu labels but the evaluation data has %llu samples",
                         base_name(path), (unsigned long long)n, (unsigned long long)samples);
    }
    if (st == QLITE_OK) {
        int64_t *l = malloc((n ? n : 1) * sizeof *l);
        if (!l) st = qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        for (uint64_t i = 0; l && i < n; i++) {
            const char *p = (const char *)a.data + i * es;
            switch (a.dtype) {
            case QLITE_DTYPE_INT64: { int64_t v; memcpy(&v, p, 8); l[i] = v; break; }
            case QLITE_DTYPE_INT32: { int32_t v; memcpy(&v, p, 4); l[i] = v; break; }
            case QLITE_DTYPE_INT16: { int16_t v; memcpy(&v, p, 2); l[i] = v; break; }
            case QLITE_DTYPE_INT8: l[i] = *(const int8_t *)p; break;
            default: l[i] = *(const uint8_t *)p; break;
            }
        }
        *labels = l;
    }
    qlite_npy_free(&a);
    return st;
}
