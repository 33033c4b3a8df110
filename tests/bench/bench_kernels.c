/*
 * bench_kernels.c — kernel-level benchmark (issue #6): qlite's FULLY_CONNECTED,
 * CONV_2D and DEPTHWISE_CONV_2D against XNNPACK's operators, in one process,
 * on the same data, plus this core's measured peak.
 *
 * usage: bench_kernels [--threads T] [--time S] [--rounds R]
 *                      [--cases NAME,...] [--dtypes f32,f16,int8,dynamic]
 *                      [--layout default|packed] [--check] [--list] [--cores]
 *
 * 1. Peak: a register-only loop of 14 independent VPDPBUSD zmm (AVX-512
 *    VNNI: 64 u8 x s8 multiply-adds = 128 int8 ops each) and one of 14
 *    independent VFMADD231PS zmm (16 multiply-adds = 32 float ops each),
 *    and the same at 256 bits, best of 40 trials of ~5 ms: the most this
 *    core can do, in GOPS (the better width counts). On CPUs with AMX-INT8
 *    (and Linux's permission for tile data) also a loop of 4 independent
 *    TDPBUSD on 16 x 64-byte tiles (16 x 16 x 64 multiply-adds = 32768
 *    ops each), printed beside it: qlite's int8 GEMM runs on the tiles
 *    there, but "% peak" stays against the VNNI peak (comparable with
 *    XNNPACK's, which does not use AMX, and with earlier tables); above
 *    100% means more than VNNI could do.
 *    Read bandwidth: passes over a 16 MiB buffer (the int8 FC 4096's
 *    weights: past L2, inside L3 on this machine) as 8 streams of 64-byte
 *    loads XORed together, best of 40 trials of ~5 ms, in
 *    GB/s: the most one core reads from where those weights live between
 *    runs. A batch-1 FC does 1 multiply-add per weight byte it reads, so it
 *    is bound by this, not by the VNNI peak (~16 GB/s here: 32 GOPS for
 *    int8, ~5% of a 650 GOPS peak). Its column "% read BW" (FC cases): the
 *    bytes a run reads (weights in the stored dtype, input, bias) / the best
 *    run against that bandwidth x T; weights that fit in L2 (the 1024 FC's
 *    1 MiB int8 / 4 MiB float32, partly) read faster than the bound: > 100%.
 * 2. Each case (shape) and dtype:
 *    qlite   a one-op model made with the writer (weights as qlite-convert
 *            stores them: float32; float16 weights and bias under float32
 *            activations; int8 activations per tensor with int8 weights per
 *            output channel and int32 bias; dynamic = int8 weights under
 *            float activations), opened from memory, interpreter created
 *            with T threads and prepared once; timed: qlite_interpreter_invoke;
 *    XNNPACK the operator created and set up once (f32; f16 = half
 *            activations and weights; int8: qs8 per-tensor weights and,
 *            for convolutions, qc8 per-channel weights, the form qlite
 *            stores); timed: xnn_run_operator (pthreadpool of T threads,
 *            none for T = 1).
 *    Both run on the same input; outputs are compared (int8: at most 1 LSB
 *    apart, the two requantizations round differently; float: relative
 *    error; f16: against XNNPACK's half outputs), so the two time the same
 *    computation. The timings alternate in R rounds of S/R seconds each
 *    per engine; the figure is the median of every run.
 *    GOPS = 2 x multiply-adds / median time; "% peak" is the best run's
 *    GOPS against step 1's int8 peak (int8 and dynamic, which multiply in
 *    int8) or float peak (f32, f16), times T: on a shared machine both
 *    the peak and the best run are what the core does when no other job
 *    takes it away, while medians include such interruptions.
 * --check: one run of each, comparison only (no timing; the ctest).
 * --cores: instead of the cases, the peak loops (AMX if usable, VNNI zmm,
 *    FMA zmm) on each CPU this process may run on, the thread pinned to
 *    one CPU after the other in 21 interleaved rounds of ~5 ms per loop,
 *    and (AMX) bursts of 4096 TDPBUSD after 50 us without tile
 *    instructions, the pattern of a model's int8 GEMMs between its other
 *    ops: median, lowest and highest GOPS per CPU. A 2-thread speedup needs
 *    both CPUs to run a kernel's instructions at the same rate; a
 *    virtual machine's host may not give them that (the KVM guest of
 *    README's numbers: at times one vCPU ran VPDPBUSD / VFMADD231PS 1.47x
 *    slower than the other, or short AMX bursts 3-4x slower).
 * --layout packed: qlite weights stored O16I4 (int8) / O16 (float) instead of
 *    the default row-major form (what a kernel that reads packed layouts
 *    wants; a kernel that does not gets them densified at prepare).
 * Output: markdown (README "## Benchmarks", tests/bench/run_all.sh).
 * This is a program that prints numbers; built only when libxnnpack-dev and
 * libpthreadpool-dev are installed (tests/bench.cmake), on x86-64.
 */
#include <math.h>
#include <pthreadpool.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xnnpack.h>

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "packed_layout.h"
#include "qlite/qlite.h"
#include "qlite_writer.h"

/* ------------------------------------------------------------------ cases */

typedef enum { K_FC, K_CONV, K_DW } kind;

typedef struct bench_case {
    const char *name, *what;
    kind k;
    int H, W, C, O, KH, KW, stride, pad;  /* FC: H = rows (batch), C = in features, O = out */
} bench_case;

static const bench_case CASES[] = {
    {"fc1024", "FullyConnected 1x1024 -> 1024", K_FC, 1, 1, 1024, 1024, 1, 1, 1, 0},
    {"fc4096", "FullyConnected 1x4096 -> 4096", K_FC, 1, 1, 4096, 4096, 1, 1, 1, 0},
    /* the transformer's FULLY_CONNECTEDs at 128 tokens (M = 128): attention
     * in / out projections, the feed-forward up / down */
    {"tf_fc_128x256x768", "FullyConnected 128x256 -> 768", K_FC, 128, 1, 256, 768, 1, 1, 1, 0},
    {"tf_fc_128x256x256", "FullyConnected 128x256 -> 256", K_FC, 128, 1, 256, 256, 1, 1, 1, 0},
    {"tf_fc_128x256x1024", "FullyConnected 128x256 -> 1024", K_FC, 128, 1, 256, 1024, 1, 1, 1, 0},
    {"tf_fc_128x1024x256", "FullyConnected 128x1024 -> 256", K_FC, 128, 1, 1024, 256, 1, 1, 1, 0},
    {"conv1x1_112", "conv 1x1 112x112x32 -> 64", K_CONV, 112, 112, 32, 64, 1, 1, 1, 0},
    {"conv1x1_56", "conv 1x1 56x56x128 -> 128", K_CONV, 56, 56, 128, 128, 1, 1, 1, 0},
    {"conv1x1_14", "conv 1x1 14x14x512 -> 512", K_CONV, 14, 14, 512, 512, 1, 1, 1, 0},
    {"conv3x3_56", "conv 3x3 56x56x128 -> 128", K_CONV, 56, 56, 128, 128, 3, 3, 1, 1},
    {"conv3x3_stem", "conv 3x3/2 224x224x3 -> 32", K_CONV, 224, 224, 3, 32, 3, 3, 2, 1},
    /* ResNet-18's float convolutions (issue #6 float32 target) */
    {"r18_stem", "conv 7x7/2 224x224x3 -> 64", K_CONV, 224, 224, 3, 64, 7, 7, 2, 3},
    {"r18_3x3_56", "conv 3x3 56x56x64 -> 64", K_CONV, 56, 56, 64, 64, 3, 3, 1, 1},
    {"r18_3x3_28s2", "conv 3x3/2 56x56x64 -> 128", K_CONV, 56, 56, 64, 128, 3, 3, 2, 1},
    {"r18_3x3_28", "conv 3x3 28x28x128 -> 128", K_CONV, 28, 28, 128, 128, 3, 3, 1, 1},
    {"r18_3x3_14", "conv 3x3 14x14x256 -> 256", K_CONV, 14, 14, 256, 256, 3, 3, 1, 1},
    {"r18_3x3_7", "conv 3x3 7x7x512 -> 512", K_CONV, 7, 7, 512, 512, 3, 3, 1, 1},
    /* MobileNetV2's widest 1x1 expansion (K = 16, 4.8 MB of outputs) and a
     * 96-channel projection (a 64 + 32 column split) */
    {"mnv2_1x1_112", "conv 1x1 112x112x16 -> 96", K_CONV, 112, 112, 16, 96, 1, 1, 1, 0},
    {"mnv2_1x1_14p", "conv 1x1 14x14x576 -> 96", K_CONV, 14, 14, 576, 96, 1, 1, 1, 0},
    /* the transformer's FULLY_CONNECTED at 128 tokens, as a 1x1 conv over 128 pixels */
    {"tf_1x1_128", "conv 1x1 1x128x256 -> 1024", K_CONV, 1, 128, 256, 1024, 1, 1, 1, 0},
    {"dw3x3_56", "depthwise 3x3 56x56x128", K_DW, 56, 56, 128, 128, 3, 3, 1, 1},
    {"dw3x3_112s2", "depthwise 3x3/2 112x112x64", K_DW, 112, 112, 64, 64, 3, 3, 2, 1},
};
#define NCASES (sizeof CASES / sizeof *CASES)

