#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "sim/numerics/block_dot.hpp"
#include "sim/numerics/block_format.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp32.hpp"
#include "sim/numerics/fp8.hpp"
#include "sim/numerics/format.hpp"

namespace nibble::numerics {
namespace {

const ElementFormat& element(const char* name) { return *find_element_format(name); }
const BlockFormat& block(const char* name) { return *find_block_format(name); }

/// Code of a finite double through element_round (nearest-even, saturating).
std::uint32_t round_double(const ElementFormat& f, double x, bool saturate = true) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  const FloatValue v = float_decode(bits, kFp64Spec);
  if (v.kind == FloatValue::Kind::kZero) return element_round(f, v.negative, 0, 0, saturate, false, 0);
  return element_round(f, v.negative, v.mag, v.exp, saturate, false, 0);
}

/// Every code whose value is finite reads back as itself (the -0 codes as -0).
void expect_every_code_round_trips(const ElementFormat& f) {
  for (std::uint32_t c = 0; c < (1u << f.bits); ++c) {
    const double v = element_value(f, c);
    if (!std::isfinite(v)) continue;
    if (f.is_int && c == (1u << (f.bits - 1))) continue;  // -2: MX saturates symmetrically (below)
    EXPECT_EQ(round_double(f, v, false), c) << f.name << " code " << c;
  }
}

TEST(BlockFormat, E2M1HasTheSpecValuesAndEveryCodeRoundTrips) {
  const ElementFormat& f = element("e2m1");
  const double expected[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (std::uint32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(element_value(f, c), expected[c]);
    EXPECT_EQ(element_value(f, c | 8u), -expected[c]);
  }
  EXPECT_EQ(element_emax(f), 2);
  EXPECT_EQ(element_max(f), 6.0);
  expect_every_code_round_trips(f);
  // Ties to the even code: 0.25 -> 0, 0.75 -> 1 (0010), 2.5 -> 2 (0100), 3.5 -> 4 (0110), 5 -> 4.
  EXPECT_EQ(round_double(f, 0.25), 0u);
  EXPECT_EQ(round_double(f, 0.75), 2u);
  EXPECT_EQ(round_double(f, 2.5), 4u);
  EXPECT_EQ(round_double(f, 3.5), 6u);
  EXPECT_EQ(round_double(f, 5.0), 6u);
  EXPECT_EQ(round_double(f, 5.0001), 7u);
  EXPECT_EQ(round_double(f, 7.9), 7u);   // saturates at 6
  EXPECT_EQ(round_double(f, -100.0), 15u);
}

TEST(BlockFormat, Fp6ElementsHaveTheSpecRanges) {
  const ElementFormat& e2m3 = element("e2m3");
  EXPECT_EQ(element_emax(e2m3), 2);
  EXPECT_EQ(element_max(e2m3), 7.5);
  EXPECT_EQ(element_value(e2m3, 0x01), 0.125);  // subnormal 2^0 x 1/8
  EXPECT_EQ(element_value(e2m3, 0x1F), 7.5);    // 0 11 111
  EXPECT_EQ(element_value(e2m3, 0x3F), -7.5);
  expect_every_code_round_trips(e2m3);
  const ElementFormat& e3m2 = element("e3m2");
  EXPECT_EQ(element_emax(e3m2), 4);
  EXPECT_EQ(element_max(e3m2), 28.0);
  EXPECT_EQ(element_value(e3m2, 0x01), 0.0625);  // subnormal 2^-2 x 1/4
  EXPECT_EQ(element_value(e3m2, 0x04), 0.25);    // smallest normal 2^(1-3)
  EXPECT_EQ(element_value(e3m2, 0x1F), 28.0);
  expect_every_code_round_trips(e3m2);
  EXPECT_EQ(round_double(e3m2, 30.0), 0x1Fu);    // 30 would round to 32: saturates
}

TEST(BlockFormat, Fp8ElementsAgreeWithTheHfp8CodecOnEveryCode) {
  const ElementFormat& e4m3 = element("e4m3");
  const ElementFormat& e5m2 = element("e5m2");
  EXPECT_EQ(element_emax(e4m3), 8);
  EXPECT_EQ(element_max(e4m3), 448.0);
  EXPECT_EQ(element_emax(e5m2), 15);
  EXPECT_EQ(element_max(e5m2), 57344.0);
  for (std::uint32_t c = 0; c < 256; ++c) {
    const auto b = static_cast<std::uint8_t>(c);
    const double a4 = element_value(e4m3, c);
    const double a5 = element_value(e5m2, c);
    const float r4 = fp8_to_float(b, fp8_default_spec(Format::kFp8E4M3));
    const float r5 = fp8_to_float(b, fp8_default_spec(Format::kFp8E5M2));
    if (std::isnan(r4)) {
      EXPECT_TRUE(std::isnan(a4)) << c;
    } else {
      EXPECT_EQ(a4, static_cast<double>(r4)) << c;
    }
    if (std::isnan(r5)) {
      EXPECT_TRUE(std::isnan(a5)) << c;
    } else {
      EXPECT_EQ(a5, static_cast<double>(r5)) << c;
    }
  }
  EXPECT_TRUE(std::isnan(element_value(e4m3, 0x7F)));  // OCP E4M3: NaN only, no inf
  EXPECT_TRUE(std::isinf(element_value(e5m2, 0x7C)));
  expect_every_code_round_trips(e4m3);
  expect_every_code_round_trips(e5m2);
  // MX saturates normals: e5m2 overflow gives +-57344, not inf; unsaturated it is inf.
  EXPECT_EQ(round_double(e5m2, 1e6), 0x7Bu);
  EXPECT_EQ(round_double(e5m2, 1e6, false), 0x7Cu);
  EXPECT_EQ(round_double(e4m3, -1e6), 0xFEu);
}

TEST(BlockFormat, Int8IsTwosComplementTimesTwoToTheMinusSix) {
  const ElementFormat& f = element("int8");
  for (std::uint32_t c = 0; c < 256; ++c) {
    const int v = c < 128 ? static_cast<int>(c) : static_cast<int>(c) - 256;
    EXPECT_EQ(element_value(f, c), v / 64.0) << c;
  }
  EXPECT_EQ(element_max(f), 127.0 / 64.0);
  expect_every_code_round_trips(f);
  EXPECT_EQ(round_double(f, -2.0), 0x81u);          // symmetric saturation: -127/64, never -128
  EXPECT_EQ(round_double(f, 1.0), 64u);
  EXPECT_EQ(round_double(f, 0.3), 19u);             // 19.2 -> 19
  EXPECT_EQ(round_double(f, 2.5 / 64), 2u);         // tie -> even
  EXPECT_EQ(round_double(f, -3.5 / 64), 0xFCu);     // -3.5 -> -4
}

TEST(BlockFormat, Bf16IsTheTopHalfOfFp32OnEveryCode) {
  const ElementFormat& f = element("bf16");
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const float ref = fp32_value(c << 16);
    const double v = element_value(f, c);
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(v)) << c;
      continue;
    }
    ASSERT_EQ(v, static_cast<double>(ref)) << c;
    if (std::isfinite(ref)) {
      ASSERT_EQ(round_double(f, v, false), c) << c;
    }
  }
  // 1 + 2^-8 ties 1 and 1 + 2^-7 -> 1 (even); 1 + 3 x 2^-8 -> 1 + 2^-6.
  EXPECT_EQ(round_double(f, 1.0 + std::ldexp(1.0, -8)), 0x3F80u);
  EXPECT_EQ(round_double(f, 1.0 + 3 * std::ldexp(1.0, -8)), 0x3F82u);
}

