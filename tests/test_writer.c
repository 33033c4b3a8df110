/*
 * test_writer.c — the model writer: byte layout (FlatBuffer, zero padding,
 * aligned data, crc32), alignment option, refusal of invalid models, atomic
 * file writes (failures leave the target untouched and no temporary file),
 * argument checks, borrowed vs copied buffers, reader -> writer round trip.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "support/test_models.h"

#include "fb_schema.h"
#include "fb_verify.h"

/* A minimal valid model: input x -> RELU -> y, plus constants. */
static qlite_writer *tiny_writer(void) {
    qlite_writer *w;
    assert_qlite_ok(qlite_writer_create(&w));
    int32_t x = qlite_writer_add_tensor(w, &(qlite_tensor_info){.name = "x", .dtype = QLITE_DTYPE_FLOAT32,
                                                                .rank = 1, .shape = (int64_t[]){4}});
    int32_t y = qlite_writer_add_tensor(w, &(qlite_tensor_info){.name = "y", .dtype = QLITE_DTYPE_FLOAT32,
                                                                .rank = 1, .shape = (int64_t[]){4}});
    qlite_op_info op = {.code = QLITE_OP_RELU, .num_inputs = 1, .inputs = &x, .num_outputs = 1,
                        .outputs = &y};
    assert_int_equal(qlite_writer_add_op(w, &op), 0);
    assert_qlite_ok(qlite_writer_set_inputs(w, 1, &x));
    assert_qlite_ok(qlite_writer_set_outputs(w, 1, &y));
    return w;
}

static int32_t add_const(qlite_writer *w, const char *name, qlite_dtype dt, int64_t n, const void *p,
                         size_t bytes) {
    int64_t b = qlite_writer_add_buffer(w, p, bytes);
    assert_true(b > 0);
    int64_t *shape = malloc(sizeof *shape);
    *shape = n;
    qlite_tensor_info t = {.name = name, .dtype = dt, .rank = 1, .shape = shape, .buffer = (uint32_t)b};
    int32_t i = qlite_writer_add_tensor(w, &t);
    free(shape); /* the writer copied it */
    assert_true(i >= 0);
    return i;
}

static uint64_t load_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void test_layout_bytes(void **state) {
    (void)state;
    qlite_writer *w = tiny_writer();
    const char check[] = "123456789";
    uint8_t hundred[100];
    for (int i = 0; i < 100; i++) hundred[i] = (uint8_t)(i + 1);
    add_const(w, "check", QLITE_DTYPE_INT8, 9, check, 9);
    add_const(w, "hundred", QLITE_DTYPE_UINT8, 100, hundred, 100);
    add_const(w, "none", QLITE_DTYPE_UINT8, 0, "", 0);
    add_const(w, "one", QLITE_DTYPE_BOOL, 1, "\1", 1);
    assert_int_equal(qlite_writer_buffer_count(w), 5);
    assert_int_equal(qlite_writer_tensor_count(w), 6);
    assert_int_equal(qlite_writer_op_count(w), 1);
    void *bytes;
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(w, &bytes, &size));
    const uint8_t *p = bytes;
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_memory_equal(p + 4, "QLTE", 4);

    fb_verify_result vr;
    assert_qlite_ok(fb_verify(p, size, &fb_desc_Model, "QLTE", NULL, &vr));
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    qlite_buffer_info b[5];
    for (uint32_t i = 0; i < 5; i++) assert_qlite_ok(qlite_model_buffer(m, i, &b[i]));
    /* buffer 0 and the zero-size buffer: offset 0, size 0, crc 0 */
    assert_int_equal(b[0].offset, 0);
    assert_int_equal(b[0].size, 0);
    assert_int_equal(b[3].size, 0);
    assert_int_equal(b[3].offset, 0);
    assert_int_equal(b[3].crc32, 0);
    /* the data section starts at the first multiple of 64 after the FlatBuffer */
    assert_int_equal(b[1].offset % 64, 0);
    assert_true(b[1].offset >= vr.extent && b[1].offset < vr.extent + 64 + 8);
    for (uint64_t i = vr.extent; i < b[1].offset; i++) assert_int_equal(p[i], 0);
    /* CRC-32 check value of "123456789" (ISO-HDLC / zlib): 0xCBF43926 */
    assert_int_equal(b[1].crc32, 0xCBF43926u);
    assert_memory_equal(p + b[1].offset, check, 9);
    /* next buffers at the next multiples of 64, zero padding between */
    assert_int_equal(b[2].offset, b[1].offset + 64);
    for (uint64_t i = b[1].offset + 9; i < b[2].offset; i++) assert_int_equal(p[i], 0);
    assert_memory_equal(p + b[2].offset, hundred, 100);
    assert_int_equal(b[4].offset, b[2].offset + 128);
    assert_int_equal(p[b[4].offset], 1);
    assert_int_equal(size, b[4].offset + 1);
    /* the same values as raw bytes of the Buffer tables: the offset field is a
     * little-endian u64 somewhere in the FlatBuffer */
    int found = 0;
    for (size_t i = 8; i + 8 <= vr.extent; i += 8)
        if (load_u64(p + i) == b[2].offset) found++;
    assert_true(found >= 1);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
    qlite_writer_destroy(w);
}

