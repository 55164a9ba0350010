#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "sim/numerics/error.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/int4.hpp"
#include "tests/support/float_specials.hpp"

namespace nibble::numerics {
namespace {

using test::kInf;
using test::kNan;

Fp4Params params(float scale, int bias = 7, Fp4Rounding rounding = Fp4Rounding::kNearestLog2, bool radix2 = false) {
  Fp4Params p;
  p.scale = scale;
  p.bias = bias;
  p.rounding = rounding;
  p.radix2 = radix2;
  return p;
}

TEST(Fp4, CodeBookAtDefaultBias) {
  // e = 1..7 -> 4^(e-7): 4^-6 = 2^-12 = 0.000244140625 ... 4^0 = 1.
  EXPECT_EQ(fp4_value(0b0001), 0.000244140625);
  EXPECT_EQ(fp4_value(0b0100), 0.015625);  // 4^-3
  EXPECT_EQ(fp4_value(0b0111), 1.0);
  EXPECT_EQ(fp4_value(0b1011), -0.00390625);  // -4^-4
  EXPECT_EQ(fp4_value(0b0000), 0.0);
  EXPECT_EQ(fp4_value(0b1000), 0.0);  // -0 reads as 0
  EXPECT_EQ(fp4_value(0b0111, 0), 16384.0);   // bias 0: 4^7
  EXPECT_EQ(fp4_value(0b0111, 7, true), 1.0);  // radix 2: 2^0
  EXPECT_EQ(fp4_value(0b0001, 7, true), 0.015625);  // 2^-6
  EXPECT_EQ(fp4_code(true, 3), 0b1011u);
  const Fp4Quantizer q(params(1.0f));
  EXPECT_EQ(q.dequantize(0b1000), 0.0f);
  EXPECT_FALSE(std::signbit(q.dequantize(0b1000)));
  EXPECT_EQ(q.dequantize(0b1110), -0.25f);
}

TEST(Fp4, HandWorkedCodesNearestInLog2) {
  const Fp4Quantizer q(params(1.0f));
  // Levels 4^-6 .. 1; between L and 4L the log2 midpoint is 2L.
  EXPECT_EQ(q.quantize(1.0f), 0b0111);
  EXPECT_EQ(q.quantize(3.0f), 0b0111);           // above the top code: saturates
  EXPECT_EQ(q.quantize(kInf), 0b0111);
  EXPECT_EQ(q.quantize(-kInf), 0b1111);
  EXPECT_EQ(q.quantize(0.5f), 0b0111);           // 2 x 0.25: the tie rounds up
  EXPECT_EQ(q.quantize(0.49999997f), 0b0110);    // just below -> 0.25
  EXPECT_EQ(q.quantize(0.6f), 0b0111);           // >= 0.5 -> 1 (nearest in value would give 0.25)
  EXPECT_EQ(q.quantize(0.3f), 0b0110);
  EXPECT_EQ(q.quantize(-0.01f), 0b1100);         // 0.01 >= 2 x 4^-4 = 0.0078125 -> 4^-3
  EXPECT_EQ(q.quantize(-0.009f), 0b1100);        // also >= 0.0078125
  // Below the smallest code 2^-12: nearest in value against 0, threshold 2^-13 (tie -> the code).
  EXPECT_EQ(q.quantize(0.0001220703125f), 0b0001);  // exactly 2^-13
  EXPECT_EQ(q.quantize(std::nextafter(0.0001220703125f, 0.0f)), 0b0000);
  EXPECT_EQ(q.quantize(-0.0001220703125f), 0b1001);
  EXPECT_EQ(q.quantize(1e-30f), 0);
  EXPECT_EQ(q.quantize(-0.0f), 0);               // zero is always +0
  EXPECT_EQ(q.quantize(-1e-30f), 0);
  EXPECT_EQ(q.quantize(kNan), 0);
}

TEST(Fp4, HandWorkedCodesNearestInValue) {
  const Fp4Quantizer q(params(1.0f, 7, Fp4Rounding::kNearestValue));
  // Between L and 4L the arithmetic midpoint is 2.5L.
  EXPECT_EQ(q.quantize(0.6f), 0b0110);     // < 0.625 -> 0.25
  EXPECT_EQ(q.quantize(0.625f), 0b0111);   // the tie rounds up
  EXPECT_EQ(q.quantize(-0.01f), 0b1100);   // 0.01 >= 2.5 x 4^-4 = 0.009765625
  EXPECT_EQ(q.quantize(-0.009f), 0b1011);  // < 0.009765625 -> 4^-4
  EXPECT_EQ(q.quantize(0.0001220703125f), 0b0001);  // same rule against 0 as log2
  EXPECT_EQ(q.quantize(5.0f), 0b0111);
}

TEST(Fp4, ScaleBiasAndRadix2) {
  // Scale 3: levels 3 x 4^(e-7); 1.5 = 2 x 0.75 is the log2 tie between 0.75 and 3.
  const Fp4Quantizer s3(params(3.0f));
  EXPECT_EQ(s3.quantize(3.0f), 0b0111);
  EXPECT_EQ(s3.quantize(1.5f), 0b0111);
  EXPECT_EQ(s3.quantize(1.4999999f), 0b0110);
  // Bias 0: levels 4^1 .. 4^7 = 4 .. 16384; below 4 the threshold is 2.
  const Fp4Quantizer b0(params(1.0f, 0));
  EXPECT_EQ(b0.quantize(3.0f), 0b0001);
  EXPECT_EQ(b0.quantize(2.0f), 0b0001);
  EXPECT_EQ(b0.quantize(1.9f), 0);
  EXPECT_EQ(b0.quantize(20000.0f), 0b0111);
  EXPECT_EQ(b0.quantize(9000.0f), 0b0111);  // >= 2 x 4096 = 8192
  // Radix 2, bias 7: levels 2^-6 .. 1; log2 midpoint between 0.5 and 1 is sqrt(0.5) = 0.70710678.
  const Fp4Quantizer r2(params(1.0f, 7, Fp4Rounding::kNearestLog2, true));
  const float below = 0.70710677f;                    // 0x3F3504F3 = 0.70710676908... < sqrt(0.5)
  const float above = std::nextafter(below, 1.0f);    // 0x3F3504F4 = 0.70710682869... > sqrt(0.5)
  EXPECT_EQ(r2.quantize(below), 0b0110);
  EXPECT_EQ(r2.quantize(above), 0b0111);
  EXPECT_EQ(r2.threshold(7), above);
  const Fp4Quantizer r2v(params(1.0f, 7, Fp4Rounding::kNearestValue, true));
  EXPECT_EQ(r2v.quantize(0.74f), 0b0110);
  EXPECT_EQ(r2v.quantize(0.75f), 0b0111);
}

TEST(Fp4, ThresholdsAreExactForRadix4Log2) {
  // For radix 4 the log2 midpoints are 2 x scale x 4^(e-1-bias): exact floats.
  const float scale = 0.3f;
  const Fp4Quantizer q(params(scale, 7));
  for (int e = 2; e <= 7; ++e) {
    EXPECT_EQ(q.threshold(e), std::ldexp(scale, 2 * (e - 1 - 7) + 1)) << e;
  }
  EXPECT_EQ(q.threshold(1), std::ldexp(scale, 2 * (1 - 7) - 1));  // half the smallest level
}

/// Reference: the magnitude 0..7 by the definition, exactly in double.
int reference_magnitude(float x, const Fp4Params& p) {
  const double y = std::fabs(static_cast<double>(x));
  if (std::isnan(y)) return 0;
  const int step = p.radix2 ? 1 : 2;
  auto level = [&](int e) { return e == 0 ? 0.0 : std::ldexp(static_cast<double>(p.scale), (e - p.bias) * step); };
  int e = 0;
  while (e < 7 && y >= level(e + 1)) ++e;  // floor level
  if (e == 7) return 7;
  const double lo = level(e);
  const double hi = level(e + 1);
  bool up = false;
  if (e == 0 || p.rounding == Fp4Rounding::kNearestValue) {
    up = 2 * y >= lo + hi;
  } else {
    up = y * y >= lo * hi;
  }
  return e + (up ? 1 : 0);
}

TEST(Fp4, AgreesWithTheDefinitionOnRandomFloats) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0xFFFFFFFFu);
  const std::vector<Fp4Params> cases = {
      params(1.0f),
      params(0.3f, 3, Fp4Rounding::kNearestValue),
      params(1e-38f, 15),                       // thresholds down in the subnormals
      params(1e30f, 0),                         // thresholds near the top of the float range
      params(1.7f, 9, Fp4Rounding::kNearestLog2, true),
      params(123.456f, 12, Fp4Rounding::kNearestValue, true),
  };
  for (const auto& p : cases) {
    const Fp4Quantizer q(p);
    // Random bit patterns cover every exponent; also probe each threshold and its neighbour below.
    std::vector<float> xs;
    for (int i = 0; i < 20000; ++i) {
      const std::uint32_t b = bits(rng);
      float f = 0;
      std::memcpy(&f, &b, sizeof f);
      xs.push_back(f);
      xs.push_back(static_cast<float>(std::ldexp(static_cast<double>(p.scale), -16 + (i % 32))) *
                   (1.0f + static_cast<float>(i % 97) / 97.0f));
    }
    for (int e = 1; e <= 7; ++e) {
      xs.push_back(q.threshold(e));
      xs.push_back(std::nextafter(q.threshold(e), 0.0f));
    }
    std::vector<std::uint8_t> codes(xs.size());
    q.quantize(xs.data(), xs.size(), codes.data());
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const int m = reference_magnitude(xs[i], p);
      const std::uint8_t expected = m == 0 ? 0 : static_cast<std::uint8_t>((std::signbit(xs[i]) ? 8 : 0) | m);
      ASSERT_EQ(codes[i], expected) << "x=" << xs[i] << " scale=" << p.scale << " bias=" << p.bias;
    }
  }
}

