// test_requant_gemmlowp.cc — qlite's requantization (src/quant.h) against
// gemmlowp's fixed-point primitives (Debian libgemmlowp-dev), an independent
// implementation of the same rounding rule. Exhaustive edge cases + 10^7
// seeded random cases; any difference fails with the inputs printed.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include <gemmlowp/fixedpoint/fixedpoint.h>

extern "C" {
#include "quant.h"
}

static int32_t reference(int32_t x, int32_t m, int shift) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    return gemmlowp::RoundingDivideByPOT(
        gemmlowp::SaturatingRoundingDoublingHighMul(static_cast<int32_t>(x * (int64_t(1) << left)), m),
        right);
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t next_u32() {
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return static_cast<uint32_t>((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static long failures = 0, checked = 0;
static void check(int32_t x, int32_t m, int shift) {
    // gemmlowp's left shift does not saturate: only compare where it cannot overflow.
    if (shift > 0) {
        int64_t s = int64_t(x) * (int64_t(1) << shift);
        if (s > INT32_MAX || s < INT32_MIN) return;
    }
    checked++;
    int32_t a = qlite_requantize(x, m, shift), b = reference(x, m, shift);
    if (a != b && failures++ < 10)
        std::printf("MISMATCH x=%" PRId32 " m=%" PRId32 " shift=%d: qlite %" PRId32 " gemmlowp %" PRId32 "\n",
                    x, m, shift, a, b);
}

int main() {
    const int32_t xs[] = {0, 1, -1, 2, -2, 3, -3, 127, -128, 255, 32767, -32768, 1 << 20,
                          -(1 << 20), INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1,
                          (1 << 30), -(1 << 30), 12345678, -12345678};
    const int32_t ms[] = {0, 1, (1 << 30), (1 << 30) + 1, INT32_MAX, INT32_MAX - 1,
                          1518500250 /* ~1/sqrt2 */, 1073741824 + 536870912, INT32_MIN, -1,
                          -(1 << 30)};
    for (int32_t x : xs)
        for (int32_t m : ms)
            for (int shift = -31; shift <= 30; shift++) check(x, m, shift);
    // Rounding ties: x * m / 2^31 exactly at .5 and shifts landing on .5.
    for (int e = 1; e <= 31; e++) {
        int32_t half = int32_t((int64_t(1) << e) >> 1);
        for (int32_t k = -3; k <= 3; k++) {
            int64_t x = int64_t(k) * (int64_t(1) << e) + half;
            if (x <= INT32_MAX && x >= INT32_MIN) check(int32_t(x), INT32_MAX, -e), check(int32_t(x), 1 << 30, -e + 1);
        }
    }
    for (long i = 0; i < 10000000; i++) {
        int32_t x = int32_t(next_u32());
        if (i & 1) x >>= (next_u32() % 31);  // small accumulators too
        int32_t m = int32_t((1u << 30) + (next_u32() & ((1u << 30) - 1)));
        int shift = int(next_u32() % 62) - 31;
        check(x, m, shift);
    }
    std::printf("requantize vs gemmlowp: %ld cases, %ld mismatches\n", checked, failures);
    return failures == 0 ? 0 : 1;
}
