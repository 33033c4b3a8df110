/*
 * qlite-run.h — pieces of the qlite-run tool shared between its files.
 *   qlite-run.c      arguments, the run itself, --bench
 *   qlite-run_io.c   matching .npy/.npz arrays to model inputs (dtype, shape,
 *                    batch resize, float -> int8 quantization), printing and
 *                    writing outputs, --labels accuracy
 */
#ifndef QLITE_RUN_H
#define QLITE_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "npy.h"
#include "qlite/qlite.h"

/* Prints "qlite-run: <message>" on stderr (one line) and returns 1. */
int run_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "qlite-run: note: <message>" on stderr. */
void run_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The data bound to each model input. */
typedef struct run_inputs {
    uint32_t count;                  /* model input count */
    const qlite_npy_array **array;   /* [count] borrowed from files[], NULL = none */
    const char **source;             /* [count] "FILE" or "FILE:member" (for messages) */
    char **source_owned;             /* [count] */
    void **converted;                /* [count] quantized copies (owned) or NULL */
    qlite_npz *files;                /* every file loaded */
    uint32_t num_files;
} run_inputs;

/* Loads the --input arguments and binds arrays to inputs (by name, else in
 * order). Returns 0 or prints the reason and returns 1. */
int run_inputs_load(const qlite_model *model, int argc, const char *const *args, run_inputs *in);
void run_inputs_free(run_inputs *in);

/* Checks dtype/shape of every bound array against the model, resizing a
 * dynamic batch (before prepare). 0 or 1 (message printed). */
int run_inputs_resize(const qlite_model *model, qlite_interpreter *it, run_inputs *in);

/* Copies the bound arrays into the prepared interpreter (quantizing float32
 * for an int8/uint8 input, with a note). Unbound inputs are zero-filled. */
int run_inputs_set(const qlite_model *model, qlite_interpreter *it, run_inputs *in);

/* Prints every output (top-k for an [N, C] classifier output). */
void run_print_outputs(const qlite_interpreter *it, int top_k);

/* Accuracy of argmax(output 0) against the integer labels in path. */
int run_accuracy(const qlite_interpreter *it, const char *path);

/* Writes outputs to .npy (single output) or .npz (all, by name). */
int run_write_outputs(const qlite_interpreter *it, const char *path);

#endif /* QLITE_RUN_H */
