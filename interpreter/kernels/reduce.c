/*
 * reduce.c — float32 REDUCE_MEAN, REDUCE_SUM, REDUCE_MAX, REDUCE_MIN over
 * ReduceOptions axes (none = all axes), keep_dims. They also implement
 * GlobalAveragePool / GlobalMaxPool (axes [1, 2] of NHWC).
 *
 * prepare collapses the input: dims of size 1 are dropped and neighbouring
 * dims that are both reduced (or both kept) are merged. Then
 *   - nothing left to reduce: a copy;
 *   - one reduced run, [outer, R, inner]: inner == 1 sums contiguous rows
 *     (split over threads); inner > 1 adds R rows of `inner` values into an
 *     accumulator row (contiguous, vectorizable) — mean over H,W of NHWC is
 *     this case with inner = C;
 *   - otherwise a general walk over the input with an odometer.
 * Sums accumulate in double (mean = sum / count, rounded once). MAX/MIN
 * propagate NaN. An empty reduction gives sum 0, mean NaN, max -inf, min +inf.
 *
 * int8/uint8 (docs/quantization.md §4.5), same paths with int32 accumulators
 * (exact: prepare refuses sums of more than 2^23 values), then one output
 * stage per output element:
 *   MEAN     y = clamp(zy + requantize(sum(x) - N zx, sx / (sy N)))
 *   SUM      y = clamp(zy + requantize(sum(x) - N zx, sx / sy))
 *   MAX/MIN  y = clamp(zy + requantize(max(x) - zx, sx / sy))   (requantize is
 *            monotonic, so this is the max of the rescaled values; with equal
 *            parameters in and out it is max(x) exactly)
 * Mean over H, W of NHWC (global average pooling) is the column path: one
 * int32 accumulator per channel, rows of C added in turn. An empty
 * reduction gives what QUANTIZE makes of the float result: sum and mean the
 * zero point, max qmin, min qmax.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"

enum { RED_SUM, RED_MEAN, RED_MAX, RED_MIN };

typedef struct reduce_state {
    qlite_eval_fn eval;                /* float or int8 eval (first: qlite_eval_dispatch) */
    int kind;                          /* RED_* */
    uint32_t rank;                     /* collapsed */
    int64_t dims[QLITE_MAX_RANK];
    bool reduced[QLITE_MAX_RANK];
    size_t in_count, out_count, red_count;
    int path;                          /* PATH_* */
    size_t outer, r, inner;            /* PATH_ROWS / PATH_COLS */
    /* int8 / uint8 */
    bool is_signed;
    int32_t offset;                    /* subtracted from an accumulator: N zx or zx */
    int32_t m, shift;                  /* output multiplier */
    int32_t zy, qmin, qmax;            /* output zero point and dtype range */
    int32_t empty_q;                   /* output code of an empty reduction */
    uint8_t copy_table[256];           /* PATH_COPY: x rescaled to the output */
} reduce_state;

enum { PATH_COPY, PATH_ROWS, PATH_COLS, PATH_GENERAL };

static int reduce_kind(qlite_op_code code) {
    switch (code) {
    case QLITE_OP_REDUCE_SUM: return RED_SUM;
    case QLITE_OP_REDUCE_MEAN: return RED_MEAN;
    case QLITE_OP_REDUCE_MAX: return RED_MAX;
    default: return RED_MIN;
    }
}

static qlite_status reduce_eval_f32(qlite_node *node);
static qlite_status reduce_eval_q8(qlite_node *node);
static qlite_status reduce_prepare_q8(qlite_node *node, reduce_state *s);

