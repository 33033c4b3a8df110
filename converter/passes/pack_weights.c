/*
 * pack_weights.c — stores the weights whose kernel reads a packed layout in
 * that layout (docs/format.md §6.2), so the interpreter maps them and never
 * repacks (interpreter/kernels/packed_weights.h):
 *
 *   FULLY_CONNECTED input 1, FLOAT32 / FLOAT16   O16    [ceil(O/16)][I][16]
 *   FULLY_CONNECTED input 1, INT8                O16I4  [ceil(O/16)][ceil(I/4)][16][4]
 *   LSTM, GRU inputs 1, 2 (W, R), rank 3, each on its own:
 *     FLOAT32 / FLOAT16 O16, INT8 O16I4, one matrix [G*H, I or H] per direction
 *   CONV_2D input 1 [O, KH, KW, I/groups], FLOAT32 / FLOAT16  O16, INT8  O16I4
 *     (one matrix [O, KH*KW*I/groups]; with groups > 1 only when O/groups is
 *     a multiple of 16, so the blocks are the kernel's per-group matrices)
 *   TRANSPOSE_CONV_2D input 1 [O, KH, KW, C/groups], FLOAT32  O16 (the same
 *     group rule; float16 / int8 weights go to other kernels, kept DEFAULT)
 *
 * Steps:
 *   1. count, for every constant, the live ops that read it and whether each
 *      read is a packed-layout reader (the table above);
 *   2. a dense (not sparse, not clustered) DEFAULT constant read only by such
 *      readers, never a graph output, gets its elements moved to their
 *      packed positions (src/packed_layout.h, the definition the validator,
 *      densify and qlite-dump use), padding zero, and the layout recorded —
 *      unless the padding would waste much of a small tensor (pad_wasteful:
 *      the kernel then packs the DEFAULT bytes once at prepare, a small copy,
 *      and runs the same code on it).
 * A weight another op also reads stays DEFAULT (that op would need a dense
 * copy at run time). Runs last, after quantization and the storage choice.
 */
#include <stdlib.h>
#include <string.h>

#include "packed_layout.h"
#include "passes.h"

/* O16 for float32 / float16, O16I4 for int8, else DEFAULT. */
static qlite_layout dtype_layout(qlite_dtype dt) {
    if (dt == QLITE_DTYPE_INT8) return QLITE_LAYOUT_O16I4;
    if (dt == QLITE_DTYPE_FLOAT32 || dt == QLITE_DTYPE_FLOAT16) return QLITE_LAYOUT_O16;
    return QLITE_LAYOUT_DEFAULT;
}

/* Whether a convolution's W [O, ...] with `groups` is stored as the kernel's
 * per-group matrices: one group, or groups of a multiple of 16 rows. */
static bool groups_fit(const qlc_tensor *t, int64_t groups) {
    return t->rank == 4 && groups >= 1 && t->shape[0] % groups == 0 &&
           (groups == 1 || t->shape[0] / groups % 16 == 0);
}

/* The layout op `n` reads its input `slot` in, or DEFAULT. */
static qlite_layout reader_layout(const qlc_graph *g, const qlc_node *n, uint32_t slot) {
    if (!n->lowered || n->inputs[slot] < 0) return QLITE_LAYOUT_DEFAULT;
    const qlc_tensor *t = g->tensors[n->inputs[slot]];
    switch (n->code) {
    case QLITE_OP_LSTM:
    case QLITE_OP_GRU:
        /* lstm.c / gru.c (float32) and rnn_variants.c (float16, int8, mixes) read each of
         * W and R per direction in the layout of its dtype */
        return (slot == 1 || slot == 2) && t->rank == 3 ? dtype_layout(t->dtype)
                                                        : QLITE_LAYOUT_DEFAULT;
    case QLITE_OP_CONV_2D: /* conv_2d.c / conv_2d_q8.c: `groups` matrices [O/groups, K] */
        return slot == 1 && n->opts.type == QLITE_OPTIONS_CONV_2D &&
                       groups_fit(t, n->opts.u.conv2d.groups)
                   ? dtype_layout(t->dtype)
                   : QLITE_LAYOUT_DEFAULT;
    case QLITE_OP_TRANSPOSE_CONV_2D: /* transpose_conv_2d.c, float32 only */
        return slot == 1 && n->opts.type == QLITE_OPTIONS_CONV_2D &&
                       groups_fit(t, n->opts.u.conv2d.groups) && t->dtype == QLITE_DTYPE_FLOAT32
                   ? QLITE_LAYOUT_O16
                   : QLITE_LAYOUT_DEFAULT;
    case QLITE_OP_FULLY_CONNECTED:
        return slot == 1 && t->rank == 2 ? dtype_layout(t->dtype) : QLITE_LAYOUT_DEFAULT;
    default: return QLITE_LAYOUT_DEFAULT;
    }
}

