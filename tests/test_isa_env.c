/*
 * test_isa_env.c — the QLITE_MAX_ISA environment variable (docs/api.md):
 *
 * (a) qlite_q8_isa_limit's masks for every documented name (each level
 *     and all below it, case-insensitive, the other architecture's names
 *     limiting nothing, unknown / empty / unset = no limit);
 * (b) in child processes (the variable is read once per process, at the
 *     first feature detection, so each setting needs a fresh process that
 *     has not detected yet): qlite_q8_cpu_features() under each value is
 *     the uncapped child's features within the name's mask (x86 with AVX2:
 *     "avx2" gives exactly AVX2, so the int8 GEMM selected for N = 64 is
 *     the AVX2 one, the f16 weight rows use the F16C one and the Winograd
 *     transforms their AVX2 build; "portable" gives 0 and the portable
 *     kernels);
 * (c) an int8 FULLY_CONNECTED in those children (portable, avx2, avxvnni,
 *     avx512, uncapped) equals the int64 formula of docs/quantization.md
 *     §4.1 (kernel_nn_q8_check.h's output stage) code for code: the capped
 *     integer kernels give the uncapped result exactly.
 *
 * The parent never detects features itself (it would not change anything
 * for its children: fork copies the cache).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel_nn_q8_check.h"
#include "kernels/conv_2d_winograd.h"
#include "kernels/gemm_f16.h"
#include "kernels/gemm_f32.h"
#include "kernels/gemm_q8.h"

#define X86_ALL (QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX512 | QLITE_Q8_F_AMX)
#define ARM_ALL (QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD | QLITE_Q8_F_I8MM)

static void test_limit_masks(void **state) {
    (void)state;
    assert_int_equal(qlite_q8_isa_limit(NULL), ~0u);
    assert_int_equal(qlite_q8_isa_limit(""), ~0u);
    assert_int_equal(qlite_q8_isa_limit("sse4"), ~0u);
    assert_int_equal(qlite_q8_isa_limit("avx2x"), ~0u);
    assert_int_equal(qlite_q8_isa_limit("avx"), ~0u);
    assert_int_equal(qlite_q8_isa_limit("portable"), 0u);
    assert_int_equal(qlite_q8_isa_limit("avx2"), ARM_ALL | QLITE_Q8_F_AVX2);
    assert_int_equal(qlite_q8_isa_limit("AVX2"), ARM_ALL | QLITE_Q8_F_AVX2);
    assert_int_equal(qlite_q8_isa_limit("avxvnni"),
                     ARM_ALL | QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI);
    assert_int_equal(qlite_q8_isa_limit("avx512"),
                     ARM_ALL | QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX512);
    assert_int_equal(qlite_q8_isa_limit("Amx"), ARM_ALL | X86_ALL);
    assert_int_equal(qlite_q8_isa_limit("neon"), X86_ALL | QLITE_Q8_F_NEON);
    assert_int_equal(qlite_q8_isa_limit("dotprod"),
                     X86_ALL | QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD);
    assert_int_equal(qlite_q8_isa_limit("i8mm"), X86_ALL | ARM_ALL);
}

/* ---- child processes ---------------------------------------------- */

typedef struct child_report {
    unsigned features;    /* qlite_q8_cpu_features() */
    unsigned limit;       /* qlite_q8_feature_limit() */
    char q8_gemm[64];     /* qlite_gemm_q8_select_for(64)->name */
    char f16_rows[64];    /* qlite_gemm_f16_rowk_select()->name */
    char f32_gemm[64];    /* qlite_gemm_f32_select()->name */
    char wino_tf[16];     /* qlite_wino_transforms_name() */
    int fc_mismatches;    /* int8 FC codes != formula; -1: the run failed */
} child_report;

/* One int8 FC (M 37, K 130, N 70: several tiles and a K tail), per-channel
 * weights with zero points, ReLU; returns the codes that differ from the
 * int64 formula, or -1 when the op did not run. */
