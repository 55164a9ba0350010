// Quantization throughput, single-threaded, on 1M floats (the bar:
// >= 200 M elements/s for INT4 and for FP4). Google Benchmark prints the
// figure as items_per_second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/int4.hpp"
#include "sim/numerics/pe.hpp"
#include "sim/numerics/tpr.hpp"

namespace {

using namespace nibble::numerics;

constexpr std::size_t kElements = 1 << 20;

const std::vector<float>& gaussian_input() {
  static const std::vector<float> x = [] {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(kElements);
    for (auto& e : v) e = normal(rng);
    return v;
  }();
  return x;
}

/// Runs `convert(in, n, out)` over the 1M-float input each iteration, into
/// x.size() elements of Out.
template <class Out, class Convert>
void over_input(benchmark::State& state, Convert convert) {
  const auto& x = gaussian_input();
  std::vector<Out> out(x.size());
  for (auto _ : state) {
    convert(x.data(), x.size(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));
}

Int4Quantizer int4_quantizer(IntRounding rounding) {
  Int4Params p;
  p.scale = 0.35f;
  p.rounding = rounding;
  return Int4Quantizer(p);
}

Fp4Quantizer fp4_quantizer(Fp4Rounding rounding) {
  Fp4Params p;
  p.scale = 8.0f;
  p.rounding = rounding;
  return Fp4Quantizer(p);
}

void int4_codes(benchmark::State& state, IntRounding rounding) {
  const Int4Quantizer q = int4_quantizer(rounding);
  over_input<std::int8_t>(state, [&q](const float* x, std::size_t n, std::int8_t* codes) { q.quantize(x, n, codes); });
}

void BM_Int4QuantizeNearestEven(benchmark::State& state) { int4_codes(state, IntRounding::kNearestEven); }
BENCHMARK(BM_Int4QuantizeNearestEven)->Unit(benchmark::kMicrosecond);

void BM_Int4FakeQuantize(benchmark::State& state) {
  const Int4Quantizer q = int4_quantizer(IntRounding::kNearestEven);
  over_input<float>(state, [&q](const float* x, std::size_t n, float* out) { q.quantize_dequantize(x, n, out); });
}
BENCHMARK(BM_Int4FakeQuantize)->Unit(benchmark::kMicrosecond);

void BM_Int4QuantizeStochastic(benchmark::State& state) { int4_codes(state, IntRounding::kStochastic); }
BENCHMARK(BM_Int4QuantizeStochastic)->Unit(benchmark::kMicrosecond);

void fp4_codes(benchmark::State& state, Fp4Rounding rounding) {
  const Fp4Quantizer q = fp4_quantizer(rounding);
  over_input<std::uint8_t>(state,
                           [&q](const float* x, std::size_t n, std::uint8_t* codes) { q.quantize(x, n, codes); });
}

void BM_Fp4QuantizeNearestLog2(benchmark::State& state) { fp4_codes(state, Fp4Rounding::kNearestLog2); }
BENCHMARK(BM_Fp4QuantizeNearestLog2)->Unit(benchmark::kMicrosecond);

void BM_Fp4QuantizeNearestValue(benchmark::State& state) { fp4_codes(state, Fp4Rounding::kNearestValue); }
BENCHMARK(BM_Fp4QuantizeNearestValue)->Unit(benchmark::kMicrosecond);

void BM_Fp4QuantizeStochastic(benchmark::State& state) { fp4_codes(state, Fp4Rounding::kStochastic); }
BENCHMARK(BM_Fp4QuantizeStochastic)->Unit(benchmark::kMicrosecond);

void BM_Fp4FakeQuantize(benchmark::State& state) {
  const Fp4Quantizer q = fp4_quantizer(Fp4Rounding::kNearestLog2);
  over_input<float>(state, [&q](const float* x, std::size_t n, float* out) { q.quantize_dequantize(x, n, out); });
}
BENCHMARK(BM_Fp4FakeQuantize)->Unit(benchmark::kMicrosecond);

void BM_TprBothPhases(benchmark::State& state) {
  const auto& x = gaussian_input();
  Fp4Params p;
  p.scale = 8.0f;
  const TprQuantizer tpr(p);
  std::vector<std::uint8_t> even(x.size());
  std::vector<std::uint8_t> odd(x.size());
  for (auto _ : state) {
    tpr.quantize(x.data(), x.size(), even.data(), odd.data());
    benchmark::DoNotOptimize(even.data());
    benchmark::DoNotOptimize(odd.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));
}
BENCHMARK(BM_TprBothPhases)->Unit(benchmark::kMicrosecond);

void BM_Fp16FromFloat(benchmark::State& state) {
  over_input<std::uint16_t>(state, [](const float* x, std::size_t n, std::uint16_t* out) { fp16_from_floats(x, n, out); });
}
BENCHMARK(BM_Fp16FromFloat)->Unit(benchmark::kMicrosecond);

// One MAC through the PE function, as the functional array model calls it.
void pe_chain(benchmark::State& state, PeMode mode, nibble::numerics::Format acc) {
  PeArith arith;
  arith.acc = acc;
  const std::uint32_t a = mode == PeMode::kFp16xFp16 ? 0x3C01u : 0x5u;
  const std::uint32_t b = mode == PeMode::kFp16xFp16 ? 0x2E66u : 0xBu;
  for (auto _ : state) {
    std::uint32_t sum = 0;
    for (int k = 0; k < 1024; ++k) sum = pe_mac(arith, mode, sum, a, b);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1024));
}

void BM_PeMacInt4Int32(benchmark::State& state) { pe_chain(state, PeMode::kInt4xInt4, Format::kInt32); }
BENCHMARK(BM_PeMacInt4Int32);
void BM_PeMacInt4xFp4Fp16(benchmark::State& state) { pe_chain(state, PeMode::kInt4xFp4, Format::kFp16); }
BENCHMARK(BM_PeMacInt4xFp4Fp16);
void BM_PeMacFp16Fp16(benchmark::State& state) { pe_chain(state, PeMode::kFp16xFp16, Format::kFp16); }
BENCHMARK(BM_PeMacFp16Fp16);

}  // namespace

BENCHMARK_MAIN();
