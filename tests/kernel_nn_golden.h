/*
 * kernel_nn_golden.h — the golden case sets written by
 * tests/data/kernels/make_golden_nn_q8.py (layout in that script's
 * docstring) for the int8 conv / FC / matmul / pooling / resize tests.
 * Every set <s> is seven .npy files q_nn_<s>_{meta,f,ws,wz,x,w,b,y}.
 */
#ifndef QLITE_KERNEL_NN_GOLDEN_H
#define QLITE_KERNEL_NN_GOLDEN_H

#include "kernel_nn_q8_check.h"

enum {
    NNG_DTYPE = 0, NNG_ACT = 1, NNG_ZX = 2, NNG_ZY = 3, NNG_PC = 4, NNG_HAS_BIAS = 5,
    NNG_OFF_X = 6, NNG_OFF_W = 7, NNG_OFF_B = 8, NNG_OFF_Y = 9, NNG_COUNT_Y = 10,
    NNG_OFF_WS = 11, NNG_P0 = 16, NNG_COLS = 48
};

typedef struct nng_set {
    qlite_golden meta, f, ws, wz, x, w, b, y;
    size_t n;
} nng_set;

static inline void nng_load(const char *set, nng_set *g) {
    char name[64];
    const char *parts[8] = {"meta", "f", "ws", "wz", "x", "w", "b", "y"};
    qlite_golden *dst[8] = {&g->meta, &g->f, &g->ws, &g->wz, &g->x, &g->w, &g->b, &g->y};
    for (int k = 0; k < 8; k++) {
        snprintf(name, sizeof name, "q_nn_%s_%s", set, parts[k]);
        assert_true(qlite_golden_load(name, dst[k]));
    }
    assert_int_equal(g->meta.dtype, QLITE_DTYPE_INT32);
    assert_int_equal(g->meta.dims[1], NNG_COLS);
    assert_int_equal(g->f.dtype, QLITE_DTYPE_FLOAT32);
    assert_int_equal(g->x.dtype, QLITE_DTYPE_INT16);
    assert_int_equal(g->b.dtype, QLITE_DTYPE_INT32);
    g->n = (size_t)g->meta.dims[0];
    assert_true(g->n > 0);
}

static inline void nng_free(nng_set *g) {
    qlite_golden *all[8] = {&g->meta, &g->f, &g->ws, &g->wz, &g->x, &g->w, &g->b, &g->y};
    for (int k = 0; k < 8; k++) qlite_golden_free(all[k]);
}

static inline const int32_t *nng_meta(const nng_set *g, size_t i) {
    return (const int32_t *)g->meta.data + i * NNG_COLS;
}
static inline const float *nng_f(const nng_set *g, size_t i) {
    return (const float *)g->f.data + i * 4;
}

/* n int16 golden values from offset off as a raw buffer of dtype dt. */
static inline void *nng_codes(const qlite_golden *a, size_t off, size_t n, qlite_dtype dt) {
    assert_true(off + n <= a->count);
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) q8_set(p, i, dt, ((const int16_t *)a->data)[off + i]);
    return p;
}

static inline int32_t *nng_i32(const qlite_golden *a, size_t off, size_t n) {
    assert_true(off + n <= a->count);
    int32_t *p = malloc((n ? n : 1) * sizeof(int32_t));
    assert_non_null(p);
    if (n) memcpy(p, (const int32_t *)a->data + off, n * sizeof(int32_t));
    return p;
}

/* The weight scales / zero points of case i (count values from its offset). */
static inline void nng_wparams(const nng_set *g, size_t i, uint32_t count, int32_t axis,
                               nnq_wparams *p) {
    const size_t off = (size_t)nng_meta(g, i)[NNG_OFF_WS];
    assert_true(off + count <= g->ws.count && count <= NNQ_MAX_CH);
    nnq_wparams_init(p, count, axis);
    for (uint32_t c = 0; c < count; c++) {
        p->scale[c] = ((const float *)g->ws.data)[off + c];
        p->zp[c] = ((const int32_t *)g->wz.data)[off + c];
    }
}

/* Asserts the n outputs of case i equal the golden ones. */
static inline void nng_expect(const char *set, size_t i, const nng_set *g, const void *got,
                              qlite_dtype dt, size_t n) {
    const int32_t *m = nng_meta(g, i);
    assert_int_equal((size_t)m[NNG_COUNT_Y], n);
    const size_t off = (size_t)m[NNG_OFF_Y];
    assert_true(off + n <= g->y.count);
    for (size_t k = 0; k < n; k++) {
        const int32_t w = ((const int16_t *)g->y.data)[off + k];
        if (q8_get(got, k, dt) != w)
            fail_msg("%s case %zu: element %zu is %d, the NumPy golden says %d", set, i, k,
                     q8_get(got, k, dt), w);
    }
}

#endif /* QLITE_KERNEL_NN_GOLDEN_H */