TEST(BlockFormat, ScaleFormatsOnEveryCode) {
  for (std::uint32_t c = 0; c < 255; ++c) EXPECT_EQ(scale_value(ScaleKind::kE8M0, c), std::ldexp(1.0, static_cast<int>(c) - 127));
  EXPECT_TRUE(std::isnan(scale_value(ScaleKind::kE8M0, 0xFF)));
  for (std::uint32_t c = 0; c < 127; ++c) {
    const float ref = fp8_to_float(static_cast<std::uint8_t>(c), fp8_default_spec(Format::kFp8E4M3));
    EXPECT_EQ(scale_value(ScaleKind::kUe4m3, c), static_cast<double>(ref)) << c;
  }
  EXPECT_EQ(scale_value(ScaleKind::kUe4m3, 0x7E), 448.0);
  EXPECT_TRUE(std::isnan(scale_value(ScaleKind::kUe4m3, 0x7F)));
}

TEST(BlockFormat, TableRowsHaveTheSpecBlockSizes) {
  EXPECT_EQ(block("mxfp4").block, 32u);
  EXPECT_EQ(block("mxint8").block, 32u);
  EXPECT_EQ(block("nvfp4").block, 16u);
  EXPECT_TRUE(block("nvfp4").tensor_scale);
  EXPECT_EQ(find_block_format("mxfp5"), nullptr);
  EXPECT_EQ(block_format_names(), "mxfp4, mxfp6-e2m3, mxfp6-e3m2, mxfp8-e4m3, mxfp8-e5m2, mxint8, nvfp4, bf16");
}

