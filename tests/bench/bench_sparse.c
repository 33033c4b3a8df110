/*
 * bench_sparse.c — sparse vs dense FULLY_CONNECTED (issue #5): the same
 * weights stored dense and as block-CSR (docs/format.md §6.3), at 50, 70,
 * 90 and 95% sparsity (unstructured 1x1, and 16x4 blocks; 1x4, 1x16 at 90%), int8 and
 * float32, batch 1 and 8; then a whole model stored dense and sparse
 * (the bundled pruned MLP converted with and without --dense).
 *
 * Each FC is prepared once through the registry's kernel (the one the
 * interpreter uses) and its eval timed alone, one thread: the median of
 * --runs repetitions, dense and sparse alternating within the run so the
 * ratio holds on a busy machine. Before timing, every case checks that the
 * sparse output equals the dense one: bit for bit for int8, within
 * 1e-5 * sum |x w| for float32; the models' outputs likewise (same values,
 * other storage). --check runs that and no timing (the ctest, label bench).
 *
 * --cap C limits the instruction sets as qlite_q8_set_feature_cap (gemm_q8.h;
 * 0 = portable C, 1 = AVX2) for dense and sparse kernels alike.
 *
 * Then clustered (palettized, not sparse) weights with 2-, 3-, 4- and 8-bit
 * indices against the same weights dense (rows "palB").
 *
 * --case DTYPE M S BLOCK runs one row (BLOCK: BC for 1 x BC, RxC, or palB
 * for a B-bit palette, S ignored; e.g. --case int8 1 0.9 16x4).
 *
 * usage: bench_sparse [--check] [--runs N] [--cap C] [--case DTYPE M S BLOCK]
 *                     [--model DENSE.qlite SPARSE.qlite X.npy]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "kernels/gemm_q8.h"
#include "npy.h"
#include "qlite/qlite.h"
#include "sparse_build.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint32_t g_seed = 12345u;
static uint32_t rnd(void) {
    g_seed = g_seed * 1103515245u + 12345u;
    return g_seed >> 8;
}

/* One FULLY_CONNECTED node over tensors we own. */
typedef struct fc_node {
    qlite_tensor_info info[4];
    qlite_tensor t[4];
    qlite_tensor *in[3], *out;
    int32_t in_idx[3], out_idx[1];
    qlite_op_info op;
    qlite_exec_ctx ctx;
    qlite_node node;
    int64_t shape[4][2];
    qlite_quant qx, qw, qy;
} fc_node;

typedef struct fc_case {
    bool int8;
    size_t M, K, N;
    const void *x, *w, *bias;       /* dense weight [N, K] */
    const float *wscale;            /* int8: [N] */
    float sx, sy;
    int32_t zx, zy;
    const spb_weight *sw;           /* NULL = dense */
} fc_case;

static const int32_t k_zeros[4096];

