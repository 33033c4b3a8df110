/*
 * pool_2d.c — MAX_POOL_2D and AVERAGE_POOL_2D, NHWC, ONNX semantics.
 *
 *   input 0  x  [N, H, W, C]   ->   output y [N, OH, OW, C]
 *
 * Window of output (oy, ox): taps iy = oy*sh - pt + ky*dh (ky < KH), same for x.
 *   OH = floor or ceil((H + pt + pb - ((KH-1)*dh + 1)) / sh) + 1; with ceil_mode
 *   a last window that would start in the bottom/right padding is dropped
 *   ((OH-1)*sh >= H + pt), as ONNX and PyTorch do.
 *   max:     maximum over the taps inside the input (padding never wins);
 *            a window with no such tap gives -inf.
 *   average: sum over the taps inside the input divided by
 *            count_include_pad ? taps inside [-pt, H+pb) x [-pl, W+pr)
 *                              : taps inside the input
 *            (so ceil-mode overhang past the padding is never counted);
 *            a window with a zero divisor gives 0.
 * Then the fused activation.
 *
 * Optimized float32 path: per output pixel, blocks of 16 channels keep
 * their running max / sum in registers (a generic 16-float vector) over all
 * taps; the average multiplies by 1/count. Threads split output rows.
 * On x86 the same per pixel with AVX-512 (16 channels, masked tail) or AVX2
 * (8 channels), chosen at prepare from the CPU features (capped as the int8
 * kernels', so tests reach each level); VMAXPS(v, acc) is exactly the
 * reference's `v > acc ? v : acc` (a NaN tap never wins).
 */
#include <math.h>

#include "gemm_q8.h"
#include "kernels.h"
#include "nn_common.h"
#include "nn_variants.h"
#include "quant_params.h"

QLITE_NN_OPTIMIZE_LOOPS

typedef struct pool_state {
    qlite_eval_fn eval; /* pool_eval_f32 (first: qlite_eval_dispatch) */
    bool is_max;
    bool include_pad;
    int64_t N, H, W, C, KH, KW, OH, OW;
    int64_t sh, sw, dh, dw, pt, pl, pb, pr;
    float lo, hi;
    int isa; /* POOL_ISA_* */
} pool_state;

enum { POOL_ISA_PORTABLE, POOL_ISA_AVX2, POOL_ISA_AVX512 };

/* Divisor of an average window (see above). */
static float avg_count(const pool_state *s, int64_t oy, int64_t ox) {
    int64_t ny = 0, nx = 0;
    const int64_t y0 = s->include_pad ? -s->pt : 0, y1 = s->include_pad ? s->H + s->pb : s->H;
    const int64_t x0 = s->include_pad ? -s->pl : 0, x1 = s->include_pad ? s->W + s->pr : s->W;
    for (int64_t ky = 0; ky < s->KH; ky++) {
        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
        ny += iy >= y0 && iy < y1;
    }
    for (int64_t kx = 0; kx < s->KW; kx++) {
        const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
        nx += ix >= x0 && ix < x1;
    }
    return (float)(ny * nx);
}

static void pool_f32_ref(const pool_state *s, const float *x, float *y) {
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t oy = 0; oy < s->OH; oy++)
            for (int64_t ox = 0; ox < s->OW; ox++)
                for (int64_t c = 0; c < s->C; c++) {
                    float acc = s->is_max ? -INFINITY : 0.0f;
                    for (int64_t ky = 0; ky < s->KH; ky++) {
                        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
                        if (iy < 0 || iy >= s->H) continue;
                        for (int64_t kx = 0; kx < s->KW; kx++) {
                            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
                            if (ix < 0 || ix >= s->W) continue;
                            const float v = x[((n * s->H + iy) * s->W + ix) * s->C + c];
                            if (s->is_max)
                                acc = v > acc ? v : acc;
                            else
                                acc += v;
                        }
                    }
                    if (!s->is_max) {
                        const float cnt = avg_count(s, oy, ox);
                        acc = cnt > 0.0f ? acc / cnt : 0.0f;
                    }
                    y[((n * s->OH + oy) * s->OW + ox) * s->C + c] = qlite_clampf(acc, s->lo, s->hi);
                }
}

