/*
 * test_fb.c — the FlatBuffers builder, reader and verifier on their own:
 *   - builder -> verifier -> reader round trip of every kind of field
 *     (scalars of each size, strings, scalar vectors, tables, vectors of
 *     tables, unions), defaults, vtable sharing, alignment;
 *   - the verifier rejecting each structural defect with a message naming it;
 *   - depth and table-count limits, unknown fields skipped;
 *   - fb_schema.c's descriptors against schema/qlite.fbs itself (parsed here).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#include "fb_reader.h"
#include "fb_schema.h"
#include "fb_verify.h"
#include "writer/fb_builder.h"

/* ------------------------------------------------------------------------ */
/* A test schema (recursive, so depth limits can be reached):
 *   table Leaf { v: int; }
 *   union Opt { Leaf }
 *   table Node { i8: byte; u16: ushort; i32: int; u64: ulong; f32: float;
 *                name: string; bytes: [ubyte]; shorts: [short]; ints: [int];
 *                longs: [long]; child: Node; kids: [Node]; opt: Opt; }        */

enum { N_I8, N_U16, N_I32, N_U64, N_F32, N_NAME, N_BYTES, N_SHORTS, N_INTS, N_LONGS, N_CHILD,
       N_KIDS, N_OPT_TYPE, N_OPT, N_COUNT };

static const fb_field_desc leaf_fields[] = {{"v", FB_KIND_SCALAR, 4, NULL, NULL}};
static const fb_table_desc leaf_desc = {"Leaf", 1, leaf_fields};
static const fb_table_desc *const opt_members[] = {&leaf_desc};
static const fb_union_desc opt_desc = {"Opt", 1, opt_members};
extern const fb_table_desc node_desc;
static const fb_field_desc node_fields[N_COUNT] = {
    [N_I8] = {"i8", FB_KIND_SCALAR, 1, NULL, NULL},
    [N_U16] = {"u16", FB_KIND_SCALAR, 2, NULL, NULL},
    [N_I32] = {"i32", FB_KIND_SCALAR, 4, NULL, NULL},
    [N_U64] = {"u64", FB_KIND_SCALAR, 8, NULL, NULL},
    [N_F32] = {"f32", FB_KIND_SCALAR, 4, NULL, NULL},
    [N_NAME] = {"name", FB_KIND_STRING, 1, NULL, NULL},
    [N_BYTES] = {"bytes", FB_KIND_VECTOR, 1, NULL, NULL},
    [N_SHORTS] = {"shorts", FB_KIND_VECTOR, 2, NULL, NULL},
    [N_INTS] = {"ints", FB_KIND_VECTOR, 4, NULL, NULL},
    [N_LONGS] = {"longs", FB_KIND_VECTOR, 8, NULL, NULL},
    [N_CHILD] = {"child", FB_KIND_TABLE, 4, &node_desc, NULL},
    [N_KIDS] = {"kids", FB_KIND_TABLE_VECTOR, 4, &node_desc, NULL},
    [N_OPT_TYPE] = {"opt_type", FB_KIND_UNION_TYPE, 1, NULL, &opt_desc},
    [N_OPT] = {"opt", FB_KIND_UNION, 4, NULL, &opt_desc},
};
const fb_table_desc node_desc = {"Node", N_COUNT, node_fields};

/* A node with every field set; returns its ref. */
static fbb_ref full_node(fbb *b, fbb_ref child, fbb_ref kids) {
    fbb_ref name = fbb_cstring(b, "hello");
    fbb_ref bytes = fbb_vector(b, (uint8_t[]){1, 2, 3}, 3, 1);
    fbb_ref shorts = fbb_vector(b, (int16_t[]){-1, 300, 7}, 3, 2);
    fbb_ref ints = fbb_vector(b, (int32_t[]){-70000, 5}, 2, 4);
    fbb_ref longs = fbb_vector(b, (int64_t[]){1, INT64_MIN, 0x123456789abcdefLL}, 3, 8);
    fbb_table_begin(b);
    fbb_add_i32(b, 0, 77);
    fbb_ref leaf = fbb_table_end(b);
    fbb_table_begin(b);
    fbb_add_i8(b, N_I8, -5);
    fbb_add_scalar(b, N_U16, &(uint16_t){65000}, 2);
    fbb_add_i32(b, N_I32, -123456);
    fbb_add_u64(b, N_U64, 0xfedcba9876543210ull);
    fbb_add_f32(b, N_F32, 3.25f);
    fbb_add_ref(b, N_NAME, name);
    fbb_add_ref(b, N_BYTES, bytes);
    fbb_add_ref(b, N_SHORTS, shorts);
    fbb_add_ref(b, N_INTS, ints);
    fbb_add_ref(b, N_LONGS, longs);
    fbb_add_ref(b, N_CHILD, child);
    fbb_add_ref(b, N_KIDS, kids);
    fbb_add_u8(b, N_OPT_TYPE, 1);
    fbb_add_ref(b, N_OPT, leaf);
    return fbb_table_end(b);
}

