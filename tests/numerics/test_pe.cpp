#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "sim/numerics/error.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp32.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/int4.hpp"
#include "sim/numerics/pe.hpp"

namespace nibble::numerics {
namespace {

PeArith arith(Format acc, int fp4_bias = 7) {
  PeArith a;
  a.acc = acc;
  a.fp4_bias = fp4_bias;
  return a;
}

std::int32_t as_int(std::uint32_t bits) {
  std::int32_t v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::uint32_t int_bits(std::int32_t v) {
  std::uint32_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

const PeMode kAllModes[] = {PeMode::kInt4xInt4, PeMode::kFp4xInt4, PeMode::kInt4xFp4,
                            PeMode::kFp8xFp8,   PeMode::kFp16xFp16, PeMode::kFp32xFp32};

TEST(Pe, SupportedPairsAndTheRestThrow) {
  for (PeMode mode : kAllModes) {
    for (Format acc : all_formats()) {
      const bool integer_mode = mode == PeMode::kInt4xInt4 || mode == PeMode::kFp4xInt4 || mode == PeMode::kInt4xFp4;
      bool expected = false;
      if (integer_mode) expected = acc == Format::kInt32 || acc == Format::kFp16 || acc == Format::kFp32;
      if (mode == PeMode::kFp8xFp8 || mode == PeMode::kFp16xFp16) expected = acc == Format::kFp16 || acc == Format::kFp32;
      if (mode == PeMode::kFp32xFp32) expected = acc == Format::kFp32;
      EXPECT_EQ(pe_accumulator_supported(mode, acc), expected) << pe_mode_name(mode) << " " << format_name(acc);
      if (!expected) {
        try {
          pe_mac(arith(acc), mode, 0, 0, 0);
          ADD_FAILURE() << "no error for " << pe_mode_name(mode) << " with " << format_name(acc);
        } catch (const FormatError& e) {
          EXPECT_EQ(e.parameter(), "pe accumulator");
        }
      }
    }
  }
}

TEST(Pe, AllInt4ProductsAreExactInEveryAccumulator) {
  for (int a = -8; a <= 7; ++a) {
    for (int b = -8; b <= 7; ++b) {
      const std::uint32_t ab = int4_bits(a);
      const std::uint32_t bb = int4_bits(b);
      ASSERT_EQ(as_int(pe_mac(arith(Format::kInt32), PeMode::kInt4xInt4, 0, ab, bb)), a * b);
      ASSERT_EQ(fp16_to_double(static_cast<std::uint16_t>(pe_mac(arith(Format::kFp16), PeMode::kInt4xInt4, 0, ab, bb))),
                a * b);
      ASSERT_EQ(fp32_value(pe_mac(arith(Format::kFp32), PeMode::kInt4xInt4, 0, ab, bb)), static_cast<float>(a * b));
      // Accumulating onto a nonzero value: 1000 + a*b is exact in every accumulator (|a*b| <= 64, FP16 ulp at 1024 is 1).
      ASSERT_EQ(as_int(pe_mac(arith(Format::kInt32), PeMode::kInt4xInt4, int_bits(-1000), ab, bb)), -1000 + a * b);
    }
  }
}

TEST(Pe, Int32AccumulatorSaturates) {
  const std::int32_t max = std::numeric_limits<std::int32_t>::max();
  const std::int32_t min = std::numeric_limits<std::int32_t>::min();
  const PeArith i32 = arith(Format::kInt32);
  EXPECT_EQ(as_int(pe_mac(i32, PeMode::kInt4xInt4, int_bits(max - 10), int4_bits(7), int4_bits(7))), max);
  EXPECT_EQ(as_int(pe_mac(i32, PeMode::kInt4xInt4, int_bits(min + 5), int4_bits(-8), int4_bits(7))), min);
  EXPECT_EQ(as_int(pe_mac(i32, PeMode::kInt4xInt4, int_bits(max - 49), int4_bits(7), int4_bits(7))), max);  // exact fit
  // FP4 mode: P = 7 << 12 = 28672 overflows max - 100.
  EXPECT_EQ(as_int(pe_mac(i32, PeMode::kInt4xFp4, int_bits(max - 100), int4_bits(7), 0b0111)), max);
  EXPECT_EQ(as_int(pe_mac(i32, PeMode::kFp4xInt4, int_bits(min + 100), 0b1111, int4_bits(7))), min);
}

TEST(Pe, UnsignedActivationsReadAsUint4) {
  // Post-ReLU activations are UINT4 codes 0..15: code 0b1111 is 15, not -1.
  PeArith u = arith(Format::kInt32);
  u.a_unsigned = true;
  EXPECT_EQ(as_int(pe_mac(u, PeMode::kInt4xInt4, 0, 0b1111, int4_bits(-8))), -120);
  EXPECT_EQ(as_int(pe_mac(u, PeMode::kInt4xInt4, 0, 0b1000, int4_bits(7))), 56);
  EXPECT_EQ(as_int(pe_mac(arith(Format::kInt32), PeMode::kInt4xInt4, 0, 0b1111, int4_bits(-8))), 8);
  // 15 x 4^(7-1) = 61440 = 15 << 12 in the fixed-point word; -(15 << 12) for a negative code.
  EXPECT_EQ(as_int(pe_mac(u, PeMode::kInt4xFp4, 0, 0b1111, 0b0111)), 61440);
  EXPECT_EQ(as_int(pe_mac(u, PeMode::kInt4xFp4, 0, 0b1111, 0b1111)), -61440);
  // In the input-gradient mode A is the FP4 gradient: the flag does not apply to B.
  EXPECT_EQ(as_int(pe_mac(u, PeMode::kFp4xInt4, 0, 0b0001, 0b1111)), -1);
  // FP16 at bias 7: 15 x 4^0 = 15 exactly.
  u.acc = Format::kFp16;
  EXPECT_EQ(pe_mac(u, PeMode::kInt4xFp4, 0, 0b1111, 0b0111), 0x4B80u);
}

TEST(Pe, Fp4ModesShiftTheInt4OperandInEveryAccumulator) {
  for (int a = -8; a <= 7; ++a) {
    for (std::uint32_t code = 0; code < 16; ++code) {
      const double exact7 = a * fp4_value(code, 7);    // a x 4^(e-7)
      const double exact15 = a * fp4_value(code, 15);  // a x 4^(e-15), down to 2^-28
      // int32: the fixed-point word P, LSB 4^(1 - bias), the same for either operand order.
      const std::int32_t p = fp4_shift_product(a, code);
      ASSERT_EQ(as_int(pe_mac(arith(Format::kInt32), PeMode::kInt4xFp4, 0, int4_bits(a), code)), p);
      ASSERT_EQ(as_int(pe_mac(arith(Format::kInt32), PeMode::kFp4xInt4, 0, code, int4_bits(a))), p);
      // fp16 at bias 7: |product| in [2^-12, 8], exact in FP16.
      ASSERT_EQ(fp16_to_double(static_cast<std::uint16_t>(
                    pe_mac(arith(Format::kFp16, 7), PeMode::kInt4xFp4, 0, int4_bits(a), code))),
                exact7);
      ASSERT_EQ(fp16_to_double(static_cast<std::uint16_t>(
                    pe_mac(arith(Format::kFp16, 7), PeMode::kFp4xInt4, 0, code, int4_bits(a)))),
                exact7);
      // fp32 at bias 15: |product| in [2^-28, 2^-14 x 8], exact (normal) in FP32.
      ASSERT_EQ(static_cast<double>(fp32_value(pe_mac(arith(Format::kFp32, 15), PeMode::kInt4xFp4, 0, int4_bits(a), code))),
                exact15);
    }
  }
}

TEST(Pe, Fp16AccumulatorRoundsAfterEveryAdd) {
  const PeArith f16 = arith(Format::kFp16);
  // 2048 (0x6800) + 1 x 1 = 2049: tie between 2048 and 2050 -> 2048, the addend is lost.
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, 0x6800, int4_bits(1), int4_bits(1)), 0x6800u);
  // 2048 + 3 x 1 = 2051: tie between 2050 and 2052 -> 2052 (0x6802).
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, 0x6800, int4_bits(3), int4_bits(1)), 0x6802u);
  // 65504 + (-8)(-8) = 65568 >= 65520 -> +inf.
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, kFp16Max, int4_bits(-8), int4_bits(-8)), 0x7C00u);
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, 0x7C00, int4_bits(-8), int4_bits(7)), 0x7C00u);  // inf + finite
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, 0x7D00, int4_bits(1), int4_bits(1)), 0x7E00u);  // NaN acc -> canonical
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, 0x8000, int4_bits(-1), int4_bits(0)), 0x0000u);  // -0 + 0 = +0
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, 0xC000, int4_bits(2), int4_bits(1)), 0x0000u);   // -2 + 2 = +0
  EXPECT_EQ(pe_mac(f16, PeMode::kInt4xInt4, 0x8001, int4_bits(0), int4_bits(5)), 0x8001u);   // subnormal kept
  // Subnormal products at bias 12: 1 x 4^(1-12) = 2^-22 = 4 x 2^-24 -> 0x0004; 3 x 2^-22 -> 0x000C.
  EXPECT_EQ(pe_mac(arith(Format::kFp16, 12), PeMode::kInt4xFp4, 0, int4_bits(1), 0b0001), 0x0004u);
  EXPECT_EQ(pe_mac(arith(Format::kFp16, 12), PeMode::kFp4xInt4, 0, 0b0001, int4_bits(3)), 0x000Cu);
  // Bias 15: 1 x 4^-14 = 2^-28 is below a quarter of 2^-24: rounds to zero, keeping its sign.
  EXPECT_EQ(pe_mac(arith(Format::kFp16, 15), PeMode::kInt4xFp4, 0, int4_bits(1), 0b0001), 0x0000u);
  EXPECT_EQ(pe_mac(arith(Format::kFp16, 15), PeMode::kInt4xFp4, 0, int4_bits(-1), 0b0001), 0x8000u);
  // The shifted product itself is exact; at bias 0 it can exceed FP16: 7 x 4^7 = 114688 -> inf.
  EXPECT_EQ(pe_mac(arith(Format::kFp16, 0), PeMode::kInt4xFp4, 0, int4_bits(7), 0b0111), 0x7C00u);
}