typedef enum { D_F32, D_F16, D_INT8, D_DYN, D_COUNT } dtype_kind;
static const char *const DNAME[D_COUNT] = {"f32", "f16", "int8", "dynamic"};

static int out_dim(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }
static int OH_of(const bench_case *c) { return c->k == K_FC ? c->H : out_dim(c->H, c->KH, c->stride, c->pad); }
static int OW_of(const bench_case *c) { return c->k == K_FC ? 1 : out_dim(c->W, c->KW, c->stride, c->pad); }
static size_t in_elems(const bench_case *c) { return (size_t)c->H * (size_t)c->W * (size_t)c->C; }
static size_t out_elems(const bench_case *c) { return (size_t)OH_of(c) * (size_t)OW_of(c) * (size_t)c->O; }
static size_t w_elems(const bench_case *c) {
    return c->k == K_DW ? (size_t)c->KH * (size_t)c->KW * (size_t)c->C
                        : (size_t)c->O * (size_t)c->KH * (size_t)c->KW * (size_t)c->C;
}
static size_t k_terms(const bench_case *c) {  /* multiply-adds per output */
    return c->k == K_DW ? (size_t)c->KH * (size_t)c->KW : (size_t)c->KH * (size_t)c->KW * (size_t)c->C;
}
static double macs(const bench_case *c) { return (double)out_elems(c) * (double)k_terms(c); }

/* --------------------------------------------------------------- helpers */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {  /* xorshift64*: reproducible data, no libc state */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static float rnd_unit(void) { return (float)(rnd() >> 8) * (2.0f / 16777216.0f) - 1.0f; }

/* XNNPACK may read up to XNN_EXTRA_BYTES past an input; every buffer has slack. */
static void *xalloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes + 64 + XNN_EXTRA_BYTES)) return NULL;
    memset(p, 0, bytes + 64 + XNN_EXTRA_BYTES);
    return p;
}

/* -------------------------------------------------------------- the data */

typedef struct case_data {
    float *x, *w, *b;          /* float input [H,W,C], weights (qlite/XNNPACK layout), bias [O] */
    uint16_t *x16, *w16, *b16; /* the same in half */
    int8_t *xq, *wq;           /* int8 input and weights */
    int32_t *bq;               /* int32 bias (scale sx * sw[o]) */
    float sx, sy;              /* input and output scales */
    int32_t zx, zy;
    float *sw;                 /* per-channel weight scales [O] */
    float sw_tensor;           /* XNNPACK qs8: one weight scale */
    int8_t *wq_tensor;         /* weights quantized with sw_tensor */
    int32_t *bq_tensor;
} case_data;

static void free_data(case_data *d) {
    free(d->x), free(d->w), free(d->b), free(d->x16), free(d->w16), free(d->b16);
    free(d->xq), free(d->wq), free(d->bq), free(d->sw), free(d->wq_tensor), free(d->bq_tensor);
    memset(d, 0, sizeof *d);
}

