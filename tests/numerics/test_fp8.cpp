#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "sim/numerics/error.hpp"
#include "sim/numerics/fp8.hpp"
#include "tests/support/float_specials.hpp"

namespace nibble::numerics {
namespace {

using test::kInf;
using test::kNan;
const Fp8Spec kE4M3 = fp8_default_spec(Format::kFp8E4M3);
const Fp8Spec kE5M2 = fp8_default_spec(Format::kFp8E5M2);

TEST(Fp8, E4M3KnownPatternsSaturateAndHaveOneNan) {
  EXPECT_EQ(kE4M3.bias, 7);
  EXPECT_EQ(fp8_from_float(1.0f, kE4M3), 0x38);       // 0 0111 000
  EXPECT_EQ(fp8_from_float(-1.5f, kE4M3), 0xBC);      // 1 0111 100
  EXPECT_EQ(fp8_from_float(448.0f, kE4M3), 0x7E);     // 0 1111 110 = 1.75 x 2^8, the largest finite
  EXPECT_EQ(fp8_to_float(0x7E, kE4M3), 448.0f);
  // 464 ties 448 (fraction 110, even) and "480" (1111.111, the NaN code) -> 448.
  EXPECT_EQ(fp8_from_float(464.0f, kE4M3), 0x7E);
  EXPECT_EQ(fp8_from_float(470.0f, kE4M3), 0x7E);     // would round to 480: saturates
  EXPECT_EQ(fp8_from_float(1e6f, kE4M3), 0x7E);
  EXPECT_EQ(fp8_from_float(kInf, kE4M3), 0x7E);       // no inf in e4m3: saturate
  EXPECT_EQ(fp8_from_float(-kInf, kE4M3), 0xFE);
  EXPECT_EQ(fp8_from_float(kNan, kE4M3), 0x7F);
  EXPECT_TRUE(std::isnan(fp8_to_float(0xFF, kE4M3)));
  EXPECT_EQ(fp8_to_float(0x78, kE4M3), 256.0f);       // exponent 15 is a normal binade here
  // Subnormals: 2^(1-7) x 0.f, smallest 2^-9; 2^-10 ties 0 and 2^-9 -> 0.
  EXPECT_EQ(fp8_from_float(std::ldexp(1.0f, -9), kE4M3), 0x01);
  EXPECT_EQ(fp8_from_float(std::ldexp(1.0f, -10), kE4M3), 0x00);
  EXPECT_EQ(fp8_from_float(std::ldexp(3.0f, -10), kE4M3), 0x02);  // 1.5 ulp ties 1 and 2 -> 2
}

TEST(Fp8, E5M2IsIeeeLike) {
  EXPECT_EQ(kE5M2.bias, 15);
  EXPECT_EQ(fp8_from_float(1.0f, kE5M2), 0x3C);       // 0 01111 00
  EXPECT_EQ(fp8_from_float(57344.0f, kE5M2), 0x7B);   // 0 11110 11 = 1.75 x 2^15
  // 61440 ties 57344 (fraction 11, odd) and 65536 (overflow): to even -> inf.
  EXPECT_EQ(fp8_from_float(61440.0f, kE5M2), 0x7C);
  EXPECT_EQ(fp8_from_float(60000.0f, kE5M2), 0x7B);
  EXPECT_EQ(fp8_from_float(kInf, kE5M2), 0x7C);
  EXPECT_EQ(fp8_from_float(-kInf, kE5M2), 0xFC);
  EXPECT_EQ(fp8_from_float(kNan, kE5M2), 0x7E);
  EXPECT_EQ(fp8_from_float(std::ldexp(1.0f, -16), kE5M2), 0x01);  // smallest subnormal 2^(1-15-2)
  EXPECT_TRUE(std::isinf(fp8_to_float(0xFC, kE5M2)));
  EXPECT_TRUE(std::isnan(fp8_to_float(0x7D, kE5M2)));
}

TEST(Fp8, EveryPatternRoundTrips) {
  for (const Fp8Spec& spec : {kE4M3, kE5M2, Fp8Spec{Format::kFp8E4M3, 4}, Fp8Spec{Format::kFp8E5M2, 31}}) {
    for (std::uint32_t i = 0; i < 256; ++i) {
      const auto b = static_cast<std::uint8_t>(i);
      const float f = fp8_to_float(b, spec);
      if (std::isnan(f)) continue;
      ASSERT_EQ(fp8_from_float(f, spec), b) << i << " bias " << spec.bias;
    }
  }
}

TEST(Fp8, BiasIsConfigurable) {
  const Fp8Spec b4{Format::kFp8E4M3, 4};
  EXPECT_EQ(fp8_from_float(1.0f, b4), 0x20);   // exponent field 4
  EXPECT_EQ(fp8_to_float(0x7E, b4), 3584.0f);  // 1.75 x 2^(15-4)
  EXPECT_THROW(fp8_float_spec(Fp8Spec{Format::kFp8E4M3, 16}), FormatError);
  EXPECT_THROW(fp8_float_spec(Fp8Spec{Format::kFp8E5M2, -1}), FormatError);
  EXPECT_NO_THROW(fp8_float_spec(Fp8Spec{Format::kFp8E5M2, 31}));
  EXPECT_THROW(fp8_default_spec(Format::kFp16), FormatError);
}

}  // namespace
}  // namespace nibble::numerics
