/*
 * support.h — helpers shared by the cmocka tests.
 */
#ifndef QLITE_TEST_SUPPORT_H
#define QLITE_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qlite/qlite.h"

/* Deterministic PRNG for tests (xorshift64*); never seeded from time. */
typedef struct qlite_test_rng {
    uint64_t s;
} qlite_test_rng;

void qlite_test_rng_seed(qlite_test_rng *r, uint64_t seed);
uint32_t qlite_test_rng_u32(qlite_test_rng *r);
/* Uniform in [lo, hi). */
float qlite_test_rng_float(qlite_test_rng *r, float lo, float hi);

/* Path of a file in the source tree / a scratch path in the build tree
 * (static buffer per call site is not thread-safe; tests are single-threaded). */
const char *qlite_test_source_path(const char *relative);
const char *qlite_test_tmp_path(const char *name);

/* Reads a whole file into malloc'd memory; NULL on failure. */
void *qlite_test_read_file(const char *path, size_t *size);

/*
 * Reduced sweeps: true when the suite runs where every case costs 10-50x
 * (QLITE_TEST_SANITIZED: .ci/run's ASan + UBSan stage; QLITE_TEST_EMULATED:
 * qemu-user, .ci/qemu-aarch64), set to anything but "" or "0". Sweeps then
 * keep one size per code path (each tile, tail and branch, each ISA level)
 * and drop the repeats of a path (more sizes of the same class, more seeds),
 * so the sanitizers and the ARM64 rows still see every path.
 */
bool qlite_test_reduced(void);

/* Asserts that a status is QLITE_OK, printing qlite_last_error() otherwise. */
#define assert_qlite_ok(expr)                                                  \
    do {                                                                       \
        qlite_status st_ = (expr);                                             \
        if (st_ != QLITE_OK)                                                   \
            print_error("%s -> %s: %s\n", #expr, qlite_status_string(st_),      \
                        qlite_last_error());                                    \
        assert_int_equal(st_, QLITE_OK);                                       \
    } while (0)

#endif /* QLITE_TEST_SUPPORT_H */