static int8_t quant8(float v, float s, int32_t z) {
    long q = lrintf(v / s) + z;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static int make_data(const bench_case *c, case_data *d) {
    memset(d, 0, sizeof *d);
    const size_t nx = in_elems(c), nw = w_elems(c), no = (size_t)c->O;
    d->x = xalloc(nx * 4), d->w = xalloc(nw * 4), d->b = xalloc(no * 4);
    d->x16 = xalloc(nx * 2), d->w16 = xalloc(nw * 2), d->b16 = xalloc(no * 2);
    d->xq = xalloc(nx), d->wq = xalloc(nw), d->bq = xalloc(no * 4), d->sw = xalloc(no * 4);
    d->wq_tensor = xalloc(nw), d->bq_tensor = xalloc(no * 4);
    if (!d->x || !d->w || !d->b || !d->x16 || !d->w16 || !d->b16 || !d->xq || !d->wq || !d->bq ||
        !d->sw || !d->wq_tensor || !d->bq_tensor)
        return -1;
    /* activations in [-2, 2] as int8 with scale 1/60, zero point -3 */
    d->sx = 1.0f / 60.0f;
    d->zx = -3;
    for (size_t i = 0; i < nx; i++) {
        d->xq[i] = (int8_t)((int)(rnd() % 256) - 128);
        d->x[i] = d->sx * (float)(d->xq[i] - d->zx);  /* float input = the int8 input's values */
    }
    /* weights ~U(-1,1)/sqrt(K) per output channel, each channel its own range */
    const double kscale = 1.0 / sqrt((double)k_terms(c));
    float wmax = 0;
    for (size_t i = 0; i < nw; i++) {
        size_t o = c->k == K_DW ? i % no : i / (nw / no);
        float amp = (float)kscale * (0.5f + 0.5f * (float)((o * 7) % 11) / 10.0f);
        d->w[i] = amp * rnd_unit();
    }
    for (size_t o = 0; o < no; o++) d->sw[o] = 0;  /* per-channel max |w| first */
    for (size_t i = 0; i < nw; i++) {
        size_t o = c->k == K_DW ? i % no : i / (nw / no);
        if (fabsf(d->w[i]) > d->sw[o]) d->sw[o] = fabsf(d->w[i]);
    }
    for (size_t o = 0; o < no; o++) {
        if (d->sw[o] > wmax) wmax = d->sw[o];
        d->sw[o] = d->sw[o] > 0 ? d->sw[o] / 127.0f : 1.0f;
    }
    d->sw_tensor = wmax > 0 ? wmax / 127.0f : 1.0f;
    for (size_t i = 0; i < nw; i++) {
        size_t o = c->k == K_DW ? i % no : i / (nw / no);
        d->wq[i] = quant8(d->w[i], d->sw[o], 0);
        d->wq_tensor[i] = quant8(d->w[i], d->sw_tensor, 0);
    }
    for (size_t o = 0; o < no; o++) {
        d->b[o] = 0.1f * rnd_unit();
        d->bq[o] = (int32_t)lrint((double)d->b[o] / ((double)d->sx * d->sw[o]));
        d->bq_tensor[o] = (int32_t)lrint((double)d->b[o] / ((double)d->sx * d->sw_tensor));
    }
    /* outputs: input range 2, weights ~1/sqrt(K) -> |y| mostly below ~3 */
    d->sy = 4.0f / 127.0f;
    d->zy = 5;
    for (size_t i = 0; i < nx; i++) d->x16[i] = qlite_fp32_to_fp16(d->x[i]);
    for (size_t i = 0; i < nw; i++) d->w16[i] = qlite_fp32_to_fp16(d->w[i]);
    for (size_t o = 0; o < no; o++) d->b16[o] = qlite_fp32_to_fp16(d->b[o]);
    return 0;
}

/* ------------------------------------------------------------ qlite side */

typedef struct qlite_side {
    void *bytes;
    qlite_model *model;
    qlite_interpreter *it;
    qlite_tensor_view in, out;
    char err[256];
} qlite_side;

static void qlite_side_free(qlite_side *q) {
    qlite_interpreter_destroy(q->it);
    qlite_model_close(q->model);
    qlite_writer_free_bytes(q->bytes);
    memset(q, 0, sizeof *q);
}

/* Weight bytes in `layout` (packed forms padded with zeros), malloc'd. */
static void *pack_weights(const void *w, size_t esize, uint32_t rank, const int64_t *shape,
                          qlite_layout layout, size_t *bytes) {
    if (layout == QLITE_LAYOUT_DEFAULT) {
        size_t n = (size_t)qlite_shape_elements(rank, shape) * esize;
        void *p = malloc(n);
        if (p) memcpy(p, w, n);
        *bytes = n;
        return p;
    }
    qlite_packed_view v;
    if (!qlite_packed_view_of(layout, rank, shape, &v)) return NULL;
    *bytes = (size_t)qlite_packed_elems(&v) * esize;
    unsigned char *p = calloc(1, *bytes);
    if (!p) return NULL;
    for (uint64_t o = 0; o < v.O; o++)
        for (uint64_t i = 0; i < v.I; i++)
            memcpy(p + qlite_packed_index(layout, &v, 0, o, i) * esize,
                   (const unsigned char *)w + (o * v.I + i) * esize, esize);
    return p;
}

static int qlite_build(const bench_case *c, const case_data *d, dtype_kind dt, int threads,
                       bool packed, qlite_side *q) {
    memset(q, 0, sizeof *q);
    qlite_writer *w = NULL;
    void *wbytes = NULL;
    int32_t *wzp = NULL;
    int rc = -1;
    if (qlite_writer_create(&w) != QLITE_OK) goto fail;
    const int64_t O = c->O, OH = OH_of(c), OW = OW_of(c);
    int64_t xshape[4] = {1, c->H, c->W, c->C}, yshape[4] = {1, OH, OW, O};
    int64_t wshape[4], bshape[1] = {O};
    uint32_t xrank = 4, wrank = 4;
    if (c->k == K_FC) {
        xrank = 2, wrank = 2;
        xshape[0] = yshape[0] = c->H;
        xshape[1] = c->C, yshape[1] = O;
        wshape[0] = O, wshape[1] = c->C;
    } else if (c->k == K_CONV) {
        wshape[0] = O, wshape[1] = c->KH, wshape[2] = c->KW, wshape[3] = c->C;
    } else {
        wshape[0] = 1, wshape[1] = c->KH, wshape[2] = c->KW, wshape[3] = O;
    }
    const bool act_f = dt != D_INT8;
    wzp = calloc((size_t)O, sizeof *wzp);
    if (!wzp) goto fail;
    qlite_quant qx = {1, 0, &d->sx, &d->zx, 0, NULL, NULL};
    qlite_quant qy = {1, 0, &d->sy, &d->zy, 0, NULL, NULL};
    qlite_quant qw = {(uint32_t)O, c->k == K_DW ? 3 : 0, d->sw, wzp, 0, NULL, NULL};
    qlite_tensor_info tx = {.name = "x", .dtype = act_f ? QLITE_DTYPE_FLOAT32 : QLITE_DTYPE_INT8,
                            .rank = xrank, .shape = xshape, .quant = act_f ? NULL : &qx};
    qlite_tensor_info ty = {.name = "y", .dtype = tx.dtype, .rank = xrank, .shape = yshape,
                            .quant = act_f ? NULL : &qy};
    const void *wsrc;
    size_t esize;
    qlite_tensor_info tw = {.name = "w", .rank = wrank, .shape = wshape};
    qlite_tensor_info tb = {.name = "b", .rank = 1, .shape = bshape};
    switch (dt) {
    case D_F32:
        tw.dtype = tb.dtype = QLITE_DTYPE_FLOAT32, wsrc = d->w, esize = 4;
        tb.buffer = (uint32_t)qlite_writer_add_buffer(w, d->b, (size_t)O * 4);
        break;
    case D_F16:
        tw.dtype = tb.dtype = QLITE_DTYPE_FLOAT16, wsrc = d->w16, esize = 2;
        tb.buffer = (uint32_t)qlite_writer_add_buffer(w, d->b16, (size_t)O * 2);
        break;
    case D_INT8:
        tw.dtype = QLITE_DTYPE_INT8, tw.quant = &qw, wsrc = d->wq, esize = 1;
        tb.dtype = QLITE_DTYPE_INT32;
        tb.buffer = (uint32_t)qlite_writer_add_buffer(w, d->bq, (size_t)O * 4);
        break;
    default: /* dynamic */
        tw.dtype = QLITE_DTYPE_INT8, tw.quant = &qw, wsrc = d->wq, esize = 1;
        tb.dtype = QLITE_DTYPE_FLOAT32;
        tb.buffer = (uint32_t)qlite_writer_add_buffer(w, d->b, (size_t)O * 4);
        break;
    }
    tw.layout = packed && c->k != K_DW
                    ? (esize == 1 ? QLITE_LAYOUT_O16I4 : QLITE_LAYOUT_O16)
                    : QLITE_LAYOUT_DEFAULT;
    size_t wb;
    wbytes = pack_weights(wsrc, esize, wrank, wshape, tw.layout, &wb);
    if (!wbytes) goto fail;
    tw.buffer = (uint32_t)qlite_writer_add_buffer(w, wbytes, wb);
    int32_t ix = qlite_writer_add_tensor(w, &tx), iw = qlite_writer_add_tensor(w, &tw);
    int32_t ib = qlite_writer_add_tensor(w, &tb), iy = qlite_writer_add_tensor(w, &ty);
    if (ix < 0 || iw < 0 || ib < 0 || iy < 0) goto fail;
    qlite_op_info op = {0};
    op.name = c->name;
    op.num_inputs = 3, op.num_outputs = 1;
    op.inputs = (int32_t[]){ix, iw, ib};
    op.outputs = &iy;
    if (c->k == K_FC) {
        op.code = QLITE_OP_FULLY_CONNECTED;
        qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &op.options);
    } else {
        op.code = c->k == K_DW ? QLITE_OP_DEPTHWISE_CONV_2D : QLITE_OP_CONV_2D;
        qlite_op_options_default(QLITE_OPTIONS_CONV_2D, &op.options);
        qlite_conv2d_options *co = &op.options.u.conv2d;
        co->stride_h = co->stride_w = c->stride;
        co->pad_top = co->pad_left = co->pad_bottom = co->pad_right = c->pad;
        co->groups = 1;
    }
    size_t size;
    if (qlite_writer_add_op(w, &op) < 0 || qlite_writer_set_inputs(w, 1, &ix) != QLITE_OK ||
        qlite_writer_set_outputs(w, 1, &iy) != QLITE_OK ||
        qlite_writer_write_memory(w, &q->bytes, &size) != QLITE_OK ||
        qlite_model_open_memory(q->bytes, size, 0, &q->model) != QLITE_OK)
        goto fail;
    qlite_interpreter_options o = {0};
    o.num_threads = threads;
    if (qlite_interpreter_create(q->model, &o, &q->it) != QLITE_OK ||
        qlite_interpreter_prepare(q->it) != QLITE_OK ||
        qlite_interpreter_input(q->it, 0, &q->in) != QLITE_OK ||
        qlite_interpreter_output(q->it, 0, &q->out) != QLITE_OK)
        goto fail;
    if (act_f) memcpy(q->in.data, d->x, in_elems(c) * 4);
    else memcpy(q->in.data, d->xq, in_elems(c));
    rc = 0;
fail:
    if (rc) snprintf(q->err, sizeof q->err, "%s", qlite_last_error());
    free(wzp);
    free(wbytes);
    qlite_writer_destroy(w);
    return rc;
}