static const uint8_t *build_full(fbb *b, size_t *size) {
    fbb_init(b);
    fbb_table_begin(b);
    fbb_add_i32(b, N_I32, 1);
    fbb_ref k1 = fbb_table_end(b);
    fbb_table_begin(b);
    fbb_add_i32(b, N_I32, 2);
    fbb_ref k2 = fbb_table_end(b);
    fbb_ref kids = fbb_vector_refs(b, (fbb_ref[]){k1, k2}, 2);
    fbb_table_begin(b);
    fbb_add_i8(b, N_I8, 9);
    fbb_ref child = fbb_table_end(b);
    fbb_ref root = full_node(b, child, kids);
    assert_true(fbb_finish(b, root, "TEST"));
    return fbb_data(b, size);
}

static void test_round_trip_every_kind(void **state) {
    (void)state;
    fbb b;
    size_t size;
    const uint8_t *p = build_full(&b, &size);
    assert_int_equal(size % 8, 0); /* padded to the largest alignment used */
    assert_memory_equal(p + 4, "TEST", 4);
    fb_verify_result vr;
    assert_qlite_ok(fb_verify(p, size, &node_desc, "TEST", NULL, &vr));
    assert_int_equal(vr.tables, 5); /* root, child, 2 kids, the union member */
    assert_true(vr.extent <= size && vr.extent + 8 > size);

    fb_table t = fb_root(p);
    assert_int_equal(fb_get_i8(&t, N_I8, 0), -5);
    assert_int_equal(fb_load_u16(p + fb_field_pos(&t, N_U16)), 65000);
    assert_int_equal(fb_get_i32(&t, N_I32, 0), -123456);
    assert_int_equal(fb_get_u64(&t, N_U64, 0), 0xfedcba9876543210ull);
    assert_true(fb_get_f32(&t, N_F32, 0) == 3.25f);
    uint32_t len;
    assert_string_equal(fb_get_string(&t, N_NAME, &len), "hello");
    assert_int_equal(len, 5);
    fb_vector v;
    assert_true(fb_get_vector(&t, N_BYTES, &v));
    assert_int_equal(v.len, 3);
    assert_int_equal(fb_vector_u8(&v, 2), 3);
    assert_true(fb_get_vector(&t, N_SHORTS, &v));
    assert_int_equal((int16_t)fb_load_u16(p + v.pos + 2), 300);
    assert_int_equal(v.pos % 2, 0);
    assert_true(fb_get_vector(&t, N_INTS, &v));
    assert_int_equal(fb_vector_i32(&v, 0), -70000);
    assert_true(fb_get_vector(&t, N_LONGS, &v));
    assert_int_equal(v.pos % 8, 0);
    assert_int_equal(fb_vector_i64(&v, 1), INT64_MIN);
    assert_int_equal(fb_vector_i64(&v, 2), 0x123456789abcdefLL);
    fb_table c = {0};
    assert_true(fb_get_table(&t, N_CHILD, &c));
    assert_int_equal(fb_get_i8(&c, N_I8, 0), 9);
    assert_int_equal(fb_get_i32(&c, N_I32, 42), 42); /* absent: default */
    assert_false(fb_get_table(&c, N_CHILD, &c));
    assert_true(fb_get_vector(&t, N_KIDS, &v));
    assert_int_equal(v.len, 2);
    fb_table k = fb_vector_table(&v, 1);
    assert_int_equal(fb_get_i32(&k, N_I32, 0), 2);
    assert_int_equal(fb_get_u8(&t, N_OPT_TYPE, 0), 1);
    fb_table leaf = {0};
    assert_true(fb_get_table(&t, N_OPT, &leaf));
    assert_int_equal(fb_get_i32(&leaf, 0, 0), 77);
    /* field ids beyond the vtable read as absent */
    assert_int_equal(fb_get_i32(&leaf, 5, -9), -9);
    assert_null(fb_get_string(&leaf, 3, NULL));
    fbb_free(&b);
}

