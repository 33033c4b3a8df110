/*
 * test_stack_budget.c — the stack qlite needs (docs/api.md "Threads").
 *
 * Every bundled model (models/<name>/<name>.onnx), converted by the library
 * in each mode (float32, float16, dynamic, int8 with 16 calibration samples;
 * the QAT LeNet as int8 from its own scales), is created, prepared and
 * invoked on a thread of ours, with 1 thread (no pool) and with 2 (the pool's
 * worker has its own default-size stack; the calling thread runs a share):
 *   1. on a large stack of our own filled with a pattern: the deepest byte
 *      written, counted from the top (glibc's thread descriptor and static
 *      TLS included, as they also come out of a thread's stack), must stay
 *      within QLITE_STACK_BUDGET, and is printed;
 *   2. on a thread created with exactly that stack size
 *      (pthread_attr_setstacksize; PTHREAD_STACK_MIN where that is larger,
 *      as on ARM64): it must finish (beyond the guard page it would crash).
 * Under AddressSanitizer (Debug, -O0) every intrinsic temporary has its own
 * redzoned stack slot: the int8 3x3 depthwise block alone takes ~0.8 MB
 * (measured: 837 KB for MobileNet int8, 45 KB for the float models), so
 * the sanitizer build checks 1. and 2. against ASAN_SCALE (32) times the
 * budget, 2 MiB: it still fails there when a frame grows far beyond that.
 *
 * With file arguments it measures instead (no checks), e.g. the benchmark
 * models:  test_stack_budget [--threads T] MODEL.qlite...
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/qlite_convert.h"
#include "support.h"

/* The budget docs/api.md states. Measured (Release, glibc's descriptor and
 * TLS included): 43.2 KB deepest (MobileNet / MobileNetV2 int8 and dynamic:
 * the AVX-512 int8 3x3 depthwise block's 17 KB table), int8 / dynamic
 * otherwise <= 23 KB, float <= 12.5 KB, also for ResNet-18 and
 * transformer_s128 in every mode, at 1 and 2 threads; under QLITE_MAX_ISA
 * avx2 <= 21.6 KB (the int8 GEMM's 12 KiB stack workspace for BATCH_MATMUL
 * and RNN steps, gemm_q8.c), portable <= 12.5 KB. */
#define QLITE_STACK_BUDGET (64u * 1024u)

#if defined(__SANITIZE_ADDRESS__)
#define STACK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STACK_ASAN 1
#endif
#endif
#ifdef STACK_ASAN
#define ASAN_SCALE 32u
#else
#define ASAN_SCALE 1u
#endif

#define FILL 0xA5u

typedef struct run_job {
    const void *bytes; /* .qlite in memory */
    size_t size;
    int threads;
    qlite_status st;
    char err[256];
} run_job;

/* Deterministic inputs: floats in [-1, 1), integers in a small range. */
static void fill_input(const qlite_tensor_view *v, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    uint8_t *p = v->data;
    switch (v->dtype) {
    case QLITE_DTYPE_FLOAT32:
        for (size_t i = 0; i + 4 <= v->bytes; i += 4) {
            const float f = qlite_test_rng_float(&r, -1.0f, 1.0f);
            memcpy(p + i, &f, 4);
        }
        break;
    case QLITE_DTYPE_FLOAT16:
        for (size_t i = 0; i + 2 <= v->bytes; i += 2) {
            const uint16_t h = qlite_fp32_to_fp16(qlite_test_rng_float(&r, -1.0f, 1.0f));
            memcpy(p + i, &h, 2);
        }
        break;
    case QLITE_DTYPE_INT64: /* indices, token ids: 0..7 */
        for (size_t i = 0; i + 8 <= v->bytes; i += 8) {
            const int64_t k = qlite_test_rng_u32(&r) % 8;
            memcpy(p + i, &k, 8);
        }
        break;
    case QLITE_DTYPE_INT32:
        for (size_t i = 0; i + 4 <= v->bytes; i += 4) {
            const int32_t k = (int32_t)(qlite_test_rng_u32(&r) % 8);
            memcpy(p + i, &k, 4);
        }
        break;
    default: /* bytes */
        for (size_t i = 0; i < v->bytes; i++) p[i] = (uint8_t)qlite_test_rng_u32(&r);
        break;
    }
}