static qlite_status reduce_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    const bool q8 = qlite_is_q8(x->dtype);
    if ((!q8 && (st = qlite_node_check_dtype(node, x, "input", QLITE_DTYPE_FLOAT32)) != QLITE_OK) ||
        (st = qlite_node_check_same_dtype(node, x, "input", node->outputs[0], "output")) !=
            QLITE_OK)
        return st;
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_REDUCE)) != QLITE_OK) return st;
    const qlite_reduce_options *o = &node->opts->u.reduce;
    if (o->count > 0 && !o->axes)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "axes missing");

    bool red[QLITE_MAX_RANK] = {false};
    if (o->count == 0) {
        for (uint32_t i = 0; i < x->rank; i++) red[i] = true;
    } else {
        for (uint32_t k = 0; k < o->count; k++) {
            uint32_t a;
            if (!qlite_normalize_axis(o->axes[k], x->rank, &a))
                return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                        "axis %d is out of range for rank %u", o->axes[k],
                                        x->rank);
            if (red[a])
                return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                        "axis %d appears twice", o->axes[k]);
            red[a] = true;
        }
    }
    int64_t od[QLITE_MAX_RANK];
    uint32_t orank = 0;
    for (uint32_t i = 0; i < x->rank; i++) {
        if (!red[i]) od[orank++] = x->dims[i];
        else if (o->keep_dims) od[orank++] = 1;
    }
    if ((st = qlite_node_set_output_shape(node, 0, orank, od)) != QLITE_OK) return st;

    reduce_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = q8 ? reduce_eval_q8 : reduce_eval_f32;
    s->kind = reduce_kind(node->op->code);
    s->in_count = qlite_tensor_elements(x);
    s->out_count = 1;
    s->red_count = 1;
    for (uint32_t i = 0; i < x->rank; i++) {
        if (red[i]) s->red_count *= (size_t)x->dims[i];
        else s->out_count *= (size_t)x->dims[i];
        if (x->dims[i] == 1) continue;
        if (s->rank > 0 && s->reduced[s->rank - 1] == red[i]) {
            s->dims[s->rank - 1] *= x->dims[i];
        } else {
            s->dims[s->rank] = x->dims[i];
            s->reduced[s->rank] = red[i];
            s->rank++;
        }
    }
    uint32_t runs = 0, first = 0;
    for (uint32_t i = 0; i < s->rank; i++)
        if (s->reduced[i]) runs++, first = i;
    if (runs == 0) {
        s->path = PATH_COPY;
    } else if (runs == 1) {
        s->outer = first > 0 ? (size_t)s->dims[0] : 1;
        s->r = (size_t)s->dims[first];
        s->inner = first + 1 < s->rank ? (size_t)s->dims[first + 1] : 1;
        s->path = s->inner == 1 ? PATH_ROWS : PATH_COLS;
        if (s->path == PATH_COLS && s->kind <= RED_MEAN)
            node->scratch_bytes = s->inner * sizeof(double);
    } else {
        s->path = PATH_GENERAL;
        if (s->kind <= RED_MEAN) node->scratch_bytes = s->out_count * sizeof(double);
    }
    if (q8 && (st = reduce_prepare_q8(node, s)) != QLITE_OK) return st;
    node->state = s;
    return QLITE_OK;
}

typedef struct reduce_job {
    const reduce_state *s;
    const float *x;
    float *y;
} reduce_job;

static inline float fmax_nan(float m, float v) { return (v > m || v != v) ? v : m; }
static inline float fmin_nan(float m, float v) { return (v < m || v != v) ? v : m; }

/* PATH_ROWS: y[o] = reduce(x[o*r .. o*r + r)). */
static void reduce_rows(void *arg, size_t begin, size_t end) {
    const reduce_job *j = arg;
    const reduce_state *s = j->s;
    const size_t r = s->r;
    for (size_t o = begin; o < end; o++) {
        const float *x = j->x + o * r;
        if (s->kind == RED_MAX || s->kind == RED_MIN) {
            float m = s->kind == RED_MAX ? -INFINITY : INFINITY;
            if (s->kind == RED_MAX)
                for (size_t i = 0; i < r; i++) m = fmax_nan(m, x[i]);
            else
                for (size_t i = 0; i < r; i++) m = fmin_nan(m, x[i]);
            j->y[o] = m;
        } else {
            /* eight independent double lanes: accurate and vectorizable */
            double acc[8] = {0};
            size_t i = 0;
            for (; i + 8 <= r; i += 8)
                for (size_t k = 0; k < 8; k++) acc[k] += (double)x[i + k];
            double sum = 0.0;
            for (; i < r; i++) sum += (double)x[i];
            sum += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            j->y[o] = (float)(s->kind == RED_MEAN ? sum / (double)r : sum);
        }
    }
}

