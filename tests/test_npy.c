/*
 * test_npy.c — .npy / .npz reading and writing against files NumPy wrote
 * (tests/data/npy/, made by make_fixtures.py; the expected values below are
 * the closed forms that script uses), hostile inputs, and NumPy reading what
 * qlite writes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "qlite_internal.h"
#include "support.h"

static const char *fixture(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/tests/data/npy/%s", QLITE_SOURCE_DIR, name);
    return buf;
}

static void load_ok(const char *name, qlite_npy_array *a) {
    assert_qlite_ok(qlite_npy_read_file(fixture(name), a));
}

static void expect_dims(const qlite_npy_array *a, qlite_dtype dtype, uint32_t rank,
                        const int64_t *dims) {
    assert_int_equal(a->dtype, dtype);
    assert_int_equal(a->rank, rank);
    for (uint32_t i = 0; i < rank; i++) assert_int_equal(a->dims[i], dims[i]);
}

/* (arange(6) * 0.5 - 1).reshape(2, 3) as float32 */
static void expect_f32_2x3(const qlite_npy_array *a) {
    expect_dims(a, QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 3});
    assert_int_equal(a->bytes, 24);
    const float *f = a->data;
    for (int i = 0; i < 6; i++) assert_true(f[i] == (float)i * 0.5f - 1.0f);
    assert_int_equal((uintptr_t)a->data % 64, 0);
}

static void test_every_dtype(void **state) {
    (void)state;
    qlite_npy_array a;
    load_ok("f32_2x3.npy", &a);
    expect_f32_2x3(&a);
    assert_null(a.name);
    qlite_npy_free(&a);

    load_ok("f16_4.npy", &a);
    expect_dims(&a, QLITE_DTYPE_FLOAT16, 1, (int64_t[]){4});
    const uint16_t *h = a.data; /* IEEE half bit patterns of 0.5, -2, 65504, 2^-24 */
    assert_int_equal(h[0], 0x3800);
    assert_int_equal(h[1], 0xC000);
    assert_int_equal(h[2], 0x7BFF);
    assert_int_equal(h[3], 0x0001);
    qlite_npy_free(&a);

    load_ok("i8_5.npy", &a);
    expect_dims(&a, QLITE_DTYPE_INT8, 1, (int64_t[]){5});
    const int8_t want8[] = {-128, -1, 0, 1, 127};
    assert_memory_equal(a.data, want8, 5);
    qlite_npy_free(&a);

    load_ok("u8_2x2.npy", &a);
    expect_dims(&a, QLITE_DTYPE_UINT8, 2, (int64_t[]){2, 2});
    const uint8_t wantu8[] = {0, 1, 254, 255};
    assert_memory_equal(a.data, wantu8, 4);
    qlite_npy_free(&a);

    load_ok("i16_3.npy", &a);
    expect_dims(&a, QLITE_DTYPE_INT16, 1, (int64_t[]){3});
    const int16_t want16[] = {-32768, 7, 32767};
    assert_memory_equal(a.data, want16, sizeof want16);
    qlite_npy_free(&a);

    load_ok("i32_2x1x2.npy", &a);
    expect_dims(&a, QLITE_DTYPE_INT32, 3, (int64_t[]){2, 1, 2});
    const int32_t want32[] = {INT32_MIN, -5, 5, INT32_MAX};
    assert_memory_equal(a.data, want32, sizeof want32);
    qlite_npy_free(&a);

    load_ok("i64_2.npy", &a);
    expect_dims(&a, QLITE_DTYPE_INT64, 1, (int64_t[]){2});
    const int64_t want64[] = {INT64_MIN, INT64_MAX};
    assert_memory_equal(a.data, want64, sizeof want64);
    qlite_npy_free(&a);

    load_ok("bool_4.npy", &a);
    expect_dims(&a, QLITE_DTYPE_BOOL, 1, (int64_t[]){4});
    const uint8_t wantb[] = {1, 0, 0, 1};
    assert_memory_equal(a.data, wantb, 4);
    qlite_npy_free(&a);
}

static void test_shapes_and_versions(void **state) {
    (void)state;
    qlite_npy_array a;
    load_ok("scalar.npy", &a);
    expect_dims(&a, QLITE_DTYPE_FLOAT32, 0, NULL);
    assert_int_equal(a.bytes, 4);
    assert_true(*(const float *)a.data == 3.0f);
    qlite_npy_free(&a);

    load_ok("empty_0x3.npy", &a);
    expect_dims(&a, QLITE_DTYPE_FLOAT32, 2, (int64_t[]){0, 3});
    assert_int_equal(a.bytes, 0);
    assert_null(a.data);
    qlite_npy_free(&a);

    load_ok("rank8.npy", &a);
    expect_dims(&a, QLITE_DTYPE_INT8, 8, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 2});
    assert_int_equal(((int8_t *)a.data)[1], 1);
    qlite_npy_free(&a);

    load_ok("v2.npy", &a);
    expect_f32_2x3(&a);
    qlite_npy_free(&a);
    load_ok("v3.npy", &a);
    expect_f32_2x3(&a);
    qlite_npy_free(&a);
}