/* open, create, resize dynamic dims to 1, prepare, inputs, invoke, destroy */
static void *run_main(void *arg) {
    run_job *j = arg;
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    qlite_interpreter_options o = {.num_threads = j->threads};
    j->st = qlite_model_open_memory(j->bytes, j->size, 0, &m);
    if (j->st == QLITE_OK) j->st = qlite_interpreter_create(m, &o, &it);
    for (uint32_t i = 0; j->st == QLITE_OK && i < qlite_model_input_count(m); i++) {
        const qlite_tensor_info *ti = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, i));
        int64_t dims[QLITE_MAX_RANK];
        for (uint32_t d = 0; d < ti->rank; d++) dims[d] = ti->shape[d] < 0 ? 1 : ti->shape[d];
        j->st = qlite_interpreter_resize_input(it, i, ti->rank, dims);
    }
    if (j->st == QLITE_OK) j->st = qlite_interpreter_prepare(it);
    for (uint32_t i = 0; j->st == QLITE_OK && i < qlite_interpreter_input_count(it); i++) {
        qlite_tensor_view v;
        j->st = qlite_interpreter_input(it, i, &v);
        if (j->st == QLITE_OK) fill_input(&v, 100 + i);
    }
    if (j->st == QLITE_OK) j->st = qlite_interpreter_invoke(it);
    if (j->st != QLITE_OK) snprintf(j->err, sizeof j->err, "%s", qlite_last_error());
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    return NULL;
}

/* Runs the job on a pattern-filled stack of `size` bytes; returns the bytes
 * from the top down to the deepest one written. */
