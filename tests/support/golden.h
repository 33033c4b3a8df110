/*
 * golden.h — golden data for kernel tests: a small NumPy .npy reader (the
 * format NumPy and PyTorch write: magic, version, a Python-dict header with
 * descr / fortran_order / shape, then raw little-endian data) and float
 * comparison with stated tolerances.
 *
 * Golden files live in tests/data/kernels/ and are written by the scripts
 * there (make_golden_*.py) from NumPy / PyTorch, never from qlite.
 */
#ifndef QLITE_TEST_GOLDEN_H
#define QLITE_TEST_GOLDEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"

typedef struct qlite_golden {
    qlite_dtype dtype;                /* float64 arrays are converted to FLOAT32 */
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    size_t count;                     /* elements */
    void *data;                       /* malloc'd, row-major */
} qlite_golden;

/*
 * Loads tests/data/kernels/<name>.npy. Supported descrs: <f4 <f8 <f2 |i1 |u1
 * <i2 <i4 <i8 |b1, C order only. Returns false (and prints why) on failure.
 */
bool qlite_golden_load(const char *name, qlite_golden *out);
void qlite_golden_free(qlite_golden *g);

/*
 * Index of the first i with |got - want| > atol + rtol * |want| (NaN must
 * match NaN, inf must match the same inf), or n when all are close. Prints the
 * first mismatch.
 */
size_t qlite_golden_mismatch_f32(const float *got, const float *want, size_t n, double atol,
                                 double rtol);

#endif /* QLITE_TEST_GOLDEN_H */