std::vector<double> values(const BlockFormat& f, const BlockQuantized& q) {
  std::vector<double> out;
  for (std::size_t i = 0; i < q.rows; ++i) {
    for (std::size_t j = 0; j < q.cols; ++j) out.push_back(block_value(f, q, i, j));
  }
  return out;
}

TEST(BlockFormat, MxFp4BlockMaxInSixToEightSaturatesToSix) {
  const BlockFormat& f = block("mxfp4");
  // amax 7 = 1.75 x 2^2: shared exponent floor(log2 7) - 2 = 0, X = 1; 7 -> 6.
  std::vector<float> x(32, 0.0f);
  x[0] = 7.0f;
  x[1] = -1.25f;  // tie between 1 and 1.5 -> 1 (0010 even)
  x[2] = 0.3f;    // below 0.25 + ... : 0.3 -> 0.5 (nearer than 0)
  const BlockQuantized q = block_quantize(f, x.data(), 1, 32, 32, BlockShape{1, 32}, BlockRounding::kNearestEven, 0);
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 127u);
  EXPECT_EQ(q.codes[0], 7u);
  EXPECT_EQ(q.codes[1], 0xAu);
  EXPECT_EQ(q.codes[2], 1u);
  EXPECT_EQ(block_value(f, q, 0, 0), 6.0);
  EXPECT_EQ(block_value(f, q, 0, 1), -1.0);
  // The same block at 2^-20: every value and the scale move by 20 binades.
  for (float& v : x) v = std::ldexp(v, -20);
  const BlockQuantized r = block_quantize(f, x.data(), 1, 32, 32, BlockShape{1, 32}, BlockRounding::kNearestEven, 0);
  EXPECT_EQ(r.scales[0], 107u);
  EXPECT_EQ(r.codes, q.codes);
}

TEST(BlockFormat, MxSmallMaxZeroBlockNanAndPartialBlocks) {
  const BlockFormat& f = block("mxfp4");
  // amax 0.3: floor(log2 0.3) = -2, shared -4, X = 1/16: 0.3 x 16 = 4.8 -> 4 -> 0.25.
  std::vector<float> x = {0.3f, 0.0f, 0.0f};
  BlockQuantized q = block_quantize(f, x.data(), 1, 3, 3, BlockShape{1, 32}, BlockRounding::kNearestEven, 0);
  EXPECT_EQ(q.scales[0], 123u);
  EXPECT_EQ(block_value(f, q, 0, 0), 0.25);
  // All zero: amax read as 2^-126, shared -128 clamps to -127 (code 0).
  x = {0.0f, -0.0f};
  q = block_quantize(f, x.data(), 1, 2, 2, BlockShape{1, 32}, BlockRounding::kNearestEven, 0);
  EXPECT_EQ(q.scales[0], 0u);
  EXPECT_EQ(q.codes[0], 0u);
  // A NaN or inf makes the block's scale NaN (0xFF), other blocks unaffected.
  x.assign(40, 1.0f);
  x[3] = std::numeric_limits<float>::infinity();
  q = block_quantize(f, x.data(), 1, 40, 40, BlockShape{1, 32}, BlockRounding::kNearestEven, 0);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], kE8m0Nan);
  EXPECT_TRUE(std::isnan(block_value(f, q, 0, 0)));
  EXPECT_EQ(q.scales[1], 125u);  // 8 ones: floor(log2 1) - 2 = -2
  EXPECT_EQ(block_value(f, q, 0, 39), 1.0);
  // MXINT8: amax 1, shared 0: 0.3 -> 19/64.
  const BlockFormat& i8 = block("mxint8");
  x = {1.0f, 0.3f, -1.0f};
  q = block_quantize(i8, x.data(), 1, 3, 3, BlockShape{1, 32}, BlockRounding::kNearestEven, 0);
  EXPECT_EQ(q.scales[0], 127u);
  EXPECT_EQ(values(i8, q), (std::vector<double>{1.0, 19.0 / 64, -1.0}));
  EXPECT_EQ(q.codes[2], 0xC0u);
}

