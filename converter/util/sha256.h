/*
 * sha256.h — SHA-256 (FIPS 180-4) for the source-model hash in metadata.
 */
#ifndef QLITE_CONVERTER_SHA256_H
#define QLITE_CONVERTER_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct qlc_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
} qlc_sha256;

void qlc_sha256_init(qlc_sha256 *s);
void qlc_sha256_update(qlc_sha256 *s, const void *data, size_t size);
void qlc_sha256_final(qlc_sha256 *s, uint8_t digest[32]);
/* Lower-case hex of a digest into hex[65]. */
void qlc_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
