/*
 * gzip_size.h — the size a buffer would have as a gzip file (zlib, level 6,
 * the default of gzip(1)), computed by streaming through a small buffer.
 */
#ifndef QLITE_CONVERTER_GZIP_SIZE_H
#define QLITE_CONVERTER_GZIP_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of gzip -6 of data[0..size); 0 when zlib fails (out of memory). */
uint64_t qlc_gzip_size(const void *data, size_t size);

#endif