TEST(BlockFormat, TwoDimensionalBlocksShareOneScale) {
  const BlockFormat& f = block("nvfp4");
  std::vector<float> x(32 * 32, 0.5f);
  x[17 * 32 + 3] = 2688.0f;  // in block (1, 0) only
  const BlockQuantized q = block_quantize(f, x.data(), 32, 32, 32, BlockShape{16, 16}, BlockRounding::kNearestEven, 0);
  ASSERT_EQ(q.scales.size(), 4u);
  EXPECT_EQ(q.tensor_scale, 1.0f);   // 2688 / (6 x 448)
  EXPECT_EQ(q.scales[2], 0x7Eu);     // 448
  EXPECT_EQ(block_value(f, q, 17, 3), 2688.0);
  EXPECT_EQ(block_value(f, q, 16, 0), 0.0);  // 0.5 / 448 < 0.25: flushes in the big block
  // Other blocks: 0.5 / 6 = 0.0833 -> UE4M3 0.078125 (1.25 x 2^-4) or 0.08594 (1.375 x 2^-4): 0.08594.
  EXPECT_EQ(scale_value(ScaleKind::kUe4m3, q.scales[0]), 0.0859375);
  // 0.5 / 0.0859375 = 5.818 -> 6 -> 0.515625.
  EXPECT_EQ(block_value(f, q, 0, 0), 0.515625);
}

TEST(BlockFormat, NvFp4HandDerivedBlock) {
  const BlockFormat& f = block("nvfp4");
  // Tensor amax 1: T = FP32(1 / 2688). Block amax 1: S = UE4M3(1 / (6 T)) =
  // UE4M3(448.0000x) = 448. Elements x / (448 T) = x x 6.0000x: 1 -> 6, 0.4 -> 2.4 -> 2.
  std::vector<float> x = {1.0f, 0.4f, -0.1f};
  const BlockQuantized q = block_quantize(f, x.data(), 1, 3, 3, BlockShape{1, 16}, BlockRounding::kNearestEven, 0);
  EXPECT_EQ(q.tensor_scale, fp32_value(fp32_from_double(1.0 / 2688.0)));
  EXPECT_EQ(q.scales[0], 0x7Eu);
  EXPECT_EQ(q.codes[0], 7u);
  EXPECT_EQ(q.codes[1], 4u);
  EXPECT_EQ(q.codes[2], 0x9u);  // -0.6 -> -0.5
  EXPECT_EQ(block_value(f, q, 0, 1), 2.0 * 448.0 * static_cast<double>(q.tensor_scale));
}

TEST(BlockFormat, StochasticRoundingIsDeterministicAndUnbiased) {
  const BlockFormat& f = block("mxfp4");
  // 1.25 sits halfway between 1 and 1.5 in a block whose max is 4 (X = 1).
  const std::size_t n = 32 * 2000;
  std::vector<float> x(n, 1.25f);
  for (std::size_t b = 0; b < n; b += 32) x[b] = 4.0f;
  const BlockQuantized a = block_quantize(f, x.data(), 1, n, n, BlockShape{1, 32}, BlockRounding::kStochastic, 9);
  const BlockQuantized b = block_quantize(f, x.data(), 1, n, n, BlockShape{1, 32}, BlockRounding::kStochastic, 9);
  const BlockQuantized c = block_quantize(f, x.data(), 1, n, n, BlockShape{1, 32}, BlockRounding::kStochastic, 10);
  EXPECT_EQ(a.codes, b.codes);
  EXPECT_NE(a.codes, c.codes);
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 32 == 0) continue;
    const double v = block_value(f, a, 0, i);
    ASSERT_TRUE(v == 1.0 || v == 1.5) << v;
    sum += v;
    ++count;
  }
  EXPECT_NEAR(sum / static_cast<double>(count), 1.25, 0.01);  // 62000 coin flips: sd 0.001
  // The units the emulator uses are the same numbers.
  std::vector<float> units(n);
  EXPECT_EQ(block_quantize_units(f, x.data(), 1, n, n, BlockShape{1, 32}, BlockRounding::kStochastic, 9, units.data()),
            1.0f);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(units[i], block_unit(f, a, 0, i));
}