TEST(Pe, Fp32AccumulatorForInt4Modes) {
  const PeArith f32 = arith(Format::kFp32);
  // 2^24 + 1 ties 2^24 and 2^24 + 2 -> 2^24; 2^24 + 2 + 1 ties 2^24 + 2 and + 4 -> 2^24 + 4.
  EXPECT_EQ(pe_mac(f32, PeMode::kInt4xInt4, fp32_bits(16777216.0f), int4_bits(1), int4_bits(1)),
            fp32_bits(16777216.0f));
  EXPECT_EQ(pe_mac(f32, PeMode::kInt4xInt4, fp32_bits(16777218.0f), int4_bits(-1), int4_bits(-1)),
            fp32_bits(16777220.0f));
  EXPECT_EQ(pe_mac(f32, PeMode::kInt4xInt4, kFp32CanonicalNan | 1u, int4_bits(1), int4_bits(1)), kFp32CanonicalNan);
  EXPECT_EQ(pe_mac(f32, PeMode::kInt4xFp4, fp32_bits(-0.0f), int4_bits(0), 0b0111), 0u);  // -0 + 0 = +0
}

TEST(Pe, Fp16ModeIsFused) {
  // See Fp16.FusedMultiplyAddRoundsOnce: -1 + (1 + 3 x 2^-10)^2 -> 0x1E02 (not 0x1E00).
  EXPECT_EQ(pe_mac(arith(Format::kFp16), PeMode::kFp16xFp16, 0xBC00, 0x3C03, 0x3C03), 0x1E02u);
  // Into FP32: 1 + (1 + 2^-10)^2 = 2 + 2^-9 + 2^-20 exactly (FP32 ulp at 2 is 2^-22):
  // 0x40000000 + (2^-9 + 2^-20) / 2^-22 = 0x40000000 + 0x2004.
  EXPECT_EQ(pe_mac(arith(Format::kFp32), PeMode::kFp16xFp16, fp32_bits(1.0f), 0x3C01, 0x3C01), 0x40002004u);
  EXPECT_EQ(pe_mac(arith(Format::kFp16), PeMode::kFp16xFp16, 0, 0x7C00, 0x0000), 0x7E00u);     // inf x 0
  EXPECT_EQ(pe_mac(arith(Format::kFp32), PeMode::kFp16xFp16, 0, 0x7C00, 0x8000), kFp32CanonicalNan);
  EXPECT_EQ(pe_mac(arith(Format::kFp16), PeMode::kFp16xFp16, 0, 0x0C00, 0x0C00), 0x0001u);     // 2^-24
  EXPECT_EQ(pe_mac(arith(Format::kFp16), PeMode::kFp16xFp16, 0, 0x7BFF, 0x4000), 0x7C00u);     // 2 x 65504 -> inf
  EXPECT_EQ(pe_mac(arith(Format::kFp32), PeMode::kFp16xFp16, 0, 0x7BFF, 0x4000),
            fp32_bits(131008.0f));                                                           // fits in FP32
  EXPECT_EQ(pe_mac(arith(Format::kFp16), PeMode::kFp16xFp16, 0x3C00, 0x7E00, 0x3C00), 0x7E00u);  // NaN operand
}

