#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp32.hpp"
#include "tests/support/float_specials.hpp"

namespace nibble::numerics {
namespace {

using test::kInf;
using test::kNan;

/// Independent value of a pattern: (-1)^s x 2^(e-15) x 1.f, or 2^-14 x 0.f.
double decode_by_formula(std::uint16_t h) {
  const int s = h >> 15;
  const int e = (h >> 10) & 31;
  const int f = h & 1023;
  const double mag = e == 0 ? std::ldexp(f, -24) : std::ldexp(1024 + f, e - 25);
  return s ? -mag : mag;
}

TEST(Fp16, KnownBitPatterns) {
  EXPECT_EQ(fp16_from_float(65504.0f), 0x7BFF);          // largest finite
  EXPECT_EQ(fp16_from_float(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(fp16_from_float(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(fp16_from_float(1.0f), 0x3C00);
  EXPECT_EQ(fp16_from_float(-2.0f), 0xC000);
  EXPECT_EQ(fp16_from_float(0.1f), 0x2E66);               // 0.0999755859375
  EXPECT_EQ(fp16_from_double(1.0 / 3.0), 0x3555);
  EXPECT_EQ(fp16_from_float(0.0f), 0x0000);
  EXPECT_EQ(fp16_from_float(-0.0f), 0x8000);
  EXPECT_EQ(fp16_from_float(kInf), 0x7C00);
  EXPECT_EQ(fp16_from_float(-kInf), 0xFC00);
  EXPECT_EQ(fp16_from_float(kNan), kFp16CanonicalNan);
  EXPECT_EQ(fp16_from_float(-kNan), kFp16CanonicalNan);  // sign and payload are not kept
  EXPECT_EQ(fp16_to_float(0x03FF), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(fp16_to_float(0xFBFF), -65504.0f);
}

TEST(Fp16, RoundsToNearestEvenAtSeveralExponents) {
  // [1, 2): ulp 2^-10. 1 + 2^-11 is halfway between 0x3C00 (even) and 0x3C01 -> 0x3C00;
  // 1 + 3 x 2^-11 is halfway between 0x3C01 and 0x3C02 (even) -> 0x3C02.
  EXPECT_EQ(fp16_from_double(1 + std::ldexp(1.0, -11)), 0x3C00);
  EXPECT_EQ(fp16_from_double(1 + 3 * std::ldexp(1.0, -11)), 0x3C02);
  EXPECT_EQ(fp16_from_double(1 + std::ldexp(1.0, -11) + std::ldexp(1.0, -30)), 0x3C01);  // above the tie
  // [2048, 4096): ulp 2. 2049 -> 2048 (0x6800); 2051 -> 2052 (0x6802).
  EXPECT_EQ(fp16_from_float(2049.0f), 0x6800);
  EXPECT_EQ(fp16_from_float(2051.0f), 0x6802);
  // [32768, 65536): ulp 32. 32784 -> 32768 (0x7800); 32816 -> 32832 (0x7802).
  EXPECT_EQ(fp16_from_float(32784.0f), 0x7800);
  EXPECT_EQ(fp16_from_float(32816.0f), 0x7802);
  // Subnormals, ulp 2^-24: 2^-25 ties between 0 and 0x0001 -> +0; 3 x 2^-25 ties 1 and 2 -> 0x0002;
  // 5 x 2^-25 ties 2 and 3 -> 0x0002; 3 x 2^-26 (0.75 ulp) -> 0x0001.
  EXPECT_EQ(fp16_from_double(std::ldexp(1.0, -25)), 0x0000);
  EXPECT_EQ(fp16_from_double(-std::ldexp(1.0, -25)), 0x8000);
  EXPECT_EQ(fp16_from_double(3 * std::ldexp(1.0, -25)), 0x0002);
  EXPECT_EQ(fp16_from_double(5 * std::ldexp(1.0, -25)), 0x0002);
  EXPECT_EQ(fp16_from_double(3 * std::ldexp(1.0, -26)), 0x0001);
  // The largest subnormal plus half an ulp ties with 2^-14 (even) -> 0x0400.
  EXPECT_EQ(fp16_from_double(std::ldexp(1023.5, -24)), 0x0400);
}

TEST(Fp16, OverflowsToInfinityAtHalfAnUlpAboveMax) {
  // 65504 = 0x7BFF has an odd fraction; the next step would be 65536 (not finite).
  // 65520 is the tie: to even = 65536 = overflow -> inf. Anything below stays 65504.
  EXPECT_EQ(fp16_from_float(65519.996f), 0x7BFF);
  EXPECT_EQ(fp16_from_float(65520.0f), 0x7C00);
  EXPECT_EQ(fp16_from_float(-65520.0f), 0xFC00);
  EXPECT_EQ(fp16_from_float(1e10f), 0x7C00);
}

TEST(Fp16, ConvertingFromDoubleRoundsOnce) {
  // 1 + 2^-11 + 2^-40 is above the tie, so the nearest FP16 is 0x3C01. Going
  // through float first loses the 2^-40 and lands exactly on the tie -> 0x3C00.
  const double x = 1 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(fp16_from_double(x), 0x3C01);
  EXPECT_EQ(fp16_from_float(static_cast<float>(x)), 0x3C00);
}

TEST(Fp16, EveryPatternRoundTripsThroughFloat) {
  int nans = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const float f = fp16_to_float(h);
    if (fp16_is_nan(h)) {
      ASSERT_TRUE(std::isnan(f)) << i;
      ASSERT_EQ(fp16_from_float(f), kFp16CanonicalNan);
      ++nans;
      continue;
    }
    ASSERT_EQ(fp16_from_float(f), h) << i;
    ASSERT_EQ(fp16_from_double(fp16_to_double(h)), h) << i;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << i;
    if (std::isfinite(f)) {
      ASSERT_EQ(static_cast<double>(f), decode_by_formula(h)) << i;
    }
  }
  EXPECT_EQ(nans, 2 * 1023);
}

/// Reference rounding by search: the nearest finite FP16 magnitude, ties to the even pattern.
std::uint16_t nearest_by_search(double x, const std::vector<double>& magnitudes) {
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(x);
  if (a >= 65520.0) return sign | 0x7C00;
  if (a > 65504.0) return sign | 0x7BFF;
  const auto it = std::lower_bound(magnitudes.begin(), magnitudes.end(), a);
  const auto hi = static_cast<std::uint16_t>(it - magnitudes.begin());
  if (magnitudes[hi] == a || hi == 0) return sign | hi;
  const auto lo = static_cast<std::uint16_t>(hi - 1);
  const double d_lo = a - magnitudes[lo];
  const double d_hi = magnitudes[hi] - a;
  if (d_lo < d_hi) return sign | lo;
  if (d_hi < d_lo) return sign | hi;
  return sign | ((lo & 1) == 0 ? lo : hi);
}

TEST(Fp16, ConversionMatchesSearchForTheNearestValue) {
  std::vector<double> magnitudes;
  for (std::uint32_t i = 0; i <= 0x7BFF; ++i) magnitudes.push_back(decode_by_formula(static_cast<std::uint16_t>(i)));
  std::mt19937_64 rng(16);
  std::uniform_real_distribution<double> exponent(-27.0, 17.0);
  std::uniform_int_distribution<int> coin(0, 1);
  for (int i = 0; i < 200000; ++i) {
    double x = std::exp2(exponent(rng));
    if (i % 4 == 0) {
      // Exact midpoints between neighbours, where the tie rule decides.
      const auto k = static_cast<std::size_t>(i / 4 % 0x7BFF);
      x = (magnitudes[k] + magnitudes[k + 1]) / 2;
    }
    if (coin(rng)) x = -x;
    ASSERT_EQ(fp16_from_double(x), nearest_by_search(x, magnitudes)) << x;
  }
}

TEST(Fp16, AddRoundsOnceAndFollowsTheNanRules) {
  const std::uint16_t one = 0x3C00;
  EXPECT_EQ(fp16_add(0x6800, one), 0x6800);              // 2048 + 1 = 2049 -> tie -> 2048
  EXPECT_EQ(fp16_add(0x6801, one), 0x6802);              // 2050 + 1 = 2051 -> tie -> 2052
  EXPECT_EQ(fp16_add(kFp16Max, 0x4C00), 0x7C00);         // 65504 + 16 = 65520 -> tie -> overflow -> inf
  EXPECT_EQ(fp16_add(kFp16Max, 0x4BFF), kFp16Max);       // 65504 + 15.99 stays below 65520
  EXPECT_EQ(fp16_add(kFp16Max, kFp16Max), 0x7C00);
  EXPECT_EQ(fp16_add(0x0400, 0x8001), 0x03FF);           // 2^-14 - 2^-24: subnormal result, exact
  EXPECT_EQ(fp16_add(0x0001, 0x0001), 0x0002);
  EXPECT_EQ(fp16_add(0x0001, 0x8001), 0x0000);           // x + (-x) = +0
  EXPECT_EQ(fp16_add(0x8000, 0x0000), 0x0000);           // -0 + 0 = +0
  EXPECT_EQ(fp16_add(0x8000, 0x8000), 0x8000);           // -0 + -0 = -0
  EXPECT_EQ(fp16_add(0x7C00, one), 0x7C00);              // inf + finite = inf
  EXPECT_EQ(fp16_add(0xFC00, kFp16Max), 0xFC00);
  EXPECT_EQ(fp16_add(0x7C00, 0xFC00), kFp16CanonicalNan);  // inf - inf
  EXPECT_EQ(fp16_add(0x7C01, one), kFp16CanonicalNan);     // NaN in -> canonical NaN out
  EXPECT_EQ(fp16_add(one, 0xFE12), kFp16CanonicalNan);
  EXPECT_EQ(fp16_add(0x7C00, 0x7E00), kFp16CanonicalNan);
  // Random sums agree with the exact double sum (every sum of two FP16 values is exact in double) rounded once.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint32_t> pattern(0, 0xFFFF);
  for (int i = 0; i < 200000; ++i) {
    const auto a = static_cast<std::uint16_t>(pattern(rng));
    const auto b = static_cast<std::uint16_t>(pattern(rng));
    if (fp16_is_nan(a) || fp16_is_nan(b)) continue;
    const double exact = fp16_to_double(a) + fp16_to_double(b);
    if (std::isnan(exact)) continue;  // inf - inf, checked above
    std::uint16_t expected = fp16_from_double(exact);
    if (exact == 0.0) expected = (a == 0x8000 && b == 0x8000) ? 0x8000 : 0x0000;
    ASSERT_EQ(fp16_add(a, b), expected) << std::hex << a << " + " << b;
  }
}

TEST(Fp16, FusedMultiplyAddRoundsOnce) {
  // a = 1 + 3 x 2^-10 (0x3C03): a x a = 1 + 6 x 2^-10 + 9 x 2^-20 exactly.
  // acc = -1: exact result 6 x 2^-10 + 9 x 2^-20 = 1538.25 x 2^-18; at exponent -8 the ulp is 2^-18,
  // so it rounds to 1538 x 2^-18 = 1.501953125 x 2^-8 -> exponent 7, fraction 514 = 0x1E02.
  // Rounding the product first (to 1 + 6 x 2^-10) would give 6 x 2^-10 = 0x1E00.
  EXPECT_EQ(fp16_fma(0xBC00, 0x3C03, 0x3C03), 0x1E02);
  EXPECT_EQ(fp16_add(0xBC00, fp16_from_double(fp16_to_double(0x3C03) * fp16_to_double(0x3C03))), 0x1E00);
  // 2^-12 x 2^-12 = 2^-24: the smallest subnormal.
  EXPECT_EQ(fp16_fma(0x0000, 0x0C00, 0x0C00), 0x0001);
  // 2^-13 x -2^-13 = -2^-26: below a quarter ulp, rounds to zero and keeps the sign of the nonzero result.
  EXPECT_EQ(fp16_fma(0x0000, 0x0800, 0x8800), 0x8000);
  EXPECT_EQ(fp16_fma(0x0000, 0x7C00, 0x0000), kFp16CanonicalNan);  // inf x 0
  EXPECT_EQ(fp16_fma(0x3C00, 0x7C00, 0xBC00), 0xFC00);             // 1 + inf x -1 = -inf
  EXPECT_EQ(fp16_fma(0x7C00, 0x7C00, 0xBC00), kFp16CanonicalNan);  // inf + -inf
  EXPECT_EQ(fp16_fma(0x7E00, 0x3C00, 0x3C00), kFp16CanonicalNan);  // NaN accumulator
  EXPECT_EQ(fp16_fma(0x0000, 0x5C00, 0x5C00), 0x7C00);             // 256 x 256 = 65536 >= 65520 -> inf
  EXPECT_EQ(fp16_fma(0x0000, 0x5BFF, 0x5BFF), 0x7BFE);             // 255.875^2 = 65472.015625 -> 65472
  EXPECT_EQ(fp16_fma(0x8000, 0x8000, 0x3C00), 0x8000);             // -0 + (-0 x 1) = -0
}

TEST(Fp32, FusedMultiplyAddMatchesTheHostFma) {
  // std::fma on floats is correctly rounded (IEEE 754 fusedMultiplyAdd); NaN payloads differ, so skip NaNs.
  std::mt19937_64 rng(32);
  std::uniform_int_distribution<std::uint32_t> pattern(0, 0xFFFFFFFFu);
  std::uniform_int_distribution<int> exponent(-30, 30);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  int checked = 0;
  for (int i = 0; i < 300000; ++i) {
    std::uint32_t acc, a, b;
    if (i % 2 == 0) {  // random patterns: every exponent, subnormals, infinities
      acc = pattern(rng);
      a = pattern(rng);
      b = pattern(rng);
    } else {  // nearby magnitudes, where cancellation and rounding matter
      acc = fp32_bits(-std::ldexp(mant(rng), exponent(rng)));
      a = fp32_bits(std::ldexp(mant(rng), exponent(rng) / 2));
      b = fp32_bits(std::ldexp(mant(rng), exponent(rng) / 2));
    }
    const float expected = std::fma(fp32_value(a), fp32_value(b), fp32_value(acc));
    if (std::isnan(expected)) {
      ASSERT_EQ(fp32_fma(acc, a, b), kFp32CanonicalNan);
      continue;
    }
    ASSERT_EQ(fp32_fma(acc, a, b), fp32_bits(expected)) << std::hex << acc << " " << a << " " << b;
    ++checked;
  }
  EXPECT_GT(checked, 200000);
  EXPECT_EQ(fp32_add(fp32_bits(16777216.0f), fp32_bits(1.0f)), fp32_bits(16777216.0f));  // tie -> even
  EXPECT_EQ(fp32_add(fp32_bits(16777218.0f), fp32_bits(1.0f)), fp32_bits(16777220.0f));  // tie -> even
  EXPECT_EQ(fp32_from_double(1 + std::ldexp(1.0, -24)), 0x3F800000u);                       // tie -> even
  EXPECT_EQ(fp32_from_double(1 + std::ldexp(1.0, -24) + std::ldexp(1.0, -40)), 0x3F800001u);  // above the tie
}

}  // namespace
}  // namespace nibble::numerics