/* ---------------------------------------------------------- XNNPACK side */

typedef struct xnn_side {
    xnn_operator_t op;
    void *out;
    const char *variant;   /* "f32", "f16", "qs8", "qc8" */
    char err[128];
} xnn_side;

static void xnn_side_free(xnn_side *x) {
    if (x->op) xnn_delete_operator(x->op);
    free(x->out);
    memset(x, 0, sizeof *x);
}

static const char *xnn_status_name(enum xnn_status s) {
    switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
    default: return "error";
    }
}

/* variant: "f32", "f16", "qs8" (per-tensor weights) or "qc8" (per channel, convolutions). */
static int xnn_build(const bench_case *c, const case_data *d, const char *variant,
                     pthreadpool_t pool, xnn_side *x) {
    memset(x, 0, sizeof *x);
    x->variant = variant;
    const bool f32 = !strcmp(variant, "f32"), f16 = !strcmp(variant, "f16");
    const bool qc8 = !strcmp(variant, "qc8");
    const size_t esize = f32 ? 4 : f16 ? 2 : 1;
    x->out = xalloc(out_elems(c) * esize);
    if (!x->out) return -1;
    const uint32_t groups = c->k == K_DW ? (uint32_t)c->C : 1;
    const size_t gin = c->k == K_DW ? 1 : (size_t)c->C, gout = c->k == K_DW ? 1 : (size_t)c->O;
    const uint32_t flags = c->k == K_DW ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0;
    const uint32_t p = (uint32_t)c->pad, kh = (uint32_t)c->KH, kw = (uint32_t)c->KW;
    const uint32_t s = (uint32_t)c->stride;
    const int8_t zx = (int8_t)d->zx, zy = (int8_t)d->zy;
    enum xnn_status st;
    if (c->k == K_FC) {
        if (f32)
            st = xnn_create_fully_connected_nc_f32((size_t)c->C, (size_t)c->O, (size_t)c->C,
                                                   (size_t)c->O, d->w, d->b, -INFINITY, INFINITY,
                                                   0, &x->op);
        else if (f16)
            st = xnn_create_fully_connected_nc_f16((size_t)c->C, (size_t)c->O, (size_t)c->C,
                                                   (size_t)c->O, d->w16, d->b16, -INFINITY,
                                                   INFINITY, 0, &x->op);
        else
            st = xnn_create_fully_connected_nc_qs8((size_t)c->C, (size_t)c->O, (size_t)c->C,
                                                   (size_t)c->O, zx, d->sx, d->sw_tensor,
                                                   d->wq_tensor, d->bq_tensor, zy, d->sy, -128,
                                                   127, 0, &x->op);
        if (st == xnn_status_success) {
            const size_t rows = (size_t)c->H;
            if (f32) st = xnn_setup_fully_connected_nc_f32(x->op, rows, d->x, x->out, pool);
            else if (f16) st = xnn_setup_fully_connected_nc_f16(x->op, rows, d->x16, x->out, pool);
            else st = xnn_setup_fully_connected_nc_qs8(x->op, rows, d->xq, x->out, pool);
        }
    } else {
        const size_t cin = (size_t)c->C, cout = (size_t)c->O;
        if (f32)
            st = xnn_create_convolution2d_nhwc_f32(p, p, p, p, kh, kw, s, s, 1, 1, groups, gin,
                                                   gout, cin, cout, d->w, d->b, -INFINITY,
                                                   INFINITY, flags, &x->op);
        else if (f16)
            st = xnn_create_convolution2d_nhwc_f16(p, p, p, p, kh, kw, s, s, 1, 1, groups, gin,
                                                   gout, cin, cout, d->w16, d->b16, -INFINITY,
                                                   INFINITY, flags, &x->op);
        else if (qc8)
            st = xnn_create_convolution2d_nhwc_qc8(p, p, p, p, kh, kw, s, s, 1, 1, groups, gin,
                                                   gout, cin, cout, zx, d->sx, d->sw, d->wq,
                                                   d->bq, zy, d->sy, -128, 127, flags, &x->op);
        else
            st = xnn_create_convolution2d_nhwc_qs8(p, p, p, p, kh, kw, s, s, 1, 1, groups, gin,
                                                   gout, cin, cout, zx, d->sx, d->sw_tensor,
                                                   d->wq_tensor, d->bq_tensor, zy, d->sy, -128,
                                                   127, flags, &x->op);
        const size_t H = (size_t)c->H, W = (size_t)c->W;
        if (st == xnn_status_success) {
            if (f32) st = xnn_setup_convolution2d_nhwc_f32(x->op, 1, H, W, d->x, x->out, pool);
            else if (f16) st = xnn_setup_convolution2d_nhwc_f16(x->op, 1, H, W, d->x16, x->out, pool);
            else if (qc8) st = xnn_setup_convolution2d_nhwc_qc8(x->op, 1, H, W, d->xq, x->out, pool);
            else st = xnn_setup_convolution2d_nhwc_qs8(x->op, 1, H, W, d->xq, x->out, pool);
        }
    }
    if (st != xnn_status_success) {
        snprintf(x->err, sizeof x->err, "%s", xnn_status_name(st));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- comparing */

/* Worst difference of qlite's output from XNNPACK's: int8 in LSB, float as
 * max |diff| / max |reference|. */
static double compare(const bench_case *c, dtype_kind dt, const qlite_side *q, const xnn_side *x,
                      const char *xvariant) {
    const size_t n = out_elems(c);
    double worst = 0, ref_max = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double a, b;
        if (dt == D_INT8) {
            a = ((const int8_t *)q->out.data)[i];
            b = ((const int8_t *)x->out)[i];
        } else {
            a = ((const float *)q->out.data)[i];
            b = !strcmp(xvariant, "f16") ? qlite_fp16_to_fp32(((const uint16_t *)x->out)[i])
                                         : ((const float *)x->out)[i];
        }
        if (fabs(a - b) > worst) worst = fabs(a - b);
        if (fabs(b) > ref_max) ref_max = fabs(b);
    }
    return dt == D_INT8 ? worst : worst / ref_max;
}

/* ", x% saturated" for an int8 output with more than 2% of its values at
 * -128 or 127 (the data should exercise the requantization, not the clamp). */
static const char *saturation(const bench_case *c, const qlite_side *q) {
    static char buf[48];
    const size_t n = out_elems(c);
    size_t sat = 0;
    for (size_t i = 0; i < n; i++) {
        int8_t v = ((const int8_t *)q->out.data)[i];
        sat += v == -128 || v == 127;
    }
    buf[0] = 0;
    if (sat * 50 > n) snprintf(buf, sizeof buf, ", %.0f%% saturated", 100.0 * (double)sat / (double)n);
    return buf;
}

/* ---------------------------------------------------------------- timing */

typedef struct timing {
    double *t;
    size_t n, cap;
} timing;

static int timing_add(timing *tm, double v) {
    if (tm->n == tm->cap) {
        size_t cap = tm->cap ? 2 * tm->cap : 256;
        double *p = realloc(tm->t, cap * sizeof *p);
        if (!p) return -1;
        tm->t = p, tm->cap = cap;
    }
    tm->t[tm->n++] = v;
    return 0;
}

static double timing_median(timing *tm) {
    if (!tm->n) return NAN;
    qsort(tm->t, tm->n, sizeof *tm->t, cmp_double);
    return tm->n % 2 ? tm->t[tm->n / 2] : 0.5 * (tm->t[tm->n / 2 - 1] + tm->t[tm->n / 2]);
}

/* Runs for about `seconds` (at least 3 runs), one time per run. */
static int time_qlite(qlite_side *q, double seconds, timing *tm) {
    double end = now_s() + seconds;
    for (int k = 0;; k++) {
        double t0 = now_s();
        if (qlite_interpreter_invoke(q->it) != QLITE_OK) return -1;
        double t1 = now_s();
        if (timing_add(tm, t1 - t0)) return -1;
        if (k >= 2 && t1 >= end) return 0;
    }
}

static int time_xnn(xnn_side *x, pthreadpool_t pool, double seconds, timing *tm) {
    double end = now_s() + seconds;
    for (int k = 0;; k++) {
        double t0 = now_s();
        if (xnn_run_operator(x->op, pool) != xnn_status_success) return -1;
        double t1 = now_s();
        if (timing_add(tm, t1 - t0)) return -1;
        if (k >= 2 && t1 >= end) return 0;
    }
}

/* ------------------------------------------------------------------ peak */

/* 14 independent accumulators (latency x throughput of both instructions on
 * current x86 cores is <= 10), two source registers, nothing touches memory.
 * R is the register width: "zmm" (512-bit) or "ymm" (256-bit: some cores run
 * two 256-bit operations per cycle where they run one 512-bit, or keep a
 * higher clock; the peak is the better of the two). */
#define PEAK_OP(insn, R, n) insn " %%" R "14, %%" R "15, %%" R #n "\n\t"
#define PEAK_BODY(insn, R)                                                                         \
    "1:\n\t" PEAK_OP(insn, R, 0) PEAK_OP(insn, R, 1) PEAK_OP(insn, R, 2) PEAK_OP(insn, R, 3)      \
    PEAK_OP(insn, R, 4) PEAK_OP(insn, R, 5) PEAK_OP(insn, R, 6) PEAK_OP(insn, R, 7)               \
    PEAK_OP(insn, R, 8) PEAK_OP(insn, R, 9) PEAK_OP(insn, R, 10) PEAK_OP(insn, R, 11)             \
    PEAK_OP(insn, R, 12) PEAK_OP(insn, R, 13) "dec %0\n\t"                                         \
    "jnz 1b\n\t"
#define PEAK_Z(n) "vpxor %%xmm" #n ", %%xmm" #n ", %%xmm" #n "\n\t"
#define PEAK_ZERO                                                                                  \
    PEAK_Z(0) PEAK_Z(1) PEAK_Z(2) PEAK_Z(3) PEAK_Z(4) PEAK_Z(5) PEAK_Z(6) PEAK_Z(7) PEAK_Z(8)      \
    PEAK_Z(9) PEAK_Z(10) PEAK_Z(11) PEAK_Z(12) PEAK_Z(13) PEAK_Z(14) PEAK_Z(15)
#define PEAK_CLOBBERS                                                                              \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",       \
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"
#define PEAK_LOOP(name, insn, R)                                                                   \
    static void name(uint64_t iters) {                                                             \
        __asm__ volatile(PEAK_ZERO PEAK_BODY(insn, R) "vzeroupper\n\t"                            \
                         : "+r"(iters) : : PEAK_CLOBBERS);                                         \
    }
PEAK_LOOP(vnni_zmm, "vpdpbusd", "zmm")
PEAK_LOOP(vnni_ymm, "vpdpbusd", "ymm")
PEAK_LOOP(fma_zmm, "vfmadd231ps", "zmm")
PEAK_LOOP(fma_ymm, "vfmadd231ps", "ymm")

/* AMX: 4 independent TDPBUSD per iteration (C tiles 0-3, A tiles 4-5, B tiles 6-7, all 16 rows
 * x 64 bytes, zero data), the configuration loaded and released around the loop
 * (measure_peaks counts 14 "instructions" per iteration: amx_ops_per_insn scales for that). */
typedef struct amx_tilecfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_tilecfg;

static void amx_loop(uint64_t iters) {
    amx_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) cfg.colsb[t] = 64, cfg.rows[t] = 16;
    __asm__ volatile("ldtilecfg (%1)\n\t"
                     "tilezero %%tmm0\n\ttilezero %%tmm1\n\ttilezero %%tmm2\n\t"
                     "tilezero %%tmm3\n\ttilezero %%tmm4\n\ttilezero %%tmm5\n\t"
                     "tilezero %%tmm6\n\ttilezero %%tmm7\n\t"
                     "1:\n\t"
                     "tdpbusd %%tmm6, %%tmm4, %%tmm0\n\t"
                     "tdpbusd %%tmm7, %%tmm4, %%tmm1\n\t"
                     "tdpbusd %%tmm6, %%tmm5, %%tmm2\n\t"
                     "tdpbusd %%tmm7, %%tmm5, %%tmm3\n\t"
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "tilerelease\n\t"
                     : "+r"(iters)
                     : "r"(&cfg)
                     : "cc", "memory");
}