TEST(Pe, Fp8ModeMixesLayouts) {
  PeArith f16 = arith(Format::kFp16);
  PeArith f32 = arith(Format::kFp32);
  // e4m3 448 (0x7E) x e4m3 448 = 200704: FP16 overflows to inf, FP32 holds it
  // (200704 = 1.53125 x 2^17 -> exponent 144, fraction 0.53125 x 2^23 = 0x440000).
  EXPECT_EQ(pe_mac(f16, PeMode::kFp8xFp8, 0, 0x7E, 0x7E), 0x7C00u);
  EXPECT_EQ(pe_mac(f32, PeMode::kFp8xFp8, 0, 0x7E, 0x7E), 0x48440000u);
  // e4m3 1.5 (0x3C) x e5m2 -2 (0xC0) = -3, into FP16 0xC200.
  f16.fp8_a = Format::kFp8E4M3;
  f16.fp8_b = Format::kFp8E5M2;
  EXPECT_EQ(pe_mac(f16, PeMode::kFp8xFp8, 0, 0x3C, 0xC0), 0xC200u);
  EXPECT_EQ(pe_mac(f16, PeMode::kFp8xFp8, 0, 0x7F, 0x3C), 0x7E00u);  // e4m3 NaN operand
  EXPECT_EQ(pe_mac(f16, PeMode::kFp8xFp8, 0, 0x00, 0x7C), 0x7E00u);  // 0 x e5m2 inf
  EXPECT_EQ(pe_mac(f16, PeMode::kFp8xFp8, 0, 0x38, 0xFC), 0xFC00u);  // 1 x -inf
  // Subnormal e4m3 2^-9 x e5m2 subnormal 2^-16 = 2^-25: ties 0 and 2^-24 in FP16 -> +0.
  EXPECT_EQ(pe_mac(f16, PeMode::kFp8xFp8, 0, 0x01, 0x01), 0x0000u);
}