static void test_defaults_and_vtable_sharing(void **state) {
    (void)state;
    fbb b;
    fbb_init(&b);
    fbb_ref refs[3];
    /* Tables 0 and 1: i8 and u16 (vtable of 8 bytes keeps the alignment
     * pattern identical, so their vtables are byte-equal and shared). */
    for (int i = 0; i < 3; i++) {
        fbb_table_begin(&b);
        fbb_add_i32_d(&b, N_I32, 1, 1); /* equal to the default: not written */
        fbb_add_bool_d(&b, N_I8, true, false);
        if (i < 2) fbb_add_scalar(&b, N_U16, &(uint16_t){7}, 2);
        else fbb_add_f32_d(&b, N_F32, -0.0f, 0.0f); /* -0 differs bitwise: written */
        refs[i] = fbb_table_end(&b);
    }
    fbb_ref kids = fbb_vector_refs(&b, refs, 3);
    fbb_table_begin(&b);
    fbb_add_ref(&b, N_KIDS, kids);
    assert_true(fbb_finish(&b, fbb_table_end(&b), NULL));
    size_t size;
    const uint8_t *p = fbb_data(&b, &size);
    assert_qlite_ok(fb_verify(p, size, &node_desc, NULL, NULL, NULL));
    fb_table root = fb_root(p);
    fb_vector v;
    fb_get_vector(&root, N_KIDS, &v);
    fb_table t0 = fb_vector_table(&v, 0), t1 = fb_vector_table(&v, 1), t2 = fb_vector_table(&v, 2);
    assert_false(fb_has(&t0, N_I32));
    assert_int_equal(fb_get_i32(&t0, N_I32, 1), 1);
    assert_true(fb_get_bool(&t0, N_I8, false));
    assert_int_equal(fb_load_u16(p + fb_field_pos(&t1, N_U16)), 7);
    assert_int_equal(t0.vt, t1.vt); /* identical layouts share one vtable */
    assert_int_not_equal(t1.vt, t2.vt);
    assert_true(fb_has(&t2, N_F32));
    assert_true(signbit(fb_get_f32(&t2, N_F32, 1.0f)));
    fbb_free(&b);
}

