// How fast energy accounting runs: a synthetic layers table of 10,000 rows
// (a large network's layers x phases) accounted with the 45 nm table; and the
// HTML energy section for 1,000 layers. Rows per second are the figure: a
// ResNet-50 step has about 160 layers x 4 phases = 640 rows, so accounting it
// takes a negligible share of a simulate run (the bar: < 10 %).
#include <benchmark/benchmark.h>

#include <random>

#include "sim/energy/energy_report.hpp"
#include "tests/energy/counters.hpp"
#include "tests/support/design_builder.hpp"

namespace nibble::energy {
namespace {

design::Design bench_arch() {
  design::Design d = test::test_design("int4-train", design::PeKind::kInt4Fp4, 128, 128);
  d.array.acc_int4 = numerics::Format::kFp16;
  d.array.acc_fp4 = numerics::Format::kFp16;
  d.input = test::scratchpad(256 * 1024, 128, 4);
  d.weight = test::scratchpad(256 * 1024, 128, 4);
  d.output = test::scratchpad(512 * 1024, 128, 4);
  d.vector.lanes = 128;
  return d;
}

std::vector<StatVector> random_rows(const StatRegistry& registry, std::size_t count) {
  std::mt19937_64 rng(7);
  std::vector<StatVector> rows;
  const StatRegistry::Id vec_ops = registry.at("vec_ops");
  for (std::size_t r = 0; r < count; ++r) {
    StatVector v(registry.size());
    std::uint64_t kinds = 0;
    for (std::size_t c = 0; c < registry.size(); ++c) {
      v[c] = rng() % 100000000;
      if (registry.def(c).name.rfind("vec_ops_", 0) == 0) kinds += v[c];
    }
    v[vec_ops] = kinds;
    rows.push_back(v);
  }
  return rows;
}

void BM_AccountRows(benchmark::State& state) {
  const StatRegistry registry = testing::contract_registry();
  const std::vector<StatVector> rows = random_rows(registry, static_cast<std::size_t>(state.range(0)));
  const EnergyModel model(builtin_tech_table("45nm"), bench_arch());
  for (auto _ : state) {
    EnergyReport report = model.account(registry, rows);
    benchmark::DoNotOptimize(report.total);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetLabel("items = rows");
}
BENCHMARK(BM_AccountRows)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_EnergyHtmlSection(benchmark::State& state) {
  const StatRegistry registry = testing::contract_registry();
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::vector<StatVector> rows = random_rows(registry, n);
  std::vector<RowLabel> labels;
  for (std::size_t i = 0; i < n; ++i) labels.push_back({"layer" + std::to_string(i / 4), "forward"});
  const EnergyModel model(builtin_tech_table("45nm"), bench_arch());
  const EnergyReport report = model.account(registry, rows);
  for (auto _ : state) {
    report::HtmlPage page("bench");
    add_energy_section(page, model, report, labels);
    std::string html = page.str();
    benchmark::DoNotOptimize(html);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EnergyHtmlSection)->Arg(4000)->Unit(benchmark::kMillisecond);

void BM_ParseTechTable(benchmark::State& state) {
  for (auto _ : state) {
    TechTable t = builtin_tech_table("7nm");
    benchmark::DoNotOptimize(t.energy);
  }
}
BENCHMARK(BM_ParseTechTable)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nibble::energy

BENCHMARK_MAIN();