TEST(Pe, Fp32ModeMatchesFp32Fma) {
  const PeArith f32 = arith(Format::kFp32);
  const std::uint32_t acc = fp32_bits(-1.0f);
  const std::uint32_t a = fp32_bits(1.0f + std::ldexp(1.0f, -12));
  // -1 + (1 + 2^-12)^2 = 2^-11 + 2^-24 exactly: fused, representable.
  EXPECT_EQ(pe_mac(f32, PeMode::kFp32xFp32, acc, a, a), fp32_bits(std::ldexp(1.0f, -11) + std::ldexp(1.0f, -24)));
  EXPECT_EQ(pe_mac(f32, PeMode::kFp32xFp32, acc, a, a), fp32_fma(acc, a, a));
  // Subnormal result: 2^-70 x 2^-70 = 2^-140 (FP32 subnormals reach 2^-149).
  const std::uint32_t tiny = fp32_bits(std::ldexp(1.0f, -70));
  EXPECT_EQ(pe_mac(f32, PeMode::kFp32xFp32, 0, tiny, tiny), fp32_bits(std::ldexp(1.0f, -140)));
  EXPECT_EQ(pe_mac(f32, PeMode::kFp32xFp32, fp32_bits(3e38f), fp32_bits(2.0f), fp32_bits(1e38f)), kFp32Inf);
}

