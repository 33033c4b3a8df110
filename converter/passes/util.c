/*
 * util.c — counters and logging shared by the passes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "passes.h"

void qlc_count(qlc_ctx *c, const char *kind, uint32_t n) {
    for (uint32_t i = 0; i < c->num_counters; i++)
        if (!strcmp(c->counters[i].kind, kind)) {
            c->counters[i].count += n;
            return;
        }
    if (c->num_counters < QLC_MAX_COUNTERS)
        c->counters[c->num_counters++] = (qlc_counter){kind, n};
}

void qlc_log(const qlc_ctx *c, int level, const char *fmt, ...) {
    if (!c->opts.log || c->opts.verbosity < level) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->opts.log(c->opts.log_user, level, line);
}