static bool fc_prepare(fc_node *f, const fc_case *c) {
    memset(f, 0, sizeof *f);
    const qlite_dtype dt = c->int8 ? QLITE_DTYPE_INT8 : QLITE_DTYPE_FLOAT32;
    const size_t es = c->int8 ? 1 : 4;
    f->qx = (qlite_quant){.count = 1, .scale = &c->sx, .zero_point = &c->zx};
    f->qy = (qlite_quant){.count = 1, .scale = &c->sy, .zero_point = &c->zy};
    f->qw = (qlite_quant){.count = (uint32_t)c->N, .axis = 0, .scale = c->wscale,
                          .zero_point = k_zeros};
    const int64_t sh[4][2] = {{(int64_t)c->M, (int64_t)c->K},
                              {(int64_t)c->N, (int64_t)c->K},
                              {(int64_t)c->N, 0},
                              {(int64_t)c->M, (int64_t)c->N}};
    memcpy(f->shape, sh, sizeof sh);
    const uint32_t ranks[4] = {2, 2, 1, 2};
    const qlite_dtype dts[4] = {dt, dt, c->int8 ? QLITE_DTYPE_INT32 : QLITE_DTYPE_FLOAT32, dt};
    const void *data[3] = {c->x, c->sw ? c->sw->values : c->w, c->bias};
    const size_t bytes[3] = {c->M * c->K * es, c->sw ? c->sw->values_bytes : c->N * c->K * es,
                             c->N * 4};
    for (int i = 0; i < 4; i++) {
        qlite_tensor_info *in = &f->info[i];
        in->name = i == 0 ? "x" : i == 1 ? "w" : i == 2 ? "b" : "y";
        in->dtype = dts[i];
        in->rank = ranks[i];
        in->shape = f->shape[i];
        if (c->int8 && i != 2) in->quant = i == 0 ? &f->qx : i == 1 ? &f->qw : &f->qy;
        qlite_tensor *t = &f->t[i];
        t->info = in;
        t->dtype = dts[i];
        t->rank = ranks[i];
        memcpy(t->dims, f->shape[i], 2 * sizeof(int64_t));
        if (in->quant && in->quant->count == 1) {
            t->scale = in->quant->scale[0];
            t->zero_point = in->quant->zero_point[0];
        }
        if (i < 3) {
            t->data = (void *)data[i];
            t->bytes = bytes[i];
            t->is_const = i > 0;
            if (i > 0) {
                in->buffer = 1;
                in->data = data[i];
                in->data_size = bytes[i];
            }
            f->in[i] = t;
            f->in_idx[i] = i;
        }
    }
    if (c->sw && c->sw->sp.block_rows) f->info[1].sparsity = &c->sw->sp;
    if (c->sw && c->sw->cl.index_bits) f->info[1].clustering = &c->sw->cl;
    f->out = &f->t[3];
    f->out_idx[0] = 3;
    f->op = (qlite_op_info){.code = QLITE_OP_FULLY_CONNECTED, .name = "fc", .num_inputs = 3,
                            .num_outputs = 1, .inputs = f->in_idx, .outputs = f->out_idx};
    f->op.options.type = QLITE_OPTIONS_FULLY_CONNECTED;
    f->op.options.u.fully_connected.keep_num_dims = true;
    f->node = (qlite_node){.op = &f->op, .opts = &f->op.options, .num_inputs = 3,
                           .num_outputs = 1, .inputs = f->in, .outputs = &f->out, .ctx = &f->ctx};
    const qlite_kernel *k = qlite_kernel_registry[QLITE_OP_FULLY_CONNECTED];
    if (k->prepare(&f->node) != QLITE_OK) {
        fprintf(stderr, "prepare: %s\n", qlite_last_error());
        return false;
    }
    f->out->data = malloc(f->out->bytes ? f->out->bytes : 1);
    f->node.scratch = f->node.scratch_bytes ? qlite_aligned_alloc(f->node.scratch_bytes) : NULL;
    return f->out->data && (f->node.scratch || !f->node.scratch_bytes);
}

static void fc_eval(fc_node *f) { qlite_kernel_registry[QLITE_OP_FULLY_CONNECTED]->eval(&f->node); }

static void fc_free(fc_node *f) {
    free(f->out->data);
    qlite_aligned_free(f->node.scratch);
    qlite_exec_ctx_free_allocs(&f->ctx);
}

/* Median ns of eval for a and b, alternating runs. */
static void time_pair(fc_node *a, fc_node *b, int runs, double *ta, double *tb) {
    const double flops = (double)a->t[0].dims[0] * (double)a->t[0].dims[1] *
                         (double)a->t[1].dims[0];
    const int reps = (int)(4e6 / flops) + 1;
    double *xa = malloc((size_t)runs * sizeof *xa), *xb = malloc((size_t)runs * sizeof *xb);
    for (int r = 0; r < runs; r++) {
        double t0 = now_ns();
        for (int i = 0; i < reps; i++) fc_eval(a);
        xa[r] = (now_ns() - t0) / reps;
        t0 = now_ns();
        for (int i = 0; i < reps; i++) fc_eval(b);
        xb[r] = (now_ns() - t0) / reps;
    }
    qsort(xa, (size_t)runs, sizeof *xa, cmp_double);
    qsort(xb, (size_t)runs, sizeof *xb, cmp_double);
    *ta = xa[runs / 2];
    *tb = xb[runs / 2];
    free(xa);
    free(xb);
}

