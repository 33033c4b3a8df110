/*
 * qlite-dump.h — pieces of the qlite-dump tool shared by its source files.
 *
 *   qlite-dump.c          argument parsing, model open, --verify
 *   qlite-dump_common.c   sizes, quantization/sparsity summaries, option lists,
 *                         gzip size, JSON string/number writers
 *   qlite-dump_text.c     the default human-readable summary
 *   qlite-dump_json.c     --json (format: docs/dump-json.md)
 *   qlite-dump_dot.c      --dot (Graphviz)
 *   qlite-dump_values.c   decoding a tensor's values (dense, int4, fp16,
 *                         quantized, sparse, clustered, O16I4) and --tensor
 *
 * The tool uses only the public API of libqlite (qlite/qlite.h). Every
 * decoder re-checks sizes against the bytes the model reports, so a model the
 * validator let through with an inconsistency we did not foresee gives an
 * error message, never an out-of-bounds read.
 */
#ifndef QLITE_DUMP_H
#define QLITE_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qlite/qlite.h"

#define DUMP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Version of the --json output format (docs/dump-json.md). */
#define DUMP_JSON_VERSION 1

typedef struct dump_ctx {
    const char *path;        /* as given on the command line */
    qlite_model *model;
    uint64_t file_size;      /* bytes on disk */
    bool want_gzip;          /* compute the gzip -6 size (off with --no-gzip) */
} dump_ctx;

/* What one tensor costs in the file. */
typedef struct dump_tensor_sizes {
    bool elements_known;     /* false when a dim is dynamic (-1) */
    uint64_t elements;       /* product of dims (dynamic dims count as 1) */
    uint64_t data_bytes;     /* the tensor's own buffer (values / indices) */
    uint64_t aux_bytes;      /* row_ptr + col_index + codebook buffers */
    uint64_t dense_bytes;    /* elements * dtype bits / 8, rounded up */
    uint64_t stored_values;  /* values physically stored (nnz for sparse) */
    double zero_fraction;    /* sparse: implied zeros / elements; else 0 */
} dump_tensor_sizes;

/* ---- qlite-dump_common.c ---------------------------------------------- */

void dump_tensor_sizes_get(const qlite_model *m, const qlite_tensor_info *t,
                           dump_tensor_sizes *out);
/* Size of buffer `index` (0 when absent or out of range). */
uint64_t dump_buffer_size(const qlite_model *m, uint32_t index);
/* Bytes per entry of a sparse index type (1, 2, 4; 0 if invalid). */
uint32_t dump_index_bytes(qlite_index_type t);
const char *dump_index_type_name(qlite_index_type t);
const char *dump_activation_name(qlite_activation a);
const char *dump_layout_name(qlite_layout l);
/* Min and max of an array of floats (count >= 1). */
void dump_float_range(const float *v, uint32_t count, float *lo, float *hi);
void dump_int_range(const int32_t *v, uint32_t count, int32_t *lo, int32_t *hi);

/* Offset of the data section (first non-empty buffer; file size if none). */
uint64_t dump_data_section_offset(const qlite_model *m, uint64_t model_bytes);

/* gzip -6 size of `size` bytes (zlib deflate, gzip wrapper); -1 on error. */
int64_t dump_gzip_size(const void *data, size_t size);

/* Shape as "[1,28,28,1]" ("?" for -1) into buf; returns buf. */
char *dump_shape_str(char *buf, size_t len, uint32_t rank, const int64_t *shape);
/* "1234 B", "1.2 KiB", ... */
char *dump_human_bytes(char *buf, size_t len, uint64_t bytes);

/*
 * Operator options as a flat list of (key, value) items, shared by the text,
 * JSON and dot outputs so that they always agree.
 */
typedef enum dump_opt_kind {
    DUMP_OPT_INT,       /* i */
    DUMP_OPT_FLOAT,     /* f */
    DUMP_OPT_BOOL,      /* b */
    DUMP_OPT_ENUM,      /* s: a symbolic name */
    DUMP_OPT_INTS,      /* n, i64s or i32s */
} dump_opt_kind;

typedef struct dump_opt {
    const char *key;
    dump_opt_kind kind;
    int64_t i;
    double f;
    bool b;
    const char *s;
    uint32_t n;
    const int64_t *i64s;
    const int32_t *i32s;
} dump_opt;

#define DUMP_MAX_OPTS 16
/* Fills items (at most DUMP_MAX_OPTS) for the options; returns the count. */
uint32_t dump_op_options(const qlite_op_options *o, dump_opt *items);
/* Name of an options type ("conv2d", "pool2d", ... "none"). */
const char *dump_options_type_name(qlite_options_type t);
/* Compact one-line text of the options ("stride=2x2 pad=1,1,1,1 act=RELU"). */
void dump_op_options_text(const qlite_op_options *o, char *buf, size_t len);

/* JSON writers: a quoted, escaped string (NULL -> null); a number where
 * NaN/Inf become the strings "NaN", "Infinity", "-Infinity". */
void json_str(FILE *f, const char *s);
void json_num(FILE *f, double v);
/* Float32 value printed so that it reads back to the same float. */
void json_f32(FILE *f, float v);

/* ---- outputs ----------------------------------------------------------- */

int dump_text(const dump_ctx *c, FILE *f);
int dump_json(const dump_ctx *c, FILE *f);
int dump_dot(const dump_ctx *c, FILE *f);

/* Writes the JSON object of one tensor (used by --json and --tensor --json). */
void dump_json_tensor(const dump_ctx *c, FILE *f, uint32_t index, const char *indent);

/* --tensor: returns the process exit code. */
int dump_tensor_values(const dump_ctx *c, uint32_t index, bool all, bool json, FILE *f);

/* ---- qlite-dump_values.c ------------------------------------------------ */

/*
 * Calls fn for every element of a constant tensor in row-major order of its
 * logical shape: `stored` is the value as stored (the integer q of a
 * quantized tensor, the half converted to float, the codebook entry of a
 * clustered one, the implied zero of a sparse one), `real` the dequantized
 * value (scale * (q - zero_point), per channel when per-channel; equal to
 * stored when not quantized). fn returns false to stop early.
 * Returns 0, or -1 with a message in err.
 */
typedef bool (*dump_value_fn)(void *user, uint64_t index, double stored, double real);
int dump_decode_tensor(const qlite_model *m, const qlite_tensor_info *t, dump_value_fn fn, void *user, char *err,
                       size_t errlen);

#endif /* QLITE_DUMP_H */
