/*
 * quant_internal.h — small helpers shared by the files of converter/quant/.
 */
#ifndef QLITE_CONVERTER_QUANT_INTERNAL_H
#define QLITE_CONVERTER_QUANT_INTERNAL_H

#include <math.h>
#include <stdio.h>

#include "quant.h"      /* src/quant.h: the shared arithmetic */
#include "quantize.h"

/* Round half to even in double (independent of the FP rounding mode). */
static inline double qlite_round_half_even_d(double x) {
    double r = round(x); /* half away from zero */
    if (fabs(x - trunc(x)) == 0.5) r = 2.0 * round(x * 0.5);
    return r;
}

/* "<base><suffix>", or "<base><suffix>_<k>" for the first free k. */
static inline void qlc_unique_name(const qlc_graph *g, const char *base, const char *suffix,
                                   char *out, size_t size) {
    snprintf(out, size, "%s%s", base, suffix);
    for (unsigned k = 2; qlc_find_tensor(g, out) >= 0 && k < 1000000; k++)
        snprintf(out, size, "%s%s_%u", base, suffix, k);
}

#endif /* QLITE_CONVERTER_QUANT_INTERNAL_H */