static void test_builder_misuse(void **state) {
    (void)state;
    fbb b;
    fbb_init(&b);
    fbb_table_begin(&b);
    fbb_cstring(&b, "inside a table"); /* objects must be built before the table */
    assert_true(b.failed);
    assert_false(fbb_finish(&b, 8, NULL));
    size_t n = 9;
    assert_null(fbb_data(&b, &n));
    assert_int_equal(n, 0);
    fbb_free(&b);

    fbb_init(&b);
    fbb_table_begin(&b);
    fbb_add_i32(&b, 1, 1);
    fbb_add_i32(&b, 1, 2);
    assert_true(b.failed);
    assert_string_equal(b.error, "field added twice");
    fbb_free(&b);

    fbb_init(&b);
    fbb_add_i32(&b, 1, 1);
    assert_true(b.failed);
    fbb_free(&b);

    fbb_init(&b);
    assert_false(fbb_finish(&b, 0, "QLTE"));
    fbb_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Verifier: each defect                                                     */
/* ------------------------------------------------------------------------ */

typedef struct mutable_buf {
    uint8_t *p;
    size_t n;
} mutable_buf;

static mutable_buf full_copy(void) {
    fbb b;
    size_t size;
    const uint8_t *src = build_full(&b, &size);
    mutable_buf m = {malloc(size + 64), size};
    memcpy(m.p, src, size);
    fbb_free(&b);
    return m;
}

/* noinline: gcc -O3 cannot see that the offsets are in range and warns */
__attribute__((noinline)) static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
__attribute__((noinline)) static void put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static void expect_fail(const mutable_buf *m, qlite_status want, const char *fragment) {
    qlite_status st = fb_verify(m->p, m->n, &node_desc, "TEST", NULL, NULL);
    if (st != want || !strstr(qlite_last_error(), fragment))
        print_error("got %s: %s (wanted '%s')\n", qlite_status_string(st), qlite_last_error(),
                    fragment);
    assert_int_equal(st, want);
    assert_non_null(strstr(qlite_last_error(), fragment));
}

/* Position of the vtable slot of field id in the root table. */
static uint32_t slot(const uint8_t *p, unsigned id) {
    fb_table t = fb_root(p);
    return t.vt + 4 + 2 * id;
}

static void test_verifier_rejects_each_defect(void **state) {
    (void)state;
    mutable_buf m = full_copy();
    fb_table t = fb_root(m.p);
    uint32_t root = t.pos;
    assert_qlite_ok(fb_verify(m.p, m.n, &node_desc, "TEST", NULL, NULL));

    mutable_buf s = m;
    s.n = 6;
    expect_fail(&s, QLITE_ERR_NOT_QLITE, "too short");
    m.p[5] = 'X';
    expect_fail(&m, QLITE_ERR_NOT_QLITE, "file identifier is 'TXST'");
    m.p[5] = 'E';

    put_u32(m.p, (uint32_t)m.n + 100);
    expect_fail(&m, QLITE_ERR_CORRUPT, "past the end");
    put_u32(m.p, root + 2);
    expect_fail(&m, QLITE_ERR_CORRUPT, "not 4-byte aligned");
    put_u32(m.p, root);

    int32_t soff;
    memcpy(&soff, m.p + root, 4);
    put_u32(m.p + root, 0x7ffffff0u);
    expect_fail(&m, QLITE_ERR_CORRUPT, "vtable at");
    put_u32(m.p + root, (uint32_t)(int32_t)(root + 8)); /* vtable at -8 */
    expect_fail(&m, QLITE_ERR_CORRUPT, "outside the buffer");
    memcpy(m.p + root, &soff, 4);

    uint16_t vts, tbls;
    memcpy(&vts, m.p + t.vt, 2);
    memcpy(&tbls, m.p + t.vt + 2, 2);
    put_u16(m.p + t.vt, 5);
    expect_fail(&m, QLITE_ERR_CORRUPT, "bad size 5");
    put_u16(m.p + t.vt, vts);
    put_u16(m.p + t.vt + 2, 0xfff0);
    expect_fail(&m, QLITE_ERR_CORRUPT, "table size 65520 runs past the end");
    put_u16(m.p + t.vt + 2, tbls);

    /* a field pointing outside the table's inline bytes */
    uint16_t f_u64;
    memcpy(&f_u64, m.p + slot(m.p, N_U64), 2);
    put_u16(m.p + slot(m.p, N_U64), (uint16_t)(tbls - 4));
    expect_fail(&m, QLITE_ERR_CORRUPT, "Node.u64");
    expect_fail(&m, QLITE_ERR_CORRUPT, "outside the");
    /* a misaligned 8-byte scalar */
    uint16_t off = 4;
    while ((root + off) % 8 == 0 || off + 8 > tbls) off++;
    put_u16(m.p + slot(m.p, N_U64), off);
    expect_fail(&m, QLITE_ERR_CORRUPT, "8-byte field is not 8-byte aligned");
    put_u16(m.p + slot(m.p, N_U64), f_u64);
    assert_qlite_ok(fb_verify(m.p, m.n, &node_desc, "TEST", NULL, NULL));

    /* offsets: zero, past the end */
    uint32_t name_field = fb_field_pos(&t, N_NAME), name_off;
    memcpy(&name_off, m.p + name_field, 4);
    put_u32(m.p + name_field, 0);
    expect_fail(&m, QLITE_ERR_CORRUPT, "Node.name at byte");
    expect_fail(&m, QLITE_ERR_CORRUPT, "offset is 0");
    put_u32(m.p + name_field, 0x80000000u);
    expect_fail(&m, QLITE_ERR_CORRUPT, "exceeds 2^31-1");
    put_u32(m.p + name_field, (uint32_t)m.n);
    expect_fail(&m, QLITE_ERR_CORRUPT, "past the end");
    put_u32(m.p + name_field, name_off);

    /* strings: no terminator, huge length */
    uint32_t str = name_field + name_off;
    m.p[str + 4 + 5] = '!';
    expect_fail(&m, QLITE_ERR_CORRUPT, "not followed by a 0 byte");
    m.p[str + 4 + 5] = 0;
    put_u32(m.p + str, 0xffffff00u);
    expect_fail(&m, QLITE_ERR_CORRUPT, "string of 4294967040 bytes");
    put_u32(m.p + str, 5);

    /* vectors: huge length, misaligned elements */
    fb_vector lv;
    fb_get_vector(&t, N_LONGS, &lv);
    put_u32(m.p + lv.pos - 4, 0x20000000u);
    expect_fail(&m, QLITE_ERR_CORRUPT, "Node.longs");
    expect_fail(&m, QLITE_ERR_CORRUPT, "vector of 536870912 elements");
    put_u32(m.p + lv.pos - 4, 3);
    uint32_t longs_field = fb_field_pos(&t, N_LONGS), longs_off;
    memcpy(&longs_off, m.p + longs_field, 4);
    put_u32(m.p + longs_field, longs_off + 4); /* length read from element 0 (= 1) */
    expect_fail(&m, QLITE_ERR_CORRUPT, "elements of 8 bytes are not 8-byte aligned");
    put_u32(m.p + longs_field, longs_off);

    /* vector of tables: an element pointing past the end, named by index */
    fb_vector kv;
    fb_get_vector(&t, N_KIDS, &kv);
    uint32_t k1;
    memcpy(&k1, m.p + kv.pos + 4, 4);
    put_u32(m.p + kv.pos + 4, 0x7ffffff0u);
    expect_fail(&m, QLITE_ERR_CORRUPT, "Node.kids[1]");
    put_u32(m.p + kv.pos + 4, k1);

    /* unions */
    uint32_t tf = fb_field_pos(&t, N_OPT_TYPE);
    m.p[tf] = 5;
    expect_fail(&m, QLITE_ERR_CORRUPT, "unknown Opt type 5");
    fb_verify_options vo = {.unknown_union_status = QLITE_ERR_UNSUPPORTED};
    assert_int_equal(fb_verify(m.p, m.n, &node_desc, "TEST", &vo, NULL), QLITE_ERR_UNSUPPORTED);
    m.p[tf] = 0;
    expect_fail(&m, QLITE_ERR_CORRUPT, "value present but its type is NONE");
    m.p[tf] = 1;
    assert_qlite_ok(fb_verify(m.p, m.n, &node_desc, "TEST", NULL, NULL));
    free(m.p);
}

/* Nesting depth 64 passes, 65 fails; a DAG of shared tables counts each visit. */
static void test_limits(void **state) {
    (void)state;
    for (int depth = 64; depth <= 65; depth++) {
        fbb b;
        fbb_init(&b);
        fbb_ref r = 0;
        for (int i = 0; i < depth; i++) {
            fbb_table_begin(&b);
            fbb_add_ref(&b, N_CHILD, r);
            fbb_add_i32(&b, N_I32, i);
            r = fbb_table_end(&b);
        }
        assert_true(fbb_finish(&b, r, NULL));
        size_t n;
        const uint8_t *p = fbb_data(&b, &n);
        qlite_status st = fb_verify(p, n, &node_desc, NULL, NULL, NULL);
        if (depth == 64) {
            assert_qlite_ok(st);
        } else {
            assert_int_equal(st, QLITE_ERR_CORRUPT);
            assert_non_null(strstr(qlite_last_error(), "nested deeper than 64"));
            assert_non_null(strstr(qlite_last_error(), "Node.child.child.child"));
        }
        fbb_free(&b);
    }

    /* 2000 references to one table: 2001 table visits */
    fbb b;
    fbb_init(&b);
    fbb_table_begin(&b);
    fbb_add_i32(&b, N_I32, 1);
    fbb_ref leaf = fbb_table_end(&b);
    fbb_ref *refs = malloc(2000 * sizeof *refs);
    for (int i = 0; i < 2000; i++) refs[i] = leaf;
    fbb_ref kids = fbb_vector_refs(&b, refs, 2000);
    free(refs);
    fbb_table_begin(&b);
    fbb_add_ref(&b, N_KIDS, kids);
    assert_true(fbb_finish(&b, fbb_table_end(&b), NULL));
    size_t n;
    const uint8_t *p = fbb_data(&b, &n);
    fb_verify_result vr;
    assert_qlite_ok(fb_verify(p, n, &node_desc, NULL, NULL, &vr));
    assert_int_equal(vr.tables, 2001);
    fb_verify_options vo = {.max_tables = 1000};
    assert_int_equal(fb_verify(p, n, &node_desc, NULL, &vo, NULL), QLITE_ERR_CORRUPT);
    assert_non_null(strstr(qlite_last_error(), "more than 1000 tables"));
    fbb_free(&b);
}

/* Fields a newer writer added (ids past the descriptor) are skipped. */
static void test_unknown_fields_skipped(void **state) {
    (void)state;
    fbb b;
    fbb_init(&b);
    fbb_table_begin(&b);
    fbb_add_i32(&b, N_I32, 3);
    fbb_add_u32(&b, 40, 0xffffffffu); /* would be a wild offset if it were one */
    assert_true(fbb_finish(&b, fbb_table_end(&b), NULL));
    size_t n;
    const uint8_t *p = fbb_data(&b, &n);
    assert_qlite_ok(fb_verify(p, n, &node_desc, NULL, NULL, NULL));
    fb_table t = fb_root(p);
    assert_int_equal(fb_get_i32(&t, N_I32, 0), 3);
    fbb_free(&b);
}

static void test_peek_root(void **state) {
    (void)state;
    fbb b;
    size_t n;
    const uint8_t *p = build_full(&b, &n);
    uint32_t v = 0;
    assert_true(fb_peek_root_u32(p, n, N_I32, 0, &v));
    assert_int_equal((int32_t)v, -123456);
    assert_true(fb_peek_root_u32(p, n, 60, 11, &v)); /* beyond the vtable: default */
    assert_int_equal(v, 11);
    for (size_t cut = 0; cut < 16; cut++) assert_false(fb_peek_root_u32(p, cut, N_I32, 0, &v));
    assert_false(fb_peek_root_u32(NULL, 100, 0, 0, &v));
    fbb_free(&b);
}

/* ------------------------------------------------------------------------ */
/* fb_schema.c against schema/qlite.fbs                                      */
/* ------------------------------------------------------------------------ */

typedef struct parsed_field {
    char name[64];
    char type[64];
} parsed_field;

typedef struct parsed_table {
    char name[64];
    int nfields;
    parsed_field fields[40];
    bool is_union;
} parsed_table;

typedef struct parsed_schema {
    parsed_table tables[64];
    int ntables;
    char enums[32][64];
    int enum_size[32];
    int nenums;
} parsed_schema;

static void parse_schema(parsed_schema *ps) {
    size_t n;
    char *text = qlite_test_read_file(qlite_test_source_path("schema/qlite.fbs"), &n);
    assert_non_null(text);
    memset(ps, 0, sizeof *ps);
    parsed_table *cur = NULL;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c = strstr(line, "//");
        if (c) *c = '\0';
        char a[64], b[64];
        if (sscanf(line, " table %63s", a) == 1) {
            cur = &ps->tables[ps->ntables++];
            snprintf(cur->name, sizeof cur->name, "%s", a);
            continue;
        }
        if (sscanf(line, " union %63s", a) == 1) {
            cur = &ps->tables[ps->ntables++];
            snprintf(cur->name, sizeof cur->name, "%s", a);
            cur->is_union = true;
            continue;
        }
        if (sscanf(line, " enum %63s : %63s", a, b) == 2) {
            snprintf(ps->enums[ps->nenums], 64, "%s", a);
            ps->enum_size[ps->nenums++] = strstr(b, "byte") ? 1 : strstr(b, "long") ? 8 : 4;
            continue;
        }
        if (!cur) continue;
        if (strchr(line, '}')) {
            if (!cur->is_union) cur = NULL;
            else cur = NULL;
            continue;
        }
        if (cur->is_union) {
            for (char *tok = strtok(line, " ,{"); tok; tok = strtok(NULL, " ,{"))
                if (isalpha((unsigned char)*tok))
                    snprintf(cur->fields[cur->nfields++].name, 64, "%s", tok);
            continue;
        }
        if (sscanf(line, " %63[A-Za-z0-9_] : %63[^;=]", a, b) == 2) {
            char *e = b + strlen(b);
            while (e > b && isspace((unsigned char)e[-1])) *--e = '\0';
            parsed_field *f = &cur->fields[cur->nfields++];
            snprintf(f->name, 64, "%s", a);
            snprintf(f->type, 64, "%s", b);
        }
    }
    free(text);
}