TEST(Pe, EverySupportedPairHandlesSpecials) {
  // For each pair: a zero product (operand codes 0: INT4 0, FP4 zero, FP 0) and a one-valued
  // product (INT4 1 x INT4 1; INT4 1 x FP4 code 0b0111 at bias 7 = 1 x 4^0; FP 1.0 x 1.0).
  for (PeMode mode : kAllModes) {
    for (Format acc : all_formats()) {
      if (!pe_accumulator_supported(mode, acc)) continue;
      SCOPED_TRACE(std::string(pe_mode_name(mode)) + " into " + std::string(format_name(acc)));
      const PeArith ar = arith(acc);
      std::uint32_t one_a = 0x1, one_b = 0x1;
      if (mode == PeMode::kFp4xInt4) one_a = 0b0111;
      if (mode == PeMode::kInt4xFp4) one_b = 0b0111;
      if (mode == PeMode::kFp8xFp8) one_a = one_b = 0x38;  // e4m3 1.0
      if (mode == PeMode::kFp16xFp16) one_a = one_b = 0x3C00;
      if (mode == PeMode::kFp32xFp32) one_a = one_b = 0x3F800000;
      if (acc == Format::kInt32) {
        const std::int32_t max = std::numeric_limits<std::int32_t>::max();
        const std::int32_t min = std::numeric_limits<std::int32_t>::min();
        // One more than max saturates; the LSB of the FP4 product is 4^(1-7), so 4^0 is P = 4^6.
        const std::int32_t p = (mode == PeMode::kInt4xInt4) ? 1 : 4096;
        EXPECT_EQ(as_int(pe_mac(ar, mode, int_bits(max), one_a, one_b)), max);
        EXPECT_EQ(as_int(pe_mac(ar, mode, int_bits(max - p), one_a, one_b)), max);
        EXPECT_EQ(as_int(pe_mac(ar, mode, int_bits(min), 0, 0)), min);
        EXPECT_EQ(as_int(pe_mac(ar, mode, int_bits(-p), one_a, one_b)), 0);
        continue;
      }
      const bool f16 = acc == Format::kFp16;
      const std::uint32_t nan = f16 ? kFp16CanonicalNan : kFp32CanonicalNan;
      const std::uint32_t inf = f16 ? 0x7C00u : kFp32Inf;
      const std::uint32_t minus_inf = f16 ? 0xFC00u : 0xFF800000u;
      const std::uint32_t max = f16 ? 0x7BFFu : 0x7F7FFFFFu;
      const std::uint32_t subnormal = f16 ? 0x8001u : 0x80000001u;  // -smallest subnormal
      const std::uint32_t minus_one = f16 ? 0xBC00u : 0xBF800000u;
      const std::uint32_t other_nan = f16 ? 0xFD55u : 0xFFA00001u;  // a signalling, negative NaN
      EXPECT_EQ(pe_mac(ar, mode, other_nan, one_a, one_b), nan);           // NaN acc -> canonical
      EXPECT_EQ(pe_mac(ar, mode, inf, one_a, one_b), inf);                 // inf + 1
      EXPECT_EQ(pe_mac(ar, mode, minus_inf, 0, 0), minus_inf);             // -inf + 0
      EXPECT_EQ(pe_mac(ar, mode, subnormal, 0, 0), subnormal);             // subnormal + 0 kept
      EXPECT_EQ(pe_mac(ar, mode, minus_one, one_a, one_b), 0u);            // -1 + 1 = +0
      EXPECT_EQ(pe_mac(ar, mode, f16 ? 0x8000u : 0x80000000u, 0, 0), 0u);  // -0 + 0 = +0
      EXPECT_EQ(pe_mac(ar, mode, max, one_a, one_b), max);                 // max + 1 rounds back to max
    }
  }
}

TEST(Pe, OperandsWiderThanTheirFormatThrow) {
  EXPECT_THROW(pe_mac(arith(Format::kInt32), PeMode::kInt4xInt4, 0, 0x10, 0x1), FormatError);
  EXPECT_THROW(pe_mac(arith(Format::kInt32), PeMode::kInt4xFp4, 0, 0x1, 0x1F), FormatError);
  EXPECT_THROW(pe_mac(arith(Format::kFp16), PeMode::kInt4xInt4, 0x10000, 0x1, 0x1), FormatError);
  EXPECT_THROW(pe_mac(arith(Format::kFp16), PeMode::kFp8xFp8, 0, 0x100, 0x1), FormatError);
  EXPECT_THROW(pe_mac(arith(Format::kFp32), PeMode::kFp16xFp16, 0, 0x10000, 0x1), FormatError);
  EXPECT_THROW(pe_mac(arith(Format::kInt32, 16), PeMode::kFp4xInt4, 0, 0x1, 0x1), FormatError);  // bias
  PeArith bad_fp8 = arith(Format::kFp16);
  bad_fp8.fp8_a = Format::kInt4;
  EXPECT_THROW(pe_mac(bad_fp8, PeMode::kFp8xFp8, 0, 0x1, 0x1), FormatError);
}

}  // namespace
}  // namespace nibble::numerics