static size_t stack_high_water(run_job *j, size_t size) {
    uint8_t *stack = aligned_alloc(4096, size);
    assert_non_null(stack);
    memset(stack, FILL, size);
    pthread_attr_t a;
    pthread_t t;
    assert_int_equal(pthread_attr_init(&a), 0);
    assert_int_equal(pthread_attr_setstack(&a, stack, size), 0);
    assert_int_equal(pthread_create(&t, &a, run_main, j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&a);
    size_t low = 0;
    while (low < size && stack[low] == FILL) low++;
    free(stack);
    return size - low;
}

/* Runs the job on a thread with a stack of exactly `size` bytes. */
static void run_with_stack(run_job *j, size_t size) {
    pthread_attr_t a;
    pthread_t t;
    assert_int_equal(pthread_attr_init(&a), 0);
    assert_int_equal(pthread_attr_setstacksize(&a, size), 0);
    assert_int_equal(pthread_create(&t, &a, run_main, j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&a);
}

typedef struct model_mode {
    const char *model;
    qlite_convert_mode mode;
    bool calib; /* int8 from the calibration set (not a QDQ model) */
    bool quick; /* also in reduced runs */
} model_mode;

static size_t g_worst;

static void check_bytes(const char *what, const void *bytes, size_t size) {
    const size_t budget = (size_t)QLITE_STACK_BUDGET * ASAN_SCALE;
    for (int threads = 1; threads <= 2; threads++) {
        run_job j = {.bytes = bytes, .size = size, .threads = threads};
        const size_t used = stack_high_water(&j, 4 * budget);
        if (j.st != QLITE_OK) fail_msg("%s, %d thread(s): %s", what, threads, j.err);
        print_message("%-28s %d thread(s): %6zu bytes of stack\n", what, threads, used);
        g_worst = used > g_worst ? used : g_worst;
        if (used > budget)
            fail_msg("%s, %d thread(s): %zu bytes of stack, over the budget of %zu", what,
                     threads, used, budget);
        /* glibc refuses stacks below PTHREAD_STACK_MIN: 16 KiB on x86-64, 128 KiB on ARM64 */
        const size_t min = (size_t)PTHREAD_STACK_MIN, small = budget > min ? budget : min;
        run_job k = {.bytes = bytes, .size = size, .threads = threads};
        run_with_stack(&k, small);
        if (k.st != QLITE_OK) fail_msg("%s on a %zu-byte stack: %s", what, small, k.err);
    }
}

static void test_bundled_models(void **state) {
    (void)state;
    /* quick: the subset the reduced runs (ASan, qemu: support.h) keep, every kernel
     * family once (LeNet in all four modes, the int8 / dynamic depthwise that goes
     * deepest, the transformer's int8 ops, both RNNs, sparse and clustered FC) */
    static const model_mode cases[] = {
        {"lenet", QLITE_CONVERT_FLOAT32, false, true},
        {"lenet", QLITE_CONVERT_FLOAT16, false, true},
        {"lenet", QLITE_CONVERT_DYNAMIC, false, true},
        {"lenet", QLITE_CONVERT_INT8, true, true},
        {"mlp", QLITE_CONVERT_FLOAT32, false, false},
        {"mlp", QLITE_CONVERT_FLOAT16, false, false},
        {"mlp", QLITE_CONVERT_DYNAMIC, false, false},
        {"mlp", QLITE_CONVERT_INT8, true, false},
        {"mobilenet", QLITE_CONVERT_FLOAT32, false, false},
        {"mobilenet", QLITE_CONVERT_FLOAT16, false, false},
        {"mobilenet", QLITE_CONVERT_DYNAMIC, false, true},
        {"mobilenet", QLITE_CONVERT_INT8, true, true},
        {"transformer", QLITE_CONVERT_FLOAT32, false, false},
        {"transformer", QLITE_CONVERT_FLOAT16, false, false},
        {"transformer", QLITE_CONVERT_DYNAMIC, false, false},
        {"transformer", QLITE_CONVERT_INT8, true, true},
        {"gru", QLITE_CONVERT_FLOAT32, false, true},
        {"gru", QLITE_CONVERT_DYNAMIC, false, false},
        {"lstm", QLITE_CONVERT_FLOAT32, false, false},
        {"lstm", QLITE_CONVERT_DYNAMIC, false, true},
        {"mlp_pruned", QLITE_CONVERT_FLOAT32, false, true},
        {"mlp_clustered", QLITE_CONVERT_FLOAT32, false, true},
        {"lenet_qat", QLITE_CONVERT_INT8, false, false},
    };
    char calib[1024];
    snprintf(calib, sizeof calib, "%s", qlite_test_source_path("models/data/fmnist_calib.npz"));
    const char *files[1] = {calib};
    const bool reduced = qlite_test_reduced();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (reduced && !cases[c].quick) continue;
        char onnx[1024], what[64];
        snprintf(onnx, sizeof onnx, "%s/models/%s/%s.onnx", QLITE_SOURCE_DIR, cases[c].model,
                 cases[c].model);
        snprintf(what, sizeof what, "%s %s", cases[c].model,
                 qlite_convert_mode_name(cases[c].mode));
        qlite_convert_options o = {.mode = cases[c].mode};
        if (cases[c].calib) {
            o.calib_files = files;
            o.num_calib_files = 1;
            o.calib_samples = 16;
        }
        void *bytes = NULL;
        size_t size = 0;
        assert_qlite_ok(qlite_convert_to_memory(onnx, &o, &bytes, &size, NULL));
        check_bytes(what, bytes, size);
        qlite_convert_free_bytes(bytes);
    }
    print_message("deepest: %zu bytes (budget %zu%s)\n", g_worst,
                  (size_t)QLITE_STACK_BUDGET * ASAN_SCALE, ASAN_SCALE > 1 ? ", ASan" : "");
}

/* Measurement mode: the high-water of each file given (no budget check). */
static int measure(int argc, char **argv) {
    int threads = 1, rc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
            continue;
        }
        size_t size = 0;
        void *bytes = qlite_test_read_file(argv[i], &size);
        if (!bytes) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            rc = 1;
            continue;
        }
        run_job j = {.bytes = bytes, .size = size, .threads = threads};
        const size_t used = stack_high_water(&j, 16u << 20);
        if (j.st != QLITE_OK) {
            fprintf(stderr, "%s: %s\n", argv[i], j.err);
            rc = 1;
        } else {
            printf("%s %d thread(s): %zu bytes of stack\n", argv[i], threads, used);
        }
        free(bytes);
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc > 1) return measure(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
