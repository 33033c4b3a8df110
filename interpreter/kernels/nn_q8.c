/*
 * nn_q8.c — shared prepare-time work and hybrid helpers of the int8 /
 * hybrid compute-heavy kernels (see nn_q8.h).
 */
#include "kernels/nn_q8.h"

#include <float.h>

#include "kernels/q8_x86.h"
#include <math.h>
#include <string.h>

/* float selects (clamps, NaN tests) vectorize; qlite never relies on FP exceptions */
#if defined(__GNUC__) && !defined(__clang__)
#endif

qlite_status qlite_q8_weights_init(qlite_node *node, const qlite_tensor *w, const char *what,
                                   uint32_t axis, size_t channels, qlite_q8_weights *out) {
    if (w->dtype != QLITE_DTYPE_INT8)
        return qlite_node_error(node, QLITE_ERR_DTYPE,
                                "%s '%s' are %s; the integer kernels take int8 weights", what,
                                w->info->name, qlite_dtype_name(w->dtype));
    qlite_qparams p;
    qlite_status st = qlite_qparams_init(node, w, what, -128, 127, &p);
    if (st != QLITE_OK) return st;
    const qlite_quant *q = w->info->quant;
    out->channels = channels;
    out->per_channel = q->count > 1;
    if (out->per_channel) {
        uint32_t ax = 0;
        qlite_normalize_axis(q->axis, w->rank, &ax); /* checked by qlite_qparams_init */
        if (ax != axis || q->count != channels)
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                    "%s '%s' are quantized along axis %d (%u scales); this op "
                                    "takes one scale per tensor or %zu along axis %u",
                                    what, w->info->name, q->axis, q->count, channels, axis);
    }
    out->scale = q->scale;
    out->zp = q->zero_point;
    out->any_zp = false;
    for (uint32_t c = 0; c < q->count; c++) out->any_zp |= q->zero_point[c] != 0;
    return QLITE_OK;
}

qlite_status qlite_q8_check_acc(qlite_node *node, size_t K, const qlite_q8_weights *w,
                                int64_t max_abs_bias) {
    int64_t wmax = 0;
    const size_t n = w->per_channel ? w->channels : 1;
    for (size_t c = 0; c < n; c++) {
        const int64_t z = w->zp[c], m = 128 + (z < 0 ? -z : z);
        wmax = m > wmax ? m : wmax;
    }
    const double bound = (double)max_abs_bias + (double)K * 255.0 * (double)wmax;
    if (bound > (double)INT32_MAX)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "a reduction over %zu values (|bias| up to %lld) may overflow the "
                                "int32 accumulator",
                                K, (long long)max_abs_bias);
    return QLITE_OK;
}

qlite_status qlite_hybrid_check_acc(qlite_node *node, size_t K, const qlite_q8_weights *w) {
    return qlite_q8_check_acc(node, K, w, (int64_t)K * 255 * 128);
}

qlite_status qlite_q8_cols_build(qlite_node *node, size_t N, const qlite_q8_weights *w, float sx,
                                 int32_t zu, const qlite_q8 *y, qlite_activation act,
                                 const int32_t *bias32, const int64_t *wsum, size_t K,
                                 qlite_q8_cols *cols) {
    const size_t len = qlite_q8_cols_len(N);
    int32_t *bias = qlite_node_alloc(node, len * sizeof(int32_t));
    int32_t *mult = qlite_node_alloc(node, len * sizeof(int32_t));
    int32_t *lsh = qlite_node_alloc(node, len * sizeof(int32_t));
    int32_t *rsh = qlite_node_alloc(node, len * sizeof(int32_t));
    int32_t *zw = w->any_zp ? qlite_node_alloc(node, len * sizeof(int32_t)) : NULL;
    if (!bias || !mult || !lsh || !rsh || (w->any_zp && !zw))
        return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    memset(cols, 0, sizeof *cols);
    for (size_t c = 0; c < N; c++) {
        const double m = (double)sx * (double)qlite_q8_wscale(w, c) / (double)y->scale;
        int32_t m0, shift;
        qlite_status st = qlite_node_multiplier(node, m, "input scale x weight scale / output "
                                                "scale", &m0, &shift);
        if (st != QLITE_OK) return st;
        mult[c] = m0;
        lsh[c] = shift > 0 ? shift : 0;
        rsh[c] = shift > 0 ? 0 : -shift;
        cols->any_lshift |= shift > 0;
        const int64_t z = qlite_q8_wzp(w, c);
        const int64_t fb = (bias32 ? bias32[c] : 0) - (int64_t)zu * wsum[c] + (int64_t)K * zu * z;
        if (fb < INT32_MIN || fb > INT32_MAX)
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                    "channel %zu: the folded bias %lld does not fit int32", c,
                                    (long long)fb);
        bias[c] = (int32_t)fb;
        if (zw) zw[c] = (int32_t)z;
    }
    cols->bias = bias;
    cols->zw = zw;
    cols->mult = mult;
    cols->lshift = lsh;
    cols->rshift = rsh;
    cols->zy = y->zero_point;
    qlite_activation_qrange(act, y->scale, y->zero_point,
                            y->is_signed ? QLITE_DTYPE_INT8 : QLITE_DTYPE_UINT8, &cols->lo,
                            &cols->hi);
    return QLITE_OK;
}

