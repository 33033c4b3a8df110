/* q8_levels.c — the int8 ISA-level loop of the row-kernel tests (q8_levels.h). */
#include "support/q8_levels.h"

#include "support.h"
#include "kernels/elementwise_q8.h"
#include "kernels/gemm_q8.h"

static const struct {
    const char *name;
    unsigned cap;   /* qlite_q8_set_feature_cap */
    unsigned needs; /* QLITE_Q8_EW_F_* the CPU must have */
} levels[QLITE_TEST_Q8_LEVEL_COUNT] = {
    {"uncapped", ~0u, 0u},
    {"avx2", QLITE_Q8_F_AVX2, QLITE_Q8_EW_F_AVX2},
    {"portable", 0u, 0u},
    {"neon", QLITE_Q8_F_NEON, QLITE_Q8_EW_F_NEON},
};

bool qlite_test_q8_level_next(unsigned *level) {
    for (; *level < QLITE_TEST_Q8_LEVEL_COUNT; ++*level) {
        qlite_q8_set_feature_cap(~0u);
        const unsigned needs = levels[*level].needs;
        if ((qlite_q8_ew_features() & needs) != needs) {
            print_message("ISA level %s: not on this CPU, skipped\n", levels[*level].name);
            continue;
        }
        qlite_q8_set_feature_cap(levels[*level].cap);
        return true;
    }
    qlite_q8_set_feature_cap(~0u);
    return false;
}

bool qlite_test_q8_cap_repeats(const unsigned *caps, size_t level) {
    qlite_q8_set_feature_cap(~0u);
    const unsigned cpu = qlite_q8_cpu_features();
    for (size_t j = 0; j < level; j++)
        if ((cpu & caps[j]) == (cpu & caps[level])) return true;
    return false;
}

int qlite_test_q8_uncap(void **state) {
    (void)state;
    qlite_q8_set_feature_cap(~0u);
    return 0;
}

const char *qlite_test_q8_level_name(unsigned level) {
    return level < QLITE_TEST_Q8_LEVEL_COUNT ? levels[level].name : "?";
}

int64_t qlite_test_q8_row_size(unsigned i) {
    return i < QLITE_TEST_Q8_ROW_SIZES - 1 ? (int64_t)i + 1 : 768;
}
