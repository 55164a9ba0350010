// Speed of ONNX import against the number of nodes: a chain of n Relu nodes, and
// the same chain of unknown ops imported with --skip-unknown (each skipped node
// looks up its value_info shape). Import must be linear in n; it was quadratic
// (a 100,000-node chain took 33 s). Google Benchmark fits the complexity
// ("BigO" row): O(N) with a small RMS is the pass.
#include <benchmark/benchmark.h>

#include <string>

#include "models/onnx/onnx_import.hpp"
#include "tests/support/onnx_builder.hpp"

namespace {

using namespace nibble;
namespace ob = nibble::testing::onnx_builder;

/// x 1x16 -> n x `op` -> y; with `shapes`, a value_info entry for every intermediate tensor.
std::string chain(int n, const std::string& op, bool shapes) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  auto* g = model.mutable_graph();
  *g->add_input() = ob::tensor("x", {1, 16});
  std::string prev = "x";
  for (int i = 0; i < n; ++i) {
    const std::string out = i + 1 == n ? "y" : "t" + std::to_string(i);
    ob::node(g, "n" + std::to_string(i), op, {prev}, {out});
    if (shapes && i + 1 < n) *g->add_value_info() = ob::tensor(out, {1, 16});
    prev = out;
  }
  *g->add_output() = ob::tensor("y", {1, 16});
  return model.SerializeAsString();
}

void run(benchmark::State& state, const std::string& op, bool skip) {
  const int n = static_cast<int>(state.range(0));
  const std::string bytes = chain(n, op, skip);
  models::OnnxOptions options;
  options.skip_unknown = skip;
  for (auto _ : state) {
    const models::OnnxImport imported = models::import_onnx_bytes(bytes, "chain.onnx", "chain", options);
    benchmark::DoNotOptimize(imported.graph.size());
  }
  state.SetComplexityN(n);
  state.counters["nodes"] = n;
}

void BM_ImportReluChain(benchmark::State& state) { run(state, "Relu", false); }
BENCHMARK(BM_ImportReluChain)->RangeMultiplier(10)->Range(1000, 100000)->Unit(benchmark::kMillisecond)->Complexity(benchmark::oN);

void BM_ImportSkippedChain(benchmark::State& state) { run(state, "Elu", true); }
BENCHMARK(BM_ImportSkippedChain)->RangeMultiplier(10)->Range(1000, 100000)->Unit(benchmark::kMillisecond)->Complexity(benchmark::oN);

}  // namespace

BENCHMARK_MAIN();