/* TDPBUSD operations per loop iteration divided by the 14 measure_peaks counts: 4 x 16 x 16 x
 * 64 multiply-adds x 2 / 14. */
static const double amx_ops_per_insn = 4.0 * 16 * 16 * 64 * 2 / 14.0;

/* AMX-INT8 usable here: CPUID.(7,0):EDX bits 24/25, XCR0 tile state, Linux's permission. */
static bool have_amx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d >> 24 & 1) || !(d >> 25 & 1)) return false;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 27 & 1)) return false;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo >> 17 & 3) != 3) return false;
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
}

/* ------------------------------------------------------- read bandwidth */

#define BW_BYTES ((size_t)16 << 20)
static uint8_t *bw_buf;
static volatile uint64_t bw_sink;

/* `passes` reads of the whole buffer as 8 streams (its eighths, walked side by side: one
 * sequential stream measured ~6.5 GB/s here, 8 ~14.5, as many as the hardware prefetchers
 * follow at once; a batch-1 FC reads 4+ weight rows side by side too), 64-byte loads XORed into
 * 8 independent accumulators; the result goes to bw_sink, so the loads are kept. */
#define BW_STREAMS 8
__attribute__((target("avx512f"))) static void bw_loop(uint64_t passes) {
    const size_t len = BW_BYTES / BW_STREAMS;
    __m512i acc[BW_STREAMS];
    for (int s = 0; s < BW_STREAMS; s++) acc[s] = _mm512_setzero_si512();
    for (uint64_t p = 0; p < passes; p++)
        for (size_t i = 0; i < len; i += 64)
            for (int s = 0; s < BW_STREAMS; s++)
                acc[s] = _mm512_xor_si512(
                    acc[s], _mm512_load_si512((const void *)(bw_buf + (size_t)s * len + i)));
    __m512i x = acc[0];
    for (int s = 1; s < BW_STREAMS; s++) x = _mm512_xor_si512(x, acc[s]);
    uint64_t v[8];
    _mm512_storeu_si512((void *)v, x);
    bw_sink = v[0] ^ v[7];
}

