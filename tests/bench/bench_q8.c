/*
 * bench_q8.c — throughput of the int8 reference kernels against the float32
 * ones on the same shapes: ADD (same shape and per-channel broadcast),
 * SOFTMAX over rows of 1000, REDUCE_MEAN over H, W of NHWC (global average
 * pooling), LOGISTIC (a table op).
 *
 * Each kernel is prepared once and its eval timed alone (no allocation in
 * the loop), single thread; the median of --runs repetitions is printed as
 * ns per element, with the int8 / float32 time ratio (< 1: int8 is faster).
 * This is a program that prints numbers, not a test.
 *
 * usage: bench_q8 [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "qlite/qlite.h"

#define MAX_IO 2

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct btensor {
    qlite_dtype dtype;
    uint32_t rank;
    int64_t shape[QLITE_MAX_RANK];
} btensor;

/* Prepares op once on random data and returns the median eval time in ns. */
static double time_op(qlite_op_code code, const qlite_op_options *opts, uint32_t nin,
                      const btensor *ins, const btensor *outb, int runs, int reps) {
    static float scale_in = 0.05f, scale_out = 0.04f, scale_sm = 1.0f / 256;
    static int32_t zp_in = -3, zp_out = 5, zp_sm = -128;
    const bool sm = code == QLITE_OP_SOFTMAX || code == QLITE_OP_LOGISTIC;
    qlite_quant qin = {.count = 1, .scale = &scale_in, .zero_point = &zp_in};
    qlite_quant qout = {.count = 1, .scale = sm ? &scale_sm : &scale_out,
                        .zero_point = sm ? &zp_sm : &zp_out};
    qlite_tensor_info info[MAX_IO + 1];
    qlite_tensor t[MAX_IO + 1];
    qlite_tensor *in_ptrs[MAX_IO], *out_ptr;
    int32_t in_idx[MAX_IO], out_idx[1] = {MAX_IO};
    memset(info, 0, sizeof info);
    memset(t, 0, sizeof t);
    for (uint32_t i = 0; i <= nin; i++) {
        const btensor *b = i < nin ? &ins[i] : outb;
        info[i].name = i < nin ? "in" : "out";
        info[i].dtype = b->dtype;
        info[i].rank = b->rank;
        info[i].shape = b->shape;
        const bool q = b->dtype == QLITE_DTYPE_INT8;
        info[i].quant = q ? (i < nin ? &qin : &qout) : NULL;
        t[i].info = &info[i];
        t[i].dtype = b->dtype;
        t[i].rank = b->rank;
        memcpy(t[i].dims, b->shape, sizeof t[i].dims);
        if (q) {
            t[i].scale = *info[i].quant->scale;
            t[i].zero_point = *info[i].quant->zero_point;
        }
        if (i < nin) {
            const size_t n = qlite_shape_elements(b->rank, b->shape);
            const size_t bytes = n * (q ? 1 : 4);
            t[i].data = malloc(bytes);
            t[i].bytes = bytes;
            unsigned s = 12345u + i;
            for (size_t k = 0; k < n; k++) {
                s = s * 1103515245u + 12345u;
                if (q) ((int8_t *)t[i].data)[k] = (int8_t)(s >> 16);
                else ((float *)t[i].data)[k] = (float)((int)(s >> 16 & 0xff) - 128) * 0.05f;
            }
            in_ptrs[i] = &t[i];
            in_idx[i] = (int32_t)i;
        }
    }
    out_ptr = &t[nin];
    qlite_op_info op = {.code = code, .name = "bench", .num_inputs = nin, .num_outputs = 1,
                        .inputs = in_idx, .outputs = out_idx};
    if (opts) op.options = *opts;
    qlite_exec_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    qlite_node node = {.op = &op, .opts = &op.options, .num_inputs = nin, .num_outputs = 1,
                       .inputs = in_ptrs, .outputs = &out_ptr, .ctx = &ctx};
    const qlite_kernel *k = qlite_kernel_registry[code];
    double median = -1.0;
    if (k->prepare(&node) != QLITE_OK) {
        fprintf(stderr, "%s: prepare failed: %s\n", qlite_op_name(code), qlite_last_error());
        goto out;
    }
    out_ptr->data = malloc(out_ptr->bytes ? out_ptr->bytes : 1);
    node.scratch = node.scratch_bytes ? qlite_aligned_alloc(node.scratch_bytes) : NULL;
    double *times = malloc((size_t)runs * sizeof *times);
    for (int r = 0; r < runs; r++) {
        const double t0 = now_ns();
        for (int i = 0; i < reps; i++) k->eval(&node);
        times[r] = (now_ns() - t0) / reps;
    }
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    median = times[runs / 2];
    free(times);
    qlite_aligned_free(node.scratch);
    free(out_ptr->data);
out:
    for (uint32_t i = 0; i < nin; i++) free(t[i].data);
    qlite_exec_ctx_free_allocs(&ctx);
    return median;
}

