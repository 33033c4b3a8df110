/*
 * e2e.c — end-to-end check of the float32 pipeline on the bundled models.
 *
 *   qlite-e2e MODELS_DIR [NAME...]
 *
 * For every models/<name>/ with meta.json, <onnx file>, ref_torch.npy (the
 * outputs PyTorch computed on the test subset) and the test data meta.json
 * names:
 *   1. convert the .onnx with the library (float32, the ONNX I/O layout);
 *   2. run the whole test subset as one batch (the batch dim is dynamic);
 *   3. assert max|qlite - torch| <= 1e-4 * max|torch| and the same top-1
 *      accuracy on the labels as PyTorch's outputs give;
 *   4. for models with 4-D (image) inputs, convert again with nhwc_io, feed
 *      the NHWC-transposed data, and assert the same bound.
 * Tolerance: float32 sums in another order (blocked GEMM, other conv
 * algorithms) differ from PyTorch by a few ulps per accumulation, i.e.
 * relative errors around 1e-6 for these sizes; 1e-4 of the output scale
 * leaves a 100x margin and still fails on any real error (a wrong layout or
 * a missing bias moves outputs by O(scale)).
 * Prints one line per model and "N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"
#include "qlite/qlite.h"
#include "qlite/qlite_convert.h"

#include "e2e_util.h"

#define REL_TOL 1e-4

/* Finds "key": "value" in a small JSON text. */
static bool json_str(const char *json, const char *key, char *out, size_t size) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return false;
    p = strchr(p + strlen(pat), ':');
    if (!p) return false;
    p = strchr(p, '"');
    if (!p) return false;
    const char *e = strchr(p + 1, '"');
    if (!e || (size_t)(e - p - 1) >= size) return false;
    memcpy(out, p + 1, (size_t)(e - p - 1));
    out[e - p - 1] = 0;
    return true;
}

static int64_t label_at(const qlite_npy_array *y, size_t i) {
    switch (y->dtype) {
    case QLITE_DTYPE_INT64: return ((const int64_t *)y->data)[i];
    case QLITE_DTYPE_INT32: return ((const int32_t *)y->data)[i];
    case QLITE_DTYPE_UINT8: return ((const uint8_t *)y->data)[i];
    default: return -1;
    }
}

/* Runs bytes on x; fills *out (malloc'd copy) and its element count. */
static bool run(const void *bytes, size_t size, const qlite_npy_array *x_nchw,
                const qlite_npy_array *x_nhwc, float **out, size_t *count, char *err,
                size_t esize) {
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    bool ok = false;
    qlite_tensor_view v;
    const qlite_npy_array *x = x_nchw;
    if (qlite_model_open_memory(bytes, size, 0, &m) == QLITE_OK && x_nhwc) {
        /* an --nhwc-io model whose input became NHWC takes the transposed data */
        const qlite_tensor_info *ti = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, 0));
        if (ti && ti->rank == 4 && ti->shape[3] == x_nchw->dims[1] &&
            ti->shape[1] == x_nchw->dims[2] && ti->shape[1] != x_nchw->dims[1])
            x = x_nhwc;
    }
    if (!m ||
        qlite_interpreter_create(m, NULL, &it) != QLITE_OK ||
        qlite_interpreter_resize_input(it, 0, x->rank, x->dims) != QLITE_OK ||
        qlite_interpreter_prepare(it) != QLITE_OK ||
        qlite_interpreter_set_input(it, 0, x->data, x->bytes) != QLITE_OK ||
        qlite_interpreter_invoke(it) != QLITE_OK || qlite_interpreter_output(it, 0, &v) != QLITE_OK) {
        snprintf(err, esize, "%s", qlite_last_error());
    } else if (v.dtype != QLITE_DTYPE_FLOAT32) {
        snprintf(err, esize, "output is %s", qlite_dtype_name(v.dtype));
    } else {
        *out = malloc(v.bytes);
        if (*out) {
            memcpy(*out, v.data, v.bytes);
            *count = v.bytes / 4;
            ok = true;
        }
    }
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    return ok;
}

/*
 * Under the sanitizers (.ci/run's ASan stage sets QLITE_TEST_SANITIZED) the
 * first SANITIZED_SAMPLES samples of the test subset: the same ops and kernel
 * paths run on them (the batch stays larger than every tile), the other
 * samples repeat them at 10-50x the cost. Shortens the batch of x and ref.
 */
#define SANITIZED_SAMPLES 200
static void sanitized_prefix(qlite_npy_array *x, qlite_npy_array *ref) {
    const char *v = getenv("QLITE_TEST_SANITIZED");
    if (!v || !v[0] || !strcmp(v, "0")) return;
    qlite_npy_array *a[2] = {x, ref};
    for (int i = 0; i < 2; i++)
        if (a[i]->rank > 0 && a[i]->dims[0] > SANITIZED_SAMPLES) {
            a[i]->bytes = a[i]->bytes / (size_t)a[i]->dims[0] * SANITIZED_SAMPLES;
            a[i]->dims[0] = SANITIZED_SAMPLES;
        }
}

/* NCHW -> NHWC copy of a float32 rank-4 array. */
static bool to_nhwc(const qlite_npy_array *x, qlite_npy_array *y) {
    *y = *x;
    y->name = NULL;
    int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
    y->dims[1] = h;
    y->dims[2] = w;
    y->dims[3] = c;
    float *d = malloc(x->bytes);
    if (!d) return false;
    const float *s = x->data;
    for (int64_t b = 0; b < n; b++)
        for (int64_t ci = 0; ci < c; ci++)
            for (int64_t i = 0; i < h * w; i++) d[(b * h * w + i) * c + ci] = s[(b * c + ci) * h * w + i];
    y->data = d;
    return true;
}

