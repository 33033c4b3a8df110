/*
 * packed_weights.c — weights in the layout of the GEMM micro-kernels, from
 * the mapping or packed once at prepare (packed_weights.h).
 */
#include "packed_weights.h"

#include <string.h>

#include "gemm_f32.h"
#include "gemm_q8.h"

bool qlite_weights_stored_packed(const qlite_tensor *w, qlite_layout layout) {
    return w->is_const && w->info->layout == layout && w->data && w->data == w->info->data &&
           w->dtype == w->info->dtype;
}

/* A constant handed over as stored in a packed layout other than `want`
 * (e.g. float weights in O16I4): the kernel cannot read it. */
static qlite_status check_layout(qlite_node *node, const qlite_tensor *w, const char *what,
                                 qlite_layout want) {
    if (w->data && w->data == w->info->data && w->info->layout != QLITE_LAYOUT_DEFAULT &&
        w->info->layout != want)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED,
                                "%s '%s': %s weights stored in packed layout %d, which this "
                                "kernel does not read",
                                what, w->info->name, qlite_dtype_name(w->dtype),
                                (int)w->info->layout);
    return QLITE_OK;
}

/* nmat * N * K elements, and the stored size of the packed form, checked
 * against the tensor's element count and bytes. */
static qlite_status check_view(qlite_node *node, const qlite_tensor *w, const char *what,
                               size_t nmat, size_t N, size_t K, size_t stored_bytes) {
    size_t elems = 1;
    for (uint32_t d = 0; d < w->rank; d++) elems *= (size_t)w->dims[d];
    if (nmat * N * K != elems)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "%s '%s' does not hold %zu x [%zu, %zu]",
                                what, w->info->name, nmat, N, K);
    if (stored_bytes && w->info->data_size < stored_bytes)
        return qlite_node_error(node, QLITE_ERR_CORRUPT, "%s '%s': packed data too short", what,
                                w->info->name);
    return QLITE_OK;
}

qlite_status qlite_o16_weights_get(qlite_node *node, const qlite_tensor *w, const char *what,
                                   size_t nmat, size_t N, size_t K, qlite_o16_weights *out) {
    if (w->dtype != QLITE_DTYPE_FLOAT32 && w->dtype != QLITE_DTYPE_FLOAT16)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "%s '%s' must be float32 or float16",
                                what, w->info->name);
    if (!w->is_const || !w->data)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "%s '%s' must be a constant",
                                what, w->info->name);
    qlite_status st = check_layout(node, w, what, QLITE_LAYOUT_O16);
    if (st) return st;
    out->half = w->dtype == QLITE_DTYPE_FLOAT16;
    out->mat_elems = qlite_gemm_o16_elems(K, N);
    const size_t es = out->half ? 2 : 4;
    out->in_place = qlite_weights_stored_packed(w, QLITE_LAYOUT_O16);
    st = check_view(node, w, what, nmat, N, K, out->in_place ? nmat * out->mat_elems * es : 0);
    if (st) return st;
    if (out->in_place) {
        out->data = w->data;
        return QLITE_OK;
    }
    void *p = qlite_node_alloc(node, nmat * out->mat_elems * es + 64);
    if (!p) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    for (size_t b = 0; b < nmat; b++) {
        if (out->half)
            qlite_gemm_o16_pack_f16(K, N, (const uint16_t *)w->data + b * N * K, K, true,
                                    (uint16_t *)p + b * out->mat_elems);
        else
            qlite_gemm_o16_pack_f32(K, N, (const float *)w->data + b * N * K, K, true,
                                    (float *)p + b * out->mat_elems);
    }
    out->data = p;
    return QLITE_OK;
}

/*
 * Row sums of one O16I4 16-column block of nq 64-byte steps (column c's 4
 * bytes of step q at q * 64 + c * 4) into sums[0..cnt): read once, in order,
 * into 64 int32 lane sums (a loop the compiler vectorizes), flushed to int64
 * every 2^20 steps (|lane sum| <= 128 * 2^20 < 2^31), the 4 lanes of a column
 * added at the end. The same integers as summing each column's bytes.
 */
static void o16i4_block_sums(const int8_t *blk, size_t nq, size_t cnt, int64_t *sums) {
    int64_t tot[64] = {0};
    for (size_t q0 = 0; q0 < nq; q0 += (size_t)1 << 20) {
        const size_t q1 = nq - q0 > ((size_t)1 << 20) ? q0 + ((size_t)1 << 20) : nq;
        int32_t lane[64] = {0};
        for (size_t q = q0; q < q1; q++)
            for (size_t j = 0; j < 64; j++) lane[j] += blk[q * 64 + j];
        for (size_t j = 0; j < 64; j++) tot[j] += lane[j];
    }
    for (size_t c = 0; c < cnt; c++)
        sums[c] = tot[4 * c] + tot[4 * c + 1] + tot[4 * c + 2] + tot[4 * c + 3];
}

qlite_status qlite_o16i4_weights_get(qlite_node *node, const qlite_tensor *w, const char *what,
                                     size_t nmat, size_t N, size_t K,
                                     qlite_o16i4_weights *out, int64_t *wsum) {
    if (w->dtype != QLITE_DTYPE_INT8)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "%s '%s' must be int8", what,
                                w->info->name);
    if (!w->is_const || !w->data)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "%s '%s' must be a constant",
                                what, w->info->name);
    qlite_status st = check_layout(node, w, what, QLITE_LAYOUT_O16I4);
    if (st) return st;
    const size_t K4 = qlite_gemm_q8_k4(K);
    out->mat_bytes = (N + 15) / 16 * 16 * K4;
    out->in_place = qlite_weights_stored_packed(w, QLITE_LAYOUT_O16I4);
    st = check_view(node, w, what, nmat, N, K, out->in_place ? nmat * out->mat_bytes : 0);
    if (st) return st;
    if (out->in_place) {
        out->data = w->data;
        if (wsum)
            for (size_t b = 0; b < nmat; b++)
                for (size_t n0 = 0; n0 < N; n0 += 16)
                    o16i4_block_sums(out->data + b * out->mat_bytes + n0 / 16 * K4 * 16, K4 / 4,
                                     N - n0 < 16 ? N - n0 : 16, wsum + b * N + n0);
        return QLITE_OK;
    }
    /* the micro-kernels may read whole 64-column groups (gemm_q8.h): the
     * last matrix is padded to round_up(N, 64) columns */
    const size_t total = (nmat - 1) * out->mat_bytes + qlite_gemm_q8_packed_size(K, N);
    int8_t *p = qlite_node_alloc(node, nmat == 0 ? 64 : total + 64);
    if (!p) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    memset(p, 0, nmat == 0 ? 64 : total + 64);
    const int8_t *src = w->data;
    for (size_t b = 0; b < nmat; b++) {
        qlite_gemm_q8_pack(K, N, src + b * N * K, K, true, 0, 0, (N + 15) / 16,
                           p + b * out->mat_bytes, NULL);
        if (wsum)
            for (size_t n = 0; n < N; n++) {
                int64_t sum = 0;
                for (size_t k = 0; k < K; k++) sum += src[(b * N + n) * K + k];
                wsum[b * N + n] = sum;
            }
    }
    out->data = p;
    return QLITE_OK;
}
