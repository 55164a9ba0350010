// Bad format parameters: a FormatError whose message names the parameter and
// says what was expected; never a crash or a silently wrong number.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "sim/numerics/accumulate.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/fp8.hpp"
#include "sim/numerics/int4.hpp"
#include "sim/numerics/pe.hpp"
#include "sim/numerics/sawb.hpp"
#include "tests/support/float_specials.hpp"

namespace nibble::numerics {
namespace {

using test::kNan;

/// Runs `f`, expects a FormatError and returns its message.
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what, e.parameter() + ": " + e.reason());
    return what;
  }
  ADD_FAILURE() << "no FormatError";
  return "";
}

TEST(FormatErrors, MessagesNameTheParameterAndTheReason) {
  Fp4Params fp4;
  fp4.bias = 16;
  EXPECT_EQ(message_of([&] { Fp4Quantizer q(fp4); }),
            "fp4 bias: must be a whole number in [0, 15] (a 4-bit field), got 16");
  fp4.bias = -1;
  EXPECT_EQ(message_of([&] { check_fp4_bias(fp4.bias); }),
            "fp4 bias: must be a whole number in [0, 15] (a 4-bit field), got -1");
  EXPECT_EQ(message_of([] { sum_fp16_chunked(nullptr, 0, 0); }),
            "chunk size: must be at least 1 (products per FP16 chunk), got 0");
  Int4Params int4;
  int4.scale = kNan;
  EXPECT_EQ(message_of([&] { Int4Quantizer q(int4); }), "int4 scale: must be a positive finite number, got nan");
  int4.scale = -0.5f;
  EXPECT_EQ(message_of([&] { Int4Quantizer q(int4); }), "int4 scale: must be a positive finite number, got -0.5");
  int4.scale = 0.0f;
  EXPECT_EQ(message_of([&] { Int4Quantizer q(int4); }), "int4 scale: must be a positive finite number, got 0");
  Fp4Params fp4_scale;
  fp4_scale.scale = kNan;
  EXPECT_EQ(message_of([&] { Fp4Quantizer q(fp4_scale); }), "fp4 scale: must be a positive finite number, got nan");
  fp4_scale.scale = std::numeric_limits<float>::infinity();
  EXPECT_EQ(message_of([&] { Fp4Quantizer q(fp4_scale); }), "fp4 scale: must be a positive finite number, got inf");
  fp4_scale.scale = 1e36f;
  fp4_scale.bias = 0;  // top code 4^7 x 1e36 > FLT_MAX
  EXPECT_NE(message_of([&] { Fp4Quantizer q(fp4_scale); }).find("exceeds the float range"), std::string::npos);
  EXPECT_EQ(message_of([] { sawb_coefficients(6); }),
            "sawb bits: no SAWB coefficients for 6 bits; known widths: 2, 3, 4, 5, 8");
  EXPECT_EQ(message_of([] { fp8_float_spec(Fp8Spec{Format::kFp8E4M3, 16}); }),
            "fp8-e4m3 bias: must be a whole number in [0, 15], got 16");
  PeArith pe;
  pe.acc = Format::kInt32;
  EXPECT_EQ(message_of([&] { pe_mac(pe, PeMode::kFp16xFp16, 0, 0, 0); }),
            "pe accumulator: no PE accumulates fp16xfp16 products in int32");
  EXPECT_EQ(message_of([&] { pe_mac(pe, PeMode::kInt4xInt4, 0, 0x1F, 0); }),
            "pe operand a: int4xint4 takes a 4-bit code in the low bits, got 0x1f");
  pe.acc = Format::kFp16Chunked;
  EXPECT_NE(message_of([&] { pe_mac(pe, PeMode::kInt4xInt4, 0, 0, 0); }).find("ChunkedFp16Accumulator"),
            std::string::npos);
}

TEST(FormatErrors, IsAnInvalidArgument) {
  const FormatError e("x", "y");
  const std::invalid_argument& base = e;
  EXPECT_STREQ(base.what(), "x: y");
  EXPECT_EQ(describe_number(0.1), "0.1");
  EXPECT_EQ(describe_number(-std::numeric_limits<double>::infinity()), "-inf");
}

}  // namespace
}  // namespace nibble::numerics