TEST(BlockFormat, FastUnitsEqualTheCodesTimesScalesForEveryFormat) {
  // block_quantize_units (the emulator's fast path) against block_quantize +
  // block_unit (codes through the one rounding routine) on data spanning
  // 2^-140 .. 2^100, zeros, ties and both roundings, 1-D and 2-D blocks.
  std::mt19937_64 rng(11);
  const std::size_t rows = 48;
  const std::size_t cols = 40;
  std::vector<float> x(rows * cols);
  for (const BlockFormat& f : block_formats()) {
    for (int trial = 0; trial < 6; ++trial) {
      const int spread = trial < 3 ? 4 : 60;
      const int offset = static_cast<int>(rng() % 200) - 120;
      for (float& v : x) {
        const auto r = rng();
        if (r % 17 == 0) {
          v = 0.0f;
        } else if (r % 13 == 0) {
          v = static_cast<float>(static_cast<int>(r % 64) - 32) * 0.25f;  // ties of the coarse grids
        } else {
          const double m = 1.0 + static_cast<double>((r >> 8) % 1024) / 1024.0;
          v = static_cast<float>(std::ldexp((r & 1) ? -m : m, offset + static_cast<int>((r >> 20) % spread)));
        }
      }
      for (BlockRounding rounding : {BlockRounding::kNearestEven, BlockRounding::kStochastic}) {
        for (BlockShape shape : {BlockShape{1, f.block}, BlockShape{f.block, 1}, BlockShape{16, 16}}) {
          const BlockQuantized q = block_quantize(f, x.data(), rows, cols, cols, shape, rounding, 3);
          std::vector<float> units(rows * cols);
          const float t = block_quantize_units(f, x.data(), rows, cols, cols, shape, rounding, 3, units.data());
          ASSERT_EQ(t, q.tensor_scale) << f.name;
          for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < cols; ++j) {
              const float ref = block_unit(f, q, i, j);
              ASSERT_EQ(fp32_bits(units[i * cols + j]), fp32_bits(ref))
                  << f.name << " trial " << trial << " x " << x[i * cols + j] << " at " << i << "," << j;
            }
          }
        }
      }
    }
  }
}

TEST(BlockFormat, EmptyBlockShapeIsAFormatError) {
  const float x = 1.0f;
  EXPECT_THROW(block_quantize(block("mxfp4"), &x, 1, 1, 1, BlockShape{0, 32}, BlockRounding::kNearestEven, 0),
               FormatError);
}

// ---- block dot product --------------------------------------------------------

TEST(BlockDot, E2M1HandCaseSumsExactlyThenScalesOnce) {
  const BlockFormat& f = block("mxfp4");
  // a = 6, 6, 0.5; b = 6, -6, 0.5 : exact sum 36 - 36 + 0.25 = 0.25, then x 2^3 x 2^-1.
  const std::uint32_t a[3] = {7, 7, 1};
  const std::uint32_t b[3] = {7, 15, 1};
  int lsb = 0;
  EXPECT_EQ(block_dot_fixed({&f, a, 130}, {&f, b, 126}, 3, &lsb), 1);
  EXPECT_EQ(lsb, -2);
  EXPECT_EQ(block_dot_sum_bits(*f.element, *f.element, 32), 14);
  const std::uint64_t out = block_dot_accumulate(0, {&f, a, 130}, {&f, b, 126}, 3);
  EXPECT_EQ(fp32_value(static_cast<std::uint32_t>(out)), 0.25f * 4.0f);
  // A sequential FP32 sum would lose the 0.25: 36 x 2^24 - 36 x 2^24 ... exact here regardless of order.
  const std::uint32_t big_a[3] = {7, 1, 7};
  const std::uint32_t big_b[3] = {7, 1, 15};
  const std::uint64_t acc = fp32_bits(std::ldexp(1.0f, 30));
  // 2^30 + 0.25 x 2^26 x... : block value (36 + 0.25 - 36) x 2^(152 - 127 + 127 - 127) = 0.25 x 2^25 = 2^23.
  const std::uint64_t r = block_dot_accumulate(acc, {&f, big_a, 152}, {&f, big_b, 127}, 3);
  EXPECT_EQ(fp32_value(static_cast<std::uint32_t>(r)), std::ldexp(1.0f, 30) + std::ldexp(1.0f, 23));
  const std::uint32_t nan_scale[1] = {1};
  EXPECT_EQ(block_dot_accumulate(0, {&f, nan_scale, kE8m0Nan}, {&f, nan_scale, 127}, 1), 0x7FC00000u);
  EXPECT_THROW(block_dot_fixed({&block("mxfp8-e5m2"), a, 127}, {&block("mxfp8-e5m2"), b, 127}, 32, nullptr),
               FormatError);
}

