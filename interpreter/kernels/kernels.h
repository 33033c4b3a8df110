/*
 * kernels.h — every kernel the registry knows (one extern per op code).
 */
#ifndef QLITE_KERNELS_H
#define QLITE_KERNELS_H

#include "kernel.h"

#endif /* QLITE_KERNELS_H */