qlite_status qlite_q8_bias_init(qlite_node *node, const qlite_tensor *b, size_t N,
                                const int32_t **out, int64_t *max_abs) {
    *out = NULL;
    *max_abs = 0;
    if (!b) return QLITE_OK;
    if (b->dtype != QLITE_DTYPE_INT32)
        return qlite_node_error(node, QLITE_ERR_DTYPE,
                                "bias '%s' is %s; the integer kernels take int32 bias",
                                b->info->name, qlite_dtype_name(b->dtype));
    if (b->rank != 1 || (size_t)b->dims[0] != N)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%zu]", b->info->name, N);
    if (!b->is_const)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "bias '%s' is not a constant (the integer kernels fold it at "
                                "prepare)",
                                b->info->name);
    const int32_t *v = b->data;
    for (size_t c = 0; c < N; c++) {
        const int64_t a = v[c] < 0 ? -(int64_t)v[c] : v[c];
        *max_abs = a > *max_abs ? a : *max_abs;
    }
    *out = v;
    return QLITE_OK;
}

/* ---------------------------------------------------------------- */
/* One threaded GEMM                                                 */
/* ---------------------------------------------------------------- */

/* Columns per work item of the dot algorithm (a multiple of 16). */
#define DOT_COLS 64

typedef struct gemm_job {
    const qlite_q8_gemm *g;
    size_t row_tiles, panels;
    bool split_rows;
} gemm_job;

static void dot_range(void *arg, size_t begin, size_t end) {
    const qlite_q8_gemm *g = ((const gemm_job *)arg)->g;
    const size_t n0 = begin * DOT_COLS, n1 = end * DOT_COLS < g->N ? end * DOT_COLS : g->N;
    qlite_gemm_q8_dot_rows(g->uk, g->M, g->K, g->a, g->lda, g->rowsum, g->w, g->ldw, n0, n1,
                           g->cols, g->c, g->ldc, g->mode);
    if (g->finish) g->finish(g->finish_ctx, 0, g->M, n0, n1);
}

static void pack_range(void *arg, size_t begin, size_t end) {
    const qlite_q8_gemm *g = ((const gemm_job *)arg)->g;
    qlite_gemm_q8_pack(g->K, g->N, g->w, g->ldw, g->w_trans, g->flip, begin, end, g->packed,
                       NULL);
}

/* Rows [m0, m1) of the GEMM, columns [n0, n1) (cols seen from n0), through ws (NULL: none)
 * in chunks of at most g->ws_rows rows. */
static void tiles_rows(const qlite_q8_gemm *g, size_t m0, size_t m1, size_t n0, size_t n1,
                       const qlite_q8_cols *cols, void *ws) {
    const size_t es = g->mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    const size_t step = ws && g->ws_rows ? g->ws_rows : m1 - m0;
    for (size_t m = m0; m < m1; m += step) {
        const size_t r = m1 - m < step ? m1 - m : step;
        qlite_gemm_q8_tiles_ws(g->uk, r, n1 - n0, g->K, g->a + m * g->lda, g->lda,
                               g->packed + n0 * qlite_gemm_q8_k4(g->K), cols,
                               g->rowsum ? g->rowsum + m : NULL,
                               (uint8_t *)g->c + (m * g->ldc + n0) * es, g->ldc, g->mode, ws);
    }
}