static void test_alignment_option(void **state) {
    (void)state;
    qlite_writer *w = tiny_writer();
    assert_int_equal(qlite_writer_set_alignment(w, 100), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_writer_set_alignment(w, 32), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_writer_set_alignment(w, 0), QLITE_ERR_INVALID_ARGUMENT);
    assert_qlite_ok(qlite_writer_set_alignment(w, 4096));
    uint8_t a[10] = {1}, c[5000] = {2};
    add_const(w, "a", QLITE_DTYPE_UINT8, 10, a, 10);
    add_const(w, "c", QLITE_DTYPE_UINT8, 5000, c, 5000);
    add_const(w, "d", QLITE_DTYPE_UINT8, 10, a, 10);
    void *bytes;
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(w, &bytes, &size));
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, QLITE_OPEN_VERIFY_CRC, &m));
    qlite_buffer_info b1, b2, b3;
    qlite_model_buffer(m, 1, &b1);
    qlite_model_buffer(m, 2, &b2);
    qlite_model_buffer(m, 3, &b3);
    assert_int_equal(b1.offset, 4096);
    assert_int_equal(b2.offset, 8192);
    assert_int_equal(b3.offset, 16384);
    assert_int_equal(size, 16384 + 10);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
    qlite_writer_destroy(w);
}

static void test_refuses_invalid_model(void **state) {
    (void)state;
    qlite_writer *w = tiny_writer();
    int32_t bad = 99;
    int32_t z = qlite_writer_add_tensor(w, &(qlite_tensor_info){.name = "z", .rank = 1,
                                                                .shape = (int64_t[]){4}});
    qlite_op_info op = {.code = QLITE_OP_ABS, .num_inputs = 1, .inputs = &bad, .num_outputs = 1,
                        .outputs = &z};
    assert_int_equal(qlite_writer_add_op(w, &op), 1);
    void *bytes = (void *)1;
    size_t size = 7;
    assert_int_equal(qlite_writer_write_memory(w, &bytes, &size), QLITE_ERR_CORRUPT);
    assert_null(bytes);
    assert_int_equal(size, 0);
    assert_non_null(strstr(qlite_last_error(), "refusing"));
    assert_non_null(strstr(qlite_last_error(), "tensor 99"));
    qlite_writer_destroy(w);
}

/* ------------------------------------------------------------------------ */
/* Atomic file writes                                                        */
/* ------------------------------------------------------------------------ */

static int count_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, "fmt_atomic") && strstr(e->d_name, ".tmp-")) n++;
    closedir(d);
    return n;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_file_text(const char *path, const char *text) {
    size_t n;
    char *got = qlite_test_read_file(path, &n);
    assert_non_null(got);
    assert_int_equal(n, strlen(text));
    assert_memory_equal(got, text, n);
    free(got);
}

static void test_write_file_success_and_replace(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", qlite_test_tmp_path("fmt_atomic_ok.qlite"));
    unlink(path);
    qlite_writer *w = tiny_writer();
    add_const(w, "c", QLITE_DTYPE_INT8, 9, "123456789", 9);
    assert_qlite_ok(qlite_writer_write_file(w, path));
    void *bytes;
    size_t size, n;
    assert_qlite_ok(qlite_writer_write_memory(w, &bytes, &size));
    void *disk = qlite_test_read_file(path, &n);
    assert_int_equal(n, size);
    assert_memory_equal(disk, bytes, size); /* file and memory forms are the same bytes */
    free(disk);
    qlite_writer_free_bytes(bytes);
    /* permissions follow the umask like any created file */
    mode_t um = umask(022);
    umask(um);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~um);
    qlite_writer_destroy(w);

    /* replacing an existing file */
    write_text(path, "old contents");
    w = tiny_writer();
    assert_qlite_ok(qlite_writer_write_file(w, path));
    qlite_model *m;
    assert_qlite_ok(qlite_model_open(path, 0, &m));
    assert_int_equal(qlite_model_tensor_count(m), 2);
    qlite_model_close(m);
    qlite_writer_destroy(w);
    assert_int_equal(count_temp_files(QLITE_TEST_TMPDIR), 0);
    unlink(path);
}

