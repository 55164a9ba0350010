// Figures of the SystemC model:
//  - a full ResNet-50 training step (batch 32, 224 x 224, forward, input- and
//    weight-gradient GEMMs, vector ops, update) on hw/designs/int4-train.yaml:
//    bars <= 2 s wall, <= 1 GiB peak RSS, >= 1e7 simulated cycles per second;
//  - a BERT-base training step (batch 32, sequence 512) on the same design:
//    bar <= 5 s wall;
//  - `nibble scalesim` (run_scalesim) on SCALE-Sim inputs: bar >= 1000x
//    SCALE-Sim's ~5,000 simulated cycles per second (docs/references.md).
// The process exits 1 when a bar is missed, so `make bench` shows it.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <systemc>
#include <vector>

#include "models/zoo/zoo.hpp"
#include "sim/arch/scalesim_run.hpp"
#include "sim/arch/simulate.hpp"
#include "sim/design/design.hpp"
#include "sim/design/scalesim_config.hpp"
#include "workloads/expand.hpp"
#include "workloads/policy.hpp"
#include "workloads/scalesim.hpp"

namespace {

// Keep the SystemC banner out of the figures (runs before main()).
const bool kQuietSystemC = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

const std::string kSource = NIBBLE_SOURCE_DIR;

/// One training step simulated on int4-train.
struct StepFigures {
  double seconds = 0;          ///< best wall time of one simulate()
  std::uint64_t cycles = 0;    ///< simulated cycles of the step
  std::uint64_t ops = 0;       ///< trace ops
};

struct Figures {
  StepFigures resnet;                 ///< ResNet-50, batch 32
  StepFigures bert;                   ///< BERT-base, batch 32, sequence 512
  double scalesim_seconds = 0;        ///< best wall time of run_scalesim
  std::uint64_t scalesim_cycles = 0;  ///< simulated cycles of the topology
} g_figures;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Peak resident set of this process and of the simulation children, in MiB.
double peak_rss_mib() {
  rusage self{};
  rusage children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  return static_cast<double>(std::max(self.ru_maxrss, children.ru_maxrss)) / 1024.0;
}

void simulate_step(benchmark::State& state, const std::string& model, const nibble::models::ZooOptions& options,
                   StepFigures& figures) {
  const nibble::design::Design design = nibble::design::load_design(kSource + "/hw/designs/int4-train.yaml");
  const nibble::models::Graph graph = nibble::models::build_zoo_model(model, options);
  const nibble::workloads::Trace trace =
      nibble::workloads::expand_training_step(graph, nibble::workloads::named_policy("int4-fp4"));
  nibble::arch::SimOptions sim;
  for (auto _ : state) {
    const double t0 = now_seconds();
    const nibble::arch::SimResult r = nibble::arch::simulate(design, trace, sim);
    const double t = now_seconds() - t0;
    figures.cycles = r.total("cycles");
    figures.ops = r.ops;
    figures.seconds = figures.seconds == 0 ? t : std::min(figures.seconds, t);
    // The work happens in the forked child: wall time, not this process's CPU time.
    state.SetIterationTime(t);
    benchmark::DoNotOptimize(figures.cycles);
  }
  state.counters["simulated_cycles"] = static_cast<double>(figures.cycles);
  state.counters["cycles_per_s"] = static_cast<double>(figures.cycles) / figures.seconds;
  state.counters["ops"] = static_cast<double>(figures.ops);
}

void BM_ResNet50TrainingStep(benchmark::State& state) {
  nibble::models::ZooOptions options;
  options.batch = 32;
  simulate_step(state, "resnet50", options, g_figures.resnet);
}
BENCHMARK(BM_ResNet50TrainingStep)->Unit(benchmark::kMillisecond)->Iterations(3)->UseManualTime();

void BM_BertBaseTrainingStep(benchmark::State& state) {
  nibble::models::ZooOptions options;
  options.batch = 32;
  options.seq = 512;
  simulate_step(state, "bert-base", options, g_figures.bert);
}
BENCHMARK(BM_BertBaseTrainingStep)->Unit(benchmark::kMillisecond)->Iterations(3)->UseManualTime();

void BM_ScaleSim(benchmark::State& state) {
  // The published layer plus ResNet-50's forward convolutions at batch 1 in
  // SCALE-Sim's conv form, on SCALE-Sim's example 32 x 32 OS configuration.
  const nibble::design::ScaleSimConfig config =
      nibble::design::load_scalesim_config(kSource + "/hw/designs/scalesim/scale.cfg");
  std::vector<nibble::arch::ScaleSimLayerGemm> layers;
  const auto published = nibble::workloads::read_scalesim_topology(kSource + "/hw/designs/scalesim/published.csv");
  nibble::models::ZooOptions options;
  options.batch = 1;
  const auto trace = nibble::workloads::expand_training_step(nibble::models::build_zoo_model("resnet50", options),
                                                             nibble::workloads::named_policy("fp32"));
  const auto resnet = nibble::workloads::scalesim_from_trace(trace, nibble::workloads::ScaleSimFormat::kConv);
  for (const auto* topo : {&published, &resnet}) {
    for (const auto& row : topo->layers) {
      const auto shape = nibble::workloads::scalesim_gemm(row, topo->format);
      layers.push_back(nibble::arch::ScaleSimLayerGemm{row.name, shape.groups, shape.m, shape.n, shape.k});
    }
  }
  for (auto _ : state) {
    const double t0 = now_seconds();
    const nibble::arch::ScaleSimRun run = nibble::arch::run_scalesim(config, layers);
    const double t = now_seconds() - t0;
    g_figures.scalesim_cycles = run.total_cycles;
    g_figures.scalesim_seconds = g_figures.scalesim_seconds == 0 ? t : std::min(g_figures.scalesim_seconds, t);
    state.SetIterationTime(t);
  }
  state.counters["simulated_cycles"] = static_cast<double>(g_figures.scalesim_cycles);
  state.counters["cycles_per_s"] = static_cast<double>(g_figures.scalesim_cycles) / g_figures.scalesim_seconds;
  state.counters["layers"] = static_cast<double>(layers.size());
}
BENCHMARK(BM_ScaleSim)->Unit(benchmark::kMillisecond)->Iterations(3)->UseManualTime();

}  // namespace