/* ws: the running thread's workspace or NULL */
static void tiles_run(const gemm_job *j, size_t begin, size_t end, void *ws) {
    const qlite_q8_gemm *g = j->g;
    if (j->split_rows) {
        const size_t mr = g->uk->mr, m0 = begin * mr, m1 = end * mr < g->M ? end * mr : g->M;
        tiles_rows(g, m0, m1, 0, g->N, g->cols, ws);
        if (g->finish) g->finish(g->finish_ctx, m0, m1, 0, g->N);
    } else {
        const size_t nr = g->uk->nr, n0 = begin * nr, n1 = end * nr < g->N ? end * nr : g->N;
        const qlite_q8_cols cols = qlite_q8_cols_from(g->cols, n0);
        tiles_rows(g, 0, g->M, n0, n1, &cols, ws);
        if (g->finish) g->finish(g->finish_ctx, 0, g->M, n0, n1);
    }
}

static void tiles_range(void *arg, size_t begin, size_t end) {
    tiles_run(arg, begin, end, NULL);
}

static void tiles_range_ws(void *arg, int thread, size_t begin, size_t end) {
    const gemm_job *j = arg;
    tiles_run(j, begin, end, j->g->ws + (size_t)thread * j->g->ws_stride);
}

void qlite_q8_gemm_run(const qlite_node *node, const qlite_q8_gemm *g) {
    if (g->M == 0 || g->N == 0) return;
    gemm_job j = {.g = g};
    if (!g->prepacked && qlite_q8_gemm_dot(g->M, g->w_trans, g->flip)) {
        qlite_kernel_parallel(node, (g->N + DOT_COLS - 1) / DOT_COLS, DOT_COLS * g->K * g->M / 8,
                              dot_range, &j);
        return;
    }
    const size_t blocks = (g->N + 15) / 16;
    if (!g->prepacked) qlite_kernel_parallel(node, blocks, 16 * g->K, pack_range, &j);
    j.row_tiles = (g->M + g->uk->mr - 1) / g->uk->mr;
    j.panels = (g->N + g->uk->nr - 1) / g->uk->nr;
    const size_t threads = (size_t)qlite_node_threads(node);
    j.split_rows = j.row_tiles >= 2 * threads || j.row_tiles >= j.panels;
    const size_t items = j.split_rows ? j.row_tiles : j.panels;
    const size_t per = (g->M * g->N * g->K / 8) / (items ? items : 1);
    if (g->ws) /* per-thread workspaces: the range is told its thread */
        qlite_kernel_parallel_thread(node, items, per, tiles_range_ws, &j);
    else
        qlite_kernel_parallel(node, items, per, tiles_range, &j);
}

/* ---------------------------------------------------------------- */
/* Hybrid                                                            */
/* ---------------------------------------------------------------- */

#ifdef QLITE_Q8_X86
/*
 * AVX-512 forms of the three hybrid helpers below: the same IEEE operations
 * on 16 lanes (compares and blends for the selects, no contraction), so the
 * same bits; chosen per call within the q8 feature cap, tails in scalar.
 */
Q8_AVX512 static size_t hybrid_range16(const float *x, size_t n, float *lo_io, float *hi_io) {
    __m512 lo = _mm512_set1_ps(*lo_io), hi = _mm512_set1_ps(*hi_io);
    const __m512 fmax = _mm512_set1_ps(FLT_MAX), fmin = _mm512_set1_ps(-FLT_MAX);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __mmask16 ml = _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ) &
                             _mm512_cmp_ps_mask(v, fmin, _CMP_GE_OQ);
        const __mmask16 mh = _mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ) &
                             _mm512_cmp_ps_mask(v, fmax, _CMP_LE_OQ);
        lo = _mm512_mask_mov_ps(lo, ml, v);
        hi = _mm512_mask_mov_ps(hi, mh, v);
    }
    *lo_io = _mm512_reduce_min_ps(lo);
    *hi_io = _mm512_reduce_max_ps(hi);
    return i;
}