/* One row of the table; false when the outputs differ. */
static bool fc_bench(bool int8, size_t M, size_t K, size_t N, double sparsity, size_t br,
                     size_t bc, bool check, int runs) {
    const size_t es = int8 ? 1 : 4;
    void *x = malloc(M * K * es), *w = calloc(N * K, es), *bias = malloc(N * 4);
    bool *keep = calloc(N * K, 1);
    float *wscale = malloc(N * sizeof *wscale), *absw = calloc(N * K, sizeof(float));
    bool ok = x && w && bias && keep && wscale && absw;
    if (!ok) goto out;
    for (size_t i = 0; i < M * K; i++) {
        if (int8) ((int8_t *)x)[i] = (int8_t)(rnd() & 0xff);
        else ((float *)x)[i] = (float)((int)(rnd() & 0xff) - 128) / 64.0f;
    }
    /* keep each br x bc block with probability 1 - sparsity */
    const uint32_t thr = (uint32_t)((1.0 - sparsity) * 16777216.0);
    for (size_t n0 = 0; n0 < N; n0 += br)
        for (size_t k = 0; k < K; k += bc) {
            const bool kb = (rnd() & 0xffffff) < thr;
            for (size_t e0 = 0; e0 < br * bc; e0++) {
                const size_t n = n0 + e0 / bc, j = e0 % bc;
                const size_t e = n * K + k + j;
                keep[e] = kb;
                if (!kb) continue;
                int v = (int)(rnd() % 255) - 127;
                if (v == 0) v = 1;
                if (int8) ((int8_t *)w)[e] = (int8_t)v;
                else ((float *)w)[e] = (float)v / 128.0f;
                absw[e] = fabsf((float)v / 128.0f);
            }
        }
    for (size_t n = 0; n < N; n++) {
        wscale[n] = 0.002f + 0.0001f * (float)(n % 7);
        if (int8) ((int32_t *)bias)[n] = (int32_t)(rnd() % 2001) - 1000;
        else ((float *)bias)[n] = (float)((int)(rnd() % 201) - 100) / 100.0f;
    }
    spb_weight sw;
    const qlite_index_type ci = K / bc <= 256 ? QLITE_INDEX_UINT8
                                : K / bc <= 65536 ? QLITE_INDEX_UINT16 : QLITE_INDEX_UINT32;
    ok = spb_build(&sw, w, es, N, K, br, bc, keep, QLITE_INDEX_UINT32, ci, NULL, 0, NULL, false);
    if (!ok) goto out;
    fc_case cd = {.int8 = int8, .M = M, .K = K, .N = N, .x = x, .w = w, .bias = bias,
                  .wscale = wscale, .sx = 0.05f, .zx = -3, .zy = 4};
    cd.sy = 0.05f * 0.002f * sqrtf((float)K * (1.0f - (float)sparsity)) * 60.0f;
    fc_case cs = cd;
    cs.sw = &sw;
    fc_node fd, fs;
    ok = fc_prepare(&fd, &cd) && fc_prepare(&fs, &cs);
    if (ok) {
        fc_eval(&fd);
        fc_eval(&fs);
        if (int8) {
            ok = memcmp(fd.out->data, fs.out->data, M * N) == 0;
        } else {
            const float *a = fd.out->data, *b = fs.out->data, *xf = x;
            for (size_t m = 0; m < M && ok; m++)
                for (size_t n = 0; n < N && ok; n++) {
                    double mag = fabs(((float *)bias)[n]);
                    for (size_t k = 0; k < K; k++)
                        mag += fabs((double)xf[m * K + k]) * absw[n * K + k];
                    ok = fabs((double)a[m * N + n] - b[m * N + n]) <= 1e-5 * mag + 1e-6;
                }
        }
        if (!ok)
            fprintf(stderr, "FAIL: sparse output differs from dense (%s M=%zu %zux%zu %zux%zu)\n",
                    int8 ? "int8" : "float32", M, N, K, br, bc);
        if (ok && !check) {
            double td, ts;
            time_pair(&fd, &fs, runs, &td, &ts);
            char blk[48];
            snprintf(blk, sizeof blk, "%zux%zu", br, bc);
            printf("| %-7s | %5zu | %3.0f%% | %-5s | %10.1f | %10.1f | %6.2fx |\n",
                   int8 ? "int8" : "float32", M, 100 * sparsity, blk, td / 1e3, ts / 1e3,
                   td / ts);
        } else if (ok) {
            printf("ok %s M=%zu %zux%zu %.0f%% %zux%zu\n", int8 ? "int8" : "float32", M, N, K,
                   100 * sparsity, br, bc);
        }
    }
    fc_free(&fd);
    fc_free(&fs);
    spb_free(&sw);
out:
    free(x);
    free(w);
    free(bias);
    free(keep);
    free(wscale);
    free(absw);
    return ok;
}