/* PATH_COLS: y[o, :] = reduce over r of x[o, r, :], for the inner (channel)
 * positions [k0, k1) (threads split them; acc is indexed by position too). */
static void reduce_cols(const reduce_state *s, const float *xs, float *ys, double *acc,
                        size_t k0, size_t k1) {
    const size_t r = s->r, inner = k1 - k0;
    acc += k0;
    for (size_t o = 0; o < s->outer; o++) {
        const float *x = xs + o * r * s->inner + k0;
        float *y = ys + o * s->inner + k0;
        if (s->kind == RED_MAX || s->kind == RED_MIN) {
            const float init = s->kind == RED_MAX ? -INFINITY : INFINITY;
            for (size_t k = 0; k < inner; k++) y[k] = init;
            for (size_t i = 0; i < r; i++, x += s->inner) {
                if (s->kind == RED_MAX)
                    for (size_t k = 0; k < inner; k++) y[k] = fmax_nan(y[k], x[k]);
                else
                    for (size_t k = 0; k < inner; k++) y[k] = fmin_nan(y[k], x[k]);
            }
        } else {
            for (size_t k = 0; k < inner; k++) acc[k] = 0.0;
            for (size_t i = 0; i < r; i++, x += s->inner)
                for (size_t k = 0; k < inner; k++) acc[k] += (double)x[k];
            const double scale = s->kind == RED_MEAN ? 1.0 / (double)r : 1.0;
            if (s->kind == RED_MEAN && r == 0)
                for (size_t k = 0; k < inner; k++) y[k] = NAN;
            else
                for (size_t k = 0; k < inner; k++) y[k] = (float)(acc[k] * scale);
        }
    }
}

typedef struct reduce_cols_job {
    const reduce_state *s;
    const void *x;
    void *y;
    void *acc; /* scratch: one accumulator per inner position */
} reduce_cols_job;

static void reduce_cols_range(void *arg, size_t begin, size_t end) {
    const reduce_cols_job *j = arg;
    reduce_cols(j->s, j->x, j->y, j->acc, begin, end);
}

/* PATH_GENERAL: walk every input element; its output offset drops reduced coords. */
static void reduce_general(const reduce_state *s, const float *x, float *y, double *acc) {
    int64_t ostride[QLITE_MAX_RANK], coord[QLITE_MAX_RANK] = {0};
    int64_t st = 1;
    for (uint32_t i = s->rank; i-- > 0;) {
        ostride[i] = s->reduced[i] ? 0 : st;
        if (!s->reduced[i]) st *= s->dims[i];
    }
    const bool sum = s->kind <= RED_MEAN;
    const float init = s->kind == RED_MAX ? -INFINITY : INFINITY;
    for (size_t i = 0; i < s->out_count; i++) {
        if (sum) acc[i] = 0.0;
        else y[i] = init;
    }
    const uint32_t last = s->rank - 1;
    const size_t n_last = (size_t)s->dims[last];
    const size_t os_last = (size_t)ostride[last];
    size_t off = 0;
    for (size_t pos = 0; pos < s->in_count; pos += n_last) {
        const float *xr = x + pos;
        for (size_t k = 0; k < n_last; k++) {
            size_t oi = off + k * os_last;
            if (sum) acc[oi] += (double)xr[k];
            else if (s->kind == RED_MAX) y[oi] = fmax_nan(y[oi], xr[k]);
            else y[oi] = fmin_nan(y[oi], xr[k]);
        }
        for (uint32_t d = last; d-- > 0;) { /* odometer over the outer dims */
            coord[d]++;
            off += (size_t)ostride[d];
            if (coord[d] < s->dims[d]) break;
            off -= (size_t)(ostride[d] * coord[d]);
            coord[d] = 0;
        }
    }
    if (sum) {
        const double scale = s->kind == RED_MEAN ? 1.0 / (double)s->red_count : 1.0;
        for (size_t i = 0; i < s->out_count; i++) y[i] = (float)(acc[i] * scale);
    }
}