Q8_AVX512 static size_t hybrid_apply16(const float *x, size_t n, float inv, int32_t zp,
                                       uint8_t *out, int32_t *total) {
    const __m512 vinv = _mm512_set1_ps(inv), m256 = _mm512_set1_ps(-256.0f);
    const __m512 p256 = _mm512_set1_ps(256.0f), magic = _mm512_set1_ps(12582912.0f);
    const __m512i vzp = _mm512_set1_epi32(zp), qlo = _mm512_set1_epi32(-128);
    const __m512i qhi = _mm512_set1_epi32(127), off = _mm512_set1_epi32(128);
    __m512i sum = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), vinv);
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, m256, _CMP_GT_OQ), m256, v); /* NaN: -256 */
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, p256, _CMP_LT_OQ), p256, v);
        v = _mm512_sub_ps(_mm512_add_ps(v, magic), magic);
        __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(v), vzp);
        q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, qlo), qhi), off);
        _mm_storeu_si128((__m128i *)(void *)(out + i), _mm512_cvtepi32_epi8(q));
        sum = _mm512_add_epi32(sum, q);
    }
    *total = _mm512_reduce_add_epi32(sum);
    return i;
}

Q8_AVX512 static size_t hybrid_finish16(const qlite_hybrid_cols *hc, size_t n0, size_t n1,
                                        float su, int32_t zu, const int32_t *acc, float *y) {
    const __m512 vsu = _mm512_set1_ps(su), lo = _mm512_set1_ps(hc->lo);
    const __m512 hi = _mm512_set1_ps(hc->hi);
    const __m512i vzu = _mm512_set1_epi32(zu);
    size_t c = n0;
    for (; c + 16 <= n1; c += 16) {
        const __m512i a = _mm512_loadu_si512(acc + c); /* read before y's store (may alias) */
        const __m512i d =
            _mm512_sub_epi32(a, _mm512_mullo_epi32(vzu, _mm512_loadu_si512(hc->wsum + c)));
        const __m512 sc = _mm512_mul_ps(vsu, _mm512_loadu_ps(hc->wscale + c));
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(d), sc);
        if (hc->bias) v = _mm512_add_ps(v, _mm512_loadu_ps(hc->bias + c));
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), lo);
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ), hi);
        _mm512_storeu_ps(y + c, v);
    }
    return c;
}

static bool hybrid_avx512(void) { return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) != 0; }
#endif

/* [lo, hi] of the finite values of x[0, n) and 0. The selects keep the first
 * of equal values and never take -0.0 over 0.0, so the result of any split
 * of x combined with the same selects (hybrid_params_parallel) is the same
 * pair of floats. */
static void hybrid_range(const float *x, size_t n, float *lo_out, float *hi_out) {
    float lo = 0.0f, hi = 0.0f;
    size_t i0 = 0;
#ifdef QLITE_Q8_X86
    if (n >= 16 && hybrid_avx512()) i0 = hybrid_range16(x, n, &lo, &hi);
#endif
    for (size_t i = i0; i < n; i++) { /* NaN and +-inf fail the tests: left out */
        const float v = x[i];
        lo = v < lo && v >= -FLT_MAX ? v : lo;
        hi = v > hi && v <= FLT_MAX ? v : hi;
    }
    *lo_out = lo;
    *hi_out = hi;
}

/* Scale and uint8 zero point of the range [lo, hi] (which holds 0). */
static float hybrid_params_of(float lo, float hi, int32_t *zu) {
    /* docs §2.1 with the int8 range (qlite_choose_asymmetric's arithmetic) */
    const double s = ((double)hi - (double)lo) / 255.0;
    float fs = 1.0f;
    int32_t zp = 0;
    if (s >= (double)FLT_MIN) {
        fs = (float)s;
        const float z = qlite_round_half_even((float)(-128.0 - (double)lo / (double)fs));
        zp = z < -128.0f ? -128 : (z > 127.0f ? 127 : (int32_t)z);
    }
    *zu = zp + 128;
    return fs;
}

float qlite_hybrid_params(const float *x, size_t n, int32_t *zu) {
    float lo, hi;
    hybrid_range(x, n, &lo, &hi);
    return hybrid_params_of(lo, hi, zu);
}

/* qlite_hybrid_params_parallel: x cut into PARAM_SLICES equal slices, each
 * slice's range in its own slot, combined in slice order. */
#define PARAM_SLICES 16
#define PARAM_MIN_PER_THREAD 16384 /* floats: below, one thread (~2 us of range) */

typedef struct params_job {
    const float *x;
    size_t n;
    float lo[PARAM_SLICES], hi[PARAM_SLICES];
} params_job;

