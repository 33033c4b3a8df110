/*
 * npy.h — NumPy .npy and .npz files (internal API of libqlite; used by
 * qlite-run and by the converter's calibration).
 *
 * .npy (numpy.lib.format, versions 1.0, 2.0 and 3.0):
 *   bytes 0..5   "\x93NUMPY"
 *   byte  6, 7   major, minor version (1.0, 2.0 or 3.0)
 *   then         header length: uint16 LE (1.0) or uint32 LE (2.0, 3.0)
 *   then         the header: a Python dict literal with exactly the keys
 *                'descr' (a dtype string such as '<f4'), 'fortran_order'
 *                (True/False) and 'shape' (a tuple of ints), padded with
 *                spaces and ended by '\n' (latin-1 in 1.0/2.0, utf-8 in 3.0)
 *   then         the raw elements, C order, product(shape) * itemsize bytes.
 * Supported dtypes: little-endian float32 ('<f4'), float16 ('<f2'), int8
 * ('|i1'), uint8 ('|u1'), int16 ('<i2'), int32 ('<i4'), int64 ('<i8') and
 * bool ('|b1'). Fortran order, big-endian data, structured or object dtypes
 * and ranks above QLITE_MAX_RANK are refused with a one-line message.
 *
 * .npz (what numpy.savez / savez_compressed write): a zip archive whose
 * members are .npy files named "<array name>.npy"; members stored or
 * deflated (zlib), zip64 records accepted. Arrays are returned in archive
 * order with the ".npy" suffix removed.
 *
 * Every length, count and offset read from a file is checked against the
 * bytes present and against overflow before use: corrupt or hostile input
 * gives QLITE_ERR_CORRUPT (or UNSUPPORTED for a valid feature qlite does not
 * take) with a one-line message in qlite_last_error(), never a crash.
 *
 * Ownership: qlite_npy_array owns `data` (64-byte aligned) and `name`;
 * release with qlite_npy_free / qlite_npz_free. Writers copy nothing and
 * keep no reference.
 */
#ifndef QLITE_NPY_H
#define QLITE_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"

typedef struct qlite_npy_array {
    char *name;                    /* .npz member name without ".npy"; NULL for a .npy */
    qlite_dtype dtype;
    uint32_t rank;                 /* 0 = a scalar (one element) */
    int64_t dims[QLITE_MAX_RANK];
    void *data;                    /* bytes elements, C order; NULL when bytes is 0 */
    size_t bytes;                  /* product(dims) * element size */
} qlite_npy_array;

typedef struct qlite_npz {
    uint32_t count;
    qlite_npy_array *arrays;       /* [count], archive order */
} qlite_npz;

/* Largest file the readers accept (and largest inflated member): 16 GiB. */
#define QLITE_NPY_MAX_BYTES ((uint64_t)16 << 30)

/* Parses one .npy image. On failure *out is zeroed. */
qlite_status qlite_npy_read_memory(const void *data, size_t size, qlite_npy_array *out);
qlite_status qlite_npy_read_file(const char *path, qlite_npy_array *out);
void qlite_npy_free(qlite_npy_array *array); /* NULL is a no-op; frees name and data */

/* Parses a .npz image / file. On failure *out is zeroed. */
qlite_status qlite_npz_read_memory(const void *data, size_t size, qlite_npz *out);
qlite_status qlite_npz_read_file(const char *path, qlite_npz *out);
void qlite_npz_free(qlite_npz *npz); /* NULL is a no-op */

/*
 * Reads a .npy or a .npz file, told apart by their magic bytes. A .npy gives
 * one array whose name is NULL.
 */
qlite_status qlite_npy_load(const char *path, qlite_npz *out);

/* Element size in bytes of a dtype .npy can hold (0 for INT4 / invalid). */
size_t qlite_npy_dtype_size(qlite_dtype dtype);

/*
 * Serializes one array as .npy (version 1.0, or 2.0 when the header needs
 * it) into malloc'd memory (*out, *size; free with free()).
 * array->bytes must equal product(dims) * element size.
 */
qlite_status qlite_npy_write_memory(const qlite_npy_array *array, void **out, size_t *size);
/* Writes a .npy file atomically (temporary file + rename). */
qlite_status qlite_npy_write_file(const char *path, const qlite_npy_array *array);

/*
 * Writes a .npz (members stored, not compressed) holding `count` arrays named
 * arrays[i].name + ".npy", atomically. Names must be non-empty and distinct.
 */
qlite_status qlite_npz_write_file(const char *path, uint32_t count,
                                  const qlite_npy_array *arrays);
qlite_status qlite_npz_write_memory(uint32_t count, const qlite_npy_array *arrays, void **out,
                                    size_t *size);

#endif /* QLITE_NPY_H */
