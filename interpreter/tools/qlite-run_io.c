/*
 * qlite-run_io.c — inputs from .npy/.npz, outputs to the terminal and to
 * .npy/.npz (see qlite-run.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite-run.h"
#include "quant.h"

static const char *dims_str(uint32_t rank, const int64_t *dims, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

static const qlite_tensor_info *input_info(const qlite_model *m, uint32_t i) {
    return qlite_model_tensor(m, (uint32_t)qlite_model_input(m, i));
}

static int find_input(const qlite_model *m, const char *name, size_t len) {
    for (uint32_t i = 0; i < qlite_model_input_count(m); i++) {
        const char *n = input_info(m, i)->name;
        if (n && strlen(n) == len && strncmp(n, name, len) == 0) return (int)i;
    }
    return -1;
}

static void input_names(const qlite_model *m, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < qlite_model_input_count(m) && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s'%s'", i ? ", " : "", input_info(m, i)->name);
}

static int bind(run_inputs *in, const qlite_model *m, uint32_t i, const qlite_npy_array *a,
                const char *file, const char *member) {
    if (in->array[i])
        return run_fail("input %u '%s' is given twice (%s and %s)", i, input_info(m, i)->name,
                        in->source[i], file);
    size_t len = strlen(file) + (member ? strlen(member) + 2 : 1);
    char *s = malloc(len);
    if (!s) return run_fail("out of memory");
    snprintf(s, len, member ? "%s:%s" : "%s", file, member);
    in->array[i] = a;
    in->source[i] = in->source_owned[i] = s;
    return 0;
}

static int next_free(const run_inputs *in) {
    for (uint32_t i = 0; i < in->count; i++)
        if (!in->array[i]) return (int)i;
    return -1;
}

int run_inputs_load(const qlite_model *m, int argc, const char *const *args, run_inputs *in) {
    memset(in, 0, sizeof *in);
    in->count = qlite_model_input_count(m);
    uint32_t n = in->count ? in->count : 1;
    in->array = calloc(n, sizeof *in->array);
    in->source = calloc(n, sizeof *in->source);
    in->source_owned = calloc(n, sizeof *in->source_owned);
    in->converted = calloc(n, sizeof *in->converted);
    in->files = calloc(argc ? (size_t)argc : 1, sizeof *in->files);
    if (!in->array || !in->source || !in->source_owned || !in->converted || !in->files)
        return run_fail("out of memory");
    char names[1024];
    for (int k = 0; k < argc; k++) {
        const char *arg = args[k], *path = arg, *eq = strchr(arg, '=');
        int named = -1;
        if (eq) {
            named = find_input(m, arg, (size_t)(eq - arg));
            if (named >= 0) path = eq + 1;
        }
        qlite_npz *z = &in->files[in->num_files];
        if (qlite_npy_load(path, z) != QLITE_OK) return run_fail("%s", qlite_last_error());
        in->num_files++;
        if (named >= 0) {
            if (z->count != 1)
                return run_fail("--input %s: %s holds %u arrays; NAME=FILE needs exactly one",
                                arg, path, z->count);
            if (bind(in, m, (uint32_t)named, &z->arrays[0], path, z->arrays[0].name)) return 1;
            continue;
        }
        if (!z->arrays[0].name) { /* a .npy: the next input without data */
            int i = next_free(in);
            if (i < 0) {
                input_names(m, names, sizeof names);
                return run_fail("--input %s: more input files than the model's %u inputs (%s)",
                                path, in->count, names);
            }
            if (bind(in, m, (uint32_t)i, &z->arrays[0], path, NULL)) return 1;
            continue;
        }
        /* a .npz: arrays named like an input go there, the rest in order */
        bool *used = calloc(z->count, sizeof *used);
        if (!used) return run_fail("out of memory");
        for (uint32_t a = 0; a < z->count; a++) {
            int i = find_input(m, z->arrays[a].name, strlen(z->arrays[a].name));
            if (i < 0) continue;
            used[a] = true;
            if (bind(in, m, (uint32_t)i, &z->arrays[a], path, z->arrays[a].name)) {
                free(used);
                return 1;
            }
        }
        for (uint32_t a = 0; a < z->count; a++) {
            if (used[a]) continue;
            int i = next_free(in);
            if (i < 0) {
                input_names(m, names, sizeof names);
                run_fail("%s: array '%s' matches no model input (inputs: %s)", path,
                         z->arrays[a].name, names);
                free(used);
                return 1;
            }
            if (bind(in, m, (uint32_t)i, &z->arrays[a], path, z->arrays[a].name)) {
                free(used);
                return 1;
            }
        }
        free(used);
    }
    return 0;
}

