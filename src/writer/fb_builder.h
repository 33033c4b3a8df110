/*
 * fb_builder.h — a small back-to-front FlatBuffers builder (converter, tests
 * and benchmarks only; never linked into the runtime).
 *
 * Like the reference builder, bytes are prepended: every object is written
 * before (at a lower address than) the objects created earlier, so children
 * are created first and referred to by parents. An object is identified by an
 * fbb_ref, its distance from the END of the buffer, which stays valid as the
 * buffer grows. Alignment is tracked relative to the end and the finished
 * buffer's size is padded to the largest alignment used, so relative and
 * absolute alignment agree.
 *
 *   fbb b; fbb_init(&b);
 *   fbb_ref name = fbb_string(&b, "x", 1);
 *   fbb_table_begin(&b);
 *   fbb_add_ref(&b, 0, name);          // field id 0: an offset
 *   fbb_add_i32(&b, 2, 7);             // field id 2: a scalar
 *   fbb_ref root = fbb_table_end(&b);
 *   fbb_finish(&b, root, "QLTE");
 *   const uint8_t *p = fbb_data(&b, &size);   // valid until fbb_free
 *
 * Errors (out of memory, buffer over 2^31-1 bytes, misuse such as nesting
 * tables) make the builder "failed": later calls do nothing and
 * fbb_finish() returns false.
 */
#ifndef QLITE_FB_BUILDER_H
#define QLITE_FB_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t fbb_ref; /* 0 = no object */

typedef struct fbb_field {
    uint16_t id;
    uint32_t ref; /* position of the field value, from the end */
} fbb_field;

typedef struct fbb {
    uint8_t *buf;        /* bytes live at buf[cap - size, cap) */
    size_t cap, size;
    size_t minalign;
    fbb_field *fields;   /* fields of the open table */
    size_t nfields, fields_cap;
    uint32_t table_start;
    bool in_table;
    uint32_t *vtables;   /* refs of vtables written so far (deduplicated) */
    size_t nvtables, vtables_cap;
    bool failed;
    const char *error;   /* first failure, static text */
} fbb;

void fbb_init(fbb *b);
void fbb_free(fbb *b);

/* Strings (a 0 byte is appended) and vectors of little-endian scalars. */
fbb_ref fbb_string(fbb *b, const char *s, size_t len);
fbb_ref fbb_cstring(fbb *b, const char *s); /* NULL -> 0 (absent) */
fbb_ref fbb_vector(fbb *b, const void *elems, uint32_t count, uint32_t elem_size);
/* Vector of offsets to objects (tables, strings, vectors). */
fbb_ref fbb_vector_refs(fbb *b, const fbb_ref *refs, uint32_t count);

void fbb_table_begin(fbb *b);
/* Scalars are always written; the _d forms skip a value equal to the
 * schema default (the reader then returns the default). */
void fbb_add_scalar(fbb *b, uint16_t id, const void *value, uint32_t size);
void fbb_add_u8(fbb *b, uint16_t id, uint8_t v);
void fbb_add_i8(fbb *b, uint16_t id, int8_t v);
void fbb_add_u32(fbb *b, uint16_t id, uint32_t v);
void fbb_add_i32(fbb *b, uint16_t id, int32_t v);
void fbb_add_u64(fbb *b, uint16_t id, uint64_t v);
void fbb_add_i64(fbb *b, uint16_t id, int64_t v);
void fbb_add_f32(fbb *b, uint16_t id, float v);
void fbb_add_i8_d(fbb *b, uint16_t id, int8_t v, int8_t dflt);
void fbb_add_bool_d(fbb *b, uint16_t id, bool v, bool dflt);
void fbb_add_u32_d(fbb *b, uint16_t id, uint32_t v, uint32_t dflt);
void fbb_add_i32_d(fbb *b, uint16_t id, int32_t v, int32_t dflt);
void fbb_add_u64_d(fbb *b, uint16_t id, uint64_t v, uint64_t dflt);
void fbb_add_f32_d(fbb *b, uint16_t id, float v, float dflt); /* bitwise comparison */
/* An offset field; ref 0 adds nothing (field absent). */
void fbb_add_ref(fbb *b, uint16_t id, fbb_ref ref);
fbb_ref fbb_table_end(fbb *b);

/* Root offset and the 4-byte file identifier (NULL = none). */
bool fbb_finish(fbb *b, fbb_ref root, const char *identifier);

/* The finished bytes (valid until fbb_free). */
const uint8_t *fbb_data(const fbb *b, size_t *size);

#endif /* QLITE_FB_BUILDER_H */