/* Best read bandwidth of the 16 MiB buffer in GB/s (0 if it cannot be allocated): passes
 * that take about 5 ms, best of 40 trials, after one pass that brings it into the caches. */
static double measure_read_bw(void) {
    if (posix_memalign((void **)&bw_buf, 64, BW_BYTES)) return 0;
    for (size_t i = 0; i < BW_BYTES; i++) bw_buf[i] = (uint8_t)(i * 131 + (i >> 12));
    bw_loop(1);
    uint64_t passes = 1;
    for (;;) {
        double t0 = now_s();
        bw_loop(passes);
        double dt = now_s() - t0;
        if (dt > 0.005) break;
        passes = dt > 0.0005 ? (uint64_t)((double)passes * 0.005 / dt) + 1 : passes * 4;
    }
    double best = 0;
    for (int k = 0; k < 40; k++) {
        double t0 = now_s();
        bw_loop(passes);
        double g = (double)passes * (double)BW_BYTES / (now_s() - t0) / 1e9;
        if (g > best) best = g;
    }
    free(bw_buf);
    bw_buf = NULL;
    return best;
}

/* Bytes an FC reads per run: the weights in the stored dtype, the input, the bias. */
static double fc_bytes(const bench_case *c, dtype_kind dt) {
    const double wsize = dt == D_F32 ? 4 : dt == D_F16 ? 2 : 1;
    const double xsize = dt == D_INT8 ? 1 : 4;
    return (double)w_elems(c) * wsize + (double)in_elems(c) * xsize + (double)c->O * 4;
}

/* Iterations of `loop` that take about 5 ms. */
static uint64_t calibrate(void (*loop)(uint64_t)) {
    uint64_t iters = 1000;
    for (;;) {
        double t0 = now_s();
        loop(iters);
        double dt = now_s() - t0;
        if (dt > 0.005) return (uint64_t)((double)iters * 0.005 / dt) + 1;
        iters *= 4;
    }
}

typedef struct peak_loop {
    void (*loop)(uint64_t);
    double ops_per_insn; /* a multiply-add counts as two operations */
    uint64_t iters;
    double best;         /* GOPS */
} peak_loop;

/* Best rate of each loop over 40 interleaved trials of ~5 ms, in GOPS (the
 * machine is shared: a trial that lost the core to another job is slower,
 * never faster, and short trials often run without losing it). */
static void measure_peaks(peak_loop *loops, int n) {
    for (int i = 0; i < n; i++) loops[i].iters = calibrate(loops[i].loop), loops[i].best = 0;
    for (int k = 0; k < 40; k++)
        for (int i = 0; i < n; i++) {
            double t0 = now_s();
            loops[i].loop(loops[i].iters);
            double g = (double)loops[i].iters * 14.0 * loops[i].ops_per_insn / (now_s() - t0) / 1e9;
            if (g > loops[i].best) loops[i].best = g;
        }
}

/* ------------------------------------------------------------- --cores */

static bool have_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
}

#define CORE_ROUNDS 21

/* GOPS of 4096 TDPBUSD (1024 iterations of amx_loop, ~20 us at full
 * speed) started after 50 us of scalar work without tile instructions. */
static double amx_burst_gops(void) {
    const double t = now_s();
    volatile uint64_t x = 0;
    while (now_s() - t < 50e-6) x++;
    const double t0 = now_s();
    amx_loop(1024);
    return 1024.0 * 14.0 * amx_ops_per_insn / (now_s() - t0) / 1e9;
}

static int pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

/* The peak loops on each CPU of this process's affinity mask in turn, rounds
 * interleaved (CPU 0's loops, CPU 1's, ..., again), so a host whose units
 * change speed over time shows it in every CPU's range, and a host that
 * gives one CPU slower units than another in the medians. */
static int measure_cores(void) {
    cpu_set_t orig;
    if (sched_getaffinity(0, sizeof orig, &orig) != 0) {
        fprintf(stderr, "bench_kernels: sched_getaffinity failed\n");
        return 1;
    }
    int cpus[64], nc = 0;
    for (int c = 0; c < CPU_SETSIZE && nc < 64; c++)
        if (CPU_ISSET(c, &orig)) cpus[nc++] = c;
    peak_loop loops[3];
    const char *names[4];
    int nl = 0;
    if (have_amx()) loops[nl] = (peak_loop){amx_loop, amx_ops_per_insn, 0, 0}, names[nl++] = "AMX TDPBUSD";
    if (have_vnni()) loops[nl] = (peak_loop){vnni_zmm, 128.0, 0, 0}, names[nl++] = "VPDPBUSD zmm";
    if (have_vnni()) loops[nl] = (peak_loop){fma_zmm, 32.0, 0, 0}, names[nl++] = "VFMADD231PS zmm";
    if (nl == 0) {
        printf("--cores: no AVX-512 VNNI on this CPU, nothing to measure\n");
        return 0;
    }
    const bool burst = have_amx(); /* one more row: AMX bursts after an idle gap */
    if (burst) names[nl] = "AMX burst after 50 us idle";
    const int rows = nl + burst;
    double *g = malloc(sizeof *g * (size_t)(rows * nc * CORE_ROUNDS));
    if (!g) return 1;
    for (int l = 0; l < nl; l++) loops[l].iters = calibrate(loops[l].loop);
    for (int r = 0; r < CORE_ROUNDS; r++)
        for (int c = 0; c < nc; c++) {
            if (pin_to_cpu(cpus[c]) != 0) {
                fprintf(stderr, "bench_kernels: cannot pin to CPU %d\n", cpus[c]);
                free(g);
                return 1;
            }
            for (int l = 0; l < nl; l++) {
                const double t0 = now_s();
                loops[l].loop(loops[l].iters);
                g[(l * nc + c) * CORE_ROUNDS + r] = (double)loops[l].iters * 14.0 *
                                                    loops[l].ops_per_insn / (now_s() - t0) / 1e9;
            }
            if (burst) /* the pattern of a model's int8 GEMMs: ~20 us of tiles between other ops */
                g[(nl * nc + c) * CORE_ROUNDS + r] = amx_burst_gops();
        }
    sched_setaffinity(0, sizeof orig, &orig);
    printf("Per-CPU peaks (%d interleaved rounds of ~5 ms per loop and CPU, and of one AMX burst "
           "of 4096 TDPBUSD after 50 us idle; GOPS: median (lowest-highest)):\n\n| loop |",
           CORE_ROUNDS);
    for (int c = 0; c < nc; c++) printf(" CPU %d |", cpus[c]);
    printf(" highest / lowest median |\n|---|");
    for (int c = 0; c <= nc; c++) printf("---:|");
    printf("\n");
    for (int l = 0; l < rows; l++) {
        double lo = INFINITY, hi = 0;
        printf("| %s |", names[l]);
        for (int c = 0; c < nc; c++) {
            double *v = g + (l * nc + c) * CORE_ROUNDS;
            qsort(v, CORE_ROUNDS, sizeof *v, cmp_double);
            const double med = v[CORE_ROUNDS / 2];
            lo = fmin(lo, med), hi = fmax(hi, med);
            printf(" %.0f (%.0f-%.0f) |", med, v[0], v[CORE_ROUNDS - 1]);
        }
        printf(" %.2f |\n", hi / lo);
    }
    free(g);
    return 0;
}

/* ------------------------------------------------------------------ main */

typedef struct bench_opts {
    int threads, rounds;
    double seconds;
    bool check, packed, list, cores;
    bool want_case[NCASES];
    bool want_dtype[D_COUNT];
} bench_opts;

