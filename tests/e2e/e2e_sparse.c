/*
 * e2e_sparse.c — the bundled pruned and clustered MLPs (models/mlp_pruned:
 * pruned during training 50% -> 90% with a polynomial-decay schedule;
 * models/mlp_clustered: the same, fine-tuned with 16 centroids per layer)
 * through the converter library, with the thresholds of issue #5:
 *
 *   size      the int8 file of mlp_pruned <= 10% of the dense float32 file
 *             (the same model converted with --dense in float32 mode), and
 *             the int8 file of mlp_clustered <= 15% of it; no gzip;
 *   storage   mlp_pruned in int8 / dynamic mode without --prune: every FC
 *             weight dense (int8 weights are stored sparse automatically only
 *             at or above the sparse kernel's break-even, 99% for 1x1;
 *             docs/converter.md), and with --prune 0.9 (the sparsity it
 *             already has: the user asks for size) every one sparse;
 *             otherwise every FC weight stored sparse (mlp_pruned), or
 *             sparse and/or palettized with the two large ones palettized
 *             (mlp_clustered: fc3's 1280 weights are smaller as plain
 *             sparse 1x1 than with a palette), as the converter detects it;
 *   accuracy  in every mode (float32, float16, dynamic, int8) the top-1 on
 *             the 1000-image test subset within 1 point of the float model
 *             as ONNX Runtime runs it (meta.json accuracy_ort, an
 *             independent runtime) and of the float model as qlite runs it
 *             (the report's float accuracy). The converted models run with
 *             the sparse / clustered kernels (nn_sparse.h), so this is also
 *             their end-to-end check.
 *
 *   qlite-e2e-sparse MODELS_DIR
 *
 * Prints one line per check and "N passed, N failed".
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/qlite.h"
#include "qlite/qlite_convert.h"

#include "e2e_util.h"

static const char *g_dir;

static double meta_accuracy_ort(const char *name) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/meta.json", g_dir, name);
    char *meta = slurp(path);
    const double v = json_num(meta, "accuracy_ort");
    free(meta);
    return v;
}

static bool convert(const char *onnx, qlite_convert_mode mode, bool dense, bool eval,
                    float prune, void **bytes, size_t *size, qlite_convert_report **r) {
    char cpath[2048], xpath[2048], ypath[2048];
    snprintf(cpath, sizeof cpath, "%s/data/fmnist_calib.npz", g_dir);
    snprintf(xpath, sizeof xpath, "%s/data/fmnist_test_x.npy", g_dir);
    snprintf(ypath, sizeof ypath, "%s/data/fmnist_test_y.npy", g_dir);
    const char *files[1] = {cpath};
    qlite_convert_options o = {0};
    o.mode = mode;
    o.dense = dense;
    o.prune = prune;
    if (mode == QLITE_CONVERT_INT8) {
        o.calib_files = files;
        o.num_calib_files = 1;
    }
    if (eval) {
        o.eval_file = xpath;
        o.eval_labels = ypath;
    }
    return qlite_convert_to_memory(onnx, &o, bytes, size, r) == QLITE_OK;
}

/* Weights of the converted model stored sparse / clustered, and how many weights. */
static void count_forms(const void *bytes, size_t size, unsigned *sparse, unsigned *clustered,
                        unsigned *compressed, unsigned *weights) {
    *sparse = *clustered = *compressed = *weights = 0;
    qlite_model *m = NULL;
    if (qlite_model_open_memory(bytes, size, 0, &m) != QLITE_OK) return;
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        if (op->code != QLITE_OP_FULLY_CONNECTED || op->num_inputs < 2) continue;
        const qlite_tensor_info *w = qlite_model_tensor(m, (uint32_t)op->inputs[1]);
        if (!w) continue;
        (*weights)++;
        *sparse += w->sparsity != NULL;
        *clustered += w->clustering != NULL;
        *compressed += w->sparsity || w->clustering;
    }
    qlite_model_close(m);
}

