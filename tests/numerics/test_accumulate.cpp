#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "sim/numerics/accumulate.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::numerics {
namespace {

constexpr std::uint16_t kOne = 0x3C00;
constexpr std::uint16_t k2048 = 0x6800;

/// 2048 followed by 1024 ones: the exact sum is 3072.
std::vector<std::uint16_t> big_then_ones() {
  std::vector<std::uint16_t> v(1025, kOne);
  v[0] = k2048;
  return v;
}

TEST(Accumulate, Fp16LosesSmallAddendsAndChunkingKeepsThem) {
  const auto v = big_then_ones();
  // FP16: at 2048 the ulp is 2, so 2048 + 1 = 2049 ties 2048/2050 and goes to the even 2048.
  // Every one of the 1024 ones is lost.
  EXPECT_EQ(fp16_to_float(sum_fp16(v.data(), v.size())), 2048.0f);
  // Chunks of 64: chunk 0 = 2048 + 63 ones, which FP16 rounds back to 2048 (63 lost); the
  // remaining 1024 - 63 = 961 ones form 15 chunks of 64 (exact: 64 < 2048) and one chunk of 1.
  // FP32 adds the chunk sums exactly: 2048 + 15 x 64 + 1 = 3009.
  EXPECT_EQ(fp32_value(sum_fp16_chunked(v.data(), v.size(), 64)), 3009.0f);
  // Chunks of 1: every value goes straight into FP32, exact: 3072.
  EXPECT_EQ(fp32_value(sum_fp16_chunked(v.data(), v.size(), 1)), 3072.0f);
  // One chunk holding everything is plain FP16 accumulation.
  EXPECT_EQ(fp32_value(sum_fp16_chunked(v.data(), v.size(), 5000)), 2048.0f);
}

TEST(Accumulate, StreamingAccumulatorMatchesTheArrayVersion) {
  const auto v = big_then_ones();
  ChunkedFp16Accumulator by_value(64);
  ChunkedFp16Accumulator by_mac(64);
  PeArith arith;  // acc is forced to fp16 inside mac()
  for (std::uint16_t h : v) {
    by_value.add_fp16(h);
    by_mac.mac(arith, PeMode::kFp16xFp16, h, kOne);  // h x 1
  }
  EXPECT_EQ(by_value.total(), 3009.0f);
  EXPECT_EQ(by_mac.total_fp32(), by_value.total_fp32());
  EXPECT_EQ(by_value.terms(), 1025u);
  // 1025 = 16 x 64 + 1: the partial chunk holds the last 1 and is included in total().
  EXPECT_EQ(by_value.partial_fp16(), kOne);

  // INT4 products through the FP16 PE path: 40 products of 7 x 7 = 49 in chunks of 8.
  // Each chunk sums 8 x 49 = 392 exactly in FP16 (below 2048, all integers exact);
  // FP32 total 5 x 392 = 1960.
  ChunkedFp16Accumulator ints(8);
  for (int i = 0; i < 40; ++i) ints.mac(arith, PeMode::kInt4xInt4, 0x7, 0x7);
  EXPECT_EQ(ints.total(), 1960.0f);
}

TEST(Accumulate, ChunkSizeZeroIsAnError) {
  const std::uint16_t v[1] = {kOne};
  try {
    sum_fp16_chunked(v, 1, 0);
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.parameter(), "chunk size");
  }
  EXPECT_THROW(ChunkedFp16Accumulator(0), FormatError);
}

}  // namespace
}  // namespace nibble::numerics
