/*
 * test_convert_cli.c — the qlite-convert program: success prints the report
 * and writes the file; bad input exits 1 with one line on stderr naming the
 * node and creates no file; usage errors exit 2; --help / --version exit 0.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "test_convert_util.h"

#define TOOL QLITE_BINARY_DIR "/converter/qlite-convert"

/* Runs the tool with `args`; returns the exit status; stdout/stderr text in
 * out/err (NUL-terminated, truncated to size). */
static int run_tool(const char *args, char *out, size_t osz, char *err, size_t esz) {
    char o[1024], e[1024], cmd[4096];
    snprintf(o, sizeof o, "%s", qlite_test_tmp_path("cli_stdout.txt"));
    snprintf(e, sizeof e, "%s", qlite_test_tmp_path("cli_stderr.txt"));
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", TOOL, args, o, e);
    int rc = system(cmd);
    size_t n;
    char *t = qlite_test_read_file(o, &n);
    snprintf(out, osz, "%.*s", t ? (int)n : 0, t ? t : "");
    free(t);
    t = qlite_test_read_file(e, &n);
    snprintf(err, esz, "%.*s", t ? (int)n : 0, t ? t : "");
    free(t);
    unlink(o);
    unlink(e);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_success(void **state) {
    (void)state;
    char out_path[1024], args[3072], out[8192], err[2048];
    snprintf(out_path, sizeof out_path, "%s", qlite_test_tmp_path("cli_ok.qlite"));
    unlink(out_path);
    snprintf(args, sizeof args, "%s -o %s", ct_fixture("bn_fold", ".onnx"), out_path);
    assert_int_equal(run_tool(args, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "BatchNormalization 1"));       /* ONNX ops in */
    assert_non_null(strstr(out, "CONV_2D 1"));                  /* qlite ops out */
    assert_non_null(strstr(out, "BatchNormalization folded"));  /* rewrites */
    assert_non_null(strstr(out, "size: ONNX"));
    assert_int_equal(access(out_path, F_OK), 0);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open(out_path, 0, &m));
    assert_int_equal(qlite_model_op_count(m), 3);
    qlite_model_close(m);
    unlink(out_path);
}

static void test_bad_inputs(void **state) {
    (void)state;
    const struct {
        const char *fixture, *want;
    } cases[] = {
        {"bad_missing_initializer", "add_missing"}, {"bad_cycle", "cycle"},
        {"bad_rank_mismatch", "mm_rank"},           {"bad_unsupported_op", "NonZero"},
        {"bad_external_escape", "initializer 'we'"},
    };
    char out_path[1024], args[3072], out[4096], err[2048];
    snprintf(out_path, sizeof out_path, "%s", qlite_test_tmp_path("cli_bad.qlite"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unlink(out_path);
        snprintf(args, sizeof args, "%s -o %s", ct_fixture(cases[i].fixture, ".onnx"), out_path);
        assert_int_equal(run_tool(args, out, sizeof out, err, sizeof err), 1);
        assert_int_equal(count_lines(err), 1);
        if (!strstr(err, cases[i].want)) fail_msg("stderr '%s' lacks '%s'", err, cases[i].want);
        assert_int_not_equal(access(out_path, F_OK), 0);
    }
    snprintf(args, sizeof args, "%s -o %s --mode int8", ct_fixture("gemm_clip", ".onnx"), out_path);
    assert_int_equal(run_tool(args, out, sizeof out, err, sizeof err), 1);
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "representative dataset"));
    assert_int_not_equal(access(out_path, F_OK), 0);
}

/* int8 with a calibration file: the report (text on stdout, JSON file read
 * back by jq, an independent JSON parser), progress on stderr. */
static void test_int8_report(void **state) {
    (void)state;
    char out_path[1024], json[1024], args[4096], out[16384], err[4096], cmd[3000], calib[1024];
    snprintf(out_path, sizeof out_path, "%s", qlite_test_tmp_path("cli_int8.qlite"));
    snprintf(json, sizeof json, "%s", qlite_test_tmp_path("cli_int8.json"));
    snprintf(calib, sizeof calib, "%s", ct_fixture("q_mix_calib.npz", ""));
    unlink(out_path);
    unlink(json);
    snprintf(args, sizeof args, "%s -o %s --mode int8 --calib %s --calibration percentile:99.9 "
             "--report %s", ct_fixture("q_mix", ".onnx"), out_path, calib, json);
    assert_int_equal(run_tool(args, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "calibration: 64 samples, percentile 99.9"));
    assert_non_null(strstr(out, "ops left in float:"));
    assert_non_null(strstr(out, "logsoftmax"));
    assert_non_null(strstr(err, "calibrating: 128/128 done")); /* two passes */
    assert_int_equal(access(out_path, F_OK), 0);
    snprintf(cmd, sizeof cmd,
             "jq -e '.mode == \"int8\" and .calibration.samples == 64 and "
             ".calibration.method == \"percentile\" and (.float_ops | length) == 1 and "
             ".float_ops[0].code == \"LOG_SOFTMAX\" and (.activations | length) >= 7 and "
             ".sizes.output_bytes > 0' %s >/dev/null", json);
    assert_int_equal(system(cmd), 0);
    unlink(out_path);
    unlink(json);
    /* bad calibration data: exit 1, one line naming the problem, no file */
    snprintf(args, sizeof args, "%s -o %s --mode int8 --calib %s", ct_fixture("q_mix", ".onnx"),
             out_path, ct_fixture("q_bad_nan.npz", ""));
    assert_int_equal(run_tool(args, out, sizeof out, err, sizeof err), 1);
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "NaN"));
    assert_int_not_equal(access(out_path, F_OK), 0);
    /* usage errors */
    assert_int_equal(run_tool("a.onnx -o x --calibration median", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(count_lines(err), 1);
    assert_int_equal(run_tool("a.onnx -o x --calibration percentile:101", out, sizeof out, err,
                              sizeof err), 2);
    assert_int_equal(run_tool("a.onnx -o x --io int4", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run_tool("a.onnx -o x --eval x.npy", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run_tool("a.onnx -o x --calib-samples -3", out, sizeof out, err, sizeof err), 2);
}

static void test_usage(void **state) {
    (void)state;
    char out[4096], err[2048];
    assert_int_equal(run_tool("--help", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "--nhwc-io"));
    assert_non_null(strstr(out, "--calibration"));
    assert_int_equal(run_tool("--version", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "qlite-convert"));
    assert_int_equal(run_tool("model.onnx", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run_tool("--bogus", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run_tool("a.onnx -o x --mode int4", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(count_lines(err), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_int8_report),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
