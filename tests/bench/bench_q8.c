/*
 * bench_q8.c — throughput of the int8 element-wise kernels against the
 * float32 ones on the same shapes: ADD / SUB / MUL (same shape, per-channel
 * and per-row broadcast), the table ops (LOGISTIC, TANH, HARD_SWISH, GELU),
 * QUANTIZE and DEQUANTIZE, SOFTMAX over rows of 1000 and of 28 (attention),
 * LAYER_NORM over rows of 64 (the bundled transformer) and 768,
 * REDUCE_MEAN over H, W of NHWC (global average pooling).
 *
 * Each kernel is prepared once and its eval timed alone (no allocation in
 * the loop), single thread; the median of --runs repetitions is printed as
 * ns per element: float32, the int8 reference (QLITE_INTERP_REFERENCE_ONLY),
 * the int8 kernel this CPU selects (elementwise_q8.h's variants), and the
 * ratios int8 / float32 (< 1: int8 is faster) for both. QUANTIZE and
 * DEQUANTIZE have no float32 counterpart (their f32 column is a float copy
 * of the same elements). This is a program that prints numbers, not a test.
 *
 * usage: bench_q8 [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "qlite/qlite.h"

#define MAX_IO 3

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
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
                      const btensor *ins, const btensor *outb, int runs, int reps,
                      uint32_t flags) {
    static float scale_in = 0.05f, scale_out = 0.04f, scale_sm = 1.0f / 256;
    static int32_t zp_in = -3, zp_out = 5, zp_sm = -128;
    const bool sm = code == QLITE_OP_SOFTMAX || code == QLITE_OP_LOGISTIC;
    if (code == QLITE_OP_TANH) scale_sm = 1.0f / 128, zp_sm = 0;
    else scale_sm = 1.0f / 256, zp_sm = -128;
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
            t[i].is_const = code == QLITE_OP_LAYER_NORM && i > 0; /* gamma, beta */
        }
    }
    out_ptr = &t[nin];
    qlite_op_info op = {.code = code, .name = "bench", .num_inputs = nin, .num_outputs = 1,
                        .inputs = in_idx, .outputs = out_idx};
    if (opts) op.options = *opts;
    qlite_exec_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.flags = flags;
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

static btensor shape_of(qlite_dtype dt, uint32_t rank, const int64_t *s) {
    btensor b = {.dtype = dt, .rank = rank};
    memcpy(b.shape, s, rank * sizeof *s);
    return b;
}

enum { IO_SAME, IO_QUANTIZE, IO_DEQUANTIZE }; /* dtypes: both int8 / f32 -> int8 / int8 -> f32 */

typedef struct bcase {
    const char *name;
    qlite_op_code code;
    const qlite_op_options *opts;
    uint32_t nin;
    uint32_t r0, r1, ro;
    const int64_t *s0, *s1, *so;
    int io;
} bcase;

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
    static const int64_t act[4] = {1, 56, 56, 64}, ch[1] = {64}, rows[2] = {64, 1000};
    static const int64_t tok[3] = {28, 64, 1}, tokd[3] = {28, 64, 64};
    static const int64_t att[4] = {4, 4, 28, 28}, wide[2] = {64, 768};
    static const int64_t gap_in[4] = {8, 7, 7, 1024}, gap_out[4] = {8, 1, 1, 1024};
    static const int32_t hw[2] = {1, 2};
    static qlite_op_options none, smo, red, lno;
    lno.type = QLITE_OPTIONS_NORM;
    lno.u.norm.axis = -1;
    lno.u.norm.epsilon = 1e-5f;
    smo.type = QLITE_OPTIONS_SOFTMAX;
    smo.u.softmax.axis = -1;
    smo.u.softmax.beta = 1.0f;
    red.type = QLITE_OPTIONS_REDUCE;
    red.u.reduce.count = 2;
    red.u.reduce.axes = hw;
    red.u.reduce.keep_dims = true;
