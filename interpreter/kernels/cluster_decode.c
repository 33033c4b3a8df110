/*
 * cluster_decode.c — bitstream-of-indices decoders (cluster_decode.h).
 *
 * Steps for indices [first, first + n):
 *   1. head: single indices (qlite_cluster_index) until the position is a
 *      multiple of 8 (or n runs out);
 *   2. groups: 8 indices = b bytes, assembled little-endian into a 64-bit
 *      word, entry t = book[(word >> t*b) & mask]; one specialised loop per
 *      bit width b (1..8) so every shift is a constant;
 *   3. tail: single indices again.
 */
#include "kernels/cluster_decode.h"

#include <string.h>

/* b bytes (1..8) at s as a little-endian 64-bit word. */
static inline uint64_t load_le(const uint8_t *s, unsigned b) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t g = 0;
    memcpy(&g, s, b);
    return g;
#else
    uint64_t g = 0;
    for (unsigned q = 0; q < b; q++) g |= (uint64_t)s[q] << (8 * q);
    return g;
#endif
}

#define DEFINE_DECODER(NAME, T)                                                              \
    static inline __attribute__((always_inline)) void NAME##_groups(                         \
        const uint8_t *s, size_t groups, const unsigned b, const T *book, T *out) {          \
        const uint64_t mask = (1u << b) - 1;                                                 \
        for (size_t g = 0; g < groups; g++, s += b, out += 8) {                              \
            if (b == 8) {                                                                    \
                for (unsigned t = 0; t < 8; t++) out[t] = book[s[t]];                        \
            } else {                                                                         \
                const uint64_t w = load_le(s, b);                                            \
                for (unsigned t = 0; t < 8; t++) out[t] = book[(w >> (t * b)) & mask];       \
            }                                                                                \
        }                                                                                    \
    }                                                                                        \
    void NAME(const uint8_t *stream, unsigned bits, uint64_t first, size_t n, const T *book, \
              T *out) {                                                                      \
        size_t i = 0;                                                                        \
        uint64_t j = first;                                                                  \
        for (; i < n && (j & 7); i++, j++) out[i] = book[qlite_cluster_index(stream, bits, j)]; \
        const size_t groups = (n - i) / 8;                                                   \
        const uint8_t *s = stream + (j / 8) * bits;                                          \
        switch (bits) {                                                                      \
        case 1: NAME##_groups(s, groups, 1, book, out + i); break;                           \
        case 2: NAME##_groups(s, groups, 2, book, out + i); break;                           \
        case 3: NAME##_groups(s, groups, 3, book, out + i); break;                           \
        case 4: NAME##_groups(s, groups, 4, book, out + i); break;                           \
        case 5: NAME##_groups(s, groups, 5, book, out + i); break;                           \
        case 6: NAME##_groups(s, groups, 6, book, out + i); break;                           \
        case 7: NAME##_groups(s, groups, 7, book, out + i); break;                           \
        default: NAME##_groups(s, groups, 8, book, out + i); break;                          \
        }                                                                                    \
        i += groups * 8;                                                                     \
        j += groups * 8;                                                                     \
        for (; i < n; i++, j++) out[i] = book[qlite_cluster_index(stream, bits, j)];         \
    }

DEFINE_DECODER(qlite_cluster_decode_8, uint8_t)
DEFINE_DECODER(qlite_cluster_decode_16, uint16_t)
DEFINE_DECODER(qlite_cluster_decode_32, uint32_t)