static void params_range(void *arg, size_t begin, size_t end) {
    params_job *j = arg;
    for (size_t k = begin; k < end; k++) {
        const size_t a = j->n * k / PARAM_SLICES, b = j->n * (k + 1) / PARAM_SLICES;
        hybrid_range(j->x + a, b - a, &j->lo[k], &j->hi[k]);
    }
}

float qlite_hybrid_params_parallel(const qlite_node *node, const float *x, size_t n,
                                   int32_t *zu) {
    const int threads = qlite_node_threads(node);
    if (threads < 2 || n / (size_t)threads < PARAM_MIN_PER_THREAD || n > SIZE_MAX / PARAM_SLICES)
        return qlite_hybrid_params(x, n, zu);
    params_job j = {.x = x, .n = n};
    qlite_parallel_for(node, PARAM_SLICES, params_range, &j);
    float lo = 0.0f, hi = 0.0f;
    for (size_t k = 0; k < PARAM_SLICES; k++) {
        lo = j.lo[k] < lo ? j.lo[k] : lo;
        hi = j.hi[k] > hi ? j.hi[k] : hi;
    }
    return hybrid_params_of(lo, hi, zu);
}

/* qlite_hybrid_quantize_parallel's second half: slices of the codes, each
 * slice's sum in its own slot (integer: any order gives the same total). */
typedef struct apply_job {
    const float *x;
    size_t n;
    float scale;
    int32_t zu;
    uint8_t *out;
    int32_t sum[PARAM_SLICES];
} apply_job;

static void apply_range(void *arg, size_t begin, size_t end) {
    apply_job *j = arg;
    for (size_t k = begin; k < end; k++) {
        const size_t a = j->n * k / PARAM_SLICES, b = j->n * (k + 1) / PARAM_SLICES;
        j->sum[k] = qlite_hybrid_apply(j->x + a, b - a, j->scale, j->zu, j->out + a);
    }
}

float qlite_hybrid_quantize_parallel(const qlite_node *node, const float *x, size_t n,
                                     uint8_t *out, int32_t *zu, int32_t *sum) {
    const int threads = qlite_node_threads(node);
    if (threads < 2 || n / (size_t)threads < PARAM_MIN_PER_THREAD || n > SIZE_MAX / PARAM_SLICES)
        return qlite_hybrid_quantize(x, n, out, zu, sum);
    apply_job j = {.x = x, .n = n, .out = out};
    j.scale = qlite_hybrid_params_parallel(node, x, n, &j.zu);
    qlite_parallel_for(node, PARAM_SLICES, apply_range, &j);
    int32_t total = 0;
    for (size_t k = 0; k < PARAM_SLICES; k++) total += j.sum[k];
    if (sum) *sum = total;
    *zu = j.zu;
    return j.scale;
}

int32_t qlite_hybrid_apply(const float *x, size_t n, float scale, int32_t zu, uint8_t *out) {
    const float inv = 1.0f / scale, magic = 12582912.0f; /* 1.5 * 2^23 */
    const int32_t zp = zu - 128;
    int32_t total = 0;
    size_t i0 = 0;
#ifdef QLITE_Q8_X86
    if (n >= 16 && hybrid_avx512()) i0 = hybrid_apply16(x, n, inv, zp, out, &total);
#endif
    for (size_t i = i0; i < n; i++) {
        float v = x[i] * inv;
        v = v > -256.0f ? v : -256.0f; /* NaN -> -256 */
        v = v < 256.0f ? v : 256.0f;
        v = (v + magic) - magic; /* round half to even (|v| <= 256, default rounding) */
        int32_t q = (int32_t)v + zp;
        q = q < -128 ? -128 : q;
        q = q > 127 ? 127 : q;
        out[i] = (uint8_t)(q + 128);
        total += q + 128;
    }
    return total;
}

float qlite_hybrid_quantize(const float *x, size_t n, uint8_t *out, int32_t *zu, int32_t *sum) {
    const float fs = qlite_hybrid_params(x, n, zu);
    const int32_t total = qlite_hybrid_apply(x, n, fs, *zu, out);
    if (sum) *sum = total;
    return fs;
}

