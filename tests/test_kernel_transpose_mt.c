/*
 * test_kernel_transpose_mt.c — TRANSPOSE split between threads (transpose.c
 * cuts copies of 64 KiB and more along the outermost collapsed dim): with
 * 1, 2 and 3 threads the output equals an index-by-index loop written here,
 * for a model's NCHW -> NHWC input (a blocked 2-D transpose per slice),
 * permutations that keep the last dim (row copies), that move it (strided
 * gathers), and an outer dim that does not divide evenly between threads.
 * Planar -> interleaved with 2..4 channels (transpose.c's fixed-C loops):
 * 1, 2 and 4-byte elements, pixel counts around vector widths and odd
 * ones, batch 1 (the loop) and batch 2 (the generic copy); once with the
 * CPU features this machine has (the AVX-512 / VBMI rows for C = 3) and once
 * capped to none (the portable loops).
 * GATHER split between threads (gather.c cuts its slices when they move
 * 64 KiB and more): with 1, 2 and 3 threads the output equals a loop over
 * the index arithmetic written here — a transformer's q / k / v split (axis
 * 2 of [2, 128, 3, 4, 64], scalar index; float32 and int8), an embedding
 * lookup of [2, 128] int64 indices (some negative) in a constant float32
 * table and the same widening a float16 table, and a slice count that does
 * not divide evenly between threads.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "support/op_check.h"
#include "support.h"

static void check(qlite_dtype dt, uint32_t rank, const int64_t *dims, const int32_t *perm,
                  int threads) {
    const size_t elem = qlite_dtype_bits(dt) / 8, n = (size_t)qlite_shape_elements(rank, dims);
    unsigned char *x = malloc(n * elem), *want = malloc(n * elem);
    assert_non_null(x);
    assert_non_null(want);
    for (size_t i = 0; i < n * elem; i++) x[i] = (unsigned char)(i * 2654435761u >> 13);
    int64_t od[QLITE_MAX_RANK], st[QLITE_MAX_RANK], s = 1;
    for (uint32_t i = rank; i-- > 0;) st[i] = s, s *= dims[i];
    for (uint32_t i = 0; i < rank; i++) od[i] = dims[perm[i]];
    for (size_t i = 0; i < n; i++) {
        size_t r = i, src = 0;
        for (uint32_t d = rank; d-- > 0;) {
            src += (r % (size_t)od[d]) * (size_t)st[perm[d]];
            r /= (size_t)od[d];
        }
        memcpy(want + i * elem, x + src * elem, elem);
    }
    qlite_op_options o = qopts(QLITE_OPTIONS_TRANSPOSE);
    o.u.transpose.rank = rank;
    o.u.transpose.perm = perm;
    qlite_op_test_tensor in = qt(dt, rank, dims, x), out = qt(dt, rank, od, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out, threads, 0));
    assert_int_equal(out.out_bytes, n * elem);
    assert_memory_equal(out.out, want, n * elem);
    qlite_op_test_free(1, &out);
    free(x);
    free(want);
}

static void test_transpose_threads(void **state) {
    (void)state;
    for (int t = 1; t <= 3; t++) {
        check(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, 224, 224}, (int32_t[]){0, 2, 3, 1}, t);
        check(QLITE_DTYPE_INT8, 4, (int64_t[]){2, 5, 80, 90}, (int32_t[]){0, 2, 1, 3}, t);
        check(QLITE_DTYPE_INT8, 4, (int64_t[]){2, 5, 80, 90}, (int32_t[]){3, 1, 0, 2}, t);
        check(QLITE_DTYPE_FLOAT32, 3, (int64_t[]){7, 128, 64}, (int32_t[]){0, 2, 1}, t);
        check(QLITE_DTYPE_FLOAT16, 3, (int64_t[]){257, 3, 130}, (int32_t[]){2, 0, 1}, t);
        check(QLITE_DTYPE_INT8, 2, (int64_t[]){300, 301}, (int32_t[]){1, 0}, t);
    }
}

/* GATHER of `nidx` indices along `axis` of data [dims], checked against a
 * loop written here; elem-byte elements (float16 data widened to float32
 * when widen). */
