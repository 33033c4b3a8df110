/*
 * registry.c — op code -> kernel. One line per op; an op without a line has
 * no kernel and fails at interpreter creation with its name.
 * Kernels are named qlite_kernel_<op code in lower case>, defined in
 * kernels/<file>.c and declared in kernels/kernels.h.
 */
#include "kernel.h"
#include "kernels/kernels.h"

const qlite_kernel *const qlite_kernel_registry[QLITE_OP_COUNT] = {
    [QLITE_OP_CONV_2D] = NULL,
};
_Static_assert(QLITE_ARRAY_SIZE(qlite_kernel_registry) == QLITE_OP_COUNT, "registry size");
