// Figure of the evaluation pipeline: energy accounting adds less
// than 10 % to a simulate run's wall time. ResNet-50, batch 32, on
// hw/designs/int4-train.yaml, timed three ways (best of the iterations):
//  - simulate:  arch::simulate() alone (the forked SystemC run);
//  - evaluate:  flow::evaluate() = the same simulation + energy accounting;
//  - energy:    what evaluate() adds: loading the design's technology table
//               (flow::tech_table_for) and flow::account_energy() on the result.
// The bar is on (simulate + account) / simulate, which does not depend on
// the run-to-run jitter of the forked child; evaluate / simulate is printed
// beside it. The process exits 1 when the bar is missed, so `make bench` shows it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <systemc>

#include "models/zoo/zoo.hpp"
#include "sim/arch/simulate.hpp"
#include "sim/design/design.hpp"
#include "sim/flow/evaluate.hpp"
#include "workloads/expand.hpp"
#include "workloads/policy.hpp"

namespace {

// Keep the SystemC banner out of the figures (runs before main()).
const bool kQuietSystemC = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

const std::string kSource = NIBBLE_SOURCE_DIR;

struct Figures {
  double simulate_s = 0;  ///< best wall time of arch::simulate
  double evaluate_s = 0;  ///< best wall time of flow::evaluate
  double account_s = 0;   ///< best wall time of tech_table_for + account_energy
  std::size_t rows = 0;   ///< layers.csv rows accounted
} g_figures;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void keep_best(double* best, double t) { *best = *best == 0 ? t : std::min(*best, t); }

struct Workload {
  nibble::design::Design design = nibble::design::load_design(kSource + "/hw/designs/int4-train.yaml");
  nibble::workloads::Trace trace;
  Workload() {
    nibble::models::ZooOptions options;
    options.batch = 32;
    trace = nibble::workloads::expand_training_step(nibble::models::build_zoo_model("resnet50", options),
                                                    nibble::workloads::named_policy("int4-fp4"));
  }
};

const Workload& workload() {
  static const Workload w;
  return w;
}

void BM_Simulate(benchmark::State& state) {
  const Workload& w = workload();
  for (auto _ : state) {
    const double t0 = now_seconds();
    const nibble::arch::SimResult r = nibble::arch::simulate(w.design, w.trace);
    const double t = now_seconds() - t0;
    keep_best(&g_figures.simulate_s, t);
    state.SetIterationTime(t);  // the work happens in the forked child: wall time
    benchmark::DoNotOptimize(r.totals.values().data());
  }
}
BENCHMARK(BM_Simulate)->Unit(benchmark::kMillisecond)->Iterations(10)->UseManualTime();

void BM_Evaluate(benchmark::State& state) {
  const Workload& w = workload();
  for (auto _ : state) {
    const double t0 = now_seconds();
    const nibble::flow::Evaluation e = nibble::flow::evaluate(w.design, w.trace, {});
    const double t = now_seconds() - t0;
    keep_best(&g_figures.evaluate_s, t);
    state.SetIterationTime(t);
    benchmark::DoNotOptimize(e.energy.total.pj.data());
  }
}
BENCHMARK(BM_Evaluate)->Unit(benchmark::kMillisecond)->Iterations(10)->UseManualTime();

void BM_AccountEnergy(benchmark::State& state) {
  const Workload& w = workload();
  const nibble::arch::SimResult result = nibble::arch::simulate(w.design, w.trace);
  for (auto _ : state) {
    // The copy is made outside the timed span: account_energy takes the result by value.
    nibble::arch::SimResult copy = result;
    const double t0 = now_seconds();
    nibble::energy::TechTable table = nibble::flow::tech_table_for(w.design, "");
    const nibble::flow::Evaluation e = nibble::flow::account_energy(std::move(copy), std::move(table));
    const double t = now_seconds() - t0;
    keep_best(&g_figures.account_s, t);
    g_figures.rows = e.energy.rows.size();
    state.SetIterationTime(t);
    benchmark::DoNotOptimize(e.energy.total.pj.data());
  }
  state.counters["rows"] = static_cast<double>(g_figures.rows);
}
BENCHMARK(BM_AccountEnergy)->Unit(benchmark::kMillisecond)->Iterations(20)->UseManualTime();

}  // namespace

int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_figures.simulate_s <= 0 || g_figures.account_s <= 0) return 0;  // filtered out
  const double overhead = (g_figures.simulate_s + g_figures.account_s) / g_figures.simulate_s;
  const bool pass = overhead < 1.10;
  std::printf("bench_flow: resnet50 batch 32 on int4-train: simulate %.3f s, simulate + energy (evaluate) %.3f s "
              "(ratio %.3f, best of 10 each; the forked runs jitter); table load + energy accounting %.2f ms for %zu "
              "rows = +%.2f %% of simulate "
              "[bar: < 10 %%: %s]\n",
              g_figures.simulate_s, g_figures.evaluate_s,
              g_figures.evaluate_s > 0 ? g_figures.evaluate_s / g_figures.simulate_s : 0.0, 1e3 * g_figures.account_s,
              g_figures.rows, 100.0 * (overhead - 1.0), pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}
