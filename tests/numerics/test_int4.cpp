#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "sim/numerics/error.hpp"
#include "sim/numerics/int4.hpp"
#include "tests/support/float_specials.hpp"

namespace nibble::numerics {
namespace {

using test::kInf;
using test::kNan;

TEST(Int4, BitPatternsAreFourBitTwosComplement) {
  EXPECT_EQ(int4_bits(0), 0x0u);
  EXPECT_EQ(int4_bits(7), 0x7u);
  EXPECT_EQ(int4_bits(-1), 0xFu);
  EXPECT_EQ(int4_bits(-8), 0x8u);
  for (int v = -8; v <= 7; ++v) EXPECT_EQ(int4_value(int4_bits(v)), v);
  EXPECT_EQ(int4_value(0x18u), -8);  // only the low 4 bits count
  EXPECT_THROW(int4_bits(8), FormatError);
  EXPECT_THROW(int4_bits(-9), FormatError);
}

TEST(Int4, NearestEvenTiesAndSaturation) {
  const Int4Quantizer q(Int4Params{});  // scale 1, signed
  // Ties go to the even code; +-7.5 and -8.5 are ties too, decided before saturating.
  EXPECT_EQ(q.quantize(0.5f), 0);
  EXPECT_EQ(q.quantize(1.5f), 2);
  EXPECT_EQ(q.quantize(2.5f), 2);
  EXPECT_EQ(q.quantize(-0.5f), 0);
  EXPECT_EQ(q.quantize(-1.5f), -2);
  EXPECT_EQ(q.quantize(-2.5f), -2);
  EXPECT_EQ(q.quantize(6.5f), 6);
  EXPECT_EQ(q.quantize(7.5f), 7);    // round(7.5) = 8, saturated to 7
  EXPECT_EQ(q.quantize(-7.5f), -8);  // round(-7.5) = -8
  EXPECT_EQ(q.quantize(-8.5f), -8);  // round(-8.5) = -8 (even)
  EXPECT_EQ(q.quantize(0.49999997f), 0);
  EXPECT_EQ(q.quantize(0.50000006f), 1);
  EXPECT_EQ(q.quantize(1000.0f), 7);
  EXPECT_EQ(q.quantize(-1000.0f), -8);
  EXPECT_EQ(q.quantize(kInf), 7);
  EXPECT_EQ(q.quantize(-kInf), -8);
  EXPECT_EQ(q.quantize(kNan), 0);
}

TEST(Int4, ScaleDividesBeforeRounding) {
  Int4Params p;
  p.scale = 0.25f;
  const Int4Quantizer q(p);
  EXPECT_EQ(q.quantize(0.3f), 1);     // 0.3 / 0.25 = 1.2
  EXPECT_EQ(q.quantize(0.375f), 2);   // 1.5 -> 2 (tie, even)
  EXPECT_EQ(q.quantize(0.625f), 2);   // 2.5 -> 2 (tie, even)
  EXPECT_EQ(q.quantize(-1.9f), -8);   // -7.6 -> -8
  EXPECT_EQ(q.quantize(1.9f), 7);     // 7.6 -> 8 -> 7
  EXPECT_FLOAT_EQ(q.dequantize(-3), -0.75f);
}

TEST(Int4, UnsignedRangeIsZeroToFifteen) {
  Int4Params p;
  p.is_signed = false;
  const Int4Quantizer q(p);
  EXPECT_EQ(q.min_code(), 0);
  EXPECT_EQ(q.max_code(), 15);
  EXPECT_EQ(q.quantize(-3.0f), 0);
  EXPECT_EQ(q.quantize(14.5f), 14);  // tie -> even
  EXPECT_EQ(q.quantize(15.4f), 15);
  EXPECT_EQ(q.quantize(15.5f), 15);  // round(15.5) = 16, saturated
  EXPECT_EQ(q.quantize(kNan), 0);
}

TEST(Int4, TensorCallsMatchScalarCallsAndFakeQuantization) {
  Int4Params p;
  p.scale = 0.37f;
  const Int4Quantizer q(p);
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::vector<float> x(4099);
  for (auto& v : x) v = normal(rng);
  x[5] = kNan;
  x[6] = -kInf;
  std::vector<std::int8_t> codes(x.size());
  std::vector<float> fake(x.size());
  std::vector<float> deq(x.size());
  q.quantize(x.data(), x.size(), codes.data());
  q.quantize_dequantize(x.data(), x.size(), fake.data());
  q.dequantize(codes.data(), codes.size(), deq.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(codes[i], q.quantize(x[i])) << i;
    ASSERT_EQ(fake[i], deq[i]) << i;
    ASSERT_EQ(fake[i], static_cast<float>(codes[i]) * 0.37f) << i;
  }
  EXPECT_FALSE(std::signbit(fake[5]));  // NaN -> code 0 -> +0
}

TEST(Int4, StochasticRoundingIsUnbiasedAndReproducible) {
  Int4Params p;
  p.rounding = IntRounding::kStochastic;
  p.seed = 42;
  const Int4Quantizer q(p);
  // x = 2.3: code 3 with probability 0.3, else 2; the mean code is 2.3.
  // 10^5 draws: standard error sqrt(0.21 / 1e5) = 0.00145, tolerance ~4 sigma.
  const std::size_t n = 100000;
  std::vector<float> x(n, 2.3f);
  std::vector<std::int8_t> codes(n);
  q.quantize(x.data(), n, codes.data());
  double sum = 0;
  for (auto c : codes) {
    ASSERT_TRUE(c == 2 || c == 3);
    sum += c;
  }
  EXPECT_NEAR(sum / n, 2.3, 0.006);

  // Element i draws from stream index first_index + i: splitting the call changes nothing.
  std::vector<std::int8_t> split(n);
  q.quantize(x.data(), 1000, split.data());
  q.quantize(x.data() + 1000, n - 1000, split.data() + 1000, 1000);
  EXPECT_EQ(split, codes);

  // Another seed gives another (but equally unbiased) draw.
  p.seed = 43;
  std::vector<std::int8_t> other(n);
  Int4Quantizer(p).quantize(x.data(), n, other.data());
  EXPECT_NE(other, codes);

  // Exact codes never move; saturation still applies.
  EXPECT_EQ(q.quantize(-2.0f, 7), -2);
  EXPECT_EQ(q.quantize(50.0f, 7), 7);
  EXPECT_EQ(q.quantize(kNan, 7), 0);
}

}  // namespace
}  // namespace nibble::numerics
