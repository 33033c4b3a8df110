/*
 * test_planner.c — the greedy-by-size arena planner on hand-built lifetime
 * sets. Every expected offset below is derived by hand in the comment above
 * it, following the steps in interpreter/planner.h.
 */
#include <string.h>

#include "planner.h"
#include "support.h"

#define ITEM(size, first, last) {(size), (first), (last), 12345}

static size_t plan(qlite_plan_item *items, size_t n) {
    size_t arena = 999;
    assert_qlite_ok(qlite_plan_arena(items, n, &arena));
    return arena;
}

static void test_empty(void **state) {
    (void)state;
    size_t arena = 1;
    assert_qlite_ok(qlite_plan_arena(NULL, 0, &arena));
    assert_int_equal(arena, 0);
    /* a zero-size item takes no room */
    qlite_plan_item z[] = {ITEM(0, 0, 3)};
    assert_int_equal(plan(z, 1), 0);
    assert_int_equal(z[0].offset, 0);
}

/* Disjoint lifetimes share offset 0; the arena is the largest rounded size
 * (200 -> 256). */
static void test_disjoint_share(void **state) {
    (void)state;
    qlite_plan_item it[] = {ITEM(100, 0, 0), ITEM(200, 1, 1), ITEM(50, 2, 2)};
    assert_int_equal(plan(it, 3), 256);
    for (int i = 0; i < 3; i++) assert_int_equal(it[i].offset, 0);
}

/* A chain a->b->c->d of 1000-byte tensors (1024 rounded), each alive from its
 * producer to its consumer: A[0,1] @0; B[1,2] overlaps A -> @1024;
 * C[2,3] overlaps only B, and the gap below B (1024 bytes) fits -> @0. */
static void test_chain_ping_pong(void **state) {
    (void)state;
    qlite_plan_item it[] = {ITEM(1000, 0, 1), ITEM(1000, 1, 2), ITEM(1000, 2, 3)};
    assert_int_equal(plan(it, 3), 2048);
    assert_int_equal(it[0].offset, 0);
    assert_int_equal(it[1].offset, 1024);
    assert_int_equal(it[2].offset, 0);
}

/*
 * Items (size, [first,last]): 0 (256,[0,2]), 1 (64,[0,0]), 2 (128,[1,1]),
 * 3 (192,[2,3]), 4 (64,[3,3]). Visiting order by size: 0, 3, 2, 1, 4.
 *   0 -> 0.
 *   3 overlaps 0 (step 2): no room below 0 -> 256.
 *   2 overlaps 0 only -> 256.
 *   1 overlaps 0 only -> 256 (2 lives at step 1, 1 at step 0: no clash).
 *   4 overlaps 3 only: the 256 bytes under 3 are free at step 3 -> 0.
 * Arena 256 + 192 = 448, against 704 for the sum.
 */
static void test_greedy_fills_holes(void **state) {
    (void)state;
    qlite_plan_item it[] = {ITEM(256, 0, 2), ITEM(64, 0, 0), ITEM(128, 1, 1), ITEM(192, 2, 3),
                            ITEM(64, 3, 3)};
    assert_int_equal(plan(it, 5), 448);
    const size_t want[] = {0, 256, 256, 256, 0};
    for (int i = 0; i < 5; i++) assert_int_equal(it[i].offset, want[i]);
}

/*
 * A(256,[0,1]) B(256,[0,3]) C(128,[2,3]) D(128,[2,3]); order A, B (equal
 * size, equal first: index), C, D (equal size and first: index).
 *   A -> 0; B overlaps A -> 256; C overlaps B only; gap [0,256) fits -> 0;
 *   D overlaps C (at 0..128) and B (256..512); the gap [128,256) fits -> 128.
 */
static void test_first_fit_between_blocks(void **state) {
    (void)state;
    qlite_plan_item it[] = {ITEM(256, 0, 1), ITEM(256, 0, 3), ITEM(128, 2, 3), ITEM(128, 2, 3)};
    assert_int_equal(plan(it, 4), 512);
    const size_t want[] = {0, 256, 0, 128};
    for (int i = 0; i < 4; i++) assert_int_equal(it[i].offset, want[i]);
}