int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  bool ok = true;
  if (g_figures.resnet.seconds > 0) {
    const StepFigures& f = g_figures.resnet;
    const double rate = static_cast<double>(f.cycles) / f.seconds;
    const double rss = peak_rss_mib();
    const bool pass = f.seconds <= 2.0 && rss <= 1024.0 && rate >= 1e7;
    ok = ok && pass;
    std::printf("bench_arch: resnet50 training step, batch 32, int4-train: %llu ops, %llu simulated cycles in %.3f s "
                "= %.3g cycles/s; peak RSS %.0f MiB [bars: <= 2 s, <= 1024 MiB, >= 1e7 cycles/s: %s]\n",
                static_cast<unsigned long long>(f.ops), static_cast<unsigned long long>(f.cycles), f.seconds, rate, rss,
                pass ? "PASS" : "FAIL");
  }
  if (g_figures.bert.seconds > 0) {
    const StepFigures& f = g_figures.bert;
    const bool pass = f.seconds <= 5.0;
    ok = ok && pass;
    std::printf("bench_arch: bert-base training step, batch 32, sequence 512, int4-train: %llu ops, %llu simulated "
                "cycles in %.3f s; peak RSS so far %.0f MiB [bar: <= 5 s: %s]\n",
                static_cast<unsigned long long>(f.ops), static_cast<unsigned long long>(f.cycles), f.seconds,
                peak_rss_mib(), pass ? "PASS" : "FAIL");
  }
  if (g_figures.scalesim_seconds > 0) {
    const double rate = static_cast<double>(g_figures.scalesim_cycles) / g_figures.scalesim_seconds;
    const double speedup = rate / 5000.0;  // SCALE-Sim: ~5,000 cycles/s (docs/references.md)
    const bool pass = speedup >= 1000.0;
    ok = ok && pass;
    std::printf("bench_arch: nibble scalesim, %llu simulated cycles in %.3f s = %.3g cycles/s = %.0fx SCALE-Sim's "
                "5,000 cycles/s [bar: >= 1000x: %s]\n",
                static_cast<unsigned long long>(g_figures.scalesim_cycles), g_figures.scalesim_seconds, rate, speedup,
                pass ? "PASS" : "FAIL");
  }
  return ok ? 0 : 1;
}