static void check_gather(qlite_dtype dt, uint32_t rank, const int64_t *dims, uint32_t axis,
                         uint32_t irank, const int64_t *idims, const int64_t *idx, bool cdata,
                         bool widen, int threads) {
    const size_t elem = qlite_dtype_bits(dt) / 8, n = (size_t)qlite_shape_elements(rank, dims);
    const size_t nidx = (size_t)qlite_shape_elements(irank, idims), oelem = widen ? 4 : elem;
    size_t outer = 1, inner = 1;
    for (uint32_t i = 0; i < axis; i++) outer *= (size_t)dims[i];
    for (uint32_t i = axis + 1; i < rank; i++) inner *= (size_t)dims[i];
    const size_t d = (size_t)dims[axis], on = outer * nidx * inner;
    unsigned char *x = malloc(n * elem), *want = malloc(on * oelem);
    assert_non_null(x);
    assert_non_null(want);
    for (size_t i = 0; i < n * elem; i++) x[i] = (unsigned char)(i * 2654435761u >> 13);
    if (widen) /* finite halves: exponent bits below all-ones */
        for (size_t i = 0; i < n; i++) x[2 * i + 1] &= 0x3f;
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < nidx; j++) {
            const size_t v = (size_t)(idx[j] < 0 ? idx[j] + (int64_t)d : idx[j]);
            for (size_t k = 0; k < inner; k++) {
                const size_t src = (o * d + v) * inner + k, dst = (o * nidx + j) * inner + k;
                if (widen) {
                    uint16_t h;
                    memcpy(&h, x + 2 * src, 2);
                    const float f = qlite_fp16_to_fp32(h);
                    memcpy(want + 4 * dst, &f, 4);
                } else {
                    memcpy(want + dst * elem, x + src * elem, elem);
                }
            }
        }
    int64_t od[QLITE_MAX_RANK];
    uint32_t r = 0;
    for (uint32_t i = 0; i < axis; i++) od[r++] = dims[i];
    for (uint32_t i = 0; i < irank; i++) od[r++] = idims[i];
    for (uint32_t i = axis + 1; i < rank; i++) od[r++] = dims[i];
    qlite_op_options o = qopts(QLITE_OPTIONS_GATHER);
    o.u.gather.axis = (int32_t)axis;
    qlite_op_test_tensor in[2] = {cdata ? qt_const(dt, rank, dims, x) : qt(dt, rank, dims, x),
                                  qt(QLITE_DTYPE_INT64, irank, idims, idx)};
    qlite_op_test_tensor out = qt(widen ? QLITE_DTYPE_FLOAT32 : dt, r, od, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, threads, 0));
    assert_int_equal(out.out_bytes, on * oelem);
    assert_memory_equal(out.out, want, on * oelem);
    qlite_op_test_free(1, &out);
    free(x);
    free(want);
}

static void test_gather_threads(void **state) {
    (void)state;
    static int64_t emb_idx[256];
    for (int i = 0; i < 256; i++) emb_idx[i] = (i * 7919) % 1000 - (i % 3 == 0 ? 1000 : 0);
    const int64_t one = 1, three[3] = {2, -3, 4};
    for (int t = 1; t <= 3; t++) {
        check_gather(QLITE_DTYPE_FLOAT32, 5, (int64_t[]){2, 128, 3, 4, 64}, 2, 0, NULL, &one,
                     false, false, t);
        check_gather(QLITE_DTYPE_INT8, 5, (int64_t[]){2, 128, 3, 4, 64}, 2, 0, NULL, &one, false,
                     false, t);
        check_gather(QLITE_DTYPE_FLOAT32, 2, (int64_t[]){1000, 256}, 0, 2, (int64_t[]){2, 128},
                     emb_idx, true, false, t);
        check_gather(QLITE_DTYPE_FLOAT16, 2, (int64_t[]){1000, 256}, 0, 2, (int64_t[]){2, 128},
                     emb_idx, true, true, t);
        /* 37 x 3 slices of 200 floats: uneven ranges */
        check_gather(QLITE_DTYPE_FLOAT32, 3, (int64_t[]){37, 5, 200}, 1, 1, (int64_t[]){3}, three,
                     false, false, t);
    }
}

static void test_transpose_interleave(void **state) {
    (void)state;
    for (int cap = 0; cap < 2; cap++) {
        qlite_q8_set_feature_cap(cap ? 0u : ~0u);
        const qlite_dtype dts[] = {QLITE_DTYPE_INT8, QLITE_DTYPE_FLOAT16, QLITE_DTYPE_FLOAT32};
        const int64_t hw[][2] = {{224, 224}, {1, 1}, {1, 63}, {8, 8}, {3, 65}, {17, 129}, {1, 257}};
        for (int t = 1; t <= 3; t += 2)
            for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++)
                for (int64_t c = 1; c <= 5; c++)
                    for (size_t k = 0; k < sizeof hw / sizeof hw[0]; k++) {
                        if (k == 0 && c != 3) continue; /* 224x224: RGB only (qemu time) */
                        check(dts[d], 4, (int64_t[]){1, c, hw[k][0], hw[k][1]},
                              (int32_t[]){0, 2, 3, 1}, t);
                        check(dts[d], 3, (int64_t[]){c, hw[k][0], hw[k][1]}, (int32_t[]){1, 2, 0},
                              t);
                        if (k < 3)
                            check(dts[d], 4, (int64_t[]){2, c, hw[k][0], hw[k][1]},
                                  (int32_t[]){0, 2, 3, 1}, t);
                    }
    }
    qlite_q8_set_feature_cap(~0u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_threads),
        cmocka_unit_test(test_transpose_interleave),
        cmocka_unit_test(test_gather_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