/*
 * The padding rule (docs/converter.md "Packed weights"): a float weight
 * (O16) is left DEFAULT when the padded form holds more than 1/8 more
 * elements than the tensor (few output channels, e.g. LeNet's 6-channel
 * conv1: 16/6) and is at most PAD_SMALL_BYTES. The kernel then packs it at
 * prepare into exactly those padded bytes (a small copy) and runs the same
 * code, so the file stops growing for nothing measurable. Larger weights
 * are packed whatever the waste (a prepare-time copy of them would cost
 * what zero-copy saves), and so are int8 weights: their prepare-time form
 * is padded to 64 columns (gemm_q8.h), larger than the file's 16.
 */
#define PAD_SMALL_BYTES (16u * 1024u)

static bool pad_wasteful(const qlc_tensor *t, qlite_layout layout) {
    if (layout != QLITE_LAYOUT_O16) return false;
    qlite_packed_view v;
    if (!qlite_packed_view_of(layout, (uint32_t)t->rank, t->shape, &v)) return false;
    const uint64_t logical = v.nmat * v.O * v.I, stored = qlite_packed_elems(&v);
    const uint64_t es = qlite_dtype_bits(t->dtype) / 8;
    return stored - logical > logical / 8 && stored * es <= PAD_SMALL_BYTES;
}

/* t's data moved into `layout`; false when out of memory. */
static bool pack_tensor(qlc_tensor *t, qlite_layout layout) {
    qlite_packed_view v;
    if (!qlite_packed_view_of(layout, (uint32_t)t->rank, t->shape, &v)) return false;
    const size_t es = qlite_dtype_bits(t->dtype) / 8;
    const uint64_t elems = qlite_packed_elems(&v);
    if (elems == 0 || elems > SIZE_MAX / es || v.nmat * v.O * v.I * es != t->data_size)
        return false;
    unsigned char *p = calloc((size_t)elems, es);
    if (!p) return false;
    const unsigned char *src = t->data;
    for (uint64_t b = 0; b < v.nmat; b++)
        for (uint64_t o = 0; o < v.O; o++)
            for (uint64_t i = 0; i < v.I; i++)
                memcpy(p + qlite_packed_index(layout, &v, b, o, i) * es,
                       src + ((b * v.O + o) * v.I + i) * es, es);
    free(t->data);
    t->data = p;
    t->data_size = (size_t)elems * es;
    t->weight_layout = layout;
    return true;
}

qlite_status qlc_pass_pack_weights(qlc_ctx *c, uint32_t *packed, uint64_t *bytes) {
    qlc_graph *g = c->g;
    *packed = 0;
    *bytes = 0;
    if (c->opts.no_pack) return QLITE_OK;
    /* 1. per constant: the layout its packed readers want, and whether some
     * other use (or a different wish) rules packing out */
    qlite_layout *want = calloc(g->num_tensors ? g->num_tensors : 1, sizeof *want);
    bool *other = calloc(g->num_tensors ? g->num_tensors : 1, sizeof *other);
    if (!want || !other) {
        free(want);
        free(other);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        const qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        for (uint32_t s = 0; s < n->num_inputs; s++) {
            const int32_t t = n->inputs[s];
            if (t < 0) continue;
            const qlite_layout l = reader_layout(g, n, s);
            if (l == QLITE_LAYOUT_DEFAULT || (want[t] != QLITE_LAYOUT_DEFAULT && want[t] != l))
                other[t] = true;
            else want[t] = l;
        }
    }
    for (uint32_t i = 0; i < g->num_outputs; i++)
        if (g->outputs[i] >= 0) other[g->outputs[i]] = true;
    /* 2. move the elements */
    qlite_status st = QLITE_OK;
    for (uint32_t i = 0; i < g->num_tensors && st == QLITE_OK; i++) {
        qlc_tensor *t = g->tensors[i];
        if (want[i] == QLITE_LAYOUT_DEFAULT || other[i] || !t->data || t->sparse || t->cluster ||
            t->weight_layout != QLITE_LAYOUT_DEFAULT)
            continue;
        if (pad_wasteful(t, want[i])) {
            qlc_log(c, 2, "weight '%s' kept DEFAULT: packing would pad it by more than 1/8",
                    t->name);
            continue;
        }
        if (!pack_tensor(t, want[i])) {
            st = qlite_error(QLITE_ERR_NO_MEMORY, "packing weight '%s': out of memory", t->name);
            break;
        }
        (*packed)++;
        *bytes += t->data_size;
        qlc_log(c, 2, "weight '%s' stored in layout %s", t->name,
                want[i] == QLITE_LAYOUT_O16I4 ? "O16I4" : "O16");
    }
    if (*packed) qlc_count(c, "weights packed for the kernels", *packed);
    free(want);
    free(other);
    return st;
}