/*
 * Cost of an output row / channel for qlite_kernel_parallel: 2 units per byte read
 * (n elements of es bytes), so from ~32 KiB read two threads split the outputs. A
 * serial reduction at 2 threads reads the part of its input the other core wrote
 * (threadpool.c: the worker writes the back part of every op) at ~7 ns a line:
 * MobileNetV2's global average pool (7x7x1280, 62720 elements, below the threshold at
 * 1 unit an element) took 1.1-1.3x its 1-thread time at 2 threads. Split by channels
 * it reads what the 7x7 convolution before it wrote on the same thread (its few
 * pixels are split by output channels, the front ones on the caller).
 */
#define RED_COST(n, es) ((n) * (es) * 2 + 1)

/*
 * The int8 columns path runs on threads only from this many bytes read. Below it the
 * split does not pay: the int8 transformer's mean over its 128 tokens (128 x 256 codes,
 * 32 KiB, just over the cost threshold at 256 x 257 units) took 1.25-1.4x its serial
 * time at 2 threads (each thread reads half the columns of every token, and the tokens
 * were written split between the cores), while MobileNetV2's int8 pool (7 x 7 x 1280,
 * 61 KiB) was 1.0-1.2x faster threaded than serial. Same sums in any split: same bits.
 */
#define RED_Q8_COLS_MIN ((size_t)48 << 10)

static qlite_status reduce_eval_f32(qlite_node *node) {
    const reduce_state *s = node->state;
    const float *x = node->inputs[0]->data;
    float *y = node->outputs[0]->data;
    if (s->out_count == 0) return QLITE_OK;
    switch (s->path) {
    case PATH_COPY:
        if (y != x) memmove(y, x, s->out_count * sizeof *y);
        break;
    case PATH_ROWS: {
        reduce_job j = {s, x, y};
        if (s->r == 0) {
            for (size_t o = 0; o < s->outer; o++)
                y[o] = s->kind == RED_SUM ? 0.0f : s->kind == RED_MEAN ? NAN
                       : s->kind == RED_MAX ? -INFINITY : INFINITY;
            break;
        }
        qlite_kernel_parallel(node, s->outer, RED_COST(s->r, sizeof(float)), reduce_rows, &j);
        break;
    }
    case PATH_COLS: {
        reduce_cols_job j = {s, x, y, node->scratch};
        qlite_kernel_parallel(node, s->inner, RED_COST(s->outer * s->r, sizeof(float)),
                              reduce_cols_range, &j);
        break;
    }
    default: reduce_general(s, x, y, node->scratch); break;
    }
    return QLITE_OK;
}

/* ---------------------------------------------------------------- */
/* int8 / uint8                                                      */
/* ---------------------------------------------------------------- */

/* Largest reduction whose sum of |x - zx| <= 255 per value fits int32. */
#define REDUCE_Q8_MAX_SUM ((size_t)1 << 23)

static qlite_status reduce_prepare_q8(qlite_node *node, reduce_state *s) {
    qlite_status st;
    qlite_q8 qx, qy;
    if ((st = qlite_q8_params(node, node->inputs[0], "input", &qx)) != QLITE_OK ||
        (st = qlite_q8_params(node, node->outputs[0], "output", &qy)) != QLITE_OK)
        return st;
    const bool sum = s->kind == RED_SUM || s->kind == RED_MEAN;
    if (sum && s->red_count > REDUCE_Q8_MAX_SUM)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "the integer kernel sums at most 2^23 values (%zu here)",
                                s->red_count);
    s->is_signed = qx.is_signed;
    s->zy = qy.zero_point;
    s->qmin = qy.qmin;
    s->qmax = qy.qmax;
    s->offset = sum ? (int32_t)s->red_count * qx.zero_point : qx.zero_point;
    s->empty_q = s->kind == RED_MAX ? qy.qmin : s->kind == RED_MIN ? qy.qmax : qy.zero_point;
    if (s->red_count == 0) return QLITE_OK; /* eval writes empty_q */
    double m = (double)qx.scale / (double)qy.scale;
    if (s->kind == RED_MEAN) m = (double)qx.scale / ((double)qy.scale * (double)s->red_count);
    if ((st = qlite_node_multiplier(node, m,
                                    s->kind == RED_MEAN ? "input / (output * count)"
                                                        : "input / output",
                                    &s->m, &s->shift)) != QLITE_OK)
        return st;
    if (s->path == PATH_COPY) {
        /* every reduced dim has size 1: one value per output, a rescale */
        for (int b = 0; b < 256; b++)
            s->copy_table[b] = (uint8_t)qlite_q8_out(qlite_q8_decode((uint8_t)b, s->is_signed) -
                                                         qx.zero_point,
                                                     s->m, s->shift, s->zy, s->qmin, s->qmax);
    }
    /* int32 accumulators replace the float path's double ones */
    node->scratch_bytes = s->path == PATH_COLS      ? s->inner * sizeof(int32_t)
                          : s->path == PATH_GENERAL ? s->out_count * sizeof(int32_t)
                                                    : 0;
    return QLITE_OK;
}

