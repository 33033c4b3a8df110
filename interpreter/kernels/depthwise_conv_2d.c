/*
 * depthwise_conv_2d.c — DEPTHWISE_CONV_2D, NHWC, depth multiplier M.
 *
 *   input 0  x  [N, H, W, C]
 *   input 1  w  [1, KH, KW, C*M]     M = options.groups (depth multiplier)
 *   input 2  b  [C*M]                optional
 *   output   y  [N, OH, OW, C*M]
 *
 * y[n,oy,ox,c*M+m] = act(b[c*M+m] + sum_{ky,kx} x[n, oy*sh-pt+ky*dh, ox*sw-pl+kx*dw, c]
 *                                               * w[0, ky, kx, c*M+m])
 *
 * Optimized float32 paths:
 *   x86 AVX-512 / AVX2+FMA, multiplier 1 (depthwise_conv_2d_f32_rows.inc):
 *     channel-vectorized rows, pixel groups outermost and all channels
 *     inside (the order of the input in memory), 3x3 windows as nine FMAs
 *     on weights in registers, four pixels at a time, the overlapping input
 *     columns of stride 1 / 2 loaded once; threads split (output row,
 *     channel group) items; chosen at prepare from the CPU features (within
 *     qlite_q8_set_feature_cap, so tests reach each one);
 *   ARM64 NEON, multiplier 1, channels a multiple of 4: the same row
 *     kernel (depthwise_conv_2d_f32_rows.inc) four floats a vector (FMLA);
 *   portable: for each output pixel, blocks of 16 channels keep their
 *     accumulators in a generic 16-float vector over all valid taps
 *     (compiled for AVX-512 / AVX2 / baseline, chosen within QLITE_MAX_ISA).
 */
#include "depthwise_conv_2d_f32.h"
#include "gemm_q8.h"
#include "kernels.h"
#include "nn_common.h"
#include "nn_variants.h"

QLITE_NN_OPTIMIZE_LOOPS

typedef qlite_dw_f32_plan dw_state;

typedef struct dw_node {
    qlite_status (*eval)(qlite_node *node); /* first: dw_eval dispatches on it */
    dw_state p;
} dw_node;

enum { DW_ISA_PORTABLE, DW_ISA_AVX2, DW_ISA_AVX512, DW_ISA_NEON };

/* What the x86 row kernels read (one image). */
typedef struct dw_f32_args {
    const float *w, *b; /* [KH*KW][C], [C] or NULL */
    int64_t H, W, C, KH, KW, OW, sh, sw, dh, dw, pt, pl;
    float lo, hi;
} dw_f32_args;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DW_X86 1

#define DW_ATTR __attribute__((target("avx512f")))
#define DW_FN(name) name##__avx512
#define DW_VL 16
#define V __m512
#define M __mmask16
#define DW_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#define DW_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define DW_STOREM(p, v, m) _mm512_mask_storeu_ps((p), (m), (v))
#define DW_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define DW_SET1(f) _mm512_set1_ps(f)
#define DW_MIN(a, b) _mm512_min_ps((a), (b))
#define DW_MAX(a, b) _mm512_max_ps((a), (b))
#define DW_ZERO() _mm512_setzero_ps()
#include "depthwise_conv_2d_f32_rows.inc"

