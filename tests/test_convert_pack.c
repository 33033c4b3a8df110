/*
 * test_convert_pack.c — the converter's packed weight layouts (docs/format.md
 * §6.2, converter/passes/pack_weights.c) on the bundled models:
 *
 * (a) every mode (float32, float16, dynamic, int8 calibrated): the model
 *     converted with packing and with --no-pack give the same outputs on
 *     four Fashion-MNIST test images, bit for bit (the kernels run the same
 *     micro-kernel on the file's packed bytes and on the bytes packed at
 *     prepare, so even float results are equal); the packed file records
 *     O16 (float) / O16I4 (int8) on the FULLY_CONNECTED weights and the
 *     CONV_2D weights (one group, or groups of multiples of 16 channels:
 *     LeNet's, MobileNet's pointwise and full convolutions) and the LSTM / GRU
 *     W and R in every mode, and the report counts them; the weights the
 *     padding rule keeps DEFAULT (computed here from the doc's sizes: the
 *     10-class logits layers, LeNet's 6-channel conv1) are not packed;
 * (b) prepared memory: with packed weights the interpreter's prepared bytes
 *     do not include the weights (they are read from the mapping); with
 *     --no-pack they include at least the packed bytes (MLP: FC weights;
 *     LeNet, MobileNet: FC and conv weights; LSTM, GRU: W and R in every
 *     mode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "qlite/qlite_convert.h"
#include "support.h"

static const char *model_path(const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s/models/%s/%s.onnx", QLITE_SOURCE_DIR, name, name);
    return buf;
}

typedef struct run_result {
    void *out;
    size_t bytes;
    size_t prepared;
} run_result;

/* Runs a converted model on the first 4 test images. */
static void run_model(const void *bytes, size_t size, const qlite_npy_array *x,
                      run_result *res) {
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    assert_qlite_ok(qlite_interpreter_create(m, NULL, &it));
    const int64_t dims[4] = {4, 1, 28, 28};
    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, 4, dims));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x->data, 4 * 28 * 28 * sizeof(float)));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    res->out = malloc(v.bytes);
    assert_non_null(res->out);
    memcpy(res->out, v.data, v.bytes);
    res->bytes = v.bytes;
    res->prepared = qlite_interpreter_prepared_size(it);
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
}

/* docs/converter.md "Packed weights": a float weight whose padded form holds
 * more than 1/8 more elements than it and is at most 16 KiB stays DEFAULT
 * (int8 weights are always packed). The
 * padded size here from docs/format.md §6.2 (nmat matrices [O, I]). */
static bool pad_rule_skips(const qlite_tensor_info *w) {
    uint64_t nmat = 1, O = w->rank ? (uint64_t)w->shape[0] : 1, I = 1;
    if (w->rank == 3) {
        nmat = (uint64_t)w->shape[0];
        O = (uint64_t)w->shape[1];
        I = (uint64_t)w->shape[2];
    } else {
        for (uint32_t d = 1; d < w->rank; d++) I *= (uint64_t)w->shape[d];
    }
    const bool q8 = w->dtype == QLITE_DTYPE_INT8;
    if (q8) return false;
    const uint64_t es = q8 ? 1 : w->dtype == QLITE_DTYPE_FLOAT16 ? 2 : 4;
    const uint64_t logical = nmat * O * I;
    const uint64_t stored = nmat * ((O + 15) / 16 * 16) * (q8 ? (I + 3) / 4 * 4 : I);
    return stored - logical > logical / 8 && stored * es <= 16 * 1024;
}