TEST(Fp4, StochasticRoundingIsUnbiased) {
  Fp4Params p = params(1.0f, 7, Fp4Rounding::kStochastic);
  p.seed = 9;
  const Fp4Quantizer q(p);
  // 0.4 lies between 0.25 and 1: up with probability (0.4 - 0.25) / 0.75 = 0.2, so E[q] = 0.4.
  // Per-draw sd 0.75 x sqrt(0.2 x 0.8) = 0.3; over 10^5 draws 0.00095; tolerance ~4 sigma.
  const std::size_t n = 100000;
  std::vector<float> x(n, -0.4f);
  std::vector<float> out(n);
  q.quantize_dequantize(x.data(), n, out.data());
  double sum = 0;
  for (float v : out) {
    ASSERT_TRUE(v == -0.25f || v == -1.0f);
    sum += v;
  }
  EXPECT_NEAR(sum / n, -0.4, 0.004);
  // Below the smallest level: between 0 and 2^-12, P(up) = x / 2^-12.
  std::vector<float> tiny(n, 0.25f * 0.000244140625f);
  q.quantize_dequantize(tiny.data(), n, out.data());
  sum = 0;
  for (float v : out) sum += v;
  EXPECT_NEAR(sum / n / 0.000244140625, 0.25, 0.006);
  EXPECT_EQ(q.quantize(0.25f, 3), 0b0110);  // exact levels never move
  EXPECT_EQ(q.quantize(8.0f, 3), 0b0111);
  EXPECT_EQ(q.quantize(kNan, 3), 0);
}

