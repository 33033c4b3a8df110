/*
 * planner.h — the activation arena planner (internal).
 *
 * The interpreter describes every block of memory an invoke needs (one per
 * non-constant tensor after aliasing, one per op scratch) as an item with a
 * size and a lifetime [first, last] in op steps (inclusive). The planner gives
 * each item an offset in one arena so that items whose lifetimes overlap never
 * share bytes, and reports the arena size.
 *
 * Algorithm (greedy by size, the idea of TensorFlow Lite Micro's
 * GreedyMemoryPlanner):
 *   1. Round every size up to QLITE_PLAN_ALIGN.
 *   2. Visit items from the largest to the smallest (ties: earlier `first`,
 *      then lower index, so the plan is deterministic).
 *   3. For each item, look at the already placed items whose lifetimes
 *      overlap it, in increasing offset order, and take the lowest aligned
 *      offset whose gap fits it (first fit from the bottom; above all of them
 *      when no gap fits).
 *   4. The arena size is the highest end offset.
 * Placing large blocks first lets small short-lived ones fill the holes
 * between them. Cost is O(n^2) in the number of items, fine for graphs of a
 * few thousand tensors and paid once per prepare.
 */
#ifndef QLITE_PLANNER_H
#define QLITE_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"

/* Every offset is a multiple of this (cache line; SIMD loads). */
#define QLITE_PLAN_ALIGN 64

typedef struct qlite_plan_item {
    size_t size;      /* bytes needed; 0 = nothing to place (offset 0) */
    uint32_t first;   /* first step at which the bytes must hold their value */
    uint32_t last;    /* last step (inclusive), >= first */
    size_t offset;    /* result: byte offset in the arena, multiple of QLITE_PLAN_ALIGN */
} qlite_plan_item;

/*
 * Plans `count` items in place (sets every item's offset) and stores the arena
 * size (a multiple of QLITE_PLAN_ALIGN, 0 when nothing is placed) in
 * *arena_size. Returns QLITE_ERR_INVALID_ARGUMENT for last < first,
 * QLITE_ERR_NO_MEMORY when the sizes overflow or the work array cannot be
 * allocated (detail in qlite_last_error()).
 */
qlite_status qlite_plan_arena(qlite_plan_item *items, size_t count, size_t *arena_size);

#endif /* QLITE_PLANNER_H */