#define DW_ATTR __attribute__((target("avx2,fma")))
#define DW_FN(name) name##__avx2
#define DW_VL 8
#define V __m256
#define M __m256i
DW_ATTR static inline __m256i dw_mask8(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define DW_MASK(n) dw_mask8(n)
#define DW_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define DW_STOREM(p, v, m) _mm256_maskstore_ps((p), (m), (v))
#define DW_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define DW_SET1(f) _mm256_set1_ps(f)
#define DW_MIN(a, b) _mm256_min_ps((a), (b))
#define DW_MAX(a, b) _mm256_max_ps((a), (b))
#define DW_ZERO() _mm256_setzero_ps()
#include "depthwise_conv_2d_f32_rows.inc"
#define DW_ROWS_SIMD 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define DW_NEON 1
#define DW_ROWS_SIMD 1

/* NEON has no masked loads: the NEON rows run only for C % 4 == 0 (every
 * block a full vector; plan_select sends the other shapes to the portable
 * rows), so the lane mask is always 4 and loads / stores are plain. */
#define DW_ATTR
#define DW_FN(name) name##__neon
#define DW_VL 4
#define V float32x4_t
#define M int
#define DW_MASK(n) 4
#define DW_LOADM(p, m) ((void)(m), vld1q_f32(p))
#define DW_STOREM(p, v, m) ((void)(m), vst1q_f32((p), (v)))
#define DW_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#define DW_SET1(f) vdupq_n_f32(f)
#define DW_MIN(a, b) vminq_f32((a), (b))
#define DW_MAX(a, b) vmaxq_f32((a), (b))
#define DW_ZERO() vdupq_n_f32(0.0f)
#include "depthwise_conv_2d_f32_rows.inc"
#endif

static void dw_f32_ref(const dw_state *s, const float *x, const float *w, const float *b,
                       float *y) {
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t oy = 0; oy < s->OH; oy++)
            for (int64_t ox = 0; ox < s->OW; ox++)
                for (int64_t oc = 0; oc < s->OC; oc++) {
                    const int64_t c = oc / s->M;
                    float acc = b ? b[oc] : 0.0f;
                    for (int64_t ky = 0; ky < s->KH; ky++) {
                        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
                        if (iy < 0 || iy >= s->H) continue;
                        for (int64_t kx = 0; kx < s->KW; kx++) {
                            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                            if (ix < 0 || ix >= s->W) continue;
                            acc += x[((n * s->H + iy) * s->W + ix) * s->C + c] *
                                   w[(ky * s->KW + kx) * s->OC + oc];
                        }
                    }
                    y[((n * s->OH + oy) * s->OW + ox) * s->OC + oc] =
                        qlite_clampf(acc, s->lo, s->hi);
                }
}

typedef struct dw_job {
    const dw_state *s;
    const float *x, *w, *b;
    float *y;
    size_t parts; /* > 0: item i = output rows [i rows / parts, (i + 1) rows / parts) */
} dw_job;

/* One output pixel, channels [c0, c0 + 16) (multiplier 1), accumulators in registers. */
static inline void dw_block16(const dw_state *s, const float *x, const float *w, const float *b,
                              int64_t n, int64_t oy, int64_t ox, size_t c0, float *out) {
    qlite_v16f acc = {0}, xv, wv;
    if (b) QLITE_V16F_LOAD(acc, b + c0);
    for (int64_t ky = 0; ky < s->KH; ky++) {
        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
        if (iy < 0 || iy >= s->H) continue;
        const float *xrow = x + ((n * s->H + iy) * s->W) * s->C + (int64_t)c0;
        const float *wrow = w + (ky * s->KW) * s->OC + (int64_t)c0;
        for (int64_t kx = 0; kx < s->KW; kx++) {
            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
            if (ix < 0 || ix >= s->W) continue;
            QLITE_V16F_LOAD(xv, xrow + ix * s->C);
            QLITE_V16F_LOAD(wv, wrow + kx * s->OC);
            acc += xv * wv;
        }
    }
    float t[16];
    QLITE_V16F_STORE(t, acc);
    for (int j = 0; j < 16; j++) t[j] = t[j] < s->lo ? s->lo : (t[j] > s->hi ? s->hi : t[j]);
    memcpy(out + c0, t, sizeof t);
}

/* One output pixel, output channels [oc0, oc0 + cnt), cnt <= 16 (tails and
 * multipliers > 1): one independent chain per channel, taps outermost. */
