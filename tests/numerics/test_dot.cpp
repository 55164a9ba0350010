#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/numerics/accumulate.hpp"
#include "sim/numerics/counter_rng.hpp"
#include "sim/numerics/dot.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp32.hpp"
#include "sim/numerics/int4.hpp"
#include "sim/numerics/pe.hpp"

namespace nibble::numerics {
namespace {

PeArith arith(Format acc, bool a_unsigned = false) {
  PeArith a;
  a.acc = acc;
  a.a_unsigned = a_unsigned;
  return a;
}

/// 32 random bits, a pure function of (seed, index).
std::uint32_t bits32(std::uint64_t seed, std::uint64_t index) {
  return static_cast<std::uint32_t>(mix64(seed * 0x9E3779B97F4A7C15ull + index) >> 16);
}

std::uint32_t dot1(const PeArith& ar, PeMode mode, std::uint32_t acc, std::uint32_t a, std::uint32_t b) {
  return pe_dot(ar, mode, acc, &a, &b, 1);
}

/// n chained pe_mac calls: the PE of today's array, one rounding per product.
std::uint32_t chained(const PeArith& ar, PeMode mode, std::uint32_t acc, const std::vector<std::uint32_t>& a,
                      const std::vector<std::uint32_t>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) acc = pe_mac(ar, mode, acc, a[i], b[i]);
  return acc;
}

std::uint32_t dot(const PeArith& ar, PeMode mode, std::uint32_t acc, const std::vector<std::uint32_t>& a,
                  const std::vector<std::uint32_t>& b) {
  return pe_dot(ar, mode, acc, a.data(), b.data(), a.size());
}

TEST(Dot, OneProductIsPeMacForEveryFourBitPair) {
  const PeMode modes[] = {PeMode::kInt4xInt4, PeMode::kFp4xInt4, PeMode::kInt4xFp4};
  // Accumulator samples: zeros of both signs, values near saturation / rounding boundaries, specials.
  const std::uint32_t int32_accs[] = {0u, 1u, 0xFFFFFFFFu, 0x7FFFFFF0u, 0x80000010u, 0x7FFFFFFFu, 0x80000000u};
  const std::uint32_t fp16_accs[] = {0x0000u, 0x8000u, 0x6800u, 0xE800u, 0x3C00u, 0x0001u, 0x7BFFu, 0x7C00u, 0xFC00u, 0x7E00u};
  const std::uint32_t fp32_accs[] = {0u, 0x80000000u, 0x4B800000u, 0x3F800000u, 0x00000001u, 0x7F7FFFFFu, 0x7F800000u};
  for (bool a_unsigned : {false, true}) {
    for (PeMode mode : modes) {
      for (std::uint32_t a = 0; a < 16; ++a) {
        for (std::uint32_t b = 0; b < 16; ++b) {
          for (std::uint32_t acc : int32_accs) {
            const PeArith ar = arith(Format::kInt32, a_unsigned);
            ASSERT_EQ(dot1(ar, mode, acc, a, b), pe_mac(ar, mode, acc, a, b)) << pe_mode_name(mode) << a << " " << b;
          }
          for (std::uint32_t acc : fp16_accs) {
            const PeArith ar = arith(Format::kFp16, a_unsigned);
            ASSERT_EQ(dot1(ar, mode, acc, a, b), pe_mac(ar, mode, acc, a, b)) << pe_mode_name(mode) << a << " " << b;
          }
          for (std::uint32_t acc : fp32_accs) {
            const PeArith ar = arith(Format::kFp32, a_unsigned);
            ASSERT_EQ(dot1(ar, mode, acc, a, b), pe_mac(ar, mode, acc, a, b)) << pe_mode_name(mode) << a << " " << b;
          }
        }
      }
    }
  }
}

TEST(Dot, OneProductIsPeMacForFloatModes) {
  // FP8: every code pair of the mixed layouts; FP16 / FP32: random patterns (specials included).
  PeArith fp8 = arith(Format::kFp16);
  fp8.fp8_a = Format::kFp8E4M3;
  fp8.fp8_b = Format::kFp8E5M2;
  for (std::uint32_t acc : {0x0000u, 0x8000u, 0x3C00u, 0x0400u, 0x7C00u}) {
    for (Format f : {Format::kFp16, Format::kFp32}) {
      fp8.acc = f;
      const std::uint32_t acc_word = f == Format::kFp16 ? acc : fp32_bits(static_cast<float>(acc) / 64.0f);
      for (std::uint32_t a = 0; a < 256; ++a) {
        for (std::uint32_t b = 0; b < 256; ++b) {
          ASSERT_EQ(dot1(fp8, PeMode::kFp8xFp8, acc_word, a, b), pe_mac(fp8, PeMode::kFp8xFp8, acc_word, a, b))
              << a << " " << b << " acc " << acc_word;
        }
      }
    }
  }
  for (std::uint64_t i = 0; i < 200000; ++i) {
    const std::uint32_t a = bits32(2026, 3 * i);
    const std::uint32_t b = bits32(2026, 3 * i + 1);
    const std::uint32_t acc = bits32(2026, 3 * i + 2);
    const PeArith f16 = arith(Format::kFp16);
    const PeArith f32 = arith(Format::kFp32);
    ASSERT_EQ(dot1(f16, PeMode::kFp16xFp16, acc & 0xFFFFu, a & 0xFFFFu, b & 0xFFFFu),
              pe_mac(f16, PeMode::kFp16xFp16, acc & 0xFFFFu, a & 0xFFFFu, b & 0xFFFFu));
    ASSERT_EQ(dot1(f32, PeMode::kFp16xFp16, acc, a & 0xFFFFu, b & 0xFFFFu),
              pe_mac(f32, PeMode::kFp16xFp16, acc, a & 0xFFFFu, b & 0xFFFFu));
    ASSERT_EQ(dot1(f32, PeMode::kFp32xFp32, acc, a, b), pe_mac(f32, PeMode::kFp32xFp32, acc, a, b))
        << std::hex << acc << " " << a << " " << b;
  }
}

TEST(Dot, Fp16AccumulatorRoundsOncePerDotProduct) {
  // acc = 2048 (0x6800), four products 1 x 1. FP16's ulp on [2048, 4096) is 2.
  // Chained: 2048 + 1 = 2049 is a tie between 2048 and 2050, nearest-even keeps
  // 2048 (mantissa 0), four times over: 0x6800. Dot: 2048 + 4 = 2052 = 2048 +
  // 2 ulps, exact: 0x6802.
  const PeArith f16 = arith(Format::kFp16);
  const std::vector<std::uint32_t> ones(4, int4_bits(1));
  EXPECT_EQ(chained(f16, PeMode::kInt4xInt4, 0x6800u, ones, ones), 0x6800u);
  EXPECT_EQ(dot(f16, PeMode::kInt4xInt4, 0x6800u, ones, ones), 0x6802u);
  // INT4 x FP4 (bias 7): a = 1 x code 0b0111 (4^0) = 1 per product, the same sums.
  const std::vector<std::uint32_t> top(4, 0b0111u);
  EXPECT_EQ(chained(f16, PeMode::kInt4xFp4, 0x6800u, ones, top), 0x6800u);
  EXPECT_EQ(dot(f16, PeMode::kInt4xFp4, 0x6800u, ones, top), 0x6802u);
}

TEST(Dot, Int32AccumulatorSaturatesOncePerDotProduct) {
  // acc = 2^31 - 2, products 7 x 7 = 49 then 7 x -7 = -49. Chained: 2^31 - 2 + 49
  // saturates to 2^31 - 1 (0x7FFFFFFF), minus 49 gives 0x7FFFFFCE. Dot: the sum
  // is 0, acc stays 0x7FFFFFFE.
  const PeArith i32 = arith(Format::kInt32);
  const std::vector<std::uint32_t> a = {int4_bits(7), int4_bits(7), 0, 0};
  const std::vector<std::uint32_t> b = {int4_bits(7), int4_bits(-7), 0, 0};
  EXPECT_EQ(chained(i32, PeMode::kInt4xInt4, 0x7FFFFFFEu, a, b), 0x7FFFFFCEu);
  EXPECT_EQ(dot(i32, PeMode::kInt4xInt4, 0x7FFFFFFEu, a, b), 0x7FFFFFFEu);
}

TEST(Dot, Fp32SumIsExactAcrossAWideExponentSpan) {
  // acc = 1, products 2^100, -2^100, 2^-30 (each x 1). Chained: 1 + 2^100 rounds
  // to 2^100, minus 2^100 is +0, plus 2^-30 gives 2^-30 (0x30800000: field 97).
  // Dot: the exact sum 1 + 2^-30 rounds to 1 (2^-30 < half of 1's ulp 2^-23): 0x3F800000.
  const PeArith f32 = arith(Format::kFp32);
  const std::vector<std::uint32_t> a = {fp32_bits(std::ldexp(1.0f, 100)), fp32_bits(-std::ldexp(1.0f, 100)),
                                        fp32_bits(std::ldexp(1.0f, -30))};
  const std::vector<std::uint32_t> b(3, fp32_bits(1.0f));
  EXPECT_EQ(chained(f32, PeMode::kFp32xFp32, fp32_bits(1.0f), a, b), 0x30800000u);
  EXPECT_EQ(dot(f32, PeMode::kFp32xFp32, fp32_bits(1.0f), a, b), 0x3F800000u);
  // A tie decided by a far-away term: 1 + 2^-24 is a tie (to 1), a further
  // 2^-120 makes it round up to 1 + 2^-23 (0x3F800001).
  const std::vector<std::uint32_t> c = {fp32_bits(std::ldexp(1.0f, -24)), fp32_bits(std::ldexp(1.0f, -120))};
  const std::vector<std::uint32_t> d(2, fp32_bits(1.0f));
  EXPECT_EQ(dot(f32, PeMode::kFp32xFp32, fp32_bits(1.0f), c, d), 0x3F800001u);
  EXPECT_EQ(chained(f32, PeMode::kFp32xFp32, fp32_bits(1.0f), c, d), 0x3F800000u);
}

TEST(Dot, OrderOfProductsDoesNotMatter) {
  const PeArith f16 = arith(Format::kFp16);
  for (std::uint64_t t = 0; t < 2000; ++t) {
    std::vector<std::uint32_t> a(8);
    std::vector<std::uint32_t> b(8);
    for (std::size_t i = 0; i < 8; ++i) {
      a[i] = bits32(7, t * 16 + i) & 0x7BFFu;  // finite FP16
      b[i] = bits32(7, t * 16 + 8 + i) & 0xBBFFu;
    }
    const std::uint32_t forward = dot(f16, PeMode::kFp16xFp16, 0x3C00u, a, b);
    std::vector<std::uint32_t> ra(a.rbegin(), a.rend());
    std::vector<std::uint32_t> rb(b.rbegin(), b.rend());
    ASSERT_EQ(dot(f16, PeMode::kFp16xFp16, 0x3C00u, ra, rb), forward);
  }
}

TEST(Dot, SpecialsAndSignedZeros) {
  const PeArith f16 = arith(Format::kFp16);
  // +inf x 1 and -inf x 1 in one dot product: NaN; inf x 0: NaN.
  EXPECT_EQ(dot(f16, PeMode::kFp16xFp16, 0, {0x7C00u, 0xFC00u}, {0x3C00u, 0x3C00u}), 0x7E00u);
  EXPECT_EQ(dot(f16, PeMode::kFp16xFp16, 0, {0x7C00u, 0x3C00u}, {0x0000u, 0x3C00u}), 0x7E00u);
  EXPECT_EQ(dot(f16, PeMode::kFp16xFp16, 0x3C00u, {0xFC00u, 0x7BFFu}, {0x3C00u, 0x7BFFu}), 0xFC00u);
  // -0 + (-0 x 1) + (1 x -0) = -0; +0 + (-0 x 1) = +0; 1 x 1 + (-1 x 1) from -0 = +0.
  EXPECT_EQ(dot(f16, PeMode::kFp16xFp16, 0x8000u, {0x8000u, 0x3C00u}, {0x3C00u, 0x8000u}), 0x8000u);
  EXPECT_EQ(dot(f16, PeMode::kFp16xFp16, 0x0000u, {0x8000u}, {0x3C00u}), 0x0000u);
  EXPECT_EQ(dot(f16, PeMode::kFp16xFp16, 0x8000u, {0x3C00u, 0xBC00u}, {0x3C00u, 0x3C00u}), 0x0000u);
  // Overflow of the single rounding: 65504 + 32 x 1 rounds to +inf (the tie at 65520 goes up).
  EXPECT_EQ(dot(f16, PeMode::kFp16xFp16, 0x7BFFu, {0x5000u}, {0x3C00u}), 0x7C00u);
}

TEST(Dot, ChunkedAccumulatorTakesWholeDotProducts) {
  // Chunks of 4: a dot of 3 ones then one of 1 closes the first chunk (FP16 3 + 1 = 4
  // added into the FP32 total), a dot of 4 ones the second: 8.0 (0x41000000), 8 terms.
  ChunkedFp16Accumulator sum(4);
  const PeArith ar = arith(Format::kFp16);
  const std::vector<std::uint32_t> ones(4, int4_bits(1));
  sum.dot(ar, PeMode::kInt4xInt4, ones.data(), ones.data(), 3);
  sum.dot(ar, PeMode::kInt4xInt4, ones.data(), ones.data(), 1);
  EXPECT_EQ(sum.partial_fp16(), 0u);
  sum.dot(ar, PeMode::kInt4xInt4, ones.data(), ones.data(), 4);
  EXPECT_EQ(sum.total_fp32(), 0x41000000u);
  EXPECT_EQ(sum.terms(), 8u);
  // 3 terms in, a dot of 2 would end past the chunk boundary.
  sum.dot(ar, PeMode::kInt4xInt4, ones.data(), ones.data(), 3);
  EXPECT_THROW(sum.dot(ar, PeMode::kInt4xInt4, ones.data(), ones.data(), 2), FormatError);
}

TEST(Dot, BadInputsThrow) {
  const PeArith i32 = arith(Format::kInt32);
  const std::vector<std::uint32_t> z(kMaxDotProduct + 1, 0);
  EXPECT_THROW(pe_dot(i32, PeMode::kInt4xInt4, 0, z.data(), z.data(), 0), FormatError);
  EXPECT_THROW(pe_dot(i32, PeMode::kInt4xInt4, 0, z.data(), z.data(), kMaxDotProduct + 1), FormatError);
  EXPECT_EQ(pe_dot(i32, PeMode::kInt4xInt4, 5, z.data(), z.data(), kMaxDotProduct), 5u);
  EXPECT_THROW(dot(i32, PeMode::kInt4xInt4, 0, {0, 16}, {0, 0}), FormatError);
  EXPECT_THROW(dot(i32, PeMode::kFp16xFp16, 0, {0}, {0}), FormatError);
  EXPECT_THROW(dot(arith(Format::kFp16), PeMode::kFp16xFp16, 0x10000u, {0}, {0}), FormatError);
}

}  // namespace
}  // namespace nibble::numerics