#define ELEMWISE(nm, op, n) {nm, op, &none, n, 4, 4, 4, act, act, act, IO_SAME}
    static const bcase cases[] = {
        ELEMWISE("ADD [1,56,56,64] + same", QLITE_OP_ADD, 2),
        {"ADD [1,56,56,64] + [64]", QLITE_OP_ADD, &none, 2, 4, 1, 4, act, ch, act, IO_SAME},
        {"ADD [28,64,64] + [28,64,1]", QLITE_OP_ADD, &none, 2, 3, 3, 3, tokd, tok, tokd,
         IO_SAME},
        ELEMWISE("SUB [1,56,56,64] + same", QLITE_OP_SUB, 2),
        ELEMWISE("MUL [1,56,56,64] + same", QLITE_OP_MUL, 2),
        {"MUL [1,56,56,64] * [64]", QLITE_OP_MUL, &none, 2, 4, 1, 4, act, ch, act, IO_SAME},
        ELEMWISE("LOGISTIC [1,56,56,64]", QLITE_OP_LOGISTIC, 1),
        ELEMWISE("TANH [1,56,56,64]", QLITE_OP_TANH, 1),
        ELEMWISE("HARD_SWISH [1,56,56,64]", QLITE_OP_HARD_SWISH, 1),
        ELEMWISE("GELU [1,56,56,64]", QLITE_OP_GELU, 1),
        {"QUANTIZE f32->int8 [1,56,56,64]", QLITE_OP_QUANTIZE, &none, 1, 4, 4, 4, act, act, act,
         IO_QUANTIZE},
        {"DEQUANTIZE int8->f32 [1,56,56,64]", QLITE_OP_DEQUANTIZE, &none, 1, 4, 4, 4, act, act,
         act, IO_DEQUANTIZE},
        {"SOFTMAX [64,1000] last axis", QLITE_OP_SOFTMAX, &smo, 1, 2, 2, 2, rows, rows, rows,
         IO_SAME},
        {"SOFTMAX [4,4,28,28] (attention)", QLITE_OP_SOFTMAX, &smo, 1, 4, 4, 4, att, att, att,
         IO_SAME},
        {"LAYER_NORM [28,64] (transformer)", QLITE_OP_LAYER_NORM, &lno, 3, 2, 1, 2, tok, tok + 1,
         tok, IO_SAME},
        {"LAYER_NORM [64,768]", QLITE_OP_LAYER_NORM, &lno, 3, 2, 1, 2, wide, wide + 1, wide,
         IO_SAME},
        {"MEAN over H,W [8,7,7,1024]", QLITE_OP_REDUCE_MEAN, &red, 1, 4, 4, 4, gap_in, gap_in,
         gap_out, IO_SAME},
    };
    printf("%-36s %9s %9s %9s %9s %9s\n", "kernel (single thread, ns/element)", "f32",
           "int8 ref", "int8", "ref/f32", "int8/f32");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const bcase *k = &cases[c];
        double ns[3];
        const size_t n = qlite_shape_elements(k->r0, k->s0);
        const int reps = (int)(2000000 / n) + 1;
        for (int q = 0; q < 3; q++) {
            const qlite_dtype dt = q ? QLITE_DTYPE_INT8 : QLITE_DTYPE_FLOAT32;
            qlite_dtype di = dt, dout = dt;
            qlite_op_code code = k->code;
            if (k->io != IO_SAME && q == 0) { /* the float "counterpart": a copy */
                code = QLITE_OP_DEQUANTIZE;
            } else if (k->io == IO_QUANTIZE) {
                di = QLITE_DTYPE_FLOAT32;
            } else if (k->io == IO_DEQUANTIZE) {
                dout = QLITE_DTYPE_FLOAT32;
            }
            btensor in[3] = {shape_of(di, k->r0, k->s0), shape_of(di, k->r1, k->s1),
                             shape_of(di, k->r1, k->s1)};
            btensor out = shape_of(dout, k->ro, k->so);
            ns[q] = time_op(code, k->opts, k->nin, in, &out, runs, reps,
                            q == 1 ? QLITE_INTERP_REFERENCE_ONLY : 0) /
                    (double)n;
        }
        printf("%-36s %9.3f %9.3f %9.3f %9.2f %9.2f\n", k->name, ns[0], ns[1], ns[2],
               ns[1] / ns[0], ns[2] / ns[0]);
    }
    return 0;
}
