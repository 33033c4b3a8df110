/*
 * sparse_build.h — the stored forms of docs/format.md §6.3 (block-CSR) and
 * §6.4 (clustered), built here from a dense weight, written from the spec
 * (not with the converter's code) for the sparse kernel tests and
 * bench_sparse.
 *
 * The caller gives the dense weight's 2-D view [rows, cols] (element size
 * es), a mask saying which elements are "kept" (a block is stored when any
 * of its elements is kept; the others must hold the real zero the caller
 * uses in its dense copy) and, for a clustered weight, one codebook index
 * per element plus the codebook bytes.
 */
#ifndef QLITE_TEST_SPARSE_BUILD_H
#define QLITE_TEST_SPARSE_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/qlite.h"

typedef struct spb_weight {
    void *values;           /* stored values, or the index bitstream */
    size_t values_bytes;
    void *row_ptr, *col_index;
    qlite_sparsity sp;
    qlite_clustering cl;
} spb_weight;

static inline size_t spb_index_size(qlite_index_type t) {
    return t == QLITE_INDEX_UINT8 ? 1 : t == QLITE_INDEX_UINT16 ? 2 : 4;
}

static inline void spb_put_index(void *p, size_t i, qlite_index_type t, uint64_t v) {
    switch (t) {
    case QLITE_INDEX_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case QLITE_INDEX_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    default: ((uint32_t *)p)[i] = (uint32_t)v; break;
    }
}

/* Appends index v (bits wide) at position j of an LSB-first stream (zeroed). */
static inline void spb_put_bits(uint8_t *s, uint64_t j, unsigned bits, unsigned v) {
    for (unsigned b = 0; b < bits; b++) {
        const uint64_t n = j * bits + b;
        if (v >> b & 1u) s[n / 8] |= (uint8_t)(1u << (n % 8));
    }
}

/*
 * Builds the stored form. br, bc > 0 (sparse) or br = bc = 0 (dense values,
 * clustered only). dense: [rows*cols] elements of es bytes (used when not
 * clustered); keep: [rows*cols] (sparse only); idx: [rows*cols] codebook
 * indices and bits > 0 for a clustered weight (cl.codebook = book, which the
 * caller keeps alive). Index types: the caller's (they must fit).
 * Returns false on allocation failure.
 */
static inline bool spb_build(spb_weight *o, const void *dense, size_t es, size_t rows,
                             size_t cols, size_t br, size_t bc, const bool *keep,
                             qlite_index_type rp_t, qlite_index_type ci_t, const uint8_t *idx,
                             unsigned bits, const void *book, bool per_row) {
    memset(o, 0, sizeof *o);
    const bool sparse = br > 0;
    size_t nvals = rows * cols;
    if (sparse) {
        const size_t R = rows / br, C = cols / bc;
        o->row_ptr = calloc(R + 1, spb_index_size(rp_t));
        o->col_index = calloc((R * C) > 0 ? R * C : 1, spb_index_size(ci_t));
        if (!o->row_ptr || !o->col_index) return false;
        size_t nnz = 0;
        spb_put_index(o->row_ptr, 0, rp_t, 0);
        for (size_t r = 0; r < R; r++) {
            for (size_t c = 0; c < C; c++) {
                bool any = false;
                for (size_t a = 0; a < br; a++)
                    for (size_t b = 0; b < bc; b++) any |= keep[(r * br + a) * cols + c * bc + b];
                if (any) spb_put_index(o->col_index, nnz++, ci_t, c);
            }
            spb_put_index(o->row_ptr, r + 1, rp_t, nnz);
        }
        o->sp = (qlite_sparsity){.block_rows = (uint32_t)br, .block_cols = (uint32_t)bc,
                                 .row_ptr_type = rp_t, .col_index_type = ci_t,
                                 .nnz_blocks = nnz, .row_ptr = o->row_ptr,
                                 .col_index = o->col_index};
        nvals = nnz * br * bc;
    }
    o->values_bytes = bits ? (nvals * bits + 7) / 8 : nvals * es;
    o->values = calloc(o->values_bytes ? o->values_bytes : 1, 1);
    if (!o->values) return false;
    /* value number j -> element (r, c), in the order of §6.3 (or row-major) */
    size_t j = 0;
    const size_t R = sparse ? rows / br : rows, brr = sparse ? br : 1, bcc = sparse ? bc : cols;
    for (size_t r = 0; r < R; r++) {
        const size_t k0 = sparse ? (size_t)0 : r, k1 = sparse ? (size_t)0 : r + 1;
        size_t kb = k0, ke = k1;
        if (sparse) {
            const size_t sz = spb_index_size(rp_t);
            uint64_t a = 0, b = 0;
            memcpy(&a, (const uint8_t *)o->row_ptr + r * sz, sz);
            memcpy(&b, (const uint8_t *)o->row_ptr + (r + 1) * sz, sz);
            kb = (size_t)a;
            ke = (size_t)b;
        }
        for (size_t k = kb; k < ke; k++) {
            size_t c = 0;
            if (sparse) {
                const size_t sz = spb_index_size(ci_t);
                uint64_t v = 0;
                memcpy(&v, (const uint8_t *)o->col_index + k * sz, sz);
                c = (size_t)v;
            }
            for (size_t a = 0; a < brr; a++)
                for (size_t b = 0; b < bcc; b++, j++) {
                    const size_t e = (r * brr + a) * cols + c * bcc + b;
                    if (bits) spb_put_bits(o->values, j, bits, idx[e]);
                    else memcpy((uint8_t *)o->values + j * es, (const uint8_t *)dense + e * es, es);
                }
        }
    }
    if (bits) {
        o->cl = (qlite_clustering){.num_clusters = 1u << bits, .index_bits = bits,
                                   .per_row = per_row, .codebook = book};
    }
    return true;
}

static inline void spb_free(spb_weight *o) {
    free(o->values);
    free(o->row_ptr);
    free(o->col_index);
    memset(o, 0, sizeof *o);
}

#endif /* QLITE_TEST_SPARSE_BUILD_H */