void run_inputs_free(run_inputs *in) {
    for (uint32_t i = 0; in->source_owned && i < in->count; i++) free(in->source_owned[i]);
    for (uint32_t i = 0; in->converted && i < in->count; i++) free(in->converted[i]);
    for (uint32_t f = 0; f < in->num_files; f++) qlite_npz_free(&in->files[f]);
    free(in->array);
    free(in->source);
    free(in->source_owned);
    free(in->converted);
    free(in->files);
    memset(in, 0, sizeof *in);
}

static bool quantizable(const qlite_tensor_info *info, const qlite_npy_array *a) {
    return a->dtype == QLITE_DTYPE_FLOAT32 &&
           (info->dtype == QLITE_DTYPE_INT8 || info->dtype == QLITE_DTYPE_UINT8) && info->quant &&
           info->quant->count == 1;
}

int run_inputs_resize(const qlite_model *m, qlite_interpreter *it, run_inputs *in) {
    for (uint32_t i = 0; i < in->count; i++) {
        const qlite_npy_array *a = in->array[i];
        if (!a) continue;
        const qlite_tensor_info *info = input_info(m, i);
        char want[256], got[256];
        dims_str(info->rank, info->shape, want, sizeof want);
        dims_str(a->rank, a->dims, got, sizeof got);
        if (a->dtype != info->dtype && !quantizable(info, a))
            return run_fail("input %u '%s': expected %s %s, got %s %s from %s", i, info->name,
                            qlite_dtype_name(info->dtype), want, qlite_dtype_name(a->dtype), got,
                            in->source[i]);
        bool dynamic = false, ok = a->rank == info->rank;
        for (uint32_t d = 0; ok && d < a->rank; d++) {
            if (info->shape[d] == -1) dynamic |= a->dims[d] >= 1;
            ok = info->shape[d] == -1 ? a->dims[d] >= 1 : a->dims[d] == info->shape[d];
        }
        if (!ok) {
            bool batch_only = a->rank == info->rank && a->rank > 0;
            for (uint32_t d = 1; batch_only && d < a->rank; d++)
                batch_only = a->dims[d] == info->shape[d];
            return run_fail("input %u '%s': expected shape %s, got %s from %s%s", i, info->name,
                            want, got, in->source[i],
                            batch_only ? " (the model's batch dimension is fixed, not -1)" : "");
        }
        if (dynamic && qlite_interpreter_resize_input(it, i, a->rank, a->dims) != QLITE_OK)
            return run_fail("%s", qlite_last_error());
    }
    return 0;
}

int run_inputs_set(const qlite_model *m, qlite_interpreter *it, run_inputs *in) {
    for (uint32_t i = 0; i < in->count; i++) {
        const qlite_npy_array *a = in->array[i];
        qlite_tensor_view v;
        if (qlite_interpreter_input(it, i, &v) != QLITE_OK) return run_fail("%s", qlite_last_error());
        const qlite_tensor_info *info = input_info(m, i);
        if (!a) {
            run_note("input %u '%s' has no --input: zero-filled", i, info->name);
            memset(v.data, 0, v.bytes);
            continue;
        }
        const void *data = a->data;
        size_t bytes = a->bytes;
        if (a->dtype != info->dtype) { /* float32 -> int8/uint8 with the input's scale/zp */
            float scale = info->quant->scale[0];
            int32_t zp = info->quant->zero_point[0], qmin, qmax;
            qlite_dtype_qrange(info->dtype, &qmin, &qmax);
            size_t count = a->bytes / 4;
            uint8_t *q = malloc(count ? count : 1);
            if (!q) return run_fail("out of memory");
            const float *f = a->data;
            for (size_t e = 0; e < count; e++) {
                int32_t x = qlite_quantize_value(f[e], scale, zp, qmin, qmax);
                q[e] = info->dtype == QLITE_DTYPE_INT8 ? (uint8_t)(int8_t)x : (uint8_t)x;
            }
            in->converted[i] = q;
            data = q;
            bytes = count;
            run_note("input %u '%s': quantizing float32 from %s to %s with scale %g, zero point %d",
                     i, info->name, in->source[i], qlite_dtype_name(info->dtype), (double)scale, zp);
        }
        if (qlite_interpreter_set_input(it, i, data, bytes) != QLITE_OK)
            return run_fail("%s", qlite_last_error());
    }
    return 0;
}

