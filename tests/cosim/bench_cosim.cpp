// The co-simulation's figures: zero mismatches over >= 100,000
// random tile ops in each mode on the 8x8 tile, and the speed in tile cycles
// per second on one core. One run_cosim() per process (SystemC elaborates
// once), so the benchmark is a single iteration of the whole run.
//
// Exit code 1 if any op mismatched. The speed bar (200,000 cycles/s) is
// printed as met or not, not enforced: on a shared machine the wall-clock
// rate depends on the load, so both the wall and the CPU rate are shown.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include <systemc>  // declares sc_main extern "C": libsystemc owns main()

#include "sim/cosim/cosim.hpp"

namespace {

// Keep the SystemC banner out of the figures (runs before main()).
const bool kQuietSystemC = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

constexpr std::uint64_t kOpsPerMode = 100000;
constexpr double kSpeedBar = 200000.0;

nibble::cosim::CosimReport g_report;  ///< the one run's outcome
double g_cpu_seconds = 0;             ///< its CPU time

void BM_Cosim8x8AllModes(benchmark::State& state) {
  for (auto _ : state) {
    nibble::cosim::CosimOptions options;
    options.rows = 8;
    options.cols = 8;
    options.ops_per_mode = kOpsPerMode;
    options.seed = 2020;
    const std::clock_t start = std::clock();
    g_report = nibble::cosim::run_cosim(options);
    g_cpu_seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  }
  const auto& r = g_report;
  state.counters["ops"] = static_cast<double>(r.ops);
  state.counters["mismatches"] = static_cast<double>(r.mismatches);
  state.counters["tile_cycles"] = static_cast<double>(r.cycles);
  state.counters["cycles_per_s_wall"] = static_cast<double>(r.cycles_per_second());
  state.counters["cycles_per_s_cpu"] = g_cpu_seconds > 0 ? static_cast<double>(r.cycles) / g_cpu_seconds : 0;
  if (r.mismatch) state.SkipWithError(nibble::cosim::describe(*r.mismatch).c_str());
}
BENCHMARK(BM_Cosim8x8AllModes)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const auto& r = g_report;
  const double wall = static_cast<double>(r.cycles_per_second());
  const double cpu = g_cpu_seconds > 0 ? static_cast<double>(r.cycles) / g_cpu_seconds : 0;
  std::printf("bench_cosim: 8x8 tile, %llu ops matched (fwd %llu, bwd-odd %llu, bwd-even %llu), mismatches %llu\n",
              static_cast<unsigned long long>(r.ops), static_cast<unsigned long long>(r.ops_by_mode.at(0)),
              static_cast<unsigned long long>(r.ops_by_mode.at(1)),
              static_cast<unsigned long long>(r.ops_by_mode.at(2)),
              static_cast<unsigned long long>(r.mismatches));
  std::printf("bench_cosim: %llu tile cycles, %.0f cycles/s wall, %.0f cycles/s CPU (one core)\n",
              static_cast<unsigned long long>(r.cycles), wall, cpu);
  bool ops_met = r.mismatches == 0;
  for (std::size_t m = 0; m < r.ops_by_mode.size(); ++m) ops_met &= r.ops_by_mode[m] >= kOpsPerMode;
  std::printf("bench_cosim: bar >= %llu ops per mode with 0 mismatches: %s; bar >= %.0f cycles/s: %s (CPU), %s (wall)\n",
              static_cast<unsigned long long>(kOpsPerMode), ops_met ? "met" : "NOT MET", kSpeedBar,
              cpu >= kSpeedBar ? "met" : "not met", wall >= kSpeedBar ? "met" : "not met");
  return r.mismatches == 0 && r.ops > 0 ? 0 : 1;
}