typedef struct pool_job {
    const pool_state *s;
    const float *x;
    float *y;
} pool_job;

/* One output pixel, channels [c0, c0 + 16): accumulators in registers. */
static inline void pool_block16(const pool_state *s, const float *x, int64_t n, int64_t oy,
                                int64_t ox, size_t c0, float scale, float *out) {
    qlite_v16f acc, v;
    float t[16];
    for (int j = 0; j < 16; j++) t[j] = s->is_max ? -INFINITY : 0.0f;
    QLITE_V16F_LOAD(acc, t);
    for (int64_t ky = 0; ky < s->KH; ky++) {
        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
        if (iy < 0 || iy >= s->H) continue;
        const float *xrow = x + ((n * s->H + iy) * s->W) * s->C + (int64_t)c0;
        for (int64_t kx = 0; kx < s->KW; kx++) {
            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
            if (ix < 0 || ix >= s->W) continue;
            QLITE_V16F_LOAD(v, xrow + ix * s->C);
            if (s->is_max)
                QLITE_V16F_MAX_INTO(acc, v);
            else
                acc += v;
        }
    }
    QLITE_V16F_STORE(t, acc);
    for (int j = 0; j < 16; j++) {
        float r = s->is_max ? t[j] : t[j] * scale;
        r = r < s->lo ? s->lo : r;
        out[c0 + (size_t)j] = r > s->hi ? s->hi : r;
    }
}

/* One output pixel, the cnt < 16 channels from c0: independent chains per
 * channel, taps outermost. */
static inline void pool_tail(const pool_state *s, const float *x, int64_t n, int64_t oy,
                             int64_t ox, size_t c0, size_t cnt, float scale, float *out) {
    float acc[16];
    for (size_t c = 0; c < cnt; c++) acc[c] = s->is_max ? -INFINITY : 0.0f;
    for (int64_t ky = 0; ky < s->KH; ky++) {
        const int64_t iy = oy * s->sh - s->pt + ky * s->dh;
        if (iy < 0 || iy >= s->H) continue;
        for (int64_t kx = 0; kx < s->KW; kx++) {
            const int64_t ix = ox * s->sw - s->pl + kx * s->dw;
            if (ix < 0 || ix >= s->W) continue;
            const float *v = x + ((n * s->H + iy) * s->W + ix) * s->C + (int64_t)c0;
            if (s->is_max) {
                for (size_t c = 0; c < cnt; c++) acc[c] = v[c] > acc[c] ? v[c] : acc[c];
            } else {
                for (size_t c = 0; c < cnt; c++) acc[c] += v[c];
            }
        }
    }
    for (size_t c = 0; c < cnt; c++)
        out[c0 + c] = qlite_clampf(s->is_max ? acc[c] : acc[c] * scale, s->lo, s->hi);
}