__attribute__((noinline)) static void dw_tail(const dw_state *s, const float *x, const float *w, const float *b,
                           int64_t n, int64_t oy, int64_t ox, size_t oc0, size_t cnt,
                           float *out) {
    float acc[16];
    size_t xi[16]; /* input channel of each output channel (oc / M), once */
    for (size_t c = 0; c < cnt; c++) {
        acc[c] = b ? b[oc0 + c] : 0.0f;
        xi[c] = s->M == 1 ? oc0 + c : (oc0 + c) / (size_t)s->M;
    }
    for (int64_t ky = 0; ky < s->KH; ky++) {
        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
        if (iy < 0 || iy >= s->H) continue;
        for (int64_t kx = 0; kx < s->KW; kx++) {
            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
            if (ix < 0 || ix >= s->W) continue;
            const float *xr = x + ((n * s->H + iy) * s->W + ix) * s->C;
            const float *wr = w + (ky * s->KW + kx) * s->OC + (int64_t)oc0;
            if (s->M == 1) {
                for (size_t c = 0; c < cnt; c++) acc[c] += xr[oc0 + c] * wr[c];
            } else {
                for (size_t c = 0; c < cnt; c++) acc[c] += xr[xi[c]] * wr[c];
            }
        }
    }
    for (size_t c = 0; c < cnt; c++) out[oc0 + c] = qlite_clampf(acc[c], s->lo, s->hi);
}

static inline __attribute__((always_inline)) void dw_rows_body(void *arg, size_t begin,
                                                                size_t end) {
    const dw_job *j = arg;
    const dw_state *s = j->s;
    const size_t OC = (size_t)s->OC;
    /* multiplier 1: blocks of 16 channels; the rest one channel at a time */
    const size_t blocked = s->M == 1 ? OC / 16 * 16 : 0;
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / s->OH, oy = (int64_t)row % s->OH;
        for (int64_t ox = 0; ox < s->OW; ox++) {
            float *out = j->y + (row * (size_t)s->OW + (size_t)ox) * OC;
            for (size_t c0 = 0; c0 < blocked; c0 += 16) dw_block16(s, j->x, j->w, j->b, n, oy, ox, c0, out);
            for (size_t oc = blocked; oc < OC; oc += 16)
                dw_tail(s, j->x, j->w, j->b, n, oy, ox, oc, OC - oc < 16 ? OC - oc : 16, out);
        }
    }
}

/* The generic-vector rows compiled for AVX-512, AVX2 and the baseline, chosen
 * within QLITE_MAX_ISA and the test cap (qlite_q8_feature_limit; an ifunc
 * would choose by the CPU alone). */
static void dw_rows(void *arg, size_t begin, size_t end) { dw_rows_body(arg, begin, end); }
#ifdef DW_X86
__attribute__((target("avx512f"))) static void dw_rows__avx512f(void *arg, size_t begin,
                                                                 size_t end) {
    dw_rows_body(arg, begin, end);
}
__attribute__((target("avx2"))) static void dw_rows__avx2(void *arg, size_t begin, size_t end) {
    dw_rows_body(arg, begin, end);
}
#endif

static qlite_range_fn dw_rows_select(void) {
#ifdef DW_X86
    const unsigned limit = qlite_q8_feature_limit();
    __builtin_cpu_init();
    if ((limit & QLITE_Q8_F_AVX512) && __builtin_cpu_supports("avx512f")) return dw_rows__avx512f;
    if ((limit & QLITE_Q8_F_AVX2) && __builtin_cpu_supports("avx2")) return dw_rows__avx2;
#endif
    return dw_rows;
}

#ifdef DW_ROWS_SIMD
/* Work items of the SIMD paths: (output row, group of channels), the group
 * innermost. Rows alone when there are enough of them; a few rows with many
 * channels (the 14x14 and 7x7 layers) are also split by channels, in whole
 * vectors, so that two threads get even shares. */
static int64_t dw_simd_vl(const dw_state *s) {
    return s->isa == DW_ISA_AVX512 ? 16 : s->isa == DW_ISA_AVX2 ? 8 : 4;
}

/* Outputs (floats) up to which the SIMD paths give each thread one contiguous
 * range of whole rows instead of row x channel-group items: MobileNetV2's 28x28
 * and smaller layers (<= 28x28x192 = 147 Ki outputs) took 0.76-0.92x the time
 * at 2 threads split that way (8 interleaved rounds x 3 runs, per-op medians);
 * 112x112x32 and 56x56x96 took 1.04-1.08x, 56x56x144 0.97x. */