static const parsed_table *find_table(const parsed_schema *ps, const char *name) {
    for (int i = 0; i < ps->ntables; i++)
        if (strcmp(ps->tables[i].name, name) == 0) return &ps->tables[i];
    return NULL;
}

static int scalar_size(const parsed_schema *ps, const char *type) {
    static const struct { const char *t; int size; } base[] = {
        {"bool", 1}, {"byte", 1}, {"ubyte", 1}, {"short", 2}, {"ushort", 2}, {"int", 4},
        {"uint", 4}, {"float", 4}, {"long", 8}, {"ulong", 8}, {"double", 8}};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        if (strcmp(base[i].t, type) == 0) return base[i].size;
    for (int i = 0; i < ps->nenums; i++)
        if (strcmp(ps->enums[i], type) == 0) return ps->enum_size[i];
    return 0;
}

static int checked_tables;

static void check_desc(const parsed_schema *ps, const fb_table_desc *d) {
    const parsed_table *pt = find_table(ps, d->name);
    if (!pt) fail_msg("descriptor %s is not a table of schema/qlite.fbs", d->name);
    checked_tables++;
    uint32_t id = 0;
    for (int i = 0; i < pt->nfields; i++) {
        const parsed_field *pf = &pt->fields[i];
        const parsed_table *u = find_table(ps, pf->type);
        if (u && u->is_union) {
            /* a union takes two ids: <name>_type, then <name> */
            char tn[80];
            snprintf(tn, sizeof tn, "%s_type", pf->name);
            assert_true(id + 1 < d->count);
            assert_string_equal(d->fields[id].name, tn);
            assert_int_equal(d->fields[id].kind, FB_KIND_UNION_TYPE);
            id++;
            const fb_field_desc *f = &d->fields[id++];
            assert_string_equal(f->name, pf->name);
            assert_int_equal(f->kind, FB_KIND_UNION);
            assert_int_equal(f->unio->count, (uint32_t)u->nfields);
            for (int k = 0; k < u->nfields; k++) {
                assert_string_equal(f->unio->members[k]->name, u->fields[k].name);
                check_desc(ps, f->unio->members[k]);
            }
            continue;
        }
        if (id >= d->count) fail_msg("%s.%s missing from the descriptor", d->name, pf->name);
        const fb_field_desc *f = &d->fields[id++];
        if (!f->name || strcmp(f->name, pf->name) != 0)
            fail_msg("%s field %u: descriptor '%s', schema '%s'", d->name, id - 1,
                     f->name ? f->name : "(null)", pf->name);
        if (strcmp(pf->type, "string") == 0) {
            assert_int_equal(f->kind, FB_KIND_STRING);
        } else if (pf->type[0] == '[') {
            char inner[64];
            snprintf(inner, sizeof inner, "%.*s", (int)strlen(pf->type) - 2, pf->type + 1);
            const parsed_table *it = find_table(ps, inner);
            if (it) {
                assert_int_equal(f->kind, FB_KIND_TABLE_VECTOR);
                assert_string_equal(f->table->name, inner);
                check_desc(ps, f->table);
            } else {
                assert_int_equal(f->kind, FB_KIND_VECTOR);
                assert_int_equal(f->size, scalar_size(ps, inner));
            }
        } else if (find_table(ps, pf->type)) {
            assert_int_equal(f->kind, FB_KIND_TABLE);
            assert_string_equal(f->table->name, pf->type);
            check_desc(ps, f->table);
        } else {
            assert_int_equal(f->kind, FB_KIND_SCALAR);
            int sz = scalar_size(ps, pf->type);
            if (sz != f->size) fail_msg("%s.%s: size %d in schema, %u in descriptor", d->name,
                                        pf->name, sz, f->size);
        }
    }
    assert_int_equal(id, d->count);
}

static void test_descriptors_match_schema(void **state) {
    (void)state;
    parsed_schema *ps = calloc(1, sizeof *ps);
    parse_schema(ps);
    assert_true(ps->ntables >= 25);
    checked_tables = 0;
    check_desc(ps, &fb_desc_Model);
    /* every table of the schema is reachable from Model */
    int tables = 0;
    for (int i = 0; i < ps->ntables; i++) tables += !ps->tables[i].is_union;
    assert_true(checked_tables >= tables);
    free(ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_defaults_and_vtable_sharing),
        cmocka_unit_test(test_builder_misuse),
        cmocka_unit_test(test_verifier_rejects_each_defect),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_peek_root),
        cmocka_unit_test(test_descriptors_match_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