typedef struct bad_case {
    const char *file;
    qlite_status status;
    const char *message; /* substring of qlite_last_error() */
} bad_case;

static void test_bad_npy_files(void **state) {
    (void)state;
    static const bad_case cases[] = {
        {"bad_fortran.npy", QLITE_ERR_UNSUPPORTED, "Fortran order"},
        {"bad_bigendian.npy", QLITE_ERR_UNSUPPORTED, "big-endian"},
        {"bad_f64.npy", QLITE_ERR_UNSUPPORTED, "'<f8' is not supported (float64"},
        {"bad_rank9.npy", QLITE_ERR_UNSUPPORTED, "rank above 8"},
        {"bad_structured.npy", QLITE_ERR_UNSUPPORTED, "structured"},
        {"bad_truncated_data.npy", QLITE_ERR_CORRUPT, "data is 21 bytes but"},
        {"bad_truncated_header.npy", QLITE_ERR_CORRUPT, "truncated .npy header"},
        {"bad_trailing.npy", QLITE_ERR_CORRUPT, "data is 28 bytes but"},
        {"bad_magic.npy", QLITE_ERR_CORRUPT, "not a .npy file"},
        {"bad_extra_key.npy", QLITE_ERR_CORRUPT, "unknown key 'x'"},
        {"bad_shape_lies.npy", QLITE_ERR_CORRUPT, "need 108"},
        {"bad_overflow.npy", QLITE_ERR_CORRUPT, "overflows"},
        {"does_not_exist.npy", QLITE_ERR_IO, "cannot open"},
    };
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(cases); i++) {
        qlite_npy_array a;
        qlite_status st = qlite_npy_read_file(fixture(cases[i].file), &a);
        if (st != cases[i].status || !strstr(qlite_last_error(), cases[i].message))
            print_error("%s: %s '%s'\n", cases[i].file, qlite_status_string(st),
                        qlite_last_error());
        assert_int_equal(st, cases[i].status);
        assert_non_null(strstr(qlite_last_error(), cases[i].message));
        /* the message names the file and is one line */
        assert_non_null(strstr(qlite_last_error(), cases[i].file));
        assert_null(strchr(qlite_last_error(), '\n'));
        assert_null(a.data);
    }
}

/* Header dicts NumPy would refuse, parsed from memory. */
static void test_bad_headers(void **state) {
    (void)state;
    static const char *const headers[] = {
        "{'descr': '<f4', 'fortran_order': False}",
        "{'descr': '<f4', 'shape': (1,)}",
        "{'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
        "{'descr': '<f4 , 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '=f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': 'f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
        "['descr', '<f4']",
        "",
    };
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(headers); i++) {
        uint8_t buf[256] = "\x93NUMPY\x01\x00";
        size_t hl = strlen(headers[i]);
        buf[8] = (uint8_t)(hl + 1);
        buf[9] = 0;
        memcpy(buf + 10, headers[i], hl);
        buf[10 + hl] = '\n';
        memset(buf + 11 + hl, 0, 4); /* one float of data */
        qlite_npy_array a;
        qlite_status st = qlite_npy_read_memory(buf, 15 + hl, &a);
        if (st == QLITE_OK) print_error("accepted: %s\n", headers[i]);
        assert_true(st == QLITE_ERR_CORRUPT || st == QLITE_ERR_UNSUPPORTED);
        assert_null(a.data);
    }
    /* and the same frame with a good header is accepted (the frame is right) */
    const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    uint8_t buf[256] = "\x93NUMPY\x01\x00";
    size_t hl = strlen(good);
    buf[8] = (uint8_t)(hl + 1);
    memcpy(buf + 10, good, hl);
    buf[10 + hl] = '\n';
    float one = 1.0f;
    memcpy(buf + 11 + hl, &one, 4);
    qlite_npy_array a;
    assert_qlite_ok(qlite_npy_read_memory(buf, 15 + hl, &a));
    assert_true(*(float *)a.data == 1.0f);
    qlite_npy_free(&a);
}