static inline uint8_t reduce_q8_out(const reduce_state *s, int32_t acc) {
    return (uint8_t)qlite_q8_out(acc - s->offset, s->m, s->shift, s->zy, s->qmin, s->qmax);
}

/* The three paths for one element type T (int8_t or uint8_t). */
#define REDUCE_Q8_PATHS(T, sfx)                                                              \
    static void rows_##sfx(const reduce_state *s, const T *x, uint8_t *y, size_t begin,    \
                           size_t end) {                                                    \
        const size_t r = s->r;                                                              \
        for (size_t o = begin; o < end; o++) {                                              \
            const T *xr = x + o * r;                                                        \
            int32_t acc;                                                                    \
            if (s->kind == RED_MAX) {                                                       \
                acc = xr[0];                                                                \
                for (size_t i = 1; i < r; i++) acc = xr[i] > acc ? xr[i] : acc;             \
            } else if (s->kind == RED_MIN) {                                                \
                acc = xr[0];                                                                \
                for (size_t i = 1; i < r; i++) acc = xr[i] < acc ? xr[i] : acc;             \
            } else {                                                                        \
                acc = 0;                                                                    \
                for (size_t i = 0; i < r; i++) acc += xr[i];                                \
            }                                                                               \
            y[o] = reduce_q8_out(s, acc);                                                   \
        }                                                                                   \
    }                                                                                       \
    static void cols_##sfx(const reduce_state *s, const T *xs, uint8_t *ys, int32_t *acc,   \
                           size_t k0, size_t k1) {                                          \
        const size_t r = s->r, inner = k1 - k0, stride = s->inner;                          \
        acc += k0;                                                                          \
        for (size_t o = 0; o < s->outer; o++) {                                             \
            const T *x = xs + o * r * stride + k0;                                          \
            uint8_t *y = ys + o * stride + k0;                                              \
            if (s->kind == RED_MAX || s->kind == RED_MIN) {                                 \
                for (size_t k = 0; k < inner; k++) acc[k] = x[k];                           \
                for (size_t i = 1; i < r; i++) {                                            \
                    const T *xi = x + i * stride;                                           \
                    if (s->kind == RED_MAX)                                                 \
                        for (size_t k = 0; k < inner; k++)                                  \
                            acc[k] = xi[k] > acc[k] ? xi[k] : acc[k];                       \
                    else                                                                    \
                        for (size_t k = 0; k < inner; k++)                                  \
                            acc[k] = xi[k] < acc[k] ? xi[k] : acc[k];                       \
                }                                                                           \
            } else {                                                                        \
                for (size_t k = 0; k < inner; k++) acc[k] = 0;                              \
                for (size_t i = 0; i < r; i++) {                                            \
                    const T *xi = x + i * stride;                                           \
                    for (size_t k = 0; k < inner; k++) acc[k] += xi[k];                     \
                }                                                                           \
            }                                                                               \
            for (size_t k = 0; k < inner; k++) y[k] = reduce_q8_out(s, acc[k]);             \
        }                                                                                   \
    }                                                                                       \
    static void general_##sfx(const reduce_state *s, const T *x, uint8_t *y, int32_t *acc) { \
        int64_t ostride[QLITE_MAX_RANK], coord[QLITE_MAX_RANK] = {0};                       \
        int64_t st = 1;                                                                     \
        for (uint32_t i = s->rank; i-- > 0;) {                                              \
            ostride[i] = s->reduced[i] ? 0 : st;                                            \
            if (!s->reduced[i]) st *= s->dims[i];                                           \
        }                                                                                   \
        const int32_t init = s->kind == RED_MAX ? INT32_MIN : s->kind == RED_MIN ? INT32_MAX \
                                                                                  : 0;      \
        for (size_t i = 0; i < s->out_count; i++) acc[i] = init;                            \
        const uint32_t last = s->rank - 1;                                                  \
        const size_t n_last = (size_t)s->dims[last];                                        \
        const size_t os_last = (size_t)ostride[last];                                       \
        size_t off = 0;                                                                     \
        for (size_t pos = 0; pos < s->in_count; pos += n_last) {                            \
            const T *xr = x + pos;                                                          \
            for (size_t k = 0; k < n_last; k++) {                                           \
                int32_t *a = &acc[off + k * os_last];                                       \
                if (s->kind == RED_MAX) *a = xr[k] > *a ? xr[k] : *a;                       \
                else if (s->kind == RED_MIN) *a = xr[k] < *a ? xr[k] : *a;                  \
                else *a += xr[k];                                                           \
            }                                                                               \
            for (uint32_t d = last; d-- > 0;) {                                             \
                coord[d]++;                                                                 \
                off += (size_t)ostride[d];                                                  \
                if (coord[d] < s->dims[d]) break;                                           \
                off -= (size_t)(ostride[d] * coord[d]);                                     \
                coord[d] = 0;                                                               \
            }                                                                               \
        }                                                                                   \
        for (size_t i = 0; i < s->out_count; i++) y[i] = reduce_q8_out(s, acc[i]);          \
    }