static void test_write_file_missing_directory(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", qlite_test_tmp_path("no_such_dir/fmt_atomic.qlite"));
    qlite_writer *w = tiny_writer();
    assert_int_equal(qlite_writer_write_file(w, path), QLITE_ERR_IO);
    assert_non_null(strstr(qlite_last_error(), path));
    assert_non_null(strstr(qlite_last_error(), "No such file or directory"));
    assert_null(strchr(qlite_last_error(), '\n'));
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    qlite_writer_destroy(w);
}

static void test_write_file_invalid_model_leaves_target(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", qlite_test_tmp_path("fmt_atomic_keep.qlite"));
    write_text(path, "precious");
    qlite_writer *w = tiny_writer();
    qlite_tensor_info t = {.name = "bad", .dtype = QLITE_DTYPE_INT8, .rank = 1,
                           .shape = (int64_t[]){3}, .buffer = 7}; /* no such buffer */
    qlite_writer_add_tensor(w, &t);
    assert_int_equal(qlite_writer_write_file(w, path), QLITE_ERR_CORRUPT);
    assert_non_null(strstr(qlite_last_error(), "buffer 7 out of range"));
    assert_file_text(path, "precious");
    assert_int_equal(count_temp_files(QLITE_TEST_TMPDIR), 0);
    qlite_writer_destroy(w);
    unlink(path);
}

/* A full disk, simulated with RLIMIT_FSIZE: write() fails with EFBIG past
 * the limit exactly as it fails with ENOSPC on a full filesystem. */
static void test_write_file_disk_full(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", qlite_test_tmp_path("fmt_atomic_full.qlite"));
    write_text(path, "precious");
    qlite_writer *w = tiny_writer();
    static uint8_t big[256 * 1024];
    memset(big, 0x5a, sizeof big);
    add_const(w, "big", QLITE_DTYPE_UINT8, sizeof big, big, sizeof big);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    qlite_status st = qlite_writer_write_file(w, path);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(st, QLITE_ERR_IO);
    assert_non_null(strstr(qlite_last_error(), "write"));
    assert_non_null(strstr(qlite_last_error(), strerror(EFBIG)));
    assert_file_text(path, "precious");
    assert_int_equal(count_temp_files(QLITE_TEST_TMPDIR), 0);
    qlite_writer_destroy(w);
    unlink(path);
}

static void test_write_file_onto_directory(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", qlite_test_tmp_path("fmt_atomic_dir"));
    mkdir(path, 0755);
    qlite_writer *w = tiny_writer();
    assert_int_equal(qlite_writer_write_file(w, path), QLITE_ERR_IO);
    assert_non_null(strstr(qlite_last_error(), "rename"));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(count_temp_files(QLITE_TEST_TMPDIR), 0);
    rmdir(path);
    qlite_writer_destroy(w);
}

/* ------------------------------------------------------------------------ */

static void test_argument_checks(void **state) {
    (void)state;
    assert_int_equal(qlite_writer_create(NULL), QLITE_ERR_INVALID_ARGUMENT);
    qlite_writer_destroy(NULL);
    qlite_writer *w;
    assert_qlite_ok(qlite_writer_create(&w));
    assert_int_equal(qlite_writer_buffer_count(w), 1); /* buffer 0 */
    assert_int_equal(qlite_writer_add_buffer(w, NULL, 5), -1);
    assert_int_equal(qlite_writer_add_buffer(NULL, "x", 1), -1);
    assert_int_equal(qlite_writer_add_tensor(w, NULL), -1);
    int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(qlite_writer_add_tensor(w, &(qlite_tensor_info){.rank = 9, .shape = dims}), -1);
    assert_non_null(strstr(qlite_last_error(), "rank 9"));
    assert_int_equal(qlite_writer_add_tensor(w, &(qlite_tensor_info){.rank = 2}), -1);
    qlite_quant q = {.count = 2};
    assert_int_equal(qlite_writer_add_tensor(w, &(qlite_tensor_info){.quant = &q}), -1);
    qlite_op_info op = {.code = QLITE_OP_ADD, .num_inputs = 2};
    assert_int_equal(qlite_writer_add_op(w, &op), -1);
    op.num_inputs = 0;
    op.options.type = (qlite_options_type)77;
    assert_int_equal(qlite_writer_add_op(w, &op), -1);
    op.options.type = QLITE_OPTIONS_RESHAPE;
    op.options.u.reshape.rank = 2; /* new_shape NULL */
    assert_int_equal(qlite_writer_add_op(w, &op), -1);
    assert_int_equal(qlite_writer_set_inputs(w, 2, NULL), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_writer_add_metadata(w, NULL, "v"), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_writer_add_metadata_blob(w, "k", NULL, 3), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_writer_write_file(w, NULL), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_writer_write_memory(w, NULL, NULL), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_writer_tensor_count(w), 0);
    assert_int_equal(qlite_writer_op_count(w), 0);
    /* an empty graph is a valid model */
    void *bytes;
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(w, &bytes, &size));
    qlite_writer_free_bytes(bytes);
    qlite_writer_destroy(w);
}

