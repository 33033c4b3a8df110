/*
 * planner.c — greedy-by-size arena planner (see planner.h for the steps).
 */
#include "planner.h"

#include <stdlib.h>

#include "qlite_internal.h"

typedef struct plan_ctx {
    const qlite_plan_item *items;
    const size_t *rounded;
} plan_ctx;

/* Step 2 order: larger first, then earlier first use, then lower index. */
static int before(const plan_ctx *c, size_t a, size_t b) {
    if (c->rounded[a] != c->rounded[b]) return c->rounded[a] > c->rounded[b];
    if (c->items[a].first != c->items[b].first) return c->items[a].first < c->items[b].first;
    return a < b;
}

static int overlaps(const qlite_plan_item *a, const qlite_plan_item *b) {
    return a->first <= b->last && b->first <= a->last;
}

qlite_status qlite_plan_arena(qlite_plan_item *items, size_t count, size_t *arena_size) {
    if (!arena_size || (count && !items))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "planner: NULL argument");
    *arena_size = 0;
    if (count > SIZE_MAX / (3 * sizeof(size_t)))
        return qlite_error(QLITE_ERR_NO_MEMORY, "planner: %zu items is too many", count);
    for (size_t i = 0; i < count; i++) {
        if (items[i].last < items[i].first)
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                               "planner: item %zu lives from step %u to step %u", i,
                               items[i].first, items[i].last);
        if (items[i].size > SIZE_MAX - QLITE_PLAN_ALIGN)
            return qlite_error(QLITE_ERR_NO_MEMORY, "planner: item %zu is too large", i);
        items[i].offset = 0;
    }
    if (count == 0) return QLITE_OK;

    /* work: rounded sizes, visiting order, placed items sorted by offset */
    size_t *work = malloc(3 * count * sizeof *work);
    if (!work) return qlite_error(QLITE_ERR_NO_MEMORY, "planner: out of memory");
    size_t *rounded = work, *order = work + count, *placed = work + 2 * count;
    size_t n_order = 0, n_placed = 0;
    for (size_t i = 0; i < count; i++) {
        rounded[i] = (items[i].size + QLITE_PLAN_ALIGN - 1) & ~(size_t)(QLITE_PLAN_ALIGN - 1);
        if (rounded[i] == 0) continue;
        order[n_order++] = i;
    }
    plan_ctx c = {items, rounded};
    /* insertion sort keeps equal keys in index order and needs no callback state */
    for (size_t i = 1; i < n_order; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && before(&c, v, order[j - 1])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }

    size_t arena = 0;
    qlite_status st = QLITE_OK;
    for (size_t k = 0; k < n_order; k++) {
        size_t i = order[k];
        /* step 3: first fit among the overlapping placed items (placed[] is by offset) */
        size_t candidate = 0;
        for (size_t p = 0; p < n_placed; p++) {
            const qlite_plan_item *q = &items[placed[p]];
            if (!overlaps(q, &items[i])) continue;
            if (q->offset >= candidate && q->offset - candidate >= rounded[i]) break;
            size_t end = q->offset + rounded[placed[p]];
            if (end > candidate) candidate = end;
        }
        if (candidate > SIZE_MAX - rounded[i]) {
            st = qlite_error(QLITE_ERR_NO_MEMORY, "planner: arena size overflows");
            break;
        }
        items[i].offset = candidate;
        if (candidate + rounded[i] > arena) arena = candidate + rounded[i];
        /* insert into placed[], ordered by offset then index */
        size_t j = n_placed++;
        while (j > 0 && items[placed[j - 1]].offset > candidate) {
            placed[j] = placed[j - 1];
            j--;
        }
        placed[j] = i;
    }
    free(work);
    if (st == QLITE_OK) *arena_size = arena;
    return st;
}