TEST(BlockDot, RandomBlocksMatchAnExactReference) {
  std::mt19937_64 rng(5);
  for (const char* name : {"mxfp4", "nvfp4", "mxfp6-e2m3", "mxfp6-e3m2", "mxfp8-e4m3", "mxint8"}) {
    const BlockFormat& f = block(name);
    const std::size_t n = f.block;
    const std::uint32_t mask = (1u << f.element->bits) - 1u;
    for (int trial = 0; trial < 300; ++trial) {
      std::uint64_t acc = 0;
      double reference = 0.0;  // exact: every value is a multiple of 2^-40 below 2^40
      for (int blk = 0; blk < 4; ++blk) {
        std::vector<std::uint32_t> a(n);
        std::vector<std::uint32_t> b(n);
        for (std::size_t i = 0; i < n; ++i) {
          do {
            a[i] = static_cast<std::uint32_t>(rng()) & mask;
          } while (std::isnan(element_value(*f.element, a[i])));
          do {
            b[i] = static_cast<std::uint32_t>(rng()) & mask;
          } while (std::isnan(element_value(*f.element, b[i])));
        }
        const std::uint32_t sa = f.scale == ScaleKind::kE8M0 ? 124 + static_cast<std::uint32_t>(rng() % 7)
                                                             : 40 + static_cast<std::uint32_t>(rng() % 40);
        const std::uint32_t sb = f.scale == ScaleKind::kE8M0 ? 124 + static_cast<std::uint32_t>(rng() % 7)
                                                             : 40 + static_cast<std::uint32_t>(rng() % 40);
        double exact = 0.0;
        for (std::size_t i = 0; i < n; ++i) exact += element_value(*f.element, a[i]) * element_value(*f.element, b[i]);
        exact *= scale_value(f.scale, sa) * scale_value(f.scale, sb);
        acc = block_dot_accumulate(acc, {&f, a.data(), sa}, {&f, b.data(), sb}, n);
        // One rounding per block: FP32(acc + exact block value).
        reference = static_cast<double>(fp32_value(fp32_from_double(reference + exact)));
        ASSERT_EQ(fp32_value(static_cast<std::uint32_t>(acc)), static_cast<float>(reference)) << name << " " << trial;
      }
    }
  }
}

TEST(BlockDot, Fp16AccumulatorRoundsEachBlockIntoFp16) {
  const BlockFormat& f = block("mxfp4");
  std::vector<std::uint32_t> a(32, 7);  // 6 each
  std::vector<std::uint32_t> b(32, 2);  // 1 each: block sum 192
  std::uint64_t acc = 0x6BFF;          // FP16 4094 (ulp 2 at [2048, 4096))
  acc = block_dot_accumulate(acc, {&f, a.data(), 127}, {&f, b.data(), 127}, 32, kFp16Spec);
  EXPECT_EQ(acc, 0x6C30u);  // 4286 -> 4288 (ulp 4 above 4096; 4286 ties 4284 and 4288 -> 4288 even)
}

}  // namespace
}  // namespace nibble::numerics

namespace nibble::numerics {
namespace {

// The trace formats that are rows of the block-format table carry the row's
// name and store its element bits plus their share of the block scale.
TEST(BlockFormat, TraceFormatsAreRowsOfTheTable) {
  for (const Format f : {Format::kMxfp4, Format::kNvfp4, Format::kMxfp8E4M3, Format::kMxfp8E5M2, Format::kBf16}) {
    const BlockFormat* row = find_block_format(format_name(f));
    ASSERT_NE(row, nullptr) << format_name(f);
    EXPECT_TRUE(is_block_format(f));
    EXPECT_EQ(format_bits(f), row->element->bits);
    EXPECT_EQ(parse_format(row->name), f);
  }
  EXPECT_FALSE(is_block_format(Format::kFp8E4M3));
  // Quarter bits: 4 x element bits + 4 x 8 scale bits / block.
  EXPECT_EQ(format_quarter_bits(Format::kMxfp4), 17);      // 4 + 8/32 = 4.25 bits
  EXPECT_EQ(format_quarter_bits(Format::kNvfp4), 18);      // 4 + 8/16 = 4.5 bits
  EXPECT_EQ(format_quarter_bits(Format::kMxfp8E4M3), 33);  // 8 + 8/32
  EXPECT_EQ(format_quarter_bits(Format::kBf16), 64);       // no scale
  EXPECT_EQ(format_quarter_bits(Format::kInt4), 16);
  EXPECT_EQ(format_tensor_bits(Format::kNvfp4), 32);
  EXPECT_EQ(format_tensor_bits(Format::kMxfp4), 0);
}

}  // namespace
}  // namespace nibble::numerics
