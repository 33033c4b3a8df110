/*
 * example_api.c — the complete example program of docs/api.md: open a model,
 * create an interpreter, size a dynamic batch, prepare, fill the input, run,
 * read the output. Uses only the public header; CI compiles it and runs it on
 * a test model (tests/run.cmake).
 *
 *   cc example_api.c $(pkg-config --cflags --libs qlite) -o example_api
 *   ./example_api model.qlite
 */
#include <stdio.h>
#include <stdlib.h>

#include <qlite/qlite.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.qlite\n", argv[0]);
        return 2;
    }
    qlite_model *model = NULL;
    qlite_interpreter *interp = NULL;
    int rc = 1;

    /* 1. Open: maps the file and validates it; weights stay in the mapping. */
    if (qlite_model_open(argv[1], 0, &model) != QLITE_OK) {
        fprintf(stderr, "open: %s\n", qlite_last_error());
        return 1;
    }

    /* 2. Create: resolves a kernel for every op. Zeroed options = defaults. */
    qlite_interpreter_options opts = {0};
    opts.num_threads = 2;
    if (qlite_interpreter_create(model, &opts, &interp) != QLITE_OK) {
        fprintf(stderr, "create: %s\n", qlite_last_error());
        goto out;
    }

    /* 3. Optional: a model whose input batch is declared -1 takes any batch. */
    const qlite_tensor_info *in_info =
        qlite_model_tensor(model, (uint32_t)qlite_model_input(model, 0));
    if (in_info->rank > 0 && in_info->shape[0] == -1) {
        int64_t dims[QLITE_MAX_RANK];
        for (uint32_t d = 0; d < in_info->rank; d++) dims[d] = in_info->shape[d];
        dims[0] = 2; /* two samples in one invoke */
        if (qlite_interpreter_resize_input(interp, 0, in_info->rank, dims) != QLITE_OK) {
            fprintf(stderr, "resize: %s\n", qlite_interpreter_error(interp));
            goto out;
        }
    }

    /* 4. Prepare: shapes, per-op constants, the arena plan. */
    if (qlite_interpreter_prepare(interp) != QLITE_OK) {
        fprintf(stderr, "prepare: %s\n", qlite_interpreter_error(interp));
        goto out;
    }
    printf("arena: %zu bytes, prepared data: %zu bytes\n", qlite_interpreter_arena_size(interp),
           qlite_interpreter_prepared_size(interp));

    /* 5. Fill the input in place (its view points into the arena). */
    qlite_tensor_view in;
    qlite_interpreter_input(interp, 0, &in);
    if (in.dtype != QLITE_DTYPE_FLOAT32) {
        fprintf(stderr, "this example feeds float32 inputs only\n");
        goto out;
    }
    float *x = in.data;
    for (size_t i = 0; i < in.bytes / sizeof(float); i++) x[i] = 0.1f * (float)i;

    /* 6. Invoke (allocates nothing) and read output 0 as [rows, classes]. */
    if (qlite_interpreter_invoke(interp) != QLITE_OK) {
        fprintf(stderr, "invoke: %s\n", qlite_interpreter_error(interp));
        goto out;
    }
    qlite_tensor_view out;
    qlite_interpreter_output(interp, 0, &out);
    if (out.dtype == QLITE_DTYPE_FLOAT32 && out.rank == 2) {
        const float *y = out.data;
        for (int64_t r = 0; r < out.dims[0]; r++) {
            int64_t best = 0;
            for (int64_t c = 1; c < out.dims[1]; c++)
                if (y[r * out.dims[1] + c] > y[r * out.dims[1] + best]) best = c;
            printf("row %lld: class %lld (%g)\n", (long long)r, (long long)best,
                   (double)y[r * out.dims[1] + best]);
        }
    }
    rc = 0;
out:
    /* 7. Destroy the interpreter before closing the model it borrows. */
    qlite_interpreter_destroy(interp);
    qlite_model_close(model);
    return rc;
}