static int parse_list(const char *s, bench_opts *o, bool cases) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        bool found = false;
        if (cases) {
            for (size_t i = 0; i < NCASES; i++)
                if (!strcmp(tok, CASES[i].name)) o->want_case[i] = found = true;
        } else {
            for (int i = 0; i < D_COUNT; i++)
                if (!strcmp(tok, DNAME[i])) o->want_dtype[i] = found = true;
        }
        if (!found) {
            fprintf(stderr, "bench_kernels: unknown %s '%s' (--list shows them)\n",
                    cases ? "case" : "dtype", tok);
            return -1;
        }
    }
    return 0;
}

static const char usage[] =
    "usage: bench_kernels [--threads T] [--time S] [--rounds R] [--cases NAME,...]\n"
    "                     [--dtypes f32,f16,int8,dynamic] [--layout default|packed]\n"
    "                     [--check] [--list] [--cores]\n"
    "qlite's FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D vs XNNPACK in one process:\n"
    "median time, GOPS, %% of this core's measured peak (VPDPBUSD / VFMADD231PS zmm\n"
    "loops), ratio. Defaults: T=1, S=1.0 s per case and engine, R=4 alternating rounds.\n"
    "--check: run each once and compare the outputs only.\n"
    "--cores: the peak loops on each CPU in turn (median / lowest / highest GOPS per CPU):\n"
    "does this host give every CPU the same units?\n";

static int parse_args(int argc, char **argv, bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->threads = 1, o->rounds = 4, o->seconds = 1.0;
    bool any_case = false, any_dtype = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf(usage);
            return 1;
        } else if (!strcmp(a, "--check")) {
            o->check = true;
        } else if (!strcmp(a, "--list")) {
            o->list = true;
        } else if (!strcmp(a, "--cores")) {
            o->cores = true;
        } else if (v && !strcmp(a, "--threads")) {
            o->threads = atoi(v), i++;
        } else if (v && !strcmp(a, "--rounds")) {
            o->rounds = atoi(v), i++;
        } else if (v && !strcmp(a, "--time")) {
            o->seconds = atof(v), i++;
        } else if (v && !strcmp(a, "--layout")) {
            if (strcmp(v, "default") && strcmp(v, "packed")) break;
            o->packed = !strcmp(v, "packed"), i++;
        } else if (v && !strcmp(a, "--cases")) {
            if (parse_list(v, o, true)) return -1;
            any_case = true, i++;
        } else if (v && !strcmp(a, "--dtypes")) {
            if (parse_list(v, o, false)) return -1;
            any_dtype = true, i++;
        } else {
            fprintf(stderr, "bench_kernels: bad argument '%s' (see --help)\n", a);
            return -1;
        }
    }
    if (o->threads < 1 || o->threads > 64 || o->rounds < 1 || !(o->seconds > 0)) {
        fprintf(stderr, "bench_kernels: --threads 1..64, --rounds >= 1, --time > 0\n");
        return -1;
    }
    if (!any_case) for (size_t i = 0; i < NCASES; i++) o->want_case[i] = true;
    if (!any_dtype) for (int i = 0; i < D_COUNT; i++) o->want_dtype[i] = true;
    return 0;
}


