/*
 * fuzz_npy.c — libFuzzer target for the .npy and .npz readers (src/npy.c).
 * Every input is parsed both ways; success must give an array whose byte
 * count matches its shape and dtype, and whatever is returned is touched in
 * full so ASan sees any bad pointer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

static void touch(const qlite_npy_array *a) {
    uint64_t n = 1;
    for (uint32_t i = 0; i < a->rank; i++) n *= (uint64_t)a->dims[i];
    if (n * qlite_npy_dtype_size(a->dtype) != a->bytes) abort();
    volatile uint8_t sink = 0;
    const uint8_t *p = a->data;
    for (size_t i = 0; i < a->bytes; i++) sink ^= p[i];
    if (a->name) sink ^= (uint8_t)strlen(a->name);
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qlite_npy_array a;
    if (qlite_npy_read_memory(data, size, &a) == QLITE_OK) {
        touch(&a);
        /* what we read we can write, and read back identically */
        void *out;
        size_t out_size;
        if (qlite_npy_write_memory(&a, &out, &out_size) != QLITE_OK) abort();
        qlite_npy_array b;
        if (qlite_npy_read_memory(out, out_size, &b) != QLITE_OK || b.bytes != a.bytes ||
            (a.bytes && memcmp(a.data, b.data, a.bytes) != 0))
            abort();
        qlite_npy_free(&b);
        free(out);
        qlite_npy_free(&a);
    }
    qlite_npz z;
    if (qlite_npz_read_memory(data, size, &z) == QLITE_OK) {
        for (uint32_t i = 0; i < z.count; i++) touch(&z.arrays[i]);
        qlite_npz_free(&z);
    }
    return 0;
}