REDUCE_Q8_PATHS(int8_t, i8)
REDUCE_Q8_PATHS(uint8_t, u8)

typedef struct reduce_q8_job {
    const reduce_state *s;
    const void *x;
    uint8_t *y;
} reduce_q8_job;

static void reduce_q8_rows(void *arg, size_t begin, size_t end) {
    const reduce_q8_job *j = arg;
    if (j->s->is_signed) rows_i8(j->s, j->x, j->y, begin, end);
    else rows_u8(j->s, j->x, j->y, begin, end);
}

static void reduce_q8_cols_range(void *arg, size_t begin, size_t end) {
    const reduce_cols_job *j = arg;
    if (j->s->is_signed) cols_i8(j->s, j->x, j->y, j->acc, begin, end);
    else cols_u8(j->s, j->x, j->y, j->acc, begin, end);
}

static qlite_status reduce_eval_q8(qlite_node *node) {
    const reduce_state *s = node->state;
    const uint8_t *x = node->inputs[0]->data;
    uint8_t *y = node->outputs[0]->data;
    if (s->out_count == 0) return QLITE_OK;
    if (s->red_count == 0) {
        memset(y, (uint8_t)s->empty_q, s->out_count);
        return QLITE_OK;
    }
    switch (s->path) {
    case PATH_COPY:
        for (size_t i = 0; i < s->out_count; i++) y[i] = s->copy_table[x[i]];
        break;
    case PATH_ROWS: {
        reduce_q8_job j = {s, x, y};
        qlite_kernel_parallel(node, s->outer, RED_COST(s->r, 1), reduce_q8_rows, &j);
        break;
    }
    case PATH_COLS: {
        reduce_cols_job j = {s, x, y, node->scratch};
        if (s->outer * s->r * s->inner < RED_Q8_COLS_MIN)
            reduce_q8_cols_range(&j, 0, s->inner);
        else
            qlite_kernel_parallel(node, s->inner, RED_COST(s->outer * s->r, 1),
                                  reduce_q8_cols_range, &j);
        break;
    }
    default:
        if (s->is_signed) general_i8(s, (const int8_t *)x, y, node->scratch);
        else general_u8(s, x, y, node->scratch);
        break;
    }
    return QLITE_OK;
}

#define REDUCE_KERNEL(name)                  \
    const qlite_kernel qlite_kernel_##name = { \
        .prepare = reduce_prepare, .eval = qlite_eval_dispatch}

REDUCE_KERNEL(reduce_mean);
REDUCE_KERNEL(reduce_sum);
REDUCE_KERNEL(reduce_max);
REDUCE_KERNEL(reduce_min);