static void pool_rows(void *arg, size_t begin, size_t end) {
    const pool_job *j = arg;
    const pool_state *s = j->s;
    const size_t C = (size_t)s->C, blocked = C / 16 * 16;
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / s->OH, oy = (int64_t)row % s->OH;
        for (int64_t ox = 0; ox < s->OW; ox++) {
            float *out = j->y + (row * (size_t)s->OW + (size_t)ox) * C;
            float scale = 1.0f;
            if (!s->is_max) {
                const float cnt = avg_count(s, oy, ox);
                scale = cnt > 0.0f ? 1.0f / cnt : 0.0f;
            }
            for (size_t c0 = 0; c0 < blocked; c0 += 16) pool_block16(s, j->x, n, oy, ox, c0, scale, out);
            if (blocked < C) pool_tail(s, j->x, n, oy, ox, blocked, C - blocked, scale, out);
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define POOL_X86 1

/* One output row of the x86 variants. Per pixel: the input pointers of the
 * taps inside the input, in the reference's order (ky, then kx), listed once;
 * then four channel vectors of VL at a time run over that list with their
 * running max / sum in registers (loop overhead per tap shared by four
 * vectors, so ResNet-18's 3x3/2 pool on 112x112x64 is no longer bound by
 * the per-tap bounds checks), then single masked vectors for the rest. The
 * per-lane order of the operations is the same as one vector at a time. A
 * window of more than 64 taps inside the input keeps the tap-by-tap loop. */
#define POOL_MAX_TAPS 64
#define POOL_ROW(NAME, ATTR, VL, V, MT, MASK, LOADM, STOREM, SET1, MAXF, MINF, ADDF, MULF,     \
                 LOADU, STOREU)                                                                \
    ATTR static void NAME(const pool_state *s, const float *x, int64_t oy, float *y) {         \
        const int64_t C = s->C;                                                                 \
        const V lo = SET1(s->lo), hi = SET1(s->hi);                                             \
        const V init = SET1(s->is_max ? -INFINITY : 0.0f);                                      \
        const int64_t iy0 = oy * s->sh - s->pt;                                                 \
        const float *taps[POOL_MAX_TAPS];                                                       \
        for (int64_t ox = 0; ox < s->OW; ox++) {                                                \
            float scale = 1.0f;                                                                 \
            if (!s->is_max) {                                                                   \
                const float cnt = avg_count(s, oy, ox);                                         \
                scale = cnt > 0.0f ? 1.0f / cnt : 0.0f;                                         \
            }                                                                                   \
            const V vs = SET1(scale);                                                           \
            const int64_t ix0 = ox * s->sw - s->pl;                                             \
            int nt = 0;                                                                         \
            bool many = false;                                                                  \
            for (int64_t ky = 0; ky < s->KH && !many; ky++) {                                   \
                const int64_t iy = iy0 + ky * s->dh;                                            \
                if (iy < 0 || iy >= s->H) continue;                                             \
                for (int64_t kx = 0; kx < s->KW; kx++) {                                        \
                    const int64_t ix = ix0 + kx * s->dw;                                        \
                    if (ix < 0 || ix >= s->W) continue;                                         \
                    if (nt == POOL_MAX_TAPS) {                                                  \
                        many = true;                                                            \
                        break;                                                                  \
                    }                                                                           \
                    taps[nt++] = x + (iy * s->W + ix) * C;                                      \
                }                                                                               \
            }                                                                                   \
            int64_t c0 = 0;                                                                     \
            if (!many) {                                                                        \
                for (; c0 + 4 * VL <= C; c0 += 4 * VL) {                                        \
                    V a0 = init, a1 = init, a2 = init, a3 = init;                               \
                    for (int t = 0; t < nt; t++) {                                              \
                        const float *p = taps[t] + c0;                                          \
                        const V v0 = LOADU(p), v1 = LOADU(p + VL);                              \
                        const V v2 = LOADU(p + 2 * VL), v3 = LOADU(p + 3 * VL);                 \
                        if (s->is_max) {                                                        \
                            a0 = MAXF(v0, a0), a1 = MAXF(v1, a1);                               \
                            a2 = MAXF(v2, a2), a3 = MAXF(v3, a3);                               \
                        } else {                                                                \
                            a0 = ADDF(a0, v0), a1 = ADDF(a1, v1);                               \
                            a2 = ADDF(a2, v2), a3 = ADDF(a3, v3);                               \
                        }                                                                       \
                    }                                                                           \
                    if (!s->is_max) {                                                           \
                        a0 = MULF(a0, vs), a1 = MULF(a1, vs);                                   \
                        a2 = MULF(a2, vs), a3 = MULF(a3, vs);                                   \
                    }                                                                           \
                    float *q = y + ox * C + c0;                                                 \
                    STOREU(q, MINF(MAXF(a0, lo), hi));                                          \
                    STOREU(q + VL, MINF(MAXF(a1, lo), hi));                                     \
                    STOREU(q + 2 * VL, MINF(MAXF(a2, lo), hi));                                 \
                    STOREU(q + 3 * VL, MINF(MAXF(a3, lo), hi));                                 \
                }                                                                               \
                for (; c0 < C; c0 += VL) {                                                      \
                    const MT m = MASK(C - c0 < VL ? C - c0 : VL);                               \
                    V acc = init;                                                               \
                    for (int t = 0; t < nt; t++) {                                              \
                        const V v = LOADM(taps[t] + c0, m);                                     \
                        acc = s->is_max ? MAXF(v, acc) : ADDF(acc, v);                          \
                    }                                                                           \
                    if (!s->is_max) acc = MULF(acc, vs);                                        \
                    STOREM(y + ox * C + c0, MINF(MAXF(acc, lo), hi), m);                        \
                }                                                                               \
                continue;                                                                       \
            }                                                                                   \
            for (; c0 < C; c0 += VL) {                                                          \
                const MT m = MASK(C - c0 < VL ? C - c0 : VL);                                   \
                V acc = init;                                                                   \
                for (int64_t ky = 0; ky < s->KH; ky++) {                                        \
                    const int64_t iy = iy0 + ky * s->dh;                                        \
                    if (iy < 0 || iy >= s->H) continue;                                         \
                    const float *xr = x + iy * s->W * C + c0;                                   \
                    for (int64_t kx = 0; kx < s->KW; kx++) {                                    \
                        const int64_t ix = ix0 + kx * s->dw;                                    \
                        if (ix < 0 || ix >= s->W) continue;                                     \
                        const V v = LOADM(xr + ix * C, m);                                      \
                        acc = s->is_max ? MAXF(v, acc) : ADDF(acc, v);                          \
                    }                                                                           \
                }                                                                               \
                if (!s->is_max) acc = MULF(acc, vs);                                            \
                STOREM(y + ox * C + c0, MINF(MAXF(acc, lo), hi), m);                            \
            }                                                                                   \
        }                                                                                       \
    }

#define P512_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#define P512_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define P512_STOREM(p, v, m) _mm512_mask_storeu_ps((p), (m), (v))
POOL_ROW(pool_row__avx512, __attribute__((target("avx512f"))), 16, __m512, __mmask16, P512_MASK,
         P512_LOADM, P512_STOREM, _mm512_set1_ps, _mm512_max_ps, _mm512_min_ps, _mm512_add_ps,
         _mm512_mul_ps, _mm512_loadu_ps, _mm512_storeu_ps)

__attribute__((target("avx2"))) static inline __m256i pool_mask8(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define P256_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define P256_STOREM(p, v, m) _mm256_maskstore_ps((p), (m), (v))
POOL_ROW(pool_row__avx2, __attribute__((target("avx2"))), 8, __m256, __m256i, pool_mask8,
         P256_LOADM, P256_STOREM, _mm256_set1_ps, _mm256_max_ps, _mm256_min_ps, _mm256_add_ps,
         _mm256_mul_ps, _mm256_loadu_ps, _mm256_storeu_ps)

static void pool_rows_x86(void *arg, size_t begin, size_t end) {
    const pool_job *j = arg;
    const pool_state *s = j->s;
    for (size_t row = begin; row < end; row++) {
        const int64_t n = (int64_t)row / s->OH, oy = (int64_t)row % s->OH;
        const float *x = j->x + n * s->H * s->W * s->C;
        float *y = j->y + row * (size_t)(s->OW * s->C);
        if (s->isa == POOL_ISA_AVX512)
            pool_row__avx512(s, x, oy, y);
        else
            pool_row__avx2(s, x, oy, y);
    }
}
#endif

static int pool_select_isa(void) {
#ifdef POOL_X86
    const unsigned f = qlite_q8_cpu_features();
    if (f & QLITE_Q8_F_AVX512) return POOL_ISA_AVX512;
    if (f & QLITE_Q8_F_AVX2) return POOL_ISA_AVX2;
#endif
    return POOL_ISA_PORTABLE;
}

static qlite_status pool_eval_f32(qlite_node *node) {
    const pool_state *s = node->state;
    pool_job j = {.s = s, .x = node->inputs[0]->data, .y = node->outputs[0]->data};
    if (qlite_node_reference_only(node)) {
        pool_f32_ref(s, j.x, j.y);
        return QLITE_OK;
    }
#ifdef POOL_X86
    if (s->isa != POOL_ISA_PORTABLE) {
        qlite_parallel_for(node, (size_t)(s->N * s->OH), pool_rows_x86, &j);
        return QLITE_OK;
    }
#endif
    qlite_parallel_for(node, (size_t)(s->N * s->OH), pool_rows, &j);
    return QLITE_OK;
}

static qlite_status pool_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    if (node->opts->type != QLITE_OPTIONS_POOL_2D)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Pool2D");
    const qlite_pool2d_options *o = &node->opts->u.pool2d;
    /* Variants by dtype: int8/uint8 (same parameters in and out) in pool_2d_q8.c */
    switch (x->dtype) {
    case QLITE_DTYPE_FLOAT32: break;
    case QLITE_DTYPE_INT8:
    case QLITE_DTYPE_UINT8: return qlite_pool_q8_prepare(node); /* pool_2d_q8.c */
    default:
        return qlite_node_error(node, QLITE_ERR_DTYPE, "input '%s' is %s", x->info->name,
                                qlite_dtype_name(x->dtype));
    }
    if ((st = qlite_nn_check_dtype(node, node->outputs[0], "output", x->dtype)) ||
        (st = qlite_nn_check_rank(node, x, "input", 4)))
        return st;
    pool_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = pool_eval_f32;
    s->is_max = node->op->code == QLITE_OP_MAX_POOL_2D;
    s->include_pad = o->count_include_pad;
    s->N = x->dims[0], s->H = x->dims[1], s->W = x->dims[2], s->C = x->dims[3];
    s->KH = o->filter_h, s->KW = o->filter_w, s->sh = o->stride_h, s->sw = o->stride_w;
    s->dh = o->dilation_h, s->dw = o->dilation_w;
    s->pt = o->pad_top, s->pl = o->pad_left, s->pb = o->pad_bottom, s->pr = o->pad_right;
    s->OH = qlite_nn_window_out(s->H, s->KH, s->sh, s->dh, s->pt, s->pb, o->ceil_mode);
    s->OW = qlite_nn_window_out(s->W, s->KW, s->sw, s->dw, s->pl, s->pr, o->ceil_mode);
    if (o->ceil_mode && s->OH > 1 && (s->OH - 1) * s->sh >= s->H + s->pt) s->OH--;
    if (o->ceil_mode && s->OW > 1 && (s->OW - 1) * s->sw >= s->W + s->pl) s->OW--;
    if (s->OH < 1 || s->OW < 1)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "no output: input %lldx%lld, filter %lldx%lld, stride %lldx%lld, "
                                "dilation %lldx%lld, pads %d,%d,%d,%d",
                                (long long)s->H, (long long)s->W, (long long)s->KH,
                                (long long)s->KW, (long long)s->sh, (long long)s->sw,
                                (long long)s->dh, (long long)s->dw, o->pad_top, o->pad_left,
                                o->pad_bottom, o->pad_right);
    if (!qlite_nn_activation(o->activation, &s->lo, &s->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o->activation);
    if ((st = qlite_node_set_output_shape(node, 0, 4, (int64_t[]){s->N, s->OH, s->OW, s->C})))
        return st;
    s->isa = pool_select_isa();
    node->state = s;
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_max_pool_2d = {
    .prepare = pool_prepare,
    .eval = qlite_eval_dispatch,
};

const qlite_kernel qlite_kernel_average_pool_2d = {
    .prepare = pool_prepare,
    .eval = qlite_eval_dispatch,
};