static int check_model(const char *dir, const char *name) {
    char path[2048], onnx[256], xs[256], ys[256];
    snprintf(path, sizeof path, "%s/%s/meta.json", dir, name);
    char *meta = slurp(path);
    if (!meta) return -1; /* not a model dir */
    bool have = json_str(meta, "onnx", onnx, sizeof onnx) && json_str(meta, "test_data", xs, sizeof xs) &&
                json_str(meta, "test_labels", ys, sizeof ys);
    free(meta);
    snprintf(path, sizeof path, "%s/%s/ref_torch.npy", dir, name);
    struct stat sb;
    if (!have || stat(path, &sb) != 0) return -1;
    qlite_npy_array ref = {0}, x = {0}, y = {0}, xn = {0};
    int rc = 1;
    char onnx_path[2048], err[600] = "";
    snprintf(onnx_path, sizeof onnx_path, "%s/%s/%s", dir, name, onnx);
    if (qlite_npy_read_file(path, &ref) != QLITE_OK) {
        printf("FAIL %-12s ref_torch.npy: %s\n", name, qlite_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, xs);
    if (qlite_npy_read_file(path, &x) != QLITE_OK) {
        printf("FAIL %-12s %s: %s\n", name, xs, qlite_last_error());
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s", dir, ys);
    if (qlite_npy_read_file(path, &y) != QLITE_OK) {
        printf("FAIL %-12s %s: %s\n", name, ys, qlite_last_error());
        goto done;
    }
    sanitized_prefix(&x, &ref);
    for (int pass = 0; pass < 2; pass++) {
        bool nhwc = pass == 1;
        if (nhwc && (x.rank != 4 || x.dtype != QLITE_DTYPE_FLOAT32)) break;
        qlite_convert_options o = {0};
        o.nhwc_io = nhwc;
        void *bytes = NULL;
        size_t size = 0;
        if (qlite_convert_to_memory(onnx_path, &o, &bytes, &size, NULL) != QLITE_OK) {
            printf("FAIL %-12s convert%s: %s\n", name, nhwc ? " --nhwc-io" : "", qlite_last_error());
            goto done;
        }
        if (nhwc && !to_nhwc(&x, &xn)) {
            qlite_convert_free_bytes(bytes);
            goto done;
        }
        float *out = NULL;
        size_t cnt = 0;
        bool ok = run(bytes, size, &x, nhwc ? &xn : NULL, &out, &cnt, err, sizeof err);
        qlite_convert_free_bytes(bytes);
        if (!ok) {
            printf("FAIL %-12s run%s: %s\n", name, nhwc ? " --nhwc-io" : "", err);
            goto done;
        }
        if (cnt * 4 != ref.bytes) {
            printf("FAIL %-12s output has %zu values, ref_torch.npy %zu\n", name, cnt, ref.bytes / 4);
            free(out);
            goto done;
        }
        const float *r = ref.data;
        double maxref = 0, maxdiff = 0;
        /* compares, not fmax(): aarch64 gcc 12 -O3 crashes vectorizing these fmax
         * reductions (a NaN is skipped either way) */
        for (size_t i = 0; i < cnt; i++) {
            const double ar = fabs(r[i]), d = fabs((double)out[i] - r[i]);
            maxref = ar > maxref ? ar : maxref;
            maxdiff = d > maxdiff ? d : maxdiff;
        }
        size_t rows = (size_t)ref.dims[0], cols = rows ? cnt / rows : 0;
        size_t acc_q = 0, acc_t = 0, agree = 0;
        for (size_t i = 0; i < rows; i++) {
            size_t aq = 0, at = 0;
            for (size_t k = 1; k < cols; k++) {
                if (out[i * cols + k] > out[i * cols + aq]) aq = k;
                if (r[i * cols + k] > r[i * cols + at]) at = k;
            }
            int64_t lab = label_at(&y, i);
            acc_q += (int64_t)aq == lab;
            acc_t += (int64_t)at == lab;
            agree += aq == at;
        }
        free(out);
        bool pass_ok = maxdiff <= REL_TOL * maxref && acc_q == acc_t && !isnan(maxdiff);
        printf("%s %-12s%s max|qlite-torch| %.3g (bound %.3g = 1e-4 * %.3g), top-1 %.4f vs torch "
               "%.4f, %zu/%zu argmax agree\n",
               pass_ok ? "PASS" : "FAIL", name, nhwc ? " nhwc-io" : "", maxdiff, REL_TOL * maxref,
               maxref, rows ? (double)acc_q / (double)rows : 0.0,
               rows ? (double)acc_t / (double)rows : 0.0, agree, rows);
        if (!pass_ok) goto done;
    }
    rc = 0;
done:
    qlite_npy_free(&ref);
    qlite_npy_free(&x);
    qlite_npy_free(&y);
    free(xn.data);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODELS_DIR [NAME...]\n", argv[0]);
        return 2;
    }
    const char *names[] = {"mlp", "lenet", "mobilenet", "transformer", "lstm", "gru", "rnn"};
    unsigned passed = 0, failed = 0;
    int first = 2;
    int count = argc > 2 ? argc - 2 : (int)(sizeof names / sizeof names[0]);
    for (int i = 0; i < count; i++) {
        const char *n = argc > 2 ? argv[first + i] : names[i];
        int r = check_model(argv[1], n);
        if (r < 0) {
            if (argc > 2) {
                printf("FAIL %-12s no meta.json / ref_torch.npy\n", n);
                failed++;
            }
            continue;
        }
        if (r == 0) passed++;
        else failed++;
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed || !passed ? 1 : 0;
}
