/*
 * atomic_write.h — write a file so that it either appears complete or not at all.
 */
#ifndef QLITE_CONVERTER_ATOMIC_WRITE_H
#define QLITE_CONVERTER_ATOMIC_WRITE_H

#include <stddef.h>

#include "qlite/qlite.h"

/* Writes size bytes to a temporary file in path's directory, fsyncs it,
 * renames it over path and fsyncs the directory. On failure the temporary
 * file is removed and path is untouched (QLITE_ERR_IO with errno's text). */
qlite_status qlc_write_atomic(const char *path, const void *data, size_t size);

#endif