static void test_borrowed_and_copied_buffers(void **state) {
    (void)state;
    qlite_writer *w = tiny_writer();
    uint8_t copied[8] = {1, 2, 3, 4, 5, 6, 7, 8}, borrowed[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t bc = qlite_writer_add_buffer(w, copied, 8);
    int64_t bb = qlite_writer_add_buffer_ref(w, borrowed, 8);
    copied[0] = borrowed[0] = 99; /* after the add */
    void *bytes;
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(w, &bytes, &size));
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    qlite_buffer_info b;
    qlite_model_buffer(m, (uint32_t)bc, &b);
    assert_int_equal(((const uint8_t *)b.data)[0], 1);
    qlite_model_buffer(m, (uint32_t)bb, &b);
    assert_int_equal(((const uint8_t *)b.data)[0], 99);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
    qlite_writer_destroy(w);
}

/* What the reader hands out can be given back to the writer field for field. */
static void test_reader_structs_write_back(void **state) {
    (void)state;
    qlite_test_model *s = qlite_test_model_new();
    qlite_test_model_everything(s);
    void *bytes;
    size_t size;
    assert_qlite_ok(qlite_test_model_bytes(s, true, &bytes, &size));
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    qlite_writer *w;
    assert_qlite_ok(qlite_writer_create(&w));
    assert_qlite_ok(qlite_writer_set_producer(w, qlite_model_producer(m)));
    assert_qlite_ok(qlite_writer_set_description(w, qlite_model_description(m)));
    assert_qlite_ok(qlite_writer_set_graph_name(w, s->graph_name));
    for (uint32_t i = 1; i < qlite_model_buffer_count(m); i++) {
        qlite_buffer_info b;
        qlite_model_buffer(m, i, &b);
        const qlite_metadata *md = qlite_model_metadata(m, 1);
        if (md->buffer == i) continue; /* the blob, re-added with its metadata */
        assert_int_equal(qlite_writer_add_buffer_ref(w, b.data, b.size), i);
    }
    for (uint32_t i = 0; i < qlite_model_metadata_count(m); i++) {
        const qlite_metadata *md = qlite_model_metadata(m, i);
        if (md->buffer)
            assert_qlite_ok(qlite_writer_add_metadata_blob(w, md->key, md->data, md->size));
        else
            assert_qlite_ok(qlite_writer_add_metadata(w, md->key, md->value));
    }
    for (uint32_t i = 0; i < qlite_model_tensor_count(m); i++)
        assert_int_equal(qlite_writer_add_tensor(w, qlite_model_tensor(m, i)), i);
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++)
        assert_int_equal(qlite_writer_add_op(w, qlite_model_op(m, i)), i);
    int32_t io[QT_MAX_TENSORS];
    for (uint32_t i = 0; i < qlite_model_input_count(m); i++) io[i] = qlite_model_input(m, i);
    assert_qlite_ok(qlite_writer_set_inputs(w, qlite_model_input_count(m), io));
    for (uint32_t i = 0; i < qlite_model_output_count(m); i++) io[i] = qlite_model_output(m, i);
    assert_qlite_ok(qlite_writer_set_outputs(w, qlite_model_output_count(m), io));
    void *again;
    size_t again_n;
    assert_qlite_ok(qlite_writer_write_memory(w, &again, &again_n));
    qlite_model *m2;
    assert_qlite_ok(qlite_model_open_memory(again, again_n, QLITE_OPEN_VERIFY_CRC, &m2));
    qlite_test_model_check(s, m2);
    qlite_model_close(m2);
    qlite_writer_free_bytes(again);
    qlite_writer_destroy(w);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
    qlite_test_model_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_bytes),
        cmocka_unit_test(test_alignment_option),
        cmocka_unit_test(test_refuses_invalid_model),
        cmocka_unit_test(test_write_file_success_and_replace),
        cmocka_unit_test(test_write_file_missing_directory),
        cmocka_unit_test(test_write_file_invalid_model_leaves_target),
        cmocka_unit_test(test_write_file_disk_full),
        cmocka_unit_test(test_write_file_onto_directory),
        cmocka_unit_test(test_argument_checks),
        cmocka_unit_test(test_borrowed_and_copied_buffers),
        cmocka_unit_test(test_reader_structs_write_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