/* One clustered (palettized, not sparse) row: every weight one of 2^bits
 * centroids (int8: a codebook per output row, as the converter writes int8
 * palettes; float32: one per tensor), dense vs the stored palette; false
 * when the outputs differ. */
static bool pal_bench(bool int8, size_t M, size_t K, size_t N, unsigned bits, bool check,
                      int runs) {
    const size_t es = int8 ? 1 : 4, entries = (size_t)1 << bits;
    const size_t nbook = int8 ? N * entries : entries;
    void *x = malloc(M * K * es), *w = calloc(N * K, es), *bias = malloc(N * 4);
    void *book = malloc(nbook * es);
    uint8_t *idx = malloc(N * K);
    float *wscale = malloc(N * sizeof *wscale);
    bool ok = x && w && bias && book && idx && wscale;
    spb_weight sw;
    memset(&sw, 0, sizeof sw);
    if (!ok) goto out;
    for (size_t i = 0; i < M * K; i++) {
        if (int8) ((int8_t *)x)[i] = (int8_t)(rnd() & 0xff);
        else ((float *)x)[i] = (float)((int)(rnd() & 0xff) - 128) / 64.0f;
    }
    for (size_t e = 0; e < nbook; e++) {
        const int v = (int)(rnd() % 255) - 127;
        if (int8) ((int8_t *)book)[e] = (int8_t)v;
        else ((float *)book)[e] = (float)v / 128.0f;
    }
    for (size_t n = 0; n < N; n++)
        for (size_t k = 0; k < K; k++) {
            const size_t e = n * K + k;
            idx[e] = (uint8_t)(rnd() & (entries - 1));
            const size_t be = (int8 ? n * entries : 0) + idx[e];
            memcpy((uint8_t *)w + e * es, (const uint8_t *)book + be * es, es);
        }
    for (size_t n = 0; n < N; n++) {
        wscale[n] = 0.002f + 0.0001f * (float)(n % 7);
        if (int8) ((int32_t *)bias)[n] = (int32_t)(rnd() % 2001) - 1000;
        else ((float *)bias)[n] = (float)((int)(rnd() % 201) - 100) / 100.0f;
    }
    ok = spb_build(&sw, w, es, N, K, 0, 0, NULL, QLITE_INDEX_UINT32, QLITE_INDEX_UINT8, idx,
                   bits, book, int8);
    if (!ok) goto out;
    fc_case cd = {.int8 = int8, .M = M, .K = K, .N = N, .x = x, .w = w, .bias = bias,
                  .wscale = wscale, .sx = 0.05f, .zx = -3, .zy = 4};
    cd.sy = 0.05f * 0.002f * sqrtf((float)K) * 60.0f;
    fc_case cs = cd;
    cs.sw = &sw;
    fc_node fd, fs;
    ok = fc_prepare(&fd, &cd) && fc_prepare(&fs, &cs);
    if (ok) {
        fc_eval(&fd);
        fc_eval(&fs);
        if (int8) {
            ok = memcmp(fd.out->data, fs.out->data, M * N) == 0;
        } else {
            const float *a = fd.out->data, *b = fs.out->data, *xf = x, *wf = w;
            for (size_t m = 0; m < M && ok; m++)
                for (size_t n = 0; n < N && ok; n++) {
                    double mag = fabs(((float *)bias)[n]);
                    for (size_t k = 0; k < K; k++)
                        mag += fabs((double)xf[m * K + k] * wf[n * K + k]);
                    ok = fabs((double)a[m * N + n] - b[m * N + n]) <= 1e-5 * mag + 1e-6;
                }
        }
        if (!ok)
            fprintf(stderr, "FAIL: clustered output differs from dense (%s M=%zu %u-bit)\n",
                    int8 ? "int8" : "float32", M, bits);
        if (ok && !check) {
            double td, ts;
            time_pair(&fd, &fs, runs, &td, &ts);
            printf("| %-7s | %5zu |      -   | pal%-2u | %10.1f | %10.1f | %6.2fx |\n",
                   int8 ? "int8" : "float32", M, bits, td / 1e3, ts / 1e3, td / ts);
        } else if (ok) {
            printf("ok %s M=%zu %zux%zu clustered %u-bit\n", int8 ? "int8" : "float32", M, N, K,
                   bits);
        }
    }
    fc_free(&fd);
    fc_free(&fs);
out:
    spb_free(&sw);
    free(x);
    free(w);
    free(bias);
    free(book);
    free(idx);
    free(wscale);
    return ok;
}