#define DW_PARTS_MAX ((size_t)256 << 10)

static size_t dw_simd_items(const dw_state *s, int64_t *groups, int64_t *group_c) {
    const int64_t vl = dw_simd_vl(s);
    const int64_t rows = s->N * s->OH, vecs = (s->C + vl - 1) / vl;
    int64_t g = (32 + rows - 1) / rows; /* aim at >= 32 items */
    if (g > vecs) g = vecs;
    const int64_t per = (vecs + g - 1) / g;
    *group_c = per * vl;
    *groups = (vecs + per - 1) / per;
    return (size_t)(rows * *groups);
}

static void dw_rows_simd(void *arg, size_t begin, size_t end) {
    const dw_job *j = arg;
    const dw_state *s = j->s;
    const dw_f32_args a = {.w = j->w, .b = j->b, .H = s->H, .W = s->W, .C = s->C, .KH = s->KH,
                           .KW = s->KW, .OW = s->OW, .sh = s->sh, .sw = s->sw, .dh = s->dh,
                           .dw = s->dw, .pt = s->pt, .pl = s->pl, .lo = s->lo, .hi = s->hi};
    int64_t groups, group_c;
    if (j->parts) { /* rows [begin rows / parts, end rows / parts), all channels */
        const size_t rows = (size_t)(s->N * s->OH);
        groups = 1, group_c = s->C;
        begin = begin * rows / j->parts, end = end * rows / j->parts;
    } else {
        dw_simd_items(s, &groups, &group_c);
    }
    for (size_t it = begin; it < end; it++) {
        const int64_t row = (int64_t)it / groups, c0 = (int64_t)it % groups * group_c;
        const int64_t c1 = c0 + group_c < s->C ? c0 + group_c : s->C;
        const int64_t n = row / s->OH, oy = row % s->OH;
        const float *x = j->x + n * s->H * s->W * s->C;
        float *y = j->y + row * s->OW * s->OC;
#ifdef DW_X86
        if (s->isa == DW_ISA_AVX512)
            dw_row__avx512(&a, x, oy, y, c0, c1);
        else
            dw_row__avx2(&a, x, oy, y, c0, c1);
#else
        dw_row__neon(&a, x, oy, y, c0, c1);
#endif
    }
}
#endif

void qlite_dw_f32_plan_select(qlite_dw_f32_plan *s) {
    s->isa = DW_ISA_PORTABLE;
    if (s->M != 1) return;
#ifdef DW_X86
    const unsigned f = qlite_q8_cpu_features();
    if (f & QLITE_Q8_F_AVX512)
        s->isa = DW_ISA_AVX512;
    else if ((f & QLITE_Q8_F_AVX2) && __builtin_cpu_supports("fma"))
        s->isa = DW_ISA_AVX2;
#elif defined(DW_NEON)
    if ((qlite_q8_cpu_features() & QLITE_Q8_F_NEON) && s->C % 4 == 0) s->isa = DW_ISA_NEON;
#endif
}

void qlite_dw_f32_run(const qlite_node *node, const qlite_dw_f32_plan *s, const float *x,
                      const float *w, const float *b, float *y) {
    dw_job j = {.s = s, .x = x, .w = w, .b = b, .y = y};
#ifdef DW_ROWS_SIMD
    if (s->isa != DW_ISA_PORTABLE) {
        const size_t threads = (size_t)qlite_node_threads(node), rows = (size_t)(s->N * s->OH);
        if (threads > 1 && rows >= threads &&
            (double)rows * (double)s->OW * (double)s->OC <= (double)DW_PARTS_MAX) {
            j.parts = threads;
            qlite_parallel_for(node, threads, dw_rows_simd, &j);
            return;
        }
        int64_t groups, group_c;
        qlite_parallel_for(node, dw_simd_items(s, &groups, &group_c), dw_rows_simd, &j);
        return;
    }
#endif
    qlite_parallel_for(node, (size_t)(s->N * s->OH), dw_rows_select(), &j);
}