TEST(Fp4, ShiftProductEqualsExactProductForEveryCodePair) {
  // P = (-1)^s (a << 2(e-1)); its LSB weighs 4^(1-bias), so P x 4^(1-bias) = a x 4^(e-bias).
  for (int bias : {0, 7, 15}) {
    for (int a = -8; a <= 7; ++a) {
      for (std::uint32_t code = 0; code < 16; ++code) {
        const std::int32_t p = fp4_shift_product(a, code);
        const double exact = a * fp4_value(code, bias);  // double: exact (powers of two times small ints)
        ASSERT_EQ(std::ldexp(static_cast<double>(p), fp4_product_lsb_exp(bias)), exact)
            << "a=" << a << " code=" << code << " bias=" << bias;
        const int e = fp4_exponent(code);
        if (e == 0) {
          ASSERT_EQ(p, 0);
          continue;
        }
        // The shifted INT4 word, then the FP4 sign: what the shifter and negator produce.
        const std::int32_t shifted = a * (1 << fp4_shift_amount(code));
        ASSERT_EQ(fp4_shift_amount(code), 2 * (e - 1));
        ASSERT_EQ(p, fp4_negative(code) ? -shifted : shifted);
        ASSERT_LE(std::abs(p), 32768);  // 17-bit signed word
      }
    }
  }
  EXPECT_EQ(fp4_shift_product(-8, 0b1111), 32768);  // the extreme: -8 x -4^6
  EXPECT_EQ(fp4_shift_product(7, 0b0111), 28672);
  EXPECT_EQ(fp4_shift_product(3, 0b0011, true), 12);  // radix 2: 3 << (3 - 1)
  EXPECT_EQ(fp4_shift_product(15, 0b0111), 61440);   // a UINT4 activation: 15 << 12
  EXPECT_THROW(fp4_shift_product(16, 1), FormatError);
  EXPECT_THROW(fp4_shift_product(-9, 1), FormatError);
}

}  // namespace
}  // namespace nibble::numerics