/* Whether op reads its input `slot` in a packed layout (pack_weights.c's table). */
static bool reads_packed(const qlite_op_info *op, uint32_t slot, const qlite_tensor_info *w) {
    const bool fdt = w->dtype == QLITE_DTYPE_FLOAT32 || w->dtype == QLITE_DTYPE_FLOAT16;
    const bool any = fdt || w->dtype == QLITE_DTYPE_INT8;
    switch (op->code) {
    case QLITE_OP_FULLY_CONNECTED: return slot == 1 && w->rank == 2 && any;
    case QLITE_OP_LSTM:
    case QLITE_OP_GRU: return (slot == 1 || slot == 2) && w->rank == 3 && any;
    case QLITE_OP_CONV_2D:
    case QLITE_OP_TRANSPOSE_CONV_2D: {
        const int32_t groups = op->options.u.conv2d.groups;
        const bool fit = slot == 1 && (groups == 1 || (w->shape[0] / groups) % 16 == 0);
        return fit && (op->code == QLITE_OP_CONV_2D ? any : w->dtype == QLITE_DTYPE_FLOAT32);
    }
    default: return false;
    }
}

/* Packed layout of every constant weight a packed reader takes, checked (packed
 * unless the padding rule keeps it DEFAULT); *conv counts the packed CONV_2D
 * weights, *rnn the packed LSTM / GRU ones, *skipped the weights the rule kept. */
static uint32_t count_packed(const void *bytes, size_t size, bool expect_packed,
                             uint32_t *conv, uint32_t *rnn, uint32_t *skipped) {
    qlite_model *m = NULL;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    uint32_t packed = 0;
    for (uint32_t i = 0; i < qlite_model_tensor_count(m); i++) {
        const qlite_tensor_info *t = qlite_model_tensor(m, i);
        if (t->layout == QLITE_LAYOUT_DEFAULT) continue;
        assert_true(expect_packed);
        assert_int_equal(t->layout, t->dtype == QLITE_DTYPE_INT8 ? QLITE_LAYOUT_O16I4
                                                                : QLITE_LAYOUT_O16);
        assert_false(pad_rule_skips(t));
        packed++;
    }
    *conv = *rnn = *skipped = 0;
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        for (uint32_t s = 1; s < op->num_inputs && s <= 2; s++) {
            if (op->inputs[s] < 0) continue;
            const qlite_tensor_info *w = qlite_model_tensor(m, (uint32_t)op->inputs[s]);
            const bool packed_w = w->layout != QLITE_LAYOUT_DEFAULT;
            if (op->code == QLITE_OP_CONV_2D && packed_w) (*conv)++;
            if ((op->code == QLITE_OP_LSTM || op->code == QLITE_OP_GRU) && packed_w) (*rnn)++;
            if (!reads_packed(op, s, w) || !w->buffer || w->sparsity || w->clustering ||
                !expect_packed)
                continue;
            if (pad_rule_skips(w)) {
                assert_false(packed_w);
                (*skipped)++;
            } else {
                assert_true(packed_w);
            }
        }
    }
    qlite_model_close(m);
    return packed;
}