/* Every prefix of a valid file is refused cleanly (ASan watches the reads). */
static void test_every_truncation(void **state) {
    (void)state;
    const char *files[] = {"f32_2x3.npy", "stored.npz", "deflated.npz"};
    for (size_t f = 0; f < QLITE_ARRAY_SIZE(files); f++) {
        size_t size;
        uint8_t *data = qlite_test_read_file(fixture(files[f]), &size);
        assert_non_null(data);
        bool npz = f > 0;
        for (size_t n = 0; n < size; n++) {
            uint8_t *copy = malloc(n ? n : 1); /* exact size: any overread is caught */
            memcpy(copy, data, n);
            qlite_status st;
            if (npz) {
                qlite_npz z;
                st = qlite_npz_read_memory(copy, n, &z);
                assert_null(z.arrays);
            } else {
                qlite_npy_array a;
                st = qlite_npy_read_memory(copy, n, &a);
            }
            assert_int_equal(st, QLITE_ERR_CORRUPT);
            free(copy);
        }
        free(data);
    }
}

/* Flip every bit of a stored and a deflated archive: each result is either a
 * clean error or (bits the format does not protect, e.g. timestamps) success. */
static void test_bit_flips(void **state) {
    (void)state;
    const char *files[] = {"stored.npz", "deflated.npz"};
    for (size_t f = 0; f < QLITE_ARRAY_SIZE(files); f++) {
        size_t size;
        uint8_t *data = qlite_test_read_file(fixture(files[f]), &size);
        assert_non_null(data);
        size_t ok = 0, bad = 0;
        for (size_t i = 0; i < size * 8; i++) {
            data[i / 8] ^= (uint8_t)(1u << (i % 8));
            qlite_npz z;
            qlite_status st = qlite_npz_read_memory(data, size, &z);
            if (st == QLITE_OK) {
                ok++;
                qlite_npz_free(&z);
            } else {
                bad++;
                assert_true(st == QLITE_ERR_CORRUPT || st == QLITE_ERR_UNSUPPORTED);
            }
            data[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        /* the crc32s protect the data: most flips must be caught */
        assert_true(bad > ok);
        free(data);
    }
}

static void expect_xy(const qlite_npz *z) {
    assert_int_equal(z->count, 2);
    assert_string_equal(z->arrays[0].name, "x");
    assert_string_equal(z->arrays[1].name, "y");
    expect_f32_2x3(&z->arrays[0]);
    expect_dims(&z->arrays[1], QLITE_DTYPE_INT8, 1, (int64_t[]){5});
    const int8_t want8[] = {-128, -1, 0, 1, 127};
    assert_memory_equal(z->arrays[1].data, want8, 5);
}

static void test_npz(void **state) {
    (void)state;
    qlite_npz z;
    assert_qlite_ok(qlite_npz_read_file(fixture("stored.npz"), &z));
    expect_xy(&z);
    qlite_npz_free(&z);
    assert_qlite_ok(qlite_npz_read_file(fixture("deflated.npz"), &z));
    expect_xy(&z);
    qlite_npz_free(&z);
    /* qlite_npy_load tells .npy from .npz */
    assert_qlite_ok(qlite_npy_load(fixture("deflated.npz"), &z));
    expect_xy(&z);
    qlite_npz_free(&z);
    assert_qlite_ok(qlite_npy_load(fixture("f32_2x3.npy"), &z));
    assert_int_equal(z.count, 1);
    assert_null(z.arrays[0].name);
    expect_f32_2x3(&z.arrays[0]);
    qlite_npz_free(&z);
    qlite_npz_free(NULL);
    qlite_npy_free(NULL);
}

static void test_bad_npz_files(void **state) {
    (void)state;
    static const bad_case cases[] = {
        {"bad_crc.npz", QLITE_ERR_CORRUPT, "member 'x.npy': crc32 mismatch"},
        {"bad_truncated.npz", QLITE_ERR_CORRUPT, "no end-of-central-directory"},
        {"bad_deflate.npz", QLITE_ERR_CORRUPT, "member 'x.npy'"},
        {"bad_member.npz", QLITE_ERR_UNSUPPORTED, "member 'readme.txt' is not a .npy array"},
        {"f32_2x3.npy", QLITE_ERR_CORRUPT, "not a zip/.npz file"},
    };
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(cases); i++) {
        qlite_npz z;
        qlite_status st = qlite_npz_read_file(fixture(cases[i].file), &z);
        if (st != cases[i].status || !strstr(qlite_last_error(), cases[i].message))
            print_error("%s: %s '%s'\n", cases[i].file, qlite_status_string(st),
                        qlite_last_error());
        assert_int_equal(st, cases[i].status);
        assert_non_null(strstr(qlite_last_error(), cases[i].message));
        assert_null(z.arrays);
        assert_int_equal(z.count, 0);
    }
}

/* qlite's .npy writer produces byte for byte what numpy.save wrote. */
static void test_write_npy_matches_numpy(void **state) {
    (void)state;
    const char *files[] = {"f32_2x3.npy", "f16_4.npy", "i8_5.npy", "u8_2x2.npy", "i16_3.npy",
                           "i32_2x1x2.npy", "i64_2.npy", "bool_4.npy", "scalar.npy",
                           "empty_0x3.npy", "rank8.npy"};
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(files); i++) {
        size_t want_size;
        uint8_t *want = qlite_test_read_file(fixture(files[i]), &want_size);
        assert_non_null(want);
        qlite_npy_array a;
        load_ok(files[i], &a);
        void *got;
        size_t got_size;
        assert_qlite_ok(qlite_npy_write_memory(&a, &got, &got_size));
        if (got_size != want_size || memcmp(got, want, want_size) != 0)
            print_error("%s differs from numpy's bytes\n", files[i]);
        assert_int_equal(got_size, want_size);
        assert_memory_equal(got, want, want_size);
        free(got);
        qlite_npy_free(&a);
        free(want);
    }
    /* write refuses what it cannot represent */
    qlite_npy_array bad = {.dtype = QLITE_DTYPE_INT4, .rank = 1, .dims = {2}, .bytes = 1,
                           .data = (void *)"x"};
    void *out;
    size_t size;
    assert_int_equal(qlite_npy_write_memory(&bad, &out, &size), QLITE_ERR_UNSUPPORTED);
    bad.dtype = QLITE_DTYPE_FLOAT32;
    assert_int_equal(qlite_npy_write_memory(&bad, &out, &size), QLITE_ERR_INVALID_ARGUMENT);
    assert_null(out);
}