static qlite_status dw_eval_f32(qlite_node *node) {
    const dw_state *s = &((const dw_node *)node->state)->p;
    const qlite_tensor *bt = qlite_node_input(node, 2);
    const float *x = node->inputs[0]->data, *w = node->inputs[1]->data;
    const float *b = bt ? bt->data : NULL;
    float *y = node->outputs[0]->data;
    if (qlite_node_reference_only(node))
        dw_f32_ref(s, x, w, b, y);
    else
        qlite_dw_f32_run(node, s, x, w, b, y);
    return QLITE_OK;
}

static qlite_status dw_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 3, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0], *w = node->inputs[1];
    const qlite_tensor *b = qlite_node_input(node, 2);
    if (node->opts->type != QLITE_OPTIONS_CONV_2D)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Conv2D");
    const qlite_conv2d_options *o = &node->opts->u.conv2d;
    qlite_status (*eval)(qlite_node *) = NULL;
    switch (QLITE_NN_PAIR(x->dtype, w->dtype)) {
    case QLITE_NN_F32_F32: eval = dw_eval_f32; break;
    default: return qlite_dw_variants_prepare(node); /* int8, hybrid, float16 weights */
    }
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", QLITE_DTYPE_FLOAT32)) ||
        (b && (st = qlite_nn_check_dtype(node, b, "bias", QLITE_DTYPE_FLOAT32))) ||
        (st = qlite_nn_check_rank(node, x, "input", 4)) ||
        (st = qlite_nn_check_rank(node, w, "weights", 4)))
        return st;
    dw_node *dn = qlite_node_alloc(node, sizeof *dn);
    if (!dn) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    dn->eval = eval;
    dw_state *s = &dn->p;
    s->N = x->dims[0], s->H = x->dims[1], s->W = x->dims[2], s->C = x->dims[3];
    s->KH = w->dims[1], s->KW = w->dims[2], s->OC = w->dims[3], s->M = o->groups;
    s->sh = o->stride_h, s->sw = o->stride_w, s->dh = o->dilation_h, s->dw = o->dilation_w;
    s->pt = o->pad_top, s->pl = o->pad_left;
    if (s->M < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "depth multiplier %lld must be >= 1",
                                (long long)s->M);
    if (w->dims[0] != 1 || s->OC != s->C * s->M)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "weights '%s' must be [1, KH, KW, %lld] (channels %lld x "
                                "multiplier %lld)",
                                w->info->name, (long long)(s->C * s->M), (long long)s->C,
                                (long long)s->M);
    if (b && (b->rank != 1 || b->dims[0] != s->OC))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%lld]", b->info->name,
                                (long long)s->OC);
    s->OH = qlite_nn_window_out(s->H, s->KH, s->sh, s->dh, s->pt, o->pad_bottom, false);
    s->OW = qlite_nn_window_out(s->W, s->KW, s->sw, s->dw, s->pl, o->pad_right, false);
    if (s->OH < 1 || s->OW < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "no output: input %lldx%lld, kernel %lldx%lld, stride %lldx%lld, "
                                "dilation %lldx%lld, pads %d,%d,%d,%d",
                                (long long)s->H, (long long)s->W, (long long)s->KH,
                                (long long)s->KW, (long long)s->sh, (long long)s->sw,
                                (long long)s->dh, (long long)s->dw, o->pad_top, o->pad_left,
                                o->pad_bottom, o->pad_right);
    if (!qlite_nn_activation(o->activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o->activation);
    if ((st = qlite_node_set_output_shape(node, 0, 4, (int64_t[]){s->N, s->OH, s->OW, s->OC})))
        return st;
    qlite_dw_f32_plan_select(s);
    node->state = dn;
    return QLITE_OK;
}

static qlite_status dw_eval(qlite_node *node) {
    return ((const dw_node *)node->state)->eval(node);
}

const qlite_kernel qlite_kernel_depthwise_conv_2d = {
    .prepare = dw_prepare,
    .eval = dw_eval,
    .raw_dense_inputs = 1u << 1, /* float16 weights read in place */
};