static void check_model(const char *name, bool clustered, double size_limit) {
    char onnx[2048];
    snprintf(onnx, sizeof onnx, "%s/%s/%s.onnx", g_dir, name, name);
    const double ort = meta_accuracy_ort(name);
    void *bytes = NULL;
    size_t f32 = 0;
    if (!convert(onnx, QLITE_CONVERT_FLOAT32, true, false, 0.0f, &bytes, &f32, NULL)) {
        result(false, "%-13s float32 --dense: %s", name, qlite_last_error());
        return;
    }
    qlite_convert_free_bytes(bytes);
    static const qlite_convert_mode modes[] = {QLITE_CONVERT_FLOAT32, QLITE_CONVERT_FLOAT16,
                                               QLITE_CONVERT_DYNAMIC, QLITE_CONVERT_INT8};
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        const qlite_convert_mode mode = modes[k];
        const char *mn = qlite_convert_mode_name(mode);
        size_t size = 0;
        qlite_convert_report *r = NULL;
        bytes = NULL;
        /* int8 weights: automatic sparse storage only above the sparse
         * kernel's break-even (docs/converter.md), which the 90%-sparse 1x1
         * pruned MLP is not; --prune 0.9 (the pruning it already has) asks
         * for the sparse form, as a user after size would */
        const bool q8 = mode == QLITE_CONVERT_INT8 || mode == QLITE_CONVERT_DYNAMIC;
        if (q8 && !clustered) {
            if (!convert(onnx, mode, false, false, 0.0f, &bytes, &size, NULL)) {
                result(false, "%-13s %-8s convert: %s", name, mn, qlite_last_error());
                continue;
            }
            unsigned sp, cl, any, nw;
            count_forms(bytes, size, &sp, &cl, &any, &nw);
            result(nw == 3 && any == 0,
                   "%-13s %-8s without --prune: of %u FC weights %u stored sparse (90%% 1x1 is "
                   "below the int8 break-even 99%%)", name, mn, nw, sp);
            qlite_convert_free_bytes(bytes);
            bytes = NULL;
        }
        if (!convert(onnx, mode, false, true, q8 && !clustered ? 0.9f : 0.0f, &bytes, &size,
                     &r)) {
            result(false, "%-13s %-8s convert: %s", name, mn, qlite_last_error());
            continue;
        }
        unsigned sp, cl, any, nw;
        count_forms(bytes, size, &sp, &cl, &any, &nw);
        result(nw == 3 && any == 3 && (clustered ? cl >= 2 : sp == 3),
               "%-13s %-8s%s of %u FC weights %u stored sparse, %u clustered", name, mn,
               q8 && !clustered ? " --prune 0.9:" : "", nw, sp, cl);
        const double ratio = (double)size / (double)f32;
        if (mode == QLITE_CONVERT_INT8)
            result(ratio <= size_limit,
                   "%-13s %-8s size %zu bytes = %.1f%% of the dense float32 file (%zu bytes; "
                   "limit %.0f%%, no gzip)", name, mn, size, 100 * ratio, f32, 100 * size_limit);
        else
            printf("INFO %-13s %-8s size %zu bytes = %.1f%% of the dense float32 file\n", name,
                   mn, size, 100 * ratio);
        qlite_convert_accuracy a;
        qlite_convert_report_accuracy(r, &a);
        const double drop = 100 * (a.float_top1 - a.converted_top1);
        const double drop_ort = 100 * (ort - a.converted_top1);
        result(a.samples == 1000 && drop <= 1.0 + 1e-9 && drop_ort <= 1.0 + 1e-9,
               "%-13s %-8s top-1 %.2f%%: %.2f points below the float model in qlite (%.2f%%), "
               "%.2f below ONNX Runtime's (%.2f%%) (limit 1 point)", name, mn,
               100 * a.converted_top1, drop, 100 * a.float_top1, drop_ort, 100 * ort);
        qlite_convert_report_free(r);
        qlite_convert_free_bytes(bytes);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    check_model("mlp_pruned", false, 0.10);
    check_model("mlp_clustered", true, 0.15);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
