/*
 * gzip_size.c — see gzip_size.h.
 */
#include "gzip_size.h"

#include <string.h>
#include <zlib.h>

uint64_t qlc_gzip_size(const void *data, size_t size) {
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper (header + crc32 + length), like gzip(1) */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    unsigned char out[16384];
    const unsigned char *p = data;
    uint64_t total = 0;
    size_t left = size;
    int flush = Z_NO_FLUSH, rc = Z_OK;
    do {
        if (z.avail_in == 0 && left) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            z.next_in = (unsigned char *)(uintptr_t)p;
            z.avail_in = chunk;
            p += chunk;
            left -= chunk;
        }
        flush = left || z.avail_in ? Z_NO_FLUSH : Z_FINISH;
        z.next_out = out;
        z.avail_out = sizeof out;
        rc = deflate(&z, flush);
        if (rc == Z_STREAM_ERROR) break;
        total += sizeof out - z.avail_out;
    } while (rc != Z_STREAM_END);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? total : 0;
}