static int have_numpy(void) {
    return system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* NumPy reads the .npy and .npz files qlite writes (checked by NumPy itself). */
static void test_numpy_reads_ours(void **state) {
    (void)state;
    if (!have_numpy()) skip();
    float x[6];
    for (int i = 0; i < 6; i++) x[i] = (float)i * 0.25f;
    int16_t y[3] = {-3, 0, 300};
    qlite_npy_array arrays[2] = {
        {.name = "feat", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2, .dims = {3, 2}, .data = x,
         .bytes = sizeof x},
        {.name = "lab", .dtype = QLITE_DTYPE_INT16, .rank = 1, .dims = {3}, .data = y,
         .bytes = sizeof y},
    };
    char npy[1024], npz[1024], cmd[8192];
    snprintf(npy, sizeof npy, "%s", qlite_test_tmp_path("ours.npy"));
    snprintf(npz, sizeof npz, "%s", qlite_test_tmp_path("ours.npz"));
    assert_qlite_ok(qlite_npy_write_file(npy, &arrays[0]));
    assert_qlite_ok(qlite_npz_write_file(npz, 2, arrays));
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np, zipfile, sys\n"
             "a = np.load('%s')\n"
             "assert a.dtype == np.float32 and a.shape == (3, 2), a\n"
             "assert (a.ravel() == np.arange(6) * 0.25).all()\n"
             "z = np.load('%s')\n"
             "assert sorted(z.files) == ['feat', 'lab']\n"
             "assert (z['feat'] == a).all() and z['lab'].dtype == np.int16\n"
             "assert z['lab'].tolist() == [-3, 0, 300]\n"
             "assert zipfile.ZipFile('%s').testzip() is None\n\"",
             npy, npz, npz);
    assert_int_equal(system(cmd), 0);
    /* and we read back what we wrote */
    qlite_npz z;
    assert_qlite_ok(qlite_npy_load(npz, &z));
    assert_int_equal(z.count, 2);
    assert_string_equal(z.arrays[1].name, "lab");
    assert_memory_equal(z.arrays[1].data, y, sizeof y);
    qlite_npz_free(&z);
    /* a write to a missing directory fails and leaves nothing behind */
    assert_int_equal(qlite_npy_write_file(qlite_test_tmp_path("no/such/dir/a.npy"), &arrays[0]),
                     QLITE_ERR_IO);
    /* duplicate names are refused */
    arrays[1].name = "feat";
    void *out;
    size_t size;
    assert_int_equal(qlite_npz_write_memory(2, arrays, &out, &size), QLITE_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dtype),
        cmocka_unit_test(test_shapes_and_versions),
        cmocka_unit_test(test_bad_npy_files),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_npz),
        cmocka_unit_test(test_bad_npz_files),
        cmocka_unit_test(test_write_npy_matches_numpy),
        cmocka_unit_test(test_numpy_reads_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