void qlite_hybrid_finish(const qlite_hybrid_cols *hc, size_t n0, size_t n1, float su, int32_t zu,
                         const int32_t *acc, float *y) {
    /* d fits int32 (qlite_hybrid_check_acc). acc usually is y's own memory: chunks of it
     * are copied to a local array first so the loops below vectorize (qlite_clampf
     * written out: this file's optimize pragma keeps header functions defined before it
     * from being inlined). */
    const int32_t *ws = hc->wsum;
    const float *sc = hc->wscale, *b = hc->bias, lo = hc->lo, hi = hc->hi;
    int32_t a[64];
#ifdef QLITE_Q8_X86
    if (n1 - n0 >= 16 && hybrid_avx512()) n0 = hybrid_finish16(hc, n0, n1, su, zu, acc, y);
#endif
    for (size_t c0 = n0; c0 < n1; c0 += 64) {
        const size_t cnt = n1 - c0 < 64 ? n1 - c0 : 64;
        memcpy(a, acc + c0, cnt * sizeof(int32_t));
        float *yc = y + c0;
        if (b) {
            for (size_t i = 0; i < cnt; i++) {
                const float v = (float)(a[i] - zu * ws[c0 + i]) * (su * sc[c0 + i]) + b[c0 + i];
                yc[i] = v < lo ? lo : (v > hi ? hi : v);
            }
        } else {
            for (size_t i = 0; i < cnt; i++) {
                const float v = (float)(a[i] - zu * ws[c0 + i]) * (su * sc[c0 + i]);
                yc[i] = v < lo ? lo : (v > hi ? hi : v);
            }
        }
    }
}

/* Both builders: sums from w with strides, or given (wsum64). */
static qlite_status hybrid_cols(qlite_node *node, size_t N, const qlite_q8_weights *wq,
                                const int8_t *w, size_t K, size_t cstride, size_t kstride,
                                const int64_t *wsum64, const float *bias, qlite_activation act,
                                qlite_hybrid_cols *hc) {
    if (wq->any_zp)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "hybrid kernels take symmetric int8 weights (zero point 0)");
    float *ws = qlite_node_alloc(node, N * sizeof(float));
    int32_t *sum = qlite_node_alloc(node, N * sizeof(int32_t));
    if (!ws || !sum) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    for (size_t c = 0; c < N; c++) {
        ws[c] = qlite_q8_wscale(wq, c);
        int32_t s = 0;
        if (wsum64) s = (int32_t)wsum64[c]; /* |sum| <= K * 128, K bounded by the caller */
        else
            for (size_t k = 0; k < K; k++) s += w[c * cstride + k * kstride];
        sum[c] = s;
    }
    hc->wscale = ws;
    hc->wsum = sum;
    hc->bias = bias;
    if (!qlite_nn_activation(act, &hc->lo, &hc->hi))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d", (int)act);
    return QLITE_OK;
}

qlite_status qlite_hybrid_cols_build(qlite_node *node, size_t N, const qlite_q8_weights *wq,
                                     const int8_t *w, size_t K, size_t cstride, size_t kstride,
                                     const float *bias, qlite_activation act,
                                     qlite_hybrid_cols *hc) {
    return hybrid_cols(node, N, wq, w, K, cstride, kstride, NULL, bias, act, hc);
}

qlite_status qlite_hybrid_cols_build_sums(qlite_node *node, size_t N,
                                          const qlite_q8_weights *wq, const int64_t *wsum,
                                          const float *bias, qlite_activation act,
                                          qlite_hybrid_cols *hc) {
    return hybrid_cols(node, N, wq, NULL, 0, 0, 0, wsum, bias, act, hc);
}

/* ---------------------------------------------------------------- */
/* Convolution geometry                                              */
/* ---------------------------------------------------------------- */

