// The RaPiD bars (docs/validation.md, "RaPiD"): hw/designs/rapid-like.yaml's summary.json
// `peak` against the published chip (JSSC 2022: 104.9 TOPS at 16.9 TOPS/W INT4, 26.2 TFLOPS
// at 3.58 TFLOPS/W HFP8). The counters are the figures: each peak, and its ratio to the
// silicon's (bars: throughput within 10 %, TOPS/W within 25 %). The time measured is that
// of building the energy model and the peak block, which every simulate run does once.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/design/design.hpp"
#include "sim/energy/energy_model.hpp"
#include "sim/energy/energy_report.hpp"

namespace nibble::energy {
namespace {

void BM_RapidLikePeak(benchmark::State& state) {
  const design::Design d = design::load_design(std::string(NIBBLE_SOURCE_DIR) + "/hw/designs/rapid-like.yaml");
  nlohmann::ordered_json peak;
  for (auto _ : state) {
    const EnergyModel model(builtin_tech_table(d.tech), d);
    peak = peak_json(model);
    benchmark::DoNotOptimize(peak);
  }
  const auto figure = [&](const char* format, const char* key) { return peak[format][key].get<double>(); };
  state.counters["int4_tops"] = figure("int4", "tops");
  state.counters["int4_tops_ratio"] = figure("int4", "tops") / 104.9;
  state.counters["int4_tops_per_watt"] = figure("int4", "tops_per_watt");
  state.counters["int4_tops_per_watt_ratio"] = figure("int4", "tops_per_watt") / 16.9;
  state.counters["hfp8_tflops"] = figure("hfp8", "tops");
  state.counters["hfp8_tflops_ratio"] = figure("hfp8", "tops") / 26.2;
  state.counters["hfp8_tflops_per_watt"] = figure("hfp8", "tops_per_watt");
  state.counters["hfp8_tflops_per_watt_ratio"] = figure("hfp8", "tops_per_watt") / 3.58;
}
BENCHMARK(BM_RapidLikePeak);

}  // namespace
}  // namespace nibble::energy

BENCHMARK_MAIN();