static int fc_mismatches(void) {
    enum { M = 37, K = 130, N = 70 };
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 77);
    static int8_t x[M * K], w[N * K];
    static int32_t b[N], want[M * N];
    q8_params px, py;
    nnq_wparams pw;
    nnq_fill_codes(&r, x, M * K, QLITE_DTYPE_INT8);
    nnq_fill_weights(&r, w, N * K);
    nnq_fill_bias(&r, b, N, 14);
    q8_params_set(&px, q8_rand_scale(&r, -8.0f, -2.0f), q8_rand_zp(&r, QLITE_DTYPE_INT8));
    nnq_wparams_random(&r, &pw, N, 0, true);
    q8_params_set(&py, nnq_out_scale(&r, px.scale, pw.scale[0], K),
                  q8_rand_zp(&r, QLITE_DTYPE_INT8));
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            int64_t acc = b[n];
            for (size_t k = 0; k < K; k++)
                acc += (int64_t)(x[m * K + k] - px.zp) * (w[n * K + k] - nnq_wzp(&pw, n));
            want[m * N + n] = nnq_out(acc, px.scale, &pw, n, &py, QLITE_DTYPE_INT8,
                                      QLITE_ACT_RELU);
        }
    qlite_op_test_tensor in[3], out;
    in[0] = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){M, K}, x, &px);
    in[1] = qt_const(QLITE_DTYPE_INT8, 2, (int64_t[]){N, K}, w);
    in[1].quant = &pw.q;
    in[2] = qt_const(QLITE_DTYPE_INT32, 1, (int64_t[]){N}, b);
    out = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){M, N}, NULL, &py);
    qlite_op_options o = qopts(QLITE_OPTIONS_FULLY_CONNECTED);
    o.u.fully_connected.activation = QLITE_ACT_RELU;
    if (qlite_op_test_run(QLITE_OP_FULLY_CONNECTED, &o, 3, in, 1, &out, 1, 0) != QLITE_OK ||
        out.out_bytes != (size_t)M * N)
        return -1;
    int bad = 0;
    const int8_t *got = out.out;
    for (size_t i = 0; i < (size_t)M * N; i++) bad += got[i] != want[i];
    qlite_op_test_free(1, &out);
    return bad;
}

/* Runs the checks in a child whose QLITE_MAX_ISA is `value` (NULL: unset). */
static child_report in_child(const char *value) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (value)
            setenv("QLITE_MAX_ISA", value, 1);
        else
            unsetenv("QLITE_MAX_ISA");
        child_report c;
        memset(&c, 0, sizeof c);
        c.features = qlite_q8_cpu_features();
        c.limit = qlite_q8_feature_limit();
        snprintf(c.q8_gemm, sizeof c.q8_gemm, "%s", qlite_gemm_q8_select_for(64)->name);
        snprintf(c.f16_rows, sizeof c.f16_rows, "%s", qlite_gemm_f16_rowk_select()->name);
        snprintf(c.f32_gemm, sizeof c.f32_gemm, "%s", qlite_gemm_f32_select()->name);
        snprintf(c.wino_tf, sizeof c.wino_tf, "%s", qlite_wino_transforms_name());
        c.fc_mismatches = fc_mismatches();
        const ssize_t n = write(fds[1], &c, sizeof c);
        _exit(n == (ssize_t)sizeof c ? 0 : 3);
    }
    close(fds[1]);
    child_report c;
    size_t got = 0;
    while (got < sizeof c) {
        const ssize_t n = read(fds[0], (char *)&c + got, sizeof c - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(got, sizeof c);
    return c;
}

static void test_env_caps_features(void **state) {
    (void)state;
    const child_report all = in_child(NULL);
    assert_int_equal(all.fc_mismatches, 0);
    assert_int_equal(all.limit, ~0u & ~(1u << 31)); /* bit 31 is not a feature */
    const char *values[] = {"portable", "avx2", "AVX2",    "avxvnni", "avx512", "amx",
                            "neon",     "dotprod", "i8mm", "bogus",   ""};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const child_report c = in_child(values[i]);
        const unsigned mask = qlite_q8_isa_limit(values[i]);
        if (c.features != (all.features & mask))
            fail_msg("QLITE_MAX_ISA=%s: features %#x, want %#x & %#x", values[i], c.features,
                     all.features, mask);
        assert_int_equal(c.limit, mask & ~(1u << 31));
        if (c.fc_mismatches != 0)
            fail_msg("QLITE_MAX_ISA=%s: int8 FC differs from the formula in %d codes",
                     values[i], c.fc_mismatches);
        if (mask == ~0u) assert_string_equal(c.q8_gemm, all.q8_gemm);
    }
    /* the portable kernels under "portable" */
    const child_report p = in_child("portable");
    assert_int_equal(p.features, 0u);
    assert_string_equal(p.q8_gemm, "qlite_q8_gemm__scalar_4x16");
    assert_string_equal(p.f16_rows, "qlite_f16w_gemm_row__portable");
    assert_non_null(strstr(p.f32_gemm, "__generic_"));
    assert_string_equal(p.wino_tf, "baseline");
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        skip();
    }
    /* an AVX2 machine's kernels on this one */
    const child_report a = in_child("avx2");
    assert_int_equal(a.features, QLITE_Q8_F_AVX2);
    assert_string_equal(a.q8_gemm, "qlite_q8_gemm__avx2_3x16");
    assert_string_equal(a.f16_rows, "qlite_f16w_gemm_row__avx2_f16c");
    assert_non_null(strstr(a.f32_gemm, "__avx2_"));
    assert_string_equal(a.wino_tf, "avx2"); /* the Winograd transforms too */
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_masks),
        cmocka_unit_test(test_env_caps_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