static void check_model(const char *name, qlite_convert_mode mode, const qlite_npy_array *x,
                        bool check_memory) {
    char path[1024], calib[1024];
    snprintf(calib, sizeof calib, "%s/models/data/fmnist_calib.npz", QLITE_SOURCE_DIR);
    const char *calib_files[1] = {calib};
    qlite_convert_options o = {.mode = mode};
    if (mode == QLITE_CONVERT_INT8) {
        o.calib_files = calib_files;
        o.num_calib_files = 1;
        o.calib_samples = qlite_test_reduced() ? 16 : 64; /* the same passes on fewer */
    }
    void *pb = NULL, *db = NULL;
    size_t ps = 0, ds = 0;
    qlite_convert_report *rp = NULL;
    assert_qlite_ok(qlite_convert_to_memory(model_path(name, path, sizeof path), &o, &pb, &ps,
                                            &rp));
    o.no_pack = true;
    assert_qlite_ok(qlite_convert_to_memory(path, &o, &db, &ds, NULL));
    qlite_convert_sizes sz;
    qlite_convert_report_sizes(rp, &sz);
    uint32_t conv = 0, rnn = 0, skipped = 0, c2, r2, s2;
    const uint32_t packed = count_packed(pb, ps, true, &conv, &rnn, &skipped);
    assert_int_equal(count_packed(db, ds, false, &c2, &r2, &s2), 0);
    assert_int_equal(sz.packed_weights, packed);
    assert_true(packed > 0); /* every bundled model checked here has an FC layer */
    if (strcmp(name, "lenet") == 0 || strcmp(name, "mobilenet") == 0)
        assert_true(conv > 0);
    if (strcmp(name, "lstm") == 0 || strcmp(name, "gru") == 0)
        assert_int_equal(rnn, 2); /* W and R, whatever their dtype */
    /* float: the 10-class logits layers (16/10 padded, small) and LeNet's
     * 6-channel conv1 (16/6) stay DEFAULT; int8 weights are all packed
     * (count_packed checks each weight against the rule) */
    const bool q8 = mode == QLITE_CONVERT_INT8 || mode == QLITE_CONVERT_DYNAMIC;
    if (!q8) assert_true(skipped >= 1);
    if (!q8 && strcmp(name, "lenet") == 0) assert_true(skipped >= 2);
    run_result a, b;
    run_model(pb, ps, x, &a);
    run_model(db, ds, x, &b);
    assert_int_equal(a.bytes, b.bytes);
    if (memcmp(a.out, b.out, a.bytes) != 0) {
        print_error("%s mode %s: packed and --no-pack outputs differ\n", name,
                    qlite_convert_mode_name(mode));
        fail();
    }
    if (check_memory) {
        print_message("%s %s: %u packed weights (%u conv, %u rnn, %u kept by the padding "
                      "rule), %llu bytes; prepared %zu (packed) vs %zu (--no-pack)\n",
                      name, qlite_convert_mode_name(mode), packed, conv, rnn, skipped,
                      (unsigned long long)sz.packed_bytes, a.prepared, b.prepared);
        if (strcmp(name, "mlp") == 0) assert_true(a.prepared < sz.packed_bytes / 4);
        assert_true(b.prepared >= a.prepared + sz.packed_bytes);
    }
    free(a.out);
    free(b.out);
    qlite_convert_report_free(rp);
    qlite_convert_free_bytes(pb);
    qlite_convert_free_bytes(db);
}

static qlite_npy_array g_x;

static int setup(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/models/data/fmnist_test_x.npy", QLITE_SOURCE_DIR);
    return qlite_npy_read_file(p, &g_x) == QLITE_OK && g_x.bytes >= 4 * 28 * 28 * 4 ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    qlite_npy_free(&g_x);
    return 0;
}

static void test_mlp(void **state) {
    (void)state;
    for (int mode = 0; mode < QLITE_CONVERT_MODE_COUNT; mode++)
        check_model("mlp", (qlite_convert_mode)mode, &g_x, true);
}

static void test_lenet(void **state) {
    (void)state;
    for (int mode = 0; mode < QLITE_CONVERT_MODE_COUNT; mode++)
        check_model("lenet", (qlite_convert_mode)mode, &g_x, true);
}

static void test_mobilenet(void **state) {
    (void)state;
    for (int mode = 0; mode < QLITE_CONVERT_MODE_COUNT; mode++)
        check_model("mobilenet", (qlite_convert_mode)mode, &g_x, true);
}

static void test_transformer(void **state) {
    (void)state;
    for (int mode = 0; mode < QLITE_CONVERT_MODE_COUNT; mode++)
        check_model("transformer", (qlite_convert_mode)mode, &g_x, false);
}

static void test_lstm(void **state) {
    (void)state;
    for (int mode = 0; mode < QLITE_CONVERT_MODE_COUNT; mode++)
        check_model("lstm", (qlite_convert_mode)mode, &g_x, true);
}

static void test_gru(void **state) {
    (void)state;
    for (int mode = 0; mode < QLITE_CONVERT_MODE_COUNT; mode++)
        check_model("gru", (qlite_convert_mode)mode, &g_x, true);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp),
        cmocka_unit_test(test_lenet),
        cmocka_unit_test(test_mobilenet),
        cmocka_unit_test(test_transformer),
        cmocka_unit_test(test_lstm),
        cmocka_unit_test(test_gru),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
