/*
 * packed_layout.h — where the elements of a constant stored in a packed
 * weight layout live (docs/format.md §6.2). Shared by the validator, the
 * interpreter's densify, qlite-dump and the converter's writer, so every
 * reader and the writer agree on one definition.
 *
 * The packed view of a constant: `nmat` matrices [O, I], one after the
 * other in the buffer:
 *   rank 3       nmat = shape[0] matrices [shape[1], shape[2]] (LSTM/GRU W and
 *                R per direction, a batched BATCH_MATMUL B);
 *   other ranks  one matrix, the 2-D view [shape[0], product of the rest]
 *                (rank 0: [1, 1]; rank 1: [shape[0], 1]).
 * Each matrix is stored padded:
 *   O16I4  [ceil(O/16)][ceil(I/4)][16][4]   (int8: x86 VNNI, ARM SDOT)
 *   O16    [ceil(O/16)][I][16]              (float32, float16: one FMA
 *                                            vector row of 16 output channels
 *                                            per reduction step)
 * Padding elements are zero.
 */
#ifndef QLITE_PACKED_LAYOUT_H
#define QLITE_PACKED_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "qlite/qlite.h"

typedef struct qlite_packed_view {
    uint64_t nmat, O, I;   /* matrices, rows (output channels), columns */
    uint64_t mat_elems;    /* stored elements of one matrix, padding included */
} qlite_packed_view;

/* a * b into *out; false on 64-bit overflow. */
static inline bool qlite_pl_mul(uint64_t a, uint64_t b, uint64_t *out) {
    if (a != 0 && b > UINT64_MAX / a) return false;
    *out = a * b;
    return true;
}

/*
 * The packed view of a tensor of this rank and shape in `layout` (a packed
 * one: O16I4 or O16). False when a dim is negative or a count overflows.
 */
static inline bool qlite_packed_view_of(qlite_layout layout, uint32_t rank, const int64_t *shape,
                                        qlite_packed_view *v) {
    for (uint32_t d = 0; d < rank; d++)
        if (shape[d] < 0) return false;
    v->nmat = 1;
    if (rank == 3) {
        v->nmat = (uint64_t)shape[0];
        v->O = (uint64_t)shape[1];
        v->I = (uint64_t)shape[2];
    } else {
        v->O = rank ? (uint64_t)shape[0] : 1;
        v->I = 1;
        for (uint32_t d = 1; d < rank; d++)
            if (!qlite_pl_mul(v->I, (uint64_t)shape[d], &v->I)) return false;
    }
    const uint64_t o_pad = v->O / 16 * 16 + (v->O % 16 ? 16 : 0);
    const uint64_t i_pad = layout == QLITE_LAYOUT_O16I4 ? v->I / 4 * 4 + (v->I % 4 ? 4 : 0) : v->I;
    return qlite_pl_mul(o_pad, i_pad, &v->mat_elems) && (v->nmat == 0 ||
           v->mat_elems <= UINT64_MAX / v->nmat);
}

/* Stored elements of the whole tensor (every matrix, padding included). */
static inline uint64_t qlite_packed_elems(const qlite_packed_view *v) {
    return v->nmat * v->mat_elems;
}

/* Position (in elements) of element (o, i) of matrix b in the stored form. */
static inline uint64_t qlite_packed_index(qlite_layout layout, const qlite_packed_view *v,
                                          uint64_t b, uint64_t o, uint64_t i) {
    if (layout == QLITE_LAYOUT_O16I4) {
        const uint64_t i4 = (v->I + 3) / 4;
        return b * v->mat_elems + ((o / 16) * i4 + i / 4) * 64 + (o % 16) * 4 + i % 4;
    }
    return b * v->mat_elems + ((o / 16) * v->I + i) * 16 + o % 16; /* O16 */
}

/* Whether `layout` is a packed one (not DEFAULT, known). */
static inline bool qlite_layout_is_packed(qlite_layout layout) {
    return layout == QLITE_LAYOUT_O16I4 || layout == QLITE_LAYOUT_O16;
}

#endif /* QLITE_PACKED_LAYOUT_H */