qlite_status qlite_conv_geom_init(qlite_node *node, qlite_conv_kind kind, const qlite_tensor *x,
                                  const qlite_tensor *w, const qlite_tensor *b,
                                  qlite_conv_geom *g) {
    if (node->opts->type != QLITE_OPTIONS_CONV_2D)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "options are not Conv2D");
    const qlite_conv2d_options *o = &node->opts->u.conv2d;
    qlite_status st;
    if ((st = qlite_nn_check_rank(node, x, "input", 4)) ||
        (st = qlite_nn_check_rank(node, w, "weights", 4)))
        return st;
    memset(g, 0, sizeof *g);
    g->N = x->dims[0], g->H = x->dims[1], g->W = x->dims[2], g->C = x->dims[3];
    g->KH = w->dims[1], g->KW = w->dims[2];
    g->sh = o->stride_h, g->sw = o->stride_w, g->dh = o->dilation_h, g->dw = o->dilation_w;
    g->pt = o->pad_top, g->pl = o->pad_left;
    g->act = o->activation;
    g->groups = 1;
    g->M = 1;
    if (kind == QLITE_CONV_DEPTHWISE) {
        g->O = w->dims[3];
        g->M = o->groups;
        if (g->M < 1)
            return qlite_node_error(node, QLITE_ERR_SHAPE, "depth multiplier %lld must be >= 1",
                                    (long long)g->M);
        if (w->dims[0] != 1 || g->O != g->C * g->M)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "weights '%s' must be [1, KH, KW, %lld] (channels %lld x "
                                    "multiplier %lld)",
                                    w->info->name, (long long)(g->C * g->M), (long long)g->C,
                                    (long long)g->M);
    } else {
        g->O = w->dims[0];
        g->Cg = w->dims[3];
        g->groups = o->groups;
        if (g->groups < 1 || g->C % g->groups != 0 || g->O % g->groups != 0 ||
            g->Cg * g->groups != g->C)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "weights '%s' [%lld, %lld, %lld, %lld] do not fit %lld input "
                                    "channels in %lld groups",
                                    w->info->name, (long long)g->O, (long long)g->KH,
                                    (long long)g->KW, (long long)g->Cg, (long long)g->C,
                                    (long long)g->groups);
        g->Og = g->O / g->groups;
        g->K = g->KH * g->KW * g->Cg;
    }
    if (b && (b->rank != 1 || b->dims[0] != g->O))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "bias '%s' must be [%lld]", b->info->name,
                                (long long)g->O);
    if (kind == QLITE_CONV_TRANSPOSED) {
        if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1 || g->pt < 0 || g->pl < 0 ||
            o->pad_bottom < 0 || o->pad_right < 0 || o->output_pad_h < 0 || o->output_pad_w < 0 ||
            g->KH < 1 || g->KW < 1)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "strides, dilations and kernel must be >= 1, pads >= 0");
        g->OH = g->sh * (g->H - 1) + o->output_pad_h + (g->KH - 1) * g->dh + 1 - g->pt -
                o->pad_bottom;
        g->OW = g->sw * (g->W - 1) + o->output_pad_w + (g->KW - 1) * g->dw + 1 - g->pl -
                o->pad_right;
        if (g->H < 1 || g->W < 1 || g->OH < 1 || g->OW < 1)
            return qlite_node_error(node, QLITE_ERR_SHAPE, "output would be %lldx%lld",
                                    (long long)g->OH, (long long)g->OW);
    } else {
        g->OH = qlite_nn_window_out(g->H, g->KH, g->sh, g->dh, g->pt, o->pad_bottom, false);
        g->OW = qlite_nn_window_out(g->W, g->KW, g->sw, g->dw, g->pl, o->pad_right, false);
        if (g->OH < 1 || g->OW < 1)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "no output: input %lldx%lld, kernel %lldx%lld, stride "
                                    "%lldx%lld, dilation %lldx%lld, pads %d,%d,%d,%d",
                                    (long long)g->H, (long long)g->W, (long long)g->KH,
                                    (long long)g->KW, (long long)g->sh, (long long)g->sw,
                                    (long long)g->dh, (long long)g->dw, o->pad_top, o->pad_left,
                                    o->pad_bottom, o->pad_right);
    }
    if ((unsigned)o->activation >= QLITE_ACT_COUNT)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o->activation);
    return qlite_node_set_output_shape(node, 0, 4, (int64_t[]){g->N, g->OH, g->OW, g->O});
}

qlite_status qlite_nn_variant_unsupported(qlite_node *node, const qlite_tensor *x,
                                          const qlite_tensor *w) {
    return qlite_node_error(node,
                            qlite_nn_is_numeric(x->dtype) && qlite_nn_is_numeric(w->dtype)
                                ? QLITE_ERR_UNSUPPORTED_OP
                                : QLITE_ERR_DTYPE,
                            "no kernel for %s input '%s' with %s weights '%s' (float32 x "
                            "float32, float32 x float16, float32 x int8 and int8/uint8 x int8 "
                            "are implemented)",
                            qlite_dtype_name(x->dtype), x->info->name,
                            qlite_dtype_name(w->dtype), w->info->name);
}