int main(int argc, char **argv) {
    bench_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc > 0 ? 0 : 2;
    if (o.list) {
        for (size_t i = 0; i < NCASES; i++) printf("%-18s %s\n", CASES[i].name, CASES[i].what);
        return 0;
    }
    if (o.cores) return measure_cores();
    if (xnn_initialize(NULL) != xnn_status_success) {
        fprintf(stderr, "bench_kernels: xnn_initialize failed (CPU not supported by XNNPACK)\n");
        return 1;
    }
    pthreadpool_t pool = o.threads > 1 ? pthreadpool_create((size_t)o.threads) : NULL;
    double peak_i8 = 0, peak_f32 = 0, read_bw = 0;
    if (!o.check) {
        if (have_vnni()) {
            peak_loop pl[4] = {{vnni_zmm, 128.0, 0, 0}, {vnni_ymm, 64.0, 0, 0},
                               {fma_zmm, 32.0, 0, 0}, {fma_ymm, 16.0, 0, 0}};
            measure_peaks(pl, 4);
            peak_i8 = fmax(pl[0].best, pl[1].best);
            peak_f32 = fmax(pl[2].best, pl[3].best);
            printf("Peak of one core (register-only loops of 14 independent instructions, best of 40 "
                   "x 5 ms): int8 VPDPBUSD zmm %.1f GOPS, ymm %.1f GOPS; float32 VFMADD231PS zmm "
                   "%.1f GFLOPS, ymm %.1f GFLOPS. %% peak below uses the better width: int8 %.1f "
                   "GOPS, float32 %.1f GFLOPS.\n",
                   pl[0].best, pl[1].best, pl[2].best, pl[3].best, peak_i8, peak_f32);
            if (have_amx()) {
                peak_loop pa = {amx_loop, amx_ops_per_insn, 0, 0};
                measure_peaks(&pa, 1);
                printf("AMX (4 independent TDPBUSD on 16 x 64-byte tiles, register-only, best of 40 "
                       "x 5 ms): int8 %.1f GOPS = %.2fx the VNNI peak. qlite's int8 GEMM uses the "
                       "tiles on this CPU; %% peak below stays against the VNNI peak.\n\n",
                       pa.best, pa.best / peak_i8);
            } else {
                printf("AMX: not available on this CPU (or not granted by the OS).\n\n");
            }
            read_bw = measure_read_bw();
            printf("Read bandwidth of one core (passes over a 16 MiB buffer as 8 streams, the int8 "
                   "FC 4096's weights; best of 40 x 5 ms): %.1f GB/s. A batch-1 FullyConnected reads each "
                   "weight once per run: \"%% read BW\" below is its bytes (weights in the "
                   "stored dtype, input, bias) / best run time against this bound (x threads); "
                   "at 100%% it is as fast as the weights can arrive.\n\n",
                   read_bw);
        } else {
            printf("Peak: not measured (no AVX-512 VNNI on this CPU)\n\n");
        }
        printf("Threads: %d; layout of qlite weights: %s; time per case and engine: %.2f s in %d "
               "alternating rounds; median of every run\n\n", o.threads,
               o.packed ? "packed (O16I4 / O16)" : "default (row-major, as qlite-convert --no-pack writes; --layout packed: as qlite-convert writes FC and conv)",
               o.seconds, o.rounds);
        printf("| case | dtype | qlite ms | XNNPACK ms | qlite / XNNPACK | qlite GOPS | XNNPACK "
               "GOPS | qlite %% peak (best run) | XNNPACK %% peak (best run) | qlite / XNNPACK "
               "%% read BW (FC, best run) | outputs |\n");
        printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    }
    int failures = 0;
    for (size_t ci = 0; ci < NCASES; ci++) {
        if (!o.want_case[ci]) continue;
        const bench_case *c = &CASES[ci];
        case_data d;
        rng_state = 0x9E3779B97F4A7C15ull + ci;
        if (make_data(c, &d)) {
            fprintf(stderr, "bench_kernels: out of memory\n");
            return 1;
        }
        for (int dt = 0; dt < D_COUNT; dt++) {
            if (!o.want_dtype[dt]) continue;
            /* XNNPACK peers of this dtype: int8 -> qs8 (+ qc8 for convolutions) */
            const char *variants[2] = {NULL, NULL};
            if (dt == D_F32) variants[0] = "f32";
            else if (dt == D_F16) variants[0] = "f16";
            else if (dt == D_INT8) variants[0] = "qs8", variants[1] = c->k == K_FC ? NULL : "qc8";
            qlite_side q;
            int qrc = qlite_build(c, &d, (dtype_kind)dt, o.threads, o.packed, &q);
            xnn_side xs[2];
            memset(xs, 0, sizeof xs);
            int xrc[2] = {-1, -1};
            for (int v = 0; v < 2; v++)
                if (variants[v]) xrc[v] = xnn_build(c, &d, variants[v], pool, &xs[v]);
            /* one run each, then compare with the peer that computes the same thing */
            if (!qrc && qlite_interpreter_invoke(q.it) != QLITE_OK) {
                snprintf(q.err, sizeof q.err, "%s", qlite_last_error());
                qrc = -1;
            }
            for (int v = 0; v < 2; v++)
                if (!xrc[v] && xnn_run_operator(xs[v].op, pool) != xnn_status_success) xrc[v] = -1;
            char verdict[96] = "—";
            /* int8: qc8 has qlite's per-channel weights; FC (qs8 only) gets a
             * float comparison against f32 instead (below) */
            int cmp = -1;
            if (dt == D_INT8) cmp = variants[1] ? 1 : -1;
            else if (dt == D_F32) cmp = 0;
            if (!qrc && cmp >= 0 && !xrc[cmp]) {
                double diff = compare(c, (dtype_kind)dt, &q, &xs[cmp], variants[cmp]);
                bool ok = diff <= (dt == D_INT8 ? 1.0 : 1e-4);
                if (dt == D_INT8)
                    snprintf(verdict, sizeof verdict, "%s: max %g LSB vs %s%s", ok ? "ok" : "DIFFER",
                             diff, variants[cmp], saturation(c, &q));
                else
                    snprintf(verdict, sizeof verdict, "%s: rel %.1e vs %s", ok ? "ok" : "DIFFER",
                             diff, variants[cmp]);
                failures += !ok;
            } else if (!qrc) {
                /* f16 (XNNPACK's accumulates in half), dynamic (no peer) and
                 * int8 FC (XNNPACK has per-tensor weights only): against
                 * XNNPACK f32, within the error of the stored form */
                xnn_side xf;
                if (!xnn_build(c, &d, "f32", pool, &xf) &&
                    xnn_run_operator(xf.op, pool) == xnn_status_success) {
                    const size_t n = out_elems(c);
                    double worst = 0, ref_max = 1e-30;
                    for (size_t i = 0; i < n; i++) {
                        double a = dt != D_INT8 ? ((const float *)q.out.data)[i]
                                                : d.sy * (((const int8_t *)q.out.data)[i] - d.zy);
                        double b = ((const float *)xf.out)[i];
                        if (dt == D_INT8) b = fmin(fmax(b, d.sy * (-128 - d.zy)), d.sy * (127 - d.zy));
                        worst = fmax(worst, fabs(a - b));
                        ref_max = fmax(ref_max, fabs(b));
                    }
                    /* half weights: 2^-11 relative each; int8: one output step
                     * (1/127 of the range) plus the weights' rounding */
                    double tol = dt == D_F16 ? 2e-3 : dt == D_DYN ? 2e-2 : 0.03;
                    bool ok = worst / ref_max <= tol;
                    snprintf(verdict, sizeof verdict, "%s: rel %.1e vs f32%s", ok ? "ok" : "DIFFER",
                             worst / ref_max, dt == D_INT8 ? saturation(c, &q) : "");
                    failures += !ok;
                }
                xnn_side_free(&xf);
            }
            if (qrc) failures++;
            if (o.check) {
                printf("%-18s %-8s qlite %s; XNNPACK %s%s%s; %s\n", c->name, DNAME[dt],
                       qrc ? q.err : "ran", variants[0] ? variants[0] : "—",
                       variants[0] && xrc[0] ? " " : "", variants[0] && xrc[0] ? xs[0].err : "",
                       verdict);
            } else {
                timing tq = {0}, tx[2] = {{0}, {0}};
                int bad = 0;
                for (int r = 0; r < o.rounds && !bad; r++) {
                    double share = o.seconds / o.rounds;
                    if (!qrc) bad |= time_qlite(&q, share, &tq);
                    for (int v = 0; v < 2; v++)
                        if (variants[v] && !xrc[v]) bad |= time_xnn(&xs[v], pool, share, &tx[v]);
                }
                if (bad) {
                    fprintf(stderr, "bench_kernels: a timed run failed (%s)\n", qlite_last_error());
                    return 1;
                }
                const double ops = 2.0 * macs(c);
                const double peak = (dt == D_INT8 || dt == D_DYN ? peak_i8 : peak_f32) * o.threads;
                double mq = qrc ? NAN : timing_median(&tq), bq = qrc ? NAN : tq.t[0];
                /* the faster XNNPACK variant is the one to beat */
                int best = -1;
                double mx = NAN, bx = NAN;
                for (int v = 0; v < 2; v++) {
                    if (!variants[v] || xrc[v]) continue;
                    double m = timing_median(&tx[v]);
                    if (best < 0 || m < mx) best = v, mx = m, bx = tx[v].t[0];
                }
                char xname[160] = "—", qcell[64], xcell[200], rcell[32], qg[32], xg[32], qp[32],
                     xp[32];
                if (best >= 0) snprintf(xname, sizeof xname, " (%s)", variants[best]);
                else if (variants[0]) snprintf(xname, sizeof xname, "n/a (%s)", xs[0].err);
                snprintf(qcell, sizeof qcell, qrc ? "n/a" : "%.4f", mq * 1e3);
                if (best >= 0) snprintf(xcell, sizeof xcell, "%.4f%s", mx * 1e3, xname);
                else snprintf(xcell, sizeof xcell, "%s", xname);
                snprintf(rcell, sizeof rcell, !qrc && best >= 0 ? "%.2f" : "—", mq / mx);
                snprintf(qg, sizeof qg, qrc ? "—" : "%.1f", ops / mq / 1e9);
                snprintf(xg, sizeof xg, best >= 0 ? "%.1f" : "—", ops / mx / 1e9);
                /* % of peak: the best run against the best peak trial (both
                 * what the core does when no other job takes it away) */
                snprintf(qp, sizeof qp, !qrc && peak > 0 ? "%.0f%%" : "—",
                         100.0 * ops / bq / 1e9 / peak);
                snprintf(xp, sizeof xp, best >= 0 && peak > 0 ? "%.0f%%" : "—",
                         100.0 * ops / bx / 1e9 / peak);
                /* FC: bytes read per run / best run against the read bandwidth */
                char bwc[48] = "—";
                const double bwb = read_bw * 1e9 * o.threads;
                if (c->k == K_FC && bwb > 0 && !qrc) {
                    const double fb = fc_bytes(c, (dtype_kind)dt);
                    if (best >= 0)
                        snprintf(bwc, sizeof bwc, "%.0f%% / %.0f%%", 100.0 * fb / bq / bwb,
                                 100.0 * fb / bx / bwb);
                    else
                        snprintf(bwc, sizeof bwc, "%.0f%% / —", 100.0 * fb / bq / bwb);
                }
                printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c->what,
                       DNAME[dt], qcell, xcell, rcell, qg, xg, qp, xp, bwc,
                       qrc ? q.err : verdict);
                fflush(stdout);
                free(tq.t), free(tx[0].t), free(tx[1].t);
            }
            qlite_side_free(&q);
            for (int v = 0; v < 2; v++) xnn_side_free(&xs[v]);
        }
        free_data(&d);
    }
    if (pool) pthreadpool_destroy(pool);
    xnn_deinitialize();
    if (o.check) printf("%s\n", failures ? "FAILED" : "all outputs agree");
    return failures ? 1 : 0;
}
