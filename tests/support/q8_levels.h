/*
 * q8_levels.h — the ISA levels of the int8 row kernels (elementwise_q8.h's
 * variant tables and the rows of softmax_q8.c / layer_norm_q8.c) as a loop:
 * uncapped (AVX-512 where the CPU has it), AVX2, portable (no features),
 * NEON. Each level sets qlite_q8_set_feature_cap(); a level this CPU lacks
 * is skipped with a message; after the last one the cap is ~0u again.
 *
 *     for (unsigned l = 0; qlite_test_q8_level_next(&l); l++) {
 *         ... rows at level l (qlite_test_q8_level_name(l)) ...
 *     }
 *
 * A test that fails half-way leaves the cap set: register it with
 * qlite_test_q8_uncap as its cmocka teardown.
 */
#ifndef QLITE_TEST_Q8_LEVELS_H
#define QLITE_TEST_Q8_LEVELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QLITE_TEST_Q8_LEVEL_COUNT 4u

/* Moves *level to the first level >= *level this CPU has and sets its cap;
 * false (cap back to ~0u) when none is left. */
bool qlite_test_q8_level_next(unsigned *level);

/* cmocka teardown: the cap back to ~0u (also when a level's check failed
 * half-way). Returns 0. */
int qlite_test_q8_uncap(void **state);

/* "uncapped", "avx2", "portable", "neon" */
const char *qlite_test_q8_level_name(unsigned level);

/* True when caps[level] leaves this CPU the same int8 features as an earlier
 * caps[j] (e.g. an AVX2 cap on ARM64, or "no AMX" where there is none): a
 * test's level loop then repeats that level; under qlite_test_reduced() tests
 * skip it. */
bool qlite_test_q8_cap_repeats(const unsigned *caps, size_t level);

/* Row lengths the level loops run: 1..70 (every tail of the 8 / 16 / 32 /
 * 64-lane bodies, one or two bodies) and 768 (a transformer row). */
#define QLITE_TEST_Q8_ROW_SIZES 71u
int64_t qlite_test_q8_row_size(unsigned i);

#endif /* QLITE_TEST_Q8_LEVELS_H */
