/*
 * cluster_decode.h — reading clustered (palettized) weights in place
 * (docs/format.md §6.4): the tensor's buffer is one LSB-first bitstream of
 * `bits`-bit codebook indices (index j occupies stream bits j*bits ..
 * j*bits + bits - 1, stream bit n being bit n % 8 of byte n / 8), and the
 * codebook holds 2^bits entries, so every index a stream can hold is inside
 * it and decoding needs no bounds check on the codebook.
 *
 * The decoders turn the indices [first, first + n) into codebook entries of
 * 1, 2 or 4 bytes (int8 / float16 / float32 centroids, copied as bits). They
 * read only the bytes that hold those indices (never past the stream's
 * ceil(values * bits / 8) bytes). Eight indices of b bits fill exactly b
 * bytes, so after a head that reaches an index multiple of 8 the stream is
 * read in groups of b bytes, 8 entries per group, with the shifts fixed per
 * bit width (the compiler sees each width as a constant).
 *
 * Used by the sparse / clustered kernels (sparse_weights.h) to decode one
 * block row (or one weight row) at a time into a small per-thread buffer,
 * which the row kernels then read like stored values (4-bit streams by
 * byte-table lookups, other widths with AVX-512 VBMI 64 at a time; see
 * cluster_decode.c). The int8 and float kernels of not-sparse palettes
 * (spmm_q8_x86.c, spmm_f32.c) skip the buffer and look the centroids up
 * in registers.
 */
#ifndef QLITE_CLUSTER_DECODE_H
#define QLITE_CLUSTER_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* out[i] = book[index(first + i)] for i < n; bits in 1..8. */
void qlite_cluster_decode_8(const uint8_t *stream, unsigned bits, uint64_t first, size_t n,
                            const uint8_t *book, uint8_t *out);
void qlite_cluster_decode_16(const uint8_t *stream, unsigned bits, uint64_t first, size_t n,
                             const uint16_t *book, uint16_t *out);
void qlite_cluster_decode_32(const uint8_t *stream, unsigned bits, uint64_t first, size_t n,
                             const uint32_t *book, uint32_t *out);

/* True when the decoders (and the kernels reading palettes in registers)
 * may use AVX-512 VBMI: the CPU has it and qlite_q8_cpu_features() (within
 * its cap) includes AVX-512. */
bool qlite_cluster_vbmi(void);

/* The index at position j of a stream (the readable definition the fast
 * paths are tested against). */
static inline unsigned qlite_cluster_index(const uint8_t *stream, unsigned bits, uint64_t j) {
    const uint64_t p = j * bits;
    const unsigned shift = (unsigned)(p & 7);
    unsigned x = (unsigned)stream[p >> 3] >> shift;
    if (shift + bits > 8) x |= (unsigned)stream[(p >> 3) + 1] << (8 - shift);
    return x & ((1u << bits) - 1);
}

/* Bytes of a stream of `values` indices of `bits` bits (no overflow for values < 2^61). */
static inline uint64_t qlite_cluster_stream_bytes(uint64_t values, unsigned bits) {
    return (values / 8) * bits + ((values % 8) * bits + 7) / 8;
}

#endif /* QLITE_CLUSTER_DECODE_H */