typedef struct bcase {
    const char *name;
    qlite_op_code code;
    qlite_op_options opts;
    uint32_t nin;
    btensor in[MAX_IO];
    btensor out;
} bcase;

static btensor shape_of(qlite_dtype dt, uint32_t rank, const int64_t *s) {
    btensor b = {.dtype = dt, .rank = rank};
    memcpy(b.shape, s, rank * sizeof *s);
    return b;
}

int main(int argc, char **argv) {
    int runs = 21;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--runs N]\n", argv[0]);
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (runs < 1) runs = 1;
    const int64_t act[4] = {1, 56, 56, 64}, ch[1] = {64}, rows[2] = {64, 1000};
    const int64_t gap_in[4] = {8, 7, 7, 1024}, gap_out[4] = {8, 1, 1, 1024};
    static const int32_t hw[2] = {1, 2};
    qlite_op_options none, smo, red;
    memset(&none, 0, sizeof none);
    memset(&smo, 0, sizeof smo);
    memset(&red, 0, sizeof red);
    smo.type = QLITE_OPTIONS_SOFTMAX;
    smo.u.softmax.axis = -1;
    smo.u.softmax.beta = 1.0f;
    red.type = QLITE_OPTIONS_REDUCE;
    red.u.reduce.count = 2;
    red.u.reduce.axes = hw;
    red.u.reduce.keep_dims = true;
    printf("%-34s %12s %12s %8s\n", "kernel (single thread)", "f32 ns/elem", "int8 ns/elem",
           "int8/f32");
    for (int c = 0; c < 5; c++) {
        const char *name = NULL;
        qlite_op_code code = QLITE_OP_ADD;
        const qlite_op_options *o = &none;
        uint32_t nin = 1;
        const int64_t *s0 = act, *s1 = act, *so = act;
        uint32_t r0 = 4, r1 = 4, ro = 4;
        switch (c) {
        case 0: name = "ADD [1,56,56,64] + same"; nin = 2; break;
        case 1: name = "ADD [1,56,56,64] + [64]"; nin = 2; s1 = ch; r1 = 1; break;
        case 2:
            name = "SOFTMAX [64,1000] last axis";
            code = QLITE_OP_SOFTMAX, o = &smo, s0 = so = rows, r0 = ro = 2;
            break;
        case 3:
            name = "MEAN over H,W [8,7,7,1024]";
            code = QLITE_OP_REDUCE_MEAN, o = &red, s0 = gap_in, so = gap_out;
            break;
        default: name = "LOGISTIC [1,56,56,64]"; code = QLITE_OP_LOGISTIC; break;
        }
        double ns[2];
        for (int q = 0; q < 2; q++) {
            const qlite_dtype dt = q ? QLITE_DTYPE_INT8 : QLITE_DTYPE_FLOAT32;
            btensor in[2] = {shape_of(dt, r0, s0), shape_of(dt, r1, s1)};
            btensor out = shape_of(dt, ro, so);
            const size_t n = qlite_shape_elements(r0, s0);
            const int reps = (int)(2000000 / n) + 1;
            ns[q] = time_op(code, o, nin, in, &out, runs, reps) / (double)n;
        }
        printf("%-34s %12.3f %12.3f %8.2f\n", name, ns[0], ns[1], ns[1] / ns[0]);
    }
    return 0;
}