/* ---- a whole model, dense vs sparse file ---- */

typedef struct runner {
    qlite_model *m;
    qlite_interpreter *it;
} runner;

static bool runner_open(runner *r, const char *path, const qlite_npy_array *x) {
    memset(r, 0, sizeof *r);
    return qlite_model_open(path, 0, &r->m) == QLITE_OK &&
           qlite_interpreter_create(r->m, NULL, &r->it) == QLITE_OK &&
           qlite_interpreter_resize_input(r->it, 0, x->rank, x->dims) == QLITE_OK &&
           qlite_interpreter_prepare(r->it) == QLITE_OK &&
           qlite_interpreter_set_input(r->it, 0, x->data, x->bytes) == QLITE_OK &&
           qlite_interpreter_invoke(r->it) == QLITE_OK;
}

static void runner_close(runner *r) {
    qlite_interpreter_destroy(r->it);
    qlite_model_close(r->m);
}

static double time_model(runner *r, int runs) {
    double *t = malloc((size_t)runs * sizeof *t);
    for (int i = 0; i < runs; i++) {
        const double t0 = now_ns();
        for (int j = 0; j < 20; j++) qlite_interpreter_invoke(r->it);
        t[i] = (now_ns() - t0) / 20;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    const double med = t[runs / 2];
    free(t);
    return med;
}

static bool model_bench(const char *dense, const char *sparse, const char *input, bool check,
                        int runs) {
    qlite_npy_array x = {0};
    if (qlite_npy_read_file(input, &x) != QLITE_OK || x.rank < 1) {
        fprintf(stderr, "FAIL: %s: %s\n", input, qlite_last_error());
        return false;
    }
    bool ok = true;
    for (int batch = 1; batch <= 8 && ok; batch += 7) {
        qlite_npy_array xb = x;
        xb.dims[0] = batch;
        xb.bytes = x.bytes / (size_t)x.dims[0] * (size_t)batch;
        runner rd, rs;
        qlite_tensor_view vd, vs;
        ok = runner_open(&rd, dense, &xb) && runner_open(&rs, sparse, &xb) &&
             qlite_interpreter_output(rd.it, 0, &vd) == QLITE_OK &&
             qlite_interpreter_output(rs.it, 0, &vs) == QLITE_OK && vd.bytes == vs.bytes;
        if (!ok) {
            fprintf(stderr, "FAIL: models: %s\n", qlite_last_error());
        } else if (vd.dtype == QLITE_DTYPE_FLOAT32) {
            const float *a = vd.data, *b = vs.data;
            for (size_t i = 0; i < vd.bytes / 4 && ok; i++)
                ok = fabsf(a[i] - b[i]) <= 1e-4f * (1.0f + fabsf(a[i]));
            if (!ok) fprintf(stderr, "FAIL: the sparse file's outputs differ from the dense one's\n");
        }
        if (ok && !check) {
            const double td = time_model(&rd, runs), ts = time_model(&rs, runs);
            size_t bd = 0, bs = 0;
            qlite_model_bytes(rd.m, &bd);
            qlite_model_bytes(rs.m, &bs);
            printf("| model   | %5d |  file | %zu/%zu B | %10.1f | %11.1f | %6.2fx |\n", batch,
                   bd, bs, td / 1e3, ts / 1e3, td / ts);
        } else if (ok) {
            printf("ok model batch %d: sparse file's outputs equal the dense file's\n", batch);
        }
        runner_close(&rd);
        runner_close(&rs);
    }
    qlite_npy_free(&x);
    return ok;
}

int main(int argc, char **argv) {
    int runs = 31;
    bool check = false;
    const char *md = NULL, *ms = NULL, *mx = NULL;
    bool one = false, one_int8 = false;
    size_t one_m = 1, one_br = 1, one_bc = 1;
    unsigned one_bits = 0;
    double one_sp = 0.9;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--check")) check = true;
        else if (!strcmp(argv[i], "--case") && i + 4 < argc) {
            one = true;
            one_int8 = !strcmp(argv[++i], "int8");
            one_m = (size_t)atoi(argv[++i]);
            one_sp = atof(argv[++i]);
            /* BC (a 1 x BC block), RxC, or palB (clustered, B-bit indices) */
            const char *blk = argv[++i], *xp = strchr(blk, 'x');
            if (!strncmp(blk, "pal", 3)) one_bits = (unsigned)atoi(blk + 3);
            one_br = xp ? (size_t)atoi(blk) : 1;
            one_bc = (size_t)atoi(xp ? xp + 1 : blk);
            if (!one_br || !one_bc) one_br = one_bc = 1;
        }
        else if (!strcmp(argv[i], "--cap") && i + 1 < argc)
            qlite_q8_set_feature_cap((unsigned)strtoul(argv[++i], NULL, 0));
        else if (!strcmp(argv[i], "--model") && i + 3 < argc) {
            md = argv[++i];
            ms = argv[++i];
            mx = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: %s [--check] [--runs N] [--model DENSE.qlite SPARSE.qlite X.npy]\n",
                    argv[0]);
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (runs < 1) runs = 1;
    const size_t K = 1024, N = 1024;
    if (!check) {
        printf("FULLY_CONNECTED [%zu x %zu] weights, one thread, median of %d runs (us)\n\n", N,
               K, runs);
        printf("| dtype   | batch | sparsity | block | dense (us) | sparse (us) | speedup |\n");
        printf("|---------|------:|---------:|-------|-----------:|------------:|--------:|\n");
    }
    static const double sp[] = {0.5, 0.7, 0.9, 0.95};
    bool ok = true;
    if (one && one_bits >= 1 && one_bits <= 8)
        return pal_bench(one_int8, one_m, K, N, one_bits, check, runs) ? 0 : 1;
    if (one) return fc_bench(one_int8, one_m, K, N, one_sp, one_br, one_bc, check, runs) ? 0 : 1;
    for (int q = 1; q >= 0; q--)
        for (size_t M = 1; M <= 8; M += 7) {
            for (size_t s = 0; s < sizeof sp / sizeof sp[0]; s++)
                ok &= fc_bench(q == 1, M, K, N, sp[s], 1, 1, check, runs);
            ok &= fc_bench(q == 1, M, K, N, 0.9, 1, 4, check, runs);
            ok &= fc_bench(q == 1, M, K, N, 0.9, 1, 16, check, runs);
            for (size_t s = 0; s < sizeof sp / sizeof sp[0]; s++)
                ok &= fc_bench(q == 1, M, K, N, sp[s], 16, 4, check, runs);
        }
    static const unsigned pal_bits[] = {2, 3, 4, 8};
    for (int q = 1; q >= 0; q--)
        for (size_t M = 1; M <= 8; M += 7)
            for (size_t b = 0; b < sizeof pal_bits / sizeof pal_bits[0]; b++)
                ok &= pal_bench(q == 1, M, K, N, pal_bits[b], check, runs);
    if (md) ok &= model_bench(md, ms, mx, check, runs);
    if (check) printf("%s\n", ok ? "all sparse outputs equal the dense ones" : "FAILED");
    return ok ? 0 : 1;
}