/* Sizes round up to 64: 65 -> 128 placed first at 0, 1 -> 64 at 128. */
static void test_alignment(void **state) {
    (void)state;
    qlite_plan_item it[] = {ITEM(1, 0, 0), ITEM(65, 0, 0)};
    assert_int_equal(plan(it, 2), 192);
    assert_int_equal(it[1].offset, 0);
    assert_int_equal(it[0].offset, 128);
}

/* Everything alive all the time (QLITE_INTERP_KEEP_ALL_TENSORS): no sharing,
 * stacked largest first: 300->320 @0, 200->256 @320, 100->128 @576. */
static void test_keep_all_stacks(void **state) {
    (void)state;
    qlite_plan_item it[] = {ITEM(100, 0, 9), ITEM(300, 0, 9), ITEM(200, 0, 9)};
    assert_int_equal(plan(it, 3), 704);
    assert_int_equal(it[1].offset, 0);
    assert_int_equal(it[2].offset, 320);
    assert_int_equal(it[0].offset, 576);
}

static void test_bad_arguments(void **state) {
    (void)state;
    qlite_plan_item it[] = {ITEM(64, 3, 2)};
    size_t arena;
    assert_int_equal(qlite_plan_arena(it, 1, &arena), QLITE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qlite_last_error(), "item 0 lives from step 3 to step 2"));
    qlite_plan_item huge[] = {ITEM(SIZE_MAX - 10, 0, 0)};
    assert_int_equal(qlite_plan_arena(huge, 1, &arena), QLITE_ERR_NO_MEMORY);
    qlite_plan_item two[] = {ITEM(SIZE_MAX / 2 + 1, 0, 0), ITEM(SIZE_MAX / 2 + 1, 0, 0)};
    assert_int_equal(qlite_plan_arena(two, 2, &arena), QLITE_ERR_NO_MEMORY);
    assert_int_equal(qlite_plan_arena(it, 1, NULL), QLITE_ERR_INVALID_ARGUMENT);
}

/* Random lifetime sets: the invariants every plan must keep (no two items
 * alive at the same step share a byte; aligned; arena = highest end, never
 * above the sum of rounded sizes and never below the live bytes at any step). */
static void test_random_invariants(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 42);
    for (int round = 0; round < 300; round++) {
        qlite_plan_item it[64];
        size_t n = 1 + qlite_test_rng_u32(&rng) % 64;
        uint32_t steps = 1 + qlite_test_rng_u32(&rng) % 40;
        for (size_t i = 0; i < n; i++) {
            uint32_t a = qlite_test_rng_u32(&rng) % steps, b = qlite_test_rng_u32(&rng) % steps;
            it[i].first = a < b ? a : b;
            it[i].last = a < b ? b : a;
            it[i].size = qlite_test_rng_u32(&rng) % 5000;
        }
        size_t arena = plan(it, n), sum = 0, high = 0;
        for (size_t i = 0; i < n; i++) {
            size_t ri = (it[i].size + 63) & ~(size_t)63;
            sum += ri;
            assert_int_equal(it[i].offset % 64, 0);
            if (ri && it[i].offset + ri > high) high = it[i].offset + ri;
            for (size_t j = i + 1; j < n; j++) {
                size_t rj = (it[j].size + 63) & ~(size_t)63;
                if (!ri || !rj) continue;
                bool time = it[i].first <= it[j].last && it[j].first <= it[i].last;
                bool space = it[i].offset < it[j].offset + rj && it[j].offset < it[i].offset + ri;
                assert_false(time && space);
            }
        }
        assert_int_equal(arena, high);
        assert_true(arena <= sum);
        for (uint32_t s = 0; s < steps; s++) {
            size_t live = 0;
            for (size_t i = 0; i < n; i++)
                if (it[i].first <= s && s <= it[i].last) live += (it[i].size + 63) & ~(size_t)63;
            assert_true(arena >= live);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_disjoint_share),
        cmocka_unit_test(test_chain_ping_pong),
        cmocka_unit_test(test_greedy_fills_holes),
        cmocka_unit_test(test_first_fit_between_blocks),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_keep_all_stacks),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_random_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