/* Element i of a view as a double (dequantized when the view has a scale). */
static double value_at(const qlite_tensor_view *v, size_t i) {
    const void *p = v->data;
    double x;
    switch (v->dtype) {
    case QLITE_DTYPE_FLOAT32: return ((const float *)p)[i];
    case QLITE_DTYPE_FLOAT16: return qlite_fp16_to_fp32(((const uint16_t *)p)[i]);
    case QLITE_DTYPE_INT8: x = ((const int8_t *)p)[i]; break;
    case QLITE_DTYPE_UINT8: x = ((const uint8_t *)p)[i]; break;
    case QLITE_DTYPE_INT16: x = ((const int16_t *)p)[i]; break;
    case QLITE_DTYPE_INT32: x = ((const int32_t *)p)[i]; break;
    case QLITE_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case QLITE_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
    case QLITE_DTYPE_INT4: {
        int b = ((const uint8_t *)p)[i / 2];
        int nib = (i % 2 ? b >> 4 : b) & 0xF;
        x = nib >= 8 ? nib - 16 : nib;
        break;
    }
    default: return 0;
    }
    return v->scale > 0 ? v->scale * (x - v->zero_point) : x;
}

static size_t view_elements(const qlite_tensor_view *v) {
    size_t n = 1;
    for (uint32_t d = 0; d < v->rank; d++) n *= (size_t)v->dims[d];
    return n;
}

static bool is_classifier(const qlite_tensor_view *v) {
    return v->rank == 2 && v->dims[1] >= 2 && v->dtype != QLITE_DTYPE_BOOL;
}

/* Indices of the k largest values of row r, best first (ties: lower index). */
static void top_k(const qlite_tensor_view *v, size_t r, int k, size_t *idx) {
    size_t c = (size_t)v->dims[1];
    for (int j = 0; j < k; j++) idx[j] = SIZE_MAX;
    for (size_t i = 0; i < c; i++) {
        double x = value_at(v, r * c + i);
        for (int j = 0; j < k; j++) {
            if (idx[j] == SIZE_MAX || x > value_at(v, r * c + idx[j])) {
                memmove(idx + j + 1, idx + j, (size_t)(k - 1 - j) * sizeof *idx);
                idx[j] = i;
                break;
            }
        }
    }
}

void run_print_outputs(const qlite_interpreter *it, int k) {
    enum { ROWS = 5, VALUES = 16 };
    for (uint32_t o = 0; o < qlite_interpreter_output_count(it); o++) {
        qlite_tensor_view v;
        if (qlite_interpreter_output(it, o, &v) != QLITE_OK) continue;
        char d[256];
        printf("output %u '%s': %s %s", o, v.name, qlite_dtype_name(v.dtype),
               dims_str(v.rank, v.dims, d, sizeof d));
        if (v.scale > 0) printf(" (scale %g, zero point %d)", (double)v.scale, v.zero_point);
        printf("\n");
        size_t n = view_elements(&v);
        if (n == 0) continue;
        if (is_classifier(&v)) {
            int kk = k < v.dims[1] ? k : (int)v.dims[1];
            size_t idx[64];
            size_t rows = (size_t)v.dims[0];
            for (size_t r = 0; r < rows && r < ROWS; r++) {
                top_k(&v, r, kk, idx);
                printf("  row %zu top-%d:", r, kk);
                for (int j = 0; j < kk; j++)
                    printf(" %zu (%.6g)", idx[j], value_at(&v, r * (size_t)v.dims[1] + idx[j]));
                printf("\n");
            }
            if (rows > ROWS) printf("  ... %zu more rows\n", rows - ROWS);
            continue;
        }
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        for (size_t i = 0; i < n; i++) {
            double x = value_at(&v, i);
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
            sum += x;
        }
        printf("  values:");
        for (size_t i = 0; i < n && i < VALUES; i++) printf(" %.6g", value_at(&v, i));
        if (n > VALUES) printf(" ... (%zu values)", n);
        printf("\n  min %.6g  max %.6g  mean %.6g\n", lo, hi, sum / (double)n);
    }
}

