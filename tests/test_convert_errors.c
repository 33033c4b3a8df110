/*
 * test_convert_errors.c — malformed and unsupported ONNX input: every case
 * fails with the right status and a one-line message naming the node, op
 * type and what is wrong, and never creates or touches the output file.
 */
#include <unistd.h>

#include "test_convert_util.h"

/* Converts `onnx` to a scratch output; asserts failure with `status`, that
 * the message is one line containing each of the `want` strings, and that
 * a pre-existing output file kept its bytes. */
static void expect_failure(const char *onnx, qlite_status status, const qlite_convert_options *o,
                           const char *want1, const char *want2) {
    char out[1024];
    snprintf(out, sizeof out, "%s", qlite_test_tmp_path("convert_error_out.qlite"));
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    fputs("previous contents", f);
    fclose(f);
    qlite_status st = qlite_convert_file(onnx, out, o, NULL);
    const char *msg = qlite_last_error();
    if (st != status) fail_msg("%s: status %s, want %s (%s)", onnx, qlite_status_string(st),
                               qlite_status_string(status), msg);
    assert_null(strchr(msg, '\n'));
    if (want1 && !strstr(msg, want1)) fail_msg("message '%s' lacks '%s'", msg, want1);
    if (want2 && !strstr(msg, want2)) fail_msg("message '%s' lacks '%s'", msg, want2);
    size_t n;
    char *back = qlite_test_read_file(out, &n);
    assert_non_null(back);
    assert_int_equal(n, strlen("previous contents"));
    assert_memory_equal(back, "previous contents", n);
    free(back);
    unlink(out);
    /* and a fresh path is not created */
    assert_int_not_equal(qlite_convert_file(onnx, out, o, NULL), QLITE_OK);
    assert_int_not_equal(access(out, F_OK), 0);
}

static void test_missing_initializer(void **state) {
    (void)state;
    expect_failure(ct_fixture("bad_missing_initializer", ".onnx"), QLITE_ERR_CORRUPT, NULL,
                   "node 'add_missing' (Add)", "'w_missing'");
}

static void test_cycle(void **state) {
    (void)state;
    expect_failure(ct_fixture("bad_cycle", ".onnx"), QLITE_ERR_CORRUPT, NULL, "cyc_", "cycle");
}

static void test_rank_mismatch(void **state) {
    (void)state;
    expect_failure(ct_fixture("bad_rank_mismatch", ".onnx"), QLITE_ERR_CORRUPT, NULL,
                   "node 'mm_rank' (MatMul)", "rank mismatch");
}

static void test_unsupported_op(void **state) {
    (void)state;
    expect_failure(ct_fixture("bad_unsupported_op", ".onnx"), QLITE_ERR_UNSUPPORTED_OP, NULL,
                   "node 'nz' (NonZero)", "not supported");
}

static void test_external_escape(void **state) {
    (void)state;
    expect_failure(ct_fixture("bad_external_escape", ".onnx"), QLITE_ERR_CORRUPT, NULL,
                   "initializer 'we'", "inside the model's directory");
}

static void test_missing_file(void **state) {
    (void)state;
    expect_failure(ct_fixture("does_not_exist", ".onnx"), QLITE_ERR_IO, NULL, "does_not_exist",
                   NULL);
}

/* int8 without a representative dataset (and no QDQ scales) names what is
 * missing; bad option values are refused before anything is read. */
static void test_int8_needs_calibration(void **state) {
    (void)state;
    qlite_convert_options o = {0};
    o.mode = QLITE_CONVERT_INT8;
    expect_failure(ct_fixture("gemm_clip", ".onnx"), QLITE_ERR_INVALID_ARGUMENT, &o,
                   "representative dataset", "--calib");
    qlite_convert_options bad = {0};
    bad.mode = QLITE_CONVERT_DYNAMIC;
    bad.io = QLITE_CONVERT_IO_UINT8;
    expect_failure(ct_fixture("gemm_clip", ".onnx"), QLITE_ERR_INVALID_ARGUMENT, &bad, "--io uint8",
                   "int8");
    qlite_convert_options pct = {0};
    pct.mode = QLITE_CONVERT_INT8;
    pct.percentile = 120;
    expect_failure(ct_fixture("gemm_clip", ".onnx"), QLITE_ERR_INVALID_ARGUMENT, &pct, "percentile",
                   "(0, 100]");
}