int run_accuracy(const qlite_interpreter *it, const char *path) {
    qlite_npy_array lab;
    if (qlite_npy_read_file(path, &lab) != QLITE_OK) return run_fail("%s", qlite_last_error());
    qlite_tensor_view v;
    int rc = 0;
    char d[256];
    if (qlite_interpreter_output(it, 0, &v) != QLITE_OK) {
        rc = run_fail("%s", qlite_last_error());
    } else if (!is_classifier(&v)) {
        rc = run_fail("--labels: output 0 '%s' is %s, not [N, classes]", v.name,
                      dims_str(v.rank, v.dims, d, sizeof d));
    } else if (!(lab.rank == 1 || (lab.rank == 2 && lab.dims[1] == 1)) ||
               lab.dims[0] != v.dims[0] ||
               !(lab.dtype == QLITE_DTYPE_INT64 || lab.dtype == QLITE_DTYPE_INT32 ||
                 lab.dtype == QLITE_DTYPE_INT16 || lab.dtype == QLITE_DTYPE_INT8 ||
                 lab.dtype == QLITE_DTYPE_UINT8)) {
        char e[256];
        rc = run_fail("--labels %s: expected integer labels [%lld], got %s %s", path,
                      (long long)v.dims[0], qlite_dtype_name(lab.dtype),
                      dims_str(lab.rank, lab.dims, e, sizeof e));
    } else {
        qlite_tensor_view lv = {.dtype = lab.dtype, .rank = 1, .dims = {lab.dims[0]},
                                .data = lab.data};
        size_t rows = (size_t)v.dims[0], hits = 0, best;
        for (size_t r = 0; r < rows; r++) {
            top_k(&v, r, 1, &best);
            hits += (double)best == value_at(&lv, r);
        }
        printf("accuracy: %.4f (%zu/%zu correct, top-1 of output 0)\n",
               rows ? (double)hits / (double)rows : 0.0, hits, rows);
    }
    qlite_npy_free(&lab);
    return rc;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int run_write_outputs(const qlite_interpreter *it, const char *path) {
    uint32_t n = qlite_interpreter_output_count(it);
    bool npz = ends_with(path, ".npz");
    if (!npz && !ends_with(path, ".npy"))
        return run_fail("--output %s: the name must end in .npy or .npz", path);
    if (!npz && n != 1)
        return run_fail("--output %s: the model has %u outputs; write a .npz to keep them all",
                        path, n);
    qlite_npy_array *arrays = calloc(n ? n : 1, sizeof *arrays);
    if (!arrays) return run_fail("out of memory");
    int rc = 0;
    for (uint32_t o = 0; o < n && !rc; o++) {
        qlite_tensor_view v;
        if (qlite_interpreter_output(it, o, &v) != QLITE_OK) {
            rc = run_fail("%s", qlite_last_error());
            break;
        }
        arrays[o].name = (char *)(v.name && v.name[0] ? v.name : "output");
        arrays[o].dtype = v.dtype;
        arrays[o].rank = v.rank;
        memcpy(arrays[o].dims, v.dims, sizeof arrays[o].dims);
        arrays[o].data = v.data;
        arrays[o].bytes = v.bytes;
    }
    if (!rc) {
        qlite_status st = npz ? qlite_npz_write_file(path, n, arrays)
                              : qlite_npy_write_file(path, &arrays[0]);
        if (st != QLITE_OK) rc = run_fail("%s", qlite_last_error());
    }
    free(arrays);
    return rc;
}