/* Every proper prefix of a valid model fails cleanly (protobuf parse error
 * or a missing part), never crashes, never writes output. */
static void test_truncated_protobuf(void **state) {
    (void)state;
    size_t n;
    uint8_t *full = qlite_test_read_file(ct_fixture("bn_fold", ".onnx"), &n);
    assert_non_null(full);
    char path[1024], out[1024]; /* qlite_test_tmp_path reuses one buffer */
    snprintf(path, sizeof path, "%s", qlite_test_tmp_path("truncated.onnx"));
    snprintf(out, sizeof out, "%s", qlite_test_tmp_path("truncated.qlite"));
    unlink(out);
    unsigned corrupt = 0;
    for (size_t len = 0; len < n; len += (len < 64 ? 1 : 7)) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(fwrite(full, 1, len, f), len);
        fclose(f);
        qlite_status st = qlite_convert_file(path, out, NULL, NULL);
        if (st == QLITE_OK) fail_msg("a %zu-byte prefix of a %zu-byte model converted", len, n);
        corrupt += st == QLITE_ERR_CORRUPT;
        assert_null(strchr(qlite_last_error(), '\n'));
        assert_int_not_equal(access(out, F_OK), 0);
    }
    assert_true(corrupt > 0);
    /* the whole file still converts */
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(full, 1, n, f), n);
    fclose(f);
    assert_qlite_ok(qlite_convert_file(path, out, NULL, NULL));
    assert_int_equal(access(out, F_OK), 0);
    unlink(out);
    unlink(path);
    free(full);
}

/* Random byte flips: no crash; success or a clean error. */
static void test_bit_flips(void **state) {
    (void)state;
    size_t n;
    uint8_t *full = qlite_test_read_file(ct_fixture("layout", ".onnx"), &n);
    assert_non_null(full);
    char path[1024];
    snprintf(path, sizeof path, "%s", qlite_test_tmp_path("flipped.onnx"));
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 7);
    for (int i = 0; i < 200; i++) {
        uint8_t *c = malloc(n);
        memcpy(c, full, n);
        for (int k = 0; k < 3; k++) c[qlite_test_rng_u32(&rng) % n] ^= (uint8_t)(1u << (qlite_test_rng_u32(&rng) % 8));
        FILE *f = fopen(path, "wb");
        assert_int_equal(fwrite(c, 1, n, f), n);
        fclose(f);
        void *b = NULL;
        size_t s;
        if (qlite_convert_to_memory(path, NULL, &b, &s, NULL) == QLITE_OK) {
            qlite_model *m;
            assert_qlite_ok(qlite_model_open_memory(b, s, 0, &m));
            qlite_model_close(m);
            qlite_convert_free_bytes(b);
        } else {
            assert_null(b);
            assert_true(strlen(qlite_last_error()) > 0);
        }
        free(c);
    }
    unlink(path);
    free(full);
}

static void test_null_arguments(void **state) {
    (void)state;
    assert_int_equal(qlite_convert_file(NULL, "x", NULL, NULL), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_convert_file("x", NULL, NULL, NULL), QLITE_ERR_INVALID_ARGUMENT);
    void *b;
    size_t s;
    assert_int_equal(qlite_convert_to_memory(NULL, NULL, &b, &s, NULL), QLITE_ERR_INVALID_ARGUMENT);
    qlite_convert_options o = {0};
    o.mode = QLITE_CONVERT_MODE_COUNT;
    assert_int_equal(qlite_convert_to_memory(ct_fixture("gemm_clip", ".onnx"), &o, &b, &s, NULL),
                     QLITE_ERR_INVALID_ARGUMENT);
    qlite_convert_report_free(NULL);
    qlite_convert_free_bytes(NULL);
    assert_string_equal(qlite_convert_mode_name(QLITE_CONVERT_MODE_COUNT), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_initializer),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_rank_mismatch),
        cmocka_unit_test(test_unsupported_op),
        cmocka_unit_test(test_external_escape),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_int8_needs_calibration),
        cmocka_unit_test(test_truncated_protobuf),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
